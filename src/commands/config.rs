//! `azobo config`: shows the resolved profile and where each value came from.

use clap::Subcommand;

use crate::config::{self, Env, Overrides};
use crate::error::Result;
use crate::output::Output;

/// Show the resolved configuration and where each value comes from.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  azobo config show\n  azobo --profile work config show --json\n  AZOBO_TENANT=contoso.com azobo config show -o tsv\n  azobo config path"
)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Print the profile after merging the file, AZOBO_* variables and defaults
    Show,
    /// Print the path of the configuration file azobo reads
    Path,
}

/// Runs `azobo config`.
pub fn run(
    args: &Args,
    profile: Option<&str>,
    config_file: Option<&std::path::Path>,
    env: &Env,
) -> Result<Output> {
    match args.action {
        Action::Show => Ok(Output::Profile(Box::new(config::load(
            profile,
            config_file,
            env,
            &Overrides::default(),
        )?))),
        Action::Path => Ok(Output::Path(config::config_path(config_file, env)?.0)),
    }
}
