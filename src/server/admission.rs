//! Admission policies: what this server refuses before an entry reaches the log, on
//! the operator's word rather than by a rule an auditor can replay (docs/FORMAT.md
//! §5, "Validity and admission"). They depend on this server's clock, so replaying the
//! log must not re-check them.

use super::error::ApiError;
use ed25519_dalek::VerifyingKey;
use ledger::clock::Clock;
use ledger::entry::{format_timestamp, parse_timestamp, VerifiedEntry};
use ledger::Kind;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Debug)]
pub(crate) struct Admission {
    pub clock: Arc<dyn Clock>,
    /// How far in the future an entry's `created_at` may be (the author's clock may
    /// run a little ahead of ours); entries signed earlier, offline, are welcome.
    pub max_skew: Duration,
    /// The log's key: the only author of `log.clock` entries.
    pub log_key: VerifyingKey,
}

impl Admission {
    pub fn check(&self, entry: &VerifiedEntry) -> Result<(), ApiError> {
        if entry.kind() == Kind::LogClock && entry.author_key() != &self.log_key {
            return Err(ApiError::BadRequest(format!(
                "kind: log.clock entries are written by the log itself and signed by its key {}; no other key may submit one",
                hex::encode(self.log_key.as_bytes())
            )));
        }
        let now = self.clock.now();
        let created_at = parse_timestamp(&entry.entry().created_at)
            .expect("a verified entry has a valid created_at");
        let skew = time::Duration::try_from(self.max_skew).unwrap_or(time::Duration::MAX);
        if created_at > now.saturating_add(skew) {
            return Err(ApiError::BadRequest(format!(
                "created_at: {} is more than {} seconds ahead of this server's clock ({}); sign entries with the current time",
                entry.entry().created_at,
                self.max_skew.as_secs(),
                format_timestamp(now)
            )));
        }
        Ok(())
    }
}
