//! Read routes of the aid workflow: needs, offers, organisations, the review queue,
//! one author's entries and the verifiable chain of a donation (docs/API.md).

use super::error::ApiError;
use super::extract::{parse_hash, ApiQuery};
use super::log_api::log_entries;
use super::AppState;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use base64::prelude::*;
use contract::{Activity, KeyRoles, Org, OrgMembers, Page, Post, ReviewItem};
use contract::{EntriesQuery, LogEntries, Trace, TraceLink};
use ledger::hex32;
use moderation::queries::{self, PostFilter};
use schemars::JsonSchema;
use serde::Deserialize;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/needs", get(needs))
        .route("/api/v1/needs/{id}", get(one_need))
        .route("/api/v1/offers", get(offers))
        .route("/api/v1/offers/{id}", get(one_offer))
        .route("/api/v1/needs/{id}/matches", get(need_matches))
        .route("/api/v1/offers/{id}/matches", get(offer_matches))
        .route("/api/v1/orgs", get(orgs))
        .route("/api/v1/orgs/{id}", get(one_org))
        .route("/api/v1/orgs/{id}/members", get(org_members))
        .route("/api/v1/keys/{key}/roles", get(key_roles))
        .route("/api/v1/keys/{key}/activity", get(key_activity))
        .route("/api/v1/review", get(review))
        .route("/api/v1/authors/{key}/entries", get(author_entries))
        .route("/api/v1/trace/{hash}", get(trace))
        .route("/api/v1/search", get(search))
        .route("/api/v1/stats", get(stats))
}

/// The filters and paging of the needs and offers lists (docs/API.md).
#[derive(Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PostQuery {
    /// `open`, `met`, `withdrawn` or `expired`.
    status: Option<String>,
    /// A category name.
    category: Option<String>,
    /// A region code or its country's, or a region's name in English or Chinese.
    area: Option<String>,
    /// `critical`, `high`, `medium` or `low`.
    urgency: Option<String>,
    /// `verified`, `pending` or `rejected`.
    verified: Option<String>,
    /// From 1; 0 means 1.
    #[serde(default)]
    page: u32,
    /// At most 100; 0 means 20.
    #[serde(default)]
    per_page: u32,
}

impl From<PostQuery> for PostFilter {
    fn from(q: PostQuery) -> Self {
        PostFilter {
            status: q.status,
            category: q.category,
            area: q.area,
            urgency: q.urgency,
            verified: q.verified,
            page: q.page,
            per_page: q.per_page,
        }
    }
}

async fn list(state: &AppState, kind: &str, q: PostQuery) -> Result<Json<Page<Post>>, ApiError> {
    let filter = q.into();
    Ok(Json(
        queries::list_posts(state.store.pool(), state.policy, kind, &filter).await?,
    ))
}

async fn needs(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PostQuery>,
) -> Result<Json<Page<Post>>, ApiError> {
    list(&state, "need", q).await
}

async fn offers(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PostQuery>,
) -> Result<Json<Page<Post>>, ApiError> {
    list(&state, "offer", q).await
}

async fn one_need(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Post>, ApiError> {
    Ok(Json(
        queries::post(state.store.pool(), state.policy, "need", &id).await?,
    ))
}

async fn one_offer(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Post>, ApiError> {
    Ok(Json(
        queries::post(state.store.pool(), state.policy, "offer", &id).await?,
    ))
}

/// The needs listing's filters without paging, for answers that cover the whole
/// selection (totals, exports).
#[derive(Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SelectionQuery {
    /// `open`, `met`, `withdrawn` or `expired`.
    status: Option<String>,
    /// A category name.
    category: Option<String>,
    /// A region code or its country's, or a region's name in English or Chinese.
    area: Option<String>,
    /// `critical`, `high`, `medium` or `low`.
    urgency: Option<String>,
    /// `verified`, `pending` or `rejected`.
    verified: Option<String>,
}

impl From<SelectionQuery> for PostFilter {
    fn from(q: SelectionQuery) -> Self {
        PostFilter {
            status: q.status,
            category: q.category,
            area: q.area,
            urgency: q.urgency,
            verified: q.verified,
            ..PostFilter::default()
        }
    }
}

async fn stats(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<SelectionQuery>,
) -> Result<Json<contract::Stats>, ApiError> {
    let filter = q.into();
    let _turn = state.totals.take().await?;
    let totals = moderation::stats::stats(state.store.pool(), state.policy, &filter);
    Ok(Json(totals.await?))
}

/// The filters and paging of the organisations list.
#[derive(Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct OrgQuery {
    /// `verified`, `pending` or `rejected`.
    verified: Option<String>,
    /// A region code or its country's, or a region's name in English or Chinese.
    area: Option<String>,
    /// From 1; 0 means 1.
    #[serde(default)]
    page: u32,
    /// At most 100; 0 means 20.
    #[serde(default)]
    per_page: u32,
}

/// The filters, order and paging of the review queue.
#[derive(Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ReviewQuery {
    /// `org.register`, `need.post` or `offer.post`.
    kind: Option<String>,
    /// A region code or its country's, or a region's name in English or Chinese.
    area: Option<String>,
    /// `priority` (the default) or `oldest`.
    sort: Option<String>,
    /// From 1; 0 means 1.
    #[serde(default)]
    page: u32,
    /// At most 100; 0 means 20.
    #[serde(default)]
    per_page: u32,
}

async fn need_matches(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<contract::Matches>, ApiError> {
    let found = moderation::matching::matches(state.store.pool(), state.policy, "need", &id);
    Ok(Json(found.await?))
}

async fn offer_matches(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<contract::Matches>, ApiError> {
    let found = moderation::matching::matches(state.store.pool(), state.policy, "offer", &id);
    Ok(Json(found.await?))
}

async fn orgs(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<OrgQuery>,
) -> Result<Json<Page<Org>>, ApiError> {
    let page = queries::list_orgs(
        state.store.pool(),
        state.policy,
        q.verified,
        q.area,
        q.page,
        q.per_page,
    )
    .await?;
    Ok(Json(page))
}

async fn one_org(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Org>, ApiError> {
    Ok(Json(
        queries::org(state.store.pool(), state.policy, &id).await?,
    ))
}

async fn review(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ReviewQuery>,
) -> Result<Json<Page<ReviewItem>>, ApiError> {
    let filter = moderation::review::ReviewFilter {
        kind: q.kind,
        area: q.area,
        sort: q.sort,
        page: q.page,
        per_page: q.per_page,
    };
    let page = moderation::review::review_queue(state.store.pool(), state.policy, &filter);
    Ok(Json(page.await?))
}

async fn author_entries(
    State(state): State<AppState>,
    Path(key): Path<String>,
    ApiQuery(q): ApiQuery<EntriesQuery>,
) -> Result<Json<LogEntries>, ApiError> {
    let author = parse_hash("key", &key)?;
    let size = state.reader.head().size;
    let entries = state
        .store
        .entries_by_author(
            &author.0,
            q.start,
            q.limit.min(ledger_node::reader::MAX_PAGE),
        )
        .await
        .map_err(ledger_node::reader::ReadError::from)?
        .into_iter()
        .filter(|e| e.index < size)
        .collect();
    Ok(Json(log_entries(entries)))
}

/// The chain of a need or pledge, each link with its leaf and an inclusion proof
/// against one checkpoint, so that a client can verify the whole chain offline.
async fn trace(
    State(state): State<AppState>,
    Path(hash): Path<String>,
) -> Result<Json<Trace>, ApiError> {
    parse_hash("hash", &hash)?;
    let head = state.reader.head();
    let links = queries::chain(state.store.pool(), &hash).await?;
    let mut out = Vec::with_capacity(links.len());
    for link in links.into_iter().filter(|l| (l.index as u64) < head.size) {
        let leaf_hash = parse_hash("hash", &link.id)?;
        let proof = state.reader.inclusion_proof(leaf_hash, head.size).await?;
        let leaf = state
            .reader
            .entries(proof.leaf_index, 1)
            .await?
            .pop()
            .ok_or_else(|| ApiError::NotFound(format!("entry {}", proof.leaf_index)))?;
        out.push(TraceLink {
            index: proof.leaf_index,
            kind: link.kind,
            leaf: BASE64_STANDARD.encode(&leaf.leaf),
            leaf_hash: link.id,
            parent: link.parent,
            proof: proof.hashes.iter().map(hex32::encode).collect(),
        });
    }
    Ok(Json(Trace {
        checkpoint: head.note,
        links: out,
        tree_size: head.size,
    }))
}

/// Full-text search over needs, offers and organisations (docs/API.md).
async fn search(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<indexer::Query>,
) -> Result<Json<contract::SearchResults>, ApiError> {
    run_search(&state, q).await.map(Json)
}

/// Runs one search within the instance's limits (shared by the search API and the
/// needs feed).
pub(super) async fn run_search(
    state: &AppState,
    q: indexer::Query,
) -> Result<contract::SearchResults, ApiError> {
    // Each search may use a core up to its deadline, which is also how long it waits
    // for its turn.
    let _turn = state.searches.take().await?;
    let index = state.search.clone();
    let budget = indexer::Budget::default();
    // This future is dropped when the client goes away (hyper drops it with the
    // connection, a page render drops it with the page): the guard then cancels the
    // blocking search, which stops at its next check instead of running to its
    // deadline for nobody.
    let _cancel = budget.cancel_on_drop();
    let results = tokio::task::spawn_blocking(move || index.search_within(&q, &budget))
        .await
        .map_err(|_| ApiError::Internal("the search stopped unexpectedly"))?;
    match results {
        Ok(results) => Ok(results),
        // 400, not 503: one-word queries take a few percent of the deadline at 1M
        // documents and only queries built to be costly come near it (BENCHMARKS.md
        // (e)), so one that passes it is costly by its own making and the same request
        // would fail again; a 503 invites clients and proxies to retry it, repeating
        // the very load the deadline cuts off.
        Err(e @ indexer::SearchError::TimedOut(_)) => {
            Err(indexer::SearchError::BadQuery(e.to_string()).into())
        }
        Err(e) => Err(e.into()),
    }
}

async fn org_members(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<OrgMembers>, ApiError> {
    Ok(Json(queries::members_of(state.store.pool(), &id).await?))
}

async fn key_roles(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Json<KeyRoles>, ApiError> {
    Ok(Json(queries::roles_of(state.store.pool(), &key).await?))
}

async fn key_activity(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Json<Activity>, ApiError> {
    Ok(Json(
        queries::activity(state.store.pool(), state.policy, &key).await?,
    ))
}
