//! `azobo config`: shows the resolved profile and where each value came from, and makes and
//! changes profiles in the configuration file (comments and other profiles kept).

use std::io::BufRead as _;
use std::path::{Path, PathBuf};

use clap::Subcommand;

use crate::config::{self, Env, Overrides, PROFILE_KEYS};
use crate::config_edit::{self, Edit};
use crate::error::{Error, Result};
use crate::output::{Output, Printer};

/// Show, make and change profiles.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  azobo config show
  azobo --profile work config show --json
  azobo --profile work config init --tenant contoso.com --client-id ID --api-scope SCOPE
  azobo --profile dev config init --from-dev-tenant tenant.json   # azobo dev-tenant's line
  azobo config set api_url https://obo-api.contoso.com
  azobo config unset api_url
  azobo config path")]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Print the profile after merging the file, AZOBO_* variables and defaults
    Show,
    /// Print the path of the configuration file azobo reads
    Path,
    /// Set one key of the profile in the configuration file
    Set {
        /// cloud, authority, arm_url, tenant, client_id, api_scope or api_url
        #[arg(value_parser = clap::builder::PossibleValuesParser::new(PROFILE_KEYS))]
        key: String,
        /// The value (checked as `azobo config show` would read it)
        value: String,
    },
    /// Remove one key from the profile in the configuration file
    Unset {
        /// cloud, authority, arm_url, tenant, client_id, api_scope or api_url
        #[arg(value_parser = clap::builder::PossibleValuesParser::new(PROFILE_KEYS))]
        key: String,
    },
    /// Write a new profile into the configuration file
    Init(InitArgs),
}

#[derive(Debug, clap::Args)]
struct InitArgs {
    /// Take the authority, tenant, client id, API scope and ARM URL from the JSON line
    /// `azobo dev-tenant` prints (a file, or - for standard input)
    #[arg(long, value_name = "FILE|-")]
    from_dev_tenant: Option<PathBuf>,
    /// Replace the profile if the file has it already
    #[arg(long)]
    force: bool,
    /// National cloud: AzureCloud, AzureUSGovernment or AzureChinaCloud
    #[arg(long, value_name = "CLOUD")]
    cloud: Option<String>,
    /// Identity platform base URL (e.g. a dev tenant's)
    #[arg(long, value_name = "URL")]
    authority: Option<String>,
    /// Azure Resource Manager base URL
    #[arg(long, value_name = "URL")]
    arm_url: Option<String>,
    /// Tenant GUID or domain
    #[arg(long, value_name = "TENANT")]
    tenant: Option<String>,
    /// The CLI app's client id
    #[arg(long, value_name = "GUID")]
    client_id: Option<String>,
    /// The API's delegated scope
    #[arg(long, value_name = "SCOPE")]
    api_scope: Option<String>,
    /// The API's base URL
    #[arg(long, value_name = "URL")]
    api_url: Option<String>,
}

/// Where a command finds the configuration: the global flags and the environment.
pub struct Where<'a> {
    /// `--profile`.
    pub profile: Option<&'a str>,
    /// `--config`.
    pub config_file: Option<&'a Path>,
    /// The environment.
    pub env: &'a Env,
}

/// Runs `azobo config`.
pub fn run(args: &Args, at: &Where<'_>, printer: &Printer) -> Result<Output> {
    let name = config::profile_name(at.profile, at.env);
    let path = || config::config_path(at.config_file, at.env).map(|(p, _)| p);
    match &args.action {
        Action::Show => Ok(Output::Profile(Box::new(config::load(
            at.profile,
            at.config_file,
            at.env,
            &Overrides::default(),
        )?))),
        Action::Path => Ok(Output::Path(path()?)),
        Action::Set { key, value } => {
            let path = path()?;
            change(
                &path,
                &name,
                &[Edit::Set(key_name(key)?, value.clone())],
                false,
            )?;
            printer.info(&format!(
                "Set `{key}` in profile `{name}` ({}).",
                path.display()
            ));
            Ok(Output::Nothing)
        }
        Action::Unset { key } => {
            let path = path()?;
            change(&path, &name, &[Edit::Remove(key_name(key)?)], false)?;
            printer.info(&format!(
                "Removed `{key}` from profile `{name}` ({}).",
                path.display()
            ));
            Ok(Output::Nothing)
        }
        Action::Init(init) => {
            let path = path()?;
            if !init.force && config_edit::has_profile(&path, &name)? {
                return Err(Error::usage(format!(
                    "profile `{name}` is already in `{}`",
                    path.display()
                ))
                .with_hint(format!(
                    "add `--force` to replace it, or change one key with `azobo config set{}`",
                    config::profile_flag(&name)
                )));
            }
            let edits = init_edits(init)?;
            if edits.is_empty() {
                return Err(Error::usage(
                    "nothing to write: give `--from-dev-tenant` or the profile's values (`--tenant`, `--client-id`, `--api-scope`, …)",
                ));
            }
            change(&path, &name, &edits, true)?;
            printer.info(&format!(
                "Wrote profile `{name}` to {}. Next: `azobo login{}`.",
                path.display(),
                config::profile_flag(&name)
            ));
            // What the profile now resolves to, with the environment's say as `config show`.
            Ok(Output::Profile(Box::new(config::load(
                Some(&name),
                Some(&path),
                at.env,
                &Overrides::default(),
            )?)))
        }
    }
}

/// The key as the `'static` name `Edit` keeps.
fn key_name(key: &str) -> Result<&'static str> {
    PROFILE_KEYS
        .into_iter()
        .find(|k| *k == key)
        .ok_or_else(|| Error::usage(format!("`{key}` is not a profile key")))
}

/// Applies `edits` to the profile, after checking that the result reads as a valid profile
/// (an unknown cloud or a URL that is not one is refused before the file changes).
fn change(path: &Path, name: &str, edits: &[Edit], replace: bool) -> Result<()> {
    let Some(text) = config_edit::edited(path, name, edits, &[], replace)? else {
        return Ok(());
    };
    // The file is not written yet: the value is at fault, not a line of the file.
    config::resolve(
        name,
        path,
        Some(&text),
        &Env::default(),
        &Overrides::default(),
    )
    .map_err(|e| match e {
        Error::Config { message, .. } => Error::usage(message),
        other => other,
    })?;
    config_edit::write(path, &text)
}

/// What the dev tenant's JSON line gives a profile.
#[derive(Debug, serde::Deserialize)]
struct DevTenantLine {
    base_url: String,
    tenant_id: String,
    cli_client_id: String,
    api_scope: String,
    arm_url: String,
}

/// Longest line read looking for the dev tenant's.
const MAX_LINE: u64 = 256 * 1024;

/// The first line of `source` that is the dev tenant's JSON line. Standard input is read only
/// up to that line: a dev tenant piped in keeps running.
fn dev_tenant_line(source: &Path) -> Result<DevTenantLine> {
    let read = |r: &mut dyn std::io::BufRead| -> Result<DevTenantLine> {
        for _ in 0..64 {
            let mut line = String::new();
            let n = std::io::Read::take(&mut *r, MAX_LINE)
                .read_line(&mut line)
                .map_err(|e| Error::io("reading the dev tenant's JSON line", e))?;
            if n == 0 {
                break;
            }
            if let Ok(parsed) = serde_json::from_str::<DevTenantLine>(line.trim()) {
                return Ok(parsed);
            }
        }
        Err(Error::usage(format!(
            "`{}` holds no JSON line of `azobo dev-tenant` (with base_url, tenant_id, cli_client_id, api_scope, arm_url)",
            source.display()
        )))
    };
    if source == Path::new("-") {
        return read(&mut std::io::stdin().lock());
    }
    let text = config::read_config_text(source, true)?.unwrap_or_default();
    read(&mut std::io::Cursor::new(text.as_bytes()))
}

fn init_edits(init: &InitArgs) -> Result<Vec<Edit>> {
    let mut values: Vec<(&'static str, Option<String>)> = vec![
        ("cloud", init.cloud.clone()),
        ("authority", init.authority.clone()),
        ("arm_url", init.arm_url.clone()),
        ("tenant", init.tenant.clone()),
        ("client_id", init.client_id.clone()),
        ("api_scope", init.api_scope.clone()),
        ("api_url", init.api_url.clone()),
    ];
    if let Some(source) = &init.from_dev_tenant {
        let line = dev_tenant_line(source)?;
        let from_line = [
            ("authority", line.base_url),
            ("arm_url", line.arm_url),
            ("tenant", line.tenant_id),
            ("client_id", line.cli_client_id),
            ("api_scope", line.api_scope),
        ];
        // A flag given beside the file wins over the file.
        for (key, value) in from_line {
            if let Some(slot) = values.iter_mut().find(|(k, v)| *k == key && v.is_none()) {
                slot.1 = Some(value);
            }
        }
    }
    Ok(values
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| Edit::Set(k, v)))
        .collect())
}
