//! OIDC metadata and JWKS, and what `azobo dev-tenant` announces.

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{DevTenant, assert_aad_error, azobo, home};

#[tokio::test]
async fn dev_tenant_announces_every_key_on_one_line() {
    let t = DevTenant::start(&["--tls"]).await;
    for key in [
        "tenant_id",
        "authority",
        "arm_url",
        "cli_client_id",
        "api_client_id",
        "api_client_secret",
        "api_scope",
        "users",
        "ca_file",
        "control_url",
    ] {
        assert!(!t.info[key].is_null(), "missing {key}");
    }
    let base = t.base();
    assert!(base.starts_with("https://127.0.0.1:"), "{base}");
    assert_eq!(t.authority(), format!("{base}/{}", t.s("tenant_id")));
    assert_eq!(
        t.api_scope(),
        format!("api://{}/access_as_user", t.api_id())
    );
    let users = t.info["users"].as_array().unwrap();
    assert!(
        users
            .iter()
            .all(|u| u["username"].is_string() && u["oid"].is_string())
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        for f in ["ca_file", "api_client_key"] {
            let mode = std::fs::metadata(t.s(f)).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{f}");
        }
    }
}

#[tokio::test]
async fn sigterm_stops_gracefully_and_removes_the_runtime_dir() {
    let t = DevTenant::start(&["--tls"]).await;
    let dir = std::path::PathBuf::from(t.s("ca_file"))
        .parent()
        .unwrap()
        .to_path_buf();
    assert!(dir.exists());
    let status = t.terminate().await;
    assert_eq!(status.code(), Some(0));
    assert!(!dir.exists(), "temporary CA and keys are removed on exit");
}

#[test]
fn dev_tenant_refuses_a_non_loopback_listen_address() {
    let h = home();
    let out = azobo(h.path())
        .args(["dev-tenant", "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a loopback address"), "{err}");
}

#[tokio::test]
async fn metadata_v2_for_guid_domain_organizations_and_common() {
    let t = DevTenant::start(&[]).await;
    let tid = t.s("tenant_id");
    for (segment, issuer_tid) in [
        (tid.as_str(), tid.as_str()),
        ("contoso.example", tid.as_str()),
        ("organizations", "{tenantid}"),
        ("common", "{tenantid}"),
    ] {
        let r = t
            .http
            .get(format!(
                "{}/{segment}/v2.0/.well-known/openid-configuration",
                t.base()
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let m: Value = r.json().await.unwrap();
        assert_eq!(m["issuer"], format!("{}/{issuer_tid}/v2.0", t.base()));
        assert_eq!(
            m["token_endpoint"],
            format!("{}/{segment}/oauth2/v2.0/token", t.base())
        );
        assert_eq!(
            m["authorization_endpoint"],
            format!("{}/{segment}/oauth2/v2.0/authorize", t.base())
        );
        assert_eq!(
            m["device_authorization_endpoint"],
            format!("{}/{segment}/oauth2/v2.0/devicecode", t.base())
        );
        assert_eq!(
            m["jwks_uri"],
            format!("{}/{segment}/discovery/v2.0/keys", t.base())
        );
        assert_eq!(
            m["id_token_signing_alg_values_supported"],
            serde_json::json!(["RS256"])
        );
    }
    let v1: Value = t
        .http
        .get(format!(
            "{}/{tid}/.well-known/openid-configuration",
            t.base()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v1["issuer"], format!("https://sts.windows.net/{tid}/"));
}

#[tokio::test]
async fn unknown_tenant_gets_aadsts90002() {
    let t = DevTenant::start(&[]).await;
    let r = t
        .http
        .get(format!(
            "{}/fabrikam.example/v2.0/.well-known/openid-configuration",
            t.base()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_aad_error(&r.json().await.unwrap(), "invalid_tenant", 90002);
}

#[tokio::test]
async fn jwks_has_two_rs256_keys_named_by_thumbprint() {
    let t = DevTenant::start(&[]).await;
    let jwks: Value = t.jwks().await;
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    for k in keys {
        assert_eq!(k["kty"], "RSA");
        assert_eq!(k["use"], "sig");
        assert_eq!(k["kid"], k["x5t"]);
        assert_eq!(k["e"], "AQAB");
        assert!(k["n"].as_str().unwrap().len() > 300, "2048-bit modulus");
        assert_eq!(k["x5c"].as_array().unwrap().len(), 1);
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(k.clone()).unwrap();
        jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
    }
    assert_ne!(keys[0]["kid"], keys[1]["kid"]);
}

#[tokio::test]
async fn unknown_path_is_a_json_404_and_wrong_method_a_405() {
    let t = DevTenant::start(&[]).await;
    let r = t
        .http
        .get(format!("{}/nope", t.base()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "not_found");
    // (GET on the token endpoint is Entra's AADSTS900561: tests/it/dev_tenant_hardening.rs.)
    let r = t.http.delete(t.token_url()).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn state_file_seeds_ids_secret_users_and_subscriptions() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("tenant.json");
    std::fs::write(
        &state,
        serde_json::json!({
            "tenant_id": "11111111-2222-3333-4444-555555555555",
            "domain": "fabrikam.example",
            "api_client_secret": "a-fixed-secret-for-tests-0123456789",
            "users": [
                {"username": "erin@fabrikam.example", "name": "Erin", "subscriptions": [
                    {"display_name": "Fabrikam Prod", "state": "PastDue", "subscription_id": "99999999-8888-7777-6666-555555555555"}
                ]},
                {"username": "frank@fabrikam.example", "subscriptions": 3, "mfa_required": true}
            ]
        })
        .to_string(),
    )
    .unwrap();
    let t = DevTenant::start(&["--state", state.to_str().unwrap()]).await;
    assert_eq!(t.s("tenant_id"), "11111111-2222-3333-4444-555555555555");
    assert_eq!(t.api_secret(), "a-fixed-secret-for-tests-0123456789");
    assert_eq!(t.info["users"][1]["subscriptions"], 3);
    assert_eq!(t.info["users"][1]["mfa_required"], true);
    let body = t
        .sign_in_as(
            "erin@fabrikam.example",
            &format!("openid offline_access {}", t.api_scope()),
        )
        .await;
    let (s, b) = t
        .obo(
            body["access_token"].as_str().unwrap(),
            crate::support::ARM_SCOPE,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (_, _, subs) = t
        .arm(&t.subscriptions_url(), b["access_token"].as_str())
        .await;
    assert_eq!(
        subs["value"][0]["subscriptionId"],
        "99999999-8888-7777-6666-555555555555"
    );
    assert_eq!(subs["value"][0]["state"], "PastDue");
    assert_eq!(
        subs["value"][0]["tenantId"],
        "11111111-2222-3333-4444-555555555555"
    );
}

#[test]
fn a_broken_state_file_exits_2_naming_the_file() {
    let h = home();
    let state = h.path().join("bad.json");
    std::fs::write(
        &state,
        "{\n  \"users\": [\n    {\"username\": \"no-at-sign\"}\n  ]\n}",
    )
    .unwrap();
    let out = azobo(h.path())
        .args(["dev-tenant", "--state", state.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.json") && err.contains("no-at-sign"),
        "{err}"
    );
}
