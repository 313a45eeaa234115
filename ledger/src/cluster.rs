//! Several nodes on one PostgreSQL database: every node accepts submissions and serves
//! reads; one at a time, the holder of the integrator's lease, sequences.
//!
//! - **accept**: a node writes each checked submission to the `submissions` table and
//!   waits for it to be decided (`Submissions::submit`);
//! - **sequence**: the node holding the lease (`lead`) takes undecided rows in order,
//!   runs the same `Integrator` as a single node, and records each row's outcome in the
//!   batch's own transaction, so an entry is appended and its row decided together;
//! - **answer**: the accepting node reads the outcome, answers its client and deletes
//!   the row;
//! - **follow**: every node publishes each new checkpoint it finds to its readers and
//!   its search index (`follow`).
//!
//! The lease is a session advisory lock taken on the integrator's writer connection,
//! and every batch is written through that same connection: when the holder's process
//! dies, its connection ends, the lock is released and no write of the old holder can
//! commit any more. The next node to try (every `LEASE_RETRY`) loads the head from the
//! database, checks the stored tree against it, and goes on. A batch interrupted by
//! the death rolls back whole, so its rows are still undecided and are sequenced by the
//! next holder: nothing acknowledged is lost and, as entries are unique by leaf hash,
//! nothing is appended twice.

use crate::checkpoint::{LogSigner, LogVerifier};
use crate::clock::Clock;
use crate::entry::VerifiedEntry;
use crate::rules::{Denial, Rules};
use crate::sequencer::{
    publish_newer, Appended, Head, Integrator, Reply, SequenceError, Sequencer, StartError,
    Submission, MAX_BATCH,
};
use crate::storage::postgres::{self, DECIDED, NEW_CHECKPOINT, NEW_SUBMISSION};
use crate::storage::query::QueryBuilder;
use crate::storage::sql::SqlStore;
use crate::storage::{LogStore, StorageError};
use crate::tree::Hash;
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{oneshot, watch, Notify};
use tokio::task::JoinHandle;

/// How often a node without the lease tries to take it.
pub const LEASE_RETRY: Duration = Duration::from_millis(500);
/// How often a node looks without being notified (a notification may be missed while
/// its listening connection reconnects).
const POLL: Duration = Duration::from_millis(250);
/// How long a node waits at start-up for the log to have a head.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// Decided rows whose node never came back for them are removed after this long.
const ABANDONED_AFTER: Duration = Duration::from_secs(600);

/// What became of a submission, as recorded in its row.
#[derive(serde::Serialize, serde::Deserialize)]
enum Decision {
    Appended {
        index: u64,
        tree_size: u64,
        duplicate: bool,
    },
    Denied(Denial),
}

/// Starts this node: it follows the log's checkpoints, accepts submissions, and
/// competes for the integrator's lease. Resolves once the log has a head.
pub async fn start_node<R: Rules + Clone>(
    store: Arc<SqlStore>,
    database_url: &str,
    signer: LogSigner,
    rules: R,
    clock: Arc<dyn Clock>,
) -> Result<(Sequencer, watch::Receiver<Head>), StartError> {
    let verifier = LogVerifier::new(&signer.vkey())?;
    let wake = Arc::new(Wakeups::default());
    let listener =
        postgres::listen(database_url, &[NEW_SUBMISSION, DECIDED, NEW_CHECKPOINT]).await?;
    let (publish, mut heads) = watch::channel(Head::default());
    let waiting = Arc::new(Mutex::new(HashMap::new()));
    let leading = Arc::new(AtomicBool::new(false));
    let tasks = vec![
        tokio::spawn(wake.clone().listen(listener)),
        tokio::spawn(follow(
            store.clone(),
            verifier,
            publish.clone(),
            wake.clone(),
        )),
        tokio::spawn(lead(
            store.clone(),
            signer,
            rules,
            clock,
            publish,
            wake.clone(),
            leading.clone(),
        )),
        tokio::spawn(answer(store.clone(), waiting.clone(), wake)),
    ];
    let submissions = Arc::new(Submissions {
        store,
        waiting,
        heads: heads.clone(),
        leading,
        tasks,
    });
    match tokio::time::timeout(START_TIMEOUT, heads.wait_for(|h| !h.note.is_empty())).await {
        Ok(Ok(_)) => {}
        _ => return Err(StartError::NoHead(START_TIMEOUT)),
    }
    Ok((Sequencer::shared(submissions), heads))
}

/// Notifications from the database, one waiter each.
#[derive(Default)]
struct Wakeups {
    submission: Notify,
    decided: Notify,
    checkpoint: Notify,
}

impl Wakeups {
    async fn listen(self: Arc<Self>, mut listener: sqlx::postgres::PgListener) {
        loop {
            match listener.recv().await {
                Ok(n) => match n.channel() {
                    NEW_SUBMISSION => self.submission.notify_one(),
                    DECIDED => self.decided.notify_one(),
                    _ => self.checkpoint.notify_one(),
                },
                Err(error) => {
                    tracing::warn!(%error, "listening for notifications; polling meanwhile");
                    tokio::time::sleep(POLL).await;
                }
            }
        }
    }
}

/// Waits for `notify` or, at most, `POLL`.
async fn woken(notify: &Notify) {
    let _ = tokio::time::timeout(POLL, notify.notified()).await;
}

/// Publishes every new checkpoint of the log, whoever wrote it.
async fn follow(
    store: Arc<SqlStore>,
    verifier: LogVerifier,
    publish: watch::Sender<Head>,
    wake: Arc<Wakeups>,
) {
    loop {
        match store.latest_checkpoint().await {
            Ok(Some(stored))
                if stored.tree_size > publish.borrow().size || publish.borrow().note.is_empty() =>
            {
                match Head::verified(&verifier, stored.note) {
                    Ok(head) => publish_newer(&publish, head),
                    Err(error) => tracing::error!(%error, "the latest checkpoint does not verify"),
                }
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "reading the latest checkpoint"),
        }
        woken(&wake.checkpoint).await;
    }
}

/// Competes for the lease for as long as the node runs, and sequences while it holds it.
async fn lead<R: Rules + Clone>(
    store: Arc<SqlStore>,
    signer: LogSigner,
    rules: R,
    clock: Arc<dyn Clock>,
    publish: watch::Sender<Head>,
    wake: Arc<Wakeups>,
    leading: Arc<AtomicBool>,
) {
    loop {
        let held = hold_lease(&store, &signer, &rules, &clock, &publish, &wake, &leading).await;
        leading.store(false, Ordering::SeqCst);
        if let Err(error) = held {
            tracing::error!(%error, "integrator stopped; the lease is released");
        }
        tokio::time::sleep(LEASE_RETRY).await;
    }
}

/// Takes the lease if it is free, then sequences until the connection fails. Returns
/// `Ok` at once when another node holds the lease.
async fn hold_lease<R: Rules + Clone>(
    store: &Arc<SqlStore>,
    signer: &LogSigner,
    rules: &R,
    clock: &Arc<dyn Clock>,
    publish: &watch::Sender<Head>,
    wake: &Wakeups,
    leading: &AtomicBool,
) -> Result<(), StartError> {
    let mut conn = store.connect_writer().await?;
    if !postgres::try_take_lease(&mut conn).await? {
        return Ok(());
    }
    let mut integrator = Integrator::open(
        store.clone(),
        conn,
        signer.clone(),
        rules.clone(),
        clock.clone(),
        publish.clone(),
    )
    .await?;
    leading.store(true, Ordering::SeqCst);
    tracing::info!(
        size = publish.borrow().size,
        "this node holds the integrator's lease"
    );
    remove_abandoned(integrator.conn()).await?;
    loop {
        let batch = undecided(integrator.conn()).await?;
        if batch.is_empty() {
            woken(&wake.submission).await;
            continue;
        }
        integrator.integrate(batch).await?;
    }
}

/// The oldest undecided submissions, up to a batch.
async fn undecided(conn: &mut AnyConnection) -> Result<Vec<Submission>, StorageError> {
    let rows = sqlx::query(
        "SELECT id, leaf, sidecar FROM submissions WHERE outcome IS NULL ORDER BY id LIMIT $1",
    )
    .bind(MAX_BATCH as i64)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let malformed = |_| StorageError::Malformed("submissions");
            let entry = VerifiedEntry::from_leaf(r.get(1)).map_err(|_| malformed(()))?;
            let sidecar = r
                .get::<Option<String>, _>(2)
                .map(|s| serde_json::from_str(&s))
                .transpose()
                .map_err(|_| malformed(()))?;
            Ok(Submission {
                entry,
                sidecar,
                reply: Reply::Recorded(r.get(0)),
            })
        })
        .collect()
}

/// Records the outcome of every recorded submission of `batch` inside `tx`, and clears
/// its private sidecar; returns whether there was any.
pub(crate) async fn record_outcomes(
    tx: &mut AnyConnection,
    batch: &[Submission],
    outcomes: &[Result<Appended, SequenceError>],
) -> Result<bool, StorageError> {
    let decided: Vec<(i64, String)> = batch
        .iter()
        .zip(outcomes)
        .filter_map(|(s, outcome)| match s.reply {
            Reply::Recorded(id) => Some((id, decision(outcome))),
            Reply::Waiting(_) => None,
        })
        .collect();
    for chunk in decided.chunks(500) {
        let mut q = QueryBuilder::new(
            "UPDATE submissions AS s SET outcome = v.outcome, sidecar = NULL FROM (",
        );
        q.push_values(chunk, |row, (id, outcome)| {
            row.push_bind(*id).push_bind(outcome.as_str());
        });
        q.push(") AS v (id, outcome) WHERE s.id = v.id");
        q.build().execute(&mut *tx).await?;
    }
    Ok(!decided.is_empty())
}

fn decision(outcome: &Result<Appended, SequenceError>) -> String {
    let decision = match outcome {
        Ok(a) => Decision::Appended {
            index: a.index,
            tree_size: a.tree_size,
            duplicate: a.duplicate,
        },
        Err(SequenceError::Denied(denial)) => Decision::Denied(denial.clone()),
        Err(other) => unreachable!("a batch's outcomes are appended or denied, not {other}"),
    };
    serde_json::to_string(&decision).expect("decisions serialise")
}

async fn remove_abandoned(conn: &mut AnyConnection) -> Result<(), StorageError> {
    sqlx::query("DELETE FROM submissions WHERE outcome IS NOT NULL AND accepted_at < $1")
        .bind(unix_millis() - ABANDONED_AFTER.as_millis() as i64)
        .execute(conn)
        .await?;
    Ok(())
}

fn unix_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

type Waiting = Mutex<HashMap<i64, (Hash, oneshot::Sender<Result<Appended, SequenceError>>)>>;

/// This node's side of the `submissions` table: it writes submissions and answers
/// their clients once they are decided. Dropping it (with the last `Sequencer`) stops
/// the node's tasks, which releases the lease if it held it.
pub(crate) struct Submissions {
    store: Arc<SqlStore>,
    waiting: Arc<Waiting>,
    heads: watch::Receiver<Head>,
    leading: Arc<AtomicBool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Submissions {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Submissions {
    /// Whether this node holds the integrator's lease.
    pub(crate) fn leads(&self) -> bool {
        self.leading.load(Ordering::SeqCst)
    }

    /// Stops following, answering and competing for the lease; the lease, if held, is
    /// released as the integrator's connection closes.
    pub(crate) fn stop(&self) {
        for task in &self.tasks {
            task.abort();
        }
    }

    pub(crate) async fn submit(
        &self,
        entry: VerifiedEntry,
        sidecar: Option<serde_json::Value>,
    ) -> Result<Appended, SequenceError> {
        let storage = |e: sqlx::Error| SequenceError::Storage(e.to_string());
        let id: i64 = sqlx::query(
            "INSERT INTO submissions (leaf, sidecar, accepted_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(entry.leaf())
        .bind(sidecar.map(|s| s.to_string()))
        .bind(unix_millis())
        .fetch_one(self.store.pool())
        .await
        .map_err(storage)?
        .get(0);
        let (reply, answered) = oneshot::channel();
        self.waiting
            .lock()
            .expect("waiting submissions")
            .insert(id, (entry.leaf_hash(), reply));
        let appended = answered.await.map_err(|_| SequenceError::Closed)??;
        // Answer only once this node's readers serve the checkpoint named in the
        // answer, so the client can read its entry back from the node it wrote to.
        self.heads
            .clone()
            .wait_for(|h| h.size >= appended.tree_size)
            .await
            .map_err(|_| SequenceError::Closed)?;
        Ok(appended)
    }
}

/// Answers this node's waiting submissions as they are decided, then deletes them.
async fn answer(store: Arc<SqlStore>, waiting: Arc<Waiting>, wake: Arc<Wakeups>) {
    loop {
        woken(&wake.decided).await;
        let ids: Vec<i64> = waiting.lock().expect("waiting").keys().copied().collect();
        if ids.is_empty() {
            continue;
        }
        if let Err(error) = answer_decided(&store, &waiting, &ids).await {
            tracing::warn!(%error, "reading decided submissions");
        }
    }
}

async fn answer_decided(
    store: &SqlStore,
    waiting: &Waiting,
    ids: &[i64],
) -> Result<(), StorageError> {
    let mut q = QueryBuilder::new(
        "SELECT id, outcome FROM submissions WHERE outcome IS NOT NULL AND id IN (",
    );
    q.push_list(ids.iter().copied()).push(")");
    let rows = q.build().fetch_all(store.pool()).await?;
    if rows.is_empty() {
        return Ok(());
    }
    let mut done = Vec::with_capacity(rows.len());
    for row in &rows {
        let id: i64 = row.get(0);
        let decision: Decision = serde_json::from_str(row.get(1))
            .map_err(|_| StorageError::Malformed("submissions.outcome"))?;
        if let Some((leaf_hash, reply)) = waiting.lock().expect("waiting").remove(&id) {
            let _ = reply.send(match decision {
                Decision::Appended {
                    index,
                    tree_size,
                    duplicate,
                } => Ok(Appended {
                    leaf_hash,
                    index,
                    tree_size,
                    duplicate,
                }),
                Decision::Denied(denial) => Err(SequenceError::Denied(denial)),
            });
        }
        done.push(id);
    }
    let mut q = QueryBuilder::new("DELETE FROM submissions WHERE id IN (");
    q.push_list(done).push(")");
    q.build().execute(store.pool()).await?;
    Ok(())
}
