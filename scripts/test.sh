#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this script).
# Every test uses real databases, nothing is mocked: the integration suite runs twice,
# on SQLite files in temporary directories and on a real PostgreSQL server on
# 127.0.0.1 (installed and started here when none is running, scripts/postgres.sh),
# each instance on a database of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
# A run of the suite is a build from scratch on CI: incremental caches would only add
# disk (CI machines may have little free; see Cargo.toml [profile.dev]).
export CARGO_INCREMENTAL=0

echo "== format"
cargo fmt --all -- --check

echo "== lint"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== tests (integration suite on SQLite)"
cargo test --workspace --locked

echo "== integration suite on PostgreSQL"
admin_url=$(bash scripts/postgres.sh)
# Throwaway databases: dropped before the pass (what an interrupted run left) and
# after it, so the cluster stays small and a restart after a crash stays quick.
# Names carry the test process's pid (tests/common); a live one belongs to a
# concurrent run.
drop_test_databases() {
  psql "$admin_url" -Atqc "SELECT datname FROM pg_database WHERE datname LIKE 'aidledger_test_%'" |
    while read -r db; do
      pid=${db#aidledger_test_}
      kill -0 "${pid%%_*}" 2>/dev/null && continue
      psql "$admin_url" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)"
    done
}
drop_test_databases
AIDLEDGER_TEST_POSTGRES=$admin_url cargo test -p aidledger --locked
drop_test_databases

echo "== the web app in a real browser (headless Chromium, Playwright)"
bash tests/browser/run.sh

echo "== ledger builds for wasm32 (the browser verifies with the same code)"
bash ../shared/tools/wasm-toolchain.sh >/dev/null
PATH=/opt/rust-wasm/bin:$PATH CARGO_TARGET_DIR=target-wasm \
  cargo build -p aidledger-ledger --target wasm32-unknown-unknown --locked --quiet
