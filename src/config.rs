//! Profiles: the configuration file, then `AZOBO_*` variables, then flags — the later wins.
//!
//! Resolution is pure: it takes the file's text and a snapshot of the environment, so tests never
//! touch the process environment. Every endpoint is validated here, once: `http://` is accepted
//! only for loopback hosts, because a bearer token must never cross a network in the clear.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::Spanned;
use url::Url;

use crate::env_vars;
use crate::error::{Error, Result};

/// The profile used when neither `--profile` nor `AZOBO_PROFILE` names one.
pub const DEFAULT_PROFILE: &str = "default";
/// Where `azobo subscriptions` finds the API unless configured otherwise.
pub const DEFAULT_API_URL: &str = "http://127.0.0.1:5000";
/// The tenant used when none is configured: any work or school account.
pub const DEFAULT_TENANT: &str = "organizations";

/// A national cloud: where its identity platform and Resource Manager live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Cloud {
    /// The global Azure cloud.
    AzureCloud,
    /// Azure Government (US).
    AzureUSGovernment,
    /// Azure operated by 21Vianet (China).
    AzureChinaCloud,
}

impl Cloud {
    /// All clouds, for messages.
    pub const ALL: [Cloud; 3] = [
        Cloud::AzureCloud,
        Cloud::AzureUSGovernment,
        Cloud::AzureChinaCloud,
    ];

    /// The identity platform's base URL, without a tenant.
    pub fn authority_host(self) -> &'static str {
        match self {
            Cloud::AzureCloud => "https://login.microsoftonline.com",
            Cloud::AzureUSGovernment => "https://login.microsoftonline.us",
            Cloud::AzureChinaCloud => "https://login.chinacloudapi.cn",
        }
    }

    /// Azure Resource Manager's base URL.
    pub fn arm_url(self) -> &'static str {
        match self {
            Cloud::AzureCloud => "https://management.azure.com",
            Cloud::AzureUSGovernment => "https://management.usgovcloudapi.net",
            Cloud::AzureChinaCloud => "https://management.chinacloudapi.cn",
        }
    }

    /// Microsoft Graph's base URL (also its resource identifier in scopes).
    pub fn graph_url(self) -> &'static str {
        match self {
            Cloud::AzureCloud => "https://graph.microsoft.com",
            Cloud::AzureUSGovernment => "https://graph.microsoft.us",
            Cloud::AzureChinaCloud => "https://microsoftgraph.chinacloudapi.cn",
        }
    }

    /// The cloud's canonical name, as `az cloud list` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Cloud::AzureCloud => "AzureCloud",
            Cloud::AzureUSGovernment => "AzureUSGovernment",
            Cloud::AzureChinaCloud => "AzureChinaCloud",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Cloud::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for Cloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a resolved value came from, so `azobo config` can explain it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Built into azobo (or derived from the cloud).
    Default,
    /// The configuration file.
    File,
    /// An `AZOBO_*` environment variable.
    Env,
    /// A command-line flag.
    Flag,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Default => "default",
            Source::File => "file",
            Source::Env => "env",
            Source::Flag => "flag",
        })
    }
}

/// Values given on the command line; each wins over the file and the environment.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--cloud`.
    pub cloud: Option<String>,
    /// `--authority`.
    pub authority: Option<String>,
    /// `--arm-url`.
    pub arm_url: Option<String>,
    /// `--tenant`.
    pub tenant: Option<String>,
    /// `--client-id`.
    pub client_id: Option<String>,
    /// `--api-scope`.
    pub api_scope: Option<String>,
    /// `--api-url`.
    pub api_url: Option<String>,
}

/// A snapshot of the environment variables azobo reads.
#[derive(Clone, Default)]
pub struct Env(BTreeMap<String, String>);

impl fmt::Debug for Env {
    // Values may be secrets (`AZOBO_TOKEN`): show names only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl Env {
    /// Captures the `AZOBO_*` variables and the few others azobo honours from this process.
    pub fn from_process() -> Self {
        Self(
            std::env::vars()
                .filter(|(k, _)| {
                    k.starts_with("AZOBO_")
                        || [
                            env_vars::SSL_CERT_FILE,
                            env_vars::NO_COLOR,
                            env_vars::COLUMNS,
                            env_vars::CLICOLOR,
                            env_vars::CLICOLOR_FORCE,
                            env_vars::TERM,
                            env_vars::CI,
                            env_vars::BROWSER,
                            "DISPLAY",
                            "WAYLAND_DISPLAY",
                            "SSH_CONNECTION",
                            "SSH_TTY",
                            "WSL_DISTRO_NAME",
                            "AZURE_FEDERATED_TOKEN_FILE",
                        ]
                        .contains(&k.as_str())
                        || env_vars::PROXY_VARIABLES
                            .iter()
                            .any(|pair| pair.contains(&k.as_str()))
                })
                .collect(),
        )
    }

    /// Builds an environment from pairs, for tests and embedding.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        )
    }

    /// The variable's value; empty values count as unset, as most shells users expect.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// The resolved settings of one profile.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// The profile's name.
    #[serde(rename = "profile")]
    pub name: String,
    /// The configuration file consulted (it may not exist).
    pub config_file: PathBuf,
    /// The national cloud.
    pub cloud: Cloud,
    /// The identity platform's base URL, without tenant and without a trailing slash.
    pub authority: Url,
    /// Azure Resource Manager's base URL.
    pub arm_url: Url,
    /// Tenant GUID, verified domain, `organizations` or `common`.
    pub tenant: String,
    /// The CLI's public client (application) id.
    pub client_id: Option<String>,
    /// The API's delegated scope, e.g. `api://{api-id}/access_as_user`.
    pub api_scope: Option<String>,
    /// The protected API's base URL.
    pub api_url: Url,
    /// Where each key's value came from, by the file's key name (`client_id`); camelCase in
    /// JSON like every other key.
    #[serde(serialize_with = "camel_keys")]
    pub sources: BTreeMap<&'static str, Source>,
}

fn camel_keys<S: serde::Serializer>(
    sources: &BTreeMap<&'static str, Source>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap as _;
    let mut map = s.serialize_map(Some(sources.len()))?;
    for (k, v) in sources {
        map.serialize_entry(&camel_case(k), v)?;
    }
    map.end()
}

/// `api_scope` → `apiScope`.
pub fn camel_case(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

impl Profile {
    /// The tenant-specific authority URL, e.g. `https://login.microsoftonline.com/organizations`.
    pub fn tenant_authority(&self) -> String {
        format!(
            "{}/{}",
            self.authority.as_str().trim_end_matches('/'),
            self.tenant
        )
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    #[serde(default)]
    profiles: BTreeMap<String, FileProfile>,
    /// serve-api's own table; validated by serve-api, accepted here so the file can hold both.
    #[serde(default)]
    #[allow(dead_code)]
    serve_api: Option<toml::Table>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileProfile {
    cloud: Option<Spanned<String>>,
    authority: Option<Spanned<String>>,
    arm_url: Option<Spanned<String>>,
    tenant: Option<Spanned<String>>,
    client_id: Option<Spanned<String>>,
    api_scope: Option<Spanned<String>>,
    api_url: Option<Spanned<String>>,
}

/// The configuration file azobo reads: `--config`, else `AZOBO_CONFIG`, else the platform's
/// config dir. The flag says whether the user named it (a named file must exist).
pub fn config_path(flag: Option<&Path>, env: &Env) -> Result<(PathBuf, bool)> {
    if let Some(p) = flag {
        return Ok((p.to_path_buf(), true));
    }
    if let Some(p) = env.get(env_vars::AZOBO_CONFIG) {
        return Ok((PathBuf::from(p), true));
    }
    let dirs = directories::ProjectDirs::from("", "", "azobo").ok_or_else(|| {
        Error::usage("cannot find a home directory for the configuration file; set `AZOBO_CONFIG`")
    })?;
    Ok((dirs.config_dir().join("config.toml"), false))
}

/// ` --profile NAME` for a command line that must reach profile `name` (quoted for a shell when
/// it needs it), or nothing for the default profile: what a hint adds to the command it offers.
pub fn profile_flag(name: &str) -> String {
    if name == DEFAULT_PROFILE {
        String::new()
    } else {
        format!(" --profile {}", shell_words::quote(name))
    }
}

/// A profile's keys in the file, in the order `azobo config` shows them; each has its
/// `AZOBO_*` variable at the same place in `env_vars::PROFILE_VARS`.
pub const PROFILE_KEYS: [&str; 7] = [
    "cloud",
    "authority",
    "arm_url",
    "tenant",
    "client_id",
    "api_scope",
    "api_url",
];

/// Reads the configuration file; a missing default file is an empty configuration.
pub fn read_config_text(path: &Path, explicit: bool) -> Result<Option<String>> {
    use std::io::Read as _;
    let fail = |message: String| Error::Config {
        path: path.to_path_buf(),
        line: None,
        message,
    };
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => return Ok(None),
        Err(e) => return Err(fail(e.to_string())),
    };
    // `--config /dev/zero` or a FIFO would be read forever: a config is a small regular file.
    let meta = file.metadata().map_err(|e| fail(e.to_string()))?;
    if !meta.is_file() {
        return Err(fail(
            "not a regular file (a device, a FIFO or a directory is never read)".into(),
        ));
    }
    let mut text = String::new();
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| fail(e.to_string()))?;
    if text.len() as u64 > MAX_CONFIG_BYTES {
        return Err(fail(format!(
            "larger than {} KiB; a config.toml is a few lines",
            MAX_CONFIG_BYTES / 1024
        )));
    }
    Ok(Some(text))
}

/// Largest config file read.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// One value as it is being resolved: its text, where it came from, and where to blame it.
struct Candidate<'a> {
    value: &'a str,
    source: Source,
    origin: Origin<'a>,
}

#[derive(Clone, Copy)]
enum Origin<'a> {
    Builtin,
    File { line: usize },
    Env(&'a str),
    Flag(&'a str),
}

struct Resolver<'a> {
    path: &'a Path,
    text: &'a str,
    sources: BTreeMap<&'static str, Source>,
}

impl<'a> Resolver<'a> {
    fn line_of(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())]
            .matches('\n')
            .count()
            + 1
    }

    /// Picks flag > env > file for `key`; `None` when none of them sets it.
    fn pick(
        &mut self,
        key: &'static str,
        file: Option<&'a Spanned<String>>,
        env: &'a Env,
        env_name: &'static str,
        flag: Option<&'a str>,
        flag_name: &'static str,
    ) -> Option<Candidate<'a>> {
        let found = if let Some(v) = flag {
            Some(Candidate {
                value: v,
                source: Source::Flag,
                origin: Origin::Flag(flag_name),
            })
        } else if let Some(v) = env.get(env_name) {
            Some(Candidate {
                value: v,
                source: Source::Env,
                origin: Origin::Env(env_name),
            })
        } else {
            file.map(|s| Candidate {
                value: s.get_ref().as_str(),
                source: Source::File,
                origin: Origin::File {
                    line: self.line_of(s.span().start),
                },
            })
        };
        if let Some(c) = &found {
            self.sources.insert(key, c.source);
        }
        found
    }

    fn error(&self, key: &str, origin: Origin<'_>, message: &str) -> Error {
        match origin {
            Origin::File { line } => Error::Config {
                path: self.path.to_path_buf(),
                line: Some(line),
                message: format!("`{key}`: {message}"),
            },
            Origin::Env(name) => Error::usage(format!("`{name}`: {message}")),
            Origin::Flag(name) => Error::usage(format!("`{name}`: {message}")),
            Origin::Builtin => Error::failure(format!("built-in `{key}`: {message}")),
        }
    }

    fn endpoint(&self, key: &str, c: &Candidate<'_>) -> Result<Url> {
        parse_endpoint(c.value).map_err(|m| self.error(key, c.origin, &m))
    }
}

/// Parses an endpoint URL and refuses cleartext HTTP to anything but loopback.
pub fn parse_endpoint(value: &str) -> std::result::Result<Url, String> {
    let url = Url::parse(value.trim()).map_err(|e| format!("`{value}` is not a URL ({e})"))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(format!(
                "`{value}` uses http:// to a non-loopback host; use https:// so tokens are not sent in the clear"
            ));
        }
        other => return Err(format!("`{value}` has scheme `{other}`; expected https://")),
    }
    if url.host().is_none() {
        return Err(format!("`{value}` has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("`{value}` must not have a query or fragment"));
    }
    Ok(url)
}

/// True for `localhost`, 127.0.0.0/8 and `::1`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

fn is_guid(s: &str) -> bool {
    uuid::Uuid::try_parse(s).is_ok() && s.len() == 36
}

fn validate_tenant(s: &str) -> std::result::Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 253
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not a tenant; use a tenant GUID, a domain such as contoso.onmicrosoft.com, `organizations` or `common`"
        ))
    }
}

/// Resolves profile `name` from the file's text (if any), the environment and the flags.
pub fn resolve(
    name: &str,
    path: &Path,
    text: Option<&str>,
    env: &Env,
    flags: &Overrides,
) -> Result<Profile> {
    let file: FileConfig = match text {
        Some(t) => toml::from_str(t).map_err(|e| {
            let line = e
                .span()
                .map(|s| t[..s.start.min(t.len())].matches('\n').count() + 1);
            Error::Config {
                path: path.to_path_buf(),
                line,
                message: e.message().replace('\n', " ").trim().to_owned(),
            }
        })?,
        None => FileConfig::default(),
    };
    let empty = FileProfile::default();
    let fp = match file.profiles.get(name) {
        Some(p) => p,
        // Without a file, every profile comes from the environment and defaults: CI jobs name
        // profiles only to keep their sessions apart. A profile the `AZOBO_*` variables make
        // (`demo --keep-running`'s) needs no section in a file that exists either; a name with
        // neither is a typo, and is refused below.
        None if name == DEFAULT_PROFILE
            || text.is_none()
            || env_vars::PROFILE_VARS.iter().any(|v| env.get(v).is_some()) =>
        {
            &empty
        }
        None => {
            let known: Vec<&str> = file.profiles.keys().map(String::as_str).collect();
            return Err(Error::Config {
                path: path.to_path_buf(),
                line: None,
                message: format!(
                    "no profile `{name}` (the file has: {})",
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                ),
            });
        }
    };

    let text = text.unwrap_or("");
    let mut r = Resolver {
        path,
        text,
        sources: BTreeMap::new(),
    };

    let cloud = match r.pick(
        "cloud",
        fp.cloud.as_ref(),
        env,
        env_vars::AZOBO_CLOUD,
        flags.cloud.as_deref(),
        "--cloud",
    ) {
        Some(c) => Cloud::parse(c.value).ok_or_else(|| {
            let names: Vec<&str> = Cloud::ALL.iter().map(|c| c.name()).collect();
            r.error(
                "cloud",
                c.origin,
                &format!(
                    "unknown cloud `{}`; expected one of {}",
                    c.value,
                    names.join(", ")
                ),
            )
        })?,
        None => Cloud::AzureCloud,
    };

    let authority = match r.pick(
        "authority",
        fp.authority.as_ref(),
        env,
        env_vars::AZOBO_AUTHORITY,
        flags.authority.as_deref(),
        "--authority",
    ) {
        Some(c) => r.endpoint("authority", &c)?,
        None => r.endpoint(
            "authority",
            &Candidate {
                value: cloud.authority_host(),
                source: Source::Default,
                origin: Origin::Builtin,
            },
        )?,
    };

    let arm_url = match r.pick(
        "arm_url",
        fp.arm_url.as_ref(),
        env,
        env_vars::AZOBO_ARM_URL,
        flags.arm_url.as_deref(),
        "--arm-url",
    ) {
        Some(c) => r.endpoint("arm_url", &c)?,
        None => r.endpoint(
            "arm_url",
            &Candidate {
                value: cloud.arm_url(),
                source: Source::Default,
                origin: Origin::Builtin,
            },
        )?,
    };

    let tenant = match r.pick(
        "tenant",
        fp.tenant.as_ref(),
        env,
        env_vars::AZOBO_TENANT,
        flags.tenant.as_deref(),
        "--tenant",
    ) {
        Some(c) => {
            let v = c.value.trim();
            validate_tenant(v).map_err(|m| r.error("tenant", c.origin, &m))?;
            v.to_owned()
        }
        None => DEFAULT_TENANT.to_owned(),
    };

    let client_id = match r.pick(
        "client_id",
        fp.client_id.as_ref(),
        env,
        env_vars::AZOBO_CLIENT_ID,
        flags.client_id.as_deref(),
        "--client-id",
    ) {
        Some(c) => {
            let v = c.value.trim();
            if !is_guid(v) {
                return Err(r.error(
                    "client_id",
                    c.origin,
                    &format!("`{v}` is not an application (client) id; expected a GUID"),
                ));
            }
            Some(v.to_ascii_lowercase())
        }
        None => None,
    };

    let api_scope = match r.pick(
        "api_scope",
        fp.api_scope.as_ref(),
        env,
        env_vars::AZOBO_API_SCOPE,
        flags.api_scope.as_deref(),
        "--api-scope",
    ) {
        Some(c) => {
            let v = c.value.trim();
            if v.is_empty() || v.contains(char::is_whitespace) || !v.contains('/') {
                return Err(r.error(
                    "api_scope",
                    c.origin,
                    &format!(
                        "`{v}` is not a scope; expected e.g. `api://<api-client-id>/access_as_user`"
                    ),
                ));
            }
            Some(v.to_owned())
        }
        None => None,
    };

    let api_url = match r.pick(
        "api_url",
        fp.api_url.as_ref(),
        env,
        env_vars::AZOBO_API_URL,
        flags.api_url.as_deref(),
        "--api-url",
    ) {
        Some(c) => r.endpoint("api_url", &c)?,
        None => r.endpoint(
            "api_url",
            &Candidate {
                value: DEFAULT_API_URL,
                source: Source::Default,
                origin: Origin::Builtin,
            },
        )?,
    };

    let mut sources = r.sources;
    for key in PROFILE_KEYS {
        sources.entry(key).or_insert(Source::Default);
    }

    Ok(Profile {
        name: name.to_owned(),
        config_file: path.to_path_buf(),
        cloud,
        authority,
        arm_url,
        tenant,
        client_id,
        api_scope,
        api_url,
        sources,
    })
}

/// The profile name: `--profile`, else `AZOBO_PROFILE`, else `default`.
pub fn profile_name(flag: Option<&str>, env: &Env) -> String {
    flag.or_else(|| env.get(env_vars::AZOBO_PROFILE))
        .unwrap_or(DEFAULT_PROFILE)
        .to_owned()
}

/// Loads and resolves the selected profile the way every command does.
pub fn load(
    profile_flag: Option<&str>,
    config_flag: Option<&Path>,
    env: &Env,
    flags: &Overrides,
) -> Result<Profile> {
    let (path, explicit) = config_path(config_flag, env)?;
    let text = read_config_text(&path, explicit)?;
    let name = profile_name(profile_flag, env);
    resolve(&name, &path, text.as_deref(), env, flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve_text(name: &str, text: &str, env: &Env, flags: &Overrides) -> Result<Profile> {
        resolve(name, Path::new("/cfg/config.toml"), Some(text), env, flags)
    }

    const FILE: &str = r#"
[profiles.default]
tenant = "contoso.onmicrosoft.com"
client_id = "11111111-1111-1111-1111-111111111111"
api_scope = "api://22222222-2222-2222-2222-222222222222/access_as_user"

[profiles.gov]
cloud = "AzureUSGovernment"
tenant = "33333333-3333-3333-3333-333333333333"
"#;

    #[test]
    fn defaults_follow_the_public_cloud() {
        let p = resolve(
            "default",
            Path::new("x"),
            None,
            &Env::default(),
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(p.cloud, Cloud::AzureCloud);
        assert_eq!(p.authority.as_str(), "https://login.microsoftonline.com/");
        assert_eq!(p.arm_url.as_str(), "https://management.azure.com/");
        assert_eq!(p.tenant, "organizations");
        assert_eq!(p.api_url.as_str(), "http://127.0.0.1:5000/");
        assert_eq!(p.client_id, None);
        assert!(p.sources.values().all(|s| *s == Source::Default));
        assert_eq!(
            p.tenant_authority(),
            "https://login.microsoftonline.com/organizations"
        );
    }

    #[test]
    fn cloud_sets_authority_and_arm_unless_overridden() {
        let p = resolve_text("gov", FILE, &Env::default(), &Overrides::default()).unwrap();
        assert_eq!(p.authority.as_str(), "https://login.microsoftonline.us/");
        assert_eq!(p.arm_url.as_str(), "https://management.usgovcloudapi.net/");
        let env = Env::from_pairs([("AZOBO_AUTHORITY", "https://login.example.net")]);
        let p = resolve_text("gov", FILE, &env, &Overrides::default()).unwrap();
        assert_eq!(p.authority.as_str(), "https://login.example.net/");
        assert_eq!(p.sources["authority"], Source::Env);
    }

    #[test]
    fn flags_beat_env_and_env_beats_file() {
        let env = Env::from_pairs([("AZOBO_TENANT", "fabrikam.com"), ("AZOBO_API_URL", "")]);
        let p = resolve_text("default", FILE, &env, &Overrides::default()).unwrap();
        assert_eq!(p.tenant, "fabrikam.com");
        assert_eq!(p.sources["tenant"], Source::Env);
        assert_eq!(p.sources["client_id"], Source::File);
        assert_eq!(
            p.sources["api_url"],
            Source::Default,
            "empty env var counts as unset"
        );
        let flags = Overrides {
            tenant: Some("common".into()),
            ..Overrides::default()
        };
        let p = resolve_text("default", FILE, &env, &flags).unwrap();
        assert_eq!(p.tenant, "common");
        assert_eq!(p.sources["tenant"], Source::Flag);
    }

    #[test]
    fn http_is_refused_except_for_loopback() {
        for ok in [
            "http://127.0.0.1:5000",
            "http://localhost:1",
            "http://[::1]:8080",
            "https://x.y",
        ] {
            assert!(parse_endpoint(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://example.com",
            "http://10.0.0.1",
            "ftp://x",
            "https://x/?q=1",
            "nope",
        ] {
            assert!(parse_endpoint(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_value_in_file_names_file_line_and_key() {
        let text =
            "[profiles.default]\ntenant = \"ok.com\"\napi_url = \"http://api.example.com\"\n";
        let err =
            resolve_text("default", text, &Env::default(), &Overrides::default()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("/cfg/config.toml:3: `api_url`:"), "{msg}");
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn unknown_key_and_syntax_errors_name_the_line() {
        let text = "[profiles.default]\n\ntenantt = \"x\"\n";
        let msg = resolve_text("default", text, &Env::default(), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with("/cfg/config.toml:3:") && msg.contains("tenantt"),
            "{msg}"
        );
        let msg = resolve_text(
            "default",
            "[profiles.default\n",
            &Env::default(),
            &Overrides::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(msg.starts_with("/cfg/config.toml:1:"), "{msg}");
    }

    #[test]
    fn bad_env_value_names_the_variable() {
        let env = Env::from_pairs([("AZOBO_CLOUD", "Mars")]);
        let err = resolve_text("default", FILE, &env, &Overrides::default()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("`AZOBO_CLOUD`: unknown cloud `Mars`"),
            "{err}"
        );
        let env = Env::from_pairs([("AZOBO_CLIENT_ID", "not-a-guid")]);
        let err = resolve_text("default", FILE, &env, &Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("AZOBO_CLIENT_ID"), "{err}");
    }

    #[test]
    fn missing_named_profile_lists_the_known_ones() {
        let err = resolve_text("prod", FILE, &Env::default(), &Overrides::default()).unwrap_err();
        assert!(
            err.to_string()
                .contains("no profile `prod` (the file has: default, gov)"),
            "{err}"
        );
    }

    #[test]
    fn profile_name_prefers_flag_then_env() {
        let env = Env::from_pairs([("AZOBO_PROFILE", "work")]);
        assert_eq!(profile_name(Some("x"), &env), "x");
        assert_eq!(profile_name(None, &env), "work");
        assert_eq!(profile_name(None, &Env::default()), "default");
    }

    #[test]
    fn a_profile_made_of_variables_needs_no_section() {
        let env = Env::from_pairs([("AZOBO_AUTHORITY", "http://127.0.0.1:8400")]);
        let p = resolve_text("azobo-demo", FILE, &env, &Overrides::default()).unwrap();
        assert_eq!(p.name, "azobo-demo");
        assert_eq!(p.authority.as_str(), "http://127.0.0.1:8400/");
    }
}
