//! Webhooks for integrators (docs/API.md "Webhooks"): a key subscribes a callback URL to
//! one selection of the log — needs or offers by the listing's filters, what concerns
//! one organisation, or what answers one author, the same selections as the Atom feeds
//! (`moderation::queries`) — and each new entry it selects is POSTed there, signed with
//! the subscription's HMAC secret, retried with back-off and logged.
//!
//! `store` keeps subscriptions, deliveries and the delivery log in the server's own
//! tables (not `wf_*`: they are not a function of the log); `target` checks callback
//! URLs and keeps deliveries off private networks; `dispatch` follows the log and sends.

pub mod dispatch;
pub mod store;
pub mod target;

use moderation::queries::{self, Policy, PostFilter, QueryError, Window};
use serde::{Deserialize, Serialize};
use sqlx::AnyPool;
use std::time::Duration;

/// What an operator decides about webhooks.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// Deliver to loopback, private, link-local and other non-public addresses too
    /// (tests, or an instance whose integrators are on its own network).
    pub allow_private_targets: bool,
    /// Subscriptions one key may hold.
    pub per_key: u32,
    /// Subscriptions the instance holds at most (each costs a query per page of log).
    pub total: u32,
    /// Attempts of one delivery before it is marked failed.
    pub max_attempts: u32,
    /// Wait before the second attempt; each further one waits twice as long, up to
    /// [`MAX_RETRY_WAIT`].
    pub retry_base: Duration,
    /// A callback's whole answer (connect, send, status line) must come within this.
    pub timeout: Duration,
    /// Deliveries in flight at once, per node.
    pub concurrency: usize,
    /// How often a node looks for due retries and deliveries other nodes left.
    pub poll: Duration,
}

/// Longest wait between two attempts.
pub const MAX_RETRY_WAIT: Duration = Duration::from_secs(3600);

impl Default for Settings {
    fn default() -> Self {
        Settings {
            allow_private_targets: false,
            per_key: 20,
            total: 10_000,
            max_attempts: 8,
            retry_base: Duration::from_secs(10),
            timeout: Duration::from_secs(10),
            concurrency: 8,
            poll: Duration::from_secs(1),
        }
    }
}

impl Settings {
    /// The wait after failed attempt number `attempt` (from 1).
    pub fn retry_wait(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.retry_base
            .checked_mul(factor)
            .unwrap_or(MAX_RETRY_WAIT)
            .min(MAX_RETRY_WAIT)
    }
}

/// The listing's filters a needs or offers subscription keeps (docs/API.md "Needs").
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// A region code once stored (a name given is resolved when subscribing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub area: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub urgency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified: Option<String>,
}

impl Filter {
    fn post_filter(&self) -> PostFilter {
        PostFilter {
            category: self.category.clone(),
            area: self.area.clone(),
            urgency: self.urgency.clone(),
            verified: self.verified.clone(),
            ..PostFilter::default()
        }
    }
}

/// What a subscription selects: each new entry that posts a need or an offer its
/// filter selects when the entry is reached; each new entry about an organisation
/// (`queries::org_activity`); each new entry that answers an author's entries
/// (`queries::answers_to`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Selection {
    Needs(Filter),
    Offers(Filter),
    /// An organisation's id (hex).
    Org(String),
    /// An author's key (hex).
    Author(String),
}

impl Selection {
    /// The selection with its filters checked as the listings check them and its
    /// area resolved to a code; ids must be 64 lowercase hex digits.
    pub fn checked(self) -> Result<Selection, QueryError> {
        let hex = |name: &str, id: &str| {
            ledger::hex32::decode(id).map(|_| ()).ok_or_else(|| {
                QueryError::BadFilter(format!("{name} must be 64 lowercase hex digits"))
            })
        };
        let resolved = |f: &Filter| -> Result<Filter, QueryError> {
            let r = queries::resolved_post_filter(&f.post_filter())?;
            Ok(Filter {
                area: r.area,
                ..f.clone()
            })
        };
        Ok(match self {
            Selection::Needs(f) => Selection::Needs(resolved(&f)?),
            Selection::Offers(f) => Selection::Offers(resolved(&f)?),
            Selection::Org(id) => {
                hex("org", &id)?;
                Selection::Org(id)
            }
            Selection::Author(key) => {
                hex("author", &key)?;
                Selection::Author(key)
            }
        })
    }

    /// Log indices in `span` this selection takes, oldest first.
    pub async fn indices_in(
        &self,
        pool: &AnyPool,
        policy: Policy,
        span: std::ops::Range<i64>,
    ) -> Result<Vec<i64>, QueryError> {
        match self {
            Selection::Needs(f) => {
                queries::posted_in(pool, policy, "need", &f.post_filter(), span).await
            }
            Selection::Offers(f) => {
                queries::posted_in(pool, policy, "offer", &f.post_filter(), span).await
            }
            Selection::Org(id) => queries::org_activity(pool, id, Window::Span(span)).await,
            Selection::Author(key) => queries::answers_to(pool, key, Window::Span(span)).await,
        }
    }
}

/// Why a webhook request is refused.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("{0}")]
    BadRequest(String),
    #[error("no subscription has id {0}")]
    NotFound(String),
    #[error("this subscription belongs to another key")]
    Forbidden,
    #[error("{0}")]
    Full(String),
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}
