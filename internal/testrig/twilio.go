package testrig

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Credentials the Twilio fake accepts; twilio-go refuses secrets that are
// not alphanumeric.
const (
	TwilioAccountSID = "AC0123456789abcdef0123456789abcdef"
	TwilioAuthToken  = "0123456789abcdef0123456789abcdef"
	TwilioAPIKey     = "SK0123456789abcdef0123456789abcdef"
	TwilioAPISecret  = "s3cretAPIsecret"
	TwilioFrom       = "+15005550006"
)

// TwilioRequest is one request the Twilio fake was sent.
type TwilioRequest struct {
	Method string
	Host   string // the host the client aimed at (api.twilio.com through Client)
	Path   string
	Form   url.Values
	User   string
	Pass   string
	// BasicAuth is whether the request carried Basic credentials at all.
	BasicAuth bool
}

// TwilioServer answers POST /2010-04-01/Accounts/{sid}/Messages.json the
// way the Twilio API does, with a configurable status and body, and
// records every request. Point notify.Twilio at it with BaseURL: URL, or
// with HTTPClient: Client().
type TwilioServer struct {
	URL string

	reqs arrivals[TwilioRequest]

	mu     sync.Mutex // guards status and body
	status int
	body   string
}

// NewTwilioServer starts a fake that answers 201 with sid SM123 until told
// otherwise; the test's cleanup stops it.
func NewTwilioServer(t testing.TB) *TwilioServer {
	t.Helper()
	f := &TwilioServer{status: http.StatusCreated, body: `{"sid":"SM123","status":"queued"}`}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

func (f *TwilioServer) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if err := r.ParseForm(); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"code":21000,"message":"The form could not be read","status":400}`)
		return
	}
	user, pass, ok := r.BasicAuth()
	f.reqs.add(TwilioRequest{Method: r.Method, Host: r.Host, Path: r.URL.Path, Form: r.PostForm, User: user, Pass: pass, BasicAuth: ok})
	f.mu.Lock()
	status, body := f.status, f.body
	f.mu.Unlock()
	if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/2010-04-01/Accounts/") || !strings.HasSuffix(r.URL.Path, "/Messages.json") {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"code":20404,"message":"The requested resource was not found","status":404}`)
		return
	}
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// Answer sets the reply to every later request.
func (f *TwilioServer) Answer(status int, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status, f.body = status, body
}

// Requests returns every request so far, oldest first.
func (f *TwilioServer) Requests() []TwilioRequest { return f.reqs.all() }

// Next waits at most d for the request after the one it last returned (the
// first request on the first call), and fails the test if none comes.
func (f *TwilioServer) Next(t testing.TB, d time.Duration) TwilioRequest {
	t.Helper()
	return f.reqs.wait(t, d, "SMS at the Twilio fake")
}

// Client is an HTTP client that carries every request to the fake, whatever
// host it names: twilio-go, left at its default https://api.twilio.com,
// talks to the fake through it.
func (f *TwilioServer) Client() *http.Client {
	u, _ := url.Parse(f.URL) // httptest's URL always parses
	return &http.Client{Timeout: 15 * time.Second, Transport: redirectTransport{to: u, next: http.DefaultTransport}}
}

// redirectTransport sends each request to another scheme and host, and
// keeps the Host header the client meant.
type redirectTransport struct {
	to   *url.URL
	next http.RoundTripper
}

func (r redirectTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	if out.Host == "" {
		out.Host = req.URL.Host
	}
	out.URL.Scheme, out.URL.Host = r.to.Scheme, r.to.Host
	return r.next.RoundTrip(out)
}
