//! Proof cost as the log grows: it must stay flat (O(log n) indexed reads). Measured on
//! SQLite (criterion group `sqlite`) and, when `AIDLEDGER_BENCH_POSTGRES` is the URL of
//! an empty PostgreSQL database, on PostgreSQL too (group `postgres`), in the same run.
//!
//! On each backend, one database is grown to each size in turn (10k, 100k, 1M entries by
//! default; `AIDLEDGER_BENCH_SIZES=10000,100000` to change) with synthetic 256-byte
//! leaves appended through `SqlStore::append` in large batches, the tree hashes
//! computed by `Frontier` exactly as the sequencer does. At each size it times, through
//! `LogReader` (what the HTTP handlers call):
//! - `inclusion_proof`: leaf lookup by hash plus the proof's hashes, for random leaves;
//! - `consistency_proof`: from a random earlier size to the current one;
//! - `select_1`: one trivial query through the same pool, the round-trip floor that
//!   each proof pays twice (inclusion) or once (consistency).
//!
//! Run: `cargo bench -p aidledger-node --bench proof`, with
//! `AIDLEDGER_BENCH_POSTGRES=postgres://…/bench_proof` for both backends.

mod backends;

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion};
use ledger::tree::{self, Frontier, Hash};
use ledger_node::reader::LogReader;
use ledger_node::sequencer::Head;
use ledger_node::storage::{Batch, LogStore, NewEntry, StoredCheckpoint};
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;
use tokio::sync::watch;

const LEAF_BYTES: usize = 256;
const BATCH: u64 = 20_000;
/// Random leaves sampled per size; each iteration proves the next one.
const SAMPLES: usize = 4096;

fn leaf(i: u64) -> Vec<u8> {
    let mut leaf = format!("{{\"synthetic\":{i:012},\"pad\":\"").into_bytes();
    leaf.resize(LEAF_BYTES - 2, b'x');
    leaf.extend_from_slice(b"\"}");
    leaf
}

/// A database being grown, with the frontier and hash count an appender keeps.
struct Growing {
    store: Arc<ledger_node::storage::sql::SqlStore>,
    frontier: Frontier,
    hashes_written: u64,
}

impl Growing {
    async fn grow_to(&mut self, size: u64) {
        while self.frontier.size() < size {
            let start = self.frontier.size();
            let end = size.min(start + BATCH);
            let mut entries = Vec::with_capacity((end - start) as usize);
            let mut hashes = Vec::with_capacity(2 * (end - start) as usize);
            for i in start..end {
                let leaf = leaf(i);
                let leaf_hash = tree::leaf_hash(&leaf);
                hashes.extend(self.frontier.append(leaf_hash));
                entries.push(NewEntry {
                    index: i,
                    leaf_hash,
                    leaf,
                    kind: "need.post",
                    author: [(i % 8) as u8; 32],
                });
            }
            let added = hashes.len() as u64;
            self.store
                .append(&Batch {
                    entries,
                    first_position: self.hashes_written,
                    hashes,
                    checkpoint: StoredCheckpoint {
                        tree_size: end,
                        note: format!("synthetic checkpoint {end}\n"),
                    },
                })
                .await
                .expect("batch appends");
            self.hashes_written += added;
        }
    }

    fn head(&self) -> Head {
        Head {
            size: self.frontier.size(),
            root: self.frontier.root(),
            note: String::new(),
        }
    }
}

/// Deterministic spread of indexes in [0, n) (splitmix64).
fn spread(n: u64, count: usize) -> Vec<u64> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64 ^ n;
    (0..count)
        .map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            (z ^ (z >> 31)) % n
        })
        .collect()
}

fn sizes() -> Vec<u64> {
    std::env::var("AIDLEDGER_BENCH_SIZES")
        .unwrap_or_else(|_| "10000,100000,1000000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("AIDLEDGER_BENCH_SIZES: sizes"))
        .collect()
}

fn proofs(c: &mut Criterion) {
    let rt = Runtime::new().expect("tokio runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    for backend in backends::Backend::all(dir.path()) {
        let store = Arc::new(rt.block_on(backend.open("proof")));
        let mut group = c.benchmark_group(backend.name());
        proofs_on(&rt, &mut group, store, backend.name());
        group.finish();
    }
}

/// Grows the log in `store` to each size and times the proofs at each.
fn proofs_on(
    rt: &Runtime,
    group: &mut BenchmarkGroup<'_, WallTime>,
    store: Arc<ledger_node::storage::sql::SqlStore>,
    backend: &str,
) {
    let mut db = Growing {
        store: store.clone(),
        frontier: Frontier::empty(),
        hashes_written: 0,
    };
    for size in sizes() {
        let before = (db.frontier.size(), Instant::now());
        rt.block_on(db.grow_to(size));
        let took = before.1.elapsed();
        eprintln!(
            "{backend}: grew the log from {} to {size} entries in {took:.1?} ({:.0} entries/s)",
            before.0,
            (size - before.0) as f64 / took.as_secs_f64()
        );
        let (_publish, heads) = watch::channel(db.head());
        let reader = LogReader::new(store.clone(), heads);
        let leaves: Vec<Hash> = spread(size, SAMPLES)
            .into_iter()
            .map(|i| tree::leaf_hash(&leaf(i)))
            .collect();
        // Check one proof, so that the timings are of correct answers.
        let root = db.frontier.root();
        let proof = rt
            .block_on(reader.inclusion_proof(leaves[0], size))
            .expect("proof");
        tree::verify_inclusion(&proof.hashes, proof.leaf_index, size, leaves[0], root)
            .expect("the proof verifies");

        group.bench_function(BenchmarkId::new("select_1", size), |b| {
            b.iter(|| {
                rt.block_on(sqlx::query("SELECT 1").execute(store.pool()))
                    .expect("query")
            })
        });
        let mut next = 0;
        group.bench_function(BenchmarkId::new("inclusion_proof", size), |b| {
            b.iter(|| {
                next = (next + 1) % leaves.len();
                rt.block_on(reader.inclusion_proof(black_box(leaves[next]), size))
                    .expect("proof")
            })
        });
        let firsts: Vec<u64> = spread(size, SAMPLES).into_iter().map(|i| i + 1).collect();
        group.bench_function(BenchmarkId::new("consistency_proof", size), |b| {
            b.iter(|| {
                next = (next + 1) % firsts.len();
                rt.block_on(reader.consistency_proof(black_box(firsts[next]), size))
                    .expect("proof")
            })
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = proofs
}
criterion_main!(benches);
