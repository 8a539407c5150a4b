//! serve-api's second-level token cache, shared by every instance through Redis: OBO results
//! encrypted under the operator's key, kept until five minutes before they expire, and a short
//! Redis lock so that one instance exchanges while the others wait for its result.
//!
//! Redis is an optimisation, never a dependency: every operation has a short deadline, the first
//! failure marks the cache degraded (a warning, a metric, `/readyz` says so), and until a
//! background ping succeeds again requests skip Redis and work from memory and direct exchanges.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;
use zeroize::Zeroizing;

use super::cache_keys::{CacheKeys, Unreadable};
use super::metrics::Metrics;

/// Deadline of one Redis operation; past it the request goes on without Redis.
const OP_TIMEOUT: Duration = Duration::from_millis(250);
/// A lock outlives a stuck or dead holder by no more than this.
const LOCK_TTL: Duration = Duration::from_secs(10);
/// Longest a request waits for another instance's exchange before exchanging itself.
const LOCK_WAIT: Duration = Duration::from_secs(5);
/// Entries are dropped this long before their token expires.
const MARGIN_SECS: u64 = 300;
/// Largest entry read back (a token is a few KiB).
const MAX_ENTRY: usize = 64 * 1024;
/// Pings while healthy, and the ceiling of the back-off while degraded.
const HEALTHY_PING: Duration = Duration::from_secs(10);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Compare-and-delete: only the holder releases its lock.
const UNLOCK: &str = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/// A cached ARM token as the shared cache holds it.
#[derive(Serialize, Deserialize)]
pub struct Entry {
    /// The bearer token.
    pub access_token: String,
    /// Unix seconds.
    pub expires_on: u64,
}

/// What a lookup found.
pub enum Lookup {
    Hit(Entry),
    Miss,
    /// Redis is degraded or failed this time.
    Unavailable,
}

/// The outcome of asking for the exchange lock.
pub enum Lock {
    /// This instance exchanges; release with this token.
    Acquired(String),
    /// Another instance is exchanging.
    Held,
    Unavailable,
}

/// The shared cache.
pub struct SharedCache {
    conn: ConnectionManager,
    keys: CacheKeys,
    endpoint: String,
    degraded: AtomicBool,
    last_error: Mutex<Option<String>>,
    warned_unreadable: AtomicBool,
    unlock: redis::Script,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `scheme://host:port/db` of a Redis URL, without credentials, for logs and `/readyz`.
pub fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => {
            let host = u.host_str().unwrap_or("");
            let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
            format!("{}://{host}{port}{}", u.scheme(), u.path())
        }
        Err(_) => "<unparsable Redis URL>".to_owned(),
    }
}

/// The entry's name: a hash of who asked for what, never the assertion itself (`digest` is the
/// assertion's SHA-256).
pub fn entry_name(client_id: &str, tenant: &str, digest: &[u8; 32], scope: &str) -> String {
    let assertion_hash = URL_SAFE_NO_PAD.encode(digest);
    let d = sha2::Sha256::digest(
        format!("azobo-obo-v1\n{client_id}\n{tenant}\n{assertion_hash}\n{scope}").as_bytes(),
    );
    format!("azobo:obo:{}", URL_SAFE_NO_PAD.encode(d))
}

/// A Redis error in one short line (they name no credentials; cut all the same).
fn brief(e: &redis::RedisError) -> String {
    crate::output::one_line(&e.to_string())
        .chars()
        .take(200)
        .collect()
}

fn lock_name(entry: &str) -> String {
    format!("{entry}:lock")
}

impl SharedCache {
    /// Validates the URL; connects lazily (a Redis that is down at startup only degrades).
    pub fn new(url: &str, keys: CacheKeys) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|e| {
            format!(
                "`--token-cache {}` is not a Redis URL ({}); use redis://HOST:PORT[/DB] or rediss://",
                redacted(url),
                brief(&e)
            )
        })?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(OP_TIMEOUT))
            .set_number_of_retries(2)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(MAX_BACKOFF);
        let conn = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| format!("setting up the Redis connection: {}", brief(&e)))?;
        Ok(Self {
            conn,
            keys,
            endpoint: redacted(url),
            degraded: AtomicBool::new(false),
            last_error: Mutex::new(None),
            warned_unreadable: AtomicBool::new(false),
            unlock: redis::Script::new(UNLOCK),
        })
    }

    /// Where the cache lives, without credentials.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The writing key's id and how many older keys still read.
    pub fn key_ids(&self) -> (&str, usize) {
        (self.keys.current_id(), self.keys.previous())
    }

    /// `None` when healthy; else what went wrong last.
    pub fn degraded(&self) -> Option<String> {
        if !self.degraded.load(Ordering::Relaxed) {
            return None;
        }
        Some(
            self.last_error
                .lock()
                .ok()
                .and_then(|e| e.clone())
                .unwrap_or_else(|| "unreachable".to_owned()),
        )
    }

    fn failed(&self, op: &'static str, metrics: &Metrics, what: &str) {
        metrics.redis_error(op);
        if let Ok(mut e) = self.last_error.lock() {
            *e = Some(what.to_owned());
        }
        if !self.degraded.swap(true, Ordering::Relaxed) {
            metrics.token_cache_degraded(true);
            tracing::warn!(
                redis = %self.endpoint,
                "the shared token cache failed ({op}: {what}); serving from memory and exchanging directly until it answers again"
            );
        }
    }

    fn recovered(&self, metrics: &Metrics) {
        if self.degraded.swap(false, Ordering::Relaxed) {
            metrics.token_cache_degraded(false);
            tracing::info!(redis = %self.endpoint, "the shared token cache answers again");
        }
    }

    /// Runs one command with the deadline, recording latency and failures. `None` when Redis is
    /// degraded (not tried) or failed.
    async fn run<T: redis::FromRedisValue>(
        &self,
        op: &'static str,
        metrics: &Metrics,
        cmd: impl Into<Command<'_>>,
    ) -> Option<T> {
        if self.degraded.load(Ordering::Relaxed) {
            return None;
        }
        self.attempt(op, metrics, cmd.into()).await
    }

    async fn attempt<T: redis::FromRedisValue>(
        &self,
        op: &'static str,
        metrics: &Metrics,
        cmd: Command<'_>,
    ) -> Option<T> {
        let mut conn = self.conn.clone();
        let started = Instant::now();
        let result = tokio::time::timeout(OP_TIMEOUT, async {
            match cmd {
                Command::One(c) => c.query_async::<T>(&mut conn).await,
                Command::Pipe(p) => p.query_async::<T>(&mut conn).await,
                Command::Script(s) => s.invoke_async::<T>(&mut conn).await,
            }
        })
        .await;
        metrics.redis_latency(op, started.elapsed().as_secs_f64());
        match result {
            Ok(Ok(v)) => Some(v),
            Ok(Err(e)) => {
                self.failed(op, metrics, &brief(&e));
                None
            }
            Err(_) => {
                self.failed(
                    op,
                    metrics,
                    &format!("no answer within {} ms", OP_TIMEOUT.as_millis()),
                );
                None
            }
        }
    }

    fn decode(&self, name: &str, raw: &[u8], metrics: &Metrics) -> Option<Entry> {
        if raw.len() > MAX_ENTRY {
            metrics.token_cache_unreadable();
            return None;
        }
        match self.keys.open(name.as_bytes(), raw) {
            Ok(plain) => {
                let e: Entry = serde_json::from_slice(&plain).ok()?;
                // Nothing outlives its token, whatever the entry says.
                let left = e.expires_on.saturating_sub(unix_now());
                (left > MARGIN_SECS && left <= crate::well_known::MAX_ACCESS_TOKEN_LIFETIME_SECS)
                    .then_some(e)
            }
            Err(why) => {
                metrics.token_cache_unreadable();
                if !self.warned_unreadable.swap(true, Ordering::Relaxed) {
                    let detail = match why {
                        Unreadable::UnknownKey(id) => {
                            format!("written under key id {id}, which this instance does not hold")
                        }
                        Unreadable::Corrupt => "not readable with the key that wrote it".into(),
                    };
                    tracing::warn!(
                        "a shared token cache entry is {detail}; every instance needs the same cache keys (counted in azobo_api_token_cache_unreadable_total; reported once)"
                    );
                }
                None
            }
        }
    }

    /// Looks an entry up.
    pub async fn get(&self, name: &str, metrics: &Metrics) -> Lookup {
        match self
            .run::<Option<Vec<u8>>>("get", metrics, redis::cmd("GET").arg(name).clone())
            .await
        {
            None => Lookup::Unavailable,
            Some(None) => Lookup::Miss,
            Some(Some(raw)) => self
                .decode(name, &raw, metrics)
                .map_or(Lookup::Miss, Lookup::Hit),
        }
    }

    /// Stores an entry until five minutes before its token expires.
    pub async fn put(&self, name: &str, entry: &Entry, metrics: &Metrics) {
        let left = entry.expires_on.saturating_sub(unix_now());
        let Some(ttl) = left.checked_sub(MARGIN_SECS).filter(|t| *t > 0) else {
            return;
        };
        let Ok(plain) = serde_json::to_vec(entry).map(Zeroizing::new) else {
            return;
        };
        let Some(sealed) = self.keys.seal(name.as_bytes(), &plain) else {
            return;
        };
        let cmd = redis::cmd("SET")
            .arg(name)
            .arg(sealed)
            .arg("PX")
            .arg(ttl.saturating_mul(1000))
            .clone();
        let _ = self.run::<()>("set", metrics, cmd).await;
    }

    /// Removes an entry (ARM refused its token).
    pub async fn delete(&self, name: &str, metrics: &Metrics) {
        let _ = self
            .run::<i64>("del", metrics, redis::cmd("DEL").arg(name).clone())
            .await;
    }

    /// Asks for the right to exchange for this entry (`SET NX PX`).
    pub async fn lock(&self, name: &str, metrics: &Metrics) -> Lock {
        let token = uuid::Uuid::new_v4().to_string();
        let cmd = redis::cmd("SET")
            .arg(lock_name(name))
            .arg(&token)
            .arg("NX")
            .arg("PX")
            .arg(u64::try_from(LOCK_TTL.as_millis()).unwrap_or(10_000))
            .clone();
        match self.run::<Option<String>>("lock", metrics, cmd).await {
            None => Lock::Unavailable,
            Some(Some(_)) => Lock::Acquired(token),
            Some(None) => Lock::Held,
        }
    }

    /// Releases the lock if this instance still holds it.
    pub async fn unlock(&self, name: &str, token: &str, metrics: &Metrics) {
        let mut inv = self.unlock.prepare_invoke();
        inv.key(lock_name(name)).arg(token);
        let _ = self.run::<i64>("unlock", metrics, &inv).await;
    }

    /// Waits (bounded) for the holder of the lock to store the entry. `None`: the lock went away
    /// without a value, the wait ran out, or Redis failed — the caller exchanges itself.
    pub async fn wait_for(&self, name: &str, metrics: &Metrics) -> Option<Entry> {
        let started = Instant::now();
        let mut pause = Duration::from_millis(5);
        let outcome = loop {
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(100));
            // The lock before the value: the holder stores the value before it lets go, so a
            // lock seen gone means the value read next is there if the holder got one. (Other
            // clients' commands may run between the two.)
            let pipe = redis::pipe()
                .cmd("EXISTS")
                .arg(lock_name(name))
                .cmd("GET")
                .arg(name)
                .clone();
            match self
                .run::<(bool, Option<Vec<u8>>)>("wait", metrics, pipe)
                .await
            {
                None => break ("redis_failed", None),
                Some((_, Some(raw))) => break ("value", self.decode(name, &raw, metrics)),
                Some((false, None)) => break ("released", None),
                Some((true, None)) if started.elapsed() >= LOCK_WAIT => break ("timeout", None),
                Some((true, None)) => {}
            }
        };
        metrics.lock_wait(outcome.0, started.elapsed().as_secs_f64());
        outcome.1
    }

    /// Pings Redis until the process ends: often while degraded (with back-off), rarely when
    /// healthy. This is what brings a degraded cache back.
    pub fn spawn_watcher(self: &Arc<Self>, metrics: Arc<Metrics>) -> tokio::task::JoinHandle<()> {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let mut backoff = Duration::from_millis(250);
            loop {
                let ok = this
                    .attempt::<String>("ping", &metrics, redis::cmd("PING").clone().into())
                    .await
                    .is_some();
                if ok {
                    this.recovered(&metrics);
                    backoff = Duration::from_millis(250);
                    tokio::time::sleep(HEALTHY_PING).await;
                } else {
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        })
    }
}

/// What `run` sends.
enum Command<'a> {
    One(redis::Cmd),
    Pipe(redis::Pipeline),
    Script(&'a redis::ScriptInvocation<'a>),
}

impl From<redis::Cmd> for Command<'_> {
    fn from(c: redis::Cmd) -> Self {
        Command::One(c)
    }
}

impl From<redis::Pipeline> for Command<'_> {
    fn from(p: redis::Pipeline) -> Self {
        Command::Pipe(p)
    }
}

impl<'a> From<&'a redis::ScriptInvocation<'a>> for Command<'a> {
    fn from(s: &'a redis::ScriptInvocation<'a>) -> Self {
        Command::Script(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_hide_the_assertion_and_separate_clients_tenants_and_scopes() {
        let d: [u8; 32] = sha2::Sha256::digest(b"eyJhbGciOi.secret.sig").into();
        let other: [u8; 32] = sha2::Sha256::digest(b"other").into();
        let n = entry_name("c", "t", &d, "s");
        assert!(n.starts_with("azobo:obo:") && !n.contains("secret"));
        assert_ne!(n, entry_name("c2", "t", &d, "s"));
        assert_ne!(n, entry_name("c", "t2", &d, "s"));
        assert_ne!(n, entry_name("c", "t", &d, "s2"));
        assert_ne!(n, entry_name("c", "t", &other, "s"));
    }

    #[test]
    fn logs_never_see_redis_credentials() {
        assert_eq!(
            redacted("redis://:hunter2@cache.internal:6380/2"),
            "redis://cache.internal:6380/2"
        );
        assert_eq!(
            redacted("rediss://user:pw@cache.internal/"),
            "rediss://cache.internal/"
        );
        assert_eq!(redacted("not a url"), "<unparsable Redis URL>");
    }
}
