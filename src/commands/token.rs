//! `azobo token`: the access token for the API scope (refreshed if needed), alone on stdout.
//! It never starts a sign-in.

use serde::Serialize;

use crate::client::session::{self, AccessToken, TokenSource};
use crate::config::Overrides;
use crate::context::Context;
use crate::error::{Error, Result};

/// Print an access token for the API (refreshing it if needed); never signs in.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  curl -H \"Authorization: Bearer $(azobo token)\" https://obo-api.contoso.com/subscriptions\n  azobo token --json | jq -r .expiresOn\n  azobo token --scope https://management.azure.com/user_impersonation"
)]
pub struct Args {
    /// Scope to get a token for [default: the profile's api_scope]
    #[arg(long, value_name = "SCOPE")]
    pub scope: Option<String>,
    /// Refresh even when the cached token is still fresh
    #[arg(long)]
    pub force_refresh: bool,
}

/// A token as `--json` shows it (the shape of `az account get-access-token`, in UTC).
#[derive(Clone, Serialize)]
pub struct TokenView {
    /// The bearer token.
    #[serde(rename = "accessToken")]
    pub access_token: String,
    /// RFC 3339, UTC.
    #[serde(rename = "expiresOn")]
    pub expires_on_rfc3339: Option<String>,
    /// POSIX seconds.
    #[serde(rename = "expiresOnTimestamp")]
    pub expires_on: Option<u64>,
    /// Always `Bearer`.
    #[serde(rename = "tokenType")]
    pub token_type: &'static str,
    /// Granted scopes.
    pub scope: String,
    /// The plaintext file the session is kept in, when it is (warned about, never printed).
    #[serde(skip)]
    pub plaintext_file: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for TokenView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenView")
            .field("access_token", &"<redacted>")
            .field("expires_on", &self.expires_on)
            .finish_non_exhaustive()
    }
}

impl From<AccessToken> for TokenView {
    fn from(t: AccessToken) -> Self {
        let known = (t.source != TokenSource::Env).then_some(t.expires_on);
        Self {
            expires_on_rfc3339: known.map(crate::output::rfc3339),
            expires_on: known,
            access_token: t.secret,
            token_type: "Bearer",
            scope: t.scope,
            plaintext_file: t.plaintext_file,
        }
    }
}

/// Runs `azobo token`.
pub async fn run(args: &Args, ctx: &Context<'_>) -> Result<TokenView> {
    if let Some(t) = ctx.env_token() {
        if args.scope.is_some() {
            return Err(Error::usage(
                "`AZOBO_TOKEN` is set: it is the only token available, so `--scope` cannot be honoured",
            ));
        }
        return Ok(AccessToken {
            secret: t.to_owned(),
            expires_on: 0,
            scope: String::new(),
            source: TokenSource::Env,
            plaintext_file: None,
        }
        .into());
    }
    let store = ctx.store()?;
    let profile = ctx.profile(&Overrides::default())?;
    let meta = store.meta()?;
    if let Some(m) = &meta {
        session::ensure_current(m, &profile)?;
    }
    let scope = match (&args.scope, meta) {
        (Some(s), _) => s.clone(),
        (None, Some(m)) => m.api_scope,
        (None, None) => profile.api_scope.ok_or_else(|| Error::SignInRequired {
            message: format!("not signed in (profile `{}`)", profile.name),
        })?,
    };
    Ok(session::access_token(
        &store,
        &ctx.profile_name(),
        || ctx.http(),
        &scope,
        args.force_refresh,
    )
    .await?
    .into())
}

#[cfg(test)]
mod tests {
    #[test]
    fn expiry_is_rfc3339_utc() {
        assert_eq!(
            crate::output::rfc3339(1_700_000_000),
            "2023-11-14T22:13:20Z"
        );
    }
}
