//! Authentication of signed requests (the scheme and the signing side are in
//! `ledger::request`, which also parses and checks the header): a request is accepted
//! within `MAX_SKEW` seconds of its timestamp.

use super::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use ed25519_dalek::{SigningKey, VerifyingKey};
pub use ledger::request::{message as request_message, MAX_SKEW};
use time::OffsetDateTime;

/// The `Authorization` header value for a request signed by `key` now.
pub fn authorization(key: &SigningKey, method: &str, path_and_query: &str) -> String {
    let ts = OffsetDateTime::now_utc().unix_timestamp();
    ledger::request::authorization(key, method, path_and_query, ts)
}

/// The key that signed the request.
pub(crate) struct SignedBy(pub VerifyingKey);

fn unauthorized(msg: &str) -> ApiError {
    ApiError::Unauthorized(msg.to_owned())
}

impl<S: Send + Sync> FromRequestParts<S> for SignedBy {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| unauthorized("this resource needs a signed request (Authorization: Aidledger key=…, ts=…, sig=…)"))?
            .to_str()
            .map_err(|_| unauthorized("Authorization header is not text"))?;
        let path = parts
            .uri
            .path_and_query()
            .map_or(parts.uri.path(), |p| p.as_str());
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let key = ledger::request::verify(header, parts.method.as_str(), path, now)
            .map_err(|e| unauthorized(&e.to_string()))?;
        Ok(SignedBy(key))
    }
}
