#!/usr/bin/env bash
# The browser end-to-end test: installs what it needs (Debian's Chromium, npm's
# playwright-core) when missing, starts a real instance from the debug binary over a
# temporary data directory, and drives it with tests/browser/e2e.mjs.
# Screenshots and the page-weight report go to target/browser-artifacts/.
set -euo pipefail
cd "$(dirname "$0")/../.."

# A CJK font, so that the Chinese in the screenshots is legible.
if [ ! -x /usr/bin/chromium ] || [ ! -d /usr/share/fonts/truetype/wqy ]; then
  apt-get update -qq && apt-get install -y -qq chromium fonts-wqy-zenhei >/dev/null
fi
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  npm install --silent --no-audit --no-fund --prefix tests/browser
fi
cargo build --locked --quiet --bin aidledger

data=$(mktemp -d)
artifacts=target/browser-artifacts
rm -rf "$artifacts" && mkdir -p "$artifacts"
log="$artifacts/server.log"
./target/debug/aidledger serve --data-dir "$data" --listen 127.0.0.1:0 >"$log" 2>&1 &
server=$!
stop() {
  local status=$?
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$data"
  exit "$status"
}
trap stop EXIT
for _ in $(seq 100); do
  grep -q '^aidledger serving ' "$log" && break
  sleep 0.1
done
url=$(sed -n 's/^aidledger serving //p' "$log")
[ -n "$url" ] || { cat "$log"; exit 1; }

# A coherent sample aid effort, so the board is full as on a real instance.
./target/debug/aidledger seed --url "$url" --count 300 --operator-key "$data/operator.key" >/dev/null

AIDLEDGER_URL="$url" AIDLEDGER_DATA="$data" AIDLEDGER_BIN=./target/debug/aidledger \
  ARTIFACTS="$artifacts" node tests/browser/e2e.mjs
