//! The token cache's encryption: AES-256-GCM under a per-profile random key that lives only in
//! the OS keyring. The profile name is bound in as associated data, so one profile's file cannot
//! be swapped in for another's.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

const MAGIC: &[u8] = b"azobo-cache-v1\n";
/// Length of a data key.
pub(crate) const KEY_LEN: usize = 32;

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

fn key(k: &DataKey) -> Result<LessSafeKey> {
    UnboundKey::new(&AES_256_GCM, k.bytes())
        .map(LessSafeKey::new)
        .map_err(|_| Error::failure("the keyring holds a malformed token-cache key; run `azobo logout` and sign in again"))
}

fn aad(profile: &str) -> Vec<u8> {
    [MAGIC, profile.as_bytes()].concat()
}

/// Encrypts `plain` for `profile`: magic, 12-byte random nonce, ciphertext with tag.
pub(crate) fn seal(data_key: &DataKey, profile: &str, plain: &[u8]) -> Result<Vec<u8>> {
    let mut nonce = [0u8; NONCE_LEN];
    rand::fill(&mut nonce);
    let mut buf = plain.to_vec();
    key(data_key)?
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad(profile)),
            &mut buf,
        )
        .map_err(|_| Error::failure("encrypting the token cache failed"))?;
    Ok([MAGIC, &nonce, &buf].concat())
}

/// Decrypts what `seal` wrote; any tampering or a wrong key is an error.
pub(crate) fn open(data_key: &DataKey, profile: &str, sealed: &[u8]) -> Result<Vec<u8>> {
    let corrupt = || {
        Error::SignInRequired { message: "the token cache cannot be decrypted with the key in the keyring (it was changed or belongs to another key)".to_owned() }
    };
    let rest = sealed.strip_prefix(MAGIC).ok_or_else(corrupt)?;
    if rest.len() < NONCE_LEN {
        return Err(corrupt());
    }
    let (nonce, ct) = rest.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| corrupt())?;
    let mut buf = ct.to_vec();
    let plain = key(data_key)?
        .open_in_place(nonce, Aad::from(aad(profile)), &mut buf)
        .map_err(|_| corrupt())?;
    Ok(plain.to_vec())
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
