//! `azobo demo`: the whole story on one machine, with no Azure tenant — a dev tenant, the API,
//! a sign-in, and the subscriptions table. Tokens stay in memory: the demo never touches the
//! user's sessions or keyring.

use std::sync::Arc;
use std::time::Duration;

use oauth2::TokenResponse as _;

use crate::api::settings::{FileSettings, Given, resolve};
use crate::api::{AppState, router};
use crate::client::api;
use crate::client::sign_in::{self, SignInOptions};
use crate::commands::subscriptions::Listing;
use crate::context::Context;
use crate::dev_tenant::{self, Options, seed::SeedFile};
use crate::error::{Error, Result};
use crate::http_server::{self, Limits};
use crate::output::Output;

/// The demo user signed in with `--auto`.
const DEMO_USER: &str = "alice@contoso.example";

/// Try azobo end to end on this machine: local Entra ID + ARM, the API, a sign-in, your subscriptions.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  azobo demo                 # opens your browser on the dev tenant's sign-in page: pick a user
  azobo demo --auto          # signs alice in without a browser (the default when non-interactive)
  azobo demo --keep-running  # leaves the dev tenant and the API up for another shell
  azobo demo --keep-running --env > demo.env &   # then, in any shell: . ./demo.env")]
pub struct Args {
    /// Sign the demo user in without a browser
    #[arg(long)]
    pub auto: bool,
    /// Keep the dev tenant and the API running (until Ctrl-C) and print how to use them
    #[arg(long)]
    pub keep_running: bool,
    /// Write the `export AZOBO_…` lines to stdout, alone (for a file to source), not to stderr
    #[arg(long, requires = "keep_running")]
    pub env: bool,
}

/// Runs `azobo demo`.
pub async fn run(args: &Args, ctx: &Context<'_>) -> Result<()> {
    let auto = args.auto || !ctx.interactive;
    let printer = ctx.printer;
    printer
        .info("Starting a local Entra ID + Azure Resource Manager (the dev tenant) and the API…");
    let directory = SeedFile::default().resolve(std::path::Path::new("<built-in seed>"))?;
    let tenant = dev_tenant::start(Options {
        listen: ([127, 0, 0, 1], 0).into(),
        tls: false,
        directory,
        auto_approve: auto.then(|| DEMO_USER.to_owned()),
        page_size: 100,
        token_lifetime: None,
        device_code_interval: 5,
        runtime_dir: None,
        state_dir: None,
        control_token: false,
        max_connections: 1024,
    })
    .await?;
    let info = tenant.info.clone();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|v| *v).await;
    };
    let tenant_task = tokio::spawn(tenant.serve(stopped(stop_rx.clone())));

    let settings = resolve(
        Given {
            listen: Some("127.0.0.1:0".into()),
            authority: Some(info.base_url.clone()),
            tenant: Some(info.tenant_id.clone()),
            client_id: Some(info.api_client_id.clone()),
            arm_url: Some(info.arm_url.clone()),
            client_secret: Some(info.api_client_secret.clone()),
            ..Given::default()
        },
        FileSettings::default(),
    )?;
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|e| Error::io("binding the demo API", e))?;
    let api_url = format!(
        "http://{}",
        listener
            .local_addr()
            .map_err(|e| Error::io("reading the demo API's address", e))?
    );
    // One HTTP client for the API's calls and the sign-in's.
    let http = ctx.http()?;
    let state = Arc::new(AppState::new(settings, http.clone(), None));
    state.keys.load().await.map_err(|e| {
        Error::failure(format!(
            "the demo API cannot read the dev tenant's keys: {e}"
        ))
    })?;
    let refresher = state.keys.spawn_refresher();
    let api_task = tokio::spawn(http_server::serve(
        listener,
        router(state, true),
        None,
        Limits {
            shutdown_grace: Duration::from_secs(2),
            ..Limits::default()
        },
        stopped(stop_rx),
    ));

    if auto {
        printer.info(&format!("Signing in as {DEMO_USER} (no browser)…"));
    } else {
        printer.info("Your browser opens the dev tenant's sign-in page: pick any demo user (alice has 4 subscriptions, bob 250, carol none).");
    }
    let mut opts = SignInOptions::new(
        info.authority.clone(),
        info.cli_client_id.clone(),
        info.api_scope.clone(),
    );
    opts.auto_follow = auto;
    let signed = sign_in::sign_in(&opts, ctx.sign_in_surroundings(&http)).await?;
    printer.info(&format!(
        "Signed in as {} <{}>.",
        signed.account.name, signed.account.username
    ));
    let url = api::subscriptions_url(
        &url::Url::parse(&api_url).map_err(|e| Error::failure(format!("demo API URL: {e}")))?,
    );
    let mut mfa_answered = false;
    let (listing, signed) = match list(ctx, &http, &url, &signed).await {
        Ok(l) => (l, signed),
        Err(api::CallError::Claims { claims, message }) if ctx.interactive => {
            // dave has MFA: the API asks for it, and the demo answers as `subscriptions` does.
            printer.warn(&format!(
                "the API needs {} to sign in again: {message}",
                signed.account.username
            ));
            let again = sign_in::sign_in(
                &opts.answering_for(&signed.account, claims),
                ctx.sign_in_surroundings(&http),
            )
            .await?;
            mfa_answered = true;
            match list(ctx, &http, &url, &again).await {
                Ok(l) => (l, again),
                Err(e) => return Err(refused(e)),
            }
        }
        Err(e) => return Err(refused(e)),
    };
    if !args.env {
        printer.render(&Output::Subscriptions(Box::new(Listing {
            items: listing.items,
            incomplete: listing.incomplete,
            plaintext_file: None,
        })))?;
    }
    let how = match (auto, signed.flow) {
        (true, _) => {
            "without a browser: the dev tenant approved it at once (`--auto`), where a real tenant shows its sign-in page"
        }
        (false, sign_in::Flow::Browser) => {
            "in the browser, with authorization code + PKCE; the redirect landed on a loopback port"
        }
        (false, sign_in::Flow::DeviceCode) => {
            "with the device code flow (no browser could be opened here): a code entered on the dev tenant's page"
        }
    };
    let mfa = if mfa_answered {
        " The API asked for MFA (a claims challenge) and the second sign-in answered it."
    } else {
        ""
    };
    printer.info(&format!(
        "\nWhat just happened:\n  1. Sign-in: {} signed in to the dev tenant {how}.{mfa}\n  2. On-Behalf-Of: the API validated that token and exchanged it for an Azure Resource Manager token for the same user.\n  3. ARM: the API listed every page of GET /subscriptions. For your real tenant: `azobo setup` registers the two apps and writes the profile (README: \"Using it with a real tenant\"), then `azobo login` and `azobo subscriptions`.",
        signed.account.username
    ));

    if args.keep_running {
        let exports: String = [
            ("AZOBO_PROFILE", "azobo-demo"),
            ("AZOBO_AUTHORITY", info.base_url.as_str()),
            ("AZOBO_TENANT", info.tenant_id.as_str()),
            ("AZOBO_CLIENT_ID", info.cli_client_id.as_str()),
            ("AZOBO_API_SCOPE", info.api_scope.as_str()),
            ("AZOBO_ARM_URL", info.arm_url.as_str()),
            ("AZOBO_API_URL", api_url.as_str()),
        ]
        .iter()
        .map(|(k, v)| format!("export {k}={}\n", shell_words::quote(v)))
        .collect();
        let stop = http_server::shutdown_signal();
        // stdout is the table's; the exports go there only when asked, alone, for a file.
        if args.env {
            printer.raw(&exports)?;
        } else {
            printer.info(&format!("\n{}", exports.trim_end()));
        }
        printer.info("The dev tenant and the API keep running until Ctrl-C. In another shell, run the exports above (or `. ./demo.env` after `azobo demo --keep-running --env > demo.env &`), then `azobo login` and `azobo subscriptions`: profile `azobo-demo` is made of these variables alone and needs no config file. Without a browser there: `azobo login --device-code`, and enter the code on the dev tenant's /devicelogin page.");
        stop.await;
    }
    let _ = stop_tx.send(true);
    refresher.abort();
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        let _ = api_task.await;
        let _ = tenant_task.await;
    })
    .await;
    Ok(())
}

/// One call to the demo API with `signed`'s token.
async fn list(
    ctx: &Context<'_>,
    http: &reqwest::Client,
    url: &str,
    signed: &sign_in::SignedIn,
) -> std::result::Result<api::Listing, api::CallError> {
    let correlation_id = uuid::Uuid::new_v4().to_string();
    ctx.printer
        .while_waiting(
            "Waiting for the API…",
            api::subscriptions(
                http,
                &api::Call::new(url, &correlation_id),
                signed.token.access_token().secret(),
            ),
        )
        .await
}

/// A refused or failed call as the demo's error.
fn refused(e: api::CallError) -> Error {
    match e {
        api::CallError::Fatal(e) => e,
        api::CallError::Claims { message, .. } => Error::SignInRequired {
            message: format!("the demo API asks for a new sign-in (MFA): {message}"),
        }
        .with_hint("at a terminal, the demo answers it: run `azobo demo` there and sign in again when asked"),
        api::CallError::Unauthorized(m) => Error::SignInRequired {
            message: format!("the demo API refused the token: {m}"),
        }
        .without_hint(),
    }
}
