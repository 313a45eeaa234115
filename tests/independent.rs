//! The independent verifier (tests/independent/verify.py, Python standard library
//! only, written from the RFCs and C2SP specs) must accept what the server produces.

use crate::common;

use common::{author, offer_body, signed, TestInstance};
use ledger::Kind;
use serde_json::json;
use std::path::Path;
use std::process::Command;

fn independent_verifier(mode: &str, target: &str) -> std::process::Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/independent/verify.py");
    Command::new("python3")
        .arg(script)
        .arg(mode)
        .arg(target)
        .output()
        .expect("python3 runs")
}

#[test]
fn independent_verifier_accepts_the_published_vectors() {
    let vectors = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/vectors/ledger-v1.json");
    let out = independent_verifier("vectors", vectors.to_str().unwrap());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn independent_verifier_accepts_a_live_log() {
    let instance = TestInstance::start().await;
    let mut tasks = tokio::task::JoinSet::new();
    for a in 0..4u8 {
        let client = instance.client.clone();
        tasks.spawn(async move {
            for i in 0..75 {
                let mut body = offer_body(&format!("口罩 masks batch {a}-{i}"));
                body["items"][0]["quantity"] = json!(100 + i);
                let (status, _) = client
                    .submit(signed(&author(a + 1), Kind::OfferPost, body))
                    .await
                    .unwrap();
                assert_eq!(status, 201);
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let url = instance.url.clone();
    let out = tokio::task::spawn_blocking(move || independent_verifier("server", &url))
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // 300 offers after the log's first clock reading.
    assert!(String::from_utf8_lossy(&out.stdout).contains("server OK: 301 entries"));
    instance.stop().await;
}
