//! The checked-in completions and man pages are what the binary generates, and every command's
//! help has examples.

use crate::support::{azobo, home, repo_root};

fn generated(args: &[&str]) -> String {
    let h = home();
    let out = azobo(h.path()).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn checked_in_completions_are_current() {
    for (shell, file) in [
        ("bash", "azobo.bash"),
        ("zsh", "_azobo"),
        ("fish", "azobo.fish"),
        ("powershell", "_azobo.ps1"),
        ("elvish", "azobo.elv"),
    ] {
        let on_disk = std::fs::read_to_string(repo_root().join("completions").join(file)).unwrap();
        assert!(
            on_disk == generated(&["completions", shell]),
            "completions/{file} is stale: run scripts/generate.sh"
        );
    }
}

/// `man/` holds exactly the pages `azobo man --dir` writes, each as written: a stale page, a
/// missing one, or one for a command that is gone fails.
#[test]
fn checked_in_man_pages_are_current() {
    let h = home();
    let fresh = h.path().join("man");
    let listed = generated(&["man", "--dir", fresh.to_str().unwrap()]);
    let names = |dir: &std::path::Path| {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".1"))
            .collect();
        v.sort();
        v
    };
    let expected = names(&fresh);
    assert_eq!(
        listed.lines().count(),
        expected.len(),
        "`man --dir` lists what it wrote: {listed}"
    );
    assert!(expected.len() > 12, "{expected:?}");
    assert_eq!(
        names(&repo_root().join("man")),
        expected,
        "man/ has other pages than azobo writes: run scripts/generate.sh"
    );
    for name in &expected {
        let on_disk = std::fs::read_to_string(repo_root().join("man").join(name)).unwrap();
        assert!(
            on_disk == std::fs::read_to_string(fresh.join(name)).unwrap(),
            "man/{name} is stale: run scripts/generate.sh"
        );
    }
    // `azobo man` prints the top page, `azobo man config show` a nested one, as written.
    let top = std::fs::read_to_string(fresh.join("azobo.1")).unwrap();
    assert_eq!(generated(&["man"]), top);
    assert!(top.contains(".SH NAME") && top.contains("azobo\\-subscriptions"));
    assert_eq!(
        generated(&["man", "config", "show"]),
        std::fs::read_to_string(fresh.join("azobo-config-show.1")).unwrap()
    );
    let out = azobo(h.path()).args(["man", "no-such"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("azobo-login(1)"));
}

#[test]
fn every_command_has_examples_and_top_level_help_fits_a_screen() {
    for cmd in [
        "demo",
        "login",
        "subscriptions",
        "status",
        "token",
        "logout",
        "serve-api",
        "dev-tenant",
        "config",
        "completions",
        "man",
        "version",
    ] {
        let help = generated(&["help", cmd]);
        assert!(
            help.contains("Examples:"),
            "`azobo help {cmd}` has no examples"
        );
    }
    let top = generated(&["--help"]);
    assert!(
        top.lines().count() <= 40,
        "`azobo --help` is {} lines",
        top.lines().count()
    );
}
