package main

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// zipInfo is what the ZIP section found out about a server's archive and
// measured.
type zipInfo struct {
	partSize, bytes              int64
	uploadSecs                   float64
	entries, files, dirs, stored int
	start, peak                  string // server RSS, MiB
	cpu                          cpuSums
	rates, single                []float64 // MB/s: the ZIP, and the large file through the portal in the same rounds
}

// zipSet is a server's folder of parts and a visitor signed in to a link
// to it.
type zipSet struct {
	url string
	v   *visitor
}

// phaseZip splits the large file into BENCH_ZIP_FILES parts (the last
// takes the remainder), uploads them into one folder of each server 2 at
// a time, checks each folder's ZIP once and times BENCH_RUNS downloads of
// each, alternating. The parts are random bytes, so the ZIP stores them
// and is as large as the data, and the entries read in order are the
// large file again.
func (b *bench) phaseZip() error {
	if !b.cfg.on("zip") {
		return nil
	}
	for _, sd := range b.sides {
		if err := b.zipSetup(sd); err != nil {
			return fmt.Errorf("%s: %w", sd.name, err)
		}
	}
	return b.zipRuns()
}

// zipSetup makes the folder of parts on a server, a link to it, and
// checks its ZIP.
func (b *bench) zipSetup(sd *side) error {
	b.logf("%s: ZIP: uploading %d files (%d MiB in all) into one folder, 2 at a time", sd.name, b.cfg.zipFiles, b.cfg.sizeMiB)
	var folder struct {
		Object object `json:"object"`
	}
	if err := b.callOn(sd.server, "/v1/folder/create", map[string]any{"path": "/zipset"}, &folder); err != nil {
		return err
	}
	z := &sd.res.zip
	if err := b.uploadParts(sd, folder.Object.ID, z); err != nil {
		return err
	}
	b.logf("  uploaded in %.1fs; a link to the folder, signing in", z.uploadSecs)
	link, err := b.makeLinkOn(sd.server, folder.Object.ID, 100)
	if err != nil {
		return err
	}
	v, err := b.signInOn(sd.server, link)
	if err != nil {
		return err
	}
	sd.zip = &zipSet{url: sd.base + "/s/" + link + "/zip", v: v}
	b.logf("  checking the archive once (saved to disk)")
	if err := b.checkZip(v, sd.zip.url, z); err != nil {
		return err
	}
	b.logf("  %d entries (%d files, %d folder, %d stored), %d bytes, CRCs and sha256 ok", z.entries, z.files, z.dirs, z.stored, z.bytes)
	return nil
}

// uploadParts uploads the parts of the large file into a folder.
func (b *bench) uploadParts(sd *side, folder string, z *zipInfo) error {
	n := int64(b.cfg.zipFiles)
	size := b.cfg.sizeBytes()
	z.partSize = size / n
	var mu sync.Mutex
	var firstErr error
	t0 := time.Now()
	forEach(int(n), 2, func(i int) {
		off := int64(i) * z.partSize
		l := z.partSize
		if int64(i) == n-1 {
			l = size - off
		}
		name := fmt.Sprintf("part-%04d.bin", i)
		o, err := b.putTo(sd.server, b.bigFile, off, l, map[string]any{"parent_id": folder, "name": name})
		if err == nil && (o.Size != l || o.ParentID != folder) {
			err = fmt.Errorf("size %d (local %d), parent %s", o.Size, l, o.ParentID)
		}
		if err != nil {
			mu.Lock()
			if firstErr == nil {
				firstErr = fmt.Errorf("PUT %s: %w", name, err)
			}
			mu.Unlock()
		}
	})
	z.uploadSecs = time.Since(t0).Seconds()
	return firstErr
}

// checkZip saves the ZIP once and reads it back: every entry's CRC is
// checked as it is read, and the files, in name order, must be the large
// file again.
func (b *bench) checkZip(v *visitor, url string, z *zipInfo) error {
	path := filepath.Join(b.work, "all.zip")
	defer os.Remove(path)
	if err := download(v, url, path); err != nil {
		return err
	}
	r, err := zip.OpenReader(path)
	if err != nil {
		return fmt.Errorf("the ZIP: %w", err)
	}
	defer r.Close()
	var files []*zip.File
	for _, f := range r.File {
		if !strings.HasSuffix(f.Name, "/") {
			files = append(files, f)
		}
	}
	slices.SortFunc(files, func(a, b *zip.File) int { return strings.Compare(a.Name, b.Name) })
	z.entries, z.files, z.dirs = len(r.File), len(files), len(r.File)-len(files)
	if z.files != b.cfg.zipFiles {
		return fmt.Errorf("the ZIP has %d files, want %d", z.files, b.cfg.zipFiles)
	}
	h := sha256.New()
	for _, f := range files {
		if f.Method == zip.Store {
			z.stored++
		}
		if err := readEntry(f, h); err != nil {
			return err
		}
	}
	if hex.EncodeToString(h.Sum(nil)) != b.sha {
		return fmt.Errorf("the ZIP's files, in order, do not add up to the large file")
	}
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	z.bytes = info.Size()
	return nil
}

// readEntry copies an entry into w; archive/zip checks its CRC at the end.
func readEntry(f *zip.File, w io.Writer) error {
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("the ZIP's %s: %w", f.Name, err)
	}
	defer rc.Close()
	if _, err := io.Copy(w, rc); err != nil {
		return fmt.Errorf("the ZIP's %s: %w", f.Name, err)
	}
	return nil
}

// download saves a portal URL to path.
func download(v *visitor, url, path string) error {
	resp, err := v.c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.CopyBuffer(f, resp.Body, make([]byte, 1<<20)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// zipRuns times BENCH_RUNS downloads of each server's ZIP, each followed
// by a portal download of the large file from the same server (the
// single-file rate the ZIP's is compared with), with the server's CPU
// time and peak RSS; the servers alternate.
func (b *bench) zipRuns() error {
	b.logf("GET portal ZIP and the large file x%d from each server, alternating", b.cfg.runs)
	for _, sd := range b.sides {
		sd.res.zip.start = sd.rss.now("VmRSS")
		sd.rss.phaseStart()
	}
	for i := 1; i <= b.cfg.runs; i++ {
		if err := rotate(i, len(b.sides), func(k int) error { return b.zipRun(b.sides[k], i) }); err != nil {
			return err
		}
	}
	for _, sd := range b.sides {
		sd.res.zip.peak = sd.rss.phasePeak()
	}
	return nil
}

// zipRun is one timed ZIP download and one of the large file.
func (b *bench) zipRun(sd *side, i int) error {
	z := &sd.res.zip
	stop := b.startGroup(sd.group())
	f, err := get(sd.zip.v.c, sd.zip.url, false)
	z.cpu.add(stop(0))
	if err == nil {
		err = f.want(sd.name+" ZIP GET", i, z.bytes)
	}
	if err != nil {
		return err
	}
	z.rates = append(z.rates, mbps(f.n, f.secs))
	f2, err := get(sd.big.c, sd.portalURL, false)
	if err == nil {
		err = f2.want(sd.name+" portal GET (after the ZIP)", i, b.cfg.sizeBytes())
	}
	if err != nil {
		return err
	}
	z.single = append(z.single, mbps(f2.n, f2.secs))
	b.logf("  %s: GET ZIP %d: %.2fs, %.1f MiB/s; the large file %.1f MiB/s", sd.name, i, f.secs, mbps(f.n, f.secs), mbps(f2.n, f2.secs))
	return nil
}
