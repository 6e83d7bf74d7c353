package gateway_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"database/sql"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/internal/testrig"
	"github.com/sesame-share/sesame/store"
)

// unsafeNames are names an extractor or a reader can be fooled by: a
// Windows path, a drive letter and characters that change text direction
// (so "invoice\u202Efdp.exe" shows as "invoiceexe.pdf").
var unsafeNames = []string{`..\..\evil.bat`, `C:\x.txt`, `a\b`, "invoice\u202Efdp.exe", "a\u202Ab", "a\u202Cb",
	"a\u2066b", "a\u2067b", "a\u2068b", "a\u2069b", "a\u200eb", "a\u200fb", "a\u0085b"}

// Every way the API takes a name refuses unsafe ones, pointing at the
// field.
func TestAPI_NameRule(t *testing.T) {
	e := newTestEnv(t)
	f := e.upload("/names", "ok.txt", []byte("ok"))
	for _, name := range unsafeNames {
		t.Run(name, func(t *testing.T) {
			wantError(t, e.put("/v1/put", map[string]any{"folder": "/names", "name": name}, []byte("x")),
				http.StatusBadRequest, "ValidationError", "DoesNotMatchPattern", "/name")
			wantError(t, e.put("/v1beta/put", map[string]any{"path": "/names/" + name}, []byte("x")),
				http.StatusBadRequest, "ValidationError", "DoesNotMatchPattern", "/path")
			wantError(t, e.post("/v1/folder/create", map[string]any{"folder": "/names/", "name": name}),
				http.StatusBadRequest, "ValidationError", "DoesNotMatchPattern", "/name")
			wantError(t, e.post("/v1/update", map[string]any{"id": f.ID, "name": name}),
				http.StatusBadRequest, "ValidationError", "DoesNotMatchPattern", "/name")
		})
	}
	r := e.post("/v1/list", map[string]any{"filter": map[string]any{"folder": "/names"}})
	mustOK(t, r)
	var res struct {
		Objects []object `json:"objects"`
	}
	r.Into(t, &res)
	if len(res.Objects) != 1 || res.Objects[0].Name != "ok.txt" {
		t.Errorf("the folder holds %+v, want only ok.txt", res.Objects)
	}
}

// MCP tools take names through the same rule.
func TestMCP_NameRule(t *testing.T) {
	e := newTestEnv(t)
	cs := e.mcpSession(t, e.newToken(sesame.ScopeObjectsRead, sesame.ScopeObjectsWrite))
	for _, name := range []string{"invoice\u202Efdp", `a\b`} {
		res := call(t, cs, "folder_create", map[string]any{"path": "/mcp/" + name}, nil)
		if !res.IsError || !strings.Contains(testrig.ToolText(res), "must not contain") {
			t.Errorf("folder_create %q: error %v, %q; want a refusal", name, res.IsError, testrig.ToolText(res))
		}
	}
}

// renameStored changes an object's stored name behind the store's back,
// as rows written before the name rule refused backslashes look.
func renameStored(t *testing.T, e *testEnv, id, name string) {
	t.Helper()
	db, err := sql.Open("sqlite3", store.DSN(filepath.Join(e.st.DataDir(), "sesame.db")))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.Exec(`UPDATE objects SET name = ?, path = substr(path, 1, length(path) - length(name)) || ? WHERE id = ?`, name, name, id)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("renamed %d rows, want 1", n)
	}
}

// archiveNames lists the member names of a zip or tar.
func archiveNames(t *testing.T, format string, body []byte) []string {
	t.Helper()
	var names []string
	switch format {
	case "zip":
		zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
		if err != nil {
			t.Fatalf("not a zip: %v", err)
		}
		for _, f := range zr.File {
			names = append(names, f.Name)
		}
	case "tar":
		tr := tar.NewReader(bytes.NewReader(body))
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("not a tar: %v", err)
			}
			names = append(names, h.Name)
		}
	}
	sort.Strings(names)
	return names
}

// Names stored before the rule (with backslashes, a drive letter or a
// direction override) come out of archives as safe relative names.
func TestGetArchive_SafeEntryNames(t *testing.T) {
	e := newTestEnv(t)
	top := e.mkdir("/old")
	evil := e.upload("/old", "evil.bat", []byte("@echo off"))
	renameStored(t, e, evil.ID, `..\..\evil.bat`)
	bidi := e.upload("/old", "bidi.exe", []byte("MZ"))
	renameStored(t, e, bidi.ID, "invoice\u202Efdp.exe")
	sub := e.mkdir("/old/sub")
	renameStored(t, e, sub.ID, `C:\sub`)
	drive := e.upload("/", "drive.txt", []byte("x"))
	renameStored(t, e, drive.ID, `C:\x.txt`)

	want := []string{"C__x.txt", "old/", "old/.._.._evil.bat", "old/C__sub/", "old/invoice_fdp.exe"}
	for _, format := range []string{"zip", "tar"} {
		t.Run(format, func(t *testing.T) {
			_, parts := multipartReply(t, e.post("/v1/get_archive", map[string]any{"ids": []string{top.ID, drive.ID}, "format": format}))
			if len(parts) != 1 {
				t.Fatalf("got %d file parts, want 1", len(parts))
			}
			got := archiveNames(t, format, parts[0].Body)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("member names (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("ArchiveName", func(t *testing.T) {
		renameStored(t, e, top.ID, `..\top`)
		_, parts := multipartReply(t, e.post("/v1/get_archive", map[string]any{"ids": []string{top.ID}}))
		if got := parts[0].FileName; got != "top.zip" {
			t.Errorf("archive name %q, want top.zip", got)
		}
	})
}

// The recipient pages sanitise uploaded names and refuse unsafe new ones.
func TestPortal_NameRule(t *testing.T) {
	e := newPortalEnv(t, portalCheapPasswords)
	ed := e.mkdir("/ed")
	a := e.upload("/ed", "a.txt", []byte("a"))
	l := e.createLinks(map[string]any{"targets": []string{ed.ID}, "link_type": "editor", "authenticators": []any{pw(goodPassword)}})[0]
	base := e.base(l)
	v := e.visitor()
	v.signIn(l, goodPassword)
	csrf := v.csrf(base + "/d/" + ed.ID)

	p := v.upload(l, csrf, ed.ID, "application/json",
		portalFile{`..\..\evil.bat`, []byte("@echo off")},
		portalFile{"invoice\u202Efdp.exe", []byte("MZ")},
		portalFile{"\u2066report\u2069\u200f.txt", []byte("r")})
	if p.Code != http.StatusOK {
		t.Fatalf("upload: %s", p)
	}
	want := []string{"a.txt", "evil.bat", "invoicefdp.exe", "report.txt"}
	if diff := cmp.Diff(want, e.childNames(ed.ID)); diff != "" {
		t.Errorf("stored names (-want +got):\n%s", diff)
	}

	for _, name := range []string{"invoice\u202Efdp.exe", "a\u2066b", `C:\x.txt`} {
		r := v.Post(base+"/rename", url.Values{"csrf": {csrf}, "id": {a.ID}, "name": {name}})
		if r.Code != http.StatusBadRequest || !strings.Contains(r.Text(), "text-direction") {
			t.Errorf("rename to %q: %s", name, r)
		}
		r = v.Post(base+"/mkdir", url.Values{"csrf": {csrf}, "folder": {ed.ID}, "name": {name}})
		if r.Code != http.StatusBadRequest {
			t.Errorf("mkdir %q: %s", name, r)
		}
	}
	if diff := cmp.Diff(want, e.childNames(ed.ID)); diff != "" {
		t.Errorf("names after refused renames (-want +got):\n%s", diff)
	}
}
