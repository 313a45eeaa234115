//! What runs beside the HTTP routes, used by both the server and the CLI: opening the
//! instance's database, the first entries of a new log, the search index following the
//! log, the retention purge, and webhooks following the log. Nothing here knows about
//! HTTP routes.

pub mod bootstrap;
pub mod retention;
pub mod search_sync;
pub mod store;
pub mod webhooks;
