//! `azobo man`: a man page per command (`azobo.1`, `azobo-login.1`, `azobo-config-show.1`, …),
//! rendered by clap_mangen from the clap definitions, plus the sections clap knows nothing about:
//! EXIT STATUS (the codes of `error.rs`), ENVIRONMENT (`env_vars.rs`, and serve-api's variables
//! from its flags), FILES, EXAMPLES (the help's), and SEE ALSO naming pages that exist.

use std::path::PathBuf;

use clap::Command;
use roff::{Roff, bold, italic, roman};

use crate::cli;
use crate::env_vars::{DOCUMENTED, Reader};
use crate::error::{self, Error, Result};
use crate::output::Output;

/// Print a man page, or write them all to a directory.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  azobo man | man -l -
  azobo man login | man -l -
  azobo man config show
  azobo man --dir ~/.local/share/man/man1   # azobo.1, azobo-login.1, …; then `man azobo-login`")]
pub struct Args {
    /// The command whose page to print, e.g. `login` or `config show` [default: azobo's own]
    #[arg(value_name = "COMMAND")]
    pub command: Vec<String>,
    /// Write every page into DIR (created if missing) and list the files written
    #[arg(long, value_name = "DIR", value_hint = clap::ValueHint::DirPath, conflicts_with = "command")]
    pub dir: Option<PathBuf>,
}

/// Runs `azobo man`.
pub fn run(args: &Args) -> Result<Output> {
    let root = cli::command();
    if let Some(dir) = &args.dir {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("creating `{}`", dir.display()), e))?;
        let mut written = Vec::new();
        for (name, text) in pages(&root)? {
            let path = dir.join(name);
            std::fs::write(&path, text)
                .map_err(|e| Error::io(format!("writing `{}`", path.display()), e))?;
            written.push(path);
        }
        return Ok(Output::Files(written));
    }
    let mut cmd = &root;
    for word in &args.command {
        cmd = listed(cmd).find(|c| c.get_name() == word).ok_or_else(|| {
            Error::usage(format!(
                "no command `{}`; the pages are {}",
                args.command.join(" "),
                pages_named(&root).join(", ")
            ))
        })?;
    }
    Ok(Output::Text(page(cmd, &root)?))
}

/// Every page as (file name, roff), `azobo.1` first, then depth first in the help's order.
pub fn pages(root: &Command) -> Result<Vec<(String, String)>> {
    fn walk<'c>(cmd: &'c Command, out: &mut Vec<&'c Command>) {
        out.push(cmd);
        for sc in listed(cmd) {
            walk(sc, out);
        }
    }
    let mut all = Vec::new();
    walk(root, &mut all);
    all.into_iter()
        .map(|c| Ok((format!("{}.1", page_name(c)), page(c, root)?)))
        .collect()
}

/// The subcommands with a page: not hidden, and not clap's `help`.
fn listed(cmd: &Command) -> impl Iterator<Item = &Command> {
    cmd.get_subcommands()
        .filter(|c| !c.is_hide_set() && c.get_name() != "help")
}

/// `azobo`, `azobo-login`, `azobo-config-show`: clap's display name once the command is built.
fn page_name(cmd: &Command) -> String {
    cmd.get_display_name()
        .unwrap_or_else(|| cmd.get_name())
        .to_owned()
}

fn pages_named(root: &Command) -> Vec<String> {
    fn walk(cmd: &Command, out: &mut Vec<String>) {
        out.push(format!("{}(1)", page_name(cmd)));
        for sc in listed(cmd) {
            walk(sc, out);
        }
    }
    let mut out = Vec::new();
    walk(root, &mut out);
    out
}

/// One page. `root` is the built `azobo` command `cmd` belongs to.
fn page(cmd: &Command, root: &Command) -> Result<String> {
    let name = page_name(cmd);
    let is_root = std::ptr::eq(cmd, root);
    let man = clap_mangen::Man::new(cmd.clone())
        .title(name.to_uppercase())
        .source(format!("azobo {}", env!("CARGO_PKG_VERSION")))
        .manual("azobo manual");
    let mut parts: Vec<Vec<u8>> = Vec::new();
    let mut part = |render: &dyn Fn(&mut Vec<u8>) -> std::io::Result<()>| -> Result<()> {
        let mut buf = Vec::new();
        render(&mut buf).map_err(|e| Error::io("rendering a man page", e))?;
        parts.push(buf);
        Ok(())
    };
    part(&|w| man.render_title(w))?;
    part(&|w| man.render_name_section(w))?;
    part(&|w| man.render_synopsis_section(w))?;
    part(&|w| man.render_description_section(w))?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        part(&|w| man.render_options_section(w))?;
    }
    let mut roff = Roff::new();
    commands_section(&mut roff, cmd);
    exit_status_section(&mut roff);
    let server = cmd.get_name() == "serve-api";
    environment_section(&mut roff, root, is_root, server);
    files_section(&mut roff, server);
    after_help_sections(&mut roff, cmd);
    see_also_section(&mut roff, cmd, root, is_root);
    part(&|w| roff.to_writer(w))?;

    // Each piece starts with roff's apostrophe preamble; the page needs it once.
    let preamble = Roff::new().render();
    let mut text = String::new();
    for (i, p) in parts.into_iter().enumerate() {
        let p = String::from_utf8(p)
            .map_err(|e| Error::failure(format!("man page is not UTF-8: {e}")))?;
        text.push_str(if i == 0 {
            &p
        } else {
            p.strip_prefix(&preamble).unwrap_or(&p)
        });
    }
    Ok(text)
}

/// A `.TP` entry: the tag in bold, then its text.
fn entry(roff: &mut Roff, tag: &str, text: &str) {
    roff.control("TP", []);
    roff.text([bold(tag)]);
    roff.text([roman(text)]);
}

/// COMMANDS: each subcommand's page and summary (clap_mangen's own would list `help` too).
fn commands_section(roff: &mut Roff, cmd: &Command) {
    let subs: Vec<&Command> = listed(cmd).collect();
    if subs.is_empty() {
        return;
    }
    roff.control("SH", ["COMMANDS"]);
    for sc in subs {
        roff.control("TP", []);
        roff.text([bold(page_name(sc)), roman("(1)")]);
        roff.text([roman(
            sc.get_about().map(ToString::to_string).unwrap_or_default(),
        )]);
    }
}

fn exit_status_section(roff: &mut Roff) {
    roff.control("SH", ["EXIT STATUS"]);
    for (code, meaning) in [
        (error::EXIT_OK, "Success."),
        (error::EXIT_FAILURE, "Failure."),
        (
            error::EXIT_USAGE,
            "Usage error: a bad flag or value, or a configuration file that is missing (when named) or invalid.",
        ),
        (
            error::EXIT_SIGN_IN_REQUIRED,
            "Sign-in required: no session, or it can no longer be refreshed; run azobo login.",
        ),
        (
            error::EXIT_ACCESS_DENIED,
            "Access denied: consent is missing, or the account may not do this.",
        ),
        (
            error::EXIT_UPSTREAM,
            "Upstream unavailable: the identity platform, the API or Azure Resource Manager failed or could not be reached.",
        ),
        (error::EXIT_INTERRUPTED, "Interrupted (Ctrl-C)."),
    ] {
        entry(roff, &code.to_string(), meaning);
    }
}

/// ENVIRONMENT: the variables of `env_vars::DOCUMENTED` that matter to the page, and on the
/// serve-api and top-level pages serve-api's `AZOBO_API_*` twins of its flags.
fn environment_section(roff: &mut Roff, root: &Command, is_root: bool, server: bool) {
    roff.control("SH", ["ENVIRONMENT"]);
    roff.text([roman(
        "An empty variable counts as unset. Flags win over variables, variables over the configuration file.",
    )]);
    // serve-api's own first on its page; after the commands' on the top-level page.
    if server {
        serve_api_variables(roff, root);
    }
    for d in DOCUMENTED {
        let shown = is_root
            || match d.reader {
                Reader::Both => true,
                Reader::Client => !server,
                Reader::Server => server,
            };
        if shown {
            entry(roff, d.name, d.meaning);
        }
    }
    if is_root {
        serve_api_variables(roff, root);
    }
}

/// serve-api's `AZOBO_API_*` twins of its flags, described by the flags' help.
fn serve_api_variables(roff: &mut Roff, root: &Command) {
    let Some(serve_api) = root.find_subcommand("serve-api") else {
        return;
    };
    for a in serve_api.get_arguments() {
        let (Some(var), Some(long)) = (a.get_env(), a.get_long()) else {
            continue;
        };
        let mut help = a.get_help().map(ToString::to_string).unwrap_or_default();
        let defaults: Vec<String> = a
            .get_default_values()
            .iter()
            .map(|v| v.to_string_lossy().into_owned())
            .collect();
        if !defaults.is_empty() {
            help = format!("{help} [default: {}]", defaults.join(","));
        }
        entry(
            roff,
            &var.to_string_lossy(),
            &format!("serve-api, as --{long}: {help}"),
        );
    }
}

fn files_section(roff: &mut Roff, server: bool) {
    roff.control("SH", ["FILES"]);
    entry(
        roff,
        "$XDG_CONFIG_HOME/azobo/config.toml",
        "The configuration file (~/.config/azobo/config.toml when XDG_CONFIG_HOME is unset; on macOS and Windows the platform's configuration directory — azobo config path prints it). [profiles.NAME] tables configure the commands, a [serve_api] table configures serve-api. --config or AZOBO_CONFIG name another file. A missing default file is an empty configuration; a larger than 1 MiB one is an error.",
    );
    if server {
        return;
    }
    entry(
        roff,
        "$XDG_DATA_HOME/azobo/sessions/",
        "The sessions (~/.local/share/azobo/sessions/ when XDG_DATA_HOME is unset; the platform's data directory on macOS and Windows), one set of files per profile:",
    );
    roff.control("RS", []);
    for (file, meaning) in [
        (
            "PROFILE.json",
            "the session's non-secret metadata: account, tenant, authority, scopes, expiry, storage.",
        ),
        (
            "PROFILE.a.cache, PROFILE.b.cache",
            "the tokens, AES-256-GCM encrypted (mode 0600); the key is in the OS keyring.",
        ),
        (
            "PROFILE.tokens.json",
            "the tokens in plaintext (mode 0600), only with --insecure-storage or AZOBO_TOKEN_STORE=file.",
        ),
        (
            "PROFILE.lock",
            "a lock that keeps concurrent azobo processes from updating the session at once.",
        ),
    ] {
        roff.control("TP", []);
        roff.text([italic(file)]);
        roff.text([roman(meaning)]);
    }
    roff.control("RE", []);
}

/// The help's after-text: its `Examples:` block as EXAMPLES (verbatim lines), `Install:` as
/// INSTALL, other paragraphs as NOTES. The top level's exit-code line is EXIT STATUS already.
fn after_help_sections(roff: &mut Roff, cmd: &Command) {
    let Some(after) = cmd.get_after_help().map(ToString::to_string) else {
        return;
    };
    let mut notes: Vec<String> = Vec::new();
    let mut titled: Vec<(String, Vec<String>)> = Vec::new();
    for block in after.split("\n\n") {
        let mut lines = block.lines();
        let Some(first) = lines.next() else { continue };
        if first.starts_with("Exit codes:") {
            continue;
        }
        match first.strip_suffix(':') {
            Some(title) if !title.contains(' ') => titled.push((
                title.to_uppercase(),
                lines.map(|l| l.trim().to_owned()).collect(),
            )),
            _ => notes.push(block.split_whitespace().collect::<Vec<_>>().join(" ")),
        }
    }
    if !notes.is_empty() {
        roff.control("SH", ["NOTES"]);
        for (i, n) in notes.iter().enumerate() {
            if i > 0 {
                roff.control("PP", []);
            }
            roff.text([roman(n.as_str())]);
        }
    }
    for (title, lines) in titled {
        roff.control("SH", [title.as_str()]);
        roff.control("nf", []);
        roff.control("RS", ["4"]);
        for l in lines {
            roff.text([roman(l)]);
        }
        roff.control("RE", []);
        roff.control("fi", []);
    }
}

/// SEE ALSO: from the top-level page every other page; from a command's page `azobo(1)`, the
/// page of the command it belongs to, and those of its own subcommands.
fn see_also_section(roff: &mut Roff, cmd: &Command, root: &Command, is_root: bool) {
    let mut names: Vec<String> = Vec::new();
    if is_root {
        names.extend(pages_named(root).into_iter().skip(1));
    } else {
        names.push("azobo(1)".into());
        let name = page_name(cmd);
        if let Some((parent, _)) = name.rsplit_once('-')
            && parent != "azobo"
            && pages_named(root).contains(&format!("{parent}(1)"))
        {
            names.push(format!("{parent}(1)"));
        }
        names.extend(listed(cmd).map(|c| format!("{}(1)", page_name(c))));
    }
    roff.control("SH", ["SEE ALSO"]);
    let mut line = Vec::new();
    for (i, n) in names.iter().enumerate() {
        if i > 0 {
            line.push(roman(", "));
        }
        let (page, section) = n.split_at(n.len() - 3);
        line.push(bold(page));
        line.push(roman(section));
    }
    roff.text(line);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_a_page_with_the_sections_man_pages_carry() {
        let root = cli::command();
        let pages = pages(&root).unwrap();
        let names: Vec<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
        for expected in [
            "azobo.1",
            "azobo-login.1",
            "azobo-serve-api.1",
            "azobo-config.1",
            "azobo-config-show.1",
            "azobo-version.1",
        ] {
            assert!(names.contains(&expected), "{expected} in {names:?}");
        }
        assert!(!names.iter().any(|n| n.contains("help")), "{names:?}");
        for (name, text) in &pages {
            for section in [
                ".SH NAME",
                ".SH SYNOPSIS",
                ".SH \"EXIT STATUS\"",
                ".SH ENVIRONMENT",
                ".SH FILES",
                ".SH \"SEE ALSO\"",
            ] {
                assert!(text.contains(section), "{name} lacks {section}");
            }
            // Every page it refers to exists.
            for word in text.split(|c: char| c.is_whitespace() || c == ',') {
                if let Some(i) = word.find("(1)") {
                    let page = word[..i].replace("\\fB", "").replace("\\fR", "");
                    let page = page.replace("\\-", "-");
                    if page.starts_with("azobo") {
                        assert!(
                            names.contains(&format!("{page}.1").as_str()),
                            "{name} refers to {page}(1)"
                        );
                    }
                }
            }
            assert_eq!(
                text.matches(".ie \\n(.g .ds Aq").count(),
                1,
                "{name}: one preamble"
            );
        }
    }

    #[test]
    fn serve_api_page_documents_its_variables_and_defaults() {
        let root = cli::command();
        let page = page(root.find_subcommand("serve-api").unwrap(), &root).unwrap();
        for needle in [
            "AZOBO_API_LISTEN",
            "AZOBO_API_CLIENT_SECRET",
            "AZOBO_API_CACHE_KEY",
            "127.0.0.1:5000",
            "INHERITED FLAGS",
        ] {
            assert!(page.contains(needle), "{needle}");
        }
        assert!(!page.contains("AZOBO_TOKEN_STORE"), "a client variable");
        let top = super::page(&root, &root).unwrap();
        assert!(top.contains("AZOBO_API_LISTEN") && top.contains("AZOBO_TOKEN_STORE"));
    }
}
