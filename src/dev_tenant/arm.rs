//! Azure Resource Manager's `GET /subscriptions`: bearer validation with ARM's error codes,
//! per-user lists, `nextLink` paging and injected throttling.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
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
    let mut resp = match list(&tenant, &headers, &q) {
        Ok(body) => Json(body).into_response(),
        Err(e) => e.into_response(),
    };
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

fn list(
    tenant: &Tenant,
    headers: &HeaderMap,
    q: &BTreeMap<String, String>,
) -> Result<Value, ArmError> {
    if let Some(f) = tenant.knobs().arm_faults.pop_front() {
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
        return Err(e);
    }
    let oid = caller(tenant, headers)?;
    let Some(version) = q.get("api-version") else {
        return Err(ArmError::new(
            StatusCode::BAD_REQUEST,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        ));
    };
    let well_formed = version.len() >= 10
        && version[..10].chars().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == '-'
            } else {
                c.is_ascii_digit()
            }
        });
    if !well_formed {
        return Err(ArmError::new(
            StatusCode::BAD_REQUEST,
            "InvalidApiVersionParameter",
            format!(
                "The api-version '{version}' is invalid. The supported versions are '2022-12-01,2021-01-01,2020-01-01,2016-06-01'."
            ),
        ));
    }
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
