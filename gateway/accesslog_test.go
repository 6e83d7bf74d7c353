package gateway_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sesame-share/sesame/gateway"
)

// accessLines is a slog handler that hands every access log line ("http")
// to the test, as route and bytes.
type accessLines chan [2]any

func (a accessLines) Enabled(context.Context, slog.Level) bool { return true }
func (a accessLines) WithAttrs([]slog.Attr) slog.Handler       { return a }
func (a accessLines) WithGroup(string) slog.Handler            { return a }
func (a accessLines) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "http" {
		return nil
	}
	var line [2]any
	r.Attrs(func(at slog.Attr) bool {
		switch at.Key {
		case "route":
			line[0] = at.Value.String()
		case "bytes":
			line[1] = at.Value.Any()
		}
		return true
	})
	a <- line
	return nil
}

// next returns the bytes logged for the next request to route. The line is
// written once the handler returns, which may be after the client has read
// the reply, so it waits for it.
func (a accessLines) next(t *testing.T, route string) any {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l := <-a:
			if l[0] == route {
				return l[1]
			}
		case <-timeout:
			t.Fatalf("no access log line for %s", route)
		}
	}
}

// TestAccessLog_SendfileBytes checks that the access log records the body
// bytes a download sent with sendfile, whole and as a range.
func TestAccessLog_SendfileBytes(t *testing.T) {
	lines := make(accessLines, 64)
	e := newTestEnv(t, func(c *gateway.Config) { c.Logger = slog.New(lines) })
	data := randomBytes(t, 300_000)
	f := e.upload("/", "big.bin", data)
	r := e.post("/v1/get", map[string]any{"id": f.ID, "transfer_method": "dest-url"})
	mustOK(t, r)
	var res struct {
		DestURL string `json:"dest_url"`
	}
	r.Into(t, &res)
	if !strings.Contains(res.DestURL, "/dl/") && strings.HasSuffix(res.DestURL, "/big.bin") {
		t.Fatalf("dest_url %q", res.DestURL)
	}

	for _, tt := range []struct {
		name   string
		header map[string]string
		code   int
		want   int64
	}{
		{"Whole", nil, http.StatusOK, int64(len(data))},
		{"Range", map[string]string{"Range": "bytes=100-1099"}, http.StatusPartialContent, 1000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := e.get(res.DestURL, tt.header)
			if got.Code != tt.code || int64(len(got.Raw)) != tt.want {
				t.Fatalf("GET: %d with %d bytes, want %d with %d", got.Code, len(got.Raw), tt.code, tt.want)
			}
			if logged := lines.next(t, "/dl/:secret/:name"); logged != tt.want {
				t.Errorf("access log bytes=%v, want %d", logged, tt.want)
			}
		})
	}
}
