//! Several nodes on one PostgreSQL database (`aidledger serve --database-url`): three
//! real processes on loopback take submissions at once; the one holding the
//! integrator's lease is SIGKILLed mid-run; another takes over. Afterwards the log has
//! no gap and no duplicate, every acknowledged entry sits exactly once at its
//! acknowledged index, the checkpoints before and after the hand-over are consistent,
//! and every node — the killed one restarted too — serves the same log and finds the
//! same entries in its own search index.
//!
//! Runs when the suite is on PostgreSQL (`AIDLEDGER_TEST_POSTGRES`); several nodes
//! share nothing on SQLite.

use crate::common;

use aidledger::client::LogClient;
use aidledger::keys::LOG_KEY_FILE;
use common::process::{command, path_str, Server};
use common::{author, offer};
use ledger::checkpoint::{Checkpoint, LogVerifier};
use ledger::tree::{leaf_hash, verify_consistency};
use ledger::Hash;
use serde_json::Value;
use sqlx::{Connection, Executor};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const NODES: usize = 3;
/// Concurrent writers per node.
const WRITERS: usize = 4;
/// Acknowledgements before the integrator is killed, and after the take-over.
const BEFORE_KILL: usize = 150;
const AFTER_TAKEOVER: usize = 150;
/// Generous bounds on waiting; no test asserts a latency.
const PATIENCE: Duration = Duration::from_secs(60);

/// Serving flags of every node: no write limits (one address writes fast).
const UNLIMITED: [&str; 4] = ["--rate-limit-per-ip", "0", "--rate-limit-per-key", "0"];

#[derive(Clone)]
struct Ack {
    node: usize,
    tag: String,
    leaf_hash: Hash,
    index: u64,
    tree_size: u64,
}

struct Node {
    dir: PathBuf,
    server: Option<Server>,
    client: LogClient,
}

async fn node_status(client: &LogClient) -> Option<Value> {
    client.get::<Value>("/api/v1/node").await.ok()
}

fn spawn(dir: &Path, url: &str, extra: &[&str], log: PathBuf) -> (Server, LogClient) {
    let mut args = UNLIMITED.to_vec();
    args.extend(extra);
    let server = Server::spawn(dir, Some(url), &args, log);
    let client = LogClient::new(&server.url);
    (server, client)
}

/// Polls `probe` until it yields a value, for at most `PATIENCE`.
async fn eventually<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    mut probe: impl FnMut() -> F,
) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(start.elapsed() < PATIENCE, "gave up waiting: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Indices of the running nodes that say they are the integrator.
async fn integrators(nodes: &[Node]) -> Vec<usize> {
    let mut out = vec![];
    for (i, node) in nodes.iter().enumerate() {
        if node.server.is_some() {
            if let Some(status) = node_status(&node.client).await {
                if status["integrator"] == true {
                    out.push(i);
                }
            }
        }
    }
    out
}

async fn verified_head(client: &LogClient, verifier: &LogVerifier) -> Checkpoint {
    let note = client.checkpoint().await.expect("a checkpoint");
    verifier
        .verify(note.as_bytes())
        .expect("the checkpoint verifies")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_nodes_share_one_log_through_the_integrators_death() {
    if !common::on_postgres() {
        eprintln!("not run on SQLite: several nodes need a shared PostgreSQL database");
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let dirs: Vec<PathBuf> = (0..NODES)
        .map(|i| root.path().join(format!("node{i}")))
        .collect();
    let url = common::database_url(&dirs[0]).await.unwrap();
    let log = |name: String| root.path().join(format!("{name}.log"));

    // The first node creates the log (its key, the operator); the others get the same
    // log key and join it.
    let mut nodes = Vec::new();
    let (server, client) = spawn(&dirs[0], &url, &[], log("node0".into()));
    nodes.push(Node {
        dir: dirs[0].clone(),
        server: Some(server),
        client,
    });
    for (i, dir) in dirs.iter().enumerate().skip(1) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::copy(dirs[0].join(LOG_KEY_FILE), dir.join(LOG_KEY_FILE)).unwrap();
        let (server, client) = spawn(dir, &url, &["--no-bootstrap"], log(format!("node{i}")));
        nodes.push(Node {
            dir: dir.clone(),
            server: Some(server),
            client,
        });
    }
    let vkey = nodes[0].client.key().await.unwrap().vkey;
    for node in &nodes {
        assert_eq!(
            node.client.key().await.unwrap().vkey,
            vkey,
            "one log, one key"
        );
    }
    let verifier = Arc::new(LogVerifier::new(&vkey).unwrap());
    let first = eventually("exactly one integrator", || async {
        let found = integrators(&nodes).await;
        (found.len() == 1).then(|| found[0])
    })
    .await;

    // Writers on every node, until told to stop.
    let acks: Arc<Mutex<Vec<Ack>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let killed: Arc<Mutex<Option<(usize, Instant)>>> = Arc::default();
    let first_ack_after_kill: Arc<Mutex<Option<Duration>>> = Arc::default();
    let mut writers = Vec::new();
    for (n, node) in nodes.iter().enumerate() {
        for w in 0..WRITERS {
            let (client, acks, stop, killed, after) = (
                node.client.clone(),
                acks.clone(),
                stop.clone(),
                killed.clone(),
                first_ack_after_kill.clone(),
            );
            writers.push(tokio::spawn(async move {
                let key = author(1 + (n * WRITERS + w) as u8);
                let mut failed = 0;
                for seq in 0u64.. {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let tag = format!("clusterprobe n{n}w{w}s{seq}");
                    let leaf = offer(&key, &tag);
                    match client.submit(leaf.clone()).await {
                        Ok((status, answer)) => {
                            assert_eq!(status, 201, "node {n}: {answer:?}");
                            if let Some((_, at)) = *killed.lock().unwrap() {
                                after.lock().unwrap().get_or_insert(at.elapsed());
                            }
                            acks.lock().unwrap().push(Ack {
                                node: n,
                                tag,
                                leaf_hash: leaf_hash(&leaf),
                                index: answer.index,
                                tree_size: answer.tree_size,
                            });
                        }
                        Err(e) => {
                            let killed = *killed.lock().unwrap();
                            assert!(
                                killed.is_some_and(|(k, _)| k == n),
                                "node {n} writer {w}: a submission to a live node failed: {e:#}"
                            );
                            failed += 1;
                            break;
                        }
                    }
                }
                failed
            }));
        }
    }
    let acked = |acks: &Arc<Mutex<Vec<Ack>>>| acks.lock().unwrap().len();
    eventually("acknowledgements before the kill", || async {
        (acked(&acks) >= BEFORE_KILL).then_some(())
    })
    .await;

    // Kill the integrator; another node takes the lease.
    let survivor = (first + 1) % NODES;
    let before_note = nodes[survivor].client.checkpoint().await.unwrap();
    let before = verifier.verify(before_note.as_bytes()).unwrap();
    let saved = root.path().join("before.checkpoint");
    std::fs::write(&saved, &before_note).unwrap();
    *killed.lock().unwrap() = Some((first, Instant::now()));
    let at_kill = acked(&acks);
    nodes[first].server.as_mut().unwrap().kill();
    nodes[first].server = None;
    let kill_time = Instant::now();
    let second = eventually("a new integrator", || async {
        let found = integrators(&nodes).await;
        (found.len() == 1).then(|| found[0])
    })
    .await;
    let takeover = kill_time.elapsed();
    assert_ne!(second, first, "the dead node cannot hold the lease");
    eventually("acknowledgements after the take-over", || async {
        (acked(&acks) >= at_kill + AFTER_TAKEOVER).then_some(())
    })
    .await;
    stop.store(true, Ordering::SeqCst);
    let mut failed = 0;
    for w in writers {
        failed += w.await.unwrap();
    }

    // The killed node comes back as a follower and catches up.
    let (server, client) = spawn(
        &nodes[first].dir,
        &url,
        &["--no-bootstrap"],
        log(format!("node{first}-restarted")),
    );
    nodes[first].server = Some(server);
    nodes[first].client = client;
    assert_eq!(
        integrators(&nodes).await,
        vec![second],
        "still one integrator"
    );

    // Submissions the other nodes had stored but the killed one had not decided are
    // sequenced too (those it had taken in-process died with it, unanswered): wait for
    // the log to settle, then for every node to serve its head.
    let pool = common::open_db(&nodes[0].dir).await;
    eventually("every accepted submission decided", || async {
        let undecided: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM submissions WHERE outcome IS NULL")
                .fetch_one(&pool)
                .await
                .unwrap();
        (undecided == 0).then_some(())
    })
    .await;
    let size: i64 = sqlx::query_scalar("SELECT MAX(tree_size) FROM checkpoints")
        .fetch_one(&pool)
        .await
        .unwrap();
    let size = size as u64;
    pool.close().await;
    let mut notes = HashSet::new();
    for node in &nodes {
        let head = eventually("every node serves the final head", || async {
            let head = verified_head(&node.client, &verifier).await;
            (head.size == size).then_some(head)
        })
        .await;
        notes.insert(node.client.checkpoint().await.unwrap());
        // The head after the hand-over extends the one before it.
        let proof = node
            .client
            .consistency_proof(before.size, head.size)
            .await
            .unwrap();
        verify_consistency(&proof, before.size, before.root, head.size, head.root)
            .expect("the checkpoints are consistent across the hand-over");
    }
    assert_eq!(
        notes.len(),
        1,
        "every node serves the same signed checkpoint"
    );

    // One log: every index once, every leaf once, every acknowledgement where it said.
    let client = &nodes[survivor].client;
    let mut entries = Vec::new();
    while (entries.len() as u64) < size {
        let page = client.entries(entries.len() as u64, 1000).await.unwrap();
        assert!(!page.is_empty(), "entries stop at {}", entries.len());
        entries.extend(page);
    }
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e.index, i as u64, "no gap in the log");
    }
    let by_hash: HashMap<[u8; 32], u64> =
        entries.iter().map(|e| (e.leaf_hash.0, e.index)).collect();
    assert_eq!(by_hash.len(), entries.len(), "no entry appended twice");
    let acks = acks.lock().unwrap().clone();
    let mut indices = HashSet::new();
    for ack in &acks {
        assert!(ack.index < ack.tree_size, "{} outside its tree", ack.index);
        assert_eq!(
            by_hash.get(&ack.leaf_hash.0),
            Some(&ack.index),
            "the entry acknowledged at {} is there",
            ack.index
        );
        assert!(
            indices.insert(ack.index),
            "index {} acknowledged twice",
            ack.index
        );
    }
    let sequenced_from = |n: usize| acks.iter().filter(|a| a.node == n).count();
    for n in 0..NODES {
        assert!(sequenced_from(n) > 0, "node {n} accepted submissions");
    }

    // Every node's reads and its own search index converge on the same entries.
    let sample: Vec<&Ack> = (0..NODES)
        .filter_map(|n| acks.iter().rev().find(|a| a.node == n))
        .chain(acks.iter().take(2))
        .collect();
    for node in &nodes {
        for ack in &sample {
            let id = ledger::hex32::encode(&ack.leaf_hash);
            let offer: Value = node
                .client
                .get(&format!("/api/v1/offers/{id}"))
                .await
                .expect("every node reads every offer");
            assert_eq!(offer["description"], ack.tag);
            let query = ack.tag.replace(' ', "+");
            eventually("every node's index finds the entry", || async {
                let found: Value = node
                    .client
                    .get(&format!("/api/v1/search?q={query}"))
                    .await
                    .ok()?;
                found["hits"]
                    .as_array()?
                    .iter()
                    .any(|h| h["id"] == id.as_str())
                    .then_some(())
            })
            .await;
        }
    }

    // The whole log passes the audit against the checkpoint saved before the kill.
    let audit = command(&[
        "verify",
        "--url",
        &nodes[second].server.as_ref().unwrap().url,
        "--checkpoint",
        path_str(&saved),
    ])
    .output()
    .unwrap();
    assert!(
        audit.status.success(),
        "{}",
        String::from_utf8_lossy(&audit.stderr)
    );
    println!(
        "{} acknowledged ({} before the kill), {failed} submissions to the killed node failed, \
         log size {size}; node {first} killed, node {second} took the lease in {} ms, first \
         acknowledgement after the kill {} ms after it",
        acks.len(),
        at_kill,
        takeover.as_millis(),
        first_ack_after_kill
            .lock()
            .unwrap()
            .map_or(0, |d| d.as_millis()),
    );
}

/// Anyone with the database's password can write a row to `submissions`. One that is
/// not a valid entry, or whose private sidecar cannot be read, is decided as failed
/// (naming what is wrong, never the sidecar's contents) instead of stopping every batch
/// after it; a valid submission sent after them is appended.
#[tokio::test(flavor = "multi_thread")]
async fn a_stored_submission_that_is_not_valid_is_decided_and_the_log_goes_on() {
    if !common::on_postgres() {
        eprintln!("not run on SQLite: it has no shared submissions table");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let instance = common::TestInstance::start_in(dir.path()).await;
    let pool = common::open_db(dir.path()).await;
    let mut bad = Vec::new();
    for (leaf, sidecar) in [
        (b"not an entry".to_vec(), None),
        (
            offer(&author(7), "stored"),
            Some("{\"phone\": \"+86 27 8574 0000\""),
        ),
    ] {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO submissions (leaf, sidecar, accepted_at) VALUES ($1, $2, 0) RETURNING id",
        )
        .bind(leaf)
        .bind(sidecar)
        .fetch_one(&pool)
        .await
        .unwrap();
        bad.push(id);
    }
    common::post_entry(&instance.url, offer(&author(8), "after")).await;
    for id in bad {
        let outcome: Option<String> =
            sqlx::query_scalar("SELECT outcome FROM submissions WHERE id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap();
        let outcome = outcome.expect("decided before the valid submission after it");
        assert!(outcome.contains("the stored submission"), "{outcome}");
        assert!(!outcome.contains("8574"), "no private data: {outcome}");
    }
    pool.close().await;
    instance.stop().await;
}

/// The lease holder hands its own submissions to its integrator without writing them
/// to the `submissions` table. When its connection ends, what it holds goes to the
/// table for whichever node leads next: the batch that was in flight, the submissions
/// queued behind it, and those handed to it meanwhile. Here the test holds the lease
/// next, so every one of them waits there, undecided and unanswered, until the test
/// lets go and the node takes the lease back and appends them all.
#[tokio::test(flavor = "multi_thread")]
async fn a_node_that_loses_the_lease_passes_its_own_submissions_to_the_table() {
    if !common::on_postgres() {
        eprintln!("not run on SQLite: it has no lease");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let instance = common::TestInstance::start_in(dir.path()).await;
    let client = LogClient::new(&instance.url);
    eventually("the node holds the lease", || async {
        let status = node_status(&client).await?;
        (status["integrator"] == true).then_some(())
    })
    .await;
    let pool = common::open_db(dir.path()).await;
    let rows_ever = || async {
        let (last, called): (i64, bool) =
            sqlx::query_as("SELECT last_value, is_called FROM submissions_id_seq")
                .fetch_one(&pool)
                .await
                .unwrap();
        (last, called)
    };
    let before = rows_ever().await;
    for n in 0..5 {
        common::post_entry(&instance.url, offer(&author(20 + n), "own")).await;
    }
    assert_eq!(rows_ever().await, before, "the lease holder wrote no row");

    // Hold up the node's next batch on a lock, so that its submissions pile up in
    // memory behind it.
    let url = common::database_url(dir.path()).await.unwrap();
    let mut blocker = sqlx::AnyConnection::connect(&url).await.unwrap();
    blocker.execute("BEGIN").await.unwrap();
    blocker
        .execute("LOCK TABLE checkpoints IN EXCLUSIVE MODE")
        .await
        .unwrap();
    const WAITING: usize = 8;
    let posts: Vec<_> = (0..WAITING)
        .map(|n| {
            let url = instance.url.clone();
            let leaf = offer(&author(40 + n as u8), "while the lease changes hands");
            tokio::spawn(async move { common::post_entry(&url, leaf).await })
        })
        .collect();
    eventually("the node's batch waits for the lock", || async {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_locks WHERE NOT granted \
             AND relation = 'checkpoints'::regclass",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        (waiting > 0).then_some(())
    })
    .await;

    // End the node's lease connection, in the middle of that batch, and take the lease.
    let holder = common::take_lease(&url).await;
    blocker.execute("ROLLBACK").await.unwrap();
    eventually("every submission waits in the table", || async {
        let undecided: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM submissions WHERE outcome IS NULL")
                .fetch_one(&pool)
                .await
                .unwrap();
        (undecided == WAITING as i64).then_some(())
    })
    .await;
    assert!(
        posts.iter().all(|p| !p.is_finished()),
        "nothing is answered while the test holds the lease"
    );

    holder.close().await.unwrap();
    let mut appended = Vec::new();
    for post in posts {
        appended.push(post.await.unwrap());
    }
    let logged: Vec<String> = client
        .entries(0, 1000)
        .await
        .unwrap()
        .iter()
        .map(|e| ledger::hex32::encode(&e.leaf_hash))
        .collect();
    for leaf_hash in &appended {
        let times = logged.iter().filter(|l| *l == leaf_hash).count();
        assert_eq!(times, 1, "{leaf_hash} is in the log once");
    }
    blocker.close().await.unwrap();
    pool.close().await;
    instance.stop().await;
}
