//! `/authorize`: validation order, error redirects, the sign-in page and auto-approve.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{DevTenant, REDIRECT};

#[tokio::test]
async fn auto_approve_redirects_with_code_state_and_client_info() {
    let t = DevTenant::start(&["--auto-approve", "alice@contoso.example"]).await;
    let (url, _) = t.authorize_url(&t.api_scope(), &[("client_info", "1")]);
    let q = t.follow(&url).await;
    assert!(q["code"].len() > 60);
    assert_eq!(q["state"], "st-123");
    assert!(q.contains_key("session_state"));
    assert!(q.contains_key("client_info"));
}

#[tokio::test]
async fn loopback_redirect_matches_any_port_but_not_another_path() {
    let t = DevTenant::start(&["--auto-approve", "alice@contoso.example"]).await;
    let (url, _) = t.authorize_url(&t.api_scope(), &[]);
    for (redirect, ok) in [
        ("http://localhost:1/", true),
        ("http://localhost:65000", true),
        ("http://localhost:8080/cb", false),
        ("http://127.0.0.1:8080/", false),
        ("https://evil.example/", false),
    ] {
        let u = url.replace(&urlencode(REDIRECT), &urlencode(redirect));
        let r = t.http.get(&u).send().await.unwrap();
        if ok {
            assert_eq!(r.status(), StatusCode::FOUND, "{redirect}");
        } else {
            // Never redirected: an error page, AADSTS50011.
            assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{redirect}");
            assert!(r.headers().get("location").is_none());
            assert!(r.text().await.unwrap().contains("AADSTS50011"));
        }
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn unknown_client_gets_an_error_page_not_a_redirect() {
    let t = DevTenant::start(&["--auto-approve", "alice@contoso.example"]).await;
    let (url, _) = t.authorize_url(&t.api_scope(), &[]);
    let url = url.replace(&t.cli_id(), "00000000-0000-0000-0000-000000000001");
    let r = t.http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("AADSTS700016"));
}

#[tokio::test]
async fn public_client_without_pkce_or_with_plain_pkce_is_sent_back_an_error() {
    let t = DevTenant::start(&["--auto-approve", "alice@contoso.example"]).await;
    let (url, _) = t.authorize_url(&t.api_scope(), &[]);
    let mut u = url::Url::parse(&url).unwrap();
    let pairs: Vec<(String, String)> = u
        .query_pairs()
        .into_owned()
        .filter(|(k, _)| !k.starts_with("code_challenge"))
        .collect();
    u.query_pairs_mut().clear().extend_pairs(&pairs);
    let q = t.follow(u.as_str()).await;
    assert_eq!(q["error"], "invalid_request");
    assert!(q["error_description"].starts_with("AADSTS9002325"), "{q:?}");
    assert_eq!(q["state"], "st-123");

    let plain = url.replace("code_challenge_method=S256", "code_challenge_method=plain");
    let q = t.follow(&plain).await;
    assert_eq!(q["error"], "invalid_request");
}

#[tokio::test]
async fn wrong_response_type_and_unknown_scope_are_redirected_errors() {
    let t = DevTenant::start(&["--auto-approve", "alice@contoso.example"]).await;
    let (url, _) = t.authorize_url(&t.api_scope(), &[]);
    let q = t
        .follow(&url.replace("response_type=code", "response_type=token"))
        .await;
    assert_eq!(q["error"], "unsupported_response_type");
    let (url, _) = t.authorize_url(&format!("api://{}/write_everything", t.api_id()), &[]);
    let q = t.follow(&url).await;
    assert_eq!(q["error"], "invalid_scope");
}

#[tokio::test]
async fn deny_next_sign_in_fails_once_with_the_requested_error() {
    let t = DevTenant::start(&["--auto-approve", "alice@contoso.example"]).await;
    for error in ["access_denied", "consent_required", "interaction_required"] {
        t.control("deny-next-sign-in", json!({"error": error}))
            .await;
        let (url, _) = t.authorize_url(&t.api_scope(), &[]);
        let q = t.follow(&url).await;
        assert_eq!(q["error"], error);
        assert!(q["error_description"].starts_with("AADSTS"));
        let (url, _) = t.authorize_url(&t.api_scope(), &[]);
        assert!(
            t.follow(&url).await.contains_key("code"),
            "only the next sign-in fails"
        );
    }
}

#[tokio::test]
async fn sign_in_page_lists_users_and_posting_a_choice_signs_that_user_in() {
    let t = DevTenant::start(&[]).await;
    let (url, verifier) = t.authorize_url(&t.api_scope(), &[("login_hint", "bob@contoso.example")]);
    let r = t.http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    for u in ["alice", "bob", "carol", "dave"] {
        assert!(html.contains(&format!("{u}@contoso.example")), "{u}");
    }
    let query: Vec<(String, String)> = url::Url::parse(&url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    let mut form = query.clone();
    form.push(("username".into(), "bob@contoso.example".into()));
    let r = t
        .http
        .post(url.split('?').next().unwrap())
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    let loc = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    let code = loc
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let (status, body) = t
        .token(&[
            ("client_id", &t.cli_id()),
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
            ("scope", &format!("openid {}", t.api_scope())),
        ])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        crate::support::claims(body["id_token"].as_str().unwrap())["preferred_username"],
        "bob@contoso.example"
    );

    let mut cancel = query;
    cancel.push(("action".into(), "cancel".into()));
    let r = t
        .http
        .post(url.split('?').next().unwrap())
        .form(&cancel)
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .contains("error=access_denied")
    );
}
