//! Crash safety of the real binary: `aidledger serve` is SIGKILLed while eight writers
//! submit concurrently, then restarted over the same data directory, several times.
//! After every restart, every acknowledged entry must sit at its acknowledged index,
//! and the new checkpoint must verify and extend the last one seen before the kill.
//! At the end the whole log must pass `aidledger verify`, online and offline. On
//! PostgreSQL the node is started with `--database-url`; the server's own durability
//! and the integrator's lease are what is tested there.

use crate::common;

use aidledger::client::LogClient;
use aidledger::data_dir::DATABASE_FILE;
use common::process::{command, path_str, Server};
use common::{author, offer};
use ledger::checkpoint::{Checkpoint, LogVerifier};
use ledger::tree::{leaf_hash, verify_consistency};
use ledger::{hex32, Hash};
use rand::Rng;
use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Rounds of load followed by a SIGKILL (each followed by a restart and an audit).
const ROUNDS: usize = 8;
/// Concurrent writers per round.
const WRITERS: u8 = 16;
/// Upper bound of the random delay between the first acknowledgement and the kill.
const MAX_KILL_DELAY_MS: u64 = 1000;

/// A submission the server acknowledged (201).
#[derive(Clone)]
struct Ack {
    leaf: Vec<u8>,
    leaf_hash: Hash,
    index: u64,
    tree_size: u64,
}

/// What one round of load under a kill produced.
struct Load {
    acks: Vec<Ack>,
    /// The largest verified checkpoint read from the server before the kill.
    seen: Option<(Checkpoint, String)>,
    /// Submissions that failed after the kill started (connection errors).
    failed: usize,
}

/// Runs `WRITERS` concurrent writers and a checkpoint watcher against `server`; kills
/// it a random short delay after the first acknowledgement.
async fn load_then_kill(server: &mut Server, round: usize, verifier: &Arc<LogVerifier>) -> Load {
    let client = LogClient::new(&server.url);
    let killing = Arc::new(AtomicBool::new(false));
    let acks = Arc::new(Mutex::new(Vec::new()));
    let (acked, mut ack_count) = tokio::sync::watch::channel(0usize);
    let acked = Arc::new(acked);

    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let (client, killing, acks, acked) =
            (client.clone(), killing.clone(), acks.clone(), acked.clone());
        writers.push(tokio::spawn(async move {
            let key = author(writer + 1);
            for seq in 0u64.. {
                let leaf = offer(
                    &key,
                    &format!("crash test round {round} writer {writer} #{seq}"),
                );
                match client.submit(leaf.clone()).await {
                    Ok((status, answer)) => {
                        assert_eq!(status, 201, "a new entry is created: {answer:?}");
                        let hash = leaf_hash(&leaf);
                        assert_eq!(
                            hex32::decode(&answer.leaf_hash).unwrap(),
                            hash,
                            "the acknowledged leaf hash is the leaf's"
                        );
                        assert!(
                            answer.index < answer.tree_size,
                            "acknowledged index {} outside its tree size {}",
                            answer.index,
                            answer.tree_size
                        );
                        acks.lock().unwrap().push(Ack {
                            leaf,
                            leaf_hash: hash,
                            index: answer.index,
                            tree_size: answer.tree_size,
                        });
                        acked.send_modify(|n| *n += 1);
                    }
                    Err(e) => {
                        assert!(
                            killing.load(Ordering::SeqCst),
                            "round {round} writer {writer}: submission failed before the kill: {e:#}"
                        );
                        return 1usize;
                    }
                }
            }
            unreachable!()
        }));
    }

    let watcher = {
        let (client, killing, verifier) = (client.clone(), killing.clone(), verifier.clone());
        tokio::spawn(async move {
            let mut seen: Option<(Checkpoint, String)> = None;
            while !killing.load(Ordering::SeqCst) {
                let Ok(note) = client.checkpoint().await else {
                    break;
                };
                let checkpoint = verifier
                    .verify(note.as_bytes())
                    .expect("the live server's checkpoint verifies");
                if let Some((last, _)) = &seen {
                    assert!(
                        checkpoint.size >= last.size,
                        "the live log shrank from {} to {}",
                        last.size,
                        checkpoint.size
                    );
                }
                seen = Some((checkpoint, note));
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            seen
        })
    };

    // Some load first, then a random short delay, then the crash.
    ack_count
        .wait_for(|n| *n > 0)
        .await
        .expect("the writers acknowledge at least one entry");
    let delay = rand::thread_rng().gen_range(0..=MAX_KILL_DELAY_MS);
    tokio::time::sleep(Duration::from_millis(delay)).await;
    killing.store(true, Ordering::SeqCst);
    server.kill();

    let mut failed = 0;
    for writer in writers {
        failed += writer.await.expect("writer task");
    }
    let seen = watcher.await.expect("watcher task");
    let acks = std::mem::take(&mut *acks.lock().unwrap());
    Load { acks, seen, failed }
}

/// Every entry of the log of `size`, as served: leaf hashes by index (checked against
/// the served leaves).
async fn served_leaf_hashes(client: &LogClient, size: u64) -> Vec<Hash> {
    let mut out = Vec::with_capacity(size as usize);
    while (out.len() as u64) < size {
        let start = out.len() as u64;
        let page = client
            .entries(start, (size - start).min(1000))
            .await
            .expect("entries page");
        assert!(!page.is_empty(), "the server stopped at {start} of {size}");
        for entry in page {
            assert_eq!(entry.index, out.len() as u64, "entries are served densely");
            assert_eq!(
                leaf_hash(&entry.leaf),
                entry.leaf_hash,
                "served leaf {} does not match its hash",
                entry.index
            );
            out.push(entry.leaf_hash);
        }
    }
    out
}

/// The audit after a restart: the head verifies and extends `before`, and every entry
/// acknowledged so far is where it was acknowledged. Returns the new head.
async fn check_after_restart(
    server: &Server,
    verifier: &LogVerifier,
    before: Option<&(Checkpoint, String)>,
    acks: &[Ack],
) -> (Checkpoint, String) {
    let client = LogClient::new(&server.url);
    let note = client.checkpoint().await.expect("checkpoint after restart");
    let head = verifier
        .verify(note.as_bytes())
        .unwrap_or_else(|e| panic!("the checkpoint after restart does not verify: {e}"));

    if let Some((old, _)) = before {
        assert!(
            head.size >= old.size,
            "the log shrank across the crash: {} entries seen before, {} after",
            old.size,
            head.size
        );
        if old.size > 0 {
            let proof = client
                .consistency_proof(old.size, head.size)
                .await
                .expect("consistency proof");
            verify_consistency(&proof, old.size, old.root, head.size, head.root).unwrap_or_else(
                |e| {
                    panic!(
                        "the head after restart (size {}) is not consistent with the one seen \
                         before the crash (size {}): {e:?}",
                        head.size, old.size
                    )
                },
            );
        }
    }

    let max_acked = acks.iter().map(|a| a.tree_size).max().unwrap_or(0);
    assert!(
        head.size >= max_acked,
        "an entry was acknowledged in a tree of size {max_acked}, but the log restarted at {}",
        head.size
    );
    let served = served_leaf_hashes(&client, head.size).await;
    let mut missing = vec![];
    for ack in acks {
        if served.get(ack.index as usize) != Some(&ack.leaf_hash) {
            missing.push((ack.index, hex32::encode(&ack.leaf_hash)));
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged entries are not at their index after restart (log size {}): {:?}",
        missing.len(),
        acks.len(),
        head.size,
        &missing[..missing.len().min(10)]
    );

    // Re-submitting acknowledged entries finds them where they were.
    let mut rng = rand::thread_rng();
    for _ in 0..acks.len().min(8) {
        let ack = &acks[rng.gen_range(0..acks.len())];
        let (status, answer) = client
            .submit(ack.leaf.clone())
            .await
            .expect("re-submission of an acknowledged entry");
        assert_eq!(
            (status, answer.index),
            (200, ack.index),
            "a re-submitted acknowledged entry is a duplicate at its index"
        );
    }
    (head, note)
}

struct Output {
    ok: bool,
    stdout: String,
    stderr: String,
}

/// Waits until no stored submission is left unsequenced. On PostgreSQL a node without
/// the lease durably stores a submission before it is sequenced, and one stored while
/// the killed node was taking the lease is appended by the restarted one (its client
/// got no answer): the log may grow after a restart without new submissions.
async fn sequenced_everything_accepted(data_dir: &Path) {
    let pool = common::open_db(data_dir).await;
    for _ in 0..300 {
        let undecided: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM submissions WHERE outcome IS NULL")
                .fetch_one(&pool)
                .await
                .unwrap();
        if undecided == 0 {
            pool.close().await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("accepted submissions are still unsequenced 30 s after the restart");
}

async fn run(args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let output = command(&args.iter().map(String::as_str).collect::<Vec<_>>())
            .stdin(Stdio::null())
            .output()
            .expect("the binary runs");
        Output {
            ok: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    })
    .await
    .unwrap()
}

fn assert_ok(out: &Output, what: &str, size: u64) {
    assert!(
        out.ok,
        "{what} should pass\nstdout: {}\nstderr: {}",
        out.stdout, out.stderr
    );
    assert!(
        out.stdout.contains(&format!("OK: {size} entries verified")),
        "{what}: {}",
        out.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_entries_survive_sigkill_under_concurrent_load() {
    let data = tempfile::tempdir().unwrap();
    let database_url = common::database_url(data.path()).await;
    let scratch = tempfile::tempdir().unwrap();
    let early = scratch.path().join("early.checkpoint");
    let mut pinned: Option<String> = None;
    let mut verifier: Option<Arc<LogVerifier>> = None;
    let mut acks: Vec<Ack> = Vec::new();
    let mut before: Option<(Checkpoint, String)> = None;
    let mut kills = 0;
    let mut failed_in_kills = 0;

    for round in 0..=ROUNDS {
        let mut server = Server::spawn(
            data.path(),
            database_url.as_deref(),
            &[],
            scratch.path().join(format!("server-{round}.log")),
        );
        let key = LogClient::new(&server.url)
            .key()
            .await
            .expect("the log key");
        let vkey = pinned.get_or_insert_with(|| key.vkey.clone());
        assert_eq!(*vkey, key.vkey, "the log keeps its key across restarts");
        let verifier = verifier
            .get_or_insert_with(|| Arc::new(LogVerifier::new(vkey).unwrap()))
            .clone();
        if database_url.is_some() {
            sequenced_everything_accepted(data.path()).await;
        }
        let head = check_after_restart(&server, &verifier, before.as_ref(), &acks).await;
        if round == 1 {
            let out = run(&["verify", "--url", &server.url, "--save", path_str(&early)]).await;
            assert_ok(
                &out,
                "verify --url --save after the first crash",
                head.0.size,
            );
        }
        if round == ROUNDS {
            // The final audit: online against a saved checkpoint, then offline after
            // one more crash.
            let latest = scratch.path().join("latest.checkpoint");
            let out = run(&[
                "verify",
                "--url",
                &server.url,
                "--checkpoint",
                path_str(&early),
                "--save",
                path_str(&latest),
            ])
            .await;
            assert_ok(&out, "verify --url", head.0.size);
            server.kill();
            kills += 1;
            let db = data.path().join(DATABASE_FILE);
            let mut args = vec!["verify", "--checkpoint", path_str(&latest), "--db"];
            match &database_url {
                Some(url) => args.extend([url.as_str(), "--vkey", vkey.as_str()]),
                None => args.push(path_str(&db)),
            }
            let out = run(&args).await;
            assert_ok(&out, "verify --db after the last crash", head.0.size);
            println!(
                "{kills} SIGKILLs ({ROUNDS} under load), {} acknowledged entries survived, \
                 {failed_in_kills} submissions failed during kills, final log size {}",
                acks.len(),
                head.0.size
            );
            break;
        }

        let load = load_then_kill(&mut server, round, &verifier).await;
        kills += 1;
        failed_in_kills += load.failed;
        println!(
            "round {round}: {} acknowledged, {} failed at the kill, head seen before the kill: {:?}",
            load.acks.len(),
            load.failed,
            load.seen.as_ref().map(|(c, _)| c.size)
        );
        acks.extend(load.acks);
        // The last head seen before this kill: the watcher's or, if it saw nothing
        // newer, the one after the previous restart.
        before = Some(match load.seen {
            Some(seen) if seen.0.size >= head.0.size => seen,
            _ => head,
        });
    }

    // Indexes are unique across all rounds.
    let mut by_index: HashMap<u64, Hash> = HashMap::new();
    for ack in &acks {
        if let Some(other) = by_index.insert(ack.index, ack.leaf_hash) {
            assert_eq!(
                other, ack.leaf_hash,
                "two entries acknowledged at {}",
                ack.index
            );
        }
    }
    assert!(kills > ROUNDS, "at least {ROUNDS} kills under load");
}
