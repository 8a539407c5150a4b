//! serve-api's configuration: flags, then `AZOBO_API_*` variables, then the `[serve_api]` table of
//! `config.toml` — the first that sets a value wins. Startup fails fast, naming what is missing.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use serde::Deserialize;
use sha2::Digest as _;
use url::Url;

use super::cache_keys::CacheKeys;
use super::shared_cache::redacted;
use crate::config::{Cloud, parse_endpoint};
use crate::error::{Error, Result};

/// The `[serve_api]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    listen: Option<String>,
    cloud: Option<String>,
    authority: Option<String>,
    tenant: Option<String>,
    client_id: Option<String>,
    audiences: Option<Vec<String>>,
    required_scope: Option<String>,
    allowed_tenants: Option<Vec<String>>,
    token_versions: Option<Vec<u8>>,
    arm_url: Option<String>,
    arm_api_version: Option<String>,
    jwks_refetch_floor: Option<u64>,
    arm_scope: Option<String>,
    client_secret_file: Option<PathBuf>,
    client_certificate: Option<PathBuf>,
    client_certificate_key: Option<PathBuf>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    token_cache: Option<String>,
    cache_key_file: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
struct FileRoot {
    #[serde(default)]
    serve_api: Option<FileSettings>,
}

impl FileSettings {
    /// The `[serve_api]` table of the config file, if any.
    pub fn from_config_text(path: &Path, text: Option<&str>) -> Result<Self> {
        let Some(text) = text else {
            return Ok(Self::default());
        };
        // The profiles are validated by the CLI; only this table matters here.
        let root: toml::Table = toml::from_str(text).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            line: None,
            message: e.message().to_owned(),
        })?;
        let Some(table) = root.get("serve_api") else {
            return Ok(Self::default());
        };
        let wrapped: FileRoot = toml::Value::Table(toml::Table::from_iter([(
            "serve_api".to_owned(),
            table.clone(),
        )]))
        .try_into()
        .map_err(|e: toml::de::Error| Error::Config {
            path: path.to_path_buf(),
            line: None,
            message: format!("[serve_api]: {}", e.message()),
        })?;
        Ok(wrapped.serve_api.unwrap_or_default())
    }
}

/// What the command line and environment gave (each already flag-over-env via clap).
#[derive(Debug, Default, Clone)]
pub struct Given {
    pub listen: Option<String>,
    pub cloud: Option<String>,
    pub authority: Option<String>,
    pub tenant: Option<String>,
    pub client_id: Option<String>,
    pub audiences: Vec<String>,
    pub required_scope: Option<String>,
    pub allowed_tenants: Vec<String>,
    pub token_versions: Vec<u8>,
    pub arm_url: Option<String>,
    pub arm_api_version: Option<String>,
    pub jwks_refetch_floor: Option<u64>,
    pub arm_scope: Option<String>,
    pub client_secret: Option<String>,
    pub client_secret_file: Option<PathBuf>,
    pub client_certificate: Option<PathBuf>,
    pub client_certificate_key: Option<PathBuf>,
    pub federated_token_file: Option<PathBuf>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub token_cache: Option<String>,
    /// `AZOBO_API_CACHE_KEY`: never a flag, so it stays out of `ps`.
    pub cache_key: Option<String>,
    pub cache_key_file: Option<PathBuf>,
}

/// The shared (L2) token cache: a Redis URL (which may hold a password) and the keys.
pub struct SharedCacheSettings {
    /// `redis://…` or `rediss://…`.
    pub url: String,
    /// The encryption keys, the current one first.
    pub keys: CacheKeys,
}

impl std::fmt::Debug for SharedCacheSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SharedCacheSettings({}, {:?})",
            redacted(&self.url),
            self.keys
        )
    }
}

/// How the API proves itself to the identity platform.
pub enum Credential {
    /// A client secret.
    Secret(String),
    /// A certificate: a signed `client_assertion` with `x5t#S256`.
    Certificate {
        /// The private key.
        key: jsonwebtoken::EncodingKey,
        /// Base64url SHA-256 of the certificate.
        x5t_s256: String,
    },
    /// Workload identity: a federated token re-read from this file for every exchange.
    Federated(PathBuf),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Secret(_) => f.write_str("Secret(<redacted>)"),
            Credential::Certificate { x5t_s256, .. } => {
                write!(f, "Certificate(x5t#S256={x5t_s256})")
            }
            Credential::Federated(p) => write!(f, "Federated({})", p.display()),
        }
    }
}

/// Which tenants may call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tenants {
    /// Any tenant (`*`): issuer validated per `tid`.
    Any,
    /// These tenant ids.
    List(Vec<String>),
}

/// The resolved settings.
#[derive(Debug)]
pub struct Settings {
    pub listen: SocketAddr,
    pub authority: Url,
    pub tenant: String,
    pub client_id: String,
    pub audiences: Vec<String>,
    pub required_scope: String,
    /// `None`: only the configured tenant (resolved from metadata at startup).
    pub allowed_tenants: Option<Tenants>,
    pub accept_v1: bool,
    pub accept_v2: bool,
    pub arm_url: Url,
    pub arm_api_version: String,
    /// Least time between refetches of the keys an unknown `kid` triggers.
    pub jwks_refetch_floor: Duration,
    pub arm_scope: String,
    pub credential: Credential,
    pub tls: Option<(PathBuf, PathBuf)>,
    pub request_timeout: Duration,
    /// `None`: the in-memory cache alone.
    pub shared_cache: Option<SharedCacheSettings>,
}

impl Settings {
    /// `{authority}/{tenant}`.
    pub fn tenant_authority(&self, tenant: &str) -> String {
        format!("{}/{tenant}", self.authority.as_str().trim_end_matches('/'))
    }
}

/// Secret files are small; a path to `/dev/zero` or a log file must not fill memory.
const MAX_SECRET_FILE: u64 = 64 * 1024;

fn read_secret_file(path: &Path, what: &str) -> Result<String> {
    use std::io::Read as _;
    let failed =
        |e: std::io::Error| Error::usage(format!("reading the {what} `{}`: {e}", path.display()));
    let mut s = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_SECRET_FILE + 1).read_to_string(&mut s))
        .map_err(failed)?;
    if s.len() as u64 > MAX_SECRET_FILE {
        return Err(Error::usage(format!(
            "the {what} `{}` is larger than {} KiB; point at the file that holds only the secret",
            path.display(),
            MAX_SECRET_FILE / 1024
        )));
    }
    let s = s.trim().to_owned();
    if s.is_empty() {
        return Err(Error::usage(format!(
            "the {what} `{}` is empty",
            path.display()
        )));
    }
    Ok(s)
}

fn certificate(cert: &Path, key: Option<&Path>) -> Result<Credential> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject as _;
    let pem = std::fs::read(cert).map_err(|e| {
        Error::usage(format!(
            "reading `--client-certificate {}`: {e}",
            cert.display()
        ))
    })?;
    let der = CertificateDer::pem_slice_iter(&pem)
        .next()
        .ok_or_else(|| Error::usage(format!("`{}` holds no CERTIFICATE block", cert.display())))?
        .map_err(|e| Error::usage(format!("`{}`: {e}", cert.display())))?;
    let key_pem = match key {
        Some(k) => std::fs::read(k).map_err(|e| {
            Error::usage(format!(
                "reading `--client-certificate-key {}`: {e}",
                k.display()
            ))
        })?,
        None => pem.clone(),
    };
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(&key_pem)
        .map_err(|e| Error::usage(format!("the certificate's private key is not an RSA key in PEM ({e}); pass it with `--client-certificate-key`")))?;
    let x5t_s256 =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(der.as_ref()));
    Ok(Credential::Certificate { key, x5t_s256 })
}

/// A list given on the command line counts only when it is not empty.
fn nonempty<T>(v: Vec<T>) -> Option<Vec<T>> {
    if v.is_empty() { None } else { Some(v) }
}

/// Merges what was given with the file and validates it all.
pub fn resolve(g: Given, f: FileSettings) -> Result<Settings> {
    let missing = |what: &str, flag: &str, var: &str| {
        Error::usage(format!(
            "serve-api needs {what}: pass `{flag}`, set `{var}`, or add it to `[serve_api]` in config.toml"
        ))
    };
    let listen_s = g
        .listen
        .or(f.listen)
        .unwrap_or_else(|| "127.0.0.1:5000".to_owned());
    let listen: SocketAddr = listen_s.parse().map_err(|_| {
        Error::usage(format!(
            "`--listen {listen_s}` is not an address like 127.0.0.1:5000"
        ))
    })?;
    let cloud_s = g.cloud.or(f.cloud);
    let cloud = match cloud_s.as_deref() {
        None => Cloud::AzureCloud,
        Some(c) => Cloud::ALL
            .into_iter()
            .find(|x| x.name().eq_ignore_ascii_case(c))
            .ok_or_else(|| Error::usage(format!("unknown cloud `{c}`")))?,
    };
    let endpoint = |v: Option<String>, default: &str, flag: &str| -> Result<Url> {
        let v = v.unwrap_or_else(|| default.to_owned());
        parse_endpoint(&v).map_err(|m| Error::usage(format!("`{flag}`: {m}")))
    };
    let authority = endpoint(
        g.authority.or(f.authority),
        cloud.authority_host(),
        "--authority",
    )?;
    let arm_url = endpoint(g.arm_url.or(f.arm_url), cloud.arm_url(), "--arm-url")?;
    let tenant = g
        .tenant
        .or(f.tenant)
        .ok_or_else(|| missing("the tenant", "--tenant", "AZOBO_API_TENANT"))?;
    let client_id = g
        .client_id
        .or(f.client_id)
        .ok_or_else(|| missing("the API's client id", "--client-id", "AZOBO_API_CLIENT_ID"))?
        .to_ascii_lowercase();
    if uuid::Uuid::try_parse(&client_id).is_err() {
        return Err(Error::usage(format!(
            "`--client-id {client_id}` is not an application (client) id GUID"
        )));
    }
    let audiences = nonempty(g.audiences)
        .or(f.audiences)
        .unwrap_or_else(|| vec![client_id.clone(), format!("api://{client_id}")]);
    let required_scope = g
        .required_scope
        .or(f.required_scope)
        .unwrap_or_else(|| "access_as_user".to_owned());
    let tenants = nonempty(g.allowed_tenants).or(f.allowed_tenants);
    let allowed_tenants = match tenants {
        None => None,
        Some(v) if v.iter().any(|t| t == "*") => Some(Tenants::Any),
        Some(v) => Some(Tenants::List(
            v.into_iter().map(|t| t.to_ascii_lowercase()).collect(),
        )),
    };
    let multi = matches!(
        tenant.to_ascii_lowercase().as_str(),
        "organizations" | "common"
    );
    if multi && allowed_tenants.is_none() {
        return Err(Error::usage(format!(
            "`--tenant {tenant}` is multi-tenant: say which tenants may call with `--allowed-tenants ID,…` (or `*` for any)"
        )));
    }
    let versions = nonempty(g.token_versions)
        .or(f.token_versions)
        .unwrap_or_else(|| vec![1, 2]);
    if versions.is_empty() || versions.iter().any(|v| !matches!(v, 1 | 2)) {
        return Err(Error::usage("`--token-versions` takes 1, 2 or both"));
    }
    let arm_scope = g
        .arm_scope
        .or(f.arm_scope)
        .unwrap_or_else(|| format!("{}/user_impersonation", cloud.arm_url()));
    let secret = match (
        g.client_secret,
        g.client_secret_file.or(f.client_secret_file),
    ) {
        (Some(s), _) => Some(s),
        (None, Some(p)) => Some(read_secret_file(&p, "client secret file")?),
        (None, None) => None,
    };
    let cert = g.client_certificate.or(f.client_certificate);
    let cert_key = g.client_certificate_key.or(f.client_certificate_key);
    let credential = match (secret, cert, g.federated_token_file) {
        (Some(_), Some(_), _) => {
            return Err(Error::usage(
                "give either a client secret or a client certificate, not both",
            ));
        }
        (Some(s), None, _) => Credential::Secret(s),
        (None, Some(c), _) => certificate(&c, cert_key.as_deref())?,
        (None, None, Some(p)) => {
            read_secret_file(&p, "federated token file (AZURE_FEDERATED_TOKEN_FILE)")?;
            Credential::Federated(p)
        }
        (None, None, None) => {
            return Err(Error::usage(
                "serve-api needs a credential for the On-Behalf-Of exchange: `AZOBO_API_CLIENT_SECRET`, `--client-secret-file`, `--client-certificate`, or `AZURE_FEDERATED_TOKEN_FILE`",
            ));
        }
    };
    let tls = match (g.tls_cert.or(f.tls_cert), g.tls_key.or(f.tls_key)) {
        (Some(c), Some(k)) => Some((c, k)),
        (None, None) => None,
        _ => return Err(Error::usage("`--tls-cert` and `--tls-key` go together")),
    };
    let shared_cache = shared_cache(
        g.token_cache.or(f.token_cache),
        g.cache_key,
        g.cache_key_file.or(f.cache_key_file),
    )?;
    if tls.is_none() && !listen.ip().is_loopback() {
        tracing::warn!(
            "serving plain HTTP on {listen}: bearer tokens cross the network in the clear unless a TLS-terminating proxy sits in front"
        );
    }
    Ok(Settings {
        listen,
        authority,
        tenant,
        client_id,
        audiences,
        required_scope,
        allowed_tenants,
        accept_v1: versions.contains(&1),
        accept_v2: versions.contains(&2),
        arm_url,
        arm_api_version: g
            .arm_api_version
            .or(f.arm_api_version)
            .unwrap_or_else(|| "2022-12-01".to_owned()),
        jwks_refetch_floor: Duration::from_secs(
            g.jwks_refetch_floor
                .or(f.jwks_refetch_floor)
                .unwrap_or(30)
                .clamp(1, 300),
        ),
        arm_scope,
        credential,
        tls,
        request_timeout: Duration::from_secs(60),
        shared_cache,
    })
}

/// `--token-cache` with its keys: Redis never holds a token it could read without them.
fn shared_cache(
    url: Option<String>,
    key: Option<String>,
    key_file: Option<PathBuf>,
) -> Result<Option<SharedCacheSettings>> {
    let url = url.filter(|u| !u.is_empty() && u != "memory");
    let Some(url) = url else {
        if key.is_some() || key_file.is_some() {
            tracing::warn!(
                "a cache key is set but there is no shared cache (`--token-cache redis://…`); the key is unused"
            );
        }
        return Ok(None);
    };
    let scheme = url.split("://").next().unwrap_or("");
    if !matches!(scheme, "redis" | "rediss") {
        return Err(Error::usage(format!(
            "`--token-cache {}`: give `memory`, redis://HOST:PORT[/DB] or rediss://HOST:PORT[/DB]",
            redacted(&url)
        )));
    }
    if let Err(e) = redis::Client::open(url.as_str()) {
        return Err(Error::usage(format!(
            "`--token-cache {}` is not a usable Redis URL: {}",
            redacted(&url),
            crate::output::one_line(&e.to_string())
        )));
    }
    if url.contains("#insecure") {
        tracing::warn!(
            "the shared token cache's TLS certificate is not verified (#insecure): anyone on the path can read and replace cached tokens' ciphertext"
        );
    }
    let text = match (key, key_file) {
        (Some(_), Some(_)) => {
            return Err(Error::usage(
                "give the cache keys once: `AZOBO_API_CACHE_KEY` or `--cache-key-file`, not both",
            ));
        }
        (Some(k), None) => zeroize::Zeroizing::new(k),
        (None, Some(p)) => zeroize::Zeroizing::new(read_secret_file(&p, "cache key file")?),
        (None, None) => {
            return Err(Error::usage(
                "a shared token cache needs an encryption key: set `AZOBO_API_CACHE_KEY` (base64 of 32 random bytes, e.g. `openssl rand -base64 32`) or pass `--cache-key-file`; every instance needs the same key",
            ));
        }
    };
    let keys = CacheKeys::parse(&text).map_err(|m| {
        Error::usage(format!(
            "{m}; {}",
            "the first key encrypts, later ones only decrypt (for rotation)"
        ))
    })?;
    Ok(Some(SharedCacheSettings { url, keys }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn given() -> Given {
        Given {
            tenant: Some("7f0c1e5a-2d3b-4c8e-9a61-0d5e4b3a2f10".into()),
            client_id: Some("9E8D7C6B-5A4F-4E3D-8C2B-1A0F9E8D7C6B".into()),
            client_secret: Some("s3cret-value-long-enough".into()),
            ..Given::default()
        }
    }

    #[test]
    fn defaults_are_single_tenant_both_versions_and_both_audience_forms() {
        let s = resolve(given(), FileSettings::default()).unwrap();
        assert_eq!(s.client_id, "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b");
        assert_eq!(
            s.audiences,
            vec![s.client_id.clone(), format!("api://{}", s.client_id)]
        );
        assert_eq!(s.allowed_tenants, None);
        assert!(s.accept_v1 && s.accept_v2);
        assert_eq!(
            s.arm_scope,
            "https://management.azure.com/user_impersonation"
        );
        assert_eq!(s.listen.to_string(), "127.0.0.1:5000");
        assert!(
            !format!("{s:?}").contains("s3cret"),
            "secret redacted in Debug"
        );
    }

    #[test]
    fn incomplete_or_contradictory_config_fails_fast() {
        let mut g = given();
        g.client_secret = None;
        assert!(
            resolve(g, FileSettings::default())
                .unwrap_err()
                .to_string()
                .contains("AZOBO_API_CLIENT_SECRET")
        );
        let mut g = given();
        g.tenant = Some("organizations".into());
        assert!(
            resolve(g, FileSettings::default())
                .unwrap_err()
                .to_string()
                .contains("--allowed-tenants")
        );
        let mut g = given();
        g.authority = Some("http://login.example.com".into());
        assert!(resolve(g, FileSettings::default()).is_err());
        let mut g = given();
        g.token_versions = vec![3];
        assert!(resolve(g, FileSettings::default()).is_err());
    }

    #[test]
    fn a_redis_cache_needs_exactly_one_source_of_keys_and_a_redis_url() {
        let key = base64::engine::general_purpose::STANDARD.encode([9u8; 32]);
        let mut g = given();
        g.token_cache = Some("redis://:pw@127.0.0.1:6379/0".into());
        let e = resolve(g.clone(), FileSettings::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("AZOBO_API_CACHE_KEY"), "{e}");
        g.cache_key = Some(key.clone());
        let s = resolve(g.clone(), FileSettings::default()).unwrap();
        let debug = format!("{s:?}");
        assert!(!debug.contains("pw") && !debug.contains(&key), "{debug}");
        g.cache_key_file = Some("/nonexistent".into());
        assert!(resolve(g.clone(), FileSettings::default()).is_err());
        g.cache_key = None;
        g.cache_key_file = Some("/dev/zero".into());
        let e = resolve(g.clone(), FileSettings::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("larger than 64 KiB"), "{e}");
        g.cache_key = Some(key.clone());
        g.cache_key_file = None;
        g.token_cache = Some("memcached://h:1".into());
        assert!(resolve(g.clone(), FileSettings::default()).is_err());
        g.token_cache = Some("memory".into());
        assert!(
            resolve(g, FileSettings::default())
                .unwrap()
                .shared_cache
                .is_none()
        );
        let mut g = given();
        g.token_cache = Some("redis://127.0.0.1:6379".into());
        g.cache_key = Some("dG9vIHNob3J0".into());
        let e = resolve(g, FileSettings::default()).unwrap_err().to_string();
        assert!(e.contains("32") && !e.contains("dG9vIHNob3J0"), "{e}");
    }

    #[test]
    fn file_table_fills_what_flags_leave_out() {
        let text = "[profiles.default]\ntenant = \"x.com\"\n\n[serve_api]\nrequired_scope = \"read\"\nallowed_tenants = [\"*\"]\n";
        let f = FileSettings::from_config_text(Path::new("c.toml"), Some(text)).unwrap();
        let s = resolve(given(), f).unwrap();
        assert_eq!(s.required_scope, "read");
        assert_eq!(s.allowed_tenants, Some(Tenants::Any));
        assert!(
            FileSettings::from_config_text(Path::new("c.toml"), Some("[serve_api]\nbogus = 1\n"))
                .is_err()
        );
    }
}
