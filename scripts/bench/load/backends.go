package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// backendOpts are the throw-away PostgreSQL and S3 server (versitygw)
// that scripts/bench.sh starts for the backends section. The S3 keys come
// from the environment, LOAD_S3_ACCESS_KEY and LOAD_S3_SECRET_KEY, so that
// they do not show in the process list.
type backendOpts struct {
	pgURL, pgVersion      string
	s3Endpoint, s3Version string
	s3Access, s3Secret    string
	pgPID, s3PID          int
}

func backendFlags(fs *flag.FlagSet) *backendOpts {
	o := &backendOpts{}
	fs.StringVar(&o.pgURL, "pg-url", "", "backends: a PostgreSQL database for the second server, postgres://…")
	fs.IntVar(&o.pgPID, "pg-pid", 0, "backends: the PostgreSQL postmaster's process id (for its CPU time)")
	fs.StringVar(&o.pgVersion, "pg-version", "PostgreSQL", "backends: the PostgreSQL version, for the report")
	fs.StringVar(&o.s3Endpoint, "s3-endpoint", "", "backends: the S3 server, host:port on 127.0.0.1, plain HTTP")
	fs.IntVar(&o.s3PID, "s3-pid", 0, "backends: the S3 server's process id (for its CPU time)")
	fs.StringVar(&o.s3Version, "s3-version", "versitygw", "backends: the S3 server and its version, for the report")
	return o
}

// check wants what the backends section needs when it runs.
func (o *backendOpts) check(cfg *config) error {
	if !cfg.on("backends") {
		return nil
	}
	o.s3Access, o.s3Secret = os.Getenv("LOAD_S3_ACCESS_KEY"), os.Getenv("LOAD_S3_SECRET_KEY")
	if o.pgURL == "" || o.s3Endpoint == "" || o.s3Access == "" || o.s3Secret == "" {
		return errors.New("the backends section needs -pg-url, -s3-endpoint, LOAD_S3_ACCESS_KEY and LOAD_S3_SECRET_KEY " +
			"(scripts/bench.sh starts the servers; BENCH_SKIP=backends leaves it out)")
	}
	return checkBase("http://" + o.s3Endpoint)
}

// backends is the backends section: the same downloads from a server on
// SQLite and the local disk and from one on PostgreSQL and an S3 bucket,
// interleaved run by run.
type backends struct {
	opts  backendOpts
	sides []*side // SQLite + disk, then PostgreSQL + S3

	loadBefore, loadAfter, loadDuring string
	bigLoad, wrkLoad                  string // 1-minute load when those runs began
	began                             time.Time
}

// side is one of the two servers and what was measured on it.
type side struct {
	*server
	db, s3 func() []int // the PostgreSQL and S3 servers' processes; nil on SQLite + disk

	put              float64 // MB/s of the one upload
	objID, portalURL string
	big              *visitor
	small            *small

	portal, dest []float64           // MB/s per run
	cpu          map[string]*cpuSums // CPU s summed over the runs, by method
	start, peak  string              // VmRSS before the runs, VmHWM over them (MiB)
	wrk          []wrkRun
	wrkDB, wrkS3 []cpuUse
}

// cpuSums is the CPU time of sesame, the PostgreSQL cluster and the S3
// server over some runs, in seconds.
type cpuSums struct{ sesame, db, s3 float64 }

// orNone is pids, or no processes when it is nil.
func orNone(pids func() []int) func() []int {
	if pids == nil {
		return func() []int { return nil }
	}
	return pids
}

// startHelpers starts measuring the CPU time of the side's PostgreSQL
// cluster and S3 server.
func (b *bench) startHelpers(sd *side) (db, s3 *cpuMeter) {
	return startCPU(b.hz, orNone(sd.db)), startCPU(b.hz, orNone(sd.s3))
}

// phaseBackends starts a fresh server on each backend, uploads the large
// file to both, then times downloads from the two in turn.
func (b *bench) phaseBackends() error {
	if b.server.stop() { // the main server's sections are over
		b.logf("the main server had not stopped 5 s after SIGTERM; killed it")
	}
	be := b.be
	be.began, be.loadBefore = time.Now(), loadavg()
	b.load = startLoadSampler()
	if err := b.startSides(); err != nil {
		return err
	}
	for _, step := range []func() error{b.backendsPut, b.backendsBig, b.backendsSmall} {
		if err := step(); err != nil {
			return err
		}
	}
	be.loadAfter, be.loadDuring = loadavg(), b.load.stop()
	b.load = nil
	return nil
}

// startSides starts the two servers, each on a data directory of its own
// and with none of the run's own SESAME_* settings: the first on SQLite
// and the disk (the defaults), the second on the PostgreSQL database and
// a bucket of the S3 server, with a key file from sesame keygen.
func (b *bench) startSides() error {
	o := &b.be.opts
	key := filepath.Join(b.work, "backends-secret.key")
	out, err := exec.Command(b.sesameBin, "keygen").Output()
	if err != nil {
		return fmt.Errorf("sesame keygen: %v %s", err, stderrOf(err))
	}
	if err := os.WriteFile(key, out, 0o600); err != nil {
		return err
	}
	sqlite := &side{server: &server{name: "SQLite + disk", isolated: true}}
	pg := &side{server: &server{name: "PostgreSQL + S3", isolated: true, env: []string{
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
	b.be.sides = []*side{sqlite, pg}
	for i, sd := range b.be.sides {
		dir := fmt.Sprintf("backend-%d", i+1)
		sd.data, sd.log = filepath.Join(b.work, dir), filepath.Join(b.work, dir+".log")
		sd.cpu = map[string]*cpuSums{"portal": {}, "dest": {}}
		if err := os.Mkdir(sd.data, 0o700); err != nil {
			return err
		}
		if err := b.launch(sd.server); err != nil {
			return err
		}
	}
	return nil
}

// backendsPut uploads the large file to each server once, signs in to a
// link to it and checks the bytes of a portal and a dest-url download.
func (b *bench) backendsPut() error {
	size := b.cfg.sizeBytes()
	for _, sd := range b.be.sides {
		b.logf("%s: PUT the %d MiB file, a link to it, signing in, checking bytes", sd.name, b.cfg.sizeMiB)
		secs, err := timed(func() error {
			o, err := b.putTo(sd.server, b.bigFile, 0, size, map[string]any{"folder": "/bench", "name": "big.bin"})
			if err == nil && (o.SHA256 != b.sha || o.Size != size) {
				err = fmt.Errorf("server sha256 %s and size %d, local %s and %d", o.SHA256, o.Size, b.sha, size)
			}
			if err == nil {
				sd.objID = o.ID
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("%s: PUT: %w", sd.name, err)
		}
		sd.put = mbps(size, secs)
		link, err := b.makeLinkOn(sd.server, sd.objID, 100)
		if err != nil {
			return err
		}
		if sd.big, err = b.signInOn(sd.server, link); err != nil {
			return err
		}
		sd.portalURL = sd.base + "/s/" + link + "/f/" + sd.objID
		if err := b.checkSum(sd.name+" portal download", sd.big.c, sd.portalURL, b.sha); err != nil {
			return err
		}
		url, err := b.destURLOn(sd.server, sd.objID)
		if err != nil {
			return err
		}
		if err := b.checkSum(sd.name+" dest-url download", b.xfer, url, b.sha); err != nil {
			return err
		}
	}
	return nil
}

// backendsBig downloads the large file BENCH_RUNS times through the
// portal and a dest-url of each server. A round takes the four in turn,
// starting one later each round, so that no server is always first.
func (b *bench) backendsBig() error {
	be := b.be
	b.logf("backends: GET the %d MiB file through the portal and a dest-url of each x%d, alternating", b.cfg.sizeMiB, b.cfg.runs)
	for _, sd := range be.sides {
		sd.start = sd.rss.now("VmRSS")
		sd.rss.phaseStart()
	}
	be.bigLoad = load1()
	for i := 1; i <= b.cfg.runs; i++ {
		line := ""
		for k := range 4 {
			j := (i + k) % 4
			sd, method := be.sides[j%2], [2]string{"portal", "dest"}[j/2]
			rate, err := b.backendGet(sd, method, i)
			if err != nil {
				return err
			}
			line += fmt.Sprintf("; %s %s %.1f", sd.name, method, rate)
		}
		b.logf("  round %d (MiB/s)%s", i, line)
	}
	for _, sd := range be.sides {
		sd.peak = sd.rss.phasePeak()
	}
	return nil
}

// backendGet is one timed download of the large file from a side, with
// the CPU time of its server and of the servers it uses.
func (b *bench) backendGet(sd *side, method string, i int) (float64, error) {
	url, c := sd.portalURL, sd.big.c
	if method == "dest" {
		u, err := b.destURLOn(sd.server, sd.objID)
		if err != nil {
			return 0, err
		}
		url, c = u, b.xfer
	}
	m := startCPU(b.hz, sd.pids)
	dm, sm := b.startHelpers(sd)
	f, err := get(c, url, false)
	sums := sd.cpu[method]
	sums.sesame += m.stop(0).secs
	sums.db += dm.stop(0).secs
	sums.s3 += sm.stop(0).secs
	if err == nil {
		err = f.want(sd.name+" "+method+" GET", i, b.cfg.sizeBytes())
	}
	if err != nil {
		return 0, err
	}
	rate := mbps(f.n, f.secs)
	if method == "dest" {
		sd.dest = append(sd.dest, rate)
	} else {
		sd.portal = append(sd.portal, rate)
	}
	return rate, nil
}

// backendsSmall uploads the small file to each server, signs in to a
// link to it, and runs wrk against the two portals in turn.
func (b *bench) backendsSmall() error {
	c, be := b.cfg, b.be
	path := filepath.Join(b.work, "backends-small.bin")
	sum, err := randomFile(path, c.smallBytes())
	if err != nil {
		return err
	}
	for _, sd := range be.sides {
		b.logf("%s: a %d KiB file, a link to it, signing in", sd.name, c.smallKiB)
		if sd.small, err = b.smallOn(sd.server, path, sum); err != nil {
			return fmt.Errorf("%s: %w", sd.name, err)
		}
	}
	b.logf("backends: wrk -t%d -c%d -d%ds: %d KiB from each portal x%d, alternating",
		c.wrkThreads, c.wrkConns, c.wrkSeconds, c.smallKiB, c.wrkRuns)
	be.wrkLoad = load1()
	for i := 1; i <= c.wrkRuns; i++ {
		for k := range 2 {
			sd := be.sides[(i+k)%2]
			dm, sm := b.startHelpers(sd)
			r, err := b.runWrk(sd.small.url, sd.small.cookie, sd.pids)
			du, su := dm.stop(0), sm.stop(0)
			if err == nil {
				err = b.checkRead(sd.name+" portal", r)
			}
			if err != nil {
				return err
			}
			sd.wrk, sd.wrkDB, sd.wrkS3 = append(sd.wrk, r), append(sd.wrkDB, du), append(sd.wrkS3, su)
			b.logf("  %s %d: %.0f req/s, p50 %.2f ms, p99 %.2f ms, timeouts %d; CPUs busy: sesame %.2f, PostgreSQL %.2f, S3 server %.2f",
				sd.name, i, r.rps, r.p50, r.p99, r.tmo, r.use.busy, du.busy, su.busy)
		}
	}
	return nil
}
