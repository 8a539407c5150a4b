//! serve-api scaled out, on this machine's loopback, against the dev tenant (identity platform
//! and ARM):
//! 1. `GET /subscriptions` throughput with warm caches, 64 connections, 20 callers' tokens in
//!    rotation: one instance alone; nginx over three instances sharing Redis; nginx over the one
//!    instance (what a proxy hop costs).
//! 2. OBO exchanges per caller, 20 callers × 30 requests at once through nginx over three
//!    instances, without and with Redis, counted at the dev tenant.
//! 3. What an L2 (Redis) hit costs end to end: 500 callers cached through one instance, then
//!    asked of a fresh one (cold memory, same Redis), next to L1 hits and a bare Redis `GET`.
//!
//! Every process is started here and stopped at the end; every run is bounded in time and count.

#![allow(clippy::cast_precision_loss)]

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;

use common::Call;
use common::infra::{Nginx, Redis, server_binary};
use common::scale::{
    Instance, Rotated, exchanges_since, family, load_rotating, log_mark, metrics, mint_callers,
    percentiles_ms, sample, sequential, spawn_api_with, wait_ready,
};

const CONNECTIONS: usize = 64;
const WARM: Duration = Duration::from_secs(2);
const DURATION: Duration = Duration::from_secs(15);
const MAX_REQUESTS: usize = 2_000_000;
const CALLERS: usize = 20;
const PER_CALLER: usize = 30;
const L2_CALLERS: usize = 500;

const SERVED: &str = "azobo_api_requests_total{route=\"/subscriptions\",status=\"200\"}";
const L1_HITS: &str = "azobo_api_obo_cache_hits_total{layer=\"l1\"}";
const L2_HITS: &str = "azobo_api_obo_cache_hits_total{layer=\"l2\"}";
const EXCHANGES: &str = "azobo_api_obo_exchanges_total{outcome=\"ok\"}";
const REDIS_GETS: &str = "azobo_api_redis_duration_seconds_count{op=\"get\"}";
const REDIS_GET_SECONDS: &str = "azobo_api_redis_duration_seconds_sum{op=\"get\"}";

/// Where the dev tenant, Redis and the shared cache key are.
struct Setup {
    http: reqwest::Client,
    info: Value,
    redis_url: String,
    cache_key: String,
}

impl Setup {
    /// One serve-api, on the shared Redis cache or on memory alone.
    async fn instance(&self, shared: bool) -> Instance {
        let mut flags = vec!["--max-connections-per-peer", "1024"];
        let mut env = Vec::new();
        if shared {
            flags.extend(["--token-cache", self.redis_url.as_str()]);
            env.push(("AZOBO_API_CACHE_KEY", self.cache_key.clone()));
        }
        let api = spawn_api_with(&self.info, &flags, &env).await;
        wait_ready(&self.http, &api.url).await;
        api
    }

    async fn instances(&self, n: usize, shared: bool) -> Vec<Instance> {
        let mut all = Vec::new();
        for _ in 0..n {
            all.push(self.instance(shared).await);
        }
        all
    }

    /// The named samples of each instance's metrics.
    async fn samples(&self, urls: &[String], series: &[&str]) -> Vec<Vec<f64>> {
        let mut out = Vec::new();
        for url in urls {
            let m = metrics(&self.http, url).await;
            out.push(series.iter().map(|s| sample(&m, s)).collect());
        }
        out
    }
}

/// Two counter values are the same count.
fn same(a: f64, b: f64) -> bool {
    (a - b).abs() < 0.5
}

fn urls(instances: &[Instance]) -> Vec<String> {
    instances.iter().map(|i| i.url.clone()).collect()
}

fn lb(upstreams: &[String]) -> Nginx {
    Nginx::start(upstreams).expect("nginx is installed")
}

fn calls(target: &str, tokens: &[String]) -> Vec<Call> {
    tokens
        .iter()
        .map(|t| Call::Get {
            url: format!("{target}/subscriptions"),
            bearer: Some(t.clone()),
        })
        .collect()
}

/// Every caller's ARM token into each instance's memory (one request each, directly), then
/// `CONNECTIONS` connections through `target` for `WARM` to fill the connection pools.
async fn warm(s: &Setup, target: &str, direct: &[String], tokens: &[String]) {
    for url in direct {
        let (_, failed) = sequential(&s.http, url, "/subscriptions", tokens).await;
        assert_eq!(failed, 0, "warming {url}");
    }
    let w = load_rotating(&s.http, &calls(target, tokens), CONNECTIONS, WARM, 500_000).await;
    assert_eq!(w.report.failed, 0, "warming through {target}");
}

async fn measure(s: &Setup, target: &str, tokens: &[String]) -> Rotated {
    load_rotating(
        &s.http,
        &calls(target, tokens),
        CONNECTIONS,
        DURATION,
        MAX_REQUESTS,
    )
    .await
}

fn row(label: &str, r: &Rotated) {
    println!(
        "  {label:<40} {:>8.0} {:>8.2} {:>8.2} {:>9} {:>8} {:>6}",
        r.report.rate(),
        r.report.p50_ms,
        r.report.p99_ms,
        r.report.ok,
        r.non_2xx(),
        r.errors,
    );
    if r.report.failed > 0 {
        println!(
            "  {:<40} statuses {:?}, first error: {}",
            "",
            r.statuses,
            r.first_error.as_deref().unwrap_or("-")
        );
    }
}

fn delta(before: &[Vec<f64>], after: &[Vec<f64>], column: usize) -> Vec<f64> {
    before
        .iter()
        .zip(after)
        .map(|(b, a)| a[column] - b[column])
        .collect()
}

/// Section 1.
async fn throughput(s: &Setup, tokens: &[String]) {
    println!(
        "\n1. Throughput, warm caches: GET /subscriptions, {CONNECTIONS} connections × {} s, {CALLERS} callers' tokens in rotation",
        DURATION.as_secs()
    );
    println!(
        "  {:<40} {:>8} {:>8} {:>8} {:>9} {:>8} {:>6}",
        "setup", "req/s", "p50 ms", "p99 ms", "200s", "non-200", "no-ans"
    );
    let series = [SERVED, L1_HITS, L2_HITS, EXCHANGES];

    // (a) one instance, memory cache only.
    let single = s.instance(false).await;
    let single_url = [single.url.clone()];
    warm(s, &single.url, &single_url, tokens).await;
    let a = measure(s, &single.url, tokens).await;
    row("a  1 instance alone (no Redis)", &a);

    // (b) nginx over three instances on one Redis.
    let trio = s.instances(3, true).await;
    let trio_urls = urls(&trio);
    let nginx3 = lb(&trio_urls);
    warm(s, &nginx3.url, &trio_urls, tokens).await;
    let before = s.samples(&trio_urls, &series).await;
    let b = measure(s, &nginx3.url, tokens).await;
    let after = s.samples(&trio_urls, &series).await;
    row("b  nginx -> 3 instances + Redis", &b);
    let served = delta(&before, &after, 0);
    let sum = |c: usize| delta(&before, &after, c).iter().sum::<f64>();
    let b_cache = (sum(1), sum(2), sum(3));
    let b_log = nginx3.error_log();
    drop(nginx3);
    drop(trio);

    // (c) nginx as a bare reverse proxy over the instance from (a).
    let nginx1 = lb(&single_url);
    warm(s, &nginx1.url, &single_url, tokens).await;
    let c = measure(s, &nginx1.url, tokens).await;
    row("c  nginx -> the instance from (a)", &c);
    let c_log = nginx1.error_log();
    drop(nginx1);
    drop(single);

    let (ra, rb, rc) = (a.report.rate(), b.report.rate(), c.report.rate());
    println!(
        "  ratios: b/a = {:.2}   c/a = {:.2} (one nginx hop)   b/c = {:.2} (3 instances vs 1, both behind nginx)",
        rb / ra,
        rc / ra,
        rb / rc
    );
    println!(
        "  b: 200s per instance {}; during the run l1 hits {:.0}, l2 hits {:.0}, exchanges {:.0}",
        served
            .iter()
            .map(|v| format!("{v:.0}"))
            .collect::<Vec<_>>()
            .join("/"),
        b_cache.0,
        b_cache.1,
        b_cache.2
    );
    for (name, log) in [("b", b_log), ("c", c_log)] {
        let lines = log.lines().count();
        if lines > 0 {
            println!(
                "  nginx error log ({name}): {lines} lines, first: {}",
                log.lines().next().unwrap_or_default()
            );
        }
    }
}

/// The instances' cache and Redis counters that explain an exchange count, summed over them;
/// only those that are not zero.
async fn cache_detail(s: &Setup, urls: &[String]) -> String {
    let mut sums = BTreeMap::<String, f64>::new();
    for url in urls {
        let m = metrics(&s.http, url).await;
        for prefix in [
            "azobo_api_obo_cache_hits_total",
            "azobo_api_obo_cache_misses_total",
            "azobo_api_redis_errors_total",
            "azobo_api_redis_lock_waits_total",
            "azobo_api_token_cache_degraded",
        ] {
            for (series, v) in family(&m, prefix) {
                *sums
                    .entry(series.trim_start_matches("azobo_api_").to_owned())
                    .or_default() += v;
            }
        }
    }
    sums.into_iter()
        .filter(|(_, v)| *v != 0.0)
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Section 2: one configuration; returns (exchanges at the dev tenant, exchanges the instances
/// counted, answers that were not 200, the instances' cache counters).
async fn burst(s: &Setup, shared: bool, prefix: &str) -> (usize, f64, usize, String) {
    let trio = s.instances(3, shared).await;
    let trio_urls = urls(&trio);
    let nginx = lb(&trio_urls);
    let tokens = mint_callers(&s.http, &s.info, prefix, CALLERS).await;
    let mark = log_mark(&s.http, &s.info).await;
    // Every caller's requests at once, all callers at once, as tests/it/scale_out.rs sends them.
    let mut tasks = Vec::new();
    for token in &tokens {
        for _ in 0..PER_CALLER {
            let (http, url, token) = (
                s.http.clone(),
                format!("{}/subscriptions", nginx.url),
                token.clone(),
            );
            tasks.push(tokio::spawn(async move {
                match http.get(url).bearer_auth(token).send().await {
                    Ok(r) => {
                        let ok = r.status() == 200;
                        let _ = r.bytes().await;
                        ok
                    }
                    Err(_) => false,
                }
            }));
        }
    }
    let mut failed = 0;
    for t in tasks {
        if !t.await.expect("request") {
            failed += 1;
        }
    }
    let at_tenant = exchanges_since(&s.http, &s.info, mark).await;
    let counted: f64 = s
        .samples(&trio_urls, &[EXCHANGES])
        .await
        .iter()
        .map(|v| v[0])
        .sum();
    let detail = cache_detail(s, &trio_urls).await;
    (at_tenant, counted, failed, detail)
}

async fn exchanges_per_caller(s: &Setup) {
    println!(
        "\n2. OBO exchanges per caller: {CALLERS} callers × {PER_CALLER} requests, all at once, nginx -> 3 instances (counted at the dev tenant)"
    );
    println!(
        "  {:<40} {:>10} {:>10} {:>9} {:>10} {:>8}",
        "cache", "exchanges", "per caller", "expected", "instances", "non-200"
    );
    for (label, shared, prefix, expected) in [
        (
            "i  memory only (each instance its own)",
            false,
            "burst-mem",
            "~3",
        ),
        ("ii shared Redis", true, "burst-redis", "1"),
    ] {
        let (at_tenant, counted, failed, detail) = burst(s, shared, prefix).await;
        println!(
            "  {label:<40} {at_tenant:>10} {:>10.2} {expected:>9} {counted:>10.0} {failed:>8}",
            at_tenant as f64 / CALLERS as f64
        );
        println!("     counters: {detail}");
    }
}

/// A bare `GET` of up to `n` cache entries from the bench process, one after another on one
/// connection: each latency and the mean value size.
fn bare_redis_gets(url: &str, n: usize) -> (Vec<Duration>, f64) {
    let mut c = redis::Client::open(url)
        .expect("redis URL")
        .get_connection()
        .expect("redis connection");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("azobo:obo:*")
        .query(&mut c)
        .expect("KEYS");
    let keys: Vec<String> = keys
        .into_iter()
        .filter(|k| !k.ends_with(":lock"))
        .take(n)
        .collect();
    let _: String = redis::cmd("PING").query(&mut c).expect("PING");
    let (mut latencies, mut bytes) = (Vec::with_capacity(keys.len()), 0usize);
    for k in &keys {
        let t0 = Instant::now();
        let v: Option<Vec<u8>> = redis::cmd("GET").arg(k).query(&mut c).expect("GET");
        latencies.push(t0.elapsed());
        bytes += v.expect("entry present").len();
    }
    let mean = bytes as f64 / keys.len().max(1) as f64;
    (latencies, mean)
}

/// Section 3.
async fn l2_latency(s: &Setup) {
    println!(
        "\n3. Redis L2 hit latency: {L2_CALLERS} callers cached through instance A, then asked of a fresh B, one request at a time"
    );
    let tokens = mint_callers(&s.http, &s.info, "l2", L2_CALLERS).await;
    let a = s.instance(true).await;
    let before_a = log_mark(&s.http, &s.info).await;
    let filled = load_rotating(
        &s.http,
        &calls(&a.url, &tokens),
        8,
        Duration::from_secs(60),
        tokens.len(),
    )
    .await;
    let filled_exchanges = exchanges_since(&s.http, &s.info, before_a).await;
    drop(a);

    let b = s.instance(true).await;
    let mark = log_mark(&s.http, &s.info).await;
    let series = [L1_HITS, L2_HITS, EXCHANGES, REDIS_GETS, REDIS_GET_SECONDS];
    let b_url = [b.url.clone()];
    // Open the one keep-alive connection the timed requests reuse.
    let _ = s.http.get(format!("{}/healthz", b.url)).send().await;
    let m0 = s.samples(&b_url, &series).await.remove(0);
    let (mut l2, l2_failed) = sequential(&s.http, &b.url, "/subscriptions", &tokens).await;
    let m1 = s.samples(&b_url, &series).await.remove(0);
    let (mut l1, l1_failed) = sequential(&s.http, &b.url, "/subscriptions", &tokens).await;
    let m2 = s.samples(&b_url, &series).await.remove(0);
    let new_exchanges = exchanges_since(&s.http, &s.info, mark).await;
    drop(b);
    let url = s.redis_url.clone();
    let (mut bare, value_bytes) =
        tokio::task::spawn_blocking(move || bare_redis_gets(&url, L2_CALLERS))
            .await
            .expect("redis GETs");

    let (l2_p50, l2_p99) = percentiles_ms(&mut l2);
    let (l1_p50, l1_p99) = percentiles_ms(&mut l1);
    let (bare_p50, bare_p99) = percentiles_ms(&mut bare);
    println!(
        "  fill through A: {} x 200, {} other, {filled_exchanges} exchanges at the dev tenant",
        filled.report.ok, filled.report.failed
    );
    println!(
        "  {:<40} {:>8} {:>8} {:>8} {:>8}",
        "", "p50 ms", "p99 ms", "samples", "non-200"
    );
    println!(
        "  {:<40} {l2_p50:>8.3} {l2_p99:>8.3} {:>8} {l2_failed:>8}",
        "B, L2 hit (cold memory, entry in Redis)",
        l2.len()
    );
    println!(
        "  {:<40} {l1_p50:>8.3} {l1_p99:>8.3} {:>8} {l1_failed:>8}",
        "B again, L1 hit",
        l1.len()
    );
    println!(
        "  {:<40} {bare_p50:>8.3} {bare_p99:>8.3} {:>8} {:>8}",
        "bare Redis GET from the bench process",
        bare.len(),
        "-"
    );
    println!(
        "  L2 - L1 at p50: {:.3} ms;  entry size {value_bytes:.0} bytes",
        l2_p50 - l1_p50
    );
    let gets = m1[3] - m0[3];
    let get_seconds = m1[4] - m0[4];
    println!(
        "  B's azobo_api_redis_duration_seconds{{op=\"get\"}} in the L2 pass: count {gets:.0}, sum {get_seconds:.4} s, server-side mean {:.3} ms",
        if gets > 0.0 {
            get_seconds / gets * 1000.0
        } else {
            0.0
        }
    );
    let check = |ok: bool| if ok { "ok" } else { "MISMATCH" };
    let l2_hits = m1[1] - m0[1];
    let b_exchanges = m2[2] - m0[2];
    let l1_hits = m2[0] - m1[0];
    let l2_second = m2[1] - m1[1];
    println!(
        "  checks: L2 pass l2 hits {l2_hits:.0} (want {L2_CALLERS}) {}; new exchanges at the dev tenant {new_exchanges}, B counted {b_exchanges:.0} (want 0) {}; L1 pass l1 hits {l1_hits:.0}, l2 hits {l2_second:.0}, redis gets {:.0} {}",
        check(same(l2_hits, L2_CALLERS as f64)),
        check(new_exchanges == 0 && same(b_exchanges, 0.0)),
        m2[3] - m1[3],
        check(same(l1_hits, L2_CALLERS as f64) && same(l2_second, 0.0)),
    );
}

#[tokio::main]
async fn main() {
    let (Some(_), Some(_)) = (server_binary("redis-server"), server_binary("nginx")) else {
        println!(
            "scale_out: skipped, it needs redis-server and nginx (scripts/test.sh installs them)"
        );
        return;
    };
    let started = Instant::now();
    let redis = Redis::start().expect("redis-server is installed");
    let (_tenant, info) = common::spawn_tenant().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(CONNECTIONS)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let s = Setup {
        http,
        info,
        redis_url: redis.url(),
        cache_key: base64::engine::general_purpose::STANDARD.encode([1u8; 32]),
    };
    println!(
        "serve-api scale-out on loopback, {} CPUs; the dev tenant is identity platform and ARM; nginx with 1 worker; the load generator runs in this process",
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get)
    );

    let tokens = mint_callers(&s.http, &s.info, "throughput", CALLERS).await;
    throughput(&s, &tokens).await;
    exchanges_per_caller(&s).await;
    l2_latency(&s).await;
    println!("\ntotal {:.0} s", started.elapsed().as_secs_f64());
}
