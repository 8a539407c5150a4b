//! The README's marked example block runs as written against the dev tenant, signed in.

use crate::support::{Api, DevTenant, Keyring, Shell, bin, repo_root};

/// The lines of the ```sh block that follows each `<!-- readme-test` marker.
fn marked_commands(readme: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = readme;
    while let Some(i) = rest.find("<!-- readme-test") {
        rest = &rest[i..];
        let start = rest
            .find("```sh\n")
            .expect("a ```sh block after the marker")
            + "```sh\n".len();
        let end = rest[start..].find("```").expect("the block ends") + start;
        out.extend(
            rest[start..end]
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_owned),
        );
        rest = &rest[end..];
    }
    out
}

#[tokio::test]
async fn marked_readme_examples_run_against_the_dev_tenant() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let commands = marked_commands(&readme);
    assert!(
        commands.len() >= 5,
        "the README marks its examples: {commands:?}"
    );
    let t = DevTenant::start(&["--auto-approve", "alice@contoso.example"]).await;
    let api = Api::start(&t, &[]).await;
    let mut sh = Shell::new(&t, Keyring::File);
    sh.set("AZOBO_API_URL", &api.url);
    sh.login();
    let bin_dir = std::path::Path::new(bin()).parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for line in &commands {
        assert!(
            line.starts_with("azobo "),
            "a marked example runs azobo: {line}"
        );
        // The shell's environment exactly as azobo would get it (removals included).
        let template = sh.cmd(&[]);
        let mut bash = std::process::Command::new("bash");
        bash.args(["-c", line]).current_dir(sh.home.path());
        for (k, v) in template.get_envs() {
            match v {
                Some(v) => bash.env(k, v),
                None => bash.env_remove(k),
            };
        }
        let out = bash.env("PATH", &path).output().unwrap();
        assert!(
            out.status.success(),
            "`{line}` failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.stdout.is_empty(), "`{line}` printed no data");
        sh.record(
            &[line.split_whitespace().nth(1).unwrap_or("")],
            &crate::support::Run {
                code: out.status.code(),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            },
        );
    }
    sh.assert_no_secrets(&t).await;
}
