//! The dev tenant's Microsoft Graph subset: an OBO pair registered through it signs in and
//! exchanges at once, admin consent is an admin's, Graph's rules and error shape hold, and a
//! deleted app is gone for sign-in too.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{ARM_SCOPE, DevTenant, claims};

const GRAPH_CLI_TOOLS: &str = "14d82eec-204b-4c2f-b7e8-296a70dab67e";
const ARM_APP: &str = "797f4846-ba00-4fd7-ba43-dac1f8f63013";
const GRAPH_SCOPES: &str = "openid profile offline_access https://graph.microsoft.com/Application.ReadWrite.All https://graph.microsoft.com/DelegatedPermissionGrant.ReadWrite.All";

/// A Graph client for one user's token.
struct Graph<'a> {
    t: &'a DevTenant,
    token: String,
}

impl<'a> Graph<'a> {
    async fn as_user(t: &'a DevTenant, user: &str) -> Self {
        let body = t.sign_in_with(GRAPH_CLI_TOOLS, user, GRAPH_SCOPES).await;
        let token = body["access_token"].as_str().unwrap().to_owned();
        let c = claims(&token);
        assert_eq!(c["aud"], "00000003-0000-0000-c000-000000000000");
        assert!(
            c["scp"]
                .as_str()
                .unwrap()
                .contains("Application.ReadWrite.All")
        );
        Self { t, token }
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .t
            .http
            .request(method, format!("{}/v1.0/{path}", self.t.s("graph_url")))
            .bearer_auth(&self.token)
            .header("client-request-id", "test-corr-1");
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> Value {
        let (s, v) = self.call(reqwest::Method::GET, path, None).await;
        assert_eq!(s, StatusCode::OK, "GET {path}: {v}");
        v
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let (s, v) = self.call(reqwest::Method::POST, path, Some(body)).await;
        assert!(
            s == StatusCode::CREATED || s == StatusCode::OK,
            "POST {path}: {s} {v}"
        );
        v
    }

    async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::PATCH, path, Some(body)).await
    }
}

fn scope_def(id: &str, enabled: bool) -> Value {
    json!({"id": id, "value": "access_as_user", "type": "User", "isEnabled": enabled,
           "adminConsentDisplayName": "Access as the user", "adminConsentDescription": "Call the API as the signed-in user."})
}

fn assert_graph_error(v: &Value, code: &str) {
    assert_eq!(v["error"]["code"], code, "{v}");
    assert!(v["error"]["message"].is_string(), "{v}");
    assert!(v["error"]["innerError"]["request-id"].is_string(), "{v}");
    assert_eq!(v["error"]["innerError"]["client-request-id"], "test-corr-1");
}

#[tokio::test]
async fn an_obo_pair_registered_through_graph_signs_in_and_exchanges_at_once() {
    let t = DevTenant::start(&[]).await;
    let g = Graph::as_user(&t, "alice").await;
    let me = g.get("me").await;
    assert_eq!(me["userPrincipalName"], "alice@contoso.example");
    let org = g.get("organization").await;
    assert_eq!(org["value"][0]["id"], t.s("tenant_id"));

    let scope_id = uuid::Uuid::new_v4().to_string();
    let api = g
        .post(
            "applications",
            json!({"displayName": "t-api", "tags": ["azobo:t"],
                   "api": {"requestedAccessTokenVersion": 2, "oauth2PermissionScopes": [scope_def(&scope_id, true)]},
                   "requiredResourceAccess": [{"resourceAppId": ARM_APP, "resourceAccess": [{"id": "41094075-9dad-400e-a0bd-54e686782033", "type": "Scope"}]}]}),
        )
        .await;
    let (api_app, api_obj) = (api["appId"].as_str().unwrap(), api["id"].as_str().unwrap());
    let (s, v) = g
        .patch(
            &format!("applications/{api_obj}"),
            json!({"identifierUris": [format!("api://{api_app}")]}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    let secret = g
        .post(
            &format!("applications/{api_obj}/addPassword"),
            json!({"passwordCredential": {"displayName": "t"}}),
        )
        .await;
    let secret = secret["secretText"].as_str().unwrap().to_owned();
    let listed = g.get(&format!("applications/{api_obj}")).await;
    assert!(listed["passwordCredentials"][0]["keyId"].is_string());
    assert!(
        !listed.to_string().contains(&secret),
        "Graph never shows a secret again"
    );
    let api_sp = g.post("servicePrincipals", json!({"appId": api_app})).await;
    let cli = g
        .post(
            "applications",
            json!({"displayName": "t-cli", "tags": ["azobo:t"], "isFallbackPublicClient": true,
                   "publicClient": {"redirectUris": ["http://localhost"]}}),
        )
        .await;
    let cli_app = cli["appId"].as_str().unwrap();
    let cli_sp = g.post("servicePrincipals", json!({"appId": cli_app})).await;
    let (s, _) = g
        .patch(
            &format!("applications/{api_obj}"),
            json!({"api": {"knownClientApplications": [cli_app]}}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let found = g
        .get("applications?$filter=tags/any(t:t%20eq%20'azobo:t')")
        .await;
    assert_eq!(found["value"].as_array().unwrap().len(), 2, "{found}");
    assert_eq!(
        found["value"][0]["api"]["requestedAccessTokenVersion"], 2,
        "a nested PATCH keeps the rest of `api`"
    );

    // The new apps work for sign-in at once; OBO waits for admin consent to ARM.
    let user = t
        .sign_in_with(
            cli_app,
            "bob",
            &format!("openid profile offline_access api://{api_app}/access_as_user"),
        )
        .await;
    let assertion = user["access_token"].as_str().unwrap();
    assert_eq!(claims(assertion)["aud"], api_app);
    let obo = |secret: String, assertion: String| {
        let t = &t;
        let api_app = api_app.to_owned();
        async move {
            t.token(&[
                ("client_id", api_app.as_str()),
                ("client_secret", secret.as_str()),
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("requested_token_use", "on_behalf_of"),
                ("assertion", assertion.as_str()),
                ("scope", ARM_SCOPE),
            ])
            .await
        }
    };
    let (status, body) = obo(secret.clone(), assertion.to_owned()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error_codes"], json!([65001]), "{body}");

    let arm_sp = g
        .get(&format!(
            "servicePrincipals?$filter=appId%20eq%20'{ARM_APP}'"
        ))
        .await;
    let arm_sp = arm_sp["value"][0]["id"].as_str().unwrap().to_owned();
    g.post(
        "oauth2PermissionGrants",
        json!({"clientId": api_sp["id"], "consentType": "AllPrincipals", "resourceId": arm_sp, "scope": "user_impersonation"}),
    )
    .await;
    g.post(
        "oauth2PermissionGrants",
        json!({"clientId": cli_sp["id"], "consentType": "AllPrincipals", "resourceId": api_sp["id"], "scope": "access_as_user"}),
    )
    .await;
    let (status, body) = obo(secret.clone(), assertion.to_owned()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, page) = t
        .arm(&t.subscriptions_url(), body["access_token"].as_str())
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["count"]["value"], 250, "bob's subscriptions: {page}");
    let (status, body) = obo("not-the-secret-value-000".into(), assertion.to_owned()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");

    // An enabled scope cannot be removed; disabled first, it can.
    let (s, v) = g
        .patch(
            &format!("applications/{api_obj}"),
            json!({"api": {"oauth2PermissionScopes": []}}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_graph_error(&v, "Request_BadRequest");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("disabled first")
    );
    let (s, _) = g
        .patch(
            &format!("applications/{api_obj}"),
            json!({"api": {"oauth2PermissionScopes": [scope_def(&scope_id, false)]}}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = g
        .patch(
            &format!("applications/{api_obj}"),
            json!({"api": {"oauth2PermissionScopes": []}}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);

    // Deleting the CLI app takes its service principal and grants; it can no longer sign in.
    let (s, _) = g
        .call(
            reqwest::Method::DELETE,
            &format!("applications/{}", cli["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let sps = g
        .get(&format!(
            "servicePrincipals?$filter=appId%20eq%20'{cli_app}'"
        ))
        .await;
    assert_eq!(sps["value"], json!([]));
    let grants = g
        .get(&format!(
            "oauth2PermissionGrants?$filter=clientId%20eq%20'{}'",
            cli_sp["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(grants["value"], json!([]));
    let (status, body) = t
        .token(&[
            ("client_id", cli_app),
            ("grant_type", "refresh_token"),
            ("refresh_token", user["refresh_token"].as_str().unwrap()),
        ])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error_codes"], json!([700016]), "{body}");
}

#[tokio::test]
async fn a_user_without_a_directory_role_registers_apps_but_cannot_consent() {
    let t = DevTenant::start(&[]).await;
    let carol = Graph::as_user(&t, "carol").await;
    let app = carol
        .post("applications", json!({"displayName": "carols-api"}))
        .await;
    let sp = carol
        .post("servicePrincipals", json!({"appId": app["appId"]}))
        .await;
    let arm = carol
        .get(&format!(
            "servicePrincipals?$filter=appId%20eq%20'{ARM_APP}'"
        ))
        .await;
    let (s, v) = carol
        .call(
            reqwest::Method::POST,
            "oauth2PermissionGrants",
            Some(json!({"clientId": sp["id"], "consentType": "AllPrincipals", "resourceId": arm["value"][0]["id"], "scope": "user_impersonation"})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_graph_error(&v, "Authorization_RequestDenied");

    // Nor may she change an app she does not own.
    let alice = Graph::as_user(&t, "alice").await;
    let alices = alice
        .post("applications", json!({"displayName": "alices-api"}))
        .await;
    let (s, v) = carol
        .patch(
            &format!("applications/{}", alices["id"].as_str().unwrap()),
            json!({"displayName": "mine now"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
}

#[tokio::test]
async fn graph_wants_a_graph_token_and_well_formed_requests() {
    let t = DevTenant::start(&[]).await;
    let graph = t.s("graph_url");
    let r = t
        .http
        .get(format!("{graph}/v1.0/applications"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "InvalidAuthenticationToken");

    // A token for the API is not a Graph token.
    let api = t.api_tokens("alice").await;
    let r = t
        .http
        .get(format!("{graph}/v1.0/me"))
        .bearer_auth(api["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let g = Graph::as_user(&t, "alice").await;
    for (body, why) in [
        (json!({"tags": ["x"]}), "no displayName"),
        (
            json!({"displayName": "x", "owner": "me"}),
            "unknown property",
        ),
        (
            json!({"displayName": "x", "identifierUris": ["https://evil.example"]}),
            "not api://",
        ),
        (
            json!({"displayName": "x", "api": {"requestedAccessTokenVersion": 3}}),
            "bad version",
        ),
    ] {
        let (s, v) = g
            .call(reqwest::Method::POST, "applications", Some(body))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{why}: {v}");
        assert_graph_error(&v, "Request_BadRequest");
    }
    let (s, v) = g
        .call(
            reqwest::Method::GET,
            "applications?$filter=startswith(displayName,'x')",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_graph_error(&v, "Request_UnsupportedQuery");
    let (s, v) = g
        .call(
            reqwest::Method::GET,
            "applications/00000000-0000-0000-0000-000000000000",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_graph_error(&v, "Request_ResourceNotFound");
    // Microsoft's own apps are service principals here, not applications.
    let all = g.get("applications").await;
    assert!(
        all["value"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["appId"] != GRAPH_CLI_TOOLS)
    );
}
