//! `azobo setup` against the dev tenant's Graph: from nothing to `azobo subscriptions` with the
//! apps it registers, idempotent re-runs, a non-admin's exit 4 with consent URLs, `--dry-run`
//! and `--cleanup`.

use serde_json::{Value, json};

use crate::support::{Api, DevTenant, Keyring, Shell};

/// A user's shell that knows the tenant (authority, Graph) but has no app registered yet.
fn newcomer(t: &DevTenant) -> Shell {
    let mut sh = Shell::new(t, Keyring::File);
    sh.vars.retain(|(k, _)| {
        !matches!(
            k.as_str(),
            "AZOBO_CLIENT_ID" | "AZOBO_API_SCOPE" | "AZOBO_TENANT"
        )
    });
    sh.set("AZOBO_GRAPH_URL", &t.s("graph_url"));
    sh
}

fn config_file(sh: &Shell) -> std::path::PathBuf {
    sh.home.path().join(".config/azobo/config.toml")
}

/// Graph writes the tenant has seen so far.
async fn graph_writes(t: &DevTenant) -> usize {
    t.requests()
        .await
        .iter()
        .filter(|e| {
            e["path"].as_str().is_some_and(|p| p.starts_with("/graph/")) && e["method"] != "GET"
        })
        .count()
}

/// serve-api configured only by the file setup wrote (plus where the dev tenant's ARM is).
async fn serve_api_from_config(t: &DevTenant, sh: &Shell) -> Api {
    let args = vec![
        "--config".to_owned(),
        config_file(sh).display().to_string(),
        "--arm-url".to_owned(),
        t.s("arm_url"),
    ];
    let api = Api::spawn(&args, &[]).await;
    api.wait_ready().await;
    api
}

#[tokio::test]
async fn setup_takes_a_newcomer_to_subscriptions_and_a_second_run_writes_nothing() {
    let t = DevTenant::start(&["--auto-approve", "alice@contoso.example"]).await;
    let mut sh = newcomer(&t);
    let r = sh.run(&["setup", "--name", "demo1", "--json"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let report: Value = serde_json::from_str(&r.stdout).unwrap();
    let reg = &report["registered"];
    assert_eq!(reg["tenantId"], t.s("tenant_id"));
    assert_eq!(reg["consent"]["granted"], true);
    let api_app = reg["api"]["appId"].as_str().unwrap().to_owned();
    assert_eq!(reg["apiScope"], format!("api://{api_app}/access_as_user"));
    let secret_file = std::path::PathBuf::from(report["secretFile"].as_str().unwrap());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&secret_file)
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
    }
    let config = std::fs::read_to_string(config_file(&sh)).unwrap();
    assert!(config.contains("[profiles.default]"), "{config}");
    assert!(config.contains("[serve_api]"), "{config}");
    assert!(
        config.contains(&format!("client_id = \"{api_app}\"")),
        "{config}"
    );

    // The rest of the newcomer's path: serve-api from the file, login, subscriptions.
    let api = serve_api_from_config(&t, &sh).await;
    sh.set("AZOBO_API_URL", &api.url);
    t.control("auto-approve", json!({"username": "bob@contoso.example"}))
        .await;
    sh.login();
    let subs = sh.run(&["subscriptions", "-o", "tsv"]);
    assert_eq!(subs.code, Some(0), "{}", subs.stderr);
    assert_eq!(subs.stdout.lines().count(), 250);

    // Idempotent: a second run finds everything in place and sends Graph no write.
    t.control("auto-approve", json!({"username": "alice@contoso.example"}))
        .await;
    let writes = graph_writes(&t).await;
    let again = sh.run(&["setup", "--name", "demo1"]);
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert!(
        again.stderr.contains("nothing was changed"),
        "{}",
        again.stderr
    );
    assert_eq!(
        graph_writes(&t).await,
        writes,
        "no write request the second time"
    );
    sh.assert_no_secrets(&t).await;
    let secret = std::fs::read_to_string(&secret_file).unwrap();
    for run in sh.runs.lock().unwrap().iter() {
        assert!(!run.1.stdout.contains(&secret) && !run.1.stderr.contains(&secret));
    }
}

#[tokio::test]
async fn a_non_admin_gets_the_apps_and_the_consent_urls_and_exit_4_until_an_admin_runs_it() {
    let t = DevTenant::start(&["--auto-approve", "carol@contoso.example"]).await;
    let mut sh = newcomer(&t);
    let r = sh.run(&["setup", "--name", "demo2"]);
    r.assert_fails(4, "admin consent is missing");
    assert_eq!(
        r.stderr.matches("/adminconsent?client_id=").count(),
        2,
        "{}",
        r.stderr
    );
    assert!(config_file(&sh).exists(), "everything else is done");

    let api = serve_api_from_config(&t, &sh).await;
    sh.set("AZOBO_API_URL", &api.url);
    t.control("auto-approve", json!({"username": "bob@contoso.example"}))
        .await;
    sh.login();
    let subs = sh.run(&["subscriptions"]);
    subs.assert_fails(4, "65001");

    t.control("auto-approve", json!({"username": "alice@contoso.example"}))
        .await;
    let admin = sh.run(&["setup", "--name", "demo2"]);
    assert_eq!(admin.code, Some(0), "{}", admin.stderr);
    assert!(
        admin.stderr.contains("granted admin consent"),
        "{}",
        admin.stderr
    );
    let subs = sh.run(&["subscriptions", "-o", "tsv"]);
    assert_eq!(subs.code, Some(0), "{}", subs.stderr);
    sh.assert_no_secrets(&t).await;
}

#[tokio::test]
async fn dry_run_lists_the_writes_and_sends_none() {
    let t = DevTenant::start(&["--auto-approve", "alice@contoso.example"]).await;
    let sh = newcomer(&t);
    let r = sh.run(&["setup", "--dry-run", "--json"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let planned: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    let methods: Vec<&str> = planned
        .iter()
        .map(|p| p["method"].as_str().unwrap())
        .collect();
    assert_eq!(
        methods.iter().filter(|m| **m == "POST").count(),
        7,
        "{planned:?}"
    );
    assert!(
        planned
            .iter()
            .any(|p| p["url"].as_str().unwrap().ends_with("/addPassword"))
    );
    assert_eq!(graph_writes(&t).await, 0);
    assert!(!config_file(&sh).exists());
}

#[tokio::test]
async fn cleanup_removes_what_setup_made_and_a_second_cleanup_is_a_no_op() {
    let t = DevTenant::start(&["--auto-approve", "alice@contoso.example"]).await;
    let sh = newcomer(&t);
    let r = sh.run(&["--profile", "lab", "setup", "--name", "demo3", "--json"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let report: Value = serde_json::from_str(&r.stdout).unwrap();
    let cli_app = report["registered"]["cli"]["appId"]
        .as_str()
        .unwrap()
        .to_owned();
    let secret_file = std::path::PathBuf::from(report["secretFile"].as_str().unwrap());
    assert!(secret_file.exists());

    let r = sh.run(&["--profile", "lab", "setup", "--name", "demo3", "--cleanup"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stderr.contains("the CLI app"), "{}", r.stderr);
    assert!(!secret_file.exists());
    let config = std::fs::read_to_string(config_file(&sh)).unwrap();
    assert!(!config.contains(&cli_app), "{config}");
    // The CLI app is gone for sign-in too.
    let (url, _) = {
        let (u, v) = t.authorize_url("openid", &[]);
        (u.replace(&t.cli_id(), &cli_app), v)
    };
    let page = t.http.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 400);
    assert!(page.text().await.unwrap().contains("AADSTS700016"));

    let again = sh.run(&["--profile", "lab", "setup", "--name", "demo3", "--cleanup"]);
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert!(
        again.stderr.contains("Nothing to remove"),
        "{}",
        again.stderr
    );
    sh.assert_no_secrets(&t).await;
}

#[tokio::test]
async fn setup_with_a_certificate_registers_it_and_serve_api_signs_in_with_it() {
    let t = DevTenant::start(&["--auto-approve", "alice@contoso.example"]).await;
    let mut sh = newcomer(&t);
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["obo-api.contoso.example".to_owned()])
        .unwrap()
        .self_signed(&pair)
        .unwrap();
    let (cert_file, key_file) = (
        sh.home.path().join("api.pem"),
        sh.home.path().join("api.key"),
    );
    std::fs::write(&cert_file, cert.pem()).unwrap();
    std::fs::write(&key_file, pair.serialize_pem()).unwrap();
    let (c, k) = (cert_file.to_str().unwrap(), key_file.to_str().unwrap());
    let r = sh.run(&[
        "setup",
        "--name",
        "cert1",
        "--certificate",
        c,
        "--certificate-key",
        k,
        "--json",
    ]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let report: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(report["certificate"], c);
    assert!(
        r.stderr.contains("registered the certificate"),
        "{}",
        r.stderr
    );
    assert!(!std::path::Path::new(report["secretFile"].as_str().unwrap()).exists());
    let config = std::fs::read_to_string(config_file(&sh)).unwrap();
    assert!(config.contains("client_certificate = "), "{config}");
    assert!(!config.contains("client_secret_file"), "{config}");

    let api = serve_api_from_config(&t, &sh).await;
    sh.set("AZOBO_API_URL", &api.url);
    t.control("auto-approve", json!({"username": "bob@contoso.example"}))
        .await;
    sh.login();
    let subs = sh.run(&["subscriptions", "-o", "tsv"]);
    assert_eq!(subs.code, Some(0), "{}", subs.stderr);
    assert_eq!(subs.stdout.lines().count(), 250);

    t.control("auto-approve", json!({"username": "alice@contoso.example"}))
        .await;
    let writes = graph_writes(&t).await;
    let again = sh.run(&[
        "setup",
        "--name",
        "cert1",
        "--certificate",
        c,
        "--certificate-key",
        k,
    ]);
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert_eq!(
        graph_writes(&t).await,
        writes,
        "the certificate is already there"
    );
    // A key that is not the certificate's private key in PEM is refused before any sign-in.
    sh.run(&["setup", "--certificate", c, "--certificate-key", c])
        .assert_fails(2, "RSA private key");
}
