//! Sequencing without HTTP: already-verified entries through `Sequencer::submit` into
//! SQLite (WAL, synchronous = FULL) in a temp dir, `n` submissions in flight at once.
//!
//! The same-run baseline is `fdatasync`: one 600-byte append to a file beside the
//! database plus `File::sync_data`, the durability floor every commit pays. With one
//! submission in flight each entry is its own batch, so `submit/1` against
//! `fdatasync` is the fixed cost of a batch; with many in flight the integrator
//! groups them and the time per entry shows what a sequenced entry costs beyond its
//! verification.
//!
//! `store_append/n` and `find_leaves/n` time the two storage calls of one batch of
//! `n` entries alone (synthetic 600-byte leaves, in a second database), so that
//! `submit/n` minus them is the integrator's own work and its waits.
//! `savepoint_release` is one `SAVEPOINT` plus its `RELEASE` inside an open transaction:
//! two statement round trips to sqlx's SQLite worker thread.
//!
//! Run: `cargo bench -p aidledger-ledger --features storage --bench sequencer`.

mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ed25519_dalek::SigningKey;
use ledger::checkpoint::LogSigner;
use ledger::entry::{UnsignedEntry, VerifiedEntry};
use ledger::sequencer::Sequencer;
use ledger::storage::{Batch, LogStore, NewEntry, StoredCheckpoint};
use ledger::tree::{self, Frontier, Hash};
use ledger::Kind;
use std::io::Write;
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
    let store = Arc::new(
        rt.block_on(ledger::storage::sqlite::open(&dir.path().join("bench.db")))
            .expect("opens"),
    );
    let log_key =
        LogSigner::new("bench.example/log", SigningKey::from_bytes(&[9; 32])).expect("log key");
    let (seq, _heads) = rt
        .block_on(Sequencer::start(store, log_key))
        .expect("starts");
    let mut signer = Signer {
        keys: (1..=8u8)
            .map(|i| SigningKey::from_bytes(&[i; 32]))
            .collect(),
        next: 0,
        at: OffsetDateTime::now_utc(),
    };

    let mut g = c.benchmark_group("sequencer");
    g.throughput(Throughput::Elements(1));
    let mut file = std::fs::File::create(dir.path().join("fsync.bin")).expect("creates");
    let block = [b'x'; 600];
    g.bench_function("fdatasync", |b| {
        b.iter(|| {
            file.write_all(&block).expect("writes");
            file.sync_data().expect("syncs");
        })
    });
    for in_flight in [1usize, 16, 64, 256, 1024] {
        g.throughput(Throughput::Elements(in_flight as u64));
        g.bench_function(BenchmarkId::new("submit", in_flight), |b| {
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

    // The storage calls alone, on a database of their own.
    let raw = rt
        .block_on(ledger::storage::sqlite::open(&dir.path().join("raw.db")))
        .expect("opens");
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
    g.finish();
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
