package store_test

import (
	"context"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame"
)

// ObjectsByID returns exactly the objects that exist among the ids, with
// every field ObjectByID gives except the links, in one query.
func TestStore_ObjectsByID(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	dir := ts.mkdir(t, "/", "docs")
	f := ts.putFile(t, "/docs", "a.txt", []byte("a"))
	ts.putFile(t, "/", "b.txt", []byte("b")) // not asked for: not returned
	missing := sesame.NewID(sesame.PrefixObject)

	got, err := ts.ObjectsByID(ctx, "", []string{f.ID, missing, dir.ID, f.ID})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(got, func(i, j int) bool { return got[i].Path < got[j].Path })
	var want []*sesame.Object
	for _, id := range []string{dir.ID, f.ID} {
		o, err := ts.ObjectByID(ctx, "", id)
		if err != nil {
			t.Fatal(err)
		}
		o.LinkIDs = nil
		want = append(want, o)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ObjectsByID (-want +got):\n%s", diff)
	}
	if got, err := ts.ObjectsByID(ctx, "", nil); err != nil || len(got) != 0 {
		t.Errorf("no ids: %v, %v", got, err)
	}
	if got, err := ts.ObjectsByID(ctx, "", []string{missing}); err != nil || len(got) != 0 {
		t.Errorf("only a missing id: %v, %v", got, err)
	}
}
