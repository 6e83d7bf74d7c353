package main

import (
	"cmp"
	"fmt"
	"os"
	"strings"
)

// wrkCol is one figure of every run of a wrk row.
func wrkCol(runs []wrkRun, f func(wrkRun) float64) []float64 {
	v := make([]float64, len(runs))
	for i, r := range runs {
		v[i] = f(r)
	}
	return v
}

// usPerReq is the median over the runs of CPU time per request, in µs:
// less bent by the machine's other work than requests per second.
func usPerReq(runs []wrkRun) float64 {
	var v []float64
	for _, r := range runs {
		if r.rps > 0 {
			v = append(v, r.use.busy/r.rps*1e6)
		}
	}
	return median(v)
}

// wrow is a row of the wrk table: medians over the runs of req/s, p50 and
// p99, the sums of failures, the CPUs kept busy and the ratio to nginx.
func wrow(label string, runs []wrkRun, nginxMed float64) string {
	rps := wrkCol(runs, func(r wrkRun) float64 { return r.rps })
	med, lo, hi := spread(rps)
	vs := "-"
	if nginxMed > 0 {
		vs = fmt.Sprintf("%.3f", med/nginxMed)
	}
	return fmt.Sprintf("| %s | %d | %.0f | %.0f | %.0f | %.2f | %.2f | %.0f / %.0f / %.0f | %.2f / %.2f | %.0f | %s |\n",
		label, len(runs), med, lo, hi,
		median(wrkCol(runs, func(r wrkRun) float64 { return r.p50 })),
		median(wrkCol(runs, func(r wrkRun) float64 { return r.p99 })),
		sum(wrkCol(runs, func(r wrkRun) float64 { return float64(r.tmo) })),
		sum(wrkCol(runs, func(r wrkRun) float64 { return float64(r.errs) })),
		sum(wrkCol(runs, func(r wrkRun) float64 { return float64(r.bad) })),
		median(wrkCol(runs, func(r wrkRun) float64 { return r.use.busy })),
		median(wrkCol(runs, func(r wrkRun) float64 { return r.use.wait })),
		usPerReq(runs), vs)
}

func (b *bench) smallTable() string {
	c, s := b.cfg, &b.res.small
	nm := median(wrkCol(s.rows["nginx"], func(r wrkRun) float64 { return r.rps }))
	return fmt.Sprintf("| GET a %d KiB file, wrk -t%d -c%d -d%ds | runs | median req/s | min req/s | max req/s | p50 ms | p99 ms "+
		"| timeouts / socket errors / non-2xx-3xx | CPUs busy / waiting for a CPU | CPU µs per request | ÷ nginx (medians) |\n"+
		"|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n%s%s%s%s",
		c.smallKiB, c.wrkThreads, c.wrkConns, c.wrkSeconds,
		wrow("sesame portal /s/{token}/f/{id}, session cookie", s.rows["portal"], nm),
		wrow("nginx "+b.res.nginx.version+", same blob", s.rows["nginx"], nm),
		wrow("diagnostic: sesame GET /static/portal.css (no database)", s.rows["static"], nm),
		wrow("diagnostic: sesame dest-url of the same file (database reads only)", s.rows["dest"], nm))
}

func (b *bench) smallLines() string {
	c, s := b.cfg, &b.res.small
	portal, ng := s.rows["portal"], s.rows["nginx"]
	pm := median(wrkCol(portal, func(r wrkRun) float64 { return r.rps }))
	nm := median(wrkCol(ng, func(r wrkRun) float64 { return r.rps }))
	pu, nu := usPerReq(portal), usPerReq(ng)
	times := "n/a"
	if nu > 0 {
		times = fmt.Sprintf("%.0f×", pu/nu)
	}
	use := cpuUse{busy: median(wrkCol(portal, func(r wrkRun) float64 { return r.use.busy })),
		wait: median(wrkCol(portal, func(r wrkRun) float64 { return r.use.wait }))}
	return fmt.Sprintf(`- **Portal ÷ nginx, %d KiB requests per second: %.3f** (%.0f vs %.0f req/s, medians)
- CPU time per request: portal %.0f µs, nginx %.0f µs (%s); on the same server, /static/portal.css (HTTP stack and log line) %.0f µs and the dest-url (plus SQLite reads) %.0f µs
- %s
- 1-minute load average when these runs began: %s, on %d CPUs`,
		c.smallKiB, pm/nm, pm, nm, pu, nu, times, usPerReq(s.rows["static"]), usPerReq(s.rows["dest"]),
		cpuNote(use, "the portal runs"), s.load, nproc())
}

func (b *bench) smallPart() string {
	if !b.cfg.on("small") {
		return ""
	}
	c, n := b.cfg, nproc()
	return fmt.Sprintf(`## %d KiB downloads at %d connections: sesame against nginx

A %d KiB file of random bytes, uploaded with `+"`/v1/put`"+`; a download
link to it with one password, signed into once; then
`+"`wrk -t%d -c%d -d%ds --timeout 10s --latency`"+` with that session's cookie
(`+"`-H 'Cookie: sesame_s_…=…'`"+`) on every request: a download is not an
access, so one session serves them all. nginx (the same instance as above)
serves %s through a symlink. Portal and nginx runs alternate,
%d each. Every run's bytes read per request were checked to be at
least the file's size (a request without a valid session would get a short
redirect); the bytes themselves were checked by sha256 once, with the same
cookie. wrk's timeout is raised from 2 s to 10 s, so that slow replies count
in the latencies instead of being dropped; timeouts are still counted.
p50 and p99 are wrk's, the median over the runs. wrk runs on the same
%d CPUs. CPUs busy is the server's (or nginx's) CPU time during the run
divided by its length; waiting for a CPU is the time its threads were
runnable but had no CPU (the run queue, summed over its threads from
/proc/PID/task/*/schedstat), divided by the same. When the two add up to
the CPU count or more, the server was short of CPU (on a shared machine,
mostly to other work); when they add up to much less, its requests were
blocked on something else. CPU µs per request (CPU time ÷ requests) is
the figure the machine's load bends least.

Two diagnostic rows, one run each, tell the parts of a portal request apart:
`+"`GET /static/portal.css`"+` goes through the same HTTP stack, router and
request log line, with no database; the dest-url of the same file reads
SQLite (the grant, the object) and sends the blob, with no write. A portal
download also finds the link by its token and the session by its cookie,
checks the object is within the link, and writes an audit event in its own
SQLite transaction; nginx has none of that and writes no access log.

%s
%s`, c.smallKiB, c.wrkConns, c.smallKiB, c.wrkThreads, c.wrkConns, c.wrkSeconds, b.res.small.src, c.wrkRuns, n,
		b.smallTable(), b.smallLines())
}

// loadRow is a row of the API table; without a CPU measure, "-" columns.
func loadRow(label string, d *result, u cpuUse, peak string) string {
	cpus, per := "-", "-"
	if u.measured && d.Seconds > 0 {
		cpus = fmt.Sprintf("%.2f / %.2f", u.busy, u.wait)
		if d.PerSec > 0 {
			per = fmt.Sprintf("%.1f", u.busy/d.PerSec*1000)
		}
	}
	return fmt.Sprintf("| %s | %d | %.0f | %.1f | **%.1f** | %.1f | %.1f | %.1f | %d | %s | %s | %s |\n",
		label, d.N, d.Extra["concurrency"], d.Seconds, d.PerSec, d.P50, d.P99, d.Max, d.Errors, cpus, per, peak)
}

func (b *bench) apiTable() string {
	c, r := b.cfg, &b.res.api
	var t strings.Builder
	t.WriteString("| operation | done | clients | seconds | per second | p50 ms | p99 ms | max ms | errors | server CPUs busy / waiting for a CPU | server CPU ms per op | server peak RSS (MiB) |\n")
	t.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	if c.on("links") {
		t.WriteString(loadRow("POST /v1/share/link/create, 1 email_otp link per call", r.create, r.createUse, "-"))
	}
	if c.on("signin") {
		t.WriteString(loadRow(fmt.Sprintf("password sign-in (GET page, POST password → 303 + session cookie), for %d s", c.signinSeconds),
			r.pw, r.pwUse, r.pwPeak))
		t.WriteString(loadRow("code sign-in (GET page, POST code/send, code from the log, POST code/verify), 1 per link",
			r.code, r.codeUse, r.codePeak))
		t.WriteString(loadRow(fmt.Sprintf("%d password sign-ins posted at once (after %d page GETs)", c.burst, c.burst),
			r.burst, cpuUse{}, fmt.Sprintf("**%s** (at start %s)", r.burstPeak, r.burstStart)))
	}
	return t.String()
}

func (b *bench) apiLines() string {
	c, r := b.cfg, &b.res.api
	var t strings.Builder
	fmt.Fprintf(&t, "- 1-minute load average when these sections began: %s (links), %s (sign-ins), on %d CPUs\n",
		orNotRun(r.linksLoad), orNotRun(r.signinLoad), nproc())
	if c.on("links") {
		fmt.Fprintf(&t, "- %s\n", cpuNote(r.createUse, "the link creates"))
	}
	if c.on("signin") {
		fmt.Fprintf(&t, "- %s\n- %s\n", cpuNote(r.pwUse, "the password sign-ins"), cpuNote(r.codeUse, "the code sign-ins"))
		fmt.Fprintf(&t, "- Code sign-ins: from the POST of code/send until the code was in the server log, p50 %.1f ms, p99 %.1f ms\n",
			r.code.Extra["deliver_p50_ms"], r.code.Extra["deliver_p99_ms"])
		fmt.Fprintf(&t, "- The password link's access count after the sign-ins: %d (max_access_count %d)\n", r.pwAccess, r.pwMax)
	}
	return t.String()
}

func orNotRun(load string) string {
	if load == "" {
		return "not run"
	}
	return load
}

func (b *bench) apiPart() string {
	c := b.cfg
	if !c.on("links") && !c.on("signin") {
		return ""
	}
	var t strings.Builder
	fmt.Fprintf(&t, `## Share links and sign-ins through HTTP

`+"`scripts/bench/load`"+`, a Go program (standard library only), is the client:
it keeps its connections alive, and each sign-in is a new visitor with its
own cookie jar (the pre-session cookie the sign-in page sets, then the
session cookie), who does not follow the final redirect. Latencies are per
operation (per link create, per whole sign-in). The server runs with
`+"`SESAME_LINKS_MAX_ACCESS_COUNT=1000000`"+` so that one link can take every
password sign-in (each counts as an access); otherwise its default
configuration (`+"`notify.email: log`"+`, log level info). The CPU columns are
as in the wrk table: the server's CPU time over the run and its threads'
time waiting for a CPU, each divided by the run's length, and the CPU time
per operation.

%s
%s`, b.apiTable(), b.apiLines())
	if c.on("links") {
		t.WriteString("\n" + b.listPart())
	}
	if c.on("signin") {
		t.WriteString("\n" + b.signinText())
	}
	return t.String()
}

// million points to the 1,000,000-link list benchmark, if there is one.
func million() string {
	data, _ := os.ReadFile("docs/benchmarks-links.md")
	last := ""
	for line := range strings.Lines(string(data)) {
		if strings.HasPrefix(line, "## 1,000,000 links") {
			last = strings.TrimSpace(strings.TrimPrefix(line, "## "))
		}
	}
	if last == "" {
		return "`scripts/bench-links.sh` measures that (docs/benchmarks-links.md has no 1,000,000-link section yet)"
	}
	return fmt.Sprintf("see [benchmarks-links.md](benchmarks-links.md), section %q, made by `scripts/bench-links.sh` "+
		"(the store's FindLinks and CreateLinks, no HTTP)", last)
}

var listNames = map[string]string{
	"tags":      "tags all-of [one of 20 tags] (≈1/20 of the links)",
	"target_id": "target_id = the big file (every link made here)",
}

func (b *bench) listPart() string {
	c, r := b.cfg, &b.res.api
	var t strings.Builder
	fmt.Fprintf(&t, `share/link/create: %s links, one per `+"`POST /v1/share/link/create`"+`
(one download link to the big file, one email_otp authenticator with its own
address, so no password hashing, one of 20 tags), by %d clients. Each
create also writes its audit event. share/link/list then runs over the
%s links the server holds (these and the few made by the other
sections): %d calls per filter, one at a time, through HTTP (JSON
encoding and the envelope included). For list latency over 1,000,000
links, %s; this run does not build a million links.

| share/link/list, size 100, one client, filter | calls | p50 ms | p99 ms | max ms | mean count | mean rows |
|---|---:|---:|---:|---:|---:|---:|
`, commas(int64(c.createLinks)), c.createConc, commas(int64(r.linksTotal)), c.listCalls, million())
	for _, s := range r.list.Shapes {
		fmt.Fprintf(&t, "| %s | %d | %.2f | **%.2f** | %.2f | %.0f | %.0f |\n",
			cmp.Or(listNames[s.Name], s.Name), s.N, s.P50, s.P99, s.Max, s.MeanCount, s.MeanRows)
	}
	return t.String()
}

func (b *bench) signinText() string {
	c := b.cfg
	return fmt.Sprintf(`Password sign-ins: one download link with one password authenticator
(argon2id, 19 MiB, 2 passes, 1 lane; the server runs at most GOMAXPROCS
hashes at once and queues the rest), %d visitors signing in over and
over for %d s. Code sign-ins: an email code may be sent to one
authenticator once a minute and five times an hour, so one authenticator
cannot be signed into quickly again and again; instead %s links, each with
its own email_otp authenticator and address, are signed into once each by
%d visitors. With `+"`notify.email: log`"+` the server writes each
email to its log; the client follows the log file and takes the code from
the line with the visitor's address (`+"`to=…`, `text=\"…code is NNNNNN…\"`"+`).
The time from the POST of code/send until the code is in the log (the
outbox worker delivering it) is part of each code sign-in. The burst:
%d visitors fetch the sign-in page one after another, then all %d POST
the password at the same moment; the server's VmHWM was reset just before
(RSS then: %s MiB).
`, c.signinConc, c.signinSeconds, commas(int64(c.codeSignins)), c.signinConc, c.burst, c.burst, b.res.api.burstStart)
}

const notes = `## Notes

- The machine has enough memory that the uploaded blob is still in the page
  cache when it is downloaded, so the GET rows measure the server's copying,
  not the disk; compare them with the page-cache read above.
- A PUT streams the file to a staging file, hashing every byte on the way
  (md5, sha1, sha256, sha512 and crc32c), fsyncs it and renames it into
  place; compare it with the write row. With few CPUs it is bound by CPU
  (the hashes, and the kernel's copy into the page cache), not by the disk.
- The portal and dest-url downloads hand the blob's file to net/http,
  which sends it with sendfile(2), as http.ServeFile and nginx do; what the
  portal adds per request (link and session lookups in SQLite, the audit
  event) is fixed, so for a large file the ratio says how much of the
  copying the wrapper costs, and for a small file how much the fixed part
  weighs.
- The ZIP cannot use sendfile: every byte goes through archive/zip's CRC-32
  and gin's buffered writer, and each of its files is opened separately.
- The load client and wrk run on the same machine and take CPU too; with
  few CPUs the client and the server compete, and the loopback copy is the
  ceiling.
- The server writes one log line per request (its default, log level
  info); nginx here writes no access log.
`
