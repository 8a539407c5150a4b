//! `GET /subscriptions` on serve-api with a warm OBO cache, against a ceiling measured in the same
//! run with the same load (64 connections for 20 s from this process, the same bearer token):
//!
//! 1. upstream: nginx over TLS (a throwaway CA, trusted through `SSL_CERT_FILE`) answering one
//!    real ARM subscriptions page, taken once from the dev tenant's ARM for the bench user. The
//!    dev tenant still serves the one OBO exchange; its ARM is not what is measured.
//! 2. the ceiling: nginx as a bare reverse proxy to that upstream (no validation; keep-alive and
//!    TLS session reuse upstream), with 1 worker process and with 2 (serve-api uses both cores).
//! 3. serve-api pointed at that upstream; with `AZOBO_BENCH_BASELINE_BIN`, also serve-api from
//!    that binary, against the same upstream.
//!
//! Each case gets its 20 s as two 10 s segments, the cases taken in order and then in reverse
//! (A B C D D C B A, each segment after 1 s of warm-up), so that a machine that slows down or
//! speeds up during the run (this one does) weighs on every case alike. Prints a row per case
//! (req/s, p50, p99, non-2xx, peak RSS, CPU) and serve-api's ratios to the ceiling.
//!
//! `AZOBO_BENCH_PROFILE=1` runs only the serve-api case, in one segment, and prints
//! `serve-api pid: N` once it is warm, for scripts/profile.sh to attach perf. Prints "skipped:
//! nginx not installed" when nginx is missing. `AZOBO_BENCH_SECONDS` shortens (or lengthens, to
//! 60) each case's time. Everything stays on 127.0.0.1, bounded in time and count.

#![allow(clippy::cast_precision_loss)]

mod common;

use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use common::infra::{Nginx, server_binary};
use common::pki::{Pki, local_pki};
use common::scale::{Samples, load_rotating_samples, wait_ready};
use common::{Call, procfs, user_token};

const CONNECTIONS: usize = 64;
const DURATION: Duration = Duration::from_secs(20);
/// Overrides `DURATION` (seconds, 1 to 60) for a quick look.
const DURATION_ENV: &str = "AZOBO_BENCH_SECONDS";
/// Segments per case (cases in order, then in reverse, …).
const ROUNDS: u32 = 2;
/// Before every segment: pools refilled, caches warm.
const WARMUP: Duration = Duration::from_secs(1);
const MAX_REQUESTS: usize = 2_000_000;
const ARM_API_VERSION: &str = "2022-12-01";
const ARM_SCOPE: &str = "https://management.azure.com/user_impersonation";
const OBO_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// One case: a server under the same load as the others, and what it measured so far.
struct Target {
    name: String,
    workers: String,
    http: reqwest::Client,
    url: String,
    /// The server's processes (nginx: master and workers) and the upstream's (empty when the
    /// server is the upstream).
    server: Vec<u32>,
    upstream: Vec<u32>,
    samples: Samples,
    /// req/s of each segment, in the order run.
    segments: Vec<f64>,
    /// CPU seconds the server, the upstream and this process (the load generator) spent.
    cpu_s: f64,
    upstream_cpu_s: f64,
    loadgen_cpu_s: f64,
    /// CPU seconds everything else on the machine took meanwhile (another build, another
    /// benchmark): what makes a run not comparable.
    other_cpu_s: f64,
    /// Peak RSS of the server's processes, KiB (read at the end).
    rss_kib: u64,
}

impl Target {
    /// Checks `url` answers the page (`expect` subscriptions) before any load.
    async fn new(
        name: String,
        workers: String,
        http: reqwest::Client,
        url: String,
        token: &str,
        expect: usize,
        (server, upstream): (Vec<u32>, Vec<u32>),
    ) -> Self {
        let got = subscriptions_in(&name, probe(&http, &url, token).await);
        assert_eq!(got, expect, "{name}: subscriptions in the answer");
        Self {
            name,
            workers,
            http,
            url,
            server,
            upstream,
            samples: Samples::default(),
            segments: Vec::new(),
            cpu_s: 0.0,
            upstream_cpu_s: 0.0,
            loadgen_cpu_s: 0.0,
            other_cpu_s: 0.0,
            rss_kib: 0,
        }
    }

    /// `WARMUP`, then `seconds` of load, counted. With `announce`, prints the server's pid
    /// between the two.
    async fn segment(&mut self, token: &str, seconds: Duration, announce: bool) {
        let call = [Call::Get {
            url: self.url.clone(),
            bearer: Some(token.to_owned()),
        }];
        let warm = load_rotating_samples(&self.http, &call, CONNECTIONS, WARMUP, MAX_REQUESTS)
            .await
            .into_rotated();
        if warm.report.failed > 0 {
            println!(
                "{}: {} warm-up failures ({:?}, first error {:?})",
                self.name, warm.report.failed, warm.statuses, warm.first_error
            );
        }
        if announce {
            println!("serve-api pid: {}", self.server[0]);
        }
        let me = [std::process::id()];
        let before = (
            procfs::cpu_seconds(&self.server),
            procfs::cpu_seconds(&self.upstream),
            procfs::cpu_seconds(&me),
            procfs::machine_busy_seconds(),
        );
        let run =
            load_rotating_samples(&self.http, &call, CONNECTIONS, seconds, MAX_REQUESTS).await;
        let cpu_s = procfs::cpu_seconds(&self.server) - before.0;
        let upstream_cpu_s = procfs::cpu_seconds(&self.upstream) - before.1;
        let loadgen_cpu_s = procfs::cpu_seconds(&me) - before.2;
        let busy = procfs::machine_busy_seconds() - before.3;
        self.cpu_s += cpu_s;
        self.upstream_cpu_s += upstream_cpu_s;
        self.loadgen_cpu_s += loadgen_cpu_s;
        self.other_cpu_s += (busy - cpu_s - upstream_cpu_s - loadgen_cpu_s).max(0.0);
        self.segments
            .push(run.latencies.len() as f64 / run.seconds.max(1e-9));
        self.samples.merge(run);
    }
}

/// A case's figures, once its segments are done.
struct Row {
    name: String,
    workers: String,
    rate: f64,
    p50_ms: f64,
    p99_ms: f64,
    non_2xx: usize,
    errors: usize,
    first_error: Option<String>,
    statuses: String,
    segments: Vec<f64>,
    rss_kib: u64,
    /// Per second: cores.
    cores: f64,
    other_cores: f64,
    /// Per 2xx answer, microseconds; upstream `None` when the server is the upstream.
    cpu_us: f64,
    upstream_us: Option<f64>,
    loadgen_us: f64,
}

impl Row {
    fn of(t: Target) -> Self {
        let per_request = |cpu: f64| cpu * 1e6 / t.samples.latencies.len().max(1) as f64;
        let (cpu_us, upstream_us, loadgen_us) = (
            per_request(t.cpu_s),
            (!t.upstream.is_empty()).then(|| per_request(t.upstream_cpu_s)),
            per_request(t.loadgen_cpu_s),
        );
        let seconds = t.samples.seconds.max(1e-9);
        let (cores, other_cores) = (t.cpu_s / seconds, t.other_cpu_s / seconds);
        let run = t.samples.into_rotated();
        Self {
            name: t.name,
            workers: t.workers,
            rate: run.report.rate(),
            p50_ms: run.report.p50_ms,
            p99_ms: run.report.p99_ms,
            non_2xx: run.non_2xx(),
            errors: run.errors,
            first_error: run.first_error,
            statuses: if run.statuses.is_empty() {
                String::new()
            } else {
                format!("{:?}", run.statuses)
            },
            segments: t.segments,
            rss_kib: t.rss_kib,
            cores,
            other_cores,
            cpu_us,
            upstream_us,
            loadgen_us,
        }
    }
}

fn duration() -> Duration {
    std::env::var(DURATION_ENV)
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .map_or(DURATION, |s| Duration::from_secs(s.clamp(1, 60)))
}

/// A load-generator client; `ca` is trusted when talking TLS to the upstream directly.
fn client(ca: Option<&Path>) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(CONNECTIONS)
        .no_proxy();
    if let Some(ca) = ca {
        let pem = std::fs::read(ca).expect("read ca.pem");
        b = b.add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("CA PEM"));
    }
    b.build().expect("client")
}

/// One ARM subscriptions page for the user, as ARM (the dev tenant's) wrote it: the user's API
/// token exchanged On-Behalf-Of for an ARM token, then `GET /subscriptions`. A `nextLink` is
/// dropped (the upstream answers every page with this one).
async fn arm_page(http: &reqwest::Client, info: &Value, user: &str) -> String {
    let s = |k: &str| info[k].as_str().expect(k).to_owned();
    let obo: Value = http
        .post(format!("{}/oauth2/v2.0/token", s("authority")))
        .form(&[
            ("grant_type", OBO_GRANT.to_owned()),
            ("requested_token_use", "on_behalf_of".to_owned()),
            ("client_id", s("api_client_id")),
            ("client_secret", s("api_client_secret")),
            ("assertion", user.to_owned()),
            ("scope", ARM_SCOPE.to_owned()),
        ])
        .send()
        .await
        .expect("OBO")
        .json()
        .await
        .expect("OBO JSON");
    let arm_token = obo["access_token"].as_str().expect("ARM token");
    let resp = http
        .get(format!("{}/subscriptions", s("arm_url")))
        .query(&[("api-version", ARM_API_VERSION)])
        .bearer_auth(arm_token)
        .send()
        .await
        .expect("ARM");
    assert_eq!(resp.status(), 200, "ARM GET /subscriptions");
    let text = resp.text().await.expect("ARM body");
    let mut page: Value = serde_json::from_str(&text).expect("ARM JSON");
    assert!(page["value"].is_array(), "not a subscriptions page: {text}");
    match page.as_object_mut().and_then(|o| o.remove("nextLink")) {
        None => text,
        Some(_) => serde_json::to_string(&page).expect("JSON"),
    }
}

/// The parts every nginx here shares: `workers` processes, logs and temp files in `dir`, no
/// access log. Keep-alive connections are closed after nginx's default 1000 requests: nginx frees
/// a connection's memory only then (with 1,000,000 its RSS grew past 100 MiB in 20 s), and it
/// costs serve-api and the proxy alike one TLS resumption upstream per 1000 requests.
fn nginx_prelude(workers: usize, dir: &Path) -> String {
    let d = dir.display();
    format!(
        "worker_processes {workers};\n\
         error_log {d}/error.log warn;\n\
         pid {d}/nginx.pid;\n\
         events {{ worker_connections 4096; }}\n\
         http {{\n\
           access_log off;\n\
           client_body_temp_path {d}/body; proxy_temp_path {d}/proxy;\n\
           fastcgi_temp_path {d}/fastcgi; uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;\n"
    )
}

/// The stand-in for ARM: TLS, HTTP/1.1, `page` for `/subscriptions` (any query).
fn upstream_conf(port: u16, dir: &Path, pki: &Pki, page: &Path) -> String {
    format!(
        "{}\
           server {{\n\
             listen 127.0.0.1:{port} ssl;\n\
             ssl_certificate {};\n\
             ssl_certificate_key {};\n\
             location /subscriptions {{\n\
               default_type application/json;\n\
               alias {};\n\
             }}\n\
             location / {{ return 404; }}\n\
           }}\n\
         }}\n",
        nginx_prelude(1, dir),
        pki.chain.display(),
        pki.key.display(),
        page.display()
    )
}

/// The ceiling: a bare reverse proxy to the upstream, nothing validated, keep-alive and TLS
/// session reuse upstream, the upstream's certificate verified as serve-api does.
fn proxy_conf(port: u16, dir: &Path, workers: usize, upstream: u16, pki: &Pki) -> String {
    format!(
        "{}\
           upstream arm {{\n\
             server 127.0.0.1:{upstream};\n\
             keepalive {CONNECTIONS};\n\
           }}\n\
           server {{\n\
             listen 127.0.0.1:{port};\n\
             location / {{\n\
               proxy_pass https://arm;\n\
               proxy_http_version 1.1;\n\
               proxy_set_header Connection \"\";\n\
               proxy_ssl_session_reuse on;\n\
               proxy_ssl_verify on;\n\
               proxy_ssl_trusted_certificate {};\n\
               proxy_ssl_name localhost;\n\
               proxy_max_temp_file_size 0;\n\
             }}\n\
           }}\n\
         }}\n",
        nginx_prelude(workers, dir),
        pki.ca.display()
    )
}

/// `GET url` once: the status and body.
async fn probe(http: &reqwest::Client, url: &str, token: &str) -> (u16, String) {
    let r = http
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("probe");
    (r.status().as_u16(), r.text().await.unwrap_or_default())
}

/// Subscriptions in an answer (`value`), or a panic naming the case and what came back.
fn subscriptions_in(name: &str, (status, body): (u16, String)) -> usize {
    assert_eq!(status, 200, "{name}: {body}");
    let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{name}: {e}: {body}"));
    v["value"]
        .as_array()
        .unwrap_or_else(|| panic!("{name}: {body}"))
        .len()
}

/// Starts serve-api from `program` with ARM at `arm_url` (trusting `ca`), ready.
async fn serve_api(
    program: &OsString,
    info: &Value,
    arm_url: &str,
    ca: &Path,
) -> (tokio::process::Child, String) {
    let s = |k: &str| info[k].as_str().expect(k).to_owned();
    let (authority, tenant, client_id) = (s("base_url"), s("tenant_id"), s("api_client_id"));
    let (child, line) = common::spawn_bin(
        program,
        &[
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
            arm_url,
            "--arm-api-version",
            ARM_API_VERSION,
        ],
        &[
            ("AZOBO_API_CLIENT_SECRET", s("api_client_secret")),
            ("SSL_CERT_FILE", ca.display().to_string()),
        ],
    )
    .await;
    let url = line["listening"].as_str().expect("listening").to_owned();
    wait_ready(&client(None), &url).await;
    (child, url)
}

fn print_rows(rows: &[Row]) {
    println!(
        "{:<40} {:<26} {:>8} {:>7} {:>7} {:>7} {:>6} {:>8} {:>5} {:>7} {:>7} {:>7} {:>5}",
        "case",
        "workers",
        "req/s",
        "p50 ms",
        "p99 ms",
        "non-2xx",
        "errors",
        "RSS MiB",
        "cores",
        "CPU/req",
        "up/req",
        "gen/req",
        "other"
    );
    for r in rows {
        println!(
            "{:<40} {:<26} {:>8.0} {:>7.2} {:>7.2} {:>7} {:>6} {:>8.1} {:>5.2} {:>5.0}us {:>7} {:>5.0}us {:>5.2}",
            r.name,
            r.workers,
            r.rate,
            r.p50_ms,
            r.p99_ms,
            r.non_2xx,
            r.errors,
            r.rss_kib as f64 / 1024.0,
            r.cores,
            r.cpu_us,
            r.upstream_us
                .map_or_else(|| "-".to_owned(), |c| format!("{c:.0}us")),
            r.loadgen_us,
            r.other_cores,
        );
        if r.segments.len() > 1 {
            let s: Vec<String> = r.segments.iter().map(|x| format!("{x:.0}")).collect();
            println!("    req/s by segment: {}", s.join(" / "));
        }
        if let Some(e) = &r.first_error {
            println!("    first error: {e}");
        }
        if !r.statuses.is_empty() {
            println!("    non-2xx by status: {}", r.statuses);
        }
    }
}

fn print_ratios(api: &Row, ceiling: &Row) {
    println!(
        "  {} / {}: req/s {:.2}, p99 {:.2}x ({:.2} / {:.2} ms), CPU per request {:.2}x",
        api.name,
        ceiling.name,
        api.rate / ceiling.rate,
        api.p99_ms / ceiling.p99_ms,
        api.p99_ms,
        ceiling.p99_ms,
        api.cpu_us / ceiling.cpu_us,
    );
}

#[tokio::main]
async fn main() {
    if server_binary("nginx").is_none() {
        println!("skipped: nginx not installed");
        return;
    }
    let profile = std::env::var_os("AZOBO_BENCH_PROFILE").is_some_and(|v| v == "1");
    let baseline =
        std::env::var_os("AZOBO_BENCH_BASELINE_BIN").filter(|v| !v.is_empty() && !profile);
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let rounds = if profile { 1 } else { ROUNDS };

    let (_tenant, info) = common::spawn_tenant().await;
    let http = client(None);
    let (token, _) = user_token(&http, &info).await;
    let page = arm_page(&http, &info, &token).await;
    let expect = subscriptions_in("the dev tenant's ARM", (200, page.clone()));

    // World-readable: nginx's workers (nobody, when started as root) read the page.
    let dir = tempfile::tempdir().expect("tempdir");
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
    }
    let pki = local_pki(dir.path());
    let page_path = dir.path().join("subscriptions.json");
    std::fs::write(&page_path, &page).expect("write the page");
    let upstream =
        Nginx::start_conf(|port, d| upstream_conf(port, d, &pki, &page_path)).expect("nginx");
    let upstream_url = format!("https://127.0.0.1:{}", upstream.port());
    let upstream_pids = procfs::tree(upstream.pid());
    let query = format!("/subscriptions?api-version={ARM_API_VERSION}");
    println!(
        "GET /subscriptions, {CONNECTIONS} connections, {} s per case in {rounds} segment(s) \
         ({} s warm-up before each), one bearer token, {cores} cores shared by every process \
         here; upstream: nginx TLS (1 worker) serving one {}-byte ARM page ({expect} \
         subscriptions, no nextLink) over HTTP/1.1",
        duration().as_secs(),
        WARMUP.as_secs(),
        page.len()
    );

    let mut targets = Vec::new();
    let mut proxies = Vec::new();
    if !profile {
        targets.push(
            Target::new(
                "upstream: nginx TLS, direct (TLS client)".into(),
                "nginx: 1 worker process".into(),
                client(Some(&pki.ca)),
                format!("{upstream_url}{query}"),
                &token,
                expect,
                (upstream_pids.clone(), Vec::new()),
            )
            .await,
        );
        for workers in [1, 2] {
            let proxy =
                Nginx::start_conf(|port, d| proxy_conf(port, d, workers, upstream.port(), &pki))
                    .expect("nginx");
            let url = format!("{}{query}", proxy.url);
            let (status, body) = probe(&client(None), &url, &token).await;
            assert_eq!(
                status,
                200,
                "{body}\nproxy error log:\n{}",
                proxy.error_log()
            );
            let (w, p) = if workers == 1 {
                ("worker", "process")
            } else {
                ("workers", "processes")
            };
            targets.push(
                Target::new(
                    format!("ceiling: nginx proxy, {workers} {w}"),
                    format!("nginx: {workers} worker {p}"),
                    client(None),
                    url,
                    &token,
                    expect,
                    (procfs::tree(proxy.pid()), upstream_pids.clone()),
                )
                .await,
            );
            proxies.push(proxy);
        }
    }

    // Named by file name in the table (the whole path here).
    let file_name = |p: &OsString| {
        Path::new(p)
            .file_name()
            .map_or_else(|| p.to_string_lossy(), |n| n.to_string_lossy())
            .into_owned()
    };
    let mut apis = vec![("serve-api (this build)".to_owned(), common::bin())];
    if std::env::var_os("AZOBO_BENCH_BIN").is_some() {
        apis[0].0 = format!("serve-api ({})", file_name(&apis[0].1));
    }
    if let Some(b) = baseline {
        apis.push((format!("serve-api (baseline {})", file_name(&b)), b));
    }
    for (name, program) in &apis {
        println!("{name}: {}", program.to_string_lossy());
    }
    let mut children = Vec::new();
    for (name, program) in apis {
        let (child, url) = serve_api(&program, &info, &upstream_url, &pki.ca).await;
        let pid = child.id().expect("serve-api pid");
        children.push(child);
        targets.push(
            Target::new(
                name,
                String::new(),
                client(None),
                format!("{url}/subscriptions"),
                &token,
                expect,
                (vec![pid], upstream_pids.clone()),
            )
            .await,
        );
    }

    // A B C … then … C B A: drift during the run weighs on every case alike.
    let segment = duration() / rounds;
    for round in 0..rounds {
        let order: Vec<usize> = if round % 2 == 0 {
            (0..targets.len()).collect()
        } else {
            (0..targets.len()).rev().collect()
        };
        for i in order {
            targets[i].segment(&token, segment, profile).await;
        }
    }

    let mut rows = Vec::new();
    for mut t in targets {
        t.rss_kib = procfs::peak_rss_kib(&t.server);
        if t.workers.is_empty() {
            t.workers = format!(
                "tokio: {cores} workers, {} thr",
                procfs::threads(t.server[0])
            );
        }
        rows.push(Row::of(t));
    }
    for mut c in children {
        let _ = c.kill().await;
    }
    drop(proxies);

    println!();
    print_rows(&rows);
    println!(
        "  cores: CPU-seconds per second of the server's processes (nginx: master + workers); \
         CPU/req, up/req, gen/req: CPU per 2xx answer in the server, the upstream nginx and the \
         load generator (this process); other: cores busy with anything else meanwhile (the dev \
         tenant, kernel, other jobs: above ~0.1 the row is not comparable). RSS: peak (VmHWM), \
         summed over nginx's processes.\n  \
         workers: serve-api's tokio runtime has a worker thread per core (both cores; thr = all its \
         threads); the ceiling nginx is measured with 1 and with 2 worker processes (2 = as many \
         cores as serve-api may use); the upstream nginx has 1; the load generator is this \
         process's tokio runtime, on the same {cores} cores."
    );
    if !profile {
        let ceilings: Vec<&Row> = rows
            .iter()
            .filter(|r| r.name.starts_with("ceiling"))
            .collect();
        let apis: Vec<&Row> = rows
            .iter()
            .filter(|r| r.name.starts_with("serve-api"))
            .collect();
        println!();
        for api in &apis {
            for ceiling in &ceilings {
                print_ratios(api, ceiling);
            }
        }
        if let [current, base] = apis[..] {
            println!(
                "  {} / {}: req/s {:.2}, p99 {:.2}x, CPU per request {:.2}x",
                current.name,
                base.name,
                current.rate / base.rate,
                current.p99_ms / base.p99_ms,
                current.cpu_us / base.cpu_us
            );
        }
    }
    let log = upstream.error_log();
    if !log.trim().is_empty() {
        println!("upstream nginx error log:\n{log}");
    }
}
