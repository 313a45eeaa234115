//! Rows written in bulk. Most entries of an aid effort are offers, pledges, acceptances,
//! shipments and confirmations, whose rules end by inserting a row or two (an offer's
//! post and item lines, a link and its lines): written one entry at a time, those rows
//! cost more statements on the integrator's serial path than the rules' own reads. So
//! they wait here and are written with the rest of the batch's in one statement per
//! table (a few, see `row_chunks`) when the sequencer flushes (`Rules::flush`), which
//! it does before it stores the batch.
//!
//! Until then the tables do not show them, so a rule that reads them writes them first:
//! a verdict or a pledge drawing on an offer (see `reads_offers` in the parent module),
//! and a rule reading a link that waits here, or the links under it (`link_to_need`).
//! No other rule reads an offer or a link. Rows are the same whenever they are written,
//! so a replay (`rebuild`), which flushes page by page, gives the same tables.

use super::{insert_items, Ctx};
use ledger::body::{LineQuantity, OfferPost};
use ledger_node::storage::query::{row_chunks, QueryBuilder};
use sqlx::AnyConnection;
use std::sync::{Mutex, MutexGuard};

/// An admitted offer whose rows are not written yet.
#[derive(Debug)]
struct Offer {
    id: Vec<u8>,
    index: i64,
    author: Vec<u8>,
    created_at: String,
    body: OfferPost,
}

/// A pledge, acceptance, shipment or confirmation (a row of `wf_links`) and its lines.
#[derive(Debug)]
pub(super) struct Link {
    pub id: Vec<u8>,
    pub index: i64,
    pub kind: &'static str,
    pub author: Vec<u8>,
    pub parent: Vec<u8>,
    pub need: Vec<u8>,
    /// The public body fields, as JSON.
    pub detail: String,
    pub created_at: String,
    pub items: Vec<LineQuantity>,
}

#[derive(Debug, Default)]
struct Waiting {
    offers: Vec<Offer>,
    links: Vec<Link>,
}

/// The rows of the entries admitted since the last flush, in log order.
#[derive(Debug, Default)]
pub(super) struct Deferred(Mutex<Waiting>);

impl Deferred {
    /// Keeps the offer `body` admitted as `ctx` until the next flush.
    pub(super) fn push_offer(&self, ctx: &Ctx<'_>, body: &OfferPost) {
        self.waiting().offers.push(Offer {
            id: ctx.id.clone(),
            index: ctx.index,
            author: ctx.author.clone(),
            created_at: ctx.created_at.to_owned(),
            body: body.clone(),
        });
    }

    pub(super) fn push_link(&self, link: Link) {
        self.waiting().links.push(link);
    }

    /// Whether the link `id`, or a link under it, waits to be written.
    pub(super) fn holds_link(&self, id: &[u8]) -> bool {
        self.waiting()
            .links
            .iter()
            .any(|l| l.id == id || l.parent == id)
    }

    pub(super) fn discard(&self) {
        *self.waiting() = Waiting::default();
    }

    /// Writes the waiting rows through `conn`.
    pub(super) async fn flush(&self, conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
        let Waiting { offers, links } = std::mem::take(&mut *self.waiting());
        for chunk in row_chunks(&offers) {
            let mut q = QueryBuilder::new(
                "INSERT INTO wf_posts (id, idx, kind, author, needed_by, area_code, area_name, \
                 description, created_at, has_contact) ",
            );
            q.push_values(chunk, |row, o| {
                row.push_bind(o.id.as_slice())
                    .push_bind(o.index)
                    .push_bind("offer")
                    .push_bind(o.author.as_slice())
                    .push_bind(o.body.available_until.as_deref())
                    .push_bind(o.body.area.code.as_str())
                    .push_bind(o.body.area.name.as_str())
                    .push_bind(o.body.description.as_deref())
                    .push_bind(o.created_at.as_str())
                    .push_bind(i64::from(o.body.contact.is_some()));
            });
            q.build().execute(&mut *conn).await?;
        }
        let lines = offers
            .iter()
            .map(|o| (o.id.as_slice(), o.body.items.as_slice()));
        insert_items(conn, lines).await?;
        for chunk in row_chunks(&links) {
            let mut q = QueryBuilder::new(
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
        let lines: Vec<(&[u8], &LineQuantity)> = links
            .iter()
            .flat_map(|l| l.items.iter().map(move |q| (l.id.as_slice(), q)))
            .collect();
        for chunk in row_chunks(&lines) {
            let mut q = QueryBuilder::new("INSERT INTO wf_link_items (link, line, quantity) ");
            q.push_values(chunk, |row, &(link, l)| {
                row.push_bind(link)
                    .push_bind(i64::from(l.line))
                    .push_bind(l.quantity as i64);
            });
            q.build().execute(&mut *conn).await?;
        }
        Ok(())
    }

    fn waiting(&self) -> MutexGuard<'_, Waiting> {
        self.0.lock().expect("rows waiting to be written")
    }
}
