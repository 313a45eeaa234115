//! The RFC 6962 Merkle tree: hashing, appends, roots and proofs as pure functions.
//!
//! Tree arithmetic comes from `tlog_tiles` (a port of Go's sumdb/tlog). Its hashes are
//! kept in one dense sequence (`stored_hash_index`) where every complete subtree has a
//! fixed position, so an append writes at most 1 + log2(n) hashes and a proof or a root
//! reads at most 2·log2(n). Every tlog function asks its `HashReader` exactly once, for
//! positions that depend only on the tree sizes and indexes involved; that lets async
//! storage work in three steps: ask which positions a computation needs (`needed`),
//! read them, and run the computation over what was read (`Prefetched`).

use std::cell::RefCell;
use std::collections::HashMap;
use tlog_tiles::{
    check_record, check_tree, node_hash, prove_record, prove_tree, record_hash, stored_hash_index,
    stored_hashes_for_record_hash, sub_tree_index, tree_hash,
};
pub use tlog_tiles::{Hash, HashReader, EMPTY_HASH};

/// Errors of the tree's arithmetic or of a proof's verification.
pub type TreeError = tlog_tiles::Error;

/// SHA-256(0x00 || leaf).
pub fn leaf_hash(leaf: &[u8]) -> Hash {
    record_hash(leaf)
}

/// SHA-256(0x01 || left || right).
pub fn interior_hash(left: Hash, right: Hash) -> Hash {
    node_hash(left, right)
}

/// Position in the dense hash sequence of the complete subtree at `level` whose
/// leaves start at `n << level`.
pub fn position(level: u8, n: u64) -> u64 {
    stored_hash_index(level, n)
}

/// A `HashReader` that records what it is asked for and answers with placeholders.
#[derive(Default)]
pub struct Recorder(RefCell<Vec<u64>>);

impl HashReader for Recorder {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, TreeError> {
        self.0.borrow_mut().extend_from_slice(indexes);
        Ok(vec![EMPTY_HASH; indexes.len()])
    }
}

/// The positions a tree computation reads. `compute` must be one of the tlog
/// functions (or a composition that reads once), whose reads depend only on sizes.
pub fn needed<T>(compute: impl FnOnce(&Recorder) -> T) -> Vec<u64> {
    let recorder = Recorder::default();
    compute(&recorder);
    recorder.0.into_inner()
}

/// Hashes read ahead of a computation, by position.
pub struct Prefetched(HashMap<u64, Hash>);

impl Prefetched {
    pub fn new(positions: &[u64], hashes: Vec<Hash>) -> Self {
        Prefetched(positions.iter().copied().zip(hashes).collect())
    }
}

impl HashReader for Prefetched {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, TreeError> {
        indexes
            .iter()
            .map(|i| self.0.get(i).copied().ok_or(TreeError::IndexesNotInTree))
            .collect()
    }
}

/// Positions read by [`root`] for a tree of `size` leaves.
pub fn root_positions(size: u64) -> Vec<u64> {
    sub_tree_index(0, size, vec![])
}

pub fn root(size: u64, hashes: &impl HashReader) -> Result<Hash, TreeError> {
    tree_hash(size, hashes)
}

/// Positions read by [`inclusion_proof`].
pub fn inclusion_positions(index: u64, size: u64) -> Vec<u64> {
    needed(|r| prove_record(size, index, r))
}

/// RFC 9162 §2.1.3 inclusion proof of leaf `index` in the tree of `size` leaves.
pub fn inclusion_proof(
    index: u64,
    size: u64,
    hashes: &impl HashReader,
) -> Result<Vec<Hash>, TreeError> {
    prove_record(size, index, hashes)
}

/// Positions read by [`consistency_proof`].
pub fn consistency_positions(first: u64, second: u64) -> Vec<u64> {
    needed(|r| prove_tree(second, first, r))
}

/// RFC 9162 §2.1.4 consistency proof from the tree of `first` leaves to `second`.
pub fn consistency_proof(
    first: u64,
    second: u64,
    hashes: &impl HashReader,
) -> Result<Vec<Hash>, TreeError> {
    prove_tree(second, first, hashes)
}

/// Checks an inclusion proof of `leaf_hash` at `index` against `root` of `size` leaves.
pub fn verify_inclusion(
    proof: &[Hash],
    index: u64,
    size: u64,
    leaf_hash: Hash,
    root: Hash,
) -> Result<(), TreeError> {
    check_record(&proof.to_vec(), size, root, index, leaf_hash)
}

/// Checks that the tree (`second`, `second_root`) extends (`first`, `first_root`).
/// A tree of size 0 is extended by every tree.
pub fn verify_consistency(
    proof: &[Hash],
    first: u64,
    first_root: Hash,
    second: u64,
    second_root: Hash,
) -> Result<(), TreeError> {
    if first == 0 {
        return if first_root == EMPTY_HASH && proof.is_empty() {
            Ok(())
        } else {
            Err(TreeError::InvalidProof)
        };
    }
    check_tree(&proof.to_vec(), second, second_root, first, first_root)
}

/// The right edge of the tree: the hashes of the maximal complete subtrees of
/// [0, size). It is all an appender needs, so appends never read storage.
#[derive(Clone, Debug)]
pub struct Frontier {
    size: u64,
    nodes: HashMap<u64, Hash>,
}

impl Frontier {
    pub fn empty() -> Self {
        Frontier {
            size: 0,
            nodes: HashMap::new(),
        }
    }

    /// The frontier of a tree of `size` leaves from the hashes at `root_positions(size)`,
    /// in that order; the caller must supply exactly one hash per position.
    pub fn new(size: u64, hashes: Vec<Hash>) -> Self {
        let positions = root_positions(size);
        assert_eq!(
            positions.len(),
            hashes.len(),
            "one hash per frontier position"
        );
        Frontier {
            size,
            nodes: positions.into_iter().zip(hashes).collect(),
        }
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends one leaf and returns the hashes to store, starting at position
    /// `position(0, index)` where `index` is the leaf's index.
    pub fn append(&mut self, leaf_hash: Hash) -> Vec<Hash> {
        let index = self.size;
        let new = stored_hashes_for_record_hash(index, leaf_hash, &*self)
            .expect("the frontier holds every hash an append reads");
        let first = position(0, index);
        self.nodes.extend((first..).zip(new.iter().copied()));
        self.size += 1;
        let keep = root_positions(self.size);
        self.nodes.retain(|p, _| keep.contains(p));
        new
    }

    pub fn root(&self) -> Hash {
        root(self.size, self).expect("the frontier holds the root's subtrees")
    }
}

impl HashReader for Frontier {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, TreeError> {
        indexes
            .iter()
            .map(|i| {
                self.nodes
                    .get(i)
                    .copied()
                    .ok_or(TreeError::IndexesNotInTree)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// All stored hashes of a tree, as storage would hold them.
    struct Memory(Vec<Hash>);

    impl HashReader for Memory {
        fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, TreeError> {
            Ok(indexes.iter().map(|&i| self.0[i as usize]).collect())
        }
    }

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(format!("leaf {i}").as_bytes()))
            .collect()
    }

    fn build(leaves: &[Hash]) -> (Memory, Frontier) {
        let mut f = Frontier::empty();
        let mut all = vec![];
        for &l in leaves {
            all.extend(f.append(l));
        }
        (Memory(all), f)
    }

    #[test]
    fn frontier_root_matches_stored_root() {
        for n in 0..70 {
            let (mem, f) = build(&leaves(n));
            assert_eq!(f.root(), root(n, &mem).unwrap(), "size {n}");
            let reloaded = Frontier::new(n, mem.read_hashes(&root_positions(n)).unwrap());
            assert_eq!(reloaded.root(), f.root());
        }
    }

    #[test]
    fn prefetched_reads_give_the_same_proofs() {
        let (mem, _) = build(&leaves(37));
        for i in 0..37 {
            let pos = inclusion_positions(i, 37);
            let pre = Prefetched::new(&pos, mem.read_hashes(&pos).unwrap());
            assert_eq!(
                inclusion_proof(i, 37, &pre).unwrap(),
                inclusion_proof(i, 37, &mem).unwrap()
            );
        }
    }
}
