#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this script).
# Every test uses real SQLite files in temporary directories; nothing is mocked.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== format"
cargo fmt --all -- --check

echo "== lint"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== tests"
cargo test --workspace --locked

echo "== the web app in a real browser (headless Chromium, Playwright)"
bash tests/browser/run.sh

echo "== ledger builds for wasm32 (the browser verifies with the same code)"
bash ../shared/tools/wasm-toolchain.sh >/dev/null
PATH=/opt/rust-wasm/bin:$PATH CARGO_TARGET_DIR=target-wasm \
  cargo build -p aidledger-ledger --target wasm32-unknown-unknown --locked --quiet
