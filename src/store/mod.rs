//! Where a profile's session lives. Secrets never touch disk in the clear: the OS keyring holds a
//! random 256-bit data key per profile, the tokens sit in an AES-256-GCM encrypted cache file
//! (0600, atomic replace), and the non-secret metadata (account, tenant, expiry, backend) sits
//! beside it as JSON. `--insecure-storage` / `AZOBO_TOKEN_STORE=file` is the explicit, warned
//! alternative: a plaintext 0600 file.

mod cipher;
pub mod file;
pub mod keyring;
#[cfg(target_os = "linux")]
mod keyutils;
pub mod lock;
pub mod probe;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use crate::error::{Error, Result};
use cipher::DataKey;
pub use keyring::Backend;
pub use lock::SessionLock;

/// The signed-in user, from the verified id_token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// Display name (`name`).
    pub name: String,
    /// Sign-in name (`preferred_username`).
    pub username: String,
    /// Object id (`oid`).
    pub oid: String,
    /// Tenant id (`tid`). Sessions written before 0.2 spell it `tenant_id`.
    #[serde(alias = "tenant_id")]
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
    /// The keyring entry holding the data key (absent in sessions of releases before 0.2, which
    /// used `token-cache-key:{profile}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_entry: Option<String>,
    /// The encrypted cache's file name in the sessions directory (absent: `{profile}.cache`,
    /// as releases before 0.2 wrote it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_file: Option<String>,
}

/// One of a profile's two places for a key and its cache. A new login writes the slot the
/// current session does not use and switches to it by replacing the metadata file (an atomic
/// rename): a login that fails leaves the old session whole, and a reader never pairs one
/// login's key with another's cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    A,
    B,
}

impl Slot {
    fn name(self) -> &'static str {
        match self {
            Slot::A => "a",
            Slot::B => "b",
        }
    }

    fn other(self) -> Self {
        match self {
            Slot::A => Slot::B,
            Slot::B => Slot::A,
        }
    }

    /// The slot a session's metadata names, if any.
    fn of(meta: &SessionMeta) -> Option<Self> {
        let entry = meta.key_entry.as_deref()?;
        [Slot::A, Slot::B]
            .into_iter()
            .find(|s| entry.ends_with(&format!("#{}", s.name())))
    }
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
    key: Option<DataKey>,
}

/// How `login` wants the session stored.
#[derive(Debug, Clone)]
pub struct StoragePlan {
    /// `--insecure-storage` or `AZOBO_TOKEN_STORE=file`.
    pub insecure_file: bool,
    /// `AZOBO_KEYRING`.
    pub keyring_choice: Option<String>,
}

impl StoragePlan {
    /// The plan for these settings: `AZOBO_TOKEN_STORE` (`keyring` or `file`), `--insecure-storage`
    /// and `AZOBO_KEYRING`, checked before anything else happens.
    pub fn resolve(
        token_store: Option<&str>,
        insecure_flag: bool,
        keyring_choice: Option<&str>,
    ) -> Result<Self> {
        let insecure_file = match token_store.map(str::to_ascii_lowercase).as_deref() {
            None | Some("keyring") => insecure_flag,
            Some("file") => true,
            Some(other) => {
                return Err(Error::usage(format!(
                    "`AZOBO_TOKEN_STORE`: `{other}` is not `keyring` or `file`"
                )));
            }
        };
        if !insecure_file {
            Backend::candidates(keyring_choice)
                .map_err(|m| Error::usage(format!("`AZOBO_KEYRING`: {m}")))?;
        }
        Ok(Self {
            insecure_file,
            keyring_choice: keyring_choice.map(str::to_owned),
        })
    }
}

/// What the pre-flight found: where a new session will be kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ready {
    /// The storage that passed the probe.
    pub storage: Storage,
    /// Keyrings that failed it: not worth another timeout when cleaning up after the save.
    pub broken: Vec<Backend>,
    /// The user named the keyring (`AZOBO_KEYRING`): its checks use the D-Bus session bus this
    /// process was given rather than the user's default one.
    pub explicit: bool,
}

/// What `delete` found and removed.
#[derive(Debug, Clone, Default)]
pub struct Removal {
    /// What was removed, for people.
    pub removed: Vec<String>,
    /// Stores that should have held something and could not be cleaned.
    pub problems: Vec<String>,
}

/// One profile's session files.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
    profile: String,
    /// The `azobo` binary that answers cross-process checks (`None`: this executable).
    checker: Option<PathBuf>,
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
            checker: None,
        })
    }

    /// Has the cross-process checks run by `program` (an `azobo` binary) instead of this
    /// executable: for a library user or a test harness that is not azobo itself.
    #[must_use]
    pub fn checked_by(mut self, program: impl Into<PathBuf>) -> Self {
        self.checker = Some(program.into());
        self
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

    /// The encrypted cache file of releases before 0.2.
    fn legacy_cache_path(&self) -> PathBuf {
        self.path(".cache")
    }

    fn slot_cache_path(&self, slot: Slot) -> PathBuf {
        self.path(&format!(".{}.cache", slot.name()))
    }

    /// The encrypted cache file of the session `meta` describes.
    pub fn cache_path_of(&self, meta: &SessionMeta) -> Result<PathBuf> {
        match &meta.cache_file {
            None => Ok(self.legacy_cache_path()),
            // Only this profile's own slot files: the metadata file is not trusted to point
            // anywhere else.
            Some(name) => [Slot::A, Slot::B]
                .into_iter()
                .map(|s| self.slot_cache_path(s))
                .find(|p| p.file_name().is_some_and(|f| f == name.as_str()))
                .ok_or_else(|| {
                    Error::failure(format!(
                        "`{}` names an unexpected cache file; run `azobo logout` and sign in again",
                        self.meta_path().display()
                    ))
                }),
        }
    }

    /// The plaintext file of an insecure session.
    pub fn plaintext_path(&self) -> PathBuf {
        self.path(".tokens.json")
    }

    /// The metadata file.
    pub fn meta_path(&self) -> PathBuf {
        self.path(".json")
    }

    /// The profile.
    pub fn profile(&self) -> &str {
        &self.profile
    }

    /// The sessions directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The keyring entry for this profile's data key in `slot`. The sessions directory is part
    /// of the name: two HOMEs (or data directories) of one user share the user's keyrings, and
    /// must not overwrite each other's key.
    fn slot_key_entry(&self, slot: Slot) -> String {
        let dir = sha2::Sha256::digest(self.dir.to_string_lossy().as_bytes());
        let short = hex(&dir[..6]);
        format!("token-cache-key:{}@{short}#{}", self.profile, slot.name())
    }

    /// Both keyring entries this profile's sessions may use (a login writes the first when the
    /// profile has no session).
    pub fn key_entries(&self) -> [String; 2] {
        [self.slot_key_entry(Slot::A), self.slot_key_entry(Slot::B)]
    }

    /// The entry name releases before 0.2 used.
    fn legacy_key_entry(&self) -> String {
        format!("token-cache-key:{}", self.profile)
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
        tracing::info!(
            "profile `{}`: session of {} in the {}",
            self.profile,
            meta.account.username,
            meta.storage
        );
        let (plain, key) = match meta.storage {
            Storage::File => (
                file::read_optional(&self.plaintext_path())?
                    .ok_or_else(|| gone("its token file is missing"))?,
                None,
            ),
            Storage::Keyring(backend) => {
                let entry = meta
                    .key_entry
                    .clone()
                    .unwrap_or_else(|| self.legacy_key_entry());
                let key = keyring::get(backend, &entry)
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
                let key = DataKey::from_stored(key).ok_or_else(|| {
                    gone(&format!(
                        "the {} holds something that is not a key azobo wrote",
                        backend.name()
                    ))
                })?;
                let sealed = file::read_optional(&self.cache_path_of(&meta)?)?
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
        self.write_secrets(&loaded.meta, loaded.key.as_ref(), &loaded.secrets)
    }

    fn write_secrets(
        &self,
        meta: &SessionMeta,
        key: Option<&DataKey>,
        secrets: &Secrets,
    ) -> Result<()> {
        let plain = serde_json::to_vec(secrets)
            .map_err(|e| Error::failure(format!("encoding the session: {e}")))?;
        match (meta.storage, key) {
            (Storage::File, _) => file::write_atomic(&self.plaintext_path(), &plain),
            (Storage::Keyring(_), Some(key)) => file::write_atomic(
                &self.cache_path_of(meta)?,
                &cipher::seal(key, &self.profile, &plain)?,
            ),
            (Storage::Keyring(_), None) => Err(Error::failure(
                "no token-cache key to encrypt the session with",
            )),
        }
    }

    /// Checks, before any sign-in, that a session stored now can be read by the next process:
    /// each candidate store gets a probe entry written here, read back by a fresh `azobo`
    /// process and deleted. The first that passes is where `save_new` will put the session.
    pub async fn preflight(&self, plan: &StoragePlan) -> Result<Ready> {
        if plan.insecure_file {
            probe::file_store(self.checker.as_deref(), &self.dir)
                .await
                .map_err(|why| {
                    Error::failure(format!("the plaintext token file cannot be used: {why}"))
                })?;
            return Ok(Ready {
                storage: Storage::File,
                broken: Vec::new(),
                explicit: true,
            });
        }
        let candidates = Backend::candidates(plan.keyring_choice.as_deref())
            .map_err(|m| Error::usage(format!("`AZOBO_KEYRING`: {m}")))?;
        let explicit = plan
            .keyring_choice
            .as_deref()
            .is_some_and(|c| !c.eq_ignore_ascii_case("auto"));
        let mut failures = Vec::new();
        let mut broken = Vec::new();
        for backend in candidates {
            match probe::keyring(self.checker.as_deref(), backend, explicit).await {
                Ok(()) => {
                    tracing::info!("the session will be kept in the {}", backend.name());
                    return Ok(Ready {
                        storage: Storage::Keyring(backend),
                        broken,
                        explicit,
                    });
                }
                Err(why) => {
                    tracing::info!("the {} cannot keep a session here: {why}", backend.name());
                    failures.push(format!("{}: {why}", backend.name()));
                    broken.push(backend);
                }
            }
        }
        Err(Error::failure(format!(
            "no working OS keyring can keep a session here ({}); sign in with `--insecure-storage` (a plaintext 0600 file), set `AZOBO_TOKEN` to a token, or start a Secret Service (a desktop session, or `gnome-keyring-daemon` on a D-Bus session bus)",
            failures.join("; ")
        )))
    }

    /// Stores a new session (after `login`) where the pre-flight chose, proves that a fresh
    /// process can load it, and only then removes whatever an earlier session left in any
    /// store. A keyring session goes into the slot the current one does not use and takes over
    /// by the metadata file's atomic replacement; if the check fails, the earlier session is put
    /// back as it was (a plaintext one, whose file was overwritten, is removed).
    pub async fn save_new(
        &self,
        mut meta: SessionMeta,
        secrets: &Secrets,
        ready: Ready,
    ) -> Result<Storage> {
        let storage = ready.storage;
        let previous_bytes = file::read_optional(&self.meta_path())?;
        let previous: Option<SessionMeta> = previous_bytes
            .as_deref()
            .and_then(|b| serde_json::from_slice(b).ok());
        let slot = previous
            .as_ref()
            .and_then(Slot::of)
            .map_or(Slot::A, Slot::other);
        meta.storage = storage;
        meta.signed_in_at = now();
        let key = match storage {
            Storage::File => {
                meta.key_entry = None;
                meta.cache_file = None;
                None
            }
            Storage::Keyring(backend) => {
                let entry = self.slot_key_entry(slot);
                let key = DataKey::random();
                if let Err(e) = keyring::put(backend, &entry, key.bytes()).await {
                    // It may have landed all the same (a late write): it must not linger.
                    let _ = keyring::delete(backend, &entry).await;
                    return Err(Error::failure(format!(
                        "storing the token-cache key in the {}: {e}",
                        backend.name()
                    )));
                }
                meta.key_entry = Some(entry);
                meta.cache_file = self
                    .slot_cache_path(slot)
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned());
                Some(key)
            }
        };
        let committed = self
            .write_secrets(&meta, key.as_ref(), secrets)
            .and_then(|()| {
                let bytes = serde_json::to_vec_pretty(&meta)
                    .map_err(|e| Error::failure(format!("encoding the session: {e}")))?;
                file::write_atomic(&self.meta_path(), &bytes)
            });
        let verified = match committed {
            Ok(()) => {
                let bus = match storage {
                    Storage::Keyring(b) => probe::Bus::for_check(b, ready.explicit),
                    Storage::File => probe::Bus::Inherited,
                };
                probe::session(self, bus, &session_digest(&meta, secrets))
                    .await
                    .map_err(|why| {
                        Error::failure(format!(
                            "the session was stored in the {storage} but a new process cannot load it ({why}); nothing was kept"
                        ))
                    })
            }
            Err(e) => Err(e),
        };
        if let Err(e) = verified {
            self.roll_back(&meta, previous_bytes.as_deref(), previous.as_ref())
                .await;
            return Err(e);
        }
        self.remove_earlier(&meta, previous.as_ref(), &ready.broken)
            .await;
        Ok(storage)
    }

    /// Undoes a `save_new` whose check failed: the new slot goes, the earlier metadata comes
    /// back (a plaintext session it pointed to was overwritten, so then everything goes).
    async fn roll_back(
        &self,
        new: &SessionMeta,
        previous_bytes: Option<&[u8]>,
        previous: Option<&SessionMeta>,
    ) {
        if let (Storage::Keyring(b), Some(entry)) = (new.storage, &new.key_entry) {
            let _ = keyring::delete(b, entry).await;
            if let Ok(p) = self.cache_path_of(new) {
                let _ = file::remove(&p);
            }
        }
        let plaintext_lost =
            new.storage == Storage::File && previous.is_some_and(|p| p.storage == Storage::File);
        match previous_bytes {
            Some(bytes) if !plaintext_lost => {
                let _ = file::write_atomic(&self.meta_path(), bytes);
            }
            _ => {
                let _ = file::remove(&self.meta_path());
                let _ = file::remove(&self.plaintext_path());
            }
        }
    }

    /// After a successful `save_new`: removes the earlier session's key and files, this
    /// profile's keys in every other store, and what releases before 0.2 left (best effort: a
    /// store this process cannot reach holds nothing it could read either).
    async fn remove_earlier(
        &self,
        new: &SessionMeta,
        previous: Option<&SessionMeta>,
        broken: &[Backend],
    ) {
        let keep = new.key_entry.as_deref();
        for slot in [Slot::A, Slot::B] {
            let p = self.slot_cache_path(slot);
            if self.cache_path_of(new).ok().as_ref() != Some(&p) {
                let _ = file::remove(&p);
            }
        }
        let _ = file::remove(&self.legacy_cache_path());
        if new.storage != Storage::File {
            let _ = file::remove(&self.plaintext_path());
        }
        let mut names: Vec<String> = self.key_entries().into();
        names.push(self.legacy_key_entry());
        if let Some(old) = previous.and_then(|m| m.key_entry.clone())
            && !names.contains(&old)
        {
            names.push(old);
        }
        for backend in Backend::candidates(None).unwrap_or_default() {
            if broken.contains(&backend) {
                continue;
            }
            let in_use = new.storage == Storage::Keyring(backend);
            let others = names
                .iter()
                .map(String::as_str)
                .filter(|n| !(in_use && Some(*n) == keep));
            keyring::delete_all(backend, others).await;
            keyring::delete_legacy(backend, &self.profile).await;
        }
    }

    /// Forgets the refresh token (after the identity platform refused it), keeping the account
    /// so `status` can say who has to sign in again.
    pub fn drop_secrets(&self, loaded: &mut Loaded) -> Result<()> {
        loaded.secrets = Secrets::default();
        self.save_loaded(loaded)
    }

    /// Removes everything of this profile from every store this process can reach, whether or
    /// not the metadata file is there or readable. The lock file stays: unlinking it while
    /// another process waits on it would give the next one a lock of its own.
    pub async fn delete(&self) -> Result<Removal> {
        let mut out = Removal::default();
        let meta_bytes = file::read_optional(&self.meta_path())?;
        let meta: Option<SessionMeta> = meta_bytes
            .as_deref()
            .and_then(|b| serde_json::from_slice(b).ok());
        if meta_bytes.is_some() && meta.is_none() {
            out.removed.push(format!(
                "damaged account metadata ({})",
                self.meta_path().display()
            ));
        }
        let in_use = meta.as_ref().and_then(|m| match m.storage {
            Storage::Keyring(b) => Some(b),
            Storage::File => None,
        });
        let mut entries: Vec<String> = self.key_entries().into();
        entries.push(self.legacy_key_entry());
        if let Some(e) = meta.as_ref().and_then(|m| m.key_entry.clone())
            && !entries.contains(&e)
        {
            entries.push(e);
        }
        for backend in Backend::candidates(None).unwrap_or_default() {
            let (mut found, failed) =
                keyring::delete_all(backend, entries.iter().map(String::as_str)).await;
            match failed {
                Some(e) if Some(backend) == in_use => out
                    .problems
                    .push(format!("the {} could not be cleaned: {e}", backend.name())),
                Some(e) => tracing::debug!("{}: {e}", backend.name()),
                None => {}
            }
            found |= keyring::delete_legacy(backend, &self.profile).await;
            if found {
                out.removed
                    .push(format!("the token-cache key in the {}", backend.name()));
            }
        }
        for (path, what) in [
            (self.slot_cache_path(Slot::A), "the encrypted token cache"),
            (self.slot_cache_path(Slot::B), "the encrypted token cache"),
            (self.legacy_cache_path(), "the encrypted token cache"),
            (self.plaintext_path(), "the plaintext token file"),
        ] {
            if file::remove(&path)? {
                out.removed.push(format!("{what} ({})", path.display()));
            }
        }
        if file::remove(&self.meta_path())? && meta.is_some() {
            out.removed.push(format!(
                "the account metadata ({})",
                self.meta_path().display()
            ));
        }
        Ok(out)
    }
}

/// A digest of a session as stored, for the cross-process check: equal digests mean the fresh
/// process read the same account and the same secrets. Domain-separated, so it can never equal
/// a hash of a token alone.
pub(crate) fn session_digest(meta: &SessionMeta, secrets: &Secrets) -> String {
    let mut h = sha2::Sha256::new();
    h.update(b"azobo-session-check\0");
    h.update(meta.account.oid.as_bytes());
    h.update(b"\0");
    h.update(meta.account.tenant_id.as_bytes());
    h.update(b"\0");
    h.update(serde_json::to_vec(secrets).unwrap_or_default());
    hex(&h.finalize())
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_entries_differ_per_directory_and_profile() {
        let a = Store::new(Path::new("/home/a/.local/share/azobo/sessions"), "p").unwrap();
        let b = Store::new(Path::new("/home/b/.local/share/azobo/sessions"), "p").unwrap();
        let c = Store::new(Path::new("/home/a/.local/share/azobo/sessions"), "q").unwrap();
        assert_ne!(a.key_entries(), b.key_entries());
        assert_ne!(a.key_entries(), c.key_entries());
        let [first, second] = a.key_entries();
        assert!(
            first.starts_with("token-cache-key:p@") && first.ends_with("#a"),
            "{first}"
        );
        assert_eq!(first.replace("#a", "#b"), second);
        assert_eq!(a.key_entries(), a.clone().key_entries(), "stable");
    }

    #[test]
    fn profile_names_cannot_escape_the_directory() {
        for bad in ["../x", "a/b", "", ".hidden", "a b"] {
            assert!(Store::new(Path::new("/tmp"), bad).is_err(), "{bad}");
        }
        assert!(Store::new(Path::new("/tmp"), "work-2.prod_x").is_ok());
    }
}
