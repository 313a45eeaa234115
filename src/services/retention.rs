//! The retention rule: private data of a need, its pledges and its shipments is erased
//! a configured number of days after the need closes. The operator key signs one
//! `redaction` entry per erasure, so the log records why the data is gone.

use super::bootstrap::OPERATOR_KEY_FILE;
use crate::keys;
use ledger::entry::{format_timestamp, UnsignedEntry};
use ledger::Kind;
use ledger_node::sequencer::Sequencer;
use ledger_node::storage::sql::SqlStore;
use serde_json::json;
use sqlx::AnyPool;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

#[derive(Clone, Copy, Debug)]
pub struct Retention {
    /// Days after a need closes until its private data is erased.
    pub days: u32,
    /// How often to look for data due for erasure.
    pub every: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            days: 365,
            every: Duration::from_secs(3600),
        }
    }
}

/// Runs the retention rule every `retention.every`, for as long as the server runs. Of
/// several nodes on one database, only the integrator runs it (so one node erases and
/// signs each redaction); it needs the operator key in its data directory.
pub(crate) fn spawn(
    data_dir: PathBuf,
    sequencer: Sequencer,
    store: Arc<SqlStore>,
    retention: Retention,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(retention.every);
        loop {
            ticks.tick().await;
            // A node may take the lease any time; the purge then runs at once.
            while !sequencer.is_integrator() {
                tokio::time::sleep(ledger_node::cluster::LEASE_RETRY).await;
            }
            match purge_once(&data_dir, &sequencer, store.pool(), retention.days).await {
                Ok(0) => {}
                Ok(_) => super::store::flush_erased(&store).await,
                Err(error) => tracing::warn!(%error, "retention purge did not complete"),
            }
        }
    })
}

/// Erases everything due now; returns how many entries' data was erased.
async fn purge_once(
    data_dir: &std::path::Path,
    sequencer: &Sequencer,
    pool: &AnyPool,
    days: u32,
) -> anyhow::Result<usize> {
    let cutoff =
        format_timestamp(OffsetDateTime::now_utc() - time::Duration::days(i64::from(days)));
    let due = moderation::private::due_for_erasure(pool, &cutoff).await?;
    if due.is_empty() {
        return Ok(0);
    }
    let operator = keys::read_author_key(&data_dir.join(OPERATOR_KEY_FILE))?;
    let mut erased = 0;
    for entry in due {
        let redaction = UnsignedEntry::new(
            Kind::Redaction,
            &operator.verifying_key(),
            OffsetDateTime::now_utc(),
            json!({
                "entry": entry,
                "reason": "retention",
                "rule": format!("private data is erased {days} days after its need closes"),
            }),
        )
        .sign(&operator)?;
        match sequencer.submit(redaction).await {
            Ok(_) => erased += 1,
            Err(error) => tracing::warn!(%entry, %error, "retention redaction refused"),
        }
    }
    tracing::info!(erased, "retention purge");
    Ok(erased)
}
