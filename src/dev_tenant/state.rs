//! Files the dev tenant owns on disk: the private directories (`--runtime-dir`, `--state-dir`)
//! and what `--state-dir` keeps across restarts — the address it listened on, the signing keys,
//! the API app's secret and certificate, the TLS certificates, users' refresh tokens (by hash),
//! and the apps, service principals and grants made through Graph.
//!
//! Every file is written whole to a fresh temporary file (`O_CREAT|O_EXCL`, mode 0600, so a
//! planted symlink or a pre-existing file's mode is never followed or kept) and renamed over the
//! old one, so a reader or a crash never sees half a file.

use std::collections::HashSet;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::seed::{App, Directory, PermissionGrant, ServicePrincipal};
use crate::error::{Error, Result};

/// The state file inside `--state-dir`.
const STATE_FILE: &str = "state.json";
/// Bumped when the file's shape changes incompatibly.
pub(crate) const STATE_VERSION: u32 = 1;
/// A state file larger than this is refused rather than read (100,000 refresh tokens take
/// about 25 MiB).
const MAX_STATE_BYTES: u64 = 128 * 1024 * 1024;

/// Creates `path` as a directory only this user can enter (0700), or checks an existing one:
/// a symlink, something else than a directory, a directory another user owns, or one that
/// group or others may write to are refused — any of them would let someone else swap the
/// files (a CA, a private key) the dev tenant writes there.
pub(crate) fn private_dir(path: &Path, flag: &str) -> Result<()> {
    let refuse = |why: &str| {
        Error::usage(format!("`{flag} {}`: {why}", path.display())).with_hint(
            "point it at a directory of your own that only you can write to, or at a path that does not exist yet",
        )
    };
    match std::fs::symlink_metadata(path) {
        Ok(meta) => {
            if meta.file_type().is_symlink() {
                return Err(refuse("is a symbolic link"));
            }
            if !meta.is_dir() {
                return Err(refuse("is not a directory"));
            }
            #[cfg(unix)]
            {
                use std::os::unix::fs::MetadataExt as _;
                if meta.mode() & 0o022 != 0 {
                    return Err(refuse(&format!(
                        "is writable by group or others (mode {:o})",
                        meta.mode() & 0o777
                    )));
                }
                if meta.uid() != rustix::process::geteuid().as_raw() {
                    return Err(refuse("belongs to another user"));
                }
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt as _;
                builder.mode(0o700);
            }
            builder
                .create(path)
                .map_err(|e| Error::io(format!("creating `{}`", path.display()), e))
        }
        Err(e) => Err(Error::io(format!("reading `{}`", path.display()), e)),
    }
}

/// Writes `contents` to `dir/name` atomically, mode 0600: a new temporary file (created
/// exclusively, so never through a symlink) renamed over whatever was there.
pub(crate) fn write_private(dir: &Path, name: &str, contents: &[u8]) -> Result<PathBuf> {
    let path = dir.join(name);
    let fail = |e: std::io::Error| Error::io(format!("writing `{}`", path.display()), e);
    // tempfile opens with O_CREAT|O_EXCL and mode 0600 on Unix.
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .tempfile_in(dir)
        .map_err(fail)?;
    tmp.write_all(contents).map_err(fail)?;
    tmp.as_file().sync_all().map_err(fail)?;
    tmp.persist(&path).map_err(|e| fail(e.error))?;
    Ok(path)
}

/// A signing key as stored: its certificate and PKCS#8 private key, PEM.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct KeyPem {
    pub(crate) cert: String,
    pub(crate) key: String,
}

/// The TLS certificates of a `--tls` run, and the address they were made for.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct TlsPem {
    pub(crate) ip: std::net::IpAddr,
    pub(crate) ca: String,
    pub(crate) chain: String,
    pub(crate) key: String,
}

/// A refresh token as stored: the SHA-256 of the token, never the token.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct RefreshPem {
    pub(crate) hash: String,
    pub(crate) client_id: String,
    pub(crate) user_oid: String,
    pub(crate) mfa: bool,
    pub(crate) expires: u64,
    pub(crate) revoked: bool,
}

/// The contents of `state.json`.
#[derive(Clone, Default, Serialize, Deserialize)]
pub(crate) struct Persisted {
    pub(crate) version: u32,
    pub(crate) tenant_id: Option<Uuid>,
    pub(crate) listen: Option<SocketAddr>,
    pub(crate) api_client_secret: Option<String>,
    #[serde(default)]
    pub(crate) signing_keys: Vec<KeyPem>,
    pub(crate) api_credential: Option<KeyPem>,
    pub(crate) tls: Option<TlsPem>,
    #[serde(default)]
    pub(crate) refresh_tokens: Vec<RefreshPem>,
    /// Apps registered through Graph (the seeded and first-party ones come from the seed).
    #[serde(default)]
    pub(crate) apps: Vec<App>,
    /// Service principals created through Graph.
    #[serde(default)]
    pub(crate) service_principals: Vec<ServicePrincipal>,
    /// Every delegated permission grant.
    #[serde(default)]
    pub(crate) consents: Vec<PermissionGrant>,
}

/// An opened `--state-dir` and what it held at start.
#[derive(Clone)]
pub struct StateDir {
    path: PathBuf,
    pub(crate) loaded: Persisted,
}

impl std::fmt::Debug for StateDir {
    // The loaded state holds private keys: show where it lives, not what it holds.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateDir")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl StateDir {
    /// Creates or checks the directory and reads its state file, if any.
    pub fn open(path: &Path) -> Result<Self> {
        private_dir(path, "--state-dir")?;
        let file = path.join(STATE_FILE);
        let loaded = match std::fs::symlink_metadata(&file) {
            Ok(meta) if !meta.is_file() => {
                return Err(Error::usage(format!(
                    "`{}` is not a regular file",
                    file.display()
                )));
            }
            Ok(meta) if meta.len() > MAX_STATE_BYTES => {
                return Err(Error::usage(format!(
                    "`{}` is larger than {} MiB",
                    file.display(),
                    MAX_STATE_BYTES / 1024 / 1024
                )));
            }
            Ok(_) => {
                let text = std::fs::read_to_string(&file)
                    .map_err(|e| Error::io(format!("reading `{}`", file.display()), e))?;
                let p: Persisted = serde_json::from_str(&text).map_err(|e| Error::Config {
                    path: file.clone(),
                    line: Some(e.line()),
                    message: e.to_string(),
                })?;
                if p.version != STATE_VERSION {
                    return Err(Error::usage(format!(
                        "`{}` is version {} of the dev tenant's state; this azobo reads version {STATE_VERSION}",
                        file.display(),
                        p.version
                    )));
                }
                p
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Persisted::default(),
            Err(e) => return Err(Error::io(format!("reading `{}`", file.display()), e)),
        };
        Ok(Self {
            path: path.to_path_buf(),
            loaded,
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The address the previous run listened on.
    pub fn listen(&self) -> Option<SocketAddr> {
        self.loaded.listen
    }

    /// The API app's secret of the previous run (when it was generated, not seeded).
    pub fn api_client_secret(&self) -> Option<String> {
        self.loaded.api_client_secret.clone()
    }

    /// Refuses a state directory made for another tenant: its users, apps and tokens would
    /// not fit this directory.
    pub fn check_tenant(&self, tenant_id: Uuid) -> Result<()> {
        match self.loaded.tenant_id {
            Some(t) if t != tenant_id => Err(Error::usage(format!(
                "`--state-dir {}` holds the state of tenant `{t}`, not of `{tenant_id}`",
                self.path.display()
            ))
            .with_hint("use another --state-dir for another tenant, or remove this one")),
            _ => Ok(()),
        }
    }

    /// Writes the state file atomically.
    pub(crate) fn save(&self, state: &Persisted) -> Result<()> {
        let text = serde_json::to_vec(state)
            .map_err(|e| Error::failure(format!("serialising the dev tenant's state: {e}")))?;
        write_private(&self.path, STATE_FILE, &text).map(|_| ())
    }
}

/// What the seed itself provides, so only what was added at run time is stored.
#[derive(Debug, Default)]
pub(crate) struct SeedIds {
    apps: HashSet<Uuid>,
    service_principals: HashSet<Uuid>,
}

impl SeedIds {
    pub(crate) fn of(dir: &Directory) -> Self {
        Self {
            apps: dir.apps.iter().map(|a| a.app_id).collect(),
            service_principals: dir.service_principals.iter().map(|s| s.id).collect(),
        }
    }

    /// Fills `state` with the directory's run-time additions.
    pub(crate) fn capture(&self, dir: &Directory, state: &mut Persisted) {
        state.apps = dir
            .apps
            .iter()
            .filter(|a| !a.first_party && !self.apps.contains(&a.app_id))
            .cloned()
            .collect();
        state.service_principals = dir
            .service_principals
            .iter()
            .filter(|s| !self.service_principals.contains(&s.id))
            .cloned()
            .collect();
        state.consents.clone_from(&dir.consents);
    }
}

/// Adds a previous run's apps, service principals and grants to a freshly seeded directory
/// (what the seed already holds wins).
pub(crate) fn restore_directory(dir: &mut Directory, state: &Persisted) {
    for app in &state.apps {
        if dir.app(&app.app_id.to_string()).is_none() {
            dir.apps.push(app.clone());
        }
    }
    for sp in &state.service_principals {
        if !dir.service_principals.iter().any(|s| s.id == sp.id) {
            dir.service_principals.push(sp.clone());
        }
    }
    for g in &state.consents {
        if !dir.consents.iter().any(|c| c.id == g.id) {
            dir.consents.push(g.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn private_dir_refuses_symlinks_and_group_writable_dirs_and_creates_0700() {
        use std::os::unix::fs::PermissionsExt as _;
        let root = tempfile::tempdir().unwrap();
        let fresh = root.path().join("a/b");
        private_dir(&fresh, "--runtime-dir").unwrap();
        let mode = std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);

        let open = root.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = private_dir(&open, "--runtime-dir").unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("writable"), "{e}");

        let link = root.path().join("link");
        std::os::unix::fs::symlink(&fresh, &link).unwrap();
        assert!(
            private_dir(&link, "--runtime-dir")
                .unwrap_err()
                .to_string()
                .contains("symbolic link")
        );
    }

    #[cfg(unix)]
    #[test]
    fn write_private_replaces_a_planted_file_and_symlink_with_a_0600_file() {
        use std::os::unix::fs::PermissionsExt as _;
        let root = tempfile::tempdir().unwrap();
        let p = root.path().join("key.pem");
        std::fs::write(&p, "old").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o666)).unwrap();
        write_private(root.path(), "key.pem", b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);

        let target = root.path().join("elsewhere");
        std::fs::write(&target, "untouched").unwrap();
        let link = root.path().join("ca.pem");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_private(root.path(), "ca.pem", b"ca").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "untouched");
        assert!(!std::fs::symlink_metadata(&link).unwrap().is_symlink());
    }
}
