//! Answers to read requests: entries, proofs and tiles, each for a tree size no larger
//! than the latest checkpoint, reading O(log n) hashes from storage.

use crate::sequencer::Head;
use crate::storage::{LogStore, StorageError, StoredEntry};
use ledger::tiles::{self, Tile, TileError};
use ledger::tree::{self, Hash, Prefetched};
use std::sync::Arc;
use tokio::sync::watch;

/// Most entries one page may hold.
pub const MAX_PAGE: u64 = 1000;

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("tree_size {requested} is beyond the latest checkpoint (size {latest})")]
    BeyondTree { requested: u64, latest: u64 },
    #[error("no entry with leaf hash {0} is in the log")]
    UnknownLeaf(String),
    #[error("entry {index} is not in the tree of size {size}")]
    NotInTree { index: u64, size: u64 },
    #[error("first must be at least 1 and at most second (got first={first}, second={second})")]
    BadRange { first: u64, second: u64 },
    #[error(transparent)]
    Tile(#[from] TileError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// An inclusion proof and where it applies.
#[derive(Clone, Debug)]
pub struct InclusionProof {
    pub leaf_index: u64,
    pub tree_size: u64,
    pub hashes: Vec<Hash>,
}

/// Read access to a log: storage plus the latest published head.
pub struct LogReader<S> {
    store: Arc<S>,
    head: watch::Receiver<Head>,
}

impl<S> Clone for LogReader<S> {
    fn clone(&self) -> Self {
        LogReader {
            store: self.store.clone(),
            head: self.head.clone(),
        }
    }
}

impl<S: LogStore> LogReader<S> {
    pub fn new(store: Arc<S>, head: watch::Receiver<Head>) -> Self {
        LogReader { store, head }
    }

    pub fn head(&self) -> Head {
        self.head.borrow().clone()
    }

    fn check_size(&self, requested: u64) -> Result<(), ReadError> {
        let latest = self.head.borrow().size;
        if requested > latest {
            return Err(ReadError::BeyondTree { requested, latest });
        }
        Ok(())
    }

    /// Up to `limit` (capped at `MAX_PAGE`) entries from `start`, within the head.
    pub async fn entries(&self, start: u64, limit: u64) -> Result<Vec<StoredEntry>, ReadError> {
        let size = self.head.borrow().size;
        let limit = limit.min(MAX_PAGE).min(size.saturating_sub(start));
        if limit == 0 {
            return Ok(vec![]);
        }
        Ok(self.store.read_entries(start, limit).await?)
    }

    /// The index of a leaf, if it is in the log.
    pub async fn leaf_index(&self, leaf_hash: Hash) -> Result<Option<u64>, ReadError> {
        let found = self.store.find_leaves(&[leaf_hash]).await?;
        Ok(found
            .first()
            .map(|&(_, i)| i)
            .filter(|&i| i < self.head.borrow().size))
    }

    pub async fn inclusion_proof(
        &self,
        leaf_hash: Hash,
        tree_size: u64,
    ) -> Result<InclusionProof, ReadError> {
        self.check_size(tree_size)?;
        let index = self
            .leaf_index(leaf_hash)
            .await?
            .ok_or_else(|| ReadError::UnknownLeaf(ledger::hex32::encode(&leaf_hash)))?;
        if index >= tree_size {
            return Err(ReadError::NotInTree {
                index,
                size: tree_size,
            });
        }
        let positions = tree::inclusion_positions(index, tree_size);
        let hashes = Prefetched::new(&positions, self.store.read_hashes(&positions).await?);
        let proof = tree::inclusion_proof(index, tree_size, &hashes)
            .map_err(|_| StorageError::Malformed("tree_hashes"))?;
        Ok(InclusionProof {
            leaf_index: index,
            tree_size,
            hashes: proof,
        })
    }

    pub async fn consistency_proof(&self, first: u64, second: u64) -> Result<Vec<Hash>, ReadError> {
        self.check_size(second)?;
        if first == 0 || first > second {
            return Err(ReadError::BadRange { first, second });
        }
        let positions = tree::consistency_positions(first, second);
        let hashes = Prefetched::new(&positions, self.store.read_hashes(&positions).await?);
        Ok(tree::consistency_proof(first, second, &hashes)
            .map_err(|_| StorageError::Malformed("tree_hashes"))?)
    }

    /// The bytes of the tile at `path` (the part after `/tile/`), and whether it is full.
    pub async fn tile(&self, path: &str) -> Result<(Vec<u8>, bool), ReadError> {
        let tile = Tile::parse(path)?;
        tile.check_within(self.head.borrow().size, path)?;
        let bytes = match tile {
            Tile::Hashes { .. } => {
                tiles::hash_tile(&self.store.read_hashes(&tile.hash_positions()).await?)
            }
            Tile::Entries { .. } => {
                let range = tile.entry_range();
                let entries = self
                    .store
                    .read_entries(range.start, range.end - range.start)
                    .await?;
                tiles::entry_bundle(entries.iter().map(|e| e.leaf.as_slice()))
            }
        };
        Ok((bytes, tile.is_full()))
    }
}
