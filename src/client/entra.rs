//! Entra ID's token-endpoint types for the `oauth2` crate (its token response with `id_token`
//! and `client_info`, its error with `error_codes`, `suberror` and `claims`), the HTTP adapter,
//! and the mapping of failures to azobo's error classes — decided by AADSTS code, not just by
//! `error`, because Entra sends AADSTS70043 as either `invalid_grant` or `interaction_required`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use oauth2::basic::{
    BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    EndpointNotSet, EndpointSet, RequestTokenError, StandardRevocableToken, StandardTokenResponse,
};
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// An OAuth error as Entra returns it.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct EntraError {
    /// The OAuth `error`.
    pub error: String,
    /// `AADSTS…: text …`.
    #[serde(default)]
    pub error_description: Option<String>,
    /// The AADSTS codes.
    #[serde(default)]
    pub error_codes: Vec<u32>,
    /// A finer reason (`basic_action`, `consent_required`, …).
    #[serde(default)]
    pub suberror: Option<String>,
    /// A claims challenge to pass to `/authorize`.
    #[serde(default)]
    pub claims: Option<String>,
    /// For support requests.
    #[serde(default)]
    pub trace_id: Option<String>,
    /// For support requests.
    #[serde(default)]
    pub correlation_id: Option<String>,
}

/// An Entra `error_description` without the trace trailer (`Trace ID: … Correlation ID: …`).
pub fn without_trace(description: &str) -> &str {
    description
        .split(" Trace ID:")
        .next()
        .unwrap_or(description)
        .trim()
}

impl EntraError {
    /// The first sentence of the description, without Entra's trace trailer.
    pub fn summary(&self) -> String {
        let d = without_trace(self.error_description.as_deref().unwrap_or(&self.error));
        let d = d.split("\r\n").next().unwrap_or(d).trim();
        match d.find(". ") {
            Some(i) => d[..=i].to_owned(),
            None => d.to_owned(),
        }
    }

    /// `summary` plus the trace id, for one-line errors.
    pub fn line(&self) -> String {
        match &self.trace_id {
            Some(t) => format!("{} (trace id {t})", self.summary()),
            None => self.summary(),
        }
    }

    fn has_code(&self, codes: &[u32]) -> bool {
        self.error_codes.iter().any(|c| codes.contains(c))
    }

    /// True when only a new interactive sign-in can fix this.
    pub fn needs_sign_in(&self) -> bool {
        // Expired, revoked, sign-in frequency, MFA/CA, bad or redeemed grant, user gone.
        const CODES: [u32; 13] = [
            50_173, 70_043, 700_082, 50_076, 50_079, 50_078, 70_008, 54_005, 9_002_313, 70_000,
            50_034, 50_058, 160_021,
        ];
        self.has_code(&CODES)
            || matches!(
                self.error.as_str(),
                "invalid_grant"
                    | "interaction_required"
                    | "login_required"
                    | "expired_token"
                    | "bad_verification_code"
            )
    }

    /// True when consent or authorization is missing.
    pub fn is_access_denied(&self) -> bool {
        self.has_code(&[65_001, 65_004, 50_105])
            || matches!(
                self.error.as_str(),
                "consent_required"
                    | "access_denied"
                    | "authorization_declined"
                    | "unauthorized_client"
            )
    }

    /// True for transient service trouble.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.error.as_str(),
            "temporarily_unavailable" | "server_error"
        ) || self.has_code(&[90_033, 50_196])
    }
}

impl fmt::Display for EntraError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.line())
    }
}

impl oauth2::ErrorResponse for EntraError {}

/// The fields Entra adds to a token response.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct EntraFields {
    /// With `openid`.
    #[serde(default)]
    pub id_token: Option<String>,
    /// With `client_info=1`: base64url `{"uid","utid"}`.
    #[serde(default)]
    pub client_info: Option<String>,
    /// Extended lifetime for outages.
    #[serde(default)]
    pub ext_expires_in: Option<u64>,
}

impl oauth2::ExtraTokenFields for EntraFields {}

/// A token response.
pub type TokenResponse = StandardTokenResponse<EntraFields, BasicTokenType>;

/// The `oauth2` client with Entra's types; `A`/`D` say whether the authorize and device
/// endpoints are set.
pub type EntraClient<A = EndpointSet, D = EndpointSet> = oauth2::Client<
    EntraError,
    TokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    A,
    D,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// The future type of the HTTP adapter.
pub type HttpFuture<'a> =
    Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, reqwest::Error>> + Send + 'a>>;

/// Adapts the shared reqwest client to the `oauth2` crate (which speaks `http` types).
pub fn http_adapter(
    client: &reqwest::Client,
) -> impl Fn(oauth2::HttpRequest) -> HttpFuture<'static> + use<> {
    let client = client.clone();
    move |req: oauth2::HttpRequest| {
        let client = client.clone();
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let url = parts.uri.to_string();
            // A client-request-id lets the identity platform's logs (and `--debug`) be matched.
            let resp = super::http::send(
                client
                    .request(parts.method, url)
                    .headers(parts.headers)
                    .header("client-request-id", uuid::Uuid::new_v4().to_string())
                    .body(body),
                0,
            )
            .await?;
            let mut builder = http::Response::builder().status(resp.status());
            for (k, v) in resp.headers() {
                builder = builder.header(k, v);
            }
            // An identity platform's answers are small; anything longer is not one.
            let bytes = match super::http::read_capped(resp, super::http::caps::IDENTITY).await {
                Ok(b) => b,
                Err(super::http::BodyError::Read(e)) => return Err(e),
                Err(super::http::BodyError::TooLarge(_)) => Vec::new(),
            };
            Ok(builder.body(bytes).unwrap_or_default())
        })
    }
}

/// Maps a failed token request to azobo's error classes; `what` names the operation.
pub fn map_token_error<E: std::error::Error + 'static>(
    what: &str,
    endpoint: &str,
    e: RequestTokenError<E, EntraError>,
) -> Error {
    match e {
        RequestTokenError::ServerResponse(err) => classify(what, &err),
        RequestTokenError::Request(err) => Error::upstream(format!(
            "{what}: cannot reach `{endpoint}`: {}",
            source_chain(&err)
        )),
        RequestTokenError::Parse(_, body) => Error::upstream(format!(
            "{what}: `{endpoint}` answered with something that is not a token response ({} bytes)",
            body.len()
        )),
        RequestTokenError::Other(m) => Error::failure(format!("{what}: {m}")),
    }
}

/// Classifies an Entra error.
pub fn classify(what: &str, err: &EntraError) -> Error {
    let message = format!("{what}: {}", err.line());
    if err.is_transient() {
        Error::upstream(message)
    } else if err.is_access_denied() {
        Error::AccessDenied { message }
    } else if err.needs_sign_in() {
        Error::SignInRequired { message }
    } else {
        Error::failure(message)
    }
}

/// An error and its sources on one line.
pub fn source_chain(err: &dyn std::error::Error) -> String {
    let mut s = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        let t = e.to_string();
        if !s.contains(&t) {
            s = format!("{s}: {t}");
        }
        cur = e.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(error: &str, code: u32) -> EntraError {
        EntraError {
            error: error.into(),
            error_description: Some(format!(
                "AADSTS{code}: First sentence. Second one. Trace ID: abc Correlation ID: def"
            )),
            error_codes: vec![code],
            trace_id: Some("abc".into()),
            ..EntraError::default()
        }
    }

    #[test]
    fn classification_uses_codes_not_only_error() {
        assert_eq!(
            classify("x", &err("interaction_required", 70043)).exit_code(),
            3
        );
        assert_eq!(classify("x", &err("invalid_grant", 70043)).exit_code(), 3);
        assert_eq!(classify("x", &err("invalid_grant", 50173)).exit_code(), 3);
        assert_eq!(classify("x", &err("invalid_grant", 65001)).exit_code(), 4);
        assert_eq!(
            classify("x", &err("temporarily_unavailable", 90033)).exit_code(),
            5
        );
        assert_eq!(
            classify("x", &err("invalid_client", 7_000_215)).exit_code(),
            1
        );
    }

    #[test]
    fn summary_keeps_the_code_and_first_sentence() {
        let e = err("invalid_grant", 50173);
        assert_eq!(e.summary(), "AADSTS50173: First sentence.");
        assert_eq!(e.line(), "AADSTS50173: First sentence. (trace id abc)");
    }
}
