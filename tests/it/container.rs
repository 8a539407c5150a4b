//! Where people run azobo without a desktop: a container, a CI runner, `docker exec`, cron, an
//! SSH login. There is no Secret Service, no D-Bus session and no session keyring of their own.
//!
//! scripts/test.sh runs this module *outside* `keyctl session` and without D-Bus, as such a
//! process tree is; each round also runs every command in a brand-new session keyring of its own
//! (`keyctl session -`), as separate `docker exec`s or CI steps are. The promise checked: login
//! either fails closed before any sign-in starts, or the session it reports works in the next
//! process. Never "signed in" and then "not signed in".

use serde_json::Value;

use crate::support::{DevTenant, Keyring, Run, Shell, device_login_as, in_ci, sign_ins_started};

/// A user's shell in a container: the automatic keyring choice and no D-Bus session bus.
fn container_shell(t: &DevTenant) -> Shell {
    let mut sh = Shell::new(t, Keyring::File);
    sh.vars
        .retain(|(k, _)| k != "AZOBO_TOKEN_STORE" && k != "AZOBO_KEYRING");
    sh
}

/// Removes the D-Bus address from a command's environment (the shell's vars cannot unset).
fn without_dbus(mut cmd: std::process::Command) -> std::process::Command {
    cmd.env_remove("DBUS_SESSION_BUS_ADDRESS");
    cmd
}

fn run(sh: &Shell, wrapper: &[&str], args: &[&str]) -> Run {
    let out = without_dbus(sh.cmd_via(wrapper, args))
        .output()
        .expect("run azobo");
    let r = Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    sh.record(args, &r);
    r
}

/// Whether this machine lets a process use the kernel keyring at all (a container's seccomp
/// profile may not).
fn kernel_keyring_usable() -> bool {
    std::process::Command::new("keyctl")
        .args(["get_persistent", "@t"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn keyctl_present() {
    let ok = std::process::Command::new("keyctl")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "keyctl (Debian package keyutils) is needed: run the tests through scripts/test.sh"
    );
}

/// Signs in (round 0 with the browser, round 1 with a device code); returns the run.
async fn sign_in(t: &DevTenant, sh: &Shell, wrapper: &[&str], round: usize) -> Run {
    if round == 0 {
        return run(sh, wrapper, &["login"]);
    }
    let cmd = without_dbus(sh.cmd_via(wrapper, &["login", "--device-code"]));
    device_login_as(t, sh, cmd, "bob@contoso.example").await
}

async fn two_rounds(wrapper: &[&str]) {
    keyctl_present();
    let t = DevTenant::start(&["--auto-approve", "alice@contoso.example"]).await;
    let must_work = kernel_keyring_usable();
    for round in 0..2 {
        // A fresh HOME each round, as a new container or runner has.
        let sh = container_shell(&t);
        let started = sign_ins_started(&t).await;
        let login = sign_in(&t, &sh, wrapper, round).await;
        let user = ["alice", "bob"][round];
        match login.code {
            Some(0) => {
                assert!(
                    login.stderr.contains("Signed in as"),
                    "round {round}: {}",
                    login.stderr
                );
                // Every command below is a process of its own, started after login exited.
                let status = run(&sh, wrapper, &["status", "--json"]);
                assert_eq!(
                    status.code,
                    Some(0),
                    "round {round}: login said signed in, the next process says: {}",
                    status.stderr
                );
                let s: Value = serde_json::from_str(&status.stdout).unwrap();
                assert_eq!(s["account"]["username"], format!("{user}@contoso.example"));
                let token = run(&sh, wrapper, &["token"]);
                assert_eq!(token.code, Some(0), "round {round}: {}", token.stderr);
                assert_eq!(token.stdout.lines().count(), 1);
                let forced = run(&sh, wrapper, &["token", "--force-refresh"]);
                assert_eq!(forced.code, Some(0), "round {round}: {}", forced.stderr);
                assert_ne!(forced.stdout, token.stdout, "a refreshed token");
                assert_eq!(run(&sh, wrapper, &["logout"]).code, Some(0));
                run(&sh, wrapper, &["status"]).assert_fails(3, "not signed in");
            }
            Some(1) if !must_work => {
                // Failing closed: nothing was started at the identity platform.
                assert!(
                    login.stderr.contains("--insecure-storage"),
                    "{}",
                    login.stderr
                );
                assert_eq!(sign_ins_started(&t).await, started, "no sign-in started");
                assert!(!sh.sessions().join("default.json").exists());
            }
            other => panic!(
                "round {round}: login exited {other:?} on a machine whose kernel keyring works: {}",
                login.stderr
            ),
        }
        sh.assert_no_secrets(&t).await;
    }
}

#[tokio::test]
async fn container_sessions_work_in_the_next_process() {
    two_rounds(&[]).await;
}

#[tokio::test]
async fn container_sessions_work_when_every_command_has_its_own_session_keyring() {
    two_rounds(&["keyctl", "session", "-"]).await;
}

/// The kernel keyring's persistent keyring, as seen from a throwaway session keyring: runs
/// `script` in `sh -c` with `$p` set to its id.
fn in_persistent_keyring(script: &str) -> std::process::Output {
    std::process::Command::new("keyctl")
        .args(["session", "-", "sh", "-c"])
        .arg(format!("p=$(keyctl get_persistent @s) || exit 9; {script}"))
        .output()
        .unwrap()
}

#[tokio::test]
async fn container_login_replaces_a_stale_key_and_logout_with_damaged_metadata_removes_it() {
    keyctl_present();
    if !kernel_keyring_usable() {
        assert!(!in_ci(), "the kernel keyring is not usable in this CI run");
        eprintln!("skipping: this machine does not let processes use the kernel keyring");
        return;
    }
    let t = DevTenant::start(&["--auto-approve", "alice@contoso.example"]).await;
    let sh = container_shell(&t);
    // With no session yet, login writes the first of the profile's two entries.
    let [entry, _] = azobo::store::Store::new(&sh.sessions(), "default")
        .unwrap()
        .key_entries();
    let desc = format!("azobo:{entry}");
    let legacy = "keyring:token-cache-key:default@azobo";
    // An earlier session's leftovers: a key of the same name with junk in it and the kernel's
    // default permissions (possessor only), and the key name an earlier release used.
    let planted = in_persistent_keyring(&format!(
        "k=$(echo stale | keyctl padd user '{desc}' $p) && keyctl setperm $k 0x3f010000 && echo old | keyctl padd user '{legacy}' $p"
    ));
    assert!(
        planted.status.success(),
        "{}",
        String::from_utf8_lossy(&planted.stderr)
    );

    let login = run(&sh, &[], &["login"]);
    assert_eq!(login.code, Some(0), "{}", login.stderr);
    let status = run(&sh, &["keyctl", "session", "-"], &["status"]);
    assert_eq!(status.code, Some(0), "{}", status.stderr);
    let gone = in_persistent_keyring(&format!("keyctl search $p user '{legacy}'"));
    assert!(!gone.status.success(), "the old release's key was removed");

    std::fs::write(sh.sessions().join("default.json"), b"{ damaged").unwrap();
    let logout = run(&sh, &[], &["logout"]);
    assert_eq!(logout.code, Some(0), "{}", logout.stderr);
    assert!(
        logout
            .stderr
            .contains("the token-cache key in the kernel keyring"),
        "{}",
        logout.stderr
    );
    assert!(
        logout.stderr.contains("damaged account metadata"),
        "{}",
        logout.stderr
    );
    let left = in_persistent_keyring(&format!("keyctl search $p user '{desc}'"));
    assert!(!left.status.success(), "logout removed the key");
    assert!(!sh.sessions().join("default.json").exists());
    assert!(!sh.sessions().join("default.cache").exists());
}
