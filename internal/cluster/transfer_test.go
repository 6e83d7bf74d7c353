//go:build cluster

package cluster_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"sync"
	"testing"
)

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func hexSHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// multipartUpload is a put body: the JSON request part, then the bytes.
func multipartUpload(t *testing.T, request any, data []byte) (string, io.Reader) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if err := writeUpload(mw, request, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	return mw.FormDataContentType(), &buf
}

// writeUpload writes a put body to mw, copying the file's bytes from r.
func writeUpload(mw *multipart.Writer, request any, r io.Reader) error {
	js, err := json.Marshal(request)
	if err != nil {
		return err
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="request"`)
	h.Set("Content-Type", "application/json")
	pw, err := mw.CreatePart(h)
	if err == nil {
		_, err = pw.Write(js)
	}
	if err == nil {
		pw, err = mw.CreateFormFile("file", "blob")
	}
	if err == nil {
		_, err = io.Copy(pw, r)
	}
	if err == nil {
		err = mw.Close()
	}
	return err
}

// testPostURLAcrossReplicas announces a post-url upload on replica A,
// sends the bytes to B and polls on B (and A).
func testPostURLAcrossReplicas(t *testing.T, c *cluster) {
	data := randomBytes(t, 300_000)
	a := c.api(c.Replicas[0])
	r := a.Post(t, "/v1/put", map[string]any{"transfer_method": "post-url", "folder": "/across", "name": "a.bin", "sha256": hexSHA256(data),
		"size": len(data), "crc32c": fmt.Sprintf("%08x", crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli)))})
	if r.Code != http.StatusAccepted {
		t.Fatalf("announce on A: %d %s", r.Code, r.Raw)
	}
	var acc struct {
		Location string `json:"location"`
		PostURL  string `json:"post_url"`
	}
	r.Into(t, &acc)
	ct, body := multipartUpload(t, map[string]any{}, data)
	req, err := http.NewRequest(http.MethodPost, c.on(1, acc.PostURL), body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ct)
	if up := c.api(c.Replicas[1]).Do(t, req); up.Code/100 != 2 {
		t.Fatalf("upload to B: %d %s", up.Code, up.Raw)
	}
	for i, base := range []string{c.Replicas[1], c.Replicas[0]} {
		req, err := http.NewRequest(http.MethodGet, base+"/request/"+r.RequestID, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+c.Token)
		p := c.api(base).Do(t, req)
		p.MustOK(t)
		var res struct {
			Object object `json:"object"`
		}
		p.Into(t, &res)
		if res.Object.Name != "a.bin" || res.Object.SHA256 != hexSHA256(data) || res.Object.Size != int64(len(data)) {
			t.Errorf("poll on replica %c: %+v", "BA"[i], res.Object)
		}
	}
	if got := c.download(t, 1, c.find(t, c.Replicas[0], "/across", "a.bin").ID); hexSHA256(got) != hexSHA256(data) {
		t.Errorf("download on B: %d bytes, sha256 %s", len(got), hexSHA256(got))
	}
}

// list lists a folder through base.
func (c *cluster) list(t *testing.T, base, folder string) []object {
	t.Helper()
	r := c.api(base).Post(t, "/v1/list", map[string]any{"filter": map[string]any{"folder": folder}, "size": 100})
	r.MustOK(t)
	var res struct {
		Objects []object `json:"objects"`
	}
	r.Into(t, &res)
	return res.Objects
}

func (c *cluster) find(t *testing.T, base, folder, name string) object {
	t.Helper()
	for _, o := range c.list(t, base, folder) {
		if o.Name == name {
			return o
		}
	}
	t.Fatalf("%s/%s is not listed", folder, name)
	return object{}
}

// download fetches a file's bytes through replica i, by a dest-url.
func (c *cluster) download(t *testing.T, i int, id string) []byte {
	t.Helper()
	r := c.api(c.Replicas[i]).Post(t, "/v1/get", map[string]any{"id": id, "transfer_method": "dest-url"})
	r.MustOK(t)
	var res struct {
		DestURL string `json:"dest_url"`
	}
	r.Into(t, &res)
	resp, err := http.Get(c.on(i, res.DestURL))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("download %s on replica %d: %d %v", id, i+1, resp.StatusCode, err)
	}
	return b
}

// testKillDuringUploads sends 20 uploads to replica A: 8 whole, and 12
// that stop half-way until A has been killed with SIGKILL (after the 8
// were acknowledged). Through B, every acknowledged upload must be whole
// and nothing partial listed.
func testKillDuringUploads(t *testing.T, c *cluster) {
	const n, whole = 20, 8
	files := make([][]byte, n)
	for i := range files {
		files[i] = randomBytes(t, 1<<20+i*65_536)
	}
	acked := make([]object, n)
	var wholeDone, halfway, all sync.WaitGroup
	gate := make(chan struct{})
	for i := range files {
		all.Add(1)
		if i < whole {
			wholeDone.Add(1)
		} else {
			halfway.Add(1)
		}
		go func() {
			defer all.Done()
			var body io.Reader = bytes.NewReader(files[i])
			if i >= whole {
				body = &gatedReader{r: body, half: len(files[i]) / 2, halfway: halfway.Done, gate: gate}
			}
			o, err := c.upload1(c.Replicas[0], "/crash", fmt.Sprintf("f%02d.bin", i), body)
			if err == nil {
				acked[i] = o
			}
			if i < whole {
				wholeDone.Done()
			}
		}()
	}
	wholeDone.Wait()
	halfway.Wait()
	c.kill9(t, 0)
	close(gate)
	all.Wait()
	nAcked := 0
	for i, o := range acked {
		if o.ID != "" {
			nAcked++
		} else if i < whole {
			t.Errorf("upload f%02d.bin, sent whole before the kill, was not acknowledged", i)
		}
	}
	t.Logf("replica A killed with %d uploads acknowledged and %d half-sent; %d acknowledged in all", whole, n-whole, nAcked)
	if nAcked != whole {
		t.Errorf("%d uploads acknowledged, want the %d sent whole before the kill", nAcked, whole)
	}
	byName := map[string]int{}
	for i := range files {
		byName[fmt.Sprintf("f%02d.bin", i)] = i
	}
	listed := map[string]bool{}
	for _, o := range c.list(t, c.Replicas[1], "/crash") {
		i, ok := byName[o.Name]
		if !ok {
			t.Errorf("unexpected object %s listed", o.Name)
			continue
		}
		listed[o.Name] = true
		got := c.download(t, 1, o.ID)
		if o.Size != int64(len(files[i])) || o.SHA256 != hexSHA256(files[i]) || hexSHA256(got) != hexSHA256(files[i]) {
			t.Errorf("%s is listed but not whole: size %d of %d, %d bytes served", o.Name, o.Size, len(files[i]), len(got))
		}
	}
	for i, o := range acked {
		if o.ID != "" && !listed[fmt.Sprintf("f%02d.bin", i)] {
			t.Errorf("acknowledged upload f%02d.bin (%s) is missing on B", i, o.ID)
		}
	}
}

// gatedReader hands out its first half bytes, calls halfway, and then
// gives nothing more until gate is closed.
type gatedReader struct {
	r       io.Reader
	half    int
	read    int
	halfway func()
	gate    chan struct{}
}

func (g *gatedReader) Read(p []byte) (int, error) {
	if g.read >= g.half {
		if g.halfway != nil {
			g.halfway()
			g.halfway = nil
		}
		<-g.gate
	} else if len(p) > g.half-g.read {
		p = p[:g.half-g.read]
	}
	n, err := g.r.Read(p)
	g.read += n
	return n, err
}

// upload1 streams a put of body to base as folder/name.
func (c *cluster) upload1(base, folder, name string, body io.Reader) (object, error) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		pw.CloseWithError(writeUpload(mw, map[string]any{"folder": folder, "name": name}, body))
	}()
	req, err := http.NewRequest(http.MethodPost, base+"/v1/put", pr)
	if err != nil {
		return object{}, err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return object{}, err
	}
	defer resp.Body.Close()
	var res struct {
		Status string `json:"status"`
		Result struct {
			Object object `json:"object"`
		} `json:"result"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || res.Status != "Success" {
		return object{}, fmt.Errorf("put %s: %d %s %v", name, resp.StatusCode, res.Status, err)
	}
	return res.Result.Object, nil
}
