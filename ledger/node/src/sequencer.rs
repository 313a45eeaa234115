//! The appender life cycle, in one place:
//!
//! 1. **add**: a handler checks a submission (`VerifiedEntry::from_leaf`) and hands it
//!    to the sequencer, then waits;
//! 2. **sequence**: the integrator task takes everything queued (up to `MAX_BATCH`),
//!    opens one transaction, drops entries already in the log or earlier in the batch,
//!    and asks the workflow `Rules` to admit each of the rest in order, under a
//!    savepoint (a refused entry leaves no trace, neither in the tables nor in what
//!    waits to be written: `Rules::discard`), then to write what they left to be
//!    written in bulk (`Rules::flush`);
//! 3. **integrate**: it computes the new tree hashes from the in-memory frontier,
//!    signs the checkpoint for the new size, and writes entries, hashes and checkpoint
//!    into the same transaction, then commits;
//! 4. **publish**: only after the commit does it publish the new head and answer the
//!    waiting handlers, so an acknowledged entry is always durable.
//!
//! While one batch commits, the next one queues: that is the group commit.
//!
//! The integrator also keeps the log's clock (`ledger::clock`): a batch that appends
//! anything starts with a `log.clock` reading signed by the log's key when the log has
//! none yet or its last one is a `TICK` old, so the rules judge what follows by a time
//! recorded in the log.
//!
//! Submissions reach the integrator in one of two ways. With one node (`start`), a
//! handler hands its entry over an in-process queue and is answered over a channel.
//! With several nodes on one PostgreSQL database (`crate::cluster`), the nodes without
//! the integrator's lease write their submissions to the `submissions` table; the node
//! holding the lease sequences them with its own, records each row's outcome in the
//! batch's own transaction, and the accepting node answers its client from that record.

use crate::intake::{record_outcomes, Appended, Reply, SequenceError, SharedIntake, Submission};
use crate::metrics::BatchMetrics;
use crate::rules::{BoxFuture, Denial, Refusal, Rules};
use crate::storage::{self, Batch, Condition, LogStore, NewEntry, StorageError, StoredCheckpoint};
use ledger::checkpoint::{CheckpointError, LogSigner, LogVerifier};
use ledger::clock::{self, Clock, SystemClock};
use ledger::contact::Sidecar;
use ledger::entry::VerifiedEntry;
use ledger::hex32;
use ledger::tree::{self, Frontier, Hash};
use ledger::Kind;
use sqlx::AnyConnection;
use std::collections::HashMap;
use std::sync::Arc;
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot, watch};
use tracing::Instrument;

/// Most entries sequenced in one transaction.
pub const MAX_BATCH: usize = 1024;
const QUEUE_DEPTH: usize = 4 * MAX_BATCH;

/// The latest signed tree head, as published to readers.
#[derive(Clone, Debug, Default)]
pub struct Head {
    pub size: u64,
    pub root: Hash,
    pub note: String,
}

impl Head {
    /// The head a stored checkpoint note gives, once its signature is checked.
    pub(crate) fn verified(verifier: &LogVerifier, note: String) -> Result<Head, CheckpointError> {
        let checkpoint = verifier.verify(note.as_bytes())?;
        Ok(Head {
            size: checkpoint.size,
            root: checkpoint.root,
            note,
        })
    }
}

/// Rules that admit every well-formed entry: a bare log without a workflow.
#[derive(Clone, Copy, Debug, Default)]
pub struct AdmitAll;

impl Rules for AdmitAll {
    fn admit<'a>(
        &'a self,
        _conn: &'a mut AnyConnection,
        _entry: &'a VerifiedEntry,
        _index: u64,
        _sidecar: Option<&'a Sidecar>,
    ) -> BoxFuture<'a, Result<(), Refusal>> {
        Box::pin(async { Ok(()) })
    }
}

/// Why a batch was not sequenced (nothing of it was written).
#[derive(Debug, thiserror::Error)]
pub enum IntegrateError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The rules refused the log's own clock reading: they were given another log key,
    /// or the stored clock is ahead of this reading. Sequencing without a clock would
    /// let time-dependent rules go unchecked, so nothing is sequenced.
    #[error("the rules refused the log's own clock entry: {0}")]
    ClockRefused(Denial),
}

impl IntegrateError {
    pub fn condition(&self) -> Condition {
        match self {
            IntegrateError::Storage(e) => e.condition(),
            IntegrateError::ClockRefused(_) => Condition::Fault,
        }
    }
}

/// A batch that could not be sequenced: why, and its submissions, none answered yet.
pub(crate) struct Unsequenced {
    pub error: IntegrateError,
    pub batch: Vec<Submission>,
}

impl Unsequenced {
    /// Tells the batch's waiting submitters why it failed; returns why.
    pub(crate) fn answer(self) -> IntegrateError {
        for submission in self.batch {
            if let Reply::Waiting(reply) = submission.reply {
                let _ = reply.send(Err(SequenceError::Storage {
                    condition: self.error.condition(),
                    message: self.error.to_string(),
                }));
            }
        }
        self.error
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error(transparent)]
    Integrate(#[from] IntegrateError),
    #[error("the stored clock entry {0} is not a valid log.clock entry")]
    Clock(u64),
    #[error("the log has no checkpoint and no node became its integrator within {0:?}")]
    NoHead(std::time::Duration),
    #[error("the stored tree does not match the latest checkpoint (size {size}: checkpoint root {claimed}, stored hashes give {computed}); run `aidledger verify --db`")]
    Diverged {
        size: u64,
        claimed: String,
        computed: String,
    },
}

/// Handle for submitting entries to the integrator.
#[derive(Clone)]
pub struct Sequencer {
    intake: Intake,
    metrics: BatchMetrics,
}

#[derive(Clone)]
enum Intake {
    InProcess(mpsc::Sender<Submission>),
    Shared(Arc<dyn SharedIntake>),
}

impl Sequencer {
    /// Loads the log head from `store` (writing the empty checkpoint of a new log),
    /// checks the stored tree against it, and starts the integrator task.
    pub async fn start<S: LogStore>(
        store: Arc<S>,
        signer: LogSigner,
    ) -> Result<(Sequencer, watch::Receiver<Head>), StartError> {
        Self::start_with_rules(store, signer, AdmitAll).await
    }

    /// Like `start`, with `rules` deciding which entries may be appended.
    pub async fn start_with_rules<S: LogStore, R: Rules>(
        store: Arc<S>,
        signer: LogSigner,
        rules: R,
    ) -> Result<(Sequencer, watch::Receiver<Head>), StartError> {
        Self::start_with_clock(store, signer, rules, Arc::new(SystemClock)).await
    }

    /// Like `start_with_rules`, with the log's clock read from `clock`.
    pub async fn start_with_clock<S: LogStore, R: Rules>(
        store: Arc<S>,
        signer: LogSigner,
        rules: R,
        clock: Arc<dyn Clock>,
    ) -> Result<(Sequencer, watch::Receiver<Head>), StartError> {
        let writer = store.connect_writer().await?;
        let (publish, heads) = watch::channel(Head::default());
        let metrics = BatchMetrics::default();
        let integrator = Integrator::open(
            store,
            writer,
            signer,
            rules,
            clock,
            publish,
            metrics.clone(),
        )
        .await?;
        let (queue, receiver) = mpsc::channel(QUEUE_DEPTH);
        spawn_integrator(integrator.run_in_process(receiver));
        Ok((
            Sequencer {
                intake: Intake::InProcess(queue),
                metrics,
            },
            heads,
        ))
    }

    pub(crate) fn shared(submissions: Arc<dyn SharedIntake>, metrics: BatchMetrics) -> Self {
        Sequencer {
            intake: Intake::Shared(submissions),
            metrics,
        }
    }

    /// What this node's integrator measured of its batches (nothing while another node
    /// of a shared log holds the lease).
    pub fn batch_metrics(&self) -> &BatchMetrics {
        &self.metrics
    }

    /// Stops this node's part in a shared log (following, answering, the lease) even
    /// while handles remain; a single node's integrator ends with its last handle.
    pub fn stop(&self) {
        if let Intake::Shared(submissions) = &self.intake {
            submissions.stop();
        }
    }

    /// Whether this process sequences: always for a single node; for a node of a
    /// shared log, while it holds the integrator's lease.
    pub fn is_integrator(&self) -> bool {
        match &self.intake {
            Intake::InProcess(_) => true,
            Intake::Shared(submissions) => submissions.leads(),
        }
    }

    /// Sequences one checked entry; resolves once it is durable (or was already there).
    pub async fn submit(&self, entry: VerifiedEntry) -> Result<Appended, SequenceError> {
        self.submit_with(entry, None).await
    }

    /// Like `submit`, with data for the rules that stays off the log.
    pub async fn submit_with(
        &self,
        entry: VerifiedEntry,
        sidecar: Option<Sidecar>,
    ) -> Result<Appended, SequenceError> {
        match &self.intake {
            Intake::InProcess(queue) => {
                let (reply, answer) = oneshot::channel();
                queue
                    .send(Submission {
                        entry,
                        sidecar,
                        reply: Reply::Waiting(reply),
                    })
                    .await
                    .map_err(|_| SequenceError::Closed)?;
                answer.await.map_err(|_| SequenceError::Closed)?
            }
            Intake::Shared(submissions) => submissions.submit(entry, sidecar).await,
        }
    }
}

/// Runs `task`, an integrator, on a thread and runtime of its own, and ends that thread
/// when the task ends or is aborted through the returned handle.
///
/// The integrator is the one serial stage of the log: it hands the database one
/// statement after another, several per entry, and each hand-off waits for the
/// integrator to be scheduled again. On a thread of its own the operating system
/// schedules it directly, and it keeps the scheduling priority of the thread that
/// started the log, which a server can keep above its request handlers' (see
/// `aidledger`'s `main`).
pub(crate) fn spawn_integrator<F>(task: F) -> tokio::task::JoinHandle<()>
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime builds");
    let (running, ended) = oneshot::channel::<()>();
    let handle = runtime.spawn(async move {
        let _running = running;
        task.await
    });
    std::thread::Builder::new()
        .name("integrator".into())
        .spawn(move || runtime.block_on(async { ended.await.unwrap_or_default() }))
        .expect("the integrator's thread starts");
    handle
}

/// The one task that sequences: it owns the writer connection and the frontier.
pub(crate) struct Integrator<S, R> {
    store: Arc<S>,
    conn: AnyConnection,
    signer: LogSigner,
    rules: R,
    frontier: Frontier,
    publish: watch::Sender<Head>,
    clock: Arc<dyn Clock>,
    /// Time of the log's latest clock reading, if it has one.
    last_reading: Option<OffsetDateTime>,
    metrics: BatchMetrics,
}

impl<S: LogStore, R: Rules> Integrator<S, R> {
    /// Loads the log head through `conn` (writing the empty checkpoint of a new log),
    /// checks the stored tree against it and publishes it.
    pub(crate) async fn open(
        store: Arc<S>,
        mut conn: AnyConnection,
        signer: LogSigner,
        rules: R,
        clock: Arc<dyn Clock>,
        publish: watch::Sender<Head>,
        metrics: BatchMetrics,
    ) -> Result<Self, StartError> {
        let (frontier, last_reading) = load(&*store, &mut conn, &signer, &publish).await?;
        Ok(Integrator {
            store,
            conn,
            signer,
            rules,
            frontier,
            publish,
            clock,
            last_reading,
            metrics,
        })
    }

    /// After a failed batch: a new writer connection (the old one may be left inside
    /// the failed transaction) and the head as the database holds it (a commit that
    /// reported failure may still have landed; its entries then answer resubmissions
    /// as duplicates).
    async fn resume(&mut self) -> Result<(), StartError> {
        self.conn = self.store.connect_writer().await?;
        let (frontier, last_reading) =
            load(&*self.store, &mut self.conn, &self.signer, &self.publish).await?;
        self.frontier = frontier;
        self.last_reading = last_reading;
        Ok(())
    }

    /// The integrator's connection, for reading what it sequences next.
    pub(crate) fn conn(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }

    async fn run_in_process(mut self, mut queue: mpsc::Receiver<Submission>) {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
            let batch = std::mem::take(&mut batch);
            if let Err(unsequenced) = self.integrate(batch).await {
                let error = unsequenced.answer();
                tracing::error!(%error, "batch not sequenced");
                if let Err(error) = self.resume().await {
                    tracing::error!(%error, "the integrator resumes with the next batch");
                }
            }
        }
    }

    /// Sequences a batch and answers its submitters. On an error nothing of the batch
    /// was written, and its submissions are given back unanswered: the caller answers
    /// them or hands them on (recorded submissions stay undecided in their table).
    pub(crate) async fn integrate(&mut self, batch: Vec<Submission>) -> Result<(), Unsequenced> {
        self.metrics.submissions.observe(batch.len() as f64);
        match self.try_integrate(&batch).await {
            Ok(outcomes) => {
                let _answering = tracing::debug_span!("answer", batch = batch.len()).entered();
                for (submission, outcome) in batch.into_iter().zip(outcomes) {
                    if let Reply::Waiting(reply) = submission.reply {
                        let _ = reply.send(outcome);
                    }
                }
                Ok(())
            }
            Err(error) => Err(Unsequenced { error, batch }),
        }
    }

    /// Sequences a batch in one transaction; returns each entry's outcome, or an error
    /// (after which nothing of the batch was written).
    async fn try_integrate(
        &mut self,
        batch: &[Submission],
    ) -> Result<Vec<Result<Appended, SequenceError>>, IntegrateError> {
        let hashes: Vec<Hash> = batch.iter().map(|p| p.entry.leaf_hash()).collect();
        let store = self.store.clone();
        let existing = already_sequenced(&*store, &hashes).await?;
        let reading = self.due_reading();

        let began = std::time::Instant::now();
        let mut tx = store.begin(&mut self.conn).await?;
        let old_size = self.frontier.size();
        let mut frontier = self.frontier.clone();
        let mut placed: HashMap<[u8; 32], u64> = HashMap::new();
        let mut outcomes = Vec::with_capacity(batch.len());
        let mut entries = Vec::new();
        let mut new_hashes = Vec::new();
        // The reading goes first so that the rules judge the whole batch by it. It is
        // taken back below if nothing else of the batch is appended: a refused or
        // repeated submission changes nothing, not even the clock.
        let rules = &self.rules;
        // Nothing a failed batch left behind is written with this one.
        rules.discard();
        let mut read_at = None;
        let sequencing = async {
            if let Some((reading, _)) = &reading {
                let index = frontier.size();
                storage::savepoint(&mut tx, "clock").await?;
                match rules.admit(&mut tx, reading, index, None).await {
                    Ok(()) => {}
                    Err(Refusal::Denied(denial)) => {
                        return Err(IntegrateError::ClockRefused(denial))
                    }
                    Err(Refusal::Storage(e)) => return Err(StorageError::from(e).into()),
                }
                new_hashes.extend(frontier.append(reading.leaf_hash()));
                placed.insert(reading.leaf_hash().0, index);
                entries.push(new_entry(reading, index));
                // Written now, so that taking the batch back below never takes it.
                rules.flush(&mut tx).await.map_err(StorageError::from)?;
            }
            let fresh: Vec<&VerifiedEntry> = batch
                .iter()
                .map(|s| &s.entry)
                .filter(|e| !existing.contains_key(&e.leaf_hash().0))
                .collect();
            rules
                .read_ahead(&mut tx, &fresh)
                .await
                .map_err(StorageError::from)?;
            // Optimistically, the batch's entries are admitted without a savepoint each:
            // two statements fewer per entry. Rules may write before they refuse, so the
            // first refusal takes the batch back to where it began and admits it again,
            // each entry under its own savepoint, as the only way that undoes a refused
            // entry's writes and nothing else. Both passes admit the same entries in the
            // same order: a pass without refusals is one where every savepoint is kept.
            let (start_frontier, start_placed) = (frontier.clone(), placed.clone());
            let (start_entries, start_hashes) = (entries.len(), new_hashes.len());
            storage::savepoint(&mut tx, "batch").await?;
            let mut careful = false;
            'admitting: loop {
                for submission in batch {
                    let leaf_hash = submission.entry.leaf_hash();
                    if let Some(&(index, tree_size)) = existing.get(&leaf_hash.0) {
                        outcomes.push(Outcome::Duplicate {
                            index,
                            tree_size: Some(tree_size),
                        });
                        continue;
                    }
                    if let Some(&index) = placed.get(&leaf_hash.0) {
                        outcomes.push(Outcome::Duplicate {
                            index,
                            tree_size: None,
                        });
                        continue;
                    }
                    let index = frontier.size();
                    if careful {
                        rules.flush(&mut tx).await.map_err(StorageError::from)?;
                        storage::savepoint(&mut tx, "admit").await?;
                    }
                    match rules
                        .admit(
                            &mut tx,
                            &submission.entry,
                            index,
                            submission.sidecar.as_ref(),
                        )
                        .await
                    {
                        Ok(()) if careful => storage::release(&mut tx, "admit").await?,
                        Ok(()) => {}
                        Err(Refusal::Denied(_)) if !careful => {
                            storage::rollback_to(&mut tx, "batch").await?;
                            rules.discard();
                            (frontier, placed) = (start_frontier.clone(), start_placed.clone());
                            entries.truncate(start_entries);
                            new_hashes.truncate(start_hashes);
                            outcomes.clear();
                            careful = true;
                            continue 'admitting;
                        }
                        Err(Refusal::Denied(denial)) => {
                            storage::rollback_to(&mut tx, "admit").await?;
                            storage::release(&mut tx, "admit").await?;
                            // What it left to be written in bulk goes with it.
                            rules.discard();
                            outcomes.push(Outcome::Denied(denial));
                            continue;
                        }
                        Err(Refusal::Storage(e)) => return Err(StorageError::from(e).into()),
                    }
                    new_hashes.extend(frontier.append(leaf_hash));
                    placed.insert(leaf_hash.0, index);
                    outcomes.push(Outcome::Appended { index });
                    entries.push(new_entry(&submission.entry, index));
                }
                break;
            }
            rules.flush(&mut tx).await.map_err(StorageError::from)?;
            storage::release(&mut tx, "batch").await?;
            if let Some((_, at)) = &reading {
                // A submission of the reading itself (by the log's key) keeps it too.
                let kept = entries.len() > 1
                    || outcomes.iter().any(|o| {
                        matches!(
                            o,
                            Outcome::Duplicate {
                                tree_size: None,
                                ..
                            }
                        )
                    });
                if !kept {
                    storage::rollback_to(&mut tx, "clock").await?;
                    entries.clear();
                    new_hashes.clear();
                    frontier = self.frontier.clone();
                } else {
                    read_at = Some(*at);
                }
                storage::release(&mut tx, "clock").await?;
            }
            Ok::<_, IntegrateError>(())
        };
        sequencing
            .instrument(tracing::debug_span!("sequence", submissions = batch.len()))
            .await?;

        let new_size = frontier.size();
        let outcomes: Vec<_> = batch
            .iter()
            .zip(outcomes)
            .map(|(submission, outcome)| {
                let leaf_hash = submission.entry.leaf_hash();
                match outcome {
                    Outcome::Appended { index } => Ok(Appended {
                        leaf_hash,
                        index,
                        tree_size: new_size,
                        duplicate: false,
                    }),
                    Outcome::Duplicate { index, tree_size } => Ok(Appended {
                        leaf_hash,
                        index,
                        tree_size: tree_size.unwrap_or(new_size),
                        duplicate: true,
                    }),
                    Outcome::Denied(denial) => Err(SequenceError::Denied(denial)),
                }
            })
            .collect();

        let mut head = None;
        let integrating = async {
            if new_size > old_size {
                let root = frontier.root();
                let note = self.signer.sign(new_size, root);
                let write = Batch {
                    entries,
                    first_position: tlog_tiles::stored_hash_count(old_size),
                    hashes: new_hashes,
                    checkpoint: StoredCheckpoint {
                        tree_size: new_size,
                        note: note.clone(),
                    },
                };
                store.append_in(&mut tx, &write).await?;
                head = Some(Head {
                    size: new_size,
                    root,
                    note,
                });
            }
            let recorded = record_outcomes(&mut tx, batch, &outcomes).await?;
            if head.is_some() || recorded {
                tx.commit().await.map_err(StorageError::from)?;
                self.metrics
                    .commit_seconds
                    .observe(began.elapsed().as_secs_f64());
            }
            Ok::<_, IntegrateError>(())
        };
        integrating
            .instrument(tracing::debug_span!(
                "integrate",
                from = old_size,
                to = new_size
            ))
            .await?;
        if let Some(head) = head {
            let _publishing = tracing::debug_span!("publish", size = head.size).entered();
            self.frontier = frontier;
            self.last_reading = read_at.or(self.last_reading);
            publish_newer(&self.publish, head);
        }
        Ok(outcomes)
    }

    /// A new clock reading and its time, if the log has none yet or its last one is a `TICK` old.
    /// A host clock that stepped back behind the last reading gives none until it
    /// catches up, so the log's clock never runs backwards.
    fn due_reading(&self) -> Option<(VerifiedEntry, OffsetDateTime)> {
        let now = self.clock.now();
        match self.last_reading {
            Some(last) if now - last < clock::TICK => None,
            _ => {
                let reading = clock::reading(&self.signer, now);
                Some((reading, clock::reading_time(now)))
            }
        }
    }
}

fn new_entry(entry: &VerifiedEntry, index: u64) -> NewEntry {
    NewEntry {
        index,
        leaf_hash: entry.leaf_hash(),
        leaf: entry.leaf().to_vec(),
        kind: entry.kind().name(),
        author: entry.author_key().to_bytes(),
    }
}

/// Entries of the batch already in the log: index and first covering checkpoint.
async fn already_sequenced<S: LogStore>(
    store: &S,
    hashes: &[Hash],
) -> Result<HashMap<[u8; 32], (u64, u64)>, StorageError> {
    let mut out = HashMap::new();
    for (hash, index) in store.find_leaves(hashes).await? {
        let covering = store
            .first_checkpoint_covering(index)
            .await?
            .ok_or(StorageError::Malformed("checkpoints"))?;
        out.insert(hash.0, (index, covering));
    }
    Ok(out)
}

/// Publishes `head` unless readers already have it or a larger one (with several
/// nodes, both the integrator and the checkpoint follower publish).
pub(crate) fn publish_newer(publish: &watch::Sender<Head>, head: Head) {
    publish.send_if_modified(|current| {
        let newer = head.size > current.size || current.note.is_empty();
        if newer {
            *current = head;
        }
        newer
    });
}

/// What became of one entry of a batch.
enum Outcome {
    Appended {
        index: u64,
    },
    /// Already in the log (with its first covering checkpoint) or earlier in the batch.
    Duplicate {
        index: u64,
        tree_size: Option<u64>,
    },
    Denied(Denial),
}

/// Loads the log head through `conn` (writing the empty checkpoint of a new log),
/// checks the stored tree against it and publishes it; returns the frontier and the
/// time of the latest clock reading.
async fn load<S: LogStore>(
    store: &S,
    conn: &mut AnyConnection,
    signer: &LogSigner,
    publish: &watch::Sender<Head>,
) -> Result<(Frontier, Option<OffsetDateTime>), StartError> {
    let verifier = LogVerifier::new(&signer.vkey())?;
    let head = match store.latest_checkpoint().await? {
        Some(stored) => Head::verified(&verifier, stored.note)?,
        None => {
            let note = signer.sign(0, tree::EMPTY_HASH);
            let mut tx = store.begin(conn).await?;
            store
                .append_in(
                    &mut tx,
                    &Batch {
                        entries: vec![],
                        first_position: 0,
                        hashes: vec![],
                        checkpoint: StoredCheckpoint {
                            tree_size: 0,
                            note: note.clone(),
                        },
                    },
                )
                .await?;
            tx.commit().await.map_err(StorageError::from)?;
            Head {
                size: 0,
                root: tree::EMPTY_HASH,
                note,
            }
        }
    };
    let positions = tree::root_positions(head.size);
    let frontier = Frontier::new(head.size, store.read_hashes(&positions).await?);
    if frontier.root() != head.root {
        return Err(StartError::Diverged {
            size: head.size,
            claimed: hex32::encode(&head.root),
            computed: hex32::encode(&frontier.root()),
        });
    }
    let last_reading = match store.latest_of_kind(Kind::LogClock.name()).await? {
        Some(stored) => Some(
            VerifiedEntry::from_leaf(&stored.leaf)
                .ok()
                .and_then(|e| clock::check(&e, &signer.public_key(), None))
                .and_then(Result::ok)
                .ok_or(StartError::Clock(stored.index))?,
        ),
        None => None,
    };
    publish_newer(publish, head);
    Ok((frontier, last_reading))
}
