//! Follows the log and delivers (docs/API.md "Webhooks"). Two steps, each safe with
//! several nodes on one database:
//!
//! - **match**: the entries after the stored cursor (`webhook_cursor`), a page at a
//!   time up to the published head, are matched against every subscription's
//!   selection; the deliveries found and the cursor's new place commit together, and
//!   only if the cursor had not moved meanwhile (another node matched that page), so a
//!   restart resumes where the last page ended and no entry is matched twice.
//! - **deliver**: due deliveries are claimed one conditional update each (one node
//!   wins a row), POSTed with at most `Settings::concurrency` in flight, and each
//!   attempt is logged; a failure (no 2xx answer within the timeout) is retried after
//!   `Settings::retry_wait`, until `max_attempts`, then the delivery is `failed`.
//!
//! A delivery carries what the public log shows of the entry — its index, leaf hash,
//! exact bytes and their JSON — and nothing else: never sidecar or `pd_*` data.

use super::store::{self, Claimed, Outcome};
use super::target::{self, PublicOnly};
use super::{Settings, WebhookError};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use ledger_node::reader::LogReader;
use ledger_node::sequencer::Head;
use ledger_node::storage::sql::SqlStore;
use moderation::queries::Policy;
use sha2::Sha256;
use sqlx::AnyPool;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

/// Log entries matched per page.
const MATCH_PAGE: i64 = 500;

/// The header names of a delivery.
pub const SIGNATURE_HEADER: &str = "x-aidledger-signature";
pub const TIMESTAMP_HEADER: &str = "x-aidledger-timestamp";
pub const DELIVERY_HEADER: &str = "x-aidledger-delivery";
pub const ATTEMPT_HEADER: &str = "x-aidledger-attempt";

/// The `X-Aidledger-Signature` value of `body` sent at unix time `timestamp` with
/// `secret`: `sha256=` and the lowercase hex HMAC-SHA256, keyed with the secret's
/// text, of `<timestamp>.<body>`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any size");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The body of a delivery of the entry at `index` to `subscription`.
pub fn payload(subscription: &str, stored: &ledger_node::storage::StoredEntry) -> Vec<u8> {
    let entry: serde_json::Value = serde_json::from_slice(&stored.leaf).unwrap_or_default();
    serde_json::to_vec(&serde_json::json!({
        "subscription": subscription,
        "index": stored.index,
        "leaf_hash": ledger::hex32::encode(&stored.leaf_hash),
        "leaf": base64::engine::general_purpose::STANDARD.encode(&stored.leaf),
        "entry": entry,
    }))
    .expect("a payload serializes")
}

fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis(),
    )
    .unwrap_or(i64::MAX)
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Everything the follower holds.
struct Dispatcher {
    pool: AnyPool,
    reader: LogReader<SqlStore>,
    policy: Policy,
    settings: Settings,
    client: reqwest::Client,
    in_flight: Arc<Semaphore>,
}

/// The HTTP client of deliveries: no redirects, the settings' timeout, and, unless
/// private targets are allowed, only public addresses.
fn client(settings: &Settings) -> reqwest::Result<reqwest::Client> {
    let builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(settings.timeout)
        .connect_timeout(settings.timeout)
        .user_agent(concat!("aidledger-webhooks/", env!("CARGO_PKG_VERSION")));
    if settings.allow_private_targets {
        builder.build()
    } else {
        builder.dns_resolver(Arc::new(PublicOnly)).build()
    }
}

impl Dispatcher {
    /// Matches pages of entries until the cursor reaches the published head.
    async fn match_new(&self) -> Result<(), WebhookError> {
        loop {
            let head = i64::try_from(self.reader.head().size).unwrap_or(i64::MAX);
            let cursor = store::cursor(&self.pool).await?;
            if cursor >= head {
                return Ok(());
            }
            // Nothing before the earliest subscription's start is wanted by any; with no
            // subscription nothing is written at all.
            let Some(earliest) = store::earliest_wanted(&self.pool).await? else {
                return Ok(());
            };
            let from = earliest.max(cursor).min(head);
            let to = (from + MATCH_PAGE).min(head);
            let mut found = vec![];
            for sub in store::wanting_before(&self.pool, to).await? {
                let span = from.max(sub.from_index)..to;
                for index in sub
                    .selection
                    .indices_in(&self.pool, self.policy, span)
                    .await?
                {
                    found.push((sub.id.clone(), index));
                }
            }
            // Whether this node or another moved the cursor, read it again.
            store::advance(&self.pool, cursor, to, &found, now_ms()).await?;
        }
    }

    /// Claims what is due, as many as free turns, and sends each on a task of its own
    /// in `sending` (which the follower owns, so that stopping it stops them: an
    /// attempt cut short is retried once its claim runs out).
    async fn deliver_due(self: &Arc<Self>, sending: &mut JoinSet<()>) -> Result<(), WebhookError> {
        while sending.try_join_next().is_some() {}
        let free = self.in_flight.available_permits();
        if free == 0 {
            return Ok(());
        }
        let now = now_ms();
        // The claim outlasts an attempt (timeout) with room for recording it.
        let until = now + millis(self.settings.timeout) + 30_000;
        for claimed in store::claim_due(&self.pool, now, until, free).await? {
            let Ok(turn) = self.in_flight.clone().try_acquire_owned() else {
                break;
            };
            let this = self.clone();
            sending.spawn(async move {
                let outcome = this.attempt(&claimed).await;
                if let Err(error) = store::record(&this.pool, &claimed, &outcome).await {
                    tracing::warn!(%error, "could not record a webhook attempt; it will be retried");
                }
                drop(turn);
            });
        }
        Ok(())
    }

    /// Sends one attempt and says what it came to.
    async fn attempt(&self, c: &Claimed) -> Outcome {
        let attempt = u32::try_from(c.attempts + 1).unwrap_or(u32::MAX);
        let (status, error) = match self.send(c, attempt).await {
            Ok(status) if (200..300).contains(&status) => {
                return Outcome {
                    status: Some(status),
                    error: None,
                    state: "delivered",
                    next_attempt_ms: 0,
                }
            }
            Ok(status) => (Some(status), None),
            Err(error) => (None, Some(error)),
        };
        let (state, next) = if attempt >= self.settings.max_attempts {
            ("failed", 0)
        } else {
            (
                "pending",
                now_ms().saturating_add(millis(self.settings.retry_wait(attempt))),
            )
        };
        Outcome {
            status,
            error,
            state,
            next_attempt_ms: next,
        }
    }

    /// POSTs the delivery; the answer's status, or why there was none. The answer's
    /// body is never read.
    async fn send(&self, c: &Claimed, attempt: u32) -> Result<u16, String> {
        // Settings may have changed since the subscription was made.
        target::callback(&c.url, self.settings.allow_private_targets).map_err(|e| e.to_string())?;
        let index = u64::try_from(c.index).map_err(|_| "bad index".to_owned())?;
        let stored = self
            .reader
            .entries(index, 1)
            .await
            .ok()
            .and_then(|mut e| e.pop())
            .ok_or_else(|| "the entry could not be read".to_owned())?;
        let body = payload(&c.subscription, &stored);
        let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
        let answer = self
            .client
            .post(&c.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(TIMESTAMP_HEADER, timestamp)
            .header(SIGNATURE_HEADER, signature(&c.secret, timestamp, &body))
            .header(DELIVERY_HEADER, format!("{}/{}", c.subscription, c.index))
            .header(ATTEMPT_HEADER, attempt)
            .body(body)
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    format!("no answer within {} s", self.settings.timeout.as_secs_f32())
                } else if e.is_connect() {
                    "could not connect".to_owned()
                } else {
                    "the request failed".to_owned()
                }
            })?;
        Ok(answer.status().as_u16())
    }
}

/// Follows the log and delivers for as long as the server runs.
pub(crate) fn spawn(
    pool: AnyPool,
    reader: LogReader<SqlStore>,
    mut heads: watch::Receiver<Head>,
    policy: Policy,
    settings: Settings,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let dispatcher = Arc::new(Dispatcher {
        pool,
        reader,
        policy,
        client: client(&settings)?,
        in_flight: Arc::new(Semaphore::new(settings.concurrency.max(1))),
        settings,
    });
    Ok(tokio::spawn(async move {
        let mut sending = JoinSet::new();
        loop {
            if let Err(error) = dispatcher.match_new().await {
                tracing::warn!(%error, "webhooks: matching new entries failed; retrying");
            }
            if let Err(error) = dispatcher.deliver_due(&mut sending).await {
                tracing::warn!(%error, "webhooks: claiming deliveries failed; retrying");
            }
            tokio::select! {
                changed = heads.changed() => if changed.is_err() { break },
                () = tokio::time::sleep(dispatcher.settings.poll) => {}
            }
        }
    }))
}
