package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/store"
)

// exportedTables are the tables an export carries, in its order.
var exportedTables = []string{
	"buckets", "objects", "api_tokens", "links", "link_targets", "link_tags", "link_authenticators", "link_counts",
	"sessions", "challenges", "session_uploads", "download_claims", "backoff", "pending_uploads", "download_grants",
	"idempotency_keys", "outbox", "webhooks", "webhook_deliveries", "audit_events", "audit_purge", "session_file_keys", "owner_uploads",
}

// churn uploads and deletes files under /churn and appends audit events
// until stop closes, as a busy server does. after(n) returns once n more
// files were uploaded (or the churn ended); wait stops and returns the
// errors met.
func churn(ts *testStore, stop chan struct{}) (after func(n int), wait func() []error) {
	ctx := context.Background()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex // guards errs
		errs []error
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, err)
	}
	const most = 500
	made := make(chan string, most)
	ticks := make(chan struct{}, most)
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer close(made)
		defer close(ticks)
		for i := 0; i < most; i++ {
			select {
			case <-stop:
				return
			default:
			}
			u, err := ts.Stage(ctx, strings.NewReader(fmt.Sprintf("churn %d %s", i, strings.Repeat("x", 20_000))), "c.bin", 0)
			if err != nil {
				fail(err)
				return
			}
			o, err := ts.CreateFile(ctx, sesame.FileCreate{Placement: placeAt("/churn", fmt.Sprintf("c%d.bin", i))}, u)
			if err != nil {
				fail(err)
				return
			}
			made <- o.ID
			ticks <- struct{}{}
			if err := ts.Audit(ctx, &sesame.AuditEvent{Actor: "system", ActorType: sesame.ActorSystem, Action: "test.churn", ObjectID: o.ID, Outcome: "success"}); err != nil {
				fail(err)
			}
		}
	}()
	go func() {
		defer wg.Done()
		for id := range made {
			if _, err := ts.DeleteObject(ctx, ts.DefaultBucket(), id, false); err != nil {
				fail(err)
			}
		}
	}()
	after = func(n int) {
		for range n {
			<-ticks
		}
	}
	return after, func() []error {
		close(stop)
		wg.Wait()
		return errs
	}
}

func rawSQLite(t *testing.T, dir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", store.DSN(filepath.Join(dir, "sesame.db")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestExportImport_IntoPostgresS3 moves a busy single-node instance
// (SQLite, blobs on the disk) into PostgreSQL and an S3 bucket through one
// pipe, export into import, while files are uploaded and deleted and audit
// events appended; one file the export's snapshot holds is deleted while
// it runs. The stream holds everything the instance held before and
// kept, the target holds exactly the stream (row by row, every file's
// bytes read back through the target store with their sha256), the big
// file went to the bucket in parts, and the exported token, link,
// password and session work there.
//
// It needs SESAME_TEST_POSTGRES_DSN and SESAME_TEST_S3_ENDPOINT (and the
// other SESAME_TEST_S3_ variables); without them it skips, except under
// CI=true, where it fails.
func TestExportImport_IntoPostgresS3(t *testing.T) {
	if !onPostgres() || !onS3() {
		if os.Getenv("CI") == "true" {
			t.Fatal("SESAME_TEST_POSTGRES_DSN and SESAME_TEST_S3_ENDPOINT must both be set under CI=true")
		}
		t.Skip("SESAME_TEST_POSTGRES_DSN and SESAME_TEST_S3_ENDPOINT are not both set")
	}
	ctx := context.Background()
	c := newClock()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	srcDir := t.TempDir()
	// SQLite and the disk, whatever the suite's backends are.
	server, err := store.Open(ctx, store.Config{DataDir: srcDir, Now: c.Now, Logger: quiet, Exclusive: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	ts := &testStore{Store: server, clock: c, dir: srcDir}
	in := fillInstance(t, ts, 16<<20+1000) // over one 16 MiB part
	ts.mkdir(t, "/", "churn")
	victim := ts.putFile(t, "/churn", "victim.bin", randomBytes(51, 300_000))
	before := dumpTables(t, rawSQLite(t, srcDir), exportedTables)
	cli, err := store.Open(ctx, store.Config{DataDir: srcDir, Now: c.Now, Logger: quiet}) // beside the server, as the CLI
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })

	after, wait := churn(ts, make(chan struct{}))
	after(20)
	spool, err := os.Create(filepath.Join(t.TempDir(), "export.tar"))
	if err != nil {
		t.Fatal(err)
	}
	defer spool.Close()
	pr, pw := io.Pipe()
	hook := &hookWriter{w: pw, fn: func() {
		if _, err := ts.DeleteObject(ctx, ts.DefaultBucket(), victim.ID, false); err != nil {
			t.Errorf("delete during the export: %v", err)
		}
		after(20) // more uploads and deletes while the snapshot is open
	}}
	// and more again in the middle of the blobs
	mid := &hookWriter{w: hook, at: 8 << 20, fn: func() { after(20) }}
	exported := make(chan error, 1)
	go func() {
		_, err := cli.Export(ctx, mid, "test")
		pw.CloseWithError(err)
		exported <- err
	}()
	dstDir := t.TempDir()
	keyFile := filepath.Join(srcDir, "secret.key")
	sum, err := store.Import(ctx, importCfg(t, dstDir, keyFile), io.TeeReader(pr, spool))
	pr.CloseWithError(errors.New("import ended")) // unblocks a failed export
	if eerr := <-exported; eerr != nil {
		t.Fatalf("export: %v", eerr)
	}
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	for _, err := range wait() {
		t.Errorf("churn: %v", err)
	}

	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	s := readStream(t, spool)
	if !slices.Equal(s.tableNames(), exportedTables) {
		t.Fatalf("the stream's tables %v, want %v", s.tableNames(), exportedTables)
	}
	wantSnapshotHolds(t, before, s)
	if !slices.ContainsFunc(s.tables["objects"], func(r string) bool { return strings.Contains(r, victim.ID) }) || s.blobs[victim.BlobKey] != victim.SHA256 {
		t.Errorf("the file deleted during the export: row or bytes missing from the stream")
	}

	target := openTarget(t, dstDir, keyFile, c)
	db := target.rawDB(t)
	wantSameTables(t, "the target's rows against the stream's", s.tables, dumpTables(t, db, exportedTables))
	files := wantBlobsIntact(t, target.Store, db)
	if files != len(s.blobs) || int64(files) != sum.Blobs || len(s.missing) > 0 {
		t.Errorf("target files %d, blobs in the stream %d, imported %d, missing %v", files, len(s.blobs), sum.Blobs, s.missing)
	}
	big := in.files[len(in.files)-1]
	info, err := testS3(t).StatObject(ctx, s3Bucket(), s3Config(t, dstDir).Prefix+"blobs/"+big.BlobKey, minio.StatObjectOptions{})
	if err != nil || !strings.HasSuffix(strings.Trim(info.ETag, `"`), "-2") {
		t.Errorf("the big file's object: etag %q, %v; want one of a two-part upload", info.ETag, err)
	}
	wantUsable(t, target, in, maxAuditID(t, target))
}

// wantSnapshotHolds fails unless the stream holds every row the source
// held before the churn began: the same rows in the tables the churn
// leaves alone, and a superset in objects and audit_events, where the
// churn only added (and deleted its own additions).
func wantSnapshotHolds(t *testing.T, before map[string][]string, s *exportStream) {
	t.Helper()
	for table, rows := range before {
		if table != "objects" && table != "audit_events" {
			wantSameTables(t, "the stream's "+table+" against the source's", map[string][]string{table: rows}, map[string][]string{table: s.tables[table]})
			continue
		}
		for _, r := range rows {
			if _, found := slices.BinarySearch(s.tables[table], r); !found {
				t.Errorf("the stream's %s lack the row %s", table, r)
			}
		}
	}
}
