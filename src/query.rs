//! `--query`: a JMESPath expression, as in `az`. The expression comes from the user, so it is
//! bounded before the parser sees it: the parser recurses once per nesting level and a deep
//! enough expression would overflow the stack.

use std::collections::HashMap;

use jmespath::ast::Ast;
use serde_json::Value;

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

/// `q` applied to `input`, with the keys of every object in an order a person expects, as `az`
/// keeps them: a multi-select hash's keys in the order the expression names them (the
/// evaluator sorts them), any other object's in the order the input first has them.
pub fn apply(q: &str, input: &Value) -> Result<Value> {
    let expr = compile(q)?;
    let found = expr
        .search(input)
        .map_err(|e| Error::usage(format!("`--query`: {e}")))?;
    let found =
        serde_json::to_value(&*found).map_err(|e| Error::failure(format!("`--query`: {e}")))?;
    let mut hashes = Vec::new();
    hash_orders(expr.as_ast(), &mut hashes);
    let mut ranks = HashMap::new();
    key_ranks(input, &mut ranks);
    Ok(reorder(found, &hashes, &ranks))
}

/// The key lists of every multi-select hash (`{name: displayName, id: subscriptionId}`).
fn hash_orders(ast: &Ast, out: &mut Vec<Vec<String>>) {
    match ast {
        Ast::MultiHash { elements, .. } => {
            out.push(elements.iter().map(|kv| kv.key.clone()).collect());
            for kv in elements {
                hash_orders(&kv.value, out);
            }
        }
        Ast::Comparison { lhs, rhs, .. }
        | Ast::Projection { lhs, rhs, .. }
        | Ast::And { lhs, rhs, .. }
        | Ast::Or { lhs, rhs, .. }
        | Ast::Subexpr { lhs, rhs, .. } => {
            hash_orders(lhs, out);
            hash_orders(rhs, out);
        }
        Ast::Condition {
            predicate, then, ..
        } => {
            hash_orders(predicate, out);
            hash_orders(then, out);
        }
        Ast::Expref { ast, .. } => hash_orders(ast, out),
        Ast::Flatten { node, .. } | Ast::Not { node, .. } | Ast::ObjectValues { node, .. } => {
            hash_orders(node, out);
        }
        Ast::Function { args, .. } | Ast::MultiList { elements: args, .. } => {
            for a in args {
                hash_orders(a, out);
            }
        }
        Ast::Identity { .. }
        | Ast::Field { .. }
        | Ast::Index { .. }
        | Ast::Literal { .. }
        | Ast::Slice { .. } => {}
    }
}

/// Each key's position the first time the input has it, walking it in document order.
fn key_ranks(v: &Value, ranks: &mut HashMap<String, usize>) {
    match v {
        Value::Object(o) => {
            for (k, val) in o {
                let next = ranks.len();
                ranks.entry(k.clone()).or_insert(next);
                key_ranks(val, ranks);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| key_ranks(x, ranks)),
        _ => {}
    }
}

fn reorder(v: Value, hashes: &[Vec<String>], ranks: &HashMap<String, usize>) -> Value {
    match v {
        Value::Object(o) => {
            let hash = hashes
                .iter()
                .find(|h| h.len() == o.len() && h.iter().all(|k| o.contains_key(k)));
            let mut entries: Vec<(String, Value)> = o
                .into_iter()
                .map(|(k, x)| (k, reorder(x, hashes, ranks)))
                .collect();
            // Stable: keys the input never had (made by a function) stay alphabetical, last.
            match hash {
                Some(h) => entries.sort_by_key(|(k, _)| h.iter().position(|x| x == k)),
                None => entries.sort_by_key(|(k, _)| ranks.get(k).copied().unwrap_or(usize::MAX)),
            }
            Value::Object(entries.into_iter().collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(|x| reorder(x, hashes, ranks)).collect()),
        other => other,
    }
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

    #[test]
    fn projections_keep_the_order_the_expression_names() {
        let input = serde_json::json!([
            {"subscriptionId": "1", "displayName": "b", "state": "Enabled"},
            {"subscriptionId": "2", "displayName": "a", "state": "Disabled"}
        ]);
        let out = apply("[].{name: displayName, id: subscriptionId}", &input).unwrap();
        assert_eq!(
            serde_json::to_string(&out).unwrap(),
            r#"[{"name":"b","id":"1"},{"name":"a","id":"2"}]"#
        );
        let out = apply("[?state=='Enabled']", &input).unwrap();
        assert_eq!(
            serde_json::to_string(&out).unwrap(),
            r#"[{"subscriptionId":"1","displayName":"b","state":"Enabled"}]"#,
            "objects passed through keep the input's order"
        );
        let out = apply("{z: length(@), a: [0].displayName}", &input).unwrap();
        assert_eq!(serde_json::to_string(&out).unwrap(), r#"{"z":2,"a":"b"}"#);
    }
}
