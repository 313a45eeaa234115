//! The log's tables in SQL that SQLite and PostgreSQL both read. Batches are written
//! with multi-row INSERTs (one statement per few hundred rows), which is what makes
//! group commit pay off.

use super::query::{row_chunks, Placeholders, QueryBuilder};
use super::{hash_from_bytes, Batch, LogStore, StorageError, StoredCheckpoint, StoredEntry};
use ledger::tree::Hash;
use sqlx::any::{Any, AnyRow};
use sqlx::{AnyConnection, AnyPool};
use sqlx::{Connection, Row, Transaction};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Which database server a store speaks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend `conn` speaks to.
    pub fn of(conn: &AnyConnection) -> Self {
        if conn.backend_name() == "SQLite" {
            Backend::Sqlite
        } else {
            Backend::Postgres
        }
    }
}

#[derive(Clone)]
pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
    /// Whether the SQLite write-ahead log's checkpointer runs (`sqlite::checkpointer`).
    checkpointing: Arc<AtomicBool>,
}

impl SqlStore {
    pub(super) fn new(pool: AnyPool, backend: Backend) -> Self {
        SqlStore {
            pool,
            backend,
            checkpointing: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The pool the workflow's tables are read through.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Makes sure no old page image (such as erased private data) survives outside the
    /// live tables: on SQLite, copies the write-ahead log into the database and empties
    /// it; on PostgreSQL, rewrites `tables` and `submissions` (whose rows carried private
    /// sidecars until decided) with `VACUUM FULL`. A plain `VACUUM` reclaims dead row
    /// versions but leaves their bytes in the page's free space whenever live rows share
    /// the page (observed: a decided submission's sidecar outlived its erasure); a
    /// rewrite copies only live rows. It locks each table for the rewrite, which these
    /// rare calls (erasures, the retention run) can afford.
    pub async fn flush_erased(&self, tables: &[&str]) -> Result<(), StorageError> {
        match self.backend() {
            Backend::Sqlite => super::sqlite::empty_write_ahead_log(self.pool()).await?,
            Backend::Postgres => {
                for table in tables.iter().chain(&["submissions"]) {
                    sqlx::query(&format!("VACUUM FULL {table}"))
                        .execute(self.pool())
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// Readies the store for the next start once nothing writes to it any more (the
    /// server's graceful stop). On SQLite, the write-ahead log is copied into the
    /// database and its file emptied: under load the checkpointer lets the file grow to
    /// 1 GiB, and the next start would read every frame of it to rebuild the log's
    /// index before it could serve (on a million-entry log, 0.2 s from the page cache
    /// and 0.8 s from disk). PostgreSQL has nothing to do.
    pub async fn ready_for_next_start(&self) -> Result<(), StorageError> {
        match self.backend() {
            Backend::Sqlite => super::sqlite::empty_write_ahead_log(self.pool()).await,
            Backend::Postgres => Ok(()),
        }
    }

    /// Every checkpoint, by tree size.
    pub async fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>, StorageError> {
        let rows = sqlx::query("SELECT tree_size, note FROM checkpoints ORDER BY tree_size")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(checkpoint).collect()
    }

    /// Up to `limit` entries by `author` (a public key) with index at least `start`.
    pub async fn entries_by_author(
        &self,
        author: &[u8; 32],
        start: u64,
        limit: u64,
    ) -> Result<Vec<StoredEntry>, StorageError> {
        let rows = sqlx::query(
            "SELECT idx, leaf_hash, leaf FROM entries WHERE author = $1 AND idx >= $2 ORDER BY idx LIMIT $3",
        )
        .bind(author.to_vec())
        // A start past every index SQL can hold is past every entry, not below zero.
        .bind(i64::try_from(start).unwrap_or(i64::MAX))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(stored_entry).collect()
    }

    /// Up to `limit` stored tree hashes from `start`, with their positions.
    pub async fn read_hash_range(
        &self,
        start: u64,
        limit: u64,
    ) -> Result<Vec<(u64, Hash)>, StorageError> {
        let rows = sqlx::query(
            "SELECT position, hash FROM tree_hashes WHERE position >= $1 ORDER BY position LIMIT $2",
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

fn checkpoint(r: &AnyRow) -> Result<StoredCheckpoint, StorageError> {
    Ok(StoredCheckpoint {
        tree_size: u64::try_from(r.get::<i64, _>(0))
            .map_err(|_| StorageError::Malformed("checkpoints.tree_size"))?,
        note: r.get(1),
    })
}

fn stored_entry(r: &AnyRow) -> Result<StoredEntry, StorageError> {
    Ok(StoredEntry {
        index: r.get::<i64, _>(0) as u64,
        leaf_hash: hash_from_bytes(r.get(1), "entries.leaf_hash")?,
        leaf: r.get(2),
    })
}

impl LogStore for SqlStore {
    async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StorageError> {
        sqlx::query("SELECT tree_size, note FROM checkpoints ORDER BY tree_size DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(checkpoint)
            .transpose()
    }

    async fn read_hashes(&self, positions: &[u64]) -> Result<Vec<Hash>, StorageError> {
        if positions.is_empty() {
            return Ok(vec![]);
        }
        let mut q = QueryBuilder::new("SELECT position, hash FROM tree_hashes WHERE position IN (");
        q.push_list(positions.iter().map(|&p| p as i64)).push(")");
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
        for chunk in row_chunks(leaf_hashes) {
            let mut q = QueryBuilder::with_placeholders(
                self.backend.into(),
                "SELECT leaf_hash, idx FROM entries WHERE leaf_hash IN (",
            );
            q.push_list(chunk.iter().map(|h| h.0.to_vec())).push(")");
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
        let row = sqlx::query("SELECT MIN(tree_size) FROM checkpoints WHERE tree_size > $1")
            .bind(index as i64)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.get::<Option<i64>, _>(0).map(|s| s as u64))
    }

    async fn read_entries(&self, start: u64, limit: u64) -> Result<Vec<StoredEntry>, StorageError> {
        let rows = sqlx::query(
            "SELECT idx, leaf_hash, leaf FROM entries WHERE idx >= $1 ORDER BY idx LIMIT $2",
        )
        .bind(start as i64)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(stored_entry).collect()
    }

    async fn latest_of_kind(
        &self,
        kind: &'static str,
    ) -> Result<Option<StoredEntry>, StorageError> {
        // Walks the index backwards and stops at the first match: cheap for the
        // log's clock, which has a reading in every minute the log was written.
        let row = sqlx::query(
            "SELECT idx, leaf_hash, leaf FROM entries WHERE kind = $1 ORDER BY idx DESC LIMIT 1",
        )
        .bind(kind)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(stored_entry).transpose()
    }

    async fn connect_writer(&self) -> Result<AnyConnection, StorageError> {
        let mut conn = self.pool.acquire().await?.detach();
        if self.backend == Backend::Sqlite {
            super::sqlite::writer_settings(&mut conn).await?;
            super::sqlite::checkpointer(&self.pool, &self.checkpointing);
        }
        Ok(conn)
    }

    async fn begin<'c>(
        &'c self,
        conn: &'c mut AnyConnection,
    ) -> Result<Transaction<'c, Any>, StorageError> {
        Ok(match self.backend {
            // Take the write lock up front: a deferred transaction that reads first
            // fails at once with "database is locked" if another connection wrote in
            // between.
            Backend::Sqlite => conn.begin_with("BEGIN IMMEDIATE").await?,
            // Nothing to take: the integrator's lease already excludes other writers
            // of the log, and the tables' keys refuse a second writer of an index.
            Backend::Postgres => conn.begin().await?,
        })
    }

    async fn append_in(&self, tx: &mut AnyConnection, batch: &Batch) -> Result<(), StorageError> {
        let placeholders = Placeholders::from(self.backend);
        for chunk in row_chunks(&batch.entries) {
            let mut q = QueryBuilder::with_placeholders(
                placeholders,
                "INSERT INTO entries (idx, leaf_hash, leaf, kind, author) ",
            );
            q.push_values(chunk, |row, e| {
                row.push_bind(e.index as i64)
                    .push_bind(e.leaf_hash.0.to_vec())
                    .push_bind(e.leaf.as_slice())
                    .push_bind(e.kind)
                    .push_bind(e.author.to_vec());
            });
            q.build().execute(&mut *tx).await?;
        }
        let positions = (batch.first_position..)
            .zip(&batch.hashes)
            .collect::<Vec<_>>();
        for chunk in row_chunks(&positions) {
            let mut q = QueryBuilder::with_placeholders(
                placeholders,
                "INSERT INTO tree_hashes (position, hash) ",
            );
            q.push_values(chunk, |row, (p, h)| {
                row.push_bind(*p as i64).push_bind(h.0.to_vec());
            });
            q.build().execute(&mut *tx).await?;
        }
        sqlx::query("INSERT INTO checkpoints (tree_size, note) VALUES ($1, $2)")
            .bind(batch.checkpoint.tree_size as i64)
            .bind(&batch.checkpoint.note)
            .execute(&mut *tx)
            .await?;
        Ok(())
    }
}
