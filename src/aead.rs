//! AES-256-GCM with a fresh random nonce per message, as both token caches use it: the CLI's
//! file cache (key in the OS keyring) and serve-api's shared Redis cache (key from the operator).
//! What a message is bound to (a profile, a cache key) goes in as associated data.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

/// Length of a key.
pub const KEY_LEN: usize = 32;

fn cipher(key: &[u8]) -> Option<LessSafeKey> {
    UnboundKey::new(&AES_256_GCM, key)
        .ok()
        .map(LessSafeKey::new)
}

/// `nonce ‖ ciphertext ‖ tag`; `None` only when `key` is not 32 bytes.
pub fn seal(key: &[u8], aad: &[u8], plain: &[u8]) -> Option<Vec<u8>> {
    let mut nonce = [0u8; NONCE_LEN];
    rand::fill(&mut nonce);
    let mut buf = Vec::with_capacity(NONCE_LEN + plain.len() + AES_256_GCM.tag_len());
    buf.extend_from_slice(&nonce);
    buf.extend_from_slice(plain);
    let mut body = buf.split_off(NONCE_LEN);
    cipher(key)?
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut body,
        )
        .ok()?;
    buf.extend_from_slice(&body);
    Some(buf)
}

/// The plaintext of what `seal` wrote; `None` for a wrong key, other associated data, or any
/// change to the bytes.
pub fn open(key: &[u8], aad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < NONCE_LEN {
        return None;
    }
    let (nonce, ct) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut buf = ct.to_vec();
    let plain = cipher(key)?
        .open_in_place(nonce, Aad::from(aad), &mut buf)
        .ok()?;
    Some(plain.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_binding_tampering_and_fresh_nonces() {
        let k = [7u8; KEY_LEN];
        let sealed = seal(&k, b"a", b"secret tokens").unwrap();
        assert!(!sealed.windows(13).any(|w| w == b"secret tokens"));
        assert_eq!(open(&k, b"a", &sealed).unwrap(), b"secret tokens");
        assert!(
            open(&k, b"b", &sealed).is_none(),
            "bound to the associated data"
        );
        assert!(open(&[8u8; KEY_LEN], b"a", &sealed).is_none(), "wrong key");
        let mut bad = sealed.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(open(&k, b"a", &bad).is_none(), "tampered");
        assert!(open(&k, b"a", &sealed[..5]).is_none(), "truncated");
        assert_ne!(seal(&k, b"a", b"x"), seal(&k, b"a", b"x"), "fresh nonce");
        assert!(seal(&k[..31], b"a", b"x").is_none(), "short key");
    }
}
