package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// writeBackendsReport writes the backends section's report to
// BENCH_OUT_BACKENDS and shows it.
func (b *bench) writeBackendsReport() error {
	parts := []string{b.backendsHeader(), b.backendsBigPart(), b.backendsSmallPart(), backendsNotes}
	for i, p := range parts {
		parts[i] = strings.TrimRight(p, "\n")
	}
	doc := strings.Join(parts, "\n\n") + "\n"
	out := b.cfg.outBackends
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(out, []byte(doc), 0o644); err != nil {
		return err
	}
	fmt.Println(doc)
	b.logf("wrote %s", out)
	return nil
}

// backendsPointer is the main report's section on the backends report.
func (b *bench) backendsPointer() string {
	c := b.cfg
	ran := "this run's backends section wrote it"
	if !c.on("backends") {
		ran = "BENCH_SKIP=backends left that section out of this run, so the file is from an earlier one"
	}
	return fmt.Sprintf(`## PostgreSQL + S3 next to SQLite + disk

The large-file download (portal and dest-url) and the small-file portal
download on a server using PostgreSQL and an S3 bucket (versitygw), next
to one on SQLite and the local disk, timed in the same run, alternating,
are in
[%s](%s) (%s). That section starts its own throw-away PostgreSQL and
versitygw and two fresh servers, and writes its own file, so that it can
run alone without touching this one.`,
		filepath.Base(c.outBackends), relLink(c.out, c.outBackends), ran)
}

// relLink is the path of to relative to the directory of from, for a
// Markdown link between the two reports.
func relLink(from, to string) string {
	abs := func(p string) string { a, _ := filepath.Abs(p); return a }
	if r, err := filepath.Rel(filepath.Dir(abs(from)), abs(to)); err == nil {
		return filepath.ToSlash(r)
	}
	return to
}

// backendKnobs is the settings line of the backends report.
func (c *config) backendKnobs() string {
	s := fmt.Sprintf("BENCH_SIZE_MIB=%d BENCH_RUNS=%d BENCH_SMALL_KIB=%d BENCH_WRK_RUNS=%d BENCH_WRK_THREADS=%d BENCH_WRK_CONNS=%d BENCH_WRK_SECONDS=%d",
		c.sizeMiB, c.runs, c.smallKiB, c.wrkRuns, c.wrkThreads, c.wrkConns, c.wrkSeconds)
	if c.skipList != "" {
		s += " BENCH_SKIP=" + c.skipList
	}
	if c.quick {
		s += " BENCH_QUICK=1"
	}
	return s
}

func (b *bench) backendsHeader() string {
	cpu, mem, sys, rev := machine()
	c, be, o := b.cfg, b.be, &b.be.opts
	only := strings.Join(slices.DeleteFunc(slices.Clone(sections), func(s string) bool { return s == "backends" }), ",")
	return fmt.Sprintf(`# Benchmarks: PostgreSQL + S3 next to SQLite + disk

Produced by the backends section of `+"`scripts/bench.sh` (`%s`)"+`;
`+"`BENCH_SKIP=%s scripts/bench.sh`"+` runs that section
alone and rewrites only this file. The other figures, on SQLite and the
disk only, are in [%s](%s).

- Date: %s
- Commit: %s
- System: %s
- CPU: %s, %d CPUs
- Memory: %s
- Go: go version %s %s/%s
- Filesystem of the data directories and of the S3 server's directory: %s
- Database: %s, a throw-away cluster on 127.0.0.1 as scripts/lib/services.sh starts it (`+"`fsync=off`, `synchronous_commit=off`"+`)
- S3: %s, its `+"`posix`"+` backend, plain HTTP on 127.0.0.1
- Load average (1, 5, 15 min) before the section: %s; after it: %s
- Load average (1 min) during it: %s
- The section (servers started, uploads, checks, timed runs): %.0f s

Two sesame servers, started fresh for this section from the same binary
with the same settings but the backend: one on the defaults, SQLite and
blobs on the local disk in its data directory; the other with
`+"`SESAME_DATABASE_URL`"+` naming a database of the PostgreSQL cluster (the
pool at its default, 10 connections) and `+"`SESAME_STORAGE_BACKEND=s3`"+` with a
bucket of the S3 server, and a key file from `+"`sesame keygen`"+`. Both got
the same requests in the same order: the large file uploaded once, a
download link to it with one password, one sign-in; then the small file,
a link to it, one sign-in. Every timed run alternates between the two, so
other work on the machine (shared, with %d CPUs) falls on both alike.`,
		c.backendKnobs(), only, filepath.Base(c.out), relLink(c.outBackends, c.out),
		time.Now().UTC().Format("Mon Jan _2 15:04:05 MST 2006"), rev, sys, cpu, nproc(), mem,
		runtime.Version(), runtime.GOOS, runtime.GOARCH, fsType(b.work), o.pgVersion, o.s3Version,
		be.loadBefore, be.loadAfter, be.loadDuring, time.Since(be.began).Seconds(), nproc())
}

// perRun is a sum over the runs of a method divided by their number.
func perRun(total float64, runs []float64) float64 {
	if len(runs) == 0 {
		return 0
	}
	return total / float64(len(runs))
}

// backendRow is a row of the large-file table.
func backendRow(label string, sd *side, method string, v []float64, vs float64) string {
	med, lo, hi := spread(v)
	sums := sd.cpu[method]
	db, s3 := "-", "-"
	if sd.db != nil {
		db, s3 = fmt.Sprintf("%.2f", perRun(sums.db, v)), fmt.Sprintf("%.2f", perRun(sums.s3, v))
	}
	return fmt.Sprintf("| %s, %s | %d | %.1f | %.1f | %.1f | **%s** | %.2f | %s | %s |\n",
		label, sd.name, len(v), med, lo, hi, ratio(med, vs), perRun(sums.sesame, v), db, s3)
}

func (b *bench) backendsBigPart() string {
	c, be := b.cfg, b.be
	lite, pg := be.sides[0], be.sides[1]
	pm, dm := median(lite.portal), median(lite.dest)
	var t strings.Builder
	fmt.Fprintf(&t, "## The %d MiB file\n\n", c.sizeMiB)
	fmt.Fprintf(&t, `One %d MiB file of random bytes, fetched by the HTTP client of
`+"`scripts/bench/load`"+` (Go's net/http) through the portal (`+"`GET /s/{token}/f/{id}`"+`,
signed in, cookie jar) and through a dest-url (asked for fresh with
`+"`/v1/get`"+` before each run, outside the timing), the reply discarded. MB/s is
MiB per second, %d divided by the time from sending the request until the
reply's last byte was read. %d rounds; each round takes the four
downloads in turn, starting one later each round. The bytes of each
method on each server were checked by sha256 once, outside the timed
runs. CPU time is utime + stime from /proc/PID/stat per download: of the
sesame server, of the PostgreSQL cluster's processes (the postmaster and
its children) and of the S3 server.

| GET the %d MiB file, reply discarded | runs | median MB/s | min MB/s | max MB/s | ÷ SQLite + disk (medians) | sesame CPU s per download | PostgreSQL CPU s per download | S3 server CPU s per download |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
`, c.sizeMiB, c.sizeMiB, c.runs, c.sizeMiB)
	t.WriteString(backendRow("portal", lite, "portal", lite.portal, pm))
	t.WriteString(backendRow("portal", pg, "portal", pg.portal, pm))
	t.WriteString(backendRow("dest-url", lite, "dest", lite.dest, dm))
	t.WriteString(backendRow("dest-url", pg, "dest", pg.dest, dm))
	fmt.Fprintf(&t, "\n- **Portal, PostgreSQL + S3 ÷ SQLite + disk: %s** (%.1f vs %.1f MB/s, medians; %s)\n",
		ratio(median(pg.portal), pm), median(pg.portal), pm, overlapNote(pg.portal, lite.portal))
	fmt.Fprintf(&t, "- dest-url, PostgreSQL + S3 ÷ SQLite + disk: %s (%.1f vs %.1f MB/s, medians; %s)\n",
		ratio(median(pg.dest), dm), median(pg.dest), dm, overlapNote(pg.dest, lite.dest))
	fmt.Fprintf(&t, "- sesame's peak RSS over these runs (VmHWM, reset before them): SQLite + disk %s MiB (at start %s), PostgreSQL + S3 %s MiB (at start %s)\n",
		lite.peak, lite.start, pg.peak, pg.start)
	fmt.Fprintf(&t, "- The upload before them, one `/v1/put` each (one run, not a median): SQLite + disk %.1f MB/s, PostgreSQL + S3 %.1f MB/s\n",
		lite.put, pg.put)
	fmt.Fprintf(&t, "- 1-minute load average when these runs began: %s, on %d CPUs\n", be.bigLoad, nproc())
	return t.String()
}

// backendWrkRow is a row of the small-file table.
func backendWrkRow(sd *side, vs float64) string {
	rps := wrkCol(sd.wrk, func(r wrkRun) float64 { return r.rps })
	med, lo, hi := spread(rps)
	db, s3 := "-", "-"
	if sd.db != nil {
		db, s3 = fmt.Sprintf("%.0f", helperUS(sd.wrk, sd.wrkDB)), fmt.Sprintf("%.0f", helperUS(sd.wrk, sd.wrkS3))
	}
	return fmt.Sprintf("| portal, %s | %d | %.0f | %.0f | %.0f | %.2f | %.2f | %.0f / %.0f / %.0f | %.2f / %.2f | %.0f | %s | %s | **%s** |\n",
		sd.name, len(sd.wrk), med, lo, hi,
		median(wrkCol(sd.wrk, func(r wrkRun) float64 { return r.p50 })),
		median(wrkCol(sd.wrk, func(r wrkRun) float64 { return r.p99 })),
		sum(wrkCol(sd.wrk, func(r wrkRun) float64 { return float64(r.tmo) })),
		sum(wrkCol(sd.wrk, func(r wrkRun) float64 { return float64(r.errs) })),
		sum(wrkCol(sd.wrk, func(r wrkRun) float64 { return float64(r.bad) })),
		median(wrkCol(sd.wrk, func(r wrkRun) float64 { return r.use.busy })),
		median(wrkCol(sd.wrk, func(r wrkRun) float64 { return r.use.wait })),
		usPerReq(sd.wrk), db, s3, ratio(med, vs))
}

// helperUS is the median over the wrk runs of another process group's CPU
// time per request, in µs.
func helperUS(runs []wrkRun, use []cpuUse) float64 {
	var us []float64
	for i, r := range runs {
		if r.rps > 0 {
			us = append(us, use[i].busy/r.rps*1e6)
		}
	}
	return median(us)
}

func (b *bench) backendsSmallPart() string {
	c, be := b.cfg, b.be
	lite, pg := be.sides[0], be.sides[1]
	lm := median(wrkCol(lite.wrk, func(r wrkRun) float64 { return r.rps }))
	pm := median(wrkCol(pg.wrk, func(r wrkRun) float64 { return r.rps }))
	var t strings.Builder
	fmt.Fprintf(&t, `## %d KiB portal downloads at %d connections

A %d KiB file of random bytes, uploaded with `+"`/v1/put`"+` to each server; a
download link to it with one password, signed into once; then
`+"`wrk -t%d -c%d -d%ds --timeout 10s --latency`"+` with that session's cookie on
every request (a download is not an access, so one session serves them
all), %d runs against each server, alternating. Every run's bytes read
per request were checked to be at least the file's size (a request
without a valid session would get a short redirect); the bytes
themselves were checked by sha256 once, with the same cookie. p50 and p99
are wrk's, the median over the runs. CPUs busy is sesame's CPU time during
a run divided by its length; waiting is the time its threads were
runnable but had no CPU (/proc/PID/task/*/schedstat), divided by the same.
CPU µs per request is CPU time ÷ requests: sesame's, the PostgreSQL
cluster's and the S3 server's.

| GET a %d KiB file, wrk -t%d -c%d -d%ds | runs | median req/s | min req/s | max req/s | p50 ms | p99 ms | timeouts / socket errors / non-2xx-3xx | sesame CPUs busy / waiting for a CPU | sesame CPU µs per request | PostgreSQL CPU µs per request | S3 server CPU µs per request | ÷ SQLite + disk (medians) |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
%s%s
- **Portal, PostgreSQL + S3 ÷ SQLite + disk, %d KiB requests per second: %s** (%.0f vs %.0f req/s, medians)
- 1-minute load average when these runs began: %s, on %d CPUs
`, c.smallKiB, c.wrkConns, c.smallKiB, c.wrkThreads, c.wrkConns, c.wrkSeconds, c.wrkRuns,
		c.smallKiB, c.wrkThreads, c.wrkConns, c.wrkSeconds, backendWrkRow(lite, lm), backendWrkRow(pg, lm),
		c.smallKiB, ratio(pm, lm), pm, lm, be.wrkLoad, nproc())
	return t.String()
}

const backendsNotes = `## What differs

- Large files. On the disk a blob is an open file, and net/http hands it
  to the kernel with sendfile(2): the bytes go from the page cache to the
  socket without passing through sesame. From S3 each download is an HTTP
  GET that sesame sends the S3 server over loopback (through minio-go;
  a Seek starts a new ranged GET): the S3 server sends the file to its
  socket, and sesame reads every byte from that socket into its own memory
  and writes it to the client's. That is a second loopback hop and two
  copies through sesame's user space per byte, which is where sesame's
  extra CPU time per download goes; on 2 CPUs shared with the client and
  the S3 server, that CPU time bounds the rate.
- Small files. Each portal download finds the link by its token and the
  session by its cookie, checks that the object is within the link, writes
  an audit event and opens the blob. On SQLite these are calls inside the
  process (writes on one connection, in WAL mode); on PostgreSQL each query
  is a round trip over TCP to a backend process, through a pool of 10
  connections, and each commit a round trip more. Opening the blob is an
  open(2) of a file on the disk, and on S3 an HTTP GET whose reply's
  headers sesame waits for before it can answer (and another GET when
  http.ServeContent's Seek moves the offset).
- Both servers run on this machine, on the same CPUs as sesame and the
  client: their CPU time is counted in the last columns, not in sesame's.
  In a deployment they run elsewhere, which takes their CPU off the
  replicas but adds the network's latency to every query and GET.
- The PostgreSQL cluster here is a throw-away one with ` + "`fsync=off`" + ` and
  ` + "`synchronous_commit=off`" + `: a commit does not wait for its WAL to reach
  the disk, as it would on a durable server (SQLite here runs with
  ` + "`synchronous=NORMAL`" + ` in WAL mode, which does not sync on commit either).
`
