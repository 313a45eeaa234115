//! The derived tables' schema, applied beside the log's own migrations.

use ledger_node::storage::sql::{Backend, SqlStore};
use sqlx::migrate::MigrateError;

/// Creates or upgrades the workflow tables. The log's migrations share the database's
/// migration table, so each side ignores versions it does not know.
pub async fn migrate(store: &SqlStore) -> Result<(), MigrateError> {
    let mut migrator = match store.backend() {
        Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
        Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
    };
    migrator.set_ignore_missing(true);
    migrator.run(store.pool()).await
}
