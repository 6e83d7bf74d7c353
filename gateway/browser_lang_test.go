package gateway_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/internal/testrig"
)

// acceptLanguage makes the tab ask for pages in lang, as a browser set
// to that language does.
func (tb *tab) acceptLanguage(lang string) {
	tb.t.Helper()
	tb.do("Accept-Language", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": lang}})
		return err
	}))
}

// TestBrowser_German walks a German-speaking recipient through a code
// link at both sizes: German pages, a German code email, German dates and
// sizes, and a switch to English that sticks.
func TestBrowser_German(t *testing.T) {
	c := startChrome(t)
	b := newBrowserStack(t)
	t.Logf("screenshots go to %s", c.shots)
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			f := b.file("", vp.name+"-bericht.pdf", []byte(strings.Repeat("x", 1536)))
			g := b.file("", vp.name+"-notizen.txt", []byte("Notizen\n"))
			_, url := b.link(sesame.LinkDownload, "Quartalsbericht", []string{f.ID, g.ID}, sesame.AuthenticatorInput{Type: sesame.AuthEmailOTP, Context: "erika@example.com"})
			tb := c.newTab(t)
			vp.emulate(tb)
			// The other size's run chose English, and the browser keeps
			// that choice: start afresh.
			tb.do("forget cookies", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
				_, err := cdp.Call(ctx, t, network.ClearBrowserCookies, cdp.Empty{})
				return err
			}))
			tb.acceptLanguage("de-DE,de;q=0.9,en;q=0.5")

			tb.do("open link", chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(`form[action$="/code/send"] button`)))
			if got := get(tb, "lang", chromedp.Evaluate[string](`document.documentElement.lang`)); got != "de" {
				t.Errorf("html lang %q, want de", got)
			}
			if got := tb.text(`form[action$="/code/send"] button`); !strings.HasPrefix(got, "Code an ") {
				t.Errorf("send button %q, want German", got)
			}
			tb.screenshot("de-" + vp.name + "-signin")
			tb.clickAndLoad("send code", `form[action$="/code/send"] button`)
			if got := tb.text(".flash"); got != "Ein Code ist unterwegs. Er gilt 10 Minuten." {
				t.Errorf("flash %q, want German", got)
			}
			if got := tb.text(`form[action$="/code/send"] button`); !strings.HasPrefix(got, "Erneut senden in ") {
				t.Errorf("resend button %q, want the German countdown", got)
			}
			m := testrig.ParseMail(t, b.mail.Next(t, actionTimeout).Data)
			code := testrig.CodeIn(t, m.Text())
			checkGermanCodeEmail(t, m)
			tb.screenshot("de-" + vp.name + "-code")
			tb.allow(http.StatusUnauthorized, url+"/code/verify") // a wrong code is answered 401 on purpose
			get(tb, "type a wrong code", chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.SendKeys(chromedp.CSS("#code-0"), wrongCode(code))))
			if got := tb.text("#tries-0"); got != "Noch 4 Versuche für diesen Code." {
				t.Errorf("tries left after a wrong code: %q, want German", got)
			}
			if got := tb.text(".flash.error"); got != "Dieser Code stimmt nicht." {
				t.Errorf("wrong code flash: %q, want German", got)
			}
			tb.screenshot("de-" + vp.name + "-code-wrong")
			get(tb, "type the code", chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.SendKeys(chromedp.CSS("#code-0"), code)))
			tb.do("file list", chromedp.WaitVisible(chromedp.CSS("table.files")))
			if got := tb.text("a.button.primary"); got != "Alles herunterladen (2 Dateien, 1,5 KiB)" {
				t.Errorf("download button %q, want German with a decimal comma", got)
			}
			if got := tb.text("table.files th:nth-child(2)"); got != "Name" {
				t.Errorf("name column %q", got)
			}
			tb.screenshot("de-" + vp.name + "-files")

			tb.clickAndLoad("switch to English", `nav.langs a[hreflang="en"]`)
			if got := tb.text("a.button.primary"); got != "Download all (2 files, 1.5 KiB)" {
				t.Errorf("after choosing English: %q", got)
			}
			tb.do("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("table.files")))
			if got := get(tb, "lang", chromedp.Evaluate[string](`document.documentElement.lang`)); got != "en" {
				t.Errorf("the choice of English did not stick over Accept-Language de: lang %q", got)
			}
		})
	}
}

// checkGermanCodeEmail checks that a code asked for from a German page
// came in German: its subject, and the code's life in the body.
func checkGermanCodeEmail(t *testing.T, m *testrig.Mail) {
	t.Helper()
	if subject := m.Subject(t); subject != "Ihr Code für „Quartalsbericht“" {
		t.Errorf("code email subject %q, want German", subject)
	}
	if text := m.Text(); !strings.Contains(text, "10 Minuten") {
		t.Errorf("code email text, want German (\"10 Minuten\"):\n%s", text)
	}
}
