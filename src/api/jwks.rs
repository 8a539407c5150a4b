//! The identity platform's signing keys and issuers, from its metadata: loaded at startup (with
//! retries until it answers), refreshed every hour in the background keeping the last good set
//! on failure, and refetched for an unknown `kid` — single-flight and at most once per floor
//! (30 s unless configured): a flood of forged `kid`s costs the identity platform one request
//! per floor, and cannot keep a real new key out for longer than that.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::JwkSet;
use serde::Deserialize;

use crate::client::entra::source_chain;

/// Background refresh period.
const REFRESH_EVERY: Duration = Duration::from_secs(3600);
/// Least time between refetches an unknown `kid` triggers, unless configured: short, so a
/// forged `kid` cannot keep a real new key out for long, and long enough that a flood of forged
/// ones costs the identity platform one request per period.
pub const DEFAULT_REFETCH_FLOOR: Duration = Duration::from_secs(30);

/// Keys by `kid`, and the issuer templates (`{tenantid}` in place of the tenant id).
pub struct Published {
    /// Verification keys.
    pub keys: HashMap<String, DecodingKey>,
    /// v2 issuer template.
    pub issuer_v2: String,
    /// v1 issuer template, when the v1 metadata was loaded.
    pub issuer_v1: Option<String>,
    /// The tenant id the configured authority resolved to (`None` for multi-tenant).
    pub tenant_id: Option<String>,
}

impl Published {
    /// The issuer a token from tenant `tid` must carry.
    pub fn issuer(&self, version: u8, tid: &str) -> Option<String> {
        let t = if version == 1 {
            self.issuer_v1.as_ref()?
        } else {
            &self.issuer_v2
        };
        Some(t.replace("{tenantid}", tid))
    }
}

#[derive(Deserialize)]
struct Metadata {
    issuer: String,
    jwks_uri: String,
}

/// Replaces the tenant-id segment of an issuer with `{tenantid}`; returns the template and the id.
fn template(issuer: &str) -> (String, Option<String>) {
    if issuer.contains("{tenantid}") {
        return (issuer.to_owned(), None);
    }
    let tid = issuer
        .split('/')
        .find(|seg| seg.len() == 36 && uuid::Uuid::try_parse(seg).is_ok());
    match tid {
        Some(t) => (
            issuer.replacen(t, "{tenantid}", 1),
            Some(t.to_ascii_lowercase()),
        ),
        None => (issuer.to_owned(), None),
    }
}

/// The cache.
pub struct KeyCache {
    http: reqwest::Client,
    tenant_authority: String,
    want_v1: bool,
    current: RwLock<Option<Arc<Published>>>,
    refetch: tokio::sync::Mutex<Option<Instant>>,
    refetch_floor: Duration,
}

impl KeyCache {
    /// A cache for `{authority}/{tenant}`; nothing is fetched yet.
    pub fn new(http: reqwest::Client, tenant_authority: String, want_v1: bool) -> Self {
        Self {
            http,
            tenant_authority,
            want_v1,
            current: RwLock::new(None),
            refetch: tokio::sync::Mutex::new(None),
            refetch_floor: DEFAULT_REFETCH_FLOOR,
        }
    }

    /// The same cache with another refetch floor.
    #[must_use]
    pub fn with_refetch_floor(mut self, floor: Duration) -> Self {
        self.refetch_floor = floor;
        self
    }

    /// A cache that starts with `published` (for benchmarks and embedding).
    pub fn preloaded(
        http: reqwest::Client,
        tenant_authority: String,
        published: Published,
    ) -> Self {
        let me = Self::new(http, tenant_authority, published.issuer_v1.is_some());
        *me.current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Arc::new(published));
        me
    }

    /// The last good key set, if any was loaded.
    pub fn current(&self) -> Option<Arc<Published>> {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, String> {
        let r = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| format!("`{url}`: {}", source_chain(&e)))?;
        if !r.status().is_success() {
            return Err(format!("`{url}` answered {}", r.status()));
        }
        let body = crate::client::http::read_capped(r, crate::client::http::caps::IDENTITY)
            .await
            .map_err(|e| format!("`{url}`: {e}"))?;
        serde_json::from_slice(&body).map_err(|e| format!("`{url}`: {e}"))
    }

    /// Fetches metadata and keys; on success replaces the current set.
    pub async fn load(&self) -> Result<(), String> {
        let v2: Metadata = self
            .get(&format!(
                "{}/v2.0/.well-known/openid-configuration",
                self.tenant_authority
            ))
            .await?;
        let jwks: JwkSet = self.get(&v2.jwks_uri).await?;
        let issuer_v1 = if self.want_v1 {
            let v1: Metadata = self
                .get(&format!(
                    "{}/.well-known/openid-configuration",
                    self.tenant_authority
                ))
                .await?;
            Some(template(&v1.issuer).0)
        } else {
            None
        };
        let mut keys = HashMap::new();
        for jwk in &jwks.keys {
            let (Some(kid), Ok(key)) = (jwk.common.key_id.clone(), DecodingKey::from_jwk(jwk))
            else {
                continue;
            };
            if matches!(
                jwk.algorithm,
                jsonwebtoken::jwk::AlgorithmParameters::RSA(_)
            ) {
                keys.insert(kid, key);
            }
        }
        if keys.is_empty() {
            return Err(format!("`{}` lists no RSA signing keys", v2.jwks_uri));
        }
        let (issuer_v2, tenant_id) = template(&v2.issuer);
        let published = Arc::new(Published {
            keys,
            issuer_v2,
            issuer_v1,
            tenant_id,
        });
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(published);
        Ok(())
    }

    fn lookup(&self, kid: &str) -> Option<(Arc<Published>, DecodingKey)> {
        let p = self.current()?;
        let k = p.keys.get(kid)?.clone();
        Some((p, k))
    }

    /// The key for `kid`; an unknown one triggers at most one refetch per cooldown, shared by
    /// every request waiting on it.
    pub async fn key(&self, kid: &str) -> Option<(Arc<Published>, DecodingKey)> {
        if let Some(found) = self.lookup(kid) {
            return Some(found);
        }
        let mut last = self.refetch.lock().await;
        // Another request may have refetched while this one waited for the lock.
        if let Some(found) = self.lookup(kid) {
            return Some(found);
        }
        if last.is_some_and(|t| t.elapsed() < self.refetch_floor) {
            return None;
        }
        *last = Some(Instant::now());
        if let Err(e) = self.load().await {
            tracing::warn!("refetching signing keys for an unknown kid failed: {e}");
        }
        self.lookup(kid)
    }

    /// Keeps the keys loaded: retries with backoff until the first load succeeds, then refreshes
    /// every hour, keeping the last good set when a refresh fails.
    pub fn spawn_refresher(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let me = Arc::clone(self);
        tokio::spawn(async move {
            let mut backoff = Duration::from_millis(250);
            loop {
                match me.load().await {
                    Ok(()) => {
                        backoff = Duration::from_millis(250);
                        tokio::time::sleep(REFRESH_EVERY).await;
                    }
                    Err(e) => {
                        if me.current().is_some() {
                            tracing::warn!(
                                "refreshing signing keys failed, keeping the last good set: {e}"
                            );
                        } else {
                            tracing::warn!("loading signing keys failed (not ready yet): {e}");
                        }
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(30));
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_templates() {
        let (t, id) =
            template("https://login.microsoftonline.com/7f0c1e5a-2d3b-4c8e-9a61-0d5e4b3a2f10/v2.0");
        assert_eq!(t, "https://login.microsoftonline.com/{tenantid}/v2.0");
        assert_eq!(id.as_deref(), Some("7f0c1e5a-2d3b-4c8e-9a61-0d5e4b3a2f10"));
        let (t, id) = template("https://sts.windows.net/7F0C1E5A-2D3B-4C8E-9A61-0D5E4B3A2F10/");
        assert_eq!(t, "https://sts.windows.net/{tenantid}/");
        assert!(id.is_some());
        let (t, id) = template("https://login.microsoftonline.com/{tenantid}/v2.0");
        assert_eq!(t, "https://login.microsoftonline.com/{tenantid}/v2.0");
        assert_eq!(id, None);
    }
}
