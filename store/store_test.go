package store_test

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/store"
)

// clock is the injected time source. Tests move it by hand; nothing sleeps.
type clock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testStore is a store over a real SQLite file in a temp dir.
type testStore struct {
	*store.Store
	clock *clock
	dir   string
}

func newTestStore(t *testing.T) *testStore {
	t.Helper()
	ts := &testStore{clock: newClock(), dir: t.TempDir()}
	ts.Store = openStore(t, ts.dir, ts.clock)
	t.Cleanup(func() { ts.Store.Close() }) // runs before TempDir removal (LIFO); Close is idempotent
	return ts
}

func openStore(t *testing.T, dir string, c *clock) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.Config{
		DataDir:     dir,
		DatabaseURL: databaseURL(t, dir),
		S3:          s3Config(t, dir),
		Now:         c.Now,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		Exclusive:   true, // as the server: it sweeps on open
	})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	return st
}

// reopen closes the store and opens the same data directory again.
func (ts *testStore) reopen(t *testing.T) {
	t.Helper()
	if err := ts.Store.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	ts.Store = openStore(t, ts.dir, ts.clock)
}

func (ts *testStore) tmpDir() string  { return filepath.Join(ts.dir, "tmp") }
func (ts *testStore) blobDir() string { return filepath.Join(ts.dir, "blobs") }

// blobFile is where the store keeps the blob with the given key.
func (ts *testStore) blobFile(key string) string {
	return filepath.Join(ts.blobDir(), key[:2], key[2:4], key)
}

// mkdir creates folder name under the folder at parent ("" or "/" for the root).
func (ts *testStore) mkdir(t *testing.T, parent, name string) *sesame.Object {
	t.Helper()
	o, err := ts.CreateFolder(context.Background(), sesame.FolderCreate{Placement: placeAt(parent, name)})
	if err != nil {
		t.Fatalf("create folder %s in %q: %v", name, parent, err)
	}
	return o
}

// stage stages data under the given file name, with no size limit.
func (ts *testStore) stage(t *testing.T, name string, data []byte) *sesame.Upload {
	t.Helper()
	u, err := ts.Stage(context.Background(), bytes.NewReader(data), name, 0)
	if err != nil {
		t.Fatalf("stage %s: %v", name, err)
	}
	return u
}

// putFile stores data as the file name under the folder at parent.
func (ts *testStore) putFile(t *testing.T, parent, name string, data []byte) *sesame.Object {
	t.Helper()
	u := ts.stage(t, name, data)
	o, err := ts.CreateFile(context.Background(), sesame.FileCreate{Placement: placeAt(parent, name)}, u)
	if err != nil {
		t.Fatalf("create file %s in %q: %v", name, parent, err)
	}
	return o
}

// readBlob returns the bytes of a committed blob.
func (ts *testStore) readBlob(t *testing.T, key string) []byte {
	t.Helper()
	b, err := ts.OpenBlob(context.Background(), key)
	if err != nil {
		t.Fatalf("open blob %s: %v", key, err)
	}
	defer b.Close()
	data, err := io.ReadAll(b)
	if err != nil {
		t.Fatalf("read blob %s: %v", key, err)
	}
	if b.Size() != int64(len(data)) {
		t.Errorf("blob %s: Size() = %d, read %d bytes", key, b.Size(), len(data))
	}
	return data
}

// byPath returns the object at p, failing the test when there is none.
func (ts *testStore) byPath(t *testing.T, p string) *sesame.Object {
	t.Helper()
	o, err := ts.ObjectByPath(context.Background(), "", p)
	if err != nil {
		t.Fatalf("object by path %s: %v", p, err)
	}
	return o
}

// byID returns the object with the id, failing the test when there is none.
func (ts *testStore) byID(t *testing.T, id string) *sesame.Object {
	t.Helper()
	o, err := ts.ObjectByID(context.Background(), "", id)
	if err != nil {
		t.Fatalf("object by id %s: %v", id, err)
	}
	return o
}

// wantNoPath fails unless nothing is at p.
func (ts *testStore) wantNoPath(t *testing.T, p string) {
	t.Helper()
	o, err := ts.ObjectByPath(context.Background(), "", p)
	if sesame.KindOf(err) != sesame.NotFound {
		t.Errorf("ObjectByPath(%q) = %+v, %v; want NotFound", p, o, err)
	}
}

// countObjects returns how many objects the default bucket holds.
func (ts *testStore) countObjects(t *testing.T) int {
	t.Helper()
	page, err := ts.FindObjects(context.Background(), sesame.ObjectFilter{Size: 1})
	if err != nil {
		t.Fatalf("find objects: %v", err)
	}
	return page.Count
}

// placeAt names a placement by parent path ("" means the root, by id).
func placeAt(parent, name string) sesame.Placement {
	if parent == "" {
		return sesame.Placement{HasParentID: true, ParentID: sesame.RootParentID, Name: name}
	}
	return sesame.Placement{HasParentPath: true, ParentPath: parent, Name: name}
}

// files lists the regular files under dir, as slash-separated paths relative to it.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", dir, err)
	}
	sort.Strings(out)
	return out
}

// wantFiles fails unless dir holds exactly the given files.
func wantFiles(t *testing.T, dir string, want ...string) {
	t.Helper()
	got := files(t, dir)
	if len(want) == 0 {
		want = nil
	}
	sort.Strings(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("files under %s (-want +got):\n%s", dir, diff)
	}
}

// wantErr fails unless err is an *sesame.Error of the kind whose first field
// error has the given source and code ("" skips a check). It returns the error.
func wantErr(t *testing.T, err error, kind sesame.Kind, source, code string) *sesame.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", kind)
	}
	e := sesame.AsError(err)
	if e == nil {
		t.Fatalf("got %T %v, want a *sesame.Error of kind %v", err, err, kind)
	}
	if e.Kind != kind {
		t.Fatalf("got kind %v (%v), want %v", e.Kind, err, kind)
	}
	if source == "" && code == "" {
		return e
	}
	if len(e.Fields) == 0 {
		t.Fatalf("got %v with no field errors, want source %q code %q", err, source, code)
	}
	if source != "" && e.Fields[0].Source != source {
		t.Errorf("got source %q (%v), want %q", e.Fields[0].Source, err, source)
	}
	if code != "" && e.Fields[0].Code != code {
		t.Errorf("got code %q (%v), want %q", e.Fields[0].Code, err, code)
	}
	return e
}

// randomBytes returns n reproducible pseudo-random bytes.
func randomBytes(seed uint64, n int) []byte {
	var s [32]byte
	s[0], s[1] = byte(seed), byte(seed>>8)
	b := make([]byte, n)
	rand.NewChaCha8(s).Read(b) // never fails
	return b
}

func TestStore_Open(t *testing.T) {
	ctx := context.Background()

	t.Run("DefaultBucket", func(t *testing.T) {
		ts := newTestStore(t)
		bs, err := ts.Buckets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(bs) != 1 || !bs[0].Default || bs[0].ID != ts.DefaultBucket() || !sesame.ValidID(sesame.PrefixBucket, bs[0].ID) {
			t.Fatalf("got buckets %+v, want one default bucket with id %s", bs, ts.DefaultBucket())
		}
	})

	t.Run("ReopenKeepsState", func(t *testing.T) {
		ts := newTestStore(t)
		bucket := ts.DefaultBucket()
		data := []byte("kept across restarts")
		f := ts.putFile(t, "/keep", "k.txt", data)
		_, secret, err := ts.CreateToken(ctx, "ci", []sesame.Scope{sesame.ScopeObjectsRead}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		ts.reopen(t)
		if got := ts.DefaultBucket(); got != bucket {
			t.Errorf("got default bucket %s after reopen, want %s", got, bucket)
		}
		if diff := cmp.Diff(f, ts.byPath(t, "/keep/k.txt")); diff != "" {
			t.Errorf("object after reopen (-want +got):\n%s", diff)
		}
		if got := ts.readBlob(t, f.BlobKey); !bytes.Equal(got, data) {
			t.Errorf("got blob %q after reopen, want %q", got, data)
		}
		// The MAC key is persisted, so old secrets still work.
		if _, err := ts.Authenticate(ctx, secret); err != nil {
			t.Errorf("authenticate after reopen: %v", err)
		}
	})

	t.Run("Ping", func(t *testing.T) {
		ts := newTestStore(t)
		if err := ts.Ping(ctx); err != nil {
			t.Fatalf("ping: %v", err)
		}
		ts.wantStaged(t)
	})
}

// TestStore_Sweep plants stray files on the disk; TestStore_SweepBucket
// is its counterpart in a bucket.
func TestStore_Sweep(t *testing.T) {
	if onS3() {
		t.Skip("blobs are in a bucket")
	}
	ts := newTestStore(t)
	data := randomBytes(7, 4096)
	f := ts.putFile(t, "/", "real.bin", data)
	realRel := f.BlobKey[:2] + "/" + f.BlobKey[2:4] + "/" + f.BlobKey
	wantFiles(t, ts.blobDir(), realRel)

	// A blob whose row never committed, in its own fan-out directory, and
	// one beside the real blob; plus staged uploads a crash left behind.
	strayKey := sesame.NewID("")
	if strayKey[:4] == f.BlobKey[:4] {
		t.Fatalf("random keys %s and %s share a fan-out directory; rerun", strayKey, f.BlobKey)
	}
	strayDir := filepath.Join(ts.blobDir(), strayKey[:2], strayKey[2:4])
	if err := os.MkdirAll(strayDir, 0o700); err != nil {
		t.Fatal(err)
	}
	neighbour := sesame.NewID("")
	strays := []string{
		filepath.Join(strayDir, strayKey),
		filepath.Join(filepath.Dir(ts.blobFile(f.BlobKey)), neighbour),
		filepath.Join(ts.tmpDir(), "up-123456"),
		filepath.Join(ts.tmpDir(), "leftover"),
	}
	for _, p := range strays {
		if err := os.WriteFile(p, []byte("stray"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ts.reopen(t)

	for _, p := range strays {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("stray %s survived the sweep (stat: %v)", p, err)
		}
	}
	wantFiles(t, ts.blobDir(), realRel)
	wantFiles(t, ts.tmpDir())
	if got := ts.readBlob(t, f.BlobKey); !bytes.Equal(got, data) {
		t.Errorf("real blob changed after sweep: got %d bytes, want %d", len(got), len(data))
	}
	if diff := cmp.Diff(f, ts.byID(t, f.ID)); diff != "" {
		t.Errorf("object after sweep (-want +got):\n%s", diff)
	}
}
