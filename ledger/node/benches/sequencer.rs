//! Sequencing without HTTP: already-verified entries through `Sequencer::submit`,
//! `n` submissions in flight at once, on SQLite (WAL, synchronous = FULL) in a temp dir
//! (criterion group `sequencer/sqlite`) and, when `AIDLEDGER_BENCH_POSTGRES` is the URL
//! of an empty PostgreSQL database, on PostgreSQL too (`sequencer/postgres`), in the
//! same run. Each store is fresh: a file of the temp dir, or a schema of that database.
//!
//! The same-run baselines, in each group: `fdatasync`, one 600-byte append to a file in
//! the temp dir plus `File::sync_data`, the durability floor every commit pays (the
//! PostgreSQL cluster's WAL should be on the same disk); and `select_1`, one trivial
//! query through the store's pool, the floor of every statement (a hand-off to sqlx's
//! SQLite worker thread, or a round trip to the PostgreSQL server). With one submission
//! in flight each entry is its own batch, so `submit/1` against `fdatasync` is the fixed
//! cost of a batch; with many in flight the integrator groups them and the time per
//! entry shows what a sequenced entry costs beyond its verification.
//!
//! - `submit/n`: `Sequencer::start`, the in-process queue of a single node: a
//!   submission is a channel send to the integrator task of this process;
//! - `lease_submit/n` (PostgreSQL only): `cluster::start_node`, a node of a multi-node
//!   deployment that holds the integrator's lease: it hands its own submissions to its
//!   integrator in-process, which also reads the `submissions` table once a batch;
//! - `table_submit/n` (PostgreSQL only): a second node on the same database, which
//!   does not hold the lease: a submission is an `INSERT` into `submissions` (its
//!   trigger notifies the integrator), the lease holder reads undecided rows, checks
//!   them, sequences them and records each outcome in the batch's transaction
//!   (notifying again), and the accepting node reads the outcomes and deletes the rows.
//!
//! `store_append/n` and `find_leaves/n` time the two storage calls of one batch of
//! `n` entries alone (synthetic 600-byte leaves, in a store of their own), so that
//! `submit/n` minus them is the integrator's own work and its waits.
//! `savepoint_release` is one `SAVEPOINT` plus its `RELEASE` inside an open transaction:
//! two statements (the per-entry savepoint of the integrator). `insert_commit/n` is `n`
//! single-row `INSERT`s at once through the pool, each its own durable commit (what a
//! submission to the shared queue writes first).
//!
//! Run: `cargo bench -p aidledger-node --bench sequencer`, with
//! `AIDLEDGER_BENCH_POSTGRES=postgres://…/bench_sequencer` for both backends.

mod backends;
#[path = "../../benches/common/mod.rs"]
mod common;

use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion, Throughput,
};
use ed25519_dalek::SigningKey;
use ledger::checkpoint::LogSigner;
use ledger::clock::SystemClock;
use ledger::entry::{UnsignedEntry, VerifiedEntry};
use ledger::tree::{self, Frontier, Hash};
use ledger::Kind;
use ledger_node::cluster;
use ledger_node::sequencer::{AdmitAll, Sequencer};
use ledger_node::storage::sql::SqlStore;
use ledger_node::storage::{Batch, LogStore, NewEntry, StoredCheckpoint};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use tokio::runtime::Runtime;

/// Signs distinct offers of about 600 bytes (the sample generator's size).
struct Signer {
    keys: Vec<SigningKey>,
    next: u64,
    at: OffsetDateTime,
}

impl Signer {
    fn entries(&mut self, n: usize) -> Vec<VerifiedEntry> {
        (0..n)
            .map(|_| {
                self.next += 1;
                let key = &self.keys[(self.next % self.keys.len() as u64) as usize];
                UnsignedEntry::new(
                    Kind::OfferPost,
                    &key.verifying_key(),
                    self.at,
                    common::offer(self.next),
                )
                .sign(key)
                .expect("signs")
            })
            .collect()
    }
}

fn sequencer(c: &mut Criterion) {
    let rt = Runtime::new().expect("tokio runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let log_key =
        LogSigner::new("bench.example/log", SigningKey::from_bytes(&[9; 32])).expect("log key");
    let mut signer = Signer {
        keys: (1..=8u8)
            .map(|i| SigningKey::from_bytes(&[i; 32]))
            .collect(),
        next: 0,
        at: OffsetDateTime::now_utc(),
    };
    for backend in backends::Backend::all(dir.path()) {
        let mut g = c.benchmark_group(format!("sequencer/{}", backend.name()));
        let path = dir.path().join(format!("fsync-{}.bin", backend.name()));
        fdatasync(&mut g, &path);

        // A single node: the integrator task of this process, fed through its queue.
        let store = Arc::new(rt.block_on(backend.open("sequencer")));
        let (seq, _heads) = rt
            .block_on(Sequencer::start(store, log_key.clone()))
            .expect("starts");
        submits(&mut g, &rt, "submit", &seq, &mut signer);
        drop(seq);

        // Two nodes of a shared log: the lease holder, then the other one, whose
        // submissions go through the `submissions` table.
        if let Some(url) = backend.url("cluster") {
            let node = |store: SqlStore| {
                rt.block_on(cluster::start_node(
                    Arc::new(store),
                    &url,
                    log_key.clone(),
                    AdmitAll,
                    Arc::new(SystemClock),
                ))
                .expect("the node starts")
                .0
            };
            let leader = node(rt.block_on(backend.open("cluster")));
            submits(&mut g, &rt, "lease_submit", &leader, &mut signer);
            let other = node(
                rt.block_on(ledger_node::storage::postgres::open(&url))
                    .expect("opens the shared database"),
            );
            assert!(!other.is_integrator(), "the first node holds the lease");
            submits(&mut g, &rt, "table_submit", &other, &mut signer);
            other.stop();
            leader.stop();
        }

        // The storage calls alone, on a store of their own.
        let raw = rt.block_on(backend.open("raw"));
        g.throughput(Throughput::Elements(1));
        g.bench_function("select_1", |b| {
            b.iter(|| {
                rt.block_on(sqlx::query("SELECT 1").execute(raw.pool()))
                    .expect("query")
            })
        });
        storage_calls(&mut g, &rt, &raw);
        g.finish();
    }
}

/// One 600-byte append to the file at `path` and its `fdatasync`.
fn fdatasync(g: &mut BenchmarkGroup<'_, WallTime>, path: &Path) {
    g.throughput(Throughput::Elements(1));
    let mut file = std::fs::File::create(path).expect("creates");
    let block = [b'x'; 600];
    g.bench_function("fdatasync", |b| {
        b.iter(|| {
            file.write_all(&block).expect("writes");
            file.sync_data().expect("syncs");
        })
    });
}

/// `name/n`: `n` fresh entries submitted at once, until every one is sequenced.
fn submits(
    g: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    name: &str,
    seq: &Sequencer,
    signer: &mut Signer,
) {
    for in_flight in [1usize, 16, 64, 256, 1024] {
        g.throughput(Throughput::Elements(in_flight as u64));
        g.bench_function(BenchmarkId::new(name, in_flight), |b| {
            b.iter_custom(|rounds| {
                let mut timed = Duration::ZERO;
                for _ in 0..rounds {
                    let entries = signer.entries(in_flight);
                    let start = Instant::now();
                    rt.block_on(async {
                        let waiting: Vec<_> = entries
                            .into_iter()
                            .map(|e| {
                                let seq = seq.clone();
                                tokio::spawn(async move { seq.submit(e).await })
                            })
                            .collect();
                        for w in waiting {
                            let appended = w.await.expect("task").expect("sequenced");
                            assert!(!appended.duplicate);
                        }
                    });
                    timed += start.elapsed();
                }
                timed
            })
        });
    }
}

/// `store_append/n`, `find_leaves/n`, `savepoint_release` and `insert_commit/n` on `raw`.
fn storage_calls(g: &mut BenchmarkGroup<'_, WallTime>, rt: &Runtime, raw: &SqlStore) {
    let mut frontier = Frontier::empty();
    let mut hashes_written = 0u64;
    let mut batch = |n: usize| {
        let mut entries = Vec::with_capacity(n);
        let mut hashes = Vec::with_capacity(2 * n);
        for _ in 0..n {
            let index = frontier.size();
            let mut leaf = format!("{{\"synthetic\":{index:012},\"pad\":\"").into_bytes();
            leaf.resize(598, b'x');
            leaf.extend_from_slice(b"\"}");
            let leaf_hash = tree::leaf_hash(&leaf);
            hashes.extend(frontier.append(leaf_hash));
            entries.push(NewEntry {
                index,
                leaf_hash,
                leaf,
                kind: "need.post",
                author: [(index % 8) as u8; 32],
            });
        }
        let first_position = hashes_written;
        hashes_written += hashes.len() as u64;
        Batch {
            entries,
            first_position,
            hashes,
            checkpoint: StoredCheckpoint {
                tree_size: frontier.size(),
                note: format!("synthetic checkpoint {}\n", frontier.size()),
            },
        }
    };
    for n in [1usize, 64, 1024] {
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(BenchmarkId::new("store_append", n), |b| {
            b.iter_custom(|rounds| {
                let mut timed = Duration::ZERO;
                for _ in 0..rounds {
                    let write = batch(n);
                    let start = Instant::now();
                    rt.block_on(raw.append(&write)).expect("appends");
                    timed += start.elapsed();
                }
                timed
            })
        });
        let mut probe = 0u64;
        g.bench_function(BenchmarkId::new("find_leaves", n), |b| {
            b.iter_custom(|rounds| {
                let mut timed = Duration::ZERO;
                for _ in 0..rounds {
                    let absent: Vec<Hash> = (0..n)
                        .map(|_| {
                            probe += 1;
                            tree::leaf_hash(&probe.to_be_bytes())
                        })
                        .collect();
                    let start = Instant::now();
                    let found = rt.block_on(raw.find_leaves(&absent)).expect("reads");
                    timed += start.elapsed();
                    assert!(found.is_empty());
                }
                timed
            })
        });
    }

    // One SAVEPOINT and its RELEASE on a connection already in a transaction: the
    // statement round trips a per-entry savepoint in the integrator would cost.
    g.throughput(Throughput::Elements(1));
    let mut tx = rt.block_on(raw.pool().begin()).expect("begins");
    g.bench_function("savepoint_release", |b| {
        b.iter(|| {
            rt.block_on(async {
                sqlx::query("SAVEPOINT bench").execute(&mut *tx).await?;
                sqlx::query("RELEASE bench").execute(&mut *tx).await
            })
            .expect("savepoint")
        })
    });
    rt.block_on(tx.rollback()).expect("rolls back");

    // Single-row autocommit INSERTs, n at once through the pool: each a durable commit
    // of its own, as every submission on the shared queue is; how far concurrent
    // commits share a flush (group commit) shows in the time per row.
    rt.block_on(sqlx::query("CREATE TABLE bench_commit (n BIGINT NOT NULL)").execute(raw.pool()))
        .expect("creates");
    for n in [1usize, 64, 1024] {
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(BenchmarkId::new("insert_commit", n), |b| {
            b.iter(|| {
                rt.block_on(async {
                    let inserts: Vec<_> = (0..n)
                        .map(|_| {
                            let pool = raw.pool().clone();
                            tokio::spawn(async move {
                                sqlx::query("INSERT INTO bench_commit (n) VALUES (1)")
                                    .execute(&pool)
                                    .await
                            })
                        })
                        .collect();
                    for insert in inserts {
                        insert.await.expect("task").expect("inserts");
                    }
                })
            })
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = sequencer
}
criterion_main!(benches);
