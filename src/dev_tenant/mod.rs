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
mod state;
mod tls;
mod token;
mod tokens;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
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
pub use state::StateDir;

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
    /// Where to write the CA and the API app's certificate; the state directory, or else a
    /// fresh temporary directory, when `None`.
    pub runtime_dir: Option<PathBuf>,
    /// Where keys, refresh tokens, Graph's apps and grants and the address persist.
    pub state_dir: Option<StateDir>,
    /// Require a bearer token (announced as `control_token`) on `/_dev/`.
    pub control_token: bool,
    /// Connections served at once.
    pub max_connections: usize,
}

/// The longest access-token lifetime a knob may set: a day, Entra's own ceiling for
/// configurable token lifetimes.
pub(crate) const MAX_TOKEN_LIFETIME: u64 = 86_400;
/// How far `/_dev/clock` may move the grant clock in all: a hundred years.
pub(crate) const MAX_CLOCK_OFFSET: u64 = 100 * 365 * 86_400;
/// Outstanding authorization codes kept; beyond, the ones closest to expiry go first.
const MAX_CODES: usize = 10_000;
/// Refresh tokens kept; beyond, the ones closest to expiry go first.
const MAX_REFRESH: usize = 100_000;
/// Outstanding device codes; beyond, new ones are refused until some expire.
pub(crate) const MAX_DEVICE_CODES: usize = 10_000;
/// Outstanding device codes one client id may hold, so one flooding client does not lock
/// out the others.
pub(crate) const MAX_DEVICE_CODES_PER_CLIENT: usize = 1_000;
/// Largest request body any endpoint accepts; a larger `Content-Length` is answered at once.
pub(crate) const MAX_BODY: u64 = 64 * 1024;

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
    /// An `expires_in` to announce whatever the tokens' real lifetime: a deliberately wrong
    /// answer, to test how clients take one (any number, 2^64-1 included).
    pub(crate) announce_expires_in: Option<u64>,
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
            announce_expires_in: None,
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
    /// On the tenant clock ([`Tenant::now`]), Unix seconds.
    pub(crate) expires: u64,
    pub(crate) redeemed: bool,
}

/// What a refresh token stands for.
#[derive(Debug, Clone)]
pub(crate) struct RefreshGrant {
    pub(crate) client_id: String,
    pub(crate) user_oid: String,
    pub(crate) mfa: bool,
    /// On the tenant clock ([`Tenant::now`]), Unix seconds.
    pub(crate) expires: u64,
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
    /// On the tenant clock ([`Tenant::now`]), Unix seconds.
    pub(crate) expires: u64,
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

/// Removes the `n` entries of `map` that expire first.
fn evict_soonest<G>(map: &mut HashMap<String, G>, expires: impl Fn(&G) -> u64, n: usize) {
    let mut order: Vec<(u64, String)> = map.iter().map(|(k, g)| (expires(g), k.clone())).collect();
    let n = n.min(order.len());
    if n == 0 {
        return;
    }
    order.select_nth_unstable(n - 1);
    for (_, k) in order.drain(..n) {
        map.remove(&k);
    }
}

impl Grants {
    /// Forgets what has expired on the tenant clock (`now`); true when refresh tokens went.
    pub(crate) fn sweep(&mut self, now: u64) -> bool {
        self.codes.retain(|_, g| g.expires > now);
        self.devices.retain(|_, g| g.expires > now);
        let before = self.refresh.len();
        self.refresh.retain(|_, g| g.expires > now);
        before != self.refresh.len()
    }

    /// Stores an authorization code, making room when the cap is reached: expired codes go,
    /// then the hundredth closest to expiry (a sign-in abandoned before redeeming its code).
    pub(crate) fn insert_code(&mut self, key: String, grant: CodeGrant, now: u64) {
        if self.codes.len() >= MAX_CODES {
            self.codes.retain(|_, g| g.expires > now);
            if self.codes.len() >= MAX_CODES {
                evict_soonest(&mut self.codes, |g| g.expires, MAX_CODES / 100);
            }
        }
        self.codes.insert(key, grant);
    }

    /// Stores a refresh token the same way, bounded by `MAX_REFRESH`.
    pub(crate) fn insert_refresh(&mut self, key: String, grant: RefreshGrant, now: u64) {
        if self.refresh.len() >= MAX_REFRESH {
            self.refresh.retain(|_, g| g.expires > now);
            if self.refresh.len() >= MAX_REFRESH {
                evict_soonest(&mut self.refresh, |g| g.expires, MAX_REFRESH / 100);
            }
        }
        self.refresh.insert(key, grant);
    }

    /// Whether `client_id` may start another device authorization: `Err` names the cap hit.
    /// Device codes are not evicted (a user may be typing one in); they are refused instead.
    pub(crate) fn device_room(&mut self, client_id: &str, now: u64) -> Result<(), usize> {
        if self.devices.len() >= MAX_DEVICE_CODES {
            self.devices.retain(|_, g| g.expires > now);
        }
        if self.devices.len() >= MAX_DEVICE_CODES {
            return Err(MAX_DEVICE_CODES);
        }
        let mine = self
            .devices
            .values()
            .filter(|g| g.client_id == client_id && g.expires > now)
            .count();
        if mine >= MAX_DEVICE_CODES_PER_CLIENT {
            return Err(MAX_DEVICE_CODES_PER_CLIENT);
        }
        Ok(())
    }
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
    /// Seconds `/_dev/clock` moved the grant clock forward.
    clock_offset: Mutex<u64>,
    grants: Mutex<Grants>,
    log: Mutex<log::RequestLog>,
    issued: Mutex<std::collections::HashSet<String>>,
    /// The `Host` values `/_dev/` answers: this listener's loopback names.
    pub(crate) control_hosts: Vec<String>,
    /// The bearer token `/_dev/` requires, with `--control-token`.
    pub(crate) control_token: Option<String>,
    persist: Option<Persistence>,
    /// Something `--state-dir` keeps changed since it was last written.
    dirty: AtomicBool,
}

/// What `--state-dir` needs beyond the live state.
struct Persistence {
    dir: StateDir,
    seed: state::SeedIds,
    listen: SocketAddr,
    api_credential: state::KeyPem,
    tls: Option<state::TlsPem>,
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
        // Graph's apps and grants persist: any change to the directory is worth a write.
        self.touch();
        guard!(self.dir.write())
    }
    pub(crate) fn keys(&self) -> RwLockReadGuard<'_, KeySet> {
        guard!(self.keys.read())
    }
    pub(crate) fn keys_mut(&self) -> RwLockWriteGuard<'_, KeySet> {
        self.touch();
        guard!(self.keys.write())
    }
    /// Marks the persisted state as changed; the housekeeper writes it within a second.
    pub(crate) fn touch(&self) {
        self.dirty.store(true, Ordering::Relaxed);
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

    /// The clock that code, device-code and refresh-token lifetimes are stamped with and
    /// judged by (Unix seconds): real time plus what tests advanced it by, so expiry is
    /// testable without waiting. Wall-clock seconds, so refresh tokens keep their expiry
    /// across a restart.
    pub(crate) fn now(&self) -> u64 {
        tokens::now_secs().saturating_add(*guard!(self.clock_offset.lock()))
    }

    /// Moves the grant clock forward; refused beyond `MAX_CLOCK_OFFSET` in all (`Err` holds
    /// how far it may still move).
    pub(crate) fn advance_clock(&self, secs: u64) -> std::result::Result<(), u64> {
        let mut offset = guard!(self.clock_offset.lock());
        match offset.checked_add(secs) {
            Some(total) if total <= MAX_CLOCK_OFFSET => {
                *offset = total;
                Ok(())
            }
            _ => Err(MAX_CLOCK_OFFSET.saturating_sub(*offset)),
        }
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
        *guard!(self.clock_offset.lock()) = 0;
        *self.grants() = Grants::default();
        *self.dir_mut() = self.initial_dir.clone();
        self.lock_log().clear();
        guard!(self.issued.lock()).clear();
    }

    /// Forgets expired grants.
    fn sweep(&self) {
        let now = self.now();
        if self.grants().sweep(now) {
            self.touch();
        }
    }

    /// What `--state-dir` keeps, as it stands. Each lock is taken and released on its own,
    /// so the snapshot never holds two at once.
    fn snapshot(&self, p: &Persistence) -> state::Persisted {
        let signing_keys: Vec<state::KeyPem> =
            self.keys().keys.iter().map(SigningKey::to_pem).collect();
        let refresh_tokens: Vec<state::RefreshPem> = self
            .grants()
            .refresh
            .iter()
            .map(|(hash, g)| state::RefreshPem {
                hash: hash.clone(),
                client_id: g.client_id.clone(),
                user_oid: g.user_oid.clone(),
                mfa: g.mfa,
                expires: g.expires,
                revoked: g.revoked,
            })
            .collect();
        let mut s = state::Persisted {
            version: state::STATE_VERSION,
            listen: Some(p.listen),
            api_credential: Some(p.api_credential.clone()),
            tls: p.tls.clone(),
            signing_keys,
            refresh_tokens,
            ..state::Persisted::default()
        };
        let dir = self.dir();
        s.tenant_id = Some(dir.tenant_id);
        s.api_client_secret = Some(dir.api_client_secret.clone());
        p.seed.capture(&dir, &mut s);
        s
    }

    /// Writes the state directory when something changed (off the async workers).
    async fn save_if_dirty(self: &Arc<Self>) {
        if self.persist.is_none() || !self.dirty.swap(false, Ordering::Relaxed) {
            return;
        }
        let t = Arc::clone(self);
        let saved = tokio::task::spawn_blocking(move || match &t.persist {
            Some(p) => p.dir.save(&t.snapshot(p)),
            None => Ok(()),
        })
        .await;
        match saved {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                // Try again on the next tick: the directory may be back (a full disk emptied).
                self.touch();
                tracing::warn!("saving the dev tenant's state: {e}");
            }
            Err(e) => tracing::warn!("saving the dev tenant's state stopped: {e}"),
        }
    }

    /// Writes the state now, whatever changed (at start and at shutdown).
    async fn save_now(self: &Arc<Self>) {
        self.touch();
        self.save_if_dirty().await;
    }
}

/// Sweeps expired grants every half minute and writes the state directory within a second
/// of a change, until the tenant is dropped.
async fn housekeeping(tenant: std::sync::Weak<Tenant>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut n: u64 = 0;
    loop {
        tick.tick().await;
        let Some(t) = tenant.upgrade() else { return };
        n = n.wrapping_add(1);
        if n.is_multiple_of(30) {
            t.sweep();
        }
        t.save_if_dirty().await;
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
    /// The bearer token `/_dev/` requires (with `--control-token`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control_token: Option<String>,
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
    tenant: Arc<Tenant>,
    // Holds the CA and credentials on disk until the tenant stops.
    _runtime_dir: Option<tempfile::TempDir>,
}

impl Running {
    /// Serves until `shutdown` resolves, then writes the state directory one last time.
    pub async fn serve(self, shutdown: impl std::future::Future<Output = ()>) {
        let max = self.tenant.options.max_connections.max(1);
        let limits = Limits {
            shutdown_grace: Duration::from_secs(2),
            max_connections: max,
            // It stands in for a cloud service and serves loopback only, where every client
            // shares one address: a per-peer share would throttle a scaled-out serve-api.
            // Slow clients are bounded by the body deadline instead.
            max_connections_per_peer: max,
            ..Limits::default()
        };
        // Written at once, so the address is recorded even if the process is killed early.
        self.tenant.save_now().await;
        let housekeeper = tokio::spawn(housekeeping(Arc::downgrade(&self.tenant)));
        http_server::serve(self.listener, self.router, self.tls, limits, shutdown).await;
        housekeeper.abort();
        self.tenant.save_now().await;
    }
}

/// Binds `addr`; a recorded address that is taken says where it came from.
async fn bind(addr: SocketAddr, recorded_in: Option<&StateDir>) -> Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|e| {
        let err = Error::io(format!("binding `{addr}`"), e);
        match recorded_in {
            Some(dir) if addr.port() != 0 => err.with_hint(format!(
                "`{}` recorded this address; stop the dev tenant using it, or pass `--listen` with another port",
                dir.path().display()
            )),
            _ => err,
        }
    })
}

/// Binds the listener, generates (or, with a state directory, reloads) keys and
/// certificates, and builds the router.
pub async fn start(mut options: Options) -> Result<Running> {
    let state = options.state_dir.take();
    let saved = state.as_ref().map(|s| s.loaded.clone()).unwrap_or_default();
    // Port 0 means "any": with a state directory, the address the previous run had, so the
    // authority in profiles and stored sessions stays right.
    let listen = match saved.listen {
        Some(recorded) if options.listen.port() == 0 && recorded.ip() == options.listen.ip() => {
            recorded
        }
        _ => options.listen,
    };
    let listener = bind(listen, state.as_ref()).await?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::io("reading the bound address", e))?;
    let scheme = if options.tls { "https" } else { "http" };
    let base = format!("{scheme}://{addr}");

    let (runtime_dir, temp) = match (&options.runtime_dir, &state) {
        (Some(p), _) => {
            state::private_dir(p, "--runtime-dir")?;
            (p.clone(), None)
        }
        (None, Some(s)) => (s.path().to_path_buf(), None),
        (None, None) => {
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
        let saved = saved.clone();
        move || -> Result<_> {
            let keys = match KeySet::from_pem(&saved.signing_keys)? {
                Some(k) => k,
                None => KeySet::generate()?,
            };
            let app_key = match &saved.api_credential {
                Some(pem) => SigningKey::from_pem(pem)?,
                None => SigningKey::generate("azobo dev tenant API app credential")?,
            };
            let pki = match (tls, &saved.tls) {
                (false, _) => None,
                (true, Some(t)) if t.ip == ip => Some(tls::LocalPki {
                    ca_pem: t.ca.clone(),
                    chain_pem: t.chain.clone(),
                    key_pem: t.key.clone(),
                }),
                (true, _) => Some(tls::generate(ip)?),
            };
            Ok((keys, app_key, pki))
        }
    })
    .await
    .map_err(|e| Error::failure(format!("key generation stopped: {e}")))??;

    let (app_cert_pem, app_key_pem, api_cert) = app_key.credential_files();
    let cert_path = state::write_private(
        &runtime_dir,
        "api-client-certificate.pem",
        app_cert_pem.as_bytes(),
    )?;
    let key_path =
        state::write_private(&runtime_dir, "api-client-key.pem", app_key_pem.as_bytes())?;

    let (tls_acceptor, ca_file, tls_pem) = match pki {
        Some(pki) => {
            let ca_path = state::write_private(&runtime_dir, "ca.pem", pki.ca_pem.as_bytes())?;
            let acceptor =
                http_server::tls_acceptor(pki.chain_pem.as_bytes(), pki.key_pem.as_bytes())?;
            let pem = state::TlsPem {
                ip: addr.ip(),
                ca: pki.ca_pem,
                chain: pki.chain_pem,
                key: pki.key_pem,
            };
            (
                Some(acceptor),
                Some(ca_path.display().to_string()),
                Some(pem),
            )
        }
        None => (None, None, None),
    };

    let seeded = options.directory.clone();
    let mut dir = seeded.clone();
    let mut grants = Grants::default();
    if state.is_some() {
        state::restore_directory(&mut dir, &saved);
        for r in &saved.refresh_tokens {
            grants.refresh.insert(
                r.hash.clone(),
                RefreshGrant {
                    client_id: r.client_id.clone(),
                    user_oid: r.user_oid.clone(),
                    mfa: r.mfa,
                    expires: r.expires,
                    revoked: r.revoked,
                },
            );
        }
    }
    let control_token = options.control_token.then(|| tokens::random_token(32));
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
        control_token: control_token.clone(),
    };

    let persist = state.map(|dir_handle| Persistence {
        dir: dir_handle,
        seed: state::SeedIds::of(&seeded),
        listen: addr,
        api_credential: app_key.to_pem(),
        tls: tls_pem,
    });
    let port = addr.port();
    let tenant = Arc::new(Tenant {
        base,
        knobs: Mutex::new(Knobs::from_options(&options)),
        clock_offset: Mutex::new(0),
        initial_dir: dir.clone(),
        dir: RwLock::new(dir),
        keys: RwLock::new(keys),
        api_cert,
        grants: Mutex::new(grants),
        log: Mutex::new(log::RequestLog::default()),
        issued: Mutex::new(std::collections::HashSet::new()),
        // The names a browser on this machine would send for this listener; anything else
        // is a DNS-rebinding page that resolved its own name to 127.0.0.1.
        control_hosts: vec![
            format!("127.0.0.1:{port}"),
            format!("localhost:{port}"),
            format!("[::1]:{port}"),
            addr.to_string(),
        ],
        control_token,
        persist,
        dirty: AtomicBool::new(true),
        options,
    });

    Ok(Running {
        info,
        addr,
        listener,
        router: router(Arc::clone(&tenant)),
        tls: tls_acceptor,
        tenant,
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
        .route(
            "/{tenant}/oauth2/v2.0/token",
            post(token::token).get(token::token_get),
        )
        .route("/{tenant}/oauth2/v2.0/devicecode", post(token::device_code))
        .route("/{tenant}/oauth2/v2.0/logout", get(authorize::logout))
        .route(
            "/devicelogin",
            get(authorize::device_page).post(authorize::device_submit),
        )
        .merge(arm::routes())
        .merge(graph::routes())
        .merge(
            control::routes().route_layer(axum::middleware::from_fn_with_state(
                Arc::clone(&tenant),
                control::guard,
            )),
        )
        .fallback(oidc::not_found)
        .layer(axum::middleware::from_fn(body_cap))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&tenant),
            log::record,
        ))
        .with_state(tenant)
}

/// A request whose `Content-Length` is over `MAX_BODY` is answered 413 before a byte of its
/// body is read, in the shape of the API it was sent to; the connection closes after it,
/// since the body was never read.
async fn body_cap(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{HeaderValue, StatusCode, header};
    use axum::response::IntoResponse as _;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_none_or(|n| n <= MAX_BODY) {
        return next.run(req).await;
    }
    let message = format!("The request body is larger than {MAX_BODY} bytes.");
    let path = req.uri().path();
    let mut resp = if path.starts_with("/_dev/") {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            axum::Json(serde_json::json!({"error": message})),
        )
            .into_response()
    } else if path.starts_with("/graph/") || path.starts_with("/arm/") {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            axum::Json(
                serde_json::json!({"error": {"code": "RequestEntityTooLarge", "message": message}}),
            ),
        )
            .into_response()
    } else {
        errors::AadError::new("invalid_request", 90_020, message)
            .with_status(StatusCode::PAYLOAD_TOO_LARGE)
            .into_response_with(&uuid::Uuid::new_v4().to_string())
    };
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(client: &str, expires: u64) -> DeviceGrant {
        DeviceGrant {
            user_code: "ABCDEFGHJ".into(),
            client_id: client.into(),
            scope: "openid".into(),
            expires,
            interval: Duration::from_secs(5),
            last_poll: None,
            status: DeviceStatus::Pending,
        }
    }

    fn code(expires: u64) -> CodeGrant {
        CodeGrant {
            client_id: "c".into(),
            redirect_uri: "http://localhost".into(),
            scope: "openid".into(),
            user_oid: "u".into(),
            nonce: None,
            code_challenge: None,
            mfa: false,
            expires,
            redeemed: false,
        }
    }

    #[test]
    fn device_codes_are_capped_per_client_and_expired_ones_make_room() {
        let mut g = Grants::default();
        for i in 0..MAX_DEVICE_CODES_PER_CLIENT {
            assert!(g.device_room("a", 100).is_ok());
            g.devices.insert(format!("a{i}"), device("a", 200));
        }
        assert_eq!(
            g.device_room("a", 100),
            Err(MAX_DEVICE_CODES_PER_CLIENT),
            "one client's cap"
        );
        assert!(
            g.device_room("b", 100).is_ok(),
            "another client is not locked out"
        );
        assert!(
            g.device_room("a", 200).is_ok(),
            "expired codes do not count"
        );
        assert!(!g.sweep(200));
        assert!(g.devices.is_empty());
    }

    #[test]
    fn codes_stay_bounded_and_the_soonest_to_expire_go_first() {
        let mut g = Grants::default();
        for i in 0..MAX_CODES {
            g.insert_code(format!("k{i}"), code(1_000 + i as u64), 0);
        }
        g.insert_code("new".into(), code(1_000_000), 0);
        assert!(g.codes.len() <= MAX_CODES);
        assert!(g.codes.contains_key("new"));
        assert!(!g.codes.contains_key("k0"), "the oldest went");
        assert!(g.codes.contains_key(&format!("k{}", MAX_CODES - 1)));
    }
}
