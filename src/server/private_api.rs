//! Submissions that carry private contact data, and signed reads of that data.
//! Nothing here echoes private values into an error or a log line.

use super::auth::SignedBy;
use super::client_addr::ClientIp;
use super::error::ApiError;
use super::extract::read_limited;
use super::intake::sequence;
use super::AppState;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use ledger::entry::{format_timestamp, VerifiedEntry, MAX_LEAF_BYTES};
use moderation::private::{self, ContactError, PrivateError, Sidecar};
use serde_json::Value;

/// An entry plus its private data; the entry is a JSON string holding its exact bytes.
const MAX_SUBMISSION_BYTES: usize = MAX_LEAF_BYTES * 2 + 4096;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/submissions", post(submit))
        .route("/api/v1/private/{entry}", get(read))
        .route("/api/v1/private/{entry}/reads", get(reads))
}

const SHAPE: &str = "a submission is JSON {\"entry\": \"<the signed entry's canonical JSON, as a string>\", \"private\": {\"salt\": \"<64 hex>\", \"contact\": {\"name\", \"phone\", \"email\", \"address\"}}}";

async fn submit(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    body: Body,
) -> Result<Response, ApiError> {
    state.limiter.check_ip(client)?;
    let bytes = read_limited(&state, body, MAX_SUBMISSION_BYTES).await?;
    // Parse errors are replaced by a fixed message: serde's would quote the values.
    let mut submission: serde_json::Map<String, Value> =
        serde_json::from_slice(&bytes).map_err(|_| ApiError::BadRequest(SHAPE.into()))?;
    let entry = match submission.remove("entry") {
        Some(Value::String(entry)) => entry,
        _ => return Err(ApiError::BadRequest(SHAPE.into())),
    };
    let private = submission.remove("private");
    if !submission.is_empty() {
        return Err(ApiError::BadRequest(SHAPE.into()));
    }
    let entry = VerifiedEntry::from_leaf(entry.as_bytes())?;
    let commitment = entry.body().contact_commitment();
    let sidecar = match (private, commitment) {
        (None, Some(_)) => return Err(PrivateError::from(ContactError::Missing).into()),
        (None, None) => None,
        (Some(value), _) => {
            let sidecar: Sidecar = serde_json::from_value(value).map_err(|_| {
                PrivateError::Invalid("private: must be {\"salt\", \"contact\"} with only name, phone, email, address".into())
            })?;
            sidecar.check(commitment).map_err(PrivateError::from)?;
            Some(sidecar)
        }
    };
    sequence(&state, entry, sidecar).await
}

async fn read(
    State(state): State<AppState>,
    Path(entry): Path<String>,
    SignedBy(reader): SignedBy,
) -> Result<Json<private::Opened>, ApiError> {
    let now = format_timestamp(time::OffsetDateTime::now_utc());
    Ok(Json(
        private::read(state.store.pool(), &entry, reader.as_bytes(), &now).await?,
    ))
}

async fn reads(
    State(state): State<AppState>,
    Path(entry): Path<String>,
    SignedBy(requester): SignedBy,
) -> Result<Json<Value>, ApiError> {
    let records = private::reads(state.store.pool(), &entry, requester.as_bytes()).await?;
    Ok(Json(serde_json::json!({ "reads": records })))
}
