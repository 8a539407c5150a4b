//! ARM `GET /subscriptions`, every page: `nextLink` is followed only on the configured ARM host
//! (at most 100 pages), 429/503 are retried honouring `Retry-After` (3 tries, 30 s in all), and
//! ARM's own 401/403 become a 502 carrying ARM's code and message.

use crate::client::http::{BodyError, caps, read_capped};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::value::RawValue;
use url::Url;

use super::error::ApiError;
use super::metrics::Metrics;
use crate::client::entra::source_chain;

const MAX_PAGES: usize = 100;
const TRIES: usize = 3;
const RETRY_BUDGET: Duration = Duration::from_secs(30);
const PAGE_TIMEOUT: Duration = Duration::from_secs(30);

/// A page, its subscriptions kept as the exact JSON text ARM sent: checked to be JSON, never
/// rebuilt into a tree only to be written out again.
#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    value: Vec<Box<RawValue>>,
    #[serde(default, rename = "nextLink")]
    next_link: Option<String>,
}

#[derive(Deserialize, Default)]
struct ArmErrorBody {
    #[serde(default)]
    error: ArmErrorInner,
}

#[derive(Deserialize, Default)]
struct ArmErrorInner {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

fn retry_after(resp: &reqwest::Response) -> Duration {
    resp.headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<u64>().ok())
        // From the network: bounded, so no wait (and no deadline arithmetic) can overflow.
        .map_or(Duration::from_secs(1), |s| {
            Duration::from_secs(s.min(MAX_RETRY_AFTER_SECS))
        })
}

/// The longest `Retry-After` honoured; the retry budget is shorter anyway.
const MAX_RETRY_AFTER_SECS: u64 = 120;

/// Largest claims challenge relayed from ARM.
const MAX_CLAIMS_BYTES: usize = 4096;

/// ARM refused the token itself. With Continuous Access Evaluation it says why in a claims
/// challenge (a revoked session, a new location): the caller must sign in again with those
/// claims. Otherwise the token is stale in some other way and a fresh exchange may do.
fn unauthorized(
    resp: &reqwest::Response,
    metrics: &Metrics,
    correlation_id: &str,
    request_id: &str,
) -> ApiError {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let claims = resp
        .headers()
        .get(reqwest::header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .filter(|h| h.contains("insufficient_claims"))
        .and_then(|h| h.split("claims=\"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .and_then(|c| b64.decode(c).ok())
        .filter(|c| c.len() <= MAX_CLAIMS_BYTES)
        .filter(|c| serde_json::from_slice::<serde_json::Value>(c).is_ok_and(|v| v.is_object()));
    metrics.upstream_error("arm_token_rejected");
    tracing::info!(correlation_id, arm_request_id = %request_id, claims_challenge = claims.is_some(), "ARM refused the token");
    match claims {
        // Re-encoded from what was checked, never relayed as sent.
        Some(c) => ApiError::InsufficientClaims {
            claims_b64: b64.encode(c),
            message: "Azure Resource Manager needs a new sign-in (Continuous Access Evaluation: the session was revoked or its conditions changed)".into(),
        },
        None => ApiError::ArmTokenRejected,
    }
}

async fn page(
    http: &reqwest::Client,
    metrics: &Metrics,
    url: &Url,
    token: &str,
    correlation_id: &str,
    deadline: Instant,
) -> Result<Page, ApiError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let resp = http
            .get(url.clone())
            .bearer_auth(token)
            .header("x-ms-client-request-id", correlation_id)
            .header("x-ms-correlation-request-id", correlation_id)
            .timeout(PAGE_TIMEOUT)
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    metrics.upstream_error("arm_timeout");
                    ApiError::Timeout("Azure Resource Manager did not answer in time".into())
                } else {
                    metrics.upstream_error("arm_unreachable");
                    tracing::warn!(correlation_id, "ARM: {}", source_chain(&e));
                    ApiError::Unavailable("Azure Resource Manager is unreachable".into())
                }
            })?;
        let status = resp.status();
        let request_id = resp
            .headers()
            .get("x-ms-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_owned();
        tracing::debug!(correlation_id, arm_request_id = %request_id, status = status.as_u16(), "ARM page");
        if status.is_success() {
            let body = read_capped(resp, caps::ARM_PAGE).await.map_err(|e| {
                metrics.upstream_error(match e {
                    BodyError::TooLarge(_) => "arm_too_large",
                    BodyError::Read(_) => "arm_cut_off",
                });
                ApiError::BadGateway {
                    code: "arm_bad_response".into(),
                    message: format!("Azure Resource Manager's page could not be read: {e}"),
                }
            })?;
            return serde_json::from_slice::<Page>(&body).map_err(|_| ApiError::BadGateway {
                code: "arm_bad_response".into(),
                message: "Azure Resource Manager sent an unreadable page".into(),
            });
        }
        if status.as_u16() == 401 {
            return Err(unauthorized(&resp, metrics, correlation_id, &request_id));
        }
        let retryable = status.as_u16() == 429 || status.as_u16() == 503;
        let wait = retry_after(&resp);
        if retryable
            && attempt < TRIES
            && Instant::now()
                .checked_add(wait)
                .is_some_and(|t| t < deadline)
        {
            metrics.upstream_error(if status.as_u16() == 429 {
                "arm_throttled"
            } else {
                "arm_unavailable"
            });
            tracing::info!(correlation_id, arm_request_id = %request_id, "ARM answered {status}; retrying in {} s", wait.as_secs());
            tokio::time::sleep(wait).await;
            continue;
        }
        let body: ArmErrorBody = read_capped(resp, caps::IDENTITY)
            .await
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let code = if body.error.code.is_empty() {
            format!("arm_http_{}", status.as_u16())
        } else {
            body.error.code
        };
        metrics.upstream_error("arm_error");
        tracing::warn!(correlation_id, arm_request_id = %request_id, status = status.as_u16(), "ARM refused: {code}");
        return Err(ApiError::BadGateway {
            code,
            message: format!(
                "Azure Resource Manager answered {status}: {}",
                body.error.message
            ),
        });
    }
}

/// Every subscription the token may see, exactly as ARM wrote them.
pub async fn subscriptions(
    http: &reqwest::Client,
    metrics: &Metrics,
    arm_url: &Url,
    api_version: &str,
    token: &str,
    correlation_id: &str,
) -> Result<Vec<Box<RawValue>>, ApiError> {
    let mut url = Url::parse(&format!(
        "{}/subscriptions",
        arm_url.as_str().trim_end_matches('/')
    ))
    .map_err(|e| ApiError::Unavailable(format!("bad ARM URL: {e}")))?;
    url.query_pairs_mut()
        .append_pair("api-version", api_version);
    let deadline = Instant::now() + RETRY_BUDGET;
    let mut all = Vec::new();
    for _ in 0..MAX_PAGES {
        let p = page(http, metrics, &url, token, correlation_id, deadline).await?;
        all.extend(p.value);
        let Some(next) = p.next_link.filter(|n| !n.is_empty()) else {
            return Ok(all);
        };
        let next = Url::parse(&next).map_err(|_| ApiError::BadGateway {
            code: "arm_bad_next_link".into(),
            message: "ARM sent a nextLink that is not a URL".into(),
        })?;
        if !same_origin(&next, arm_url) {
            return Err(ApiError::BadGateway {
                code: "arm_bad_next_link".into(),
                message:
                    "ARM sent a nextLink to another host; not following it with the user's token"
                        .into(),
            });
        }
        url = next;
    }
    Err(ApiError::BadGateway {
        code: "arm_too_many_pages".into(),
        message: format!("ARM returned more than {MAX_PAGES} pages"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_link_must_stay_on_the_arm_origin() {
        let arm = Url::parse("https://management.azure.com").unwrap();
        assert!(same_origin(
            &Url::parse("https://management.azure.com/subscriptions?x=1").unwrap(),
            &arm
        ));
        assert!(same_origin(
            &Url::parse("https://management.azure.com:443/subscriptions").unwrap(),
            &arm
        ));
        assert!(!same_origin(
            &Url::parse("https://evil.example/subscriptions").unwrap(),
            &arm
        ));
        assert!(!same_origin(
            &Url::parse("http://management.azure.com/subscriptions").unwrap(),
            &arm
        ));
    }
}
