//! Webhook subscriptions, managed by signed requests of the key that owns them
//! (docs/API.md "Webhooks"). Everything a request says is in its signed path and
//! query: the signature covers no body, so none is read.

use super::auth::SignedBy;
use super::error::ApiError;
use super::extract::ApiQuery;
use super::AppState;
use crate::services::webhooks::store::{self, Subscription};
use crate::services::webhooks::{target, Filter, Selection, WebhookError};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/webhooks", get(list).post(subscribe))
        .route("/api/v1/webhooks/{id}", delete(unsubscribe))
        .route("/api/v1/webhooks/{id}/deliveries", get(deliveries))
}

/// A subscription's parameters: the callback and exactly one of `org`, `author` or
/// `kind` (with the listing's filters).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubscribeQuery {
    url: String,
    org: Option<String>,
    author: Option<String>,
    kind: Option<String>,
    category: Option<String>,
    area: Option<String>,
    urgency: Option<String>,
    verified: Option<String>,
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
) -> Result<(StatusCode, Json<Value>), ApiError> {
    state.limiter.check_key(owner.as_bytes())?;
    let url = target::callback(&q.url, state.webhooks.allow_private_targets)?;
    let selection = q.selection()?;
    let secret = random_hex(32);
    let created = store::create(
        state.store.pool(),
        &state.webhooks,
        owner.as_bytes(),
        Subscription {
            id: random_hex(16),
            url: url.into(),
            selection,
            from_index: i64::try_from(state.reader.head().size).unwrap_or(i64::MAX),
            created_at: store::created_now(),
        },
        &secret,
    )
    .await?;
    let mut answer = serde_json::to_value(created).expect("a subscription serializes");
    answer["secret"] = json!(secret);
    Ok((StatusCode::CREATED, Json(answer)))
}

async fn list(
    State(state): State<AppState>,
    SignedBy(owner): SignedBy,
) -> Result<Json<Value>, ApiError> {
    let subscriptions = store::list(state.store.pool(), owner.as_bytes()).await?;
    Ok(Json(json!({ "subscriptions": subscriptions })))
}

async fn unsubscribe(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedBy(owner): SignedBy,
) -> Result<Json<Value>, ApiError> {
    store::delete(state.store.pool(), owner.as_bytes(), &id).await?;
    Ok(Json(json!({ "deleted": id })))
}

async fn deliveries(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedBy(owner): SignedBy,
) -> Result<Json<Value>, ApiError> {
    let deliveries = store::deliveries(state.store.pool(), owner.as_bytes(), &id).await?;
    Ok(Json(json!({ "deliveries": deliveries })))
}
