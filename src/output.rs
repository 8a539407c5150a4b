//! The only writer to stdout: renders command results as a table, JSON or TSV, and writes
//! diagnostics to stderr. stdout carries data and nothing else.

use std::io::{IsTerminal as _, Write};
use std::path::PathBuf;

use comfy_table::presets::{NOTHING, UTF8_FULL_CONDENSED};
use comfy_table::{Attribute, Cell, ContentArrangement, Table};
use serde::Serialize;
use serde_json::Value;

use crate::cli::{GlobalArgs, OutputFormat};
use crate::commands::{login, logout, setup, status, subscriptions, token, version};
use crate::config::{Env, Profile};
use crate::env_vars;
use crate::error::{Error, Result};

/// What a command returns for the output layer to render.
#[derive(Debug)]
pub enum Output {
    /// Nothing on stdout.
    Nothing,
    /// Text printed as it is (completion scripts, the man page).
    Text(String),
    /// A resolved profile (`azobo config show`).
    Profile(Box<Profile>),
    /// A path (`azobo config path`).
    Path(PathBuf),
    /// `azobo login`'s result.
    Login(Box<login::Outcome>),
    /// `azobo logout`'s result.
    Logout(Vec<logout::Removed>),
    /// `azobo status`.
    Status(Box<status::Status>),
    /// `azobo token`.
    Token(Box<token::TokenView>),
    /// `azobo subscriptions`.
    Subscriptions(Box<subscriptions::Listing>),
    /// `azobo setup`.
    Setup(Box<setup::Report>),
    /// `azobo version`.
    Version(version::VersionInfo),
    /// Files a command wrote (`azobo man --dir`).
    Files(Vec<PathBuf>),
}

/// `text` with what could drive a terminal taken out: control characters other than newline
/// and tab (escape sequences, bells, carriage returns) and bidirectional overrides. Messages
/// carry text from the network (an identity platform's device-code message, an API's error).
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if text.contains(bad) {
        std::borrow::Cow::Owned(
            text.chars()
                .map(|c| if bad(c) { '\u{fffd}' } else { c })
                .collect(),
        )
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// `printable` on one line: newlines and tabs become spaces too, so text from the network cannot
/// pose as another line of azobo's (a fake `hint:`).
pub fn one_line(text: &str) -> String {
    printable(text)
        .chars()
        .map(|c| if matches!(c, '\n' | '\t') { ' ' } else { c })
        .collect()
}

/// Colour as gh decides it: `CLICOLOR_FORCE` (not `0`) forces it on, even off a terminal;
/// otherwise `NO_COLOR`, `CLICOLOR=0` or `TERM=dumb` turn it off, and a terminal turns it on.
fn color_enabled(stdout_tty: bool, env: &Env) -> bool {
    let set = |k: &str| env.get(k).filter(|v| !v.is_empty());
    if set(env_vars::CLICOLOR_FORCE).is_some_and(|v| v != "0") {
        return true;
    }
    let off = set(env_vars::NO_COLOR).is_some()
        || set(env_vars::CLICOLOR) == Some("0")
        || set(env_vars::TERM) == Some("dumb");
    stdout_tty && !off
}

/// Writes data to stdout and diagnostics to stderr, honouring `-o`, `-q`, `-v` and `NO_COLOR`.
#[derive(Debug, Clone)]
pub struct Printer {
    format: OutputFormat,
    quiet: bool,
    stdout_tty: bool,
    stderr_tty: bool,
    color: bool,
    /// `COLUMNS`, when it is a usable width.
    columns: Option<u16>,
    /// `--query`, checked by `azobo::run` before the command runs.
    query: Option<String>,
}

/// The least a name column is squeezed to before the Tenant ID column is left out.
const MIN_NAME_WIDTH: usize = 12;

/// The width a terminal that reports none is taken to have.
const DEFAULT_TABLE_WIDTH: u16 = 80;

/// Narrower than this, a table is not wrapped at all (a terminal reporting 0 columns would get
/// one character per column otherwise).
const MIN_TABLE_WIDTH: u16 = 20;

impl Printer {
    /// A printer for these flags and environment.
    pub fn new(global: &GlobalArgs, env: &Env) -> Self {
        let stdout_tty = std::io::stdout().is_terminal();
        Self {
            format: global.format(),
            quiet: global.quiet,
            stdout_tty,
            stderr_tty: std::io::stderr().is_terminal(),
            color: color_enabled(stdout_tty, env),
            columns: env
                .get(env_vars::COLUMNS)
                .and_then(|c| c.trim().parse::<u16>().ok())
                .filter(|c| *c >= MIN_TABLE_WIDTH),
            query: global.query.clone(),
        }
    }

    /// A printer for a terminal `columns` wide (`0`: one that reports no width), for tests.
    #[cfg(test)]
    fn at_terminal(format: OutputFormat, columns: u16) -> Self {
        Self {
            columns: Some(columns).filter(|c| *c >= MIN_TABLE_WIDTH),
            ..Self::with(format, true, false)
        }
    }

    /// A printer with explicit settings, for tests.
    pub fn with(format: OutputFormat, stdout_tty: bool, color: bool) -> Self {
        Self {
            format,
            quiet: false,
            stdout_tty,
            stderr_tty: false,
            color,
            columns: None,
            query: None,
        }
    }

    /// Renders `out` on stdout.
    pub fn render(&self, out: &Output) -> Result<()> {
        let text = match out {
            Output::Nothing => return Ok(()),
            Output::Text(t) => t.clone(),
            Output::Profile(p) => self.profile(p)?,
            Output::Path(p) => match self.structured(&p.display().to_string())? {
                Some(text) => text,
                None => format!("{}\n", p.display()),
            },
            Output::Login(o) => self.login(o)?,
            Output::Logout(r) => self.logout(r)?,
            Output::Status(s) => self.status(s)?,
            Output::Subscriptions(l) => self.subscriptions(l)?,
            Output::Setup(r) => self.setup(r)?,
            Output::Version(v) => self.version(v)?,
            Output::Files(files) => match self.format {
                OutputFormat::Json => self.json(files)?,
                _ => files.iter().map(|f| format!("{}\n", f.display())).collect(),
            },
            Output::Token(t) => {
                self.warn_plaintext(t.plaintext_file.as_deref());
                match self.structured(t.as_ref())? {
                    Some(text) => text,
                    None => format!("{}\n", t.access_token),
                }
            }
        };
        write_stdout(&text)
    }

    /// Writes `text` to stdout as it is.
    pub fn raw(&self, text: &str) -> Result<()> {
        write_stdout(text)
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
            eprintln!("{}", printable(message));
        }
    }

    /// Something the user must see to go on (a sign-in URL, a device code), even with `--quiet`.
    pub fn notice(&self, message: &str) {
        eprintln!("{}", one_line(message));
    }

    /// Awaits `fut`, with a spinner on stderr when it is a terminal and `fut` takes more than a
    /// second (a quick answer should not flicker one).
    pub async fn while_waiting<F: std::future::Future>(&self, message: &str, fut: F) -> F::Output {
        if self.quiet || !self.stderr_tty {
            return fut.await;
        }
        let mut fut = std::pin::pin!(fut);
        if let Ok(out) = tokio::time::timeout(std::time::Duration::from_secs(1), &mut fut).await {
            return out;
        }
        let bar = indicatif::ProgressBar::new_spinner().with_message(message.to_owned());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        let out = fut.await;
        bar.finish_and_clear();
        out
    }

    /// A warning on stderr, unless `--quiet`.
    pub fn warn(&self, message: &str) {
        if !self.quiet {
            eprintln!("warning: {}", one_line(message));
        }
    }

    /// The warning every command that uses a plaintext session gives, naming the file.
    fn warn_plaintext(&self, file: Option<&std::path::Path>) {
        if let Some(f) = file {
            self.warn(&format!(
                "tokens are in a plaintext file, `{}` (mode 0600); anyone who can read your files can use them",
                f.display()
            ));
        }
    }

    /// An error and its hint on stderr, always.
    pub fn error(&self, err: &Error) {
        let mut line = format!("error: {}", one_line(&err.to_string()));
        if let Some(hint) = err.hint() {
            line = format!("{line}\n  hint: {}", one_line(hint));
        }
        eprintln!("{line}");
    }

    /// The rendering of a command's JSON document when the format or `--query` asks for one:
    /// JSON, YAML and `none` always; a table or TSV of the query's result. `None` leaves the
    /// command's own table or TSV to the caller.
    fn structured<T: Serialize + ?Sized>(&self, doc: &T) -> Result<Option<String>> {
        let plain = matches!(self.format, OutputFormat::Table | OutputFormat::Tsv);
        if plain && self.query.is_none() {
            return Ok(None);
        }
        if self.format == OutputFormat::None {
            return Ok(Some(String::new()));
        }
        let mut value =
            serde_json::to_value(doc).map_err(|e| Error::failure(format!("encoding JSON: {e}")))?;
        if let Some(q) = &self.query {
            value = crate::query::apply(q, &value)?;
        }
        Ok(Some(match self.format {
            OutputFormat::Json => self.json(&value)?,
            OutputFormat::Yaml => yaml(&value)?,
            OutputFormat::Tsv => tsv_value(&value),
            OutputFormat::Table => self.value_table(&value),
            OutputFormat::None => String::new(),
        }))
    }

    /// Key/value rows (`status`, `setup`): a two-column table, or TSV.
    fn key_values<'k>(&self, rows: impl IntoIterator<Item = (&'k str, String)>) -> String {
        if self.format == OutputFormat::Tsv {
            return rows
                .into_iter()
                .map(|(k, v)| format!("{k}\t{}\n", one_line(&v)))
                .collect();
        }
        let mut t = self.table(None);
        for (k, v) in rows {
            t.add_row(vec![k.to_owned(), one_line(&v)]);
        }
        format!("{t}\n")
    }

    /// Any JSON value as `az` tables it: a list of objects is a row per object with a column per
    /// key (in the order the keys first appear); a list of anything else is a `Result` column;
    /// an object is one row; a scalar is itself. Nested lists and objects are left out.
    fn value_table(&self, v: &Value) -> String {
        let objects: Vec<&serde_json::Map<String, Value>> = match v {
            Value::Object(o) => vec![o],
            Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_object) => {
                items.iter().filter_map(Value::as_object).collect()
            }
            Value::Array(items) => {
                if items.is_empty() {
                    return String::new();
                }
                let mut t = self.table(Some(&["Result"]));
                for i in items {
                    t.add_row(vec![cell_text(i)]);
                }
                return format!("{t}\n");
            }
            Value::Null => return String::new(),
            other => return format!("{}\n", cell_text(other)),
        };
        let mut keys: Vec<&str> = Vec::new();
        for o in &objects {
            for (k, val) in *o {
                if !val.is_object() && !val.is_array() && !keys.contains(&k.as_str()) {
                    keys.push(k);
                }
            }
        }
        let header: Vec<String> = keys.iter().map(|k| column_title(k)).collect();
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        let mut t = self.table(Some(&header));
        for o in objects {
            t.add_row(
                keys.iter()
                    .map(|k| o.get(*k).map(cell_text).unwrap_or_default())
                    .collect::<Vec<_>>(),
            );
        }
        format!("{t}\n")
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

    /// The width tables fit at a terminal: `COLUMNS`, else the terminal's, else 80 when it
    /// reports none (0, or an absurd width) rather than a column per character; `None` off a
    /// terminal, where nothing is wrapped.
    fn table_width(&self) -> Option<u16> {
        if !self.stdout_tty {
            return None;
        }
        self.columns
            .or_else(|| Table::new().width().filter(|w| *w >= MIN_TABLE_WIDTH))
            .or(Some(DEFAULT_TABLE_WIDTH))
    }

    fn table(&self, header: Option<&[&str]>) -> Table {
        let mut t = Table::new();
        if self.stdout_tty {
            t.load_preset(UTF8_FULL_CONDENSED);
            match self.table_width() {
                Some(w) => {
                    t.set_width(w)
                        .set_content_arrangement(ContentArrangement::Dynamic);
                }
                None => {
                    t.set_content_arrangement(ContentArrangement::Disabled);
                }
            }
        } else {
            t.load_preset(NOTHING).force_no_tty();
            if self.color {
                // `CLICOLOR_FORCE`: colour into a pipe, as asked.
                t.enforce_styling();
            }
        }
        if let Some(header) = header {
            t.set_header(header.iter().map(|h| {
                let c = Cell::new(h);
                if self.color {
                    c.add_attribute(Attribute::Bold)
                } else {
                    c
                }
            }));
        }
        t
    }

    fn login(&self, o: &login::Outcome) -> Result<String> {
        let a = &o.account;
        self.info(&format!(
            "Signed in as {} <{}> (tenant {}) on profile `{}`; the session is kept in the {}.",
            a.name, a.username, a.tenant_id, o.profile, o.storage
        ));
        self.warn_plaintext(o.plaintext_file.as_deref());
        if !o.survives_reboot {
            self.warn("the kernel keyring forgets the session at reboot, or after days without use (the kernel's persistent_keyring_expiry); sign in again then");
        }
        if let Some(text) = self.structured(o)? {
            return Ok(text);
        }
        match self.format {
            OutputFormat::Tsv => Ok(format!(
                "{}\t{}\t{}\t{}\n",
                a.username, a.oid, a.tenant_id, o.profile
            )),
            _ => Ok(String::new()),
        }
    }

    fn logout(&self, removed: &[logout::Removed]) -> Result<String> {
        for r in removed {
            if r.removed.is_empty() {
                self.info(&format!(
                    "Profile `{}` was not signed in; nothing to remove.",
                    r.profile
                ));
            } else {
                self.info(&format!(
                    "Signed out of profile `{}`: removed {}.",
                    r.profile,
                    r.removed.join(", ")
                ));
            }
            for p in &r.problems {
                self.warn(&format!("profile `{}`: {p}", r.profile));
            }
        }
        Ok(self.structured(removed)?.unwrap_or_default())
    }

    fn setup(&self, r: &setup::Report) -> Result<String> {
        if r.dry_run {
            self.info(&format!(
                "A run would send these {} write request(s) to Microsoft Graph; nothing was changed.",
                r.planned.len()
            ));
            if let Some(text) = self.structured(&r.planned)? {
                return Ok(text);
            }
            return Ok(r
                .planned
                .iter()
                .map(|p| {
                    let body = p.body.as_ref().map(ToString::to_string).unwrap_or_default();
                    format!("{}\t{}\t{}\n", p.method, p.url, body)
                })
                .collect());
        }
        if r.cleanup {
            if r.removed.is_empty() {
                self.info("Nothing to remove: no app carries setup's marker.");
            } else {
                self.info(&format!("Removed {}.", r.removed.join(", ")));
            }
            return Ok(self.structured(r)?.unwrap_or_default());
        }
        let Some(reg) = &r.registered else {
            return Ok(String::new());
        };
        if reg.changes.is_empty() {
            self.info("Everything was already in place; nothing was changed.");
        } else {
            for c in &reg.changes {
                self.info(&format!("- {c}"));
            }
        }
        let credential = match &r.certificate {
            Some(c) => format!("the API authenticates with the certificate {}", c.display()),
            None => format!(
                "the API's client secret is in {} (mode 0600)",
                r.secret_file.display()
            ),
        };
        self.info(&format!(
            "Profile `{}` in {}{}; {credential}. Next: `azobo serve-api` and `azobo login`.",
            r.profile,
            r.config_file.display(),
            if r.config_changed { " (updated)" } else { "" },
        ));
        let rows = [
            ("Profile", r.profile.clone()),
            ("Tenant", reg.tenant_id.clone()),
            (
                "API app",
                format!("{} ({})", reg.api.app_id, reg.api.display_name),
            ),
            (
                "CLI app",
                format!("{} ({})", reg.cli.app_id, reg.cli.display_name),
            ),
            ("API scope", reg.api_scope.clone()),
            (
                "Admin consent",
                if reg.consent.granted {
                    "granted".to_owned()
                } else {
                    "missing".to_owned()
                },
            ),
            ("Config file", r.config_file.display().to_string()),
            match &r.certificate {
                Some(c) => ("Certificate", c.display().to_string()),
                None => ("Secret file", r.secret_file.display().to_string()),
            },
        ];
        if let Some(text) = self.structured(r)? {
            return Ok(text);
        }
        Ok(self.key_values(rows))
    }

    fn subscriptions(&self, l: &subscriptions::Listing) -> Result<String> {
        self.warn_plaintext(l.plaintext_file.as_deref());
        if l.incomplete {
            self.warn("the API passed on ARM's nextLink: it relays only the first page, so this list may be incomplete");
        }
        if let Some(text) = self.structured(&l.items)? {
            return Ok(text);
        }
        // Names come from the network: nothing in them may drive the terminal or split a line.
        let field = |s: &Value, k: &str| one_line(s.get(k).and_then(Value::as_str).unwrap_or(""));
        match self.format {
            OutputFormat::Tsv => Ok(l
                .items
                .iter()
                .map(|s| {
                    format!(
                        "{}\t{}\t{}\t{}\n",
                        field(s, "displayName"),
                        field(s, "subscriptionId"),
                        field(s, "state"),
                        field(s, "tenantId")
                    )
                })
                .collect()),
            _ => {
                if l.items.is_empty() {
                    self.info("No subscriptions");
                    return Ok(String::new());
                }
                let mut rows: Vec<&Value> = l.items.iter().collect();
                rows.sort_by_key(|s| field(s, "displayName").to_lowercase());
                // One tenant for every row (the usual case) is said once, not repeated per row.
                let tenants: std::collections::BTreeSet<String> =
                    rows.iter().map(|s| field(s, "tenantId")).collect();
                let one_tenant = (tenants.len() == 1)
                    .then(|| tenants.into_iter().next())
                    .flatten();
                // GUIDs never wrap; a second GUID column that cannot fit beside a readable name
                // is left out (and said so) rather than pushed past the terminal's edge.
                let fits_tenant = self.table_width().is_none_or(|w| {
                    let state = rows.iter().map(|s| field(s, "state").chars().count()).max();
                    usize::from(w) >= 2 * 36 + state.unwrap_or(0) + MIN_NAME_WIDTH + 13
                });
                let show_tenant = one_tenant.is_none() && fits_tenant;
                if one_tenant.is_none() && !fits_tenant {
                    self.info("the Tenant ID column does not fit this terminal; `-o tsv` and `--json` have it");
                }
                let mut header = vec!["Name", "Subscription ID", "State"];
                if show_tenant {
                    header.push("Tenant ID");
                }
                let mut t = self.table(Some(&header));
                for s in rows {
                    let state = field(s, "state");
                    let mut cell = Cell::new(&state);
                    if self.color {
                        cell = cell.fg(match state.as_str() {
                            "Enabled" => comfy_table::Color::Green,
                            "Warned" | "PastDue" => comfy_table::Color::Yellow,
                            _ => comfy_table::Color::Red,
                        });
                    }
                    let mut row = vec![
                        Cell::new(field(s, "displayName")),
                        Cell::new(field(s, "subscriptionId")),
                        cell,
                    ];
                    if show_tenant {
                        row.push(Cell::new(field(s, "tenantId")));
                    }
                    // A name too long for the terminal is cut (…), never wrapped into the GUIDs.
                    let mut row = comfy_table::Row::from(row);
                    row.max_height(1);
                    t.add_row(row);
                }
                t.set_truncation_indicator("…");
                // GUIDs are copied whole and states read whole: only the name gives way.
                for i in [1, 2, 3] {
                    if let Some(c) = t.column_mut(i) {
                        c.set_constraint(comfy_table::ColumnConstraint::ContentWidth);
                    }
                }
                let n = l.items.len();
                let plural = if n == 1 { "" } else { "s" };
                self.info(&match one_tenant.filter(|t| !t.is_empty()) {
                    Some(tenant) => format!("{n} subscription{plural} in tenant {tenant}"),
                    None => format!("{n} subscription{plural}"),
                });
                Ok(format!("{t}\n"))
            }
        }
    }

    fn status(&self, s: &status::Status) -> Result<String> {
        self.warn_plaintext(s.plaintext_file.as_deref());
        if !s.survives_reboot {
            self.warn(
                "the kernel keyring forgets this session at reboot, or after days without use",
            );
        }
        let expiry = s.token_expires_on.map_or_else(String::new, |e| {
            let left = i128::from(e) - i128::from(crate::client::session::now());
            let when = rfc3339(e);
            if left > 0 {
                format!("{when} (in {} min)", left / 60)
            } else {
                format!("{when} (expired; refreshed on next use)")
            }
        });
        let account = match (&s.account, s.env_token) {
            (Some(a), _) => format!("{} <{}>", a.name, a.username),
            (None, true) => "AZOBO_TOKEN".to_owned(),
            (None, false) => String::new(),
        };
        let storage = match (s.storage, s.env_token) {
            (Some(st), _) => st.to_string(),
            (None, true) => "AZOBO_TOKEN is set; no session is used".to_owned(),
            (None, false) => String::new(),
        };
        let rows: Vec<(&str, String)> = vec![
            ("Profile", s.profile.clone()),
            ("Account", account),
            (
                "Object ID",
                s.account
                    .as_ref()
                    .map_or_else(String::new, |a| a.oid.clone()),
            ),
            (
                "Tenant",
                s.account.as_ref().map_or_else(
                    || s.tenant.clone(),
                    |a| format!("{} ({})", a.tenant_id, s.tenant),
                ),
            ),
            ("Authority", s.authority.clone()),
            ("API scope", s.api_scope.clone().unwrap_or_default()),
            ("API URL", s.api_url.clone()),
            ("Token expires", expiry),
            ("Storage", storage),
        ];
        if let Some(text) = self.structured(s)? {
            return Ok(text);
        }
        Ok(self.key_values(rows))
    }

    fn version(&self, v: &version::VersionInfo) -> Result<String> {
        if let Some(text) = self.structured(v)? {
            return Ok(text);
        }
        Ok(match self.format {
            OutputFormat::Tsv => v
                .rows()
                .iter()
                .map(|(k, v)| format!("{k}\t{v}\n"))
                .collect(),
            _ => {
                let mut t = self.table(Some(&["Key", "Value"]));
                for (k, v) in v.rows() {
                    t.add_row(vec![k, v]);
                }
                format!("{t}\n")
            }
        })
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
        if let Some(text) = self.structured(p)? {
            return Ok(text);
        }
        Ok(match self.format {
            OutputFormat::Tsv => rows
                .iter()
                .map(|(k, v)| format!("{k}\t{v}\t{}\n", source(k)))
                .collect(),
            _ => {
                let mut t = self.table(Some(&["Key", "Value", "Source"]));
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

/// A scalar as a table cell or TSV field: strings without quotes and on one line (they came
/// from the network), `null` empty, anything else as compact JSON.
fn cell_text(v: &Value) -> String {
    match v {
        Value::String(s) => one_line(s),
        Value::Null => String::new(),
        other => one_line(&other.to_string()),
    }
}

/// A key as a column title, as `az` shows them: `subscriptionId` → `SubscriptionId`.
fn column_title(key: &str) -> String {
    let mut chars = key.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// A document as YAML.
fn yaml(v: &Value) -> Result<String> {
    let mut text =
        serde_norway::to_string(v).map_err(|e| Error::failure(format!("encoding YAML: {e}")))?;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

/// A document as TSV: one line per array element, an object's values tab-separated.
fn tsv_value(v: &Value) -> String {
    fn line(v: &Value) -> String {
        match v {
            Value::Object(o) => o.values().map(cell_text).collect::<Vec<_>>().join("\t"),
            Value::Array(a) => a.iter().map(cell_text).collect::<Vec<_>>().join("\t"),
            other => cell_text(other),
        }
    }
    match v {
        Value::Array(items) => items.iter().map(|i| line(i) + "\n").collect(),
        Value::Null => String::new(),
        other => line(other) + "\n",
    }
}

/// POSIX seconds as RFC 3339 in UTC.
pub fn rfc3339(secs: u64) -> String {
    i64::try_from(secs)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
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
    fn messages_from_the_network_cannot_drive_the_terminal() {
        assert_eq!(printable("plain\ttext\nline 2"), "plain\ttext\nline 2");
        let shown = printable("code \u{1b}[31mABC\u{7}\r\u{202e}evil");
        assert!(
            !shown.chars().any(|c| c.is_control() && c != '\n'),
            "{shown:?}"
        );
        assert!(!shown.contains('\u{202e}'));
        assert!(shown.contains("ABC") && shown.contains("evil"));
        assert_eq!(
            one_line("denied\n  hint: run `curl x | sh`\tnow"),
            "denied   hint: run `curl x | sh` now"
        );
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
    fn colour_follows_clicolor_no_color_and_term_as_gh_does() {
        let env = |pairs: &[(&'static str, &'static str)]| Env::from_pairs(pairs.iter().copied());
        assert!(color_enabled(true, &env(&[])));
        assert!(!color_enabled(false, &env(&[])));
        assert!(!color_enabled(true, &env(&[("NO_COLOR", "1")])));
        assert!(
            color_enabled(true, &env(&[("NO_COLOR", "")])),
            "empty means unset"
        );
        assert!(!color_enabled(true, &env(&[("CLICOLOR", "0")])));
        assert!(color_enabled(true, &env(&[("CLICOLOR", "1")])));
        assert!(!color_enabled(true, &env(&[("TERM", "dumb")])));
        assert!(color_enabled(false, &env(&[("CLICOLOR_FORCE", "1")])));
        assert!(color_enabled(
            false,
            &env(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")])
        ));
        assert!(!color_enabled(false, &env(&[("CLICOLOR_FORCE", "0")])));
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

    fn listing() -> subscriptions::Listing {
        let sub = |name: &str, id: &str, state: &str| {
            serde_json::json!({
                "id": format!("/subscriptions/{id}"),
                "subscriptionId": id,
                "displayName": name,
                "state": state,
                "tenantId": "7f0c1e5a-2d3b-4c8e-9a61-0d5e4b3a2f10",
            })
        };
        subscriptions::Listing {
            items: vec![
                sub(
                    "Contoso Production",
                    "566aa56d-5194-5d6a-8cad-b2e9073de84a",
                    "Enabled",
                ),
                sub(
                    "A very long subscription name that a narrow terminal cannot show whole",
                    "5bd08b7f-0852-5db8-9f82-280085d2000d",
                    "Enabled",
                ),
                sub(
                    "Evil \u{1b}[31mred\u{7}\tname\nsecond line",
                    "fb8fe347-5f32-5d5d-bf76-dc2963ce5008",
                    "Warned",
                ),
                sub(
                    "Legacy Billing",
                    "cb5a54b1-38c6-5a3b-9467-2446dd48ccfc",
                    "Disabled",
                ),
            ],
            incomplete: false,
            plaintext_file: None,
        }
    }

    #[test]
    fn subscription_tables_fit_60_80_120_and_unknown_widths() {
        let guids: Vec<String> = listing()
            .items
            .iter()
            .map(|s| s["subscriptionId"].as_str().unwrap().to_owned())
            .collect();
        for columns in [60u16, 80, 120, 0] {
            let table = Printer::at_terminal(OutputFormat::Table, columns)
                .subscriptions(&listing())
                .unwrap();
            let width = if columns == 0 {
                80
            } else {
                usize::from(columns)
            };
            for line in table.lines() {
                assert!(line.chars().count() <= width, "{columns}: {line}");
            }
            // One line per row: nothing wraps, and every GUID is there whole.
            assert_eq!(table.lines().count(), 4 + 4, "{columns}:\n{table}");
            for g in &guids {
                assert!(table.contains(g.as_str()), "{columns}: {g} cut:\n{table}");
            }
            assert!(!table.contains('\u{1b}') && !table.contains('\u{7}'));
            insta::assert_snapshot!(format!("subscriptions_table_{columns}"), table);
        }
    }

    #[test]
    fn subscription_tsv_keeps_one_record_per_line() {
        let tsv = Printer::with(OutputFormat::Tsv, false, false)
            .subscriptions(&listing())
            .unwrap();
        assert_eq!(tsv.lines().count(), 4);
        for line in tsv.lines() {
            assert_eq!(line.split('\t').count(), 4, "{line:?}");
        }
        insta::assert_snapshot!(tsv);
    }

    #[test]
    fn every_json_shape_is_camel_case() {
        fn keys(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::Object(o) => o.iter().for_each(|(k, x)| {
                    out.push(k.clone());
                    keys(x, out);
                }),
                Value::Array(a) => a.iter().for_each(|x| keys(x, out)),
                _ => {}
            }
        }
        let account = crate::store::Account {
            name: "Alice Smith".into(),
            username: "alice@contoso.example".into(),
            oid: "97ebc25a-1270-587a-9bf9-758cf364faa1".into(),
            tenant_id: "7f0c1e5a-2d3b-4c8e-9a61-0d5e4b3a2f10".into(),
        };
        let storage = crate::store::Storage::Keyring(crate::store::Backend::SecretService);
        let status = status::Status {
            profile: "default".into(),
            account: Some(account.clone()),
            authority: "https://login.microsoftonline.com".into(),
            tenant: "organizations".into(),
            api_scope: Some("api://9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b/access_as_user".into()),
            api_url: "https://obo-api.contoso.com/".into(),
            token_expires_on: Some(1_800_000_000),
            refreshable: true,
            storage: Some(storage),
            survives_reboot: true,
            env_token: false,
            plaintext_file: None,
            signed_out: None,
        };
        let signed_out = status::Status {
            account: None,
            token_expires_on: None,
            storage: None,
            refreshable: false,
            signed_out: Some("not signed in".into()),
            ..status.clone()
        };
        let login = login::Outcome {
            profile: "default".into(),
            account,
            storage,
            survives_reboot: true,
            plaintext_file: None,
        };
        let token = token::TokenView {
            access_token: "eyJ0eXAi.redacted.sig".into(),
            expires_on_rfc3339: Some(rfc3339(1_800_000_000)),
            expires_on: Some(1_800_000_000),
            token_type: "Bearer",
            scope: "api://9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b/access_as_user".into(),
            plaintext_file: None,
        };
        let logout = vec![logout::Removed {
            profile: "default".into(),
            removed: vec!["the token cache".into()],
            problems: vec![],
        }];
        let shapes: Vec<(&str, Value)> = vec![
            ("status", serde_json::to_value(&status).unwrap()),
            (
                "status_signed_out",
                serde_json::to_value(&signed_out).unwrap(),
            ),
            ("login", serde_json::to_value(&login).unwrap()),
            ("token", serde_json::to_value(&token).unwrap()),
            ("logout", serde_json::to_value(&logout).unwrap()),
            ("config_show", serde_json::to_value(profile()).unwrap()),
        ];
        for (name, v) in shapes {
            let mut all = Vec::new();
            keys(&v, &mut all);
            for k in all {
                assert!(
                    !k.contains('_')
                        && !k.contains('-')
                        && k.chars().next().is_some_and(char::is_lowercase),
                    "{name}: `{k}` is not camelCase"
                );
            }
            insta::assert_json_snapshot!(format!("json_{name}"), v);
        }
    }
}
