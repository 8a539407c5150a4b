//! The OS keyring, through keyring-core and its platform stores: Keychain, Credential Manager,
//! Secret Service, and the Linux kernel keyring for hosts without a Secret Service.
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

/// Time one keyring call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(3);
/// The keyring service name entries are filed under.
const SERVICE: &str = "azobo";

/// A keyring implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    /// freedesktop Secret Service (GNOME Keyring, KWallet) over D-Bus.
    SecretService,
    /// The Linux kernel keyring (keyutils); survives until reboot.
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
        let pick = |b: Backend| {
            if native.contains(&b) {
                Ok(vec![b])
            } else {
                Err(format!("`{}` is not available on this platform", b.name()))
            }
        };
        match choice.map(str::to_ascii_lowercase).as_deref() {
            None | Some("auto") => Ok(native),
            Some("secret-service") => pick(Backend::SecretService),
            Some("keyutils") => pick(Backend::Keyutils),
            Some("keychain") => pick(Backend::Keychain),
            Some("credential-manager") => pick(Backend::CredentialManager),
            Some(other) => Err(format!(
                "unknown keyring `{other}`; use auto, secret-service, keyutils, keychain or credential-manager"
            )),
        }
    }
}

fn open_store(backend: Backend) -> Result<Arc<CredentialStore>, String> {
    let err = |e: keyring_core::Error| e.to_string();
    match backend {
        #[cfg(target_os = "linux")]
        Backend::SecretService => zbus_secret_service_keyring_store::Store::new()
            .map(|s| s as Arc<CredentialStore>)
            .map_err(err),
        #[cfg(target_os = "linux")]
        Backend::Keyutils => linux_keyutils_keyring_store::Store::new()
            .map(|s| s as Arc<CredentialStore>)
            .map_err(err),
        #[cfg(target_os = "macos")]
        Backend::Keychain => apple_native_keyring_store::keychain::Store::new()
            .map(|s| s as Arc<CredentialStore>)
            .map_err(err),
        #[cfg(target_os = "windows")]
        Backend::CredentialManager => windows_native_keyring_store::Store::new()
            .map(|s| s as Arc<CredentialStore>)
            .map_err(err),
        #[allow(unreachable_patterns)]
        other => Err(format!(
            "{} is not available on this platform",
            other.name()
        )),
    }
}

fn entry(backend: Backend, profile: &str) -> Result<Entry, String> {
    let store = open_store(backend)?;
    Entry::new_in_store(&store, SERVICE, &format!("token-cache-key:{profile}"))
        .map_err(|e| e.to_string())
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

/// Stores `key` for `profile` and reads it back.
pub(crate) async fn put(backend: Backend, profile: &str, key: &[u8]) -> Result<(), String> {
    let profile = profile.to_owned();
    let encoded = STANDARD.encode(key);
    blocking(backend, move || {
        let e = entry(backend, &profile)?;
        e.set_password(&encoded).map_err(|e| e.to_string())?;
        match e.get_password() {
            Ok(back) if back == encoded => Ok(()),
            Ok(_) => Err("the secret read back differs from the one written".to_owned()),
            Err(err) => Err(format!("the secret written cannot be read back: {err}")),
        }
    })
    .await
}

/// The key for `profile`; `Ok(None)` when there is none.
pub(crate) async fn get(backend: Backend, profile: &str) -> Result<Option<Vec<u8>>, String> {
    let profile = profile.to_owned();
    blocking(backend, move || {
        let e = entry(backend, &profile)?;
        match e.get_password() {
            Ok(s) => STANDARD
                .decode(s.trim())
                .map(Some)
                .map_err(|_| "the keyring entry is not a key azobo wrote".to_owned()),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(err) => Err(err.to_string()),
        }
    })
    .await
}

/// Deletes the key for `profile`; true when one existed.
pub(crate) async fn delete(backend: Backend, profile: &str) -> Result<bool, String> {
    let profile = profile.to_owned();
    blocking(backend, move || {
        let e = entry(backend, &profile)?;
        match e.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring_core::Error::NoEntry) => Ok(false),
            Err(err) => Err(err.to_string()),
        }
    })
    .await
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
