//! `azobo login`: browser + loopback redirect with PKCE, or the device code flow; verifies the
//! id_token and stores the session.

use std::time::Duration;

use oauth2::TokenResponse as _;

use crate::client::authorize::{self, Hints};
use crate::client::browser::{self, NoBrowser};
use crate::client::entra::TokenResponse;
use crate::client::loopback::{Callback, Loopback};
use crate::client::{device_code, oidc, session};
use crate::config::Overrides;
use crate::context::Context;
use crate::env_vars;
use crate::error::{Error, Result};
use crate::store::{Account, CachedToken, Secrets, SessionMeta, Storage, StoragePlan};

/// Sign in and keep the session in the OS keyring.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  azobo login                          # opens the browser; the redirect lands on localhost
  azobo login --device-code            # no browser here (SSH, container, CI with a person)
  azobo login --login-hint alice@contoso.com --tenant contoso.onmicrosoft.com
  azobo --profile work login --no-browser --port 8400
  AZOBO_BROWSER=\"firefox --new-window\" azobo login")]
pub struct Args {
    /// Another scope to request as well (repeatable)
    #[arg(long, value_name = "SCOPE")]
    pub scope: Vec<String>,
    /// Tenant to sign in to (GUID, domain, organizations, common)
    #[arg(long, value_name = "TENANT")]
    pub tenant: Option<String>,
    /// Account to pre-select instead of asking which one to use
    #[arg(long, value_name = "USER")]
    pub login_hint: Option<String>,
    /// Claims challenge (JSON) to satisfy, as sent by an API that needs more (e.g. MFA)
    #[arg(long, value_name = "JSON")]
    pub claims: Option<String>,
    /// Loopback port for the redirect [default: a free one]
    #[arg(long, value_name = "N")]
    pub port: Option<u16>,
    /// Seconds to wait for the browser sign-in
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub timeout: u64,
    /// Print the sign-in URL instead of opening a browser (still waits for the redirect)
    #[arg(long)]
    pub no_browser: bool,
    /// Use the device code flow: sign in on any other device
    #[arg(long, conflicts_with_all = ["no_browser", "port"])]
    pub device_code: bool,
    /// Keep tokens in a plaintext 0600 file instead of the OS keyring [env: AZOBO_TOKEN_STORE=file]
    #[arg(long)]
    pub insecure_storage: bool,
}

impl Args {
    /// The options of a plain `azobo login`.
    pub fn plain() -> Self {
        Self {
            scope: Vec::new(),
            tenant: None,
            login_hint: None,
            claims: None,
            port: None,
            timeout: 300,
            no_browser: false,
            device_code: false,
            insecure_storage: false,
        }
    }

    /// A sign-in that answers an API's claims challenge, with the defaults of `azobo login`.
    pub fn answering(claims: String, device_code: bool, insecure_storage: bool) -> Self {
        Self {
            claims: Some(claims),
            device_code,
            insecure_storage,
            ..Self::plain()
        }
    }
}

/// What `login` did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Outcome {
    /// The profile.
    pub profile: String,
    /// Who signed in.
    pub account: Account,
    /// Where the session is kept.
    pub storage: Storage,
    /// False for the kernel keyring: the session ends at reboot.
    pub survives_reboot: bool,
}

fn storage_plan(args: &Args, ctx: &Context<'_>) -> Result<StoragePlan> {
    let insecure = match ctx
        .env
        .get(env_vars::AZOBO_TOKEN_STORE)
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("keyring") => args.insecure_storage,
        Some("file") => true,
        Some(other) => {
            return Err(Error::usage(format!(
                "`AZOBO_TOKEN_STORE`: `{other}` is not `keyring` or `file`"
            )));
        }
    };
    Ok(StoragePlan {
        insecure_file: insecure,
        keyring_choice: ctx.env.get(env_vars::AZOBO_KEYRING).map(str::to_owned),
    })
}

fn callback_error(error: &str, description: &str) -> Error {
    let message = format!(
        "the identity platform refused the sign-in: {error}: {}",
        crate::client::entra::without_trace(description)
    );
    match error {
        "access_denied" | "consent_required" | "unauthorized_client" => {
            Error::AccessDenied { message }
        }
        "temporarily_unavailable" | "server_error" => Error::upstream(message),
        _ => Error::SignInRequired { message },
    }
}

/// A sign-in to perform.
pub struct SignIn<'a> {
    /// `{authority}/{tenant}`.
    pub tenant_authority: String,
    /// The public client's id.
    pub client_id: String,
    /// The API scope (plus `openid profile offline_access` and `args.scope`).
    pub api_scope: String,
    /// The command-line options of the sign-in.
    pub args: &'a Args,
    /// Follow the sign-in page in-process instead of opening a browser (the demo's `--auto`).
    pub auto_follow: bool,
}

/// The outcome of a sign-in, before anything is stored.
pub struct SignedIn {
    /// The verified account.
    pub account: Account,
    /// The token response.
    pub token: TokenResponse,
    /// Where the refresh token is redeemed.
    pub token_endpoint: String,
    /// The scopes asked for.
    pub scopes: Vec<String>,
}

/// Signs in (browser + loopback, or device code) and verifies the id_token; stores nothing.
pub async fn sign_in(req: &SignIn<'_>, ctx: &Context<'_>) -> Result<SignedIn> {
    let args = req.args;
    let http = ctx.http()?;
    let meta = oidc::metadata(&http, &req.tenant_authority).await?;
    let client = authorize::client(&meta, &req.client_id)?;
    let scopes = authorize::scopes(&req.api_scope, &args.scope);
    let hints = Hints {
        login_hint: args.login_hint.clone(),
        claims: args.claims.clone(),
    };

    let explicit_browser = ctx.env.get(env_vars::AZOBO_BROWSER).is_some();
    let (token, nonce) = if args.device_code {
        (device_flow(ctx, &client, &http, &scopes).await?, None)
    } else if !ctx.interactive && !explicit_browser && !req.auto_follow {
        return Err(Error::SignInRequired {
            message: "no one is at a terminal to use a browser (non-interactive run); use `azobo login --device-code`, or set `AZOBO_TOKEN`".to_owned(),
        });
    } else {
        match browser_flow(args, ctx, &client, &http, &scopes, &hints, req.auto_follow).await? {
            Some(pair) => pair,
            None if ctx.interactive => (device_flow(ctx, &client, &http, &scopes).await?, None),
            None => return Err(Error::SignInRequired { message: "the browser could not be started and this run is non-interactive; use `azobo login --device-code`".to_owned() }),
        }
    };
    let id_token = token.extra_fields().id_token.clone().ok_or_else(|| {
        Error::failure(
            "the identity platform returned no id_token; is `openid` allowed for this app?",
        )
    })?;
    let account =
        oidc::verify_id_token(&http, &meta, &id_token, &req.client_id, nonce.as_deref()).await?;
    Ok(SignedIn {
        account,
        token,
        token_endpoint: meta.token_endpoint.clone(),
        scopes,
    })
}

/// The scopes a token response granted, or `fallback`.
pub fn granted_scope(token: &TokenResponse, fallback: &str) -> String {
    token.scopes().map_or_else(
        || fallback.to_owned(),
        |s| s.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(" "),
    )
}

/// Runs `azobo login`.
pub async fn run(args: &Args, ctx: &Context<'_>) -> Result<Outcome> {
    ctx.refuse_with_env_token("sign in")?;
    let profile = ctx.profile(&Overrides {
        tenant: args.tenant.clone(),
        ..Overrides::default()
    })?;
    let missing = |key: &str, var: &str| {
        Error::usage(format!(
            "profile `{}` has no `{key}`; set it in `{}` or with `{var}`",
            profile.name,
            profile.config_file.display()
        ))
    };
    let client_id = profile
        .client_id
        .clone()
        .ok_or_else(|| missing("client_id", env_vars::AZOBO_CLIENT_ID))?;
    let api_scope = profile
        .api_scope
        .clone()
        .ok_or_else(|| missing("api_scope", env_vars::AZOBO_API_SCOPE))?;
    let plan = storage_plan(args, ctx)?;
    let store = ctx.store()?;
    let req = SignIn {
        tenant_authority: profile.tenant_authority(),
        client_id: client_id.clone(),
        api_scope: api_scope.clone(),
        args,
        auto_follow: false,
    };
    let SignedIn {
        account,
        token,
        token_endpoint,
        scopes,
    } = sign_in(&req, ctx).await?;
    let refresh_token = token.refresh_token().map(|t| t.secret().clone());
    if refresh_token.is_none() {
        ctx.printer.warn("no refresh token came back (is `offline_access` allowed?); you will have to sign in again when the token expires");
    }
    let mut secrets = Secrets {
        refresh_token,
        ..Secrets::default()
    };
    secrets.tokens.insert(
        api_scope.clone(),
        CachedToken {
            access_token: token.access_token().secret().clone(),
            scope: granted_scope(&token, &api_scope),
            expires_on: session::now() + token.expires_in().map_or(3600, |d| d.as_secs()),
        },
    );
    let session_meta = SessionMeta {
        profile: profile.name.clone(),
        account: account.clone(),
        authority: profile.authority.as_str().trim_end_matches('/').to_owned(),
        tenant: profile.tenant.clone(),
        client_id,
        token_endpoint,
        api_scope,
        scopes,
        storage: Storage::File,
        signed_in_at: 0,
    };
    let _lock = store.lock().await?;
    let storage = store.save_new(session_meta, &secrets, &plan).await?;
    let survives_reboot = match storage {
        Storage::Keyring(b) => b.survives_reboot(),
        Storage::File => true,
    };
    Ok(Outcome {
        profile: profile.name,
        account,
        storage,
        survives_reboot,
    })
}

/// Browser + loopback; `None` when no browser could be started (the caller may fall back).
async fn browser_flow(
    args: &Args,
    ctx: &Context<'_>,
    client: &crate::client::entra::EntraClient,
    http: &reqwest::Client,
    scopes: &[String],
    hints: &Hints,
    auto_follow: bool,
) -> Result<Option<(TokenResponse, Option<String>)>> {
    let listener = Loopback::bind(args.port).await?;
    let redirect = listener.redirect_uri();
    let req = authorize::request(client, &redirect, scopes, hints)?;
    let port = listener.port();
    let waiting = listener.start(&req.state);
    ctx.printer.info(&format!("Sign in at: {}", req.url));
    if auto_follow {
        // The demo's scripted browser: fetch the page and deliver its redirect to the listener,
        // over the same sockets a browser would use.
        let (url, http) = (req.url.clone(), http.clone());
        tokio::spawn(async move {
            let Ok(resp) = http.get(&url).send().await else {
                return;
            };
            if let Some(loc) = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
            {
                let _ = http.get(loc).send().await;
            }
        });
    } else if args.no_browser {
        ctx.printer.info(&format!("Open that URL in a browser on this machine; waiting for the redirect to localhost:{port} (Ctrl-C to cancel)."));
    } else {
        let (url, env) = (req.url.clone(), ctx.env.clone());
        let opened = tokio::task::spawn_blocking(move || browser::open(&url, &env))
            .await
            .map_err(|e| Error::failure(format!("starting the browser: {e}")))?;
        match opened {
            Ok(how) => ctx.printer.info(&format!("Opened the sign-in page with {how}; waiting for the redirect to localhost:{port} (Ctrl-C to cancel).")),
            Err(NoBrowser::Unavailable(why) | NoBrowser::Failed(why)) => {
                ctx.printer.warn(&format!("cannot open a browser: {why}; switching to the device code flow"));
                return Ok(None);
            }
        }
    }
    let wait = waiting.finish(Duration::from_secs(args.timeout));
    let callback = ctx
        .printer
        .while_waiting("Waiting for the browser sign-in…", wait)
        .await?;
    let code = match callback {
        Callback::Code(code) => code,
        Callback::Error { error, description } => return Err(callback_error(&error, &description)),
    };
    let nonce = req.nonce.clone();
    let token = authorize::redeem(client, http, req, code, &redirect).await?;
    Ok(Some((token, Some(nonce))))
}

async fn device_flow(
    ctx: &Context<'_>,
    client: &crate::client::entra::EntraClient,
    http: &reqwest::Client,
    scopes: &[String],
) -> Result<TokenResponse> {
    let (details, message) = device_code::start(client, http, scopes).await?;
    ctx.printer.notice(&message);
    ctx.printer
        .while_waiting(
            "Waiting for the device code sign-in…",
            device_code::finish(client, http, &details),
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_errors_map_to_exit_codes() {
        assert_eq!(
            callback_error("access_denied", "AADSTS65004: declined").exit_code(),
            4
        );
        assert_eq!(callback_error("interaction_required", "x").exit_code(), 3);
        assert_eq!(
            callback_error("temporarily_unavailable", "x").exit_code(),
            5
        );
    }
}
