//! What `azobo setup` registers, found by a marker and converged step by step, so a second run
//! writes nothing and a half-finished run resumes where it stopped:
//! - the API app (`azobo:PREFIX:api`): App ID URI `api://{appId}`, an enabled `access_as_user`
//!   scope, v2 access tokens, ARM's `user_impersonation` as a required permission, the CLI app
//!   as a known client, a client secret;
//! - the CLI app (`azobo:PREFIX:cli`): a public client with the `http://localhost` redirect,
//!   requiring the API's `access_as_user`;
//! - both service principals, and admin consent: API → ARM `user_impersonation`, CLI → API
//!   `access_as_user`, when the signed-in user may grant it.

use reqwest::Method;
use serde::Serialize;
use serde_json::{Value, json};

use super::{Graph, is_denied};
use crate::error::{Error, Result};
use crate::well_known::{API_SCOPE_NAME, ARM_APP_ID, ARM_USER_IMPERSONATION_ID};

/// The display name of the secret setup adds, so a later run recognises it.
const SECRET_NAME: &str = "azobo setup";

/// What to register.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The marker prefix and display-name prefix (`azobo`).
    pub prefix: String,
    /// Years the client secret is valid (1 or 2).
    pub secret_years: u8,
    /// The first characters of the secret in the file an earlier run wrote (Graph's `hint`):
    /// that secret is kept while Graph lists it, unexpired, on the API app.
    pub secret_hint: Option<String>,
    /// A certificate (DER) to register instead of a client secret.
    pub certificate: Option<Vec<u8>>,
}

/// An app setup manages.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppRef {
    /// Display name.
    pub display_name: String,
    /// Application (client) id.
    pub app_id: String,
    /// Object id.
    pub object_id: String,
    /// Service principal object id.
    pub service_principal_id: String,
}

/// Where admin consent stands.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Consent {
    /// Both grants are in place.
    pub granted: bool,
    /// Where an administrator grants what is missing.
    pub admin_consent_urls: Vec<String>,
}

/// The outcome of a registration.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Registered {
    /// The tenant's GUID.
    pub tenant_id: String,
    /// The API app.
    pub api: AppRef,
    /// The CLI app.
    pub cli: AppRef,
    /// `api://{api appId}/access_as_user`.
    pub api_scope: String,
    /// Admin consent.
    pub consent: Consent,
    /// A new client secret, to be written to the secret file (never shown).
    #[serde(skip)]
    pub new_secret: Option<String>,
    /// What this run changed, for people; empty when everything was in place.
    pub changes: Vec<String>,
}

fn marker(prefix: &str, role: &str) -> String {
    format!("azobo:{prefix}:{role}")
}

fn quoted(s: &str) -> String {
    s.replace('\'', "''")
}

/// Every app carrying `tag` (Graph objects only).
async fn apps_tagged(g: &Graph, tag: &str) -> Result<Vec<Value>> {
    Ok(g.list(&format!(
        "applications?$filter=tags/any(t:t eq '{}')",
        quoted(tag)
    ))
    .await?
    .into_iter()
    .filter(Value::is_object)
    .collect())
}

async fn find_app(g: &Graph, tag: &str) -> Result<Option<Value>> {
    let mut found = apps_tagged(g, tag).await?;
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop()),
        n => Err(Error::failure(format!(
            "{n} applications carry the marker `{tag}`; delete all but one (or run `azobo setup --cleanup`) and run setup again"
        ))),
    }
}

/// A dry run's stand-in for an id Graph would have assigned.
fn is_placeholder(id: &str) -> bool {
    id.starts_with('<')
}

fn s(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_owned()
}

/// Finds the app by its marker or creates it from `body`.
async fn app(
    g: &Graph,
    tag: &str,
    body: Value,
    role: &str,
    changes: &mut Vec<String>,
) -> Result<Value> {
    if let Some(found) = find_app(g, tag).await? {
        return Ok(found);
    }
    let mut placeholder = body.clone();
    placeholder["id"] = json!(format!("<new {role} app object id>"));
    placeholder["appId"] = json!(format!("<new {role} app id>"));
    let created = g
        .write(Method::POST, "applications", Some(body), placeholder)
        .await?;
    changes.push(format!("created the {role} app {}", s(&created, "appId")));
    Ok(created)
}

/// Sends the changes `patch` holds (if any) to the app.
async fn converge(
    g: &Graph,
    app: &mut Value,
    patch: serde_json::Map<String, Value>,
    what: &str,
    changes: &mut Vec<String>,
) -> Result<()> {
    if patch.is_empty() {
        return Ok(());
    }
    let keys: Vec<String> = patch.keys().cloned().collect();
    let target = format!("applications/{}", s(app, "id"));
    g.write(
        Method::PATCH,
        &target,
        Some(Value::Object(patch.clone())),
        json!({}),
    )
    .await?;
    for (k, v) in patch {
        match (k.as_str(), v) {
            ("api" | "publicClient", Value::Object(sub)) => {
                // Graph sends objects here; anything else is replaced, never indexed into.
                if !app[k.as_str()].is_object() {
                    app[k.as_str()] = json!({});
                }
                for (sk, sv) in sub {
                    app[k.as_str()][sk.as_str()] = sv;
                }
            }
            (_, v) => app[k.as_str()] = v,
        }
    }
    changes.push(format!("updated the {what} app: {}", keys.join(", ")));
    Ok(())
}

fn has_string(list: &Value, wanted: &str) -> bool {
    list.as_array().is_some_and(|a| {
        a.iter()
            .any(|v| v.as_str().is_some_and(|s| s.eq_ignore_ascii_case(wanted)))
    })
}

fn requires(app: &Value, resource_app: &str, scope_id: &str) -> bool {
    app["requiredResourceAccess"].as_array().is_some_and(|a| {
        a.iter().any(|r| {
            r["resourceAppId"]
                .as_str()
                .is_some_and(|x| x.eq_ignore_ascii_case(resource_app))
                && r["resourceAccess"].as_array().is_some_and(|ra| {
                    ra.iter().any(|x| {
                        x["id"]
                            .as_str()
                            .is_some_and(|i| i.eq_ignore_ascii_case(scope_id))
                    })
                })
        })
    })
}

/// `requiredResourceAccess` with `scope_id` of `resource_app` added.
fn with_requirement(app: &Value, resource_app: &str, scope_id: &str) -> Value {
    let mut list = app["requiredResourceAccess"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let access = json!({"id": scope_id, "type": "Scope"});
    match list
        .iter_mut()
        .find(|r| r["resourceAppId"].as_str() == Some(resource_app))
    {
        Some(r) => match r["resourceAccess"].as_array_mut() {
            Some(a) => a.push(access),
            None => r["resourceAccess"] = json!([access]),
        },
        None => list.push(json!({"resourceAppId": resource_app, "resourceAccess": [access]})),
    }
    Value::Array(list)
}

/// The API app's `access_as_user` scope id, and the `api` changes it needs.
fn api_changes(app: &Value, cli_app_id: Option<&str>) -> (String, serde_json::Map<String, Value>) {
    let mut patch = serde_json::Map::new();
    let app_id = s(app, "appId");
    let uri = format!("api://{app_id}");
    if !has_string(&app["identifierUris"], &uri) {
        let mut uris = app["identifierUris"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        uris.push(json!(uri));
        patch.insert("identifierUris".into(), Value::Array(uris));
    }
    let mut api = serde_json::Map::new();
    let scopes = app["api"]["oauth2PermissionScopes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let scope_id = match scopes.iter().find(|sc| sc["value"] == API_SCOPE_NAME) {
        Some(sc) if sc["isEnabled"] == json!(true) => s(sc, "id"),
        Some(sc) => {
            let id = s(sc, "id");
            let updated: Vec<Value> = scopes
                .iter()
                .map(|x| {
                    let mut x = x.clone();
                    if x["id"] == json!(id) {
                        x["isEnabled"] = json!(true);
                    }
                    x
                })
                .collect();
            api.insert("oauth2PermissionScopes".into(), Value::Array(updated));
            id
        }
        None => {
            let id = uuid::Uuid::new_v4().to_string();
            let mut updated = scopes.clone();
            updated.push(json!({
                "id": id,
                "value": API_SCOPE_NAME,
                "type": "User",
                "isEnabled": true,
                "adminConsentDisplayName": "Access the API as the signed-in user",
                "adminConsentDescription": "Lets the azobo CLI call this API on behalf of the signed-in user, which then reads Azure Resource Manager as that user.",
                "userConsentDisplayName": "Access the API as you",
                "userConsentDescription": "Lets the azobo CLI call this API on your behalf, which then lists your Azure subscriptions.",
            }));
            api.insert("oauth2PermissionScopes".into(), Value::Array(updated));
            id
        }
    };
    if app["api"]["requestedAccessTokenVersion"] != json!(2) {
        api.insert("requestedAccessTokenVersion".into(), json!(2));
    }
    if let Some(cli) = cli_app_id
        && !has_string(&app["api"]["knownClientApplications"], cli)
    {
        let mut known = app["api"]["knownClientApplications"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        known.push(json!(cli));
        api.insert("knownClientApplications".into(), Value::Array(known));
    }
    if !api.is_empty() {
        patch.insert("api".into(), Value::Object(api));
    }
    if !requires(app, ARM_APP_ID, ARM_USER_IMPERSONATION_ID) {
        patch.insert(
            "requiredResourceAccess".into(),
            with_requirement(app, ARM_APP_ID, ARM_USER_IMPERSONATION_ID),
        );
    }
    (scope_id, patch)
}

fn cli_changes(app: &Value, api_app_id: &str, scope_id: &str) -> serde_json::Map<String, Value> {
    let mut patch = serde_json::Map::new();
    if app["isFallbackPublicClient"] != json!(true) {
        patch.insert("isFallbackPublicClient".into(), json!(true));
    }
    if !has_string(&app["publicClient"]["redirectUris"], "http://localhost") {
        let mut uris = app["publicClient"]["redirectUris"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        uris.push(json!("http://localhost"));
        patch.insert("publicClient".into(), json!({"redirectUris": uris}));
    }
    if !requires(app, api_app_id, scope_id) {
        patch.insert(
            "requiredResourceAccess".into(),
            with_requirement(app, api_app_id, scope_id),
        );
    }
    patch
}

/// The service principal of `app_id`, created when missing; its object id.
async fn service_principal(
    g: &Graph,
    app_id: &str,
    role: &str,
    changes: &mut Vec<String>,
) -> Result<String> {
    // In a dry run a new app has a placeholder id: there is nothing to look up yet.
    let found = if is_placeholder(app_id) {
        Vec::new()
    } else {
        g.list(&format!(
            "servicePrincipals?$filter=appId eq '{}'",
            quoted(app_id)
        ))
        .await?
    };
    if let Some(sp) = found.first() {
        return Ok(s(sp, "id"));
    }
    let created = g
        .write(
            Method::POST,
            "servicePrincipals",
            Some(json!({"appId": app_id})),
            json!({"id": format!("<new {role} service principal id>")}),
        )
        .await?;
    changes.push(format!("created the {role} app's service principal"));
    Ok(s(&created, "id"))
}

/// Admin consent for `client_sp` to `scope` of `resource_sp`; false when Graph says the user
/// may not grant it.
async fn grant(
    g: &Graph,
    client_sp: &str,
    resource_sp: &str,
    scope: &str,
    what: &str,
    changes: &mut Vec<String>,
) -> Result<bool> {
    let existing = if is_placeholder(client_sp) || is_placeholder(resource_sp) {
        Ok(Vec::new())
    } else {
        g.list(&format!(
            "oauth2PermissionGrants?$filter=clientId eq '{}' and resourceId eq '{}'",
            quoted(client_sp),
            quoted(resource_sp)
        ))
        .await
    };
    let existing = match existing {
        Ok(list) => list,
        Err(e) if is_denied(&e) => return Ok(false),
        Err(e) => return Err(e),
    };
    let done = existing.iter().any(|gr| {
        gr["consentType"] == "AllPrincipals"
            && gr["scope"]
                .as_str()
                .is_some_and(|sc| sc.split_ascii_whitespace().any(|x| x == scope))
    });
    if done {
        return Ok(true);
    }
    // One admin grant per client and resource: widen an existing one rather than add another.
    let written = match existing
        .iter()
        .find(|gr| gr["consentType"] == "AllPrincipals")
    {
        Some(gr) => {
            let widened = format!("{} {scope}", gr["scope"].as_str().unwrap_or_default())
                .trim()
                .to_owned();
            g.write(
                Method::PATCH,
                &format!("oauth2PermissionGrants/{}", s(gr, "id")),
                Some(json!({"scope": widened})),
                json!({}),
            )
            .await
        }
        None => {
            let body = json!({"clientId": client_sp, "consentType": "AllPrincipals", "resourceId": resource_sp, "scope": scope});
            g.write(
                Method::POST,
                "oauth2PermissionGrants",
                Some(body),
                json!({}),
            )
            .await
        }
    };
    match written {
        Ok(_) => {
            changes.push(format!("granted admin consent: {what}"));
            Ok(true)
        }
        Err(e) if is_denied(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Puts `der` into the API app's `keyCredentials` unless it is there (by thumbprint). A PATCH
/// replaces the whole collection, as Graph offers no other way without proof of an existing
/// key: setup's app holds setup's certificate.
async fn certificate(
    g: &Graph,
    api: &mut Value,
    der: &[u8],
    changes: &mut Vec<String>,
) -> Result<()> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let thumbprint = b64.encode(<sha1::Sha1 as sha1::Digest>::digest(der));
    let present = api["keyCredentials"].as_array().is_some_and(|keys| {
        keys.iter()
            .any(|k| k["customKeyIdentifier"].as_str() == Some(thumbprint.as_str()))
    });
    if present {
        return Ok(());
    }
    let patch = json!({"keyCredentials": [{
        "type": "AsymmetricX509Cert",
        "usage": "Verify",
        "key": b64.encode(der),
        "displayName": SECRET_NAME,
    }]});
    let target = format!("applications/{}", s(api, "id"));
    g.write(Method::PATCH, &target, Some(patch), json!({}))
        .await?;
    api["keyCredentials"] =
        json!([{"customKeyIdentifier": thumbprint, "displayName": SECRET_NAME}]);
    changes.push("registered the certificate on the API app".to_owned());
    Ok(())
}

fn app_ref(app: &Value, sp: String) -> AppRef {
    AppRef {
        display_name: s(app, "displayName"),
        app_id: s(app, "appId"),
        object_id: s(app, "id"),
        service_principal_id: sp,
    }
}

/// Registers (or converges) the OBO pair; `authority` is for the admin-consent URLs, `keep`
/// stores a new client secret the moment Graph hands it out.
pub async fn register(
    g: &Graph,
    plan: &Plan,
    authority: &str,
    keep: &(dyn Fn(&str) -> Result<()> + Sync),
) -> Result<Registered> {
    let mut changes = Vec::new();
    let org = g.list("organization").await?;
    let tenant_id = org
        .first()
        .map(|o| s(o, "id"))
        .filter(|id| !id.is_empty())
        .ok_or_else(|| {
            Error::upstream("Microsoft Graph returned no organization for this sign-in")
        })?;
    let prefix = &plan.prefix;

    let api_tag = marker(prefix, "api");
    let mut api = app(
        g,
        &api_tag,
        json!({
            "displayName": format!("{prefix} API"),
            "signInAudience": "AzureADMyOrg",
            "tags": [api_tag],
            "notes": "Created by `azobo setup`: the protected API that calls Azure Resource Manager On-Behalf-Of the user.",
        }),
        "API",
        &mut changes,
    )
    .await?;
    let cli_tag = marker(prefix, "cli");
    let mut cli = app(
        g,
        &cli_tag,
        json!({
            "displayName": format!("{prefix} CLI"),
            "signInAudience": "AzureADMyOrg",
            "tags": [cli_tag],
            "notes": "Created by `azobo setup`: the public client `azobo login` signs in with.",
            "isFallbackPublicClient": true,
            "publicClient": {"redirectUris": ["http://localhost"]},
        }),
        "CLI",
        &mut changes,
    )
    .await?;
    let (scope_id, patch) = api_changes(&api, Some(&s(&cli, "appId")));
    converge(g, &mut api, patch, "API", &mut changes).await?;
    let patch = cli_changes(&cli, &s(&api, "appId"), &scope_id);
    converge(g, &mut cli, patch, "CLI", &mut changes).await?;

    let api_sp = service_principal(g, &s(&api, "appId"), "API", &mut changes).await?;
    let cli_sp = service_principal(g, &s(&cli, "appId"), "CLI", &mut changes).await?;

    let keep_secret = plan.secret_hint.as_deref().is_some_and(|hint| {
        api["passwordCredentials"].as_array().is_some_and(|creds| {
            creds.iter().any(|c| {
                c["displayName"] == SECRET_NAME
                    && c["hint"].as_str() == Some(hint)
                    && c["endDateTime"].as_str().is_some_and(|end| {
                        time::OffsetDateTime::parse(
                            end,
                            &time::format_description::well_known::Rfc3339,
                        )
                        .is_ok_and(|t| t > time::OffsetDateTime::now_utc())
                    })
            })
        })
    });
    let new_secret = if let Some(der) = &plan.certificate {
        certificate(g, &mut api, der, &mut changes).await?;
        None
    } else if keep_secret {
        None
    } else {
        let end = time::OffsetDateTime::now_utc()
            + time::Duration::days(365 * i64::from(plan.secret_years.clamp(1, 2)));
        let end = end
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(|e| Error::failure(format!("formatting the secret's expiry: {e}")))?;
        let added = g
            .write(
                Method::POST,
                &format!("applications/{}/addPassword", s(&api, "id")),
                Some(
                    json!({"passwordCredential": {"displayName": SECRET_NAME, "endDateTime": end}}),
                ),
                json!({}),
            )
            .await?;
        changes.push(format!(
            "added a client secret to the API app (valid until {end})"
        ));
        let secret = added["secretText"].as_str().map(str::to_owned);
        // Kept at once: should a later step fail, the secret Graph never shows again is not lost.
        if let Some(secret) = &secret {
            keep(secret)?;
        }
        secret
    };

    let arm_sp = g
        .list(&format!("servicePrincipals?$filter=appId eq '{ARM_APP_ID}'"))
        .await?
        .first()
        .map(|sp| s(sp, "id"))
        .ok_or_else(|| {
            Error::failure(
                "Azure Resource Manager has no service principal in this tenant; is it an Azure tenant?",
            )
        })?;
    let arm_ok = grant(
        g,
        &api_sp,
        &arm_sp,
        "user_impersonation",
        "API → Azure Resource Manager (user_impersonation)",
        &mut changes,
    )
    .await?;
    let api_ok = grant(
        g,
        &cli_sp,
        &api_sp,
        API_SCOPE_NAME,
        "CLI → API (access_as_user)",
        &mut changes,
    )
    .await?;
    let consent_url = |app: &Value| {
        format!(
            "{}/{tenant_id}/adminconsent?client_id={}",
            authority.trim_end_matches('/'),
            s(app, "appId")
        )
    };
    let mut urls = Vec::new();
    if !arm_ok {
        urls.push(consent_url(&api));
    }
    if !api_ok {
        urls.push(consent_url(&cli));
    }
    let api_scope = format!("api://{}/{API_SCOPE_NAME}", s(&api, "appId"));
    Ok(Registered {
        tenant_id,
        api: app_ref(&api, api_sp),
        cli: app_ref(&cli, cli_sp),
        api_scope,
        consent: Consent {
            granted: urls.is_empty(),
            admin_consent_urls: urls,
        },
        new_secret,
        changes,
    })
}

/// Deletes what `register` created for `prefix`: grants, service principals, apps; returns
/// what it removed (nothing when there was nothing).
pub async fn remove(g: &Graph, prefix: &str) -> Result<Vec<String>> {
    let mut removed = Vec::new();
    for role in ["cli", "api"] {
        for app in apps_tagged(g, &marker(prefix, role)).await? {
            let app_id = s(&app, "appId");
            let sps = g
                .list(&format!(
                    "servicePrincipals?$filter=appId eq '{}'",
                    quoted(&app_id)
                ))
                .await?;
            for sp in &sps {
                let sp_id = s(sp, "id");
                for field in ["clientId", "resourceId"] {
                    let grants = g
                        .list(&format!(
                            "oauth2PermissionGrants?$filter={field} eq '{}'",
                            quoted(&sp_id)
                        ))
                        .await
                        .or_else(|e| {
                            if is_denied(&e) {
                                Ok(Vec::new())
                            } else {
                                Err(e)
                            }
                        })?;
                    for gr in grants {
                        g.write(
                            Method::DELETE,
                            &format!("oauth2PermissionGrants/{}", s(&gr, "id")),
                            None,
                            json!({}),
                        )
                        .await?;
                        removed.push(format!(
                            "a permission grant of the {} app",
                            role.to_uppercase()
                        ));
                    }
                }
                g.write(
                    Method::DELETE,
                    &format!("servicePrincipals/{sp_id}"),
                    None,
                    json!({}),
                )
                .await?;
                removed.push(format!(
                    "the {} app's service principal",
                    role.to_uppercase()
                ));
            }
            g.write(
                Method::DELETE,
                &format!("applications/{}", s(&app, "id")),
                None,
                json!({}),
            )
            .await?;
            removed.push(format!("the {} app {app_id}", role.to_uppercase()));
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_api_app_in_place_needs_no_change_and_a_bare_one_gets_everything() {
        let bare = json!({"id": "o", "appId": "a1"});
        let (scope_id, patch) = api_changes(&bare, Some("c1"));
        assert!(uuid::Uuid::parse_str(&scope_id).is_ok());
        assert_eq!(patch["identifierUris"], json!(["api://a1"]));
        assert_eq!(patch["api"]["requestedAccessTokenVersion"], 2);
        assert_eq!(patch["api"]["knownClientApplications"], json!(["c1"]));
        assert!(requires(
            &json!({"requiredResourceAccess": patch["requiredResourceAccess"]}),
            ARM_APP_ID,
            ARM_USER_IMPERSONATION_ID
        ));
        let mut done = bare.clone();
        done["identifierUris"] = patch["identifierUris"].clone();
        done["api"] = patch["api"].clone();
        done["requiredResourceAccess"] = patch["requiredResourceAccess"].clone();
        let (again, none) = api_changes(&done, Some("c1"));
        assert_eq!(again, scope_id);
        assert!(none.is_empty(), "{none:?}");
    }

    #[test]
    fn a_disabled_scope_is_enabled_again_under_its_id() {
        let app = json!({"id": "o", "appId": "a1", "identifierUris": ["api://a1"],
            "api": {"requestedAccessTokenVersion": 2, "oauth2PermissionScopes": [{"id": "s1", "value": "access_as_user", "isEnabled": false}]}});
        let (id, patch) = api_changes(&app, None);
        assert_eq!(id, "s1");
        assert_eq!(patch["api"]["oauth2PermissionScopes"][0]["isEnabled"], true);
    }

    #[test]
    fn a_cli_app_gets_the_public_client_and_the_api_permission() {
        let patch = cli_changes(&json!({"id": "o", "appId": "c"}), "a1", "s1");
        assert_eq!(patch["isFallbackPublicClient"], true);
        assert_eq!(
            patch["publicClient"]["redirectUris"],
            json!(["http://localhost"])
        );
        assert!(requires(
            &json!({"requiredResourceAccess": patch["requiredResourceAccess"]}),
            "a1",
            "s1"
        ));
        assert_eq!(marker("azobo", "cli"), "azobo:azobo:cli");
        assert_eq!(quoted("o'brien"), "o''brien");
    }
}
