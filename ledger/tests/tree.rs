//! The RFC 6962 Merkle tree of `ledger::tree`, checked against the RFC's own worked
//! examples, the Certificate Transparency reference vectors, a from-the-definitions
//! reference implementation written here (RFC 6962 §2.1 to build, RFC 9162 §2.1.3.2
//! and §2.1.4.2 to verify, hashing with `sha2` directly), and rs_merkle as a second,
//! independent implementation. Trees of every size up to `MAX` are covered: every
//! inclusion proof and every consistency proof is built and verified, and altered
//! proofs are rejected (exhaustively for small trees, by seeded sampling and proptest
//! above that).

use ledger::tree::{
    self, consistency_positions, consistency_proof, inclusion_positions, inclusion_proof,
    interior_hash, leaf_hash, position, root_positions, verify_consistency, verify_inclusion,
    Frontier, Hash, HashReader, Prefetched, TreeError, EMPTY_HASH,
};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The largest tree every test covers.
const MAX: u64 = 300;
/// Up to this size, altered proofs are tried for every (index, size) and every pair
/// of sizes; above it, for a seeded sample.
const EXHAUSTIVE: u64 = 40;

// ---------------------------------------------------------------------------
// Storage and the shared log
// ---------------------------------------------------------------------------

/// Storage as a log of `size` leaves holds it: the hashes `Frontier::append` returned,
/// in order, and nothing written later.
struct Stored<'a>(&'a [Hash]);

impl HashReader for Stored<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, TreeError> {
        indexes
            .iter()
            .map(|&i| {
                self.0
                    .get(i as usize)
                    .copied()
                    .ok_or(TreeError::IndexesNotInTree)
            })
            .collect()
    }
}

struct Log {
    leaves: Vec<Hash>,
    /// Every hash any append returned, concatenated: the dense tlog sequence.
    stored: Vec<Hash>,
    /// `roots[n]` is the frontier's root after `n` appends.
    roots: Vec<Hash>,
}

impl Log {
    fn build(data: &[Vec<u8>]) -> Log {
        let mut frontier = Frontier::empty();
        let mut log = Log {
            leaves: vec![],
            stored: vec![],
            roots: vec![frontier.root()],
        };
        for (i, d) in data.iter().enumerate() {
            let i = i as u64;
            let leaf = leaf_hash(d);
            assert_eq!(position(0, i), log.stored.len() as u64, "leaf {i}");
            let new = frontier.append(leaf);
            assert_eq!(new[0], leaf, "leaf {i}: a leaf's own hash is stored first");
            assert_eq!(
                new.len() as u32,
                1 + i.trailing_ones(),
                "leaf {i}: one hash per subtree the leaf completes"
            );
            assert_eq!(frontier.size(), i + 1);
            log.leaves.push(leaf);
            log.stored.extend(new);
            log.roots.push(frontier.root());
        }
        log
    }

    /// Storage as it was when the log had `size` leaves.
    fn at(&self, size: u64) -> Stored<'_> {
        Stored(&self.stored[..position(0, size) as usize])
    }

    fn inclusion(&self, index: u64, size: u64) -> Vec<Hash> {
        inclusion_proof(index, size, &self.at(size))
            .unwrap_or_else(|e| panic!("inclusion proof of {index} in {size}: {e}"))
    }

    fn consistency(&self, first: u64, second: u64) -> Vec<Hash> {
        consistency_proof(first, second, &self.at(second))
            .unwrap_or_else(|e| panic!("consistency proof {first} -> {second}: {e}"))
    }
}

fn entry(i: u64) -> Vec<u8> {
    format!("entry {i}").into_bytes()
}

/// The log of `MAX` leaves every property test shares.
fn log() -> &'static Log {
    static LOG: OnceLock<Log> = OnceLock::new();
    LOG.get_or_init(|| Log::build(&(0..MAX).map(entry).collect::<Vec<_>>()))
}

// ---------------------------------------------------------------------------
// The reference implementation: RFC 6962 §2.1 and RFC 9162 §2.1, with sha2
// ---------------------------------------------------------------------------

fn sha256(parts: &[&[u8]]) -> Hash {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    Hash(h.finalize().into())
}

fn ref_leaf(data: &[u8]) -> Hash {
    sha256(&[&[0x00], data])
}

fn ref_node(left: Hash, right: Hash) -> Hash {
    sha256(&[&[0x01], &left.0, &right.0])
}

/// The largest power of two smaller than `n` (n ≥ 2): RFC 6962's split point.
fn split(n: usize) -> usize {
    assert!(n >= 2);
    1 << (usize::BITS - 1 - (n - 1).leading_zeros())
}

/// MTH, PATH and PROOF exactly as RFC 6962 §2.1 defines them, over leaf hashes.
struct Reference<'a> {
    leaves: &'a [Hash],
    memo: RefCell<HashMap<(usize, usize), Hash>>,
}

impl<'a> Reference<'a> {
    fn new(leaves: &'a [Hash]) -> Self {
        Reference {
            leaves,
            memo: RefCell::default(),
        }
    }

    /// MTH(D[lo:hi]).
    fn mth(&self, lo: usize, hi: usize) -> Hash {
        match hi - lo {
            0 => sha256(&[]),
            1 => self.leaves[lo],
            n => {
                if let Some(&h) = self.memo.borrow().get(&(lo, hi)) {
                    return h;
                }
                let k = split(n);
                let h = ref_node(self.mth(lo, lo + k), self.mth(lo + k, hi));
                self.memo.borrow_mut().insert((lo, hi), h);
                h
            }
        }
    }

    /// PATH(m, D[lo:hi]), with `m` an absolute index.
    fn path(&self, m: usize, lo: usize, hi: usize) -> Vec<Hash> {
        if hi - lo == 1 {
            return vec![];
        }
        let k = split(hi - lo);
        let (mut p, other) = if m < lo + k {
            (self.path(m, lo, lo + k), self.mth(lo + k, hi))
        } else {
            (self.path(m, lo + k, hi), self.mth(lo, lo + k))
        };
        p.push(other);
        p
    }

    /// PROOF(m, D[n]) = SUBPROOF(m, D[0:n], true).
    fn proof(&self, m: usize, n: usize) -> Vec<Hash> {
        self.subproof(m, 0, n, true)
    }

    /// SUBPROOF(m, D[lo:hi], b), with `m` counted from `lo`.
    fn subproof(&self, m: usize, lo: usize, hi: usize, b: bool) -> Vec<Hash> {
        let n = hi - lo;
        if m == n {
            return if b { vec![] } else { vec![self.mth(lo, hi)] };
        }
        let k = split(n);
        let (mut p, other) = if m <= k {
            (self.subproof(m, lo, lo + k, b), self.mth(lo + k, hi))
        } else {
            (
                self.subproof(m - k, lo + k, hi, false),
                self.mth(lo, lo + k),
            )
        };
        p.push(other);
        p
    }
}

/// RFC 9162 §2.1.3.2, step by step.
fn ref_verify_inclusion(proof: &[Hash], index: u64, size: u64, leaf: Hash, root: Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut fnn, mut sn) = (index, size - 1);
    let mut r = leaf;
    for &p in proof {
        if sn == 0 {
            return false;
        }
        if fnn & 1 == 1 || fnn == sn {
            r = ref_node(p, r);
            while fnn != 0 && fnn & 1 == 0 {
                fnn >>= 1;
                sn >>= 1;
            }
        } else {
            r = ref_node(r, p);
        }
        fnn >>= 1;
        sn >>= 1;
    }
    sn == 0 && r == root
}

/// RFC 9162 §2.1.4.2, step by step, plus the two cases it leaves out: equal sizes
/// (an empty proof, equal roots) and, as `verify_consistency` documents, size 0.
fn ref_verify_consistency(
    proof: &[Hash],
    first: u64,
    first_root: Hash,
    second: u64,
    second_root: Hash,
) -> bool {
    if first == 0 {
        return proof.is_empty() && first_root == sha256(&[]);
    }
    if first > second {
        return false;
    }
    if first == second {
        return proof.is_empty() && first_root == second_root;
    }
    if proof.is_empty() {
        return false;
    }
    let mut path = proof.to_vec();
    if first.is_power_of_two() {
        path.insert(0, first_root);
    }
    let (mut fnn, mut sn) = (first - 1, second - 1);
    while fnn & 1 == 1 {
        fnn >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for &c in &path[1..] {
        if sn == 0 {
            return false;
        }
        if fnn & 1 == 1 || fnn == sn {
            fr = ref_node(c, fr);
            sr = ref_node(c, sr);
            while fnn != 0 && fnn & 1 == 0 {
                fnn >>= 1;
                sn >>= 1;
            }
        } else {
            sr = ref_node(sr, c);
        }
        fnn >>= 1;
        sn >>= 1;
    }
    fr == first_root && sr == second_root && sn == 0
}

fn hex_hash(s: &str) -> Hash {
    Hash(hex::decode(s).unwrap().try_into().unwrap())
}

fn flip(mut h: Hash, bit: usize) -> Hash {
    h.0[bit / 8] ^= 1 << (bit % 8);
    h
}

// ---------------------------------------------------------------------------
// Worked examples and published vectors
// ---------------------------------------------------------------------------

/// RFC 6962 §2.1.3: the seven-leaf tree, its audit paths and consistency proofs.
///
/// ```text
///            hash              hash0 = I(g, c)   (size 3)
///           /    \             hash1 = k         (size 4)
///          k      l            hash2 = I(k, i)   (size 6)
///         / \    / \           hash              (size 7)
///        g   h  i   j
///       / \ / \ / \            a..f = leaf(d0)..leaf(d5), j = leaf(d6)
///       a b c d e f
/// ```
#[test]
fn rfc6962_examples() {
    let data: Vec<Vec<u8>> = (0..7).map(|i| format!("d{i}").into_bytes()).collect();
    let [a, b, c, d, e, f, j]: [Hash; 7] = data
        .iter()
        .map(|x| leaf_hash(x))
        .collect::<Vec<_>>()
        .try_into()
        .unwrap();
    let g = interior_hash(a, b);
    let h = interior_hash(c, d);
    let i = interior_hash(e, f);
    let k = interior_hash(g, h);
    let l = interior_hash(i, j);
    let hash = interior_hash(k, l);
    let hash0 = interior_hash(g, c);
    let hash1 = k;
    let hash2 = interior_hash(k, i);

    let log = Log::build(&data);
    assert_eq!(log.roots[3], hash0);
    assert_eq!(log.roots[4], hash1);
    assert_eq!(log.roots[6], hash2);
    assert_eq!(log.roots[7], hash);
    for (size, root) in [(3, hash0), (4, hash1), (6, hash2), (7, hash)] {
        assert_eq!(
            tree::root(size, &log.at(size)).unwrap(),
            root,
            "size {size}"
        );
    }
    // Every complete subtree sits where tlog's dense order puts it.
    for (level, n, node) in [
        (0, 0, a),
        (0, 1, b),
        (0, 2, c),
        (0, 3, d),
        (0, 4, e),
        (0, 5, f),
        (0, 6, j),
        (1, 0, g),
        (1, 1, h),
        (1, 2, i),
        (2, 0, k),
    ] {
        assert_eq!(
            log.stored[position(level, n) as usize],
            node,
            "({level}, {n})"
        );
    }
    assert_eq!(log.stored.len(), 11);

    // "The audit path for d0 is [b, h, l]." and so on.
    for (index, path) in [
        (0, vec![b, h, l]),
        (3, vec![c, g, l]),
        (4, vec![f, j, k]),
        (6, vec![i, k]),
    ] {
        assert_eq!(log.inclusion(index, 7), path, "audit path of d{index}");
        let leaf = log.leaves[index as usize];
        verify_inclusion(&path, index, 7, leaf, hash).unwrap();
        assert!(ref_verify_inclusion(&path, index, 7, leaf, hash));
    }

    // "The consistency proof between hash0 and hash is PROOF(3, D[7]) = [c, d, g, l]."
    for (first, first_root, proof) in [
        (3, hash0, vec![c, d, g, l]),
        (4, hash1, vec![l]),
        (6, hash2, vec![i, j, k]),
    ] {
        assert_eq!(log.consistency(first, 7), proof, "PROOF({first}, D[7])");
        verify_consistency(&proof, first, first_root, 7, hash).unwrap();
        assert!(ref_verify_consistency(&proof, first, first_root, 7, hash));
    }
}

/// The Certificate Transparency reference vectors, as published in
/// transparency-dev/merkle `testonly/constants.go`.
#[test]
fn certificate_transparency_vectors() {
    let inputs: Vec<Vec<u8>> = [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
    .iter()
    .map(|s| hex::decode(s).unwrap())
    .collect();
    let roots: Vec<Hash> = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]
    .iter()
    .map(|s| hex_hash(s))
    .collect();
    // NodeHashes(): [level][index] of every complete subtree of the 8-leaf tree.
    let nodes: Vec<Vec<Hash>> = vec![
        vec![
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
            "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
        ],
        vec![
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        ],
        vec![
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
        vec!["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
    ]
    .into_iter()
    .map(|level| level.into_iter().map(hex_hash).collect())
    .collect();

    assert_eq!(EMPTY_HASH, roots[0]);
    assert_eq!(leaf_hash(b""), roots[1]);
    assert_eq!(interior_hash(nodes[0][0], nodes[0][1]), nodes[1][0]);
    let log = Log::build(&inputs);
    assert_eq!(log.roots, roots);
    for (size, root) in roots.iter().enumerate() {
        assert_eq!(
            tree::root(size as u64, &log.at(size as u64)).unwrap(),
            *root
        );
    }
    for (level, hashes) in nodes.iter().enumerate() {
        for (n, node) in hashes.iter().enumerate() {
            assert_eq!(log.stored[position(level as u8, n as u64) as usize], *node);
        }
    }
    let n = |level: usize, index: usize| nodes[level][index];
    assert_eq!(log.inclusion(0, 8), [n(0, 1), n(1, 1), n(2, 1)]);
    assert_eq!(log.inclusion(5, 8), [n(0, 4), n(1, 3), n(2, 0)]);
    assert_eq!(log.inclusion(2, 3), [n(1, 0)]);
    assert_eq!(log.inclusion(1, 5), [n(0, 0), n(1, 1), n(0, 4)]);
    assert_eq!(log.consistency(1, 8), [n(0, 1), n(1, 1), n(2, 1)]);
    assert_eq!(log.consistency(2, 8), [n(1, 1), n(2, 1)]);
    assert_eq!(log.consistency(6, 8), [n(1, 2), n(1, 3), n(2, 0)]);
    assert_eq!(log.consistency(2, 5), [n(1, 1), n(0, 4)]);
    assert_eq!(log.consistency(4, 8), [n(2, 1)]);
}

// ---------------------------------------------------------------------------
// Every size up to MAX
// ---------------------------------------------------------------------------

#[test]
fn hashing_is_rfc6962() {
    for data in [&b""[..], b"\x00", b"\x01", b"d0", &[0xff; 200]] {
        assert_eq!(leaf_hash(data), ref_leaf(data));
    }
    let (x, y) = (leaf_hash(b"x"), leaf_hash(b"y"));
    assert_eq!(interior_hash(x, y), ref_node(x, y));
    assert_ne!(interior_hash(x, y), interior_hash(y, x));
    assert_eq!(EMPTY_HASH, sha256(&[]));
}

#[test]
fn roots_and_stored_hashes_match_the_reference() {
    let log = log();
    let reference = Reference::new(&log.leaves);
    for size in 0..=MAX {
        let root = log.roots[size as usize];
        assert_eq!(root, reference.mth(0, size as usize), "size {size}");
        let stored = log.at(size);
        assert_eq!(tree::root(size, &stored).unwrap(), root, "size {size}");
        let positions = root_positions(size);
        assert_eq!(positions.len() as u32, size.count_ones(), "size {size}");
        let hashes = stored.read_hashes(&positions).unwrap();
        let pre = Prefetched::new(&positions, hashes.clone());
        assert_eq!(tree::root(size, &pre).unwrap(), root, "size {size}");
        assert_eq!(Frontier::new(size, hashes).root(), root, "size {size}");
    }
    // Position (level, n) holds MTH(D[n·2^level : (n+1)·2^level]), and nothing else
    // is stored.
    let mut count = 0;
    for level in 0..=MAX.ilog2() as u8 {
        for n in 0..MAX >> level {
            let (lo, hi) = ((n << level) as usize, ((n + 1) << level) as usize);
            assert_eq!(
                log.stored[position(level, n) as usize],
                reference.mth(lo, hi),
                "({level}, {n})"
            );
            count += 1;
        }
    }
    assert_eq!(count, log.stored.len());
    assert_eq!(log.stored.len() as u64, position(0, MAX));
}

#[test]
fn a_reloaded_frontier_appends_like_the_original() {
    let log = log();
    for size in 0..MAX {
        let hashes = log.at(size).read_hashes(&root_positions(size)).unwrap();
        let mut frontier = Frontier::new(size, hashes);
        assert_eq!(frontier.size(), size);
        let end = if size % 37 == 0 { MAX } else { size + 1 };
        for i in size..end {
            let start = position(0, i) as usize;
            let new = frontier.append(log.leaves[i as usize]);
            assert_eq!(
                new,
                log.stored[start..start + new.len()],
                "{size} + leaf {i}"
            );
            assert_eq!(
                frontier.root(),
                log.roots[i as usize + 1],
                "{size} + leaf {i}"
            );
        }
    }
}

#[test]
fn every_inclusion_proof_verifies() {
    let log = log();
    let reference = Reference::new(&log.leaves);
    for size in 1..=MAX {
        let root = log.roots[size as usize];
        let stored = log.at(size);
        for index in 0..size {
            let leaf = log.leaves[index as usize];
            let proof = log.inclusion(index, size);
            let at = format!("leaf {index} of {size}");
            assert_eq!(
                proof,
                reference.path(index as usize, 0, size as usize),
                "{at}"
            );
            verify_inclusion(&proof, index, size, leaf, root)
                .unwrap_or_else(|e| panic!("{at}: {e}"));
            assert!(
                ref_verify_inclusion(&proof, index, size, leaf, root),
                "{at}"
            );
            // Storage reads ahead, then computes: the same proof.
            let positions = inclusion_positions(index, size);
            let pre = Prefetched::new(&positions, stored.read_hashes(&positions).unwrap());
            assert_eq!(inclusion_proof(index, size, &pre).unwrap(), proof, "{at}");
        }
    }
}

#[test]
fn every_consistency_proof_verifies() {
    let log = log();
    let reference = Reference::new(&log.leaves);
    for second in 1..=MAX {
        let second_root = log.roots[second as usize];
        let stored = log.at(second);
        for first in 1..=second {
            let first_root = log.roots[first as usize];
            let proof = log.consistency(first, second);
            let at = format!("{first} -> {second}");
            assert_eq!(
                proof,
                reference.proof(first as usize, second as usize),
                "{at}"
            );
            verify_consistency(&proof, first, first_root, second, second_root)
                .unwrap_or_else(|e| panic!("{at}: {e}"));
            assert!(
                ref_verify_consistency(&proof, first, first_root, second, second_root),
                "{at}"
            );
            let positions = consistency_positions(first, second);
            let pre = Prefetched::new(&positions, stored.read_hashes(&positions).unwrap());
            assert_eq!(
                consistency_proof(first, second, &pre).unwrap(),
                proof,
                "{at}"
            );
        }
        // Every tree extends the empty one, with an empty proof.
        verify_consistency(&[], 0, EMPTY_HASH, second, second_root).unwrap();
    }
}

#[test]
fn out_of_range_requests_are_errors() {
    let log = log();
    for size in [0, 1, 2, 7, 8, MAX] {
        let stored = log.at(size);
        assert!(inclusion_proof(size, size, &stored).is_err(), "{size}");
        assert!(inclusion_proof(size + 1, size, &stored).is_err(), "{size}");
        assert!(
            consistency_proof(size + 1, size, &stored).is_err(),
            "{size}"
        );
        assert!(consistency_proof(0, size, &stored).is_err(), "{size}");
        // A reader that has less than the tree needs reports it.
        if size > 1 {
            let short = log.at(size - 1);
            assert!(tree::root(size, &short).is_err(), "{size}");
            assert!(inclusion_proof(0, size, &short).is_err(), "{size}");
        }
    }
    let root = log.roots[MAX as usize];
    let leaf = log.leaves[0];
    let proof = log.inclusion(0, MAX);
    // Hostile sizes and indexes are rejected without panicking.
    for (index, size) in [
        (0, 0),
        (MAX, MAX),
        (u64::MAX, MAX),
        (0, u64::MAX),
        (u64::MAX - 1, u64::MAX),
    ] {
        assert!(verify_inclusion(&proof, index, size, leaf, root).is_err());
        assert!(verify_inclusion(&[], index, size, leaf, root).is_err());
    }
    let proof = log.consistency(5, MAX);
    let first_root = log.roots[5];
    for (first, second) in [
        (MAX, 5),
        (5, u64::MAX),
        (u64::MAX, u64::MAX - 1),
        (u64::MAX - 1, u64::MAX),
    ] {
        assert!(verify_consistency(&proof, first, first_root, second, root).is_err());
    }
    assert!(verify_consistency(&[], 0, first_root, MAX, root).is_err());
    assert!(verify_consistency(&proof, 0, EMPTY_HASH, MAX, root).is_err());
}

// ---------------------------------------------------------------------------
// Altered proofs fail
// ---------------------------------------------------------------------------

/// Asserts that both our verifier and the reference reject an altered inclusion
/// claim; the reference rejecting it shows the alteration really is one.
fn reject_inclusion(what: &str, proof: &[Hash], index: u64, size: u64, leaf: Hash, root: Hash) {
    assert!(
        !ref_verify_inclusion(proof, index, size, leaf, root),
        "the reference accepts {what}"
    );
    assert!(
        verify_inclusion(proof, index, size, leaf, root).is_err(),
        "accepted {what}"
    );
}

fn reject_consistency(
    what: &str,
    proof: &[Hash],
    first: u64,
    first_root: Hash,
    second: u64,
    second_root: Hash,
) {
    assert!(
        !ref_verify_consistency(proof, first, first_root, second, second_root),
        "the reference accepts {what}"
    );
    assert!(
        verify_consistency(proof, first, first_root, second, second_root).is_err(),
        "accepted {what}"
    );
}

/// Proofs one hash longer or shorter than `proof`, and with two of its hashes swapped.
fn reshaped(proof: &[Hash], rng: &mut StdRng) -> Vec<(&'static str, Vec<Hash>)> {
    let extra = log().leaves[rng.gen_range(0..MAX) as usize];
    let mut out = vec![
        ("extended at the end", [proof, &[extra]].concat()),
        ("extended at the front", [&[extra], proof].concat()),
    ];
    if let Some(&last) = proof.last() {
        out.push(("with its last hash repeated", [proof, &[last]].concat()));
        out.push(("truncated at the end", proof[..proof.len() - 1].to_vec()));
        out.push(("truncated at the front", proof[1..].to_vec()));
    }
    if proof.len() >= 2 {
        let (a, b) = (rng.gen_range(0..proof.len()), rng.gen_range(0..proof.len()));
        if proof[a] != proof[b] {
            let mut p = proof.to_vec();
            p.swap(a, b);
            out.push(("with two hashes swapped", p));
        }
    }
    out
}

fn tamper_inclusion(log: &Log, rng: &mut StdRng, index: u64, size: u64) {
    let leaf = log.leaves[index as usize];
    let root = log.roots[size as usize];
    let proof = log.inclusion(index, size);
    let at = format!("leaf {index} of {size}");

    for w in 0..proof.len() {
        for bit in [(w * 97) % 256, rng.gen_range(0..256)] {
            let mut p = proof.clone();
            p[w] = flip(p[w], bit);
            let what = format!("{at} with bit {bit} of hash {w} flipped");
            reject_inclusion(&what, &p, index, size, leaf, root);
        }
    }
    let mut indexes = vec![
        index ^ 1,
        index ^ 2,
        index + 1,
        index.wrapping_sub(1),
        size,
        u64::MAX,
        rng.gen_range(0..size),
    ];
    indexes.retain(|&i| i != index);
    for other in indexes {
        let what = format!("{at} claimed for index {other}");
        reject_inclusion(&what, &proof, other, size, leaf, root);
    }
    let mut sizes = vec![size - 1, size + 1, 2 * size, rng.gen_range(1..=MAX)];
    sizes.retain(|&s| s != size && s <= MAX);
    for other in sizes {
        let what = format!("{at} checked against the tree of {other}");
        reject_inclusion(&what, &proof, index, other, leaf, log.roots[other as usize]);
    }
    for (how, p) in reshaped(&proof, rng) {
        reject_inclusion(&format!("{at} {how}"), &p, index, size, leaf, root);
    }
    let other_leaf = log.leaves[((index + 1) % MAX) as usize];
    for (what, wrong) in [
        ("another leaf", other_leaf),
        ("a flipped leaf hash", flip(leaf, rng.gen_range(0..256))),
        ("the unprefixed hash", sha256(&[&entry(index)])),
        ("the empty hash", EMPTY_HASH),
    ] {
        reject_inclusion(
            &format!("{at} for {what}"),
            &proof,
            index,
            size,
            wrong,
            root,
        );
    }
    for (what, wrong) in [
        ("a flipped root", flip(root, rng.gen_range(0..256))),
        ("the previous root", log.roots[size as usize - 1]),
    ] {
        reject_inclusion(
            &format!("{at} under {what}"),
            &proof,
            index,
            size,
            leaf,
            wrong,
        );
    }
}

fn tamper_consistency(log: &Log, rng: &mut StdRng, first: u64, second: u64) {
    let first_root = log.roots[first as usize];
    let second_root = log.roots[second as usize];
    let proof = log.consistency(first, second);
    let at = format!("{first} -> {second}");

    for w in 0..proof.len() {
        for bit in [(w * 97) % 256, rng.gen_range(0..256)] {
            let mut p = proof.clone();
            p[w] = flip(p[w], bit);
            let what = format!("{at} with bit {bit} of hash {w} flipped");
            reject_consistency(&what, &p, first, first_root, second, second_root);
        }
    }
    let mut firsts = vec![first - 1, first + 1, first / 2, rng.gen_range(1..=MAX)];
    // The empty tree is extended by every tree, with the empty proof.
    firsts.retain(|&f| f != first && f <= MAX && !(f == 0 && proof.is_empty()));
    for other in firsts {
        let what = format!("{at} checked from the tree of {other}");
        let other_root = log.roots[other as usize];
        reject_consistency(&what, &proof, other, other_root, second, second_root);
    }
    let mut seconds = vec![second - 1, second + 1, 2 * second, rng.gen_range(1..=MAX)];
    seconds.retain(|&s| s != second && s <= MAX);
    for other in seconds {
        let what = format!("{at} checked to the tree of {other}");
        let other_root = log.roots[other as usize];
        reject_consistency(&what, &proof, first, first_root, other, other_root);
    }
    if first != second {
        let what = format!("{at} with the trees swapped");
        reject_consistency(&what, &proof, second, second_root, first, first_root);
    }
    for (how, p) in reshaped(&proof, rng) {
        let what = format!("{at} {how}");
        reject_consistency(&what, &p, first, first_root, second, second_root);
    }
    for (what, wrong) in [
        (
            "a flipped first root",
            flip(first_root, rng.gen_range(0..256)),
        ),
        (
            "another first root",
            log.roots[if first == 1 { 2 } else { first as usize - 1 }],
        ),
    ] {
        let what = format!("{at} under {what}");
        reject_consistency(&what, &proof, first, wrong, second, second_root);
    }
    for (what, wrong) in [
        (
            "a flipped second root",
            flip(second_root, rng.gen_range(0..256)),
        ),
        ("the previous second root", log.roots[second as usize - 1]),
    ] {
        let what = format!("{at} under {what}");
        reject_consistency(&what, &proof, first, first_root, second, wrong);
    }
}

#[test]
fn altered_inclusion_proofs_fail() {
    let log = log();
    let mut rng = StdRng::seed_from_u64(6962);
    for size in 1..=EXHAUSTIVE {
        for index in 0..size {
            tamper_inclusion(log, &mut rng, index, size);
        }
    }
    for size in EXHAUSTIVE + 1..=MAX {
        let mut indexes = vec![0, size - 1];
        indexes.extend((0..3).map(|_| rng.gen_range(0..size)));
        for index in indexes {
            tamper_inclusion(log, &mut rng, index, size);
        }
    }
}

#[test]
fn altered_consistency_proofs_fail() {
    let log = log();
    let mut rng = StdRng::seed_from_u64(9162);
    for second in 1..=EXHAUSTIVE {
        for first in 1..=second {
            tamper_consistency(log, &mut rng, first, second);
        }
    }
    for second in EXHAUSTIVE + 1..=MAX {
        let mut firsts = vec![1, second - 1, second, second / 2, 1 << second.ilog2()];
        firsts.extend((0..2).map(|_| rng.gen_range(1..=second)));
        for first in firsts {
            tamper_consistency(log, &mut rng, first, second);
        }
    }
}

fn size_and_index() -> impl Strategy<Value = (u64, u64)> {
    (2..=MAX).prop_flat_map(|size| (Just(size), 0..size))
}

fn first_and_second() -> impl Strategy<Value = (u64, u64)> {
    (2..=MAX).prop_flat_map(|second| (1..second, Just(second)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_flipped_bit_breaks_an_inclusion_proof(
        (size, index) in size_and_index(),
        which in any::<prop::sample::Index>(),
        bit in 0..256usize,
    ) {
        let log = log();
        let mut proof = log.inclusion(index, size);
        let w = which.index(proof.len());
        proof[w] = flip(proof[w], bit);
        let (leaf, root) = (log.leaves[index as usize], log.roots[size as usize]);
        prop_assert!(verify_inclusion(&proof, index, size, leaf, root).is_err());
    }

    #[test]
    fn an_inclusion_proof_holds_in_one_tree_only(
        (size, index) in size_and_index(),
        other in 1..=MAX,
    ) {
        prop_assume!(other != size);
        let log = log();
        let proof = log.inclusion(index, size);
        let leaf = log.leaves[index as usize];
        let root = log.roots[other as usize];
        prop_assert!(verify_inclusion(&proof, index, other, leaf, root).is_err());
    }

    #[test]
    fn any_flipped_bit_breaks_a_consistency_proof(
        (first, second) in first_and_second(),
        which in any::<prop::sample::Index>(),
        bit in 0..256usize,
    ) {
        let log = log();
        let mut proof = log.consistency(first, second);
        let w = which.index(proof.len());
        proof[w] = flip(proof[w], bit);
        let (r1, r2) = (log.roots[first as usize], log.roots[second as usize]);
        prop_assert!(verify_consistency(&proof, first, r1, second, r2).is_err());
    }

    #[test]
    fn a_consistency_proof_holds_between_its_two_trees_only(
        (first, second) in first_and_second(),
        (other_first, other_second) in first_and_second(),
    ) {
        prop_assume!((first, second) != (other_first, other_second));
        let log = log();
        let proof = log.consistency(first, second);
        let r1 = log.roots[other_first as usize];
        let r2 = log.roots[other_second as usize];
        prop_assert!(verify_consistency(&proof, other_first, r1, other_second, r2).is_err());
    }
}

// ---------------------------------------------------------------------------
// rs_merkle as an independent implementation
// ---------------------------------------------------------------------------

/// rs_merkle with RFC 6962's interior hashing. rs_merkle promotes a node without a
/// sibling unchanged (the trait's documented default for `right == None`), and
/// pairing left to right with promotion builds exactly RFC 6962's left-balanced tree.
#[derive(Clone)]
struct Rfc6962Sha256;

impl rs_merkle::Hasher for Rfc6962Sha256 {
    type Hash = [u8; 32];

    fn hash(data: &[u8]) -> [u8; 32] {
        Sha256::digest(data).into()
    }

    fn concat_and_hash(left: &[u8; 32], right: Option<&[u8; 32]>) -> [u8; 32] {
        match right {
            Some(right) => ref_node(Hash(*left), Hash(*right)).0,
            None => *left,
        }
    }
}

#[test]
fn rs_merkle_agrees() {
    let log = log();
    let leaves: Vec<[u8; 32]> = log.leaves.iter().map(|h| h.0).collect();
    let mut rng = StdRng::seed_from_u64(2);
    for size in 1..=MAX {
        let n = size as usize;
        let theirs = rs_merkle::MerkleTree::<Rfc6962Sha256>::from_leaves(&leaves[..n]);
        let root = log.roots[n];
        assert_eq!(theirs.root(), Some(root.0), "size {size}");
        let indexes: Vec<usize> = if size <= EXHAUSTIVE {
            (0..n).collect()
        } else {
            let mut v = vec![0, n - 1, n / 2];
            v.extend((0..5).map(|_| rng.gen_range(0..n)));
            v
        };
        for i in indexes {
            let ours: Vec<[u8; 32]> = log.inclusion(i as u64, size).iter().map(|h| h.0).collect();
            let proof = theirs.proof(&[i]);
            assert_eq!(proof.proof_hashes(), ours, "leaf {i} of {size}");
            let ours = rs_merkle::MerkleProof::<Rfc6962Sha256>::new(ours);
            assert!(
                ours.verify(root.0, &[i], &[leaves[i]], n),
                "rs_merkle rejects leaf {i} of {size}"
            );
        }
    }
}
