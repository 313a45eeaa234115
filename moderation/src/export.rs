//! Row-oriented reads for the exports (docs/API.md "Exports"): needs and offers one
//! row per item line, organisations one row each, and the donation chains one row per
//! line of each pledge, shipment and delivery confirmation.
//!
//! An export walks its whole selection in log order, a page at a time: each page is
//! the next [`PAGE_ENTRIES`] entries after the last one read (by index, so a page
//! costs the same wherever it starts), with their lines. The selection is the needs
//! listing's (`queries::post_filters`), or the organisations listing's; only the
//! derived tables' public columns are read, never the `pd_*` tables.

use crate::queries::{
    self, area_of, check_org_filter, hex, named, org_from_row, org_selection, post_filters,
    post_select, posts_of, Policy, PostFilter, QueryError,
};
use contract::export::{ChainLine, Column, ExportRow, LinkKind, NeedLine, OfferLine, OrgRow};
use contract::{ItemLine, Post};
use ledger_node::storage::query::QueryBuilder;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};
use std::collections::HashMap;

/// Entries (needs, offers, organisations or links) read per page; a need or an offer
/// has at most `ledger::body::MAX_LINES` lines, so a page is at most that many times
/// as many rows.
pub const PAGE_ENTRIES: i64 = 100;

/// What an export holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dataset {
    Needs,
    Offers,
    Orgs,
    Chains,
}

impl Dataset {
    pub const ALL: [Dataset; 4] = [
        Dataset::Needs,
        Dataset::Offers,
        Dataset::Orgs,
        Dataset::Chains,
    ];

    /// The dataset a path names (`needs`, `offers`, `orgs`, `chains`).
    pub fn from_name(name: &str) -> Option<Dataset> {
        Dataset::ALL.into_iter().find(|d| d.name() == name)
    }

    /// The name a path gives it.
    pub fn name(self) -> &'static str {
        match self {
            Dataset::Needs => "needs",
            Dataset::Offers => "offers",
            Dataset::Orgs => "orgs",
            Dataset::Chains => "chains",
        }
    }

    pub fn columns(self) -> &'static [Column] {
        match self {
            Dataset::Needs => NeedLine::COLUMNS,
            Dataset::Offers => OfferLine::COLUMNS,
            Dataset::Orgs => OrgRow::COLUMNS,
            Dataset::Chains => ChainLine::COLUMNS,
        }
    }
}

/// The rows of one page.
#[derive(Debug)]
pub enum Rows {
    Needs(Vec<NeedLine>),
    Offers(Vec<OfferLine>),
    Orgs(Vec<OrgRow>),
    Chains(Vec<ChainLine>),
}

/// One page of an export, and where the next starts (`None` after the last).
#[derive(Debug)]
pub struct ExportPage {
    pub rows: Rows,
    pub next: Option<Cursor>,
}

/// Where the next page starts: after the entry of this log index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor(i64);

/// What an export selects, with its filters checked and `area` resolved to a code.
#[derive(Clone, Debug)]
pub struct Selection {
    dataset: Dataset,
    policy: Policy,
    filter: PostFilter,
}

impl Selection {
    /// Checks the filters as the listings do (needs, offers and chains take the needs
    /// listing's; organisations only `verified` and `area`), naming a bad one.
    pub fn new(dataset: Dataset, policy: Policy, f: &PostFilter) -> Result<Self, QueryError> {
        let filter = match dataset {
            Dataset::Orgs => {
                let unsupported = [
                    ("status", &f.status),
                    ("category", &f.category),
                    ("urgency", &f.urgency),
                ];
                if let Some((name, _)) = unsupported.iter().find(|(_, v)| v.is_some()) {
                    return Err(QueryError::BadFilter(format!(
                        "{name}: organisations are filtered by verified and area only"
                    )));
                }
                check_org_filter(&f.verified)?;
                PostFilter {
                    area: queries::area_code(f.area.as_deref())?,
                    ..f.clone()
                }
            }
            _ => queries::resolved_post_filter(f)?,
        };
        Ok(Selection {
            dataset,
            policy,
            filter,
        })
    }

    pub fn dataset(&self) -> Dataset {
        self.dataset
    }

    /// The first page (`after` None) or the one after `after`.
    pub async fn page(
        &self,
        pool: &AnyPool,
        after: Option<Cursor>,
    ) -> Result<ExportPage, QueryError> {
        let after = after.map_or(-1, |c| c.0);
        let (rows, last, read) = match self.dataset {
            Dataset::Needs | Dataset::Offers => {
                let posts = self.posts(pool, after).await?;
                let last = posts.last().map(|p| p.index);
                let read = posts.len();
                let rows = if self.dataset == Dataset::Needs {
                    Rows::Needs(self.lines(posts, need_line))
                } else {
                    Rows::Offers(self.lines(posts, offer_line))
                };
                (rows, last, read)
            }
            Dataset::Orgs => {
                let orgs = self.orgs(pool, after).await?;
                let last = orgs.last().map(|o| o.index);
                let read = orgs.len();
                (Rows::Orgs(orgs), last, read)
            }
            Dataset::Chains => {
                let (lines, last, read) = self.chain_lines(pool, after).await?;
                (Rows::Chains(lines), last, read)
            }
        };
        let full = i64::try_from(read).is_ok_and(|n| n >= PAGE_ENTRIES);
        Ok(ExportPage {
            rows,
            next: last.filter(|_| full).map(Cursor),
        })
    }

    /// `LIMIT` and the keyset condition of a page after index `after` in `column`.
    fn after(q: &mut QueryBuilder<'_>, column: &str, after: i64) {
        q.push(format!(" AND {column} > "))
            .push_bind(after)
            .push(format!(" ORDER BY {column} LIMIT "))
            .push_bind(PAGE_ENTRIES);
    }

    async fn posts(&self, pool: &AnyPool, after: i64) -> Result<Vec<Post>, QueryError> {
        let kind = if self.dataset == Dataset::Offers {
            "offer"
        } else {
            "need"
        };
        let mut q = QueryBuilder::new("");
        post_select(&mut q, "v.*", self.policy);
        post_filters(&mut q, kind, &self.filter);
        Self::after(&mut q, "v.idx", after);
        posts_of(pool, &mut q).await
    }

    /// Each post's lines (of the filter's category only, when it has one) as rows.
    fn lines<T>(&self, posts: Vec<Post>, row: fn(&Post, ItemLine) -> T) -> Vec<T> {
        let category = self.filter.category.as_deref();
        posts
            .iter()
            .flat_map(|p| {
                p.items
                    .iter()
                    .filter(|l| category.is_none_or(|c| l.category == c))
                    .map(|l| row(p, l.clone()))
            })
            .collect()
    }

    async fn orgs(&self, pool: &AnyPool, after: i64) -> Result<Vec<OrgRow>, QueryError> {
        let mut q = QueryBuilder::new("SELECT *");
        org_selection(
            &mut q,
            self.policy,
            &self.filter.verified,
            &self.filter.area,
        );
        Self::after(&mut q, "idx", after);
        q.build()
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| {
                let org = org_from_row(r)?;
                Ok(OrgRow {
                    country: country(&org.area.code),
                    leaf_hash: org.id,
                    index: org.index,
                    name: org.name,
                    org_type: org.org_type,
                    area_code: org.area.code,
                    area_name: org.area.name,
                    verification: org.verification,
                    verified_by: org.verified_by,
                    created_at: org.created_at,
                    delivery_point: org.delivery_point,
                    description: org.description,
                    author: hex(r.get("author")),
                })
            })
            .collect()
    }

    /// The lines of the next links of the selected needs, the index of the last link
    /// read and how many were read.
    async fn chain_lines(
        &self,
        pool: &AnyPool,
        after: i64,
    ) -> Result<(Vec<ChainLine>, Option<i64>, usize), QueryError> {
        let mut q = QueryBuilder::new(
            "SELECT l.id, l.idx, l.kind, l.author, l.parent, l.need, l.detail, l.created_at,
                    s.parent AS shipped_pledge, p.org, o.name AS org_name, p.area_code,
                    p.area_name
             FROM wf_links l JOIN wf_posts p ON p.id = l.need
                 LEFT JOIN wf_orgs o ON o.id = p.org
                 LEFT JOIN wf_links s ON s.id = l.parent AND l.kind = 'delivery.confirm'
             WHERE l.kind IN ('pledge', 'shipment', 'delivery.confirm') AND l.need IN (",
        );
        post_select(&mut q, "v.id", self.policy);
        post_filters(&mut q, "need", &self.filter);
        q.push(")");
        Self::after(&mut q, "l.idx", after);
        let links = q.build().fetch_all(pool).await?;
        let last = links.last().map(|r| r.get::<i64, _>("idx"));
        let mut lines = self.link_lines(pool, &links).await?;
        let mut rows = vec![];
        for link in &links {
            let id: Vec<u8> = link.get("id");
            for line in lines.remove(&id).unwrap_or_default() {
                rows.push(chain_line(link, line)?);
            }
        }
        Ok((rows, last, links.len()))
    }

    /// The item lines of `links`, by link id, with the need's item each is of.
    async fn link_lines(
        &self,
        pool: &AnyPool,
        links: &[AnyRow],
    ) -> Result<HashMap<Vec<u8>, Vec<LinkLine>>, QueryError> {
        let mut by_link: HashMap<Vec<u8>, Vec<LinkLine>> = HashMap::new();
        if links.is_empty() {
            return Ok(by_link);
        }
        let mut q = QueryBuilder::new(
            "SELECT i.link, i.line, i.quantity, n.item, n.category, n.unit
             FROM wf_link_items i JOIN wf_links l ON l.id = i.link
                 JOIN wf_post_items n ON n.post = l.need AND n.line = i.line
             WHERE i.link IN (",
        );
        q.push_list(links.iter().map(|r| r.get::<Vec<u8>, _>("id")))
            .push(")");
        if let Some(c) = &self.filter.category {
            q.push(" AND n.category = ").push_bind(c.clone());
        }
        q.push(" ORDER BY i.link, i.line");
        for r in q.build().fetch_all(pool).await? {
            by_link.entry(r.get("link")).or_default().push(LinkLine {
                line: line_number(&r)?,
                quantity: r.get("quantity"),
                item: r.get("item"),
                category: r.get("category"),
                unit: r.get("unit"),
            });
        }
        Ok(by_link)
    }
}

/// One line of a pledge, shipment or delivery confirmation, with its need's item.
struct LinkLine {
    line: u32,
    quantity: i64,
    item: String,
    category: String,
    unit: String,
}

fn line_number(r: &AnyRow) -> Result<u32, QueryError> {
    u32::try_from(r.get::<i64, _>("line")).map_err(|_| QueryError::Malformed("line"))
}

/// The country of a region code: its first two letters.
fn country(code: &str) -> String {
    code.get(..2).unwrap_or(code).to_owned()
}

fn need_line(p: &Post, l: ItemLine) -> NeedLine {
    NeedLine {
        leaf_hash: p.id.clone(),
        index: p.index,
        line: l.line,
        org_id: p.org.as_ref().map(|o| o.id.clone()).unwrap_or_default(),
        org_name: p.org.as_ref().map(|o| o.name.clone()).unwrap_or_default(),
        item: l.item,
        category: l.category,
        spec: l.spec,
        unit: l.unit,
        requested: l.requested,
        pledged: l.pledged,
        shipped: l.shipped,
        delivered: l.delivered,
        remaining: l.remaining,
        area_code: p.area.code.clone(),
        area_name: p.area.name.clone(),
        country: country(&p.area.code),
        urgency: p.urgency,
        status: p.status,
        verification: p.verification,
        needed_by: p.until.clone(),
        created_at: p.created_at.clone(),
        delivery_point: p.delivery_point.clone(),
        description: p.description.clone(),
        evidence_url: p.evidence_url.clone(),
        author: p.author.clone(),
    }
}

fn offer_line(p: &Post, l: ItemLine) -> OfferLine {
    OfferLine {
        leaf_hash: p.id.clone(),
        index: p.index,
        line: l.line,
        item: l.item,
        category: l.category,
        spec: l.spec,
        unit: l.unit,
        offered: l.requested,
        area_code: p.area.code.clone(),
        area_name: p.area.name.clone(),
        country: country(&p.area.code),
        status: p.status,
        verification: p.verification,
        available_until: p.until.clone(),
        created_at: p.created_at.clone(),
        description: p.description.clone(),
        author: p.author.clone(),
    }
}

/// A row of `link` (a `wf_links` row of the chains' query) for one of its lines.
fn chain_line(link: &AnyRow, l: LinkLine) -> Result<ChainLine, QueryError> {
    let kind: LinkKind = named(link, "kind")?;
    let id = hex(link.get("id"));
    let parent = hex(link.get("parent"));
    let detail: serde_json::Value = serde_json::from_str(&link.get::<String, _>("detail"))
        .map_err(|_| QueryError::Malformed("detail"))?;
    let text = |key: &str| detail[key].as_str().map(str::to_owned);
    let (pledge_id, shipment_id, delivery_id) = match kind {
        LinkKind::Pledge => (id.clone(), None, None),
        LinkKind::Shipment => (parent, Some(id.clone()), None),
        LinkKind::Delivery => {
            let pledge = link
                .get::<Option<Vec<u8>>, _>("shipped_pledge")
                .ok_or(QueryError::Malformed("parent"))?;
            (hex(pledge), Some(parent), Some(id.clone()))
        }
    };
    let quantity = |of: LinkKind| (kind == of).then_some(l.quantity);
    let area = area_of(link);
    Ok(ChainLine {
        index: link.get("idx"),
        kind,
        need_id: hex(link.get("need")),
        pledge_id,
        shipment_id,
        delivery_id,
        org_id: link
            .get::<Option<Vec<u8>>, _>("org")
            .map(hex)
            .unwrap_or_default(),
        org_name: link
            .get::<Option<String>, _>("org_name")
            .unwrap_or_default(),
        author: hex(link.get("author")),
        line: l.line,
        item: l.item,
        category: l.category,
        unit: l.unit,
        pledged: quantity(LinkKind::Pledge),
        shipped: quantity(LinkKind::Shipment),
        delivered: quantity(LinkKind::Delivery),
        carrier: text("carrier"),
        tracking: text("tracking"),
        condition: text("condition"),
        country: country(&area.code),
        area_code: area.code,
        created_at: link.get("created_at"),
        leaf_hash: id,
    })
}
