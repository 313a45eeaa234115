//! Rebuilding the derived tables from the log: empty them and replay every entry
//! through the same rules, in order. Every entry in the log was admitted when it was
//! sequenced, so a refusal during replay means the tables or the rules changed in a
//! way the log does not support, and the rebuild stops with the offending index.

use crate::rules::WorkflowRules;
use ledger::entry::VerifiedEntry;
use ledger_node::rules::{Refusal, Rules};
use ledger_node::storage::sql::SqlStore;
use ledger_node::storage::{LogStore, StorageError};

/// The derived tables, children before parents.
pub const TABLES: &[&str] = &[
    "wf_commitments",
    "wf_redactions",
    "wf_verdicts",
    "wf_link_items",
    "wf_links",
    "wf_post_items",
    "wf_posts",
    "wf_orgs",
    "wf_roles",
    "wf_clock",
];

const PAGE: u64 = 1000;

#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("entry {index} is not a valid entry: {source}")]
    Invalid {
        index: u64,
        source: ledger::EntryError,
    },
    #[error("entry {index} was refused on replay ({source}): the derived tables cannot be rebuilt from this log with these rules")]
    Refused { index: u64, source: Refusal },
}

/// Empties the derived tables and replays entries `0..size` through `rules`; `progress` is called with
/// the number of entries replayed so far. Runs in one transaction: on any error the
/// tables are left as they were.
pub async fn rebuild(
    store: &SqlStore,
    rules: &WorkflowRules,
    size: u64,
    mut progress: impl FnMut(u64),
) -> Result<(), RebuildError> {
    let mut conn = store.connect_writer().await?;
    let mut tx = store.begin(&mut conn).await?;
    for table in TABLES {
        sqlx::query(&format!("DELETE FROM {table}"))
            .execute(&mut *tx)
            .await?;
    }
    let mut next = 0;
    while next < size {
        let page = store.read_entries(next, PAGE.min(size - next)).await?;
        if page.is_empty() {
            break;
        }
        let entries = page
            .iter()
            .map(|stored| {
                VerifiedEntry::from_leaf(&stored.leaf).map_err(|source| RebuildError::Invalid {
                    index: stored.index,
                    source,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        rules
            .read_ahead(&mut tx, &entries.iter().collect::<Vec<_>>())
            .await?;
        for (stored, entry) in page.iter().zip(&entries) {
            rules
                .admit(&mut tx, entry, stored.index, None)
                .await
                .map_err(|source| RebuildError::Refused {
                    index: stored.index,
                    source,
                })?;
            next = stored.index + 1;
        }
        rules.flush(&mut tx).await?;
        progress(next);
    }
    tx.commit().await?;
    Ok(())
}
