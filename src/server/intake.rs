//! The one way a submitted entry reaches the log, whichever route it came by: the
//! admission checks, the author's write limit, the sequencer, and the answer (201 for
//! a new entry, 200 for one the log already holds).

use super::error::ApiError;
use super::AppState;
use crate::services::store::flush_erased;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use contract::Submitted;
use ledger::contact::Sidecar;
use ledger::entry::VerifiedEntry;
use ledger::{hex32, Kind};

/// Checks the admission policies and the author's write limit, sequences the entry
/// and answers 201 or 200.
pub(crate) async fn sequence(
    state: &AppState,
    entry: VerifiedEntry,
    sidecar: Option<Sidecar>,
) -> Result<Response, ApiError> {
    state.admission.check(&entry)?;
    state.limiter.check_key(&entry.author_key().to_bytes())?;
    let erasure = entry.kind() == Kind::Redaction;
    let handed = std::time::Instant::now();
    state.metrics.submissions_waiting.inc();
    let appended = state.sequencer.submit_with(entry, sidecar).await;
    state.metrics.submissions_waiting.dec();
    let appended = appended?;
    if !appended.duplicate {
        // The sequencer answers once a checkpoint this node serves covers the entry.
        state
            .metrics
            .submission_to_checkpoint
            .observe(handed.elapsed().as_secs_f64());
    }
    if erasure {
        flush_erased(&state.store).await;
    }
    let status = if appended.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let body = Submitted {
        leaf_hash: hex32::encode(&appended.leaf_hash),
        index: appended.index,
        tree_size: appended.tree_size,
    };
    Ok((status, Json(body)).into_response())
}
