//! The one answer pages read that is not in the `contract` crate: an opened contact,
//! which stays moderation's (its JSON keys are sorted, as the private store writes
//! them); every other answer is decoded with the contract's types, the same the
//! server answers with.

use serde::{Deserialize, Serialize};

/// `GET /api/v1/private/{entry}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Opened {
    pub entry: String,
    pub contact: ledger::contact::Contact,
}
