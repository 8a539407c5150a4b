//! The dev tenant: a local stand-in for Entra ID (`login.microsoftonline.com`) and Azure Resource
//! Manager that speaks their wire protocol closely enough for MSAL to accept it.
//!
//! One listener serves the identity endpoints under `/{tenant}/…`, ARM under `/arm/…`, a
//! sign-in page for real browsers, and `/_dev/…` control endpoints that let tests inject faults.

mod arm;
mod authorize;
mod consent;
mod control;
mod errors;
mod graph;
mod keys;
mod log;
mod oidc;
mod scopes;
pub mod seed;
mod tls;
mod token;
mod tokens;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::{get, post};
use serde::Serialize;
use tokio::net::TcpListener;

use crate::error::{Error, Result};
use crate::http_server::{self, Limits};
use keys::{KeySet, SigningKey};
use seed::Directory;

/// How the dev tenant is started.
#[derive(Debug, Clone)]
pub struct Options {
    /// Address to bind; port 0 picks a free one.
    pub listen: SocketAddr,
    /// Serve HTTPS with a freshly generated local CA.
    pub tls: bool,
    /// The directory (tenant, apps, users).
    pub directory: Directory,
    /// Sign this user in at once on `/authorize`, without a page.
    pub auto_approve: Option<String>,
    /// Subscriptions per ARM page.
    pub page_size: usize,
    /// Fixed access-token lifetime; Entra's randomised 60–90 minutes when `None`.
    pub token_lifetime: Option<u64>,
    /// Seconds between device-code polls.
    pub device_code_interval: u64,
    /// Where to write the CA and the API app's certificate; a fresh temporary directory when
    /// `None`.
    pub runtime_dir: Option<PathBuf>,
}

/// An injected failure: the next request to its target answers `status`.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub(crate) struct Fault {
    pub(crate) status: u16,
    #[serde(default)]
    pub(crate) retry_after: Option<u64>,
    /// For an ARM 401: a Continuous Access Evaluation challenge with these claims (JSON).
    #[serde(default)]
    pub(crate) claims: Option<String>,
}

/// What tests change at run time. `reset` restores it from `Options`.
#[derive(Debug)]
pub(crate) struct Knobs {
    pub(crate) token_lifetime: Option<u64>,
    pub(crate) next_sign_in_error: Option<String>,
    pub(crate) auto_approve: Option<String>,
    pub(crate) token_faults: VecDeque<Fault>,
    pub(crate) arm_faults: VecDeque<Fault>,
    pub(crate) page_size: usize,
}

impl Knobs {
    fn from_options(o: &Options) -> Self {
        Self {
            token_lifetime: o.token_lifetime,
            next_sign_in_error: None,
            auto_approve: o.auto_approve.clone(),
            token_faults: VecDeque::new(),
            arm_faults: VecDeque::new(),
            page_size: o.page_size,
        }
    }
}

/// An authorization code waiting to be redeemed.
#[derive(Debug, Clone)]
pub(crate) struct CodeGrant {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) scope: String,
    pub(crate) user_oid: String,
    pub(crate) nonce: Option<String>,
    pub(crate) code_challenge: Option<String>,
    pub(crate) mfa: bool,
    pub(crate) expires: Instant,
    pub(crate) redeemed: bool,
}

/// What a refresh token stands for.
#[derive(Debug, Clone)]
pub(crate) struct RefreshGrant {
    pub(crate) client_id: String,
    pub(crate) user_oid: String,
    pub(crate) mfa: bool,
    pub(crate) expires: Instant,
    pub(crate) revoked: bool,
}

/// The state of a device code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DeviceStatus {
    Pending,
    Approved { user_oid: String },
    Declined,
    Redeemed,
}

/// A device authorization in progress.
#[derive(Debug, Clone)]
pub(crate) struct DeviceGrant {
    pub(crate) user_code: String,
    pub(crate) client_id: String,
    pub(crate) scope: String,
    pub(crate) expires: Instant,
    pub(crate) interval: Duration,
    pub(crate) last_poll: Option<Instant>,
    pub(crate) status: DeviceStatus,
}

/// Outstanding grants, keyed by the SHA-256 of the secret that redeems them.
#[derive(Debug, Default)]
pub(crate) struct Grants {
    pub(crate) codes: HashMap<String, CodeGrant>,
    pub(crate) refresh: HashMap<String, RefreshGrant>,
    pub(crate) devices: HashMap<String, DeviceGrant>,
}

/// The API app's certificate credential, for `client_assertion`.
pub(crate) struct AppCertificate {
    pub(crate) x5t: String,
    pub(crate) x5t_s256: String,
    pub(crate) key: jsonwebtoken::DecodingKey,
}

/// The whole emulator's shared state.
pub(crate) struct Tenant {
    pub(crate) base: String,
    pub(crate) options: Options,
    pub(crate) initial_dir: Directory,
    dir: RwLock<Directory>,
    keys: RwLock<KeySet>,
    pub(crate) api_cert: AppCertificate,
    knobs: Mutex<Knobs>,
    clock_offset: Mutex<Duration>,
    grants: Mutex<Grants>,
    log: Mutex<log::RequestLog>,
    issued: Mutex<std::collections::HashSet<String>>,
}

/// Fingerprints kept of issued secrets; beyond this (a load test) new ones are not recorded.
const ISSUED_CAP: usize = 100_000;

// A poisoned lock only means another request panicked mid-update; the emulator's data stays
// usable, so recover the guard instead of failing every later request.
macro_rules! guard {
    ($e:expr) => {
        $e.unwrap_or_else(std::sync::PoisonError::into_inner)
    };
}

impl Tenant {
    pub(crate) fn dir(&self) -> RwLockReadGuard<'_, Directory> {
        guard!(self.dir.read())
    }
    pub(crate) fn dir_mut(&self) -> RwLockWriteGuard<'_, Directory> {
        guard!(self.dir.write())
    }
    pub(crate) fn keys(&self) -> RwLockReadGuard<'_, KeySet> {
        guard!(self.keys.read())
    }
    pub(crate) fn keys_mut(&self) -> RwLockWriteGuard<'_, KeySet> {
        guard!(self.keys.write())
    }
    pub(crate) fn knobs(&self) -> MutexGuard<'_, Knobs> {
        guard!(self.knobs.lock())
    }
    pub(crate) fn grants(&self) -> MutexGuard<'_, Grants> {
        guard!(self.grants.lock())
    }
    pub(crate) fn lock_log(&self) -> MutexGuard<'_, log::RequestLog> {
        guard!(self.log.lock())
    }

    /// The clock that code, device-code and refresh-token lifetimes are judged by: real time
    /// plus what tests advanced it by, so expiry is testable without waiting.
    pub(crate) fn now(&self) -> Instant {
        Instant::now() + *guard!(self.clock_offset.lock())
    }

    /// Moves the grant clock forward.
    pub(crate) fn advance_clock(&self, by: Duration) {
        *guard!(self.clock_offset.lock()) += by;
    }

    /// `{base}/{tid}/v2.0`: the v2 issuer.
    pub(crate) fn issuer_v2(&self, tid: &str) -> String {
        format!("{}/{tid}/v2.0", self.base)
    }

    /// `https://sts.windows.net/{tid}/`: the v1 issuer, Entra's own whatever the host (v1
    /// tokens and v1 metadata name it; nothing is served there).
    // A method beside `issuer_v2`, so callers need not know which of the two ignores the host.
    #[allow(clippy::unused_self)]
    pub(crate) fn issuer_v1(&self, tid: &str) -> String {
        format!("https://sts.windows.net/{tid}/")
    }

    /// Accepts the tenant GUID, the verified domain, `organizations` and `common`.
    pub(crate) fn knows_tenant(&self, t: &str) -> bool {
        let dir = self.dir();
        t.eq_ignore_ascii_case("organizations")
            || t.eq_ignore_ascii_case("common")
            || t.eq_ignore_ascii_case(&dir.tenant_id.to_string())
            || t.eq_ignore_ascii_case(&dir.domain)
    }

    /// Records the SHA-256 of a secret handed out (token, code), so tests can prove no output
    /// ever contains one without the tenant ever revealing them.
    pub(crate) fn record_issued(&self, secret: &str) {
        let mut set = guard!(self.issued.lock());
        if set.len() < ISSUED_CAP {
            set.insert(tokens::grant_key(secret));
        }
    }

    /// The fingerprints of everything issued.
    pub(crate) fn issued(&self) -> Vec<String> {
        guard!(self.issued.lock()).iter().cloned().collect()
    }

    /// Resets grants, knobs, users and the log to their state at start (keys are kept).
    pub(crate) fn reset(&self) {
        *self.knobs() = Knobs::from_options(&self.options);
        *guard!(self.clock_offset.lock()) = Duration::ZERO;
        *self.grants() = Grants::default();
        *self.dir_mut() = self.initial_dir.clone();
        self.lock_log().clear();
        guard!(self.issued.lock()).clear();
    }
}

/// What `azobo dev-tenant` prints on its single line of stdout.
#[derive(Debug, Clone, Serialize)]
pub struct StartupInfo {
    /// The tenant's GUID.
    pub tenant_id: String,
    /// The tenant's domain.
    pub domain: String,
    /// The listener's base URL.
    pub base_url: String,
    /// `{base_url}/{tenant_id}`: what to configure as a tenant-specific authority.
    pub authority: String,
    /// The ARM base URL.
    pub arm_url: String,
    /// The Microsoft Graph base URL (`{graph_url}/v1.0/…`, as `https://graph.microsoft.com`).
    pub graph_url: String,
    /// The public client (CLI) app id.
    pub cli_client_id: String,
    /// The API app id.
    pub api_client_id: String,
    /// The API app's client secret.
    pub api_client_secret: String,
    /// PEM certificate of the API app's certificate credential.
    pub api_client_certificate: String,
    /// PEM private key of that credential (mode 0600).
    pub api_client_key: String,
    /// `api://{api_client_id}/access_as_user`.
    pub api_scope: String,
    /// The subject of the API app's federated credential (issuer: this tenant, audience
    /// `api://AzureADTokenExchange`).
    pub api_federated_subject: String,
    /// The seeded users.
    pub users: Vec<UserInfo>,
    /// PEM of the local CA (with `--tls`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
    /// Base of the control endpoints.
    pub control_url: String,
}

/// A seeded user as announced at start.
#[derive(Debug, Clone, Serialize)]
pub struct UserInfo {
    /// UPN.
    pub username: String,
    /// Object id.
    pub oid: String,
    /// Display name.
    pub name: String,
    /// ARM demands MFA.
    pub mfa_required: bool,
    /// Number of subscriptions.
    pub subscriptions: usize,
}

/// A started dev tenant.
pub struct Running {
    /// What it announces.
    pub info: StartupInfo,
    /// The bound address.
    pub addr: SocketAddr,
    listener: TcpListener,
    router: Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    // Holds the CA and credentials on disk until the tenant stops.
    _runtime_dir: Option<tempfile::TempDir>,
}

impl Running {
    /// Serves until `shutdown` resolves.
    pub async fn serve(self, shutdown: impl std::future::Future<Output = ()>) {
        let defaults = Limits::default();
        let limits = Limits {
            shutdown_grace: Duration::from_secs(2),
            // It stands in for a cloud service and serves loopback only, where every client
            // shares one address: a per-peer share would throttle a scaled-out serve-api.
            max_connections_per_peer: defaults.max_connections,
            ..defaults
        };
        http_server::serve(self.listener, self.router, self.tls, limits, shutdown).await;
    }
}

fn write_private(path: &std::path::Path, contents: &str) -> Result<()> {
    use std::io::Write as _;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .map_err(|e| Error::io(format!("writing `{}`", path.display()), e))?;
    f.write_all(contents.as_bytes())
        .map_err(|e| Error::io(format!("writing `{}`", path.display()), e))
}

/// Binds the listener, generates keys and certificates, and builds the router.
pub async fn start(options: Options) -> Result<Running> {
    let listener = TcpListener::bind(options.listen)
        .await
        .map_err(|e| Error::io(format!("binding `{}`", options.listen), e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::io("reading the bound address", e))?;
    let scheme = if options.tls { "https" } else { "http" };
    let base = format!("{scheme}://{addr}");

    let (runtime_dir, temp) = match &options.runtime_dir {
        Some(p) => {
            std::fs::create_dir_all(p)
                .map_err(|e| Error::io(format!("creating `{}`", p.display()), e))?;
            (p.clone(), None)
        }
        None => {
            let t = tempfile::Builder::new()
                .prefix("azobo-dev-tenant-")
                .tempdir()
                .map_err(|e| Error::io("creating a temporary directory", e))?;
            (t.path().to_path_buf(), Some(t))
        }
    };

    // Key generation is CPU-bound (RSA); keep it off the async workers.
    let (keys, app_key, pki) = tokio::task::spawn_blocking({
        let tls = options.tls;
        let ip = addr.ip();
        move || -> Result<_> {
            let keys = KeySet::generate()?;
            let app_key = SigningKey::generate("azobo dev tenant API app credential")?;
            let pki = if tls { Some(tls::generate(ip)?) } else { None };
            Ok((keys, app_key, pki))
        }
    })
    .await
    .map_err(|e| Error::failure(format!("key generation stopped: {e}")))??;

    let (app_cert_pem, app_key_pem, api_cert) = app_key.credential_files();
    let cert_path = runtime_dir.join("api-client-certificate.pem");
    let key_path = runtime_dir.join("api-client-key.pem");
    write_private(&cert_path, &app_cert_pem)?;
    write_private(&key_path, &app_key_pem)?;

    let (tls_acceptor, ca_file) = match pki {
        Some(pki) => {
            let ca_path = runtime_dir.join("ca.pem");
            write_private(&ca_path, &pki.ca_pem)?;
            let acceptor =
                http_server::tls_acceptor(pki.chain_pem.as_bytes(), pki.key_pem.as_bytes())?;
            (Some(acceptor), Some(ca_path.display().to_string()))
        }
        None => (None, None),
    };

    let dir = options.directory.clone();
    let info = StartupInfo {
        tenant_id: dir.tenant_id.to_string(),
        domain: dir.domain.clone(),
        base_url: base.clone(),
        authority: format!("{base}/{}", dir.tenant_id),
        arm_url: format!("{base}/arm"),
        graph_url: format!("{base}/graph"),
        cli_client_id: dir.cli_client_id.to_string(),
        api_client_id: dir.api_client_id.to_string(),
        api_client_secret: dir.api_client_secret.clone(),
        api_client_certificate: cert_path.display().to_string(),
        api_client_key: key_path.display().to_string(),
        api_scope: format!("api://{}/access_as_user", dir.api_client_id),
        api_federated_subject: seed::FEDERATED_SUBJECT.to_owned(),
        users: dir
            .users
            .iter()
            .map(|u| UserInfo {
                username: u.username.clone(),
                oid: u.oid.to_string(),
                name: u.name.clone(),
                mfa_required: u.mfa_required,
                subscriptions: u.subscriptions.len(),
            })
            .collect(),
        ca_file,
        control_url: format!("{base}/_dev"),
    };

    let tenant = Arc::new(Tenant {
        base,
        knobs: Mutex::new(Knobs::from_options(&options)),
        clock_offset: Mutex::new(Duration::ZERO),
        initial_dir: dir.clone(),
        dir: RwLock::new(dir),
        keys: RwLock::new(keys),
        api_cert,
        grants: Mutex::new(Grants::default()),
        log: Mutex::new(log::RequestLog::default()),
        issued: Mutex::new(std::collections::HashSet::new()),
        options,
    });

    Ok(Running {
        info,
        addr,
        listener,
        router: router(tenant),
        tls: tls_acceptor,
        _runtime_dir: temp,
    })
}

fn router(tenant: Arc<Tenant>) -> Router {
    Router::new()
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(oidc::metadata_v2),
        )
        .route(
            "/{tenant}/.well-known/openid-configuration",
            get(oidc::metadata_v1),
        )
        .route("/{tenant}/discovery/v2.0/keys", get(oidc::jwks))
        .route("/{tenant}/discovery/keys", get(oidc::jwks))
        .route(
            "/{tenant}/discovery/instance",
            get(oidc::instance_discovery),
        )
        .route(
            "/{tenant}/oauth2/v2.0/authorize",
            get(authorize::show).post(authorize::submit),
        )
        .route("/{tenant}/oauth2/v2.0/token", post(token::token))
        .route("/{tenant}/oauth2/v2.0/devicecode", post(token::device_code))
        .route("/{tenant}/oauth2/v2.0/logout", get(authorize::logout))
        .route(
            "/devicelogin",
            get(authorize::device_page).post(authorize::device_submit),
        )
        .merge(arm::routes())
        .merge(graph::routes())
        .merge(control::routes())
        .fallback(oidc::not_found)
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&tenant),
            log::record,
        ))
        .with_state(tenant)
}
