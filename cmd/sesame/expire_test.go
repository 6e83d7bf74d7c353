package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/internal/testrig"
	"github.com/sesame-share/sesame/store"
)

// TestServeExpiresFiles checks that serve applies objects.default_file_ttl
// and deletes the files it expired, logging how many and auditing each.
func TestServeExpiresFiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	// Stored two hours ago: past a 1h default.
	st, err := store.Open(ctx, store.Config{DataDir: dir, Now: func() time.Time { return time.Now().Add(-2 * time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	put := func(name string, ttl sesame.FileTTL) *sesame.Object {
		u, err := st.Stage(ctx, bytes.NewReader([]byte(name)), name, 0)
		if err != nil {
			t.Fatal(err)
		}
		o, err := st.CreateFile(ctx, sesame.FileCreate{Placement: sesame.Placement{HasParentID: true, Name: name}, FileTTL: ttl}, u)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	old, kept := put("old.txt", ""), put("kept.txt", sesame.TTLNever)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	s := startServeEnv(t, dir, []string{"SESAME_OBJECTS_DEFAULT_FILE_TTL=1h"})
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.stderr.String(), "deleted expired files") {
		if time.Now().After(deadline) {
			t.Fatalf("serve logged no expiry; stderr:\n%s", s.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(s.stderr.String(), "files=1") {
		t.Errorf("the expiry log line does not count one file; stderr:\n%s", s.stderr.String())
	}
	db := testrig.OpenDB(t, dir)
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := db.QueryRow(q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if count(`SELECT COUNT(*) FROM objects WHERE id = ?`, old.ID) != 0 || count(`SELECT COUNT(*) FROM objects WHERE id = ?`, kept.ID) != 1 {
		t.Errorf("after serve started: want %s deleted and %s kept", old.Path, kept.Path)
	}
	if count(`SELECT COUNT(*) FROM audit_events WHERE action = ? AND object_id = ?`, sesame.ActionObjectExpire, old.ID) != 1 {
		t.Error("no object.expire event for the expired file")
	}
}
