//! `azobo serve-api`: the protected middle tier. It validates the caller's Entra ID token,
//! exchanges it On-Behalf-Of the user for an ARM token, and returns every page of the user's
//! subscriptions.

pub mod arm;
pub mod auth;
pub mod cache_keys;
pub mod error;
pub mod jwks;
pub mod metrics;
pub mod obo;
pub mod settings;
pub mod shared_cache;

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use error::ApiError;
use jwks::KeyCache;
use metrics::Metrics;
use obo::Obo;
use settings::Settings;

/// Everything a request handler needs.
pub struct AppState {
    /// Configuration.
    pub settings: Settings,
    /// Signing keys and issuers.
    pub keys: Arc<KeyCache>,
    /// Tokens already verified, until they expire.
    pub verified: auth::VerifiedTokens,
    /// OBO exchanger and cache.
    pub obo: Obo,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// The pooled client for ARM.
    pub http: reqwest::Client,
}

impl AppState {
    /// Builds the state; nothing is fetched until the key refresher starts, and the shared cache
    /// (if any) connects on first use.
    pub fn new(
        settings: Settings,
        http: reqwest::Client,
        shared: Option<Arc<shared_cache::SharedCache>>,
    ) -> Self {
        let keys = Arc::new(
            KeyCache::new(
                http.clone(),
                settings.tenant_authority(&settings.tenant),
                settings.accept_v1,
            )
            .with_refetch_floor(settings.jwks_refetch_floor),
        );
        Self {
            obo: Obo::new(http.clone(), shared),
            keys,
            verified: auth::VerifiedTokens::default(),
            metrics: Arc::new(Metrics::default()),
            http,
            settings,
        }
    }
}

/// The correlation id of a request: the caller's `x-ms-correlation-id` / `x-request-id` when it
/// is a sane token, else a new one.
#[derive(Clone)]
struct CorrelationId(String);

/// Who called, for the access log.
#[derive(Clone)]
struct Who {
    tid: String,
    oid: String,
}

fn correlation_id(headers: &HeaderMap) -> String {
    ["x-ms-correlation-id", "x-request-id"]
        .iter()
        .filter_map(|h| headers.get(*h).and_then(|v| v.to_str().ok()))
        .find(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}

async fn subscriptions(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    request: Request,
) -> Response {
    let corr = request
        .extensions()
        .get::<CorrelationId>()
        .map_or_else(String::new, |c| c.0.clone());
    let result = async {
        let caller =
            auth::authenticate(&headers, &state.settings, &state.keys, &state.verified).await?;
        let who = Who {
            tid: caller.tid.clone(),
            oid: caller.oid.clone(),
        };
        // ARM refusing the exchanged token evicts it: a claims challenge goes back to the caller
        // (who must sign in again); a plain refusal gets one fresh exchange.
        let mut fresh_tries = 1;
        let value = loop {
            let token = state
                .obo
                .arm_token(&state.settings, &state.metrics, &caller, &corr)
                .await
                .map_err(|e| (e, Some(who.clone())))?;
            let listed = arm::subscriptions(
                &state.http,
                &state.metrics,
                &state.settings.arm_url,
                &state.settings.arm_api_version,
                &token.secret,
                &corr,
            )
            .await;
            match listed {
                Ok(v) => break v,
                Err(e @ (ApiError::InsufficientClaims { .. } | ApiError::ArmTokenRejected)) => {
                    state
                        .obo
                        .forget(&state.settings, &state.metrics, &caller)
                        .await;
                    if matches!(e, ApiError::ArmTokenRejected) && fresh_tries > 0 {
                        fresh_tries -= 1;
                        continue;
                    }
                    return Err((e, Some(who.clone())));
                }
                Err(e) => return Err((e, Some(who.clone()))),
            }
        };
        Ok::<_, (ApiError, Option<Who>)>((value, who))
    }
    .await;
    match result {
        Ok((value, who)) => {
            let mut resp = listing(&value);
            resp.extensions_mut().insert(who);
            resp
        }
        Err((e, who)) => {
            let mut resp = e.into_response();
            if let Some(w) = who {
                resp.extensions_mut().insert(w);
            }
            resp
        }
    }
}

/// `{"value":[…],"count":{"type":"Total","value":N}}`, each subscription written as ARM wrote it.
fn listing(value: &[Box<serde_json::value::RawValue>]) -> Response {
    #[derive(serde::Serialize)]
    struct Count {
        r#type: &'static str,
        value: usize,
    }
    #[derive(serde::Serialize)]
    struct Listing<'a> {
        value: &'a [Box<serde_json::value::RawValue>],
        count: Count,
    }
    let body = Listing {
        value,
        count: Count {
            r#type: "Total",
            value: value.len(),
        },
    };
    match serde_json::to_vec(&body) {
        Ok(bytes) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            bytes,
        )
            .into_response(),
        // Raw values are JSON already; writing them cannot fail, but never panic on it.
        Err(e) => ApiError::BadGateway {
            code: "arm_bad_response".into(),
            message: format!("the listing could not be written: {e}"),
        }
        .into_response(),
    }
}

impl From<ApiError> for (ApiError, Option<Who>) {
    fn from(e: ApiError) -> Self {
        (e, None)
    }
}

async fn healthz() -> Response {
    Json(json!({"status": "ok"})).into_response()
}

/// Ready once the signing keys are loaded. A degraded shared cache is reported, not failed: the
/// instance still serves (from memory, exchanging directly).
async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    if state.keys.current().is_some() {
        let cache = match state.obo.shared() {
            None => json!({"kind": "memory"}),
            Some(s) => match s.degraded() {
                None => json!({"kind": "redis", "endpoint": s.endpoint(), "state": "ok"}),
                Some(why) => json!({
                    "kind": "redis", "endpoint": s.endpoint(), "state": "degraded",
                    "detail": format!("{why}; serving from memory and exchanging directly"),
                }),
            },
        };
        Json(json!({"status": "ready", "token_cache": cache})).into_response()
    } else {
        ApiError::Unavailable(
            "the identity platform's metadata and signing keys are not loaded yet".into(),
        )
        .into_response()
    }
}

/// `/metrics` alone, for `--metrics-listen`.
pub fn metrics_router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/metrics", get(metrics_text))
        .fallback(|| async { ApiError::NotFound.into_response() })
        .with_state(state)
}

async fn metrics_text(State(state): State<Arc<AppState>>) -> Response {
    let mut resp = state.metrics.encode().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    resp
}

/// Per request: correlation id, GET bodies refused, a time limit, metrics and one access-log
/// line (never a token).
async fn envelope(State(state): State<Arc<AppState>>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let corr = correlation_id(req.headers());
    req.extensions_mut().insert(CorrelationId(corr.clone()));
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let has_body = req.headers().get(header::TRANSFER_ENCODING).is_some()
        || req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0");
    let mut resp =
        if has_body && (method == axum::http::Method::GET || method == axum::http::Method::HEAD) {
            ApiError::BodyNotAllowed.into_response()
        } else {
            match tokio::time::timeout(state.settings.request_timeout, next.run(req)).await {
                Ok(r) => r,
                Err(_) => ApiError::Timeout("the request took too long".into()).into_response(),
            }
        };
    if let Ok(v) = HeaderValue::from_str(&corr) {
        resp.headers_mut().insert("x-ms-correlation-id", v);
    }
    let route = match path.as_str() {
        "/subscriptions" => "/subscriptions",
        "/healthz" => "/healthz",
        "/readyz" => "/readyz",
        "/metrics" => "/metrics",
        _ => "other",
    };
    let status = resp.status().as_u16();
    let elapsed = started.elapsed();
    state.metrics.request(route, status, elapsed.as_secs_f64());
    let (tid, oid) = resp
        .extensions()
        .get::<Who>()
        .map_or(("-", "-"), |w| (w.tid.as_str(), w.oid.as_str()));
    tracing::info!(
        target: "azobo::access",
        method = %method,
        path = %path,
        status,
        latency_ms = elapsed.as_secs_f64() * 1000.0,
        tenant = tid,
        oid,
        correlation_id = %corr,
        "request"
    );
    resp
}

/// The router.
pub fn router(state: Arc<AppState>, with_metrics: bool) -> Router {
    let not_allowed = || async { ApiError::MethodNotAllowed.into_response() };
    let mut r = Router::new()
        .route("/subscriptions", get(subscriptions).fallback(not_allowed))
        .route("/healthz", get(healthz).fallback(not_allowed))
        .route("/readyz", get(readyz).fallback(not_allowed));
    if with_metrics {
        r = r.route("/metrics", get(metrics_text).fallback(not_allowed));
    }
    r.fallback(|| async { ApiError::NotFound.into_response() })
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            envelope,
        ))
        .with_state(state)
}
