#!/usr/bin/env bash
# The one test command: installs what the tests need, then runs the format
# check, vet, staticcheck, the import rule, the size and complexity limits,
# the Go tests with the race
# detector (browser and fault tests included), the store's tests once more
# on a throw-away PostgreSQL and once more with blobs in a throw-away
# versitygw bucket, a short run of every fuzz target, and the Node SDK
# conformance test.
set -euo pipefail
cd "$(dirname "$0")/.."
export CGO_ENABLED=1

need_apt=()
command -v gcc >/dev/null 2>&1 || need_apt+=(gcc libc6-dev)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium) # the browser tests (gateway/browser_test.go)
# The store's tests on PostgreSQL: Debian's server, started below.
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
if [ "${CI:-}" = true ] && [ -z "${SESAME_TEST_POSTGRES_DSN:-}" ] && [ -z "$(pg_bin)" ]; then
  need_apt+=(postgresql)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== installing ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}"
fi

echo "== go modules"
go mod download

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './scripts/sdk/node_modules/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

echo "== go vet"
go vet ./...

echo "== staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

echo "== import rule"
scripts/check-imports.sh

echo "== size and complexity (product files ≤ 600 lines, functions ≤ 80 lines, cyclomatic complexity < 25)"
go run ./scripts/checksize
product=$(git ls-files '*.go' | grep -v '_test\.go$' | grep -v -e '^scripts/' -e '^internal/testrig/' -e '/testdata/')
go run github.com/fzipp/gocyclo/cmd/gocyclo@v0.6.0 -over 24 $product

echo "== go test -race"
go test -race -count=1 ./...

trap stop_servers EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start_postgres starts a throw-away PostgreSQL cluster (trust auth, on a
# free port of 127.0.0.1, in a temporary directory) and exports
# SESAME_TEST_POSTGRES_DSN; the EXIT trap stops it and removes the directory.
start_postgres() {
  pg_dir=$(mktemp -d /tmp/sesame-pg.XXXXXX)
  pg_run=()
  if [ "$(id -u)" = 0 ]; then # initdb refuses to run as root
    chown postgres "$pg_dir"
    pg_run=(runuser -u postgres --)
  fi
  "${pg_run[@]}" "$(pg_bin)/initdb" -D "$pg_dir/data" -A trust -U postgres -E UTF8 >"$pg_dir/initdb.log"
  # A port that looks free may be taken by the time the server binds it:
  # try the next one then.
  local port tries=0
  port=$((54320 + RANDOM % 2000))
  until "${pg_run[@]}" "$(pg_bin)/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -o \
    "-p $port -k $pg_dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null; do
    tries=$((tries + 1))
    if [ $tries -ge 20 ]; then
      echo "PostgreSQL did not start:"; tail -20 "$pg_dir/server.log"; return 1
    fi
    port=$((port + 1))
  done
  export SESAME_TEST_POSTGRES_DSN="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
}

stop_postgres() {
  "${pg_run[@]}" "$(pg_bin)/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$pg_dir"
}

# start_versitygw installs versitygw into the Go bin directory unless it is
# there (the first build takes minutes), starts it on a free port of
# 127.0.0.1 over a temporary directory and exports SESAME_TEST_S3_*; the
# EXIT trap stops it and removes the directory.
VERSITYGW_VERSION=v1.8.0
gobin() { local d; d=$(go env GOBIN); echo "${d:-$(go env GOPATH)/bin}"; }
start_versitygw() {
  local bin port i
  bin="$(gobin)/versitygw"
  if [ ! -x "$bin" ]; then
    echo "== installing versitygw $VERSITYGW_VERSION (once; the build takes a few minutes)"
    if ! (cd / && go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"); then
      if [ "${CI:-}" = true ]; then
        echo "versitygw could not be installed"; exit 1
      fi
      echo "== versitygw could not be installed"
      return 0
    fi
  fi
  s3_dir=$(mktemp -d /tmp/sesame-s3.XXXXXX)
  mkdir "$s3_dir/data"
  export SESAME_TEST_S3_ACCESS_KEY=sesame-test
  export SESAME_TEST_S3_SECRET_KEY="$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  export SESAME_TEST_S3_BUCKET=sesame-test
  # A port can look free and still be taken: then the server exits, and
  # the next port is tried.
  for port in $(seq 57070 57170); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
    ROOT_ACCESS_KEY_ID="$SESAME_TEST_S3_ACCESS_KEY" ROOT_SECRET_ACCESS_KEY="$SESAME_TEST_S3_SECRET_KEY" \
      "$bin" --port "127.0.0.1:$port" posix "$s3_dir/data" >"$s3_dir/server.log" 2>&1 &
    s3_pid=$!
    for i in $(seq 1 100); do
      if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        export SESAME_TEST_S3_ENDPOINT="127.0.0.1:$port"
        return 0
      fi
      kill -0 "$s3_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill "$s3_pid" 2>/dev/null || true
    wait "$s3_pid" 2>/dev/null || true
    s3_pid=
  done
  echo "versitygw did not start:"; cat "$s3_dir/server.log"; exit 1
}

stop_versitygw() {
  if [ -n "${s3_pid:-}" ]; then
    kill "$s3_pid" 2>/dev/null || true
    wait "$s3_pid" 2>/dev/null || true
  fi
  rm -rf "$s3_dir"
}

# stop_servers is the EXIT trap: it stops whichever throw-away servers run.
stop_servers() {
  if [ -n "${pg_dir:-}" ]; then stop_postgres; fi
  if [ -n "${s3_dir:-}" ]; then stop_versitygw; fi
}

if [ -z "${SESAME_TEST_POSTGRES_DSN:-}" ] && [ -n "$(pg_bin)" ]; then
  start_postgres
fi
if [ -n "${SESAME_TEST_POSTGRES_DSN:-}" ]; then
  echo "== go test -race ./store/ on PostgreSQL"
  go test -race -count=1 ./store/
else
  echo "== the store's tests on PostgreSQL skipped: no PostgreSQL server installed (CI=true installs one)"
fi

if [ -z "${SESAME_TEST_S3_ENDPOINT:-}" ]; then
  start_versitygw
fi
if [ -n "${SESAME_TEST_S3_ENDPOINT:-}" ]; then
  echo "== go test -race ./store/ with blobs in an S3 bucket (versitygw)"
  go test -race -count=1 ./store/
else
  echo "== the store's tests on S3 skipped: versitygw could not be installed (CI=true fails instead)"
fi

echo "== fuzzing (each target briefly; seeds also ran in go test)"
FUZZTIME="${FUZZTIME:-3}" scripts/fuzz.sh

echo "== SDK conformance (pangea-node-sdk 5.6.0)"
scripts/sdk-test.sh
