package gateway_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/authenticators"
)

// protectedFile stores data as a file protected by password, as put with
// a password does.
func (b *browserStack) protectedFile(parentID, name string, data []byte, password string) *sesame.Object {
	b.t.Helper()
	ctx := context.Background()
	lock, key, err := sesame.NewFileLock(ctx, authenticators.NewPassword(), password, "")
	if err != nil {
		b.t.Fatal(err)
	}
	wrap, err := lock.Sealer(key)
	if err != nil {
		b.t.Fatal(err)
	}
	u, err := b.st.StageSealed(ctx, bytes.NewReader(data), name, 0, wrap)
	if err != nil {
		b.t.Fatal(err)
	}
	u.Lock = lock
	in := sesame.FileCreate{Placement: sesame.Placement{Name: name}}
	if parentID != "" {
		in.ParentID, in.HasParentID = parentID, true
	}
	o, err := b.st.CreateFile(ctx, in, u)
	if err != nil {
		b.t.Fatal(err)
	}
	return o
}

// TestBrowser_ProtectedFile: in Chromium, a recipient gives a protected
// file's password on its card once, then downloads it and reads it in the
// viewer. The password form, its wrong-password answer and the viewer's
// form pass the accessibility check of every page.
func TestBrowser_ProtectedFile(t *testing.T) {
	c := startChrome(t)
	b := newBrowserStack(t)
	t.Logf("screenshots go to %s", c.shots)
	text := []byte("Minutes of the board, for its members only.\n")
	f := b.protectedFile("", "minutes.txt", text, "board-2030")
	_, url := b.link(sesame.LinkDownload, "Minutes", []string{f.ID}, password(browserPassword))

	c.checkA11y(t, "protected-card", "", func(tb *tab) {
		signInWithPassword(tb, url)
		tb.do("card", chromedp.WaitVisible(chromedp.CSS(`.filecard form[action$="/unlock"] #file-password`)))
	})
	c.checkA11y(t, "protected-wrong", "", func(tb *tab) {
		signInWithPassword(tb, url)
		tb.allow(http.StatusUnauthorized, url+"/unlock") // a wrong file password is answered 401 on purpose
		tb.do("type a wrong password", chromedp.WaitVisible(chromedp.CSS("#file-password")), chromedp.SendKeys(chromedp.CSS("#file-password"), "not it"))
		tb.clickAndLoad("submit", `form[action$="/unlock"] button[type=submit]`)
		tb.do("error", chromedp.WaitVisible(chromedp.CSS(".flash.error")))
	})
	c.checkA11y(t, "protected-viewer", "", func(tb *tab) {
		signInWithPassword(tb, url)
		tb.do("open the viewer", chromedp.Navigate(url+"/view/"+f.ID), chromedp.WaitVisible(chromedp.CSS("#file-password")))
	})

	tb := c.newTab(t)
	signInWithPassword(tb, url)
	tb.do("type the password", chromedp.WaitVisible(chromedp.CSS("#file-password")), chromedp.SendKeys(chromedp.CSS("#file-password"), "board-2030"))
	tb.clickAndLoad("open", `form[action$="/unlock"] button[type=submit]`)
	tb.do("card", chromedp.WaitVisible(chromedp.CSS(".filecard a.primary")))
	tb.do("download", chromedp.Click(chromedp.CSS(".filecard a.primary")))
	if got := c.waitDownload(t, f.Name); !bytes.Equal(got, text) {
		t.Errorf("download: got %q", got)
	}
	tb.clickAndLoad("view", ".filecard a.secondary")
	tb.do("text", chromedp.WaitVisible(chromedp.CSS("pre.view-text")))
	if got := tb.text("pre.view-text"); !strings.Contains(got, "for its members only") {
		t.Errorf("viewer text: %q", got)
	}
}
