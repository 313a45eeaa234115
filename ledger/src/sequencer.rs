//! The appender life cycle, in one place:
//!
//! 1. **add**: a handler checks a submission (`VerifiedEntry::from_leaf`) and hands it
//!    to the sequencer, then waits;
//! 2. **sequence**: the integrator task takes everything queued (up to `MAX_BATCH`),
//!    drops entries already in the log or earlier in the batch, and numbers the rest;
//! 3. **integrate**: it computes the new tree hashes from the in-memory frontier,
//!    signs the checkpoint for the new size, and writes entries, hashes and checkpoint
//!    in one transaction;
//! 4. **publish**: only after the commit does it publish the new head and answer the
//!    waiting handlers, so an acknowledged entry is always durable.
//!
//! While one batch commits, the next one queues: that is the group commit.

use crate::checkpoint::{CheckpointError, LogSigner, LogVerifier};
use crate::entry::VerifiedEntry;
use crate::hex32;
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
                frontier,
                publish,
            }
            .run(receiver),
        );
        Ok((Sequencer { queue }, heads))
    }

    /// Sequences one checked entry; resolves once it is durable (or was already there).
    pub async fn submit(&self, entry: VerifiedEntry) -> Result<Appended, SequenceError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Pending { entry, reply })
            .await
            .map_err(|_| SequenceError::Closed)?;
        answer.await.map_err(|_| SequenceError::Closed)?
    }
}

struct Integrator<S> {
    store: Arc<S>,
    signer: LogSigner,
    frontier: Frontier,
    publish: watch::Sender<Head>,
}

impl<S: LogStore> Integrator<S> {
    async fn run(mut self, mut queue: mpsc::Receiver<Pending>) {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
            self.integrate(std::mem::take(&mut batch)).await;
        }
    }

    async fn integrate(&mut self, batch: Vec<Pending>) {
        let hashes: Vec<Hash> = batch.iter().map(|p| p.entry.leaf_hash()).collect();
        let existing = match self.already_sequenced(&hashes).await {
            Ok(found) => found,
            Err(e) => return fail(batch, &e),
        };

        let old_size = self.frontier.size();
        let mut frontier = self.frontier.clone();
        let mut placed: HashMap<[u8; 32], u64> = HashMap::new();
        let mut outcomes = Vec::with_capacity(batch.len());
        let mut entries = Vec::new();
        let mut new_hashes = Vec::new();
        for pending in &batch {
            let leaf_hash = pending.entry.leaf_hash();
            if let Some(&(index, tree_size)) = existing.get(&leaf_hash.0) {
                outcomes.push((index, Some(tree_size)));
                continue;
            }
            if let Some(&index) = placed.get(&leaf_hash.0) {
                outcomes.push((index, None));
                continue;
            }
            let index = frontier.size();
            new_hashes.extend(frontier.append(leaf_hash));
            placed.insert(leaf_hash.0, index);
            outcomes.push((index, None));
            entries.push(NewEntry {
                index,
                leaf_hash,
                leaf: pending.entry.leaf().to_vec(),
                kind: pending.entry.kind().name(),
                author: pending.entry.author_key().to_bytes(),
            });
        }

        let new_size = frontier.size();
        let head = if new_size == old_size {
            self.publish.borrow().clone()
        } else {
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
            if let Err(e) = self.store.append(&write).await {
                return fail(batch, &e);
            }
            self.frontier = frontier;
            let head = Head {
                size: new_size,
                root,
                note,
            };
            self.publish.send_replace(head.clone());
            head
        };

        let mut answered = std::collections::HashSet::new();
        for (pending, (index, earlier_checkpoint)) in batch.into_iter().zip(outcomes) {
            let leaf_hash = pending.entry.leaf_hash();
            // The first copy in a batch is appended; later copies are duplicates of it.
            let duplicate = earlier_checkpoint.is_some() || !answered.insert(leaf_hash.0);
            let _ = pending.reply.send(Ok(Appended {
                leaf_hash,
                index,
                tree_size: earlier_checkpoint.unwrap_or(head.size),
                duplicate,
            }));
        }
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

fn fail(batch: Vec<Pending>, error: &StorageError) {
    tracing::error!(%error, entries = batch.len(), "batch not sequenced");
    for pending in batch {
        let _ = pending
            .reply
            .send(Err(SequenceError::Storage(error.to_string())));
    }
}
