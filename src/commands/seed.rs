use crate::client::LogClient;
use crate::sample::sample_entry;
use anyhow::Context;
use ed25519_dalek::SigningKey;
use indicatif::ProgressBar;
use ledger::entry::UnsignedEntry;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use time::OffsetDateTime;

#[derive(clap::Args)]
pub struct Args {
    /// Base URL of the instance.
    #[arg(long, env = "AIDLEDGER_URL")]
    url: String,
    /// How many entries to submit.
    #[arg(long, default_value_t = 100)]
    count: u64,
    /// Submissions in flight at once.
    #[arg(long, default_value_t = 16)]
    concurrency: u64,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let client = LogClient::new(&args.url);
    let authors: Vec<SigningKey> = (0..8).map(|_| crate::keys::generate_author_key()).collect();
    let progress = ProgressBar::new(args.count);
    let workers = args.concurrency.clamp(1, args.count.max(1));
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..workers {
        let (client, authors, progress) = (client.clone(), authors.clone(), progress.clone());
        let count = args.count / workers + u64::from(w < args.count % workers);
        tasks.spawn(async move {
            let mut rng = StdRng::from_entropy();
            for _ in 0..count {
                let author = &authors[rng.gen_range(0..authors.len())];
                let (kind, body) = sample_entry(&mut rng);
                let entry = UnsignedEntry::new(
                    kind,
                    &author.verifying_key(),
                    OffsetDateTime::now_utc(),
                    body,
                )
                .sign(author)?;
                client.submit(entry.into_leaf()).await?;
                progress.inc(1);
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.context("seeding task panicked")??;
    }
    progress.finish();
    println!("submitted {} entries to {}", args.count, args.url);
    Ok(())
}
