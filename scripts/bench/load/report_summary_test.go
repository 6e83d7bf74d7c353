package main

import (
	"slices"
	"strings"
	"testing"
)

// twoSides is a run with made-up figures on both servers: SQLite + disk
// meets the portal, dest-url, ZIP, list and sign-in targets and misses the
// others; PostgreSQL + S3 is slower, with its database's and S3 server's
// CPU time beside sesame's.
func twoSides(t *testing.T, m map[string]string) *bench {
	t.Helper()
	cfg, err := loadConfig(env(m))
	if err != nil {
		t.Fatal(err)
	}
	wrk := func(rps, busy float64, helpers bool, db, s3 float64) []wrkRun {
		return []wrkRun{{rps: rps, use: groupUse{main: cpuUse{busy: busy, measured: true}, db: cpuUse{busy: db}, s3: cpuUse{busy: s3}, helpers: helpers}}}
	}
	lite := &side{server: &server{name: "SQLite + disk"}, res: sideResults{
		baseRSS: "52.2", wrkPeak: "60.0",
		wrk: map[string][]wrkRun{"portal": wrk(30000, 1.5, false, 0, 0), "dest": wrk(40000, 1.6, false, 0, 0), "static": wrk(30000, 1.2, false, 0, 0)},
		zip: zipInfo{rates: []float64{1800, 2000}, single: []float64{2000, 2000}},
		api: apiResult{
			create:     &result{PerSec: 1646.4},
			createUse:  groupUse{main: cpuUse{busy: 1, measured: true}},
			list:       &result{Shapes: []shapeResult{{Name: "tags", P99: 7.97}, {Name: "target_id", P99: 7.46}}},
			linksTotal: 2003,
			pw:         &result{PerSec: 54.5},
			burstPeak:  "180.9",
		}}}
	pg := &side{server: &server{name: "PostgreSQL + S3"}, db: func() []int { return nil }, res: sideResults{
		baseRSS: "40.0", wrkPeak: "50.0",
		wrk: map[string][]wrkRun{"portal": wrk(10000, 1, true, 0.5, 0.2), "dest": wrk(12000, 1, true, 0.3, 0.3), "static": wrk(30000, 1.2, true, 0, 0)},
		zip: zipInfo{rates: []float64{300}, single: []float64{600}},
		api: apiResult{
			create:     &result{PerSec: 800},
			createUse:  groupUse{main: cpuUse{busy: 0.8, measured: true}, db: cpuUse{busy: 0.4}, helpers: true},
			list:       &result{Shapes: []shapeResult{{Name: "tags", P99: 12.5}, {Name: "target_id", P99: 9}}},
			linksTotal: 2003,
			pw:         &result{PerSec: 40},
			burstPeak:  "120.0",
		}}}
	b := &bench{cfg: cfg, sides: []*side{lite, pg}}
	b.res.small.nginx = wrk(100000, 1, false, 0, 0)
	b.res.nginx.workerPeak = "4.4"
	return b
}

// rowOf is the summary row whose figure starts with prefix.
func rowOf(t *testing.T, rows []summaryRow, prefix string) summaryRow {
	t.Helper()
	k := slices.IndexFunc(rows, func(r summaryRow) bool { return strings.HasPrefix(r.figure, prefix) })
	if k < 0 {
		t.Fatalf("no summary row starts with %q", prefix)
	}
	return rows[k]
}

// TestSummaryRows checks each row of the summary: both servers' figures,
// nginx's, and met? computed for SQLite + disk against its target.
func TestSummaryRows(t *testing.T) {
	rows := twoSides(t, nil).summaryRows()
	if len(rows) != 8 {
		t.Errorf("got %d rows, want the 8 of the targets", len(rows))
	}
	for _, tc := range []struct {
		prefix              string
		lite, pg, peer, met string
	}{
		{"10 KiB portal download", "30,000 req/s, **0.300× nginx**, 50 µs CPU per request",
			"10,000 req/s, **0.100× nginx**, 100 µs CPU per request (PostgreSQL / S3 server: 50 / 20 µs)",
			"nginx 100,000 req/s, 10 µs", "yes"},
		{"10 KiB dest-url", "40,000 req/s, **0.400× nginx**, 40 µs CPU per request", "", "", "yes"},
		{"`/static/portal.css`", "30,000 req/s, **0.300× nginx**, 40 µs CPU per request", "", "", "**no**"},
		{"`share/link/create`", "**1,646/s**, 0.6 ms CPU per create",
			"**800/s**, 1.0 ms CPU per create (PostgreSQL 0.5 ms, S3 server 0.0 ms)", "-", "**no**"},
		{"`share/link/list`", "tags 7.97 ms, target_id 7.46 ms at 2,003 links", "tags 12.50 ms, target_id 9.00 ms at 2,003 links",
			"-", "yes; PostgreSQL: no (at this run's links, not a million)"},
		{"ZIP of 1,000 files", "1,900 (**0.95×** the single-file rate)", "300 (**0.50×** the single-file rate)",
			"the single file through the same portal, in the same rounds: SQLite + disk 2,000 MB/s; PostgreSQL + S3 600 MB/s", "yes"},
		{"server RSS", "52 / 60 / 181 MiB", "40 / 50 / 120 MiB", "nginx 4.4 MiB per worker (peak)",
			"**no** (idle 52 > 30, sign-ins 181 > 128)"},
		{"password sign-ins", "**54.5/s**", "**40.0/s**", "-", "yes"},
	} {
		r := rowOf(t, rows, tc.prefix)
		if r.lite != tc.lite {
			t.Errorf("%s: SQLite + disk: got %q, want %q", tc.prefix, r.lite, tc.lite)
		}
		if tc.pg != "" && r.pg != tc.pg {
			t.Errorf("%s: PostgreSQL + S3: got %q, want %q", tc.prefix, r.pg, tc.pg)
		}
		if tc.peer != "" && r.peer != tc.peer {
			t.Errorf("%s: peer: got %q, want %q", tc.prefix, r.peer, tc.peer)
		}
		if r.met != tc.met {
			t.Errorf("%s: met: got %q, want %q", tc.prefix, r.met, tc.met)
		}
	}
}

// TestSummaryRows_NotRun: a section BENCH_SKIP leaves out is "not run" on
// both servers and in met?, and without PostgreSQL + S3 its column says
// why.
func TestSummaryRows_NotRun(t *testing.T) {
	b := twoSides(t, map[string]string{"BENCH_SKIP": "zip,links"})
	rows := b.summaryRows()
	for _, prefix := range []string{"ZIP of", "`share/link/create`", "`share/link/list`"} {
		r := rowOf(t, rows, prefix)
		if r.lite != "not run" || r.pg != "not run" || r.met != "not run" {
			t.Errorf("%s: got %q, %q, met %q; want not run", prefix, r.lite, r.pg, r.met)
		}
	}
	b.sides = b.sides[:1]
	r := rowOf(t, b.summaryRows(), "password sign-ins")
	if r.pg != "not run (`BENCH_SKIP=backends`)" || r.met != "yes" {
		t.Errorf("without PostgreSQL + S3: got %q, met %q", r.pg, r.met)
	}
	if got := b.summaryPart(); !strings.Contains(got, "| password sign-ins per second (argon2id 19 MiB) | **54.5/s** | not run") {
		t.Errorf("summary table lacks the sign-in row:\n%s", got)
	}
}

func TestRSSFigure(t *testing.T) {
	for _, tc := range []struct {
		idle, load, burst string
		text, met         string
	}{
		{"25.0", "60.0", "100.0", "25 / 60 / 100 MiB", "yes"},
		{"43.0", "93.0", "258.0", "43 / 93 / 258 MiB", "**no** (idle 43 > 30, 10 KiB load 93 > 64, sign-ins 258 > 128)"},
		{"25.0", "", "100.0", "25 / not run / 100 MiB", "**no** (not all measured)"},
		{"25.0", "-", "100.0", "25 / - / 100 MiB", "**no** (not all measured)"},
		{"n/a", "", "", "n/a / not run / not run MiB", "not run"},
	} {
		f := rssFigure(tc.idle, tc.load, tc.burst)
		if f.text != tc.text || metText(f) != tc.met {
			t.Errorf("rssFigure(%q, %q, %q) = %q, met %q; want %q, met %q", tc.idle, tc.load, tc.burst, f.text, metText(f), tc.text, tc.met)
		}
	}
}

// TestSmallTable renders the wrk rows: the PostgreSQL and S3 server CPU
// per request beside sesame's, "-" on SQLite + disk, the ratio to nginx.
func TestSmallTable(t *testing.T) {
	b := twoSides(t, nil)
	got := b.smallTable()
	for _, want := range []string{
		"| sesame portal /s/{token}/f/{id}, session cookie, SQLite + disk | 1 | 30000 | 30000 | 30000 | 0.00 | 0.00 | 0 / 0 / 0 | 1.50 / 0.00 | 50 | - | 0.300 |",
		"| sesame portal /s/{token}/f/{id}, session cookie, PostgreSQL + S3 | 1 | 10000 | 10000 | 10000 | 0.00 | 0.00 | 0 / 0 / 0 | 1.00 / 0.00 | 100 | 50 / 20 | 0.100 |",
		"| diagnostic: sesame dest-url of the same file (database reads only), PostgreSQL + S3 | 1 | 12000 |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("wrk table lacks %q:\n%s", want, got)
		}
	}
	lines := b.smallLines()
	for _, want := range []string{
		"- **SQLite + disk: portal ÷ nginx, 10 KiB requests per second: 0.300** (30000 vs 100000 req/s, medians)\n",
		"- **PostgreSQL + S3: portal ÷ nginx, 10 KiB requests per second: 0.100** (10000 vs 100000 req/s, medians; ÷ SQLite + disk 0.333)\n",
		"besides sesame's, per portal request, the PostgreSQL cluster 50 µs and the S3 server 20 µs\n",
		"PostgreSQL + S3: server peak RSS over its portal runs (VmHWM, reset before them): **50.0 MiB**",
	} {
		if !strings.Contains(lines, want) {
			t.Errorf("wrk lines lack %q:\n%s", want, lines)
		}
	}
}

func TestCPUSumsText(t *testing.T) {
	var lite, pg cpuSums
	lite.add(groupUse{main: cpuUse{secs: 0.3}})
	lite.add(groupUse{main: cpuUse{secs: 0.5}})
	pg.add(groupUse{main: cpuUse{secs: 1}, db: cpuUse{secs: 0.1}, s3: cpuUse{secs: 0.6}, helpers: true})
	if got, want := lite.text("sesame"), "0.40 (sesame)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := pg.text("sesame"), "1.00 (sesame) + 0.10 (PostgreSQL) + 0.60 (S3 server)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := (cpuSums{}).text("nginx"), "0.00 (nginx)"; got != want {
		t.Errorf("no runs: got %q, want %q", got, want)
	}
}

// TestRotate: each round takes every competitor once, round i starting
// with competitor i mod n.
func TestRotate(t *testing.T) {
	var got []int
	for i := 1; i <= 3; i++ {
		rotate(i, 3, func(k int) error { got = append(got, k); return nil })
	}
	if want := []int{1, 2, 0, 2, 0, 1, 0, 1, 2}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
