package store_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/authenticators"
	"github.com/sesame-share/sesame/store"
)

// openTarget opens the store an import wrote in dir, with the key in keyFile.
func openTarget(t *testing.T, dir, keyFile string, c *clock) *testStore {
	t.Helper()
	cfg := importCfg(t, dir, keyFile)
	cfg.Now = c.Now
	st, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open target: %v", err)
	}
	ts := &testStore{Store: st, clock: c, dir: dir}
	t.Cleanup(func() { st.Close() })
	return ts
}

// wantUsable fails unless the exported token, link, password and session
// work in st, and the audit trail goes on after the highest exported id.
func wantUsable(t *testing.T, st *testStore, in *instance, lastAudit int64) {
	t.Helper()
	ctx := context.Background()
	tok, err := st.Authenticate(ctx, in.tokenSecret)
	if err != nil || tok.ID != in.token.ID {
		t.Errorf("exported token: got %v, %v; want %s", tok, err, in.token.ID)
	}
	l, err := st.LinkByToken(ctx, in.link.Token)
	if err != nil || l.ID != in.link.ID {
		t.Fatalf("exported link by its token: got %v, %v; want %s", l, err, in.link.ID)
	}
	if err := authenticators.NewPassword().Verify(ctx, l.Authenticators[0].Context, in.password); err != nil {
		t.Errorf("exported link's password: %v", err)
	}
	if s, err := st.SessionBySecret(ctx, l.ID, in.sessionSecret, l.AuthEpoch, st.clock.Now()); err != nil || s.ID != in.session.ID {
		t.Errorf("exported session: got %v, %v; want %s", s, err, in.session.ID)
	}
	if _, _, err := st.SignIn(ctx, l, l.Authenticators[0].ID, "192.0.2.2", "test", st.clock.Now()); err != nil {
		t.Errorf("sign in on the exported link: %v", err)
	}
	if err := st.Audit(ctx, &sesame.AuditEvent{Actor: "system", ActorType: sesame.ActorSystem, Action: "test.after", Outcome: "success"}); err != nil {
		t.Fatal(err)
	}
	page, err := st.FindAudit(ctx, sesame.AuditFilter{Desc: true, Size: 1})
	if err != nil || len(page.Events) != 1 || page.Events[0].ID <= lastAudit {
		t.Errorf("audit event after the import: %v, %v; want an id above %d", page, err, lastAudit)
	}
}

func maxAuditID(t *testing.T, st *testStore) int64 {
	t.Helper()
	page, err := st.FindAudit(context.Background(), sesame.AuditFilter{Desc: true, Size: 1})
	if err != nil || len(page.Events) == 0 {
		t.Fatalf("audit: %v, %v", page, err)
	}
	return page.Events[0].ID
}

// TestStore_ExportImport exports a store holding something of every kind
// and imports it into an empty one: every row of every table comes back
// with its values and their types, every file's bytes with their sha256,
// and the exported token, link, password and session still work.
func TestStore_ExportImport(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	in := fillInstance(t, ts, 0)
	src := ts.rawDB(t)
	// Values the API never writes but a row can hold.
	ts.rawExec(t, src, `UPDATE links SET max_downloads = ? WHERE id = ?`, int64(math.MaxInt64), in.link.ID)
	if !onPostgres() {
		ts.rawExec(t, src, `UPDATE objects SET mime_type = CAST(X'80FF41' AS TEXT) WHERE id = ?`, in.files[2].ID)
	}
	lastAudit := maxAuditID(t, ts)
	data := exportBytes(t, ts.Store)

	s := readStream(t, bytes.NewReader(data))
	if s.manifest.Format != "sesame-export" || s.manifest.FormatVersion != 1 || s.manifest.SchemaVersion < 8 || s.manifest.KeyFingerprint != ts.KeyFingerprint() {
		t.Errorf("manifest %+v", s.manifest)
	}
	// The manifest, the blobs, then the tables in the manifest's order.
	var wantEntries []string
	wantEntries = append(wantEntries, "sesame-export.json")
	for _, f := range in.files {
		wantEntries = append(wantEntries, "blobs/"+f.BlobKey)
	}
	slices.Sort(wantEntries[1:])
	for _, name := range s.tableNames() {
		wantEntries = append(wantEntries, "tables/"+name+".jsonl")
	}
	if !slices.Equal(s.entries, wantEntries) {
		t.Errorf("entries\n%q\nwant\n%q", s.entries, wantEntries)
	}
	for _, f := range in.files {
		if s.blobs[f.BlobKey] != f.SHA256 {
			t.Errorf("file %s: the stream's bytes have sha256 %s, want %s", f.Path, s.blobs[f.BlobKey], f.SHA256)
		}
	}
	want := dumpTables(t, src, s.tableNames())
	wantSameTables(t, "the stream's rows against the source's", want, s.tables)

	dir := t.TempDir()
	keyFile := filepath.Join(ts.dir, "secret.key")
	sum, err := store.Import(ctx, importCfg(t, dir, keyFile), bytes.NewReader(data))
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	var rows int64
	for _, r := range want {
		rows += int64(len(r))
	}
	if sum.Blobs != int64(len(in.files)) || sum.Rows() != rows || sum.Missing != 0 || sum.SchemaVersion != s.manifest.SchemaVersion {
		t.Errorf("import summary %+v, want %d blobs and %d rows", sum, len(in.files), rows)
	}
	target := openTarget(t, dir, keyFile, ts.clock)
	db := target.rawDB(t)
	wantSameTables(t, "the target's rows against the source's", want, dumpTables(t, db, s.tableNames()))
	if n := wantBlobsIntact(t, target.Store, db); n != len(in.files) {
		t.Errorf("target lists %d files, want %d", n, len(in.files))
	}
	wantUsable(t, target, in, lastAudit)
}

// hookWriter calls fn once, before the first write after at bytes went
// through it: with at 0 when the export has opened its snapshot and writes
// the manifest.
type hookWriter struct {
	w    io.Writer
	at   int64
	n    int64
	once sync.Once
	fn   func()
}

func (h *hookWriter) Write(p []byte) (int, error) {
	if h.n >= h.at {
		h.once.Do(h.fn)
	}
	n, err := h.w.Write(p)
	h.n += int64(n)
	return n, err
}

// TestStore_ExportWhileDeleting: the CLI exports beside the server, and
// the server deletes a file after the export's snapshot began and then
// restarts (which sweeps unreferenced blobs). The file's bytes stay until
// the export has copied them, the export holds them, and the purge after
// the export removes them. Once no export runs, a delete removes at once.
func TestStore_ExportWhileDeleting(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	keep := ts.putFile(t, "/", "keep.txt", []byte("keep"))
	goneData := randomBytes(41, 50_000)
	gone := ts.putFile(t, "/", "gone.bin", goneData)
	cli, err := open(t, ts.dir, store.Config{S3: s3Config(t, ts.dir), Now: ts.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := &hookWriter{w: &buf, fn: func() {
		if _, err := ts.DeleteObject(ctx, ts.DefaultBucket(), gone.ID, false); err != nil {
			t.Fatalf("delete during the export: %v", err)
		}
		ts.reopen(t)
	}}
	if _, err := cli.Export(ctx, w, "test"); err != nil {
		t.Fatalf("export: %v", err)
	}
	s := readStream(t, &buf)
	sum := sha256.Sum256(goneData)
	if got := s.blobs[gone.BlobKey]; got != hex.EncodeToString(sum[:]) || len(s.missing) > 0 {
		t.Errorf("the deleted file's blob in the stream: sha256 %q, missing %v; want its bytes", got, s.missing)
	}
	if !slices.ContainsFunc(s.tables["objects"], func(r string) bool { return strings.Contains(r, gone.ID) }) {
		t.Error("the deleted file's row is not in the stream")
	}
	if got := ts.readBlob(t, gone.BlobKey); !bytes.Equal(got, goneData) {
		t.Error("the deleted file's blob changed before the purge")
	}
	stats, err := ts.Purge(ctx, ts.clock.Now(), 0)
	if err != nil || stats["deferred_blobs"] != 1 {
		t.Errorf("purge after the export: %v, %v; want one deferred blob removed", stats, err)
	}
	ts.wantNoBlob(t, gone.BlobKey)
	if got := ts.readBlob(t, keep.BlobKey); !bytes.Equal(got, []byte("keep")) {
		t.Error("the purge touched a live file's blob")
	}
	if _, err := ts.DeleteObject(ctx, ts.DefaultBucket(), keep.ID, false); err != nil {
		t.Fatal(err)
	}
	ts.wantNoBlob(t, keep.BlobKey)
}

// TestStore_ExportLapsed: an export whose heartbeat went stale no longer
// holds deletes back, and it fails rather than pass for a whole copy; an
// export whose process died stops counting once its heartbeat is stale,
// and the purge then forgets it and removes what waited for it.
func TestStore_ExportLapsed(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	gone := ts.putFile(t, "/", "gone.bin", []byte("gone"))
	w := &hookWriter{w: io.Discard, fn: func() {
		ts.clock.Advance(6 * time.Minute)
		if _, err := ts.DeleteObject(ctx, ts.DefaultBucket(), gone.ID, false); err != nil {
			t.Fatal(err)
		}
		ts.wantNoBlob(t, gone.BlobKey)
	}}
	_, err := ts.Export(ctx, w, "test")
	if e := wantErr(t, err, sesame.Unavailable, "", ""); !strings.Contains(e.Message, "stalled") {
		t.Errorf("lapsed export: %q, want it to say it stalled", e.Message)
	}

	db := ts.rawDB(t)
	now := sesame.FormatTime(ts.clock.Now())
	ts.rawExec(t, db, `INSERT INTO exports (id, started_at, heartbeat_at) VALUES ('exp_killed', ?, ?)`, now, now)
	f := ts.putFile(t, "/", "f.bin", []byte("f"))
	if _, err := ts.DeleteObject(ctx, ts.DefaultBucket(), f.ID, false); err != nil {
		t.Fatal(err)
	}
	if got := ts.readBlob(t, f.BlobKey); !bytes.Equal(got, []byte("f")) {
		t.Error("a blob went while an export was live")
	}
	if stats, err := ts.Purge(ctx, ts.clock.Now(), 0); err != nil || stats["deferred_blobs"] != 0 {
		t.Errorf("purge while an export is live: %v, %v; want nothing removed", stats, err)
	}
	ts.clock.Advance(6 * time.Minute)
	stats, err := ts.Purge(ctx, ts.clock.Now(), 0)
	if err != nil || stats["exports"] != 1 || stats["deferred_blobs"] != 1 {
		t.Errorf("purge after the export died: %v, %v; want it and its deferred blob gone", stats, err)
	}
	ts.wantNoBlob(t, f.BlobKey)
	if n := rowCount(t, db, `SELECT COUNT(*) FROM exports`); n != 0 {
		t.Errorf("%d exports left, want none", n)
	}
}

// tarEntry is one entry of an export, read whole (tests only).
type tarEntry struct {
	hdr  tar.Header
	data []byte
}

func tarEntries(t *testing.T, data []byte) []tarEntry {
	t.Helper()
	var out []tarEntry
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tarEntry{*hdr, b})
	}
}

// writeEntries writes entries as a tar stream. cut >= 0 stops at entry
// cut: in the middle of its bytes when half, else before it; the stream
// then has no end.
func writeEntries(t *testing.T, entries []tarEntry, cut int, half bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i, e := range entries {
		if i == cut && !half {
			break
		}
		hdr := e.hdr
		hdr.Size = int64(len(e.data))
		if err := tw.WriteHeader(&hdr); err != nil {
			t.Fatal(err)
		}
		if i == cut {
			if _, err := tw.Write(e.data[:len(e.data)/2]); err != nil {
				t.Fatal(err)
			}
			return buf.Bytes() // cut off inside the entry
		}
		if _, err := tw.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if cut >= 0 {
		if err := tw.Flush(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// withManifest returns the export with its manifest changed by edit.
func withManifest(t *testing.T, entries []tarEntry, edit func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(entries[0].data, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	changed := slices.Clone(entries)
	changed[0].data = b
	return writeEntries(t, changed, -1, false)
}

// wantNothingMade fails unless dir's target holds nothing at all.
func wantNothingMade(t *testing.T, dir string) {
	t.Helper()
	if onPostgres() {
		db := (&testStore{dir: dir}).rawDB(t)
		if n := rowCount(t, db, `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()`); n != 0 {
			t.Errorf("the target schema has %d tables, want none", n)
		}
	}
	if ents, err := os.ReadDir(dir); err != nil || len(ents) > 0 {
		t.Errorf("the target directory holds %d entries (%v), want none", len(ents), err)
	}
}

// TestStore_ImportRefuses: an import refuses a target with rows, another
// master key, no master key, an unknown format or schema version, input
// that is no export, and a stream that is cut off or damaged. A refusal
// before the store opens makes nothing; one after leaves the target empty,
// and the whole stream then imports into that same target.
func TestStore_ImportRefuses(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	in := fillInstance(t, ts, 0)
	data := exportBytes(t, ts.Store)
	entries := tarEntries(t, data)
	key := filepath.Join(ts.dir, "secret.key")
	tables := readStream(t, bytes.NewReader(data)).tableNames()

	refused := func(t *testing.T, cfg store.Config, input []byte, kind sesame.Kind, says string) {
		t.Helper()
		_, err := store.Import(ctx, cfg, bytes.NewReader(input))
		if e := wantErr(t, err, kind, "", ""); !strings.Contains(e.Message, says) {
			t.Errorf("got %q, want it to say %q", e.Message, says)
		}
	}
	t.Run("NotEmpty", func(t *testing.T) {
		dir := t.TempDir()
		target := openTarget(t, dir, key, ts.clock)
		if _, _, err := target.CreateToken(ctx, "mine", []sesame.Scope{sesame.ScopeAdmin}, time.Time{}); err != nil {
			t.Fatal(err)
		}
		target.Close()
		refused(t, importCfg(t, dir, key), data, sesame.Conflict, "api_tokens")
		db := target.rawDB(t)
		if n := rowCount(t, db, `SELECT COUNT(*) FROM api_tokens`); n != 1 {
			t.Errorf("target holds %d tokens, want its own one", n)
		}
		if n := rowCount(t, db, `SELECT COUNT(*) FROM objects`); n != 0 {
			t.Errorf("target holds %d objects, want none", n)
		}
	})
	t.Run("OtherKey", func(t *testing.T) {
		dir, other := t.TempDir(), filepath.Join(t.TempDir(), "other.key")
		if err := os.WriteFile(other, store.NewMasterKey(), 0o600); err != nil {
			t.Fatal(err)
		}
		refused(t, importCfg(t, dir, other), data, sesame.Conflict, "SESAME_SECRET_KEY_FILE")
		wantNothingMade(t, dir)
	})
	t.Run("NoKey", func(t *testing.T) {
		dir := t.TempDir()
		refused(t, importCfg(t, dir, ""), data, sesame.Invalid, ts.KeyFingerprint())
		wantNothingMade(t, dir)
	})
	for _, tt := range []struct {
		name, says string
		edit       func(m map[string]any)
	}{
		{"UnknownFormatVersion", "format version 2", func(m map[string]any) { m["format_version"] = 2 }},
		{"UnknownSchemaVersion", "schema version 9999", func(m map[string]any) { m["schema_version"] = 9999 }},
		{"SchemaBeforeExports", "schema version 7", func(m map[string]any) { m["schema_version"] = 7 }},
		{"OtherFormat", "not a sesame export", func(m map[string]any) { m["format"] = "other" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			refused(t, importCfg(t, dir, key), withManifest(t, entries, tt.edit), sesame.Invalid, tt.says)
			wantNothingMade(t, dir)
		})
	}
	t.Run("NotAnExport", func(t *testing.T) {
		dir := t.TempDir()
		refused(t, importCfg(t, dir, key), []byte("hello, world"), sesame.Invalid, "not a sesame export")
		refused(t, importCfg(t, dir, key), nil, sesame.Invalid, "empty")
		wantNothingMade(t, dir)
	})
	t.Run("CutOffThenRetried", func(t *testing.T) {
		dir := t.TempDir()
		firstTable := slices.IndexFunc(entries, func(e tarEntry) bool { return strings.HasPrefix(e.hdr.Name, "tables/") })
		objects := slices.IndexFunc(entries, func(e tarEntry) bool { return e.hdr.Name == "tables/objects.jsonl" })
		last := len(entries) - 1
		for _, c := range []struct {
			cut  int
			half bool
		}{{1, true}, {firstTable, false}, {objects, true}, {last, false}, {last, true}} {
			refused(t, importCfg(t, dir, key), writeEntries(t, entries, c.cut, c.half), sesame.Invalid, "cut off")
			wantEmptyTarget(t, dir, tables)
		}
		sum, err := store.Import(ctx, importCfg(t, dir, key), bytes.NewReader(data))
		if err != nil || sum.Blobs != int64(len(in.files)) {
			t.Fatalf("the whole stream after the cut-off ones: %+v, %v", sum, err)
		}
	})
	t.Run("ForeignBlobs", func(t *testing.T) {
		// An import that names the source's own data directory or bucket
		// (with another database) finds blobs its rows do not name: it
		// refuses, and removes none of them.
		dir := t.TempDir()
		foreign := sesame.NewID("")
		if onS3() {
			c := testS3(t)
			if _, err := c.PutObject(ctx, s3Bucket(), s3Config(t, dir).Prefix+"blobs/"+foreign, bytes.NewReader([]byte("theirs")), 6, minio.PutObjectOptions{}); err != nil {
				t.Fatal(err)
			}
		} else {
			p := filepath.Join(dir, "blobs", foreign[:2], foreign[2:4], foreign)
			if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte("theirs"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		refused(t, importCfg(t, dir, key), data, sesame.Conflict, "blob storage is not empty")
		cfg := importCfg(t, dir, key)
		cfg.Exclusive = false // a reader: no sweep
		st, err := store.Open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if got := (&testStore{Store: st}).readBlob(t, foreign); string(got) != "theirs" {
			t.Errorf("the foreign blob holds %q after the refused import", got)
		}
	})
	t.Run("CancelledDuringRows", func(t *testing.T) {
		// Ctrl-C while the rows go in: the import stops, and leaves the
		// target empty, although the store's transactions themselves
		// ignore cancellation.
		dir := t.TempDir()
		stop, cancel := context.WithCancel(ctx)
		defer cancel()
		firstTable := bytes.Index(data, []byte("tables/"))
		r := &cancelAt{r: bytes.NewReader(data), at: int64(firstTable) + 2048, cancel: cancel}
		if _, err := store.Import(stop, importCfg(t, dir, key), r); !errors.Is(err, context.Canceled) {
			t.Fatalf("import cancelled in the rows: %v, want %v", err, context.Canceled)
		}
		wantEmptyTarget(t, dir, tables)
	})
	t.Run("DamagedBlob", func(t *testing.T) {
		dir := t.TempDir()
		damaged := slices.Clone(entries)
		i := slices.IndexFunc(damaged, func(e tarEntry) bool { return e.hdr.Name == "blobs/"+in.files[1].BlobKey })
		damaged[i].data = slices.Clone(damaged[i].data)
		damaged[i].data[7] ^= 1
		refused(t, importCfg(t, dir, key), writeEntries(t, damaged, -1, false), sesame.Invalid, "do not match")
		wantEmptyTarget(t, dir, tables)
	})
}

// cancelAt reads r and calls cancel once at bytes have been read.
type cancelAt struct {
	r      io.Reader
	n, at  int64
	cancel func()
}

func (c *cancelAt) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n >= c.at {
		c.cancel()
	}
	return n, err
}
