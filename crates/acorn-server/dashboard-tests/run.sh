#!/usr/bin/env bash
# End-to-end tests of the dashboard: headless Chromium (Debian's `chromium`, driven by
# playwright-core from npm) against a real `acorn serve` (debug build, fresh data directory,
# free port, no sandbox delay). Prints `N passed, M failed` last; exits non-zero on failure.
#   crates/acorn-server/dashboard-tests/run.sh                 # screenshots to a temp dir
#   crates/acorn-server/dashboard-tests/run.sh --screenshots   # refresh docs/screenshots/
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cd "$root"

if [ ! -x /usr/bin/chromium ]; then
  echo "--- installing chromium"
  apt-get install -y chromium >/dev/null || { apt-get update >/dev/null && apt-get install -y chromium >/dev/null; }
fi
if [ ! -d "$here/node_modules/playwright-core" ]; then
  echo "--- npm ci (playwright-core)"
  (cd "$here" && npm ci --no-audit --no-fund >/dev/null)
fi

target="$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
cargo build -q -p acorn

data="$(mktemp -d)"
shots="$data/screenshots"
if [ "${1:-}" = "--screenshots" ]; then shots="$root/docs/screenshots"; fi
mkdir -p "$shots"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$target/debug/acorn" serve --data-dir "$data/acorn" --listen "127.0.0.1:$port" \
  --sandbox-step-delay 0 >"$data/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$data"' EXIT

for _ in $(seq 1 100); do
  grep -q 'client_secret:' "$data/serve.log" 2>/dev/null &&
    curl -fs "http://127.0.0.1:$port/api/health" >/dev/null 2>&1 && break
  sleep 0.1
done
ACORN_CLIENT_ID="$(awk '/client_id:/ {print $2; exit}' "$data/serve.log")"
ACORN_CLIENT_SECRET="$(awk '/client_secret:/ {print $2; exit}' "$data/serve.log")"
if [ -z "$ACORN_CLIENT_ID" ] || [ -z "$ACORN_CLIENT_SECRET" ]; then
  echo "acorn serve did not print credentials:" >&2
  cat "$data/serve.log" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
export ACORN_URL="http://127.0.0.1:$port" ACORN_CLIENT_ID ACORN_CLIENT_SECRET
export SCREENSHOT_DIR="$shots" CHROME_PROFILE="$data/chromium-profile"
node "$here/dashboard.test.mjs"
