package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"strings"
	"time"
)

// fetched is one download: its bytes, time, status and, when asked for,
// the sha256 of its body.
type fetched struct {
	n      int64
	secs   float64
	status int
	sum    string
}

// discard takes bytes and drops them; unlike io.Discard it has no
// ReadFrom, so that copies use the caller's large buffer.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// fetch sends req and reads the whole reply, timing both.
func fetch(c *http.Client, req *http.Request, withSum bool) (fetched, error) {
	t0 := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return fetched{}, err
	}
	defer resp.Body.Close()
	var h hash.Hash
	var w io.Writer = discard{}
	if withSum {
		h = sha256.New()
		w = h
	}
	n, err := io.CopyBuffer(w, resp.Body, make([]byte, 1<<20))
	f := fetched{n: n, secs: time.Since(t0).Seconds(), status: resp.StatusCode}
	if h != nil {
		f.sum = hex.EncodeToString(h.Sum(nil))
	}
	return f, err
}

// get fetches a URL with the given header lines ("Name: value").
func get(c *http.Client, url string, withSum bool, header ...string) (fetched, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return fetched{}, err
	}
	for _, h := range header {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	return fetch(c, req, withSum)
}

// want checks a timed download: status 200 and exactly n bytes.
func (f fetched) want(what string, i int, n int64) error {
	if f.status != http.StatusOK || f.n != n {
		return fmt.Errorf("%s %d: HTTP %d, %d bytes (want %d)", what, i, f.status, f.n, n)
	}
	return nil
}

// object is the part of an API object the benchmark checks.
type object struct {
	ID       string `json:"id"`
	SHA256   string `json:"sha256"`
	Size     int64  `json:"size"`
	ParentID string `json:"parent_id"`
}

// putTo uploads size bytes of path from off to s as a multipart /v1/put
// with the given request part, as curl -F would (with a Content-Length).
func (b *bench) putTo(s *server, path string, off, size int64, request map[string]any) (*object, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	js, _ := json.Marshal(request)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="request"`)
	h.Set("Content-Type", "application/json")
	pw, _ := mw.CreatePart(h)
	pw.Write(js)
	h = textproto.MIMEHeader{}
	h.Set("Content-Disposition", mime.FormatMediaType("form-data", map[string]string{"name": "file", "filename": fmt.Sprint(request["name"])}))
	h.Set("Content-Type", "application/octet-stream")
	mw.CreatePart(h)
	head := bytes.Clone(buf.Bytes())
	buf.Reset()
	mw.Close()
	body := io.MultiReader(bytes.NewReader(head), io.NewSectionReader(f, off, size), &buf)
	req, err := http.NewRequest(http.MethodPost, s.base+"/v1/put", body)
	if err != nil {
		return nil, err
	}
	req.ContentLength = int64(len(head)) + size + int64(buf.Len())
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+s.token)
	return b.objectReply("/v1/put", req)
}

func (b *bench) objectReply(path string, req *http.Request) (*object, error) {
	resp, err := b.xfer.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %d: %.500s", path, resp.StatusCode, data)
	}
	var res struct {
		Object object `json:"object"`
	}
	if err := decodeEnvelope(path, data, &res); err != nil {
		return nil, err
	}
	return &res.Object, nil
}

// callOn is an API call to s with its token.
func (b *bench) callOn(s *server, path string, body, out any) error {
	return api(b.api, s.base, s.token, path, body, out)
}

// phasePut times BENCH_RUNS uploads of the large file to each server,
// alternating (one each when the section is skipped: the other sections
// need the object).
func (b *bench) phasePut() error {
	runs := b.cfg.runs
	if !b.cfg.on("put") {
		runs = 1
	}
	b.logf("PUT x%d on each server, alternating", runs)
	for _, sd := range b.sides {
		sd.rss.phaseStart()
	}
	for i := 1; i <= runs; i++ {
		if err := rotate(i, len(b.sides), func(k int) error { return b.putRun(b.sides[k], i) }); err != nil {
			return err
		}
	}
	for _, sd := range b.sides {
		sd.res.putPeak = sd.rss.phasePeak()
	}
	return nil
}

// putRun is one timed upload of the large file to a server, in place of
// the one before.
func (b *bench) putRun(sd *side, i int) error {
	if sd.objID != "" {
		if err := b.callOn(sd.server, "/v1/delete", map[string]any{"id": sd.objID}, nil); err != nil {
			return err
		}
	}
	size := b.cfg.sizeBytes()
	t0 := time.Now()
	obj, err := b.putTo(sd.server, b.bigFile, 0, size, map[string]any{"folder": "/bench", "name": fmt.Sprintf("big-%d.bin", i)})
	secs := time.Since(t0).Seconds()
	if err != nil {
		return fmt.Errorf("%s: PUT %d: %w", sd.name, i, err)
	}
	if obj.SHA256 != b.sha || obj.Size != size {
		return fmt.Errorf("%s: PUT %d: server sha256 %s and size %d, local %s and %d", sd.name, i, obj.SHA256, obj.Size, b.sha, size)
	}
	sd.objID = obj.ID
	sd.res.put = append(sd.res.put, mbps(size, secs))
	b.logf("  %s: PUT %d: %.2fs, %.1f MiB/s (sha256 ok)", sd.name, i, secs, mbps(size, secs))
	return nil
}

// destURLOn asks s for a fresh dest-url of an object.
func (b *bench) destURLOn(s *server, id string) (string, error) {
	var res struct {
		DestURL string `json:"dest_url"`
	}
	err := b.callOn(s, "/v1/get", map[string]any{"id": id, "transfer_method": "dest-url"}, &res)
	return res.DestURL, err
}

// phaseDest checks each server's dest-url bytes (and a Range request),
// then times BENCH_RUNS downloads from each, alternating, each from a
// fresh dest-url.
func (b *bench) phaseDest() error {
	if !b.cfg.on("dest") {
		return nil
	}
	for _, sd := range b.sides {
		b.logf("%s: GET dest-url: checking bytes", sd.name)
		url, err := b.destURLOn(sd.server, sd.objID)
		if err != nil {
			return err
		}
		if err := b.checkSum(sd.name+" dest-url download", b.xfer, url, b.sha); err != nil {
			return err
		}
		if err := b.checkRange(sd.name, url); err != nil {
			return err
		}
		sd.rss.phaseStart()
	}
	b.logf("GET dest-url x%d from each server, alternating", b.cfg.runs)
	for i := 1; i <= b.cfg.runs; i++ {
		err := rotate(i, len(b.sides), func(k int) error {
			sd := b.sides[k]
			url, err := b.destURLOn(sd.server, sd.objID)
			if err != nil {
				return err
			}
			f, err := get(b.xfer, url, false)
			if err == nil {
				err = f.want(sd.name+" dest-url GET", i, b.cfg.sizeBytes())
			}
			if err != nil {
				return err
			}
			sd.res.dest = append(sd.res.dest, mbps(f.n, f.secs))
			b.logf("  %s: GET dest-url %d: %.2fs, %.1f MiB/s", sd.name, i, f.secs, mbps(f.n, f.secs))
			return nil
		})
		if err != nil {
			return err
		}
	}
	for _, sd := range b.sides {
		sd.res.destPeak = sd.rss.phasePeak()
	}
	return nil
}

// checkSum downloads url once and compares its sha256 with want.
func (b *bench) checkSum(what string, c *http.Client, url, want string, header ...string) error {
	f, err := get(c, url, true, header...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if f.status != http.StatusOK || f.sum != want {
		return fmt.Errorf("%s: HTTP %d, sha256 %s, want %s", what, f.status, f.sum, want)
	}
	return nil
}

// checkRange wants a Range request to return exactly those bytes.
func (b *bench) checkRange(name, url string) error {
	off := b.cfg.sizeBytes()/2 + 12345
	want := make([]byte, 4096)
	fl, err := os.Open(b.bigFile)
	if err != nil {
		return err
	}
	defer fl.Close()
	if _, err := fl.ReadAt(want, off); err != nil {
		return err
	}
	s := sha256.Sum256(want)
	f, err := get(b.xfer, url, true, fmt.Sprintf("Range: bytes=%d-%d", off, off+4095))
	if err != nil {
		return err
	}
	if f.status != http.StatusPartialContent || f.sum != hex.EncodeToString(s[:]) {
		return fmt.Errorf("%s: dest-url Range request: HTTP %d, wrong bytes", name, f.status)
	}
	return nil
}

// multipartGet is the /v1/get request for a multipart reply from a server.
func (b *bench) multipartGet(sd *side) (*http.Request, error) {
	js, _ := json.Marshal(map[string]any{"id": sd.objID, "transfer_method": "multipart"})
	req, err := http.NewRequest(http.MethodPost, sd.base+"/v1/get", bytes.NewReader(js))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+sd.token)
	req.Header.Set("Content-Type", "application/json")
	return req, nil
}

// phaseMultipart checks each server's multipart /v1/get reply's file
// part, then times BENCH_RUNS of them from each, alternating.
func (b *bench) phaseMultipart() error {
	if !b.cfg.on("multipart") {
		return nil
	}
	for _, sd := range b.sides {
		b.logf("%s: GET multipart: checking bytes", sd.name)
		if err := b.checkMultipart(sd); err != nil {
			return fmt.Errorf("%s: %w", sd.name, err)
		}
		sd.rss.phaseStart()
	}
	b.logf("GET multipart x%d from each server, alternating", b.cfg.runs)
	for i := 1; i <= b.cfg.runs; i++ {
		if err := rotate(i, len(b.sides), func(k int) error { return b.multipartRun(b.sides[k], i) }); err != nil {
			return err
		}
	}
	for _, sd := range b.sides {
		sd.res.multipartPeak = sd.rss.phasePeak()
	}
	return nil
}

// multipartRun is one timed multipart /v1/get of the large file.
func (b *bench) multipartRun(sd *side, i int) error {
	req, err := b.multipartGet(sd)
	if err != nil {
		return err
	}
	f, err := fetch(b.xfer, req, false)
	if err != nil {
		return err
	}
	if f.status != http.StatusOK || f.n <= b.cfg.sizeBytes() {
		return fmt.Errorf("%s: multipart GET %d: HTTP %d, %d bytes", sd.name, i, f.status, f.n)
	}
	// MB/s counts the file, as for every other row.
	sd.res.multipart = append(sd.res.multipart, mbps(b.cfg.sizeBytes(), f.secs))
	b.logf("  %s: GET multipart %d: %.2fs, %.1f MiB/s", sd.name, i, f.secs, mbps(b.cfg.sizeBytes(), f.secs))
	return nil
}

// checkMultipart reads a multipart reply: the JSON envelope, then the
// file, whose bytes must be the large file's.
func (b *bench) checkMultipart(sd *side) error {
	req, err := b.multipartGet(sd)
	if err != nil {
		return err
	}
	resp, err := b.xfer.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || resp.StatusCode != http.StatusOK || params["boundary"] == "" {
		return fmt.Errorf("multipart download: HTTP %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(resp.Body, params["boundary"])
	if _, err := mr.NextPart(); err != nil {
		return fmt.Errorf("multipart download: the envelope part: %w", err)
	}
	p, err := mr.NextPart()
	if err != nil {
		return fmt.Errorf("multipart download: the file part: %w", err)
	}
	h := sha256.New()
	n, err := io.CopyBuffer(h, p, make([]byte, 1<<20))
	if err != nil {
		return err
	}
	if sum := hex.EncodeToString(h.Sum(nil)); sum != b.sha || n != b.cfg.sizeBytes() {
		return fmt.Errorf("multipart download: sha256 %s (%d bytes), want %s (%d bytes)", sum, n, b.sha, b.cfg.sizeBytes())
	}
	return nil
}
