//! Azure Resource Manager: `GET /subscriptions` (bearer validation with ARM's error codes,
//! per-user lists, `nextLink` paging and injected throttling), `GET /tenants`, and the
//! unauthenticated `GET /metadata/endpoints` that `az cloud register` reads. `api-version` is
//! checked against the versions ARM accepts for these paths.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::Tenant;
use super::errors::ArmError;
use super::tokens::{BearerProblem, verify_bearer};

/// Audiences ARM accepts, as listed in its own error message.
const AUDIENCES: [&str; 4] = [
    "https://management.core.windows.net/",
    "https://management.core.windows.net",
    "https://management.azure.com/",
    "https://management.azure.com",
];

static READS: AtomicU64 = AtomicU64::new(0);

/// The `api-version`s ARM accepts for `Microsoft.Resources`' tenant-level reads
/// (`/subscriptions`, `/tenants`), in the order its `InvalidApiVersionParameter` message lists
/// them (as ARM answered in 2024). `2022-12-01` is what serve-api and `az` send,
/// `2016-06-01` what `azure-mgmt-subscription` sends.
const API_VERSIONS: [&str; 57] = [
    "2024-08-01",
    "2024-06-01-preview",
    "2024-03-01",
    "2023-07-01",
    "2023-07-01-preview",
    "2023-03-01-preview",
    "2022-12-01",
    "2022-11-01-preview",
    "2022-09-01",
    "2022-06-01",
    "2022-05-01",
    "2022-03-01-preview",
    "2022-01-01",
    "2021-04-01",
    "2021-01-01",
    "2020-10-01",
    "2020-09-01",
    "2020-08-01",
    "2020-07-01",
    "2020-06-01",
    "2020-05-01",
    "2020-01-01",
    "2019-11-01",
    "2019-10-01",
    "2019-09-01",
    "2019-08-01",
    "2019-07-01",
    "2019-06-01",
    "2019-05-10",
    "2019-05-01",
    "2019-03-01",
    "2018-11-01",
    "2018-09-01",
    "2018-08-01",
    "2018-07-01",
    "2018-06-01",
    "2018-05-01",
    "2018-02-01",
    "2018-01-01",
    "2017-12-01",
    "2017-08-01",
    "2017-06-01",
    "2017-05-10",
    "2017-05-01",
    "2017-03-01",
    "2016-09-01",
    "2016-07-01",
    "2016-06-01",
    "2016-02-01",
    "2015-11-01",
    "2015-01-01",
    "2014-04-01-preview",
    "2014-04-01",
    "2014-01-01",
    "2013-03-01",
    "2014-02-26",
    "2014-04",
];

/// The `api-version`s of `GET /metadata/endpoints`: `2022-09-01` answers the object of the cloud
/// this ARM belongs to (what `az cloud register` reads), `2019-05-01` the list of every cloud
/// (what `ARM_CLOUD_METADATA_URL` names), `2015-01-01` the older, smaller object.
const METADATA_VERSIONS: [&str; 3] = ["2022-09-01", "2019-05-01", "2015-01-01"];

/// ARM's routes, under `/arm`.
pub(crate) fn routes() -> Router<Arc<Tenant>> {
    Router::new()
        .route("/arm/subscriptions", get(subscriptions))
        .route("/arm/tenants", get(tenants))
        .route("/arm/metadata/endpoints", get(metadata_endpoints))
}

/// The request's `api-version`, when it is one of `supported`; ARM's 400 otherwise.
fn api_version<'q>(
    q: &'q BTreeMap<String, String>,
    supported: &[&str],
) -> Result<&'q str, ArmError> {
    let Some(version) = q.get("api-version") else {
        return Err(ArmError::new(
            StatusCode::BAD_REQUEST,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        ));
    };
    if !supported.contains(&version.as_str()) {
        return Err(ArmError::new(
            StatusCode::BAD_REQUEST,
            "InvalidApiVersionParameter",
            format!(
                "The api-version '{version}' is invalid. The supported versions are '{}'.",
                supported.join(",")
            ),
        ));
    }
    Ok(version)
}

/// ARM's response headers: the remaining read quota, the correlation id (echoed) and a request
/// id.
fn arm_headers(mut resp: Response, headers: &HeaderMap) -> Response {
    let h = resp.headers_mut();
    let reads = READS.fetch_add(1, Ordering::Relaxed);
    h.insert(
        "x-ms-ratelimit-remaining-tenant-reads",
        HeaderValue::from(11_999 - (reads % 11_999)),
    );
    let corr = headers
        .get("x-ms-correlation-request-id")
        .and_then(|v| v.to_str().ok())
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    if let Ok(v) = HeaderValue::from_str(&corr) {
        h.insert("x-ms-correlation-request-id", v);
    }
    if let (false, Ok(v)) = (
        h.contains_key("x-ms-request-id"),
        HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()),
    ) {
        h.insert("x-ms-request-id", v);
    }
    resp
}

fn unauthorized(code: &'static str, message: impl Into<String>) -> ArmError {
    ArmError::new(StatusCode::UNAUTHORIZED, code, message)
}

/// Validates the bearer token; `Ok(None)` is an app-only token.
fn caller(tenant: &Tenant, headers: &HeaderMap) -> Result<Option<String>, ArmError> {
    let claims = verify_bearer(tenant, headers, &AUDIENCES).map_err(|p| match p {
        BearerProblem::Missing => unauthorized(
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
        ),
        BearerProblem::Malformed => unauthorized("AuthenticationFailed", "Authentication failed. The 'Authorization' header is provided in an invalid format."),
        BearerProblem::Expired => unauthorized(
            "ExpiredAuthenticationToken",
            "The access token expiry UTC time is earlier than current UTC time.",
        ),
        BearerProblem::Audience => unauthorized(
            "InvalidAuthenticationTokenAudience",
            format!("The access token has been obtained for wrong audience or resource. It should exactly match with one of the allowed audiences '{}'.", AUDIENCES.join("','")),
        ),
        BearerProblem::Issuer => unauthorized(
            "InvalidAuthenticationTokenTenant",
            "The access token is from the wrong issuer. It must match the tenant associated with this subscription.",
        ),
        BearerProblem::Signature => unauthorized("InvalidAuthenticationToken", "The access token has an invalid signature."),
        BearerProblem::Invalid => unauthorized("InvalidAuthenticationToken", "The access token is invalid."),
    })?;
    if claims["idtyp"] == "app" {
        return Ok(None);
    }
    let scp = claims["scp"].as_str().unwrap_or_default();
    if !scp.split(' ').any(|s| s == "user_impersonation") {
        return Err(unauthorized(
            "InvalidAuthenticationToken",
            "The access token does not carry the 'user_impersonation' scope required by Azure Resource Manager.",
        ));
    }
    Ok(Some(claims["oid"].as_str().unwrap_or_default().to_owned()))
}

/// `GET /arm/subscriptions?api-version=…[&$skiptoken=…]`.
pub(crate) async fn subscriptions(
    State(tenant): State<Arc<Tenant>>,
    headers: HeaderMap,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let resp = match list(&tenant, &headers, &q) {
        Ok(body) => Json(body).into_response(),
        Err(e) => e.into_response(),
    };
    arm_headers(resp, &headers)
}

/// `GET /arm/tenants?api-version=…`: the tenants the caller's token can see — this one, the
/// user's home (ARM's `TenantIdDescription`, every field of the current api-versions).
pub(crate) async fn tenants(
    State(tenant): State<Arc<Tenant>>,
    headers: HeaderMap,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let result = (|| -> Result<Value, ArmError> {
        injected_fault(&tenant)?;
        caller(&tenant, &headers)?;
        api_version(&q, &API_VERSIONS)?;
        let dir = tenant.dir();
        let tid = dir.tenant_id.to_string();
        Ok(json!({"value": [{
            "id": format!("/tenants/{tid}"),
            "tenantId": tid,
            "countryCode": "US",
            "displayName": format!("{} (azobo dev tenant)", dir.domain),
            "domains": [dir.domain],
            "tenantCategory": "Home",
            "defaultDomain": dir.domain,
            "tenantType": "AAD",
            "tenantBrandingLogoUrl": null,
        }]}))
    })();
    let resp = match result {
        Ok(body) => Json(body).into_response(),
        Err(e) => e.into_response(),
    };
    arm_headers(resp, &headers)
}

/// `GET /arm/metadata/endpoints?api-version=…`: this cloud's endpoints, as ARM publishes
/// each cloud's. Sign-in goes to this tenant (`loginEndpoint`), ARM is served under `/arm`,
/// Graph under `/graph`; the resource identifiers are Microsoft's (tokens name them whatever
/// URL serves them). Other services are not emulated: their entries keep Azure's values.
pub(crate) async fn metadata_endpoints(
    State(tenant): State<Arc<Tenant>>,
    headers: HeaderMap,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let version = match api_version(&q, &METADATA_VERSIONS) {
        Ok(v) => v,
        Err(e) => return arm_headers(e.into_response(), &headers),
    };
    let b = &tenant.base;
    let audiences = json!([
        "https://management.core.windows.net/",
        "https://management.azure.com/"
    ]);
    let body = if version == "2015-01-01" {
        json!({
            "galleryEndpoint": "https://gallery.azure.com/",
            "graphEndpoint": "https://graph.windows.net/",
            "portalEndpoint": "https://portal.azure.com/",
            "authentication": {"loginEndpoint": format!("{b}/"), "audiences": audiences},
        })
    } else {
        let cloud = json!({
            "portal": "https://portal.azure.com",
            "authentication": {
                "loginEndpoint": b,
                "audiences": audiences,
                "tenant": "common",
                "identityProvider": "AAD",
            },
            "media": "https://rest.media.azure.net",
            "graphAudience": "https://graph.windows.net/",
            "graph": "https://graph.windows.net/",
            "name": CLOUD_NAME,
            "suffixes": {
                "azureDataLakeStoreFileSystem": "azuredatalakestore.net",
                "acrLoginServer": "azurecr.io",
                "sqlServerHostname": "database.windows.net",
                "azureDataLakeAnalyticsCatalogAndJob": "azuredatalakeanalytics.net",
                "keyVaultDns": "vault.azure.net",
                "storage": "core.windows.net",
                "azureFrontDoorEndpointSuffix": "azurefd.net",
                "storageSyncEndpointSuffix": "afs.azure.net",
                "mhsmDns": "managedhsm.azure.net",
                "mysqlServerEndpoint": "mysql.database.azure.com",
                "postgresqlServerEndpoint": "postgres.database.azure.com",
                "mariadbServerEndpoint": "mariadb.database.azure.com",
                "synapseAnalytics": "dev.azuresynapse.net",
                "attestationEndpoint": "attest.azure.net",
            },
            "batch": "https://batch.core.windows.net/",
            "resourceManager": format!("{b}/arm/"),
            "vmImageAliasDoc": "https://raw.githubusercontent.com/Azure/azure-rest-api-specs/main/arm-compute/quickstart-templates/aliases.json",
            "activeDirectoryDataLake": "https://datalake.azure.net/",
            "sqlManagement": "https://management.core.windows.net:8443/",
            "microsoftGraphResourceId": "https://graph.microsoft.com/",
            "appInsightsResourceId": "https://api.applicationinsights.io",
            "appInsightsTelemetryChannelResourceId": "https://dc.applicationinsights.azure.com/v2/track",
            "attestationResourceId": "https://attest.azure.net",
            "synapseAnalyticsResourceId": "https://dev.azuresynapse.net",
            "logAnalyticsResourceId": "https://api.loganalytics.io",
            "ossrDbmsResourceId": "https://ossrdbms-aad.database.windows.net",
        });
        if version == "2019-05-01" {
            json!([cloud])
        } else {
            cloud
        }
    };
    arm_headers(Json(body).into_response(), &headers)
}

/// The name `/metadata/endpoints` gives this cloud (not `AzureCloud`, whose sign-in endpoint
/// clients hard-code).
pub(crate) const CLOUD_NAME: &str = "AzoboDevTenant";

/// A fault injected through `/_dev/faults` for ARM, as ARM's error.
fn injected_fault(tenant: &Tenant) -> Result<(), ArmError> {
    let Some(f) = tenant.knobs().arm_faults.pop_front() else {
        return Ok(());
    };
    let status = StatusCode::from_u16(f.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    if status == StatusCode::UNAUTHORIZED {
        // Continuous Access Evaluation: the session was revoked, or policy changed.
        let mut e = unauthorized(
            "InvalidAuthenticationToken",
            "The access token has been revoked (Continuous Access Evaluation).",
        );
        e.claims = f.claims;
        return Err(e);
    }
    let (code, msg) = match status {
        StatusCode::TOO_MANY_REQUESTS => (
            "TooManyRequests",
            "The request is being throttled as the limit has been reached for operation type - Read.",
        ),
        StatusCode::INTERNAL_SERVER_ERROR => (
            "InternalServerError",
            "Encountered internal server error. Please try again later.",
        ),
        StatusCode::GATEWAY_TIMEOUT => (
            "GatewayTimeout",
            "The gateway did not receive a response from 'Microsoft.Resources' within the specified time period.",
        ),
        _ => (
            "ServiceUnavailable",
            "The service is currently unavailable. Please try again later.",
        ),
    };
    let mut e = ArmError::new(status, code, msg);
    e.retry_after = f
        .retry_after
        .or((status == StatusCode::TOO_MANY_REQUESTS).then_some(1));
    Err(e)
}

fn list(
    tenant: &Tenant,
    headers: &HeaderMap,
    q: &BTreeMap<String, String>,
) -> Result<Value, ArmError> {
    injected_fault(tenant)?;
    let oid = caller(tenant, headers)?;
    let version = api_version(q, &API_VERSIONS)?;
    let offset = match q.get("$skiptoken") {
        None => 0,
        Some(t) => URL_SAFE_NO_PAD
            .decode(t)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| {
                s.strip_prefix("offset:")
                    .and_then(|n| n.parse::<usize>().ok())
            })
            .ok_or_else(|| {
                ArmError::new(
                    StatusCode::BAD_REQUEST,
                    "InvalidSkipToken",
                    "The skip token is invalid.",
                )
            })?,
    };
    let all: Vec<Value> = match oid {
        Some(oid) => tenant
            .dir()
            .user_by_oid(&oid)
            .map(|u| u.subscriptions.clone())
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let page_size = tenant.knobs().page_size.max(1);
    let total = all.len();
    let page: Vec<Value> = all.into_iter().skip(offset).take(page_size).collect();
    let mut body = json!({"value": page, "count": {"type": "Total", "value": total}});
    if offset + page_size < total {
        let token = URL_SAFE_NO_PAD.encode(format!("offset:{}", offset + page_size));
        let mut next =
            url::Url::parse(&format!("{}/arm/subscriptions", tenant.base)).map_err(|_| {
                ArmError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalServerError",
                    "bad base URL",
                )
            })?;
        next.query_pairs_mut()
            .append_pair("api-version", version)
            .append_pair("$skiptoken", &token);
        body["nextLink"] = json!(next.as_str());
    }
    Ok(body)
}
