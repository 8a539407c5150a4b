//! The one HTTP client a process uses: timeouts, `azobo/<version>` user agent, the system trust
//! store plus `SSL_CERT_FILE`, and `HTTPS_PROXY`/`NO_PROXY` (reqwest reads them from the
//! environment).

use std::time::Duration;

use crate::config::Env;
use crate::env_vars;
use crate::error::{Error, Result};

/// `azobo/<version>`.
pub const USER_AGENT: &str = concat!("azobo/", env!("CARGO_PKG_VERSION"));

/// Builds the shared client.
pub fn client(env: &Env) -> Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .pool_idle_timeout(Duration::from_secs(60))
        // Redirects on token and API calls would leak a bearer to wherever they point.
        .redirect(reqwest::redirect::Policy::none());
    if let Some(path) = env.get(env_vars::SSL_CERT_FILE) {
        let pem = std::fs::read(path)
            .map_err(|e| Error::usage(format!("`SSL_CERT_FILE`: cannot read `{path}`: {e}")))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
            Error::usage(format!(
                "`SSL_CERT_FILE`: `{path}` is not a PEM bundle: {e}"
            ))
        })?;
        if certs.is_empty() {
            return Err(Error::usage(format!(
                "`SSL_CERT_FILE`: `{path}` holds no certificate"
            )));
        }
        builder = builder.tls_certs_merge(certs);
    }
    builder
        .build()
        .map_err(|e| Error::failure(format!("building the HTTP client: {e}")))
}
