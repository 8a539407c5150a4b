//! `azobo subscriptions` end to end: dev tenant + serve-api + a signed-in shell, every output
//! mode, and the exit-code matrix against real and deliberately broken APIs.

use axum::Json;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::support::{Api, DevTenant, Keyring, Shell, fake_api};

struct World {
    t: DevTenant,
    api: Api,
    sh: Shell,
}

async fn world(user: &str) -> World {
    let t = DevTenant::start(&["--auto-approve", &format!("{user}@contoso.example")]).await;
    let api = Api::start(&t, &[]).await;
    let mut sh = Shell::new(&t, Keyring::File);
    sh.set("AZOBO_API_URL", &api.url);
    sh.login();
    World { t, api, sh }
}

/// These shells keep their session in the plaintext file, which every use must name, once; and
/// nothing else may appear.
fn assert_only_the_plaintext_warning(stderr: &str) {
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with("warning: tokens are in a plaintext file, `")
            && lines[0].contains("default.tokens.json` (mode 0600)"),
        "{stderr}"
    );
}

fn sub(name: &str, id: &str, state: &str) -> Value {
    json!({"id": format!("/subscriptions/{id}"), "subscriptionId": id, "displayName": name, "state": state, "tenantId": "t-1", "extra": {"kept": true}})
}

#[tokio::test]
async fn table_tsv_and_json_for_a_user_with_four_subscriptions() {
    let w = world("alice").await;
    let table = w.sh.run(&["subscriptions"]);
    assert_eq!(table.code, Some(0), "{}", table.stderr);
    assert!(
        !table.stdout.contains('\u{1b}'),
        "no ANSI codes off a terminal"
    );
    assert!(table.stderr.contains("4 subscriptions"), "{}", table.stderr);
    insta::assert_snapshot!("alice_table", table.stdout);
    let tsv = w.sh.run(&["subscriptions", "-o", "tsv"]);
    insta::assert_snapshot!("alice_tsv", tsv.stdout);
    assert_only_the_plaintext_warning(&tsv.stderr);
    let json = w.sh.run(&["subscriptions", "--json"]);
    assert_eq!(json.stdout.lines().count(), 1, "compact off a terminal");
    let v: Value = serde_json::from_str(&json.stdout).unwrap();
    insta::assert_json_snapshot!("alice_json", v);
    assert_eq!(
        v[0]["subscriptionPolicies"]["quotaId"], "PayAsYouGo_2014-09-01",
        "all fields kept"
    );
    w.sh.assert_no_secrets(&w.t).await;
}

#[tokio::test]
async fn two_hundred_fifty_subscriptions_over_three_arm_pages() {
    let w = world("bob").await;
    let json = w.sh.run(&["subscriptions", "--json"]);
    assert_eq!(json.code, Some(0), "{}", json.stderr);
    let v: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 250);
    let tsv = w.sh.run(&["subscriptions", "-o", "tsv"]);
    assert_eq!(tsv.stdout.lines().count(), 250);
    let table = w.sh.run(&["subscriptions"]);
    assert_eq!(table.stdout.lines().count(), 251, "header + 250 rows");
    let names: Vec<&str> = table
        .stdout
        .lines()
        .skip(1)
        .map(|l| l.trim_start().split("  ").next().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_by_key(|n| n.to_lowercase());
    assert_eq!(names, sorted, "sorted by name");
}

#[tokio::test]
async fn a_user_with_none() {
    let w = world("carol").await;
    let table = w.sh.run(&["subscriptions"]);
    assert_eq!((table.code, table.stdout.as_str()), (Some(0), ""));
    assert!(table.stderr.contains("No subscriptions"));
    assert_eq!(w.sh.run(&["subscriptions", "--json"]).stdout, "[]\n");
    assert_eq!(w.sh.run(&["subscriptions", "-o", "tsv"]).stdout, "");
}

#[tokio::test]
async fn query_and_state_filters() {
    let w = world("alice").await;
    let r = w.sh.run(&["subscriptions", "--state", "ENABLED", "--json"]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    let r = w.sh.run(&[
        "subscriptions",
        "--query",
        "[?state=='Disabled'].displayName",
        "--json",
    ]);
    assert_eq!(r.stdout, "[\"Legacy Billing\"]\n");
    // The table shapes the query's result, as `az` does: a list of scalars is a Result column.
    let r = w.sh.run(&[
        "subscriptions",
        "--query",
        "[?state=='Disabled'].displayName",
    ]);
    assert_eq!(
        r.stdout.split_whitespace().collect::<Vec<_>>(),
        ["Result", "Legacy", "Billing"]
    );
    // A projection keeps the order it names, in JSON, YAML, the table and TSV.
    let q = "[?state=='Disabled'].{name: displayName, id: subscriptionId}";
    let json = w.sh.run(&["subscriptions", "--query", q, "--json"]).stdout;
    assert!(
        json.starts_with("[{\"name\":\"Legacy Billing\",\"id\":\""),
        "{json}"
    );
    let yaml =
        w.sh.run(&["subscriptions", "--query", q, "-o", "yaml"])
            .stdout;
    assert!(yaml.starts_with("- name: Legacy Billing\n  id: "), "{yaml}");
    let table = w.sh.run(&["subscriptions", "--query", q]).stdout;
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["Name", "Id"], "{table}");
    let tsv =
        w.sh.run(&["subscriptions", "--query", q, "-o", "tsv"])
            .stdout;
    assert!(tsv.starts_with("Legacy Billing\t"), "{tsv}");
    let none = w.sh.run(&["subscriptions", "-o", "none"]);
    assert_eq!((none.code, none.stdout.as_str()), (Some(0), ""));
    let r = w.sh.run(&[
        "subscriptions",
        "--query",
        "[].[displayName, state]",
        "-o",
        "tsv",
    ]);
    assert!(
        r.stdout.contains("Contoso Sandbox\tWarned\n"),
        "{}",
        r.stdout
    );
    let r =
        w.sh.run(&["subscriptions", "--query", "length(@)", "--json"]);
    assert_eq!(r.stdout, "4\n");
    w.sh.run(&["subscriptions", "--query", "[?"])
        .assert_fails(2, "--query");
}

#[tokio::test]
async fn no_color_and_no_ansi_when_piped() {
    let mut w = world("alice").await;
    w.sh.vars.retain(|(k, _)| k != "NO_COLOR");
    let r = w.sh.run(&["subscriptions"]);
    assert!(!r.stdout.contains('\u{1b}') && !r.stderr.contains('\u{1b}'));
    w.sh.set("NO_COLOR", "1");
    let r = w.sh.run(&["subscriptions"]);
    assert!(!r.stdout.contains('\u{1b}'));
    // CLICOLOR_FORCE asks for colour into a pipe (over NO_COLOR, as gh); `0` does not.
    w.sh.set("CLICOLOR_FORCE", "1");
    let r = w.sh.run(&["subscriptions"]);
    assert!(r.stdout.contains("\u{1b}["), "{:?}", r.stdout);
    w.sh.set("CLICOLOR_FORCE", "0");
    let r = w.sh.run(&["subscriptions"]);
    assert!(!r.stdout.contains('\u{1b}'));
}

// The fake API runs in this process while azobo runs synchronously: it needs its own worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_relaying_only_the_first_page_is_shown_with_a_warning() {
    let t = DevTenant::start(&["--auto-approve", "alice@contoso.example"]).await;
    let relay = fake_api(axum::Router::new().route(
        "/subscriptions",
        axum::routing::get(|| async { Json(json!({"value": [sub("First Page Only", "00000000-0000-0000-0000-000000000001", "Enabled")], "nextLink": "https://management.azure.com/subscriptions?$skiptoken=x"})) }),
    ))
    .await;
    let mut sh = Shell::new(&t, Keyring::File);
    sh.set("AZOBO_API_URL", &relay);
    sh.login();
    let r = sh.run(&["subscriptions", "--json"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v[0]["extra"]["kept"], true);
    assert!(
        r.stderr.contains("warning:") && r.stderr.contains("incomplete"),
        "{}",
        r.stderr
    );

    let bare = fake_api(axum::Router::new().route(
        "/subscriptions",
        axum::routing::get(|| async {
            Json(json!([sub(
                "Bare",
                "00000000-0000-0000-0000-000000000002",
                "Warned"
            )]))
        }),
    ))
    .await;
    let r = sh.run(&["subscriptions", "-o", "tsv", "--api-url", &bare]);
    assert_eq!(
        r.stdout,
        "Bare\t00000000-0000-0000-0000-000000000002\tWarned\tt-1\n"
    );
    assert_only_the_plaintext_warning(&r.stderr);
}

// The fake API runs in this process while azobo runs synchronously: it needs its own worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_code_matrix() {
    let w = world("alice").await;
    // 3: signed out.
    let mut out = Shell::new(&w.t, Keyring::File);
    out.set("AZOBO_API_URL", &w.api.url);
    out.run(&["subscriptions"]).assert_fails(3, "not signed in");
    // 5: nothing listening.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    w.sh.run(&[
        "subscriptions",
        "--api-url",
        &format!("http://127.0.0.1:{port}"),
    ])
    .assert_fails(5, "is `azobo serve-api` running?");
    // 5: a 5xx with the API's code and message (503 is retried first).
    let broken = fake_api(axum::Router::new().route(
        "/subscriptions",
        axum::routing::get(|| async {
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({"error": {"code": "Boom", "message": "the API fell over"}})),
            )
                .into_response()
        }),
    ))
    .await;
    w.sh.run(&["subscriptions", "--api-url", &broken])
        .assert_fails(5, "Boom: the API fell over");
    let unavailable = fake_api(axum::Router::new().route(
        "/subscriptions",
        axum::routing::get(|| async { StatusCode::SERVICE_UNAVAILABLE.into_response() }),
    ))
    .await;
    w.sh.run(&["subscriptions", "--api-url", &unavailable])
        .assert_fails(5, "503");
    // 1: not the expected JSON.
    let html = fake_api(axum::Router::new().route(
        "/subscriptions",
        axum::routing::get(|| async { "<html>hello</html>" }),
    ))
    .await;
    w.sh.run(&["subscriptions", "--api-url", &html])
        .assert_fails(1, &format!("{html}/subscriptions answered 200 OK"));
    // 3: the API keeps saying invalid_token, even after one refresh.
    let refusing = fake_api(axum::Router::new().route(
        "/subscriptions",
        axum::routing::get(|| async {
            (
                StatusCode::UNAUTHORIZED,
                [("www-authenticate", "Bearer error=\"invalid_token\"")],
                Json(json!({"error": {"code": "invalid_token", "message": "nope"}})),
            )
                .into_response()
        }),
    ))
    .await;
    let before =
        w.t.requests()
            .await
            .iter()
            .filter(|e| e["grant_type"] == "refresh_token")
            .count();
    w.sh.run(&["subscriptions", "--api-url", &refusing])
        .assert_fails(3, "after a refresh");
    let after =
        w.t.requests()
            .await
            .iter()
            .filter(|e| e["grant_type"] == "refresh_token")
            .count();
    assert_eq!(after, before + 1, "exactly one refresh before giving up");
    // 4: the API's 403 (consent missing at the identity platform).
    w.t.control("consent", json!({"granted": false})).await;
    let r = w.sh.run(&["subscriptions"]);
    r.assert_fails(4, "consent_required");
    w.sh.assert_no_secrets(&w.t).await;
}

#[tokio::test]
async fn azobo_token_is_used_without_a_session() {
    let t = DevTenant::start(&["--auto-approve", "alice@contoso.example"]).await;
    let api = Api::start(&t, &[]).await;
    let token = t.api_tokens("alice").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut sh = Shell::new(&t, Keyring::File);
    sh.set("AZOBO_API_URL", &api.url);
    sh.set("AZOBO_TOKEN", &token);
    let r = sh.run(&["subscriptions", "-o", "tsv"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 4);
    sh.set("AZOBO_TOKEN", "not-a-token");
    sh.run(&["subscriptions"]).assert_fails(3, "AZOBO_TOKEN");
}

#[tokio::test]
async fn mfa_challenge_fails_non_interactively_and_is_answered_at_a_terminal() {
    let w = world("dave").await;
    let r = w.sh.run(&["subscriptions"]);
    r.assert_fails(3, "the API needs a new sign-in");
    assert!(
        r.stderr
            .contains("hint: at a terminal, run `azobo login --claims-b64 "),
        "{}",
        r.stderr
    );
    // At a terminal (under `script`, which gives azobo a pty) the CLI signs in again with the
    // claims through the scripted browser, and the retry succeeds.
    let mut cmd = w.sh.cmd(&[]);
    cmd.env_remove("CI");
    let program = format!("{} subscriptions -o tsv", crate::support::bin());
    let out = std::process::Command::new("script")
        .args(["-qec", &program, "/dev/null"])
        .envs(
            w.sh.vars
                .iter()
                .filter(|(k, _)| k != "CI")
                .map(|(k, v)| (k.clone(), v.clone())),
        )
        .env("HOME", w.sh.home.path())
        .env("XDG_CONFIG_HOME", w.sh.home.path().join(".config"))
        .env("XDG_DATA_HOME", w.sh.home.path().join(".local/share"))
        .env("NO_COLOR", "1")
        .env_remove("CI")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    drop(cmd);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("the API needs you to sign in again"),
        "{text}"
    );
    assert!(text.contains("Secure Workloads\t"), "{text}");
    let authorizes =
        w.t.requests()
            .await
            .iter()
            .filter(|e| {
                e["path"]
                    .as_str()
                    .is_some_and(|p| p.ends_with("/authorize"))
            })
            .count();
    assert_eq!(authorizes, 2, "the first sign-in and the one with claims");
}

/// Rows as a hostile or merely untidy API may send them: escape sequences, a bell, a newline and
/// a tab in names, one long name, and two tenants.
fn untidy_rows() -> Value {
    let mut long = sub(
        "A subscription whose display name goes on and on well past any column",
        "11111111-2222-3333-4444-555555555555",
        "Enabled",
    );
    long["tenantId"] = json!("99999999-8888-7777-6666-555555555555");
    json!({"value": [
        sub("\u{1b}[31mRed\u{1b}[0m team\u{7}", "00000000-0000-0000-0000-00000000000a", "Enabled"),
        sub("line one\nline two\tand a tab", "00000000-0000-0000-0000-00000000000b", "Warned"),
        long,
    ]})
}

/// Tables at a terminal: GUIDs are never broken across lines whatever the width (`COLUMNS` wins
/// over the terminal's own; a terminal that reports no width gets the table unwrapped, not a
/// column per character), nothing from the API reaches the terminal as a control character,
/// and TSV keeps one record per line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_keep_guids_whole_at_any_width_and_strip_control_characters() {
    let t = DevTenant::start(&[]).await;
    let api = fake_api(axum::Router::new().route(
        "/subscriptions",
        axum::routing::get(|| async { Json(untidy_rows()) }),
    ))
    .await;
    let mut sh = Shell::new(&t, Keyring::File);
    sh.set("AZOBO_API_URL", &api);
    sh.set("AZOBO_TOKEN", "opaque-test-token");
    let guids = [
        "00000000-0000-0000-0000-00000000000a",
        "00000000-0000-0000-0000-00000000000b",
        "11111111-2222-3333-4444-555555555555",
    ];
    let other_tenant = "99999999-8888-7777-6666-555555555555";
    for columns in ["60", "80", "120", ""] {
        let extra: Vec<(&str, &str)> = if columns.is_empty() {
            vec![]
        } else {
            vec![("COLUMNS", columns)]
        };
        let (code, screen) = crate::support::at_terminal(&sh, &["subscriptions"], &extra);
        assert_eq!(code, Some(0), "{screen}");
        for g in guids {
            assert!(
                screen.contains(g),
                "COLUMNS={columns}: {g} broken in\n{screen}"
            );
        }
        // Two tenants need a second GUID column: shown whole where it fits, else left out and said.
        // A terminal that reports no width (the pty here has none) is taken as 80 columns.
        if matches!(columns, "60" | "80" | "") {
            assert!(screen.contains("does not fit"), "{screen}");
            assert!(!screen.contains("99999999"), "{screen}");
        } else {
            assert!(
                screen.contains(other_tenant),
                "COLUMNS={columns}:\n{screen}"
            );
        }
        assert!(
            !screen.contains('\u{1b}') && !screen.contains('\u{7}'),
            "COLUMNS={columns}: control characters reached the terminal:\n{screen:?}"
        );
        let table: Vec<&str> = screen
            .lines()
            .filter(|l| l.starts_with(['┌', '│', '├', '└', '╞', '╘', '╭', '║']))
            .collect();
        assert!(
            !table.is_empty() && table.len() <= 40,
            "COLUMNS={columns}: {} table lines\n{screen}",
            table.len()
        );
        if let Ok(width) = columns.parse::<usize>() {
            for l in &table {
                assert!(
                    l.trim_end().chars().count() <= width,
                    "COLUMNS={columns}: {} wide: {l}",
                    l.trim_end().chars().count()
                );
            }
        }
    }
    let r = sh.run(&["subscriptions", "-o", "tsv"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let records: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(records.len(), 3, "{:?}", r.stdout);
    for rec in records {
        assert_eq!(rec.matches('\t').count(), 3, "{rec:?}");
        assert!(!rec.contains('\u{1b}') && !rec.contains('\u{7}'), "{rec:?}");
    }
}

/// Rows that are not subscriptions (an object without `subscriptionId`, a string, `null`) are a
/// clear failure, not blank rows in a table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_that_are_not_subscriptions_are_refused() {
    let t = DevTenant::start(&[]).await;
    let api = fake_api(axum::Router::new().route(
        "/subscriptions",
        axum::routing::get(|| async {
            Json(json!({"value": [
                sub("Real", "00000000-0000-0000-0000-00000000000c", "Enabled"),
                {"foo": 1}, "str", null
            ]}))
        }),
    ))
    .await;
    let mut sh = Shell::new(&t, Keyring::File);
    sh.set("AZOBO_API_URL", &api);
    sh.set("AZOBO_TOKEN", "opaque-test-token");
    for args in [vec!["subscriptions"], vec!["subscriptions", "--json"]] {
        let r = sh.run(&args);
        r.assert_fails(1, "item 2 is not a subscription");
        assert!(r.stdout.is_empty(), "{}", r.stdout);
    }
}
