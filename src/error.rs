//! The one error type every command returns, and the exit codes it maps to.
//!
//! Exit codes are part of azobo's scripting contract and are documented in the README; this is
//! the only place that assigns them.

use std::path::PathBuf;

/// Exit code of a successful run.
pub const EXIT_OK: u8 = 0;
/// Exit code of a failure that fits no narrower class.
pub const EXIT_FAILURE: u8 = 1;
/// Exit code of a bad invocation: flags, configuration file or environment.
pub const EXIT_USAGE: u8 = 2;
/// Exit code when the user must sign in (again).
pub const EXIT_SIGN_IN_REQUIRED: u8 = 3;
/// Exit code when the identity platform or the API refused access.
pub const EXIT_ACCESS_DENIED: u8 = 4;
/// Exit code when an upstream service could not be reached or kept failing.
pub const EXIT_UPSTREAM: u8 = 5;
/// Exit code after Ctrl-C, as shells report for SIGINT.
pub const EXIT_INTERRUPTED: u8 = 130;

/// Everything that can make an azobo command fail.
///
/// Messages are one line, lowercase, and never contain a secret; `hint` says what to do next.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line or environment is wrong.
    #[error("{message}")]
    Usage {
        /// What is wrong.
        message: String,
    },

    /// The configuration file cannot be used.
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Config {
        /// The file at fault.
        path: PathBuf,
        /// 1-based line of the offending key, when known.
        line: Option<usize>,
        /// What is wrong, naming the key.
        message: String,
    },

    /// No usable session: the user has to sign in.
    #[error("{message}")]
    SignInRequired {
        /// Why a sign-in is needed.
        message: String,
    },

    /// The identity platform or the API refused access.
    #[error("{message}")]
    AccessDenied {
        /// What was refused.
        message: String,
    },

    /// An upstream service is unreachable, timed out or kept failing.
    #[error("{message}")]
    Upstream {
        /// What failed, naming the service.
        message: String,
    },

    /// The user pressed Ctrl-C.
    #[error("interrupted")]
    Interrupted,

    /// A local I/O operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What azobo was doing.
        context: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },

    /// Any other failure.
    #[error("{message}")]
    Failure {
        /// What failed.
        message: String,
    },

    /// An error whose next step depends on where it happened (its class's usual hint would
    /// send the user back into the command that just failed).
    #[error("{inner}")]
    Hinted {
        /// The error.
        inner: Box<Error>,
        /// What to do next, in one line (`None`: the message already says it).
        hint: Option<String>,
    },
}

impl Error {
    /// Builds a usage error.
    pub fn usage(message: impl Into<String>) -> Self {
        Self::Usage {
            message: message.into(),
        }
    }

    /// Builds a generic failure.
    pub fn failure(message: impl Into<String>) -> Self {
        Self::Failure {
            message: message.into(),
        }
    }

    /// Builds an upstream error.
    pub fn upstream(message: impl Into<String>) -> Self {
        Self::Upstream {
            message: message.into(),
        }
    }

    /// Wraps an I/O error with what azobo was doing.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }

    /// The same error with `hint` as its next step.
    #[must_use]
    pub fn with_hint(self, hint: impl Into<String>) -> Self {
        let inner = match self {
            Self::Hinted { inner, .. } => inner,
            other => Box::new(other),
        };
        Self::Hinted {
            inner,
            hint: Some(hint.into()),
        }
    }

    /// The same error without a hint: its message already says what to do next.
    #[must_use]
    pub fn without_hint(self) -> Self {
        let inner = match self {
            Self::Hinted { inner, .. } => inner,
            other => Box::new(other),
        };
        Self::Hinted { inner, hint: None }
    }

    /// True when the user has to sign in (again): exit code 3.
    pub fn is_sign_in_required(&self) -> bool {
        self.exit_code() == EXIT_SIGN_IN_REQUIRED
    }

    /// True when the error already carries a hint of its own.
    pub fn has_own_hint(&self) -> bool {
        matches!(self, Self::Hinted { .. })
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Hinted { inner, .. } => inner.exit_code(),
            Self::Usage { .. } | Self::Config { .. } => EXIT_USAGE,
            Self::SignInRequired { .. } => EXIT_SIGN_IN_REQUIRED,
            Self::AccessDenied { .. } => EXIT_ACCESS_DENIED,
            Self::Upstream { .. } => EXIT_UPSTREAM,
            Self::Interrupted => EXIT_INTERRUPTED,
            Self::Io { .. } | Self::Failure { .. } => EXIT_FAILURE,
        }
    }

    /// The error with the next step its class suggests made to fit the command and profile it
    /// happened in (an error with its own hint keeps it): `azobo login` names the profile when
    /// it is not the default and is never offered to `login` itself, which already says what to
    /// do; a usage error points at the command's own help.
    #[must_use]
    pub fn in_context(self, command: &str, profile: &str) -> Self {
        if self.has_own_hint() {
            return self;
        }
        let profile_flag = crate::config::profile_flag(profile);
        match (&self, command) {
            (Self::SignInRequired { .. }, "login" | "demo") => self.without_hint(),
            (Self::SignInRequired { .. }, _) => {
                self.with_hint(format!("run `azobo login{profile_flag}`"))
            }
            (Self::Usage { .. }, _) => self.with_hint(format!("see `azobo {command} --help`")),
            _ => self,
        }
    }

    /// What the user can do about it, in one line; `None` when the message says it all.
    pub fn hint(&self) -> Option<&str> {
        match self {
            Self::Hinted { hint, .. } => hint.as_deref(),
            Self::Usage { .. } => Some("see `azobo --help`"),
            Self::Config { .. } => {
                Some("fix the file, or point `--config`/`AZOBO_CONFIG` at another one")
            }
            Self::SignInRequired { .. } => Some("run `azobo login`"),
            Self::AccessDenied { .. } => {
                Some("ask an administrator to grant consent, or sign in with another account")
            }
            Self::Upstream { .. } => Some("check the service URL and your network, then retry"),
            Self::Interrupted | Self::Io { .. } | Self::Failure { .. } => None,
        }
    }
}

/// The result type used across azobo.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_maps_to_its_documented_exit_code() {
        let cases = [
            (Error::usage("x"), 2),
            (
                Error::Config {
                    path: "c.toml".into(),
                    line: Some(3),
                    message: "x".into(),
                },
                2,
            ),
            (
                Error::SignInRequired {
                    message: "x".into(),
                },
                3,
            ),
            (
                Error::AccessDenied {
                    message: "x".into(),
                },
                4,
            ),
            (Error::upstream("x"), 5),
            (Error::Interrupted, 130),
            (Error::failure("x"), 1),
            (Error::io("reading", std::io::Error::other("boom")), 1),
        ];
        for (err, code) in cases {
            assert_eq!(err.exit_code(), code, "{err:?}");
        }
    }

    #[test]
    fn config_error_names_file_and_line() {
        let err = Error::Config {
            path: "/etc/azobo.toml".into(),
            line: Some(7),
            message: "`cloud`: unknown cloud `Mars`".into(),
        };
        assert_eq!(
            err.to_string(),
            "/etc/azobo.toml:7: `cloud`: unknown cloud `Mars`"
        );
        assert!(err.hint().is_some());
    }

    #[test]
    fn an_own_hint_replaces_the_class_hint_and_keeps_the_exit_code() {
        let err = Error::SignInRequired {
            message: "no one is at a terminal".into(),
        }
        .with_hint("use `--device-code`")
        .with_hint("use `azobo login --device-code`");
        assert_eq!(err.exit_code(), 3);
        assert!(err.is_sign_in_required());
        assert_eq!(err.to_string(), "no one is at a terminal");
        assert_eq!(err.hint(), Some("use `azobo login --device-code`"));
    }

    #[test]
    fn sign_in_required_hints_at_login() {
        let err = Error::SignInRequired {
            message: "no session".into(),
        };
        assert_eq!(err.hint(), Some("run `azobo login`"));
    }
}
