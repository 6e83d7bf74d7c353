package main

import (
	"cmp"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The targets of the summary, for SQLite + disk: ratios to nginx in the
// same run, creates per second, list p99 (ms, on both databases), the
// ZIP's rate as a share of the single-file rate, RSS (MiB) idle, during
// the 10 KiB load and at the sign-in burst's peak, and sign-ins per second.
const (
	goalPortal, goalDest, goalStatic = 0.25, 0.30, 0.35
	goalCreates                      = 6000
	goalListP99                      = 10
	goalZip                          = 0.8
	goalIdle, goalLoad, goalBurst    = 30, 64, 128
	goalSignins                      = 50
)

// summaryRow is a row of the summary table; lite and pg are the figures
// of the two servers, met says whether SQLite + disk meets the target.
type summaryRow struct {
	figure, lite, pg, peer, target, met string
}

// figure is one server's cell of a summary row and whether it meets the
// row's target (why not, when there is more to say than no); ran is false
// when its section did not run.
type figure struct {
	text, why string
	ok, ran   bool
}

var notRun = figure{text: "not run"}

// yesNo is whether a figure meets its target: yes, no or not run.
func yesNo(f figure) string {
	switch {
	case !f.ran:
		return "not run"
	case f.ok:
		return "yes"
	}
	return "no"
}

// metText is the met? column: the SQLite + disk figure against the
// target, a miss in bold, with what missed when the figure says.
func metText(f figure) string {
	switch m := yesNo(f); {
	case m != "no":
		return m
	case f.why != "":
		return "**no** (" + f.why + ")"
	}
	return "**no**"
}

// cell is a side's figure for the table, "not run" for a server that did
// not run at all.
func (b *bench) cell(sd *side, f func(sd *side) figure) figure {
	if sd == nil {
		return figure{text: "not run (`BENCH_SKIP=backends`)"}
	}
	return f(sd)
}

// summaryRows are the rows of the summary: each figure of the targets,
// on both servers, beside nginx or a peer measured in the same run.
func (b *bench) summaryRows() []summaryRow {
	rows := b.wrkSummary()
	return append(rows, b.createSummary(), b.listSummary(), b.zipSummary(), b.rssSummary(), b.signinSummary())
}

// goalRow builds a summary row from the figure of each server.
func (b *bench) goalRow(name, peer, target string, f func(sd *side) figure) summaryRow {
	lite := b.cell(b.lite(), f)
	return summaryRow{figure: name, lite: lite.text, pg: b.cell(b.pg(), f).text, peer: cmp.Or(peer, "-"), target: target, met: metText(lite)}
}

// wrkSummary is the rows of the wrk runs: the portal, the dest-url and
// /static/portal.css, each as a share of nginx's requests per second.
func (b *bench) wrkSummary() []summaryRow {
	c := b.cfg
	ng := b.res.small.nginx
	nm := rpsOf(ng)
	peer := "not run"
	if len(ng) > 0 {
		peer = fmt.Sprintf("nginx %s req/s, %s µs", round(nm), round(usPerReq(ng)))
	}
	one := func(row string, goal float64) func(sd *side) figure {
		return func(sd *side) figure {
			runs := sd.res.wrk[row]
			if !c.on("small") || len(runs) == 0 || nm <= 0 {
				return notRun
			}
			r := rpsOf(runs) / nm
			text := fmt.Sprintf("%s req/s, **%.3f× nginx**, %s µs CPU per request", round(rpsOf(runs)), r, round(usPerReq(runs)))
			if h := helperUS(runs); h != "-" {
				text += fmt.Sprintf(" (PostgreSQL / S3 server: %s µs)", h)
			}
			return figure{text: text, ok: r >= goal, ran: true}
		}
	}
	return []summaryRow{
		b.goalRow(fmt.Sprintf("%d KiB portal download with a session cookie, `wrk -t%d -c%d`", c.smallKiB, c.wrkThreads, c.wrkConns),
			peer, fmt.Sprintf("**≥ %.2f× nginx in the same run** (≤ 90 µs CPU per request)", goalPortal), one("portal", goalPortal)),
		b.goalRow(fmt.Sprintf("%d KiB dest-url download", c.smallKiB), peer, fmt.Sprintf("≥ %.2f× nginx", goalDest), one("dest", goalDest)),
		b.goalRow("`/static/portal.css` (the HTTP stack alone)", peer, fmt.Sprintf("keep ≥ %.2f× nginx", goalStatic), one("static", goalStatic)),
	}
}

// perCreate is a group's CPU time per operation at rate operations per
// second: sesame's, then the PostgreSQL cluster's and the S3 server's
// when there are.
func perCreate(u groupUse, rate float64) string {
	if rate <= 0 || !u.main.measured {
		return "CPU not measured"
	}
	s := fmt.Sprintf("%.1f ms CPU per create", u.main.busy/rate*1000)
	if u.helpers {
		s += fmt.Sprintf(" (PostgreSQL %.1f ms, S3 server %.1f ms)", u.db.busy/rate*1000, u.s3.busy/rate*1000)
	}
	return s
}

func (b *bench) createSummary() summaryRow {
	c := b.cfg
	return b.goalRow(fmt.Sprintf("`share/link/create`, one email_otp link per call, %d clients", c.createConc), "",
		fmt.Sprintf("**≥ %s/s**", commas(goalCreates)), func(sd *side) figure {
			r := &sd.res.api
			if !c.on("links") || r.create == nil {
				return notRun
			}
			return figure{text: fmt.Sprintf("**%s/s**, %s", round(r.create.PerSec), perCreate(r.createUse, r.create.PerSec)),
				ok: r.create.PerSec >= goalCreates, ran: true}
		})
}

func (b *bench) listSummary() summaryRow {
	c := b.cfg
	list := func(sd *side) figure {
		r := &sd.res.api
		if !c.on("links") || r.list == nil {
			return notRun
		}
		var parts []string
		ok := true
		for _, s := range r.list.Shapes {
			parts = append(parts, fmt.Sprintf("%s %.2f ms", s.Name, s.P99))
			ok = ok && s.P99 <= goalListP99
		}
		return figure{text: strings.Join(parts, ", ") + fmt.Sprintf(" at %s links", commas(int64(r.linksTotal))), ok: ok, ran: true}
	}
	row := b.goalRow("`share/link/list` size 100, p99 by filter", "",
		fmt.Sprintf("**≤ %d ms for each filter** at 1,000,000 links (`scripts/bench-links.sh`), on SQLite and PostgreSQL", goalListP99),
		list)
	// The list target holds on both databases; this run has far fewer
	// links than the target's million.
	if pg := b.pg(); pg != nil && list(pg).ran {
		row.met += "; PostgreSQL: " + yesNo(list(pg))
	}
	if row.met != "not run" {
		row.met += " (at this run's links, not a million)"
	}
	return row
}

func (b *bench) zipSummary() summaryRow {
	c := b.cfg
	zip := func(sd *side) figure {
		z := &sd.res.zip
		if !c.on("zip") || len(z.rates) == 0 {
			return notRun
		}
		zm, sm := median(z.rates), median(z.single)
		return figure{text: fmt.Sprintf("%s (**%s×** the single-file rate)", round(zm), ratio(zm, sm)),
			ok: sm > 0 && zm/sm >= goalZip, ran: true}
	}
	peer := ""
	if c.on("zip") {
		peer = "the single file through the same portal, in the same rounds: " + b.bySide(func(sd *side) string {
			return round(median(sd.res.zip.single)) + " MB/s"
		})
	}
	return b.goalRow(fmt.Sprintf("ZIP of %s files (%d MiB), MB/s", commas(int64(c.zipFiles)), c.sizeMiB), peer,
		fmt.Sprintf("≥ %.1f× the single-file rate", goalZip), zip)
}

// round is x rounded to an integer, with thousands separators.
func round(x float64) string { return commas(int64(math.Round(x))) }

// mib reads a MiB figure of the report ("52.2"); ok is false for "n/a",
// "-" or nothing.
func mib(s string) (float64, bool) {
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

// rssFigure is a server's three RSS figures against the three goals; its
// why names those that missed.
func rssFigure(idle, load, burst string) figure {
	var text, missed []string
	ok, ran := true, false
	for _, x := range []struct {
		name, v string
		goal    float64
	}{{"idle", idle, goalIdle}, {"10 KiB load", load, goalLoad}, {"sign-ins", burst, goalBurst}} {
		v, measured := mib(x.v)
		if !measured {
			text = append(text, cmp.Or(x.v, "not run"))
			ok = false
			continue
		}
		ran = true
		text = append(text, fmt.Sprintf("%.0f", v))
		if v > x.goal {
			ok = false
			missed = append(missed, fmt.Sprintf("%s %.0f > %.0f", x.name, v, x.goal))
		}
	}
	if len(missed) == 0 && !ok {
		missed = append(missed, "not all measured")
	}
	return figure{text: strings.Join(text, " / ") + " MiB", why: strings.Join(missed, ", "), ok: ok, ran: ran}
}

func (b *bench) rssSummary() summaryRow {
	c := b.cfg
	peer := ""
	if c.on("small") && b.res.nginx.workerPeak != "" {
		peer = fmt.Sprintf("nginx %s MiB per worker (peak)", b.res.nginx.workerPeak)
	}
	return b.goalRow(fmt.Sprintf("server RSS: idle / during %d KiB load / peak under %d concurrent password sign-ins", c.smallKiB, c.burst),
		peer, fmt.Sprintf("≤ %d / ≤ %d / ≤ %d MiB", goalIdle, goalLoad, goalBurst), func(sd *side) figure {
			load, burst := "", ""
			if c.on("small") {
				load = sd.res.wrkPeak
			}
			if c.on("signin") {
				burst = sd.res.api.burstPeak
			}
			return rssFigure(sd.res.baseRSS, load, burst)
		})
}

func (b *bench) signinSummary() summaryRow {
	c := b.cfg
	return b.goalRow("password sign-ins per second (argon2id 19 MiB)", "", fmt.Sprintf("keep ≥ %d/s", goalSignins), func(sd *side) figure {
		r := &sd.res.api
		if !c.on("signin") || r.pw == nil {
			return notRun
		}
		return figure{text: fmt.Sprintf("**%.1f/s**", r.pw.PerSec), ok: r.pw.PerSec >= goalSignins, ran: true}
	})
}

// summaryPart is the summary table at the top of the report.
func (b *bench) summaryPart() string {
	var t strings.Builder
	t.WriteString(`## Summary

The figures with targets, from this run; the sections below give every
figure and how it was measured. The targets are for SQLite + disk, and
"met?" compares its figure with them; PostgreSQL + S3 is measured and
reported beside it (on one machine its database and S3 server take the
same CPUs as sesame and the clients), except for the list target, which
holds on both databases. The last column's nginx figures come from the
same runs, alternating with the servers'.

| figure | SQLite + disk now | PostgreSQL + S3 now | nginx / peer in the same run | target | met? |
|---|---|---|---|---|---|
`)
	for _, r := range b.summaryRows() {
		fmt.Fprintf(&t, "| %s | %s | %s | %s | %s | %s |\n", r.figure, r.lite, r.pg, r.peer, r.target, r.met)
	}
	if b.cfg.quick {
		t.WriteString("\nBENCH_QUICK=1: a short check that the benchmark runs, too short to judge a target by.\n")
	}
	return t.String()
}

// backendsNotes says why the two servers differ, when both ran.
func (b *bench) backendsNotes() string {
	if b.pg() == nil {
		return ""
	}
	return backendsNotes
}

const backendsNotes = `## What differs between SQLite + disk and PostgreSQL + S3

- Large files. On the disk a blob is an open file, and net/http hands it
  to the kernel with sendfile(2): the bytes go from the page cache to the
  socket without passing through sesame. From S3 each download is an HTTP
  GET that sesame sends the S3 server over loopback (through minio-go;
  a Seek starts a new ranged GET): the S3 server sends the file to its
  socket, and sesame reads every byte from that socket into its own memory
  and writes it to the client's. That is a second loopback hop and two
  copies through sesame's user space per byte, which is where sesame's
  extra CPU time per download goes; on 2 CPUs shared with the client and
  the S3 server, that CPU time bounds the rate. A ZIP reads each of its
  files with a GET of its own.
- Small requests. Each portal download finds the link by its token and the
  session by its cookie, checks that the object is within the link, writes
  an audit event and opens the blob. On SQLite these are calls inside the
  process (writes on one connection, in WAL mode); on PostgreSQL each query
  is a round trip over TCP to a backend process, through a pool of 10
  connections, and each commit a round trip more. Opening the blob is an
  open(2) of a file on the disk, and on S3 an HTTP GET whose reply's
  headers sesame waits for before it can answer (and another GET when
  http.ServeContent's Seek moves the offset). Link creates, lists and
  sign-ins make the same round trips to PostgreSQL, and no S3 request.
- Both helper servers run on this machine, on the same CPUs as sesame and
  the clients: their CPU time is counted in columns of their own, not in
  sesame's. In a deployment they run elsewhere, which takes their CPU off
  the replicas but adds the network's latency to every query and GET.
- The PostgreSQL cluster here is a throw-away one with ` + "`fsync=off`" + ` and
  ` + "`synchronous_commit=off`" + `: a commit does not wait for its WAL to reach
  the disk, as it would on a durable server (SQLite here runs with
  ` + "`synchronous=NORMAL`" + ` in WAL mode, which does not sync on commit either).
`
