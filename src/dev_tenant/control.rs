//! `/_dev/…`: knobs for tests — token lifetime, failing sign-ins, MFA, consent, injected 429/5xx,
//! key rotation, device-code approval, the request log, and reset. JSON in, JSON out.
//!
//! They mint tokens and switch sign-ins on, so [`guard`] keeps web pages out: a browser sends
//! an `Origin` with every cross-site write, cannot send `Content-Type: application/json`
//! across sites without a CORS preflight this server never grants, and a DNS-rebinding page
//! carries its own name in `Host`.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::keys::SigningKey;
use super::{Fault, Tenant, authorize};

fn bad(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": message.into()})),
    )
        .into_response()
}

fn refuse(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": message.into()}))).into_response()
}

/// Admits a control request only from a local program: the `Host` one of this listener's
/// loopback names, no `Origin`, a JSON body on writes, and the control token when the
/// tenant was started with `--control-token`.
pub(crate) async fn guard(State(t): State<Arc<Tenant>>, req: Request, next: Next) -> Response {
    let h = req.headers();
    if h.contains_key(header::ORIGIN) {
        return refuse(
            StatusCode::FORBIDDEN,
            "control endpoints refuse requests with an `Origin` header: web pages may not call them",
        );
    }
    let host = h
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !t.control_hosts.iter().any(|a| a.eq_ignore_ascii_case(host)) {
        return refuse(
            StatusCode::FORBIDDEN,
            format!(
                "control endpoints answer only `Host: {}`",
                t.control_hosts.first().map_or("", String::as_str)
            ),
        );
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let json = h
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        if !json {
            return refuse(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "control endpoints take `Content-Type: application/json`",
            );
        }
    }
    if let Some(want) = &t.control_token {
        use subtle::ConstantTimeEq as _;
        let given = h
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !bool::from(given.as_bytes().ct_eq(want.as_bytes())) {
            return refuse(
                StatusCode::UNAUTHORIZED,
                "control endpoints need `Authorization: Bearer <control_token>` (from the startup line)",
            );
        }
    }
    next.run(req).await
}

fn ok() -> Response {
    Json(json!({"ok": true})).into_response()
}

/// Parses a JSON body; an empty body is `{}`.
fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, Response> {
    let src: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    serde_json::from_slice(src).map_err(|e| bad(format!("invalid JSON body: {e}")))
}

macro_rules! parse {
    ($bytes:expr) => {
        match body(&$bytes) {
            Ok(v) => v,
            Err(r) => return r,
        }
    };
}

pub(crate) fn routes() -> Router<Arc<Tenant>> {
    Router::new()
        .route("/_dev/state", get(state))
        .route("/_dev/token-lifetime", post(token_lifetime))
        .route("/_dev/deny-next-sign-in", post(deny_next))
        .route("/_dev/auto-approve", post(auto_approve))
        .route("/_dev/users/{username}/mfa", post(mfa))
        .route("/_dev/users/{username}/revoke", post(revoke))
        .route("/_dev/faults", post(faults))
        .route("/_dev/consent", post(consent))
        .route("/_dev/page-size", post(page_size))
        .route("/_dev/keys/rotate", post(rotate))
        .route("/_dev/device/approve", post(device_approve))
        .route("/_dev/device/decline", post(device_decline))
        .route("/_dev/clock", post(clock))
        .route("/_dev/requests", get(requests))
        .route("/_dev/issued", get(issued))
        .route("/_dev/sign", post(sign))
        .route("/_dev/reset", post(reset))
}

async fn state(State(t): State<Arc<Tenant>>) -> Response {
    let arm_consented = {
        let dir = t.dir();
        let api = dir.api_client_id.to_string();
        super::consent::allowed(
            &dir,
            &api,
            super::seed::ARM_APP_ID,
            "user_impersonation",
            "",
        )
    };
    let k = t.knobs();
    let users: Vec<_> = t
        .dir()
        .users
        .iter()
        .map(|u| json!({"username": u.username, "mfa_required": u.mfa_required}))
        .collect();
    Json(json!({
        "token_lifetime": k.token_lifetime,
        "announce_expires_in": k.announce_expires_in,
        "auto_approve": k.auto_approve,
        "next_sign_in_error": k.next_sign_in_error,
        "pending_token_faults": k.token_faults.len(),
        "pending_arm_faults": k.arm_faults.len(),
        "arm_consented": arm_consented,
        "page_size": k.page_size,
        "kids": t.keys().keys.iter().map(|k| k.kid.clone()).collect::<Vec<_>>(),
        "users": users,
    }))
    .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Lifetime {
    seconds: Option<u64>,
    /// Announce this `expires_in` instead (unbounded on purpose: a misbehaving identity
    /// platform for clients' tests; the tokens themselves keep `seconds`).
    #[serde(default)]
    announce_expires_in: Option<u64>,
}

async fn token_lifetime(State(t): State<Arc<Tenant>>, b: Bytes) -> Response {
    let l: Lifetime = parse!(b);
    if l.seconds
        .is_some_and(|s| s == 0 || s > super::MAX_TOKEN_LIFETIME)
    {
        return bad(format!(
            "`seconds` must be between 1 and {}",
            super::MAX_TOKEN_LIFETIME
        ));
    }
    let mut k = t.knobs();
    k.token_lifetime = l.seconds;
    k.announce_expires_in = l.announce_expires_in;
    ok()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Deny {
    #[serde(default)]
    error: Option<String>,
}

const SIGN_IN_ERRORS: [&str; 5] = [
    "access_denied",
    "consent_required",
    "interaction_required",
    "login_required",
    "temporarily_unavailable",
];

async fn deny_next(State(t): State<Arc<Tenant>>, b: Bytes) -> Response {
    let d: Deny = parse!(b);
    let error = d.error.unwrap_or_else(|| "access_denied".to_owned());
    if !SIGN_IN_ERRORS.contains(&error.as_str()) {
        return bad(format!(
            "`error` must be one of {}",
            SIGN_IN_ERRORS.join(", ")
        ));
    }
    t.knobs().next_sign_in_error = Some(error);
    ok()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Auto {
    username: Option<String>,
}

async fn auto_approve(State(t): State<Arc<Tenant>>, b: Bytes) -> Response {
    let a: Auto = parse!(b);
    if let Some(u) = a.username.as_deref().filter(|u| t.dir().user(u).is_none()) {
        return bad(format!("no user `{u}`"));
    }
    t.knobs().auto_approve = a.username;
    ok()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Mfa {
    required: bool,
}

async fn mfa(State(t): State<Arc<Tenant>>, Path(username): Path<String>, b: Bytes) -> Response {
    let m: Mfa = parse!(b);
    let mut dir = t.dir_mut();
    match dir
        .users
        .iter_mut()
        .find(|u| u.username.eq_ignore_ascii_case(&username))
    {
        Some(u) => {
            u.mfa_required = m.required;
            ok()
        }
        None => bad(format!("no user `{username}`")),
    }
}

async fn revoke(State(t): State<Arc<Tenant>>, Path(username): Path<String>) -> Response {
    let Some(oid) = t.dir().user(&username).map(|u| u.oid.to_string()) else {
        return bad(format!("no user `{username}`"));
    };
    let mut n = 0;
    for g in t
        .grants()
        .refresh
        .values_mut()
        .filter(|g| g.user_oid == oid)
    {
        g.revoked = true;
        n += 1;
    }
    t.touch();
    Json(json!({"ok": true, "revoked": n})).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultSpec {
    target: String,
    status: u16,
    #[serde(default = "one")]
    count: usize,
    #[serde(default)]
    retry_after: Option<u64>,
    /// With `status` 401 on `arm`: a CAE challenge carrying these claims (JSON).
    #[serde(default)]
    claims: Option<String>,
}

fn one() -> usize {
    1
}

async fn faults(State(t): State<Arc<Tenant>>, b: Bytes) -> Response {
    let f: FaultSpec = parse!(b);
    let arm_401 = f.status == 401 && f.target == "arm";
    if !(f.status == 429 || (500..=599).contains(&f.status) || arm_401) {
        return bad("`status` must be 429 or 5xx (or 401 for `arm`)");
    }
    if f.claims
        .as_deref()
        .is_some_and(|c| c.len() > 4096 || serde_json::from_str::<serde_json::Value>(c).is_err())
        || (f.claims.is_some() && !arm_401)
    {
        return bad("`claims` is a JSON object of at most 4 KiB, for an `arm` 401");
    }
    if f.count == 0 || f.count > 10_000 {
        return bad("`count` must be between 1 and 10000");
    }
    if f.retry_after.is_some_and(|r| r > 86_400) {
        return bad("`retry_after` must be at most 86400 seconds");
    }
    let fault = Fault {
        status: f.status,
        retry_after: f.retry_after,
        claims: f.claims,
    };
    let mut k = t.knobs();
    let queue = match f.target.as_str() {
        "arm" => &mut k.arm_faults,
        "token" => &mut k.token_faults,
        other => return bad(format!("`target` must be `arm` or `token`, not `{other}`")),
    };
    queue.extend(std::iter::repeat_n(fault, f.count));
    ok()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Consent {
    granted: bool,
    /// The client app; the API app when absent.
    #[serde(default)]
    client_id: Option<String>,
    /// The resource: an app id or a resource URI; ARM when absent.
    #[serde(default)]
    resource: Option<String>,
    /// Space-separated permissions; all the resource exposes when absent.
    #[serde(default)]
    scope: Option<String>,
    /// One user's consent; an administrator's for everyone (grant) or everyone's (revoke)
    /// when absent.
    #[serde(default)]
    username: Option<String>,
}

/// Grants or revokes consent for a (client, resource, permissions), for one user or all.
async fn consent(State(t): State<Arc<Tenant>>, b: Bytes) -> Response {
    let c: Consent = parse!(b);
    let mut dir = t.dir_mut();
    let client = c
        .client_id
        .unwrap_or_else(|| dir.api_client_id.to_string())
        .to_ascii_lowercase();
    if dir.app(&client).is_none() {
        return bad(format!("no app `{client}`"));
    }
    let resource = c.resource.as_deref().unwrap_or(super::scopes::ARM_RESOURCE);
    let resource_app = if uuid::Uuid::try_parse(resource).is_ok() {
        match dir
            .service_principal_of(resource)
            .map(|s| s.app_id.to_string())
        {
            Some(id) => id,
            None if dir.app(resource).is_some() => resource.to_ascii_lowercase(),
            None => return bad(format!("no resource `{resource}`")),
        }
    } else {
        match super::scopes::parse(
            &dir,
            &format!("{}/.default", resource.trim_end_matches('/')),
        ) {
            Ok(s) => super::consent::resource_app_id(s.resource),
            Err(_) => return bad(format!("no resource `{resource}`")),
        }
    };
    let exposed: Vec<String> = dir
        .service_principal_of(&resource_app)
        .map(|sp| sp.scopes.iter().map(|(_, v)| v.clone()).collect())
        .or_else(|| dir.app(&resource_app).map(|a| a.scopes.clone()))
        .unwrap_or_default();
    let permissions: Vec<String> = match &c.scope {
        Some(s) => s.split_ascii_whitespace().map(str::to_owned).collect(),
        None => exposed.clone(),
    };
    if let Some(p) = permissions.iter().find(|p| !exposed.contains(p)) {
        return bad(format!("`{resource}` exposes no permission `{p}`"));
    }
    if permissions.is_empty() {
        return bad("no permissions to consent to");
    }
    let principal = match &c.username {
        Some(u) => match dir.user(u) {
            Some(user) => Some(user.oid),
            None => return bad(format!("no user `{u}`")),
        },
        None => None,
    };
    if c.granted {
        super::consent::grant(&mut dir, &client, &resource_app, &permissions, principal);
    } else {
        super::consent::revoke(&mut dir, &client, &resource_app, &permissions, principal);
    }
    Json(json!({
        "ok": true,
        "client_id": client,
        "resource_app_id": resource_app,
        "scope": permissions.join(" "),
    }))
    .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PageSize {
    size: usize,
}

async fn page_size(State(t): State<Arc<Tenant>>, b: Bytes) -> Response {
    let p: PageSize = parse!(b);
    if p.size == 0 || p.size > 1000 {
        return bad("`size` must be between 1 and 1000");
    }
    t.knobs().page_size = p.size;
    ok()
}

async fn rotate(State(t): State<Arc<Tenant>>) -> Response {
    let fresh = match tokio::task::spawn_blocking(|| {
        SigningKey::generate("azobo dev tenant signing key (rotated)")
    })
    .await
    {
        Ok(Ok(k)) => k,
        Ok(Err(e)) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({"error": e.to_string()})),
            )
                .into_response();
        }
        Err(e) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({"error": e.to_string()})),
            )
                .into_response();
        }
    };
    let mut keys = t.keys_mut();
    keys.rotate(fresh);
    Json(json!({"ok": true, "current_kid": keys.current().kid, "kids": keys.keys.iter().map(|k| k.kid.clone()).collect::<Vec<_>>()})).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Device {
    user_code: String,
    #[serde(default)]
    username: Option<String>,
    /// The user also consents to what the app asks for (the page always does).
    #[serde(default)]
    consent: bool,
}

async fn device_approve(State(t): State<Arc<Tenant>>, b: Bytes) -> Response {
    let d: Device = parse!(b);
    match authorize::decide_device(&t, &d.user_code, d.username.as_deref(), true, d.consent) {
        Ok(()) => ok(),
        Err(m) => bad(m),
    }
}

async fn device_decline(State(t): State<Arc<Tenant>>, b: Bytes) -> Response {
    let d: Device = parse!(b);
    match authorize::decide_device(&t, &d.user_code, d.username.as_deref(), false, false) {
        Ok(()) => ok(),
        Err(m) => bad(m),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Clock {
    advance_seconds: u64,
}

/// Ages outstanding codes, device codes and refresh tokens; signed JWTs keep real time.
async fn clock(State(t): State<Arc<Tenant>>, b: Bytes) -> Response {
    let c: Clock = parse!(b);
    match t.advance_clock(c.advance_seconds) {
        Ok(()) => ok(),
        Err(room) => bad(format!(
            "`advance_seconds` must be at most {room} (the clock moves at most {} seconds in all)",
            super::MAX_CLOCK_OFFSET
        )),
    }
}

async fn requests(State(t): State<Arc<Tenant>>) -> Response {
    Json(json!({"requests": t.lock_log().entries()})).into_response()
}

/// SHA-256 (base64url) of every token and code issued: enough to recognise a leak, useless to
/// anyone reading it.
async fn issued(State(t): State<Arc<Tenant>>) -> Response {
    Json(json!({"sha256": t.issued()})).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignRequest {
    claims: serde_json::Value,
    #[serde(default)]
    kid: Option<String>,
}

/// Signs arbitrary claims with the current key: lets tests of a resource server craft expired,
/// misdirected or scope-less tokens that are otherwise perfectly signed. `kid` overrides the
/// header's key id (to present an unknown one).
async fn sign(State(t): State<Arc<Tenant>>, b: Bytes) -> Response {
    let r: SignRequest = parse!(b);
    if !r.claims.is_object() {
        return bad("`claims` must be an object");
    }
    let signed = t
        .keys()
        .current()
        .sign_with_kid(&r.claims, r.kid.as_deref());
    match signed {
        Ok(token) => {
            t.record_issued(&token);
            Json(json!({"token": token})).into_response()
        }
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"error": e.to_string()})),
        )
            .into_response(),
    }
}

async fn reset(State(t): State<Arc<Tenant>>) -> Response {
    t.reset();
    ok()
}
