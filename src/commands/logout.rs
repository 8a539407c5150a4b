//! `azobo logout`: removes a profile's secrets and metadata (every profile's with `--all`) from
//! every store this process can reach, even when the metadata file is missing or damaged.

use crate::context::Context;
use crate::error::Result;
use crate::store::Store;

/// Sign out: remove the session's secrets and metadata.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  azobo logout\n  azobo --profile work logout\n  azobo logout --all"
)]
pub struct Args {
    /// Remove the sessions of every profile
    #[arg(long)]
    pub all: bool,
}

/// What was removed, per profile.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Removed {
    /// The profile.
    pub profile: String,
    /// What was removed (empty: it was not signed in).
    pub removed: Vec<String>,
    /// Stores that held the session and could not be cleaned.
    pub problems: Vec<String>,
}

/// Runs `azobo logout`; idempotent.
pub async fn run(args: &Args, ctx: &Context<'_>) -> Result<Vec<Removed>> {
    ctx.refuse_with_env_token("sign out")?;
    let dir = ctx.sessions_dir()?;
    let profiles = if args.all {
        Store::profiles(&dir)?
    } else {
        vec![ctx.profile_name()]
    };
    let mut out = Vec::new();
    for profile in profiles {
        let store = Store::new(&dir, &profile)?;
        let _lock = store.lock().await?;
        let found = store.delete().await?;
        out.push(Removed {
            profile,
            removed: found.removed,
            problems: found.problems,
        });
    }
    Ok(out)
}
