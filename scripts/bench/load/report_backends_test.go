package main

import (
	"strings"
	"testing"
)

// TestBackendsReport renders the backends tables from made-up figures:
// ratios to SQLite + disk, the per-download and per-request CPU columns,
// and "-" where SQLite + disk has no database or S3 server.
func TestBackendsReport(t *testing.T) {
	cfg, err := loadConfig(env(map[string]string{"BENCH_RUNS": "2", "BENCH_WRK_RUNS": "2"}))
	if err != nil {
		t.Fatal(err)
	}
	pids := func() []int { return nil }
	lite := &side{server: &server{name: "SQLite + disk"},
		portal: []float64{1000, 1200}, dest: []float64{900, 1100},
		cpu: map[string]*cpuSums{"portal": {sesame: 0.4}, "dest": {sesame: 0.6}},
		wrk: []wrkRun{{rps: 1000, p50: 30, p99: 100, use: cpuUse{busy: 0.5}}, {rps: 1400, p50: 20, p99: 90, use: cpuUse{busy: 0.7}}}}
	pg := &side{server: &server{name: "PostgreSQL + S3"}, db: pids, s3: pids,
		portal: []float64{500, 600}, dest: []float64{400, 500},
		cpu:   map[string]*cpuSums{"portal": {sesame: 1, db: 0.2, s3: 0.8}, "dest": {sesame: 1.2, db: 0.2, s3: 0.6}},
		wrk:   []wrkRun{{rps: 400, use: cpuUse{busy: 0.4}}, {rps: 600, use: cpuUse{busy: 0.6}}},
		wrkDB: []cpuUse{{busy: 0.2}, {busy: 0.3}}, wrkS3: []cpuUse{{busy: 0.4}, {busy: 0.6}}}
	b := &bench{cfg: cfg, be: &backends{sides: []*side{lite, pg}}}

	big := b.backendsBigPart()
	for _, want := range []string{
		"| portal, SQLite + disk | 2 | 1100.0 | 1000.0 | 1200.0 | **1.00** | 0.20 | - | - |",
		"| portal, PostgreSQL + S3 | 2 | 550.0 | 500.0 | 600.0 | **0.50** | 0.50 | 0.10 | 0.40 |",
		"| dest-url, PostgreSQL + S3 | 2 | 450.0 | 400.0 | 500.0 | **0.45** | 0.60 | 0.10 | 0.30 |",
		"**Portal, PostgreSQL + S3 ÷ SQLite + disk: 0.50**",
	} {
		if !strings.Contains(big, want) {
			t.Errorf("large-file part lacks %q:\n%s", want, big)
		}
	}
	small := b.backendsSmallPart()
	for _, want := range []string{
		"| portal, SQLite + disk | 2 | 1200 | 1000 | 1400 | 25.00 | 95.00 | 0 / 0 / 0 | 0.60 / 0.00 | 500 | - | - | **1.00** |",
		// sesame 1000 µs, PostgreSQL 500 µs, S3 1000 µs per request in both runs
		"| portal, PostgreSQL + S3 | 2 | 500 | 400 | 600 | 0.00 | 0.00 | 0 / 0 / 0 | 0.50 / 0.00 | 1000 | 500 | 1000 | **0.42** |",
	} {
		if !strings.Contains(small, want) {
			t.Errorf("small-file part lacks %q:\n%s", want, small)
		}
	}
}
