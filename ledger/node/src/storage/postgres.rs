//! PostgreSQL driver: the same tables on a database server that several nodes share.
//!
//! What only PostgreSQL has, and the nodes rely on:
//! - the **integrator's lease**, a session-level advisory lock: whoever holds it
//!   sequences, and the server drops it the moment the holder's connection ends
//!   (a killed process included), so another node can take it over;
//! - **notifications** (`NOTIFY` / `LISTEN`), which wake nodes when there is a new
//!   submission, a decided submission, or a new checkpoint. Nodes also poll, so a
//!   missed notification only delays them.
//!
//! Durability is the server's: a commit returns once PostgreSQL has flushed its WAL
//! (`synchronous_commit = on`, the default).

use super::sql::{Backend, SqlStore};
use super::StorageError;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::postgres::PgListener;
use sqlx::AnyConnection;
use sqlx::{Executor, Row};
use std::str::FromStr;
use std::time::Duration;

/// Advisory lock key of the integrator's lease ("aidledgr" in ASCII).
const LEASE_KEY: i64 = 0x6169_646c_6564_6772;

/// Channels the database notifies on (triggers of `migrations/postgres`).
pub const NEW_SUBMISSION: &str = "aidledger_submission";
pub const DECIDED: &str = "aidledger_decided";
pub const NEW_CHECKPOINT: &str = "aidledger_checkpoint";

/// Most a request waits for a database connection before it is refused.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens a pool on the database at `url` and applies the log's migrations.
pub async fn open(url: &str) -> Result<SqlStore, StorageError> {
    sqlx::any::install_default_drivers();
    let pool = AnyPoolOptions::new()
        .max_connections(16)
        .idle_timeout(Duration::from_secs(60))
        // How long a request waits for a connection. sqlx's default (30 s) retries a
        // refused connection that long: a database that is down would hold every
        // request half a minute before its 503.
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(AnyConnectOptions::from_str(url)?)
        .await?;
    // Migrations take an advisory lock of their own, so nodes starting at once apply
    // them once. Other crates' versions share the migration table (see sqlite.rs).
    let mut migrator = sqlx::migrate!("./migrations/postgres");
    migrator.set_ignore_missing(true);
    migrator.run(&pool).await?;
    Ok(SqlStore::new(pool, Backend::Postgres))
}

/// Opens a pool on an existing database without writing to it (for offline audits):
/// every transaction is read-only, and no migration runs.
pub async fn open_read_only(url: &str) -> Result<SqlStore, StorageError> {
    sqlx::any::install_default_drivers();
    let pool = AnyPoolOptions::new()
        .max_connections(2)
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute("SET default_transaction_read_only = on")
                    .await?;
                Ok(())
            })
        })
        .connect_with(AnyConnectOptions::from_str(url)?)
        .await?;
    Ok(SqlStore::new(pool, Backend::Postgres))
}

/// Tries to take the integrator's lease on `conn`, without waiting; it is held until
/// `conn` closes.
pub async fn try_take_lease(conn: &mut AnyConnection) -> Result<bool, StorageError> {
    Ok(sqlx::query("SELECT pg_try_advisory_lock($1)")
        .bind(LEASE_KEY)
        .fetch_one(conn)
        .await?
        .get::<bool, _>(0))
}

/// Listens on `channels` of the database at `url`.
pub async fn listen(url: &str, channels: &[&str]) -> Result<PgListener, StorageError> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen_all(channels.iter().copied()).await?;
    Ok(listener)
}
