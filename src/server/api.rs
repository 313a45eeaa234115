//! Routes and thin handlers: extract, call the log, map the answer.

use super::client_addr::ClientIp;
use super::error::ApiError;
use super::AppState;
use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::prelude::*;
use ledger::entry::{VerifiedEntry, MAX_LEAF_BYTES};
use ledger::hex32;
use ledger::storage::sql::{Backend, SqlStore};
use ledger::{Hash, Kind};
use serde::{Deserialize, Serialize};

pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/v1/entries", post(submit_entry))
        .route("/checkpoint", get(checkpoint))
        .route("/api/v1/log/key", get(log_key))
        .route("/api/v1/node", get(node))
        .route("/api/v1/log/entries", get(entries))
        .route("/api/v1/log/proof/inclusion", get(inclusion_proof))
        .route("/api/v1/log/proof/consistency", get(consistency_proof))
        .route("/tile/{*path}", get(tile))
        .merge(super::workflow_api::routes())
        .merge(super::private_api::routes())
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        // Bodies are read with our own limit so that an oversized one gets our error.
        .layer(DefaultBodyLimit::disable())
        .with_state(state)
}

pub(super) fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(t)| t)
        .map_err(|e| ApiError::BadRequest(e.body_text()))
}

pub(super) fn parse_hash(name: &str, text: &str) -> Result<Hash, ApiError> {
    hex32::decode(text)
        .ok_or_else(|| ApiError::BadRequest(format!("{name} must be 64 lowercase hex digits")))
}

#[derive(Serialize)]
struct SubmitResponse {
    leaf_hash: String,
    index: u64,
    tree_size: u64,
}

async fn submit_entry(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    body: Body,
) -> Result<Response, ApiError> {
    state.limiter.check_ip(client)?;
    let bytes = read_limited(&state, body, MAX_LEAF_BYTES).await?;
    let entry = VerifiedEntry::from_leaf(&bytes)?;
    if entry.body().contact_commitment().is_some() {
        return Err(ApiError::BadRequest(
            "the entry commits to private contact data: submit it with the data through POST /api/v1/submissions".into(),
        ));
    }
    sequence(&state, entry, None).await
}

/// Reads a body of at most `limit` bytes, all of it within the body timeout: a client
/// that trickles its body holds a connection for that long at most. Past the limit,
/// or on a broken stream (whose client will not read the answer), it is refused.
pub(super) async fn read_limited(
    state: &AppState,
    body: Body,
    limit: usize,
) -> Result<Bytes, ApiError> {
    let timeout = state.body_timeout;
    tokio::time::timeout(timeout, axum::body::to_bytes(body, limit))
        .await
        .map_err(|_| ApiError::BodyTimeout(timeout.as_secs()))?
        .map_err(|_| ApiError::BodyTooLarge(limit))
}

/// Checks the admission policies and the author's write limit, sequences the entry
/// and answers 201 or 200.
pub(super) async fn sequence(
    state: &AppState,
    entry: VerifiedEntry,
    sidecar: Option<serde_json::Value>,
) -> Result<Response, ApiError> {
    state.admission.check(&entry)?;
    state.limiter.check_key(&entry.author_key().to_bytes())?;
    let erasure = entry.kind() == Kind::Redaction;
    let appended = state.sequencer.submit_with(entry, sidecar).await?;
    if erasure {
        flush_erased(&state.store).await;
    }
    let status = if appended.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let body = SubmitResponse {
        leaf_hash: hex32::encode(&appended.leaf_hash),
        index: appended.index,
        tree_size: appended.tree_size,
    };
    Ok((status, Json(body)).into_response())
}

/// After an erasure, makes sure the erased data's old row images go too (SQLite: the
/// WAL is emptied; PostgreSQL: the table is vacuumed). A busy database leaves it for
/// the next erasure or the retention run; it is logged.
pub(super) async fn flush_erased(store: &SqlStore) {
    if let Err(error) = store
        .flush_erased(moderation::private::PRIVATE_TABLES)
        .await
    {
        tracing::warn!(%error, "could not flush erased private data");
    }
}

async fn checkpoint(State(state): State<AppState>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        state.reader.head().note,
    )
        .into_response()
}

async fn log_key(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "origin": state.origin, "vkey": state.vkey }))
}

/// This node's part in the log: which backend it stores on, whether it is the one
/// sequencing, and the tree size its readers serve.
async fn node(State(state): State<AppState>) -> Json<serde_json::Value> {
    let backend = match state.store.backend() {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    Json(serde_json::json!({
        "backend": backend,
        "integrator": state.sequencer.is_integrator(),
        "tree_size": state.reader.head().size,
    }))
}

#[derive(Deserialize)]
struct EntriesQuery {
    #[serde(default)]
    start: u64,
    #[serde(default = "default_limit")]
    limit: u64,
}

fn default_limit() -> u64 {
    100
}

#[derive(Serialize)]
struct EntryItem {
    index: u64,
    leaf: String,
    leaf_hash: String,
}

async fn entries(
    State(state): State<AppState>,
    q: Result<Query<EntriesQuery>, QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let q = query(q)?;
    let entries: Vec<EntryItem> = state
        .reader
        .entries(q.start, q.limit)
        .await?
        .into_iter()
        .map(|e| EntryItem {
            index: e.index,
            leaf: BASE64_STANDARD.encode(&e.leaf),
            leaf_hash: hex32::encode(&e.leaf_hash),
        })
        .collect();
    Ok(Json(serde_json::json!({ "entries": entries })))
}

#[derive(Deserialize)]
struct InclusionQuery {
    leaf_hash: String,
    tree_size: u64,
}

async fn inclusion_proof(
    State(state): State<AppState>,
    q: Result<Query<InclusionQuery>, QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let q = query(q)?;
    let leaf_hash = parse_hash("leaf_hash", &q.leaf_hash)?;
    let proof = state.reader.inclusion_proof(leaf_hash, q.tree_size).await?;
    Ok(Json(serde_json::json!({
        "leaf_index": proof.leaf_index,
        "tree_size": proof.tree_size,
        "hashes": proof.hashes.iter().map(hex32::encode).collect::<Vec<_>>(),
    })))
}

#[derive(Deserialize)]
struct ConsistencyQuery {
    first: u64,
    second: u64,
}

async fn consistency_proof(
    State(state): State<AppState>,
    q: Result<Query<ConsistencyQuery>, QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let q = query(q)?;
    let hashes = state.reader.consistency_proof(q.first, q.second).await?;
    Ok(Json(
        serde_json::json!({ "hashes": hashes.iter().map(hex32::encode).collect::<Vec<_>>() }),
    ))
}

async fn tile(
    State(state): State<AppState>,
    Path(path): Path<String>,
) -> Result<Response, ApiError> {
    let (bytes, full) = state.reader.tile(&path).await?;
    let cache = if full {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (header::CACHE_CONTROL, cache),
        ],
        bytes,
    )
        .into_response())
}
