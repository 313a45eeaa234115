//! Storage trouble on the real binary: when the disk is full, writes are refused with a
//! clear error, reads go on, and once there is room again the same process takes
//! writes without losing an acknowledged entry.
//!
//! "Disk full" is real, not simulated: the serving process's file size limit
//! (RLIMIT_FSIZE, lowered from outside with prlimit(2) as an operator's `prlimit` would)
//! makes every write past it fail with EFBIG, which is what SQLite sees on a full disk
//! (a short write). SIGXFSZ is ignored in the child, as it must be for a limit to be
//! an error rather than death.

use crate::common;

use aidledger::client::LogClient;
use aidledger::data_dir::DATABASE_FILE;
use common::process::{command, path_str, Server};
use common::{author, offer};
use ledger::checkpoint::LogVerifier;
use ledger::tree::leaf_hash;
use serde_json::Value;
use std::os::unix::process::CommandExt;
use std::path::Path;

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// Sets the soft file size limit of process `pid` (the hard limit stays).
fn limit_file_size(pid: u32, bytes: u64) {
    let mut old = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: reads the limit into `old`, then sets a new one; both pointers are valid.
    unsafe {
        assert_eq!(
            libc::prlimit(
                pid as libc::pid_t,
                libc::RLIMIT_FSIZE,
                std::ptr::null(),
                &mut old
            ),
            0
        );
        let new = libc::rlimit {
            rlim_cur: bytes.min(old.rlim_max),
            rlim_max: old.rlim_max,
        };
        assert_eq!(
            libc::prlimit(
                pid as libc::pid_t,
                libc::RLIMIT_FSIZE,
                &new,
                std::ptr::null_mut()
            ),
            0,
            "prlimit: {}",
            std::io::Error::last_os_error()
        );
    }
}

async fn post(url: &str, leaf: Vec<u8>) -> (u16, Value) {
    let r = common::http()
        .post(format!("{url}/api/v1/entries"))
        .body(leaf)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let is_json = r
        .headers()
        .get("content-type")
        .is_some_and(|t| t.as_bytes().starts_with(b"application/json"));
    assert!(is_json, "every answer is JSON, status {status}");
    (status, r.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_writes_keeps_reads_and_loses_nothing_once_room_returns() {
    sqlite_only!("the disk of a SQLite file; PostgreSQL's own disk is PostgreSQL's");
    let scratch = tempfile::tempdir().unwrap();
    let data = scratch.path().join("data");
    let spawn = |log: &str| {
        Server::spawn_with(
            &data,
            None,
            &["--rate-limit-per-ip", "0", "--rate-limit-per-key", "0"],
            scratch.path().join(log),
            |cmd| {
                // SAFETY: only async-signal-safe signal(2) between fork and exec.
                unsafe {
                    cmd.pre_exec(|| {
                        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                        Ok(())
                    });
                }
            },
        )
    };
    let mut server = spawn("before.log");
    let client = LogClient::new(&server.url);
    let verifier = LogVerifier::new(&client.key().await.unwrap().vkey).unwrap();
    let key = author(1);
    let mut acked = Vec::new();
    for n in 0..5 {
        let leaf = offer(&key, &format!("room {n}"));
        let (status, answer) = post(&server.url, leaf.clone()).await;
        assert_eq!(status, 201, "{answer}");
        acked.push((answer["index"].as_u64().unwrap(), leaf));
    }

    // The disk fills: no file may grow past what the database holds now.
    let db = data.join(DATABASE_FILE);
    let wal = data.join(format!("{DATABASE_FILE}-wal"));
    limit_file_size(server.child.id(), file_size(&db).max(file_size(&wal)));
    let mut refused = None;
    for n in 0..2000 {
        let leaf = offer(&key, &format!("filling {n}"));
        let (status, answer) = post(&server.url, leaf.clone()).await;
        if status == 201 {
            acked.push((answer["index"].as_u64().unwrap(), leaf));
            continue;
        }
        refused = Some((status, answer, leaf));
        break;
    }
    let (status, answer, refused_leaf) =
        refused.expect("writes are refused before 2000 more entries fit");
    assert_eq!(status, 507, "{answer}\n{}", server.logs());
    let message = common::error_message(&answer).expect("an error answer");
    assert!(message.contains("storage is full"), "{message}");
    // And again: the sequencer neither hangs nor dies on a failed batch.
    let (again, answer) = post(&server.url, offer(&key, "still full")).await;
    assert_eq!(again, 507, "{answer}\n{}", server.logs());

    // Reads go on: the checkpoint of every acknowledged entry, the entries, a proof,
    // and the workflow's lists.
    let note = client.checkpoint().await.unwrap();
    let head = verifier.verify(note.as_bytes()).unwrap();
    let last = acked.iter().map(|(i, _)| *i).max().unwrap();
    assert_eq!(head.size, last + 1, "nothing refused was published");
    let (at, proof) = client
        .inclusion_proof(&leaf_hash(&acked[0].1), head.size)
        .await
        .unwrap();
    ledger::tree::verify_inclusion(&proof, at, head.size, leaf_hash(&acked[0].1), head.root)
        .unwrap();
    let offers = common::http()
        .get(format!("{}/api/v1/offers", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(offers.status(), 200);

    // Room again, same process: the refused entry is taken as new, and others after it.
    limit_file_size(server.child.id(), libc::RLIM_INFINITY);
    let (status, answer) = post(&server.url, refused_leaf.clone()).await;
    assert_eq!(status, 201, "{answer}");
    acked.push((answer["index"].as_u64().unwrap(), refused_leaf));
    let leaf = offer(&key, "after the room came back");
    let (status, answer) = post(&server.url, leaf.clone()).await;
    assert_eq!(status, 201, "{answer}");
    acked.push((answer["index"].as_u64().unwrap(), leaf));

    // Every acknowledged entry is where it was acknowledged, now and after a restart,
    // and the database passes the audit.
    for round in ["running", "restarted"] {
        let client = LogClient::new(&server.url);
        for (index, leaf) in &acked {
            let served = client.entries(*index, 1).await.unwrap();
            assert_eq!(&served[0].leaf, leaf, "{round}: entry {index}");
        }
        if round == "running" {
            server.kill();
            server = spawn("after.log");
        }
    }
    server.kill();
    let audit = command(&["verify", "--db", path_str(&db)])
        .output()
        .unwrap();
    assert!(
        audit.status.success(),
        "{}",
        String::from_utf8_lossy(&audit.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_database_refuses_writes_keeps_what_it_can_and_recovers_without_restart() {
    if !common::on_postgres() {
        eprintln!("not run on SQLite: the database connection of a PostgreSQL node");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let direct = common::database_url(dir.path()).await.unwrap();
    let (_, rest) = direct.split_once('@').expect("user@host:port/db");
    let (server, _) = rest.split_once('/').unwrap();
    let upstream = tokio::net::lookup_host(server)
        .await
        .unwrap()
        .next()
        .unwrap();
    let proxy = common::proxy::Proxy::start(upstream).await;
    let through_proxy = direct.replacen(server, &proxy.addr.to_string(), 1);
    let instance = common::TestInstance::start_configured(dir.path(), |c| {
        c.database_url = Some(through_proxy);
        c.limits = common::NO_WRITE_LIMITS;
    })
    .await;
    let url = instance.url.clone();
    let key = author(1);
    let mut acked = Vec::new();
    for n in 0..5 {
        let leaf = offer(&key, &format!("connected {n}"));
        let (status, answer) = post(&url, leaf.clone()).await;
        assert_eq!(status, 201, "{answer}");
        acked.push((answer["index"].as_u64().unwrap(), leaf));
    }
    let before = instance.client.checkpoint().await.unwrap();

    // The search index has caught up with what was written (it follows the log).
    for _ in 0..100 {
        let found: Value = common::http()
            .get(format!("{url}/api/v1/search?q=connected"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if found["total"] == 5 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    // The database goes away: writes are refused, clearly, and change nothing.
    proxy.cut();
    let refused_leaf = offer(&key, "while cut off");
    let (status, answer) = post(&url, refused_leaf.clone()).await;
    assert_eq!(status, 503, "{answer}");
    let message = common::error_message(&answer).expect("an error answer");
    assert!(message.contains("database is unreachable"), "{message}");
    // Reads from memory go on; reads of the database are refused the same way.
    assert_eq!(instance.client.checkpoint().await.unwrap(), before);
    instance.client.key().await.unwrap();
    let search = common::http()
        .get(format!("{url}/api/v1/search?q=connected"))
        .send()
        .await
        .unwrap();
    assert_eq!(search.status(), 200, "search reads the node's own index");
    let found: Value = search.json().await.unwrap();
    assert_eq!(found["total"], 5, "{found}");
    let entries = common::http()
        .get(format!("{url}/api/v1/log/entries?start=0&limit=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(entries.status(), 503);
    let entries: Value = entries.json().await.unwrap();
    assert!(common::error_message(&entries).is_some(), "{entries}");

    // It comes back: the same node takes writes again, without a restart.
    proxy.restore();
    let mut answer = None;
    for _ in 0..40 {
        let (status, body) = post(&url, refused_leaf.clone()).await;
        if status == 201 {
            answer = Some(body);
            break;
        }
        assert_eq!(
            status, 503,
            "until it recovers, refusals stay clear: {body}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    let answer = answer.expect("the node takes writes once the database is back");
    acked.push((answer["index"].as_u64().unwrap(), refused_leaf));
    for (index, leaf) in &acked {
        let served = instance.client.entries(*index, 1).await.unwrap();
        assert_eq!(&served[0].leaf, leaf, "entry {index}");
    }
    instance.stop().await;
}

/// A batch that fails for a reason no retry mends (here a trigger of the operator's
/// refusing one entry's row, standing for a bug) is answered with a 500 on both
/// backends, changes nothing, and the log goes on. On PostgreSQL the lease holder used
/// to retry such a batch for ever while its clients waited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_that_keeps_failing_is_answered_and_the_log_goes_on() {
    let instance = common::TestInstance::start().await;
    let url = instance.url.clone();
    let key = author(1);
    let (status, answer) = post(&url, offer(&key, "before")).await;
    assert_eq!(status, 201, "{answer}");
    let db = common::open_db(&instance.data_dir).await;
    let refuse = if common::on_postgres() {
        vec![
            "CREATE FUNCTION refuse_poison() RETURNS trigger AS $$ BEGIN \
             RAISE EXCEPTION 'poisoned'; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER poison BEFORE INSERT ON wf_posts FOR EACH ROW \
             WHEN (NEW.description = 'poison') EXECUTE FUNCTION refuse_poison()",
        ]
    } else {
        vec![
            "CREATE TRIGGER poison BEFORE INSERT ON wf_posts \
             WHEN NEW.description = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned'); END",
        ]
    };
    for statement in refuse {
        sqlx::query(statement).execute(&db).await.unwrap();
    }
    let size = instance.client.checkpoint().await.unwrap();

    let poison = offer(&key, "poison");
    let (status, answer) = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        post(&url, poison.clone()),
    )
    .await
    .expect("a failing batch is answered, not retried for ever");
    assert_eq!(status, 500, "{answer}");
    let message = common::error_message(&answer).expect("an error answer");
    assert!(message.contains("changed nothing"), "{message}");
    assert!(
        !message.contains("poisoned"),
        "the database's words stay in the server's log: {message}"
    );
    assert_eq!(instance.client.checkpoint().await.unwrap(), size);

    let (status, answer) = post(&url, offer(&key, "after")).await;
    assert_eq!(status, 201, "the log goes on: {answer}");
    let mend = if common::on_postgres() {
        "DROP TRIGGER poison ON wf_posts"
    } else {
        "DROP TRIGGER poison"
    };
    sqlx::query(mend).execute(&db).await.unwrap();
    let (status, answer) = post(&url, poison).await;
    assert_eq!(
        status, 201,
        "once mended, the same entry is taken: {answer}"
    );
    db.close().await;
    instance.stop().await;
}
