//! The aidledger log: what an entry is, how it is signed and hashed, the RFC 6962
//! Merkle tree over entries, C2SP checkpoints and tiles, and (behind the `storage`
//! feature) durable storage and the sequencer that appends to it.
//!
//! Everything outside `storage` and `sequencer` is pure and builds for wasm32, so the
//! browser verifies with exactly the code the server and the CLI use.

pub mod audit;
pub mod body;
pub mod chain;
pub mod checkpoint;
pub mod clock;
pub mod contact;
pub mod entry;
pub mod hex32;
pub mod kind;
pub mod request;
pub mod tiles;
pub mod tree;

#[cfg(feature = "storage")]
pub mod cluster;
#[cfg(feature = "storage")]
pub mod reader;
#[cfg(feature = "storage")]
pub mod rules;
#[cfg(feature = "storage")]
pub mod sequencer;
#[cfg(feature = "storage")]
pub mod storage;

pub use entry::{EntryError, SignedEntry, UnsignedEntry, VerifiedEntry};
pub use kind::Kind;
pub use tree::Hash;
