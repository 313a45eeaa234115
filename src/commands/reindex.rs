use crate::data_dir::INDEX_DIR;
use crate::services::search_sync::document;
use indicatif::ProgressBar;
use moderation::queries::Policy;

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
    for (id, kind) in all {
        docs.push(document(store.pool(), policy, &kind, &id).await?);
        bar.inc(1);
    }
    bar.finish_and_clear();
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
