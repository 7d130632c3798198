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

source "$root/scripts/lib/serve.sh"
cargo build -q -p acorn

data="$(mktemp -d)"
shots="$data/screenshots"
if [ "${1:-}" = "--screenshots" ]; then shots="$root/docs/screenshots"; fi
mkdir -p "$shots"
acorn_serve "$data" "$data/acorn" || { echo "0 passed, 1 failed"; exit 1; }
export ACORN_URL ACORN_CLIENT_ID ACORN_CLIENT_SECRET
# A live merchant beside the first-start sandbox one: the dashboard shows it no sandbox helper.
live="$(target/debug/acorn merchants create --name "live shop" --mode live --json --data-dir "$data/acorn" 2>/dev/null)"
ACORN_LIVE_CLIENT_ID="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["client_id"])' "$live")"
ACORN_LIVE_CLIENT_SECRET="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["client_secret"])' "$live")"
export ACORN_LIVE_CLIENT_ID ACORN_LIVE_CLIENT_SECRET
export SCREENSHOT_DIR="$shots" CHROME_PROFILE="$data/chromium-profile"
node "$here/dashboard.test.mjs"
