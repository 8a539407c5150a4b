//! A cross-process lock around every read-modify-write of a profile's session, so two azobo
//! processes refreshing at once cannot lose the rotated refresh token.

use std::fs::File;
use std::path::Path;
use std::time::Duration;

use crate::error::{Error, Result};

/// How long to wait for another azobo process to finish with the session.
const WAIT: Duration = Duration::from_secs(30);

/// Held while the session is being changed; released on drop (the OS also releases it if the
/// process dies).
#[derive(Debug)]
pub struct SessionLock {
    _file: File,
}

/// Takes the exclusive lock on `path`, waiting up to 30 s.
pub(crate) async fn acquire(path: &Path) -> Result<SessionLock> {
    if let Some(dir) = path.parent() {
        super::file::ensure_private_dir(dir)?;
    }
    let path = path.to_path_buf();
    let shown = path.display().to_string();
    let task = tokio::task::spawn_blocking(move || -> std::io::Result<File> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        file.lock()?;
        Ok(file)
    });
    match tokio::time::timeout(WAIT, task).await {
        Ok(Ok(Ok(file))) => Ok(SessionLock { _file: file }),
        Ok(Ok(Err(e))) => Err(Error::io(format!("locking `{shown}`"), e)),
        Ok(Err(e)) => Err(Error::failure(format!("locking `{shown}`: {e}"))),
        Err(_) => Err(Error::failure(format!(
            "another azobo process has held `{shown}` for {} s; is one stuck?",
            WAIT.as_secs()
        ))),
    }
}
