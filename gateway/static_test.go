package gateway_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// The static handler serves the embedded assets with their types and
// nothing else.
func TestStatic_ServesAssetsByType(t *testing.T) {
	e := newTestEnv(t)
	for path, want := range map[string]string{
		"/static/portal.css": "text/css; charset=utf-8",
		"/static/portal.js":  "text/javascript; charset=utf-8",
		"/static/brand.css":  "text/css; charset=utf-8",
	} {
		resp, err := http.Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != want || len(body) == 0 {
			t.Errorf("%s: %d %q (%d bytes), want 200 %q", path, resp.StatusCode, resp.Header.Get("Content-Type"), len(body), want)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", path)
		}
		if strings.HasSuffix(path, "brand.css") && !strings.Contains(string(body), "--accent") {
			t.Errorf("brand.css = %q", body)
		}
	}
}
