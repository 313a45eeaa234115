//! Replaying a log from its leaves: every entry re-validated, every tree hash
//! recomputed, and the log's clock checked: its readings are signed by the log's key
//! and never run backwards. Used by `aidledger verify` against a server or a database
//! file.

use crate::clock::{self, ClockError};
use crate::entry::{format_timestamp, EntryError, VerifiedEntry};
use crate::hex32;
use crate::tree::{Frontier, Hash};
use ed25519_dalek::VerifyingKey;
use time::OffsetDateTime;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AuditError {
    #[error("entry {index} is invalid: {source}")]
    Entry { index: u64, source: EntryError },
    #[error("entry {index}: recorded leaf hash {recorded} differs from the hash of its bytes {computed}")]
    LeafHash {
        index: u64,
        recorded: String,
        computed: String,
    },
    #[error(
        "expected entry {expected} next, found {found}: entries are missing, inserted or reordered"
    )]
    Sequence { expected: u64, found: u64 },
    #[error("entry {index} is a log.clock entry the log could not have written: {source}")]
    Clock { index: u64, source: ClockError },
    #[error(
        "the root of the first {size} entries is {computed}, but the checkpoint says {claimed}"
    )]
    Root {
        size: u64,
        computed: String,
        claimed: String,
    },
}

/// A re-validated leaf: its hash and, for a reading of the log's clock, its time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CheckedLeaf {
    pub hash: Hash,
    pub clock: Option<OffsetDateTime>,
}

/// Re-validates leaves on all cores, clock readings against the log's key
/// `log_key`; the result keeps the input order. Whether the clock runs forward is
/// checked in order, by `Auditor::append`.
pub fn verify_leaves(
    first_index: u64,
    leaves: &[&[u8]],
    log_key: &VerifyingKey,
) -> Result<Vec<CheckedLeaf>, AuditError> {
    crate::parallel::try_map(leaves, |i, leaf| {
        let index = first_index + i as u64;
        let entry =
            VerifiedEntry::from_leaf(leaf).map_err(|source| AuditError::Entry { index, source })?;
        let clock = clock::check(&entry, log_key, None)
            .transpose()
            .map_err(|source| AuditError::Clock { index, source })?;
        Ok(CheckedLeaf {
            hash: entry.leaf_hash(),
            clock,
        })
    })
}

/// Rebuilds the tree leaf by leaf and checks it against what storage or a server says.
pub struct Auditor {
    frontier: Frontier,
    /// The latest reading of the log's clock so far.
    clock: Option<OffsetDateTime>,
}

impl Default for Auditor {
    fn default() -> Self {
        Auditor {
            frontier: Frontier::empty(),
            clock: None,
        }
    }
}

impl Auditor {
    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    pub fn root(&self) -> Hash {
        self.frontier.root()
    }

    /// Appends the leaf at `index` (which must be the next one) that `verify_leaves`
    /// checked; `recorded` is the hash storage or the server gave for it. Returns the
    /// tree hashes this leaf adds, in storage order.
    pub fn append(
        &mut self,
        index: u64,
        checked: CheckedLeaf,
        recorded: Option<Hash>,
    ) -> Result<Vec<Hash>, AuditError> {
        let computed = checked.hash;
        if index != self.size() {
            return Err(AuditError::Sequence {
                expected: self.size(),
                found: index,
            });
        }
        if let Some(time) = checked.clock {
            if let Some(previous) = self.clock.filter(|previous| time < *previous) {
                return Err(AuditError::Clock {
                    index,
                    source: ClockError::Backwards {
                        previous: format_timestamp(previous),
                        time: format_timestamp(time),
                    },
                });
            }
            self.clock = Some(time);
        }
        if let Some(recorded) = recorded.filter(|r| *r != computed) {
            return Err(AuditError::LeafHash {
                index,
                recorded: hex32::encode(&recorded),
                computed: hex32::encode(&computed),
            });
        }
        Ok(self.frontier.append(computed))
    }

    /// Checks the current root against a checkpoint's claim for the same size.
    pub fn check_root(&self, claimed: Hash) -> Result<(), AuditError> {
        let computed = self.root();
        if computed == claimed {
            Ok(())
        } else {
            Err(AuditError::Root {
                size: self.size(),
                computed: hex32::encode(&computed),
                claimed: hex32::encode(&claimed),
            })
        }
    }
}
