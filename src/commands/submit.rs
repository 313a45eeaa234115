use crate::client::LogClient;
use std::io::Read;

#[derive(clap::Args)]
pub struct Args {
    /// Base URL of the instance.
    #[arg(long, env = "AIDLEDGER_URL")]
    url: String,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let mut leaf = Vec::new();
    std::io::stdin().read_to_end(&mut leaf)?;
    // `sign` ends its output with a newline, which is not part of the entry.
    while leaf.last() == Some(&b'\n') {
        leaf.pop();
    }
    let (status, submitted) = LogClient::new(&args.url).submit(leaf).await?;
    let note = if status == 200 {
        " (already in the log)"
    } else {
        ""
    };
    println!(
        "{{\"leaf_hash\":\"{}\",\"index\":{},\"tree_size\":{}}}{note}",
        submitted.leaf_hash, submitted.index, submitted.tree_size
    );
    Ok(())
}
