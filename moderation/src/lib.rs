//! The aid workflow on top of the log (DESIGN.md §2, §5): who may write what, decided
//! from the log alone (`rules`), and the state people read — organisations, needs with
//! their quantities, offers, the chain of each donation, the review queue — kept in
//! derived tables that change in the same transaction as the log and can be rebuilt
//! from it (`rebuild`). This crate owns the `wf_*` tables; nothing else writes them.

pub mod export;
pub mod matching;
pub mod private;
pub mod queries;
pub mod rebuild;
pub mod review;
pub mod rules;
pub mod schema;
pub mod stats;

pub use rules::WorkflowRules;
