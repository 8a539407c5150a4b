//! The dev tenant under hostile input and across restarts: `/_dev/` refuses web pages (CSRF,
//! DNS rebinding), the runtime directory cannot be planted, numbers are range-checked, bodies
//! are bounded in size and time, device codes in count, and `--state-dir` keeps keys, port,
//! sessions and Graph's apps.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::support::{
    ARM_SCOPE, DevTenant, Keyring, Shell, assert_aad_error, azobo, home, rss_kib,
};

const GRAPH_CLI_TOOLS: &str = "14d82eec-204b-4c2f-b7e8-296a70dab67e";
const AZURE_CLI: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

/// `host:port` of the tenant.
fn authority_host(t: &DevTenant) -> String {
    t.base().trim_start_matches("http://").to_owned()
}

/// One raw HTTP/1.1 exchange on a fresh connection; returns what the server sent (bounded).
async fn raw(t: &DevTenant, request: String) -> String {
    let mut s = tokio::net::TcpStream::connect(authority_host(t))
        .await
        .unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    // Until the server closes, or the head and a JSON body have arrived.
    for _ in 0..64 {
        match tokio::time::timeout(Duration::from_secs(30), s.read(&mut chunk)).await {
            Ok(Ok(0)) | Err(_) | Ok(Err(_)) => break,
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
        }
        let text = String::from_utf8_lossy(&buf);
        if text.contains("\r\n\r\n") && text.trim_end().ends_with('}') {
            break;
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

#[tokio::test]
async fn control_refuses_cross_site_posts_origins_and_rebinding_hosts() {
    let t = DevTenant::start(&[]).await;
    let ctl = t.s("control_url");
    let issued_before = t.control_get("issued").await["sha256"]
        .as_array()
        .unwrap()
        .len();

    // What a web page can send without a preflight: a text/plain "simple" POST.
    for (path, body) in [
        ("auto-approve", json!({"username": "alice@contoso.example"})),
        ("sign", json!({"claims": {"sub": "x"}})),
    ] {
        let r = t
            .http
            .post(format!("{ctl}/{path}"))
            .header("content-type", "text/plain")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "{path}");
        assert!(r.json::<Value>().await.unwrap()["error"].is_string());
    }
    // A page's fetch with JSON carries its Origin.
    let r = t
        .http
        .post(format!("{ctl}/auto-approve"))
        .header("origin", "https://evil.example")
        .json(&json!({"username": "alice@contoso.example"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.json::<Value>().await.unwrap()["error"].is_string());
    // A rebinding page's requests name its own host.
    let port = t.base().rsplit(':').next().unwrap().to_owned();
    for req in [
        t.http.get(format!("{ctl}/state")),
        t.http
            .post(format!("{ctl}/auto-approve"))
            .json(&json!({"username": "alice@contoso.example"})),
    ] {
        let r = req
            .header("host", format!("evil.example:{port}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert!(r.json::<Value>().await.unwrap()["error"].is_string());
    }

    let state = t.control_get("state").await;
    assert_eq!(state["auto_approve"], Value::Null, "nothing was switched");
    let issued_after = t.control_get("issued").await["sha256"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(issued_before, issued_after, "nothing was minted");

    // The loopback names a local program uses are all accepted.
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        let r = t
            .http
            .get(format!("{ctl}/state"))
            .header("host", host.as_str())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{host}");
    }
}

#[tokio::test]
async fn control_token_when_asked_for_is_announced_and_required() {
    let t = DevTenant::start(&["--control-token"]).await;
    let token = t.s("control_token");
    assert!(token.len() >= 32);
    let r = t
        .http
        .post(format!("{}/auto-approve", t.s("control_url")))
        .json(&json!({"username": "alice@contoso.example"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = t
        .http
        .get(format!("{}/state", t.s("control_url")))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // The harness sends it, so sign-ins work as usual.
    t.api_tokens("alice").await;
}

#[cfg(unix)]
#[tokio::test]
async fn a_symlinked_or_world_writable_runtime_dir_is_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    let root = tempfile::tempdir().unwrap();
    let real = root.path().join("real");
    std::fs::create_dir(&real).unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o700)).unwrap();
    let link = root.path().join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let open = root.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let h = home();
    for (dir, why) in [(&link, "symbolic link"), (&open, "writable")] {
        let out = azobo(h.path())
            .args(["dev-tenant", "--listen", "127.0.0.1:0", "--runtime-dir"])
            .arg(dir)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(why), "{stderr}");
        assert!(out.stdout.is_empty());
    }
    assert_eq!(
        std::fs::read_dir(&real).unwrap().count(),
        0,
        "nothing was written through the link"
    );
    assert_eq!(std::fs::read_dir(&open).unwrap().count(), 0);
}

#[cfg(unix)]
#[tokio::test]
async fn runtime_files_end_0600_over_a_planted_0666_file_and_symlink() {
    use std::os::unix::fs::PermissionsExt as _;
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("rt");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let key = dir.join("api-client-key.pem");
    std::fs::write(&key, "planted").unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o666)).unwrap();
    let outside = root.path().join("outside.pem");
    std::fs::write(&outside, "untouched").unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("ca.pem")).unwrap();

    let t = DevTenant::start(&["--tls", "--runtime-dir", dir.to_str().unwrap()]).await;
    assert_eq!(t.s("api_client_key"), key.display().to_string());
    let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the planted file's 0666 did not survive");
    assert!(
        std::fs::read_to_string(&key)
            .unwrap()
            .contains("PRIVATE KEY")
    );
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "untouched");
    let ca = dir.join("ca.pem");
    assert!(!std::fs::symlink_metadata(&ca).unwrap().is_symlink());
    assert_eq!(
        std::fs::metadata(&ca).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // And the tenant serves over the CA it wrote.
    assert!(t.jwks().await["keys"].is_array());
}

#[tokio::test]
async fn clock_and_token_lifetime_overflows_are_400_and_the_tenant_keeps_working() {
    let t = DevTenant::start(&[]).await;
    let ctl = t.s("control_url");
    for (path, body) in [
        ("clock", json!({"advance_seconds": u64::MAX})),
        ("clock", json!({"advance_seconds": 200u64 * 365 * 86_400})),
        ("token-lifetime", json!({"seconds": u64::MAX})),
        ("token-lifetime", json!({"seconds": 86_401})),
        (
            "faults",
            json!({"target": "token", "status": 429, "retry_after": u64::MAX}),
        ),
    ] {
        let r = t
            .http
            .post(format!("{ctl}/{path}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{path} {body}");
        assert!(r.json::<Value>().await.unwrap()["error"].is_string());
    }
    let state = t.control_get("state").await;
    assert_eq!(state["token_lifetime"], Value::Null);
    assert_eq!(state["pending_token_faults"], 0);

    let before = t.api_tokens("alice").await;
    let c = crate::support::claims(before["access_token"].as_str().unwrap());
    assert!(c["exp"].as_u64().unwrap() > c["iat"].as_u64().unwrap());

    // After a legitimate advance, new codes are stamped on the same clock they are checked
    // against: a sign-in still works, and an old refresh token has aged.
    t.control("clock", json!({"advance_seconds": 3600})).await;
    t.api_tokens("alice").await;
    t.control("clock", json!({"advance_seconds": 91 * 86_400}))
        .await;
    let after = t.api_tokens("bob").await;
    assert!(after["access_token"].is_string());
    let (s, b) = t
        .token(&[
            ("client_id", &t.cli_id()),
            ("grant_type", "refresh_token"),
            ("refresh_token", before["refresh_token"].as_str().unwrap()),
            ("scope", &t.api_scope()),
        ])
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_aad_error(&b, "invalid_grant", 700082);
    t.control("token-lifetime", json!({"seconds": 86_400}))
        .await;
}

#[tokio::test]
async fn an_oversized_content_length_is_413_before_the_body_and_get_on_token_is_900561() {
    let t = DevTenant::start(&[]).await;
    let host = authority_host(&t);
    let tid = t.s("tenant_id");
    for path in [format!("/{tid}/oauth2/v2.0/token"), "/_dev/sign".to_owned()] {
        let resp = raw(
            &t,
            format!(
                "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: 1000000000000\r\n\r\n0123456789"
            ),
        )
        .await;
        assert!(resp.starts_with("HTTP/1.1 413"), "{path}: {resp}");
        assert!(resp.to_ascii_lowercase().contains("connection: close"));
    }

    let r = t.http.get(t.token_url()).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    assert_aad_error(&body, "invalid_request", 900561);
}

#[tokio::test]
async fn a_device_code_flood_is_capped_per_client_and_leaves_memory_bounded() {
    let t = DevTenant::start(&[]).await;
    let url = format!("{}/oauth2/v2.0/devicecode", t.authority());
    let cli = t.cli_id();
    // Warm up, then measure.
    let _ = t
        .http
        .post(&url)
        .form(&[("client_id", cli.as_str()), ("scope", ARM_SCOPE)])
        .send()
        .await
        .unwrap();
    let rss_before = rss_kib(t.pid());
    let total = 20_000usize;
    let workers = 32usize;
    let mut tasks = Vec::new();
    for w in 0..workers {
        let (http, url, cli) = (t.http.clone(), url.clone(), cli.clone());
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut throttled, mut other) = (0usize, 0usize, Vec::new());
            for _ in (w..total).step_by(workers) {
                let r = http
                    .post(&url)
                    .form(&[("client_id", cli.as_str()), ("scope", ARM_SCOPE)])
                    .send()
                    .await
                    .unwrap();
                match r.status() {
                    StatusCode::OK => ok += 1,
                    StatusCode::TOO_MANY_REQUESTS => {
                        assert!(r.headers().contains_key("retry-after"));
                        let b: Value = r.json().await.unwrap();
                        if b["error_codes"] == json!([90055]) {
                            throttled += 1;
                        } else {
                            other.push(b.to_string());
                        }
                    }
                    s => other.push(format!("{s}")),
                }
            }
            (ok, throttled, other)
        }));
    }
    let (mut ok, mut throttled) = (0, 0);
    for task in tasks {
        let (o, th, other) = task.await.unwrap();
        assert!(other.is_empty(), "unexpected answers: {other:?}");
        ok += o;
        throttled += th;
    }
    // One code went to the warm-up.
    assert_eq!(ok, 999, "outstanding device codes per client are capped");
    assert_eq!(throttled, total - 999);
    let grown = rss_kib(t.pid()).saturating_sub(rss_before);
    assert!(grown < 64 * 1024, "RSS grew by {grown} KiB");

    // Another client is not locked out by the flood.
    let (s, b) = {
        let r = t
            .http
            .post(&url)
            .form(&[("client_id", AZURE_CLI), ("scope", ARM_SCOPE)])
            .send()
            .await
            .unwrap();
        (r.status(), r.json::<Value>().await.unwrap())
    };
    assert_eq!(s, StatusCode::OK, "{b}");
    assert!(b["user_code"].is_string());
}

#[tokio::test]
async fn slow_bodies_cannot_starve_a_legitimate_request() {
    // Fewer slots than slow clients: without a deadline on bodies, every slot is held for as
    // long as the trickle goes on, and the legitimate request waits in the backlog for ever.
    let t = DevTenant::start(&["--max-connections", "256"]).await;
    let host = authority_host(&t);
    let tid = t.s("tenant_id");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut slow = Vec::new();
    for _ in 0..300 {
        let mut s = tokio::net::TcpStream::connect(&host).await.unwrap();
        let head = format!(
            "POST /{tid}/oauth2/v2.0/token HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
        );
        s.write_all(head.as_bytes()).await.unwrap();
        let stop = std::sync::Arc::clone(&stop);
        slow.push(tokio::spawn(async move {
            // A byte a second for at most 45 s; true when the server cut the connection first.
            for _ in 0..45 {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    return false;
                }
                if s.write_all(b"a").await.is_err() {
                    return true;
                }
                let mut buf = [0u8; 512];
                match tokio::time::timeout(Duration::from_secs(1), s.read(&mut buf)).await {
                    Ok(Ok(0) | Err(_)) => return true,
                    Ok(Ok(_)) => {
                        // The 408 answer; the close follows.
                        return true;
                    }
                    Err(_) => {}
                }
            }
            false
        }));
    }
    let legit = reqwest::Client::builder()
        .timeout(Duration::from_secs(40))
        .build()
        .unwrap();
    let r = legit
        .get(format!("{}/{tid}/discovery/v2.0/keys", t.base()))
        .send()
        .await
        .expect("the legitimate request was served while 300 bodies trickled");
    assert_eq!(r.status(), StatusCode::OK);
    // Wait for the slow clients' own verdicts before stopping them.
    let mut cut = 0;
    for task in slow {
        if task.await.unwrap() {
            cut += 1;
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(
        cut >= 256,
        "the server cut the slow bodies it had accepted ({cut} of 300)"
    );
}

async fn graph_token(t: &DevTenant) -> String {
    let b = t
        .sign_in_with(
            GRAPH_CLI_TOOLS,
            "alice",
            "openid offline_access https://graph.microsoft.com/Application.ReadWrite.All",
        )
        .await;
    b["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn state_dir_keeps_port_keys_sessions_and_graph_apps_across_a_restart() {
    if !Keyring::File.available() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let state = root.path().join("state");
    let state_arg = state.to_str().unwrap().to_owned();
    let args = ["--state-dir", state_arg.as_str()];

    let t = DevTenant::start(&args).await;
    let base = t.base();
    let secret = t.api_secret();
    let jwks = t.jwks().await;
    t.control("auto-approve", json!({"username": "alice@contoso.example"}))
        .await;
    let sh = Shell::new(&t, Keyring::File);
    sh.login();
    let raw_session = t.api_tokens("bob").await;
    let graph = graph_token(&t).await;
    let r = t
        .http
        .post(format!("{}/v1.0/applications", t.s("graph_url")))
        .bearer_auth(&graph)
        .json(&json!({"displayName": "kept across restarts"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let app: Value = r.json().await.unwrap();
    let app_object = app["id"].as_str().unwrap().to_owned();
    let status = t.terminate().await;
    assert!(status.success(), "{status:?}");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&state), 0o700);
        for entry in std::fs::read_dir(&state).unwrap() {
            let p = entry.unwrap().path();
            assert_eq!(mode(&p), 0o600, "{}", p.display());
        }
        let text = std::fs::read_to_string(state.join("state.json")).unwrap();
        assert!(
            !text.contains(raw_session["refresh_token"].as_str().unwrap()),
            "refresh tokens are kept by hash"
        );
    }

    let t = DevTenant::start(&args).await;
    assert_eq!(t.base(), base, "the same port");
    assert_eq!(t.api_secret(), secret, "the same API secret");
    assert_eq!(t.jwks().await, jwks, "the same signing keys");
    // A session made before the restart refreshes after it.
    let r = sh.run(&["token", "--force-refresh"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let (s, b) = t
        .token(&[
            ("client_id", &t.cli_id()),
            ("grant_type", "refresh_token"),
            (
                "refresh_token",
                raw_session["refresh_token"].as_str().unwrap(),
            ),
            ("scope", &t.api_scope()),
        ])
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    // The app registered through Graph is still there, and a token from before still calls.
    let r = t
        .http
        .get(format!(
            "{}/v1.0/applications/{app_object}",
            t.s("graph_url")
        ))
        .bearer_auth(&graph)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.json::<Value>().await.unwrap()["displayName"],
        "kept across restarts"
    );
    sh.assert_no_secrets(&t).await;
}
