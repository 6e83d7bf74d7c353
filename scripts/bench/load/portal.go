package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// makeLinkOn creates a download link on s to target with one password
// (the run's) and at most maxAccess sign-ins; it returns the link's token.
func (b *bench) makeLinkOn(s *server, target string, maxAccess int) (string, error) {
	var res struct {
		Links []linkObject `json:"share_link_objects"`
	}
	body := map[string]any{"links": []any{map[string]any{
		"targets":          []string{target},
		"link_type":        "download",
		"authenticators":   []any{map[string]string{"auth_type": "password", "auth_context": b.linkPassword}},
		"max_access_count": maxAccess,
	}}}
	if err := b.callOn(s, "/v1/share/link/create", body, &res); err != nil {
		return "", err
	}
	if len(res.Links) != 1 || len(linkToken(res.Links[0].Link)) != 43 {
		return "", fmt.Errorf("link create returned %+v", res.Links)
	}
	return linkToken(res.Links[0].Link), nil
}

// signInOn signs in to a link of s as a browser would: GET the sign-in
// page (which sets the pre-session cookie), take its csrf and auth fields,
// POST the password; the visitor's jar then holds the session cookie.
func (b *bench) signInOn(s *server, link string) (*visitor, error) {
	v := newVisitor(b.xfer, s.base, link)
	if err := v.password(b.linkPassword); err != nil {
		return nil, fmt.Errorf("sign-in to /s/%s: %w", link, err)
	}
	return v, nil
}

// findBlob finds the blob of an object on the disk of SQLite + disk: the
// newest file of this size under <data>/blobs, and with this sha256 when
// sum is set.
func (b *bench) findBlob(size int64, sum string) (string, error) {
	var best string
	var bestTime time.Time
	err := filepath.WalkDir(filepath.Join(b.lite().data, "blobs"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil || info.Size() != size || (best != "" && info.ModTime().Before(bestTime)) {
			return nil
		}
		if sum != "" {
			if s, err := fileSum(p); err != nil || s != sum {
				return nil
			}
		}
		best, bestTime = p, info.ModTime()
		return nil
	})
	return best, err
}

func fileSum(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// blobName shows a blob's path under the data directory, its key hidden.
func (b *bench) blobName(p string) string {
	rel, err := filepath.Rel(b.lite().data, p)
	if err != nil {
		return p
	}
	return filepath.Join(filepath.Dir(rel), "<key>")
}

// phasePortal signs in to a link to the large file on each server and
// checks its bytes; then, unless skipped, times portal downloads from
// each against http.ServeFile.
func (b *bench) phasePortal() error {
	for _, sd := range b.sides {
		b.logf("%s: portal: a link to the %d MiB file, signing in, checking bytes", sd.name, b.cfg.sizeMiB)
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
	}
	// The references (servefile, nginx) serve the very blob the portal
	// of SQLite + disk reads: same inode, same page-cache pages.
	blob, err := b.findBlob(b.cfg.sizeBytes(), "")
	if err != nil {
		return err
	}
	b.blob, b.blobDesc = blob, "the blob the SQLite + disk portal serves, "+b.blobName(blob)
	if blob == "" {
		b.blob, b.blobDesc = b.bigFile, "the original local file (the blob was not found under the data directory)"
	}
	if !b.cfg.on("servefile") {
		return nil
	}
	sf, sfURL, err := b.startServefile()
	if err != nil {
		return err
	}
	defer stopProc(sf)
	return b.portalRuns(sf, sfURL)
}

// startServefile runs scripts/bench/servefile on the blob.
func (b *bench) startServefile() (*exec.Cmd, string, error) {
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	logPath := filepath.Join(b.work, "servefile.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, "", err
	}
	defer logf.Close()
	sf := exec.Command(b.servefileBin, "-file", b.blob, "-listen", "127.0.0.1:"+strconv.Itoa(port))
	sf.Stdout, sf.Stderr = logf, logf
	if err := sf.Start(); err != nil {
		return nil, "", err
	}
	b.track(sf)
	url := fmt.Sprintf("http://127.0.0.1:%d/%s", port, filepath.Base(b.blob))
	if err := waitServing(url); err != nil {
		log, _ := os.ReadFile(logPath)
		return nil, "", fmt.Errorf("servefile: %w: %s", err, log)
	}
	b.logf("servefile serves %s on port %d", b.blobDesc, port)
	b.logf("servefile: checking bytes")
	return sf, url, b.checkSum("servefile download", b.xfer, url, b.sha)
}

// waitServing waits up to 10 s for url to answer its first byte.
func waitServing(url string) error {
	c := client(1)
	for range 100 {
		if f, err := get(c, url, false, "Range: bytes=0-0"); err == nil && f.status/100 == 2 {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New(url + " did not answer within 10 s")
}

// portalRuns downloads through the portal of each server and from
// servefile, one after the other, BENCH_RUNS times, so that other work
// weighs on all alike.
func (b *bench) portalRuns(sf *exec.Cmd, sfURL string) error {
	b.logf("GET portal file of each server and servefile x%d, alternating", b.cfg.runs)
	for _, sd := range b.sides {
		sd.res.portalStart = sd.rss.now("VmRSS")
		sd.rss.phaseStart()
	}
	sfPID := sf.Process.Pid
	resetHWM(sfPID)
	sfGroup := procGroup{main: func() []int { return []int{sfPID} }}
	size := b.cfg.sizeBytes()
	for i := 1; i <= b.cfg.runs; i++ {
		line := ""
		err := rotate(i, len(b.sides)+1, func(k int) error {
			url, c, what, g := sfURL, b.xfer, "servefile", sfGroup
			rates, cpu := &b.res.servefile, &b.res.servefileCPU
			if k > 0 {
				sd := b.sides[k-1]
				url, c, what, g, rates, cpu = sd.portalURL, sd.big.c, sd.name+" portal", sd.group(), &sd.res.portal, &sd.res.portalCPU
			}
			stop := b.startGroup(g)
			f, err := get(c, url, false)
			cpu.add(stop(0))
			if err == nil {
				err = f.want(what+" GET", i, size)
			}
			if err != nil {
				return err
			}
			*rates = append(*rates, mbps(f.n, f.secs))
			line += fmt.Sprintf("; %s %.1f", what, mbps(f.n, f.secs))
			return nil
		})
		if err != nil {
			return err
		}
		b.logf("  round %d (MiB/s)%s", i, line)
	}
	for _, sd := range b.sides {
		sd.res.portalPeak = sd.rss.phasePeak()
	}
	b.res.servefilePeak = "-"
	if b.lite().rss.proc {
		b.res.servefilePeak = mibOf(statusKiB(sfPID, "VmHWM"))
	}
	return nil
}
