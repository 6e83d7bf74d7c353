package main

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
)

// small is a server's small file of the wrk section: uploaded, a link to
// it and one sign-in whose session cookie every wrk request carries (a
// download does not count as an access).
type small struct {
	id, sum     string
	url, cookie string
}

// wrkRun is one wrk run: its figures and the CPU use of whoever served it.
type wrkRun struct {
	rps, p50, p99  float64 // requests/s; latencies in ms
	n              int64   // requests
	perReq         float64 // bytes read per request
	bad, errs, tmo int64   // non-2xx/3xx replies, socket errors, timeouts
	use            groupUse
}

// smallResult is the run-wide part of the wrk section: the blob nginx
// serves, the load when it began and nginx's runs. Each server keeps its
// own rows (sideResults.wrk).
type smallResult struct {
	src, load string
	nginx     []wrkRun
}

// smallSetup makes a 10 KiB file, uploads it to each server with a link
// and a session (smallOn), and returns the blob of SQLite + disk, which
// nginx serves.
func (b *bench) smallSetup() (string, error) {
	path := filepath.Join(b.work, "small.bin")
	sum, err := randomFile(path, b.cfg.smallBytes())
	if err != nil {
		return "", err
	}
	for _, sd := range b.sides {
		b.logf("%s: small: a %d KiB file, a link to it, signing in", sd.name, b.cfg.smallKiB)
		if sd.small, err = b.smallOn(sd.server, path, sum); err != nil {
			return "", fmt.Errorf("%s: %w", sd.name, err)
		}
	}
	b.res.small.src = "the blob the SQLite + disk portal serves"
	blob, err := b.findBlob(b.cfg.smallBytes(), sum)
	if err != nil {
		return "", err
	}
	if blob == "" {
		blob, b.res.small.src = path, "the original local file (the blob was not found under the data directory)"
	}
	return blob, nil
}

// smallOn uploads the small file (at path, with that sha256) to srv,
// makes a link to it and signs in; it checks the bytes once with the
// session cookie.
func (b *bench) smallOn(srv *server, path, sum string) (*small, error) {
	o, err := b.putTo(srv, path, 0, b.cfg.smallBytes(), map[string]any{"folder": "/bench", "name": "small.bin"})
	if err != nil {
		return nil, fmt.Errorf("PUT of the small file: %w", err)
	}
	if o.SHA256 != sum {
		return nil, fmt.Errorf("small file: server sha256 %s, local %s", o.SHA256, sum)
	}
	s := &small{id: o.ID, sum: sum}
	link, err := b.makeLinkOn(srv, o.ID, 1000)
	if err != nil {
		return nil, err
	}
	v, err := b.signInOn(srv, link)
	if err != nil {
		return nil, err
	}
	if s.cookie = v.session(); s.cookie == "" {
		return nil, errors.New("no session cookie after signing in to the small file's link")
	}
	s.url = srv.base + "/s/" + link + "/f/" + o.ID
	return s, b.checkSum("portal download of the small file with the session cookie", b.xfer, s.url, sum, "Cookie: "+s.cookie)
}

var (
	wrkRPSRE  = regexp.MustCompile(`Requests/sec:\s*([\d.]+)`)
	wrkP50RE  = regexp.MustCompile(`(?m)^\s*50%\s+(\S+)`)
	wrkP99RE  = regexp.MustCompile(`(?m)^\s*99%\s+(\S+)`)
	wrkReadRE = regexp.MustCompile(`(\d+) requests in [\d.]+\w+, ([\d.]+)(\w+) read`)
	wrkBadRE  = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	wrkSockRE = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkDurRE  = regexp.MustCompile(`^([\d.]+)(us|ms|s|m|h)$`)
	wrkDurMS  = map[string]float64{"us": 0.001, "ms": 1, "s": 1000, "m": 60000, "h": 3600000}
	wrkSizeOf = map[string]float64{"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40}
)

// wrkMS reads one of wrk's durations (such as 35.19ms or 1.02s) in ms.
func wrkMS(s string) float64 {
	m := wrkDurRE.FindStringSubmatch(s)
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v * wrkDurMS[m[2]]
}

func atoi64(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// parseWrk reads wrk's report (run with --latency).
func parseWrk(out string) (wrkRun, error) {
	var r wrkRun
	m := wrkRPSRE.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("no Requests/sec in wrk's output:\n%s", out)
	}
	r.rps, _ = strconv.ParseFloat(m[1], 64)
	if m := wrkP50RE.FindStringSubmatch(out); m != nil {
		r.p50 = wrkMS(m[1])
	}
	if m := wrkP99RE.FindStringSubmatch(out); m != nil {
		r.p99 = wrkMS(m[1])
	}
	if m := wrkReadRE.FindStringSubmatch(out); m != nil {
		r.n = atoi64(m[1])
		v, _ := strconv.ParseFloat(m[2], 64)
		if r.n > 0 {
			r.perReq = v * wrkSizeOf[m[3]] / float64(r.n)
		}
	}
	if m := wrkBadRE.FindStringSubmatch(out); m != nil {
		r.bad = atoi64(m[1])
	}
	if m := wrkSockRE.FindStringSubmatch(out); m != nil {
		r.errs = atoi64(m[1]) + atoi64(m[2]) + atoi64(m[3])
		r.tmo = atoi64(m[4])
	}
	return r, nil
}

// runWrk runs wrk against url (with the cookie when given) and measures
// the CPU use of the group meanwhile.
func (b *bench) runWrk(url, cookie string, g procGroup) (wrkRun, error) {
	c := b.cfg
	args := []string{"-t", strconv.Itoa(c.wrkThreads), "-c", strconv.Itoa(c.wrkConns), "-d", strconv.Itoa(c.wrkSeconds) + "s",
		"--timeout", "10s", "--latency"}
	if cookie != "" {
		args = append(args, "-H", "Cookie: "+cookie)
	}
	stop := b.startGroup(g)
	out, err := exec.Command("wrk", append(args, url)...).CombinedOutput()
	use := stop(0)
	if err != nil {
		return wrkRun{}, fmt.Errorf("wrk failed: %v: %s", err, out)
	}
	r, err := parseWrk(string(out))
	r.use = use
	return r, err
}

// checkRead wants a download row to have read the file each time (a
// request without a valid session would get a short redirect).
func (b *bench) checkRead(name string, r wrkRun) error {
	if r.n > 0 && r.perReq < float64(b.cfg.smallBytes()) {
		return fmt.Errorf("%s: %.0f bytes read per request, less than the %d-byte file (not signed in?)", name, r.perReq, b.cfg.smallBytes())
	}
	return nil
}

// phaseWrk runs wrk against nginx and the portal of each server, in
// turn; then once against /static/portal.css and the small file's
// dest-url of each, to tell the HTTP stack from the database work.
func (b *bench) phaseWrk(ng *nginx) error {
	b.logf("nginx: checking the small file")
	lite := b.lite()
	if err := b.checkSum("nginx small download", b.xfer, ng.base+"/small.bin", lite.small.sum); err != nil {
		return err
	}
	dests := make([]string, len(b.sides))
	for k, sd := range b.sides {
		url, err := b.destURLOn(sd.server, sd.small.id)
		if err != nil {
			return err
		}
		if err := b.checkSum(sd.name+" dest-url small download", b.xfer, url, sd.small.sum); err != nil {
			return err
		}
		dests[k] = url
		sd.res.wrk = map[string][]wrkRun{}
	}
	if err := b.wrkRounds(ng); err != nil {
		return err
	}
	b.logf("  diagnostics: GET /static/portal.css and the small file's dest-url of each server, once each")
	for k, sd := range b.sides {
		if err := b.wrkRow(sd, "static", sd.base+"/static/portal.css", "", false); err != nil {
			return err
		}
		if err := b.wrkRow(sd, "dest", dests[k], "", true); err != nil {
			return err
		}
	}
	return nil
}

// wrkRounds runs wrk BENCH_WRK_RUNS times each against nginx and each
// portal, in turn, with each server's peak RSS over its runs (VmHWM reset
// before them: the others' runs leave it idle) and nginx's workers' peak.
func (b *bench) wrkRounds(ng *nginx) error {
	c, res := b.cfg, &b.res.small
	b.logf("wrk -t%d -c%d -d%ds: %d KiB from nginx and each portal x%d, alternating",
		c.wrkThreads, c.wrkConns, c.wrkSeconds, c.smallKiB, c.wrkRuns)
	res.load = load1()
	for _, sd := range b.sides {
		sd.res.wrkStart = sd.rss.now("VmRSS")
		sd.rss.phaseStart()
	}
	for i := 1; i <= c.wrkRuns; i++ {
		err := rotate(i, 1+len(b.sides), func(k int) error {
			if k > 0 {
				sd := b.sides[k-1]
				return b.wrkRow(sd, "portal", sd.small.url, sd.small.cookie, true)
			}
			r, err := b.runWrk(ng.base+"/small.bin", "", procGroup{main: ng.pids})
			if err == nil {
				err = b.checkRead("nginx", r)
			}
			if err != nil {
				return err
			}
			res.nginx = append(res.nginx, r)
			b.logf("  nginx %d: %.0f req/s, p50 %.2f ms, p99 %.2f ms, timeouts %d, CPUs busy %.2f, waiting for a CPU %.2f",
				len(res.nginx), r.rps, r.p50, r.p99, r.tmo, r.use.main.busy, r.use.main.wait)
			return nil
		})
		if err != nil {
			return err
		}
	}
	for _, sd := range b.sides {
		sd.res.wrkPeak = sd.rss.phasePeak()
	}
	b.res.nginx.workerPeak = "n/a"
	var peak int64
	for _, pid := range children(ng.cmd.Process.Pid) {
		if kib, ok := statusKiB(pid, "VmHWM"); ok {
			peak = max(peak, kib)
			b.res.nginx.workerPeak = mibOf(peak, true)
		}
	}
	return nil
}

// wrkRow runs wrk once against a server and adds the run to its row.
func (b *bench) wrkRow(sd *side, name, url, cookie string, download bool) error {
	r, err := b.runWrk(url, cookie, sd.group())
	if err == nil && download {
		err = b.checkRead(sd.name+" "+name, r)
	}
	if err != nil {
		return err
	}
	rows := sd.res.wrk
	rows[name] = append(rows[name], r)
	b.logf("  %s %s %d: %.0f req/s, p50 %.2f ms, p99 %.2f ms, timeouts %d; CPUs busy: sesame %.2f (waiting for a CPU %.2f)%s",
		sd.name, name, len(rows[name]), r.rps, r.p50, r.p99, r.tmo, r.use.main.busy, r.use.main.wait, helperBusy(r.use))
	return nil
}

// helperBusy is the CPUs a database and an S3 server kept busy, for a log
// line; nothing without them.
func helperBusy(u groupUse) string {
	if !u.helpers {
		return ""
	}
	return fmt.Sprintf(", PostgreSQL %.2f, S3 server %.2f", u.db.busy, u.s3.busy)
}
