package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/authenticators"
	"github.com/sesame-share/sesame/internal/testrig"
	"github.com/sesame-share/sesame/store"
)

// exportSource makes an instance in dir with a file, an admin token and a
// download link to the file behind a password; it returns the file, the
// token's secret and the link.
func exportSource(t *testing.T, dir, password string) (*sesame.Object, string, *sesame.Link) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	up, err := st.Stage(ctx, strings.NewReader("the report"), "report.txt", 0)
	if err != nil {
		t.Fatal(err)
	}
	o, err := st.CreateFile(ctx, sesame.FileCreate{Placement: sesame.Placement{HasParentID: true, ParentID: sesame.RootParentID, Name: "report.txt"}}, up)
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := st.CreateToken(ctx, "ci", []sesame.Scope{sesame.ScopeAdmin}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	hash, err := authenticators.NewPassword().Hash(ctx, password)
	if err != nil {
		t.Fatal(err)
	}
	max := 10
	links, err := st.CreateLinks(ctx, []sesame.LinkCreate{{Type: sesame.LinkDownload, Targets: []string{o.ID}, Expires: time.Now().Add(time.Hour), MaxAccessCount: &max}},
		[][]sesame.LinkAuthenticator{{{ID: sesame.NewID("lau_"), Type: sesame.AuthPassword, Context: hash}}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return o, secret, links[0]
}

// TestExportImport runs sesame export and sesame import: the file export
// writes imports into an empty data directory, a second import there is
// refused, and so is one with another master key; a server on the copy
// takes the exported token, opens the exported link with its password and
// serves the file's bytes.
func TestExportImport(t *testing.T) {
	root := t.TempDir()
	src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
	const password = "correct horse battery"
	file, secret, link := exportSource(t, src, password)

	archive := filepath.Join(root, "backup.tar")
	_, stderr, err := runCLI(t, "export", "--data", src, "--out", archive)
	if err != nil || !strings.Contains(stderr, "exported") || !strings.Contains(stderr, "1 file's contents") {
		t.Fatalf("export --out: %v, stderr %q", err, stderr)
	}
	if ents, _ := filepath.Glob(filepath.Join(root, ".backup.tar.partial-*")); len(ents) > 0 {
		t.Errorf("export left %v", ents)
	}
	out, _, err := runCLI(t, "export", "--data", src)
	if err != nil || !strings.HasPrefix(out, "sesame-export.json\x00") {
		t.Fatalf("export to stdout: %v, %d bytes starting %q", err, len(out), out[:min(len(out), 20)])
	}

	// Another key: refused, and nothing made.
	other := filepath.Join(root, "other.key")
	if err := os.WriteFile(other, store.NewMasterKey(), 0o600); err != nil {
		t.Fatal(err)
	}
	var o, e strings.Builder
	err = run(t.Context(), []string{"import", "--data", dst, "--in", archive}, []string{"SESAME_SECRET_KEY_FILE=" + other}, &o, &e)
	if err == nil || !strings.Contains(err.Error(), "fingerprint") || !strings.Contains(err.Error(), "SESAME_SECRET_KEY_FILE") {
		t.Errorf("import with another key: %v", err)
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Errorf("a refused import made %s (stat: %v)", dst, err)
	}

	if err := os.MkdirAll(dst, 0o700); err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(filepath.Join(src, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dst, "secret.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, err = runCLI(t, "import", "--data", dst, "--in", archive)
	if err != nil {
		t.Fatalf("import: %v (stderr %q)", err, stderr)
	}
	for _, want := range []string{"api_tokens           1 rows", "objects              1 rows", "links                1 rows", "blobs                1 (10 bytes)"} {
		if !strings.Contains(out, want) {
			t.Errorf("import summary lacks %q:\n%s", want, out)
		}
	}
	if _, _, err := runCLI(t, "import", "--data", dst, "--in", archive); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("second import: %v, want a refusal of a target that is not empty", err)
	}
	if _, stderr, err := runCLI(t, "check", "--data", dst); err != nil {
		t.Errorf("check on the copy: %v (%s)", err, stderr)
	}
	wantServed(t, dst, secret, link, file, password)
}

// wantServed serves dir and fails unless the token lists the file and the
// link, opened with its password, serves the file's bytes.
func wantServed(t *testing.T, dir, secret string, link *sesame.Link, file *sesame.Object, password string) {
	t.Helper()
	srv := startServe(t, dir)
	req, err := http.NewRequest(http.MethodPost, srv.base+"/v1/list", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body) // a short read shows in the check below
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(file.ID)) {
		t.Errorf("list with the exported token: %d %s", resp.StatusCode, body)
	}
	v := testrig.NewVisitor(t, srv.base, nil)
	page := v.Get("/s/" + link.Token)
	signedIn := v.Submit(page, page.Form(`form[action$="/password"]`), url.Values{"password": {password}})
	if signedIn.Code != http.StatusSeeOther {
		t.Fatalf("sign in on the exported link: %s", signedIn)
	}
	got := v.Get(fmt.Sprintf("/s/%s/f/%s", link.Token, file.ID))
	if got.Code != http.StatusOK || got.Text() != "the report" {
		t.Errorf("the file through the exported link: %d %q", got.Code, got.Text())
	}
}

// TestExportRefuses: export of a data directory without a database makes
// nothing and says so; import of a missing or empty file fails.
func TestExportRefuses(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "none")
	if _, _, err := runCLI(t, "export", "--data", dir, "--out", filepath.Join(t.TempDir(), "x.tar")); err == nil || !strings.Contains(err.Error(), "no sesame database") {
		t.Errorf("export of nothing: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("export of nothing made %s (stat: %v)", dir, err)
	}
	if _, _, err := runCLI(t, "import", "--data", dir, "--in", filepath.Join(t.TempDir(), "missing.tar")); err == nil {
		t.Error("import of a missing file: no error")
	}
	_, _, err := runCLI(t, "import", "--data", dir, "--in", os.DevNull)
	if err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("import of nothing: %v", err)
	}
}
