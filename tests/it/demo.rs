//! `azobo demo --auto`: the whole story in one process, leaving the user's store alone.

use crate::support::{azobo, home};

#[test]
fn demo_auto_prints_the_dev_tenants_subscriptions_and_touches_no_session() {
    let h = home();
    let out = azobo(h.path())
        .args(["demo", "--auto"])
        .env("CI", "true")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    for name in [
        "Contoso Production",
        "Contoso Development",
        "Contoso Sandbox",
        "Legacy Billing",
    ] {
        assert!(stdout.contains(name), "{stdout}");
    }
    assert!(
        stderr.contains("What just happened:") && stderr.contains("On-Behalf-Of"),
        "{stderr}"
    );
    let mut left = Vec::new();
    for e in walk(h.path()) {
        left.push(e);
    }
    assert!(
        left.is_empty(),
        "the demo wrote to the user's home: {left:?}"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}

#[tokio::test]
async fn demo_keep_running_prints_working_variables_and_stops_on_sigterm() {
    use std::io::{BufRead as _, BufReader};
    let h = home();
    let mut child = azobo(h.path())
        .args(["demo", "--keep-running", "--env"])
        .env("CI", "true")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let vars = tokio::task::spawn_blocking(move || {
        let mut vars = std::collections::HashMap::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // `--env`: stdout is a file to source, nothing else (no table).
            assert!(line.starts_with("export AZOBO_"), "not an export: {line}");
            if let Some((k, v)) = line.strip_prefix("export ").and_then(|l| l.split_once('=')) {
                // Shell-quoted where needed.
                vars.insert(k.to_owned(), v.trim_matches('\'').to_owned());
                if k == "AZOBO_API_URL" {
                    break;
                }
            }
        }
        vars
    })
    .await
    .unwrap();
    for k in [
        "AZOBO_AUTHORITY",
        "AZOBO_TENANT",
        "AZOBO_CLIENT_ID",
        "AZOBO_API_SCOPE",
        "AZOBO_ARM_URL",
        "AZOBO_API_URL",
        "AZOBO_PROFILE",
    ] {
        assert!(vars.contains_key(k), "{k} missing: {vars:?}");
    }
    let health = reqwest::get(format!("{}/healthz", vars["AZOBO_API_URL"]))
        .await
        .unwrap();
    assert_eq!(health.status(), 200, "the API is still up");
    let meta = reqwest::get(format!(
        "{}/{}/v2.0/.well-known/openid-configuration",
        vars["AZOBO_AUTHORITY"], vars["AZOBO_TENANT"]
    ))
    .await
    .unwrap();
    assert_eq!(meta.status(), 200, "the dev tenant is still up");

    // Following the exports works beside a config file that has never heard of `azobo-demo`,
    // and the session is found by the next process.
    let user = home();
    let cfg = user.path().join(".config/azobo/config.toml");
    std::fs::create_dir_all(cfg.parent().unwrap()).unwrap();
    std::fs::write(&cfg, "[profiles.default]\ntenant = \"contoso.com\"\n").unwrap();
    let python = std::env::var("AZOBO_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let browser = format!(
        "{python} {}",
        crate::support::repo_root()
            .join("tests/support/browser.py")
            .display()
    );
    let run = |args: &[&str]| {
        let mut cmd = azobo(user.path());
        cmd.args(args)
            .env("CI", "true")
            .env("AZOBO_TOKEN_STORE", "file")
            .env("AZOBO_BROWSER", &browser);
        for (k, v) in &vars {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };
    let login = run(&["login"]);
    assert!(
        login.status.success(),
        "{}",
        String::from_utf8_lossy(&login.stderr)
    );
    let list = run(&["subscriptions", "--json"]);
    assert!(
        list.status.success(),
        "{}",
        String::from_utf8_lossy(&list.stderr)
    );
    let items: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(items.as_array().unwrap().len(), 4, "alice's subscriptions");
    let status = run(&["status", "--json"]);
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["profile"], "azobo-demo");
    let pid = child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status}");
}

/// At a terminal with no display (SSH), the demo's sign-in falls back to a device code without
/// printing an authorize URL first, and its story then names the device code flow.
#[tokio::test]
async fn demo_without_a_display_falls_back_to_a_device_code_and_says_so() {
    let h = home();
    let log = h.path().join("screen.log");
    let base = azobo(h.path());
    let mut cmd = std::process::Command::new("script");
    cmd.args([
        "-qfec",
        &format!("{} demo", shell_words::quote(crate::support::bin())),
        log.to_str().unwrap(),
    ])
    .stdin(std::process::Stdio::null())
    .stdout(std::process::Stdio::null());
    for (k, v) in base.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    for k in [
        "CI",
        "DISPLAY",
        "WAYLAND_DISPLAY",
        "BROWSER",
        "AZOBO_BROWSER",
    ] {
        cmd.env_remove(k);
    }
    let mut child = cmd.spawn().unwrap();
    // The device code message names the page and the code; approve it as a person would.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let (page, code) = loop {
        let screen = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(rest) = screen.split("open the page ").nth(1) {
            let page = rest.split_whitespace().next().unwrap_or("").to_owned();
            if let Some(code) = rest
                .split("enter the code ")
                .nth(1)
                .and_then(|c| c.split_whitespace().next())
            {
                break (page, code.to_owned());
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no device code shown:\n{screen}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let control = page.replace("/devicelogin", "/_dev/device/approve");
    let approved = reqwest::Client::new()
        .post(&control)
        .json(&serde_json::json!({
            "user_code": code,
            "username": "alice@contoso.example",
            "consent": true,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(approved.status(), 200);
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    let screen = std::fs::read_to_string(&log).unwrap();
    assert!(status.success(), "{screen}");
    assert!(
        screen.contains("switching to the device code flow"),
        "{screen}"
    );
    assert!(
        !screen.contains("Sign in at:"),
        "an authorize URL was printed before the fallback:\n{screen}"
    );
    assert!(
        screen.contains("with the device code flow (no browser could be opened here)"),
        "{screen}"
    );
    assert!(
        !screen.contains("the redirect landed on a loopback port"),
        "{screen}"
    );
    assert!(screen.contains("Contoso Production"), "{screen}");
}
