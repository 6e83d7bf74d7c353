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

// results is every figure of the report.
type results struct {
	loadBefore, loadAfter, loadDuring string
	baseRSS, finalRSS, peak           string // server RSS, MiB
	transferPeak, rssSrc              string

	put, dest, multipart, portal, servefile, zipMBps []float64 // MB/s per run
	putPeak, destPeak, multipartPeak                 string
	portalPeak, portalStart, servefilePeak           string
	portalCPU, servefileCPU                          float64 // CPU s per download
	zip                                              zipInfo
	refRead, refWrite                                []float64

	nginx nginxResult
	small smallResult
	api   apiResult
}

// writeReport writes the Markdown report to BENCH_OUT and shows it.
func (b *bench) writeReport() error {
	parts := []string{b.header(), b.largeFiles(), b.nginxPart(), b.smallPart(), b.apiPart(), b.backendsPointer(), notes}
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
- Filesystem of the data directory: %s
- Load average (1, 5, 15 min) before the timed runs: %s; after them: %s
- Load average (1 min) during the runs: %s
- Whole run (build, files, uploads, checks, timed runs): %.0f s

The machine is shared with other work: a load average above its %d CPUs
means the server, its clients and nginx all waited for a CPU, and every
figure below is lower and noisier than on an idle machine. Competitors
were run alternately for that reason; compare ratios, not absolutes.`,
		b.cfg.knobs(), time.Now().UTC().Format("Mon Jan _2 15:04:05 MST 2006"), rev, sys, cpu, n, mem,
		runtime.Version(), runtime.GOOS, runtime.GOARCH, fsType(b.work), r.loadBefore, r.loadAfter, r.loadDuring,
		time.Since(b.start).Seconds(), n)
}

// row is a table row of MB/s runs: name, runs, median, min, max, peak;
// nothing when there were no runs.
func row(name, peak string, v []float64) string {
	if len(v) == 0 {
		return ""
	}
	med, lo, hi := spread(v)
	return fmt.Sprintf("| %s | %d | %.1f | %.1f | %.1f | %s |\n", name, len(v), med, lo, hi, peak)
}

func (b *bench) transferText() string {
	c, z := b.cfg, b.res.zip
	var t strings.Builder
	fmt.Fprintf(&t, "One %d MiB file of random bytes, sent to and fetched from a server on\n"+
		"127.0.0.1 by the HTTP client of `scripts/bench/load` (Go's net/http).\n"+
		"MB/s is MiB per second: %d divided by the time from sending the request\n"+
		"until the reply's last byte was read", c.sizeMiB, c.sizeMiB)
	if c.on("zip") {
		fmt.Fprintf(&t, " (for the ZIP: the ZIP's bytes, %d, divided\nby it)", z.bytes)
	}
	t.WriteString(".\nEvery PUT's sha256, as the server reports it, equals the local file's;\n" +
		"each download method's bytes were checked by sha256 once, outside the\ntimed runs")
	if c.on("dest") {
		t.WriteString(" (and one dest-url Range request)")
	}
	t.WriteString(".\n\nThe portal rows go through a share link as a recipient would: a download\nlink with one password " +
		"authenticator, signed into as a browser does (GET the\nlink, take the form's csrf, POST the password; the 303 " +
		"sets the session\ncookie in a cookie jar), then `GET /s/{token}/f/{id}`.")
	if c.on("servefile") {
		fmt.Fprintf(&t, " The reference is\n`http.ServeFile` in a minimal Go program (`scripts/bench/servefile`)\nserving "+
			"%s (same bytes, same page-cache pages). Portal and ServeFile\ndownloads alternate, run by run, so other "+
			"load hits both alike.", b.blobDesc)
	}
	if c.on("zip") {
		fmt.Fprintf(&t, "\n\nThe ZIP row: the %d MiB file split into %s parts of %d\nbytes (the last takes the remainder), "+
			"uploaded with `/v1/put` into one\nfolder, 2 at a time, in %.1f s; a download link to the folder;\n"+
			"`GET /s/{token}/zip`, which streams the archive as it builds it. The parts\nare random bytes with a binary "+
			"type, so the entries are stored, not\ndeflated, and the ZIP is as large as the data plus its headers.",
			c.sizeMiB, commas(int64(c.zipFiles)), z.partSize, z.uploadSecs)
	}
	return t.String()
}

func (b *bench) transferTable() string {
	r, c := &b.res, b.cfg
	var t strings.Builder
	t.WriteString("| operation | runs | median MB/s | min MB/s | max MB/s | server peak RSS during op (MiB) |\n")
	t.WriteString("|---|---:|---:|---:|---:|---:|\n")
	head := t.Len()
	if c.on("put") {
		t.WriteString(row("PUT /v1/put, multipart upload", r.putPeak, r.put))
	}
	t.WriteString(row("GET dest-url (/dl/…), reply discarded", r.destPeak, r.dest))
	t.WriteString(row("GET /v1/get multipart reply, discarded", r.multipartPeak, r.multipart))
	t.WriteString(row("GET portal /s/{token}/f/{id}, signed in (cookie jar), reply discarded",
		fmt.Sprintf("%s (at start %s)", r.portalPeak, r.portalStart), r.portal))
	t.WriteString(row("reference: same blob via http.ServeFile (scripts/bench/servefile), reply discarded",
		r.servefilePeak+" (its own)", r.servefile))
	t.WriteString(row(fmt.Sprintf("GET portal /s/{token}/zip, %s files in one folder, reply discarded", commas(int64(c.zipFiles))),
		fmt.Sprintf("%s (at start %s)", r.zip.peak, r.zip.start), r.zipMBps))
	if t.Len() == head {
		return fmt.Sprintf("(No large-file rows: BENCH_SKIP=%s left them all out.)\n", c.skipList)
	}
	return t.String()
}

func (b *bench) rssLines() string {
	r, c, z := &b.res, b.cfg, b.res.zip
	var t strings.Builder
	fmt.Fprintf(&t, "- Server peak RSS (VmHWM, whole run): **%s MiB**; over the transfer sections alone (before the sign-ins): %s MiB\n",
		r.peak, r.transferPeak)
	fmt.Fprintf(&t, "- Server baseline RSS (VmRSS once ready, before any transfer): %s MiB\n", r.baseRSS)
	fmt.Fprintf(&t, "- Server RSS after all runs: %s MiB\n", r.finalRSS)
	if c.on("servefile") {
		pm, sm := median(r.portal), median(r.servefile)
		fmt.Fprintf(&t, "- **Portal download / http.ServeFile (medians): %s** (%.1f vs %.1f MB/s; %s); CPU time per download: server %.2f s, servefile %.2f s\n",
			ratio(pm, sm), pm, sm, overlapNote(r.portal, r.servefile), r.portalCPU, r.servefileCPU)
	}
	if c.on("zip") {
		fmt.Fprintf(&t, "- **ZIP of %s files: server peak RSS %s MiB** (RSS when the runs began: %s MiB); server CPU time per ZIP %.2f s\n",
			commas(int64(c.zipFiles)), z.peak, z.start, z.cpu)
		fmt.Fprintf(&t, "- ZIP checked once: %d entries (%d files and %d folder entry, %d of the files stored uncompressed), %d bytes, every CRC and the files' concatenated sha256 right\n",
			z.entries, z.files, z.dirs, z.stored, z.bytes)
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
	pm, dm, nm := median(r.portal), median(r.dest), median(r.nginx)
	rp, rd := math.Round(pm/nm*100)/100, math.Round(dm/nm*100)/100
	return fmt.Sprintf(`## The %d MiB file: sesame against nginx

nginx %s (Debian's package) from a throw-away nginx.conf:
`+"`worker_processes %s` (%d workers), `sendfile on`, `tcp_nopush on`,\n`access_log off`"+`, listening on 127.0.0.1, its root a directory with a
symlink to %s, so all three read the same page-cache pages. nginx's
bytes were checked by sha256 once. %d rounds; each round downloads
the file once through each of the three, starting with a different one each
round, so that load from other work falls on all three alike. The dest-url
is fetched fresh (`+"`/v1/get`"+`, transfer_method dest-url) before each of its
runs, outside the timing. CPU time is the server's (or nginx's master and
workers') utime + stime over the download.

| GET the %d MiB file, reply discarded | runs | median MB/s | min MB/s | max MB/s | ÷ nginx (medians) | CPU s per download |
|---|---:|---:|---:|---:|---:|---:|
%s%s%s
- **Portal ÷ nginx: %.2f** (%.1f vs %.1f MB/s; %s): %s the 0.9× target
- **dest-url ÷ nginx: %.2f** (%.1f vs %.1f MB/s; %s): %s the 0.9× target
- 1-minute load average when these runs began: %s, on %d CPUs`,
		c.sizeMiB, r.version, c.nginxWorkers, r.workers, b.blobDesc, c.runsNginx, c.sizeMiB,
		nxrow("sesame portal /s/{token}/f/{id}, signed in", fmt.Sprintf("**%.2f**", rp), fmt.Sprintf("%.2f (sesame)", r.cpuPortal), r.portal),
		nxrow("sesame dest-url /dl/…", fmt.Sprintf("**%.2f**", rd), fmt.Sprintf("%.2f (sesame)", r.cpuDest), r.dest),
		nxrow("nginx "+r.version+", sendfile on, same blob", "1.00", fmt.Sprintf("%.2f (nginx)", r.cpuNginx), r.nginx),
		rp, pm, nm, overlapNote(r.portal, r.nginx), verdict(rp),
		rd, dm, nm, overlapNote(r.dest, r.nginx), verdict(rd), r.load, nproc())
}
