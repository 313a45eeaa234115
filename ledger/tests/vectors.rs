//! The test vectors in docs/vectors/ are what another implementation checks itself
//! against, so they must match this implementation byte for byte. Regenerate them
//! (after a deliberate format change only) with `UPDATE_VECTORS=1 cargo test -p
//! aidledger-ledger --test vectors`.

use ed25519_dalek::SigningKey;
use ledger::checkpoint::{LogSigner, LogVerifier};
use ledger::entry::{canonical_json, UnsignedEntry, VerifiedEntry, SIGNATURE_DOMAIN};
use ledger::tree::{self, Frontier, Hash, HashReader, TreeError};
use ledger::{hex32, Kind};
use serde_json::{json, Value};
use std::path::PathBuf;
use time::OffsetDateTime;

struct Stored(Vec<Hash>);

impl HashReader for Stored {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, TreeError> {
        Ok(indexes.iter().map(|&i| self.0[i as usize]).collect())
    }
}

fn hexes(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(hex32::encode).collect()
}

fn hashes_of(list: &Value) -> Vec<Hash> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|h| hex32::decode(h.as_str().unwrap()).unwrap())
        .collect()
}

/// A small donation chain: each body refers to the leaf hash of an earlier entry
/// (`refs[n]` is entry n's leaf hash, lowercase hex).
fn draft(n: usize, refs: &[String]) -> (Kind, Value) {
    let area = json!({"code": "CN-HB", "name": "湖北"});
    match n {
        0 => (
            Kind::OrgRegister,
            json!({"name": "Wuhan Union Hospital", "type": "hospital", "area": area}),
        ),
        1 => (
            Kind::NeedPost,
            json!({
                "org": refs[0],
                "items": [{"item": "医用防护口罩 N95口罩", "category": "respirator", "quantity": 1000, "unit": "piece", "spec": "GB 19083-2010"}],
                "urgency": "critical",
                "needed_by": "2020-02-01",
                "area": area,
            }),
        ),
        2 => (
            Kind::OfferPost,
            json!({
                "items": [{"item": "N95 respirators", "category": "respirator", "quantity": 300, "unit": "piece"}],
                "area": {"code": "CN-ZJ", "name": "Zhejiang"},
                "description": "quote\" backslash\\ emoji 😷 newline\n",
            }),
        ),
        3 => (
            Kind::Pledge,
            json!({"need": refs[1], "items": [{"line": 0, "quantity": 300}], "offer": refs[2]}),
        ),
        4 => (
            Kind::Shipment,
            json!({"pledge": refs[3], "carrier": "SF Express", "tracking": "SF1234567890", "items": [{"line": 0, "quantity": 300}]}),
        ),
        5 => (
            Kind::DeliveryConfirm,
            json!({"shipment": refs[4], "items": [{"line": 0, "quantity": 300}], "condition": "good"}),
        ),
        _ => (
            Kind::Verdict,
            json!({"entry": refs[1], "verdict": "verify", "reason": "called the hospital switchboard"}),
        ),
    }
}

fn generate() -> Value {
    let author = SigningKey::from_bytes(&[0x11; 32]);
    let log = LogSigner::new("example.org/aidledger", SigningKey::from_bytes(&[0x22; 32])).unwrap();
    let mut entries = vec![];
    let mut leaf_hashes = vec![];
    let mut refs = vec![];
    for n in 0..7 {
        let (kind, body) = draft(n, &refs);
        let created_at =
            OffsetDateTime::from_unix_timestamp(1_580_000_000 + 60 * n as i64).unwrap();
        let unsigned = UnsignedEntry::new(kind, &author.verifying_key(), created_at, body);
        let canonical_unsigned = String::from_utf8(canonical_json(&unsigned)).unwrap();
        let mut message = SIGNATURE_DOMAIN.to_vec();
        message.extend(canonical_unsigned.as_bytes());
        let signed = unsigned.sign(&author).unwrap();
        leaf_hashes.push(signed.leaf_hash());
        refs.push(hex32::encode(&signed.leaf_hash()));
        entries.push(json!({
            "unsigned_canonical": canonical_unsigned,
            "signing_message_hex": hex::encode(&message),
            "sig": signed.entry().sig,
            "leaf": String::from_utf8(signed.leaf().to_vec()).unwrap(),
            "leaf_hash": hex32::encode(&signed.leaf_hash()),
        }));
    }

    let mut frontier = Frontier::empty();
    let mut stored = vec![];
    let mut roots = vec![];
    for &h in &leaf_hashes {
        stored.extend(frontier.append(h));
        roots.push(json!({"size": frontier.size(), "root": hex32::encode(&frontier.root())}));
    }
    let stored = Stored(stored);
    let n = leaf_hashes.len() as u64;
    let mut inclusion = vec![];
    let mut consistency = vec![];
    for size in 1..=n {
        for index in 0..size {
            let proof = tree::inclusion_proof(index, size, &stored).unwrap();
            inclusion.push(json!({"index": index, "size": size, "proof": hexes(&proof)}));
        }
        for first in 1..=size {
            let proof = tree::consistency_proof(first, size, &stored).unwrap();
            consistency.push(json!({"first": first, "second": size, "proof": hexes(&proof)}));
        }
    }
    let root = tree::root(n, &stored).unwrap();
    json!({
        "description": "aidledger format v1 test vectors; see docs/FORMAT.md",
        "author": {
            "secret_seed_hex": hex::encode(author.to_bytes()),
            "public_key_hex": hex::encode(author.verifying_key().as_bytes()),
        },
        "signature_domain": String::from_utf8(SIGNATURE_DOMAIN.to_vec()).unwrap(),
        "entries": entries,
        "tree": {
            "leaf_hashes": hexes(&leaf_hashes),
            "roots": roots,
            "inclusion_proofs": inclusion,
            "consistency_proofs": consistency,
        },
        "checkpoint": {
            "log_secret_seed_hex": hex::encode([0x22u8; 32]),
            "skey": log.to_skey(),
            "vkey": log.vkey(),
            "note": log.sign(n, root),
        },
    })
}

fn vectors_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/vectors/ledger-v1.json")
}

#[test]
fn implementation_matches_the_published_vectors() {
    let generated = generate();
    let path = vectors_path();
    if std::env::var_os("UPDATE_VECTORS").is_some() {
        std::fs::write(
            &path,
            serde_json::to_string_pretty(&generated).unwrap() + "\n",
        )
        .unwrap();
    }
    let published: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        generated, published,
        "docs/vectors/ledger-v1.json no longer matches the implementation"
    );
}

#[test]
fn published_vectors_verify_with_the_public_api() {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(vectors_path()).unwrap()).unwrap();
    for e in v["entries"].as_array().unwrap() {
        let entry = VerifiedEntry::from_leaf(e["leaf"].as_str().unwrap().as_bytes()).unwrap();
        assert_eq!(hex32::encode(&entry.leaf_hash()), e["leaf_hash"]);
    }
    let leaves = hashes_of(&v["tree"]["leaf_hashes"]);
    let root_of = |size: u64| {
        hex32::decode(
            v["tree"]["roots"][size as usize - 1]["root"]
                .as_str()
                .unwrap(),
        )
        .unwrap()
    };
    for p in v["tree"]["inclusion_proofs"].as_array().unwrap() {
        let (index, size) = (p["index"].as_u64().unwrap(), p["size"].as_u64().unwrap());
        tree::verify_inclusion(
            &hashes_of(&p["proof"]),
            index,
            size,
            leaves[index as usize],
            root_of(size),
        )
        .unwrap();
    }
    for p in v["tree"]["consistency_proofs"].as_array().unwrap() {
        let (first, second) = (p["first"].as_u64().unwrap(), p["second"].as_u64().unwrap());
        tree::verify_consistency(
            &hashes_of(&p["proof"]),
            first,
            root_of(first),
            second,
            root_of(second),
        )
        .unwrap();
    }
    let verifier = LogVerifier::new(v["checkpoint"]["vkey"].as_str().unwrap()).unwrap();
    let checkpoint = verifier
        .verify(v["checkpoint"]["note"].as_str().unwrap().as_bytes())
        .unwrap();
    assert_eq!(checkpoint.root, root_of(leaves.len() as u64));
}
