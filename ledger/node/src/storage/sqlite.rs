//! SQLite driver: one file in WAL mode with `synchronous = FULL`, so a committed batch
//! survives a crash or power loss. One process writes it: the integrator takes the
//! write lock with `BEGIN IMMEDIATE` (see `SqlStore::begin`).

use super::sql::{Backend, SqlStore};
use super::StorageError;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::ConnectOptions;
use sqlx::Executor;
use sqlx::{AnyConnection, AnyPool, Row};
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
/// memory instead of temporary files. When it starts the write-ahead log again, it
/// cuts the file back to the length the checkpointer lets the log reach.
pub(super) async fn writer_settings(conn: &mut AnyConnection) -> Result<(), StorageError> {
    conn.execute(
        format!(
            "PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY; \
             PRAGMA journal_size_limit = {};",
            WAL_RESTART_FRAMES * 4096
        )
        .as_str(),
    )
    .await?;
    Ok(())
}

/// How often the checkpointer copies the write-ahead log into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// The length of the write-ahead log, in frames (pages of 4 KiB), beyond which the
/// checkpointer makes the writer start it again from the beginning once little is left
/// to copy (1 GiB). Each restart holds up a batch or two, so it should be rare: at
/// 64 MiB, twice a second under load on a million-entry log, they tripled the POST p99.
const WAL_RESTART_FRAMES: i64 = 262_144;

/// The length beyond which it does so however much is left to copy (4 GiB): the bound
/// on the log's file under load that never lets the copying catch up.
const WAL_MAX_FRAMES: i64 = 1_048_576;

/// How long a restarting checkpoint waits for readers, holding up the writer
/// meanwhile; if they have not moved on by then, it is tried again at the next tick.
const RESTART_WAIT: Duration = Duration::from_millis(100);

/// At most how many frames a restarting checkpoint should have left to copy, as it
/// copies them holding up the writer; `PASSIVE` checkpoints, which do not, copy the
/// rest first (4 MiB).
const RESTART_BACKLOG: i64 = 1_024;

/// At most how many `PASSIVE` checkpoints catch up before a restart: on a large
/// database each may take long enough for the writer to add more than the backlog.
const CATCH_UP: usize = 2;

/// Starts, once per store, the task that checkpoints the write-ahead log from a pool
/// connection (see [`checkpoint`]). `running` is shared by the store's clones: once
/// the task holds the last reference, every clone is gone, and it ends, dropping its
/// handle on the pool with it.
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
            if let Err(error) = checkpoint(&pool, WAL_RESTART_FRAMES, WAL_MAX_FRAMES).await {
                tracing::warn!(%error, "checkpointing the write-ahead log failed");
            }
        }
    });
}

/// Copies the write-ahead log into the database in `PASSIVE` mode, never waiting for
/// readers nor blocking the writer; and when the log holds more than `limit` frames,
/// checkpoints it again in `RESTART` mode, which waits up to [`RESTART_WAIT`] for the
/// readers of older snapshots to finish so that the writer's next transaction starts
/// the log from its beginning. A restart copies what is left holding up the writer:
/// on a million-entry log, restarts after a single `PASSIVE` tripled the POST p99
/// (100 → 320 ms). So `PASSIVE` checkpoints first try to bring what is left down to
/// [`RESTART_BACKLOG`], and if they cannot, the restart waits for a later tick, unless
/// the log is past `max` frames.
///
/// `PASSIVE` alone never lets the log start again under steady load: the writer
/// restarts it only when a checkpoint has copied every frame and no reader is on one,
/// and with batches committed every few milliseconds and readers always busy that
/// moment does not come. Seeding a million entries left a 35 GB log beside a 1.4 GB
/// database.
async fn checkpoint(pool: &AnyPool, limit: i64, max: i64) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let (mut frames, mut copied) = passive_checkpoint(&mut conn).await?;
    if frames > limit {
        for _ in 0..CATCH_UP {
            if frames - copied <= RESTART_BACKLOG {
                break;
            }
            (frames, copied) = passive_checkpoint(&mut conn).await?;
        }
        if frames - copied > RESTART_BACKLOG && frames <= max {
            return Ok(());
        }
        conn.execute(format!("PRAGMA busy_timeout = {}", RESTART_WAIT.as_millis()).as_str())
            .await?;
        let began = std::time::Instant::now();
        let restarted = sqlx::query("PRAGMA wal_checkpoint(RESTART)")
            .fetch_one(&mut *conn)
            .await;
        if let Err(error) = conn.execute(PRAGMAS).await {
            // Its readers would give up on a busy database after the short wait.
            conn.close_on_drop();
            return Err(error);
        }
        let busy: i64 = restarted?.get(0);
        tracing::debug!(
            frames,
            left = frames - copied,
            busy,
            ms = began.elapsed().as_millis() as u64,
            "checkpointed the write-ahead log to start it again"
        );
    }
    Ok(())
}

/// Copies the whole write-ahead log into the database and empties its file, waiting
/// for readers and the writer up to the busy timeout.
pub(super) async fn empty_write_ahead_log(pool: &AnyPool) -> Result<(), StorageError> {
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(pool)
        .await?;
    Ok(())
}

/// A `PASSIVE` checkpoint: the frames in the log, and how many of them are copied.
async fn passive_checkpoint(conn: &mut AnyConnection) -> Result<(i64, i64), sqlx::Error> {
    let row = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(conn)
        .await?;
    Ok((row.get(1), row.get(2)))
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    /// Writes 300 transactions of about ten pages while two readers keep a read
    /// transaction open almost all the time, checkpointing every tenth with the given
    /// limit; returns the length of the write-ahead log file after them.
    async fn wal_length_after_steady_load(limit: i64) -> u64 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.db");
        let store = open(&path).await.unwrap();
        let pool = store.pool().clone();
        sqlx::query("CREATE TABLE filler (v BLOB NOT NULL)")
            .execute(&pool)
            .await
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let mut readers = Vec::new();
        for _ in 0..2 {
            let (pool, stop) = (pool.clone(), stop.clone());
            readers.push(tokio::spawn(async move {
                let mut conn = pool.acquire().await.unwrap();
                while !stop.load(Ordering::Relaxed) {
                    conn.execute("BEGIN").await.unwrap();
                    sqlx::query("SELECT COUNT(*) FROM filler")
                        .fetch_one(&mut *conn)
                        .await
                        .unwrap();
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    conn.execute("COMMIT").await.unwrap();
                }
            }));
        }
        let mut writer = pool.acquire().await.unwrap().detach();
        writer_settings(&mut writer).await.unwrap();
        for n in 0..300 {
            writer.execute("BEGIN IMMEDIATE").await.unwrap();
            for _ in 0..8 {
                sqlx::query("INSERT INTO filler (v) VALUES (randomblob(4000))")
                    .execute(&mut writer)
                    .await
                    .unwrap();
            }
            writer.execute("COMMIT").await.unwrap();
            if n % 10 == 9 {
                checkpoint(&pool, limit, limit).await.unwrap();
            }
        }
        stop.store(true, Ordering::Relaxed);
        for reader in readers {
            reader.await.unwrap();
        }
        let wal = std::fs::metadata(dir.path().join("log.db-wal"))
            .unwrap()
            .len();
        drop(writer);
        pool.close().await;
        wal
    }

    /// Readers always on a snapshot never let a `PASSIVE` checkpoint start the log
    /// again; past the limit the checkpointer makes the writer start it again, so the
    /// log stays within about the limit and a tick's writes.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_write_ahead_log_starts_again_past_its_limit_under_steady_load() {
        let unbounded = wal_length_after_steady_load(i64::MAX).await;
        let bounded = wal_length_after_steady_load(64).await;
        // 300 transactions of about ten 4 KiB pages: 12 MB of frames. The writer may
        // now and then start the log again by itself, when both readers happen to
        // begin after a checkpoint copied everything; the file keeps its largest
        // length, so one such restart still leaves more than 6 MB.
        assert!(unbounded > 4_000_000, "PASSIVE alone: {unbounded} bytes");
        assert!(
            bounded < 2_000_000,
            "restarted past 64 frames: {bounded} bytes (PASSIVE alone: {unbounded})"
        );
    }
}
