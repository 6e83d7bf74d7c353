package main

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// results is the figures of the whole run; each server's are in its
// sideResults.
type results struct {
	loadBefore, loadAfter, loadDuring string
	rssSrc                            string

	servefile         []float64 // MB/s per run
	servefilePeak     string
	servefileCPU      cpuSums
	refRead, refWrite []float64

	nginx nginxResult
	small smallResult
}

// sideResults is what was measured on one server.
type sideResults struct {
	baseRSS, finalRSS, peak, transferPeak string // RSS, MiB

	put, dest, multipart, portal     []float64 // MB/s per run
	putPeak, destPeak, multipartPeak string
	portalPeak, portalStart          string
	portalCPU                        cpuSums // the portal runs against servefile
	zip                              zipInfo
	big                              bigResult // the rounds against nginx

	wrk               map[string][]wrkRun // portal, static, dest
	wrkStart, wrkPeak string              // RSS when the portal wrk runs began and its peak over them

	api apiResult
}

// writeReport writes the Markdown report to BENCH_OUT and shows it.
func (b *bench) writeReport() error {
	parts := []string{b.header(), b.summaryPart(), b.largeFiles(), b.nginxPart(), b.smallPart(), b.apiPart(), b.backendsNotes(), notes}
	var kept []string
	for _, p := range parts {
		if p != "" {
			kept = append(kept, strings.TrimRight(p, "\n"))
		}
	}
	doc := strings.Join(kept, "\n\n") + "\n"
	if err := os.MkdirAll(filepath.Dir(b.cfg.out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(b.cfg.out, []byte(doc), 0o644); err != nil {
		return err
	}
	fmt.Println(doc)
	b.logf("wrote %s", b.cfg.out)
	return nil
}

// machine describes the machine: CPU model, memory, system and revision.
func machine() (cpu, mem, sys, rev string) {
	cpu, mem, sys, rev = "unknown", "unknown", "unknown", "unknown"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	if kib, ok := statusField("/proc/meminfo", "MemTotal"); ok {
		mem = fmt.Sprintf("%.1f GiB", float64(kib)/1048576)
	}
	if out, err := exec.Command("uname", "-srm").Output(); err == nil {
		sys = strings.TrimSpace(string(out))
	}
	if out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		rev = strings.TrimSpace(string(out))
		if st, err := exec.Command("git", "status", "--porcelain").Output(); err == nil && len(st) > 0 {
			rev += " (with uncommitted changes)"
		}
	}
	return cpu, mem, sys, rev
}

func (b *bench) header() string {
	cpu, mem, sys, rev := machine()
	r, n := &b.res, nproc()
	return fmt.Sprintf(`# Benchmarks

Produced by `+"`scripts/bench.sh` (`%s`)"+`; rerun it to refresh this file.

- Date: %s
- Commit: %s
- System: %s
- CPU: %s, %d CPUs
- Memory: %s
- Go: go version %s %s/%s
- Filesystem of the data directories%s: %s
%s- Load average (1, 5, 15 min) before the timed runs: %s; after them: %s
- Load average (1 min) during the runs: %s
- Whole run (build, files, uploads, checks, timed runs): %.0f s

The machine is shared with other work: a load average above its %d CPUs
means the servers, their clients and nginx all waited for a CPU, and every
figure below is lower and noisier than on an idle machine. Competitors
were run alternately for that reason; compare ratios, not absolutes.

%s`,
		b.cfg.knobs(), time.Now().UTC().Format("Mon Jan _2 15:04:05 MST 2006"), rev, sys, cpu, n, mem,
		runtime.Version(), runtime.GOOS, runtime.GOARCH, b.pgOr(" and of the S3 server's directory", ""), fsType(b.work),
		b.backendLines(), r.loadBefore, r.loadAfter, r.loadDuring, time.Since(b.start).Seconds(), n, b.serversText())
}

// pgOr is withPG when the PostgreSQL + S3 server ran, else without.
func (b *bench) pgOr(withPG, without string) string {
	if b.pg() != nil {
		return withPG
	}
	return without
}

// backendLines are the header's lines on PostgreSQL and the S3 server.
func (b *bench) backendLines() string {
	if b.pg() == nil {
		return ""
	}
	o := &b.opts
	return fmt.Sprintf("- Database of PostgreSQL + S3: %s, a throw-away cluster on 127.0.0.1 as scripts/lib/services.sh starts it "+
		"(`fsync=off`, `synchronous_commit=off`)\n- S3: %s, its `posix` backend, plain HTTP on 127.0.0.1\n", o.pgVersion, o.s3Version)
}

// serversText says which servers ran and how.
func (b *bench) serversText() string {
	if b.pg() == nil {
		return "One sesame server, on SQLite and blobs on the local disk in its data\n" +
			"directory (`BENCH_SKIP=backends` left out the PostgreSQL + S3 server)."
	}
	return `Two sesame servers from the same binary, with the same settings (the
run's ` + "`SESAME_*`" + ` variables) but the backend: **SQLite + disk** on the
defaults, SQLite and blobs on the local disk in its data directory;
**PostgreSQL + S3** with ` + "`SESAME_DATABASE_URL`" + ` naming a database of the
PostgreSQL cluster (the pool at its default, 10 connections) and
` + "`SESAME_STORAGE_BACKEND=s3`" + ` with a bucket of the S3 server, and a key file
from ` + "`sesame keygen`" + `. Both get the same requests in the same order,
section by section; where a section times runs, the runs alternate
between the servers (and nginx, or ServeFile), so that other work falls
on all alike. The PostgreSQL cluster and the S3 server run on the same
CPUs as sesame and the clients: their CPU time is counted apart from
sesame's, in columns of their own.`
}

// row is a table row of MB/s runs: name, server, runs, median, min, max,
// peak; nothing when there were no runs.
func row(name, server, peak string, v []float64) string {
	if len(v) == 0 {
		return ""
	}
	med, lo, hi := spread(v)
	return fmt.Sprintf("| %s | %s | %d | %.1f | %.1f | %.1f | %s |\n", name, server, len(v), med, lo, hi, peak)
}

func (b *bench) transferText() string {
	c := b.cfg
	var t strings.Builder
	fmt.Fprintf(&t, "One %d MiB file of random bytes, sent to and fetched from each server on\n"+
		"127.0.0.1 by the HTTP client of `scripts/bench/load` (Go's net/http).\n"+
		"MB/s is MiB per second: %d divided by the time from sending the request\n"+
		"until the reply's last byte was read", c.sizeMiB, c.sizeMiB)
	if c.on("zip") {
		t.WriteString(" (for the ZIP: the ZIP's bytes divided by it)")
	}
	t.WriteString(".\nEvery PUT's sha256, as the server reports it, equals the local file's;\n" +
		"each download method's bytes were checked by sha256 once on each server,\noutside the timed runs")
	if c.on("dest") {
		t.WriteString(" (and one dest-url Range request)")
	}
	t.WriteString(". Each operation's runs alternate between the servers.\n\nThe portal rows go through a share link as a " +
		"recipient would: a download\nlink with one password authenticator, signed into as a browser does (GET the\n" +
		"link, take the form's csrf, POST the password; the 303 sets the session\ncookie in a cookie jar), then `GET /s/{token}/f/{id}`.")
	if c.on("servefile") {
		fmt.Fprintf(&t, " The reference is\n`http.ServeFile` in a minimal Go program (`scripts/bench/servefile`)\nserving "+
			"%s (same bytes, same page-cache pages). Portal and ServeFile\ndownloads alternate, run by run, so other "+
			"load hits all alike.", b.blobDesc)
	}
	if c.on("zip") {
		z := b.lite().res.zip
		fmt.Fprintf(&t, "\n\nThe ZIP rows: the %d MiB file split into %s parts of %d\nbytes (the last takes the remainder), "+
			"uploaded with `/v1/put` into one\nfolder of each server, 2 at a time; a download link to the folder;\n"+
			"`GET /s/{token}/zip`, which streams the archive as it builds it. The parts\nare random bytes with a binary "+
			"type, so the entries are stored, not\ndeflated, and the ZIP is as large as the data plus its headers. Each "+
			"ZIP\ndownload is followed by one of the large file through the same server's\nportal: the single-file rate "+
			"the ZIP's is compared with.",
			c.sizeMiB, commas(int64(c.zipFiles)), z.partSize)
	}
	return t.String()
}

func (b *bench) transferTable() string {
	c := b.cfg
	var t strings.Builder
	t.WriteString("| operation | server | runs | median MB/s | min MB/s | max MB/s | server peak RSS during op (MiB) |\n")
	t.WriteString("|---|---|---:|---:|---:|---:|---:|\n")
	head := t.Len()
	each := func(name string, v func(r *sideResults) ([]float64, string)) {
		for _, sd := range b.sides {
			runs, peak := v(&sd.res)
			t.WriteString(row(name, sd.name, peak, runs))
		}
	}
	if c.on("put") {
		each("PUT /v1/put, multipart upload", func(r *sideResults) ([]float64, string) { return r.put, r.putPeak })
	}
	each("GET dest-url (/dl/…), reply discarded", func(r *sideResults) ([]float64, string) { return r.dest, r.destPeak })
	each("GET /v1/get multipart reply, discarded", func(r *sideResults) ([]float64, string) { return r.multipart, r.multipartPeak })
	each("GET portal /s/{token}/f/{id}, signed in (cookie jar), reply discarded", func(r *sideResults) ([]float64, string) {
		return r.portal, fmt.Sprintf("%s (at start %s)", r.portalPeak, r.portalStart)
	})
	t.WriteString(row("reference: same blob via http.ServeFile (scripts/bench/servefile), reply discarded", "-",
		b.res.servefilePeak+" (its own)", b.res.servefile))
	each(fmt.Sprintf("GET portal /s/{token}/zip, %s files in one folder, reply discarded", commas(int64(c.zipFiles))),
		func(r *sideResults) ([]float64, string) {
			return r.zip.rates, fmt.Sprintf("%s (at start %s)", r.zip.peak, r.zip.start)
		})
	if t.Len() == head {
		return fmt.Sprintf("(No large-file rows: BENCH_SKIP=%s left them all out.)\n", c.skipList)
	}
	return t.String()
}

// bySide joins one text per server: "SQLite + disk X, PostgreSQL + S3 Y".
func (b *bench) bySide(f func(sd *side) string) string {
	var parts []string
	for _, sd := range b.sides {
		parts = append(parts, sd.name+" "+f(sd))
	}
	return strings.Join(parts, "; ")
}

func (b *bench) rssLines() string {
	c := b.cfg
	var t strings.Builder
	fmt.Fprintf(&t, "- Server peak RSS (VmHWM, whole run): %s\n", b.bySide(func(sd *side) string {
		return fmt.Sprintf("**%s MiB** (over the transfer sections alone, before the sign-ins: %s MiB)", sd.res.peak, sd.res.transferPeak)
	}))
	fmt.Fprintf(&t, "- Server baseline RSS (VmRSS once ready, before any transfer): %s\n",
		b.bySide(func(sd *side) string { return sd.res.baseRSS + " MiB" }))
	fmt.Fprintf(&t, "- Server RSS after all runs: %s\n", b.bySide(func(sd *side) string { return sd.res.finalRSS + " MiB" }))
	if c.on("servefile") {
		sm := median(b.res.servefile)
		for _, sd := range b.sides {
			pm := median(sd.res.portal)
			fmt.Fprintf(&t, "- **Portal download / http.ServeFile (medians), %s: %s** (%.1f vs %.1f MB/s; %s); CPU s per download: %s; servefile %s\n",
				sd.name, ratio(pm, sm), pm, sm, overlapNote(sd.res.portal, b.res.servefile),
				sd.res.portalCPU.text("sesame"), b.res.servefileCPU.text("servefile"))
		}
	}
	if c.on("zip") {
		for _, sd := range b.sides {
			z := sd.res.zip
			zm, sm := median(z.rates), median(z.single)
			fmt.Fprintf(&t, "- **ZIP of %s files, %s: %.1f MB/s, %s× the large file through the same portal in the same rounds** (%.1f MB/s; %s); "+
				"server peak RSS %s MiB (RSS when the runs began: %s MiB); CPU s per ZIP: %s; the %s files uploaded in %.1f s\n",
				commas(int64(c.zipFiles)), sd.name, zm, ratio(zm, sm), sm, overlapNote(z.rates, z.single),
				z.peak, z.start, z.cpu.text("sesame"), commas(int64(c.zipFiles)), z.uploadSecs)
			fmt.Fprintf(&t, "- %s's ZIP checked once: %d entries (%d files and %d folder entry, %d of the files stored uncompressed), %d bytes, every CRC and the files' concatenated sha256 right\n",
				sd.name, z.entries, z.files, z.dirs, z.stored, z.bytes)
		}
	}
	return t.String()
}

func (b *bench) largeFiles() string {
	r := &b.res
	rr, rlo, rhi := spread(r.refRead)
	wr, wlo, whi := spread(r.refWrite)
	return fmt.Sprintf(`## Large files

%s

%s
%s
RSS is %s. The per-operation peak comes from resetting VmHWM
(`+"`echo 5 > /proc/PID/clear_refs`"+`) before each operation's runs; the reset
sets it to the RSS of that moment, so a peak is never below the RSS the
operation began with (shown as "at start" for the portal rows), which
includes heap the Go runtime has not yet handed back (a password sign-in
runs argon2id with 19 MiB). The ServeFile row's RSS is that program's own.
CPU time is utime + stime from /proc/PID/stat, per download.

| reference (no server) | runs | median MB/s | min MB/s | max MB/s |
|---|---:|---:|---:|---:|
| read the file, 1 MiB at a time (page cache) | %d | %.1f | %.1f | %.1f |
| write a copy to the same filesystem, 1 MiB at a time, then fsync | %d | %.1f | %.1f | %.1f |`,
		b.transferText(), b.transferTable(), b.rssLines(), r.rssSrc,
		len(r.refRead), rr, rlo, rhi, len(r.refWrite), wr, wlo, whi)
}

// nxrow is a row of the nginx table.
func nxrow(name, rt, cpu string, v []float64) string {
	med, lo, hi := spread(v)
	return fmt.Sprintf("| %s | %d | %.1f | %.1f | %.1f | %s | %s |\n", name, len(v), med, lo, hi, rt, cpu)
}

func (b *bench) nginxPart() string {
	if !b.cfg.on("nginx") {
		return ""
	}
	c, r := b.cfg, &b.res.nginx
	nm := median(r.nginx)
	var rows, lines strings.Builder
	for _, sd := range b.sides {
		big := &sd.res.big
		pm, dm := median(big.portal), median(big.dest)
		rp, rd := math.Round(pm/nm*100)/100, math.Round(dm/nm*100)/100
		rows.WriteString(nxrow("sesame portal /s/{token}/f/{id}, signed in, "+sd.name, fmt.Sprintf("**%.2f**", rp), big.cpuPortal.text("sesame"), big.portal))
		rows.WriteString(nxrow("sesame dest-url /dl/…, "+sd.name, fmt.Sprintf("**%.2f**", rd), big.cpuDest.text("sesame"), big.dest))
		goal := fmt.Sprintf("; the portal %s and the dest-url %s the 0.9× target", verdict(rp), verdict(rd))
		if lite := &b.lite().res.big; sd != b.lite() {
			goal = fmt.Sprintf("; ÷ SQLite + disk (medians): portal %s, dest-url %s",
				ratio(pm, median(lite.portal)), ratio(dm, median(lite.dest)))
		}
		fmt.Fprintf(&lines, "- **%s: portal ÷ nginx %.2f** (%.1f vs %.1f MB/s; %s), dest-url ÷ nginx %.2f (%.1f MB/s; %s)%s\n",
			sd.name, rp, pm, nm, overlapNote(big.portal, r.nginx), rd, dm, overlapNote(big.dest, r.nginx), goal)
	}
	rows.WriteString(nxrow("nginx "+r.version+", sendfile on, same blob as SQLite + disk", "1.00", r.cpu.text("nginx"), r.nginx))
	return fmt.Sprintf(`## The %d MiB file: sesame against nginx

nginx %s (Debian's package) from a throw-away nginx.conf:
`+"`worker_processes %s` (%d workers), `sendfile on`, `tcp_nopush on`,\n`access_log off`"+`, listening on 127.0.0.1, its root a directory with a
symlink to %s, so that it and that server read the same page-cache pages.
nginx's bytes were checked by sha256 once. %d rounds; each round
downloads the file once through nginx and through the portal and a
dest-url of each server, starting with a different one each round, so
that load from other work falls on all alike. The dest-url is fetched
fresh (`+"`/v1/get`"+`, transfer_method dest-url) before each of its runs,
outside the timing. CPU time is utime + stime over the download: of
sesame (or nginx's master and workers) and, for PostgreSQL + S3, of the
PostgreSQL cluster's processes (the postmaster and its children) and of
the S3 server.

| GET the %d MiB file, reply discarded | runs | median MB/s | min MB/s | max MB/s | ÷ nginx (medians) | CPU s per download |
|---|---:|---:|---:|---:|---:|---:|
%s
%s- 1-minute load average when these runs began: %s, on %d CPUs`,
		c.sizeMiB, r.version, c.nginxWorkers, r.workers, b.blobDesc, c.runsNginx, c.sizeMiB,
		rows.String(), lines.String(), r.load, nproc())
}
