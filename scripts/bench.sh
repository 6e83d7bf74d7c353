#!/usr/bin/env bash
# bench.sh: measure sesame's large-file throughput and memory use, and how it
# compares with nginx; small-file downloads, link creates and lists, and
# sign-ins per second. The results go to docs/benchmarks.md.
#
# This script installs nginx and wrk when they are missing (apt-get), builds
# the server and the benchmark's programs, and runs the benchmark itself,
# scripts/bench/load (`load bench`), which describes every measurement and
# every BENCH_* setting in its doc comments (main.go, config.go).
#
#   scripts/bench.sh                 # 1 GiB, 3 runs, everything (a few minutes)
#   BENCH_QUICK=1 scripts/bench.sh   # a short check; the report goes to $TMPDIR
#   BENCH_SKIP=zip,signin scripts/bench.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
STARTED=$(date +%s)

die() { echo "bench: $*" >&2; exit 1; }
skip() { local s=${BENCH_SKIP:-}; [[ ",${s// /,}," == *",$1,"* ]]; } # skip SECTION: is it left out?

# Debian's nginx package starts a system nginx (on port 80) when installed,
# unless a policy-rc.d forbids starting services: provide one for the
# install if the machine has none, and remove only that one.
apt_install() { # apt_install PACKAGE
	local sudo="" made=0 rc=0
	if [[ $(id -u) -ne 0 ]]; then
		command -v sudo >/dev/null || die "missing $1; install it (no root, no sudo)"
		sudo="sudo"
	fi
	command -v apt-get >/dev/null || die "missing $1; install it (this script knows only apt-get)"
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\n# written by sesame scripts/bench.sh for one apt-get install\nexit 101\n' |
			$sudo tee /usr/sbin/policy-rc.d >/dev/null && $sudo chmod 755 /usr/sbin/policy-rc.d && made=1
	fi
	$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$1" >/dev/null || rc=$?
	if ((made)); then $sudo rm -f /usr/sbin/policy-rc.d; fi
	return "$rc"
}

need() { # need COMMAND: install the package of that name when missing
	command -v "$1" >/dev/null && return
	echo "bench: installing $1" >&2
	apt_install "$1" || die "installing $1 failed"
	command -v "$1" >/dev/null || die "$1 is still missing after installing it"
}

if ! skip nginx || ! skip small; then need nginx; fi
if ! skip small; then need wrk; fi
command -v go >/dev/null || die "go is not on PATH; install the toolchain go.mod asks for"
command -v gcc >/dev/null || die "gcc is missing (CGO_ENABLED=1 for SQLite)"

BIN=$(mktemp -d "${TMPDIR:-/tmp}/sesame-bench-bin.XXXXXX")
trap 'rm -rf "$BIN"' EXIT
echo "bench: building" >&2
CGO_ENABLED=1 go build -o "$BIN/sesame" ./cmd/sesame
CGO_ENABLED=0 go build -o "$BIN/servefile" ./scripts/bench/servefile
CGO_ENABLED=0 go build -o "$BIN/load" ./scripts/bench/load

"$BIN/load" bench -sesame "$BIN/sesame" -servefile "$BIN/servefile" -since "$STARTED"
