//! Needs and offers written in bulk. Posts are about half of an aid effort's entries, and
//! each post's rows (the post and its item lines) need not cost two statements of their
//! own on the integrator's serial path: they wait here and are written with the rest
//! of the batch's posts in one statement per table when the sequencer flushes
//! (`Rules::flush`), which it does before it stores the batch.
//!
//! Until then the tables do not show them, so a rule that reads a post the batch may
//! have posted flushes first: a verdict, which reads the post it judges, a pledge drawing
//! on an offer (see `reads_posts` in the parent module), and any rule that finds a need
//! by its id when that need waits here (`find_need`). A need's organisation counts the
//! needs waiting here among its open ones (`needs_of`): a need waiting here is open,
//! since the update that would close it flushes it first. Rows are the same whenever
//! they are written, so a replay (`rebuild`), which flushes page by page, gives the
//! same tables.

use super::{insert_items, Ctx};
use ledger::body::{NeedPost, OfferPost};
use ledger_node::storage::query::{row_chunks, Placeholders, QueryBuilder};
use sqlx::AnyConnection;
use std::sync::{Mutex, MutexGuard};

/// An admitted post whose rows are not written yet.
#[derive(Debug)]
struct Post<B> {
    id: Vec<u8>,
    index: i64,
    author: Vec<u8>,
    created_at: String,
    body: B,
}

/// An admitted need: its post, its organisation and whether it was posted by someone
/// who is not a member of it (relayed).
#[derive(Debug)]
struct Need {
    post: Post<NeedPost>,
    org: Vec<u8>,
    relayed: bool,
}

/// The posts admitted since the last flush, in log order.
#[derive(Debug, Default)]
struct Waiting {
    needs: Vec<Need>,
    offers: Vec<Post<OfferPost>>,
}

#[derive(Debug, Default)]
pub(super) struct Deferred(Mutex<Waiting>);

impl Deferred {
    /// Keeps the offer `body` admitted as `ctx` until the next flush.
    pub(super) fn push_offer(&self, ctx: &Ctx<'_>, body: &OfferPost) {
        self.waiting().offers.push(Post::new(ctx, body));
    }

    /// Keeps the need `body` of the organisation `org`, admitted as `ctx`, until the
    /// next flush.
    pub(super) fn push_need(&self, ctx: &Ctx<'_>, body: &NeedPost, org: Vec<u8>, relayed: bool) {
        self.waiting().needs.push(Need {
            post: Post::new(ctx, body),
            org,
            relayed,
        });
    }

    /// Whether the need `id` waits to be written.
    pub(super) fn holds_need(&self, id: &[u8]) -> bool {
        self.waiting().needs.iter().any(|n| n.post.id == id)
    }

    /// How many needs of the organisation `org` wait to be written.
    pub(super) fn needs_of(&self, org: &[u8]) -> i64 {
        self.waiting().needs.iter().filter(|n| n.org == org).count() as i64
    }

    pub(super) fn discard(&self) {
        *self.waiting() = Waiting::default();
    }

    /// Writes the waiting posts and their item lines through `conn`.
    pub(super) async fn flush(&self, conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
        let Waiting { needs, offers } = std::mem::take(&mut *self.waiting());
        let placeholders = Placeholders::of(conn);
        for chunk in row_chunks(&needs) {
            let mut q = QueryBuilder::with_placeholders(
                placeholders,
                "INSERT INTO wf_posts (id, idx, kind, author, org, urgency, urgency_rank, \
                 needed_by, area_code, area_name, description, evidence_url, evidence_photo, \
                 relayed, created_at, has_contact, delivery_point) ",
            );
            q.push_values(chunk, |row, n| {
                let (p, b) = (&n.post, &n.post.body);
                row.push_bind(p.id.as_slice())
                    .push_bind(p.index)
                    .push_bind("need")
                    .push_bind(p.author.as_slice())
                    .push_bind(n.org.as_slice())
                    .push_bind(b.urgency.name())
                    .push_bind(i64::from(b.urgency.rank()))
                    .push_bind(b.needed_by.as_str())
                    .push_bind(b.area.code.as_str())
                    .push_bind(b.area.name.as_str())
                    .push_bind(b.description.as_deref())
                    .push_bind(b.evidence.as_ref().and_then(|e| e.url.as_deref()))
                    .push_bind(b.evidence.as_ref().and_then(|e| e.photo_sha256.as_deref()))
                    .push_bind(i64::from(n.relayed))
                    .push_bind(p.created_at.as_str())
                    .push_bind(i64::from(b.contact.is_some()))
                    .push_bind(b.delivery_point.as_deref());
            });
            q.build().execute(&mut *conn).await?;
        }
        for chunk in row_chunks(&offers) {
            let mut q = QueryBuilder::with_placeholders(
                placeholders,
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
        let lines = needs
            .iter()
            .map(|n| (n.post.id.as_slice(), n.post.body.items.as_slice()))
            .chain(
                offers
                    .iter()
                    .map(|o| (o.id.as_slice(), o.body.items.as_slice())),
            );
        insert_items(conn, lines).await
    }

    fn waiting(&self) -> MutexGuard<'_, Waiting> {
        self.0.lock().expect("the posts waiting to be written")
    }
}

impl<B: Clone> Post<B> {
    fn new(ctx: &Ctx<'_>, body: &B) -> Self {
        Post {
            id: ctx.id.clone(),
            index: ctx.index,
            author: ctx.author.clone(),
            created_at: ctx.created_at.to_owned(),
            body: body.clone(),
        }
    }
}
