//! Request ids and the span of each request: a request's `x-request-id` is kept when it
//! is a short token (a proxy's id), otherwise a new UUID replaces it; the answer
//! carries it back, and every log line written while the request is served carries
//! it, its method and (once routed) its route template.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

const HEADER: &str = "x-request-id";

/// Longest request id kept from a client.
const MAX_LEN: usize = 64;

pub(crate) async fn assign(mut request: Request, next: Next) -> Response {
    let id = match request.headers().get(HEADER) {
        Some(given) if acceptable(given) => given.clone(),
        _ => {
            let made = uuid::Uuid::new_v4().hyphenated().to_string();
            HeaderValue::from_str(&made).expect("a UUID is a header value")
        }
    };
    request.headers_mut().insert(HEADER, id.clone());
    let span = tracing::info_span!(
        "request",
        id = id.to_str().unwrap_or_default(),
        method = %request.method(),
        route = tracing::field::Empty,
    );
    let mut response = next.run(request).instrument(span).await;
    response.headers_mut().insert(HEADER, id);
    response
}

/// Letters, digits, `-`, `_` and `.`, at most `MAX_LEN`: safe to log and to echo.
fn acceptable(id: &HeaderValue) -> bool {
    let bytes = id.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_LEN
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}
