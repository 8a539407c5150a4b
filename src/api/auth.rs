//! Bearer-token validation: RS256 only (anything else is refused before a key is looked up),
//! the key by `kid` from the cached JWKS, then `exp`/`nbf` with 5 minutes of skew, `aud`, the
//! token version, `tid` against the allowed tenants, `iss` for that tenant and version, and a
//! delegated `scp` holding the required scope. The token itself is never logged or echoed.
//!
//! A token that passed all of that is remembered by its SHA-256 until it expires, so its next
//! requests skip the RS256 verification and the claims checks. Nothing about a token changes
//! before `exp` except the keys that vouch for it: an entry counts only while the key set it was
//! verified under is still the current one.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, header};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;
use sha2::Digest as _;

use super::error::ApiError;
use super::jwks::{KeyCache, Published};
use super::settings::{Settings, Tenants};

/// Clock skew tolerated on `exp` and `nbf`.
const SKEW_SECS: u64 = 300;

/// An authenticated caller.
pub struct Caller {
    /// The incoming token: the OBO assertion.
    pub assertion: String,
    /// Its SHA-256: what every cache keyed by the token is keyed by, computed once.
    pub digest: [u8; 32],
    /// Object id of the user.
    pub oid: String,
    /// Tenant id.
    pub tid: String,
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("assertion", &"<redacted>")
            .field("digest", &"<redacted>")
            .field("oid", &self.oid)
            .field("tid", &self.tid)
            .finish()
    }
}

/// Most verified tokens remembered.
const VERIFIED_CAPACITY: u64 = 50_000;

/// What a verified token proved, kept until it expires.
struct Verified {
    oid: String,
    tid: String,
    /// The key set it was verified under (a weak pointer: it keeps no key set alive, and the
    /// address cannot be reused while it exists).
    keys: Weak<Published>,
    expires: Instant,
}

struct UntilExpiry;

impl moka::Expiry<[u8; 32], Arc<Verified>> for UntilExpiry {
    fn expire_after_create(
        &self,
        _key: &[u8; 32],
        value: &Arc<Verified>,
        created_at: Instant,
    ) -> Option<Duration> {
        Some(value.expires.saturating_duration_since(created_at))
    }
}

/// Tokens that passed validation, by SHA-256, until their `exp` (plus the skew).
pub struct VerifiedTokens(moka::sync::Cache<[u8; 32], Arc<Verified>>);

impl Default for VerifiedTokens {
    fn default() -> Self {
        Self(
            moka::sync::Cache::builder()
                .max_capacity(VERIFIED_CAPACITY)
                .expire_after(UntilExpiry)
                .build(),
        )
    }
}

impl VerifiedTokens {
    /// Forgets every token (each is verified in full on its next request).
    pub fn clear(&self) {
        self.0.invalidate_all();
    }

    fn get(&self, digest: &[u8; 32], current: Option<&Arc<Published>>) -> Option<Arc<Verified>> {
        let v = self.0.get(digest)?;
        let same_keys = current.is_some_and(|c| std::ptr::eq(v.keys.as_ptr(), Arc::as_ptr(c)));
        (same_keys && v.expires > Instant::now()).then_some(v)
    }
}

#[derive(Deserialize)]
struct Claims {
    exp: u64,
    iss: String,
    #[serde(default)]
    tid: Option<String>,
    #[serde(default)]
    ver: Option<String>,
    #[serde(default)]
    scp: Option<String>,
    #[serde(default)]
    oid: Option<String>,
}

fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    // Two credentials are ambiguous whatever they say (RFC 6750 §2: one method per request):
    // taking either would let a proxy and this server disagree on who is calling.
    if headers
        .get_all(header::AUTHORIZATION)
        .iter()
        .nth(1)
        .is_some()
    {
        return Err(ApiError::InvalidRequest(
            "the request carries more than one Authorization header".into(),
        ));
    }
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(ApiError::MissingToken);
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::InvalidRequest("the Authorization header is not ASCII".into()))?;
    let (scheme, rest) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    // RFC 7235: the scheme is case-insensitive. Another scheme is "no bearer credentials".
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::MissingToken);
    }
    let token = rest.trim();
    if token.is_empty() || token.contains(char::is_whitespace) {
        return Err(ApiError::InvalidRequest(
            "`Authorization: Bearer` takes exactly one token".into(),
        ));
    }
    Ok(token)
}

/// Validates the request's bearer token.
pub async fn authenticate(
    headers: &HeaderMap,
    settings: &Settings,
    keys: &KeyCache,
    verified: &VerifiedTokens,
) -> Result<Caller, ApiError> {
    let token = bearer(headers)?;
    let digest: [u8; 32] = sha2::Sha256::digest(token.as_bytes()).into();
    if let Some(v) = verified.get(&digest, keys.current().as_ref()) {
        return Ok(Caller {
            assertion: token.to_owned(),
            digest,
            oid: v.oid.clone(),
            tid: v.tid.clone(),
        });
    }
    let caller = verify(token, digest, settings, keys).await?;
    // `exp` came through the signature check; past the clock, nothing is remembered.
    let left = caller
        .1
        .saturating_add(SKEW_SECS)
        .saturating_sub(unix_now());
    if left > 0 {
        verified.0.insert(
            digest,
            Arc::new(Verified {
                oid: caller.0.oid.clone(),
                tid: caller.0.tid.clone(),
                keys: Arc::downgrade(&caller.2),
                expires: Instant::now()
                    .checked_add(Duration::from_secs(left.min(MAX_REMEMBERED_SECS)))
                    .unwrap_or_else(Instant::now),
            }),
        );
    }
    Ok(caller.0)
}

/// Longest a verified token is remembered (a token's life is at most 28 hours; this bound
/// holds whatever `exp` said).
const MAX_REMEMBERED_SECS: u64 = 28 * 3600;

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The full check: the caller, the token's `exp`, and the key set that vouched for it.
async fn verify(
    token: &str,
    digest: [u8; 32],
    settings: &Settings,
    keys: &KeyCache,
) -> Result<(Caller, u64, Arc<Published>), ApiError> {
    let invalid = |m: &str| ApiError::InvalidToken(m.to_owned());
    let header = jsonwebtoken::decode_header(token)
        .map_err(|_| invalid("the token is not a well-formed JWT"))?;
    if header.alg != Algorithm::RS256 {
        return Err(invalid(&format!(
            "tokens signed with {:?} are not accepted; only RS256",
            header.alg
        )));
    }
    let kid = header
        .kid
        .ok_or_else(|| invalid("the token names no signing key (kid)"))?;
    let Some((published, key)) = keys.key(&kid).await else {
        if keys.current().is_none() {
            return Err(ApiError::Unavailable(
                "the identity platform's signing keys are not loaded yet".into(),
            ));
        }
        return Err(invalid(
            "the token is signed with a key the identity platform does not publish",
        ));
    };
    let mut v = Validation::new(Algorithm::RS256);
    v.leeway = SKEW_SECS;
    v.validate_nbf = true;
    v.set_audience(&settings.audiences);
    v.set_required_spec_claims(&["exp", "aud", "iss"]);
    let claims: Claims = jsonwebtoken::decode(token, &key, &v)
        .map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => invalid("the token has expired"),
            ErrorKind::ImmatureSignature => invalid("the token is not valid yet (nbf)"),
            ErrorKind::InvalidAudience => invalid("the token is for another audience"),
            ErrorKind::InvalidSignature => invalid("the token's signature does not verify"),
            ErrorKind::MissingRequiredClaim(c) => invalid(&format!("the token has no `{c}` claim")),
            _ => invalid("the token cannot be validated"),
        })?
        .claims;
    let version: u8 = match claims.ver.as_deref() {
        Some("2.0") if settings.accept_v2 => 2,
        Some("1.0") if settings.accept_v1 => 1,
        Some(v) => {
            return Err(invalid(&format!(
                "token version {v} is not accepted (see --token-versions)"
            )));
        }
        None => return Err(invalid("the token has no `ver` claim")),
    };
    let tid = claims
        .tid
        .map(|t| t.to_ascii_lowercase())
        .ok_or_else(|| invalid("the token has no `tid` claim"))?;
    let allowed = match &settings.allowed_tenants {
        None => published.tenant_id.as_deref() == Some(tid.as_str()),
        Some(Tenants::Any) => true,
        Some(Tenants::List(list)) => list.contains(&tid),
    };
    if !allowed {
        return Err(invalid("tokens from this tenant are not accepted"));
    }
    let expected_iss = published
        .issuer(version, &tid)
        .ok_or_else(|| invalid("v1 tokens are not accepted"))?;
    if claims.iss != expected_iss {
        return Err(invalid("the token comes from an unexpected issuer"));
    }
    let Some(scp) = claims.scp.filter(|s| !s.is_empty()) else {
        return Err(invalid(
            "the token has no delegated scopes (scp): app-only tokens cannot be used On-Behalf-Of a user",
        ));
    };
    if !scp.split(' ').any(|s| s == settings.required_scope) {
        return Err(ApiError::InsufficientScope {
            scope: settings.required_scope.clone(),
            message: format!("the token lacks the `{}` scope", settings.required_scope),
        });
    }
    let oid = claims
        .oid
        .ok_or_else(|| invalid("the token has no `oid` claim"))?;
    Ok((
        Caller {
            assertion: token.to_owned(),
            digest,
            oid,
            tid,
        },
        claims.exp,
        published,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn published() -> Arc<Published> {
        Arc::new(Published {
            keys: std::collections::HashMap::new(),
            issuer_v2: "https://login.example/{tenantid}/v2.0".into(),
            issuer_v1: None,
            tenant_id: None,
        })
    }

    #[test]
    fn remembered_tokens_count_only_under_their_key_set_and_until_they_expire() {
        let seen = VerifiedTokens::default();
        let (keys, later_keys) = (published(), published());
        let remember = |digest: [u8; 32], expires: Instant| {
            seen.0.insert(
                digest,
                Arc::new(Verified {
                    oid: "o".into(),
                    tid: "t".into(),
                    keys: Arc::downgrade(&keys),
                    expires,
                }),
            );
        };
        let in_an_hour = Instant::now() + Duration::from_secs(3600);
        remember([1; 32], in_an_hour);
        assert!(seen.get(&[1; 32], Some(&keys)).is_some());
        assert!(
            seen.get(&[1; 32], Some(&later_keys)).is_none(),
            "keys changed"
        );
        assert!(seen.get(&[1; 32], None).is_none(), "no keys at all");
        assert!(seen.get(&[2; 32], Some(&keys)).is_none(), "never seen");
        remember([3; 32], Instant::now());
        assert!(seen.get(&[3; 32], Some(&keys)).is_none(), "expired");
        seen.clear();
        assert!(seen.get(&[1; 32], Some(&keys)).is_none(), "cleared");
    }

    fn h(v: &str) -> HeaderMap {
        let mut m = HeaderMap::new();
        m.insert(header::AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        m
    }

    #[test]
    fn bearer_parsing() {
        assert_eq!(bearer(&h("Bearer abc")).unwrap(), "abc");
        assert_eq!(
            bearer(&h("bearer abc")).unwrap(),
            "abc",
            "scheme is case-insensitive"
        );
        assert!(matches!(
            bearer(&HeaderMap::new()),
            Err(ApiError::MissingToken)
        ));
        assert!(matches!(
            bearer(&h("Basic dXNlcjpwYXNz")),
            Err(ApiError::MissingToken)
        ));
        assert!(matches!(
            bearer(&h("Bearer a b")),
            Err(ApiError::InvalidRequest(_))
        ));
        assert!(matches!(
            bearer(&h("Bearer")),
            Err(ApiError::InvalidRequest(_))
        ));
    }
}
