//! Discovery and id_token verification: the authority's metadata gives the endpoints and the
//! JWKS; the id_token must be RS256-signed by one of those keys, for this client, from this
//! issuer, unexpired, and carry our nonce.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::store::Account;

use super::entra::source_chain;

/// The parts of the OpenID configuration azobo uses.
#[derive(Debug, Clone, Deserialize)]
pub struct Metadata {
    /// `issuer`, possibly with Entra's `{tenantid}` template.
    pub issuer: String,
    /// `authorization_endpoint`.
    pub authorization_endpoint: String,
    /// `token_endpoint`.
    pub token_endpoint: String,
    /// `device_authorization_endpoint` (Entra publishes it; derived from the token endpoint if not).
    #[serde(default)]
    pub device_authorization_endpoint: Option<String>,
    /// `jwks_uri`.
    pub jwks_uri: String,
}

impl Metadata {
    /// The device-code endpoint.
    pub fn device_endpoint(&self) -> String {
        self.device_authorization_endpoint
            .clone()
            .unwrap_or_else(|| self.token_endpoint.replace("/token", "/devicecode"))
    }
}

async fn get_json<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    url: &str,
    what: &str,
) -> Result<T> {
    let resp = super::http::send(http.get(url), 0).await.map_err(|e| {
        Error::upstream(format!(
            "fetching the {what}: cannot reach `{url}`: {}",
            source_chain(&e)
        ))
    })?;
    let status = resp.status();
    if status.is_server_error() {
        return Err(Error::upstream(format!(
            "fetching the {what}: `{url}` answered {status}"
        )));
    }
    if !status.is_success() {
        let hint = if status.as_u16() == 400 {
            " (is the tenant right?)"
        } else {
            ""
        };
        return Err(Error::usage(format!(
            "fetching the {what}: `{url}` answered {status}{hint}"
        )));
    }
    let body = super::http::read_capped(resp, super::http::caps::IDENTITY)
        .await
        .map_err(|e| Error::upstream(format!("fetching the {what} from `{url}`: {e}")))?;
    serde_json::from_slice(&body).map_err(|e| {
        Error::upstream(format!(
            "fetching the {what}: `{url}` sent something unexpected: {e}"
        ))
    })
}

/// Fetches `{authority}/{tenant}/v2.0/.well-known/openid-configuration`.
pub async fn metadata(http: &reqwest::Client, tenant_authority: &str) -> Result<Metadata> {
    get_json(
        http,
        &format!("{tenant_authority}/v2.0/.well-known/openid-configuration"),
        "sign-in metadata",
    )
    .await
}

#[derive(Deserialize)]
struct IdClaims {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    preferred_username: Option<String>,
    oid: String,
    tid: String,
    iss: String,
    #[serde(default)]
    nonce: Option<String>,
}

/// Verifies an id_token and returns the account it names.
pub async fn verify_id_token(
    http: &reqwest::Client,
    meta: &Metadata,
    id_token: &str,
    client_id: &str,
    nonce: Option<&str>,
) -> Result<Account> {
    let bad = |why: String| {
        Error::failure(format!(
            "the identity platform's id_token failed verification: {why}"
        ))
    };
    let header =
        jsonwebtoken::decode_header(id_token).map_err(|e| bad(format!("not a JWT ({e})")))?;
    if header.alg != Algorithm::RS256 {
        return Err(bad(format!("algorithm {:?} is not RS256", header.alg)));
    }
    let kid = header
        .kid
        .ok_or_else(|| bad("no `kid` in its header".to_owned()))?;
    let jwks: JwkSet = get_json(http, &meta.jwks_uri, "signing keys").await?;
    let jwk = jwks
        .find(&kid)
        .ok_or_else(|| bad(format!("key `{kid}` is not in {}", meta.jwks_uri)))?;
    let key =
        DecodingKey::from_jwk(jwk).map_err(|e| bad(format!("key `{kid}` is unusable ({e})")))?;
    let mut v = Validation::new(Algorithm::RS256);
    v.set_audience(&[client_id]);
    v.leeway = 300;
    v.set_required_spec_claims(&["exp", "aud", "iss"]);
    let claims: IdClaims = jsonwebtoken::decode(id_token, &key, &v)
        .map_err(|e| bad(e.to_string()))?
        .claims;
    // Multi-tenant metadata publishes `{tenantid}`; the token's own tid fills it in.
    let expected_iss = meta.issuer.replace("{tenantid}", &claims.tid);
    if claims.iss != expected_iss {
        return Err(bad(format!(
            "issuer `{}` is not `{expected_iss}`",
            claims.iss
        )));
    }
    // The device code flow sends no nonce; a browser sign-in must get its own back.
    if nonce.is_some() && claims.nonce.as_deref() != nonce {
        return Err(bad("the nonce does not match this sign-in".to_owned()));
    }
    let username = claims.preferred_username.unwrap_or_default();
    Ok(Account {
        name: claims.name.unwrap_or_else(|| username.clone()),
        username,
        oid: claims.oid,
        tenant_id: claims.tid,
    })
}
