//! Consent per (client, resource, permission): a consent step on the sign-in page for what
//! nobody granted, AADSTS65001 where there is no interaction, grants recorded and revocable
//! through `/_dev/consent`; azobo's own apps consented from the start.

use oauth2::PkceCodeChallenge;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{ARM_SCOPE, DevTenant, REDIRECT, assert_aad_error, claims};

/// Not preauthorized for ARM: the Azure CLI is, Graph Command Line Tools is not.
const GRAPH_CLI_TOOLS: &str = "14d82eec-204b-4c2f-b7e8-296a70dab67e";

/// The authorize request's parameters for Graph Command Line Tools, and its PKCE verifier.
fn authorize_params(scope: &str) -> (Vec<(String, String)>, String) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let params = [
        ("client_id", GRAPH_CLI_TOOLS),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("scope", scope),
        ("state", "st"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .to_vec();
    (params, verifier.secret().clone())
}

/// POSTs the sign-in page's form (what a browser sends for a button).
async fn submit(
    t: &DevTenant,
    params: &[(String, String)],
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = params.to_vec();
    form.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    t.http
        .post(format!("{}/oauth2/v2.0/authorize", t.authority()))
        .form(&form)
        .send()
        .await
        .unwrap()
}

fn redirect_query(r: &reqwest::Response) -> std::collections::HashMap<String, String> {
    let loc = r.headers()["location"].to_str().unwrap();
    assert!(loc.starts_with(REDIRECT), "{loc}");
    url::Url::parse(loc)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

async fn redeem(t: &DevTenant, code: &str, verifier: &str, scope: &str) -> (StatusCode, Value) {
    t.token(&[
        ("client_id", GRAPH_CLI_TOOLS),
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier),
        ("scope", scope),
    ])
    .await
}

#[tokio::test]
async fn the_picker_asks_for_consent_once_records_it_and_asks_again_after_revocation() {
    let t = DevTenant::start(&[]).await;
    let scope = format!("openid offline_access {ARM_SCOPE}");
    let (params, verifier) = authorize_params(&scope);
    let mut url = url::Url::parse(&format!("{}/oauth2/v2.0/authorize", t.authority())).unwrap();
    url.query_pairs_mut().extend_pairs(params.iter());
    // The account picker, as before.
    let r = t.http.get(url.as_str()).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let picker = r.text().await.unwrap();
    assert!(
        picker.contains("Pick an account") && picker.contains("name=\"username\""),
        "{picker}"
    );
    // Picking alice: the consent step, naming the app and the permission.
    let alice = t.user("alice");
    let r = submit(&t, &params, &[("username", &alice)]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(page.contains("Permissions requested"), "{page}");
    assert!(
        page.contains("Microsoft Graph Command Line Tools"),
        "{page}"
    );
    assert!(
        page.contains("user_impersonation")
            && page.contains("Windows Azure Service Management API"),
        "{page}"
    );
    assert!(page.contains("name=\"consent\" value=\"accept\""), "{page}");
    assert!(
        page.contains(&format!("name=\"username\" value=\"{alice}\"")),
        "{page}"
    );
    // Cancel on the consent step: access_denied back at the app.
    let r = submit(&t, &params, &[("username", &alice), ("action", "cancel")]).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let q = redirect_query(&r);
    assert_eq!(q["error"], "access_denied");
    assert!(q["error_description"].starts_with("AADSTS65004"), "{q:?}");
    // Accept: a code, and a token with the permission.
    let r = submit(&t, &params, &[("username", &alice), ("consent", "accept")]).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let q = redirect_query(&r);
    let (s, b) = redeem(&t, &q["code"], &verifier, &scope).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        claims(b["access_token"].as_str().unwrap())["scp"],
        "user_impersonation"
    );
    // Recorded: the next sign-in goes straight through, and the refresh token works.
    let (params2, _) = authorize_params(&scope);
    let r = submit(&t, &params2, &[("username", &alice)]).await;
    assert_eq!(
        r.status(),
        StatusCode::FOUND,
        "{}",
        r.text().await.unwrap_or_default()
    );
    let (s, _) = t
        .token(&[
            ("client_id", GRAPH_CLI_TOOLS),
            ("grant_type", "refresh_token"),
            ("refresh_token", b["refresh_token"].as_str().unwrap()),
            ("scope", ARM_SCOPE),
        ])
        .await;
    assert_eq!(s, StatusCode::OK);
    // Alice's grant is hers: bob is asked.
    let r = submit(&t, &params2, &[("username", &t.user("bob"))]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("Permissions requested"));
    // Revoked: the refresh token answers AADSTS65001 and the picker asks again.
    t.control(
        "consent",
        json!({"granted": false, "client_id": GRAPH_CLI_TOOLS, "resource": "https://management.azure.com"}),
    )
    .await;
    let (s, e) = t
        .token(&[
            ("client_id", GRAPH_CLI_TOOLS),
            ("grant_type", "refresh_token"),
            ("refresh_token", b["refresh_token"].as_str().unwrap()),
            ("scope", ARM_SCOPE),
        ])
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_aad_error(&e, "invalid_grant", 65001);
    assert_eq!(e["suberror"], "consent_required");
    let r = submit(&t, &params2, &[("username", &alice)]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("Permissions requested"));
}

#[tokio::test]
async fn grants_without_interaction_answer_aadsts65001_until_consent_is_granted() {
    let t = DevTenant::start(&[]).await;
    // A Graph sign-in (preauthorized) gives a refresh token; ARM is another resource.
    t.control("auto-approve", json!({"username": t.user("alice")}))
        .await;
    let scope = "openid offline_access https://graph.microsoft.com/User.Read";
    let (params, verifier) = authorize_params(scope);
    let mut url = url::Url::parse(&format!("{}/oauth2/v2.0/authorize", t.authority())).unwrap();
    url.query_pairs_mut().extend_pairs(params.iter());
    let q = t.follow(url.as_str()).await;
    let (s, b) = redeem(&t, &q["code"], &verifier, scope).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let rt = b["refresh_token"].as_str().unwrap().to_owned();
    let refresh_for_arm = |rt: String| {
        let t = &t;
        async move {
            t.token(&[
                ("client_id", GRAPH_CLI_TOOLS),
                ("grant_type", "refresh_token"),
                ("refresh_token", &rt),
                ("scope", ARM_SCOPE),
            ])
            .await
        }
    };
    let (s, e) = refresh_for_arm(rt.clone()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_aad_error(&e, "invalid_grant", 65001);
    assert_eq!(e["suberror"], "consent_required");
    assert!(
        e["error_description"]
            .as_str()
            .unwrap()
            .contains("Microsoft Graph Command Line Tools"),
        "{e}"
    );
    // bob's consent is not alice's; alice's own is.
    t.control(
        "consent",
        json!({"granted": true, "client_id": GRAPH_CLI_TOOLS, "resource": "https://management.azure.com", "username": t.user("bob")}),
    )
    .await;
    let (s, _) = refresh_for_arm(rt.clone()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let v = t
        .control(
            "consent",
            json!({"granted": true, "client_id": GRAPH_CLI_TOOLS, "resource": "797f4846-ba00-4fd7-ba43-dac1f8f63013", "scope": "user_impersonation", "username": t.user("alice")}),
        )
        .await;
    assert_eq!(v["scope"], "user_impersonation");
    let (s, b) = refresh_for_arm(rt.clone()).await;
    assert_eq!(s, StatusCode::OK, "{b}");

    // Device code: approved without consent → AADSTS65001 at the poll; with it → tokens.
    for (consent, want) in [(false, StatusCode::BAD_REQUEST), (true, StatusCode::OK)] {
        let r = t
            .http
            .post(format!("{}/oauth2/v2.0/devicecode", t.authority()))
            .form(&[("client_id", GRAPH_CLI_TOOLS), ("scope", ARM_SCOPE)])
            .send()
            .await
            .unwrap();
        let flow: Value = r.json().await.unwrap();
        t.control(
            "device/approve",
            json!({"user_code": flow["user_code"], "username": t.user("carol"), "consent": consent}),
        )
        .await;
        let (s, b) = t
            .token(&[
                ("client_id", GRAPH_CLI_TOOLS),
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("device_code", flow["device_code"].as_str().unwrap()),
            ])
            .await;
        assert_eq!(s, want, "{b}");
        if !consent {
            assert_aad_error(&b, "invalid_grant", 65001);
        }
    }
    // Bad requests to the control endpoint are 400s naming the problem.
    for (body, needle) in [
        (
            json!({"granted": true, "client_id": "00000000-0000-0000-0000-000000000001"}),
            "no app",
        ),
        (
            json!({"granted": true, "resource": "https://nope.example"}),
            "no resource",
        ),
        (
            json!({"granted": true, "scope": "write_everything"}),
            "exposes no permission",
        ),
        (
            json!({"granted": true, "username": "nobody@contoso.example"}),
            "no user",
        ),
    ] {
        let r = t
            .http
            .post(format!("{}/consent", t.s("control_url")))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{body}");
        let e: Value = r.json().await.unwrap();
        assert!(e["error"].as_str().unwrap().contains(needle), "{e}");
    }
}

#[tokio::test]
async fn azobos_own_apps_are_consented_from_the_start_and_the_api_grant_is_revocable() {
    let t = DevTenant::start(&[]).await;
    assert_eq!(t.control_get("state").await["arm_consented"], true);
    // CLI → API and API → ARM (OBO) need no consent step.
    let api = t.api_tokens("alice").await;
    let (s, b) = t
        .obo(api["access_token"].as_str().unwrap(), ARM_SCOPE)
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    // The legacy form revokes the API's admin consent to ARM, and grants it again.
    t.control("consent", json!({"granted": false})).await;
    assert_eq!(t.control_get("state").await["arm_consented"], false);
    let (_, b) = t
        .obo(api["access_token"].as_str().unwrap(), ARM_SCOPE)
        .await;
    assert_aad_error(&b, "invalid_grant", 65001);
    t.control("consent", json!({"granted": true})).await;
    assert_eq!(t.control_get("state").await["arm_consented"], true);
    let (s, _) = t
        .obo(api["access_token"].as_str().unwrap(), ARM_SCOPE)
        .await;
    assert_eq!(s, StatusCode::OK);
    // Reset restores the seeded grants.
    t.control("consent", json!({"granted": false})).await;
    t.control("reset", json!({})).await;
    assert_eq!(t.control_get("state").await["arm_consented"], true);
}
