//! Shared by the load benchmarks: start azobo processes, and drive an endpoint with N
//! connections for a bounded time and request count, reporting throughput and percentiles.

#![allow(dead_code, unreachable_pub, clippy::cast_precision_loss)]

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, BufReader};

#[path = "../../tests/shared/infra.rs"]
pub mod infra;
pub mod pki;
pub mod procfs;
pub mod scale;

/// One request shape.
#[derive(Clone)]
pub enum Call {
    Get {
        url: String,
        bearer: Option<String>,
    },
    Form {
        url: String,
        form: Vec<(String, String)>,
    },
}

impl Call {
    /// The request, ready to send with `client`.
    pub fn request(&self, client: &reqwest::Client) -> reqwest::RequestBuilder {
        match self {
            Call::Get { url, bearer } => {
                let r = client.get(url);
                match bearer {
                    Some(b) => r.bearer_auth(b),
                    None => r,
                }
            }
            Call::Form { url, form } => client.post(url).form(form),
        }
    }
}

/// What a load run measured.
pub struct Report {
    pub ok: usize,
    pub failed: usize,
    pub seconds: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

impl Report {
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.seconds
    }
}

/// Drives `call` with `connections` concurrent clients for `duration` (at most `max` requests).
pub async fn load(
    client: &reqwest::Client,
    call: Call,
    connections: usize,
    duration: Duration,
    max: usize,
) -> Report {
    let started = Instant::now();
    let deadline = started + duration;
    let count = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (client, call, count) = (client.clone(), call.clone(), Arc::clone(&count));
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0usize;
            while Instant::now() < deadline && count.fetch_add(1, Ordering::Relaxed) < max {
                let t0 = Instant::now();
                match call.request(&client).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        latencies.push(t0.elapsed());
                    }
                    _ => failures += 1,
                }
            }
            (latencies, failures)
        }));
    }
    let mut all = Vec::new();
    let mut failed = 0;
    for t in tasks {
        let (l, f) = t.await.expect("worker");
        all.extend(l);
        failed += f;
    }
    let seconds = started.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: usize| {
        all.get((all.len() * p / 100).min(all.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    Report {
        ok: all.len(),
        failed,
        seconds,
        p50_ms: pct(50),
        p99_ms: pct(99),
    }
}

/// The binary benchmarked: this build, or `AZOBO_BENCH_BIN` (an earlier release, to compare
/// the two in one sitting).
pub fn bin() -> std::ffi::OsString {
    std::env::var_os("AZOBO_BENCH_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_azobo").into())
}

/// Starts `azobo ARGS…` and returns it with the JSON of its first stdout line.
pub async fn spawn(args: &[&str], env: &[(&str, String)]) -> (tokio::process::Child, Value) {
    spawn_bin(&bin(), args, env).await
}

/// Like `spawn`, with the azobo binary at `program` (a baseline build, say).
pub async fn spawn_bin(
    program: &std::ffi::OsStr,
    args: &[&str],
    env: &[(&str, String)],
) -> (tokio::process::Child, Value) {
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start azobo");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let line = lines
        .next_line()
        .await
        .expect("read")
        .expect("a startup line");
    (child, serde_json::from_str(&line).expect("JSON"))
}

/// Starts a dev tenant that signs alice in without a page.
pub async fn spawn_tenant() -> (tokio::process::Child, Value) {
    spawn(
        &[
            "dev-tenant",
            "--listen",
            "127.0.0.1:0",
            "--auto-approve",
            "alice@contoso.example",
            "-q",
        ],
        &[],
    )
    .await
}

/// Starts serve-api against the dev tenant described by `info`.
pub async fn spawn_api(info: &Value) -> (tokio::process::Child, Value) {
    let s = |k: &str| info[k].as_str().expect(k).to_owned();
    spawn(
        &[
            "serve-api",
            "--listen",
            "127.0.0.1:0",
            "-q",
            "--authority",
            &s("base_url"),
            "--tenant",
            &s("tenant_id"),
            "--client-id",
            &s("api_client_id"),
            "--arm-url",
            &s("arm_url"),
        ],
        &[("AZOBO_API_CLIENT_SECRET", s("api_client_secret"))],
    )
    .await
}

/// A user's API token from a dev tenant that auto-approves `alice`.
pub async fn user_token(client: &reqwest::Client, info: &Value) -> (String, String) {
    let s = |k: &str| info[k].as_str().expect(k).to_owned();
    let token_url = format!("{}/oauth2/v2.0/token", s("authority"));
    let (challenge, verifier) = oauth2::PkceCodeChallenge::new_random_sha256();
    let mut auth =
        url::Url::parse(&format!("{}/oauth2/v2.0/authorize", s("authority"))).expect("url");
    auth.query_pairs_mut()
        .append_pair("client_id", &s("cli_client_id"))
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", "http://localhost:1/")
        .append_pair(
            "scope",
            &format!("openid offline_access {}", s("api_scope")),
        )
        .append_pair("code_challenge", challenge.as_str())
        .append_pair("code_challenge_method", "S256");
    let loc = client
        .get(auth.as_str())
        .send()
        .await
        .expect("authorize")
        .headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let code = url::Url::parse(&loc)
        .expect("redirect")
        .query_pairs()
        .find(|(k, _)| k == "code")
        .expect("code")
        .1
        .into_owned();
    let tokens: Value = client
        .post(&token_url)
        .form(&[
            ("client_id", s("cli_client_id")),
            ("grant_type", "authorization_code".into()),
            ("code", code),
            ("redirect_uri", "http://localhost:1/".into()),
            ("code_verifier", verifier.secret().clone()),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    (
        tokens["access_token"]
            .as_str()
            .expect("access token")
            .to_owned(),
        tokens["refresh_token"]
            .as_str()
            .expect("refresh token")
            .to_owned(),
    )
}
