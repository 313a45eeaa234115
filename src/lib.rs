//! The `aidledger` binary's library half: the HTTP server, the services beside it, the
//! log client and the CLI commands, so that integration tests start exactly what
//! production starts.

pub mod client;
pub mod commands;
pub mod data_dir;
pub mod import;
pub mod keys;
pub mod photos;
pub mod sample;
pub mod server;
pub mod services;
pub mod snapshot;
