//! Limits on a request's head, checked before routing so that every handler sees a
//! bounded target and header set, and every refusal is our JSON error. hyper's own
//! limits (a 64 KiB target, `connections::MAX_HEAD_BUFFER` of head) lie far above
//! these, so they only meet clients that ignored ours by an order of magnitude.

use super::error::ApiError;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Longest request target (path and query) accepted, in bytes.
pub const MAX_TARGET_BYTES: usize = 8 * 1024;
/// Most bytes of header names and values accepted in one request.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
/// Most header fields accepted in one request.
pub const MAX_HEADERS: usize = 64;

pub(crate) async fn check(request: Request, next: Next) -> Response {
    let target = request
        .uri()
        .path_and_query()
        .map_or(0, |p| p.as_str().len());
    if target > MAX_TARGET_BYTES {
        return ApiError::UriTooLong(MAX_TARGET_BYTES).into_response();
    }
    let headers = request.headers();
    let header_bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if headers.len() > MAX_HEADERS || header_bytes > MAX_HEADER_BYTES {
        return ApiError::HeadersTooLarge(MAX_HEADER_BYTES, MAX_HEADERS).into_response();
    }
    next.run(request).await
}
