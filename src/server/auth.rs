//! Authentication of signed requests (the scheme and the signing side are in
//! `ledger::request`): a request is accepted within `MAX_SKEW` seconds of its timestamp.

use super::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
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
        let params = header
            .strip_prefix("Aidledger ")
            .ok_or_else(|| unauthorized("Authorization scheme must be Aidledger"))?;
        let (mut key, mut ts, mut sig) = (None, None, None);
        for part in params.split(',') {
            match part.trim().split_once('=') {
                Some(("key", v)) => key = Some(v),
                Some(("ts", v)) => ts = Some(v),
                Some(("sig", v)) => sig = Some(v),
                _ => return Err(unauthorized("Authorization has an unknown parameter")),
            }
        }
        let key = ledger::entry::parse_author(
            key.ok_or_else(|| unauthorized("Authorization lacks key"))?,
        )
        .map_err(|_| unauthorized("Authorization key is not a valid public key"))?;
        let ts: i64 = ts
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| unauthorized("Authorization ts must be unix seconds"))?;
        if (OffsetDateTime::now_utc().unix_timestamp() - ts).abs() > MAX_SKEW {
            return Err(unauthorized(
                "Authorization ts is more than 300 seconds from the server's clock",
            ));
        }
        let mut sig_bytes = [0u8; 64];
        hex::decode_to_slice(
            sig.ok_or_else(|| unauthorized("Authorization lacks sig"))?,
            &mut sig_bytes,
        )
        .map_err(|_| unauthorized("Authorization sig must be 128 hex digits"))?;
        let path = parts
            .uri
            .path_and_query()
            .map_or(parts.uri.path(), |p| p.as_str());
        key.verify_strict(
            request_message(parts.method.as_str(), path, ts).as_bytes(),
            &Signature::from_bytes(&sig_bytes),
        )
        .map_err(|_| unauthorized("the request signature does not verify"))?;
        Ok(SignedBy(key))
    }
}
