//! The checked-in completions and man page are what the binary generates, and every command's
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

#[test]
fn checked_in_man_page_is_current() {
    let on_disk = std::fs::read_to_string(repo_root().join("man/azobo.1")).unwrap();
    assert!(
        on_disk == generated(&["man"]),
        "man/azobo.1 is stale: run scripts/generate.sh"
    );
    assert!(on_disk.contains(".SH NAME") && on_disk.contains("subscriptions"));
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
