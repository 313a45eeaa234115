//! Several nodes on one PostgreSQL database: every node accepts submissions and serves
//! reads; one at a time, the holder of the integrator's lease, sequences.
//!
//! - **accept**: a node that does not hold the lease writes each checked submission to
//!   the `submissions` table, those that arrive together in one statement
//!   (`store_submissions`), and waits for it to be decided (`Submissions::submit`).
//!   The lease holder hands its own submissions to its integrator in-process, as a
//!   single node does: a row would only be read back by the same process;
//! - **sequence**: the node holding the lease (`lead`) takes undecided rows in order,
//!   then its own submissions, runs the same `Integrator` as a single node, and records
//!   each row's outcome in the batch's own transaction, so an entry is appended and its
//!   row decided together;
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
//! nothing is appended twice. The submissions the dead holder took in-process die
//! with it, unanswered, as with a single node (their clients may send them again). A
//! holder that only loses its connection passes them on to the table (`lead`).

use crate::intake::{Appended, Decision, Reply, SequenceError, SharedIntake, Submission};
use crate::metrics::BatchMetrics;
use crate::rules::{BoxFuture, Rules};
use crate::sequencer::{
    publish_newer, spawn_integrator, Head, Integrator, Sequencer, StartError, MAX_BATCH,
};
use crate::storage::postgres::{self, DECIDED, NEW_CHECKPOINT, NEW_SUBMISSION};
use crate::storage::sql::SqlStore;
use crate::storage::submissions::{self, NewSubmission, Undecided};
use crate::storage::{Condition, LogStore, StorageError};
use ledger::checkpoint::{LogSigner, LogVerifier};
use ledger::clock::Clock;
use ledger::contact::Sidecar;
use ledger::entry::VerifiedEntry;
use ledger::tree::Hash;
use sqlx::AnyConnection;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, oneshot, watch, Notify};
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
/// How many times the lease holder tries a batch that fails with a fault (neither a
/// full disk nor a lost database) before deciding its submissions as failed.
const FAULT_ATTEMPTS: u32 = 3;

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
    let (intake, stored) = mpsc::channel(submissions::MAX_INSERT);
    let (own, own_queue) = mpsc::channel(MAX_BATCH);
    let leading = Arc::new(AtomicBool::new(false));
    let metrics = BatchMetrics::default();
    let tasks = vec![
        tokio::spawn(wake.clone().listen(listener)),
        tokio::spawn(follow(
            store.clone(),
            verifier,
            publish.clone(),
            wake.clone(),
        )),
        spawn_integrator(lead(
            Lease {
                store: store.clone(),
                signer,
                rules,
                clock,
                publish,
                wake: wake.clone(),
                leading: leading.clone(),
                metrics: metrics.clone(),
            },
            own_queue,
            intake.clone(),
        )),
        tokio::spawn(answer(store.clone(), waiting.clone(), wake)),
        tokio::spawn(store_submissions(store, waiting, stored)),
    ];
    let submissions = Arc::new(Submissions {
        intake,
        own,
        heads: heads.clone(),
        leading,
        tasks,
    });
    match tokio::time::timeout(START_TIMEOUT, heads.wait_for(|h| !h.note.is_empty())).await {
        Ok(Ok(_)) => {}
        _ => return Err(StartError::NoHead(START_TIMEOUT)),
    }
    Ok((Sequencer::shared(submissions, metrics), heads))
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

/// Takes the notification stored in `notify`, if one is: whether it was notified since
/// it was last waited on. Never waits (not even for a timer's tick).
fn take_notification(notify: &Notify) -> bool {
    std::pin::pin!(notify.notified()).enable()
}

/// When the lease holder reads the `submissions` table for other nodes' rows before a
/// batch. Most batches would find none (a single node never writes there), and each
/// read is a round trip on the integrator's serial path (1–2 ms a batch under load),
/// so the table is read only when rows may wait: another node notifies when it stores
/// one (`NEW_SUBMISSION`), the last read found some (more may follow), a batch that
/// failed is to be tried again, or `POLL` has passed since the last read, for a
/// notification lost while the listening connection reconnects.
struct TableReads {
    /// Whether a read is asked for, whatever the time since the last.
    wanted: bool,
    last: Instant,
}

impl TableReads {
    fn new() -> Self {
        TableReads {
            wanted: true,
            last: Instant::now(),
        }
    }

    /// Whether to read the table before the next batch. A notification is taken even
    /// when a read is due anyway: the read will see the row it announced.
    fn due(&mut self, submission: &Notify) -> bool {
        let notified = take_notification(submission);
        self.wanted = self.wanted || notified || self.last.elapsed() >= POLL;
        self.wanted
    }

    /// Records a read, and whether it `found` rows.
    fn found(&mut self, found: bool) {
        self.wanted = found;
        self.last = Instant::now();
    }

    /// Asks for a read before the next batch.
    fn again(&mut self) {
        self.wanted = true;
    }
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

/// What an integrator of this node needs whenever it takes the lease.
struct Lease<R> {
    store: Arc<SqlStore>,
    signer: LogSigner,
    rules: R,
    clock: Arc<dyn Clock>,
    publish: watch::Sender<Head>,
    wake: Arc<Wakeups>,
    leading: Arc<AtomicBool>,
    metrics: BatchMetrics,
}

/// Competes for the lease for as long as the node runs, and sequences while it holds it,
/// taking this node's own submissions from `own`.
///
/// When the lease is lost, what this node took from `own` but had not sequenced yet is
/// passed on to the table, for whichever node leads; and so is whatever reaches `own`
/// between tries (a client that saw this node leading a moment before).
async fn lead<R: Rules + Clone>(
    lease: Lease<R>,
    mut own: mpsc::Receiver<Pending>,
    table: mpsc::Sender<Pending>,
) {
    let mut taken = Vec::with_capacity(MAX_BATCH);
    loop {
        let held = hold_lease(&lease, &mut own, &mut taken).await;
        lease.leading.store(false, Ordering::SeqCst);
        if let Err(error) = held {
            tracing::error!(%error, "integrator stopped; the lease is released");
        }
        for pending in taken.drain(..) {
            pass_on(&table, pending).await;
        }
        let retry = tokio::time::sleep(LEASE_RETRY);
        tokio::pin!(retry);
        loop {
            tokio::select! {
                () = &mut retry => break,
                Some(pending) = own.recv() => pass_on(&table, pending).await,
            }
        }
    }
}

async fn pass_on(table: &mpsc::Sender<Pending>, pending: Pending) {
    if let Err(unsent) = table.send(pending).await {
        let _ = unsent.0.reply.send(Err(SequenceError::Closed));
    }
}

/// Takes the lease if it is free, then sequences until the connection fails. Returns
/// `Ok` at once when another node holds the lease, and when the node stops (its queue
/// of own submissions closes).
async fn hold_lease<R: Rules + Clone>(
    lease: &Lease<R>,
    own: &mut mpsc::Receiver<Pending>,
    taken: &mut Vec<Pending>,
) -> Result<(), StartError> {
    let Lease {
        store,
        signer,
        rules,
        clock,
        publish,
        wake,
        leading,
        metrics,
    } = lease;
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
        metrics.clone(),
    )
    .await?;
    leading.store(true, Ordering::SeqCst);
    tracing::info!(
        size = publish.borrow().size,
        "this node holds the integrator's lease"
    );
    submissions::remove_abandoned(
        integrator.conn(),
        unix_millis() - ABANDONED_AFTER.as_millis() as i64,
    )
    .await?;
    let mut faults = 0;
    let mut reads = TableReads::new();
    loop {
        // Rows first: they waited in the table while these waited in memory. Up to half
        // a batch is kept for these, so that a backlog in the table does not stop this
        // node's own clients; none while rows that failed are tried again, so that
        // they fail no submission of this node's.
        let reserved = if faults > 0 {
            0
        } else {
            (taken.len() + own.len()).min(MAX_BATCH / 2)
        };
        let mut batch = if reads.due(&wake.submission) {
            let rows = undecided(integrator.conn(), MAX_BATCH - reserved).await?;
            reads.found(!rows.is_empty());
            rows
        } else {
            Vec::new()
        };
        if faults == 0 || batch.is_empty() {
            let room = MAX_BATCH - batch.len();
            while taken.len() < room {
                match own.try_recv() {
                    Ok(pending) => taken.push(pending),
                    Err(_) => break,
                }
            }
            batch.extend(taken.drain(..room.min(taken.len())).map(Submission::from));
        }
        if batch.is_empty() {
            tokio::select! {
                () = woken(&wake.submission) => reads.again(),
                received = own.recv_many(taken, MAX_BATCH) => if received == 0 {
                    return Ok(());
                },
            }
            continue;
        }
        let ids: Vec<i64> = batch.iter().filter_map(Submission::recorded_id).collect();
        match integrator.integrate(batch).await {
            Ok(()) => faults = 0,
            // Neither full nor cut off: the same batch would fail the same way for
            // ever, its clients never answered. This node's own submissions are
            // answered at once, as a single node answers them; after a few tries the
            // rows are decided as failed, and the log goes on.
            Err(unsequenced) if unsequenced.error.condition() == Condition::Fault => {
                let error = unsequenced.answer();
                if ids.is_empty() {
                    tracing::error!(%error, "batch not sequenced");
                    continue;
                }
                faults += 1;
                reads.again();
                tracing::error!(%error, attempt = faults, "batch not sequenced");
                if faults == FAULT_ATTEMPTS {
                    let failed = Decision::Failed {
                        condition: Condition::Fault,
                        message: error.to_string(),
                    }
                    .to_json();
                    let decided: Vec<_> = ids.into_iter().map(|id| (id, failed.clone())).collect();
                    submissions::record(integrator.conn(), &decided).await?;
                    faults = 0;
                }
            }
            // The lease's connection is gone (or the database is full): this node's
            // own submissions go back to be passed on to the table, for the next holder
            // to sequence or, if the commit landed after all, to answer as duplicates.
            Err(unsequenced) => {
                let mut back: Vec<Pending> = unsequenced
                    .batch
                    .into_iter()
                    .filter_map(Pending::waiting)
                    .collect();
                back.append(taken);
                *taken = back;
                return Err(unsequenced.error.into());
            }
        }
    }
}

/// The oldest undecided submissions, up to `limit`, in the order they were stored.
/// Their entries are checked again (the whole validity rule, a signature verification
/// each) because the table is written by whoever holds the database's password, not
/// only by nodes; the checks are spread over the cores, as the integrator would
/// otherwise make them one at a time. A row that is not a valid submission is decided
/// here as failed: left undecided, it would stop every batch after it.
async fn undecided(
    conn: &mut AnyConnection,
    limit: usize,
) -> Result<Vec<Submission>, StorageError> {
    let rows = submissions::undecided(conn, limit).await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let read = tokio::task::spawn_blocking(move || {
        ledger::parallel::try_map(&rows, |_, row| {
            Ok::<_, std::convert::Infallible>(
                VerifiedEntry::from_leaf(&row.leaf)
                    .map_err(|e| (row.id, format!("is not a valid entry: {e}")))
                    .and_then(|entry| recorded(row, entry)),
            )
        })
    })
    .await
    .expect("checking a submission does not panic")
    .unwrap_or_else(|never| match never {});
    let (mut batch, mut invalid) = (Vec::with_capacity(read.len()), Vec::new());
    for submission in read {
        match submission {
            Ok(submission) => batch.push(submission),
            Err((id, why)) => invalid.push((id, why)),
        }
    }
    if !invalid.is_empty() {
        tracing::warn!(
            rows = invalid.len(),
            "stored submissions that are not valid were decided as failed"
        );
        let decided: Vec<(i64, String)> = invalid
            .into_iter()
            .map(|(id, why)| {
                let message = format!("the stored submission {why}");
                let failed = Decision::Failed {
                    condition: Condition::Fault,
                    message,
                };
                (id, failed.to_json())
            })
            .collect();
        submissions::record(conn, &decided).await?;
    }
    batch.sort_unstable_by_key(Submission::recorded_id);
    Ok(batch)
}

/// The submission of `row`, whose leaf is `entry`; or the row's id and what is wrong
/// with it (never the sidecar's contents: they are private).
fn recorded(row: &Undecided, entry: VerifiedEntry) -> Result<Submission, (i64, String)> {
    let sidecar = row
        .sidecar
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(|_| {
            (
                row.id,
                "has a private sidecar that cannot be read".to_owned(),
            )
        })?;
    Ok(Submission {
        entry,
        sidecar,
        reply: Reply::Recorded(row.id),
    })
}

fn unix_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// This node's stored submissions by row, until they are decided.
type Waiting = Mutex<HashMap<i64, Stored>>;

/// A submission this node stored, and its client.
struct Stored {
    leaf_hash: Hash,
    reply: oneshot::Sender<Result<Appended, SequenceError>>,
}

/// This node's side of the shared log: it hands submissions to its own integrator while
/// it holds the lease, writes them to the `submissions` table otherwise, and answers
/// their clients once they are decided. Dropping it (with the last `Sequencer`) stops
/// the node's tasks, which releases the lease if it held it.
pub(crate) struct Submissions {
    /// To the `submissions` table.
    intake: mpsc::Sender<Pending>,
    /// To this node's integrator, while it holds the lease.
    own: mpsc::Sender<Pending>,
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
    async fn submit_and_wait(
        &self,
        entry: VerifiedEntry,
        sidecar: Option<Sidecar>,
    ) -> Result<Appended, SequenceError> {
        let (reply, answered) = oneshot::channel();
        let pending = Pending {
            entry,
            sidecar,
            reply,
        };
        let queue = if self.leads() {
            &self.own
        } else {
            &self.intake
        };
        queue
            .send(pending)
            .await
            .map_err(|_| SequenceError::Closed)?;
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

/// A submission on its way to this node's integrator or into the `submissions`
/// table, and its client.
struct Pending {
    /// As the submitting handler verified it.
    entry: VerifiedEntry,
    sidecar: Option<Sidecar>,
    reply: oneshot::Sender<Result<Appended, SequenceError>>,
}

impl Pending {
    /// The submission again, if a client of this process waits for it.
    fn waiting(submission: Submission) -> Option<Pending> {
        match submission.reply {
            Reply::Waiting(reply) => Some(Pending {
                entry: submission.entry,
                sidecar: submission.sidecar,
                reply,
            }),
            Reply::Recorded(_) => None,
        }
    }
}

impl From<Pending> for Submission {
    fn from(pending: Pending) -> Submission {
        Submission {
            entry: pending.entry,
            sidecar: pending.sidecar,
            reply: Reply::Waiting(pending.reply),
        }
    }
}

/// Writes this node's submissions to the `submissions` table, all those that arrived
/// while the previous write was committing in one statement: concurrent clients then
/// share a commit (and its WAL flush) instead of paying one each. Each stored row is
/// handed to `waiting`, to be answered once decided.
async fn store_submissions(
    store: Arc<SqlStore>,
    waiting: Arc<Waiting>,
    mut intake: mpsc::Receiver<Pending>,
) {
    let mut batch = Vec::with_capacity(submissions::MAX_INSERT);
    while intake.recv_many(&mut batch, submissions::MAX_INSERT).await > 0 {
        let rows: Vec<NewSubmission> = batch
            .iter()
            .map(|p| NewSubmission {
                leaf: p.entry.leaf().to_vec(),
                sidecar: p
                    .sidecar
                    .as_ref()
                    .map(|s| serde_json::to_string(s).expect("a sidecar serialises")),
            })
            .collect();
        match submissions::insert(&store, &rows, unix_millis()).await {
            Ok(stored) => {
                let mut by_hash: HashMap<[u8; 32], Vec<Pending>> = HashMap::new();
                for p in batch.drain(..) {
                    by_hash.entry(p.entry.leaf_hash().0).or_default().push(p);
                }
                let mut waiting = waiting.lock().expect("waiting submissions");
                for (id, leaf_hash) in stored {
                    if let Some(p) = by_hash.get_mut(&leaf_hash.0).and_then(Vec::pop) {
                        let stored = Stored {
                            leaf_hash,
                            reply: p.reply,
                        };
                        waiting.insert(id, stored);
                    }
                }
            }
            Err(error) => {
                for p in batch.drain(..) {
                    let _ = p.reply.send(Err(SequenceError::from(&error)));
                }
            }
        }
    }
}

impl SharedIntake for Submissions {
    fn submit(
        &self,
        entry: VerifiedEntry,
        sidecar: Option<Sidecar>,
    ) -> BoxFuture<'_, Result<Appended, SequenceError>> {
        Box::pin(self.submit_and_wait(entry, sidecar))
    }

    fn leads(&self) -> bool {
        self.leading.load(Ordering::SeqCst)
    }

    fn stop(&self) {
        for task in &self.tasks {
            task.abort();
        }
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
    let rows = submissions::decided(store, ids).await?;
    if rows.is_empty() {
        return Ok(());
    }
    let mut done = Vec::with_capacity(rows.len());
    for (id, outcome) in rows {
        let decision = Decision::from_json(&outcome)?;
        if let Some(stored) = waiting.lock().expect("waiting").remove(&id) {
            let _ = stored.reply.send(decision.into_outcome(stored.leaf_hash));
        }
        done.push(id);
    }
    submissions::delete(store, done).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_holder_reads_the_table_only_when_rows_may_wait() {
        let submission = Notify::new();
        let mut reads = TableReads::new();
        assert!(reads.due(&submission), "a new lease holder reads the table");
        reads.found(false);
        assert!(!reads.due(&submission), "an empty read, and nothing since");

        submission.notify_one();
        assert!(reads.due(&submission), "another node stored a row");
        reads.found(true);
        assert!(
            reads.due(&submission),
            "the last read found rows: more may follow"
        );
        reads.found(false);
        assert!(!reads.due(&submission), "the notification was taken once");

        reads.again();
        assert!(reads.due(&submission), "a failed batch is tried again");
        reads.found(false);
        reads.last -= POLL;
        assert!(
            reads.due(&submission),
            "at least every POLL, for a lost notification"
        );
    }

    #[test]
    fn a_notification_is_taken_without_waiting() {
        let notify = Notify::new();
        assert!(!take_notification(&notify));
        notify.notify_one();
        assert!(take_notification(&notify));
        assert!(!take_notification(&notify), "it was taken");
    }
}
