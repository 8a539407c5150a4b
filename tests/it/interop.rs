//! What Microsoft's own clients ask of Entra and ARM besides tokens: instance discovery, ARM's
//! `/tenants` and `/metadata/endpoints`, `api-version` checks, Entra's v1 issuer, and the
//! first-party public clients (Azure CLI, Microsoft Graph Command Line Tools).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{ARM_SCOPE, DevTenant, assert_aad_error, claims};

const AZURE_CLI: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const GRAPH_CLI_TOOLS: &str = "14d82eec-204b-4c2f-b7e8-296a70dab67e";

async fn get(t: &DevTenant, url: &str) -> (StatusCode, Value) {
    let r = t.http.get(url).send().await.unwrap();
    let s = r.status();
    (s, r.json().await.unwrap())
}

fn netloc(t: &DevTenant) -> String {
    t.base().split("://").nth(1).unwrap().to_owned()
}

#[tokio::test]
async fn instance_discovery_vouches_for_this_host_and_names_the_tenant_metadata() {
    let t = DevTenant::start(&["--tls"]).await;
    let host = netloc(&t);
    let tid = t.s("tenant_id");
    for (prefix, endpoint, metadata) in [
        (
            "common",
            format!("https://{host}/{tid}/oauth2/v2.0/authorize"),
            format!("{}/{tid}/v2.0/.well-known/openid-configuration", t.base()),
        ),
        (
            "common",
            format!("https://{host}/organizations/oauth2/authorize"),
            format!(
                "{}/organizations/.well-known/openid-configuration",
                t.base()
            ),
        ),
        (
            tid.as_str(),
            format!("https://{host}/contoso.example/oauth2/v2.0/authorize"),
            format!(
                "{}/contoso.example/v2.0/.well-known/openid-configuration",
                t.base()
            ),
        ),
    ] {
        let mut url =
            url::Url::parse(&format!("{}/{prefix}/discovery/instance", t.base())).unwrap();
        url.query_pairs_mut()
            .append_pair("api-version", "1.1")
            .append_pair("authorization_endpoint", &endpoint);
        let (s, b) = get(&t, url.as_str()).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["tenant_discovery_endpoint"], metadata, "{b}");
        assert_eq!(b["api-version"], "1.1");
        let bare = host.split(':').next().unwrap();
        assert_eq!(
            b["metadata"],
            json!([{"preferred_network": host, "preferred_cache": host, "aliases": [host, bare]}])
        );
        // The document it names is served.
        let (s, m) = get(&t, b["tenant_discovery_endpoint"].as_str().unwrap()).await;
        assert_eq!(s, StatusCode::OK, "{m}");
    }
    // MSAL for Python drops the port from the endpoint it asks about: the bare host is an alias.
    let mut url = url::Url::parse(&format!("{}/common/discovery/instance", t.base())).unwrap();
    url.query_pairs_mut()
        .append_pair("api-version", "1.0")
        .append_pair(
            "authorization_endpoint",
            &format!(
                "https://{}/{tid}/oauth2/v2.0/authorize",
                host.split(':').next().unwrap()
            ),
        );
    let (s, b) = get(&t, url.as_str()).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        b["tenant_discovery_endpoint"],
        format!("{}/{tid}/v2.0/.well-known/openid-configuration", t.base())
    );
    // Another host, or this host on another port, is not an instance of this cloud: AADSTS50049.
    let mut url = url::Url::parse(&format!("{}/common/discovery/instance", t.base())).unwrap();
    url.query_pairs_mut()
        .append_pair("api-version", "1.1")
        .append_pair(
            "authorization_endpoint",
            &format!(
                "https://{}:1/common/oauth2/v2.0/authorize",
                host.split(':').next().unwrap()
            ),
        );
    let (s, b) = get(&t, url.as_str()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    assert_aad_error(&b, "invalid_instance", 50049);
    let mut url = url::Url::parse(&format!("{}/common/discovery/instance", t.base())).unwrap();
    url.query_pairs_mut()
        .append_pair("api-version", "1.1")
        .append_pair(
            "authorization_endpoint",
            "https://login.evil.example/common/oauth2/v2.0/authorize",
        );
    let (s, b) = get(&t, url.as_str()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_aad_error(&b, "invalid_instance", 50049);
    let (s, b) = get(
        &t,
        &format!("{}/common/discovery/instance?api-version=1.1", t.base()),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_aad_error(&b, "invalid_request", 900144);
}

#[tokio::test]
async fn arm_metadata_endpoints_as_az_cloud_register_reads_them() {
    let t = DevTenant::start(&["--tls"]).await;
    let arm = t.s("arm_url");
    let (s, c) = get(
        &t,
        &format!("{arm}/metadata/endpoints?api-version=2022-09-01"),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["authentication"]["loginEndpoint"], t.base());
    assert_eq!(
        c["authentication"]["audiences"],
        json!([
            "https://management.core.windows.net/",
            "https://management.azure.com/"
        ])
    );
    assert_eq!(c["resourceManager"], format!("{arm}/"));
    assert_eq!(
        c["microsoftGraphResourceId"],
        "https://graph.microsoft.com/"
    );
    assert_eq!(c["name"], "AzoboDevTenant");
    for k in [
        "portal",
        "graph",
        "graphAudience",
        "batch",
        "sqlManagement",
        "media",
        "activeDirectoryDataLake",
        "vmImageAliasDoc",
    ] {
        assert!(c[k].is_string(), "{k}: {c}");
    }
    assert_eq!(c["suffixes"]["keyVaultDns"], "vault.azure.net");
    // The list of clouds (2019-05-01) holds the same cloud; 2015-01-01 the older object.
    let (s, list) = get(
        &t,
        &format!("{arm}/metadata/endpoints?api-version=2019-05-01"),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list, json!([c]));
    let (s, old) = get(
        &t,
        &format!("{arm}/metadata/endpoints?api-version=2015-01-01"),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        old["authentication"]["loginEndpoint"],
        format!("{}/", t.base())
    );
    assert!(old["graphEndpoint"].is_string());
    let (s, b) = get(
        &t,
        &format!("{arm}/metadata/endpoints?api-version=1999-01-01"),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(b["error"]["code"], "InvalidApiVersionParameter");
}

#[tokio::test]
async fn arm_tenants_lists_the_home_tenant_in_arms_shape() {
    let t = DevTenant::start(&[]).await;
    let token = t.arm_token("bob").await;
    let tid = t.s("tenant_id");
    let (s, h, b) = t
        .arm(
            &format!("{}/tenants?api-version=2022-12-01", t.s("arm_url")),
            Some(&token),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert!(h.contains_key("x-ms-request-id"));
    let only = &b["value"][0];
    assert_eq!(b["value"].as_array().unwrap().len(), 1, "{b}");
    assert_eq!(only["id"], format!("/tenants/{tid}"));
    assert_eq!(only["tenantId"], tid);
    assert_eq!(only["tenantCategory"], "Home");
    assert_eq!(only["defaultDomain"], "contoso.example");
    assert_eq!(only["domains"], json!(["contoso.example"]));
    assert!(
        only["displayName"]
            .as_str()
            .unwrap()
            .contains("contoso.example")
    );
    // ARM's checks hold here too.
    let (s, _, b) = t
        .arm(
            &format!("{}/tenants?api-version=2022-12-01", t.s("arm_url")),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(b["error"]["code"], "AuthenticationFailed");
    let (s, _, b) = t
        .arm(
            &format!("{}/tenants?api-version=1999-01-01", t.s("arm_url")),
            Some(&token),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(b["error"]["code"], "InvalidApiVersionParameter");
}

#[tokio::test]
async fn arm_refuses_api_versions_it_does_not_know_and_accepts_the_ones_clients_send() {
    let t = DevTenant::start(&[]).await;
    let token = t.arm_token("bob").await;
    let arm = t.s("arm_url");
    for bad in [
        "1999-01-01",
        "2022-12-02",
        "2022-12-01-preview",
        "latest",
        "",
    ] {
        let (s, _, b) = t
            .arm(
                &format!("{arm}/subscriptions?api-version={bad}"),
                Some(&token),
            )
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(b["error"]["code"], "InvalidApiVersionParameter", "{bad}");
        let msg = b["error"]["message"].as_str().unwrap();
        assert!(
            msg.starts_with(&format!(
                "The api-version '{bad}' is invalid. The supported versions are '"
            )) && msg.contains(",2022-12-01,")
                && msg.contains(",2016-06-01,"),
            "{msg}"
        );
    }
    // serve-api and az (2022-12-01), azure-mgmt-subscription (2016-06-01), the REST docs
    // (2020-01-01, 2021-01-01), and a preview.
    for good in [
        "2022-12-01",
        "2016-06-01",
        "2020-01-01",
        "2021-01-01",
        "2022-03-01-preview",
    ] {
        let (s, _, b) = t
            .arm(
                &format!("{arm}/subscriptions?api-version={good}"),
                Some(&token),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{good}: {b}");
        if let Some(next) = b["nextLink"].as_str() {
            assert!(next.contains(&format!("api-version={good}")), "{next}");
        }
    }
}

#[tokio::test]
async fn v1_tokens_and_v1_metadata_carry_entras_v1_issuer_and_v2_is_unchanged() {
    let t = DevTenant::start(&[]).await;
    let tid = t.s("tenant_id");
    let (_, v1) = get(
        &t,
        &format!("{}/{tid}/.well-known/openid-configuration", t.base()),
    )
    .await;
    assert_eq!(v1["issuer"], format!("https://sts.windows.net/{tid}/"));
    let (_, common) = get(
        &t,
        &format!("{}/common/.well-known/openid-configuration", t.base()),
    )
    .await;
    assert_eq!(common["issuer"], "https://sts.windows.net/{tenantid}/");
    let (_, v2) = get(
        &t,
        &format!("{}/{tid}/v2.0/.well-known/openid-configuration", t.base()),
    )
    .await;
    assert_eq!(v2["issuer"], format!("{}/{tid}/v2.0", t.base()));
    // ARM tokens are v1; the API's are v2.
    let api = t.api_tokens("alice").await;
    let at = claims(api["access_token"].as_str().unwrap());
    assert_eq!(at["iss"], format!("{}/{tid}/v2.0", t.base()));
    let (s, arm) = t
        .obo(api["access_token"].as_str().unwrap(), ARM_SCOPE)
        .await;
    assert_eq!(s, StatusCode::OK, "{arm}");
    let c = claims(arm["access_token"].as_str().unwrap());
    assert_eq!(c["iss"], format!("https://sts.windows.net/{tid}/"));
    assert_eq!(c["ver"], "1.0");
    // …and ARM accepts them.
    let (s, _, _) = t
        .arm(&t.subscriptions_url(), arm["access_token"].as_str())
        .await;
    assert_eq!(s, StatusCode::OK);
    // A v1 API token (as an API with accessTokenAcceptedVersion 1 gets) is good for OBO.
    let t1 = DevTenant::start(&["--api-token-version", "1"]).await;
    let api = t1.api_tokens("alice").await;
    let at = claims(api["access_token"].as_str().unwrap());
    assert_eq!(at["iss"], format!("https://sts.windows.net/{tid}/"));
    let (s, b) = t1
        .obo(api["access_token"].as_str().unwrap(), ARM_SCOPE)
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
}

/// A device-code sign-in with `client_id`, approved through the control endpoint.
async fn device_sign_in(
    t: &DevTenant,
    client_id: &str,
    scope: &str,
    user: &str,
) -> (StatusCode, Value) {
    let r = t
        .http
        .post(format!("{}/organizations/oauth2/v2.0/devicecode", t.base()))
        .form(&[("client_id", client_id), ("scope", scope)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let flow: Value = r.json().await.unwrap();
    t.control(
        "device/approve",
        json!({"user_code": flow["user_code"], "username": t.user(user)}),
    )
    .await;
    let r = t
        .http
        .post(format!("{}/organizations/oauth2/v2.0/token", t.base()))
        .form(&[
            ("client_id", client_id),
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", flow["device_code"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    let s = r.status();
    (s, r.json().await.unwrap())
}

#[tokio::test]
async fn the_azure_cli_and_graph_command_line_tools_are_built_in_public_clients() {
    let t = DevTenant::start(&[]).await;
    // The Azure CLI as `az login --use-device-code` signs in: ARM, preauthorized.
    let (s, b) = device_sign_in(
        &t,
        AZURE_CLI,
        "https://management.core.windows.net//.default offline_access openid profile",
        "bob",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let c = claims(b["access_token"].as_str().unwrap());
    assert_eq!(c["appid"], AZURE_CLI);
    assert_eq!(c["scp"], "user_impersonation");
    assert_eq!(c["aud"], "https://management.core.windows.net");
    let (s, _, page) = t
        .arm(&t.subscriptions_url(), b["access_token"].as_str())
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(page["count"]["value"], 250);
    // Its refresh token serves Graph too (preauthorized as in every tenant).
    let (s, g) = t
        .token(&[
            ("client_id", AZURE_CLI),
            ("grant_type", "refresh_token"),
            ("refresh_token", b["refresh_token"].as_str().unwrap()),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .await;
    assert_eq!(s, StatusCode::OK, "{g}");
    assert!(
        claims(g["access_token"].as_str().unwrap())["scp"]
            .as_str()
            .unwrap()
            .contains("Application.ReadWrite.All")
    );
    // Graph Command Line Tools: Graph scopes by auth code with a loopback redirect, no consent.
    let b = t
        .sign_in_with(
            GRAPH_CLI_TOOLS,
            "alice",
            "openid offline_access https://graph.microsoft.com/Application.ReadWrite.All",
        )
        .await;
    assert_eq!(
        claims(b["access_token"].as_str().unwrap())["azp"],
        json!(null)
    );
    assert_eq!(
        claims(b["access_token"].as_str().unwrap())["appid"],
        GRAPH_CLI_TOOLS
    );
    // Neither holds a secret: a confidential grant is refused as for any public client.
    let (s, b) = t
        .token(&[
            ("client_id", AZURE_CLI),
            ("grant_type", "client_credentials"),
            ("scope", "https://management.azure.com/.default"),
        ])
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_aad_error(&b, "invalid_client", 7000218);
    // Graph Command Line Tools is not preauthorized for ARM: a grant without interaction says so.
    let (s, b) = device_sign_in(&t, GRAPH_CLI_TOOLS, ARM_SCOPE, "bob").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    assert_aad_error(&b, "invalid_grant", 65001);
    assert_eq!(b["suberror"], "consent_required");
}
