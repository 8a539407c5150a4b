//! The keys that encrypt serve-api's shared (Redis) token cache. The first key writes; every
//! key reads, so a rotation is: put the new key first, keep the old one after it until the
//! entries written under it have expired (at most a token's lifetime), then drop it. Each
//! entry names the key that wrote it by a short id derived from the key, never the key itself.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::Digest as _;
use zeroize::Zeroizing;

use crate::aead::{self, KEY_LEN};

/// Format tag of a sealed entry: `1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>`.
const VERSION: &str = "1";
/// Most keys accepted at once (the current one and those still being retired).
const MAX_KEYS: usize = 8;

/// One key and its public id.
struct Key {
    id: String,
    bytes: Zeroizing<Vec<u8>>,
}

/// The current key and the older ones that still read.
pub struct CacheKeys {
    keys: Vec<Key>,
}

impl std::fmt::Debug for CacheKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|k| k.id.as_str()).collect();
        write!(f, "CacheKeys(ids={ids:?})")
    }
}

/// Why an entry could not be read.
#[derive(Debug, PartialEq, Eq)]
pub enum Unreadable {
    /// Written under a key this instance does not hold.
    UnknownKey(String),
    /// Not an entry of this format, or changed, or bound to another cache key.
    Corrupt,
}

fn key_id(bytes: &[u8]) -> String {
    let d = sha2::Sha256::digest([b"azobo-cache-key-id\n".as_slice(), bytes].concat());
    d[..4].iter().map(|b| format!("{b:02x}")).collect()
}

impl CacheKeys {
    /// Keys in base64 (standard or URL-safe), separated by commas, whitespace or new lines; `#`
    /// starts a comment. The first is the current one. Errors never echo a key.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut keys: Vec<Key> = Vec::new();
        let words = text
            .lines()
            .map(|l| l.split('#').next().unwrap_or(""))
            .flat_map(|l| l.split(|c: char| c == ',' || c.is_whitespace()))
            .filter(|w| !w.is_empty());
        for (n, word) in words.enumerate() {
            let bytes = STANDARD
                .decode(word)
                .or_else(|_| URL_SAFE_NO_PAD.decode(word.trim_end_matches('=')))
                .map(Zeroizing::new)
                .map_err(|_| format!("cache key {} is not base64", n + 1))?;
            if bytes.len() != KEY_LEN {
                return Err(format!(
                    "cache key {} is {} bytes; it must be {KEY_LEN} (make one with `openssl rand -base64 32`)",
                    n + 1,
                    bytes.len()
                ));
            }
            let id = key_id(&bytes);
            if !keys.iter().any(|k| k.id == id) {
                keys.push(Key { id, bytes });
            }
        }
        if keys.is_empty() {
            return Err("no cache key given".into());
        }
        if keys.len() > MAX_KEYS {
            return Err(format!(
                "{} cache keys given; at most {MAX_KEYS} (the current one first, then those being retired)",
                keys.len()
            ));
        }
        Ok(Self { keys })
    }

    /// The id of the key that writes.
    pub fn current_id(&self) -> &str {
        &self.keys[0].id
    }

    /// How many older keys still read.
    pub fn previous(&self) -> usize {
        self.keys.len() - 1
    }

    /// Encrypts `plain`, bound to `bound_to` (the entry's name in the cache).
    pub fn seal(&self, bound_to: &[u8], plain: &[u8]) -> Option<String> {
        let k = &self.keys[0];
        let sealed = aead::seal(&k.bytes, bound_to, plain)?;
        Some(format!(
            "{VERSION}.{}.{}",
            k.id,
            URL_SAFE_NO_PAD.encode(sealed)
        ))
    }

    /// Decrypts an entry written by any of the keys.
    pub fn open(&self, bound_to: &[u8], entry: &[u8]) -> Result<Zeroizing<Vec<u8>>, Unreadable> {
        let text = std::str::from_utf8(entry).map_err(|_| Unreadable::Corrupt)?;
        let mut parts = text.splitn(3, '.');
        let (Some(VERSION), Some(id), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(Unreadable::Corrupt);
        };
        let key = self
            .keys
            .iter()
            .find(|k| k.id == id)
            .ok_or_else(|| Unreadable::UnknownKey(id.chars().take(8).collect()))?;
        let sealed = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| Unreadable::Corrupt)?;
        aead::open(&key.bytes, bound_to, &sealed)
            .map(Zeroizing::new)
            .ok_or(Unreadable::Corrupt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(byte: u8) -> String {
        STANDARD.encode([byte; KEY_LEN])
    }

    #[test]
    fn current_key_writes_and_every_listed_key_reads() {
        let old = CacheKeys::parse(&b64(1)).unwrap();
        let rotated = CacheKeys::parse(&format!("{}\n# retiring\n{}", b64(2), b64(1))).unwrap();
        let other = CacheKeys::parse(&b64(3)).unwrap();
        let entry = old.seal(b"k1", b"token").unwrap();
        assert!(entry.starts_with(&format!("1.{}.", old.current_id())));
        assert!(!entry.contains("token"));
        assert_eq!(&*rotated.open(b"k1", entry.as_bytes()).unwrap(), b"token");
        assert_eq!(rotated.previous(), 1);
        assert_ne!(rotated.current_id(), old.current_id());
        assert_eq!(
            other.open(b"k1", entry.as_bytes()),
            Err(Unreadable::UnknownKey(old.current_id().to_owned()))
        );
        assert_eq!(
            rotated.open(b"k2", entry.as_bytes()),
            Err(Unreadable::Corrupt),
            "bound to its cache key"
        );
        let written_by_new = rotated.seal(b"k1", b"t").unwrap();
        assert!(old.open(b"k1", written_by_new.as_bytes()).is_err());
    }

    #[test]
    fn bad_keys_are_refused_without_echoing_them() {
        let e = CacheKeys::parse("c2hvcnQ=").unwrap_err();
        assert!(e.contains("5 bytes") && !e.contains("c2hvcnQ"), "{e}");
        assert!(CacheKeys::parse("not base64!").is_err());
        assert!(CacheKeys::parse(" # only a comment\n").is_err());
        let many: Vec<String> = (0..9).map(b64).collect();
        assert!(CacheKeys::parse(&many.join(",")).is_err());
        let url_safe = URL_SAFE_NO_PAD.encode([0xfb; KEY_LEN]);
        assert!(CacheKeys::parse(&url_safe).is_ok());
        assert!(!format!("{:?}", CacheKeys::parse(&b64(1)).unwrap()).contains(&b64(1)));
    }
}
