use crate::client::LogClient;
use std::io::Read;

#[derive(clap::Args)]
pub struct Args {
    /// Base URL of the instance. Reads a signed entry, or a submission with private
    /// data as written by `sign --contact`.
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
    let client = LogClient::new(&args.url);
    // `sign --contact` writes a submission {"entry", "private"}; a bare entry has "v".
    let submission: Option<serde_json::Value> = serde_json::from_slice(&leaf)
        .ok()
        .filter(|v: &serde_json::Value| v.get("entry").is_some());
    let (status, submitted) = match submission {
        Some(s) => {
            let entry = s["entry"].as_str().unwrap_or_default().as_bytes().to_vec();
            client.submit_private(&entry, &s["private"]).await?
        }
        None => client.submit(leaf).await?,
    };
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
