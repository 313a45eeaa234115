//! Snapshots of an instance, written by `aidledger backup` and laid down by
//! `aidledger restore`. A snapshot is a directory laid out like a stopped SQLite data
//! directory without its search index (an instance rebuilds a missing index from the
//! log when it starts), plus the checkpoint it was verified at:
//!
//! - `aidledger.db`: the database, a consistent copy taken while writers run. It holds
//!   the private contact data (`pd_*` tables) as well as the log and workflow tables.
//! - `log.key`: the log's private key.
//! - `operator.key`: the operator's author key, if the instance has one (the
//!   retention purge signs its redactions with it).
//! - `photos/`: the photo store.
//! - `checkpoint`: the latest checkpoint in the copy, verified when it was taken; the
//!   live log must extend it (`aidledger verify --url … --checkpoint SNAPSHOT/checkpoint`).
//!
//! So `aidledger verify --db SNAPSHOT/aidledger.db` audits a snapshot as it stands.
//! Like a data directory it is the service's alone: 0700, its files 0600.

use crate::data_dir::{DATABASE_FILE, PHOTOS_DIR};
use crate::keys::LOG_KEY_FILE;
use crate::services::bootstrap::OPERATOR_KEY_FILE;
use anyhow::{bail, Context};
use ledger::hex32;
use std::fs;
use std::path::{Path, PathBuf};

/// Name of the verified checkpoint note inside a snapshot.
pub const CHECKPOINT_FILE: &str = "checkpoint";

/// Writes a snapshot of the SQLite instance over `data_dir` (running or not) into the
/// empty directory `into`, without the checkpoint file (written once the copy is
/// verified). The database is copied first: a photo an entry names is uploaded before
/// the entry is submitted, so every photo the copied log names is in the store by then.
pub async fn take(data_dir: &Path, into: &Path) -> anyhow::Result<()> {
    let live = data_dir.join(DATABASE_FILE);
    if !live.exists() {
        bail!(
            "{} does not exist: {} is not the data directory of a SQLite instance",
            live.display(),
            data_dir.display()
        );
    }
    let copy = into.join(DATABASE_FILE);
    let copy_name = copy
        .to_str()
        .with_context(|| format!("{} is not a UTF-8 path", copy.display()))?;
    ledger_node::storage::sqlite::snapshot(&live, copy_name)
        .await
        .with_context(|| format!("copying the database {}", live.display()))?;
    fs::File::open(&copy)?.sync_all()?;
    copy_keys(data_dir, into)?;
    copy_photos(&data_dir.join(PHOTOS_DIR), &into.join(PHOTOS_DIR))
}

/// Copies what a data directory takes from a snapshot (database, log key, photos) into
/// the empty directory `into`.
pub fn copy_restorable(snapshot: &Path, into: &Path) -> anyhow::Result<()> {
    let database = snapshot.join(DATABASE_FILE);
    if !database.exists() {
        bail!(
            "{} is not a snapshot: it holds no {DATABASE_FILE}",
            snapshot.display()
        );
    }
    copy_synced(&database, &into.join(DATABASE_FILE))?;
    copy_keys(snapshot, into)?;
    copy_photos(&snapshot.join(PHOTOS_DIR), &into.join(PHOTOS_DIR))
}

/// The log key, which every data directory has, and the operator key if there is one.
fn copy_keys(from_dir: &Path, into: &Path) -> anyhow::Result<()> {
    for (name, required) in [(LOG_KEY_FILE, true), (OPERATOR_KEY_FILE, false)] {
        let key = from_dir.join(name);
        if !required && !key.exists() {
            continue;
        }
        let text =
            fs::read_to_string(&key).with_context(|| format!("reading {}", key.display()))?;
        crate::keys::write_private(&into.join(name), &text)?;
    }
    Ok(())
}

/// Copies the stored photos (files named by their hash; an upload's temporary files
/// are left behind). A missing store is an instance that never stored a photo.
fn copy_photos(from: &Path, into: &Path) -> anyhow::Result<()> {
    fs::create_dir(into).with_context(|| format!("creating {}", into.display()))?;
    let listing = match fs::read_dir(from) {
        Ok(listing) => listing,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("listing {}", from.display())),
    };
    for file in listing {
        let name = file?.file_name();
        if name.to_str().and_then(hex32::decode).is_some() {
            copy_synced(&from.join(&name), &into.join(&name))?;
        }
    }
    fs::File::open(into)?.sync_all()?;
    Ok(())
}

fn copy_synced(from: &Path, to: &Path) -> anyhow::Result<()> {
    fs::copy(from, to)
        .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    fs::File::open(to)?.sync_all()?;
    Ok(())
}

/// A directory filled beside its destination and moved into place whole by
/// [`Staging::finish`], or removed if dropped first: a destination never holds half a
/// snapshot or half a data directory.
pub struct Staging {
    path: PathBuf,
    destination: PathBuf,
    finished: bool,
}

impl Staging {
    /// Stages for `destination`, which must not exist or be an empty directory.
    pub fn beside(destination: &Path) -> anyhow::Result<Staging> {
        if let Ok(mut listing) = fs::read_dir(destination) {
            if listing.next().is_some() {
                bail!(
                    "{} is not empty: give a new or empty directory",
                    destination.display()
                );
            }
        } else if destination.exists() {
            bail!("{} exists and is not a directory", destination.display());
        }
        let name = destination
            .file_name()
            .with_context(|| format!("{} names no directory", destination.display()))?;
        let path = destination.with_file_name(format!(
            ".{}.partial-{}",
            name.to_string_lossy(),
            std::process::id()
        ));
        crate::data_dir::secure(&path)?;
        Ok(Staging {
            path,
            destination: destination.to_path_buf(),
            finished: false,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Moves the staged directory into place (over an empty destination directory).
    pub fn finish(mut self) -> anyhow::Result<()> {
        fs::File::open(&self.path)?.sync_all()?;
        fs::rename(&self.path, &self.destination).with_context(|| {
            format!(
                "moving {} into place at {}",
                self.path.display(),
                self.destination.display()
            )
        })?;
        self.finished = true;
        let parent = self
            .destination
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        fs::File::open(parent)?.sync_all()?;
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.finished {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}
