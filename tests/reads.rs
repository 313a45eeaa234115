//! The aid workflow as people read it, end to end against a real instance: needs,
//! offers and organisations with their filters and pages, the review queue, one
//! author's entries, the verifiable trace of a donation (HTTP and `aidledger trace`),
//! rebuilding the derived tables from the log, write limits, and `aidledger seed`.
//!
//! Each test starts its own instance through `aidledger::server::start`; most of them
//! keep the default bootstrap, so the data directory holds `operator.key`, the key of
//! the first administrator and moderator.

use crate::common;
use common::{public, sign, sign_at};

use aidledger::sample::Workflow;
use aidledger::server::limits::Limits;
use aidledger::server::{self, Config, Policy};
use base64::prelude::*;
use ed25519_dalek::SigningKey;
use ledger::checkpoint::{Checkpoint, LogSigner, LogVerifier};
use ledger::entry::VerifiedEntry;
use ledger::{hex32, tree, Hash, Kind};
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::{json, Value};
use sqlx::Row;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use time::{Date, Duration, OffsetDateTime};
use tokio::sync::oneshot;

// ---------------------------------------------------------------------------------
// An instance, started exactly as `aidledger serve` starts one.

struct Instance {
    url: String,
    vkey: String,
    data_dir: PathBuf,
    http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    serve: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Instance {
    /// An instance over `data_dir` with the default configuration changed by `configure`.
    async fn start(data_dir: &Path, configure: impl FnOnce(&mut Config)) -> Instance {
        let mut config = common::config(data_dir).await;
        configure(&mut config);
        let (stop, stopped) = oneshot::channel::<()>();
        let running = server::start(config, async {
            let _ = stopped.await;
        })
        .await
        .expect("server starts");
        Instance {
            url: running.url,
            vkey: running.vkey,
            data_dir: data_dir.to_path_buf(),
            http: common::http(),
            stop: Some(stop),
            serve: Some(running.serve),
        }
    }

    /// Stops serving and waits until the server has shut down.
    async fn stop(mut self) {
        let _ = self.stop.take().map(|s| s.send(()));
        if let Some(serve) = self.serve.take() {
            serve.await.unwrap().unwrap();
        }
    }

    /// The operator key a bootstrapped instance created.
    fn operator(&self) -> SigningKey {
        aidledger::keys::read_author_key(&self.data_dir.join("operator.key"))
            .expect("a bootstrapped instance has an operator key")
    }

    /// GET `path`: the status and the body (JSON, or the text as a JSON string).
    async fn get(&self, path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body)
    }

    /// GET `path`, which must answer 200.
    async fn ok(&self, path: &str) -> Value {
        let (status, body) = self.get(path).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// GET `path`, which must answer `status` with an `error` that mentions `needle`.
    async fn refused(&self, path: &str, status: u16, needle: &str) {
        let (got, body) = self.get(path).await;
        assert_eq!(got, status, "GET {path}: {body}");
        let error = body["error"]
            .as_str()
            .unwrap_or_else(|| panic!("GET {path}: no error message in {body}"));
        assert!(
            error.contains(needle),
            "GET {path}: the error {error:?} should mention {needle:?}"
        );
    }

    /// The ids of a list and its total.
    async fn list(&self, path: &str) -> (Vec<String>, i64) {
        let page = self.ok(path).await;
        let ids = page["items"]
            .as_array()
            .unwrap_or_else(|| panic!("GET {path}: no items in {page}"))
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect();
        (ids, page["total"].as_i64().unwrap())
    }

    /// Every item of a list, through all its pages.
    async fn all(&self, path: &str) -> Vec<Value> {
        let mut out = Vec::new();
        for page in 1.. {
            let body = self
                .ok(&with_query(path, &format!("per_page=100&page={page}")))
                .await;
            let items = body["items"].as_array().unwrap().clone();
            let total = body["total"].as_u64().unwrap();
            let done = items.is_empty();
            out.extend(items);
            if done || out.len() as u64 >= total {
                break;
            }
        }
        out
    }

    /// POSTs signed leaf bytes to /api/v1/entries.
    async fn post_leaf(&self, leaf: Vec<u8>) -> reqwest::Response {
        self.http
            .post(format!("{}/api/v1/entries", self.url))
            .header("content-type", "application/json")
            .body(leaf)
            .send()
            .await
            .expect("the server answers")
    }

    async fn submit(&self, entry: &VerifiedEntry) -> (u16, Value) {
        let response = self.post_leaf(entry.leaf().to_vec()).await;
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn checkpoint(&self) -> String {
        let response = self
            .http
            .get(format!("{}/checkpoint", self.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    }

    async fn head(&self) -> Checkpoint {
        LogVerifier::new(&self.vkey)
            .unwrap()
            .verify(self.checkpoint().await.as_bytes())
            .expect("the checkpoint verifies")
    }

    /// Row counts of tables, read straight from the database.
    async fn counts(&self, tables: &[&str]) -> Vec<i64> {
        let pool = common::open_db(&self.data_dir).await;
        let mut out = vec![];
        for table in tables {
            let row = sqlx::query(&format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(&pool)
                .await
                .unwrap();
            out.push(row.get::<i64, _>(0));
        }
        pool.close().await;
        out
    }
}

fn with_query(path: &str, extra: &str) -> String {
    if path.contains('?') {
        format!("{path}&{extra}")
    } else {
        format!("{path}?{extra}")
    }
}

// ---------------------------------------------------------------------------------
// Entries.

fn item(name: &str, category: &str, quantity: u64, unit: &str) -> Value {
    json!({"item": name, "category": category, "quantity": quantity, "unit": unit})
}

fn area(code: &str, name: &str) -> Value {
    json!({"code": code, "name": name})
}

fn lines(quantities: &[(u32, u64)]) -> Value {
    quantities
        .iter()
        .map(|(line, quantity)| json!({"line": line, "quantity": quantity}))
        .collect()
}

fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

fn in_days(days: i64) -> String {
    (today() + Duration::days(days)).to_string()
}

fn random_id() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

// ---------------------------------------------------------------------------------
// A known workflow, built by hand.

/// Where one named entry landed.
#[derive(Clone, Debug)]
struct Posted {
    id: String,
    index: u64,
    author: String,
}

#[derive(Clone)]
struct Keys {
    op: SigningKey,
    mod2: SigningKey,
    /// Members of organisations A to E (each registered its own).
    h1: SigningKey,
    h2: SigningKey,
    h3: SigningKey,
    h4: SigningKey,
    h5: SigningKey,
    /// A volunteer: relays a need, flags a duplicate.
    v: SigningKey,
    d1: SigningKey,
    d2: SigningKey,
}

impl Keys {
    fn new(op: SigningKey) -> Keys {
        let k = |n: u8| SigningKey::from_bytes(&[n; 32]);
        Keys {
            op,
            mod2: k(101),
            h1: k(102),
            h2: k(103),
            h3: k(104),
            h4: k(105),
            h5: k(106),
            v: k(107),
            d1: k(108),
            d2: k(109),
        }
    }
}

struct Scenario {
    keys: Keys,
    posted: BTreeMap<&'static str, Posted>,
}

impl Scenario {
    fn get(&self, name: &str) -> &Posted {
        self.posted
            .get(name)
            .unwrap_or_else(|| panic!("no entry named {name}"))
    }

    fn id(&self, name: &str) -> String {
        self.get(name).id.clone()
    }

    fn index(&self, name: &str) -> u64 {
        self.get(name).index
    }

    /// Names of `ids` where known (for readable failures).
    fn names(&self, ids: &[String]) -> Vec<String> {
        let by_id: HashMap<&str, &str> = self
            .posted
            .iter()
            .map(|(name, p)| (p.id.as_str(), *name))
            .collect();
        ids.iter()
            .map(|id| {
                by_id
                    .get(id.as_str())
                    .map_or_else(|| format!("?{}", &id[..12]), |n| n.to_string())
            })
            .collect()
    }

    /// `names` ordered by log index.
    fn by_index(&self, names: &[&'static str]) -> Vec<String> {
        let mut sorted = names.to_vec();
        sorted.sort_by_key(|n| self.index(n));
        sorted.into_iter().map(str::to_owned).collect()
    }

    /// Submits `entry`, which must be appended, and names it.
    async fn put(&mut self, inst: &Instance, name: &'static str, entry: VerifiedEntry) -> String {
        let (status, body) = inst.submit(&entry).await;
        assert_eq!(status, 201, "{name} should be appended: {body}");
        let id = body["leaf_hash"].as_str().unwrap().to_owned();
        assert_eq!(id, hex32::encode(&entry.leaf_hash()));
        let posted = Posted {
            id: id.clone(),
            index: body["index"].as_u64().unwrap(),
            author: hex::encode(entry.author_key().as_bytes()),
        };
        assert!(self.posted.insert(name, posted).is_none(), "{name} twice");
        id
    }
}

/// The review queue item with this id, if the queue holds it.
async fn queued(inst: &Instance, id: &str) -> Option<Value> {
    inst.all("/api/v1/review")
        .await
        .into_iter()
        .find(|i| i["id"] == id)
}

/// Whether a list (through all its pages) holds `id`.
async fn listed(inst: &Instance, path: &str, id: &str) -> bool {
    inst.all(path).await.iter().any(|i| i["id"] == id)
}

/// The clock of an instance that runs `build_scenario`: the log's clock stands at
/// 1 February 2020, so that N10, needed by mid-February 2020, is admitted and reads as
/// expired today. The other entries are signed today, years ahead of that clock, so
/// the admission skew is opened wide for them.
fn scenario_clock(config: &mut Config) {
    config.clock =
        common::ManualClock::new(OffsetDateTime::from_unix_timestamp(1_580_544_000).unwrap());
    config.max_clock_skew = std::time::Duration::from_secs(100 * 365 * 24 * 3600);
}

/// Builds the hand-made workflow on a bootstrapped instance (quorum 2), checking on the
/// way what must change as verdicts arrive. It only looks at its own entries, so it
/// may run on a log that holds others.
///
/// Organisations: A (CN-HB) and B (IT-25) verified by the operator and a second
/// moderator; C (CN-HB) rejected; D (country-wide CN) one verdict short of the quorum;
/// E (CN-ZJ) without verdicts. Needs N1–N10, offers O1–O5, pledges P1–P3 (P1 and P2
/// on N1), shipments S1–S3, deliveries D1–D2, updates U1–U2, verdicts.
async fn build_scenario(inst: &Instance) -> Scenario {
    let k = Keys::new(inst.operator());
    let mut s = Scenario {
        keys: k.clone(),
        posted: BTreeMap::new(),
    };
    let org = |name: &str, org_type: &str, code: &str, region: &str| json!({"name": name, "type": org_type, "area": area(code, region), "description": format!("{name}, registered for the test")});

    s.put(
        inst,
        "grant mod2",
        sign(
            &k.op,
            Kind::RoleGrant,
            json!({"key": public(&k.mod2), "role": "moderator"}),
        ),
    )
    .await;
    let a = s
        .put(
            inst,
            "A",
            sign(
                &k.h1,
                Kind::OrgRegister,
                org("Wuhan Union Hospital", "hospital", "CN-HB", "Hubei"),
            ),
        )
        .await;
    let b = s
        .put(
            inst,
            "B",
            sign(
                &k.h2,
                Kind::OrgRegister,
                org(
                    "Papa Giovanni XXIII Hospital",
                    "hospital",
                    "IT-25",
                    "Lombardy",
                ),
            ),
        )
        .await;
    let c = s
        .put(
            inst,
            "C",
            sign(
                &k.h3,
                Kind::OrgRegister,
                org("Totally Real Relief Fund", "charity", "CN-HB", "Hubei"),
            ),
        )
        .await;
    let d = s
        .put(
            inst,
            "D",
            sign(
                &k.h4,
                Kind::OrgRegister,
                org("National supply depot", "charity", "CN", "China"),
            ),
        )
        .await;
    let e = s
        .put(
            inst,
            "E",
            sign(
                &k.h5,
                Kind::OrgRegister,
                org("温州社区诊所", "clinic", "CN-ZJ", "浙江"),
            ),
        )
        .await;

    let need = |org: &str, items: Value, urgency: &str, needed_by: String, code, region| {
        json!({
            "org": org,
            "items": items,
            "urgency": urgency,
            "needed_by": needed_by,
            "area": area(code, region),
            "description": format!("{urgency} need of the test ({needed_by})"),
        })
    };
    let mut respirators = item("N95 respirator", "respirator", 1000, "piece");
    respirators["spec"] = json!("NIOSH N95");
    let n1 = s
        .put(
            inst,
            "N1",
            sign(
                &k.h1,
                Kind::NeedPost,
                need(
                    &a,
                    json!([respirators, item("Nitrile gloves", "gloves", 200, "box")]),
                    "high",
                    in_days(30),
                    "CN-HB",
                    "Hubei",
                ),
            ),
        )
        .await;
    let n2 = s
        .put(
            inst,
            "N2",
            sign(
                &k.h1,
                Kind::NeedPost,
                need(
                    &a,
                    json!([item("Ventilator", "ventilator", 5, "unit")]),
                    "critical",
                    today().to_string(),
                    "CN-HB",
                    "Hubei",
                ),
            ),
        )
        .await;

    // Before any verdict: everything pending, everything queued.
    let v = inst.ok(&format!("/api/v1/needs/{n2}")).await;
    assert_eq!(v["status"], "open", "needed by today is still open: {v}");
    assert_eq!(v["until"], today().to_string());
    assert_eq!(v["verification"], "pending");
    assert_eq!(v["org"]["id"], a.as_str());
    assert_eq!(v["org"]["verification"], "pending");
    let v = inst.ok(&format!("/api/v1/orgs/{a}")).await;
    assert_eq!(
        (&v["verification"], &v["verified_by"]),
        (&json!("pending"), &json!(0))
    );
    let q = queued(inst, &a)
        .await
        .expect("a new organisation is queued");
    assert_eq!(
        (&q["kind"], &q["verifies"]),
        (&json!("org.register"), &json!(0))
    );
    for n in [&n1, &n2] {
        let q = queued(inst, n).await.expect("a new need is queued");
        assert_eq!(q["kind"], "need.post");
    }

    // A first verdict is short of the quorum of 2 ...
    let verify_org = |org: &str, verdict: &str| json!({"org": org, "verdict": verdict, "reason": format!("{verdict} after a call to the switchboard")});
    s.put(
        inst,
        "op verifies A",
        sign(&k.op, Kind::OrgVerify, verify_org(&a, "verified")),
    )
    .await;
    let v = inst.ok(&format!("/api/v1/orgs/{a}")).await;
    assert_eq!(
        (&v["verification"], &v["verified_by"]),
        (&json!("pending"), &json!(1)),
        "{v}"
    );
    assert_eq!(
        queued(inst, &a).await.expect("still short of the quorum")["verifies"],
        1
    );
    assert_eq!(
        inst.ok(&format!("/api/v1/needs/{n1}")).await["verification"],
        "pending"
    );
    assert!(listed(inst, "/api/v1/orgs?verified=pending", &a).await);
    assert!(!listed(inst, "/api/v1/orgs?verified=verified", &a).await);
    // ... and the same moderator cannot count twice.
    let (status, body) = inst
        .submit(&sign_at(
            &k.op,
            Kind::OrgVerify,
            verify_org(&a, "verified"),
            OffsetDateTime::now_utc() + Duration::seconds(1),
        ))
        .await;
    assert_eq!(status, 409, "a repeated verdict: {body}");
    assert_eq!(
        inst.ok(&format!("/api/v1/orgs/{a}")).await["verified_by"],
        1
    );

    // The second distinct moderator reaches the quorum.
    s.put(
        inst,
        "mod2 verifies A",
        sign(&k.mod2, Kind::OrgVerify, verify_org(&a, "verified")),
    )
    .await;
    let v = inst.ok(&format!("/api/v1/orgs/{a}")).await;
    assert_eq!(
        (&v["verification"], &v["verified_by"]),
        (&json!("verified"), &json!(2)),
        "{v}"
    );
    assert!(queued(inst, &a).await.is_none(), "verified: off the queue");
    assert!(listed(inst, "/api/v1/orgs?verified=verified", &a).await);
    assert!(!listed(inst, "/api/v1/orgs?verified=pending", &a).await);
    let v = inst.ok(&format!("/api/v1/needs/{n1}")).await;
    assert_eq!(
        v["verification"], "verified",
        "its organisation is verified: {v}"
    );
    assert_eq!(v["org"]["verification"], "verified");

    s.put(
        inst,
        "op verifies B",
        sign(&k.op, Kind::OrgVerify, verify_org(&b, "verified")),
    )
    .await;
    s.put(
        inst,
        "mod2 verifies B",
        sign(&k.mod2, Kind::OrgVerify, verify_org(&b, "verified")),
    )
    .await;
    assert!(queued(inst, &c).await.is_some());
    s.put(
        inst,
        "mod2 rejects C",
        sign(&k.mod2, Kind::OrgVerify, verify_org(&c, "rejected")),
    )
    .await;
    assert!(queued(inst, &c).await.is_none(), "rejected: off the queue");
    assert_eq!(
        inst.ok(&format!("/api/v1/orgs/{c}")).await["verification"],
        "rejected"
    );
    assert!(!listed(inst, "/api/v1/orgs", &c).await);
    assert!(listed(inst, "/api/v1/orgs?verified=rejected", &c).await);
    s.put(
        inst,
        "op verifies D",
        sign(&k.op, Kind::OrgVerify, verify_org(&d, "verified")),
    )
    .await;

    s.put(
        inst,
        "N3",
        sign(
            &k.h2,
            Kind::NeedPost,
            need(
                &b,
                json!([item("Surgical masks", "surgical_mask", 5000, "box")]),
                "critical",
                in_days(10),
                "IT-25",
                "Lombardy",
            ),
        ),
    )
    .await;
    let mut relayed = need(
        &b,
        json!([item("84消毒液", "disinfectant", 100, "litre")]),
        "low",
        in_days(20),
        "IT-25",
        "Lombardy",
    );
    relayed["evidence"] = json!({"url": "https://example.org/posts/bergamo-appeal"});
    s.put(inst, "N4", sign(&k.v, Kind::NeedPost, relayed)).await;
    let n5 = s
        .put(
            inst,
            "N5",
            sign(
                &k.h4,
                Kind::NeedPost,
                need(
                    &d,
                    json!([
                        item("Oxygen concentrators", "oxygen", 10, "unit"),
                        item("KN95 mask", "respirator", 50, "piece")
                    ]),
                    "medium",
                    in_days(15),
                    "CN",
                    "China",
                ),
            ),
        )
        .await;
    let n6 = s
        .put(
            inst,
            "N6",
            sign(
                &k.h1,
                Kind::NeedPost,
                need(
                    &a,
                    json!([item("Rice", "food", 100, "kilogram")]),
                    "medium",
                    in_days(5),
                    "CN-HB",
                    "Hubei",
                ),
            ),
        )
        .await;
    let mut again = need(
        &a,
        json!([item("N95 respirator", "respirator", 1000, "piece")]),
        "high",
        in_days(30),
        "CN-HB",
        "Hubei",
    );
    again["description"] = json!("the same respirators, posted again");
    let n7 = s.put(inst, "N7", sign(&k.h1, Kind::NeedPost, again)).await;
    let n8 = s
        .put(
            inst,
            "N8",
            sign(
                &k.h5,
                Kind::NeedPost,
                need(
                    &e,
                    json!([item("Infrared thermometers", "thermometer", 20, "piece")]),
                    "low",
                    in_days(9),
                    "CN-ZJ",
                    "浙江",
                ),
            ),
        )
        .await;
    s.put(
        inst,
        "N9",
        sign(
            &k.h5,
            Kind::NeedPost,
            need(
                &e,
                json!([item("医用防护服", "gown_coverall", 300, "piece")]),
                "high",
                in_days(12),
                "CN-ZJ",
                "浙江",
            ),
        ),
    )
    .await;
    // Written in February 2020 and needed by mid-February: it reads as expired now.
    let n10 = s
        .put(
            inst,
            "N10",
            sign_at(
                &k.h5,
                Kind::NeedPost,
                need(
                    &e,
                    json!([item("护目镜", "goggles", 40, "piece")]),
                    "low",
                    "2020-02-15".into(),
                    "CN-ZJ",
                    "浙江",
                ),
                OffsetDateTime::from_unix_timestamp(1_580_544_000).unwrap(),
            ),
        )
        .await;

    let offer = |items: Value, code: &str, region: &str, tag: &str| json!({"items": items, "area": area(code, region), "description": format!("offer {tag}")});
    let o1 = s
        .put(
            inst,
            "O1",
            sign(
                &k.d1,
                Kind::OfferPost,
                offer(
                    json!([item("Nitrile gloves", "gloves", 500, "box")]),
                    "CN-HB",
                    "Hubei",
                    "1",
                ),
            ),
        )
        .await;
    let mut o2 = offer(
        json!([item("Surgical masks", "surgical_mask", 1000, "box")]),
        "IT-25",
        "Lombardy",
        "2",
    );
    o2["available_until"] = json!(in_days(20));
    s.put(inst, "O2", sign(&k.d2, Kind::OfferPost, o2)).await;
    let o3 = s
        .put(
            inst,
            "O3",
            sign(
                &k.d1,
                Kind::OfferPost,
                offer(
                    json!([item("KN95 mask", "respirator", 100, "piece")]),
                    "CN-ZJ",
                    "浙江",
                    "3",
                ),
            ),
        )
        .await;
    let o4 = s
        .put(
            inst,
            "O4",
            sign(
                &k.d2,
                Kind::OfferPost,
                offer(
                    json!([item("Miracle cure", "other", 1, "set")]),
                    "TR-31",
                    "Hatay",
                    "4",
                ),
            ),
        )
        .await;
    let mut o5 = offer(
        json!([item("Face shields", "face_shield", 50, "piece")]),
        "CN-HB",
        "Hubei",
        "5",
    );
    o5["available_until"] = json!("2020-03-01");
    let o5 = s.put(inst, "O5", sign(&k.d1, Kind::OfferPost, o5)).await;

    // The donation chain of N1 (and one of N3).
    let p1 = s
        .put(
            inst,
            "P1",
            sign(
                &k.d1,
                Kind::Pledge,
                json!({"need": n1, "items": lines(&[(0, 600), (1, 200)]), "offer": o1}),
            ),
        )
        .await;
    let p2 = s
        .put(
            inst,
            "P2",
            sign(
                &k.d2,
                Kind::Pledge,
                json!({"need": n1, "items": lines(&[(0, 300)])}),
            ),
        )
        .await;
    s.put(
        inst,
        "V1",
        sign(
            &k.d2,
            Kind::Verdict,
            json!({"entry": n1, "verdict": "flag_stale", "reason": "the hospital says stock arrived"}),
        ),
    )
    .await;
    let n3 = s.id("N3");
    s.put(
        inst,
        "P3",
        sign(
            &k.d2,
            Kind::Pledge,
            json!({"need": n3, "items": lines(&[(0, 5000)])}),
        ),
    )
    .await;
    let ship = |pledge: &str, quantities: &[(u32, u64)], tracking: &str| json!({"pledge": pledge, "carrier": "SF Express", "tracking": tracking, "items": lines(quantities)});
    let s1 = s
        .put(
            inst,
            "S1",
            sign(
                &k.d1,
                Kind::Shipment,
                ship(&p1, &[(0, 400), (1, 200)], "SF1"),
            ),
        )
        .await;
    s.put(
        inst,
        "S2",
        sign(&k.d1, Kind::Shipment, ship(&p1, &[(0, 200)], "SF2")),
    )
    .await;
    let s3 = s
        .put(
            inst,
            "S3",
            sign(&k.d2, Kind::Shipment, ship(&p2, &[(0, 300)], "SF3")),
        )
        .await;
    s.put(
        inst,
        "D1",
        sign(
            &k.h1,
            Kind::DeliveryConfirm,
            json!({"shipment": s1, "items": lines(&[(0, 400), (1, 150)]), "condition": "partial"}),
        ),
    )
    .await;
    s.put(
        inst,
        "D2",
        sign(
            &k.h1,
            Kind::DeliveryConfirm,
            json!({"shipment": s3, "items": lines(&[(0, 300)]), "condition": "good"}),
        ),
    )
    .await;
    s.put(
        inst,
        "U1",
        sign(
            &k.h1,
            Kind::NeedUpdate,
            json!({"need": n1, "items": lines(&[(0, 1200)])}),
        ),
    )
    .await;
    s.put(
        inst,
        "U2",
        sign(&k.h5, Kind::NeedUpdate, json!({"need": n8, "close": "met"})),
    )
    .await;

    // Verdicts on posts: each takes its post off the queue.
    let verdict = |entry: &str, verdict: &str| json!({"entry": entry, "verdict": verdict, "reason": format!("{verdict} by a moderator")});
    assert!(queued(inst, &n5).await.is_some());
    assert_eq!(
        inst.ok(&format!("/api/v1/needs/{n5}")).await["verification"],
        "pending"
    );
    s.put(
        inst,
        "mod2 verifies N5",
        sign(&k.mod2, Kind::Verdict, verdict(&n5, "verify")),
    )
    .await;
    assert!(queued(inst, &n5).await.is_none());
    assert_eq!(
        inst.ok(&format!("/api/v1/needs/{n5}")).await["verification"],
        "verified"
    );
    assert!(queued(inst, &n6).await.is_some());
    s.put(
        inst,
        "mod2 rejects N6",
        sign(&k.mod2, Kind::Verdict, verdict(&n6, "reject")),
    )
    .await;
    assert!(queued(inst, &n6).await.is_none());
    assert!(!listed(inst, "/api/v1/needs", &n6).await);
    s.put(
        inst,
        "v flags N7",
        sign(
            &k.v,
            Kind::Verdict,
            json!({"entry": n7, "verdict": "flag_duplicate", "reason": "same request as N1", "original": n1}),
        ),
    )
    .await;
    s.put(
        inst,
        "mod2 verifies O3",
        sign(&k.mod2, Kind::Verdict, verdict(&o3, "verify")),
    )
    .await;
    assert!(queued(inst, &o4).await.is_some());
    s.put(
        inst,
        "op rejects O4",
        sign(&k.op, Kind::Verdict, verdict(&o4, "reject")),
    )
    .await;
    assert!(queued(inst, &o4).await.is_none());
    s.put(
        inst,
        "mod2 verifies N10",
        sign(&k.mod2, Kind::Verdict, verdict(&n10, "verify")),
    )
    .await;
    s.put(
        inst,
        "mod2 verifies O5",
        sign(&k.mod2, Kind::Verdict, verdict(&o5, "verify")),
    )
    .await;
    s
}

// ---------------------------------------------------------------------------------
// What the listings should hold, from a model of the scenario.

/// A need or offer of the scenario as the listings should show it.
struct PostModel {
    name: &'static str,
    urgency: Option<&'static str>,
    area: &'static str,
    categories: &'static [&'static str],
    status: &'static str,
    verification: &'static str,
}

const fn m(
    name: &'static str,
    urgency: Option<&'static str>,
    area: &'static str,
    categories: &'static [&'static str],
    status: &'static str,
    verification: &'static str,
) -> PostModel {
    PostModel {
        name,
        urgency,
        area,
        categories,
        status,
        verification,
    }
}

const NEEDS: &[PostModel] = &[
    m(
        "N1",
        Some("high"),
        "CN-HB",
        &["respirator", "gloves"],
        "open",
        "verified",
    ),
    m(
        "N2",
        Some("critical"),
        "CN-HB",
        &["ventilator"],
        "open",
        "verified",
    ),
    m(
        "N3",
        Some("critical"),
        "IT-25",
        &["surgical_mask"],
        "open",
        "verified",
    ),
    m(
        "N4",
        Some("low"),
        "IT-25",
        &["disinfectant"],
        "open",
        "verified",
    ),
    m(
        "N5",
        Some("medium"),
        "CN",
        &["oxygen", "respirator"],
        "open",
        "verified",
    ),
    m("N6", Some("medium"), "CN-HB", &["food"], "open", "rejected"),
    m(
        "N7",
        Some("high"),
        "CN-HB",
        &["respirator"],
        "open",
        "verified",
    ),
    m(
        "N8",
        Some("low"),
        "CN-ZJ",
        &["thermometer"],
        "met",
        "pending",
    ),
    m(
        "N9",
        Some("high"),
        "CN-ZJ",
        &["gown_coverall"],
        "open",
        "pending",
    ),
    m(
        "N10",
        Some("low"),
        "CN-ZJ",
        &["goggles"],
        "expired",
        "verified",
    ),
];

const OFFERS: &[PostModel] = &[
    m("O1", None, "CN-HB", &["gloves"], "open", "pending"),
    m("O2", None, "IT-25", &["surgical_mask"], "open", "pending"),
    m("O3", None, "CN-ZJ", &["respirator"], "open", "verified"),
    m("O4", None, "TR-31", &["other"], "open", "rejected"),
    m("O5", None, "CN-HB", &["face_shield"], "expired", "verified"),
];

fn urgency_rank(u: Option<&str>) -> u8 {
    match u {
        Some("critical") => 0,
        Some("high") => 1,
        Some("medium") => 2,
        Some("low") => 3,
        _ => 9,
    }
}

/// A region code matches a filter that is the code itself or its country prefix.
fn area_matches(code: &str, filter: &str) -> bool {
    code == filter || code.starts_with(&format!("{filter}-"))
}

/// The names a posts listing with these query parameters should hold, in order.
fn expected_posts(s: &Scenario, model: &[PostModel], params: &[(&str, &str)]) -> Vec<String> {
    let param = |name: &str| params.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
    let mut hits: Vec<&PostModel> = model
        .iter()
        .filter(|p| param("status").is_none_or(|v| p.status == v))
        .filter(|p| param("category").is_none_or(|v| p.categories.contains(&v)))
        .filter(|p| param("area").is_none_or(|v| area_matches(p.area, v)))
        .filter(|p| param("urgency").is_none_or(|v| p.urgency == Some(v)))
        .filter(|p| match param("verified") {
            Some(v) => p.verification == v,
            None => p.verification != "rejected",
        })
        .collect();
    hits.sort_by_key(|p| (urgency_rank(p.urgency), s.index(p.name)));
    hits.iter().map(|p| p.name.to_owned()).collect()
}

fn query_string(params: &[(&str, &str)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

// ---------------------------------------------------------------------------------

/// The workflow reads over one known scenario, step by step.
#[tokio::test]
async fn workflow_reads_filter_order_page_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let inst = Instance::start(dir.path(), scenario_clock).await;
    let s = build_scenario(&inst).await;
    one_need_carries_its_quantities_through_the_chain(&inst, &s).await;
    need_listings_filter_alone_and_combined(&inst, &s).await;
    offer_listings_filter(&inst, &s).await;
    pages_are_bounded_and_complete(&inst, &s).await;
    bad_filter_values_name_their_parameter(&inst, &s).await;
    organisations_list_and_read(&inst, &s).await;
    the_review_queue_holds_what_awaits_a_verdict(&inst, &s).await;
    an_authors_entries_come_exactly_in_log_order(&inst, &s).await;

    // --- Verification is decided at read time by the configured quorum.
    inst.stop().await;
    let inst = Instance::start(dir.path(), |c| {
        c.policy = Policy {
            quorum: 3,
            post_quorum: 2,
        }
    })
    .await;
    let a = inst.ok(&format!("/api/v1/orgs/{}", s.id("A"))).await;
    assert_eq!(
        (&a["verification"], &a["verified_by"]),
        (&json!("pending"), &json!(2))
    );
    let n2 = inst.ok(&format!("/api/v1/needs/{}", s.id("N2"))).await;
    assert_eq!(n2["verification"], "pending");
    assert_eq!(n2["org"]["verification"], "pending");
    // N5's own verdict is one of the two its quorum now asks for: back in the queue.
    let n5 = inst.ok(&format!("/api/v1/needs/{}", s.id("N5"))).await;
    assert_eq!(n5["verification"], "pending");
    assert_eq!(queued(&inst, &s.id("N5")).await.unwrap()["verifies"], 1);
    assert!(queued(&inst, &s.id("A")).await.is_some());
    let (ids, _) = inst.list("/api/v1/orgs?verified=verified").await;
    assert!(ids.is_empty(), "{:?}", s.names(&ids));
    inst.stop().await;
    let inst = Instance::start(dir.path(), |c| {
        c.policy = Policy {
            quorum: 1,
            ..Policy::default()
        }
    })
    .await;
    let (ids, _) = inst.list("/api/v1/orgs?verified=verified").await;
    assert_eq!(s.names(&ids), ["A", "B", "D"]);
    inst.stop().await;
}

/// One need: its quantities, all the way through the chain.
async fn one_need_carries_its_quantities_through_the_chain(inst: &Instance, s: &Scenario) {
    let n1 = inst.ok(&format!("/api/v1/needs/{}", s.id("N1"))).await;
    assert_eq!(n1["id"], s.id("N1"));
    assert_eq!(n1["index"], s.index("N1"));
    assert_eq!(n1["kind"], "need");
    assert_eq!(n1["author"], public(&s.keys.h1));
    assert_eq!(n1["urgency"], "high");
    assert_eq!(n1["until"], in_days(30));
    assert_eq!(n1["area"], json!({"code": "CN-HB", "name": "Hubei"}));
    assert_eq!(n1["status"], "open");
    assert_eq!(n1["relayed"], false);
    assert_eq!(n1["stale_flags"], 1);
    assert_eq!(
        n1["org"],
        json!({"id": s.id("A"), "name": "Wuhan Union Hospital", "verification": "verified"})
    );
    assert_eq!(
        n1["items"],
        json!([
            {"line": 0, "item": "N95 respirator", "category": "respirator", "unit": "piece",
             "spec": "NIOSH N95", "requested": 1200, "pledged": 900, "shipped": 900,
             "delivered": 700, "remaining": 300},
            {"line": 1, "item": "Nitrile gloves", "category": "gloves", "unit": "box",
             "requested": 200, "pledged": 200, "shipped": 200, "delivered": 150, "remaining": 0},
        ]),
        "{n1}"
    );
    let n3 = inst.ok(&format!("/api/v1/needs/{}", s.id("N3"))).await;
    let q = &n3["items"][0];
    assert_eq!(
        (
            &q["requested"],
            &q["pledged"],
            &q["shipped"],
            &q["delivered"],
            &q["remaining"]
        ),
        (&json!(5000), &json!(5000), &json!(0), &json!(0), &json!(0))
    );
    let n2 = inst.ok(&format!("/api/v1/needs/{}", s.id("N2"))).await;
    assert_eq!(n2["items"][0]["remaining"], 5);
    assert_eq!(n2["status"], "open");
    let n4 = inst.ok(&format!("/api/v1/needs/{}", s.id("N4"))).await;
    assert_eq!(n4["relayed"], true);
    assert_eq!(n4["author"], public(&s.keys.v));
    assert_eq!(
        n4["evidence_url"],
        "https://example.org/posts/bergamo-appeal"
    );
    let n7 = inst.ok(&format!("/api/v1/needs/{}", s.id("N7"))).await;
    assert_eq!(n7["duplicate_of"], s.id("N1"));
    assert_eq!(n7["verification"], "verified");
    assert!(n1.get("duplicate_of").is_none_or(Value::is_null));
    // A rejected need is still there by id, marked rejected.
    let n6 = inst.ok(&format!("/api/v1/needs/{}", s.id("N6"))).await;
    assert_eq!(n6["verification"], "rejected");
    let n8 = inst.ok(&format!("/api/v1/needs/{}", s.id("N8"))).await;
    assert_eq!(n8["status"], "met");
    let n10 = inst.ok(&format!("/api/v1/needs/{}", s.id("N10"))).await;
    assert_eq!(n10["status"], "expired");
    assert_eq!(n10["until"], "2020-02-15");
    let o2 = inst.ok(&format!("/api/v1/offers/{}", s.id("O2"))).await;
    assert_eq!(o2["kind"], "offer");
    assert_eq!(o2["until"], in_days(20));
    assert_eq!(o2["items"][0]["requested"], 1000);
    assert!(o2.get("org").is_none_or(Value::is_null));
}

/// Needs listings: the default, and every filter alone and combined.
async fn need_listings_filter_alone_and_combined(inst: &Instance, s: &Scenario) {
    let (ids, total) = inst.list("/api/v1/needs?per_page=100").await;
    assert_eq!(
        s.names(&ids),
        ["N2", "N3", "N1", "N7", "N9", "N5", "N4", "N8", "N10"],
        "most urgent first, then oldest; rejected ones hidden"
    );
    assert_eq!(total, 9);
    let need_cases: &[&[(&str, &str)]] = &[
        &[],
        &[("status", "open")],
        &[("status", "met")],
        &[("status", "withdrawn")],
        &[("status", "expired")],
        &[("category", "respirator")],
        &[("category", "ventilator")],
        &[("category", "gloves")],
        &[("category", "oxygen")],
        &[("category", "food")],
        &[("category", "medicine")],
        &[("area", "CN")],
        &[("area", "CN-HB")],
        &[("area", "CN-ZJ")],
        &[("area", "IT")],
        &[("area", "IT-25")],
        &[("area", "TR")],
        &[("area", "C")],
        &[("area", "CN-H")],
        &[("urgency", "critical")],
        &[("urgency", "high")],
        &[("urgency", "medium")],
        &[("urgency", "low")],
        &[("verified", "verified")],
        &[("verified", "pending")],
        &[("verified", "rejected")],
        &[("area", "CN"), ("urgency", "high"), ("status", "open")],
        &[("category", "respirator"), ("verified", "verified")],
        &[("category", "food"), ("verified", "rejected")],
        &[("area", "CN-HB"), ("verified", "rejected")],
        &[("status", "expired"), ("area", "CN")],
        &[
            ("status", "open"),
            ("verified", "pending"),
            ("area", "CN-ZJ"),
        ],
    ];
    for params in need_cases {
        let path = with_query(
            &format!("/api/v1/needs?{}", query_string(params)),
            "per_page=100",
        );
        let (ids, total) = inst.list(&path).await;
        let want = expected_posts(s, NEEDS, params);
        assert_eq!(s.names(&ids), want, "GET {path}");
        assert_eq!(total, want.len() as i64, "GET {path}: total");
    }
    // A region's name in English or Chinese, with or without its suffix, in any
    // case, stands for its code.
    for (name, code) in [
        ("Hubei", "CN-HB"),
        ("hubei sheng", "CN-HB"),
        ("湖北", "CN-HB"),
        ("湖北省", "CN-HB"),
        ("cn-hb", "CN-HB"),
        ("Zhejiang", "CN-ZJ"),
        ("浙江", "CN-ZJ"),
        ("China", "CN"),
        ("中国", "CN"),
        ("Lombardia", "IT-25"),
        ("Italy", "IT"),
    ] {
        let path = |area: &str| format!("/api/v1/needs?area={area}&per_page=100");
        let (by_code, _) = inst.list(&path(code)).await;
        assert!(!by_code.is_empty(), "{code}");
        assert_eq!(inst.list(&path(name)).await.0, by_code, "area={name}");
    }
    // Spot checks of the model itself.
    assert_eq!(
        expected_posts(s, NEEDS, &[("area", "CN")]),
        ["N2", "N1", "N7", "N9", "N5", "N8", "N10"]
    );
    assert_eq!(
        expected_posts(s, NEEDS, &[("verified", "rejected")]),
        ["N6"]
    );
    assert_eq!(expected_posts(s, NEEDS, &[("status", "open")]).len(), 7);

    // Listed items carry the same views as the single reads.
    let listed_n1 = inst
        .all("/api/v1/needs?category=gloves")
        .await
        .into_iter()
        .find(|n| n["id"] == s.id("N1"))
        .unwrap();
    assert_eq!(
        listed_n1,
        inst.ok(&format!("/api/v1/needs/{}", s.id("N1"))).await
    );
}

/// Offers.
async fn offer_listings_filter(inst: &Instance, s: &Scenario) {
    let offer_cases: &[&[(&str, &str)]] = &[
        &[],
        &[("status", "open")],
        &[("status", "expired")],
        &[("area", "CN")],
        &[("area", "TR-31")],
        &[("category", "respirator")],
        &[("category", "other")],
        &[("verified", "verified")],
        &[("verified", "pending")],
        &[("verified", "rejected")],
        &[("urgency", "critical")],
        &[("area", "CN-HB"), ("status", "open")],
    ];
    for params in offer_cases {
        let path = with_query(
            &format!("/api/v1/offers?{}", query_string(params)),
            "per_page=100",
        );
        let (ids, total) = inst.list(&path).await;
        let want = expected_posts(s, OFFERS, params);
        assert_eq!(s.names(&ids), want, "GET {path}");
        assert_eq!(total, want.len() as i64, "GET {path}: total");
    }
    assert_eq!(expected_posts(s, OFFERS, &[]), ["O1", "O2", "O3", "O5"]);
}

/// Pages.
async fn pages_are_bounded_and_complete(inst: &Instance, s: &Scenario) {
    let mut paged = vec![];
    for page in 1..=4 {
        let body = inst
            .ok(&format!("/api/v1/needs?per_page=4&page={page}"))
            .await;
        assert_eq!(body["total"], 9);
        assert_eq!(
            (&body["page"], &body["per_page"]),
            (&json!(page), &json!(4))
        );
        let ids: Vec<String> = body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(ids.len(), [4, 4, 1, 0][page - 1], "page {page}");
        paged.extend(ids);
    }
    assert_eq!(
        s.names(&paged),
        ["N2", "N3", "N1", "N7", "N9", "N5", "N4", "N8", "N10"]
    );
    let (ids, total) = inst
        .list("/api/v1/needs?urgency=high&per_page=2&page=2")
        .await;
    assert_eq!((s.names(&ids), total), (vec!["N9".to_owned()], 3));
    let body = inst.ok("/api/v1/needs").await;
    assert_eq!((&body["page"], &body["per_page"]), (&json!(1), &json!(20)));
    inst.ok("/api/v1/needs?per_page=100").await;
    for path in [
        "/api/v1/needs?per_page=101",
        "/api/v1/offers?per_page=1000",
        "/api/v1/orgs?per_page=101",
        "/api/v1/review?per_page=101",
    ] {
        inst.refused(path, 400, "per_page").await;
    }
}

/// Bad filter values name their parameter; ids are checked.
async fn bad_filter_values_name_their_parameter(inst: &Instance, s: &Scenario) {
    for (path, param) in [
        ("/api/v1/needs?status=closed", "status"),
        ("/api/v1/needs?status=OPEN", "status"),
        ("/api/v1/needs?urgency=urgent", "urgency"),
        ("/api/v1/needs?category=masks", "category"),
        ("/api/v1/needs?verified=yes", "verified"),
        ("/api/v1/needs?page=abc", "page"),
        ("/api/v1/needs?per_page=-1", "per_page"),
        ("/api/v1/needs?colour=red", "colour"),
        ("/api/v1/offers?status=gone", "status"),
        ("/api/v1/offers?category=gadgets", "category"),
        ("/api/v1/orgs?verified=maybe", "verified"),
        ("/api/v1/review?kind=need", "kind"),
        ("/api/v1/review?kind=pledge", "kind"),
        // Neither a code nor a region's name; a name several regions share.
        (
            "/api/v1/needs?area=Atlantis",
            "area \"Atlantis\" is neither",
        ),
        ("/api/v1/offers?area=Hubie", "area"),
        ("/api/v1/orgs?area=", "area is empty"),
        ("/api/v1/review?area=Georgia", "GE, US-GA"),
    ] {
        inst.refused(path, 400, param).await;
    }
    for path in ["/api/v1/needs/", "/api/v1/offers/", "/api/v1/orgs/"] {
        inst.refused(&format!("{path}{}", random_id()), 404, "id")
            .await;
        inst.refused(&format!("{path}not-a-hash"), 400, "id").await;
        inst.refused(&format!("{path}{}", s.id("N1").to_uppercase()), 400, "id")
            .await;
        inst.refused(&format!("{path}{}", &s.id("N1")[..63]), 400, "id")
            .await;
    }
}

/// Organisations.
async fn organisations_list_and_read(inst: &Instance, s: &Scenario) {
    let a = inst.ok(&format!("/api/v1/orgs/{}", s.id("A"))).await;
    assert_eq!(a["name"], "Wuhan Union Hospital");
    assert_eq!(a["type"], "hospital");
    assert_eq!(a["area"], json!({"code": "CN-HB", "name": "Hubei"}));
    assert_eq!(a["index"], s.index("A"));
    let org_cases: &[(&str, &[&'static str])] = &[
        ("", &["A", "B", "D", "E"]),
        ("verified=verified", &["A", "B"]),
        ("verified=pending", &["D", "E"]),
        ("verified=rejected", &["C"]),
        ("area=CN", &["A", "D", "E"]),
        ("area=CN-HB", &["A"]),
        ("area=IT", &["B"]),
        ("area=CN&verified=rejected", &["C"]),
        ("area=CN&verified=pending", &["D", "E"]),
        ("area=Hubei", &["A"]),
        ("area=湖北省", &["A"]),
        ("area=中国&verified=pending", &["D", "E"]),
        ("area=Lombardia", &["B"]),
    ];
    for (query, want) in org_cases {
        let path = format!("/api/v1/orgs?{query}&per_page=100");
        let (ids, total) = inst.list(&path).await;
        assert_eq!(s.names(&ids), s.by_index(want), "GET {path}");
        assert_eq!(total, want.len() as i64, "GET {path}");
    }
    let verified_by: Vec<(String, Value, Value)> = inst
        .all("/api/v1/orgs?verified=pending")
        .await
        .iter()
        .chain(inst.all("/api/v1/orgs?verified=verified").await.iter())
        .chain(inst.all("/api/v1/orgs?verified=rejected").await.iter())
        .map(|o| {
            (
                s.names(&[o["id"].as_str().unwrap().to_owned()])[0].clone(),
                o["verification"].clone(),
                o["verified_by"].clone(),
            )
        })
        .collect();
    assert_eq!(
        verified_by,
        [
            ("D".to_owned(), json!("pending"), json!(1)),
            ("E".to_owned(), json!("pending"), json!(0)),
            ("A".to_owned(), json!("verified"), json!(2)),
            ("B".to_owned(), json!("verified"), json!(2)),
            ("C".to_owned(), json!("rejected"), json!(0)),
        ]
    );
    let (ids, total) = inst.list("/api/v1/orgs?per_page=3&page=2").await;
    assert_eq!((s.names(&ids), total), (vec!["E".to_owned()], 4));
}

/// The review queue: organisations short of the quorum, posts without a verdict
/// (and still open), none rejected; oldest first.
async fn the_review_queue_holds_what_awaits_a_verdict(inst: &Instance, s: &Scenario) {
    let queue: &[(&str, &str, &str)] = &[
        ("D", "org.register", "CN"),
        ("E", "org.register", "CN-ZJ"),
        ("N1", "need.post", "CN-HB"),
        ("N2", "need.post", "CN-HB"),
        ("N3", "need.post", "IT-25"),
        ("N4", "need.post", "IT-25"),
        ("N7", "need.post", "CN-HB"),
        ("N9", "need.post", "CN-ZJ"),
        ("O1", "offer.post", "CN-HB"),
        ("O2", "offer.post", "IT-25"),
    ];
    let review_cases: &[(Option<&str>, Option<&str>)] = &[
        (None, None),
        (Some("org.register"), None),
        (Some("need.post"), None),
        (Some("offer.post"), None),
        (None, Some("IT")),
        (None, Some("CN-ZJ")),
        (Some("need.post"), Some("CN")),
        (Some("org.register"), Some("CN")),
        (None, Some("TR")),
    ];
    for (kind, area_filter) in review_cases {
        let mut params = vec!["per_page=100&sort=oldest".to_owned()];
        params.extend(kind.map(|k| format!("kind={k}")));
        params.extend(area_filter.map(|a| format!("area={a}")));
        let path = format!("/api/v1/review?{}", params.join("&"));
        let want: Vec<&'static str> = queue
            .iter()
            .filter(|(_, k, _)| kind.is_none_or(|want| *k == want))
            .filter(|(_, _, code)| area_filter.is_none_or(|want| area_matches(code, want)))
            .map(|(name, _, _)| *name)
            .collect();
        let (ids, total) = inst.list(&path).await;
        assert_eq!(s.names(&ids), s.by_index(&want), "GET {path}");
        assert_eq!(total, want.len() as i64, "GET {path}");
    }
    assert_eq!(
        inst.list("/api/v1/review?area=浙江省&per_page=100").await,
        inst.list("/api/v1/review?area=CN-ZJ&per_page=100").await
    );
    let all = inst.ok("/api/v1/review?per_page=100").await;
    let items = all["items"].as_array().unwrap();
    let d = items.iter().find(|i| i["id"] == s.id("D")).unwrap();
    assert_eq!(
        (&d["kind"], &d["verifies"]),
        (&json!("org.register"), &json!(1))
    );
    assert_eq!(d["title"], "National supply depot");
    let n1_item = items.iter().find(|i| i["id"] == s.id("N1")).unwrap();
    assert_eq!(n1_item["index"], s.index("N1"));
    assert!(
        n1_item["title"]
            .as_str()
            .unwrap()
            .contains("N95 respirator"),
        "{n1_item}"
    );
    let (ids, total) = inst
        .list("/api/v1/review?per_page=3&page=2&sort=oldest")
        .await;
    assert_eq!(total, 10);
    assert_eq!(s.names(&ids), s.by_index(&["N2", "N3", "N4"]));
}

/// One author's entries, exactly, in log order.
async fn an_authors_entries_come_exactly_in_log_order(inst: &Instance, s: &Scenario) {
    for key in [&s.keys.h1, &s.keys.h5, &s.keys.v, &s.keys.d1, &s.keys.mod2] {
        let author = public(key);
        let mut want: Vec<&Posted> = s.posted.values().filter(|p| p.author == author).collect();
        want.sort_by_key(|p| p.index);
        let body = inst.ok(&format!("/api/v1/authors/{author}/entries")).await;
        let got = body["entries"].as_array().unwrap();
        assert_eq!(
            got.iter()
                .map(|e| (
                    e["index"].as_u64().unwrap(),
                    e["leaf_hash"].as_str().unwrap()
                ))
                .collect::<Vec<_>>(),
            want.iter()
                .map(|p| (p.index, p.id.as_str()))
                .collect::<Vec<_>>(),
            "entries of {author}"
        );
        for e in got {
            let leaf = BASE64_STANDARD.decode(e["leaf"].as_str().unwrap()).unwrap();
            let entry = VerifiedEntry::from_leaf(&leaf).unwrap();
            assert_eq!(hex::encode(entry.author_key().as_bytes()), author);
        }
    }
    // The operator's include the two bootstrap grants.
    let op = public(&s.keys.op);
    let body = inst.ok(&format!("/api/v1/authors/{op}/entries")).await;
    // The bootstrap grants, after the log's first clock reading.
    let mut want: Vec<u64> = vec![1, 2];
    want.extend(
        s.posted
            .values()
            .filter(|p| p.author == op)
            .map(|p| p.index),
    );
    want.sort_unstable();
    let got: Vec<u64> = body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["index"].as_u64().unwrap())
        .collect();
    assert_eq!(got, want);
    let body = inst
        .ok(&format!(
            "/api/v1/authors/{}/entries?start={}&limit=2",
            public(&s.keys.h1),
            s.index("N1")
        ))
        .await;
    let got: Vec<u64> = body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["index"].as_u64().unwrap())
        .collect();
    assert_eq!(got, [s.index("N1"), s.index("N2")]);
    let nobody = inst
        .ok(&format!("/api/v1/authors/{}/entries", random_id()))
        .await;
    assert_eq!(nobody["entries"], json!([]));
    inst.refused("/api/v1/authors/xyz/entries", 400, "key")
        .await;
}

// ---------------------------------------------------------------------------------
// Trace.

/// Runs the binary off the async runtime, so the in-process server keeps serving.
async fn aidledger(args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_aidledger"))
            .args(&args)
            .env_remove("AIDLEDGER_URL")
            .env_remove("AIDLEDGER_DATA_DIR")
            .env_remove("DATABASE_URL")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .output()
            .expect("the binary runs")
    })
    .await
    .unwrap()
}

fn describe(out: &Output) -> String {
    format!(
        "status {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Checks a trace answer: one checkpoint signed by the log, every link's leaf hashing
/// to its hash, its proof verifying against that checkpoint, and the links being
/// `want` (name, kind, parent name) in log order.
fn check_trace(inst: &Instance, s: &Scenario, trace: &Value, want: &[(&str, &str, Option<&str>)]) {
    let checkpoint = LogVerifier::new(&inst.vkey)
        .unwrap()
        .verify(trace["checkpoint"].as_str().unwrap().as_bytes())
        .expect("the trace's checkpoint is signed by the log");
    assert_eq!(trace["tree_size"], checkpoint.size);
    let links = trace["links"].as_array().unwrap();
    let got: Vec<(String, String, Option<String>)> = links
        .iter()
        .map(|l| {
            (
                s.names(&[l["leaf_hash"].as_str().unwrap().to_owned()])[0].clone(),
                l["kind"].as_str().unwrap().to_owned(),
                l["parent"]
                    .as_str()
                    .map(|p| s.names(&[p.to_owned()])[0].clone()),
            )
        })
        .collect();
    let want: Vec<(String, String, Option<String>)> = want
        .iter()
        .map(|(n, k, p)| (n.to_string(), k.to_string(), p.map(str::to_owned)))
        .collect();
    assert_eq!(got, want);
    let mut last = None;
    for link in links {
        let index = link["index"].as_u64().unwrap();
        assert!(last < Some(index), "links in log order");
        last = Some(index);
        let leaf = BASE64_STANDARD
            .decode(link["leaf"].as_str().unwrap())
            .unwrap();
        let entry = VerifiedEntry::from_leaf(&leaf).expect("a link's leaf is a valid entry");
        let leaf_hash = tree::leaf_hash(&leaf);
        assert_eq!(
            hex32::encode(&leaf_hash),
            link["leaf_hash"].as_str().unwrap()
        );
        assert_eq!(entry.kind().name(), link["kind"]);
        let name = s.names(&[hex32::encode(&leaf_hash)])[0].clone();
        assert_eq!(index, s.index(&name), "{name}'s index");
        let proof: Vec<Hash> = link["proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| hex32::decode(h.as_str().unwrap()).unwrap())
            .collect();
        tree::verify_inclusion(&proof, index, checkpoint.size, leaf_hash, checkpoint.root)
            .unwrap_or_else(|e| panic!("{name}'s inclusion proof: {e:?}"));
        // The check is not vacuous: the proof is for this leaf only.
        let other = tree::leaf_hash(b"another leaf");
        assert!(
            tree::verify_inclusion(&proof, index, checkpoint.size, other, checkpoint.root).is_err()
        );
    }
}

#[tokio::test]
async fn trace_returns_the_chain_with_proofs_and_the_cli_verifies_it() {
    let dir = tempfile::tempdir().unwrap();
    let inst = Instance::start(dir.path(), scenario_clock).await;
    let s = build_scenario(&inst).await;

    let trace = inst.ok(&format!("/api/v1/trace/{}", s.id("N1"))).await;
    check_trace(
        &inst,
        &s,
        &trace,
        &[
            ("N1", "need.post", None),
            ("P1", "pledge", Some("N1")),
            ("P2", "pledge", Some("N1")),
            ("V1", "verdict", Some("N1")),
            ("S1", "shipment", Some("P1")),
            ("S2", "shipment", Some("P1")),
            ("S3", "shipment", Some("P2")),
            ("D1", "delivery.confirm", Some("S1")),
            ("D2", "delivery.confirm", Some("S3")),
        ],
    );
    assert_eq!(
        trace["checkpoint"].as_str().unwrap(),
        inst.checkpoint().await,
        "an idle log: the trace is against the latest checkpoint"
    );
    // A pledge's trace: the need, that pledge and what follows it, and the need's
    // verdicts; not the other pledge's shipment or delivery.
    let trace = inst.ok(&format!("/api/v1/trace/{}", s.id("P1"))).await;
    check_trace(
        &inst,
        &s,
        &trace,
        &[
            ("N1", "need.post", None),
            ("P1", "pledge", Some("N1")),
            ("V1", "verdict", Some("N1")),
            ("S1", "shipment", Some("P1")),
            ("S2", "shipment", Some("P1")),
            ("D1", "delivery.confirm", Some("S1")),
        ],
    );
    let trace = inst.ok(&format!("/api/v1/trace/{}", s.id("P2"))).await;
    check_trace(
        &inst,
        &s,
        &trace,
        &[
            ("N1", "need.post", None),
            ("P2", "pledge", Some("N1")),
            ("V1", "verdict", Some("N1")),
            ("S3", "shipment", Some("P2")),
            ("D2", "delivery.confirm", Some("S3")),
        ],
    );
    let trace = inst.ok(&format!("/api/v1/trace/{}", s.id("N3"))).await;
    check_trace(
        &inst,
        &s,
        &trace,
        &[("N3", "need.post", None), ("P3", "pledge", Some("N3"))],
    );
    let trace = inst.ok(&format!("/api/v1/trace/{}", s.id("N6"))).await;
    check_trace(
        &inst,
        &s,
        &trace,
        &[
            ("N6", "need.post", None),
            ("mod2 rejects N6", "verdict", Some("N6")),
        ],
    );
    let trace = inst.ok(&format!("/api/v1/trace/{}", s.id("N2"))).await;
    check_trace(&inst, &s, &trace, &[("N2", "need.post", None)]);
    // Only needs and pledges have a trace.
    for name in ["O1", "S1", "D1", "A"] {
        inst.refused(&format!("/api/v1/trace/{}", s.id(name)), 404, "")
            .await;
    }
    inst.refused(&format!("/api/v1/trace/{}", random_id()), 404, "")
        .await;
    inst.refused("/api/v1/trace/not-a-hash", 400, "hash").await;

    // The CLI verifies every link and prints it.
    for (name, links) in [("N1", 9), ("P1", 6), ("N2", 1)] {
        let trace = inst.ok(&format!("/api/v1/trace/{}", s.id(name))).await;
        let out = aidledger(&["trace", &s.id(name), "--url", &inst.url]).await;
        assert!(out.status.success(), "trace {name}: {}", describe(&out));
        let stdout = String::from_utf8_lossy(&out.stdout);
        for link in trace["links"].as_array().unwrap() {
            let index = link["index"].as_u64().unwrap();
            let hash = link["leaf_hash"].as_str().unwrap();
            let kind = link["kind"].as_str().unwrap();
            let line = stdout
                .lines()
                .find(|l| l.contains(&format!("#{index} ")) && l.contains(&hash[..16]))
                .unwrap_or_else(|| panic!("trace {name} should print link #{index}: {stdout}"));
            assert!(line.contains(kind), "{line}");
        }
        assert!(
            stdout.contains(&format!("OK: {links} links")),
            "trace {name}: {stdout}"
        );
        assert_eq!(
            stdout.lines().filter(|l| l.starts_with('✓')).count(),
            links,
            "{stdout}"
        );
    }
    // With the right key given explicitly it passes; with another log's key it fails.
    let out = aidledger(&[
        "trace",
        &s.id("P2"),
        "--url",
        &inst.url,
        "--vkey",
        &inst.vkey,
    ])
    .await;
    assert!(out.status.success(), "{}", describe(&out));
    let stranger = LogSigner::new("aidledger.localhost/log", SigningKey::from_bytes(&[9; 32]))
        .unwrap()
        .vkey();
    let out = aidledger(&[
        "trace",
        &s.id("P2"),
        "--url",
        &inst.url,
        "--vkey",
        &stranger,
    ])
    .await;
    assert!(!out.status.success(), "{}", describe(&out));
    // Unknown and malformed hashes fail.
    for hash in [random_id(), s.id("O1"), "xyz".to_owned()] {
        let out = aidledger(&["trace", &hash, "--url", &inst.url]).await;
        assert!(!out.status.success(), "trace {hash}: {}", describe(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("rror"),
            "{}",
            describe(&out)
        );
    }
    inst.stop().await;
}

// ---------------------------------------------------------------------------------
// Rebuild.

/// Every row of every `wf_*` table of the instance over `data_dir`, each as its SQL
/// literals, sorted.
async fn dump_derived(data_dir: &Path) -> BTreeMap<String, Vec<String>> {
    let pool = common::open_db(data_dir).await;
    let tables: Vec<String> = common::table_names(&pool)
        .await
        .into_iter()
        .filter(|t| t.starts_with("wf_"))
        .collect();
    assert!(tables.len() >= 9, "the workflow tables: {tables:?}");
    let mut out = BTreeMap::new();
    for table in tables {
        let rows = common::table_rows(&pool, &table).await;
        out.insert(table, rows);
    }
    pool.close().await;
    out
}

fn assert_same_tables(
    before: &BTreeMap<String, Vec<String>>,
    after: &BTreeMap<String, Vec<String>>,
    what: &str,
) {
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "{what}: tables"
    );
    for (table, rows) in before {
        let again = &after[table];
        if rows != again {
            let missing: Vec<&String> =
                rows.iter().filter(|r| !again.contains(r)).take(5).collect();
            let extra: Vec<&String> = again.iter().filter(|r| !rows.contains(r)).take(5).collect();
            panic!(
                "{what}: {table} differs ({} rows before, {} after)\nonly before: {missing:#?}\nonly after: {extra:#?}",
                rows.len(),
                again.len()
            );
        }
    }
}

/// Submits a generated workflow of `count` entries, each round fully before the next
/// (the entries of one round are independent and go concurrently).
async fn run_workflow(inst: &Instance, operator: SigningKey, count: usize, seed: u64) {
    let mut workflow = Workflow::new(Some(operator));
    let mut rng = StdRng::seed_from_u64(seed);
    let mut submitted = 0;
    while submitted < count {
        let round = workflow
            .round(&mut rng, (count - submitted).min(32))
            .unwrap();
        assert!(!round.is_empty());
        let mut tasks = tokio::task::JoinSet::new();
        for entry in round {
            let http = inst.http.clone();
            let url = format!("{}/api/v1/entries", inst.url);
            let kind = entry.kind();
            tasks.spawn(async move {
                let response = http
                    .post(url)
                    .header("content-type", "application/json")
                    .body(entry.into_leaf())
                    .send()
                    .await
                    .unwrap();
                (
                    kind,
                    response.status().as_u16(),
                    response.text().await.unwrap(),
                )
            });
        }
        while let Some(done) = tasks.join_next().await {
            let (kind, status, body) = done.unwrap();
            assert_eq!(
                status, 201,
                "seed {seed}: a generated {kind} was refused: {body}"
            );
            submitted += 1;
        }
    }
}

/// `aidledger rebuild` of the data directory `data_dir`, on the suite's backend.
async fn rebuild_args(data_dir: &Path) -> Vec<String> {
    let mut args = vec![
        "rebuild".to_owned(),
        "--data-dir".to_owned(),
        data_dir.to_str().unwrap().to_owned(),
    ];
    if let Some(url) = common::database_url(data_dir).await {
        args.extend(["--database-url".to_owned(), url]);
    }
    args
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rebuild_reproduces_the_incrementally_maintained_tables() {
    let dir = tempfile::tempdir().unwrap();
    let no_limits = |c: &mut Config| c.limits = common::NO_WRITE_LIMITS;
    let inst = Instance::start(dir.path(), |c| {
        no_limits(c);
        scenario_clock(c);
    })
    .await;
    let operator = inst.operator();
    let seed: u64 = rand::random();
    eprintln!("workflow seed {seed}");
    run_workflow(&inst, operator.clone(), 1500, seed).await;
    // Kinds the generated workflow does not write: updates, closures, verdicts of every
    // sort, a relayed need, a revoked role, private data and its redaction.
    let s = build_scenario(&inst).await;
    let extra = SigningKey::from_bytes(&[120; 32]);
    let (status, body) = inst
        .submit(&sign(
            &operator,
            Kind::RoleGrant,
            json!({"key": public(&extra), "role": "moderator"}),
        ))
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = inst
        .submit(&sign(
            &operator,
            Kind::RoleRevoke,
            json!({"key": public(&extra), "role": "moderator"}),
        ))
        .await;
    assert_eq!(status, 201, "{body}");
    let salt = [7u8; 32];
    let contact = moderation::private::Contact {
        name: Some("Li Wei".into()),
        phone: Some("+86 27 0000 0000".into()),
        email: None,
        address: None,
    };
    let mut private_offer = json!({
        "items": [item("Nitrile gloves", "gloves", 80, "box")],
        "area": area("CN-HB", "Hubei"),
        "description": "offer with a contact",
    });
    private_offer["contact"] = json!(moderation::private::commitment(&salt, &contact));
    let entry = sign(&s.keys.d1, Kind::OfferPost, private_offer);
    let response = inst
        .http
        .post(format!("{}/api/v1/submissions", inst.url))
        .json(&json!({
            "entry": String::from_utf8(entry.leaf().to_vec()).unwrap(),
            "private": {"salt": hex::encode(salt), "contact": contact},
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    let (status, body) = inst
        .submit(&sign(
            &s.keys.d1,
            Kind::Redaction,
            json!({"entry": hex32::encode(&entry.leaf_hash()), "reason": "request"}),
        ))
        .await;
    assert_eq!(status, 201, "{body}");

    let size = inst.head().await.size;
    assert!(size >= 1500 + 50, "size {size}");
    let reads = [
        "/api/v1/needs?per_page=100".to_owned(),
        "/api/v1/needs?verified=pending&per_page=100&page=2".to_owned(),
        "/api/v1/offers?per_page=100".to_owned(),
        "/api/v1/orgs?per_page=100".to_owned(),
        "/api/v1/review?per_page=100".to_owned(),
        format!("/api/v1/trace/{}", s.id("N1")),
        format!("/api/v1/needs/{}", s.id("N1")),
    ];
    let mut before_reads = vec![];
    for path in &reads {
        before_reads.push(inst.ok(path).await);
    }
    let db = dir.path();
    inst.stop().await;

    let incremental = dump_derived(db).await;
    for table in [
        "wf_roles",
        "wf_orgs",
        "wf_posts",
        "wf_post_items",
        "wf_links",
        "wf_link_items",
        "wf_verdicts",
        "wf_redactions",
        "wf_commitments",
    ] {
        assert!(
            !incremental.get(table).is_none_or(Vec::is_empty),
            "{table} should have rows"
        );
    }
    let rebuild = rebuild_args(dir.path()).await;
    let rebuild: Vec<&str> = rebuild.iter().map(String::as_str).collect();
    let out = aidledger(&rebuild).await;
    assert!(out.status.success(), "rebuild: {}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("from {size} entries")),
        "{}",
        describe(&out)
    );
    assert_same_tables(&incremental, &dump_derived(db).await, "after rebuild");

    // Lost rows come back.
    let pool = common::open_db(db).await;
    sqlx::query("DELETE FROM wf_posts")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    assert!(dump_derived(db).await["wf_posts"].is_empty());
    let out = aidledger(&rebuild).await;
    assert!(out.status.success(), "rebuild: {}", describe(&out));
    assert_same_tables(
        &incremental,
        &dump_derived(db).await,
        "after losing wf_posts",
    );

    // And the instance reads as before.
    let inst = Instance::start(dir.path(), no_limits).await;
    assert_eq!(inst.head().await.size, size);
    for (path, before) in reads.iter().zip(&before_reads) {
        let after = inst.ok(path).await;
        if path.contains("/trace/") {
            assert_eq!(after["links"], before["links"], "GET {path}");
        } else {
            assert_eq!(&after, before, "GET {path}");
        }
    }
    inst.stop().await;

    // A rebuild of a directory without a log fails.
    let empty = tempfile::tempdir().unwrap();
    let rebuild = rebuild_args(empty.path()).await;
    let rebuild: Vec<&str> = rebuild.iter().map(String::as_str).collect();
    let out = aidledger(&rebuild).await;
    assert!(!out.status.success(), "{}", describe(&out));
}

// ---------------------------------------------------------------------------------
// Write limits.

async fn offer_by(inst: &Instance, key: &SigningKey, tag: &str) -> reqwest::Response {
    let body = json!({
        "items": [item("Nitrile gloves", "gloves", 10, "box")],
        "area": area("CN-HB", "Hubei"),
        "description": tag,
    });
    inst.post_leaf(sign(key, Kind::OfferPost, body).into_leaf())
        .await
}

/// A 429 with a `Retry-After` of whole seconds and a message naming `what` is limited.
async fn assert_limited(response: reqwest::Response, what: &str) {
    assert_eq!(response.status(), 429);
    let retry = response
        .headers()
        .get("retry-after")
        .expect("429 carries Retry-After")
        .to_str()
        .unwrap()
        .parse::<u64>()
        .expect("Retry-After is whole seconds");
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    let body: Value = response.json().await.unwrap();
    let error = body["error"].as_str().expect("an error message");
    assert!(
        error.contains("too many") && error.contains(what),
        "{error:?} should say which limit"
    );
}

#[tokio::test]
async fn write_limits_answer_429_and_change_nothing() {
    // Per key: the sixth write by one key within the minute is refused.
    let dir = tempfile::tempdir().unwrap();
    let inst = Instance::start(dir.path(), |c| {
        c.bootstrap = false;
        c.limits = Limits {
            per_ip_per_minute: 0,
            per_key_per_minute: 5,
        };
    })
    .await;
    let (busy, other) = (
        SigningKey::from_bytes(&[61; 32]),
        SigningKey::from_bytes(&[62; 32]),
    );
    let leaves: Vec<Vec<u8>> = (0..6)
        .map(|i| {
            sign(
                &busy,
                Kind::OfferPost,
                json!({"items": [item("Masks", "surgical_mask", 10, "box")], "area": area("IT-25", "Lombardy"), "description": format!("burst {i}")}),
            )
            .into_leaf()
        })
        .collect();
    for leaf in &leaves[..5] {
        assert_eq!(inst.post_leaf(leaf.clone()).await.status(), 201);
    }
    let checkpoint = inst.checkpoint().await;
    let counts = inst.counts(&["entries", "wf_posts", "wf_post_items"]).await;
    assert_eq!(counts[0], common::CLOCK_READINGS as i64 + 5);
    assert_limited(inst.post_leaf(leaves[5].clone()).await, "key").await;
    assert_eq!(inst.checkpoint().await, checkpoint);
    assert_eq!(
        inst.counts(&["entries", "wf_posts", "wf_post_items"]).await,
        counts
    );
    assert_eq!(inst.ok("/api/v1/offers").await["total"], 5);
    // Another key still writes, and reads are not limited.
    assert_eq!(offer_by(&inst, &other, "other key").await.status(), 201);
    assert_eq!(inst.ok("/api/v1/offers").await["total"], 6);
    inst.stop().await;

    // Per address: the sixth write from one address is refused, whatever the key.
    let dir = tempfile::tempdir().unwrap();
    let inst = Instance::start(dir.path(), |c| {
        c.bootstrap = false;
        c.limits = Limits {
            per_ip_per_minute: 5,
            per_key_per_minute: 0,
        };
    })
    .await;
    let keys: Vec<SigningKey> = (70..76).map(|n| SigningKey::from_bytes(&[n; 32])).collect();
    let leaves: Vec<Vec<u8>> = keys
        .iter()
        .map(|k| {
            sign(
                k,
                Kind::OfferPost,
                json!({"items": [item("Masks", "surgical_mask", 10, "box")], "area": area("IT-25", "Lombardy"), "description": "one each"}),
            )
            .into_leaf()
        })
        .collect();
    for leaf in &leaves[..5] {
        assert_eq!(inst.post_leaf(leaf.clone()).await.status(), 201);
    }
    let checkpoint = inst.checkpoint().await;
    let counts = inst.counts(&["entries", "wf_posts", "wf_post_items"]).await;
    assert_limited(inst.post_leaf(leaves[5].clone()).await, "address").await;
    assert_eq!(inst.checkpoint().await, checkpoint);
    assert_eq!(
        inst.counts(&["entries", "wf_posts", "wf_post_items"]).await,
        counts
    );
    assert_eq!(inst.ok("/api/v1/offers").await["total"], 5);
    inst.stop().await;
}

// ---------------------------------------------------------------------------------
// Seed.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_with_the_operator_key_grows_the_log_by_exactly_the_count() {
    let dir = tempfile::tempdir().unwrap();
    let inst = Instance::start(dir.path(), |_| {}).await;
    let before = inst.head().await.size;
    assert_eq!(
        before,
        common::CLOCK_READINGS + 2,
        "the log's first clock reading and the bootstrap grants"
    );
    let key_file = dir.path().join("operator.key");
    let out = aidledger(&[
        "seed",
        "--url",
        &inst.url,
        "--count",
        "300",
        "--operator-key",
        key_file.to_str().unwrap(),
    ])
    .await;
    assert!(out.status.success(), "seed: {}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("submitted 300 entries"),
        "{}",
        describe(&out)
    );
    assert_eq!(inst.head().await.size, before + 300);
    // The operator appointed two moderators, and nothing else.
    let op = public(&inst.operator());
    let body = inst.ok(&format!("/api/v1/authors/{op}/entries")).await;
    let kinds: Vec<String> = body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let leaf = BASE64_STANDARD.decode(e["leaf"].as_str().unwrap()).unwrap();
            VerifiedEntry::from_leaf(&leaf)
                .unwrap()
                .kind()
                .name()
                .to_owned()
        })
        .collect();
    assert_eq!(kinds, ["role.grant"; 4]);
    let counts = inst.counts(&["entries", "wf_orgs", "wf_posts"]).await;
    assert_eq!(counts[0], common::CLOCK_READINGS as i64 + 302);
    assert!(counts[1] > 0 && counts[2] > 0, "{counts:?}");
    let out = aidledger(&["verify", "--url", &inst.url]).await;
    assert!(out.status.success(), "verify: {}", describe(&out));
    inst.stop().await;
}

// ---------------------------------------------------------------------------------
// Edge cases of the read API, each on a small instance of its own.

/// A bare instance (no bootstrap, so anyone may register) with one organisation in
/// CN-HB, one need of it and one offer.
async fn small_instance(dir: &Path) -> (Instance, String, String, String) {
    let inst = Instance::start(dir, |c| c.bootstrap = false).await;
    let h = SigningKey::from_bytes(&[81; 32]);
    let org = sign(
        &h,
        Kind::OrgRegister,
        json!({"name": "Hankou Hospital", "type": "hospital", "area": area("CN-HB", "Hubei")}),
    );
    assert_eq!(inst.submit(&org).await.0, 201);
    let org = hex32::encode(&org.leaf_hash());
    let need = sign(
        &h,
        Kind::NeedPost,
        json!({"org": org, "items": [item("N95 respirator", "respirator", 10, "piece")], "urgency": "high",
               "needed_by": in_days(10), "area": area("CN-HB", "Hubei")}),
    );
    assert_eq!(inst.submit(&need).await.0, 201);
    let offer = sign(
        &SigningKey::from_bytes(&[82; 32]),
        Kind::OfferPost,
        json!({"items": [item("Nitrile gloves", "gloves", 10, "box")], "area": area("CN-HB", "Hubei")}),
    );
    assert_eq!(inst.submit(&offer).await.0, 201);
    (
        inst,
        org,
        hex32::encode(&need.leaf_hash()),
        hex32::encode(&offer.leaf_hash()),
    )
}

#[tokio::test]
async fn a_need_route_does_not_serve_offers_and_vice_versa() {
    let dir = tempfile::tempdir().unwrap();
    let (inst, _, need, offer) = small_instance(dir.path()).await;
    assert_eq!(
        inst.ok(&format!("/api/v1/needs/{need}")).await["kind"],
        "need"
    );
    assert_eq!(
        inst.ok(&format!("/api/v1/offers/{offer}")).await["kind"],
        "offer"
    );
    inst.refused(&format!("/api/v1/needs/{offer}"), 404, "")
        .await;
    inst.refused(&format!("/api/v1/offers/{need}"), 404, "")
        .await;
    inst.stop().await;
}

#[tokio::test]
async fn a_route_refuses_the_parameters_it_does_not_support() {
    let dir = tempfile::tempdir().unwrap();
    let (inst, ..) = small_instance(dir.path()).await;
    // The parameters each route does support are checked ...
    inst.refused("/api/v1/orgs?verified=bogus", 400, "verified")
        .await;
    inst.refused("/api/v1/review?kind=bogus", 400, "kind").await;
    inst.refused("/api/v1/needs?kind=need.post", 400, "kind")
        .await;
    // ... and the other route's are not silently ignored.
    inst.refused("/api/v1/orgs?kind=bogus", 400, "kind").await;
    inst.refused("/api/v1/review?verified=bogus", 400, "verified")
        .await;
    inst.stop().await;
}

#[tokio::test]
async fn the_area_filter_matches_region_codes_literally() {
    let dir = tempfile::tempdir().unwrap();
    let (inst, org, need, offer) = small_instance(dir.path()).await;
    for (path, id) in [
        ("/api/v1/needs", &need),
        ("/api/v1/offers", &offer),
        ("/api/v1/orgs", &org),
        ("/api/v1/review", &need),
    ] {
        assert!(listed(&inst, &format!("{path}?area=CN"), id).await);
        // A code in lower case is resolved to the code before the query (as a name
        // would be), never matched by a case-blind pattern.
        for area in ["cn", "cn-hb"] {
            assert!(listed(&inst, &format!("{path}?area={area}"), id).await);
        }
        for area in ["_N", "C_", "%25", "CN-%25", "c_-hb"] {
            let query = format!("{path}?area={area}");
            let (status, body) = inst.get(&query).await;
            if status == 200 {
                assert!(
                    !body["items"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|i| i["id"] == *id),
                    "GET {query} should not match CN-HB: {body}"
                );
            } else {
                assert_eq!(status, 400, "GET {query}: {body}");
                assert!(body["error"].as_str().unwrap().contains("area"), "{body}");
            }
        }
    }
    inst.stop().await;
}

#[tokio::test]
async fn a_page_far_past_the_end_is_empty_or_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (inst, ..) = small_instance(dir.path()).await;
    for path in [
        "/api/v1/needs",
        "/api/v1/offers",
        "/api/v1/orgs",
        "/api/v1/review",
    ] {
        for (page, per_page) in [(1000u32, 100u32), (50_000_000, 100), (u32::MAX, 100)] {
            let url = format!("{}{path}?page={page}&per_page={per_page}", inst.url);
            let response = inst
                .http
                .get(&url)
                .send()
                .await
                .unwrap_or_else(|e| panic!("GET {url} got no answer: {e}"));
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap();
            match status {
                200 => assert_eq!(body["items"], json!([]), "GET {url}"),
                400 => assert!(body["error"].as_str().unwrap().contains("page"), "{body}"),
                _ => panic!("GET {url}: {status} {body}"),
            }
        }
    }
    // The server still answers.
    inst.ok("/api/v1/needs").await;
    inst.stop().await;
}

#[tokio::test]
async fn expired_posts_leave_the_review_queue_like_closed_ones() {
    // Posts from February 2020, when the log's clock said so, and then today's.
    let dir = tempfile::tempdir().unwrap();
    let then = OffsetDateTime::from_unix_timestamp(1_580_544_000).unwrap();
    let clock = common::ManualClock::new(then);
    let inst = Instance::start(dir.path(), {
        let clock = clock.clone();
        move |c| {
            c.bootstrap = false;
            c.clock = clock;
        }
    })
    .await;
    let h = SigningKey::from_bytes(&[81; 32]);
    let org = sign_at(
        &h,
        Kind::OrgRegister,
        json!({"name": "Hankou Hospital", "type": "hospital", "area": area("CN-HB", "Hubei")}),
        then,
    );
    assert_eq!(inst.submit(&org).await.0, 201);
    let org = hex32::encode(&org.leaf_hash());
    let old = sign_at(
        &h,
        Kind::NeedPost,
        json!({"org": org, "items": [item("Face shields", "face_shield", 10, "piece")], "urgency": "low",
               "needed_by": "2020-02-15", "area": area("CN-HB", "Hubei")}),
        then,
    );
    assert_eq!(inst.submit(&old).await.0, 201);
    let old = hex32::encode(&old.leaf_hash());
    let stale_offer = sign_at(
        &SigningKey::from_bytes(&[82; 32]),
        Kind::OfferPost,
        json!({"items": [item("Gloves", "gloves", 10, "box")], "area": area("CN-HB", "Hubei"), "available_until": "2020-03-01"}),
        then,
    );
    assert_eq!(inst.submit(&stale_offer).await.0, 201);
    let stale_offer = hex32::encode(&stale_offer.leaf_hash());
    clock.set(OffsetDateTime::now_utc());
    let need = sign(
        &h,
        Kind::NeedPost,
        json!({"org": org, "items": [item("N95 respirator", "respirator", 10, "piece")], "urgency": "high",
               "needed_by": in_days(10), "area": area("CN-HB", "Hubei")}),
    );
    assert_eq!(inst.submit(&need).await.0, 201);
    let need = hex32::encode(&need.leaf_hash());
    let offer = sign(
        &SigningKey::from_bytes(&[82; 32]),
        Kind::OfferPost,
        json!({"items": [item("Nitrile gloves", "gloves", 10, "box")], "area": area("CN-HB", "Hubei")}),
    );
    assert_eq!(inst.submit(&offer).await.0, 201);
    let offer = hex32::encode(&offer.leaf_hash());
    let met = sign(
        &h,
        Kind::NeedPost,
        json!({"org": org, "items": [item("Goggles", "goggles", 10, "piece")], "urgency": "low",
               "needed_by": in_days(3), "area": area("CN-HB", "Hubei")}),
    );
    assert_eq!(inst.submit(&met).await.0, 201);
    let met = hex32::encode(&met.leaf_hash());
    assert_eq!(
        inst.submit(&sign(
            &h,
            Kind::NeedUpdate,
            json!({"need": met, "close": "met"})
        ))
        .await
        .0,
        201
    );
    assert_eq!(
        inst.ok(&format!("/api/v1/needs/{old}")).await["status"],
        "expired"
    );
    assert_eq!(
        inst.ok(&format!("/api/v1/offers/{stale_offer}")).await["status"],
        "expired"
    );
    let queue: Vec<String> = inst
        .all("/api/v1/review")
        .await
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(!queue.contains(&met), "a met need is not queued");
    assert_eq!(
        queue,
        [org, need, offer],
        "only what is still open is queued"
    );
    inst.stop().await;
}
