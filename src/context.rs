//! What every command gets: the environment snapshot, the printer, the global flags, and
//! whether a person is there. Commands read configuration and the environment only through it.

use std::io::IsTerminal as _;
use std::path::PathBuf;

use crate::cli::GlobalArgs;
use crate::config::{self, Env, Overrides, Profile};
use crate::env_vars;
use crate::error::{Error, Result};
use crate::output::Printer;
use crate::store::{self, Store};

/// The per-run context.
pub struct Context<'a> {
    /// The environment snapshot.
    pub env: &'a Env,
    /// The output layer.
    pub printer: &'a Printer,
    /// Global flags.
    pub global: &'a GlobalArgs,
    /// A person is at a terminal: stdin and stderr are terminals and `CI` is not set.
    pub interactive: bool,
}

impl<'a> Context<'a> {
    /// A context for this process.
    pub fn new(env: &'a Env, printer: &'a Printer, global: &'a GlobalArgs) -> Self {
        let ci = env
            .get(env_vars::CI)
            .is_some_and(|v| v != "false" && v != "0");
        let interactive = !ci && std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        Self {
            env,
            printer,
            global,
            interactive,
        }
    }

    /// The profile's name.
    pub fn profile_name(&self) -> String {
        config::profile_name(self.global.profile.as_deref(), self.env)
    }

    /// The resolved profile, with command-line overrides.
    pub fn profile(&self, overrides: &Overrides) -> Result<Profile> {
        let p = config::load(
            self.global.profile.as_deref(),
            self.global.config.as_deref(),
            self.env,
            overrides,
        )?;
        tracing::info!(
            "profile `{}` ({}): authority {}, tenant {}, API {}",
            p.name,
            p.config_file.display(),
            p.authority,
            p.tenant,
            p.api_url
        );
        Ok(p)
    }

    /// The shared HTTP client.
    pub fn http(&self) -> Result<reqwest::Client> {
        crate::client::http::client(self.env)
    }

    /// What a sign-in needs from this run: `http`, the environment, the printer for prompts,
    /// and whether a person is there.
    pub fn sign_in_surroundings<'h>(
        &'h self,
        http: &'h reqwest::Client,
    ) -> crate::client::sign_in::Surroundings<'h> {
        crate::client::sign_in::Surroundings {
            http,
            env: self.env,
            printer: self.printer,
            interactive: self.interactive,
        }
    }

    /// Where sessions are kept.
    pub fn sessions_dir(&self) -> Result<PathBuf> {
        store::default_dir()
    }

    /// The session store of the selected profile.
    pub fn store(&self) -> Result<Store> {
        Store::new(&self.sessions_dir()?, &self.profile_name())
    }

    /// `AZOBO_TOKEN`, when set.
    pub fn env_token(&self) -> Option<&str> {
        self.env.get(env_vars::AZOBO_TOKEN)
    }

    /// Refuses commands that manage sessions while `AZOBO_TOKEN` overrides them.
    pub fn refuse_with_env_token(&self, what: &str) -> Result<()> {
        if self.env_token().is_some() {
            return Err(Error::usage(format!(
                "`AZOBO_TOKEN` is set, so sessions are not used; unset it to {what}"
            )));
        }
        Ok(())
    }
}
