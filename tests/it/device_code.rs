//! Device code: pending, slow_down, approval, decline, expiry.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{DevTenant, assert_aad_error, claims};

async fn start_flow(t: &DevTenant) -> Value {
    let r = t
        .http
        .post(format!("{}/oauth2/v2.0/devicecode", t.authority()))
        .form(&[
            ("client_id", t.cli_id()),
            ("scope", format!("openid offline_access {}", t.api_scope())),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

async fn poll(t: &DevTenant, device_code: &str) -> (StatusCode, Value) {
    t.token(&[
        ("client_id", &t.cli_id()),
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("device_code", device_code),
    ])
    .await
}

#[tokio::test]
async fn device_code_is_pending_then_slow_down_then_approved() {
    let t = DevTenant::start(&[]).await;
    let flow = start_flow(&t).await;
    let code = flow["user_code"].as_str().unwrap();
    assert_eq!(code.len(), 9);
    assert_eq!(flow["interval"], 1);
    assert_eq!(flow["expires_in"], 900);
    assert!(flow["message"].as_str().unwrap().contains(code));
    assert!(
        flow["verification_uri"]
            .as_str()
            .unwrap()
            .ends_with("/devicelogin")
    );
    let dc = flow["device_code"].as_str().unwrap();

    let (s, b) = poll(&t, dc).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_aad_error(&b, "authorization_pending", 70016);
    let (_, b) = poll(&t, dc).await;
    assert_eq!(b["error"], "slow_down", "a poll inside the interval: {b}");

    t.control(
        "device/approve",
        json!({"user_code": code, "username": "carol@contoso.example"}),
    )
    .await;
    let (s, b) = poll(&t, dc).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        claims(b["id_token"].as_str().unwrap())["preferred_username"],
        "carol@contoso.example"
    );
    let (_, b) = poll(&t, dc).await;
    assert_eq!(
        b["error"], "invalid_grant",
        "a device code is redeemed once"
    );
}

#[tokio::test]
async fn device_code_decline_expiry_and_unknown_code() {
    let t = DevTenant::start(&[]).await;
    let flow = start_flow(&t).await;
    t.control("device/decline", json!({"user_code": flow["user_code"]}))
        .await;
    let (_, b) = poll(&t, flow["device_code"].as_str().unwrap()).await;
    assert_eq!(b["error"], "authorization_declined");

    let flow = start_flow(&t).await;
    t.control("clock", json!({"advance_seconds": 901})).await;
    let (_, b) = poll(&t, flow["device_code"].as_str().unwrap()).await;
    assert_aad_error(&b, "expired_token", 70019);

    let (_, b) = poll(&t, "not-a-device-code").await;
    assert_eq!(b["error"], "bad_verification_code");
}

#[tokio::test]
async fn device_login_page_approves_a_code() {
    let t = DevTenant::start(&[]).await;
    let flow = start_flow(&t).await;
    let page = t
        .http
        .get(format!("{}/devicelogin", t.base()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("alice@contoso.example"));
    let r = t
        .http
        .post(format!("{}/devicelogin", t.base()))
        .form(&[
            ("user_code", flow["user_code"].as_str().unwrap()),
            ("username", "alice@contoso.example"),
            ("action", "approve"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (s, _) = poll(&t, flow["device_code"].as_str().unwrap()).await;
    assert_eq!(s, StatusCode::OK);
}
