//! The `submissions` table: the intake that several nodes share on one PostgreSQL
//! database (`cluster`). A row holds a checked leaf and its private sidecar until the
//! integrator decides it; the decision is written in the batch's own transaction, and
//! the accepting node deletes the row once it has answered its client.

use super::query::QueryBuilder;
use super::sql::SqlStore;
use super::StorageError;
use sqlx::{AnyConnection, Row};

/// An undecided submission as stored.
pub struct Undecided {
    pub id: i64,
    pub leaf: Vec<u8>,
    pub sidecar: Option<String>,
}

/// Stores a submission; returns its row id.
pub async fn insert(
    store: &SqlStore,
    leaf: &[u8],
    sidecar: Option<String>,
    accepted_at_millis: i64,
) -> Result<i64, StorageError> {
    let row = sqlx::query(
        "INSERT INTO submissions (leaf, sidecar, accepted_at) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(leaf)
    .bind(sidecar)
    .bind(accepted_at_millis)
    .fetch_one(store.pool())
    .await?;
    Ok(row.get(0))
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
    for chunk in decided.chunks(500) {
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
