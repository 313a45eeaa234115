//! The instance's database: opened (SQLite in the data directory, or PostgreSQL at a
//! URL), migrated to the log's, the workflow's and the webhooks' current tables, and cleaned after an
//! erasure.

use crate::data_dir::DATABASE_FILE;
use anyhow::Context;
use ledger_node::storage::sql::SqlStore;
use ledger_node::storage::{postgres, sqlite};

/// Opens the instance's database and brings the log's and the workflow's tables up to
/// date (and the webhooks'): PostgreSQL at `database_url` if given, else SQLite in `data_dir`.
pub async fn open(
    data_dir: &std::path::Path,
    database_url: Option<&str>,
) -> anyhow::Result<SqlStore> {
    check_database_url(database_url)?;
    let store = match database_url {
        Some(url) => postgres::open(url)
            .await
            .context("opening the PostgreSQL database")?,
        None => sqlite::open(&data_dir.join(DATABASE_FILE))
            .await
            .context("opening the SQLite database")?,
    };
    moderation::schema::migrate(&store).await?;
    super::webhooks::store::migrate(&store).await?;
    Ok(store)
}

/// Whether `url` names a PostgreSQL database (the schemes its clients accept).
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Refuses a database URL that is not PostgreSQL's, before anything is created.
pub fn check_database_url(database_url: Option<&str>) -> anyhow::Result<()> {
    match database_url {
        Some(url) if !is_postgres_url(url) => anyhow::bail!(
            "--database-url must be a postgres:// URL; leave it out to use SQLite in the data directory"
        ),
        _ => Ok(()),
    }
}

/// After an erasure, makes sure the erased data's old row images go too (SQLite: the
/// WAL is emptied; PostgreSQL: the tables are rewritten). A busy database leaves it for
/// the next erasure or the retention run; it is logged.
pub async fn flush_erased(store: &SqlStore) {
    if let Err(error) = store
        .flush_erased(moderation::private::PRIVATE_TABLES)
        .await
    {
        tracing::warn!(%error, "could not flush erased private data");
    }
}
