//! Webhook subscriptions, managed by signed requests of the key that owns them
//! (docs/API.md "Webhooks"). Everything a request says is in its signed path and
//! query: the signature covers no body, so none is read.

use super::auth::SignedBy;
use super::error::ApiError;
use super::extract::ApiQuery;
use super::AppState;
use crate::services::webhooks::store::{self, Delivery, Subscription};
use crate::services::webhooks::{target, Filter, Selection, WebhookError};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use ledger_node::reader::ReadError;
use ledger_node::storage::LogStore;
use serde::{Deserialize, Serialize};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/webhooks", get(list).post(subscribe))
        .route("/api/v1/webhooks/{id}", delete(unsubscribe))
        .route("/api/v1/webhooks/{id}/deliveries", get(deliveries))
}

/// A subscription's parameters: the callback and exactly one of `org`, `author` or
/// `kind` (with the listing's filters).
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SubscribeQuery {
    /// Where deliveries are POSTed: http(s), at most 2048 bytes.
    url: String,
    org: Option<String>,
    author: Option<String>,
    kind: Option<String>,
    category: Option<String>,
    area: Option<String>,
    urgency: Option<String>,
    verified: Option<String>,
}

/// A new subscription, with the secret that signs its deliveries: shown this once.
#[derive(Serialize, schemars::JsonSchema)]
pub(super) struct Created {
    #[serde(flatten)]
    subscription: Subscription,
    /// HMAC-SHA256 key of `X-Aidledger-Signature` (docs/API.md "Webhooks").
    secret: String,
}

/// A key's subscriptions, oldest first.
#[derive(Serialize, schemars::JsonSchema)]
pub(super) struct Subscriptions {
    subscriptions: Vec<Subscription>,
}

/// The id of the subscription deleted.
#[derive(Serialize, schemars::JsonSchema)]
pub(super) struct Deleted {
    deleted: String,
}

/// A subscription's newest deliveries, each with its attempts.
#[derive(Serialize, schemars::JsonSchema)]
pub(super) struct Deliveries {
    deliveries: Vec<Delivery>,
}

const ONE_SELECTION: &str =
    "name exactly one of org=<id>, author=<key> or kind=need|offer (with category, area, urgency, verified)";

impl SubscribeQuery {
    fn selection(self) -> Result<Selection, WebhookError> {
        let filter = Filter {
            category: self.category,
            area: self.area,
            urgency: self.urgency,
            verified: self.verified,
        };
        let filtered = filter != Filter::default();
        let bad = |msg: &str| Err(WebhookError::BadRequest(msg.to_owned()));
        let selection = match (self.org, self.author, self.kind.as_deref()) {
            (Some(_), _, _) | (_, Some(_), _) if filtered => {
                return bad(
                    "category, area, urgency and verified go with kind=need or kind=offer only",
                )
            }
            (Some(org), None, None) => Selection::Org(org),
            (None, Some(author), None) => Selection::Author(author),
            (None, None, Some("need")) => Selection::Needs(filter),
            (None, None, Some("offer")) => Selection::Offers(filter),
            (None, None, Some(_)) => return bad("kind must be need or offer"),
            _ => return bad(ONE_SELECTION),
        };
        Ok(selection.checked()?)
    }
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut buf);
    hex::encode(buf)
}

async fn subscribe(
    State(state): State<AppState>,
    SignedBy(owner): SignedBy,
    ApiQuery(q): ApiQuery<SubscribeQuery>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    state.limiter.check_key(owner.as_bytes())?;
    let url = target::callback(&q.url, state.webhooks.allow_private_targets)?;
    let selection = q.selection()?;
    let secret = random_hex(32);
    // A subscription starts after every entry the log had acknowledged when it was
    // made: on a node of a shared log, the node's own readers may not serve the latest
    // checkpoint yet, so the database's is read too.
    let stored = state
        .store
        .latest_checkpoint()
        .await
        .map_err(ReadError::Storage)?
        .map_or(0, |c| c.tree_size);
    let from_index = state.reader.head().size.max(stored);
    let created = store::create(
        state.store.pool(),
        &state.webhooks,
        owner.as_bytes(),
        Subscription {
            id: random_hex(16),
            url: url.into(),
            selection,
            from_index: i64::try_from(from_index).unwrap_or(i64::MAX),
            created_at: store::created_now(),
        },
        &secret,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(Created {
            subscription: created,
            secret,
        }),
    ))
}

async fn list(
    State(state): State<AppState>,
    SignedBy(owner): SignedBy,
) -> Result<Json<Subscriptions>, ApiError> {
    let subscriptions = store::list(state.store.pool(), owner.as_bytes()).await?;
    Ok(Json(Subscriptions { subscriptions }))
}

async fn unsubscribe(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedBy(owner): SignedBy,
) -> Result<Json<Deleted>, ApiError> {
    store::delete(state.store.pool(), owner.as_bytes(), &id).await?;
    Ok(Json(Deleted { deleted: id }))
}

async fn deliveries(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedBy(owner): SignedBy,
) -> Result<Json<Deliveries>, ApiError> {
    let deliveries = store::deliveries(state.store.pool(), owner.as_bytes(), &id).await?;
    Ok(Json(Deliveries { deliveries }))
}
