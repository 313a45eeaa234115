//! SQLite driver: one file in WAL mode with `synchronous = FULL`, so a committed batch
//! survives a crash or power loss. Batches are written with multi-row INSERTs (one
//! statement per few hundred rows), which is what makes group commit pay off.

use super::{hash_from_bytes, Batch, LogStore, StorageError, StoredCheckpoint, StoredEntry, Tx};
use crate::tree::Hash;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};
use std::path::Path;
use std::time::Duration;

/// SQLite allows 32766 bound parameters per statement; stay well below.
const ROWS_PER_INSERT: usize = 500;

#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies migrations.
    pub async fn open(path: &Path) -> Result<Self, StorageError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            // Erased private data must not linger in free pages.
            .pragma("secure_delete", "on")
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        // Other crates keep their derived tables in the same database and migration
        // table, so versions this crate does not know are expected.
        let mut migrator = sqlx::migrate!("./migrations/sqlite");
        migrator.set_ignore_missing(true);
        migrator.run(&pool).await?;
        Ok(SqliteStore { pool })
    }

    /// Opens an existing database without writing to it (for offline audits).
    pub async fn open_read_only(path: &Path) -> Result<Self, StorageError> {
        let options = SqliteConnectOptions::new().filename(path).read_only(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(options)
            .await?;
        Ok(SqliteStore { pool })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Copies the write-ahead log into the database and empties it, so that no old page
    /// image (such as erased private data) survives in the WAL file.
    pub async fn truncate_wal(&self) -> Result<(), StorageError> {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Every checkpoint, by tree size.
    pub async fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>, StorageError> {
        let rows = sqlx::query("SELECT tree_size, note FROM checkpoints ORDER BY tree_size")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(StoredCheckpoint {
                    tree_size: u64::try_from(r.get::<i64, _>(0))
                        .map_err(|_| StorageError::Malformed("checkpoints.tree_size"))?,
                    note: r.get(1),
                })
            })
            .collect()
    }

    /// Up to `limit` entries by `author` (a public key) with index at least `start`.
    pub async fn entries_by_author(
        &self,
        author: &[u8; 32],
        start: u64,
        limit: u64,
    ) -> Result<Vec<StoredEntry>, StorageError> {
        let rows = sqlx::query(
            "SELECT idx, leaf_hash, leaf FROM entries WHERE author = ? AND idx >= ? ORDER BY idx LIMIT ?",
        )
        .bind(author.to_vec())
        .bind(start as i64)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StoredEntry {
                    index: r.get::<i64, _>(0) as u64,
                    leaf_hash: hash_from_bytes(r.get(1), "entries.leaf_hash")?,
                    leaf: r.get(2),
                })
            })
            .collect()
    }

    /// Up to `limit` stored tree hashes from `start`, with their positions.
    pub async fn read_hash_range(
        &self,
        start: u64,
        limit: u64,
    ) -> Result<Vec<(u64, Hash)>, StorageError> {
        let rows = sqlx::query(
            "SELECT position, hash FROM tree_hashes WHERE position >= ? ORDER BY position LIMIT ?",
        )
        .bind(start as i64)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.get::<i64, _>(0) as u64,
                    hash_from_bytes(r.get(1), "tree_hashes.hash")?,
                ))
            })
            .collect()
    }
}

impl LogStore for SqliteStore {
    type Db = Sqlite;

    async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StorageError> {
        let row =
            sqlx::query("SELECT tree_size, note FROM checkpoints ORDER BY tree_size DESC LIMIT 1")
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|r| StoredCheckpoint {
            tree_size: r.get::<i64, _>(0) as u64,
            note: r.get(1),
        }))
    }

    async fn read_hashes(&self, positions: &[u64]) -> Result<Vec<Hash>, StorageError> {
        if positions.is_empty() {
            return Ok(vec![]);
        }
        let mut q = QueryBuilder::<Sqlite>::new(
            "SELECT position, hash FROM tree_hashes WHERE position IN (",
        );
        let mut list = q.separated(", ");
        for &p in positions {
            list.push_bind(p as i64);
        }
        q.push(")");
        let rows = q.build().fetch_all(&self.pool).await?;
        let mut found = std::collections::HashMap::with_capacity(rows.len());
        for r in &rows {
            found.insert(
                r.get::<i64, _>(0) as u64,
                hash_from_bytes(r.get(1), "tree_hashes.hash")?,
            );
        }
        positions
            .iter()
            .map(|p| found.get(p).copied().ok_or(StorageError::MissingHash(*p)))
            .collect()
    }

    async fn find_leaves(&self, leaf_hashes: &[Hash]) -> Result<Vec<(Hash, u64)>, StorageError> {
        let mut out = Vec::new();
        for chunk in leaf_hashes.chunks(ROWS_PER_INSERT) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "SELECT leaf_hash, idx FROM entries WHERE leaf_hash IN (",
            );
            let mut list = q.separated(", ");
            for h in chunk {
                list.push_bind(h.0.to_vec());
            }
            q.push(")");
            for r in q.build().fetch_all(&self.pool).await? {
                out.push((
                    hash_from_bytes(r.get(0), "entries.leaf_hash")?,
                    r.get::<i64, _>(1) as u64,
                ));
            }
        }
        Ok(out)
    }

    async fn first_checkpoint_covering(&self, index: u64) -> Result<Option<u64>, StorageError> {
        let row = sqlx::query("SELECT MIN(tree_size) FROM checkpoints WHERE tree_size > ?")
            .bind(index as i64)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.get::<Option<i64>, _>(0).map(|s| s as u64))
    }

    async fn read_entries(&self, start: u64, limit: u64) -> Result<Vec<StoredEntry>, StorageError> {
        let rows = sqlx::query(
            "SELECT idx, leaf_hash, leaf FROM entries WHERE idx >= ? ORDER BY idx LIMIT ?",
        )
        .bind(start as i64)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StoredEntry {
                    index: r.get::<i64, _>(0) as u64,
                    leaf_hash: hash_from_bytes(r.get(1), "entries.leaf_hash")?,
                    leaf: r.get(2),
                })
            })
            .collect()
    }

    async fn begin(&self) -> Result<Tx<Self>, StorageError> {
        // Take the write lock up front: a deferred transaction that reads first fails at
        // once with "database is locked" if another connection wrote in between.
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    async fn savepoint(
        &self,
        tx: &mut Tx<Self>,
        statement: &'static str,
    ) -> Result<(), StorageError> {
        sqlx::query(statement).execute(&mut **tx).await?;
        Ok(())
    }

    async fn append_in(&self, tx: &mut Tx<Self>, batch: &Batch) -> Result<(), StorageError> {
        for chunk in batch.entries.chunks(ROWS_PER_INSERT) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "INSERT INTO entries (idx, leaf_hash, leaf, kind, author) ",
            );
            q.push_values(chunk, |mut row, e| {
                row.push_bind(e.index as i64)
                    .push_bind(e.leaf_hash.0.to_vec())
                    .push_bind(e.leaf.as_slice())
                    .push_bind(e.kind)
                    .push_bind(e.author.to_vec());
            });
            q.build().execute(&mut **tx).await?;
        }
        let positions = (batch.first_position..)
            .zip(&batch.hashes)
            .collect::<Vec<_>>();
        for chunk in positions.chunks(ROWS_PER_INSERT) {
            let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO tree_hashes (position, hash) ");
            q.push_values(chunk, |mut row, (p, h)| {
                row.push_bind(*p as i64).push_bind(h.0.to_vec());
            });
            q.build().execute(&mut **tx).await?;
        }
        sqlx::query("INSERT INTO checkpoints (tree_size, note) VALUES (?, ?)")
            .bind(batch.checkpoint.tree_size as i64)
            .bind(&batch.checkpoint.note)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}
