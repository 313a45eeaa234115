//! Totals of the needs a filter selects: requested, pledged, shipped, delivered and
//! remaining by category, by region and day by day (`GET /api/v1/stats`).
//!
//! The selection is the needs listing's (`queries::post_filters`, read-time status and
//! verification included), so a total and the list it sums agree. Quantities are
//! summed per unit only. Every statement groups over the derived tables, so a request
//! costs one pass over the selected needs' lines and links, whatever its filters.

use crate::queries::{self, Policy, PostFilter, QueryError};
use contract::{Amounts, Area, CategoryStats, DayStats, RegionStats, Stats};
use ledger_node::storage::query::QueryBuilder;
use sqlx::{AnyPool, Row};
use std::collections::{BTreeMap, HashMap};

/// The link kinds whose quantities move a need's lines on.
const FLOWS: [&str; 3] = ["pledge", "shipment", "delivery.confirm"];

/// Sums of a group's lines, as `SELECT` columns named after [`Amounts`]' fields.
const LINE_SUMS: &str = "CAST(SUM(i.requested) AS BIGINT) AS requested,
     CAST(SUM(i.pledged) AS BIGINT) AS pledged,
     CAST(SUM(i.shipped) AS BIGINT) AS shipped,
     CAST(SUM(i.delivered) AS BIGINT) AS delivered,
     CAST(SUM(CASE WHEN i.requested > i.pledged THEN i.requested - i.pledged ELSE 0 END) AS BIGINT) AS remaining";

/// `WHERE` of the selected needs' lines (`i`), restricted to the filter's category.
fn selected_lines(q: &mut QueryBuilder<'_>, policy: Policy, f: &PostFilter) {
    q.push(" WHERE i.post IN (");
    selected_needs(q, policy, f);
    q.push(")");
    if let Some(c) = &f.category {
        q.push(" AND i.category = ").push_bind(c.clone());
    }
}

/// `SELECT` of the ids of the needs the filter selects.
fn selected_needs(q: &mut QueryBuilder<'_>, policy: Policy, f: &PostFilter) {
    queries::post_select(q, "v.id", policy);
    queries::post_filters(q, "need", f);
}

fn amounts(r: &sqlx::any::AnyRow) -> Amounts {
    Amounts {
        unit: r.get("unit"),
        requested: r.get("requested"),
        pledged: r.get("pledged"),
        shipped: r.get("shipped"),
        delivered: r.get("delivered"),
        remaining: r.get("remaining"),
    }
}

/// Largest requested first, then by unit: the order every list of amounts is in.
fn sorted(mut amounts: Vec<Amounts>) -> Vec<Amounts> {
    amounts.sort_by(|a, b| b.requested.cmp(&a.requested).then(a.unit.cmp(&b.unit)));
    amounts
}

pub async fn stats(pool: &AnyPool, policy: Policy, f: &PostFilter) -> Result<Stats, QueryError> {
    let f = &queries::resolved_post_filter(f)?;

    let mut q = QueryBuilder::new("");
    queries::post_select(&mut q, "COUNT(*)", policy);
    queries::post_filters(&mut q, "need", f);
    let needs: i64 = q.build().fetch_one(pool).await?.get(0);

    let (by_category, totals) = by_category(pool, policy, f).await?;
    let (by_region, regions) = by_region(pool, policy, f).await?;
    Ok(Stats {
        needs,
        totals,
        by_category,
        by_region,
        regions,
        per_day: per_day(pool, policy, f).await?,
    })
}

/// Each category's amounts, and the totals (a line has one category, so the
/// categories' amounts add up to them).
async fn by_category(
    pool: &AnyPool,
    policy: Policy,
    f: &PostFilter,
) -> Result<(Vec<CategoryStats>, Vec<Amounts>), QueryError> {
    let mut q = QueryBuilder::new(format!(
        "SELECT i.category, i.unit, {LINE_SUMS} FROM wf_post_items i"
    ));
    selected_lines(&mut q, policy, f);
    q.push(" GROUP BY i.category, i.unit");
    let mut per_category: BTreeMap<String, Vec<Amounts>> = BTreeMap::new();
    let mut totals: BTreeMap<String, Amounts> = BTreeMap::new();
    for r in q.build().fetch_all(pool).await? {
        let a = amounts(&r);
        let total = totals.entry(a.unit.clone()).or_insert_with(|| Amounts {
            unit: a.unit.clone(),
            ..Amounts::default()
        });
        total.requested += a.requested;
        total.pledged += a.pledged;
        total.shipped += a.shipped;
        total.delivered += a.delivered;
        total.remaining += a.remaining;
        per_category.entry(r.get("category")).or_default().push(a);
    }

    let mut q = QueryBuilder::new("SELECT i.category, COUNT(DISTINCT i.post) FROM wf_post_items i");
    selected_lines(&mut q, policy, f);
    q.push(" GROUP BY i.category");
    let needs: HashMap<String, i64> = q
        .build()
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();

    let mut categories: Vec<CategoryStats> = per_category
        .into_iter()
        .map(|(category, amounts)| CategoryStats {
            needs: needs.get(&category).copied().unwrap_or_default(),
            category,
            amounts: sorted(amounts),
        })
        .collect();
    categories.sort_by(|a, b| b.needs.cmp(&a.needs).then(a.category.cmp(&b.category)));
    Ok((categories, sorted(totals.into_values().collect())))
}

/// The regions with most needs (at most [`Stats::MAX_REGIONS`]), and how many there are.
async fn by_region(
    pool: &AnyPool,
    policy: Policy,
    f: &PostFilter,
) -> Result<(Vec<RegionStats>, i64), QueryError> {
    let mut q = QueryBuilder::new("");
    queries::post_select(
        &mut q,
        "v.area_code, MAX(v.area_name) AS area_name, COUNT(*) AS needs,
         CAST(SUM(CASE WHEN v.read_status = 'open' THEN 1 ELSE 0 END) AS BIGINT) AS open_needs",
        policy,
    );
    queries::post_filters(&mut q, "need", f);
    q.push(" GROUP BY v.area_code");
    let mut regions: Vec<RegionStats> = q
        .build()
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| RegionStats {
            area: Area {
                code: r.get("area_code"),
                name: r.get("area_name"),
            },
            needs: r.get("needs"),
            open: r.get("open_needs"),
            amounts: vec![],
        })
        .collect();
    let count = regions.len() as i64;
    regions.sort_by(|a, b| b.needs.cmp(&a.needs).then(a.area.code.cmp(&b.area.code)));
    regions.truncate(Stats::MAX_REGIONS);

    let mut q = QueryBuilder::new(format!(
        "SELECT p.area_code, i.unit, {LINE_SUMS} FROM wf_post_items i JOIN wf_posts p ON p.id = i.post"
    ));
    selected_lines(&mut q, policy, f);
    q.push(" GROUP BY p.area_code, i.unit");
    let mut per_region: HashMap<String, Vec<Amounts>> = HashMap::new();
    for r in q.build().fetch_all(pool).await? {
        per_region
            .entry(r.get("area_code"))
            .or_default()
            .push(amounts(&r));
    }
    for region in &mut regions {
        region.amounts = sorted(per_region.remove(&region.area.code).unwrap_or_default());
    }
    Ok((regions, count))
}

/// What happened on one day: entries counted, and quantities per unit in the order
/// requested, pledged, shipped, delivered.
#[derive(Default)]
struct Day {
    entries: [i64; 4],
    quantities: BTreeMap<String, [i64; 4]>,
}

/// The position in [`Day`]'s arrays of a need (0) or of each of [`FLOWS`].
fn flow_position(kind: &str) -> Option<usize> {
    FLOWS.iter().position(|k| *k == kind).map(|p| p + 1)
}

/// Day by day, running totals; each day with an entry of the selection.
async fn per_day(
    pool: &AnyPool,
    policy: Policy,
    f: &PostFilter,
) -> Result<Vec<DayStats>, QueryError> {
    let mut days: BTreeMap<String, Day> = BTreeMap::new();

    let mut q = QueryBuilder::new("");
    queries::post_select(&mut q, "substr(v.created_at, 1, 10), COUNT(*)", policy);
    queries::post_filters(&mut q, "need", f);
    q.push(" GROUP BY 1");
    for r in q.build().fetch_all(pool).await? {
        days.entry(r.get(0)).or_default().entries[0] = r.get(1);
    }

    let mut q = QueryBuilder::new(
        "SELECT substr(p.created_at, 1, 10), i.unit, CAST(SUM(i.requested) AS BIGINT)
         FROM wf_post_items i JOIN wf_posts p ON p.id = i.post",
    );
    selected_lines(&mut q, policy, f);
    q.push(" GROUP BY 1, 2");
    for r in q.build().fetch_all(pool).await? {
        let day = days.entry(r.get(0)).or_default();
        day.quantities.entry(r.get(1)).or_default()[0] += r.get::<i64, _>(2);
    }

    // A link counts when it moves a line the selection holds.
    let mut q = QueryBuilder::new(
        "SELECT substr(l.created_at, 1, 10), l.kind, i.unit, CAST(SUM(li.quantity) AS BIGINT)
         FROM wf_links l
         JOIN wf_link_items li ON li.link = l.id
         JOIN wf_post_items i ON i.post = l.need AND i.line = li.line",
    );
    selected_lines(&mut q, policy, f);
    q.push(" AND l.kind IN (")
        .push_list(FLOWS.iter().map(|k| k.to_string()))
        .push(") GROUP BY 1, 2, 3");
    let mut q_counts = QueryBuilder::new(
        "SELECT substr(l.created_at, 1, 10), l.kind, COUNT(*) FROM wf_links l
         WHERE l.kind IN (",
    );
    q_counts
        .push_list(FLOWS.iter().map(|k| k.to_string()))
        .push(
            ") AND EXISTS (SELECT 1 FROM wf_link_items li
              JOIN wf_post_items i ON i.post = l.need AND i.line = li.line",
        );
    selected_lines(&mut q_counts, policy, f);
    q_counts.push(" AND li.link = l.id) GROUP BY 1, 2");
    for r in q.build().fetch_all(pool).await? {
        let Some(at) = flow_position(&r.get::<String, _>(1)) else {
            continue;
        };
        let day = days.entry(r.get(0)).or_default();
        day.quantities.entry(r.get(2)).or_default()[at] += r.get::<i64, _>(3);
    }
    for r in q_counts.build().fetch_all(pool).await? {
        if let Some(at) = flow_position(&r.get::<String, _>(1)) {
            days.entry(r.get(0)).or_default().entries[at] = r.get(2);
        }
    }

    let mut running: BTreeMap<String, [i64; 4]> = BTreeMap::new();
    let mut out: Vec<DayStats> = days
        .into_iter()
        .map(|(day, d)| {
            for (unit, q) in d.quantities {
                let total = running.entry(unit).or_default();
                for (t, q) in total.iter_mut().zip(q) {
                    *t += q;
                }
            }
            let [needs, pledges, shipments, deliveries] = d.entries;
            DayStats {
                day,
                needs,
                pledges,
                shipments,
                deliveries,
                amounts: sorted(
                    running
                        .iter()
                        .map(|(unit, [requested, pledged, shipped, delivered])| Amounts {
                            unit: unit.clone(),
                            requested: *requested,
                            pledged: *pledged,
                            shipped: *shipped,
                            delivered: *delivered,
                            remaining: (requested - pledged).max(0),
                        })
                        .collect(),
                ),
            }
        })
        .collect();
    let skip = out.len().saturating_sub(Stats::MAX_DAYS);
    out.drain(..skip);
    Ok(out)
}
