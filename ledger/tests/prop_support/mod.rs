//! Shared by ledger/tests/prop_*.rs: the checks the fuzz targets run, the case counts,
//! and generators of inputs that get past the first refusals (JSON, envelope, schema),
//! so the properties reach the deeper rules rather than stopping at a syntax error.
#![allow(dead_code)]

#[path = "../../fuzz/src/lib.rs"]
pub mod checks;

use ed25519_dalek::SigningKey;
use ledger::body::MAX_QUANTITY;
use ledger::entry::{canonical_json, format_timestamp, UnsignedEntry};
use ledger::Kind;
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

/// A property's case count: `default` unless the PROPTEST_CASES environment variable
/// asks for another (e.g. `PROPTEST_CASES=100000 cargo test -p aidledger-ledger --test
/// prop_entry --release` for a longer search than CI's).
pub fn config(default: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default);
    Config {
        cases,
        ..Config::default()
    }
}

/// The signed leaves of docs/vectors: real entries of seven kinds by one author.
pub fn vector_leaves() -> Vec<Vec<u8>> {
    let vectors: Value =
        serde_json::from_str(include_str!("../../../docs/vectors/ledger-v1.json")).unwrap();
    vectors["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["leaf"].as_str().unwrap().as_bytes().to_vec())
        .collect()
}

/// Any JSON value, nested a few levels.
pub fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        "\\PC{0,12}".prop_map(Value::from),
        any::<String>().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{0,10}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Mostly well-formed values of `choices`, sometimes anything.
fn one_of(choices: &'static [&'static str]) -> BoxedStrategy<Value> {
    prop_oneof![
        20 => prop::sample::select(choices).prop_map(Value::from),
        1 => any_json(),
    ]
    .boxed()
}

fn hex64() -> BoxedStrategy<Value> {
    prop_oneof![
        30 => "[0-9a-f]{64}".prop_map(Value::from),
        1 => "[0-9a-fA-F]{63,65}".prop_map(Value::from),
        1 => any_json(),
    ]
    .boxed()
}

/// Free text: usually fine, sometimes blank, too long or holding control characters.
fn text() -> BoxedStrategy<Value> {
    prop_oneof![
        30 => "\\PC{1,30}".prop_map(Value::from),
        1 => prop_oneof![Just(String::new()), Just("  ".into()), Just("a\u{7}b".into())]
            .prop_map(Value::from),
        1 => "[a-z口]{195,2005}".prop_map(Value::from),
        1 => any_json(),
    ]
    .boxed()
}

fn date() -> BoxedStrategy<Value> {
    prop_oneof![
        20 => (2000..2100u32, 1..=12u32, 1..=28u32)
            .prop_map(|(y, m, d)| Value::from(format!("{y}-{m:02}-{d:02}"))),
        2 => "[0-9+-]{1,4}-[0-9]{1,3}-[0-9]{1,3}".prop_map(Value::from),
        1 => any_json(),
    ]
    .boxed()
}

/// A timestamp as `created_at` and the log's clock write it, or another spelling.
fn timestamp() -> BoxedStrategy<Value> {
    prop_oneof![
        6 => (0..4_102_444_800i64).prop_map(|t| {
            Value::from(format_timestamp(OffsetDateTime::from_unix_timestamp(t).unwrap()))
        }),
        1 => prop::sample::select(
            &[
                "2020-01-26T00:53:20+00:00",
                "2020-01-26T00:53:20.5Z",
                "2020-01-26 00:53:20Z",
                "2020-02-30T00:00:00Z",
            ][..]
        )
        .prop_map(Value::from),
        1 => any_json(),
    ]
    .boxed()
}

fn quantity() -> BoxedStrategy<Value> {
    prop_oneof![
        30 => (1..=MAX_QUANTITY).prop_map(Value::from),
        1 => prop_oneof![Just(0), Just(MAX_QUANTITY + 1), any::<u64>()].prop_map(Value::from),
        1 => prop_oneof![Just(json!(1.0)), Just(json!(-1)), Just(json!("5"))],
    ]
    .boxed()
}

fn area() -> BoxedStrategy<Value> {
    let code = prop_oneof![
        20 => prop::sample::select(&["CN", "CN-HB", "US-CA", "DE-BY", "IT-25"][..]).prop_map(String::from),
        1 => "[A-Za-z0-9-]{0,7}",
    ];
    prop_oneof![
        30 => (code, text()).prop_map(|(code, name)| json!({"code": code, "name": name})),
        1 => any_json(),
    ]
    .boxed()
}

const CATEGORIES: &[&str] = &[
    "respirator",
    "surgical_mask",
    "gown_coverall",
    "gloves",
    "goggles",
    "face_shield",
    "disinfectant",
    "thermometer",
    "ventilator",
    "oxygen",
    "medicine",
    "food",
    "other",
];
const UNITS: &[&str] = &[
    "piece", "pair", "box", "carton", "bottle", "litre", "kilogram", "unit", "set", "dose",
    "cylinder",
];

/// An item line of a need or offer, or (`lines`) a quantity against a need's line.
fn items(lines: bool) -> BoxedStrategy<Value> {
    let one = if lines {
        (0..4u32, quantity())
            .prop_map(|(line, quantity)| json!({"line": line, "quantity": quantity}))
            .boxed()
    } else {
        (
            text(),
            one_of(CATEGORIES),
            quantity(),
            one_of(UNITS),
            prop::option::of(text()),
        )
            .prop_map(|(item, category, quantity, unit, spec)| {
                let mut v =
                    json!({"item": item, "category": category, "quantity": quantity, "unit": unit});
                if let Some(spec) = spec {
                    v["spec"] = spec;
                }
                v
            })
            .boxed()
    };
    prop_oneof![
        30 => prop::collection::vec(one, 1..4).prop_map(Value::from),
        1 => Just(json!([])),
        1 => any_json(),
    ]
    .boxed()
}

fn evidence() -> BoxedStrategy<Value> {
    let url = prop_oneof!["https://[a-z.]{1,20}/[a-z]{0,10}", "\\PC{0,20}"];
    (prop::option::of(url), prop::option::of(hex64()))
        .prop_map(|(url, photo)| {
            let mut v = json!({});
            if let Some(url) = url {
                v["url"] = url.into();
            }
            if let Some(photo) = photo {
                v["photo_sha256"] = photo;
            }
            v
        })
        .boxed()
}

/// A value for a body field, by the field's name (the names of body.rs).
fn field_value(kind: &str, field: &str) -> BoxedStrategy<Value> {
    match field {
        "org" | "need" | "pledge" | "shipment" | "entry" | "key" | "original" | "offer"
        | "contact" => hex64(),
        "items" => items(!matches!(kind, "need.post" | "offer.post")),
        "area" => area(),
        "needed_by" | "available_until" => date(),
        "time" => timestamp(),
        "evidence" => evidence(),
        "urgency" => one_of(&["critical", "high", "medium", "low"]),
        "type" => one_of(&[
            "hospital", "clinic", "shelter", "charity", "carrier", "company",
        ]),
        "verdict" if kind == "org.verify" => one_of(&["verified", "rejected"]),
        "verdict" => one_of(&["verify", "reject", "flag_duplicate", "flag_stale"]),
        "role" => one_of(&["administrator", "moderator", "member"]),
        "reason" if kind == "redaction" => one_of(&["request", "retention"]),
        "condition" => one_of(&["good", "damaged", "partial"]),
        "close" => one_of(&["met", "withdrawn", "expired"]),
        _ => text(),
    }
}

/// Each kind's body fields: required, then optional. A kind missing here (one added
/// since) is still exercised through the other kinds' shapes and `any_json`.
const SHAPES: &[(&str, &[&str], &[&str])] = &[
    (
        "org.register",
        &["name", "type", "area"],
        &["description", "contact"],
    ),
    ("org.verify", &["org", "verdict", "reason"], &[]),
    (
        "need.post",
        &["org", "items", "urgency", "needed_by", "area"],
        &["description", "evidence", "contact"],
    ),
    ("need.update", &["need"], &["items", "close"]),
    (
        "offer.post",
        &["items", "area"],
        &["available_until", "description", "contact"],
    ),
    ("pledge", &["need", "items"], &["offer", "contact"]),
    (
        "shipment",
        &["pledge", "carrier", "items"],
        &["tracking", "contact"],
    ),
    (
        "delivery.confirm",
        &["shipment", "items", "condition"],
        &["note"],
    ),
    ("verdict", &["entry", "verdict", "reason"], &["original"]),
    ("role.grant", &["key", "role"], &["org"]),
    ("role.revoke", &["key", "role"], &["org"]),
    ("redaction", &["entry", "reason"], &["rule"]),
    ("log.clock", &["time"], &[]),
];

/// A body shaped like one kind's: its required fields (each occasionally missing), some
/// optional ones, now and then a field no kind has.
pub fn body() -> impl Strategy<Value = Value> {
    prop::sample::select(SHAPES).prop_flat_map(|(kind, required, optional)| {
        let fields: Vec<_> = required
            .iter()
            .map(|&name| (name, 0.95))
            .chain(optional.iter().map(|&name| (name, 0.5)))
            .map(|(name, kept)| {
                (prop::bool::weighted(kept), field_value(kind, name))
                    .prop_map(move |(keep, value)| keep.then_some((name, value)))
            })
            .collect();
        (fields, prop::bool::weighted(0.05)).prop_map(|(fields, extra)| {
            let mut body: Map<String, Value> = fields
                .into_iter()
                .flatten()
                .map(|(name, value)| (name.to_owned(), value))
                .collect();
            if extra {
                body.insert("colour".into(), "red".into());
            }
            Value::Object(body)
        })
    })
}

/// A freshly signed leaf: a generated body some kind accepts, signed by a random key at
/// a random time (or a vector's leaf when the body fits no kind).
pub fn signed_leaf() -> impl Strategy<Value = Vec<u8>> {
    (
        body(),
        any::<[u8; 32]>(),
        0..4_102_444_800i64,
        any::<prop::sample::Index>(),
    )
        .prop_map(|(body, seed, at, which)| {
            let key = SigningKey::from_bytes(&seed);
            let at = OffsetDateTime::from_unix_timestamp(at).unwrap();
            Kind::ALL
                .into_iter()
                .find_map(|kind| {
                    UnsignedEntry::new(kind, &key.verifying_key(), at, body.clone())
                        .sign(&key)
                        .ok()
                })
                .map(|e| e.into_leaf())
                .unwrap_or_else(|| which.get(&vector_leaves()).clone())
        })
}

/// An envelope whose fields are each well-formed or not, in canonical or another order,
/// now and then missing a field or carrying one more.
pub fn envelope() -> impl Strategy<Value = Vec<u8>> {
    let key = any::<[u8; 32]>()
        .prop_map(|s| hex::encode(SigningKey::from_bytes(&s).verifying_key().as_bytes()));
    let v = prop_oneof![
        6 => Just(json!(1)),
        1 => prop_oneof![Just(json!(0)), Just(json!(2)), Just(json!(1.0)), Just(json!("1")), Just(json!(u64::MAX))],
    ];
    let kinds: Vec<&'static str> = Kind::ALL.iter().map(|k| k.name()).collect();
    let kind = prop_oneof![
        6 => prop::sample::select(kinds).prop_map(Value::from),
        1 => "[a-z.]{0,16}".prop_map(Value::from),
    ];
    let author = prop_oneof![
        6 => key.prop_map(Value::from),
        // The identity point: a small-order key.
        1 => Just(json!(format!("01{}", "0".repeat(62)))),
        1 => hex64(),
    ];
    let body = prop_oneof![4 => body(), 1 => any_json()];
    let sig = prop_oneof![
        6 => "[0-9a-f]{128}".prop_map(Value::from),
        1 => "[0-9a-fA-F]{127,129}".prop_map(Value::from),
        1 => any_json(),
    ];
    (
        (v, kind, author, timestamp(), body, sig),
        prop::option::of(0..7usize),
        any::<bool>(),
    )
        .prop_map(|((v, kind, author, created_at, body, sig), drop, canonical)| {
            let mut entry = json!({"v": v, "kind": kind, "author": author, "created_at": created_at, "body": body, "sig": sig});
            let map = entry.as_object_mut().unwrap();
            match drop {
                Some(6) => {
                    map.insert("extra".into(), json!(1));
                }
                Some(n) => {
                    let name = map.keys().nth(n).unwrap().clone();
                    map.remove(&name);
                }
                None => {}
            }
            if canonical {
                canonical_json(&entry)
            } else {
                serde_json::to_vec_pretty(&entry).unwrap()
            }
        })
}

/// A change to a leaf's bytes or to its fields.
#[derive(Clone, Debug)]
pub enum Mutation {
    FlipBit(prop::sample::Index, u8),
    Truncate(prop::sample::Index),
    Insert(prop::sample::Index, u8),
    Remove(prop::sample::Index),
    /// Two top-level fields trade values (the result written canonically).
    SwapFields(prop::sample::Index, prop::sample::Index),
    /// One top-level field gets another value (the result written canonically).
    ReplaceField(prop::sample::Index, Value),
    /// One field of the body gets another value.
    ReplaceBodyField(prop::sample::Index, Value),
}

pub fn mutation() -> impl Strategy<Value = Mutation> {
    use prop::sample::Index;
    prop_oneof![
        (any::<Index>(), 0..8u8).prop_map(|(i, b)| Mutation::FlipBit(i, b)),
        any::<Index>().prop_map(Mutation::Truncate),
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<Index>().prop_map(Mutation::Remove),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapFields(a, b)),
        (any::<Index>(), any_json()).prop_map(|(i, v)| Mutation::ReplaceField(i, v)),
        (any::<Index>(), any_json()).prop_map(|(i, v)| Mutation::ReplaceBodyField(i, v)),
    ]
}

impl Mutation {
    pub fn apply(&self, leaf: &[u8]) -> Vec<u8> {
        let mut bytes = leaf.to_vec();
        let fields = || -> Map<String, Value> { serde_json::from_slice(leaf).unwrap() };
        match self {
            Mutation::FlipBit(i, bit) => {
                let at = i.index(bytes.len());
                bytes[at] ^= 1 << bit;
            }
            Mutation::Truncate(i) => {
                let at = i.index(bytes.len());
                bytes.truncate(at);
            }
            Mutation::Insert(i, b) => {
                let at = i.index(bytes.len() + 1);
                bytes.insert(at, *b);
            }
            Mutation::Remove(i) => {
                let at = i.index(bytes.len());
                bytes.remove(at);
            }
            Mutation::SwapFields(a, b) => {
                let mut map = fields();
                let names: Vec<String> = map.keys().cloned().collect();
                let (a, b) = (a.get(&names), b.get(&names));
                let (va, vb) = (map[a].clone(), map[b].clone());
                map.insert(a.clone(), vb);
                map.insert(b.clone(), va);
                bytes = canonical_json(&map);
            }
            Mutation::ReplaceField(i, value) => {
                let mut map = fields();
                let name = i.get(&map.keys().cloned().collect::<Vec<_>>()).clone();
                map.insert(name, value.clone());
                bytes = canonical_json(&map);
            }
            Mutation::ReplaceBodyField(i, value) => {
                let mut map = fields();
                let body = map.get_mut("body").and_then(Value::as_object_mut);
                if let Some(body) = body.filter(|b| !b.is_empty()) {
                    let name = i.get(&body.keys().cloned().collect::<Vec<_>>()).clone();
                    body.insert(name, value.clone());
                }
                bytes = canonical_json(&map);
            }
        }
        bytes
    }
}

/// The kinds `body` has a shape of.
pub fn shape_names() -> impl Iterator<Item = &'static str> {
    SHAPES.iter().map(|(kind, ..)| *kind)
}
