//! Prometheus metrics at `/metrics`, in the text format. Each server has its own
//! registry (no process-global recorder), so several servers in one process, as in the
//! tests, keep their own counts. Per-route series are labelled with the route's
//! template (`/api/v1/entries/{index}`), never the requested path, so their number is
//! bounded by the routes. Gauges that mirror state (tree size, index lag) are read at
//! scrape time rather than kept up to date.

use super::error::Refused;
use super::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::Instant;

/// The label of requests no route matched (pages of the web app's fallback, 404s).
const UNMATCHED: &str = "unmatched";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Answered {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Route {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorClass {
    class: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Limit {
    limit: &'static str,
}

type Latencies = Family<Route, Histogram, fn() -> Histogram>;

/// Seconds, 1 ms to about 33 s.
fn seconds() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// One server's metrics.
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<Answered, Counter>,
    latencies: Latencies,
    errors: Family<ErrorClass, Counter>,
    rate_limited: Family<Limit, Counter>,
    /// Submissions handed to the sequencer and not yet answered.
    pub submissions_waiting: Gauge,
    /// Seconds from handing a new entry to the sequencer until a checkpoint this
    /// node serves covers it.
    pub submission_to_checkpoint: Histogram,
    tree_size: Gauge,
    index_lag: Gauge,
}

impl Metrics {
    /// A registry holding the server's series and the integrator's `batches`.
    pub fn new(batches: &ledger_node::metrics::BatchMetrics) -> Metrics {
        let mut registry = Registry::with_prefix("aidledger");
        let requests = Family::<Answered, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template, method and status",
            requests.clone(),
        );
        let latencies = Latencies::new_with_constructor(seconds);
        registry.register(
            "http_request_duration_seconds",
            "Seconds from a request reaching its route to its answer's head",
            latencies.clone(),
        );
        let errors = Family::<ErrorClass, Counter>::default();
        registry.register(
            "errors",
            "Refusals and failures answered, by class",
            errors.clone(),
        );
        let rate_limited = Family::<Limit, Counter>::default();
        registry.register(
            "rate_limit_refusals",
            "Requests refused by a write limit, by limit",
            rate_limited.clone(),
        );
        let submissions_waiting = Gauge::default();
        registry.register(
            "submissions_waiting",
            "Submissions handed to the sequencer and not yet answered",
            submissions_waiting.clone(),
        );
        let submission_to_checkpoint = seconds();
        registry.register(
            "submission_to_checkpoint_seconds",
            "Seconds from handing a new entry to the sequencer until a served checkpoint covers it",
            submission_to_checkpoint.clone(),
        );
        let tree_size = Gauge::default();
        registry.register(
            "tree_size",
            "Entries in the log, as of the checkpoint this node serves",
            tree_size.clone(),
        );
        let index_lag = Gauge::default();
        registry.register(
            "search_index_lag_entries",
            "Entries of the served log the search index does not cover yet",
            index_lag.clone(),
        );
        batches.register(&mut registry);
        Metrics {
            registry,
            requests,
            latencies,
            errors,
            rate_limited,
            submissions_waiting,
            submission_to_checkpoint,
            tree_size,
            index_lag,
        }
    }

    fn answered(&self, method: String, route: String, status: StatusCode, started: Instant) {
        self.latencies
            .get_or_create(&Route {
                method: method.clone(),
                route: route.clone(),
            })
            .observe(started.elapsed().as_secs_f64());
        self.requests
            .get_or_create(&Answered {
                method,
                route,
                status: status.as_u16(),
            })
            .inc();
    }
}

pub(crate) fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/metrics", axum::routing::get(render))
}

/// Entries of a log of `size` the search index does not cover, given the last index
/// it covers.
pub(crate) fn index_lag(size: u64, covered_through: Option<u64>) -> u64 {
    size.saturating_sub(covered_through.map_or(0, |c| c + 1))
}

/// Counts and times each request by its route template, and counts refusals by class.
pub(crate) async fn track(
    State(metrics): State<Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, MatchedPath::as_str)
        .to_owned();
    tracing::Span::current().record("route", route.as_str());
    let response = next.run(request).await;
    let status = response.status();
    if status.is_client_error() || status.is_server_error() {
        let refused = response.extensions().get::<Refused>();
        let class = refused.map_or_else(|| status_class(status), |r| r.class);
        metrics.errors.get_or_create(&ErrorClass { class }).inc();
        if let Some(limit) = refused.and_then(|r| r.rate_limit) {
            metrics.rate_limited.get_or_create(&Limit { limit }).inc();
        }
    }
    // An access log for who asks for one (`RUST_LOG=aidledger=debug`), in the request's span.
    tracing::debug!(status = status.as_u16(), "answered");
    metrics.answered(method, route, status, started);
    response
}

/// The class of a refusal our handlers did not make (axum's extractors, the router).
fn status_class(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    }
}

/// `GET /metrics`: every series of this server in the Prometheus text format.
async fn render(State(state): State<AppState>) -> Response {
    let size = state.reader.head().size;
    state.metrics.tree_size.set(size as i64);
    match state.search.covered_through() {
        Ok(covered) => {
            state.metrics.index_lag.set(index_lag(size, covered) as i64);
        }
        Err(error) => tracing::warn!(%error, "reading the search index's position"),
    }
    let mut text = String::new();
    if prometheus_client::encoding::text::encode(&mut text, &state.metrics.registry).is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}
