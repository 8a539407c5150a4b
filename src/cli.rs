//! The command line: global flags and one variant per command. Only clap types live here.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::commands;

/// Sign in to Microsoft Entra ID and call a protected API On-Behalf-Of the user.
#[derive(Debug, Parser)]
#[command(
    name = "azobo",
    version,
    propagate_version = true,
    max_term_width = 100,
    after_help = "Examples:\n  azobo demo                    # see it all work; no Azure tenant needed\n  azobo login && azobo subscriptions\n  azobo subscriptions --json | jq -r '.[].subscriptionId'\n\nExit codes: 0 ok, 1 failure, 2 usage, 3 sign-in required, 4 access denied, 5 upstream\nunavailable, 130 interrupted."
)]
pub struct Cli {
    /// Flags every command accepts.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command accepts.
#[derive(Debug, Clone, clap::Args)]
pub struct GlobalArgs {
    /// Profile to use [env: AZOBO_PROFILE] [default: default]
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,

    /// Configuration file to read [env: AZOBO_CONFIG]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Output format for data on stdout: table, json, yaml, tsv or none
    #[arg(
        short = 'o',
        long,
        global = true,
        value_enum,
        value_name = "FORMAT",
        hide_possible_values = true
    )]
    pub output: Option<OutputFormat>,

    /// Shorthand for `--output json`
    #[arg(long, global = true, conflicts_with = "output")]
    pub json: bool,

    /// JMESPath query on the command's JSON document, as in `az`
    #[arg(long, global = true, value_name = "EXPR")]
    pub query: Option<String>,

    /// A stderr line per HTTP call [env: AZOBO_DEBUG=api]
    #[arg(long, global = true)]
    pub debug: bool,

    /// More diagnostics on stderr (repeat for more)
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Only errors on stderr
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

impl GlobalArgs {
    /// The output format after `--json`.
    pub fn format(&self) -> OutputFormat {
        if self.json {
            OutputFormat::Json
        } else {
            self.output.unwrap_or(OutputFormat::Table)
        }
    }
}

/// How data is written to stdout: a table for people, JSON or YAML for programs, tab-separated
/// values without a header for shell scripts, or nothing (the exit code alone), as `az` has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
    Yaml,
    Tsv,
    None,
}

/// azobo's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Try azobo end to end on this machine, without an Azure tenant
    Demo(commands::demo::Args),
    /// Register the API and CLI apps in your tenant through Microsoft Graph, write the profile
    Setup(commands::setup::Args),
    /// Sign in (browser + PKCE, or device code) and keep the session in the OS keyring
    Login(commands::login::Args),
    /// List your Azure subscriptions through the API (table, JSON or TSV)
    Subscriptions(commands::subscriptions::Args),
    /// Show who is signed in, where, and until when (exit 3 when signed out)
    Status(commands::status::Args),
    /// Print an access token for the API, refreshing it if needed (never signs in)
    Token(commands::token::Args),
    /// Sign out: remove the session's secrets and metadata
    Logout(commands::logout::Args),
    /// Run the protected API (token validation, On-Behalf-Of, ARM subscriptions)
    ServeApi(Box<commands::serve_api::Args>),
    /// Run a local Entra ID + Azure Resource Manager emulator
    DevTenant(commands::dev_tenant::Args),
    /// Show the resolved configuration and where each value comes from
    Config(commands::config::Args),
    /// Print shell completions (bash, zsh, fish, powershell, elvish)
    Completions(commands::completions::Args),
    /// Print the man page
    Man(commands::completions::ManArgs),
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }

    #[test]
    fn json_is_shorthand_for_output_json() {
        let cli = Cli::try_parse_from(["azobo", "--json", "config", "show"]).unwrap();
        assert_eq!(cli.global.format(), OutputFormat::Json);
        let cli = Cli::try_parse_from(["azobo", "config", "show", "-o", "tsv"]).unwrap();
        assert_eq!(cli.global.format(), OutputFormat::Tsv);
        assert!(Cli::try_parse_from(["azobo", "--json", "-o", "tsv", "config", "show"]).is_err());
    }
}
