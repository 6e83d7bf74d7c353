package gateway_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// A link to one file opens on that file's card, with one Download.
func TestPortal_OneFileLinkShowsItsCard(t *testing.T) {
	t.Parallel()
	e := newPortalEnv(t, portalCheapPasswords)
	f := e.upload("/one", "report.txt", []byte("twelve bytes"))
	l := e.createLinks(map[string]any{"targets": []string{f.ID}, "authenticators": []any{pw(goodPassword)}})[0]
	base := e.base(l)
	v := e.visitor()
	v.signIn(l, goodPassword)

	p := v.Get(base)
	card := p.First(".filecard")
	if p.Code != http.StatusOK || card == nil || p.Has("table.files") {
		t.Fatalf("one-file link: want the file's card and no table: %s", p)
	}
	if got := p.First(".fname").Text(); got != "report.txt" {
		t.Errorf("card name: %q", got)
	}
	if meta := card.Text(); !strings.Contains(meta, "12 B") || !strings.Contains(meta, "text/plain") {
		t.Errorf("card details: %q, want the size and type", meta)
	}
	dl := p.First(`.filecard a.primary`)
	if dl == nil || dl.Attr("href") != base+"/f/"+f.ID || !dl.HasAttr("download") || dl.Text() != "Download" {
		t.Fatalf("card's Download button: %v", dl)
	}
	if got := v.Get(dl.Attr("href")); got.Code != http.StatusOK || string(got.Body) != "twelve bytes" {
		t.Errorf("one click downloads the file: %s", got)
	}
	if p.Has(`a[href="` + base + `/zip"]`) {
		t.Error("a one-file link offers a ZIP")
	}
}

// A link to one folder opens in it; its download button says what it
// fetches, and a subfolder's fetches that subfolder only.
func TestPortal_OneFolderLinkAndFolderDownloads(t *testing.T) {
	t.Parallel()
	e := newPortalEnv(t, portalCheapPasswords)
	top := e.mkdir("/pack")
	e.upload("/pack", "a.txt", []byte("aaaa"))
	e.upload("/pack", "b.txt", []byte("bbbbbb"))
	sub := e.mkdir("/pack/sub")
	e.upload("/pack/sub", "c.txt", []byte("cc"))
	e.upload("/pack/sub/deeper", "d.txt", []byte("ddd"))
	l := e.createLinks(map[string]any{"targets": []string{top.ID}, "authenticators": []any{pw(goodPassword)}})[0]
	base := e.base(l)
	v := e.visitor()
	v.signIn(l, goodPassword)

	p := v.Get(base)
	if p.Code != http.StatusSeeOther || p.Header.Get("Location") != base+"/d/"+top.ID {
		t.Fatalf("a one-folder link opens its folder: %s", p)
	}
	p = v.Get(base + "/d/" + top.ID)
	names := p.Find("table.files td.name a")
	var got []string
	for _, n := range names {
		got = append(got, n.Text())
	}
	if diff := cmp.Diff([]string{"sub", "a.txt", "b.txt"}, got); diff != "" {
		t.Errorf("the folder's contents (-want +got):\n%s", diff)
	}
	if p.Has("nav.crumbs") {
		t.Errorf("the link's own folder shows crumbs above it: %s", p.First("nav.crumbs").Text())
	}
	if zip := p.First("a.button.primary"); zip == nil || zip.Text() != "Download this folder (4 files, 15 B)" || zip.Attr("href") != base+"/zip" {
		t.Errorf("the folder's download button: %v", zip)
	}
	if facts := p.First(".facts").Text(); !strings.Contains(facts, "4 files, 15 B") {
		t.Errorf("facts: %q, want the link's file count and size", facts)
	}

	p = v.Get(base + "/d/" + sub.ID)
	zip := p.First("a.button.primary")
	if zip == nil || zip.Text() != "Download this folder (2 files, 5 B)" || zip.Attr("href") != base+"/zip?id="+sub.ID {
		t.Fatalf("a subfolder's download button: %v", zip)
	}
	z := v.Get(zip.Attr("href"))
	if z.Code != http.StatusOK || z.Header.Get("Content-Disposition") != "attachment; filename=sub.zip" {
		t.Fatalf("subfolder ZIP: %s", z)
	}
	if diff := cmp.Diff(map[string]string{"sub/": "", "sub/c.txt": "cc", "sub/deeper/": "", "sub/deeper/d.txt": "ddd"}, zipEntries(t, z.Body)); diff != "" {
		t.Errorf("the subfolder's ZIP holds exactly that folder (-want +got):\n%s", diff)
	}
	if crumbs := p.First("nav.crumbs"); crumbs == nil || crumbs.Text() != "pack / sub" {
		t.Errorf("crumbs: %v", crumbs)
	}
}

// Folders can be ticked; nothing ticked stays on the page with a note.
func TestPortal_TickFoldersAndNothingTicked(t *testing.T) {
	t.Parallel()
	e := newPortalEnv(t, portalCheapPasswords)
	a := e.upload("/t", "a.txt", []byte("a"))
	docs := e.mkdir("/t/docs")
	e.upload("/t/docs", "in.txt", []byte("in"))
	l := e.createLinks(map[string]any{"targets": []string{a.ID, docs.ID}, "authenticators": []any{pw(goodPassword)}, "title": "Two"})[0]
	base := e.base(l)
	v := e.visitor()
	v.signIn(l, goodPassword)

	p := v.Get(base)
	if !p.Has(`input[type=checkbox][name=id][value="`+docs.ID+`"]`) || !p.Has("input#pick-all") {
		t.Fatalf("the folder has no tick box, or there is no select-all: %s", p)
	}
	if zip := p.First("a.button.primary"); zip == nil || zip.Text() != "Download all (2 files, 3 B)" {
		t.Errorf("top-level download button: %v", zip)
	}
	csrf := v.csrf(base)
	z := v.Post(base+"/zip", url.Values{"csrf": {csrf}, "id": {docs.ID}})
	if z.Code != http.StatusOK || z.Header.Get("Content-Disposition") != "attachment; filename=docs.zip" {
		t.Fatalf("ZIP of a ticked folder: %s", z)
	}
	if diff := cmp.Diff(map[string]string{"docs/": "", "docs/in.txt": "in"}, zipEntries(t, z.Body)); diff != "" {
		t.Errorf("ticked folder's ZIP (-want +got):\n%s", diff)
	}
	none := v.Post(base+"/zip", url.Values{"csrf": {csrf}, "folder": {docs.ID}})
	if none.Code != http.StatusSeeOther || !strings.HasPrefix(none.Header.Get("Location"), base+"/d/"+docs.ID+"?") {
		t.Fatalf("nothing ticked: %s", none)
	}
	back := v.Get(none.Header.Get("Location"))
	if f := back.First(".flash.error"); f == nil || f.Text() != "Tick the files or folders you want first." || !back.Has("table.files") {
		t.Errorf("nothing ticked: want the folder again with a note: %s", back)
	}
}

// After sign-in the page says who sent the link, until when it works,
// what it holds and how many downloads are left.
func TestPortal_ContextAfterSignIn(t *testing.T) {
	t.Parallel()
	e := newPortalEnv(t, portalCheapPasswords)
	a := e.upload("/c", "a.txt", []byte("hello"))
	b := e.upload("/c", "b.txt", []byte("world!"))
	expires := e.clock.Now().Add(6*24*time.Hour + time.Hour).UTC().Truncate(time.Second)
	l := e.createLinks(map[string]any{"targets": []string{a.ID, b.ID}, "authenticators": []any{pw(goodPassword)},
		"expires_at": expires.Format(time.RFC3339), "max_downloads": 5,
		"message":     "See https://example.com/agenda.",
		"send_params": map[string]any{"recipient_email": "bob@example.com", "sender_email": "alice@example.com", "sender_name": "Alice"}})[0]
	base := e.base(l)
	v := e.visitor()
	v.signIn(l, goodPassword)

	p := v.Get(base)
	if from := p.First(".from"); from == nil || from.Text() != "From Alice (alice@example.com)" {
		t.Errorf("sender: %v", from)
	}
	tm := p.First(".facts time[data-local]")
	if tm == nil || tm.Attr("datetime") != expires.Format(time.RFC3339) || tm.Text() != expires.Format("2 Jan 2006, 15:04 UTC") {
		t.Fatalf("expiry: %v", tm)
	}
	facts := p.First(".facts").Text()
	for _, want := range []string{"2 files, 11 B", "(6 days left)", "5 of 5 downloads left"} {
		if !strings.Contains(facts, want) {
			t.Errorf("facts %q lack %q", facts, want)
		}
	}
	if link := p.First(`.message a[href="https://example.com/agenda"]`); link == nil {
		t.Errorf("the message's address is not a link: %s", p.First(".message").Text())
	}
	v.Get(base + "/f/" + a.ID)
	if facts := v.Get(base).First(".facts").Text(); !strings.Contains(facts, "4 of 5 downloads left") {
		t.Errorf("after one download: %q", facts)
	}
}

// The dead page carries the header and branding like every other page,
// suggests what to do, and is the same bytes for every dead link.
func TestPortal_DeadPageIsBranded(t *testing.T) {
	t.Parallel()
	e := newPortalEnv(t)
	p := e.deadPage()
	if brand := p.First("header.bar .brand"); brand == nil || brand.Text() == "" {
		t.Fatalf("the dead page has no header with the product name: %s", p.Text())
	}
	if n := len(p.Find("ul.steps li")); n != 3 {
		t.Errorf("the dead page suggests %d next steps, want 3", n)
	}
	if p.Has("script") || p.Has("form") {
		t.Errorf("the dead page carries a script or a form: %s", p.Text())
	}
	other := e.visitor().Get("/s/" + strings.Repeat("B", 43))
	if string(other.Body) != string(p.Body) {
		t.Error("two dead links get different pages")
	}
}
