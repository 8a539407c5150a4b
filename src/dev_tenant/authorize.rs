//! `/authorize`: validation in Entra's order (tenant, client, redirect URI — shown as a page —
//! then everything else, sent back to the redirect URI), the sign-in page, the consent step for
//! permissions nobody granted yet, auto-approve, and the device-code sign-in page.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};
use url::Url;

use super::consent;
use super::errors::AadError;
use super::scopes;
use super::tokens::{grant_key, random_token};
use super::{CodeGrant, DeviceStatus, Tenant};

/// Codes are redeemable for 10 minutes, once.
const CODE_LIFETIME: Duration = Duration::from_secs(600);

type Params = BTreeMap<String, String>;

/// A request that passed the checks that decide where errors may be sent.
struct Valid {
    redirect: Url,
    state: Option<String>,
}

/// Failures before the redirect URI is trusted are shown on a page, never redirected.
fn error_page(status: StatusCode, e: &AadError) -> Response {
    let body = page(
        "Sign in",
        &format!(
            "<h1>Sorry, but we're having trouble signing you in.</h1><p><code>AADSTS{}</code>: {}</p>",
            e.code,
            text(&e.description)
        ),
    );
    (status, Html(body)).into_response()
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} · azobo dev tenant</title>\
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#1b1b1b}}\
button{{display:block;width:100%;margin:.4rem 0;padding:.7rem;font-size:1rem;text-align:left;cursor:pointer}}\
.muted{{color:#666;font-size:.9rem}}</style></head><body>{body}</body></html>",
        text(title)
    )
}

/// Entra matches a registered loopback redirect ignoring the port (RFC 8252 §7.3), the path
/// exactly; an empty path equals `/`.
fn redirect_matches(registered: &str, given: &Url) -> bool {
    let Ok(reg) = Url::parse(registered) else {
        return false;
    };
    reg.scheme() == given.scheme()
        && reg.host_str() == given.host_str()
        && reg.path() == given.path()
        && given.fragment().is_none()
        && (reg.port() == given.port()
            || reg.host_str() == Some("localhost")
            || reg.host_str() == Some("127.0.0.1"))
}

fn validate_front(tenant: &Tenant, t: &str, p: &Params) -> Result<Valid, Response> {
    if !tenant.knows_tenant(t) {
        return Err(error_page(
            StatusCode::BAD_REQUEST,
            &AadError::unknown_tenant(t),
        ));
    }
    let Some(client_id) = p.get("client_id") else {
        return Err(error_page(
            StatusCode::BAD_REQUEST,
            &AadError::missing("client_id"),
        ));
    };
    let registered: Vec<String> = match tenant.dir().app(client_id) {
        Some(app) => app.redirect_uris.clone(),
        None => {
            return Err(error_page(
                StatusCode::BAD_REQUEST,
                &AadError::unknown_client(client_id),
            ));
        }
    };
    let Some(raw) = p.get("redirect_uri") else {
        return Err(error_page(
            StatusCode::BAD_REQUEST,
            &AadError::missing("redirect_uri"),
        ));
    };
    let ok = Url::parse(raw)
        .ok()
        .filter(|u| registered.iter().any(|r| redirect_matches(r, u)));
    let Some(redirect) = ok else {
        let e = AadError::new(
            "invalid_request",
            50_011,
            format!(
                "The redirect URI '{raw}' specified in the request does not match the redirect URIs configured for the application '{client_id}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal."
            ),
        );
        return Err(error_page(StatusCode::BAD_REQUEST, &e));
    };
    Ok(Valid {
        redirect,
        state: p.get("state").cloned(),
    })
}

fn redirect_with(v: &Valid, pairs: &[(&str, &str)]) -> Response {
    let mut url = v.redirect.clone();
    {
        let mut q = url.query_pairs_mut();
        for (k, val) in pairs {
            q.append_pair(k, val);
        }
        if let Some(s) = &v.state {
            q.append_pair("state", s);
        }
    }
    let mut resp = StatusCode::FOUND.into_response();
    if let Ok(h) = HeaderValue::from_str(url.as_str()) {
        resp.headers_mut().insert(header::LOCATION, h);
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn redirect_error(v: &Valid, e: &AadError) -> Response {
    let desc = format!("AADSTS{}: {}", e.code, e.description);
    redirect_with(v, &[("error", e.error), ("error_description", &desc)])
}

/// The error a test asked the next sign-in to fail with.
fn injected(error: &str) -> AadError {
    match error {
        "consent_required" => AadError::new(
            "consent_required",
            65_001,
            "The user or administrator has not consented to use the application. Send an interactive authorization request for this user and resource.",
        ),
        "interaction_required" => AadError::new(
            "interaction_required",
            50_076,
            "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access the resource.",
        ),
        "login_required" => AadError::new(
            "login_required",
            50_058,
            "A silent sign-in request was sent but no user is signed in.",
        ),
        "temporarily_unavailable" => AadError::new(
            "temporarily_unavailable",
            90_033,
            "A transient error has occurred. Please try again.",
        ),
        _ => AadError::new(
            "access_denied",
            65_004,
            "User declined to consent to access the app.",
        ),
    }
}

/// Checks what may be reported through the redirect; `Err` is that redirect.
fn validate_rest(tenant: &Tenant, v: &Valid, p: &Params) -> Result<(), Response> {
    if p.get("response_type").map(String::as_str) != Some("code") {
        let e = AadError::new(
            "unsupported_response_type",
            700_054,
            format!(
                "response_type '{}' is not enabled for the application.",
                p.get("response_type").map_or("", String::as_str)
            ),
        );
        return Err(redirect_error(v, &e));
    }
    if let Some(mode) = p.get("response_mode").filter(|m| m.as_str() != "query") {
        let e = AadError::new(
            "invalid_request",
            900_144,
            format!(
                "The response_mode '{mode}' is not supported by the azobo dev tenant; use 'query'."
            ),
        );
        return Err(redirect_error(v, &e));
    }
    let Some(scope) = p.get("scope") else {
        return Err(redirect_error(v, &AadError::missing("scope")));
    };
    if let Err(e) = scopes::parse(&tenant.dir(), scope) {
        return Err(redirect_error(v, &e));
    }
    let is_cli = p
        .get("client_id")
        .and_then(|c| tenant.dir().app(c).map(|a| a.public_client))
        .unwrap_or(false);
    match (
        p.get("code_challenge"),
        p.get("code_challenge_method").map(String::as_str),
    ) {
        (Some(ch), Some("S256")) if ch.len() == 43 => {}
        (Some(_), Some("S256")) => {
            let e = AadError::new(
                "invalid_request",
                501_491,
                "Invalid size of Code_Challenge parameter.",
            );
            return Err(redirect_error(v, &e));
        }
        (Some(_), m) => {
            let e = AadError::new(
                "invalid_request",
                9_002_325,
                format!(
                    "code_challenge_method '{}' is not supported; use S256.",
                    m.unwrap_or("plain")
                ),
            );
            return Err(redirect_error(v, &e));
        }
        (None, _) if is_cli => {
            let e = AadError::new(
                "invalid_request",
                9_002_325,
                "Proof Key for Code Exchange is required for public clients. Send code_challenge with code_challenge_method=S256.",
            );
            return Err(redirect_error(v, &e));
        }
        (None, _) => {}
    }
    if let Some(err) = tenant.knobs().next_sign_in_error.take() {
        return Err(redirect_error(v, &injected(&err)));
    }
    Ok(())
}

/// Signs `username` in: stores a code and redirects back with it.
fn approve(tenant: &Tenant, v: &Valid, p: &Params, username: &str) -> Response {
    let Some(user) = tenant.dir().user(username).cloned() else {
        let e = AadError::new(
            "invalid_request",
            50_034,
            format!("The user account {username} does not exist in the directory."),
        );
        return redirect_error(v, &e);
    };
    let code = format!("1.{}", random_token(96));
    tenant.record_issued(&code);
    // Answering a claims challenge means stepping up: the dev tenant treats it as MFA done.
    let mfa = p.get("claims").is_some_and(|c| !c.trim().is_empty());
    let now = tenant.now();
    tenant.grants().insert_code(
        grant_key(&code),
        CodeGrant {
            client_id: p
                .get("client_id")
                .cloned()
                .unwrap_or_default()
                .to_ascii_lowercase(),
            redirect_uri: p.get("redirect_uri").cloned().unwrap_or_default(),
            scope: p.get("scope").cloned().unwrap_or_default(),
            user_oid: user.oid.to_string(),
            nonce: p.get("nonce").cloned(),
            code_challenge: p.get("code_challenge").cloned(),
            mfa,
            expires: now.saturating_add(CODE_LIFETIME.as_secs()),
            redeemed: false,
        },
        now,
    );
    let session = uuid::Uuid::new_v4().to_string();
    let mut pairs = vec![("code", code.as_str()), ("session_state", session.as_str())];
    let info;
    if p.get("client_info").map(String::as_str) == Some("1") {
        use base64::Engine as _;
        let tid = tenant.dir().tenant_id.to_string();
        info = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(serde_json::json!({"uid": user.oid.to_string(), "utid": tid}).to_string());
        pairs.push(("client_info", info.as_str()));
    }
    redirect_with(v, &pairs)
}

/// What `username` has not yet granted the client for this request: (resource app, permissions).
fn consent_needed(tenant: &Tenant, p: &Params, username: &str) -> Option<(String, Vec<String>)> {
    let dir = tenant.dir();
    let oid = dir.user(username)?.oid.to_string();
    let client = p.get("client_id")?.to_ascii_lowercase();
    let mut scopes = scopes::parse(&dir, p.get("scope")?).ok()?;
    let missing = consent::missing(&dir, &client, &mut scopes, &oid);
    (!missing.is_empty()).then(|| (consent::resource_app_id(scopes.resource), missing))
}

/// Records the user's consent, then signs them in.
fn consent_and_approve(
    tenant: &Tenant,
    v: &Valid,
    p: &Params,
    username: &str,
    needed: Option<(String, Vec<String>)>,
) -> Response {
    if let Some((resource_app, permissions)) = needed {
        let mut dir = tenant.dir_mut();
        let oid = dir.user(username).map(|u| u.oid);
        let client = p.get("client_id").cloned().unwrap_or_default();
        consent::grant(&mut dir, &client, &resource_app, &permissions, oid);
    }
    approve(tenant, v, p, username)
}

/// The request's parameters as hidden form fields, so the page's POST carries the request on;
/// `except` are the ones the page's own buttons set.
fn hidden_fields(p: &Params, except: &[&str]) -> String {
    p.iter()
        .filter(|(k, _)| !except.contains(&k.as_str()))
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                attr(k),
                attr(v)
            )
        })
        .collect()
}

/// The consent step: what the app asks for, Accept or Cancel.
fn consent_page(
    tenant: &Tenant,
    t: &str,
    p: &Params,
    username: &str,
    needed: &(String, Vec<String>),
) -> Response {
    let hidden = hidden_fields(p, &["action", "consent"]);
    let dir = tenant.dir();
    let client = p.get("client_id").map_or("", String::as_str);
    let app = dir
        .app(client)
        .map_or_else(|| client.to_owned(), |a| a.display_name.clone());
    let resource = dir
        .service_principal_of(&needed.0)
        .map_or_else(|| needed.0.clone(), |sp| sp.display_name.clone());
    let items: String = needed
        .1
        .iter()
        .map(|perm| {
            format!(
                "<li><strong>{}</strong> · {}</li>",
                text(perm),
                text(&resource)
            )
        })
        .collect();
    let body = format!(
        "<h1>Permissions requested</h1><p class=\"muted\">{} · signed in as {}</p>\
<p><strong>{}</strong> would like to:</p><ul id=\"permissions\">{items}</ul>\
<p class=\"muted\">Accepting lets this app use them on your behalf until the grant is revoked.</p>\
<form method=\"post\" action=\"/{}/oauth2/v2.0/authorize\">{hidden}\
<button type=\"submit\" name=\"consent\" value=\"accept\" autofocus>Accept</button>\
<button type=\"submit\" name=\"action\" value=\"cancel\">Cancel</button></form>",
        text(&dir.domain),
        text(username),
        text(&app),
        attr(t)
    );
    let mut resp = Html(page("Permissions requested", &body)).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn sign_in_page(tenant: &Tenant, t: &str, p: &Params) -> Response {
    let hidden = hidden_fields(p, &["username", "action"]);
    let hint = p.get("login_hint").map(|h| h.to_ascii_lowercase());
    let users: String = tenant
        .dir()
        .users
        .iter()
        .map(|u| {
            let mark = if hint.as_deref() == Some(u.username.to_ascii_lowercase().as_str()) { " autofocus" } else { "" };
            format!(
                "<button type=\"submit\" name=\"username\" value=\"{}\"{mark}><strong>{}</strong><br><span class=\"muted\">{}</span></button>",
                attr(&u.username),
                text(&u.name),
                text(&u.username)
            )
        })
        .collect();
    let body = format!(
        "<h1>Pick an account</h1><p class=\"muted\">azobo dev tenant · {} · no password needed</p>\
<form method=\"post\" action=\"/{}/oauth2/v2.0/authorize\">{hidden}{users}\
<button type=\"submit\" name=\"action\" value=\"cancel\">Cancel</button></form>",
        text(&tenant.dir().domain),
        attr(t)
    );
    let mut resp = Html(page("Sign in", &body)).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// `GET /{t}/oauth2/v2.0/authorize`.
pub(crate) async fn show(
    State(tenant): State<Arc<Tenant>>,
    Path(t): Path<String>,
    Query(p): Query<Params>,
) -> Response {
    let v = match validate_front(&tenant, &t, &p) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Err(r) = validate_rest(&tenant, &v, &p) {
        return r;
    }
    let auto = tenant.knobs().auto_approve.clone();
    match auto {
        Some(default_user) => {
            let hinted = p
                .get("login_hint")
                .filter(|h| tenant.dir().user(h).is_some())
                .cloned();
            // Auto-approve stands for a user who clicks through: consent included.
            let user = hinted.as_deref().unwrap_or(&default_user);
            let needed = consent_needed(&tenant, &p, user);
            consent_and_approve(&tenant, &v, &p, user, needed)
        }
        None => sign_in_page(&tenant, &t, &p),
    }
}

/// `POST /{t}/oauth2/v2.0/authorize`: the sign-in page's choice.
pub(crate) async fn submit(
    State(tenant): State<Arc<Tenant>>,
    Path(t): Path<String>,
    Form(p): Form<Params>,
) -> Response {
    let v = match validate_front(&tenant, &t, &p) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if p.get("action").map(String::as_str) == Some("cancel") {
        return redirect_error(&v, &injected("access_denied"));
    }
    if let Err(r) = validate_rest(&tenant, &v, &p) {
        return r;
    }
    let Some(u) = p.get("username") else {
        return sign_in_page(&tenant, &t, &p);
    };
    match consent_needed(&tenant, &p, u) {
        Some(needed) if p.get("consent").map(String::as_str) != Some("accept") => {
            consent_page(&tenant, &t, &p, u, &needed)
        }
        needed => consent_and_approve(&tenant, &v, &p, u, needed),
    }
}

/// `GET /{t}/oauth2/v2.0/logout`: follows a loopback `post_logout_redirect_uri`.
pub(crate) async fn logout(Query(p): Query<Params>) -> Response {
    if let Some(u) = p
        .get("post_logout_redirect_uri")
        .and_then(|u| Url::parse(u).ok())
        .filter(crate::config::is_loopback)
    {
        {
            let mut resp = StatusCode::FOUND.into_response();
            if let Ok(h) = HeaderValue::from_str(u.as_str()) {
                resp.headers_mut().insert(header::LOCATION, h);
            }
            return resp;
        }
    }
    Html(page("Signed out", "<h1>You signed out of your account</h1><p>It's a good idea to close all browser windows.</p>")).into_response()
}

/// `GET /devicelogin`: enter the code, pick a user.
pub(crate) async fn device_page(
    State(tenant): State<Arc<Tenant>>,
    Query(p): Query<Params>,
) -> Response {
    let code = p
        .get("code")
        .map_or(String::new(), |c| attr(c).into_owned());
    let options: String = tenant
        .dir()
        .users
        .iter()
        .map(|u| {
            format!(
                "<option value=\"{}\">{} ({})</option>",
                attr(&u.username),
                text(&u.name),
                text(&u.username)
            )
        })
        .collect();
    let body = format!(
        "<h1>Enter code</h1><p class=\"muted\">Enter the code displayed on your app or device.</p>\
<p class=\"muted\">Signing in also consents to the permissions the app asks for.</p><form method=\"post\" action=\"/devicelogin\"><p><input name=\"user_code\" value=\"{code}\" autofocus></p>\
<p><select name=\"username\">{options}</select></p>\
<button type=\"submit\" name=\"action\" value=\"approve\">Sign in</button>\
<button type=\"submit\" name=\"action\" value=\"decline\">Decline</button></form>"
    );
    Html(page("Enter code", &body)).into_response()
}

/// Approves or declines a pending device code; shared by the page and the control API.
pub(crate) fn decide_device(
    tenant: &Tenant,
    user_code: &str,
    username: Option<&str>,
    approve: bool,
    consent: bool,
) -> Result<(), String> {
    let user_oid = match username {
        Some(u) => Some(
            tenant
                .dir()
                .user(u)
                .map(|u| u.oid.to_string())
                .ok_or_else(|| format!("no user `{u}`"))?,
        ),
        None => tenant.dir().users.first().map(|u| u.oid.to_string()),
    };
    let mut grants = tenant.grants();
    let grant = grants
        .devices
        .values_mut()
        .find(|g| g.user_code.eq_ignore_ascii_case(user_code.trim()))
        .ok_or_else(|| format!("no pending device code `{user_code}`"))?;
    if grant.expires <= tenant.now() {
        return Err("that code has expired".to_owned());
    }
    if grant.status != DeviceStatus::Pending {
        return Err("that code was already used".to_owned());
    }
    grant.status = match (approve, user_oid) {
        (true, Some(user_oid)) => DeviceStatus::Approved { user_oid },
        (true, None) => return Err("the tenant has no users".to_owned()),
        (false, _) => DeviceStatus::Declined,
    };
    let asked = (
        grant.client_id.clone(),
        grant.scope.clone(),
        grant.status.clone(),
    );
    drop(grants);
    // The user approving on the page also consents to what the app asks for; without that,
    // the poll answers AADSTS65001.
    if let (true, (client, scope, DeviceStatus::Approved { user_oid })) = (consent, asked) {
        let mut dir = tenant.dir_mut();
        if let Ok(mut scopes) = scopes::parse(&dir, &scope) {
            let missing = consent::missing(&dir, &client, &mut scopes, &user_oid);
            let resource_app = consent::resource_app_id(scopes.resource);
            let oid = uuid::Uuid::try_parse(&user_oid).ok();
            if !missing.is_empty() {
                consent::grant(&mut dir, &client, &resource_app, &missing, oid);
            }
        }
    }
    Ok(())
}

/// `POST /devicelogin`.
pub(crate) async fn device_submit(
    State(tenant): State<Arc<Tenant>>,
    Form(p): Form<Params>,
) -> Response {
    let approve = p.get("action").map(String::as_str) != Some("decline");
    let code = p.get("user_code").map_or("", String::as_str);
    match decide_device(&tenant, code, p.get("username").map(String::as_str), approve, true) {
        Ok(()) if approve => Html(page("Signed in", "<h1>You have signed in</h1><p>You may now close this window and return to your device.</p>")).into_response(),
        Ok(()) => Html(page("Declined", "<h1>Sign-in declined</h1>")).into_response(),
        Err(m) => (StatusCode::BAD_REQUEST, Html(page("Enter code", &format!("<h1>That didn't work</h1><p>{}</p>", text(&m))))).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_redirect_ignores_port_but_not_path_or_host() {
        let ok = |s: &str| redirect_matches("http://localhost", &Url::parse(s).unwrap());
        assert!(ok("http://localhost:53123/"));
        assert!(ok("http://localhost:1"));
        assert!(!ok("http://localhost:53123/callback"));
        assert!(!ok("http://127.0.0.1:53123/"));
        assert!(!ok("https://localhost:53123/"));
        assert!(!ok("http://localhost.evil.com:53123/"));
    }
}
