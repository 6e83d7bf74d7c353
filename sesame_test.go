package sesame_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame"
)

func TestKindOf(t *testing.T) {
	base := &sesame.Error{Kind: sesame.NotFound, Message: "No such thing.", Err: errors.New("sql: no rows")}
	for _, tt := range []struct {
		name string
		err  error
		want sesame.Kind
	}{
		{"Plain", base, sesame.NotFound},
		{"Wrapped", fmt.Errorf("store: get: %w", base), sesame.NotFound},
		{"Joined", errors.Join(errors.New("x"), base), sesame.NotFound},
		{"Foreign", errors.New("boom"), sesame.Internal},
		{"Nil", nil, sesame.Internal},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := sesame.KindOf(tt.err); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
	if !errors.Is(fmt.Errorf("w: %w", base), base.Err) {
		t.Fatal("Unwrap does not reach the cause")
	}
	if got := base.Error(); got != "not found: No such thing.: sql: no rows" {
		t.Fatalf("Error() = %q", got)
	}
}

func TestFieldErr(t *testing.T) {
	e := sesame.FieldErr("FieldRequired", "/links/0/targets", "%s is required", "targets")
	want := []sesame.FieldError{{Code: "FieldRequired", Detail: "targets is required", Source: "/links/0/targets"}}
	if diff := cmp.Diff(want, e.Fields); diff != "" || e.Kind != sesame.Invalid {
		t.Fatalf("kind %v; fields (-want +got):\n%s", e.Kind, diff)
	}
	if c := e.WithKind(sesame.Conflict); c.Kind != sesame.Conflict || e.Kind != sesame.Invalid {
		t.Fatal("WithKind must copy")
	}
}

func TestCheckName(t *testing.T) {
	for _, tt := range []struct {
		name, in, code string
	}{
		{"OK", "report (1).pdf", ""},
		{"Unicode", "résumé 履歴書.txt", ""},
		{"Empty", "", "FieldRequired"},
		{"Slash", "a/b", "DoesNotMatchPattern"},
		{"Dot", ".", "DoesNotMatchPattern"},
		{"DotDot", "..", "DoesNotMatchPattern"},
		{"NUL", "a\x00b", "DoesNotMatchPattern"},
		{"Newline", "a\nb", "DoesNotMatchPattern"},
		{"DEL", "a\x7fb", "DoesNotMatchPattern"},
		{"BadUTF8", "a\xffb", "InvalidString"},
		{"TooLong", strings.Repeat("x", 256), "AboveMaxLength"},
		{"Colon", "a:b.txt", ""},
		{"ArabicAndHebrew", "تقرير שלום.pdf", ""},
		{"ZeroWidthJoiner", "👩\u200d💻.png", ""},
		{"Backslash", `a\b`, "DoesNotMatchPattern"},
		{"BackslashTraversal", `..\..\evil.bat`, "DoesNotMatchPattern"},
		{"DriveLetter", `C:\x.txt`, "DoesNotMatchPattern"},
		{"C1Control", "a\u0085b", "DoesNotMatchPattern"},
		{"LineSeparator", "a\u2028b", "DoesNotMatchPattern"},
		{"RightToLeftOverride", "invoice\u202Efdp.exe", "DoesNotMatchPattern"},
		{"LeftToRightEmbedding", "a\u202Ab", "DoesNotMatchPattern"},
		{"PopDirectionalFormatting", "a\u202Cb", "DoesNotMatchPattern"},
		{"LeftToRightIsolate", "a\u2066b", "DoesNotMatchPattern"},
		{"PopDirectionalIsolate", "a\u2069b", "DoesNotMatchPattern"},
		{"LeftToRightMark", "a\u200eb", "DoesNotMatchPattern"},
		{"RightToLeftMark", "a\u200fb", "DoesNotMatchPattern"},
		{"ArabicLetterMark", "a\u061cb", "DoesNotMatchPattern"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := sesame.CheckName("/name", tt.in)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			e := sesame.AsError(err)
			if e == nil || e.Kind != sesame.Invalid || e.Fields[0].Code != tt.code || e.Fields[0].Source != "/name" {
				t.Fatalf("got %v, want %s at /name", err, tt.code)
			}
		})
	}
}

// SanitizeName turns what a browser sends into a name CheckName accepts.
func TestSanitizeName(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"report.pdf", "report.pdf"},
		{`..\..\evil.bat`, "evil.bat"},
		{"../../etc/passwd", "passwd"},
		{`C:\x.txt`, "x.txt"},
		{"C:x.txt", "C_x.txt"},
		{"invoice\u202Efdp.exe", "invoicefdp.exe"},
		{"\u2066a\u2069\u200e\u200f.txt", "a.txt"},
		{"a\u2028b\x00c", "abc"},
		{"CON.txt", "_CON.txt"},
		{"\u202E", "file"},
	} {
		got := sesame.SanitizeName(tt.in)
		if got != tt.want {
			t.Errorf("SanitizeName(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if err := sesame.CheckName("/name", got); err != nil {
			t.Errorf("CheckName(SanitizeName(%q)): %v", tt.in, err)
		}
	}
}

// ArchivePath gives archive members relative, forward-slash names that no
// extractor can take outside the folder it extracts into.
func TestArchivePath(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"proj/src/main.go", "proj/src/main.go"},
		{"proj/empty/", "proj/empty/"},
		{`..\..\evil.bat`, ".._.._evil.bat"},
		{`dir/..\x`, "dir/.._x"},
		{`C:\x.txt`, "C__x.txt"},
		{"c:x.txt", "c_x.txt"},
		{"a/D:/b", "a/D_/b"},
		{"/abs/path.txt", "abs/path.txt"},
		{"../up/./x", "__/up/_/x"},
		{"a//b", "a/b"},
		{"invoice\u202Efdp.exe", "invoice_fdp.exe"},
		{"bell\x07/\xff.txt", "bell_/_.txt"},
		{"folder\\/", "folder_/"},
		{"", "_"},
	} {
		if got := sesame.ArchivePath(tt.in); got != tt.want {
			t.Errorf("ArchivePath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSplitPath(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
		bad  bool
	}{
		{"", nil, false},
		{"/", nil, false},
		{"/a/b/", []string{"a", "b"}, false},
		{"a/b", []string{"a", "b"}, false},
		{"/a//b", nil, true},
		{"/a/../b", nil, true},
		{"/" + strings.Repeat("a", 300), nil, true},
	} {
		got, err := sesame.SplitPath("/path", tt.in)
		if (err != nil) != tt.bad {
			t.Errorf("SplitPath(%q) error %v, want bad=%v", tt.in, err, tt.bad)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("SplitPath(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := sesame.NewID(sesame.PrefixObject)
		if !sesame.ValidID(sesame.PrefixObject, id) || len(id) != 36 || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		seen[id] = true
	}
	for _, bad := range []string{"pos_", "psl_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "pos_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "pos_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1"} {
		if sesame.ValidID(sesame.PrefixObject, bad) {
			t.Errorf("ValidID(%q) = true", bad)
		}
	}
}

func TestTokenHas(t *testing.T) {
	tok := &sesame.Token{Scopes: []sesame.Scope{sesame.ScopeObjectsRead}}
	if !tok.Has(sesame.ScopeObjectsRead) || tok.Has(sesame.ScopeObjectsWrite) {
		t.Fatal("plain scope check")
	}
	admin := &sesame.Token{Scopes: []sesame.Scope{sesame.ScopeAdmin}}
	for _, s := range sesame.Scopes {
		if !admin.Has(s) {
			t.Errorf("admin lacks %s", s)
		}
	}
}

func TestCheckMetaTags_ReportsEveryProblem(t *testing.T) {
	err := sesame.CheckMetaTags("/", map[string]string{"": "x", "a/b": strings.Repeat("v", 1025)}, []string{"ok", ""})
	e := sesame.AsError(err)
	if e == nil || e.Kind != sesame.Invalid {
		t.Fatalf("got %v, want Invalid", err)
	}
	var got []string
	for _, f := range e.Fields {
		got = append(got, f.Code+" "+f.Source)
	}
	want := []string{"InvalidPropertyName /metadata/", "AboveMaxLength /metadata/a~1b", "BelowMinLength /tags/1"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
}
