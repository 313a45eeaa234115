//! The appender life cycle, in one place:
//!
//! 1. **add**: a handler checks a submission (`VerifiedEntry::from_leaf`) and hands it
//!    to the sequencer, then waits;
//! 2. **sequence**: the integrator task takes everything queued (up to `MAX_BATCH`),
//!    opens one transaction, drops entries already in the log or earlier in the batch,
//!    and asks the workflow `Rules` to admit each of the rest in order, under a
//!    savepoint (a refused entry leaves no trace);
//! 3. **integrate**: it computes the new tree hashes from the in-memory frontier,
//!    signs the checkpoint for the new size, and writes entries, hashes and checkpoint
//!    into the same transaction, then commits;
//! 4. **publish**: only after the commit does it publish the new head and answer the
//!    waiting handlers, so an acknowledged entry is always durable.
//!
//! While one batch commits, the next one queues: that is the group commit.

use crate::checkpoint::{CheckpointError, LogSigner, LogVerifier};
use crate::entry::VerifiedEntry;
use crate::hex32;
use crate::rules::{BoxFuture, Denial, Refusal, Rules};
use crate::storage::{Batch, LogStore, NewEntry, StorageError, StoredCheckpoint};
use crate::tree::{self, Frontier, Hash};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, watch};

/// Most entries sequenced in one transaction.
pub const MAX_BATCH: usize = 1024;
const QUEUE_DEPTH: usize = 4 * MAX_BATCH;

/// The latest signed tree head, as published to readers.
#[derive(Clone, Debug)]
pub struct Head {
    pub size: u64,
    pub root: Hash,
    pub note: String,
}

/// Where a submitted entry landed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Appended {
    pub leaf_hash: Hash,
    pub index: u64,
    /// Size of the first checkpoint that includes the entry.
    pub tree_size: u64,
    /// The entry was already in the log; nothing was appended.
    pub duplicate: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SequenceError {
    #[error("the log is shutting down")]
    Closed,
    #[error("the entry could not be stored: {0}")]
    Storage(String),
    #[error(transparent)]
    Denied(#[from] Denial),
}

/// Rules that admit every well-formed entry: a bare log without a workflow.
#[derive(Clone, Copy, Debug, Default)]
pub struct AdmitAll;

impl<DB: sqlx::Database> Rules<DB> for AdmitAll {
    fn admit<'a>(
        &'a self,
        _conn: &'a mut DB::Connection,
        _entry: &'a VerifiedEntry,
        _index: u64,
        _sidecar: Option<&'a serde_json::Value>,
    ) -> BoxFuture<'a, Result<(), Refusal>> {
        Box::pin(async { Ok(()) })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error("the stored tree does not match the latest checkpoint (size {size}: checkpoint root {claimed}, stored hashes give {computed}); run `aidledger verify --db`")]
    Diverged {
        size: u64,
        claimed: String,
        computed: String,
    },
}

struct Pending {
    entry: VerifiedEntry,
    sidecar: Option<serde_json::Value>,
    reply: oneshot::Sender<Result<Appended, SequenceError>>,
}

/// Handle for submitting entries to the integrator.
#[derive(Clone)]
pub struct Sequencer {
    queue: mpsc::Sender<Pending>,
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
    pub async fn start_with_rules<S: LogStore, R: Rules<S::Db>>(
        store: Arc<S>,
        signer: LogSigner,
        rules: R,
    ) -> Result<(Sequencer, watch::Receiver<Head>), StartError> {
        let verifier = LogVerifier::new(&signer.vkey())?;
        let head = match store.latest_checkpoint().await? {
            Some(stored) => {
                let checkpoint = verifier.verify(stored.note.as_bytes())?;
                Head {
                    size: checkpoint.size,
                    root: checkpoint.root,
                    note: stored.note,
                }
            }
            None => {
                let note = signer.sign(0, tree::EMPTY_HASH);
                store
                    .append(&Batch {
                        entries: vec![],
                        first_position: 0,
                        hashes: vec![],
                        checkpoint: StoredCheckpoint {
                            tree_size: 0,
                            note: note.clone(),
                        },
                    })
                    .await?;
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
        let (queue, receiver) = mpsc::channel(QUEUE_DEPTH);
        let (publish, heads) = watch::channel(head);
        tokio::spawn(
            Integrator {
                store,
                signer,
                rules,
                frontier,
                publish,
            }
            .run(receiver),
        );
        Ok((Sequencer { queue }, heads))
    }

    /// Sequences one checked entry; resolves once it is durable (or was already there).
    pub async fn submit(&self, entry: VerifiedEntry) -> Result<Appended, SequenceError> {
        self.submit_with(entry, None).await
    }

    /// Like `submit`, with data for the rules that stays off the log.
    pub async fn submit_with(
        &self,
        entry: VerifiedEntry,
        sidecar: Option<serde_json::Value>,
    ) -> Result<Appended, SequenceError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Pending {
                entry,
                sidecar,
                reply,
            })
            .await
            .map_err(|_| SequenceError::Closed)?;
        answer.await.map_err(|_| SequenceError::Closed)?
    }
}

struct Integrator<S, R> {
    store: Arc<S>,
    signer: LogSigner,
    rules: R,
    frontier: Frontier,
    publish: watch::Sender<Head>,
}

impl<S: LogStore, R: Rules<S::Db>> Integrator<S, R> {
    async fn run(mut self, mut queue: mpsc::Receiver<Pending>) {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
            self.integrate(std::mem::take(&mut batch)).await;
        }
    }

    async fn integrate(&mut self, batch: Vec<Pending>) {
        match self.try_integrate(&batch).await {
            Ok(outcomes) => {
                for (pending, outcome) in batch.into_iter().zip(outcomes) {
                    let _ = pending.reply.send(outcome);
                }
            }
            Err(error) => {
                tracing::error!(%error, entries = batch.len(), "batch not sequenced");
                for pending in batch {
                    let _ = pending
                        .reply
                        .send(Err(SequenceError::Storage(error.to_string())));
                }
            }
        }
    }

    /// Sequences a batch in one transaction; returns each entry's outcome, or an error
    /// (after which nothing of the batch was written).
    async fn try_integrate(
        &mut self,
        batch: &[Pending],
    ) -> Result<Vec<Result<Appended, SequenceError>>, StorageError> {
        let hashes: Vec<Hash> = batch.iter().map(|p| p.entry.leaf_hash()).collect();
        let existing = self.already_sequenced(&hashes).await?;

        let mut tx = self.store.begin().await?;
        let old_size = self.frontier.size();
        let mut frontier = self.frontier.clone();
        let mut placed: HashMap<[u8; 32], u64> = HashMap::new();
        let mut outcomes = Vec::with_capacity(batch.len());
        let mut entries = Vec::new();
        let mut new_hashes = Vec::new();
        for pending in batch {
            let leaf_hash = pending.entry.leaf_hash();
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
            self.store.savepoint(&mut tx, "SAVEPOINT admit").await?;
            match self
                .rules
                .admit(&mut *tx, &pending.entry, index, pending.sidecar.as_ref())
                .await
            {
                Ok(()) => self.store.savepoint(&mut tx, "RELEASE admit").await?,
                Err(Refusal::Denied(denial)) => {
                    self.store.savepoint(&mut tx, "ROLLBACK TO admit").await?;
                    self.store.savepoint(&mut tx, "RELEASE admit").await?;
                    outcomes.push(Outcome::Denied(denial));
                    continue;
                }
                Err(Refusal::Storage(e)) => return Err(e.into()),
            }
            new_hashes.extend(frontier.append(leaf_hash));
            placed.insert(leaf_hash.0, index);
            outcomes.push(Outcome::Appended { index });
            entries.push(NewEntry {
                index,
                leaf_hash,
                leaf: pending.entry.leaf().to_vec(),
                kind: pending.entry.kind().name(),
                author: pending.entry.author_key().to_bytes(),
            });
        }

        let new_size = frontier.size();
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
            self.store.append_in(&mut tx, &write).await?;
            tx.commit().await?;
            self.frontier = frontier;
            self.publish.send_replace(Head {
                size: new_size,
                root,
                note,
            });
        }

        let head_size = self.frontier.size();
        Ok(batch
            .iter()
            .zip(outcomes)
            .map(|(pending, outcome)| {
                let leaf_hash = pending.entry.leaf_hash();
                match outcome {
                    Outcome::Appended { index } => Ok(Appended {
                        leaf_hash,
                        index,
                        tree_size: head_size,
                        duplicate: false,
                    }),
                    Outcome::Duplicate { index, tree_size } => Ok(Appended {
                        leaf_hash,
                        index,
                        tree_size: tree_size.unwrap_or(head_size),
                        duplicate: true,
                    }),
                    Outcome::Denied(denial) => Err(SequenceError::Denied(denial)),
                }
            })
            .collect())
    }

    /// Entries of the batch already in the log: index and first covering checkpoint.
    async fn already_sequenced(
        &self,
        hashes: &[Hash],
    ) -> Result<HashMap<[u8; 32], (u64, u64)>, StorageError> {
        let mut out = HashMap::new();
        for (hash, index) in self.store.find_leaves(hashes).await? {
            let covering = self
                .store
                .first_checkpoint_covering(index)
                .await?
                .ok_or(StorageError::Malformed("checkpoints"))?;
            out.insert(hash.0, (index, covering));
        }
        Ok(out)
    }
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
