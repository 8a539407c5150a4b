//! The Microsoft Graph subset that registering an OBO pair needs (`azobo setup`): applications,
//! service principals, delegated permission grants, `/me` and `/organization`, under
//! `/graph/v1.0`, with Graph's shapes and rules.
//!
//! Apps created here live in the same registry the sign-in and token endpoints read, so they
//! work at once (real Entra replicates for seconds first). Any user may register apps and
//! change the apps they own, as in a tenant with default settings; admin consent
//! (`oauth2PermissionGrants`) and changes to others' apps take a directory role, which one
//! built-in user (carol) lacks. An exposed scope must be disabled before a later change may
//! remove it; deleting an app takes its service principal and grants with it, after which
//! sign-in with it fails with AADSTS700016.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::Tenant;
use super::seed::{App, CertificateCredential, GRAPH_APP_ID, PermissionGrant, ServicePrincipal};
use super::tokens::{BearerProblem, verify_bearer};

/// Largest request body accepted.
const MAX_BODY: usize = 64 * 1024;
/// Most entries in any list property (scopes, URIs, tags, …).
const MAX_LIST: usize = 64;
/// Longest string in a request.
const MAX_STRING: usize = 2048;
/// Most apps the tenant holds (a bound for a hostile or runaway client).
const MAX_APPS: usize = 1_000;
/// Audiences a Graph token may carry.
const AUDIENCES: [&str; 3] = [
    GRAPH_APP_ID,
    "https://graph.microsoft.com",
    "https://graph.microsoft.com/",
];

/// The routes, under `/graph/v1.0`.
pub(crate) fn routes() -> Router<Arc<Tenant>> {
    Router::new()
        .route("/graph/v1.0/me", get(me))
        .route("/graph/v1.0/organization", get(organization))
        .route("/graph/v1.0/applications", get(list_apps).post(create_app))
        .route(
            "/graph/v1.0/applications/{id}",
            get(get_app).patch(patch_app).delete(delete_app),
        )
        .route(
            "/graph/v1.0/applications/{id}/addPassword",
            post(add_password),
        )
        .route(
            "/graph/v1.0/servicePrincipals",
            get(list_sps).post(create_sp),
        )
        .route(
            "/graph/v1.0/servicePrincipals/{id}",
            get(get_sp).delete(delete_sp),
        )
        .route(
            "/graph/v1.0/oauth2PermissionGrants",
            get(list_grants).post(create_grant),
        )
        .route(
            "/graph/v1.0/oauth2PermissionGrants/{id}",
            delete(delete_grant).patch(patch_grant),
        )
}

/// Graph's error: `{"error":{"code","message","innerError":{"date","request-id",…}}}`.
#[derive(Debug)]
struct GraphError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

fn err(status: StatusCode, code: &'static str, message: impl Into<String>) -> GraphError {
    GraphError {
        status,
        code,
        message: message.into(),
    }
}

fn bad(message: impl Into<String>) -> GraphError {
    err(StatusCode::BAD_REQUEST, "Request_BadRequest", message)
}

fn not_found(id: &str) -> GraphError {
    err(
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
        format!(
            "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
        ),
    )
}

fn denied() -> GraphError {
    err(
        StatusCode::FORBIDDEN,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
    )
}

/// Finishes a response: Graph's request ids, and the error shape for failures.
fn finish(headers: &HeaderMap, result: Result<(StatusCode, Value), GraphError>) -> Response {
    let request_id = Uuid::new_v4().to_string();
    let client_request_id = headers
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 64 && v.chars().all(|c| c.is_ascii_graphic()))
        .map(str::to_owned);
    let mut resp = match result {
        Ok((StatusCode::NO_CONTENT, _)) => StatusCode::NO_CONTENT.into_response(),
        Ok((status, body)) => (status, axum::Json(body)).into_response(),
        Err(e) => {
            let date = time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
            let mut inner = json!({"date": date, "request-id": request_id});
            if let Some(c) = &client_request_id {
                inner["client-request-id"] = json!(c);
            }
            (
                e.status,
                axum::Json(
                    json!({"error": {"code": e.code, "message": e.message, "innerError": inner}}),
                ),
            )
                .into_response()
        }
    };
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        h.insert("request-id", v);
    }
    if let Some(v) = client_request_id.and_then(|c| HeaderValue::from_str(&c).ok()) {
        h.insert("client-request-id", v);
    }
    resp
}

/// The signed-in user behind a Graph call.
struct Caller {
    oid: String,
    admin: bool,
    scopes: Vec<String>,
}

impl Caller {
    fn has(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s.eq_ignore_ascii_case(scope))
    }

    fn need(&self, scope: &str) -> Result<(), GraphError> {
        if self.has(scope) {
            Ok(())
        } else {
            Err(denied())
        }
    }
}

fn unauthenticated(message: &str) -> GraphError {
    err(
        StatusCode::UNAUTHORIZED,
        "InvalidAuthenticationToken",
        message,
    )
}

/// Validates the bearer token: RS256 by this tenant, for Graph, unexpired, a user's.
fn caller(tenant: &Tenant, headers: &HeaderMap) -> Result<Caller, GraphError> {
    let claims = verify_bearer(tenant, headers, &AUDIENCES).map_err(|p| {
        unauthenticated(match p {
            BearerProblem::Missing | BearerProblem::Malformed => "Access token is empty.",
            BearerProblem::Invalid => "Access token validation failure. Invalid token.",
            BearerProblem::Signature => "Access token validation failure. Invalid signature.",
            BearerProblem::Expired => "Lifetime validation failed, the token is expired.",
            BearerProblem::Audience => "Access token validation failure. Invalid audience.",
            BearerProblem::Issuer => "Access token validation failure.",
        })
    })?;
    let oid = claims["oid"].as_str().unwrap_or_default().to_owned();
    let scopes: Vec<String> = claims["scp"]
        .as_str()
        .unwrap_or_default()
        .split_ascii_whitespace()
        .map(str::to_owned)
        .collect();
    if scopes.is_empty() {
        // App-only tokens have roles, not scopes; none of these calls is offered to them here.
        return Err(denied());
    }
    let admin = tenant.dir().user_by_oid(&oid).is_some_and(|u| u.admin);
    Ok(Caller { oid, admin, scopes })
}

/// A request body: a bounded JSON object.
fn body_object(body: &Bytes) -> Result<Map<String, Value>, GraphError> {
    if body.len() > MAX_BODY {
        return Err(err(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Request_EntityTooLarge",
            format!("The request body is larger than {MAX_BODY} bytes."),
        ));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(o)) => {
            check_bounds(&Value::Object(o.clone()), 0)?;
            Ok(o)
        }
        _ => Err(bad(
            "Invalid request body: a JSON object is expected.".to_owned()
        )),
    }
}

/// No string too long, no list too long, no nesting too deep.
fn check_bounds(v: &Value, depth: usize) -> Result<(), GraphError> {
    if depth > 8 {
        return Err(bad("The request body is nested too deeply."));
    }
    match v {
        Value::String(s) if s.len() > MAX_STRING => Err(bad(format!(
            "A string in the request is longer than {MAX_STRING} characters."
        ))),
        Value::Array(a) if a.len() > MAX_LIST => Err(bad(format!(
            "A list in the request has more than {MAX_LIST} entries."
        ))),
        Value::Array(a) => a.iter().try_for_each(|x| check_bounds(x, depth + 1)),
        Value::Object(o) => o.values().try_for_each(|x| check_bounds(x, depth + 1)),
        _ => Ok(()),
    }
}

/// One condition of a `$filter`.
#[derive(Debug, PartialEq, Eq)]
enum Cond {
    /// `field eq 'value'`.
    Eq(String, String),
    /// `tags/any(t:t eq 'value')`.
    Tag(String),
}

/// Parses the `$filter` forms Graph clients use here: `field eq 'v'`, `tags/any(t:t eq 'v')`,
/// joined by `and`.
fn parse_filter(filter: &str) -> Result<Vec<Cond>, GraphError> {
    let unsupported = || {
        err(
            StatusCode::BAD_REQUEST,
            "Request_UnsupportedQuery",
            format!("Unsupported or invalid query filter clause specified: '{filter}'."),
        )
    };
    if filter.len() > MAX_STRING {
        return Err(unsupported());
    }
    let quoted = |s: &str| -> Option<String> {
        let inner = s.trim().strip_prefix('\'')?.strip_suffix('\'')?;
        // Inside a literal, a quote is written twice.
        let unescaped = inner.replace("''", "'");
        (!unescaped.contains('\'') || inner.contains("''")).then_some(unescaped)
    };
    let mut out = Vec::new();
    for clause in split_and(filter) {
        let clause = clause.trim();
        if let Some(rest) = clause.strip_prefix("tags/any(") {
            let body = rest.strip_suffix(')').ok_or_else(unsupported)?;
            let (var, cond) = body.split_once(':').ok_or_else(unsupported)?;
            let value = cond
                .trim()
                .strip_prefix(var.trim())
                .and_then(|c| c.trim_start().strip_prefix("eq "))
                .and_then(quoted)
                .ok_or_else(unsupported)?;
            out.push(Cond::Tag(value));
        } else {
            let (field, value) = clause.split_once(" eq ").ok_or_else(unsupported)?;
            let field = field.trim();
            if !field.chars().all(|c| c.is_ascii_alphanumeric()) || field.is_empty() {
                return Err(unsupported());
            }
            out.push(Cond::Eq(
                field.to_owned(),
                quoted(value).ok_or_else(unsupported)?,
            ));
        }
    }
    Ok(out)
}

/// Splits a filter at ` and ` outside string literals.
fn split_and(filter: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted) = (0, false);
    let mut i = 0;
    while i < filter.len() {
        if filter.as_bytes()[i] == b'\'' {
            quoted = !quoted;
        } else if !quoted && filter[i..].starts_with(" and ") {
            parts.push(&filter[start..i]);
            i += " and ".len();
            start = i;
            continue;
        }
        i += 1;
    }
    parts.push(&filter[start..]);
    parts
}

fn matches(obj: &Value, conds: &[Cond]) -> bool {
    conds.iter().all(|c| match c {
        Cond::Eq(field, value) => obj[field.as_str()]
            .as_str()
            .is_some_and(|v| v.eq_ignore_ascii_case(value)),
        Cond::Tag(value) => obj["tags"]
            .as_array()
            .is_some_and(|t| t.iter().any(|x| x.as_str() == Some(value))),
    })
}

fn filtered(
    items: Vec<Value>,
    q: &std::collections::HashMap<String, String>,
) -> Result<Value, GraphError> {
    let conds = match q.get("$filter") {
        Some(f) => parse_filter(f)?,
        None => Vec::new(),
    };
    let value: Vec<Value> = items.into_iter().filter(|o| matches(o, &conds)).collect();
    Ok(json!({ "value": value }))
}

type QueryMap = Query<std::collections::HashMap<String, String>>;

async fn me(State(t): State<Arc<Tenant>>, headers: HeaderMap) -> Response {
    let result = (|| {
        let c = caller(&t, &headers)?;
        let dir = t.dir();
        let u = dir.user_by_oid(&c.oid).ok_or_else(|| not_found(&c.oid))?;
        Ok((
            StatusCode::OK,
            json!({
                "id": u.oid.to_string(),
                "displayName": u.name,
                "userPrincipalName": u.username,
                "mail": u.username,
            }),
        ))
    })();
    finish(&headers, result)
}

async fn organization(State(t): State<Arc<Tenant>>, headers: HeaderMap) -> Response {
    let result = (|| {
        caller(&t, &headers)?;
        let dir = t.dir();
        Ok((
            StatusCode::OK,
            json!({"value": [{
                "id": dir.tenant_id.to_string(),
                "displayName": format!("{} (azobo dev tenant)", dir.domain),
                "verifiedDomains": [{"name": dir.domain, "isDefault": true, "isInitial": true, "type": "Managed"}],
            }]}),
        ))
    })();
    finish(&headers, result)
}

/// The properties a client may set on an application.
const APP_PROPERTIES: [&str; 11] = [
    "displayName",
    "signInAudience",
    "identifierUris",
    "tags",
    "notes",
    "isFallbackPublicClient",
    "publicClient",
    "api",
    "requiredResourceAccess",
    "web",
    "keyCredentials",
];

/// Merges `patch` into `app` (nested `api`, `publicClient` and `web` property by property, as
/// Graph does), checking each value's type.
fn merge_app(app: &mut Value, patch: Map<String, Value>) -> Result<(), GraphError> {
    for (k, v) in patch {
        if !APP_PROPERTIES.contains(&k.as_str()) {
            return Err(bad(format!(
                "Property '{k}' does not exist on type 'microsoft.graph.application' or cannot be set."
            )));
        }
        let ok = match k.as_str() {
            "displayName" => v.as_str().is_some_and(|s| !s.trim().is_empty()),
            "signInAudience" => matches!(
                v.as_str(),
                Some("AzureADMyOrg" | "AzureADMultipleOrgs" | "AzureADandPersonalMicrosoftAccount")
            ),
            "identifierUris" | "tags" => {
                v.as_array().is_some_and(|a| a.iter().all(Value::is_string))
            }
            "notes" => v.is_string() || v.is_null(),
            "isFallbackPublicClient" => v.is_boolean() || v.is_null(),
            "requiredResourceAccess" | "keyCredentials" => v.is_array(),
            _ => v.is_object(),
        };
        if !ok {
            return Err(bad(format!("Invalid value for property '{k}'.")));
        }
        match (k.as_str(), v) {
            ("api" | "publicClient" | "web", Value::Object(sub)) => {
                let allowed: &[&str] = match k.as_str() {
                    "api" => &[
                        "requestedAccessTokenVersion",
                        "oauth2PermissionScopes",
                        "knownClientApplications",
                        "preAuthorizedApplications",
                    ],
                    "publicClient" => &["redirectUris"],
                    _ => &["redirectUris", "homePageUrl", "logoutUrl"],
                };
                if let Some(unknown) = sub.keys().find(|sk| !allowed.contains(&sk.as_str())) {
                    return Err(bad(format!(
                        "Property '{unknown}' does not exist on '{k}' or cannot be set."
                    )));
                }
                let target = &mut app[k.as_str()];
                if !target.is_object() {
                    *target = json!({});
                }
                for (sk, sv) in sub {
                    target[sk.as_str()] = sv;
                }
            }
            (_, v) => app[k.as_str()] = v,
        }
    }
    Ok(())
}

/// Graph's rules on an application as it would be after a change.
fn validate_app(before: Option<&Value>, after: &Value, others: &[&App]) -> Result<(), GraphError> {
    for uri in after["identifierUris"].as_array().into_iter().flatten() {
        let uri = uri.as_str().unwrap_or_default();
        if !uri.starts_with("api://") || uri.len() <= "api://".len() {
            return Err(bad(format!(
                "Values of identifierUris property must use a verified domain of the organization or its subdomain: '{uri}'."
            )));
        }
        if others.iter().any(|a| {
            a.identifier_uris.iter().any(|u| {
                u.trim_end_matches('/')
                    .eq_ignore_ascii_case(uri.trim_end_matches('/'))
            })
        }) {
            return Err(bad(format!(
                "Another object with the same value for property identifierUris already exists: '{uri}'."
            )));
        }
    }
    let scopes = |v: Option<&Value>| -> Vec<Value> {
        v.and_then(|a| a["api"]["oauth2PermissionScopes"].as_array().cloned())
            .unwrap_or_default()
    };
    let new_scopes = scopes(Some(after));
    for s in &new_scopes {
        let ok = s["id"].as_str().is_some_and(|i| i.parse::<Uuid>().is_ok())
            && s["value"]
                .as_str()
                .is_some_and(|v| !v.is_empty() && !v.contains(char::is_whitespace))
            && s["isEnabled"].is_boolean();
        if !ok {
            return Err(bad(
                "Each oauth2PermissionScopes entry needs an id (a GUID), a value without spaces and isEnabled.",
            ));
        }
    }
    // An enabled scope can be neither removed nor changed: disable it first.
    for old in scopes(before) {
        if old["isEnabled"] != json!(true) {
            continue;
        }
        let same = new_scopes.iter().find(|n| n["id"] == old["id"]);
        // Disabling is the one change allowed while enabled; removing or renaming is not.
        if same.is_none_or(|n| n["value"] != old["value"]) {
            return Err(bad(
                "CannotDeleteOrUpdateEnabledEntitlement: Permission (scope or role) cannot be deleted or updated unless disabled first.",
            ));
        }
    }
    match &after["api"]["requestedAccessTokenVersion"] {
        Value::Null => {}
        v if v == &json!(1) || v == &json!(2) => {}
        _ => return Err(bad("requestedAccessTokenVersion must be 1, 2 or null.")),
    }
    for known in after["api"]["knownClientApplications"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if known
            .as_str()
            .and_then(|s| s.parse::<Uuid>().ok())
            .is_none()
        {
            return Err(bad(
                "knownClientApplications must hold application ids (GUIDs).",
            ));
        }
    }
    Ok(())
}

/// Checks a `keyCredentials` list and turns it into what Graph keeps: each entry an X.509
/// certificate (`AsymmetricX509Cert`, `Verify`) whose `key` (base64 DER) is read here and
/// never shown again (`key: null`, the SHA-1 thumbprint as `customKeyIdentifier`).
fn key_credentials(list: &mut Value) -> Result<Vec<CertificateCredential>, GraphError> {
    use base64::Engine as _;
    let entries = list
        .as_array_mut()
        .ok_or_else(|| bad("keyCredentials must be a list."))?;
    let mut out = Vec::new();
    for e in entries.iter_mut() {
        let der = e["key"]
            .as_str()
            .and_then(|k| base64::engine::general_purpose::STANDARD.decode(k).ok())
            .ok_or_else(|| bad("Each keyCredential needs its certificate as base64 in `key`."))?;
        if e["type"] != "AsymmetricX509Cert" || e["usage"] != "Verify" {
            return Err(bad(
                "keyCredentials support type AsymmetricX509Cert with usage Verify.",
            ));
        }
        let cert = CertificateCredential::from_der(&der)
            .ok_or_else(|| bad("Key value is invalid certificate value."))?;
        let sha1 = <sha1::Sha1 as sha1::Digest>::digest(&der);
        e["key"] = Value::Null;
        e["customKeyIdentifier"] = json!(base64::engine::general_purpose::STANDARD.encode(sha1));
        if e["keyId"].as_str().is_none() {
            e["keyId"] = json!(Uuid::new_v4().to_string());
        }
        out.push(cert);
    }
    Ok(out)
}

fn owner_of(app: &App) -> Option<&str> {
    app.graph["_owner"].as_str()
}

/// What Graph shows of an app: its representation without internal fields.
fn shown(app: &App) -> Value {
    let mut v = app.graph.clone();
    if let Some(o) = v.as_object_mut() {
        o.retain(|k, _| !k.starts_with('_'));
    }
    v
}

async fn list_apps(
    State(t): State<Arc<Tenant>>,
    headers: HeaderMap,
    Query(q): QueryMap,
) -> Response {
    let result = (|| {
        caller(&t, &headers)?.need("Application.ReadWrite.All")?;
        let items = t
            .dir()
            .apps
            .iter()
            .filter(|a| !a.first_party)
            .map(shown)
            .collect();
        Ok((StatusCode::OK, filtered(items, &q)?))
    })();
    finish(&headers, result)
}

async fn get_app(
    State(t): State<Arc<Tenant>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let result = (|| {
        caller(&t, &headers)?.need("Application.ReadWrite.All")?;
        let dir = t.dir();
        let app = dir
            .apps
            .iter()
            .find(|a| !a.first_party && a.object_id.to_string().eq_ignore_ascii_case(&id))
            .ok_or_else(|| not_found(&id))?;
        Ok((StatusCode::OK, shown(app)))
    })();
    finish(&headers, result)
}

async fn create_app(State(t): State<Arc<Tenant>>, headers: HeaderMap, body: Bytes) -> Response {
    let result = (|| {
        let c = caller(&t, &headers)?;
        c.need("Application.ReadWrite.All")?;
        let mut patch = body_object(&body)?;
        let certificates = match patch.get_mut("keyCredentials") {
            Some(list) => key_credentials(list)?,
            None => Vec::new(),
        };
        if !patch.contains_key("displayName") {
            return Err(bad("Property displayName is required."));
        }
        let mut dir = t.dir_mut();
        if dir.apps.len() >= MAX_APPS {
            return Err(err(
                StatusCode::FORBIDDEN,
                "Directory_QuotaExceeded",
                "The directory object quota limit for the tenant has been exceeded.",
            ));
        }
        let app_id = Uuid::new_v4();
        let mut graph = json!({
            "appId": app_id.to_string(),
            "displayName": "",
            "signInAudience": "AzureADMyOrg",
            "identifierUris": [],
            "tags": [],
            "notes": null,
            "isFallbackPublicClient": null,
            "publicClient": {"redirectUris": []},
            "web": {"redirectUris": []},
            "api": {"requestedAccessTokenVersion": null, "oauth2PermissionScopes": [], "knownClientApplications": []},
            "requiredResourceAccess": [],
            "passwordCredentials": [],
            "keyCredentials": [],
            "createdDateTime": time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            "_owner": c.oid,
        });
        merge_app(&mut graph, patch)?;
        let others: Vec<&App> = dir.apps.iter().collect();
        validate_app(None, &graph, &others)?;
        let name = graph["displayName"].as_str().unwrap_or_default().to_owned();
        let tenant_id = dir.tenant_id;
        let mut app = App::seeded(tenant_id, app_id, &name, graph.clone());
        // `seeded` names the object after the app id; a created app gets a random object id.
        app.object_id = Uuid::new_v4();
        graph["id"] = json!(app.object_id.to_string());
        graph["displayName"] = json!(name);
        app.set_graph(graph);
        app.certificates = certificates;
        let out = shown(&app);
        dir.apps.push(app);
        Ok((StatusCode::CREATED, out))
    })();
    finish(&headers, result)
}

/// The position of a Graph-listed app by object id, if the caller may change it.
fn writable_app(dir: &super::seed::Directory, c: &Caller, id: &str) -> Result<usize, GraphError> {
    let i = dir
        .apps
        .iter()
        .position(|a| !a.first_party && a.object_id.to_string().eq_ignore_ascii_case(id))
        .ok_or_else(|| not_found(id))?;
    let app = &dir.apps[i];
    if c.admin || owner_of(app) == Some(c.oid.as_str()) {
        Ok(i)
    } else {
        Err(denied())
    }
}

async fn patch_app(
    State(t): State<Arc<Tenant>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let result = (|| {
        let c = caller(&t, &headers)?;
        c.need("Application.ReadWrite.All")?;
        let mut patch = body_object(&body)?;
        let certificates = match patch.get_mut("keyCredentials") {
            Some(list) => Some(key_credentials(list)?),
            None => None,
        };
        let mut dir = t.dir_mut();
        let i = writable_app(&dir, &c, &id)?;
        let before = dir.apps[i].graph.clone();
        let mut after = before.clone();
        merge_app(&mut after, patch)?;
        let others: Vec<&App> = dir
            .apps
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, a)| a)
            .collect();
        validate_app(Some(&before), &after, &others)?;
        let tenant_id = dir.tenant_id;
        let app = &mut dir.apps[i];
        app.set_graph(after);
        // A PATCH of keyCredentials replaces the whole collection, as Graph's does.
        if let Some(certs) = certificates {
            app.certificates = certs;
        }
        // The service principal shows the permissions the app now exposes.
        let sp = app.service_principal(tenant_id);
        if let Some(existing) = dir
            .service_principals
            .iter_mut()
            .find(|s| s.app_id == sp.app_id)
        {
            existing.scopes = sp.scopes;
            existing.display_name = sp.display_name;
        }
        Ok((StatusCode::NO_CONTENT, Value::Null))
    })();
    finish(&headers, result)
}

async fn delete_app(
    State(t): State<Arc<Tenant>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let result = (|| {
        let c = caller(&t, &headers)?;
        c.need("Application.ReadWrite.All")?;
        let mut dir = t.dir_mut();
        let i = writable_app(&dir, &c, &id)?;
        let app = dir.apps.remove(i);
        // The app's service principal, and every grant that names it, go with it.
        let sp_ids: Vec<Uuid> = dir
            .service_principals
            .iter()
            .filter(|s| s.app_id == app.app_id)
            .map(|s| s.id)
            .collect();
        dir.service_principals.retain(|s| s.app_id != app.app_id);
        dir.consents
            .retain(|g| !sp_ids.contains(&g.client_id) && !sp_ids.contains(&g.resource_id));
        Ok((StatusCode::NO_CONTENT, Value::Null))
    })();
    finish(&headers, result)
}

async fn add_password(
    State(t): State<Arc<Tenant>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let result = (|| {
        let c = caller(&t, &headers)?;
        c.need("Application.ReadWrite.All")?;
        let req = if body.is_empty() {
            Map::new()
        } else {
            body_object(&body)?
        };
        let cred = req.get("passwordCredential").cloned().unwrap_or(json!({}));
        if !cred.is_object() {
            return Err(bad("passwordCredential must be an object."));
        }
        let now = time::OffsetDateTime::now_utc();
        let fmt = |t: time::OffsetDateTime| {
            t.format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default()
        };
        let end = match cred["endDateTime"].as_str() {
            Some(s) => {
                let parsed =
                    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                        .map_err(|_| bad("endDateTime is not an RFC 3339 date and time."))?;
                if parsed <= now {
                    return Err(bad("endDateTime must be in the future."));
                }
                fmt(parsed)
            }
            None => fmt(now + time::Duration::days(730)),
        };
        let secret = super::seed::random_secret();
        let key_id = Uuid::new_v4().to_string();
        let meta = json!({
            "customKeyIdentifier": null,
            "displayName": cred["displayName"].as_str(),
            "endDateTime": end,
            "hint": secret.chars().take(3).collect::<String>(),
            "keyId": key_id,
            "startDateTime": fmt(now),
        });
        {
            let mut dir = t.dir_mut();
            let i = writable_app(&dir, &c, &id)?;
            let app = &mut dir.apps[i];
            let mut graph = app.graph.clone();
            if !graph["passwordCredentials"].is_array() {
                graph["passwordCredentials"] = json!([]);
            }
            if let Some(list) = graph["passwordCredentials"].as_array_mut() {
                if list.len() >= MAX_LIST {
                    return Err(bad("The application has too many password credentials."));
                }
                list.push(meta.clone());
            }
            app.set_graph(graph);
            app.secret_digests
                .push(<sha2::Sha256 as sha2::Digest>::digest(secret.as_bytes()).into());
        }
        t.record_issued(&secret);
        let mut out = meta;
        out["secretText"] = json!(secret);
        Ok((StatusCode::OK, out))
    })();
    finish(&headers, result)
}

fn sp_json(sp: &ServicePrincipal) -> Value {
    json!({
        "id": sp.id.to_string(),
        "appId": sp.app_id.to_string(),
        "displayName": sp.display_name,
        "servicePrincipalType": "Application",
        "oauth2PermissionScopes": sp.scopes.iter().map(|(id, value)| json!({
            "id": id.to_string(),
            "value": value,
            "type": "User",
            "isEnabled": true,
        })).collect::<Vec<_>>(),
    })
}

async fn list_sps(
    State(t): State<Arc<Tenant>>,
    headers: HeaderMap,
    Query(q): QueryMap,
) -> Response {
    let result = (|| {
        caller(&t, &headers)?.need("Application.ReadWrite.All")?;
        let items = t.dir().service_principals.iter().map(sp_json).collect();
        Ok((StatusCode::OK, filtered(items, &q)?))
    })();
    finish(&headers, result)
}

async fn get_sp(
    State(t): State<Arc<Tenant>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let result = (|| {
        caller(&t, &headers)?.need("Application.ReadWrite.All")?;
        let dir = t.dir();
        let sp = dir
            .service_principals
            .iter()
            .find(|s| s.id.to_string().eq_ignore_ascii_case(&id))
            .ok_or_else(|| not_found(&id))?;
        Ok((StatusCode::OK, sp_json(sp)))
    })();
    finish(&headers, result)
}

async fn create_sp(State(t): State<Arc<Tenant>>, headers: HeaderMap, body: Bytes) -> Response {
    let result = (|| {
        let c = caller(&t, &headers)?;
        c.need("Application.ReadWrite.All")?;
        let req = body_object(&body)?;
        let app_id = req
            .get("appId")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("Property appId is required."))?
            .to_owned();
        let mut dir = t.dir_mut();
        let tenant_id = dir.tenant_id;
        let app = dir.app(&app_id).ok_or_else(|| {
            bad(format!(
                "The appId '{app_id}' of the service principal does not reference a valid application object."
            ))
        })?;
        if !(c.admin || owner_of(app) == Some(c.oid.as_str())) {
            return Err(denied());
        }
        let sp = app.service_principal(tenant_id);
        if dir.service_principals.iter().any(|s| s.app_id == sp.app_id) {
            return Err(err(
                StatusCode::CONFLICT,
                "Request_MultipleObjectsWithSameKeyValue",
                "Another object with the same value for property servicePrincipalNames already exists.",
            ));
        }
        let out = sp_json(&sp);
        dir.service_principals.push(sp);
        Ok((StatusCode::CREATED, out))
    })();
    finish(&headers, result)
}

async fn delete_sp(
    State(t): State<Arc<Tenant>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let result = (|| {
        let c = caller(&t, &headers)?;
        c.need("Application.ReadWrite.All")?;
        let mut dir = t.dir_mut();
        let i = dir
            .service_principals
            .iter()
            .position(|s| s.id.to_string().eq_ignore_ascii_case(&id))
            .ok_or_else(|| not_found(&id))?;
        let owned = dir
            .app(&dir.service_principals[i].app_id.to_string())
            .is_some_and(|a| !a.first_party && owner_of(a) == Some(c.oid.as_str()));
        if !(c.admin || owned) {
            return Err(denied());
        }
        let sp = dir.service_principals.remove(i);
        dir.consents
            .retain(|g| g.client_id != sp.id && g.resource_id != sp.id);
        Ok((StatusCode::NO_CONTENT, Value::Null))
    })();
    finish(&headers, result)
}

fn grant_json(g: &PermissionGrant) -> Value {
    json!({
        "id": g.id,
        "clientId": g.client_id.to_string(),
        "consentType": g.consent_type,
        "principalId": g.principal_id.map(|p| p.to_string()),
        "resourceId": g.resource_id.to_string(),
        "scope": g.scope,
    })
}

async fn list_grants(
    State(t): State<Arc<Tenant>>,
    headers: HeaderMap,
    Query(q): QueryMap,
) -> Response {
    let result = (|| {
        caller(&t, &headers)?.need("DelegatedPermissionGrant.ReadWrite.All")?;
        let items = t.dir().consents.iter().map(grant_json).collect();
        Ok((StatusCode::OK, filtered(items, &q)?))
    })();
    finish(&headers, result)
}

async fn create_grant(State(t): State<Arc<Tenant>>, headers: HeaderMap, body: Bytes) -> Response {
    let result = (|| {
        let c = caller(&t, &headers)?;
        c.need("DelegatedPermissionGrant.ReadWrite.All")?;
        let req = body_object(&body)?;
        let field = |k: &str| -> Result<String, GraphError> {
            req.get(k)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| bad(format!("Property {k} is required.")))
        };
        let (client_id, resource_id, consent_type, scope) = (
            field("clientId")?,
            field("resourceId")?,
            field("consentType")?,
            field("scope")?,
        );
        let principal_id = req
            .get("principalId")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let principal = match (consent_type.as_str(), &principal_id) {
            ("AllPrincipals", None) => None,
            ("Principal", Some(p)) => Some(
                p.parse::<Uuid>()
                    .map_err(|_| bad("principalId is not a GUID."))?,
            ),
            _ => {
                return Err(bad(
                    "consentType must be AllPrincipals (without principalId) or Principal (with one).",
                ));
            }
        };
        // Creating grants is an administrator's job, whoever they are for (as in Entra, where
        // DelegatedPermissionGrant.ReadWrite.All needs a directory role to use).
        if !c.admin {
            return Err(denied());
        }
        let mut dir = t.dir_mut();
        let find = |id: &str| {
            dir.service_principals
                .iter()
                .find(|s| s.id.to_string().eq_ignore_ascii_case(id))
                .cloned()
        };
        let client = find(&client_id).ok_or_else(|| not_found(&client_id))?;
        let resource = find(&resource_id).ok_or_else(|| not_found(&resource_id))?;
        for s in scope.split_ascii_whitespace() {
            if !resource.scopes.iter().any(|(_, v)| v == s) {
                return Err(bad(format!(
                    "Permission entry '{s}' is not exposed by the resource service principal."
                )));
            }
        }
        if dir.consents.iter().any(|g| {
            g.client_id == client.id
                && g.resource_id == resource.id
                && g.consent_type == consent_type
                && g.principal_id == principal
        }) {
            return Err(err(
                StatusCode::CONFLICT,
                "Request_MultipleObjectsWithSameKeyValue",
                "Permission entry already exists.",
            ));
        }
        if dir.consents.len() >= MAX_APPS {
            return Err(err(
                StatusCode::FORBIDDEN,
                "Directory_QuotaExceeded",
                "The directory object quota limit for the tenant has been exceeded.",
            ));
        }
        let g = PermissionGrant {
            id: Uuid::new_v4().simple().to_string(),
            client_id: client.id,
            consent_type,
            principal_id: principal,
            resource_id: resource.id,
            scope,
        };
        let out = grant_json(&g);
        dir.consents.push(g);
        Ok((StatusCode::CREATED, out))
    })();
    finish(&headers, result)
}

async fn patch_grant(
    State(t): State<Arc<Tenant>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let result = (|| {
        let c = caller(&t, &headers)?;
        c.need("DelegatedPermissionGrant.ReadWrite.All")?;
        if !c.admin {
            return Err(denied());
        }
        let req = body_object(&body)?;
        if req.keys().any(|k| k != "scope") {
            return Err(bad(
                "Only scope can be changed on an oauth2PermissionGrant.",
            ));
        }
        let scope = req
            .get("scope")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("Property scope is required."))?
            .to_owned();
        let mut dir = t.dir_mut();
        let i = dir
            .consents
            .iter()
            .position(|g| g.id == id)
            .ok_or_else(|| not_found(&id))?;
        let resource = dir.consents[i].resource_id;
        let exposed: Vec<String> = dir
            .service_principals
            .iter()
            .find(|s| s.id == resource)
            .map(|s| s.scopes.iter().map(|(_, v)| v.clone()).collect())
            .unwrap_or_default();
        if let Some(bad_scope) = scope
            .split_ascii_whitespace()
            .find(|s| !exposed.iter().any(|e| e == s))
        {
            return Err(bad(format!(
                "Permission entry '{bad_scope}' is not exposed by the resource service principal."
            )));
        }
        dir.consents[i].scope = scope;
        Ok((StatusCode::NO_CONTENT, Value::Null))
    })();
    finish(&headers, result)
}

async fn delete_grant(
    State(t): State<Arc<Tenant>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let result = (|| {
        let c = caller(&t, &headers)?;
        c.need("DelegatedPermissionGrant.ReadWrite.All")?;
        if !c.admin {
            return Err(denied());
        }
        let mut dir = t.dir_mut();
        let before = dir.consents.len();
        dir.consents.retain(|g| g.id != id);
        if dir.consents.len() == before {
            return Err(not_found(&id));
        }
        Ok((StatusCode::NO_CONTENT, Value::Null))
    })();
    finish(&headers, result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_of_the_forms_clients_send() {
        assert_eq!(
            parse_filter("appId eq '797f4846-ba00-4fd7-ba43-dac1f8f63013'").unwrap(),
            vec![Cond::Eq(
                "appId".into(),
                "797f4846-ba00-4fd7-ba43-dac1f8f63013".into()
            )]
        );
        assert_eq!(
            parse_filter("tags/any(t:t eq 'azobo:demo')").unwrap(),
            vec![Cond::Tag("azobo:demo".into())]
        );
        assert_eq!(
            parse_filter("clientId eq 'a' and resourceId eq 'b'")
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            parse_filter("displayName eq 'Tom and Jerry' and appId eq 'x'").unwrap(),
            vec![
                Cond::Eq("displayName".into(), "Tom and Jerry".into()),
                Cond::Eq("appId".into(), "x".into())
            ]
        );
        assert_eq!(
            parse_filter("displayName eq 'O''Brien'").unwrap(),
            vec![Cond::Eq("displayName".into(), "O'Brien".into())]
        );
        for bad in [
            "appId ne 'x'",
            "startswith(displayName,'a')",
            "appId eq x",
            "a.b eq 'x'",
        ] {
            assert!(parse_filter(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn enabled_scopes_must_be_disabled_before_removal() {
        let scope = |enabled: bool| json!({"api": {"oauth2PermissionScopes": [{"id": "8a6a3a2e-8c2b-4d59-a6a4-6a5f9a1c0e11", "value": "access_as_user", "isEnabled": enabled}]}});
        let none = json!({"api": {"oauth2PermissionScopes": []}});
        assert!(validate_app(Some(&scope(true)), &none, &[]).is_err());
        assert!(validate_app(Some(&scope(true)), &scope(false), &[]).is_ok());
        assert!(validate_app(Some(&scope(false)), &none, &[]).is_ok());
        assert!(validate_app(None, &json!({"identifierUris": ["https://x"]}), &[]).is_err());
    }

    #[test]
    fn bodies_are_bounded() {
        let deep = "[".repeat(20) + &"]".repeat(20);
        assert!(body_object(&Bytes::from(format!("{{\"a\":{deep}}}"))).is_err());
        assert!(body_object(&Bytes::from(vec![b' '; MAX_BODY + 1])).is_err());
        assert!(body_object(&Bytes::from_static(b"[1]")).is_err());
        assert!(body_object(&Bytes::from_static(b"{\"displayName\":\"x\"}")).is_ok());
    }
}
