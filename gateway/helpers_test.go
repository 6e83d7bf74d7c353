package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/authenticators"
	"github.com/sesame-share/sesame/gateway"
	"github.com/sesame-share/sesame/notify"
	"github.com/sesame-share/sesame/store"
)

// testEnv is a real server over a real SQLite store in a temp dir.
type testEnv struct {
	t     *testing.T
	srv   *httptest.Server
	st    *store.Store
	token string // admin
}

type envOption func(*gateway.Config)

func newTestEnv(t *testing.T, opts ...envOption) *testEnv {
	t.Helper()
	return newTestEnvStore(t, store.Config{}, opts...)
}

// newTestEnvStore is newTestEnv over a store opened with sc (its data
// directory and logger are the test's).
func newTestEnvStore(t *testing.T, sc store.Config, opts ...envOption) *testEnv {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sc.DataDir, sc.Logger = t.TempDir(), log
	st, err := store.Open(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	env := &testEnv{t: t, st: st}
	// The public URL is only known once the listener exists.
	var handler http.Handler
	env.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(env.srv.Close)
	hasher := authenticators.NewPassword()
	cfg := gateway.Config{Objects: objectService(st, nil), Tokens: st, Ready: st.Ping,
		Links:  &sesame.LinkService{Store: st, Mailer: env.mailer(), Hasher: hasher, Policy: sesame.DefaultLinkPolicy()},
		Portal: portalConfig(t, st, hasher),
		Audit:  st, Outbox: st,
		PublicURL: env.srv.URL, Logger: log}
	for _, o := range opts {
		o(&cfg)
	}
	s, err := gateway.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	handler = s
	env.token = env.newToken(sesame.ScopeAdmin)
	return env
}

func (e *testEnv) mailer() *notify.Mailer {
	e.t.Helper()
	m, err := notify.NewMailer(notify.MailerConfig{Links: e.st, PublicURL: e.srv.URL})
	if err != nil {
		e.t.Fatal(err)
	}
	return m
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
type reply struct {
	Code         int
	Header       http.Header
	Raw          []byte
	RequestID    string          `json:"request_id"`
	RequestTime  string          `json:"request_time"`
	ResponseTime string          `json:"response_time"`
	Status       string          `json:"status"`
	Summary      string          `json:"summary"`
	Result       json.RawMessage `json:"result"`
}

type errItem struct {
	Code   string `json:"code"`
	Detail string `json:"detail"`
	Source string `json:"source"`
}

func (r *reply) errors(t *testing.T) []errItem {
	t.Helper()
	var res struct {
		Errors []errItem `json:"errors"`
	}
	if err := json.Unmarshal(r.Result, &res); err != nil {
		t.Fatalf("result is not an error list: %s", r.Raw)
	}
	return res.Errors
}

// into decodes result into v.
func (r *reply) into(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Result, v); err != nil {
		t.Fatalf("decode result: %v\n%s", err, r.Raw)
	}
}

func (e *testEnv) do(req *http.Request) *reply {
	e.t.Helper()
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	r := &reply{Code: resp.StatusCode, Header: resp.Header, Raw: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, r); err != nil {
			e.t.Fatalf("response is not JSON: %v\n%s", err, raw)
		}
	}
	return r
}

// post sends a JSON body (a string is sent as is) with the admin token.
func (e *testEnv) post(path string, body any) *reply {
	e.t.Helper()
	return e.postAs(e.token, path, body)
}

func (e *testEnv) postAs(token, path string, body any) *reply {
	e.t.Helper()
	var b []byte
	switch v := body.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			e.t.Fatal(err)
		}
	}
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, bytes.NewReader(b))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.do(req)
}

// mustOK fails the test unless r is a 200 Success envelope.
func mustOK(t *testing.T, r *reply) {
	t.Helper()
	if r.Code != http.StatusOK || r.Status != "Success" {
		t.Fatalf("got %d %s, want 200 Success: %s", r.Code, r.Status, r.Raw)
	}
}

// part is one part of a multipart request.
type part struct {
	name, filename, ctype string
	body                  []byte
}

func multipartBody(t *testing.T, parts ...part) (string, []byte) {
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
	r.into(e.t, &res)
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
	for _, it := range r.errors(t) {
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

// objectService applies the object rules to the store, with uploads of up
// to 64 MiB.
func objectService(st *store.Store, now func() time.Time) *sesame.ObjectService {
	return &sesame.ObjectService{Store: st, Blobs: st, Policy: sesame.ObjectPolicy{MaxFileSize: 64 << 20}, Now: now}
}

// portalConfig wires the recipient pages to the store, with real
// authenticators whose messages go to the store's outbox.
func portalConfig(t *testing.T, st *store.Store, hasher *authenticators.Password) gateway.PortalConfig {
	t.Helper()
	return portalConfigAt(t, st, hasher, nil, nil)
}

// portalConfigAt is portalConfig with a clock and a logger.
func portalConfigAt(t *testing.T, st *store.Store, hasher *authenticators.Password, now func() time.Time, log *slog.Logger) gateway.PortalConfig {
	t.Helper()
	email, err := authenticators.NewEmailOTP(authenticators.OTPConfig{Store: st, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	sms, err := authenticators.NewSMSOTP(authenticators.OTPConfig{Store: st, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	ps := &sesame.PortalService{Access: st, Objects: st, Blobs: st, Audit: st, Logger: log, Now: now,
		Authenticators: map[sesame.AuthType]sesame.Authenticator{sesame.AuthPassword: authenticators.PasswordAuthenticator{Hasher: hasher},
			sesame.AuthEmailOTP: email, sesame.AuthSMSOTP: sms}}
	return gateway.PortalConfig{Service: ps, CSRFKey: st.CSRFKey()}
}
