#!/usr/bin/env bash
# Runs every SDK example against a fresh `acorn serve` (own data directory, free port, no
# sandbox delay) and fails if any example fails. Run from anywhere:
#   crates/acorn-sdk/examples/run_all.sh            # all examples
#   crates/acorn-sdk/examples/run_all.sh get_files  # some
set -euo pipefail

root="$(cd "$(dirname "$0")/../../.." && pwd)"
cd "$root"
source "$root/scripts/lib/serve.sh"
target="$(acorn_target_dir)"

cargo build -q -p acorn
cargo build -q -p acorn-sdk --examples

data="$(mktemp -d)"
acorn_serve "$data" "$data"
export ACORN_URL ACORN_CLIENT_ID ACORN_CLIENT_SECRET

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
