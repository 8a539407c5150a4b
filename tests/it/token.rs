//! The token endpoint: authorization code, refresh, client credentials, and bad input.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{ARM_SCOPE, DevTenant, REDIRECT, assert_aad_error, claims};

#[tokio::test]
async fn authorization_code_gives_v2_tokens_with_entras_claims() {
    let t = DevTenant::start(&[]).await;
    let body = t
        .sign_in(
            "alice",
            &format!("openid profile offline_access {}", t.api_scope()),
            &[("client_info", "1")],
        )
        .await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], t.api_scope());
    let exp = body["expires_in"].as_u64().unwrap();
    assert!(
        (3600..=5400).contains(&exp),
        "randomised 60-90 min, got {exp}"
    );
    assert_eq!(body["ext_expires_in"], body["expires_in"]);
    assert!(body["refresh_token"].is_string());
    let at = claims(body["access_token"].as_str().unwrap());
    for k in [
        "aud",
        "iss",
        "iat",
        "nbf",
        "exp",
        "azp",
        "name",
        "oid",
        "preferred_username",
        "scp",
        "sub",
        "tid",
        "uti",
        "ver",
    ] {
        assert!(!at[k].is_null(), "access token lacks {k}: {at}");
    }
    assert_eq!(at["aud"], t.api_id());
    assert_eq!(at["ver"], "2.0");
    assert_eq!(at["azp"], t.cli_id());
    assert_eq!(at["azpacr"], "0");
    let id = claims(body["id_token"].as_str().unwrap());
    assert_eq!(id["aud"], t.cli_id());
    assert_eq!(id["nonce"], "n-456");
    assert_eq!(id["iss"], at["iss"]);
    assert_ne!(id["sub"], at["sub"], "sub is pairwise per app");
    let header = jsonwebtoken::decode_header(body["access_token"].as_str().unwrap()).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    assert_eq!(header.kid, header.x5t);
}

#[tokio::test]
async fn api_token_version_1_uses_the_app_id_uri_and_sts_issuer_shape() {
    let t = DevTenant::start(&["--api-token-version", "1"]).await;
    let body = t.api_tokens("alice").await;
    let at = claims(body["access_token"].as_str().unwrap());
    assert_eq!(at["aud"], format!("api://{}", t.api_id()));
    assert_eq!(at["ver"], "1.0");
    assert_eq!(
        at["iss"],
        format!("https://sts.windows.net/{}/", t.s("tenant_id"))
    );
    assert_eq!(at["appid"], t.cli_id());
    assert_eq!(at["upn"], "alice@contoso.example");
}

async fn code_and_verifier(t: &DevTenant) -> (String, String) {
    t.control("auto-approve", json!({"username": "alice@contoso.example"}))
        .await;
    let (url, verifier) = t.authorize_url(&t.api_scope(), &[]);
    let q = t.follow(&url).await;
    (q["code"].clone(), verifier)
}

#[tokio::test]
async fn code_is_single_use_and_pkce_is_verified() {
    let t = DevTenant::start(&[]).await;
    let (code, verifier) = code_and_verifier(&t).await;
    let tr = &t;
    let redeem = |verifier: String, code: String| {
        let cli = tr.cli_id();
        async move {
            tr.token(&[
                ("client_id", &cli),
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &verifier),
            ])
            .await
        }
    };
    let (s, b) = redeem("x".repeat(43), code.clone()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_aad_error(&b, "invalid_grant", 50148);
    // A failed attempt spends the code, as Entra does.
    let (s, b) = redeem(verifier.clone(), code).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_aad_error(&b, "invalid_grant", 54005);

    let (code, verifier) = code_and_verifier(&t).await;
    let (s, _) = redeem(verifier.clone(), code.clone()).await;
    assert_eq!(s, StatusCode::OK);
    let (s, b) = redeem(verifier, code).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_aad_error(&b, "invalid_grant", 54005);
}

#[tokio::test]
async fn code_expires_after_ten_minutes_and_needs_the_same_redirect() {
    let t = DevTenant::start(&[]).await;
    let (code, verifier) = code_and_verifier(&t).await;
    let (s, b) = t
        .token(&[
            ("client_id", &t.cli_id()),
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://localhost:1/"),
            ("code_verifier", &verifier),
        ])
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_aad_error(&b, "invalid_grant", 500117);

    let (code, verifier) = code_and_verifier(&t).await;
    t.control("clock", json!({"advance_seconds": 601})).await;
    let (s, b) = t
        .token(&[
            ("client_id", &t.cli_id()),
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
        ])
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_aad_error(&b, "invalid_grant", 70008);
}

#[tokio::test]
async fn refresh_rotates_and_can_switch_resource() {
    let t = DevTenant::start(&[]).await;
    let first = t.api_tokens("alice").await;
    let rt1 = first["refresh_token"].as_str().unwrap();
    let (s, second) = t
        .token(&[
            ("client_id", &t.cli_id()),
            ("grant_type", "refresh_token"),
            ("refresh_token", rt1),
            ("scope", &format!("openid offline_access {}", t.api_scope())),
        ])
        .await;
    assert_eq!(s, StatusCode::OK, "{second}");
    let rt2 = second["refresh_token"].as_str().unwrap();
    assert_ne!(rt1, rt2, "a new refresh token on every use");
    assert_ne!(first["access_token"], second["access_token"]);
    // One refresh token serves every resource the user consented to (ARM here).
    let (s, arm) = t
        .token(&[
            ("client_id", &t.cli_id()),
            ("grant_type", "refresh_token"),
            ("refresh_token", rt2),
            ("scope", ARM_SCOPE),
        ])
        .await;
    assert_eq!(s, StatusCode::OK, "{arm}");
    assert_eq!(
        claims(arm["access_token"].as_str().unwrap())["aud"],
        "https://management.azure.com"
    );
}

#[tokio::test]
async fn revoked_expired_and_foreign_refresh_tokens_are_refused() {
    let t = DevTenant::start(&[]).await;
    let body = t.api_tokens("alice").await;
    let rt = body["refresh_token"].as_str().unwrap();
    let tr = &t;
    let refresh = |client: String, rt: String| {
        let scope = tr.api_scope();
        async move {
            tr.token(&[
                ("client_id", &client),
                ("grant_type", "refresh_token"),
                ("refresh_token", &rt),
                ("scope", &scope),
            ])
            .await
        }
    };
    let (s, b) = refresh(t.cli_id(), "garbage".into()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_aad_error(&b, "invalid_grant", 9002313);

    let (s, b) = t
        .token(&[
            ("client_id", &t.api_id()),
            ("client_secret", &t.api_secret()),
            ("grant_type", "refresh_token"),
            ("refresh_token", rt),
            ("scope", &t.api_scope()),
        ])
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_aad_error(&b, "invalid_grant", 70000);

    t.control("users/alice@contoso.example/revoke", json!({}))
        .await;
    let (_, b) = refresh(t.cli_id(), rt.to_owned()).await;
    assert_aad_error(&b, "invalid_grant", 50173);

    let body = t.api_tokens("bob").await;
    t.control("clock", json!({"advance_seconds": 91 * 24 * 3600}))
        .await;
    let (_, b) = refresh(
        t.cli_id(),
        body["refresh_token"].as_str().unwrap().to_owned(),
    )
    .await;
    assert_aad_error(&b, "invalid_grant", 700082);
}

#[tokio::test]
async fn refresh_for_arm_as_an_mfa_user_is_interaction_required_with_claims() {
    let t = DevTenant::start(&[]).await;
    let body = t.api_tokens("dave").await;
    let (s, b) = t
        .token(&[
            ("client_id", &t.cli_id()),
            ("grant_type", "refresh_token"),
            ("refresh_token", body["refresh_token"].as_str().unwrap()),
            ("scope", ARM_SCOPE),
        ])
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_aad_error(&b, "interaction_required", 50076);
    assert_eq!(b["suberror"], "basic_action");
    let claims: serde_json::Value = serde_json::from_str(b["claims"].as_str().unwrap()).unwrap();
    assert!(
        claims["access_token"]["capolids"]["essential"]
            .as_bool()
            .unwrap()
    );
}

#[tokio::test]
async fn client_credentials_needs_dot_default_and_a_confidential_client() {
    let t = DevTenant::start(&[]).await;
    let (s, b) = t
        .token(&[
            ("client_id", &t.api_id()),
            ("client_secret", &t.api_secret()),
            ("grant_type", "client_credentials"),
            ("scope", "https://management.azure.com/.default"),
        ])
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert!(b.get("refresh_token").is_none() && b.get("id_token").is_none());
    let c = claims(b["access_token"].as_str().unwrap());
    assert_eq!(c["idtyp"], "app");
    assert!(c.get("scp").is_none());
    assert_eq!(c["appidacr"], "1");

    let (_, b) = t
        .token(&[
            ("client_id", &t.api_id()),
            ("client_secret", &t.api_secret()),
            ("grant_type", "client_credentials"),
            ("scope", ARM_SCOPE),
        ])
        .await;
    assert_aad_error(&b, "invalid_scope", 1002012);
    let (s, b) = t
        .token(&[
            ("client_id", &t.cli_id()),
            ("grant_type", "client_credentials"),
            ("scope", "https://management.azure.com/.default"),
        ])
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_aad_error(&b, "invalid_client", 7000218);
}

#[tokio::test]
async fn client_authentication_errors_have_entras_codes_and_statuses() {
    let t = DevTenant::start(&[]).await;
    type Case<'a> = (Vec<(&'a str, String)>, StatusCode, &'a str, u64);
    let cases: Vec<Case<'_>> = vec![
        (
            vec![
                ("client_id", t.api_id()),
                ("client_secret", "wrong-secret-value-000".into()),
            ],
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
        ),
        (
            vec![("client_id", t.api_id())],
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000218,
        ),
        (
            vec![("client_id", t.cli_id()), ("client_secret", "x".into())],
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700025,
        ),
        (
            vec![("client_id", "00000000-0000-0000-0000-00000000beef".into())],
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
        ),
    ];
    for (mut form, status, error, code) in cases {
        form.push(("grant_type", "client_credentials".into()));
        form.push(("scope", "https://management.azure.com/.default".into()));
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (s, b) = t.token(&pairs).await;
        assert_eq!(s, status, "{b}");
        assert_aad_error(&b, error, code);
        assert!(
            !b.to_string().contains(&t.api_secret()),
            "the secret is never echoed"
        );
    }
    // HTTP Basic is accepted for confidential clients.
    let r = t
        .http
        .post(t.token_url())
        .basic_auth(t.api_id(), Some(t.api_secret()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "https://management.azure.com/.default"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn malformed_requests_get_entra_shaped_errors() {
    let t = DevTenant::start(&[]).await;
    let (s, b) = t.token(&[("client_id", &t.cli_id())]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_aad_error(&b, "invalid_request", 900144);

    let (_, b) = t
        .token(&[("client_id", &t.cli_id()), ("grant_type", "password")])
        .await;
    assert_aad_error(&b, "unsupported_grant_type", 70003);

    let r = t
        .http
        .post(t.token_url())
        .header("content-type", "application/json")
        .body("{\"grant_type\":\"client_credentials\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_aad_error(&r.json().await.unwrap(), "invalid_request", 900144);

    let r = t
        .http
        .post(t.token_url())
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=a&grant_type=b&client_id=x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_request"
    );

    let huge = format!(
        "grant_type=client_credentials&scope={}",
        "a".repeat(200_000)
    );
    let r = t
        .http
        .post(t.token_url())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        r.headers()["connection"],
        "close",
        "the unread body ends the connection"
    );
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_request"
    );

    let r = t
        .http
        .post(format!(
            "{}/nosuchtenant.example/oauth2/v2.0/token",
            t.base()
        ))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_aad_error(&r.json().await.unwrap(), "invalid_tenant", 90002);

    let r = t
        .http
        .post(t.token_url())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![0xffu8, 0xfe, b'=', 0x00])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn injected_token_endpoint_faults_carry_retry_after() {
    let t = DevTenant::start(&[]).await;
    t.control(
        "faults",
        json!({"target": "token", "status": 429, "count": 1, "retry_after": 7}),
    )
    .await;
    t.control("faults", json!({"target": "token", "status": 503}))
        .await;
    let form = [
        ("client_id", t.api_id()),
        ("client_secret", t.api_secret()),
        ("grant_type", "client_credentials".into()),
        ("scope", "https://management.azure.com/.default".into()),
    ];
    let r = t.http.post(t.token_url()).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "7");
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["error"],
        "temporarily_unavailable"
    );
    let r = t.http.post(t.token_url()).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let r = t.http.post(t.token_url()).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "faults are used up");
}
