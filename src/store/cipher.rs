//! The token cache's encryption: AES-256-GCM under a per-profile random key that lives only in
//! the OS keyring. The profile name is bound in as associated data, so one profile's file cannot
//! be swapped in for another's.

use zeroize::Zeroizing;

use crate::error::{Error, Result};

const MAGIC: &[u8] = b"azobo-cache-v1\n";
/// Length of a data key.
pub(crate) const KEY_LEN: usize = crate::aead::KEY_LEN;

/// A token cache's data key: wiped from memory when dropped, never printed.
#[derive(Clone)]
pub(crate) struct DataKey(Zeroizing<Vec<u8>>);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

impl DataKey {
    /// A fresh random key.
    pub(crate) fn random() -> Self {
        let mut k = Zeroizing::new(vec![0u8; KEY_LEN]);
        rand::fill(&mut k[..]);
        Self(k)
    }

    /// A key read from a keyring; `None` when it is not a key azobo wrote.
    pub(crate) fn from_stored(bytes: Zeroizing<Vec<u8>>) -> Option<Self> {
        (bytes.len() == KEY_LEN).then_some(Self(bytes))
    }

    /// The raw bytes, for the keyring.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }
}

fn aad(profile: &str) -> Vec<u8> {
    [MAGIC, profile.as_bytes()].concat()
}

/// Encrypts `plain` for `profile`: magic, 12-byte random nonce, ciphertext with tag.
pub(crate) fn seal(data_key: &DataKey, profile: &str, plain: &[u8]) -> Result<Vec<u8>> {
    let sealed = crate::aead::seal(data_key.bytes(), &aad(profile), plain).ok_or_else(|| {
        Error::failure(
            "the keyring holds a malformed token-cache key; run `azobo logout` and sign in again",
        )
    })?;
    Ok([MAGIC, &sealed].concat())
}

/// Decrypts what `seal` wrote; any tampering or a wrong key is an error.
pub(crate) fn open(data_key: &DataKey, profile: &str, sealed: &[u8]) -> Result<Vec<u8>> {
    sealed
        .strip_prefix(MAGIC)
        .and_then(|rest| crate::aead::open(data_key.bytes(), &aad(profile), rest))
        .ok_or_else(|| Error::SignInRequired {
            message: "the token cache cannot be decrypted with the key in the keyring (it was changed or belongs to another key)".to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper_detection() {
        let k = DataKey::random();
        let sealed = seal(&k, "default", b"secret tokens").unwrap();
        assert!(!sealed.windows(13).any(|w| w == b"secret tokens"));
        assert_eq!(open(&k, "default", &sealed).unwrap(), b"secret tokens");
        assert!(open(&k, "other", &sealed).is_err(), "bound to the profile");
        assert!(
            open(&DataKey::random(), "default", &sealed).is_err(),
            "wrong key"
        );
        let mut bad = sealed.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(open(&k, "default", &bad).is_err(), "tampered");
        assert_ne!(
            seal(&k, "default", b"x").unwrap(),
            seal(&k, "default", b"x").unwrap(),
            "fresh nonce"
        );
        assert_eq!(format!("{k:?}"), "DataKey(<redacted>)");
        assert!(DataKey::from_stored(Zeroizing::new(vec![1; 31])).is_none());
    }
}
