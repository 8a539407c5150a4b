//! The Linux kernel keyring (keyutils), for hosts without a Secret Service: containers, CI
//! runners, SSH sessions, cron.
//!
//! The data key goes into the user's *persistent* keyring (persistent-keyring(7)), the keyring
//! Kerberos' `KEYRING:persistent` caches use. It belongs to the uid, not to a login session, so
//! every later process of the same user finds it: the next CI step, a `docker exec`, a cron job,
//! another SSH login. It is dropped after `/proc/sys/kernel/keys/persistent_keyring_expiry`
//! seconds without use (three days unless the administrator says otherwise), so the key of a
//! forgotten container does not sit in kernel memory until reboot; each azobo run resets that
//! timer. A kernel built without persistent keyrings gets the user keyring (`@u`) instead, which
//! lives until reboot.
//!
//! Nothing here joins, creates or searches a *session* keyring. Asking for one in a process that
//! has none makes a throwaway anonymous keyring that dies with the process (per thread, even),
//! which is how an earlier release said "signed in" and lost the key at exit. The persistent
//! keyring is linked into the calling thread's own keyring only so that this thread possesses
//! it for the call; the thread keyring goes with the thread, the persistent keyring stays.

use linux_keyutils::{
    Key, KeyError, KeyPermissionsBuilder, KeyRing, KeyRingIdentifier, Permission,
};
use zeroize::Zeroizing;

/// What a session's key is called in the kernel: `azobo:` and the entry name.
fn description(entry: &str) -> String {
    format!("azobo:{entry}")
}

/// What releases before the persistent keyring called a profile's key (keyring-core's format).
fn legacy_description(profile: &str) -> String {
    format!("keyring:token-cache-key:{profile}@azobo")
}

fn describe(e: KeyError) -> String {
    match e {
        KeyError::PermissionDenied => {
            "the kernel refused the keyring call (a container's seccomp profile blocks `keyctl` by default)".to_owned()
        }
        KeyError::AccessDenied => "access to the key was denied".to_owned(),
        KeyError::QuotaExceeded => {
            "the user's kernel key quota is used up (see /proc/key-users)".to_owned()
        }
        // ENOSYS: no keyring system calls (or a seccomp filter that pretends so).
        KeyError::OperationNotSupported | KeyError::Unknown(38) => {
            "this kernel offers no keyring".to_owned()
        }
        other => format!("keyring call failed: {other:?}"),
    }
}

/// The user's persistent keyring, possessed by this thread; the user keyring where the kernel
/// has no persistent keyrings.
fn ring() -> Result<KeyRing, String> {
    match KeyRing::get_persistent(KeyRingIdentifier::Thread) {
        Ok(ring) => Ok(ring),
        Err(KeyError::OperationNotSupported) => {
            let user = KeyRing::from_special_id(KeyRingIdentifier::User, true).map_err(describe)?;
            KeyRing::from_special_id(KeyRingIdentifier::Thread, true)
                .and_then(|thread| thread.link_keyring(user))
                .map_err(describe)?;
            Ok(user)
        }
        Err(e) => Err(describe(e)),
    }
}

/// The same user may read and rewrite the key from any of their processes, possessor or not (a
/// process in another session keyring reaches it through the persistent keyring); nobody else
/// may even see it.
fn restrict(key: Key) -> Result<(), String> {
    let user = Permission::VIEW
        | Permission::READ
        | Permission::WRITE
        | Permission::SEARCH
        | Permission::LINK
        | Permission::SETATTR;
    key.set_perms(
        KeyPermissionsBuilder::builder()
            .posessor(Permission::ALL)
            .user(user)
            .build(),
    )
    .map_err(describe)
}

/// Stores `secret` under `entry`, replacing whatever was there.
pub(crate) fn put(entry: &str, secret: &[u8]) -> Result<(), String> {
    restrict(add_replacing(ring()?, &description(entry), secret)?)
}

fn add_replacing(ring: KeyRing, desc: &str, secret: &[u8]) -> Result<Key, String> {
    let key = match ring.add_key(desc, secret) {
        Ok(key) => key,
        Err(first) => {
            // A stale key of that name the kernel will not update in place (revoked, expired,
            // written with other permissions): take it out of the ring and add a new one.
            if let Ok(old) = ring.search(desc) {
                let _ = ring.unlink_key(old);
            }
            ring.add_key(desc, secret).map_err(|e| {
                format!(
                    "{} (replacing an earlier key failed too: {})",
                    describe(first),
                    describe(e)
                )
            })?
        }
    };
    Ok(key)
}

/// The secret under `entry`; `None` when there is none (or only a revoked or expired one).
pub(crate) fn get(entry: &str) -> Result<Option<Zeroizing<Vec<u8>>>, String> {
    get_described(&description(entry))
}

fn get_described(desc: &str) -> Result<Option<Zeroizing<Vec<u8>>>, String> {
    let ring = ring()?;
    match ring.search(desc) {
        Ok(key) => key
            .read_to_vec()
            .map(|v| Some(Zeroizing::new(v)))
            .map_err(describe),
        Err(KeyError::KeyDoesNotExist | KeyError::KeyRevoked | KeyError::KeyExpired) => Ok(None),
        Err(e) => Err(describe(e)),
    }
}

/// Removes `entry`; true when a key was there.
pub(crate) fn delete(entry: &str) -> Result<bool, String> {
    let ring = ring()?;
    remove_from(ring, &description(entry))
}

fn remove_from(ring: KeyRing, desc: &str) -> Result<bool, String> {
    match ring.search(desc) {
        Ok(key) => {
            // Invalidation takes the key out of every keyring at once; unlinking is the fallback
            // for a key this process may not invalidate.
            if key.invalidate().is_err() {
                ring.unlink_key(key).map_err(describe)?;
            }
            Ok(true)
        }
        Err(KeyError::KeyDoesNotExist) => Ok(false),
        Err(e) => Err(describe(e)),
    }
}

/// What the short-lived copy of a Secret Service secret is called.
fn copy_description(entry: &str) -> String {
    format!("azobo-secret-service-copy:{entry}")
}

/// Keeps a copy of a secret the Secret Service just handed over, for `ttl_secs` from now (the
/// kernel removes it then, used or not). See `keyring::get` for why.
pub(crate) fn copy_put(entry: &str, secret: &[u8], ttl_secs: usize) -> Result<(), String> {
    let key = add_replacing(ring()?, &copy_description(entry), secret)?;
    // The timeout first: a copy never lingers without one, even if what follows fails.
    key.set_timeout(ttl_secs).map_err(describe)?;
    restrict(key)
}

/// The copy, if one was made less than its timeout ago.
pub(crate) fn copy_get(entry: &str) -> Option<Zeroizing<Vec<u8>>> {
    get_described(&copy_description(entry)).ok().flatten()
}

/// Drops the copy (the Secret Service entry is being replaced or removed).
pub(crate) fn copy_forget(entry: &str) {
    if let Ok(ring) = ring() {
        let _ = remove_from(ring, &copy_description(entry));
    }
}

/// Removes what earlier releases stored for `profile` wherever this process can reach it (the
/// persistent, user-session and user keyrings); true when something was removed. Best effort:
/// a keyring this process cannot search holds nothing it could use either.
pub(crate) fn delete_legacy(profile: &str) -> bool {
    let desc = legacy_description(profile);
    let mut rings = Vec::new();
    if let Ok(r) = ring() {
        rings.push(r);
    }
    for id in [KeyRingIdentifier::UserSession, KeyRingIdentifier::User] {
        if let Ok(r) = KeyRing::from_special_id(id, false) {
            rings.push(r);
        }
    }
    let mut removed = false;
    for ring in rings {
        // A key may be linked from several rings; repeat until this one holds none.
        for _ in 0..4 {
            match remove_from(ring, &desc) {
                Ok(true) => removed = true,
                _ => break,
            }
        }
    }
    removed
}
