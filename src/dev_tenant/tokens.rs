//! Minting: v1/v2 access tokens, id tokens, refresh tokens and `client_info`, with the claim
//! sets Entra issues, and the token response around them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use sha2::Digest as _;

use super::errors::AadError;
use super::scopes::{Resource, ScopeRequest};
use super::seed::User;
use super::{RefreshGrant, Tenant};

/// Refresh tokens live 90 days, as Entra's do.
const REFRESH_LIFETIME: Duration = Duration::from_secs(90 * 24 * 3600);
/// id tokens live an hour.
const ID_TOKEN_LIFETIME: u64 = 3600;

/// How the client proved who it is; becomes `azpacr`/`appidacr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientAuth {
    Public,
    Secret,
    Certificate,
}

impl ClientAuth {
    fn acr(self) -> &'static str {
        match self {
            ClientAuth::Public => "0",
            ClientAuth::Secret => "1",
            ClientAuth::Certificate => "2",
        }
    }
}

/// Everything a token response is made from.
pub(crate) struct Issue<'a> {
    pub(crate) client_id: String,
    pub(crate) auth: ClientAuth,
    /// `None` for app-only (client credentials) tokens.
    pub(crate) user: Option<&'a User>,
    pub(crate) scopes: ScopeRequest,
    pub(crate) mfa: bool,
    pub(crate) nonce: Option<String>,
    pub(crate) client_info: bool,
}

pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A random URL-safe string of `bytes` random bytes.
pub(crate) fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::fill(buf.as_mut_slice());
    URL_SAFE_NO_PAD.encode(buf)
}

/// The key grants are stored under: nobody can recover the secret from the map.
pub(crate) fn grant_key(secret: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(secret.as_bytes()))
}

/// Entra's `sub` is pairwise: stable per (user, app), different across apps.
fn pairwise_sub(oid: &str, app: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(format!("{oid}|{app}").as_bytes()))[..43].to_owned()
}

/// `aio` is opaque internal state in Entra's tokens; the dev tenant keeps in it whether the
/// sign-in satisfied MFA, so OBO can answer a Conditional Access challenge.
fn aio(mfa: bool) -> String {
    format!("{}{}", if mfa { "M" } else { "P" }, random_token(48))
}

/// Whether a token this tenant minted records an MFA sign-in.
pub(crate) fn token_has_mfa(claims: &Value) -> bool {
    claims["aio"].as_str().is_some_and(|a| a.starts_with('M'))
}

fn lifetime(tenant: &Tenant) -> u64 {
    tenant
        .knobs()
        .token_lifetime
        .unwrap_or_else(|| rand::random_range(3600..=5400))
}

fn access_token(
    tenant: &Tenant,
    issue: &Issue<'_>,
    tid: &str,
    exp_in: u64,
) -> Result<String, AadError> {
    let dir = tenant.dir();
    let version: u8 = match issue.scopes.resource {
        Resource::App(id) => dir.app(&id.to_string()).map_or(2, |a| a.token_version),
        _ => 1,
    };
    let now = now_secs();
    let aud = issue.scopes.audience(&dir, version);
    let mut c = Map::new();
    c.insert("aud".into(), json!(aud));
    c.insert(
        "iss".into(),
        json!(if version == 2 {
            tenant.issuer_v2(tid)
        } else {
            tenant.issuer_v1(tid)
        }),
    );
    c.insert("iat".into(), json!(now));
    c.insert("nbf".into(), json!(now));
    c.insert("exp".into(), json!(now.saturating_add(exp_in)));
    c.insert("aio".into(), json!(aio(issue.mfa)));
    if version == 2 {
        c.insert("azp".into(), json!(issue.client_id));
        c.insert("azpacr".into(), json!(issue.auth.acr()));
    } else {
        c.insert("appid".into(), json!(issue.client_id));
        c.insert("appidacr".into(), json!(issue.auth.acr()));
    }
    match issue.user {
        Some(u) => {
            let oid = u.oid.to_string();
            c.insert("name".into(), json!(u.name));
            c.insert("oid".into(), json!(oid));
            if version == 2 {
                c.insert("preferred_username".into(), json!(u.username));
            } else {
                c.insert("acr".into(), json!("1"));
                c.insert(
                    "amr".into(),
                    json!(if issue.mfa {
                        vec!["pwd", "mfa"]
                    } else {
                        vec!["pwd"]
                    }),
                );
                c.insert("ipaddr".into(), json!("127.0.0.1"));
                c.insert("unique_name".into(), json!(u.username));
                c.insert("upn".into(), json!(u.username));
            }
            c.insert("scp".into(), json!(issue.scopes.scp()));
            c.insert("sub".into(), json!(pairwise_sub(&oid, &aud)));
        }
        None => {
            let sp = uuid::Uuid::new_v5(&dir.tenant_id, issue.client_id.as_bytes()).to_string();
            c.insert("idtyp".into(), json!("app"));
            c.insert("oid".into(), json!(sp));
            c.insert("sub".into(), json!(sp));
        }
    }
    c.insert("rh".into(), json!(format!("0.{}.", random_token(24))));
    c.insert("tid".into(), json!(tid));
    c.insert("uti".into(), json!(random_token(16)));
    c.insert(
        "ver".into(),
        json!(if version == 2 { "2.0" } else { "1.0" }),
    );
    drop(dir);
    sign(tenant, &Value::Object(c))
}

fn id_token(
    tenant: &Tenant,
    issue: &Issue<'_>,
    user: &User,
    tid: &str,
) -> Result<String, AadError> {
    let now = now_secs();
    let oid = user.oid.to_string();
    let mut c = json!({
        "aud": issue.client_id,
        "iss": tenant.issuer_v2(tid),
        "iat": now,
        "nbf": now,
        "exp": now + ID_TOKEN_LIFETIME,
        "name": user.name,
        "oid": oid,
        "preferred_username": user.username,
        "rh": format!("0.{}.", random_token(24)),
        "sub": pairwise_sub(&oid, &issue.client_id),
        "tid": tid,
        "uti": random_token(16),
        "ver": "2.0",
    });
    if let Some(n) = &issue.nonce {
        c["nonce"] = json!(n);
    }
    if issue.scopes.email {
        c["email"] = json!(user.username);
    }
    sign(tenant, &c)
}

fn sign(tenant: &Tenant, claims: &Value) -> Result<String, AadError> {
    let token = tenant.keys().current().sign(claims).map_err(|e| {
        AadError::new(
            "server_error",
            90_033,
            format!("A transient error has occurred ({e})."),
        )
        .with_status(axum::http::StatusCode::INTERNAL_SERVER_ERROR)
    })?;
    tenant.record_issued(&token);
    Ok(token)
}

/// Builds the token response for `issue`, storing a refresh grant when one is issued.
pub(crate) fn respond(tenant: &Tenant, issue: &Issue<'_>) -> Result<Value, AadError> {
    let tid = tenant.dir().tenant_id.to_string();
    let exp_in = lifetime(tenant);
    let announced = tenant.knobs().announce_expires_in.unwrap_or(exp_in);
    let mut body = json!({
        "token_type": "Bearer",
        "expires_in": announced,
        "ext_expires_in": announced,
        "access_token": access_token(tenant, issue, &tid, exp_in)?,
    });
    let Some(user) = issue.user else {
        // Client credentials: no scope echo, no refresh token, no id_token (as Entra).
        return Ok(body);
    };
    body["scope"] = json!(issue.scopes.granted(&tenant.dir()));
    if issue.scopes.offline_access {
        let rt = random_token(96);
        tenant.record_issued(&rt);
        let now = tenant.now();
        tenant.grants().insert_refresh(
            grant_key(&rt),
            RefreshGrant {
                client_id: issue.client_id.clone(),
                user_oid: user.oid.to_string(),
                mfa: issue.mfa,
                expires: now.saturating_add(REFRESH_LIFETIME.as_secs()),
                revoked: false,
            },
            now,
        );
        // Users' sessions survive a restart with `--state-dir`.
        tenant.touch();
        body["refresh_token"] = json!(rt);
    }
    if issue.scopes.openid {
        body["id_token"] = json!(id_token(tenant, issue, user, &tid)?);
    }
    if issue.client_info {
        let info = json!({"uid": user.oid.to_string(), "utid": tid});
        body["client_info"] = json!(URL_SAFE_NO_PAD.encode(info.to_string()));
    }
    Ok(body)
}

/// Why a bearer token was refused by one of the dev tenant's own resources (ARM, Graph); each
/// turns it into its own error shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BearerProblem {
    /// No `Authorization` header.
    Missing,
    /// Not `Bearer <token>`.
    Malformed,
    /// Not a JWT, or not RS256.
    Invalid,
    /// Signed with a key this tenant does not publish, or a bad signature.
    Signature,
    /// Expired.
    Expired,
    /// For another resource.
    Audience,
    /// Issued by another tenant.
    Issuer,
}

/// The claims of the request's bearer token, when this tenant issued it (RS256 with a published
/// key, either issuer shape) for one of `audiences` and it has not expired (no leeway).
pub(crate) fn verify_bearer(
    tenant: &Tenant,
    headers: &axum::http::HeaderMap,
    audiences: &[&str],
) -> Result<Value, BearerProblem> {
    use jsonwebtoken::errors::ErrorKind;
    let auth = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(BearerProblem::Missing)?;
    let token = auth
        .strip_prefix("Bearer ")
        .or_else(|| auth.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(BearerProblem::Malformed)?;
    let header = jsonwebtoken::decode_header(token).map_err(|_| BearerProblem::Invalid)?;
    if header.alg != jsonwebtoken::Algorithm::RS256 {
        return Err(BearerProblem::Invalid);
    }
    let tid = tenant.dir().tenant_id.to_string();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(audiences);
    v.set_issuer(&[tenant.issuer_v1(&tid), tenant.issuer_v2(&tid)]);
    v.leeway = 0;
    v.set_required_spec_claims(&["exp", "aud", "iss"]);
    let keys = tenant.keys();
    let key = header
        .kid
        .as_deref()
        .and_then(|k| keys.find(k))
        .ok_or(BearerProblem::Signature)?;
    jsonwebtoken::decode::<Value>(token, &key.decoding, &v)
        .map(|d| d.claims)
        .map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => BearerProblem::Expired,
            ErrorKind::InvalidAudience => BearerProblem::Audience,
            ErrorKind::InvalidIssuer => BearerProblem::Issuer,
            ErrorKind::InvalidSignature => BearerProblem::Signature,
            _ => BearerProblem::Invalid,
        })
}
