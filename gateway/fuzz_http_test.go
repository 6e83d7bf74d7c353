package gateway_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/gateway"
)

// Fuzz targets that send arbitrary bodies to a real server (newTestEnv: a
// real SQLite store in a temp dir). Every input gets a fresh server, so
// inputs cannot affect each other. Run one with
//
//	go test -run '^$' -fuzz '^FuzzHTTPPut$' -fuzztime 60s ./gateway
//
// or all of them with scripts/fuzz.sh.

// fuzzBoundary is the boundary every fuzzed multipart body is sent with.
const fuzzBoundary = "fzb"

// fuzzLog collects the server's error log, so that a 5xx failure can say
// what went wrong inside.
type fuzzLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *fuzzLog) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *fuzzLog) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// fuzzEnv is newTestEnv with the server's error log captured.
//
// store.DSN puts the data directory into a SQLite URI without escaping it,
// so a '#' in the path starts a URI fragment and the database lands at the
// path cut short. t.TempDir names directories after the test, and seed
// inputs are named "seed#N": every seed would share one database outside
// its temp dir (/tmp/FuzzHTTPPutseed). Pointing TMPDIR at a fresh
// directory per input keeps the cut-short path private and cleaned up.
func fuzzEnv(t *testing.T) (*testEnv, *fuzzLog) {
	tmp, err := os.MkdirTemp("", "fuzzenv")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) }) // runs last, after the store is closed
	t.Setenv("TMPDIR", tmp)
	logs := &fuzzLog{}
	env := newTestEnv(t, func(c *gateway.Config) {
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelError}))
	})
	return env, logs
}

// envelopeKeys are the six keys of every JSON answer.
var envelopeKeys = []string{"request_id", "request_time", "response_time", "status", "summary", "result"}

// fuzzSend sends one request and checks the answer: never a 5xx, always a
// JSON envelope with exactly the six keys, Success exactly when 2xx, and
// error items with a code when not.
func fuzzSend(t *testing.T, env *testEnv, logs *fuzzLog, path, ctype string, body []byte) *reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, env.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Authorization", "Bearer "+env.token)
	resp, err := env.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("POST %s: read answer: %v", path, err)
	}
	if resp.StatusCode >= 500 {
		t.Fatalf("POST %s (Content-Type %s) answered %d: %s\nbody sent: %q\nserver log:\n%s", path, ctype, resp.StatusCode, raw, body, logs.String())
	}
	ct := resp.Header.Get("Content-Type")
	if mt, params, _ := mime.ParseMediaType(ct); mt == "multipart/form-data" && resp.StatusCode == http.StatusOK {
		// A get with transfer_method multipart: the envelope is the
		// first part.
		jp, err := multipart.NewReader(bytes.NewReader(raw), params["boundary"]).NextPart()
		if err != nil {
			t.Fatalf("POST %s answered a multipart body without a first part: %v\n%q", path, err, raw)
		}
		if raw, err = io.ReadAll(jp); err != nil {
			t.Fatalf("POST %s answered a multipart body whose first part does not read: %v", path, err)
		}
	} else if !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("POST %s answered %d with Content-Type %q: %s", path, resp.StatusCode, ct, raw)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		t.Fatalf("POST %s answered %d with a body that is not a JSON object: %v\n%s", path, resp.StatusCode, err, raw)
	}
	if len(keys) != len(envelopeKeys) {
		t.Fatalf("POST %s answered with %d keys, want the six of the envelope: %s", path, len(keys), raw)
	}
	for _, k := range envelopeKeys {
		if _, ok := keys[k]; !ok {
			t.Fatalf("POST %s answered without %q: %s", path, k, raw)
		}
	}
	r := &reply{Code: resp.StatusCode, Header: resp.Header, Raw: raw}
	if err := json.Unmarshal(raw, r); err != nil {
		t.Fatalf("POST %s: envelope fields have the wrong types: %v\n%s", path, err, raw)
	}
	if r.RequestID == "" || r.Status == "" || r.Summary == "" {
		t.Fatalf("POST %s: envelope with an empty request_id, status or summary: %s", path, raw)
	}
	if (r.Code < 300) != (r.Status == "Success" || r.Status == "Accepted") {
		t.Fatalf("POST %s answered %d with status %q: %s", path, r.Code, r.Status, raw)
	}
	if r.Code >= 400 {
		items := r.Errors(t)
		if len(items) == 0 {
			t.Fatalf("POST %s answered %d without error items: %s", path, r.Code, raw)
		}
		for _, it := range items {
			if it.Code == "" || it.Detail == "" {
				t.Fatalf("POST %s answered %d with an error item lacking a code or detail: %s", path, r.Code, raw)
			}
		}
	}
	return r
}

// expectedPayload reads body the way putMultipart does: the first part
// named "request" is the request, the first other part is the payload. It
// returns the payload's bytes, and false when the body does not parse to
// the end.
func expectedPayload(body []byte) ([]byte, bool) {
	mr := multipart.NewReader(bytes.NewReader(body), fuzzBoundary)
	var payload []byte
	haveReq, havePayload := false, false
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return payload, havePayload
		}
		if err != nil {
			return nil, false
		}
		b, err := io.ReadAll(p)
		if err != nil {
			return nil, false
		}
		switch {
		case p.FormName() == "request" && !haveReq:
			haveReq = true
		case !havePayload:
			payload, havePayload = b, true
		}
	}
}

// fuzzMultipart builds a multipart body with fuzzBoundary.
func fuzzMultipart(t testing.TB, parts ...part) []byte {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if err := mw.SetBoundary(fuzzBoundary); err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		cd := `form-data; name="` + p.name + `"`
		if p.filename != "" {
			cd += `; filename="` + p.filename + `"`
		}
		h.Set("Content-Disposition", cd)
		if p.ctype != "" {
			h.Set("Content-Type", p.ctype)
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(p.body)
	}
	mw.Close()
	return buf.Bytes()
}

func FuzzHTTPPut(f *testing.F) {
	req := func(s string) part { return part{"request", "blob", "application/json", []byte(s)} }
	file := func(name, data string) part { return part{"file", name, "application/octet-stream", []byte(data)} }
	for _, parts := range [][]part{
		{req(`{"name":"a.txt"}`), file("blob", "hello")},
		{req(`{"folder":"/docs","name":"b.bin","tags":["x"],"metadata":{"k":"v"}}`), file("blob", "\x00\x01\x02\xff")},
		{req(`{"path":"/x/y/z.txt","size":3,"md5":"900150983cd24fb0d6963f7d28e17f72"}`), file("blob", "abc")},
		{req(`{"folder":"/"}`), file("report.pdf", "%PDF-1.4")},
		{req(`{}`), file("../../etc/passwd", "x")},
		{req(`{}`), file("blob", "x")},
		{req(`{"name":"a.txt","transfer_method":"post-url"}`), file("blob", "x")},
		{req(`{"name":"a.txt","size":-1}`), file("blob", "x")},
		{req(`{"name":"a.txt","sha256":"zz"}`), file("blob", "x")},
		{req(`{"name":"a.txt","format":"PDF"}`), file("blob", "x")},
		{req(`{"name":"a/b"}`), file("blob", "x")},
		{req(`{"name":7}`), file("blob", "x")},
		{req(`{"name":"a.txt"`), file("blob", "x")},
		{req(`{"name":"a.txt"}`)},
		{file("blob", "x")},
		{file("blob", "x"), req(`{"name":"late.txt"}`)},
		{req(`{"name":"a.txt"}`), req(`{"name":"b.txt"}`)},
		{req(`{"name":"two.txt"}`), file("blob", "first"), file("blob", "second")},
		{req(`{"name":"empty.txt"}`), file("blob", "")},
		{req(`{"name":"e.txt"}`), {"file", "", "", []byte("no file name")}},
	} {
		f.Add(fuzzMultipart(f, parts...))
	}
	for _, s := range []string{
		"",
		"--fzb--\r\n",
		"--fzb\r\n",
		"preamble\r\n--fzb\r\nContent-Disposition: form-data; name=\"request\"\r\n\r\n{\"name\":\"p.txt\"}\r\n--fzb\r\nContent-Disposition: form-data; name=\"file\"; filename=\"blob\"\r\n\r\nhi\r\n--fzb--\r\nepilogue",
		"--fzb\r\nContent-Disposition: form-data; name=\"request\"\r\n\r\n{\"name\":\"q.txt\"}\r\n--fzb\r\nContent-Disposition: form-data; name=\"file\"; filename=\"blob\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nh=C3=A9llo=\r\n world\r\n--fzb--\r\n",
		"--fzb\r\nContent-Disposition: form-data; name=\"request\"\r\n\r\n{\"name\":\"t.txt\"}\r\n--fzb\r\nContent-Disposition: form-data; name=\"file\"; filename=\"blob\"\r\n\r\ncut off here",
		"--fzb\nContent-Disposition: form-data; name=\"request\"\n\n{\"name\":\"lf.txt\"}\n--fzb\nContent-Disposition: form-data; name=file; filename*=UTF-8''%C3%A9.txt\n\nlf only\n--fzb--\n",
		"--fzb\r\nContent-Disposition: form-data; name=\"request\"\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n{}\r\n--fzb--\r\n",
		"--fzb\r\nContent-Disposition: form-data; name=\"request\"; filename=\"\\\"\r\n\r\n{}\r\n--fzb--\r\n",
		"--fzb\r\n" + strings.Repeat("X-Header: value\r\n", 50) + "\r\n\r\n--fzb--\r\n",
	} {
		f.Add([]byte(s))
	}
	ctype := "multipart/form-data; boundary=" + fuzzBoundary
	f.Fuzz(func(t *testing.T, body []byte) {
		env, logs := fuzzEnv(t)
		r := fuzzSend(t, env, logs, "/v1/put", ctype, body)
		// Nothing is left in staging, and a failed put stores no blob.
		waitNoFiles(t, filepath.Join(env.st.DataDir(), "tmp"), "staging files after put answered %d: %s", r.Code, r.Raw)
		if r.Code != http.StatusOK {
			waitNoFiles(t, filepath.Join(env.st.DataDir(), "blobs"), "blobs after put answered %d: %s", r.Code, r.Raw)
			return
		}
		var res struct {
			Object object `json:"object"`
		}
		r.Into(t, &res)
		o := res.Object
		payload, ok := expectedPayload(body)
		if !ok {
			t.Fatalf("put answered 200 for a body that does not parse to the end with a payload part: %q\n%s", body, r.Raw)
		}
		sum := sha256.Sum256(payload)
		if o.Type != "file" || o.Size != int64(len(payload)) || o.SHA256 != hex.EncodeToString(sum[:]) {
			t.Fatalf("put stored %s %q of %d bytes (sha256 %s); the payload part has %d bytes (sha256 %x)\nbody: %q",
				o.Type, o.Name, o.Size, o.SHA256, len(payload), sum, body)
		}
		if err := sesame.CheckName("/name", o.Name); err != nil {
			t.Fatalf("put stored a file under a bad name %q: %v", o.Name, err)
		}
		// The new file is listed, with the same size.
		lr := fuzzSend(t, env, logs, "/v1/list", "application/json", []byte(`{"filter":{"id":"`+o.ID+`"}}`))
		var list struct {
			Count   int      `json:"count"`
			Objects []object `json:"objects"`
		}
		mustOK(t, lr)
		lr.Into(t, &list)
		if list.Count != 1 || len(list.Objects) != 1 || list.Objects[0].ID != o.ID || list.Objects[0].Size != o.Size {
			t.Fatalf("the stored file %s is not listed as put: %s", o.ID, lr.Raw)
		}
	})
}

// waitNoFiles fails unless dir holds no regular files, at the latest after
// a short grace period (the handler may still be cleaning up when the
// answer arrives).
func waitNoFiles(t *testing.T, dir, format string, args ...any) {
	t.Helper()
	var files []string
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		files = files[:0]
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				files = append(files, p)
			}
			return nil
		})
		if len(files) == 0 {
			return
		}
		if time.Now().After(deadline) {
			break
		}
	}
	t.Fatalf("left %d "+format+"\n%q", append(append([]any{len(files)}, args...), files)...)
}

// jsonEndpoints are the JSON endpoints FuzzHTTPJSON posts to.
var jsonEndpoints = []string{
	"/v1/folder/create",
	"/v1/put",
	"/v1/list",
	"/v1/update",
	"/v1/get",
	"/v1/share/link/create",
	"/v1/share/link/list",
}

func FuzzHTTPJSON(f *testing.F) {
	seeds := map[string][]string{
		"/v1/folder/create": {`{"folder":"/docs/new"}`, `{"name":"n","parent_id":"pos_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}`, `{"path":"/docs"}`,
			`{"folder":"/docs/a.txt/sub"}`, `{"name":"x","folder":"/docs","path":"/docs/x"}`, `{"folder":"/a","tags":[""],"metadata":{"":""}}`},
		"/v1/put": {`{"transfer_method":"put-url","name":"u.txt"}`, `{"transfer_method":"post-url","name":"p.txt","size":1,"sha256":"` + strings.Repeat("0", 64) + `","crc32c":"00000000"}`,
			`{"transfer_method":"direct","folder":"/docs/a.txt","name":"x"}`, `{"transfer_method":"source-url"}`, `{}`},
		"/v1/list": {`{}`, `{"filter":{"folder":"/docs"},"order":"desc","order_by":"size","size":1}`, `{"filter":{"size__gt":"3","created_at__lt":"2030-01-01T00:00:00Z","name__contains":["a"],"tags":["t"]}}`,
			`{"last":"eyJvIjoibmFtZSIsInYiOiJhIiwiaSI6IngifQ","order_by":"name"}`, `{"last":"eyJvIjoic2l6ZSIsInYiOiJ4eXoiLCJpIjoieCJ9","order_by":"size"}`,
			`{"filter":{"created_at__gt":"9999-12-31T23:59:59-23:59"}}`, `{"filter":{"type":"dir","path":"/docs/a.txt"}}`},
		"/v1/update": {`{"path":"/docs/a.txt","name":"b.txt"}`, `{"path":"/docs/a.txt","folder":"/other"}`, `{"path":"/docs","folder":"/docs/sub"}`,
			`{"path":"/docs/a.txt","add_tags":["x"],"remove_tags":["y"],"add_metadata":{"k":"v"},"remove_metadata":{"k":"v"}}`,
			`{"path":"/docs/a.txt","updated_at":"2000-01-01T00:00:00Z"}`, `{"id":"pos_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}`, `{"path":"/docs/a.txt","parent_id":""}`},
		"/v1/get": {`{"path":"/docs/a.txt"}`, `{"path":"/docs/a.txt","transfer_method":"dest-url"}`, `{"path":"/docs/a.txt","transfer_method":"multipart"}`, `{"id":"x"}`},
		"/v1/share/link/create": {`{"links":[{"targets":["/docs/a.txt"],"link_type":"download","authenticators":[{"auth_type":"password","auth_context":"pw"}]}]}`,
			`{"links":[{"targets":[],"link_type":"upload","authenticators":[],"expires_at":"2000-01-01T00:00:00Z","max_access_count":-1}]}`,
			`{"links":[{"targets":["pos_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"],"link_type":"editor","authenticators":[{"auth_type":"email_otp","auth_context":"a@b.cd"}],"send_params":{"recipient_email":"a@b.cd"}}]}`,
			`{"links":[]}`},
		"/v1/share/link/list": {`{}`, `{"filter":{"target":"x","access_count__gt":1,"expires_at__lt":"2030-01-01T00:00:00Z"},"order_by":"storage_pool_id"}`,
			`{"filter":{"tags":["a"],"link_type__in":["download","upload"]},"order":"desc","size":1000}`, `{"last":"e30"}`},
	}
	for i, ep := range jsonEndpoints {
		for _, s := range seeds[ep] {
			f.Add(uint8(i), []byte(s))
		}
	}
	f.Add(uint8(0), []byte(`not json`))
	f.Add(uint8(2), []byte("\xff"))
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		env, logs := fuzzEnv(t)
		// Something to act on: a folder, a file in it and a link to the
		// file (paths are stable from run to run; ids are not).
		env.mkdir("/docs")
		file := env.upload("/docs", "a.txt", []byte("hello"))
		env.createLinks(map[string]any{"targets": []string{file.ID}, "link_type": "download", "title": "t", "tags": []string{"a"},
			"authenticators": []any{map[string]any{"auth_type": "email_otp", "auth_context": "r@example.com"}}})
		fuzzSend(t, env, logs, jsonEndpoints[int(which)%len(jsonEndpoints)], "application/json", body)
	})
}
