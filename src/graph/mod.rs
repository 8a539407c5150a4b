//! A Microsoft Graph client for what `azobo setup` does: applications, service principals and
//! delegated permission grants. One bearer token (held in memory only), Graph's error shape
//! reported in one line with its request id, bounded retries for throttling and for the seconds
//! a just-created object takes to replicate, and a dry-run mode that sends no write at all.

pub mod registration;

use std::sync::Mutex;
use std::time::Duration;

use reqwest::Method;
use serde::Serialize;
use serde_json::{Value, json};

use crate::error::{Error, Result};

/// Tries per request for throttling (429) and a busy service (503, 504).
const BUSY_TRIES: usize = 5;
/// Tries for an object that should exist but is not replicated yet (404).
const REPLICATION_TRIES: usize = 8;
/// Longest wait between two tries.
const MAX_WAIT: Duration = Duration::from_secs(10);

/// A write `--dry-run` would have sent.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedRequest {
    /// HTTP method.
    pub method: String,
    /// Full URL.
    pub url: String,
    /// The JSON body (never a secret: `addPassword` bodies carry none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

/// A signed-in Graph client.
pub struct Graph {
    http: reqwest::Client,
    base: String,
    token: String,
    dry_run: bool,
    planned: Mutex<Vec<PlannedRequest>>,
    /// Called with a line for people when azobo waits (replication, throttling).
    on_wait: Box<dyn Fn(&str) + Send + Sync>,
}

impl std::fmt::Debug for Graph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Graph")
            .field("base", &self.base)
            .field("token", &"<redacted>")
            .field("dry_run", &self.dry_run)
            .finish_non_exhaustive()
    }
}

/// Whether a 404 means "not there" or "not replicated yet".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// A 404 is an answer.
    IsAnswer,
    /// The object was just created: wait for it.
    Wait,
}

impl Graph {
    /// A client for `{graph_url}/v1.0` with `token`; `dry_run` records writes instead of sending.
    pub fn new(
        http: reqwest::Client,
        graph_url: &str,
        token: String,
        dry_run: bool,
        on_wait: Box<dyn Fn(&str) + Send + Sync>,
    ) -> Self {
        Self {
            http,
            base: format!("{}/v1.0", graph_url.trim_end_matches('/')),
            token,
            dry_run,
            planned: Mutex::new(Vec::new()),
            on_wait,
        }
    }

    /// The writes a dry run recorded.
    pub fn planned(&self) -> Vec<PlannedRequest> {
        self.planned.lock().map(|p| p.clone()).unwrap_or_default()
    }

    /// True in a dry run.
    pub fn dry_run(&self) -> bool {
        self.dry_run
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base, path.trim_start_matches('/'))
    }

    /// `GET path`; `None` on 404 when `missing` is `IsAnswer`.
    pub async fn get(&self, path: &str, missing: Missing) -> Result<Option<Value>> {
        self.send(Method::GET, path, None, missing).await
    }

    /// The `value` list of a `GET` collection.
    pub async fn list(&self, path: &str) -> Result<Vec<Value>> {
        let v = self
            .get(path, Missing::IsAnswer)
            .await?
            .unwrap_or(Value::Null);
        Ok(v["value"].as_array().cloned().unwrap_or_default())
    }

    /// A write (`POST`, `PATCH`, `DELETE`); in a dry run it is recorded and `placeholder`
    /// stands in for the answer.
    pub async fn write(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        placeholder: Value,
    ) -> Result<Value> {
        if self.dry_run {
            if let Ok(mut p) = self.planned.lock() {
                p.push(PlannedRequest {
                    method: method.to_string(),
                    url: self.url(path),
                    body,
                });
            }
            return Ok(placeholder);
        }
        // Writes to an object created a moment ago may meet a replica that has not seen it; a
        // DELETE of something already gone is done.
        let missing = if method == Method::DELETE {
            Missing::IsAnswer
        } else {
            Missing::Wait
        };
        Ok(self
            .send(method, path, body.as_ref(), missing)
            .await?
            .unwrap_or(Value::Null))
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        missing: Missing,
    ) -> Result<Option<Value>> {
        let url = self.url(path);
        let mut busy = 0;
        let mut replication = 0;
        loop {
            let mut req = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(&self.token)
                .header("client-request-id", uuid::Uuid::new_v4().to_string())
                .header(reqwest::header::ACCEPT, "application/json");
            if let Some(b) = body {
                req = req.json(b);
            }
            let resp = crate::client::http::send(req, busy + replication)
                .await
                .map_err(|e| {
                    Error::upstream(format!(
                        "calling Microsoft Graph ({method} {url}): {}",
                        crate::client::entra::source_chain(&e)
                    ))
                })?;
            let status = resp.status();
            let retry_after = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            let request_id = resp
                .headers()
                .get("request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let bytes = crate::client::http::read_capped(resp, crate::client::http::caps::GRAPH)
                .await
                .map_err(|e| Error::upstream(format!("Microsoft Graph ({method} {url}): {e}")))?;
            let json: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            if status.is_success() {
                return Ok(Some(if bytes.is_empty() { json!({}) } else { json }));
            }
            let code = status.as_u16();
            // 429 means "not done"; a 503 or 504 may have done a POST all the same, and a second
            // POST would create a second object.
            let retryable = code == 429 || (matches!(code, 503 | 504) && method != Method::POST);
            if retryable && busy + 1 < BUSY_TRIES {
                busy += 1;
                let wait = retry_after
                    .map_or(Duration::from_secs(1 << busy), Duration::from_secs)
                    .min(MAX_WAIT);
                (self.on_wait)(&format!(
                    "Microsoft Graph is busy ({code}); retrying in {} s…",
                    wait.as_secs()
                ));
                tokio::time::sleep(wait).await;
                continue;
            }
            // Replication lag shows as a 404, or as a 400 saying an app just created does not exist
            // (a service principal for it).
            let lagging = code == 404
                || (code == 400
                    && json["error"]["message"].as_str().is_some_and(|m| {
                        m.contains("does not reference a valid application object")
                    }));
            if lagging && missing == Missing::Wait && replication + 1 < REPLICATION_TRIES {
                replication += 1;
                let wait = Duration::from_millis(500 << replication.min(4)).min(MAX_WAIT);
                (self.on_wait)("waiting for Microsoft Graph to replicate a new object…");
                tokio::time::sleep(wait).await;
                continue;
            }
            if code == 404 && missing == Missing::IsAnswer {
                return Ok(None);
            }
            return Err(graph_error(
                &method,
                &url,
                status,
                &json,
                request_id.as_deref(),
            ));
        }
    }
}

/// Graph's `{"error":{"code","message","innerError":{"request-id"}}}` in one line.
fn graph_error(
    method: &Method,
    url: &str,
    status: reqwest::StatusCode,
    body: &Value,
    request_id: Option<&str>,
) -> Error {
    let e = &body["error"];
    let code = e["code"].as_str().unwrap_or("");
    let text = e["message"].as_str().unwrap_or("");
    let id = e["innerError"]["request-id"]
        .as_str()
        .or(request_id)
        .unwrap_or("none");
    let path = url.split("/v1.0/").nth(1).unwrap_or(url);
    let message = format!(
        "Microsoft Graph refused {method} /{path}: {status} {code}: {} (request-id {id})",
        text.lines().next().unwrap_or("")
    );
    match status.as_u16() {
        401 => Error::SignInRequired { message },
        403 => Error::AccessDenied { message },
        s if s >= 500 || s == 429 => Error::upstream(message),
        _ => Error::failure(message),
    }
}

/// True when `err` is Graph's "you lack the role" (403 `Authorization_RequestDenied`).
pub fn is_denied(err: &Error) -> bool {
    err.exit_code() == crate::error::EXIT_ACCESS_DENIED
        && err.to_string().contains("Authorization_RequestDenied")
}
