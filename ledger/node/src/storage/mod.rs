//! Durable storage of the log behind one interface, one driver per folder.
//!
//! A store holds three things that change together, in one transaction per batch:
//! the entries by index, the dense sequence of tree hashes (see `tree`), and the
//! signed checkpoints. Nothing else writes them, and nothing here interprets them:
//! the sequencer decides what to append and the reader what to serve.
//!
//! One implementation, `sql::SqlStore`, speaks SQL that SQLite and PostgreSQL both
//! read, through sqlx's `Any` driver; `sqlite` and `postgres` open it on each backend
//! with that backend's settings and migrations, and hold what only it has;
//! `submissions` is the intake table several nodes share. Every statement of the node
//! is in this folder.

pub mod postgres;
pub mod query;
pub mod sql;
pub mod sqlite;
pub mod submissions;

use ledger::tree::Hash;
use sqlx::any::Any;
use sqlx::AnyConnection;
use sqlx::Transaction;
use std::future::Future;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migrating the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("the database lacks tree hash {0}: it is truncated or damaged")]
    MissingHash(u64),
    #[error("the database holds a malformed value in {0}")]
    Malformed(&'static str),
}

/// What kind of trouble a storage error is, as far as a client and an operator care:
/// the answer a refused request gets, and what the operator must fix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Condition {
    /// The database's storage cannot take the write: full (SQLite's SQLITE_FULL,
    /// PostgreSQL's SQLSTATE class 53, insufficient resources) or a write refused
    /// (SQLite's SQLITE_IOERR_WRITE, which is how a full disk or a file size limit
    /// shows mid-write, and also a failing disk). Nothing was committed.
    Full,
    /// The database could not be reached or the connection was lost (PostgreSQL down,
    /// network cut, pool exhausted). Nothing was acknowledged.
    Unreachable,
    /// Anything else: a fault to investigate.
    Fault,
}

impl Condition {
    /// The condition of an error from sqlx, on either backend.
    pub fn of(error: &sqlx::Error) -> Condition {
        match error {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Protocol(_) => Condition::Unreachable,
            sqlx::Error::Database(e) => {
                let code = e.code().unwrap_or_default();
                match code.parse::<i32>() {
                    // SQLite: SQLITE_FULL (13, or extended) and SQLITE_IOERR_WRITE (778).
                    Ok(sqlite) if sqlite & 0xff == 13 || sqlite == 778 => Condition::Full,
                    Ok(_) => Condition::Fault,
                    // PostgreSQL's SQLSTATE: 53xxx insufficient resources (53100 disk
                    // full), 08xxx connection exceptions, 57P0x the server going away.
                    Err(_) if code.starts_with("53") => Condition::Full,
                    Err(_) if code.starts_with("08") || code.starts_with("57P0") => {
                        Condition::Unreachable
                    }
                    Err(_) => Condition::Fault,
                }
            }
            _ => Condition::Fault,
        }
    }
}

impl StorageError {
    pub fn condition(&self) -> Condition {
        match self {
            StorageError::Database(e) => Condition::of(e),
            _ => Condition::Fault,
        }
    }
}

/// A signed checkpoint as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredCheckpoint {
    pub tree_size: u64,
    pub note: String,
}

/// One sequenced entry as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredEntry {
    pub index: u64,
    pub leaf_hash: Hash,
    pub leaf: Vec<u8>,
}

/// An entry to append, with the metadata kept beside it for lookups.
#[derive(Clone, Debug)]
pub struct NewEntry {
    pub index: u64,
    pub leaf_hash: Hash,
    pub leaf: Vec<u8>,
    pub kind: &'static str,
    pub author: [u8; 32],
}

/// Everything one sequenced batch writes, committed atomically.
#[derive(Clone, Debug)]
pub struct Batch {
    pub entries: Vec<NewEntry>,
    /// Tree hashes to store at positions `first_position..`.
    pub first_position: u64,
    pub hashes: Vec<Hash>,
    pub checkpoint: StoredCheckpoint,
}

/// The storage interface of the log. A batch is written inside one transaction
/// (`begin`, `append_in`, commit) on the integrator's own connection, so that the
/// workflow's derived tables change in the same commit; implementations must never
/// modify or delete what was appended.
pub trait LogStore: Send + Sync + 'static {
    /// The checkpoint with the largest tree size, if any was stored.
    fn latest_checkpoint(
        &self,
    ) -> impl Future<Output = Result<Option<StoredCheckpoint>, StorageError>> + Send;

    /// Tree hashes at the given positions, in the same order.
    fn read_hashes(
        &self,
        positions: &[u64],
    ) -> impl Future<Output = Result<Vec<Hash>, StorageError>> + Send;

    /// The index of each of the given leaf hashes that is already in the log.
    fn find_leaves(
        &self,
        leaf_hashes: &[Hash],
    ) -> impl Future<Output = Result<Vec<(Hash, u64)>, StorageError>> + Send;

    /// The size of the first checkpoint that covers entry `index`, if any does.
    fn first_checkpoint_covering(
        &self,
        index: u64,
    ) -> impl Future<Output = Result<Option<u64>, StorageError>> + Send;

    /// Up to `limit` entries from index `start`, in index order.
    fn read_entries(
        &self,
        start: u64,
        limit: u64,
    ) -> impl Future<Output = Result<Vec<StoredEntry>, StorageError>> + Send;

    /// The entry of `kind` with the largest index, if the log holds any.
    fn latest_of_kind(
        &self,
        kind: &'static str,
    ) -> impl Future<Output = Result<Option<StoredEntry>, StorageError>> + Send;

    /// A connection of the integrator's own, kept for as long as it sequences (on
    /// PostgreSQL it is also the one holding the integrator's lease).
    fn connect_writer(&self) -> impl Future<Output = Result<AnyConnection, StorageError>> + Send;

    /// Starts the transaction of a batch on the integrator's connection.
    fn begin<'c>(
        &'c self,
        conn: &'c mut AnyConnection,
    ) -> impl Future<Output = Result<Transaction<'c, Any>, StorageError>> + Send + 'c;

    /// Writes a batch's entries, tree hashes and checkpoint inside `tx`.
    fn append_in<'a>(
        &'a self,
        tx: &'a mut AnyConnection,
        batch: &'a Batch,
    ) -> impl Future<Output = Result<(), StorageError>> + Send + 'a;

    /// Appends one batch in its own transaction.
    fn append(&self, batch: &Batch) -> impl Future<Output = Result<(), StorageError>> + Send {
        async move {
            let mut conn = self.connect_writer().await?;
            let mut tx = self.begin(&mut conn).await?;
            self.append_in(&mut tx, batch).await?;
            tx.commit().await?;
            Ok(())
        }
    }
}

/// Marks a point inside a batch's transaction that the batch can roll back to: an
/// entry the rules refuse leaves no trace, and a clock reading nothing else joined is
/// taken back.
pub async fn savepoint(tx: &mut AnyConnection, name: &'static str) -> Result<(), StorageError> {
    sqlx::query(&format!("SAVEPOINT {name}"))
        .execute(tx)
        .await?;
    Ok(())
}

/// Undoes everything since the savepoint `name` (which stays set).
pub async fn rollback_to(tx: &mut AnyConnection, name: &'static str) -> Result<(), StorageError> {
    sqlx::query(&format!("ROLLBACK TO {name}"))
        .execute(tx)
        .await?;
    Ok(())
}

/// Forgets the savepoint `name`, keeping what was done since.
pub async fn release(tx: &mut AnyConnection, name: &'static str) -> Result<(), StorageError> {
    sqlx::query(&format!("RELEASE {name}")).execute(tx).await?;
    Ok(())
}

pub(crate) fn hash_from_bytes(bytes: &[u8], column: &'static str) -> Result<Hash, StorageError> {
    bytes
        .try_into()
        .map(Hash)
        .map_err(|_| StorageError::Malformed(column))
}
