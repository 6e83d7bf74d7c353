package sesame_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/sesame-share/sesame"
)

func TestWithRequestIDs(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(sesame.WithRequestIDs(slog.NewTextHandler(&buf, nil))).With("part", "core")
	ctx := sesame.WithRequestID(context.Background(), "prq_abc")
	log.ErrorContext(ctx, "inside a request", "error", "boom")
	log.WarnContext(ctx, "already named", "request_id", "prq_abc")
	log.Info("outside any request")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("lines: %q", lines)
	}
	if !strings.Contains(lines[0], "request_id=prq_abc") || !strings.Contains(lines[0], "part=core") {
		t.Errorf("a line logged with the request's context lacks its id: %s", lines[0])
	}
	if n := strings.Count(lines[1], "request_id="); n != 1 {
		t.Errorf("a line that names its request id got it %d times: %s", n, lines[1])
	}
	if strings.Contains(lines[2], "request_id") {
		t.Errorf("a line outside any request got an id: %s", lines[2])
	}
}
