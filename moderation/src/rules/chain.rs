//! The donation chain written in bulk. Pledges, acceptances, shipments and delivery
//! confirmations are half of an aid effort's entries, and each used to cost up to six
//! statements on the integrator's serial path: its link row, its lines, and the
//! quantities it moves on the need's lines and on the link it passes goods on from.
//! Those writes now wait here and are written when the sequencer flushes
//! (`Rules::flush`), in one statement per table for the whole batch.
//!
//! The rules read the chain through [`Pending`], so that every verdict is the one the
//! tables alone would give once written: a link admitted since the last flush is found
//! here, a pledge accepted since then counts as accepted, and a quantity read from the
//! tables has what waits to be added to it added. Nothing else reads these rows inside
//! a batch (the rules of other entries read posts, roles, organisations and the clock).
//! Rows and sums are the same whenever they are written, so a replay (`rebuild`), which
//! flushes page by page, gives the same tables.

use super::Ctx;
use ledger::body::LineQuantity;
use ledger_node::storage::query::{row_chunks, Placeholders, QueryBuilder};
use sqlx::AnyConnection;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

/// Two quantities of each line of a post or a link, by line: what there is and how much
/// of it has gone on (a need's requested and pledged, a link's quantity and passed).
pub(super) type Quantities = HashMap<u32, (i64, i64)>;

/// What goods moving along the chain add to on a need's lines. A variant is the index
/// of its sum in `Waiting::to_posts`, whose sums `Pending::flush` binds in this order.
#[derive(Clone, Copy)]
pub(super) enum Moved {
    Pledged,
    Shipped,
    Delivered,
}

/// A link admitted since the last flush.
#[derive(Debug)]
struct NewLink {
    id: Vec<u8>,
    index: i64,
    kind: &'static str,
    author: Vec<u8>,
    parent: Vec<u8>,
    need: Vec<u8>,
    detail: String,
    created_at: String,
    /// Each line's quantity and how much of it has been passed on since.
    lines: Quantities,
}

/// What waits to be written, in log order where order shows.
#[derive(Debug, Default)]
struct Waiting {
    links: Vec<NewLink>,
    /// Where each of `links` is in it, by id.
    at: HashMap<Vec<u8>, usize>,
    /// Pledges accepted since the last flush.
    accepted: HashSet<Vec<u8>>,
    /// Pledged, shipped and delivered quantities to add to lines of posts (indexed by
    /// [`Moved`]), by post and line.
    to_posts: BTreeMap<(Vec<u8>, u32), [i64; 3]>,
    /// Quantities passed on from lines of links written before the last flush.
    to_links: BTreeMap<(Vec<u8>, u32), i64>,
}

/// The chain's writes since the last flush.
#[derive(Debug, Default)]
pub(super) struct Pending(Mutex<Waiting>);

impl Pending {
    /// Keeps the link admitted as `ctx`, with its `lines`, until the next flush.
    pub(super) fn push_link(
        &self,
        ctx: &Ctx<'_>,
        kind: &'static str,
        parent: &[u8],
        need: &[u8],
        detail: serde_json::Value,
        lines: &[LineQuantity],
    ) {
        let mut waiting = self.waiting();
        if kind == "pledge.accept" {
            waiting.accepted.insert(parent.to_vec());
        }
        let at = waiting.links.len();
        waiting.at.insert(ctx.id.clone(), at);
        waiting.links.push(NewLink {
            id: ctx.id.clone(),
            index: ctx.index,
            kind,
            author: ctx.author.clone(),
            parent: parent.to_vec(),
            need: need.to_vec(),
            detail: detail.to_string(),
            created_at: ctx.created_at.to_owned(),
            lines: lines
                .iter()
                .map(|l| (l.line, (l.quantity as i64, 0)))
                .collect(),
        });
    }

    /// The link `id` of `kind` admitted since the last flush: its author, its need and
    /// its lines.
    pub(super) fn link(&self, id: &[u8], kind: &str) -> Option<(Vec<u8>, Vec<u8>, Quantities)> {
        let waiting = self.waiting();
        let link = &waiting.links[*waiting.at.get(id)?];
        (link.kind == kind).then(|| (link.author.clone(), link.need.clone(), link.lines.clone()))
    }

    /// Whether the pledge `id` was accepted since the last flush.
    pub(super) fn accepted(&self, id: &[u8]) -> bool {
        self.waiting().accepted.contains(id)
    }

    /// Adds to the pledged quantities of the lines of the need `need`, as stored, what
    /// waits to be added to them.
    pub(super) fn add_waiting_pledges(&self, need: &[u8], stored: &mut Quantities) {
        let waiting = self.waiting();
        for (&line, (_, pledged)) in stored.iter_mut() {
            if let Some(sums) = waiting.to_posts.get(&(need.to_vec(), line)) {
                *pledged += sums[Moved::Pledged as usize];
            }
        }
    }

    /// Adds to the passed quantities of the lines of `link`, as stored, what waits to
    /// be added to them.
    pub(super) fn add_waiting_passes(&self, link: &[u8], stored: &mut Quantities) {
        let waiting = self.waiting();
        for (&line, (_, passed)) in stored.iter_mut() {
            *passed += waiting
                .to_links
                .get(&(link.to_vec(), line))
                .copied()
                .unwrap_or(0);
        }
    }

    /// Adds each line's quantity to what was `moved` on that line of the need `need`.
    pub(super) fn add_to_need(&self, need: &[u8], moved: Moved, lines: &[LineQuantity]) {
        let mut waiting = self.waiting();
        for l in lines {
            let sums = waiting.to_posts.entry((need.to_vec(), l.line)).or_default();
            sums[moved as usize] += l.quantity as i64;
        }
    }

    /// Adds each line's quantity to what was passed on from that line of `link`.
    pub(super) fn pass_on(&self, link: &[u8], lines: &[LineQuantity]) {
        let mut waiting = self.waiting();
        let Waiting {
            links,
            at,
            to_links,
            ..
        } = &mut *waiting;
        for l in lines {
            let quantity = l.quantity as i64;
            match at.get(link).and_then(|&i| links[i].lines.get_mut(&l.line)) {
                Some((_, passed)) => *passed += quantity,
                None => *to_links.entry((link.to_vec(), l.line)).or_default() += quantity,
            }
        }
    }

    pub(super) fn discard(&self) {
        *self.waiting() = Waiting::default();
    }

    /// Writes what waits through `conn`: the new links and their lines, then the sums
    /// added to earlier lines.
    pub(super) async fn flush(&self, conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
        let waiting = std::mem::take(&mut *self.waiting());
        let placeholders = Placeholders::of(conn);
        for chunk in row_chunks(&waiting.links) {
            let mut q = QueryBuilder::with_placeholders(
                placeholders,
                "INSERT INTO wf_links (id, idx, kind, author, parent, need, detail, created_at) ",
            );
            q.push_values(chunk, |row, l| {
                row.push_bind(l.id.as_slice())
                    .push_bind(l.index)
                    .push_bind(l.kind)
                    .push_bind(l.author.as_slice())
                    .push_bind(l.parent.as_slice())
                    .push_bind(l.need.as_slice())
                    .push_bind(l.detail.as_str())
                    .push_bind(l.created_at.as_str());
            });
            q.build().execute(&mut *conn).await?;
        }
        // In log order, each link's lines in line order.
        let lines: Vec<(&[u8], u32, i64, i64)> = waiting
            .links
            .iter()
            .flat_map(|l| {
                let mut lines: Vec<_> = l
                    .lines
                    .iter()
                    .map(|(&line, &(quantity, passed))| (l.id.as_slice(), line, quantity, passed))
                    .collect();
                lines.sort_unstable_by_key(|&(_, line, ..)| line);
                lines
            })
            .collect();
        for chunk in row_chunks(&lines) {
            let mut q = QueryBuilder::with_placeholders(
                placeholders,
                "INSERT INTO wf_link_items (link, line, quantity, passed) ",
            );
            q.push_values(chunk, |row, &(link, line, quantity, passed)| {
                row.push_bind(link)
                    .push_bind(i64::from(line))
                    .push_bind(quantity)
                    .push_bind(passed);
            });
            q.build().execute(&mut *conn).await?;
        }
        let to_links: Vec<_> = waiting.to_links.iter().collect();
        for chunk in row_chunks(&to_links) {
            // A `VALUES` list's columns are `column1`, `column2`… on both backends.
            let mut q = QueryBuilder::with_placeholders(
                placeholders,
                "UPDATE wf_link_items SET passed = passed + v.column3 FROM (",
            );
            q.push_values(chunk, |row, &((link, line), passed)| {
                row.push_bind(link.as_slice())
                    .push_bind(i64::from(*line))
                    .push_bind(*passed);
            });
            q.push(
                ") AS v WHERE wf_link_items.link = v.column1 AND wf_link_items.line = v.column2",
            );
            q.build().execute(&mut *conn).await?;
        }
        let to_posts: Vec<_> = waiting.to_posts.iter().collect();
        for chunk in row_chunks(&to_posts) {
            let mut q = QueryBuilder::with_placeholders(
                placeholders,
                "UPDATE wf_post_items SET pledged = pledged + v.column3, \
                 shipped = shipped + v.column4, delivered = delivered + v.column5 FROM (",
            );
            q.push_values(
                chunk,
                |row, &((post, line), [pledged, shipped, delivered])| {
                    row.push_bind(post.as_slice())
                        .push_bind(i64::from(*line))
                        .push_bind(*pledged)
                        .push_bind(*shipped)
                        .push_bind(*delivered);
                },
            );
            q.push(
                ") AS v WHERE wf_post_items.post = v.column1 AND wf_post_items.line = v.column2",
            );
            q.build().execute(&mut *conn).await?;
        }
        Ok(())
    }

    fn waiting(&self) -> MutexGuard<'_, Waiting> {
        self.0.lock().expect("the chain's pending writes")
    }
}
