package gateway_test

import (
	"archive/zip"
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestPortal_ProtectedFile: a recipient of a link to a password-protected
// file is asked for the file's password once in their visit, on the
// file's card or wherever they open it; wrong passwords count against
// their address as wrong sign-ins do; once it is given, the download
// (with Range), the viewer and the ZIP work, and a new visit asks again.
func TestPortal_ProtectedFile(t *testing.T) {
	t.Parallel()
	e := newPortalEnv(t)
	text := []byte("The plan: meet at the old mill at noon, and bring the map.\n")
	f := e.putProtected("plan.txt", text, map[string]any{"password": "file-pw"})
	l := e.createLinks(map[string]any{"targets": []string{f.ID}, "authenticators": []any{pw(goodPassword)}})[0]
	base := e.base(l)
	v := e.visitor()
	v.signIn(l, goodPassword)

	card := v.Get(base)
	form := card.Form(`form[action$="/unlock"]`)
	if card.Code != http.StatusOK || form == nil || card.Has("a[download]") || !strings.Contains(card.Text(), "Password-protected") {
		t.Fatalf("the card of a protected file: %s", card)
	}
	for path, want := range map[string]string{
		"/f/" + f.ID: base + "/unlock/" + f.ID,
		"/v/" + f.ID: base + "/unlock/" + f.ID + "?next=view",
	} {
		if p := v.Get(base + path); p.Code != http.StatusSeeOther || p.Header.Get("Location") != want {
			t.Errorf("GET %s before the password: %s, want a redirect to %s", path, p, want)
		}
	}
	viewer := v.Get(base + "/view/" + f.ID)
	if viewer.Code != http.StatusOK || !viewer.Has(`form[action$="/unlock"] input[name=password]`) || viewer.Value("next") != "view" ||
		strings.Contains(viewer.Text(), "old mill") {
		t.Errorf("the viewer before the password: %s", viewer)
	}
	if p := v.Get(base + "/th/" + f.ID); p.Code != http.StatusNotFound {
		t.Errorf("thumbnail of a protected file: %d", p.Code)
	}
	if p := v.Get(base + "/zip"); p.Code != http.StatusForbidden || !strings.Contains(p.Text(), "protected by a password") {
		t.Errorf("ZIP before the password: %s", p)
	}

	// Wrong passwords: the same answer each time, then the address waits,
	// as after wrong sign-ins (a new visitor from it too).
	for i := range 3 {
		p := v.Submit(card, form, url.Values{"password": {"not-it"}})
		if p.Code != http.StatusUnauthorized || !strings.Contains(p.Text(), "That password does not open this file.") || !p.Has("input[name=password]") {
			t.Fatalf("wrong password %d: %s", i+1, p)
		}
	}
	if p := v.Submit(card, form, url.Values{"password": {"file-pw"}}); p.Code != http.StatusTooManyRequests || p.Header.Get("Retry-After") == "" {
		t.Fatalf("a fourth try at once: %s, want 429", p)
	}
	if p := e.visitor().password(l, 0, goodPassword); p.Code != http.StatusTooManyRequests {
		t.Errorf("a sign-in from the same address during the wait: %s, want 429", p)
	}
	e.clock.Add(2 * time.Second)

	if p := v.Submit(card, form, url.Values{"password": {"file-pw"}}); p.Code != http.StatusSeeOther || p.Header.Get("Location") != base {
		t.Fatalf("right password: %s", p)
	}
	card = v.Get(base)
	if a := card.First("a[download]"); card.Has(`form[action$="/unlock"]`) || a == nil || a.Attr("href") != base+"/f/"+f.ID {
		t.Fatalf("the card once unlocked: %s", card)
	}
	if p := v.Get(base + "/f/" + f.ID); p.Code != http.StatusOK || !bytes.Equal(p.Body, text) {
		t.Errorf("download: %s", p)
	}
	if p := v.Get(base+"/f/"+f.ID, "Range", "bytes=10-19"); p.Code != http.StatusPartialContent || !bytes.Equal(p.Body, text[10:20]) {
		t.Errorf("Range: %s", p)
	}
	if p := v.Get(base + "/view/" + f.ID); p.Code != http.StatusOK || !strings.Contains(p.Text(), "meet at the old mill") {
		t.Errorf("viewer: %s", p)
	}
	if p := v.Get(base + "/v/" + f.ID); p.Code != http.StatusOK || !bytes.Equal(p.Body, text) {
		t.Errorf("inline preview: %s", p)
	}
	z := v.Get(base + "/zip")
	if z.Code != http.StatusOK {
		t.Fatalf("ZIP: %s", z)
	}
	if got := zipMember(t, z.Body, "plan.txt"); !bytes.Equal(got, text) {
		t.Errorf("ZIP member: %q", got)
	}

	// A new visit asks again.
	v2 := e.visitor()
	v2.signIn(l, goodPassword)
	if p := v2.Get(base + "/f/" + f.ID); p.Code != http.StatusSeeOther {
		t.Errorf("another visit: %s, want the password form", p)
	}

	var outcomes []string
	for _, ev := range e.linkAudit(l.ID) {
		if ev.Action == "file.unlock" {
			outcomes = append(outcomes, ev.Outcome)
			if ev.ObjectID != f.ID {
				t.Errorf("file.unlock event names %q, want %s", ev.ObjectID, f.ID)
			}
		}
	}
	if strings.Join(outcomes, ",") != "failure:401,failure:401,failure:401,success" {
		t.Errorf("file.unlock outcomes %v", outcomes)
	}
}

// In a folder, a protected file is marked and leads to its password form;
// once unlocked it lists as a download; the folder's ZIP waits for it.
func TestPortal_ProtectedFileInFolder(t *testing.T) {
	t.Parallel()
	e := newPortalEnv(t)
	f := e.putProtected("locked.txt", []byte("locked text"), map[string]any{"password": "pw"})
	open := e.upload("/vault", "open.txt", []byte("open text"))
	l := e.createLinks(map[string]any{"targets": []string{f.ParentID}, "authenticators": []any{pw(goodPassword)}})[0]
	base := e.base(l)
	v := e.visitor()
	v.signIn(l, goodPassword)
	folder := base + "/d/" + f.ParentID

	list := v.Get(folder)
	row := func(p *portalPage, name string) string {
		for _, tr := range p.Find("tbody tr") {
			if strings.Contains(tr.Text(), name) {
				a := tr.First("td.name a")
				return a.Attr("href") + "|" + a.Attr("download") + "|" + tr.Text()
			}
		}
		t.Fatalf("no row for %s: %s", name, p)
		return ""
	}
	if r := row(list, "locked.txt"); !strings.HasPrefix(r, base+"/unlock/"+f.ID+"||") || !strings.Contains(r, "Password-protected") {
		t.Errorf("locked row: %q", r)
	}
	if r := row(list, "open.txt"); !strings.HasPrefix(r, base+"/f/"+open.ID+"|") || strings.Contains(r, "Password-protected") {
		t.Errorf("open row: %q", r)
	}
	if p := v.Get(base + "/zip?id=" + f.ParentID); p.Code != http.StatusForbidden {
		t.Errorf("folder ZIP before the password: %s", p)
	}

	unlock := v.Get(base + "/unlock/" + f.ID)
	done := v.Submit(unlock, unlock.Form(`form[action$="/unlock"]`), url.Values{"password": {"pw"}})
	if done.Code != http.StatusSeeOther || done.Header.Get("Location") != folder {
		t.Fatalf("unlock: %s, want a redirect to the folder", done)
	}
	if r := row(v.Get(folder), "locked.txt"); !strings.HasPrefix(r, base+"/f/"+f.ID+"|") || !strings.Contains(r, "Password-protected") {
		t.Errorf("unlocked row: %q", r)
	}
	z := v.Get(base + "/zip?id=" + f.ParentID)
	if z.Code != http.StatusOK || string(zipMember(t, z.Body, "vault/locked.txt")) != "locked text" {
		t.Errorf("folder ZIP after the password: %s", z)
	}
	// Once open, the form page leads straight back.
	if p := v.Get(base + "/unlock/" + f.ID); p.Code != http.StatusSeeOther || p.Header.Get("Location") != folder {
		t.Errorf("the password form of an open file: %s", p)
	}
}

// zipMember returns the bytes of the member name of the ZIP in data.
func zipMember(t *testing.T, data []byte, name string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("not a ZIP: %v", err)
	}
	var names []string
	for _, m := range zr.File {
		names = append(names, m.Name)
		if m.Name != name {
			continue
		}
		r, err := m.Open()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	t.Fatalf("no member %s among %v", name, names)
	return nil
}
