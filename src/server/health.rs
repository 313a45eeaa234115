//! What a load balancer or an orchestrator asks: `/healthz` (the process answers) and
//! `/readyz` (this node can serve: its database answers, the log head stored there is
//! signed by the log's key and not behind what it serves, and its search index is
//! within `Readiness::max_index_lag` entries of the log).

use super::metrics::index_lag;
use super::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use ledger::checkpoint::LogVerifier;
use ledger_node::storage::LogStore;
use serde::Serialize;
use std::time::Duration;

/// How long `/readyz` waits for the database before calling it unreachable.
const DATABASE_DEADLINE: Duration = Duration::from_secs(2);

/// When this node counts as ready.
#[derive(Clone, Copy, Debug)]
pub struct Readiness {
    /// Entries the search index may be behind the served log.
    pub max_index_lag: u64,
}

impl Default for Readiness {
    fn default() -> Self {
        Readiness {
            max_index_lag: 1000,
        }
    }
}

pub(crate) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// The answer of `/healthz`.
#[derive(Serialize, schemars::JsonSchema)]
pub(super) struct Up {
    status: &'static str,
}

/// `GET /healthz`: 200 while the process runs.
async fn healthz() -> Json<Up> {
    Json(Up { status: "up" })
}

/// One check of `/readyz`: what it looked at and what it found.
#[derive(Serialize, schemars::JsonSchema)]
pub(super) struct Check {
    name: &'static str,
    ok: bool,
    detail: String,
}

/// `/readyz` when every check passed.
#[derive(Serialize, schemars::JsonSchema)]
pub(super) struct Ready {
    status: &'static str,
    checks: Vec<Check>,
}

/// `/readyz` when a check failed: the failures in words, and every check.
#[derive(Serialize, schemars::JsonSchema)]
pub(super) struct NotReady {
    error: String,
    checks: Vec<Check>,
}

/// `GET /readyz`: 200 with each check, or 503 naming the checks that failed.
async fn readyz(State(state): State<AppState>) -> Response {
    let checks = checks(&state).await;
    let failed: Vec<String> = checks
        .iter()
        .filter(|c| !c.ok)
        .map(|c| format!("{}: {}", c.name, c.detail))
        .collect();
    if failed.is_empty() {
        Json(Ready {
            status: "ready",
            checks,
        })
        .into_response()
    } else {
        let error = format!("not ready: {}", failed.join("; "));
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(NotReady { error, checks }),
        )
            .into_response()
    }
}

async fn checks(state: &AppState) -> Vec<Check> {
    let served = state.reader.head().size;
    let stored = tokio::time::timeout(DATABASE_DEADLINE, state.store.latest_checkpoint()).await;
    let (database, head) = match stored {
        Err(_) => (
            Err(format!("no answer within {DATABASE_DEADLINE:?}")),
            Err("not read: the database is unreachable".to_owned()),
        ),
        Ok(Err(error)) => (
            Err(error.to_string()),
            Err("not read: the database is unreachable".to_owned()),
        ),
        Ok(Ok(None)) => (Ok("reachable".to_owned()), Err("no checkpoint".to_owned())),
        Ok(Ok(Some(stored))) => (
            Ok("reachable".to_owned()),
            verified_head(&state.vkey, &stored.note, served),
        ),
    };
    let index = match state.search.covered_through() {
        Ok(covered) => {
            let lag = index_lag(served, covered);
            let detail = format!(
                "{lag} entries behind the log (at most {})",
                state.readiness.max_index_lag
            );
            if lag <= state.readiness.max_index_lag {
                Ok(detail)
            } else {
                Err(detail)
            }
        }
        Err(error) => Err(error.to_string()),
    };
    [
        ("database", database),
        ("log_head", head),
        ("search_index", index),
    ]
    .into_iter()
    .map(|(name, result)| {
        let ok = result.is_ok();
        Check {
            name,
            ok,
            detail: result.unwrap_or_else(|e| e),
        }
    })
    .collect()
}

/// Whether the latest stored checkpoint is signed by the log's key and covers at least
/// what this node serves.
fn verified_head(vkey: &str, note: &str, served: u64) -> Result<String, String> {
    let verifier = LogVerifier::new(vkey).map_err(|e| e.to_string())?;
    let checkpoint = verifier
        .verify(note.as_bytes())
        .map_err(|e| format!("the stored checkpoint does not verify: {e}"))?;
    if checkpoint.size < served {
        return Err(format!(
            "the stored checkpoint (size {}) is behind the served one (size {served})",
            checkpoint.size
        ));
    }
    Ok(format!("size {} verified", checkpoint.size))
}
