//! Private contact data (DESIGN.md §6): submitted beside a signed entry, stored off the
//! log, committed in the entry as `SHA-256(salt || JCS(data))`, readable only by
//! moderators, the entry's author and the counterpart of a pledge or shipment, every
//! read recorded, and erasable (the log keeps only the commitment).
//!
//! Nothing in this module logs or formats the data itself into an error.

use ledger::entry::canonical_json;
use ledger::hex32;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{Row, SqliteConnection, SqlitePool};

/// Contact details; at least one field is required.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// What a submitter sends beside the entry: the data and the salt of its commitment.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Sidecar {
    /// 32 random bytes, 64 lowercase hex digits.
    pub salt: String,
    pub contact: Contact,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PrivateError {
    #[error("private.{0}")]
    Invalid(String),
    #[error("private: the data does not match the entry's contact commitment")]
    CommitmentMismatch,
    #[error("private: the entry has no contact commitment, so it takes no private data")]
    NoCommitment,
    #[error("private: the entry's contact commitment needs the private data beside it")]
    Missing,
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

/// `SHA-256(salt || JCS(contact))`, lowercase hex.
pub fn commitment(salt: &[u8], contact: &Contact) -> String {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(canonical_json(contact));
    hex::encode(h.finalize())
}

impl Sidecar {
    /// Checks the form of the data and that it opens `commitment`.
    pub fn check(&self, commitment_hex: Option<&str>) -> Result<(), PrivateError> {
        let commitment_hex = commitment_hex.ok_or(PrivateError::NoCommitment)?;
        let salt = hex32::decode(&self.salt)
            .ok_or_else(|| PrivateError::Invalid("salt: must be 64 lowercase hex digits".into()))?;
        let c = &self.contact;
        let fields = [
            ("name", &c.name),
            ("phone", &c.phone),
            ("email", &c.email),
            ("address", &c.address),
        ];
        if fields.iter().all(|(_, v)| v.is_none()) {
            return Err(PrivateError::Invalid(
                "contact: give at least one of name, phone, email, address".into(),
            ));
        }
        for (field, value) in fields {
            if let Some(v) = value {
                if v.trim().is_empty() || v.chars().count() > 200 {
                    return Err(PrivateError::Invalid(format!(
                        "contact.{field}: must be 1 to 200 characters"
                    )));
                }
            }
        }
        if let Some(phone) = &c.phone {
            if !phone
                .chars()
                .all(|ch| ch.is_ascii_digit() || " +-()".contains(ch))
            {
                return Err(PrivateError::Invalid(
                    "contact.phone: only digits, spaces and + - ( )".into(),
                ));
            }
        }
        if let Some(email) = &c.email {
            if !email.contains('@') || email.contains(char::is_whitespace) {
                return Err(PrivateError::Invalid(
                    "contact.email: not an e-mail address".into(),
                ));
            }
        }
        if commitment(&salt.0, c) != commitment_hex {
            return Err(PrivateError::CommitmentMismatch);
        }
        Ok(())
    }
}

/// Stores the data of `entry` (inside the transaction that appends it).
pub async fn store(
    conn: &mut SqliteConnection,
    entry: &[u8],
    sidecar: &Sidecar,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO pd_contacts (entry, salt, data) VALUES (?, ?, ?)")
        .bind(entry)
        .bind(hex32::decode(&sidecar.salt).map(|s| s.0.to_vec()))
        .bind(String::from_utf8_lossy(&canonical_json(&sidecar.contact)).into_owned())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Deletes the data and salt of `entry`, keeping a tombstone.
pub async fn erase(
    conn: &mut SqliteConnection,
    entry: &[u8],
    when: &str,
    reason: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO pd_contacts (entry, salt, data, erased_at, erased_reason) VALUES (?, NULL, NULL, ?, ?)
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

async fn may_read(pool: &SqlitePool, entry: &[u8], reader: &[u8]) -> Result<bool, sqlx::Error> {
    let row = sqlx::query(
        "SELECT 1 WHERE
            EXISTS (SELECT 1 FROM wf_roles WHERE key = ?1 AND role = 'moderator')
         OR EXISTS (SELECT 1 FROM wf_commitments WHERE entry = ?2 AND author = ?1)
         -- a pledge's or shipment's contact: members of the receiving organisation
         OR EXISTS (SELECT 1 FROM wf_links l JOIN wf_posts p ON p.id = l.need
                    JOIN wf_roles r ON r.org = p.org AND r.role = 'member' AND r.key = ?1
                    WHERE l.id = ?2)
         -- a need's contact: the donors who pledged to it
         OR EXISTS (SELECT 1 FROM wf_links l WHERE l.need = ?2 AND l.kind = 'pledge' AND l.author = ?1)",
    )
    .bind(reader)
    .bind(entry)
    .fetch_optional(pool)
    .await?;
    Ok(row.is_some())
}

/// Opens the private data of `entry` for `reader`, recording the read.
pub async fn read(
    pool: &SqlitePool,
    entry_hex: &str,
    reader: &[u8],
    now: &str,
) -> Result<Opened, PrivateError> {
    let entry = hex32::decode(entry_hex)
        .ok_or_else(|| PrivateError::Invalid("entry: must be 64 lowercase hex digits".into()))?
        .0
        .to_vec();
    let row =
        sqlx::query("SELECT salt, data, erased_at, erased_reason FROM pd_contacts WHERE entry = ?")
            .bind(&entry)
            .fetch_optional(pool)
            .await?
            .ok_or_else(|| {
                PrivateError::NotFound(format!("no private data is held for entry {entry_hex}"))
            })?;
    if !may_read(pool, &entry, reader).await? {
        return Err(PrivateError::Forbidden(
            "only moderators, the entry's author and the counterpart of a pledge or shipment may read its private data"
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
    sqlx::query("INSERT INTO pd_reads (entry, reader, at) VALUES (?, ?, ?)")
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
    pool: &SqlitePool,
    entry_hex: &str,
    requester: &[u8],
) -> Result<Vec<ReadRecord>, PrivateError> {
    let entry = hex32::decode(entry_hex)
        .ok_or_else(|| PrivateError::Invalid("entry: must be 64 lowercase hex digits".into()))?
        .0
        .to_vec();
    let allowed = sqlx::query(
        "SELECT 1 WHERE EXISTS (SELECT 1 FROM wf_roles WHERE key = ?1 AND role = 'moderator')
                    OR EXISTS (SELECT 1 FROM wf_commitments WHERE entry = ?2 AND author = ?1)",
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
    let rows = sqlx::query("SELECT reader, at FROM pd_reads WHERE entry = ? ORDER BY id")
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
pub async fn due_for_erasure(pool: &SqlitePool, cutoff: &str) -> Result<Vec<String>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT c.entry FROM pd_contacts c
         JOIN wf_posts p ON p.id = c.entry OR p.id = (SELECT need FROM wf_links WHERE id = c.entry)
         WHERE c.erased_at IS NULL AND p.kind = 'need' AND p.status != 'open' AND p.closed_at <= ?
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
