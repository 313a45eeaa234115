use indicatif::ProgressBar;
use ledger::checkpoint::LogVerifier;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    instance: super::StoppedInstance,
}

/// Drops the derived workflow tables and replays the log into them.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let (store, size) = super::open_stopped(&args.instance).await?;
    // The rules need the log's key: only it may set the log's clock.
    let log =
        LogVerifier::new(&crate::keys::load_existing_log_key(&args.instance.data_dir)?.vkey())?;
    let rules = moderation::WorkflowRules::new(log);
    let bar = ProgressBar::new(size);
    moderation::rebuild::rebuild(&store, &rules, size, |done| bar.set_position(done)).await?;
    bar.finish_and_clear();
    println!("rebuilt the workflow tables from {size} entries");
    Ok(())
}
