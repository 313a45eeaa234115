//! The hook through which the workflow decides, in log order, whether an entry may be
//! appended, and maintains its derived tables in the same transaction as the append.
//!
//! Authorisation is part of validity (DESIGN.md §5): it is decided from the log alone,
//! deterministically, so an auditor replaying the log reaches the same verdicts. The
//! sequencer calls `admit` for each entry of a batch inside the batch's transaction: a
//! refused entry leaves no trace (at the first refusal the batch starts again, each
//! entry under a savepoint), an admitted one is appended.

use ledger::contact::Sidecar;
use ledger::entry::VerifiedEntry;
use ledger::fault::{Fault, FaultCode};
use std::future::Future;
use std::pin::Pin;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why the workflow refuses an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DenialKind {
    /// The author may not write this entry (role, membership, ownership).
    Forbidden,
    /// The entry refers to an entry that is not in the log, or not of the right kind.
    UnknownReference,
    /// The entry conflicts with the state of the log (a closed need, over-pledging).
    Conflict,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[error("{message}")]
pub struct Denial {
    pub kind: DenialKind,
    /// In English, naming the field first where there is one (`needed_by: …`).
    pub message: String,
    /// The same for an interface to say in its own words, where the rule has a code.
    #[serde(default)]
    pub fault: Option<Fault>,
}

impl Denial {
    pub fn forbidden(message: impl Into<String>) -> Self {
        Denial {
            kind: DenialKind::Forbidden,
            message: message.into(),
            fault: Some(Fault::new(FaultCode::NotAllowed)),
        }
    }

    pub fn unknown(message: impl Into<String>) -> Self {
        Denial {
            kind: DenialKind::UnknownReference,
            message: message.into(),
            fault: None,
        }
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Denial {
            kind: DenialKind::Conflict,
            message: message.into(),
            fault: None,
        }
    }

    pub fn because(mut self, fault: Fault) -> Self {
        self.fault = Some(fault);
        self
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error(transparent)]
    Denied(#[from] Denial),
    #[error("database: {0}")]
    Storage(#[from] sqlx::Error),
}

/// Workflow rules, writing their derived tables through the batch's connection.
pub trait Rules: Send + Sync + 'static {
    /// Checks `entry`, about to be appended at `index`, against the state of the log
    /// before it, and records its effects in the derived tables through `conn`.
    /// `sidecar` is data submitted beside the entry that stays off the log (private
    /// contact details); it is absent when the log is replayed.
    fn admit<'a>(
        &'a self,
        conn: &'a mut sqlx::AnyConnection,
        entry: &'a VerifiedEntry,
        index: u64,
        sidecar: Option<&'a Sidecar>,
    ) -> BoxFuture<'a, Result<(), Refusal>>;

    /// Reads through `conn`, in few statements, what admitting `entries` in this order
    /// will read of the state before them, so that `admit` need not read it one entry
    /// at a time. The sequencer calls it once a batch's clock reading is admitted and
    /// written, before the batch's entries. Only the cost of admitting may depend on
    /// it, never a verdict.
    fn read_ahead<'a>(
        &'a self,
        _conn: &'a mut sqlx::AnyConnection,
        _entries: &'a [&'a VerifiedEntry],
    ) -> BoxFuture<'a, Result<(), sqlx::Error>> {
        Box::pin(async { Ok(()) })
    }

    /// Writes through `conn` what `admit` left to be written in bulk. The sequencer
    /// calls it after the clock reading at the head of a batch, once the batch's
    /// entries are admitted, before it stores them, and before each entry it admits
    /// under a savepoint of its own, so that undoing the batch or a refused entry never
    /// undoes another's rows.
    fn flush<'a>(
        &'a self,
        _conn: &'a mut sqlx::AnyConnection,
    ) -> BoxFuture<'a, Result<(), sqlx::Error>> {
        Box::pin(async { Ok(()) })
    }

    /// Forgets what `admit` left to be written since the last `flush`: what it was
    /// left by, the batch's entries or one refused entry, was rolled back.
    fn discard(&self) {}
}
