//! `azobo completions SHELL` and `azobo man`: generated from the clap definitions, so help,
//! completions and the man page never disagree.

use clap::CommandFactory as _;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::error::{Error, Result};

/// Print shell completions.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Install:
  bash:        azobo completions bash > ~/.local/share/bash-completion/completions/azobo
  zsh:         azobo completions zsh > ~/.zfunc/_azobo   (with fpath+=~/.zfunc before compinit)
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

/// Print the man page (roff) on stdout.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  azobo man | man -l -\n  azobo man > /usr/local/share/man/man1/azobo.1"
)]
pub struct ManArgs {}

/// The completion script for `shell`.
pub fn completions(shell: Shell) -> Result<String> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "azobo", &mut out);
    String::from_utf8(out)
        .map_err(|e| Error::failure(format!("completion script is not UTF-8: {e}")))
}

/// The man page.
pub fn man() -> Result<String> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .map_err(|e| Error::io("rendering the man page", e))?;
    String::from_utf8(out).map_err(|e| Error::failure(format!("man page is not UTF-8: {e}")))
}
