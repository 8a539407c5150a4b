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

/// Runs one parsed command line. An error's next step is made to fit where it happened: never
/// the command that just failed, with `--profile` when the profile is not the default.
pub async fn run(cli: Cli, env: &Env, printer: &Printer) -> Result<()> {
    let profile = config::profile_name(cli.global.profile.as_deref(), env);
    let command = command_name(&cli.command);
    run_command(cli, env, printer)
        .await
        .map_err(|e| e.in_context(command, &profile))
}

/// The command's name as typed.
fn command_name(command: &Command) -> &'static str {
    match command {
        Command::Demo(_) => "demo",
        Command::Setup(_) => "setup",
        Command::Login(_) => "login",
        Command::Subscriptions(_) => "subscriptions",
        Command::Status(_) => "status",
        Command::Token(_) => "token",
        Command::Logout(_) => "logout",
        Command::ServeApi(_) => "serve-api",
        Command::DevTenant(_) => "dev-tenant",
        Command::Config(_) => "config",
        Command::Completions(_) => "completions",
        Command::Man(_) => "man",
        Command::Version(_) => "version",
    }
}

async fn run_command(cli: Cli, env: &Env, printer: &Printer) -> Result<()> {
    let g = &cli.global;
    // A bad `--query` is a usage error before anything happens, not after a sign-in.
    if let Some(q) = &g.query {
        query::compile(q)?;
    }
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
            // Signed out is exit 3 either way; a script asking for a document still gets one
            // (`"signedIn": false`) to read, a person at the table only the error line.
            if status.signed_out.is_some() {
                if g.format() != cli::OutputFormat::Table || g.query.is_some() {
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
        Command::Config(args) => commands::config::run(
            args,
            &commands::config::Where {
                profile: g.profile.as_deref(),
                config_file: g.config.as_deref(),
                env,
            },
            printer,
        )?,
        Command::DevTenant(args) => {
            commands::dev_tenant::run(args, printer).await?;
            Output::Nothing
        }
    };
    printer.render(&out)
}
