//! The command line: global flags and one variant per command. Only clap types live here.

use std::path::PathBuf;

use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand, ValueEnum};
use clap_complete::ArgValueCompleter;

use crate::commands;

/// Where the top-level help lists the flags every command accepts.
pub const GLOBAL_HEADING: &str = "Global options";
/// Where a command's help lists the flags it accepts from `azobo` itself (gh's "INHERITED FLAGS").
pub const INHERITED_HEADING: &str = "Inherited flags";

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
    #[arg(
        long,
        global = true,
        value_name = "NAME",
        add = ArgValueCompleter::new(commands::completions::complete_profile)
    )]
    pub profile: Option<String>,

    /// Configuration file to read [env: AZOBO_CONFIG]
    #[arg(long, global = true, value_name = "PATH", value_hint = clap::ValueHint::FilePath)]
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
    /// Print the shell completion script (bash, zsh, fish, powershell, elvish)
    Completions(commands::completions::Args),
    /// Print a man page, or write them all to a directory
    Man(commands::man::Args),
    /// Show the version, the commit it was built from, and the target
    Version(commands::version::Args),
}

impl Cli {
    /// Parses the process's arguments against [`command`], exiting on `--help` or a usage error as
    /// clap does.
    pub fn parse_args() -> Self {
        let mut matches = command().get_matches();
        Self::from_arg_matches_mut(&mut matches).unwrap_or_else(|e| e.format(&mut command()).exit())
    }
}

/// The command line as azobo presents it: the derive definition, built, with two things clap's
/// derive cannot say. A flag a command inherits from `azobo` is listed under "Inherited flags"
/// rather than among the command's own options (at the top level they are the "Global options").
/// And no help shows an environment variable's value (`[env: NAME]`, never `[env: NAME=…]`): a
/// value may be a secret, and an empty one printed as `NAME=` reads as a bug.
pub fn command() -> clap::Command {
    let mut cmd = Cli::command();
    // Building propagates the global flags into every subcommand, so they can be re-headed.
    cmd.build();
    let globals: Vec<clap::Id> = cmd
        .get_arguments()
        .filter(|a| a.is_global_set())
        .map(|a| a.get_id().clone())
        .collect();
    cmd.mut_args(|a| {
        let a = hide_env_value(a);
        if a.is_global_set() || matches!(a.get_id().as_str(), "help" | "version") {
            a.help_heading(GLOBAL_HEADING)
        } else {
            a
        }
    })
    .mut_subcommands(|sc| inherit(sc, &globals))
}

/// Heads `cmd`'s copies of the `inherited` flags (and the propagated `--version`) as inherited,
/// down the tree.
fn inherit(cmd: clap::Command, inherited: &[clap::Id]) -> clap::Command {
    let mut below = inherited.to_vec();
    below.extend(
        cmd.get_arguments()
            .filter(|a| a.is_global_set() && !inherited.contains(a.get_id()))
            .map(|a| a.get_id().clone()),
    );
    cmd.mut_args(|a| {
        let a = hide_env_value(a);
        if inherited.contains(a.get_id()) || a.get_id() == "version" {
            a.help_heading(INHERITED_HEADING)
        } else {
            a
        }
    })
    .mut_subcommands(|sc| inherit(sc, &below))
}

fn hide_env_value(a: clap::Arg) -> clap::Arg {
    if a.get_env().is_some() {
        a.hide_env_values(true)
    } else {
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
        command().debug_assert();
    }

    /// Walks `cmd` and its subcommands.
    fn each(cmd: &clap::Command, f: &mut dyn FnMut(&clap::Command)) {
        f(cmd);
        for sc in cmd.get_subcommands() {
            each(sc, f);
        }
    }

    #[test]
    fn no_help_shows_an_environment_value() {
        let mut seen = 0;
        each(&command(), &mut |c| {
            for a in c.get_arguments().filter(|a| a.get_env().is_some()) {
                seen += 1;
                assert!(
                    a.is_hide_env_values_set(),
                    "{} --{:?}",
                    c.get_name(),
                    a.get_long()
                );
            }
        });
        assert!(seen > 10, "serve-api's flags read AZOBO_API_*: {seen}");
    }

    #[test]
    fn commands_list_global_flags_as_inherited() {
        let cmd = command();
        let heading = |c: &clap::Command, id: &str| {
            c.get_arguments()
                .find(|a| a.get_id() == id)
                .and_then(|a| a.get_help_heading().map(str::to_owned))
        };
        assert_eq!(heading(&cmd, "profile").as_deref(), Some(GLOBAL_HEADING));
        let mut subcommands = 0;
        each(&cmd, &mut |c| {
            // clap's `help` command takes no flags.
            if c.get_name() == "azobo" || c.get_bin_name().is_some_and(|b| b.contains(" help")) {
                return;
            }
            subcommands += 1;
            for id in ["profile", "config", "output", "json", "verbose", "quiet"] {
                assert_eq!(
                    heading(c, id).as_deref(),
                    Some(INHERITED_HEADING),
                    "{id} in {}",
                    c.get_name()
                );
            }
            assert_eq!(heading(c, "help"), None, "{}: -h is its own", c.get_name());
        });
        assert!(subcommands > 12);
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
