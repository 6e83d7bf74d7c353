package gateway_test

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/internal/testrig"
)

// A healthy server at info logs one line per request, each with the
// request's id; a problem inside a request logs its line with the same id.
func TestLog_OneLinePerRequestWithItsID(t *testing.T) {
	logs := &testrig.Buffer{}
	log := slog.New(sesame.WithRequestIDs(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})))
	e := fromRig(t, testrig.NewEnv(t, testrig.WithLogger(log)))
	f := e.upload("/l", "a.txt", []byte("hello"))
	e.post("/v1/list", map[string]any{"filter": map[string]any{"folder": "/l"}})
	e.post("/v1/get", map[string]any{"id": f.ID})
	resp, err := http.Get(e.srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	e.post("/v1/get", map[string]any{"id": "pos_" + strings.Repeat("a", 32)}) // a 404: still one line

	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 5 {
		t.Fatalf("%d log lines for 5 requests:\n%s", len(lines), logs.String())
	}
	for _, l := range lines {
		if !strings.Contains(l, `"request_id":"prq_`) {
			t.Errorf("a line without its request id: %s", l)
		}
	}
}
