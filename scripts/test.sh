#!/usr/bin/env bash
# The one test command: installs what the tests need, then runs the format
# check, vet, staticcheck, the import rule, the size and complexity limits,
# the Go tests with the race
# detector (browser and fault tests included), the store's tests once more
# on a throw-away PostgreSQL and once more with blobs in a throw-away
# versitygw bucket, the cluster test (scripts/cluster.sh: two replicas on
# PostgreSQL and versitygw behind nginx), a short run of every fuzz
# target, and the Node SDK conformance test.
set -euo pipefail
cd "$(dirname "$0")/.."
export CGO_ENABLED=1

need_apt=()
command -v gcc >/dev/null 2>&1 || need_apt+=(gcc libc6-dev)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium) # the browser tests (gateway/browser_test.go)
# shellcheck source=scripts/lib/services.sh
. scripts/lib/services.sh
# The store's tests on PostgreSQL: Debian's server, started below.
if [ "${CI:-}" = true ] && [ -z "$(pg_bin)" ]; then
  need_apt+=(postgresql)
fi
# The cluster test's round-robin proxy.
if [ "${CI:-}" = true ] && ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  need_apt+=(nginx)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== installing ${need_apt[*]}"
  apt_install "${need_apt[@]}"
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
go vet -tags cluster ./internal/cluster/

echo "== staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 -tags cluster ./internal/cluster/

echo "== import rule"
scripts/check-imports.sh

echo "== size and complexity (product files ≤ 600 lines, functions ≤ 80 lines, cyclomatic complexity < 25)"
go run ./scripts/checksize
product=$(git ls-files '*.go' | grep -v '_test\.go$' | grep -v -e '^scripts/' -e '^internal/testrig/' -e '/testdata/')
go run github.com/fzipp/gocyclo/cmd/gocyclo@v0.6.0 -over 24 $product

# The move into PostgreSQL + S3 (TestExportImport_IntoPostgresS3) needs both
# throw-away servers: it runs with the store's S3 run below.
echo "== go test -race"
go test -race -count=1 -skip '^TestExportImport_IntoPostgresS3$' ./...

trap stop_servers EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# stop_servers is the EXIT trap: it stops whichever throw-away servers run.
stop_servers() {
  stop_postgres
  stop_versitygw
}

if [ -z "${SESAME_TEST_POSTGRES_DSN:-}" ] && [ -n "$(pg_bin)" ]; then
  start_postgres
  export SESAME_TEST_POSTGRES_DSN="$pg_dsn"
fi
if [ -n "${SESAME_TEST_POSTGRES_DSN:-}" ]; then
  echo "== go test -race ./store/ on PostgreSQL"
  go test -race -count=1 -skip '^TestExportImport_IntoPostgresS3$' ./store/
else
  echo "== the store's tests on PostgreSQL skipped: no PostgreSQL server installed (CI=true installs one)"
fi

if [ -z "${SESAME_TEST_S3_ENDPOINT:-}" ]; then
  if install_versitygw; then
    start_versitygw
    export SESAME_TEST_S3_ENDPOINT="$s3_endpoint" SESAME_TEST_S3_ACCESS_KEY="$s3_access_key" \
      SESAME_TEST_S3_SECRET_KEY="$s3_secret_key" SESAME_TEST_S3_BUCKET=sesame-test
  elif [ "${CI:-}" = true ]; then
    echo "versitygw could not be installed"; exit 1
  fi
fi
if [ -n "${SESAME_TEST_S3_ENDPOINT:-}" ]; then
  echo "== go test -race ./store/ with blobs in an S3 bucket (versitygw), and the move of an instance into PostgreSQL + S3"
  go test -race -count=1 ./store/
else
  echo "== the store's tests on S3 skipped: versitygw could not be installed (CI=true fails instead)"
fi

if [ -n "$(pg_bin)" ] && { command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; }; then
  echo "== cluster test: scripts/cluster.sh (PostgreSQL, versitygw, two replicas, nginx round-robin)"
  go test -tags cluster -count=1 -timeout 15m ./internal/cluster/
else
  echo "== the cluster test skipped: it needs Debian's postgresql and nginx (CI=true installs them)"
fi

echo "== fuzzing (each target briefly; seeds also ran in go test)"
FUZZTIME="${FUZZTIME:-3}" scripts/fuzz.sh

echo "== SDK conformance (pangea-node-sdk 5.6.0)"
scripts/sdk-test.sh
