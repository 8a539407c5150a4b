//! Files that hold session data: written atomically (temp file, fsync, rename) with mode 0600 in
//! a 0700 directory, so a crash never leaves half a file and no other user can read one.

use std::io::Write as _;
use std::path::Path;

use crate::error::{Error, Result};

/// Creates `dir` (and parents) readable only by the user.
pub(crate) fn ensure_private_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("creating `{}`", dir.display()), e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| Error::io(format!("restricting `{}`", dir.display()), e))?;
    }
    Ok(())
}

/// Replaces `path` with `bytes` atomically; the file is 0600 from its first byte.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = parent(path)?;
    ensure_private_dir(dir)?;
    persist_new(dir, path, bytes)
}

/// Replaces `path` with `bytes` atomically, 0600 from its first byte, creating missing parent
/// directories but leaving the modes of existing ones alone (a configuration file may live in
/// a directory the user shares on purpose). A symbolic link is followed: its target is replaced.
pub(crate) fn replace_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let dir = parent(&target)?;
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("creating `{}`", dir.display()), e))?;
    persist_new(dir, &target, bytes)
}

fn parent(path: &Path) -> Result<&Path> {
    path.parent()
        .ok_or_else(|| Error::failure(format!("`{}` has no parent directory", path.display())))
}

/// Writes `bytes` to a new 0600 file in `dir` (tempfile creates it so on Unix), syncs it, and
/// renames it over `path`: a crash never leaves half a file.
fn persist_new(dir: &Path, path: &Path, bytes: &[u8]) -> Result<()> {
    let ctx = || format!("writing `{}`", path.display());
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(ctx(), e))?;
    tmp.write_all(bytes).map_err(|e| Error::io(ctx(), e))?;
    tmp.as_file().sync_all().map_err(|e| Error::io(ctx(), e))?;
    tmp.persist(path).map_err(|e| Error::io(ctx(), e.error))?;
    Ok(())
}

/// Creates `path` (which must not exist) with `bytes`, mode 0600 from its first byte, without
/// the fsync of `write_atomic`: for short-lived files nothing depends on after a crash.
pub(crate) fn write_new_private(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        ensure_private_dir(dir)?;
    }
    let ctx = || format!("writing `{}`", path.display());
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut f = options.open(path).map_err(|e| Error::io(ctx(), e))?;
    f.write_all(bytes).map_err(|e| Error::io(ctx(), e))
}

/// Reads `path`; `None` when it does not exist.
pub(crate) fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(format!("reading `{}`", path.display()), e)),
    }
}

/// Removes `path`; true when something was removed.
pub(crate) fn remove(path: &Path) -> Result<bool> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io(format!("removing `{}`", path.display()), e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_is_private_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/x.bin");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(read_optional(&p).unwrap().unwrap(), b"two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(
                std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
                0o600
            );
            assert_eq!(
                std::fs::metadata(p.parent().unwrap())
                    .unwrap()
                    .permissions()
                    .mode()
                    & 0o777,
                0o700
            );
        }
        assert!(remove(&p).unwrap());
        assert!(!remove(&p).unwrap());
        assert!(read_optional(&p).unwrap().is_none());
    }
}
