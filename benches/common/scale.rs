//! Helpers for the scale-out benchmark: serve-api with extra flags, distinct callers' tokens
//! minted by the dev tenant, the dev tenant's count of OBO exchanges, Prometheus samples, and a
//! load generator that rotates over several requests.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::{Call, Report};

const OBO_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// A serve-api process (killed on drop) and its base URL.
pub struct Instance {
    pub child: tokio::process::Child,
    pub url: String,
}

/// Starts serve-api against the dev tenant described by `info`, with `extra` flags and `env`.
pub async fn spawn_api_with(info: &Value, extra: &[&str], env: &[(&str, String)]) -> Instance {
    let s = |k: &str| info[k].as_str().expect(k).to_owned();
    let (authority, tenant, client_id, arm) = (
        s("base_url"),
        s("tenant_id"),
        s("api_client_id"),
        s("arm_url"),
    );
    let mut args = vec![
        "serve-api",
        "--listen",
        "127.0.0.1:0",
        "-q",
        "--authority",
        &authority,
        "--tenant",
        &tenant,
        "--client-id",
        &client_id,
        "--arm-url",
        &arm,
    ];
    args.extend_from_slice(extra);
    let mut all_env = vec![("AZOBO_API_CLIENT_SECRET", s("api_client_secret"))];
    all_env.extend(env.iter().map(|(k, v)| (*k, v.clone())));
    let (child, line) = super::spawn(&args, &all_env).await;
    let url = line["listening"].as_str().expect("listening").to_owned();
    Instance { child, url }
}

/// Waits (20 s at most) until `url/readyz` answers 200 and, with a shared cache, reports it `ok`.
pub async fn wait_ready(client: &reqwest::Client, url: &str) -> Value {
    let started = Instant::now();
    loop {
        if let Ok(r) = client.get(format!("{url}/readyz")).send().await
            && r.status() == 200
            && let Ok(v) = r.json::<Value>().await
            && (v["token_cache"]["kind"] != "redis" || v["token_cache"]["state"] == "ok")
        {
            return v;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{url} never became ready"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_secs(),
    )
    .expect("seconds")
}

/// `n` distinct callers' API tokens (`sub`/`uti` = `{prefix}-{i}`), all for alice (4
/// subscriptions, one ARM page), signed by the dev tenant's `/_dev/sign`, four at a time.
pub async fn mint_callers(
    client: &reqwest::Client,
    info: &Value,
    prefix: &str,
    n: usize,
) -> Vec<String> {
    let s = |k: &str| info[k].as_str().expect(k).to_owned();
    let tid = s("tenant_id");
    let alice = info["users"]
        .as_array()
        .expect("users")
        .iter()
        .find(|u| u["username"] == "alice@contoso.example")
        .expect("alice")["oid"]
        .clone();
    let sign_url = format!("{}/sign", s("control_url"));
    let workers = 4;
    let mut tasks = Vec::new();
    for w in 0..workers {
        let (client, sign_url) = (client.clone(), sign_url.clone());
        let (iss, aud, azp, tid, alice, prefix) = (
            format!("{}/{tid}/v2.0", s("base_url")),
            s("api_client_id"),
            s("cli_client_id"),
            tid.clone(),
            alice.clone(),
            prefix.to_owned(),
        );
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for i in (w..n).step_by(workers) {
                let claims = json!({
                    "aud": aud, "iss": iss, "tid": tid, "ver": "2.0",
                    "iat": now(), "nbf": now() - 10, "exp": now() + 3600, "scp": "access_as_user",
                    "oid": alice, "azp": azp, "sub": format!("{prefix}-{i}"),
                    "uti": format!("{prefix}-{i}"),
                });
                let signed: Value = client
                    .post(&sign_url)
                    .json(&json!({ "claims": claims }))
                    .send()
                    .await
                    .expect("sign")
                    .json()
                    .await
                    .expect("sign JSON");
                out.push((i, signed["token"].as_str().expect("token").to_owned()));
            }
            out
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("minter"));
    }
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, t)| t).collect()
}

/// The dev tenant's request log.
async fn dev_requests(client: &reqwest::Client, info: &Value) -> Vec<Value> {
    let url = format!(
        "{}/requests",
        info["control_url"].as_str().expect("control_url")
    );
    let v: Value = client
        .get(url)
        .send()
        .await
        .expect("requests")
        .json()
        .await
        .expect("requests JSON");
    v["requests"].as_array().cloned().unwrap_or_default()
}

/// Where the dev tenant's request log stands now: the `seq` the next entry gets.
pub async fn log_mark(client: &reqwest::Client, info: &Value) -> u64 {
    dev_requests(client, info)
        .await
        .iter()
        .filter_map(|e| e["seq"].as_u64())
        .max()
        .map_or(0, |s| s + 1)
}

/// OBO exchanges the dev tenant logged since `mark`. Panics if its bounded log dropped entries
/// from that window (the count would be short).
pub async fn exchanges_since(client: &reqwest::Client, info: &Value, mark: u64) -> usize {
    let log = dev_requests(client, info).await;
    let oldest = log.iter().filter_map(|e| e["seq"].as_u64()).min();
    assert!(
        oldest.is_none_or(|o| o <= mark),
        "the dev tenant's request log dropped entries since the mark"
    );
    log.iter()
        .filter(|e| e["seq"].as_u64().is_some_and(|s| s >= mark) && e["grant_type"] == OBO_GRANT)
        .count()
}

/// `url/metrics` as text.
pub async fn metrics(client: &reqwest::Client, url: &str) -> String {
    client
        .get(format!("{url}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text")
}

/// The value of one sample line (`name{labels} value`), 0 when absent.
pub fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

/// Every sample of the metric families named `prefix…` (no comments), as `(series, value)`.
pub fn family(text: &str, prefix: &str) -> Vec<(String, f64)> {
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            Some((series.to_owned(), value.parse().ok()?))
        })
        .collect()
}

/// What `load_rotating` measured, with the failures broken down.
pub struct Rotated {
    pub report: Report,
    /// Answers other than 2xx, by status.
    pub statuses: BTreeMap<u16, usize>,
    /// Requests that got no answer at all.
    pub errors: usize,
    pub first_error: Option<String>,
}

impl Rotated {
    pub fn non_2xx(&self) -> usize {
        self.statuses.values().sum()
    }
}

/// Like `load`, but request number k (over all connections) is `calls[k % calls.len()]`.
pub async fn load_rotating(
    client: &reqwest::Client,
    calls: &[Call],
    connections: usize,
    duration: Duration,
    max: usize,
) -> Rotated {
    load_rotating_samples(client, calls, connections, duration, max)
        .await
        .into_rotated()
}

/// What `load_rotating_samples` saw, every latency kept: runs can be merged before the
/// percentiles are taken.
#[derive(Default)]
pub struct Samples {
    /// Latencies of the 2xx answers.
    pub latencies: Vec<Duration>,
    /// Answers other than 2xx, by status.
    pub statuses: BTreeMap<u16, usize>,
    /// Requests that got no answer at all.
    pub errors: usize,
    pub first_error: Option<String>,
    /// Wall-clock seconds the run took.
    pub seconds: f64,
}

impl Samples {
    /// Adds `other`'s requests and seconds to these.
    pub fn merge(&mut self, other: Self) {
        self.latencies.extend(other.latencies);
        for (k, v) in other.statuses {
            *self.statuses.entry(k).or_default() += v;
        }
        self.errors += other.errors;
        self.first_error = self.first_error.take().or(other.first_error);
        self.seconds += other.seconds;
    }

    /// The report: 2xx answers, failures, seconds, p50 and p99.
    pub fn into_rotated(mut self) -> Rotated {
        let (p50_ms, p99_ms) = percentiles_ms(&mut self.latencies);
        Rotated {
            report: Report {
                ok: self.latencies.len(),
                failed: self.statuses.values().sum::<usize>() + self.errors,
                seconds: self.seconds,
                p50_ms,
                p99_ms,
            },
            statuses: self.statuses,
            errors: self.errors,
            first_error: self.first_error,
        }
    }
}

/// `load_rotating`, with every latency kept.
pub async fn load_rotating_samples(
    client: &reqwest::Client,
    calls: &[Call],
    connections: usize,
    duration: Duration,
    max: usize,
) -> Samples {
    let calls: Arc<[Call]> = calls.into();
    let started = Instant::now();
    let deadline = started + duration;
    let count = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (client, calls, count) = (client.clone(), Arc::clone(&calls), Arc::clone(&count));
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut statuses = BTreeMap::<u16, usize>::new();
            let (mut errors, mut first_error) = (0usize, None);
            while Instant::now() < deadline {
                let k = count.fetch_add(1, Ordering::Relaxed);
                if k >= max {
                    break;
                }
                let t0 = Instant::now();
                match calls[k % calls.len()].request(&client).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        latencies.push(t0.elapsed());
                    }
                    Ok(r) => {
                        *statuses.entry(r.status().as_u16()).or_default() += 1;
                        let _ = r.bytes().await;
                    }
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert_with(|| e.to_string());
                    }
                }
            }
            Samples {
                latencies,
                statuses,
                errors,
                first_error,
                seconds: 0.0,
            }
        }));
    }
    let mut all = Samples::default();
    for t in tasks {
        all.merge(t.await.expect("worker"));
    }
    all.seconds = started.elapsed().as_secs_f64();
    all
}

/// p50 and p99 in milliseconds (0 for no samples); sorts `all`.
pub fn percentiles_ms(all: &mut [Duration]) -> (f64, f64) {
    all.sort();
    let pct = |p: usize| {
        all.get((all.len() * p / 100).min(all.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    (pct(50), pct(99))
}

/// `GET url{path}` once per token, one after another on one connection: each latency, and the
/// number of answers that were not 200 (or no answer).
pub async fn sequential(
    client: &reqwest::Client,
    url: &str,
    path: &str,
    tokens: &[String],
) -> (Vec<Duration>, usize) {
    let mut latencies = Vec::with_capacity(tokens.len());
    let mut failed = 0;
    for token in tokens {
        let t0 = Instant::now();
        match client
            .get(format!("{url}{path}"))
            .bearer_auth(token)
            .send()
            .await
        {
            Ok(r) if r.status() == 200 => {
                let _ = r.bytes().await;
                latencies.push(t0.elapsed());
            }
            Ok(r) => {
                let _ = r.bytes().await;
                failed += 1;
            }
            Err(_) => failed += 1,
        }
    }
    (latencies, failed)
}
