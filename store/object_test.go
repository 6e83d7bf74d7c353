package store_test

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame"
)

func TestStore_CreateFolder(t *testing.T) {
	ctx := context.Background()

	t.Run("ParentID", func(t *testing.T) {
		ts := newTestStore(t)
		a := ts.mkdir(t, "", "a")
		ts.clock.Advance(time.Second)
		in := sesame.FolderCreate{
			Placement: sesame.Placement{HasParentID: true, ParentID: a.ID, Name: "b"},
			Metadata:  map[string]string{"owner": "ops"},
			Tags:      []string{"x", "y"},
		}
		b, err := ts.CreateFolder(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		now := ts.clock.Now()
		want := &sesame.Object{ID: b.ID, BucketID: ts.DefaultBucket(), ParentID: a.ID, Name: "b", Type: sesame.TypeFolder,
			Path: "/a/b", Metadata: map[string]string{"owner": "ops"}, Tags: []string{"x", "y"}, Created: now, Updated: now, TTL: ts.defaultTTL()}
		if diff := cmp.Diff(want, b); diff != "" {
			t.Errorf("created folder (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want, ts.byID(t, b.ID)); diff != "" {
			t.Errorf("ObjectByID (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want, ts.byPath(t, "/a/b/")); diff != "" {
			t.Errorf("ObjectByPath (-want +got):\n%s", diff)
		}
		if !sesame.ValidID(sesame.PrefixObject, b.ID) {
			t.Errorf("got id %q, want a %s id", b.ID, sesame.PrefixObject)
		}
	})

	t.Run("RootByEmptyParentID", func(t *testing.T) {
		ts := newTestStore(t)
		o := ts.mkdir(t, "", "top")
		if o.ParentID != "" || o.Path != "/top" {
			t.Errorf("got parent %q path %q, want root and /top", o.ParentID, o.Path)
		}
	})

	t.Run("ParentPathCreatesIntermediates", func(t *testing.T) {
		ts := newTestStore(t)
		s := ts.mkdir(t, "p/q/r/", "s") // no leading slash, a trailing one
		p, q, r := ts.byPath(t, "/p"), ts.byPath(t, "/p/q"), ts.byPath(t, "/p/q/r")
		for _, tt := range []struct {
			o            *sesame.Object
			parent, path string
		}{{p, "", "/p"}, {q, p.ID, "/p/q"}, {r, q.ID, "/p/q/r"}, {s, r.ID, "/p/q/r/s"}} {
			if tt.o.Type != sesame.TypeFolder || tt.o.ParentID != tt.parent || tt.o.Path != tt.path {
				t.Errorf("got %s %s under %q, want folder %s under %q", tt.o.Type, tt.o.Path, tt.o.ParentID, tt.path, tt.parent)
			}
		}
		// A second create through the same path reuses the folders.
		ts.mkdir(t, "/p/q", "s2")
		if n := ts.countObjects(t); n != 5 {
			t.Errorf("got %d objects, want 5", n)
		}
	})

	t.Run("BothAgree", func(t *testing.T) {
		ts := newTestStore(t)
		a := ts.mkdir(t, "/", "a")
		o, err := ts.CreateFolder(ctx, sesame.FolderCreate{Placement: sesame.Placement{
			HasParentID: true, ParentID: a.ID, HasParentPath: true, ParentPath: "/a", Name: "b"}})
		if err != nil {
			t.Fatal(err)
		}
		if o.ParentID != a.ID || o.Path != "/a/b" {
			t.Errorf("got parent %q path %q, want %q /a/b", o.ParentID, o.Path, a.ID)
		}
		// The root named both ways agrees too.
		o, err = ts.CreateFolder(ctx, sesame.FolderCreate{Placement: sesame.Placement{
			HasParentID: true, ParentID: "", HasParentPath: true, ParentPath: "/", Name: "c"}})
		if err != nil {
			t.Fatal(err)
		}
		if o.ParentID != "" || o.Path != "/c" {
			t.Errorf("got parent %q path %q, want root /c", o.ParentID, o.Path)
		}
	})

	t.Run("BothDisagree", func(t *testing.T) {
		ts := newTestStore(t)
		a := ts.mkdir(t, "/", "a")
		ts.mkdir(t, "/", "b")
		for _, tt := range []struct {
			name       string
			p          sesame.Placement
			wantSource string
		}{
			{"DefaultSource", sesame.Placement{HasParentID: true, ParentID: a.ID, HasParentPath: true, ParentPath: "/b/new", Name: "x"}, "/folder"},
			{"OwnSource", sesame.Placement{HasParentID: true, ParentID: a.ID, HasParentPath: true, ParentPath: "/b", ParentSource: "/parent_path", Name: "x"}, "/parent_path"},
			{"RootIDOtherPath", sesame.Placement{HasParentID: true, ParentID: "", HasParentPath: true, ParentPath: "/a", Name: "x"}, "/folder"},
			{"OtherIDRootPath", sesame.Placement{HasParentID: true, ParentID: a.ID, HasParentPath: true, ParentPath: "/", Name: "x"}, "/folder"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				o, err := ts.CreateFolder(ctx, sesame.FolderCreate{Placement: tt.p})
				wantErr(t, err, sesame.Invalid, tt.wantSource, "MutuallyExclusive")
				if o != nil {
					t.Errorf("got %+v with the error, want nil", o)
				}
			})
		}
		// Nothing was created, not even the folders the path named.
		ts.wantNoPath(t, "/b/new")
		if n := ts.countObjects(t); n != 2 {
			t.Errorf("got %d objects, want 2", n)
		}
	})

	t.Run("ParentIsFile", func(t *testing.T) {
		ts := newTestStore(t)
		f := ts.putFile(t, "/d", "f.txt", []byte("x"))
		_, err := ts.CreateFolder(ctx, sesame.FolderCreate{Placement: sesame.Placement{HasParentID: true, ParentID: f.ID, Name: "sub"}})
		wantErr(t, err, sesame.Invalid, "/parent_id", "BadState")
		_, err = ts.CreateFolder(ctx, sesame.FolderCreate{Placement: sesame.Placement{HasParentPath: true, ParentPath: "/d/f.txt/deeper", Name: "sub"}})
		wantErr(t, err, sesame.Invalid, "/folder", "BadState")
		ts.wantNoPath(t, "/d/f.txt/deeper")
		if n := ts.countObjects(t); n != 2 {
			t.Errorf("got %d objects, want 2", n)
		}
	})

	t.Run("UnknownParentID", func(t *testing.T) {
		ts := newTestStore(t)
		_, err := ts.CreateFolder(ctx, sesame.FolderCreate{Placement: sesame.Placement{HasParentID: true, ParentID: sesame.NewID(sesame.PrefixObject), Name: "x"}})
		wantErr(t, err, sesame.NotFound, "/parent_id", "DoesNotExist")
		if n := ts.countObjects(t); n != 0 {
			t.Errorf("got %d objects, want 0", n)
		}
	})

	t.Run("UnknownBucket", func(t *testing.T) {
		ts := newTestStore(t)
		in := sesame.FolderCreate{Placement: placeAt("", "x")}
		in.BucketID = sesame.NewID(sesame.PrefixBucket)
		_, err := ts.CreateFolder(ctx, in)
		wantErr(t, err, sesame.NotFound, "/bucket_id", "")
	})

	t.Run("NameTaken", func(t *testing.T) {
		ts := newTestStore(t)
		ts.mkdir(t, "/a", "dup")
		_, err := ts.CreateFolder(ctx, sesame.FolderCreate{Placement: placeAt("/a", "dup")})
		wantErr(t, err, sesame.Conflict, "/name", "")
		ts.putFile(t, "/a", "file", []byte("x"))
		_, err = ts.CreateFolder(ctx, sesame.FolderCreate{Placement: sesame.Placement{HasParentPath: true, ParentPath: "/a", Name: "file", NameSource: "/folders/3/name"}})
		wantErr(t, err, sesame.Conflict, "/folders/3/name", "")
		// The same name in other folders is fine, and so is another case.
		ts.mkdir(t, "/", "dup")
		ts.mkdir(t, "/b", "dup")
		ts.mkdir(t, "/a/dup", "dup")
		ts.mkdir(t, "/a", "DUP")
		if n := ts.countObjects(t); n != 8 {
			t.Errorf("got %d objects, want 8", n)
		}
	})

	t.Run("BadName", func(t *testing.T) {
		ts := newTestStore(t)
		for _, tt := range []struct {
			name, value, code string
		}{
			{"Empty", "", "FieldRequired"},
			{"Slash", "a/b", "DoesNotMatchPattern"},
			{"OnlySlash", "/", "DoesNotMatchPattern"},
			{"NUL", "a\x00b", "DoesNotMatchPattern"},
			{"Control", "a\x01b", "DoesNotMatchPattern"},
			{"Tab", "a\tb", "DoesNotMatchPattern"},
			{"Newline", "a\n", "DoesNotMatchPattern"},
			{"DEL", "a\x7f", "DoesNotMatchPattern"},
			{"Dot", ".", "DoesNotMatchPattern"},
			{"DotDot", "..", "DoesNotMatchPattern"},
			{"Backslash", "a\\b", "DoesNotMatchPattern"},
			{"DirectionOverride", "a\u202Eb", "DoesNotMatchPattern"},
			{"InvalidUTF8", "a\xffb", "InvalidString"},
			{"TooLong", strings.Repeat("n", sesame.MaxNameLen+1), "AboveMaxLength"},
			{"TooManyBytes", strings.Repeat("é", sesame.MaxNameLen/2+1), "AboveMaxLength"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				_, err := ts.CreateFolder(ctx, sesame.FolderCreate{Placement: placeAt("/ok", tt.value)})
				wantErr(t, err, sesame.Invalid, "/name", tt.code)
				_, err = ts.CreateFolder(ctx, sesame.FolderCreate{Placement: sesame.Placement{Name: tt.value, NameSource: "/items/2/name"}})
				wantErr(t, err, sesame.Invalid, "/items/2/name", tt.code)
			})
		}
		// The parent path was not made for any of them.
		if n := ts.countObjects(t); n != 0 {
			t.Errorf("got %d objects, want 0", n)
		}
		// Odd but legal names work.
		for _, name := range []string{"...", ".hidden", "a b", "日本語", "a:b", "100%_x", strings.Repeat("n", sesame.MaxNameLen)} {
			ts.mkdir(t, "/", name)
		}
	})

	t.Run("BadParentPath", func(t *testing.T) {
		ts := newTestStore(t)
		for _, tt := range []struct{ name, value string }{
			{"EmptySegment", "/a//b"},
			{"DotDot", "/a/../b"},
			{"Dot", "/a/./b"},
			{"NUL", "/a\x00"},
			{"Control", "/a/\x1f"},
			{"TooLong", "/" + strings.Repeat("a/", 128)}, // 257 characters
		} {
			t.Run(tt.name, func(t *testing.T) {
				_, err := ts.CreateFolder(ctx, sesame.FolderCreate{Placement: sesame.Placement{HasParentPath: true, ParentPath: tt.value, Name: "x"}})
				wantErr(t, err, sesame.Invalid, "/folder", "")
				_, err = ts.CreateFolder(ctx, sesame.FolderCreate{Placement: sesame.Placement{HasParentPath: true, ParentPath: tt.value, ParentSource: "/path", Name: "x"}})
				wantErr(t, err, sesame.Invalid, "/path", "")
			})
		}
		if n := ts.countObjects(t); n != 0 {
			t.Errorf("got %d objects, want 0", n)
		}
	})

	t.Run("PathTooLong", func(t *testing.T) {
		ts := newTestStore(t)
		long := ts.mkdir(t, "/", strings.Repeat("a", 200)) // "/aaa…": 201 characters
		_, err := ts.CreateFolder(ctx, sesame.FolderCreate{Placement: sesame.Placement{HasParentID: true, ParentID: long.ID, Name: strings.Repeat("b", 55)}})
		wantErr(t, err, sesame.Invalid, "/name", "AboveMaxLength")
		_, err = ts.CreateFolder(ctx, sesame.FolderCreate{Placement: sesame.Placement{HasParentID: true, ParentID: long.ID, Name: strings.Repeat("b", 55), NameSource: "/n"}})
		wantErr(t, err, sesame.Invalid, "/n", "AboveMaxLength")
		u := ts.stage(t, "f", []byte("data"))
		_, err = ts.CreateFile(ctx, sesame.FileCreate{Placement: sesame.Placement{HasParentID: true, ParentID: long.ID, Name: strings.Repeat("b", 55)}}, u)
		wantErr(t, err, sesame.Invalid, "/name", "AboveMaxLength")
		ts.wantStaged(t)
		ts.wantBlobs(t)
		// Exactly MaxPathLen is allowed.
		ok := ts.mkdir(t, "/"+long.Name, strings.Repeat("b", 54))
		if n := utf8.RuneCountInString(ok.Path); n != sesame.MaxPathLen {
			t.Fatalf("got a path of %d characters, want %d", n, sesame.MaxPathLen)
		}
		// The limit counts characters, not bytes: 256 characters of
		// two-byte runes fit, 257 do not.
		wide := ts.mkdir(t, "/", strings.Repeat("é", 127)) // a path of 128 characters, 255 bytes
		ts.mkdir(t, wide.Path, strings.Repeat("x", 127))   // 256 characters
		_, err = ts.CreateFolder(ctx, sesame.FolderCreate{Placement: sesame.Placement{HasParentID: true, ParentID: wide.ID, Name: strings.Repeat("y", 128)}})
		wantErr(t, err, sesame.Invalid, "/name", "AboveMaxLength")
	})
}

func TestStore_UpdateObject(t *testing.T) {
	ctx := context.Background()
	ptr := func(s string) *string { return &s }

	t.Run("Rename", func(t *testing.T) {
		ts := newTestStore(t)
		f := ts.putFile(t, "/a", "x.txt", []byte("x"))
		ts.clock.Advance(time.Minute)
		got, err := ts.UpdateObject(ctx, f.ID, sesame.ObjectUpdate{Name: ptr("y.txt")})
		if err != nil {
			t.Fatal(err)
		}
		want := *f
		want.Name, want.Path, want.Updated = "y.txt", "/a/y.txt", ts.clock.Now()
		if diff := cmp.Diff(&want, got); diff != "" {
			t.Errorf("updated object (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(&want, ts.byPath(t, "/a/y.txt")); diff != "" {
			t.Errorf("stored object (-want +got):\n%s", diff)
		}
		ts.wantNoPath(t, "/a/x.txt")
	})

	t.Run("RenameClash", func(t *testing.T) {
		ts := newTestStore(t)
		x := ts.putFile(t, "/d", "x.txt", []byte("x"))
		y := ts.putFile(t, "/d", "y.txt", []byte("y"))
		_, err := ts.UpdateObject(ctx, y.ID, sesame.ObjectUpdate{Name: ptr("x.txt")})
		wantErr(t, err, sesame.Conflict, "/name", "")
		if diff := cmp.Diff(y, ts.byID(t, y.ID)); diff != "" {
			t.Errorf("y changed (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(x, ts.byID(t, x.ID)); diff != "" {
			t.Errorf("x changed (-want +got):\n%s", diff)
		}
	})

	t.Run("BadName", func(t *testing.T) {
		ts := newTestStore(t)
		f := ts.putFile(t, "/", "x.txt", []byte("x"))
		for _, name := range []string{"", "a/b", "..", "a\x00", strings.Repeat("n", 256)} {
			_, err := ts.UpdateObject(ctx, f.ID, sesame.ObjectUpdate{Name: &name})
			wantErr(t, err, sesame.Invalid, "/name", "")
		}
		if diff := cmp.Diff(f, ts.byID(t, f.ID)); diff != "" {
			t.Errorf("object changed (-want +got):\n%s", diff)
		}
	})

	t.Run("UnknownID", func(t *testing.T) {
		ts := newTestStore(t)
		_, err := ts.UpdateObject(ctx, sesame.NewID(sesame.PrefixObject), sesame.ObjectUpdate{Name: ptr("x")})
		wantErr(t, err, sesame.NotFound, "/id", "")
	})

	t.Run("MoveByParentID", func(t *testing.T) {
		ts := newTestStore(t)
		f := ts.putFile(t, "/a", "f.txt", []byte("x"))
		b := ts.mkdir(t, "/", "b")
		got, err := ts.UpdateObject(ctx, f.ID, sesame.ObjectUpdate{ParentID: &b.ID})
		if err != nil {
			t.Fatal(err)
		}
		if got.ParentID != b.ID || got.Path != "/b/f.txt" {
			t.Errorf("got parent %q path %q, want %q /b/f.txt", got.ParentID, got.Path, b.ID)
		}
		if o := ts.byPath(t, "/b/f.txt"); o.ID != f.ID || o.ParentID != b.ID {
			t.Errorf("got %s under %s at /b/f.txt, want %s under %s", o.ID, o.ParentID, f.ID, b.ID)
		}
		ts.wantNoPath(t, "/a/f.txt")
		// To the root, and renamed in the same update.
		got, err = ts.UpdateObject(ctx, f.ID, sesame.ObjectUpdate{ParentID: ptr(""), Name: ptr("g.txt")})
		if err != nil {
			t.Fatal(err)
		}
		if got.ParentID != "" || got.Path != "/g.txt" {
			t.Errorf("got parent %q path %q, want root /g.txt", got.ParentID, got.Path)
		}
		ts.byPath(t, "/g.txt")
	})

	t.Run("MoveByParentPath", func(t *testing.T) {
		ts := newTestStore(t)
		f := ts.putFile(t, "/a", "f.txt", []byte("x"))
		got, err := ts.UpdateObject(ctx, f.ID, sesame.ObjectUpdate{ParentPath: ptr("/c/d")})
		if err != nil {
			t.Fatal(err)
		}
		d := ts.byPath(t, "/c/d")
		if got.ParentID != d.ID || got.Path != "/c/d/f.txt" {
			t.Errorf("got parent %q path %q, want %q /c/d/f.txt", got.ParentID, got.Path, d.ID)
		}
		if o := ts.byPath(t, "/c/d/f.txt"); o.ID != f.ID {
			t.Errorf("got %s at /c/d/f.txt, want %s", o.ID, f.ID)
		}
		// Both given and agreeing.
		a := ts.byPath(t, "/a")
		if _, err := ts.UpdateObject(ctx, f.ID, sesame.ObjectUpdate{ParentID: &a.ID, ParentPath: ptr("/a")}); err != nil {
			t.Fatal(err)
		}
		ts.byPath(t, "/a/f.txt")
		// Both given and disagreeing.
		_, err = ts.UpdateObject(ctx, f.ID, sesame.ObjectUpdate{ParentID: &d.ID, ParentPath: ptr("/a")})
		wantErr(t, err, sesame.Invalid, "/folder", "MutuallyExclusive")
		ts.byPath(t, "/a/f.txt")
	})

	t.Run("MoveClash", func(t *testing.T) {
		ts := newTestStore(t)
		ts.putFile(t, "/a", "f.txt", []byte("a"))
		g := ts.putFile(t, "/b", "f.txt", []byte("b"))
		_, err := ts.UpdateObject(ctx, g.ID, sesame.ObjectUpdate{ParentPath: ptr("/a")})
		wantErr(t, err, sesame.Conflict, "", "")
		if diff := cmp.Diff(g, ts.byID(t, g.ID)); diff != "" {
			t.Errorf("object changed (-want +got):\n%s", diff)
		}
	})

	t.Run("MoveIntoFile", func(t *testing.T) {
		ts := newTestStore(t)
		f := ts.putFile(t, "/", "f.txt", []byte("a"))
		g := ts.putFile(t, "/", "g.txt", []byte("b"))
		_, err := ts.UpdateObject(ctx, g.ID, sesame.ObjectUpdate{ParentID: &f.ID})
		wantErr(t, err, sesame.Invalid, "/parent_id", "")
		_, err = ts.UpdateObject(ctx, g.ID, sesame.ObjectUpdate{ParentPath: ptr("/f.txt")})
		wantErr(t, err, sesame.Invalid, "/folder", "")
		_, err = ts.UpdateObject(ctx, g.ID, sesame.ObjectUpdate{ParentID: ptr(sesame.NewID(sesame.PrefixObject))})
		wantErr(t, err, sesame.NotFound, "/parent_id", "")
		ts.byPath(t, "/g.txt")
	})

	t.Run("MoveFolderMovesDescendants", func(t *testing.T) {
		ts := newTestStore(t)
		f := ts.putFile(t, "/a/b/c", "f.txt", []byte("deep"))
		a, b, c := ts.byPath(t, "/a"), ts.byPath(t, "/a/b"), ts.byPath(t, "/a/b/c")
		z := ts.mkdir(t, "/", "z")

		if _, err := ts.UpdateObject(ctx, b.ID, sesame.ObjectUpdate{ParentID: &z.ID}); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			path       string
			id, parent string
		}{{"/z/b", b.ID, z.ID}, {"/z/b/c", c.ID, b.ID}, {"/z/b/c/f.txt", f.ID, c.ID}} {
			o := ts.byPath(t, tt.path)
			if o.ID != tt.id || o.ParentID != tt.parent {
				t.Errorf("at %s got %s under %s, want %s under %s", tt.path, o.ID, o.ParentID, tt.id, tt.parent)
			}
		}
		for _, p := range []string{"/a/b", "/a/b/c", "/a/b/c/f.txt"} {
			ts.wantNoPath(t, p)
		}
		if got := ts.byID(t, f.ID).Path; got != "/z/b/c/f.txt" {
			t.Errorf("grandchild path by id is %s, want /z/b/c/f.txt", got)
		}
		if got := ts.readBlob(t, f.BlobKey); string(got) != "deep" {
			t.Errorf("got blob %q, want %q", got, "deep")
		}

		// Renaming by path and renaming the top folder work the same way.
		if _, err := ts.UpdateObject(ctx, b.ID, sesame.ObjectUpdate{ParentPath: ptr("/a"), Name: ptr("b2")}); err != nil {
			t.Fatal(err)
		}
		if _, err := ts.UpdateObject(ctx, a.ID, sesame.ObjectUpdate{Name: ptr("a2")}); err != nil {
			t.Fatal(err)
		}
		if o := ts.byPath(t, "/a2/b2/c/f.txt"); o.ID != f.ID {
			t.Errorf("got %s at /a2/b2/c/f.txt, want %s", o.ID, f.ID)
		}
		ts.wantNoPath(t, "/z/b/c/f.txt")
	})

	t.Run("MoveFolderLeavesLookalikes", func(t *testing.T) {
		// Paths that share a prefix with the moved folder but are not
		// below it stay where they are.
		ts := newTestStore(t)
		ts.putFile(t, "/a", "in.txt", []byte("1"))
		others := []string{"/a-b/x.txt", "/a0/x.txt", "/ab/x.txt", "/a.d/x.txt", "/b/a/x.txt"}
		for _, p := range others {
			i := strings.LastIndex(p, "/")
			ts.putFile(t, p[:i], p[i+1:], []byte(p))
		}
		a := ts.byPath(t, "/a")
		if _, err := ts.UpdateObject(ctx, a.ID, sesame.ObjectUpdate{Name: ptr("q")}); err != nil {
			t.Fatal(err)
		}
		ts.byPath(t, "/q/in.txt")
		for _, p := range others {
			ts.byPath(t, p)
		}
	})

	t.Run("MoveFolderNonASCII", func(t *testing.T) {
		// Regression: SQLite's substr counts characters, and the byte
		// length of a non-ASCII folder path once cut descendants' paths
		// short ("/ä/c.txt" renamed to "/b" became "/bc.txt").
		ts := newTestStore(t)
		for _, tt := range []struct {
			name      string
			file      string // created first, with its folders
			folder    string // the folder to change
			upd       sesame.ObjectUpdate
			wantChild string // where file ends up
		}{
			{"RenameTwoByte", "/ä/c.txt", "/ä", sesame.ObjectUpdate{Name: ptr("b")}, "/b/c.txt"},
			{"RenameThreeByte", "/日本/sub/report.txt", "/日本", sesame.ObjectUpdate{Name: ptr("jp")}, "/jp/sub/report.txt"},
			{"RenameToNonASCII", "/abc/d.txt", "/abc", sesame.ObjectUpdate{Name: ptr("é")}, "/é/d.txt"},
			{"MoveUnderNonASCIIAncestor", "/ö/x/f.txt", "/ö/x", sesame.ObjectUpdate{ParentPath: ptr("/z")}, "/z/x/f.txt"},
			{"MoveIntoNonASCII", "/y/g.txt", "/y", sesame.ObjectUpdate{ParentPath: ptr("/日本語")}, "/日本語/y/g.txt"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				i := strings.LastIndex(tt.file, "/")
				f := ts.putFile(t, tt.file[:i], tt.file[i+1:], []byte(tt.file))
				dir := ts.byPath(t, tt.folder)
				if _, err := ts.UpdateObject(ctx, dir.ID, tt.upd); err != nil {
					t.Fatal(err)
				}
				if got := ts.byID(t, f.ID).Path; got != tt.wantChild {
					t.Errorf("got descendant path %q, want %q", got, tt.wantChild)
				}
				if got := ts.byPath(t, tt.wantChild); got.ID != f.ID {
					t.Errorf("at %s got %s, want %s", tt.wantChild, got.ID, f.ID)
				}
				ts.wantNoPath(t, tt.file)
			})
		}
	})

	t.Run("MoveFolderDescendantPathTooLong", func(t *testing.T) {
		// Regression: MaxPathLen holds for every object, so a move or
		// rename that would push a descendant past it fails and changes
		// nothing. The limit counts characters, not bytes.
		for _, tt := range []struct {
			name string
			char string // the folder's name is made of this
		}{{"ASCII", "d"}, {"TwoByte", "é"}} {
			t.Run(tt.name, func(t *testing.T) {
				ts := newTestStore(t)
				folder := "/" + strings.Repeat(tt.char, 100)
				f := ts.putFile(t, folder, strings.Repeat("f", 150), []byte("x")) // 252 characters
				d := ts.byPath(t, folder)
				unchanged := func(t *testing.T) {
					t.Helper()
					if got := ts.byID(t, f.ID).Path; got != f.Path {
						t.Errorf("descendant's path is %q after the failed update, want it unchanged", got)
					}
					if got := ts.byID(t, d.ID).Path; got != d.Path {
						t.Errorf("folder's path is %q after the failed update, want it unchanged", got)
					}
				}

				deep := ts.mkdir(t, "/", strings.Repeat("e", 10))
				_, err := ts.UpdateObject(ctx, d.ID, sesame.ObjectUpdate{ParentID: &deep.ID}) // 263 characters
				wantErr(t, err, sesame.Invalid, "", "AboveMaxLength")
				unchanged(t)

				_, err = ts.UpdateObject(ctx, d.ID, sesame.ObjectUpdate{Name: ptr(strings.Repeat(tt.char, 105))}) // 257
				wantErr(t, err, sesame.Invalid, "", "AboveMaxLength")
				unchanged(t)

				got, err := ts.UpdateObject(ctx, d.ID, sesame.ObjectUpdate{Name: ptr(strings.Repeat(tt.char, 104))}) // exactly 256
				if err != nil {
					t.Fatalf("rename to a descendant path of exactly %d characters: %v", sesame.MaxPathLen, err)
				}
				child := ts.byID(t, f.ID).Path
				if n := utf8.RuneCountInString(child); n != sesame.MaxPathLen || !strings.HasPrefix(child, got.Path+"/") {
					t.Errorf("got descendant path of %d characters under %q, want %d", n, got.Path, sesame.MaxPathLen)
				}
			})
		}
	})

	t.Run("MoveIntoOwnSubtree", func(t *testing.T) {
		ts := newTestStore(t)
		ts.mkdir(t, "/a/b", "c")
		a, c := ts.byPath(t, "/a"), ts.byPath(t, "/a/b/c")
		_, err := ts.UpdateObject(ctx, a.ID, sesame.ObjectUpdate{ParentID: &a.ID})
		wantErr(t, err, sesame.Invalid, "/parent_id", "")
		_, err = ts.UpdateObject(ctx, a.ID, sesame.ObjectUpdate{ParentID: &c.ID})
		wantErr(t, err, sesame.Invalid, "/parent_id", "")
		_, err = ts.UpdateObject(ctx, a.ID, sesame.ObjectUpdate{ParentPath: ptr("/a/b")})
		wantErr(t, err, sesame.Invalid, "/folder", "")
		_, err = ts.UpdateObject(ctx, a.ID, sesame.ObjectUpdate{ParentPath: ptr("/a/b/new/deeper")})
		wantErr(t, err, sesame.Invalid, "/folder", "")
		ts.wantNoPath(t, "/a/b/new") // the folders the path named were rolled back
		if n := ts.countObjects(t); n != 3 {
			t.Errorf("got %d objects, want 3", n)
		}
		if diff := cmp.Diff(a, ts.byID(t, a.ID)); diff != "" {
			t.Errorf("folder changed (-want +got):\n%s", diff)
		}
		// A sibling whose name starts with the folder's is not inside it.
		ab := ts.mkdir(t, "/", "ab")
		if _, err := ts.UpdateObject(ctx, a.ID, sesame.ObjectUpdate{ParentID: &ab.ID}); err != nil {
			t.Fatalf("move /a into /ab: %v", err)
		}
		ts.byPath(t, "/ab/a/b/c")
	})

	t.Run("Metadata", func(t *testing.T) {
		ts := newTestStore(t)
		f := ts.putFile(t, "/", "f.txt", []byte("x"))
		if f.Metadata != nil {
			t.Fatalf("got metadata %v on a new object, want nil", f.Metadata)
		}
		for _, step := range []struct {
			name string
			upd  sesame.ObjectUpdate
			want map[string]string
		}{
			{"Set", sesame.ObjectUpdate{SetMetadata: true, Metadata: map[string]string{"a": "1", "b": "2"}}, map[string]string{"a": "1", "b": "2"}},
			{"Add", sesame.ObjectUpdate{AddMetadata: map[string]string{"c": "3", "a": "10"}}, map[string]string{"a": "10", "b": "2", "c": "3"}},
			{"RemoveMatchingOnly", sesame.ObjectUpdate{RemoveMetadata: map[string]string{"a": "1", "b": "2"}}, map[string]string{"a": "10", "c": "3"}},
			{"RemoveUnknown", sesame.ObjectUpdate{RemoveMetadata: map[string]string{"zz": "3", "c": ""}}, map[string]string{"a": "10", "c": "3"}},
			{"RemoveMatching", sesame.ObjectUpdate{RemoveMetadata: map[string]string{"a": "10"}}, map[string]string{"c": "3"}},
			{"SetReplaces", sesame.ObjectUpdate{SetMetadata: true, Metadata: map[string]string{"z": "26"}}, map[string]string{"z": "26"}},
			{"Untouched", sesame.ObjectUpdate{Name: ptr("g.txt")}, map[string]string{"z": "26"}},
		} {
			got, err := ts.UpdateObject(ctx, f.ID, step.upd)
			if err != nil {
				t.Fatalf("%s: %v", step.name, err)
			}
			if diff := cmp.Diff(step.want, got.Metadata); diff != "" {
				t.Errorf("%s: returned metadata (-want +got):\n%s", step.name, diff)
			}
			if diff := cmp.Diff(step.want, ts.byID(t, f.ID).Metadata); diff != "" {
				t.Errorf("%s: stored metadata (-want +got):\n%s", step.name, diff)
			}
		}
		got, err := ts.UpdateObject(ctx, f.ID, sesame.ObjectUpdate{SetMetadata: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Metadata) != 0 || len(ts.byID(t, f.ID).Metadata) != 0 {
			t.Errorf("got metadata %v after setting none, want empty", got.Metadata)
		}
	})

	t.Run("MetadataInputNotModified", func(t *testing.T) {
		// The caller's maps are read, never written: with Metadata set
		// and Add/RemoveMetadata in the same update, the store must not
		// apply the additions and removals to the caller's Metadata map.
		ts := newTestStore(t)
		f := ts.putFile(t, "/", "f.txt", []byte("x"))
		set := map[string]string{"a": "1"}
		got, err := ts.UpdateObject(ctx, f.ID, sesame.ObjectUpdate{SetMetadata: true, Metadata: set,
			AddMetadata: map[string]string{"b": "2"}, RemoveMetadata: map[string]string{"a": "1"}})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string]string{"b": "2"}, got.Metadata); diff != "" {
			t.Errorf("metadata (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[string]string{"a": "1"}, set); diff != "" {
			t.Errorf("the caller's Metadata map was changed (-want +got):\n%s", diff)
		}
	})

	t.Run("Tags", func(t *testing.T) {
		ts := newTestStore(t)
		f := ts.putFile(t, "/", "f.txt", []byte("x"))
		if f.Tags != nil {
			t.Fatalf("got tags %v on a new object, want nil", f.Tags)
		}
		got, err := ts.UpdateObject(ctx, f.ID, sesame.ObjectUpdate{AddTags: []string{"first"}})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"first"}, got.Tags); diff != "" {
			t.Errorf("add to none (-want +got):\n%s", diff)
		}
		for _, step := range []struct {
			name string
			upd  sesame.ObjectUpdate
			want []string
		}{
			{"SetDedupes", sesame.ObjectUpdate{SetTags: true, Tags: []string{"b", "a", "b"}}, []string{"b", "a"}},
			{"AddKeepsOrder", sesame.ObjectUpdate{AddTags: []string{"c", "a", "d", "c"}}, []string{"b", "a", "c", "d"}},
			{"Remove", sesame.ObjectUpdate{RemoveTags: []string{"a", "zz"}}, []string{"b", "c", "d"}},
			{"Untouched", sesame.ObjectUpdate{Name: ptr("g.txt")}, []string{"b", "c", "d"}},
			{"SetReplaces", sesame.ObjectUpdate{SetTags: true, Tags: []string{"y", "x"}}, []string{"y", "x"}},
			{"RemoveAll", sesame.ObjectUpdate{RemoveTags: []string{"x", "y"}}, nil},
		} {
			got, err := ts.UpdateObject(ctx, f.ID, step.upd)
			if err != nil {
				t.Fatalf("%s: %v", step.name, err)
			}
			stored := ts.byID(t, f.ID).Tags
			if len(step.want) == 0 {
				// Whether "no tags left" reads back as nil or empty is not the point.
				if len(got.Tags) != 0 || len(stored) != 0 {
					t.Errorf("%s: got tags %q, stored %q; want none", step.name, got.Tags, stored)
				}
				continue
			}
			if diff := cmp.Diff(step.want, got.Tags); diff != "" {
				t.Errorf("%s: returned tags (-want +got):\n%s", step.name, diff)
			}
			if diff := cmp.Diff(step.want, stored); diff != "" {
				t.Errorf("%s: stored tags (-want +got):\n%s", step.name, diff)
			}
		}
	})

	t.Run("OptimisticLock", func(t *testing.T) {
		ts := newTestStore(t)
		f := ts.putFile(t, "/", "f.txt", []byte("x"))
		created := f.Updated

		stale := created.Add(-time.Second)
		_, err := ts.UpdateObject(ctx, f.ID, sesame.ObjectUpdate{Name: ptr("stale"), UpdatedAt: &stale})
		wantErr(t, err, sesame.Conflict, "/updated_at", "")
		ts.byPath(t, "/f.txt")

		// The clock does not move, yet each update moves updated_at on.
		prev := created
		for i, name := range []string{"g.txt", "h.txt", "i.txt"} {
			at := prev.In(time.FixedZone("elsewhere", 3600)) // the same instant in another zone
			got, err := ts.UpdateObject(ctx, f.ID, sesame.ObjectUpdate{Name: &name, UpdatedAt: &at})
			if err != nil {
				t.Fatalf("update %d with a fresh updated_at: %v", i, err)
			}
			if !got.Updated.After(prev) {
				t.Errorf("update %d: updated_at %v does not follow %v", i, got.Updated, prev)
			}
			if stored := ts.byID(t, f.ID).Updated; !stored.Equal(got.Updated) {
				t.Errorf("update %d: stored updated_at %v, returned %v", i, stored, got.Updated)
			}
			if !got.Created.Equal(created) {
				t.Errorf("update %d: created_at moved to %v", i, got.Created)
			}
			// The previous value is now stale.
			_, err = ts.UpdateObject(ctx, f.ID, sesame.ObjectUpdate{Name: ptr("stale"), UpdatedAt: &prev})
			wantErr(t, err, sesame.Conflict, "/updated_at", "")
			prev = got.Updated
		}
		if got := ts.byID(t, f.ID).Name; got != "i.txt" {
			t.Errorf("got name %q, want i.txt", got)
		}

		ts.clock.Advance(time.Hour)
		got, err := ts.UpdateObject(ctx, f.ID, sesame.ObjectUpdate{AddTags: []string{"t"}, UpdatedAt: &prev})
		if err != nil {
			t.Fatal(err)
		}
		if want := ts.clock.Now(); !got.Updated.Equal(want) {
			t.Errorf("got updated_at %v, want the clock's %v", got.Updated, want)
		}
	})
}

func TestStore_DeleteObject(t *testing.T) {
	ctx := context.Background()

	t.Run("File", func(t *testing.T) {
		ts := newTestStore(t)
		f := ts.putFile(t, "/d", "f.txt", []byte("x"))
		keep := ts.putFile(t, "/d", "keep.txt", []byte("k"))
		n, err := ts.DeleteObject(ctx, "", f.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("got %d deleted, want 1", n)
		}
		ts.wantNoBlob(t, f.BlobKey)
		_, err = ts.OpenBlob(ctx, f.BlobKey)
		wantErr(t, err, sesame.NotFound, "", "")
		_, err = ts.ObjectByID(ctx, "", f.ID)
		wantErr(t, err, sesame.NotFound, "/id", "")
		ts.wantNoPath(t, "/d/f.txt")
		if got := ts.readBlob(t, keep.BlobKey); string(got) != "k" {
			t.Errorf("sibling's blob reads %q, want %q", got, "k")
		}
		ts.wantBlobs(t, keep.BlobKey)
		_, err = ts.DeleteObject(ctx, "", f.ID, false)
		wantErr(t, err, sesame.NotFound, "/id", "")
	})

	t.Run("EmptyFolder", func(t *testing.T) {
		ts := newTestStore(t)
		d := ts.mkdir(t, "/", "d")
		n, err := ts.DeleteObject(ctx, "", d.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("got %d deleted, want 1", n)
		}
		ts.wantNoPath(t, "/d")
	})

	t.Run("NonEmptyFolderWithoutForce", func(t *testing.T) {
		ts := newTestStore(t)
		f := ts.putFile(t, "/d/e", "f.txt", []byte("x"))
		d := ts.byPath(t, "/d")
		_, err := ts.DeleteObject(ctx, "", d.ID, false)
		wantErr(t, err, sesame.Conflict, "/force", "")
		ts.byPath(t, "/d")
		ts.byPath(t, "/d/e")
		ts.byPath(t, "/d/e/f.txt")
		if got := ts.readBlob(t, f.BlobKey); string(got) != "x" {
			t.Errorf("blob reads %q, want %q", got, "x")
		}
	})

	t.Run("Force", func(t *testing.T) {
		ts := newTestStore(t)
		f1 := ts.putFile(t, "/top/sub", "f1.txt", []byte("1"))
		f2 := ts.putFile(t, "/top", "f2.txt", []byte("2"))
		ts.mkdir(t, "/top/sub", "deeper")
		// Neighbours whose paths share the prefix survive.
		k1 := ts.putFile(t, "/top2", "keep.txt", []byte("k1"))
		k2 := ts.putFile(t, "/top-x", "keep.txt", []byte("k2"))
		top := ts.byPath(t, "/top")
		n, err := ts.DeleteObject(ctx, "", top.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		if n != 5 { // top, sub, f1, f2, deeper
			t.Errorf("got %d deleted, want 5", n)
		}
		for _, p := range []string{"/top", "/top/sub", "/top/sub/f1.txt", "/top/f2.txt", "/top/sub/deeper"} {
			ts.wantNoPath(t, p)
		}
		for _, f := range []*sesame.Object{f1, f2} {
			ts.wantNoBlob(t, f.BlobKey)
		}
		ts.wantBlobs(t,
			k1.BlobKey,
			k2.BlobKey)
		ts.byPath(t, "/top2/keep.txt")
		ts.byPath(t, "/top-x/keep.txt")
		if got := ts.countObjects(t); got != 4 {
			t.Errorf("got %d objects left, want 4", got)
		}
	})

	t.Run("ForceOnFile", func(t *testing.T) {
		ts := newTestStore(t)
		f := ts.putFile(t, "/", "f.txt", []byte("x"))
		n, err := ts.DeleteObject(ctx, "", f.ID, true)
		if err != nil || n != 1 {
			t.Errorf("got %d, %v; want 1, nil", n, err)
		}
	})
}

func TestStore_ArchiveEntries(t *testing.T) {
	ctx := context.Background()
	type entry struct{ Name, ID string }
	entries := func(t *testing.T, es []sesame.ArchiveEntry) []entry {
		t.Helper()
		out := make([]entry, len(es))
		for i, e := range es {
			out[i] = entry{e.Name, e.Object.ID}
		}
		return out
	}

	t.Run("FolderRecursive", func(t *testing.T) {
		ts := newTestStore(t)
		f := ts.putFile(t, "/x/top/sub", "f.txt", []byte("f"))
		a := ts.putFile(t, "/x/top", "a.txt", []byte("a"))
		ts.putFile(t, "/x", "outside.txt", []byte("o"))
		ts.putFile(t, "/x/top2", "outside.txt", []byte("o"))
		top, sub := ts.byPath(t, "/x/top"), ts.byPath(t, "/x/top/sub")
		got, err := ts.ArchiveEntries(ctx, "", []string{top.ID})
		if err != nil {
			t.Fatal(err)
		}
		want := []entry{{"top/", top.ID}, {"top/a.txt", a.ID}, {"top/sub/", sub.ID}, {"top/sub/f.txt", f.ID}}
		if diff := cmp.Diff(want, entries(t, got)); diff != "" {
			t.Errorf("entries (-want +got):\n%s", diff)
		}
		if got[3].Object.BlobKey != f.BlobKey || got[3].Object.Path != "/x/top/sub/f.txt" {
			t.Errorf("got object %+v for f.txt, want the stored file", got[3].Object)
		}
	})

	t.Run("SameNameTopLevel", func(t *testing.T) {
		ts := newTestStore(t)
		a1 := ts.putFile(t, "/x", "a.txt", []byte("1"))
		a2 := ts.putFile(t, "/y", "a.txt", []byte("2"))
		a3 := ts.putFile(t, "/z", "a.txt", []byte("3"))
		d1 := ts.putFile(t, "/x/docs", "r.md", []byte("r"))
		d2 := ts.putFile(t, "/y/docs", "r.md", []byte("r"))
		docs1, docs2 := ts.byPath(t, "/x/docs"), ts.byPath(t, "/y/docs")
		got, err := ts.ArchiveEntries(ctx, "", []string{a1.ID, a2.ID, docs1.ID, docs2.ID, a3.ID})
		if err != nil {
			t.Fatal(err)
		}
		want := []entry{
			{"a.txt", a1.ID}, {"a (1).txt", a2.ID},
			{"docs/", docs1.ID}, {"docs/r.md", d1.ID},
			{"docs (1)/", docs2.ID}, {"docs (1)/r.md", d2.ID},
			{"a (2).txt", a3.ID},
		}
		if diff := cmp.Diff(want, entries(t, got)); diff != "" {
			t.Errorf("entries (-want +got):\n%s", diff)
		}
	})

	t.Run("DuplicateIDs", func(t *testing.T) {
		ts := newTestStore(t)
		f := ts.putFile(t, "/", "f.txt", []byte("f"))
		g := ts.putFile(t, "/d", "g.txt", []byte("g"))
		d := ts.byPath(t, "/d")
		got, err := ts.ArchiveEntries(ctx, "", []string{f.ID, d.ID, f.ID, g.ID, d.ID})
		if err != nil {
			t.Fatal(err)
		}
		want := []entry{{"f.txt", f.ID}, {"d/", d.ID}, {"d/g.txt", g.ID}}
		if diff := cmp.Diff(want, entries(t, got)); diff != "" {
			t.Errorf("entries (-want +got):\n%s", diff)
		}
	})

	t.Run("UnknownID", func(t *testing.T) {
		ts := newTestStore(t)
		f := ts.putFile(t, "/", "f.txt", []byte("f"))
		got, err := ts.ArchiveEntries(ctx, "", []string{f.ID, f.ID, sesame.NewID(sesame.PrefixObject)})
		wantErr(t, err, sesame.NotFound, "/ids/2", "DoesNotExist")
		if got != nil {
			t.Errorf("got entries %v with the error, want nil", got)
		}
		_, err = ts.ArchiveEntries(ctx, "", []string{"not-an-id"})
		wantErr(t, err, sesame.NotFound, "/ids/0", "")
	})
}

func TestStore_ObjectByPath(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	f := ts.putFile(t, "/a/b", "c.txt", []byte("x"))
	for _, p := range []string{"/a/b/c.txt", "a/b/c.txt", "/a/b/c.txt/"} {
		if got := ts.byPath(t, p); got.ID != f.ID {
			t.Errorf("ObjectByPath(%q) = %s, want %s", p, got.ID, f.ID)
		}
	}
	for _, tt := range []struct {
		name, path string
		kind       sesame.Kind
	}{
		{"Missing", "/a/b/d.txt", sesame.NotFound},
		{"CaseDiffers", "/A/b/c.txt", sesame.NotFound},
		{"Root", "/", sesame.Invalid},
		{"Empty", "", sesame.Invalid},
		{"DotDot", "/a/b/../b/c.txt", sesame.Invalid},
		{"DoubleSlash", "/a//b/c.txt", sesame.Invalid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ts.ObjectByPath(ctx, "", tt.path)
			wantErr(t, err, tt.kind, "/path", "")
		})
	}
	_, err := ts.ObjectByID(ctx, "", sesame.NewID(sesame.PrefixObject))
	wantErr(t, err, sesame.NotFound, "/id", "DoesNotExist")
}
