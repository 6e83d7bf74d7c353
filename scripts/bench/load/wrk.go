package main

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
)

// small is the small file of the wrk section: uploaded, a link to it and
// one sign-in whose session cookie every wrk request carries (a download
// does not count as an access).
type small struct {
	id, sum     string
	blob, src   string
	url, cookie string
}

// wrkRun is one wrk run: its figures and the CPU use of whoever served it.
type wrkRun struct {
	rps, p50, p99  float64 // requests/s; latencies in ms
	n              int64   // requests
	perReq         float64 // bytes read per request
	bad, errs, tmo int64   // non-2xx/3xx replies, socket errors, timeouts
	use            cpuUse
}

// smallResult holds the wrk rows: portal, nginx, static and dest.
type smallResult struct {
	src, load string
	rows      map[string][]wrkRun
}

func (b *bench) smallSetup() (*small, error) {
	b.logf("small: a %d KiB file, a link to it, signing in", b.cfg.smallKiB)
	path := filepath.Join(b.work, "small.bin")
	sum, err := randomFile(path, b.cfg.smallBytes())
	if err != nil {
		return nil, err
	}
	s, err := b.smallOn(b.server, path, sum)
	if err != nil {
		return nil, err
	}
	s.src = "the blob the portal serves"
	if s.blob, err = b.findBlob(b.cfg.smallBytes(), sum); err != nil {
		return nil, err
	}
	if s.blob == "" {
		s.blob, s.src = path, "the original local file (the blob was not found under the data directory)"
	}
	return s, nil
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
// the CPU use of pids meanwhile.
func (b *bench) runWrk(url, cookie string, pids func() []int) (wrkRun, error) {
	c := b.cfg
	args := []string{"-t", strconv.Itoa(c.wrkThreads), "-c", strconv.Itoa(c.wrkConns), "-d", strconv.Itoa(c.wrkSeconds) + "s",
		"--timeout", "10s", "--latency"}
	if cookie != "" {
		args = append(args, "-H", "Cookie: "+cookie)
	}
	m := startCPU(b.hz, pids)
	out, err := exec.Command("wrk", append(args, url)...).CombinedOutput()
	use := m.stop(0)
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

// phaseWrk runs wrk against the portal and nginx, alternating, then once
// against /static/portal.css and the small file's dest-url, to tell the
// HTTP stack from the database work.
func (b *bench) phaseWrk(ng *nginx, s *small) error {
	b.logf("nginx: checking the small file")
	if err := b.checkSum("nginx small download", b.xfer, ng.base+"/small.bin", s.sum); err != nil {
		return err
	}
	dest, err := b.destURL(s.id)
	if err != nil {
		return err
	}
	if err := b.checkSum("dest-url small download", b.xfer, dest, s.sum); err != nil {
		return err
	}
	c := b.cfg
	b.logf("wrk -t%d -c%d -d%ds: %d KiB from the portal and nginx x%d, alternating", c.wrkThreads, c.wrkConns, c.wrkSeconds, c.smallKiB, c.wrkRuns)
	res := &b.res.small
	res.src, res.load, res.rows = s.src, load1(), map[string][]wrkRun{}
	for i := 1; i <= c.wrkRuns; i++ {
		for k := range 2 {
			name, url, cookie, pids := "nginx", ng.base+"/small.bin", "", ng.pids
			if (i+k)%2 == 1 {
				name, url, cookie, pids = "portal", s.url, s.cookie, b.serverPIDs
			}
			if err := b.wrkRow(name, url, cookie, pids, true); err != nil {
				return err
			}
		}
	}
	b.logf("  diagnostics: GET /static/portal.css and the small file's dest-url, once each")
	if err := b.wrkRow("static", b.base+"/static/portal.css", "", b.serverPIDs, false); err != nil {
		return err
	}
	return b.wrkRow("dest", dest, "", b.serverPIDs, true)
}

// wrkRow runs wrk once and adds the run to a row.
func (b *bench) wrkRow(name, url, cookie string, pids func() []int, download bool) error {
	r, err := b.runWrk(url, cookie, pids)
	if err == nil && download {
		err = b.checkRead(name, r)
	}
	if err != nil {
		return err
	}
	rows := b.res.small.rows
	rows[name] = append(rows[name], r)
	b.logf("  %s %d: %.0f req/s, p50 %.2f ms, p99 %.2f ms, timeouts %d, CPUs busy %.2f, waiting for a CPU %.2f",
		name, len(rows[name]), r.rps, r.p50, r.p99, r.tmo, r.use.busy, r.use.wait)
	return nil
}
