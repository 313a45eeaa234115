//! What passes between a submitter and the integrator: a submission, whom to tell what
//! became of it, and the outcome. A single node hands submissions to its integrator
//! through a channel (`sequencer`); several nodes on one database hand them to the
//! lease holder through the `submissions` table (`cluster`, which implements
//! [`SharedIntake`]), and the integrator records their outcomes there in the batch's own
//! transaction.
//! Keeping this here lets the sequencer serve both without knowing the cluster.

use crate::rules::{BoxFuture, Denial};
use crate::storage::{submissions, Condition, StorageError};
use ledger::contact::Sidecar;
use ledger::entry::VerifiedEntry;
use ledger::tree::Hash;
use sqlx::AnyConnection;
use tokio::sync::oneshot;

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
    #[error("the entry could not be stored: {message}")]
    Storage {
        condition: Condition,
        message: String,
    },
    #[error(transparent)]
    Denied(#[from] Denial),
}

impl From<&StorageError> for SequenceError {
    /// Keeps what kind of trouble it was: a client is told "full" or "unreachable",
    /// never the database's own words.
    fn from(error: &StorageError) -> SequenceError {
        SequenceError::Storage {
            condition: error.condition(),
            message: error.to_string(),
        }
    }
}

/// One submission waiting to be sequenced, and whom to tell what became of it.
pub(crate) struct Submission {
    pub entry: VerifiedEntry,
    pub sidecar: Option<Sidecar>,
    pub reply: Reply,
}

impl Submission {
    /// The submission's row, when it was handed over through the `submissions` table.
    pub(crate) fn recorded_id(&self) -> Option<i64> {
        match self.reply {
            Reply::Recorded(id) => Some(id),
            Reply::Waiting(_) => None,
        }
    }
}

pub(crate) enum Reply {
    /// A handler of this process, waiting on the channel.
    Waiting(oneshot::Sender<Result<Appended, SequenceError>>),
    /// A row of the `submissions` table: the outcome is recorded there.
    Recorded(i64),
}

/// Submissions accepted by a node of a shared log, sequenced by whichever node holds
/// the integrator's lease.
pub(crate) trait SharedIntake: Send + Sync + 'static {
    /// Hands the submission to the integrator (through the table unless this node holds
    /// the lease) and resolves once it is decided and this node serves it.
    fn submit(
        &self,
        entry: VerifiedEntry,
        sidecar: Option<Sidecar>,
    ) -> BoxFuture<'_, Result<Appended, SequenceError>>;

    /// Whether this node holds the integrator's lease.
    fn leads(&self) -> bool;

    /// Stops this node's part in the shared log.
    fn stop(&self);
}

/// What became of a submission, as recorded in its row.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) enum Decision {
    Appended {
        index: u64,
        tree_size: u64,
        duplicate: bool,
    },
    Denied(Denial),
    /// The batch failed for a reason retrying did not mend; the client is told so.
    Failed {
        condition: Condition,
        message: String,
    },
}

impl Decision {
    fn of(outcome: &Result<Appended, SequenceError>) -> Decision {
        match outcome {
            Ok(a) => Decision::Appended {
                index: a.index,
                tree_size: a.tree_size,
                duplicate: a.duplicate,
            },
            Err(SequenceError::Denied(denial)) => Decision::Denied(denial.clone()),
            Err(other) => unreachable!("a batch's outcomes are appended or denied, not {other}"),
        }
    }

    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string(self).expect("decisions serialise")
    }

    /// A decision read back from its row.
    pub(crate) fn from_json(text: &str) -> Result<Decision, StorageError> {
        serde_json::from_str(text).map_err(|_| StorageError::Malformed("submissions.outcome"))
    }

    /// The answer to the submission's client.
    pub(crate) fn into_outcome(self, leaf_hash: Hash) -> Result<Appended, SequenceError> {
        match self {
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
            Decision::Failed { condition, message } => {
                Err(SequenceError::Storage { condition, message })
            }
        }
    }
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
        .filter_map(|(s, outcome)| Some((s.recorded_id()?, Decision::of(outcome).to_json())))
        .collect();
    submissions::record(tx, &decided).await?;
    Ok(!decided.is_empty())
}
