package store_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/store"
)

// open opens the store in dir with cfg's other fields.
func open(t *testing.T, dir string, cfg store.Config) (*store.Store, error) {
	t.Helper()
	cfg.DataDir = dir
	if cfg.DatabaseURL == "" {
		cfg.DatabaseURL = databaseURL(t, dir)
	}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(context.Background(), cfg)
	if err == nil {
		t.Cleanup(func() { st.Close() })
	}
	return st, err
}

func TestStore_Exclusive(t *testing.T) {
	dir := t.TempDir()
	owner, err := open(t, dir, store.Config{Exclusive: true})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("SecondOwnerRefused", func(t *testing.T) {
		_, err := open(t, dir, store.Config{Exclusive: true})
		if sesame.KindOf(err) != sesame.Conflict {
			t.Fatalf("second exclusive open: got %v, want a Conflict", err)
		}
		msg := sesame.AsError(err).Message
		if want := fmt.Sprintf("Another sesame server is using %s (pid %d).", dir, os.Getpid()); msg != want {
			t.Errorf("message: got %q, want %q", msg, want)
		}
	})

	t.Run("SharedOpenNeverSweeps", func(t *testing.T) {
		stray := filepath.Join(dir, "tmp", "up-in-flight")
		if err := os.WriteFile(stray, []byte("bytes of an upload"), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Remove(stray) })
		shared, err := open(t, dir, store.Config{})
		if err != nil {
			t.Fatalf("open beside the owner: %v", err)
		}
		if _, err := shared.FindTokens(context.Background()); err != nil {
			t.Errorf("the shared store cannot read: %v", err)
		}
		if err := shared.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(stray); err != nil {
			t.Errorf("a shared open removed the owner's staged file: %v", err)
		}
	})

	t.Run("LockReleasedOnClose", func(t *testing.T) {
		if err := owner.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := open(t, dir, store.Config{Exclusive: true}); err != nil {
			t.Fatalf("exclusive open after the owner closed: %v", err)
		}
	})
}

// TestStore_SweepSparesStagingInProgress starts an owner (a server) while
// another process of the same data directory (sesame mcp) is staging an
// upload: the owner's sweep leaves the file being written alone.
func TestStore_SweepSparesStagingInProgress(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	writer, err := open(t, dir, store.Config{})
	if err != nil {
		t.Fatal(err)
	}
	data := randomBytes(3, 3<<20)
	pr, pw := io.Pipe()
	type staged struct {
		u   *sesame.Upload
		err error
	}
	done := make(chan staged, 1)
	go func() {
		u, err := writer.Stage(ctx, pr, "big.bin", 0)
		done <- staged{u, err}
	}()
	// A write to the pipe returns once Stage has read it, so the staged
	// file exists and is locked.
	if _, err := pw.Write(data[:1000]); err != nil {
		t.Fatal(err)
	}
	if _, err := open(t, dir, store.Config{Exclusive: true}); err != nil {
		t.Fatalf("open the owner: %v", err)
	}
	if _, err := pw.Write(data[1000:]); err != nil {
		t.Fatalf("the rest of the upload: %v", err)
	}
	pw.Close()
	r := <-done
	if r.err != nil {
		t.Fatalf("Stage after the owner's sweep: %v", r.err)
	}
	o, err := writer.CreateFile(ctx, sesame.FileCreate{Placement: placeAt("/", "big.bin")}, r.u)
	if err != nil {
		t.Fatalf("commit after the owner's sweep: %v", err)
	}
	if o.Size != int64(len(data)) {
		t.Errorf("stored %d bytes, want %d", o.Size, len(data))
	}
}

// TestStore_StageReserve fills a disk whose free space is the test's budget
// minus what is stored under the data directory.
func TestStore_StageReserve(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	const reserve = 8 << 20
	var budget atomic.Int64
	free := func() (int64, error) {
		used := int64(0)
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() || d.Name() == "sesame.db" || strings.HasPrefix(d.Name(), "sesame.db-") {
				return err
			}
			fi, err := d.Info()
			if err == nil {
				used += fi.Size()
			}
			return err
		})
		return budget.Load() - used, err
	}
	st, err := open(t, dir, store.Config{MinFreeSpace: reserve, FreeSpace: free})
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "tmp")
	stage := func(n int) error {
		t.Helper()
		u, err := st.Stage(ctx, bytes.NewReader(randomBytes(uint64(n), n)), "f.bin", 0)
		if err == nil {
			st.Discard(ctx, u)
		}
		return err
	}

	budget.Store(reserve + 5<<20/2) // 2.5 MiB above the reserve
	if err := stage(2 << 20); err != nil {
		t.Fatalf("2 MiB with 2.5 MiB above the reserve: %v", err)
	}
	if st.LowSpace() {
		t.Errorf("LowSpace with 2.5 MiB above the reserve: got true")
	}
	err = stage(4 << 20)
	if sesame.KindOf(err) != sesame.NoSpace {
		t.Fatalf("4 MiB with 2.5 MiB above the reserve: got %v, want NoSpace", err)
	}
	if msg := sesame.AsError(err).Message; !strings.Contains(msg, "space") {
		t.Errorf("message %q does not mention space", msg)
	}
	wantFiles(t, tmp)

	budget.Store(reserve - 1)
	if !st.LowSpace() {
		t.Errorf("LowSpace below the reserve: got false")
	}
	if err := stage(1); sesame.KindOf(err) != sesame.NoSpace {
		t.Fatalf("1 byte below the reserve: got %v, want NoSpace", err)
	}
	wantFiles(t, tmp)
}

// TestStore_OpenTogetherMigratesOnce opens one database from several
// processes at once, as replicas that start together do: every open
// succeeds, each migration is recorded once and there is one default
// bucket.
func TestStore_OpenTogetherMigratesOnce(t *testing.T) {
	dir := t.TempDir()
	cfg := store.Config{DataDir: dir, DatabaseURL: databaseURL(t, dir), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	// The key is made beforehand: this test is about the database.
	if _, err := store.LoadKeys(filepath.Join(dir, "secret.key")); err != nil {
		t.Fatal(err)
	}
	const n = 4
	stores := make([]*store.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		open := func() {
			defer wg.Done()
			stores[i], errs[i] = store.Open(context.Background(), cfg)
		}
		if cfg.DatabaseURL == "" {
			// One SQLite file is one server's: its opens come one after
			// another (turning on WAL needs the file to itself).
			open()
			continue
		}
		go open()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("open %d: %v", i, err)
			continue
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	if t.Failed() {
		return
	}
	for i, st := range stores {
		if st.DefaultBucket() != stores[0].DefaultBucket() {
			t.Errorf("store %d: default bucket %s, store 0: %s", i, st.DefaultBucket(), stores[0].DefaultBucket())
		}
	}
	ts := &testStore{Store: stores[0], dir: dir}
	db := ts.rawDB(t)
	names, err := fs.Glob(os.DirFS("migrations/sqlite"), "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if got := rowCount(t, db, `SELECT COUNT(*) FROM schema_migrations`); got != len(names) {
		t.Errorf("schema_migrations holds %d rows, want %d", got, len(names))
	}
	if got := rowCount(t, db, `SELECT COUNT(*) FROM buckets`); got != 1 {
		t.Errorf("%d buckets, want 1", got)
	}
}

// TestStore_OpenRefusesOtherDatabases checks that a database URL of another
// kind is refused, without a connection attempt.
func TestStore_OpenRefusesOtherDatabases(t *testing.T) {
	_, err := open(t, t.TempDir(), store.Config{DatabaseURL: "mysql://user:secret@db/sesame"})
	if sesame.KindOf(err) != sesame.Invalid {
		t.Fatalf("Open: %v, want an Invalid error", err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("the error repeats the URL's password: %v", err)
	}
}
