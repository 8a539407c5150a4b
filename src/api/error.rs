//! Every way a request can fail, mapped once to a status, an RFC 6750 `WWW-Authenticate`
//! challenge where one applies, and the JSON body `{"error":{"code","message"}}`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A failed request.
#[derive(Debug, Clone)]
pub enum ApiError {
    /// No bearer credentials at all: 401 `WWW-Authenticate: Bearer`.
    MissingToken,
    /// Malformed `Authorization`: 400 `error="invalid_request"`.
    InvalidRequest(String),
    /// The token is not acceptable: 401 `error="invalid_token"`.
    InvalidToken(String),
    /// The token lacks the required scope: 403 `error="insufficient_scope"`.
    InsufficientScope { scope: String, message: String },
    /// The identity platform wants more claims (MFA, CA): 401 `error="insufficient_claims"`.
    InsufficientClaims { claims_b64: String, message: String },
    /// Consent is missing: 403.
    ConsentRequired(String),
    /// The API's own credential was rejected: 500.
    ServerCredential(String),
    /// ARM refused or failed: 502.
    BadGateway { code: String, message: String },
    /// ARM refused the exchanged token without a claims challenge (502 if a fresh exchange
    /// does not help).
    ArmTokenRejected,
    /// An upstream is unreachable, or keys are not loaded yet: 503.
    Unavailable(String),
    /// An upstream timed out: 504.
    Timeout(String),
    /// Unknown path: 404.
    NotFound,
    /// Known path, wrong method: 405.
    MethodNotAllowed,
    /// A body on a GET: 400.
    BodyNotAllowed,
}

fn quote(s: &str) -> String {
    s.replace(['"', '\\'], "'")
}

impl ApiError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::MissingToken
            | ApiError::InvalidToken(_)
            | ApiError::InsufficientClaims { .. } => StatusCode::UNAUTHORIZED,
            ApiError::InvalidRequest(_) | ApiError::BodyNotAllowed => StatusCode::BAD_REQUEST,
            ApiError::InsufficientScope { .. } | ApiError::ConsentRequired(_) => {
                StatusCode::FORBIDDEN
            }
            ApiError::ServerCredential(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::BadGateway { .. } | ApiError::ArmTokenRejected => StatusCode::BAD_GATEWAY,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        }
    }

    fn code_and_message(&self) -> (String, String) {
        match self {
            ApiError::MissingToken => (
                "unauthorized".into(),
                "send an access token for this API as `Authorization: Bearer <token>`".into(),
            ),
            ApiError::InvalidRequest(m) => ("invalid_request".into(), m.clone()),
            ApiError::InvalidToken(m) => ("invalid_token".into(), m.clone()),
            ApiError::InsufficientScope { message, .. } => {
                ("insufficient_scope".into(), message.clone())
            }
            ApiError::InsufficientClaims { message, .. } => {
                ("insufficient_claims".into(), message.clone())
            }
            ApiError::ConsentRequired(m) => ("consent_required".into(), m.clone()),
            ApiError::ServerCredential(m) => ("server_credential_rejected".into(), m.clone()),
            ApiError::BadGateway { code, message } => (code.clone(), message.clone()),
            ApiError::ArmTokenRejected => (
                "arm_token_rejected".into(),
                "Azure Resource Manager refused the exchanged token, twice".into(),
            ),
            ApiError::Unavailable(m) => ("upstream_unavailable".into(), m.clone()),
            ApiError::Timeout(m) => ("upstream_timeout".into(), m.clone()),
            ApiError::NotFound => (
                "not_found".into(),
                "no such endpoint; try GET /subscriptions".into(),
            ),
            ApiError::MethodNotAllowed => (
                "method_not_allowed".into(),
                "this endpoint only answers GET".into(),
            ),
            ApiError::BodyNotAllowed => {
                ("invalid_request".into(), "GET requests take no body".into())
            }
        }
    }

    fn challenge(&self) -> Option<String> {
        match self {
            ApiError::MissingToken => Some("Bearer".into()),
            ApiError::InvalidRequest(m) => Some(format!(
                "Bearer error=\"invalid_request\", error_description=\"{}\"",
                quote(m)
            )),
            ApiError::InvalidToken(m) => Some(format!(
                "Bearer error=\"invalid_token\", error_description=\"{}\"",
                quote(m)
            )),
            ApiError::InsufficientScope { scope, message } => Some(format!(
                "Bearer error=\"insufficient_scope\", scope=\"{}\", error_description=\"{}\"",
                quote(scope),
                quote(message)
            )),
            ApiError::InsufficientClaims {
                claims_b64,
                message,
            } => Some(format!(
                "Bearer error=\"insufficient_claims\", claims=\"{claims_b64}\", error_description=\"{}\"",
                quote(message)
            )),
            _ => None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (code, message) = self.code_and_message();
        let mut resp = (
            self.status(),
            Json(json!({"error": {"code": code, "message": message}})),
        )
            .into_response();
        if let Some(c) = self
            .challenge()
            .and_then(|c| HeaderValue::from_str(&c).ok())
        {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, c);
        }
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_follow_rfc_6750() {
        assert_eq!(ApiError::MissingToken.challenge().unwrap(), "Bearer");
        let c = ApiError::InvalidToken("the token \"expired\"".into())
            .challenge()
            .unwrap();
        assert_eq!(
            c,
            "Bearer error=\"invalid_token\", error_description=\"the token 'expired'\""
        );
        let c = ApiError::InsufficientScope {
            scope: "access_as_user".into(),
            message: "m".into(),
        }
        .challenge()
        .unwrap();
        assert!(c.starts_with("Bearer error=\"insufficient_scope\", scope=\"access_as_user\""));
        assert_eq!(
            ApiError::InsufficientScope {
                scope: String::new(),
                message: String::new()
            }
            .status(),
            403
        );
        assert_eq!(ApiError::ServerCredential(String::new()).challenge(), None);
    }
}
