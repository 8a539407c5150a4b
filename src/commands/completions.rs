//! `azobo completions SHELL` and the completion of `--profile`: the shell scripts ask azobo for
//! candidates at every TAB (clap_complete's `COMPLETE=<shell> azobo` protocol), so the candidates
//! come from the same clap definitions as the help and the man pages, and values clap cannot
//! know — the profile names in the configuration file — come from the file azobo would read.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use clap_complete::{CompletionCandidate, Shell};

use crate::config::{self, DEFAULT_PROFILE, Env};
use crate::error::{Error, Result};

/// Print the shell completion script.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
The script asks azobo for candidates at each TAB (profile names come from your config file), so
load it anew when azobo is upgraded; sourcing it from the shell's startup file does that.

Install:
  bash:        echo 'source <(azobo completions bash)' >> ~/.bashrc
  zsh:         echo 'source <(azobo completions zsh)' >> ~/.zshrc
  fish:        azobo completions fish > ~/.config/fish/completions/azobo.fish
  PowerShell:  azobo completions powershell >> $PROFILE
  elvish:      azobo completions elvish >> ~/.config/elvish/rc.elv

Examples:
  azobo completions bash
  source <(azobo completions bash)")]
pub struct Args {
    /// The shell to generate for
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The variable that switches azobo into completion mode (clap_complete's default).
const COMPLETE_VAR: &str = "COMPLETE";

/// The completion script for `shell`: it registers a completer that runs `azobo` (from `PATH`) in
/// completion mode. The same text as `COMPLETE=<shell> azobo` prints when run as `azobo`.
pub fn completions(shell: Shell) -> Result<String> {
    let name = shell.to_string();
    let shells = clap_complete::env::Shells::builtins();
    let completer = shells
        .completer(&name)
        .ok_or_else(|| Error::usage(format!("no completion support for `{name}`")))?;
    let mut out = Vec::new();
    completer
        .write_registration(COMPLETE_VAR, "azobo", "azobo", "azobo", &mut out)
        .map_err(|e| Error::io("writing the completion script", e))?;
    String::from_utf8(out)
        .map_err(|e| Error::failure(format!("completion script is not UTF-8: {e}")))
}

/// Candidates for `--profile`: `default` and the profiles of the configuration file azobo would
/// read for the command line being completed (its `--config`, else `AZOBO_CONFIG`, else the
/// default path). Quiet by design: a missing or broken file offers just `default`.
pub fn complete_profile(current: &OsStr) -> Vec<CompletionCandidate> {
    let Some(current) = current.to_str() else {
        return Vec::new();
    };
    let flag = config_flag(
        std::env::args_os()
            .skip(1)
            .map(|a| a.to_string_lossy().into_owned()),
    );
    profile_names(flag.as_deref(), &Env::from_process())
        .into_iter()
        .filter(|n| n.starts_with(current))
        .map(CompletionCandidate::new)
        .collect()
}

/// Candidates for a value parsed ignoring case (`--state`): matched ignoring case too, so
/// `en<TAB>` offers `Enabled` as `--state en` would accept it.
pub fn complete_ignoring_case<E: clap::ValueEnum>(current: &OsStr) -> Vec<CompletionCandidate> {
    let Some(current) = current.to_str() else {
        return Vec::new();
    };
    let current = current.to_ascii_lowercase();
    E::value_variants()
        .iter()
        .filter_map(clap::ValueEnum::to_possible_value)
        .filter(|v| v.get_name().to_ascii_lowercase().starts_with(&current))
        .map(|v| CompletionCandidate::new(v.get_name()))
        .collect()
}

/// The last `--config PATH` / `--config=PATH` among the words being completed (the words after
/// clap_complete's `--`), with a leading `~/` expanded as the shell will when it runs the line.
fn config_flag(args: impl IntoIterator<Item = String>) -> Option<PathBuf> {
    let words: Vec<String> = args.into_iter().skip_while(|a| a != "--").skip(1).collect();
    let mut found = None;
    for (i, w) in words.iter().enumerate() {
        if w == "--" {
            break;
        }
        if let Some(v) = w.strip_prefix("--config=") {
            found = Some(v.to_owned());
        } else if w == "--config"
            && let Some(v) = words.get(i + 1)
        {
            found = Some(v.clone());
        }
    }
    let found = found.filter(|v| !v.is_empty())?;
    match (found.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Some(Path::new(&home).join(rest)),
        _ => Some(PathBuf::from(found)),
    }
}

/// `default` and every profile in the configuration file, sorted; names a shell would need to
/// quote (or that could carry terminal controls) are left out.
pub fn profile_names(config_flag: Option<&Path>, env: &Env) -> Vec<String> {
    let mut names = vec![DEFAULT_PROFILE.to_owned()];
    if let Some(text) = config_text(config_flag, env)
        && let Ok(root) = toml::from_str::<toml::Table>(&text)
        && let Some(toml::Value::Table(profiles)) = root.get("profiles")
    {
        names.extend(profiles.keys().filter(|n| plain(n)).cloned());
    }
    names.sort();
    names.dedup();
    names
}

/// The configuration file's text, through the loader's own bounds (a regular file, at most
/// 1 MiB); `None` on any problem.
fn config_text(config_flag: Option<&Path>, env: &Env) -> Option<String> {
    let (path, explicit) = config::config_path(config_flag, env).ok()?;
    // Opening a FIFO would wait for a writer: only a regular file is opened at all.
    if !std::fs::metadata(&path).ok()?.is_file() {
        return None;
    }
    config::read_config_text(&path, explicit).ok()?
}

fn plain(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_owned).collect()
    }

    #[test]
    fn config_flag_is_read_from_the_line_being_completed() {
        assert_eq!(
            config_flag(words("-- azobo --config /c.toml --profile w")),
            Some(PathBuf::from("/c.toml"))
        );
        assert_eq!(
            config_flag(words(
                "-- azobo --config=/a.toml status --config /b.toml --profile"
            )),
            Some(PathBuf::from("/b.toml"))
        );
        assert_eq!(config_flag(words("-- azobo --profile ")), None);
        assert_eq!(
            config_flag(words("--config /x.toml")),
            None,
            "not after `--`"
        );
    }

    #[test]
    fn profile_names_come_from_the_file_and_skip_odd_names() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("c.toml");
        std::fs::write(
            &cfg,
            "[profiles.work]\ntenant = \"a\"\n[profiles.\"bad name\"]\n[profiles.\"x\\u001b[31m\"]\n[profiles.gov]\n",
        )
        .unwrap();
        let env = Env::default();
        assert_eq!(profile_names(Some(&cfg), &env), ["default", "gov", "work"]);
        let env = Env::from_pairs([("AZOBO_CONFIG", cfg.to_str().unwrap())]);
        assert_eq!(profile_names(None, &env), ["default", "gov", "work"]);
        std::fs::write(&cfg, "not toml [").unwrap();
        assert_eq!(profile_names(Some(&cfg), &env), ["default"]);
        assert_eq!(
            profile_names(Some(Path::new("/nonexistent/c.toml")), &env),
            ["default"]
        );
        assert_eq!(profile_names(Some(dir.path()), &env), ["default"]);
    }

    #[test]
    fn every_shell_has_a_script_that_calls_azobo() {
        for shell in [
            Shell::Bash,
            Shell::Zsh,
            Shell::Fish,
            Shell::PowerShell,
            Shell::Elvish,
        ] {
            let s = completions(shell).unwrap();
            assert!(
                s.contains("COMPLETE") && s.contains("azobo"),
                "{shell}: {s}"
            );
        }
    }
}
