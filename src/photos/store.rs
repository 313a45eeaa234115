//! Photos on disk: `<data-dir>/photos/<sha256 hex>`, the stripped bytes, each file
//! 0600 and written whole (a temporary file, synced, then renamed over; the directory
//! synced), so a crash leaves a photo either absent or complete. The store holds at
//! most its capacity in bytes, each photo counted as at least one 4 KiB disk block so
//! that the capacity also bounds the number of files.

use ledger::{hex32, Hash};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// What a file holding `len` bytes counts against the capacity.
fn charge(len: u64) -> u64 {
    len.max(4096)
}

/// Why a photo was not stored; nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the photo store is full (it holds at most {0} bytes); nothing was stored. \
         Entries may still name photos by hash"
    )]
    Full(u64),
    #[error("photo store: {0}")]
    Io(#[from] std::io::Error),
}

/// The content-addressed photo directory.
#[derive(Debug)]
pub struct PhotoStore {
    dir: PathBuf,
    capacity: u64,
    /// Bytes counted against the capacity; held while a photo is written, so that
    /// two uploads cannot both take the last room.
    used: Mutex<u64>,
}

impl PhotoStore {
    /// Opens (or creates, 0700) the store in `dir`, counting what it holds and removing
    /// temporary files an interrupted write left.
    pub fn open(dir: PathBuf, capacity: u64) -> std::io::Result<PhotoStore> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)?;
        let mut used = 0;
        for file in fs::read_dir(&dir)? {
            let file = file?;
            let name = file.file_name();
            let name = name.to_string_lossy();
            if hex32::decode(&name).is_some() {
                used += charge(file.metadata()?.len());
            } else if name.starts_with('.') && name.ends_with(TEMPORARY) {
                fs::remove_file(file.path())?;
            }
        }
        Ok(PhotoStore {
            dir,
            capacity,
            used: Mutex::new(used),
        })
    }

    fn path(&self, hash: &Hash) -> PathBuf {
        self.dir.join(hex32::encode(hash))
    }

    /// Stores `bytes` under their SHA-256 unless the store holds them already; returns
    /// the hash and whether they were new. Blocks on file I/O.
    pub fn put(&self, bytes: &[u8]) -> Result<(Hash, bool), StoreError> {
        let hash = Hash(Sha256::digest(bytes).into());
        let path = self.path(&hash);
        let mut used = self
            .used
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if path.exists() {
            return Ok((hash, false));
        }
        let charged = charge(bytes.len() as u64);
        if *used + charged > self.capacity {
            return Err(StoreError::Full(self.capacity));
        }
        // Named apart from any other writer's, another process's included.
        let temporary = self.dir.join(format!(
            ".{}.{:016x}{TEMPORARY}",
            hex32::encode(&hash),
            rand::random::<u64>()
        ));
        write_synced(&temporary, bytes)
            .and_then(|()| fs::rename(&temporary, &path))
            .and_then(|()| fs::File::open(&self.dir)?.sync_all())
            .inspect_err(|_| {
                let _ = fs::remove_file(&temporary);
            })?;
        *used += charged;
        Ok((hash, true))
    }

    /// The stored bytes of the photo with this hash, if any. Blocks on file I/O.
    pub fn get(&self, hash: &Hash) -> std::io::Result<Option<Vec<u8>>> {
        match fs::read(self.path(hash)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Suffix of a photo being written.
const TEMPORARY: &str = ".partial";

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn photos_are_private_files_named_by_their_hash_within_the_capacity() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("photos");
        fs::create_dir(&dir).unwrap();
        fs::write(dir.join(format!(".{}{TEMPORARY}", "0".repeat(64))), "cut").unwrap();
        let store = PhotoStore::open(dir.clone(), 3 * 4096).unwrap();
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0, "leftovers removed");

        let (hash, new) = store.put(b"one").unwrap();
        assert!(new);
        assert_eq!(hex32::encode(&hash), hex::encode(Sha256::digest(b"one")));
        assert_eq!(store.get(&hash).unwrap().unwrap(), b"one");
        let mode = fs::metadata(store.path(&hash))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(!store.put(b"one").unwrap().1, "stored once");
        store.put(b"two").unwrap();
        store.put(b"three").unwrap();
        assert!(matches!(store.put(b"four"), Err(StoreError::Full(12288))));
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 3);
        assert_eq!(store.get(&Hash([7; 32])).unwrap(), None);

        // Reopened, it counts what it holds.
        let store = PhotoStore::open(dir, 3 * 4096).unwrap();
        assert!(matches!(store.put(b"four"), Err(StoreError::Full(_))));
    }
}
