#!/usr/bin/env bash
# Runs every SDK example against a fresh `acorn serve` (own data directory, free port, no
# sandbox delay) and fails if any example fails. Run from anywhere:
#   crates/acorn-sdk/examples/run_all.sh            # all examples
#   crates/acorn-sdk/examples/run_all.sh get_files  # some
set -euo pipefail

root="$(cd "$(dirname "$0")/../../.." && pwd)"
cd "$root"
target="$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"

cargo build -q -p acorn
cargo build -q -p acorn-sdk --examples

data="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$target/debug/acorn" serve --data-dir "$data" --listen "127.0.0.1:$port" \
  --sandbox-step-delay 0 >"$data/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$data"' EXIT

for _ in $(seq 1 100); do
  grep -q 'client_secret:' "$data/serve.log" 2>/dev/null &&
    curl -fs "http://127.0.0.1:$port/api/health" >/dev/null 2>&1 && break
  sleep 0.1
done
export ACORN_URL="http://127.0.0.1:$port"
ACORN_CLIENT_ID="$(awk '/client_id:/ {print $2; exit}' "$data/serve.log")"
ACORN_CLIENT_SECRET="$(awk '/client_secret:/ {print $2; exit}' "$data/serve.log")"
export ACORN_CLIENT_ID ACORN_CLIENT_SECRET
if [ -z "$ACORN_CLIENT_ID" ] || [ -z "$ACORN_CLIENT_SECRET" ]; then
  echo "acorn serve did not print credentials:" >&2
  cat "$data/serve.log" >&2
  exit 1
fi

if [ "$#" -gt 0 ]; then
  examples=("$@")
else
  examples=()
  for f in crates/acorn-sdk/examples/*.rs; do examples+=("$(basename "$f" .rs)"); done
fi
failed=()
for ex in "${examples[@]}"; do
  echo "=== $ex"
  if ! "$target/debug/examples/$ex"; then failed+=("$ex"); fi
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "all ${#examples[@]} examples passed"
