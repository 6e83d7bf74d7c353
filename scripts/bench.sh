#!/usr/bin/env bash
# bench.sh: measure sesame's large-file throughput and memory use.
#
# Builds the server, starts it on a throw-away data directory and times, each
# BENCH_RUNS times (default 3), with the median reported:
#   - PUT   a BENCH_SIZE_MIB file (default 1024) as a multipart /v1/put
#   - GET   it through a dest-url (curl to /dev/null)
#   - GET   it as a multipart /v1/get reply (curl to /dev/null)
#   - GET   it through the recipient portal, /s/{token}/f/{id}, after signing
#           in with curl (password link, csrf, cookie jar), interleaved with
#           the same blob served by http.ServeFile (scripts/bench/servefile),
#           the reference; their ratio is reported
#   - GET   /s/{token}/zip of a folder of BENCH_ZIP_FILES files (default
#           1000) that together make BENCH_SIZE_MIB (uploaded 2 at a time)
# Every PUT's sha256 is checked against the local file's; each GET method's
# bytes are checked by sha256 once, outside the timed runs (the ZIP by
# reading it back with python3 zipfile: entry count, CRCs, contents). The
# server's baseline and peak RSS (VmHWM, read from /proc/PID/status, reset per
# operation) and the load average during the run are reported too.
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
ZIP_FILES=${BENCH_ZIP_FILES:-1000}
OUT=${BENCH_OUT:-docs/benchmarks.md}

die() { echo "bench: $*" >&2; exit 1; }
log() { echo "bench: [${SECONDS}s] $*" >&2; }

[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer, not '$RUNS'"
[[ $SIZE_MIB =~ ^[1-9][0-9]*$ ]] || die "BENCH_SIZE_MIB must be a positive integer, not '$SIZE_MIB'"
[[ $ZIP_FILES =~ ^[1-9][0-9]*$ ]] && ((ZIP_FILES <= 9999)) || die "BENCH_ZIP_FILES must be an integer from 1 to 9999, not '$ZIP_FILES'"
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
SF_PID=""
LOAD_PID=""

cleanup() {
	local rc=$?
	if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
		kill -TERM "$SERVER_PID" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$SERVER_PID" 2>/dev/null || true
	fi
	if [[ -n $WRAP_PID ]]; then wait "$WRAP_PID" 2>/dev/null || true; fi
	for pid in $SF_PID $LOAD_PID; do
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
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

# The file, its committed blob, the staging copy during a PUT or, later, the
# ZIP's parts (local copies, then blobs) and the ZIP saved once; and slack.
need_kib=$(((SIZE_BYTES * 4) / 1024 + 256 * 1024))
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
# ... and sample the 1-minute load every 2 s while the runs go on.
(while :; do cut -d' ' -f1 /proc/loadavg 2>/dev/null; sleep 2; done) >"$WORK/load.txt" &
LOAD_PID=$!

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

# ---------------------------------------------------------------- portal

# portal_signin URL JAR: sign in to a share link as a browser would: GET the
# sign-in page (which sets the pre-session cookie), read its csrf and auth
# fields, POST the password and follow the 303 back to the link.
portal_signin() {
	local url=$1 jar=$2 csrf auth code redirects
	curl -fsS -c "$jar" -b "$jar" -o "$WORK/signin.html" "$url" || die "GET $url failed"
	csrf=$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$WORK/signin.html" | head -n 1)
	auth=$(sed -n 's/.*name="auth" value="\([^"]*\)".*/\1/p' "$WORK/signin.html" | head -n 1)
	[[ -n $csrf && -n $auth ]] || die "no csrf or auth field on the sign-in page of $url"
	read -r code redirects < <(curl -sS -L -c "$jar" -b "$jar" -o "$WORK/after.html" -w '%{http_code} %{num_redirects}\n' \
		--data-urlencode "csrf=$csrf" --data-urlencode "auth=$auth" --data-urlencode "password=$LINK_PASSWORD" "$url/password")
	[[ $code == 200 && $redirects == 1 ]] || die "sign-in to $url: HTTP $code after $redirects redirects"
	grep -q 'sesame_s_' "$jar" || die "sign-in to $url set no session cookie"
}
# make_link TARGET_ID: a download link with one password; prints its token.
LINK_PASSWORD="bench-password-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
make_link() {
	api /v1/share/link/create "{\"links\":[{\"targets\":[\"$1\"],\"link_type\":\"download\",\"authenticators\":[{\"auth_type\":\"password\",\"auth_context\":\"$LINK_PASSWORD\"}],\"max_access_count\":100}]}" |
		jget '["result"]["share_link_objects"][0]["link"]' | sed 's|.*/s/||'
}
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; } # utime + stime of PID
cpu_secs() { awk -v t="$1" -v k="$CLK_TCK" 'BEGIN {printf "%.2f", t / k}'; }
commas() { echo "$1" | sed -e ':a' -e 's/\B[0-9]\{3\}\>/,&/' -e 'ta'; }
rate() { awk -v b="$1" -v s="$2" 'BEGIN {printf "%.1f", b / 1048576 / s}'; } # rate BYTES SECONDS: MiB/s

log "portal: a link to the ${SIZE_MIB} MiB file, signing in"
FILE_LINK=$(make_link "$OBJ_ID")
[[ ${#FILE_LINK} == 43 ]] || die "link create returned token '$FILE_LINK'"
FILE_JAR=$WORK/file.jar
portal_signin "$BASE/s/$FILE_LINK" "$FILE_JAR"
PORTAL_URL=$BASE/s/$FILE_LINK/f/$OBJ_ID

# The reference serves the very blob the portal reads (same inode, same
# page-cache pages): the newest file of this size under <data>/blobs/xx/yy/.
SF_BIN=$WORK/servefile
CGO_ENABLED=0 go build -o "$SF_BIN" ./scripts/bench/servefile
BLOB=$(find "$DATA/blobs" -type f -size "${SIZE_BYTES}c" -printf '%T@ %p\n' 2>/dev/null | sort -n | tail -n 1 | cut -d' ' -f2-)
if [[ -n $BLOB ]]; then
	SF_SRC="the blob the portal serves, $(echo "${BLOB#"$DATA"/}" | sed 's|/[^/]*$|/<key>|')"
else
	BLOB=$FILE
	SF_SRC="the original local file (the blob was not found under the data directory)"
fi
SF_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$SF_BIN" -file "$BLOB" -listen "127.0.0.1:$SF_PORT" >"$WORK/servefile.log" 2>&1 &
SF_PID=$!
SF_URL=http://127.0.0.1:$SF_PORT/$(basename "$BLOB")
for _ in $(seq 100); do
	curl -fsS -r 0-0 -o /dev/null "$SF_URL" 2>/dev/null && break
	kill -0 "$SF_PID" 2>/dev/null || die "servefile exited: $(cat "$WORK/servefile.log")"
	sleep 0.1
done
log "servefile serves $SF_SRC on port $SF_PORT"

log "portal and servefile: checking bytes"
got=$(curl -fsS -b "$FILE_JAR" "$PORTAL_URL" | sha256sum | awk '{print $1}')
[[ $got == "$LOCAL_SHA" ]] || die "portal download sha256 $got, want $LOCAL_SHA"
got=$(curl -fsS "$SF_URL" | sha256sum | awk '{print $1}')
[[ $got == "$LOCAL_SHA" ]] || die "servefile download sha256 $got, want $LOCAL_SHA"

# Interleaved (portal, servefile, portal, ...) so that other work on the
# machine weighs on both alike.
log "GET portal file and servefile x$RUNS, interleaved"
PORTAL_RSS_START=$(mib "$(status_kib VmRSS)")
phase_start
if [[ $RSS_MODE == proc ]]; then echo 5 >"/proc/$SF_PID/clear_refs" 2>/dev/null || true; fi
PORTAL_MBPS=()
SF_MBPS=()
PORTAL_TICKS=0
SF_TICKS=0
for i in $(seq "$RUNS"); do
	c0=$(cpu_ticks "$SERVER_PID")
	read -r t n code < <(curl -sS -b "$FILE_JAR" -o /dev/null -w '%{time_total} %{size_download} %{http_code}\n' "$PORTAL_URL")
	PORTAL_TICKS=$((PORTAL_TICKS + $(cpu_ticks "$SERVER_PID") - c0))
	[[ $code == 200 && $n == "$SIZE_BYTES" ]] || die "portal GET $i: HTTP $code, $n bytes"
	PORTAL_MBPS+=("$(mbps "$t")")
	c0=$(cpu_ticks "$SF_PID")
	read -r t2 n code < <(curl -sS -o /dev/null -w '%{time_total} %{size_download} %{http_code}\n' "$SF_URL")
	SF_TICKS=$((SF_TICKS + $(cpu_ticks "$SF_PID") - c0))
	[[ $code == 200 && $n == "$SIZE_BYTES" ]] || die "servefile GET $i: HTTP $code, $n bytes"
	SF_MBPS+=("$(mbps "$t2")")
	log "  GET portal $i: ${t}s, ${PORTAL_MBPS[-1]} MiB/s; servefile $i: ${t2}s, ${SF_MBPS[-1]} MiB/s"
done
PORTAL_PEAK=$(phase_peak)
SF_PEAK="-"
if [[ $RSS_MODE == proc ]]; then
	SF_PEAK=$(mib "$(awk '$1 == "VmHWM:" {print $2}' "/proc/$SF_PID/status")")
fi
kill -TERM "$SF_PID" 2>/dev/null || true
wait "$SF_PID" 2>/dev/null || true
SF_PID=""
read -r PORTAL_MED _ _ < <(stats "${PORTAL_MBPS[@]}")
read -r SF_MED _ _ < <(stats "${SF_MBPS[@]}")
RATIO=$(awk -v a="$PORTAL_MED" -v b="$SF_MED" 'BEGIN {printf "%.2f", a / b}')
# Do the two sets of runs overlap? If so, the ratio is within the noise.
RATIO_NOTE=$(python3 -c '
import sys
n = int(sys.argv[1]); a = [float(x) for x in sys.argv[2:2 + n]]; b = [float(x) for x in sys.argv[2 + n:]]
print("one run each, so no spread to judge the difference by" if n == 1 else
      "the two ranges of runs overlap, so the difference is within the noise of this run" if max(a) >= min(b) and max(b) >= min(a)
      else "the two ranges of runs do not overlap")' "$RUNS" "${PORTAL_MBPS[@]}" "${SF_MBPS[@]}")
PORTAL_CPU=$(cpu_secs "$((PORTAL_TICKS / RUNS))")
SF_CPU=$(cpu_secs "$((SF_TICKS / RUNS))")
log "portal/servefile (medians): $RATIO; server CPU per download: portal ${PORTAL_CPU}s, servefile ${SF_CPU}s"

# ---------------------------------------------------------------- ZIP

# ZIP_FILES files that together are the BENCH_SIZE_MIB file, split into
# equal parts (the last one takes the remainder): random bytes, so the ZIP
# (stored, not deflated, for application/octet-stream) is as large as the
# data, and the entries read in order are the big file again.
log "ZIP: uploading $ZIP_FILES files (${SIZE_MIB} MiB in all) into one folder, 2 at a time"
PARTS=$WORK/parts
mkdir -p "$PARTS" "$WORK/zipput"
split -n "$ZIP_FILES" -a 4 -d --additional-suffix=.bin "$FILE" "$PARTS/part-"
ZIP_FOLDER=$(api /v1/folder/create '{"path":"/zipset"}' | jget '["result"]["object"]["id"]')
upload_part() { # upload_part NAME
	local code
	code=$(curl -sS -o "$WORK/zipput/$1.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
		-F "request={\"parent_id\":\"$ZIP_FOLDER\",\"name\":\"$1\"};type=application/json" \
		-F "file=@$PARTS/$1;type=application/octet-stream" "$BASE/v1/put")
	[[ $code == 200 ]] || { echo "bench: PUT $1: HTTP $code: $(head -c 300 "$WORK/zipput/$1.json")" >&2; return 1; }
}
export -f upload_part
export WORK TOKEN BASE PARTS ZIP_FOLDER
s=$(date +%s.%N)
(cd "$PARTS" && ls) | xargs -P 2 -n 1 bash -c 'upload_part "$1"' _ || die "uploading the parts failed"
e=$(date +%s.%N)
ZIP_UPLOAD_S=$(awk -v s="$s" -v e="$e" 'BEGIN {printf "%.1f", e - s}')
python3 - "$WORK/zipput" "$PARTS" "$ZIP_FOLDER" "$ZIP_FILES" <<-'PY' || die "the part uploads do not match the local parts"
	import json, os, sys
	d, parts, folder, want = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
	names = sorted(os.listdir(d))
	if len(names) != want:
	    sys.exit(f"{len(names)} replies, want {want}")
	for n in names:
	    o = json.load(open(os.path.join(d, n)))["result"]["object"]
	    local = os.path.getsize(os.path.join(parts, n[:-5]))
	    if o["size"] != local or o["parent_id"] != folder:
	        sys.exit(f"{n}: size {o['size']} (local {local}), parent {o['parent_id']}")
	PY
ZIP_PART_SIZE=$(stat -c %s "$PARTS/part-0000.bin")
rm -rf "$PARTS" "$WORK/zipput"
log "  uploaded in ${ZIP_UPLOAD_S}s"

log "ZIP: a link to the folder, signing in"
ZIP_LINK=$(make_link "$ZIP_FOLDER")
[[ ${#ZIP_LINK} == 43 ]] || die "link create returned token '$ZIP_LINK'"
ZIP_JAR=$WORK/zip.jar
portal_signin "$BASE/s/$ZIP_LINK" "$ZIP_JAR"
ZIP_URL=$BASE/s/$ZIP_LINK/zip

log "ZIP: checking the archive once (saved to disk)"
curl -fsS -b "$ZIP_JAR" -o "$WORK/all.zip" "$ZIP_URL" || die "ZIP download failed"
ZIP_BYTES=$(stat -c %s "$WORK/all.zip")
# Every entry's CRC is checked as it is read; the files, in name order, must
# be the big file again.
ZIP_CHECK=$(python3 - "$WORK/all.zip" "$ZIP_FILES" "$LOCAL_SHA" <<-'PY'
	import hashlib, sys, zipfile
	path, want, sha = sys.argv[1], int(sys.argv[2]), sys.argv[3]
	with zipfile.ZipFile(path) as z:
	    infos = z.infolist()
	    files = sorted((i for i in infos if not i.is_dir()), key=lambda i: i.filename)
	    dirs = len(infos) - len(files)
	    if len(files) != want:
	        sys.exit(f"the ZIP has {len(files)} files, want {want}")
	    stored = sum(i.compress_type == zipfile.ZIP_STORED for i in files)
	    h = hashlib.sha256()
	    for i in files:
	        with z.open(i) as f:
	            while b := f.read(1 << 20):
	                h.update(b)
	    if h.hexdigest() != sha:
	        sys.exit("the ZIP's files, in order, do not add up to the big file")
	print(len(infos), len(files), dirs, stored)
	PY
) || die "the ZIP is not what was uploaded"
read -r ZIP_ENTRIES ZIP_NFILES ZIP_DIRS ZIP_STORED <<<"$ZIP_CHECK"
rm -f "$WORK/all.zip"
log "  $ZIP_ENTRIES entries ($ZIP_NFILES files, $ZIP_DIRS folder, $ZIP_STORED stored), $ZIP_BYTES bytes, CRCs and sha256 ok"

log "GET portal ZIP x$RUNS"
ZIP_RSS_START=$(mib "$(status_kib VmRSS)")
phase_start
ZIP_MBPS=()
ZIP_TICKS=0
for i in $(seq "$RUNS"); do
	c0=$(cpu_ticks "$SERVER_PID")
	read -r t n code < <(curl -sS -b "$ZIP_JAR" -o /dev/null -w '%{time_total} %{size_download} %{http_code}\n' "$ZIP_URL")
	ZIP_TICKS=$((ZIP_TICKS + $(cpu_ticks "$SERVER_PID") - c0))
	[[ $code == 200 && $n == "$ZIP_BYTES" ]] || die "ZIP GET $i: HTTP $code, $n bytes (want $ZIP_BYTES)"
	ZIP_MBPS+=("$(rate "$n" "$t")")
	log "  GET ZIP $i: ${t}s, ${ZIP_MBPS[-1]} MiB/s"
done
ZIP_PEAK=$(phase_peak)
ZIP_CPU=$(cpu_secs "$((ZIP_TICKS / RUNS))")

LOAD_AFTER=$(loadavg)
kill -TERM "$LOAD_PID" 2>/dev/null || true
wait "$LOAD_PID" 2>/dev/null || true
LOAD_PID=""
LOAD_DURING=$(python3 -c '
import statistics, sys
v = [float(x) for x in open(sys.argv[1]).read().split() if x.replace(".", "", 1).isdigit()]
print("min %.2f, median %.2f, max %.2f over %d samples" % (min(v), statistics.median(v), max(v), len(v)) if v else "not sampled")' "$WORK/load.txt")

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
	row "GET portal /s/{token}/f/{id}, signed in (curl, cookie jar) to /dev/null" "$PORTAL_PEAK (at start $PORTAL_RSS_START)" "${PORTAL_MBPS[@]}"
	row "reference: same blob via http.ServeFile (scripts/bench/servefile) to /dev/null" "$SF_PEAK (its own)" "${SF_MBPS[@]}"
	row "GET portal /s/{token}/zip, $(commas "$ZIP_FILES") files in one folder, to /dev/null" "$ZIP_PEAK (at start $ZIP_RSS_START)" "${ZIP_MBPS[@]}"
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
- Server RSS after all runs: $FINAL_RSS MiB
- **Portal download / http.ServeFile (medians): $RATIO** ($PORTAL_MED vs $SF_MED MB/s; $RATIO_NOTE); CPU time per download: server ${PORTAL_CPU} s, servefile ${SF_CPU} s
- **ZIP of $(commas "$ZIP_FILES") files: server peak RSS $ZIP_PEAK MiB** (RSS when the runs began: $ZIP_RSS_START MiB); server CPU time per ZIP ${ZIP_CPU} s
- ZIP checked once: $ZIP_ENTRIES entries ($ZIP_NFILES files and $ZIP_DIRS folder entry, $ZIP_STORED of the files stored uncompressed), $ZIP_BYTES bytes, every CRC and the files' concatenated sha256 right"

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
- Load average (1 min) during the runs: $LOAD_DURING
- Whole run (build, file, uploads, checks, timed runs): ${SECONDS} s

One ${SIZE_MIB} MiB file of random bytes, sent to and fetched from a server on
127.0.0.1 with curl. MB/s is MiB per second: ${SIZE_MIB} divided by curl's
\`time_total\` for the request (for the ZIP: the ZIP's bytes, $ZIP_BYTES,
divided by it). Every PUT's sha256, as the server reports it, equals the
local file's; each download method's bytes were checked by sha256 once,
outside the timed runs (and one dest-url Range request).

The portal rows go through a share link as a recipient would: a download
link with one password authenticator, signed into with curl (GET the link,
take the form's csrf, POST the password, follow the 303 with the session
cookie in a cookie jar), then \`GET /s/{token}/f/{id}\`. The reference is
\`http.ServeFile\` in a minimal Go program (\`scripts/bench/servefile\`)
serving $SF_SRC (same bytes, same page-cache pages). Portal and ServeFile
downloads alternate, run by run, so other load hits both alike.

The ZIP row: the ${SIZE_MIB} MiB file split into $(commas "$ZIP_FILES") parts of $ZIP_PART_SIZE
bytes (the last takes the remainder), uploaded with \`/v1/put\` into one
folder, 2 at a time (xargs -P 2), in ${ZIP_UPLOAD_S} s; a download link to the folder;
\`GET /s/{token}/zip\`, which streams the archive as it builds it. The parts
are random bytes with a binary type, so the entries are stored, not
deflated, and the ZIP is as large as the data plus its headers.

$TABLE

$RSS_LINES

RSS is $RSS_SRC. The per-operation peak comes from resetting VmHWM
(\`echo 5 > /proc/PID/clear_refs\`) before each operation's runs; the reset
sets it to the RSS of that moment, so a peak is never below the RSS the
operation began with (shown as "at start" for the portal rows), which
includes heap the Go runtime has not yet handed back (a password sign-in
runs argon2id with 19 MiB). The ServeFile row's RSS is that program's own.
CPU time is utime + stime from /proc/PID/stat, per download.

$REF_TABLE

Notes:

- The machine has enough memory that the uploaded blob is still in the page
  cache when it is downloaded, so the GET rows measure the server's copying,
  not the disk; compare them with the page-cache read above.
- A PUT streams the file to a staging file, hashing every byte on the way
  (md5, sha1, sha256, sha512 and crc32c), fsyncs it and renames it into
  place; compare it with the dd row. With few CPUs it is bound by CPU
  (the hashes, and the kernel's copy into the page cache), not by the disk.
- The portal and dest-url downloads hand the blob's file to net/http,
  which sends it with sendfile(2), as http.ServeFile does; what the portal
  adds per request (link and session lookups in SQLite, the audit event) is
  fixed, so the ratio says how much of the copying the wrapper costs.
- The ZIP cannot use sendfile: every byte goes through archive/zip's CRC-32
  and gin's buffered writer, and each of its files is opened separately.
- curl runs on the same machine and takes CPU too; with few CPUs the client
  and the server compete, and the loopback copy is the ceiling.
- Numbers from a machine shared with other work are noisy: see the load
  average above.
EOF

echo
echo "$TABLE"
echo
echo "$RSS_LINES"
echo "- Load average (1 min) during the runs: $LOAD_DURING, on $(nproc) CPUs"
echo
echo "$REF_TABLE"
echo
log "wrote $OUT"
