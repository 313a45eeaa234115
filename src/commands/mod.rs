//! The command line: one subcommand per file.

mod backup;
mod config;
mod export;
mod import;
mod keygen;
mod rebuild;
mod reindex;
mod restore;
mod search;
mod seed;
mod serve;
pub mod settings;
mod sign;
mod submit;
mod trace;
mod verify;

use anyhow::Context;
use clap::{Parser, Subcommand};
use ledger::checkpoint::LogVerifier;
use ledger_node::storage::sql::SqlStore;
use ledger_node::storage::LogStore;
use std::path::PathBuf;

/// How many moderators verify what (read-time: changing it changes no stored state).
#[derive(clap::Args)]
pub struct PolicyArgs {
    /// Distinct moderators whose `verified` verdicts verify an organisation.
    #[arg(long, env = "AIDLEDGER_QUORUM", default_value_t = 2,
          value_parser = clap::value_parser!(u32).range(1..))]
    quorum: u32,
    /// Distinct moderators whose `verify` verdicts verify a need or an offer on its own
    /// (a need of a verified organisation is verified anyway).
    #[arg(long, env = "AIDLEDGER_POST_QUORUM", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..))]
    post_quorum: u32,
}

impl From<&PolicyArgs> for moderation::queries::Policy {
    fn from(args: &PolicyArgs) -> Self {
        moderation::queries::Policy {
            quorum: args.quorum,
            post_quorum: args.post_quorum,
        }
    }
}

/// A stopped instance, for the commands that work on its database offline.
#[derive(clap::Args)]
pub struct StoppedInstance {
    /// Data directory of a stopped instance.
    #[arg(long, env = "AIDLEDGER_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
    #[command(flatten)]
    database: DatabaseArg,
}

/// Opens the database of a stopped instance (applying migrations) and returns it with
/// the size of its latest checkpoint, whose signature is checked with the log key.
async fn open_stopped(instance: &StoppedInstance) -> anyhow::Result<(SqlStore, u64)> {
    let StoppedInstance { data_dir, database } = instance;
    let db = data_dir.join(crate::data_dir::DATABASE_FILE);
    if database.database_url.is_none() && !db.exists() {
        anyhow::bail!("{} does not exist", db.display());
    }
    crate::data_dir::secure(data_dir)?;
    let signer = crate::keys::load_existing_log_key(data_dir)?;
    let store = crate::services::store::open(data_dir, database.database_url.as_deref()).await?;
    let stored = store
        .latest_checkpoint()
        .await?
        .context("the database holds no checkpoint")?;
    let size = LogVerifier::new(&signer.vkey())?
        .verify(stored.note.as_bytes())?
        .size;
    Ok((store, size))
}

/// Where an instance keeps its log and workflow tables.
#[derive(clap::Args)]
pub struct DatabaseArg {
    /// A PostgreSQL database (postgres://user@host:port/db), which several nodes may
    /// share; without it, SQLite in the data directory.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
}

#[derive(Parser)]
#[command(
    name = "aidledger",
    version,
    about = "A public, tamper-evident ledger for crowdsourced disaster aid"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run an instance: the log and its HTTP API, stored under a data directory.
    Serve(serve::Args),
    /// Print the settings `serve` would run with (file, environment and flags), as TOML.
    Config(config::Args),
    /// Create an author key file (mode 0600).
    Keygen(keygen::Args),
    /// Sign an entry: reads {"kind", "body"[, "created_at"]} JSON on stdin, writes the signed entry.
    Sign(sign::Args),
    /// Submit a signed entry read from stdin.
    Submit(submit::Args),
    /// Fill a running instance with realistic signed sample entries.
    Seed(seed::Args),
    /// Audit a log: from a server (--url) or offline from its database file (--db).
    Verify(verify::Args),
    /// Verify and print the chain of a need or pledge (need → pledges → shipments → deliveries).
    Trace(trace::Args),
    /// Rebuild the derived workflow tables of a stopped instance by replaying its log.
    Rebuild(rebuild::Args),
    /// Rebuild the search index of a stopped instance.
    Reindex(reindex::Args),
    /// Search needs, offers and organisations of a running instance.
    Search(search::Args),
    /// Download needs, offers, organisations or donation chains as CSV (with HXL hashtags) or JSON.
    Export(export::Args),
    /// Import a sheet (CSV or XLSX) of needs or offers, each row mapped to a signed entry by your key.
    Import(import::Args),
    /// Write a verified snapshot of a SQLite instance, while it serves (PostgreSQL: see docs/OPERATIONS.md).
    Backup(backup::Args),
    /// Lay a snapshot down as a new data directory, once it passes `verify --db`.
    Restore(restore::Args),
}

impl Cli {
    /// Whether this is `serve` with the log in SQLite inside this process (no database
    /// URL in its settings): `main` then schedules the log's integrator before the
    /// request handlers.
    pub fn serves_an_embedded_database(&self) -> bool {
        matches!(&self.command, Command::Serve(a) if serve::embedded_database(a))
    }

    pub async fn run(self) -> anyhow::Result<()> {
        // `serve` starts logging in the format its settings name.
        if !matches!(self.command, Command::Serve(_)) {
            crate::server::init_tracing(crate::server::LogFormat::Text);
        }
        match self.command {
            Command::Serve(a) => serve::run(a).await,
            Command::Config(a) => config::run(a),
            Command::Keygen(a) => keygen::run(a),
            Command::Sign(a) => sign::run(a),
            Command::Submit(a) => submit::run(a).await,
            Command::Seed(a) => seed::run(a).await,
            Command::Verify(a) => verify::run(a).await,
            Command::Trace(a) => trace::run(a).await,
            Command::Rebuild(a) => rebuild::run(a).await,
            Command::Reindex(a) => reindex::run(a).await,
            Command::Search(a) => search::run(a).await,
            Command::Export(a) => export::run(a).await,
            Command::Import(a) => import::run(a).await,
            Command::Backup(a) => backup::run(a).await,
            Command::Restore(a) => restore::run(a).await,
        }
    }
}
