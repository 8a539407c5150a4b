//! `azobo dev-tenant`: runs the local Entra ID + ARM emulator until SIGTERM or Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::dev_tenant::{self, Options, StateDir, seed::SeedFile};
use crate::error::{Error, Result};
use crate::http_server;
use crate::output::Printer;

/// Run a local Entra ID + Azure Resource Manager emulator.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
On start it prints one line of JSON on stdout (tenant_id, authority, arm_url, client ids, the API's
secret, users, ca_file, control_url, control_token), then serves until stopped.

Examples:
  azobo dev-tenant
  azobo dev-tenant --state-dir ~/.local/state/azobo-dev-tenant
  azobo dev-tenant --tls --listen 127.0.0.1:8443
  azobo dev-tenant --auto-approve alice@contoso.example --token-lifetime 60
  azobo dev-tenant --state tenant.json --page-size 50")]
pub struct Args {
    /// Loopback address to listen on; port 0 picks a free port (with --state-dir: the port the
    /// previous run had)
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub listen: SocketAddr,

    /// Serve HTTPS with a freshly generated local CA (its PEM path is printed as `ca_file`)
    #[arg(long)]
    pub tls: bool,

    /// JSON file with the tenant, app ids, secret and users to use instead of the built-in ones
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,

    /// Sign this user in at once on /authorize instead of showing the account picker
    #[arg(long, value_name = "USER")]
    pub auto_approve: Option<String>,

    /// Subscriptions per ARM page (nextLink paging beyond it)
    #[arg(long, default_value_t = 100, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub page_size: u16,

    /// Fixed access-token lifetime, at most a day [default: 60-90 minutes, randomised as Entra
    /// ID does]
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub token_lifetime: Option<u64>,

    /// Seconds a device-code client must wait between polls
    #[arg(long, default_value_t = 5, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub device_code_interval: u64,

    /// The API app's accessTokenAcceptedVersion (1 or 2) [default: 2]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=2))]
    pub api_token_version: Option<u8>,

    /// Directory for the CA and the API's certificate, created 0700 [default: the state
    /// directory, else a temporary one removed on exit]
    #[arg(long, value_name = "DIR")]
    pub runtime_dir: Option<PathBuf>,

    /// Keep signing keys, users' refresh tokens, apps and grants made through Graph, and the
    /// listening address across restarts in DIR (created 0700)
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,

    /// Connections served at once; more wait in the kernel's backlog
    #[arg(long, default_value_t = 1024, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub max_connections: u16,

    /// Require `Authorization: Bearer <control_token>` on /_dev/ (a random token, announced
    /// in the startup line)
    #[arg(long)]
    pub control_token: bool,
}

/// Builds the emulator's options from the flags.
pub fn options(args: &Args) -> Result<Options> {
    if !args.listen.ip().is_loopback() {
        return Err(Error::usage(format!(
            "`--listen {}` is not a loopback address; the dev tenant signs tokens for anyone who asks, so it only listens on 127.0.0.1 or [::1]",
            args.listen
        )));
    }
    let (mut seed, origin) = match &args.state {
        Some(p) => (SeedFile::read(p).map_err(state_hint)?, p.clone()),
        None => (SeedFile::default(), PathBuf::from("<built-in seed>")),
    };
    if args.api_token_version.is_some() {
        seed.api_token_version = args.api_token_version;
    }
    let state_dir = args.state_dir.as_deref().map(StateDir::open).transpose()?;
    // A generated API secret is kept too, so serve-api's configuration survives a restart.
    if seed.api_client_secret.is_none() {
        seed.api_client_secret = state_dir.as_ref().and_then(StateDir::api_client_secret);
    }
    let directory = seed.resolve(&origin).map_err(state_hint)?;
    if let Some(s) = &state_dir {
        s.check_tenant(directory.tenant_id)?;
    }
    if let Some(u) = args
        .auto_approve
        .as_deref()
        .filter(|u| directory.user(u).is_none())
    {
        let known: Vec<&str> = directory
            .users
            .iter()
            .map(|u| u.username.as_str())
            .collect();
        return Err(Error::usage(format!(
            "`--auto-approve {u}`: no such user (the tenant has: {})",
            known.join(", ")
        )));
    }
    Ok(Options {
        listen: args.listen,
        tls: args.tls,
        directory,
        auto_approve: args.auto_approve.clone(),
        page_size: usize::from(args.page_size),
        token_lifetime: args.token_lifetime,
        device_code_interval: args.device_code_interval,
        runtime_dir: args.runtime_dir.clone(),
        state_dir,
        control_token: args.control_token,
        max_connections: usize::from(args.max_connections),
    })
}

/// Runs `azobo dev-tenant`: announces itself on stdout, then serves until SIGTERM.
pub async fn run(args: &Args, printer: &Printer) -> Result<()> {
    let running = dev_tenant::start(options(args)?).await?;
    // Listen for SIGTERM before announcing: a supervisor may stop us the moment it reads the line.
    let stop = http_server::terminate_signal();
    printer.json_line(&running.info)?;
    printer.info(&format!(
        "dev tenant listening on {} (tenant {}); stop it with Ctrl-C",
        running.info.base_url, running.info.tenant_id
    ));
    running.serve(stop).await;
    Ok(())
}

/// A `--state` file's errors point at `--state`, not at the configuration file's flags.
fn state_hint(e: Error) -> Error {
    if matches!(e, Error::Config { .. }) {
        e.with_hint("fix the file, or start without `--state` for the built-in tenant")
    } else {
        e
    }
}
