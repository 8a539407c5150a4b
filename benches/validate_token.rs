//! The cost of validating one bearer token in serve-api (`api::auth::authenticate`): header
//! parsing, RS256 verification, and every claim check, with the key already cached.

use std::collections::HashMap;

use azobo::api::auth::{VerifiedTokens, authenticate};
use azobo::api::jwks::{KeyCache, Published};
use azobo::api::settings::{FileSettings, Given, resolve};
use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};

const TID: &str = "7f0c1e5a-2d3b-4c8e-9a61-0d5e4b3a2f10";
const API: &str = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b";

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("RSA key");
    let enc = EncodingKey::from_rsa_pem(pair.serialize_pem().as_bytes()).expect("key");
    let jwk = Jwk::from_encoding_key(&enc, Algorithm::RS256).expect("jwk");
    let kid = "bench-key".to_owned();
    let published = Published {
        keys: HashMap::from([(
            kid.clone(),
            DecodingKey::from_jwk(&jwk).expect("decoding key"),
        )]),
        issuer_v2: "https://login.microsoftonline.com/{tenantid}/v2.0".into(),
        issuer_v1: None,
        tenant_id: Some(TID.into()),
    };
    let settings = resolve(
        Given {
            tenant: Some(TID.into()),
            client_id: Some(API.into()),
            client_secret: Some("bench-secret-0123456789".into()),
            token_versions: vec![2],
            ..Given::default()
        },
        FileSettings::default(),
    )
    .expect("settings");
    let keys = KeyCache::preloaded(
        reqwest::Client::new(),
        format!("https://login.microsoftonline.com/{TID}"),
        published,
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let claims = serde_json::json!({
        "aud": API, "iss": format!("https://login.microsoftonline.com/{TID}/v2.0"), "tid": TID, "ver": "2.0",
        "iat": now, "nbf": now, "exp": now + 3600, "scp": "access_as_user", "oid": "00000000-0000-0000-0000-0000000000aa",
        "azp": "3c9d2b1e-6f4a-4e7b-8c2d-5a1f0e9b7d34", "name": "Bench User", "preferred_username": "bench@contoso.example",
    });
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid);
    let token = jsonwebtoken::encode(&header, &claims, &enc).expect("token");
    let mut headers = axum::http::HeaderMap::new();
    headers.insert(
        axum::http::header::AUTHORIZATION,
        format!("Bearer {token}").parse().expect("header"),
    );
    let seen = VerifiedTokens::default();
    assert!(
        rt.block_on(authenticate(&headers, &settings, &keys, &seen))
            .is_ok(),
        "the benchmark token validates"
    );
    c.bench_function(
        "validate a bearer token on first sight (RS256 and claims)",
        |b| {
            let fresh = VerifiedTokens::default();
            b.iter(|| {
                fresh.clear();
                rt.block_on(authenticate(&headers, &settings, &keys, &fresh))
            });
        },
    );
    c.bench_function(
        "validate a bearer token seen before (SHA-256 lookup)",
        |b| {
            b.iter(|| rt.block_on(authenticate(&headers, &settings, &keys, &seen)));
        },
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
