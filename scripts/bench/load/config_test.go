package main

import (
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadConfig(t *testing.T) {
	c, err := loadConfig(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.sizeMiB != 1024 || c.wrkSeconds != 10 || c.out != "docs/benchmarks.md" {
		t.Errorf("defaults: %d MiB, wrk %d s, out %s", c.sizeMiB, c.wrkSeconds, c.out)
	}
	c, err = loadConfig(env(map[string]string{"BENCH_QUICK": "1", "BENCH_RUNS": "2", "BENCH_SKIP": "zip, nginx"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.sizeMiB != 64 || c.wrkSeconds != 2 || c.runs != 2 || c.out == "docs/benchmarks.md" {
		t.Errorf("quick: %d MiB, wrk %d s, %d runs, out %s", c.sizeMiB, c.wrkSeconds, c.runs, c.out)
	}
	if c.on("zip") || c.on("nginx") || !c.on("small") || !c.needNginx() {
		t.Errorf("BENCH_SKIP=zip,nginx: skip %v", c.skip)
	}
	if k := c.knobs(); !strings.Contains(k, "BENCH_SKIP=zip,nginx") || !strings.Contains(k, "BENCH_QUICK=1") {
		t.Errorf("knobs %q", k)
	}
	if !c.anyOn() || !c.on("backends") {
		t.Errorf("quick: any %v, backends %v", c.anyOn(), c.on("backends"))
	}
}

// BENCH_SKIP=backends leaves out the PostgreSQL + S3 server and keeps
// every section on SQLite + disk.
func TestLoadConfig_SkipBackends(t *testing.T) {
	c, err := loadConfig(env(map[string]string{"BENCH_SKIP": "backends"}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.anyOn() || c.on("backends") || !c.on("zip") || c.out != "docs/benchmarks.md" {
		t.Errorf("BENCH_SKIP=backends: any %v, backends %v, zip %v, out %s", c.anyOn(), c.on("backends"), c.on("zip"), c.out)
	}
}

func TestLoadConfig_Invalid(t *testing.T) {
	for _, m := range []map[string]string{
		{"BENCH_RUNS": "0"},
		{"BENCH_SIZE_MIB": "1e3"},
		{"BENCH_ZIP_FILES": "10000"},
		{"BENCH_WRK_THREADS": "65"},
		{"BENCH_BURST": "5001"},
		{"BENCH_NGINX_WORKERS": "many"},
		{"BENCH_SKIP": "put,everything"},
		{"BENCH_SKIP": "put,dest,multipart,servefile,zip,nginx,small,links,signin,backends"},
		// backends alone would start the servers and measure nothing
		{"BENCH_SKIP": "put,dest,multipart,servefile,zip,nginx,small,links,signin"},
	} {
		if _, err := loadConfig(env(m)); err == nil {
			t.Errorf("loadConfig(%v) accepted it", m)
		}
	}
}
