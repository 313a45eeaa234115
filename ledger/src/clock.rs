//! The log's clock: `log.clock` entries, written by the log itself with its own key, so
//! that rules which depend on time decide by a time recorded in the log (DESIGN.md §11)
//! rather than by the `created_at` an author chose.
//!
//! The sequencer appends a reading at the head of a batch when the log has none yet or
//! its last one is `TICK` old; every entry after a reading is admitted at that time.
//! A reading is valid only if the log's key signed it, its `time` equals its
//! `created_at`, and it is not before the previous reading: `check` is that rule, for
//! the workflow's replay and for auditors alike.

use crate::body::Body;
use crate::checkpoint::LogSigner;
use crate::entry::{format_timestamp, parse_timestamp, UnsignedEntry, VerifiedEntry};
use crate::kind::Kind;
use ed25519_dalek::VerifyingKey;
use time::{Duration, OffsetDateTime};

/// How old the last reading may grow before the sequencer appends a new one: the
/// clock's resolution, and at most one extra entry per `TICK`.
pub const TICK: Duration = Duration::seconds(60);

/// Where the sequencer and the server's admission checks read the current time.
/// A trait so that tests can move time without waiting for it.
pub trait Clock: std::fmt::Debug + Send + Sync + 'static {
    fn now(&self) -> OffsetDateTime;
}

/// The host's wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ClockError {
    #[error("log.clock entries are written by the log itself: the author must be the log's key {log_key}")]
    NotLogKey { log_key: String },
    #[error("body.time: must equal the entry's created_at")]
    TimeMismatch,
    #[error("body.time: the log's clock never runs backwards: {time} is before the previous reading {previous}")]
    Backwards { previous: String, time: String },
}

/// The time a reading taken at `at` records: whole seconds.
pub fn reading_time(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_nanosecond(0)
        .expect("zero nanoseconds is in range")
}

/// The `log.clock` entry the log signs for `at` (whole seconds, UTC).
pub fn reading(signer: &LogSigner, at: OffsetDateTime) -> VerifiedEntry {
    let at = reading_time(at);
    UnsignedEntry::new(
        Kind::LogClock,
        &signer.public_key(),
        at,
        serde_json::json!({ "time": format_timestamp(at) }),
    )
    .sign(signer.entry_key())
    .expect("the log's own clock entry is well formed")
}

/// Checks a `log.clock` entry against the log's key and the previous reading; returns
/// its time. Entries of other kinds are not readings: `None`.
pub fn check(
    entry: &VerifiedEntry,
    log_key: &VerifyingKey,
    previous: Option<OffsetDateTime>,
) -> Option<Result<OffsetDateTime, ClockError>> {
    let Body::LogClock(b) = entry.body() else {
        return None;
    };
    Some(check_reading(entry, &b.time, log_key, previous))
}

fn check_reading(
    entry: &VerifiedEntry,
    time: &str,
    log_key: &VerifyingKey,
    previous: Option<OffsetDateTime>,
) -> Result<OffsetDateTime, ClockError> {
    if entry.author_key() != log_key {
        return Err(ClockError::NotLogKey {
            log_key: hex::encode(log_key.as_bytes()),
        });
    }
    if time != entry.entry().created_at {
        return Err(ClockError::TimeMismatch);
    }
    let at = parse_timestamp(time).expect("the body schema checked the time");
    match previous {
        Some(previous) if at < previous => Err(ClockError::Backwards {
            previous: format_timestamp(previous),
            time: time.to_owned(),
        }),
        _ => Ok(at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    fn signer() -> LogSigner {
        LogSigner::new("example.org/log", SigningKey::from_bytes(&[9u8; 32])).unwrap()
    }

    fn at(unix: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(unix).unwrap()
    }

    #[test]
    fn readings_by_the_log_key_move_forward_only() {
        let s = signer();
        let key = s.public_key();
        let first = reading(&s, at(1_700_000_000));
        assert_eq!(check(&first, &key, None), Some(Ok(at(1_700_000_000))));
        let same = reading(&s, at(1_700_000_000));
        assert_eq!(
            check(&same, &key, Some(at(1_700_000_000))),
            Some(Ok(at(1_700_000_000)))
        );
        let earlier = reading(&s, at(1_699_999_999));
        assert!(matches!(
            check(&earlier, &key, Some(at(1_700_000_000))),
            Some(Err(ClockError::Backwards { .. }))
        ));
    }

    #[test]
    fn a_reading_by_another_key_or_with_another_time_is_refused() {
        let s = signer();
        let other = SigningKey::from_bytes(&[3u8; 32]);
        let forged = UnsignedEntry::new(
            Kind::LogClock,
            &other.verifying_key(),
            at(1_700_000_000),
            serde_json::json!({"time": "2023-11-14T22:13:20Z"}),
        )
        .sign(&other)
        .unwrap();
        assert!(matches!(
            check(&forged, &s.public_key(), None),
            Some(Err(ClockError::NotLogKey { .. }))
        ));
        let mismatched = UnsignedEntry::new(
            Kind::LogClock,
            &s.public_key(),
            at(1_700_000_000),
            serde_json::json!({"time": "2030-01-01T00:00:00Z"}),
        )
        .sign(s.entry_key())
        .unwrap();
        assert_eq!(
            check(&mismatched, &s.public_key(), None),
            Some(Err(ClockError::TimeMismatch))
        );
    }
}
