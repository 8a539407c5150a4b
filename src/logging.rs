//! Diagnostics on stderr through `tracing`: `-v` for info, `-vv` for debug, `-vvv` for trace,
//! `-q` for errors only; `AZOBO_LOG` takes an `EnvFilter` expression and wins over both.
//! Servers (`serve-api`) log at info with timestamps, as text or JSON lines.

use tracing_subscriber::EnvFilter;

use crate::config::Env;
use crate::env_vars;

/// Installs the subscriber; safe to call once per process.
pub fn init(verbose: u8, quiet: bool, env: &Env, server: Option<bool>) {
    // Servers log one line per request at info; CLI commands stay quiet unless asked.
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) if server.is_some() => "info",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        (false, _) => "trace",
    };
    // Dependencies are noisy at debug; keep them one notch quieter unless asked for trace.
    let default = if verbose >= 3 {
        level.to_owned()
    } else {
        format!("{level},hyper=warn,rustls=warn,h2=warn")
    };
    let filter = env
        .get(env_vars::AZOBO_LOG)
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new(default));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && env.get(env_vars::NO_COLOR).is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    let _ = match server {
        Some(true) => builder.json().with_current_span(false).try_init(),
        Some(false) => builder.with_target(verbose >= 2).try_init(),
        None => builder.with_target(verbose >= 2).without_time().try_init(),
    };
}
