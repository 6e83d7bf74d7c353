package store_test

import (
	"context"
	"os"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/sesame-share/sesame"
)

// dropBlob removes a file's bytes behind the store's back, as a partial
// restore would.
func (ts *testStore) dropBlob(t *testing.T, o *sesame.Object) {
	t.Helper()
	if !onS3() {
		if err := os.Remove(ts.blobFile(o.BlobKey)); err != nil {
			t.Fatal(err)
		}
		return
	}
	key := s3Config(t, ts.dir).Prefix + "blobs/" + o.BlobKey
	if err := testS3(t).RemoveObject(context.Background(), s3Bucket(), key, minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestStore_MissingBlobs(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	kept := ts.putFile(t, "/", "kept.txt", []byte("kept"))
	lost := ts.putFile(t, "/", "lost.txt", []byte("lost"))
	ts.mkdir(t, "/", "folder")
	if got, err := ts.MissingBlobs(ctx); err != nil || len(got) != 0 {
		t.Fatalf("before: %v, %v; want none missing", got, err)
	}
	ts.dropBlob(t, lost)
	got, err := ts.MissingBlobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != lost.ID || got[0].Path != "/lost.txt" {
		t.Errorf("missing %v, want only %s (%s kept)", got, lost.ID, kept.ID)
	}
}
