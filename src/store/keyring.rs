//! The OS keyring: Keychain, Credential Manager and Secret Service through keyring-core's
//! platform stores, and the Linux kernel keyring (`keyutils.rs`) for hosts without a Secret
//! Service.
//!
//! It holds one small secret per profile — the token cache's data key — so Windows' 2,560-byte
//! credential limit never matters. Every call runs on a blocking thread under a 3 s timeout (a
//! Secret Service that never answers must not hang the CLI), and every write is read back: a
//! store that does not return what it was given counts as broken.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use keyring_core::{CredentialStore, Entry};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// Time one keyring call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(3);
/// How long the kernel keeps a copy of a key the Secret Service handed over (see `get`).
#[cfg(target_os = "linux")]
const SECRET_SERVICE_COPY_SECS: usize = 300;
/// The keyring service name entries are filed under.
const SERVICE: &str = "azobo";

/// A keyring implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    /// freedesktop Secret Service (GNOME Keyring, KWallet) over D-Bus.
    SecretService,
    /// The Linux kernel keyring (keyutils): the user's persistent keyring; survives until reboot.
    Keyutils,
    /// macOS Keychain.
    Keychain,
    /// Windows Credential Manager.
    CredentialManager,
}

impl Backend {
    /// Human name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Backend::SecretService => "Secret Service",
            Backend::Keyutils => "kernel keyring (keyutils)",
            Backend::Keychain => "macOS Keychain",
            Backend::CredentialManager => "Windows Credential Manager",
        }
    }

    /// The name `AZOBO_KEYRING` takes.
    pub fn id(self) -> &'static str {
        match self {
            Backend::SecretService => "secret-service",
            Backend::Keyutils => "keyutils",
            Backend::Keychain => "keychain",
            Backend::CredentialManager => "credential-manager",
        }
    }

    /// False when the secret is gone after a reboot (keyutils).
    pub fn survives_reboot(self) -> bool {
        self != Backend::Keyutils
    }

    /// The backends to try, in order, for `AZOBO_KEYRING` (`auto` when `None`).
    pub fn candidates(choice: Option<&str>) -> Result<Vec<Backend>, String> {
        let native: Vec<Backend> = if cfg!(target_os = "macos") {
            vec![Backend::Keychain]
        } else if cfg!(target_os = "windows") {
            vec![Backend::CredentialManager]
        } else {
            vec![Backend::SecretService, Backend::Keyutils]
        };
        let Some(choice) = choice.map(str::to_ascii_lowercase).filter(|c| c != "auto") else {
            return Ok(native);
        };
        let all = [
            Backend::SecretService,
            Backend::Keyutils,
            Backend::Keychain,
            Backend::CredentialManager,
        ];
        match all.into_iter().find(|b| b.id() == choice) {
            Some(b) if native.contains(&b) => Ok(vec![b]),
            Some(b) => Err(format!("`{}` is not available on this platform", b.name())),
            None => Err(format!(
                "unknown keyring `{choice}`; use auto, secret-service, keyutils, keychain or credential-manager"
            )),
        }
    }
}

fn platform_entry(backend: Backend, entry: &str) -> Result<Entry, String> {
    let err = |e: keyring_core::Error| e.to_string();
    let store: Arc<CredentialStore> = match backend {
        #[cfg(target_os = "linux")]
        Backend::SecretService => zbus_secret_service_keyring_store::Store::new()
            .map(|s| s as Arc<CredentialStore>)
            .map_err(err)?,
        #[cfg(target_os = "macos")]
        Backend::Keychain => apple_native_keyring_store::keychain::Store::new()
            .map(|s| s as Arc<CredentialStore>)
            .map_err(err)?,
        #[cfg(target_os = "windows")]
        Backend::CredentialManager => windows_native_keyring_store::Store::new()
            .map(|s| s as Arc<CredentialStore>)
            .map_err(err)?,
        #[allow(unreachable_patterns)]
        other => {
            return Err(format!(
                "{} is not available on this platform",
                other.name()
            ));
        }
    };
    Entry::new_in_store(&store, SERVICE, entry).map_err(|e| e.to_string())
}

async fn blocking<T: Send + 'static>(
    backend: Backend,
    f: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    match tokio::time::timeout(CALL_TIMEOUT, tokio::task::spawn_blocking(f)).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => Err(format!("the keyring call failed: {e}")),
        Err(_) => Err(format!(
            "{} did not answer within {} s",
            backend.name(),
            CALL_TIMEOUT.as_secs()
        )),
    }
}

/// Stores `key` under `entry` (replacing any earlier one) and reads it back.
pub(crate) async fn put(backend: Backend, entry: &str, key: &[u8]) -> Result<(), String> {
    let entry = entry.to_owned();
    let key = Zeroizing::new(key.to_vec());
    blocking(backend, move || {
        forget_copy(backend, &entry);
        put_now(backend, &entry, &key)?;
        // Read back from the store itself, never from a copy.
        match get_now(backend, &entry) {
            Ok(Some(back)) if *back == *key => Ok(()),
            Ok(Some(_)) => Err("the secret read back differs from the one written".to_owned()),
            Ok(None) => Err("the secret written is gone when read back".to_owned()),
            Err(err) => Err(format!("the secret written cannot be read back: {err}")),
        }
    })
    .await
}

fn put_now(backend: Backend, entry: &str, key: &[u8]) -> Result<(), String> {
    #[cfg(target_os = "linux")]
    if backend == Backend::Keyutils {
        return super::keyutils::put(entry, key);
    }
    let encoded = Zeroizing::new(STANDARD.encode(key));
    platform_entry(backend, entry)?
        .set_password(&encoded)
        .map_err(|e| e.to_string())
}

fn get_now(backend: Backend, entry: &str) -> Result<Option<Zeroizing<Vec<u8>>>, String> {
    #[cfg(target_os = "linux")]
    if backend == Backend::Keyutils {
        return super::keyutils::get(entry);
    }
    match platform_entry(backend, entry)?.get_password() {
        Ok(s) => {
            let s = Zeroizing::new(s);
            STANDARD
                .decode(s.trim())
                .map(|v| Some(Zeroizing::new(v)))
                .map_err(|_| "the keyring entry is not a key azobo wrote".to_owned())
        }
        Err(keyring_core::Error::NoEntry) => Ok(None),
        Err(err) => Err(err.to_string()),
    }
}

/// The key under `entry`; `Ok(None)` when there is none.
///
/// A Secret Service read costs a D-Bus connection and an encrypted session, most of a cached
/// `azobo token`'s time on a desktop. So what the Secret Service hands over is also kept in the
/// user's kernel keyring for five minutes: readable by this user's processes only (as the
/// Secret Service's answer is), never on disk or in swap, dropped by the kernel when the time is
/// up whether used or not — so a locked or changed Secret Service is heeded within five minutes.
/// Writes and deletes drop the copy first, and `put`'s read-back and the cross-process checks
/// read the store itself.
pub(crate) async fn get(
    backend: Backend,
    entry: &str,
) -> Result<Option<Zeroizing<Vec<u8>>>, String> {
    let entry = entry.to_owned();
    blocking(backend, move || {
        if let Some(copy) = copy_of(backend, &entry) {
            return Ok(Some(copy));
        }
        let found = get_now(backend, &entry)?;
        if let Some(key) = &found {
            keep_copy(backend, &entry, key);
        }
        Ok(found)
    })
    .await
}

/// The key under `entry`, from the store itself (a cross-process check).
pub(crate) async fn get_uncopied(
    backend: Backend,
    entry: &str,
) -> Result<Option<Zeroizing<Vec<u8>>>, String> {
    let entry = entry.to_owned();
    blocking(backend, move || get_now(backend, &entry)).await
}

#[cfg(target_os = "linux")]
fn copy_of(backend: Backend, entry: &str) -> Option<Zeroizing<Vec<u8>>> {
    (backend == Backend::SecretService)
        .then(|| super::keyutils::copy_get(entry))
        .flatten()
}

#[cfg(target_os = "linux")]
fn keep_copy(backend: Backend, entry: &str, key: &[u8]) {
    if backend == Backend::SecretService {
        // Best effort: without a kernel keyring every read goes to the Secret Service.
        let _ = super::keyutils::copy_put(entry, key, SECRET_SERVICE_COPY_SECS);
    }
}

#[cfg(target_os = "linux")]
fn forget_copy(backend: Backend, entry: &str) {
    if backend == Backend::SecretService {
        super::keyutils::copy_forget(entry);
    }
}

#[cfg(not(target_os = "linux"))]
fn copy_of(_: Backend, _: &str) -> Option<Zeroizing<Vec<u8>>> {
    None
}

#[cfg(not(target_os = "linux"))]
fn keep_copy(_: Backend, _: &str, _: &[u8]) {}

#[cfg(not(target_os = "linux"))]
fn forget_copy(_: Backend, _: &str) {}

/// Deletes the key under `entry`; true when one existed.
pub(crate) async fn delete(backend: Backend, entry: &str) -> Result<bool, String> {
    let entry = entry.to_owned();
    blocking(backend, move || {
        forget_copy(backend, &entry);
        #[cfg(target_os = "linux")]
        if backend == Backend::Keyutils {
            return super::keyutils::delete(&entry);
        }
        match platform_entry(backend, &entry)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring_core::Error::NoEntry) => Ok(false),
            Err(err) => Err(err.to_string()),
        }
    })
    .await
}

/// Deletes each of `entries` from `backend`, stopping at the first failure (a store out of
/// reach would only cost more timeouts); whether any was there, and that failure.
pub(crate) async fn delete_all<'a>(
    backend: Backend,
    entries: impl IntoIterator<Item = &'a str>,
) -> (bool, Option<String>) {
    let mut found = false;
    for entry in entries {
        match delete(backend, entry).await {
            Ok(removed) => found |= removed,
            Err(e) => return (found, Some(e)),
        }
    }
    (found, None)
}

/// Removes what releases before 0.2 left for `profile` in the kernel keyring, where this process
/// can reach it; true when something was removed.
pub(crate) async fn delete_legacy(backend: Backend, profile: &str) -> bool {
    #[cfg(target_os = "linux")]
    if backend == Backend::Keyutils {
        let profile = profile.to_owned();
        return blocking(backend, move || {
            Ok(super::keyutils::delete_legacy(&profile))
        })
        .await
        .unwrap_or(false);
    }
    let _ = (backend, profile);
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_follow_the_choice() {
        if cfg!(target_os = "linux") {
            assert_eq!(
                Backend::candidates(None).unwrap(),
                vec![Backend::SecretService, Backend::Keyutils]
            );
            assert_eq!(
                Backend::candidates(Some("keyutils")).unwrap(),
                vec![Backend::Keyutils]
            );
            assert!(Backend::candidates(Some("keychain")).is_err());
        }
        assert!(Backend::candidates(Some("vault")).is_err());
        assert!(!Backend::Keyutils.survives_reboot());
    }
}
