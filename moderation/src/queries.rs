//! What people read: needs with their quantities, offers, organisations, the review
//! queue and the chain of a donation, from the derived tables.
//!
//! Two things are computed at read time rather than stored, because they depend on the
//! clock or on configuration and the tables must stay a pure function of the log:
//! expiry (an open need past its `needed_by` date reads as `expired`) and verification
//! status (which depends on the configured quorum).

use contract::{
    Activity, Area, Donation, ItemLine, KeyRoles, Org, OrgMember, OrgMembers, OrgRef, Page, Post,
    SearchKind, Stage, VerdictGiven, Waiting,
};
use ledger::hex32;
use ledger_node::storage::query::{row_chunks, QueryBuilder};
use serde::de::DeserializeOwned;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};
use std::collections::HashMap;

/// Most results per page.
pub const MAX_PER_PAGE: u32 = 100;

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("{0}")]
    BadFilter(String),
    #[error("{0}")]
    NotFound(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the database holds a value the API does not know in {0}")]
    Malformed(&'static str),
}

/// How verification is decided (DESIGN.md §2: moderators verify organisations).
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// Distinct moderators' `verified` verdicts that make an organisation verified.
    pub quorum: u32,
    /// Distinct moderators' `verify` verdicts that make a need or an offer verified on
    /// its own (a need of a verified organisation is verified anyway).
    pub post_quorum: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            quorum: 2,
            post_quorum: 1,
        }
    }
}

/// Filters of a needs or offers listing; `None` means any.
#[derive(Clone, Debug, Default)]
pub struct PostFilter {
    pub status: Option<String>,
    pub category: Option<String>,
    /// A region code, or a region's name in English or Chinese.
    pub area: Option<String>,
    pub urgency: Option<String>,
    /// `verified`, `pending` or `rejected`; rejected posts are listed only when asked for.
    pub verified: Option<String>,
    pub page: u32,
    pub per_page: u32,
}

/// A column holding one of the API's named values (a status, a verification, a
/// kind...), as that value.
pub(crate) fn named<T: DeserializeOwned>(
    r: &AnyRow,
    column: &'static str,
) -> Result<T, QueryError> {
    contract::from_name(&r.get::<String, _>(column)).ok_or(QueryError::Malformed(column))
}

/// Like `named`, for a column that may be NULL.
pub(crate) fn named_or_null<T: DeserializeOwned>(
    r: &AnyRow,
    column: &'static str,
) -> Result<Option<T>, QueryError> {
    match r.get::<Option<String>, _>(column) {
        Some(_) => named(r, column).map(Some),
        None => Ok(None),
    }
}

pub(crate) fn area_of(r: &AnyRow) -> Area {
    Area {
        code: r.get("area_code"),
        name: r.get("area_name"),
    }
}

pub(crate) fn hex(bytes: Vec<u8>) -> String {
    hex::encode(bytes)
}

fn id_bytes(field: &str, id: &str) -> Result<Vec<u8>, QueryError> {
    hex32::decode(id)
        .map(|h| h.0.to_vec())
        .ok_or_else(|| QueryError::BadFilter(format!("{field} must be 64 lowercase hex digits")))
}

pub(crate) fn one_of(
    field: &str,
    value: &Option<String>,
    allowed: &[&str],
) -> Result<(), QueryError> {
    match value {
        Some(v) if !allowed.contains(&v.as_str()) => Err(QueryError::BadFilter(format!(
            "{field} must be one of {}",
            allowed.join(", ")
        ))),
        _ => Ok(()),
    }
}

pub(crate) fn pages(page: u32, per_page: u32) -> Result<(u32, u32), QueryError> {
    let page = page.max(1);
    let per_page = if per_page == 0 { 20 } else { per_page };
    if per_page > MAX_PER_PAGE {
        return Err(QueryError::BadFilter(format!(
            "per_page must be at most {MAX_PER_PAGE}"
        )));
    }
    Ok((page, per_page))
}

/// Rows skipped before `page` (computed wide: a huge page is just past the end).
pub(crate) fn offset(page: u32, per_page: u32) -> i64 {
    i64::from(page - 1) * i64::from(per_page)
}

/// Matches a region code exactly, or a country code against its regions (`CN`
/// matches `CN-HB`), without pattern characters. (The length is cast: PostgreSQL's
/// `substr` takes an `integer`, and a bound `i64` is a `bigint`.)
pub(crate) fn area_filter(q: &mut QueryBuilder<'_>, column: &str, area: &str) {
    q.push(format!(" AND ({column} = "))
        .push_bind(area.to_owned())
        .push(format!(" OR substr({column}, 1, CAST("))
        .push_bind(area.len() as i64 + 1)
        .push(" AS INTEGER)) = ")
        .push_bind(format!("{area}-"))
        .push(")");
}

/// The region code an `area` filter means: a code (`CN`, `CN-HB`) or the name of a
/// region in English or Chinese (`Hubei`, `湖北省`), as crate `regions` resolves it.
pub(crate) fn area_code(area: Option<&str>) -> Result<Option<String>, QueryError> {
    area.map(regions::resolve)
        .transpose()
        .map_err(|e| QueryError::BadFilter(e.to_string()))
}

pub(crate) fn today() -> String {
    time::OffsetDateTime::now_utc().date().to_string()
}

/// The verification of the organisation `alias` (a `wf_orgs` row, NULL when there is
/// none), as a `CASE` expression.
pub(crate) fn org_verification(q: &mut QueryBuilder<'_>, alias: &str, policy: Policy) {
    q.push(format!(
        "CASE WHEN {alias}.id IS NULL THEN NULL WHEN {alias}.rejects > 0 THEN 'rejected' WHEN {alias}.verifies >= "
    ))
    .push_bind(i64::from(policy.quorum))
    .push(" THEN 'verified' ELSE 'pending' END");
}

/// Columns and joins shared by every post query; `read_status` and `verification` are
/// the read-time values described in the module documentation. A post is verified by
/// its own quorum of verdicts or, if it has one, by its organisation's verification.
pub(crate) fn post_select(q: &mut QueryBuilder<'_>, columns: &str, policy: Policy) {
    q.push("SELECT ")
        .push(columns)
        .push(" FROM (SELECT p.*, o.name AS org_name, o.delivery_point AS org_delivery_point, ");
    org_verification(q, "o", policy);
    q.push(
        " AS org_verification,
                CASE WHEN p.rejects > 0 THEN 'rejected'
                     WHEN p.verifies >= ",
    )
    .push_bind(i64::from(policy.post_quorum))
    .push(" OR (o.id IS NOT NULL AND o.rejects = 0 AND o.verifies >= ")
    .push_bind(i64::from(policy.quorum))
    .push(
        ") THEN 'verified' ELSE 'pending' END AS verification,
                CASE WHEN p.status = 'open' AND p.needed_by IS NOT NULL AND p.needed_by < ",
    )
    .push_bind(today())
    .push(
        " THEN 'expired' ELSE p.status END AS read_status
              FROM wf_posts p LEFT JOIN wf_orgs o ON o.id = p.org) v WHERE 1 = 1",
    );
}

pub(crate) fn post_filters(q: &mut QueryBuilder<'_>, kind: &str, f: &PostFilter) {
    q.push(" AND v.kind = ").push_bind(kind.to_owned());
    if let Some(s) = &f.status {
        q.push(" AND v.read_status = ").push_bind(s.clone());
    }
    if let Some(a) = &f.area {
        area_filter(q, "v.area_code", a);
    }
    if let Some(u) = &f.urgency {
        q.push(" AND v.urgency = ").push_bind(u.clone());
    }
    if let Some(c) = &f.category {
        q.push(" AND EXISTS (SELECT 1 FROM wf_post_items i WHERE i.post = v.id AND i.category = ")
            .push_bind(c.clone())
            .push(")");
    }
    match &f.verified {
        Some(v) => {
            q.push(" AND v.verification = ").push_bind(v.clone());
        }
        None => {
            q.push(" AND v.verification != 'rejected'");
        }
    }
}

pub(crate) fn post_from_row(r: &AnyRow) -> Result<Post, QueryError> {
    let org_id: Option<Vec<u8>> = r.get("org");
    Ok(Post {
        id: hex(r.get("id")),
        index: r.get("idx"),
        kind: named(r, "kind")?,
        author: hex(r.get("author")),
        org: match org_id {
            Some(id) => Some(OrgRef {
                id: hex(id),
                name: r.get("org_name"),
                verification: named(r, "org_verification")?,
            }),
            None => None,
        },
        urgency: named_or_null(r, "urgency")?,
        until: r.get("needed_by"),
        area: area_of(r),
        description: r.get("description"),
        delivery_point: r
            .get::<Option<String>, _>("delivery_point")
            .or_else(|| r.get("org_delivery_point")),
        status: named(r, "read_status")?,
        verification: named(r, "verification")?,
        relayed: r.get::<i64, _>("relayed") != 0,
        evidence_url: r.get("evidence_url"),
        evidence_photo_sha256: r.get("evidence_photo"),
        duplicate_of: r.get::<Option<Vec<u8>>, _>("duplicate_of").map(hex),
        stale_flags: r.get("stale_flags"),
        created_at: r.get("created_at"),
        items: vec![],
    })
}

/// The posts `q` selects (the columns of [`post_select`]), each with its item lines.
pub(crate) async fn posts_of(
    pool: &AnyPool,
    q: &mut QueryBuilder<'_>,
) -> Result<Vec<Post>, QueryError> {
    let mut posts: Vec<Post> = q
        .build()
        .fetch_all(pool)
        .await?
        .iter()
        .map(post_from_row)
        .collect::<Result<_, _>>()?;
    attach_items(pool, &mut posts).await?;
    Ok(posts)
}

async fn attach_items(pool: &AnyPool, posts: &mut [Post]) -> Result<(), QueryError> {
    if posts.is_empty() {
        return Ok(());
    }
    let mut q = QueryBuilder::new(
        "SELECT post, line, item, category, unit, spec, requested, pledged, shipped, delivered
         FROM wf_post_items WHERE post IN (",
    );
    q.push_list(posts.iter().map(|p| {
        hex32::decode(&p.id)
            .map(|h| h.0.to_vec())
            .unwrap_or_default()
    }))
    .push(") ORDER BY post, line");
    let mut by_post: HashMap<String, Vec<ItemLine>> = HashMap::new();
    for r in q.build().fetch_all(pool).await? {
        let requested: i64 = r.get("requested");
        let pledged: i64 = r.get("pledged");
        by_post
            .entry(hex(r.get("post")))
            .or_default()
            .push(ItemLine {
                line: u32::try_from(r.get::<i64, _>("line"))
                    .map_err(|_| QueryError::Malformed("line"))?,
                item: r.get("item"),
                category: r.get("category"),
                unit: r.get("unit"),
                spec: r.get("spec"),
                requested,
                pledged,
                shipped: r.get("shipped"),
                delivered: r.get("delivered"),
                remaining: (requested - pledged).max(0),
            });
    }
    for p in posts {
        p.items = by_post.remove(&p.id).unwrap_or_default();
    }
    Ok(())
}

/// Refuses a filter value the listing does not know, naming the parameter.
pub(crate) fn check_post_filter(f: &PostFilter) -> Result<(), QueryError> {
    one_of(
        "status",
        &f.status,
        &["open", "met", "withdrawn", "expired"],
    )?;
    one_of(
        "urgency",
        &f.urgency,
        &["critical", "high", "medium", "low"],
    )?;
    one_of(
        "verified",
        &f.verified,
        &["verified", "pending", "rejected"],
    )?;
    let categories: Vec<&str> = ledger::body::Category::ALL
        .iter()
        .map(|c| c.name())
        .collect();
    one_of("category", &f.category, &categories)
}

/// `f` checked (a value the listing does not know is refused, naming the parameter),
/// with its `area` resolved to a region code.
pub fn resolved_post_filter(f: &PostFilter) -> Result<PostFilter, QueryError> {
    check_post_filter(f)?;
    Ok(PostFilter {
        area: area_code(f.area.as_deref())?,
        ..f.clone()
    })
}

/// Needs (`kind` = "need") or offers ("offer"), most urgent and oldest first.
pub async fn list_posts(
    pool: &AnyPool,
    policy: Policy,
    kind: &str,
    f: &PostFilter,
) -> Result<Page<Post>, QueryError> {
    let (page, per_page) = pages(f.page, f.per_page)?;
    let f = &resolved_post_filter(f)?;

    let mut count = QueryBuilder::new("");
    post_select(&mut count, "COUNT(*)", policy);
    post_filters(&mut count, kind, f);
    let total: i64 = count.build().fetch_one(pool).await?.get(0);

    let mut q = QueryBuilder::new("");
    post_select(&mut q, "v.*", policy);
    post_filters(&mut q, kind, f);
    q.push(" ORDER BY v.urgency_rank, v.idx LIMIT ")
        .push_bind(i64::from(per_page))
        .push(" OFFSET ")
        .push_bind(offset(page, per_page));
    let items = posts_of(pool, &mut q).await?;
    Ok(Page {
        items,
        page,
        per_page,
        total,
    })
}

/// Log indices of the needs (`kind` = "need") or offers ("offer") posted in `span`
/// that the listing's filter `f` (resolved: [`resolved_post_filter`]) selects now,
/// oldest first.
pub async fn posted_in(
    pool: &AnyPool,
    policy: Policy,
    kind: &str,
    f: &PostFilter,
    span: std::ops::Range<i64>,
) -> Result<Vec<i64>, QueryError> {
    let mut q = QueryBuilder::new("");
    post_select(&mut q, "v.idx", policy);
    post_filters(&mut q, kind, f);
    q.push(" AND v.idx >= ")
        .push_bind(span.start)
        .push(" AND v.idx < ")
        .push_bind(span.end)
        .push(" ORDER BY v.idx");
    Ok(q.build()
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// Open, unrejected needs (`kind` = "need") or offers ("offer") with a line of one of
/// `categories` that still has something left, nearest `area` first (the same code,
/// then the same country, then elsewhere, newest first within each), at most `limit`.
pub async fn open_posts_sharing(
    pool: &AnyPool,
    policy: Policy,
    kind: &str,
    categories: &[String],
    area: &str,
    limit: u32,
) -> Result<Vec<Post>, QueryError> {
    let open = PostFilter {
        status: Some("open".into()),
        ..PostFilter::default()
    };
    let mut q = QueryBuilder::new("");
    post_select(&mut q, "v.*", policy);
    post_filters(&mut q, kind, &open);
    q.push(
        " AND EXISTS (SELECT 1 FROM wf_post_items i WHERE i.post = v.id
           AND i.requested > i.pledged AND i.category IN (",
    )
    .push_list(categories.iter().cloned())
    .push(")) ORDER BY CASE WHEN v.area_code = ")
    .push_bind(area.to_owned())
    .push(" THEN 0 WHEN v.area_code LIKE ")
    .push_bind(format!("{}%", area.get(..2).unwrap_or(area)))
    .push(" THEN 1 ELSE 2 END, v.idx DESC LIMIT ")
    .push_bind(i64::from(limit));
    posts_of(pool, &mut q).await
}

/// One need (`kind` = "need") or offer ("offer"), whatever its status.
pub async fn post(
    pool: &AnyPool,
    policy: Policy,
    kind: &str,
    id: &str,
) -> Result<Post, QueryError> {
    posts(pool, policy, &[id_bytes("id", id)?])
        .await?
        .pop()
        .filter(|p| p.kind.name() == kind)
        .ok_or_else(|| QueryError::NotFound(format!("no need or offer has id {id}")))
}

/// The needs and offers among `ids`, each as [`post`] reads it, in no particular
/// order; an id of neither is left out. A statement per [`row_chunks`] of ids rather
/// than one per post: the search index's follower reads every post a page of the log
/// touched.
pub async fn posts(
    pool: &AnyPool,
    policy: Policy,
    ids: &[Vec<u8>],
) -> Result<Vec<Post>, QueryError> {
    let mut posts = Vec::with_capacity(ids.len());
    for chunk in row_chunks(ids) {
        let mut q = QueryBuilder::new("");
        post_select(&mut q, "v.*", policy);
        q.push(" AND v.id IN (")
            .push_list(chunk.iter().map(Vec::as_slice))
            .push(")");
        posts.extend(posts_of(pool, &mut q).await?);
    }
    Ok(posts)
}

const ORG_VERIFICATION: &str =
    "CASE WHEN rejects > 0 THEN 'rejected' WHEN verifies >= $1 THEN 'verified' ELSE 'pending' END";

pub(crate) fn org_from_row(r: &AnyRow) -> Result<Org, QueryError> {
    Ok(Org {
        id: hex(r.get("id")),
        index: r.get("idx"),
        name: r.get("name"),
        org_type: named(r, "org_type")?,
        area: area_of(r),
        description: r.get("description"),
        delivery_point: r.get("delivery_point"),
        verification: named(r, "verification")?,
        verified_by: r.get("verifies"),
        created_at: r.get("created_at"),
    })
}

/// Refuses a `verified` value the organisations listing does not know.
pub(crate) fn check_org_filter(verified: &Option<String>) -> Result<(), QueryError> {
    one_of("verified", verified, &["verified", "pending", "rejected"])
}

/// `FROM` and `WHERE` of the organisations `verified` and `area` (a code) select,
/// each with its read-time `verification`; rejected ones only when asked for.
pub(crate) fn org_selection(
    q: &mut QueryBuilder<'_>,
    policy: Policy,
    verified: &Option<String>,
    area: &Option<String>,
) {
    q.push(" FROM (SELECT *, CASE WHEN rejects > 0 THEN 'rejected' WHEN verifies >= ")
        .push_bind(i64::from(policy.quorum))
        .push(" THEN 'verified' ELSE 'pending' END AS verification FROM wf_orgs) AS o WHERE 1 = 1");
    match verified {
        Some(v) => q.push(" AND verification = ").push_bind(v.clone()),
        None => q.push(" AND verification != 'rejected'"),
    };
    if let Some(a) = area {
        area_filter(q, "area_code", a);
    }
}

/// Organisations, oldest first; rejected ones only when asked for.
pub async fn list_orgs(
    pool: &AnyPool,
    policy: Policy,
    verified: Option<String>,
    area: Option<String>,
    page: u32,
    per_page: u32,
) -> Result<Page<Org>, QueryError> {
    check_org_filter(&verified)?;
    let area = area_code(area.as_deref())?;
    let (page, per_page) = pages(page, per_page)?;
    let mut count = QueryBuilder::new("SELECT COUNT(*)");
    org_selection(&mut count, policy, &verified, &area);
    let total: i64 = count.build().fetch_one(pool).await?.get(0);
    let mut q = QueryBuilder::new("SELECT *");
    org_selection(&mut q, policy, &verified, &area);
    q.push(" ORDER BY idx LIMIT ")
        .push_bind(i64::from(per_page))
        .push(" OFFSET ")
        .push_bind(offset(page, per_page));
    let items = q
        .build()
        .fetch_all(pool)
        .await?
        .iter()
        .map(org_from_row)
        .collect::<Result<_, _>>()?;
    Ok(Page {
        items,
        page,
        per_page,
        total,
    })
}

pub async fn org(pool: &AnyPool, policy: Policy, id: &str) -> Result<Org, QueryError> {
    let row = sqlx::query(&format!(
        "SELECT *, {ORG_VERIFICATION} AS verification FROM wf_orgs WHERE id = $2"
    ))
    .bind(i64::from(policy.quorum))
    .bind(id_bytes("id", id)?)
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| QueryError::NotFound(format!("no organisation has id {id}")))?;
    org_from_row(&row)
}

/// One link of a donation's chain.
#[derive(Debug, Clone)]
pub struct ChainLink {
    pub id: String,
    pub index: i64,
    pub kind: String,
    /// The entry this one continues (a pledge's need, a shipment's pledge, ...).
    pub parent: Option<String>,
}

/// The chain through `id` (a need or a pledge): the need, its pledges, their shipments,
/// the delivery confirmations, and every verdict on the need, in log order. A pledge's
/// chain holds only the need, that pledge and what follows it.
pub async fn chain(pool: &AnyPool, id: &str) -> Result<Vec<ChainLink>, QueryError> {
    let raw = id_bytes("hash", id)?;
    let pledge: Option<Vec<u8>> =
        sqlx::query("SELECT need FROM wf_links WHERE id = $1 AND kind = 'pledge'")
            .bind(&raw)
            .fetch_optional(pool)
            .await?
            .map(|r| r.get(0));
    let need = match &pledge {
        Some(need) => need.clone(),
        None => raw.clone(),
    };
    // By id alone: beside the id, a kind led PostgreSQL to walk every need (see
    // `rules::need_columns`).
    let need_row = sqlx::query("SELECT idx, kind FROM wf_posts WHERE id = $1")
        .bind(&need)
        .fetch_optional(pool)
        .await?
        .filter(|r| r.get::<String, _>(1) == "need")
        .ok_or_else(|| QueryError::NotFound(format!("no need or pledge has hash {id}")))?;
    let mut links = vec![ChainLink {
        id: hex(need.clone()),
        index: need_row.get(0),
        kind: "need.post".into(),
        parent: None,
    }];
    let rows = sqlx::query(
        "SELECT id, idx, kind, parent FROM wf_links WHERE need = $1
         UNION ALL SELECT id, idx, 'verdict', target FROM wf_verdicts WHERE target = $2
         ORDER BY idx",
    )
    .bind(&need)
    .bind(&need)
    .fetch_all(pool)
    .await?;
    let mut wanted: Vec<Vec<u8>> = match &pledge {
        Some(_) => vec![raw.clone()],
        None => vec![],
    };
    for r in rows {
        let (link_id, parent): (Vec<u8>, Vec<u8>) = (r.get(0), r.get(3));
        let kind: String = r.get(2);
        if pledge.is_some() {
            // Only the pledge itself, its descendants and the need's verdicts.
            let keep = link_id == raw || wanted.contains(&parent) || kind == "verdict";
            if !keep {
                continue;
            }
            wanted.push(link_id.clone());
        }
        links.push(ChainLink {
            id: hex(link_id),
            index: r.get(1),
            kind,
            parent: Some(hex(parent)),
        });
    }
    Ok(links)
}

/// Ids (hex) of the needs of an organisation, whose verification follows it, in no
/// particular order.
pub async fn need_ids_of_org(pool: &AnyPool, org: &str) -> Result<Vec<String>, QueryError> {
    let rows = sqlx::query("SELECT id FROM wf_posts WHERE org = $1 AND kind = 'need'")
        .bind(id_bytes("org", org)?)
        .fetch_all(pool)
        .await?;
    Ok(rows.iter().map(|r| hex(r.get(0))).collect())
}

/// Every need, offer and organisation as (kind, id in hex), in log order.
pub async fn all_searchable(pool: &AnyPool) -> Result<Vec<(String, String)>, QueryError> {
    let rows = sqlx::query("SELECT kind, id, idx FROM wf_posts UNION ALL SELECT 'org', id, idx FROM wf_orgs ORDER BY idx")
        .fetch_all(pool)
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), hex(r.get(1)))).collect())
}

/// Whether `id` (hex) is a need or an offer, if it is either.
pub async fn post_kind(pool: &AnyPool, id: &str) -> Result<Option<String>, QueryError> {
    let row = sqlx::query("SELECT kind FROM wf_posts WHERE id = $1")
        .bind(id_bytes("id", id)?)
        .fetch_optional(pool)
        .await?;
    Ok(row.map(|r| r.get(0)))
}

/// Memberships a roles or members answer lists at most (keys are free to make, so a
/// list must not grow with what others grant).
const MEMBERSHIPS_LISTED: i64 = 1000;

/// What `key` (hex) may do: its log-wide roles and the organisations it is a member of
/// (the oldest memberships, at most [`MEMBERSHIPS_LISTED`]).
pub async fn roles_of(pool: &AnyPool, key: &str) -> Result<KeyRoles, QueryError> {
    let rows = sqlx::query(&format!(
        "SELECT role, org FROM wf_roles WHERE key = $1 ORDER BY idx LIMIT {MEMBERSHIPS_LISTED}"
    ))
    .bind(id_bytes("key", key)?)
    .fetch_all(pool)
    .await?;
    let mut roles = KeyRoles::default();
    for r in rows {
        match r.get::<String, _>(0).as_str() {
            "administrator" => roles.administrator = true,
            "moderator" => roles.moderator = true,
            _ => roles.member_of.push(hex(r.get(1))),
        }
    }
    Ok(roles)
}

/// The members of organisation `id` (hex), oldest first, at most
/// [`MEMBERSHIPS_LISTED`]; not found if no such organisation is registered.
pub async fn members_of(pool: &AnyPool, id: &str) -> Result<OrgMembers, QueryError> {
    let org = id_bytes("id", id)?;
    sqlx::query("SELECT 1 FROM wf_orgs WHERE id = $1")
        .bind(&org)
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| QueryError::NotFound(format!("no organisation has id {id}")))?;
    let rows = sqlx::query(&format!(
        "SELECT key, idx FROM wf_roles WHERE role = 'member' AND org = $1 ORDER BY idx
         LIMIT {MEMBERSHIPS_LISTED}"
    ))
    .bind(&org)
    .fetch_all(pool)
    .await?;
    Ok(OrgMembers {
        members: rows
            .iter()
            .map(|r| OrgMember {
                key: hex(r.get(0)),
                since: r.get(1),
            })
            .collect(),
    })
}

/// Which of a selection's log indices a reader wants.
#[derive(Clone, Debug)]
pub enum Window {
    /// The newest, at most this many, newest first (a feed).
    Newest(u32),
    /// Those in this range of log indices, oldest first (a follower of the log, which
    /// reads each range once; the range bounds the answer).
    Span(std::ops::Range<i64>),
}

/// The log indices `entries` selects (a query over `$1`, one id's bytes, naming its
/// column `idx`) in `window`.
async fn indices_in(
    pool: &AnyPool,
    entries: &str,
    id: &[u8],
    window: Window,
) -> Result<Vec<i64>, QueryError> {
    let select = format!("SELECT idx FROM ({entries}) a");
    let (sql, bounds) = match window {
        Window::Newest(limit) => (
            format!("{select} ORDER BY idx DESC LIMIT $2"),
            vec![i64::from(limit)],
        ),
        Window::Span(range) => (
            format!("{select} WHERE idx >= $2 AND idx < $3 ORDER BY idx"),
            vec![range.start, range.end],
        ),
    };
    let mut q = sqlx::query_scalar(&sql).bind(id);
    for bound in bounds {
        q = q.bind(bound);
    }
    Ok(q.fetch_all(pool).await?)
}

/// Log indices of what concerns organisation `id` (hex), in `window`: its registration and verdicts, its needs, every link of their chains
/// (pledges, acceptances, shipments, confirmations) and the verdicts on them.
pub async fn org_activity(
    pool: &AnyPool,
    id: &str,
    window: Window,
) -> Result<Vec<i64>, QueryError> {
    indices_in(
        pool,
        "SELECT idx FROM wf_orgs WHERE id = $1
         UNION ALL SELECT idx FROM wf_verdicts WHERE target = $1
         UNION ALL SELECT idx FROM wf_posts WHERE org = $1
         UNION ALL SELECT l.idx FROM wf_links l JOIN wf_posts p ON p.id = l.need WHERE p.org = $1
         UNION ALL SELECT v.idx FROM wf_verdicts v JOIN wf_posts p ON p.id = v.target WHERE p.org = $1",
        &id_bytes("id", id)?,
        window,
    )
    .await
}

/// Log indices of the entries that answer `key`'s (hex) entries, in `window`: pledges to its needs, acceptances of and shipments on its pledges,
/// confirmations of its shipments, verdicts on its posts and organisations. What the
/// key wrote itself is not an answer.
pub async fn answers_to(pool: &AnyPool, key: &str, window: Window) -> Result<Vec<i64>, QueryError> {
    indices_in(
        pool,
        "SELECT l.idx FROM wf_links l JOIN wf_posts p ON p.id = l.parent
             WHERE p.author = $1 AND l.author != $1
         UNION ALL SELECT l.idx FROM wf_links l JOIN wf_links q ON q.id = l.parent
             WHERE q.author = $1 AND l.author != $1
         UNION ALL SELECT v.idx FROM wf_verdicts v JOIN wf_posts p ON p.id = v.target
             WHERE p.author = $1
         UNION ALL SELECT v.idx FROM wf_verdicts v JOIN wf_orgs o ON o.id = v.target
             WHERE o.author = $1",
        &id_bytes("key", key)?,
        window,
    )
    .await
}

/// Rows of each list of a key's activity, at most.
const ACTIVITY_LENGTH: i64 = 100;

/// Entries of `kind` to needs that `condition` (on `l`, the entry, and `p`, its need;
/// `$1` is the key) selects, oldest first.
async fn waiting(
    pool: &AnyPool,
    key: &[u8],
    kind: &str,
    condition: &str,
) -> Result<Vec<Waiting>, QueryError> {
    let rows = sqlx::query(&format!(
        "SELECT l.id, l.idx, l.need, o.name, l.author, l.created_at
         FROM wf_links l JOIN wf_posts p ON p.id = l.need LEFT JOIN wf_orgs o ON o.id = p.org
         WHERE l.kind = $2 AND {condition} ORDER BY l.idx LIMIT {ACTIVITY_LENGTH}"
    ))
    .bind(key)
    .bind(kind)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| Waiting {
            id: hex(r.get(0)),
            index: r.get(1),
            need: hex(r.get(2)),
            items: vec![],
            org: r.get::<Option<String>, _>(3).unwrap_or_default(),
            author: hex(r.get(4)),
            created_at: r.get(5),
        })
        .collect())
}

/// Where a pledge stands, from its totals and the conditions its deliveries were
/// confirmed in.
fn stage(
    accepted: bool,
    pledged: i64,
    shipped: i64,
    delivered: i64,
    conditions: &[String],
) -> Stage {
    if conditions.iter().any(|c| c == "damaged") {
        Stage::Damaged
    } else if delivered > 0 && delivered >= pledged {
        Stage::Delivered
    } else if delivered > 0 || conditions.iter().any(|c| c == "partial") {
        Stage::Partial
    } else if shipped > 0 {
        Stage::Shipped
    } else if accepted {
        Stage::Accepted
    } else {
        Stage::Pledged
    }
}

/// The names of the items of each post in `posts` (ids, hex), in line order.
pub(crate) async fn item_names<'a>(
    pool: &AnyPool,
    posts: impl IntoIterator<Item = &'a String>,
) -> Result<HashMap<String, Vec<String>>, QueryError> {
    let ids: std::collections::BTreeSet<Vec<u8>> = posts
        .into_iter()
        .filter_map(|id| hex32::decode(id).map(|h| h.0.to_vec()))
        .collect();
    let mut names: HashMap<String, Vec<String>> = HashMap::new();
    if ids.is_empty() {
        return Ok(names);
    }
    let mut q = QueryBuilder::new("SELECT post, item FROM wf_post_items WHERE post IN (");
    q.push_list(ids).push(") ORDER BY post, line");
    for r in q.build().fetch_all(pool).await? {
        names.entry(hex(r.get(0))).or_default().push(r.get(1));
    }
    Ok(names)
}

/// The verdicts `author` gave, newest first.
async fn verdicts_given(pool: &AnyPool, author: &[u8]) -> Result<Vec<VerdictGiven>, QueryError> {
    let rows = sqlx::query(&format!(
        "SELECT v.id, v.idx, v.target, v.verdict, v.reason, o.name, p.kind
         FROM wf_verdicts v LEFT JOIN wf_orgs o ON o.id = v.target
             LEFT JOIN wf_posts p ON p.id = v.target
         WHERE v.author = $1 ORDER BY v.idx DESC LIMIT {ACTIVITY_LENGTH}"
    ))
    .bind(author)
    .fetch_all(pool)
    .await?;
    let mut given = rows
        .iter()
        .map(|r| {
            let org: Option<String> = r.get(5);
            let about = match (&org, r.get::<Option<String>, _>(6).as_deref()) {
                (Some(_), _) => SearchKind::Org,
                (None, Some("need")) => SearchKind::Need,
                (None, Some("offer")) => SearchKind::Offer,
                _ => return Err(QueryError::Malformed("verdict target")),
            };
            Ok(VerdictGiven {
                id: hex(r.get(0)),
                index: r.get(1),
                entry: hex(r.get(2)),
                about,
                title: org.unwrap_or_default(),
                verdict: contract::from_name(&r.get::<String, _>(3))
                    .ok_or(QueryError::Malformed("verdict"))?,
                reason: r.get(4),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let posts: Vec<String> = given
        .iter()
        .filter(|v| v.about != SearchKind::Org)
        .map(|v| v.entry.clone())
        .collect();
    let names = item_names(pool, &posts).await?;
    for v in given.iter_mut().filter(|v| v.about != SearchKind::Org) {
        v.title = names
            .get(&v.entry)
            .map(|n| n.join(", "))
            .unwrap_or_default();
    }
    Ok(given)
}

/// What waits for `key` (hex), where its needs and donations stand and the verdicts
/// it gave (docs/API.md).
pub async fn activity(pool: &AnyPool, policy: Policy, key: &str) -> Result<Activity, QueryError> {
    let author = id_bytes("key", key)?;
    let mut q = QueryBuilder::new("");
    post_select(&mut q, "v.*", policy);
    q.push(" AND v.kind = 'need' AND (v.author = ")
        .push_bind(author.clone())
        .push(" OR v.org IN (SELECT org FROM wf_roles WHERE role = 'member' AND key = ")
        .push_bind(author.clone())
        .push(format!(")) ORDER BY v.idx DESC LIMIT {ACTIVITY_LENGTH}"));
    let mut needs = q
        .build()
        .fetch_all(pool)
        .await?
        .iter()
        .map(post_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    attach_items(pool, &mut needs).await?;
    const MEMBER: &str = "p.org IN (SELECT org FROM wf_roles WHERE key = $1 AND role = 'member')";
    let mut to_accept = waiting(
        pool,
        &author,
        "pledge",
        &format!(
            "(p.author = $1 OR {MEMBER})
             AND NOT EXISTS (SELECT 1 FROM wf_links a WHERE a.parent = l.id AND a.kind = 'pledge.accept')"
        ),
    )
    .await?;
    let mut to_confirm = waiting(
        pool,
        &author,
        "shipment",
        &format!(
            "{MEMBER} AND EXISTS (SELECT 1 FROM wf_link_items i WHERE i.link = l.id AND i.passed < i.quantity)"
        ),
    )
    .await?;
    let rows = sqlx::query(&format!(
        "SELECT l.id, l.idx, l.need, o.name,
                (SELECT COUNT(*) FROM wf_links a WHERE a.parent = l.id AND a.kind = 'pledge.accept'),
                (SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT) FROM wf_link_items WHERE link = l.id),
                (SELECT CAST(COALESCE(SUM(passed), 0) AS BIGINT) FROM wf_link_items WHERE link = l.id),
                (SELECT CAST(COALESCE(SUM(i.passed), 0) AS BIGINT) FROM wf_links s
                    JOIN wf_link_items i ON i.link = s.id WHERE s.parent = l.id AND s.kind = 'shipment')
         FROM wf_links l JOIN wf_posts p ON p.id = l.need LEFT JOIN wf_orgs o ON o.id = p.org
         WHERE l.kind = 'pledge' AND l.author = $1 ORDER BY l.idx DESC LIMIT {ACTIVITY_LENGTH}"
    ))
    .bind(&author)
    .fetch_all(pool)
    .await?;
    // The conditions deliveries of the listed pledges were confirmed in.
    let confirmed = sqlx::query(&format!(
        "SELECT s.parent, c.detail FROM wf_links c JOIN wf_links s ON s.id = c.parent
         WHERE c.kind = 'delivery.confirm' AND s.parent IN (
             SELECT id FROM wf_links WHERE kind = 'pledge' AND author = $1
             ORDER BY idx DESC LIMIT {ACTIVITY_LENGTH})"
    ))
    .bind(&author)
    .fetch_all(pool)
    .await?;
    let mut conditions: HashMap<Vec<u8>, Vec<String>> = HashMap::new();
    for r in &confirmed {
        let detail: serde_json::Value = serde_json::from_str(&r.get::<String, _>(1))
            .map_err(|_| QueryError::Malformed("detail"))?;
        conditions
            .entry(r.get(0))
            .or_default()
            .push(detail["condition"].as_str().unwrap_or_default().to_owned());
    }
    let mut donations: Vec<Donation> = rows
        .iter()
        .map(|r| {
            let id: Vec<u8> = r.get(0);
            let (pledged, shipped, delivered) = (r.get(5), r.get(6), r.get(7));
            let seen = conditions.get(&id).map(Vec::as_slice).unwrap_or_default();
            Donation {
                stage: stage(r.get::<i64, _>(4) > 0, pledged, shipped, delivered, seen),
                pledge: hex(id),
                index: r.get(1),
                need: hex(r.get(2)),
                items: vec![],
                org: r.get::<Option<String>, _>(3).unwrap_or_default(),
                pledged,
                shipped,
                delivered,
            }
        })
        .collect();
    let names = item_names(
        pool,
        to_accept
            .iter()
            .chain(&to_confirm)
            .map(|w| &w.need)
            .chain(donations.iter().map(|d| &d.need)),
    )
    .await?;
    let named = |need: &String| names.get(need).cloned().unwrap_or_default();
    for w in to_accept.iter_mut().chain(to_confirm.iter_mut()) {
        w.items = named(&w.need);
    }
    for d in &mut donations {
        d.items = named(&d.need);
    }
    Ok(Activity {
        needs,
        to_accept,
        to_confirm,
        donations,
        verdicts: verdicts_given(pool, &author).await?,
    })
}
