//! Headers that tell browsers what the site may do. Pages get a Content-Security-Policy
//! that allows exactly what the web app needs: its own script module, the inline
//! hydration scripts leptos writes (each carrying the page's nonce), compiling its own
//! WebAssembly, and fetches to its own API. Everything else, and framing by any site,
//! is refused. Every other response gets a policy that allows nothing.

use axum::extract::Request;
use axum::http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

/// The policy of a rendered page whose inline scripts carry `nonce`.
pub(crate) fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// For anything that is not a rendered page (JSON, the bundle, images, and a page
/// whose policy was somehow not set): no scripts, no framing.
pub(crate) const NOTHING: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

pub(crate) async fn add(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if !headers.contains_key(CONTENT_SECURITY_POLICY) {
        headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(NOTHING));
    }
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Evidence links lead to other sites; they need not learn which entry was read.
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    response
}
