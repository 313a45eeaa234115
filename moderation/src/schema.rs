//! The derived tables' schema, applied beside the log's own migrations.

use sqlx::migrate::MigrateError;
use sqlx::SqlitePool;

/// Creates or upgrades the workflow tables. The log's migrations share the database's
/// migration table, so each side ignores versions it does not know.
pub async fn migrate(pool: &SqlitePool) -> Result<(), MigrateError> {
    let mut migrator = sqlx::migrate!("./migrations/sqlite");
    migrator.set_ignore_missing(true);
    migrator.run(pool).await
}
