//! What a batch's entries read of the log's state, read ahead. Most entries of an aid
//! effort post needs or move goods along the chain: a need reads its organisation
//! (rejected? is the author a member? how many open needs?), a pledge its need, an
//! acceptance and a shipment their pledge, a delivery confirmation its shipment, each
//! with the need and the quantities of its lines. One statement each is a round trip
//! on the integrator's serial path, which on PostgreSQL is most of what an entry costs
//! there. Before admitting a batch the sequencer hands its entries over
//! (`Rules::read_ahead`), and what they will read is read in one statement per kind of
//! parent for the whole batch.
//!
//! What is read ahead is the tables' state before the batch, and a rule gets from here
//! exactly what its own statement would have read, for as long as no row it holds has
//! changed. The batch's own posts and chain wait to be written (`posts`, `chain`), and
//! a rule adds what waits to what either gives, so only the entries that write such
//! rows directly end it: a need's update forgets what was read of that need (and of its
//! organisation, if it closed), a moderator's verdict on an organisation what was read
//! of it, a role, a verdict on a post, a clock reading or an erasure everything (see
//! `admitted`), and so do writing the waiting posts before the batch's end
//! (organisations), the rules' flush and discard, and the next batch. New rows are
//! never stale: what the batch registered or posted was not read ahead. What was not
//! read ahead is read alone through the same statement, so a verdict never depends on
//! what was read ahead, only its cost does.

use super::{is_member_column, need_columns, quantities_in, LinkRef, NeedRef, OrgFacts, LOG_TIME};
use ledger::body::Body;
use ledger::entry::VerifiedEntry;
use ledger_node::storage::query::{row_chunks, Placeholders, QueryBuilder};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// A need as read for an entry's author: the need's id and the author's key.
type NeedKey = (Vec<u8>, Vec<u8>);

/// A link as read for an entry's author: its id, its kind and the author's key.
type LinkKey = (Vec<u8>, String, Vec<u8>);

/// An organisation as read for an entry's author: its id and the author's key.
type OrgKey = (Vec<u8>, Vec<u8>);

/// What was read ahead for the batch being admitted.
#[derive(Debug, Default)]
struct Read {
    needs: HashMap<NeedKey, (NeedRef, super::Quantities)>,
    links: HashMap<LinkKey, LinkRef>,
    orgs: HashMap<OrgKey, OrgFacts>,
}

#[derive(Debug, Default)]
pub(super) struct ReadAhead(Mutex<Read>);

impl ReadAhead {
    /// Reads the parents `entries` refer to, replacing whatever was read before.
    pub(super) async fn read(
        &self,
        conn: &mut AnyConnection,
        entries: &[&VerifiedEntry],
    ) -> Result<(), sqlx::Error> {
        self.forget();
        let mut needs = Vec::new();
        let mut links = Vec::new();
        let mut orgs = Vec::new();
        for entry in entries {
            let author = entry.author_key().to_bytes().to_vec();
            match entry.body() {
                Body::NeedPost(b) => orgs.push((super::bytes(&b.org), author)),
                Body::Pledge(b) => needs.push((super::bytes(&b.need), author)),
                Body::NeedUpdate(b) => needs.push((super::bytes(&b.need), author)),
                Body::PledgeAccept(b) => links.push((super::bytes(&b.pledge), "pledge", author)),
                Body::Shipment(b) => links.push((super::bytes(&b.pledge), "pledge", author)),
                Body::DeliveryConfirm(b) => {
                    links.push((super::bytes(&b.shipment), "shipment", author))
                }
                _ => {}
            }
        }
        // Several entries of a batch may ask the same of one parent.
        needs.sort_unstable();
        needs.dedup();
        links.sort_unstable();
        links.dedup();
        orgs.sort_unstable();
        orgs.dedup();
        let needs = read_needs(conn, &needs).await?;
        let links = read_links(conn, &links).await?;
        let orgs = read_orgs(conn, &orgs).await?;
        *self.read_so_far() = Read { needs, links, orgs };
        Ok(())
    }

    /// The need `id` as read for `author`: read ahead, or else read alone.
    pub(super) async fn need(
        &self,
        conn: &mut AnyConnection,
        id: &[u8],
        author: &[u8],
    ) -> Result<Option<(NeedRef, super::Quantities)>, sqlx::Error> {
        let key = (id.to_vec(), author.to_vec());
        let ahead = self.read_so_far().needs.get(&key).cloned();
        match ahead {
            Some(need) => Ok(Some(need)),
            None => Ok(read_needs(conn, std::slice::from_ref(&key))
                .await?
                .remove(&key)),
        }
    }

    /// The link `id` of `kind` as read for `author`: read ahead, or else read alone.
    pub(super) async fn link(
        &self,
        conn: &mut AnyConnection,
        id: &[u8],
        kind: &str,
        author: &[u8],
    ) -> Result<Option<LinkRef>, sqlx::Error> {
        let ahead = self
            .read_so_far()
            .links
            .get(&(id.to_vec(), kind.to_owned(), author.to_vec()))
            .cloned();
        match ahead {
            Some(link) => Ok(Some(link)),
            None => {
                let key = (id.to_vec(), kind, author.to_vec());
                let read = read_links(conn, std::slice::from_ref(&key)).await?;
                Ok(read.into_values().next())
            }
        }
    }

    /// The organisation `id` as read for `author`: read ahead, or else read alone.
    pub(super) async fn org(
        &self,
        conn: &mut AnyConnection,
        id: &[u8],
        author: &[u8],
    ) -> Result<Option<OrgFacts>, sqlx::Error> {
        let key = (id.to_vec(), author.to_vec());
        let ahead = self.read_so_far().orgs.get(&key).cloned();
        match ahead {
            Some(facts) => Ok(Some(facts)),
            None => Ok(read_orgs(conn, std::slice::from_ref(&key))
                .await?
                .remove(&key)),
        }
    }

    /// Forgets what the entry `body`, admitted since the read, may have changed of it.
    pub(super) fn admitted(&self, body: &Body) {
        match body {
            // New rows (a new organisation has no needs yet), the chain's writes, which
            // wait in `chain::Pending`, and organisations' own columns: nothing read here.
            Body::OfferPost(_)
            | Body::NeedPost(_)
            | Body::Pledge(_)
            | Body::PledgeAccept(_)
            | Body::Shipment(_)
            | Body::DeliveryConfirm(_)
            | Body::OrgRegister(_)
            | Body::OrgUpdate(_) => {}
            // A rejection counts against the organisation (any verdict is forgotten).
            Body::OrgVerify(b) => {
                let org = super::bytes(&b.org);
                self.read_so_far().orgs.retain(|(id, _), _| *id != org);
            }
            // Closing and withdrawing needs is a tenth of an aid effort's entries: only
            // what was read of that need goes, and, if it closed, of its organisation's
            // open needs (of every organisation's when the need was not read ahead).
            Body::NeedUpdate(b) => {
                let need = super::bytes(&b.need);
                let mut read = self.read_so_far();
                if b.close.is_some() {
                    let org = read
                        .needs
                        .iter()
                        .find(|((id, _), _)| *id == need)
                        .map(|(_, (n, _))| n.org.clone());
                    match org {
                        Some(org) => read.orgs.retain(|(id, _), _| *id != org),
                        None => read.orgs.clear(),
                    }
                }
                read.needs.retain(|(id, _), _| *id != need);
                read.links.retain(|_, link| link.need_id != need);
            }
            Body::LogClock(_)
            | Body::RoleGrant(_)
            | Body::RoleRevoke(_)
            | Body::Verdict(_)
            | Body::Redaction(_) => self.forget(),
        }
    }

    pub(super) fn forget(&self) {
        *self.read_so_far() = Read::default();
    }

    /// Forgets what was read of organisations: their open needs, once the batch's
    /// waiting needs are written.
    pub(super) fn forget_orgs(&self) {
        self.read_so_far().orgs.clear();
    }

    fn read_so_far(&self) -> MutexGuard<'_, Read> {
        self.0.lock().expect("the parents read ahead")
    }
}

/// The needs of `keys` (each a need's id and the key of the author it is read for)
/// that exist and are needs, with the requested and pledged quantities of their lines
/// as stored.
async fn read_needs(
    conn: &mut AnyConnection,
    keys: &[(Vec<u8>, Vec<u8>)],
) -> Result<HashMap<NeedKey, (NeedRef, super::Quantities)>, sqlx::Error> {
    let mut needs = HashMap::new();
    for chunk in row_chunks(keys) {
        let mut q = QueryBuilder::with_placeholders(
            Placeholders::of(conn),
            format!(
                "SELECT v.column1, v.column2, {}, i.line, i.requested, i.pledged FROM (",
                need_columns("v.column2")
            ),
        );
        q.push_values(chunk, |row, (id, author)| {
            row.push_bind(id.as_slice()).push_bind(author.as_slice());
        });
        q.push(
            ") AS v JOIN wf_posts p ON p.id = v.column1 \
             LEFT JOIN wf_post_items i ON i.post = p.id",
        );
        for (key, rows) in by_key(q.build().fetch_all(&mut *conn).await?, 2) {
            if let Some(need) = NeedRef::read(&rows[0], 2) {
                let lines = quantities_in(&rows, 2 + NeedRef::COLUMNS);
                needs.insert((key[0].clone(), key[1].clone()), (need, lines));
            }
        }
    }
    Ok(needs)
}

/// The links of `keys` (each a link's id, its kind and the key of the author it is
/// read for) that exist, each with its need, whether it was accepted and the quantity
/// of each of its lines with how much of it was passed on, as stored.
async fn read_links(
    conn: &mut AnyConnection,
    keys: &[(Vec<u8>, &str, Vec<u8>)],
) -> Result<HashMap<LinkKey, LinkRef>, sqlx::Error> {
    let mut links = HashMap::new();
    for chunk in row_chunks(keys) {
        let mut q = QueryBuilder::with_placeholders(
            Placeholders::of(conn),
            format!(
                "SELECT v.column1, v.column3, v.column2, l.author, l.need,
                        CAST((SELECT COUNT(*) FROM wf_links a
                              WHERE a.parent = l.id AND a.kind = 'pledge.accept') AS BIGINT),
                        {}, i.line, i.quantity, i.passed
                 FROM (",
                need_columns("v.column3")
            ),
        );
        q.push_values(chunk, |row, (id, kind, author)| {
            row.push_bind(id.as_slice())
                .push_bind(*kind)
                .push_bind(author.as_slice());
        });
        q.push(
            ") AS v JOIN wf_links l ON l.id = v.column1 AND l.kind = v.column2 \
             LEFT JOIN wf_posts p ON p.id = l.need \
             LEFT JOIN wf_link_items i ON i.link = l.id",
        );
        for (key, rows) in by_key(q.build().fetch_all(&mut *conn).await?, 2) {
            let row = &rows[0];
            let link = LinkRef {
                author: row.get(3),
                need_id: row.get(4),
                accepted: row.get::<i64, _>(5) != 0,
                need: NeedRef::read(row, 6),
                lines: quantities_in(&rows, 6 + NeedRef::COLUMNS),
            };
            let kind: String = row.get(2);
            links.insert((key[0].clone(), kind, key[1].clone()), link);
        }
    }
    Ok(links)
}

/// The organisations of `keys` (each an organisation's id and the key of the author
/// it is read for) that are registered, with what a need posted for them asks.
async fn read_orgs(
    conn: &mut AnyConnection,
    keys: &[(Vec<u8>, Vec<u8>)],
) -> Result<HashMap<OrgKey, OrgFacts>, sqlx::Error> {
    let mut orgs = HashMap::new();
    for chunk in row_chunks(keys) {
        let mut q = QueryBuilder::with_placeholders(
            Placeholders::of(conn),
            format!(
                "SELECT v.column1, v.column2, o.rejects, {}, ({LOG_TIME}),
                        (SELECT COUNT(*) FROM wf_posts p
                         WHERE p.org = o.id AND p.kind = 'need' AND p.status = 'open')
                 FROM (",
                is_member_column("v.column2", "o.id")
            ),
        );
        q.push_values(chunk, |row, (id, author)| {
            row.push_bind(id.as_slice()).push_bind(author.as_slice());
        });
        q.push(") AS v JOIN wf_orgs o ON o.id = v.column1");
        for row in q.build().fetch_all(&mut *conn).await? {
            let facts = OrgFacts {
                rejects: row.get(2),
                by_member: row.get::<i64, _>(3) != 0,
                log_time: row.get(4),
                open_needs: row.get(5),
            };
            orgs.insert((row.get(0), row.get(1)), facts);
        }
    }
    Ok(orgs)
}

/// `rows` grouped by their first `columns` columns (byte strings), each group's rows
/// in the order they came.
fn by_key(rows: Vec<AnyRow>, columns: usize) -> HashMap<Vec<Vec<u8>>, Vec<AnyRow>> {
    let mut groups: HashMap<Vec<Vec<u8>>, Vec<AnyRow>> = HashMap::new();
    for row in rows {
        let key = (0..columns).map(|c| row.get(c)).collect();
        groups.entry(key).or_default().push(row);
    }
    groups
}
