//! Signed requests: reads of private data are authenticated with the reader's own
//! author key, no passwords and no sessions. The header is
//!
//! `Authorization: Aidledger key=<hex public key>, ts=<unix seconds>, sig=<hex>`
//!
//! where `sig` is ed25519 (`verify_strict`) over [`message`]. Signing and checking live
//! here, pure, so the CLI and the browser sign exactly what the server checks, and the
//! parser of this untrusted header is fuzzed on its own (ledger/fuzz).

use crate::entry::parse_author;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

/// Prefix of every request signature, so it can never pass for an entry signature.
pub const DOMAIN: &str = "aidledger/request/v1\n";

/// How far, in seconds, a request's timestamp may be from the server's clock.
pub const MAX_SKEW: i64 = 300;

/// The message a request signature covers.
pub fn message(method: &str, path_and_query: &str, ts: i64) -> String {
    format!("{DOMAIN}{method}\n{path_and_query}\n{ts}")
}

/// The `Authorization` header value for a request signed by `key` at unix time `ts`.
pub fn authorization(key: &SigningKey, method: &str, path_and_query: &str, ts: i64) -> String {
    let sig = key.sign(message(method, path_and_query, ts).as_bytes());
    format!(
        "Aidledger key={}, ts={ts}, sig={}",
        hex::encode(key.verifying_key().as_bytes()),
        hex::encode(sig.to_bytes())
    )
}

/// Why an `Authorization` header does not authenticate a request. The messages name
/// the part that is wrong and never repeat the header.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RequestError {
    #[error("Authorization scheme must be Aidledger")]
    Scheme,
    #[error("Authorization has an unknown parameter")]
    UnknownParameter,
    #[error("Authorization lacks {0}")]
    Missing(&'static str),
    #[error("Authorization key is not a valid public key")]
    Key,
    #[error("Authorization ts must be unix seconds")]
    Timestamp,
    #[error("Authorization ts is more than {MAX_SKEW} seconds from the server's clock")]
    Skew,
    #[error("Authorization sig must be 128 hex digits")]
    SignatureEncoding,
    #[error("the request signature does not verify")]
    BadSignature,
}

/// Checks an `Authorization` header value for a request `method path_and_query`
/// received at unix time `now`, and returns the key that signed it.
pub fn verify(
    header: &str,
    method: &str,
    path_and_query: &str,
    now: i64,
) -> Result<VerifyingKey, RequestError> {
    let params = header
        .strip_prefix("Aidledger ")
        .ok_or(RequestError::Scheme)?;
    let (mut key, mut ts, mut sig) = (None, None, None);
    for part in params.split(',') {
        match part.trim().split_once('=') {
            Some(("key", v)) => key = Some(v),
            Some(("ts", v)) => ts = Some(v),
            Some(("sig", v)) => sig = Some(v),
            _ => return Err(RequestError::UnknownParameter),
        }
    }
    let key =
        parse_author(key.ok_or(RequestError::Missing("key"))?).map_err(|_| RequestError::Key)?;
    let ts: i64 = ts
        .and_then(|t| t.parse().ok())
        .ok_or(RequestError::Timestamp)?;
    // `abs_diff`: a timestamp near i64::MIN must not overflow the subtraction.
    if now.abs_diff(ts) > MAX_SKEW.unsigned_abs() {
        return Err(RequestError::Skew);
    }
    let mut sig_bytes = [0u8; 64];
    hex::decode_to_slice(sig.ok_or(RequestError::Missing("sig"))?, &mut sig_bytes)
        .map_err(|_| RequestError::SignatureEncoding)?;
    key.verify_strict(
        message(method, path_and_query, ts).as_bytes(),
        &Signature::from_bytes(&sig_bytes),
    )
    .map_err(|_| RequestError::BadSignature)?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;

    #[test]
    fn a_signed_request_verifies_for_its_own_method_path_and_key() {
        let key = SigningKey::from_bytes(&[5; 32]);
        let header = authorization(&key, "GET", "/api/v1/private/ab?x=1", NOW);
        assert_eq!(
            verify(&header, "GET", "/api/v1/private/ab?x=1", NOW + MAX_SKEW),
            Ok(key.verifying_key())
        );
        for (method, path) in [
            ("POST", "/api/v1/private/ab?x=1"),
            ("GET", "/api/v1/private/ab"),
        ] {
            assert_eq!(
                verify(&header, method, path, NOW),
                Err(RequestError::BadSignature)
            );
        }
        assert_eq!(
            verify(&header, "GET", "/api/v1/private/ab?x=1", NOW + MAX_SKEW + 1),
            Err(RequestError::Skew)
        );
    }

    /// Regression: the server's skew check subtracted the timestamp from the clock, which
    /// overflowed (a panic in debug builds, so no answer at all) for `ts` near i64::MIN.
    #[test]
    fn an_extreme_timestamp_is_refused_without_overflow() {
        let key = hex::encode(SigningKey::from_bytes(&[5; 32]).verifying_key().as_bytes());
        for ts in [i64::MIN, i64::MAX] {
            let header = format!("Aidledger key={key}, ts={ts}, sig={}", "0".repeat(128));
            for now in [NOW, i64::MIN, i64::MAX, 0] {
                let expected = if now == ts {
                    RequestError::BadSignature
                } else {
                    RequestError::Skew
                };
                assert_eq!(verify(&header, "GET", "/", now), Err(expected));
            }
        }
    }
}
