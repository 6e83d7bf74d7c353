package gateway_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/internal/testrig"
	"github.com/sesame-share/sesame/notify"
	"github.com/sesame-share/sesame/store"
)

// browserStack is the server as cmd/sesame wires it, over a store in a temp
// dir, with the outbox worker delivering codes to an SMTP server and a
// Twilio fake in this process.
type browserStack struct {
	t     *testing.T
	srv   *httptest.Server
	st    *store.Store
	links *sesame.LinkService
	mail  *testrig.SMTPServer
	sms   *testrig.TwilioServer
	logs  *testrig.Buffer
}

func newBrowserStack(t *testing.T, opts ...testrig.Option) *browserStack {
	t.Helper()
	logs := &testrig.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	b := &browserStack{t: t, mail: testrig.NewSMTPServer(t), sms: testrig.NewTwilioServer(t), logs: logs}
	mailCfg := b.mail.Config()
	mailCfg.FromName, mailCfg.Logger = "Sesame", log
	email, err := notify.NewSMTP(mailCfg)
	if err != nil {
		t.Fatal(err)
	}
	sms, err := notify.NewTwilio(b.sms.Config())
	if err != nil {
		t.Fatal(err)
	}
	env := testrig.NewEnv(t, append([]testrig.Option{testrig.WithLogger(log), testrig.WithBrand("Sesame", "#2563eb"),
		testrig.WithNotifiers(email, sms, 20)}, opts...)...)
	b.srv, b.st, b.links = env.Server, env.Store, env.Links
	return b
}

func (b *browserStack) folder(parentID, name string) *sesame.Object {
	b.t.Helper()
	in := sesame.FolderCreate{Placement: sesame.Placement{Name: name}}
	if parentID != "" {
		in.ParentID, in.HasParentID = parentID, true
	}
	o, err := b.st.CreateFolder(context.Background(), in)
	if err != nil {
		b.t.Fatal(err)
	}
	return o
}

func (b *browserStack) file(parentID, name string, data []byte) *sesame.Object {
	b.t.Helper()
	ctx := context.Background()
	u, err := b.st.Stage(ctx, bytes.NewReader(data), name, 0)
	if err != nil {
		b.t.Fatal(err)
	}
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

// link creates a link through the LinkService and returns it with the URL a
// person would open.
func (b *browserStack) link(typ sesame.LinkType, title string, targets []string, auth ...sesame.AuthenticatorInput) (*sesame.Link, string) {
	b.t.Helper()
	// The link is made by an admin: a link grants no more than its creator holds.
	admin := sesame.WithToken(context.Background(), &sesame.Token{ID: "stk_browser", Scopes: []sesame.Scope{sesame.ScopeAdmin}})
	ls, err := b.links.Create(admin, []sesame.LinkCreate{{Type: typ, Title: title, Targets: targets, Authenticators: auth}})
	if err != nil {
		b.t.Fatal(err)
	}
	if ls[0].Token == "" {
		b.t.Fatal("the created link carries no token")
	}
	return ls[0], b.srv.URL + "/s/" + ls[0].Token
}

// blob reads an object's stored bytes.
func (b *browserStack) blob(o *sesame.Object) []byte {
	b.t.Helper()
	r, err := b.st.OpenBlob(context.Background(), o.BlobKey)
	if err != nil {
		b.t.Fatal(err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		b.t.Fatal(err)
	}
	return data
}

// children lists a folder's contents by name.
func (b *browserStack) children(folderID string) map[string]*sesame.Object {
	b.t.Helper()
	p, err := b.st.FindObjects(context.Background(), sesame.ObjectFilter{
		Conds: []sesame.Cond{{Field: "parent_id", Op: sesame.OpEq, Values: []string{folderID}}}, Size: 1000})
	if err != nil {
		b.t.Fatal(err)
	}
	out := map[string]*sesame.Object{}
	for _, o := range p.Objects {
		out[o.Name] = o
	}
	return out
}

const browserPassword = "correct horse battery staple"

func password(p string) sesame.AuthenticatorInput {
	return sesame.AuthenticatorInput{Type: sesame.AuthPassword, Context: p}
}

// signInWithPassword opens the link and signs in; it leaves the tab on the
// first page after sign-in.
func signInWithPassword(tb *tab, url string) {
	tb.t.Helper()
	tb.do("open link", chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("#password-0")))
	tb.do("type password", chromedp.SendKeys(chromedp.CSS("#password-0"), browserPassword))
	tb.clickAndLoad("submit password", `form[action$="/password"] button[type=submit]`)
}

// TestBrowser walks a person through the recipient pages in a real
// Chromium: sign-in by password, email code and SMS code, downloads,
// uploads, edits and a withdrawn link.
func TestBrowser(t *testing.T) {
	c := startChrome(t)
	b := newBrowserStack(t)
	t.Logf("screenshots go to %s", c.shots)

	t.Run("PasswordLink", func(t *testing.T) {
		report := []byte("quarter,revenue\nQ1,100\nQ2,140\n")
		notes := []byte("Meeting notes\n\nAll good.\n")
		f1 := b.file("", "report.csv", report)
		f2 := b.file("", "notes.txt", notes)
		_, url := b.link(sesame.LinkDownload, "Quarterly", []string{f1.ID, f2.ID}, password(browserPassword))
		tb := c.newTab(t)

		tb.do("open link", chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("#password-0")))
		if got := tb.text("h1"); got != "Quarterly" {
			t.Errorf("sign-in heading: got %q, want %q", got, "Quarterly")
		}
		tb.screenshot("01-signin")

		tb.allow(http.StatusUnauthorized, url+"/password") // a wrong password is answered 401 on purpose
		tb.do("type wrong password", chromedp.SendKeys(chromedp.CSS("#password-0"), "not the password at all"))
		tb.clickAndLoad("submit wrong password", `form[action$="/password"] button[type=submit]`)
		if got, want := tb.text(".flash.error"), "That password is not right."; got != want {
			t.Errorf("after a wrong password: got flash %q, want %q", got, want)
		}
		tb.screenshot("02-wrong-password")

		tb.do("type password", chromedp.SendKeys(chromedp.CSS("#password-0"), browserPassword))
		tb.clickAndLoad("submit password", `form[action$="/password"] button[type=submit]`)
		tb.do("file list", chromedp.WaitVisible(chromedp.CSS("table.files")))
		names := get(tb, "file names", chromedp.Evaluate[[]string](`[...document.querySelectorAll("table.files td.name a")].map(a => a.textContent.trim())`))
		if diff := cmp.Diff([]string{"notes.txt", "report.csv"}, names); diff != "" {
			t.Errorf("file list (-want +got):\n%s", diff)
		}
		tb.screenshot("03-browse")

		tb.do("download report.csv", chromedp.Click(chromedp.CSS(`td.name a[href$="/f/`+f1.ID+`"]`)))
		if got := c.waitDownload(t, "report.csv"); !bytes.Equal(got, report) {
			t.Errorf("downloaded report.csv: got %q, want %q", got, report)
		}

		tb.do("download all", chromedp.Click(chromedp.CSS(`a.button[href$="/zip"]`)))
		zb := c.waitDownload(t, "Quarterly.zip")
		zr, err := zip.NewReader(bytes.NewReader(zb), int64(len(zb)))
		if err != nil {
			t.Fatalf("the downloaded ZIP does not open: %v", err)
		}
		got := map[string]string{}
		for _, f := range zr.File {
			rc, err := f.Open()
			if err != nil {
				t.Fatalf("zip entry %s: %v", f.Name, err)
			}
			data, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatalf("zip entry %s: %v", f.Name, err)
			}
			got[f.Name] = string(data)
		}
		if diff := cmp.Diff(map[string]string{"report.csv": string(report), "notes.txt": string(notes)}, got); diff != "" {
			t.Errorf("zip entries (-want +got):\n%s", diff)
		}
	})

	t.Run("EmailCodeLink", func(t *testing.T) {
		f := b.file("", "email-only.txt", []byte("for bob\n"))
		_, url := b.link(sesame.LinkDownload, "By email", []string{f.ID}, sesame.AuthenticatorInput{Type: sesame.AuthEmailOTP, Context: "bob@example.com"})
		tb := c.newTab(t)

		tb.do("open link", chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(`form[action$="/code/send"] button`)))
		if got := tb.text(`form[action$="/code/send"] button`); !strings.HasPrefix(got, "Send me a code at ") {
			t.Errorf("send button: got %q, want it to start with %q", got, "Send me a code at ")
		}
		tb.clickAndLoad("send code", `form[action$="/code/send"] button`)
		tb.do("code field", chromedp.WaitVisible(chromedp.CSS("#code-0")))

		m := testrig.ParseMail(t, b.mail.Next(t, actionTimeout).Data)
		to, text := m.Header.Get("To"), m.Text()
		if !strings.Contains(to, "bob@example.com") {
			t.Errorf("email To: got %q, want bob@example.com", to)
		}
		code := testrig.CodeIn(t, text)
		checkResendCountdown(tb)
		// Six digits send the form by themselves: a wrong code shows the
		// tries left, the right one opens the link.
		tb.allow(http.StatusUnauthorized, url+"/code/verify") // a wrong code is answered 401 on purpose
		get(tb, "type a wrong code", chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.SendKeys(chromedp.CSS("#code-0"), wrongCode(code))))
		if got := tb.text("#tries-0"); got != fmt.Sprintf("%d tries left for this code.", sesame.MaxCodeAttempts-1) {
			t.Errorf("after a wrong code: got %q, want the tries left", got)
		}
		tb.screenshot("code-wrong")
		get(tb, "type the code", chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.SendKeys(chromedp.CSS("#code-0"), code)))
		tb.do("file card", chromedp.WaitVisible(chromedp.CSS(".filecard")))
		if got := tb.text(".fname"); got != "email-only.txt" {
			t.Errorf("file list: got %q, want email-only.txt", got)
		}
	})

	t.Run("SMSCodeLink", func(t *testing.T) {
		f := b.file("", "sms-only.txt", []byte("for carol\n"))
		_, url := b.link(sesame.LinkDownload, "By text", []string{f.ID}, sesame.AuthenticatorInput{Type: sesame.AuthSMSOTP, Context: "+14155550123"})
		tb := c.newTab(t)

		tb.do("open link", chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(`form[action$="/code/send"] button`)))
		if got := tb.text(`form[action$="/code/send"] button`); !strings.HasPrefix(got, "Send me a code by text to ") {
			t.Errorf("send button: got %q, want it to start with %q", got, "Send me a code by text to ")
		}
		tb.clickAndLoad("send code", `form[action$="/code/send"] button`)
		tb.do("code field", chromedp.WaitVisible(chromedp.CSS("#code-0")))

		req := b.sms.Next(t, actionTimeout)
		body, to := req.Form.Get("Body"), req.Form.Get("To")
		if to != "+14155550123" {
			t.Errorf("SMS To: got %q, want +14155550123", to)
		}
		code := testrig.CodeIn(t, body)
		tb.do("type code", chromedp.SendKeys(chromedp.CSS("#code-0"), code[:3]+" "+code[3:5]))
		get(tb, "last digit sends the form", chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.SendKeys(chromedp.CSS("#code-0"), code[5:])))
		tb.do("file card", chromedp.WaitVisible(chromedp.CSS(".filecard")))
		if got := tb.text(".fname"); got != "sms-only.txt" {
			t.Errorf("file list: got %q, want sms-only.txt", got)
		}
	})

	t.Run("UploadLink", func(t *testing.T) {
		inbox := b.folder("", "Inbox")
		_, url := b.link(sesame.LinkUpload, "Send me your files", []string{inbox.ID}, password(browserPassword))
		data := randomBytes(t, 3<<20)
		local := filepath.Join(t.TempDir(), "holiday photos.bin")
		if err := os.WriteFile(local, data, 0o644); err != nil {
			t.Fatal(err)
		}
		tb := c.newTab(t)
		signInWithPassword(tb, url)
		tb.do("upload form", chromedp.WaitVisible(chromedp.CSS("#upload-form")))

		// The focusable "Choose files" label opens the file chooser on Enter
		// and on Space, as a button would: count the chooser's openings.
		tb.do("count choosers", chromedp.Evaluate[chromedp.Void](`window.__choosers = 0;
			document.getElementById("files").click = () => { window.__choosers++; };`))
		tb.do("Enter on the label", chromedp.Focus(chromedp.CSS("#drop")), chromedp.KeyEvent("\r"))
		tb.do("Space on the label", chromedp.Focus(chromedp.CSS("#drop")), chromedp.KeyEvent(" "))
		if n := get(tb, "choosers opened", chromedp.Evaluate[int](`window.__choosers`)); n != 2 {
			t.Errorf("Enter and Space on the label opened the file chooser %d times, want 2", n)
		}
		if role := get(tb, "label role", chromedp.Evaluate[string](`document.getElementById("drop").getAttribute("role")`)); role != "button" {
			t.Errorf("the label's role is %q, want button", role)
		}

		// Upload with no file chosen stays on the page: the browser asks for
		// a file instead of sending an empty form to an error page.
		before := get(tb, "page before", chromedp.Evaluate[string](`location.href`))
		tb.do("upload nothing", chromedp.Click(chromedp.CSS("#upload-button")))
		if missing := get(tb, "file required", chromedp.Evaluate[bool](`document.getElementById("files").validity.valueMissing`)); !missing {
			t.Errorf("the file input does not report a missing file")
		}
		if after := get(tb, "page after", chromedp.Evaluate[string](`location.href`)); after != before || !get(tb, "form still there", chromedp.Evaluate[bool](`!!document.getElementById("upload-form")`)) {
			t.Errorf("Upload with no file left the page: %s -> %s", before, after)
		}

		// Record every value the progress bars take, so the test sees the
		// progress and not only the end state.
		tb.do("watch progress", chromedp.Evaluate[chromedp.Void](`window.__progress = [];
			new MutationObserver(() => {
				for (const p of document.querySelectorAll("#progress progress")) { window.__progress.push(p.value); }
			}).observe(document.getElementById("progress"), {subtree: true, childList: true, attributes: true});`))
		tb.do("choose file", chromedp.SetUploadFiles(chromedp.CSS("#files"), []string{local}))
		// 3 MiB at 1 MiB/s: long enough to see the bar move on localhost.
		tb.throttleUpload(1 << 20)
		tb.do("upload", chromedp.Click(chromedp.CSS("#upload-button")))
		mid := get(tb, "wait for progress", chromedp.Poll[float64](`(() => {
			const p = document.querySelector("#progress li:not(.done) progress");
			return p && p.value > 0 && p.value < 100 ? p.value : null;
		})()`, chromedp.WithPollingInterval(10*time.Millisecond)))
		tb.screenshot("04-upload-progress")
		t.Logf("progress seen mid-upload: %v%%", mid)
		// The row keeps the file's name and says it was sent; the page
		// stays, and says when everything is sent.
		type result struct {
			Rows     []string  `json:"rows"`
			Summary  string    `json:"summary"`
			Progress []float64 `json:"progress"`
		}
		res := get(tb, "wait for the upload", chromedp.Poll[result](`(() => {
			if (document.getElementById("upload-form").getAttribute("data-state") !== "idle") { return null; }
			return {rows: [...document.querySelectorAll("#progress li")].map(li => li.className + ": " + li.querySelector(".name").textContent + " " + li.querySelector(".state").textContent),
				summary: document.getElementById("upload-summary").textContent,
				progress: window.__progress};
		})()`, chromedp.WithPollingInterval(10*time.Millisecond)))
		tb.screenshot("04b-upload-done")
		tb.throttleUpload(-1)
		if diff := cmp.Diff([]string{"done: holiday photos.bin Sent"}, res.Rows); diff != "" {
			t.Errorf("progress rows (-want +got):\n%s", diff)
		}
		if res.Summary != "1 file sent — you can close this page." {
			t.Errorf("summary: got %q", res.Summary)
		}
		if n := len(res.Progress); n < 3 || res.Progress[0] != 0 || res.Progress[n-1] != 100 {
			t.Errorf("progress values %v: want 0, values between, then 100", res.Progress)
		}
		for i := 1; i < len(res.Progress); i++ {
			if res.Progress[i] < res.Progress[i-1] {
				t.Errorf("progress went backwards: %v", res.Progress)
				break
			}
		}
		t.Logf("progress bar values: %v", res.Progress)

		// Asked to, the page lists what the visit uploaded.
		tb.clickAndLoad("show the new files", "#show-new")
		tb.do("uploaded list", chromedp.WaitVisible(chromedp.CSS("table.files")))
		if got := tb.text("table.files td.name"); !strings.Contains(got, "holiday photos.bin") {
			t.Errorf("after the upload the page lists %q, want holiday photos.bin", got)
		}

		kids := b.children(inbox.ID)
		o := kids["holiday photos.bin"]
		if o == nil {
			t.Fatalf("the store has no holiday photos.bin in Inbox; it has %v", keys(kids))
		}
		if want := hexSHA256(data); o.SHA256 != want {
			t.Errorf("stored sha256: got %s, want %s", o.SHA256, want)
		}
		if got := b.blob(o); hexSHA256(got) != hexSHA256(data) {
			t.Errorf("stored bytes: got %d bytes with sha256 %s, want %d bytes with sha256 %s", len(got), hexSHA256(got), len(data), hexSHA256(data))
		}
	})

	t.Run("EditorLink", func(t *testing.T) {
		team := b.folder("", "Team")
		draft := b.file(team.ID, "draft.txt", []byte("draft\n"))
		old := b.file(team.ID, "old.txt", []byte("old\n"))
		keep := b.file(team.ID, "keep.txt", []byte("keep\n"))
		_, url := b.link(sesame.LinkEditor, "Team folder", []string{team.ID}, password(browserPassword))
		tb := c.newTab(t)
		signInWithPassword(tb, url)
		tb.do("folder", chromedp.WaitVisible(chromedp.CSS("table.files")))

		tb.clickAndLoad("open rename page", `a[href$="/rename/`+draft.ID+`"]`)
		if got := tb.text("h1"); got != "Rename “draft.txt”" {
			t.Errorf("rename heading: got %q, want %q", got, "Rename “draft.txt”")
		}
		tb.do("type new name", chromedp.Clear(chromedp.CSS("#name")), chromedp.SendKeys(chromedp.CSS("#name"), "final.txt"))
		tb.clickAndLoad("rename", `form[action$="/rename"] button[type=submit]`)
		if got := tb.text(".flash"); got != "Renamed to “final.txt”." {
			t.Errorf("after rename: got flash %q, want %q", got, "Renamed to “final.txt”.")
		}

		tb.clickAndLoad("open delete page", `a[href$="/delete/`+old.ID+`"]`)
		if got := tb.text("h1"); got != "Delete “old.txt”?" {
			t.Errorf("delete heading: got %q, want %q", got, "Delete “old.txt”?")
		}
		tb.clickAndLoad("delete", `form[action$="/delete"] button.danger`)
		if got := tb.text(".flash"); got != "Deleted “old.txt”." {
			t.Errorf("after delete: got flash %q, want %q", got, "Deleted “old.txt”.")
		}
		names := get(tb, "file names", chromedp.Evaluate[[]string](`[...document.querySelectorAll("table.files td.name a")].map(a => a.textContent.trim())`))
		if diff := cmp.Diff([]string{"final.txt", "keep.txt"}, names); diff != "" {
			t.Errorf("folder after the edits (-want +got):\n%s", diff)
		}

		kids := b.children(team.ID)
		if diff := cmp.Diff([]string{"final.txt", "keep.txt"}, keys(kids)); diff != "" {
			t.Errorf("store after the edits (-want +got):\n%s", diff)
		}
		if o := kids["final.txt"]; o == nil || o.ID != draft.ID {
			t.Errorf("final.txt is not the renamed draft.txt (%s): %+v", draft.ID, o)
		}
		if o := kids["keep.txt"]; o == nil || o.ID != keep.ID {
			t.Errorf("keep.txt changed: %+v", o)
		}
		if _, err := b.st.ObjectByID(context.Background(), "", old.ID); sesame.KindOf(err) != sesame.NotFound {
			t.Errorf("old.txt after delete: got %v, want NotFound", err)
		}
	})

	t.Run("RevokedLink", func(t *testing.T) {
		f := b.file("", "withdrawn.txt", []byte("soon gone\n"))
		l, url := b.link(sesame.LinkDownload, "Withdrawn", []string{f.ID}, password(browserPassword))
		tb := c.newTab(t)
		signInWithPassword(tb, url)
		tb.do("file card", chromedp.WaitVisible(chromedp.CSS(".filecard")))

		tb.allow(http.StatusNotFound, url) // the dead page is answered 404 on purpose
		if _, err := b.st.DeleteLinks(context.Background(), []string{l.ID}); err != nil {
			t.Fatal(err)
		}
		tb.do("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("h1")))
		if got := tb.text("h1"); got != "This link is not available" {
			t.Errorf("after revoking: got heading %q, want %q", got, "This link is not available")
		}
		tb.screenshot("05-dead")
	})

	// The console check must be able to see a violation, or its silence
	// above proves nothing: an inline script the page injects is refused.
	t.Run("CSPViolationIsSeen", func(t *testing.T) {
		f := b.file("", "csp.txt", []byte("csp\n"))
		_, url := b.link(sesame.LinkDownload, "CSP", []string{f.ID}, password(browserPassword))
		tb := c.newTab(t)
		tb.do("open link", chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("#password-0")))
		tb.do("inject inline script", chromedp.Evaluate[chromedp.Void](`{ const s = document.createElement("script"); s.textContent = "window.__ran = true"; document.body.appendChild(s); }`))
		ran := get(tb, "read flag", chromedp.Evaluate[bool](`window.__ran === true`))
		if ran {
			t.Errorf("an injected inline script ran: the page's CSP does not block it")
		}
		// Wait for the report to reach the listener, bounded.
		deadline := time.NewTimer(5 * time.Second)
		defer deadline.Stop()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		var seen []string
	wait:
		for {
			tb.mu.Lock()
			seen = append([]string(nil), tb.problems...)
			tb.mu.Unlock()
			if len(seen) > 0 {
				break
			}
			select {
			case <-tick.C:
			case <-deadline.C:
				break wait
			}
		}
		if len(seen) == 0 {
			t.Errorf("the listener saw no CSP violation for an injected inline script")
		}
		for _, s := range seen {
			if !mentionsCSP(s) {
				t.Errorf("unexpected page problem: %s", s)
			}
		}
		t.Logf("the listener saw: %q", seen)
		tb.mu.Lock()
		tb.problems = nil // expected here
		tb.mu.Unlock()
	})
}

func keys(m map[string]*sesame.Object) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkResendCountdown checks the code page's resend button: disabled,
// counting down from at most a minute, one second at a time.
func checkResendCountdown(tb *tab) {
	tb.t.Helper()
	const sel = `form[action$="/code/send"] button`
	first := tb.text(sel)
	var n int
	if _, err := fmt.Sscanf(first, "Resend in %d s", &n); err != nil || n < 1 || n > 60 {
		tb.t.Fatalf("resend button: got %q, want \"Resend in N s\" with N ≤ 60", first)
	}
	if !get(tb, "resend disabled", chromedp.Evaluate[bool](`document.querySelector('`+sel+`').disabled`)) {
		tb.t.Errorf("the resend button is enabled during the wait")
	}
	get(tb, "countdown ticks", chromedp.Poll[bool](`document.querySelector('`+sel+`').textContent !== `+strconv.Quote(first)))
	var m int
	if next := tb.text(sel); func() bool { _, err := fmt.Sscanf(next, "Resend in %d s", &m); return err != nil }() || m >= n {
		tb.t.Errorf("countdown: %q then %q, want a smaller number", first, next)
	}
}

// wrongCode is a six-digit code other than code.
func wrongCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}
