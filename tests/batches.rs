//! A refusal inside a batch: the sequencer admits a batch's entries without a savepoint
//! each and, at the first refusal, admits the batch again entry by entry. Whatever a
//! refused entry's rule wrote before refusing is gone; every other entry of the batch
//! is appended with its writes, exactly once.

use crate::common;

use aidledger::data_dir::DATABASE_FILE;
use aidledger::server::DEFAULT_ORIGIN;
use common::{author, offer};
use ledger::contact::Sidecar;
use ledger::entry::VerifiedEntry;
use ledger_node::intake::SequenceError;
use ledger_node::rules::{BoxFuture, Denial, Refusal, Rules};
use ledger_node::sequencer::Sequencer;
use sqlx::{AnyConnection, Row};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

/// Records every entry it sees in `seen`, then refuses those whose description says
/// so: the worst a rule may do, writing before it refuses.
struct WritesThenRefuses;

impl Rules for WritesThenRefuses {
    fn admit<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        entry: &'a VerifiedEntry,
        _index: u64,
        _sidecar: Option<&'a Sidecar>,
    ) -> BoxFuture<'a, Result<(), Refusal>> {
        Box::pin(async move {
            let description = entry.entry().body["description"].as_str().unwrap_or("");
            sqlx::query("INSERT INTO seen (description) VALUES ($1)")
                .bind(description)
                .execute(&mut *conn)
                .await?;
            if description.starts_with("refused") {
                return Err(Denial::conflict("refused after writing").into());
            }
            Ok(())
        })
    }
}

/// Keeps every entry it sees to be written in bulk at the flush, then refuses those
/// whose description says so: what is left to be written by a refused entry must go
/// with it, in a batch admitted entry by entry too.
#[derive(Default)]
struct DefersThenRefuses(Mutex<Vec<String>>);

impl Rules for DefersThenRefuses {
    fn admit<'a>(
        &'a self,
        _conn: &'a mut AnyConnection,
        entry: &'a VerifiedEntry,
        _index: u64,
        _sidecar: Option<&'a Sidecar>,
    ) -> BoxFuture<'a, Result<(), Refusal>> {
        Box::pin(async move {
            let description = entry.entry().body["description"].as_str().unwrap_or("");
            self.0.lock().unwrap().push(description.to_owned());
            if description.starts_with("refused") {
                return Err(Denial::conflict("refused after deferring a write").into());
            }
            Ok(())
        })
    }

    fn flush<'a>(&'a self, conn: &'a mut AnyConnection) -> BoxFuture<'a, Result<(), sqlx::Error>> {
        Box::pin(async move {
            let waiting = std::mem::take(&mut *self.0.lock().unwrap());
            for description in waiting {
                sqlx::query("INSERT INTO seen (description) VALUES ($1)")
                    .bind(description)
                    .execute(&mut *conn)
                    .await?;
            }
            Ok(())
        })
    }

    fn discard(&self) {
        self.0.lock().unwrap().clear();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refused_entry_leaves_nothing_and_the_rest_of_its_batch_lands() {
    refusals_in_batches(WritesThenRefuses).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn what_a_refused_entry_left_to_be_written_in_bulk_is_never_written() {
    refusals_in_batches(DefersThenRefuses::default()).await;
}

/// Submits 200 entries at once, every seventh refused by `rules` (which records every
/// entry it admits in the table `seen`), and checks that exactly the admitted ones
/// are in the log and in `seen`.
async fn refusals_in_batches(rules: impl Rules) {
    sqlite_only!("the log is built on a SQLite file");
    let dir = tempfile::tempdir().unwrap();
    let signer = aidledger::keys::load_or_create_log_key(dir.path(), DEFAULT_ORIGIN).unwrap();
    let store = Arc::new(
        ledger_node::storage::sqlite::open(&dir.path().join(DATABASE_FILE))
            .await
            .unwrap(),
    );
    sqlx::query("CREATE TABLE seen (description TEXT NOT NULL UNIQUE)")
        .execute(store.pool())
        .await
        .unwrap();
    let (sequencer, _) = Sequencer::start_with_rules(store.clone(), signer, rules)
        .await
        .unwrap();

    // Submitted all at once, so that batches mix refused and admitted entries.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..200 {
        let description = if i % 7 == 3 {
            format!("refused {i}")
        } else {
            format!("admitted {i}")
        };
        let entry = VerifiedEntry::from_leaf(&offer(&author(1), &description)).unwrap();
        let sequencer = sequencer.clone();
        tasks.spawn(async move { (description, sequencer.submit(entry).await) });
    }
    let mut admitted = BTreeSet::new();
    while let Some(done) = tasks.join_next().await {
        let (description, outcome) = done.unwrap();
        match outcome {
            Ok(appended) => {
                assert!(description.starts_with("admitted"), "{description}");
                assert!(!appended.duplicate);
                admitted.insert(description);
            }
            Err(SequenceError::Denied(_)) => assert!(description.starts_with("refused")),
            Err(e) => panic!("{description}: {e}"),
        }
    }
    assert_eq!(admitted.len(), (0..200).filter(|i| i % 7 != 3).count());

    let seen: BTreeSet<String> = sqlx::query("SELECT description FROM seen")
        .fetch_all(store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    // The log's clock reading has no description: the rule saw it as "".
    let expected: BTreeSet<String> = admitted.iter().cloned().chain([String::new()]).collect();
    assert_eq!(seen, expected);
    let entries: i64 = sqlx::query("SELECT COUNT(*) FROM entries")
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        entries as usize,
        admitted.len() + common::CLOCK_READINGS as usize
    );
}

/// The workflow writes offers in bulk when their batch is stored: concurrent offers,
/// in batches that also hold refused entries (which send a batch back to be admitted
/// entry by entry), all land with their post and item rows, once, and nothing of the
/// refused ones does.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn offers_written_in_bulk_land_whatever_is_refused_beside_them() {
    let dir = tempfile::tempdir().unwrap();
    let instance = common::TestInstance::start_configured(dir.path(), |c| {
        c.limits = common::NO_WRITE_LIMITS;
    })
    .await;
    let http = common::http();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..240u32 {
        let key = author((i % 5) as u8 + 1);
        let (refused, leaf) = if i % 8 == 5 {
            let body = serde_json::json!({
                "need": format!("{:064x}", i),
                "items": [{"line": 0, "quantity": 1}],
            });
            (true, common::signed(&key, ledger::Kind::Pledge, body))
        } else {
            (false, offer(&key, &format!("bulk {i}")))
        };
        let (http, url) = (http.clone(), format!("{}/api/v1/entries", instance.url));
        tasks.spawn(async move {
            let status = http.post(url).body(leaf).send().await.unwrap().status();
            (refused, status.as_u16())
        });
    }
    let mut offers = 0;
    while let Some(done) = tasks.join_next().await {
        let (refused, status) = done.unwrap();
        if refused {
            assert_eq!(status, 422, "a pledge to no need is refused");
        } else {
            assert_eq!(status, 201);
            offers += 1;
        }
    }
    let db = common::open_db(&instance.data_dir).await;
    let count = |sql: &'static str| {
        let db = db.clone();
        async move {
            sqlx::query(sql)
                .fetch_one(&db)
                .await
                .unwrap()
                .get::<i64, _>(0)
        }
    };
    assert_eq!(
        count("SELECT COUNT(*) FROM wf_posts WHERE kind = 'offer'").await,
        offers
    );
    assert_eq!(
        count("SELECT COUNT(DISTINCT post) FROM wf_post_items").await,
        offers
    );
    assert_eq!(count("SELECT COUNT(*) FROM wf_links").await, 0);
    assert_eq!(
        count("SELECT COUNT(*) FROM entries WHERE kind = 'offer.post'").await,
        offers
    );
    db.close().await;
    instance.stop().await;
}
