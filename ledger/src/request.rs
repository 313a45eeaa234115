//! Signed requests: reads of private data are authenticated with the reader's own
//! author key, no passwords and no sessions. The header is
//!
//! `Authorization: Aidledger key=<hex public key>, ts=<unix seconds>, sig=<hex>`
//!
//! where `sig` is ed25519 (`verify_strict`) over [`message`]. Signing lives here, pure,
//! so the CLI and the browser sign exactly what the server checks.

use ed25519_dalek::{Signer as _, SigningKey};

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
