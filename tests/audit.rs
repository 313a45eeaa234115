//! The offline audit (`aidledger verify --db`) against tampered copies of a real log:
//! every kind of edit to entries, tree hashes or checkpoints is refused with a message
//! that says what is wrong, and a consistent truncation of the whole log is caught by
//! a checkpoint saved earlier. On PostgreSQL the copies are databases made from the
//! pristine one as a template, audited with `verify --db postgres://… --vkey`.

use crate::common;

use aidledger::data_dir::DATABASE_FILE;
use aidledger::keys::LOG_KEY_FILE;
use aidledger::server::DEFAULT_ORIGIN;
use common::process::path_str;
use common::{author, offer, TestInstance};
use ledger::checkpoint::LogSigner;
use ledger::entry::{UnsignedEntry, VerifiedEntry};
use ledger::tree::{leaf_hash, position, root_positions, Frontier, Hash};
use ledger::Kind;
use ledger_node::sequencer::{AdmitAll, Sequencer};
use sqlx::{AnyPool, Row};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use tempfile::TempDir;
use time::OffsetDateTime;

/// Entries in the audited log.
const ENTRIES: u64 = 600;
/// Concurrent writers while building it, so that batches (and checkpoints) vary.
const WRITERS: u64 = 8;

/// What a run of the binary left behind.
struct Run {
    what: String,
    ok: bool,
    stdout: String,
    stderr: String,
}

impl Run {
    fn assert_ok(&self, entries: u64) {
        assert!(
            self.ok,
            "{} should pass\nstdout: {}\nstderr: {}",
            self.what, self.stdout, self.stderr
        );
        assert!(
            self.stdout
                .contains(&format!("OK: {entries} entries verified")),
            "{}: {}",
            self.what,
            self.stdout
        );
    }

    /// A non-zero exit with an error message containing every needle.
    fn assert_fails(&self, needles: &[&str]) {
        assert!(
            !self.ok,
            "{} should fail\nstdout: {}\nstderr: {}",
            self.what, self.stdout, self.stderr
        );
        assert!(
            self.stderr.contains("error:"),
            "{}: stderr should carry an error message: {:?}",
            self.what,
            self.stderr
        );
        let stderr = self.stderr.to_lowercase();
        for needle in needles {
            assert!(
                stderr.contains(&needle.to_lowercase()),
                "{}: stderr {:?} should mention {needle:?}",
                self.what,
                self.stderr
            );
        }
    }
}

/// Runs the binary off the async runtime, so an in-process server keeps serving.
async fn run(what: &str, args: &[&str]) -> Run {
    let what = what.to_owned();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let output = Command::new(env!("CARGO_BIN_EXE_aidledger"))
            .args(&args)
            .env_remove("AIDLEDGER_URL")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .output()
            .expect("the binary runs");
        Run {
            what,
            ok: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    })
    .await
    .unwrap()
}

/// A database to audit: a SQLite file, or a PostgreSQL database with the log's key.
struct Audited {
    db: String,
    vkey: Option<String>,
}

/// A stopped log of `ENTRIES` entries: a pristine copy of its data directory (one
/// database file, no WAL, and the log key) and a checkpoint saved from it by
/// `verify --url --save` while it was serving.
struct Fixture {
    dir: TempDir,
    /// On SQLite a data directory; on PostgreSQL the stopped instance's database.
    pristine: PathBuf,
    pristine_url: Option<String>,
    vkey: String,
    saved: PathBuf,
    /// Sizes of the stored checkpoints.
    checkpoint_sizes: Vec<u64>,
}

impl Fixture {
    async fn build(entries: u64) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let live = dir.path().join("live");
        let instance = TestInstance::start_in(&live).await;
        let mut writers = Vec::new();
        for w in 0..WRITERS {
            let client = instance.client.clone();
            writers.push(tokio::spawn(async move {
                // After the log's first clock reading.
                for i in (w..entries - common::CLOCK_READINGS).step_by(WRITERS as usize) {
                    let leaf = offer(&author(1 + w as u8), &format!("audit entry {i:05}"));
                    let (status, answer) = client.submit_retrying(leaf).await.unwrap();
                    assert_eq!(status, 201, "entry {i}: {answer:?}");
                }
            }));
        }
        for w in writers {
            w.await.unwrap();
        }
        let vkey = instance.vkey.clone();
        let saved = dir.path().join("saved.checkpoint");
        run(
            "verify --url --save",
            &["verify", "--url", &instance.url, "--save", path_str(&saved)],
        )
        .await
        .assert_ok(entries);
        instance.stop().await;
        let pristine_url = common::database_url(&live).await;
        let pristine = if pristine_url.is_some() {
            live
        } else {
            Self::fold_into_one_file(dir.path(), &live).await
        };
        let pool = common::open_db(&pristine).await;
        let checkpoint_sizes = sqlx::query("SELECT tree_size FROM checkpoints ORDER BY tree_size")
            .fetch_all(&pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<i64, _>(0) as u64)
            .collect::<Vec<_>>();
        pool.close().await;
        assert_eq!(checkpoint_sizes.last(), Some(&entries));
        Fixture {
            dir,
            pristine,
            pristine_url,
            vkey,
            saved,
            checkpoint_sizes,
        }
    }

    /// Copies the (now idle) SQLite database of `live` with its WAL into one file of
    /// a new data directory, and returns that directory.
    async fn fold_into_one_file(root: &Path, live: &Path) -> PathBuf {
        let pristine = root.join("pristine");
        std::fs::create_dir(&pristine).unwrap();
        std::fs::copy(live.join(LOG_KEY_FILE), pristine.join(LOG_KEY_FILE)).unwrap();
        for suffix in ["", "-wal"] {
            let from = live.join(format!("{DATABASE_FILE}{suffix}"));
            if from.exists() {
                std::fs::copy(&from, pristine.join(format!("{DATABASE_FILE}{suffix}"))).unwrap();
            }
        }
        // Opening the copy in rollback-journal mode folds the WAL into it.
        let pool = AnyPool::connect(&format!(
            "sqlite://{}",
            pristine.join(DATABASE_FILE).display()
        ))
        .await
        .unwrap();
        sqlx::query("PRAGMA journal_mode = DELETE")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        assert!(
            !pristine.join(format!("{DATABASE_FILE}-wal")).exists(),
            "the copy is one file"
        );
        pristine
    }

    /// A fresh copy of the pristine database, named `name`; returns what to audit and
    /// an open connection pool to tamper with.
    async fn copy(&self, name: &str) -> (Audited, AnyPool) {
        match &self.pristine_url {
            Some(url) => {
                let (server, pristine) = url.rsplit_once('/').unwrap();
                let copy = format!("{pristine}_{}", name.replace('-', "_"));
                let admin = AnyPool::connect(&format!("{server}/postgres"))
                    .await
                    .unwrap();
                // A template must have no other sessions. The stopped instance's end as
                // it shuts down, but a loaded server may take its time to notice: they
                // are ended here, as nothing else uses the pristine database.
                let mut attempts = 0;
                while let Err(e) =
                    sqlx::query(&format!("CREATE DATABASE {copy} TEMPLATE {pristine}"))
                        .execute(&admin)
                        .await
                {
                    attempts += 1;
                    assert!(attempts < 100, "copying {pristine}: {e}");
                    sqlx::query(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                         WHERE datname = $1 AND pid <> pg_backend_pid()",
                    )
                    .bind(pristine)
                    .execute(&admin)
                    .await
                    .unwrap();
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                admin.close().await;
                let db = format!("{server}/{copy}");
                let pool = AnyPool::connect(&db).await.unwrap();
                let vkey = Some(self.vkey.clone());
                (Audited { db, vkey }, pool)
            }
            None => {
                let dir = self.dir.path().join(name);
                std::fs::create_dir(&dir).unwrap();
                for file in [LOG_KEY_FILE, DATABASE_FILE] {
                    std::fs::copy(self.pristine.join(file), dir.join(file)).unwrap();
                }
                let pool = common::open_db(&dir).await;
                let db = path_str(&dir.join(DATABASE_FILE)).to_owned();
                (Audited { db, vkey: None }, pool)
            }
        }
    }

    /// Applies `statements` to a fresh copy and audits it with `verify --db`.
    async fn tampered(&self, name: &str, statements: &[&str]) -> Run {
        let (db, pool) = self.copy(name).await;
        for sql in statements {
            let sql = common::sql(sql);
            let done = sqlx::query(&sql).execute(&pool).await.unwrap();
            assert!(done.rows_affected() > 0, "{name}: {sql} changed nothing");
        }
        pool.close().await;
        verify_db(name, &db, None).await
    }
}

async fn verify_db(what: &str, db: &Audited, checkpoint: Option<&Path>) -> Run {
    let mut args = vec!["verify", "--db", &db.db];
    if let Some(vkey) = &db.vkey {
        args.extend(["--vkey", vkey]);
    }
    if let Some(c) = checkpoint {
        args.extend(["--checkpoint", path_str(c)]);
    }
    run(what, &args).await
}

async fn leaf_at(pool: &AnyPool, idx: u64) -> Vec<u8> {
    sqlx::query("SELECT leaf FROM entries WHERE idx = $1")
        .bind(idx as i64)
        .fetch_one(pool)
        .await
        .unwrap()
        .get(0)
}

/// The first stored checkpoint size above `index`: the first one a change at `index`
/// breaks.
fn first_checkpoint_above(fixture: &Fixture, index: u64) -> u64 {
    *fixture
        .checkpoint_sizes
        .iter()
        .find(|&&s| s > index)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn offline_audit_detects_every_tampering() {
    let fixture = Fixture::build(ENTRIES).await;

    // The untampered copy passes, with and without the saved checkpoint.
    fixture.tampered("untampered", &[]).await.assert_ok(ENTRIES);
    let (db, pool) = fixture.copy("untampered-with-checkpoint").await;
    pool.close().await;
    verify_db(
        "untampered copy with --checkpoint",
        &db,
        Some(&fixture.saved),
    )
    .await
    .assert_ok(ENTRIES);

    // One byte of an entry's body changed (the body still fits its schema): its
    // signature no longer verifies.
    {
        let (db, pool) = fixture.copy("leaf-byte").await;
        let mut leaf = leaf_at(&pool, 123).await;
        let at = leaf
            .windows(11)
            .position(|w| w == b"audit entry")
            .expect("the body's title");
        leaf[at] = b'A';
        sqlx::query("UPDATE entries SET leaf = $1 WHERE idx = 123")
            .bind(&leaf)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        verify_db("an edited leaf byte", &db, None)
            .await
            .assert_fails(&["entry 123 is invalid", "signature"]);
    }

    // The same edit with the leaf_hash column updated to match changes nothing.
    {
        let (db, pool) = fixture.copy("leaf-byte-and-hash").await;
        let mut leaf = leaf_at(&pool, 321).await;
        let at = leaf.windows(11).position(|w| w == b"audit entry").unwrap();
        leaf[at] = b'A';
        sqlx::query("UPDATE entries SET leaf = $1, leaf_hash = $2 WHERE idx = 321")
            .bind(&leaf)
            .bind(leaf_hash(&leaf).0.to_vec())
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        verify_db("an edited leaf with its hash", &db, None)
            .await
            .assert_fails(&["entry 321 is invalid", "signature"]);
    }

    // An entry replaced by another validly signed one (with its leaf hash).
    {
        let (db, pool) = fixture.copy("leaf-replaced").await;
        let forged = offer(&author(99), "forged");
        sqlx::query("UPDATE entries SET leaf = $1, leaf_hash = $2 WHERE idx = 222")
            .bind(&forged)
            .bind(leaf_hash(&forged).0.to_vec())
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        let size = first_checkpoint_above(&fixture, 222);
        verify_db("a replaced entry", &db, None)
            .await
            .assert_fails(&[
                &format!("checkpoint of size {size} does not match the entries"),
                &format!("the root of the first {size} entries"),
            ]);
    }

    // The leaf_hash column edited.
    fixture
        .tampered(
            "leaf-hash",
            &["UPDATE entries SET leaf_hash = X'0000000000000000000000000000000000000000000000000000000000000000' WHERE idx = 200"],
        )
        .await
        .assert_fails(&[
            "entry 200: recorded leaf hash",
            "differs from the hash of its bytes",
        ]);

    // An entry deleted.
    fixture
        .tampered("entry-deleted", &["DELETE FROM entries WHERE idx = 300"])
        .await
        .assert_fails(&["expected entry 300 next, found 301", "missing"]);

    // Entries renumbered: everything from 400 on shifted up by one.
    fixture
        .tampered(
            "entries-shifted",
            &[
                "UPDATE entries SET idx = -(idx + 1) WHERE idx >= 400",
                "UPDATE entries SET idx = -idx WHERE idx < 0",
            ],
        )
        .await
        .assert_fails(&["expected entry 400 next, found 401"]);

    // A validly signed entry inserted at 250, the rest renumbered to make room.
    {
        let (db, pool) = fixture.copy("entry-inserted").await;
        for sql in [
            "UPDATE entries SET idx = -(idx + 1) WHERE idx >= 250",
            "UPDATE entries SET idx = -idx WHERE idx < 0",
        ] {
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
        let key = author(98);
        let forged = offer(&key, "inserted");
        sqlx::query(
            "INSERT INTO entries (idx, leaf_hash, leaf, kind, author) VALUES (250, $1, $2, $3, $4)",
        )
        .bind(leaf_hash(&forged).0.to_vec())
        .bind(&forged)
        .bind(Kind::OfferPost.name())
        .bind(key.verifying_key().to_bytes().to_vec())
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
        let size = first_checkpoint_above(&fixture, 250);
        verify_db("an inserted entry", &db, None)
            .await
            .assert_fails(&[&format!(
                "checkpoint of size {size} does not match the entries"
            )]);
    }

    // Two entries swapped (a reorder): each is valid, the tree is not.
    fixture
        .tampered(
            "entries-swapped",
            &[
                "UPDATE entries SET idx = -1 WHERE idx = 10",
                "UPDATE entries SET idx = 10 WHERE idx = 20",
                "UPDATE entries SET idx = 20 WHERE idx = -1",
            ],
        )
        .await
        .assert_fails(&[&format!(
            "checkpoint of size {} does not match the entries",
            first_checkpoint_above(&fixture, 10)
        )]);

    // The last 10 entries deleted, their tree hashes and checkpoints left behind.
    fixture
        .tampered(
            "tail-deleted",
            &[&format!(
                "DELETE FROM entries WHERE idx >= {}",
                ENTRIES - 10
            )],
        )
        .await
        .assert_fails(&[
            &format!(
                "holds {} entries but its latest checkpoint covers {ENTRIES}",
                ENTRIES - 10
            ),
            "deleted",
        ]);

    // A tree hash edited, deleted, or one added past the end.
    let last_position = position(0, ENTRIES) - 1;
    fixture
        .tampered(
            "tree-hash-edited",
            &["UPDATE tree_hashes SET hash = X'0000000000000000000000000000000000000000000000000000000000000000' WHERE position = 777"],
        )
        .await
        .assert_fails(&["tree hash 777 differs from the one the entries give"]);
    fixture
        .tampered(
            "tree-hash-deleted",
            &["DELETE FROM tree_hashes WHERE position = 555"],
        )
        .await
        .assert_fails(&["tree hash 555 is missing"]);
    fixture
        .tampered(
            "tree-hash-added",
            &[&format!(
                "INSERT INTO tree_hashes (position, hash) VALUES ({}, X'0000000000000000000000000000000000000000000000000000000000000000')",
                last_position + 1
            )],
        )
        .await
        .assert_fails(&[&format!(
            "tree hashes beyond position {}",
            last_position + 1
        )]);

    // A checkpoint note edited (its signed size), or stored under another size.
    let middle = fixture.checkpoint_sizes[fixture.checkpoint_sizes.len() / 2];
    let nl = if common::on_postgres() {
        "chr(10)"
    } else {
        "char(10)"
    };
    fixture
        .tampered(
            "checkpoint-note-edited",
            &[&format!(
                "UPDATE checkpoints SET note = replace(note, {nl} || '{middle}' || {nl}, \
                 {nl} || '{}' || {nl}) WHERE tree_size = {middle}",
                middle + 1
            )],
        )
        .await
        .assert_fails(&[&format!("stored checkpoint of size {middle}")]);
    fixture
        .tampered(
            "checkpoint-renumbered",
            &[&format!(
                "UPDATE checkpoints SET tree_size = {} WHERE tree_size = {ENTRIES}",
                ENTRIES + 1
            )],
        )
        .await
        .assert_fails(&[&format!(
            "the checkpoint stored under size {} is signed for size {ENTRIES}",
            ENTRIES + 1
        )]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn consistent_truncation_is_caught_only_by_a_saved_checkpoint() {
    let fixture = Fixture::build(ENTRIES).await;
    // Cut the log back to an earlier checkpoint, taking the tree hashes and newer
    // checkpoints with it: the result is a valid log, just a shorter one.
    let cut = *fixture
        .checkpoint_sizes
        .iter()
        .rfind(|&&s| s > 0 && s <= ENTRIES * 2 / 3)
        .expect("a checkpoint in the first two thirds");
    let (db, pool) = fixture.copy("truncated").await;
    for sql in [
        format!("DELETE FROM entries WHERE idx >= {cut}"),
        format!(
            "DELETE FROM tree_hashes WHERE position >= {}",
            position(0, cut)
        ),
        format!("DELETE FROM checkpoints WHERE tree_size > {cut}"),
    ] {
        let done = sqlx::query(&sql).execute(&pool).await.unwrap();
        assert!(done.rows_affected() > 0, "{sql} changed nothing");
    }
    pool.close().await;

    verify_db("a consistently truncated log", &db, None)
        .await
        .assert_ok(cut);
    verify_db(
        "a consistently truncated log against a saved checkpoint",
        &db,
        Some(&fixture.saved),
    )
    .await
    .assert_fails(&[
        "truncated",
        &format!("the saved checkpoint has {ENTRIES} entries, the database {cut}"),
    ]);
}

/// Appends a validly signed entry at index `size`, past the latest checkpoint (of
/// `size`), with the tree hashes it implies if `with_hashes`.
async fn append_forged(pool: &AnyPool, size: u64, with_hashes: bool) {
    let key = author(97);
    let forged = offer(&key, "appended");
    sqlx::query(
        "INSERT INTO entries (idx, leaf_hash, leaf, kind, author) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(size as i64)
    .bind(leaf_hash(&forged).0.to_vec())
    .bind(&forged)
    .bind(Kind::OfferPost.name())
    .bind(key.verifying_key().to_bytes().to_vec())
    .execute(pool)
    .await
    .unwrap();
    if !with_hashes {
        return;
    }
    let mut frontier_hashes = Vec::new();
    for p in root_positions(size) {
        let bytes: Vec<u8> = sqlx::query("SELECT hash FROM tree_hashes WHERE position = $1")
            .bind(p as i64)
            .fetch_one(pool)
            .await
            .unwrap()
            .get(0);
        frontier_hashes.push(Hash(bytes.try_into().unwrap()));
    }
    let mut frontier = Frontier::new(size, frontier_hashes);
    let new = frontier.append(leaf_hash(&forged));
    for (p, h) in (position(0, size)..).zip(new) {
        sqlx::query("INSERT INTO tree_hashes (position, hash) VALUES ($1, $2)")
            .bind(p as i64)
            .bind(h.0.to_vec())
            .execute(pool)
            .await
            .unwrap();
    }
}

/// Entries in the small logs of the tests below.
const SMALL: u64 = 40;

/// Copies of a small log with one validly signed entry appended past the latest
/// checkpoint, without and with the tree hashes it implies.
async fn appended_past_the_checkpoint() -> (Fixture, Run, Run) {
    let fixture = Fixture::build(SMALL).await;
    let mut runs = Vec::new();
    for with_hashes in [false, true] {
        let name = format!("appended-{with_hashes}");
        let (db, pool) = fixture.copy(&name).await;
        append_forged(&pool, SMALL, with_hashes).await;
        pool.close().await;
        runs.push(verify_db(&name, &db, None).await);
    }
    let with_hashes = runs.pop().unwrap();
    let without = runs.pop().unwrap();
    (fixture, without, with_hashes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_entry_past_the_latest_checkpoint_fails_the_audit() {
    let (_fixture, without, with_hashes) = appended_past_the_checkpoint().await;
    without.assert_fails(&[]);
    with_hashes.assert_fails(&[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_entry_past_the_latest_checkpoint_is_reported_as_such() {
    let (_fixture, without, with_hashes) = appended_past_the_checkpoint().await;
    let needle = format!("entry {SMALL} is beyond the latest checkpoint (size {SMALL})");
    println!("without tree hashes: {:?}", without.stderr);
    println!("with tree hashes: {:?}", with_hashes.stderr);
    assert!(
        !without.ok && without.stderr.contains(&needle),
        "without tree hashes: stderr {:?} should mention {needle:?}",
        without.stderr
    );
    assert!(
        !with_hashes.ok && with_hashes.stderr.contains(&needle),
        "with tree hashes: stderr {:?} should mention {needle:?}",
        with_hashes.stderr
    );
}

/// A log the server would never write, built with the bare sequencer (which admits
/// anything): its first clock reading, an offer, then `odd` (validly signed), then
/// another offer. Returns its data directory and the runs of `verify --db` and
/// `rebuild` over it.
async fn log_with(odd: impl FnOnce(&LogSigner, OffsetDateTime) -> VerifiedEntry) -> (Run, Run) {
    let dir = tempfile::tempdir().unwrap();
    let signer = aidledger::keys::load_or_create_log_key(dir.path(), DEFAULT_ORIGIN).unwrap();
    let db = dir.path().join(DATABASE_FILE);
    let store = Arc::new(ledger_node::storage::sqlite::open(&db).await.unwrap());
    let t0 = OffsetDateTime::now_utc() - time::Duration::days(1);
    let clock = common::ManualClock::new(t0);
    let (sequencer, _) =
        Sequencer::start_with_clock(store.clone(), signer.clone(), AdmitAll, clock)
            .await
            .unwrap();
    for entry in [
        VerifiedEntry::from_leaf(&offer(&author(1), "before")).unwrap(),
        odd(&signer, t0),
        VerifiedEntry::from_leaf(&offer(&author(1), "after")).unwrap(),
    ] {
        sequencer.submit(entry).await.unwrap();
    }
    drop(sequencer);
    store.pool().close().await;
    let verify = run("verify --db", &["verify", "--db", path_str(&db)]).await;
    let rebuild = run("rebuild", &["rebuild", "--data-dir", path_str(dir.path())]).await;
    (verify, rebuild)
}

#[tokio::test]
async fn a_clock_that_runs_backwards_fails_the_audit_and_the_replay() {
    sqlite_only!("the log is built on a SQLite file");
    let (verify, rebuild) =
        log_with(|signer, t0| ledger::clock::reading(signer, t0 - time::Duration::hours(1))).await;
    verify.assert_fails(&["entry 2", "log.clock", "never runs backwards"]);
    rebuild.assert_fails(&["entry 2", "never runs backwards"]);
}

#[tokio::test]
async fn a_clock_reading_by_another_key_fails_the_audit_and_the_replay() {
    sqlite_only!("the log is built on a SQLite file");
    let (verify, rebuild) = log_with(|_, t0| {
        let forger = author(66);
        let later = t0 + time::Duration::days(30);
        UnsignedEntry::new(
            Kind::LogClock,
            &forger.verifying_key(),
            later,
            serde_json::json!({ "time": ledger::entry::format_timestamp(later) }),
        )
        .sign(&forger)
        .unwrap()
    })
    .await;
    verify.assert_fails(&["entry 2", "log.clock", "the log's key"]);
    rebuild.assert_fails(&["entry 2", "the log's key"]);
}
