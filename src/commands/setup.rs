//! `azobo setup`: signs in to Microsoft Graph (tokens in memory only), registers or converges
//! the API and CLI apps (`graph::registration`), keeps the API's secret in a 0600 file and
//! writes the profile and `[serve_api]` into config.toml. `--cleanup` undoes it.

use std::path::PathBuf;
use std::time::Duration;

use oauth2::TokenResponse as _;
use serde::Serialize;

use crate::client::sign_in::{self, SignInOptions};
use crate::config::{self, Overrides};
use crate::config_edit::{self, Edit};
use crate::context::Context;
use crate::env_vars;
use crate::error::{Error, Result};
use crate::graph::registration::{self, Plan, Registered};
use crate::graph::{Graph, PlannedRequest};
use crate::store::file;
use crate::well_known::GRAPH_CLI_TOOLS_APP_ID;

fn prefix(s: &str) -> std::result::Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 40
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(s.to_owned())
    } else {
        Err(
            "use 1 to 40 letters, digits, `-`, `_` and `.`, starting with a letter or digit"
                .to_owned(),
        )
    }
}

/// Register the API and CLI apps in your tenant through Microsoft Graph and write the profile.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  azobo setup --tenant contoso.onmicrosoft.com     # browser sign-in as an administrator
  azobo setup --device-code --name obo-demo
  azobo setup --dry-run                            # the Graph requests it would send
  azobo --profile work setup --api-url https://obo-api.contoso.com
  azobo setup --cleanup                            # delete what setup created

Needs a directory role that may register apps and grant admin consent (Application
Administrator, Cloud Application Administrator). Without one, setup registers the apps, prints
the admin-consent URLs and exits 4.")]
pub struct Args {
    /// Tenant to register the apps in (GUID or domain) [default: the profile's]
    #[arg(long, value_name = "TENANT")]
    pub tenant: Option<String>,
    /// Prefix of the apps' names and of the marker setup finds them by
    #[arg(long = "name", value_name = "PREFIX", default_value = "azobo", value_parser = prefix)]
    pub prefix: String,
    /// The API's base URL to write into the profile [default: the profile's]
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// Microsoft Graph's base URL [env: AZOBO_GRAPH_URL] [default: the cloud's]
    #[arg(long, value_name = "URL")]
    pub graph_url: Option<String>,
    /// Public client to sign in to Graph with [default: Microsoft Graph Command Line Tools]
    #[arg(long, value_name = "APP_ID", default_value = GRAPH_CLI_TOOLS_APP_ID, hide_default_value = true)]
    pub bootstrap_client_id: String,
    /// Years the API's client secret stays valid (1 or 2)
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u8).range(1..=2))]
    pub secret_years: u8,
    /// Register this certificate (PEM) on the API app instead of a client secret
    #[arg(long, value_name = "FILE")]
    pub certificate: Option<PathBuf>,
    /// The certificate's private key (PEM), for serve-api [default: in the certificate file]
    #[arg(long, value_name = "FILE", requires = "certificate")]
    pub certificate_key: Option<PathBuf>,
    /// Sign in with the device code flow
    #[arg(long)]
    pub device_code: bool,
    /// Print the sign-in URL instead of opening a browser
    #[arg(long, conflicts_with = "device_code")]
    pub no_browser: bool,
    /// Seconds to wait for the browser sign-in (1 to 3600)
    #[arg(long, default_value_t = 300, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
    /// Print the Graph requests setup would send, and change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Delete the apps, service principals and grants setup created, and the secret file
    #[arg(long)]
    pub cleanup: bool,
}

/// What `setup` did (or, with `--dry-run`, would do).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The profile written.
    pub profile: String,
    /// `--dry-run`.
    pub dry_run: bool,
    /// `--cleanup`.
    pub cleanup: bool,
    /// The registration, unless cleaning up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registered: Option<Registered>,
    /// What `--cleanup` removed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
    /// The writes a dry run would send.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub planned: Vec<PlannedRequest>,
    /// The configuration file.
    pub config_file: PathBuf,
    /// The file holding the API's client secret.
    pub secret_file: PathBuf,
    /// The certificate registered instead of a secret (`--certificate`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<PathBuf>,
    /// The configuration file changed.
    pub config_changed: bool,
}

/// The certificate's DER and the absolute paths of it and its private key, checked before
/// anything is sent: the key must be an RSA key serve-api can sign with.
fn read_certificate(
    cert: &std::path::Path,
    key: Option<&std::path::Path>,
) -> Result<(Vec<u8>, PathBuf, PathBuf)> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject as _;
    let abs = |p: &std::path::Path| {
        std::path::absolute(p).map_err(|e| Error::io(format!("resolving `{}`", p.display()), e))
    };
    let pem = std::fs::read(cert).map_err(|e| {
        Error::usage(format!(
            "`--certificate`: cannot read `{}`: {e}",
            cert.display()
        ))
    })?;
    let der = CertificateDer::pem_slice_iter(&pem)
        .next()
        .ok_or_else(|| {
            Error::usage(format!(
                "`--certificate`: `{}` holds no CERTIFICATE block",
                cert.display()
            ))
        })?
        .map_err(|e| Error::usage(format!("`--certificate`: `{}`: {e}", cert.display())))?;
    let key_path = key.unwrap_or(cert);
    let key_pem = std::fs::read(key_path).map_err(|e| {
        Error::usage(format!(
            "`--certificate-key`: cannot read `{}`: {e}",
            key_path.display()
        ))
    })?;
    // A private key block (a certificate would pass jsonwebtoken's parser), and an RSA one.
    rustls_pki_types::PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|_| {
            Error::usage(format!(
                "`{}` holds no RSA private key in PEM; pass the certificate's key with `--certificate-key`",
                key_path.display()
            ))
        })?;
    jsonwebtoken::EncodingKey::from_rsa_pem(&key_pem).map_err(|_| {
        Error::usage(format!(
            "`{}` holds no RSA private key in PEM; pass the certificate's key with `--certificate-key`",
            key_path.display()
        ))
    })?;
    Ok((der.as_ref().to_vec(), abs(cert)?, abs(key_path)?))
}

/// Runs `azobo setup`.
pub async fn run(args: &Args, ctx: &Context<'_>) -> Result<Report> {
    let certificate = match &args.certificate {
        Some(c) => Some(read_certificate(c, args.certificate_key.as_deref())?),
        None => None,
    };
    let profile = ctx.profile(&Overrides {
        tenant: args.tenant.clone(),
        api_url: args.api_url.clone(),
        ..Overrides::default()
    })?;
    let graph_url = match args
        .graph_url
        .as_deref()
        .or_else(|| ctx.env.get(env_vars::AZOBO_GRAPH_URL))
    {
        Some(u) => config::parse_endpoint(u)
            .map_err(|m| Error::usage(format!("`--graph-url`: {m}")))?
            .as_str()
            .trim_end_matches('/')
            .to_owned(),
        None => profile.cloud.graph_url().to_owned(),
    };
    let (config_file, _) = config::config_path(ctx.global.config.as_deref(), ctx.env)?;
    // Absolute, so the summary and `client_secret_file` name it wherever serve-api starts.
    let config_file = std::path::absolute(&config_file)
        .map_err(|e| Error::io(format!("resolving `{}`", config_file.display()), e))?;
    let secret_file = config_file
        .parent()
        .map_or_else(|| PathBuf::from("."), std::path::Path::to_path_buf)
        .join(format!("{}-api.secret", args.prefix));

    // Sign in to Graph as the administrator; the token lives in this process only.
    let graph_resource = profile.cloud.graph_url();
    let mut opts = SignInOptions::new(
        profile.tenant_authority(),
        args.bootstrap_client_id.clone(),
        format!("{graph_resource}/Application.ReadWrite.All"),
    );
    opts.extra_scopes = vec![format!(
        "{graph_resource}/DelegatedPermissionGrant.ReadWrite.All"
    )];
    opts.device_code = args.device_code;
    opts.no_browser = args.no_browser;
    opts.timeout = Duration::from_secs(args.timeout);
    let http = ctx.http()?;
    let signed = sign_in::sign_in(
        &opts,
        ctx.sign_in_surroundings(&http),
    )
    .await
    .map_err(|e| {
        let m = e.to_string();
        if m.contains("AADSTS65001") || m.contains("AADSTS90094") {
            e.with_hint("the Graph permissions setup asks for need an administrator's consent for the sign-in app; ask an administrator to run `azobo setup`, or to consent for Microsoft Graph Command Line Tools")
        } else {
            e
        }
    })?;
    let printer = ctx.printer.clone();
    let graph = Graph::new(
        http,
        &graph_url,
        signed.token.access_token().secret().clone(),
        args.dry_run,
        Box::new(move |m| printer.info(m)),
    );

    let mut report = Report {
        profile: profile.name.clone(),
        dry_run: args.dry_run,
        cleanup: args.cleanup,
        registered: None,
        removed: Vec::new(),
        planned: Vec::new(),
        config_file: config_file.clone(),
        secret_file: secret_file.clone(),
        config_changed: false,
        certificate: certificate.as_ref().map(|(_, c, _)| c.clone()),
    };

    if args.cleanup {
        report.removed = registration::remove(&graph, &args.prefix).await?;
        report.planned = graph.planned();
        if !args.dry_run {
            if file::remove(&secret_file)? {
                report
                    .removed
                    .push(format!("the secret file {}", secret_file.display()));
            }
            // The profile's keys go only when the user named the profile.
            if ctx.global.profile.is_some() {
                report.config_changed = config_edit::edit(
                    &config_file,
                    &profile.name,
                    &["tenant", "client_id", "api_scope", "api_url", "authority"].map(Edit::Remove),
                    &["tenant", "client_id", "client_secret_file", "authority"].map(Edit::Remove),
                )?;
            }
        }
        return Ok(report);
    }

    // Graph shows the first three characters of each secret (`hint`): the one in the file is
    // kept only while it belongs to this very app.
    let secret_hint = file::read_optional(&secret_file)?
        .and_then(|b| String::from_utf8(b).ok())
        .map(|s| s.trim().chars().take(3).collect::<String>())
        .filter(|h| h.len() == 3);
    let plan = Plan {
        prefix: args.prefix.clone(),
        secret_years: args.secret_years,
        secret_hint,
        certificate: certificate.as_ref().map(|(der, _, _)| der.clone()),
    };
    let authority = profile.authority.as_str().trim_end_matches('/').to_owned();
    let keep = |secret: &str| file::replace_private(&secret_file, secret.as_bytes());
    let registered = registration::register(&graph, &plan, &authority, &keep).await?;
    report.planned = graph.planned();
    if !args.dry_run {
        let mut profile_edits = vec![
            Edit::Set("tenant", registered.tenant_id.clone()),
            Edit::Set("client_id", registered.cli.app_id.clone()),
            Edit::Set("api_scope", registered.api_scope.clone()),
            Edit::Set(
                "api_url",
                profile.api_url.as_str().trim_end_matches('/').to_owned(),
            ),
        ];
        let mut serve_api_edits = vec![
            Edit::Set("tenant", registered.tenant_id.clone()),
            Edit::Set("client_id", registered.api.app_id.clone()),
        ];
        // serve-api takes one credential: the other kind, left from before, would clash.
        match &certificate {
            Some((_, cert, key)) => serve_api_edits.extend([
                Edit::Set("client_certificate", cert.to_string_lossy().into_owned()),
                Edit::Set("client_certificate_key", key.to_string_lossy().into_owned()),
                Edit::Remove("client_secret_file"),
            ]),
            None => serve_api_edits.extend([
                Edit::Set(
                    "client_secret_file",
                    secret_file.to_string_lossy().into_owned(),
                ),
                Edit::Remove("client_certificate"),
                Edit::Remove("client_certificate_key"),
            ]),
        }
        // A profile on another authority than its cloud's (the dev tenant) must say so.
        if authority != profile.cloud.authority_host() {
            profile_edits.push(Edit::Set("authority", authority.clone()));
            serve_api_edits.push(Edit::Set("authority", authority.clone()));
        }
        report.config_changed = config_edit::edit(
            &config_file,
            &profile.name,
            &profile_edits,
            &serve_api_edits,
        )?;
    }
    let consent = registered.consent.clone();
    report.registered = Some(registered);
    if !consent.granted && !args.dry_run {
        return Err(Error::AccessDenied {
            message: format!(
                "the apps are registered and profile `{}` is written, but admin consent is missing (you may not grant it); an administrator must open {}",
                profile.name,
                consent.admin_consent_urls.join(" and ")
            ),
        }
        .with_hint("once consent is granted, run `azobo setup` again (it changes nothing else) or go straight to `azobo login`"));
    }
    Ok(report)
}
