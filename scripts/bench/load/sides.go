package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// backendOpts are the throw-away PostgreSQL and S3 server (versitygw)
// that scripts/bench.sh starts for the PostgreSQL + S3 server. The S3
// keys come from the environment, LOAD_S3_ACCESS_KEY and
// LOAD_S3_SECRET_KEY, so that they do not show in the process list.
type backendOpts struct {
	pgURL, pgVersion      string
	s3Endpoint, s3Version string
	s3Access, s3Secret    string
	pgPID, s3PID          int
}

func backendFlags(fs *flag.FlagSet) *backendOpts {
	o := &backendOpts{}
	fs.StringVar(&o.pgURL, "pg-url", "", "a PostgreSQL database for the second server, postgres://…")
	fs.IntVar(&o.pgPID, "pg-pid", 0, "the PostgreSQL postmaster's process id (for its CPU time)")
	fs.StringVar(&o.pgVersion, "pg-version", "PostgreSQL", "the PostgreSQL version, for the report")
	fs.StringVar(&o.s3Endpoint, "s3-endpoint", "", "the S3 server, host:port on 127.0.0.1, plain HTTP")
	fs.IntVar(&o.s3PID, "s3-pid", 0, "the S3 server's process id (for its CPU time)")
	fs.StringVar(&o.s3Version, "s3-version", "versitygw", "the S3 server and its version, for the report")
	return o
}

// check wants what the PostgreSQL + S3 server needs, unless BENCH_SKIP
// leaves it out.
func (o *backendOpts) check(cfg *config) error {
	if !cfg.on("backends") {
		return nil
	}
	o.s3Access, o.s3Secret = os.Getenv("LOAD_S3_ACCESS_KEY"), os.Getenv("LOAD_S3_SECRET_KEY")
	if o.pgURL == "" || o.s3Endpoint == "" || o.s3Access == "" || o.s3Secret == "" {
		return errors.New("the PostgreSQL + S3 server needs -pg-url, -s3-endpoint, LOAD_S3_ACCESS_KEY and LOAD_S3_SECRET_KEY " +
			"(scripts/bench.sh starts the servers; BENCH_SKIP=backends leaves it out)")
	}
	return checkBase("http://" + o.s3Endpoint)
}

// side is one sesame server under test and what was measured on it: the
// first on SQLite and the local disk, the second (unless BENCH_SKIP names
// backends) on PostgreSQL and an S3 bucket. Every section runs on each.
type side struct {
	*server
	db, s3 func() []int // the PostgreSQL cluster's and the S3 server's processes; nil on SQLite + disk

	objID     string   // the large file's object
	big       *visitor // signed in to a download link to it
	portalURL string
	small     *small      // the small file of the wrk runs
	zip       *zipSet     // the folder of the ZIP runs
	res       sideResults // what was measured
}

// group is the side's processes, for startGroup.
func (sd *side) group() procGroup { return procGroup{main: sd.pids, db: sd.db, s3: sd.s3} }

// procGroup is the processes of one server under test: sesame (or nginx,
// or servefile) and, on PostgreSQL + S3, the database cluster and the S3
// server that sesame uses, whose CPU time counts apart from sesame's.
type procGroup struct{ main, db, s3 func() []int }

// groupUse is a procGroup's CPU use over a stretch; helpers says whether
// the group has a database cluster and an S3 server.
type groupUse struct {
	main, db, s3 cpuUse
	helpers      bool
}

// startGroup starts measuring a group's CPU use; the function it returns
// ends the stretch (over as for cpuMeter.stop).
func (b *bench) startGroup(g procGroup) func(over float64) groupUse {
	m, d, s := startCPU(b.hz, g.main), startCPU(b.hz, orNone(g.db)), startCPU(b.hz, orNone(g.s3))
	return func(over float64) groupUse {
		return groupUse{main: m.stop(over), db: d.stop(over), s3: s.stop(over), helpers: g.db != nil}
	}
}

// orNone is pids, or no processes when it is nil.
func orNone(pids func() []int) func() []int {
	if pids == nil {
		return func() []int { return nil }
	}
	return pids
}

// cpuSums adds up a group's CPU seconds over n runs.
type cpuSums struct {
	main, db, s3 float64
	n            int
	helpers      bool
}

func (s *cpuSums) add(u groupUse) {
	s.main, s.db, s.s3 = s.main+u.main.secs, s.db+u.db.secs, s.s3+u.s3.secs
	s.n++
	s.helpers = s.helpers || u.helpers
}

// perRun is the mean CPU seconds per run of the main process, the
// database cluster and the S3 server.
func (s cpuSums) perRun() (main, db, s3 float64) {
	if s.n == 0 {
		return 0, 0, 0
	}
	n := float64(s.n)
	return s.main / n, s.db / n, s.s3 / n
}

// text is the mean CPU seconds per run as a report shows them: the main
// process's, named, and the database's and S3 server's when there are.
func (s cpuSums) text(name string) string {
	m, d, s3 := s.perRun()
	if !s.helpers {
		return fmt.Sprintf("%.2f (%s)", m, name)
	}
	return fmt.Sprintf("%.2f (%s) + %.2f (PostgreSQL) + %.2f (S3 server)", m, name, d, s3)
}

// rotate runs round i of a loop that alternates between n competitors:
// fn(k) for each k, starting at i mod n, so that none is always first
// (or always after the same other one) and other work on the machine
// falls on all alike.
func rotate(i, n int, fn func(k int) error) error {
	for j := range n {
		if err := fn((i + j) % n); err != nil {
			return err
		}
	}
	return nil
}

// startSides starts the servers, each on a data directory of its own:
// SQLite + disk with the run's SESAME_* settings, and, unless BENCH_SKIP
// names backends, PostgreSQL + S3 with the same settings but for the
// PostgreSQL database and a bucket of the S3 server that scripts/bench.sh
// names with -pg-url and -s3-endpoint, and a key file from sesame keygen.
func (b *bench) startSides() error {
	b.sides = []*side{{server: &server{name: "SQLite + disk"}}}
	if b.cfg.on("backends") {
		pg, err := b.pgSide()
		if err != nil {
			return err
		}
		b.sides = append(b.sides, pg)
	}
	for i, sd := range b.sides {
		dir := fmt.Sprintf("server-%d", i+1)
		sd.data, sd.log = filepath.Join(b.work, dir), filepath.Join(b.work, dir+".log")
		if err := os.Mkdir(sd.data, 0o700); err != nil {
			return err
		}
		if err := b.launch(sd.server); err != nil {
			return err
		}
		if !sd.rss.proc {
			b.logf("warning: no /proc/PID/status; the peak RSS comes from the servers' rusage when they stop")
		}
		sd.res.baseRSS = sd.rss.now("VmRSS")
		b.logf("%s: baseline RSS %s MiB", sd.name, sd.res.baseRSS)
	}
	return nil
}

// pgSide is the PostgreSQL + S3 server, not yet started.
func (b *bench) pgSide() (*side, error) {
	o := &b.opts
	key := filepath.Join(b.work, "pg-secret.key")
	out, err := exec.Command(b.sesameBin, "keygen").Output()
	if err != nil {
		return nil, fmt.Errorf("sesame keygen: %v %s", err, stderrOf(err))
	}
	if err := os.WriteFile(key, out, 0o600); err != nil {
		return nil, err
	}
	pg := &side{server: &server{name: "PostgreSQL + S3", env: []string{
		"SESAME_DATABASE_URL=" + o.pgURL,
		"SESAME_SECRET_KEY_FILE=" + key,
		"SESAME_STORAGE_BACKEND=s3",
		"SESAME_STORAGE_S3_ENDPOINT=" + o.s3Endpoint,
		"SESAME_STORAGE_S3_BUCKET=sesame-bench",
		"SESAME_STORAGE_S3_ACCESS_KEY=" + o.s3Access,
		"SESAME_STORAGE_S3_SECRET_KEY=" + o.s3Secret,
		"SESAME_STORAGE_S3_TLS=false",
	}}}
	// The cluster is the postmaster and its children, the backends among
	// them, read afresh at each end of a measurement.
	pg.db = func() []int {
		if o.pgPID <= 0 {
			return nil
		}
		return append([]int{o.pgPID}, children(o.pgPID)...)
	}
	pg.s3 = func() []int {
		if o.s3PID <= 0 {
			return nil
		}
		return []int{o.s3PID}
	}
	return pg, nil
}
