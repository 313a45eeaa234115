//! SQLite driver: one file in WAL mode with `synchronous = FULL`, so a committed batch
//! survives a crash or power loss. One process writes it: the integrator takes the
//! write lock with `BEGIN IMMEDIATE` (see `SqlStore::begin`).

use super::sql::{Backend, SqlStore};
use super::StorageError;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::ConnectOptions;
use sqlx::Executor;
use sqlx::{AnyConnection, AnyPool};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Settings every connection of a writable store runs with. `secure_delete`: erased
/// private data must not linger in free pages.
const PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                       PRAGMA secure_delete = ON; PRAGMA busy_timeout = 10000;";

fn options(path: &Path, writable: bool) -> Result<AnyConnectOptions, StorageError> {
    sqlx::any::install_default_drivers();
    let sqlite = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(writable)
        .read_only(!writable);
    Ok(AnyConnectOptions::from_url(&sqlite.to_url_lossy())?)
}

/// Settings of the integrator's own connection, which every batch is written through.
/// It never checkpoints the write-ahead log itself (`checkpointer` does, from another
/// connection): a checkpoint copies pages into the database and syncs it, which would
/// hold up the batch whose commit set it off. Its page cache holds a batch's working
/// set (the default 2 MB spills mid-transaction) and its statement journals stay in
/// memory instead of temporary files.
pub(super) async fn writer_settings(conn: &mut AnyConnection) -> Result<(), StorageError> {
    conn.execute(
        "PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY;",
    )
    .await?;
    Ok(())
}

/// How often the checkpointer copies the write-ahead log into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// Starts, once per store, the task that checkpoints the write-ahead log in `PASSIVE`
/// mode (never waiting for readers nor blocking the writer) from a pool connection.
/// `running` is shared by the store's clones: once the task holds the last reference,
/// every clone is gone, and it ends, dropping its handle on the pool with it.
pub(super) fn checkpointer(pool: &AnyPool, running: &Arc<AtomicBool>) {
    if running.swap(true, Ordering::SeqCst) {
        return;
    }
    let (pool, running) = (pool.clone(), running.clone());
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(CHECKPOINT_EVERY).await;
            if Arc::strong_count(&running) == 1 || pool.is_closed() {
                break;
            }
            if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&pool)
                .await
            {
                tracing::warn!(%error, "checkpointing the write-ahead log failed");
            }
        }
    });
}

/// Opens (creating if needed) the database file and applies the log's migrations.
pub async fn open(path: &Path) -> Result<SqlStore, StorageError> {
    let pool = AnyPoolOptions::new()
        .max_connections(8)
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute(PRAGMAS).await?;
                Ok(())
            })
        })
        .connect_with(options(path, true)?)
        .await?;
    // Other crates keep their derived tables in the same database and migration
    // table, so versions this crate does not know are expected.
    let mut migrator = sqlx::migrate!("./migrations/sqlite");
    migrator.set_ignore_missing(true);
    migrator.run(&pool).await?;
    Ok(SqlStore::new(pool, Backend::Sqlite))
}

/// Opens an existing database without writing to it (for offline audits).
pub async fn open_read_only(path: &Path) -> Result<SqlStore, StorageError> {
    let pool = AnyPoolOptions::new()
        .max_connections(2)
        .connect_with(options(path, false)?)
        .await?;
    Ok(SqlStore::new(pool, Backend::Sqlite))
}

/// Writes a consistent copy of the database at `path` to the new file `into`, while
/// writers go on: `VACUUM INTO` reads inside one read transaction, so the copy holds
/// exactly the batches committed when it began (WAL readers do not block the writer,
/// nor it them). The copy is compacted, so no freed page of erased private data
/// travels with it. `into` is text because SQLite takes the file name as a value.
pub async fn snapshot(path: &Path, into: &str) -> Result<(), StorageError> {
    let store = open_read_only(path).await?;
    sqlx::query("VACUUM INTO $1")
        .bind(into)
        .execute(store.pool())
        .await?;
    store.pool().close().await;
    Ok(())
}
