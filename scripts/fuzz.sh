#!/usr/bin/env bash
# Runs every Go fuzz target for FUZZTIME seconds each (default 5), one after
# the other, and exits non-zero if any of them fails. A failing input is
# written to <package>/testdata/fuzz/<FuzzName>/ by go test; commit it with
# the fix so that plain `go test ./...` keeps checking it.
#
#   scripts/fuzz.sh                  # 5 s per target
#   FUZZTIME=60 scripts/fuzz.sh      # 60 s per target
#   scripts/fuzz.sh FuzzSanitizeName # only the named targets
#
# FUZZMINTIME (default 1s) caps the time go test spends minimizing each new
# input; its default of 60s would eat whole runs of the slow HTTP targets,
# whose every execution starts a server.
set -uo pipefail
cd "$(dirname "$0")/.."
export CGO_ENABLED=1 # the HTTP targets run the real SQLite store

FUZZTIME="${FUZZTIME:-5}"
FUZZMINTIME="${FUZZMINTIME:-1s}"

# package target, one per line.
TARGETS="
. FuzzCheckName
. FuzzSplitPath
. FuzzNormalizePhone
. FuzzValidEmail
. FuzzSanitizeName
./gateway FuzzDecodeJSON
./gateway FuzzParseFilter
./gateway FuzzDecodeCursor
./gateway FuzzCursorRoundTrip
./gateway FuzzHTTPPut
./gateway FuzzHTTPJSON
"

# Every fuzz target in the tree must be listed above.
listed=$(awk 'NF == 2 {print $2}' <<<"$TARGETS" | sort)
found=$(grep -rhoE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\(' . | sed 's/^func //; s/($//' | sort -u)
missing=$(comm -13 <(echo "$listed") <(echo "$found"))
if [ -n "$missing" ]; then
  echo "fuzz targets not listed in scripts/fuzz.sh: $missing" >&2
  exit 2
fi

# fuzz_one runs one target. Go 1.26's fuzzing coordinator can fail a run
# with a bare "context deadline exceeded" as -fuzztime ends, having found
# nothing (go.dev/issue/75804, fixed in Go 1.27). Such a run, which wrote
# no failing input, is run once more; a second failure of any kind fails.
fuzz_one() {
  local pkg=$1 name=$2 out corpus="$1/testdata/fuzz/$2" before after
  before=$(ls "$corpus" 2>/dev/null | sort)
  out=$(go test -vet=off -run '^$' -fuzz "^${name}\$" -fuzztime "${FUZZTIME}s" -fuzzminimizetime "$FUZZMINTIME" "$pkg" 2>&1)
  local rc=$?
  echo "$out"
  [ $rc -eq 0 ] && return 0
  after=$(ls "$corpus" 2>/dev/null | sort)
  if [ "$before" = "$after" ] && grep -qx '    context deadline exceeded' <<<"$out" && ! grep -q 'Failing input written' <<<"$out"; then
    echo "== $name: the fuzzing coordinator's deadline race (go.dev/issue/75804), no failing input: once more"
    go test -vet=off -run '^$' -fuzz "^${name}\$" -fuzztime "${FUZZTIME}s" -fuzzminimizetime "$FUZZMINTIME" "$pkg"
    return
  fi
  return $rc
}

failed=()
ran=0
while read -r pkg name; do
  [ -n "$name" ] || continue
  if [ $# -gt 0 ]; then
    wanted=false
    for a in "$@"; do [ "$a" = "$name" ] && wanted=true; done
    $wanted || continue
  fi
  ran=$((ran + 1))
  echo "== $name ($pkg, ${FUZZTIME}s)"
  if ! fuzz_one "$pkg" "$name"; then
    failed+=("$name")
  fi
done <<<"$TARGETS"

if [ "$ran" -eq 0 ]; then
  echo "no fuzz target matches: $*" >&2
  exit 2
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "all $ran fuzz targets passed"
