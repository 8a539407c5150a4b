//! The one HTTP client a process uses: timeouts, `azobo/<version>` user agent, the system trust
//! store plus `SSL_CERT_FILE`, and the proxy variables (`http_proxy`, `https_proxy`, `all_proxy`
//! and `no_proxy`, either case) — except for the loopback interface, which never goes through a
//! proxy whatever they say: a bearer token for `http://127.0.0.1:5000` or a refresh token for
//! the dev tenant must not travel in the clear to a proxy, and a proxy cannot reach this
//! machine's loopback anyway.

use std::time::Duration;

use crate::config::Env;
use crate::env_vars;
use crate::error::{Error, Result};

/// `azobo/<version>`.
pub const USER_AGENT: &str = concat!("azobo/", env!("CARGO_PKG_VERSION"));

/// Hosts no request goes to through a proxy, whatever the environment says.
const LOOPBACK: &str = "localhost,127.0.0.0/8,::1,::ffff:127.0.0.0/104";

/// The proxies the environment asks for, each with the loopback interface (and the user's
/// `no_proxy`) excluded.
fn proxies(env: &Env) -> Result<Vec<reqwest::Proxy>> {
    let pick = |names: [&'static str; 2]| {
        names
            .into_iter()
            .find_map(|n| env.get(n).map(|v| (n, v.to_owned())))
    };
    let [http, https, all, no] = env_vars::PROXY_VARIABLES;
    let excluded = match pick(no) {
        Some((_, user)) => format!("{user},{LOOPBACK}"),
        None => LOOPBACK.to_owned(),
    };
    let mut out = Vec::new();
    for names in [http, https, all] {
        let Some((name, url)) = pick(names) else {
            continue;
        };
        let proxy = if names == http {
            reqwest::Proxy::http(url.as_str())
        } else if names == https {
            reqwest::Proxy::https(url.as_str())
        } else {
            reqwest::Proxy::all(url.as_str())
        }
        // The URL may carry a password: name the variable, not its value.
        .map_err(|e| Error::usage(format!("`{name}` is not a usable proxy URL: {e}")))?;
        out.push(proxy.no_proxy(reqwest::NoProxy::from_string(&excluded)));
    }
    Ok(out)
}

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
    let proxies = proxies(env)?;
    // On Linux the proxy variables are the system's proxy settings, so they are taken from
    // `proxies` alone and the loopback exclusion always applies. On macOS and Windows, with no
    // variable set, reqwest reads the OS proxy settings, whose bypass list decides for loopback.
    if cfg!(target_os = "linux") || !proxies.is_empty() {
        builder = builder.no_proxy();
        for proxy in proxies {
            builder = builder.proxy(proxy);
        }
    }
    builder
        .build()
        .map_err(|e| Error::failure(format!("building the HTTP client: {e}")))
}

/// The `tracing` target of the line per HTTP call that `--debug` / `AZOBO_DEBUG=api` turns on.
pub const DEBUG_TARGET: &str = "azobo::http";

/// Sends `req`, and with `--debug` writes one line for it on stderr: method, URL (query values
/// elided but `api-version`'s), status or failure, time, correlation id and retry number. Headers
/// and bodies — where tokens travel — are never written.
pub async fn send(
    req: reqwest::RequestBuilder,
    retry: usize,
) -> reqwest::Result<reqwest::Response> {
    if !tracing::enabled!(target: DEBUG_TARGET, tracing::Level::DEBUG) {
        return req.send().await;
    }
    let (client, request) = req.build_split();
    let request = request?;
    let method = request.method().clone();
    let url = shown_url(request.url());
    let correlation = ["x-ms-correlation-id", "client-request-id"]
        .iter()
        .find_map(|h| request.headers().get(*h))
        .and_then(|v| v.to_str().ok())
        .map(|c| format!(", correlation id {c}"))
        .unwrap_or_default();
    let retry = if retry > 0 {
        format!(", retry {retry}")
    } else {
        String::new()
    };
    let start = std::time::Instant::now();
    let result = client.execute(request).await;
    let ms = start.elapsed().as_millis();
    match &result {
        Ok(r) => tracing::debug!(
            target: DEBUG_TARGET,
            "{method} {url} → {} in {ms} ms{correlation}{retry}",
            r.status()
        ),
        Err(e) => tracing::debug!(
            target: DEBUG_TARGET,
            "{method} {url} → failed after {ms} ms ({}){correlation}{retry}",
            super::entra::source_chain(e)
        ),
    }
    result
}

/// A URL as a debug line shows it: no user or password, and each query value elided except
/// `api-version` (a query may carry a code or a token).
fn shown_url(url: &url::Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "api-version" {
                    v.into_owned()
                } else {
                    "…".to_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        shown.query_pairs_mut().clear().extend_pairs(pairs);
    }
    shown.to_string()
}

/// A response body that could not be read whole.
#[derive(Debug)]
pub enum BodyError {
    /// Longer than the cap: the rest was never read.
    TooLarge(usize),
    /// The connection failed or timed out while reading.
    Read(reqwest::Error),
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodyError::TooLarge(max) => write!(f, "the answer is larger than {} KiB", max / 1024),
            BodyError::Read(e) => write!(
                f,
                "reading the answer failed: {}",
                super::entra::source_chain(e)
            ),
        }
    }
}

/// Caps for bodies from the network, by what they are.
pub mod caps {
    /// An identity platform's answer (token, metadata, keys, device code): a few KiB.
    pub const IDENTITY: usize = 1024 * 1024;
    /// A Microsoft Graph answer (a page of applications or grants).
    pub const GRAPH: usize = 4 * 1024 * 1024;
    /// One ARM page (100 subscriptions are about 100 KiB).
    pub const ARM_PAGE: usize = 8 * 1024 * 1024;
    /// The protected API's answer to `azobo subscriptions` (every page, merged), unless
    /// `--max-response-mib` says otherwise.
    pub const API_LISTING: usize = 64 * 1024 * 1024;
}

/// Reads `resp`'s body, at most `max` bytes: a `Content-Length` beyond it is refused before
/// reading, a stream that runs past it is cut there. The time is bounded by the client's
/// timeouts; memory by `max`.
pub async fn read_capped(mut resp: reqwest::Response, max: usize) -> Result<Vec<u8>, BodyError> {
    if resp
        .content_length()
        .is_some_and(|n| usize::try_from(n).map_or(true, |n| n > max))
    {
        return Err(BodyError::TooLarge(max));
    }
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(BodyError::Read)? {
        if out.len().saturating_add(chunk.len()) > max {
            return Err(BodyError::TooLarge(max));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_lines_show_no_query_values_or_credentials() {
        let u = url::Url::parse(
            "https://user:pw@management.azure.com/subscriptions?api-version=2022-12-01&code=SECRET&%24skiptoken=abc",
        )
        .unwrap();
        let shown = shown_url(&u);
        assert!(!shown.contains("SECRET") && !shown.contains("pw") && !shown.contains("abc"));
        assert!(shown.contains("api-version=2022-12-01"), "{shown}");
        assert!(
            shown.starts_with("https://management.azure.com/subscriptions?"),
            "{shown}"
        );
    }
}
