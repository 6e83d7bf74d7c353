package notify_test

import (
	"bytes"
	"context"
	"fmt"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/internal/testrig"
	"github.com/sesame-share/sesame/notify"
	"github.com/sesame-share/sesame/store"
	"github.com/sesame-share/sesame/templates"
)

// mailRig is a store, a clock, a mailer and a worker that delivers through
// a real SMTP conversation to the fake server.
type mailRig struct {
	t      *testing.T
	st     *store.Store
	clk    *testrig.Clock
	fake   *testrig.SMTPServer
	mailer *notify.Mailer
	worker *notify.Worker
}

// newMailRig builds a rig; cfg's Links, Objects and PublicURL are filled in.
func newMailRig(t *testing.T, cfg notify.MailerConfig) *mailRig {
	t.Helper()
	clk := newClock()
	st := openStore(t, t.TempDir(), clk)
	cfg.Links, cfg.Objects, cfg.PublicURL = st, st, publicURL
	m, err := notify.NewMailer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	fake := testrig.NewSMTPServer(t)
	return &mailRig{t: t, st: st, clk: clk, fake: fake, mailer: m, worker: newWorker(t, st, clk, newSMTP(t, fake), nil, 0)}
}

// file stores a file of size bytes under parent ("" for the root).
func (r *mailRig) file(parent, name string, size int) string {
	r.t.Helper()
	ctx := context.Background()
	u, err := r.st.Stage(ctx, bytes.NewReader(bytes.Repeat([]byte("x"), size)), name, 1<<20)
	if err != nil {
		r.t.Fatal(err)
	}
	o, err := r.st.CreateFile(ctx, sesame.FileCreate{Placement: sesame.Placement{Name: name, ParentID: parent, HasParentID: parent != ""}}, u)
	if err != nil {
		r.t.Fatal(err)
	}
	return o.ID
}

// link creates a link to targets for bob, by email code.
func (r *mailRig) link(typ sesame.LinkType, title string, targets ...string) *sesame.Link {
	r.t.Helper()
	admin := sesame.WithToken(context.Background(), &sesame.Token{ID: "stk_harness", Scopes: []sesame.Scope{sesame.ScopeAdmin}})
	links, err := linkService(r.st, r.clk).Create(admin, []sesame.LinkCreate{{Type: typ, Targets: targets, Title: title,
		Authenticators: []sesame.AuthenticatorInput{{Type: sesame.AuthEmailOTP, Context: "bob@example.com"}}}})
	if err != nil {
		r.t.Fatal(err)
	}
	return links[0]
}

// send mails l to bob and delivers it; it returns the mail as received.
func (r *mailRig) send(l *sesame.Link, senderEmail, senderName, lang string) *testrig.Mail {
	r.t.Helper()
	before := len(r.fake.Messages())
	_, err := r.mailer.SendLinks(context.Background(), sesame.LinkSendRequest{SenderEmail: senderEmail, SenderName: senderName,
		Items: []sesame.LinkSend{{LinkID: l.ID, Email: "bob@example.com", Language: lang}}})
	if err != nil {
		r.t.Fatalf("SendLinks: %v", err)
	}
	if n := runOnce(r.t, r.worker); n != 1 {
		r.t.Fatalf("RunOnce tried %d, want 1", n)
	}
	msgs := r.fake.Messages()
	if len(msgs) != before+1 {
		r.t.Fatalf("the fake has %d messages, want %d", len(msgs), before+1)
	}
	return testrig.ParseMail(r.t, msgs[len(msgs)-1].Data)
}

func fromOf(t *testing.T, m *testrig.Mail) *mail.Address {
	t.Helper()
	from, err := m.Header.AddressList("From")
	if err != nil || len(from) != 1 {
		t.Fatalf("From %q: %v (%v)", m.Header.Get("From"), from, err)
	}
	return from[0]
}

// The subject says who shared what; the From header shows the sender's
// name via the product at the configured address, and Reply-To is the
// sender.
func TestLinkEmail_SubjectAndSender(t *testing.T) {
	t.Parallel()
	r := newMailRig(t, notify.MailerConfig{Product: "Acme Share"})
	report := r.file("", "q3.pdf", 100)
	notes := r.file("", "notes.txt", 10)
	inbox := newFolder(t, r.st, "Inbox")
	for _, tt := range []struct {
		name, title, senderName string
		typ                     sesame.LinkType
		targets                 []string
		subject, fromName       string
	}{
		{"named sender", "Q3 board pack", "Alice", sesame.LinkDownload, []string{report}, "Alice shared “Q3 board pack” with you", "Alice via Acme Share"},
		{"address only", "Q3 board pack", "", sesame.LinkDownload, []string{report}, "alice@example.com shared “Q3 board pack” with you", "Example Share"},
		{"one file, no title", "", "Alice", sesame.LinkDownload, []string{report}, "Alice shared “q3.pdf” with you", "Alice via Acme Share"},
		{"two files, no title", "", "Alice", sesame.LinkDownload, []string{report, notes}, "Alice shared 2 files with you", "Alice via Acme Share"},
		{"upload", "Receipts", "Alice", sesame.LinkUpload, []string{inbox}, "Alice asks you to upload files to “Receipts”", "Alice via Acme Share"},
		{"upload, no title", "", "Alice", sesame.LinkUpload, []string{inbox}, "Alice asks you to upload files to “Inbox”", "Alice via Acme Share"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := r.send(r.link(tt.typ, tt.title, tt.targets...), "alice@example.com", tt.senderName, "")
			if got := m.Subject(t); got != tt.subject {
				t.Errorf("Subject: got %q, want %q", got, tt.subject)
			}
			if diff := cmp.Diff(&mail.Address{Name: tt.fromName, Address: "share@example.com"}, fromOf(t, m)); diff != "" {
				t.Errorf("From (-want +got):\n%s", diff)
			}
			replyTo, err := m.Header.AddressList("Reply-To")
			if err != nil || len(replyTo) != 1 || replyTo[0].Address != "alice@example.com" {
				t.Errorf("Reply-To: got %v (%v), want alice@example.com", replyTo, err)
			}
			if tt.typ == sesame.LinkUpload && (strings.Contains(m.Text(), "in total") || strings.Contains(m.HTML(), "in total")) {
				t.Errorf("an upload link's email lists files:\n%s", m.Text())
			}
		})
	}
}

// Sender names with quotes, commas, backslashes and non-ASCII letters
// reach the From display name and the subject intact, correctly encoded;
// the address is always the configured one.
func TestLinkEmail_SenderNameEncoding(t *testing.T) {
	t.Parallel()
	r := newMailRig(t, notify.MailerConfig{})
	l := r.link(sesame.LinkDownload, "Q3 board pack", r.file("", "q3.pdf", 10))
	for _, name := range []string{
		`O'Brien, "AJ" Ann`,
		`Zoë Ångström-Müller`,
		`李小龙`,
		`Back\slash <eve@evil.example>`,
		`=?utf-8?q?Mallory?=`,
		`😀 ` + strings.Repeat("Ω", 90),
	} {
		t.Run(name, func(t *testing.T) {
			m := r.send(l, "alice@example.com", name, "")
			if got, want := m.Subject(t), name+" shared “Q3 board pack” with you"; got != want {
				t.Errorf("Subject: got %q, want %q", got, want)
			}
			if diff := cmp.Diff(&mail.Address{Name: name + " via sesame", Address: "share@example.com"}, fromOf(t, m)); diff != "" {
				t.Errorf("From (-want +got):\n%s\nraw: %q", diff, m.Header.Get("From"))
			}
			for _, h := range []string{"Bcc", "Cc"} {
				if v, ok := m.Header[h]; ok {
					t.Errorf("header %s: %q is present, want none", h, v)
				}
			}
		})
	}
}

// A message's own From name can never start a header, whatever reaches
// the transport.
func TestSMTP_MessageFromNameStaysOneLine(t *testing.T) {
	t.Parallel()
	fake := testrig.NewSMTPServer(t)
	s := newSMTP(t, fake)
	_, err := s.Notify(context.Background(), &sesame.Message{Channel: sesame.ChannelEmail, To: "bob@example.com",
		FromName: "Eve\r\nBcc: evil@example.com\nX-Injected: 1", Subject: "Hi", Text: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	msgs := fake.Messages()
	if len(msgs) != 1 {
		t.Fatalf("got %d messages, want 1", len(msgs))
	}
	m := testrig.ParseMail(t, msgs[0].Data)
	for _, h := range []string{"Bcc", "X-Injected"} {
		if v, ok := m.Header[h]; ok {
			t.Errorf("header %s: %q is present, want none", h, v)
		}
	}
	if diff := cmp.Diff(&mail.Address{Name: "Eve Bcc: evil@example.com X-Injected: 1", Address: "share@example.com"}, fromOf(t, m)); diff != "" {
		t.Errorf("From (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"bob@example.com"}, fake.Rcpts()); diff != "" {
		t.Errorf("RCPT TO (-want +got):\n%s", diff)
	}
}

// The body names the first 10 files with their sizes, counts the rest,
// and gives the count and total size, in both parts. Inside a link to one
// folder, names start below it; with several targets, at each target.
func TestLinkEmail_FileList(t *testing.T) {
	t.Parallel()
	r := newMailRig(t, notify.MailerConfig{})
	folder := newFolder(t, r.st, "Board")
	var total int64
	for i := 1; i <= 12; i++ {
		size := i * 100
		if i == 1 {
			size = 1536
		}
		r.file(folder, fmt.Sprintf("f%02d.txt", i), size)
		total += int64(size)
	}
	m := r.send(r.link(sesame.LinkDownload, "Q3 board pack", folder), "alice@example.com", "Alice", "")

	txt := m.Text()
	if want := "12 files, " + templates.English().Size(total) + " in total:\n- f01.txt (1.5 KiB)\n- f02.txt (200 B)\n"; !strings.Contains(txt, want) {
		t.Errorf("text part lacks %q:\n%s", want, txt)
	}
	for i := 1; i <= 12; i++ {
		name := fmt.Sprintf("f%02d.txt", i)
		if listed := strings.Contains(txt, "- "+name+" ("); listed != (i <= 10) {
			t.Errorf("text part lists %s: %v, want %v", name, listed, i <= 10)
		}
	}
	if !strings.Contains(txt, "\nand 2 more\n") {
		t.Errorf("text part lacks \"and 2 more\":\n%s", txt)
	}

	want := [][2]string{{"f01.txt", "1.5 KiB"}}
	for i := 2; i <= 10; i++ {
		want = append(want, [2]string{fmt.Sprintf("f%02d.txt", i), templates.English().Size(int64(i * 100))})
	}
	if diff := cmp.Diff(want, fileRows(t, m.HTML())); diff != "" {
		t.Errorf("HTML file rows (-want +got):\n%s", diff)
	}
	body := testrig.ParseHTML(t, m.HTML()).TextOf("body")
	for _, s := range []string{"and 2 more", "12 files, " + templates.English().Size(total) + " in total"} {
		if !strings.Contains(body, s) {
			t.Errorf("HTML lacks %q:\n%s", s, body)
		}
	}

	// A file and a folder: each name starts at its target.
	m = r.send(r.link(sesame.LinkDownload, "Mixed", r.file("", "summary.txt", 5), folder), "alice@example.com", "Alice", "")
	if got := fileRows(t, m.HTML()); len(got) != 10 || got[0] != [2]string{"summary.txt", "5 B"} || got[1] != [2]string{"Board/f01.txt", "1.5 KiB"} {
		t.Errorf("HTML file rows: got %v, want summary.txt then Board/…", got)
	}
	if !strings.Contains(m.Text(), "13 files, "+templates.English().Size(total+5)+" in total:\n- summary.txt (5 B)\n- Board/f01.txt (1.5 KiB)\n") ||
		!strings.Contains(m.Text(), "\nand 3 more\n") {
		t.Errorf("text part:\n%s", m.Text())
	}
}

// fileRows returns the (name, size) rows of an email's file list.
func fileRows(t *testing.T, html string) [][2]string {
	t.Helper()
	var rows [][2]string
	for _, tr := range testrig.ParseHTML(t, html).Find("tr") {
		if tds := tr.Find("td"); len(tds) == 2 && strings.HasSuffix(tds[0].Text(), ".txt") {
			rows = append(rows, [2]string{tds[0].Text(), tds[1].Text()})
		}
	}
	return rows
}

// The product name, accent colour, logo and footer reach the email.
func TestLinkEmail_Branding(t *testing.T) {
	t.Parallel()
	const logo = "https://cdn.example.com/acme/logo.png"
	r := newMailRig(t, notify.MailerConfig{Product: "Acme Share", Accent: "#0a7d33", LogoURL: logo})
	l := r.link(sesame.LinkDownload, "Q3 board pack", r.file("", "q3.pdf", 10))
	m := r.send(l, "alice@example.com", "Alice", "")
	doc := testrig.ParseHTML(t, m.HTML())

	imgs := doc.Find("img")
	if len(imgs) != 1 || imgs[0].Attr("src") != logo || imgs[0].Attr("alt") != "Acme Share" {
		t.Errorf("logo: got %d <img>, want one with src %s and alt \"Acme Share\"", len(imgs), logo)
	}
	linkURL := publicURL + "/s/" + l.Token
	var button *testrig.Element
	for _, a := range doc.Find("a") {
		if strings.TrimSpace(a.Text()) == "Open" && a.Attr("href") == linkURL {
			button = a
		}
	}
	if button == nil {
		t.Fatalf("no Open button to %s", linkURL)
	}
	cell := button.Node.Parent
	var bg string
	for _, a := range cell.Attr {
		if a.Key == "bgcolor" {
			bg = a.Val
		}
	}
	if bg != "#0a7d33" {
		t.Errorf("the button's cell has bgcolor %q, want the accent #0a7d33", bg)
	}
	if strings.Contains(m.HTML(), "#2563eb") {
		t.Errorf("the default accent is still in the HTML")
	}
	if body := doc.TextOf("body"); !strings.Contains(body, "Sent by Acme Share.") {
		t.Errorf("HTML footer lacks the product:\n%s", body)
	}
	if !strings.HasSuffix(m.Text(), "\n-- \nSent by Acme Share.\n") {
		t.Errorf("text footer: got\n%s", m.Text())
	}

	// Without a logo, the product's name stands at the top, and no <img>.
	r = newMailRig(t, notify.MailerConfig{Product: "Acme Share"})
	m = r.send(r.link(sesame.LinkDownload, "Q3", r.file("", "q3.pdf", 10)), "alice@example.com", "Alice", "")
	if doc := testrig.ParseHTML(t, m.HTML()); doc.Has("img") || !strings.HasPrefix(strings.TrimSpace(doc.TextOf("body")), "Acme Share") {
		t.Errorf("without a logo: got %d <img>, body %q", len(doc.Find("img")), doc.TextOf("body"))
	}
}

// A logo must be an absolute URL: a mail client has no base for a path.
func TestNewMailer_RefusesRelativeLogo(t *testing.T) {
	t.Parallel()
	st := openStore(t, t.TempDir(), newClock())
	for _, logo := range []string{"/static/logo.png", "logo.png", "javascript:alert(1)", "//cdn.example.com/logo.png"} {
		if _, err := notify.NewMailer(notify.MailerConfig{Links: st, Objects: st, PublicURL: publicURL, LogoURL: logo}); err == nil {
			t.Errorf("logo %q: NewMailer accepted it, want an error", logo)
		}
	}
}

// No word is broken across lines: in the received, decoded text part the
// link stands alone on its line and each sentence is whole; in the HTML
// only the address itself may break anywhere.
func TestLinkEmail_NothingBrokenAcrossLines(t *testing.T) {
	t.Parallel()
	r := newMailRig(t, notify.MailerConfig{})
	l := r.link(sesame.LinkDownload, strings.Repeat("Quarterly figures for the board ", 4), r.file("", "q3.pdf", 10))
	m := r.send(l, "alice@example.com", "Alice Example", "")
	linkURL := publicURL + "/s/" + l.Token

	lines := strings.Split(m.Text(), "\n")
	var alone bool
	for _, line := range lines {
		if line == linkURL {
			alone = true
		} else if strings.Contains(line, "/s/") {
			t.Errorf("the link shares a line: %q", line)
		}
	}
	if !alone {
		t.Errorf("the link is not alone on a line:\n%s", m.Text())
	}
	expires := l.Expires.UTC().Format("Monday 2 January 2006, 15:04 UTC")
	for _, sentence := range []string{
		"Available until " + expires + ". To open it, you will be sent a one-time code at this address.",
		"Alice Example <alice@example.com> shared “" + strings.TrimSpace(l.Title) + "” with you.",
	} {
		var whole bool
		for _, line := range lines {
			whole = whole || strings.Contains(line, sentence)
		}
		if !whole {
			t.Errorf("no line holds %q whole:\n%s", sentence, m.Text())
		}
	}

	doc := testrig.ParseHTML(t, m.HTML())
	for _, e := range doc.Filter(func(e *testrig.Element) bool { return strings.Contains(e.Attr("style"), "break-all") }) {
		if got := strings.TrimSpace(e.Text()); got != linkURL {
			t.Errorf("<%s> breaks words anywhere but holds more than the link: %q", e.Tag(), got)
		}
	}
	if links := doc.Filter(func(e *testrig.Element) bool { return e.Tag() == "a" && e.Text() == linkURL }); len(links) != 1 {
		t.Errorf("got %d links that show the address, want 1", len(links))
	}
}

// The language of a send is kept with the queued message; without one the
// configured default applies. The email speaks the closest language with
// a translation, else the default's.
func TestLinkEmail_Language(t *testing.T) {
	t.Parallel()
	r := newMailRig(t, notify.MailerConfig{Language: "fr-ca"})
	l := r.link(sesame.LinkDownload, "Q3", r.file("", "q3.pdf", 10))
	for _, tt := range []struct{ asked, want, html, text string }{
		{"", "fr-CA", "fr", "a partagé «\u00a0Q3\u00a0» avec vous"},
		{"de", "de", "de", "hat „Q3“ mit Ihnen geteilt"},
		{"pt-br", "pt-BR", "fr", "a partagé «\u00a0Q3\u00a0» avec vous"},
		{"de_DE", "de-DE", "de", "hat „Q3“ mit Ihnen geteilt"},
		{"en-GB", "en-GB", "en", "shared “Q3” with you"},
	} {
		msgs, err := r.mailer.Preview(context.Background(), sesame.LinkSendRequest{SenderEmail: "alice@example.com",
			Items: []sesame.LinkSend{{LinkID: l.ID, Email: "bob@example.com", Language: tt.asked}}})
		if err != nil {
			t.Fatal(err)
		}
		if msgs[0].Language != tt.want {
			t.Errorf("language %q: got %q, want %q", tt.asked, msgs[0].Language, tt.want)
		}
		if !strings.Contains(msgs[0].HTML, `<html lang="`+tt.html+`">`) || !strings.Contains(msgs[0].Text, tt.text) {
			t.Errorf("language %q: the email is not in %s:\n%s", tt.asked, tt.html, msgs[0].Text)
		}
	}
	if _, err := r.mailer.SendLinks(context.Background(), sesame.LinkSendRequest{SenderEmail: "alice@example.com",
		Items: []sesame.LinkSend{{LinkID: l.ID, Email: "bob@example.com", Language: "de-AT"}}}); err != nil {
		t.Fatal(err)
	}
	due, err := r.st.ClaimDue(context.Background(), r.clk.Now(), time.Minute, 10)
	if err != nil || len(due) != 1 || due[0].Message.Language != "de-AT" {
		t.Errorf("queued: got %d messages (%v), want one in de-AT", len(due), err)
	}

	for _, bad := range []string{"english!", "e", "xx-", "zz", strings.Repeat("a", 40)} {
		_, err := r.mailer.SendLinks(context.Background(), sesame.LinkSendRequest{SenderEmail: "alice@example.com",
			Items: []sesame.LinkSend{{LinkID: l.ID, Email: "bob@example.com", Language: bad}}})
		e := sesame.AsError(err)
		if e == nil || e.Kind != sesame.Invalid || len(e.Fields) != 1 || e.Fields[0].Source != "/links/0/language" || e.Fields[0].Code != "BadFormat" {
			t.Errorf("language %q: got %v, want one BadFormat at /links/0/language", bad, err)
		}
	}
	if _, err := notify.NewMailer(notify.MailerConfig{Links: r.st, Objects: r.st, PublicURL: publicURL, Language: "not a tag"}); err == nil {
		t.Errorf("NewMailer accepted the default language \"not a tag\"")
	}
}

// The email tells its recipient how they will be asked to sign in, by the
// link's authenticator that suits them best: a code to their own address,
// their own account at a sign-in provider, a code by SMS, a password.
func TestLinkEmail_HowToOpen(t *testing.T) {
	t.Parallel()
	r := newMailRig(t, notify.MailerConfig{})
	f := r.file("", "q3.pdf", 10)
	svc := linkService(r.st, r.clk)
	svc.Policy.SocialSignIn = true // as with an OpenID Connect provider configured
	admin := sesame.WithToken(context.Background(), &sesame.Token{ID: "stk_harness", Scopes: []sesame.Scope{sesame.ScopeAdmin}})
	const pw = "a long enough passphrase"
	for _, tt := range []struct {
		name string
		auth []sesame.AuthenticatorInput
		want string // "": no such sentence
	}{
		{"EmailCode", []sesame.AuthenticatorInput{{Type: sesame.AuthPassword, Context: pw}, {Type: sesame.AuthEmailOTP, Context: "Bob@Example.com"}},
			"To open it, you will be sent a one-time code at this address."},
		{"Social", []sesame.AuthenticatorInput{{Type: sesame.AuthSMSOTP, Context: "+14155550123"}, {Type: sesame.AuthSocial, Context: "bob@example.com"}},
			"To open it, you will sign in with your account for this address."},
		{"SocialForSomeoneElse", []sesame.AuthenticatorInput{{Type: sesame.AuthSocial, Context: "carol@example.com"}, {Type: sesame.AuthPassword, Context: pw}},
			"To open it, you need the password from the sender; it is not in this email."},
		{"SMS", []sesame.AuthenticatorInput{{Type: sesame.AuthSMSOTP, Context: "+14155550123"}},
			"To open it, you will be sent a one-time code by text message."},
		{"NothingForThem", []sesame.AuthenticatorInput{{Type: sesame.AuthEmailOTP, Context: "carol@example.com"}}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			links, err := svc.Create(admin, []sesame.LinkCreate{{Targets: []string{f}, Authenticators: tt.auth}})
			if err != nil {
				t.Fatal(err)
			}
			msgs, err := r.mailer.Preview(context.Background(), sesame.LinkSendRequest{SenderEmail: "alice@example.com",
				Items: []sesame.LinkSend{{LinkID: links[0].ID, Email: "bob@example.com"}}})
			if err != nil {
				t.Fatal(err)
			}
			for part, body := range map[string]string{"text": msgs[0].Text, "HTML": msgs[0].HTML} {
				if tt.want == "" {
					if strings.Contains(body, "To open it") {
						t.Errorf("%s: says how to open it, want nothing:\n%s", part, body)
					}
				} else if !strings.Contains(body, tt.want) {
					t.Errorf("%s lacks %q:\n%s", part, tt.want, body)
				}
			}
		})
	}
}
