//! `aidledger trace`: fetch the chain of a need or pledge and verify every link —
//! its signature, its inclusion in one signed checkpoint, and that it refers to the
//! link before it — then print the chain.

use crate::client::LogClient;
use anyhow::Context;
use contract::Trace;
use ledger::body::Body;
use ledger::chain;
use ledger::checkpoint::LogVerifier;
use ledger::hex32;

#[derive(clap::Args)]
pub struct Args {
    /// Leaf hash of a need or a pledge.
    hash: String,
    /// Base URL of the instance.
    #[arg(long, env = "AIDLEDGER_URL")]
    url: String,
    /// The log's verifier key to trust (default: the server's).
    #[arg(long)]
    vkey: Option<String>,
}

fn describe(body: &Body) -> String {
    let lines = |items: &[ledger::body::LineQuantity]| {
        items
            .iter()
            .map(|l| format!("line {}: {}", l.line, l.quantity))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match body {
        Body::NeedPost(b) => b
            .items
            .iter()
            .map(|i| format!("{} × {}", i.quantity, i.item))
            .collect::<Vec<_>>()
            .join(", "),
        Body::Pledge(b) => lines(&b.items),
        Body::Shipment(b) => format!("{} via {}", lines(&b.items), b.carrier),
        Body::DeliveryConfirm(b) => format!("{} received ({:?})", lines(&b.items), b.condition),
        Body::Verdict(b) => format!("{:?}: {}", b.verdict, b.reason),
        _ => String::new(),
    }
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    hex32::decode(&args.hash).context("HASH must be 64 lowercase hex digits")?;
    let client = LogClient::new(&args.url);
    let vkey = match args.vkey {
        Some(v) => v,
        None => client.key().await?.vkey,
    };
    let trace: Trace = client.get(&format!("/api/v1/trace/{}", args.hash)).await?;
    let chain = chain::verify(&trace, &LogVerifier::new(&vkey)?)?;
    for ((index, entry), link) in chain.entries.iter().zip(&trace.links) {
        println!(
            "✓ #{:<8} {:<17} {}  {}",
            index,
            entry.kind().name(),
            &link.leaf_hash[..16],
            describe(entry.body())
        );
    }
    println!(
        "OK: {} links, each signed by its author and included in the checkpoint of size {}",
        chain.entries.len(),
        chain.checkpoint.size
    );
    Ok(())
}
