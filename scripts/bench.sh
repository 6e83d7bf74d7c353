#!/usr/bin/env bash
# bench.sh: measure sesame's large-file throughput and memory use.
#
# Builds the server, starts it on a throw-away data directory and times, each
# BENCH_RUNS times (default 3), with the median reported:
#   - PUT   a BENCH_SIZE_MIB file (default 1024) as a multipart /v1/put
#   - GET   it through a dest-url (curl to /dev/null)
#   - GET   it as a multipart /v1/get reply (curl to /dev/null)
# Every PUT's sha256 is checked against the local file's; each GET method's
# bytes are checked by sha256 once, outside the timed runs. The server's
# baseline and peak RSS (VmHWM, read from /proc/PID/status) are reported too.
#
# The table is printed and written, with a description of the machine, to
# docs/benchmarks.md (overwritten; BENCH_OUT names another file).
#
#   scripts/bench.sh                      # 1 GiB, 3 runs
#   BENCH_SIZE_MIB=64 BENCH_RUNS=1 scripts/bench.sh   # quick check
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)

RUNS=${BENCH_RUNS:-3}
SIZE_MIB=${BENCH_SIZE_MIB:-1024}
OUT=${BENCH_OUT:-docs/benchmarks.md}

die() { echo "bench: $*" >&2; exit 1; }
log() { echo "bench: $*" >&2; }

[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer, not '$RUNS'"
[[ $SIZE_MIB =~ ^[1-9][0-9]*$ ]] || die "BENCH_SIZE_MIB must be a positive integer, not '$SIZE_MIB'"
SIZE_BYTES=$((SIZE_MIB * 1024 * 1024))

# ---------------------------------------------------------------- tools

install_pkgs() {
	local sudo=""
	if [[ $(id -u) -ne 0 ]]; then
		command -v sudo >/dev/null || die "missing $*; install it (no root, no sudo)"
		sudo="sudo"
	fi
	if command -v apt-get >/dev/null; then
		$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
	elif command -v dnf >/dev/null; then
		$sudo dnf install -y -q "$@"
	elif command -v apk >/dev/null; then
		$sudo apk add -q "$@"
	else
		die "missing $*; no known package manager to install it with"
	fi
}

need() { # need COMMAND PACKAGE
	command -v "$1" >/dev/null && return
	log "installing $2 (for $1)"
	install_pkgs "$2"
	command -v "$1" >/dev/null || die "$1 is still missing after installing $2"
}

need curl curl
need python3 python3
need sha256sum coreutils
need gcc gcc # CGO_ENABLED=1 (SQLite)
command -v go >/dev/null || die "go is not on PATH; install the toolchain go.mod asks for"

# Peak RSS: /proc/PID/status VmHWM of the server itself where there is a
# /proc; otherwise GNU /usr/bin/time's maximum resident set size.
RSS_MODE=none
if grep -q '^VmHWM:' /proc/self/status 2>/dev/null; then
	RSS_MODE=proc
elif [[ -x /usr/bin/time ]] && /usr/bin/time -f %M -o /dev/null true 2>/dev/null; then
	RSS_MODE=time
else
	log "warning: neither /proc/PID/status nor GNU /usr/bin/time; RSS is not measured"
fi

# ---------------------------------------------------------------- workspace

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sesame-bench.XXXXXX")
DATA=$WORK/data
BIN=$WORK/sesame
FILE=$WORK/big.bin
SERVER_PID=""
WRAP_PID=""

cleanup() {
	local rc=$?
	if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
		kill -TERM "$SERVER_PID" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$SERVER_PID" 2>/dev/null || true
	fi
	if [[ -n $WRAP_PID ]]; then wait "$WRAP_PID" 2>/dev/null || true; fi
	if [[ $rc -ne 0 && -s $WORK/server.log ]]; then
		echo "bench: last server log lines:" >&2
		tail -n 20 "$WORK/server.log" >&2 || true
	fi
	rm -rf "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The file, its committed blob, the staging copy during a PUT and slack.
need_kib=$(((SIZE_BYTES * 3) / 1024 + 256 * 1024))
avail_kib=$(df -Pk "$WORK" | awk 'NR==2 {print $4}')
((avail_kib > need_kib)) || die "need $((need_kib / 1024)) MiB free under $WORK, have $((avail_kib / 1024)) MiB"

log "work dir $WORK ($(stat -f -c %T "$WORK"))"
log "building"
CGO_ENABLED=1 go build -o "$BIN" ./cmd/sesame

log "making a ${SIZE_MIB} MiB random file"
head -c "$SIZE_BYTES" /dev/urandom >"$FILE"
LOCAL_SHA=$(sha256sum "$FILE" | awk '{print $1}')

mkdir -p "$DATA"
TOKEN=$("$BIN" token create --data "$DATA" --name bench --scopes admin 2>"$WORK/token.err") ||
	die "token create failed: $(cat "$WORK/token.err")"
[[ -n $TOKEN ]] || die "token create printed nothing"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE=http://127.0.0.1:$PORT

# ---------------------------------------------------------------- server

log "starting the server on $BASE"
if [[ $RSS_MODE == time ]]; then
	/usr/bin/time -f %M -o "$WORK/maxrss" "$BIN" serve --data "$DATA" --listen "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
	WRAP_PID=$!
	for _ in $(seq 50); do
		SERVER_PID=$(pgrep -P "$WRAP_PID" | head -n 1 || true)
		[[ -n $SERVER_PID ]] && break
		sleep 0.1
	done
	[[ -n $SERVER_PID ]] || die "the server did not start"
else
	"$BIN" serve --data "$DATA" --listen "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
	SERVER_PID=$!
fi

ready=0
for _ in $(seq 300); do
	kill -0 "$SERVER_PID" 2>/dev/null || die "the server exited during start-up"
	if curl -fsS -o /dev/null "$BASE/readyz" 2>/dev/null; then ready=1; break; fi
	sleep 0.1
done
((ready)) || die "the server was not ready after 30 s"

status_kib() { # status_kib FIELD: a /proc/PID/status field of the server, in KiB
	[[ $RSS_MODE == proc ]] || { echo ""; return; }
	awk -v f="$1:" '$1 == f {print $2}' "/proc/$SERVER_PID/status"
}
mib() { # mib KIB
	[[ -n $1 ]] || { echo "n/a"; return; }
	awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'
}
# Per-operation peaks: writing 5 to clear_refs resets VmHWM to the current
# RSS (Linux >= 4.0). The overall peak is the largest of those peaks.
PEAK_KIB=0
CAN_RESET=0
if [[ $RSS_MODE == proc ]] && echo 5 >"/proc/$SERVER_PID/clear_refs" 2>/dev/null; then CAN_RESET=1; fi
phase_start() {
	if ((CAN_RESET)); then
		local h; h=$(status_kib VmHWM)
		if ((h > PEAK_KIB)); then PEAK_KIB=$h; fi
		echo 5 >"/proc/$SERVER_PID/clear_refs"
	fi
}
phase_peak() { # prints this phase's peak RSS in MiB ("-" when it cannot be told apart)
	if ((CAN_RESET)); then
		local h; h=$(status_kib VmHWM)
		if ((h > PEAK_KIB)); then PEAK_KIB=$h; fi
		mib "$h"
	else
		echo "-"
	fi
}

BASE_RSS_KIB=$(status_kib VmRSS)
log "baseline RSS $(mib "$BASE_RSS_KIB") MiB"

# Other work on the machine skews every number: note the load around the runs.
loadavg() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown; }
LOAD_BEFORE=$(loadavg)
if awk -v l="${LOAD_BEFORE%% *}" -v n="$(nproc)" 'BEGIN {exit !(l > n / 2)}' 2>/dev/null; then
	log "warning: load average is $LOAD_BEFORE on $(nproc) CPUs; the numbers will be noisy"
fi

api() { # api PATH JSON: POST a JSON request, print the reply body
	curl -fsS -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' --data "$2" "$BASE$1"
}
jget() { # jget EXPR < json: a field of a JSON reply, e.g. jget '["result"]["dest_url"]'
	python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval("d" + sys.argv[1]))' "$1"
}
mbps() { awk -v s="$1" -v m="$SIZE_MIB" 'BEGIN {printf "%.1f", m / s}'; }
stats() { # stats VALUE...: median min max
	python3 -c 'import statistics, sys; v = [float(x) for x in sys.argv[1:]]; print("%.1f %.1f %.1f" % (statistics.median(v), min(v), max(v)))' "$@"
}

# ---------------------------------------------------------------- PUT

log "PUT x$RUNS"
phase_start
PUT_MBPS=()
OBJ_ID=""
for i in $(seq "$RUNS"); do
	if [[ -n $OBJ_ID ]]; then
		api /v1/delete "{\"id\":\"$OBJ_ID\"}" >/dev/null
	fi
	read -r t code < <(curl -sS -o "$WORK/put.json" -w '%{time_total} %{http_code}\n' \
		-H "Authorization: Bearer $TOKEN" \
		-F "request={\"folder\":\"/bench\",\"name\":\"big-$i.bin\"};type=application/json" \
		-F "file=@$FILE;type=application/octet-stream" "$BASE/v1/put")
	[[ $code == 200 ]] || die "PUT $i: HTTP $code: $(head -c 500 "$WORK/put.json")"
	OBJ_ID=$(jget '["result"]["object"]["id"]' <"$WORK/put.json")
	sha=$(jget '["result"]["object"]["sha256"]' <"$WORK/put.json")
	size=$(jget '["result"]["object"]["size"]' <"$WORK/put.json")
	[[ $sha == "$LOCAL_SHA" ]] || die "PUT $i: server sha256 $sha, local $LOCAL_SHA"
	[[ $size == "$SIZE_BYTES" ]] || die "PUT $i: server size $size, local $SIZE_BYTES"
	PUT_MBPS+=("$(mbps "$t")")
	log "  PUT $i: ${t}s, ${PUT_MBPS[-1]} MiB/s (sha256 ok)"
done
PUT_PEAK=$(phase_peak)

# ---------------------------------------------------------------- GET dest-url

dest_url() { api /v1/get "{\"id\":\"$OBJ_ID\",\"transfer_method\":\"dest-url\"}" | jget '["result"]["dest_url"]'; }

log "GET dest-url: checking bytes"
url=$(dest_url)
got=$(curl -fsS "$url" | sha256sum | awk '{print $1}')
[[ $got == "$LOCAL_SHA" ]] || die "dest-url download sha256 $got, want $LOCAL_SHA"
# A Range request returns exactly those bytes.
off=$((SIZE_BYTES / 2 + 12345))
want=$(dd if="$FILE" iflag=skip_bytes,count_bytes skip="$off" count=4096 status=none | sha256sum | awk '{print $1}')
got=$(curl -fsS -r "$off-$((off + 4095))" "$url" | sha256sum | awk '{print $1}')
[[ $got == "$want" ]] || die "dest-url Range request returned the wrong bytes"

log "GET dest-url x$RUNS"
phase_start
DEST_MBPS=()
for i in $(seq "$RUNS"); do
	url=$(dest_url)
	read -r t n code < <(curl -sS -o /dev/null -w '%{time_total} %{size_download} %{http_code}\n' "$url")
	[[ $code == 200 && $n == "$SIZE_BYTES" ]] || die "dest-url GET $i: HTTP $code, $n bytes"
	DEST_MBPS+=("$(mbps "$t")")
	log "  GET dest-url $i: ${t}s, ${DEST_MBPS[-1]} MiB/s"
done
DEST_PEAK=$(phase_peak)

# ---------------------------------------------------------------- GET multipart

GET_BODY="{\"id\":\"$OBJ_ID\",\"transfer_method\":\"multipart\"}"
# multipart_sha < BODY: the sha256 and size of the reply's second part. A
# multipart body opens with its delimiter, "--BOUNDARY\r\n".
read -r -d '' MULTIPART_SHA_PY <<-'PY' || true
	import hashlib, sys
	src = sys.stdin.buffer
	first = src.readline(200)
	if not first.startswith(b"--") or not first.endswith(b"\r\n"):
	    sys.exit("the reply does not start with a multipart delimiter")
	mark = first[:-2]
	delim = b"\r\n" + mark
	buf = first
	# Skip the first part (the JSON envelope) and the second part's header.
	while True:
	    j1 = buf.find(mark)
	    j2 = buf.find(mark, j1 + 1) if j1 >= 0 else -1
	    k = buf.find(b"\r\n\r\n", j2) if j2 >= 0 else -1
	    if k >= 0:
	        buf = buf[k + 4:]
	        break
	    c = src.read(1 << 20)
	    if not c:
	        sys.exit("the reply ended before its second part")
	    buf += c
	# Hash up to the next delimiter, holding back a tail that could be its start.
	h, n = hashlib.sha256(), 0
	while True:
	    k = buf.find(delim)
	    if k >= 0:
	        h.update(buf[:k])
	        n += k
	        break
	    cut = len(buf) - (len(delim) - 1)
	    if cut > 0:
	        h.update(buf[:cut])
	        n += cut
	        buf = buf[cut:]
	    c = src.read(1 << 20)
	    if not c:
	        sys.exit("the reply has no closing boundary")
	    buf += c
	print(h.hexdigest(), n)
	PY
multipart_sha() { python3 -c "$MULTIPART_SHA_PY"; }

log "GET multipart: checking bytes"
read -r got n < <(curl -fsS -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
	--data "$GET_BODY" "$BASE/v1/get" | multipart_sha)
[[ $got == "$LOCAL_SHA" && $n == "$SIZE_BYTES" ]] || die "multipart download: sha256 $got ($n bytes), want $LOCAL_SHA ($SIZE_BYTES bytes)"

log "GET multipart x$RUNS"
phase_start
MP_MBPS=()
for i in $(seq "$RUNS"); do
	read -r t n code < <(curl -sS -o /dev/null -w '%{time_total} %{size_download} %{http_code}\n' \
		-H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' --data "$GET_BODY" "$BASE/v1/get")
	[[ $code == 200 ]] && ((n > SIZE_BYTES)) || die "multipart GET $i: HTTP $code, $n bytes"
	MP_MBPS+=("$(mbps "$t")")
	log "  GET multipart $i: ${t}s, ${MP_MBPS[-1]} MiB/s"
done
MP_PEAK=$(phase_peak)

LOAD_AFTER=$(loadavg)

# ---------------------------------------------------------------- peak RSS

if [[ $RSS_MODE == proc ]]; then
	h=$(status_kib VmHWM)
	if ((h > PEAK_KIB)); then PEAK_KIB=$h; fi
	PEAK=$(mib "$PEAK_KIB")
	FINAL_RSS=$(mib "$(status_kib VmRSS)")
	RSS_SRC="VmHWM in /proc/$SERVER_PID/status of the server process"
elif [[ $RSS_MODE == time ]]; then
	kill -TERM "$SERVER_PID"
	wait "$WRAP_PID" 2>/dev/null || true
	WRAP_PID=""
	PEAK=$(mib "$(tail -n 1 "$WORK/maxrss")")
	FINAL_RSS="n/a"
	RSS_SRC="maximum resident set size from /usr/bin/time"
else
	PEAK="n/a"
	FINAL_RSS="n/a"
	RSS_SRC="not measured"
fi
BASE_RSS=$(mib "$BASE_RSS_KIB")

# ---------------------------------------------------------------- references

# What the machine does without the server: the same file read from the page
# cache, and written to this filesystem with an fsync at the end (PUT fsyncs).
log "reference: local read and write"
REF_READ=()
REF_WRITE=()
for i in $(seq "$RUNS"); do
	s=$(date +%s.%N); cat "$FILE" >/dev/null; e=$(date +%s.%N)
	REF_READ+=("$(mbps "$(awk -v s="$s" -v e="$e" 'BEGIN {print e - s}')")")
	s=$(date +%s.%N); dd if="$FILE" of="$WORK/copy.bin" bs=1M conv=fsync status=none; e=$(date +%s.%N)
	REF_WRITE+=("$(mbps "$(awk -v s="$s" -v e="$e" 'BEGIN {print e - s}')")")
	rm -f "$WORK/copy.bin"
done

# ---------------------------------------------------------------- report

row() { # row NAME PEAK VALUE...
	local name=$1 peak=$2; shift 2
	read -r med lo hi < <(stats "$@")
	printf '| %s | %d | %s | %s | %s | %s |\n' "$name" "$#" "$med" "$lo" "$hi" "$peak"
}

TABLE=$(
	echo "| operation | runs | median MB/s | min MB/s | max MB/s | server peak RSS during op (MiB) |"
	echo "|---|---:|---:|---:|---:|---:|"
	row "PUT /v1/put, multipart upload (curl -F)" "$PUT_PEAK" "${PUT_MBPS[@]}"
	row "GET dest-url (/dl/…) to /dev/null" "$DEST_PEAK" "${DEST_MBPS[@]}"
	row "GET /v1/get multipart reply to /dev/null" "$MP_PEAK" "${MP_MBPS[@]}"
)
REF_TABLE=$(
	echo "| reference (no server) | runs | median MB/s | min MB/s | max MB/s |"
	echo "|---|---:|---:|---:|---:|"
	read -r med lo hi < <(stats "${REF_READ[@]}")
	echo "| cat file > /dev/null (page cache) | $RUNS | $med | $lo | $hi |"
	read -r med lo hi < <(stats "${REF_WRITE[@]}")
	echo "| dd file to same filesystem, conv=fsync | $RUNS | $med | $lo | $hi |"
)
RSS_LINES="- Server peak RSS (VmHWM, whole run): **$PEAK MiB**
- Server baseline RSS (VmRSS once ready, before any transfer): $BASE_RSS MiB
- Server RSS after all runs: $FINAL_RSS MiB"

cpu=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
mem=$(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo 2>/dev/null || true)
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git status --porcelain 2>/dev/null || true) ]]; then rev="$rev (with uncommitted changes)"; fi

mkdir -p "$(dirname "$OUT")"
cat >"$OUT" <<EOF
# Benchmarks

Produced by \`scripts/bench.sh\` (\`BENCH_SIZE_MIB=$SIZE_MIB BENCH_RUNS=$RUNS\`); rerun it to refresh this file.

- Date: $(date -u)
- Commit: $rev
- System: $(uname -srm)
- CPU: ${cpu:-unknown}, $(nproc) CPUs
- Memory: ${mem:-unknown}
- Go: $(go version)
- Filesystem of the data directory: $(stat -f -c %T "$WORK")
- Load average (1, 5, 15 min) before the timed runs: $LOAD_BEFORE; after them: $LOAD_AFTER

One ${SIZE_MIB} MiB file of random bytes, sent to and fetched from a server on
127.0.0.1 with curl. MB/s is MiB per second: ${SIZE_MIB} divided by curl's
\`time_total\` for the request. Every PUT's sha256, as the server reports it,
equals the local file's; each download method's bytes were checked by sha256
once, outside the timed runs (and one dest-url Range request).

$TABLE

$RSS_LINES

RSS is $RSS_SRC. The per-operation peak comes from resetting VmHWM
(\`echo 5 > /proc/PID/clear_refs\`) before each operation's runs.

$REF_TABLE

Notes:

- The machine has enough memory that the uploaded blob is still in the page
  cache when it is downloaded, so the GET rows measure the server's copying,
  not the disk; compare them with the page-cache read above.
- A PUT streams the file to a staging file, hashing every byte on the way
  (md5, sha1, sha256, sha512 and crc32c), fsyncs it and renames it into
  place; compare it with the dd row. With few CPUs it is bound by CPU
  (the hashes, and the kernel's copy into the page cache), not by the disk.
- Numbers from a machine shared with other work are noisy: see the load
  average above.
EOF

echo
echo "$TABLE"
echo
echo "$RSS_LINES"
echo
echo "$REF_TABLE"
echo
log "wrote $OUT"
