package gateway_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sesame-share/sesame/internal/testrig"
)

// The hot paths over real HTTP on a real SQLite store: what scripts/bench.sh
// measures under load, here one request at a time (or b.RunParallel), so
// that a regression shows in ns/op and allocs/op. Run with
//
//	go test -run '^$' -bench . -benchmem ./gateway/

// benchEnv is a server with one 10 KiB file at /bench/small.bin.
type benchEnv struct {
	*testrig.Env
	fileID string
}

func newBenchEnv(b *testing.B) *benchEnv {
	b.Helper()
	e := &benchEnv{Env: testrig.NewEnv(b)}
	ct, body := benchUpload(b, `{"folder":"/bench","name":"small.bin"}`, bytes.Repeat([]byte("0123456789abcdef"), 640))
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/v1/put", body)
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+e.Token)
	r := e.API.Do(b, req)
	r.MustOK(b)
	var res struct {
		Object struct {
			ID string `json:"id"`
		} `json:"object"`
	}
	r.Into(b, &res)
	e.fileID = res.Object.ID
	return e
}

func benchUpload(b *testing.B, request string, data []byte) (string, io.Reader) {
	ct, body := multipartBody(b, part{"request", "blob", "application/json", []byte(request)}, part{"file", "blob", "application/octet-stream", data})
	return ct, bytes.NewReader(body)
}

// signedIn makes a password link to the file and returns a visitor signed
// in to it and the file's path on the portal.
func (e *benchEnv) signedIn(b *testing.B) (*testrig.Visitor, string) {
	b.Helper()
	r := e.API.Post(b, "/v1/share/link/create", map[string]any{"links": []any{map[string]any{"targets": []string{e.fileID},
		"authenticators": []any{map[string]any{"auth_type": "password", "auth_context": "correct horse battery"}}, "max_access_count": 1000}}})
	r.MustOK(b)
	var res struct {
		Links []struct {
			Link string `json:"link"`
		} `json:"share_link_objects"`
	}
	r.Into(b, &res)
	page := strings.TrimPrefix(res.Links[0].Link, e.URL)
	v := e.Visitor()
	p := v.Get(page)
	if s := v.Post(page+"/password", url.Values{"csrf": {p.Value("csrf")}, "auth": {"0"}, "password": {"correct horse battery"}}); s.Code != http.StatusSeeOther {
		b.Fatalf("sign-in: %s", s)
	}
	return v, page + "/f/" + e.fileID
}

func drain(b *testing.B, c *http.Client, req *http.Request, want int) {
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want || n == 0 {
		b.Fatalf("%s %s: %d, %d bytes", req.Method, req.URL.Path, resp.StatusCode, n)
	}
}

// BenchmarkPortalDownloadSmall is a signed-in recipient's download of a
// 10 KiB file: the session, the link's liveness, the scope, the download
// claim and its audit event, and the bytes.
func BenchmarkPortalDownloadSmall(b *testing.B) {
	e := newBenchEnv(b)
	v, path := e.signedIn(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		drain(b, v.Client(), v.NewRequest(http.MethodGet, path, nil), http.StatusOK)
	}
}

// BenchmarkPortalDownloadSmallParallel is the same from 8 clients at once,
// as wrk drives it in scripts/bench.sh: the writes of concurrent
// downloads share commits.
func BenchmarkPortalDownloadSmallParallel(b *testing.B) {
	e := newBenchEnv(b)
	v, path := e.signedIn(b)
	b.ReportAllocs()
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			drain(b, v.Client(), v.NewRequest(http.MethodGet, path, nil), http.StatusOK)
		}
	})
}

// BenchmarkDestURLDownloadSmall is a 10 KiB download through a dest-url.
func BenchmarkDestURLDownloadSmall(b *testing.B) {
	e := newBenchEnv(b)
	r := e.API.Post(b, "/v1/get", map[string]any{"id": e.fileID, "transfer_method": "dest-url"})
	r.MustOK(b)
	var res struct {
		DestURL string `json:"dest_url"`
	}
	r.Into(b, &res)
	c := e.Server.Client()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodGet, res.DestURL, nil)
		drain(b, c, req, http.StatusOK)
	}
}

// BenchmarkLinkCreate is share/link/create of one email_otp link per call,
// from 8 clients at once as scripts/bench.sh does.
func BenchmarkLinkCreate(b *testing.B) {
	e := newBenchEnv(b)
	body := testrig.JSONBody(b, map[string]any{"links": []any{map[string]any{"targets": []string{e.fileID},
		"authenticators": []any{map[string]any{"auth_type": "email_otp", "auth_context": "bench@example.com"}}}}})
	c := e.Server.Client()
	b.ReportAllocs()
	b.SetParallelism(4) // 8 clients on 2 cores
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodPost, e.URL+"/v1/share/link/create", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+e.Token)
			drain(b, c, req, http.StatusOK)
		}
	})
}

// BenchmarkLinkList is share/link/list, a page of 100 of 2,000 links.
func BenchmarkLinkList(b *testing.B) {
	e := newBenchEnv(b)
	for i := 0; i < 20; i++ {
		items := make([]any, 100)
		for j := range items {
			items[j] = map[string]any{"targets": []string{e.fileID}, "tags": []string{fmt.Sprintf("t%d", j%20)},
				"authenticators": []any{map[string]any{"auth_type": "email_otp", "auth_context": "bench@example.com"}}}
		}
		e.API.Post(b, "/v1/share/link/create", map[string]any{"links": items}).MustOK(b)
	}
	body := testrig.JSONBody(b, map[string]any{"size": 100, "filter": map[string]any{"tags": []string{"t7"}}})
	c := e.Server.Client()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPost, e.URL+"/v1/share/link/list", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+e.Token)
		drain(b, c, req, http.StatusOK)
	}
}
