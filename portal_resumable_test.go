package sesame_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/store"
)

// resumableEnv is an upload link to e.folder and a way to visit it with a
// session of its own.
type resumableEnv struct {
	*linkEnv
	ps   *sesame.PortalService
	link *sesame.Link
}

func newResumableEnv(t *testing.T, lim sesame.PortalLimits) *resumableEnv {
	t.Helper()
	e := newLinkEnv(t, sesame.DefaultLinkPolicy())
	ps := newPortalService(e)
	ps.Resumables, ps.Limits = e.st, lim
	it := e.item()
	it.Type, it.Targets = sesame.LinkUpload, []string{e.folder.ID}
	return &resumableEnv{linkEnv: e, ps: ps, link: e.create(t, it)[0]}
}

// visit signs in anew on l and returns the visit, with its session.
func (e *resumableEnv) visit(t *testing.T, ps *sesame.PortalService, l *sesame.Link) *sesame.Visit {
	t.Helper()
	ctx := context.Background()
	_, secret, err := e.st.SignIn(ctx, l, l.Authenticators[0].ID, "192.0.2.1", "test", e.now())
	if err != nil {
		t.Fatal(err)
	}
	v, err := ps.Open(ctx, l.Token, func(string) string { return secret }, sesame.Visitor{IP: "192.0.2.1"})
	if err != nil || v.Session == nil {
		t.Fatalf("open with a session: %v, %v", v, err)
	}
	return v
}

// counters reads the link's upload reservations from its row.
func (e *resumableEnv) counters(t *testing.T) (files int, bytes int64) {
	t.Helper()
	db, err := sql.Open("sqlite3", store.DSN(filepath.Join(e.dir, "sesame.db")))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow(`SELECT uploaded_files, uploaded_bytes FROM links WHERE id = ?`, e.link.ID).Scan(&files, &bytes); err != nil {
		t.Fatal(err)
	}
	return files, bytes
}

func sum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func TestPortalService_ResumableCapsAtCreation(t *testing.T) {
	e := newResumableEnv(t, sesame.PortalLimits{MaxFileSize: 100, MaxLinkFiles: 2, MaxLinkBytes: 150})
	ctx := context.Background()
	v := e.visit(t, e.ps, e.link)
	start := func(name string, n int64) (*sesame.Resumable, error) {
		return e.ps.StartResumable(ctx, v, e.folder.ID, name, n)
	}
	if _, err := start("big.bin", 101); sesame.KindOf(err) != sesame.TooLarge || !strings.Contains(err.Error(), "big.bin") {
		t.Errorf("over the per-file limit: %v", err)
	}
	first, err := start("a.bin", 100)
	if err != nil {
		t.Fatal(err)
	}
	if files, bytes := e.counters(t); files != 1 || bytes != 100 {
		t.Errorf("after one creation the link holds %d files, %d bytes; want the whole length reserved: 1, 100", files, bytes)
	}
	if _, err := start("b.bin", 51); sesame.KindOf(err) != sesame.TooLarge {
		t.Errorf("past the link's bytes: %v", err)
	}
	if files, bytes := e.counters(t); files != 1 || bytes != 100 {
		t.Errorf("a refused creation kept a reservation: %d files, %d bytes", files, bytes)
	}
	if _, err := start("c.bin", 50); err != nil {
		t.Fatal(err)
	}
	if _, err := start("d.bin", 0); sesame.KindOf(err) != sesame.TooLarge {
		t.Errorf("past the link's files: %v", err)
	}
	if err := e.ps.CancelResumable(ctx, v, first); err != nil {
		t.Fatal(err)
	}
	if files, bytes := e.counters(t); files != 1 || bytes != 50 {
		t.Errorf("a cancel gave back %d files, %d bytes left; want 1, 50", files, bytes)
	}
	if _, err := start("d.bin", 100); err != nil {
		t.Errorf("after a cancel: %v", err)
	}
	if _, err := e.ps.StartResumable(ctx, v, e.file.ID, "x.bin", 1); sesame.KindOf(err) != sesame.NotFound && sesame.KindOf(err) != sesame.Invalid {
		t.Errorf("into something outside the link: %v", err)
	}
}

func TestPortalService_ResumableBelongsToItsSession(t *testing.T) {
	e := newResumableEnv(t, sesame.PortalLimits{})
	ctx := context.Background()
	v := e.visit(t, e.ps, e.link)
	u, err := e.ps.StartResumable(ctx, v, e.folder.ID, "mine.txt", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(u.ID) < 40 {
		t.Errorf("upload id %q is short: ids must be unguessable", u.ID)
	}
	if _, err := e.ps.Resumable(ctx, v, u.ID); err != nil {
		t.Fatalf("its own session: %v", err)
	}
	it := e.item()
	it.Type, it.Targets = sesame.LinkUpload, []string{e.folder.ID}
	other := e.create(t, it)[0]
	for name, w := range map[string]*sesame.Visit{"another session": e.visit(t, e.ps, e.link), "another link": e.visit(t, e.ps, other)} {
		if _, err := e.ps.Resumable(ctx, w, u.ID); sesame.KindOf(err) != sesame.NotFound {
			t.Errorf("%s: Resumable = %v, want NotFound", name, err)
		}
		if _, err := e.ps.LockResumable(ctx, w, u.ID, func() {}); sesame.KindOf(err) != sesame.NotFound {
			t.Errorf("%s: LockResumable = %v, want NotFound", name, err)
		}
	}
	e.advance(sesame.SessionMaxAge)
	if _, err := e.ps.Resumable(ctx, v, u.ID); sesame.KindOf(err) != sesame.NotFound {
		t.Errorf("past its expiry: %v", err)
	}
}

func TestPortalService_ResumableWritesAndCommits(t *testing.T) {
	e := newResumableEnv(t, sesame.PortalLimits{})
	ctx := context.Background()
	v := e.visit(t, e.ps, e.link)
	if _, err := e.ps.Upload(ctx, v, e.folder, "a_b_.txt", strings.NewReader("there first")); err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("0123456789abcdef"), 4096)
	u, err := e.ps.StartResumable(ctx, v, e.folder.ID, "a<b>.txt", int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if u.Name != "a_b_.txt" {
		t.Errorf("name %q, want the safe form a_b_.txt", u.Name)
	}
	// A body cut short keeps what arrived.
	cut := io.MultiReader(bytes.NewReader(data[:1000]), errReader{})
	if n, err := e.ps.WriteResumable(ctx, v, u, 0, cut); err == nil || n != 0 {
		t.Errorf("a body that fails: %d, %v; want nothing stored and the error", n, err)
	}
	if n, err := e.ps.WriteResumable(ctx, v, u, 0, bytes.NewReader(data[:1000])); err != nil || n != 1000 || u.Offset != 1000 {
		t.Fatalf("first part: %d, %v, offset %d", n, err, u.Offset)
	}
	if _, err := e.ps.WriteResumable(ctx, v, u, 0, bytes.NewReader(data[:10])); sesame.KindOf(err) != sesame.Conflict {
		t.Errorf("at a stale offset: %v", err)
	}
	again, err := e.ps.Resumable(ctx, v, u.ID) // as another request, or replica, sees it
	if err != nil || again.Offset != 1000 {
		t.Fatalf("offset read back: %v, %v", again, err)
	}
	if n, err := e.ps.WriteResumable(ctx, v, again, 1000, bytes.NewReader(data[1000:])); err != nil || n != int64(len(data)-1000) || !again.Done() {
		t.Fatalf("last part: %d, %v, %+v", n, err, again)
	}
	if again.SavedName != "a_b_ (1).txt" {
		t.Errorf("saved as %q, want a free name beside a_b_.txt", again.SavedName)
	}
	o, err := e.st.ObjectByID(ctx, e.folder.BucketID, again.ObjectID)
	if err != nil {
		t.Fatal(err)
	}
	if o.SHA256 != sum(data) || o.Size != int64(len(data)) || o.Name != "a_b_ (1).txt" {
		t.Errorf("stored %s, %d bytes, sha256 %s; want %d bytes, %s", o.Name, o.Size, o.SHA256, len(data), sum(data))
	}
	if parts, err := e.st.ResumableParts(ctx, u.ID); err != nil || len(parts) != 0 {
		t.Errorf("parts after the commit: %v, %v", parts, err)
	}
	ids, err := e.st.SessionUploadIDs(ctx, v.Session.ID)
	if err != nil || len(ids) != 2 || ids[1] != o.ID {
		t.Errorf("the session's uploads: %v, %v", ids, err)
	}
	if _, err := e.ps.WriteResumable(ctx, v, again, int64(len(data)), bytes.NewReader([]byte("x"))); sesame.KindOf(err) != sesame.Conflict {
		t.Errorf("a write after the end: %v", err)
	}
	// An empty file commits without a write.
	empty, err := e.ps.StartResumable(ctx, v, e.folder.ID, "empty.txt", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.ps.CompleteResumable(ctx, v, empty); err != nil || !empty.Done() || empty.SavedName != "empty.txt" {
		t.Errorf("an empty upload: %v, %+v", err, empty)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

// TestPortalService_ResumableLockAcrossReplicas: two services, each over
// its own store on one database, take turns with an upload's lock; a
// waiter asks the holder to let go, and a dead holder's lease runs out.
func TestPortalService_ResumableLockAcrossReplicas(t *testing.T) {
	e := newResumableEnv(t, sesame.PortalLimits{})
	ctx := context.Background()
	st2, err := store.Open(ctx, store.Config{DataDir: e.dir, Now: e.clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st2.Close() })
	ps2 := &sesame.PortalService{Access: st2, Objects: st2, Blobs: st2, Resumables: st2, Audit: st2, Now: e.clock}
	v := e.visit(t, e.ps, e.link)
	v2, err := ps2.Open(ctx, e.link.Token, func(string) string { return v.Secret }, sesame.Visitor{})
	if err != nil || v2.Session == nil || v2.Session.ID != v.Session.ID {
		t.Fatalf("the same session on the second replica: %v, %v", v2, err)
	}
	u, err := e.ps.StartResumable(ctx, v, e.folder.ID, "shared.bin", 10)
	if err != nil {
		t.Fatal(err)
	}
	asked := make(chan struct{})
	unlock, err := e.ps.LockResumable(ctx, v, u.ID, func() { close(asked) })
	if err != nil {
		t.Fatal(err)
	}
	// The second replica waits, and the holder is asked to let go.
	wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, err = ps2.LockResumable(wctx, v2, u.ID, func() {})
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a second lock while the first is held: %v, want it to wait until its context ends", err)
	}
	select {
	case <-asked:
	case <-time.After(10 * time.Second):
		t.Fatal("the holder was never asked to let go")
	}
	unlock()
	unlock2, err := ps2.LockResumable(ctx, v2, u.ID, func() {})
	if err != nil {
		t.Fatalf("after the first let go: %v", err)
	}
	unlock2()

	// A holder that died keeps the lock only until its lease runs out.
	now := e.now()
	if ok, err := e.st.LockResumable(ctx, u.ID, v.Session.ID, "dead replica", now, now.Add(sesame.ResumableLease)); err != nil || !ok {
		t.Fatalf("the dead replica's lock: %v, %v", ok, err)
	}
	wctx, cancel = context.WithTimeout(ctx, 300*time.Millisecond)
	_, err = ps2.LockResumable(wctx, v2, u.ID, func() {})
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("while the dead replica's lease runs: %v", err)
	}
	e.advance(sesame.ResumableLease)
	unlock2, err = ps2.LockResumable(ctx, v2, u.ID, func() {})
	if err != nil {
		t.Fatalf("after the lease ran out: %v", err)
	}
	unlock2()
}
