//! `azobo login`: turns its flags into sign-in options and hands them to the shared flow in
//! `client::sign_in`, which checks the store, signs in and stores the session.

use std::time::Duration;

use crate::client::session;
use crate::client::sign_in::{self, SignInOptions};
use crate::config::Overrides;
use crate::context::Context;
use crate::env_vars;
use crate::error::{Error, Result};
use crate::store::{Account, Storage, StoragePlan};

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
    /// The same claims challenge as base64url (what azobo's hints print: safe to paste)
    #[arg(long, value_name = "BASE64URL", conflicts_with = "claims")]
    pub claims_b64: Option<String>,
    /// Loopback port for the redirect [default: a free one]
    #[arg(long, value_name = "N")]
    pub port: Option<u16>,
    /// Seconds to wait for the browser sign-in (1 to 3600)
    #[arg(long, default_value_t = 300, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
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

/// What `login` did.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    /// The profile.
    pub profile: String,
    /// Who signed in.
    pub account: Account,
    /// Where the session is kept.
    pub storage: Storage,
    /// False for the kernel keyring: the session ends at reboot.
    pub survives_reboot: bool,
    /// The plaintext file the session is kept in, when it is (warned about).
    #[serde(skip)]
    pub plaintext_file: Option<std::path::PathBuf>,
}

fn storage_plan(args: &Args, ctx: &Context<'_>) -> Result<StoragePlan> {
    StoragePlan::resolve(
        ctx.env.get(env_vars::AZOBO_TOKEN_STORE),
        args.insecure_storage,
        ctx.env.get(env_vars::AZOBO_KEYRING),
    )
}

/// Runs `azobo login`.
pub async fn run(args: &Args, ctx: &Context<'_>) -> Result<Outcome> {
    ctx.refuse_with_env_token("sign in")?;
    let claims = match (&args.claims, &args.claims_b64) {
        (Some(json), _) => Some(sign_in::parse_claims(json)?),
        (None, Some(b64)) => Some(sign_in::parse_claims_b64(b64)?),
        (None, None) => None,
    };
    let profile = ctx.profile(&Overrides {
        tenant: args.tenant.clone(),
        ..Overrides::default()
    })?;
    let mut plan = storage_plan(args, ctx)?;
    let store = ctx.store()?;
    // Answering a claims challenge is a re-sign-in of the session's account, in its tenant,
    // kept where the session is unless the user says otherwise.
    // A session the profile has moved away from (another authority or client) is not answered
    // for: the sign-in follows the profile.
    let current = match (&claims, args.tenant.is_none()) {
        (Some(_), true) => store
            .meta()
            .ok()
            .flatten()
            .filter(|m| session::moved(m, &profile).is_none()),
        _ => None,
    };
    let storage_chosen = args.insecure_storage
        || ctx.env.get(env_vars::AZOBO_TOKEN_STORE).is_some()
        || ctx.env.get(env_vars::AZOBO_KEYRING).is_some();
    if let Some(meta) = current.as_ref().filter(|_| !storage_chosen) {
        plan = sign_in::same_storage(meta);
    }
    let mut opts = match (&current, &claims) {
        (Some(meta), Some(c)) => SignInOptions::answering(meta, c.clone()),
        _ => {
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
            let mut o = SignInOptions::new(profile.tenant_authority(), client_id, api_scope);
            o.claims = claims;
            o
        }
    };
    opts.extra_scopes.extend(args.scope.iter().cloned());
    if args.login_hint.is_some() {
        opts.login_hint = args.login_hint.clone();
    }
    opts.port = args.port;
    opts.timeout = Duration::from_secs(args.timeout);
    opts.no_browser = args.no_browser;
    opts.device_code = args.device_code;
    let (authority, tenant) = match &current {
        Some(meta) => (meta.authority.clone(), meta.tenant.clone()),
        None => (
            profile.authority.as_str().trim_end_matches('/').to_owned(),
            profile.tenant.clone(),
        ),
    };
    let http = ctx.http()?;
    let surroundings = ctx.sign_in_surroundings(&http);
    let stored =
        sign_in::sign_in_to_store(&opts, surroundings, &store, &plan, &authority, &tenant)
            .await
            .map_err(|e| {
                // The class hint of a failed sign-in is "run `azobo login`": this is that.
                if e.is_sign_in_required() && !e.has_own_hint() {
                    e.with_hint("the sign-in did not complete; start it again, or use `--device-code` to finish it on another device")
                } else {
                    e
                }
            })?;
    let survives_reboot = match stored.storage {
        Storage::Keyring(b) => b.survives_reboot(),
        Storage::File => true,
    };
    Ok(Outcome {
        profile: profile.name,
        account: stored.account,
        storage: stored.storage,
        survives_reboot,
        plaintext_file: (stored.storage == Storage::File).then(|| store.plaintext_path()),
    })
}
