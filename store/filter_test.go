package store_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame"
)

// putTagged stores size bytes as the file name under parent, with tags.
func (ts *testStore) putTagged(t *testing.T, parent, name string, size int, tags ...string) *sesame.Object {
	t.Helper()
	u := ts.stage(t, name, randomBytes(uint64(size), size))
	in := sesame.FileCreate{Placement: placeAt(parent, name)}
	if len(tags) > 0 {
		in.Tags = tags
	}
	o, err := ts.CreateFile(context.Background(), in, u)
	if err != nil {
		t.Fatalf("create file %s: %v", name, err)
	}
	return o
}

// names returns the sorted names of objs.
func names(objs []*sesame.Object) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = o.Name
	}
	sort.Strings(out)
	return out
}

func TestStore_FindObjects(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)

	// Every object gets its own created_at, one second apart.
	at := make([]time.Time, 11) // at[n] is the clock at step n
	step := func(n int) {
		ts.clock.Advance(time.Second)
		at[n] = ts.clock.Now()
	}
	step(1)
	docs := ts.mkdir(t, "/", "docs")
	step(2)
	report := ts.putTagged(t, "/docs", "report.pdf", 100, "a", "b")
	step(3)
	ts.putTagged(t, "/docs", "100%.txt", 5, "b")
	step(4)
	ab := ts.putTagged(t, "/docs", "a_b.txt", 5)
	step(5)
	sub := ts.mkdir(t, "/docs", "sub")
	step(6)
	axb := ts.putTagged(t, "/docs/sub", "axb.txt", 300, "a", "b", "c")
	step(7)
	ts.putTagged(t, "/", "top.txt", 0)
	step(8)
	back := ts.putTagged(t, "/", "back_slash.txt", 7)
	// The name rule now refuses backslashes; rows written before it still
	// hold them, and a filter must still find them.
	ts.rawExec(t, ts.rawDB(t), `UPDATE objects SET name = ?, path = ? WHERE id = ?`, `back\slash.txt`, `/back\slash.txt`, back.ID)
	step(9)
	step(10)
	if _, err := ts.UpdateObject(ctx, ab.ID, sesame.ObjectUpdate{AddMetadata: map[string]string{"k": "v"}}); err != nil {
		t.Fatal(err)
	}
	ft := func(n int) string { return sesame.FormatTime(at[n]) }
	eq := func(field string, v ...string) sesame.Cond {
		return sesame.Cond{Field: field, Op: sesame.OpEq, Values: v}
	}
	op := func(field string, o sesame.Op, v ...string) sesame.Cond {
		return sesame.Cond{Field: field, Op: o, Values: v}
	}
	all := []string{"100%.txt", "a_b.txt", "axb.txt", `back\slash.txt`, "docs", "report.pdf", "sub", "top.txt"}

	for _, tt := range []struct {
		name  string
		conds []sesame.Cond
		want  []string
	}{
		{"None", nil, all},

		{"IDEq", []sesame.Cond{eq("id", report.ID)}, []string{"report.pdf"}},
		{"IDIn", []sesame.Cond{op("id", sesame.OpIn, report.ID, axb.ID, sesame.NewID(sesame.PrefixObject))}, []string{"axb.txt", "report.pdf"}},
		{"IDInNone", []sesame.Cond{op("id", sesame.OpIn)}, nil},
		{"IDContains", []sesame.Cond{op("id", sesame.OpContains, report.ID[4:20])}, []string{"report.pdf"}},
		{"IDContainsPrefix", []sesame.Cond{op("id", sesame.OpContains, sesame.PrefixObject)}, all},

		{"NameEq", []sesame.Cond{eq("name", "a_b.txt")}, []string{"a_b.txt"}},
		{"NameEqIsExact", []sesame.Cond{eq("name", "A_B.TXT")}, nil},
		{"NameContainsPercent", []sesame.Cond{op("name", sesame.OpContains, "%")}, []string{"100%.txt"}},
		{"NameContainsUnderscore", []sesame.Cond{op("name", sesame.OpContains, "_")}, []string{"a_b.txt"}},
		{"NameContainsUnderscorePattern", []sesame.Cond{op("name", sesame.OpContains, "a_b")}, []string{"a_b.txt"}},
		{"NameContainsBackslash", []sesame.Cond{op("name", sesame.OpContains, `\`)}, []string{`back\slash.txt`}},
		{"NameContainsAll", []sesame.Cond{op("name", sesame.OpContains, "t", "x")}, []string{"100%.txt", "a_b.txt", "axb.txt", `back\slash.txt`, "top.txt"}},
		{"NameContainsBoth", []sesame.Cond{op("name", sesame.OpContains, "re", "pdf")}, []string{"report.pdf"}},
		{"NameContainsNotBoth", []sesame.Cond{op("name", sesame.OpContains, "re", "txt")}, nil},
		{"NameIn", []sesame.Cond{op("name", sesame.OpIn, "top.txt", "sub", "nope")}, []string{"sub", "top.txt"}},

		{"ParentIDEq", []sesame.Cond{eq("parent_id", docs.ID)}, []string{"100%.txt", "a_b.txt", "report.pdf", "sub"}},
		{"ParentIDEqRoot", []sesame.Cond{eq("parent_id", "")}, []string{`back\slash.txt`, "docs", "top.txt"}},
		{"ParentIDIn", []sesame.Cond{op("parent_id", sesame.OpIn, sub.ID, "")}, []string{"axb.txt", `back\slash.txt`, "docs", "top.txt"}},
		{"ParentIDContains", []sesame.Cond{op("parent_id", sesame.OpContains, sub.ID[4:])}, []string{"axb.txt"}},

		{"TypeEq", []sesame.Cond{eq("type", "folder")}, []string{"docs", "sub"}},
		{"TypeIn", []sesame.Cond{op("type", sesame.OpIn, "file")}, []string{"100%.txt", "a_b.txt", "axb.txt", `back\slash.txt`, "report.pdf", "top.txt"}},
		{"TypeContains", []sesame.Cond{op("type", sesame.OpContains, "old")}, []string{"docs", "sub"}},

		{"PathEq", []sesame.Cond{eq("path", "/docs/sub/axb.txt")}, []string{"axb.txt"}},
		{"PathContains", []sesame.Cond{op("path", sesame.OpContains, "/docs/sub")}, []string{"axb.txt", "sub"}},
		{"PathContainsAll", []sesame.Cond{op("path", sesame.OpContains, "/docs/", ".txt")}, []string{"100%.txt", "a_b.txt", "axb.txt"}},
		{"PathIn", []sesame.Cond{op("path", sesame.OpIn, "/top.txt", "/docs", "/nope")}, []string{"docs", "top.txt"}},

		{"SizeEq", []sesame.Cond{eq("size", "5")}, []string{"100%.txt", "a_b.txt"}},
		{"SizeEqZero", []sesame.Cond{eq("size", "0")}, []string{"docs", "sub", "top.txt"}},
		{"SizeGt", []sesame.Cond{op("size", sesame.OpGt, "5")}, []string{"axb.txt", `back\slash.txt`, "report.pdf"}},
		{"SizeGte", []sesame.Cond{op("size", sesame.OpGte, "5")}, []string{"100%.txt", "a_b.txt", "axb.txt", `back\slash.txt`, "report.pdf"}},
		{"SizeLt", []sesame.Cond{op("size", sesame.OpLt, "5")}, []string{"docs", "sub", "top.txt"}},
		{"SizeLte", []sesame.Cond{op("size", sesame.OpLte, "5")}, []string{"100%.txt", "a_b.txt", "docs", "sub", "top.txt"}},
		// Numeric, not text, comparison: "100" < "7" as text.
		{"SizeIsNumeric", []sesame.Cond{op("size", sesame.OpGt, "7")}, []string{"axb.txt", "report.pdf"}},
		{"SizeRange", []sesame.Cond{op("size", sesame.OpGt, "99"), op("size", sesame.OpLt, "300")}, []string{"report.pdf"}},

		{"CreatedEq", []sesame.Cond{eq("created_at", ft(3))}, []string{"100%.txt"}},
		{"CreatedGt", []sesame.Cond{op("created_at", sesame.OpGt, ft(6))}, []string{`back\slash.txt`, "top.txt"}},
		{"CreatedGte", []sesame.Cond{op("created_at", sesame.OpGte, ft(6))}, []string{"axb.txt", `back\slash.txt`, "top.txt"}},
		{"CreatedLt", []sesame.Cond{op("created_at", sesame.OpLt, ft(2))}, []string{"docs"}},
		{"CreatedLte", []sesame.Cond{op("created_at", sesame.OpLte, ft(2))}, []string{"docs", "report.pdf"}},
		{"CreatedRange", []sesame.Cond{op("created_at", sesame.OpGt, ft(2)), op("created_at", sesame.OpLte, ft(4))}, []string{"100%.txt", "a_b.txt"}},
		{"CreatedBetweenSteps", []sesame.Cond{op("created_at", sesame.OpGt, sesame.FormatTime(at[3].Add(time.Microsecond)))}, []string{"a_b.txt", "axb.txt", `back\slash.txt`, "sub", "top.txt"}},

		{"UpdatedEq", []sesame.Cond{eq("updated_at", ft(10))}, []string{"a_b.txt"}},
		{"UpdatedGt", []sesame.Cond{op("updated_at", sesame.OpGt, ft(8))}, []string{"a_b.txt"}},
		{"UpdatedGte", []sesame.Cond{op("updated_at", sesame.OpGte, ft(8))}, []string{"a_b.txt", `back\slash.txt`}},
		{"UpdatedLt", []sesame.Cond{op("updated_at", sesame.OpLt, ft(4))}, []string{"100%.txt", "docs", "report.pdf"}},
		{"UpdatedLte", []sesame.Cond{op("updated_at", sesame.OpLte, ft(4))}, []string{"100%.txt", "docs", "report.pdf"}},

		{"TagsOne", []sesame.Cond{op("tags", sesame.OpAllTags, "a")}, []string{"axb.txt", "report.pdf"}},
		{"TagsAll", []sesame.Cond{op("tags", sesame.OpAllTags, "a", "c")}, []string{"axb.txt"}},
		{"TagsCommon", []sesame.Cond{op("tags", sesame.OpAllTags, "b")}, []string{"100%.txt", "axb.txt", "report.pdf"}},
		{"TagsUnknown", []sesame.Cond{op("tags", sesame.OpAllTags, "zz")}, nil},
		{"TagsOneUnknown", []sesame.Cond{op("tags", sesame.OpAllTags, "a", "zz")}, nil},

		{"FolderRoot", []sesame.Cond{op("folder", sesame.OpFolder, "/")}, []string{`back\slash.txt`, "docs", "top.txt"}},
		{"FolderNested", []sesame.Cond{op("folder", sesame.OpFolder, "/docs")}, []string{"100%.txt", "a_b.txt", "report.pdf", "sub"}},
		{"FolderDeeper", []sesame.Cond{op("folder", sesame.OpFolder, "docs/sub/")}, []string{"axb.txt"}},
		{"FolderMissing", []sesame.Cond{op("folder", sesame.OpFolder, "/missing")}, nil},
		{"FolderMissingBelow", []sesame.Cond{op("folder", sesame.OpFolder, "/docs/missing")}, nil},
		{"FolderIsFile", []sesame.Cond{op("folder", sesame.OpFolder, "/docs/report.pdf")}, nil},

		{"FilesInFolder", []sesame.Cond{eq("type", "file"), op("folder", sesame.OpFolder, "/docs")}, []string{"100%.txt", "a_b.txt", "report.pdf"}},
		{"TagAndSize", []sesame.Cond{op("tags", sesame.OpAllTags, "b"), op("size", sesame.OpLt, "100")}, []string{"100%.txt"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			page, err := ts.FindObjects(ctx, sesame.ObjectFilter{Conds: tt.conds, Size: 100})
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			if want == nil {
				want = []string{}
			}
			if diff := gocmp.Diff(want, names(page.Objects)); diff != "" {
				t.Errorf("names (-want +got):\n%s", diff)
			}
			if page.Count != len(tt.want) {
				t.Errorf("got count %d, want %d", page.Count, len(tt.want))
			}
			if page.Next != nil {
				t.Errorf("got next %+v, want nil", page.Next)
			}
		})
	}

	t.Run("BadFolder", func(t *testing.T) {
		_, err := ts.FindObjects(ctx, sesame.ObjectFilter{Conds: []sesame.Cond{op("folder", sesame.OpFolder, "/a//b")}})
		wantErr(t, err, sesame.Invalid, "/filter/folder", "")
	})

	t.Run("UnknownBucket", func(t *testing.T) {
		_, err := ts.FindObjects(ctx, sesame.ObjectFilter{BucketID: sesame.NewID(sesame.PrefixBucket)})
		wantErr(t, err, sesame.NotFound, "/bucket_id", "")
	})

	t.Run("CountIgnoresSize", func(t *testing.T) {
		f := sesame.ObjectFilter{Conds: []sesame.Cond{op("folder", sesame.OpFolder, "/docs")}, OrderBy: "name", Size: 1}
		var seen []string
		for pages := 0; ; pages++ {
			if pages > 4 {
				t.Fatal("more pages than objects")
			}
			page, err := ts.FindObjects(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if page.Count != 4 || len(page.Objects) != 1 {
				t.Fatalf("page %d: got count %d and %d objects, want 4 and 1", pages, page.Count, len(page.Objects))
			}
			seen = append(seen, page.Objects[0].Name)
			if page.Next == nil {
				break
			}
			f.After = page.Next
		}
		if diff := gocmp.Diff([]string{"100%.txt", "a_b.txt", "report.pdf", "sub"}, seen); diff != "" {
			t.Errorf("names in order (-want +got):\n%s", diff)
		}
		page, err := ts.FindObjects(ctx, sesame.ObjectFilter{Size: 3})
		if err != nil {
			t.Fatal(err)
		}
		if page.Count != 8 || len(page.Objects) != 3 || page.Next == nil {
			t.Errorf("got count %d, %d objects, next %v; want 8, 3, a cursor", page.Count, len(page.Objects), page.Next)
		}
	})
}

// orderKey compares two objects by one order field, as FindObjects orders them.
func orderKey(field string) func(a, b *sesame.Object) int {
	return func(a, b *sesame.Object) int {
		var c int
		switch field {
		case "id":
			c = 0
		case "name":
			c = cmp.Compare(a.Name, b.Name)
		case "parent_id":
			c = cmp.Compare(a.ParentID, b.ParentID)
		case "type":
			c = cmp.Compare(a.Type, b.Type)
		case "size":
			c = cmp.Compare(a.Size, b.Size)
		case "created_at":
			c = a.Created.Compare(b.Created)
		case "updated_at":
			c = a.Updated.Compare(b.Updated)
		default:
			panic("unknown order field " + field)
		}
		if c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	}
}

// pagingFixture makes seven objects with ties on name, parent_id, type,
// size and updated_at. When sameInstant is set, created_at ties too.
func pagingFixture(t *testing.T, sameInstant bool) (*testStore, []*sesame.Object) {
	t.Helper()
	ts := newTestStore(t)
	tick := func() {
		if !sameInstant {
			ts.clock.Advance(time.Second)
		}
	}
	tick()
	m := ts.mkdir(t, "/", "m")
	tick()
	ts.putTagged(t, "/m", "b.txt", 10)
	tick()
	c := ts.putTagged(t, "/", "c.txt", 10)
	tick()
	ts.putTagged(t, "/m", "a.txt", 5)
	tick()
	ts.mkdir(t, "/m", "k")
	tick()
	ts.putTagged(t, "/", "z.txt", 10)
	tick()
	ts.putTagged(t, "/m/k", "c.txt", 20)
	// Two updates at one instant: updated_at ties as well.
	ts.clock.Advance(time.Hour)
	for _, id := range []string{m.ID, c.ID} {
		if _, err := ts.UpdateObject(context.Background(), id, sesame.ObjectUpdate{AddTags: []string{"x"}}); err != nil {
			t.Fatal(err)
		}
	}
	page, err := ts.FindObjects(context.Background(), sesame.ObjectFilter{Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Objects) != 7 {
		t.Fatalf("fixture has %d objects, want 7", len(page.Objects))
	}
	return ts, page.Objects
}

func TestStore_FindObjectsPaging(t *testing.T) {
	ctx := context.Background()
	for _, fx := range []struct {
		name        string
		sameInstant bool
	}{{"DistinctTimes", false}, {"SameInstant", true}} {
		t.Run(fx.name, func(t *testing.T) {
			ts, objs := pagingFixture(t, fx.sameInstant)
			for _, field := range sesame.ObjectOrderFields {
				for _, desc := range []bool{false, true} {
					t.Run(fmt.Sprintf("%s/desc=%v", field, desc), func(t *testing.T) {
						want := slices.Clone(objs)
						slices.SortFunc(want, orderKey(field))
						if desc {
							slices.Reverse(want)
						}
						var wantIDs, gotIDs []string
						for _, o := range want {
							wantIDs = append(wantIDs, o.ID)
						}
						f := sesame.ObjectFilter{OrderBy: field, Desc: desc, Size: 2}
						for pages := 1; ; pages++ {
							if pages > 4 {
								t.Fatalf("more than 4 pages; got %v so far", gotIDs)
							}
							page, err := ts.FindObjects(ctx, f)
							if err != nil {
								t.Fatalf("page %d: %v", pages, err)
							}
							if page.Count != 7 {
								t.Errorf("page %d: got count %d, want 7", pages, page.Count)
							}
							for _, o := range page.Objects {
								gotIDs = append(gotIDs, o.ID)
							}
							if page.Next == nil {
								if pages != 4 || len(page.Objects) != 1 {
									t.Errorf("last page is %d with %d objects, want 4 with 1", pages, len(page.Objects))
								}
								break
							}
							if len(page.Objects) != 2 {
								t.Errorf("page %d has %d objects and a next cursor, want 2", pages, len(page.Objects))
							}
							if page.Next.OrderBy != field || page.Next.Desc != desc {
								t.Errorf("page %d: cursor %+v, want order_by %s desc %v", pages, page.Next, field, desc)
							}
							f.After = page.Next
						}
						if diff := gocmp.Diff(wantIDs, gotIDs); diff != "" {
							t.Errorf("ids in order (-want +got):\n%s", diff)
						}
					})
				}
			}
		})
	}

	t.Run("DefaultOrderIsCreatedAt", func(t *testing.T) {
		ts, objs := pagingFixture(t, false)
		want := slices.Clone(objs)
		slices.SortFunc(want, orderKey("created_at"))
		page, err := ts.FindObjects(ctx, sesame.ObjectFilter{Size: 3})
		if err != nil {
			t.Fatal(err)
		}
		if page.Next == nil || page.Next.OrderBy != "created_at" {
			t.Fatalf("got cursor %+v, want one for created_at", page.Next)
		}
		page2, err := ts.FindObjects(ctx, sesame.ObjectFilter{Size: 3, After: page.Next})
		if err != nil {
			t.Fatal(err)
		}
		got := append(page.Objects, page2.Objects...)
		for i := range got {
			if got[i].ID != want[i].ID {
				t.Errorf("position %d: got %s, want %s", i, got[i].Path, want[i].Path)
			}
		}
	})

	t.Run("ExactFit", func(t *testing.T) {
		ts, _ := pagingFixture(t, false)
		for _, size := range []int{7, 8, 0} {
			page, err := ts.FindObjects(ctx, sesame.ObjectFilter{OrderBy: "name", Size: size})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Objects) != 7 || page.Next != nil {
				t.Errorf("size %d: got %d objects and next %+v, want 7 and nil", size, len(page.Objects), page.Next)
			}
		}
		page, err := ts.FindObjects(ctx, sesame.ObjectFilter{OrderBy: "name", Size: 6})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Objects) != 6 || page.Next == nil {
			t.Fatalf("size 6: got %d objects and next %+v, want 6 and a cursor", len(page.Objects), page.Next)
		}
		page, err = ts.FindObjects(ctx, sesame.ObjectFilter{OrderBy: "name", Size: 6, After: page.Next})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Objects) != 1 || page.Next != nil {
			t.Errorf("second page: got %d objects and next %+v, want 1 and nil", len(page.Objects), page.Next)
		}
	})

	t.Run("ForeignCursor", func(t *testing.T) {
		ts, _ := pagingFixture(t, false)
		page, err := ts.FindObjects(ctx, sesame.ObjectFilter{OrderBy: "name", Size: 2})
		if err != nil {
			t.Fatal(err)
		}
		if page.Next == nil {
			t.Fatal("no cursor")
		}
		for _, f := range []sesame.ObjectFilter{
			{OrderBy: "size", Size: 2, After: page.Next},
			{OrderBy: "name", Desc: true, Size: 2, After: page.Next},
			{Size: 2, After: page.Next}, // the default order is created_at
		} {
			_, err := ts.FindObjects(ctx, f)
			wantErr(t, err, sesame.Invalid, "/last", "")
		}
		bad := &sesame.Cursor{OrderBy: "size", Value: "ten", ID: page.Next.ID}
		_, err = ts.FindObjects(ctx, sesame.ObjectFilter{OrderBy: "size", Size: 2, After: bad})
		wantErr(t, err, sesame.Invalid, "/last", "")
	})
}
