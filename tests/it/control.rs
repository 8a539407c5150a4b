//! Control endpoints: key rotation, the request log, reset and validation of knobs.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{ARM_SCOPE, DevTenant};

#[tokio::test]
async fn key_rotation_keeps_the_previous_key_and_retires_the_oldest() {
    let t = DevTenant::start(&[]).await;
    let before = t.api_tokens("alice").await;
    let (_, b) = t
        .obo(before["access_token"].as_str().unwrap(), ARM_SCOPE)
        .await;
    let arm_old = b["access_token"].as_str().unwrap().to_owned();
    let old_kid = jsonwebtoken::decode_header(&arm_old).unwrap().kid.unwrap();

    let r = t.control("keys/rotate", json!({})).await;
    let new_kid = r["current_kid"].as_str().unwrap().to_owned();
    assert_ne!(new_kid, old_kid);
    let jwks: Value = t.jwks().await;
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, vec![new_kid.as_str(), old_kid.as_str()]);
    let after = t.api_tokens("alice").await;
    assert_eq!(
        jsonwebtoken::decode_header(after["access_token"].as_str().unwrap())
            .unwrap()
            .kid
            .unwrap(),
        new_kid
    );
    let (s, _, _) = t.arm(&t.subscriptions_url(), Some(&arm_old)).await;
    assert_eq!(
        s,
        StatusCode::OK,
        "a token signed with the previous key still validates"
    );

    t.control("keys/rotate", json!({})).await;
    let (s, _, b) = t.arm(&t.subscriptions_url(), Some(&arm_old)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "retired key: {b}");
}

#[tokio::test]
async fn request_log_records_grants_and_never_secrets() {
    let t = DevTenant::start(&[]).await;
    let user = t.api_tokens("alice").await;
    let (_, arm) = t
        .obo(user["access_token"].as_str().unwrap(), ARM_SCOPE)
        .await;
    let (_, bad) = t
        .token(&[
            ("client_id", &t.api_id()),
            ("client_secret", "wrong-but-long-secret"),
            ("grant_type", "client_credentials"),
            ("scope", "https://management.azure.com/.default"),
        ])
        .await;
    assert_eq!(bad["error"], "invalid_client");
    let log = t.requests().await;
    let grants: Vec<&str> = log
        .iter()
        .filter_map(|e| e["grant_type"].as_str())
        .collect();
    assert!(
        grants.contains(&"authorization_code")
            && grants.contains(&"urn:ietf:params:oauth:grant-type:jwt-bearer"),
        "{grants:?}"
    );
    assert!(log.iter().any(|e| e["error"] == "invalid_client:7000215"));
    assert!(
        log.iter()
            .any(|e| e["path"].as_str().unwrap().ends_with("/authorize") && e["status"] == 302)
    );
    let text = serde_json::to_string(&log).unwrap();
    for secret in [
        t.api_secret(),
        user["access_token"].as_str().unwrap().to_owned(),
        user["refresh_token"].as_str().unwrap().to_owned(),
        arm["access_token"].as_str().unwrap().to_owned(),
        "wrong-but-long-secret".to_owned(),
    ] {
        assert!(!text.contains(&secret), "the log leaks a secret");
    }
    assert!(!text.contains("code="), "no query strings");
}

#[tokio::test]
async fn reset_restores_knobs_and_forgets_grants() {
    let t = DevTenant::start(&[]).await;
    let user = t.api_tokens("alice").await;
    t.control("token-lifetime", json!({"seconds": 5})).await;
    t.control("users/alice@contoso.example/mfa", json!({"required": true}))
        .await;
    t.control("reset", json!({})).await;
    let state = t.control_get("state").await;
    assert_eq!(state["token_lifetime"], Value::Null);
    assert_eq!(state["users"][0]["mfa_required"], false);
    assert!(
        !t.requests()
            .await
            .iter()
            .any(|e| e["grant_type"] == "authorization_code"),
        "log cleared"
    );
    let (_, b) = t
        .token(&[
            ("client_id", &t.cli_id()),
            ("grant_type", "refresh_token"),
            ("refresh_token", user["refresh_token"].as_str().unwrap()),
            ("scope", &t.api_scope()),
        ])
        .await;
    assert_eq!(b["error"], "invalid_grant");
}

#[tokio::test]
async fn control_rejects_bad_input_with_a_json_error() {
    let t = DevTenant::start(&[]).await;
    let ctl = t.s("control_url");
    for (path, body) in [
        ("faults", "{\"target\":\"dns\",\"status\":500}"),
        ("faults", "{\"target\":\"arm\",\"status\":200}"),
        ("deny-next-sign-in", "{\"error\":\"bogus\"}"),
        ("users/nobody@x/mfa", "{\"required\":true}"),
        ("token-lifetime", "not json"),
        ("auto-approve", "{\"username\":\"eve@contoso.example\"}"),
    ] {
        let r = t
            .http
            .post(format!("{ctl}/{path}"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{path} {body}");
        assert!(r.json::<Value>().await.unwrap()["error"].is_string());
    }
}
