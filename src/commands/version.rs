//! `azobo version`: the version, the commit it was built from, when, for which target and with
//! which compiler. `build.rs` records the facts; a build without git says so with `null`.

use serde::Serialize;

/// Show the version, the commit it was built from, and the target.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
`azobo --version` prints just the version.

Examples:
  azobo version
  azobo version --json
  azobo version -o tsv | cut -f2")]
pub struct Args {}

/// What was built. The JSON keys are camelCase, as the other commands' documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionInfo {
    /// The crate's version.
    pub version: &'static str,
    /// The commit built (12 hex digits); `None` outside a git checkout (a source tarball).
    pub commit: Option<&'static str>,
    /// The commit's date, `YYYY-MM-DD`.
    pub commit_date: Option<&'static str>,
    /// The day the build metadata was made (`SOURCE_DATE_EPOCH` when set), `YYYY-MM-DD` UTC.
    pub build_date: &'static str,
    /// The target triple, e.g. `x86_64-unknown-linux-gnu`.
    pub target: &'static str,
    /// `rustc --version` of the compiler that built it.
    pub rustc: Option<&'static str>,
}

impl VersionInfo {
    /// The facts as (key, value) rows, in the JSON's keys and order, for tables and TSV.
    pub fn rows(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            ("version", self.version),
            ("commit", self.commit.unwrap_or("")),
            ("commitDate", self.commit_date.unwrap_or("")),
            ("buildDate", self.build_date),
            ("target", self.target),
            ("rustc", self.rustc.unwrap_or("")),
        ]
    }
}

fn known(s: &'static str) -> Option<&'static str> {
    Some(s).filter(|s| !s.is_empty())
}

/// This binary's version information.
pub fn info() -> VersionInfo {
    VersionInfo {
        version: env!("CARGO_PKG_VERSION"),
        commit: known(env!("AZOBO_BUILD_COMMIT")),
        commit_date: known(env!("AZOBO_BUILD_COMMIT_DATE")),
        build_date: env!("AZOBO_BUILD_DATE"),
        target: env!("AZOBO_BUILD_TARGET"),
        rustc: known(env!("AZOBO_BUILD_RUSTC")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_facts_are_recorded() {
        let v = info();
        assert_eq!(v.version, env!("CARGO_PKG_VERSION"));
        assert!(v.target.contains('-'), "{}", v.target);
        assert_eq!(v.build_date.len(), 10, "{}", v.build_date);
        if let Some(c) = v.commit {
            assert!(
                c.len() == 12 && c.chars().all(|c| c.is_ascii_hexdigit()),
                "{c}"
            );
        }
        let json = serde_json::to_value(&v).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
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
        assert_eq!(v.rows().len(), keys.len());
    }
}
