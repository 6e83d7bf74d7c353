package gateway_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/internal/testrig"
)

// The bad-input sweep sends malformed requests to every endpoint and checks
// that each gets a Pangea error envelope (reference §2.3–2.5) that points at
// the offending field, or, for the recipient pages and MCP, an answer that
// is never a 5xx and never shows Go error text. This file holds what the
// cases share: the request and the expected answer, how they are sent and
// judged, and the fixtures they point at. The cases live in one file per
// resource (badinput_objects_test.go, badinput_links_test.go,
// badinput_lists_test.go, badinput_idempotency_test.go,
// badinput_routes_test.go, badinput_mcp_test.go, badinput_portal_test.go);
// badinput_sweep_test.go runs them.

// bj is a JSON object body.
type bj = map[string]any

// badReq is one request to send. A string or []byte body is sent as is;
// anything else is marshalled as JSON.
type badReq struct {
	method string // "" is POST
	path   string
	body   any    // nil: no body
	ctype  string // "" is application/json
	auth   string // "" is the admin token; badNoAuth sends none; else the whole Authorization value
	header map[string]string
}

const badNoAuth = "\x00none"

// badWant is what a bad request must get back. Every field is optional:
// the zero badWant asks only for a well-formed 4xx error envelope.
type badWant struct {
	http    int    // 0: any 4xx
	status  string // "": anything but Success
	code    string // the error item's code ("" with at: any code)
	at      bool   // whether an error item must point at source
	source  string // JSON pointer of the field at fault
	summary string // a substring the summary must contain
}

// wBad is a 400 ValidationError with code at source.
func wBad(code, source string) badWant {
	return badWant{http: http.StatusBadRequest, status: "ValidationError", code: code, at: true, source: source}
}

// wBadAt is a 400 ValidationError with some error at source.
func wBadAt(source string) badWant {
	return badWant{http: http.StatusBadRequest, status: "ValidationError", at: true, source: source}
}

// wPayload is a body that is not JSON at all.
func wPayload() badWant {
	return badWant{http: http.StatusBadRequest, status: "InvalidPayloadReceived", at: true, source: "/"}
}

// wGone is an unknown or malformed id (or path).
func wGone(source string) badWant {
	return badWant{http: http.StatusNotFound, status: "NotFound", code: "DoesNotExist", at: true, source: source}
}

// wClash is a request that conflicts with the current state.
func wClash(source string) badWant {
	return badWant{http: http.StatusConflict, at: true, source: source}
}

// wAnyAt is any 4xx with an error at source.
func wAnyAt(source string) badWant { return badWant{at: true, source: source} }

// wUnauthorized is a missing or bad API token.
func wUnauthorized() badWant { return badWant{http: http.StatusUnauthorized, status: "Unauthorized"} }

// wForbidden is a valid token without scope; the summary must name it.
func wForbidden(scope sesame.Scope) badWant {
	return badWant{http: http.StatusForbidden, summary: string(scope)}
}

// wTooLarge is a body over a size limit.
func wTooLarge() badWant { return badWant{http: http.StatusRequestEntityTooLarge} }

// wNotFound is an unknown route or capability URL.
func wNotFound() badWant { return badWant{http: http.StatusNotFound, status: "NotFound"} }

type badCase struct {
	name string
	req  badReq
	want badWant
}

var (
	badRequestIDPattern = regexp.MustCompile(`^prq_[a-z2-7]{32}$`)
	badEnvelopeKeys     = []string{"request_id", "request_time", "response_time", "result", "status", "summary"}
)

// badSend issues q against env, failing t (not env's test) on transport errors.
func (e *testEnv) badSend(t *testing.T, q badReq) *reply {
	t.Helper()
	var body []byte
	switch v := q.body.(type) {
	case nil:
	case string:
		body = []byte(v)
	case []byte:
		body = v
	default:
		var err error
		if body, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	method := q.method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequest(method, e.srv.URL+q.path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if q.body != nil || method == http.MethodPost || method == http.MethodPut {
		ct := q.ctype
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	switch q.auth {
	case "":
		req.Header.Set("Authorization", "Bearer "+e.token)
	case badNoAuth:
	default:
		req.Header.Set("Authorization", q.auth)
	}
	for k, v := range q.header {
		req.Header.Set(k, v)
	}
	sub := *e
	sub.t = t
	return sub.do(req)
}

// badCheckEnvelope asserts the shape every error reply must have,
// whatever the error: a 4xx JSON envelope with exactly six keys, a
// non-Success status, an x-request-id header matching request_id, and a
// non-empty result.errors whose items carry code, detail and source.
func badCheckEnvelope(t *testing.T, r *reply) {
	t.Helper()
	if r.Code < 400 || r.Code > 499 {
		t.Errorf("got HTTP %d, want 4xx: %.300s", r.Code, r.Raw)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("got Content-Type %q, want application/json (HTTP %d): %.300q", ct, r.Code, r.Raw)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(r.Raw, &top); err != nil {
		t.Fatalf("body is not a JSON object: %v: %.300s", err, r.Raw)
	}
	keys := make([]string, 0, len(top))
	for k := range top {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if diff := cmp.Diff(badEnvelopeKeys, keys); diff != "" {
		t.Errorf("envelope keys (-want +got):\n%s", diff)
	}
	for _, k := range []string{"request_id", "request_time", "response_time", "status", "summary"} {
		var s string
		if err := json.Unmarshal(top[k], &s); err != nil {
			t.Errorf("%s is %s, want a string", k, top[k])
		}
	}
	if r.Status == "" || r.Status == "Success" {
		t.Errorf("got status %q, want an error status", r.Status)
	}
	if r.Summary == "" {
		t.Errorf("got an empty summary, want a sentence")
	}
	if !badRequestIDPattern.MatchString(r.RequestID) {
		t.Errorf("got request_id %q, want prq_ and 32 base32 characters", r.RequestID)
	}
	if got := r.Header.Get("x-request-id"); got != r.RequestID {
		t.Errorf("got x-request-id %q, want request_id %q", got, r.RequestID)
	}
	for _, k := range []struct{ name, v string }{{"request_time", r.RequestTime}, {"response_time", r.ResponseTime}} {
		if _, err := time.Parse(time.RFC3339Nano, k.v); err != nil {
			t.Errorf("got %s %q, want an RFC 3339 time", k.name, k.v)
		}
	}
	var res struct {
		Errors []map[string]json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(r.Result, &res); err != nil {
		t.Fatalf("result is not {errors: [...]}: %v: %s", err, r.Result)
	}
	if len(res.Errors) == 0 {
		t.Fatalf("got no result.errors, want at least one: %s", r.Raw)
	}
	for i, it := range res.Errors {
		for _, k := range []string{"code", "detail"} {
			var s string
			if err := json.Unmarshal(it[k], &s); err != nil || s == "" {
				t.Errorf("errors/%d/%s is %s, want a non-empty string", i, k, it[k])
			} else if k == "code" {
				wantDocumentCode(t, s)
			}
		}
		raw, ok := it["source"]
		if !ok {
			t.Errorf("errors/%d has no source key: %s", i, r.Raw)
			continue
		}
		var src string
		if err := json.Unmarshal(raw, &src); err != nil {
			t.Errorf("errors/%d/source is %s, want a string", i, raw)
		} else if src != "" && !strings.HasPrefix(src, "/") {
			t.Errorf("errors/%d/source is %q, want a JSON pointer", i, src)
		}
	}
}

// badCheck asserts the envelope and then w.
func badCheck(t *testing.T, r *reply, w badWant) {
	t.Helper()
	badCheckEnvelope(t, r)
	if t.Failed() {
		return
	}
	if w.at && w.code != "" && w.http != 0 && w.status != "" {
		wantError(t, r, w.http, w.status, w.code, w.source)
	}
	if w.http != 0 && r.Code != w.http {
		t.Errorf("got HTTP %d, want %d: %s", r.Code, w.http, r.Raw)
	}
	if w.status != "" && r.Status != w.status {
		t.Errorf("got status %q, want %q: %s", r.Status, w.status, r.Raw)
	}
	if w.summary != "" && !strings.Contains(r.Summary, w.summary) {
		t.Errorf("got summary %q, want it to mention %q", r.Summary, w.summary)
	}
	if w.at {
		found := false
		for _, it := range r.Errors(t) {
			if it.Source == w.source && (w.code == "" || it.Code == w.code) {
				found = true
			}
		}
		if !found {
			code := w.code
			if code == "" {
				code = "(any code)"
			}
			t.Errorf("got no error %s at %q: %s", code, w.source, r.Raw)
		}
	}
}

// badFixtures is the tree the cases point into:
//
//	/fx/a.txt, /fx/b.txt, /fx/full/c.txt, /fx/full/inner/
type badFixtures struct {
	fx, a, b, full, inner, c object
	readOnly, linksOnly      string // tokens with one scope
	revoked                  string
	bucket                   string // the default bucket's id
}

var badFileData = []byte("hello, bad input")

func newBadFixtures(t *testing.T, env *testEnv) badFixtures {
	t.Helper()
	var f badFixtures
	f.fx = env.mkdir("/fx")
	f.full = env.mkdir("/fx/full")
	f.inner = env.mkdir("/fx/full/inner")
	f.a = env.upload("/fx", "a.txt", badFileData)
	f.b = env.upload("/fx", "b.txt", badFileData)
	f.c = env.upload("/fx/full", "c.txt", badFileData)
	f.readOnly = env.newToken(sesame.ScopeObjectsRead)
	f.linksOnly = env.newToken(sesame.ScopeLinksRead)
	tok, secret, err := env.st.CreateToken(context.Background(), "revoked", []sesame.Scope{sesame.ScopeAdmin}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if err := env.st.RevokeToken(context.Background(), tok.ID); err != nil {
		t.Fatal(err)
	}
	f.revoked = secret
	r := env.post("/v1/buckets", bj{})
	mustOK(t, r)
	var res struct {
		Buckets []struct {
			ID      string `json:"id"`
			Default bool   `json:"default"`
		} `json:"buckets"`
	}
	r.Into(t, &res)
	for _, b := range res.Buckets {
		if b.Default {
			f.bucket = b.ID
		}
	}
	if f.bucket == "" {
		t.Fatalf("no default bucket in %s", r.Raw)
	}
	return f
}

const (
	badUnknownObject = "pos_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	badUnknownBucket = "pro_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	badUnknownLink   = "psl_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	badZeros8        = "00000000"
)

// badMultipart is a multipart put, the way the Node SDK sends it.
func badMultipart(t *testing.T, path string, request any, data []byte) badReq {
	t.Helper()
	var js []byte
	switch v := request.(type) {
	case string:
		js = []byte(v)
	case []byte:
		js = v
	default:
		var err error
		if js, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	ct, body := multipartBody(t, part{"request", "blob", "application/json", js}, part{"file", "blob", "application/octet-stream", data})
	return badReq{path: path, body: body, ctype: ct}
}

func badJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// moreKind says how a case's answer is judged.
type moreKind int

const (
	moreAPI    moreKind = iota // a Pangea error envelope, judged by badCheck
	morePage                   // a portal answer: a status in codes (nil: any 4xx), never 5xx
	moreDead                   // the dead-link page, byte for byte, with 404
	moreSignIn                 // a 303 to the link's sign-in page
	moreAny                    // a well-formed MCP call with wrong arguments: anything but 5xx, and a 200 must carry an error
)

type moreCase struct {
	name  string
	req   badReq
	want  badWant      // moreAPI
	kind  moreKind     //
	codes []int        // morePage: the statuses allowed (nil: any 4xx)
	who   *moreVisitor // the visitor whose cookies go with the request (nil: none)
	base  string       // moreSignIn: the link's sign-in page
}

// moreGoText is what must never reach a visitor: traces of Go errors.
var moreGoText = []string{"runtime", "panic", "sql:", "nil pointer", "goroutine", "invalid memory address"}

const (
	morePassword = "correct horse battery staple"
	moreFormCT   = "application/x-www-form-urlencoded"
	moreNoCT     = "\x00none" // moreSend: send no Content-Type at all
)

// moreVisitor is a browser (testrig.Visitor: a cookie jar, no redirects
// followed) and the CSRF token of the forms it was last shown.
type moreVisitor struct {
	*testrig.Visitor
	csrf string
}

func (e *testEnv) moreNewVisitor(t *testing.T) *moreVisitor {
	t.Helper()
	return &moreVisitor{Visitor: testrig.NewVisitor(t, e.srv.URL, e.srv.Client().Transport)}
}

// moreSend issues q like badSend, but through who's cookie jar (or none),
// without following redirects, and without assuming a JSON answer. A POST
// with a body and no content type is sent as a form.
func (e *testEnv) moreSend(t *testing.T, q badReq, who *moreVisitor) *reply {
	t.Helper()
	var body []byte
	switch v := q.body.(type) {
	case nil:
	case string:
		body = []byte(v)
	case []byte:
		body = v
	case url.Values:
		body = []byte(v.Encode())
	default:
		var err error
		if body, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	method := q.method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequest(method, e.srv.URL+q.path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case q.ctype == moreNoCT:
	case q.ctype != "":
		req.Header.Set("Content-Type", q.ctype)
	case q.body != nil && method == http.MethodPost:
		req.Header.Set("Content-Type", moreFormCT)
	}
	switch q.auth {
	case "":
		req.Header.Set("Authorization", "Bearer "+e.token)
	case badNoAuth:
	default:
		req.Header.Set("Authorization", q.auth)
	}
	for k, v := range q.header {
		req.Header.Set(k, v)
	}
	client := &http.Client{Transport: e.srv.Client().Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if who != nil {
		client = who.Client()
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %.200s: %v", method, q.path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %.200s: read: %v", method, q.path, err)
	}
	r := &reply{Code: resp.StatusCode, Header: resp.Header, Raw: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		_ = json.Unmarshal(raw, r) // MCP and the upload script get other JSON; the checks say what they need
	}
	return r
}

// moreNoGoText fails t when an answer shows Go error text.
func moreNoGoText(t *testing.T, r *reply) {
	t.Helper()
	ct := r.Header.Get("Content-Type")
	if r.Code < 300 && !strings.HasPrefix(ct, "text/html") {
		return // a download: its bytes are the file's
	}
	low := strings.ToLower(string(r.Raw))
	for _, w := range moreGoText {
		if strings.Contains(low, w) {
			t.Errorf("the answer (HTTP %d, %s) shows Go error text %q: %.400q", r.Code, ct, w, r.Raw)
		}
	}
}

func moreCheck(t *testing.T, c moreCase, r *reply, dead []byte) {
	t.Helper()
	if r.Code >= 500 {
		t.Errorf("got HTTP %d, want never a 5xx: %.400q", r.Code, r.Raw)
	}
	moreNoGoText(t, r)
	switch c.kind {
	case moreAPI:
		badCheck(t, r, c.want)
	case moreDead:
		if r.Code != http.StatusNotFound {
			t.Errorf("got HTTP %d, want 404 and the dead-link page: %.300q", r.Code, r.Raw)
		} else if c.req.method != http.MethodHead && !bytes.Equal(r.Raw, dead) {
			t.Errorf("got another 404 body, want the dead-link page byte for byte: %.300q", r.Raw)
		}
	case moreSignIn:
		if r.Code != http.StatusSeeOther || r.Header.Get("Location") != c.base {
			t.Errorf("got HTTP %d to %q, want 303 to the sign-in page %q: %.300q", r.Code, r.Header.Get("Location"), c.base, r.Raw)
		}
	case morePage:
		if c.codes == nil {
			if r.Code < 400 || r.Code > 499 {
				t.Errorf("got HTTP %d, want a 4xx: %.300q", r.Code, r.Raw)
			}
		} else if !slices.Contains(c.codes, r.Code) {
			t.Errorf("got HTTP %d (Content-Type %q, Content-Range %q, Content-Length %q), want one of %v: %.300q", r.Code,
				r.Header.Get("Content-Type"), r.Header.Get("Content-Range"), r.Header.Get("Content-Length"), c.codes, r.Raw)
		}
	case moreAny:
		switch {
		case r.Code == http.StatusOK:
			var msg struct {
				Error  json.RawMessage `json:"error"`
				Result struct {
					IsError bool `json:"isError"`
				} `json:"result"`
			}
			if err := json.Unmarshal(r.Raw, &msg); err != nil || (len(msg.Error) == 0 && !msg.Result.IsError) {
				t.Errorf("got 200 without a JSON-RPC error or a tool error: %.400q", r.Raw)
			}
		case r.Code >= 400 && r.Code <= 499:
		default:
			t.Errorf("got HTTP %d, want 200 with an error or a 4xx: %.300q", r.Code, r.Raw)
		}
	}
}

// moreFixtures are what the cases point at.
type moreFixtures struct {
	bad                    badFixtures
	live, live2, deleted   string // link ids
	deletedToken           string // the /s/ token of the deleted link
	linksWrite, objWrite   string // tokens: links:write only, objects:write only
	linkCursor, auditCurse string // real cursors: link list (asc by created_at), audit list (desc)
	pending                string // a pending put-url request of the admin token
}

// moreLinkCreate creates one link and returns its id and /s/ path.
func (e *testEnv) moreLinkCreate(t *testing.T, item bj) (id, base string) {
	t.Helper()
	sub := *e
	sub.t = t
	r := sub.post("/v1/share/link/create", bj{"links": []bj{item}})
	mustOK(t, r)
	var res struct {
		Links []struct {
			ID   string `json:"id"`
			Link string `json:"link"`
		} `json:"share_link_objects"`
	}
	r.Into(t, &res)
	if len(res.Links) != 1 {
		t.Fatalf("got %d links, want 1: %s", len(res.Links), r.Raw)
	}
	return res.Links[0].ID, strings.TrimPrefix(res.Links[0].Link, e.srv.URL)
}

func moreEmailAuth(addr string) bj { return bj{"auth_type": "email_otp", "auth_context": addr} }

func morePasswordAuth(p string) bj { return bj{"auth_type": "password", "auth_context": p} }

func moreCursor(js string) string { return base64.RawURLEncoding.EncodeToString([]byte(js)) }

// moreLast reads the cursor of a list answer.
func moreLast(t *testing.T, r *reply) string {
	t.Helper()
	mustOK(t, r)
	var res struct {
		Last string `json:"last"`
	}
	r.Into(t, &res)
	if res.Last == "" {
		t.Fatalf("no cursor in %s", r.Raw)
	}
	return res.Last
}

func moreNewFixtures(t *testing.T, env *testEnv) moreFixtures {
	t.Helper()
	var f moreFixtures
	f.bad = newBadFixtures(t, env)
	item := func(title string) bj {
		return bj{"targets": []string{f.bad.a.ID}, "title": title, "authenticators": []bj{moreEmailAuth("bob@example.com")}}
	}
	f.live, _ = env.moreLinkCreate(t, item("live"))
	f.live2, _ = env.moreLinkCreate(t, item("live2"))
	var base string
	f.deleted, base = env.moreLinkCreate(t, item("deleted"))
	f.deletedToken = strings.TrimPrefix(base, "/s/")
	mustOK(t, env.post("/v1/share/link/delete", bj{"ids": []string{f.deleted}}))
	f.linksWrite = env.newToken(sesame.ScopeLinksWrite)
	f.objWrite = env.newToken(sesame.ScopeObjectsWrite)
	f.linkCursor = moreLast(t, env.post("/v1/share/link/list", bj{"size": 1}))
	f.auditCurse = moreLast(t, env.post("/v1/audit/list", bj{"size": 1}))
	_, loc := badAnnounce(t, env, bj{"transfer_method": "put-url", "folder": "/more", "name": "pending.bin"})
	f.pending = strings.TrimPrefix(loc, "/request/")
	return f
}

// moreItem is a valid link item with kv applied; a nil value removes the key.
func moreItem(f moreFixtures, kv ...any) bj {
	m := bj{"targets": []string{f.bad.a.ID}, "authenticators": []bj{moreEmailAuth("bob@example.com")}}
	for i := 0; i+1 < len(kv); i += 2 {
		k := kv[i].(string)
		if kv[i+1] == nil {
			delete(m, k)
			continue
		}
		m[k] = kv[i+1]
	}
	return m
}
