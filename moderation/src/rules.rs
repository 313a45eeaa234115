//! Who may write what, decided from the log alone, and the derived tables each
//! admitted entry changes. Every rule reads the state left by the entries before it,
//! so replaying the log reproduces every verdict (see `rebuild`).
//!
//! Each `admit_*` function checks everything first and writes last; should one refuse
//! after writing, the sequencer undoes the writes anyway: a refusal sends its batch back
//! to the start, to be admitted again with a savepoint around each entry.
//!
//! Rules that depend on time read the log's clock (`wf_clock`, the latest `log.clock`
//! reading), never an entry's `created_at`, which its author chose. Before a log's
//! first reading (logs written before the clock existed) there is no time to judge
//! by and those rules do not apply; every log written since starts with a reading.

use crate::private::{self, Sidecar};
use ledger::body::{
    Body, CloseReason, DeliveryConfirm, Item, LineQuantity, NeedPost, NeedUpdate, OrgRegister,
    OrgUpdate, OrgVerdict, OrgVerify, Pledge, PledgeAccept, Redaction, Role, RoleChange, Shipment,
    Verdict, VerdictKind,
};
use ledger::checkpoint::LogVerifier;
use ledger::clock;
use ledger::entry::{parse_timestamp, VerifiedEntry};
use ledger::fault::{Fault, FaultCode};
use ledger::hex32;
use ledger_node::rules::{BoxFuture, Denial, Refusal, Rules};
use ledger_node::storage::query::{row_chunks, Placeholders, QueryBuilder};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

mod chain;
mod parents;
mod posts;

use chain::{Moved, Quantities};

/// Most open needs one organisation may have at once (an abuse limit that is part of
/// validity, so it is fixed rather than configured).
pub const MAX_OPEN_NEEDS_PER_ORG: i64 = 200;

/// The aid workflow's rules for one log, on either backend. They know the log's key
/// (the verifier key its clients pin) because only that key may set the log's clock.
#[derive(Debug)]
pub struct WorkflowRules {
    log: LogVerifier,
    posts: posts::Deferred,
    chain: chain::Pending,
    parents: parents::ReadAhead,
}

impl WorkflowRules {
    /// The rules of the log whose checkpoints `log` verifies.
    pub fn new(log: LogVerifier) -> Self {
        WorkflowRules {
            log,
            posts: posts::Deferred::default(),
            chain: chain::Pending::default(),
            parents: parents::ReadAhead::default(),
        }
    }

    /// Writes the posts waiting for the batch's end now, for a rule that reads them.
    async fn write_posts(&self, conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
        // The open needs read ahead counted none of them, as those waiting are added.
        self.parents.forget_orgs();
        self.posts.flush(conn).await
    }
}

/// A clone serves another integrator (a node that takes the lease over): it starts
/// with nothing left to write.
impl Clone for WorkflowRules {
    fn clone(&self) -> Self {
        WorkflowRules::new(self.log.clone())
    }
}

impl Rules for WorkflowRules {
    fn admit<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        entry: &'a VerifiedEntry,
        index: u64,
        sidecar: Option<&'a Sidecar>,
    ) -> BoxFuture<'a, Result<(), Refusal>> {
        Box::pin(admit(conn, self, entry, index, sidecar))
    }

    fn read_ahead<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        entries: &'a [&'a VerifiedEntry],
    ) -> BoxFuture<'a, Result<(), sqlx::Error>> {
        Box::pin(self.parents.read(conn, entries))
    }

    fn flush<'a>(&'a self, conn: &'a mut AnyConnection) -> BoxFuture<'a, Result<(), sqlx::Error>> {
        Box::pin(async move {
            // What the parents read ahead hold does not count what is written now.
            self.parents.forget();
            self.posts.flush(conn).await?;
            self.chain.flush(conn).await
        })
    }

    fn discard(&self) {
        self.parents.forget();
        self.posts.discard();
        self.chain.discard();
    }
}

/// Whether the rule of `body` reads posts the batch may have posted, which must then be
/// written first (see `posts`): a verdict reads the post it judges, a pledge the
/// offer it draws on. (A rule that finds a need by its id writes it first itself.)
fn reads_posts(body: &Body) -> bool {
    match body {
        Body::Verdict(_) => true,
        Body::Pledge(p) => p.offer.is_some(),
        _ => false,
    }
}

/// An entry being admitted: who wrote it, its id, where it lands, when it was written.
struct Ctx<'a> {
    author: Vec<u8>,
    id: Vec<u8>,
    index: i64,
    created_at: &'a str,
}

/// The log's clock (`YYYY-MM-DDTHH:MM:SSZ`), absent before its first reading. Only the
/// rules that depend on time read it: most entries do not, and each read is a
/// statement on the integrator's serial path.
async fn log_time(conn: &mut AnyConnection) -> Result<Option<String>, sqlx::Error> {
    Ok(sqlx::query(LOG_TIME)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| r.get(0)))
}

/// The statement that reads the log's clock, also a column of the rules' combined reads.
const LOG_TIME: &str = "SELECT time FROM wf_clock";

/// The date of a log time, for comparisons with `needed_by`.
fn date_of(log_time: &str) -> &str {
    &log_time[..10]
}

async fn admit(
    conn: &mut AnyConnection,
    rules: &WorkflowRules,
    entry: &VerifiedEntry,
    index: u64,
    sidecar: Option<&Sidecar>,
) -> Result<(), Refusal> {
    if reads_posts(entry.body()) {
        rules.write_posts(conn).await?;
    }
    let ctx = Ctx {
        author: entry.author_key().to_bytes().to_vec(),
        id: entry.leaf_hash().0.to_vec(),
        index: index as i64,
        created_at: entry.entry().created_at.as_str(),
    };
    let admitted = match entry.body() {
        Body::LogClock(b) => set_clock(conn, &ctx, &rules.log, entry, &b.time).await,
        Body::RoleGrant(b) => grant(conn, &ctx, b).await,
        Body::RoleRevoke(b) => revoke(conn, &ctx, b).await,
        Body::OrgRegister(b) => register_org(conn, &ctx, b).await,
        Body::OrgVerify(b) => verify_org(conn, &ctx, b).await,
        Body::OrgUpdate(b) => update_org(conn, &ctx, b).await,
        Body::NeedPost(b) => post_need(conn, &ctx, rules, b).await,
        Body::NeedUpdate(b) => update_need(conn, &ctx, rules, b).await,
        // Anyone may offer anything: nothing to check, and its rows are written with
        // the batch's other posts once it is admitted (below).
        Body::OfferPost(_) => Ok(()),
        Body::Pledge(b) => pledge(conn, &ctx, rules, b).await,
        Body::PledgeAccept(b) => accept(conn, &ctx, rules, b).await,
        Body::Shipment(b) => ship(conn, &ctx, rules, b).await,
        Body::DeliveryConfirm(b) => confirm(conn, &ctx, rules, b).await,
        Body::Verdict(b) => verdict(conn, &ctx, b).await,
        Body::Redaction(b) => redact(conn, &ctx, b).await,
    };
    rules.parents.admitted(entry.body());
    admitted?;
    if let Some(commitment) = entry.body().contact_commitment() {
        sqlx::query("INSERT INTO wf_commitments (entry, commitment, author) VALUES ($1, $2, $3)")
            .bind(&ctx.id)
            .bind(bytes(commitment))
            .bind(&ctx.author)
            .execute(&mut *conn)
            .await?;
    }
    if let Some(sidecar) = sidecar {
        sidecar
            .check(entry.body().contact_commitment())
            .map_err(|e| Denial::conflict(e.to_string()))?;
        private::store(conn, &ctx.id, sidecar).await?;
    }
    if let Body::OfferPost(b) = entry.body() {
        rules.posts.push_offer(&ctx, b);
    }
    Ok(())
}

/// Hex references were checked by the body schema; this decodes one.
fn bytes(hex_ref: &str) -> Vec<u8> {
    hex32::decode(hex_ref)
        .map(|h| h.0.to_vec())
        .unwrap_or_default()
}

async fn has_role(
    conn: &mut AnyConnection,
    key: &[u8],
    role: Role,
    org: &[u8],
) -> Result<bool, sqlx::Error> {
    let row = sqlx::query("SELECT 1 FROM wf_roles WHERE key = $1 AND role = $2 AND org = $3")
        .bind(key)
        .bind(role_name(role))
        .bind(org)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.is_some())
}

/// Gives `key` the `role` (in `org`, or log-wide when `org` is empty) from entry `index` on.
async fn add_role(
    conn: &mut AnyConnection,
    key: &[u8],
    role: Role,
    org: &[u8],
    index: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO wf_roles (key, role, org, idx) VALUES ($1, $2, $3, $4)")
        .bind(key)
        .bind(role_name(role))
        .bind(org)
        .bind(index)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub(crate) fn role_name(role: Role) -> &'static str {
    match role {
        Role::Administrator => "administrator",
        Role::Moderator => "moderator",
        Role::Member => "member",
    }
}

async fn is_member(conn: &mut AnyConnection, key: &[u8], org: &[u8]) -> Result<bool, sqlx::Error> {
    has_role(conn, key, Role::Member, org).await
}

async fn require(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    role: Role,
    what: &str,
) -> Result<(), Refusal> {
    if has_role(conn, &ctx.author, role, b"").await? {
        Ok(())
    } else {
        Err(Denial::forbidden(format!(
            "only {} may {what}",
            match role {
                Role::Administrator => "an administrator",
                Role::Moderator => "a moderator",
                Role::Member => "a member",
            }
        ))
        .into())
    }
}

/// Whether the author changes the membership of an organisation it is a member of:
/// members keep their own organisation's keys (docs/FORMAT.md §5, Roles), so losing
/// one staff key never locks a hospital out while another remains.
async fn within_own_org(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    b: &RoleChange,
    org: &[u8],
) -> Result<bool, sqlx::Error> {
    Ok(b.role == Role::Member && is_member(conn, &ctx.author, org).await?)
}

const ROLE_CHANGERS: &str = "(members may grant and revoke membership of their own organisation)";

async fn grant(conn: &mut AnyConnection, ctx: &Ctx<'_>, b: &RoleChange) -> Result<(), Refusal> {
    let key = bytes(&b.key);
    let org = b.org.as_deref().map(bytes).unwrap_or_default();
    // A member adding a colleague needs no administrator; every other grant does,
    // but for the bootstrap of a log without one.
    if !within_own_org(conn, ctx, b, &org).await? {
        let any_admin = sqlx::query("SELECT 1 FROM wf_roles WHERE role = 'administrator' LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?
            .is_some();
        if any_admin {
            require(
                conn,
                ctx,
                Role::Administrator,
                &format!("grant roles {ROLE_CHANGERS}"),
            )
            .await?;
        } else if !(b.role == Role::Administrator && key == ctx.author) {
            return Err(Denial::forbidden(
                "the log has no administrator yet: its first role.grant must be an administrator granting the role to its own key",
            )
            .into());
        }
    }
    if b.role == Role::Member && !org_exists(conn, &org).await? {
        return Err(Denial::unknown("org: no registered organisation has this id").into());
    }
    if has_role(conn, &key, b.role, &org).await? {
        return Err(
            Denial::conflict(format!("key already holds the {} role", role_name(b.role))).into(),
        );
    }
    add_role(conn, &key, b.role, &org, ctx.index).await?;
    Ok(())
}

async fn revoke(conn: &mut AnyConnection, ctx: &Ctx<'_>, b: &RoleChange) -> Result<(), Refusal> {
    let key = bytes(&b.key);
    let org = b.org.as_deref().map(bytes).unwrap_or_default();
    let by_member = within_own_org(conn, ctx, b, &org).await?
        && !has_role(conn, &ctx.author, Role::Administrator, b"").await?;
    if !by_member {
        require(
            conn,
            ctx,
            Role::Administrator,
            &format!("revoke roles {ROLE_CHANGERS}"),
        )
        .await?;
    }
    if !has_role(conn, &key, b.role, &org).await? {
        return Err(
            Denial::conflict(format!("key does not hold the {} role", role_name(b.role))).into(),
        );
    }
    if by_member {
        let members: i64 =
            sqlx::query("SELECT COUNT(*) FROM wf_roles WHERE role = 'member' AND org = $1")
                .bind(&org)
                .fetch_one(&mut *conn)
                .await?
                .get(0);
        if members == 1 {
            return Err(Denial::conflict(
                "cannot revoke the organisation's last member; an administrator can",
            )
            .into());
        }
    }
    if b.role == Role::Administrator {
        let admins: i64 = sqlx::query("SELECT COUNT(*) FROM wf_roles WHERE role = 'administrator'")
            .fetch_one(&mut *conn)
            .await?
            .get(0);
        if admins == 1 {
            return Err(Denial::conflict("cannot revoke the last administrator").into());
        }
    }
    sqlx::query("DELETE FROM wf_roles WHERE key = $1 AND role = $2 AND org = $3")
        .bind(&key)
        .bind(role_name(b.role))
        .bind(&org)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn org_exists(conn: &mut AnyConnection, org: &[u8]) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("SELECT 1 FROM wf_orgs WHERE id = $1")
        .bind(org)
        .fetch_optional(&mut *conn)
        .await?
        .is_some())
}

async fn register_org(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    b: &OrgRegister,
) -> Result<(), Refusal> {
    sqlx::query(
        "INSERT INTO wf_orgs (id, idx, author, name, org_type, area_code, area_name, description, delivery_point, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&ctx.id)
    .bind(ctx.index)
    .bind(&ctx.author)
    .bind(&b.name)
    .bind(wire_name(b.org_type))
    .bind(&b.area.code)
    .bind(&b.area.name)
    .bind(&b.description)
    .bind(&b.delivery_point)
    .bind(ctx.created_at)
    .execute(&mut *conn)
    .await?;
    // Whoever registers an organisation is its first member, unless they relay it for
    // the organisation: then it has no member until an administrator appoints one.
    if b.relayed != Some(true) {
        add_role(conn, &ctx.author, Role::Member, &ctx.id, ctx.index).await?;
    }
    Ok(())
}

/// A member changes where goods are received or how the organisation describes
/// itself; what is not given stays as it was.
async fn update_org(conn: &mut AnyConnection, ctx: &Ctx<'_>, b: &OrgUpdate) -> Result<(), Refusal> {
    let org = bytes(&b.org);
    if !org_exists(conn, &org).await? {
        return Err(Denial::unknown("org: no registered organisation has this id").into());
    }
    if !is_member(conn, &ctx.author, &org).await? {
        return Err(Denial::forbidden("only a member of the organisation may update it").into());
    }
    sqlx::query(
        "UPDATE wf_orgs SET delivery_point = COALESCE($1, delivery_point),
                            description = COALESCE($2, description)
         WHERE id = $3",
    )
    .bind(&b.delivery_point)
    .bind(&b.description)
    .bind(&org)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn verify_org(conn: &mut AnyConnection, ctx: &Ctx<'_>, b: &OrgVerify) -> Result<(), Refusal> {
    require(conn, ctx, Role::Moderator, "verify organisations").await?;
    let org = bytes(&b.org);
    if !org_exists(conn, &org).await? {
        return Err(Denial::unknown("org: no registered organisation has this id").into());
    }
    let registrant: Vec<u8> = sqlx::query("SELECT author FROM wf_orgs WHERE id = $1")
        .bind(&org)
        .fetch_one(&mut *conn)
        .await?
        .get(0);
    if registrant == ctx.author || is_member(conn, &ctx.author, &org).await? {
        return Err(Denial::forbidden(
            "a moderator cannot verify an organisation they registered or belong to",
        )
        .into());
    }
    let (verdict, column) = match b.verdict {
        OrgVerdict::Verified => ("verify", "verifies"),
        OrgVerdict::Rejected => ("reject", "rejects"),
    };
    record_verdict(conn, ctx, &org, verdict, &b.reason, None).await?;
    sqlx::query(&format!(
        "UPDATE wf_orgs SET {column} = {column} + 1 WHERE id = $1"
    ))
    .bind(&org)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn record_verdict(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    target: &[u8],
    verdict: &str,
    reason: &str,
    original: Option<Vec<u8>>,
) -> Result<(), Refusal> {
    let repeated =
        sqlx::query("SELECT 1 FROM wf_verdicts WHERE target = $1 AND author = $2 AND verdict = $3")
            .bind(target)
            .bind(&ctx.author)
            .bind(verdict)
            .fetch_optional(&mut *conn)
            .await?
            .is_some();
    if repeated {
        return Err(Denial::conflict(format!(
            "this key already gave the verdict {verdict} on this entry"
        ))
        .into());
    }
    sqlx::query("INSERT INTO wf_verdicts (id, idx, target, author, verdict, reason, original) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(&ctx.id)
        .bind(ctx.index)
        .bind(target)
        .bind(&ctx.author)
        .bind(verdict)
        .bind(reason)
        .bind(original)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The name an enum value has in an entry body (`"box"`, `"hospital"`), for its column.
fn wire_name(value: impl serde::Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => unreachable!("body enums serialise as their names"),
    }
}

/// Inserts the item lines of each of `posts` (its id and its items, numbered from 0).
async fn insert_items<'p>(
    conn: &mut AnyConnection,
    posts: impl IntoIterator<Item = (&'p [u8], &'p [Item])>,
) -> Result<(), sqlx::Error> {
    let lines: Vec<(&[u8], usize, &Item)> = posts
        .into_iter()
        .flat_map(|(post, items)| {
            items
                .iter()
                .enumerate()
                .map(move |(line, item)| (post, line, item))
        })
        .collect();
    for chunk in row_chunks(&lines) {
        let mut q = QueryBuilder::with_placeholders(
            Placeholders::of(conn),
            "INSERT INTO wf_post_items (post, line, item, category, unit, spec, requested) ",
        );
        q.push_values(chunk, |row, &(post, line, item)| {
            row.push_bind(post)
                .push_bind(line as i64)
                .push_bind(item.item.as_str())
                .push_bind(item.category.name())
                .push_bind(wire_name(item.unit))
                .push_bind(item.spec.as_deref())
                .push_bind(item.quantity as i64);
        });
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

async fn post_need(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    rules: &WorkflowRules,
    b: &NeedPost,
) -> Result<(), Refusal> {
    let org = bytes(&b.org);
    let facts = rules.parents.org(conn, &org, &ctx.author).await?;
    let Some(facts) = facts else {
        return Err(Denial::unknown("org: no registered organisation has this id").into());
    };
    if facts.rejects > 0 {
        return Err(
            Denial::forbidden("org: the organisation was rejected by a moderator")
                .because(Fault::new(FaultCode::OrgRejected).at("org"))
                .into(),
        );
    }
    let member = facts.by_member;
    if !member && b.evidence.is_none() {
        return Err(Denial::forbidden(
            "evidence: required when posting on behalf of an organisation you are not a member of",
        )
        .because(Fault::new(FaultCode::EvidenceRequired).at("evidence.url"))
        .into());
    }
    if let Some(today) = facts
        .log_time
        .as_deref()
        .map(date_of)
        .filter(|today| b.needed_by.as_str() < *today)
    {
        return Err(Denial::conflict(format!(
            "needed_by: the date is in the past: the log's clock says {today}"
        ))
        .because(Fault::new(FaultCode::DatePassed).at("needed_by"))
        .into());
    }
    if facts.open_needs + rules.posts.needs_of(&org) >= MAX_OPEN_NEEDS_PER_ORG {
        return Err(Denial::conflict(format!(
            "the organisation already has {MAX_OPEN_NEEDS_PER_ORG} open needs; close some first"
        ))
        .because(Fault::new(FaultCode::TooManyOpenNeeds).limit(MAX_OPEN_NEEDS_PER_ORG))
        .into());
    }
    rules.posts.push_need(ctx, b, org, !member);
    Ok(())
}

/// The need an entry refers to: its author, organisation, status, deadline and
/// rejections, and, read in
/// the same statement because the rules about needs ask them, whether the entry's
/// author is a member of the need's organisation and the log's clock. Every
/// statement is a round trip on the integrator's serial path.
#[derive(Clone, Debug)]
struct NeedRef {
    author: Vec<u8>,
    org: Vec<u8>,
    status: String,
    needed_by: String,
    rejects: i64,
    by_member: bool,
    /// See [`log_time`].
    log_time: Option<String>,
}

/// What a need posted for an organisation asks of it, as the entry's author sees it:
/// whether moderators rejected it, whether the author is a member, the log's clock (see
/// [`log_time`]) and how many of its needs are open.
#[derive(Clone, Debug)]
struct OrgFacts {
    rejects: i64,
    by_member: bool,
    log_time: Option<String>,
    open_needs: i64,
}

/// A column that is 1 when the key `key` is a member of the organisation `org` (SQL
/// expressions), else 0: an integer on both backends.
///
/// A count, as [`link_to_need`]'s acceptance is, rather than `EXISTS`: PostgreSQL may
/// run an `EXISTS` as a hashed subplan, reading every row its condition on constants
/// selects to probe a hash once per statement, which it chose on statistics that lagged
/// behind the table, and which then grew with the log. A count is probed by the index
/// for each row.
fn is_member_column(key: &str, org: &str) -> String {
    format!(
        "CAST((SELECT COUNT(*) FROM wf_roles r
               WHERE r.key = {key} AND r.role = 'member' AND r.org = {org}) AS BIGINT)"
    )
}

/// The columns `NeedRef::read` reads, of the post `p`; `author` is the placeholder of
/// the key whose membership is asked.
///
/// A statement finds the post by its id alone and `NeedRef::read` checks that it is a
/// need: with `p.kind = 'need'` beside the id, PostgreSQL chose to walk the `(kind, idx)`
/// index through every need, filtering by id, whenever its statistics of `wf_posts`
/// lagged behind the table (a log under load grows faster than autovacuum analyses):
/// a pledge's read cost grew with the number of needs (300 µs at 4,000 needs).
fn need_columns(author: &str) -> String {
    format!(
        "p.kind, p.author, p.status, p.needed_by, p.rejects, {}, ({LOG_TIME}), p.org",
        is_member_column(author, "p.org")
    )
}

impl NeedRef {
    /// How many columns `need_columns` names.
    const COLUMNS: usize = 8;

    /// The log's date, for comparisons with `needed_by`.
    fn today(&self) -> Option<&str> {
        self.log_time.as_deref().map(date_of)
    }

    /// The need in the columns of `row` from `at` on (`need_columns`), if the post
    /// there is one.
    fn read(row: &AnyRow, at: usize) -> Option<NeedRef> {
        if row.get::<Option<String>, _>(at)?.as_str() != "need" {
            return None;
        }
        Some(NeedRef {
            author: row.get(at + 1),
            status: row.get(at + 2),
            needed_by: row.get(at + 3),
            rejects: row.get(at + 4),
            by_member: row.get::<i64, _>(at + 5) != 0,
            log_time: row.get(at + 6),
            org: row.get(at + 7),
        })
    }
}

/// The need `id` (named `field` in the entry), as the entry by `author` sees it, and
/// the requested and pledged quantities of its lines.
async fn need(
    conn: &mut AnyConnection,
    rules: &WorkflowRules,
    field: &str,
    id: &[u8],
    author: &[u8],
) -> Result<(NeedRef, Quantities), Refusal> {
    find_need(conn, rules, id, author)
        .await?
        .ok_or_else(|| no_need(field).into())
}

/// The need `id` as the entry by `author` sees it, if there is one, and the requested
/// and pledged quantities of its lines (with what waits in the chain added): read
/// ahead with the batch's other parents, or else alone, once a need the batch posted
/// is written.
async fn find_need(
    conn: &mut AnyConnection,
    rules: &WorkflowRules,
    id: &[u8],
    author: &[u8],
) -> Result<Option<(NeedRef, Quantities)>, sqlx::Error> {
    if rules.posts.holds_need(id) {
        rules.write_posts(conn).await?;
    }
    let Some((need, mut lines)) = rules.parents.need(conn, id, author).await? else {
        return Ok(None);
    };
    rules.chain.add_waiting_pledges(id, &mut lines);
    Ok(Some((need, lines)))
}

/// The quantities of the lines in `rows`, each row's line and its two quantities in
/// the columns from `at` on (a row without a line adds none).
fn quantities_in(rows: &[AnyRow], at: usize) -> Quantities {
    rows.iter()
        .filter_map(|r| {
            let line = r.get::<Option<i64>, _>(at)?;
            Some((line as u32, (r.get(at + 1), r.get(at + 2))))
        })
        .collect()
}

fn no_need(field: &str) -> Denial {
    Denial::unknown(format!("{field}: no need in the log has this id"))
}

/// The quantities of line `l` (the entry's `field`) of a need, or the refusal naming a
/// line the need does not have.
fn need_line(
    quantities: &Quantities,
    l: &LineQuantity,
    field: &str,
) -> Result<(i64, i64), Refusal> {
    quantities
        .get(&l.line)
        .copied()
        .ok_or_else(|| Denial::unknown(format!("{field}.line: the need has no such line")).into())
}

async fn update_need(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    rules: &WorkflowRules,
    b: &NeedUpdate,
) -> Result<(), Refusal> {
    let id = bytes(&b.need);
    let (n, quantities) = need(conn, rules, "need", &id, &ctx.author).await?;
    if n.author != ctx.author && !n.by_member {
        return Err(Denial::forbidden(
            "only the need's author or a member of its organisation may update it",
        )
        .into());
    }
    if n.status != "open" {
        return Err(
            Denial::conflict(format!("need: the need is already closed ({})", n.status))
                .because(Fault::new(FaultCode::NeedClosed))
                .into(),
        );
    }
    for (i, l) in b.items.iter().enumerate() {
        let field = format!("items[{i}]");
        let (_, pledged) = need_line(&quantities, l, &field)?;
        if (l.quantity as i64) < pledged {
            return Err(Denial::conflict(format!(
                "{field}.quantity: {pledged} are already pledged; the request cannot go below that"
            ))
            .because(
                Fault::new(FaultCode::BelowPledged)
                    .at(format!("{field}.quantity"))
                    .limit(pledged),
            )
            .into());
        }
    }
    for l in &b.items {
        sqlx::query("UPDATE wf_post_items SET requested = $1 WHERE post = $2 AND line = $3")
            .bind(l.quantity as i64)
            .bind(&id)
            .bind(i64::from(l.line))
            .execute(&mut *conn)
            .await?;
    }
    if let Some(reason) = b.close {
        let status = match reason {
            CloseReason::Met => "met",
            CloseReason::Withdrawn => "withdrawn",
            CloseReason::Expired => "expired",
        };
        // When it closed decides when retention erases its private data: the log's
        // time, so an author cannot hasten or delay that by dating the update.
        sqlx::query("UPDATE wf_posts SET status = $1, closed_at = $2 WHERE id = $3")
            .bind(status)
            .bind(n.log_time.as_deref().unwrap_or(ctx.created_at))
            .bind(&id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

async fn pledge(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    rules: &WorkflowRules,
    b: &Pledge,
) -> Result<(), Refusal> {
    let id = bytes(&b.need);
    let (n, quantities) = need(conn, rules, "need", &id, &ctx.author).await?;
    if n.status != "open" {
        return Err(Denial::conflict(format!(
            "need: the need is closed ({}); pledges go to open needs",
            n.status
        ))
        .because(Fault::new(FaultCode::NeedClosed))
        .into());
    }
    if let Some(today) = n.today().filter(|today| n.needed_by.as_str() < *today) {
        return Err(Denial::conflict(format!(
            "need: the need expired on its needed_by date {}: the log's clock says {today}",
            n.needed_by
        ))
        .because(Fault::new(FaultCode::NeedClosed))
        .into());
    }
    if n.rejects > 0 {
        return Err(
            Denial::conflict("need: the need was rejected by a moderator")
                .because(Fault::new(FaultCode::NeedClosed))
                .into(),
        );
    }
    if let Some(offer) = &b.offer {
        // By id alone, for the reason `need_columns` gives.
        let offer_author: Option<Vec<u8>> =
            sqlx::query("SELECT author, kind FROM wf_posts WHERE id = $1")
                .bind(bytes(offer))
                .fetch_optional(&mut *conn)
                .await?
                .filter(|r| r.get::<String, _>(1) == "offer")
                .map(|r| r.get(0));
        match offer_author {
            None => return Err(Denial::unknown("offer: no offer in the log has this id").into()),
            Some(a) if a != ctx.author => {
                return Err(Denial::forbidden(
                    "offer: a pledge may only draw on the pledger's own offer",
                )
                .into())
            }
            Some(_) => {}
        }
    }
    for (i, l) in b.items.iter().enumerate() {
        let field = format!("items[{i}]");
        let (requested, pledged) = need_line(&quantities, l, &field)?;
        let remaining = requested - pledged;
        if l.quantity as i64 > remaining {
            return Err(Denial::conflict(format!(
                "{field}.quantity: only {remaining} remain to be pledged on line {}",
                l.line
            ))
            .because(
                Fault::new(FaultCode::AboveRemaining)
                    .at(format!("{field}.quantity"))
                    .limit(remaining),
            )
            .into());
        }
    }
    rules.chain.add_to_need(&id, Moved::Pledged, &b.items);
    let detail = serde_json::json!({ "offer": b.offer });
    rules
        .chain
        .push_link(ctx, "pledge", &id, &id, detail, &b.items);
    Ok(())
}

/// A pledge accepted by the receiving side: what opens the need's contact to its
/// donor (docs/FORMAT.md §8). Whoever may update the need may accept its pledges.
async fn accept(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    rules: &WorkflowRules,
    b: &PledgeAccept,
) -> Result<(), Refusal> {
    let pledge_id = bytes(&b.pledge);
    let pledge = link_to_need(conn, rules, "pledge", &pledge_id, "pledge", &ctx.author).await?;
    let n = pledge.need.ok_or_else(|| no_need("pledge"))?;
    if n.author != ctx.author && !n.by_member {
        return Err(Denial::forbidden(
            "only the need's author or a member of its organisation may accept a pledge to it",
        )
        .into());
    }
    if pledge.accepted {
        return Err(Denial::conflict("pledge: the pledge is already accepted")
            .because(Fault::new(FaultCode::AlreadyAccepted))
            .into());
    }
    let detail = serde_json::json!({ "note": b.note });
    rules.chain.push_link(
        ctx,
        "pledge.accept",
        &pledge_id,
        &pledge.need_id,
        detail,
        &[],
    );
    Ok(())
}

/// A pledge or shipment: its author and, read in the same statement, the need it is
/// for (see [`NeedRef`]), whether it was accepted (which only a pledge can be), and
/// the quantity of each of its lines with how much of it was passed on.
#[derive(Clone, Debug)]
struct LinkRef {
    author: Vec<u8>,
    need_id: Vec<u8>,
    need: Option<NeedRef>,
    accepted: bool,
    lines: Quantities,
}

/// The link `id` of `kind` (named `field` in the entry by `author`) and its need,
/// whether written (read ahead with the batch's other parents, or else alone) or still
/// waiting in the chain.
async fn link_to_need(
    conn: &mut AnyConnection,
    rules: &WorkflowRules,
    field: &str,
    id: &[u8],
    kind: &str,
    author: &[u8],
) -> Result<LinkRef, Refusal> {
    let chain = &rules.chain;
    if let Some((link_author, need_id, lines)) = chain.link(id, kind) {
        return Ok(LinkRef {
            author: link_author,
            need: find_need(conn, rules, &need_id, author)
                .await?
                .map(|(need, _)| need),
            need_id,
            accepted: chain.accepted(id),
            lines,
        });
    }
    let mut link = rules
        .parents
        .link(conn, id, kind, author)
        .await?
        .ok_or_else(|| Denial::unknown(format!("{field}: no {kind} in the log has this id")))?;
    chain.add_waiting_passes(id, &mut link.lines);
    link.accepted |= chain.accepted(id);
    Ok(link)
}

/// Checks that each line's quantity fits what is left on that line of the link
/// `parent` (its `quantities`), then moves it on: `passed` grows on the parent, what
/// was `moved` on the need's items.
fn pass_on(
    chain: &chain::Pending,
    parent: &[u8],
    quantities: &Quantities,
    need: &[u8],
    items: &[LineQuantity],
    moved: Moved,
    what: &str,
) -> Result<(), Refusal> {
    for (i, l) in items.iter().enumerate() {
        let (quantity, passed) = *quantities.get(&l.line).ok_or_else(|| {
            Denial::unknown(format!(
                "items[{i}].line: the referenced entry has no such line"
            ))
        })?;
        if l.quantity as i64 > quantity - passed {
            return Err(Denial::conflict(format!(
                "items[{i}].quantity: only {} remain to be {what} on line {}",
                quantity - passed,
                l.line
            ))
            .because(
                Fault::new(FaultCode::AboveRemaining)
                    .at(format!("items[{i}].quantity"))
                    .limit(quantity - passed),
            )
            .into());
        }
    }
    chain.pass_on(parent, items);
    chain.add_to_need(need, moved, items);
    Ok(())
}

async fn ship(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    rules: &WorkflowRules,
    b: &Shipment,
) -> Result<(), Refusal> {
    let pledge_id = bytes(&b.pledge);
    let pledge = link_to_need(conn, rules, "pledge", &pledge_id, "pledge", &ctx.author).await?;
    let need = pledge.need_id;
    if pledge.author != ctx.author {
        return Err(Denial::forbidden(
            "only the donor who made the pledge may record its shipments",
        )
        .into());
    }
    pass_on(
        &rules.chain,
        &pledge_id,
        &pledge.lines,
        &need,
        &b.items,
        Moved::Shipped,
        "shipped",
    )?;
    let detail = serde_json::json!({ "carrier": b.carrier, "tracking": b.tracking });
    rules
        .chain
        .push_link(ctx, "shipment", &pledge_id, &need, detail, &b.items);
    Ok(())
}

async fn confirm(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    rules: &WorkflowRules,
    b: &DeliveryConfirm,
) -> Result<(), Refusal> {
    let shipment_id = bytes(&b.shipment);
    let shipment = link_to_need(
        conn,
        rules,
        "shipment",
        &shipment_id,
        "shipment",
        &ctx.author,
    )
    .await?;
    let need_id = shipment.need_id;
    if !shipment.need.ok_or_else(|| no_need("shipment"))?.by_member {
        return Err(Denial::forbidden(
            "only a member of the receiving organisation may confirm a delivery",
        )
        .into());
    }
    pass_on(
        &rules.chain,
        &shipment_id,
        &shipment.lines,
        &need_id,
        &b.items,
        Moved::Delivered,
        "delivered",
    )?;
    let detail = serde_json::json!({ "condition": b.condition, "note": b.note });
    rules.chain.push_link(
        ctx,
        "delivery.confirm",
        &shipment_id,
        &need_id,
        detail,
        &b.items,
    );
    Ok(())
}

async fn verdict(conn: &mut AnyConnection, ctx: &Ctx<'_>, b: &Verdict) -> Result<(), Refusal> {
    let target = bytes(&b.entry);
    let post = sqlx::query("SELECT kind, author, org FROM wf_posts WHERE id = $1")
        .bind(&target)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| {
            Denial::unknown(
                "entry: verdicts apply to needs and offers; no such need or offer is in the log",
            )
        })?;
    let (kind, author, org): (String, Vec<u8>, Option<Vec<u8>>) =
        (post.get(0), post.get(1), post.get(2));
    let (name, update) = match b.verdict {
        VerdictKind::Verify | VerdictKind::Reject => {
            require(conn, ctx, Role::Moderator, "verify or reject entries").await?;
            if author == ctx.author {
                return Err(Denial::forbidden(
                    "a moderator cannot give a verdict on an entry they wrote",
                )
                .into());
            }
            if let Some(org) = &org {
                if is_member(conn, &ctx.author, org).await? {
                    return Err(Denial::forbidden(
                        "a moderator cannot give a verdict on an entry of an organisation they belong to",
                    )
                    .into());
                }
            }
            if b.verdict == VerdictKind::Verify {
                ("verify", "verifies = verifies + 1")
            } else {
                ("reject", "rejects = rejects + 1")
            }
        }
        VerdictKind::FlagDuplicate => ("flag_duplicate", "duplicate_of = $2"),
        VerdictKind::FlagStale => ("flag_stale", "stale_flags = stale_flags + 1"),
    };
    let original = match &b.original {
        Some(o) => {
            let original = bytes(o);
            // By id alone, for the reason `need_columns` gives.
            let same_kind = sqlx::query(
                "SELECT kind FROM wf_posts WHERE id = $1 AND idx < (SELECT idx FROM wf_posts WHERE id = $2)",
            )
            .bind(&original)
            .bind(&target)
            .fetch_optional(&mut *conn)
            .await?
            .is_some_and(|r| r.get::<String, _>(0) == kind);
            if !same_kind {
                return Err(Denial::unknown(format!(
                    "original: must be an earlier {kind} in the log"
                ))
                .into());
            }
            Some(original)
        }
        None => None,
    };
    record_verdict(conn, ctx, &target, name, &b.reason, original.clone()).await?;
    let sql_update = format!("UPDATE wf_posts SET {update} WHERE id = $1");
    let mut query = sqlx::query(&sql_update).bind(&target);
    if let Some(o) = original {
        query = query.bind(o);
    }
    query.execute(&mut *conn).await?;
    Ok(())
}

async fn redact(conn: &mut AnyConnection, ctx: &Ctx<'_>, b: &Redaction) -> Result<(), Refusal> {
    let target = bytes(&b.entry);
    let owner: Vec<u8> = sqlx::query("SELECT author FROM wf_commitments WHERE entry = $1")
        .bind(&target)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| Denial::unknown("entry: no entry with private data has this id"))?
        .get(0);
    if owner != ctx.author && !has_role(conn, &ctx.author, Role::Moderator, b"").await? {
        return Err(Denial::forbidden(
            "only the entry's author or a moderator may erase its private data",
        )
        .into());
    }
    let done = sqlx::query("SELECT 1 FROM wf_redactions WHERE entry = $1")
        .bind(&target)
        .fetch_optional(&mut *conn)
        .await?
        .is_some();
    if done {
        return Err(Denial::conflict("entry: its private data was already erased").into());
    }
    let reason = match b.reason {
        ledger::body::RedactionReason::Request => "request",
        ledger::body::RedactionReason::Retention => "retention",
    };
    sqlx::query(
        "INSERT INTO wf_redactions (entry, idx, author, reason, rule) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&target)
    .bind(ctx.index)
    .bind(&ctx.author)
    .bind(reason)
    .bind(&b.rule)
    .execute(&mut *conn)
    .await?;
    private::erase(conn, &target, ctx.created_at, reason).await?;
    Ok(())
}

/// A reading of the log's clock: by the log's key, never behind the previous one.
async fn set_clock(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    log: &LogVerifier,
    entry: &VerifiedEntry,
    time: &str,
) -> Result<(), Refusal> {
    let previous = log_time(conn).await?.and_then(|t| parse_timestamp(&t).ok());
    let denial = |e: clock::ClockError| match e {
        clock::ClockError::NotLogKey { .. } => Denial::forbidden(e.to_string()),
        _ => Denial::conflict(e.to_string()),
    };
    if let Some(Err(e)) = clock::check(entry, log.public_key(), previous) {
        return Err(denial(e).into());
    }
    sqlx::query("DELETE FROM wf_clock")
        .execute(&mut *conn)
        .await?;
    sqlx::query("INSERT INTO wf_clock (time, idx) VALUES ($1, $2)")
        .bind(time)
        .bind(ctx.index)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
