//! The token endpoint (every grant azobo and MSAL use) and the device-code endpoint.
//!
//! Bodies are read under a size cap and parsed here, so malformed input gets Entra's error
//! shape instead of a framework's plain-text rejection.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use http_body_util::BodyExt as _;
use jsonwebtoken::{Algorithm, Validation};
use oauth2::{PkceCodeChallenge, PkceCodeVerifier};
use serde_json::{Value, json};

use super::consent;
use super::errors::AadError;
use super::log::LogNote;
use super::scopes::{self, Resource, ScopeRequest};
use super::seed::User;
use super::tokens::{self, ClientAuth, Issue, grant_key, random_token};
use super::{DeviceGrant, DeviceStatus, Fault, Tenant};

/// Largest form body accepted (a larger `Content-Length` never gets here: `body_cap`).
const MAX_BODY: usize = 64 * 1024;
/// Device codes live 15 minutes, as Entra's do.
const DEVICE_CODE_LIFETIME: Duration = Duration::from_secs(900);
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

type Form = HashMap<String, String>;

/// Reads an `application/x-www-form-urlencoded` body; repeated parameters are refused.
async fn read_form(headers: &HeaderMap, body: Body) -> Result<Form, AadError> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    let bytes = http_body_util::Limited::new(body, MAX_BODY)
        .collect()
        .await
        .map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                AadError::new(
                    "invalid_request",
                    90_020,
                    format!("The request body is larger than {MAX_BODY} bytes."),
                )
                .with_status(StatusCode::PAYLOAD_TOO_LARGE)
            } else {
                // The server's body deadline passed (a client trickling its body), or the
                // client went away.
                AadError::new(
                    "invalid_request",
                    90_014,
                    "The request body was not received in time.",
                )
                .with_status(StatusCode::REQUEST_TIMEOUT)
            }
        })?;
    if !is_form {
        // Entra does not parse other content types, so the first required parameter is missing.
        return Ok(Form::new());
    }
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_bytes(&bytes.to_bytes()).map_err(|_| {
            AadError::new(
                "invalid_request",
                90_014,
                "The request body is not a valid form.",
            )
        })?;
    let mut form = Form::with_capacity(pairs.len());
    for (k, v) in pairs {
        if form.insert(k.clone(), v).is_some() {
            return Err(AadError::new(
                "invalid_request",
                90_015,
                format!("Requested parameter '{k}' is duplicated."),
            ));
        }
    }
    Ok(form)
}

fn required<'a>(form: &'a Form, name: &str) -> Result<&'a str, AadError> {
    form.get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| AadError::missing(name))
}

fn fault_error(f: &Fault) -> AadError {
    let status = StatusCode::from_u16(f.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let mut e = if status == StatusCode::TOO_MANY_REQUESTS {
        AadError::new(
            "temporarily_unavailable",
            50_196,
            "The server terminated an operation because it encountered a client request loop. Please contact your app vendor.",
        )
    } else {
        AadError::new(
            "temporarily_unavailable",
            90_033,
            "A transient error has occurred. Please try again.",
        )
    };
    e.status = status;
    e.retry_after = f
        .retry_after
        .or((status == StatusCode::TOO_MANY_REQUESTS).then_some(1));
    e
}

fn with_headers(mut resp: Response, correlation_id: &str, note: LogNote) -> Response {
    // The rest of an oversized or late body was never read: the connection cannot carry
    // another request.
    let close = matches!(
        resp.status(),
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::REQUEST_TIMEOUT
    );
    let h = resp.headers_mut();
    if close {
        h.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    if let Ok(v) = HeaderValue::from_str(correlation_id) {
        h.insert("client-request-id", v);
    }
    if let Ok(v) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        h.insert("x-ms-request-id", v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, no-cache"),
    );
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    let existing = resp
        .extensions()
        .get::<LogNote>()
        .cloned()
        .unwrap_or_default();
    resp.extensions_mut().insert(LogNote {
        error: existing.error,
        ..note
    });
    resp
}

fn correlation(headers: &HeaderMap) -> String {
    headers
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| uuid::Uuid::try_parse(v).is_ok())
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}

/// `POST /{t}/oauth2/v2.0/token`.
pub(crate) async fn token(
    State(tenant): State<Arc<Tenant>>,
    Path(t): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let corr = correlation(&headers);
    let mut note = LogNote::default();
    let result = async {
        let form = read_form(&headers, body).await?;
        note.grant_type = form.get("grant_type").cloned();
        note.client_id = form.get("client_id").cloned();
        if !tenant.knows_tenant(&t) {
            return Err(AadError::unknown_tenant(&t));
        }
        if let Some(f) = tenant.knobs().token_faults.pop_front() {
            return Err(fault_error(&f));
        }
        let grant = required(&form, "grant_type")?;
        let client = authenticate(&tenant, &t, &form, &headers)?;
        note.client_id = Some(client.id.clone());
        match grant {
            "authorization_code" => authorization_code(&tenant, &form, &client),
            "refresh_token" => refresh(&tenant, &form, &client),
            DEVICE_CODE_GRANT => device_poll(&tenant, &form, &client),
            "client_credentials" => client_credentials(&tenant, &form, &client),
            JWT_BEARER => on_behalf_of(&tenant, &form, &client),
            other => Err(AadError::new(
                "unsupported_grant_type",
                70_003,
                format!("The app requested an unsupported grant type '{other}'."),
            )),
        }
    }
    .await;
    let resp = match result {
        Ok(body) => Json(body).into_response(),
        Err(e) => e.into_response_with(&corr),
    };
    with_headers(resp, &corr, note)
}

/// `GET /{t}/oauth2/v2.0/token`: Entra answers a JSON error (AADSTS900561), not a bare 405.
pub(crate) async fn token_get(headers: HeaderMap) -> Response {
    let corr = correlation(&headers);
    let e = AadError::new(
        "invalid_request",
        900_561,
        "The endpoint only accepts POST requests. Received a GET request.",
    );
    with_headers(e.into_response_with(&corr), &corr, LogNote::default())
}

/// The authenticated caller.
struct Client {
    id: String,
    auth: ClientAuth,
}

fn authenticate(
    tenant: &Tenant,
    t: &str,
    form: &Form,
    headers: &HeaderMap,
) -> Result<Client, AadError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.split_once(':').map(|(u, p)| (u.to_owned(), p.to_owned())));
    let id = match (form.get("client_id"), &basic) {
        (Some(id), _) => id.to_ascii_lowercase(),
        (None, Some((id, _))) => id.to_ascii_lowercase(),
        (None, None) => return Err(AadError::missing("client_id")),
    };
    let secret = form
        .get("client_secret")
        .cloned()
        .or_else(|| basic.map(|(_, p)| p));
    let assertion = form.get("client_assertion");
    let (public, secret_ok) = {
        let dir = tenant.dir();
        let Some(app) = dir.app(&id) else {
            return Err(AadError::unknown_client(&id));
        };
        (
            app.public_client,
            secret.as_deref().map(|s| app.has_secret(s)),
        )
    };
    if public {
        if secret.is_some() || assertion.is_some() {
            return Err(AadError::new("invalid_client", 700_025, "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.")
                .with_status(StatusCode::UNAUTHORIZED));
        }
        return Ok(Client {
            id,
            auth: ClientAuth::Public,
        });
    }
    if let Some(ok) = secret_ok {
        if ok {
            return Ok(Client {
                id,
                auth: ClientAuth::Secret,
            });
        }
        return Err(AadError::new(
            "invalid_client",
            7_000_215,
            format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{id}'."),
        )
        .with_status(StatusCode::UNAUTHORIZED));
    }
    if let Some(assertion) = assertion {
        verify_client_assertion(tenant, t, &id, form, assertion)?;
        return Ok(Client {
            id,
            auth: ClientAuth::Certificate,
        });
    }
    Err(AadError::no_client_credential())
}

fn verify_client_assertion(
    tenant: &Tenant,
    t: &str,
    client_id: &str,
    form: &Form,
    assertion: &str,
) -> Result<(), AadError> {
    let bad = |code: u32, msg: &str| {
        AadError::new("invalid_client", code, msg.to_owned()).with_status(StatusCode::UNAUTHORIZED)
    };
    if form.get("client_assertion_type").map(String::as_str) != Some(ASSERTION_TYPE) {
        return Err(bad(
            700_023,
            "Invalid client_assertion_type; expected urn:ietf:params:oauth:client-assertion-type:jwt-bearer.",
        ));
    }
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| {
        bad(
            700_027,
            "Client assertion failed signature validation: the assertion is not a JWT.",
        )
    })?;
    if header.alg != Algorithm::RS256 && header.alg != Algorithm::PS256 {
        return Err(bad(
            700_027,
            "Client assertion failed signature validation: unsupported algorithm.",
        ));
    }
    // A token signed by this tenant itself is a federated credential (workload identity).
    let federated_key = header
        .kid
        .as_deref()
        .and_then(|k| tenant.keys().find(k).map(|key| key.decoding.clone()));
    if let Some(key) = federated_key {
        return verify_federated(tenant, assertion, &key).map_err(|m| bad(700_213, &m));
    }
    // Thumbprints arrive base64url with or without padding (MSAL pads); compare unpadded.
    let same = |h: Option<&str>, want: &str| h.is_some_and(|h| h.trim_end_matches('=') == want);
    let thumbprint_matches = |x5t: &str, x5t_s256: &str| {
        same(header.x5t_s256.as_deref(), x5t_s256) || same(header.x5t.as_deref(), x5t)
    };
    let seeded = &tenant.api_cert;
    let key = if client_id == tenant.dir().api_client_id.to_string()
        && thumbprint_matches(&seeded.x5t, &seeded.x5t_s256)
    {
        Some(seeded.key.clone())
    } else {
        // A certificate uploaded through Graph.
        tenant.dir().app(client_id).and_then(|a| {
            a.certificates
                .iter()
                .find(|c| thumbprint_matches(&c.x5t, &c.x5t_s256))
                .and_then(|c| jsonwebtoken::DecodingKey::from_rsa_pem(c.pem.as_bytes()).ok())
        })
    };
    let Some(key) = key else {
        return Err(bad(
            700_027,
            "Client assertion contains an invalid signature. The key was not found: no certificate with this thumbprint is registered for the app.",
        ));
    };
    let token_endpoint = format!("{}/{t}/oauth2/v2.0/token", tenant.base);
    let tid = tenant.dir().tenant_id.to_string();
    let mut v = Validation::new(header.alg);
    v.set_audience(&[
        token_endpoint.clone(),
        format!("{}/{tid}/oauth2/v2.0/token", tenant.base),
    ]);
    v.set_issuer(&[client_id]);
    v.sub = Some(client_id.to_owned());
    v.leeway = 300;
    v.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
    jsonwebtoken::decode::<Value>(assertion, &key, &v).map_err(|e| match e.kind() {
        jsonwebtoken::errors::ErrorKind::ExpiredSignature | jsonwebtoken::errors::ErrorKind::ImmatureSignature => {
            bad(700_024, "Client assertion is not within its valid time range.")
        }
        jsonwebtoken::errors::ErrorKind::InvalidAudience => {
            bad(700_021, &format!("Client assertion audience claim does not match Realm issuer. Expected '{token_endpoint}'."))
        }
        jsonwebtoken::errors::ErrorKind::InvalidIssuer | jsonwebtoken::errors::ErrorKind::InvalidSubject => {
            bad(700_021, "Client assertion application identifier doesn't match 'client_id' parameter.")
        }
        _ => bad(700_027, "Client assertion failed signature validation."),
    })?;
    Ok(())
}

/// The audience Entra requires of federated credentials.
const FEDERATED_AUDIENCE: &str = "api://AzureADTokenExchange";

/// A federated credential: issued by this tenant (standing in for a Kubernetes or CI issuer),
/// for Entra's token-exchange audience, with the subject registered on the API app.
fn verify_federated(
    tenant: &Tenant,
    assertion: &str,
    key: &jsonwebtoken::DecodingKey,
) -> Result<(), String> {
    let tid = tenant.dir().tenant_id.to_string();
    let mut v = Validation::new(Algorithm::RS256);
    v.set_audience(&[FEDERATED_AUDIENCE]);
    v.set_issuer(&[tenant.issuer_v2(&tid)]);
    v.sub = Some(super::seed::FEDERATED_SUBJECT.to_owned());
    v.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
    jsonwebtoken::decode::<Value>(assertion, key, &v).map(|_| ()).map_err(|e| {
        format!("No matching federated identity record found for presented assertion ({e}). Expected issuer '{}', subject '{}', audience '{FEDERATED_AUDIENCE}'.", tenant.issuer_v2(&tid), super::seed::FEDERATED_SUBJECT)
    })
}

fn user_by_oid(tenant: &Tenant, oid: &str) -> Result<User, AadError> {
    tenant.dir().user_by_oid(oid).cloned().ok_or_else(|| {
        AadError::new(
            "invalid_grant",
            50_034,
            "The user account does not exist in the directory.",
        )
    })
}

/// A Conditional Access challenge for ARM: the shape Entra uses for MFA (AADSTS50076).
fn mfa_challenge(error: &'static str, user: &User) -> AadError {
    let mut e = AadError::new(
        error,
        50_076,
        format!(
            "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '{}'.",
            scopes::ARM_RESOURCE
        ),
    );
    e.suberror = Some("basic_action");
    let policy = uuid::Uuid::new_v5(&user.oid, b"require-mfa-for-arm");
    e.claims = Some(
        json!({"access_token": {"capolids": {"essential": true, "values": [policy.to_string()]}}})
            .to_string(),
    );
    e
}

fn check_mfa(
    error: &'static str,
    user: &User,
    scopes: &ScopeRequest,
    mfa: bool,
) -> Result<(), AadError> {
    if scopes.resource == Resource::Arm && user.mfa_required && !mfa {
        return Err(mfa_challenge(error, user));
    }
    Ok(())
}

fn wants_client_info(form: &Form) -> bool {
    form.get("client_info").map(String::as_str) == Some("1")
}

fn authorization_code(tenant: &Tenant, form: &Form, client: &Client) -> Result<Value, AadError> {
    let code = required(form, "code")?;
    let redirect_uri = required(form, "redirect_uri")?;
    let grant = {
        let mut grants = tenant.grants();
        let Some(g) = grants.codes.get_mut(&grant_key(code)) else {
            return Err(AadError::new(
                "invalid_grant",
                70_000,
                "The provided value for the 'code' parameter is not valid.",
            ));
        };
        if g.redeemed {
            return Err(AadError::new(
                "invalid_grant",
                54_005,
                "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
            ));
        }
        if g.expires <= tenant.now() {
            return Err(AadError::new(
                "invalid_grant",
                70_008,
                "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
            ));
        }
        // A code is spent by any attempt, as Entra does: a failed PKCE check cannot be retried.
        g.redeemed = true;
        g.clone()
    };
    if grant.client_id != client.id {
        return Err(AadError::new(
            "invalid_grant",
            70_000,
            "The provided authorization code was issued to a different client.",
        ));
    }
    if grant.redirect_uri != redirect_uri {
        return Err(AadError::new(
            "invalid_grant",
            500_117,
            "The reply uri specified in the token request does not match the reply uri used in the authorization request.",
        ));
    }
    if let Some(challenge) = &grant.code_challenge {
        let Some(verifier) = form.get("code_verifier") else {
            return Err(AadError::new(
                "invalid_grant",
                501_481,
                "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
            ));
        };
        let computed =
            PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(verifier.clone()));
        if computed.as_str() != challenge {
            return Err(AadError::new(
                "invalid_grant",
                50_148,
                "The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.",
            ));
        }
    }
    let scope = form
        .get("scope")
        .filter(|s| !s.trim().is_empty())
        .unwrap_or(&grant.scope);
    let mut scopes = scopes::parse(&tenant.dir(), scope)?;
    let user = user_by_oid(tenant, &grant.user_oid)?;
    consent::require(&tenant.dir(), &client.id, &mut scopes, &grant.user_oid)?;
    check_mfa("interaction_required", &user, &scopes, grant.mfa)?;
    tokens::respond(
        tenant,
        &Issue {
            client_id: client.id.clone(),
            auth: client.auth,
            user: Some(&user),
            scopes,
            mfa: grant.mfa,
            nonce: grant.nonce,
            client_info: wants_client_info(form),
        },
    )
}

fn refresh(tenant: &Tenant, form: &Form, client: &Client) -> Result<Value, AadError> {
    let rt = required(form, "refresh_token")?;
    let grant = tenant.grants().refresh.get(&grant_key(rt)).cloned();
    let Some(grant) = grant else {
        return Err(AadError::new(
            "invalid_grant",
            9_002_313,
            "Invalid request. Request is malformed or invalid.",
        ));
    };
    if grant.revoked {
        return Err(AadError::new(
            "invalid_grant",
            50_173,
            "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.",
        ));
    }
    if grant.expires <= tenant.now() {
        return Err(AadError::new(
            "invalid_grant",
            700_082,
            "The refresh token has expired due to inactivity.",
        ));
    }
    if grant.client_id != client.id {
        return Err(AadError::new(
            "invalid_grant",
            70_000,
            "The refresh token was issued to a different client.",
        ));
    }
    let mut scopes = scopes::parse(&tenant.dir(), required(form, "scope")?)?;
    let user = user_by_oid(tenant, &grant.user_oid)?;
    consent::require(&tenant.dir(), &client.id, &mut scopes, &grant.user_oid)?;
    check_mfa("interaction_required", &user, &scopes, grant.mfa)?;
    tokens::respond(
        tenant,
        &Issue {
            client_id: client.id.clone(),
            auth: client.auth,
            user: Some(&user),
            scopes,
            mfa: grant.mfa,
            nonce: None,
            client_info: wants_client_info(form),
        },
    )
}

fn device_poll(tenant: &Tenant, form: &Form, client: &Client) -> Result<Value, AadError> {
    let code = form
        .get("device_code")
        .or_else(|| form.get("code"))
        .map(String::as_str)
        .filter(|c| !c.is_empty());
    let code = code.ok_or_else(|| AadError::missing("device_code"))?;
    let (user_oid, scope) = {
        let mut grants = tenant.grants();
        let Some(g) = grants.devices.get_mut(&grant_key(code)) else {
            return Err(AadError::new(
                "bad_verification_code",
                70_000,
                "The provided value for the input parameter 'device_code' is not valid.",
            ));
        };
        if g.client_id != client.id {
            return Err(AadError::new(
                "invalid_grant",
                70_000,
                "The device code was issued to a different client.",
            ));
        }
        let now = Instant::now();
        if g.expires <= tenant.now() {
            return Err(AadError::new(
                "expired_token",
                70_019,
                "Verification code expired.",
            ));
        }
        let too_soon = g
            .last_poll
            .is_some_and(|last| now.duration_since(last) + Duration::from_millis(100) < g.interval);
        g.last_poll = Some(now);
        if too_soon && matches!(g.status, DeviceStatus::Pending) {
            // RFC 8628 §3.5: the client must add 5 seconds to its interval from now on.
            g.interval = g.interval.saturating_add(Duration::from_secs(5));
            return Err(AadError::new(
                "slow_down",
                70_016,
                "OAuth 2.0 device flow error. Polling too frequently; slow down.",
            ));
        }
        match &g.status {
            DeviceStatus::Pending => {
                return Err(AadError::new(
                    "authorization_pending",
                    70_016,
                    "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
                ));
            }
            DeviceStatus::Declined => {
                return Err(AadError::new(
                    "authorization_declined",
                    70_000,
                    "The user declined the authorization request.",
                ));
            }
            DeviceStatus::Redeemed => {
                return Err(AadError::new(
                    "invalid_grant",
                    54_005,
                    "The device code was already redeemed.",
                ));
            }
            DeviceStatus::Approved { user_oid } => {
                let oid = user_oid.clone();
                g.status = DeviceStatus::Redeemed;
                (oid, g.scope.clone())
            }
        }
    };
    let mut scopes = scopes::parse(&tenant.dir(), &scope)?;
    let user = user_by_oid(tenant, &user_oid)?;
    consent::require(&tenant.dir(), &client.id, &mut scopes, &user_oid)?;
    check_mfa("interaction_required", &user, &scopes, false)?;
    tokens::respond(
        tenant,
        &Issue {
            client_id: client.id.clone(),
            auth: client.auth,
            user: Some(&user),
            scopes,
            mfa: false,
            nonce: None,
            client_info: wants_client_info(form),
        },
    )
}

fn client_credentials(tenant: &Tenant, form: &Form, client: &Client) -> Result<Value, AadError> {
    if client.auth == ClientAuth::Public {
        return Err(AadError::no_client_credential());
    }
    let scope = required(form, "scope")?;
    let scopes = scopes::parse(&tenant.dir(), scope)?;
    if !scopes.default || scope.split_ascii_whitespace().count() != 1 {
        return Err(AadError::new(
            "invalid_scope",
            1_002_012,
            format!(
                "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
            ),
        ));
    }
    tokens::respond(
        tenant,
        &Issue {
            client_id: client.id.clone(),
            auth: client.auth,
            user: None,
            scopes,
            mfa: false,
            nonce: None,
            client_info: false,
        },
    )
}

fn on_behalf_of(tenant: &Tenant, form: &Form, client: &Client) -> Result<Value, AadError> {
    if client.auth == ClientAuth::Public {
        return Err(AadError::no_client_credential());
    }
    if required(form, "requested_token_use")? != "on_behalf_of" {
        return Err(AadError::new(
            "invalid_request",
            900_144,
            "The request body must contain the following parameter: 'requested_token_use' with the value 'on_behalf_of'.",
        ));
    }
    let assertion = required(form, "assertion")?;
    let claims = validate_assertion(tenant, assertion, &client.id)?;
    let mut scopes = scopes::parse(&tenant.dir(), required(form, "scope")?)?;
    let oid = claims["oid"].as_str().unwrap_or_default().to_owned();
    let user = user_by_oid(tenant, &oid)?;
    // The middle tier needs consent for the downstream resource: an administrator's grant, the
    // user's own, or preauthorization (Graph-registered apps have none until an admin grants it).
    consent::require(&tenant.dir(), &client.id, &mut scopes, &oid)?;
    let mfa = tokens::token_has_mfa(&claims);
    check_mfa("invalid_grant", &user, &scopes, mfa)?;
    tokens::respond(
        tenant,
        &Issue {
            client_id: client.id.clone(),
            auth: client.auth,
            user: Some(&user),
            scopes,
            mfa,
            nonce: None,
            client_info: wants_client_info(form),
        },
    )
}

/// The incoming token of an OBO request: minted here, unexpired, for the calling app, a user's.
fn validate_assertion(
    tenant: &Tenant,
    assertion: &str,
    client_id: &str,
) -> Result<Value, AadError> {
    let invalid = |code: u32, msg: &str| AadError::new("invalid_grant", code, msg.to_owned());
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| {
        invalid(
            50_013,
            "Assertion failed signature validation. [Reason - The assertion is not a JWT.]",
        )
    })?;
    if header.alg != Algorithm::RS256 {
        return Err(invalid(
            50_013,
            "Assertion failed signature validation. [Reason - The key was not found.]",
        ));
    }
    // The assertion must be a token for the calling app's own API.
    let (tid, audiences) = {
        let dir = tenant.dir();
        let audiences: Vec<String> = dir.app(client_id).map_or_else(Vec::new, |a| {
            std::iter::once(a.app_id.to_string())
                .chain(a.identifier_uris.iter().cloned())
                .collect()
        });
        (dir.tenant_id.to_string(), audiences)
    };
    if audiences.len() < 2 {
        return Err(invalid(
            50_013,
            "Assertion audience does not match the Client app presenting the assertion.",
        ));
    }
    let mut v = Validation::new(Algorithm::RS256);
    v.set_audience(&audiences);
    v.set_issuer(&[tenant.issuer_v2(&tid), tenant.issuer_v1(&tid)]);
    v.leeway = 0;
    v.set_required_spec_claims(&["exp", "aud", "iss"]);
    let keys = tenant.keys();
    let key = header.kid.as_deref().and_then(|k| keys.find(k)).ok_or_else(|| {
        invalid(50_013, "Assertion failed signature validation. [Reason - The key was not found., Thumbprint of key used by client: unknown]")
    })?;
    let data = jsonwebtoken::decode::<Value>(assertion, &key.decoding, &v).map_err(|e| match e.kind() {
        jsonwebtoken::errors::ErrorKind::ExpiredSignature => invalid(500_133, "Assertion is not within its valid time range. Ensure that the access token is not expired before using it for user assertion, or request a new token."),
        jsonwebtoken::errors::ErrorKind::InvalidAudience => invalid(50_013, "Assertion audience does not match the Client app presenting the assertion."),
        _ => invalid(50_013, "Assertion failed signature validation."),
    })?;
    drop(keys);
    if data
        .claims
        .get("scp")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(invalid(
            50_013,
            "Assertion contains no delegated scopes: app-only tokens cannot be used On-Behalf-Of a user.",
        ));
    }
    Ok(data.claims)
}

/// `POST /{t}/oauth2/v2.0/devicecode`.
pub(crate) async fn device_code(
    State(tenant): State<Arc<Tenant>>,
    Path(t): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let corr = correlation(&headers);
    let mut note = LogNote {
        grant_type: Some("device_code".to_owned()),
        ..LogNote::default()
    };
    let result = async {
        let form = read_form(&headers, body).await?;
        note.client_id = form.get("client_id").cloned();
        if !tenant.knows_tenant(&t) {
            return Err(AadError::unknown_tenant(&t));
        }
        if let Some(f) = tenant.knobs().token_faults.pop_front() {
            return Err(fault_error(&f));
        }
        let client_id = required(&form, "client_id")?.to_ascii_lowercase();
        let public = tenant.dir().app(&client_id).map(|a| a.public_client);
        match public {
            None => return Err(AadError::unknown_client(&client_id)),
            Some(false) => return Err(AadError::no_client_credential()),
            Some(true) => {}
        }
        let scope = required(&form, "scope")?;
        scopes::parse(&tenant.dir(), scope)?;
        let now = tenant.now();
        // Checked and inserted under one lock, so concurrent requests cannot pass the cap.
        let mut grants = tenant.grants();
        if let Err(cap) = grants.device_room(&client_id, now) {
            let mut e = AadError::new(
                "temporarily_unavailable",
                90_055,
                format!(
                    "There are too many incoming requests: {cap} device codes are outstanding. Complete or abandon some (they expire after {} minutes) and try again.",
                    DEVICE_CODE_LIFETIME.as_secs() / 60
                ),
            )
            .with_status(StatusCode::TOO_MANY_REQUESTS);
            e.retry_after = Some(60);
            return Err(e);
        }
        let device_code = random_token(96);
        tenant.record_issued(&device_code);
        let user_code = user_code();
        let interval = tenant.options.device_code_interval;
        grants.devices.insert(
            grant_key(&device_code),
            DeviceGrant {
                user_code: user_code.clone(),
                client_id,
                scope: scope.to_owned(),
                expires: now.saturating_add(DEVICE_CODE_LIFETIME.as_secs()),
                interval: Duration::from_secs(interval),
                last_poll: None,
                status: DeviceStatus::Pending,
            },
        );
        drop(grants);
        let uri = format!("{}/devicelogin", tenant.base);
        Ok(json!({
            "user_code": user_code,
            "device_code": device_code,
            "verification_uri": uri,
            "expires_in": DEVICE_CODE_LIFETIME.as_secs(),
            "interval": interval,
            "message": format!("To sign in, use a web browser to open the page {uri} and enter the code {user_code} to authenticate."),
        }))
    }
    .await;
    let resp = match result {
        Ok(body) => Json(body).into_response(),
        Err(e) => e.into_response_with(&corr),
    };
    with_headers(resp, &corr, note)
}

/// Nine characters from an alphabet without look-alikes, as Entra's user codes are.
fn user_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    (0..9)
        .map(|_| char::from(ALPHABET[rand::random_range(0..ALPHABET.len())]))
        .collect()
}
