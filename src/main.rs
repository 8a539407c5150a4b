//! Parses the command line, runs it, and turns the outcome into an exit code.

use std::process::ExitCode;

use clap::Parser as _;

use azobo::cli::Cli;
use azobo::config::Env;
use azobo::error::Error;
use azobo::output::Printer;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let env = Env::from_process();
    let server = match &cli.command {
        azobo::cli::Command::ServeApi(a) => {
            Some(a.log_format == azobo::commands::serve_api::LogFormat::Json)
        }
        _ => None,
    };
    azobo::logging::init(cli.global.verbose, cli.global.quiet, &env, server);
    let printer = Printer::new(&cli.global, &env);
    // serve-api drains in-flight requests on Ctrl-C itself; everything else just stops (130).
    let drains_itself = server.is_some();
    let result = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(async {
            if drains_itself {
                return azobo::run(cli, &env, &printer).await;
            }
            tokio::select! {
                r = azobo::run(cli, &env, &printer) => r,
                _ = tokio::signal::ctrl_c() => Err(Error::Interrupted),
            }
        }),
        Err(e) => Err(Error::io("starting the async runtime", e)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            printer.error(&e);
            ExitCode::from(e.exit_code())
        }
    }
}
