package main

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// config is what one benchmark run does, from BENCH_* environment
// variables (each a positive integer unless said otherwise):
//
//	BENCH_SIZE_MIB       the large file, MiB (1024)
//	BENCH_RUNS           timed runs per large-file operation and server, median reported (3)
//	BENCH_ZIP_FILES      parts the large file is split into for the ZIP, at most 9999 (1000)
//	BENCH_RUNS_NGINX     rounds of nginx, portal and dest-url downloads (5)
//	BENCH_NGINX_WORKERS  nginx's worker_processes: auto or a number (auto)
//	BENCH_SMALL_KIB      the small file for wrk, KiB (10)
//	BENCH_WRK_RUNS       wrk runs each for nginx and each portal (3)
//	BENCH_WRK_THREADS    wrk -t (2), at most BENCH_WRK_CONNS
//	BENCH_WRK_CONNS      wrk -c (64)
//	BENCH_WRK_SECONDS    wrk -d (10)
//	BENCH_CREATE_LINKS   links made by share/link/create on each server, one per call (2000)
//	BENCH_CREATE_CONC    clients making them (8)
//	BENCH_LIST_CALLS     share/link/list calls per filter (200)
//	BENCH_SIGNIN_CONC    visitors signing in at once (8)
//	BENCH_SIGNIN_SECONDS how long the password sign-ins run, at most 300 (10)
//	BENCH_CODE_SIGNINS   links signed into once each by an emailed code (200)
//	BENCH_BURST          password sign-ins posted at once, at most 5000 (200)
//	BENCH_SKIP           comma-separated sections to leave out: put (the
//	                     timed PUTs; one upload is still made), dest,
//	                     multipart, servefile, zip, nginx, small, links,
//	                     signin, and backends: the PostgreSQL + S3 server
//	                     (SQLite + disk alone)
//	BENCH_OUT            the report (docs/benchmarks.md)
//	BENCH_QUICK=1        a short check that everything runs: 64 MiB, one
//	                     run each, wrk and sign-ins for 2 s, fewer links;
//	                     the report goes to the temporary directory unless
//	                     BENCH_OUT names a file
type config struct {
	quick                                   bool
	sizeMiB, runs, zipFiles, runsNginx      int
	smallKiB, wrkRuns, wrkThreads, wrkConns int
	wrkSeconds, createLinks, createConc     int
	listCalls, signinConc, signinSeconds    int
	codeSignins, burst                      int
	nginxWorkers, out, skipList             string
	skip                                    map[string]bool
}

// sections are the parts BENCH_SKIP can leave out. Every one but backends
// runs on each server; backends is the PostgreSQL + S3 server.
var sections = []string{"put", "dest", "multipart", "servefile", "zip", "nginx", "small", "links", "signin", "backends"}

type intKnob struct {
	name        string
	full, quick int
	field       func(c *config) *int
}

var intKnobs = []intKnob{
	{"SIZE_MIB", 1024, 64, func(c *config) *int { return &c.sizeMiB }},
	{"RUNS", 3, 1, func(c *config) *int { return &c.runs }},
	{"ZIP_FILES", 1000, 100, func(c *config) *int { return &c.zipFiles }},
	{"RUNS_NGINX", 5, 1, func(c *config) *int { return &c.runsNginx }},
	{"SMALL_KIB", 10, 10, func(c *config) *int { return &c.smallKiB }},
	{"WRK_RUNS", 3, 1, func(c *config) *int { return &c.wrkRuns }},
	{"WRK_THREADS", 2, 2, func(c *config) *int { return &c.wrkThreads }},
	{"WRK_CONNS", 64, 64, func(c *config) *int { return &c.wrkConns }},
	{"WRK_SECONDS", 10, 2, func(c *config) *int { return &c.wrkSeconds }},
	{"CREATE_LINKS", 2000, 200, func(c *config) *int { return &c.createLinks }},
	{"CREATE_CONC", 8, 8, func(c *config) *int { return &c.createConc }},
	{"LIST_CALLS", 200, 20, func(c *config) *int { return &c.listCalls }},
	{"SIGNIN_CONC", 8, 8, func(c *config) *int { return &c.signinConc }},
	{"SIGNIN_SECONDS", 10, 2, func(c *config) *int { return &c.signinSeconds }},
	{"CODE_SIGNINS", 200, 20, func(c *config) *int { return &c.codeSignins }},
	{"BURST", 200, 20, func(c *config) *int { return &c.burst }},
}

var positiveRE = regexp.MustCompile(`^[1-9][0-9]*$`)

// loadConfig reads the BENCH_* variables through getenv.
func loadConfig(getenv func(string) string) (*config, error) {
	c := &config{quick: getenv("BENCH_QUICK") == "1", skip: map[string]bool{}}
	for _, k := range intKnobs {
		p := k.field(c)
		*p = k.full
		if c.quick {
			*p = k.quick
		}
		v := getenv("BENCH_" + k.name)
		if v == "" {
			continue
		}
		if !positiveRE.MatchString(v) {
			return nil, fmt.Errorf("BENCH_%s must be a positive integer, not %q", k.name, v)
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("BENCH_%s: %w", k.name, err)
		}
		*p = n
	}
	c.nginxWorkers = cmp.Or(getenv("BENCH_NGINX_WORKERS"), "auto")
	c.out = outPath(getenv("BENCH_OUT"), "benchmarks.md", "sesame-bench-quick.md", c.quick)
	if err := c.parseSkip(getenv("BENCH_SKIP")); err != nil {
		return nil, err
	}
	return c, c.validate()
}

// outPath is a report's path: v when set, else docs/name, or quickName
// in the temporary directory for a quick run.
func outPath(v, name, quickName string, quick bool) string {
	switch {
	case v != "":
		return v
	case quick:
		return filepath.Join(os.TempDir(), quickName)
	}
	return filepath.Join("docs", name)
}

func (c *config) parseSkip(v string) error {
	var kept []string
	for s := range strings.FieldsFuncSeq(v, func(r rune) bool { return r == ',' || r == ' ' }) {
		if !slices.Contains(sections, s) {
			return fmt.Errorf("BENCH_SKIP: unknown section %q (known: %s)", s, strings.Join(sections, " "))
		}
		c.skip[s] = true
		kept = append(kept, s)
	}
	c.skipList = strings.Join(kept, ",")
	return nil
}

func (c *config) validate() error {
	switch {
	case c.zipFiles > 9999:
		return fmt.Errorf("BENCH_ZIP_FILES must be an integer from 1 to 9999, not %d", c.zipFiles)
	case c.wrkThreads > c.wrkConns:
		return fmt.Errorf("BENCH_WRK_THREADS (%d) must not exceed BENCH_WRK_CONNS (%d)", c.wrkThreads, c.wrkConns)
	case c.burst > 5000 || c.signinSeconds > 300:
		return fmt.Errorf("BENCH_BURST is at most 5000 and BENCH_SIGNIN_SECONDS at most 300")
	case c.nginxWorkers != "auto" && !positiveRE.MatchString(c.nginxWorkers):
		return fmt.Errorf("BENCH_NGINX_WORKERS must be auto or a positive integer, not %q", c.nginxWorkers)
	case !c.anyOn():
		return fmt.Errorf("BENCH_SKIP leaves out every section that measures")
	}
	return nil
}

// on reports whether a section runs (BENCH_SKIP does not name it).
func (c *config) on(section string) bool { return !c.skip[section] }

// anyOn reports whether any section but backends runs: backends alone
// would start the servers and measure nothing.
func (c *config) anyOn() bool {
	for _, s := range sections {
		if s != "backends" && c.on(s) {
			return true
		}
	}
	return false
}

func (c *config) sizeBytes() int64  { return int64(c.sizeMiB) << 20 }
func (c *config) smallBytes() int64 { return int64(c.smallKiB) << 10 }

// needNginx: the nginx comparisons and the wrk runs both use nginx.
func (c *config) needNginx() bool { return c.on("nginx") || c.on("small") }

// knobs is the settings line of the report.
func (c *config) knobs() string {
	s := fmt.Sprintf("BENCH_SIZE_MIB=%d BENCH_RUNS=%d BENCH_RUNS_NGINX=%d BENCH_WRK_RUNS=%d BENCH_WRK_SECONDS=%d "+
		"BENCH_CREATE_LINKS=%d BENCH_CODE_SIGNINS=%d BENCH_BURST=%d",
		c.sizeMiB, c.runs, c.runsNginx, c.wrkRuns, c.wrkSeconds, c.createLinks, c.codeSignins, c.burst)
	if c.skipList != "" {
		s += " BENCH_SKIP=" + c.skipList
	}
	if c.quick {
		s += " BENCH_QUICK=1"
	}
	return s
}
