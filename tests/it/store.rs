//! The session store against real backends: a 6 KB token round-trips through the encrypted
//! cache, the key lives in the OS keyring, and deleting removes both.

use azobo::store::{Account, CachedToken, Secrets, SessionMeta, Storage, StoragePlan, Store};

use crate::support::Keyring;

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
    }
}

async fn round_trip(keyring: Keyring, choice: &str) {
    if !keyring.available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let profile = format!("big-{}", uuid::Uuid::new_v4().simple());
    let store = Store::new(dir.path(), &profile).unwrap();
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
    let plan = StoragePlan {
        insecure_file: false,
        keyring_choice: Some(choice.to_owned()),
    };
    let storage = store.save_new(meta(), &secrets, &plan).await.unwrap();
    assert!(matches!(storage, Storage::Keyring(_)));
    let cache = std::fs::read(store.cache_path()).unwrap();
    assert!(cache.len() > 12 * 1024, "both tokens are in the cache file");
    assert!(
        !cache.windows(64).any(|w| w == &big.as_bytes()[..64]),
        "no token bytes in the clear"
    );
    let loaded = store.load().await.unwrap().unwrap();
    assert_eq!(loaded.secrets.tokens["s"].access_token, big);
    let removed = store.delete().await.unwrap();
    assert!(
        removed.iter().any(|r| r.contains("key in the")),
        "{removed:?}"
    );
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

#[tokio::test]
async fn a_cache_without_its_key_is_sign_in_required() {
    if !Keyring::Keyutils.available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let profile = format!("lost-{}", uuid::Uuid::new_v4().simple());
    let store = Store::new(dir.path(), &profile).unwrap();
    let plan = StoragePlan {
        insecure_file: false,
        keyring_choice: Some("keyutils".into()),
    };
    store
        .save_new(meta(), &Secrets::default(), &plan)
        .await
        .unwrap();
    // Another key (as after a reboot and a new login elsewhere) cannot open the old cache.
    std::fs::write(store.cache_path(), b"azobo-cache-v1\nxxxxxxxxxxxxgarbage").unwrap();
    let err = store.load().await.unwrap_err();
    assert_eq!(err.exit_code(), 3, "{err}");
    store.delete().await.unwrap();
}
