//! The webhook tables (`migrations/`, the server's own): subscriptions, deliveries to
//! make, the delivery log, and the matcher's place in the log. Every statement reads
//! on both backends.

use super::{Selection, Settings, WebhookError};
use ledger::entry::format_timestamp;
use ledger_node::storage::sql::{Backend, SqlStore};
use serde::Serialize;
use sqlx::migrate::MigrateError;
use sqlx::{AnyPool, Row};
use time::OffsetDateTime;

/// Creates or upgrades the webhook tables. They share the database's migration table
/// with the log's and the workflow's, so each side ignores versions it does not know.
pub async fn migrate(store: &SqlStore) -> Result<(), MigrateError> {
    let mut migrator = match store.backend() {
        Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
        Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
    };
    migrator.set_ignore_missing(true);
    migrator.run(store.pool()).await
}

/// A subscription as its owner reads it (never with its secret).
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Subscription {
    pub id: String,
    pub url: String,
    pub selection: Selection,
    /// The first log index it is delivered: entries before it are not.
    pub from_index: i64,
    pub created_at: String,
}

/// Deliveries in the log answer, at most, newest first.
pub const DELIVERIES_LISTED: i64 = 100;

/// One delivery, as its subscription's owner reads it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Delivery {
    pub index: i64,
    /// `pending` (an attempt is due or under way), `delivered` or `failed`.
    pub state: String,
    pub attempts: Vec<Attempt>,
}

/// One attempt of a delivery: the answer's status, or why there was none.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Attempt {
    pub attempt: i64,
    pub at: String,
    pub status: Option<i64>,
    pub error: Option<String>,
}

fn now_text() -> String {
    format_timestamp(OffsetDateTime::now_utc())
}

fn selection_of(text: &str) -> Result<Selection, WebhookError> {
    serde_json::from_str(text)
        .map_err(|_| WebhookError::Database(sqlx::Error::Decode("webhook selection".into())))
}

/// Stores a new subscription of `owner` with `secret`, within the settings' caps. One
/// statement checks the caps and inserts, so that it starts as a write (on SQLite a
/// transaction that reads first cannot wait for the lock to write).
pub async fn create(
    pool: &AnyPool,
    settings: &Settings,
    owner: &[u8; 32],
    new: Subscription,
    secret: &str,
) -> Result<Subscription, WebhookError> {
    let selection = serde_json::to_string(&new.selection).expect("a selection serializes");
    let inserted = sqlx::query(
        "INSERT INTO webhook_subscriptions (id, owner, callback_url, secret, selection, from_index, created_at)
         SELECT $1, $2, $3, $4, $5, $6, $7
         WHERE (SELECT COUNT(*) FROM webhook_subscriptions WHERE owner = $2) < $8
           AND (SELECT COUNT(*) FROM webhook_subscriptions) < $9",
    )
    .bind(&new.id)
    .bind(owner.as_slice())
    .bind(&new.url)
    .bind(secret)
    .bind(selection)
    .bind(new.from_index)
    .bind(&new.created_at)
    .bind(i64::from(settings.per_key))
    .bind(i64::from(settings.total))
    .execute(pool)
    .await?
    .rows_affected();
    if inserted == 1 {
        return Ok(new);
    }
    let owned: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM webhook_subscriptions WHERE owner = $1")
            .bind(owner.as_slice())
            .fetch_one(pool)
            .await?;
    Err(WebhookError::Full(
        if owned >= i64::from(settings.per_key) {
            format!(
                "a key may hold at most {} webhook subscriptions; delete one first",
                settings.per_key
            )
        } else {
            format!(
                "this server holds at most {} webhook subscriptions",
                settings.total
            )
        },
    ))
}

/// The time a subscription is created, as stored.
pub fn created_now() -> String {
    now_text()
}

/// The subscriptions of `owner`, oldest first.
pub async fn list(pool: &AnyPool, owner: &[u8; 32]) -> Result<Vec<Subscription>, WebhookError> {
    let rows = sqlx::query(
        "SELECT id, callback_url, selection, from_index, created_at FROM webhook_subscriptions
         WHERE owner = $1 ORDER BY created_at, id",
    )
    .bind(owner.as_slice())
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Subscription {
                id: r.get(0),
                url: r.get(1),
                selection: selection_of(&r.get::<String, _>(2))?,
                from_index: r.get(3),
                created_at: r.get(4),
            })
        })
        .collect()
}

/// Refuses unless subscription `id` exists and belongs to `owner`.
async fn check_owner(pool: &AnyPool, owner: &[u8; 32], id: &str) -> Result<(), WebhookError> {
    let row: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT owner FROM webhook_subscriptions WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?;
    match row {
        None => Err(WebhookError::NotFound(id.to_owned())),
        Some(o) if o != owner.as_slice() => Err(WebhookError::Forbidden),
        Some(_) => Ok(()),
    }
}

/// Deletes subscription `id` of `owner` with its deliveries and their log.
pub async fn delete(pool: &AnyPool, owner: &[u8; 32], id: &str) -> Result<(), WebhookError> {
    check_owner(pool, owner, id).await?;
    let mut tx = pool.begin().await?;
    for table in ["webhook_attempts", "webhook_deliveries"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE subscription = $1"))
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("DELETE FROM webhook_subscriptions WHERE id = $1 AND owner = $2")
        .bind(id)
        .bind(owner.as_slice())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The newest deliveries of subscription `id` of `owner`, each with its attempts.
pub async fn deliveries(
    pool: &AnyPool,
    owner: &[u8; 32],
    id: &str,
) -> Result<Vec<Delivery>, WebhookError> {
    check_owner(pool, owner, id).await?;
    let rows = sqlx::query(
        "SELECT idx, state FROM webhook_deliveries WHERE subscription = $1 ORDER BY idx DESC LIMIT $2",
    )
    .bind(id)
    .bind(DELIVERIES_LISTED)
    .fetch_all(pool)
    .await?;
    let mut out: Vec<Delivery> = rows
        .iter()
        .map(|r| Delivery {
            index: r.get(0),
            state: r.get(1),
            attempts: vec![],
        })
        .collect();
    let Some(oldest) = out.last().map(|d| d.index) else {
        return Ok(out);
    };
    let attempts = sqlx::query(
        "SELECT idx, attempt, at, status, error FROM webhook_attempts
         WHERE subscription = $1 AND idx >= $2 ORDER BY idx, attempt",
    )
    .bind(id)
    .bind(oldest)
    .fetch_all(pool)
    .await?;
    for r in attempts {
        let idx: i64 = r.get(0);
        if let Some(d) = out.iter_mut().find(|d| d.index == idx) {
            d.attempts.push(Attempt {
                attempt: r.get(1),
                at: r.get(2),
                status: r.get(3),
                error: r.get(4),
            });
        }
    }
    Ok(out)
}

/// The next log index the matcher has not looked at.
pub async fn cursor(pool: &AnyPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT next_index FROM webhook_cursor WHERE id = 1")
        .fetch_one(pool)
        .await
}

/// The smallest `from_index` of any subscription: no entry before it is wanted.
pub async fn earliest_wanted(pool: &AnyPool) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT MIN(from_index) FROM webhook_subscriptions")
        .fetch_one(pool)
        .await
}

/// A subscription as the matcher needs it.
pub struct Wanting {
    pub id: String,
    pub selection: Selection,
    pub from_index: i64,
}

/// The subscriptions that want some entry before index `to`.
pub async fn wanting_before(pool: &AnyPool, to: i64) -> Result<Vec<Wanting>, WebhookError> {
    let rows = sqlx::query(
        "SELECT id, selection, from_index FROM webhook_subscriptions WHERE from_index < $1 ORDER BY id",
    )
    .bind(to)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Wanting {
                id: r.get(0),
                selection: selection_of(&r.get::<String, _>(1))?,
                from_index: r.get(2),
            })
        })
        .collect()
}

/// Records the deliveries `found` in entries `from..to` and moves the cursor to `to`,
/// together, if the cursor is still at `from` (another node may have done it first:
/// then nothing changes and false is answered).
pub async fn advance(
    pool: &AnyPool,
    from: i64,
    to: i64,
    found: &[(String, i64)],
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let moved =
        sqlx::query("UPDATE webhook_cursor SET next_index = $1 WHERE id = 1 AND next_index = $2")
            .bind(to)
            .bind(from)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    if moved != 1 {
        return Ok(false);
    }
    for (subscription, idx) in found {
        // A subscription deleted meanwhile gets no delivery.
        sqlx::query(
            "INSERT INTO webhook_deliveries (subscription, idx, state, attempts, next_attempt_ms, claimed_until_ms)
             SELECT $1, $2, 'pending', 0, $3, 0 FROM webhook_subscriptions WHERE id = $1",
        )
        .bind(subscription)
        .bind(idx)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// A delivery this node claimed, with what sending it needs.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub subscription: String,
    pub index: i64,
    /// Attempts made before this one.
    pub attempts: i64,
    pub url: String,
    pub secret: String,
}

/// Claims at most `limit` due deliveries until `until_ms`. Each is claimed by one
/// conditional update, so of several nodes exactly one gets it; a node that dies
/// holding a claim leaves it to whoever comes after `until_ms`.
pub async fn claim_due(
    pool: &AnyPool,
    now_ms: i64,
    until_ms: i64,
    limit: usize,
) -> Result<Vec<Claimed>, sqlx::Error> {
    let due = sqlx::query(
        "SELECT d.subscription, d.idx, d.attempts, s.callback_url, s.secret
         FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription
         WHERE d.state = 'pending' AND d.next_attempt_ms <= $1 AND d.claimed_until_ms <= $1
         ORDER BY d.next_attempt_ms, d.idx LIMIT $2",
    )
    .bind(now_ms)
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(pool)
    .await?;
    let mut claimed = Vec::with_capacity(due.len());
    for r in due {
        let c = Claimed {
            subscription: r.get(0),
            index: r.get(1),
            attempts: r.get(2),
            url: r.get(3),
            secret: r.get(4),
        };
        let won = sqlx::query(
            "UPDATE webhook_deliveries SET claimed_until_ms = $1
             WHERE subscription = $2 AND idx = $3 AND state = 'pending'
               AND attempts = $4 AND claimed_until_ms <= $5",
        )
        .bind(until_ms)
        .bind(&c.subscription)
        .bind(c.index)
        .bind(c.attempts)
        .bind(now_ms)
        .execute(pool)
        .await?
        .rows_affected();
        if won == 1 {
            claimed.push(c);
        }
    }
    Ok(claimed)
}

/// What one attempt came to.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub status: Option<u16>,
    pub error: Option<String>,
    /// `delivered`, `failed`, or `pending` with the time of the next attempt.
    pub state: &'static str,
    pub next_attempt_ms: i64,
}

/// Records an attempt of a claimed delivery in the delivery log and releases the
/// claim, in one transaction.
pub async fn record(pool: &AnyPool, c: &Claimed, outcome: &Outcome) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let updated = sqlx::query(
        "UPDATE webhook_deliveries SET attempts = $1, state = $2, next_attempt_ms = $3, claimed_until_ms = 0
         WHERE subscription = $4 AND idx = $5 AND attempts = $6",
    )
    .bind(c.attempts + 1)
    .bind(outcome.state)
    .bind(outcome.next_attempt_ms)
    .bind(&c.subscription)
    .bind(c.index)
    .bind(c.attempts)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    // Zero rows: the subscription was deleted meanwhile, or the claim had run out and
    // another node recorded this attempt; either way there is nothing to log.
    if updated == 1 {
        sqlx::query(
            "INSERT INTO webhook_attempts (subscription, idx, attempt, at, status, error)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&c.subscription)
        .bind(c.index)
        .bind(c.attempts + 1)
        .bind(now_text())
        .bind(outcome.status.map(i64::from))
        .bind(outcome.error.as_deref())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}
