//! What one entry costs to check, against the raw signature check it contains.
//!
//! `verify_strict` is the baseline: the cost of ed25519 alone on the same message.
//! `from_leaf` is the log's whole validity rule (parse, canonical form, key, timestamp,
//! body, signature, leaf hash); their ratio is the overhead of everything that is not
//! the signature. Run: `cargo bench -p aidledger-ledger --bench entry`.

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use ledger::entry::{canonical_json, UnsignedEntry, VerifiedEntry, SIGNATURE_DOMAIN};
use ledger::{tree, Kind};
use std::hint::black_box;
use std::time::Duration;
use time::OffsetDateTime;

/// A signed offer of the usual size.
fn signed_offer() -> (SigningKey, UnsignedEntry, VerifiedEntry) {
    let key = SigningKey::from_bytes(&[42; 32]);
    let unsigned = UnsignedEntry::new(
        Kind::OfferPost,
        &key.verifying_key(),
        OffsetDateTime::from_unix_timestamp(1_780_000_000).expect("valid time"),
        common::offer(123_456_789),
    );
    let signed = unsigned.clone().sign(&key).expect("signs");
    (key, unsigned, signed)
}

fn entry(c: &mut Criterion) {
    let (key, unsigned, signed) = signed_offer();
    let leaf = signed.leaf().to_vec();
    let mut message = SIGNATURE_DOMAIN.to_vec();
    message.extend(canonical_json(&unsigned));
    let author: VerifyingKey = key.verifying_key();
    let sig_bytes: [u8; 64] = hex::decode(&signed.entry().sig)
        .expect("hex")
        .try_into()
        .expect("64 bytes");
    let sig = Signature::from_bytes(&sig_bytes);
    author
        .verify_strict(&message, &sig)
        .expect("the rebuilt message is the signed one");
    eprintln!(
        "leaf {} bytes, signed message {} bytes",
        leaf.len(),
        message.len()
    );

    let mut g = c.benchmark_group("entry");
    g.throughput(Throughput::Elements(1));
    g.bench_function("verify_strict", |b| {
        b.iter(|| black_box(&author).verify_strict(black_box(&message), black_box(&sig)))
    });
    g.bench_function("from_leaf", |b| {
        b.iter(|| VerifiedEntry::from_leaf(black_box(&leaf)).expect("valid"))
    });
    g.bench_function("parse_author_key", |b| {
        b.iter(|| VerifyingKey::from_bytes(black_box(author.as_bytes())).expect("valid"))
    });
    g.bench_function("canonical_json", |b| {
        b.iter(|| canonical_json(black_box(signed.entry())))
    });
    g.bench_function("parse_json", |b| {
        b.iter(|| serde_json::from_slice::<ledger::SignedEntry>(black_box(&leaf)).expect("parses"))
    });
    g.bench_function("leaf_hash", |b| {
        b.iter(|| tree::leaf_hash(black_box(&leaf)))
    });
    g.bench_function("sign", |b| {
        b.iter(|| unsigned.clone().sign(black_box(&key)).expect("signs"))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = entry
}
criterion_main!(benches);
