//! azobo: sign in to Microsoft Entra ID from a terminal and call a protected API that acts
//! On-Behalf-Of the user against Azure Resource Manager.
//!
//! The library holds everything; `main.rs` only parses, runs and maps errors to exit codes.

pub mod aead;
pub mod api;
pub mod cli;
pub mod client;
pub mod commands;
pub mod config;
pub mod config_edit;
pub mod context;
pub mod dev_tenant;
pub mod env_vars;
pub mod error;
pub mod graph;
pub mod http_server;
pub mod logging;
pub mod output;
pub mod query;
pub mod store;
pub mod well_known;

use cli::{Cli, Command};
use config::Env;
use error::Result;
use output::{Output, Printer};

/// Runs one parsed command line.
pub async fn run(cli: Cli, env: &Env, printer: &Printer) -> Result<()> {
    let g = &cli.global;
    let ctx = context::Context::new(env, printer, g);
    let out = match &cli.command {
        Command::Completions(args) => Output::Text(commands::completions::completions(args.shell)?),
        Command::Man(args) => commands::man::run(args)?,
        Command::Version(_) => Output::Version(commands::version::info()),
        Command::Demo(args) => {
            commands::demo::run(args, &ctx).await?;
            Output::Nothing
        }
        Command::Setup(args) => Output::Setup(Box::new(commands::setup::run(args, &ctx).await?)),
        Command::Login(args) => Output::Login(Box::new(commands::login::run(args, &ctx).await?)),
        Command::Logout(args) => Output::Logout(commands::logout::run(args, &ctx).await?),
        Command::Status(args) => {
            let status = commands::status::run(args, &ctx).await?;
            // Signed out is exit 3 either way; a script asking for JSON still gets a document
            // (`"signedIn": false`) to read, a person only the error line.
            if status.signed_out.is_some() {
                if g.format() == cli::OutputFormat::Json {
                    printer.render(&Output::Status(Box::new(status.clone())))?;
                }
                return status.outcome();
            }
            Output::Status(Box::new(status))
        }
        Command::ServeApi(args) => {
            commands::serve_api::run(
                args,
                env,
                g.profile.as_deref(),
                g.config.as_deref(),
                printer,
            )
            .await?;
            Output::Nothing
        }
        Command::Subscriptions(args) => {
            Output::Subscriptions(Box::new(commands::subscriptions::run(args, &ctx).await?))
        }
        Command::Token(args) => Output::Token(Box::new(commands::token::run(args, &ctx).await?)),
        Command::Config(args) => {
            commands::config::run(args, g.profile.as_deref(), g.config.as_deref(), env)?
        }
        Command::DevTenant(args) => {
            commands::dev_tenant::run(args, printer).await?;
            Output::Nothing
        }
    };
    printer.render(&out)
}
