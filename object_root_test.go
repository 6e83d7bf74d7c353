package sesame_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/store"
)

// rootEnv is an object service over a real store holding
//
//	/a/b/c.txt  /a/x.txt  /ab/z.txt  /other/o.txt
//
// (/ab shares /a's first letter, to catch a prefix taken for a subtree).
type rootEnv struct {
	svc              *sesame.ObjectService
	a, b, ab, other  *sesame.Object
	c, x, z, outside *sesame.Object
}

func newRootEnv(t *testing.T) *rootEnv {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(context.Background(), store.Config{DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &rootEnv{svc: &sesame.ObjectService{Store: st, Blobs: st}}
	e.c = e.put(t, sesame.Root{}, "/a/b", "c.txt")
	e.x = e.put(t, sesame.Root{}, "/a", "x.txt")
	e.z = e.put(t, sesame.Root{}, "/ab", "z.txt")
	e.outside = e.put(t, sesame.Root{}, "/other", "o.txt")
	for _, f := range []struct {
		p   **sesame.Object
		at  string
		ref string
	}{{&e.a, "/a", ""}, {&e.b, "/a/b", ""}, {&e.ab, "/ab", ""}, {&e.other, "/other", ""}} {
		o, err := e.svc.Resolve(admin, "", "", f.at)
		if err != nil {
			t.Fatal(err)
		}
		*f.p = o
	}
	return e
}

// put stores a file named name in the folder at dir, within root.
func (e *rootEnv) put(t *testing.T, root sesame.Root, dir, name string) *sesame.Object {
	t.Helper()
	p := sesame.Placement{HasParentPath: true, ParentPath: dir, Name: name, Root: root}
	o, err := e.svc.Put(admin, sesame.FileCreate{Placement: p}, strings.NewReader(name), name)
	if err != nil {
		t.Fatalf("put %s/%s in %+v: %v", dir, name, root, err)
	}
	return o
}

// wantField fails unless err is of kind with its first field error at
// source with code.
func wantField(t *testing.T, err error, kind sesame.Kind, source, code string) {
	t.Helper()
	e := sesame.AsError(err)
	if e == nil || e.Kind != kind || len(e.Fields) == 0 || e.Fields[0].Source != source || e.Fields[0].Code != code {
		t.Fatalf("got %v, want %v %s at %s", err, kind, code, source)
	}
}

func TestObjectService_Root(t *testing.T) {
	ctx := admin
	e := newRootEnv(t)
	byID, byFolder := sesame.Root{ID: e.a.ID}, sesame.Root{Folder: "/a"}

	t.Run("ResolvesInsideRelative", func(t *testing.T) {
		for _, root := range []sesame.Root{byID, byFolder, {ID: e.a.ID, Folder: "/a/"}} {
			o, err := e.svc.Lookup(ctx, sesame.ObjectRef{ID: e.c.ID, Root: root})
			if err != nil || o.Path != "/b/c.txt" || o.Folder() != "/b" || o.ParentID != e.b.ID {
				t.Errorf("%+v: by id got %+v, %v; want c.txt at /b/c.txt", root, o, err)
			}
			o, err = e.svc.Lookup(ctx, sesame.ObjectRef{Path: "/x.txt", Root: root})
			if err != nil || o.ID != e.x.ID || o.Folder() != "/" {
				t.Errorf("%+v: by path got %+v, %v; want x.txt in /", root, o, err)
			}
			o, err = e.svc.Lookup(ctx, sesame.ObjectRef{ID: e.c.ID, Path: "b/c.txt", Root: root})
			if err != nil || o.ID != e.c.ID {
				t.Errorf("%+v: by id and path got %+v, %v", root, o, err)
			}
		}
		// The bucket's root scopes nothing.
		o, err := e.svc.Lookup(ctx, sesame.ObjectRef{ID: e.c.ID, Root: sesame.Root{Folder: "/"}})
		if err != nil || o.Path != "/a/b/c.txt" {
			t.Errorf("root_folder /: got %+v, %v; want the full path", o, err)
		}
	})

	t.Run("OutsideIsNotFound", func(t *testing.T) {
		unknown := sesame.NewID(sesame.PrefixObject)
		_, errUnknown := e.svc.Lookup(ctx, sesame.ObjectRef{ID: unknown, Root: byID})
		wantField(t, errUnknown, sesame.NotFound, "/id", "DoesNotExist")
		for _, o := range []*sesame.Object{e.outside, e.z, e.ab, e.a} {
			_, err := e.svc.Lookup(ctx, sesame.ObjectRef{ID: o.ID, Root: byID})
			wantField(t, err, sesame.NotFound, "/id", "DoesNotExist")
			if got, want := err.Error(), strings.ReplaceAll(errUnknown.Error(), unknown, o.ID); got != want {
				t.Errorf("%s outside the root: %q, want the words of an unknown id: %q", o.Path, got, want)
			}
		}
		_, err := e.svc.Lookup(ctx, sesame.ObjectRef{Path: "/other/o.txt", Root: byFolder})
		wantField(t, err, sesame.NotFound, "/path", "DoesNotExist")
		_, err = e.svc.Lookup(ctx, sesame.ObjectRef{Path: "/", Root: byFolder})
		wantField(t, err, sesame.Invalid, "/path", "BadState")
		if _, _, err := e.svc.DeleteIn(ctx, sesame.ObjectRef{ID: e.outside.ID, Root: byID}, true); sesame.KindOf(err) != sesame.NotFound {
			t.Errorf("delete outside the root: %v, want NotFound", err)
		}
		name := "moved.txt"
		_, err = e.svc.Update(ctx, e.outside.ID, "", sesame.ObjectUpdate{Root: byID, Name: &name})
		wantField(t, err, sesame.NotFound, "/id", "DoesNotExist")
		if o, err := e.svc.Resolve(ctx, "", e.outside.ID, ""); err != nil || o.Path != "/other/o.txt" {
			t.Errorf("the object outside: %+v, %v; want it untouched", o, err)
		}
		_, err = e.svc.ArchiveIn(ctx, "", byID, []string{e.c.ID, e.z.ID}, "zip")
		wantField(t, err, sesame.NotFound, "/ids/1", "DoesNotExist")
	})

	t.Run("RootsRefused", func(t *testing.T) {
		for _, tc := range []struct {
			name         string
			root         sesame.Root
			kind         sesame.Kind
			source, code string
		}{
			{"Disagree", sesame.Root{ID: e.a.ID, Folder: "/other"}, sesame.Invalid, "/root_folder", "MutuallyExclusive"},
			{"DisagreeWithBucketRoot", sesame.Root{ID: e.a.ID, Folder: "/"}, sesame.Invalid, "/root_folder", "MutuallyExclusive"},
			{"UnknownID", sesame.Root{ID: sesame.NewID(sesame.PrefixObject)}, sesame.NotFound, "/root_id", "DoesNotExist"},
			{"MalformedID", sesame.Root{ID: "pos_x"}, sesame.NotFound, "/root_id", "DoesNotExist"},
			{"IDOfFile", sesame.Root{ID: e.x.ID}, sesame.Invalid, "/root_id", "BadState"},
			{"UnknownFolder", sesame.Root{Folder: "/nope"}, sesame.NotFound, "/root_folder", "DoesNotExist"},
			{"FolderIsFile", sesame.Root{Folder: "/a/x.txt"}, sesame.Invalid, "/root_folder", "BadState"},
			{"FolderMalformed", sesame.Root{Folder: "/a//b"}, sesame.Invalid, "/root_folder", "DoesNotMatchPattern"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := e.svc.Lookup(ctx, sesame.ObjectRef{ID: e.c.ID, Root: tc.root})
				wantField(t, err, tc.kind, tc.source, tc.code)
				_, err = e.svc.Find(ctx, sesame.ObjectFilter{Size: 10, Root: tc.root})
				wantField(t, err, tc.kind, tc.source, tc.code)
				_, err = e.svc.CreateFolder(ctx, sesame.FolderCreate{Placement: sesame.Placement{Name: "n", Root: tc.root}})
				wantField(t, err, tc.kind, tc.source, tc.code)
			})
		}
	})

	t.Run("List", func(t *testing.T) {
		names := func(t *testing.T, conds ...sesame.Cond) []string {
			t.Helper()
			page, err := e.svc.Find(ctx, sesame.ObjectFilter{Size: 100, OrderBy: "name", Root: byID, Conds: conds})
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, o := range page.Objects {
				out = append(out, o.Path)
			}
			slices.Sort(out)
			if page.Count != len(out) {
				t.Errorf("count %d for %d objects", page.Count, len(out))
			}
			return out
		}
		if got, want := names(t), []string{"/b", "/b/c.txt", "/x.txt"}; !slices.Equal(got, want) {
			t.Errorf("everything: got %q, want %q", got, want)
		}
		if got, want := names(t, sesame.Cond{Field: "folder", Op: sesame.OpFolder, Values: []string{"/"}}), []string{"/b", "/x.txt"}; !slices.Equal(got, want) {
			t.Errorf("folder /: got %q, want %q", got, want)
		}
		if got, want := names(t, sesame.Cond{Field: "folder", Op: sesame.OpFolder, Values: []string{"/b"}}), []string{"/b/c.txt"}; !slices.Equal(got, want) {
			t.Errorf("folder /b: got %q, want %q", got, want)
		}
		if got, want := names(t, sesame.Cond{Field: "parent_id", Values: []string{""}}), []string{"/b", "/x.txt"}; !slices.Equal(got, want) {
			t.Errorf("parent_id \"\": got %q, want %q", got, want)
		}
		if got := names(t, sesame.Cond{Field: "id", Values: []string{e.outside.ID}}); len(got) != 0 {
			t.Errorf("an id outside: got %q, want nothing", got)
		}
	})

	t.Run("Writes", func(t *testing.T) {
		f, err := e.svc.CreateFolder(ctx, sesame.FolderCreate{Placement: sesame.Placement{HasParentPath: true, ParentPath: "/new", Name: "f", Root: byFolder}})
		if err != nil || f.Path != "/new/f" {
			t.Fatalf("create in the root: got %+v, %v; want /new/f", f, err)
		}
		if o, err := e.svc.Resolve(ctx, "", f.ID, ""); err != nil || o.Path != "/a/new/f" {
			t.Errorf("the new folder: %+v, %v; want it at /a/new/f", o, err)
		}
		top, err := e.svc.CreateFolder(ctx, sesame.FolderCreate{Placement: sesame.Placement{Name: "top", Root: byID}})
		if err != nil || top.Path != "/top" || top.ParentID != e.a.ID {
			t.Errorf("create with no parent: got %+v, %v; want /top under the root", top, err)
		}
		top2, err := e.svc.CreateFolder(ctx, sesame.FolderCreate{Placement: sesame.Placement{HasParentID: true, ParentID: "",
			HasParentPath: true, ParentPath: "/", Name: "top2", Root: byID}})
		if err != nil || top2.Path != "/top2" || top2.ParentID != e.a.ID {
			t.Errorf("create with parent_id \"\" and folder /: got %+v, %v; want /top2 under the root", top2, err)
		}
		_, err = e.svc.CreateFolder(ctx, sesame.FolderCreate{Placement: sesame.Placement{HasParentID: true, ParentID: e.other.ID, Name: "n", Root: byID}})
		wantField(t, err, sesame.NotFound, "/parent_id", "DoesNotExist")
		in, err := e.svc.CreateFolder(ctx, sesame.FolderCreate{Placement: sesame.Placement{HasParentID: true, ParentID: e.a.ID, Name: "in", Root: byID}})
		if err != nil || in.Path != "/in" {
			t.Errorf("the root's own id as parent: got %+v, %v; want /in", in, err)
		}
		file := e.put(t, byFolder, "/b", "put.txt")
		if file.Path != "/b/put.txt" {
			t.Errorf("put: got %s, want /b/put.txt", file.Path)
		}

		dest := "/b"
		moved, err := e.svc.Update(ctx, file.ID, "", sesame.ObjectUpdate{Root: byFolder, ParentPath: &dest, Name: ref("moved.txt")})
		if err != nil || moved.Path != "/b/moved.txt" {
			t.Errorf("rename in the root: got %+v, %v", moved, err)
		}
		up := ""
		moved, err = e.svc.Update(ctx, file.ID, "", sesame.ObjectUpdate{Root: byID, ParentID: &up})
		if err != nil || moved.Path != "/moved.txt" || moved.ParentID != e.a.ID {
			t.Errorf("move to the root's top: got %+v, %v; want /moved.txt", moved, err)
		}
		_, err = e.svc.Update(ctx, file.ID, "", sesame.ObjectUpdate{Root: byID, ParentID: &e.other.ID})
		wantField(t, err, sesame.NotFound, "/parent_id", "DoesNotExist")
		entries, err := e.svc.ArchiveIn(ctx, "", byID, []string{e.b.ID}, "zip")
		if err != nil || len(entries) == 0 || entries[0].Object.Path != "/b" {
			t.Errorf("archive in the root: %v, %v", entries, err)
		}
		_, n, err := e.svc.DeleteIn(ctx, sesame.ObjectRef{Path: "/moved.txt", Root: byFolder}, false)
		if err != nil || n != 1 {
			t.Errorf("delete by relative path: %d, %v", n, err)
		}
	})

	t.Run("PollAnswersInTheRoot", func(t *testing.T) {
		p := sesame.Placement{HasParentPath: true, ParentPath: "/b", Name: "late.txt", Root: byFolder}
		pu, secret, err := e.svc.Announce(ctx, sesame.FileCreate{Placement: p, FileTTL: "1h"}, sesame.TransferPutURL, sesame.NewID(sesame.PrefixRequest))
		if err != nil {
			t.Fatal(err)
		}
		claimed, err := e.svc.ClaimUpload(context.Background(), secret, sesame.TransferPutURL)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.CompleteUpload(context.Background(), claimed, strings.NewReader("late"), "", nil); err != nil {
			t.Fatal(err)
		}
		_, o, err := e.svc.Poll(as(sesame.ScopeAdmin), pu.ID)
		if err != nil || o.Path != "/b/late.txt" || o.FileTTL != "1h" {
			t.Errorf("poll: got %+v, %v; want /b/late.txt with its own 1h TTL", o, err)
		}
	})
}

func ref[T any](v T) *T { return &v }

// TestObjectService_FileTTLChecked: a file_ttl that is not never, inherited
// or a duration is refused at the core for every way in.
func TestObjectService_FileTTLChecked(t *testing.T) {
	e := newRootEnv(t)
	_, err := e.svc.CreateFolder(admin, sesame.FolderCreate{Placement: sesame.Placement{Name: "f"}, FileTTL: "soon"})
	wantField(t, err, sesame.Invalid, "/file_ttl", "BadFormatPangeaDuration")
	err = e.svc.CheckFile(admin, sesame.FileCreate{Placement: sesame.Placement{Name: "f"}, FileTTL: "0s"})
	wantField(t, err, sesame.Invalid, "/file_ttl", "NotWithinRange")
	_, err = e.svc.Update(admin, e.x.ID, "", sesame.ObjectUpdate{FileTTL: "1 d"})
	wantField(t, err, sesame.Invalid, "/file_ttl", "BadFormatPangeaDuration")
	o, err := e.svc.Update(admin, e.x.ID, "", sesame.ObjectUpdate{FileTTL: "12h"})
	if err != nil || o.FileTTL != "12h" || o.TTL.From != e.x.ID || !o.Expires.Equal(o.Created.Add(12*60*60*1e9)) {
		t.Errorf("update to 12h: got %+v, %v", o, err)
	}
}
