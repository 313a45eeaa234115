//! `aidledger export`: download an export (needs, offers, organisations or donation
//! chains, as CSV with an HXL row or as JSON) from a running instance, written as it
//! arrives to stdout or a file.

use crate::client::LogClient;
use anyhow::Context;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// What to export.
    #[arg(value_parser = ["needs", "offers", "orgs", "chains"])]
    dataset: String,
    #[arg(long, default_value = "csv", value_parser = ["csv", "json"])]
    format: String,
    /// Base URL of the instance.
    #[arg(long, env = "AIDLEDGER_URL")]
    url: String,
    /// Write to this file instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
    /// open, met, withdrawn or expired (needs, offers, chains).
    #[arg(long)]
    status: Option<String>,
    /// An item category (needs, offers, chains: only its lines).
    #[arg(long)]
    category: Option<String>,
    /// A region code or a region's name.
    #[arg(long)]
    area: Option<String>,
    /// critical, high, medium or low (needs, chains).
    #[arg(long)]
    urgency: Option<String>,
    /// verified, pending or rejected.
    #[arg(long)]
    verified: Option<String>,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let mut url = reqwest::Url::parse("http://x/")?;
    url.set_path(&format!("/api/v1/export/{}.{}", args.dataset, args.format));
    for (name, value) in [
        ("status", &args.status),
        ("category", &args.category),
        ("area", &args.area),
        ("urgency", &args.urgency),
        ("verified", &args.verified),
    ] {
        if let Some(value) = value {
            url.query_pairs_mut().append_pair(name, value);
        }
    }
    let path = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    };
    let client = LogClient::new(&args.url);
    match &args.out {
        Some(file) => {
            let mut out = std::fs::File::create(file)
                .with_context(|| format!("creating {}", file.display()))?;
            client.download(&path, &mut out).await?;
            out.sync_all()?;
        }
        None => {
            let mut out = std::io::stdout().lock();
            client.download(&path, &mut out).await?;
            out.flush()?;
        }
    }
    Ok(())
}
