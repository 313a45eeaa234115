//! Keeps the search index caught up with the log: after every new checkpoint, the
//! needs, offers and organisations touched by the new entries are re-read from the
//! workflow tables and upserted, with the last covered log index committed inside the
//! index. After a restart it resumes from that index; `aidledger reindex` rebuilds it.

use contract::{Org, Post};
use indexer::{SearchDoc, SearchIndex, SearchItem};
use ledger::body::Body;
use ledger::entry::SignedEntry;
use ledger::Kind;
use ledger_node::reader::LogReader;
use ledger_node::storage::sql::SqlStore;
use moderation::queries::{self, Policy, QueryError};
use sqlx::AnyPool;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

const PAGE: u64 = 1000;
/// Pages of the log one index commit covers at most.
const PAGES_PER_COMMIT: u64 = 8;

/// Under load the head moves many times a second; what arrives within this long of the
/// last catch-up is indexed with the next, in one index commit (and one fsync).
const GATHER: std::time::Duration = std::time::Duration::from_millis(200);

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Index(#[from] indexer::IndexError),
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error(transparent)]
    Read(#[from] ledger_node::reader::ReadError),
    #[error("entry {0} in the log has no valid body")]
    Invalid(u64),
}

fn post_doc(p: Post) -> SearchDoc {
    let title = match &p.org {
        Some(org) => org.name.clone(),
        None => p.items.first().map(|i| i.item.clone()).unwrap_or_default(),
    };
    SearchDoc {
        title,
        items: p
            .items
            .into_iter()
            .map(|i| SearchItem {
                item: i.item,
                category: i.category,
                spec: i.spec,
            })
            .collect(),
        description: p.description.unwrap_or_default(),
        area_code: p.area.code,
        area_name: p.area.name,
        status: p.status.name().to_owned(),
        urgency: p.urgency.map(|u| u.name().to_owned()),
        verification: p.verification.name().to_owned(),
        created_at: p.created_at,
        deadline: p.until,
        index: p.index as u64,
        id: p.id,
        kind: p.kind.name().to_owned(),
    }
}

fn org_doc(o: Org) -> SearchDoc {
    SearchDoc {
        id: o.id,
        kind: "org".into(),
        title: o.name,
        items: vec![],
        description: o.description.unwrap_or_default(),
        area_code: o.area.code,
        area_name: o.area.name,
        status: "open".into(),
        urgency: None,
        verification: o.verification.name().to_owned(),
        created_at: o.created_at,
        deadline: None,
        index: o.index as u64,
    }
}

/// The current documents of the needs, offers and organisations named as (kind, id),
/// in log order. One that is missing is left out: only entries the rules admitted are
/// in the log, so what they name exists unless the tables are being rebuilt.
pub async fn documents(
    pool: &AnyPool,
    policy: Policy,
    named: impl IntoIterator<Item = (String, String)>,
) -> Result<Vec<SearchDoc>, QueryError> {
    let mut docs = Vec::new();
    let mut posts: HashMap<String, String> = HashMap::new();
    for (kind, id) in named {
        if kind != "org" {
            posts.insert(id, kind);
            continue;
        }
        match queries::org(pool, policy, &id).await {
            Ok(org) => docs.push(org_doc(org)),
            Err(QueryError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    let ids = posts
        .keys()
        .filter_map(|id| ledger::hex32::decode(id).map(|h| h.0.to_vec()))
        .collect::<Vec<_>>();
    for post in queries::posts(pool, policy, &ids).await? {
        if posts.get(&post.id).map(String::as_str) == Some(post.kind.name()) {
            docs.push(post_doc(post));
        }
    }
    docs.sort_unstable_by_key(|d| d.index);
    Ok(docs)
}

/// The body of an entry the log holds. Its signature was verified when it was admitted
/// (and is again by every audit), so it is not verified a second time here.
fn logged_body(leaf: &[u8]) -> Option<Body> {
    let entry: SignedEntry = serde_json::from_slice(leaf).ok()?;
    let kind: Kind = entry.kind.parse().ok()?;
    Body::parse(kind, &entry.body).ok()
}

/// The searchable things the entry `own` (its hex id) changes, as (kind, id).
async fn touched(
    pool: &AnyPool,
    own: String,
    body: &Body,
) -> Result<Vec<(String, String)>, QueryError> {
    Ok(match body {
        Body::OrgRegister(_) => vec![("org".into(), own)],
        Body::OrgUpdate(b) => vec![("org".into(), b.org.clone())],
        Body::NeedPost(_) => vec![("need".into(), own)],
        Body::OfferPost(_) => vec![("offer".into(), own)],
        Body::NeedUpdate(b) => vec![("need".into(), b.need.clone())],
        // Pledges, shipments and deliveries change quantities, which are not indexed.
        Body::Verdict(b) => queries::post_kind(pool, &b.entry)
            .await?
            .map(|kind| (kind, b.entry.clone()))
            .into_iter()
            .collect(),
        // A need's verification follows its organisation's.
        Body::OrgVerify(b) => std::iter::once(("org".to_owned(), b.org.clone()))
            .chain(
                queries::need_ids_of_org(pool, &b.org)
                    .await?
                    .into_iter()
                    .map(|id| ("need".to_owned(), id)),
            )
            .collect(),
        _ => vec![],
    })
}

/// Brings the index up to the log's head; returns the new covered index, if any.
pub async fn catch_up(
    index: &Arc<SearchIndex>,
    reader: &LogReader<SqlStore>,
    pool: &AnyPool,
    policy: Policy,
) -> Result<Option<u64>, SyncError> {
    let head = reader.head().size;
    let covered = index.covered_through()?;
    let mut next = covered.map_or(0, |c| c + 1);
    while next < head {
        // What a stretch of the log touched is read and committed once: a need touched
        // on several pages is read once, and a backlog costs one index commit (and its
        // merges) per stretch rather than per page.
        let end = head.min(next + PAGE * PAGES_PER_COMMIT);
        let mut changed = BTreeSet::new();
        let mut last = None;
        while next < end {
            let page = reader.entries(next, PAGE.min(end - next)).await?;
            let Some(page_last) = page.last().map(|e| e.index) else {
                break;
            };
            for stored in &page {
                let body = logged_body(&stored.leaf).ok_or(SyncError::Invalid(stored.index))?;
                let own = ledger::hex32::encode(&stored.leaf_hash);
                changed.extend(touched(pool, own, &body).await?);
            }
            last = Some(page_last);
            next = page_last + 1;
        }
        let Some(last) = last else {
            break;
        };
        let docs = documents(pool, policy, changed).await?;
        let index = index.clone();
        tokio::task::spawn_blocking(move || index.apply(&docs, &[], last))
            .await
            .expect("index task panicked")?;
    }
    Ok(next.checked_sub(1))
}

/// Follows the log for as long as the server runs.
pub(crate) fn spawn(
    index: Arc<SearchIndex>,
    reader: LogReader<SqlStore>,
    mut heads: tokio::sync::watch::Receiver<ledger_node::sequencer::Head>,
    pool: AnyPool,
    policy: Policy,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(error) = catch_up(&index, &reader, &pool, policy).await {
                tracing::warn!(%error, "search index did not catch up; retrying");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                continue;
            }
            let caught_up = tokio::time::Instant::now();
            if heads.changed().await.is_err() {
                break;
            }
            // An idle log's next entry is indexed at once; a busy one's gathered.
            tokio::time::sleep_until(caught_up + GATHER).await;
        }
    })
}
