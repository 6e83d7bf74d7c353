#!/usr/bin/env bash
# The one test command: installs what the tests need, then runs the format
# check, vet, staticcheck, the import rule, the size and complexity limits,
# the Go tests with the race
# detector (browser and fault tests included; the social sign-in one runs
# oidc-provider from scripts/oidc), the store's tests once more
# on a throw-away PostgreSQL and once more with blobs in a throw-away
# versitygw bucket, the cluster test (scripts/cluster.sh: two replicas on
# PostgreSQL and versitygw behind nginx), a short run of every fuzz
# target, and the Node SDK conformance test.
set -euo pipefail
cd "$(dirname "$0")/.."
export CGO_ENABLED=1
# The tests build SQLite's C source three times (plain, -race, and
# instrumented for fuzzing): at -O1 without debug information each build
# takes a third of the time of cgo's default "-O2 -g" (12 s against 36 s
# here), the same code, so that a first run on a new machine stays well
# inside its budget. The server built for use keeps cgo's default.
export CGO_CFLAGS="${CGO_CFLAGS:--O1 -g0}"

# section names a step of the run and how far into it it starts.
section() { echo "== $* (at ${SECONDS}s)"; }

need_apt=()
command -v gcc >/dev/null 2>&1 || need_apt+=(gcc libc6-dev)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium) # the browser tests (gateway/browser_test.go)
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus) # promtool checks the /metrics scrape (gateway/metrics_test.go)
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
# What the first steps need (the C compiler, for cgo) is installed now;
# the rest, and versitygw's build, happen in the background while the
# format check, vet and staticcheck run, and are waited for before the
# tests that use them.
bg_dir=$(mktemp -d /tmp/sesame-test-bg.XXXXXX)
apt_pid="" vgw_pid="" fuzz_pid=""

# stop_servers is the EXIT trap: it stops the background steps and
# whichever throw-away servers run.
stop_servers() {
  for p in $apt_pid $vgw_pid $fuzz_pid; do kill "$p" 2>/dev/null || true; done
  stop_postgres
  stop_versitygw
  rm -rf "$bg_dir"
}
trap stop_servers EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
if [ ${#need_apt[@]} -gt 0 ]; then
  if ! command -v gcc >/dev/null 2>&1; then
    section "installing ${need_apt[*]}"
    apt_install "${need_apt[@]}"
  else
    section "installing ${need_apt[*]} (in the background)"
    apt_install "${need_apt[@]}" >"$bg_dir/apt.log" 2>&1 &
    apt_pid=$!
  fi
fi

# wait_for NAME PID LOG waits for a background step, and stops the run
# when it failed.
wait_for() {
  [ -n "$2" ] || return 0
  if ! wait "$2"; then
    echo "$1 failed:"; tail -40 "$3"; exit 1
  fi
}

section "go modules"
go mod download
if [ ! -x "$(gobin)/versitygw" ]; then
  section "building versitygw $VERSITYGW_VERSION (in the background, once; it takes a few minutes)"
  install_versitygw >"$bg_dir/versitygw.log" 2>&1 &
  vgw_pid=$!
fi

section "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './scripts/sdk/node_modules/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

section "go vet"
go vet ./...
go vet -tags cluster ./internal/cluster/

section "staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 -tags cluster ./internal/cluster/

section "import rule"
scripts/check-imports.sh

section "size and complexity (product files ≤ 600 lines, functions ≤ 80 lines, cyclomatic complexity < 25)"
go run ./scripts/checksize
product=$(git ls-files '*.go' | grep -v '_test\.go$' | grep -v -e '^scripts/' -e '^internal/testrig/' -e '/testdata/')
go run github.com/fzipp/gocyclo/cmd/gocyclo@v0.6.0 -over 24 $product

# The move into PostgreSQL + S3 (TestExportImport_IntoPostgresS3) needs both
# throw-away servers: it runs with the store's S3 run below.
wait_for "installing ${need_apt[*]:-}" "$apt_pid" "$bg_dir/apt.log"
apt_pid=""
# The OpenID Connect provider that the social sign-in browser test starts
# (gateway/browser_oidc_test.go), pinned by its lockfile.
if [ ! -d scripts/oidc/node_modules ] || [ scripts/oidc/package-lock.json -nt scripts/oidc/node_modules ]; then
  section "npm ci in scripts/oidc (oidc-provider, for the social sign-in browser test)"
  (cd scripts/oidc && npm ci --no-audit --no-fund)
  touch scripts/oidc/node_modules
fi
section "go test -race"
go test -race -vet=off -count=1 -skip '^TestExportImport_IntoPostgresS3$' ./...
# The fuzz targets' instrumented build (all of it new on a first run) goes
# on in the background while the store and cluster tests below mostly wait
# on their servers; the fuzzing step waits for it.
(go test -vet=off -c -fuzz=. -o /dev/null . && go test -vet=off -c -fuzz=. -o /dev/null ./gateway) >"$bg_dir/fuzz-build.log" 2>&1 &
fuzz_pid=$!

if [ -z "${SESAME_TEST_POSTGRES_DSN:-}" ] && [ -n "$(pg_bin)" ]; then
  start_postgres
  export SESAME_TEST_POSTGRES_DSN="$pg_dsn"
fi
if [ -n "${SESAME_TEST_POSTGRES_DSN:-}" ]; then
  section "go test -race ./store/ on PostgreSQL"
  go test -race -vet=off -count=1 -skip '^TestExportImport_IntoPostgresS3$' ./store/
else
  section "the store's tests on PostgreSQL skipped: no PostgreSQL server installed (CI=true installs one)"
fi

if [ -n "$vgw_pid" ] && ! wait "$vgw_pid"; then
  section "building versitygw failed:"; tail -20 "$bg_dir/versitygw.log"
fi
vgw_pid=""
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
  section "go test -race ./store/ with blobs in an S3 bucket (versitygw), and the move of an instance into PostgreSQL + S3"
  go test -race -vet=off -count=1 ./store/
else
  section "the store's tests on S3 skipped: versitygw could not be installed (CI=true fails instead)"
fi

if [ -n "$(pg_bin)" ] && { command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; }; then
  section "cluster test: scripts/cluster.sh (PostgreSQL, versitygw, two replicas, nginx round-robin)"
  go test -tags cluster -vet=off -count=1 -timeout 15m ./internal/cluster/
else
  section "the cluster test skipped: it needs Debian's postgresql and nginx (CI=true installs them)"
fi

wait_for "building the fuzz targets" "$fuzz_pid" "$bg_dir/fuzz-build.log"
fuzz_pid=""
section "fuzzing (each target briefly; seeds also ran in go test)"
FUZZTIME="${FUZZTIME:-3}" scripts/fuzz.sh

section "vendored browser code matches its pinned npm packages"
scripts/vendor.sh --check

section "SDK conformance (pangea-node-sdk 5.6.0)"
scripts/sdk-test.sh
section "done"
