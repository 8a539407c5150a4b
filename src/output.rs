//! The only writer to stdout: renders command results as a table, JSON or TSV, and writes
//! diagnostics to stderr. stdout carries data and nothing else.

use std::io::{IsTerminal as _, Write};
use std::path::PathBuf;

use comfy_table::presets::{NOTHING, UTF8_FULL_CONDENSED};
use comfy_table::{Attribute, Cell, ContentArrangement, Table};
use serde::Serialize;

use crate::cli::{GlobalArgs, OutputFormat};
use crate::config::{Env, Profile};
use crate::env_vars;
use crate::error::{Error, Result};

/// What a command returns for the output layer to render.
#[derive(Debug)]
pub enum Output {
    /// Nothing on stdout.
    Nothing,
    /// A resolved profile (`azobo config show`).
    Profile(Box<Profile>),
    /// A path (`azobo config path`).
    Path(PathBuf),
}

/// Writes data to stdout and diagnostics to stderr, honouring `-o`, `-q`, `-v` and `NO_COLOR`.
#[derive(Debug, Clone)]
pub struct Printer {
    format: OutputFormat,
    quiet: bool,
    stdout_tty: bool,
    color: bool,
}

impl Printer {
    /// A printer for these flags and environment.
    pub fn new(global: &GlobalArgs, env: &Env) -> Self {
        let stdout_tty = std::io::stdout().is_terminal();
        Self {
            format: global.format(),
            quiet: global.quiet,
            stdout_tty,
            color: stdout_tty && env.get(env_vars::NO_COLOR).is_none(),
        }
    }

    /// A printer with explicit settings, for tests.
    pub fn with(format: OutputFormat, stdout_tty: bool, color: bool) -> Self {
        Self {
            format,
            quiet: false,
            stdout_tty,
            color,
        }
    }

    /// Renders `out` on stdout.
    pub fn render(&self, out: &Output) -> Result<()> {
        let text = match out {
            Output::Nothing => return Ok(()),
            Output::Profile(p) => self.profile(p)?,
            Output::Path(p) => match self.format {
                OutputFormat::Json => self.json(&p.display().to_string())?,
                _ => format!("{}\n", p.display()),
            },
        };
        write_stdout(&text)
    }

    /// Writes one compact JSON object on one line and flushes: a handshake for programs.
    pub fn json_line<T: Serialize>(&self, value: &T) -> Result<()> {
        let line = serde_json::to_string(value)
            .map_err(|e| Error::failure(format!("encoding JSON: {e}")))?;
        write_stdout(&format!("{line}\n"))
    }

    /// A progress or status message on stderr, unless `--quiet`.
    pub fn info(&self, message: &str) {
        if !self.quiet {
            eprintln!("{message}");
        }
    }

    /// A warning on stderr, unless `--quiet`.
    pub fn warn(&self, message: &str) {
        if !self.quiet {
            eprintln!("warning: {message}");
        }
    }

    /// An error and its hint on stderr, always.
    pub fn error(&self, err: &Error) {
        let mut line = format!("error: {err}");
        if let Some(hint) = err.hint() {
            line = format!("{line}\n  hint: {hint}");
        }
        eprintln!("{line}");
    }

    fn json<T: Serialize + ?Sized>(&self, value: &T) -> Result<String> {
        let s = if self.stdout_tty {
            serde_json::to_string_pretty(value)
        } else {
            serde_json::to_string(value)
        };
        s.map(|s| s + "\n")
            .map_err(|e| Error::failure(format!("encoding JSON: {e}")))
    }

    fn table(&self, header: &[&str]) -> Table {
        let mut t = Table::new();
        if self.stdout_tty {
            t.load_preset(UTF8_FULL_CONDENSED)
                .set_content_arrangement(ContentArrangement::Dynamic);
        } else {
            t.load_preset(NOTHING).force_no_tty();
        }
        t.set_header(header.iter().map(|h| {
            let c = Cell::new(h);
            if self.color {
                c.add_attribute(Attribute::Bold)
            } else {
                c
            }
        }));
        t
    }

    fn profile(&self, p: &Profile) -> Result<String> {
        let rows: Vec<(&str, String)> = vec![
            ("profile", p.name.clone()),
            ("config_file", p.config_file.display().to_string()),
            ("cloud", p.cloud.to_string()),
            ("authority", p.authority.to_string()),
            ("arm_url", p.arm_url.to_string()),
            ("tenant", p.tenant.clone()),
            ("client_id", p.client_id.clone().unwrap_or_default()),
            ("api_scope", p.api_scope.clone().unwrap_or_default()),
            ("api_url", p.api_url.to_string()),
        ];
        let source = |k: &str| {
            p.sources
                .get(k)
                .map(ToString::to_string)
                .unwrap_or_default()
        };
        Ok(match self.format {
            OutputFormat::Json => self.json(p)?,
            OutputFormat::Tsv => rows
                .iter()
                .map(|(k, v)| format!("{k}\t{v}\t{}\n", source(k)))
                .collect(),
            OutputFormat::Table => {
                let mut t = self.table(&["Key", "Value", "Source"]);
                for (k, v) in &rows {
                    t.add_row(vec![(*k).to_owned(), v.clone(), source(k)]);
                }
                format!("{t}\n")
            }
        })
    }
}

/// Writes to stdout; a closed pipe (`azobo … | head`) is not an error.
fn write_stdout(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::io("writing to stdout", e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Overrides, resolve};

    fn profile() -> Profile {
        resolve(
            "default",
            std::path::Path::new("/c.toml"),
            Some("[profiles.default]\ntenant = \"contoso.com\"\n"),
            &Env::default(),
            &Overrides::default(),
        )
        .unwrap()
    }

    #[test]
    fn tsv_profile_has_no_header_and_names_sources() {
        let s = Printer::with(OutputFormat::Tsv, false, false)
            .profile(&profile())
            .unwrap();
        assert!(s.starts_with("profile\tdefault\t\n"), "{s}");
        assert!(s.contains("tenant\tcontoso.com\tfile\n"), "{s}");
        assert!(s.contains("cloud\tAzureCloud\tdefault\n"), "{s}");
    }

    #[test]
    fn table_without_tty_has_no_ansi_codes() {
        let s = Printer::with(OutputFormat::Table, false, false)
            .profile(&profile())
            .unwrap();
        assert!(!s.contains('\u{1b}'), "{s:?}");
        assert!(s.contains("contoso.com"));
    }

    #[test]
    fn json_is_compact_off_a_terminal() {
        let s = Printer::with(OutputFormat::Json, false, false)
            .profile(&profile())
            .unwrap();
        assert_eq!(s.lines().count(), 1);
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["tenant"], "contoso.com");
        assert_eq!(v["sources"]["tenant"], "file");
    }
}
