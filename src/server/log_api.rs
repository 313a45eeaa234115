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
use ledger::entry::{VerifiedEntry, MAX_LEAF_BYTES};
use ledger::hex32;
use ledger_node::storage::sql::Backend;
use serde::{Deserialize, Serialize};

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
    ApiQuery(q): ApiQuery<EntriesQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
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
    ApiQuery(q): ApiQuery<InclusionQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
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
    ApiQuery(q): ApiQuery<ConsistencyQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
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
