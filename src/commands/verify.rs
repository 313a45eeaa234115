//! `aidledger verify`: a full audit, from a server or offline from a database file.
//!
//! Both modes replay every entry through the same validity rule as the server
//! (`VerifiedEntry::from_leaf`), rebuild the tree, and check every checkpoint they
//! know of against the rebuilt roots. A checkpoint saved earlier (`--checkpoint`) must
//! be a prefix of today's log: that is what catches a rewritten or truncated history.
//! The log's clock is checked too: every `log.clock` entry is signed by the log's key
//! (the one that signs checkpoints) and none is earlier than the one before it.

use crate::client::LogClient;
use crate::keys::LOG_KEY_FILE;
use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use ledger::audit::{verify_leaves, Auditor};
use ledger::checkpoint::{Checkpoint, LogSigner, LogVerifier};
use ledger::tree;
use ledger_node::storage::LogStore;
use std::path::{Path, PathBuf};

const PAGE: u64 = 1000;

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["url", "db"])))]
pub struct Args {
    /// Audit the instance at this base URL.
    #[arg(long, env = "AIDLEDGER_URL")]
    url: Option<String>,
    /// Audit a database offline: a SQLite file, or a PostgreSQL database
    /// (postgres://…, read in read-only transactions; needs --vkey).
    #[arg(long)]
    db: Option<String>,
    /// The log's verifier key to trust. Default: the server's (--url) or the one in the
    /// SQLite file's data directory (--db).
    #[arg(long)]
    vkey: Option<String>,
    /// A checkpoint saved earlier, which the log must still extend.
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    /// Save the verified latest checkpoint here (for the next --checkpoint).
    #[arg(long)]
    save: Option<PathBuf>,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let (latest_note, size) = match (&args.url, &args.db) {
        (Some(url), _) => verify_server(url, &args).await?,
        (None, Some(db)) => verify_database(db, &args).await?,
        (None, None) => unreachable!("clap requires one source"),
    };
    if let Some(path) = &args.save {
        std::fs::write(path, &latest_note).with_context(|| format!("saving {}", path.display()))?;
    }
    println!("OK: {size} entries verified; every signature, leaf hash, tree hash and checkpoint is consistent, and the log's clock never runs backwards");
    Ok(())
}

fn saved_checkpoint(args: &Args, verifier: &LogVerifier) -> anyhow::Result<Option<Checkpoint>> {
    let Some(path) = &args.checkpoint else {
        return Ok(None);
    };
    let note = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let checkpoint = verifier.verify(&note).with_context(|| {
        format!(
            "the saved checkpoint {} is not valid for this log",
            path.display()
        )
    })?;
    Ok(Some(checkpoint))
}

fn progress(total: u64) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} entries ({per_sec}, eta {eta})")
            .expect("valid template"),
    );
    bar
}

/// Checkpoints to compare against the replayed tree when it reaches their size.
struct Expectations(Vec<Checkpoint>);

impl Expectations {
    fn new(mut checkpoints: Vec<Checkpoint>) -> Self {
        checkpoints.sort_by_key(|c| std::cmp::Reverse(c.size));
        Expectations(checkpoints)
    }

    fn check(&mut self, auditor: &Auditor) -> anyhow::Result<()> {
        while let Some(c) = self.0.last().filter(|c| c.size == auditor.size()) {
            auditor.check_root(c.root).with_context(|| {
                format!("checkpoint of size {} does not match the entries", c.size)
            })?;
            self.0.pop();
        }
        Ok(())
    }
}

async fn verify_server(url: &str, args: &Args) -> anyhow::Result<(String, u64)> {
    let client = LogClient::new(url);
    let vkey = match &args.vkey {
        Some(v) => v.clone(),
        None => {
            let key = client.key().await?;
            eprintln!(
                "note: trusting the server's verifier key {} (pin it with --vkey)",
                key.vkey
            );
            key.vkey
        }
    };
    let verifier = LogVerifier::new(&vkey)?;
    let note = client.checkpoint().await?;
    let latest = verifier
        .verify(note.as_bytes())
        .context("the server's checkpoint")?;
    let saved = saved_checkpoint(args, &verifier)?;
    if let Some(old) = &saved {
        if old.size > latest.size {
            bail!(
                "the log shrank: saved checkpoint has {} entries, the latest {}",
                old.size,
                latest.size
            );
        }
        if old.size > 0 {
            let proof = client.consistency_proof(old.size, latest.size).await?;
            tree::verify_consistency(&proof, old.size, old.root, latest.size, latest.root)
                .context(
                    "the server's consistency proof from the saved checkpoint does not verify",
                )?;
        }
    }

    let mut auditor = Auditor::default();
    let mut expect = Expectations::new(saved.into_iter().chain([latest.clone()]).collect());
    expect.check(&auditor)?;
    let bar = progress(latest.size);
    while auditor.size() < latest.size {
        let page = client
            .entries(auditor.size(), PAGE.min(latest.size - auditor.size()))
            .await?;
        if page.is_empty() {
            bail!(
                "the server stopped serving entries at {} of {}",
                auditor.size(),
                latest.size
            );
        }
        let leaves: Vec<&[u8]> = page.iter().map(|e| e.leaf.as_slice()).collect();
        let computed = verify_leaves(page[0].index, &leaves, verifier.public_key())?;
        for (entry, hash) in page.iter().zip(computed) {
            auditor.append(entry.index, hash, Some(entry.leaf_hash))?;
            expect.check(&auditor)?;
        }
        bar.set_position(auditor.size());
    }
    bar.finish_and_clear();
    spot_check_inclusion(&client, &latest).await?;
    Ok((note, latest.size))
}

/// Checks the server's inclusion proofs for the first and last entries.
async fn spot_check_inclusion(client: &LogClient, latest: &Checkpoint) -> anyhow::Result<()> {
    for index in [0, latest.size.saturating_sub(1)] {
        if index >= latest.size {
            continue;
        }
        let entry = client
            .entries(index, 1)
            .await?
            .pop()
            .context("entry vanished")?;
        let (at, proof) = client
            .inclusion_proof(&entry.leaf_hash, latest.size)
            .await?;
        tree::verify_inclusion(&proof, at, latest.size, entry.leaf_hash, latest.root)
            .with_context(|| {
                format!("the server's inclusion proof for entry {index} does not verify")
            })?;
    }
    Ok(())
}

fn local_vkey(db: &Path, args: &Args) -> anyhow::Result<String> {
    if let Some(v) = &args.vkey {
        return Ok(v.clone());
    }
    let key_path = db.parent().unwrap_or(Path::new(".")).join(LOG_KEY_FILE);
    let skey = std::fs::read_to_string(&key_path)
        .with_context(|| format!("no --vkey given and {} is unreadable", key_path.display()))?;
    Ok(LogSigner::from_skey(&skey)?.vkey())
}

/// The offline audit of `verify --db` on a SQLite file, trusting `vkey` if given, else
/// the log key beside the file; returns the latest checkpoint's note and size. What
/// `backup` checks a snapshot with before keeping it and `restore` before laying it down.
pub(super) async fn audit_sqlite_file(
    db: &Path,
    vkey: Option<String>,
) -> anyhow::Result<(String, u64)> {
    let db = db
        .to_str()
        .with_context(|| format!("{} is not a UTF-8 path", db.display()))?;
    let args = Args {
        url: None,
        db: Some(db.to_owned()),
        vkey,
        checkpoint: None,
        save: None,
    };
    verify_database(db, &args).await
}

async fn verify_database(db: &str, args: &Args) -> anyhow::Result<(String, u64)> {
    let (store, vkey) = if crate::services::store::is_postgres_url(db) {
        let vkey = args.vkey.clone().context(
            "--db postgres://… needs --vkey: there is no data directory to read the log key from",
        )?;
        (
            ledger_node::storage::postgres::open_read_only(db).await?,
            vkey,
        )
    } else {
        let db = Path::new(db);
        if !db.exists() {
            bail!("{} does not exist", db.display());
        }
        let vkey = local_vkey(db, args)?;
        (
            ledger_node::storage::sqlite::open_read_only(db).await?,
            vkey,
        )
    };
    let verifier = LogVerifier::new(&vkey)?;
    let stored = store.checkpoints().await?;
    let mut checkpoints = Vec::with_capacity(stored.len());
    for c in &stored {
        let checkpoint = verifier
            .verify(c.note.as_bytes())
            .with_context(|| format!("stored checkpoint of size {}", c.tree_size))?;
        if checkpoint.size != c.tree_size {
            bail!(
                "the checkpoint stored under size {} is signed for size {}",
                c.tree_size,
                checkpoint.size
            );
        }
        checkpoints.push(checkpoint);
    }
    let latest_stored = stored.last().context("the database holds no checkpoint")?;
    let latest = checkpoints
        .last()
        .cloned()
        .expect("as many checkpoints as stored");
    if let Some(saved) = saved_checkpoint(args, &verifier)? {
        if saved.size > latest.size {
            bail!(
                "the log was truncated: the saved checkpoint has {} entries, the database {}",
                saved.size,
                latest.size
            );
        }
        checkpoints.push(saved);
    }

    let mut auditor = Auditor::default();
    let mut expect = Expectations::new(checkpoints);
    expect.check(&auditor)?;
    let bar = progress(latest.size);
    let mut next_position = 0u64;
    loop {
        let page = store.read_entries(auditor.size(), PAGE).await?;
        let Some(first) = page.first() else { break };
        let leaves: Vec<&[u8]> = page.iter().map(|e| e.leaf.as_slice()).collect();
        let computed = verify_leaves(first.index, &leaves, verifier.public_key())?;
        let mut expected_hashes = Vec::new();
        for (entry, hash) in page.iter().zip(computed) {
            if entry.index == auditor.size() && entry.index >= latest.size {
                bail!(
                    "entry {} is beyond the latest checkpoint (size {}): entries were added outside the log",
                    entry.index,
                    latest.size
                );
            }
            expected_hashes.extend(auditor.append(entry.index, hash, Some(entry.leaf_hash))?);
            expect.check(&auditor)?;
        }
        let stored_hashes = store
            .read_hash_range(next_position, expected_hashes.len() as u64)
            .await?;
        for (offset, expected) in expected_hashes.iter().enumerate() {
            let position = next_position + offset as u64;
            match stored_hashes.get(offset) {
                Some((p, h)) if *p == position && h == expected => {}
                Some((p, _)) if *p == position => {
                    bail!("tree hash {position} differs from the one the entries give")
                }
                _ => bail!("tree hash {position} is missing"),
            }
        }
        next_position += expected_hashes.len() as u64;
        bar.set_position(auditor.size());
    }
    bar.finish_and_clear();
    if auditor.size() != latest.size {
        bail!("the database holds {} entries but its latest checkpoint covers {}: entries were deleted", auditor.size(), latest.size);
    }
    if !store.read_hash_range(next_position, 1).await?.is_empty() {
        bail!("the database holds tree hashes beyond position {next_position}, which no entry accounts for");
    }
    if let Some(c) = expect.0.last() {
        bail!(
            "checkpoint of size {} was never reached by the entries",
            c.size
        );
    }
    Ok((latest_stored.note.clone(), latest.size))
}
