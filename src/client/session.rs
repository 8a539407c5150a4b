//! The session: a valid access token for a scope, from the cache while it has more than five
//! minutes left, else by redeeming the refresh token — under the profile's cross-process lock,
//! re-reading the cache inside it, so parallel azobo processes never lose the rotated token.

use std::time::{SystemTime, UNIX_EPOCH};

use oauth2::{ClientId, RefreshToken, Scope, TokenResponse as _, TokenUrl};
use serde::Serialize;

use super::entra::{EntraClient, http_adapter, map_token_error};
use crate::error::{Error, Result};
use crate::store::{CachedToken, Loaded, Storage, Store};

/// A token younger than this much before expiry is refreshed instead of used.
const MIN_REMAINING_SECS: u64 = 5 * 60;

/// Where a token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenSource {
    /// `AZOBO_TOKEN`.
    Env,
    /// The session cache.
    Cache,
    /// Just redeemed from the refresh token.
    Refreshed,
}

/// An access token ready to use.
#[derive(Clone)]
pub struct AccessToken {
    /// The bearer token.
    pub secret: String,
    /// Expiry (POSIX seconds); 0 when unknown (`AZOBO_TOKEN`).
    pub expires_on: u64,
    /// Granted scopes.
    pub scope: String,
    /// Where it came from.
    pub source: TokenSource,
    /// The plaintext file the session is kept in, when it is (so every use can say so).
    pub plaintext_file: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("secret", &"<redacted>")
            .field("expires_on", &self.expires_on)
            .field("scope", &self.scope)
            .field("source", &self.source)
            .field("plaintext_file", &self.plaintext_file)
            .finish()
    }
}

/// When a token answered with `expires_in` expires (POSIX seconds): an hour when the answer
/// says nothing, never more than Entra's longest lifetime, never an overflow.
pub fn expires_on(expires_in: Option<std::time::Duration>) -> u64 {
    now().saturating_add(
        expires_in
            .map_or(3600, |d| d.as_secs())
            .min(crate::well_known::MAX_ACCESS_TOKEN_LIFETIME_SECS),
    )
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn plaintext_file(store: &Store, loaded: &Loaded) -> Option<std::path::PathBuf> {
    (loaded.meta.storage == Storage::File).then(|| store.plaintext_path())
}

fn fresh(store: &Store, loaded: &Loaded, scope: &str) -> Option<AccessToken> {
    loaded
        .secrets
        .tokens
        .get(scope)
        .filter(|t| t.expires_on > now() + MIN_REMAINING_SECS)
        .map(|t| AccessToken {
            secret: t.access_token.clone(),
            expires_on: t.expires_on,
            scope: t.scope.clone(),
            source: TokenSource::Cache,
            plaintext_file: plaintext_file(store, loaded),
        })
}

/// Why a stored session no longer belongs to its profile, if it does not: the profile now names
/// another authority (a dev tenant restarted on another port, a cloud changed) or another client.
/// Its refresh token would be redeemed where the profile no longer points.
pub fn moved(meta: &crate::store::SessionMeta, profile: &crate::config::Profile) -> Option<String> {
    let now = profile.authority.as_str().trim_end_matches('/');
    let then = meta.authority.trim_end_matches('/');
    if !now.eq_ignore_ascii_case(then) {
        return Some(format!(
            "the session of profile `{}` was signed in at {then}, but the profile now points at {now}",
            profile.name
        ));
    }
    match &profile.client_id {
        Some(c) if !c.eq_ignore_ascii_case(&meta.client_id) => Some(format!(
            "the session of profile `{}` was signed in with client {}, but the profile now names client {c}",
            profile.name, meta.client_id
        )),
        _ => None,
    }
}

/// `moved` as the error of a command that would use the session.
pub fn ensure_current(
    meta: &crate::store::SessionMeta,
    profile: &crate::config::Profile,
) -> Result<()> {
    match moved(meta, profile) {
        Some(message) => Err(Error::SignInRequired { message }),
        None => Ok(()),
    }
}

fn signed_out(profile: &str) -> Error {
    Error::SignInRequired {
        message: format!("not signed in (profile `{profile}`)"),
    }
}

/// A token for `scope` from `store`'s session, refreshing when needed (or when `force`). The HTTP
/// client is built only for a refresh: a cached token costs no TLS set-up.
pub async fn access_token(
    store: &Store,
    profile: &str,
    http: impl FnOnce() -> Result<reqwest::Client>,
    scope: &str,
    force: bool,
) -> Result<AccessToken> {
    if !force {
        match store.load().await {
            Ok(Some(loaded)) => {
                if let Some(t) = fresh(store, &loaded, scope) {
                    tracing::info!(
                        "profile `{profile}`: cached token for {scope}, valid for {} more s",
                        t.expires_on.saturating_sub(now())
                    );
                    return Ok(t);
                }
            }
            Ok(None) => return Err(signed_out(profile)),
            // A `login` may be switching sessions right now: look again under the lock.
            Err(e) if e.is_sign_in_required() => {}
            Err(e) => return Err(e),
        }
    }
    let _lock = store.lock().await?;
    let mut loaded = store.load().await?.ok_or_else(|| signed_out(profile))?;
    if let Some(t) = fresh(store, &loaded, scope).filter(|_| !force) {
        return Ok(t);
    }
    let Some(rt) = loaded.secrets.refresh_token.clone() else {
        return Err(Error::SignInRequired {
            message: format!(
                "the session of profile `{profile}` has no refresh token left (it was refused earlier)"
            ),
        });
    };
    let token_url = TokenUrl::new(loaded.meta.token_endpoint.clone())
        .map_err(|e| Error::failure(format!("the stored token endpoint is not a URL: {e}")))?;
    let client: EntraClient<oauth2::EndpointNotSet, oauth2::EndpointNotSet> =
        oauth2::Client::new(ClientId::new(loaded.meta.client_id.clone()))
            .set_auth_type(oauth2::AuthType::RequestBody)
            .set_token_uri(token_url);
    tracing::info!(
        "profile `{profile}`: refreshing the token for {scope} at {}",
        loaded.meta.token_endpoint
    );
    let http = http()?;
    let adapter = http_adapter(&http);
    let scopes = ["openid", "profile", "offline_access", scope];
    let result = client
        .exchange_refresh_token(&RefreshToken::new(rt))
        .add_scopes(scopes.iter().map(|s| Scope::new((*s).to_owned())))
        .add_extra_param("client_info", "1")
        .request_async(&adapter)
        .await;
    match result {
        Ok(resp) => {
            let expires_on = expires_on(resp.expires_in());
            let granted = resp.scopes().map_or_else(
                || scope.to_owned(),
                |s| s.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(" "),
            );
            // Entra rotates the refresh token on every use and does not revoke the old one:
            // keep only the new one.
            if let Some(new_rt) = resp.refresh_token() {
                loaded.secrets.refresh_token = Some(new_rt.secret().clone());
            }
            let secret = resp.access_token().secret().clone();
            loaded.secrets.tokens.insert(
                scope.to_owned(),
                CachedToken {
                    access_token: secret.clone(),
                    scope: granted.clone(),
                    expires_on,
                },
            );
            store.save_loaded(&loaded)?;
            Ok(AccessToken {
                secret,
                expires_on,
                scope: granted,
                source: TokenSource::Refreshed,
                plaintext_file: plaintext_file(store, &loaded),
            })
        }
        Err(e) => {
            let err = map_token_error("refreshing the session", &loaded.meta.token_endpoint, e);
            if matches!(err, Error::SignInRequired { .. }) {
                // A refused refresh token is worthless; forget it so the next run asks for a
                // sign-in at once instead of failing against the server again.
                store.drop_secrets(&mut loaded)?;
            }
            Err(err)
        }
    }
}
