package gateway_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/authenticators"
	"github.com/sesame-share/sesame/gateway"
	"github.com/sesame-share/sesame/internal/testrig"
	"github.com/sesame-share/sesame/store"
)

// portalEnv is newTestEnv with an injected clock, X-Forwarded-For trusted
// from the loopback (so a test can play visitors from many addresses), and
// a hook that reports each request once its handler has returned.
type portalEnv struct {
	*testEnv
	clock  *testrig.Clock // the one clock of the store, the services, the authenticators and the gateway
	served atomic.Pointer[func(*http.Request)]
}

// portalCheapPasswords makes new link passwords argon2id hashes with tiny
// parameters. Verification still runs through the real authenticator (it
// reads the parameters from the PHC string); only the cost drops, for the
// tests that sign in hundreds of times.
func portalCheapPasswords(c *gateway.Config) { c.Links.Hasher = portalCheapHasher{} }

type portalCheapHasher struct{}

func (portalCheapHasher) Hash(_ context.Context, password string) (string, error) {
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, 1, 64, 1, 32)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=64,t=1,p=1$%s$%s", argon2.Version, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

func (portalCheapHasher) Verify(ctx context.Context, phc, password string) error {
	return authenticators.NewPassword().Verify(ctx, phc, password)
}

func newPortalEnv(t *testing.T, opts ...envOption) *portalEnv {
	t.Helper()
	return newPortalEnvStore(t, nil, opts...)
}

// newPortalEnvStore is newPortalEnv over a store opened with sc (nil: the
// rig's own); its directory, clock and logger are the env's.
func newPortalEnvStore(t *testing.T, sc *store.Config, opts ...envOption) *portalEnv {
	t.Helper()
	e := &portalEnv{clock: testrig.NewClock(time.Now().UTC().Truncate(time.Millisecond))}
	rig := []testrig.Option{testrig.WithClock(e.clock)}
	if sc != nil {
		sc.DataDir, sc.Now, sc.Logger = t.TempDir(), e.clock.Now, testrig.DiscardLogger()
		st, err := store.Open(context.Background(), *sc)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		rig = append(rig, testrig.WithStore(st))
	}
	trust := func(c *gateway.Config) { c.TrustedProxies = []string{"127.0.0.1"} }
	report := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(w, r)
			if f := e.served.Load(); f != nil {
				(*f)(r)
			}
		})
	}
	rig = append(rig, testrig.WithMiddleware(report), testrig.WithConfig(append([]envOption{trust}, opts...)...))
	e.testEnv = fromRig(t, testrig.NewEnv(t, rig...))
	return e
}

// blobGate holds the first read of the next blob opened after arm until
// the request that opened it is cancelled (its client went away), so a
// test can drop a download after its slot was claimed and before its first
// byte. It hides the blob's file, so downloads take the copying path.
type blobGate struct {
	armed   atomic.Bool
	reading chan struct{}
}

func (g *blobGate) install(c *gateway.Config) {
	c.Objects.Blobs = gatedBlobs{BlobStore: c.Objects.Blobs, g: g}
	c.Portal.Service.Blobs = c.Objects.Blobs
}

func (g *blobGate) arm() {
	g.reading = make(chan struct{})
	g.armed.Store(true)
}

type gatedBlobs struct {
	sesame.BlobStore
	g *blobGate
}

func (b gatedBlobs) OpenBlob(ctx context.Context, key string) (sesame.Blob, error) {
	bl, err := b.BlobStore.OpenBlob(ctx, key)
	if err != nil || !b.g.armed.CompareAndSwap(true, false) {
		return bl, err
	}
	return &gatedBlob{Blob: bl, ctx: ctx, reading: b.g.reading}, nil
}

type gatedBlob struct {
	sesame.Blob
	ctx     context.Context
	reading chan struct{}
	once    sync.Once
}

func (b *gatedBlob) Read(p []byte) (int, error) {
	b.once.Do(func() {
		close(b.reading)
		select {
		case <-b.ctx.Done():
		case <-time.After(20 * time.Second):
		}
	})
	return b.Blob.Read(p)
}

// onServed calls f after the handler of every request has returned.
func (e *portalEnv) onServed(f func(*http.Request)) {
	if f == nil {
		e.served.Store(nil)
		return
	}
	e.served.Store(&f)
}

// base is the path of a link's pages: /s/<token>.
func (e *portalEnv) base(l linkObj) string { return strings.TrimPrefix(l.Link, e.srv.URL) }

// portalLinkState is what share/link/get reports about use.
type portalLinkState struct {
	AccessCount    int    `json:"access_count"`
	MaxAccessCount int    `json:"max_access_count"`
	LastAccessedAt string `json:"last_accessed_at"`
	DownloadCount  int    `json:"download_count"`
	MaxDownloads   int    `json:"max_downloads"`
}

func (e *portalEnv) linkState(id string) portalLinkState {
	e.t.Helper()
	r := e.post("/v1/share/link/get", map[string]any{"id": id})
	mustOK(e.t, r)
	var res struct {
		Link portalLinkState `json:"share_link_object"`
	}
	r.Into(e.t, &res)
	return res.Link
}

// authState is what share/link/get reports about one authenticator.
type authState struct {
	FailedAttempts int    `json:"failed_attempts"`
	LockedUntil    string `json:"locked_until"`
}

func (e *portalEnv) authStates(id string) []authState {
	e.t.Helper()
	r := e.post("/v1/share/link/get", map[string]any{"id": id})
	mustOK(e.t, r)
	var res struct {
		Link struct {
			Authenticators []authState `json:"authenticators"`
		} `json:"share_link_object"`
	}
	r.Into(e.t, &res)
	return res.Link.Authenticators
}

func (e *portalEnv) updateLink(body map[string]any) {
	e.t.Helper()
	mustOK(e.t, e.post("/v1/share/link/update", body))
}

func (e *portalEnv) deleteLink(id string) {
	e.t.Helper()
	mustOK(e.t, e.post("/v1/share/link/delete", map[string]any{"ids": []string{id}}))
}

// queued claims every message waiting in the outbox (as a worker would).
func (e *portalEnv) queued() []*sesame.Notification {
	e.t.Helper()
	ns, err := e.st.ClaimDue(context.Background(), e.clock.Now().Add(time.Second), 10000*time.Hour, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	return ns
}

// portalCode reads the one-time code from a queued message.
func portalCode(t *testing.T, n *sesame.Notification) string {
	t.Helper()
	return testrig.CodeIn(t, n.Message.Text)
}

// portalWrongCode returns a 6-digit code that differs from code.
func portalWrongCode(code string) string {
	b := []byte(code)
	b[5] = '0' + (b[5]-'0'+1)%10
	return string(b)
}

// portalSessionCookie is the cookie a link's session lives in, over plain http.
func portalSessionCookie(linkID string) string {
	return "sesame_s_" + strings.TrimPrefix(linkID, sesame.PrefixLink)[:12]
}

// portalAudit is an audit event with its detail.
type portalAuditEvent struct {
	Action    string            `json:"action"`
	Actor     string            `json:"actor"`
	ActorType string            `json:"actor_type"`
	LinkID    string            `json:"link_id"`
	ObjectID  string            `json:"object_id"`
	IP        string            `json:"ip"`
	Outcome   string            `json:"outcome"`
	Detail    map[string]string `json:"detail"`
}

func (e *portalEnv) linkAudit(linkID string) []portalAuditEvent {
	e.t.Helper()
	r := e.post("/v1/audit/list", map[string]any{"filter": map[string]any{"link_id": linkID}, "size": 1000, "order": "asc"})
	mustOK(e.t, r)
	var res struct {
		Events []portalAuditEvent `json:"events"`
	}
	r.Into(e.t, &res)
	return res.Events
}

// portalVisitor is one browser (testrig.Visitor: its own cookie jar, no
// redirect following, and optionally an address sent as X-Forwarded-For,
// trusted from loopback) whose every page is held to the page rules.
type portalVisitor struct {
	*testrig.Visitor
	e *portalEnv
}

func (e *portalEnv) visitor() *portalVisitor {
	v := e.rig.Visitor()
	v.Check = func(req *http.Request, p *testrig.Page) { portalCheckPage(e.t, req, p) }
	return &portalVisitor{Visitor: v, e: e}
}

// portalPage is one response, fully read.
type portalPage = testrig.Page

// csrf opens path and returns the CSRF token of its forms.
func (v *portalVisitor) csrf(path string) string {
	v.e.t.Helper()
	p := v.Get(path)
	if p.Code != http.StatusOK {
		v.e.t.Fatalf("GET %s: %s", path, p)
	}
	tok := p.Value("csrf")
	if tok == "" {
		v.e.t.Fatalf("no CSRF token on the page: %s", p)
	}
	return tok
}

// password posts a password for the link's authenticator at index auth,
// with a fresh CSRF token from the sign-in page.
func (v *portalVisitor) password(l linkObj, auth int, password string) *portalPage {
	v.e.t.Helper()
	base := v.e.base(l)
	return v.Post(base+"/password", url.Values{"csrf": {v.csrf(base)}, "auth": {fmt.Sprint(auth)}, "password": {password}})
}

// signIn signs in with the password at index 0 and fails the test unless
// a session starts.
func (v *portalVisitor) signIn(l linkObj, password string) {
	v.e.t.Helper()
	p := v.password(l, 0, password)
	if p.Code != http.StatusSeeOther || p.Header.Get("Location") != v.e.base(l) || p.Cookie(portalSessionCookie(l.ID)) == nil {
		v.e.t.Fatalf("sign-in did not start a session: %s", p)
	}
}

// sendCode asks for a code for the authenticator at index auth.
func (v *portalVisitor) sendCode(l linkObj, auth int) *portalPage {
	v.e.t.Helper()
	base := v.e.base(l)
	return v.Post(base+"/code/send", url.Values{"csrf": {v.csrf(base)}, "auth": {fmt.Sprint(auth)}})
}

// verifyCode posts a code for the authenticator at index auth.
func (v *portalVisitor) verifyCode(l linkObj, auth int, code string) *portalPage {
	v.e.t.Helper()
	base := v.e.base(l)
	return v.Post(base+"/code/verify", url.Values{"csrf": {v.csrf(base)}, "auth": {fmt.Sprint(auth)}, "code": {code}})
}

// portalCheckPage holds every HTML response to the page rules: a CSP with
// frame-ancestors 'none' whose script nonce is the one in the page, and no
// referrer. It reports with Errorf so that goroutines may call it.
func portalCheckPage(t *testing.T, req *http.Request, p *portalPage) {
	// Pages, not redirects (whose bodies browsers never show) nor downloads.
	if !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") || p.Code/100 == 3 ||
		strings.HasPrefix(p.Header.Get("Content-Disposition"), "attachment") {
		return
	}
	where := req.Method + " " + req.URL.Path
	csp := p.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("%s: CSP %q lacks frame-ancestors 'none'", where, csp)
	}
	if got := p.Header.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("%s: Referrer-Policy %q", where, got)
	}
	if req.Method == http.MethodHead {
		return
	}
	scripts, nonces := p.Find("script"), p.Find("script[nonce]")
	if len(scripts) != len(nonces) {
		t.Errorf("%s: %d <script> tags but %d with a nonce", where, len(scripts), len(nonces))
	}
	for _, s := range nonces {
		if !strings.Contains(csp, "script-src 'nonce-"+s.Attr("nonce")+"'") {
			t.Errorf("%s: script nonce %q is not the CSP's (%q)", where, s.Attr("nonce"), csp)
		}
	}
}

// portalFile is one file part of an upload form.
type portalFile struct {
	name string
	body []byte
}

// portalUploadForm builds the portal's upload form: csrf, folder, then files.
func portalUploadForm(t *testing.T, csrf, folder string, files ...portalFile) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf", csrf)
	mw.WriteField("folder", folder)
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="file"; `+filenameParam(f.name))
		h.Set("Content-Type", "application/octet-stream")
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(f.body)
	}
	mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

// filenameParam writes a file name the way browsers do (only " and
// newlines escaped, so a backslash arrives as is), or, for names with
// control characters that no header line may carry, as RFC 2231
// filename*=utf-8”…, which Go's multipart reader decodes.
func filenameParam(name string) string {
	if !strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }) {
		return `filename="` + strings.NewReplacer(`"`, "%22", "\n", "%0A", "\r", "%0D").Replace(name) + `"`
	}
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return "filename*=utf-8''" + b.String()
}

// upload posts files to a folder through the portal form.
func (v *portalVisitor) upload(l linkObj, csrf, folder string, accept string, files ...portalFile) *portalPage {
	v.e.t.Helper()
	ct, body := portalUploadForm(v.e.t, csrf, folder, files...)
	req := v.NewRequest(http.MethodPost, v.e.base(l)+"/upload", bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	return v.Do(req)
}
