use indicatif::ProgressBar;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Data directory of a stopped instance.
    #[arg(long, env = "AIDLEDGER_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
    #[command(flatten)]
    database: super::DatabaseArg,
}

/// Drops the derived workflow tables and replays the log into them.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let (store, size) = super::open_stopped(&args.data_dir, &args.database).await?;
    let bar = ProgressBar::new(size);
    moderation::rebuild::rebuild(&store, size, |done| bar.set_position(done)).await?;
    bar.finish_and_clear();
    println!("rebuilt the workflow tables from {size} entries");
    Ok(())
}
