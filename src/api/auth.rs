//! Bearer-token validation: RS256 only (anything else is refused before a key is looked up),
//! the key by `kid` from the cached JWKS, then `exp`/`nbf` with 5 minutes of skew, `aud`, the
//! token version, `tid` against the allowed tenants, `iss` for that tenant and version, and a
//! delegated `scp` holding the required scope. The token itself is never logged or echoed.

use axum::http::{HeaderMap, header};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;

use super::error::ApiError;
use super::jwks::KeyCache;
use super::settings::{Settings, Tenants};

/// Clock skew tolerated on `exp` and `nbf`.
const SKEW_SECS: u64 = 300;

/// An authenticated caller.
pub struct Caller {
    /// The incoming token: the OBO assertion.
    pub assertion: String,
    /// Object id of the user.
    pub oid: String,
    /// Tenant id.
    pub tid: String,
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("assertion", &"<redacted>")
            .field("oid", &self.oid)
            .field("tid", &self.tid)
            .finish()
    }
}

#[derive(Deserialize)]
struct Claims {
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
) -> Result<Caller, ApiError> {
    let token = bearer(headers)?;
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
    Ok(Caller {
        assertion: token.to_owned(),
        oid,
        tid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

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
