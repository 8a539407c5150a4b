//! MSAL for Python judges the dev tenant (tests/msal/conformance.py), and azure-identity with
//! the ARM SDK and MSAL's instance discovery (tests/msal/azure_sdk.py), against `--tls`.
//!
//! The interpreter comes from `AZOBO_TEST_PYTHON`, else `.venv/bin/python` in the repository
//! (the README's test command creates it). Under CI a missing MSAL fails the test.

use std::path::PathBuf;
use std::process::Command;

use crate::support::{DevTenant, Keyring, Shell, in_ci, repo_root};

fn python() -> Option<PathBuf> {
    let candidate = std::env::var_os("AZOBO_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv/bin/python"));
    let ok = Command::new(&candidate)
        .args(["-c", "import msal, requests, cryptography"])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some(candidate)
}

#[tokio::test]
async fn msal_for_python_accepts_the_dev_tenant() {
    let Some(python) = python() else {
        assert!(
            !in_ci(),
            "MSAL for Python is missing: run the README's test command (it creates .venv with msal)"
        );
        eprintln!("skipping: no Python with msal (set AZOBO_TEST_PYTHON or create .venv)");
        return;
    };
    let t = DevTenant::start(&["--tls"]).await;
    // An OBO pair registered by `azobo setup`, for MSAL to use as any app.
    let mut sh = Shell::new(&t, Keyring::File);
    sh.set("AZOBO_GRAPH_URL", &t.s("graph_url"));
    sh.set("SSL_CERT_FILE", &t.s("ca_file"));
    t.control(
        "auto-approve",
        serde_json::json!({"username": "alice@contoso.example"}),
    )
    .await;
    let setup = sh.run(&["setup", "--name", "msal", "--json"]);
    assert_eq!(setup.code, Some(0), "{}", setup.stderr);
    run_checks(
        &python,
        "conformance.py",
        &t,
        &[("AZOBO_SETUP_REPORT", setup.stdout.trim())],
        14,
    )
    .await;
}

/// A Python that has azure-identity and the ARM SDK (tests/msal/requirements.txt).
fn python_with_azure() -> Option<PathBuf> {
    let python = python()?;
    let ok = Command::new(&python)
        .args(["-c", "import azure.identity, azure.mgmt.subscription"])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some(python)
}

#[tokio::test]
async fn azure_identity_the_arm_sdk_and_msal_instance_discovery_accept_the_dev_tenant() {
    let Some(python) = python_with_azure() else {
        assert!(
            !in_ci(),
            "azure-identity or azure-mgmt-subscription is missing: pip install -r tests/msal/requirements.txt"
        );
        eprintln!("skipping: no Python with azure-identity and azure-mgmt-subscription");
        return;
    };
    let t = DevTenant::start(&["--tls"]).await;
    // What the README tells azure-identity users to set.
    let host = t.base();
    run_checks(
        &python,
        "azure_sdk.py",
        &t,
        &[("AZURE_AUTHORITY_HOST", host.as_str())],
        8,
    )
    .await;
}

/// Runs `tests/msal/{script}` against `t` (HTTPS, its CA trusted) and asserts all `checks` of
/// it passed, by its closing "N passed, 0 failed" line.
async fn run_checks(
    python: &std::path::Path,
    script: &str,
    t: &DevTenant,
    env: &[(&str, &str)],
    checks: usize,
) {
    let out = tokio::process::Command::new(python)
        .arg(repo_root().join("tests/msal").join(script))
        .env("AZOBO_DEV_TENANT", t.info.to_string())
        .env("REQUESTS_CA_BUNDLE", t.s("ca_file"))
        .env("PYTHONWARNINGS", "ignore")
        .envs(env.iter().copied())
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{script} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout
            .lines()
            .last()
            .unwrap_or_default()
            .contains(&format!("{checks} passed, 0 failed")),
        "{stdout}"
    );
}
