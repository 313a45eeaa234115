//! A node of the aidledger log: durable storage of entries, tree hashes and checkpoints
//! on SQLite or PostgreSQL (`storage`), the sequencer that appends (`sequencer`), the
//! readers that serve entries, proofs and tiles for a tree size (`reader`), several
//! nodes sharing one PostgreSQL database (`cluster`), what passes between submitters
//! and the integrator (`intake`), and the hook through which a workflow admits entries
//! (`rules`), and what the integrator measures (`metrics`). Every SQL statement is in
//! `storage`.
//!
//! What an entry, a tree or a checkpoint is lives in the pure `ledger` crate, which the
//! browser also runs; this crate adds the I/O around it.

pub mod cluster;
pub mod intake;
pub mod metrics;
pub mod reader;
pub mod rules;
pub mod sequencer;
pub mod storage;
