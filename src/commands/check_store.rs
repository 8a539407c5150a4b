//! `azobo __check-store`: the fresh process of `store::probe`'s cross-process checks. It reads a
//! keyring entry, a file or a whole session and prints a digest of what it found (or `none`),
//! never the secret itself. An internal entry point, not a user command: `main` routes to it
//! before parsing azobo's own command line, so it appears in no help, completion or man page.

use std::path::PathBuf;

use crate::error::Result;
use crate::store::probe::{self, Check};

/// Internal: answer a store check from a fresh process.
#[derive(Debug, clap::Parser)]
#[command(name = "__check-store")]
pub struct Args {
    /// What to read.
    #[command(subcommand)]
    pub what: What,
}

/// What a check reads.
#[derive(Debug, clap::Subcommand)]
pub enum What {
    /// A keyring entry.
    Entry {
        /// The backend (`secret-service`, `keyutils`, …).
        backend: String,
        /// The entry name.
        entry: String,
    },
    /// A file.
    File {
        /// Its path.
        path: PathBuf,
    },
    /// A whole session.
    Session {
        /// The sessions directory.
        #[arg(long)]
        dir: PathBuf,
        /// The profile.
        #[arg(long)]
        name: String,
    },
}

/// Runs the check; returns the digest line.
pub async fn run(args: &Args) -> Result<String> {
    let check = match &args.what {
        What::Entry { backend, entry } => Check::Entry {
            backend: backend.clone(),
            entry: entry.clone(),
        },
        What::File { path } => Check::File(path.clone()),
        What::Session { dir, name } => Check::Session {
            dir: dir.clone(),
            profile: name.clone(),
        },
    };
    Ok(format!("{}\n", probe::answer(&check).await?))
}
