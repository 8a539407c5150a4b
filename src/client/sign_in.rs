//! The sign-in flow every command that signs someone in shares: `login`, `subscriptions` when it
//! answers an API's claims challenge, and `demo`. Browser + loopback redirect with PKCE, or the
//! device code flow; the id_token is verified before anything is trusted.
//!
//! A sign-in that will be stored checks the store first (`sign_in_to_store`): a store the next
//! process cannot read fails before the browser opens, not after a full MFA round. A sign-in that
//! answers a claims challenge must come back as the same account: the picker can still offer
//! another one, and a session silently turned into someone else's is worse than an error.

use std::time::Duration;

use base64::Engine as _;
use oauth2::TokenResponse as _;

use super::authorize::{self, Hints};
use super::browser::{self, NoBrowser};
use super::entra::{EntraClient, TokenResponse};
use super::loopback::{Callback, Loopback};
use super::{device_code, oidc, session};
use crate::config::Env;
use crate::env_vars;
use crate::error::{Error, Result};
use crate::output::Printer;
use crate::store::{Account, CachedToken, Secrets, SessionMeta, Storage, StoragePlan, Store};

/// Largest claims challenge accepted (Entra's are a few hundred bytes).
const MAX_CLAIMS_BYTES: usize = 16 * 1024;

/// What to sign in to, and how.
#[derive(Debug, Clone)]
pub struct SignInOptions {
    /// `{authority}/{tenant}`.
    pub tenant_authority: String,
    /// The public client's id.
    pub client_id: String,
    /// The API scope (`openid profile offline_access` are always added).
    pub api_scope: String,
    /// More scopes to request.
    pub extra_scopes: Vec<String>,
    /// Account to pre-select.
    pub login_hint: Option<String>,
    /// A claims challenge (JSON) to satisfy.
    pub claims: Option<String>,
    /// Fixed loopback port.
    pub port: Option<u16>,
    /// How long to wait for the browser.
    pub timeout: Duration,
    /// Print the URL instead of opening a browser.
    pub no_browser: bool,
    /// Use the device code flow.
    pub device_code: bool,
    /// Follow the sign-in page in-process (the demo's `--auto`).
    pub auto_follow: bool,
    /// The account the sign-in must come back as (a re-sign-in), by `oid` and `tid`.
    pub same_account: Option<Account>,
}

impl SignInOptions {
    /// A plain sign-in with `azobo login`'s defaults.
    pub fn new(tenant_authority: String, client_id: String, api_scope: String) -> Self {
        Self {
            tenant_authority,
            client_id,
            api_scope,
            extra_scopes: Vec::new(),
            login_hint: None,
            claims: None,
            port: None,
            timeout: Duration::from_secs(300),
            no_browser: false,
            device_code: false,
            auto_follow: false,
            same_account: None,
        }
    }

    /// A sign-in that answers `claims` for the session described by `meta`: the same app, API,
    /// tenant and account (as `login_hint`), and the account checked on return.
    pub fn answering(meta: &SessionMeta, claims: String) -> Self {
        let mut o = Self::new(
            format!("{}/{}", meta.authority, meta.account.tenant_id),
            meta.client_id.clone(),
            meta.api_scope.clone(),
        );
        o.extra_scopes = meta
            .scopes
            .iter()
            .filter(|s| !matches!(s.as_str(), "openid" | "profile" | "offline_access"))
            .filter(|s| **s != meta.api_scope)
            .cloned()
            .collect();
        o.login_hint = Some(meta.account.username.clone());
        o.claims = Some(claims);
        o.same_account = Some(meta.account.clone());
        o
    }
}

impl SignInOptions {
    /// The options that answer a claims challenge (MFA, a Conditional Access policy) for the
    /// account that just signed in with `self`: the same app and scopes, that account only.
    #[must_use]
    pub fn answering_for(&self, account: &Account, claims: String) -> Self {
        let mut o = self.clone();
        o.login_hint = Some(account.username.clone());
        o.claims = Some(claims);
        o.same_account = Some(account.clone());
        o.auto_follow = false;
        o
    }
}

/// Where a sign-in runs: the HTTP client, the environment (browser choice), the printer for
/// prompts, and whether a person is there.
#[derive(Clone, Copy)]
pub struct Surroundings<'a> {
    /// The shared HTTP client.
    pub http: &'a reqwest::Client,
    /// The environment snapshot.
    pub env: &'a Env,
    /// Where prompts go.
    pub printer: &'a Printer,
    /// A person is at a terminal.
    pub interactive: bool,
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
    /// How the user signed in (a browser sign-in may have fallen back to a device code).
    pub flow: Flow,
}

/// The way a sign-in went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Authorization code + PKCE, the redirect caught on a loopback port.
    Browser,
    /// The device code flow: a code entered on another device's page.
    DeviceCode,
}

/// Checks a claims challenge given on the command line: JSON, and not huge.
pub fn parse_claims(json: &str) -> Result<String> {
    if json.len() > MAX_CLAIMS_BYTES {
        return Err(Error::usage(format!(
            "`--claims`: longer than {MAX_CLAIMS_BYTES} bytes"
        )));
    }
    match serde_json::from_str::<serde_json::Value>(json) {
        Ok(serde_json::Value::Object(_)) => Ok(json.to_owned()),
        _ => Err(Error::usage(
            "`--claims`: not a JSON object (pass the claims challenge exactly as the API sent it)",
        )),
    }
}

/// Decodes `--claims-b64` (base64url of the claims JSON, as azobo's hints print it).
pub fn parse_claims_b64(b64: &str) -> Result<String> {
    let trimmed = b64.trim().trim_end_matches('=');
    if trimmed.len() > MAX_CLAIMS_BYTES * 4 / 3 + 4 {
        return Err(Error::usage(format!(
            "`--claims-b64`: longer than {MAX_CLAIMS_BYTES} bytes once decoded"
        )));
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(trimmed)
        .map_err(|_| Error::usage("`--claims-b64`: not base64url"))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::usage("`--claims-b64`: does not decode to text"))?;
    parse_claims(&text)
        .map_err(|_| Error::usage("`--claims-b64`: does not decode to a JSON object"))
}

/// The command that answers `claims` for `profile`, safe to paste into any shell: base64url has
/// no character a shell would act on, and profile names are letters, digits, `-`, `_` and `.`.
pub fn claims_command(profile: &str, claims: &str) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.as_bytes());
    format!(
        "azobo{} login --claims-b64 {b64}",
        crate::config::profile_flag(profile)
    )
}

fn callback_error(error: &str, description: &str) -> Error {
    let message = format!(
        "the identity platform refused the sign-in: {error}: {}",
        super::entra::without_trace(description)
    );
    match error {
        // The user cancelled or declined on the page: the message says so.
        "access_denied" => Error::AccessDenied { message }.without_hint(),
        "consent_required" => Error::AccessDenied { message }.with_hint(
            "an administrator must grant consent to the app in this tenant (README: \"Using it with a real tenant\")",
        ),
        "unauthorized_client" => Error::AccessDenied { message }.with_hint(
            "the app registration does not allow this sign-in: check the profile's `client_id` and the app's public-client redirect URIs",
        ),
        "temporarily_unavailable" | "server_error" => Error::upstream(message),
        _ => Error::SignInRequired { message }.with_hint(
            "sign in again; the README's troubleshooting section explains the AADSTS code",
        ),
    }
}

/// Signs in (browser + loopback, or device code) and verifies the id_token; stores nothing.
pub async fn sign_in(opts: &SignInOptions, env: Surroundings<'_>) -> Result<SignedIn> {
    let meta = oidc::metadata(env.http, &opts.tenant_authority).await?;
    sign_in_at(opts, env, &meta).await
}

/// `sign_in` with the authority's metadata already fetched.
async fn sign_in_at(
    opts: &SignInOptions,
    env: Surroundings<'_>,
    meta: &oidc::Metadata,
) -> Result<SignedIn> {
    let http = env.http;
    let client = authorize::client(meta, &opts.client_id)?;
    let scopes = authorize::scopes(&opts.api_scope, &opts.extra_scopes);
    let hints = Hints {
        login_hint: opts.login_hint.clone(),
        claims: opts.claims.clone(),
    };

    let explicit_browser = env.env.get(env_vars::AZOBO_BROWSER).is_some();
    let (token, nonce, flow) = if opts.device_code {
        (
            device_flow(env, &client, &scopes, &hints).await?,
            None,
            Flow::DeviceCode,
        )
    } else if !env.interactive && !explicit_browser && !opts.auto_follow {
        return Err(Error::SignInRequired {
            message: "no one is at a terminal to use a browser (non-interactive run); use `azobo login --device-code`, or set `AZOBO_TOKEN`".to_owned(),
        }
        .without_hint());
    } else {
        match browser_flow(opts, env, &client, &scopes, &hints).await? {
            Some((token, nonce)) => (token, nonce, Flow::Browser),
            None if env.interactive => (
                device_flow(env, &client, &scopes, &hints).await?,
                None,
                Flow::DeviceCode,
            ),
            None => {
                return Err(Error::SignInRequired {
                    message: "the browser could not be started and this run is non-interactive; use `azobo login --device-code`".to_owned(),
                }
                .without_hint());
            }
        }
    };
    let id_token = token.extra_fields().id_token.clone().ok_or_else(|| {
        Error::failure(
            "the identity platform returned no id_token; is `openid` allowed for this app?",
        )
    })?;
    let account =
        oidc::verify_id_token(http, meta, &id_token, &opts.client_id, nonce.as_deref()).await?;
    if let Some(expected) = &opts.same_account
        && (account.oid != expected.oid || account.tenant_id != expected.tenant_id)
    {
        {
            return Err(Error::SignInRequired {
                message: format!(
                    "the sign-in came back as {} (object {} in tenant {}), but this session belongs to {} (object {} in tenant {}); nothing was changed",
                    account.username,
                    account.oid,
                    account.tenant_id,
                    expected.username,
                    expected.oid,
                    expected.tenant_id
                ),
            }
            .with_hint(format!(
                "pick {} in the account picker, or run `azobo logout` first to switch accounts",
                expected.username
            )));
        }
    }
    Ok(SignedIn {
        account,
        token,
        token_endpoint: meta.token_endpoint.clone(),
        scopes,
        flow,
    })
}

/// What a stored sign-in produced.
#[derive(Debug, Clone)]
pub struct Stored {
    /// Who signed in.
    pub account: Account,
    /// Where the session is kept.
    pub storage: Storage,
}

/// Checks that `store` can keep a session for the next process, then signs in and stores the
/// session there. The store is probed before the browser opens or a device code is requested.
pub async fn sign_in_to_store(
    opts: &SignInOptions,
    env: Surroundings<'_>,
    store: &Store,
    plan: &StoragePlan,
    authority: &str,
    tenant: &str,
) -> Result<Stored> {
    // The store check and the authority's discovery document are independent: fetch one while
    // the other runs (against a real tenant, discovery is a network round trip). Both run to the
    // end, so a failed discovery never strands a probe entry in a keyring.
    let (ready, meta) = tokio::join!(
        store.preflight(plan),
        oidc::metadata(env.http, &opts.tenant_authority)
    );
    let (ready, meta) = (ready?, meta?);
    let signed = sign_in_at(opts, env, &meta).await?;
    let refresh_token = signed.token.refresh_token().map(|t| t.secret().clone());
    if refresh_token.is_none() {
        env.printer.warn("no refresh token came back (is `offline_access` allowed?); you will have to sign in again when the token expires");
    }
    let mut secrets = Secrets {
        refresh_token,
        ..Secrets::default()
    };
    secrets.tokens.insert(
        opts.api_scope.clone(),
        CachedToken {
            access_token: signed.token.access_token().secret().clone(),
            scope: granted_scope(&signed.token, &opts.api_scope),
            expires_on: session::expires_on(signed.token.expires_in()),
        },
    );
    let meta = SessionMeta {
        profile: store.profile().to_owned(),
        account: signed.account.clone(),
        authority: authority.to_owned(),
        tenant: tenant.to_owned(),
        client_id: opts.client_id.clone(),
        token_endpoint: signed.token_endpoint,
        api_scope: opts.api_scope.clone(),
        scopes: signed.scopes,
        storage: ready.storage,
        signed_in_at: 0,
        key_entry: None,
        cache_file: None,
    };
    let _lock = store.lock().await?;
    let storage = store.save_new(meta, &secrets, ready).await?;
    Ok(Stored {
        account: signed.account,
        storage,
    })
}

/// The storage plan that keeps a re-signed-in session where the current one is.
pub fn same_storage(meta: &SessionMeta) -> StoragePlan {
    match meta.storage {
        Storage::File => StoragePlan {
            insecure_file: true,
            keyring_choice: None,
        },
        Storage::Keyring(b) => StoragePlan {
            insecure_file: false,
            keyring_choice: Some(b.id().to_owned()),
        },
    }
}

/// The scopes a token response granted, or `fallback`.
pub fn granted_scope(token: &TokenResponse, fallback: &str) -> String {
    token.scopes().map_or_else(
        || fallback.to_owned(),
        |s| s.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(" "),
    )
}

/// Browser + loopback; `None` when no browser could be started (the caller may fall back).
async fn browser_flow(
    opts: &SignInOptions,
    env: Surroundings<'_>,
    client: &EntraClient,
    scopes: &[String],
    hints: &Hints,
) -> Result<Option<(TokenResponse, Option<String>)>> {
    let (http, printer) = (env.http, env.printer);
    let listener = Loopback::bind(opts.port).await?;
    let redirect = listener.redirect_uri();
    let req = authorize::request(client, &redirect, scopes, hints)?;
    let port = listener.port();
    let waiting = listener.start(&req.state);
    // The URL is what a user needs when the page opens elsewhere or not at all: it shows even
    // with `--quiet` — but not before a browser that cannot start: the device code takes over.
    let show_url = || printer.notice(&format!("Sign in at: {}", req.url));
    if opts.auto_follow {
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
    } else if opts.no_browser {
        show_url();
        printer.notice(&format!("Open that URL in a browser on this machine; waiting for the redirect to localhost:{port} (Ctrl-C to cancel)."));
    } else {
        let (url, vars) = (req.url.clone(), env.env.clone());
        let opened = tokio::task::spawn_blocking(move || browser::open(&url, &vars))
            .await
            .map_err(|e| Error::failure(format!("starting the browser: {e}")))?;
        match opened {
            Ok(how) => {
                show_url();
                printer.info(&format!("Opened the sign-in page with {how}; waiting for the redirect to localhost:{port} (Ctrl-C to cancel)."));
            }
            Err(NoBrowser::Unavailable(why) | NoBrowser::Failed(why)) => {
                printer.warn(&format!(
                    "cannot open a browser: {why}; switching to the device code flow"
                ));
                return Ok(None);
            }
        }
    }
    let wait = waiting.finish(opts.timeout);
    let callback = printer
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
    env: Surroundings<'_>,
    client: &EntraClient,
    scopes: &[String],
    hints: &Hints,
) -> Result<TokenResponse> {
    let (details, message) =
        device_code::start(client, env.http, scopes, hints.claims.as_deref()).await?;
    env.printer.notice(&message);
    env.printer
        .while_waiting(
            "Waiting for the device code sign-in…",
            device_code::finish(client, env.http, &details),
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

    #[test]
    fn claims_commands_are_shell_safe_whatever_the_api_sent() {
        let hostile = r#"{"x":"'; touch /tmp/pwned; echo '$(id)`id`\n"}"#;
        let cmd = claims_command("work.prod-1", hostile);
        let b64 = cmd.rsplit(' ').next().unwrap();
        assert!(
            b64.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "{cmd}"
        );
        assert!(cmd.starts_with("azobo --profile work.prod-1 login --claims-b64 "));
        assert_eq!(parse_claims_b64(b64).unwrap(), hostile);
        assert!(!claims_command("default", "{}").contains("--profile"));
    }

    #[test]
    fn claims_must_be_a_bounded_json_object() {
        assert!(parse_claims("not json").is_err());
        assert!(parse_claims("[1]").is_err());
        assert!(parse_claims(&format!("{{\"a\":\"{}\"}}", "x".repeat(20_000))).is_err());
        assert!(parse_claims(r#"{"access_token":{}}"#).is_ok());
        assert!(parse_claims_b64("!!").is_err());
    }
}
