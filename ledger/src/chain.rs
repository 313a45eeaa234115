//! Verifying the chain of a donation (a need, its pledges, shipments, deliveries and
//! verdicts) as served by `GET /api/v1/trace/{hash}`: every link is an entry that passes
//! the validity rule, is proved to be in one signed checkpoint, and continues a link
//! that came before it. The CLI's `trace` and the browser's "verify" both call
//! [`verify`], so they can never disagree.

use crate::body::Body;
use crate::checkpoint::{Checkpoint, CheckpointError, LogVerifier};
use crate::entry::{EntryError, VerifiedEntry};
use crate::{hex32, tree};
use base64::prelude::*;
use serde::{Deserialize, Serialize};

/// `GET /api/v1/trace/{hash}`: a chain as the server sends it. (Fields in the order
/// the server writes them.)
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Trace {
    /// The signed checkpoint every proof is against.
    pub checkpoint: String,
    pub links: Vec<Link>,
    /// The checkpoint's tree size.
    pub tree_size: u64,
}

/// One entry of a chain with its inclusion proof.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Link {
    pub index: u64,
    /// What the entry is in the chain: `need.post`, `pledge`, `pledge.accept`,
    /// `shipment`, `delivery.confirm`, `verdict`.
    pub kind: String,
    /// The entry's leaf bytes, standard base64.
    pub leaf: String,
    pub leaf_hash: String,
    /// The link this one continues (a pledge's need, a shipment's pledge...).
    pub parent: Option<String>,
    /// RFC 9162 §2.1.3 audit path, lowercase hex.
    pub proof: Vec<String>,
}

/// Why a chain failed to verify; `index` names the link's log index.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error("the chain's checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    #[error("the chain has no links")]
    Empty,
    #[error("entry {index}: the leaf is not base64")]
    LeafEncoding { index: u64 },
    #[error("entry {index}: {source}")]
    Entry { index: u64, source: EntryError },
    #[error("entry {index}: the leaf does not hash to the link's leaf hash")]
    LeafHash { index: u64 },
    #[error("entry {index}: a proof hash is not 64 lowercase hex digits")]
    ProofEncoding { index: u64 },
    #[error("entry {index} is not proved to be in the checkpoint of size {size}")]
    NotIncluded { index: u64, size: u64 },
    #[error("entry {index} refers to {parent}, which is not an earlier link of the chain")]
    Unlinked { index: u64, parent: String },
}

/// The entry a body says it continues, if any.
pub fn parent_of(body: &Body) -> Option<&str> {
    match body {
        Body::Pledge(b) => Some(&b.need),
        Body::PledgeAccept(b) => Some(&b.pledge),
        Body::Shipment(b) => Some(&b.pledge),
        Body::DeliveryConfirm(b) => Some(&b.shipment),
        Body::Verdict(b) => Some(&b.entry),
        _ => None,
    }
}

/// A chain whose every link verified.
#[derive(Debug)]
pub struct VerifiedChain {
    pub checkpoint: Checkpoint,
    /// Each link's entry, in log order.
    pub entries: Vec<(u64, VerifiedEntry)>,
}

/// Checks the checkpoint's signature with `verifier`, then each link in order.
pub fn verify(trace: &Trace, verifier: &LogVerifier) -> Result<VerifiedChain, ChainError> {
    let checkpoint = verifier.verify(trace.checkpoint.as_bytes())?;
    if trace.links.is_empty() {
        return Err(ChainError::Empty);
    }
    let mut entries: Vec<(u64, VerifiedEntry)> = Vec::with_capacity(trace.links.len());
    for link in &trace.links {
        let index = link.index;
        let leaf = BASE64_STANDARD
            .decode(&link.leaf)
            .map_err(|_| ChainError::LeafEncoding { index })?;
        let entry = VerifiedEntry::from_leaf(&leaf)
            .map_err(|source| ChainError::Entry { index, source })?;
        let leaf_hash = entry.leaf_hash();
        if hex32::encode(&leaf_hash) != link.leaf_hash {
            return Err(ChainError::LeafHash { index });
        }
        let proof = link
            .proof
            .iter()
            .map(|h| hex32::decode(h).ok_or(ChainError::ProofEncoding { index }))
            .collect::<Result<Vec<_>, _>>()?;
        tree::verify_inclusion(&proof, index, checkpoint.size, leaf_hash, checkpoint.root)
            .map_err(|_| ChainError::NotIncluded {
                index,
                size: checkpoint.size,
            })?;
        if let Some(parent) = parent_of(entry.body()) {
            let earlier = entries
                .iter()
                .any(|(_, e)| hex32::encode(&e.leaf_hash()) == parent);
            if !earlier {
                return Err(ChainError::Unlinked {
                    index,
                    parent: parent.to_owned(),
                });
            }
        }
        entries.push((index, entry));
    }
    Ok(VerifiedChain {
        checkpoint,
        entries,
    })
}
