#!/usr/bin/env bash
# The one test command: installs what the tests need, then runs the format
# check, vet, staticcheck, the import rule, the size and complexity limits,
# the Go tests with the race
# detector (browser and fault tests included), a short run of every fuzz
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

echo "== fuzzing (each target briefly; seeds also ran in go test)"
FUZZTIME="${FUZZTIME:-3}" scripts/fuzz.sh

echo "== SDK conformance (pangea-node-sdk 5.6.0)"
scripts/sdk-test.sh
