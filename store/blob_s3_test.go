package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/store"
)

// The blob tests run on the disk, or on an S3-compatible server when
// SESAME_TEST_S3_ENDPOINT names one (host:port, plain HTTP unless
// SESAME_TEST_S3_TLS is true), with SESAME_TEST_S3_ACCESS_KEY and
// SESAME_TEST_S3_SECRET_KEY, in SESAME_TEST_S3_BUCKET (default
// sesame-test, made when missing). scripts/test.sh starts a throw-away
// versitygw for that. Each data directory gets a key prefix of its own.
var s3Endpoint = os.Getenv("SESAME_TEST_S3_ENDPOINT")

// onS3 reports whether the tests keep blobs in a bucket.
func onS3() bool { return s3Endpoint != "" }

var (
	s3Once   sync.Once
	s3Client *minio.Client
	s3Err    error
	prefixes sync.Map // data directory → prefix, once cleaned up
)

func s3Bucket() string {
	if b := os.Getenv("SESAME_TEST_S3_BUCKET"); b != "" {
		return b
	}
	return "sesame-test"
}

// s3Config returns the store.Config S3 for the data directory dir: nil
// (the disk) or the test bucket under a prefix made for dir, whose objects
// are removed when the test ends.
func s3Config(t *testing.T, dir string) *store.S3Config {
	t.Helper()
	if !onS3() {
		return nil
	}
	sum := sha256.Sum256([]byte(dir))
	prefix := "t-" + hex.EncodeToString(sum[:10]) + "/"
	if _, loaded := prefixes.LoadOrStore(dir, prefix); !loaded {
		t.Cleanup(func() {
			c := testS3(t)
			ctx := context.Background()
			for o := range c.ListObjects(ctx, s3Bucket(), minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
				if o.Err == nil {
					c.RemoveObject(ctx, s3Bucket(), o.Key, minio.RemoveObjectOptions{})
				}
			}
			for u := range c.ListIncompleteUploads(ctx, s3Bucket(), prefix, true) {
				if u.Err == nil {
					c.RemoveIncompleteUpload(ctx, s3Bucket(), u.Key)
				}
			}
			prefixes.Delete(dir)
		})
	}
	return &store.S3Config{
		Endpoint:  s3Endpoint,
		Bucket:    s3Bucket(),
		AccessKey: os.Getenv("SESAME_TEST_S3_ACCESS_KEY"),
		SecretKey: os.Getenv("SESAME_TEST_S3_SECRET_KEY"),
		TLS:       os.Getenv("SESAME_TEST_S3_TLS") == "true",
		Prefix:    prefix,
	}
}

// testS3 returns a client of the test server, for looking behind the
// store's back.
func testS3(t *testing.T) *minio.Client {
	t.Helper()
	s3Once.Do(func() {
		s3Client, s3Err = minio.New(s3Endpoint, &minio.Options{
			Creds:  credentials.NewStaticV4(os.Getenv("SESAME_TEST_S3_ACCESS_KEY"), os.Getenv("SESAME_TEST_S3_SECRET_KEY"), ""),
			Secure: os.Getenv("SESAME_TEST_S3_TLS") == "true",
		})
	})
	if s3Err != nil {
		t.Fatalf("s3 client: %v", s3Err)
	}
	return s3Client
}

// s3Keys returns the blob keys of the objects under the store's prefix and
// of the unfinished uploads there.
func (ts *testStore) s3Keys(t *testing.T) (objects, unfinished []string) {
	t.Helper()
	c := testS3(t)
	ctx := context.Background()
	dir := s3Config(t, ts.dir).Prefix + "blobs/"
	for o := range c.ListObjects(ctx, s3Bucket(), minio.ListObjectsOptions{Prefix: dir, Recursive: true}) {
		if o.Err != nil {
			t.Fatalf("list objects: %v", o.Err)
		}
		objects = append(objects, strings.TrimPrefix(o.Key, dir))
	}
	for u := range c.ListIncompleteUploads(ctx, s3Bucket(), dir, true) {
		if u.Err != nil {
			t.Fatalf("list unfinished uploads: %v", u.Err)
		}
		unfinished = append(unfinished, strings.TrimPrefix(u.Key, dir))
	}
	return objects, unfinished
}

// s3Split returns the keys of the objects that rows name and of those no
// row names, plus the unfinished uploads.
func (ts *testStore) s3Split(t *testing.T) (named, unnamed, unfinished []string) {
	t.Helper()
	objects, unfinished := ts.s3Keys(t)
	db := ts.rawDB(t)
	for _, k := range objects {
		var n int
		if err := db.QueryRow(`SELECT COUNT(*) FROM objects WHERE blob_key = ?`, k).Scan(&n); err != nil {
			t.Fatalf("count rows of blob %s: %v", k, err)
		}
		if n > 0 {
			named = append(named, k)
		} else {
			unnamed = append(unnamed, k)
		}
	}
	return named, unnamed, unfinished
}

// wantStaged fails unless the staged uploads are exactly refs: the files
// under tmp/ on the disk; in a bucket, the objects that no row names (an
// upload's object is its staged state) and the unfinished uploads.
func (ts *testStore) wantStaged(t *testing.T, refs ...string) {
	t.Helper()
	if !onS3() {
		wantFiles(t, ts.tmpDir(), refs...)
		return
	}
	_, unnamed, unfinished := ts.s3Split(t)
	wantKeys(t, "staged uploads", refs, append(unnamed, unfinished...))
}

// wantBlobs fails unless the committed blobs are exactly keys: the files
// under blobs/ (in their fan-out directories) on the disk, the objects
// that rows name in a bucket.
func (ts *testStore) wantBlobs(t *testing.T, keys ...string) {
	t.Helper()
	if !onS3() {
		var rels []string
		for _, k := range keys {
			rels = append(rels, k[:2]+"/"+k[2:4]+"/"+k)
		}
		wantFiles(t, ts.blobDir(), rels...)
		return
	}
	named, _, _ := ts.s3Split(t)
	wantKeys(t, "blobs", keys, named)
}

// wantNoBlob fails if the blob key is still stored.
func (ts *testStore) wantNoBlob(t *testing.T, key string) {
	t.Helper()
	if !onS3() {
		if _, err := os.Stat(ts.blobFile(key)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("blob file %s still there (stat: %v)", key, err)
		}
		return
	}
	objects, _ := ts.s3Keys(t)
	for _, k := range objects {
		if k == key {
			t.Errorf("blob object %s still there", key)
		}
	}
}

func wantKeys(t *testing.T, what string, want, got []string) {
	t.Helper()
	if len(want) == 0 {
		want = nil
	}
	sort.Strings(want)
	sort.Strings(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s in the bucket (-want +got):\n%s", what, diff)
	}
}

// TestStore_BlobRoundTrip stores a file of several upload parts and reads
// it back whole, from a Seek, and by Range through http.ServeContent, as
// the gateway serves downloads.
func TestStore_BlobRoundTrip(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	const size = 33<<20 + 5 // three parts in a bucket
	data := randomBytes(21, size)
	o := ts.putFile(t, "/", "big.bin", data)
	ts.wantStaged(t)
	ts.wantBlobs(t, o.BlobKey)

	got := ts.readBlob(t, o.BlobKey)
	if sha256.Sum256(got) != sha256.Sum256(data) {
		t.Fatalf("read %d bytes whose sha256 differs from the %d stored", len(got), len(data))
	}
	if want := sha256.Sum256(data); o.SHA256 != hex.EncodeToString(want[:]) {
		t.Errorf("object sha256 %s, want %x", o.SHA256, want)
	}

	b, err := ts.OpenBlob(ctx, o.BlobKey)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.Size() != size || b.ModTime().IsZero() {
		t.Errorf("got size %d and mod time %v, want %d and a time", b.Size(), b.ModTime(), size)
	}
	// Across the boundary of the first two parts.
	off := int64(16<<20 - 10)
	if _, err := b.Seek(off, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 20)
	if _, err := io.ReadFull(b, chunk); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(chunk, data[off:off+20]) {
		t.Errorf("20 bytes at %d differ after Seek", off)
	}

	for _, tt := range []struct {
		rng      string
		from, to int // data[from:to]
	}{
		{"bytes=1000-1999", 1000, 2000},
		{"bytes=20000000-20000099", 20000000, 20000100},
		{"bytes=-7", size - 7, size},
	} {
		t.Run(tt.rng, func(t *testing.T) {
			b, err := ts.OpenBlob(ctx, o.BlobKey)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			req := httptest.NewRequest(http.MethodGet, "/big.bin", nil)
			req.Header.Set("Range", tt.rng)
			rec := httptest.NewRecorder()
			http.ServeContent(rec, req, "big.bin", b.ModTime(), b)
			if rec.Code != http.StatusPartialContent {
				t.Fatalf("got status %d, want 206", rec.Code)
			}
			if !bytes.Equal(rec.Body.Bytes(), data[tt.from:tt.to]) {
				t.Errorf("got %d bytes, want data[%d:%d]", rec.Body.Len(), tt.from, tt.to)
			}
		})
	}
}

// TestStore_StageFailsLate cuts an upload off after two parts: nothing of
// it stays, neither an object nor an unfinished upload.
func TestStore_StageFailsLate(t *testing.T) {
	ts := newTestStore(t)
	r := io.MultiReader(bytes.NewReader(randomBytes(22, 20<<20)), iotest.ErrReader(errors.New("connection reset")))
	_, err := ts.Stage(context.Background(), r, "f", 0)
	wantErr(t, err, sesame.Invalid, "", "")
	ts.wantStaged(t)
	ts.wantBlobs(t)
}

// TestStore_SweepBucket leaves in the bucket what crashes leave: an object
// whose row never committed and an unfinished upload. The sweep at the
// next start spares them while they are younger than a day (another
// replica may be about to commit them); after that the purge or the next
// start removes them. The blob a row names stays.
func TestStore_SweepBucket(t *testing.T) {
	if !onS3() {
		t.Skip("SESAME_TEST_S3_ENDPOINT is not set")
	}
	ctx := context.Background()
	ts := newTestStore(t)
	data := randomBytes(23, 4096)
	f := ts.putFile(t, "/", "real.bin", data)

	c := testS3(t)
	dir := s3Config(t, ts.dir).Prefix + "blobs/"
	stray := sesame.NewID("")
	if _, err := c.PutObject(ctx, s3Bucket(), dir+stray, bytes.NewReader([]byte("stray")), 5, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	unfinished := sesame.NewID("")
	if _, err := (&minio.Core{Client: c}).NewMultipartUpload(ctx, s3Bucket(), dir+unfinished, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	ts.wantStaged(t, stray, unfinished)

	// The store's clock starts in the past: bring it to the server's time.
	ts.clock.Advance(time.Since(ts.clock.Now()))
	ts.reopen(t)
	ts.wantStaged(t, stray, unfinished)

	// A day later the purge, which runs every few minutes on one replica,
	// sweeps them without a restart.
	ts.clock.Advance(25 * time.Hour)
	stats, err := ts.Purge(ctx, ts.clock.Now(), 0)
	if err != nil || stats["orphan_blobs"] != 1 {
		t.Fatalf("purge: %v, %v; want 1 orphan blob", stats, err)
	}
	ts.wantStaged(t)
	ts.wantBlobs(t, f.BlobKey)

	// What a crash leaves is also swept at the next start.
	if _, err := c.PutObject(ctx, s3Bucket(), dir+stray, bytes.NewReader([]byte("stray")), 5, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	ts.clock.Advance(25 * time.Hour)
	ts.reopen(t)
	ts.wantStaged(t)
	ts.wantBlobs(t, f.BlobKey)
	if got := ts.readBlob(t, f.BlobKey); !bytes.Equal(got, data) {
		t.Errorf("real blob changed after sweep: got %d bytes, want %d", len(got), len(data))
	}
}

// TestStore_S3Bucket covers what only a bucket has: it is made when
// missing, the disk's free-space reserve does not apply to it, and an
// upload it refuses is Unavailable and leaves nothing behind.
func TestStore_S3Bucket(t *testing.T) {
	if !onS3() {
		t.Skip("SESAME_TEST_S3_ENDPOINT is not set")
	}
	ctx := context.Background()
	dir := t.TempDir()
	cfg := s3Config(t, dir)
	cfg.Bucket = "sesame-made-" + strings.ToLower(sesame.NewID(""))[:12]
	c := testS3(t)
	st, err := open(t, dir, store.Config{S3: cfg, MinFreeSpace: 1 << 40, FreeSpace: func() (int64, error) { return 0, nil }})
	if err != nil {
		t.Fatalf("open with a missing bucket: %v", err)
	}
	if ok, err := c.BucketExists(ctx, cfg.Bucket); err != nil || !ok {
		t.Fatalf("bucket %s after open: exists %v, %v; want made", cfg.Bucket, ok, err)
	}
	if st.LowSpace() {
		t.Error("LowSpace with blobs in a bucket: got true")
	}
	u, err := st.Stage(ctx, bytes.NewReader(randomBytes(24, 1000)), "f", 0)
	if err != nil {
		t.Fatalf("stage with no disk space but a bucket: %v", err)
	}
	if err := st.Discard(ctx, u); err != nil {
		t.Fatal(err)
	}

	if err := c.RemoveBucket(ctx, cfg.Bucket); err != nil {
		t.Fatalf("remove bucket: %v", err)
	}
	_, err = st.Stage(ctx, bytes.NewReader(randomBytes(25, 20<<20)), "f", 0)
	wantErr(t, err, sesame.Unavailable, "", "")
	wantErr(t, st.Ping(ctx), sesame.Unavailable, "", "")
	if ok, _ := c.BucketExists(ctx, cfg.Bucket); ok {
		t.Errorf("bucket %s came back: the failed upload made it", cfg.Bucket)
	}
}
