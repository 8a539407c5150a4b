//! The binary's contract: `config`, exit codes, stdout only for data.

use crate::support::{azobo, home};

#[test]
fn config_show_merges_file_and_env_and_names_sources() {
    let h = home();
    let dir = h.path().join(".config/azobo");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.toml"), "[profiles.default]\ntenant = \"contoso.onmicrosoft.com\"\n\n[profiles.gov]\ncloud = \"AzureUSGovernment\"\n").unwrap();
    let out = azobo(h.path())
        .args(["config", "show", "-o", "tsv"])
        .env("AZOBO_API_URL", "http://[::1]:5000")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(s.contains("tenant\tcontoso.onmicrosoft.com\tfile\n"), "{s}");
    assert!(s.contains("api_url\thttp://[::1]:5000/\tenv\n"), "{s}");
    assert!(out.stderr.is_empty());

    let out = azobo(h.path())
        .args(["--profile", "gov", "config", "show", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["armUrl"], "https://management.usgovcloudapi.net/");
    assert_eq!(v["profile"], "gov");
    assert_eq!(v["sources"]["armUrl"], "default");
}

#[test]
fn broken_config_exits_2_naming_file_and_line_with_nothing_on_stdout() {
    let h = home();
    let cfg = h.path().join("bad.toml");
    std::fs::write(
        &cfg,
        "[profiles.default]\ntenant = \"ok\"\nauthority = \"http://login.example.com\"\n",
    )
    .unwrap();
    let out = azobo(h.path())
        .args(["config", "show"])
        .env("AZOBO_CONFIG", &cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(&format!("error: {}:3: `authority`:", cfg.display())),
        "{err}"
    );
    assert!(err.lines().count() <= 2, "one line plus a hint: {err}");

    let out = azobo(h.path())
        .args(["--profile", "prod", "config", "show"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "the default file is absent: only `default` exists implicitly"
    );
}

#[test]
fn missing_named_profile_and_explicit_missing_file_are_usage_errors() {
    let h = home();
    let cfg = h.path().join("c.toml");
    std::fs::write(&cfg, "[profiles.work]\ntenant = \"contoso.com\"\n").unwrap();
    let out = azobo(h.path())
        .args([
            "--config",
            cfg.to_str().unwrap(),
            "--profile",
            "prod",
            "config",
            "show",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no profile `prod`"));
    let out = azobo(h.path())
        .args(["--config", "/nonexistent/azobo.toml", "config", "show"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bad_flags_exit_2() {
    let h = home();
    let out = azobo(h.path())
        .args(["config", "show", "--output", "xml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let out = azobo(h.path()).args(["no-such-command"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn version_and_help_go_to_stdout() {
    let h = home();
    let out = azobo(h.path()).arg("--version").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("azobo {}\n", env!("CARGO_PKG_VERSION"))
    );
}

/// What comes from the user is bounded before it is used: a config that is a device or a
/// giant, a `--query` deep enough to overflow the parser's stack, a `--state` ARM has never
/// used. Each is a usage error (exit 2) with nothing on stdout, before any network call.
#[test]
fn unbounded_or_invalid_input_is_a_usage_error_before_anything_runs() {
    let h = home();
    let big = h.path().join("big.toml");
    std::fs::write(&big, format!("# {}\n", "x".repeat(2 * 1024 * 1024))).unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["--config".into(), "/dev/zero".into(), "status".into()],
            "not a regular file",
        ),
        (
            vec![
                "--config".into(),
                big.to_str().unwrap().into(),
                "status".into(),
            ],
            "larger than 1024 KiB",
        ),
        (
            vec![
                "subscriptions".into(),
                "--query".into(),
                format!("{}a{}", "[".repeat(15_000), "]".repeat(15_000)),
            ],
            "characters long",
        ),
        (
            vec![
                "subscriptions".into(),
                "--query".into(),
                format!("{}a{}", "[".repeat(100), "]".repeat(100)),
            ],
            "deeper than 32",
        ),
        (
            vec!["subscriptions".into(), "--state".into(), "bogus".into()],
            "PastDue",
        ),
    ];
    for (args, needle) in cases {
        let out = azobo(h.path())
            .args(&args)
            .env("AZOBO_API_URL", "http://127.0.0.1:9")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:.60?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:.60?}");
        assert!(stderr.contains(needle), "`{needle}` in: {stderr}");
    }
}

/// A script asking for JSON gets a document even when signed out, and the exit code still says
/// signed out; a person gets only the error line.
#[test]
fn status_json_signed_out_is_a_document_and_exit_3() {
    let h = home();
    let out = azobo(h.path())
        .args(["status", "--json"])
        .env("AZOBO_TENANT", "contoso.onmicrosoft.com")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["signedIn"], false, "{v}");
    assert_eq!(v["profile"], "default");
    assert!(v["account"].is_null());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not signed in"), "{stderr}");
    let out = azobo(h.path())
        .args(["status"])
        .env("AZOBO_TENANT", "contoso.onmicrosoft.com")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(out.stdout.is_empty());
}
