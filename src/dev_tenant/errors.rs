//! Entra ID's error shapes: the token endpoint's JSON with AADSTS codes, and ARM's `{"error":{}}`.
//!
//! Clients key their behaviour on `error`, `error_codes`, `suberror` and `claims`, so these
//! must match the real service field for field.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::log::LogNote;

/// An OAuth error as Entra's token and device-code endpoints return it.
#[derive(Debug, Clone)]
pub(crate) struct AadError {
    pub(crate) status: StatusCode,
    pub(crate) error: &'static str,
    pub(crate) code: u32,
    pub(crate) description: String,
    pub(crate) suberror: Option<&'static str>,
    pub(crate) claims: Option<String>,
    pub(crate) retry_after: Option<u64>,
}

impl AadError {
    /// A 400 with `error` and an `AADSTS{code}: {description}` description.
    pub(crate) fn new(error: &'static str, code: u32, description: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error,
            code,
            description: description.into(),
            suberror: None,
            claims: None,
            retry_after: None,
        }
    }

    pub(crate) fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub(crate) fn missing(param: &str) -> Self {
        Self::new(
            "invalid_request",
            900_144,
            format!("The request body must contain the following parameter: '{param}'."),
        )
    }

    pub(crate) fn unknown_client(client_id: &str) -> Self {
        Self::new(
            "unauthorized_client",
            700_016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant."
            ),
        )
    }

    pub(crate) fn unknown_tenant(tenant: &str) -> Self {
        Self::new(
            "invalid_tenant",
            90_002,
            format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
        )
    }

    /// A confidential client presented neither a secret nor an assertion (AADSTS7000218).
    pub(crate) fn no_client_credential() -> Self {
        Self::new(
            "invalid_client",
            7_000_218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        )
        .with_status(StatusCode::UNAUTHORIZED)
    }

    pub(crate) fn invalid_scope(detail: impl AsRef<str>) -> Self {
        Self::new(
            "invalid_scope",
            70_011,
            format!(
                "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. {}",
                detail.as_ref()
            ),
        )
    }

    /// The full `error_description`, with the trailer Entra appends.
    fn full_description(&self, trace_id: &str, correlation_id: &str, timestamp: &str) -> String {
        format!(
            "AADSTS{}: {} Trace ID: {trace_id} Correlation ID: {correlation_id} Timestamp: {timestamp}",
            self.code, self.description
        )
    }

    /// The JSON body Entra sends.
    pub(crate) fn body(&self, correlation_id: &str) -> Value {
        let trace_id = uuid::Uuid::new_v4().to_string();
        let timestamp = entra_timestamp();
        let mut body = json!({
            "error": self.error,
            "error_description": self.full_description(&trace_id, correlation_id, &timestamp),
            "error_codes": [self.code],
            "timestamp": timestamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": format!("https://login.microsoftonline.com/error?code={}", self.code),
        });
        if let Some(s) = self.suberror {
            body["suberror"] = json!(s);
        }
        if let Some(c) = &self.claims {
            body["claims"] = json!(c);
        }
        body
    }

    pub(crate) fn into_response_with(self, correlation_id: &str) -> Response {
        let mut resp = (self.status, Json(self.body(correlation_id))).into_response();
        let h = resp.headers_mut();
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store, no-cache"),
        );
        if let Some(secs) = self.retry_after {
            h.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            h.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"\""),
            );
        }
        resp.extensions_mut().insert(LogNote {
            error: Some(format!("{}:{}", self.error, self.code)),
            ..LogNote::default()
        });
        resp
    }
}

impl IntoResponse for AadError {
    fn into_response(self) -> Response {
        let correlation_id = uuid::Uuid::new_v4().to_string();
        self.into_response_with(&correlation_id)
    }
}

/// Entra's `timestamp` format: `2026-11-28 23:20:00Z`.
pub(crate) fn entra_timestamp() -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]Z");
    time::OffsetDateTime::now_utc()
        .format(&fmt)
        .unwrap_or_default()
}

/// An error as Azure Resource Manager returns it.
#[derive(Debug, Clone)]
pub(crate) struct ArmError {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
    pub(crate) retry_after: Option<u64>,
    /// A CAE claims challenge (JSON) for `WWW-Authenticate`.
    pub(crate) claims: Option<String>,
}

impl ArmError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
            claims: None,
        }
    }
}

impl IntoResponse for ArmError {
    fn into_response(self) -> Response {
        let mut resp = (
            self.status,
            Json(json!({"error": {"code": self.code, "message": self.message}})),
        )
            .into_response();
        let h = resp.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
            h.insert("x-ms-request-id", v);
        }
        if let Some(c) = &self.claims {
            use base64::Engine as _;
            let b64 = base64::engine::general_purpose::STANDARD.encode(c.as_bytes());
            let v = format!(
                "Bearer authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", error=\"insufficient_claims\", claims=\"{b64}\""
            );
            if let Ok(v) = HeaderValue::from_str(&v) {
                h.insert(header::WWW_AUTHENTICATE, v);
            }
        }
        if let Some(secs) = self.retry_after {
            h.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.status == StatusCode::UNAUTHORIZED && self.claims.is_none() {
            let challenge = format!(
                "Bearer authorization_uri=\"https://login.microsoftonline.com/common\", error=\"invalid_token\", error_description=\"{}\"",
                self.message.replace('"', "'")
            );
            if let Ok(v) = HeaderValue::from_str(&challenge) {
                h.insert(header::WWW_AUTHENTICATE, v);
            }
        }
        resp.extensions_mut().insert(LogNote {
            error: Some(self.code.to_owned()),
            ..LogNote::default()
        });
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_entra_fields_and_code_prefix() {
        let mut e = AadError::new("invalid_grant", 50_076, "MFA needed.");
        e.suberror = Some("basic_action");
        e.claims = Some("{\"access_token\":{}}".into());
        let b = e.body("corr-1");
        assert_eq!(b["error"], "invalid_grant");
        assert_eq!(b["error_codes"], json!([50076]));
        assert!(
            b["error_description"]
                .as_str()
                .unwrap()
                .starts_with("AADSTS50076: MFA needed.")
        );
        assert!(
            b["error_description"]
                .as_str()
                .unwrap()
                .contains("Correlation ID: corr-1")
        );
        assert_eq!(b["correlation_id"], "corr-1");
        assert_eq!(b["suberror"], "basic_action");
        assert_eq!(
            b["error_uri"],
            "https://login.microsoftonline.com/error?code=50076"
        );
        assert_eq!(b["timestamp"].as_str().unwrap().len(), 20);
    }
}
