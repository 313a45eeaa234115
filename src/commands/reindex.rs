use crate::data_dir::INDEX_DIR;
use crate::services::search_sync::documents;
use indicatif::ProgressBar;
use moderation::queries::Policy;

/// Needs, offers and organisations asked of the tables at once (the posts among them
/// are read a few hundred to a statement).
const READ_AT_ONCE: usize = 4096;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    instance: super::StoppedInstance,
    /// The verification quorums the instance runs with.
    #[command(flatten)]
    policy: super::PolicyArgs,
}

/// Rebuilds the search index from the workflow tables (themselves derived from the
/// log; `aidledger rebuild` redoes those first if needed).
pub async fn run(args: Args) -> anyhow::Result<()> {
    let (store, size) = super::open_stopped(&args.instance).await?;
    let all = moderation::queries::all_searchable(store.pool()).await?;
    let bar = ProgressBar::new(all.len() as u64);
    let policy = Policy::from(&args.policy);
    let mut docs = Vec::with_capacity(all.len());
    for page in all.chunks(READ_AT_ONCE) {
        docs.extend(documents(store.pool(), policy, page.iter().cloned()).await?);
        bar.inc(page.len() as u64);
    }
    bar.finish_and_clear();
    // A stopped instance's tables hold everything they list.
    anyhow::ensure!(
        docs.len() == all.len(),
        "{} of the {} needs, offers and organisations listed could not be read; \
         `aidledger rebuild` restores the tables from the log",
        all.len() - docs.len(),
        all.len()
    );
    let index = indexer::SearchIndex::open_or_create(args.instance.data_dir.join(INDEX_DIR))?;
    match size.checked_sub(1) {
        Some(last) => index.rebuild(&docs, last)?,
        None => index.clear()?,
    }
    println!(
        "indexed {} needs, offers and organisations from {size} entries",
        docs.len()
    );
    Ok(())
}
