use crate::keys;
use anyhow::Context;
use ledger::entry::{parse_timestamp, UnsignedEntry};
use ledger::Kind;
use serde::Deserialize;
use std::io::{Read, Write};
use std::path::PathBuf;
use time::OffsetDateTime;

#[derive(clap::Args)]
pub struct Args {
    /// Author key file written by `aidledger keygen`.
    #[arg(long)]
    key: PathBuf,
}

/// What the signer reads: the author's words; the envelope is filled in.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Draft {
    kind: String,
    body: serde_json::Value,
    created_at: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let key = keys::read_author_key(&args.key)?;
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input)?;
    let draft: Draft = serde_json::from_str(&input)
        .context("stdin must be JSON {\"kind\", \"body\"[, \"created_at\"]}")?;
    let kind: Kind = draft.kind.parse()?;
    let created_at = match draft.created_at {
        Some(t) => parse_timestamp(&t)?,
        None => OffsetDateTime::now_utc(),
    };
    let signed =
        UnsignedEntry::new(kind, &key.verifying_key(), created_at, draft.body).sign(&key)?;
    let mut out = std::io::stdout().lock();
    out.write_all(signed.leaf())?;
    out.write_all(b"\n")?;
    Ok(())
}
