// Command load is the benchmark of scripts/bench.sh: it starts two sesame
// servers on throw-away data directories, one on SQLite and the local disk
// and one on PostgreSQL and an S3 bucket, measures both the same way and
// nginx beside them, samples the servers' memory and CPU from /proc, and
// writes docs/benchmarks.md, with a summary of the figures that have
// targets at the top.
//
//	load bench -sesame BIN -servefile BIN [-since UNIX-SECONDS]
//	           [-pg-url URL -pg-pid PID -s3-endpoint HOST:PORT -s3-pid PID
//	            -pg-version TEXT -s3-version TEXT]
//
// The servers ("sides") are SQLite + disk, with the run's SESAME_*
// settings, and PostgreSQL + S3, with the same settings but the database
// (-pg-url, a database of the cluster scripts/bench.sh starts), the S3
// server (-s3-endpoint, plain HTTP, bucket sesame-bench) and a key file
// from sesame keygen. Both run with SESAME_LINKS_MAX_ACCESS_COUNT=1000000,
// so that one link can take every sign-in of the sign-in section.
// BENCH_SKIP=backends leaves out PostgreSQL + S3. Every section runs on
// each server; where a section times runs, the runs alternate between the
// servers (and the reference), round by round, each round starting with a
// different one, so that other work on the machine falls on all alike.
// Each of these is timed BENCH_RUNS times (default 3) per server, with the
// median reported:
//   - PUT a BENCH_SIZE_MIB file (default 1024) as a multipart /v1/put
//   - GET it through a dest-url, and as a multipart /v1/get reply
//   - GET it through the recipient portal, /s/{token}/f/{id}, after signing
//     in (password link, csrf, cookie jar), alternating with the blob of
//     SQLite + disk served by http.ServeFile (scripts/bench/servefile)
//   - GET /s/{token}/zip of a folder of BENCH_ZIP_FILES files (default
//     1000) that together make the large file (uploaded 2 at a time), each
//     time followed by a portal GET of the large file: the single-file rate
//     the ZIP's is compared with
//
// Then, against nginx (run from a throw-away nginx.conf: sendfile on,
// access_log off) serving the very blobs of SQLite + disk:
//   - GET the large file through nginx and the portal and a dest-url of
//     each server, BENCH_RUNS_NGINX rounds (default 5)
//   - GET a BENCH_SMALL_KIB file (default 10) with wrk from nginx and
//     through a signed-in portal session of each server, BENCH_WRK_RUNS
//     times each, in turn, with each server's peak RSS over its runs; then
//     once on each server GET /static/portal.css and the small file's
//     dest-url, to tell the HTTP stack from the database work
//
// and, with the client modes below, in this process, on one server after
// the other:
//   - share/link/create of BENCH_CREATE_LINKS email_otp links, one per call;
//     share/link/list, BENCH_LIST_CALLS calls per filter over them
//   - password sign-ins for BENCH_SIGNIN_SECONDS; code sign-ins (the code
//     read from the server's log) into BENCH_CODE_SIGNINS links, one each;
//     BENCH_BURST password sign-ins posted at once
//
// Every PUT's sha256 is checked against the local file's; each download
// method's bytes (on each server) are checked by sha256 once, outside the
// timed runs (the ZIP by reading it back: entry count, CRCs, contents). The
// report gives each server's baseline (idle), per-operation and peak RSS
// (VmRSS and VmHWM from /proc/PID/status, VmHWM reset through clear_refs
// before each operation), its CPU time (utime + stime from /proc/PID/stat)
// and run-queue waits (/proc/PID/task/*/schedstat), and the load average
// during the run. On PostgreSQL + S3, wherever sesame's CPU time is
// measured, that of the PostgreSQL cluster (-pg-pid and its children) and
// of the S3 server (-s3-pid) is measured beside it and reported apart.
//
// The settings are BENCH_* environment variables; config.go lists them,
// and BENCH_QUICK=1 shrinks every size and duration for a check that the
// benchmark still runs. nginx and wrk must be on the PATH unless BENCH_SKIP
// leaves out the sections that use them.
//
// The client parts also run on their own, against a running server, and
// print what they measured as one JSON object:
//
//	load create   -base URL -n 2000 -c 8 -target ID [-tags 20] [-email-prefix P] [-out FILE]
//	load list     -base URL -n 200 -tags 20 [-target ID] [-expect N]
//	load password -base URL -link TOKEN -password P -c 8 -d 10s
//	load burst    -base URL -link TOKEN -password P -n 200
//	load code     -base URL -links FILE -log SERVER.LOG -c 8
//
// The API token comes from the environment, LOAD_TOKEN, so that it does
// not show in the process list. Every request goes to -base, which must be
// a loopback address: the program refuses any other host. Each mode stops
// by itself: after -n requests, or -d, and every request has a timeout.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	mode, args := os.Args[1], os.Args[2:]
	var err error
	switch mode {
	case "bench":
		err = runBench(args)
	case "create":
		err = runCreate(args)
	case "list":
		err = runList(args)
	case "password":
		err = runPassword(args)
	case "burst":
		err = runBurst(args)
	case "code":
		err = runCode(args)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "load %s: %v\n", mode, err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: load bench|create|list|password|burst|code [flags] (see the source's doc comment)")
	os.Exit(2)
}
