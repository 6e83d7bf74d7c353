package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sesame-share/sesame/internal/testrig"
)

// freePort returns a port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// server is one `sesame serve` running in the test process.
type server struct {
	base           string
	stdout, stderr *testrig.Buffer
	cancel         context.CancelFunc
	done           chan error
	stopped        bool
}

// startServe runs serve on dir and waits until /readyz answers 200.
func startServe(t *testing.T, dir string) *server {
	t.Helper()
	return startServeEnv(t, dir, nil)
}

// startServeEnv is startServe with the environment environ.
func startServeEnv(t *testing.T, dir string, environ []string) *server {
	t.Helper()
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{
		base:   fmt.Sprintf("http://127.0.0.1:%d", port),
		stdout: &testrig.Buffer{}, stderr: &testrig.Buffer{},
		cancel: cancel, done: make(chan error, 1),
	}
	args := []string{"serve", "--data", dir, "--listen", fmt.Sprintf("127.0.0.1:%d", port)}
	go func() { s.done <- run(ctx, args, environ, s.stdout, s.stderr) }()
	t.Cleanup(func() {
		if !s.stopped {
			s.stop(t)
		}
	})

	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := client.Get(s.base + "/readyz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve: /readyz not 200 after 10s (last error %v); stderr:\n%s", err, s.stderr.String())
		}
		select {
		case err := <-s.done:
			s.stopped = true
			t.Fatalf("serve returned before it was ready: %v; stderr:\n%s", err, s.stderr.String())
		case <-tick.C:
		}
	}
}

// stop cancels the server's context and returns what run returned.
func (s *server) stop(t *testing.T) error {
	t.Helper()
	s.cancel()
	s.stopped = true
	select {
	case err := <-s.done:
		return err
	case <-time.After(15 * time.Second):
		t.Fatalf("serve did not return within 15s of cancellation; stderr:\n%s", s.stderr.String())
		return nil
	}
}

var tokenRE = regexp.MustCompile(`sst_[A-Za-z0-9_-]{43}`)

// envelope is the part of a Pangea response the test reads.
type envelope struct {
	Status  string          `json:"status"`
	Summary string          `json:"summary"`
	Result  json.RawMessage `json:"result"`
}

// call sends req with the token and decodes the envelope, failing unless
// the status is 200.
func call(t *testing.T, req *http.Request, token string) envelope {
	t.Helper()
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read: %v", req.Method, req.URL.Path, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: got status %d, want 200; body %s", req.Method, req.URL.Path, resp.StatusCode, body)
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("%s %s: %v; body %s", req.Method, req.URL.Path, err, body)
	}
	if env.Status != "Success" {
		t.Fatalf("%s %s: got status %q, want Success; body %s", req.Method, req.URL.Path, env.Status, body)
	}
	return env
}

func postJSON(t *testing.T, url, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return req
}

type objectResult struct {
	Object struct {
		ID     string `json:"id"`
		Type   string `json:"type"`
		Name   string `json:"name"`
		Folder string `json:"folder"`
		Size   int64  `json:"size"`
	} `json:"object"`
	DestURL string `json:"dest_url"`
}

func decodeResult(t *testing.T, env envelope) objectResult {
	t.Helper()
	var r objectResult
	if err := json.Unmarshal(env.Result, &r); err != nil {
		t.Fatalf("result %s: %v", env.Result, err)
	}
	return r
}

// getStatus returns the status of GET url, and its body.
func getStatus(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read: %v", url, err)
	}
	return resp.StatusCode, body
}

func TestServeEndToEnd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := startServe(t, dir)

	tokens := tokenRE.FindAllString(s.stdout.String(), -1)
	if len(tokens) != 1 {
		t.Fatalf("first start: stdout %q, want exactly one admin token", s.stdout.String())
	}
	admin := tokens[0]

	if code, body := getStatus(t, s.base+"/healthz"); code != http.StatusOK {
		t.Errorf("GET /healthz: got %d, want 200; body %s", code, body)
	}
	// Without a token the API refuses.
	resp, err := http.Post(s.base+"/v1/folder/create", "application/json", strings.NewReader(`{"folder":"/nope"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("folder/create without a token: got %d, want 401", resp.StatusCode)
	}

	folder := decodeResult(t, call(t, postJSON(t, s.base+"/v1/folder/create", `{"folder":"/docs"}`), admin))
	if folder.Object.Type != "folder" || folder.Object.Name != "docs" {
		t.Errorf("folder/create: got %+v, want the folder docs", folder.Object)
	}

	payload := []byte("hello from the sesame end-to-end test\n\x00\xff binary too")
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	rw, err := mw.CreateFormField("request")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(rw, `{"folder":"/docs","name":"a.txt"}`)
	fw, err := mw.CreateFormFile("file", "a.txt")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(payload)
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, s.base+"/v1/put", &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	put := decodeResult(t, call(t, req, admin))
	if put.Object.ID == "" || put.Object.Name != "a.txt" || put.Object.Folder != "/docs" || put.Object.Size != int64(len(payload)) {
		t.Errorf("put: got %+v, want a.txt in /docs with %d bytes", put.Object, len(payload))
	}

	get := decodeResult(t, call(t, postJSON(t, s.base+"/v1/get", fmt.Sprintf(`{"id":%q,"transfer_method":"dest-url"}`, put.Object.ID)), admin))
	if !strings.HasPrefix(get.DestURL, s.base+"/") {
		t.Fatalf("get: dest_url %q, want it under %s (the public URL derived from --listen)", get.DestURL, s.base)
	}
	code, got := getStatus(t, get.DestURL)
	if code != http.StatusOK {
		t.Fatalf("GET dest_url: got %d, want 200; body %s", code, got)
	}
	if !bytes.Equal(got, payload) {
		t.Errorf("GET dest_url: got %q, want %q", got, payload)
	}

	if err := s.stop(t); err != nil {
		t.Fatalf("serve after cancel: got %v, want nil (graceful shutdown); stderr:\n%s", err, s.stderr.String())
	}
	if _, err := http.Get(s.base + "/healthz"); err == nil {
		t.Errorf("GET /healthz after shutdown: got an answer, want the port closed")
	}

	fi, err := os.Stat(filepath.Join(dir, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("secret.key mode: got %o, want 600", got)
	}

	// Second start: no new token; the old one (and the object) still work,
	// so the key and the database were kept.
	s2 := startServe(t, dir)
	if out := s2.stdout.String(); strings.Contains(out, "sst_") {
		t.Errorf("second start: stdout %q, want no new token", out)
	}
	again := decodeResult(t, call(t, postJSON(t, s2.base+"/v1/get", fmt.Sprintf(`{"id":%q,"transfer_method":"dest-url"}`, put.Object.ID)), admin))
	if code, got := getStatus(t, again.DestURL); code != http.StatusOK || !bytes.Equal(got, payload) {
		t.Errorf("second start: GET dest_url: got %d %q, want 200 %q", code, got, payload)
	}
	if err := s2.stop(t); err != nil {
		t.Errorf("second serve after cancel: got %v, want nil; stderr:\n%s", err, s2.stderr.String())
	}
}

func TestServeBadConfig(t *testing.T) {
	t.Parallel()
	// A bad configuration fails before anything is created or printed.
	dir := filepath.Join(t.TempDir(), "data")
	var out, errw strings.Builder
	err := run(t.Context(), []string{"serve", "--data", dir, "--listen", "nowhere"}, []string{"SESAME_LOG_FORMAT=xml"}, &out, &errw)
	if err == nil {
		t.Fatal("serve with a bad listen address: got nil error")
	}
	for _, w := range []string{"listen", "log.format"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("serve: got error %q, want it to contain %q", err, w)
		}
	}
	if out.Len() != 0 {
		t.Errorf("serve: stdout %q, want nothing", out.String())
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("serve with a bad config created %s (stat: %v)", dir, err)
	}
}

// TestServeLogTransport shows that with no configuration a sent link is
// written to the server log, link URL included, so that a new user can
// follow it without a mail server.
func TestServeLogTransport(t *testing.T) {
	t.Parallel()
	s := startServe(t, t.TempDir())
	admin := tokenRE.FindString(s.stdout.String())
	folder := decodeResult(t, call(t, postJSON(t, s.base+"/v1/folder/create", `{"folder":"/shared"}`), admin))
	env := call(t, postJSON(t, s.base+"/v1/share/link/create", `{"links":[{"targets":["`+folder.Object.ID+`"],"title":"Holiday photos",
		"authenticators":[{"auth_type":"email_otp","auth_context":"bob@example.com"}]}]}`), admin)
	var created struct {
		Links []struct {
			ID   string `json:"id"`
			Link string `json:"link"`
		} `json:"share_link_objects"`
	}
	if err := json.Unmarshal(env.Result, &created); err != nil || len(created.Links) != 1 {
		t.Fatalf("create: %v %s", err, env.Result)
	}
	call(t, postJSON(t, s.base+"/v1/share/link/send", `{"links":[{"id":"`+created.Links[0].ID+`","email":"bob@example.com"}],"sender_email":"alice@example.com","sender_name":"Alice"}`), admin)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.stderr.String(), created.Links[0].Link) {
		if time.Now().After(deadline) {
			t.Fatalf("the email never reached the log; stderr:\n%s", s.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	log := s.stderr.String()
	for _, want := range []string{"to=bob@example.com", "Holiday photos", "Alice"} {
		if !strings.Contains(log, want) {
			t.Errorf("the logged email lacks %q", want)
		}
	}
}
