package store_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame"
)

// TestStore_FindLinksByTagAndTarget lists by tag and by target, which read
// link_index, after creates, tag and target updates, link deletes and a
// deleted file, and compares each listing, page by page in both
// directions, with the live links filtered here.
func TestStore_FindLinksByTagAndTarget(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	var files []string
	for i := range 6 {
		files = append(files, ts.putFile(t, "/", fmt.Sprintf("f%d.txt", i), []byte{byte(i)}).ID)
	}
	tagSets := [][]string{{"a"}, {"b"}, {"a", "b"}, nil, {"c", "a"}}
	var ids []string
	for i := range 30 {
		if i%3 == 0 {
			ts.clock.Advance(time.Second) // three links share each created_at
		}
		it := ts.linkItem(files[i%6], files[(i*5+1)%6])
		it.Tags = tagSets[i%5]
		it.Type = []sesame.LinkType{sesame.LinkDownload, sesame.LinkEditor}[i%2]
		ids = append(ids, ts.newLinks(t, it)[0].ID)
	}
	if _, err := ts.DeleteLinks(ctx, []string{ids[2], ids[11], ids[24]}); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.UpdateLink(ctx, ids[0], sesame.LinkUpdate{SetTags: true, Tags: []string{"c"}}, nil, ts.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.UpdateLink(ctx, ids[3], sesame.LinkUpdate{SetTags: true}, nil, ts.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.UpdateLink(ctx, ids[4], sesame.LinkUpdate{SetTargets: true, Targets: []string{files[5]}}, nil, ts.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.UpdateLink(ctx, ids[7], sesame.LinkUpdate{AddTargets: []string{files[0]}}, nil, ts.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.DeleteObject(ctx, "", files[1], false); err != nil {
		t.Fatal(err)
	}

	all, err := ts.FindLinks(ctx, sesame.LinkFilter{Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	live := all.Links
	if len(live) < 20 || all.Next != nil {
		t.Fatalf("got %d live links and next %v, want at least 20 on one page", len(live), all.Next)
	}
	byCreated := func(a, b *sesame.Link) int {
		return cmp.Or(a.Created.Compare(b.Created), strings.Compare(a.ID, b.ID))
	}

	c := func(field string, op sesame.Op, v ...string) sesame.Cond {
		return sesame.Cond{Field: field, Op: op, Values: v}
	}
	tests := []struct {
		name  string
		conds []sesame.Cond
		keep  func(l *sesame.Link) bool
	}{
		{"TagA", []sesame.Cond{c("tags", sesame.OpAllTags, "a")}, hasTags("a")},
		{"TagC", []sesame.Cond{c("tags", sesame.OpAllTags, "c")}, hasTags("c")},
		{"TagsAB", []sesame.Cond{c("tags", sesame.OpAllTags, "a", "b")}, hasTags("a", "b")},
		{"TagUnknown", []sesame.Cond{c("tags", sesame.OpAllTags, "zz")}, hasTags("zz")},
		{"TagAndType", []sesame.Cond{c("link_type", sesame.OpEq, "editor"), c("tags", sesame.OpAllTags, "a")},
			func(l *sesame.Link) bool { return l.Type == sesame.LinkEditor && hasTags("a")(l) }},
		{"TargetDeletedFile", []sesame.Cond{c("target_id", sesame.OpEq, files[1])}, hasTarget(files[1])},
		{"TargetAndTag", []sesame.Cond{c("target_id", sesame.OpIn, files[2]), c("tags", sesame.OpAllTags, "b")},
			func(l *sesame.Link) bool { return hasTarget(files[2])(l) && hasTags("b")(l) }},
	}
	for i := range files {
		tests = append(tests, struct {
			name  string
			conds []sesame.Cond
			keep  func(l *sesame.Link) bool
		}{fmt.Sprintf("Target%d", i), []sesame.Cond{c("target_id", sesame.OpEq, files[i])}, hasTarget(files[i])})
	}
	for _, tt := range tests {
		for _, desc := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/desc=%v", tt.name, desc), func(t *testing.T) {
				var want []string
				for _, l := range slices.SortedFunc(slices.Values(live), byCreated) {
					if tt.keep(l) {
						want = append(want, l.ID)
					}
				}
				if desc {
					slices.Reverse(want)
				}
				f := sesame.LinkFilter{Conds: tt.conds, Desc: desc, Size: 4}
				var got []string
				for pages := 0; ; pages++ {
					if pages > len(want)/4+1 {
						t.Fatalf("more than %d pages", pages)
					}
					page, err := ts.FindLinks(ctx, f)
					if err != nil {
						t.Fatal(err)
					}
					if page.Count != len(want) {
						t.Errorf("page %d: got count %d, want %d", pages, page.Count, len(want))
					}
					for _, l := range page.Links {
						got = append(got, l.ID)
					}
					if page.Next == nil {
						break
					}
					f.After = page.Next
				}
				if diff := gocmp.Diff(want, got); diff != "" {
					t.Errorf("ids in order (-want +got):\n%s", diff)
				}
			})
		}
	}
	if l := ts.link(t, ids[0]); !slices.Equal(l.Tags, []string{"c"}) {
		t.Fatalf("link 0 has tags %q after the update, want [c]", l.Tags)
	}
}

func hasTags(tags ...string) func(l *sesame.Link) bool {
	return func(l *sesame.Link) bool {
		for _, tag := range tags {
			if !slices.Contains(l.Tags, tag) {
				return false
			}
		}
		return true
	}
}

func hasTarget(id string) func(l *sesame.Link) bool {
	return func(l *sesame.Link) bool { return slices.Contains(l.Targets, id) }
}

// A link may target only objects of its own bucket: an object of another
// bucket is as unknown as one that does not exist.
func TestStore_CreateLinkRefusesAnotherBucketsObject(t *testing.T) {
	ts := newTestStore(t)
	f := ts.putFile(t, "/", "f.txt", []byte("x"))
	other := sesame.NewID(sesame.PrefixBucket)
	db := ts.rawDB(t)
	ts.rawExec(t, db, `INSERT INTO buckets (id, name, created_at) VALUES ($1, 'other', $2)`, other, sesame.FormatTime(ts.clock.Now()))
	ts.rawExec(t, db, `UPDATE objects SET bucket_id = $1 WHERE id = $2`, other, f.ID)
	_, err := ts.tryLinks(ts.linkItem(f.ID))
	wantErr(t, err, sesame.NotFound, "/links/0/targets/0", "DoesNotExist")
}
