package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"testing"
	"time"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/gateway"
	"github.com/sesame-share/sesame/internal/testrig"
	"github.com/sesame-share/sesame/store"
)

// testEnv is a real server over a real SQLite store in a temp dir, built by
// the shared rig (internal/testrig).
type testEnv struct {
	t     *testing.T
	srv   *httptest.Server
	st    *store.Store
	token string // admin
	rig   *testrig.Env
}

// envOption changes the gateway's configuration before it is built.
type envOption = func(*gateway.Config)

func newTestEnv(t *testing.T, opts ...envOption) *testEnv {
	t.Helper()
	return fromRig(t, testrig.NewEnv(t, testrig.WithConfig(opts...)))
}

// newTestEnvStore is newTestEnv over a store opened with sc (its data
// directory and logger are the test's).
func newTestEnvStore(t *testing.T, sc store.Config, opts ...envOption) *testEnv {
	t.Helper()
	sc.DataDir, sc.Logger = t.TempDir(), testrig.DiscardLogger()
	st, err := store.Open(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return fromRig(t, testrig.NewEnv(t, testrig.WithStore(st), testrig.WithConfig(opts...)))
}

func fromRig(t *testing.T, r *testrig.Env) *testEnv {
	return &testEnv{t: t, srv: r.Server, st: r.Store, token: r.Token, rig: r}
}

func (e *testEnv) newToken(scopes ...sesame.Scope) string {
	e.t.Helper()
	_, secret, err := e.st.CreateToken(context.Background(), "test", scopes, time.Time{})
	if err != nil {
		e.t.Fatal(err)
	}
	return secret
}

// reply is a decoded envelope plus the raw response.
type reply = testrig.Reply

func (e *testEnv) do(req *http.Request) *reply {
	e.t.Helper()
	return e.rig.API.Do(e.t, req)
}

// post sends a JSON body (a string is sent as is) with the admin token.
func (e *testEnv) post(path string, body any) *reply {
	e.t.Helper()
	return e.postAs(e.token, path, body)
}

func (e *testEnv) postAs(token, path string, body any) *reply {
	e.t.Helper()
	return e.rig.API.PostAs(e.t, token, path, body)
}

// mustOK fails the test unless r is a 200 Success envelope.
func mustOK(t *testing.T, r *reply) {
	t.Helper()
	r.MustOK(t)
}

// part is one part of a multipart request.
type part struct {
	name, filename, ctype string
	body                  []byte
}

func multipartBody(t testing.TB, parts ...part) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
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
	return mw.FormDataContentType(), buf.Bytes()
}

// put uploads data with the request JSON, the way the Node SDK does.
func (e *testEnv) put(path string, request any, data []byte) *reply {
	e.t.Helper()
	js, err := json.Marshal(request)
	if err != nil {
		e.t.Fatal(err)
	}
	ct, body := multipartBody(e.t, part{"request", "blob", "application/json", js}, part{"file", "blob", "application/octet-stream", data})
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+e.token)
	return e.do(req)
}

// object is the wire object, for assertions.
type object struct {
	ID                string            `json:"id"`
	Type              string            `json:"type"`
	Name              string            `json:"name"`
	Folder            string            `json:"folder"`
	ParentID          string            `json:"parent_id"`
	CreatedAt         string            `json:"created_at"`
	UpdatedAt         string            `json:"updated_at"`
	Size              int64             `json:"size"`
	MD5               string            `json:"md5"`
	SHA256            string            `json:"sha256"`
	SHA512            string            `json:"sha512"`
	CRC32C            string            `json:"crc32c"`
	Metadata          map[string]string `json:"metadata"`
	Tags              []string          `json:"tags"`
	MetadataProtected map[string]string `json:"metadata_protected"`
}

func (e *testEnv) objectOf(r *reply) object {
	e.t.Helper()
	mustOK(e.t, r)
	var res struct {
		Object object `json:"object"`
	}
	r.Into(e.t, &res)
	return res.Object
}

func (e *testEnv) mkdir(path string) object {
	e.t.Helper()
	return e.objectOf(e.post("/v1/folder/create", map[string]any{"folder": path}))
}

func (e *testEnv) upload(folder, name string, data []byte) object {
	e.t.Helper()
	return e.objectOf(e.put("/v1/put", map[string]any{"folder": folder, "name": name}, data))
}

// wantError checks an error envelope: HTTP code, status, and that one error
// item has the code and points at source.
func wantError(t *testing.T, r *reply, code int, status, errCode, source string) {
	t.Helper()
	if r.Code != code || r.Status != status {
		t.Fatalf("got %d %s, want %d %s: %s", r.Code, r.Status, code, status, r.Raw)
	}
	for _, it := range r.Errors(t) {
		if it.Code == errCode && it.Source == source {
			if it.Detail == "" {
				t.Fatalf("error %s at %s has no detail", errCode, source)
			}
			return
		}
	}
	t.Fatalf("no error %s at %q in %s", errCode, source, r.Raw)
}

func timeNowPlus(d time.Duration) time.Time { return time.Now().Add(d) }
