package authenticators_test

import (
	"context"
	"net/mail"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/authenticators"
	"github.com/sesame-share/sesame/internal/testrig"
	"github.com/sesame-share/sesame/notify"
	"github.com/sesame-share/sesame/store"
)

// codeRig is a store with one link whose title is "Q3 board pack", signed
// into by an email code or an SMS code, and a worker that delivers through
// a real SMTP conversation and the Twilio fake.
type codeRig struct {
	st     *store.Store
	clk    *testrig.Clock
	link   *sesame.Link
	smtp   *testrig.SMTPServer
	twilio *testrig.TwilioServer
	worker *notify.Worker
}

func newCodeRig(t *testing.T) *codeRig {
	t.Helper()
	ctx := context.Background()
	clk := testrig.NewClock(time.Date(2030, 3, 4, 9, 30, 0, 0, time.UTC))
	st := testrig.OpenStore(t, t.TempDir(), clk, nil)
	u, err := st.Stage(ctx, strings.NewReader("numbers"), "q3.pdf", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	f, err := st.CreateFile(ctx, sesame.FileCreate{Placement: sesame.Placement{Name: "q3.pdf"}}, u)
	if err != nil {
		t.Fatal(err)
	}
	admin := sesame.WithToken(ctx, &sesame.Token{ID: "stk_test", Scopes: []sesame.Scope{sesame.ScopeAdmin}})
	ls := &sesame.LinkService{Store: st, Hasher: authenticators.NewPassword(), Policy: sesame.DefaultLinkPolicy(), Now: clk.Now}
	links, err := ls.Create(admin, []sesame.LinkCreate{{Targets: []string{f.ID}, Title: "Q3 board pack", Authenticators: []sesame.AuthenticatorInput{
		{Type: sesame.AuthEmailOTP, Context: "bob@example.com"}, {Type: sesame.AuthSMSOTP, Context: "+14155550123"}}}})
	if err != nil {
		t.Fatal(err)
	}
	r := &codeRig{st: st, clk: clk, link: links[0], smtp: testrig.NewSMTPServer(t), twilio: testrig.NewTwilioServer(t)}
	cfg := r.smtp.Config()
	cfg.FromName = "Acme Share"
	email, err := notify.NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sms, err := notify.NewTwilio(r.twilio.Config())
	if err != nil {
		t.Fatal(err)
	}
	r.worker, err = notify.NewWorker(notify.WorkerConfig{Outbox: st, Email: email, SMS: sms, SMSDailyBudget: 10,
		SendTimeout: 10 * time.Second, Logger: testrig.DiscardLogger(), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// begin sends a code through a new authenticator of the link and delivers
// it; each call is a minute after the last, past the resend interval.
func (r *codeRig) begin(t *testing.T, ch sesame.Channel, cfg authenticators.OTPConfig) {
	t.Helper()
	r.beginIn(t, context.Background(), ch, cfg, nil)
}

// beginIn is begin with the page's context; queued, if set, sees the
// message in the outbox before it is delivered.
func (r *codeRig) beginIn(t *testing.T, ctx context.Context, ch sesame.Channel, cfg authenticators.OTPConfig, queued func(*sesame.Message)) {
	t.Helper()
	r.clk.Add(2 * time.Minute)
	cfg.Store, cfg.Now = r.st, r.clk.Now
	newOTP, auth := authenticators.NewEmailOTP, &r.link.Authenticators[0]
	if ch == sesame.ChannelSMS {
		newOTP, auth = authenticators.NewSMSOTP, &r.link.Authenticators[1]
	}
	o, err := newOTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Begin(ctx, r.link, auth); err != nil {
		t.Fatalf("Begin: %v", err)
	}
	if queued != nil {
		// Claimed here for a minute, the message is the worker's after it.
		due, err := r.st.ClaimDue(context.Background(), r.clk.Now(), time.Minute, 10)
		if err != nil || len(due) != 1 {
			t.Fatalf("outbox: %d due (%v), want 1", len(due), err)
		}
		queued(&due[0].Message)
		r.clk.Add(time.Minute + time.Second)
	}
	if n, err := r.worker.RunOnce(context.Background()); n != 1 || err != nil {
		t.Fatalf("RunOnce tried %d (%v), want 1", n, err)
	}
}

// The code email is branded HTML and text. Its subject names the link but
// not the code, which lock screens and mail logs would show; the body has
// the code large and alone on its line, its 10 minutes, and what to do if
// it was not asked for.
func TestEmailOTP_Message(t *testing.T) {
	t.Parallel()
	r := newCodeRig(t)
	const logo = "https://cdn.example.com/logo.png"
	r.begin(t, sesame.ChannelEmail, authenticators.OTPConfig{Product: "Acme Share", Accent: "#0a7d33", LogoURL: logo, PublicURL: "https://share.example.com"})
	msgs := r.smtp.Messages()
	if len(msgs) != 1 {
		t.Fatalf("got %d emails, want 1", len(msgs))
	}
	m := testrig.ParseMail(t, msgs[0].Data)
	code := testrig.CodeIn(t, m.Text())

	if got, want := m.Subject(t), "Your code for “Q3 board pack”"; got != want {
		t.Errorf("Subject: got %q, want %q", got, want)
	}
	from, err := m.Header.AddressList("From")
	if err != nil || len(from) != 1 {
		t.Fatalf("From: %v (%v)", from, err)
	}
	if diff := cmp.Diff(&mail.Address{Name: "Acme Share", Address: "share@example.com"}, from[0]); diff != "" {
		t.Errorf("From (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"text/plain", "text/html"}, m.Order); diff != "" {
		t.Fatalf("parts (-want +got):\n%s", diff)
	}

	txt := m.Text()
	if !strings.Contains(txt, "\n"+code+"\n") {
		t.Errorf("the code is not alone on a line:\n%s", txt)
	}
	for _, want := range []string{"expires in 10 minutes", "If you did not ask for this code, ignore this email", "Q3 board pack", "Sent by Acme Share."} {
		if !strings.Contains(txt, want) {
			t.Errorf("text part lacks %q:\n%s", want, txt)
		}
	}

	doc := testrig.ParseHTML(t, m.HTML())
	big := doc.Filter(func(e *testrig.Element) bool { return strings.TrimSpace(e.Text()) == code })
	if len(big) == 0 || !strings.Contains(big[len(big)-1].Attr("style"), "font-size:32px") {
		t.Errorf("no element holds the code alone in large type:\n%s", m.HTML())
	}
	body := doc.TextOf("body")
	for _, want := range []string{"expires in 10 minutes", "If you did not ask for this code, ignore this email", "Q3 board pack", "Sent by Acme Share."} {
		if !strings.Contains(body, want) {
			t.Errorf("HTML lacks %q:\n%s", want, body)
		}
	}
	if img := doc.First("img"); img.Attr("src") != logo || img.Attr("alt") != "Acme Share" {
		t.Errorf("logo: got src %q alt %q, want %s and the product", img.Attr("src"), img.Attr("alt"), logo)
	}
	if !strings.Contains(m.HTML(), "#0a7d33") || strings.Contains(m.HTML(), "#2563eb") {
		t.Errorf("the HTML does not carry the accent #0a7d33 alone")
	}
}

// The code SMS ends in the WebOTP format, "@host #code", on a last line of
// its own, so that phones offer the code on that site (and only there).
func TestSMSOTP_WebOTPLastLine(t *testing.T) {
	t.Parallel()
	r := newCodeRig(t)
	for _, tt := range []struct {
		publicURL, host string
	}{
		{"https://share.example.com", "share.example.com"},
		{"https://share.example.com:8443/sesame/", "share.example.com"},
		{"http://[::1]:8080", "[::1]"},
		{"", ""},
	} {
		r.begin(t, sesame.ChannelSMS, authenticators.OTPConfig{PublicURL: tt.publicURL})
		reqs := r.twilio.Requests()
		body := reqs[len(reqs)-1].Form.Get("Body")
		code := testrig.CodeIn(t, body)
		lines := strings.Split(body, "\n")
		last := lines[len(lines)-1]
		if tt.host == "" {
			if strings.Contains(body, "@") || strings.Contains(body, "#") {
				t.Errorf("public URL %q: got %q, want no WebOTP line", tt.publicURL, body)
			}
		} else if want := "@" + tt.host + " #" + code; last != want {
			t.Errorf("public URL %q: last line %q, want %q (body %q)", tt.publicURL, last, want, body)
		}
		if !strings.HasPrefix(body, code+" is your sesame code.") {
			t.Errorf("body %q does not start with the code", body)
		}
		if n := utf8.RuneCountInString(body); n > 160 {
			t.Errorf("body %q: %d characters, want one SMS (160)", body, n)
		}
	}
}

func TestOTP_RefusesRelativeLogoAndBadURL(t *testing.T) {
	t.Parallel()
	st := testrig.OpenStore(t, t.TempDir(), nil, nil)
	for _, cfg := range []authenticators.OTPConfig{
		{Store: st, LogoURL: "/static/logo.png"},
		{Store: st, PublicURL: "share.example.com"},
	} {
		if _, err := authenticators.NewEmailOTP(cfg); err == nil {
			t.Errorf("NewEmailOTP accepted %+v", cfg)
		}
	}
}
