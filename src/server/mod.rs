//! The HTTP server: configuration, start-up wiring, and the API routes.

mod admission;
pub mod auth;
pub mod client_addr;
pub mod connections;
mod error;
mod export_api;
mod extract;
mod feeds;
pub mod health;
mod intake;
pub mod limits;
mod log_api;
mod metrics;
mod openapi;
mod photos_api;
mod private_api;
mod request_id;
pub mod request_limits;
mod security_headers;
mod turns;
pub mod web;
mod webhooks_api;
mod workflow_api;

use crate::data_dir::{INDEX_DIR, PHOTOS_DIR};
use crate::keys;
use crate::photos::PhotoStore;
use crate::services::{bootstrap, retention, search_sync, store, webhooks};
use anyhow::Context;
use ledger::checkpoint::LogVerifier;
use ledger_node::cluster;
use ledger_node::reader::LogReader;
use ledger_node::sequencer::Sequencer;
use ledger_node::storage::sql::SqlStore;
pub use moderation::queries::Policy;
use moderation::WorkflowRules;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;
pub use web::BUNDLE_SOURCES;

/// Default origin line of checkpoints (and name of the log key).
pub const DEFAULT_ORIGIN: &str = "aidledger.localhost/log";

#[derive(Clone, Debug)]
pub struct Config {
    /// Holds the log key, the search index and, without `database_url`, the SQLite
    /// database.
    pub data_dir: PathBuf,
    /// A PostgreSQL database (`postgres://…`) that several nodes may share.
    pub database_url: Option<String>,
    pub listen: SocketAddr,
    pub origin: String,
    /// On a new log, create the operator key and make it the first administrator.
    pub bootstrap: bool,
    pub policy: Policy,
    pub limits: limits::Limits,
    pub photos: limits::PhotoLimits,
    pub connections: connections::ConnectionLimits,
    pub retention: retention::Retention,
    /// The time source of the log's clock and of the admission checks.
    pub clock: Arc<dyn ledger::clock::Clock>,
    /// How far in the future an entry's `created_at` may be.
    pub max_clock_skew: std::time::Duration,
    /// When `/readyz` answers 200.
    pub readiness: health::Readiness,
    pub webhooks: webhooks::Settings,
}

/// Default of `Config::max_clock_skew`.
pub const DEFAULT_MAX_CLOCK_SKEW: std::time::Duration = std::time::Duration::from_secs(300);

impl Config {
    /// An instance in `data_dir` listening on `listen`, with every other setting at
    /// its default.
    pub fn new(data_dir: PathBuf, listen: SocketAddr) -> Self {
        Config {
            data_dir,
            database_url: None,
            listen,
            origin: DEFAULT_ORIGIN.to_owned(),
            bootstrap: true,
            policy: Policy::default(),
            limits: limits::Limits::default(),
            photos: limits::PhotoLimits::default(),
            connections: connections::ConnectionLimits::default(),
            retention: retention::Retention::default(),
            clock: Arc::new(ledger::clock::SystemClock),
            max_clock_skew: DEFAULT_MAX_CLOCK_SKEW,
            readiness: health::Readiness::default(),
            webhooks: webhooks::Settings::default(),
        }
    }
}

/// A started server.
pub struct Running {
    pub url: String,
    pub origin: String,
    pub vkey: String,
    pub serve: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Shared state of every handler, in one allocation: axum clones it for every request
/// that extracts it, and a clone of the fields themselves (two strings, a watch
/// receiver, a dozen reference counts) showed in profiles of the request handlers.
#[derive(Clone)]
pub(crate) struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub(crate) struct Shared {
    pub reader: LogReader<SqlStore>,
    pub store: Arc<SqlStore>,
    pub policy: Policy,
    pub limiter: limits::WriteLimiter,
    pub search: Arc<indexer::SearchIndex>,
    pub sequencer: Sequencer,
    pub origin: String,
    pub vkey: String,
    pub body_timeout: std::time::Duration,
    pub admission: admission::Admission,
    /// Turns for searches running at once (`workflow_api::search`).
    pub searches: turns::Turns,
    /// Turns for totals computed at once (`workflow_api::stats`): at a million
    /// entries one takes seconds of a pooled connection.
    pub totals: turns::Turns,
    pub photos: Arc<PhotoStore>,
    pub metrics: Arc<metrics::Metrics>,
    pub readiness: health::Readiness,
    pub webhooks: webhooks::Settings,
}

/// Opens (or creates) the instance in `config.data_dir`, starts sequencing and serves
/// HTTP until `shutdown` resolves.
pub async fn start(
    config: Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<Running> {
    store::check_database_url(config.database_url.as_deref())?;
    crate::data_dir::secure(&config.data_dir)?;
    let signer = keys::load_or_create_log_key(&config.data_dir, &config.origin)?;
    let (origin, vkey) = (signer.origin().to_owned(), signer.vkey());
    let store = Arc::new(store::open(&config.data_dir, config.database_url.as_deref()).await?);
    // A database URL is PostgreSQL (`open_store` refuses others), shared by any number
    // of nodes; without one, this process is the log's only node.
    let log_key = signer.public_key();
    let rules = WorkflowRules::new(LogVerifier::new(&vkey)?);
    let clock = config.clock.clone();
    let (sequencer, heads) = match &config.database_url {
        Some(url) => cluster::start_node(store.clone(), url, signer, rules, clock).await?,
        None => Sequencer::start_with_clock(store.clone(), signer, rules, clock).await?,
    };
    if config.bootstrap && heads.borrow().size == 0 {
        bootstrap::create_operator(&config.data_dir, &sequencer).await?;
    }
    let retention_task = retention::spawn(
        config.data_dir.clone(),
        sequencer.clone(),
        store.clone(),
        config.retention,
    );
    let search = Arc::new(indexer::SearchIndex::open_or_create(
        config.data_dir.join(INDEX_DIR),
    )?);
    let search_task = search_sync::spawn(
        search.clone(),
        LogReader::new(store.clone(), heads.clone()),
        heads.clone(),
        store.pool().clone(),
        config.policy,
    );
    let webhooks_task = webhooks::dispatch::spawn(
        store.pool().clone(),
        LogReader::new(store.clone(), heads.clone()),
        heads.clone(),
        config.policy,
        config.webhooks,
    )?;
    let photos = PhotoStore::open(config.data_dir.join(PHOTOS_DIR), config.photos.store_bytes)
        .context("opening the photo store")?;
    let (node, stopping_store) = (sequencer.clone(), store.clone());
    let metrics = Arc::new(metrics::Metrics::new(sequencer.batch_metrics()));
    let pool_connections = store.pool().options().get_max_connections() as usize;
    let state = AppState(Arc::new(Shared {
        reader: LogReader::new(store.clone(), heads),
        store,
        policy: config.policy,
        limiter: limits::WriteLimiter::new(config.limits, config.photos),
        search,
        sequencer,
        origin: origin.clone(),
        vkey: vkey.clone(),
        body_timeout: config.connections.body_timeout,
        // Two searches a core, so that one waiting on its stored documents does not
        // leave a core idle.
        searches: turns::Turns::new(turns::per_core(2), indexer::SEARCH_DEADLINE, "searches"),
        // One totals a core, and never more than a quarter of the pool's connections,
        // each of which one holds for its whole run.
        totals: turns::Turns::new(
            turns::per_core(1).min(pool_connections / 4).max(1),
            TOTALS_WAIT,
            "totals",
        ),
        photos: Arc::new(photos),
        metrics,
        readiness: config.readiness,
        webhooks: config.webhooks,
        admission: admission::Admission {
            clock: config.clock.clone(),
            max_skew: config.max_clock_skew,
            log_key,
        },
    }));

    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let url = format!("http://{}", listener.local_addr()?);
    let serve = tokio::spawn(async move {
        let served = connections::serve(listener, app(state), config.connections, shutdown).await;
        // The background tasks hold the sequencer and the index writer: end them so
        // that stopping the server releases the data directory.
        for task in [retention_task, search_task, webhooks_task] {
            task.abort();
            let _ = task.await;
        }
        node.stop();
        if let Err(error) = stopping_store.ready_for_next_start().await {
            tracing::warn!(%error, "readying the database for the next start");
        }
        served
    });
    tracing::info!(%url, %origin, "serving");
    Ok(Running {
        url,
        origin,
        vkey,
        serve,
    })
}

/// How long a request for totals waits for its turn before it is answered 503: a few
/// computations of a million-entry log's totals.
const TOTALS_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// The API and, beside it, the web app that renders its pages from the API; answers
/// are gzipped for clients that ask (the bundle is stored gzipped already). Every
/// request gets an id and a span, passes the head limits before routing, is counted by
/// its route, every refusal is JSON, and every answer gets the security headers.
fn app(state: AppState) -> axum::Router {
    let metrics = state.metrics.clone();
    let api = axum::Router::new()
        .merge(log_api::routes())
        .merge(workflow_api::routes())
        .merge(feeds::routes())
        .merge(private_api::routes())
        .merge(photos_api::routes())
        .merge(export_api::routes())
        .merge(health::routes())
        .merge(metrics::routes())
        .merge(webhooks_api::routes())
        .merge(openapi::routes())
        .method_not_allowed_fallback(|| async { error::ApiError::MethodNotAllowed })
        // Bodies are read with our own limit so that an oversized one gets our error.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(state);
    api.clone()
        .merge(web::router(api))
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            metrics::track,
        ))
        .layer(axum::middleware::from_fn(error::json_refusals))
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(axum::middleware::from_fn(request_limits::check))
        .layer(axum::middleware::from_fn(security_headers::add))
        .layer(axum::middleware::from_fn(request_id::assign))
}

/// How log lines are written.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One line of text an event.
    #[default]
    Text,
    /// One JSON object a line, with the request's span (id, method, route).
    Json,
}

/// Logs to stderr in `format`; `RUST_LOG` overrides the default level (info). Colours
/// only when stderr is a terminal, so a log file holds no escape codes.
pub fn init_tracing(format: LogFormat) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
}
