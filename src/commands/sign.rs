use crate::keys;
use anyhow::Context;
use ledger::entry::{parse_timestamp, UnsignedEntry};
use ledger::Kind;
use moderation::private::{self, Contact, Sidecar};
use serde::Deserialize;
use std::io::{Read, Write};
use std::path::PathBuf;
use time::OffsetDateTime;

#[derive(clap::Args)]
pub struct Args {
    /// Author key file written by `aidledger keygen`.
    #[arg(long)]
    key: PathBuf,
    /// Private contact data (JSON {"name", "phone", "email", "address"}, any of them)
    /// to commit to in the body's `contact`; the output is then a submission carrying
    /// the entry and the data, for `aidledger submit`.
    #[arg(long)]
    contact: Option<PathBuf>,
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
    let mut body = draft.body;
    let sidecar = match &args.contact {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let contact: Contact = serde_json::from_str(&text).with_context(|| {
                format!(
                    "{} must be JSON with name, phone, email or address",
                    path.display()
                )
            })?;
            let salt: [u8; 32] = rand::random();
            body["contact"] = serde_json::json!(private::commitment(&salt, &contact));
            Some(Sidecar {
                salt: hex::encode(salt),
                contact,
            })
        }
        None => None,
    };
    let signed = UnsignedEntry::new(kind, &key.verifying_key(), created_at, body).sign(&key)?;
    let mut out = std::io::stdout().lock();
    match sidecar {
        Some(sidecar) => {
            sidecar.check(signed.body().contact_commitment())?;
            let submission = serde_json::json!({
                "entry": String::from_utf8_lossy(signed.leaf()),
                "private": sidecar,
            });
            serde_json::to_writer(&mut out, &submission)?;
        }
        None => out.write_all(signed.leaf())?,
    }
    out.write_all(b"\n")?;
    Ok(())
}
