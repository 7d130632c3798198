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
source "$root/scripts/lib/serve.sh"
python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore schemathesis
cargo build -q -p acorn

data="$(mktemp -d)"
acorn_serve "$data" "$data" --rate-limit off --grant-rate-limit off
base="$ACORN_URL"
id="$ACORN_CLIENT_ID"
secret="$ACORN_CLIENT_SECRET"
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
