//! The session store against real backends: a 6 KB token round-trips through the encrypted
//! cache, the key lives in the OS keyring, every save is read back by a fresh azobo process, and
//! deleting removes both.

use azobo::store::{Account, CachedToken, Secrets, SessionMeta, Storage, StoragePlan, Store};

use crate::support::{Keyring, bin};

/// A store whose cross-process checks run the azobo binary (this test binary is not azobo).
fn store(dir: &std::path::Path, profile: &str) -> Store {
    Store::new(dir, profile).unwrap().checked_by(bin())
}

/// The encrypted cache file of `store`'s current session.
fn cache_of(store: &Store) -> std::path::PathBuf {
    store
        .cache_path_of(&store.meta().unwrap().unwrap())
        .unwrap()
}

fn plan(choice: Option<&str>) -> StoragePlan {
    StoragePlan {
        insecure_file: choice.is_none(),
        keyring_choice: choice.map(str::to_owned),
    }
}

fn meta() -> SessionMeta {
    SessionMeta {
        profile: "big".into(),
        account: Account {
            name: "A".into(),
            username: "a@contoso.example".into(),
            oid: "o".into(),
            tenant_id: "t".into(),
        },
        authority: "https://login.microsoftonline.com".into(),
        tenant: "organizations".into(),
        client_id: "c".into(),
        token_endpoint: "https://login.microsoftonline.com/organizations/oauth2/v2.0/token".into(),
        api_scope: "api://x/access_as_user".into(),
        scopes: vec![],
        storage: Storage::File,
        signed_in_at: 0,
        key_entry: None,
        cache_file: None,
    }
}

async fn round_trip(keyring: Keyring, choice: &str) {
    if !keyring.available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let profile = format!("big-{}", uuid::Uuid::new_v4().simple());
    let store = store(dir.path(), &profile);
    let big: String = (0..6 * 1024)
        .map(|i| char::from(b'A' + (i % 26) as u8))
        .collect();
    let mut secrets = Secrets {
        refresh_token: Some(format!("rt-{big}")),
        ..Secrets::default()
    };
    secrets.tokens.insert(
        "s".into(),
        CachedToken {
            access_token: big.clone(),
            scope: "s".into(),
            expires_on: 1,
        },
    );
    let ready = store.preflight(&plan(Some(choice))).await.unwrap();
    let storage = store.save_new(meta(), &secrets, ready).await.unwrap();
    assert!(matches!(storage, Storage::Keyring(_)));
    let cache = std::fs::read(cache_of(&store)).unwrap();
    assert!(cache.len() > 12 * 1024, "both tokens are in the cache file");
    assert!(
        !cache.windows(64).any(|w| w == &big.as_bytes()[..64]),
        "no token bytes in the clear"
    );
    let loaded = store.load().await.unwrap().unwrap();
    assert_eq!(loaded.secrets.tokens["s"].access_token, big);
    let removed = store.delete().await.unwrap();
    assert!(
        removed.removed.iter().any(|r| r.contains("key in the")),
        "{removed:?}"
    );
    assert!(removed.problems.is_empty(), "{removed:?}");
    assert!(store.load().await.unwrap().is_none());
}

#[tokio::test]
async fn six_kilobyte_tokens_round_trip_through_secret_service() {
    round_trip(Keyring::SecretService, "secret-service").await;
}

#[tokio::test]
async fn six_kilobyte_tokens_round_trip_through_the_kernel_keyring() {
    round_trip(Keyring::Keyutils, "keyutils").await;
}

/// An empty session saved through the kernel keyring, in a temp dir kept alive by the caller.
async fn saved_in_keyutils(prefix: &str) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let profile = format!("{prefix}-{}", uuid::Uuid::new_v4().simple());
    let store = store(dir.path(), &profile);
    let ready = store.preflight(&plan(Some("keyutils"))).await.unwrap();
    store
        .save_new(meta(), &Secrets::default(), ready)
        .await
        .unwrap();
    (dir, store)
}

#[tokio::test]
async fn a_cache_without_its_key_is_sign_in_required() {
    if !Keyring::Keyutils.available() {
        return;
    }
    let (_dir, store) = saved_in_keyutils("lost").await;
    // Another key (as after a reboot and a new login elsewhere) cannot open the old cache.
    std::fs::write(cache_of(&store), b"azobo-cache-v1\nxxxxxxxxxxxxgarbage").unwrap();
    let err = store.load().await.unwrap_err();
    assert_eq!(err.exit_code(), 3, "{err}");
    store.delete().await.unwrap();
}

#[tokio::test]
async fn plaintext_store_round_trips_and_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path(), "p");
    let mut secrets = Secrets {
        refresh_token: Some("rt-secret".into()),
        ..Secrets::default()
    };
    secrets.tokens.insert(
        "s".into(),
        CachedToken {
            access_token: "at-secret".into(),
            scope: "s".into(),
            expires_on: 1,
        },
    );
    let ready = store.preflight(&plan(None)).await.unwrap();
    assert_eq!(ready.storage, Storage::File);
    assert_eq!(
        store.save_new(meta(), &secrets, ready).await.unwrap(),
        Storage::File
    );
    let loaded = store.load().await.unwrap().unwrap();
    assert_eq!(loaded.secrets.refresh_token.as_deref(), Some("rt-secret"));
    assert_eq!(Store::profiles(dir.path()).unwrap(), vec!["p".to_owned()]);
    let debug = format!("{loaded:?}");
    assert!(
        !debug.contains("rt-secret") && !debug.contains("at-secret"),
        "{debug}"
    );
    let meta_text = std::fs::read_to_string(store.meta_path()).unwrap();
    assert!(!meta_text.contains("secret"));
    assert_eq!(store.delete().await.unwrap().removed.len(), 2);
    assert!(store.load().await.unwrap().is_none());
    assert!(
        store.delete().await.unwrap().removed.is_empty(),
        "idempotent"
    );
    let probes: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(".probe-"))
        .collect();
    assert!(probes.is_empty(), "the pre-flight probe is removed");
}

#[tokio::test]
async fn a_loaded_session_never_prints_its_data_key() {
    if !Keyring::Keyutils.available() {
        return;
    }
    let (_dir, store) = saved_in_keyutils("dbg").await;
    let loaded = store.load().await.unwrap().unwrap();
    let debug = format!("{loaded:?}");
    assert!(debug.contains("DataKey(<redacted>)"), "{debug}");
    store.delete().await.unwrap();
}

#[tokio::test]
async fn a_new_session_that_fails_its_check_leaves_the_earlier_one_whole() {
    if !Keyring::Keyutils.available() {
        return;
    }
    let (dir, store) = saved_in_keyutils("keep").await;
    let first = store.meta().unwrap().unwrap();
    // A checker that answers nonsense: the second session fails its cross-process check.
    let doomed = Store::new(dir.path(), store.profile())
        .unwrap()
        .checked_by("/bin/echo");
    let mut other = meta();
    other.account.oid = "someone-else".into();
    let ready = azobo::store::Ready {
        storage: Storage::Keyring(azobo::store::Backend::Keyutils),
        broken: Vec::new(),
        explicit: true,
    };
    let err = doomed
        .save_new(other, &Secrets::default(), ready.clone())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("nothing was kept"), "{err}");
    let loaded = store
        .load()
        .await
        .unwrap()
        .expect("the first session is back");
    assert_eq!(loaded.meta.account.oid, "o");
    assert_eq!(loaded.meta.key_entry, first.key_entry);

    // A second session that passes takes the other slot and removes the first one's.
    store
        .save_new(meta(), &Secrets::default(), ready)
        .await
        .unwrap();
    let second = store.meta().unwrap().unwrap();
    assert_ne!(second.key_entry, first.key_entry);
    assert!(!store.cache_path_of(&first).unwrap().exists());
    assert!(store.load().await.unwrap().is_some());
    let removed = store.delete().await.unwrap();
    assert!(
        removed.removed.iter().any(|r| r.contains("key in the")),
        "{removed:?}"
    );
}
