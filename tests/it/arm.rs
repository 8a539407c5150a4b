//! ARM `GET /subscriptions`: bearer checks, paging, throttling.

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::json;

use crate::support::DevTenant;

#[tokio::test]
async fn every_page_of_250_subscriptions_with_next_link() {
    let t = DevTenant::start(&[]).await;
    let token = t.arm_token("bob").await;
    let mut url = t.subscriptions_url();
    let mut ids = HashSet::new();
    let mut pages = 0;
    loop {
        let (s, h, b) = t.arm(&url, Some(&token)).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert!(h.contains_key("x-ms-request-id"));
        assert_eq!(b["count"], json!({"type": "Total", "value": 250}));
        pages += 1;
        for sub in b["value"].as_array().unwrap() {
            assert_eq!(
                sub["id"],
                format!("/subscriptions/{}", sub["subscriptionId"].as_str().unwrap())
            );
            for k in [
                "authorizationSource",
                "managedByTenants",
                "tenantId",
                "displayName",
                "state",
                "subscriptionPolicies",
            ] {
                assert!(!sub[k].is_null(), "{k}");
            }
            assert!(
                ids.insert(sub["subscriptionId"].as_str().unwrap().to_owned()),
                "no duplicates across pages"
            );
        }
        match b["nextLink"].as_str() {
            Some(next) => {
                assert!(
                    next.starts_with(&t.s("arm_url")) && next.contains("%24skiptoken=")
                        || next.contains("$skiptoken="),
                    "{next}"
                );
                url = next.to_owned();
            }
            None => break,
        }
    }
    assert_eq!((pages, ids.len()), (3, 250));
}

#[tokio::test]
async fn page_size_knob_and_empty_list() {
    let t = DevTenant::start(&["--page-size", "2"]).await;
    let token = t.arm_token("alice").await;
    let (_, _, b) = t.arm(&t.subscriptions_url(), Some(&token)).await;
    assert_eq!(b["value"].as_array().unwrap().len(), 2);
    assert!(b["nextLink"].is_string());
    t.control("page-size", json!({"size": 10})).await;
    let (_, _, b) = t.arm(&t.subscriptions_url(), Some(&token)).await;
    assert_eq!(b["value"].as_array().unwrap().len(), 4);
    assert!(b.get("nextLink").is_none());
    let carol = t.arm_token("carol").await;
    let (s, _, b) = t.arm(&t.subscriptions_url(), Some(&carol)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["value"], json!([]));
}

#[tokio::test]
async fn arm_refuses_missing_garbage_and_misdirected_tokens() {
    let t = DevTenant::start(&[]).await;
    let (s, h, b) = t.arm(&t.subscriptions_url(), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(b["error"]["code"], "AuthenticationFailed");
    assert!(
        h["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer ")
    );
    let (_, _, b) = t.arm(&t.subscriptions_url(), Some("garbage")).await;
    assert_eq!(b["error"]["code"], "InvalidAuthenticationToken");
    let api = t.api_tokens("alice").await;
    let (s, _, b) = t
        .arm(
            &t.subscriptions_url(),
            Some(api["access_token"].as_str().unwrap()),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(b["error"]["code"], "InvalidAuthenticationTokenAudience");
    let token = t.arm_token("alice").await;
    let (s, _, b) = t
        .arm(&format!("{}/subscriptions", t.s("arm_url")), Some(&token))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(b["error"]["code"], "MissingApiVersionParameter");
    let (s, _, b) = t
        .arm(
            &format!("{}&$skiptoken=bogus", t.subscriptions_url()),
            Some(&token),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(b["error"]["code"], "InvalidSkipToken");
}

#[tokio::test]
async fn expired_arm_token_is_expired_authentication_token() {
    let t = DevTenant::start(&["--token-lifetime", "1"]).await;
    let token = t.arm_token("alice").await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let (s, _, b) = t.arm(&t.subscriptions_url(), Some(&token)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(b["error"]["code"], "ExpiredAuthenticationToken");
}

#[tokio::test]
async fn injected_throttling_and_outages_then_recovery() {
    let t = DevTenant::start(&[]).await;
    let token = t.arm_token("alice").await;
    t.control(
        "faults",
        json!({"target": "arm", "status": 429, "count": 2, "retry_after": 3}),
    )
    .await;
    t.control("faults", json!({"target": "arm", "status": 503}))
        .await;
    for _ in 0..2 {
        let (s, h, b) = t.arm(&t.subscriptions_url(), Some(&token)).await;
        assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(h["retry-after"], "3");
        assert_eq!(b["error"]["code"], "TooManyRequests");
    }
    let (s, _, b) = t.arm(&t.subscriptions_url(), Some(&token)).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(b["error"]["code"], "ServiceUnavailable");
    let (s, _, _) = t.arm(&t.subscriptions_url(), Some(&token)).await;
    assert_eq!(s, StatusCode::OK);
}
