//! Answering an API's claims challenge: the re-sign-in keeps the account (`login_hint`, the
//! session's tenant, and the `oid`/`tid` checked on return), and the command azobo suggests when
//! no one is at a terminal is safe to paste whatever the API sent.

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use base64::Engine as _;
use serde_json::{Value, json};

use crate::support::{Api, DevTenant, Keyring, Shell, at_terminal, fake_api};

#[tokio::test]
async fn a_claims_answer_at_a_terminal_must_come_back_as_the_same_account() {
    // No auto-approve: the scripted browser takes the account picker.
    let t = DevTenant::start(&[]).await;
    let api = Api::start(&t, &[]).await;
    let mut sh = Shell::new(&t, Keyring::File);
    let urls = sh.home.path().join("urls.txt");
    sh.set("AZOBO_API_URL", &api.url);
    sh.set("SCRIPTED_BROWSER_URLS", urls.to_str().unwrap());
    sh.set("SCRIPTED_BROWSER_MODE", "pick:carol@contoso.example");
    let login = sh.login();
    assert!(
        login.stderr.contains("Signed in as Carol White"),
        "{}",
        login.stderr
    );
    t.control("users/carol@contoso.example/mfa", json!({"required": true}))
        .await;

    // The API asks for MFA; at the picker the user takes alice instead of carol.
    let (code, text) = at_terminal(
        &sh,
        &["subscriptions", "-o", "tsv"],
        &[("SCRIPTED_BROWSER_MODE", "pick:alice@contoso.example")],
    );
    assert_eq!(code, Some(3), "{text}");
    assert!(
        text.contains("the sign-in came back as alice@contoso.example"),
        "{text}"
    );
    assert!(
        text.contains("this session belongs to carol@contoso.example"),
        "{text}"
    );
    let opened = std::fs::read_to_string(&urls).unwrap();
    let reauth = url::Url::parse(opened.lines().last().unwrap()).unwrap();
    let q: std::collections::HashMap<_, _> = reauth.query_pairs().into_owned().collect();
    assert_eq!(q["login_hint"], "carol@contoso.example", "{reauth}");
    assert!(q.contains_key("claims"), "{reauth}");
    assert!(
        reauth
            .path()
            .starts_with(&format!("/{}/", t.s("tenant_id"))),
        "the session's tenant: {reauth}"
    );

    // Carol's session is untouched.
    let status = sh.run(&["status", "--json"]);
    assert_eq!(status.code, Some(0), "{}", status.stderr);
    let s: Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(s["account"]["username"], "carol@contoso.example");

    // Picking carol answers the challenge, and the retry succeeds.
    let (code, text) = at_terminal(
        &sh,
        &["subscriptions", "--json"],
        &[("SCRIPTED_BROWSER_MODE", "pick:carol@contoso.example")],
    );
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("[]"), "carol has no subscriptions: {text}");
    sh.assert_no_secrets(&t).await;
}

#[tokio::test]
async fn login_with_claims_for_another_account_stores_nothing() {
    let t = DevTenant::start(&[]).await;
    let mut sh = Shell::new(&t, Keyring::File);
    sh.set("SCRIPTED_BROWSER_MODE", "pick:carol@contoso.example");
    sh.login();
    sh.set("SCRIPTED_BROWSER_MODE", "pick:bob@contoso.example");
    let claims = r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#;
    sh.run(&["login", "--claims", claims])
        .assert_fails(3, "belongs to carol@contoso.example");
    let s: Value = serde_json::from_str(&sh.run(&["status", "--json"]).stdout).unwrap();
    assert_eq!(s["account"]["username"], "carol@contoso.example");
    sh.run(&["login", "--claims", "not json"])
        .assert_fails(2, "--claims");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hostile_claims_challenge_cannot_make_the_suggested_command_run_anything() {
    let t = DevTenant::start(&["--auto-approve", "alice@contoso.example"]).await;
    let mut sh = Shell::new(&t, Keyring::File);
    sh.set("AZOBO_PROFILE", "work");
    sh.login();
    let pwned = sh.home.path().join("pwned");
    // Valid JSON that closes a single quote and runs commands, three ways.
    let hostile = json!({"access_token": {"acrs": {"essential": true, "value":
        format!("x'; touch {p}; echo '$(touch {p})`touch {p}`", p = pwned.display())}}})
    .to_string();
    let header = format!(
        "Bearer error=\"insufficient_claims\", claims=\"{}\"",
        base64::engine::general_purpose::STANDARD.encode(&hostile)
    );
    let router = axum::Router::new().route(
        "/subscriptions",
        axum::routing::get(move || {
            let header = header.clone();
            async move {
                let mut h = HeaderMap::new();
                h.insert("www-authenticate", HeaderValue::from_str(&header).unwrap());
                (
                    StatusCode::UNAUTHORIZED,
                    h,
                    "{\"error\":\"insufficient_claims\"}",
                )
            }
        }),
    );
    sh.set("AZOBO_API_URL", &fake_api(router).await);
    let r = sh.run(&["subscriptions"]);
    r.assert_fails(3, "the API needs a new sign-in");
    let hint = r
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("  hint: at a terminal, run `"))
        .unwrap_or_else(|| panic!("no command in: {}", r.stderr));
    let suggested = hint.strip_suffix('`').unwrap();
    assert!(
        suggested.starts_with("azobo --profile work login --claims-b64 "),
        "{suggested}"
    );

    // A shell runs the command as pasted, against a stand-in `azobo` that records its argv.
    let fake_bin = sh.home.path().join("bin");
    std::fs::create_dir_all(&fake_bin).unwrap();
    let argv = sh.home.path().join("argv");
    let stand_in = fake_bin.join("azobo");
    std::fs::write(
        &stand_in,
        format!("#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}'\n", argv.display()),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&stand_in, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!("{}:{}", fake_bin.display(), std::env::var("PATH").unwrap());
    let ran = std::process::Command::new("sh")
        .args(["-c", suggested])
        .env("PATH", path)
        .status()
        .unwrap();
    assert!(ran.success());
    assert!(!pwned.exists(), "the pasted command ran something else");
    let args: Vec<String> = std::fs::read_to_string(&argv)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(args.len(), 5, "{args:?}");
    assert_eq!(args[..4], ["--profile", "work", "login", "--claims-b64"]);
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&args[4])
        .unwrap();
    assert_eq!(String::from_utf8(decoded).unwrap(), hostile);

    // And the real command signs the same account in again with those claims.
    let words: Vec<&str> = suggested.split(' ').skip(1).collect();
    let again = sh.run(&words);
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert!(!pwned.exists());
    sh.assert_no_secrets(&t).await;
}
