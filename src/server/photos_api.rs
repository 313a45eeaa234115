//! Photos as evidence: uploads, which anyone may make within the per-address rate and
//! the store's capacity (`limits::PhotoLimits`), and the stored bytes, served as they
//! are hashed in the log.

use super::client_addr::ClientIp;
use super::error::ApiError;
use super::extract::{parse_hash, read_limited};
use super::AppState;
use crate::photos::{self, Format, MAX_PHOTO_BYTES};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use contract::PhotoStored;
use ledger::hex32;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/photos", post(upload))
        .route("/api/v1/photos/{sha256}", get(photo))
}

/// Takes an image's bytes, removes its metadata and stores the result under its
/// SHA-256: 201, or 200 when the store held it already.
async fn upload(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    body: Body,
) -> Result<Response, ApiError> {
    state.limiter.check_photo_ip(client)?;
    let upload = read_limited(&state, body, MAX_PHOTO_BYTES).await?;
    let store = state.photos.clone();
    let (stripped, hash, new) = tokio::task::spawn_blocking(move || {
        let stripped = photos::strip(upload)?;
        let (hash, new) = store.put(&stripped.bytes)?;
        Ok::<_, ApiError>((stripped, hash, new))
    })
    .await
    .map_err(|_| ApiError::Internal("photo upload task failed"))??;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let answer = PhotoStored {
        sha256: hex32::encode(&hash),
        bytes: stripped.bytes.len() as u64,
        media_type: stripped.format.media_type().to_owned(),
    };
    Ok((status, Json(answer)).into_response())
}

/// The stored bytes of a photo, whose SHA-256 is the name they are asked by. They never
/// change, so they may be cached for good; the security headers (`security_headers`)
/// add `nosniff` and a policy that lets nothing run.
async fn photo(
    State(state): State<AppState>,
    Path(sha256): Path<String>,
) -> Result<Response, ApiError> {
    let hash = parse_hash("sha256", &sha256)?;
    let store = state.photos.clone();
    let bytes = tokio::task::spawn_blocking(move || store.get(&hash))
        .await
        .map_err(|_| ApiError::Internal("photo read task failed"))?
        .map_err(crate::photos::StoreError::from)?
        .ok_or_else(|| ApiError::NotFound(format!("no photo has SHA-256 {sha256}")))?;
    // Only what `strip` accepted is ever stored.
    let format =
        Format::sniff(&bytes).ok_or(ApiError::Internal("a stored photo is not an image"))?;
    Ok((
        [
            (header::CONTENT_TYPE, format.media_type().to_owned()),
            (
                header::CACHE_CONTROL,
                "public, max-age=31536000, immutable".to_owned(),
            ),
            (header::ETAG, format!("\"{sha256}\"")),
        ],
        bytes,
    )
        .into_response())
}
