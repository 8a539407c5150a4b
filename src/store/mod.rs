//! Where a profile's session lives. Secrets never touch disk in the clear: the OS keyring holds a
//! random 256-bit data key per profile, the tokens sit in an AES-256-GCM encrypted cache file
//! (0600, atomic replace), and the non-secret metadata (account, tenant, expiry, backend) sits
//! beside it as JSON. `--insecure-storage` / `AZOBO_TOKEN_STORE=file` is the explicit, warned
//! alternative: a plaintext 0600 file.

mod cipher;
pub mod file;
pub mod keyring;
pub mod lock;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
pub use keyring::Backend;
pub use lock::SessionLock;

/// The signed-in user, from the verified id_token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Display name (`name`).
    pub name: String,
    /// Sign-in name (`preferred_username`).
    pub username: String,
    /// Object id (`oid`).
    pub oid: String,
    /// Tenant id (`tid`).
    pub tenant_id: String,
}

/// Where the secrets of a session are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "backend")]
pub enum Storage {
    /// Encrypted cache, key in this OS keyring.
    Keyring(Backend),
    /// Plaintext 0600 file (opted into).
    File,
}

impl fmt::Display for Storage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Storage::Keyring(b) => write!(f, "{} (encrypted cache)", b.name()),
            Storage::File => f.write_str("plaintext file (insecure)"),
        }
    }
}

/// Non-secret facts about a session, stored in the clear.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionMeta {
    /// The profile.
    pub profile: String,
    /// Who signed in.
    pub account: Account,
    /// Authority base URL used.
    pub authority: String,
    /// Tenant segment used to sign in.
    pub tenant: String,
    /// The CLI app's client id.
    pub client_id: String,
    /// The token endpoint the refresh token is redeemed at.
    pub token_endpoint: String,
    /// The API scope signed in for.
    pub api_scope: String,
    /// All scopes requested at sign-in.
    pub scopes: Vec<String>,
    /// Where the secrets are.
    pub storage: Storage,
    /// When the user signed in (POSIX seconds).
    pub signed_in_at: u64,
}

/// An access token and what it is for.
#[derive(Clone, Serialize, Deserialize)]
pub struct CachedToken {
    /// The bearer token.
    pub access_token: String,
    /// Granted scopes, as the token endpoint returned them.
    pub scope: String,
    /// Expiry (POSIX seconds).
    pub expires_on: u64,
}

impl fmt::Debug for CachedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedToken")
            .field("access_token", &"<redacted>")
            .field("scope", &self.scope)
            .field("expires_on", &self.expires_on)
            .finish()
    }
}

/// The secret part of a session.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct Secrets {
    /// The current refresh token (the previous one is dropped on every rotation).
    pub refresh_token: Option<String>,
    /// Access tokens by requested scope.
    pub tokens: BTreeMap<String, CachedToken>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secrets")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("tokens", &self.tokens)
            .finish()
    }
}

/// A session read from the store, with what is needed to write it back.
#[derive(Debug)]
pub struct Loaded {
    /// Its metadata.
    pub meta: SessionMeta,
    /// Its secrets.
    pub secrets: Secrets,
    key: Option<Vec<u8>>,
}

/// How `login` wants the session stored.
#[derive(Debug, Clone)]
pub struct StoragePlan {
    /// `--insecure-storage` or `AZOBO_TOKEN_STORE=file`.
    pub insecure_file: bool,
    /// `AZOBO_KEYRING`.
    pub keyring_choice: Option<String>,
}

/// One profile's session files.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
    profile: String,
}

/// The directory sessions live in: the platform data dir's `sessions`.
pub fn default_dir() -> Result<PathBuf> {
    directories::ProjectDirs::from("", "", "azobo")
        .map(|d| d.data_dir().join("sessions"))
        .ok_or_else(|| Error::usage("cannot find a home directory to keep sessions in"))
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Store {
    /// The store for `profile` under `dir`.
    pub fn new(dir: &Path, profile: &str) -> Result<Self> {
        let ok = !profile.is_empty()
            && profile.len() <= 64
            && profile
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && !profile.starts_with('.');
        if !ok {
            return Err(Error::usage(format!(
                "`{profile}` is not a profile name; use letters, digits, `-`, `_` and `.`"
            )));
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            profile: profile.to_owned(),
        })
    }

    /// Every profile with a session under `dir`.
    pub fn profiles(dir: &Path) -> Result<Vec<String>> {
        let rd = match std::fs::read_dir(dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(format!("listing `{}`", dir.display()), e)),
        };
        let mut names: Vec<String> = rd
            .filter_map(std::result::Result::ok)
            .filter_map(|e| {
                e.file_name()
                    .to_str()
                    .and_then(|n| n.strip_suffix(".json"))
                    .filter(|n| !n.ends_with(".tokens"))
                    .map(str::to_owned)
            })
            .collect();
        names.sort();
        Ok(names)
    }

    fn path(&self, suffix: &str) -> PathBuf {
        self.dir.join(format!("{}{suffix}", self.profile))
    }

    /// The encrypted cache file.
    pub fn cache_path(&self) -> PathBuf {
        self.path(".cache")
    }

    /// The plaintext file of an insecure session.
    pub fn plaintext_path(&self) -> PathBuf {
        self.path(".tokens.json")
    }

    /// The metadata file.
    pub fn meta_path(&self) -> PathBuf {
        self.path(".json")
    }

    /// Takes the profile's cross-process lock.
    pub async fn lock(&self) -> Result<SessionLock> {
        lock::acquire(&self.path(".lock")).await
    }

    /// The session's metadata, if signed in.
    pub fn meta(&self) -> Result<Option<SessionMeta>> {
        let Some(bytes) = file::read_optional(&self.meta_path())? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            Error::failure(format!(
                "`{}` is damaged ({e}); run `azobo logout` and sign in again",
                self.meta_path().display()
            ))
        })
    }

    /// Reads the whole session; `None` when signed out.
    pub async fn load(&self) -> Result<Option<Loaded>> {
        let Some(meta) = self.meta()? else {
            return Ok(None);
        };
        let gone = |what: &str| Error::SignInRequired {
            message: format!(
                "the session of profile `{}` is incomplete: {what}",
                self.profile
            ),
        };
        let (plain, key) = match meta.storage {
            Storage::File => (
                file::read_optional(&self.plaintext_path())?
                    .ok_or_else(|| gone("its token file is missing"))?,
                None,
            ),
            Storage::Keyring(backend) => {
                let key = keyring::get(backend, &self.profile)
                    .await
                    .map_err(|e| {
                        Error::failure(format!(
                            "reading the token-cache key from the {}: {e}",
                            backend.name()
                        ))
                    })?
                    .ok_or_else(|| {
                        gone(&format!(
                            "the {} has no key for it (cleared, or lost at reboot)",
                            backend.name()
                        ))
                    })?;
                let sealed = file::read_optional(&self.cache_path())?
                    .ok_or_else(|| gone("its encrypted cache is missing"))?;
                (cipher::open(&key, &self.profile, &sealed)?, Some(key))
            }
        };
        let secrets: Secrets =
            serde_json::from_slice(&plain).map_err(|_| gone("its token cache is unreadable"))?;
        Ok(Some(Loaded { meta, secrets, key }))
    }

    /// Writes back a loaded session after its secrets changed (no keyring write needed).
    pub fn save_loaded(&self, loaded: &Loaded) -> Result<()> {
        self.write_secrets(loaded.meta.storage, loaded.key.as_deref(), &loaded.secrets)
    }

    fn write_secrets(&self, storage: Storage, key: Option<&[u8]>, secrets: &Secrets) -> Result<()> {
        let plain = serde_json::to_vec(secrets)
            .map_err(|e| Error::failure(format!("encoding the session: {e}")))?;
        match (storage, key) {
            (Storage::File, _) => file::write_atomic(&self.plaintext_path(), &plain),
            (Storage::Keyring(_), Some(key)) => file::write_atomic(
                &self.cache_path(),
                &cipher::seal(key, &self.profile, &plain)?,
            ),
            (Storage::Keyring(_), None) => Err(Error::failure(
                "no token-cache key to encrypt the session with",
            )),
        }
    }

    /// Stores a new session (after `login`), choosing where per `plan`; returns the choice.
    pub async fn save_new(
        &self,
        mut meta: SessionMeta,
        secrets: &Secrets,
        plan: &StoragePlan,
    ) -> Result<Storage> {
        let (storage, key) = if plan.insecure_file {
            (Storage::File, None)
        } else {
            let candidates = Backend::candidates(plan.keyring_choice.as_deref())
                .map_err(|m| Error::usage(format!("`AZOBO_KEYRING`: {m}")))?;
            let mut failures = Vec::new();
            let mut chosen = None;
            for backend in candidates {
                let key = match keyring::get(backend, &self.profile).await {
                    Ok(Some(k)) if k.len() == cipher::KEY_LEN => k,
                    Ok(_) => cipher::new_key().to_vec(),
                    Err(e) => {
                        failures.push(format!("{}: {e}", backend.name()));
                        continue;
                    }
                };
                match keyring::put(backend, &self.profile, &key).await {
                    Ok(()) => {
                        chosen = Some((backend, key));
                        break;
                    }
                    Err(e) => failures.push(format!("{}: {e}", backend.name())),
                }
            }
            let Some((backend, key)) = chosen else {
                return Err(Error::failure(format!(
                    "no working OS keyring ({}); sign in with `--insecure-storage` (or `AZOBO_TOKEN_STORE=file`) to keep tokens in a plaintext 0600 file, or set `AZOBO_TOKEN` to a token",
                    failures.join("; ")
                )));
            };
            (Storage::Keyring(backend), Some(key))
        };
        self.write_secrets(storage, key.as_deref(), secrets)?;
        meta.storage = storage;
        meta.signed_in_at = now();
        let bytes = serde_json::to_vec_pretty(&meta)
            .map_err(|e| Error::failure(format!("encoding the session: {e}")))?;
        file::write_atomic(&self.meta_path(), &bytes)?;
        // Leave nothing of an earlier session stored the other way.
        match storage {
            Storage::File => {
                file::remove(&self.cache_path())?;
            }
            Storage::Keyring(_) => {
                file::remove(&self.plaintext_path())?;
            }
        }
        Ok(storage)
    }

    /// Forgets the refresh token (after the identity platform refused it), keeping the account
    /// so `status` can say who has to sign in again.
    pub fn drop_secrets(&self, loaded: &mut Loaded) -> Result<()> {
        loaded.secrets = Secrets::default();
        self.save_loaded(loaded)
    }

    /// Removes everything of this profile; lists what was removed.
    pub async fn delete(&self) -> Result<Vec<String>> {
        let mut removed = Vec::new();
        if let Some(Storage::Keyring(backend)) = self.meta().ok().flatten().map(|m| m.storage) {
            match keyring::delete(backend, &self.profile).await {
                Ok(true) => removed.push(format!("the token-cache key in the {}", backend.name())),
                Ok(false) => {}
                Err(e) => {
                    return Err(Error::failure(format!(
                        "removing the key from the {}: {e}",
                        backend.name()
                    )));
                }
            }
        }
        for (path, what) in [
            (self.cache_path(), "the encrypted token cache"),
            (self.plaintext_path(), "the plaintext token file"),
            (self.meta_path(), "the account metadata"),
        ] {
            if file::remove(&path)? {
                removed.push(format!("{what} ({})", path.display()));
            }
        }
        file::remove(&self.path(".lock"))?;
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> SessionMeta {
        SessionMeta {
            profile: "p".into(),
            account: Account {
                name: "A".into(),
                username: "a@x".into(),
                oid: "o".into(),
                tenant_id: "t".into(),
            },
            authority: "https://login.microsoftonline.com".into(),
            tenant: "organizations".into(),
            client_id: "c".into(),
            token_endpoint: "https://login.microsoftonline.com/organizations/oauth2/v2.0/token"
                .into(),
            api_scope: "api://x/access_as_user".into(),
            scopes: vec![],
            storage: Storage::File,
            signed_in_at: 0,
        }
    }

    #[tokio::test]
    async fn plaintext_store_round_trips_and_deletes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path(), "p").unwrap();
        let mut secrets = Secrets {
            refresh_token: Some("rt-secret".into()),
            ..Secrets::default()
        };
        secrets.tokens.insert(
            "s".into(),
            CachedToken {
                access_token: "at-secret".into(),
                scope: "s".into(),
                expires_on: 1,
            },
        );
        let plan = StoragePlan {
            insecure_file: true,
            keyring_choice: None,
        };
        assert_eq!(
            store.save_new(meta(), &secrets, &plan).await.unwrap(),
            Storage::File
        );
        let loaded = store.load().await.unwrap().unwrap();
        assert_eq!(loaded.secrets.refresh_token.as_deref(), Some("rt-secret"));
        assert_eq!(Store::profiles(dir.path()).unwrap(), vec!["p".to_owned()]);
        let debug = format!("{loaded:?}");
        assert!(
            !debug.contains("rt-secret") && !debug.contains("at-secret"),
            "{debug}"
        );
        let meta_text = std::fs::read_to_string(store.meta_path()).unwrap();
        assert!(!meta_text.contains("secret"));
        assert_eq!(store.delete().await.unwrap().len(), 2);
        assert!(store.load().await.unwrap().is_none());
        assert!(store.delete().await.unwrap().is_empty(), "idempotent");
    }

    #[test]
    fn profile_names_cannot_escape_the_directory() {
        for bad in ["../x", "a/b", "", ".hidden", "a b"] {
            assert!(Store::new(Path::new("/tmp"), bad).is_err(), "{bad}");
        }
        assert!(Store::new(Path::new("/tmp"), "work-2.prod_x").is_ok());
    }
}
