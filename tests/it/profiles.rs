//! Profiles a user makes and moves: `config init/set/unset`, a session whose profile now points
//! elsewhere, hints that fit the profile and command, and `--debug`'s line per HTTP call.

use serde_json::Value;

use crate::support::{Api, DevTenant, Keyring, Shell};

#[tokio::test]
async fn config_init_from_the_dev_tenant_then_set_and_unset_keep_the_file_whole() {
    let t = DevTenant::start(&["--auto-approve", "alice@contoso.example"]).await;
    let api = Api::start(&t, &[]).await;
    let mut sh = Shell::new(&t, Keyring::File);
    // A user's own shell: no AZOBO_* profile variables, a file with a comment and a profile.
    for k in [
        "AZOBO_AUTHORITY",
        "AZOBO_TENANT",
        "AZOBO_CLIENT_ID",
        "AZOBO_API_SCOPE",
    ] {
        sh.vars.retain(|(name, _)| name != k);
    }
    let cfg = sh.home.path().join(".config/azobo/config.toml");
    std::fs::create_dir_all(cfg.parent().unwrap()).unwrap();
    std::fs::write(
        &cfg,
        "# mine\n[profiles.default]\ntenant = \"contoso.com\"\n",
    )
    .unwrap();
    let line = sh.home.path().join("tenant.json");
    std::fs::write(
        &line,
        format!("{}\n", serde_json::to_string(&t.info).unwrap()),
    )
    .unwrap();

    let r = sh.run(&[
        "--profile",
        "dev",
        "config",
        "init",
        "--from-dev-tenant",
        line.to_str().unwrap(),
        "--api-url",
        &api.url,
        "--json",
    ]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let shown: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(shown["profile"], "dev");
    assert_eq!(shown["tenant"], t.s("tenant_id"));
    assert_eq!(shown["sources"]["clientId"], "file");
    assert!(
        r.stderr.contains("azobo login --profile dev"),
        "{}",
        r.stderr
    );
    let text = std::fs::read_to_string(&cfg).unwrap();
    assert!(
        text.starts_with("# mine\n[profiles.default]\ntenant = \"contoso.com\"\n"),
        "{text}"
    );

    // Made once; a second init is refused unless forced.
    sh.run(&["--profile", "dev", "config", "init", "--tenant", "x"])
        .assert_fails(2, "already in");
    // A bad value never reaches the file.
    sh.run(&["--profile", "dev", "config", "set", "cloud", "Mars"])
        .assert_fails(2, "unknown cloud `Mars`");
    sh.run(&["--profile", "dev", "config", "set", "colour", "blue"])
        .assert_fails(2, "colour");
    assert_eq!(std::fs::read_to_string(&cfg).unwrap(), text);

    // The profile works in the next processes: sign in, list.
    assert_eq!(sh.run(&["--profile", "dev", "login"]).code, Some(0));
    let list = sh.run(&["--profile", "dev", "subscriptions", "--json"]);
    assert_eq!(list.code, Some(0), "{}", list.stderr);
    assert_eq!(
        serde_json::from_str::<Value>(&list.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        4
    );

    // unset falls back to the default; set puts a value back; comments survive both.
    let r = sh.run(&["--profile", "dev", "config", "unset", "api_url"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let tsv = sh
        .run(&["--profile", "dev", "config", "show", "-o", "tsv"])
        .stdout;
    assert!(
        tsv.contains("api_url\thttp://127.0.0.1:5000/\tdefault\n"),
        "{tsv}"
    );
    sh.run(&["--profile", "dev", "config", "set", "api_url", &api.url]);
    let text = std::fs::read_to_string(&cfg).unwrap();
    assert!(text.starts_with("# mine\n"), "{text}");
    assert!(
        text.contains(&format!("api_url = \"{}\"", api.url)),
        "{text}"
    );

    // From standard input, as a pipe from `azobo dev-tenant` gives it.
    let mut child = sh
        .cmd(&[
            "--profile",
            "piped",
            "config",
            "init",
            "--from-dev-tenant",
            "-",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "{}", serde_json::to_string(&t.info).unwrap()).unwrap();
        // The pipe stays open, as a running dev tenant's would: one line is enough.
        let status = child.wait().unwrap();
        assert!(status.success());
    }
    assert!(
        std::fs::read_to_string(&cfg)
            .unwrap()
            .contains("[profiles.piped]\nauthority = ")
    );
}

#[tokio::test]
async fn a_session_whose_profile_moved_is_not_used_and_the_hint_names_the_profile() {
    let t = DevTenant::start(&["--auto-approve", "alice@contoso.example"]).await;
    let mut sh = Shell::new(&t, Keyring::File);
    sh.set("AZOBO_PROFILE", "work");
    assert_eq!(sh.login().code, Some(0));
    assert_eq!(sh.run(&["token"]).code, Some(0));

    // The dev tenant "restarted" on another port: the profile now says so.
    sh.set("AZOBO_AUTHORITY", "http://127.0.0.1:9");
    for cmd in [&["token"][..], &["subscriptions"][..]] {
        let r = sh.run(cmd);
        r.assert_fails(3, "but the profile now points at http://127.0.0.1:9");
        assert!(
            r.stderr.contains("hint: run `azobo login --profile work`"),
            "{}",
            r.stderr
        );
    }
    let r = sh.run(&["status", "--json"]);
    assert_eq!(r.code, Some(3));
    let s: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(s["signedIn"], false);
    assert_eq!(
        s["authority"],
        t.base(),
        "status shows where the session is"
    );

    // Back where it was signed in: the session is used again, untouched.
    sh.set("AZOBO_AUTHORITY", &t.base());
    assert_eq!(sh.run(&["token"]).code, Some(0));
}

#[tokio::test]
async fn hints_never_loop_back_into_the_failed_command() {
    let t = DevTenant::start(&[]).await;
    let sh = Shell::new(&t, Keyring::File);
    // Signed out, default profile: the next step is `azobo login`, with nothing else.
    let r = sh.run(&["token"]);
    r.assert_fails(3, "not signed in");
    assert!(
        r.stderr.contains("hint: run `azobo login`\n"),
        "{}",
        r.stderr
    );
    // A usage error points at the command's own help.
    let r = sh.run(&["--query", "[?", "status"]);
    r.assert_fails(2, "--query");
    assert!(
        r.stderr.contains("see `azobo status --help`"),
        "{}",
        r.stderr
    );
    // `login` never tells the user to run `azobo login`.
    let r = sh.run(&["login", "--timeout", "1", "--no-browser"]);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(!r.stderr.contains("run `azobo login`"), "{}", r.stderr);
}

#[tokio::test]
async fn debug_prints_one_line_per_http_call_without_secrets() {
    let t = DevTenant::start(&["--auto-approve", "alice@contoso.example"]).await;
    let api = Api::start(&t, &[]).await;
    let mut sh = Shell::new(&t, Keyring::File);
    sh.set("AZOBO_API_URL", &api.url);
    assert_eq!(sh.login().code, Some(0));
    for (args, env) in [
        (&["--debug", "token", "--force-refresh"][..], None),
        (&["token", "--force-refresh"][..], Some("api")),
    ] {
        let mut cmd = sh.cmd(args);
        if let Some(v) = env {
            cmd.env("AZOBO_DEBUG", v);
        }
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        let line = stderr
            .lines()
            .find(|l| l.contains("POST ") && l.contains("/oauth2/v2.0/token"))
            .unwrap_or_else(|| panic!("no line for the token call: {stderr}"));
        assert!(line.contains("→ 200 OK in "), "{line}");
        assert!(line.contains("correlation id "), "{line}");
        let token = String::from_utf8_lossy(&out.stdout);
        assert!(!stderr.contains(token.trim()), "the token reached stderr");
    }
    let r = sh.run(&["--debug", "subscriptions"]);
    let line = r
        .stderr
        .lines()
        .find(|l| l.contains("GET ") && l.contains("/subscriptions"))
        .unwrap_or_else(|| panic!("no line for the API call: {}", r.stderr));
    assert!(line.contains("→ 200 OK"), "{line}");
    // Without the flag, none of it.
    let r = sh.run(&["subscriptions"]);
    assert!(!r.stderr.contains("GET "), "{}", r.stderr);
}
