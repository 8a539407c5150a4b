//! `--query`: a JMESPath expression, as in `az`. The expression comes from the user, so it is
//! bounded before the parser sees it: the parser recurses once per nesting level and a deep
//! enough expression would overflow the stack.

use crate::error::{Error, Result};

/// Longest expression accepted.
const MAX_LEN: usize = 4096;
/// Deepest nesting of brackets, braces and parentheses accepted.
const MAX_DEPTH: usize = 32;

/// The deepest nesting of `[`, `{` and `(` outside quoted literals.
fn depth(q: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in q.chars() {
        if let Some(open) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == open {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' | '`' => quote = Some(c),
            '[' | '{' | '(' => {
                depth = depth.saturating_add(1);
                deepest = deepest.max(depth);
            }
            ']' | '}' | ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// Compiles `--query`, refusing what is too long or too deep (exit 2).
pub fn compile(q: &str) -> Result<jmespath::Expression<'static>> {
    if q.len() > MAX_LEN {
        return Err(Error::usage(format!(
            "`--query` is {} characters long; at most {MAX_LEN}",
            q.len()
        )));
    }
    if depth(q) > MAX_DEPTH {
        return Err(Error::usage(format!(
            "`--query` nests deeper than {MAX_DEPTH} levels"
        )));
    }
    jmespath::compile(q).map_err(|e| {
        Error::usage(format!(
            "`--query`: {}",
            e.to_string()
                .lines()
                .next()
                .unwrap_or("not a JMESPath expression")
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_or_long_expressions_are_refused_before_parsing() {
        assert!(compile("[].{name: displayName, id: subscriptionId}").is_ok());
        let deep = format!("{}a{}", "[".repeat(15_000), "]".repeat(15_000));
        let e = compile(&deep).unwrap_err().to_string();
        assert!(e.contains("characters long"), "{e}");
        let deep = format!("{}a{}", "(".repeat(40), ")".repeat(40));
        assert!(compile(&deep).unwrap_err().to_string().contains("deeper"));
        assert_eq!(
            depth("[?name == '[[[[']"),
            1,
            "brackets in literals do not count"
        );
        assert_eq!(depth(r#"[?a == `"\`[["`]"#), 1);
        assert!(compile("[?").is_err());
    }
}
