//! What route handlers take from a request, shared by every route module: a query
//! string decoded into a typed value (a bad one is the project's JSON 400, not axum's
//! plain-text rejection), a hash named in a path or query, and a body read within its
//! size and time limits.

use super::error::ApiError;
use super::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use ledger::{hex32, Hash};
use serde::de::DeserializeOwned;

/// A query string decoded into `T`; refused with 400 and serde's message naming the
/// parameter.
pub(crate) struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Query::try_from_uri(&parts.uri)
            .map(|Query(t)| ApiQuery(t))
            .map_err(|e| ApiError::BadRequest(e.body_text()))
    }
}

/// A hash given as `name` in a request: 64 lowercase hex digits.
pub(crate) fn parse_hash(name: &str, text: &str) -> Result<Hash, ApiError> {
    hex32::decode(text)
        .ok_or_else(|| ApiError::BadRequest(format!("{name} must be 64 lowercase hex digits")))
}

/// Reads a body of at most `limit` bytes, all of it within the body timeout: a client
/// that trickles its body holds a connection for that long at most. Past the limit,
/// or on a broken stream (whose client will not read the answer), it is refused.
pub(crate) async fn read_limited(
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
