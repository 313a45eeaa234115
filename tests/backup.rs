//! Backups of the real binary: `aidledger backup` of a serving instance while writers
//! append, `aidledger restore` into a fresh data directory, and the restored instance
//! serving a log the live one extends. A snapshot that fails the audit is refused and
//! leaves nothing behind. On PostgreSQL, `backup` refuses and names pg_dump.

use crate::common;

use aidledger::client::LogClient;
use aidledger::data_dir::{DATABASE_FILE, PHOTOS_DIR};
use aidledger::keys::LOG_KEY_FILE;
use aidledger::services::bootstrap::OPERATOR_KEY_FILE;
use aidledger::snapshot::CHECKPOINT_FILE;
use common::process::{command, path_str, Server};
use common::{author, offer};
use ledger::checkpoint::{Checkpoint, LogVerifier};
use ledger::tree::verify_consistency;
use sqlx::Row;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

const WRITERS: u8 = 6;
const NO_RATE_LIMITS: [&str; 4] = ["--rate-limit-per-ip", "0", "--rate-limit-per-key", "0"];

fn run(args: &[&str]) -> Output {
    command(args).output().expect("the binary runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

async fn latest(client: &LogClient, verifier: &LogVerifier) -> Checkpoint {
    let note = client.checkpoint().await.unwrap();
    verifier.verify(note.as_bytes()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_under_load_restores_to_a_log_the_live_one_extends() {
    sqlite_only!("backup copies SQLite instances; PostgreSQL's is pg_dump");
    let scratch = tempfile::tempdir().unwrap();
    let live_dir = scratch.path().join("live");
    let live = Server::spawn(
        &live_dir,
        None,
        &NO_RATE_LIMITS,
        scratch.path().join("live.log"),
    );
    let client = LogClient::new(&live.url);
    let vkey = client.key().await.unwrap().vkey;
    let verifier = LogVerifier::new(&vkey).unwrap();
    let photo = common::http()
        .post(format!("{}/api/v1/photos", live.url))
        .header("content-type", "image/jpeg")
        .body(common::jpeg(&[]))
        .send()
        .await
        .unwrap();
    assert_eq!(photo.status(), 201);
    let photo: serde_json::Value = photo.json().await.unwrap();
    let photo = photo["sha256"].as_str().unwrap().to_owned();

    // Writers append until the backup is done, and a while after.
    let stop = Arc::new(AtomicBool::new(false));
    let acks = Arc::new(Mutex::new(Vec::new()));
    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let (client, stop, acks) = (client.clone(), stop.clone(), acks.clone());
        writers.push(tokio::spawn(async move {
            let key = author(writer + 1);
            let mut seq = 0u64;
            while !stop.load(Ordering::SeqCst) {
                let leaf = offer(&key, &format!("backup writer {writer} #{seq}"));
                let (status, answer) = client.submit(leaf.clone()).await.unwrap();
                assert_eq!(status, 201, "{answer:?}");
                acks.lock().unwrap().push((answer.index, leaf));
                seq += 1;
            }
        }));
    }
    while acks.lock().unwrap().len() < 20 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let snapshot = scratch.path().join("snapshot");
    let backup = {
        let (data, snap) = (live_dir.clone(), snapshot.clone());
        tokio::task::spawn_blocking(move || {
            run(&["backup", "--data-dir", path_str(&data), path_str(&snap)])
        })
        .await
        .unwrap()
    };
    let acked_during_backup = acks.lock().unwrap().len();
    assert!(backup.status.success(), "{}", text(&backup));
    while acks.lock().unwrap().len() < acked_during_backup + 20 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.await.unwrap();
    }

    // The snapshot is private, holds what crate::snapshot says, and its checkpoint is
    // one the live log extends.
    let mut held: Vec<_> = std::fs::read_dir(&snapshot)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    held.sort();
    assert_eq!(
        held,
        [
            DATABASE_FILE,
            CHECKPOINT_FILE,
            LOG_KEY_FILE,
            OPERATOR_KEY_FILE,
            PHOTOS_DIR
        ]
    );
    assert_eq!(mode(&snapshot), 0o700);
    for file in [
        DATABASE_FILE,
        LOG_KEY_FILE,
        OPERATOR_KEY_FILE,
        CHECKPOINT_FILE,
    ] {
        assert_eq!(mode(&snapshot.join(file)), 0o600, "{file}");
    }
    let saved = std::fs::read(snapshot.join(CHECKPOINT_FILE)).unwrap();
    let saved = verifier.verify(&saved).unwrap();
    let verify_live = run(&[
        "verify",
        "--url",
        &live.url,
        "--checkpoint",
        path_str(&snapshot.join(CHECKPOINT_FILE)),
    ]);
    assert!(verify_live.status.success(), "{}", text(&verify_live));

    // Restored into a fresh data directory, it passes the offline audit.
    let restored_dir = scratch.path().join("restored");
    let restore = run(&[
        "restore",
        path_str(&snapshot),
        "--data-dir",
        path_str(&restored_dir),
        "--vkey",
        &vkey,
    ]);
    assert!(restore.status.success(), "{}", text(&restore));
    assert_eq!(mode(&restored_dir), 0o700);
    for key in [LOG_KEY_FILE, OPERATOR_KEY_FILE] {
        assert_eq!(
            std::fs::read(restored_dir.join(key)).unwrap(),
            std::fs::read(live_dir.join(key)).unwrap(),
            "{key}"
        );
    }
    let audit = run(&[
        "verify",
        "--db",
        path_str(&restored_dir.join(DATABASE_FILE)),
    ]);
    assert!(audit.status.success(), "{}", text(&audit));

    // The restored instance serves the snapshot's log, every entry acknowledged within
    // it at its index, and the photo; the live log extends it.
    let restored = Server::spawn(
        &restored_dir,
        None,
        &[],
        scratch.path().join("restored.log"),
    );
    let restored_client = LogClient::new(&restored.url);
    let old = latest(&restored_client, &verifier).await;
    assert_eq!((old.size, old.root), (saved.size, saved.root));
    assert!(
        old.size as usize > 20,
        "the snapshot holds what was acknowledged before it began: {}",
        old.size
    );
    let acks = std::mem::take(&mut *acks.lock().unwrap());
    for (index, leaf) in acks.iter().filter(|(i, _)| *i < old.size) {
        let served = restored_client.entries(*index, 1).await.unwrap();
        assert_eq!(&served[0].leaf, leaf, "entry {index}");
    }
    let new = latest(&client, &verifier).await;
    assert!(
        new.size > old.size,
        "entries were acknowledged after the snapshot"
    );
    let proof = client.consistency_proof(old.size, new.size).await.unwrap();
    verify_consistency(&proof, old.size, old.root, new.size, new.root)
        .expect("the live log extends the restored one");
    let served = common::http()
        .get(format!("{}/api/v1/photos/{photo}", restored.url))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(
        std::fs::read(restored_dir.join(PHOTOS_DIR).join(&photo)).unwrap(),
        served.bytes().await.unwrap()
    );
    // The snapshot has no search index: the restored instance builds one from the log.
    let mut hits = 0;
    for _ in 0..100 {
        let found: serde_json::Value = common::http()
            .get(format!("{}/api/v1/search?q=backup", restored.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        hits = found["total"].as_u64().unwrap();
        if hits > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(hits > 0, "search finds the restored offers");
}

#[tokio::test]
async fn a_tampered_snapshot_is_refused_and_nothing_is_restored() {
    sqlite_only!("backup copies SQLite instances; PostgreSQL's is pg_dump");
    let scratch = tempfile::tempdir().unwrap();
    let live_dir = scratch.path().join("live");
    let live = Server::spawn(&live_dir, None, &[], scratch.path().join("live.log"));
    let client = LogClient::new(&live.url);
    for n in 0..3 {
        let (status, _) = client
            .submit(offer(&author(1), &format!("tamper {n}")))
            .await
            .unwrap();
        assert_eq!(status, 201);
    }
    let snapshot = scratch.path().join("snapshot");
    let backup = run(&[
        "backup",
        "--data-dir",
        path_str(&live_dir),
        path_str(&snapshot),
    ]);
    assert!(backup.status.success(), "{}", text(&backup));

    // A backup never writes over a directory that holds something.
    let again = run(&[
        "backup",
        "--data-dir",
        path_str(&live_dir),
        path_str(&snapshot),
    ]);
    assert!(!again.status.success());
    assert!(text(&again).contains("is not empty"), "{}", text(&again));

    // One byte of one entry changed, as someone with the file could.
    let url = format!("sqlite://{}", snapshot.join(DATABASE_FILE).display());
    sqlx::any::install_default_drivers();
    let db = sqlx::AnyPool::connect(&url).await.unwrap();
    let row = sqlx::query("SELECT idx, leaf FROM entries ORDER BY idx DESC LIMIT 1")
        .fetch_one(&db)
        .await
        .unwrap();
    let (index, mut leaf): (i64, Vec<u8>) = (row.get(0), row.get(1));
    let at = leaf
        .windows(6)
        .position(|w| w == b"tamper")
        .expect("the offer's text");
    leaf[at] = b'T';
    sqlx::query("UPDATE entries SET leaf = $1 WHERE idx = $2")
        .bind(leaf)
        .bind(index)
        .execute(&db)
        .await
        .unwrap();
    db.close().await;

    let target = scratch.path().join("restored");
    let restore = run(&[
        "restore",
        path_str(&snapshot),
        "--data-dir",
        path_str(&target),
    ]);
    assert!(!restore.status.success());
    assert!(
        text(&restore).contains("fails the audit of `aidledger verify --db`"),
        "{}",
        text(&restore)
    );
    assert!(!target.exists(), "nothing is put in place");
    let left: Vec<_> = std::fs::read_dir(scratch.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        left.iter().all(|name| !name.contains("partial")),
        "no staging directory is left: {left:?}"
    );

    // Nor is a good snapshot laid over a data directory in use.
    let over_live = run(&[
        "restore",
        path_str(&snapshot),
        "--data-dir",
        path_str(&live_dir),
    ]);
    assert!(!over_live.status.success());
    assert!(
        text(&over_live).contains("is not empty"),
        "{}",
        text(&over_live)
    );
}

#[tokio::test]
async fn backup_of_a_postgresql_instance_refuses_and_names_pg_dump() {
    let scratch = tempfile::tempdir().unwrap();
    let backup = run(&[
        "backup",
        "--data-dir",
        path_str(scratch.path()),
        "--database-url",
        "postgres://aidledger@127.0.0.1:5432/aidledger",
        path_str(&scratch.path().join("snapshot")),
    ]);
    assert!(!backup.status.success());
    assert!(text(&backup).contains("pg_dump"), "{}", text(&backup));
    assert!(!scratch.path().join("snapshot").exists());
}
