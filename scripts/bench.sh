#!/usr/bin/env bash
# bench.sh: measure sesame on SQLite + disk and on PostgreSQL + S3, side by
# side with nginx in the same run: large-file throughput and memory use,
# small-file downloads, link creates and lists, ZIPs and sign-ins. The
# results go to docs/benchmarks.md, with a summary of the figures that
# have targets at the top.
#
# This script installs nginx, wrk and PostgreSQL when they are missing
# (apt-get) and builds versitygw once into the Go bin directory (a few
# minutes the first time), builds the server and the benchmark's programs,
# starts a throw-away PostgreSQL and versitygw for the PostgreSQL + S3
# server (scripts/lib/services.sh; stopped and removed on exit), and runs
# the benchmark itself, scripts/bench/load (`load bench`), which describes
# every measurement and every BENCH_* setting in its doc comments (main.go,
# config.go).
#
#   scripts/bench.sh                 # 1 GiB, 3 runs, everything, both servers (several minutes)
#   BENCH_QUICK=1 scripts/bench.sh   # a short check; the report goes to $TMPDIR
#   BENCH_SKIP=zip,signin scripts/bench.sh
#   BENCH_SKIP=backends scripts/bench.sh   # SQLite + disk only, no PostgreSQL or S3
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
STARTED=$(date +%s)
# start_postgres, start_versitygw and friends (its apt_install is replaced
# by this script's own below).
# shellcheck source=scripts/lib/services.sh
. scripts/lib/services.sh

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
if ! skip backends; then
	if [[ -z $(pg_bin) ]]; then
		echo "bench: installing postgresql" >&2
		apt_install postgresql || die "installing postgresql failed"
		[[ -n $(pg_bin) ]] || die "no /usr/lib/postgresql/*/bin after installing postgresql"
	fi
	install_versitygw >&2 || die "building versitygw failed"
fi

BIN=$(mktemp -d "${TMPDIR:-/tmp}/sesame-bench-bin.XXXXXX")
cleanup() {
	stop_versitygw >/dev/null 2>&1 || true
	stop_postgres
	rm -rf "$BIN"
}
trap cleanup EXIT
echo "bench: building" >&2
CGO_ENABLED=1 go build -o "$BIN/sesame" ./cmd/sesame
CGO_ENABLED=0 go build -o "$BIN/servefile" ./scripts/bench/servefile
CGO_ENABLED=0 go build -o "$BIN/load" ./scripts/bench/load

# The PostgreSQL (one database for the second server) and S3 server, on
# free loopback ports; their process ids let the benchmark count their CPU
# time. The S3 keys go through the environment, not the command line.
backends=()
if ! skip backends; then
	echo "bench: starting PostgreSQL and versitygw" >&2
	start_postgres || die "PostgreSQL did not start"
	"$(pg_bin)/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres sesame_bench
	start_versitygw || die "versitygw did not start"
	export LOAD_S3_ACCESS_KEY="$s3_access_key" LOAD_S3_SECRET_KEY="$s3_secret_key"
	backends=(
		-pg-url "postgres://postgres@127.0.0.1:$pg_port/sesame_bench?sslmode=disable" # the password: PGPASSWORD
		-pg-pid "$(head -n 1 "$pg_dir/data/postmaster.pid")"
		-pg-version "$("$(pg_bin)/postgres" --version)"
		-s3-endpoint "$s3_endpoint" -s3-pid "$s3_pid" -s3-version "versitygw $VERSITYGW_VERSION"
	)
fi

"$BIN/load" bench -sesame "$BIN/sesame" -servefile "$BIN/servefile" -since "$STARTED" "${backends[@]}"
