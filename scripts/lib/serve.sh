# Sourced by the scripts that run a fresh `acorn serve` (the SDK examples, the dashboard tests,
# schemathesis): start the debug build on a free port and read the credentials it prints on
# its first start.
#
#   source "$root/scripts/lib/serve.sh"
#   acorn_serve "$temp" "$temp/data" --modes sandbox   # extra `serve` flags last
#   # → ACORN_URL, ACORN_CLIENT_ID, ACORN_CLIENT_SECRET (not exported); the log is
#   #   "$temp/serve.log"; on exit the server is stopped and "$temp" removed.

# Cargo's target directory (honours CARGO_TARGET_DIR and the workspace's settings).
acorn_target_dir() {
  cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])'
}

# acorn_serve TEMP DATA_DIR [SERVE_FLAGS...]: starts `acorn serve --data-dir DATA_DIR` on a free
# port with no sandbox delay, logging to TEMP/serve.log, and waits (up to 10 s) for the banner
# and /api/health. Returns 1, after printing the log, when no credentials were printed.
acorn_serve() {
  ACORN_SERVE_TEMP="$1"
  local data="$2"
  shift 2
  local target port
  target="$(acorn_target_dir)"
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  "$target/debug/acorn" serve --data-dir "$data" --listen "127.0.0.1:$port" \
    --sandbox-step-delay 0 "$@" >"$ACORN_SERVE_TEMP/serve.log" 2>&1 &
  ACORN_SERVE_PID=$!
  trap 'kill "$ACORN_SERVE_PID" 2>/dev/null; wait "$ACORN_SERVE_PID" 2>/dev/null; rm -rf "$ACORN_SERVE_TEMP"' EXIT
  ACORN_URL="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do
    grep -q 'client_secret:' "$ACORN_SERVE_TEMP/serve.log" 2>/dev/null &&
      curl -fs "$ACORN_URL/api/health" >/dev/null 2>&1 && break
    sleep 0.1
  done
  ACORN_CLIENT_ID="$(awk '/client_id:/ {print $2; exit}' "$ACORN_SERVE_TEMP/serve.log")"
  ACORN_CLIENT_SECRET="$(awk '/client_secret:/ {print $2; exit}' "$ACORN_SERVE_TEMP/serve.log")"
  if [ -z "$ACORN_CLIENT_ID" ] || [ -z "$ACORN_CLIENT_SECRET" ]; then
    echo "acorn serve did not print credentials:" >&2
    cat "$ACORN_SERVE_TEMP/serve.log" >&2
    return 1
  fi
}
