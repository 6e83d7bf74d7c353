#!/usr/bin/env bash
# bench-links.sh: measure share/link/list latency and link creates per second
# on a store with BENCH_LINKS share links (default 1000000), on SQLite and on
# PostgreSQL.
#
# Runs TestLinkListLatency (store/link_bench_test.go) once per database. Each
# run builds its store through the store's API (10,000 files and 1,000
# folders as targets, the links through CreateLinks in calls of 100 from
# several goroutines, which the store's group commit joins into shared
# transactions), times 2,000 single-link creates (store.CreateLinks and
# sesame.LinkService.Create, email_otp, no password hashing), then
# BENCH_QUERIES (default 200) random listings of size 100 for each filter
# shape, with p50/p95/p99/max, CPU time, and a breakdown by statement. SQLite
# adds EXPLAIN QUERY PLAN output and a few measured alternatives; PostgreSQL
# adds EXPLAIN (ANALYZE, BUFFERS) of one query per shape and the server's CPU
# time per call.
#
# PostgreSQL is a throw-away cluster (scripts/lib/services.sh: start_postgres,
# Debian's postgresql package) on 127.0.0.1, stopped and removed at the end,
# also on Ctrl-C. It runs with fsync=off, synchronous_commit=off and
# full_page_writes=off, as for the tests; the report says so.
#
# One section with both databases side by side (a summary of p99 per shape,
# then a table per database) is appended to docs/benchmarks-links.md
# (BENCH_OUT names another file), with the date and the machine.
#
#   BENCH_DB=sqlite|postgres|both   which databases (default both)
#   BENCH_DB_DIR=DIR                keep the SQLite build in DIR and reuse it on
#                                   the next run with the same BENCH_LINKS (the links
#                                   the create runs add are removed at the end);
#                                   remove DIR to build afresh. PostgreSQL is always
#                                   built afresh.
#   BENCH_TIMEOUT=240m              go test's timeout, per database
#
#   scripts/bench-links.sh                      # 1,000,000 links, both databases
#   BENCH_LINKS=100000 scripts/bench-links.sh   # quicker
#   BENCH_DB=sqlite BENCH_DB_DIR=/var/tmp/sesame-links-1m scripts/bench-links.sh   # build once, measure again
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/services.sh
source scripts/lib/services.sh

LINKS=${BENCH_LINKS:-1000000}
QUERIES=${BENCH_QUERIES:-200}
OUT=${BENCH_OUT:-docs/benchmarks-links.md}
TIMEOUT=${BENCH_TIMEOUT:-240m}
DB_DIR=${BENCH_DB_DIR:-}
DBS=${BENCH_DB:-both}

die() { echo "bench-links: $*" >&2; exit 1; }
log() { echo "bench-links: $*" >&2; }

[[ $LINKS =~ ^[1-9][0-9]*$ ]] || die "BENCH_LINKS must be a positive integer, not '$LINKS'"
[[ $QUERIES =~ ^[1-9][0-9]*$ ]] || die "BENCH_QUERIES must be a positive integer, not '$QUERIES'"
case $DBS in
sqlite | postgres | both) ;;
*) die "BENCH_DB must be sqlite, postgres or both, not '$DBS'" ;;
esac
want() { [[ $DBS == both || $DBS == "$1" ]]; }
command -v go >/dev/null || die "go is not on PATH; install the toolchain go.mod asks for"
command -v gcc >/dev/null || die "gcc is missing (CGO_ENABLED=1 for SQLite)"
if want postgres; then
	[[ -n $(pg_bin) ]] || die "PostgreSQL is not installed (Debian: apt-get install postgresql); or run BENCH_DB=sqlite"
fi
if [[ -n $DB_DIR && $DBS == postgres ]]; then
	log "BENCH_DB_DIR keeps SQLite builds only; it is not used with BENCH_DB=postgres"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sesame-bench-links.XXXXXX")
cleanup() {
	stop_postgres
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# need_space DIR KIB_PER_LINK: about that much per link over the tables and
# their indexes, and room for the WAL.
need_space() {
	local need_kib=$((LINKS * $2 + 512 * 1024)) avail_kib
	avail_kib=$(df -Pk "$1" | awk 'NR==2 {print $4}')
	((avail_kib > need_kib)) || die "need about $((need_kib / 1024)) MiB free under $1, have $((avail_kib / 1024)) MiB"
}
DATA_FS_DIR=$WORK
if [[ -n $DB_DIR ]] && want sqlite; then
	mkdir -p "$DB_DIR"
	DATA_FS_DIR=$DB_DIR
	log "SQLite data directory $DB_DIR (kept; reused when it holds a build of $LINKS links)"
fi
want sqlite && need_space "$DATA_FS_DIR" 4
want postgres && need_space /tmp 6 # start_postgres puts its cluster under /tmp

loadavg() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown; }
LOAD_BEFORE=$(loadavg)
if awk -v l="${LOAD_BEFORE%% *}" -v n="$(nproc)" 'BEGIN {exit !(l > n / 2)}' 2>/dev/null; then
	log "warning: load average is $LOAD_BEFORE on $(nproc) CPUs; the numbers will be noisy"
fi

# What is measured is the tree as it is now; note it before the long run.
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git status --porcelain 2>/dev/null || true) ]]; then rev="$rev (with uncommitted changes)"; fi

# run_test NAME [VAR=VALUE...]: runs the benchmark with the settings given,
# writing $WORK/NAME.md (the report) and $WORK/NAME.tsv (p99 per shape).
run_test() {
	local name=$1
	shift
	env CGO_ENABLED=1 SESAME_BENCH_LINKS="$LINKS" SESAME_BENCH_LINKS_QUERIES="$QUERIES" SESAME_BENCH_LINKS_DIR="$WORK" \
		SESAME_BENCH_LINKS_REPORT="$WORK/$name.md" SESAME_BENCH_LINKS_SUMMARY="$WORK/$name.tsv" "$@" \
		go test -count=1 -run '^TestLinkListLatency$' -v -timeout "$TIMEOUT" ./store/ 2>&1 | tee "$WORK/$name.log" >&2 ||
		die "the benchmark on $name failed; see the output above"
	[[ -s $WORK/$name.md && -s $WORK/$name.tsv ]] || die "the benchmark on $name wrote no report"
}

SQLITE_SECS="" PG_SECS="" PG_FS="" LOAD_SQLITE="" LOAD_PG=""
if want sqlite; then
	log "SQLite: building the store with $LINKS links ($(stat -f -c %T "$DATA_FS_DIR")); this takes a while"
	started=$(date +%s)
	run_test sqlite SESAME_BENCH_LINKS_DB="$DB_DIR"
	SQLITE_SECS=$(($(date +%s) - started))
	LOAD_SQLITE=$(loadavg)
fi
if want postgres; then
	log "PostgreSQL: starting a throw-away cluster"
	start_postgres >&2
	"$(pg_bin)/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres sesame_bench
	PG_FS=$(stat -f -c %T "$pg_dir")
	log "PostgreSQL: building the store with $LINKS links ($PG_FS); this takes a while"
	started=$(date +%s)
	run_test postgres SESAME_BENCH_LINKS_PG_URL="$pg_url/sesame_bench?sslmode=disable"
	PG_SECS=$(($(date +%s) - started))
	LOAD_PG=$(loadavg)
	stop_postgres
fi

cpu=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
mem=$(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo 2>/dev/null || true)
sqlite=$(awk '/github.com\/mattn\/go-sqlite3 / {print $2; exit}' go.mod)
pgx=$(awk '/github.com\/jackc\/pgx\/v5 / {print $2; exit}' go.mod)
links_fmt=$(echo "$LINKS" | sed -e ':a' -e 's/\B[0-9]\{3\}\>/,&/' -e 'ta')
case $DBS in
both) dbs_fmt="SQLite and PostgreSQL" ;;
sqlite) dbs_fmt="SQLite" ;;
postgres) dbs_fmt="PostgreSQL" ;;
esac

# p99_of FILE KEY: the p99 (ms) of shape KEY in a summary file, "–" when
# the file is missing or the shape had no queries.
p99_of() {
	local v
	v=$(awk -F'\t' -v k="$2" '$1 == k && $3 > 0 {print $5}' "$1" 2>/dev/null || true)
	echo "${v:-–}"
}

# summary: p99 per shape on each database, and whether every one is within
# the goal.
summary() {
	local first=$WORK/sqlite.tsv key name s p ok v
	[[ -s $first ]] || first=$WORK/postgres.tsv
	echo "| share/link/list, size 100 (FindLinks) | SQLite p99 ms | PostgreSQL p99 ms | ≤ 10 ms? |"
	echo "|---|---:|---:|:-:|"
	while IFS=$'\t' read -r key name _; do
		s=$(p99_of "$WORK/sqlite.tsv" "$key")
		p=$(p99_of "$WORK/postgres.tsv" "$key")
		ok=yes
		for v in "$s" "$p"; do
			[[ $v == – ]] && continue
			if awk -v v="$v" 'BEGIN {exit !(v > 10)}'; then ok="**no**"; fi
		done
		echo "| ($key) $name | $s | $p | $ok |"
	done <"$first"
}

mkdir -p "$(dirname "$OUT")"
if [[ ! -s $OUT ]]; then
	cat >"$OUT" <<'EOF'
# Share-link benchmarks

Produced by `scripts/bench-links.sh` (`BENCH_LINKS=N`, default 1,000,000;
`BENCH_DB=sqlite|postgres|both`, default both); each run appends a section.
The goal (from the issue): share/link/list with size 100 answers within
10 ms at the 99th percentile over 1,000,000 links, on SQLite and on
PostgreSQL.

The benchmark is `TestLinkListLatency` in `store/link_bench_test.go`; it is
skipped unless `SESAME_BENCH_LINKS` is set, and runs on PostgreSQL when
`SESAME_BENCH_LINKS_PG_URL` names a database. What it builds, through the
store's API: 10,000 files (targets of download and editor links) and 1,000
folders (targets of upload links, which take folders only); N links through
`Store.CreateLinks` in calls of 100 from several goroutines (the store's
group commit runs calls that meet in one transaction), link_type uniform
over download/upload/editor, 1–3 distinct random targets, 0–2 tags out of
1,000, one email_otp authenticator, created_at moving forward through the
365 days before 2026-01-01 (the 100 links of a call share one created_at).
The store is then used as the server uses it: on SQLite `Store.Optimize`
(PRAGMA optimize, which serve runs at start and hourly) once after the
build; on PostgreSQL `VACUUM (ANALYZE)` of the tables, which autovacuum does
in a running server.

What it times: creates per second as 2,000 single-link calls of
`Store.CreateLinks` and of `sesame.LinkService.Create` (validation, defaults,
then the store; email_otp needs no hashing); then FindLinks, which is what
share/link/list calls, with size 100 and random parameters: (a) target_id of
a random file; (b) link_type plus a 30-day created_at range; (c) tags
all-of one random tag; (d) no filter, created_at descending; (e) the second
page of (b) through its cursor. (a)–(c) and (e) use the API's default order,
created_at ascending. Each FindLinks runs a count for the total, a page
SELECT of ids, and loadLinks (three lookups by id) for the 100 links.
EOF
fi

{
	echo
	echo "## $links_fmt links, $dbs_fmt, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "- Date: $(date -u)"
	echo "- Commit: $rev"
	echo "- System: $(uname -srm)"
	echo "- CPU: ${cpu:-unknown}; nproc: $(nproc)"
	echo "- Memory: ${mem:-unknown}"
	echo "- Go: $(go version); go-sqlite3 ${sqlite:-unknown}; pgx ${pgx:-unknown}"
	echo "- Load average (1, 5, 15 min) before the run: $LOAD_BEFORE${LOAD_SQLITE:+; after SQLite: $LOAD_SQLITE}${LOAD_PG:+; after PostgreSQL: $LOAD_PG}"
	echo "- Whole run per database (build unless kept, creates, queries, experiments):${SQLITE_SECS:+ SQLite ${SQLITE_SECS}s}${PG_SECS:+ PostgreSQL ${PG_SECS}s}; \`BENCH_LINKS=$LINKS BENCH_QUERIES=$QUERIES BENCH_DB=$DBS\`"
	echo
	summary
	if [[ -s $WORK/sqlite.md ]]; then
		echo
		echo "### SQLite"
		echo
		echo "- Filesystem of the data directory: $(stat -f -c %T "$DATA_FS_DIR")${DB_DIR:+ (kept in BENCH_DB_DIR)}"
		cat "$WORK/sqlite.md"
	fi
	if [[ -s $WORK/postgres.md ]]; then
		echo
		echo "### PostgreSQL"
		echo
		echo "- A throw-away cluster from scripts/lib/services.sh (start_postgres) on 127.0.0.1, its data directory on $PG_FS, on the same $(nproc) CPUs as the benchmark." \
			"It runs with fsync=off, synchronous_commit=off and full_page_writes=off (no durability, as for the tests: this flatters the creates, not the reads) and otherwise PostgreSQL's defaults (listed below)."
		cat "$WORK/postgres.md"
	fi
} >>"$OUT"

log "appended the results to $OUT"
