#!/usr/bin/env bash
# Fuzzes a fresh `acorn serve` (debug build, own data directory, free port, sandbox on, rate
# limits off) against its own /openapi.json with schemathesis: positive and negative data,
# every check, a bounded number of examples per operation. Exits non-zero on any failure.
# One worker: with two, hypothesis on Python 3.11 races in `ast` ("AST constructor recursion
# depth mismatch") and reports runtime errors that are not the API's.
# Prints one closing line, `schemathesis: N passed, M failed` (operations), for .ci/run.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target="$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore schemathesis
cargo build -q -p acorn

data="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$target/debug/acorn" serve --data-dir "$data" --listen "127.0.0.1:$port" --sandbox true \
  --sandbox-step-delay 0 --rate-limit off --grant-rate-limit off >"$data/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$data"' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  grep -q 'client_secret:' "$data/serve.log" 2>/dev/null &&
    curl -fs "$base/api/health" >/dev/null 2>&1 && break
  sleep 0.1
done
id="$(awk '/client_id:/ {print $2; exit}' "$data/serve.log")"
secret="$(awk '/client_secret:/ {print $2; exit}' "$data/serve.log")"
token="$(curl -fs "$base/api/v1/merchant/token/grant" -H 'content-type: application/json' \
  -d "{\"client_id\":\"$id\",\"client_secret\":\"$secret\",\"grant_type\":\"client_credentials\"}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
[ -n "$token" ] || { echo "no token:"; cat "$data/serve.log"; exit 1; }

report="$data/report.json"
set +e
ACORN_TOKEN="$token" PYTHONPATH="$root/.ci${PYTHONPATH:+:$PYTHONPATH}" SCHEMATHESIS_HOOKS=schemathesis_hooks \
  schemathesis --config-file "$root/.ci/schemathesis.toml" run "$base/openapi.json" \
  --mode all --checks all --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-20}" \
  --workers 1 --seed "${SCHEMATHESIS_SEED:-1}" --no-color --warnings off \
  --exclude-path /docs --exclude-path /openapi.json \
  --report-junit-path "$data/junit.xml" --report junit --report-dir "$data"
rc=$?
set -e
python3 - "$data/junit.xml" <<'PY' || echo "schemathesis: 0 passed, 1 failed"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
cases = root.iter("testcase")
passed = failed = 0
for c in cases:
    if c.find("failure") is not None or c.find("error") is not None:
        failed += 1
    else:
        passed += 1
print(f"schemathesis: {passed} passed, {failed} failed")
PY
exit "$rc"
