//! Parses the command line, runs it, and turns the outcome into an exit code.

use std::process::ExitCode;

use clap::Parser as _;

use azobo::cli::Cli;
use azobo::config::Env;
use azobo::error::Error;
use azobo::output::Printer;

fn main() -> ExitCode {
    // `COMPLETE=bash azobo -- azobo --profile <TAB>`: the shell asks for candidates; answer and exit.
    clap_complete::CompleteEnv::with_factory(azobo::cli::command).complete();
    // The store's cross-process check re-runs this binary; it is no user command.
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == azobo::store::probe::CHECK_COMMAND)
    {
        return check_store();
    }
    let cli = Cli::parse_args();
    let env = Env::from_process();
    let server = match &cli.command {
        azobo::cli::Command::ServeApi(a) => {
            Some(a.log_format == azobo::commands::serve_api::LogFormat::Json)
        }
        _ => None,
    };
    let debug_api = azobo::logging::debug_api(cli.global.debug, &env);
    let _flush_logs = azobo::logging::init(
        cli.global.verbose,
        cli.global.quiet,
        debug_api,
        &env,
        server,
    );
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

fn check_store() -> ExitCode {
    let args = azobo::commands::check_store::Args::parse_from(std::env::args_os().skip(1));
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the async runtime", e))
        .and_then(|rt| rt.block_on(azobo::commands::check_store::run(&args)));
    let printer = Printer::with(azobo::cli::OutputFormat::Tsv, false, false);
    match result.and_then(|line| printer.raw(&line)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            printer.error(&e);
            ExitCode::from(e.exit_code())
        }
    }
}
