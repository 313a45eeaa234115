//! `aidledger trace`: fetch the chain of a need or pledge and verify every link —
//! its signature, its inclusion in one signed checkpoint, and that it refers to the
//! link before it — then print the chain.

use crate::client::LogClient;
use anyhow::{bail, Context};
use base64::prelude::*;
use ledger::body::Body;
use ledger::checkpoint::LogVerifier;
use ledger::entry::VerifiedEntry;
use ledger::{hex32, tree};
use serde::Deserialize;

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

#[derive(Deserialize)]
struct Trace {
    checkpoint: String,
    links: Vec<Link>,
}

#[derive(Deserialize)]
struct Link {
    index: u64,
    leaf_hash: String,
    leaf: String,
    proof: Vec<String>,
}

/// The entry a link's body says it continues, if any.
fn parent_of(body: &Body) -> Option<&str> {
    match body {
        Body::Pledge(b) => Some(&b.need),
        Body::Shipment(b) => Some(&b.pledge),
        Body::DeliveryConfirm(b) => Some(&b.shipment),
        Body::Verdict(b) => Some(&b.entry),
        _ => None,
    }
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
    let checkpoint = LogVerifier::new(&vkey)?
        .verify(trace.checkpoint.as_bytes())
        .context("the trace's checkpoint")?;
    let mut verified: Vec<String> = Vec::new();
    for link in &trace.links {
        let leaf = BASE64_STANDARD
            .decode(&link.leaf)
            .context("a link's leaf is not base64")?;
        let entry =
            VerifiedEntry::from_leaf(&leaf).with_context(|| format!("entry {}", link.index))?;
        let leaf_hash = entry.leaf_hash();
        if hex32::encode(&leaf_hash) != link.leaf_hash {
            bail!(
                "entry {}: the leaf does not hash to the link's leaf hash",
                link.index
            );
        }
        let proof = link
            .proof
            .iter()
            .map(|h| hex32::decode(h).context("malformed proof hash"))
            .collect::<anyhow::Result<Vec<_>>>()?;
        tree::verify_inclusion(
            &proof,
            link.index,
            checkpoint.size,
            leaf_hash,
            checkpoint.root,
        )
        .with_context(|| format!("entry {} is not proved to be in the checkpoint", link.index))?;
        if let Some(parent) = parent_of(entry.body()) {
            if !verified.iter().any(|v| v == parent) {
                bail!(
                    "entry {} refers to {parent}, which is not an earlier link of the chain",
                    link.index
                );
            }
        }
        println!(
            "✓ #{:<8} {:<17} {}  {}",
            link.index,
            entry.kind().name(),
            &link.leaf_hash[..16],
            describe(entry.body())
        );
        verified.push(link.leaf_hash.clone());
    }
    if trace.links.is_empty() {
        bail!("the server returned an empty chain");
    }
    println!(
        "OK: {} links, each signed by its author and included in the checkpoint of size {}",
        trace.links.len(),
        checkpoint.size
    );
    Ok(())
}
