//! Load on the dev tenant from a second process: how many requests per second its token and ARM
//! endpoints hold. Run with `cargo bench --bench dev_tenant_load`; it prints one line per
//! endpoint with throughput and latency percentiles.
//!
//! Everything stays on 127.0.0.1, every loop is bounded by count and time, and the tenant is
//! killed at the end.

// Counts here stay far below 2^52; the float conversion for a rate is exact enough.
#![allow(clippy::cast_precision_loss)]

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, BufReader};

/// Concurrent connections per scenario.
const CONCURRENCY: usize = 16;
/// Time each scenario runs for.
const DURATION: Duration = Duration::from_secs(5);
/// Hard cap on requests per scenario, whatever the speed.
const MAX_REQUESTS: usize = 200_000;

#[derive(Clone)]
enum Call {
    Get {
        url: String,
        bearer: Option<String>,
    },
    Form {
        url: String,
        form: Vec<(String, String)>,
    },
}

async fn run(name: &str, client: &reqwest::Client, call: Call) {
    let started = Instant::now();
    let deadline = started + DURATION;
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (client, call, count) = (client.clone(), call.clone(), Arc::clone(&count));
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0usize;
            while Instant::now() < deadline
                && count.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < MAX_REQUESTS
            {
                let t0 = Instant::now();
                let req = match &call {
                    Call::Get { url, bearer } => {
                        let r = client.get(url);
                        if let Some(b) = bearer {
                            r.bearer_auth(b)
                        } else {
                            r
                        }
                    }
                    Call::Form { url, form } => client.post(url).form(form),
                };
                match req.send().await {
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
    let mut failures = 0;
    for t in tasks {
        let (l, f) = t.await.expect("worker");
        all.extend(l);
        failures += f;
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: usize| {
        all.get((all.len() * p / 100).min(all.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "{name:<34} {:>8.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  ({} ok, {failures} failed, {CONCURRENCY} connections, {elapsed:.1} s)",
        all.len() as f64 / elapsed,
        pct(50),
        pct(99),
        all.len()
    );
}

#[tokio::main]
async fn main() {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_azobo"))
        .args([
            "dev-tenant",
            "--listen",
            "127.0.0.1:0",
            "--auto-approve",
            "alice@contoso.example",
            "-q",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start the dev tenant");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let info: Value = serde_json::from_str(
        &lines
            .next_line()
            .await
            .expect("read")
            .expect("startup line"),
    )
    .expect("JSON");
    let s = |k: &str| info[k].as_str().expect(k).to_owned();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(CONCURRENCY)
        .build()
        .expect("client");
    let token_url = format!("{}/oauth2/v2.0/token", s("authority"));
    let api_scope = s("api_scope");

    // One interactive-style sign-in to get a user's tokens.
    let (challenge, verifier) = oauth2::PkceCodeChallenge::new_random_sha256();
    let mut auth =
        url::Url::parse(&format!("{}/oauth2/v2.0/authorize", s("authority"))).expect("url");
    auth.query_pairs_mut()
        .append_pair("client_id", &s("cli_client_id"))
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", "http://localhost:1/")
        .append_pair("scope", &format!("openid offline_access {api_scope}"))
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
    let user_at = tokens["access_token"]
        .as_str()
        .expect("access token")
        .to_owned();
    let rt = tokens["refresh_token"]
        .as_str()
        .expect("refresh token")
        .to_owned();
    let obo_form = |assertion: &str| {
        vec![
            ("client_id".to_owned(), s("api_client_id")),
            ("client_secret".to_owned(), s("api_client_secret")),
            (
                "grant_type".to_owned(),
                "urn:ietf:params:oauth:grant-type:jwt-bearer".to_owned(),
            ),
            ("requested_token_use".to_owned(), "on_behalf_of".to_owned()),
            ("assertion".to_owned(), assertion.to_owned()),
            (
                "scope".to_owned(),
                "https://management.azure.com/user_impersonation".to_owned(),
            ),
        ]
    };
    let arm: Value = client
        .post(&token_url)
        .form(&obo_form(&user_at))
        .send()
        .await
        .expect("obo")
        .json()
        .await
        .expect("json");
    let arm_at = arm["access_token"].as_str().expect("ARM token").to_owned();

    println!(
        "dev tenant load: {CONCURRENCY} connections, {} s per scenario, {} cores",
        DURATION.as_secs(),
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    run(
        "GET openid-configuration",
        &client,
        Call::Get {
            url: format!("{}/v2.0/.well-known/openid-configuration", s("authority")),
            bearer: None,
        },
    )
    .await;
    run(
        "POST token client_credentials",
        &client,
        Call::Form {
            url: token_url.clone(),
            form: vec![
                ("client_id".into(), s("api_client_id")),
                ("client_secret".into(), s("api_client_secret")),
                ("grant_type".into(), "client_credentials".into()),
                (
                    "scope".into(),
                    "https://management.azure.com/.default".into(),
                ),
            ],
        },
    )
    .await;
    run(
        "POST token refresh_token",
        &client,
        Call::Form {
            url: token_url.clone(),
            form: vec![
                ("client_id".into(), s("cli_client_id")),
                ("grant_type".into(), "refresh_token".into()),
                ("refresh_token".into(), rt),
                ("scope".into(), api_scope.clone()),
            ],
        },
    )
    .await;
    run(
        "POST token on_behalf_of",
        &client,
        Call::Form {
            url: token_url.clone(),
            form: obo_form(&user_at),
        },
    )
    .await;
    run(
        "GET ARM subscriptions",
        &client,
        Call::Get {
            url: format!("{}/subscriptions?api-version=2022-12-01", s("arm_url")),
            bearer: Some(arm_at),
        },
    )
    .await;
    let _ = child.kill().await;
}
