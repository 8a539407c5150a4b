//! The token cache's encryption: AES-256-GCM under a per-profile random key that lives only in
//! the OS keyring. The profile name is bound in as associated data, so one profile's file cannot
//! be swapped in for another's.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

use crate::error::{Error, Result};

const MAGIC: &[u8] = b"azobo-cache-v1\n";
/// Length of a data key.
pub(crate) const KEY_LEN: usize = 32;

/// A fresh random data key.
pub(crate) fn new_key() -> [u8; KEY_LEN] {
    let mut k = [0u8; KEY_LEN];
    rand::fill(&mut k);
    k
}

fn key(bytes: &[u8]) -> Result<LessSafeKey> {
    UnboundKey::new(&AES_256_GCM, bytes)
        .map(LessSafeKey::new)
        .map_err(|_| Error::failure("the keyring holds a malformed token-cache key; run `azobo logout` and sign in again"))
}

fn aad(profile: &str) -> Vec<u8> {
    [MAGIC, profile.as_bytes()].concat()
}

/// Encrypts `plain` for `profile`: magic, 12-byte random nonce, ciphertext with tag.
pub(crate) fn seal(key_bytes: &[u8], profile: &str, plain: &[u8]) -> Result<Vec<u8>> {
    let mut nonce = [0u8; NONCE_LEN];
    rand::fill(&mut nonce);
    let mut buf = plain.to_vec();
    key(key_bytes)?
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad(profile)),
            &mut buf,
        )
        .map_err(|_| Error::failure("encrypting the token cache failed"))?;
    Ok([MAGIC, &nonce, &buf].concat())
}

/// Decrypts what `seal` wrote; any tampering or a wrong key is an error.
pub(crate) fn open(key_bytes: &[u8], profile: &str, sealed: &[u8]) -> Result<Vec<u8>> {
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
    let plain = key(key_bytes)?
        .open_in_place(nonce, Aad::from(aad(profile)), &mut buf)
        .map_err(|_| corrupt())?;
    Ok(plain.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper_detection() {
        let k = new_key();
        let sealed = seal(&k, "default", b"secret tokens").unwrap();
        assert!(!sealed.windows(13).any(|w| w == b"secret tokens"));
        assert_eq!(open(&k, "default", &sealed).unwrap(), b"secret tokens");
        assert!(open(&k, "other", &sealed).is_err(), "bound to the profile");
        assert!(open(&new_key(), "default", &sealed).is_err(), "wrong key");
        let mut bad = sealed.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(open(&k, "default", &bad).is_err(), "tampered");
        assert_ne!(
            seal(&k, "default", b"x").unwrap(),
            seal(&k, "default", b"x").unwrap(),
            "fresh nonce"
        );
    }
}
