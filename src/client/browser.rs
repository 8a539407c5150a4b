//! Opening the sign-in page: `AZOBO_BROWSER` or `BROWSER` (a command; the URL is appended as
//! its last argument), WSL's `wslview` or PowerShell, else the platform opener. On a Linux host
//! with no display, or over SSH without one, there is no browser to open: the caller switches to
//! the device code flow.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::config::Env;
use crate::env_vars;

/// Why no browser was opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoBrowser {
    /// Nothing to open one on (no display, SSH).
    Unavailable(String),
    /// A launcher was tried and failed.
    Failed(String),
}

impl std::fmt::Display for NoBrowser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoBrowser::Unavailable(m) | NoBrowser::Failed(m) => f.write_str(m),
        }
    }
}

/// The browser command the user named explicitly, if any: `AZOBO_BROWSER` wins over `BROWSER`.
pub fn explicit_command(env: &Env) -> Option<(&'static str, String)> {
    env.get(env_vars::AZOBO_BROWSER)
        .map(|c| (env_vars::AZOBO_BROWSER, c.to_owned()))
        .or_else(|| {
            env.get(env_vars::BROWSER)
                .map(|c| (env_vars::BROWSER, c.to_owned()))
        })
}

fn is_wsl(env: &Env) -> bool {
    env.get("WSL_DISTRO_NAME").is_some()
        || std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .is_ok_and(|s| s.to_ascii_lowercase().contains("microsoft"))
}

/// Runs `program args… url` detached; a launcher that exits non-zero within 2 s has failed.
fn spawn(program: &str, args: &[String], url: &str) -> Result<(), String> {
    let mut child = Command::new(program)
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run `{program}`: {e}"))?;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(2) {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => return Err(format!("`{program}` exited with {status}")),
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("waiting for `{program}`: {e}")),
        }
    }
    // Still running: a browser that stays in the foreground. It has the URL; leave it be.
    Ok(())
}

/// Opens `url`; on success returns how.
pub fn open(url: &str, env: &Env) -> Result<String, NoBrowser> {
    if let Some((var, command)) = explicit_command(env) {
        let words = shell_words::split(&command)
            .map_err(|e| NoBrowser::Failed(format!("`{var}` is not a valid command line: {e}")))?;
        let (program, args) = words
            .split_first()
            .ok_or_else(|| NoBrowser::Failed(format!("`{var}` is empty")))?;
        return spawn(program, args, url)
            .map(|()| format!("`{var}`"))
            .map_err(NoBrowser::Failed);
    }
    if cfg!(target_os = "linux") && is_wsl(env) {
        return spawn("wslview", &[], url)
            .or_else(|_| {
                spawn(
                    "powershell.exe",
                    &[
                        "-NoProfile".into(),
                        "-Command".into(),
                        "Start-Process".into(),
                    ],
                    url,
                )
            })
            .map(|()| "the Windows browser".to_owned())
            .map_err(|e| {
                NoBrowser::Failed(format!(
                    "neither wslview nor powershell.exe could open it ({e})"
                ))
            });
    }
    if cfg!(all(unix, not(target_os = "macos")))
        && env.get("DISPLAY").is_none()
        && env.get("WAYLAND_DISPLAY").is_none()
    {
        let why = if env.get("SSH_CONNECTION").is_some() || env.get("SSH_TTY").is_some() {
            "this is an SSH session without a display"
        } else {
            "there is no display (DISPLAY and WAYLAND_DISPLAY are unset)"
        };
        return Err(NoBrowser::Unavailable(why.to_owned()));
    }
    open::that_detached(url)
        .map(|()| "the default browser".to_owned())
        .map_err(|e| NoBrowser::Failed(format!("the default browser could not be started: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn azobo_browser_wins_over_browser() {
        let env = Env::from_pairs([("BROWSER", "firefox"), ("AZOBO_BROWSER", "true")]);
        assert_eq!(explicit_command(&env).unwrap().0, "AZOBO_BROWSER");
        assert_eq!(open("http://x", &env).unwrap(), "`AZOBO_BROWSER`");
    }

    #[test]
    fn a_failing_or_missing_launcher_is_reported() {
        let env = Env::from_pairs([("AZOBO_BROWSER", "false")]);
        assert!(matches!(open("http://x", &env), Err(NoBrowser::Failed(_))));
        let env = Env::from_pairs([("BROWSER", "/nonexistent/browser --new-window")]);
        assert!(
            matches!(open("http://x", &env), Err(NoBrowser::Failed(m)) if m.contains("/nonexistent/browser"))
        );
    }

    #[test]
    fn no_display_means_no_browser_on_linux() {
        if cfg!(target_os = "linux") && !is_wsl(&Env::default()) {
            let env = Env::from_pairs([("SSH_CONNECTION", "1.2.3.4 5 6.7.8.9 22")]);
            assert!(
                matches!(open("http://x", &env), Err(NoBrowser::Unavailable(m)) if m.contains("SSH"))
            );
        }
    }
}
