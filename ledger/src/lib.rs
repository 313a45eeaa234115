//! The aidledger log, pure: what an entry is, how it is signed and hashed, the RFC 6962
//! Merkle tree over entries, C2SP checkpoints and tiles, donation chains, signed
//! requests and contact commitments.
//!
//! No I/O and no async runtime: it builds for wasm32, so the browser verifies with
//! exactly the code the server, the CLI and auditors use. Storage, the sequencer and
//! readers are the node's (`ledger/node`, crate `ledger_node`).

pub mod audit;
pub mod body;
pub mod chain;
pub mod checkpoint;
pub mod clock;
pub mod contact;
pub mod entry;
pub mod fault;
pub mod hex32;
pub mod kind;
pub mod parallel;
pub mod request;
pub mod tiles;
pub mod tree;

pub use entry::{EntryError, SignedEntry, UnsignedEntry, VerifiedEntry};
pub use kind::Kind;
pub use tree::Hash;
