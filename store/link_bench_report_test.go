//go:build unix

package store_test

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// lbGoal is "yes" when the p99 of d is within the goal.
func lbGoal(d []time.Duration) string {
	if len(d) == 0 {
		return "–"
	}
	if float64(lbPct(d, 99).Microseconds())/1000 <= lbGoalMs {
		return "yes"
	}
	return "**no**"
}

// lbSeconds renders a duration in seconds, to a tenth under a minute.
func lbSeconds(f float64) string {
	d := time.Duration(f * float64(time.Second))
	if d < time.Minute {
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// writeReport prints the Markdown report and writes it, and the summary,
// where the environment asks.
func (r *lbRun) writeReport() {
	var b strings.Builder
	r.reportBuild(&b)
	r.reportTimes(&b)
	if r.pg {
		b.WriteString("\nPlans (EXPLAIN (ANALYZE, BUFFERS), parameters of the first query of each shape, after the timed runs):\n\n```text\n")
		b.WriteString(r.postgres.plans)
		b.WriteString("```\n")
	} else {
		r.reportSQLite(&b)
	}
	report := b.String()
	fmt.Printf("\nshare-link benchmark, %s links:\n\n%s\n", lbThousands(r.n), report)
	if p := os.Getenv("SESAME_BENCH_LINKS_REPORT"); p != "" {
		if err := os.WriteFile(p, []byte(report), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
	if p := os.Getenv("SESAME_BENCH_LINKS_SUMMARY"); p != "" {
		var s strings.Builder
		for _, sh := range r.shapes {
			fmt.Fprintf(&s, "%s\t%s\t%d\t%s\t%s\n", sh.key, sh.name, len(sh.total), lbMs(lbPct(sh.total, 50)), lbMs(lbPct(sh.total, 99)))
		}
		if err := os.WriteFile(p, []byte(s.String()), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
}

// reportBuild describes the data, the build and the database.
func (r *lbRun) reportBuild(b *strings.Builder) {
	m := r.meta
	fmt.Fprintf(b, "- Data: %s links from the build (+%s from the create runs), %s link_targets rows, %s link_tags rows; %s files and %s folders as targets; %s distinct tags\n",
		lbThousands(r.n), lbThousands(2*lbSingles), lbThousands(r.targetRows), lbThousands(r.tagRows), lbThousands(lbFiles), lbThousands(lbFolders), lbThousands(lbTags))
	if r.pg {
		fmt.Fprintf(b, "- Server: PostgreSQL %s; %s\n", r.postgres.version, strings.Join(r.postgres.settings, ", "))
		fmt.Fprintf(b, "- Database after the build (the run's tables with their indexes): %.0f MiB\n", float64(m.DBBytes)/(1<<20))
	} else {
		fmt.Fprintf(b, "- Database after the build (sesame.db + WAL): %.0f MiB\n", float64(m.DBBytes)/(1<<20))
	}
	how := "this run"
	if r.reused {
		how = "kept from an earlier run (" + m.Built + ") in SESAME_BENCH_LINKS_DB"
	}
	workers := "one goroutine"
	if m.Workers > 1 {
		workers = fmt.Sprintf("%d goroutines (calls that meet share one transaction through the store's group commit)", m.Workers)
	}
	fmt.Fprintf(b, "- Build (%s): %s links through CreateLinks, %d per call, from %s, in %s: **%.0f links/s**; the %s targets took %s (%d goroutines)\n",
		how, lbThousands(r.n), lbBatch, workers, lbSeconds(m.BuildSeconds), float64(r.n)/m.BuildSeconds,
		lbThousands(lbFiles+lbFolders), lbSeconds(m.TargetsSeconds), lbTargetWorkers)
	if m.InCallSeconds > 0 {
		calls := (r.n + lbBatch - 1) / lbBatch
		fmt.Fprintf(b, "- Where the build's time went: %s CreateLinks calls took %.1f ms each on average", lbThousands(calls), m.InCallSeconds*1000/float64(calls))
		if m.Workers > 1 {
			fmt.Fprintf(b, " (%d at a time: most of that is waiting for the store's one writer)", m.Workers)
		}
		fmt.Fprintf(b, "; CPU %.1f s in this process", m.CPUSeconds)
		if r.pg {
			fmt.Fprintf(b, " and %.1f s in the store's server backends", m.ServerCPUSeconds)
		} else {
			b.WriteString(" (SQLite's work included)")
		}
		b.WriteString("; links/s by tenth of the build:")
		for _, x := range m.Tenths {
			fmt.Fprintf(b, " %.0f", x)
		}
		b.WriteString("\n")
	}
	if r.pg {
		fmt.Fprintf(b, "- VACUUM (ANALYZE) of the run's tables after the build (what autovacuum does as a table grows: statistics, and the visibility map for index-only scans) took %s; Store.Optimize does nothing on PostgreSQL; unfiltered counts from link_counts: %v\n",
			r.vacuumTime.Round(time.Millisecond), r.hasCounts)
	} else {
		fmt.Fprintf(b, "- Store.Optimize after the build (what serve runs at start and hourly) took %s; unfiltered counts from link_counts: %v\n", r.optimizeTime.Round(time.Millisecond), r.hasCounts)
		fmt.Fprintf(b, "- sqlite_stat1 then: %s\n", strings.Join(r.sqlite.stats, "; "))
	}
}

// reportTimes has the creates, the listings and where their time goes.
func (r *lbRun) reportTimes(b *strings.Builder) {
	srvHead, srvCols := "", ""
	if r.server != nil {
		srvHead, srvCols = " server CPU p50 ms | server CPU p99 ms |", "---:|---:|"
	}
	srv := func(d []time.Duration) string {
		if r.server == nil {
			return ""
		}
		return fmt.Sprintf(" %s | %s |", lbMs(lbPct(d, 50)), lbMs(lbPct(d, 99)))
	}
	b.WriteString("\n| create (email_otp, no password hashing) | calls | links/s | p50 ms | p95 ms | p99 ms | max ms | CPU p50 ms | CPU p99 ms |" + srvHead +
		"\n|---|---:|---:|---:|---:|---:|---:|---:|---:|" + srvCols + "\n")
	for _, c := range r.creates {
		fmt.Fprintf(b, "| %s | %d | **%.0f** | %s | %s | %s | %s | %s | %s |%s\n", c.name, len(c.lat), float64(len(c.lat))/lbSum(c.lat).Seconds(),
			lbMs(lbPct(c.lat, 50)), lbMs(lbPct(c.lat, 95)), lbMs(lbPct(c.lat, 99)), lbMs(lbPct(c.lat, 100)), lbMs(lbPct(c.cpu, 50)), lbMs(lbPct(c.cpu, 99)), srv(c.srv))
	}
	switch {
	case r.pg:
	case r.reused:
		b.WriteString("\nThe store was opened on the kept build, whose statistics had been gathered: its read connections load them, as in a server restarted after the store grew.\n")
	default:
		b.WriteString("\nThe store was opened before the build, as a server that has run since the store was empty: its read connections hold the statistics they loaded then, " +
			"and Store.Optimize after the build refreshes them on the write connection only (see the reopened table below).\n")
	}
	fmt.Fprintf(b, "\nLoad average (1, 5, 15 min) around the timed FindLinks calls: %s before, %s after. "+
		"CPU is the process's user + system time during each call (getrusage): unlike the wall-clock columns it does not grow while other work holds the CPUs, "+
		"but it leaves out waiting for I/O", r.loadBefore, r.loadAfter)
	if r.pg {
		b.WriteString(" and, on PostgreSQL, the server's work")
		if r.server != nil {
			b.WriteString(", which the server CPU columns count (time on a CPU of the backends serving the store's connections, from /proc/PID/schedstat)")
		}
	}
	b.WriteString(".\n\n")
	b.WriteString("| share/link/list, size 100 (FindLinks) | queries | p50 ms | p95 ms | p99 ms | max ms | CPU p50 ms | CPU p99 ms |" + srvHead + " mean count | mean rows | p99 ≤ 10 ms |\n" +
		"|---|---:|---:|---:|---:|---:|---:|---:|" + srvCols + "---:|---:|:-:|\n")
	for _, sh := range r.shapes {
		fmt.Fprintf(b, "| (%s) %s | %d | %s | %s | **%s** | %s | %s | %s |%s %.0f | %.0f | %s |\n", sh.key, sh.name, len(sh.total),
			lbMs(lbPct(sh.total, 50)), lbMs(lbPct(sh.total, 95)), lbMs(lbPct(sh.total, 99)), lbMs(lbPct(sh.total, 100)),
			lbMs(lbPct(sh.cpu, 50)), lbMs(lbPct(sh.cpu, 99)), srv(sh.srv), lbMean(sh.counts), lbMean(sh.rows), lbGoal(sh.total))
	}
	if !r.pg {
		b.WriteString("\nThe same queries after closing and reopening the store (a server restart: read connections that load the statistics as they are now):\n\n")
		b.WriteString("| share/link/list, size 100 (FindLinks) | before p50 ms | before p99 ms | reopened p50 ms | reopened p95 ms | reopened p99 ms | reopened max ms | p99 ≤ 10 ms |\n|---|---:|---:|---:|---:|---:|---:|:-:|\n")
		for _, sh := range r.shapes {
			lat := r.sqlite.reopened[sh]
			fmt.Fprintf(b, "| (%s) %s | %s | %s | %s | %s | %s | %s | %s |\n", sh.key, sh.name, lbMs(lbPct(sh.total, 50)), lbMs(lbPct(sh.total, 99)),
				lbMs(lbPct(lat, 50)), lbMs(lbPct(lat, 95)), lbMs(lbPct(lat, 99)), lbMs(lbPct(lat, 100)), lbGoal(lat))
		}
	}
	b.WriteString("\nWhere the time goes: FindLinks' count and page statements run alone on a second connection with the same parameters; " +
		"loadLinks is its three lookups by the page's ids; the rest (per query: total − count − page − loadLinks) is unsealing the 100 tokens, " +
		"scanning rows into structs and the like.\n\n")
	b.WriteString("| query | count p50 ms | count p99 ms | page SELECT p50 ms | page SELECT p99 ms | loadLinks SQL p50 ms | loadLinks SQL p99 ms | rest p50 ms | rest p99 ms |\n" +
		"|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, sh := range r.shapes {
		fmt.Fprintf(b, "| (%s) | %s | %s | %s | %s | %s | %s | %s | %s |\n", sh.key, lbMs(lbPct(sh.count, 50)), lbMs(lbPct(sh.count, 99)),
			lbMs(lbPct(sh.page, 50)), lbMs(lbPct(sh.page, 99)), lbMs(lbPct(sh.load, 50)), lbMs(lbPct(sh.load, 99)), lbMs(lbPct(sh.rest, 50)), lbMs(lbPct(sh.rest, 99)))
	}
}

// reportSQLite has what only SQLite measures: experiments and plans.
func (r *lbRun) reportSQLite(b *strings.Builder) {
	x := r.sqlite
	b.WriteString("\nExperiments: the same queries with one statement changed, on this database only (no code changed).\n\n")
	b.WriteString("| query | change | before p50 ms | before p99 ms | after p50 ms | after p99 ms |\n|---|---|---:|---:|---:|---:|\n")
	for _, e := range x.exps {
		fmt.Fprintf(b, "| (%s) | %s | %s | %s | %s | %s |\n", e.shape, e.what, lbMs(lbPct(e.before, 50)), lbMs(lbPct(e.before, 99)), lbMs(lbPct(e.lat, 50)), lbMs(lbPct(e.lat, 99)))
	}
	fmt.Fprintf(b, "\nThe two index tables took %s to build from the data.\n", x.indexTime.Round(time.Millisecond))
	b.WriteString("\nWithout statistics (sqlite_stat1 dropped: a store before its first Store.Optimize), FindLinks again, same queries:\n\n")
	b.WriteString("| share/link/list, size 100 (FindLinks) | first table p50 ms | first table p99 ms | without p50 ms | without p95 ms | without p99 ms | without max ms | p99 ≤ 10 ms |\n|---|---:|---:|---:|---:|---:|---:|:-:|\n")
	for _, sh := range r.shapes {
		lat := x.noStats[sh]
		fmt.Fprintf(b, "| (%s) %s | %s | %s | %s | %s | %s | %s | %s |\n", sh.key, sh.name, lbMs(lbPct(sh.total, 50)), lbMs(lbPct(sh.total, 99)),
			lbMs(lbPct(lat, 50)), lbMs(lbPct(lat, 95)), lbMs(lbPct(lat, 99)), lbMs(lbPct(lat, 100)), lbGoal(lat))
	}
	b.WriteString("\nQuery plans (EXPLAIN QUERY PLAN, parameters of the first query of each shape) on a connection opened after Store.Optimize, " +
		"so with its statistics (the store's own read connections may hold older ones; see the reopened table):\n\n```text\n")
	b.WriteString(x.plans)
	b.WriteString("```\n\nPlans of the experiments' statements:\n\n```text\n")
	b.WriteString(x.expPlans)
	b.WriteString("```\n\nPlans without statistics:\n\n```text\n")
	b.WriteString(x.noStatsPlans)
	b.WriteString("```\n")
}
