//! `azobo subscriptions`: the user's subscriptions through the protected API.

use serde_json::Value;

use crate::client::api::{self, CallError};
use crate::client::session;
use crate::client::sign_in::{self, SignInOptions};
use crate::config::Overrides;
use crate::context::Context;
use crate::error::{Error, Result};

/// List your Azure subscriptions through the API (On-Behalf-Of you).
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  azobo subscriptions
  azobo subscriptions --json | jq -r '.[].subscriptionId'
  azobo subscriptions -o tsv | cut -f2
  azobo subscriptions --state enabled --query \"[].displayName\"
  azobo subscriptions --api-url https://obo-api.contoso.com")]
pub struct Args {
    /// The API's base URL [default: the profile's api_url]
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// Only subscriptions in this state (any case)
    #[arg(
        long,
        value_name = "STATE",
        value_enum,
        ignore_case = true,
        add = clap_complete::ArgValueCompleter::new(
            crate::commands::completions::complete_ignoring_case::<State>
        )
    )]
    pub state: Option<State>,
    /// If the API asks for a new sign-in (MFA), use the device code flow for it
    #[arg(long)]
    pub device_code: bool,
    /// Give up on the API after this long, retries included
    #[arg(long, value_name = "SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub api_timeout: u64,
    /// Refuse an answer from the API larger than this
    #[arg(long, value_name = "MIB", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub max_response_mib: u64,
}

/// A subscription's state, as ARM names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "PascalCase")]
pub enum State {
    Enabled,
    Warned,
    PastDue,
    Disabled,
    Deleted,
}

/// What the command found.
#[derive(Debug)]
pub struct Listing {
    /// The subscriptions (after `--state`), exactly as the API returned them.
    pub items: Vec<Value>,
    /// The API relayed only part of the list (it passed on a `nextLink`).
    pub incomplete: bool,
    /// The plaintext file the session is kept in, when it is.
    pub plaintext_file: Option<std::path::PathBuf>,
}

/// Runs `azobo subscriptions`.
pub async fn run(args: &Args, ctx: &Context<'_>) -> Result<Listing> {
    let profile = ctx.profile(&Overrides {
        api_url: args.api_url.clone(),
        ..Overrides::default()
    })?;
    let url = api::subscriptions_url(&profile.api_url);
    let http = ctx.http()?;
    let correlation_id = uuid::Uuid::new_v4().to_string();
    let call = api::Call {
        timeout: std::time::Duration::from_secs(args.api_timeout),
        max_bytes: usize::try_from(args.max_response_mib.saturating_mul(1024 * 1024))
            .unwrap_or(usize::MAX),
        ..api::Call::new(&url, &correlation_id)
    };
    let mut plaintext_file = None;
    let listing = if let Some(token) = ctx.env_token() {
        match list(ctx, &http, &call, token).await {
            Ok(l) => l,
            Err(CallError::Fatal(e)) => return Err(e),
            Err(CallError::Unauthorized(m) | CallError::Claims { message: m, .. }) => {
                return Err(Error::SignInRequired {
                    message: format!("the API refused `AZOBO_TOKEN`: {m}"),
                }
                .with_hint("set `AZOBO_TOKEN` to a fresh token for this API, or unset it to use the session of `azobo login`"));
            }
        }
    } else {
        let (listing, file) = with_session(args, ctx, &profile, &http, &call).await?;
        plaintext_file = file;
        listing
    };
    let mut items = listing.items;
    if let Some(state) = args.state {
        items.retain(|s| {
            s["state"].as_str().is_some_and(|x| {
                clap::ValueEnum::to_possible_value(&state)
                    .is_some_and(|v| x.eq_ignore_ascii_case(v.get_name()))
            })
        });
    }
    Ok(Listing {
        items,
        incomplete: listing.incomplete,
        plaintext_file,
    })
}

/// One call to the API, with a spinner at a terminal when it takes more than a second.
async fn list(
    ctx: &Context<'_>,
    http: &reqwest::Client,
    call: &api::Call<'_>,
    token: &str,
) -> Result<api::Listing, CallError> {
    ctx.printer
        .while_waiting(
            "Waiting for the API…",
            api::subscriptions(http, call, token),
        )
        .await
}

/// The listing through the session, and the plaintext file the session is kept in, if it is
/// (read from the one metadata read that also gives the scope).
async fn with_session(
    args: &Args,
    ctx: &Context<'_>,
    profile: &crate::config::Profile,
    http: &reqwest::Client,
    call: &api::Call<'_>,
) -> Result<(api::Listing, Option<std::path::PathBuf>)> {
    let store = ctx.store()?;
    let name = ctx.profile_name();
    let meta = store.meta()?;
    let plaintext_file = meta
        .as_ref()
        .filter(|m| m.storage == crate::store::Storage::File)
        .map(|_| store.plaintext_path());
    if let Some(m) = &meta {
        session::ensure_current(m, profile)?;
    }
    let scope = match meta {
        Some(m) => m.api_scope,
        None => profile
            .api_scope
            .clone()
            .ok_or_else(|| Error::SignInRequired {
                message: format!("not signed in (profile `{name}`)"),
            })?,
    };
    let listing = listing_with_session(args, ctx, &store, &name, &scope, http, call).await?;
    Ok((listing, plaintext_file))
}

#[allow(clippy::too_many_arguments)]
async fn listing_with_session(
    args: &Args,
    ctx: &Context<'_>,
    store: &crate::store::Store,
    name: &str,
    scope: &str,
    http: &reqwest::Client,
    call: &api::Call<'_>,
) -> Result<api::Listing> {
    let token = session::access_token(store, name, || Ok(http.clone()), scope, false).await?;
    let (claims, message) = match list(ctx, http, call, &token.secret).await {
        Ok(l) => return Ok(l),
        Err(CallError::Fatal(e)) => return Err(e),
        Err(CallError::Unauthorized(m)) => {
            // The token may have been revoked or expired in flight: refresh once and retry.
            let fresh =
                session::access_token(store, name, || Ok(http.clone()), scope, true).await?;
            return match list(ctx, http, call, &fresh.secret).await {
                Ok(l) => Ok(l),
                Err(CallError::Fatal(e)) => Err(e),
                Err(CallError::Unauthorized(m2)) => Err(Error::SignInRequired {
                    message: format!(
                        "the API still refuses the token after a refresh: {m2} (first: {m})"
                    ),
                }),
                Err(CallError::Claims { message, .. }) => Err(Error::SignInRequired { message }),
            };
        }
        Err(CallError::Claims { claims, message }) => (claims, message),
    };
    let Some(meta) = store.meta()? else {
        return Err(Error::SignInRequired {
            message: format!("the API needs a new sign-in ({message})"),
        });
    };
    if !ctx.interactive {
        return Err(Error::SignInRequired {
            message: format!("the API needs a new sign-in ({message})"),
        }
        .with_hint(format!(
            "at a terminal, run `{}`",
            sign_in::claims_command(name, &claims)
        )));
    }
    ctx.printer
        .warn(&format!("the API needs you to sign in again: {message}"));
    let mut opts = SignInOptions::answering(&meta, claims);
    opts.device_code = args.device_code;
    sign_in::sign_in_to_store(
        &opts,
        ctx.sign_in_surroundings(http),
        store,
        &sign_in::same_storage(&meta),
        &meta.authority,
        &meta.tenant,
    )
    .await?;
    let token = session::access_token(store, name, || Ok(http.clone()), scope, false).await?;
    match list(ctx, http, call, &token.secret).await {
        Ok(l) => Ok(l),
        Err(CallError::Fatal(e)) => Err(e),
        Err(CallError::Unauthorized(m) | CallError::Claims { message: m, .. }) => {
            Err(Error::SignInRequired {
                message: format!("the API still refuses access after signing in again: {m}"),
            })
        }
    }
}
