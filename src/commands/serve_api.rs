//! `azobo serve-api`: runs the protected API until SIGTERM or Ctrl-C, then drains in-flight
//! requests.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::api::settings::{FileSettings, Given, resolve};
use crate::api::shared_cache::SharedCache;
use crate::api::{AppState, router};
use crate::config::{self, Env};
use crate::error::{Error, Result};
use crate::http_server::{self, Limits};
use crate::output::Printer;

/// How access logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One human-readable line per request
    Human,
    /// One JSON object per line
    Json,
}

/// Run the protected API: validate tokens, exchange them On-Behalf-Of the user, list ARM subscriptions.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
The client secret is never taken on the command line: use AZOBO_API_CLIENT_SECRET or
--client-secret-file, a certificate, or a federated token (AZURE_FEDERATED_TOKEN_FILE).

Examples:
  AZOBO_API_CLIENT_SECRET=… azobo serve-api --tenant contoso.onmicrosoft.com --client-id 2222…
  azobo serve-api --listen 0.0.0.0:8443 --tls-cert cert.pem --tls-key key.pem --client-certificate api.pem
  azobo serve-api --tenant organizations --allowed-tenants '*' --log-format json")]
pub struct Args {
    /// Address to listen on [default: 127.0.0.1:5000]
    #[arg(long, env = "AZOBO_API_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,
    /// National cloud: AzureCloud, AzureUSGovernment, AzureChinaCloud [default: AzureCloud]
    #[arg(long, env = "AZOBO_API_CLOUD", value_name = "CLOUD")]
    pub cloud: Option<String>,
    /// Identity platform base URL (overrides the cloud's)
    #[arg(long, env = "AZOBO_API_AUTHORITY", value_name = "URL")]
    pub authority: Option<String>,
    /// The API's tenant (GUID or domain; organizations/common with --allowed-tenants)
    #[arg(long, env = "AZOBO_API_TENANT", value_name = "TENANT")]
    pub tenant: Option<String>,
    /// The API app registration's client id
    #[arg(long, env = "AZOBO_API_CLIENT_ID", value_name = "GUID")]
    pub client_id: Option<String>,
    /// Accepted audience (repeatable) [default: CLIENT_ID and api://CLIENT_ID]
    #[arg(
        long = "audience",
        env = "AZOBO_API_AUDIENCES",
        value_delimiter = ',',
        value_name = "AUD"
    )]
    pub audiences: Vec<String>,
    /// Delegated scope every token must carry [default: access_as_user]
    #[arg(long, env = "AZOBO_API_REQUIRED_SCOPE", value_name = "SCOPE")]
    pub required_scope: Option<String>,
    /// Tenants whose users may call, comma-separated, or * [default: the API's own tenant]
    #[arg(
        long,
        env = "AZOBO_API_ALLOWED_TENANTS",
        value_delimiter = ',',
        value_name = "IDS"
    )]
    pub allowed_tenants: Vec<String>,
    /// Accepted token versions: 1, 2 or 1,2 [default: 1,2]
    #[arg(
        long,
        env = "AZOBO_API_TOKEN_VERSIONS",
        value_delimiter = ',',
        value_name = "V"
    )]
    pub token_versions: Vec<u8>,
    /// Azure Resource Manager base URL (overrides the cloud's)
    #[arg(long, env = "AZOBO_API_ARM_URL", value_name = "URL")]
    pub arm_url: Option<String>,
    /// ARM api-version for GET /subscriptions [default: 2022-12-01]
    #[arg(long, env = "AZOBO_API_ARM_API_VERSION", value_name = "VERSION")]
    pub arm_api_version: Option<String>,
    /// Least seconds between key refetches an unknown `kid` triggers (1 to 300) [default: 30]
    #[arg(long, env = "AZOBO_API_JWKS_REFETCH_FLOOR", value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=300))]
    pub jwks_refetch_floor: Option<u64>,
    /// Scope requested On-Behalf-Of the user [default: the cloud's ARM user_impersonation]
    #[arg(long, env = "AZOBO_API_ARM_SCOPE", value_name = "SCOPE")]
    pub arm_scope: Option<String>,
    /// File holding the client secret (or set AZOBO_API_CLIENT_SECRET)
    #[arg(long, env = "AZOBO_API_CLIENT_SECRET_FILE", value_name = "PATH")]
    pub client_secret_file: Option<PathBuf>,
    /// PEM with the app's certificate (and its key, unless --client-certificate-key)
    #[arg(long, env = "AZOBO_API_CLIENT_CERTIFICATE", value_name = "PEM")]
    pub client_certificate: Option<PathBuf>,
    /// PEM with the certificate's RSA private key
    #[arg(long, env = "AZOBO_API_CLIENT_CERTIFICATE_KEY", value_name = "PEM")]
    pub client_certificate_key: Option<PathBuf>,
    /// Serve HTTPS with this certificate chain (PEM)
    #[arg(long, env = "AZOBO_API_TLS_CERT", value_name = "PEM")]
    pub tls_cert: Option<PathBuf>,
    /// The TLS private key (PEM)
    #[arg(long, env = "AZOBO_API_TLS_KEY", value_name = "PEM")]
    pub tls_key: Option<PathBuf>,
    /// Access log format
    #[arg(long, env = "AZOBO_API_LOG_FORMAT", value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,
    /// Serve /metrics on this address instead (an internal listener; the public one then has none)
    #[arg(long, env = "AZOBO_API_METRICS_LISTEN", value_name = "ADDR")]
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// Connections served at once
    #[arg(long, default_value_t = 1024, value_name = "N")]
    pub max_connections: usize,
    /// Connections one peer address may hold [default: a quarter of --max-connections; behind a load balancer, raise it to --max-connections]
    #[arg(long, value_name = "N")]
    pub max_connections_per_peer: Option<usize>,
    /// Shared token cache: memory (this process only) or redis://HOST:PORT[/DB], rediss:// for TLS [default: memory]
    #[arg(
        long,
        env = "AZOBO_API_TOKEN_CACHE",
        value_name = "URL",
        hide_env_values = true
    )]
    pub token_cache: Option<String>,
    /// File with the shared cache's keys, base64, one per line: the first encrypts, the others only decrypt (or set AZOBO_API_CACHE_KEY)
    #[arg(long, env = "AZOBO_API_CACHE_KEY_FILE", value_name = "PATH")]
    pub cache_key_file: Option<PathBuf>,
}

/// Runs `azobo serve-api` until SIGTERM or Ctrl-C.
pub async fn run(
    args: &Args,
    env: &Env,
    profile: Option<&str>,
    config_file: Option<&std::path::Path>,
    printer: &Printer,
) -> Result<()> {
    let _ = profile;
    let (path, explicit) = config::config_path(config_file, env)?;
    let text = config::read_config_text(&path, explicit)?;
    let file = FileSettings::from_config_text(&path, text.as_deref())?;
    let given = Given {
        listen: args.listen.clone(),
        cloud: args.cloud.clone(),
        authority: args.authority.clone(),
        tenant: args.tenant.clone(),
        client_id: args.client_id.clone(),
        audiences: args.audiences.clone(),
        required_scope: args.required_scope.clone(),
        allowed_tenants: args.allowed_tenants.clone(),
        token_versions: args.token_versions.clone(),
        arm_url: args.arm_url.clone(),
        arm_api_version: args.arm_api_version.clone(),
        jwks_refetch_floor: args.jwks_refetch_floor,
        arm_scope: args.arm_scope.clone(),
        client_secret: env
            .get(crate::env_vars::AZOBO_API_CLIENT_SECRET)
            .map(str::to_owned),
        client_secret_file: args.client_secret_file.clone(),
        client_certificate: args.client_certificate.clone(),
        client_certificate_key: args.client_certificate_key.clone(),
        federated_token_file: env
            .get(crate::env_vars::AZURE_FEDERATED_TOKEN_FILE)
            .map(PathBuf::from),
        tls_cert: args.tls_cert.clone(),
        tls_key: args.tls_key.clone(),
        token_cache: args.token_cache.clone(),
        cache_key: env
            .get(crate::env_vars::AZOBO_API_CACHE_KEY)
            .map(str::to_owned),
        cache_key_file: args.cache_key_file.clone(),
    };
    let mut settings = resolve(given, file)?;
    let tls = match &settings.tls {
        Some((cert, key)) => {
            let c = std::fs::read(cert).map_err(|e| {
                Error::usage(format!("reading `--tls-cert {}`: {e}", cert.display()))
            })?;
            let k = std::fs::read(key)
                .map_err(|e| Error::usage(format!("reading `--tls-key {}`: {e}", key.display())))?;
            Some(http_server::tls_acceptor(&c, &k)?)
        }
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|e| Error::io(format!("binding `{}`", settings.listen), e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::io("reading the bound address", e))?;
    let metrics_listener = match args.metrics_listen {
        Some(a) => Some(
            tokio::net::TcpListener::bind(a)
                .await
                .map_err(|e| Error::io(format!("binding `--metrics-listen {a}`"), e))?,
        ),
        None => None,
    };
    let metrics_addr = match &metrics_listener {
        Some(l) => Some(
            l.local_addr()
                .map_err(|e| Error::io("reading the metrics listener's address", e))?,
        ),
        None => None,
    };
    let http = crate::client::http::client(env)?;
    // The keys move into the cache; the settings keep no copy.
    let shared = match settings.shared_cache.take() {
        Some(c) => Some(Arc::new(
            SharedCache::new(&c.url, c.keys).map_err(Error::usage)?,
        )),
        None => None,
    };
    let state = Arc::new(AppState::new(settings, http, shared));
    let refresher = state.keys.spawn_refresher();
    let watcher = state.obo.shared().map(|s| {
        let (id, previous) = s.key_ids();
        tracing::info!(
            redis = s.endpoint(),
            key_id = id,
            previous_keys = previous,
            "OBO results are cached in memory and, encrypted, in Redis"
        );
        s.spawn_watcher(Arc::clone(&state.metrics))
    });
    // Listen for signals before announcing: a supervisor may stop us the moment it reads the line.
    let stop = http_server::shutdown_signal();
    let scheme = if tls.is_some() { "https" } else { "http" };
    let mut line = serde_json::json!({"listening": format!("{scheme}://{addr}")});
    if let Some(m) = metrics_addr {
        line["metrics"] = serde_json::json!(format!("http://{m}/metrics"));
    }
    printer.json_line(&line)?;
    tracing::info!("serve-api listening on {scheme}://{addr}");
    let limits = Limits {
        max_connections: args.max_connections,
        // A quarter each by default: one peer never takes every slot. Behind a load balancer
        // every connection comes from it, so the operator raises this.
        max_connections_per_peer: args
            .max_connections_per_peer
            .unwrap_or(args.max_connections / 4)
            .clamp(1, args.max_connections.max(1)),
        header_read_timeout: Duration::from_secs(10),
        max_header_bytes: 16 * 1024,
        shutdown_grace: Duration::from_secs(20),
        ..Limits::default()
    };
    // Scrapes are few and come from inside: a small listener of their own, when asked for.
    let internal = metrics_listener.map(|l| {
        tokio::spawn(http_server::serve(
            l,
            crate::api::metrics_router(Arc::clone(&state)),
            None,
            Limits {
                max_connections: 16,
                ..Limits::default()
            },
            std::future::pending(),
        ))
    });
    let public = router(state, internal.is_none());
    http_server::serve(listener, public, tls, limits, stop).await;
    if let Some(m) = internal {
        m.abort();
    }
    refresher.abort();
    if let Some(w) = watcher {
        w.abort();
    }
    tracing::info!("serve-api stopped");
    Ok(())
}
