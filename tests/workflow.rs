//! The workflow rules (docs/FORMAT.md §5 "Authorisation", DESIGN.md §5–6), end to end
//! through the HTTP API of a real instance started with `bootstrap: true`: every rule
//! once allowed and once refused.
//!
//! A refusal must carry its status (403 forbidden, 409 conflict, 422 unknown
//! reference), a message naming the problem, and change nothing: the same checkpoint
//! (so the same tree size), the same row counts in the log's own tables, and the same
//! rows in every derived (`wf_*`) and private-data (`pd_*`) table, read straight from
//! the database file.

use crate::common;
use common::{key, public};

use aidledger::sample::Workflow;
use aidledger::server::{self, Config};
use ed25519_dalek::SigningKey;
use ledger::body::{Body, LineQuantity};
use ledger::checkpoint::LogVerifier;
use ledger::entry::{format_timestamp, VerifiedEntry};
use ledger::{hex32, Kind};
use moderation::private::{commitment, Contact};
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use sqlx::AnyPool;
use sqlx::Row;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::OnceLock;
use tempfile::TempDir;
use time::{Duration, OffsetDateTime};
use tokio::sync::oneshot;

// ---------------------------------------------------------------------------------
// An instance, its database, and how to submit to it
// ---------------------------------------------------------------------------------

/// Name of the operator's key file that `bootstrap` writes in the data directory.
const OPERATOR_KEY_FILE: &str = "operator.key";

struct Instance {
    url: String,
    http: reqwest::Client,
    dir: TempDir,
    /// The key `bootstrap` made administrator and moderator (none without bootstrap).
    operator: Option<SigningKey>,
    /// A view of the instance's database.
    db: AnyPool,
    stop: oneshot::Sender<()>,
    serve: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// An answer: status and JSON body.
struct Reply {
    status: u16,
    body: Value,
}

/// Everything a refused submission must leave as it was.
#[derive(Debug, PartialEq)]
struct Snapshot {
    checkpoint: String,
    tree_size: u64,
    /// Row counts of the log's own tables.
    log_rows: BTreeMap<&'static str, i64>,
    /// Every row of every `wf_*` and `pd_*` table, each row rendered with SQL `quote`.
    tables: BTreeMap<String, Vec<String>>,
}

impl Instance {
    /// A new instance over a new data directory.
    async fn start(bootstrap: bool) -> Instance {
        Self::start_in(tempfile::tempdir().expect("temp dir"), bootstrap).await
    }

    /// An instance over `dir`, through the same `server::start` as `aidledger serve`,
    /// with write rate limits off (the random workflow writes fast).
    async fn start_in(dir: TempDir, bootstrap: bool) -> Instance {
        Self::start_configured(dir, bootstrap, |_| {}).await
    }

    /// Like `start_in`, with the settings `configure` changes.
    async fn start_configured(
        dir: TempDir,
        bootstrap: bool,
        configure: impl FnOnce(&mut Config),
    ) -> Instance {
        let (stop, stopped) = oneshot::channel::<()>();
        let mut config = Config {
            bootstrap,
            limits: common::NO_WRITE_LIMITS,
            ..common::config(dir.path()).await
        };
        configure(&mut config);
        let running = server::start(config, async {
            let _ = stopped.await;
        })
        .await
        .expect("server starts");
        let key_file = dir.path().join(OPERATOR_KEY_FILE);
        let operator = key_file.exists().then(|| {
            aidledger::keys::read_author_key(&key_file).expect("the operator key file reads")
        });
        let db = common::open_db(dir.path()).await;
        Instance {
            url: running.url,
            http: common::http(),
            dir,
            operator,
            db,
            stop,
            serve: running.serve,
        }
    }

    /// Stops serving, waits for the shutdown, and hands back the data directory.
    async fn stop(self) -> TempDir {
        let Instance {
            dir,
            db,
            stop,
            serve,
            ..
        } = self;
        db.close().await;
        let _ = stop.send(());
        serve.await.unwrap().unwrap();
        dir
    }

    fn operator(&self) -> SigningKey {
        self.operator
            .clone()
            .expect("a bootstrapped instance has an operator key")
    }

    /// Submits an entry: through `POST /api/v1/entries`, or with its private data
    /// through `POST /api/v1/submissions`.
    async fn submit(&self, s: &Signed) -> Reply {
        send(self.http.clone(), self.url.clone(), s.clone()).await
    }

    /// Submits all of `entries` at once (so that they share sequencer batches); the
    /// replies in the same order.
    async fn submit_all(&self, entries: &[Signed]) -> Vec<Reply> {
        let tasks: Vec<_> = entries
            .iter()
            .map(|s| tokio::spawn(send(self.http.clone(), self.url.clone(), s.clone())))
            .collect();
        let mut replies = Vec::new();
        for task in tasks {
            replies.push(task.await.expect("the submission task completes"));
        }
        replies
    }

    /// Submits an entry the rules must admit; returns its id (leaf hash, hex).
    async fn ok(&self, s: &Signed) -> String {
        let reply = self.submit(s).await;
        assert_eq!(
            reply.status,
            201,
            "{} should be appended, got {}",
            s.entry.kind().name(),
            reply.body
        );
        let id = s.id();
        assert_eq!(reply.body["leaf_hash"], json!(id));
        id
    }

    /// Submits an entry the rules must refuse with `status` and a message containing
    /// every one of `needles`, and checks that nothing changed.
    /// Submits `s`, checks that it is refused with `status` and a message holding each
    /// of `needles`, and that nothing changed; returns the refusal's JSON.
    async fn deny(&self, s: &Signed, status: u16, needles: &[&str]) -> Value {
        let before = self.snapshot().await;
        let reply = self.submit(s).await;
        let kind = s.entry.kind().name();
        let message = reply.body["error"]
            .as_str()
            .unwrap_or_else(|| {
                panic!(
                    "{kind}: status {}: no error message: {}",
                    reply.status, reply.body
                )
            })
            .to_owned();
        assert_eq!(
            reply.status, status,
            "{kind} should be refused with {status}, got {}: {message}",
            reply.status
        );
        for needle in needles {
            assert!(
                message.contains(needle),
                "{kind}: the message {message:?} should name the problem ({needle:?})"
            );
        }
        let after = self.snapshot().await;
        assert_eq!(
            before.checkpoint, after.checkpoint,
            "{kind} was refused ({message}) but the checkpoint changed"
        );
        assert_eq!(before.tree_size, after.tree_size);
        assert_eq!(
            before.log_rows, after.log_rows,
            "{kind} was refused ({message}) but the log's tables changed"
        );
        for (table, rows) in &before.tables {
            assert_eq!(
                Some(rows),
                after.tables.get(table),
                "{kind} was refused ({message}) but {table} changed"
            );
        }
        assert_eq!(before, after);
        reply.body
    }

    async fn checkpoint(&self) -> String {
        let response = self
            .http
            .get(format!("{}/checkpoint", self.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        response.text().await.unwrap()
    }

    /// GETs `path` and reads the answer as JSON, whatever its status.
    async fn get_json(&self, path: impl AsRef<str>) -> Value {
        self.http
            .get(format!("{}{}", self.url, path.as_ref()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn tree_size(&self) -> u64 {
        tree_size_of(&self.checkpoint().await)
    }

    async fn snapshot(&self) -> Snapshot {
        let checkpoint = self.checkpoint().await;
        let tree_size = tree_size_of(&checkpoint);
        let mut log_rows = BTreeMap::new();
        for table in ["entries", "tree_hashes", "checkpoints"] {
            log_rows.insert(
                table,
                self.int(&format!("SELECT COUNT(*) FROM {table}")).await,
            );
        }
        let names: Vec<String> = common::table_names(&self.db)
            .await
            .into_iter()
            .filter(|n| n.starts_with("wf_") || n.starts_with("pd_"))
            .collect();
        for table in moderation::rebuild::TABLES {
            assert!(
                names.iter().any(|n| n.as_str() == *table),
                "derived table {table} is missing"
            );
        }
        let mut tables = BTreeMap::new();
        for name in names {
            let rows = common::table_rows(&self.db, &name).await;
            tables.insert(name, rows);
        }
        Snapshot {
            checkpoint,
            tree_size,
            log_rows,
            tables,
        }
    }

    /// One integer from the database (ids go into SQL as `X'hex'` literals).
    async fn int(&self, sql: &str) -> i64 {
        sqlx::query_scalar(&common::sql(sql))
            .fetch_one(&self.db)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    async fn text(&self, sql: &str) -> Option<String> {
        sqlx::query_scalar(&common::sql(sql))
            .fetch_one(&self.db)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// The roles `key` holds, as "role" or "member:<org>".
    async fn roles(&self, key: &SigningKey) -> Vec<String> {
        sqlx::query(&common::sql(&format!(
            "SELECT role, hex(org) FROM wf_roles WHERE key = X'{}' ORDER BY role, org",
            public(key)
        )))
        .fetch_all(&self.db)
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let (role, org): (String, String) = (r.get(0), r.get(1));
            if org.is_empty() {
                role
            } else {
                format!("{role}:{}", org.to_lowercase())
            }
        })
        .collect()
    }

    /// (requested, pledged, shipped, delivered) of each line of a need or offer.
    async fn quantities(&self, post: &str) -> Vec<[i64; 4]> {
        sqlx::query(&common::sql(&format!(
            "SELECT requested, pledged, shipped, delivered FROM wf_post_items
             WHERE post = X'{post}' ORDER BY line"
        )))
        .fetch_all(&self.db)
        .await
        .unwrap()
        .iter()
        .map(|r| [r.get(0), r.get(1), r.get(2), r.get(3)])
        .collect()
    }

    /// Quantity passed on (shipped of a pledge, delivered of a shipment) per line.
    async fn passed(&self, link: &str) -> Vec<(i64, i64, i64)> {
        sqlx::query(&common::sql(&format!(
            "SELECT line, quantity, passed FROM wf_link_items WHERE link = X'{link}' ORDER BY line"
        )))
        .fetch_all(&self.db)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
    }

    async fn post_column(&self, post: &str, column: &str) -> i64 {
        self.int(&format!(
            "SELECT {column} FROM wf_posts WHERE id = X'{post}'"
        ))
        .await
    }
}

async fn send(http: reqwest::Client, url: String, s: Signed) -> Reply {
    let leaf = s.entry.leaf().to_vec();
    let request = match &s.private {
        None => http
            .post(format!("{url}/api/v1/entries"))
            .header("content-type", "application/json")
            .body(leaf),
        Some(private) => http
            .post(format!("{url}/api/v1/submissions"))
            .json(&json!({"entry": String::from_utf8(leaf).unwrap(), "private": private})),
    };
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let text = response.text().await.expect("the answer has a body");
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("status {status}: the body is not JSON ({e}): {text}"));
    Reply { status, body }
}

fn tree_size_of(checkpoint: &str) -> u64 {
    checkpoint
        .lines()
        .nth(1)
        .and_then(|l| l.parse().ok())
        .unwrap_or_else(|| panic!("not a checkpoint: {checkpoint:?}"))
}

// ---------------------------------------------------------------------------------
// Entries
// ---------------------------------------------------------------------------------

/// A signed entry and, for one carrying a contact commitment, its private data.
#[derive(Clone)]
struct Signed {
    entry: VerifiedEntry,
    private: Option<Value>,
}

impl Signed {
    fn id(&self) -> String {
        common::id(&self.entry)
    }
}

/// A distinct `created_at` for every entry this file signs, counting back one second
/// at a time from the start of the run: two entries with the same author and body are
/// still two entries (the log would otherwise answer the second as a duplicate).
fn next_time() -> OffsetDateTime {
    static START: OnceLock<OffsetDateTime> = OnceLock::new();
    static TICKS: AtomicI64 = AtomicI64::new(0);
    *START.get_or_init(OffsetDateTime::now_utc)
        - Duration::seconds(TICKS.fetch_add(1, Ordering::Relaxed))
}

/// `YYYY-MM-DD` of a time.
fn date(t: OffsetDateTime) -> String {
    format_timestamp(t)[..10].to_owned()
}

fn sign_at(key: &SigningKey, kind: Kind, body: Value, at: OffsetDateTime) -> Signed {
    Signed {
        entry: common::sign_at(key, kind, body, at),
        private: None,
    }
}

fn sign(key: &SigningKey, kind: Kind, body: Value) -> Signed {
    sign_at(key, kind, body, next_time())
}

/// Signs `body` with a `contact` commitment to fresh private data, sent beside it.
fn sign_private(key: &SigningKey, kind: Kind, body: Value) -> Signed {
    sign_private_at(key, kind, body, next_time())
}

/// Like `sign_private`, dated `at`.
fn sign_private_at(key: &SigningKey, kind: Kind, mut body: Value, at: OffsetDateTime) -> Signed {
    let salt: [u8; 32] = rand::random();
    let contact = Contact {
        name: Some("Zhang Min / 张敏".into()),
        phone: Some("+86 27 8574 0000".into()),
        email: Some("logistics@example.org".into()),
        address: None,
    };
    body["contact"] = json!(commitment(&salt, &contact));
    let mut signed = sign_at(key, kind, body, at);
    signed.private = Some(json!({"salt": hex::encode(salt), "contact": contact}));
    signed
}

/// A reference to nothing in the log.
fn nowhere() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

fn hubei() -> Value {
    json!({"code": "CN-HB", "name": "Hubei"})
}

fn lines(items: &[(u32, u64)]) -> Value {
    items
        .iter()
        .map(|(line, quantity)| json!({"line": line, "quantity": quantity}))
        .collect()
}

fn role_change(
    by: &SigningKey,
    kind: Kind,
    to: &SigningKey,
    role: &str,
    org: Option<&str>,
) -> Signed {
    let mut body = json!({"key": public(to), "role": role});
    if let Some(org) = org {
        body["org"] = json!(org);
    }
    sign(by, kind, body)
}

fn grant(by: &SigningKey, to: &SigningKey, role: &str, org: Option<&str>) -> Signed {
    role_change(by, Kind::RoleGrant, to, role, org)
}

fn revoke(by: &SigningKey, to: &SigningKey, role: &str, org: Option<&str>) -> Signed {
    role_change(by, Kind::RoleRevoke, to, role, org)
}

fn org_body(name: &str) -> Value {
    json!({
        "name": name,
        "type": "hospital",
        "area": hubei(),
        "description": "Designated hospital / 定点医院",
    })
}

fn org_register(by: &SigningKey, name: &str) -> Signed {
    sign(by, Kind::OrgRegister, org_body(name))
}

fn org_verify(by: &SigningKey, org: &str, verdict: &str, reason: &str) -> Signed {
    sign(
        by,
        Kind::OrgVerify,
        json!({"org": org, "verdict": verdict, "reason": reason}),
    )
}

fn need_body(org: &str, quantities: &[u64], needed_by: &str) -> Value {
    const ITEMS: [(&str, &str, &str); 3] = [
        ("医用防护口罩 N95", "respirator", "piece"),
        ("Isolation gowns", "gown_coverall", "piece"),
        ("Nitrile gloves", "gloves", "box"),
    ];
    let items: Vec<Value> = quantities
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let (item, category, unit) = ITEMS[i % ITEMS.len()];
            json!({"item": item, "category": category, "quantity": q, "unit": unit})
        })
        .collect();
    json!({
        "org": org,
        "items": items,
        "urgency": "critical",
        "needed_by": needed_by,
        "area": hubei(),
        "description": "Stock runs out within days / 物资仅够维持数日",
    })
}

/// A need due in 30 days.
fn need_post(by: &SigningKey, org: &str, quantities: &[u64]) -> Signed {
    let needed_by = date(OffsetDateTime::now_utc() + Duration::days(30));
    sign(by, Kind::NeedPost, need_body(org, quantities, &needed_by))
}

/// A need relayed with evidence of where it was found.
fn need_relay(by: &SigningKey, org: &str, quantities: &[u64]) -> Signed {
    let needed_by = date(OffsetDateTime::now_utc() + Duration::days(30));
    let mut body = need_body(org, quantities, &needed_by);
    body["evidence"] = json!({"url": "https://weibo.example/hospital/appeal/1"});
    sign(by, Kind::NeedPost, body)
}

fn need_update(by: &SigningKey, need: &str, items: &[(u32, u64)], close: Option<&str>) -> Signed {
    let mut body = json!({"need": need});
    if !items.is_empty() {
        body["items"] = lines(items);
    }
    if let Some(close) = close {
        body["close"] = json!(close);
    }
    sign(by, Kind::NeedUpdate, body)
}

fn offer_body() -> Value {
    json!({
        "items": [{"item": "Nitrile gloves", "category": "gloves", "quantity": 500, "unit": "box"},
                  {"item": "KN95 mask", "category": "respirator", "quantity": 2000, "unit": "piece"}],
        "area": hubei(),
        "description": "Donation batch / 捐赠物资",
    })
}

fn offer_post(by: &SigningKey) -> Signed {
    sign(by, Kind::OfferPost, offer_body())
}

fn pledge(by: &SigningKey, need: &str, items: &[(u32, u64)], offer: Option<&str>) -> Signed {
    let mut body = json!({"need": need, "items": lines(items)});
    if let Some(offer) = offer {
        body["offer"] = json!(offer);
    }
    sign(by, Kind::Pledge, body)
}

fn shipment(by: &SigningKey, pledge: &str, items: &[(u32, u64)]) -> Signed {
    sign(
        by,
        Kind::Shipment,
        json!({"pledge": pledge, "carrier": "SF Express", "tracking": "SF0123456789", "items": lines(items)}),
    )
}

fn confirm(by: &SigningKey, shipment: &str, items: &[(u32, u64)]) -> Signed {
    sign(
        by,
        Kind::DeliveryConfirm,
        json!({"shipment": shipment, "items": lines(items), "condition": "good"}),
    )
}

fn verdict(by: &SigningKey, entry: &str, verdict: &str, original: Option<&str>) -> Signed {
    let mut body =
        json!({"entry": entry, "verdict": verdict, "reason": "checked with the hospital / 已核实"});
    if let Some(original) = original {
        body["original"] = json!(original);
    }
    sign(by, Kind::Verdict, body)
}

fn redaction(by: &SigningKey, entry: &str) -> Signed {
    sign(
        by,
        Kind::Redaction,
        json!({"entry": entry, "reason": "request"}),
    )
}

// ---------------------------------------------------------------------------------
// A small world most tests start from
// ---------------------------------------------------------------------------------

/// A bootstrapped instance with: the operator (administrator and moderator), a second
/// moderator, a hospital that registered `org`, a second member of `org` granted by the
/// operator, and an open need of `org` by the hospital with lines of 100 and 50.
/// `volunteer`, `donor`, `donor2` and `stranger` hold no role.
struct World {
    inst: Instance,
    op: SigningKey,
    moderator: SigningKey,
    hospital: SigningKey,
    member: SigningKey,
    volunteer: SigningKey,
    donor: SigningKey,
    donor2: SigningKey,
    stranger: SigningKey,
    org: String,
    need: String,
}

impl std::ops::Deref for World {
    type Target = Instance;
    fn deref(&self) -> &Instance {
        &self.inst
    }
}

impl World {
    async fn new() -> World {
        let inst = Instance::start(true).await;
        let op = inst.operator();
        let (moderator, hospital, member) = (key(), key(), key());
        inst.ok(&grant(&op, &moderator, "moderator", None)).await;
        let org = inst
            .ok(&org_register(&hospital, "Wuhan Union Hospital"))
            .await;
        inst.ok(&grant(&op, &member, "member", Some(&org))).await;
        let need = inst.ok(&need_post(&hospital, &org, &[100, 50])).await;
        World {
            inst,
            op,
            moderator,
            hospital,
            member,
            volunteer: key(),
            donor: key(),
            donor2: key(),
            stranger: key(),
            org,
            need,
        }
    }
}

// ---------------------------------------------------------------------------------
// Roles and bootstrap
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn bootstrap_makes_the_operator_administrator_and_moderator_once() {
    let inst = Instance::start(true).await;
    let op = inst.operator();
    assert_eq!(
        inst.tree_size().await,
        common::CLOCK_READINGS + 2,
        "bootstrap appends two role.grant after the log's first clock reading"
    );
    assert_eq!(inst.roles(&op).await, ["administrator", "moderator"]);
    assert_eq!(inst.int("SELECT COUNT(*) FROM wf_roles").await, 2);
    // The two entries, as served: the operator granting itself each role.
    let page = inst.get_json("/api/v1/log/entries?start=0&limit=10").await;
    let served: Vec<VerifiedEntry> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            use base64::prelude::*;
            let leaf = BASE64_STANDARD.decode(e["leaf"].as_str().unwrap()).unwrap();
            VerifiedEntry::from_leaf(&leaf).unwrap()
        })
        .collect();
    assert_eq!(served.len(), 3);
    assert_eq!(
        served[0].kind(),
        Kind::LogClock,
        "the log's first clock reading"
    );
    for (entry, role) in served[1..].iter().zip(["administrator", "moderator"]) {
        assert_eq!(entry.kind(), Kind::RoleGrant);
        assert_eq!(entry.author_key(), &op.verifying_key());
        assert_eq!(
            entry.entry().body,
            json!({"key": public(&op), "role": role})
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(inst.dir.path().join(OPERATOR_KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the operator key is private");
    }
    // The operator acts as both.
    let moderator = key();
    inst.ok(&grant(&op, &moderator, "moderator", None)).await;
    let hospital = key();
    let org = inst
        .ok(&org_register(&hospital, "Jinyintan Hospital"))
        .await;
    inst.ok(&org_verify(&op, &org, "verified", "called the switchboard"))
        .await;

    // A restart over the same data directory bootstraps nothing more.
    let dir = inst.stop().await;
    let inst = Instance::start_in(dir, true).await;
    assert_eq!(inst.tree_size().await, common::CLOCK_READINGS + 5);
    assert_eq!(inst.operator().verifying_key(), op.verifying_key());
    assert_eq!(inst.roles(&op).await, ["administrator", "moderator"]);
    assert_eq!(
        inst.int("SELECT COUNT(*) FROM wf_roles WHERE role = 'administrator'")
            .await,
        1
    );
}

#[tokio::test]
async fn the_first_administrator_is_a_self_grant_on_a_log_without_one() {
    let inst = Instance::start(false).await;
    assert!(inst.operator.is_none(), "no bootstrap, no operator key");
    assert_eq!(inst.tree_size().await, 0);
    let (a, b) = (key(), key());
    // Granting administrator to another key, or any other role to oneself: refused.
    inst.deny(
        &grant(&a, &b, "administrator", None),
        403,
        &["no administrator yet", "to its own key"],
    )
    .await;
    inst.deny(
        &grant(&a, &a, "moderator", None),
        403,
        &[
            "no administrator yet",
            "administrator granting the role to its own key",
        ],
    )
    .await;
    inst.deny(
        &revoke(&a, &a, "administrator", None),
        403,
        &["administrator", "revoke roles"],
    )
    .await;
    // The self-grant of administrator is the bootstrap.
    inst.ok(&grant(&a, &a, "administrator", None)).await;
    assert_eq!(inst.roles(&a).await, ["administrator"]);
    // Once there is one, nobody else can bootstrap themselves.
    inst.deny(
        &grant(&b, &b, "administrator", None),
        403,
        &["administrator", "grant roles"],
    )
    .await;
    // Later grants come from an administrator.
    inst.ok(&grant(&a, &b, "administrator", None)).await;
    inst.ok(&grant(&b, &b, "moderator", None)).await;
    assert_eq!(inst.roles(&b).await, ["administrator", "moderator"]);
    assert_eq!(inst.tree_size().await, common::CLOCK_READINGS + 3);
}

#[tokio::test]
async fn only_administrators_grant_and_revoke_roles() {
    let w = World::new().await;
    let target = key();
    // Not by a moderator, a member or anybody else.
    for by in [&w.moderator, &w.member, &w.stranger] {
        w.deny(
            &grant(by, &target, "moderator", None),
            403,
            &["administrator", "grant roles"],
        )
        .await;
    }
    w.deny(
        &grant(&w.stranger, &w.stranger, "administrator", None),
        403,
        &["administrator", "grant roles"],
    )
    .await;
    w.deny(
        &revoke(&w.moderator, &w.member, "member", Some(&w.org)),
        403,
        &["administrator", "revoke roles"],
    )
    .await;

    // An administrator grants; granting a role already held conflicts.
    w.ok(&grant(&w.op, &target, "moderator", None)).await;
    assert_eq!(w.roles(&target).await, ["moderator"]);
    w.deny(
        &grant(&w.op, &target, "moderator", None),
        409,
        &["already holds the moderator role"],
    )
    .await;
    w.deny(
        &grant(&w.op, &w.op, "administrator", None),
        409,
        &["already holds the administrator role"],
    )
    .await;

    // Revoking a role not held conflicts; revoking a held one removes it, and with it
    // what it allowed.
    w.deny(
        &revoke(&w.op, &target, "administrator", None),
        409,
        &["does not hold the administrator role"],
    )
    .await;
    w.ok(&revoke(&w.op, &target, "moderator", None)).await;
    assert!(w.roles(&target).await.is_empty());
    w.deny(
        &revoke(&w.op, &target, "moderator", None),
        409,
        &["does not hold the moderator role"],
    )
    .await;
    w.deny(
        &org_verify(
            &target,
            &w.org,
            "verified",
            "revoked moderators cannot verify",
        ),
        403,
        &["only a moderator may verify organisations"],
    )
    .await;

    // The last administrator stays.
    w.deny(
        &revoke(&w.op, &w.op, "administrator", None),
        409,
        &["cannot revoke the last administrator"],
    )
    .await;
    let admin2 = key();
    w.ok(&grant(&w.op, &admin2, "administrator", None)).await;
    w.ok(&revoke(&admin2, &w.op, "administrator", None)).await;
    assert_eq!(w.roles(&w.op).await, ["moderator"]);
    // The former administrator can no longer grant.
    w.deny(
        &grant(&w.op, &target, "moderator", None),
        403,
        &["administrator", "grant roles"],
    )
    .await;
    w.deny(
        &revoke(&admin2, &admin2, "administrator", None),
        409,
        &["cannot revoke the last administrator"],
    )
    .await;
    assert_eq!(
        w.int("SELECT COUNT(*) FROM wf_roles WHERE role = 'administrator'")
            .await,
        1
    );
}

/// Members keep their own organisation's keys: a hospital that loses one staff key
/// recovers through another, without an administrator; nobody else may.
#[tokio::test]
async fn members_grant_and_revoke_membership_of_their_own_organisation_only() {
    let w = World::new().await;
    let colleague = key();
    w.ok(&grant(&w.hospital, &colleague, "member", Some(&w.org)))
        .await;
    assert_eq!(w.roles(&colleague).await, [format!("member:{}", w.org)]);
    w.ok(&need_post(&colleague, &w.org, &[5])).await;
    // Who may act for the organisation, and what a key may do, are public reads.
    let read = |path: String| {
        let http = w.http.clone();
        let url = format!("{}{path}", w.url);
        async move {
            let response = http.get(url).send().await.unwrap();
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap(),
            )
        }
    };
    let (status, members) = read(format!("/api/v1/orgs/{}/members", w.org)).await;
    assert_eq!(status, 200);
    let keys: Vec<&str> = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [public(&w.hospital), public(&w.member), public(&colleague)]
    );
    assert_eq!(
        read(format!("/api/v1/keys/{}/roles", public(&colleague))).await,
        (
            200,
            json!({"administrator": false, "moderator": false, "member_of": [w.org]})
        )
    );
    assert_eq!(
        read(format!("/api/v1/keys/{}/roles", public(&w.op))).await,
        (
            200,
            json!({"administrator": true, "moderator": true, "member_of": []})
        )
    );
    let (status, body) = read(format!("/api/v1/orgs/{}/members", "0".repeat(64))).await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = read("/api/v1/keys/not-a-key/roles".into()).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("key"), "{body}");

    // Only membership, only of their own organisation.
    let other_org = w.ok(&org_register(&w.stranger, "Other hospital")).await;
    let target = key();
    for (entry, what) in [
        (grant(&w.member, &target, "moderator", None), "a moderator"),
        (
            grant(&w.member, &target, "administrator", None),
            "an administrator",
        ),
        (
            grant(&w.member, &target, "member", Some(&other_org)),
            "another organisation's member",
        ),
        (
            grant(&w.stranger, &target, "member", Some(&w.org)),
            "a member, by a stranger",
        ),
        (
            revoke(&w.stranger, &w.member, "member", Some(&w.org)),
            "revoked by a stranger",
        ),
        (
            revoke(&w.member, &w.stranger, "member", Some(&other_org)),
            "revoked in another organisation",
        ),
    ] {
        let reply = w.submit(&entry).await;
        assert_eq!(reply.status, 403, "{what}: {}", reply.body);
        assert!(
            reply
                .body
                .to_string()
                .contains("members may grant and revoke membership of their own organisation"),
            "{what}: the refusal says who may: {}",
            reply.body
        );
    }
    assert!(w.roles(&target).await.is_empty());

    // The hospital's first key is lost: a colleague removes it, and it no longer
    // speaks for the hospital.
    w.ok(&revoke(&w.member, &w.hospital, "member", Some(&w.org)))
        .await;
    w.deny(&need_post(&w.hospital, &w.org, &[5]), 403, &["evidence"])
        .await;
    w.ok(&revoke(&w.member, &colleague, "member", Some(&w.org)))
        .await;
    // The last member stays, unless an administrator decides.
    w.deny(
        &revoke(&w.member, &w.member, "member", Some(&w.org)),
        409,
        &["last member"],
    )
    .await;
    w.ok(&revoke(&w.op, &w.member, "member", Some(&w.org)))
        .await;
    assert_eq!(
        w.int(&format!(
            "SELECT COUNT(*) FROM wf_roles WHERE role = 'member' AND org = X'{}'",
            w.org
        ))
        .await,
        0
    );
}

#[tokio::test]
async fn a_member_grant_names_a_registered_organisation() {
    let w = World::new().await;
    // Not an entry at all, and an entry that is not an organisation.
    w.deny(
        &grant(&w.op, &w.stranger, "member", Some(&nowhere())),
        422,
        &["org:", "no registered organisation has this id"],
    )
    .await;
    w.deny(
        &grant(&w.op, &w.stranger, "member", Some(&w.need)),
        422,
        &["org:", "no registered organisation has this id"],
    )
    .await;
    // Without membership a need needs evidence...
    let refused = need_post(&w.stranger, &w.org, &[10]);
    w.deny(&refused, 403, &["evidence", "not a member"]).await;
    // ...with it, not.
    w.ok(&grant(&w.op, &w.stranger, "member", Some(&w.org)))
        .await;
    assert_eq!(w.roles(&w.stranger).await, [format!("member:{}", w.org)]);
    w.deny(
        &grant(&w.op, &w.stranger, "member", Some(&w.org)),
        409,
        &["already holds the member role"],
    )
    .await;
    // The registrant is a member already.
    w.deny(
        &grant(&w.op, &w.hospital, "member", Some(&w.org)),
        409,
        &["already holds the member role"],
    )
    .await;
    // A refused entry left no trace: the very same bytes are admitted now.
    let need = w.ok(&refused).await;
    assert_eq!(w.post_column(&need, "relayed").await, 0);
    // Membership of one organisation is not membership of another.
    let other = w
        .ok(&org_register(&key(), "Xiaogan Central Hospital"))
        .await;
    w.deny(
        &need_post(&w.stranger, &other, &[10]),
        403,
        &["evidence", "not a member"],
    )
    .await;
    // Revoked, it is gone.
    w.ok(&revoke(&w.op, &w.stranger, "member", Some(&w.org)))
        .await;
    w.deny(
        &need_post(&w.stranger, &w.org, &[11]),
        403,
        &["evidence", "not a member"],
    )
    .await;
}

// ---------------------------------------------------------------------------------
// Organisations
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn registering_an_organisation_makes_its_author_a_member() {
    let w = World::new().await;
    assert_eq!(w.roles(&w.hospital).await, [format!("member:{}", w.org)]);
    // Anyone may register, with or without private contact data.
    let registrant = key();
    let registration = sign_private(&registrant, Kind::OrgRegister, org_body("黄冈市中心医院"));
    let org = w.ok(&registration).await;
    assert_eq!(w.roles(&registrant).await, [format!("member:{org}")]);
    assert_eq!(
        w.int(&format!(
            "SELECT COUNT(*) FROM wf_orgs WHERE id = X'{org}' AND author = X'{}' AND verifies = 0 AND rejects = 0",
            public(&registrant)
        ))
        .await,
        1
    );
    assert_eq!(
        w.int(&format!(
            "SELECT COUNT(*) FROM wf_commitments WHERE entry = X'{org}'"
        ))
        .await,
        1
    );
    assert_eq!(
        w.int(&format!(
            "SELECT COUNT(*) FROM pd_contacts WHERE entry = X'{org}' AND data IS NOT NULL"
        ))
        .await,
        1
    );
    // Registering makes the author a member of that organisation only.
    w.deny(&need_post(&registrant, &w.org, &[5]), 403, &["evidence"])
        .await;
    w.ok(&need_post(&registrant, &org, &[5])).await;
}

#[tokio::test]
async fn organisations_are_verified_by_moderators_who_are_not_members() {
    let w = World::new().await;
    for by in [&w.stranger, &w.hospital, &w.member] {
        w.deny(
            &org_verify(by, &w.org, "verified", "looks right"),
            403,
            &["only a moderator may verify organisations"],
        )
        .await;
    }
    w.deny(
        &org_verify(&w.moderator, &nowhere(), "verified", "no such org"),
        422,
        &["org:", "no registered organisation has this id"],
    )
    .await;
    w.deny(
        &org_verify(&w.moderator, &w.need, "verified", "a need is not an org"),
        422,
        &["org:", "no registered organisation has this id"],
    )
    .await;
    // A moderator who belongs to the organisation: refused, whatever the verdict.
    w.ok(&grant(&w.op, &w.member, "moderator", None)).await;
    w.deny(
        &org_verify(&w.member, &w.org, "verified", "my own hospital"),
        403,
        &["cannot verify an organisation they registered or belong to"],
    )
    .await;
    w.deny(
        &org_verify(&w.member, &w.org, "rejected", "my own hospital"),
        403,
        &["cannot verify an organisation they registered or belong to"],
    )
    .await;
    // Its registrant stays unable to verify it after leaving it.
    w.ok(&grant(&w.op, &w.hospital, "moderator", None)).await;
    w.ok(&revoke(&w.op, &w.hospital, "member", Some(&w.org)))
        .await;
    w.deny(
        &org_verify(&w.hospital, &w.org, "verified", "I registered it"),
        403,
        &["cannot verify an organisation they registered or belong to"],
    )
    .await;

    let org_counts =
        |id: &str| format!("SELECT verifies * 1000 + rejects FROM wf_orgs WHERE id = X'{id}'");
    w.ok(&org_verify(
        &w.moderator,
        &w.org,
        "verified",
        "called the switchboard",
    ))
    .await;
    assert_eq!(w.int(&org_counts(&w.org)).await, 1000);
    // One verdict of each kind per moderator per organisation.
    w.deny(
        &org_verify(&w.moderator, &w.org, "verified", "called again"),
        409,
        &["already gave the verdict verify"],
    )
    .await;
    w.ok(&org_verify(&w.op, &w.org, "verified", "visited"))
        .await;
    assert_eq!(w.int(&org_counts(&w.org)).await, 2000);
    assert_eq!(
        w.int(&format!(
            "SELECT COUNT(*) FROM wf_verdicts WHERE target = X'{}' AND verdict = 'verify'",
            w.org
        ))
        .await,
        2
    );

    // Rejection: once per moderator; a rejected organisation posts no needs.
    let other = w.ok(&org_register(&key(), "Fake Field Hospital")).await;
    w.ok(&org_verify(
        &w.moderator,
        &other,
        "rejected",
        "no such hospital",
    ))
    .await;
    assert_eq!(w.int(&org_counts(&other)).await, 1);
    w.deny(
        &org_verify(&w.moderator, &other, "rejected", "still no such hospital"),
        409,
        &["already gave the verdict reject"],
    )
    .await;
    // docs/FORMAT.md: "each moderator gives each verdict once" — a different verdict
    // by the same moderator is a new verdict (a moderator may change their mind).
    w.ok(&org_verify(
        &w.moderator,
        &w.org,
        "rejected",
        "the phone number was fake",
    ))
    .await;
    assert_eq!(w.int(&org_counts(&w.org)).await, 2001);
}

// ---------------------------------------------------------------------------------
// Needs
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn needs_are_posted_by_members_or_with_evidence_for_a_live_organisation() {
    let w = World::new().await;
    // The organisation must be a registered organisation.
    w.deny(
        &need_post(&w.hospital, &nowhere(), &[10]),
        422,
        &["org:", "no registered organisation has this id"],
    )
    .await;
    w.deny(
        &need_post(&w.hospital, &w.need, &[10]),
        422,
        &["org:", "no registered organisation has this id"],
    )
    .await;
    // A non-member relays with evidence, or not at all.
    w.deny(
        &need_post(&w.volunteer, &w.org, &[10]),
        403,
        &["evidence", "not a member"],
    )
    .await;
    let relayed = w.ok(&need_relay(&w.volunteer, &w.org, &[10])).await;
    assert_eq!(w.post_column(&relayed, "relayed").await, 1);
    assert_eq!(
        w.text(&format!(
            "SELECT evidence_url FROM wf_posts WHERE id = X'{relayed}'"
        ))
        .await
        .as_deref(),
        Some("https://weibo.example/hospital/appeal/1")
    );
    // Members post without evidence: the registrant and a granted member.
    assert_eq!(w.post_column(&w.need, "relayed").await, 0);
    let by_member = w.ok(&need_post(&w.member, &w.org, &[7, 8, 9])).await;
    assert_eq!(
        w.quantities(&by_member).await,
        [[7, 0, 0, 0], [8, 0, 0, 0], [9, 0, 0, 0]]
    );

    // needed_by may not be in the past by the log's clock; the same day is fine. An
    // entry dated before needed_by does not help: created_at is the author's word.
    let now = OffsetDateTime::now_utc();
    let yesterday = date(now - Duration::days(1));
    let refusal = w
        .deny(
            &sign_at(
                &w.hospital,
                Kind::NeedPost,
                need_body(&w.org, &[10], &yesterday),
                now,
            ),
            409,
            &["needed_by", "in the past", "the log's clock"],
        )
        .await;
    assert_eq!(
        refusal["fault"],
        json!({"code": "date_passed", "field": "needed_by"})
    );
    w.deny(
        &sign_at(
            &w.hospital,
            Kind::NeedPost,
            need_body(&w.org, &[10], &yesterday),
            now - Duration::days(3),
        ),
        409,
        &["needed_by", "in the past", "the log's clock"],
    )
    .await;
    let last_year = date(now - Duration::days(365));
    w.deny(
        &sign_at(
            &w.volunteer,
            Kind::NeedPost,
            {
                let mut body = need_body(&w.org, &[10], &last_year);
                body["evidence"] = json!({"photo_sha256": nowhere()});
                body
            },
            now,
        ),
        409,
        &["needed_by", "in the past"],
    )
    .await;
    w.ok(&sign_at(
        &w.hospital,
        Kind::NeedPost,
        need_body(&w.org, &[10], &date(now)),
        now,
    ))
    .await;

    // A rejected organisation posts nothing, not even through its members.
    w.ok(&org_verify(
        &w.moderator,
        &w.org,
        "rejected",
        "not a hospital",
    ))
    .await;
    w.deny(
        &need_post(&w.hospital, &w.org, &[10]),
        403,
        &["org:", "rejected by a moderator"],
    )
    .await;
    w.deny(
        &need_relay(&w.volunteer, &w.org, &[10]),
        403,
        &["org:", "rejected by a moderator"],
    )
    .await;
    // Its existing needs are untouched.
    assert_eq!(w.quantities(&w.need).await, [[100, 0, 0, 0], [50, 0, 0, 0]]);
}

#[tokio::test]
async fn an_organisation_has_at_most_200_open_needs() {
    let cap = moderation::rules::MAX_OPEN_NEEDS_PER_ORG;
    assert_eq!(cap, 200);
    let w = World::new().await;
    let open = format!(
        "SELECT COUNT(*) FROM wf_posts WHERE org = X'{}' AND kind = 'need' AND status = 'open'",
        w.org
    );
    // The world has one; one more is closed and does not count.
    let closed = w.ok(&need_post(&w.hospital, &w.org, &[1])).await;
    w.ok(&need_update(&w.hospital, &closed, &[], Some("met")))
        .await;
    let mut needs = vec![w.need.clone()];
    for i in 1..cap {
        let by = if i % 2 == 0 { &w.hospital } else { &w.member };
        needs.push(w.ok(&need_post(by, &w.org, &[i as u64])).await);
    }
    assert_eq!(w.int(&open).await, cap);
    w.deny(
        &need_post(&w.hospital, &w.org, &[5]),
        409,
        &["already has 200 open needs", "close some first"],
    )
    .await;
    w.deny(
        &need_relay(&w.volunteer, &w.org, &[5]),
        409,
        &["already has 200 open needs"],
    )
    .await;
    // The limit is per organisation.
    let other = w.ok(&org_register(&w.hospital, "Second campus")).await;
    w.ok(&need_post(&w.hospital, &other, &[5])).await;
    // Closing one makes room for exactly one.
    w.ok(&need_update(&w.member, &needs[17], &[], Some("withdrawn")))
        .await;
    assert_eq!(w.int(&open).await, cap - 1);
    w.ok(&need_post(&w.hospital, &w.org, &[6])).await;
    assert_eq!(w.int(&open).await, cap);
    w.deny(
        &need_post(&w.member, &w.org, &[7]),
        409,
        &["already has 200 open needs"],
    )
    .await;
}

#[tokio::test]
async fn needs_are_updated_by_their_author_or_members_while_open() {
    let w = World::new().await;
    w.deny(
        &need_update(&w.hospital, &nowhere(), &[(0, 10)], None),
        422,
        &["need:", "no need in the log has this id"],
    )
    .await;
    let offer = w.ok(&offer_post(&w.donor)).await;
    w.deny(
        &need_update(&w.donor, &offer, &[(0, 10)], None),
        422,
        &["need:", "no need in the log has this id"],
    )
    .await;
    // Neither strangers, nor donors, nor moderators.
    for by in [&w.stranger, &w.donor, &w.moderator, &w.op] {
        w.deny(
            &need_update(by, &w.need, &[(0, 120)], None),
            403,
            &["only the need's author or a member of its organisation"],
        )
        .await;
        w.deny(
            &need_update(by, &w.need, &[], Some("withdrawn")),
            403,
            &["only the need's author or a member of its organisation"],
        )
        .await;
    }
    // A member who did not write it, and its author.
    w.ok(&need_update(&w.member, &w.need, &[(0, 120)], None))
        .await;
    w.ok(&need_update(&w.hospital, &w.need, &[(1, 60)], None))
        .await;
    assert_eq!(w.quantities(&w.need).await, [[120, 0, 0, 0], [60, 0, 0, 0]]);
    w.deny(
        &need_update(&w.hospital, &w.need, &[(2, 5)], None),
        422,
        &["items[0].line", "no such line"],
    )
    .await;
    w.deny(
        &need_update(&w.hospital, &w.need, &[(0, 5), (7, 5)], None),
        422,
        &["items[1].line", "no such line"],
    )
    .await;

    // Not below what is already pledged.
    w.ok(&pledge(&w.donor, &w.need, &[(0, 30), (1, 10)], None))
        .await;
    w.deny(
        &need_update(&w.hospital, &w.need, &[(0, 29)], None),
        409,
        &["items[0].quantity", "30 are already pledged"],
    )
    .await;
    // Refused whole: the first line's change does not happen either.
    w.deny(
        &need_update(&w.member, &w.need, &[(1, 80), (0, 1)], Some("met")),
        409,
        &["items[1].quantity", "30 are already pledged"],
    )
    .await;
    w.ok(&need_update(
        &w.hospital,
        &w.need,
        &[(0, 30), (1, 10)],
        None,
    ))
    .await;
    assert_eq!(
        w.quantities(&w.need).await,
        [[30, 30, 0, 0], [10, 10, 0, 0]]
    );

    // A volunteer updates the need they relayed (they are its author).
    let relayed = w.ok(&need_relay(&w.volunteer, &w.org, &[40])).await;
    w.ok(&need_update(&w.volunteer, &relayed, &[(0, 45)], None))
        .await;
    w.ok(&need_update(&w.member, &relayed, &[(0, 50)], None))
        .await;
    w.deny(
        &need_update(&w.stranger, &relayed, &[(0, 55)], None),
        403,
        &["only the need's author or a member"],
    )
    .await;
    assert_eq!(w.quantities(&relayed).await, [[50, 0, 0, 0]]);

    // Closing, then nothing more: neither quantities nor another close.
    w.ok(&need_update(&w.hospital, &w.need, &[], Some("met")))
        .await;
    assert_eq!(
        w.text(&format!(
            "SELECT status FROM wf_posts WHERE id = X'{}'",
            w.need
        ))
        .await
        .as_deref(),
        Some("met")
    );
    w.deny(
        &need_update(&w.hospital, &w.need, &[(0, 40)], None),
        409,
        &["need:", "already closed (met)"],
    )
    .await;
    w.deny(
        &need_update(&w.member, &w.need, &[], Some("withdrawn")),
        409,
        &["need:", "already closed (met)"],
    )
    .await;
    w.ok(&need_update(
        &w.volunteer,
        &relayed,
        &[(0, 20)],
        Some("expired"),
    ))
    .await;
    assert_eq!(w.quantities(&relayed).await, [[20, 0, 0, 0]]);
    w.deny(
        &need_update(&w.volunteer, &relayed, &[], Some("met")),
        409,
        &["already closed (expired)"],
    )
    .await;
}

// ---------------------------------------------------------------------------------
// Offers and pledges
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn offers_are_posted_by_anyone() {
    let w = World::new().await;
    for by in [&w.stranger, &w.donor, &w.hospital, &w.moderator] {
        let offer = w.ok(&offer_post(by)).await;
        assert_eq!(
            w.text(&format!("SELECT kind FROM wf_posts WHERE id = X'{offer}'"))
                .await
                .as_deref(),
            Some("offer")
        );
        assert_eq!(
            w.quantities(&offer).await,
            [[500, 0, 0, 0], [2000, 0, 0, 0]]
        );
    }
    let mut body = offer_body();
    body["available_until"] = json!(date(OffsetDateTime::now_utc() + Duration::days(10)));
    let offer = w.ok(&sign_private(&w.donor2, Kind::OfferPost, body)).await;
    assert_eq!(w.post_column(&offer, "has_contact").await, 1);
}

#[tokio::test]
async fn pledges_go_to_open_needs_within_what_remains() {
    let w = World::new().await;
    w.deny(
        &pledge(&w.donor, &nowhere(), &[(0, 1)], None),
        422,
        &["need:", "no need in the log has this id"],
    )
    .await;
    let offer = w.ok(&offer_post(&w.donor)).await;
    for not_a_need in [&offer, &w.org] {
        w.deny(
            &pledge(&w.donor, not_a_need, &[(0, 1)], None),
            422,
            &["need:", "no need in the log has this id"],
        )
        .await;
    }
    w.deny(
        &pledge(&w.donor, &w.need, &[(2, 1)], None),
        422,
        &["items[0].line", "no such line"],
    )
    .await;
    w.deny(
        &pledge(&w.donor, &w.need, &[(0, 101)], None),
        409,
        &[
            "items[0].quantity",
            "only 100 remain to be pledged on line 0",
        ],
    )
    .await;
    // Refused whole, and with private data beside it nothing of that is kept either.
    let refusal = w
        .deny(
            &pledge(&w.donor, &w.need, &[(0, 10), (1, 51)], None),
            409,
            &[
                "items[1].quantity",
                "only 50 remain to be pledged on line 1",
            ],
        )
        .await;
    assert_eq!(
        refusal["fault"],
        json!({"code": "above_remaining", "field": "items[1].quantity", "limit": 50})
    );
    let mut body = json!({"need": w.need, "items": lines(&[(0, 10), (1, 51)])});
    body["offer"] = json!(offer);
    w.deny(
        &sign_private(&w.donor, Kind::Pledge, body),
        409,
        &["only 50 remain to be pledged on line 1"],
    )
    .await;
    assert_eq!(w.quantities(&w.need).await, [[100, 0, 0, 0], [50, 0, 0, 0]]);

    // Anyone may pledge, up to what remains.
    let p1 = w
        .ok(&pledge(&w.donor, &w.need, &[(0, 60), (1, 50)], None))
        .await;
    assert_eq!(
        w.quantities(&w.need).await,
        [[100, 60, 0, 0], [50, 50, 0, 0]]
    );
    assert_eq!(w.passed(&p1).await, [(0, 60, 0), (1, 50, 0)]);
    w.deny(
        &pledge(&w.donor2, &w.need, &[(1, 1)], None),
        409,
        &["only 0 remain to be pledged on line 1"],
    )
    .await;
    w.deny(
        &pledge(&w.donor2, &w.need, &[(0, 41)], None),
        409,
        &["only 40 remain to be pledged on line 0"],
    )
    .await;
    w.ok(&sign_private(
        &w.donor2,
        Kind::Pledge,
        json!({"need": w.need, "items": lines(&[(0, 40)])}),
    ))
    .await;
    assert_eq!(
        w.quantities(&w.need).await,
        [[100, 100, 0, 0], [50, 50, 0, 0]]
    );
    // A need update that raises the request makes room again.
    w.ok(&need_update(&w.hospital, &w.need, &[(1, 55)], None))
        .await;
    w.ok(&pledge(&w.hospital, &w.need, &[(1, 5)], None)).await;

    // An offer named by a pledge must exist and be the pledger's own.
    let need = w.ok(&need_post(&w.hospital, &w.org, &[30])).await;
    w.deny(
        &pledge(&w.donor2, &need, &[(0, 1)], Some(&nowhere())),
        422,
        &["offer:", "no offer in the log has this id"],
    )
    .await;
    w.deny(
        &pledge(&w.donor2, &need, &[(0, 1)], Some(&w.need)),
        422,
        &["offer:", "no offer in the log has this id"],
    )
    .await;
    w.deny(
        &pledge(&w.donor2, &need, &[(0, 1)], Some(&offer)),
        403,
        &["offer:", "the pledger's own offer"],
    )
    .await;
    w.ok(&pledge(&w.donor, &need, &[(0, 1)], Some(&offer)))
        .await;

    // Not to a closed need.
    let closed = w.ok(&need_post(&w.hospital, &w.org, &[30])).await;
    w.ok(&need_update(&w.hospital, &closed, &[], Some("withdrawn")))
        .await;
    w.deny(
        &pledge(&w.donor, &closed, &[(0, 1)], None),
        409,
        &["need:", "closed (withdrawn)"],
    )
    .await;
    // Not to a rejected one.
    let rejected = w.ok(&need_relay(&w.volunteer, &w.org, &[30])).await;
    w.ok(&verdict(&w.moderator, &rejected, "reject", None))
        .await;
    w.deny(
        &pledge(&w.donor, &rejected, &[(0, 1)], None),
        409,
        &["need:", "rejected by a moderator"],
    )
    .await;
    // Up to its needed_by date by the log's clock, the day itself included (past it:
    // `a_backdated_pledge_does_not_reach_a_need_the_logs_clock_says_expired`). A
    // pledge signed offline days ago is welcome.
    let now = OffsetDateTime::now_utc();
    let due_today = w
        .ok(&sign_at(
            &w.hospital,
            Kind::NeedPost,
            need_body(&w.org, &[30], &date(now)),
            now - Duration::days(3),
        ))
        .await;
    w.ok(&sign_at(
        &w.donor,
        Kind::Pledge,
        json!({"need": due_today, "items": lines(&[(0, 1)])}),
        now - Duration::days(2),
    ))
    .await;
    assert_eq!(
        w.int("SELECT COUNT(*) FROM wf_links WHERE kind = 'pledge'")
            .await,
        5
    );
}

// ---------------------------------------------------------------------------------
// Shipments and delivery confirmations
// ---------------------------------------------------------------------------------

/// Where to ship is public (docs/FORMAT.md §5): a need's own delivery point, else its
/// organisation's; neither carries a person, so a donor sees it before any acceptance.
#[tokio::test]
async fn a_needs_delivery_point_is_its_own_or_its_organisations() {
    let w = World::new().await;
    let registrant = key();
    let mut body = org_body("Tongji Hospital");
    body["delivery_point"] = json!("Goods entrance, 1095 Jiefang Ave, Wuhan; 08:00-18:00");
    let org = w.ok(&sign(&registrant, Kind::OrgRegister, body)).await;
    let inherits = w.ok(&need_post(&registrant, &org, &[10])).await;
    let needed_by = date(OffsetDateTime::now_utc() + Duration::days(30));
    let mut own = need_body(&org, &[10], &needed_by);
    own["delivery_point"] = json!("Ward 3 store, east gate");
    let own = w.ok(&sign(&registrant, Kind::NeedPost, own)).await;

    let org_view = w.get_json(format!("/api/v1/orgs/{org}")).await;
    assert_eq!(
        org_view["delivery_point"],
        "Goods entrance, 1095 Jiefang Ave, Wuhan; 08:00-18:00"
    );
    assert_eq!(
        w.get_json(format!("/api/v1/needs/{inherits}")).await["delivery_point"],
        org_view["delivery_point"]
    );
    assert_eq!(
        w.get_json(format!("/api/v1/needs/{own}")).await["delivery_point"],
        "Ward 3 store, east gate"
    );
    // Without one anywhere, the member is absent, as before delivery points existed.
    let plain = w.get_json(format!("/api/v1/needs/{}", w.need)).await;
    assert!(plain.get("delivery_point").is_none(), "{plain}");
}

/// Members move the receiving dock (FORMAT.md §5 `org.update`); nobody else may, and
/// the name and area that moderators verified cannot change through it.
#[tokio::test]
async fn members_change_their_organisations_delivery_point_and_description() {
    let w = World::new().await;
    let update = |by: &SigningKey, body: Value| sign(by, Kind::OrgUpdate, body);
    let dock = json!({"org": w.org, "delivery_point": "North dock, 2 Hankou Rd; 07:00-19:00"});
    for (who, status, needle) in [
        (&w.donor, 403, "only a member of the organisation"),
        (&w.volunteer, 403, "only a member of the organisation"),
    ] {
        let refusal = w.deny(&update(who, dock.clone()), status, &[needle]).await;
        assert_eq!(refusal["fault"]["code"], "not_allowed");
    }
    w.deny(
        &update(&w.member, json!({"org": nowhere(), "delivery_point": "x"})),
        422,
        &["org: no registered organisation"],
    )
    .await;
    // (An update that changes nothing, or names a field it may not change, breaks the
    // kind's schema: ledger's body tests.)

    w.ok(&update(&w.member, dock.clone())).await;
    let org = w.get_json(format!("/api/v1/orgs/{}", w.org)).await;
    assert_eq!(org["delivery_point"], dock["delivery_point"]);
    // Its needs without a delivery point of their own now lead donors there.
    assert_eq!(
        w.get_json(format!("/api/v1/needs/{}", w.need)).await["delivery_point"],
        dock["delivery_point"]
    );
    // What an update leaves out stays as it was.
    w.ok(&update(
        &w.hospital,
        json!({"org": w.org, "description": "Fever clinic and wards 1-6"}),
    ))
    .await;
    let org = w.get_json(format!("/api/v1/orgs/{}", w.org)).await;
    assert_eq!(org["delivery_point"], dock["delivery_point"]);
    assert_eq!(org["description"], "Fever clinic and wards 1-6");
}

#[tokio::test]
async fn shipments_are_recorded_by_the_pledger_within_what_was_pledged() {
    let w = World::new().await;
    let p = w
        .ok(&pledge(&w.donor, &w.need, &[(0, 40), (1, 20)], None))
        .await;
    let p_line0 = w.ok(&pledge(&w.donor, &w.need, &[(0, 5)], None)).await;
    w.deny(
        &shipment(&w.donor, &nowhere(), &[(0, 1)]),
        422,
        &["pledge:", "no pledge in the log has this id"],
    )
    .await;
    w.deny(
        &shipment(&w.donor, &w.need, &[(0, 1)]),
        422,
        &["pledge:", "no pledge in the log has this id"],
    )
    .await;
    for by in [&w.donor2, &w.hospital, &w.moderator, &w.op] {
        w.deny(
            &shipment(by, &p, &[(0, 1)]),
            403,
            &["only the donor who made the pledge"],
        )
        .await;
    }
    // Only lines the pledge has.
    w.deny(
        &shipment(&w.donor, &p_line0, &[(1, 1)]),
        422,
        &["items[0].line", "no such line"],
    )
    .await;
    w.deny(
        &shipment(&w.donor, &p, &[(0, 41)]),
        409,
        &[
            "items[0].quantity",
            "only 40 remain to be shipped on line 0",
        ],
    )
    .await;
    w.deny(
        &shipment(&w.donor, &p, &[(0, 10), (1, 21)]),
        409,
        &[
            "items[1].quantity",
            "only 20 remain to be shipped on line 1",
        ],
    )
    .await;
    // In parts, up to the pledge.
    let s1 = w.ok(&shipment(&w.donor, &p, &[(0, 25)])).await;
    assert_eq!(
        w.quantities(&w.need).await,
        [[100, 45, 25, 0], [50, 20, 0, 0]]
    );
    w.deny(
        &shipment(&w.donor, &p, &[(0, 16)]),
        409,
        &["only 15 remain to be shipped on line 0"],
    )
    .await;
    let s2 = w
        .ok(&sign_private(
            &w.donor,
            Kind::Shipment,
            json!({"pledge": p, "carrier": "顺丰速运", "items": lines(&[(0, 15), (1, 20)])}),
        ))
        .await;
    assert_eq!(w.passed(&p).await, [(0, 40, 40), (1, 20, 20)]);
    assert_eq!(w.passed(&s1).await, [(0, 25, 0)]);
    assert_eq!(w.passed(&s2).await, [(0, 15, 0), (1, 20, 0)]);
    w.deny(
        &shipment(&w.donor, &p, &[(0, 1)]),
        409,
        &["only 0 remain to be shipped on line 0"],
    )
    .await;
    // The other pledge of the same need has its own allowance.
    w.ok(&shipment(&w.donor, &p_line0, &[(0, 5)])).await;
    assert_eq!(
        w.quantities(&w.need).await,
        [[100, 45, 45, 0], [50, 20, 20, 0]]
    );
}

#[tokio::test]
async fn deliveries_are_confirmed_by_members_within_what_was_shipped() {
    let w = World::new().await;
    let p = w
        .ok(&pledge(&w.donor, &w.need, &[(0, 40), (1, 10)], None))
        .await;
    let s = w.ok(&shipment(&w.donor, &p, &[(0, 30)])).await;
    w.deny(
        &confirm(&w.hospital, &nowhere(), &[(0, 1)]),
        422,
        &["shipment:", "no shipment in the log has this id"],
    )
    .await;
    for not_a_shipment in [&p, &w.need] {
        w.deny(
            &confirm(&w.hospital, not_a_shipment, &[(0, 1)]),
            422,
            &["shipment:", "no shipment in the log has this id"],
        )
        .await;
    }
    for by in [&w.donor, &w.stranger, &w.moderator, &w.op] {
        w.deny(
            &confirm(by, &s, &[(0, 1)]),
            403,
            &["only a member of the receiving organisation"],
        )
        .await;
    }
    w.deny(
        &confirm(&w.hospital, &s, &[(1, 1)]),
        422,
        &["items[0].line", "no such line"],
    )
    .await;
    w.deny(
        &confirm(&w.member, &s, &[(0, 31)]),
        409,
        &[
            "items[0].quantity",
            "only 30 remain to be delivered on line 0",
        ],
    )
    .await;
    // In parts, by any member.
    let c1 = w.ok(&confirm(&w.member, &s, &[(0, 20)])).await;
    assert_eq!(
        w.quantities(&w.need).await,
        [[100, 40, 30, 20], [50, 10, 0, 0]]
    );
    w.deny(
        &confirm(&w.hospital, &s, &[(0, 11)]),
        409,
        &["only 10 remain to be delivered on line 0"],
    )
    .await;
    w.ok(&confirm(&w.hospital, &s, &[(0, 10)])).await;
    assert_eq!(w.passed(&s).await, [(0, 30, 30)]);
    assert_eq!(w.passed(&c1).await, [(0, 20, 0)]);
    w.deny(
        &confirm(&w.hospital, &s, &[(0, 1)]),
        409,
        &["only 0 remain to be delivered on line 0"],
    )
    .await;
    assert_eq!(
        w.quantities(&w.need).await,
        [[100, 40, 30, 30], [50, 10, 0, 0]]
    );

    // A volunteer who relayed a need is not a member of its organisation.
    let relayed = w.ok(&need_relay(&w.volunteer, &w.org, &[8])).await;
    let p2 = w.ok(&pledge(&w.donor2, &relayed, &[(0, 8)], None)).await;
    let s2 = w.ok(&shipment(&w.donor2, &p2, &[(0, 8)])).await;
    w.deny(
        &confirm(&w.volunteer, &s2, &[(0, 8)]),
        403,
        &["only a member of the receiving organisation"],
    )
    .await;
    // A member of another organisation is not either.
    let elsewhere = key();
    w.ok(&org_register(&elsewhere, "Another hospital")).await;
    w.deny(
        &confirm(&elsewhere, &s2, &[(0, 8)]),
        403,
        &["only a member of the receiving organisation"],
    )
    .await;
    w.ok(&confirm(&w.member, &s2, &[(0, 8)])).await;
    assert_eq!(w.quantities(&relayed).await, [[8, 8, 8, 8]]);
}

// ---------------------------------------------------------------------------------
// Verdicts
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn verify_and_reject_are_for_moderators_outside_the_entry() {
    let w = World::new().await;
    let p = w.ok(&pledge(&w.donor, &w.need, &[(0, 1)], None)).await;
    // Verdicts apply to needs and offers only.
    for target in [nowhere(), w.org.clone(), p.clone()] {
        w.deny(
            &verdict(&w.moderator, &target, "verify", None),
            422,
            &["entry:", "verdicts apply to needs and offers"],
        )
        .await;
    }
    for by in [&w.stranger, &w.donor, &w.hospital, &w.member] {
        for v in ["verify", "reject"] {
            w.deny(
                &verdict(by, &w.need, v, None),
                403,
                &["only a moderator may verify or reject entries"],
            )
            .await;
        }
    }
    // Not on one's own entry.
    let own_offer = w.ok(&offer_post(&w.moderator)).await;
    for v in ["verify", "reject"] {
        w.deny(
            &verdict(&w.moderator, &own_offer, v, None),
            403,
            &["cannot give a verdict on an entry they wrote"],
        )
        .await;
    }
    // Not on an entry of an organisation one belongs to, even one somebody else wrote.
    w.ok(&grant(&w.op, &w.member, "moderator", None)).await;
    let relayed = w.ok(&need_relay(&w.volunteer, &w.org, &[10])).await;
    for target in [&w.need, &relayed] {
        for v in ["verify", "reject"] {
            w.deny(
                &verdict(&w.member, target, v, None),
                403,
                &["cannot give a verdict on an entry of an organisation they belong to"],
            )
            .await;
        }
    }

    let counts =
        |id: &str| format!("SELECT verifies * 1000 + rejects FROM wf_posts WHERE id = X'{id}'");
    w.ok(&verdict(&w.moderator, &w.need, "verify", None)).await;
    assert_eq!(w.int(&counts(&w.need)).await, 1000);
    w.deny(
        &verdict(&w.moderator, &w.need, "verify", None),
        409,
        &["already gave the verdict verify on this entry"],
    )
    .await;
    w.ok(&verdict(&w.op, &w.need, "verify", None)).await;
    w.ok(&verdict(&w.op, &own_offer, "verify", None)).await;
    // The member-moderator may judge entries of other organisations and offers.
    w.ok(&verdict(&w.member, &own_offer, "reject", None)).await;
    assert_eq!(w.int(&counts(&own_offer)).await, 1001);
    w.ok(&verdict(&w.moderator, &relayed, "reject", None)).await;
    assert_eq!(w.int(&counts(&relayed)).await, 1);
    w.deny(
        &verdict(&w.moderator, &relayed, "reject", None),
        409,
        &["already gave the verdict reject on this entry"],
    )
    .await;
    assert_eq!(w.int(&counts(&w.need)).await, 2000);
}

#[tokio::test]
async fn anyone_flags_stale_entries_once() {
    let w = World::new().await;
    let offer = w.ok(&offer_post(&w.donor)).await;
    w.deny(
        &verdict(&w.stranger, &nowhere(), "flag_stale", None),
        422,
        &["verdicts apply to needs and offers"],
    )
    .await;
    w.deny(
        &verdict(&w.stranger, &w.org, "flag_stale", None),
        422,
        &["verdicts apply to needs and offers"],
    )
    .await;
    // Anyone, the author included.
    for (n, by) in [&w.stranger, &w.volunteer, &w.hospital, &w.moderator]
        .into_iter()
        .enumerate()
    {
        w.ok(&verdict(by, &w.need, "flag_stale", None)).await;
        assert_eq!(w.post_column(&w.need, "stale_flags").await, n as i64 + 1);
    }
    w.deny(
        &verdict(&w.stranger, &w.need, "flag_stale", None),
        409,
        &["already gave the verdict flag_stale on this entry"],
    )
    .await;
    w.ok(&verdict(&w.stranger, &offer, "flag_stale", None))
        .await;
    assert_eq!(w.post_column(&offer, "stale_flags").await, 1);
    assert_eq!(w.post_column(&w.need, "stale_flags").await, 4);
}

#[tokio::test]
async fn duplicates_name_an_earlier_entry_of_the_same_kind() {
    let w = World::new().await;
    let later = w.ok(&need_post(&w.hospital, &w.org, &[100, 50])).await;
    let offer1 = w.ok(&offer_post(&w.donor)).await;
    let offer2 = w.ok(&offer_post(&w.donor)).await;
    for (target, original) in [
        (later.clone(), nowhere()),       // not in the log
        (later.clone(), later.clone()),   // itself
        (w.need.clone(), later.clone()),  // a later need
        (later.clone(), offer1.clone()),  // an offer for a need
        (offer2.clone(), w.need.clone()), // a need for an offer
        (later.clone(), w.org.clone()),   // not a post at all
    ] {
        w.deny(
            &verdict(&w.stranger, &target, "flag_duplicate", Some(&original)),
            422,
            &["original:", "must be an earlier"],
        )
        .await;
    }
    w.deny(
        &verdict(&w.stranger, &nowhere(), "flag_duplicate", Some(&w.need)),
        422,
        &["verdicts apply to needs and offers"],
    )
    .await;
    let dup = w
        .ok(&verdict(
            &w.stranger,
            &later,
            "flag_duplicate",
            Some(&w.need),
        ))
        .await;
    assert_eq!(
        w.text(&format!(
            "SELECT lower(hex(duplicate_of)) FROM wf_posts WHERE id = X'{later}'"
        ))
        .await,
        Some(w.need.clone())
    );
    assert_eq!(
        w.text(&format!(
            "SELECT lower(hex(original)) FROM wf_verdicts WHERE id = X'{dup}'"
        ))
        .await,
        Some(w.need.clone())
    );
    w.deny(
        &verdict(&w.stranger, &later, "flag_duplicate", Some(&w.need)),
        409,
        &["already gave the verdict flag_duplicate on this entry"],
    )
    .await;
    // Somebody else may flag it too; offers likewise.
    w.ok(&verdict(&w.donor, &later, "flag_duplicate", Some(&w.need)))
        .await;
    w.ok(&verdict(
        &w.volunteer,
        &offer2,
        "flag_duplicate",
        Some(&offer1),
    ))
    .await;
    assert_eq!(
        w.text(&format!(
            "SELECT lower(hex(duplicate_of)) FROM wf_posts WHERE id = X'{offer2}'"
        ))
        .await,
        Some(offer1.clone())
    );
    assert_eq!(
        w.int(&format!(
            "SELECT CASE WHEN duplicate_of IS NULL THEN 1 ELSE 0 END FROM wf_posts WHERE id = X'{}'",
            w.need
        ))
        .await,
        1
    );
}

// ---------------------------------------------------------------------------------
// Redactions
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn private_data_is_erased_by_its_author_or_a_moderator_once() {
    let w = World::new().await;
    let need = w
        .ok(&sign_private(
            &w.hospital,
            Kind::NeedPost,
            need_body(
                &w.org,
                &[10],
                &date(OffsetDateTime::now_utc() + Duration::days(9)),
            ),
        ))
        .await;
    let p = w
        .ok(&sign_private(
            &w.donor,
            Kind::Pledge,
            json!({"need": need, "items": lines(&[(0, 10)])}),
        ))
        .await;
    // Only entries that carry a commitment.
    for target in [nowhere(), w.need.clone(), w.org.clone()] {
        w.deny(
            &redaction(&w.moderator, &target),
            422,
            &["entry:", "no entry with private data has this id"],
        )
        .await;
    }
    // Not by the counterpart, a fellow member, or a stranger.
    for by in [&w.donor, &w.member, &w.stranger, &w.volunteer] {
        w.deny(
            &redaction(by, &need),
            403,
            &["only the entry's author or a moderator may erase its private data"],
        )
        .await;
    }
    w.deny(
        &redaction(&w.hospital, &p),
        403,
        &["only the entry's author or a moderator"],
    )
    .await;

    let contact = |id: &str| {
        format!(
            "SELECT CASE WHEN salt IS NULL THEN 100 ELSE 0 END
                  + CASE WHEN data IS NULL THEN 10 ELSE 0 END
                  + CASE WHEN erased_at IS NOT NULL THEN 1 ELSE 0 END
             FROM pd_contacts WHERE entry = X'{id}'"
        )
    };
    assert_eq!(w.int(&contact(&need)).await, 0);
    let r = w.ok(&redaction(&w.hospital, &need)).await;
    assert_eq!(w.int(&contact(&need)).await, 111);
    assert_eq!(
        w.text(&format!(
            "SELECT lower(hex(author)) || ' ' || reason FROM wf_redactions WHERE entry = X'{need}'"
        ))
        .await,
        Some(format!("{} request", public(&w.hospital)))
    );
    // Once: not again by anyone, for any reason.
    w.deny(
        &redaction(&w.moderator, &need),
        409,
        &["entry:", "already erased"],
    )
    .await;
    w.deny(
        &sign(
            &w.hospital,
            Kind::Redaction,
            json!({"entry": need, "reason": "retention", "rule": "365 days after the need closed"}),
        ),
        409,
        &["already erased"],
    )
    .await;
    // A moderator erases anybody's.
    w.ok(&redaction(&w.moderator, &p)).await;
    assert_eq!(w.int(&contact(&p)).await, 111);
    assert_eq!(
        w.int("SELECT COUNT(*) FROM wf_redactions").await,
        2,
        "redaction {r} and the moderator's"
    );
}

// ---------------------------------------------------------------------------------
// Concurrent submissions: entries of one batch see each other's effects
// ---------------------------------------------------------------------------------

/// Submits `entries` at once and checks that exactly `admitted` of them are appended
/// and that every other one is refused with `status` and `needle`.
async fn race(inst: &Instance, entries: &[Signed], admitted: usize, status: u16, needle: &str) {
    let size = inst.tree_size().await;
    let replies = inst.submit_all(entries).await;
    let mut appended = 0;
    for reply in &replies {
        if reply.status == 201 {
            appended += 1;
        } else {
            assert_eq!(reply.status, status, "{}", reply.body);
            let message = reply.body["error"].as_str().unwrap_or_default();
            assert!(
                message.contains(needle),
                "{message:?} should contain {needle:?}"
            );
        }
    }
    assert_eq!(appended, admitted, "admitted of {}", entries.len());
    assert_eq!(inst.tree_size().await, size + admitted as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_submissions_never_exceed_what_remains() {
    let w = World::new().await;
    // Ten donors race for line 0 (100): three pledges of 30 fit.
    let donors: Vec<SigningKey> = (0..10).map(|_| key()).collect();
    let pledges: Vec<Signed> = donors
        .iter()
        .map(|d| pledge(d, &w.need, &[(0, 30)], None))
        .collect();
    race(&w, &pledges, 3, 409, "remain to be pledged on line 0").await;
    assert_eq!(
        w.quantities(&w.need).await,
        [[100, 90, 0, 0], [50, 0, 0, 0]]
    );
    assert_eq!(
        w.int("SELECT COUNT(*) FROM wf_links WHERE kind = 'pledge'")
            .await,
        3
    );

    // Shipments race for one pledge of 50: two of 20 fit.
    let p = w.ok(&pledge(&w.donor, &w.need, &[(1, 50)], None)).await;
    let shipments: Vec<Signed> = (0..6).map(|_| shipment(&w.donor, &p, &[(1, 20)])).collect();
    race(&w, &shipments, 2, 409, "remain to be shipped on line 1").await;
    assert_eq!(w.passed(&p).await, [(1, 50, 40)]);
    let s = w
        .int(&format!(
            "SELECT COUNT(*) FROM wf_links WHERE kind = 'shipment' AND parent = X'{p}'"
        ))
        .await;
    assert_eq!(s, 2);

    // Confirmations race for one shipment of 20: two of 10 fit.
    let shipment_id: String = w
        .text(&format!(
            "SELECT lower(hex(id)) FROM wf_links WHERE kind = 'shipment' AND parent = X'{p}' ORDER BY idx LIMIT 1"
        ))
        .await
        .unwrap();
    let confirms: Vec<Signed> = (0..5)
        .map(|i| {
            confirm(
                if i % 2 == 0 { &w.hospital } else { &w.member },
                &shipment_id,
                &[(1, 10)],
            )
        })
        .collect();
    race(&w, &confirms, 2, 409, "remain to be delivered on line 1").await;
    assert_eq!(
        w.quantities(&w.need).await,
        [[100, 90, 0, 0], [50, 50, 40, 20]]
    );

    // One grant of a role, however many copies race.
    let target = key();
    let grants: Vec<Signed> = (0..5)
        .map(|_| grant(&w.op, &target, "moderator", None))
        .collect();
    race(&w, &grants, 1, 409, "already holds the moderator role").await;
    // One verdict per author, however many race.
    let verdicts: Vec<Signed> = (0..5)
        .map(|_| verdict(&w.stranger, &w.need, "flag_stale", None))
        .collect();
    race(&w, &verdicts, 1, 409, "already gave the verdict flag_stale").await;
    assert_eq!(w.post_column(&w.need, "stale_flags").await, 1);
}

/// The entries of one batch see the chain's writes that wait for its end: admitted in
/// one pass of the rules, as the sequencer admits a batch whose pledges, acceptances,
/// shipments and deliveries are written in bulk when it is stored, a donation's whole
/// chain gets the verdicts and leaves the tables it gets and leaves admitted one
/// entry per batch.
#[tokio::test]
async fn a_batch_sees_the_links_and_quantities_it_has_not_written_yet() {
    let (hospital, donor, donor2) = (key(), key(), key());
    let register = org_register(&hospital, "Wuhan Union Hospital");
    let org = register.id();
    let need = need_post(&hospital, &org, &[100, 50]);
    let n = need.id();
    let accept = |pledge: &str| sign(&hospital, Kind::PledgeAccept, json!({"pledge": pledge}));
    let p = pledge(&donor, &n, &[(0, 30)], None);
    let s = shipment(&donor, &p.id(), &[(0, 20)]);
    let s_over = shipment(&donor, &p.id(), &[(0, 20)]);
    let p2 = pledge(&donor2, &n, &[(0, 70), (1, 50)], None);
    let s2 = shipment(&donor2, &p2.id(), &[(1, 50)]);
    let batch: Vec<(Signed, Option<&str>)> = vec![
        (register, None),
        (need, None),
        (p.clone(), None),
        (accept(&p.id()), None),
        (accept(&p.id()), Some("the pledge is already accepted")),
        (s.clone(), None),
        (
            s_over.clone(),
            Some("only 10 remain to be shipped on line 0"),
        ),
        (
            shipment(&donor2, &p.id(), &[(0, 5)]),
            Some("only the donor who made the pledge"),
        ),
        (confirm(&hospital, &s.id(), &[(0, 10)]), None),
        (
            confirm(&hospital, &s.id(), &[(0, 15)]),
            Some("only 10 remain to be delivered on line 0"),
        ),
        (
            confirm(&hospital, &s_over.id(), &[(0, 1)]),
            Some("no shipment in the log has this id"),
        ),
        (
            pledge(&donor2, &n, &[(0, 80)], None),
            Some("only 70 remain to be pledged on line 0"),
        ),
        (p2.clone(), None),
        (s2.clone(), None),
        (confirm(&hospital, &s2.id(), &[(1, 50)]), None),
        (
            need_update(&hospital, &n, &[(0, 99)], None),
            Some("100 are already pledged"),
        ),
        (accept(&p2.id()), None),
    ];
    let entries: Vec<Signed> = batch.iter().map(|(s, _)| s.clone()).collect();
    let (one_pass, tables) = admit_as_one_batch(&entries, |_| false).await;
    let (one_at_a_time, flushed_tables) = admit_as_one_batch(&entries, |_| true).await;
    // Written parents with waiting children: the batch written once after the pledge,
    // its acceptance, its shipment, the first delivery, the second pledge.
    for split in [2, 3, 5, 8, 12] {
        let (outcomes, split_tables) = admit_as_one_batch(&entries, |i| i == split).await;
        assert_eq!(outcomes, one_at_a_time, "written once after entry {split}");
        assert_eq!(
            split_tables, flushed_tables,
            "written once after entry {split}"
        );
    }
    for ((s, _), (got, alone)) in batch.iter().zip(one_pass.iter().zip(&one_at_a_time)) {
        let kind = s.entry.kind().name();
        assert_eq!(got, alone, "{kind}: the same verdict in one batch as alone");
    }
    assert_verdicts(&batch, &one_pass);
    assert_eq!(tables, flushed_tables, "the same tables either way");
    assert_eq!(
        tables["quantities"],
        ["[100, 100, 20, 10]", "[50, 50, 50, 50]"],
        "(requested, pledged, shipped, delivered) by line"
    );
    assert_eq!(tables["wf_links"].len(), 8, "{:?}", tables["wf_links"]);
    assert_eq!(
        tables["wf_link_items"].len(),
        7,
        "{:?}",
        tables["wf_link_items"]
    );
}

/// A batch's parents are read ahead of it, but an entry that changes what was read (a
/// need's request or status, a membership, an organisation's rejection) is seen by
/// every entry after it in the same batch: each gets the verdict it gets in a batch of
/// its own.
#[tokio::test]
async fn what_an_entry_changes_is_seen_by_the_rest_of_its_batch_whatever_was_read_ahead() {
    let (hospital, member, donor, donor2) = (key(), key(), key(), key());
    let (admin, moderator) = (key(), key());
    let register = org_register(&hospital, "Wuhan Union Hospital");
    let org = register.id();
    let need = need_post(&hospital, &org, &[100, 50]);
    let small = need_post(&hospital, &org, &[10]);
    let p = pledge(&donor, &need.id(), &[(0, 30)], None);
    let s = shipment(&donor, &p.id(), &[(0, 20)]);
    let stored = [
        grant(&admin, &admin, "administrator", None),
        grant(&admin, &moderator, "moderator", None),
        register,
        grant(&hospital, &member, "member", Some(&org)),
        need.clone(),
        small.clone(),
        p.clone(),
        s.clone(),
    ];
    let batch: Vec<(Signed, Option<&str>)> = vec![
        (need_post(&hospital, &org, &[5]), None),
        (
            org_verify(&moderator, &org, "rejected", "not a hospital"),
            None,
        ),
        (
            need_post(&hospital, &org, &[6]),
            Some("the organisation was rejected by a moderator"),
        ),
        (pledge(&donor2, &small.id(), &[(0, 1)], None), None),
        (
            need_update(&hospital, &small.id(), &[(0, 10)], Some("met")),
            None,
        ),
        (
            pledge(&donor2, &small.id(), &[(0, 1)], None),
            Some("the need is closed (met)"),
        ),
        (need_update(&hospital, &need.id(), &[(0, 40)], None), None),
        (
            pledge(&donor2, &need.id(), &[(0, 20)], None),
            Some("only 10 remain to be pledged on line 0"),
        ),
        (pledge(&donor2, &need.id(), &[(0, 10)], None), None),
        (confirm(&member, &s.id(), &[(0, 5)]), None),
        (revoke(&hospital, &member, "member", Some(&org)), None),
        (
            confirm(&member, &s.id(), &[(0, 5)]),
            Some("only a member of the receiving organisation"),
        ),
    ];
    let entries: Vec<Signed> = stored
        .iter()
        .cloned()
        .chain(batch.iter().map(|(s, _)| s.clone()))
        .collect();
    let last_stored = stored.len() - 1;
    let (in_one_batch, tables) = admit_as_one_batch(&entries, |i| i == last_stored).await;
    let (one_at_a_time, alone_tables) = admit_as_one_batch(&entries, |_| true).await;
    assert_eq!(in_one_batch, one_at_a_time);
    assert_eq!(tables, alone_tables);
    assert!(in_one_batch[..stored.len()].iter().all(Option::is_none));
    assert_verdicts(&batch, &in_one_batch[stored.len()..]);
}

/// The needs a batch posts wait to be written with its end, and still count: toward
/// their organisation's open needs, and as needs the batch's later entries find. The
/// open needs read ahead of a batch stop counting once it writes its waiting needs
/// early or closes one. Three batches that post past the limit, pledge to a need they
/// posted, withdraw needs and post again get the verdicts each entry gets alone.
#[tokio::test]
async fn needs_a_batch_posts_count_toward_the_limit_before_they_are_written() {
    let cap = moderation::rules::MAX_OPEN_NEEDS_PER_ORG as usize;
    let hospital = key();
    let register = org_register(&hospital, "Wuhan Union Hospital");
    let org = register.id();
    let stored: Vec<Signed> = std::iter::once(register)
        .chain((2..cap).map(|i| need_post(&hospital, &org, &[i as u64])))
        .collect();
    let post = |i: u64| need_post(&hospital, &org, &[i]);
    let withdraw = |need: &Signed| need_update(&hospital, &need.id(), &[], Some("withdrawn"));
    let full = Some("already has 200 open needs");
    let extra = post(2);
    let first: Vec<(Signed, Option<&str>)> = vec![
        (post(1), None),
        (extra.clone(), None),
        (post(3), full),
        // Writes the waiting needs before the batch's end.
        (pledge(&key(), &extra.id(), &[(0, 2)], None), None),
        (post(4), full),
        (withdraw(&stored[1]), None),
        (post(5), None),
        (post(6), full),
    ];
    let second: Vec<(Signed, Option<&str>)> = vec![
        (post(7), full),
        (withdraw(&stored[2]), None),
        (post(8), None),
        (post(9), full),
    ];
    // A need updated twice in a batch is read alone the second time: closing it then
    // cannot tell which organisation's open needs it lowers, so it lowers them all.
    let third: Vec<(Signed, Option<&str>)> = vec![
        (
            need_update(&hospital, &stored[3].id(), &[(0, 1)], None),
            None,
        ),
        (withdraw(&stored[3]), None),
        (post(10), None),
        (post(11), full),
    ];
    let batch: Vec<(Signed, Option<&str>)> =
        first.iter().chain(&second).chain(&third).cloned().collect();
    let entries: Vec<Signed> = stored
        .iter()
        .cloned()
        .chain(batch.iter().map(|(s, _)| s.clone()))
        .collect();
    let ends = [
        stored.len() - 1,
        stored.len() + first.len() - 1,
        stored.len() + first.len() + second.len() - 1,
    ];
    let (in_batches, tables) = admit_as_one_batch(&entries, |i| ends.contains(&i)).await;
    let (one_at_a_time, alone_tables) = admit_as_one_batch(&entries, |_| true).await;
    assert_eq!(in_batches, one_at_a_time);
    assert_eq!(tables, alone_tables);
    assert!(in_batches[..stored.len()].iter().all(Option::is_none));
    assert_verdicts(&batch, &in_batches[stored.len()..]);
}

/// Checks each verdict of `got` against the refusal `batch` expects of its entry: none
/// (admitted), or a message containing the words given.
fn assert_verdicts(batch: &[(Signed, Option<&str>)], got: &[Option<String>]) {
    for ((s, expected), got) in batch.iter().zip(got) {
        let kind = s.entry.kind().name();
        match (expected, got) {
            (None, None) => {}
            (Some(needle), Some(message)) => assert!(
                message.contains(needle),
                "{kind}: {message:?} should contain {needle:?}"
            ),
            _ => panic!("{kind}: expected {expected:?}, got {got:?}"),
        }
    }
}

/// Admits `entries` through the workflow's rules in one transaction as the sequencer
/// admits a batch: their parents read ahead first, and what the rules leave to be
/// written in bulk written at the end. After each entry whose position `flush_after`
/// picks, another batch begins (all of them: as if each were a batch of its own).
/// Returns each entry's refusal message (`None` if admitted) and the rows of every
/// derived table, and the quantities (requested, pledged, shipped, delivered) of the
/// lines of posts, by post and line.
async fn admit_as_one_batch(
    entries: &[Signed],
    flush_after: impl Fn(usize) -> bool,
) -> (Vec<Option<String>>, BTreeMap<String, Vec<String>>) {
    use ledger_node::rules::{Refusal, Rules};
    use ledger_node::storage::LogStore;
    let dir = tempfile::tempdir().unwrap();
    let store = aidledger::services::store::open(
        dir.path(),
        common::database_url(dir.path()).await.as_deref(),
    )
    .await
    .unwrap();
    let log = aidledger::keys::load_or_create_log_key(dir.path(), server::DEFAULT_ORIGIN).unwrap();
    let rules = moderation::WorkflowRules::new(LogVerifier::new(&log.vkey()).unwrap());
    let mut conn = store.connect_writer().await.unwrap();
    let mut tx = store.begin(&mut conn).await.unwrap();
    let mut outcomes = Vec::new();
    let entries: Vec<&VerifiedEntry> = entries.iter().map(|s| &s.entry).collect();
    rules.read_ahead(&mut tx, &entries).await.unwrap();
    for (index, entry) in entries.iter().enumerate() {
        match rules.admit(&mut tx, entry, index as u64, None).await {
            Ok(()) => outcomes.push(None),
            Err(Refusal::Denied(denial)) => outcomes.push(Some(denial.message)),
            Err(e) => panic!("entry {index}: {e:?}"),
        }
        if flush_after(index) {
            rules.flush(&mut tx).await.unwrap();
            rules
                .read_ahead(&mut tx, &entries[index + 1..])
                .await
                .unwrap();
        }
    }
    rules.flush(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    drop(conn);
    let mut tables = BTreeMap::new();
    for table in moderation::rebuild::TABLES {
        tables.insert(
            table.to_string(),
            common::table_rows(store.pool(), table).await,
        );
    }
    tables.insert(
        "quantities".into(),
        sqlx::query(
            "SELECT requested, pledged, shipped, delivered FROM wf_post_items ORDER BY post, line",
        )
        .fetch_all(store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let q: [i64; 4] = [r.get(0), r.get(1), r.get(2), r.get(3)];
            format!("{q:?}")
        })
        .collect(),
    );
    store.pool().close().await;
    (outcomes, tables)
}

// ---------------------------------------------------------------------------------
// A long random workflow
// ---------------------------------------------------------------------------------

/// What one need or offer line should read after the entries submitted.
type Expected = HashMap<(String, i64), [i64; 4]>;

fn add(expected: &mut Expected, need: &str, items: &[LineQuantity], column: usize) {
    for l in items {
        let line = expected
            .get_mut(&(need.to_owned(), i64::from(l.line)))
            .unwrap_or_else(|| panic!("line {} of {need} is not known", l.line));
        line[column] += l.quantity as i64;
    }
}

fn account(expected: &mut Expected, parents: &mut HashMap<String, String>, entry: &VerifiedEntry) {
    let id = hex32::encode(&entry.leaf_hash());
    let posted = match entry.body() {
        Body::NeedPost(b) => Some(&b.items),
        Body::OfferPost(b) => Some(&b.items),
        _ => None,
    };
    for (i, item) in posted.into_iter().flatten().enumerate() {
        expected.insert((id.clone(), i as i64), [item.quantity as i64, 0, 0, 0]);
    }
    match entry.body() {
        Body::NeedUpdate(b) => {
            for l in &b.items {
                expected
                    .get_mut(&(b.need.clone(), i64::from(l.line)))
                    .expect("updated line is known")[0] = l.quantity as i64;
            }
        }
        Body::Pledge(b) => {
            add(expected, &b.need, &b.items, 1);
            parents.insert(id, b.need.clone());
        }
        Body::Shipment(b) => {
            let need = parents[&b.pledge].clone();
            add(expected, &need, &b.items, 2);
            parents.insert(id, need);
        }
        Body::DeliveryConfirm(b) => {
            let need = parents[&b.shipment].clone();
            add(expected, &need, &b.items, 3);
        }
        _ => {}
    }
}

async fn post_items(db: &AnyPool) -> Expected {
    sqlx::query(&common::sql(
        "SELECT lower(hex(post)), line, requested, pledged, shipped, delivered FROM wf_post_items",
    ))
    .fetch_all(db)
    .await
    .unwrap()
    .iter()
    .map(|r| {
        (
            (r.get(0), r.get(1)),
            [r.get(2), r.get(3), r.get(4), r.get(5)],
        )
    })
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_long_random_workflow_is_admitted_and_its_quantities_add_up() {
    let inst = Instance::start(true).await;
    let seed: u64 = rand::random();
    println!("workflow seed {seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut workflow = Workflow::new(Some(inst.operator()));
    let mut expected = Expected::new();
    let mut parents = HashMap::new();
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    let mut submitted = 0u64;
    for round in 0..40 {
        let max = rng.gen_range(10..60);
        let entries = workflow.round(&mut rng, max).expect("the workflow signs");
        // The entries of one round are independent: submit them all at once, so they
        // share batches; the rounds go in order.
        let mut tasks = tokio::task::JoinSet::new();
        for entry in &entries {
            let (http, url) = (inst.http.clone(), inst.url.clone());
            let leaf = entry.leaf().to_vec();
            let kind = entry.kind().name();
            tasks.spawn(async move {
                let response = http
                    .post(format!("{url}/api/v1/entries"))
                    .header("content-type", "application/json")
                    .body(leaf)
                    .send()
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                let text = response.text().await.unwrap();
                assert_eq!(status, 201, "round {round}: {kind} refused: {text}");
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.unwrap();
        }
        for entry in &entries {
            account(&mut expected, &mut parents, entry);
            *kinds.entry(entry.kind().name()).or_default() += 1;
        }
        submitted += entries.len() as u64;
    }
    println!("submitted {submitted} entries: {kinds:?}");
    for kind in [
        "org.register",
        "org.verify",
        "need.post",
        "offer.post",
        "pledge",
        "pledge.accept",
        "shipment",
        "delivery.confirm",
    ] {
        assert!(
            kinds.get(kind).copied().unwrap_or(0) > 0,
            "the workflow made no {kind}"
        );
    }
    assert_eq!(
        inst.tree_size().await,
        common::CLOCK_READINGS + 2 + submitted,
        "every entry was appended"
    );
    let actual = post_items(&inst.db).await;
    assert_eq!(actual.len(), expected.len());
    for (line, quantities) in &expected {
        assert_eq!(
            actual.get(line),
            Some(quantities),
            "post {} line {}: (requested, pledged, shipped, delivered)",
            line.0,
            line.1
        );
    }
    let links = inst.int("SELECT COUNT(*) FROM wf_links").await;
    assert_eq!(
        links as usize,
        kinds["pledge"] + kinds["pledge.accept"] + kinds["shipment"] + kinds["delivery.confirm"]
    );
    // The API reads the same quantities.
    let needs: Vec<String> = sqlx::query_scalar(&common::sql(
        "SELECT lower(hex(id)) FROM wf_posts WHERE kind = 'need' ORDER BY random() LIMIT 25",
    ))
    .fetch_all(&inst.db)
    .await
    .unwrap();
    for need in needs {
        let served = inst.get_json(format!("/api/v1/needs/{need}")).await;
        let items = served["items"].as_array().expect("a need has items");
        for item in items {
            let line = item["line"].as_i64().unwrap();
            let [requested, pledged, shipped, delivered] = expected[&(need.clone(), line)];
            assert_eq!(
                [
                    &item["requested"],
                    &item["pledged"],
                    &item["shipped"],
                    &item["delivered"],
                    &item["remaining"]
                ],
                [
                    &json!(requested),
                    &json!(pledged),
                    &json!(shipped),
                    &json!(delivered),
                    &json!(requested - pledged)
                ],
                "GET /api/v1/needs/{need} line {line}"
            );
        }
    }
    // Nothing is beyond what its parent allows.
    assert_eq!(
        inst.int(
            "SELECT COUNT(*) FROM wf_post_items
             WHERE pledged > requested OR shipped > pledged OR delivered > shipped"
        )
        .await,
        0
    );

    // Replaying the log through the rules reproduces every derived table.
    let before = inst.snapshot().await;
    let dir = inst.stop().await;
    replay(&dir, before.tree_size).await;
    let inst = Instance::start_in(dir, true).await;
    let after = inst.snapshot().await;
    assert_eq!(before.tree_size, after.tree_size);
    for table in moderation::rebuild::TABLES {
        assert_eq!(
            before.tables[*table], after.tables[*table],
            "{table} differs after a rebuild"
        );
    }
    assert_eq!(post_items(&inst.db).await, expected);
}

/// Empties the derived tables of the stopped instance in `dir` and replays its log's
/// first `size` entries through the rules, as `aidledger rebuild` does.
async fn replay(dir: &TempDir, size: u64) {
    let store = aidledger::services::store::open(
        dir.path(),
        common::database_url(dir.path()).await.as_deref(),
    )
    .await
    .unwrap();
    let log = aidledger::keys::load_existing_log_key(dir.path()).unwrap();
    let rules = moderation::WorkflowRules::new(LogVerifier::new(&log.vkey()).unwrap());
    moderation::rebuild::rebuild(&store, &rules, size, |_| {})
        .await
        .expect("the log replays");
    store.pool().close().await;
}

// ---------------------------------------------------------------------------------
// Time: the log's clock (DESIGN.md §11)
// ---------------------------------------------------------------------------------

/// The log's clock readings in log order: (index, time, author).
async fn clock_readings(db: &AnyPool) -> Vec<(i64, String, String)> {
    sqlx::query("SELECT idx, leaf FROM entries WHERE kind = 'log.clock' ORDER BY idx")
        .fetch_all(db)
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let leaf: Value = serde_json::from_slice(&r.get::<Vec<u8>, _>(1)).unwrap();
            let time = leaf["body"]["time"].as_str().unwrap().to_owned();
            assert_eq!(leaf["created_at"].as_str(), Some(time.as_str()));
            (r.get(0), time, leaf["author"].as_str().unwrap().to_owned())
        })
        .collect()
}

#[tokio::test]
async fn a_backdated_pledge_does_not_reach_a_need_the_logs_clock_says_expired() {
    // The log's clock is set by hand: it starts ten days ago and moves when told.
    let t0 = OffsetDateTime::now_utc() - Duration::days(10);
    let clock = common::ManualClock::new(t0);
    let with_clock = |clock: std::sync::Arc<common::ManualClock>| {
        move |config: &mut Config| config.clock = clock
    };
    let inst = Instance::start_configured(
        tempfile::tempdir().unwrap(),
        true,
        with_clock(clock.clone()),
    )
    .await;
    let (hospital, donor) = (key(), key());
    let org = inst
        .ok(&sign_at(
            &hospital,
            Kind::OrgRegister,
            org_body("Jinyintan Hospital"),
            t0,
        ))
        .await;
    let needed_by = date(t0 + Duration::days(1));
    let need = inst
        .ok(&sign_at(
            &hospital,
            Kind::NeedPost,
            need_body(&org, &[100], &needed_by),
            t0,
        ))
        .await;
    let pledge_at = |at: OffsetDateTime| {
        sign_at(
            &donor,
            Kind::Pledge,
            json!({"need": need, "items": lines(&[(0, 10)])}),
            at,
        )
    };
    inst.ok(&pledge_at(t0)).await;

    // Three days on by the log's clock the need has expired; a pledge dated before
    // needed_by is still refused: created_at is only the author's word.
    let later = t0 + Duration::days(3);
    clock.set(later);
    inst.deny(
        &pledge_at(t0 + Duration::seconds(1)),
        409,
        &["need:", "expired", &needed_by, &date(later)],
    )
    .await;
    // Nor can a need be posted with a deadline the log's clock has passed.
    inst.deny(
        &sign_at(
            &hospital,
            Kind::NeedPost,
            need_body(&org, &[5], &needed_by),
            t0,
        ),
        409,
        &["needed_by", "in the past"],
    )
    .await;

    // The refusals changed nothing, not even the clock; the next admitted entry comes
    // after a reading of the log's time, by which its close is dated.
    let log_key = {
        let readings = clock_readings(&inst.db).await;
        assert_eq!(readings.len(), 1, "{readings:?}");
        assert_eq!(readings[0].0, 0, "the first batch starts with a reading");
        assert_eq!(readings[0].1, format_timestamp(t0));
        readings[0].2.clone()
    };
    inst.ok(&sign_at(
        &hospital,
        Kind::NeedUpdate,
        json!({"need": need, "close": "expired"}),
        t0 + Duration::seconds(2),
    ))
    .await;
    let readings = clock_readings(&inst.db).await;
    assert_eq!(
        readings.iter().map(|r| r.1.clone()).collect::<Vec<_>>(),
        [format_timestamp(t0), format_timestamp(later)]
    );
    assert!(readings.iter().all(|r| r.2 == log_key));
    assert_eq!(
        inst.text(&format!(
            "SELECT closed_at FROM wf_posts WHERE {}",
            common::sql(&format!("id = X'{need}'"))
        ))
        .await,
        Some(format_timestamp(later))
    );

    // A new reading once the last is a minute old, not before.
    clock.set(later + Duration::seconds(59));
    inst.ok(&sign_at(&donor, Kind::OfferPost, offer_body(), t0))
        .await;
    assert_eq!(clock_readings(&inst.db).await.len(), 2);
    clock.set(later + Duration::seconds(60));
    inst.ok(&sign_at(
        &donor,
        Kind::OfferPost,
        offer_body(),
        t0 + Duration::seconds(1),
    ))
    .await;
    assert_eq!(
        clock_readings(&inst.db).await[2].1,
        format_timestamp(later + Duration::seconds(60))
    );

    // The log's clock never runs backwards, whatever the host's clock does.
    clock.set(t0 + Duration::days(1));
    inst.ok(&sign_at(
        &donor,
        Kind::OfferPost,
        offer_body(),
        t0 + Duration::seconds(2),
    ))
    .await;
    assert_eq!(clock_readings(&inst.db).await.len(), 3);

    // Nobody else may set the log's clock, through either way in.
    let forger = key();
    let forged = sign_at(
        &forger,
        Kind::LogClock,
        json!({"time": format_timestamp(t0 + Duration::days(30))}),
        t0 + Duration::days(1),
    );
    inst.deny(&forged, 400, &["log.clock", "the log itself"])
        .await;
    let before = inst.snapshot().await;
    let reply = inst
        .http
        .post(format!("{}/api/v1/submissions", inst.url))
        .json(&json!({"entry": String::from_utf8(forged.entry.leaf().to_vec()).unwrap()}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status().as_u16(), 400);
    let body: Value = reply.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("log.clock"),
        "{body}"
    );
    assert_eq!(inst.snapshot().await, before);

    // Replaying the log reproduces every verdict and the clock.
    let dir = inst.stop().await;
    replay(&dir, before.tree_size).await;
    let inst = Instance::start_configured(dir, true, with_clock(clock.clone())).await;
    assert_eq!(inst.snapshot().await, before);
    inst.stop().await;
}

#[tokio::test]
async fn an_entry_dated_beyond_the_clock_skew_is_refused_and_changes_nothing() {
    let w = World::new().await;
    let now = OffsetDateTime::now_utc();
    // Ten minutes ahead is beyond the default five: refused, both ways in.
    w.deny(
        &sign_at(
            &w.donor,
            Kind::OfferPost,
            offer_body(),
            now + Duration::minutes(10),
        ),
        400,
        &["created_at", "ahead of this server's clock"],
    )
    .await;
    w.deny(
        &sign_private_at(
            &w.donor,
            Kind::OfferPost,
            offer_body(),
            now + Duration::days(365 * 20),
        ),
        400,
        &["created_at"],
    )
    .await;
    // A minute ahead (a fast clock) and hours behind (signed offline) are fine.
    w.ok(&sign_at(
        &w.donor,
        Kind::OfferPost,
        offer_body(),
        now + Duration::minutes(1),
    ))
    .await;
    w.ok(&sign_at(
        &w.donor,
        Kind::OfferPost,
        offer_body(),
        now - Duration::hours(20),
    ))
    .await;
}

// ---------------------------------------------------------------------------------
// Feeds
// ---------------------------------------------------------------------------------

/// One `<entry>` of an Atom feed: (id, title, updated, link href, summary).
type AtomEntry = (String, String, String, String, String);

/// Reads an Atom document, checking what RFC 4287 requires of a feed and its entries
/// (well-formed XML; the Atom namespace; id, title and RFC 3339 updated on the feed
/// and each entry; a feed author; each entry's alternate link), and returns its entries.
fn read_atom(xml: &str) -> Vec<AtomEntry> {
    use quick_xml::events::{BytesStart, Event};
    let attr = |e: &BytesStart, name: &str| -> Option<String> {
        e.try_get_attribute(name)
            .unwrap()
            .map(|a| a.value.into_owned())
    };
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut path: Vec<String> = vec![];
    let mut text = String::new();
    let mut entries = vec![];
    let mut current = AtomEntry::default();
    let mut feed_fields = std::collections::BTreeSet::new();
    loop {
        let event = reader.read_event().expect("well-formed XML");
        match &event {
            Event::Start(e) | Event::Empty(e) => {
                let name = e.name().as_ref().to_owned();
                if path.is_empty() {
                    assert_eq!(name, "feed");
                    assert_eq!(
                        attr(e, "xmlns").as_deref(),
                        Some("http://www.w3.org/2005/Atom")
                    );
                }
                if path.len() == 1 {
                    feed_fields.insert(name.clone());
                }
                if name == "link" && path.last().map(String::as_str) == Some("entry") {
                    assert_eq!(attr(e, "rel").as_deref(), Some("alternate"));
                    current.3 = attr(e, "href").expect("a link has an href");
                }
                if matches!(event, Event::Start(_)) {
                    path.push(name);
                    text.clear();
                }
            }
            Event::Text(t) => text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => {
                let resolved = quick_xml::escape::resolve_predefined_entity(r.as_ref())
                    .expect("only XML's own entities");
                text.push_str(resolved);
            }
            Event::End(_) => {
                let field: Vec<&str> = path.iter().map(String::as_str).collect();
                match field.as_slice() {
                    ["feed", "entry", "id"] => current.0 = text.clone(),
                    ["feed", "entry", "title"] => current.1 = text.clone(),
                    ["feed", "entry", "updated"] => current.2 = text.clone(),
                    ["feed", "entry", "summary"] => current.4 = text.clone(),
                    _ => {}
                }
                if field.last() == Some(&"updated") {
                    OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
                        .expect("updated is RFC 3339");
                }
                if path.pop().as_deref() == Some("entry") {
                    let entry = std::mem::take(&mut current);
                    assert!(
                        !entry.0.is_empty() && !entry.1.is_empty() && !entry.2.is_empty(),
                        "{entry:?}"
                    );
                    assert!(
                        entry.3.starts_with('/'),
                        "an entry links to a page: {entry:?}"
                    );
                    entries.push(entry);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    for required in ["id", "title", "updated", "author", "link"] {
        assert!(
            feed_fields.contains(required),
            "the feed has no {required}: {xml}"
        );
    }
    entries
}

/// Atom feeds: valid, newest first, linking to the app's pages, saying only what the
/// log says in public; bad paths and filters are refused like the API's.
#[tokio::test]
async fn feeds_follow_needs_organisations_and_the_answers_to_an_author() {
    let w = World::new().await;
    let p = w.ok(&pledge(&w.donor, &w.need, &[(0, 10)], None)).await;
    let a = w
        .ok(&sign(
            &w.member,
            Kind::PledgeAccept,
            json!({"pledge": p, "note": "Dock B <east> & gate"}),
        ))
        .await;
    let s = w.ok(&shipment(&w.donor, &p, &[(0, 10)])).await;
    let c = w.ok(&confirm(&w.hospital, &s, &[(0, 10)])).await;
    let get = |path: String| {
        let http = w.http.clone();
        let url = format!("{}{path}", w.url);
        async move {
            let response = http.get(url).send().await.unwrap();
            let status = response.status().as_u16();
            let kind = response
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            (status, kind, response.text().await.unwrap())
        }
    };
    let tag = |hash: &str| format!("tag:aidledger,2026:entry:{hash}");
    let ids = |entries: &[AtomEntry]| entries.iter().map(|e| e.0.clone()).collect::<Vec<_>>();

    let (status, kind, xml) = get(format!("/feeds/orgs/{}.atom", w.org)).await;
    assert_eq!(status, 200, "{xml}");
    assert!(kind.starts_with("application/atom+xml"), "{kind}");
    let entries = read_atom(&xml);
    assert_eq!(
        ids(&entries),
        [
            tag(&c),
            tag(&s),
            tag(&a),
            tag(&p),
            tag(&w.need),
            tag(&w.org)
        ],
        "everything about the organisation, newest first"
    );
    assert_eq!(
        entries[2].4, "Dock B <east> & gate",
        "text survives escaping"
    );
    assert_eq!(
        entries[3].3,
        format!("/needs/{}", w.need),
        "a pledge links to its need"
    );
    assert!(
        entries[4].4.contains("N95"),
        "a need says what it asks for: {:?}",
        entries[4]
    );

    // What answers an author: the hospital hears of the pledge, the donor of the
    // acceptance and the confirmation; nobody of their own entries.
    let (_, _, xml) = get(format!("/feeds/authors/{}.atom", public(&w.hospital))).await;
    assert_eq!(ids(&read_atom(&xml)), [tag(&p)]);
    let (_, _, xml) = get(format!("/feeds/authors/{}.atom", public(&w.donor))).await;
    assert_eq!(ids(&read_atom(&xml)), [tag(&c), tag(&a)]);

    // New needs with the board's filters (the index follows the log shortly).
    let mut found = vec![];
    for _ in 0..100 {
        let (status, _, xml) = get("/feeds/needs.atom?q=N95&area=CN".into()).await;
        assert_eq!(status, 200, "{xml}");
        found = ids(&read_atom(&xml));
        if !found.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(found, [tag(&w.need)]);
    let (_, _, xml) = get("/feeds/needs.atom?q=ventilator".into()).await;
    assert!(read_atom(&xml).is_empty());

    for (path, status, needle) in [
        (
            format!("/feeds/orgs/{}.atom", "0".repeat(64)),
            404,
            "organisation",
        ),
        (format!("/feeds/orgs/{}", w.org), 404, ".atom"),
        ("/feeds/authors/not-a-key.atom".into(), 400, "key"),
        ("/feeds/needs.atom?urgency=lost".into(), 400, "urgency"),
    ] {
        let (got, kind, body) = get(path.clone()).await;
        assert_eq!(got, status, "{path}: {body}");
        assert!(kind.starts_with("application/json"), "{path}: {kind}");
        assert!(body.contains(needle), "{path}: {body}");
    }
}

/// What waits for a hospital's members and where a donor's donations stand, along the
/// chain: pledged → accepted → shipped → delivered / partial / damaged.
#[tokio::test]
async fn activity_lists_what_waits_for_a_key_and_where_its_donations_stand() {
    let w = World::new().await;
    let activity = |key: &SigningKey| w.get_json(format!("/api/v1/keys/{}/activity", public(key)));
    let ids = |list: &Value| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|x| {
                x["id"]
                    .as_str()
                    .or(x["pledge"].as_str())
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    let stages = |list: &Value| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|x| x["stage"].as_str().unwrap().to_owned())
            .collect()
    };
    let accept =
        |by: &SigningKey, pledge: &str| sign(by, Kind::PledgeAccept, json!({"pledge": pledge}));

    // Donor: one pledge delivered in full, one only pledged; donor2: one accepted and
    // half shipped, one confirmed damaged.
    let full = w.ok(&pledge(&w.donor, &w.need, &[(0, 10)], None)).await;
    w.ok(&accept(&w.member, &full)).await;
    let s_full = w.ok(&shipment(&w.donor, &full, &[(0, 10)])).await;
    w.ok(&confirm(&w.hospital, &s_full, &[(0, 10)])).await;
    let waiting = w.ok(&pledge(&w.donor, &w.need, &[(1, 5)], None)).await;
    let half = w.ok(&pledge(&w.donor2, &w.need, &[(0, 20)], None)).await;
    w.ok(&accept(&w.hospital, &half)).await;
    let s_half = w.ok(&shipment(&w.donor2, &half, &[(0, 10)])).await;
    let broken = w.ok(&pledge(&w.donor2, &w.need, &[(0, 4)], None)).await;
    w.ok(&accept(&w.hospital, &broken)).await;
    let s_broken = w.ok(&shipment(&w.donor2, &broken, &[(0, 4)])).await;
    let damaged = sign(
        &w.member,
        Kind::DeliveryConfirm,
        json!({"shipment": s_broken, "items": [{"line": 0, "quantity": 4}], "condition": "damaged"}),
    );
    w.ok(&damaged).await;

    // The need as its page reads it: the hospital's list shows the same progress.
    let need = w.get_json(format!("/api/v1/needs/{}", w.need)).await;
    let names: Vec<Value> = need["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["item"].clone())
        .collect();
    assert_eq!(names.len(), 2);
    for receiving in [&w.hospital, &w.member] {
        let a = activity(receiving).await;
        assert_eq!(a["needs"], json!([need]), "{a}");
        assert_eq!(ids(&a["to_accept"]), [waiting.as_str()], "{a}");
        assert_eq!(ids(&a["to_confirm"]), [s_half.as_str()], "{a}");
        assert_eq!(a["to_accept"][0]["org"], "Wuhan Union Hospital");
        assert_eq!(a["to_accept"][0]["items"], json!(names));
        assert_eq!(a["to_confirm"][0]["items"], json!(names));
        assert_eq!(a["to_accept"][0]["author"], public(&w.donor));
        assert!(a["verdicts"].as_array().unwrap().is_empty());
    }
    let a = activity(&w.donor).await;
    assert!(a["needs"].as_array().unwrap().is_empty(), "{a}");
    assert_eq!(a["donations"][0]["items"], json!(names));
    assert_eq!(ids(&a["donations"]), [waiting.clone(), full.clone()]);
    assert_eq!(stages(&a["donations"]), ["pledged", "delivered"]);
    assert_eq!(
        (
            &a["donations"][1]["pledged"],
            &a["donations"][1]["shipped"],
            &a["donations"][1]["delivered"]
        ),
        (&json!(10), &json!(10), &json!(10))
    );
    let a = activity(&w.donor2).await;
    assert_eq!(ids(&a["donations"]), [broken.clone(), half.clone()]);
    assert_eq!(stages(&a["donations"]), ["damaged", "shipped"]);
    assert!(a["to_accept"].as_array().unwrap().is_empty());
    // Half delivered: partial.
    w.ok(&confirm(&w.member, &s_half, &[(0, 5)])).await;
    assert_eq!(
        stages(&activity(&w.donor2).await["donations"]),
        ["damaged", "partial"]
    );
    // A moderator's verdicts, newest first, name what they judged.
    let on_org = sign(
        &w.moderator,
        Kind::OrgVerify,
        json!({"org": w.org, "verdict": "verified", "reason": "called the hospital"}),
    );
    let on_org = w.ok(&on_org).await;
    let on_need = w.ok(&verdict(&w.moderator, &w.need, "verify", None)).await;
    let a = activity(&w.moderator).await;
    assert_eq!(
        a["verdicts"],
        json!([
            {"id": on_need, "index": a["verdicts"][0]["index"], "entry": w.need, "about": "need",
             "title": names.iter().map(|n| n.as_str().unwrap()).collect::<Vec<_>>().join(", "),
             "verdict": "verify", "reason": "checked with the hospital / 已核实"},
            {"id": on_org, "index": a["verdicts"][1]["index"], "entry": w.org, "about": "org",
             "title": "Wuhan Union Hospital", "verdict": "verify", "reason": "called the hospital"},
        ])
    );
    // A stranger has nothing waiting and no donations; a malformed key is a 400.
    assert_eq!(
        activity(&w.stranger).await,
        json!({"needs": [], "to_accept": [], "to_confirm": [], "donations": [], "verdicts": []})
    );
    let reply = w
        .http
        .get(format!("{}/api/v1/keys/nope/activity", w.url))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status().as_u16(), 400);
}

// ---------------------------------------------------------------------------------
// Totals
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn totals_add_up_the_selected_needs_by_category_region_and_day() {
    let w = World::new().await;
    // This test's entries are dated just before the world's need, so that all fall on
    // its day: `next_time` counts back from the start of the run, across midnight for
    // a run begun just after it.
    let need_at = w.get_json(format!("/api/v1/needs/{}", w.need)).await["created_at"]
        .as_str()
        .map(|t| ledger::entry::parse_timestamp(t).unwrap())
        .unwrap();
    let at = |k: i64| need_at - Duration::seconds(k);
    let needed_by = date(OffsetDateTime::now_utc() + Duration::days(30));
    let mut body = need_body(&w.org, &[10, 20, 30], &needed_by);
    body["area"] = json!({"code": "CN-ZJ", "name": "浙江"});
    w.ok(&sign_at(&w.hospital, Kind::NeedPost, body, at(1)))
        .await;
    let body = json!({"need": w.need, "items": lines(&[(0, 40), (1, 20)])});
    let p = w.ok(&sign_at(&w.donor, Kind::Pledge, body, at(2))).await;
    let body = json!({"pledge": p, "carrier": "SF Express", "tracking": "SF0123456789", "items": lines(&[(0, 25)])});
    let s = w.ok(&sign_at(&w.donor, Kind::Shipment, body, at(3))).await;
    let body = json!({"shipment": s, "items": lines(&[(0, 25)]), "condition": "good"});
    w.ok(&sign_at(&w.hospital, Kind::DeliveryConfirm, body, at(4)))
        .await;

    let amounts = |unit: &str, [requested, pledged, shipped, delivered, remaining]: [i64; 5]| {
        json!({"unit": unit, "requested": requested, "pledged": pledged, "shipped": shipped,
               "delivered": delivered, "remaining": remaining})
    };
    let totals = json!([
        amounts("piece", [180, 60, 25, 25, 120]),
        amounts("box", [30, 0, 0, 0, 30])
    ]);
    let stats = w.get_json("/api/v1/stats").await;
    assert_eq!(stats["needs"], 2);
    assert_eq!(stats["totals"], totals);
    assert_eq!(
        stats["by_category"],
        json!([
            {"category": "gown_coverall", "needs": 2, "amounts": [amounts("piece", [70, 20, 0, 0, 50])]},
            {"category": "respirator", "needs": 2, "amounts": [amounts("piece", [110, 40, 25, 25, 70])]},
            {"category": "gloves", "needs": 1, "amounts": [amounts("box", [30, 0, 0, 0, 30])]},
        ])
    );
    assert_eq!(stats["regions"], 2);
    assert_eq!(
        stats["by_region"],
        json!([
            {"area": hubei(), "needs": 1, "open": 1,
             "amounts": [amounts("piece", [150, 60, 25, 25, 90])]},
            {"area": {"code": "CN-ZJ", "name": "浙江"}, "needs": 1, "open": 1,
             "amounts": [amounts("box", [30, 0, 0, 0, 30]), amounts("piece", [30, 0, 0, 0, 30])]},
        ])
    );
    assert_eq!(
        stats["per_day"],
        json!([{"day": date(need_at), "needs": 2, "pledges": 1, "shipments": 1, "deliveries": 1,
                "amounts": totals}])
    );

    // The listing's filters select the same needs, and a category only its lines.
    let gloves = w.get_json("/api/v1/stats?category=gloves").await;
    assert_eq!(gloves["needs"], 1);
    assert_eq!(gloves["totals"], json!([amounts("box", [30, 0, 0, 0, 30])]));
    assert_eq!(gloves["by_region"][0]["area"]["code"], "CN-ZJ");
    assert_eq!(
        gloves["per_day"][0]["pledges"], 0,
        "the pledge has no gloves"
    );
    let respirators = w
        .get_json("/api/v1/stats?category=respirator&area=CN-HB")
        .await;
    assert_eq!(
        respirators["totals"],
        json!([amounts("piece", [100, 40, 25, 25, 60])])
    );
    assert_eq!(respirators["per_day"][0]["pledges"], 1);
    assert_eq!(w.get_json("/api/v1/stats?area=CN").await["needs"], 2);
    let met = w.get_json("/api/v1/stats?status=met").await;
    assert_eq!(
        met,
        json!({"needs": 0, "totals": [], "by_category": [], "by_region": [], "regions": 0, "per_day": []})
    );

    for (query, names) in [
        ("category=masks", "category must be one of"),
        ("page=2", "page"),
        ("status=closed", "status must be one of"),
    ] {
        let r = w
            .http
            .get(format!("{}/api/v1/stats?{query}", w.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{query}");
        let answer: Value = r.json().await.unwrap();
        let message = common::error_message(&answer).unwrap();
        assert!(message.contains(names), "{query}: {message}");
    }
}

// ---------------------------------------------------------------------------------
// The review queue's context
// ---------------------------------------------------------------------------------

/// A moderator sees each item with its organisation, evidence, the author's record and
/// likely duplicates, most pressing first: a critical need donors already pledged to
/// comes before the organisation it belongs to, which comes before a need nobody
/// pledged to yet, and offers come last.
#[tokio::test]
async fn the_review_queue_gives_context_and_puts_the_most_pressing_first() {
    let w = World::new().await;
    let twin = w.ok(&need_post(&w.hospital, &w.org, &[5])).await;
    for donor in [&w.donor, &w.donor2] {
        w.ok(&pledge(donor, &w.need, &[(0, 1)], None)).await;
    }
    let mut offer = offer_body();
    let first_offer = w
        .ok(&sign(&w.volunteer, Kind::OfferPost, offer.clone()))
        .await;
    offer["description"] = json!("Second batch / 第二批");
    let second_offer = w.ok(&sign(&w.volunteer, Kind::OfferPost, offer)).await;

    let queue = w.get_json("/api/v1/review").await;
    let items = queue["items"].as_array().unwrap();
    let order: Vec<(&str, i64)> = items
        .iter()
        .map(|i| (i["id"].as_str().unwrap(), i["priority"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        order,
        [
            (w.need.as_str(), 30 + 2 * 10),
            (w.org.as_str(), 15 + 2 * 10),
            (twin.as_str(), 30),
            (first_offer.as_str(), 5),
            (second_offer.as_str(), 5),
        ]
    );
    let need = &items[0];
    assert_eq!(
        need["org"],
        json!({"id": w.org, "name": "Wuhan Union Hospital", "verification": "pending"})
    );
    assert_eq!(
        (&need["urgency"], &need["pledges"]),
        (&json!("critical"), &json!(2))
    );
    assert_eq!(need["author"], public(&w.hospital));
    assert_eq!(
        need["history"],
        json!({"posts": 2, "orgs": 1, "links": 0, "verified": 0, "rejected": 0,
               "since": items[1]["index"]})
    );
    assert_eq!(need["similar"][0]["id"], twin.as_str());
    assert_eq!(items[2]["similar"][0]["id"], w.need.as_str());
    assert!(need["similar"][0]["title"]
        .as_str()
        .unwrap()
        .contains("N95"));
    let org = &items[1];
    assert_eq!(
        (&org["org_type"], &org["pledges"]),
        (&json!("hospital"), &json!(2))
    );
    assert_eq!(org["similar"], json!([]));
    assert_eq!(items[3]["similar"][0]["id"], second_offer.as_str());
    let donor_history = &w.get_json("/api/v1/review?kind=offer.post").await["items"][0]["history"];
    assert_eq!(donor_history["posts"], 2);

    // Oldest first on request; a verdict takes the need out; a bad sort is named.
    let oldest = w.get_json("/api/v1/review?sort=oldest").await;
    assert_eq!(oldest["items"][0]["id"], w.org.as_str());
    w.ok(&verdict(&w.moderator, &w.need, "verify", None)).await;
    let after = w.get_json("/api/v1/review").await;
    assert_eq!(after["items"][0]["id"], w.org.as_str());
    assert_eq!(after["total"], 4);
    let r = w
        .http
        .get(format!("{}/api/v1/review?sort=newest", w.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let message = common::error_message(&r.json().await.unwrap())
        .unwrap()
        .to_owned();
    assert!(message.contains("sort must be one of"), "{message}");
}
