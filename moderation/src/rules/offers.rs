//! Offers written in bulk. An offer is the commonest entry of an aid effort and its
//! rule checks nothing but its form, so its rows (the post and its item lines) need not
//! cost two statements of their own on the integrator's serial path: they wait here
//! and are written with the rest of the batch's offers in one statement per table when
//! the sequencer flushes (`Rules::flush`), which it does before it stores the batch.
//!
//! Until then the tables do not show them, so a rule that reads offers flushes first
//! (see `reads_offers` in the parent module). Other rules find a need by its id alone
//! and refuse a post that is not one; an offer not yet written is refused the same
//! way, as no need. Rows are the same whenever they are written, so a replay (`rebuild`), which
//! flushes page by page, gives the same tables.

use super::{insert_items, Ctx};
use ledger::body::OfferPost;
use ledger_node::storage::query::{row_chunks, Placeholders, QueryBuilder};
use sqlx::AnyConnection;
use std::sync::Mutex;

/// An admitted offer whose rows are not written yet.
#[derive(Debug)]
struct Offer {
    id: Vec<u8>,
    index: i64,
    author: Vec<u8>,
    created_at: String,
    body: OfferPost,
}

/// The offers admitted since the last flush, in log order.
#[derive(Debug, Default)]
pub(super) struct Deferred(Mutex<Vec<Offer>>);

impl Deferred {
    /// Keeps the offer `body` admitted as `ctx` until the next flush.
    pub(super) fn push(&self, ctx: &Ctx<'_>, body: &OfferPost) {
        self.offers().push(Offer {
            id: ctx.id.clone(),
            index: ctx.index,
            author: ctx.author.clone(),
            created_at: ctx.created_at.to_owned(),
            body: body.clone(),
        });
    }

    pub(super) fn discard(&self) {
        self.offers().clear();
    }

    /// Writes the waiting offers' posts and item lines through `conn`.
    pub(super) async fn flush(&self, conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
        let offers = std::mem::take(&mut *self.offers());
        for chunk in row_chunks(&offers) {
            let mut q = QueryBuilder::with_placeholders(
                Placeholders::of(conn),
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
        insert_items(conn, lines).await
    }

    fn offers(&self) -> std::sync::MutexGuard<'_, Vec<Offer>> {
        self.0.lock().expect("deferred offers")
    }
}
