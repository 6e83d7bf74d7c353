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
	if !c.mainOn() || !c.on("backends") || c.outBackends == "docs/benchmarks-backends.md" {
		t.Errorf("quick: main %v, backends %v, out %s", c.mainOn(), c.on("backends"), c.outBackends)
	}
}

func TestLoadConfig_BackendsAlone(t *testing.T) {
	c, err := loadConfig(env(map[string]string{"BENCH_SKIP": "put,dest,multipart,servefile,zip,nginx,small,links,signin"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.mainOn() || !c.on("backends") || c.outBackends != "docs/benchmarks-backends.md" {
		t.Errorf("backends alone: main %v, backends %v, out %s", c.mainOn(), c.on("backends"), c.outBackends)
	}
	c, err = loadConfig(env(map[string]string{"BENCH_SKIP": "backends", "BENCH_OUT_BACKENDS": "/tmp/b.md"}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.mainOn() || c.on("backends") || c.outBackends != "/tmp/b.md" {
		t.Errorf("BENCH_SKIP=backends: main %v, backends %v, out %s", c.mainOn(), c.on("backends"), c.outBackends)
	}
}

func TestRelLink(t *testing.T) {
	for _, tc := range [][3]string{
		{"docs/benchmarks.md", "docs/benchmarks-backends.md", "benchmarks-backends.md"},
		{"docs/benchmarks-backends.md", "docs/benchmarks.md", "benchmarks.md"},
		{"/tmp/a/x.md", "/tmp/b/y.md", "../b/y.md"},
	} {
		if got := relLink(tc[0], tc[1]); got != tc[2] {
			t.Errorf("relLink(%q, %q) = %q, want %q", tc[0], tc[1], got, tc[2])
		}
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
	} {
		if _, err := loadConfig(env(m)); err == nil {
			t.Errorf("loadConfig(%v) accepted it", m)
		}
	}
}
