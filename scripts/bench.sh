#!/usr/bin/env bash
# bench.sh: measure sesame's large-file throughput and memory use, and how it
# compares with nginx; small-file downloads, link creates and lists, and
# sign-ins per second.
#
# Builds the server, starts it on a throw-away data directory (with
# SESAME_LINKS_MAX_ACCESS_COUNT=1000000, so one link can take every sign-in
# of the sign-in section) and times, each BENCH_RUNS times (default 3), with
# the median reported:
#   - PUT   a BENCH_SIZE_MIB file (default 1024) as a multipart /v1/put
#   - GET   it through a dest-url (curl to /dev/null)
#   - GET   it as a multipart /v1/get reply (curl to /dev/null)
#   - GET   it through the recipient portal, /s/{token}/f/{id}, after signing
#           in with curl (password link, csrf, cookie jar), interleaved with
#           the same blob served by http.ServeFile (scripts/bench/servefile),
#           the reference; their ratio is reported
#   - GET   /s/{token}/zip of a folder of BENCH_ZIP_FILES files (default
#           1000) that together make BENCH_SIZE_MIB (uploaded 2 at a time)
# Then, against nginx (installed with apt-get when missing, run from a
# throw-away nginx.conf: sendfile on, access_log off, worker_processes
# BENCH_NGINX_WORKERS, default auto) serving the very same blobs:
#   - GET   the big file through the portal, a dest-url and nginx,
#           BENCH_RUNS_NGINX times each (default 5), alternating
#   - GET   a BENCH_SMALL_KIB file (default 10) with wrk (installed when
#           missing), -t BENCH_WRK_THREADS -c BENCH_WRK_CONNS -d
#           BENCH_WRK_SECONDS (2, 64, 10), through a signed-in portal session
#           (one sign-in, its cookie on every request) and from nginx,
#           BENCH_WRK_RUNS times each (default 3), alternating; then once each
#           GET /static/portal.css and the small file's dest-url, to tell the
#           HTTP stack from the database work
# and, with scripts/bench/load (a Go client):
#   - share/link/create, email_otp (no password hashing), BENCH_CREATE_LINKS
#     links (default 2000), one per call, BENCH_CREATE_CONC clients (8)
#   - share/link/list, size 100, BENCH_LIST_CALLS calls (200) per filter
#     (a tag, a target_id) over the links just made
#   - password sign-ins (GET the page, POST the password) by
#     BENCH_SIGNIN_CONC clients (8) for BENCH_SIGNIN_SECONDS (10)
#   - code sign-ins (GET the page, POST code/send, read the code from the
#     server log, POST code/verify) into BENCH_CODE_SIGNINS links (200), one
#     each (the send limits allow one code a minute per authenticator)
#   - BENCH_BURST (200) password sign-ins posted at once, with the server's
#     peak RSS (VmHWM reset before)
# Every PUT's sha256 is checked against the local file's; each GET method's
# bytes are checked by sha256 once, outside the timed runs (the ZIP by
# reading it back with python3 zipfile: entry count, CRCs, contents). The
# server's baseline and peak RSS (VmHWM, read from /proc/PID/status, reset per
# operation) and the load average during the run are reported too.
#
# BENCH_SKIP takes a comma-separated list of sections to leave out: put (the
# timed PUTs; one upload is still made), dest, multipart, servefile, zip,
# nginx, small, links, signin.
#
# The tables are printed and written, with a description of the machine, to
# docs/benchmarks.md (overwritten; BENCH_OUT names another file).
#
#   scripts/bench.sh                      # 1 GiB, 3 runs, everything
#   BENCH_SIZE_MIB=64 BENCH_RUNS=1 BENCH_RUNS_NGINX=1 BENCH_WRK_RUNS=1 \
#     BENCH_WRK_SECONDS=3 BENCH_SKIP=zip scripts/bench.sh   # quick check
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)

RUNS=${BENCH_RUNS:-3}
SIZE_MIB=${BENCH_SIZE_MIB:-1024}
ZIP_FILES=${BENCH_ZIP_FILES:-1000}
OUT=${BENCH_OUT:-docs/benchmarks.md}
RUNS_NGINX=${BENCH_RUNS_NGINX:-5}
NGINX_WORKERS=${BENCH_NGINX_WORKERS:-auto}
SMALL_KIB=${BENCH_SMALL_KIB:-10}
WRK_RUNS=${BENCH_WRK_RUNS:-3}
WRK_THREADS=${BENCH_WRK_THREADS:-2}
WRK_CONNS=${BENCH_WRK_CONNS:-64}
WRK_SECONDS=${BENCH_WRK_SECONDS:-10}
CREATE_LINKS=${BENCH_CREATE_LINKS:-2000}
CREATE_CONC=${BENCH_CREATE_CONC:-8}
LIST_CALLS=${BENCH_LIST_CALLS:-200}
SIGNIN_CONC=${BENCH_SIGNIN_CONC:-8}
SIGNIN_SECONDS=${BENCH_SIGNIN_SECONDS:-10}
CODE_SIGNINS=${BENCH_CODE_SIGNINS:-200}
BURST=${BENCH_BURST:-200}
SKIP=$(echo "${BENCH_SKIP:-}" | tr ' ' ',')

die() { echo "bench: $*" >&2; exit 1; }
log() { echo "bench: [${SECONDS}s] $*" >&2; }

[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer, not '$RUNS'"
[[ $SIZE_MIB =~ ^[1-9][0-9]*$ ]] || die "BENCH_SIZE_MIB must be a positive integer, not '$SIZE_MIB'"
[[ $ZIP_FILES =~ ^[1-9][0-9]*$ ]] && ((ZIP_FILES <= 9999)) || die "BENCH_ZIP_FILES must be an integer from 1 to 9999, not '$ZIP_FILES'"
for v in RUNS_NGINX SMALL_KIB WRK_RUNS WRK_THREADS WRK_CONNS WRK_SECONDS CREATE_LINKS CREATE_CONC LIST_CALLS SIGNIN_CONC SIGNIN_SECONDS CODE_SIGNINS BURST; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "BENCH_$v must be a positive integer, not '${!v}'"
done
((WRK_THREADS <= WRK_CONNS)) || die "BENCH_WRK_THREADS ($WRK_THREADS) must not exceed BENCH_WRK_CONNS ($WRK_CONNS)"
((BURST <= 5000 && SIGNIN_SECONDS <= 300)) || die "BENCH_BURST is at most 5000 and BENCH_SIGNIN_SECONDS at most 300"
[[ $NGINX_WORKERS == auto || $NGINX_WORKERS =~ ^[1-9][0-9]*$ ]] || die "BENCH_NGINX_WORKERS must be auto or a positive integer, not '$NGINX_WORKERS'"
SIZE_BYTES=$((SIZE_MIB * 1024 * 1024))
SMALL_BYTES=$((SMALL_KIB * 1024))

SECTIONS="put dest multipart servefile zip nginx small links signin"
for sec in ${SKIP//,/ }; do
	[[ " $SECTIONS " == *" $sec "* ]] || die "BENCH_SKIP: unknown section '$sec' (known: $SECTIONS)"
done
skip() { [[ ",$SKIP," == *",$1,"* ]]; } # skip SECTION: is it left out?
NEED_NGINX=0
if ! skip nginx || ! skip small; then NEED_NGINX=1; fi

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
	if [[ $2 == nginx ]] && command -v apt-get >/dev/null; then
		install_nginx_apt
	else
		install_pkgs "$2"
	fi
	command -v "$1" >/dev/null || die "$1 is still missing after installing $2"
}

# Debian's nginx package starts a system nginx (on port 80) when installed,
# unless a policy-rc.d forbids starting services. Provide one for the
# install if the machine has none, and remove only that one.
install_nginx_apt() {
	local sudo="" made=0
	if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\n# written by sesame scripts/bench.sh for one apt-get install\nexit 101\n' |
			$sudo tee /usr/sbin/policy-rc.d >/dev/null && $sudo chmod 755 /usr/sbin/policy-rc.d && made=1
	fi
	local rc=0
	install_pkgs nginx || rc=$?
	if ((made)); then $sudo rm -f /usr/sbin/policy-rc.d; fi
	return "$rc"
}

need curl curl
need python3 python3
need sha256sum coreutils
need gcc gcc # CGO_ENABLED=1 (SQLite)
if ((NEED_NGINX)); then
	need nginx nginx
	need pgrep procps
fi
if ! skip small; then need wrk wrk; fi
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
NGINX_PID=""

cleanup() {
	local rc=$?
	if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
		kill -TERM "$SERVER_PID" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$SERVER_PID" 2>/dev/null || true
	fi
	if [[ -n $WRAP_PID ]]; then wait "$WRAP_PID" 2>/dev/null || true; fi
	for pid in $SF_PID $LOAD_PID $NGINX_PID; do
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
# One password link takes every sign-in of the sign-in section, and each
# sign-in counts as an access: raise the server's cap on max_access_count.
export SESAME_LINKS_MAX_ACCESS_COUNT=1000000
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

PUT_RUNS=$RUNS
if skip put; then PUT_RUNS=1; fi
log "PUT x$PUT_RUNS"
phase_start
PUT_MBPS=()
OBJ_ID=""
for i in $(seq "$PUT_RUNS"); do
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

DEST_MBPS=()
DEST_PEAK="-"
if ! skip dest; then
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
fi

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

MP_MBPS=()
MP_PEAK="-"
if ! skip multipart; then
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
fi

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
# make_link TARGET_ID [MAX_ACCESS]: a download link with one password (and
# at most MAX_ACCESS sign-ins, default 100); prints its token.
LINK_PASSWORD="bench-password-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
make_link() {
	local tok
	tok=$(api /v1/share/link/create "{\"links\":[{\"targets\":[\"$1\"],\"link_type\":\"download\",\"authenticators\":[{\"auth_type\":\"password\",\"auth_context\":\"$LINK_PASSWORD\"}],\"max_access_count\":${2:-100}}]}" |
		jget '["result"]["share_link_objects"][0]["link"]' | sed 's|.*/s/||')
	[[ ${#tok} == 43 ]] || die "link create returned token '$tok'"
	echo "$tok"
}
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; } # utime + stime of PID
cpu_secs() { awk -v t="$1" -v k="$CLK_TCK" 'BEGIN {printf "%.2f", t / k}'; }
commas() { echo "$1" | sed -e ':a' -e 's/\B[0-9]\{3\}\>/,&/' -e 'ta'; }
rate() { awk -v b="$1" -v s="$2" 'BEGIN {printf "%.1f", b / 1048576 / s}'; } # rate BYTES SECONDS: MiB/s
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "n/a"}'; }
# overlap_note N A1..AN B1..BN: do the two sets of runs overlap? If so, the
# ratio of their medians is within the noise of this run.
overlap_note() {
	python3 -c '
import sys
n = int(sys.argv[1]); a = [float(x) for x in sys.argv[2:2 + n]]; b = [float(x) for x in sys.argv[2 + n:]]
print("one run each, so no spread to judge the difference by" if n == 1 else
      "the two ranges of runs overlap, so the difference is within the noise of this run" if max(a) >= min(b) and max(b) >= min(a)
      else "the two ranges of runs do not overlap")' "$@"
}
load1() { cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo unknown; } # the 1-minute load now
# sched_wait PID...: nanoseconds the PIDs' threads have spent runnable but
# waiting for a CPU (the run queue; /proc/PID/task/*/schedstat, field 2).
# With CPU time, it tells a server short of CPU from one that is blocked.
sched_wait() {
	local p
	for p in "$@"; do cat /proc/"$p"/task/*/schedstat 2>/dev/null || true; done | awk '{s += $2} END {printf "%.0f\n", s}'
}

log "portal: a link to the ${SIZE_MIB} MiB file, signing in"
FILE_LINK=$(make_link "$OBJ_ID")
FILE_JAR=$WORK/file.jar
portal_signin "$BASE/s/$FILE_LINK" "$FILE_JAR"
PORTAL_URL=$BASE/s/$FILE_LINK/f/$OBJ_ID
log "portal: checking bytes"
got=$(curl -fsS -b "$FILE_JAR" "$PORTAL_URL" | sha256sum | awk '{print $1}')
[[ $got == "$LOCAL_SHA" ]] || die "portal download sha256 $got, want $LOCAL_SHA"

# The references (servefile, nginx) serve the very blob the portal reads
# (same inode, same page-cache pages): the newest file of this size under
# <data>/blobs/xx/yy/.
BLOB=$(find "$DATA/blobs" -type f -size "${SIZE_BYTES}c" -printf '%T@ %p\n' 2>/dev/null | sort -n | tail -n 1 | cut -d' ' -f2-)
if [[ -n $BLOB ]]; then
	SF_SRC="the blob the portal serves, $(echo "${BLOB#"$DATA"/}" | sed 's|/[^/]*$|/<key>|')"
else
	BLOB=$FILE
	SF_SRC="the original local file (the blob was not found under the data directory)"
fi

PORTAL_MBPS=()
SF_MBPS=()
PORTAL_PEAK="-"
SF_PEAK="-"
if ! skip servefile; then
	SF_BIN=$WORK/servefile
	CGO_ENABLED=0 go build -o "$SF_BIN" ./scripts/bench/servefile
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

	log "servefile: checking bytes"
	got=$(curl -fsS "$SF_URL" | sha256sum | awk '{print $1}')
	[[ $got == "$LOCAL_SHA" ]] || die "servefile download sha256 $got, want $LOCAL_SHA"

	# Interleaved (portal, servefile, portal, ...) so that other work on the
	# machine weighs on both alike.
	log "GET portal file and servefile x$RUNS, interleaved"
	PORTAL_RSS_START=$(mib "$(status_kib VmRSS)")
	phase_start
	if [[ $RSS_MODE == proc ]]; then echo 5 >"/proc/$SF_PID/clear_refs" 2>/dev/null || true; fi
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
	if [[ $RSS_MODE == proc ]]; then
		SF_PEAK=$(mib "$(awk '$1 == "VmHWM:" {print $2}' "/proc/$SF_PID/status")")
	fi
	kill -TERM "$SF_PID" 2>/dev/null || true
	wait "$SF_PID" 2>/dev/null || true
	SF_PID=""
	read -r PORTAL_MED _ _ < <(stats "${PORTAL_MBPS[@]}")
	read -r SF_MED _ _ < <(stats "${SF_MBPS[@]}")
	RATIO=$(ratio "$PORTAL_MED" "$SF_MED")
	RATIO_NOTE=$(overlap_note "$RUNS" "${PORTAL_MBPS[@]}" "${SF_MBPS[@]}")
	PORTAL_CPU=$(cpu_secs "$((PORTAL_TICKS / RUNS))")
	SF_CPU=$(cpu_secs "$((SF_TICKS / RUNS))")
	log "portal/servefile (medians): $RATIO; server CPU per download: portal ${PORTAL_CPU}s, servefile ${SF_CPU}s"
fi

# ---------------------------------------------------------------- ZIP

# ZIP_FILES files that together are the BENCH_SIZE_MIB file, split into
# equal parts (the last one takes the remainder): random bytes, so the ZIP
# (stored, not deflated, for application/octet-stream) is as large as the
# data, and the entries read in order are the big file again.
ZIP_MBPS=()
ZIP_PEAK="-"
if ! skip zip; then
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
fi

# ---------------------------------------------------------------- against nginx

# The peak of the transfer sections, before the sign-ins (argon2id) grow the heap.
TRANSFER_PEAK="n/a"
if ((CAN_RESET)); then
	h=$(status_kib VmHWM)
	if ((h > PEAK_KIB)); then PEAK_KIB=$h; fi
	TRANSFER_PEAK=$(mib "$PEAK_KIB")
fi

# dest_url_of ID: a fresh dest-url for an object.
dest_url_of() { api /v1/get "{\"id\":\"$1\",\"transfer_method\":\"dest-url\"}" | jget '["result"]["dest_url"]'; }

# The small file: uploaded, a link to it, one sign-in whose session cookie
# every wrk request carries (a download does not count as an access).
if ! skip small; then
	log "small: a ${SMALL_KIB} KiB file, a link to it, signing in"
	SMALL_FILE=$WORK/small.bin
	head -c "$SMALL_BYTES" /dev/urandom >"$SMALL_FILE"
	SMALL_SHA=$(sha256sum "$SMALL_FILE" | awk '{print $1}')
	curl -fsS -o "$WORK/small.json" -H "Authorization: Bearer $TOKEN" \
		-F 'request={"folder":"/bench","name":"small.bin"};type=application/json' \
		-F "file=@$SMALL_FILE;type=application/octet-stream" "$BASE/v1/put" || die "PUT of the small file failed"
	SMALL_ID=$(jget '["result"]["object"]["id"]' <"$WORK/small.json")
	got=$(jget '["result"]["object"]["sha256"]' <"$WORK/small.json")
	[[ $got == "$SMALL_SHA" ]] || die "small file: server sha256 $got, local $SMALL_SHA"
	# Its blob: the file of this size under blobs/ with the same sha256.
	SMALL_BLOB=""
	while read -r _ f; do
		if [[ $(sha256sum "$f" | awk '{print $1}') == "$SMALL_SHA" ]]; then SMALL_BLOB=$f; break; fi
	done < <(find "$DATA/blobs" -type f -size "${SMALL_BYTES}c" -printf '%T@ %p\n' 2>/dev/null | sort -rn)
	SMALL_SRC="the blob the portal serves"
	if [[ -z $SMALL_BLOB ]]; then
		SMALL_BLOB=$SMALL_FILE
		SMALL_SRC="the original local file (the blob was not found under the data directory)"
	fi
	SMALL_LINK=$(make_link "$SMALL_ID" 1000)
	SMALL_JAR=$WORK/small.jar
	portal_signin "$BASE/s/$SMALL_LINK" "$SMALL_JAR"
	# A Netscape cookie file: domain, flag, path, secure, expiry, name, value.
	SMALL_COOKIE=$(awk -F'\t' '$6 ~ /^(__Host-)?sesame_s_/ {print $6 "=" $7}' "$SMALL_JAR" | tail -n 1)
	[[ -n $SMALL_COOKIE ]] || die "no session cookie in $SMALL_JAR"
	SMALL_URL=$BASE/s/$SMALL_LINK/f/$SMALL_ID
	got=$(curl -fsS -H "Cookie: $SMALL_COOKIE" "$SMALL_URL" | sha256sum | awk '{print $1}')
	[[ $got == "$SMALL_SHA" ]] || die "portal download of the small file with the session cookie: sha256 $got, want $SMALL_SHA"
fi

# nginx from a throw-away configuration, serving the same blobs through
# symlinks in its root.
ng_pids() { echo "$NGINX_PID" "$(pgrep -P "$NGINX_PID" 2>/dev/null | tr '\n' ' ' || true)"; }
ng_ticks() { # CPU ticks of nginx, master and workers
	local t=0 p
	for p in $(ng_pids); do t=$((t + $(cpu_ticks "$p"))); done # split on purpose
	echo "$t"
}
if ((NEED_NGINX)); then
	NG=$WORK/nginx
	mkdir -p "$NG/www" "$NG/tmp"
	ln -s "$BLOB" "$NG/www/big.bin"
	if ! skip small; then ln -s "$SMALL_BLOB" "$NG/www/small.bin"; fi
	NG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	ngv=$(nginx -V 2>&1 || true)
	{
		# As root, nginx's workers would run as nobody, who cannot read the
		# data directory (0700): keep them root, on a loopback port.
		if [[ $(id -u) -eq 0 ]]; then echo "user root;"; fi
		echo "worker_processes $NGINX_WORKERS;"
		echo "pid $NG/nginx.pid;"
		echo "error_log $NG/error.log warn;"
		echo "events { worker_connections 1024; }"
		echo "http {"
		echo "    access_log off;"
		echo "    sendfile on;"
		echo "    tcp_nopush on;"
		echo "    keepalive_requests 1000000;"
		echo "    default_type application/octet-stream;"
		echo "    client_body_temp_path $NG/tmp/client_body;"
		for m in proxy fastcgi uwsgi scgi; do
			[[ $ngv == *"--without-http_${m}_module"* ]] || echo "    ${m}_temp_path $NG/tmp/$m;"
		done
		echo "    server {"
		echo "        listen 127.0.0.1:$NG_PORT;"
		echo "        root $NG/www;"
		echo "    }"
		echo "}"
	} >"$NG/nginx.conf"
	NG_ARGS=(-p "$NG/" -c "$NG/nginx.conf")
	if nginx -h 2>&1 | grep -q -- '-e filename'; then NG_ARGS+=(-e "$NG/error.log"); fi
	nginx "${NG_ARGS[@]}" -t >"$NG/test.log" 2>&1 || die "nginx -t: $(cat "$NG/test.log")"
	nginx "${NG_ARGS[@]}" -g 'daemon off;' >"$NG/stderr.log" 2>&1 &
	NGINX_PID=$!
	NG_BASE=http://127.0.0.1:$NG_PORT
	for _ in $(seq 100); do
		curl -fsS -r 0-0 -o /dev/null "$NG_BASE/big.bin" 2>/dev/null && break
		kill -0 "$NGINX_PID" 2>/dev/null || die "nginx exited: $(cat "$NG/stderr.log" "$NG/error.log" 2>/dev/null)"
		sleep 0.1
	done
	NGINX_VERSION=$(nginx -v 2>&1 | sed 's|.*nginx/||')
	NGINX_NPROC=$(($(pgrep -P "$NGINX_PID" | wc -l)))
	log "nginx $NGINX_VERSION ($NGINX_NPROC workers) serves $SF_SRC on port $NG_PORT"
fi

NX_PORTAL=()
NX_DEST=()
NX_NGINX=()
if ! skip nginx; then
	log "nginx: checking bytes"
	got=$(curl -fsS "$NG_BASE/big.bin" | sha256sum | awk '{print $1}')
	[[ $got == "$LOCAL_SHA" ]] || die "nginx download sha256 $got, want $LOCAL_SHA"
	if skip dest; then
		got=$(curl -fsS "$(dest_url_of "$OBJ_ID")" | sha256sum | awk '{print $1}')
		[[ $got == "$LOCAL_SHA" ]] || die "dest-url download sha256 $got, want $LOCAL_SHA"
	fi

	# Round i starts with a different one of the three, so that none is
	# always first (or always after another).
	log "GET portal, dest-url and nginx x$RUNS_NGINX, alternating"
	NX_LOAD=$(load1)
	NX_TICKS_PORTAL=0
	NX_TICKS_DEST=0
	NX_TICKS_NGINX=0
	for i in $(seq "$RUNS_NGINX"); do
		line=""
		for k in 0 1 2; do
			case $(((i + k) % 3)) in
			0)
				c0=$(cpu_ticks "$SERVER_PID")
				read -r t n code < <(curl -sS -b "$FILE_JAR" -o /dev/null -w '%{time_total} %{size_download} %{http_code}\n' "$PORTAL_URL")
				NX_TICKS_PORTAL=$((NX_TICKS_PORTAL + $(cpu_ticks "$SERVER_PID") - c0))
				[[ $code == 200 && $n == "$SIZE_BYTES" ]] || die "portal GET (vs nginx) $i: HTTP $code, $n bytes"
				NX_PORTAL+=("$(mbps "$t")")
				line+=" portal ${NX_PORTAL[-1]}"
				;;
			1)
				url=$(dest_url_of "$OBJ_ID")
				c0=$(cpu_ticks "$SERVER_PID")
				read -r t n code < <(curl -sS -o /dev/null -w '%{time_total} %{size_download} %{http_code}\n' "$url")
				NX_TICKS_DEST=$((NX_TICKS_DEST + $(cpu_ticks "$SERVER_PID") - c0))
				[[ $code == 200 && $n == "$SIZE_BYTES" ]] || die "dest-url GET (vs nginx) $i: HTTP $code, $n bytes"
				NX_DEST+=("$(mbps "$t")")
				line+=" dest-url ${NX_DEST[-1]}"
				;;
			2)
				c0=$(ng_ticks)
				read -r t n code < <(curl -sS -o /dev/null -w '%{time_total} %{size_download} %{http_code}\n' "$NG_BASE/big.bin")
				NX_TICKS_NGINX=$((NX_TICKS_NGINX + $(ng_ticks) - c0))
				[[ $code == 200 && $n == "$SIZE_BYTES" ]] || die "nginx GET $i: HTTP $code, $n bytes"
				NX_NGINX+=("$(mbps "$t")")
				line+=" nginx ${NX_NGINX[-1]}"
				;;
			esac
		done
		log "  round $i (MiB/s):$line"
	done
	read -r NX_PORTAL_MED _ _ < <(stats "${NX_PORTAL[@]}")
	read -r NX_DEST_MED _ _ < <(stats "${NX_DEST[@]}")
	read -r NX_NGINX_MED _ _ < <(stats "${NX_NGINX[@]}")
	NX_RATIO_PORTAL=$(ratio "$NX_PORTAL_MED" "$NX_NGINX_MED")
	NX_RATIO_DEST=$(ratio "$NX_DEST_MED" "$NX_NGINX_MED")
	NX_NOTE_PORTAL=$(overlap_note "$RUNS_NGINX" "${NX_PORTAL[@]}" "${NX_NGINX[@]}")
	NX_NOTE_DEST=$(overlap_note "$RUNS_NGINX" "${NX_DEST[@]}" "${NX_NGINX[@]}")
	NX_CPU_PORTAL=$(cpu_secs "$((NX_TICKS_PORTAL / RUNS_NGINX))")
	NX_CPU_DEST=$(cpu_secs "$((NX_TICKS_DEST / RUNS_NGINX))")
	NX_CPU_NGINX=$(cpu_secs "$((NX_TICKS_NGINX / RUNS_NGINX))")
	log "portal/nginx $NX_RATIO_PORTAL, dest-url/nginx $NX_RATIO_DEST (medians)"
fi

# ---------------------------------------------------------------- small files, wrk

# wrk_parse: wrk's report on stdin; prints requests/s, p50 ms, p99 ms,
# requests, bytes read per request, non-2xx/3xx replies, socket errors
# (connect, read, write) and timeouts.
read -r -d '' WRK_PY <<-'PY' || true
	import re, sys
	t = sys.stdin.read()
	def dur(s):
	    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", s)
	    return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000, "h": 3600000}[m.group(2)]
	def size(v, u):
	    return float(v) * {"B": 1, "KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3, "TB": 1024 ** 4}[u]
	rps = re.search(r"Requests/sec:\s*([\d.]+)", t)
	if not rps:
	    sys.exit("no Requests/sec in wrk's output:\n" + t)
	p50 = re.search(r"^\s*50%\s+(\S+)", t, re.M)
	p99 = re.search(r"^\s*99%\s+(\S+)", t, re.M)
	m = re.search(r"(\d+) requests in [\d.]+\w+, ([\d.]+)(\w+) read", t)
	n = int(m.group(1)) if m else 0
	per = size(m.group(2), m.group(3)) / n if m and n else 0
	bad = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
	se = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", t)
	errs = sum(int(x) for x in se.groups()[:3]) if se else 0
	tmo = int(se.group(4)) if se else 0
	print("%s %.2f %.2f %d %.0f %d %d %d" % (rps.group(1), dur(p50.group(1)) if p50 else 0, dur(p99.group(1)) if p99 else 0,
	      n, per, int(bad.group(1)) if bad else 0, errs, tmo))
	PY
# wrk_run WHO URL [COOKIE]: one wrk run against sesame (WHO=server) or
# nginx; prints the wrk_parse fields, the CPUs WHO kept busy meanwhile and
# the CPUs' worth of time its threads waited for a CPU.
wrk_run() {
	local who=$1 url=$2 c0 c1 w0 w1 s e hdr=()
	if [[ -n ${3:-} ]]; then hdr=(-H "Cookie: $3"); fi
	local pids=("$SERVER_PID")
	if [[ $who == nginx ]]; then read -r -a pids < <(ng_pids); fi
	if [[ $who == server ]]; then c0=$(cpu_ticks "$SERVER_PID"); else c0=$(ng_ticks); fi
	w0=$(sched_wait "${pids[@]}")
	s=$(date +%s.%N)
	wrk -t "$WRK_THREADS" -c "$WRK_CONNS" -d "${WRK_SECONDS}s" --timeout 10s --latency "${hdr[@]}" "$url" >"$WORK/wrk.out" 2>&1 ||
		die "wrk failed: $(cat "$WORK/wrk.out")"
	e=$(date +%s.%N)
	if [[ $who == server ]]; then c1=$(cpu_ticks "$SERVER_PID"); else c1=$(ng_ticks); fi
	w1=$(sched_wait "${pids[@]}")
	cat "$WORK/wrk.out" >>"$WORK/wrk.all"
	echo "$(python3 -c "$WRK_PY" <"$WORK/wrk.out") $(awk -v t="$((c1 - c0))" -v w="$((w1 - w0))" -v k="$CLK_TCK" -v s="$s" -v e="$e" 'BEGIN {printf "%.2f %.2f", t / k / (e - s), w / 1e9 / (e - s)}')"
}
# wrk_check NAME FIELDS...: a download row must have read the file each time.
wrk_check() {
	local name=$1 n=$5 per=$6
	if ((n > 0 && per < SMALL_BYTES)); then
		die "$name: $per bytes read per request, less than the ${SMALL_BYTES}-byte file (not signed in?)"
	fi
}

declare -A W # W[row,field]: runs' values, space-separated
wrk_add() { # wrk_add ROW FIELDS...: append one run's fields
	local row=$1; shift
	local names=(rps p50 p99 n per bad errs tmo cpus wait) k
	for k in "${!names[@]}"; do W[$row,${names[$k]}]+="${1} "; shift; done
}
if ! skip small; then
	log "nginx: checking the small file"
	got=$(curl -fsS "$NG_BASE/small.bin" | sha256sum | awk '{print $1}')
	[[ $got == "$SMALL_SHA" ]] || die "nginx small download sha256 $got, want $SMALL_SHA"
	SMALL_DEST=$(dest_url_of "$SMALL_ID")
	got=$(curl -fsS "$SMALL_DEST" | sha256sum | awk '{print $1}')
	[[ $got == "$SMALL_SHA" ]] || die "dest-url small download sha256 $got, want $SMALL_SHA"

	log "wrk -t$WRK_THREADS -c$WRK_CONNS -d${WRK_SECONDS}s: ${SMALL_KIB} KiB from the portal and nginx x$WRK_RUNS, alternating"
	WRK_LOAD=$(load1)
	for i in $(seq "$WRK_RUNS"); do
		for k in 0 1; do
			if (((i + k) % 2 == 1)); then
				read -r -a f < <(wrk_run server "$SMALL_URL" "$SMALL_COOKIE")
				wrk_check portal "${f[@]}"
				wrk_add portal "${f[@]}"
				log "  portal $i: ${f[0]} req/s, p50 ${f[1]} ms, p99 ${f[2]} ms, timeouts ${f[7]}, server CPUs busy ${f[8]}, waiting for a CPU ${f[9]}"
			else
				read -r -a f < <(wrk_run nginx "$NG_BASE/small.bin")
				wrk_check nginx "${f[@]}"
				wrk_add nginx "${f[@]}"
				log "  nginx $i: ${f[0]} req/s, p50 ${f[1]} ms, p99 ${f[2]} ms, timeouts ${f[7]}, nginx CPUs busy ${f[8]}, waiting for a CPU ${f[9]}"
			fi
		done
	done
	log "  diagnostics: GET /static/portal.css and the small file's dest-url, once each"
	read -r -a f < <(wrk_run server "$BASE/static/portal.css")
	wrk_add static "${f[@]}"
	log "  static: ${f[0]} req/s, p50 ${f[1]} ms, p99 ${f[2]} ms"
	read -r -a f < <(wrk_run server "$SMALL_DEST")
	wrk_check dest-url "${f[@]}"
	wrk_add dest "${f[@]}"
	log "  dest-url: ${f[0]} req/s, p50 ${f[1]} ms, p99 ${f[2]} ms, timeouts ${f[7]}"
fi

if [[ -n $NGINX_PID ]]; then
	kill -TERM "$NGINX_PID" 2>/dev/null || true
	wait "$NGINX_PID" 2>/dev/null || true
	NGINX_PID=""
fi

# ---------------------------------------------------------------- links and sign-ins

if ! skip links || ! skip signin; then
	LOAD_BIN=$WORK/load
	CGO_ENABLED=0 go build -o "$LOAD_BIN" ./scripts/bench/load
fi
# loadgen MODE ARGS...: run scripts/bench/load against the server; its JSON
# result on stdout. The API token goes through the environment.
loadgen() {
	local mode=$1 out
	shift
	out=$(LOAD_TOKEN=$TOKEN "$LOAD_BIN" "$mode" -base "$BASE" "$@") || die "load $mode failed"
	echo "$out"
}
jnum() { # jnum JSON EXPR: a number from a load result
	python3 -c 'import json, sys; d = json.loads(sys.argv[1]); print(eval("d" + sys.argv[2]))' "$1" "$2"
}

if ! skip links; then
	LINKS_LOAD=$(load1)
	log "share/link/create: $CREATE_LINKS email_otp links, one per call, $CREATE_CONC clients"
	c0=$(cpu_ticks "$SERVER_PID") w0=$(sched_wait "$SERVER_PID")
	CREATE_JSON=$(loadgen create -n "$CREATE_LINKS" -c "$CREATE_CONC" -target "$OBJ_ID" -tags 20 -email-prefix bench-list)
	CREATE_TICKS=$(($(cpu_ticks "$SERVER_PID") - c0)):$(($(sched_wait "$SERVER_PID") - w0))
	[[ $(jnum "$CREATE_JSON" '["errors"]') == 0 ]] || die "link creates failed: $CREATE_JSON"
	log "  $(jnum "$CREATE_JSON" '["per_sec"]' | xargs printf '%.1f') creates/s"
	log "share/link/list: $LIST_CALLS calls per filter"
	LIST_JSON=$(loadgen list -n "$LIST_CALLS" -tags 20 -target "$OBJ_ID" -expect $((CREATE_LINKS / 20)))
	LINKS_TOTAL=$(api /v1/share/link/list '{"size":1}' | jget '["result"]["count"]')
fi

if ! skip signin; then
	SIGNIN_LOAD=$(load1)
	PW_LINK=$(make_link "$OBJ_ID" 1000000)
	log "password sign-ins: $SIGNIN_CONC clients for ${SIGNIN_SECONDS}s"
	phase_start
	c0=$(cpu_ticks "$SERVER_PID") w0=$(sched_wait "$SERVER_PID")
	PW_JSON=$(loadgen password -link "$PW_LINK" -password "$LINK_PASSWORD" -c "$SIGNIN_CONC" -d "${SIGNIN_SECONDS}s")
	PW_TICKS=$(($(cpu_ticks "$SERVER_PID") - c0)):$(($(sched_wait "$SERVER_PID") - w0))
	PW_PEAK=$(phase_peak)
	[[ $(jnum "$PW_JSON" '["n"]') -gt 0 ]] || die "no password sign-in succeeded: $PW_JSON"
	log "  $(jnum "$PW_JSON" '["per_sec"]' | xargs printf '%.1f') sign-ins/s"

	log "code sign-ins: $CODE_SIGNINS links with an email_otp authenticator each, $SIGNIN_CONC clients"
	loadgen create -n "$CODE_SIGNINS" -c 4 -target "$OBJ_ID" -tags 1 -email-prefix bench-code -out "$WORK/code-links.txt" >/dev/null
	phase_start
	c0=$(cpu_ticks "$SERVER_PID") w0=$(sched_wait "$SERVER_PID")
	CODE_JSON=$(loadgen code -links "$WORK/code-links.txt" -log "$WORK/server.log" -c "$SIGNIN_CONC")
	CODE_TICKS=$(($(cpu_ticks "$SERVER_PID") - c0)):$(($(sched_wait "$SERVER_PID") - w0))
	CODE_PEAK=$(phase_peak)
	[[ $(jnum "$CODE_JSON" '["n"]') -gt 0 ]] || die "no code sign-in succeeded: $CODE_JSON"
	log "  $(jnum "$CODE_JSON" '["per_sec"]' | xargs printf '%.1f') sign-ins/s"

	log "burst: $BURST password sign-ins posted at once"
	BURST_RSS_START=$(mib "$(status_kib VmRSS)")
	phase_start
	BURST_JSON=$(loadgen burst -link "$PW_LINK" -password "$LINK_PASSWORD" -n "$BURST")
	BURST_PEAK=$(phase_peak)
	log "  $(jnum "$BURST_JSON" '["per_sec"]' | xargs printf '%.1f') sign-ins/s, server peak RSS $BURST_PEAK MiB"
	# How the link's access count stands: every sign-in above counted once.
	read -r PW_ACCESS PW_MAX < <(api /v1/share/link/list "{\"filter\":{\"link\":\"$BASE/s/$PW_LINK\"},\"size\":1}" |
		python3 -c 'import json, sys; l = json.load(sys.stdin)["result"]["share_link_objects"][0]; print(l["access_count"], l["max_access_count"])')
fi

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

row() { # row NAME PEAK VALUE...: a row of MB/s runs; nothing when there were none
	local name=$1 peak=$2; shift 2
	(($# > 0)) || return 0
	read -r med lo hi < <(stats "$@")
	printf '| %s | %d | %s | %s | %s | %s |\n' "$name" "$#" "$med" "$lo" "$hi" "$peak"
}

TABLE=$(
	echo "| operation | runs | median MB/s | min MB/s | max MB/s | server peak RSS during op (MiB) |"
	echo "|---|---:|---:|---:|---:|---:|"
	if ! skip put; then row "PUT /v1/put, multipart upload (curl -F)" "$PUT_PEAK" "${PUT_MBPS[@]}"; fi
	row "GET dest-url (/dl/…) to /dev/null" "$DEST_PEAK" "${DEST_MBPS[@]}"
	row "GET /v1/get multipart reply to /dev/null" "$MP_PEAK" "${MP_MBPS[@]}"
	row "GET portal /s/{token}/f/{id}, signed in (curl, cookie jar) to /dev/null" "$PORTAL_PEAK (at start ${PORTAL_RSS_START:-?})" "${PORTAL_MBPS[@]}"
	row "reference: same blob via http.ServeFile (scripts/bench/servefile) to /dev/null" "$SF_PEAK (its own)" "${SF_MBPS[@]}"
	row "GET portal /s/{token}/zip, $(commas "$ZIP_FILES") files in one folder, to /dev/null" "$ZIP_PEAK (at start ${ZIP_RSS_START:-?})" "${ZIP_MBPS[@]}"
)
if [[ $(echo "$TABLE" | wc -l) -le 2 ]]; then TABLE="(No large-file rows: BENCH_SKIP=$SKIP left them all out.)"; fi
REF_TABLE=$(
	echo "| reference (no server) | runs | median MB/s | min MB/s | max MB/s |"
	echo "|---|---:|---:|---:|---:|"
	read -r med lo hi < <(stats "${REF_READ[@]}")
	echo "| cat file > /dev/null (page cache) | $RUNS | $med | $lo | $hi |"
	read -r med lo hi < <(stats "${REF_WRITE[@]}")
	echo "| dd file to same filesystem, conv=fsync | $RUNS | $med | $lo | $hi |"
)
RSS_LINES="- Server peak RSS (VmHWM, whole run): **$PEAK MiB**; over the transfer sections alone (before the sign-ins): $TRANSFER_PEAK MiB
- Server baseline RSS (VmRSS once ready, before any transfer): $BASE_RSS MiB
- Server RSS after all runs: $FINAL_RSS MiB"
if ! skip servefile; then
	RSS_LINES+="
- **Portal download / http.ServeFile (medians): $RATIO** ($PORTAL_MED vs $SF_MED MB/s; $RATIO_NOTE); CPU time per download: server ${PORTAL_CPU} s, servefile ${SF_CPU} s"
fi
if ! skip zip; then
	RSS_LINES+="
- **ZIP of $(commas "$ZIP_FILES") files: server peak RSS $ZIP_PEAK MiB** (RSS when the runs began: $ZIP_RSS_START MiB); server CPU time per ZIP ${ZIP_CPU} s
- ZIP checked once: $ZIP_ENTRIES entries ($ZIP_NFILES files and $ZIP_DIRS folder entry, $ZIP_STORED of the files stored uncompressed), $ZIP_BYTES bytes, every CRC and the files' concatenated sha256 right"
fi

# ---- against nginx, big file
NGINX_PART=""
if ! skip nginx; then
	verdict() { awk -v r="$1" 'BEGIN {print (r >= 0.9 ? "meets" : "misses")}'; }
	nxrow() { # nxrow NAME RATIO CPU VALUE...
		local name=$1 rt=$2 cpu=$3; shift 3
		read -r med lo hi < <(stats "$@")
		printf '| %s | %d | %s | %s | %s | %s | %s |\n' "$name" "$#" "$med" "$lo" "$hi" "$rt" "$cpu"
	}
	NGINX_TABLE=$(
		echo "| GET the ${SIZE_MIB} MiB file to /dev/null (curl) | runs | median MB/s | min MB/s | max MB/s | ÷ nginx (medians) | CPU s per download |"
		echo "|---|---:|---:|---:|---:|---:|---:|"
		nxrow "sesame portal /s/{token}/f/{id}, signed in" "**$NX_RATIO_PORTAL**" "$NX_CPU_PORTAL (sesame)" "${NX_PORTAL[@]}"
		nxrow "sesame dest-url /dl/…" "**$NX_RATIO_DEST**" "$NX_CPU_DEST (sesame)" "${NX_DEST[@]}"
		nxrow "nginx $NGINX_VERSION, sendfile on, same blob" "1.00" "$NX_CPU_NGINX (nginx)" "${NX_NGINX[@]}"
	)
	NGINX_LINES="- **Portal ÷ nginx: $NX_RATIO_PORTAL** ($NX_PORTAL_MED vs $NX_NGINX_MED MB/s; $NX_NOTE_PORTAL): $(verdict "$NX_RATIO_PORTAL") the 0.9× target
- **dest-url ÷ nginx: $NX_RATIO_DEST** ($NX_DEST_MED vs $NX_NGINX_MED MB/s; $NX_NOTE_DEST): $(verdict "$NX_RATIO_DEST") the 0.9× target
- 1-minute load average when these runs began: $NX_LOAD, on $(nproc) CPUs"
	NGINX_PART="## The ${SIZE_MIB} MiB file: sesame against nginx

nginx $NGINX_VERSION (Debian's package) from a throw-away nginx.conf:
\`worker_processes $NGINX_WORKERS\` ($NGINX_NPROC workers), \`sendfile on\`, \`tcp_nopush on\`,
\`access_log off\`, listening on 127.0.0.1, its root a directory with a
symlink to $SF_SRC, so all three read the same page-cache pages. nginx's
bytes were checked by sha256 once. $RUNS_NGINX rounds; each round downloads
the file once through each of the three, starting with a different one each
round, so that load from other work falls on all three alike. The dest-url
is fetched fresh (\`/v1/get\`, transfer_method dest-url) before each of its
runs, outside the timing. CPU time is the server's (or nginx's master and
workers') utime + stime over the download.

$NGINX_TABLE

$NGINX_LINES"
fi

# cpu_note BUSY WAIT WHAT: what the server's CPU use says about its limit.
# BUSY is the CPUs it kept busy, WAIT the CPUs' worth of time its threads
# were runnable but had no CPU; Go runs at most GOMAXPROCS (= CPUs) threads
# of Go code at once, so BUSY + WAIT near the CPU count means short of CPU.
cpu_note() {
	awk -v c="$1" -v w="$2" -v n="$(nproc)" -v what="$3" 'BEGIN {
		if (c + w >= 0.75 * n)
			printf "during %s the server was running or ready to run %.2f CPUs'"'"' worth of the time (%.2f running, %.2f waiting for a CPU) on %d CPUs: it was short of CPU, which it shares with the client and the machine'"'"'s other work", what, c + w, c, w, n;
		else
			printf "during %s the server was running or ready to run only %.2f CPUs'"'"' worth of the time (%.2f running, %.2f waiting for a CPU) on %d CPUs: most of the time its requests were blocked (on locks, sleeps or I/O), not short of CPU", what, c + w, c, w, n }'
}

# ---- small files, wrk
SMALL_PART=""
if ! skip small; then
	# wrow LABEL ROW NGINX_MEDIAN: medians over the runs of req/s, p50 and
	# p99, the sums of failures, and the CPUs kept busy.
	wrow() {
		python3 - "$1" "${W[$2,rps]}" "${W[$2,p50]}" "${W[$2,p99]}" "${W[$2,tmo]}" "${W[$2,errs]}" "${W[$2,bad]}" "${W[$2,cpus]}" "${W[$2,wait]}" "${3:-}" <<-'PY'
			import statistics, sys
			label = sys.argv[1]
			v = [[float(x) for x in a.split()] for a in sys.argv[2:10]]
			rps, p50, p99, tmo, errs, bad, cpus, wait = v
			med = statistics.median(rps)
			ref = float(sys.argv[10]) if sys.argv[10] else 0
			us = statistics.median(c / r * 1e6 for c, r in zip(cpus, rps) if r > 0) if max(rps) > 0 else 0
			print("| %s | %d | %.0f | %.0f | %.0f | %.2f | %.2f | %d / %d / %d | %.2f / %.2f | %.0f | %s |" % (
			    label, len(rps), med, min(rps), max(rps), statistics.median(p50), statistics.median(p99),
			    sum(tmo), sum(errs), sum(bad), statistics.median(cpus), statistics.median(wait), us,
			    "%.3f" % (med / ref) if ref else "-"))
			PY
	}
	median_of() { python3 -c 'import statistics, sys; print(statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }
	# shellcheck disable=SC2086 # the runs' values are space-separated on purpose
	W_NGINX_MED=$(median_of ${W[nginx,rps]} | xargs printf '%.0f')
	# shellcheck disable=SC2086
	W_PORTAL_MED=$(median_of ${W[portal,rps]} | xargs printf '%.0f')
	# shellcheck disable=SC2086
	W_PORTAL_CPUS=$(median_of ${W[portal,cpus]})
	# shellcheck disable=SC2086
	W_PORTAL_WAIT=$(median_of ${W[portal,wait]})
	W_RATIO=$(awk -v a="$W_PORTAL_MED" -v b="$W_NGINX_MED" 'BEGIN {printf "%.3f", a / b}')
	# CPU time per request, the median over the runs: less bent by the
	# machine's other work than requests per second.
	us_per_req() { python3 -c 'import statistics, sys; c = [float(x) for x in sys.argv[1].split()]; r = [float(x) for x in sys.argv[2].split()]
print("%.0f" % statistics.median(a / b * 1e6 for a, b in zip(c, r) if b > 0))' "$1" "$2"; }
	W_PORTAL_US=$(us_per_req "${W[portal,cpus]}" "${W[portal,rps]}")
	W_NGINX_US=$(us_per_req "${W[nginx,cpus]}" "${W[nginx,rps]}")
	W_STATIC_US=$(us_per_req "${W[static,cpus]}" "${W[static,rps]}")
	W_DEST_US=$(us_per_req "${W[dest,cpus]}" "${W[dest,rps]}")
	SMALL_TABLE=$(
		echo "| GET a ${SMALL_KIB} KiB file, wrk -t$WRK_THREADS -c$WRK_CONNS -d${WRK_SECONDS}s | runs | median req/s | min req/s | max req/s | p50 ms | p99 ms | timeouts / socket errors / non-2xx-3xx | CPUs busy / waiting for a CPU | CPU µs per request | ÷ nginx (medians) |"
		echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		wrow "sesame portal /s/{token}/f/{id}, session cookie" portal "$W_NGINX_MED"
		wrow "nginx $NGINX_VERSION, same blob" nginx "$W_NGINX_MED"
		wrow "diagnostic: sesame GET /static/portal.css (no database)" static "$W_NGINX_MED"
		wrow "diagnostic: sesame dest-url of the same file (database reads only)" dest "$W_NGINX_MED"
	)
	W_CPU_NOTE=$(cpu_note "$W_PORTAL_CPUS" "$W_PORTAL_WAIT" "the portal runs")
	SMALL_LINES="- **Portal ÷ nginx, ${SMALL_KIB} KiB requests per second: $W_RATIO** ($W_PORTAL_MED vs $W_NGINX_MED req/s, medians)
- CPU time per request: portal $W_PORTAL_US µs, nginx $W_NGINX_US µs ($(awk -v a="$W_PORTAL_US" -v b="$W_NGINX_US" 'BEGIN {if (b > 0) printf "%.0f×", a / b; else print "n/a"}')); on the same server, /static/portal.css (HTTP stack and log line) $W_STATIC_US µs and the dest-url (plus SQLite reads) $W_DEST_US µs
- $W_CPU_NOTE
- 1-minute load average when these runs began: $WRK_LOAD, on $(nproc) CPUs"
	SMALL_PART="## ${SMALL_KIB} KiB downloads at $WRK_CONNS connections: sesame against nginx

A ${SMALL_KIB} KiB file of random bytes, uploaded with \`/v1/put\`; a download
link to it with one password, signed into once with curl; then
\`wrk -t$WRK_THREADS -c$WRK_CONNS -d${WRK_SECONDS}s --timeout 10s --latency\` with that session's cookie
(\`-H 'Cookie: sesame_s_…=…'\`) on every request: a download is not an
access, so one session serves them all. nginx (the same instance as above)
serves $SMALL_SRC through a symlink. Portal and nginx runs alternate,
$WRK_RUNS each. Every run's bytes read per request were checked to be at
least the file's size (a request without a valid session would get a short
redirect); the bytes themselves were checked by sha256 once, with the same
cookie. wrk's timeout is raised from 2 s to 10 s, so that slow replies count
in the latencies instead of being dropped; timeouts are still counted.
p50 and p99 are wrk's, the median over the runs. wrk runs on the same
$(nproc) CPUs. CPUs busy is the server's (or nginx's) CPU time during the run
divided by its length; waiting for a CPU is the time its threads were
runnable but had no CPU (the run queue, summed over its threads from
/proc/PID/task/*/schedstat), divided by the same. When the two add up to
the CPU count or more, the server was short of CPU (on a shared machine,
mostly to other work); when they add up to much less, its requests were
blocked on something else. CPU µs per request (CPU time ÷ requests) is
the figure the machine's load bends least.

Two diagnostic rows, one run each, tell the parts of a portal request apart:
\`GET /static/portal.css\` goes through the same HTTP stack, router and
request log line, with no database; the dest-url of the same file reads
SQLite (the grant, the object) and sends the blob, with no write. A portal
download also finds the link by its token and the session by its cookie,
checks the object is within the link, and writes an audit event in its own
SQLite transaction; nginx has none of that and writes no access log.

$SMALL_TABLE

$SMALL_LINES"
fi

# ---- links and sign-ins
# load_row LABEL JSON TICKS:WAIT PEAK: a row of a load result (TICKS "-": no CPU column)
load_row() {
	python3 - "$@" "$CLK_TCK" <<-'PY'
		import json, sys
		label, j, ticks, peak, hz = sys.argv[1:6]
		d = json.loads(j)
		e = d.get("extra") or {}
		if ticks == "-" or d["seconds"] <= 0:
		    cpus = per = "-"
		else:
		    t, w = ticks.split(":")
		    busy = int(t) / float(hz) / d["seconds"]
		    cpus = "%.2f / %.2f" % (busy, int(w) / 1e9 / d["seconds"])
		    per = "%.1f" % (busy / d["per_sec"] * 1000) if d["per_sec"] > 0 else "-"
		print("| %s | %d | %d | %.1f | **%.1f** | %.1f | %.1f | %.1f | %d | %s | %s | %s |" % (label, d["n"], e.get("concurrency", 1),
		      d["seconds"], d["per_sec"], d["p50_ms"], d["p99_ms"], d["max_ms"], d["errors"], cpus, per, peak))
		PY
}
# load_cpus JSON TICKS:WAIT: the CPUs the server kept busy, and waited for, during a load run
load_cpus() {
	python3 -c 'import json, sys; d = json.loads(sys.argv[1]); t, w = sys.argv[3].split(":"); s = max(d["seconds"], 1e-9)
print("%.2f %.2f" % (int(t) / float(sys.argv[2]) / s, int(w) / 1e9 / s))' "$1" "$CLK_TCK" "$2"
}
API_PART=""
if ! skip links || ! skip signin; then
	API_LINES="- 1-minute load average when these sections began: ${LINKS_LOAD:-not run} (links), ${SIGNIN_LOAD:-not run} (sign-ins), on $(nproc) CPUs"
	load_note() { # load_note JSON TICKS:WAIT WHAT
		local busy wait
		read -r busy wait < <(load_cpus "$1" "$2")
		cpu_note "$busy" "$wait" "$3"
	}
	if ! skip links; then API_LINES+="
- $(load_note "$CREATE_JSON" "$CREATE_TICKS" "the link creates")"; fi
	if ! skip signin; then API_LINES+="
- $(load_note "$PW_JSON" "$PW_TICKS" "the password sign-ins")
- $(load_note "$CODE_JSON" "$CODE_TICKS" "the code sign-ins")
- Code sign-ins: from the POST of code/send until the code was in the server log, p50 $(jnum "$CODE_JSON" '["extra"]["deliver_p50_ms"]' | xargs printf '%.1f') ms, p99 $(jnum "$CODE_JSON" '["extra"]["deliver_p99_ms"]' | xargs printf '%.1f') ms
- The password link's access count after the sign-ins: $PW_ACCESS (max_access_count $PW_MAX)"; fi
	API_TABLE=$(
		echo "| operation | done | clients | seconds | per second | p50 ms | p99 ms | max ms | errors | server CPUs busy / waiting for a CPU | server CPU ms per op | server peak RSS (MiB) |"
		echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		if ! skip links; then load_row "POST /v1/share/link/create, 1 email_otp link per call" "$CREATE_JSON" "$CREATE_TICKS" "-"; fi
		if ! skip signin; then
			load_row "password sign-in (GET page, POST password → 303 + session cookie), for ${SIGNIN_SECONDS} s" "$PW_JSON" "$PW_TICKS" "$PW_PEAK"
			load_row "code sign-in (GET page, POST code/send, code from the log, POST code/verify), 1 per link" "$CODE_JSON" "$CODE_TICKS" "$CODE_PEAK"
			load_row "$BURST password sign-ins posted at once (after $BURST page GETs)" "$BURST_JSON" "-" "**$BURST_PEAK** (at start $BURST_RSS_START)"
		fi
	)
	API_PART="## Share links and sign-ins through HTTP

\`scripts/bench/load\`, a Go program (standard library only), is the client:
it keeps its connections alive, and each sign-in is a new visitor with its
own cookie jar (the pre-session cookie the sign-in page sets, then the
session cookie), who does not follow the final redirect. Latencies are per
operation (per link create, per whole sign-in). The server runs with
\`SESAME_LINKS_MAX_ACCESS_COUNT=1000000\` so that one link can take every
password sign-in (each counts as an access); otherwise its default
configuration (\`notify.email: log\`, log level info). The CPU columns are
as in the wrk table: the server's CPU time over the run and its threads'
time waiting for a CPU, each divided by the run's length, and the CPU time
per operation.

$API_TABLE

$API_LINES"
	if ! skip links; then
		LIST_TABLE=$(python3 - "$LIST_JSON" <<-'PY'
			import json, sys
			d = json.loads(sys.argv[1])
			names = {"tags": "tags all-of [one of 20 tags] (≈1/20 of the links)", "target_id": "target_id = the big file (every link made here)"}
			print("| share/link/list, size 100, one client, filter | calls | p50 ms | p99 ms | max ms | mean count | mean rows |")
			print("|---|---:|---:|---:|---:|---:|---:|")
			for s in d["shapes"]:
			    print("| %s | %d | %.2f | **%.2f** | %.2f | %.0f | %.0f |" % (names.get(s["name"], s["name"]), s["n"], s["p50_ms"], s["p99_ms"], s["max_ms"], s["mean_count"], s["mean_rows"]))
			PY
		)
		MILLION=$(grep '^## 1,000,000 links' docs/benchmarks-links.md 2>/dev/null | tail -n 1 | sed 's/^## //' || true)
		if [[ -n $MILLION ]]; then
			MILLION="see [benchmarks-links.md](benchmarks-links.md), section \"$MILLION\", made by \`scripts/bench-links.sh\` (the store's FindLinks and CreateLinks, no HTTP)"
		else
			MILLION="\`scripts/bench-links.sh\` measures that (docs/benchmarks-links.md has no 1,000,000-link section yet)"
		fi
		API_PART+="

share/link/create: $(commas "$CREATE_LINKS") links, one per \`POST /v1/share/link/create\`
(one download link to the big file, one email_otp authenticator with its own
address, so no password hashing, one of 20 tags), by $CREATE_CONC clients. Each
create also writes its audit event. share/link/list then runs over the
$(commas "$LINKS_TOTAL") links the server holds (these and the few made by the other
sections): $LIST_CALLS calls per filter, one at a time, through HTTP (JSON
encoding and the envelope included). For list latency over 1,000,000
links, $MILLION; this run does not build a million links.

$LIST_TABLE"
	fi
	if ! skip signin; then
		API_PART+="

Password sign-ins: one download link with one password authenticator
(argon2id, 19 MiB, 2 passes, 1 lane; the server runs at most 2×GOMAXPROCS
hashes at once and queues the rest), $SIGNIN_CONC visitors signing in over and
over for ${SIGNIN_SECONDS} s. Code sign-ins: an email code may be sent to one
authenticator once a minute and five times an hour, so one authenticator
cannot be signed into quickly again and again; instead $(commas "$CODE_SIGNINS") links, each with
its own email_otp authenticator and address, are signed into once each by
$SIGNIN_CONC visitors. With \`notify.email: log\` the server writes each
email to its log; the client follows the log file and takes the code from
the line with the visitor's address (\`to=…\`, \`text=\"…code is NNNNNN…\"\`).
The time from the POST of code/send until the code is in the log (the
outbox worker delivering it) is part of each code sign-in. The burst:
$BURST visitors fetch the sign-in page one after another, then all $BURST POST
the password at the same moment; the server's VmHWM was reset just before
(RSS then: $BURST_RSS_START MiB)."
	fi
fi

cpu=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
mem=$(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo 2>/dev/null || true)
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git status --porcelain 2>/dev/null || true) ]]; then rev="$rev (with uncommitted changes)"; fi
KNOBS="BENCH_SIZE_MIB=$SIZE_MIB BENCH_RUNS=$RUNS BENCH_RUNS_NGINX=$RUNS_NGINX BENCH_WRK_RUNS=$WRK_RUNS BENCH_WRK_SECONDS=$WRK_SECONDS BENCH_CREATE_LINKS=$CREATE_LINKS BENCH_CODE_SIGNINS=$CODE_SIGNINS BENCH_BURST=$BURST${SKIP:+ BENCH_SKIP=$SKIP}"

TRANSFER_TEXT="One ${SIZE_MIB} MiB file of random bytes, sent to and fetched from a server on
127.0.0.1 with curl. MB/s is MiB per second: ${SIZE_MIB} divided by curl's
\`time_total\` for the request$(if ! skip zip; then echo " (for the ZIP: the ZIP's bytes, $ZIP_BYTES,
divided by it)"; fi). Every PUT's sha256, as the server reports it, equals the
local file's; each download method's bytes were checked by sha256 once,
outside the timed runs$(if ! skip dest; then echo " (and one dest-url Range request)"; fi).

The portal rows go through a share link as a recipient would: a download
link with one password authenticator, signed into with curl (GET the link,
take the form's csrf, POST the password, follow the 303 with the session
cookie in a cookie jar), then \`GET /s/{token}/f/{id}\`.$(if ! skip servefile; then echo " The reference is
\`http.ServeFile\` in a minimal Go program (\`scripts/bench/servefile\`)
serving $SF_SRC (same bytes, same page-cache pages). Portal and ServeFile
downloads alternate, run by run, so other load hits both alike."; fi)"
if ! skip zip; then
	TRANSFER_TEXT+="

The ZIP row: the ${SIZE_MIB} MiB file split into $(commas "$ZIP_FILES") parts of $ZIP_PART_SIZE
bytes (the last takes the remainder), uploaded with \`/v1/put\` into one
folder, 2 at a time (xargs -P 2), in ${ZIP_UPLOAD_S} s; a download link to the folder;
\`GET /s/{token}/zip\`, which streams the archive as it builds it. The parts
are random bytes with a binary type, so the entries are stored, not
deflated, and the ZIP is as large as the data plus its headers."
fi

mkdir -p "$(dirname "$OUT")"
cat >"$OUT" <<EOF
# Benchmarks

Produced by \`scripts/bench.sh\` (\`$KNOBS\`); rerun it to refresh this file.

- Date: $(date -u)
- Commit: $rev
- System: $(uname -srm)
- CPU: ${cpu:-unknown}, $(nproc) CPUs
- Memory: ${mem:-unknown}
- Go: $(go version)
- Filesystem of the data directory: $(stat -f -c %T "$WORK")
- Load average (1, 5, 15 min) before the timed runs: $LOAD_BEFORE; after them: $LOAD_AFTER
- Load average (1 min) during the runs: $LOAD_DURING
- Whole run (build, files, uploads, checks, timed runs): ${SECONDS} s

The machine is shared with other work: a load average above its $(nproc) CPUs
means the server, its clients and nginx all waited for a CPU, and every
figure below is lower and noisier than on an idle machine. Competitors
were run alternately for that reason; compare ratios, not absolutes.

## Large files

$TRANSFER_TEXT

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

$NGINX_PART

$SMALL_PART

$API_PART

## Notes

- The machine has enough memory that the uploaded blob is still in the page
  cache when it is downloaded, so the GET rows measure the server's copying,
  not the disk; compare them with the page-cache read above.
- A PUT streams the file to a staging file, hashing every byte on the way
  (md5, sha1, sha256, sha512 and crc32c), fsyncs it and renames it into
  place; compare it with the dd row. With few CPUs it is bound by CPU
  (the hashes, and the kernel's copy into the page cache), not by the disk.
- The portal and dest-url downloads hand the blob's file to net/http,
  which sends it with sendfile(2), as http.ServeFile and nginx do; what the
  portal adds per request (link and session lookups in SQLite, the audit
  event) is fixed, so for a large file the ratio says how much of the
  copying the wrapper costs, and for a small file how much the fixed part
  weighs.
- The ZIP cannot use sendfile: every byte goes through archive/zip's CRC-32
  and gin's buffered writer, and each of its files is opened separately.
- curl and wrk run on the same machine and take CPU too; with few CPUs the
  client and the server compete, and the loopback copy is the ceiling.
- The server writes one log line per request (its default, log level
  info); nginx here writes no access log.
EOF

echo
echo "$TABLE"
echo
echo "$RSS_LINES"
echo "- Load average (1 min) during the runs: $LOAD_DURING, on $(nproc) CPUs"
echo
echo "$REF_TABLE"
if ! skip nginx; then
	echo
	echo "$NGINX_TABLE"
	echo
	echo "$NGINX_LINES"
fi
if ! skip small; then
	echo
	echo "$SMALL_TABLE"
	echo
	echo "$SMALL_LINES"
fi
if ! skip links || ! skip signin; then
	echo
	echo "$API_TABLE"
	echo
	echo "$API_LINES"
	if ! skip links; then
		echo
		echo "$LIST_TABLE"
		echo
		echo "- share/link/list over 1,000,000 links: $MILLION"
	fi
fi
echo
log "wrote $OUT"
