//! The data directory holds private contact data (in the database, its WAL and the
//! search index's segments before erasure reaches them) and the log key, so it is the
//! service's alone: the directory 0700, everything in it 0600, whatever the umask.
//! Found by a local user reading a contact's phone from a 0644 `aidledger.db-wal`.
//! It also names what a data directory holds.

use anyhow::Context;
use std::fs;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

/// Name of the SQLite database file inside a data directory.
pub const DATABASE_FILE: &str = "aidledger.db";

/// Name of the search index directory inside a data directory.
pub const INDEX_DIR: &str = "index";

/// Name of the photo store inside a data directory: one file per photo, named by the
/// SHA-256 of its bytes (`crate::photos`). Photos are public once uploaded.
pub const PHOTOS_DIR: &str = "photos";

const DIR_MODE: u32 = 0o700;
const FILE_MODE: u32 = 0o600;

/// Creates `dir` (0700) or tightens an existing one: any directory or file in it
/// that others could read or write is brought to 0700 / 0600, and each change is
/// logged. Files created later by this process (SQLite's WAL and shared memory,
/// index segments) are born private: the process umask becomes 077.
pub fn secure(dir: &Path) -> anyhow::Result<()> {
    // SAFETY: umask only swaps the process's file-creation mask; it cannot fail.
    unsafe { libc::umask(0o077) };
    fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .with_context(|| format!("creating data directory {}", dir.display()))?;
    tighten(dir)
}

fn tighten(path: &Path) -> anyhow::Result<()> {
    let meta = fs::symlink_metadata(path)
        .with_context(|| format!("reading the mode of {}", path.display()))?;
    // A link's target may lie outside the data directory: not ours to change.
    if meta.file_type().is_symlink() {
        return Ok(());
    }
    let wanted = if meta.is_dir() { DIR_MODE } else { FILE_MODE };
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        fs::set_permissions(path, fs::Permissions::from_mode(mode & wanted)).with_context(
            || {
                format!(
                    "{} is readable by other users (mode {mode:o}) and cannot be made private; \
                     fix its owner or mode, it holds private contact data",
                    path.display()
                )
            },
        )?;
        tracing::warn!(path = %path.display(), from = format!("{mode:o}"), to = format!("{:o}", mode & wanted), "tightened mode of the data directory's contents");
    }
    if meta.is_dir() {
        for child in fs::read_dir(path).with_context(|| format!("listing {}", path.display()))? {
            tighten(&child?.path())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_loose_directory_and_its_files_are_made_private() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        fs::create_dir_all(dir.join("index")).unwrap();
        fs::write(dir.join("aidledger.db-wal"), "phone").unwrap();
        fs::write(dir.join("index/meta.json"), "{}").unwrap();
        for (p, m) in [
            ("", 0o755),
            ("index", 0o775),
            ("aidledger.db-wal", 0o644),
            ("index/meta.json", 0o666),
        ] {
            fs::set_permissions(dir.join(p), fs::Permissions::from_mode(m)).unwrap();
        }
        secure(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("index")), 0o700);
        assert_eq!(mode(&dir.join("aidledger.db-wal")), 0o600);
        assert_eq!(mode(&dir.join("index/meta.json")), 0o600);
        // And what the process creates afterwards is private too.
        fs::write(dir.join("new"), "x").unwrap();
        assert_eq!(mode(&dir.join("new")), 0o600);
    }
}
