//! The device code flow (RFC 8628) for hosts without a browser: the identity platform's message
//! goes to stderr, polling honours `interval`, `authorization_pending` and `slow_down` (+5 s).

use std::time::Duration;

use oauth2::{DeviceCodeErrorResponseType, RequestTokenError, Scope};
use serde::{Deserialize, Serialize};

use super::entra::{EntraClient, TokenResponse, http_adapter, map_token_error};
use crate::error::{Error, Result};

/// Entra adds a ready-made `message` to the device authorization response.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct EntraDeviceFields {
    /// "To sign in, use a web browser to open … and enter the code …".
    #[serde(default)]
    pub message: Option<String>,
}

impl oauth2::ExtraDeviceAuthorizationFields for EntraDeviceFields {}

type DeviceAuthorization = oauth2::DeviceAuthorizationResponse<EntraDeviceFields>;

/// Starts a device authorization; returns it with the text to show the user.
pub async fn start(
    client: &EntraClient,
    http: &reqwest::Client,
    scopes: &[String],
    claims: Option<&str>,
) -> Result<(DeviceAuthorization, String)> {
    let adapter = http_adapter(http);
    let mut req = client
        .exchange_device_code()
        .add_scopes(scopes.iter().cloned().map(Scope::new));
    if let Some(c) = claims {
        req = req.add_extra_param("claims", c.to_owned());
    }
    let details: DeviceAuthorization = req.request_async(&adapter).await.map_err(|e| {
        map_token_error(
            "starting the device code sign-in",
            "the device code endpoint",
            e,
        )
    })?;
    let message = details.extra_fields().message.clone().unwrap_or_else(|| {
        format!(
            "To sign in, open {} and enter the code {}",
            details.verification_uri().as_str(),
            details.user_code().secret()
        )
    });
    Ok((details, message))
}

/// Polls until the user approves, declines, or the code expires.
pub async fn finish(
    client: &EntraClient,
    http: &reqwest::Client,
    details: &DeviceAuthorization,
) -> Result<TokenResponse> {
    let adapter = http_adapter(http);
    // From the network: Entra's codes live 15 minutes; never wait past an hour.
    let expires = details.expires_in().min(Duration::from_secs(3600));
    client
        .exchange_device_access_token(details)
        .add_extra_param("client_info", "1")
        .request_async(
            &adapter,
            tokio::time::sleep,
            Some(expires + Duration::from_secs(5)),
        )
        .await
        .map_err(|e| match e {
            RequestTokenError::ServerResponse(r) => {
                let detail = r.error_description().map_or(String::new(), |d| {
                    format!(": {}", super::entra::without_trace(d))
                });
                match r.error() {
                    // Someone chose "decline" on the code page: nothing an administrator can fix.
                    DeviceCodeErrorResponseType::AccessDenied => Error::AccessDenied {
                        message: format!("the sign-in was declined{detail}"),
                    }
                    .without_hint(),
                    DeviceCodeErrorResponseType::ExpiredToken => Error::SignInRequired {
                        message: format!("the device code expired before anyone signed in{detail}"),
                    },
                    DeviceCodeErrorResponseType::Basic(
                        oauth2::basic::BasicErrorResponseType::Extension(x),
                    ) if x == "authorization_declined" => Error::AccessDenied {
                        message: format!("the sign-in was declined{detail}"),
                    }
                    .without_hint(),
                    other => Error::SignInRequired {
                        message: format!("device code sign-in failed: {}{detail}", other.as_ref()),
                    },
                }
            }
            RequestTokenError::Request(err) => Error::upstream(format!(
                "polling the token endpoint: {}",
                super::entra::source_chain(&err)
            )),
            RequestTokenError::Parse(_, body) => Error::upstream(format!(
                "the token endpoint sent an unexpected answer ({} bytes)",
                body.len()
            )),
            RequestTokenError::Other(m) => Error::SignInRequired {
                message: format!("device code sign-in ended: {m}"),
            },
        })
}
