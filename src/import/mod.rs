//! Sheets into the log (`aidledger import`): a CSV or XLSX sheet of needs or offers
//! is read ([`sheet`]), its columns mapped to the entries' fields by a mapping file, a
//! ready mapping or its own HXL hashtag row ([`mapping`]), and its rows planned into
//! bodies with per-row errors ([`plan`]). Matching organisations, skipping what is
//! already in the log, signing and submitting happen in `commands::import`, which
//! talks to the instance.

pub mod mapping;
pub mod plan;
pub mod sheet;
