//! `azobo login`, `status`, `token`, `logout` against the dev tenant, with a scripted browser and
//! real secret stores.

use std::io::{BufRead as _, BufReader};
use std::process::Stdio;

use serde_json::{Value, json};

use crate::support::{
    DevTenant, Keyring, Shell, device_login_as, sign_ins_started, start_device_login,
};

async fn tenant() -> DevTenant {
    DevTenant::start(&["--auto-approve", "alice@contoso.example"]).await
}

async fn full_cycle(keyring: Keyring) {
    if !keyring.available() {
        return;
    }
    let t = tenant().await;
    let sh = Shell::new(&t, keyring);
    let login = sh.login();
    assert!(
        login.stdout.is_empty(),
        "login prints data only with -o: {}",
        login.stdout
    );
    assert!(
        login
            .stderr
            .contains("Signed in as Alice Smith <alice@contoso.example>"),
        "{}",
        login.stderr
    );
    assert!(
        login.stderr.contains("Sign in at: "),
        "the URL is always printed"
    );

    let status = sh.run(&["status", "--json"]);
    assert_eq!(status.code, Some(0), "{}", status.stderr);
    let s: Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(s["account"]["username"], "alice@contoso.example");
    assert_eq!(s["account"]["tenantId"], t.s("tenant_id"));
    assert_eq!(s["apiScope"], t.api_scope());
    let expires = s["tokenExpiresOn"].as_str().unwrap();
    assert!(
        expires.ends_with('Z') && expires.len() == 20,
        "RFC 3339 in UTC: {expires}"
    );
    assert_eq!(s["refreshable"], true);

    let token = sh.run(&["token"]);
    assert_eq!(token.code, Some(0), "{}", token.stderr);
    let at = token.stdout.trim_end_matches('\n');
    assert_eq!(token.stdout.lines().count(), 1);
    assert_eq!(crate::support::claims(at)["aud"], t.api_id());
    let json = sh.run(&["token", "--json"]);
    let j: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(j["accessToken"], at);
    assert_eq!(j["tokenType"], "Bearer");
    assert!(
        j["expiresOn"].as_str().unwrap().ends_with('Z'),
        "RFC 3339 in UTC"
    );
    assert!(j["expiresOnTimestamp"].as_u64().unwrap() > 1_700_000_000);

    // Nothing on disk holds a token in the clear (except the opted-in plaintext file).
    for entry in std::fs::read_dir(sh.sessions()).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert!(
                mode == 0o600 || path.extension().is_some_and(|e| e == "lock"),
                "{} is {mode:o}",
                path.display()
            );
        }
        let plaintext_store =
            keyring == Keyring::File && path.to_string_lossy().ends_with(".tokens.json");
        if !plaintext_store {
            assert!(
                !bytes.windows(40).any(|w| w == &at.as_bytes()[..40]),
                "{} holds the token in the clear",
                path.display()
            );
        }
    }

    let logout = sh.run(&["logout"]);
    assert_eq!(logout.code, Some(0));
    assert!(
        logout.stderr.contains("Signed out of profile `default`"),
        "{}",
        logout.stderr
    );
    sh.run(&["status"]).assert_fails(3, "not signed in");
    sh.run(&["token"]).assert_fails(3, "not signed in");
    let again = sh.run(&["logout"]);
    assert_eq!(again.code, Some(0), "logout is idempotent");
    assert!(again.stderr.contains("was not signed in"));
    sh.assert_no_secrets(&t).await;
}

#[tokio::test]
async fn login_status_token_logout_with_secret_service() {
    full_cycle(Keyring::SecretService).await;
}

#[tokio::test]
async fn login_status_token_logout_with_the_kernel_keyring() {
    full_cycle(Keyring::Keyutils).await;
}

#[tokio::test]
async fn insecure_storage_works_and_warns_on_every_use() {
    let t = tenant().await;
    let mut sh = Shell::new(&t, Keyring::File);
    sh.vars.retain(|(k, _)| k != "AZOBO_TOKEN_STORE");
    let r = sh.run(&["login", "--insecure-storage"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stderr.contains("warning: tokens are in a plaintext file"),
        "{}",
        r.stderr
    );
    let s = sh.run(&["status"]);
    assert!(
        s.stderr.contains("warning:") && s.stderr.contains("plaintext"),
        "{}",
        s.stderr
    );
    let file = sh.sessions().join("default.tokens.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}

#[tokio::test]
async fn a_broken_secret_service_fails_closed_naming_the_way_out() {
    let t = tenant().await;
    let mut sh = Shell::new(&t, Keyring::SecretService);
    sh.set(
        "DBUS_SESSION_BUS_ADDRESS",
        "unix:path=/nonexistent/azobo-test-bus",
    );
    let r = sh.run(&["login"]);
    r.assert_fails(1, "no working OS keyring");
    assert!(
        r.stderr.contains("Secret Service")
            && r.stderr.contains("--insecure-storage")
            && r.stderr.contains("AZOBO_TOKEN"),
        "{}",
        r.stderr
    );
    assert!(
        !sh.sessions().join("default.json").exists(),
        "nothing stored"
    );
    sh.run(&["login", "--device-code"])
        .assert_fails(1, "no working OS keyring");
    assert_eq!(
        sign_ins_started(&t).await,
        0,
        "the store is checked before any sign-in starts"
    );
}

#[tokio::test]
async fn bad_storage_settings_are_usage_errors_before_any_sign_in() {
    let t = tenant().await;
    let mut sh = Shell::new(&t, Keyring::SecretService);
    sh.set("AZOBO_KEYRING", "gnome");
    sh.run(&["login"]).assert_fails(2, "AZOBO_KEYRING");
    sh.run(&["login", "--device-code"])
        .assert_fails(2, "AZOBO_KEYRING");
    sh.set("AZOBO_TOKEN_STORE", "vault");
    sh.run(&["login"]).assert_fails(2, "AZOBO_TOKEN_STORE");
    assert_eq!(sign_ins_started(&t).await, 0);
}

/// `count` requests with a wrong state at `port`, each on its own connection, spread over
/// several loopback source addresses so the flood never runs out of ephemeral ports.
async fn stray_requests(port: u16, count: usize) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    const WORKERS: usize = 32;
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..WORKERS {
        tasks.spawn(async move {
            let source = std::net::Ipv4Addr::new(127, 0, 0, 2 + (w % 8) as u8);
            let mut answered = 0usize;
            for i in (w..count).step_by(WORKERS) {
                let socket = tokio::net::TcpSocket::new_v4().unwrap();
                socket.bind((source, 0).into()).unwrap();
                let Ok(mut s) = socket.connect(([127, 0, 0, 1], port).into()).await else {
                    continue;
                };
                let req = format!(
                    "GET /?code=forged-{i}&state=not-the-state HTTP/1.1\r\nHost: localhost\r\n\r\n"
                );
                if s.write_all(req.as_bytes()).await.is_err() {
                    continue;
                }
                let mut buf = Vec::new();
                if s.read_to_end(&mut buf).await.is_ok() && buf.starts_with(b"HTTP/1.1 400") {
                    answered += 1;
                }
            }
            answered
        });
    }
    let mut answered = 0;
    while let Some(n) = tasks.join_next().await {
        answered += n.unwrap();
    }
    assert!(
        answered * 100 >= count * 99,
        "the listener answered {answered} of {count} stray requests"
    );
}

#[tokio::test]
async fn a_flood_of_stray_requests_leaves_the_listener_flat_and_the_sign_in_completes() {
    let t = tenant().await;
    let mut sh = Shell::new(&t, Keyring::File);
    let urls = sh.home.path().join("urls.txt");
    sh.set("SCRIPTED_BROWSER_MODE", "ignore");
    sh.set("SCRIPTED_BROWSER_URLS", urls.to_str().unwrap());
    let mut child = sh
        .cmd(&["login"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let url = loop {
        if let Some(l) = std::fs::read_to_string(&urls)
            .ok()
            .and_then(|s| s.lines().next().map(str::to_owned))
        {
            break l;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let redirect = url::Url::parse(&url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .map(|(_, v)| url::Url::parse(&v).unwrap())
        .unwrap();
    let port = redirect.port().unwrap();
    let pid = child.id();
    stray_requests(port, 2_000).await;
    let before = crate::support::rss_kib(pid);
    stray_requests(port, 100_000).await;
    let after = crate::support::rss_kib(pid);
    assert!(
        after <= before + 5 * 1024,
        "RSS grew from {before} KiB to {after} KiB over 100,000 stray requests"
    );
    // The real redirect still lands.
    let r = t.http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 302);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let page = t.http.get(&location).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let out = tokio::task::spawn_blocking(move || {
        let status = child.wait().unwrap();
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        (status, err)
    })
    .await
    .unwrap();
    assert!(out.0.success(), "{}", out.1);
    assert!(out.1.contains("Signed in as Alice Smith"), "{}", out.1);
}

#[tokio::test]
async fn non_interactive_login_without_a_browser_command_fails_at_once() {
    let t = tenant().await;
    let mut sh = Shell::new(&t, Keyring::File);
    sh.vars.retain(|(k, _)| k != "AZOBO_BROWSER");
    sh.set("BROWSER", "/nonexistent/should-never-run");
    let r = sh.run(&["login"]);
    r.assert_fails(3, "--device-code");
    assert!(
        t.requests().await.iter().all(|e| e["path"]
            .as_str()
            .is_some_and(|p| !p.ends_with("/authorize"))),
        "no sign-in was started"
    );
}

#[tokio::test]
async fn device_code_login_waits_for_approval() {
    let t = tenant().await;
    let sh = Shell::new(&t, Keyring::File);
    let r = device_login_as(
        &t,
        &sh,
        sh.cmd(&["login", "--device-code"]),
        "bob@contoso.example",
    )
    .await;
    let err = r.stderr;
    assert_eq!(r.code, Some(0), "{err}");
    assert!(err.contains("Signed in as Bob Jones"), "{err}");
    assert!(
        sh.run(&["status", "--json"])
            .stdout
            .contains("bob@contoso.example")
    );
    sh.assert_no_secrets(&t).await;
}

#[tokio::test]
async fn declined_device_code_exits_4() {
    let t = tenant().await;
    let sh = Shell::new(&t, Keyring::File);
    let (mut child, code, reader) = start_device_login(sh.cmd(&["login", "--device-code"])).await;
    t.control("device/decline", json!({"user_code": code}))
        .await;
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    let err = reader.join().unwrap();
    assert_eq!(status.code(), Some(4), "{err}");
    assert!(err.contains("declined"), "{err}");
}

fn plaintext_refresh_token(sh: &Shell) -> String {
    let v: Value =
        serde_json::from_slice(&std::fs::read(sh.sessions().join("default.tokens.json")).unwrap())
            .unwrap();
    v["refresh_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn stale_token_is_refreshed_and_the_refresh_token_rotated() {
    let t = tenant().await;
    t.control("token-lifetime", json!({"seconds": 120})).await;
    let sh = Shell::new(&t, Keyring::File);
    sh.login();
    let rt1 = plaintext_refresh_token(&sh);
    let first = sh.run(&["token"]);
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    let rt2 = plaintext_refresh_token(&sh);
    assert_ne!(rt1, rt2, "the rotated refresh token replaced the old one");
    let refreshes = t
        .requests()
        .await
        .iter()
        .filter(|e| e["grant_type"] == "refresh_token" && e["status"] == 200)
        .count();
    assert_eq!(
        refreshes, 1,
        "a token with under 5 minutes left is refreshed"
    );
    t.control("token-lifetime", json!({"seconds": 3600})).await;
    let second = sh.run(&["token"]);
    let third = sh.run(&["token"]);
    assert_ne!(first.stdout, second.stdout);
    assert_eq!(
        second.stdout, third.stdout,
        "a fresh token comes from the cache"
    );
    sh.assert_no_secrets(&t).await;
}

#[tokio::test]
async fn parallel_processes_refresh_once_and_share_the_result() {
    let t = tenant().await;
    t.control("token-lifetime", json!({"seconds": 60})).await;
    let sh = Shell::new(&t, Keyring::File);
    sh.login();
    t.control("token-lifetime", json!({"seconds": 3600})).await;
    let children: Vec<_> = (0..4)
        .map(|_| {
            sh.cmd(&["token"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    for o in &outs {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    assert!(
        outs.windows(2).all(|w| w[0].stdout == w[1].stdout),
        "all four got the one refreshed token"
    );
    let refreshes = t
        .requests()
        .await
        .iter()
        .filter(|e| e["grant_type"] == "refresh_token")
        .count();
    assert_eq!(
        refreshes, 1,
        "the lock and re-read let one process refresh for all"
    );
    assert_eq!(sh.run(&["token"]).code, Some(0), "the session survived");
}

#[tokio::test]
async fn refused_refresh_exits_3_with_the_aadsts_code_and_forgets_the_refresh_token() {
    let t = tenant().await;
    let sh = Shell::new(&t, Keyring::File);
    sh.login();
    t.control("users/alice@contoso.example/revoke", json!({}))
        .await;
    let r = sh.run(&["token", "--force-refresh"]);
    r.assert_fails(3, "AADSTS50173");
    assert!(r.stderr.contains("trace id"), "{}", r.stderr);
    assert!(r.stderr.contains("azobo login"));
    let before = t.requests().await.len();
    sh.run(&["token", "--force-refresh"])
        .assert_fails(3, "no refresh token");
    assert_eq!(
        t.requests().await.len(),
        before,
        "no second round trip for a refused token"
    );
    sh.assert_no_secrets(&t).await;
}

#[tokio::test]
async fn azobo_token_env_overrides_sessions() {
    let t = tenant().await;
    let mut sh = Shell::new(&t, Keyring::File);
    sh.set("AZOBO_TOKEN", "ci-provided-token");
    let r = sh.run(&["token"]);
    assert_eq!(r.stdout, "ci-provided-token\n");
    sh.run(&["login"]).assert_fails(2, "AZOBO_TOKEN");
    sh.run(&["logout"]).assert_fails(2, "AZOBO_TOKEN");
    let s = sh.run(&["status", "--json"]);
    assert_eq!(
        serde_json::from_str::<Value>(&s.stdout).unwrap()["envToken"],
        true
    );
}

#[tokio::test]
async fn sign_in_error_redirect_exits_with_its_class() {
    let t = tenant().await;
    let sh = Shell::new(&t, Keyring::File);
    t.control("deny-next-sign-in", json!({"error": "access_denied"}))
        .await;
    sh.run(&["login"]).assert_fails(4, "access_denied");
    t.control(
        "deny-next-sign-in",
        json!({"error": "interaction_required"}),
    )
    .await;
    sh.run(&["login"]).assert_fails(3, "interaction_required");
}

#[tokio::test]
async fn listener_ignores_stray_requests_until_the_real_redirect() {
    let t = tenant().await;
    let mut sh = Shell::new(&t, Keyring::File);
    let log = sh.home.path().join("browser.log");
    sh.set("SCRIPTED_BROWSER_MODE", "stray");
    sh.set("SCRIPTED_BROWSER_LOG", log.to_str().unwrap());
    sh.login();
    sh.assert_no_secrets(&t).await;
    let log = std::fs::read_to_string(log).unwrap();
    let statuses: Vec<&str> = log.lines().map(|l| l.rsplit(' ').next().unwrap()).collect();
    assert_eq!(statuses, vec!["404", "400", "400", "405", "200"], "{log}");
}

#[tokio::test]
async fn listener_answers_on_ipv6_loopback_too() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("skipping: this host has no IPv6 loopback");
        return;
    }
    let t = tenant().await;
    let mut sh = Shell::new(&t, Keyring::File);
    sh.set("SCRIPTED_BROWSER_MODE", "ipv6");
    sh.login();
}

#[tokio::test]
async fn listener_gives_up_after_the_timeout_and_a_busy_port_is_a_clear_error() {
    let t = tenant().await;
    let mut sh = Shell::new(&t, Keyring::File);
    sh.set("SCRIPTED_BROWSER_MODE", "ignore");
    sh.run(&["login", "--timeout", "1"])
        .assert_fails(3, "no sign-in arrived within 1 s");
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    sh.run(&["login", "--port", &port])
        .assert_fails(2, &format!("port {port}"));
}

#[tokio::test]
async fn a_failing_browser_in_a_non_interactive_run_does_not_hang() {
    let t = tenant().await;
    let mut sh = Shell::new(&t, Keyring::File);
    sh.set("SCRIPTED_BROWSER_MODE", "fail");
    let r = sh.run(&["login"]);
    r.assert_fails(3, "--device-code");
    assert!(r.stderr.contains("cannot open a browser"), "{}", r.stderr);
}

#[tokio::test]
async fn no_secret_reaches_any_output_even_at_trace_level() {
    let t = tenant().await;
    let mut sh = Shell::new(&t, Keyring::File);
    sh.set("AZOBO_LOG", "trace");
    t.control("token-lifetime", json!({"seconds": 60})).await;
    let mut outputs = vec![sh.run(&["login", "-vvv"])];
    outputs.push(sh.run(&["status", "-vvv"]));
    outputs.push(sh.run(&["token", "-vvv", "--json"]));
    let token: Value = serde_json::from_str(&outputs[2].stdout).unwrap();
    let at = token["accessToken"].as_str().unwrap().to_owned();
    let rt = plaintext_refresh_token(&sh);
    outputs.push(sh.run(&["logout", "-vvv"]));
    for (i, o) in outputs.iter().enumerate() {
        assert!(!o.stderr.contains(&rt), "run {i} logged the refresh token");
        assert!(!o.stderr.contains(&at), "run {i} logged the access token");
        if i != 2 {
            assert!(!o.stdout.contains(&at), "run {i} printed the access token");
        }
    }
    sh.assert_no_secrets(&t).await;
}

#[tokio::test]
async fn ctrl_c_while_waiting_exits_130_and_closes_the_port() {
    let t = tenant().await;
    let mut sh = Shell::new(&t, Keyring::File);
    sh.set("SCRIPTED_BROWSER_MODE", "ignore");
    let mut child = sh
        .cmd(&["login"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let port: u16 = loop {
        let line = lines.next().expect("a waiting line").unwrap();
        if let Some(rest) = line.split("redirect to localhost:").nth(1) {
            break rest.split_whitespace().next().unwrap().parse().unwrap();
        }
    };
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
        "listening while waiting"
    );
    let pid = child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the port is closed"
    );
}

#[tokio::test]
async fn sessions_are_per_profile() {
    let t = tenant().await;
    let sh = Shell::new(&t, Keyring::File);
    let r = sh.run(&["--profile", "work", "login"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stderr.contains("on profile `work`"), "{}", r.stderr);
    assert_eq!(sh.run(&["--profile", "work", "status"]).code, Some(0));
    sh.run(&["status"]).assert_fails(3, "profile `default`");
    sh.run(&["token"]).assert_fails(3, "not signed in");
    let r = sh
        .cmd(&["token"])
        .env("AZOBO_PROFILE", "work")
        .output()
        .unwrap();
    assert!(r.status.success(), "AZOBO_PROFILE selects the profile");
    let out = sh.run(&["logout", "--all"]);
    assert!(out.stderr.contains("profile `work`"), "{}", out.stderr);
    sh.run(&["--profile", "work", "status"])
        .assert_fails(3, "not signed in");
}

#[tokio::test]
async fn logout_says_when_a_store_is_out_of_reach_and_a_later_logout_finds_the_key() {
    if !Keyring::SecretService.available() {
        return;
    }
    let t = tenant().await;
    let mut sh = Shell::new(&t, Keyring::SecretService);
    sh.login();
    let bus = std::env::var("DBUS_SESSION_BUS_ADDRESS").unwrap();
    sh.set(
        "DBUS_SESSION_BUS_ADDRESS",
        "unix:path=/nonexistent/azobo-test-bus",
    );
    let r = sh.run(&["logout"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("warning: profile `default`: the Secret Service could not be cleaned"),
        "{}",
        r.stderr
    );
    assert!(!sh.sessions().join("default.json").exists());
    // With the bus back and no metadata left, logout still finds and removes the key.
    sh.set("DBUS_SESSION_BUS_ADDRESS", &bus);
    let r = sh.run(&["logout"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("removed the token-cache key in the Secret Service"),
        "{}",
        r.stderr
    );
    let r = sh.run(&["logout"]);
    assert!(r.stderr.contains("was not signed in"), "{}", r.stderr);
}

#[tokio::test]
async fn quiet_keeps_what_a_sign_in_needs_and_drops_the_chatter() {
    let t = tenant().await;
    let sh = Shell::new(&t, Keyring::File);
    let r = sh.run(&["-q", "login"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stderr.contains("Sign in at: http"), "{}", r.stderr);
    assert!(!r.stderr.contains("Signed in as"), "{}", r.stderr);
    assert!(!r.stderr.contains("warning:"), "{}", r.stderr);
    // The device code message is what a user without a browser needs: it shows too.
    let r = device_login_as(
        &t,
        &sh,
        sh.cmd(&["-q", "login", "--device-code"]),
        "carol@contoso.example",
    )
    .await;
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stderr.contains("enter the code"), "{}", r.stderr);
    sh.assert_no_secrets(&t).await;
}

/// The Secret Service on a bus started for this run only (as `dbus-run-session` in a CI step
/// gives) is gone for the next step: with the automatic choice the session goes to the kernel
/// keyring instead. On the user's default bus (`$XDG_RUNTIME_DIR/bus`, where a desktop's
/// keyring lives) the Secret Service is used.
#[tokio::test]
async fn automatic_keyring_choice_trusts_the_secret_service_only_on_the_users_own_bus() {
    if !Keyring::SecretService.available() || !Keyring::Keyutils.available() {
        return;
    }
    let bus = std::env::var("DBUS_SESSION_BUS_ADDRESS").unwrap();
    let t = tenant().await;
    let storage_after_login = |runtime: &std::path::Path| {
        let mut sh = Shell::new(&t, Keyring::File);
        sh.vars
            .retain(|(k, _)| k != "AZOBO_TOKEN_STORE" && k != "AZOBO_KEYRING");
        sh.set("XDG_RUNTIME_DIR", runtime.to_str().unwrap());
        sh.login();
        let s: Value = serde_json::from_str(&sh.run(&["status", "--json"]).stdout).unwrap();
        assert_eq!(sh.run(&["logout"]).code, Some(0));
        s["storage"]["backend"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let empty = tempfile::tempdir().unwrap();
    assert_eq!(storage_after_login(empty.path()), "keyutils");
    let socket = bus
        .strip_prefix("unix:path=")
        .map(|rest| rest.split(',').next().unwrap_or(rest).to_owned());
    if let Some(socket) = socket {
        let own = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(&socket, own.path().join("bus")).unwrap();
        assert_eq!(storage_after_login(own.path()), "secret-service");
    }
}

/// The live copies in the kernel keyring that name `entry_part`, from /proc/keys: (timeout,
/// line). Keys already invalidated, revoked or dead (flags `i`, `R`, `D`) wait there for the
/// kernel's garbage collector and count as gone.
fn kernel_copies(entry_part: &str) -> Vec<(String, String)> {
    std::fs::read_to_string("/proc/keys")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("azobo-secret-service-copy:") && l.contains(entry_part))
        .filter(|l| {
            let flags = l.split_whitespace().nth(1).unwrap_or("");
            !flags.contains(['i', 'R', 'D'])
        })
        .map(|l| {
            let timeout = l.split_whitespace().nth(3).unwrap_or("").to_owned();
            (timeout, l.to_owned())
        })
        .collect()
}

/// A desktop's `azobo token` should not pay a D-Bus session per call: what the Secret Service
/// hands over is copied to the kernel keyring for five minutes at most. The copy is this user's
/// only, expires on its own, and goes at logout.
#[tokio::test]
async fn secret_service_keys_are_copied_to_the_kernel_keyring_for_minutes_and_logout_drops_them() {
    if !Keyring::SecretService.available() || !Keyring::Keyutils.available() {
        return;
    }
    let t = tenant().await;
    let mut sh = Shell::new(&t, Keyring::SecretService);
    sh.login();
    let status: Value = serde_json::from_str(&sh.run(&["status", "--json"]).stdout).unwrap();
    assert_eq!(status["storage"]["backend"], "secret-service", "{status}");
    assert_eq!(sh.run(&["token"]).code, Some(0));
    // Entry names carry a hash of the data directory: this test's own.
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(sh.sessions().join("default.json")).unwrap())
            .unwrap();
    let entry = meta["key_entry"].as_str().unwrap().to_owned();
    let copies = kernel_copies(&entry);
    assert_eq!(copies.len(), 1, "{copies:?}");
    let timeout = &copies[0].0;
    assert!(
        timeout.ends_with('m') && timeout.trim_end_matches('m').parse::<u32>().unwrap() <= 5
            || timeout.ends_with('s'),
        "expires within five minutes: {copies:?}"
    );
    // With the bus gone, the copy still answers (the Secret Service vouched for it just now).
    let bus = std::env::var("DBUS_SESSION_BUS_ADDRESS").unwrap();
    sh.set(
        "DBUS_SESSION_BUS_ADDRESS",
        "unix:path=/nonexistent/azobo-test-bus",
    );
    assert_eq!(sh.run(&["token"]).code, Some(0));
    // Logout removes the copy as well as the Secret Service's entry.
    sh.set("DBUS_SESSION_BUS_ADDRESS", &bus);
    assert_eq!(sh.run(&["logout"]).code, Some(0));
    assert!(
        kernel_copies(&entry).is_empty(),
        "{:?}",
        kernel_copies(&entry)
    );
    sh.login();
    sh.set(
        "DBUS_SESSION_BUS_ADDRESS",
        "unix:path=/nonexistent/azobo-test-bus",
    );
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(sh.sessions().join("default.json")).unwrap())
            .unwrap();
    let entry = meta["key_entry"].as_str().unwrap().to_owned();
    // The cross-process check after login read the Secret Service itself and left a copy.
    assert_eq!(kernel_copies(&entry).len(), 1);
    assert_eq!(sh.run(&["token"]).code, Some(0));
    sh.set("DBUS_SESSION_BUS_ADDRESS", &bus);
    sh.assert_no_secrets(&t).await;
}
