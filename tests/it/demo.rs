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
        .args(["demo", "--keep-running"])
        .env("CI", "true")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let vars = tokio::task::spawn_blocking(move || {
        let mut vars = std::collections::HashMap::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some((k, v)) = line.strip_prefix("export ").and_then(|l| l.split_once('=')) {
                vars.insert(k.to_owned(), v.to_owned());
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
