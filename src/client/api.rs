//! Calling the protected API: `GET {api_url}/subscriptions` with the user's bearer token, a
//! correlation id and azobo's user agent; retries on a reset connection and on 503 (bounded);
//! accepts ARM's `{"value":[…]}` shape or a bare array; and classifies every failure.

use std::time::Duration;

use base64::Engine as _;
use serde_json::Value;
use url::Url;

use super::entra::source_chain;
use crate::error::Error;

/// Tries per call, and the pause before each retry.
const BACKOFF: [Duration; 2] = [Duration::from_millis(300), Duration::from_millis(1200)];

/// What the API returned.
#[derive(Debug)]
pub struct Listing {
    /// The subscriptions, exactly as returned.
    pub items: Vec<Value>,
    /// The API passed on a `nextLink`: it relays only ARM's first page.
    pub incomplete: bool,
}

/// Why a call failed, for the caller to decide what to do next.
#[derive(Debug)]
pub enum CallError {
    /// 401 `insufficient_claims`: sign in again with these claims (decoded JSON).
    Claims {
        /// The claims challenge, as JSON text.
        claims: String,
        /// The API's message.
        message: String,
    },
    /// 401 otherwise (`invalid_token`): refresh and retry, then sign in.
    Unauthorized(String),
    /// Anything else, already classified.
    Fatal(Error),
}

/// One call to the API: where, under which correlation id, and within which bounds.
#[derive(Debug, Clone)]
pub struct Call<'a> {
    /// `{api_url}/subscriptions`.
    pub url: &'a str,
    /// Sent as `x-ms-correlation-id`, and named in every error so an operator can find it.
    pub correlation_id: &'a str,
    /// The whole call, retries included.
    pub timeout: Duration,
    /// The largest answer read.
    pub max_bytes: usize,
}

impl<'a> Call<'a> {
    /// A call with the default bounds: 60 s and 64 MiB.
    pub fn new(url: &'a str, correlation_id: &'a str) -> Self {
        Self {
            url,
            correlation_id,
            timeout: DEFAULT_TIMEOUT,
            max_bytes: super::http::caps::API_LISTING,
        }
    }
}

/// How long a call may take, retries included, unless `--api-timeout` says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The subscriptions URL for an API base URL.
pub fn subscriptions_url(api_url: &Url) -> String {
    format!("{}/subscriptions", api_url.as_str().trim_end_matches('/'))
}

fn api_message(body: &Value) -> Option<String> {
    let e = body.get("error")?;
    let code = e.get("code").and_then(Value::as_str).unwrap_or("");
    let message = e
        .get("message")
        .and_then(Value::as_str)
        .or_else(|| e.as_str())
        .unwrap_or("");
    Some(match (code.is_empty(), message.is_empty()) {
        (false, false) => format!("{code}: {message}"),
        (false, true) => code.to_owned(),
        _ => message.to_owned(),
    })
}

/// Reads `claims="…"` (base64 of a JSON object) from a `WWW-Authenticate: Bearer` challenge.
pub fn claims_challenge(header: &str) -> Option<String> {
    if !header.contains("insufficient_claims") {
        return None;
    }
    let b64 = header.split("claims=\"").nth(1)?.split('"').next()?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    // Only what `azobo login --claims-b64` would accept: a bounded JSON object.
    super::sign_in::parse_claims(&text).ok()
}

/// Fetches the subscriptions once (with bounded retries for transient failures), within the
/// call's time and size bounds. Every error ends with the correlation id.
pub async fn subscriptions(
    http: &reqwest::Client,
    call: &Call<'_>,
    token: &str,
) -> Result<Listing, CallError> {
    let id = call.correlation_id;
    match tokio::time::timeout(call.timeout, fetch(http, call, token)).await {
        Ok(Err(CallError::Fatal(e))) => Err(CallError::Fatal(with_correlation(e, id))),
        Ok(other) => other,
        Err(_) => Err(CallError::Fatal(with_correlation(too_slow(call), id))),
    }
}

/// The call's deadline passed (the whole call's, or the one request's: the same bound).
fn too_slow(call: &Call<'_>) -> Error {
    Error::upstream(format!(
        "the API at {} did not answer within {} s",
        call.url,
        call.timeout.as_secs()
    ))
    .with_hint("retry; raise `--api-timeout` for a slow API, and if it keeps happening the API's operator must look for the correlation id in its logs")
}

/// `e` with `(correlation id …)` after its message, keeping its class and hint.
fn with_correlation(e: Error, id: &str) -> Error {
    let suffix = format!(" (correlation id {id})");
    match e {
        Error::Hinted { inner, hint } => Error::Hinted {
            inner: Box::new(with_correlation(*inner, id)),
            hint,
        },
        Error::Upstream { message } => Error::Upstream {
            message: message + &suffix,
        },
        Error::AccessDenied { message } => Error::AccessDenied {
            message: message + &suffix,
        },
        Error::Failure { message } => Error::Failure {
            message: message + &suffix,
        },
        Error::SignInRequired { message } => Error::SignInRequired {
            message: message + &suffix,
        },
        other => other,
    }
}

async fn fetch(http: &reqwest::Client, call: &Call<'_>, token: &str) -> Result<Listing, CallError> {
    let url = call.url;
    tracing::info!(
        "calling the API: GET {url} (correlation id {})",
        call.correlation_id
    );
    let mut attempt = 0;
    let resp = loop {
        let sent = super::http::send(
            http.get(url)
                .bearer_auth(token)
                .header("x-ms-correlation-id", call.correlation_id)
                .header(reqwest::header::ACCEPT, "application/json")
                // The call's own deadline bounds it; the client's 60 s would cut a longer one.
                .timeout(call.timeout),
            attempt,
        )
        .await;
        let retry = match &sent {
            Err(e) => !e.is_timeout() && !e.is_connect() && attempt < BACKOFF.len(),
            Ok(r) => r.status().as_u16() == 503 && attempt < BACKOFF.len(),
        };
        if retry {
            tokio::time::sleep(BACKOFF[attempt]).await;
            attempt += 1;
            continue;
        }
        match sent {
            Ok(r) => break r,
            Err(e) if e.is_connect() => {
                return Err(CallError::Fatal(Error::upstream(format!(
                    "no API at {url} — is `azobo serve-api` running? ({})",
                    source_chain(&e)
                ))));
            }
            Err(e) if e.is_timeout() => return Err(CallError::Fatal(too_slow(call))),
            Err(e) => {
                return Err(CallError::Fatal(Error::upstream(format!(
                    "calling {url}: {}",
                    source_chain(&e)
                ))));
            }
        }
    };
    let status = resp.status();
    let challenge = resp
        .headers()
        .get(reqwest::header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = super::http::read_capped(resp, call.max_bytes)
        .await
        .map_err(|e| match e {
            super::http::BodyError::TooLarge(max) => CallError::Fatal(
                Error::upstream(format!(
                    "the API at {url} sent more than {} MiB; azobo stopped reading",
                    max / (1024 * 1024)
                ))
                .with_hint("raise `--max-response-mib` if the list really is that long; otherwise the API's operator must fix what it sends"),
            ),
            other @ super::http::BodyError::Read(_) => {
                CallError::Fatal(Error::upstream(format!("the API at {url}: {other}")))
            }
        })?;
    let body: Option<Value> = serde_json::from_slice(&bytes).ok();
    if !status.is_success() {
        let message = body
            .as_ref()
            .and_then(api_message)
            .unwrap_or_else(|| status.to_string());
        return Err(match status.as_u16() {
            401 => match challenge.as_deref().and_then(claims_challenge) {
                Some(claims) => CallError::Claims { claims, message },
                None => CallError::Unauthorized(message),
            },
            403 => CallError::Fatal(Error::AccessDenied {
                message: format!("the API refused access: {message}"),
            }),
            429 | 503 => CallError::Fatal(
                Error::upstream(format!("the API at {url} is busy ({status}): {message}"))
                    .with_hint("retry in a minute"),
            ),
            s if s >= 500 => CallError::Fatal(
                Error::upstream(format!("the API at {url} failed ({status}): {message}"))
                    .with_hint("this is on the API's side: retry later; if it persists, the API's operator must look for the correlation id in its logs"),
            ),
            _ => CallError::Fatal(Error::failure(format!(
                "the API at {url} answered {status}: {message}"
            ))),
        });
    }
    let unexpected = || {
        CallError::Fatal(Error::failure(format!(
            "the API at {url} answered {status} with something that is not a subscription list"
        )))
    };
    let listing = match body.ok_or_else(unexpected)? {
        Value::Array(items) => Listing {
            items,
            incomplete: false,
        },
        Value::Object(mut o) => {
            let incomplete = o
                .get("nextLink")
                .is_some_and(|n| n.as_str().is_some_and(|s| !s.is_empty()));
            match o.remove("value") {
                Some(Value::Array(items)) => Listing { items, incomplete },
                _ => return Err(unexpected()),
            }
        }
        _ => return Err(unexpected()),
    };
    tracing::info!(
        "the API answered {status} with {} subscription(s){}",
        listing.items.len(),
        if listing.incomplete {
            ", and a nextLink"
        } else {
            ""
        }
    );
    // A row without a subscription id would print as a blank subscription: refuse the list.
    if let Some(n) = listing.items.iter().position(|s| {
        s.get("subscriptionId")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
    }) {
        return Err(CallError::Fatal(Error::failure(format!(
            "the API at {url} answered {status} with a list whose item {} is not a subscription (no subscriptionId)",
            n + 1
        ))));
    }
    Ok(listing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_come_out_of_the_challenge() {
        let json = r#"{"access_token":{"capolids":{"essential":true,"values":["x"]}}}"#;
        let b64 = base64::engine::general_purpose::STANDARD.encode(json);
        let h = format!(
            "Bearer error=\"insufficient_claims\", claims=\"{b64}\", error_description=\"x\""
        );
        assert_eq!(claims_challenge(&h).as_deref(), Some(json));
        assert_eq!(claims_challenge("Bearer error=\"invalid_token\""), None);
        assert_eq!(
            claims_challenge("Bearer error=\"insufficient_claims\", claims=\"!!\""),
            None
        );
    }

    #[test]
    fn api_messages_of_both_shapes() {
        assert_eq!(
            api_message(&serde_json::json!({"error":{"code":"c","message":"m"}})).unwrap(),
            "c: m"
        );
        assert_eq!(
            api_message(&serde_json::json!({"error":"plain"})).unwrap(),
            "plain"
        );
        assert!(api_message(&serde_json::json!({"x":1})).is_none());
    }
}
