//! The review queue (`GET /api/v1/review`): organisations short of the verification
//! quorum, needs and offers short of theirs, none of them rejected, each with what a
//! moderator weighs it by: the organisation, the evidence, the author's record in the
//! log, likely duplicates, and a priority.
//!
//! The priority is a sum of points, so that a moderator can see why one item comes
//! before another (docs/API.md): urgency (critical 30, high 20, medium 10, low 5; an
//! organisation 15, since its needs wait on it; an offer 5), time waiting by the `created_at` its
//! author wrote (an hour 5, a day 10, a week 20), and 10 for each pledge waiting on it
//! (at most 50).

use crate::queries::{
    self, area_code, area_filter, area_of, hex, item_names, named, named_or_null, offset, one_of,
    pages, Policy, QueryError,
};
use contract::{AuthorHistory, OrgRef, Page, ReviewItem, SimilarEntry};
use ledger::{hex32, Kind};
use ledger_node::storage::query::QueryBuilder;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};
use std::collections::HashMap;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

/// Likely duplicates listed per item.
const MAX_SIMILAR: usize = 5;

/// How the queue is ordered.
pub const SORTS: [&str; 2] = ["priority", "oldest"];

/// The queue's filters.
#[derive(Clone, Debug, Default)]
pub struct ReviewFilter {
    pub kind: Option<String>,
    pub area: Option<String>,
    /// One of [`SORTS`]; `None` is `priority`.
    pub sort: Option<String>,
    pub page: u32,
    pub per_page: u32,
}

/// `created_at` as its authors write it (`2026-12-05T10:00:00Z`), `ago` before now, so
/// that ages compare as text on both backends.
fn written_before(ago: Duration) -> String {
    (OffsetDateTime::now_utc() - ago)
        .replace_nanosecond(0)
        .ok()
        .and_then(|at| at.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// `FROM` the queue: every item awaiting a verdict, with the columns a [`ReviewItem`]
/// is made of and its priority, filtered.
fn queue(q: &mut QueryBuilder<'_>, policy: Policy, f: &ReviewFilter) {
    q.push(
        " FROM (SELECT queue.*,
            CASE WHEN kind = 'org.register' THEN 15 WHEN urgency = 'critical' THEN 30
                 WHEN urgency = 'high' THEN 20 WHEN urgency = 'medium' THEN 10 ELSE 5 END
            + CASE WHEN created_at < ",
    )
    .push_bind(written_before(Duration::weeks(1)))
    .push(" THEN 20 WHEN created_at < ")
    .push_bind(written_before(Duration::days(1)))
    .push(" THEN 10 WHEN created_at < ")
    .push_bind(written_before(Duration::hours(1)))
    .push(
        " THEN 5 ELSE 0 END
            + CASE WHEN pledges > 5 THEN 50 ELSE 10 * pledges END AS priority
        FROM (SELECT o.id, o.idx, 'org.register' AS kind, o.author, o.name AS title,
                o.area_code, o.area_name, o.created_at, o.verifies, o.description,
                NULL AS evidence_url, NULL AS evidence_photo, 0 AS relayed, NULL AS urgency,
                NULL AS needed_by, o.org_type, NULL AS org, NULL AS org_name,
                NULL AS org_verification,
                (SELECT COUNT(*) FROM wf_links l JOIN wf_posts n ON n.id = l.need
                 WHERE n.org = o.id AND l.kind = 'pledge') AS pledges
              FROM wf_orgs o WHERE o.rejects = 0 AND o.verifies < ",
    )
    .push_bind(i64::from(policy.quorum))
    .push(
        " UNION ALL
              SELECT p.id, p.idx, p.kind || '.post', p.author, '', p.area_code, p.area_name,
                p.created_at, p.verifies, p.description, p.evidence_url, p.evidence_photo,
                p.relayed, p.urgency, p.needed_by, NULL, p.org, og.name, ",
    );
    queries::org_verification(q, "og", policy);
    q.push(
        ", (SELECT COUNT(*) FROM wf_links l WHERE l.need = p.id AND l.kind = 'pledge')
              FROM wf_posts p LEFT JOIN wf_orgs og ON og.id = p.org
              WHERE p.rejects = 0 AND p.status = 'open' AND p.verifies < ",
    )
    .push_bind(i64::from(policy.post_quorum))
    .push(" AND (p.needed_by IS NULL OR p.needed_by >= ")
    .push_bind(queries::today())
    .push(")) queue) AS ranked WHERE 1 = 1");
    if let Some(k) = &f.kind {
        q.push(" AND kind = ").push_bind(k.clone());
    }
    if let Some(a) = &f.area {
        area_filter(q, "area_code", a);
    }
}

fn item_from_row(r: &AnyRow) -> Result<ReviewItem, QueryError> {
    let org = match r.get::<Option<Vec<u8>>, _>("org") {
        Some(id) => Some(OrgRef {
            id: hex(id),
            name: r.get("org_name"),
            verification: named(r, "org_verification")?,
        }),
        None => None,
    };
    Ok(ReviewItem {
        area: area_of(r),
        author: hex(r.get("author")),
        created_at: r.get("created_at"),
        description: r.get("description"),
        evidence_photo_sha256: r.get("evidence_photo"),
        evidence_url: r.get("evidence_url"),
        history: AuthorHistory::default(),
        id: hex(r.get("id")),
        index: r.get("idx"),
        kind: named(r, "kind")?,
        org,
        org_type: named_or_null(r, "org_type")?,
        pledges: r.get("pledges"),
        priority: r.get("priority"),
        relayed: r.get::<i64, _>("relayed") != 0,
        similar: vec![],
        title: r.get("title"),
        until: r.get("needed_by"),
        urgency: named_or_null(r, "urgency")?,
        verifies: r.get("verifies"),
    })
}

/// What awaits a moderator, most pressing first (or oldest first).
pub async fn review_queue(
    pool: &AnyPool,
    policy: Policy,
    f: &ReviewFilter,
) -> Result<Page<ReviewItem>, QueryError> {
    one_of(
        "kind",
        &f.kind,
        &["org.register", "need.post", "offer.post"],
    )?;
    one_of("sort", &f.sort, &SORTS)?;
    let (page, per_page) = pages(f.page, f.per_page)?;
    let f = &ReviewFilter {
        area: area_code(f.area.as_deref())?,
        ..f.clone()
    };

    let mut count = QueryBuilder::new("SELECT COUNT(*)");
    queue(&mut count, policy, f);
    let total: i64 = count.build().fetch_one(pool).await?.get(0);

    let mut q = QueryBuilder::new("SELECT *");
    queue(&mut q, policy, f);
    q.push(match f.sort.as_deref() {
        Some("oldest") => " ORDER BY idx",
        _ => " ORDER BY priority DESC, idx",
    })
    .push(" LIMIT ")
    .push_bind(i64::from(per_page))
    .push(" OFFSET ")
    .push_bind(offset(page, per_page));
    let mut items: Vec<ReviewItem> = q
        .build()
        .fetch_all(pool)
        .await?
        .iter()
        .map(item_from_row)
        .collect::<Result<_, _>>()?;

    let posts: Vec<String> = items
        .iter()
        .filter(|i| i.kind != Kind::OrgRegister)
        .map(|i| i.id.clone())
        .collect();
    let mut names = item_names(pool, &posts).await?;
    for item in items.iter_mut().filter(|i| i.kind != Kind::OrgRegister) {
        item.title = names.remove(&item.id).unwrap_or_default().join(", ");
    }
    attach_histories(pool, policy, &mut items).await?;
    attach_similar(pool, &mut items).await?;
    Ok(Page {
        items,
        page,
        per_page,
        total,
    })
}

fn bytes_of(id: &str) -> Vec<u8> {
    hex32::decode(id).map(|h| h.0.to_vec()).unwrap_or_default()
}

/// Each author's record: posts, organisations and links they wrote, and verdicts on
/// them, from one grouped statement over the authors of the page.
async fn attach_histories(
    pool: &AnyPool,
    policy: Policy,
    items: &mut [ReviewItem],
) -> Result<(), QueryError> {
    if items.is_empty() {
        return Ok(());
    }
    let authors: std::collections::BTreeSet<Vec<u8>> =
        items.iter().map(|i| bytes_of(&i.author)).collect();
    let mut q = QueryBuilder::new(
        "SELECT author, what, COUNT(*), CAST(SUM(ok) AS BIGINT), CAST(SUM(bad) AS BIGINT), MIN(idx)
         FROM (SELECT author, 'post' AS what, idx,
                 CASE WHEN verifies >= ",
    );
    q.push_bind(i64::from(policy.post_quorum))
        .push(
            " THEN 1 ELSE 0 END AS ok, CASE WHEN rejects > 0 THEN 1 ELSE 0 END AS bad
               FROM wf_posts WHERE author IN (",
        )
        .push_list(authors.iter().cloned())
        .push(
            ") UNION ALL SELECT author, 'org', idx, CASE WHEN rejects = 0 AND verifies >= ",
        )
        .push_bind(i64::from(policy.quorum))
        .push(" THEN 1 ELSE 0 END, CASE WHEN rejects > 0 THEN 1 ELSE 0 END FROM wf_orgs WHERE author IN (")
        .push_list(authors.iter().cloned())
        .push(") UNION ALL SELECT author, 'link', idx, 0, 0 FROM wf_links WHERE author IN (")
        .push_list(authors)
        .push(") AND kind IN ('pledge', 'shipment', 'delivery.confirm')) h GROUP BY author, what");
    let mut histories: HashMap<String, AuthorHistory> = HashMap::new();
    for r in q.build().fetch_all(pool).await? {
        let h = histories.entry(hex(r.get(0))).or_insert(AuthorHistory {
            since: i64::MAX,
            ..AuthorHistory::default()
        });
        let count: i64 = r.get(2);
        match r.get::<String, _>(1).as_str() {
            "post" => h.posts = count,
            "org" => h.orgs = count,
            _ => h.links = count,
        }
        h.verified += r.get::<i64, _>(3);
        h.rejected += r.get::<i64, _>(4);
        h.since = h.since.min(r.get(5));
    }
    for item in items.iter_mut() {
        item.history = histories.get(&item.author).cloned().unwrap_or_default();
    }
    Ok(())
}

/// Likely duplicates of the page's items: for a need, the same organisation's other
/// open needs sharing a category; for an offer, the same author's; for an
/// organisation, the others of the same name (ignoring case). Rejected ones are left
/// out.
async fn attach_similar(pool: &AnyPool, items: &mut [ReviewItem]) -> Result<(), QueryError> {
    let (orgs, posts): (Vec<&ReviewItem>, Vec<&ReviewItem>) =
        items.iter().partition(|i| i.kind == Kind::OrgRegister);
    let mut found: HashMap<String, Vec<SimilarEntry>> = HashMap::new();
    let mut push = |of: String, entry: SimilarEntry| {
        let list = found.entry(of).or_default();
        if list.len() < MAX_SIMILAR {
            list.push(entry);
        }
    };
    if !orgs.is_empty() {
        let mut q = QueryBuilder::new(
            "SELECT a.id, b.id, b.idx, b.name, b.created_at FROM wf_orgs a
             JOIN wf_orgs b ON lower(b.name) = lower(a.name) AND b.id != a.id AND b.rejects = 0
             WHERE a.id IN (",
        );
        q.push_list(orgs.iter().map(|i| bytes_of(&i.id)))
            .push(") ORDER BY a.id, b.idx");
        for r in q.build().fetch_all(pool).await? {
            push(
                hex(r.get(0)),
                SimilarEntry {
                    id: hex(r.get(1)),
                    index: r.get(2),
                    title: r.get(3),
                    created_at: r.get(4),
                },
            );
        }
    }
    if !posts.is_empty() {
        let mut q = QueryBuilder::new(
            "SELECT a.id, b.id, b.idx, b.created_at FROM wf_posts a
             JOIN wf_posts b ON b.kind = a.kind AND b.id != a.id AND b.rejects = 0
               AND b.status = 'open'
               AND ((a.org IS NOT NULL AND b.org = a.org) OR (a.org IS NULL AND b.author = a.author))
             WHERE a.id IN (",
        );
        q.push_list(posts.iter().map(|i| bytes_of(&i.id))).push(
            ") AND EXISTS (SELECT 1 FROM wf_post_items ai JOIN wf_post_items bi
                 ON bi.category = ai.category WHERE ai.post = a.id AND bi.post = b.id)
             ORDER BY a.id, b.idx",
        );
        let rows = q.build().fetch_all(pool).await?;
        let similar: Vec<String> = rows.iter().map(|r| hex(r.get(1))).collect();
        let names = item_names(pool, &similar).await?;
        for r in rows {
            let id = hex(r.get(1));
            let title = names.get(&id).map(|n| n.join(", ")).unwrap_or_default();
            push(
                hex(r.get(0)),
                SimilarEntry {
                    id,
                    index: r.get(2),
                    title,
                    created_at: r.get(3),
                },
            );
        }
    }
    for item in items.iter_mut() {
        item.similar = found.remove(&item.id).unwrap_or_default();
    }
    Ok(())
}
