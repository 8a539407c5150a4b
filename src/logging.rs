//! Diagnostics on stderr through `tracing`: `-v` for info, `-vv` for debug, `-vvv` for trace,
//! `-q` for errors only; `AZOBO_LOG` takes an `EnvFilter` expression and wins over both.
//! Servers (`serve-api`) log at info with timestamps, as text or JSON lines.

use tracing_subscriber::EnvFilter;

use crate::config::Env;
use crate::env_vars;

/// Keeps a server's log writer running; dropping it writes out what is still queued.
pub type Flush = Option<tracing_appender::non_blocking::WorkerGuard>;

/// True when `--debug` or `AZOBO_DEBUG` (`api`, `1`, `true` or `all`) asks for a line per HTTP
/// call.
pub fn debug_api(flag: bool, env: &Env) -> bool {
    flag || env.get(env_vars::AZOBO_DEBUG).is_some_and(|v| {
        v.split(',')
            .any(|p| ["api", "1", "true", "all"].contains(&p.trim().to_ascii_lowercase().as_str()))
    })
}

/// Installs the subscriber; safe to call once per process. Hold what it returns until exit.
/// `debug_api` adds the line per HTTP call (`--debug`) at any verbosity, even with `-q`.
pub fn init(verbose: u8, quiet: bool, debug_api: bool, env: &Env, server: Option<bool>) -> Flush {
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
    let mut default = if verbose >= 3 {
        level.to_owned()
    } else {
        format!("{level},hyper=warn,rustls=warn,h2=warn")
    };
    if debug_api {
        default.push(',');
        default.push_str(crate::client::http::DEBUG_TARGET);
        default.push_str("=debug");
    }
    let filter = env
        .get(env_vars::AZOBO_LOG)
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new(default));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && env.get(env_vars::NO_COLOR).is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi);
    let Some(json) = server else {
        let _ = builder
            .with_writer(std::io::stderr)
            .with_target(verbose >= 2)
            .without_time()
            .try_init();
        return None;
    };
    // A server logs a line per request: formatted on the request's thread, written by a thread
    // of its own in batches (one write for everything queued), so no request waits on stderr.
    // Nothing is dropped: a full queue (a stalled reader) slows requests down instead.
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        // The queue is allocated whole up front: 4,096 lines is ample for a writer that drains
        // it in batches, where the default (128,000) would cost ~4 MB of every server's memory.
        .buffered_lines_limit(4096)
        .thread_name("azobo-log")
        .finish(std::io::BufWriter::with_capacity(
            64 * 1024,
            std::io::stderr(),
        ));
    let builder = builder.with_writer(writer);
    let _ = if json {
        builder.json().with_current_span(false).try_init()
    } else {
        builder.with_target(verbose >= 2).try_init()
    };
    Some(guard)
}
