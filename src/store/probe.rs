//! Proof that the *next* process can read what this one stores. A check inside one process
//! proves nothing about the next: a keyring that keeps a secret only for the lifetime of the
//! process (an anonymous session keyring, a D-Bus session that ends with the shell) reads back
//! fine here and is empty in the next command. So every check writes here and reads in a fresh
//! `azobo` process (the hidden `__check-store` command), which answers with a digest of what it
//! read, never the secret itself.
//!
//! The fresh process is a child of this one, so it shares what this process inherited. For the
//! kernel keyring that is harmless: azobo never creates a session keyring, and the persistent
//! keyring is the user's, whatever the session. For the Secret Service it is not: a bus started
//! for one CI step (`dbus-run-session …`) is gone in the next. Unless the user named the Secret
//! Service explicitly, its check runs on the user's default session bus (no inherited
//! `DBUS_SESSION_BUS_ADDRESS`), where a desktop's keyring lives and a throwaway bus does not.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use sha2::Digest as _;

use super::cipher::DataKey;
use super::{Backend, Store, file, keyring};
use crate::error::{Error, Result};

/// The hidden command a fresh process runs to answer a check.
pub const CHECK_COMMAND: &str = "__check-store";

/// Time the fresh process may take (its keyring calls time out after 3 s each).
const CHECK_TIMEOUT: Duration = Duration::from_secs(15);

/// What the fresh process answers when there is nothing to read.
const NOTHING: &str = "none";

/// A domain-separated digest of `bytes`: equal digests mean equal bytes, and it can never equal
/// a plain hash of a token.
pub(crate) fn digest(bytes: &[u8]) -> String {
    let mut h = sha2::Sha256::new();
    h.update(b"azobo-store-check\0");
    h.update(bytes);
    super::hex(&h.finalize())
}

fn random_name() -> String {
    let mut b = [0u8; 8];
    rand::fill(&mut b);
    super::hex(&b)
}

/// The program that answers checks: this very binary.
fn program(store_checker: Option<&Path>) -> std::result::Result<PathBuf, String> {
    match store_checker {
        Some(p) => Ok(p.to_path_buf()),
        // On Linux, this very image even if the file was replaced meanwhile (an upgrade while a
        // sign-in waited).
        None if cfg!(target_os = "linux") && Path::new("/proc/self/exe").exists() => {
            Ok(PathBuf::from("/proc/self/exe"))
        }
        None => std::env::current_exe()
            .map_err(|e| format!("cannot find azobo's own executable to check with: {e}")),
    }
}

/// Runs `azobo __check-store ARGS` and returns what it printed.
async fn in_fresh_process(
    checker: Option<&Path>,
    on: Bus,
    args: &[&str],
) -> std::result::Result<String, String> {
    let mut cmd = tokio::process::Command::new(program(checker)?);
    if on == Bus::UserDefault {
        cmd.env_remove("DBUS_SESSION_BUS_ADDRESS");
    }
    cmd.arg(CHECK_COMMAND)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let out = match tokio::time::timeout(CHECK_TIMEOUT, cmd.output()).await {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => return Err(format!("starting a new azobo process failed: {e}")),
        Err(_) => {
            return Err(format!(
                "a new process did not answer within {} s",
                CHECK_TIMEOUT.as_secs()
            ));
        }
    };
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let line = err
            .lines()
            .find_map(|l| l.strip_prefix("error: "))
            .unwrap_or("it failed without saying why");
        return Err(format!("a new process could not read it: {line}"));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn compare(seen: &str, expected: &str) -> std::result::Result<(), String> {
    if seen == expected {
        Ok(())
    } else if seen == NOTHING {
        Err("a new process finds nothing there: the store keeps secrets only for the process that wrote them".to_owned())
    } else {
        Err("a new process reads something other than what was written".to_owned())
    }
}

/// Which D-Bus session bus the fresh process uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bus {
    /// The one this process was given (`DBUS_SESSION_BUS_ADDRESS`).
    Inherited,
    /// The user's default bus, as a process of another session would find it.
    UserDefault,
}

impl Bus {
    /// The bus a check of `backend` runs on; `explicit` when the user named the keyring.
    pub(crate) fn for_check(backend: Backend, explicit: bool) -> Self {
        if backend == Backend::SecretService && !explicit {
            Bus::UserDefault
        } else {
            Bus::Inherited
        }
    }
}

/// Writes a probe entry to `backend`, reads it in a fresh process, deletes it.
pub(crate) async fn keyring(
    checker: Option<&Path>,
    backend: Backend,
    explicit: bool,
) -> std::result::Result<(), String> {
    let entry = format!("probe:{}", random_name());
    let secret = DataKey::random();
    let seen = match keyring::put(backend, &entry, secret.bytes()).await {
        Ok(()) => {
            in_fresh_process(
                checker,
                Bus::for_check(backend, explicit),
                &["entry", backend.id(), &entry],
            )
            .await
        }
        Err(e) => Err(e),
    };
    // Whatever happened, the probe goes: a write that failed its read-back (or timed out and
    // landed late) may still have stored it.
    let cleaned = keyring::delete(backend, &entry).await;
    compare(&seen?, &digest(secret.bytes()))?;
    cleaned.map(|_| ())
}

/// Writes a probe file in `dir` (0600, as the session will be), reads it in a fresh process,
/// deletes it.
pub(crate) async fn file_store(
    checker: Option<&Path>,
    dir: &Path,
) -> std::result::Result<(), String> {
    let path = dir.join(format!(".probe-{}", random_name()));
    let secret = DataKey::random();
    file::write_new_private(&path, secret.bytes()).map_err(|e| e.to_string())?;
    let shown = path.to_string_lossy().into_owned();
    let seen = in_fresh_process(checker, Bus::Inherited, &["file", &shown]).await;
    let _ = file::remove(&path);
    compare(&seen?, &digest(secret.bytes()))
}

/// Loads `store`'s session in a fresh process and compares it with `expected`
/// (`super::session_digest` of what was saved).
pub(crate) async fn session(
    store: &Store,
    on: Bus,
    expected: &str,
) -> std::result::Result<(), String> {
    let dir = store.dir().to_string_lossy().into_owned();
    let seen = in_fresh_process(
        store.checker.as_deref(),
        on,
        &["session", "--dir", &dir, "--name", store.profile()],
    )
    .await?;
    compare(&seen, expected)
}

/// What a fresh process answers to a check.
#[derive(Debug, Clone)]
pub enum Check {
    /// The digest of a keyring entry.
    Entry {
        /// The backend's id (`secret-service`, `keyutils`, …).
        backend: String,
        /// The entry name.
        entry: String,
    },
    /// The digest of a file.
    File(PathBuf),
    /// The digest of a whole session.
    Session {
        /// The sessions directory.
        dir: PathBuf,
        /// The profile.
        profile: String,
    },
}

/// Answers `check` in this (fresh) process: a digest, or `none` when there is nothing.
pub async fn answer(check: &Check) -> Result<String> {
    match check {
        Check::Entry { backend, entry } => {
            let backend = Backend::candidates(Some(backend))
                .ok()
                .and_then(|b| b.first().copied())
                .ok_or_else(|| Error::usage(format!("`{backend}` is not a keyring")))?;
            let found = keyring::get_uncopied(backend, entry)
                .await
                .map_err(|e| Error::failure(format!("{}: {e}", backend.name())))?;
            Ok(found.map_or_else(|| NOTHING.to_owned(), |k| digest(&k)))
        }
        Check::File(path) => {
            Ok(file::read_optional(path)?.map_or_else(|| NOTHING.to_owned(), |b| digest(&b)))
        }
        Check::Session { dir, profile } => {
            let store = Store::new(dir, profile)?;
            Ok(store.load().await?.map_or_else(
                || NOTHING.to_owned(),
                |l| super::session_digest(&l.meta, &l.secrets),
            ))
        }
    }
}
