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
	} {
		if _, err := loadConfig(env(m)); err == nil {
			t.Errorf("loadConfig(%v) accepted it", m)
		}
	}
}
