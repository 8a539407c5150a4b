//! The authorization request: PKCE S256, random `state` and `nonce`, Entra's scopes and hints,
//! built with the `oauth2` crate; and the code redemption.

use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, CsrfToken, DeviceAuthorizationUrl, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenUrl,
};

use super::entra::{EntraClient, TokenResponse, http_adapter, map_token_error};
use super::oidc::Metadata;
use crate::error::{Error, Result};

/// Builds the `oauth2` client for the public client app from the metadata's endpoints.
pub fn client(meta: &Metadata, client_id: &str) -> Result<EntraClient> {
    let bad = |what: &str, e: url::ParseError| {
        Error::upstream(format!("the sign-in metadata has a bad {what}: {e}"))
    };
    Ok(oauth2::Client::new(ClientId::new(client_id.to_owned()))
        .set_auth_type(oauth2::AuthType::RequestBody)
        .set_auth_uri(
            AuthUrl::new(meta.authorization_endpoint.clone())
                .map_err(|e| bad("authorization_endpoint", e))?,
        )
        .set_device_authorization_url(
            DeviceAuthorizationUrl::new(meta.device_endpoint())
                .map_err(|e| bad("device_authorization_endpoint", e))?,
        )
        .set_token_uri(
            TokenUrl::new(meta.token_endpoint.clone()).map_err(|e| bad("token_endpoint", e))?,
        ))
}

/// What the browser is sent to, and what must be kept to finish.
pub struct AuthRequest {
    /// The URL to open.
    pub url: String,
    /// `state`, checked on return.
    pub state: String,
    /// `nonce`, checked in the id_token.
    pub nonce: String,
    verifier: PkceCodeVerifier,
}

/// Options of one sign-in.
#[derive(Debug, Clone, Default)]
pub struct Hints {
    /// `login_hint`; without it Entra is asked to let the user pick (`prompt=select_account`).
    pub login_hint: Option<String>,
    /// A claims challenge (JSON) to satisfy.
    pub claims: Option<String>,
}

/// The scopes of a sign-in: OIDC, offline access, the API scope and any extra.
pub fn scopes(api_scope: &str, extra: &[String]) -> Vec<String> {
    let mut s: Vec<String> = ["openid", "profile", "offline_access", api_scope]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    for e in extra {
        if !s.contains(e) {
            s.push(e.clone());
        }
    }
    s
}

/// Builds the authorization URL.
pub fn request(
    client: &EntraClient,
    redirect_uri: &str,
    scopes: &[String],
    hints: &Hints,
) -> Result<AuthRequest> {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let nonce = CsrfToken::new_random().secret().clone();
    let redirect = RedirectUrl::new(redirect_uri.to_owned())
        .map_err(|e| Error::failure(format!("bad redirect URI: {e}")))?;
    let mut req = client
        .authorize_url(CsrfToken::new_random)
        .set_redirect_uri(std::borrow::Cow::Owned(redirect))
        .add_scopes(scopes.iter().cloned().map(Scope::new))
        .set_pkce_challenge(challenge)
        .add_extra_param("nonce", nonce.clone())
        .add_extra_param("response_mode", "query")
        .add_extra_param("client_info", "1");
    req = match &hints.login_hint {
        Some(h) => req.add_extra_param("login_hint", h.clone()),
        None => req.add_extra_param("prompt", "select_account"),
    };
    if let Some(c) = &hints.claims {
        req = req.add_extra_param("claims", c.clone());
    }
    let (url, state) = req.url();
    Ok(AuthRequest {
        url: url.to_string(),
        state: state.secret().clone(),
        nonce,
        verifier,
    })
}

/// Redeems the code (with the PKCE verifier) at the token endpoint.
pub async fn redeem(
    client: &EntraClient,
    http: &reqwest::Client,
    req: AuthRequest,
    code: String,
    redirect_uri: &str,
) -> Result<TokenResponse> {
    let redirect = RedirectUrl::new(redirect_uri.to_owned())
        .map_err(|e| Error::failure(format!("bad redirect URI: {e}")))?;
    let adapter = http_adapter(http);
    client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(req.verifier)
        .set_redirect_uri(std::borrow::Cow::Owned(redirect))
        .add_extra_param("client_info", "1")
        .request_async(&adapter)
        .await
        .map_err(|e| map_token_error("redeeming the sign-in code", client.token_uri().as_str(), e))
}
