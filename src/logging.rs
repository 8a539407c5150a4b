//! Diagnostics on stderr through `tracing`: `-v` for info, `-vv` for debug, `-vvv` for trace,
//! `-q` for errors only; `AZOBO_LOG` takes an `EnvFilter` expression and wins over both.

use tracing_subscriber::EnvFilter;

use crate::config::Env;
use crate::env_vars;

/// Installs the subscriber; safe to call once per process.
pub fn init(verbose: u8, quiet: bool, env: &Env) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
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
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(verbose >= 2)
        .without_time()
        .try_init();
}
