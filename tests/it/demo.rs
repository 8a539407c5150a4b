//! `azobo demo --auto`: the whole story in one process, leaving the user's store alone.

use crate::support::{azobo, home};

#[test]
fn demo_auto_prints_the_dev_tenants_subscriptions_and_touches_no_session() {
    let h = home();
    let out = azobo(h.path())
        .args(["demo", "--auto"])
        .env("CI", "true")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    for name in [
        "Contoso Production",
        "Contoso Development",
        "Contoso Sandbox",
        "Legacy Billing",
    ] {
        assert!(stdout.contains(name), "{stdout}");
    }
    assert!(
        stderr.contains("What just happened:") && stderr.contains("On-Behalf-Of"),
        "{stderr}"
    );
    let mut left = Vec::new();
    for e in walk(h.path()) {
        left.push(e);
    }
    assert!(
        left.is_empty(),
        "the demo wrote to the user's home: {left:?}"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}
