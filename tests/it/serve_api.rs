//! `azobo serve-api` against the dev tenant as identity platform and ARM.

use std::collections::HashSet;
use std::io::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Api, DevTenant, obo_count};

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn user_token(t: &DevTenant, user: &str) -> String {
    t.api_tokens(user).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// `GET /subscriptions` with a fresh token of `user`.
async fn as_user(
    api: &Api,
    t: &DevTenant,
    user: &str,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    api.get("/subscriptions", Some(&bearer(&user_token(t, user).await)))
        .await
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[tokio::test]
async fn every_page_of_250_subscriptions_and_an_empty_list() {
    let t = DevTenant::start(&[]).await;
    let api = Api::start(&t, &[]).await;
    let (s, _, body) = as_user(&api, &t, "bob").await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let value = body["value"].as_array().unwrap();
    assert_eq!(value.len(), 250);
    assert_eq!(body["count"], json!({"type": "Total", "value": 250}));
    let ids: HashSet<&str> = value
        .iter()
        .map(|v| v["subscriptionId"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 250);
    let keys: Vec<&String> = value[0].as_object().unwrap().keys().collect();
    assert_eq!(keys[0], "id", "items keep ARM's field order");
    assert!(
        t.requests()
            .await
            .iter()
            .filter(|e| e["path"] == "/arm/subscriptions")
            .count()
            >= 3,
        "three ARM pages"
    );

    let (s, _, body) = as_user(&api, &t, "carol").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        body,
        json!({"value": [], "count": {"type": "Total", "value": 0}})
    );
}

#[tokio::test]
async fn obo_result_is_cached_and_concurrent_first_calls_share_one_exchange() {
    let t = DevTenant::start(&[]).await;
    let api = Api::start(&t, &[]).await;
    let alice = user_token(&t, "alice").await;
    for _ in 0..5 {
        let (s, _, _) = api.get("/subscriptions", Some(&bearer(&alice))).await;
        assert_eq!(s, StatusCode::OK);
    }
    assert_eq!(obo_count(&t).await, 1, "one exchange for five calls");

    let bob = user_token(&t, "bob").await;
    let calls = (0..50).map(|_| {
        let (http, url, auth) = (
            api.http.clone(),
            format!("{}/subscriptions", api.url),
            bearer(&bob),
        );
        tokio::spawn(async move {
            http.get(url)
                .header("authorization", auth)
                .send()
                .await
                .unwrap()
                .status()
        })
    });
    for c in calls.collect::<Vec<_>>() {
        assert_eq!(c.await.unwrap(), StatusCode::OK);
    }
    assert_eq!(
        obo_count(&t).await,
        2,
        "50 concurrent first calls, one exchange"
    );
    let (_, _, metrics) = api.get("/metrics", None).await;
    let text = metrics.as_str().unwrap();
    assert!(
        text.contains("azobo_api_obo_cache_misses_total 2"),
        "{text}"
    );
    assert!(
        text.contains("azobo_api_requests_total{route=\"/subscriptions\",status=\"200\"} 55"),
        "{text}"
    );
}

async fn signed(t: &DevTenant, claims: Value, kid: Option<&str>) -> String {
    let mut body = json!({"claims": claims});
    if let Some(k) = kid {
        body["kid"] = json!(k);
    }
    t.control("sign", body).await["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn good_claims(t: &DevTenant) -> Value {
    let tid = t.s("tenant_id");
    json!({
        "aud": t.api_id(), "iss": format!("{}/{tid}/v2.0", t.base()), "tid": tid, "ver": "2.0",
        "iat": now(), "nbf": now() - 10, "exp": now() + 3600, "scp": "access_as_user",
        "oid": t.info["users"][0]["oid"], "azp": t.cli_id(), "sub": "s",
    })
}

fn with(mut v: Value, k: &str, x: Value) -> Value {
    if x.is_null() {
        v.as_object_mut().unwrap().remove(k);
    } else {
        v[k] = x;
    }
    v
}

#[tokio::test]
async fn every_bad_token_is_refused_before_any_obo_exchange() {
    let t = DevTenant::start(&[]).await;
    let api = Api::start(&t, &[]).await;
    let good = signed(&t, good_claims(&t), None).await;
    let g = good_claims(&t);
    let other_tid = "11111111-2222-3333-4444-555555555555";
    let parts: Vec<&str> = good.split('.').collect();
    let tamper_payload = {
        let mut c = g.clone();
        c["oid"] = json!("someone-else");
        format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(c.to_string()),
            parts[2]
        )
    };
    let tamper_sig = {
        let mut sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        sig[10] ^= 0xff;
        format!("{}.{}.{}", parts[0], parts[1], URL_SAFE_NO_PAD.encode(sig))
    };
    let none_alg = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        parts[1]
    );
    let jwks: Value = t.jwks().await;
    let hs256 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &g,
        &jsonwebtoken::EncodingKey::from_secret(jwks["keys"][0]["n"].as_str().unwrap().as_bytes())
            .unwrap(),
    )
    .unwrap();
    let (_, app) = t
        .token(&[
            ("client_id", &t.api_id()),
            ("client_secret", &t.api_secret()),
            ("grant_type", "client_credentials"),
            ("scope", &format!("api://{}/.default", t.api_id())),
        ])
        .await;
    let app_only = app["access_token"].as_str().unwrap().to_owned();
    let cases: Vec<(&str, String, StatusCode)> = vec![
        (
            "expired",
            signed(
                &t,
                with(
                    with(g.clone(), "exp", json!(now() - 900)),
                    "nbf",
                    json!(now() - 4000),
                ),
                None,
            )
            .await,
            StatusCode::UNAUTHORIZED,
        ),
        (
            "nbf in the future",
            signed(&t, with(g.clone(), "nbf", json!(now() + 900)), None).await,
            StatusCode::UNAUTHORIZED,
        ),
        (
            "wrong aud",
            signed(
                &t,
                with(g.clone(), "aud", json!("https://graph.microsoft.com")),
                None,
            )
            .await,
            StatusCode::UNAUTHORIZED,
        ),
        (
            "wrong iss",
            signed(
                &t,
                with(g.clone(), "iss", json!("https://evil.example/x/v2.0")),
                None,
            )
            .await,
            StatusCode::UNAUTHORIZED,
        ),
        (
            "other tenant",
            signed(
                &t,
                with(
                    with(g.clone(), "tid", json!(other_tid)),
                    "iss",
                    json!(format!("{}/{other_tid}/v2.0", t.base())),
                ),
                None,
            )
            .await,
            StatusCode::UNAUTHORIZED,
        ),
        ("alg none", none_alg, StatusCode::UNAUTHORIZED),
        (
            "HS256 with the public key as secret",
            hs256,
            StatusCode::UNAUTHORIZED,
        ),
        (
            "unknown kid",
            signed(&t, g.clone(), Some("not-a-published-kid")).await,
            StatusCode::UNAUTHORIZED,
        ),
        ("tampered payload", tamper_payload, StatusCode::UNAUTHORIZED),
        ("tampered signature", tamper_sig, StatusCode::UNAUTHORIZED),
        (
            "missing scp",
            signed(
                &t,
                with(
                    with(g.clone(), "scp", Value::Null),
                    "roles",
                    json!(["Reader"]),
                ),
                None,
            )
            .await,
            StatusCode::UNAUTHORIZED,
        ),
        ("app-only token", app_only, StatusCode::UNAUTHORIZED),
        (
            "wrong scope",
            signed(&t, with(g.clone(), "scp", json!("other_scope")), None).await,
            StatusCode::FORBIDDEN,
        ),
        (
            "v1 token with a v2 issuer",
            signed(&t, with(g.clone(), "ver", json!("1.0")), None).await,
            StatusCode::UNAUTHORIZED,
        ),
        (
            "truncated",
            good[..good.len() / 2].to_owned(),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "not base64",
            "!!!.@@@.###".to_owned(),
            StatusCode::UNAUTHORIZED,
        ),
    ];
    for (name, token, want) in &cases {
        let (s, h, body) = api.get("/subscriptions", Some(&bearer(token))).await;
        assert_eq!(s, *want, "{name}: {body}");
        let challenge = h["www-authenticate"].to_str().unwrap();
        if *want == StatusCode::UNAUTHORIZED {
            assert!(
                challenge.starts_with("Bearer error=\"invalid_token\""),
                "{name}: {challenge}"
            );
        } else {
            assert!(
                challenge.contains("error=\"insufficient_scope\""),
                "{name}: {challenge}"
            );
        }
        assert!(
            body["error"]["code"].is_string() && body["error"]["message"].is_string(),
            "{name}: {body}"
        );
        assert!(
            !body.to_string().contains(&token[..token.len().min(30)]) || token.len() < 30,
            "{name}: the token is echoed"
        );
    }
    // Header-level failures.
    let (s, h, _) = api.get("/subscriptions", None).await;
    assert_eq!(
        (s, h["www-authenticate"].to_str().unwrap()),
        (StatusCode::UNAUTHORIZED, "Bearer")
    );
    let (s, h, _) = api.get("/subscriptions", Some("Basic dXNlcjpwYXNz")).await;
    assert_eq!(
        (s, h["www-authenticate"].to_str().unwrap()),
        (StatusCode::UNAUTHORIZED, "Bearer")
    );
    let (s, h, _) = api
        .get("/subscriptions", Some(&format!("Bearer {good} {good}")))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        h["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_request")
    );
    let huge = format!("Bearer {}", "a".repeat(20 * 1024));
    let r = api
        .http
        .get(format!("{}/subscriptions", api.url))
        .header("authorization", huge)
        .send()
        .await;
    assert!(
        r.is_err() || r.unwrap().status() == StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "a 20 KB header is refused"
    );
    assert_eq!(
        obo_count(&t).await,
        0,
        "no bad token ever reached the OBO endpoint"
    );

    // A lowercase scheme is fine, and the good token works.
    let (s, _, body) = api
        .get("/subscriptions", Some(&format!("bearer {good}")))
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn v1_tokens_are_accepted_when_configured_and_refused_when_not() {
    let t = DevTenant::start(&["--api-token-version", "1"]).await;
    let v1 = user_token(&t, "alice").await;
    let api = Api::start(&t, &[]).await;
    let (s, _, body) = api.get("/subscriptions", Some(&bearer(&v1))).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let strict = Api::start(&t, &["--token-versions", "2"]).await;
    let (s, _, body) = strict.get("/subscriptions", Some(&bearer(&v1))).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{body}");
}

#[tokio::test]
async fn keys_rotated_at_the_idp_validate_without_a_restart() {
    let t = DevTenant::start(&[]).await;
    let api = Api::start(&t, &[]).await;
    t.control("keys/rotate", json!({})).await;
    t.control("keys/rotate", json!({})).await;
    let fresh = user_token(&t, "alice").await;
    let (s, _, body) = api.get("/subscriptions", Some(&bearer(&fresh))).await;
    assert_eq!(s, StatusCode::OK, "{body}");
}

/// Verified tokens are remembered until they expire, but only while the key set that vouched
/// for them is current: a key the identity platform withdraws takes its tokens with it.
#[tokio::test]
async fn a_remembered_token_is_refused_once_its_signing_key_is_withdrawn() {
    let t = DevTenant::start(&[]).await;
    let api = Api::start(&t, &[]).await;
    let old = user_token(&t, "alice").await;
    for _ in 0..3 {
        let (s, _, body) = api.get("/subscriptions", Some(&bearer(&old))).await;
        assert_eq!(s, StatusCode::OK, "{body}");
    }
    // Two rotations: the dev tenant keeps two keys, so the one that signed `old` is gone.
    t.control("keys/rotate", json!({})).await;
    t.control("keys/rotate", json!({})).await;
    let fresh = user_token(&t, "bob").await;
    let (s, _, body) = api.get("/subscriptions", Some(&bearer(&fresh))).await;
    assert_eq!(s, StatusCode::OK, "the new key is fetched: {body}");
    let (s, headers, body) = api.get("/subscriptions", Some(&bearer(&old))).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("does not publish"),
        "{body}"
    );
    assert!(
        headers["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
}

#[tokio::test]
async fn mfa_user_gets_a_claims_challenge_the_cli_can_parse() {
    let t = DevTenant::start(&[]).await;
    let api = Api::start(&t, &[]).await;
    let (s, h, body) = as_user(&api, &t, "dave").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{body}");
    let challenge = h["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.starts_with("Bearer error=\"insufficient_claims\", claims=\""),
        "{challenge}"
    );
    let b64 = challenge
        .split("claims=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let claims: Value = serde_json::from_slice(&STANDARD.decode(b64).unwrap()).unwrap();
    assert!(
        claims["access_token"]["capolids"]["essential"]
            .as_bool()
            .unwrap()
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("AADSTS50076"),
        "{body}"
    );
}

#[tokio::test]
async fn consent_missing_is_403_naming_known_client_applications() {
    let t = DevTenant::start(&[]).await;
    let api = Api::start(&t, &[]).await;
    t.control("consent", json!({"granted": false})).await;
    let (s, _, body) = as_user(&api, &t, "alice").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "consent_required");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("knownClientApplications")
    );
}

#[tokio::test]
async fn arm_throttling_is_retried_and_a_persistent_500_is_a_502() {
    let t = DevTenant::start(&[]).await;
    let api = Api::start(&t, &[]).await;
    let alice = user_token(&t, "alice").await;
    t.control(
        "faults",
        json!({"target": "arm", "status": 429, "count": 2, "retry_after": 1}),
    )
    .await;
    let (s, _, body) = api.get("/subscriptions", Some(&bearer(&alice))).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    t.control(
        "faults",
        json!({"target": "arm", "status": 500, "count": 10}),
    )
    .await;
    let (s, _, body) = api.get("/subscriptions", Some(&bearer(&alice))).await;
    assert_eq!(s, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(body["error"]["code"], "InternalServerError");
}

#[tokio::test]
async fn a_rejected_api_secret_is_a_500_for_the_operator() {
    let t = DevTenant::start(&[]).await;
    let mut args = Api::args_for(&t);
    args.retain(|_| true);
    let api = Api::spawn(
        &args,
        &[("AZOBO_API_CLIENT_SECRET", "definitely-not-the-secret")],
    )
    .await;
    api.wait_ready().await;
    let (s, _, body) = as_user(&api, &t, "alice").await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body["error"]["code"], "server_credential_rejected");
    let (_, logs) = api.stop().await;
    assert!(logs.contains("rejected this API's credential"), "{logs}");
    assert!(!logs.contains("definitely-not-the-secret"));
}

#[tokio::test]
async fn certificate_credential_signs_a_client_assertion() {
    let t = DevTenant::start(&[]).await;
    let args: Vec<String> = Api::args_for(&t)
        .into_iter()
        .chain([
            "--client-certificate".to_owned(),
            t.s("api_client_certificate"),
            "--client-certificate-key".to_owned(),
            t.s("api_client_key"),
        ])
        .collect();
    let api = Api::spawn(&args, &[]).await;
    api.wait_ready().await;
    let (s, _, body) = as_user(&api, &t, "alice").await;
    assert_eq!(s, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn idp_down_at_startup_is_not_ready_until_it_returns() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let authority = format!("http://127.0.0.1:{port}");
    let tid = azobo::dev_tenant::seed::DEFAULT_TENANT_ID;
    let args: Vec<String> = [
        "--authority",
        &authority,
        "--tenant",
        tid,
        "--client-id",
        azobo::dev_tenant::seed::DEFAULT_API_CLIENT_ID,
        "--arm-url",
        &format!("{authority}/arm"),
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let api = Api::spawn(
        &args,
        &[(
            "AZOBO_API_CLIENT_SECRET",
            "a-fixed-secret-for-tests-0123456789",
        )],
    )
    .await;
    let (s, _, _) = api.get("/readyz", None).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    let (s, _, _) = api.get("/healthz", None).await;
    assert_eq!(s, StatusCode::OK, "alive while not ready");
    let (s, _, _) = api.get("/subscriptions", Some("Bearer a.b.c")).await;
    assert!(s == StatusCode::UNAUTHORIZED || s == StatusCode::SERVICE_UNAVAILABLE);
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("t.json");
    std::fs::write(
        &state,
        json!({"api_client_secret": "a-fixed-secret-for-tests-0123456789"}).to_string(),
    )
    .unwrap();
    let t = DevTenant::start(&[
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--state",
        state.to_str().unwrap(),
    ])
    .await;
    api.wait_ready().await;
    let (s, _, body) = as_user(&api, &t, "alice").await;
    assert_eq!(s, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_slowloris_connection_does_not_block_others() {
    let t = DevTenant::start(&[]).await;
    let api = Api::start(&t, &[]).await;
    let addr = api.url.trim_start_matches("http://").to_owned();
    let mut slow = std::net::TcpStream::connect(&addr).unwrap();
    slow.write_all(b"GET /subscriptions HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .unwrap();
    let (s, _, _) = api.get("/healthz", None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = as_user(&api, &t, "alice").await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn graceful_shutdown_finishes_an_in_flight_request() {
    for signal in ["-TERM", "-INT"] {
        drain_on(signal).await;
    }
}

async fn drain_on(signal: &str) {
    let t = DevTenant::start(&[]).await;
    let api = Api::start(&t, &[]).await;
    let alice = user_token(&t, "alice").await;
    // ARM throttles once for 2 s, so the request is in flight when SIGTERM arrives.
    t.control(
        "faults",
        json!({"target": "arm", "status": 429, "count": 1, "retry_after": 2}),
    )
    .await;
    let (http, url) = (api.http.clone(), format!("{}/subscriptions", api.url));
    let inflight = tokio::spawn(async move {
        http.get(url)
            .bearer_auth(alice)
            .send()
            .await
            .map(|r| r.status())
    });
    while !t
        .requests()
        .await
        .iter()
        .any(|e| e["path"] == "/arm/subscriptions" && e["status"] == 429)
    {
        tokio::task::yield_now().await;
    }
    let (status, logs) = api.stop_with(signal).await;
    assert_eq!(inflight.await.unwrap().unwrap(), StatusCode::OK);
    assert!(status.success(), "{logs}");
}

#[tokio::test]
async fn routes_errors_are_json_and_logs_carry_no_token() {
    let t = DevTenant::start(&[]).await;
    let api = Api::start(&t, &[]).await;
    let alice = user_token(&t, "alice").await;
    let (s, _, body) = api.get("/nope", None).await;
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let r = api
        .http
        .post(format!("{}/subscriptions", api.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "method_not_allowed"
    );
    let r = api
        .http
        .get(format!("{}/subscriptions", api.url))
        .bearer_auth(&alice)
        .body("x=1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = api
        .http
        .get(format!("{}/subscriptions", api.url))
        .bearer_auth(&alice)
        .header("x-ms-correlation-id", "corr-12345")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-ms-correlation-id"], "corr-12345");
    let (_, logs) = api.stop().await;
    assert!(
        logs.contains("corr-12345"),
        "the access log names the correlation id"
    );
    assert!(
        logs.contains(&t.info["users"][0]["oid"].as_str().unwrap().to_owned()),
        "and the caller's oid"
    );
    assert!(!logs.contains(&alice[..40]), "no token in the logs");
    assert!(!logs.contains(&t.api_secret()), "no secret in the logs");
}

#[tokio::test]
async fn incomplete_configuration_fails_fast_with_exit_2() {
    let h = crate::support::home();
    let out = crate::support::azobo(h.path())
        .args([
            "serve-api",
            "--tenant",
            "organizations",
            "--client-id",
            azobo::dev_tenant::seed::DEFAULT_API_CLIENT_ID,
        ])
        .env("AZOBO_API_CLIENT_SECRET", "x".repeat(20))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allowed-tenants"));
    let out = crate::support::azobo(h.path())
        .args([
            "serve-api",
            "--tenant",
            "contoso.com",
            "--client-id",
            azobo::dev_tenant::seed::DEFAULT_API_CLIENT_ID,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("AZOBO_API_CLIENT_SECRET"));
}

#[tokio::test]
async fn federated_token_file_authenticates_the_api() {
    let t = DevTenant::start(&[]).await;
    let tid = t.s("tenant_id");
    let workload = signed(
        &t,
        json!({"iss": format!("{}/{tid}/v2.0", t.base()), "sub": azobo::dev_tenant::seed::FEDERATED_SUBJECT, "aud": "api://AzureADTokenExchange", "iat": now(), "nbf": now() - 5, "exp": now() + 3600}),
        None,
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, &workload).unwrap();
    let api = Api::spawn(
        &Api::args_for(&t),
        &[("AZURE_FEDERATED_TOKEN_FILE", file.to_str().unwrap())],
    )
    .await;
    api.wait_ready().await;
    let (s, _, body) = as_user(&api, &t, "alice").await;
    assert_eq!(s, StatusCode::OK, "{body}");
    // A token for another subject is not this app's federated credential.
    let stranger = signed(&t, json!({"iss": format!("{}/{tid}/v2.0", t.base()), "sub": "system:serviceaccount:other:x", "aud": "api://AzureADTokenExchange", "exp": now() + 3600}), None).await;
    let (st, b) = t
        .token(&[
            ("client_id", &t.api_id()),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", &stranger),
            ("grant_type", "client_credentials"),
            ("scope", "https://management.azure.com/.default"),
        ])
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    crate::support::assert_aad_error(&b, "invalid_client", 700213);
}

#[tokio::test]
async fn two_authorization_headers_are_refused_whatever_their_order() {
    let t = DevTenant::start(&[]).await;
    let api = Api::start(&t, &[]).await;
    let good = format!("Bearer {}", user_token(&t, "alice").await);
    for pair in [
        [good.as_str(), "Bearer junk"],
        ["Bearer junk", good.as_str()],
    ] {
        let mut headers = reqwest::header::HeaderMap::new();
        for v in pair {
            headers.append(
                reqwest::header::AUTHORIZATION,
                reqwest::header::HeaderValue::from_str(v).unwrap(),
            );
        }
        let r = api
            .http
            .get(format!("{}/subscriptions", api.url))
            .headers(headers)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
        assert!(challenge.contains("invalid_request"), "{challenge}");
    }
    assert_eq!(
        obo_count(&t).await,
        0,
        "no exchange for an ambiguous request"
    );
}

#[tokio::test]
async fn an_absurd_token_lifetime_from_the_identity_platform_is_a_clean_502_not_a_crash() {
    let t = DevTenant::start(&[]).await;
    let api = Api::start(&t, &[]).await;
    let bearer = format!("Bearer {}", user_token(&t, "alice").await);
    // The identity platform (the dev tenant here) answers `expires_in` = 2^64 - 1.
    t.control("token-lifetime", json!({"announce_expires_in": u64::MAX}))
        .await;
    let (status, _, body) = api.get("/subscriptions", Some(&bearer)).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(
        body["error"]["code"], "idp_invalid_token_lifetime",
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("18446744073709551615 s")
    );
    // The process and its metrics are intact, and nothing was cached: a sane answer works.
    let (status, _, _) = api.get("/healthz", None).await;
    assert_eq!(status, 200, "the process is intact");
    let (_, _, metrics) = api.get("/metrics", None).await;
    let text = metrics.as_str().unwrap();
    assert!(
        text.contains("azobo_api_upstream_errors_total{kind=\"idp_bad_answer\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("azobo_api_requests_total{route=\"/subscriptions\",status=\"502\"} 1"),
        "{text}"
    );
    t.control("token-lifetime", json!({"seconds": 3600})).await;
    let (status, _, body) = api.get("/subscriptions", Some(&bearer)).await;
    assert_eq!(status, 200, "{body}");
    t.control("token-lifetime", json!({"announce_expires_in": u64::MAX}))
        .await;
    // And the CLI keeps a sane expiry for such a token.
    let mut sh = crate::support::Shell::new(&t, crate::support::Keyring::File);
    sh.set("AZOBO_API_URL", &api.url);
    t.control("auto-approve", json!({"username": "alice@contoso.example"}))
        .await;
    sh.login();
    let tok: Value = serde_json::from_str(&sh.run(&["token", "--json"]).stdout).unwrap();
    let in_28h = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 28 * 3600;
    assert!(
        tok["expiresOnTimestamp"].as_u64().unwrap() <= in_28h,
        "{tok}"
    );
}

#[tokio::test]
async fn an_arm_claims_challenge_reaches_the_caller_and_a_refused_arm_token_is_exchanged_again() {
    let t = DevTenant::start(&[]).await;
    let api = Api::start(&t, &[]).await;
    let bearer = format!("Bearer {}", user_token(&t, "alice").await);
    let (status, _, _) = api.get("/subscriptions", Some(&bearer)).await;
    assert_eq!(status, 200);
    assert_eq!(obo_count(&t).await, 1);

    // Continuous Access Evaluation: ARM revokes the session and says which claims it wants.
    let claims = r#"{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}"#;
    t.control(
        "faults",
        json!({"target": "arm", "status": 401, "claims": claims}),
    )
    .await;
    let (status, headers, body) = api.get("/subscriptions", Some(&bearer)).await;
    assert_eq!(status, 401, "{body}");
    let challenge = headers["www-authenticate"].to_str().unwrap().to_owned();
    assert!(
        challenge.contains("error=\"insufficient_claims\""),
        "{challenge}"
    );
    let b64 = challenge
        .split("claims=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap();
    let relayed = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64).unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&relayed).unwrap(),
        serde_json::from_str::<Value>(claims).unwrap()
    );
    // The refused ARM token is gone from the cache: the next call exchanges again.
    let (status, _, _) = api.get("/subscriptions", Some(&bearer)).await;
    assert_eq!(status, 200);
    assert_eq!(obo_count(&t).await, 2);

    // A plain 401 from ARM: one fresh exchange, and the caller never notices.
    t.control("faults", json!({"target": "arm", "status": 401}))
        .await;
    let (status, _, body) = api.get("/subscriptions", Some(&bearer)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(obo_count(&t).await, 3);
}

#[tokio::test]
async fn a_forged_kid_keeps_a_real_new_key_out_for_one_refetch_floor_at_most() {
    let t = DevTenant::start(&[]).await;
    let api = Api::start(&t, &["--jwks-refetch-floor", "1"]).await;
    // An unauthenticated caller with a made-up `kid` spends the refetch...
    let forged = signed(&t, good_claims(&t), Some("made-up-kid")).await;
    let (s, _, _) = api.get("/subscriptions", Some(&bearer(&forged))).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // ...just as the identity platform starts signing with a new key.
    t.control("keys/rotate", json!({})).await;
    let fresh = user_token(&t, "alice").await;
    // Once the floor has passed, the new key is fetched and accepted.
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let (s, _, body) = api.get("/subscriptions", Some(&bearer(&fresh))).await;
    assert_eq!(s, StatusCode::OK, "{body}");
}

/// A server on loopback that answers every request 200 with a chunked JSON body that never
/// ends (until the peer goes away).
async fn endless_server() -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                if s
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n1\r\n[\r\n")
                    .await
                    .is_err()
                {
                    return;
                }
                let chunk = format!("{:x}\r\n{}\r\n", 8192, "1,".repeat(4096));
                while s.write_all(chunk.as_bytes()).await.is_ok() {}
            });
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_answer_is_cut_off_with_a_502_in_bounded_memory() {
    let t = DevTenant::start(&[]).await;
    let endless = endless_server().await;
    let mut args = Api::args_for(&t);
    let arm = args.iter().position(|a| a == "--arm-url").unwrap();
    args[arm + 1] = endless.clone();
    let api = Api::spawn(&args, &[("AZOBO_API_CLIENT_SECRET", &t.api_secret())]).await;
    api.wait_ready().await;
    let pid = api.child.id().unwrap();
    let before = crate::support::rss_kib(pid);
    let bearer = format!("Bearer {}", user_token(&t, "alice").await);
    for _ in 0..3 {
        let (status, _, body) = api.get("/subscriptions", Some(&bearer)).await;
        assert_eq!(status, 502, "{body}");
        assert!(body.to_string().contains("larger than"), "{body}");
    }
    let after = crate::support::rss_kib(pid);
    assert!(
        after < before + 64 * 1024,
        "serve-api grew from {before} KiB to {after} KiB"
    );
    let (status, _, _) = api.get("/healthz", None).await;
    assert_eq!(status, 200);

    // The CLI, pointed at an endless API, gives up the same way.
    let mut sh = crate::support::Shell::new(&t, crate::support::Keyring::File);
    sh.set("AZOBO_TOKEN", "any-token");
    sh.set("AZOBO_API_URL", &endless);
    let r = sh.run(&["subscriptions"]);
    r.assert_fails(5, "sent more than 64 MiB");
    assert!(r.stderr.contains("--max-response-mib"), "{}", r.stderr);
    let r = sh.run(&["subscriptions", "--max-response-mib", "1"]);
    r.assert_fails(5, "sent more than 1 MiB");
    assert!(r.stderr.contains("correlation id "), "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_api_is_given_up_on_after_api_timeout() {
    let t = DevTenant::start(&[]).await;
    // Accepts, reads, never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            held.push(s);
        }
    });
    let mut sh = crate::support::Shell::new(&t, crate::support::Keyring::File);
    sh.set("AZOBO_TOKEN", "any-token");
    sh.set("AZOBO_API_URL", &url);
    let r = sh.run(&["subscriptions", "--api-timeout", "1"]);
    r.assert_fails(5, "did not answer within 1 s");
    let id = r
        .stderr
        .split("correlation id ")
        .nth(1)
        .and_then(|s| s.get(..36))
        .expect("the error names the correlation id");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{}", r.stderr);
    assert!(r.stderr.contains("--api-timeout"), "{}", r.stderr);
    sh.run(&["subscriptions", "--api-timeout", "0"])
        .assert_fails(2, "--api-timeout");
    // At a terminal, a wait past the first second shows a spinner (on stderr, cleared after).
    let (code, screen) =
        crate::support::at_terminal(&sh, &["subscriptions", "--api-timeout", "3"], &[]);
    assert_eq!(code, Some(5), "{screen}");
    assert!(screen.contains("Waiting for the API…"), "{screen}");
    assert!(screen.contains("did not answer within 3 s"), "{screen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_from_one_peer_do_not_starve_another() {
    use tokio::io::AsyncReadExt as _;
    let t = DevTenant::start(&[]).await;
    let api = Api::start(&t, &["--max-connections", "200"]).await;
    let port = url::Url::parse(&api.url).unwrap().port().unwrap();
    // 1,100 idle connections from one peer (far more than the 200 this serve-api serves at
    // once), each re-opened as soon as it is dropped.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut flood = tokio::task::JoinSet::new();
    for _ in 0..1_100 {
        let stop = std::sync::Arc::clone(&stop);
        flood.spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let socket = tokio::net::TcpSocket::new_v4().unwrap();
                socket.bind(([127, 0, 0, 3], 0).into()).unwrap();
                let Ok(mut s) = socket.connect(([127, 0, 0, 1], port).into()).await else {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    continue;
                };
                let mut buf = [0u8; 64];
                let _ = tokio::time::timeout(std::time::Duration::from_secs(15), s.read(&mut buf))
                    .await;
                // Re-open, without spinning: the other tests share these two cores.
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        });
    }
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    // Another peer is still served, promptly.
    let other = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 1]))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    for _ in 0..5 {
        let started = std::time::Instant::now();
        let r = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            other.get(format!("{}/healthz", api.url)).send(),
        )
        .await
        .expect("healthz answered")
        .unwrap();
        assert_eq!(r.status(), 200);
        // Without the per-peer cap it waits out the 10 s head timeout of the connections ahead
        // of it; the bound leaves room for a loaded two-core machine.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "healthz took {:?} behind another peer's idle connections",
            started.elapsed()
        );
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    flood.abort_all();
}

#[tokio::test]
async fn metrics_can_move_to_an_internal_listener() {
    let t = DevTenant::start(&[]).await;
    let api = Api::start(&t, &["--metrics-listen", "127.0.0.1:0"]).await;
    let internal = api.startup["metrics"].as_str().unwrap().to_owned();
    let bearer = format!("Bearer {}", user_token(&t, "alice").await);
    let (status, _, _) = api.get("/subscriptions", Some(&bearer)).await;
    assert_eq!(status, 200);
    let text = api
        .http
        .get(&internal)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("# EOF"), "OpenMetrics text: {text}");
    assert!(text.contains("obo"), "{text}");
    let (status, _, _) = api.get("/metrics", None).await;
    assert_eq!(status, 404, "the public listener no longer shows metrics");
}
