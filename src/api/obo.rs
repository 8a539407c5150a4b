//! The On-Behalf-Of exchange: the caller's token for an ARM token, at the token endpoint of the
//! caller's own tenant. Results are cached in two layers until five minutes before they expire:
//! this process's memory (L1, bounded, moka, keyed by a hash of the assertion's SHA-256 and the scope) and, when
//! configured, Redis shared by every instance (L2, encrypted). Concurrent requests share one
//! exchange: in a process through the L1's single flight, across instances through a Redis
//! lock. Failures are classified by AADSTS code.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use moka::Expiry;
use serde::Deserialize;
use serde_json::json;
use sha2::Digest as _;

use super::auth::Caller;
use super::error::ApiError;
use super::metrics::Metrics;
use super::settings::{Credential, Settings};
use super::shared_cache::{self, Entry, Lock, Lookup, SharedCache};
use crate::client::entra::{EntraError, source_chain};

/// The `claims` request parameter that declares the `cp1` client capability.
const CP1_CLAIMS: &str = r#"{"access_token":{"xms_cc":{"values":["cp1"]}}}"#;

/// Cached tokens are dropped this long before they expire.
const MARGIN: Duration = Duration::from_secs(300);
/// Most entries kept.
const CAPACITY: u64 = 50_000;
/// The error code of an exchange answered with an impossible `expires_in`.
const BAD_LIFETIME: &str = "idp_invalid_token_lifetime";
/// Time one exchange may take.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(15);

/// An ARM access token.
pub struct ArmToken {
    /// The bearer token.
    pub secret: String,
    expires_at: Instant,
    /// Unix seconds, for the shared cache.
    expires_on: u64,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl ArmToken {
    /// A token that lives `lifetime` from `now` (bounded: the lifetime comes from the network).
    fn new(secret: String, now: Instant, lifetime: Duration) -> Self {
        let lifetime = lifetime.min(Duration::from_secs(
            crate::well_known::MAX_ACCESS_TOKEN_LIFETIME_SECS,
        ));
        Self {
            secret,
            expires_at: now.checked_add(lifetime).unwrap_or(now),
            expires_on: unix_now().saturating_add(lifetime.as_secs()),
        }
    }

    fn from_entry(e: Entry) -> Self {
        let left = e.expires_on.saturating_sub(unix_now());
        Self::new(e.access_token, Instant::now(), Duration::from_secs(left))
    }

    fn to_entry(&self) -> Entry {
        Entry {
            access_token: self.secret.clone(),
            expires_on: self.expires_on,
        }
    }
}

struct UntilExpiry;

impl Expiry<[u8; 32], Arc<ArmToken>> for UntilExpiry {
    fn expire_after_create(
        &self,
        _key: &[u8; 32],
        value: &Arc<ArmToken>,
        created_at: Instant,
    ) -> Option<Duration> {
        Some(
            value
                .expires_at
                .saturating_duration_since(created_at)
                .saturating_sub(MARGIN),
        )
    }
}

/// The caller's entry in the shared cache.
fn shared_name(settings: &Settings, caller: &Caller) -> String {
    shared_cache::entry_name(
        &settings.client_id,
        &caller.tid,
        &caller.digest,
        &settings.arm_scope,
    )
}

/// The exchanger and its caches.
pub struct Obo {
    http: reqwest::Client,
    cache: moka::future::Cache<[u8; 32], Arc<ArmToken>>,
    shared: Option<Arc<SharedCache>>,
}

#[derive(Deserialize)]
struct TokenOk {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// The L1 key: the scope and the assertion's SHA-256 (authentication hashed the assertion).
fn key(digest: &[u8; 32], scope: &str) -> [u8; 32] {
    sha2::Sha256::new()
        .chain_update(scope.as_bytes())
        .chain_update(b"\n")
        .chain_update(digest)
        .finalize()
        .into()
}

impl Obo {
    /// A new exchanger, with a shared second-level cache or without.
    pub fn new(http: reqwest::Client, shared: Option<Arc<SharedCache>>) -> Self {
        Self {
            http,
            cache: moka::future::Cache::builder()
                .max_capacity(CAPACITY)
                .expire_after(UntilExpiry)
                .build(),
            shared,
        }
    }

    /// The shared cache, if configured.
    pub fn shared(&self) -> Option<&Arc<SharedCache>> {
        self.shared.as_ref()
    }

    /// An ARM token for the caller, from the cache or one shared exchange.
    pub async fn arm_token(
        &self,
        settings: &Settings,
        metrics: &Metrics,
        caller: &Caller,
        correlation_id: &str,
    ) -> Result<Arc<ArmToken>, ApiError> {
        let k = key(&caller.digest, &settings.arm_scope);
        if let Some(t) = self.cache.get(&k).await {
            metrics.obo_hit("l1");
            return Ok(t);
        }
        let filled_here = std::sync::atomic::AtomicBool::new(false);
        let result = self
            .cache
            .try_get_with(k, async {
                filled_here.store(true, std::sync::atomic::Ordering::Relaxed);
                self.fill(settings, metrics, caller, correlation_id)
                    .await
                    .map(Arc::new)
            })
            .await;
        // A request that joined another's lookup in flight was served by this process's cache.
        if result.is_ok() && !filled_here.load(std::sync::atomic::Ordering::Relaxed) {
            metrics.obo_hit("l1");
        }
        result.map_err(|e: Arc<ApiError>| {
            let kind = match e.as_ref() {
                ApiError::Unavailable(_) => "idp_unavailable",
                ApiError::Timeout(_) => "idp_timeout",
                ApiError::ServerCredential(_) => "idp_credential_rejected",
                ApiError::BadGateway { code, .. } if code == BAD_LIFETIME => "idp_bad_answer",
                _ => "obo_refused",
            };
            metrics.upstream_error(kind);
            (*e).clone()
        })
    }

    /// An L1 miss: the shared cache, else one exchange — by this instance if it takes the
    /// Redis lock (or Redis is out), else by whichever instance holds it, waited for (bounded).
    async fn fill(
        &self,
        settings: &Settings,
        metrics: &Metrics,
        caller: &Caller,
        correlation_id: &str,
    ) -> Result<ArmToken, ApiError> {
        let Some(shared) = &self.shared else {
            return self
                .exchange_counted(settings, metrics, caller, correlation_id)
                .await;
        };
        let name = shared_name(settings, caller);
        if let Lookup::Hit(e) = shared.get(&name, metrics).await {
            metrics.obo_hit("l2");
            return Ok(ArmToken::from_entry(e));
        }
        let lock = shared.lock(&name, metrics).await;
        match &lock {
            Lock::Held => {
                if let Some(e) = shared.wait_for(&name, metrics).await {
                    metrics.obo_hit("l2");
                    return Ok(ArmToken::from_entry(e));
                }
            }
            // The previous holder may have stored the value and let go between this instance's
            // lookup and its lock: look once more before exchanging.
            Lock::Acquired(token) => {
                if let Lookup::Hit(e) = shared.get(&name, metrics).await {
                    shared.unlock(&name, token, metrics).await;
                    metrics.obo_hit("l2");
                    return Ok(ArmToken::from_entry(e));
                }
            }
            Lock::Unavailable => {}
        }
        let result = self
            .exchange_counted(settings, metrics, caller, correlation_id)
            .await;
        if let Ok(t) = &result {
            shared.put(&name, &t.to_entry(), metrics).await;
        }
        if let Lock::Acquired(token) = lock {
            shared.unlock(&name, &token, metrics).await;
        }
        result
    }

    async fn exchange_counted(
        &self,
        settings: &Settings,
        metrics: &Metrics,
        caller: &Caller,
        correlation_id: &str,
    ) -> Result<ArmToken, ApiError> {
        metrics.obo_miss();
        let result = self
            .exchange(settings, &caller.assertion, &caller.tid, correlation_id)
            .await;
        metrics.obo_exchange(if result.is_ok() { "ok" } else { "error" });
        result
    }

    /// Drops the cached ARM token of this caller from every layer (ARM refused it).
    pub async fn forget(&self, settings: &Settings, metrics: &Metrics, caller: &Caller) {
        self.cache
            .invalidate(&key(&caller.digest, &settings.arm_scope))
            .await;
        if let Some(shared) = &self.shared {
            shared.delete(&shared_name(settings, caller), metrics).await;
        }
    }

    fn client_assertion(
        settings: &Settings,
        token_endpoint: &str,
        key: &jsonwebtoken::EncodingKey,
        x5t_s256: &str,
    ) -> Result<String, ApiError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.x5t_s256 = Some(x5t_s256.to_owned());
        let claims = json!({
            "aud": token_endpoint, "iss": settings.client_id, "sub": settings.client_id,
            "jti": uuid::Uuid::new_v4().to_string(), "nbf": now, "iat": now, "exp": now + 600,
        });
        jsonwebtoken::encode(&header, &claims, key).map_err(|e| {
            ApiError::ServerCredential(format!("signing the client assertion failed: {e}"))
        })
    }

    async fn exchange(
        &self,
        settings: &Settings,
        assertion: &str,
        tid: &str,
        correlation_id: &str,
    ) -> Result<ArmToken, ApiError> {
        // The exchange goes to the caller's own tenant.
        let token_endpoint = format!("{}/oauth2/v2.0/token", settings.tenant_authority(tid));
        let mut form: Vec<(&str, String)> = vec![
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:jwt-bearer".into(),
            ),
            ("requested_token_use", "on_behalf_of".into()),
            // Client capability `cp1`: this API handles Continuous Access Evaluation challenges,
            // so ARM may send them (and Entra may issue longer-lived, revocable tokens).
            ("claims", CP1_CLAIMS.into()),
            ("client_id", settings.client_id.clone()),
            ("assertion", assertion.to_owned()),
            ("scope", settings.arm_scope.clone()),
        ];
        match &settings.credential {
            Credential::Secret(s) => form.push(("client_secret", s.clone())),
            Credential::Certificate { key, x5t_s256 } => {
                form.push((
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
                ));
                form.push((
                    "client_assertion",
                    Self::client_assertion(settings, &token_endpoint, key, x5t_s256)?,
                ));
            }
            Credential::Federated(path) => {
                let t = std::fs::read_to_string(path).map_err(|e| {
                    ApiError::ServerCredential(format!("reading the federated token file: {e}"))
                })?;
                form.push((
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
                ));
                form.push(("client_assertion", t.trim().to_owned()));
            }
        }
        let started = Instant::now();
        let resp = self
            .http
            .post(&token_endpoint)
            .header("client-request-id", correlation_id)
            .header("return-client-request-id", "true")
            .timeout(EXCHANGE_TIMEOUT)
            .form(&form)
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    ApiError::Timeout(format!(
                        "the identity platform did not answer within {} s",
                        EXCHANGE_TIMEOUT.as_secs()
                    ))
                } else {
                    tracing::warn!(correlation_id, "OBO exchange: {}", source_chain(&e));
                    ApiError::Unavailable("the identity platform is unreachable".into())
                }
            })?;
        let status = resp.status();
        let body = crate::client::http::read_capped(resp, crate::client::http::caps::IDENTITY)
            .await
            .map_err(|_| {
                ApiError::Unavailable("the identity platform's answer was cut off".into())
            })?;
        if status.is_success() {
            let ok: TokenOk = serde_json::from_slice(&body).map_err(|_| {
                ApiError::Unavailable(
                    "the identity platform sent an unreadable token response".into(),
                )
            })?;
            // The lifetime comes from the network. Entra's longest (with Continuous Access
            // Evaluation) is 28 hours; anything past it, or nothing at all, means a broken or
            // hostile identity platform, and a token it vouches for that way is not cached.
            let lifetime = ok.expires_in.unwrap_or(3600);
            if lifetime == 0 || lifetime > crate::well_known::MAX_ACCESS_TOKEN_LIFETIME_SECS {
                tracing::warn!(
                    correlation_id,
                    expires_in = lifetime,
                    "the identity platform answered an impossible token lifetime"
                );
                return Err(ApiError::BadGateway {
                    code: BAD_LIFETIME.into(),
                    message: format!(
                        "the identity platform answered a token lifetime of {lifetime} s, outside 1 s to 28 h; the token was not used"
                    ),
                });
            }
            return Ok(ArmToken::new(
                ok.access_token,
                started,
                Duration::from_secs(lifetime),
            ));
        }
        let err: EntraError = serde_json::from_slice(&body).unwrap_or_else(|_| EntraError {
            error: format!("http_{}", status.as_u16()),
            ..EntraError::default()
        });
        Err(classify(&err, status.as_u16(), correlation_id))
    }
}

fn has(err: &EntraError, codes: &[u32]) -> bool {
    err.error_codes.iter().any(|c| codes.contains(c))
}

/// Maps an OBO failure to what the caller is told.
fn classify(err: &EntraError, status: u16, correlation_id: &str) -> ApiError {
    let summary = err.summary();
    if let Some(claims) = err.claims.as_deref().filter(|c| !c.is_empty()) {
        return ApiError::InsufficientClaims {
            claims_b64: STANDARD.encode(claims),
            message: format!(
                "{summary} Sign in again with the claims in the WWW-Authenticate header (azobo does this for you)."
            ),
        };
    }
    if has(err, &[65_001])
        || err.error == "consent_required"
        || err.suberror.as_deref() == Some("consent_required")
    {
        return ApiError::ConsentRequired(format!(
            "{summary} Grant admin consent to the API for Azure Service Management (user_impersonation), and list the CLI app in the API's knownClientApplications so one consent covers both."
        ));
    }
    if has(err, &[500_133]) {
        return ApiError::InvalidToken(format!("{summary} Refresh the token and retry."));
    }
    if err.error == "invalid_client" || has(err, &[7_000_215, 7_000_218, 700_027, 700_024, 700_016])
    {
        tracing::error!(correlation_id, code = ?err.error_codes, "the identity platform rejected this API's credential: {summary}");
        return ApiError::ServerCredential("the identity platform rejected this API's own credential; the operator has to fix the client secret or certificate".into());
    }
    if status >= 500 || status == 429 || err.error == "temporarily_unavailable" {
        return ApiError::Unavailable(format!(
            "the identity platform is having trouble: {summary}"
        ));
    }
    if err.error == "invalid_grant" || err.error == "interaction_required" {
        return ApiError::InvalidToken(summary);
    }
    ApiError::BadGateway {
        code: err.error.clone(),
        message: summary,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(error: &str, code: u32, claims: Option<&str>) -> EntraError {
        EntraError {
            error: error.into(),
            error_description: Some(format!("AADSTS{code}: Something. Trace ID: x")),
            error_codes: vec![code],
            claims: claims.map(str::to_owned),
            ..EntraError::default()
        }
    }

    #[test]
    fn classification_by_code() {
        assert!(
            matches!(classify(&err("invalid_grant", 50_076, Some("{\"a\":1}")), 400, "c"), ApiError::InsufficientClaims { claims_b64, .. } if claims_b64 == STANDARD.encode("{\"a\":1}"))
        );
        assert!(matches!(
            classify(&err("invalid_grant", 65_001, None), 400, "c"),
            ApiError::ConsentRequired(_)
        ));
        assert!(matches!(
            classify(&err("invalid_grant", 500_133, None), 400, "c"),
            ApiError::InvalidToken(_)
        ));
        assert!(matches!(
            classify(&err("invalid_client", 7_000_215, None), 401, "c"),
            ApiError::ServerCredential(_)
        ));
        assert!(matches!(
            classify(&err("temporarily_unavailable", 90_033, None), 503, "c"),
            ApiError::Unavailable(_)
        ));
        assert!(matches!(
            classify(&err("invalid_grant", 50_013, None), 400, "c"),
            ApiError::InvalidToken(_)
        ));
    }

    #[test]
    fn cache_key_depends_on_scope_and_assertion() {
        assert_ne!(key(&[1; 32], "s1"), key(&[1; 32], "s2"));
        assert_ne!(key(&[1; 32], "s"), key(&[2; 32], "s"));
        assert_eq!(key(&[1; 32], "s"), key(&[1; 32], "s"));
    }
}
