//! The HTTP contract, end to end against a real instance: every refusal leaves the log
//! exactly as it was, and every answer (entries, proofs, checkpoints, tiles) verifies
//! with the RFC 6962 / C2SP rules alone.

use crate::common;
mod hardening;

use base64::prelude::*;
use common::{author, offer, offer_body, org, TestInstance};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use ledger::body::{Body, MAX_LINES};
use ledger::checkpoint::{Checkpoint, LogVerifier};
use ledger::entry::{canonical_json, UnsignedEntry, VerifiedEntry, SIGNATURE_DOMAIN};
use ledger::tree::{self, interior_hash, leaf_hash, EMPTY_HASH};
use ledger::{hex32, Hash, Kind};
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use time::OffsetDateTime;

// ---------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------

/// A raw answer: status, headers and body bytes.
struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {}: body is not JSON ({e}): {:?}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    fn header(&self, name: reqwest::header::HeaderName) -> String {
        self.headers
            .get(&name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }

    /// The `error` message of a JSON error answer.
    fn error(&self) -> String {
        assert!(
            self.header(CONTENT_TYPE).starts_with("application/json"),
            "error answers are JSON, got content-type {:?}",
            self.header(CONTENT_TYPE)
        );
        let v = self.json();
        common::error_message(&v)
            .unwrap_or_else(|| panic!("error body is {{\"error\": ...}}: {v}"))
            .to_owned()
    }
}

fn http() -> reqwest::Client {
    common::http()
}

async fn send(request: reqwest::RequestBuilder) -> Reply {
    let response = request.send().await.expect("request is answered");
    Reply {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.bytes().await.expect("body").to_vec(),
    }
}

async fn get(instance: &TestInstance, path: &str) -> Reply {
    send(http().get(format!("{}{path}", instance.url))).await
}

async fn post_entry(instance: &TestInstance, body: Vec<u8>) -> Reply {
    send(
        http()
            .post(format!("{}/api/v1/entries", instance.url))
            .header(CONTENT_TYPE, "application/json")
            .body(body),
    )
    .await
}

/// Everything a refusal must leave untouched: the published checkpoint and the rows.
async fn snapshot(instance: &TestInstance) -> (String, (i64, i64, i64)) {
    let checkpoint = get(instance, "/checkpoint").await;
    assert_eq!(checkpoint.status, 200);
    (
        String::from_utf8(checkpoint.body).unwrap(),
        instance.table_counts().await,
    )
}

/// Sends `request`, expects a JSON error with `status` whose message contains every
/// one of `needles` (case-insensitively), and checks that nothing changed.
async fn assert_refused(
    instance: &TestInstance,
    what: &str,
    request: reqwest::RequestBuilder,
    status: u16,
    needles: &[&str],
) {
    let before = snapshot(instance).await;
    let reply = send(request).await;
    assert_eq!(
        reply.status,
        status,
        "{what}: status (body {:?})",
        String::from_utf8_lossy(&reply.body)
    );
    let message = reply.error();
    for needle in needles {
        assert!(
            message.to_lowercase().contains(&needle.to_lowercase()),
            "{what}: error {message:?} should mention {needle:?}"
        );
    }
    assert_eq!(
        snapshot(instance).await,
        before,
        "{what}: a refused request changed the log"
    );
}

async fn assert_entry_refused(
    instance: &TestInstance,
    what: &str,
    body: Vec<u8>,
    status: u16,
    needles: &[&str],
) {
    let request = http()
        .post(format!("{}/api/v1/entries", instance.url))
        .header(CONTENT_TYPE, "application/json")
        .body(body);
    assert_refused(instance, what, request, status, needles).await;
}

async fn assert_get_refused(instance: &TestInstance, path: &str, status: u16, needles: &[&str]) {
    let request = http().get(format!("{}{path}", instance.url));
    assert_refused(instance, path, request, status, needles).await;
}

fn fixed_time() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap()
}

/// The unsigned part of an entry as a JSON value, for tampering.
fn unsigned_value(key: &SigningKey, kind: &str, body: Value) -> Value {
    json!({
        "v": 1,
        "kind": kind,
        "author": hex::encode(key.verifying_key().as_bytes()),
        "created_at": "2023-11-14T22:13:20Z",
        "body": body,
    })
}

/// The unsigned part of a signed entry's value.
fn strip_sig(signed: &Value) -> Value {
    let mut v = signed.clone();
    v.as_object_mut().unwrap().remove("sig");
    v
}

/// Signs any unsigned value the way an author does (domain prefix + JCS bytes) and
/// returns the canonical leaf, without the library's validity check: so a test can
/// produce an entry that is correctly signed yet wrong in exactly one other way.
fn sign_value(key: &SigningKey, unsigned: &Value) -> Vec<u8> {
    let mut message = SIGNATURE_DOMAIN.to_vec();
    message.extend(canonical_json(unsigned));
    let sig = key.sign(&message);
    let mut signed = unsigned.clone();
    signed["sig"] = json!(hex::encode(sig.to_bytes()));
    canonical_json(&signed)
}

fn leaf_value(leaf: &[u8]) -> Value {
    serde_json::from_slice(leaf).unwrap()
}

/// RFC 6962 Merkle tree hash, written out from the RFC (split at the largest power of
/// two smaller than n), independent of the ledger's tree code.
fn mth(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => EMPTY_HASH,
        1 => leaves[0],
        n => {
            let mut k = 1;
            while k * 2 < n {
                k *= 2;
            }
            interior_hash(mth(&leaves[..k]), mth(&leaves[k..]))
        }
    }
}

async fn latest_checkpoint(instance: &TestInstance) -> (String, Checkpoint) {
    let key = get(instance, "/api/v1/log/key").await.json();
    let verifier = LogVerifier::new(key["vkey"].as_str().unwrap()).unwrap();
    let note = String::from_utf8(get(instance, "/checkpoint").await.body).unwrap();
    let checkpoint = verifier
        .verify(note.as_bytes())
        .expect("checkpoint verifies");
    (note, checkpoint)
}

/// Submits through the raw API and returns (status, answer).
async fn submit_raw(instance: &TestInstance, leaf: Vec<u8>) -> (u16, Value) {
    let reply = post_entry(instance, leaf).await;
    let status = reply.status;
    (status, reply.json())
}

/// An entry submitted by `submit_many`, with the server's answer and the inclusion
/// proof fetched right after the acknowledgement, at the acknowledged tree size.
struct Submitted {
    leaf: Vec<u8>,
    answer: Value,
    proof: Vec<Hash>,
}

/// Signs and submits `count` distinct entries from several authors at once.
async fn submit_many(instance: &TestInstance, tag: &str, count: usize) -> Vec<Submitted> {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..count {
        let url = instance.url.clone();
        let tag = tag.to_owned();
        tasks.spawn(async move {
            let key = author(1 + (i % 5) as u8);
            // Both kinds are admitted from anyone on a bare log.
            let tag = format!("{tag} #{i} 口罩");
            let leaf = if i % 2 == 0 {
                offer(&key, &tag)
            } else {
                org(&key, &tag)
            };
            let reply = send(
                http()
                    .post(format!("{url}/api/v1/entries"))
                    .header(CONTENT_TYPE, "application/json")
                    .body(leaf.clone()),
            )
            .await;
            assert_eq!(
                reply.status,
                201,
                "{}",
                String::from_utf8_lossy(&reply.body)
            );
            let answer = reply.json();
            // An acknowledged entry is immediately provable at the acknowledged size.
            let proof = send(http().get(format!(
                "{url}/api/v1/log/proof/inclusion?leaf_hash={}&tree_size={}",
                answer["leaf_hash"].as_str().unwrap(),
                answer["tree_size"]
            )))
            .await;
            assert_eq!(
                proof.status,
                200,
                "proof right after the ack: {}",
                String::from_utf8_lossy(&proof.body)
            );
            let proof = proof.json();
            assert_eq!(proof["leaf_index"], answer["index"]);
            Submitted {
                leaf,
                answer,
                proof: decode_hashes(&proof["hashes"]),
            }
        });
    }
    let mut out = Vec::with_capacity(count);
    while let Some(done) = tasks.join_next().await {
        out.push(done.unwrap());
    }
    out
}

struct ServedEntry {
    index: u64,
    leaf: Vec<u8>,
    leaf_hash: Hash,
}

async fn entries_page(instance: &TestInstance, start: u64, limit: u64) -> Vec<ServedEntry> {
    let reply = get(
        instance,
        &format!("/api/v1/log/entries?start={start}&limit={limit}"),
    )
    .await;
    assert_eq!(reply.status, 200);
    let page = reply.json();
    let obj = page.as_object().unwrap();
    assert_eq!(obj.len(), 1, "a page is {{\"entries\": [...]}}");
    obj["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let leaf_hash_hex = e["leaf_hash"].as_str().unwrap();
            assert_eq!(leaf_hash_hex, leaf_hash_hex.to_lowercase());
            ServedEntry {
                index: e["index"].as_u64().unwrap(),
                leaf: BASE64_STANDARD.decode(e["leaf"].as_str().unwrap()).unwrap(),
                leaf_hash: hex32::decode(leaf_hash_hex).unwrap(),
            }
        })
        .collect()
}

async fn inclusion(instance: &TestInstance, hash: &Hash, size: u64) -> (u64, Vec<Hash>) {
    let reply = get(
        instance,
        &format!(
            "/api/v1/log/proof/inclusion?leaf_hash={}&tree_size={size}",
            hex32::encode(hash)
        ),
    )
    .await;
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let v = reply.json();
    assert_eq!(v["tree_size"].as_u64(), Some(size));
    (
        v["leaf_index"].as_u64().unwrap(),
        decode_hashes(&v["hashes"]),
    )
}

async fn consistency(instance: &TestInstance, first: u64, second: u64) -> Vec<Hash> {
    let reply = get(
        instance,
        &format!("/api/v1/log/proof/consistency?first={first}&second={second}"),
    )
    .await;
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    decode_hashes(&reply.json()["hashes"])
}

fn decode_hashes(v: &Value) -> Vec<Hash> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|h| hex32::decode(h.as_str().unwrap()).expect("lowercase hex hash"))
        .collect()
}

fn split_hashes(bytes: &[u8]) -> Vec<Hash> {
    assert_eq!(bytes.len() % 32, 0);
    bytes
        .chunks(32)
        .map(|c| Hash(c.try_into().unwrap()))
        .collect()
}

/// Decodes a C2SP entry bundle: each leaf behind a big-endian u16 length.
fn split_bundle(mut bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut leaves = vec![];
    while !bytes.is_empty() {
        assert!(bytes.len() >= 2, "truncated length prefix");
        let len = u16::from_be_bytes([bytes[0], bytes[1]]) as usize;
        assert!(bytes.len() >= 2 + len, "truncated leaf");
        leaves.push(bytes[2..2 + len].to_vec());
        bytes = &bytes[2 + len..];
    }
    leaves
}

/// An instance holding a few entries, so that refusals have a non-trivial state to keep.
/// An instance whose log holds `n` entries (at least 2): the log's first clock reading
/// and `n - 1` offers; returns the leaves in log order.
async fn instance_with_entries(n: usize) -> (TestInstance, Vec<Vec<u8>>) {
    assert!(n as u64 > common::CLOCK_READINGS);
    let instance = TestInstance::start().await;
    for i in 0..n - common::CLOCK_READINGS as usize {
        let leaf = offer(&author(9), &format!("seed {i}"));
        let (status, _) = instance.client.submit(leaf.clone()).await.unwrap();
        assert_eq!(status, 201);
    }
    let leaves: Vec<Vec<u8>> = entries_page(&instance, 0, n as u64)
        .await
        .into_iter()
        .map(|e| e.leaf)
        .collect();
    assert_eq!(leaves.len(), n);
    (instance, leaves)
}

// ---------------------------------------------------------------------------------
// Submissions
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_submission_is_sequenced_and_a_duplicate_appends_nothing() {
    let instance = TestInstance::start().await;
    let leaf = offer(&author(1), "masks");
    let (status, first) = instance.client.submit(leaf.clone()).await.unwrap();
    // The log's first clock reading comes first.
    assert_eq!((status, first.index, first.tree_size), (201, 1, 2));
    let (status, again) = instance.client.submit(leaf).await.unwrap();
    assert_eq!((status, again.index), (200, 1));
    assert_eq!(instance.table_counts().await, (2, 3, 2));
    instance.stop().await;
}

#[tokio::test]
async fn the_submit_answer_carries_the_leaf_hash_index_and_tree_size() {
    let instance = TestInstance::start().await;
    let leaf = offer(&author(1), "gloves");
    let (status, answer) = submit_raw(&instance, leaf.clone()).await;
    assert_eq!(status, 201);
    assert_eq!(
        answer,
        json!({"leaf_hash": hex32::encode(&leaf_hash(&leaf)), "index": 1, "tree_size": 2})
    );
    let (_, checkpoint) = latest_checkpoint(&instance).await;
    assert_eq!(checkpoint.size, 2);
    let clock = &entries_page(&instance, 0, 1).await[0];
    assert_eq!(leaf_value(&clock.leaf)["kind"], "log.clock");
    assert_eq!(
        checkpoint.root,
        interior_hash(clock.leaf_hash, leaf_hash(&leaf))
    );
    instance.stop().await;
}

#[tokio::test]
async fn a_duplicate_returns_exactly_the_first_result() {
    // Contract: "duplicate → 200 first result" (DESIGN.md §5: "returns the first result
    // and appends nothing"); `Appended::tree_size` is documented as the size of the
    // first checkpoint that includes the entry.
    let instance = TestInstance::start().await;
    let a = offer(&author(1), "a");
    let b = offer(&author(1), "b");
    let (status, first) = submit_raw(&instance, a.clone()).await;
    assert_eq!(status, 201);
    assert_eq!(submit_raw(&instance, b).await.0, 201);
    let (status, again) = submit_raw(&instance, a).await;
    assert_eq!(status, 200);
    assert_eq!(again, first);
    instance.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_entry_submitted_concurrently_is_appended_once() {
    let instance = TestInstance::start().await;
    let leaf = org(&author(3), "once");
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (url, leaf) = (instance.url.clone(), leaf.clone());
        tasks.spawn(async move {
            let reply = send(http().post(format!("{url}/api/v1/entries")).body(leaf)).await;
            (reply.status, reply.json())
        });
    }
    let mut statuses = vec![];
    while let Some(done) = tasks.join_next().await {
        let (status, answer) = done.unwrap();
        assert_eq!(answer["index"], 1);
        assert_eq!(answer["leaf_hash"], hex32::encode(&leaf_hash(&leaf)));
        statuses.push(status);
    }
    statuses.sort();
    assert_eq!(statuses[0], 200);
    assert_eq!(statuses.iter().filter(|&&s| s == 201).count(), 1);
    assert_eq!(statuses.iter().filter(|&&s| s == 200).count(), 19);
    // The entry and the log's first clock reading.
    assert_eq!(instance.table_counts().await.0, 2);
    assert_eq!(latest_checkpoint(&instance).await.1.size, 2);
    instance.stop().await;
}

#[tokio::test]
async fn my_signing_helper_agrees_with_the_library() {
    // The refusal tests below sign tampered entries with `sign_value`; this checks
    // that it produces exactly what the library produces for a valid entry, and that
    // the server accepts it, so each refusal is caused by the one thing changed.
    let instance = TestInstance::start().await;
    let key = author(4);
    let body = offer_body("N95口罩");
    let library = UnsignedEntry::new(
        Kind::OfferPost,
        &key.verifying_key(),
        fixed_time(),
        body.clone(),
    )
    .sign(&key)
    .unwrap()
    .into_leaf();
    let mine = sign_value(&key, &unsigned_value(&key, "offer.post", body));
    assert_eq!(mine, library);
    assert_eq!(submit_raw(&instance, mine).await.0, 201);
    instance.stop().await;
}

#[tokio::test]
async fn signature_failures_are_refused_and_change_nothing() {
    let (instance, leaves) = instance_with_entries(3).await;
    let key = author(5);
    let unsigned = unsigned_value(&key, "offer.post", offer_body("masks"));
    let good = sign_value(&key, &unsigned);

    // The body altered after signing (and still a valid offer body, so that the
    // signature is what fails).
    let mut description = leaf_value(&good);
    description["body"]["description"] = json!("ventilators");
    let mut quantity = leaf_value(&good);
    quantity["body"]["items"][0]["quantity"] = json!(101);
    for (what, v) in [("description", description), ("quantity", quantity)] {
        assert_ne!(v, leaf_value(&good), "{what}");
        VerifiedEntry::from_leaf(&sign_value(&key, &strip_sig(&v)))
            .expect("the altered body fits the schema");
        assert_entry_refused(
            &instance,
            &format!("body altered ({what})"),
            canonical_json(&v),
            400,
            &["bad signature"],
        )
        .await;
    }

    // Other signed fields altered after signing.
    let mut v = leaf_value(&good);
    v["created_at"] = json!("2023-11-14T22:13:21Z");
    assert_entry_refused(
        &instance,
        "created_at",
        canonical_json(&v),
        400,
        &["bad signature"],
    )
    .await;
    // The kind: role.grant and role.revoke share a body schema, so the body still
    // fits the altered kind.
    let grant = sign_value(
        &key,
        &unsigned_value(
            &key,
            "role.grant",
            json!({"key": hex::encode(key.verifying_key().as_bytes()), "role": "administrator"}),
        ),
    );
    VerifiedEntry::from_leaf(&grant).expect("a valid role.grant");
    let mut v = leaf_value(&grant);
    v["kind"] = json!("role.revoke");
    assert_entry_refused(
        &instance,
        "kind",
        canonical_json(&v),
        400,
        &["bad signature"],
    )
    .await;

    // Signed by someone other than the author it names.
    let mut forged = unsigned.clone();
    forged["author"] = json!(hex::encode(author(6).verifying_key().as_bytes()));
    assert_entry_refused(
        &instance,
        "signed by another key",
        sign_value(&key, &forged),
        400,
        &["signature"],
    )
    .await;

    // A signature over the bytes without the domain prefix.
    let sig = key.sign(&canonical_json(&unsigned));
    let mut v = unsigned.clone();
    v["sig"] = json!(hex::encode(sig.to_bytes()));
    assert_entry_refused(
        &instance,
        "no domain prefix",
        canonical_json(&v),
        400,
        &["signature"],
    )
    .await;

    // A signature flipped in one bit, and a malformed sig field.
    let mut v = leaf_value(&good);
    let mut sig = hex::decode(v["sig"].as_str().unwrap()).unwrap();
    sig[10] ^= 1;
    v["sig"] = json!(hex::encode(&sig));
    assert_entry_refused(
        &instance,
        "bit flipped",
        canonical_json(&v),
        400,
        &["signature"],
    )
    .await;
    for bad in [
        v["sig"].as_str().unwrap().to_uppercase(),
        "ab".repeat(63),
        "zz".repeat(64),
        String::new(),
    ] {
        let mut v = leaf_value(&good);
        v["sig"] = json!(bad);
        assert_entry_refused(&instance, "sig encoding", canonical_json(&v), 400, &["sig"]).await;
    }

    // The good one is still accepted afterwards, and earlier entries are untouched.
    let (status, answer) = submit_raw(&instance, good).await;
    assert_eq!((status, answer["index"].as_u64()), (201, Some(3)));
    let served = entries_page(&instance, 0, 10).await;
    assert_eq!(
        served.iter().map(|e| e.leaf.clone()).collect::<Vec<_>>()[..3],
        leaves[..]
    );
    instance.stop().await;
}

#[tokio::test]
async fn envelope_errors_are_refused_with_a_message_naming_the_field() {
    let (instance, _) = instance_with_entries(2).await;
    let key = author(5);
    let base = unsigned_value(&key, "offer.post", offer_body("masks"));

    // Each case is correctly signed over its (wrong) content.
    let with = |field: &str, value: Value| {
        let mut v = base.clone();
        v[field] = value;
        sign_value(&key, &v)
    };

    for kind in ["need.delete", "", "Offer.Post", "offer.post ", "offer"] {
        assert_entry_refused(
            &instance,
            &format!("kind {kind:?}"),
            with("kind", json!(kind)),
            400,
            &["kind"],
        )
        .await;
    }
    for v in [0, 2, 100] {
        assert_entry_refused(
            &instance,
            &format!("v {v}"),
            with("v", json!(v)),
            400,
            &["version"],
        )
        .await;
    }
    for bad in [
        "2023-11-14T22:13:20+00:00",
        "2023-11-14T22:13:20.5Z",
        "2023-11-14T22:13:20.000Z",
        "2023-11-14 22:13:20Z",
        "2023-11-14T22:13:20z",
        "2023-02-30T00:00:00Z",
        "2023-11-14T23:13:20+01:00",
        "yesterday",
        "",
    ] {
        assert_entry_refused(
            &instance,
            &format!("created_at {bad:?}"),
            with("created_at", json!(bad)),
            400,
            &["created_at"],
        )
        .await;
    }
    // Bodies that do not fit the kind's schema: the message names the field by its
    // path inside the body ("body" for the body as a whole).
    // FORMAT.md §5: a body is a JSON object, whatever else it holds; an array of the
    // fields in order is not one.
    let array_of_fields = json!([
        [["Nitrile gloves", "gloves", 100, "box"]],
        ["CN-HB", "Hubei"]
    ]);
    for body in [
        json!("text"),
        json!(null),
        json!(7),
        json!([1]),
        array_of_fields,
    ] {
        assert_entry_refused(
            &instance,
            &format!("body {body}"),
            with("body", body),
            400,
            &["body: must be a JSON object"],
        )
        .await;
    }
    let body_with = |edit: &dyn Fn(&mut Value)| {
        let mut body = offer_body("masks");
        edit(&mut body);
        with("body", body)
    };
    let body_cases: [(&str, Vec<u8>, &[&str]); 8] = [
        (
            "an arbitrary body",
            with("body", json!({"title": "masks"})),
            &["body.title: unknown field `title`"],
        ),
        (
            "no items",
            body_with(&|b| {
                b.as_object_mut().unwrap().remove("items");
            }),
            &["body: missing field `items`"],
        ),
        (
            "an extra field",
            body_with(&|b| b["colour"] = json!("red")),
            &["body.colour: unknown field"],
        ),
        (
            "quantity 0",
            body_with(&|b| b["items"][0]["quantity"] = json!(0)),
            &["body.items[0].quantity: must be a whole number"],
        ),
        (
            "quantity 1.5",
            body_with(&|b| b["items"][0]["quantity"] = json!(1.5)),
            &["body.items[0].quantity: invalid type"],
        ),
        (
            "unknown category",
            body_with(&|b| b["items"][0]["category"] = json!("masks")),
            &["body.items[0].category: unknown variant `masks`"],
        ),
        (
            "area code",
            body_with(&|b| b["area"]["code"] = json!("hubei")),
            &["body.area.code: must be an ISO 3166 region code"],
        ),
        (
            "empty description",
            body_with(&|b| b["description"] = json!(" ")),
            &["body.description: must not be empty"],
        ),
    ];
    for (what, leaf, needles) in body_cases {
        assert_entry_refused(&instance, what, leaf, 400, needles).await;
    }
    // Beside the English message, a code, the field's path and the number the message
    // names, which the web app says in the reader's language.
    for (edit, fault) in [
        (
            &(|b: &mut Value| b["items"][0]["quantity"] = json!(1.5)) as &dyn Fn(&mut Value),
            json!({"code": "quantity", "field": "items[0].quantity", "limit": 10_000_000}),
        ),
        (
            &|b: &mut Value| b["description"] = json!("x".repeat(2001)),
            json!({"code": "too_long", "field": "description", "limit": 2000}),
        ),
        (
            &|b: &mut Value| {
                b.as_object_mut().unwrap().remove("items");
            },
            json!({"code": "required", "field": "body"}),
        ),
    ] {
        let reply = http()
            .post(format!("{}/api/v1/entries", instance.url))
            .header(CONTENT_TYPE, "application/json")
            .body(body_with(edit))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 400);
        let answer: Value = reply.json().await.unwrap();
        assert_eq!(answer["fault"], fault, "{answer}");
    }
    // The same body under a kind whose schema it does not fit.
    assert_entry_refused(
        &instance,
        "an offer body as a need",
        with("kind", json!("need.post")),
        400,
        &["body: missing field `org`"],
    )
    .await;

    // Author keys: malformed, uppercase, not a curve point, small order.
    let author_hex = base["author"].as_str().unwrap().to_owned();
    let not_a_point = (0u8..=255)
        .map(|b| {
            let mut k = [b; 32];
            k[31] &= 0x7f;
            k
        })
        .find(|k| VerifyingKey::from_bytes(k).is_err())
        .expect("some byte pattern is not a point");
    let mut small_order = [0u8; 32];
    small_order[0] = 1; // the identity point
    for bad in [
        "AB".to_owned(),
        author_hex.to_uppercase(),
        author_hex[..62].to_owned(),
        format!("{author_hex}00"),
        hex::encode(not_a_point),
        hex::encode(small_order),
    ] {
        assert_entry_refused(
            &instance,
            &format!("author {bad:?}"),
            with("author", json!(bad)),
            400,
            &["author"],
        )
        .await;
    }
    let mut v = base.clone();
    v["author"] = json!(hex::encode(small_order));
    let mut leaf = leaf_value(&sign_value(&key, &v));
    leaf["sig"] = json!("00".repeat(64));
    assert_entry_refused(
        &instance,
        "small-order author",
        canonical_json(&leaf),
        400,
        &["author", "small-order"],
    )
    .await;

    // Missing and extra envelope fields, and fields of the wrong type.
    let good = leaf_value(&sign_value(&key, &base));
    for field in ["v", "kind", "author", "created_at", "body", "sig"] {
        let mut v = good.clone();
        v.as_object_mut().unwrap().remove(field);
        assert_entry_refused(
            &instance,
            &format!("missing {field}"),
            canonical_json(&v),
            400,
            &["missing", field],
        )
        .await;
    }
    let mut extra = base.clone();
    extra["extra"] = json!(1);
    assert_entry_refused(
        &instance,
        "extra field (signed)",
        sign_value(&key, &extra),
        400,
        &["extra"],
    )
    .await;
    let mut extra = good.clone();
    extra["id"] = json!("x");
    assert_entry_refused(
        &instance,
        "extra field",
        canonical_json(&extra),
        400,
        &["unknown field", "id"],
    )
    .await;
    for (field, value) in [
        ("v", json!("1")),
        ("v", json!(-1)),
        ("kind", json!(1)),
        ("author", json!(null)),
        ("sig", json!(["x"])),
    ] {
        let mut v = good.clone();
        v[field] = value;
        assert_entry_refused(
            &instance,
            &format!("{field} of the wrong type"),
            canonical_json(&v),
            400,
            &["invalid"],
        )
        .await;
    }
    for shape in [json!([]), json!("entry"), json!(1), json!(null)] {
        assert_entry_refused(
            &instance,
            &format!("top level {shape}"),
            canonical_json(&shape),
            400,
            &["envelope"],
        )
        .await;
    }
    instance.stop().await;
}

#[tokio::test]
async fn malformed_and_non_canonical_bytes_are_refused() {
    let (instance, _) = instance_with_entries(2).await;
    let key = author(5);
    let good = sign_value(
        &key,
        &unsigned_value(&key, "offer.post", offer_body("masks")),
    );
    let text = String::from_utf8(good.clone()).unwrap();

    for bad in [
        &b""[..],
        b"{",
        b"{\"v\":",
        b"not json",
        b"{\"v\":1,}",
        b"\xff\xfe",
    ] {
        assert_entry_refused(
            &instance,
            &format!("malformed {:?}", String::from_utf8_lossy(bad)),
            bad.to_vec(),
            400,
            &["malformed JSON"],
        )
        .await;
    }
    let mut invalid_utf8 = good.clone();
    let at = text.find("masks").unwrap();
    invalid_utf8[at] = 0xff;
    assert_entry_refused(
        &instance,
        "invalid UTF-8 in a string",
        invalid_utf8,
        400,
        &["JSON"],
    )
    .await;

    // The same JSON value as the signed entry, spelled differently.
    let spellings: Vec<(&str, String)> = vec![
        ("space after {", text.replacen('{', "{ ", 1)),
        ("space after :", text.replacen("\"v\":1", "\"v\": 1", 1)),
        ("leading newline", format!("\n{text}")),
        ("trailing newline", format!("{text}\n")),
        ("trailing CRLF", format!("{text}\r\n")),
        (
            "pretty printed",
            serde_json::to_string_pretty(&leaf_value(&good)).unwrap(),
        ),
        (
            "keys reordered",
            format!("{{\"v\":1,{}", &text[1..].replacen(",\"v\":1", "", 1)),
        ),
        ("escaped letter", text.replacen("masks", "m\\u0061sks", 1)),
        ("escaped slash", text.replacen("masks", "ma\\/sks", 1)),
    ];
    for (what, spelled) in spellings {
        assert_ne!(spelled, text, "{what}: the test must change the bytes");
        if what != "escaped slash" {
            assert_eq!(
                serde_json::from_str::<Value>(&spelled).unwrap(),
                leaf_value(&good),
                "{what}: the same JSON value"
            );
        }
        assert_entry_refused(&instance, what, spelled.into_bytes(), 400, &["canonical"]).await;
    }
    // Numbers spelled as floats: not canonical (the body), or not the envelope's
    // integer (v).
    assert!(text.contains("\"quantity\":100,"));
    for (what, spelled, needle) in [
        (
            "quantity as 100.0",
            text.replacen("\"quantity\":100", "\"quantity\":100.0", 1),
            "canonical",
        ),
        (
            "quantity as 1e2",
            text.replacen("\"quantity\":100", "\"quantity\":1e2", 1),
            "canonical",
        ),
        (
            "v as 1.0",
            text.replacen("\"v\":1", "\"v\":1.0", 1),
            "invalid type",
        ),
    ] {
        assert_ne!(spelled, text);
        assert_entry_refused(&instance, what, spelled.into_bytes(), 400, &[needle]).await;
    }

    // The canonical bytes are still accepted.
    assert_eq!(submit_raw(&instance, good).await.0, 201);
    instance.stop().await;
}

/// A validly signed offer whose leaf is exactly `size` bytes long. Its body fits the
/// schema for any size the schema allows (up to about 72 KB: 50 item lines and a
/// description, padded with 4-byte characters to their length limits); beyond that
/// the description runs past its limit, which is checked only after the size.
fn entry_of_size(key: &SigningKey, size: usize) -> Vec<u8> {
    // Four bytes of UTF-8 per character, written as is in canonical JSON.
    let wide = |n: usize| "\u{1D54F}".repeat(n);
    let make = |lines: usize, description: &str| {
        let mut body = offer_body(description);
        body["items"] = (0..lines)
            .map(|i| {
                json!({
                    "item": wide(200),
                    "category": "other",
                    "quantity": 1 + i,
                    "unit": "piece",
                    "spec": wide(100),
                })
            })
            .collect();
        let unsigned =
            UnsignedEntry::new(Kind::OfferPost, &key.verifying_key(), fixed_time(), body);
        let mut message = SIGNATURE_DOMAIN.to_vec();
        message.extend(canonical_json(&unsigned));
        let mut v = serde_json::to_value(&unsigned).unwrap();
        v["sig"] = json!(hex::encode(key.sign(&message).to_bytes()));
        canonical_json(&v)
    };
    // The size with `lines` item lines and an empty description.
    let base = |lines: usize| make(lines, "x").len() - 1;
    let lines = (1..=MAX_LINES)
        .take_while(|&n| base(n) < size)
        .last()
        .expect("size leaves room for one item line");
    let rest = size - base(lines);
    let bytes = make(
        lines,
        &format!("{}{}", wide(rest / 4), "x".repeat(rest % 4)),
    );
    assert_eq!(bytes.len(), size);
    bytes
}

#[tokio::test]
async fn an_entry_larger_than_65535_bytes_is_refused_with_413() {
    let (instance, _) = instance_with_entries(2).await;
    let key = author(7);
    for size in [65_536, 65_537, 100_000] {
        let leaf = entry_of_size(&key, size);
        // Only the size is wrong, wherever a body that large can fit the schema.
        let body = Body::parse(Kind::OfferPost, &leaf_value(&leaf)["body"]);
        assert_eq!(body.is_ok(), size < 70_000, "{size} bytes: {body:?}");
        assert_entry_refused(&instance, &format!("{size} bytes"), leaf, 413, &["65535"]).await;
    }
    assert_entry_refused(
        &instance,
        "1 MB of spaces",
        vec![b' '; 1 << 20],
        413,
        &["limit"],
    )
    .await;

    // Exactly the limit is accepted and served back intact, in an entry bundle too.
    let largest = entry_of_size(&key, 65_535);
    VerifiedEntry::from_leaf(&largest).unwrap();
    let (status, answer) = submit_raw(&instance, largest.clone()).await;
    assert_eq!((status, answer["index"].as_u64()), (201, Some(2)));
    let served = entries_page(&instance, 2, 1).await;
    assert_eq!(served[0].leaf, largest);
    let bundle = get(&instance, "/tile/entries/000.p/3").await;
    assert_eq!(bundle.status, 200);
    assert_eq!(split_bundle(&bundle.body)[2], largest);
    instance.stop().await;
}

// ---------------------------------------------------------------------------------
// Read refusals
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn proof_requests_out_of_range_or_malformed_are_refused() {
    let (instance, leaves) = instance_with_entries(5).await;
    let known = hex32::encode(&leaf_hash(&leaves[3]));
    let unknown = hex32::encode(&leaf_hash(b"never submitted"));
    let inc = |hash: &str, size: &str| {
        format!("/api/v1/log/proof/inclusion?leaf_hash={hash}&tree_size={size}")
    };

    assert_get_refused(&instance, &inc(&known, "6"), 400, &["tree_size", "beyond"]).await;
    assert_get_refused(
        &instance,
        &inc(&known, &u64::MAX.to_string()),
        400,
        &["beyond"],
    )
    .await;
    assert_get_refused(
        &instance,
        &inc(&unknown, "5"),
        404,
        &["leaf hash", &unknown],
    )
    .await;
    assert_get_refused(&instance, &inc(&known, "3"), 400, &["not in the tree"]).await;
    assert_get_refused(&instance, &inc(&known, "0"), 400, &["not in the tree"]).await;
    for bad in [
        known.to_uppercase(),
        known[..63].to_owned(),
        format!("{known}0"),
        "g".repeat(64),
        String::new(),
        BASE64_STANDARD.encode(leaf_hash(&leaves[3]).0),
    ] {
        let bad = bad
            .replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D");
        assert_get_refused(&instance, &inc(&bad, "5"), 400, &["leaf_hash", "hex"]).await;
    }
    for size in ["abc", "-1", "1.5", ""] {
        assert_get_refused(&instance, &inc(&known, size), 400, &["tree_size"]).await;
    }
    assert_get_refused(
        &instance,
        "/api/v1/log/proof/inclusion?tree_size=5",
        400,
        &["leaf_hash"],
    )
    .await;
    assert_get_refused(
        &instance,
        &format!("/api/v1/log/proof/inclusion?leaf_hash={known}"),
        400,
        &["tree_size"],
    )
    .await;

    let con = |first: &str, second: &str| {
        format!("/api/v1/log/proof/consistency?first={first}&second={second}")
    };
    assert_get_refused(&instance, &con("0", "5"), 400, &["first"]).await;
    assert_get_refused(&instance, &con("0", "0"), 400, &["first"]).await;
    assert_get_refused(&instance, &con("4", "3"), 400, &["first", "second"]).await;
    assert_get_refused(&instance, &con("3", "6"), 400, &["beyond"]).await;
    assert_get_refused(&instance, &con("7", "6"), 400, &[]).await;
    assert_get_refused(&instance, &con("x", "5"), 400, &["first"]).await;
    assert_get_refused(&instance, &con("1", "five"), 400, &["second"]).await;
    assert_get_refused(
        &instance,
        "/api/v1/log/proof/consistency?first=1",
        400,
        &["second"],
    )
    .await;

    // And the valid neighbours of those requests are answered.
    assert_eq!(get(&instance, &inc(&known, "5")).await.status, 200);
    assert_eq!(get(&instance, &inc(&known, "4")).await.status, 200);
    assert_eq!(get(&instance, &con("5", "5")).await.status, 200);
    assert_eq!(get(&instance, &con("1", "5")).await.status, 200);
    instance.stop().await;
}

#[tokio::test]
async fn entry_queries_that_are_not_numbers_are_refused() {
    let (instance, _) = instance_with_entries(3).await;
    for (query, field) in [
        ("start=abc", "start"),
        ("start=-1", "start"),
        ("start=1.5", "start"),
        ("start=", "start"),
        ("limit=ten", "limit"),
        ("limit=-5", "limit"),
        ("start=0&limit=1e3", "limit"),
        ("start=18446744073709551616", "start"),
    ] {
        assert_get_refused(
            &instance,
            &format!("/api/v1/log/entries?{query}"),
            400,
            &[field],
        )
        .await;
    }
    // Out-of-range numbers are not errors: the page is just empty (or short).
    assert_eq!(entries_page(&instance, 3, 10).await.len(), 0);
    assert_eq!(entries_page(&instance, u64::MAX, 10).await.len(), 0);
    assert_eq!(entries_page(&instance, 1, u64::MAX).await.len(), 2);
    assert_eq!(entries_page(&instance, 0, 0).await.len(), 0);
    // Defaults: start 0, and a limit that covers these three.
    let reply = get(&instance, "/api/v1/log/entries").await;
    assert_eq!(reply.json()["entries"].as_array().unwrap().len(), 3);
    instance.stop().await;
}

#[tokio::test]
async fn unknown_routes_get_a_json_404() {
    let (instance, _) = instance_with_entries(2).await;
    // Paths outside the API's prefixes belong to the web app (tests/web.rs).
    for path in [
        "/api",
        "/api/v1",
        "/api/v1/nope",
        "/api/v2/entries",
        "/api/v1/log/proof",
        "/checkpoint/extra",
        "/api/v1/log/entries/0",
        "/tile",
        "/tiles/0/000",
    ] {
        assert_get_refused(&instance, path, 404, &["no such resource"]).await;
    }
    // An empty tile path is a 404 too, whichever handler answers it.
    assert_get_refused(&instance, "/tile/", 404, &[]).await;
    let request = http()
        .post(format!("{}/api/v1/entry", instance.url))
        .body("{}");
    assert_refused(&instance, "POST /api/v1/entry", request, 404, &["no such"]).await;
    instance.stop().await;
}

#[tokio::test]
async fn a_wrong_method_gets_a_json_error() {
    let (instance, _) = instance_with_entries(2).await;
    for (method, path) in [
        (reqwest::Method::GET, "/api/v1/entries"),
        (reqwest::Method::POST, "/checkpoint"),
        (reqwest::Method::DELETE, "/api/v1/log/entries"),
        (reqwest::Method::PUT, "/tile/0/000.p/1"),
    ] {
        let request = http().request(method.clone(), format!("{}{path}", instance.url));
        let reply = send(request).await;
        assert!(
            (400..500).contains(&reply.status),
            "{method} {path}: {}",
            reply.status
        );
        assert!(!reply.error().is_empty(), "{method} {path}");
    }
    instance.stop().await;
}

#[tokio::test]
async fn tiles_beyond_the_tree_or_with_malformed_paths_are_404() {
    let (instance, _) = instance_with_entries(5).await;
    for path in [
        "/tile/0/000",
        "/tile/0/000.p/6",
        "/tile/0/000.p/255",
        "/tile/0/001.p/1",
        "/tile/1/000.p/1",
        "/tile/2/000.p/1",
        "/tile/entries/000",
        "/tile/entries/000.p/6",
        "/tile/entries/001.p/1",
        "/tile/0/x001/000",
        "/tile/63/000.p/1",
        "/tile/0/x999/x999/x999/x999/x999/999",
    ] {
        assert_get_refused(&instance, path, 404, &["beyond"]).await;
    }
    for path in [
        "/tile/0/1",
        "/tile/0/00",
        "/tile/0/0000",
        "/tile/0/abc",
        "/tile/0/000.p/0",
        "/tile/0/000.p/256",
        "/tile/0/000.p/05",
        "/tile/0/000.p/",
        "/tile/0/000.p",
        "/tile/0/000.q/5",
        "/tile/0/000/",
        "/tile/0/x1/000",
        "/tile/0/001/000",
        "/tile/01/000.p/1",
        "/tile/64/000.p/1",
        "/tile/-1/000.p/1",
        "/tile/a/000.p/1",
        "/tile/0",
        "/tile/entries",
        "/tile/entries/",
        "/tile/entries/0",
        "/tile/entries/000.p/0",
        "/tile/0/000.p/1/extra",
    ] {
        assert_get_refused(&instance, path, 404, &["tlog-tiles"]).await;
    }
    // Neighbours that exist.
    for path in [
        "/tile/0/000.p/5",
        "/tile/0/000.p/1",
        "/tile/entries/000.p/5",
    ] {
        assert_eq!(get(&instance, path).await.status, 200, "{path}");
    }
    instance.stop().await;
}

#[tokio::test]
async fn a_tile_index_has_one_spelling() {
    // C2SP tlog-tiles: N is written in 3-digit groups, all but the last prefixed with
    // x; "x000/000" is not how 0 is written, yet it is served as /tile/0/000.p/5.
    let (instance, _) = instance_with_entries(5).await;
    assert_get_refused(&instance, "/tile/0/x000/000.p/5", 404, &["tlog-tiles"]).await;
    assert_get_refused(
        &instance,
        "/tile/entries/x000/000.p/5",
        404,
        &["tlog-tiles"],
    )
    .await;
    instance.stop().await;
}

// ---------------------------------------------------------------------------------
// The contract when things go right
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn an_empty_log_has_a_signed_checkpoint_of_size_zero() {
    let instance = TestInstance::start().await;
    let key = get(&instance, "/api/v1/log/key").await;
    assert_eq!(key.status, 200);
    let key = key.json();
    assert_eq!(key["origin"], "aidledger.localhost/log");
    assert_eq!(key["vkey"], instance.vkey);
    assert!(instance.vkey.starts_with("aidledger.localhost/log+"));

    let reply = get(&instance, "/checkpoint").await;
    assert_eq!(reply.status, 200);
    assert!(reply.header(CONTENT_TYPE).starts_with("text/plain"));
    let note = String::from_utf8(reply.body).unwrap();
    // C2SP tlog-checkpoint: origin, size, base64 root, blank line, signature lines.
    let (body, signatures) = note.split_once("\n\n").expect("note has a blank line");
    assert_eq!(
        body,
        format!(
            "aidledger.localhost/log\n0\n{}",
            BASE64_STANDARD.encode(
                hex::decode("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
                    .unwrap()
            )
        )
    );
    assert!(signatures.starts_with("\u{2014} aidledger.localhost/log "));
    assert!(note.ends_with('\n'));
    let checkpoint = LogVerifier::new(&instance.vkey)
        .unwrap()
        .verify(note.as_bytes())
        .unwrap();
    assert_eq!((checkpoint.size, checkpoint.root), (0, EMPTY_HASH));
    assert_eq!(entries_page(&instance, 0, 10).await.len(), 0);
    assert_eq!(instance.table_counts().await, (0, 0, 1));
    instance.stop().await;
}

#[test]
fn the_hashing_helpers_match_rfc_6962() {
    // SHA-256 of the empty string and of the single byte 0x00 (the empty leaf).
    assert_eq!(
        hex32::encode(&EMPTY_HASH),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        hex32::encode(&leaf_hash(b"")),
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    );
    // The tree hash helper against a frontier built by the ledger, for odd shapes.
    for n in [1usize, 2, 3, 5, 7, 8, 9, 255, 256, 257, 300] {
        let leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut frontier = tree::Frontier::empty();
        for l in &leaves {
            frontier.append(*l);
        }
        assert_eq!(mth(&leaves), frontier.root(), "size {n}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_hundred_concurrent_entries_verify_through_every_read_api() {
    let instance = TestInstance::start().await;
    let verifier = LogVerifier::new(&instance.vkey).unwrap();

    // Submit in phases and keep each phase's checkpoint, as a monitor would.
    let mut submitted = vec![];
    let mut saved: Vec<Checkpoint> = vec![];
    // 299 entries after the log's first clock reading make 300.
    let mut total = common::CLOCK_READINGS;
    for (phase, count) in [1usize, 49, 87, 119, 43].into_iter().enumerate() {
        submitted.extend(submit_many(&instance, &format!("phase {phase}"), count).await);
        total += count as u64;
        let (_, checkpoint) = latest_checkpoint(&instance).await;
        // Every acknowledged entry is in the published checkpoint.
        assert_eq!(checkpoint.size, total);
        saved.push(checkpoint);
    }
    let (note, latest) = latest_checkpoint(&instance).await;
    assert_eq!(latest.size, 300);
    assert_eq!(verifier.verify(note.as_bytes()).unwrap(), latest);

    // The answers: distinct indexes 1..300, leaf hashes of the submitted bytes.
    let mut by_index: HashMap<u64, Vec<u8>> = HashMap::new();
    for Submitted { leaf, answer, .. } in &submitted {
        assert_eq!(answer["leaf_hash"], hex32::encode(&leaf_hash(leaf)));
        let index = answer["index"].as_u64().unwrap();
        assert!(answer["tree_size"].as_u64().unwrap() > index);
        assert!(
            by_index.insert(index, leaf.clone()).is_none(),
            "index {index} twice"
        );
    }
    assert_eq!(by_index.len(), 299);

    // Entries, in pages of several sizes, give the same 300 leaves in index order.
    let mut paged = vec![];
    while paged.len() < 300 {
        let page = entries_page(&instance, paged.len() as u64, 77).await;
        assert!(!page.is_empty());
        paged.extend(page);
    }
    let one_page = entries_page(&instance, 0, 1000).await;
    assert_eq!(one_page.len(), 300);
    let mut leaf_hashes = vec![];
    for (i, (a, b)) in paged.iter().zip(&one_page).enumerate() {
        assert_eq!((a.index, b.index), (i as u64, i as u64));
        assert_eq!(a.leaf, b.leaf);
        assert_eq!(a.leaf_hash, leaf_hash(&a.leaf), "entry {i}");
        if i == 0 {
            assert_eq!(leaf_value(&a.leaf)["kind"], "log.clock");
        } else {
            assert_eq!(Some(&a.leaf), by_index.get(&a.index), "entry {i}");
        }
        let verified = VerifiedEntry::from_leaf(&a.leaf).unwrap();
        assert_eq!(verified.leaf_hash(), a.leaf_hash);
        leaf_hashes.push(a.leaf_hash);
    }
    let authors: HashSet<_> = one_page
        .iter()
        .map(|e| leaf_value(&e.leaf)["author"].clone())
        .collect();
    assert_eq!(authors.len(), 6, "five authors and the log's clock");

    // Every checkpoint's root is the RFC 6962 hash of that many served leaves.
    for c in &saved {
        assert_eq!(
            c.root,
            mth(&leaf_hashes[..c.size as usize]),
            "size {}",
            c.size
        );
    }

    // The proofs fetched right after each acknowledgement verify against the root of
    // the acknowledged tree size.
    for Submitted {
        leaf,
        answer,
        proof,
    } in &submitted
    {
        let index = answer["index"].as_u64().unwrap();
        let size = answer["tree_size"].as_u64().unwrap();
        let root = mth(&leaf_hashes[..size as usize]);
        tree::verify_inclusion(proof, index, size, leaf_hash(leaf), root)
            .unwrap_or_else(|e| panic!("ack proof of {index} at {size}: {e:?}"));
    }

    // Proofs are served for any tree size up to the latest, not only for sizes that
    // have a checkpoint: check them against locally computed roots.
    for (index, size) in [
        (0u64, 1u64),
        (0, 2),
        (1, 3),
        (2, 3),
        (5, 100),
        (99, 100),
        (200, 257),
        (256, 257),
        (100, 299),
    ] {
        let (at, proof) = inclusion(&instance, &leaf_hashes[index as usize], size).await;
        assert_eq!(at, index);
        let root = mth(&leaf_hashes[..size as usize]);
        tree::verify_inclusion(&proof, index, size, leaf_hashes[index as usize], root)
            .unwrap_or_else(|e| panic!("inclusion of {index} in {size}: {e:?}"));
    }
    for (first, second) in [
        (1u64, 2u64),
        (2, 3),
        (3, 7),
        (4, 8),
        (7, 255),
        (100, 299),
        (255, 256),
        (256, 257),
        (128, 300),
        (299, 300),
    ] {
        let proof = consistency(&instance, first, second).await;
        let (a, b) = (
            mth(&leaf_hashes[..first as usize]),
            mth(&leaf_hashes[..second as usize]),
        );
        tree::verify_consistency(&proof, first, a, second, b)
            .unwrap_or_else(|e| panic!("consistency {first} -> {second}: {e:?}"));
    }

    // Inclusion proofs, sampled, at the latest size and at each saved size.
    let mut sample: Vec<u64> = (0..300).step_by(7).collect();
    sample.extend([1, 49, 50, 136, 137, 254, 255, 256, 257, 298, 299]);
    for &index in &sample {
        let hash = leaf_hashes[index as usize];
        for c in saved.iter().filter(|c| c.size > index) {
            let (at, proof) = inclusion(&instance, &hash, c.size).await;
            assert_eq!(at, index);
            tree::verify_inclusion(&proof, index, c.size, hash, c.root)
                .unwrap_or_else(|e| panic!("inclusion of {index} in {}: {e:?}", c.size));
            if c.size > 1 {
                // The same proof does not verify for a neighbour or another root.
                let other = (index + 1) % c.size;
                assert!(tree::verify_inclusion(&proof, other, c.size, hash, c.root).is_err());
                assert!(tree::verify_inclusion(
                    &proof,
                    index,
                    c.size,
                    leaf_hashes[other as usize],
                    c.root
                )
                .is_err());
            }
        }
    }

    // Consistency proofs between every pair of saved checkpoints.
    for (i, old) in saved.iter().enumerate() {
        for new in &saved[i..] {
            let proof = consistency(&instance, old.size, new.size).await;
            tree::verify_consistency(&proof, old.size, old.root, new.size, new.root)
                .unwrap_or_else(|e| panic!("consistency {} -> {}: {e:?}", old.size, new.size));
            if old.size < new.size {
                let mut forged = new.root;
                forged.0[0] ^= 1;
                assert!(
                    tree::verify_consistency(&proof, old.size, old.root, new.size, forged).is_err()
                );
            } else {
                assert!(proof.is_empty());
            }
        }
    }

    // Hash tiles.
    let full = get(&instance, "/tile/0/000").await;
    assert_eq!(full.status, 200);
    assert_eq!(full.body.len(), 256 * 32);
    assert_eq!(split_hashes(&full.body), leaf_hashes[..256]);
    assert!(full.header(CACHE_CONTROL).contains("immutable"));
    assert_eq!(full.header(CONTENT_TYPE), "application/octet-stream");

    let partial = get(&instance, "/tile/0/001.p/44").await;
    assert_eq!(partial.status, 200);
    assert_eq!(split_hashes(&partial.body), leaf_hashes[256..300]);
    assert!(!partial.header(CACHE_CONTROL).contains("immutable"));
    let first = get(&instance, "/tile/0/000.p/3").await;
    assert_eq!(split_hashes(&first.body), leaf_hashes[..3]);

    let level1 = get(&instance, "/tile/1/000.p/1").await;
    assert_eq!(level1.status, 200);
    let level1 = split_hashes(&level1.body);
    assert_eq!(level1, vec![mth(&leaf_hashes[..256])]);
    // A tiles client can rebuild the root from tiles alone.
    assert_eq!(
        interior_hash(level1[0], mth(&split_hashes(&partial.body))),
        latest.root
    );
    for beyond in [
        "/tile/0/001.p/45",
        "/tile/0/001",
        "/tile/1/000.p/2",
        "/tile/entries/001.p/45",
    ] {
        assert_get_refused(&instance, beyond, 404, &["beyond"]).await;
    }

    // Entry bundles.
    let all_leaves: Vec<Vec<u8>> = one_page.iter().map(|e| e.leaf.clone()).collect();
    let bundle = get(&instance, "/tile/entries/000").await;
    assert_eq!(bundle.status, 200);
    assert!(bundle.header(CACHE_CONTROL).contains("immutable"));
    assert_eq!(split_bundle(&bundle.body), all_leaves[..256]);
    for width in [1usize, 2, 100, 255] {
        let reply = get(&instance, &format!("/tile/entries/000.p/{width}")).await;
        assert_eq!(reply.status, 200);
        assert!(!reply.header(CACHE_CONTROL).contains("immutable"));
        assert_eq!(
            split_bundle(&reply.body),
            all_leaves[..width],
            "width {width}"
        );
    }
    let rest = get(&instance, "/tile/entries/001.p/44").await;
    assert_eq!(split_bundle(&rest.body), all_leaves[256..]);
    instance.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_checkpoint_seen_while_submitting_is_readable_and_extends_the_last() {
    // A monitor polls the checkpoint while authors submit: each new checkpoint must
    // extend the previous one, and its last entry, proofs and tiles must already be
    // served (a head is published only after its batch is durable and readable).
    let instance = std::sync::Arc::new(TestInstance::start().await);
    let verifier = LogVerifier::new(&instance.vkey).unwrap();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let monitor = {
        let (instance, done) = (instance.clone(), done.clone());
        tokio::spawn(async move {
            let mut previous = verifier
                .verify(&get(&instance, "/checkpoint").await.body)
                .unwrap();
            let mut seen = vec![previous.size];
            loop {
                let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                let note = get(&instance, "/checkpoint").await.body;
                let current = verifier.verify(&note).unwrap();
                assert!(current.size >= previous.size, "the log went backwards");
                if current.size > previous.size {
                    let last = entries_page(&instance, current.size - 1, 1).await;
                    assert_eq!(
                        last.iter().map(|e| e.index).collect::<Vec<_>>(),
                        vec![current.size - 1],
                        "the last entry of a published head is served"
                    );
                    let (at, proof) = inclusion(&instance, &last[0].leaf_hash, current.size).await;
                    assert_eq!(at, current.size - 1);
                    tree::verify_inclusion(
                        &proof,
                        at,
                        current.size,
                        last[0].leaf_hash,
                        current.root,
                    )
                    .unwrap();
                    if previous.size > 0 {
                        let proof = consistency(&instance, previous.size, current.size).await;
                        tree::verify_consistency(
                            &proof,
                            previous.size,
                            previous.root,
                            current.size,
                            current.root,
                        )
                        .unwrap();
                    }
                    let bundle = get(
                        &instance,
                        &format!("/tile/entries/000.p/{}", current.size.min(255)),
                    )
                    .await;
                    assert_eq!(bundle.status, 200);
                    seen.push(current.size);
                    previous = current;
                }
                if finished {
                    return seen;
                }
            }
        })
    };
    let submitted = submit_many(&instance, "race", 149).await;
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let seen = monitor.await.unwrap();
    assert_eq!(submitted.len(), 149);
    assert_eq!(seen.last(), Some(&150), "the monitor saw the final head");
    assert!(seen.len() >= 2);
    std::sync::Arc::into_inner(instance).unwrap().stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_entries_page_holds_at_most_1000() {
    let instance = TestInstance::start().await;
    // Sign on all cores; submission is concurrent.
    let leaves: Vec<Vec<u8>> = tokio::task::spawn_blocking(|| {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    s.spawn(move || {
                        // 1004 entries after the log's first clock reading.
                        (t..1004)
                            .step_by(threads)
                            .map(|i| offer(&author(1 + (i % 3) as u8), &format!("n {i}")))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        })
    })
    .await
    .unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for chunk in leaves.chunks(64) {
        let (client, chunk) = (instance.client.clone(), chunk.to_vec());
        tasks.spawn(async move {
            for leaf in chunk {
                assert_eq!(client.submit(leaf).await.unwrap().0, 201);
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    assert_eq!(latest_checkpoint(&instance).await.1.size, 1005);
    assert_eq!(entries_page(&instance, 0, 5000).await.len(), 1000);
    assert_eq!(entries_page(&instance, 0, 1001).await.len(), 1000);
    assert_eq!(entries_page(&instance, 3, u64::MAX).await.len(), 1000);
    let tail = entries_page(&instance, 1000, 1000).await;
    assert_eq!(
        tail.iter().map(|e| e.index).collect::<Vec<_>>(),
        vec![1000, 1001, 1002, 1003, 1004]
    );
    instance.stop().await;
}

// ---------------------------------------------------------------------------------
// Restart
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_restarted_instance_serves_the_same_log_and_continues_it() {
    let dir = tempfile::tempdir().unwrap();
    let instance = TestInstance::start_in(dir.path()).await;
    // 19 entries after the log's first clock reading.
    let first_leaves = submit_many(&instance, "before", 19).await;
    let (note, before) = latest_checkpoint(&instance).await;
    assert_eq!(before.size, 20);
    let entries_before = entries_page(&instance, 0, 1000).await;
    let counts = instance.table_counts().await;
    let vkey = instance.vkey.clone();
    let tile_before = get(&instance, "/tile/0/000.p/20").await.body;
    instance.stop().await;

    let instance = TestInstance::start_in(dir.path()).await;
    assert_eq!(instance.vkey, vkey, "the log key survives");
    let (note_after, after) = latest_checkpoint(&instance).await;
    assert_eq!(note_after, note, "the same signed checkpoint");
    assert_eq!(after, before);
    assert_eq!(instance.table_counts().await, counts);
    let entries_after = entries_page(&instance, 0, 1000).await;
    assert_eq!(entries_after.len(), 20);
    for (a, b) in entries_before.iter().zip(&entries_after) {
        assert_eq!(
            (a.index, &a.leaf, a.leaf_hash),
            (b.index, &b.leaf, b.leaf_hash)
        );
    }
    assert_eq!(get(&instance, "/tile/0/000.p/20").await.body, tile_before);

    // A resubmission is still a duplicate; new entries continue the index.
    let old = &first_leaves[7];
    let (status, again) = submit_raw(&instance, old.leaf.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(again["index"], old.answer["index"]);
    let leaf = org(&author(2), "after restart");
    let (status, answer) = submit_raw(&instance, leaf.clone()).await;
    assert_eq!(status, 201);
    assert_eq!(answer["index"], 20);
    assert_eq!(answer["tree_size"], 21);
    let (_, grown) = latest_checkpoint(&instance).await;
    assert_eq!(grown.size, 21);
    let proof = consistency(&instance, 20, 21).await;
    tree::verify_consistency(&proof, 20, before.root, 21, grown.root).unwrap();
    let (index, proof) = inclusion(&instance, &leaf_hash(&leaf), 21).await;
    assert_eq!(index, 20);
    tree::verify_inclusion(&proof, 20, 21, leaf_hash(&leaf), grown.root).unwrap();
    instance.stop().await;

    // And once more, with the grown log.
    let instance = TestInstance::start_in(dir.path()).await;
    let (_, again) = latest_checkpoint(&instance).await;
    assert_eq!(again, grown);
    instance.stop().await;
}
