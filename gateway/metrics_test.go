package gateway_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/gateway"
)

// metricsEnv is a portal env whose store reports its audit events and
// queues to the server's metrics, as cmd/sesame wires them.
func metricsEnv(t *testing.T) (*portalEnv, *gateway.Metrics) {
	m := gateway.NewMetrics()
	e := newPortalEnv(t, portalCheapPasswords, func(c *gateway.Config) { c.Metrics = m })
	e.st.ObserveAudit(m.ObserveAudit)
	e.st.ObserveBlobErrors(m.BlobError)
	m.WatchQueues(e.st, time.Now)
	m.WatchDBs(e.st.DBs())
	return e, m
}

// scrape reads /metrics with token and parses it.
func scrape(t *testing.T, base, token string) (map[string]*dto.MetricFamily, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %d %s", resp.StatusCode, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("the scrape does not parse: %v", err)
	}
	return fams, body
}

// value is the value of the series of name whose labels include want.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f := fams[name]
	if f == nil {
		return 0
	}
next:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return 0
}

// The counters move as requests do, and /metrics needs a token with
// metrics:read.
func TestMetrics_CountersFollowRequests(t *testing.T) {
	t.Parallel()
	e, _ := metricsEnv(t)
	metricsToken := e.newToken(sesame.ScopeMetricsRead)
	for _, c := range []struct {
		token string
		want  int
	}{{"", http.StatusUnauthorized}, {e.newToken(sesame.ScopeLinksRead), http.StatusForbidden}, {metricsToken, http.StatusOK}, {e.token, http.StatusOK}} {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/metrics", nil)
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("/metrics with token %q…: %d, want %d", c.token[:min(8, len(c.token))], resp.StatusCode, c.want)
		}
	}

	before, _ := scrape(t, e.srv.URL, metricsToken)
	health := map[string]string{"route": "/healthz", "method": "GET", "status": "200"}
	for range 3 {
		resp, err := http.Get(e.srv.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	f := e.upload("/m", "m.txt", []byte("twelve bytes"))
	g := e.upload("/m", "gone.txt", []byte("its bytes are lost"))
	l := e.createLinks(map[string]any{"targets": []string{f.ID, g.ID}, "authenticators": []any{pw(goodPassword)}})[0]
	v := e.visitor()
	v.password(l, 0, "wrong password")
	v.signIn(l, goodPassword)
	v.Get(e.base(l) + "/f/" + f.ID)
	removeBlob(t, e, g.ID)
	if p := v.Get(e.base(l) + "/f/" + g.ID); p.Code != http.StatusNotFound {
		t.Fatalf("a file whose bytes are gone: %s", p)
	}

	after, text := scrape(t, e.srv.URL, metricsToken)
	notFoundPage := float64(len(v.Get(e.base(l) + "/f/" + g.ID).Body)) // the page the lost file got, once more
	for _, c := range []struct {
		name   string
		labels map[string]string
		delta  float64
	}{
		{"sesame_http_requests_total", health, 3},
		{"sesame_http_request_duration_seconds", map[string]string{"route": "/healthz", "method": "GET"}, 3},
		{"sesame_signins_total", map[string]string{"outcome": "failure:401", "auth_type": "password"}, 1},
		{"sesame_signins_total", map[string]string{"outcome": "success", "auth_type": "password"}, 1},
		{"sesame_downloads_total", map[string]string{"outcome": "success"}, 1},
		{"sesame_http_response_bytes_total", map[string]string{"route": "/s/:token/f/:id"}, 12 + notFoundPage},
		{"sesame_http_request_bytes_total", map[string]string{"route": "/v1/put"}, 1},
		{"sesame_blob_errors_total", map[string]string{"op": "open"}, 1},
	} {
		got := value(after, c.name, c.labels) - value(before, c.name, c.labels)
		if c.name == "sesame_http_request_bytes_total" {
			if got < c.delta {
				t.Errorf("%s%v moved by %v, want some bytes", c.name, c.labels, got)
			}
			continue
		}
		if got != c.delta {
			t.Errorf("%s%v moved by %v, want %v", c.name, c.labels, got, c.delta)
		}
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "sesame_outbox_pending_messages", "go_sql_open_connections"} {
		if after[name] == nil {
			t.Errorf("the scrape lacks %s", name)
		}
	}
	for _, secret := range []string{l.ID, f.ID, "m.txt", strings.TrimPrefix(e.base(l), "/s/")} {
		if bytes.Contains(text, []byte(secret)) {
			t.Errorf("a label carries %q: labels must take bounded values", secret)
		}
	}
}

// promtool accepts a scrape taken after a request to every route.
func TestMetrics_PromtoolAcceptsAScrapeOfEveryRoute(t *testing.T) {
	t.Parallel()
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but promtool is not installed (scripts/test.sh installs Debian's prometheus): %v", err)
		}
		t.Skip("promtool not found; install Debian's prometheus package (scripts/test.sh does)")
	}
	e, _ := metricsEnv(t)
	f := e.upload("/p", "p.txt", []byte("p"))
	l := e.createLinks(map[string]any{"targets": []string{f.ID}, "authenticators": []any{pw(goodPassword)}})[0]
	token := strings.TrimPrefix(e.base(l), "/s/")
	routes := 0
	for _, r := range e.rig.Gateway.Routes() {
		path := strings.NewReplacer(":token", token, ":id", f.ID, ":secret", "nope", "*file", "portal.css").Replace(r.Path)
		req, _ := http.NewRequest(r.Method, e.srv.URL+path, strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+e.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", r.Method, path, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		routes++
	}
	fams, text := scrape(t, e.srv.URL, e.token)
	if n := len(fams["sesame_http_requests_total"].GetMetric()); n < routes/2 {
		t.Errorf("%d request series after %d routes", n, routes)
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// removeBlob deletes the stored bytes of an object from the data
// directory, as a failing disk would lose them.
func removeBlob(t *testing.T, e *portalEnv, id string) {
	t.Helper()
	o, err := e.st.ObjectByID(context.Background(), "", id)
	if err != nil {
		t.Fatal(err)
	}
	removed := false
	_ = filepath.WalkDir(filepath.Join(e.rig.Dir, "blobs"), func(p string, d os.DirEntry, err error) error { // a miss fails below
		if err == nil && !d.IsDir() && filepath.Base(p) == o.BlobKey {
			removed = os.Remove(p) == nil
		}
		return nil
	})
	if !removed {
		t.Fatalf("no blob file %s", o.BlobKey)
	}
}
