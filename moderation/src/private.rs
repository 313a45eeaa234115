//! Private contact data (DESIGN.md §6): submitted beside a signed entry, stored off the
//! log, committed in the entry as `SHA-256(salt || JCS(data))`, readable only by
//! moderators, the entry's author and the counterpart (members of the receiving
//! organisation for a pledge or shipment; for a need, donors whose pledge was
//! accepted: docs/FORMAT.md §8), every read recorded, and erasable (the log keeps only the commitment).
//!
//! Nothing in this module logs or formats the data itself into an error.

pub use ledger::contact::{commitment, Contact, ContactError, Sidecar};
use ledger::entry::canonical_json;
use ledger::hex32;
use serde::Serialize;
use sqlx::{AnyConnection, AnyPool, Row};

/// The tables that hold private data, whose erased rows must not linger on disk.
pub const PRIVATE_TABLES: &[&str] = &["pd_contacts"];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PrivateError {
    #[error("private.{0}")]
    Invalid(String),
    #[error(transparent)]
    Contact(#[from] ContactError),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("the private data of this entry was erased ({0})")]
    Erased(String),
    #[error("database error")]
    Database,
}

impl From<sqlx::Error> for PrivateError {
    fn from(_: sqlx::Error) -> Self {
        PrivateError::Database
    }
}

/// Stores the data of `entry` (inside the transaction that appends it).
pub async fn store(
    conn: &mut AnyConnection,
    entry: &[u8],
    sidecar: &Sidecar,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO pd_contacts (entry, salt, data) VALUES ($1, $2, $3)")
        .bind(entry)
        .bind(hex32::decode(&sidecar.salt).map(|s| s.0.to_vec()))
        .bind(String::from_utf8_lossy(&canonical_json(&sidecar.contact)).into_owned())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Deletes the data and salt of `entry`, keeping a tombstone.
pub async fn erase(
    conn: &mut AnyConnection,
    entry: &[u8],
    when: &str,
    reason: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO pd_contacts (entry, salt, data, erased_at, erased_reason) VALUES ($1, NULL, NULL, $2, $3)
         ON CONFLICT (entry) DO UPDATE SET salt = NULL, data = NULL, erased_at = excluded.erased_at,
                                          erased_reason = excluded.erased_reason",
    )
    .bind(entry)
    .bind(when)
    .bind(reason)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Private data as shown to an authorised reader.
#[derive(Serialize, Debug)]
pub struct Opened {
    pub entry: String,
    pub salt: String,
    pub contact: serde_json::Value,
}

async fn may_read(pool: &AnyPool, entry: &[u8], reader: &[u8]) -> Result<bool, sqlx::Error> {
    let row = sqlx::query(
        "SELECT 1 WHERE
            EXISTS (SELECT 1 FROM wf_roles WHERE key = $1 AND role = 'moderator')
         OR EXISTS (SELECT 1 FROM wf_commitments WHERE entry = $2 AND author = $1)
         -- a pledge's or shipment's contact: members of the receiving organisation
         OR EXISTS (SELECT 1 FROM wf_links l JOIN wf_posts p ON p.id = l.need
                    JOIN wf_roles r ON r.org = p.org AND r.role = 'member' AND r.key = $1
                    WHERE l.id = $2)
         -- a need's contact: the donors whose pledge to it was accepted; a pledge
         -- alone opens nothing, or one unit pledged would harvest any hospital's phone
         OR EXISTS (SELECT 1 FROM wf_links l JOIN wf_links a ON a.parent = l.id AND a.kind = 'pledge.accept'
                    WHERE l.need = $2 AND l.kind = 'pledge' AND l.author = $1)",
    )
    .bind(reader)
    .bind(entry)
    .fetch_optional(pool)
    .await?;
    Ok(row.is_some())
}

/// Opens the private data of `entry` for `reader`, recording the read.
pub async fn read(
    pool: &AnyPool,
    entry_hex: &str,
    reader: &[u8],
    now: &str,
) -> Result<Opened, PrivateError> {
    let entry = hex32::decode(entry_hex)
        .ok_or_else(|| PrivateError::Invalid("entry: must be 64 lowercase hex digits".into()))?
        .0
        .to_vec();
    let row = sqlx::query(
        "SELECT salt, data, erased_at, erased_reason FROM pd_contacts WHERE entry = $1",
    )
    .bind(&entry)
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| {
        PrivateError::NotFound(format!("no private data is held for entry {entry_hex}"))
    })?;
    if !may_read(pool, &entry, reader).await? {
        return Err(PrivateError::Forbidden(
            "only moderators, the entry's author and its counterpart may read its private data: a need's contact opens to a donor once a member of the need's organisation accepts the pledge"
                .into(),
        ));
    }
    let erased: Option<String> = row.get(2);
    if let Some(at) = erased {
        let reason: Option<String> = row.get(3);
        return Err(PrivateError::Erased(format!(
            "{} on {at}",
            reason.unwrap_or_default()
        )));
    }
    sqlx::query("INSERT INTO pd_reads (entry, reader, at) VALUES ($1, $2, $3)")
        .bind(&entry)
        .bind(reader)
        .bind(now)
        .execute(pool)
        .await?;
    let salt: Vec<u8> = row.get(0);
    let data: String = row.get(1);
    Ok(Opened {
        entry: entry_hex.to_owned(),
        salt: hex::encode(salt),
        contact: serde_json::from_str(&data).map_err(|_| PrivateError::Database)?,
    })
}

/// One recorded read.
#[derive(Serialize, Debug)]
pub struct ReadRecord {
    pub reader: String,
    pub at: String,
}

/// Who read the private data of `entry`, for its author or a moderator.
pub async fn reads(
    pool: &AnyPool,
    entry_hex: &str,
    requester: &[u8],
) -> Result<Vec<ReadRecord>, PrivateError> {
    let entry = hex32::decode(entry_hex)
        .ok_or_else(|| PrivateError::Invalid("entry: must be 64 lowercase hex digits".into()))?
        .0
        .to_vec();
    let allowed = sqlx::query(
        "SELECT 1 WHERE EXISTS (SELECT 1 FROM wf_roles WHERE key = $1 AND role = 'moderator')
                    OR EXISTS (SELECT 1 FROM wf_commitments WHERE entry = $2 AND author = $1)",
    )
    .bind(requester)
    .bind(&entry)
    .fetch_optional(pool)
    .await?
    .is_some();
    if !allowed {
        return Err(PrivateError::Forbidden(
            "only moderators and the entry's author may see who read its private data".into(),
        ));
    }
    let rows = sqlx::query("SELECT reader, at FROM pd_reads WHERE entry = $1 ORDER BY id")
        .bind(&entry)
        .fetch_all(pool)
        .await?;
    Ok(rows
        .iter()
        .map(|r| ReadRecord {
            reader: hex::encode(r.get::<Vec<u8>, _>(0)),
            at: r.get(1),
        })
        .collect())
}

/// Entries whose private data is due for erasure: still held, and belonging to a need
/// (the need itself, its pledges and shipments) closed on or before `cutoff` (a
/// timestamp, compared with the need's `closed_at`).
pub async fn due_for_erasure(pool: &AnyPool, cutoff: &str) -> Result<Vec<String>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT c.entry FROM pd_contacts c
         JOIN wf_posts p ON p.id = c.entry OR p.id = (SELECT need FROM wf_links WHERE id = c.entry)
         WHERE c.erased_at IS NULL AND p.kind = 'need' AND p.status != 'open' AND p.closed_at <= $1
         ORDER BY c.entry",
    )
    .bind(cutoff)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| hex::encode(r.get::<Vec<u8>, _>(0)))
        .collect())
}
