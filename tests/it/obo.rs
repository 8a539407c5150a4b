//! On-Behalf-Of: secret and certificate credentials, assertion checks, consent and MFA.

use std::time::{SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{ARM_SCOPE, DevTenant, assert_aad_error, claims};

#[tokio::test]
async fn obo_returns_a_v1_arm_token_for_the_same_user() {
    let t = DevTenant::start(&[]).await;
    let user = t.api_tokens("alice").await;
    let (s, b) = t
        .obo(user["access_token"].as_str().unwrap(), ARM_SCOPE)
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["scope"], ARM_SCOPE);
    let arm = claims(b["access_token"].as_str().unwrap());
    let at = claims(user["access_token"].as_str().unwrap());
    assert_eq!(arm["oid"], at["oid"]);
    assert_eq!(arm["ver"], "1.0");
    assert_eq!(arm["aud"], "https://management.azure.com");
    assert_eq!(arm["appid"], t.api_id());
    assert_eq!(arm["scp"], "user_impersonation");
    assert_eq!(
        arm["iss"],
        format!("https://sts.windows.net/{}/", t.s("tenant_id"))
    );
}

fn assertion_for(t: &DevTenant, aud: &str, x5t_s256: bool, exp_offset: i64) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let cert_pem = std::fs::read_to_string(t.s("api_client_certificate")).unwrap();
    let der = rustls_pki_types::CertificateDer::from_pem_slice(cert_pem.as_bytes()).unwrap();
    let key =
        jsonwebtoken::EncodingKey::from_rsa_pem(&std::fs::read(t.s("api_client_key")).unwrap())
            .unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    if x5t_s256 {
        header.x5t_s256 = Some(b64.encode(sha2::Sha256::digest(der.as_ref())));
    } else {
        header.x5t = Some(b64.encode(sha1::Sha1::digest(der.as_ref())));
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let claims = json!({"aud": aud, "iss": t.api_id(), "sub": t.api_id(), "jti": uuid::Uuid::new_v4().to_string(), "nbf": now - 10, "exp": now + exp_offset});
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

use rustls_pki_types::pem::PemObject as _;

#[tokio::test]
async fn obo_with_a_certificate_client_assertion() {
    let t = DevTenant::start(&[]).await;
    let user = t.api_tokens("alice").await;
    let at = user["access_token"].as_str().unwrap();
    let tr = &t;
    let obo = |assertion: String| {
        let api = tr.api_id();
        async move {
            tr.token(&[
                ("client_id", &api),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", &assertion),
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("requested_token_use", "on_behalf_of"),
                ("assertion", at),
                ("scope", ARM_SCOPE),
            ])
            .await
        }
    };
    for sha256 in [true, false] {
        let (s, b) = obo(assertion_for(&t, &t.token_url(), sha256, 600)).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(claims(b["access_token"].as_str().unwrap())["appidacr"], "2");
    }
    let (s, b) = obo(assertion_for(
        &t,
        "https://elsewhere.example/token",
        true,
        600,
    ))
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_aad_error(&b, "invalid_client", 700021);
    let (_, b) = obo(assertion_for(&t, &t.token_url(), true, -3600)).await;
    assert_aad_error(&b, "invalid_client", 700024);
}

#[tokio::test]
async fn obo_refuses_assertions_for_another_audience_app_tokens_and_garbage() {
    let t = DevTenant::start(&[]).await;
    // A token for ARM is not a token for the API.
    let arm = t.sign_in("alice", ARM_SCOPE, &[]).await;
    let (_, b) = t
        .obo(arm["access_token"].as_str().unwrap(), ARM_SCOPE)
        .await;
    assert_aad_error(&b, "invalid_grant", 50013);
    let (_, app) = t
        .token(&[
            ("client_id", &t.api_id()),
            ("client_secret", &t.api_secret()),
            ("grant_type", "client_credentials"),
            ("scope", &format!("api://{}/.default", t.api_id())),
        ])
        .await;
    let (_, b) = t
        .obo(app["access_token"].as_str().unwrap(), ARM_SCOPE)
        .await;
    assert_aad_error(&b, "invalid_grant", 50013);
    let (_, b) = t.obo("not.a.jwt", ARM_SCOPE).await;
    assert_aad_error(&b, "invalid_grant", 50013);
    let (_, b) = t
        .token(&[
            ("client_id", &t.cli_id()),
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("requested_token_use", "on_behalf_of"),
            ("assertion", "x"),
            ("scope", ARM_SCOPE),
        ])
        .await;
    assert_aad_error(&b, "invalid_client", 7000218);
}

#[tokio::test]
async fn obo_with_an_expired_assertion_is_aadsts500133() {
    let t = DevTenant::start(&["--token-lifetime", "1"]).await;
    let user = t.api_tokens("alice").await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let (_, b) = t
        .obo(user["access_token"].as_str().unwrap(), ARM_SCOPE)
        .await;
    assert_aad_error(&b, "invalid_grant", 500133);
}

#[tokio::test]
async fn obo_without_consent_is_aadsts65001() {
    let t = DevTenant::start(&[]).await;
    let user = t.api_tokens("alice").await;
    t.control("consent", json!({"granted": false})).await;
    let (_, b) = t
        .obo(user["access_token"].as_str().unwrap(), ARM_SCOPE)
        .await;
    assert_aad_error(&b, "invalid_grant", 65001);
    assert_eq!(b["suberror"], "consent_required");
}

#[tokio::test]
async fn mfa_user_gets_a_claims_challenge_and_passes_after_signing_in_with_claims() {
    let t = DevTenant::start(&[]).await;
    let user = t.api_tokens("dave").await;
    let (s, b) = t
        .obo(user["access_token"].as_str().unwrap(), ARM_SCOPE)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_aad_error(&b, "invalid_grant", 50076);
    assert_eq!(b["suberror"], "basic_action");
    let challenge = b["claims"].as_str().unwrap();
    let stepped_up = t
        .sign_in(
            "dave",
            &format!("openid offline_access {}", t.api_scope()),
            &[("claims", challenge)],
        )
        .await;
    let (s, b) = t
        .obo(stepped_up["access_token"].as_str().unwrap(), ARM_SCOPE)
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    // Turning MFA off for the user lets the first token through too.
    t.control("users/dave@contoso.example/mfa", json!({"required": false}))
        .await;
    let (s, _) = t
        .obo(user["access_token"].as_str().unwrap(), ARM_SCOPE)
        .await;
    assert_eq!(s, StatusCode::OK);
}
