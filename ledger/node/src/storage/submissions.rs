//! The `submissions` table: the intake that several nodes share on one PostgreSQL
//! database (`cluster`). A row holds a checked leaf and its private sidecar until the
//! integrator decides it; the decision is written in the batch's own transaction, and
//! the accepting node deletes the row once it has answered its client.

use super::query::{row_chunks, QueryBuilder};
use super::sql::SqlStore;
use super::StorageError;
use ledger::tree::Hash;
use sqlx::{AnyConnection, Row};

/// An undecided submission as stored.
pub struct Undecided {
    pub id: i64,
    pub leaf: Vec<u8>,
    pub sidecar: Option<String>,
}

/// A submission to store: its leaf and its private sidecar.
pub struct NewSubmission {
    pub leaf: Vec<u8>,
    pub sidecar: Option<String>,
}

/// Most submissions one statement stores (three bound values each, well under
/// PostgreSQL's 65,535).
pub const MAX_INSERT: usize = 1024;

/// Stores `rows` (at most `MAX_INSERT`) in one statement, so they share a commit;
/// returns each stored row's id with its leaf hash. The ids are matched back by leaf
/// hash, computed by the database (RFC 6962: SHA-256 of `0x00 || leaf`), because
/// PostgreSQL does not promise that `RETURNING` follows the order of `VALUES`; rows
/// with equal leaves are the same entry, so which of their ids goes to which does not
/// matter.
pub async fn insert(
    store: &SqlStore,
    rows: &[NewSubmission],
    accepted_at_millis: i64,
) -> Result<Vec<(i64, Hash)>, StorageError> {
    debug_assert!(rows.len() <= MAX_INSERT);
    let mut q = QueryBuilder::new("INSERT INTO submissions (leaf, sidecar, accepted_at) ");
    q.push_values(rows, |row, s| {
        row.push_bind(s.leaf.as_slice())
            .push_bind(s.sidecar.as_deref())
            .push_bind(accepted_at_millis);
    });
    q.push(" RETURNING id, sha256(decode('00', 'hex') || leaf)");
    let stored = q.build().fetch_all(store.pool()).await?;
    stored
        .iter()
        .map(|r| {
            let hash: Vec<u8> = r.get(1);
            let hash = hash
                .try_into()
                .map_err(|_| StorageError::Malformed("submissions.leaf"))?;
            Ok((r.get(0), Hash(hash)))
        })
        .collect()
}

/// The oldest undecided submissions, at most `limit`, read on the integrator's
/// connection.
pub async fn undecided(
    conn: &mut AnyConnection,
    limit: usize,
) -> Result<Vec<Undecided>, StorageError> {
    let rows = sqlx::query(
        "SELECT id, leaf, sidecar FROM submissions WHERE outcome IS NULL ORDER BY id LIMIT $1",
    )
    .bind(limit as i64)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .iter()
        .map(|r| Undecided {
            id: r.get(0),
            leaf: r.get(1),
            sidecar: r.get(2),
        })
        .collect())
}

/// Records each row's outcome inside the batch's transaction `tx`, and clears its
/// private sidecar.
pub async fn record(tx: &mut AnyConnection, decided: &[(i64, String)]) -> Result<(), StorageError> {
    for chunk in row_chunks(decided) {
        let mut q = QueryBuilder::new(
            "UPDATE submissions AS s SET outcome = v.outcome, sidecar = NULL FROM (",
        );
        q.push_values(chunk, |row, (id, outcome)| {
            row.push_bind(*id).push_bind(outcome.as_str());
        });
        q.push(") AS v (id, outcome) WHERE s.id = v.id");
        q.build().execute(&mut *tx).await?;
    }
    Ok(())
}

/// The recorded outcomes of those of `ids` that are decided.
pub async fn decided(store: &SqlStore, ids: &[i64]) -> Result<Vec<(i64, String)>, StorageError> {
    let mut q = QueryBuilder::new(
        "SELECT id, outcome FROM submissions WHERE outcome IS NOT NULL AND id IN (",
    );
    q.push_list(ids.iter().copied()).push(")");
    let rows = q.build().fetch_all(store.pool()).await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Deletes answered rows.
pub async fn delete(store: &SqlStore, ids: Vec<i64>) -> Result<(), StorageError> {
    let mut q = QueryBuilder::new("DELETE FROM submissions WHERE id IN (");
    q.push_list(ids).push(")");
    q.build().execute(store.pool()).await?;
    Ok(())
}

/// Deletes decided rows accepted before `before_millis` whose node never came back
/// for them.
pub async fn remove_abandoned(
    conn: &mut AnyConnection,
    before_millis: i64,
) -> Result<(), StorageError> {
    sqlx::query("DELETE FROM submissions WHERE outcome IS NOT NULL AND accepted_at < $1")
        .bind(before_millis)
        .execute(conn)
        .await?;
    Ok(())
}
