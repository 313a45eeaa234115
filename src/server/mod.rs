//! The HTTP server: configuration, start-up wiring, and the API routes.

mod api;
mod error;

use crate::keys;
use anyhow::Context;
use ledger::reader::LogReader;
use ledger::sequencer::Sequencer;
use ledger::storage::sqlite::SqliteStore;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Name of the SQLite database file inside a data directory.
pub const DATABASE_FILE: &str = "aidledger.db";

/// Default origin line of checkpoints (and name of the log key).
pub const DEFAULT_ORIGIN: &str = "aidledger.localhost/log";

#[derive(Clone, Debug)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub origin: String,
}

/// A started server.
pub struct Running {
    pub url: String,
    pub origin: String,
    pub vkey: String,
    pub serve: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Shared state of every handler.
#[derive(Clone)]
pub(crate) struct AppState {
    pub reader: LogReader<SqliteStore>,
    pub sequencer: Sequencer,
    pub origin: String,
    pub vkey: String,
}

/// Opens (or creates) the instance in `config.data_dir`, starts sequencing and serves
/// HTTP until `shutdown` resolves.
pub async fn start(
    config: Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<Running> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    let signer = keys::load_or_create_log_key(&config.data_dir, &config.origin)?;
    let (origin, vkey) = (signer.origin().to_owned(), signer.vkey());
    let store = Arc::new(SqliteStore::open(&config.data_dir.join(DATABASE_FILE)).await?);
    let (sequencer, heads) = Sequencer::start(store.clone(), signer).await?;
    let state = AppState {
        reader: LogReader::new(store, heads),
        sequencer,
        origin: origin.clone(),
        vkey: vkey.clone(),
    };

    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let url = format!("http://{}", listener.local_addr()?);
    let serve = tokio::spawn(async move {
        axum::serve(listener, api::router(state))
            .with_graceful_shutdown(shutdown)
            .await
    });
    tracing::info!(%url, %origin, "serving");
    Ok(Running {
        url,
        origin,
        vkey,
        serve,
    })
}

/// Logs to stderr; `RUST_LOG` overrides the default level (info).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
