//! Help, completion and version: global flags under "Inherited flags", environment variables
//! without their values, completion candidates from the config file, `azobo version`.

use std::path::Path;

use crate::support::{azobo, home};

fn stdout_of(cmd: &mut std::process::Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn help(h: &Path, args: &[&str]) -> String {
    stdout_of(azobo(h).args(args).env("COLUMNS", "100"))
}

#[test]
fn top_level_help_lists_global_options_and_commands() {
    let h = home();
    insta::assert_snapshot!("help_top", help(h.path(), &["--help"]));
}

#[test]
fn command_help_lists_global_flags_as_inherited() {
    let h = home();
    let text = help(h.path(), &["login", "--help"]);
    insta::assert_snapshot!("help_login", text);
    let (own, inherited) = text.split_once("Inherited flags:").unwrap();
    assert!(own.contains("--tenant") && own.contains("--help"));
    assert!(!own.contains("--profile") && !own.contains("--json"));
    assert!(inherited.contains("--profile") && inherited.contains("--output"));
    // Nested commands inherit them too, and `azobo help X` is the same text.
    let nested = help(h.path(), &["config", "show", "--help"]);
    assert!(nested.contains("Inherited flags:") && nested.contains("--profile"));
    assert_eq!(help(h.path(), &["help", "login"]), text);
}

/// clap prints `[env: NAME=value]` for a variable that is set, and `[env: NAME=]` for one that is
/// not: neither appears, whatever the environment holds, and serve-api says its defaults.
#[test]
fn serve_api_help_names_variables_without_values_and_shows_defaults() {
    let h = home();
    let unset = help(h.path(), &["serve-api", "--help"]);
    insta::assert_snapshot!("help_serve_api", unset);
    let set = stdout_of(
        azobo(h.path())
            .args(["serve-api", "--help"])
            .env("COLUMNS", "100")
            .env("AZOBO_API_TOKEN_CACHE", "rediss://:hunter2@cache:6380")
            .env("AZOBO_API_CLIENT_SECRET_FILE", "/run/secrets/hunter2")
            .env("AZOBO_API_LISTEN", ""),
    );
    assert_eq!(set, unset, "the environment does not change the help");
    assert!(!set.contains("hunter2"));
    assert!(!set.contains("=]"), "{set}");
    assert!(set.contains("[default: 127.0.0.1:5000]"));
    assert!(set.contains("[env: AZOBO_API_LISTEN]"));
}

/// Runs azobo in bash completion mode for `words` (the last is the word being completed), in
/// `dir`, and returns the candidates.
fn complete(h: &Path, dir: &Path, words: &[&str], env: &[(&str, &str)]) -> Vec<String> {
    let mut cmd = azobo(h);
    cmd.current_dir(dir)
        .env("COMPLETE", "bash")
        .env("_CLAP_IFS", "\n")
        .env("_CLAP_COMPLETE_INDEX", (words.len() - 1).to_string())
        .arg("--")
        .args(words);
    for (k, v) in env {
        cmd.env(k, v);
    }
    stdout_of(&mut cmd).lines().map(str::to_owned).collect()
}

#[test]
fn completion_offers_profiles_from_the_config_file_and_fixed_values_not_files() {
    let h = home();
    let work = h.path().join("cwd");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(work.join("notes.txt"), "").unwrap();
    let cfg = h.path().join("azobo.toml");
    std::fs::write(
        &cfg,
        "[profiles.work]\ntenant = \"contoso.com\"\n\n[profiles.gov]\ncloud = \"AzureUSGovernment\"\n",
    )
    .unwrap();
    let cfg = cfg.to_str().unwrap();

    let env = [("AZOBO_CONFIG", cfg)];
    let got = complete(h.path(), &work, &["azobo", "--profile", ""], &env);
    assert_eq!(got, ["default", "gov", "work"]);
    let got = complete(
        h.path(),
        &work,
        &["azobo", "status", "--profile", "w"],
        &env,
    );
    assert_eq!(got, ["work"]);
    // `--config` on the line being completed wins over AZOBO_CONFIG, as it will when it runs.
    let got = complete(
        h.path(),
        &work,
        &["azobo", "--config", cfg, "login", "--profile", ""],
        &[("AZOBO_CONFIG", "/nonexistent.toml")],
    );
    assert_eq!(got, ["default", "gov", "work"]);
    // The default file, under XDG_CONFIG_HOME.
    let dir = h.path().join(".config/azobo");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.toml"), "[profiles.home]\n").unwrap();
    let got = complete(h.path(), &work, &["azobo", "--profile", ""], &[]);
    assert_eq!(got, ["default", "home"]);
    // A config that is not a regular file offers `default`, quietly.
    let got = complete(
        h.path(),
        &work,
        &["azobo", "--profile", ""],
        &[("AZOBO_CONFIG", "/dev/zero")],
    );
    assert_eq!(got, ["default"]);

    let got = complete(
        h.path(),
        &work,
        &["azobo", "subscriptions", "--state", ""],
        &[],
    );
    assert_eq!(got, ["Enabled", "Warned", "PastDue", "Disabled", "Deleted"]);
    // Parsed ignoring case, so completed ignoring case.
    let got = complete(
        h.path(),
        &work,
        &["azobo", "subscriptions", "--state", "d"],
        &[],
    );
    assert_eq!(got, ["Disabled", "Deleted"]);
    let got = complete(h.path(), &work, &["azobo", "version", "-o", ""], &[]);
    assert_eq!(got, ["table", "json", "yaml", "tsv", "none"]);
    for words in [
        &["azobo", "--profile", ""][..],
        &["azobo", "subscriptions", "--state", ""],
        &["azobo", "-o", ""],
    ] {
        let got = complete(h.path(), &work, words, &env);
        assert!(
            !got.iter().any(|c| c.contains("notes")),
            "{words:?}: {got:?}"
        );
    }
    // Paths are still completed where a path goes.
    let got = complete(h.path(), &work, &["azobo", "--config", "no"], &[]);
    assert_eq!(got, ["notes.txt"]);
}

#[test]
fn completions_command_prints_the_script_completion_mode_prints() {
    let h = home();
    let script = stdout_of(azobo(h.path()).args(["completions", "bash"]));
    assert!(script.contains("COMPLETE=\"bash\""), "{script}");
    // `COMPLETE=bash azobo` registers the binary it was run as; the command, `azobo` on PATH.
    let registered = stdout_of(
        azobo(h.path())
            .env("COMPLETE", "bash")
            .current_dir(h.path()),
    );
    assert_eq!(registered.replace(crate::support::bin(), "azobo"), script);
}

#[test]
fn version_reports_commit_target_and_build_date() {
    let h = home();
    let v: serde_json::Value =
        serde_json::from_str(&stdout_of(azobo(h.path()).args(["version", "--json"]))).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "version",
            "commit",
            "commitDate",
            "buildDate",
            "target",
            "rustc"
        ]
    );
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    assert!(v["target"].as_str().unwrap().contains("-"), "{v}");
    assert_eq!(v["buildDate"].as_str().unwrap().len(), 10, "{v}");
    // Built from this checkout: the commit is git's (a source tarball would say null).
    if let Some(head) = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(crate::support::repo_root())
        .output()
        .ok()
        .filter(|o| o.status.success())
    {
        let head = String::from_utf8(head.stdout).unwrap();
        let commit = v["commit"].as_str().unwrap();
        assert_eq!(commit.len(), 12);
        assert!(head.starts_with(commit), "{commit} vs {head}");
    }
    let tsv = stdout_of(azobo(h.path()).args(["version", "-o", "tsv"]));
    assert!(
        tsv.starts_with(&format!("version\t{}\n", env!("CARGO_PKG_VERSION"))),
        "{tsv}"
    );
    assert_eq!(tsv.lines().count(), 6);
    let table = stdout_of(azobo(h.path()).arg("version"));
    assert!(table.contains("buildDate") && table.contains(v["target"].as_str().unwrap()));
    // `--version` stays one short line.
    assert_eq!(
        stdout_of(azobo(h.path()).arg("--version")),
        format!("azobo {}\n", env!("CARGO_PKG_VERSION"))
    );
}

/// Every command's help, as a user reads it: a change to any flag or text shows up in review.
#[test]
fn every_command_help_is_snapshotted() {
    let h = home();
    for cmd in [
        &["demo"][..],
        &["setup"],
        &["subscriptions"],
        &["status"],
        &["token"],
        &["logout"],
        &["dev-tenant"],
        &["config"],
        &["config", "init"],
        &["config", "set"],
        &["completions"],
        &["man"],
        &["version"],
    ] {
        let mut args = cmd.to_vec();
        args.push("--help");
        let text = help(h.path(), &args);
        assert!(text.contains("Inherited flags:"), "{cmd:?}: {text}");
        insta::assert_snapshot!(format!("help_{}", cmd.join("_").replace('-', "_")), text);
    }
}
