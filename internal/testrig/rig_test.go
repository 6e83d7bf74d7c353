package testrig_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/internal/testrig"
	"github.com/sesame-share/sesame/notify"
)

func TestClock(t *testing.T) {
	t.Parallel()
	start := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	c := testrig.NewClock(start)
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Add(time.Second)
			_ = c.Now()
		}()
	}
	wg.Wait()
	if got := c.Now(); !got.Equal(start.Add(10 * time.Second)) {
		t.Fatalf("after ten seconds: %v", got)
	}
	c.Set(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("after Set: %v", got)
	}
}

func TestSMTPServer(t *testing.T) {
	t.Parallel()
	f := testrig.NewSMTPServer(t)
	s, err := notify.NewSMTP(f.Config())
	if err != nil {
		t.Fatal(err)
	}
	msg := &sesame.Message{Channel: sesame.ChannelEmail, To: "bob@example.com", Subject: "Code für dich", Text: "Your code is 123456."}
	if _, err := s.Notify(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	m := f.Next(t, 10*time.Second)
	if m.From != "share@example.com" || !cmp.Equal(m.To, []string{"bob@example.com"}) {
		t.Errorf("envelope %q %q", m.From, m.To)
	}
	pm := testrig.ParseMail(t, m.Data)
	if got := pm.Subject(t); got != msg.Subject {
		t.Errorf("subject %q", got)
	}
	if got := testrig.CodeIn(t, pm.Text()); got != "123456" {
		t.Errorf("code %q", got)
	}

	f.Refuse(testrig.SMTPTryLater)
	if _, err := s.Notify(context.Background(), msg); sesame.KindOf(err) != sesame.Unavailable {
		t.Errorf("refused with 451: %v", err)
	}
	f.Refuse(testrig.SMTPNoSuchUser)
	if _, err := s.Notify(context.Background(), msg); sesame.KindOf(err) != sesame.Invalid {
		t.Errorf("refused with 550: %v", err)
	}
	f.Refuse(nil)
	f.DropAfterAccept(true)
	s.Notify(context.Background(), msg) // the server hangs up after accepting; either answer will do
	f.Next(t, 10*time.Second)
	if got := f.Refused(); len(got) != 2 {
		t.Errorf("refused %v, want two", got)
	}
	if got := len(f.Rcpts()); got != 4 {
		t.Errorf("%d RCPT, want 4", got)
	}
	if got := len(f.Messages()); got != 2 {
		t.Errorf("%d messages, want 2", got)
	}
}

func TestParseMail(t *testing.T) {
	t.Parallel()
	raw := "From: a@example.com\r\nSubject: =?utf-8?q?Caf=C3=A9?=\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/alternative; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
		"Your code is 654321, a very long line that is soft-=\r\nbroken.\r\n" +
		"--b\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		"PHA+Q29kZSA2NTQz\r\nMjE8L3A+\r\n--b--\r\n"
	m := testrig.ParseMail(t, []byte(raw))
	if m.Type != "multipart/alternative" || !cmp.Equal(m.Order, []string{"text/plain", "text/html"}) {
		t.Errorf("type %s, parts %v", m.Type, m.Order)
	}
	if want := "Your code is 654321, a very long line that is soft-broken."; m.Text() != want {
		t.Errorf("text %q, want %q", m.Text(), want)
	}
	if m.HTML() != "<p>Code 654321</p>" || m.Subject(t) != "Café" {
		t.Errorf("html %q, subject %q", m.HTML(), m.Subject(t))
	}
	if got := testrig.CodeIn(t, m.Text()+m.HTML()); got != "654321" {
		t.Errorf("code %q", got)
	}
}

// The Twilio fake answers twilio-go at its default address through
// Client, and records what it was sent.
func TestTwilioServer(t *testing.T) {
	t.Parallel()
	f := testrig.NewTwilioServer(t)
	cfg := f.Config()
	cfg.BaseURL, cfg.HTTPClient = "", f.Client()
	tw, err := notify.NewTwilio(cfg)
	if err != nil {
		t.Fatal(err)
	}
	id, err := tw.Notify(context.Background(), &sesame.Message{Channel: sesame.ChannelSMS, To: "+14155550123", Text: "111222 is your code."})
	if err != nil || id != "SM123" {
		t.Fatalf("got %q, %v", id, err)
	}
	r := f.Next(t, 10*time.Second)
	if r.Host != "api.twilio.com" || r.Path != "/2010-04-01/Accounts/"+testrig.TwilioAccountSID+"/Messages.json" ||
		r.User != testrig.TwilioAPIKey || r.Form.Get("To") != "+14155550123" || r.Form.Get("Body") != "111222 is your code." {
		t.Errorf("request %+v", r)
	}
	f.Answer(http.StatusBadRequest, `{"code":21211,"message":"Invalid 'To' Phone Number","status":400}`)
	if _, err := tw.Notify(context.Background(), &sesame.Message{Channel: sesame.ChannelSMS, To: "+1", Text: "x"}); sesame.KindOf(err) != sesame.Invalid {
		t.Errorf("a 400: %v", err)
	}
	if n := len(f.Requests()); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

const page = `<!DOCTYPE html><html><head><title>T</title><script nonce="n1" src="/a.js"></script></head><body>
<header><form method="post" action="/s/x/leave" class="leave"><input type="hidden" name="csrf" value="tok&amp;1"><button>Leave</button></form></header>
<main id="main"><h1 class="big title">Files</h1>
<table class="files"><tr><td class="name"><a href="/s/x/f/1">a.txt</a></td></tr><tr><td class="name"><a href="/s/x/d/2">docs</a></td></tr></table>
<form action="/s/x/rename" method="post"><input type="hidden" name="csrf" value="tok&amp;1"><input name="name" value="a b.txt">
<input type="checkbox" name="all" checked><input type="checkbox" name="none" value="x"><input type="submit" name="go" value="Go">
<select name="pick"><option value="1">one</option><option selected>two</option></select><textarea name="note">hi
there</textarea></form>
<p data-x="a>b">gt</p></main></body></html>`

func TestDoc(t *testing.T) {
	t.Parallel()
	d := testrig.ParseHTML(t, page)
	for sel, want := range map[string]int{
		"a": 2, "td.name a": 2, "table.files > tr": 0, "tr > td > a": 2, `a[href$="/f/1"]`: 1, `a[href^="/s/x/"]`: 2, `a[href*=d/2]`: 1,
		"h1.big.title": 1, "h1.big.other": 0, "#main h1": 1, "header form": 1, `form[action$="/leave"], form[action$="/password"]`: 1,
		"script[nonce]": 1, "input[name=csrf]": 2, `p[data-x="a>b"]`: 1, "body > main > h1": 1, "body > h1": 0, "*[class~=big]": 1,
	} {
		if got := len(d.Find(sel)); got != want {
			t.Errorf("%s: %d matches, want %d", sel, got, want)
		}
	}
	if got := d.Value("csrf"); got != "tok&1" {
		t.Errorf("csrf %q", got)
	}
	if got := d.TextOf("td.name a"); got != "a.txt" {
		t.Errorf("first name %q", got)
	}
	if got := d.Links(); !cmp.Equal(got, []string{"/s/x/f/1", "/s/x/d/2"}) {
		t.Errorf("links %v", got)
	}
	f := d.Form(`form[action$="/rename"]`)
	want := map[string][]string{"csrf": {"tok&1"}, "name": {"a b.txt"}, "all": {"on"}, "pick": {"two"}, "note": {"hi\nthere"}}
	if diff := cmp.Diff(want, map[string][]string(f.Values())); diff != "" || f.Method != "POST" {
		t.Errorf("form %s values (-want +got):\n%s", f.Method, diff)
	}
	if n := len(d.Filter(func(e *testrig.Element) bool { return e.HasAttr("class") })); n != 5 {
		t.Errorf("%d elements with a class, want 5", n)
	}
	if d.First("video") != nil || d.First("video").Attr("src") != "" || d.TextOf("video") != "" {
		t.Error("a missing element is not nil")
	}
}

// The env serves the gateway on its clock; a visitor signs in through the
// page's own form.
func TestEnv(t *testing.T) {
	t.Parallel()
	clk := testrig.NewClock(time.Now().UTC().Truncate(time.Millisecond))
	e := testrig.NewEnv(t, testrig.WithClock(clk))
	r := e.API.Post(t, "/v1/folder/create", map[string]any{"folder": "/docs"})
	r.MustOK(t)
	var folder struct {
		Object struct{ ID string } `json:"object"`
	}
	r.Into(t, &folder)
	r = e.API.Post(t, "/v1/share/link/create", map[string]any{"links": []any{map[string]any{"targets": []string{folder.Object.ID},
		"authenticators": []any{map[string]any{"auth_type": "password", "auth_context": "correct horse battery"}}, "expires_at": clk.Now().Add(time.Hour).Format(time.RFC3339)}}})
	r.MustOK(t)
	var links struct {
		Links []struct{ Link string } `json:"share_link_objects"`
	}
	r.Into(t, &links)
	base := strings.TrimPrefix(links.Links[0].Link, e.URL)

	v := e.Visitor()
	p := v.Get(base)
	if p.Code != http.StatusOK || !p.Has(`input[name=password]`) {
		t.Fatalf("sign-in page: %s", p)
	}
	p = v.Submit(p, p.Form(`form[action$="/password"]`), map[string][]string{"password": {"correct horse battery"}})
	if p.Code != http.StatusSeeOther || p.Header.Get("Location") != base || len(p.Cookies()) == 0 {
		t.Fatalf("sign-in: %s", p)
	}
	if p := v.Get(base + "/d/" + folder.Object.ID); !p.Has(`form[action$="/leave"]`) {
		t.Fatalf("after sign-in: %s", p)
	}
	clk.Add(2 * time.Hour)
	if p := v.Get(base); p.Code != http.StatusNotFound {
		t.Fatalf("after the link expired on the env's clock: %s", p)
	}
	if r := e.API.PostAs(t, e.NewToken(sesame.ScopeObjectsRead), "/v1/folder/create", map[string]any{"folder": "/no"}); r.Code != http.StatusForbidden {
		t.Fatalf("a read-only token: %d %s", r.Code, r.Raw)
	}
}
