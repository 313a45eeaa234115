//! The committed WASM bundle (static/pkg) must be built from the sources in the tree:
//! scripts/build-frontend.sh records their hash in static/pkg/SOURCES.

#[test]
fn the_committed_bundle_was_built_from_these_sources() {
    let out = std::process::Command::new("bash")
        .args(["scripts/build-frontend.sh", "--source-hash"])
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let current = String::from_utf8(out.stdout).unwrap();
    assert_eq!(current.trim().len(), 64, "a sha256 hex digest: {current}");
    assert_eq!(
        current.trim(),
        aidledger::server::BUNDLE_SOURCES.trim(),
        "static/pkg is stale: run scripts/build-frontend.sh and commit static/pkg"
    );
}
