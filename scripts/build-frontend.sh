#!/usr/bin/env bash
# Builds the web app's WebAssembly bundle into static/pkg (committed, so that running
# the server needs no wasm toolchain):
#   1. the `frontend` crate with its `hydrate` feature, for wasm32, with the toolchain
#      from ../shared/tools/wasm-toolchain.sh (this machine's rustup has no wasm32 target);
#   2. wasm-bindgen, the CLI at exactly the version of the crate in Cargo.lock;
#   3. wasm-opt -Oz from npm's binaryen (Debian's older binaryen breaks the output);
#   4. gzip copies the server sends to browsers that accept them, made with zopfli
#      (standard gzip, 4 % smaller than gzip -9: it keeps the first load under budget);
#   5. static/pkg/SOURCES: the hash of the sources the bundle was built from, which
#      tests/frontend_bundle.rs compares with the tree to catch a stale bundle.
#
# Usage: scripts/build-frontend.sh              build
#        scripts/build-frontend.sh --source-hash  print the hash of the current sources
set -euo pipefail
cd "$(dirname "$0")/.."

source_hash() {
  find frontend/Cargo.toml frontend/src ledger/Cargo.toml ledger/src \
    ledger/contract/Cargo.toml ledger/contract/src Cargo.lock -type f \
    | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -d' ' -f1
}

if [ "${1:-}" = "--source-hash" ]; then
  source_hash
  exit 0
fi

tools="${AIDLEDGER_TOOLS:-$HOME/.cache/aidledger-tools}"
bash ../shared/tools/wasm-toolchain.sh >/dev/null

bindgen_version=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p')
if ! "$tools/bin/wasm-bindgen" --version 2>/dev/null | grep -qF "$bindgen_version"; then
  echo "== installing wasm-bindgen-cli $bindgen_version"
  # Without --locked: its own lockfile names a crate version the registry here lacks.
  cargo install --root "$tools" wasm-bindgen-cli --version "$bindgen_version"
fi
if ! command -v zopfli >/dev/null; then
  apt-get update -qq && apt-get install -y -qq zopfli
fi
if [ ! -x "$tools/node_modules/.bin/wasm-opt" ]; then
  echo "== installing binaryen (wasm-opt) from npm"
  npm install --silent --prefix "$tools" binaryen@132
fi

echo "== building the hydrate bundle for wasm32"
# erase_components: leptos erases each component's view type, which cuts the bundle by
# a sixth (less monomorphised rendering code) at no cost to the rendered HTML.
PATH=/opt/rust-wasm/bin:$PATH CARGO_TARGET_DIR=target-wasm RUSTFLAGS="--cfg erase_components" \
  cargo build -p aidledger-frontend --lib --target wasm32-unknown-unknown \
  --no-default-features --features hydrate --profile wasm-release --locked

out=static/pkg
rm -rf "$out"
"$tools/bin/wasm-bindgen" --target web --no-typescript --remove-name-section \
  --remove-producers-section --out-dir "$out" --out-name aidledger \
  target-wasm/wasm32-unknown-unknown/wasm-release/frontend.wasm
"$tools/node_modules/.bin/wasm-opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
  "$out/aidledger_bg.wasm" -o "$out/aidledger_bg.wasm"
for f in "$out/aidledger.js" "$out/aidledger_bg.wasm"; do
  zopfli --i15 -c "$f" >"$f.gz"
done
source_hash > "$out/SOURCES"
ls -l "$out"
