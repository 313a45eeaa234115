use crate::keys;
use crate::server::DATABASE_FILE;
use anyhow::Context;
use indicatif::ProgressBar;
use ledger::checkpoint::LogVerifier;
use ledger::storage::sqlite::SqliteStore;
use ledger::storage::LogStore;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Data directory of a stopped instance.
    #[arg(long, env = "AIDLEDGER_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
}

/// Drops the derived workflow tables and replays the log into them.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let db = args.data_dir.join(DATABASE_FILE);
    if !db.exists() {
        anyhow::bail!("{} does not exist", db.display());
    }
    let signer = keys::load_existing_log_key(&args.data_dir)?;
    let store = SqliteStore::open(&db).await?;
    moderation::schema::migrate(store.pool()).await?;
    let stored = store
        .latest_checkpoint()
        .await?
        .context("the database holds no checkpoint")?;
    let size = LogVerifier::new(&signer.vkey())?
        .verify(stored.note.as_bytes())?
        .size;
    let bar = ProgressBar::new(size);
    moderation::rebuild::rebuild(&store, size, |done| bar.set_position(done)).await?;
    bar.finish_and_clear();
    println!("rebuilt the workflow tables from {size} entries");
    Ok(())
}
