#!/usr/bin/env bash
# SDK conformance test: builds sesame, starts it on a free loopback port with a
# throwaway data directory and an admin token, and runs scripts/sdk/conformance.mjs and
# scripts/sdk/links.mjs
# (node:test + the official pangea-node-sdk 5.6.0, pinned by scripts/sdk/package-lock.json).
#
# Usage: scripts/sdk-test.sh [extra `node --test` args, e.g. --test-name-pattern=list]
# With SESAME_URL and SESAME_TOKEN (an admin token) set, it runs the tests
# against that server instead (scripts/cluster.sh's proxy, for example).
# Needs: go (with cgo), node >= 20, npm, curl, python3 (or node) for picking a port.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

sdk_dir="scripts/sdk"

# --- npm dependencies (pinned by the committed lockfile) -----------------------------------
if [[ ! -d "$sdk_dir/node_modules" || "$sdk_dir/package-lock.json" -nt "$sdk_dir/node_modules" ]]; then
  echo "sdk-test: installing npm dependencies (npm ci)" >&2
  (cd "$sdk_dir" && npm ci --no-audit --no-fund)
  touch "$sdk_dir/node_modules"
fi

# conformance.mjs: object-store methods; links.mjs: share-link methods + Idempotency-Key.
# The files use disjoint folders and tags, so node may run them in parallel.
test_files=("$sdk_dir/conformance.mjs" "$sdk_dir/links.mjs")
if [[ -n "${SESAME_URL:-}" && -n "${SESAME_TOKEN:-}" ]]; then
  echo "sdk-test: running node --test ${test_files[*]} against $SESAME_URL" >&2
  exec node --test "$@" "${test_files[@]}"
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/sesame-sdk-test.XXXXXX")"
server_pid=""
server_log="$tmp/server.log"

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [[ $rc -ne 0 && -f "$server_log" ]]; then
    echo "sdk-test: FAILED (exit $rc); last 80 lines of the server log:" >&2
    tail -n 80 "$server_log" >&2 || true
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- build ---------------------------------------------------------------------------------
echo "sdk-test: building ./cmd/sesame" >&2
CGO_ENABLED=1 go build -o "$tmp/sesame" ./cmd/sesame

# --- data dir + token ----------------------------------------------------------------------
mkdir -p "$tmp/data"
token="$("$tmp/sesame" token create --data "$tmp/data" --name sdk --scopes admin)"
token="${token//[$'\r\n\t ']/}"
if [[ -z "$token" ]]; then
  echo "sdk-test: 'sesame token create' printed no token" >&2
  exit 1
fi

# --- free port -----------------------------------------------------------------------------
free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
  else
    node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
  fi
}
port="$(free_port)"
base_url="http://127.0.0.1:$port"

# --- start the server ----------------------------------------------------------------------
echo "sdk-test: starting sesame on $base_url (log: $server_log)" >&2
"$tmp/sesame" serve --data "$tmp/data" --listen "127.0.0.1:$port" >"$server_log" 2>&1 &
server_pid=$!

ready=""
for _ in $(seq 1 300); do # 300 x 0.1 s = 30 s
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "sdk-test: server exited before becoming ready" >&2
    exit 1
  fi
  if curl -fsS -o /dev/null --max-time 1 "$base_url/readyz" 2>/dev/null; then
    ready=1
    break
  fi
  sleep 0.1
done
if [[ -z "$ready" ]]; then
  echo "sdk-test: server not ready after 30 s" >&2
  exit 1
fi

# --- run the conformance tests -------------------------------------------------------------
echo "sdk-test: running node --test ${test_files[*]}" >&2
SESAME_URL="$base_url" SESAME_TOKEN="$token" node --test "$@" "${test_files[@]}"
