//! The log's own routes (entries, checkpoint, proofs, tiles, the node's part) and their
//! thin handlers: extract, call the log, map the answer.

use super::client_addr::ClientIp;
use super::error::ApiError;
use super::extract::{parse_hash, read_limited, ApiQuery};
use super::intake::sequence;
use super::AppState;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::prelude::*;
use contract::{
    Backend, ConsistencyProof, ConsistencyQuery, EntriesQuery, InclusionProof, InclusionQuery,
    LogEntries, LogEntry, LogKey, NodeInfo,
};
use ledger::entry::{VerifiedEntry, MAX_LEAF_BYTES};
use ledger::hex32;
use ledger_node::storage::sql::Backend as StorageBackend;
use ledger_node::storage::StoredEntry;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/entries", post(submit_entry))
        .route("/checkpoint", get(checkpoint))
        .route("/api/v1/log/key", get(log_key))
        .route("/api/v1/node", get(node))
        .route("/api/v1/log/entries", get(entries))
        .route("/api/v1/log/proof/inclusion", get(inclusion_proof))
        .route("/api/v1/log/proof/consistency", get(consistency_proof))
        .route("/tile/{*path}", get(tile))
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

async fn log_key(State(state): State<AppState>) -> Json<LogKey> {
    Json(LogKey {
        origin: state.origin.clone(),
        vkey: state.vkey.clone(),
    })
}

/// This node's part in the log: which backend it stores on, whether it is the one
/// sequencing, and the tree size its readers serve.
async fn node(State(state): State<AppState>) -> Json<NodeInfo> {
    let backend = match state.store.backend() {
        StorageBackend::Sqlite => Backend::Sqlite,
        StorageBackend::Postgres => Backend::Postgres,
    };
    Json(NodeInfo {
        backend,
        integrator: state.sequencer.is_integrator(),
        tree_size: state.reader.head().size,
    })
}

async fn entries(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<EntriesQuery>,
) -> Result<Json<LogEntries>, ApiError> {
    let entries = state.reader.entries(q.start, q.limit).await?;
    Ok(Json(log_entries(entries)))
}

/// Entries as the API serves them.
pub(super) fn log_entries(entries: Vec<StoredEntry>) -> LogEntries {
    LogEntries {
        entries: entries
            .into_iter()
            .map(|e| LogEntry {
                index: e.index,
                leaf: BASE64_STANDARD.encode(&e.leaf),
                leaf_hash: hex32::encode(&e.leaf_hash),
            })
            .collect(),
    }
}

async fn inclusion_proof(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<InclusionQuery>,
) -> Result<Json<InclusionProof>, ApiError> {
    let leaf_hash = parse_hash("leaf_hash", &q.leaf_hash)?;
    let proof = state.reader.inclusion_proof(leaf_hash, q.tree_size).await?;
    Ok(Json(InclusionProof {
        hashes: proof.hashes.iter().map(hex32::encode).collect(),
        leaf_index: proof.leaf_index,
        tree_size: proof.tree_size,
    }))
}

async fn consistency_proof(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ConsistencyQuery>,
) -> Result<Json<ConsistencyProof>, ApiError> {
    let hashes = state.reader.consistency_proof(q.first, q.second).await?;
    Ok(Json(ConsistencyProof {
        hashes: hashes.iter().map(hex32::encode).collect(),
    }))
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
