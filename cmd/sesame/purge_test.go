package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/internal/testrig"
	"github.com/sesame-share/sesame/store"
)

// TestServePurges checks that serve, and only serve, purges at start and
// logs what it removed.
func TestServePurges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, exp := range []time.Time{now.Add(-time.Minute), now.Add(time.Hour)} {
		if _, err := st.CreateGrant(ctx, &sesame.Grant{ObjectIDs: []string{"pos_x"}, Expires: exp}); err != nil {
			t.Fatal(err)
		}
	}
	for action, age := range map[string]time.Duration{"old": 401 * 24 * time.Hour, "recent": 399 * 24 * time.Hour} {
		e := &sesame.AuditEvent{Time: now.Add(-age), Actor: "system", ActorType: sesame.ActorSystem, Action: action, Outcome: "success"}
		if err := st.Audit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	db := testrig.OpenDB(t, dir)
	counts := func() (grants, old, recent int) {
		t.Helper()
		for _, c := range []struct {
			n *int
			q string
		}{{&grants, `SELECT COUNT(*) FROM download_grants`}, {&old, `SELECT COUNT(*) FROM audit_events WHERE action = 'old'`},
			{&recent, `SELECT COUNT(*) FROM audit_events WHERE action = 'recent'`}} {
			if err := db.QueryRow(c.q).Scan(c.n); err != nil {
				t.Fatal(err)
			}
		}
		return
	}

	if _, stderr, err := runCLI(t, "migrate", "--data", dir); err != nil {
		t.Fatalf("migrate: %v\n%s", err, stderr)
	}
	if g, o, r := counts(); g != 2 || o != 1 || r != 1 {
		t.Fatalf("after migrate: got %d grants, %d old and %d recent events; want 2, 1, 1 (only serve purges)", g, o, r)
	}

	s := startServe(t, dir)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.stderr.String(), "purged spent rows") {
		if time.Now().After(deadline) {
			t.Fatalf("serve logged no purge; stderr:\n%s", s.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, want := range []string{"download_grants=1", "audit_events=1"} {
		if !strings.Contains(s.stderr.String(), want) {
			t.Errorf("the purge log line lacks %s; stderr:\n%s", want, s.stderr.String())
		}
	}
	if g, o, r := counts(); g != 1 || o != 0 || r != 1 {
		t.Errorf("after serve started: got %d grants, %d old and %d recent events; want 1, 0, 1", g, o, r)
	}
}

// TestPurgeLogsOnlyRemovals checks that a purge that removes nothing says
// nothing.
func TestPurgeLogsOnlyRemovals(t *testing.T) {
	t.Parallel()
	st := testrig.OpenStore(t, t.TempDir(), nil, nil)
	var buf bytes.Buffer
	purge(t.Context(), st, time.Now(), time.Hour, slog.New(slog.NewTextHandler(&buf, nil)))
	if buf.Len() != 0 {
		t.Errorf("a purge with nothing to remove logged:\n%s", buf.String())
	}
}
