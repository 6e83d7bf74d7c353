package store_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/store"
)

// defaultTTL is what an object that inherits all the way up reports when
// the service sets no default: never, from the service configuration.
func (ts *testStore) defaultTTL() sesame.TTLSource {
	return sesame.TTLSource{TTL: sesame.TTLNever, From: sesame.ServiceConfigID(ts.DefaultBucket())}
}

// newTTLStore is newTestStore with def as the service's default file TTL.
func newTTLStore(t *testing.T, def sesame.FileTTL) *testStore {
	t.Helper()
	ts := &testStore{clock: newClock(), dir: t.TempDir()}
	ts.Store = openTTLStore(t, ts.dir, ts.clock, def)
	t.Cleanup(func() { ts.Store.Close() })
	return ts
}

func openTTLStore(t *testing.T, dir string, c *clock, def sesame.FileTTL) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.Config{DataDir: dir, DatabaseURL: databaseURL(t, dir), S3: s3Config(t, dir),
		Now: c.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Exclusive: true, DefaultFileTTL: def})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	return st
}

// putTTL stores data as the file name under parent with its own TTL.
func (ts *testStore) putTTL(t *testing.T, parent, name string, ttl sesame.FileTTL) *sesame.Object {
	t.Helper()
	u := ts.stage(t, name, []byte(name))
	o, err := ts.CreateFile(context.Background(), sesame.FileCreate{Placement: placeAt(parent, name), FileTTL: ttl}, u)
	if err != nil {
		t.Fatalf("create file %s in %q: %v", name, parent, err)
	}
	return o
}

// mkdirTTL creates folder name under parent with its own TTL.
func (ts *testStore) mkdirTTL(t *testing.T, parent, name string, ttl sesame.FileTTL) *sesame.Object {
	t.Helper()
	o, err := ts.CreateFolder(context.Background(), sesame.FolderCreate{Placement: placeAt(parent, name), FileTTL: ttl})
	if err != nil {
		t.Fatalf("create folder %s in %q: %v", name, parent, err)
	}
	return o
}

// setTTL sets the object's own TTL through an update.
func (ts *testStore) setTTL(t *testing.T, id string, ttl sesame.FileTTL) *sesame.Object {
	t.Helper()
	o, err := ts.UpdateObject(context.Background(), id, sesame.ObjectUpdate{FileTTL: ttl})
	if err != nil {
		t.Fatalf("set ttl %s on %s: %v", ttl, id, err)
	}
	return o
}

type ttlWant struct {
	own     sesame.FileTTL
	src     sesame.TTLSource
	expires time.Time
}

// wantTTL fails unless o, read back, has the TTL fields of w.
func (ts *testStore) wantTTL(t *testing.T, o *sesame.Object, w ttlWant) {
	t.Helper()
	wantTTLOf(t, ts.byID(t, o.ID), w)
}

// wantTTLOf fails unless o has the TTL fields of w.
func wantTTLOf(t *testing.T, o *sesame.Object, w ttlWant) {
	t.Helper()
	if o.FileTTL != w.own || o.TTL != w.src || !o.Expires.Equal(w.expires) {
		t.Errorf("%s: got own %q, in force %+v, expires %v; want %q, %+v, %v", o.Path, o.FileTTL, o.TTL, o.Expires, w.own, w.src, w.expires)
	}
}

func TestStore_FileTTL(t *testing.T) {
	ctx := context.Background()

	t.Run("NoDefault", func(t *testing.T) {
		ts := newTestStore(t)
		f := ts.putFile(t, "/", "f.txt", []byte("f"))
		d := ts.mkdir(t, "/", "d")
		ts.wantTTL(t, f, ttlWant{src: ts.defaultTTL()})
		ts.wantTTL(t, d, ttlWant{src: ts.defaultTTL()})
		if !sesame.ValidID(sesame.PrefixConfig, f.TTL.From) {
			t.Errorf("got from %q, want a pci_ id", f.TTL.From)
		}
	})

	t.Run("Inherited", func(t *testing.T) {
		ts := newTestStore(t)
		a := ts.mkdirTTL(t, "/", "a", "7d")
		ts.clock.Advance(time.Minute)
		f := ts.putFile(t, "/a/b", "f.txt", []byte("f")) // makes /a/b
		b := ts.byPath(t, "/a/b")
		own := ts.putTTL(t, "/a", "own.txt", "never")
		short := ts.putTTL(t, "/a/b", "short.txt", "1h")
		now := ts.clock.Now()
		fromA := sesame.TTLSource{TTL: "7d", From: a.ID}
		for _, c := range []struct {
			o *sesame.Object
			w ttlWant
		}{
			{a, ttlWant{own: "7d", src: fromA}}, // a folder never expires itself
			{b, ttlWant{src: fromA}},
			{f, ttlWant{src: fromA, expires: now.Add(7 * 24 * time.Hour)}},
			{own, ttlWant{own: "never", src: sesame.TTLSource{TTL: "never", From: own.ID}}},
			{short, ttlWant{own: "1h", src: sesame.TTLSource{TTL: "1h", From: short.ID}, expires: now.Add(time.Hour)}},
		} {
			wantTTLOf(t, c.o, c.w) // as made
			ts.wantTTL(t, c.o, c.w)
		}
	})

	t.Run("FolderChangeReachesWhatInherits", func(t *testing.T) {
		ts := newTestStore(t)
		a := ts.mkdir(t, "/", "a")
		f := ts.putFile(t, "/a/b", "f.txt", []byte("f"))
		b := ts.byPath(t, "/a/b")
		keep := ts.mkdirTTL(t, "/a", "keep", "2h")
		k := ts.putFile(t, "/a/keep", "k.txt", []byte("k"))
		own := ts.putTTL(t, "/a/b", "own.txt", "3d")
		created := ts.clock.Now()
		ts.clock.Advance(time.Minute)

		a = ts.setTTL(t, a.ID, "1d")
		fromA := sesame.TTLSource{TTL: "1d", From: a.ID}
		wantTTLOf(t, a, ttlWant{own: "1d", src: fromA}) // as updated
		ts.wantTTL(t, a, ttlWant{own: "1d", src: fromA})
		ts.wantTTL(t, b, ttlWant{src: fromA})
		ts.wantTTL(t, f, ttlWant{src: fromA, expires: created.Add(24 * time.Hour)}) // counted from creation
		fromKeep := sesame.TTLSource{TTL: "2h", From: keep.ID}
		ts.wantTTL(t, keep, ttlWant{own: "2h", src: fromKeep})
		ts.wantTTL(t, k, ttlWant{src: fromKeep, expires: created.Add(2 * time.Hour)})
		ts.wantTTL(t, own, ttlWant{own: "3d", src: sesame.TTLSource{TTL: "3d", From: own.ID}, expires: created.Add(72 * time.Hour)})

		a = ts.setTTL(t, a.ID, "5h")
		ts.wantTTL(t, f, ttlWant{src: sesame.TTLSource{TTL: "5h", From: a.ID}, expires: created.Add(5 * time.Hour)})

		a = ts.setTTL(t, a.ID, sesame.TTLInherited)
		ts.wantTTL(t, a, ttlWant{src: ts.defaultTTL()})
		ts.wantTTL(t, b, ttlWant{src: ts.defaultTTL()})
		ts.wantTTL(t, f, ttlWant{src: ts.defaultTTL()})
		ts.wantTTL(t, k, ttlWant{src: fromKeep, expires: created.Add(2 * time.Hour)})

		// An update that does not touch the TTL leaves it.
		if _, err := ts.UpdateObject(ctx, own.ID, sesame.ObjectUpdate{AddTags: []string{"x"}}); err != nil {
			t.Fatal(err)
		}
		ts.wantTTL(t, own, ttlWant{own: "3d", src: sesame.TTLSource{TTL: "3d", From: own.ID}, expires: created.Add(72 * time.Hour)})
		// Dropping a file's own TTL makes it inherit again.
		ts.setTTL(t, own.ID, sesame.TTLInherited)
		ts.wantTTL(t, own, ttlWant{src: ts.defaultTTL()})
	})

	t.Run("MovesTakeTheNewFolders", func(t *testing.T) {
		ts := newTestStore(t)
		a := ts.mkdirTTL(t, "/", "a", "7d")
		c := ts.mkdirTTL(t, "/", "c", "2h")
		f := ts.putFile(t, "/a/b", "f.txt", []byte("f"))
		g := ts.putFile(t, "/a/b", "g.txt", []byte("g"))
		b := ts.byPath(t, "/a/b")
		created := ts.clock.Now()
		fromC := sesame.TTLSource{TTL: "2h", From: c.ID}

		if _, err := ts.UpdateObject(ctx, f.ID, sesame.ObjectUpdate{ParentID: &c.ID}); err != nil {
			t.Fatal(err)
		}
		ts.wantTTL(t, f, ttlWant{src: fromC, expires: created.Add(2 * time.Hour)})
		if _, err := ts.UpdateObject(ctx, b.ID, sesame.ObjectUpdate{ParentID: &c.ID}); err != nil {
			t.Fatal(err)
		}
		ts.wantTTL(t, b, ttlWant{src: fromC})
		ts.wantTTL(t, g, ttlWant{src: fromC, expires: created.Add(2 * time.Hour)})
		root := ""
		if _, err := ts.UpdateObject(ctx, f.ID, sesame.ObjectUpdate{ParentID: &root}); err != nil {
			t.Fatal(err)
		}
		ts.wantTTL(t, f, ttlWant{src: ts.defaultTTL()})
		// A rename keeps the folder.
		name := "h.txt"
		if _, err := ts.UpdateObject(ctx, g.ID, sesame.ObjectUpdate{Name: &name}); err != nil {
			t.Fatal(err)
		}
		ts.wantTTL(t, g, ttlWant{src: fromC, expires: created.Add(2 * time.Hour)})
		ts.wantTTL(t, a, ttlWant{own: "7d", src: sesame.TTLSource{TTL: "7d", From: a.ID}})
	})

	t.Run("ServiceDefault", func(t *testing.T) {
		ts := newTTLStore(t, "30d")
		cfg := sesame.TTLSource{TTL: "30d", From: sesame.ServiceConfigID(ts.DefaultBucket())}
		f := ts.putFile(t, "/", "f.txt", []byte("f"))
		kept := ts.mkdirTTL(t, "/", "kept", "never")
		k := ts.putFile(t, "/kept", "k.txt", []byte("k"))
		created := ts.clock.Now()
		ts.wantTTL(t, f, ttlWant{src: cfg, expires: created.Add(30 * 24 * time.Hour)})
		ts.wantTTL(t, k, ttlWant{src: sesame.TTLSource{TTL: "never", From: kept.ID}})

		ts.clock.Advance(30 * 24 * time.Hour)
		ts.wantNoPath(t, "/f.txt")
		ts.byPath(t, "/kept/k.txt")

		// The default is the configuration's: a new one applies at once
		// to every file that inherits it.
		if err := ts.Store.Close(); err != nil {
			t.Fatal(err)
		}
		ts.Store = openTTLStore(t, ts.dir, ts.clock, "60d")
		got := ts.byPath(t, "/f.txt")
		if got.TTL.TTL != "60d" || !got.Expires.Equal(created.Add(60*24*time.Hour)) {
			t.Errorf("under a 60d default: got %+v expiring %v, want 60d from the configuration at %v", got.TTL, got.Expires, created.Add(60*24*time.Hour))
		}
	})

	t.Run("BadDefaultRefused", func(t *testing.T) {
		dir := t.TempDir()
		_, err := store.Open(ctx, store.Config{DataDir: dir, DatabaseURL: databaseURL(t, dir), DefaultFileTTL: "a week"})
		wantErr(t, err, sesame.Invalid, "/objects/default_file_ttl", "BadFormatPangeaDuration")
	})
}

// ttlFixture is a folder that keeps its files, holding one that expires
// in 2 s (x) and one that does not (y), shared by a link with both (both) and one with x
// alone (only).
type ttlFixture struct {
	ts         *testStore
	d, x, y    *sesame.Object
	both, only *sesame.Link
}

func newTTLFixture(t *testing.T, ts *testStore) *ttlFixture {
	t.Helper()
	f := &ttlFixture{ts: ts}
	f.d = ts.mkdirTTL(t, "/", "d", "never")
	f.x = ts.putTTL(t, "/d", "x.txt", "2s")
	f.y = ts.putFile(t, "/d", "y.txt", []byte("y"))
	links := ts.newLinks(t, ts.linkItem(f.x.ID, f.y.ID), ts.linkItem(f.x.ID))
	f.both, f.only = links[0], links[1]
	return f
}

func TestStore_FileTTLHidden(t *testing.T) {
	ctx := context.Background()

	t.Run("EveryRead", func(t *testing.T) {
		ts := newTestStore(t)
		f := newTTLFixture(t, ts)
		ts.clock.Advance(2*time.Second - time.Microsecond)
		ts.byID(t, f.x.ID) // not yet
		ts.clock.Advance(time.Microsecond)

		_, err := ts.ObjectByID(ctx, "", f.x.ID)
		wantErr(t, err, sesame.NotFound, "/id", "DoesNotExist")
		ts.wantNoPath(t, "/d/x.txt")
		objs, err := ts.ObjectsByID(ctx, "", []string{f.x.ID, f.y.ID})
		if err != nil || len(objs) != 1 || objs[0].ID != f.y.ID {
			t.Errorf("ObjectsByID: got %v, %v; want y alone", objs, err)
		}
		for _, filter := range []sesame.ObjectFilter{{Size: 10}, {Size: 10, Conds: []sesame.Cond{{Field: "folder", Op: sesame.OpFolder, Values: []string{"/d"}}}}} {
			page, err := ts.FindObjects(ctx, filter)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range page.Objects {
				if o.ID == f.x.ID {
					t.Errorf("FindObjects %v lists the expired file", filter.Conds)
				}
			}
			if want := len(page.Objects); page.Count != want {
				t.Errorf("FindObjects %v: got count %d, want %d", filter.Conds, page.Count, want)
			}
		}
		entries, err := ts.ArchiveEntries(ctx, "", []string{f.d.ID})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name)
		}
		if diff := gocmp.Diff([]string{"d/", "d/y.txt"}, names); diff != "" {
			t.Errorf("archive of the folder (-want +got):\n%s", diff)
		}
		_, err = ts.ArchiveEntries(ctx, "", []string{f.x.ID})
		wantErr(t, err, sesame.NotFound, "/ids/0", "DoesNotExist")
		if tally, err := ts.TallyFolder(ctx, f.d); err != nil || tally.Files != 1 || tally.Bytes != f.y.Size {
			t.Errorf("tally: got %+v, %v; want y alone", tally, err)
		}
		if diff := gocmp.Diff([]string{f.y.ID}, ts.link(t, f.both.ID).Targets); diff != "" {
			t.Errorf("targets of the link to both (-want +got):\n%s", diff)
		}
		if got := ts.link(t, f.only.ID).Targets; len(got) != 0 {
			t.Errorf("targets of the link to x alone: got %v, want none", got)
		}
		_, err = ts.tryLinks(ts.linkItem(f.x.ID))
		wantErr(t, err, sesame.NotFound, "/links/0/targets/0", "DoesNotExist")
		name := "z.txt"
		_, err = ts.UpdateObject(ctx, f.x.ID, sesame.ObjectUpdate{Name: &name})
		wantErr(t, err, sesame.NotFound, "/id", "DoesNotExist")
		_, err = ts.DeleteObject(ctx, "", f.x.ID, false)
		wantErr(t, err, sesame.NotFound, "/id", "DoesNotExist")
	})

	t.Run("NameFreed", func(t *testing.T) {
		ts := newTestStore(t)
		f := newTTLFixture(t, ts)
		ts.clock.Advance(2 * time.Second)
		again := ts.putFile(t, "/d", "x.txt", []byte("again"))
		if got := ts.byPath(t, "/d/x.txt"); got.ID != again.ID {
			t.Errorf("got %s at /d/x.txt, want the new file %s", got.ID, again.ID)
		}
		ts.wantExpired(t, f.x, f.both.ID, f.only.ID)
		_, err := ts.LinkByID(ctx, f.only.ID)
		wantErr(t, err, sesame.NotFound, "", "")
		// A rename onto the name of an expired file takes it too.
		z := ts.putTTL(t, "/d", "z.txt", "1s")
		ts.clock.Advance(time.Second)
		name := "z.txt"
		if _, err := ts.UpdateObject(ctx, f.y.ID, sesame.ObjectUpdate{Name: &name}); err != nil {
			t.Fatalf("rename onto an expired file's name: %v", err)
		}
		ts.wantExpired(t, z)
	})

	t.Run("NoComingBack", func(t *testing.T) {
		ts := newTestStore(t)
		d := ts.mkdirTTL(t, "/", "d", "1m")
		x := ts.putFile(t, "/d", "x.txt", []byte("x"))
		keep := ts.mkdirTTL(t, "/", "keep", "never")
		ts.clock.Advance(time.Minute)
		ts.setTTL(t, d.ID, "never") // too late for x
		ts.wantNoPath(t, "/d/x.txt")
		ts.wantExpired(t, x)
		e := ts.mkdirTTL(t, "/", "e", "1m")
		y := ts.putFile(t, "/e", "y.txt", []byte("y"))
		ts.clock.Advance(time.Minute)
		if _, err := ts.UpdateObject(ctx, e.ID, sesame.ObjectUpdate{FileTTL: sesame.TTLInherited, ParentID: &keep.ID}); err != nil {
			t.Fatal(err)
		}
		ts.wantNoPath(t, "/keep/e/y.txt")
		ts.wantExpired(t, y)
	})

	t.Run("FolderOfExpiredFilesIsEmpty", func(t *testing.T) {
		ts := newTestStore(t)
		d := ts.mkdirTTL(t, "/", "d", "1m")
		x := ts.putFile(t, "/d", "x.txt", []byte("x"))
		ts.clock.Advance(time.Minute)
		n, err := ts.DeleteObject(ctx, "", d.ID, false)
		if err != nil {
			t.Fatalf("delete a folder that holds only expired files, without force: %v", err)
		}
		if n != 1 {
			t.Errorf("deleted %d objects, want the folder alone: its file had expired", n)
		}
		ts.wantBlobs(t)
		ts.wantExpired(t, x)
	})
}

// wantExpired fails unless o is gone and an object.expire event says so,
// naming the live links it was taken out of.
func (ts *testStore) wantExpired(t *testing.T, o *sesame.Object, links ...string) {
	t.Helper()
	if rowCount(t, ts.rawDB(t), `SELECT COUNT(*) FROM objects WHERE id = ?`, o.ID) != 0 {
		t.Errorf("%s: the expired file's row is still there", o.Path)
	}
	page, err := ts.FindAudit(context.Background(), sesame.AuditFilter{Size: 10, Conds: []sesame.Cond{
		{Field: "object_id", Values: []string{o.ID}}, {Field: "action", Values: []string{sesame.ActionObjectExpire}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 1 {
		t.Fatalf("%s: got %d object.expire events, want 1", o.Path, len(page.Events))
	}
	ev := page.Events[0]
	slices.Sort(links)
	want := map[string]string{"reason": "file_ttl", "path": o.Path, "file_ttl": string(o.TTL.TTL), "file_ttl_from_id": o.TTL.From,
		"expires_at": sesame.FormatTime(o.Expires)}
	if len(links) > 0 {
		want["links"] = joinSpace(links)
	}
	if ev.ActorType != sesame.ActorSystem || ev.Outcome != "success" {
		t.Errorf("%s: got actor %s/%s outcome %s, want the system, success", o.Path, ev.ActorType, ev.Actor, ev.Outcome)
	}
	if diff := gocmp.Diff(want, ev.Detail); diff != "" {
		t.Errorf("%s: expire event detail (-want +got):\n%s", o.Path, diff)
	}
}

func joinSpace(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}

func TestStore_ExpireFiles(t *testing.T) {
	ctx := context.Background()
	ts := newTTLStore(t, "1h")
	f := newTTLFixture(t, ts)
	kept := ts.mkdirTTL(t, "/", "kept", "never")
	k := ts.putFile(t, "/kept", "k.txt", []byte("k"))
	old := ts.putFile(t, "/", "old.txt", []byte("old")) // under the 1h default
	if n, err := ts.ExpireFiles(ctx); err != nil || n != 0 {
		t.Fatalf("sweep before anything expired: got %d, %v; want 0", n, err)
	}
	ts.clock.Advance(30 * time.Minute)
	late := ts.putFile(t, "/", "late.txt", []byte("late"))
	ts.clock.Advance(30 * time.Minute)
	n, err := ts.ExpireFiles(ctx)
	if err != nil || n != 2 {
		t.Fatalf("sweep: got %d, %v; want x and old.txt", n, err)
	}
	ts.wantExpired(t, f.x, f.both.ID, f.only.ID)
	ts.wantExpired(t, old)
	ts.wantBlobs(t, f.y.BlobKey, k.BlobKey, late.BlobKey)
	if diff := gocmp.Diff([]string{f.y.ID}, ts.link(t, f.both.ID).Targets); diff != "" {
		t.Errorf("targets of the link to both (-want +got):\n%s", diff)
	}
	if rowCount(t, ts.rawDB(t), `SELECT COUNT(*) FROM link_targets WHERE object_id = ?`, f.x.ID) != 0 {
		t.Error("an expired file is still a link target")
	}
	if rowCount(t, ts.rawDB(t), `SELECT COUNT(*) FROM links WHERE id = ? AND deleted_at IS NOT NULL`, f.only.ID) != 1 {
		t.Error("the link left with no target is not deleted")
	}
	for _, o := range []*sesame.Object{f.d, f.y, kept, k, late} {
		ts.byID(t, o.ID)
	}
	if n, err := ts.ExpireFiles(ctx); err != nil || n != 0 {
		t.Errorf("second sweep: got %d, %v; want 0", n, err)
	}
}
