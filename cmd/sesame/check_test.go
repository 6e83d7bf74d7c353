package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/store"
)

// TestCheck: sesame check passes on an intact instance and lists, and
// fails on, a file whose bytes are gone.
func TestCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st, o := storeWithFile(t, dir, "a.txt", "gone soon")
	st.Close()

	out, stderr, err := runCLI(t, "check", "--data", dir)
	if err != nil || out != "" || !strings.Contains(stderr, "in place") {
		t.Fatalf("intact: %v, stdout %q, stderr %q", err, out, stderr)
	}
	blobs := filepath.Join(dir, "blobs")
	var removed bool
	_ = filepath.WalkDir(blobs, func(p string, d os.DirEntry, err error) error { // the walk only looks for one file; a miss fails below
		if err == nil && !d.IsDir() && filepath.Base(p) == o.BlobKey {
			removed = os.Remove(p) == nil
		}
		return nil
	})
	if !removed {
		t.Fatalf("no blob file %s under %s", o.BlobKey, blobs)
	}
	out, _, err = runCLI(t, "check", "--data", dir)
	if err == nil || !strings.Contains(out, o.ID) || !strings.Contains(out, "/a.txt") {
		t.Errorf("a file without contents: %v, stdout %q; want an error and the file listed", err, out)
	}
}

// storeWithFile opens a store in dir and puts one file at the root.
func storeWithFile(t *testing.T, dir, name, data string) (*store.Store, *sesame.Object) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	up, err := st.Stage(ctx, strings.NewReader(data), name, 0)
	if err != nil {
		t.Fatal(err)
	}
	o, err := st.CreateFile(ctx, sesame.FileCreate{Placement: sesame.Placement{HasParentID: true, ParentID: sesame.RootParentID, Name: name}}, up)
	if err != nil {
		t.Fatal(err)
	}
	return st, o
}
