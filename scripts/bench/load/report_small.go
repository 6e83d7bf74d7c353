package main

import (
	"fmt"
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

// rpsOf is the median requests per second of some wrk runs.
func rpsOf(runs []wrkRun) float64 {
	return median(wrkCol(runs, func(r wrkRun) float64 { return r.rps }))
}

// perReqUS is the median over the runs of a CPU time per request, in µs:
// less bent by the machine's other work than requests per second.
func perReqUS(runs []wrkRun, use func(groupUse) cpuUse) float64 {
	var v []float64
	for _, r := range runs {
		if r.rps > 0 {
			v = append(v, use(r.use).busy/r.rps*1e6)
		}
	}
	return median(v)
}

// usPerReq is the server's own (sesame's or nginx's) CPU µs per request.
func usPerReq(runs []wrkRun) float64 {
	return perReqUS(runs, func(u groupUse) cpuUse { return u.main })
}

// helperUS is the CPU µs per request of the PostgreSQL cluster and the S3
// server, "-" when the runs had none.
func helperUS(runs []wrkRun) string {
	if len(runs) == 0 || !runs[0].use.helpers {
		return "-"
	}
	return fmt.Sprintf("%.0f / %.0f", perReqUS(runs, func(u groupUse) cpuUse { return u.db }),
		perReqUS(runs, func(u groupUse) cpuUse { return u.s3 }))
}

// wrow is a row of the wrk table: medians over the runs of req/s, p50 and
// p99, the sums of failures, the CPUs kept busy and the ratio to nginx;
// nothing when there were no runs.
func wrow(label string, runs []wrkRun, nginxMed float64) string {
	if len(runs) == 0 {
		return ""
	}
	rps := wrkCol(runs, func(r wrkRun) float64 { return r.rps })
	med, lo, hi := spread(rps)
	vs := "-"
	if nginxMed > 0 {
		vs = fmt.Sprintf("%.3f", med/nginxMed)
	}
	return fmt.Sprintf("| %s | %d | %.0f | %.0f | %.0f | %.2f | %.2f | %.0f / %.0f / %.0f | %.2f / %.2f | %.0f | %s | %s |\n",
		label, len(runs), med, lo, hi,
		median(wrkCol(runs, func(r wrkRun) float64 { return r.p50 })),
		median(wrkCol(runs, func(r wrkRun) float64 { return r.p99 })),
		sum(wrkCol(runs, func(r wrkRun) float64 { return float64(r.tmo) })),
		sum(wrkCol(runs, func(r wrkRun) float64 { return float64(r.errs) })),
		sum(wrkCol(runs, func(r wrkRun) float64 { return float64(r.bad) })),
		median(wrkCol(runs, func(r wrkRun) float64 { return r.use.main.busy })),
		median(wrkCol(runs, func(r wrkRun) float64 { return r.use.main.wait })),
		usPerReq(runs), helperUS(runs), vs)
}

func (b *bench) smallTable() string {
	c := b.cfg
	nm := rpsOf(b.res.small.nginx)
	var t strings.Builder
	fmt.Fprintf(&t, "| GET a %d KiB file, wrk -t%d -c%d -d%ds | runs | median req/s | min req/s | max req/s | p50 ms | p99 ms "+
		"| timeouts / socket errors / non-2xx-3xx | CPUs busy / waiting for a CPU | CPU µs per request "+
		"| PostgreSQL / S3 server CPU µs per request | ÷ nginx (medians) |\n"+
		"|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n", c.smallKiB, c.wrkThreads, c.wrkConns, c.wrkSeconds)
	for _, sd := range b.sides {
		t.WriteString(wrow("sesame portal /s/{token}/f/{id}, session cookie, "+sd.name, sd.res.wrk["portal"], nm))
	}
	t.WriteString(wrow("nginx "+b.res.nginx.version+", same blob as SQLite + disk", b.res.small.nginx, nm))
	for _, sd := range b.sides {
		t.WriteString(wrow("diagnostic: sesame GET /static/portal.css (no database), "+sd.name, sd.res.wrk["static"], nm))
	}
	for _, sd := range b.sides {
		t.WriteString(wrow("diagnostic: sesame dest-url of the same file (database reads only), "+sd.name, sd.res.wrk["dest"], nm))
	}
	return t.String()
}

func (b *bench) smallLines() string {
	c, ng := b.cfg, b.res.small.nginx
	nm, nu := rpsOf(ng), usPerReq(ng)
	var t strings.Builder
	for _, sd := range b.sides {
		rows := sd.res.wrk
		portal := rows["portal"]
		pm, pu := rpsOf(portal), usPerReq(portal)
		times := "n/a"
		if nu > 0 {
			times = fmt.Sprintf("%.0f×", pu/nu)
		}
		vsLite := ""
		if sd != b.lite() {
			vsLite = "; ÷ SQLite + disk " + ratio3(pm, rpsOf(b.lite().res.wrk["portal"]))
		}
		fmt.Fprintf(&t, "- **%s: portal ÷ nginx, %d KiB requests per second: %s** (%.0f vs %.0f req/s, medians%s)\n",
			sd.name, c.smallKiB, ratio3(pm, nm), pm, nm, vsLite)
		fmt.Fprintf(&t, "- %s: CPU time per request: portal %.0f µs, nginx %.0f µs (%s); on the same server, /static/portal.css "+
			"(HTTP stack and log line) %.0f µs and the dest-url (plus database reads) %.0f µs%s\n",
			sd.name, pu, nu, times, usPerReq(rows["static"]), usPerReq(rows["dest"]), helperNote(portal))
		use := cpuUse{busy: median(wrkCol(portal, func(r wrkRun) float64 { return r.use.main.busy })),
			wait: median(wrkCol(portal, func(r wrkRun) float64 { return r.use.main.wait }))}
		fmt.Fprintf(&t, "- %s: %s\n", sd.name, cpuNote(use, "the portal runs"))
		fmt.Fprintf(&t, "- %s: server peak RSS over its portal runs (VmHWM, reset before them): **%s MiB** (RSS when they began: %s MiB)\n",
			sd.name, sd.res.wrkPeak, sd.res.wrkStart)
	}
	fmt.Fprintf(&t, "- nginx's workers' peak RSS (the largest VmHWM of a worker, after the runs): %s MiB\n", b.res.nginx.workerPeak)
	fmt.Fprintf(&t, "- 1-minute load average when these runs began: %s, on %d CPUs", b.res.small.load, nproc())
	return t.String()
}

// helperNote is what the PostgreSQL cluster and the S3 server spent per
// portal request, for the lines under the wrk table.
func helperNote(portal []wrkRun) string {
	if len(portal) == 0 || !portal[0].use.helpers {
		return ""
	}
	return fmt.Sprintf("; besides sesame's, per portal request, the PostgreSQL cluster %.0f µs and the S3 server %.0f µs",
		perReqUS(portal, func(u groupUse) cpuUse { return u.db }), perReqUS(portal, func(u groupUse) cpuUse { return u.s3 }))
}

// ratio3 is a/b with three decimals, "n/a" when b is not positive.
func ratio3(a, b float64) string {
	if b <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.3f", a/b)
}

func (b *bench) smallPart() string {
	if !b.cfg.on("small") {
		return ""
	}
	c, n := b.cfg, nproc()
	return fmt.Sprintf(`## %d KiB downloads at %d connections: sesame against nginx

A %d KiB file of random bytes, uploaded with `+"`/v1/put`"+` to each server; a
download link to it with one password, signed into once; then
`+"`wrk -t%d -c%d -d%ds --timeout 10s --latency`"+` with that session's cookie
(`+"`-H 'Cookie: sesame_s_…=…'`"+`) on every request: a download is not an
access, so one session serves them all. nginx (the same instance as above)
serves %s through a symlink. nginx and the portals take turns,
%d runs each. Every run's bytes read per request were checked to be at
least the file's size (a request without a valid session would get a short
redirect); the bytes themselves were checked by sha256 once, with the same
cookie. wrk's timeout is raised from 2 s to 10 s, so that slow replies count
in the latencies instead of being dropped; timeouts are still counted.
p50 and p99 are wrk's, the median over the runs. wrk runs on the same
%d CPUs. CPUs busy is the server's (sesame's or nginx's) CPU time during
the run divided by its length; waiting for a CPU is the time its threads
were runnable but had no CPU (the run queue, summed over its threads from
/proc/PID/task/*/schedstat), divided by the same. When the two add up to
the CPU count or more, the server was short of CPU (on a shared machine,
mostly to other work); when they add up to much less, its requests were
blocked on something else. CPU µs per request (CPU time ÷ requests) is
the figure the machine's load bends least; for PostgreSQL + S3, the
PostgreSQL cluster's and the S3 server's are in a column of their own.

Two diagnostic rows per server, one run each, tell the parts of a portal
request apart: `+"`GET /static/portal.css`"+` goes through the same HTTP stack,
router and request log line, with no database; the dest-url of the same
file reads the database (the grant, the object) and sends the blob, with
no write. A portal download also finds the link by its token and the
session by its cookie, checks the object is within the link, and writes
an audit event; nginx has none of that and writes no access log.

%s
%s`, c.smallKiB, c.wrkConns, c.smallKiB, c.wrkThreads, c.wrkConns, c.wrkSeconds, b.res.small.src, c.wrkRuns, n,
		b.smallTable(), b.smallLines())
}
