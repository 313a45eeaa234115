use crate::client::LogClient;
use crate::keys;
use crate::sample::Workflow;
use anyhow::Context;
use indicatif::ProgressBar;
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Base URL of the instance.
    #[arg(long, env = "AIDLEDGER_URL")]
    url: String,
    /// How many entries to submit.
    #[arg(long, default_value_t = 100)]
    count: u64,
    /// Submissions in flight at once (entries of one round are independent).
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// The instance's operator key (`<data-dir>/operator.key`): with it, seeding also
    /// appoints moderators who verify organisations.
    #[arg(long)]
    operator_key: Option<PathBuf>,
    /// Date the entries over the last DAYS days, oldest first, as if the effort had
    /// unfolded over them (0: all dated now).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u16).range(0..=3650))]
    days: u16,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let client = LogClient::new(&args.url);
    let operator = args
        .operator_key
        .as_deref()
        .map(keys::read_author_key)
        .transpose()?;
    let mut workflow = Workflow::new(operator);
    let mut rng = StdRng::from_entropy();
    let progress = ProgressBar::new(args.count);
    let mut submitted = 0u64;
    while submitted < args.count {
        let room = (args.count - submitted).min(args.concurrency.max(1) as u64) as usize;
        let still_to_come = 1.0 - submitted as f64 / args.count as f64;
        workflow.date_behind(time::Duration::seconds_f64(
            f64::from(args.days) * 86_400.0 * still_to_come,
        ));
        let round = workflow.round(&mut rng, room)?;
        let mut tasks = tokio::task::JoinSet::new();
        for entry in round {
            let client = client.clone();
            tasks.spawn(async move { client.submit_retrying(entry.into_leaf()).await });
        }
        while let Some(done) = tasks.join_next().await {
            done.context("seeding task panicked")??;
            submitted += 1;
            progress.inc(1);
        }
    }
    progress.finish();
    println!("submitted {submitted} entries to {}", args.url);
    Ok(())
}
