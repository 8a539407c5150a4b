//! Wall time of whole `azobo` processes: `--version` (process start), `token` with a cached
//! token, `subscriptions --json` with a warm token against a local serve-api, and a full `login`
//! against the dev tenant with the scripted browser — per secret store available in this run
//! (`scripts/bench.sh` provides Secret Service and the kernel keyring).
//! Run with `cargo bench --bench cli_latency`; prints median and p95 per case.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

const RUNS: usize = 40;

fn stats(mut d: Vec<Duration>) -> (f64, f64) {
    d.sort();
    let ms = |x: Duration| x.as_secs_f64() * 1000.0;
    (
        ms(d[d.len() / 2]),
        ms(d[(d.len() * 95 / 100).min(d.len() - 1)]),
    )
}

fn time(runs: usize, mut cmd: impl FnMut() -> Command) -> Vec<Duration> {
    (0..runs)
        .map(|_| {
            let mut c = cmd();
            let t0 = Instant::now();
            let out = c
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .output()
                .expect("run azobo");
            let el = t0.elapsed();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            el
        })
        .collect()
}

fn azobo(home: &Path, vars: &[(String, String)]) -> Command {
    let mut c = Command::new(common::bin());
    c.env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("CI", "true");
    for (k, v) in vars {
        c.env(k, v);
    }
    c
}

#[tokio::main]
async fn main() {
    let (mut tenant, info) = common::spawn_tenant().await;
    let s = |k: &str| info[k].as_str().expect(k).to_owned();
    let (mut api, listening) = common::spawn_api(&info).await;
    let api_url = listening["listening"]
        .as_str()
        .expect("listening")
        .to_owned();
    assert!(
        Command::new("curl").arg("--version").output().is_ok(),
        "curl is needed for the ceiling"
    );
    let python = std::env::var("AZOBO_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let browser = format!(
        "{python} {}/tests/support/browser.py",
        env!("CARGO_MANIFEST_DIR")
    );
    let base: Vec<(String, String)> = vec![
        ("AZOBO_AUTHORITY".into(), s("base_url")),
        ("AZOBO_TENANT".into(), s("tenant_id")),
        ("AZOBO_CLIENT_ID".into(), s("cli_client_id")),
        ("AZOBO_API_SCOPE".into(), s("api_scope")),
        ("AZOBO_BROWSER".into(), browser),
        ("AZOBO_API_URL".into(), api_url.clone()),
    ];
    let mut stores = vec![("plaintext file", ("AZOBO_TOKEN_STORE", "file"))];
    if std::env::var_os("AZOBO_TEST_SESSION_KEYRING").is_some() {
        stores.push(("kernel keyring", ("AZOBO_KEYRING", "keyutils")));
    }
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some() {
        stores.push(("Secret Service", ("AZOBO_KEYRING", "secret-service")));
    }
    let home = tempfile::tempdir().expect("home");
    let (m, p) = stats(time(RUNS, || {
        let mut c = azobo(home.path(), &base);
        c.arg("--version");
        c
    }));
    println!(
        "azobo --version                          median {m:6.1} ms  p95 {p:6.1} ms  ({RUNS} runs)"
    );
    for (name, (k, v)) in stores {
        let home = tempfile::tempdir().expect("home");
        let mut vars = base.clone();
        vars.push((k.into(), v.into()));
        let (m, p) = stats(time(RUNS / 2, || {
            let mut c = azobo(home.path(), &vars);
            c.arg("login");
            c
        }));
        println!(
            "azobo login ({name:<15})          median {m:6.1} ms  p95 {p:6.1} ms  ({} runs, scripted browser)",
            RUNS / 2
        );
        let (m, p) = stats(time(RUNS, || {
            let mut c = azobo(home.path(), &vars);
            c.arg("token");
            c
        }));
        println!(
            "azobo token, cached ({name:<15})  median {m:6.1} ms  p95 {p:6.1} ms  ({RUNS} runs)"
        );
        let (m, p) = stats(time(RUNS, || {
            let mut c = azobo(home.path(), &vars);
            c.args(["subscriptions", "--json"]);
            c
        }));
        println!(
            "azobo subscriptions --json ({name:<15})  median {m:6.1} ms  p95 {p:6.1} ms  ({RUNS} runs, warm token and OBO cache)"
        );
        // The ceiling: one curl of the same URL with the same token (no store, no refresh).
        let token = azobo(home.path(), &vars)
            .arg("token")
            .output()
            .expect("azobo token");
        let token = String::from_utf8_lossy(&token.stdout).trim().to_owned();
        let (cm, cp) = stats(time(RUNS, || {
            let mut c = Command::new("curl");
            c.args(["-sS", "--fail", "-o", "/dev/null", "-H"])
                .arg(format!("Authorization: Bearer {token}"))
                .arg(format!("{api_url}/subscriptions"));
            c
        }));
        println!(
            "  one curl of the same URL and token      median {cm:6.1} ms  p95 {cp:6.1} ms  -> subscriptions/curl = {:.2}",
            m / cm
        );
    }
    let _ = api.kill().await;
    let _ = tenant.kill().await;
}
