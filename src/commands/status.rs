//! `azobo status`: who is signed in, where, until when, and where the secrets are.

use serde::Serialize;

use crate::config::Overrides;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::store::{Account, Storage};

/// Show the signed-in account, tenant, API and token expiry; exit 3 when signed out.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  azobo status\n  azobo status --json | jq -r .account.username\n  azobo --profile work status || azobo --profile work login"
)]
pub struct Args {}

/// The status report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// The profile.
    pub profile: String,
    /// The account, when a session exists.
    pub account: Option<Account>,
    /// The authority signed in at.
    pub authority: String,
    /// The tenant segment used.
    pub tenant: String,
    /// The API scope.
    pub api_scope: Option<String>,
    /// The API URL.
    pub api_url: String,
    /// When the cached API token expires (POSIX seconds; RFC 3339 in JSON).
    #[serde(serialize_with = "rfc3339")]
    pub token_expires_on: Option<u64>,
    /// The session can be refreshed without a sign-in.
    pub refreshable: bool,
    /// Where the secrets are.
    pub storage: Option<Storage>,
    /// False when the keyring forgets at reboot.
    pub survives_reboot: bool,
    /// `AZOBO_TOKEN` overrides sessions.
    pub env_token: bool,
    /// The plaintext file the session is kept in, when it is (warned about).
    #[serde(skip)]
    pub plaintext_file: Option<std::path::PathBuf>,
    /// Why there is no usable session (the command then exits 3 after printing the report);
    /// written as `signedIn`, true when there is none.
    #[serde(rename = "signedIn", serialize_with = "signed_in")]
    pub signed_out: Option<String>,
}

// serde's `serialize_with` hands the field over as it is declared.
#[allow(clippy::ref_option)]
fn rfc3339<S: serde::Serializer>(secs: &Option<u64>, s: S) -> std::result::Result<S::Ok, S::Error> {
    match secs {
        Some(t) => s.serialize_str(&crate::output::rfc3339(*t)),
        None => s.serialize_none(),
    }
}

// serde's `serialize_with` hands the field over as it is declared.
#[allow(clippy::ref_option)]
fn signed_in<S: serde::Serializer>(
    signed_out: &Option<String>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_bool(signed_out.is_none())
}

impl Status {
    /// The error the command ends with: none when signed in.
    pub fn outcome(&self) -> Result<()> {
        match &self.signed_out {
            None => Ok(()),
            Some(message) => Err(Error::SignInRequired {
                message: message.clone(),
            }),
        }
    }
}

/// Runs `azobo status`: the report, signed in or not (`signed_out` says why not).
pub async fn run(_args: &Args, ctx: &Context<'_>) -> Result<Status> {
    let profile = ctx.profile(&Overrides::default())?;
    let base = Status {
        profile: profile.name.clone(),
        account: None,
        authority: profile.authority.as_str().trim_end_matches('/').to_owned(),
        tenant: profile.tenant.clone(),
        api_scope: profile.api_scope.clone(),
        api_url: profile.api_url.to_string(),
        token_expires_on: None,
        refreshable: false,
        storage: None,
        survives_reboot: true,
        env_token: ctx.env_token().is_some(),
        plaintext_file: None,
        signed_out: None,
    };
    if base.env_token {
        return Ok(base);
    }
    let store = ctx.store()?;
    let Some(loaded) = store.load().await? else {
        return Ok(Status {
            signed_out: Some(format!("not signed in (profile `{}`)", profile.name)),
            ..base
        });
    };
    let meta = &loaded.meta;
    let moved = crate::client::session::moved(meta, &profile);
    let token = loaded.secrets.tokens.get(&meta.api_scope);
    let status = Status {
        account: Some(meta.account.clone()),
        authority: meta.authority.clone(),
        tenant: meta.tenant.clone(),
        api_scope: Some(meta.api_scope.clone()),
        token_expires_on: token.map(|t| t.expires_on),
        refreshable: loaded.secrets.refresh_token.is_some(),
        plaintext_file: (meta.storage == Storage::File).then(|| store.plaintext_path()),
        storage: Some(meta.storage),
        survives_reboot: match meta.storage {
            Storage::Keyring(b) => b.survives_reboot(),
            Storage::File => true,
        },
        ..base
    };
    if moved.is_some() {
        return Ok(Status {
            signed_out: moved,
            ..status
        });
    }
    if !status.refreshable && token.is_none_or(|t| t.expires_on <= crate::client::session::now()) {
        return Ok(Status {
            signed_out: Some(format!(
                "the session of `{}` in profile `{}` has expired",
                meta.account.username, profile.name
            )),
            ..status
        });
    }
    Ok(status)
}
