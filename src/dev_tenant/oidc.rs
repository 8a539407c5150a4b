//! Discovery: OpenID Connect metadata (v2 and v1), the JWKS, per tenant path segment, and
//! instance discovery (`/common/discovery/instance`), which MSAL asks before trusting an
//! authority it does not know.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::Tenant;
use super::errors::AadError;

/// The issuer as it appears in metadata: the real tenant id for a tenant path, Entra's literal
/// `{tenantid}` template for `organizations` and `common`.
fn issuer_tid(tenant: &Tenant, t: &str) -> String {
    if t.eq_ignore_ascii_case("organizations") || t.eq_ignore_ascii_case("common") {
        "{tenantid}".to_owned()
    } else {
        tenant.dir().tenant_id.to_string()
    }
}

fn cached(mut resp: Response) -> Response {
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=86400, private"),
    );
    resp
}

/// `GET /{t}/v2.0/.well-known/openid-configuration`.
pub(crate) async fn metadata_v2(
    State(tenant): State<Arc<Tenant>>,
    Path(t): Path<String>,
) -> Response {
    if !tenant.knows_tenant(&t) {
        return AadError::unknown_tenant(&t).into_response();
    }
    let b = &tenant.base;
    let iss = tenant.issuer_v2(&issuer_tid(&tenant, &t));
    cached(
        Json(json!({
            "token_endpoint": format!("{b}/{t}/oauth2/v2.0/token"),
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": format!("{b}/{t}/discovery/v2.0/keys"),
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": iss,
            "request_uri_parameter_supported": false,
            "userinfo_endpoint": format!("{b}/oidc/userinfo"),
            "authorization_endpoint": format!("{b}/{t}/oauth2/v2.0/authorize"),
            "device_authorization_endpoint": format!("{b}/{t}/oauth2/v2.0/devicecode"),
            "http_logout_supported": true,
            "frontchannel_logout_supported": true,
            "end_session_endpoint": format!("{b}/{t}/oauth2/v2.0/logout"),
            "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
            "kerberos_endpoint": format!("{b}/{t}/kerberos"),
            "tenant_region_scope": "NA",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
            "rbac_url": "https://pas.windows.net"
        }))
        .into_response(),
    )
}

/// `GET /{t}/.well-known/openid-configuration`: the v1 document, which names the v1 issuer.
pub(crate) async fn metadata_v1(
    State(tenant): State<Arc<Tenant>>,
    Path(t): Path<String>,
) -> Response {
    if !tenant.knows_tenant(&t) {
        return AadError::unknown_tenant(&t).into_response();
    }
    let b = &tenant.base;
    let iss = tenant.issuer_v1(&issuer_tid(&tenant, &t));
    cached(
        Json(json!({
            "token_endpoint": format!("{b}/{t}/oauth2/token"),
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": format!("{b}/{t}/discovery/keys"),
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
            "scopes_supported": ["openid"],
            "issuer": iss,
            "authorization_endpoint": format!("{b}/{t}/oauth2/authorize"),
            "http_logout_supported": true,
            "frontchannel_logout_supported": true,
            "end_session_endpoint": format!("{b}/{t}/oauth2/logout"),
            "tenant_region_scope": "NA",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com"
        }))
        .into_response(),
    )
}

/// `GET /{t}/discovery/v2.0/keys` and `/{t}/discovery/keys`.
pub(crate) async fn jwks(State(tenant): State<Arc<Tenant>>, Path(t): Path<String>) -> Response {
    if !tenant.knows_tenant(&t) {
        return AadError::unknown_tenant(&t).into_response();
    }
    let iss = tenant.issuer_v2(&issuer_tid(&tenant, &t));
    let body = tenant.keys().jwks(&iss);
    Json(body).into_response()
}

/// The host and port clients reach this tenant by.
fn host_port(tenant: &Tenant) -> Option<(String, Option<u16>)> {
    let u = url::Url::parse(&tenant.base).ok()?;
    Some((u.host_str()?.to_owned(), u.port()))
}

/// `GET /{t}/discovery/instance?api-version=1.1&authorization_endpoint=…`: Entra's instance
/// discovery. It vouches for an authorization endpoint on this host (any tenant segment) and
/// names that tenant's metadata document (v2 for a v2 endpoint, v1 otherwise); any other host
/// is AADSTS50049 `invalid_instance`, as Entra answers for a host outside its clouds. The
/// host's aliases are `host:port` (preferred, where requests go) and the bare host, because MSAL
/// for Python names an instance by its host alone: it drops the port from the endpoint it asks
/// about and keys its token cache on the host.
pub(crate) async fn instance_discovery(
    State(tenant): State<Arc<Tenant>>,
    Path(t): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    if !tenant.knows_tenant(&t) {
        return AadError::unknown_tenant(&t).into_response();
    }
    let Some(endpoint) = q.get("authorization_endpoint") else {
        return AadError::missing("authorization_endpoint").into_response();
    };
    let Some((host, port)) = host_port(&tenant) else {
        return not_found().await;
    };
    let parsed = url::Url::parse(endpoint).ok().filter(|u| {
        u.host_str().is_some_and(|h| h.eq_ignore_ascii_case(&host))
            && (u.port().is_none() || u.port() == port)
    });
    let Some(parsed) = parsed else {
        return AadError::new("invalid_instance", 50_049, "Unknown or invalid instance.")
            .into_response();
    };
    let segments: Vec<&str> = parsed
        .path_segments()
        .map(|s| s.filter(|x| !x.is_empty()).collect())
        .unwrap_or_default();
    // `/{tenant}/oauth2/v2.0/authorize` or `/{tenant}/oauth2/authorize`; a bare host means common.
    let endpoint_tenant = segments.first().copied().unwrap_or("common");
    let v2 = segments.get(2) == Some(&"v2.0");
    let Ok(mut discovery) = url::Url::parse(&tenant.base) else {
        return not_found().await;
    };
    match discovery.path_segments_mut() {
        Ok(mut p) => {
            p.pop_if_empty().push(endpoint_tenant);
            if v2 {
                p.push("v2.0");
            }
            p.extend([".well-known", "openid-configuration"]);
        }
        Err(()) => return not_found().await,
    }
    let preferred = match port {
        Some(p) => format!("{host}:{p}"),
        None => host.clone(),
    };
    let mut aliases = vec![preferred.clone()];
    if port.is_some() {
        aliases.push(host);
    }
    cached(
        Json(json!({
            "tenant_discovery_endpoint": discovery.as_str(),
            "api-version": "1.1",
            "metadata": [{
                "preferred_network": preferred,
                "preferred_cache": preferred,
                "aliases": aliases,
            }],
        }))
        .into_response(),
    )
}

/// Anything else: a JSON 404 (or 405 for a known path with the wrong method, via axum).
pub(crate) async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Json(json!({"error": "not_found", "error_description": "No such endpoint on the azobo dev tenant."})))
        .into_response()
}
