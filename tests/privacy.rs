//! DESIGN.md §6 Privacy, end to end through the real HTTP API: private contact data
//! travels beside a signed entry (which holds only its commitment), is readable only by
//! moderators, the author and the counterpart of a pledge or shipment, every read is
//! recorded, erasure (on request or by the retention rule) removes it while the log
//! still verifies, and no private value ever reaches a public response, an error
//! message, a log line or a leaf.

use crate::common;
use common::{id, key, public, sign};

use aidledger::client::LogClient;
use aidledger::data_dir::DATABASE_FILE;
use aidledger::server::auth::{authorization, request_message};
use aidledger::server::{self, Config};
use aidledger::services::retention::Retention;
use base64::prelude::*;
use ed25519_dalek::{Signer, SigningKey};
use ledger::checkpoint::LogVerifier;
use ledger::entry::{canonical_json, parse_timestamp, UnsignedEntry, VerifiedEntry};
use ledger::Kind;
use moderation::private::Contact;
use serde_json::{json, Value};
use sqlx::{Connection, Row};
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tempfile::TempDir;
use time::OffsetDateTime;
use tokio::sync::oneshot;

// ---------------------------------------------------------------------------------
// An instance and its HTTP API
// ---------------------------------------------------------------------------------

/// One request and its answer, kept for the canary scan.
struct Exchange {
    what: String,
    status: u16,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
    /// A successful read of private data (by a key allowed to read it): the only
    /// answers that may hold private values.
    authorised_read: bool,
}

/// A raw answer: status, headers and body bytes.
struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {}: body is not JSON ({e}): {}",
                self.status,
                self.text()
            )
        })
    }

    /// The `error` message of a JSON error answer.
    fn error(&self) -> String {
        let content_type = self
            .headers
            .get(reqwest::header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap_or_default().to_owned())
            .unwrap_or_default();
        assert!(
            content_type.starts_with("application/json"),
            "error answers are JSON, not {content_type:?}"
        );
        let v = self.json();
        common::error_message(&v)
            .unwrap_or_else(|| panic!("an error answer is {{\"error\"}}: {v}"))
            .to_owned()
    }

    /// Asserts the status and that the error message mentions every needle.
    fn refused(&self, what: &str, status: u16, needles: &[&str]) {
        assert_eq!(self.status, status, "{what}: {}", self.text());
        let message = self.error().to_lowercase();
        for needle in needles {
            assert!(
                message.contains(&needle.to_lowercase()),
                "{what}: the error {message:?} should mention {needle:?}"
            );
        }
    }
}

/// The HTTP API of an instance (in-process or a child process), recording every
/// exchange.
#[derive(Clone)]
struct Api {
    url: String,
    vkey: String,
    data_dir: PathBuf,
    /// The operator key the instance bootstrapped: administrator and moderator.
    operator: SigningKey,
    http: reqwest::Client,
    seen: Arc<Mutex<Vec<Exchange>>>,
}

impl Api {
    fn new(url: &str, vkey: &str, data_dir: &Path, seen: Arc<Mutex<Vec<Exchange>>>) -> Api {
        Api {
            url: url.to_owned(),
            vkey: vkey.to_owned(),
            data_dir: data_dir.to_path_buf(),
            operator: aidledger::keys::read_author_key(&data_dir.join("operator.key"))
                .expect("the instance bootstrapped its operator key"),
            http: common::http(),
            seen,
        }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        auth: Option<String>,
        body: Option<Vec<u8>>,
    ) -> Reply {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.url));
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.expect("a body").to_vec();
        self.seen.lock().unwrap().push(Exchange {
            what: format!("{method} {path} -> {status}"),
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
                .collect(),
            body: body.clone(),
            authorised_read: method == reqwest::Method::GET
                && status == 200
                && path.starts_with("/api/v1/private/")
                && !path.ends_with("/reads"),
        });
        Reply {
            status,
            headers,
            body,
        }
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(reqwest::Method::GET, path, None, None).await
    }

    async fn get_auth(&self, path: &str, auth: String) -> Reply {
        self.send(reqwest::Method::GET, path, Some(auth), None)
            .await
    }

    async fn get_signed(&self, path: &str, key: &SigningKey) -> Reply {
        self.get_auth(path, authorization(key, "GET", path)).await
    }

    async fn read_private(&self, entry: &str, key: &SigningKey) -> Reply {
        self.get_signed(&format!("/api/v1/private/{entry}"), key)
            .await
    }

    async fn read_log(&self, entry: &str, key: &SigningKey) -> Reply {
        self.get_signed(&format!("/api/v1/private/{entry}/reads"), key)
            .await
    }

    async fn post(&self, path: &str, body: Vec<u8>) -> Reply {
        self.send(reqwest::Method::POST, path, None, Some(body))
            .await
    }

    /// POST /api/v1/entries with the entry's leaf.
    async fn submit(&self, entry: &VerifiedEntry) -> Reply {
        self.post("/api/v1/entries", entry.leaf().to_vec()).await
    }

    /// POST /api/v1/submissions with a raw body.
    async fn submission(&self, body: Vec<u8>) -> Reply {
        self.post("/api/v1/submissions", body).await
    }

    /// Appends an entry without private data; returns its id.
    async fn append(&self, entry: &VerifiedEntry) -> String {
        let reply = self.submit(entry).await;
        assert_eq!(reply.status, 201, "{:?}: {}", entry.kind(), reply.text());
        id(entry)
    }

    /// Appends an entry with its private data; returns its id.
    async fn append_private(&self, entry: &VerifiedEntry, private: &Private) -> String {
        let reply = self
            .submission(submission(entry, Some(private.sidecar())))
            .await;
        assert_eq!(reply.status, 201, "{:?}: {}", entry.kind(), reply.text());
        assert_eq!(reply.json()["leaf_hash"], id(entry));
        id(entry)
    }

    async fn checkpoint(&self) -> String {
        let reply = self.get("/checkpoint").await;
        assert_eq!(reply.status, 200);
        reply.text()
    }

    async fn size(&self) -> u64 {
        LogVerifier::new(&self.vkey)
            .unwrap()
            .verify(self.checkpoint().await.as_bytes())
            .expect("the checkpoint verifies")
            .size
    }

    /// The checkpoint and every table of the database (log, wf_*, pd_*).
    async fn state(&self) -> (String, BTreeMap<String, Vec<String>>) {
        (self.checkpoint().await, tables(&self.data_dir).await)
    }
}

/// An in-process instance with the bootstrap operator key.
struct Instance {
    api: Api,
    _stop: oneshot::Sender<()>,
    _dir: TempDir,
}

async fn start(retention: Retention) -> Instance {
    let dir = tempfile::tempdir().expect("temp dir");
    let (stop, stopped) = oneshot::channel::<()>();
    let config = Config {
        retention,
        ..common::config(dir.path()).await
    };
    assert!(
        config.bootstrap,
        "instances bootstrap an operator by default"
    );
    let running = server::start(config, async {
        let _ = stopped.await;
    })
    .await
    .expect("server starts");
    Instance {
        api: Api::new(&running.url, &running.vkey, dir.path(), Arc::default()),
        _stop: stop,
        _dir: dir,
    }
}

/// Retention that never fires during a test.
fn no_retention() -> Retention {
    Retention::default()
}

// ---------------------------------------------------------------------------------
// Entries and private data
// ---------------------------------------------------------------------------------

/// Private data and its commitment.
#[derive(Clone)]
struct Private {
    salt: String,
    contact: Value,
    commitment: String,
}

impl Private {
    fn new(contact: Value) -> Private {
        Private::with_salt(rand::random(), contact)
    }

    fn with_salt(salt: [u8; 32], contact: Value) -> Private {
        let parsed: Contact = serde_json::from_value(contact.clone()).expect("a contact");
        Private {
            salt: hex::encode(salt),
            commitment: moderation::private::commitment(&salt, &parsed),
            contact,
        }
    }

    fn sidecar(&self) -> Value {
        json!({"salt": self.salt, "contact": self.contact})
    }

    /// What an authorised read of `entry` answers.
    fn opened(&self, entry: &str) -> Value {
        json!({"entry": entry, "salt": self.salt, "contact": self.contact})
    }
}

static PHONES: AtomicU32 = AtomicU32::new(1);

/// Contact details made of canary values, distinct for each `tag`: every name,
/// address and e-mail contains "canary" and every phone "+86 139 0000 7…".
fn canary_contact(tag: &str) -> Value {
    let n = PHONES.fetch_add(1, Ordering::Relaxed);
    json!({
        "name": format!("CANARY-NAME-7f3a[{tag}]"),
        "phone": format!("+86 139 0000 7{n:03}"),
        "email": format!("canary7f3a.{tag}@example.org"),
        "address": format!("CANARY-ADDR-7f3a[{tag}] Road"),
    })
}

/// The body of a submission with private data.
fn submission(entry: &VerifiedEntry, private: Option<Value>) -> Vec<u8> {
    let mut s = json!({"entry": std::str::from_utf8(entry.leaf()).unwrap()});
    if let Some(p) = private {
        s["private"] = p;
    }
    serde_json::to_vec(&s).unwrap()
}

fn with_contact(mut body: Value, private: Option<&Private>) -> Value {
    if let Some(p) = private {
        body["contact"] = json!(p.commitment);
    }
    body
}

fn area() -> Value {
    json!({"code": "CN-HB", "name": "Hubei"})
}

fn org_body(tag: &str, private: Option<&Private>) -> Value {
    with_contact(
        json!({"name": format!("Hospital {tag}"), "type": "hospital", "area": area()}),
        private,
    )
}

fn need_body(org: &str, tag: &str, private: Option<&Private>) -> Value {
    let needed_by = (OffsetDateTime::now_utc() + time::Duration::days(30))
        .date()
        .to_string();
    with_contact(
        json!({
            "org": org,
            "items": [{"item": "N95 respirator", "category": "respirator", "quantity": 1000, "unit": "piece"}],
            "urgency": "critical",
            "needed_by": needed_by,
            "area": area(),
            "description": format!("need {tag}"),
        }),
        private,
    )
}

fn offer_body(tag: &str, private: Option<&Private>) -> Value {
    with_contact(
        json!({
            "items": [{"item": "Nitrile gloves", "category": "gloves", "quantity": 500, "unit": "box"}],
            "area": area(),
            "description": format!("offer {tag}"),
        }),
        private,
    )
}

fn pledge_body(need: &str, offer: Option<&str>, quantity: u64, private: Option<&Private>) -> Value {
    let mut body = json!({"need": need, "items": [{"line": 0, "quantity": quantity}]});
    if let Some(offer) = offer {
        body["offer"] = json!(offer);
    }
    with_contact(body, private)
}

fn shipment_body(pledge: &str, quantity: u64, private: Option<&Private>) -> Value {
    with_contact(
        json!({"pledge": pledge, "carrier": "SF Express", "tracking": "SF0000000001",
               "items": [{"line": 0, "quantity": quantity}]}),
        private,
    )
}

fn redaction(key: &SigningKey, entry: &str) -> VerifiedEntry {
    sign(
        key,
        Kind::Redaction,
        json!({"entry": entry, "reason": "request"}),
    )
}

/// An entry holding private data, and that data.
struct Held {
    id: String,
    entry: VerifiedEntry,
    private: Private,
}

async fn hold(api: &Api, key: &SigningKey, kind: Kind, body: Value, private: Private) -> Held {
    let entry = sign(key, kind, body);
    let id = api.append_private(&entry, &private).await;
    Held { id, entry, private }
}

/// A small aid effort in which every kind that can carry private data carries it.
struct Scene {
    moderator: SigningKey,
    /// Registered `org`, posted `need`.
    hospital: SigningKey,
    /// A second member of `org`, granted by the operator.
    member: SigningKey,
    /// Registered `other_org`, posted `other_need`.
    other_hospital: SigningKey,
    /// Posted `offer`, pledged `pledge` to `need` (accepted by `member`), shipped
    /// `shipment`.
    donor: SigningKey,
    /// Pledged `other_pledge` to `other_need` (accepted by `other_hospital`).
    other_donor: SigningKey,
    /// Pledged one unit to `need`, never accepted.
    harvester: SigningKey,
    stranger: SigningKey,
    org: Held,
    other_org: Held,
    need: Held,
    other_need: Held,
    offer: Held,
    pledge: Held,
    shipment: Held,
    other_pledge: Held,
    /// An offer without private data.
    plain_offer: String,
}

async fn scene(api: &Api, tag: &str) -> Scene {
    let (moderator, hospital, member, other_hospital) = (key(), key(), key(), key());
    let (donor, other_donor, harvester, stranger) = (key(), key(), key(), key());
    let op = &api.operator;
    api.append(&sign(
        op,
        Kind::RoleGrant,
        json!({"key": public(&moderator), "role": "moderator"}),
    ))
    .await;
    let p = |what: &str| Private::new(canary_contact(&format!("{tag}-{what}")));

    let private = p("org");
    let org = hold(
        api,
        &hospital,
        Kind::OrgRegister,
        org_body(tag, Some(&private)),
        private,
    )
    .await;
    api.append(&sign(
        op,
        Kind::RoleGrant,
        json!({"key": public(&member), "role": "member", "org": org.id}),
    ))
    .await;
    let private = p("other-org");
    let other_org = hold(
        api,
        &other_hospital,
        Kind::OrgRegister,
        org_body(&format!("{tag} other"), Some(&private)),
        private,
    )
    .await;
    let private = p("need");
    let need = hold(
        api,
        &hospital,
        Kind::NeedPost,
        need_body(&org.id, tag, Some(&private)),
        private,
    )
    .await;
    let private = p("other-need");
    let other_need = hold(
        api,
        &other_hospital,
        Kind::NeedPost,
        need_body(&other_org.id, &format!("{tag} other"), Some(&private)),
        private,
    )
    .await;
    let private = p("offer");
    let offer = hold(
        api,
        &donor,
        Kind::OfferPost,
        offer_body(tag, Some(&private)),
        private,
    )
    .await;
    let private = p("pledge");
    let pledge = hold(
        api,
        &donor,
        Kind::Pledge,
        pledge_body(&need.id, Some(&offer.id), 100, Some(&private)),
        private,
    )
    .await;
    api.append(&sign(
        &member,
        Kind::PledgeAccept,
        json!({"pledge": pledge.id}),
    ))
    .await;
    let private = p("shipment");
    let shipment = hold(
        api,
        &donor,
        Kind::Shipment,
        shipment_body(&pledge.id, 100, Some(&private)),
        private,
    )
    .await;
    let private = p("other-pledge");
    let other_pledge = hold(
        api,
        &other_donor,
        Kind::Pledge,
        pledge_body(&other_need.id, None, 50, Some(&private)),
        private,
    )
    .await;
    api.append(&sign(
        &other_hospital,
        Kind::PledgeAccept,
        json!({"pledge": other_pledge.id}),
    ))
    .await;
    api.append(&sign(
        &harvester,
        Kind::Pledge,
        pledge_body(&need.id, None, 1, None),
    ))
    .await;
    let plain_offer = api
        .append(&sign(
            &donor,
            Kind::OfferPost,
            offer_body(&format!("{tag} plain"), None),
        ))
        .await;
    Scene {
        moderator,
        hospital,
        member,
        other_hospital,
        donor,
        other_donor,
        harvester,
        stranger,
        org,
        other_org,
        need,
        other_need,
        offer,
        pledge,
        shipment,
        other_pledge,
        plain_offer,
    }
}

// ---------------------------------------------------------------------------------
// The database
// ---------------------------------------------------------------------------------

/// The instance's database (SQLite file or PostgreSQL), for reading it directly.
async fn open_db(data_dir: &Path) -> sqlx::AnyPool {
    common::open_db(data_dir).await
}

/// Every table (but the migrations'), each row as `quote(col)|quote(col)|…`, sorted.
async fn tables(data_dir: &Path) -> BTreeMap<String, Vec<String>> {
    let pool = open_db(data_dir).await;
    let names = common::table_names(&pool).await;
    for wanted in [
        "entries",
        "checkpoints",
        "pd_contacts",
        "pd_reads",
        "wf_posts",
    ] {
        assert!(names.iter().any(|n| n == wanted), "no table {wanted}");
    }
    let mut out = BTreeMap::new();
    for table in names {
        let rows = common::table_rows(&pool, &table).await;
        out.insert(table, rows);
    }
    pool.close().await;
    out
}

/// The stored private data row of `entry`: (salt, data, erased_at, erased_reason).
type ContactRow = (
    Option<Vec<u8>>,
    Option<String>,
    Option<String>,
    Option<String>,
);

async fn contact_row(data_dir: &Path, entry: &str) -> Option<ContactRow> {
    let pool = open_db(data_dir).await;
    let row = sqlx::query(
        "SELECT salt, data, erased_at, erased_reason FROM pd_contacts WHERE entry = $1",
    )
    .bind(hex::decode(entry).unwrap())
    .fetch_optional(&pool)
    .await
    .unwrap()
    .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)));
    pool.close().await;
    row
}

async fn count(data_dir: &Path, sql: &str) -> i64 {
    let pool = open_db(data_dir).await;
    let n = sqlx::query(sql).fetch_one(&pool).await.unwrap().get(0);
    pool.close().await;
    n
}

/// Whether the private data of every one of `held` is erased (read straight from the
/// database, so that polling does not itself read private data).
async fn erased(data_dir: &Path, held: &[&Held]) -> bool {
    for h in held {
        match contact_row(data_dir, &h.id).await {
            Some((_, _, Some(_), _)) => {}
            _ => return false,
        }
    }
    true
}

/// Decoded entries of the log, by index.
async fn log_entries(api: &Api) -> Vec<VerifiedEntry> {
    let reply = api.get("/api/v1/log/entries?start=0&limit=1000").await;
    assert_eq!(reply.status, 200);
    reply.json()["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let leaf = BASE64_STANDARD.decode(e["leaf"].as_str().unwrap()).unwrap();
            VerifiedEntry::from_leaf(&leaf).expect("served leaves verify")
        })
        .collect()
}

// ---------------------------------------------------------------------------------
// The binary
// ---------------------------------------------------------------------------------

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

/// Runs `aidledger` off the async runtime (so an in-process server keeps serving).
async fn run_cli(args: &[&str], log_level: &str) -> Run {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let level = log_level.to_owned();
    tokio::task::spawn_blocking(move || {
        let output = Command::new(env!("CARGO_BIN_EXE_aidledger"))
            .args(&args)
            .env_remove("AIDLEDGER_URL")
            .env_remove("AIDLEDGER_DATA_DIR")
            .env("RUST_LOG", level)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .expect("the binary runs");
        Run {
            ok: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    })
    .await
    .unwrap()
}

async fn verify_url(api: &Api, log_level: &str) -> Run {
    let run = run_cli(&["verify", "--url", &api.url], log_level).await;
    assert!(
        run.ok && run.stdout.contains("OK:"),
        "aidledger verify --url should pass\nstdout: {}\nstderr: {}",
        run.stdout,
        run.stderr
    );
    run
}

/// Polls `check` until it holds, for at most `limit`.
async fn eventually<F, Fut>(what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

// ---------------------------------------------------------------------------------
// 1. Submissions with private data
// ---------------------------------------------------------------------------------

#[test]
fn the_commitment_is_sha256_of_salt_then_rfc8785_json() {
    // Computed independently: sha256(bytes([0x11] * 32) +
    //   b'{"address":"1 Road","name":"A","phone":"+1 555"}')
    let contact: Contact =
        serde_json::from_value(json!({"phone": "+1 555", "name": "A", "address": "1 Road"}))
            .unwrap();
    assert_eq!(
        moderation::private::commitment(&[0x11; 32], &contact),
        "75b949e50214b8044318f647d620b289c00ae254a1aceaa7062565f677784a99"
    );
}

#[tokio::test]
async fn a_submission_stores_its_private_data_for_the_author_to_read_back() {
    let instance = start(no_retention()).await;
    let api = &instance.api;
    let client = LogClient::new(&api.url);
    let hospital = key();
    let private = Private::new(json!({
        "name": "Dr. Li Wen 李文",
        "phone": "+86 (27) 8572-6114",
        "email": "logistics@hospital.example",
        "address": "1277 Jiefang Avenue, Wuhan",
    }));
    let org = sign(
        &hospital,
        Kind::OrgRegister,
        org_body("happy", Some(&private)),
    );
    let before = api.size().await;
    let (status, submitted) = client
        .submit_private(org.leaf(), &private.sidecar())
        .await
        .expect("the submission is accepted");
    assert_eq!(status, 201);
    assert_eq!(submitted.leaf_hash, id(&org));
    assert_eq!(submitted.tree_size, before + 1);
    assert_eq!(api.size().await, before + 1);

    // The author reads it back, exactly as submitted.
    let opened: Value = client
        .get_signed(&format!("/api/v1/private/{}", id(&org)), &hospital)
        .await
        .expect("the author may read");
    assert_eq!(opened, private.opened(&id(&org)));

    // Stored off the log: the salt and the canonical JSON of the contact.
    let (salt, data, erased_at, _) = contact_row(&api.data_dir, &id(&org)).await.unwrap();
    assert_eq!(hex::encode(salt.unwrap()), private.salt);
    assert_eq!(
        serde_json::from_str::<Value>(&data.unwrap()).unwrap(),
        private.contact
    );
    assert_eq!(erased_at, None);
    // The entry holds only the commitment.
    let leaf: Value = serde_json::from_slice(org.leaf()).unwrap();
    assert_eq!(leaf["body"]["contact"], json!(private.commitment));
    assert!(!String::from_utf8_lossy(org.leaf()).contains("Li Wen"));

    // Every kind that carries a commitment is accepted the same way.
    let donor = key();
    let p = Private::new(json!({"phone": "+86 27 8572 6114"}));
    let need = hold(
        api,
        &hospital,
        Kind::NeedPost,
        need_body(&id(&org), "happy", Some(&p)),
        p,
    )
    .await;
    let p = Private::new(json!({"email": "donor@example.org"}));
    let offer = hold(
        api,
        &donor,
        Kind::OfferPost,
        offer_body("happy", Some(&p)),
        p,
    )
    .await;
    let p = Private::new(json!({"address": "12 Harbour Road, Hong Kong"}));
    let pledge = hold(
        api,
        &donor,
        Kind::Pledge,
        pledge_body(&need.id, Some(&offer.id), 10, Some(&p)),
        p,
    )
    .await;
    let p = Private::new(json!({"name": "Driver Chen", "phone": "138-0000-0000"}));
    let shipment = hold(
        api,
        &donor,
        Kind::Shipment,
        shipment_body(&pledge.id, 10, Some(&p)),
        p,
    )
    .await;
    for (held, author) in [
        (&need, &hospital),
        (&offer, &donor),
        (&pledge, &donor),
        (&shipment, &donor),
    ] {
        let reply = api.read_private(&held.id, author).await;
        assert_eq!(
            reply.status,
            200,
            "{:?}: {}",
            held.entry.kind(),
            reply.text()
        );
        assert_eq!(reply.json(), held.private.opened(&held.id));
    }
    assert_eq!(
        count(&api.data_dir, "SELECT COUNT(*) FROM pd_contacts").await,
        5
    );

    // Submitting the same entry and data again is a duplicate: 200, nothing changes.
    let state = api.state().await;
    let reply = api
        .submission(submission(&org, Some(private.sidecar())))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["leaf_hash"], id(&org));
    assert_eq!(api.state().await, state);
}

/// (what, endpoint, body, status, words the error must contain)
type Case<'a> = (&'a str, &'a str, Vec<u8>, u16, Vec<&'a str>);

#[tokio::test]
async fn refused_submissions_name_the_problem_and_change_nothing() {
    let instance = start(no_retention()).await;
    let api = &instance.api;
    let hospital = key();
    let org = api
        .append(&sign(
            &hospital,
            Kind::OrgRegister,
            org_body("refusals", None),
        ))
        .await;
    let private = Private::new(canary_contact("refused"));
    let committed = sign(
        &hospital,
        Kind::NeedPost,
        need_body(&org, "refused", Some(&private)),
    );
    let uncommitted = sign(&hospital, Kind::NeedPost, need_body(&org, "plain", None));
    let leaf = std::str::from_utf8(committed.leaf()).unwrap().to_owned();

    let other_salt = Private::with_salt(rand::random(), private.contact.clone());
    let mut other_contact = private.contact.clone();
    other_contact["name"] = json!("Somebody Else");
    let sidecar_with = |salt: &str, contact: Value| json!({"salt": salt, "contact": contact});
    let with_field = |field: &str, value: Value| {
        let mut c = private.contact.clone();
        c[field] = value;
        sidecar_with(&private.salt, c)
    };
    let raw = |v: Value| serde_json::to_vec(&v).unwrap();

    let cases: Vec<Case> = vec![
        (
            "wrong salt",
            "/api/v1/submissions",
            submission(&committed, Some(other_salt.sidecar())),
            400,
            vec!["commitment"],
        ),
        (
            "data that does not match the commitment",
            "/api/v1/submissions",
            submission(&committed, Some(sidecar_with(&private.salt, other_contact))),
            400,
            vec!["commitment"],
        ),
        (
            "committed entry without its private data",
            "/api/v1/submissions",
            submission(&committed, None),
            400,
            vec!["private data", "commitment"],
        ),
        (
            "private data for an entry without commitment",
            "/api/v1/submissions",
            submission(&uncommitted, Some(private.sidecar())),
            400,
            vec!["no contact commitment"],
        ),
        (
            "committed entry through the bare entries endpoint",
            "/api/v1/entries",
            committed.leaf().to_vec(),
            400,
            vec!["/api/v1/submissions"],
        ),
        (
            "malformed JSON",
            "/api/v1/submissions",
            format!(
                "{{\"entry\": {}, \"private\": {{\"salt\": \"{}\", \"contact\": {{\"name\": ",
                json!(leaf),
                private.salt
            )
            .into_bytes(),
            400,
            vec!["a submission is json"],
        ),
        (
            "private data that is not an object",
            "/api/v1/submissions",
            raw(json!({"entry": leaf, "private": "CANARY-NAME-7f3a[string]"})),
            400,
            vec!["private"],
        ),
        (
            "private data that is null",
            "/api/v1/submissions",
            raw(json!({"entry": leaf, "private": null})),
            400,
            vec!["private"],
        ),
        (
            "private data with an unknown field",
            "/api/v1/submissions",
            raw(
                json!({"entry": leaf, "private": {"salt": private.salt, "contact": private.contact, "note": "x"}}),
            ),
            400,
            vec!["private"],
        ),
        (
            "contact with an unknown field",
            "/api/v1/submissions",
            submission(&committed, Some(with_field("fax", json!("+86 27 0000")))),
            400,
            vec!["private"],
        ),
        (
            "contact field that is not a string",
            "/api/v1/submissions",
            submission(&committed, Some(with_field("name", json!(["a", "b"])))),
            400,
            vec!["private"],
        ),
        (
            "salt that is not hex",
            "/api/v1/submissions",
            submission(
                &committed,
                Some(sidecar_with("not-a-salt", private.contact.clone())),
            ),
            400,
            vec!["private.salt"],
        ),
        (
            "salt in upper case",
            "/api/v1/submissions",
            submission(
                &committed,
                Some(sidecar_with(
                    &private.salt.to_uppercase(),
                    private.contact.clone(),
                )),
            ),
            400,
            vec!["private.salt"],
        ),
        (
            "empty contact",
            "/api/v1/submissions",
            submission(&committed, Some(sidecar_with(&private.salt, json!({})))),
            400,
            vec!["at least one"],
        ),
        (
            "invalid phone",
            "/api/v1/submissions",
            submission(&committed, Some(with_field("phone", json!("call me")))),
            400,
            vec!["contact.phone"],
        ),
        (
            "invalid e-mail",
            "/api/v1/submissions",
            submission(&committed, Some(with_field("email", json!("nobody")))),
            400,
            vec!["contact.email"],
        ),
        (
            "overlong name",
            "/api/v1/submissions",
            submission(&committed, Some(with_field("name", json!("n".repeat(201))))),
            400,
            vec!["contact.name"],
        ),
        (
            "blank address",
            "/api/v1/submissions",
            submission(&committed, Some(with_field("address", json!("  ")))),
            400,
            vec!["contact.address"],
        ),
        (
            "NUL in a name",
            "/api/v1/submissions",
            submission(&committed, Some(with_field("name", json!("Dr\u{0} Li")))),
            400,
            vec!["contact.name", "control characters"],
        ),
        (
            "terminal escape in an address",
            "/api/v1/submissions",
            submission(
                &committed,
                Some(with_field("address", json!("Road 1\u{1b}[2J"))),
            ),
            400,
            vec!["contact.address", "control characters"],
        ),
        (
            "entry that is not a string",
            "/api/v1/submissions",
            raw(
                json!({"entry": serde_json::from_str::<Value>(&leaf).unwrap(), "private": private.sidecar()}),
            ),
            400,
            vec!["a submission is json"],
        ),
        (
            "no entry",
            "/api/v1/submissions",
            raw(json!({"private": private.sidecar()})),
            400,
            vec!["a submission is json"],
        ),
        (
            "an extra top-level field",
            "/api/v1/submissions",
            raw(json!({"entry": leaf, "private": private.sidecar(), "x": 1})),
            400,
            vec!["a submission is json"],
        ),
        (
            "an entry with a bad signature",
            "/api/v1/submissions",
            raw(
                json!({"entry": leaf.replace("\"sig\":\"", "\"sig\":\"00"), "private": private.sidecar()}),
            ),
            400,
            vec!["sig"],
        ),
    ];
    let before = api.state().await;
    let size = api.size().await;
    for (what, path, body, status, needles) in cases {
        let reply = api.post(path, body).await;
        reply.refused(what, status, &needles);
        assert_eq!(api.state().await, before, "{what} changed the database");
        assert_eq!(api.size().await, size, "{what} changed the tree size");
    }
    // The form of the contact is refused with a code the app translates; the code and
    // the field's path never carry the data.
    for (field, value, code) in [
        ("phone", json!("call me"), "phone"),
        ("email", json!("nobody"), "email"),
        ("name", json!("n".repeat(201)), "too_long"),
    ] {
        let reply = api
            .post(
                "/api/v1/submissions",
                submission(&committed, Some(with_field(field, value))),
            )
            .await;
        let fault = &reply.json()["fault"];
        assert_eq!(fault["code"], code, "{field}");
        assert_eq!(fault["field"], format!("contact.{field}"));
    }

    // A well-formed submission the workflow rules refuse stores no private data either.
    let unknown_org = "ab".repeat(32);
    let p = Private::new(canary_contact("denied"));
    let denied = sign(
        &hospital,
        Kind::NeedPost,
        need_body(&unknown_org, "denied", Some(&p)),
    );
    let reply = api.submission(submission(&denied, Some(p.sidecar()))).await;
    reply.refused("need of an unknown organisation", 422, &["org"]);
    assert_eq!(api.state().await, before);

    // The entry itself was fine all along: with its data it is accepted.
    api.append_private(&committed, &private).await;
    assert_eq!(api.size().await, size + 1);
    let after = tables(&api.data_dir).await;
    assert_eq!(
        after["pd_contacts"].len(),
        before.1["pd_contacts"].len() + 1
    );
}

// ---------------------------------------------------------------------------------
// 2. Access
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn only_moderators_authors_and_counterparts_read_private_data_and_each_read_is_recorded() {
    let instance = start(no_retention()).await;
    let api = &instance.api;
    let s = scene(api, "access").await;
    let started = OffsetDateTime::now_utc() - time::Duration::seconds(2);

    // (entry, reader, who) that may read.
    let allowed: Vec<(&Held, &SigningKey, &str)> = vec![
        (&s.org, &s.hospital, "the organisation's registrant"),
        (&s.org, &s.moderator, "a moderator"),
        (&s.org, &api.operator, "the operator (a moderator)"),
        (&s.need, &s.hospital, "the need's author"),
        (&s.need, &s.moderator, "a moderator"),
        (
            &s.need,
            &s.donor,
            "a donor whose pledge to the need was accepted",
        ),
        (&s.offer, &s.donor, "the offer's author"),
        (&s.offer, &s.moderator, "a moderator"),
        (&s.pledge, &s.donor, "the pledge's author"),
        (
            &s.pledge,
            &s.hospital,
            "a member of the receiving organisation",
        ),
        (
            &s.pledge,
            &s.member,
            "another member of the receiving organisation",
        ),
        (&s.pledge, &s.moderator, "a moderator"),
        (&s.shipment, &s.donor, "the shipment's author"),
        (
            &s.shipment,
            &s.hospital,
            "a member of the receiving organisation",
        ),
        (
            &s.shipment,
            &s.member,
            "another member of the receiving organisation",
        ),
        (&s.shipment, &s.moderator, "a moderator"),
        (
            &s.other_need,
            &s.other_donor,
            "a donor whose pledge to the need was accepted",
        ),
        (
            &s.other_pledge,
            &s.other_hospital,
            "a member of the receiving organisation",
        ),
    ];
    let mut expected_reads: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (held, reader, who) in &allowed {
        let reply = api.read_private(&held.id, reader).await;
        assert_eq!(reply.status, 200, "{who}: {}", reply.text());
        assert_eq!(reply.json(), held.private.opened(&held.id), "{who}");
        expected_reads
            .entry(held.id.clone())
            .or_default()
            .push(public(reader));
    }
    let pd_reads = count(&api.data_dir, "SELECT COUNT(*) FROM pd_reads").await;
    assert_eq!(pd_reads as usize, allowed.len());

    // Everyone else is refused, and a refused read is not a read.
    let forbidden: Vec<(&Held, &SigningKey, &str)> = vec![
        (&s.org, &s.stranger, "a stranger"),
        (&s.org, &s.other_hospital, "another organisation's member"),
        (&s.need, &s.stranger, "a stranger"),
        (
            &s.need,
            &s.harvester,
            "a donor whose pledge was not accepted",
        ),
        (&s.need, &s.other_hospital, "another organisation's member"),
        (
            &s.need,
            &s.other_donor,
            "a donor who pledged to another need",
        ),
        (&s.offer, &s.stranger, "a stranger"),
        (&s.offer, &s.other_donor, "another donor"),
        (&s.pledge, &s.stranger, "a stranger"),
        (
            &s.pledge,
            &s.other_hospital,
            "a member of another organisation",
        ),
        (&s.pledge, &s.other_donor, "another donor"),
        (&s.shipment, &s.stranger, "a stranger"),
        (
            &s.shipment,
            &s.other_hospital,
            "a member of another organisation",
        ),
        (&s.other_need, &s.donor, "a donor who did not pledge to it"),
        (
            &s.other_pledge,
            &s.hospital,
            "a member of an unrelated organisation",
        ),
        (&s.other_pledge, &s.donor, "another donor"),
    ];
    for (held, reader, who) in &forbidden {
        let reply = api.read_private(&held.id, reader).await;
        reply.refused(who, 403, &["only moderators"]);
    }
    // Unsigned: 401.
    for held in [&s.org, &s.need, &s.pledge] {
        let reply = api.get(&format!("/api/v1/private/{}", held.id)).await;
        reply.refused("an unsigned read", 401, &["signed request"]);
    }
    // No such private data / not an entry id.
    let reply = api.read_private(&s.plain_offer, &s.moderator).await;
    reply.refused("an entry without private data", 404, &["no private data"]);
    let reply = api.read_private("not-a-hash", &s.moderator).await;
    reply.refused("a malformed id", 400, &["64 lowercase hex"]);
    assert_eq!(
        count(&api.data_dir, "SELECT COUNT(*) FROM pd_reads").await,
        pd_reads,
        "refused reads are not recorded"
    );

    // The record of reads: who and when, for the author and moderators only.
    let now = OffsetDateTime::now_utc() + time::Duration::seconds(2);
    let authors: BTreeMap<&str, &SigningKey> = [
        (&s.org, &s.hospital),
        (&s.need, &s.hospital),
        (&s.offer, &s.donor),
        (&s.pledge, &s.donor),
        (&s.shipment, &s.donor),
        (&s.other_need, &s.other_hospital),
        (&s.other_pledge, &s.other_donor),
    ]
    .into_iter()
    .map(|(h, k)| (h.id.as_str(), k))
    .collect();
    for (entry, readers) in &expected_reads {
        let author = authors[entry.as_str()];
        for viewer in [author, &s.moderator, &api.operator] {
            let reply = api.read_log(entry, viewer).await;
            assert_eq!(reply.status, 200, "{}", reply.text());
            let reads = reply.json()["reads"].as_array().unwrap().clone();
            let who: Vec<String> = reads
                .iter()
                .map(|r| r["reader"].as_str().unwrap().to_owned())
                .collect();
            assert_eq!(&who, readers, "the reads of {entry}, in order");
            for r in &reads {
                let at = parse_timestamp(r["at"].as_str().unwrap()).expect("`at` is a timestamp");
                assert!(at >= started && at <= now, "read at {at}");
                assert_eq!(r.as_object().unwrap().len(), 2, "{r}");
            }
        }
    }
    // Counterparts and strangers may not see who read.
    let refused_logs: Vec<(&Held, &SigningKey, &str)> = vec![
        (&s.pledge, &s.hospital, "the counterpart"),
        (&s.pledge, &s.member, "the counterpart"),
        (&s.need, &s.donor, "the counterpart"),
        (&s.need, &s.stranger, "a stranger"),
        (&s.org, &s.member, "a fellow member who is not the author"),
    ];
    for (held, key, who) in refused_logs {
        let reply = api.read_log(&held.id, key).await;
        reply.refused(who, 403, &["only moderators and the entry's author"]);
    }
    let reply = api
        .get(&format!("/api/v1/private/{}/reads", s.need.id))
        .await;
    reply.refused(
        "an unsigned request for the reads",
        401,
        &["signed request"],
    );
}

/// The contact exchange (docs/FORMAT.md §8): a pledge alone opens nothing; only the
/// need's side may accept, once; acceptance opens the need's contact to that donor, is
/// part of the verifiable chain, and the read shows in the need's record of reads.
#[tokio::test]
async fn a_needs_contact_opens_to_a_donor_only_once_the_hospital_accepts_the_pledge() {
    let instance = start(no_retention()).await;
    let api = &instance.api;
    let s = scene(api, "accept").await;
    let donor = key();
    let pledge = api
        .append(&sign(
            &donor,
            Kind::Pledge,
            pledge_body(&s.need.id, None, 1, None),
        ))
        .await;
    api.read_private(&s.need.id, &donor).await.refused(
        "a donor whose pledge is not accepted",
        403,
        &["accepts the pledge"],
    );

    let before = api.state().await;
    let accept = |pledge: &str| json!({"pledge": pledge});
    let refused: Vec<(&SigningKey, Value, u16, &str, &str)> = vec![
        (
            &donor,
            accept(&pledge),
            403,
            "the donor itself",
            "only the need's author or a member",
        ),
        (
            &s.other_hospital,
            accept(&pledge),
            403,
            "another organisation's member",
            "only the need's author or a member",
        ),
        (
            &s.stranger,
            accept(&pledge),
            403,
            "a stranger",
            "only the need's author or a member",
        ),
        (
            &s.hospital,
            accept(&s.shipment.id),
            422,
            "a shipment's id",
            "no pledge in the log",
        ),
        (
            &s.hospital,
            accept(&s.need.id),
            422,
            "a need's id",
            "no pledge in the log",
        ),
        (
            &s.member,
            json!({"pledge": s.pledge.id, "note": "again"}),
            409,
            "a pledge already accepted",
            "already accepted",
        ),
    ];
    for (author, body, status, who, needle) in refused {
        let reply = api.submit(&sign(author, Kind::PledgeAccept, body)).await;
        reply.refused(who, status, &[needle]);
    }
    assert_eq!(
        api.state().await,
        before,
        "refused acceptances change nothing"
    );
    api.read_private(&s.need.id, &donor).await.refused(
        "still not accepted",
        403,
        &["accepts the pledge"],
    );

    let acceptance = api
        .append(&sign(
            &s.hospital,
            Kind::PledgeAccept,
            json!({"pledge": pledge, "note": "Dock B, weekdays 8-17"}),
        ))
        .await;
    let reply = api.read_private(&s.need.id, &donor).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json(), s.need.private.opened(&s.need.id));
    let reads = api.read_log(&s.need.id, &s.hospital).await.json();
    let readers: Vec<&str> = reads["reads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reader"].as_str().unwrap())
        .collect();
    assert_eq!(
        readers,
        [public(&donor)],
        "the hospital sees who read its contact"
    );

    // The acceptance is a link of the pledge's chain, after the pledge, and verifies.
    let trace = api.get(&format!("/api/v1/trace/{pledge}")).await;
    assert_eq!(trace.status, 200, "{}", trace.text());
    let trace: contract::Trace = serde_json::from_str(&trace.text()).unwrap();
    let kinds: Vec<(&str, Option<&str>)> = trace
        .links
        .iter()
        .map(|l| (l.kind.as_str(), l.parent.as_deref()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("need.post", None),
            ("pledge", Some(s.need.id.as_str())),
            ("pledge.accept", Some(pledge.as_str())),
        ]
    );
    assert_eq!(trace.links[2].leaf_hash, acceptance);
    ledger::chain::verify(&trace, &LogVerifier::new(&api.vkey).unwrap())
        .expect("the chain with its acceptance verifies");
}

#[tokio::test]
async fn reads_need_a_valid_fresh_signature_of_that_very_request() {
    let instance = start(no_retention()).await;
    let api = &instance.api;
    let hospital = key();
    let private = Private::new(canary_contact("auth"));
    let org = hold(
        api,
        &hospital,
        Kind::OrgRegister,
        org_body("auth", Some(&private)),
        private,
    )
    .await;
    let path = format!("/api/v1/private/{}", org.id);
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let header = |signer: &SigningKey, claimed: &SigningKey, method: &str, p: &str, ts: i64| {
        let sig = signer.sign(request_message(method, p, ts).as_bytes());
        format!(
            "Aidledger key={}, ts={ts}, sig={}",
            public(claimed),
            hex::encode(sig.to_bytes())
        )
    };
    let valid_sig = hex::encode(
        hospital
            .sign(request_message("GET", &path, now).as_bytes())
            .to_bytes(),
    );
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "another key's signature",
            header(&key(), &hospital, "GET", &path, now),
            "does not verify",
        ),
        (
            "a signature of another path",
            header(&hospital, &hospital, "GET", "/api/v1/private/00", now),
            "does not verify",
        ),
        (
            "a signature of another method",
            header(&hospital, &hospital, "POST", &path, now),
            "does not verify",
        ),
        (
            "a timestamp other than the signed one",
            format!(
                "Aidledger key={}, ts={}, sig={valid_sig}",
                public(&hospital),
                now + 1
            ),
            "does not verify",
        ),
        (
            "a stale timestamp",
            header(&hospital, &hospital, "GET", &path, now - 301 - 30),
            "300 seconds",
        ),
        (
            "a timestamp in the future",
            header(&hospital, &hospital, "GET", &path, now + 301 + 30),
            "300 seconds",
        ),
        (
            "a signature that is not hex",
            format!("Aidledger key={}, ts={now}, sig=xyz", public(&hospital)),
            "sig",
        ),
        (
            "a key that is not a key",
            format!("Aidledger key=abc, ts={now}, sig={valid_sig}"),
            "key",
        ),
        (
            "a missing signature",
            format!("Aidledger key={}, ts={now}", public(&hospital)),
            "sig",
        ),
        (
            "an unknown parameter",
            format!(
                "Aidledger key={}, ts={now}, sig={valid_sig}, x=1",
                public(&hospital)
            ),
            "unknown parameter",
        ),
        ("another scheme", "Bearer abc".to_owned(), "scheme"),
    ];
    for (what, auth, needle) in cases {
        let reply = api.get_auth(&path, auth).await;
        reply.refused(what, 401, &[needle]);
    }
    assert_eq!(
        count(&api.data_dir, "SELECT COUNT(*) FROM pd_reads").await,
        0
    );
    // The same request, signed properly, is answered.
    let reply = api
        .get_auth(&path, header(&hospital, &hospital, "GET", &path, now))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json(), org.private.opened(&org.id));
}

// ---------------------------------------------------------------------------------
// 3. Erasure
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_redaction_by_the_author_or_a_moderator_erases_the_data_and_the_log_still_verifies() {
    let instance = start(no_retention()).await;
    let api = &instance.api;
    let s = scene(api, "erase").await;

    // Neither a stranger nor a counterpart may erase.
    let state = api.state().await;
    for (who, key, held) in [
        ("a stranger", &s.stranger, &s.need),
        (
            "the counterpart (hospital) of a pledge",
            &s.hospital,
            &s.pledge,
        ),
        ("the counterpart (donor) of a need", &s.donor, &s.need),
        ("a fellow member of the organisation", &s.member, &s.org),
    ] {
        let reply = api.submit(&redaction(key, &held.id)).await;
        reply.refused(who, 403, &["author or a moderator"]);
    }
    let reply = api.submit(&redaction(&s.moderator, &s.plain_offer)).await;
    reply.refused("erasing an entry without private data", 422, &["entry"]);
    assert_eq!(
        api.state().await,
        state,
        "refused redactions change nothing"
    );

    // The author erases the need's data.
    let erasure = redaction(&s.hospital, &s.need.id);
    api.append(&erasure).await;
    for (who, key) in [
        ("the author", &s.hospital),
        ("a moderator", &s.moderator),
        ("the counterpart", &s.donor),
    ] {
        let reply = api.read_private(&s.need.id, key).await;
        reply.refused(who, 410, &["erased", "request"]);
    }
    let reply = api.read_private(&s.need.id, &s.stranger).await;
    reply.refused("a stranger, after erasure", 403, &[]);
    let (salt, data, erased_at, reason) = contact_row(&api.data_dir, &s.need.id).await.unwrap();
    assert_eq!((salt, data), (None, None), "salt and data are deleted");
    assert_eq!(
        erased_at.as_deref(),
        Some(erasure.entry().created_at.as_str())
    );
    assert_eq!(reason.as_deref(), Some("request"));

    // A moderator erases the donor's pledge data.
    api.append(&redaction(&s.moderator, &s.pledge.id)).await;
    let reply = api.read_private(&s.pledge.id, &s.donor).await;
    reply.refused("the pledge's author, after erasure", 410, &["erased"]);

    // The very same redaction again is a duplicate of the one in the log.
    let reply = api.submit(&erasure).await;
    assert_eq!(reply.status, 200, "a duplicate: {}", reply.text());
    // Any other is refused: not twice, by anyone. (A second later, so that no entry
    // below is a byte-for-byte duplicate of the ones above.)
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let state = api.state().await;
    for (who, key, held) in [
        ("the author again", &s.hospital, &s.need),
        ("a moderator after the author", &s.moderator, &s.need),
        ("the author after a moderator", &s.donor, &s.pledge),
        ("the operator after a moderator", &api.operator, &s.pledge),
    ] {
        let reply = api.submit(&redaction(key, &held.id)).await;
        reply.refused(who, 409, &["already erased"]);
    }
    // Resubmitting the original entry with its data does not bring it back.
    let reply = api
        .submission(submission(&s.need.entry, Some(s.need.private.sidecar())))
        .await;
    assert_eq!(reply.status, 200, "a duplicate: {}", reply.text());
    assert_eq!(api.state().await, state);
    let reply = api.read_private(&s.need.id, &s.hospital).await;
    assert_eq!(reply.status, 410);

    // Everything else is untouched.
    for (held, key) in [
        (&s.shipment, &s.hospital),
        (&s.offer, &s.donor),
        (&s.org, &s.hospital),
        (&s.other_need, &s.other_hospital),
    ] {
        let reply = api.read_private(&held.id, key).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_eq!(reply.json(), held.private.opened(&held.id));
    }
    // The need stays public; the record of past reads stays.
    let reply = api.get(&format!("/api/v1/needs/{}", s.need.id)).await;
    assert_eq!(reply.status, 200);
    let reply = api.read_log(&s.need.id, &s.hospital).await;
    assert_eq!(reply.status, 200);
    // The redactions are in the log, and the log verifies.
    let redactions: Vec<Value> = log_entries(api)
        .await
        .iter()
        .filter(|e| e.kind() == Kind::Redaction)
        .map(|e| e.entry().body.clone())
        .collect();
    assert_eq!(
        redactions,
        vec![
            json!({"entry": s.need.id, "reason": "request"}),
            json!({"entry": s.pledge.id, "reason": "request"}),
        ]
    );
    verify_url(api, "warn").await;
}

#[tokio::test]
async fn the_retention_rule_erases_the_data_of_a_closed_need_its_pledges_and_shipments() {
    let instance = start(Retention {
        days: 0,
        every: Duration::from_secs(1),
    })
    .await;
    let api = &instance.api;
    let s = scene(api, "retention").await;
    // Nothing is closed yet, so nothing is erased.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let redactions = |entries: Vec<VerifiedEntry>| -> Vec<VerifiedEntry> {
        entries
            .into_iter()
            .filter(|e| e.kind() == Kind::Redaction)
            .collect()
    };
    assert!(redactions(log_entries(api).await).is_empty());

    api.append(&sign(
        &s.hospital,
        Kind::NeedUpdate,
        json!({"need": s.need.id, "close": "met"}),
    ))
    .await;
    let purged = [
        (&s.need, &s.hospital),
        (&s.pledge, &s.donor),
        (&s.shipment, &s.donor),
    ];
    let purged_held: &[&Held] = &[&s.need, &s.pledge, &s.shipment];
    eventually("the retention purge", Duration::from_secs(30), move || {
        erased(&api.data_dir, purged_held)
    })
    .await;
    for (held, key) in purged {
        let reply = api.read_private(&held.id, key).await;
        reply.refused("a purged entry", 410, &["erased", "retention"]);
        let (salt, data, erased_at, reason) = contact_row(&api.data_dir, &held.id).await.unwrap();
        assert_eq!((salt, data), (None, None));
        assert!(erased_at.is_some());
        assert_eq!(reason.as_deref(), Some("retention"));
    }
    // One redaction per erased entry, signed by the operator key.
    let logged = redactions(log_entries(api).await);
    let mut erased: Vec<String> = logged
        .iter()
        .map(|e| {
            assert_eq!(
                e.entry().author,
                public(&api.operator),
                "signed by the operator"
            );
            let body = &e.entry().body;
            assert_eq!(body["reason"], "retention");
            assert!(body["rule"].as_str().is_some_and(|r| !r.is_empty()));
            body["entry"].as_str().unwrap().to_owned()
        })
        .collect();
    erased.sort();
    let mut expected: Vec<String> = purged.iter().map(|(h, _)| h.id.clone()).collect();
    expected.sort();
    assert_eq!(erased, expected);

    // Data of open needs, offers and organisations stays.
    for (held, key) in [
        (&s.org, &s.hospital),
        (&s.other_org, &s.other_hospital),
        (&s.other_need, &s.other_hospital),
        (&s.other_pledge, &s.other_donor),
        (&s.offer, &s.donor),
    ] {
        let reply = api.read_private(&held.id, key).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
    }
    // Later runs erase nothing twice.
    let size = api.size().await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(api.size().await, size);
    verify_url(api, "warn").await;
}

/// Every file of the data directory, for the raw-bytes scan.
fn data_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let path = e.ok()?.path();
            let bytes = std::fs::read(&path).ok()?;
            Some((path, bytes))
        })
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Where the erased values of `held` still occur in `stores` (named byte strings: the
/// files of the data directory, or the pages of the database's relations).
fn residue_in(stores: &[(String, Vec<u8>)], held: &[&Held]) -> Vec<String> {
    let mut found = vec![];
    for held in held {
        let contact = held.private.contact.as_object().unwrap();
        let mut needles: Vec<(String, Vec<u8>)> = contact
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().as_bytes().to_vec()))
            .collect();
        needles.push(("salt (hex)".into(), held.private.salt.as_bytes().to_vec()));
        needles.push(("salt".into(), hex::decode(&held.private.salt).unwrap()));
        for (store, bytes) in stores {
            for (name, needle) in &needles {
                if contains(bytes, needle) {
                    found.push(format!("{store}: the {name} of {}", held.entry.kind()));
                }
            }
        }
    }
    found
}

/// Where the erased values of `held` still occur in the files of `dir`.
fn residue(dir: &Path, held: &[&Held]) -> Vec<String> {
    let files: Vec<(String, Vec<u8>)> = data_files(dir)
        .into_iter()
        .map(|(path, bytes)| {
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                bytes,
            )
        })
        .collect();
    residue_in(&files, held)
}

/// PostgreSQL: the raw bytes of every page of every relation of the database's tables
/// (heaps, indexes, TOAST), as the server holds them (read with `pageinspect`), each
/// named "relation page n": what would reach the database's files.
async fn relation_pages(pool: &sqlx::AnyPool) -> Vec<(String, Vec<u8>)> {
    sqlx::query("CREATE EXTENSION IF NOT EXISTS pageinspect")
        .execute(pool)
        .await
        .expect("the pageinspect extension (PostgreSQL contrib) installs");
    let relations: Vec<(String, i64)> = sqlx::query(
        "SELECT c.oid::regclass::text,
                pg_relation_size(c.oid) / current_setting('block_size')::bigint
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname IN ('public', 'pg_toast') AND c.relkind IN ('r', 'i', 't', 'm')
         ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect();
    assert!(relations.iter().any(|(name, _)| name == "pd_contacts"));
    let mut pages = vec![];
    for (relation, blocks) in relations {
        for block in 0..blocks {
            let page: Vec<u8> = sqlx::query("SELECT get_raw_page($1, $2)")
                .bind(&relation)
                .bind(block)
                .fetch_one(pool)
                .await
                .unwrap_or_else(|e| panic!("page {block} of {relation}: {e}"))
                .get(0);
            pages.push((format!("{relation} page {block}"), page));
        }
    }
    pages
}

/// On PostgreSQL, a node without the integrator's lease writes a submission, with its
/// private data, to the `submissions` table until the lease holder decides it: once
/// the entry is erased, none of it is left in the table's pages either (decided rows'
/// old versions included).
#[tokio::test(flavor = "multi_thread")]
async fn erased_private_data_that_waited_in_the_submissions_table_is_gone() {
    if !common::on_postgres() {
        eprintln!("not run on SQLite: it has no submissions table");
        return;
    }
    let instance = start(no_retention()).await;
    let api = &instance.api;
    let url = common::database_url(&api.data_dir).await.unwrap();
    // The test holds the lease: the node writes what it is sent to the table.
    let holder = common::take_lease(&url).await;
    let donor = key();
    let private = Private::new(canary_contact("tabled"));
    let entry = sign(
        &donor,
        Kind::OfferPost,
        offer_body("tabled", Some(&private)),
    );
    let pool = open_db(&api.data_dir).await;
    let tabled = async {
        eventually(
            "the submission waits in the table",
            Duration::from_secs(30),
            || async {
                let waiting: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM submissions WHERE outcome IS NULL AND sidecar IS NOT NULL",
            )
            .fetch_one(&pool)
            .await
            .unwrap();
                waiting == 1
            },
        )
        .await;
        holder.close().await.unwrap();
    };
    let (id, ()) = tokio::join!(api.append_private(&entry, &private), tabled);
    let held = Held { id, entry, private };
    api.append(&redaction(&donor, &held.id)).await;
    let pages = relation_pages(&pool).await;
    pool.close().await;
    let found = residue_in(&pages, &[&held]);
    assert!(
        found.is_empty(),
        "erased private data is still in the database's pages:\n{}",
        found.join("\n")
    );
}

#[tokio::test]
async fn erased_plaintext_is_gone_from_the_data_directory() {
    let instance = start(no_retention()).await;
    let api = &instance.api;
    let s = scene(api, "residue").await;
    api.append(&redaction(&s.hospital, &s.need.id)).await;
    api.append(&redaction(&s.donor, &s.offer.id)).await;
    // The last entry with private data written.
    api.append(&redaction(&s.other_donor, &s.other_pledge.id))
        .await;
    assert_eq!(api.read_private(&s.need.id, &s.hospital).await.status, 410);
    let kept = s.org.private.contact["name"].as_str().unwrap();
    let erased: &[&Held] = &[&s.need, &s.offer, &s.other_pledge];
    if common::on_postgres() {
        // The data directory holds no database here; the analogue is the database's
        // pages: no row version, live or dead (the server vacuums after an erasure),
        // and no leftover bytes of any table, index or TOAST relation hold the values.
        let pool = open_db(&api.data_dir).await;
        let pages = relation_pages(&pool).await;
        pool.close().await;
        // Data not erased is of course still there (the scan does see the pages).
        assert!(pages.iter().any(|(_, b)| contains(b, kept.as_bytes())));
        let found = residue_in(&pages, erased);
        assert!(
            found.is_empty(),
            "erased private data is still in the database's pages:\n{}",
            found.join("\n")
        );
        return;
    }
    // Data not erased is of course still there (the scan does see the files' content).
    assert!(data_files(&api.data_dir)
        .iter()
        .any(|(_, b)| contains(b, kept.as_bytes())));
    let mut found = residue(&api.data_dir, erased);
    // And after the WAL is checkpointed into the database file.
    let pool = open_db(&api.data_dir).await;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    for f in residue(&api.data_dir, erased) {
        found.push(format!("after a checkpoint, {f}"));
    }
    assert!(
        found.is_empty(),
        "erased private data is still in the data directory:\n{}",
        found.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn private_reads_do_not_make_concurrent_submissions_fail() {
    let instance = start(no_retention()).await;
    let api = instance.api.clone();
    let s = scene(&api, "busy").await;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut readers = vec![];
    for _ in 0..4 {
        let (api, stop) = (api.clone(), stop.clone());
        let (id, reader) = (s.need.id.clone(), s.hospital.clone());
        readers.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                assert_eq!(api.read_private(&id, &reader).await.status, 200);
                n += 1;
            }
            n
        }));
    }
    let mut failures = vec![];
    for i in 0..60 {
        // Needs: the rules read (the organisation) before they write.
        let p = Private::new(json!({"phone": format!("+86 27 8572 {i:04}")}));
        let entry = sign(
            &s.hospital,
            Kind::NeedPost,
            need_body(&s.org.id, &format!("busy {i}"), Some(&p)),
        );
        let reply = api.submission(submission(&entry, Some(p.sidecar()))).await;
        if reply.status != 201 {
            failures.push(format!("need {i}: {} {}", reply.status, reply.text()));
        }
    }
    stop.store(true, Ordering::Relaxed);
    let mut reads = 0;
    for r in readers {
        reads += r.await.unwrap();
    }
    assert!(reads > 0);
    assert!(
        failures.is_empty(),
        "{} of 60 submissions failed while {reads} private reads ran:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------
// 4. The canary test
// ---------------------------------------------------------------------------------

/// `aidledger serve` as a child process, its output collected line by line.
struct Child {
    process: std::process::Child,
    readers: Vec<std::thread::JoinHandle<()>>,
    url: String,
}

/// (On the suite's backend: with `--database-url` when that is PostgreSQL.)
async fn spawn_server(data_dir: &Path, lines: Arc<Mutex<Vec<String>>>) -> Child {
    let mut args = vec![
        "serve".to_owned(),
        "--data-dir".to_owned(),
        data_dir.to_str().unwrap().to_owned(),
        "--listen".to_owned(),
        "127.0.0.1:0".to_owned(),
        "--retention-days".to_owned(),
        "0".to_owned(),
    ];
    if let Some(url) = common::database_url(data_dir).await {
        args.extend(["--database-url".to_owned(), url]);
    }
    let mut process = Command::new(env!("CARGO_BIN_EXE_aidledger"))
        .args(&args)
        .env_remove("DATABASE_URL")
        .env_remove("AIDLEDGER_DATA_DIR")
        .env_remove("AIDLEDGER_LISTEN")
        .env_remove("AIDLEDGER_ORIGIN")
        .env_remove("AIDLEDGER_RETENTION_DAYS")
        .env("RUST_LOG", "debug")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("aidledger serve starts");
    let (url_tx, url_rx) = std::sync::mpsc::channel::<String>();
    let mut readers = vec![];
    let stdout: Box<dyn std::io::Read + Send> = Box::new(process.stdout.take().unwrap());
    let stderr: Box<dyn std::io::Read + Send> = Box::new(process.stderr.take().unwrap());
    for (name, stream) in [("stdout", stdout), ("stderr", stderr)] {
        let lines = lines.clone();
        let url_tx = url_tx.clone();
        readers.push(std::thread::spawn(move || {
            let mut reader = std::io::BufReader::new(stream);
            let mut line = Vec::new();
            while reader.read_until(b'\n', &mut line).unwrap_or(0) > 0 {
                let text = String::from_utf8_lossy(&line).trim_end().to_owned();
                if let Some(url) = text.strip_prefix("aidledger serving ") {
                    let _ = url_tx.send(url.to_owned());
                }
                lines.lock().unwrap().push(format!("{name}: {text}"));
                line.clear();
            }
        }));
    }
    let url = url_rx
        .recv_timeout(Duration::from_secs(120))
        .expect("aidledger serve prints its URL");
    Child {
        process,
        readers,
        url,
    }
}

impl Child {
    /// Interrupts the server (as Ctrl-C would), waits for it and its output.
    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.process.id().to_string()])
            .status();
        let start = Instant::now();
        while self.process.try_wait().unwrap().is_none() {
            if start.elapsed() > Duration::from_secs(15) {
                let _ = self.process.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.process.wait();
        for reader in self.readers {
            reader.join().unwrap();
        }
    }
}

/// Finds private values: any "canary" (any case), the canary phone prefix (spaced and
/// compact), every salt, and their hex spellings (as SQLite and PostgreSQL quote blobs).
struct Scanner {
    needles: Vec<(String, Vec<u8>)>,
}

impl Scanner {
    fn new(salts: &[String]) -> Scanner {
        let mut needles: Vec<(String, Vec<u8>)> = ["canary", "139 0000 7", "8613900007"]
            .iter()
            .map(|n| (n.to_string(), n.as_bytes().to_vec()))
            .collect();
        for n in ["canary", "CANARY", "139 0000 7"] {
            needles.push((format!("hex({n})"), hex::encode(n).into_bytes()));
        }
        for salt in salts {
            needles.push((format!("salt {salt}"), salt.as_bytes().to_vec()));
        }
        Scanner { needles }
    }

    /// The needles found in `haystack` (compared in lower case).
    fn scan(&self, haystack: &[u8]) -> Vec<String> {
        let lower = haystack.to_ascii_lowercase();
        self.needles
            .iter()
            .filter(|(_, n)| contains(&lower, n))
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// Scans `bytes`, and if it is JSON every base64 string in it decoded.
    fn scan_deep(&self, bytes: &[u8]) -> Vec<String> {
        fn decoded(v: &Value, out: &mut Vec<Vec<u8>>) {
            match v {
                Value::String(s) => {
                    if let Ok(b) = BASE64_STANDARD.decode(s) {
                        out.push(b);
                    }
                }
                Value::Array(a) => a.iter().for_each(|v| decoded(v, out)),
                Value::Object(o) => o.values().for_each(|v| decoded(v, out)),
                _ => {}
            }
        }
        let mut hits = self.scan(bytes);
        if let Ok(v) = serde_json::from_slice::<Value>(bytes) {
            let mut blobs = vec![];
            decoded(&v, &mut blobs);
            for b in blobs {
                hits.extend(self.scan(&b));
            }
        }
        hits
    }
}

fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Requests every public read endpoint for everything in the log.
async fn sweep(api: &Api) {
    let entries = log_entries(api).await;
    let size = api.size().await;
    assert_eq!(entries.len() as u64, size);
    for path in [
        "/checkpoint",
        "/api/v1/log/key",
        "/api/v1/log/entries",
        "/api/v1/needs",
        "/api/v1/needs?status=open",
        "/api/v1/needs?status=met",
        "/api/v1/needs?verified=verified",
        "/api/v1/needs?verified=pending",
        "/api/v1/needs?category=respirator&area=CN-HB&urgency=critical",
        "/api/v1/needs?page=1&per_page=100",
        "/api/v1/offers",
        "/api/v1/offers?status=open",
        "/api/v1/orgs",
        "/api/v1/orgs?verified=verified",
        "/api/v1/orgs?verified=pending",
        "/api/v1/orgs?verified=rejected",
        "/api/v1/review",
        "/api/v1/review?kind=need.post",
        "/api/v1/review?kind=org.register",
        "/api/v1/review?kind=offer.post",
        "/api/v1/search",
        "/api/v1/search?per_page=100&verified=rejected",
        "/api/v1/search?q=canary",
        "/api/v1/search?q=hospital&per_page=100",
        "/api/v1/search?q=口罩&kind=need",
        "/feeds/needs.atom",
        "/feeds/needs.atom?q=canary",
        "/feeds/needs.atom?q=hospital&verified=pending",
        "/api/v1/export/needs.csv",
        "/api/v1/export/needs.json",
        "/api/v1/export/needs.csv?verified=rejected",
        "/api/v1/export/offers.csv",
        "/api/v1/export/offers.json",
        "/api/v1/export/orgs.csv",
        "/api/v1/export/orgs.json",
        "/api/v1/export/orgs.csv?verified=rejected",
        "/api/v1/export/chains.csv",
        "/api/v1/export/chains.json",
        "/api/v1/export/chains.json?status=met",
    ] {
        let reply = api.get(path).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.text());
    }
    let mut authors = std::collections::BTreeSet::new();
    for (index, e) in entries.iter().enumerate() {
        let id = id(e);
        authors.insert(e.entry().author.clone());
        let reply = api
            .get(&format!(
                "/api/v1/log/proof/inclusion?leaf_hash={id}&tree_size={size}"
            ))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        if index > 0 {
            let reply = api
                .get(&format!(
                    "/api/v1/log/proof/consistency?first={index}&second={size}"
                ))
                .await;
            assert_eq!(reply.status, 200, "{}", reply.text());
        }
        let one = match e.kind() {
            Kind::NeedPost => vec![
                format!("/api/v1/needs/{id}"),
                format!("/api/v1/needs/{id}/matches"),
                format!("/api/v1/trace/{id}"),
            ],
            Kind::OfferPost => vec![
                format!("/api/v1/offers/{id}"),
                format!("/api/v1/offers/{id}/matches"),
            ],
            Kind::OrgRegister => vec![
                format!("/api/v1/orgs/{id}"),
                format!("/api/v1/orgs/{id}/members"),
                format!("/feeds/orgs/{id}.atom"),
            ],
            Kind::Pledge => vec![format!("/api/v1/trace/{id}")],
            _ => vec![],
        };
        for path in one {
            let reply = api.get(&path).await;
            assert_eq!(reply.status, 200, "{path}: {}", reply.text());
        }
    }
    for author in authors {
        for path in [
            format!("/api/v1/authors/{author}/entries"),
            format!("/api/v1/keys/{author}/roles"),
            format!("/api/v1/keys/{author}/activity"),
            format!("/feeds/authors/{author}.atom"),
        ] {
            let reply = api.get(&path).await;
            assert_eq!(reply.status, 200, "{path}: {}", reply.text());
        }
    }
    // Tiles: every hash tile of every level, and the entry bundles.
    let mut tiles = vec![];
    let mut width = size;
    let mut level = 0;
    while width > 0 {
        for n in 0..width / 256 {
            tiles.push(format!("/tile/{level}/{}", ledger::tiles::encode_index(n)));
        }
        if width % 256 > 0 {
            tiles.push(format!(
                "/tile/{level}/{}.p/{}",
                ledger::tiles::encode_index(width / 256),
                width % 256
            ));
        }
        width /= 256;
        level += 1;
    }
    for n in 0..size / 256 {
        tiles.push(format!("/tile/entries/{}", ledger::tiles::encode_index(n)));
    }
    if size % 256 > 0 {
        tiles.push(format!(
            "/tile/entries/{}.p/{}",
            ledger::tiles::encode_index(size / 256),
            size % 256
        ));
    }
    for path in tiles {
        let reply = api.get(&path).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.text());
    }
    // Some refusals of the public API.
    for (path, status) in [
        (
            "/api/v1/needs/0000000000000000000000000000000000000000000000000000000000000000",
            404,
        ),
        (
            "/api/v1/trace/0000000000000000000000000000000000000000000000000000000000000000",
            404,
        ),
        ("/api/v1/log/entries?start=x", 400),
        ("/api/v1/log/proof/inclusion?leaf_hash=00&tree_size=1", 400),
        ("/tile/0/999", 404),
        ("/nowhere", 404),
    ] {
        assert_eq!(api.get(path).await.status, status, "{path}");
    }
}

/// The need, pledge and shipment whose data the retention rule purges.
struct Closed {
    need: Held,
    pledge: Held,
    shipment: Held,
}

/// Private data in every kind that carries it: a scene, and a need with its pledge and
/// shipment to be closed and purged later. Returns the salts of all of it.
async fn every_kind_with_private_data(api: &Api) -> (Scene, Closed, Vec<String>) {
    let s = scene(api, "c").await;
    let mut salts: Vec<String> = [
        &s.org,
        &s.other_org,
        &s.need,
        &s.other_need,
        &s.offer,
        &s.pledge,
        &s.shipment,
        &s.other_pledge,
    ]
    .iter()
    .map(|h| h.private.salt.clone())
    .collect();
    let p = Private::new(canary_contact("c-closed-need"));
    salts.push(p.salt.clone());
    let closed = hold(
        api,
        &s.hospital,
        Kind::NeedPost,
        need_body(&s.org.id, "closed", Some(&p)),
        p,
    )
    .await;
    let p = Private::new(canary_contact("c-closed-pledge"));
    salts.push(p.salt.clone());
    let closed_pledge = hold(
        api,
        &s.other_donor,
        Kind::Pledge,
        pledge_body(&closed.id, None, 200, Some(&p)),
        p,
    )
    .await;
    let p = Private::new(canary_contact("c-closed-shipment"));
    salts.push(p.salt.clone());
    let closed_shipment = hold(
        api,
        &s.other_donor,
        Kind::Shipment,
        shipment_body(&closed_pledge.id, 200, Some(&p)),
        p,
    )
    .await;
    (
        s,
        Closed {
            need: closed,
            pledge: closed_pledge,
            shipment: closed_shipment,
        },
        salts,
    )
}

/// Verdicts, a delivery, a closure and an erasure on request, so that every view has
/// something to show.
async fn verdicts_a_delivery_a_closure_and_an_erasure(api: &Api, s: &Scene, closed: &Closed) {
    for k in [&s.moderator, &api.operator] {
        api.append(&sign(
            k,
            Kind::OrgVerify,
            json!({"org": s.org.id, "verdict": "verified", "reason": "phoned the switchboard"}),
        ))
        .await;
    }
    api.append(&sign(
        &s.moderator,
        Kind::Verdict,
        json!({"entry": s.need.id, "verdict": "verify", "reason": "confirmed"}),
    ))
    .await;
    api.append(&sign(
        &s.hospital,
        Kind::DeliveryConfirm,
        json!({"shipment": s.shipment.id, "items": [{"line": 0, "quantity": 100}], "condition": "good"}),
    ))
    .await;
    api.append(&sign(
        &s.hospital,
        Kind::NeedUpdate,
        json!({"need": closed.need.id, "close": "met"}),
    ))
    .await;
    api.append(&redaction(&s.donor, &s.offer.id)).await;
}

/// Error paths, with canaries in what is refused; adds the salts it used.
async fn refusals_full_of_canaries(api: &Api, s: &Scene, salts: &mut Vec<String>) {
    let bad = Private::new(json!({
        "name": "CANARY-NAME-7f3a[bad-phone]",
        "phone": "+86 139 0000 7f3a",
        "email": "canary7f3a.bad-phone@example.org",
        "address": "CANARY-ADDR-7f3a[bad-phone] Road",
    }));
    salts.push(bad.salt.clone());
    let bad_need = sign(
        &s.hospital,
        Kind::NeedPost,
        need_body(&s.org.id, "bad phone", Some(&bad)),
    );
    let reply = api
        .submission(submission(&bad_need, Some(bad.sidecar())))
        .await;
    reply.refused("an invalid phone", 400, &["contact.phone"]);

    let bad_email = Private::new(json!({"email": "CANARY-EMAIL-7f3a at example.org"}));
    salts.push(bad_email.salt.clone());
    let entry = sign(
        &s.donor,
        Kind::OfferPost,
        offer_body("bad email", Some(&bad_email)),
    );
    let reply = api
        .submission(submission(&entry, Some(bad_email.sidecar())))
        .await;
    reply.refused("an invalid e-mail", 400, &["contact.email"]);

    let long = Private::new(json!({"name": "CANARY-NAME-7f3a[long]".repeat(12)}));
    salts.push(long.salt.clone());
    let entry = sign(&s.donor, Kind::OfferPost, offer_body("long", Some(&long)));
    let reply = api
        .submission(submission(&entry, Some(long.sidecar())))
        .await;
    reply.refused("an overlong name", 400, &["contact.name"]);

    let leaf = std::str::from_utf8(bad_need.leaf()).unwrap().to_owned();
    let truncated = format!(
        "{{\"entry\": {}, \"private\": {{\"salt\": \"{}\", \"contact\": {{\"name\": \"CANARY-NAME-7f3a[malformed]\", \"phone\": \"+86 139 0000 7999",
        json!(leaf),
        bad.salt
    );
    let reply = api.submission(truncated.into_bytes()).await;
    reply.refused("malformed JSON", 400, &[]);

    let p = Private::new(canary_contact("c-wrong-salt"));
    salts.push(p.salt.clone());
    let entry = sign(
        &s.donor,
        Kind::OfferPost,
        offer_body("wrong salt", Some(&p)),
    );
    let wrong = Private::with_salt(rand::random(), p.contact.clone());
    salts.push(wrong.salt.clone());
    let reply = api
        .submission(submission(&entry, Some(wrong.sidecar())))
        .await;
    reply.refused("a wrong salt", 400, &["commitment"]);

    let p = Private::new(canary_contact("c-no-commitment"));
    salts.push(p.salt.clone());
    let entry = sign(&s.donor, Kind::OfferPost, offer_body("no commitment", None));
    let reply = api.submission(submission(&entry, Some(p.sidecar()))).await;
    reply.refused("private data for an uncommitted entry", 400, &[]);

    let raw = |v: Value| serde_json::to_vec(&v).unwrap();
    let c = canary_contact("c-shapes");
    for body in [
        raw(
            json!({"entry": leaf, "private": {"salt": bad.salt, "contact": {"canary-field-7f3a": "CANARY-NAME-7f3a[field]"}}}),
        ),
        raw(
            json!({"entry": leaf, "private": {"salt": bad.salt, "contact": {"name": ["CANARY-NAME-7f3a[array]"]}}}),
        ),
        raw(json!({"entry": leaf, "private": {"salt": bad.salt, "contact": c, "CANARY-extra": c}})),
        raw(json!({"entry": leaf, "private": c})),
        raw(json!({"entry": leaf, "private": "CANARY-NAME-7f3a[string]"})),
        raw(json!({"entry": leaf, "private": {"salt": "CANARY-NAME-7f3a[salt]", "contact": c}})),
        raw(json!({"entry": leaf, "private": {"salt": bad.salt, "contact": c}, "canary": c})),
        raw(
            json!({"entry": serde_json::to_string(&json!({"salt": bad.salt, "contact": c})).unwrap()}),
        ),
        raw(
            json!({"entry": "CANARY-NAME-7f3a[entry]", "private": {"salt": bad.salt, "contact": c}}),
        ),
        raw(json!({"entry": c, "private": c})),
        raw(json!("CANARY-NAME-7f3a[whole]")),
        b"CANARY-NAME-7f3a[not json] +86 139 0000 7111".to_vec(),
    ] {
        let reply = api.submission(body).await;
        assert_eq!(reply.status, 400, "{}", reply.text());
    }
    // Too large, full of canaries.
    let reply = api
        .submission(
            raw(json!({"entry": leaf, "private": {"salt": bad.salt, "contact": {"name": "CANARY-NAME-7f3a[huge]".repeat(8000)}}})),
        )
        .await;
    assert_eq!(reply.status, 413, "{}", reply.text());
    // Private values put into the public entry by mistake (a plaintext `contact`, an
    // extra `phone` field): refused without echoing them.
    for body in [
        json!({"items": [{"item": "Masks", "category": "surgical_mask", "quantity": 1, "unit": "box"}],
               "area": area(), "contact": "+86 139 0000 7222"}),
        json!({"items": [{"item": "Masks", "category": "surgical_mask", "quantity": 1, "unit": "box"}],
               "area": area(), "contact": "canary7f3a.mistake@example.org"}),
        json!({"items": [{"item": "Masks", "category": "surgical_mask", "quantity": 1, "unit": "box"}],
               "area": area(), "phone": "+86 139 0000 7333"}),
        json!({"items": [{"item": "Masks", "category": "surgical_mask", "quantity": 1, "unit": "box"}],
               "area": area(), "contact": {"name": "CANARY-NAME-7f3a[object]"}}),
    ] {
        // Signed properly, so that the body is what gets checked.
        let entry = UnsignedEntry::new(
            Kind::OfferPost,
            &s.donor.verifying_key(),
            OffsetDateTime::now_utc(),
            body,
        );
        let mut message = ledger::entry::SIGNATURE_DOMAIN.to_vec();
        message.extend(canonical_json(&entry));
        let signed = canonical_json(&json!({
            "v": entry.v, "kind": entry.kind, "author": entry.author,
            "created_at": entry.created_at, "body": entry.body,
            "sig": hex::encode(s.donor.sign(&message).to_bytes()),
        }));
        let reply = api.post("/api/v1/entries", signed.clone()).await;
        assert_eq!(reply.status, 400, "{}", reply.text());
        let reply = api
            .submission(raw(
                json!({"entry": String::from_utf8(signed).unwrap(), "private": c}),
            ))
            .await;
        assert_eq!(reply.status, 400, "{}", reply.text());
    }
    // Well-formed submissions the workflow rules refuse.
    let p = Private::new(canary_contact("c-denied"));
    salts.push(p.salt.clone());
    let entry = sign(
        &s.stranger,
        Kind::Pledge,
        pledge_body(&"cd".repeat(32), None, 1, Some(&p)),
    );
    let reply = api.submission(submission(&entry, Some(p.sidecar()))).await;
    reply.refused("a pledge to no need", 422, &[]);
    let p = Private::new(canary_contact("c-too-much"));
    salts.push(p.salt.clone());
    let entry = sign(
        &s.stranger,
        Kind::Pledge,
        pledge_body(&s.need.id, None, 1_000_000, Some(&p)),
    );
    let reply = api.submission(submission(&entry, Some(p.sidecar()))).await;
    reply.refused("a pledge beyond the need", 409, &[]);
    let entry = sign(
        &s.stranger,
        Kind::Shipment,
        shipment_body(&s.pledge.id, 1, Some(&p)),
    );
    let reply = api.submission(submission(&entry, Some(p.sidecar()))).await;
    reply.refused("a shipment of someone else's pledge", 403, &[]);
    // A duplicate of a stored submission.
    let reply = api
        .submission(submission(&s.need.entry, Some(s.need.private.sidecar())))
        .await;
    assert_eq!(reply.status, 200);
}

/// Reads: authorised (the only answers allowed to hold private data), refused,
/// unsigned, badly signed, erased; the records of reads; erasures refused.
async fn reads_authorised_refused_and_recorded(api: &Api, s: &Scene, closed: &Closed) {
    for (held, k) in [
        (&s.org, &s.hospital),
        (&s.need, &s.donor),
        (&s.pledge, &s.member),
        (&s.shipment, &s.hospital),
        (&s.other_pledge, &s.moderator),
        (&closed.need, &s.hospital),
    ] {
        assert_eq!(api.read_private(&held.id, k).await.status, 200);
    }
    for held in [&s.org, &s.need, &s.pledge, &s.shipment, &s.offer] {
        assert_eq!(api.read_private(&held.id, &s.stranger).await.status, 403);
        assert_eq!(
            api.get(&format!("/api/v1/private/{}", held.id))
                .await
                .status,
            401
        );
        let path = format!("/api/v1/private/{}", held.id);
        let forged = format!(
            "Aidledger key={}, ts={}, sig={}",
            public(&s.hospital),
            OffsetDateTime::now_utc().unix_timestamp(),
            hex::encode(s.stranger.sign(b"x").to_bytes())
        );
        assert_eq!(api.get_auth(&path, forged).await.status, 401);
        let reads = api.read_log(&held.id, &s.moderator).await;
        assert_eq!(reads.status, 200);
        assert_eq!(api.read_log(&held.id, &s.stranger).await.status, 403);
    }
    assert_eq!(api.read_private(&s.offer.id, &s.donor).await.status, 410);
    for path in [
        "/api/v1/private/CANARY-NAME-7f3a[path]".to_owned(),
        format!("/api/v1/private/{}/reads", "CANARY"),
    ] {
        let reply = api.get_signed(&path, &s.moderator).await;
        assert!(reply.status == 400 || reply.status == 404, "{path}");
    }
    let path = format!("/api/v1/private/{}", s.need.id);
    let reply = api
        .get_auth(
            &path,
            "Aidledger key=CANARY-NAME-7f3a, ts=1, sig=canary".to_owned(),
        )
        .await;
    assert_eq!(reply.status, 401);
    // Erasure refusals.
    assert_eq!(
        api.submit(&redaction(&s.stranger, &s.need.id)).await.status,
        403
    );
    assert_eq!(
        api.submit(&redaction(&s.moderator, &s.offer.id))
            .await
            .status,
        409
    );
}

#[tokio::test]
async fn no_private_value_reaches_a_public_response_an_error_a_log_line_or_a_leaf() {
    let dir = tempfile::tempdir().unwrap();
    let lines: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen: Arc<Mutex<Vec<Exchange>>> = Arc::default();
    let mut cli_output: Vec<(String, String)> = vec![];

    let child = spawn_server(dir.path(), lines.clone()).await;
    let vkey = LogClient::new(&child.url).key().await.unwrap().vkey;
    let api = Api::new(&child.url, &vkey, dir.path(), seen.clone());

    let (s, closed, mut salts) = every_kind_with_private_data(&api).await;
    verdicts_a_delivery_a_closure_and_an_erasure(&api, &s, &closed).await;
    refusals_full_of_canaries(&api, &s, &mut salts).await;
    reads_authorised_refused_and_recorded(&api, &s, &closed).await;

    // Every public endpoint, and the CLI's audit and trace.
    sweep(&api).await;
    for args in [
        vec!["verify".to_owned(), "--url".to_owned(), api.url.clone()],
        vec![
            "trace".to_owned(),
            s.need.id.clone(),
            "--url".to_owned(),
            api.url.clone(),
        ],
        vec![
            "trace".to_owned(),
            closed.pledge.id.clone(),
            "--url".to_owned(),
            api.url.clone(),
        ],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = run_cli(&args, "debug").await;
        assert!(run.ok, "{args:?}: {}\n{}", run.stdout, run.stderr);
        cli_output.push((format!("{args:?} stdout"), run.stdout));
        cli_output.push((format!("{args:?} stderr"), run.stderr));
    }

    // A restart runs the retention rule (0 days) at once: the closed need's data goes.
    child.stop();
    let child = spawn_server(dir.path(), lines.clone()).await;
    let api = Api::new(&child.url, &vkey, dir.path(), seen.clone());
    let purged: &[&Held] = &[&closed.need, &closed.pledge, &closed.shipment];
    let data_dir = dir.path();
    eventually("the retention purge", Duration::from_secs(30), move || {
        erased(data_dir, purged)
    })
    .await;
    assert_eq!(api.read_private(&s.need.id, &s.hospital).await.status, 200);
    sweep(&api).await;
    let run = verify_url(&api, "debug").await;
    cli_output.push(("verify after restart stdout".into(), run.stdout));
    cli_output.push(("verify after restart stderr".into(), run.stderr));
    child.stop();
    // The offline audit of the SQLite file (there is none on PostgreSQL; the audits
    // over the API above are the ones whose output is scanned there).
    if !common::on_postgres() {
        let db = dir.path().join(DATABASE_FILE);
        let run = run_cli(&["verify", "--db", db.to_str().unwrap()], "debug").await;
        assert!(run.ok, "verify --db: {}\n{}", run.stdout, run.stderr);
        cli_output.push(("verify --db stdout".into(), run.stdout));
        cli_output.push(("verify --db stderr".into(), run.stderr));
    }

    // The scan.
    let scanner = Scanner::new(&salts);
    let mut leaks: Vec<String> = vec![];
    let exchanges = std::mem::take(&mut *seen.lock().unwrap());
    let mut authorised_with_data = 0;
    for x in exchanges.iter() {
        if x.authorised_read {
            if !scanner.scan(&x.body).is_empty() {
                authorised_with_data += 1;
            }
            continue;
        }
        for hit in scanner.scan_deep(&x.body) {
            leaks.push(format!(
                "response body of {}: {hit}: {}",
                x.what,
                String::from_utf8_lossy(&x.body)
                    .chars()
                    .take(300)
                    .collect::<String>()
            ));
        }
        for (name, value) in &x.headers {
            for hit in scanner.scan(value) {
                leaks.push(format!("header {name} of {}: {hit}", x.what));
            }
        }
    }
    assert!(
        authorised_with_data >= 6,
        "the scanner finds the canaries where they belong (authorised reads)"
    );
    assert!(exchanges.len() > 200, "{} exchanges", exchanges.len());
    assert!(exchanges.iter().any(|x| x.status == 410));
    let lines = lines.lock().unwrap().clone();
    assert!(
        lines.iter().any(|l| l.contains("DEBUG")),
        "the server logged at debug level"
    );
    for line in lines.iter() {
        for hit in scanner.scan(strip_ansi(line).as_bytes()) {
            leaks.push(format!("server log line: {hit}: {line}"));
        }
    }
    for (what, output) in &cli_output {
        for hit in scanner.scan(output.as_bytes()) {
            leaks.push(format!("CLI output {what}: {hit}"));
        }
    }
    let pool = open_db(dir.path()).await;
    let leaves: Vec<Vec<u8>> = sqlx::query("SELECT leaf FROM entries ORDER BY idx")
        .fetch_all(&pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    pool.close().await;
    assert!(leaves.len() > 20);
    for (index, leaf) in leaves.iter().enumerate() {
        for hit in scanner.scan(leaf) {
            leaks.push(format!("leaf {index}: {hit}"));
        }
    }
    for (table, rows) in tables(dir.path()).await {
        if table == "pd_contacts" {
            continue;
        }
        for row in rows {
            for hit in scanner.scan(row.as_bytes()) {
                leaks.push(format!("table {table}: {hit}: {row}"));
            }
        }
    }
    // Erased rows hold nothing; the rest is where private data belongs.
    for held in [&s.offer, &closed.need, &closed.pledge, &closed.shipment] {
        let (salt, data, erased_at, _) = contact_row(dir.path(), &held.id).await.unwrap();
        assert_eq!((salt, data), (None, None));
        assert!(erased_at.is_some());
    }
    assert!(
        leaks.is_empty(),
        "private values leaked ({}):\n{}",
        leaks.len(),
        leaks.join("\n")
    );
}
