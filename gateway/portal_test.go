package gateway_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/gateway"
	"github.com/sesame-share/sesame/store"
)

// childNames lists the names in a folder, sorted, through the API.
func (e *portalEnv) childNames(parentID string) []string {
	e.t.Helper()
	r := e.post("/v1/list", map[string]any{"filter": map[string]any{"parent_id": parentID}, "size": 100})
	mustOK(e.t, r)
	var res struct {
		Objects []object `json:"objects"`
	}
	r.Into(e.t, &res)
	names := []string{}
	for _, o := range res.Objects {
		names = append(names, o.Name)
	}
	sort.Strings(names)
	return names
}

func (e *portalEnv) object(id string) (object, bool) {
	e.t.Helper()
	r := e.post("/v1/get", map[string]any{"id": id})
	if r.Code != http.StatusOK {
		return object{}, false
	}
	return e.objectOf(r), true
}

// deadPage fetches the page an unknown link gets.
func (e *portalEnv) deadPage() *portalPage {
	e.t.Helper()
	p := e.visitor().Get("/s/" + strings.Repeat("A", 43))
	if p.Code != http.StatusNotFound {
		e.t.Fatalf("unknown link: %s", p)
	}
	return p
}

func wantDead(t *testing.T, dead, p *portalPage, what string) {
	t.Helper()
	if p.Code != http.StatusNotFound || !bytes.Equal(p.Body, dead.Body) {
		t.Errorf("%s: want the dead page, got %s", what, p)
	}
}

func wantCode(t *testing.T, p *portalPage, code int, what string) {
	t.Helper()
	if p.Code != code {
		t.Fatalf("%s: got %s, want %d", what, p, code)
	}
}

// isSignIn reports whether p is the sign-in page (and shows no files).
func isSignIn(p *portalPage) bool {
	return p.Code == http.StatusOK && p.Has(`form[action$="/code/send"], form[action$="/password"]`) && !p.Has(`form[action$="/leave"]`)
}

func isBrowse(p *portalPage) bool {
	return p.Code == http.StatusOK && p.Has(`form[action$="/leave"]`) && !p.Has(`form[action$="/password"]`)
}

func TestPortal_PasswordSignIn(t *testing.T) {
	t.Parallel()
	e := newPortalEnv(t)
	f := e.upload("/share", "report.txt", []byte("hello portal"))
	docs := e.mkdir("/share/docs")
	l := e.createLinks(map[string]any{"targets": []string{f.ID, docs.ID}, "authenticators": []any{pw(goodPassword)}, "title": "Q3",
		"message": "The notes are at https://wiki.example.com/q3. <b>Thanks</b>"})[0]
	base := e.base(l)
	name := portalSessionCookie(l.ID)
	v := e.visitor()

	p := v.Get(base)
	if p.Code != http.StatusOK || !p.Has("input[name=password]") || strings.Contains(p.Text(), "report.txt") {
		t.Fatalf("sign-in page: %s", p)
	}
	// The message's web address is a link that leaves no opener; its markup stays text.
	if a := p.First(".message a"); a == nil || a.Attr("href") != "https://wiki.example.com/q3" || a.Attr("rel") != "noopener noreferrer nofollow" {
		t.Errorf("the message's address is not a safe link: %s", p.Text())
	}
	if p.Has(".message b") || !strings.Contains(p.TextOf(".message"), "<b>Thanks</b>") {
		t.Errorf("the message's markup was not kept as text: %q", p.TextOf(".message"))
	}

	wrong := v.password(l, 0, "not the password at all")
	if wrong.Code != http.StatusUnauthorized || !strings.Contains(wrong.Text(), "That password is not right.") ||
		!wrong.Has("input[name=password]") || wrong.Cookie(name) != nil {
		t.Fatalf("wrong password: %s", wrong)
	}
	// The error is tied to the field it is about, for screen readers.
	if in := wrong.First("input[name=password]"); in == nil || in.Attr("aria-invalid") != "true" ||
		in.Attr("aria-describedby") == "" || !strings.Contains(wrong.TextOf("#"+in.Attr("aria-describedby")), "That password is not right.") {
		t.Errorf("the wrong password's field is not marked invalid and described by the error: %s", wrong)
	}
	if p.First("input[name=password]").Attr("aria-invalid") != "" {
		t.Errorf("the first sign-in page marks the password field invalid")
	}
	if st := e.linkState(l.ID); st.AccessCount != 0 || st.LastAccessedAt != "" {
		t.Fatalf("a failed sign-in changed the link: %+v", st)
	}

	ok := v.password(l, 0, goodPassword)
	if ok.Code != http.StatusSeeOther || ok.Header.Get("Location") != base {
		t.Fatalf("right password: %s", ok)
	}
	c := ok.Cookie(name)
	if c == nil {
		t.Fatalf("no cookie %s in %q", name, ok.Header.Values("Set-Cookie"))
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure || c.Value == "" {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Lax, Path=/, not Secure over http", c)
	}
	if c.MaxAge <= 0 || c.MaxAge > int(sesame.SessionMaxAge.Seconds())+1 {
		t.Errorf("session cookie Max-Age %d, want 1..%d", c.MaxAge, int(sesame.SessionMaxAge.Seconds()))
	}
	for _, sc := range ok.Header.Values("Set-Cookie") {
		if strings.HasPrefix(sc, "__Host-") || strings.Contains(strings.ToLower(sc), "secure") {
			t.Errorf("over plain http: %q", sc)
		}
	}

	b := v.Get(base)
	if !isBrowse(b) {
		t.Fatalf("browse: %s", b)
	}
	upd, _ := sesame.ParseTime(f.UpdatedAt)
	for _, want := range []string{">report.txt<", "12 B", "text/plain", upd.UTC().Format("2 Jan 2006, 15:04 UTC"), ">docs<", "Folder",
		base + "/f/" + f.ID, base + "/d/" + docs.ID} {
		if !strings.Contains(b.Text(), want) {
			t.Errorf("browse page lacks %q", want)
		}
	}

	st := e.linkState(l.ID)
	if st.AccessCount != 1 {
		t.Errorf("access_count %d, want 1", st.AccessCount)
	}
	if at, err := sesame.ParseTime(st.LastAccessedAt); err != nil || !at.Equal(e.clock.Now().Truncate(time.Microsecond)) {
		t.Errorf("last_accessed_at %q, want %s", st.LastAccessedAt, e.clock.Now())
	}
}

func TestPortal_EmailCodeSignIn(t *testing.T) {
	t.Parallel()
	e := newPortalEnv(t)
	f := e.upload("/m", "m.txt", []byte("mail"))
	l := e.createLinks(map[string]any{"targets": []string{f.ID}, "authenticators": []any{email("bob@example.com")}})[0]
	base := e.base(l)
	name := portalSessionCookie(l.ID)
	v := e.visitor()

	p := v.Get(base)
	if p.Code != http.StatusOK || !strings.Contains(p.Text(), "b•••@example.com") || strings.Contains(p.Text(), "bob@example.com") ||
		p.Has("input[name=code]") {
		t.Fatalf("sign-in page: %s", p)
	}
	sent := v.sendCode(l, 0)
	if sent.Code != http.StatusSeeOther || sent.Header.Get("Location") != base+"?sent=0" {
		t.Fatalf("send: %s", sent)
	}
	p = v.Get(sent.Header.Get("Location"))
	if p.Code != http.StatusOK || !strings.Contains(p.Text(), "A code is on its way") ||
		!p.Has("input[name=code]") {
		t.Fatalf("after send: %s", p)
	}
	msgs := e.queued()
	if len(msgs) != 1 || msgs[0].Message.To != "bob@example.com" || msgs[0].Message.LinkID != l.ID || msgs[0].Message.Channel != sesame.ChannelEmail {
		t.Fatalf("queued: %+v", msgs)
	}
	code := portalCode(t, msgs[0])

	w := v.verifyCode(l, 0, portalWrongCode(code))
	if w.Code != http.StatusUnauthorized || !strings.Contains(w.Text(), "That code is not right.") || w.Cookie(name) != nil {
		t.Fatalf("wrong code: %s", w)
	}
	if in := w.First("input[name=code]"); in == nil || in.Attr("aria-invalid") != "true" || in.Attr("aria-describedby") != "signin-flash tries-0" {
		t.Errorf("the wrong code's field is not marked invalid and described by the error and the tries left: %s", w.Text())
	}
	if tries := w.First("#tries-0"); tries == nil || tries.Text() != fmt.Sprintf("%d tries left for this code.", sesame.MaxCodeAttempts-1) {
		t.Errorf("tries left after one wrong code: %s", w.Text())
	}
	ok := v.verifyCode(l, 0, code)
	if ok.Code != http.StatusSeeOther || ok.Header.Get("Location") != base || ok.Cookie(name) == nil {
		t.Fatalf("right code: %s", ok)
	}
	if b := v.Get(base); !isBrowse(b) || !strings.Contains(b.Text(), "m.txt") {
		t.Fatalf("browse: %s", b)
	}

	// The code works once.
	v2 := e.visitor()
	again := v2.verifyCode(l, 0, code)
	if again.Code != http.StatusUnauthorized || again.Cookie(name) != nil {
		t.Fatalf("used code again: %s", again)
	}
	if p := v2.Get(base); !isSignIn(p) || strings.Contains(p.Text(), "m.txt") {
		t.Fatalf("second visitor sees: %s", p)
	}
	if st := e.linkState(l.ID); st.AccessCount != 1 {
		t.Errorf("access_count %d, want 1", st.AccessCount)
	}
}

func TestPortal_CodeSendLimits(t *testing.T) {
	t.Parallel()
	e := newPortalEnv(t)
	f := e.upload("/m", "m.txt", []byte("mail"))
	l := e.createLinks(map[string]any{"targets": []string{f.ID}, "authenticators": []any{email("bob@example.com")}})[0]
	base := e.base(l)
	v := e.visitor()
	// send asks for a code; held: the limits hold it back, and the page
	// says so with the wait before the next.
	send := func(what string, held bool, wait string) {
		t.Helper()
		p := v.sendCode(l, 0)
		want := base + "?sent=0"
		if held {
			want += "&held=1"
		}
		if p.Code != http.StatusSeeOther || p.Header.Get("Location") != want {
			t.Fatalf("%s: %s", what, p)
		}
		pg := v.Get(p.Header.Get("Location"))
		said := "A code is on its way"
		if held {
			said = "A code was sent a moment ago and still works"
		}
		if pg.Code != http.StatusOK || !strings.Contains(pg.Text(), said) {
			t.Fatalf("%s: page %s", what, pg)
		}
		b := pg.First(`form[action$="/code/send"] button`)
		if b == nil || b.Text() != "Resend in "+wait || b.Attr("data-wait") == "" || !b.HasAttr("disabled") {
			t.Fatalf("%s: the resend button does not count down from %s: %s", what, wait, pg.Text())
		}
	}
	send("first send", false, "60 s")
	e.clock.Add(30 * time.Second)
	send("second send within 60 s", true, "30 s")
	if n := len(e.queued()); n != 1 {
		t.Fatalf("two sends within 60 s queued %d messages, want 1", n)
	}
	for i := 2; i <= sesame.MaxSendsPerHour; i++ {
		e.clock.Add(61 * time.Second)
		wait := "60 s"
		if i == sesame.MaxSendsPerHour {
			wait = "55:26" // the hour's last send: the next waits for the first to be an hour old
		}
		send(fmt.Sprintf("send %d", i), false, wait)
	}
	if n := len(e.queued()); n != sesame.MaxSendsPerHour-1 {
		t.Fatalf("queued %d more messages, want %d", n, sesame.MaxSendsPerHour-1)
	}
	e.clock.Add(61 * time.Second)
	send("sixth send in the hour", true, "54:25") // until the first send is an hour old
	if n := len(e.queued()); n != 0 {
		t.Fatalf("a sixth send in one hour queued %d messages", n)
	}
	// An hour after the first send, one more is allowed.
	e.clock.Add(time.Hour - (30+5*61)*time.Second + time.Second)
	send("send an hour later", false, "1:30") // five sends in the last hour again: until the second is an hour old
	if n := len(e.queued()); n != 1 {
		t.Fatalf("an hour later queued %d messages, want 1", n)
	}

	var outcomes []string
	for _, ev := range e.linkAudit(l.ID) {
		if ev.Action == "code.send" {
			outcomes = append(outcomes, ev.Outcome)
		}
	}
	want := []string{"success", "failure:throttled", "success", "success", "success", "success", "failure:throttled", "success"}
	if diff := cmp.Diff(want, outcomes); diff != "" {
		t.Errorf("code.send audit outcomes (-want +got):\n%s", diff)
	}
}

func TestPortal_CodeWrongTriesSpendCode(t *testing.T) {
	t.Parallel()
	e := newPortalEnv(t)
	f := e.upload("/m", "m.txt", []byte("mail"))
	l := e.createLinks(map[string]any{"targets": []string{f.ID}, "authenticators": []any{email("bob@example.com")}})[0]
	name := portalSessionCookie(l.ID)
	v := e.visitor()
	v.sendCode(l, 0)
	code := portalCode(t, e.queued()[0])
	for i := 1; i <= sesame.MaxCodeAttempts; i++ {
		v.IP = fmt.Sprintf("10.0.0.%d", i) // the per-address backoff is not what this tests
		wantCode(t, v.verifyCode(l, 0, portalWrongCode(code)), http.StatusUnauthorized, fmt.Sprintf("wrong try %d", i))
	}
	v.IP = "10.0.0.99"
	p := v.verifyCode(l, 0, code)
	if p.Code != http.StatusTooManyRequests || !strings.Contains(p.Text(), "Too many wrong tries for this code") || p.Cookie(name) != nil {
		t.Fatalf("right code after %d wrong tries: %s", sesame.MaxCodeAttempts, p)
	}
	// A new code works.
	e.clock.Add(sesame.MinResendInterval + time.Second)
	v.sendCode(l, 0)
	fresh := portalCode(t, e.queued()[0])
	if p := v.verifyCode(l, 0, fresh); p.Code != http.StatusSeeOther || p.Cookie(name) == nil {
		t.Fatalf("a fresh code: %s", p)
	}
}

func TestPortal_AuthenticatorLock(t *testing.T) {
	t.Parallel()
	e := newPortalEnv(t, portalCheapPasswords)
	f := e.upload("/m", "m.txt", []byte("mail"))
	dead := e.deadPage()
	n := 0
	// Each try comes from a new address: the lock must hold against
	// guesses spread over many addresses, which the backoff cannot see.
	from := func(v *portalVisitor) *portalVisitor {
		n++
		v.IP = fmt.Sprintf("10.1.%d.%d", n/200, n%200+1)
		return v
	}
	auth := func(l linkObj, i int) authState {
		t.Helper()
		return e.authStates(l.ID)[i]
	}

	t.Run("strangers with the URL cannot lock the recipient out", func(t *testing.T) {
		l := e.createLinks(map[string]any{"targets": []string{f.ID}, "authenticators": []any{pw(goodPassword)}})[0]
		v := e.visitor()
		for i := 0; i < 20; i++ { // 20 wrong passwords from 7 addresses
			v.IP = fmt.Sprintf("10.7.0.%d", i%7+1)
			if p := v.password(l, 0, fmt.Sprintf("wrong %d", i)); p.Code != http.StatusUnauthorized && p.Code != http.StatusTooManyRequests {
				t.Fatalf("wrong password %d: %s", i+1, p)
			}
		}
		if got := auth(l, 0); got.FailedAttempts == 0 || got.LockedUntil != "" {
			t.Errorf("after 20 failures: %+v, want them counted and no lock", got)
		}
		r := e.visitor()
		r.IP = "10.8.0.1"
		r.signIn(l, goodPassword)
		if got := auth(l, 0); got.FailedAttempts != 0 {
			t.Errorf("a success should reset the count: %+v", got)
		}
	})

	t.Run("wrong codes count only while a code is live", func(t *testing.T) {
		l := e.createLinks(map[string]any{"targets": []string{f.ID}, "authenticators": []any{email("bob@example.com")}})[0]
		v := e.visitor()
		for i := 0; i < sesame.LockAfterFailures+10; i++ {
			wantCode(t, from(v).verifyCode(l, 0, "123456"), http.StatusUnauthorized, fmt.Sprintf("code without a live code %d", i+1))
			wantCode(t, from(v).verifyCode(l, 0, "x"), http.StatusUnauthorized, fmt.Sprintf("an answer that is no code %d", i+1))
		}
		if got := auth(l, 0); got.FailedAttempts != 0 || got.LockedUntil != "" {
			t.Fatalf("tries without a live code were counted: %+v", got)
		}
		v.sendCode(l, 0)
		c := portalCode(t, e.queued()[0])
		wantCode(t, from(v).verifyCode(l, 0, portalWrongCode(c)), http.StatusUnauthorized, "wrong live code")
		if got := auth(l, 0); got.FailedAttempts != 1 {
			t.Fatalf("a wrong live code: %+v, want 1 failure", got)
		}
		if p := from(v).verifyCode(l, 0, c); p.Code != http.StatusSeeOther || p.Cookie(portalSessionCookie(l.ID)) == nil {
			t.Fatalf("right code: %s", p)
		}
	})

	t.Run("100 failures lock for a while, longer each time, never for good", func(t *testing.T) {
		l := e.createLinks(map[string]any{"targets": []string{f.ID}, "authenticators": []any{pw(goodPassword), email("bob@example.com")}})[0]
		base := e.base(l)
		v := e.visitor()
		fail := func(count int) {
			t.Helper()
			for i := 0; i < count; i++ {
				wantCode(t, from(v).password(l, 0, fmt.Sprintf("wrong password %d", i)), http.StatusUnauthorized, fmt.Sprintf("failure %d", i+1))
			}
		}
		fail(sesame.LockAfterFailures - 1)
		if got := auth(l, 0); got.FailedAttempts != sesame.LockAfterFailures-1 || got.LockedUntil != "" {
			t.Fatalf("after %d failures: %+v", sesame.LockAfterFailures-1, got)
		}
		fail(1)
		want := sesame.FormatTime(e.clock.Now().Add(sesame.FirstLock))
		if got := auth(l, 0); got.LockedUntil != want {
			t.Fatalf("first lock: %+v, want locked until %s", got, want)
		}
		p := v.Get(base)
		if p.Code != http.StatusOK || p.Has("input[name=password]") || !p.Has(`form[action$="/code/send"]`) {
			t.Fatalf("with the password locked the page should offer only the code: %s", p)
		}
		if p := from(v).password(l, 0, goodPassword); p.Code != http.StatusUnauthorized || p.Cookie(portalSessionCookie(l.ID)) != nil {
			t.Fatalf("right password on a locked authenticator: %s", p)
		}
		// The lock ends by itself; the next one lasts twice as long.
		e.clock.Add(sesame.FirstLock + time.Second)
		fail(sesame.LockAfterFailures)
		want = sesame.FormatTime(e.clock.Now().Add(2 * sesame.FirstLock))
		if got := auth(l, 0); got.LockedUntil != want {
			t.Fatalf("second lock: %+v, want locked until %s", got, want)
		}
		// Updating the link lifts the lock at once.
		e.updateLink(map[string]any{"id": l.ID, "title": "unlocked"})
		if got := auth(l, 0); got.LockedUntil != "" || got.FailedAttempts != 0 {
			t.Fatalf("after update: %+v", got)
		}
		from(v).signIn(l, goodPassword)
	})

	t.Run("a link whose every authenticator is locked is dead until the lock ends", func(t *testing.T) {
		l := e.createLinks(map[string]any{"targets": []string{f.ID}, "authenticators": []any{pw(goodPassword)}})[0]
		base := e.base(l)
		v := e.visitor()
		for i := 0; i < sesame.LockAfterFailures; i++ {
			wantCode(t, from(v).password(l, 0, fmt.Sprintf("wrong %d", i)), http.StatusUnauthorized, fmt.Sprintf("failure %d", i+1))
		}
		wantDead(t, dead, v.Get(base), "locked link")
		wantDead(t, dead, from(v).Post(base+"/password", url.Values{"auth": {"0"}, "password": {goodPassword}}), "right password on a locked link")
		e.clock.Add(sesame.FirstLock)
		from(v).signIn(l, goodPassword)
	})
}

func TestLockWindow(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]time.Duration{1: 15 * time.Minute, 2: 30 * time.Minute, 3: time.Hour, 7: 16 * time.Hour, 8: 24 * time.Hour, 50: 24 * time.Hour} {
		if got := sesame.LockWindow(n); got != want {
			t.Errorf("LockWindow(%d) = %v, want %v", n, got, want)
		}
	}
}

// retryAfter reads a 429's Retry-After: whole seconds, at least 1.
func retryAfter(t *testing.T, p *portalPage) int {
	t.Helper()
	if p.Code != http.StatusTooManyRequests {
		t.Fatalf("want 429, got %s", p)
	}
	s := p.Header.Get("Retry-After")
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		t.Fatalf("Retry-After %q, want whole seconds ≥ 1", s)
	}
	return n
}

func TestPortal_Backoff(t *testing.T) {
	t.Parallel()
	e := newPortalEnv(t, portalCheapPasswords)
	f := e.upload("/b", "b.txt", []byte("b"))
	l1 := e.createLinks(map[string]any{"targets": []string{f.ID}, "authenticators": []any{pw(goodPassword)}})[0]
	l2 := e.createLinks(map[string]any{"targets": []string{f.ID}, "authenticators": []any{pw(goodPassword)}})[0]
	v := e.visitor()
	for i := 1; i <= sesame.FreeFailures; i++ {
		wantCode(t, v.password(l1, 0, "wrong"), http.StatusUnauthorized, fmt.Sprintf("free failure %d", i))
	}
	// The clock stands still: the next tries come at once.
	fourth := v.password(l1, 0, "wrong")
	if fourth.Code != http.StatusTooManyRequests {
		t.Errorf("4th attempt after %d free failures: got %d, want 429", sesame.FreeFailures, fourth.Code)
	}
	fifth := v.password(l1, 0, goodPassword)
	wait := retryAfter(t, fifth)
	if !strings.Contains(fifth.Text(), "Too many tries") || fifth.Cookie(portalSessionCookie(l1.ID)) != nil {
		t.Fatalf("throttled page: %s", fifth)
	}
	// Another link from the same address is not slowed down.
	wantCode(t, v.password(l2, 0, "wrong"), http.StatusUnauthorized, "other link, wrong")
	v.signIn(l2, goodPassword)
	// Nor is another address on the same link.
	w := e.visitor()
	w.IP = "10.2.0.1"
	wantCode(t, w.password(l1, 0, "wrong"), http.StatusUnauthorized, "other address, wrong")
	// Once the wait is over, the right password works.
	e.clock.Add(time.Duration(wait) * time.Second)
	v.signIn(l1, goodPassword)
}

func TestPortal_CSRF(t *testing.T) {
	t.Parallel()
	e := newPortalEnv(t, portalCheapPasswords)
	f := e.upload("/c", "c.txt", []byte("c"))
	l1 := e.createLinks(map[string]any{"targets": []string{f.ID}, "authenticators": []any{pw(goodPassword)}})[0]
	l2 := e.createLinks(map[string]any{"targets": []string{f.ID}, "authenticators": []any{pw(goodPassword)}})[0]
	b1, b2 := e.base(l1), e.base(l2)
	v, other := e.visitor(), e.visitor()
	mine := v.csrf(b1)
	theirs := other.csrf(b1)
	otherLink := v.csrf(b2)
	if mine == theirs || mine == otherLink {
		t.Fatal("CSRF tokens are not bound to the visitor and the link")
	}
	forge := func(s string) string {
		if s[0] == 'x' {
			return "y" + s[1:]
		}
		return "x" + s[1:]
	}
	form := func(csrf string) url.Values {
		f := url.Values{"auth": {"0"}, "password": {goodPassword}}
		if csrf != "" {
			f.Set("csrf", csrf)
		}
		return f
	}
	for _, tt := range []struct {
		name string
		csrf string
	}{{"no token", ""}, {"another visitor's token", theirs}, {"a token for another link", otherLink}, {"a forged token", forge(mine)}} {
		p := v.Post(b1+"/password", form(tt.csrf))
		if p.Code != http.StatusForbidden || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(p.Text(), "Please try again") || p.Cookie(portalSessionCookie(l1.ID)) != nil {
			t.Errorf("%s: %s", tt.name, p)
		}
	}
	p := v.Post(b1+"/password", form(mine), "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
	if p.Code != http.StatusForbidden || p.Cookie(portalSessionCookie(l1.ID)) != nil {
		t.Errorf("cross-site POST: %s", p)
	}
	p = v.Post(b1+"/password", form(mine), "Sec-Fetch-Site", "cross-site")
	if p.Code != http.StatusForbidden {
		t.Errorf("cross-site POST without Origin: %s", p)
	}
	// None of that was a wrong password, and the right form works.
	if st := e.linkState(l1.ID); st.AccessCount != 0 {
		t.Fatalf("access_count %d", st.AccessCount)
	}
	if p := v.Post(b1+"/password", form(mine)); p.Code != http.StatusSeeOther {
		t.Fatalf("the visitor's own token: %s", p)
	}
	// Signed in, forms need the session's token (not the pre-session one).
	if p := v.Post(b1+"/zip", url.Values{"csrf": {mine}, "id": {f.ID}}); p.Code != http.StatusForbidden {
		t.Errorf("ZIP with the pre-session token: %s", p)
	}
}

func TestPortal_SessionBoundToLink(t *testing.T) {
	t.Parallel()
	e := newPortalEnv(t, portalCheapPasswords)
	fa := e.upload("/a", "alpha.txt", []byte("a"))
	fb := e.upload("/b", "bravo.txt", []byte("b"))
	la := e.createLinks(map[string]any{"targets": []string{fa.ID}, "authenticators": []any{pw(goodPassword)}})[0]
	lb := e.createLinks(map[string]any{"targets": []string{fb.ID}, "authenticators": []any{pw(goodPassword)}})[0]
	v := e.visitor()
	v.signIn(la, goodPassword)
	secret := v.Cookie(portalSessionCookie(la.ID))
	if secret == "" {
		t.Fatal("no session cookie in the jar")
	}
	if p := v.Get(e.base(lb)); !isSignIn(p) || strings.Contains(p.Text(), "bravo.txt") {
		t.Fatalf("A's cookie, as is, on B: %s", p)
	}
	w := e.visitor()
	w.SetCookie(portalSessionCookie(lb.ID), secret)
	if p := w.Get(e.base(lb)); !isSignIn(p) || strings.Contains(p.Text(), "bravo.txt") {
		t.Fatalf("A's secret under B's cookie name: %s", p)
	}
	if p := w.Get(e.base(lb) + "/f/" + fb.ID); p.Code != http.StatusSeeOther || p.Header.Get("Location") != e.base(lb) {
		t.Fatalf("A's secret fetching B's file: %s", p)
	}
	if st := e.linkState(lb.ID); st.AccessCount != 0 {
		t.Fatalf("B's access_count %d", st.AccessCount)
	}
}

func TestPortal_SessionsEnd(t *testing.T) {
	t.Parallel()
	e := newPortalEnv(t, portalCheapPasswords)
	f := e.upload("/e", "e.txt", []byte("e"))
	dead := e.deadPage()
	newLink := func() linkObj {
		return e.createLinks(map[string]any{"targets": []string{f.ID}, "authenticators": []any{pw(goodPassword)}})[0]
	}
	signedIn := func(l linkObj) *portalVisitor {
		v := e.visitor()
		v.signIn(l, goodPassword)
		if p := v.Get(e.base(l)); !isBrowse(p) {
			t.Fatalf("browse: %s", p)
		}
		return v
	}

	t.Run("link deleted", func(t *testing.T) {
		l := newLink()
		v := signedIn(l)
		e.deleteLink(l.ID)
		wantDead(t, dead, v.Get(e.base(l)), "after delete")
		wantDead(t, dead, v.Get(e.base(l)+"/f/"+f.ID), "file after delete")
	})
	t.Run("link updated", func(t *testing.T) {
		l := newLink()
		v := signedIn(l)
		e.updateLink(map[string]any{"id": l.ID, "title": "new terms"})
		if p := v.Get(e.base(l)); !isSignIn(p) {
			t.Fatalf("after update: %s", p)
		}
		if p := v.Get(e.base(l) + "/f/" + f.ID); p.Code != http.StatusSeeOther {
			t.Fatalf("file after update: %s", p)
		}
	})
	t.Run("leave", func(t *testing.T) {
		l := newLink()
		v := signedIn(l)
		secret := v.Cookie(portalSessionCookie(l.ID))
		page := v.Get(e.base(l))
		p := v.Submit(page, page.Form(`form[action$="/leave"]`), nil)
		if p.Code != http.StatusOK || !strings.Contains(p.Text(), "You have left") {
			t.Fatalf("leave: %s", p)
		}
		if again := p.First(`a.button[href="` + e.base(l) + `"]`); again == nil || again.Text() != "Open the link again" || !p.Has("header.bar .brand") {
			t.Errorf("the left page has no header or way back to the link: %s", p.Text())
		}
		if c := p.Cookie(portalSessionCookie(l.ID)); c == nil || c.MaxAge >= 0 {
			t.Errorf("leave should clear the cookie: %q", p.Header.Values("Set-Cookie"))
		}
		if p := v.Get(e.base(l)); !isSignIn(p) {
			t.Fatalf("after leave: %s", p)
		}
		w := e.visitor() // the old secret is dead on the server, not just forgotten
		w.SetCookie(portalSessionCookie(l.ID), secret)
		if p := w.Get(e.base(l)); !isSignIn(p) {
			t.Fatalf("old secret after leave: %s", p)
		}
	})
	t.Run("idle 30 min", func(t *testing.T) {
		l := newLink()
		v := signedIn(l)
		for i := 0; i < 2; i++ {
			e.clock.Add(29 * time.Minute)
			if p := v.Get(e.base(l)); !isBrowse(p) {
				t.Fatalf("after 29 idle minutes: %s", p)
			}
		}
		e.clock.Add(sesame.SessionIdle + time.Second)
		if p := v.Get(e.base(l)); !isSignIn(p) {
			t.Fatalf("after 30 idle minutes: %s", p)
		}
	})
	t.Run("12 hours at most", func(t *testing.T) {
		l := newLink()
		v := signedIn(l)
		var elapsed time.Duration
		for elapsed+25*time.Minute < sesame.SessionMaxAge {
			e.clock.Add(25 * time.Minute)
			elapsed += 25 * time.Minute
			if p := v.Get(e.base(l)); !isBrowse(p) {
				t.Fatalf("active after %s: %s", elapsed, p)
			}
		}
		e.clock.Add(sesame.SessionMaxAge - elapsed + time.Second)
		if p := v.Get(e.base(l)); !isSignIn(p) {
			t.Fatalf("after 12 h: %s", p)
		}
	})
}

// A session ends with its link, however recently it signed in. (Its own
// env: the clock starts at the wall clock, which the cookie's Max-Age is
// computed against.)
func TestPortal_SessionNeverOutlivesTheLink(t *testing.T) {
	t.Parallel()
	e := newPortalEnv(t, portalCheapPasswords)
	f := e.upload("/e", "e.txt", []byte("e"))
	dead := e.deadPage()
	exp := e.clock.Now().Add(45 * time.Minute).UTC().Truncate(time.Second)
	l := e.createLinks(map[string]any{"targets": []string{f.ID}, "authenticators": []any{pw(goodPassword)}, "expires_at": exp.Format(time.RFC3339)})[0]
	v := e.visitor()
	p := v.password(l, 0, goodPassword)
	c := p.Cookie(portalSessionCookie(l.ID))
	if p.Code != http.StatusSeeOther || c == nil {
		t.Fatalf("sign-in: %s", p)
	}
	if left := int(exp.Sub(e.clock.Now()).Seconds()) + 1; c.MaxAge > left {
		t.Errorf("cookie Max-Age %d outlives the link (%d s left)", c.MaxAge, left)
	}
	e.clock.Add(20 * time.Minute)
	if p := v.Get(e.base(l)); !isBrowse(p) {
		t.Fatalf("before expiry: %s", p)
	}
	e.clock.Add(20 * time.Minute)
	if p := v.Get(e.base(l)); !isBrowse(p) {
		t.Fatalf("before expiry: %s", p)
	}
	e.clock.Add(exp.Sub(e.clock.Now()) + time.Second)
	wantDead(t, dead, v.Get(e.base(l)), "after the link expired")
	wantDead(t, dead, v.Get(e.base(l)+"/f/"+f.ID), "file after the link expired")
}

func TestPortal_DeadLinksLookAlike(t *testing.T) {
	t.Parallel()
	e := newPortalEnv(t, portalCheapPasswords)
	f := e.upload("/d", "d.txt", []byte("d"))
	mk := func(extra ...any) linkObj {
		m := map[string]any{"targets": []string{f.ID}, "authenticators": []any{pw(goodPassword)}}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i].(string)] = extra[i+1]
		}
		return e.createLinks(m)[0]
	}
	expired := mk("expires_at", e.clock.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	deleted := mk()
	e.deleteLink(deleted.ID)
	exhausted := mk("max_access_count", 1)
	e.visitor().signIn(exhausted, goodPassword)
	locked := mk()
	e.clock.Add(2 * time.Hour) // expired is now past its expiry; nothing else is
	lv := e.visitor()
	for i := 0; i < sesame.LockAfterFailures; i++ {
		lv.IP = fmt.Sprintf("10.3.%d.%d", i/200, i%200+1)
		wantCode(t, lv.password(locked, 0, "wrong password"), http.StatusUnauthorized, fmt.Sprintf("locking failure %d", i+1))
	}

	cases := []struct{ name, path string }{
		{"unknown", "/s/" + strings.Repeat("Q", 43)},
		{"malformed short", "/s/abc"},
		{"malformed long", "/s/" + strings.Repeat("Q", 44)},
		{"malformed characters", "/s/" + strings.Repeat("%21", 43)},
		{"expired", e.base(expired)},
		{"deleted", e.base(deleted)},
		{"exhausted", e.base(exhausted)},
		{"locked", e.base(locked)},
	}
	var first *portalPage
	headers := func(p *portalPage) http.Header {
		h := p.Header.Clone()
		h.Del("Date")
		h.Del("X-Request-Id")
		return h
	}
	names := func(h http.Header) []string {
		var n []string
		for k := range h {
			n = append(n, k)
		}
		sort.Strings(n)
		return n
	}
	for _, tc := range cases {
		for _, method := range []string{"GET", "POST password", "POST malformed form", "POST code/send"} {
			v := e.visitor()
			v.Get(e.base(mk())) // every visitor already holds a pre-session cookie
			var p *portalPage
			switch method {
			case "GET":
				p = v.Get(tc.path)
			case "POST password":
				p = v.Post(tc.path+"/password", url.Values{"auth": {"0"}, "password": {goodPassword}})
			case "POST malformed form":
				// Liveness is decided before the body is read.
				req := v.NewRequest(http.MethodPost, tc.path+"/password", strings.NewReader("a=%zz"))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				p = v.Do(req)
			default:
				p = v.Post(tc.path+"/code/send", url.Values{"auth": {"0"}})
			}
			what := tc.name + " " + method
			if p.Code != http.StatusNotFound {
				t.Errorf("%s: got %d, want 404", what, p.Code)
				continue
			}
			if first == nil {
				first = p
				continue
			}
			if !bytes.Equal(first.Body, p.Body) {
				t.Errorf("%s: body differs from the unknown link's", what)
			}
			if diff := cmp.Diff(names(headers(first)), names(headers(p))); diff != "" {
				t.Errorf("%s: header names differ (-unknown +this):\n%s", what, diff)
			}
			if diff := cmp.Diff(headers(first), headers(p)); diff != "" {
				t.Errorf("%s: headers differ (-unknown +this):\n%s", what, diff)
			}
		}
	}
	if first != nil && len(first.Cookies()) != 0 {
		t.Errorf("the dead page sets cookies: %q", first.Header.Values("Set-Cookie"))
	}
}

func TestPortal_ConcurrentSignInsRespectAccessCap(t *testing.T) {
	t.Parallel()
	e := newPortalEnv(t, portalCheapPasswords)
	f := e.upload("/p", "p.txt", []byte("p"))
	l := e.createLinks(map[string]any{"targets": []string{f.ID}, "authenticators": []any{pw(goodPassword)}, "max_access_count": 5})[0]
	base := e.base(l)
	const n = 200
	visitors := make([]*portalVisitor, n)
	tokens := make([]string, n)
	for i := range visitors {
		visitors[i] = e.visitor()
		tokens[i] = visitors[i].csrf(base)
	}
	codes := make([]int, n)
	sessions := make([]bool, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range visitors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := visitors[i]
			req := v.FormRequest(base+"/password", url.Values{"csrf": {tokens[i]}, "auth": {"0"}, "password": {goodPassword}})
			<-start
			p, err := v.Try(req)
			if err != nil {
				t.Error(err)
				return
			}
			codes[i] = p.Code
			sessions[i] = p.Code == http.StatusSeeOther && p.Header.Get("Location") == base && p.Cookie(portalSessionCookie(l.ID)) != nil
		}()
	}
	close(start)
	wg.Wait()
	won, byCode := 0, map[int]int{}
	for i := range codes {
		byCode[codes[i]]++
		if sessions[i] {
			won++
		}
	}
	if won != 5 || byCode[http.StatusSeeOther] != 5 || byCode[http.StatusNotFound] != n-5 {
		t.Errorf("%d sessions, statuses %v; want 5 sessions (303) and %d dead pages (404)", won, byCode, n-5)
	}
	if st := e.linkState(l.ID); st.AccessCount != 5 {
		t.Errorf("access_count %d, want 5", st.AccessCount)
	}
}

func TestPortal_ConcurrentDownloadsRespectDownloadCap(t *testing.T) {
	t.Parallel()
	e := newPortalEnv(t, portalCheapPasswords)
	data := bytes.Repeat([]byte("0123456789abcdef"), 4096)
	f := e.upload("/dl", "big.bin", data)
	l := e.createLinks(map[string]any{"targets": []string{f.ID}, "authenticators": []any{pw(goodPassword)}, "max_access_count": 100,
		"max_downloads": 3})[0]
	const n = 100
	visitors := make([]*portalVisitor, n)
	for i := range visitors {
		visitors[i] = e.visitor()
		visitors[i].signIn(l, goodPassword)
	}
	path := e.base(l) + "/f/" + f.ID
	codes := make([]int, n)
	full := make([]bool, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range visitors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := visitors[i]
			req := v.NewRequest(http.MethodGet, path, nil)
			<-start
			p, err := v.Try(req)
			if err != nil {
				t.Error(err)
				return
			}
			codes[i] = p.Code
			full[i] = bytes.Equal(p.Body, data)
		}()
	}
	close(start)
	wg.Wait()
	byCode, got := map[int]int{}, 0
	for i := range codes {
		byCode[codes[i]]++
		if codes[i] == http.StatusOK {
			if !full[i] {
				t.Errorf("download %d: 200 without the whole file", i)
			}
			got++
		}
	}
	if got != 3 || byCode[http.StatusForbidden] != n-3 {
		t.Errorf("statuses %v, want 3×200 and %d×403", byCode, n-3)
	}
	if st := e.linkState(l.ID); st.DownloadCount != 3 {
		t.Errorf("download_count %d, want 3", st.DownloadCount)
	}
}

func TestPortal_RangeRequestsReuseTheClaim(t *testing.T) {
	t.Parallel()
	e := newPortalEnv(t, portalCheapPasswords)
	data := []byte("0123456789abcdefghij")
	f := e.upload("/r", "r.bin", data)
	l := e.createLinks(map[string]any{"targets": []string{f.ID}, "authenticators": []any{pw(goodPassword)}, "max_downloads": 2})[0]
	v := e.visitor()
	v.signIn(l, goodPassword)
	path := e.base(l) + "/f/" + f.ID
	p := v.Get(path, "Range", "bytes=0-3")
	if p.Code != http.StatusPartialContent || string(p.Body) != "0123" || p.Header.Get("Content-Range") != fmt.Sprintf("bytes 0-3/%d", len(data)) {
		t.Fatalf("first range: %s", p)
	}
	p = v.Get(path, "Range", "bytes=4-")
	if p.Code != http.StatusPartialContent || string(p.Body) != string(data[4:]) {
		t.Fatalf("second range: %s", p)
	}
	if st := e.linkState(l.ID); st.DownloadCount != 1 {
		t.Fatalf("download_count %d after two ranges in one session, want 1", st.DownloadCount)
	}
	// Another session pays for its own download.
	w := e.visitor()
	w.signIn(l, goodPassword)
	if p := w.Get(path, "Range", "bytes=0-0"); p.Code != http.StatusPartialContent {
		t.Fatalf("other session: %s", p)
	}
	if st := e.linkState(l.ID); st.DownloadCount != 2 {
		t.Fatalf("download_count %d, want 2", st.DownloadCount)
	}
	// The cap is reached, but both sessions may resume what they paid for.
	if p := v.Get(path, "Range", "bytes=10-"); p.Code != http.StatusPartialContent || string(p.Body) != string(data[10:]) {
		t.Fatalf("resume after the cap: %s", p)
	}
	x := e.visitor()
	x.signIn(l, goodPassword)
	if p := x.Get(path); p.Code != http.StatusForbidden || !strings.Contains(p.Text(), "Download limit reached") {
		t.Fatalf("third session past the cap: %s", p)
	}
	if st := e.linkState(l.ID); st.DownloadCount != 2 {
		t.Fatalf("download_count %d, want 2", st.DownloadCount)
	}
}

func TestPortal_ZeroByteDownloadsAreRefunded(t *testing.T) {
	t.Parallel()
	gate := &blobGate{}
	e := newPortalEnv(t, portalCheapPasswords, gate.install)
	data := bytes.Repeat([]byte("refund me "), 100_000) // 1 MB
	f := e.upload("/z", "z.bin", data)
	// Each case has its own link, capped at one download.
	newLink := func() (linkObj, string) {
		l := e.createLinks(map[string]any{"targets": []string{f.ID}, "authenticators": []any{pw(goodPassword)}, "max_downloads": 1})[0]
		return l, e.base(l) + "/f/" + f.ID
	}
	downloads := func(l linkObj, what string, want int) {
		t.Helper()
		if st := e.linkState(l.ID); st.DownloadCount != want {
			t.Errorf("%s: download_count %d, want %d", what, st.DownloadCount, want)
		}
	}
	// served reports when the server has finished a GET of the file.
	served := make(chan string, 10)
	e.onServed(func(r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/f/"+f.ID) {
			served <- r.URL.Path
		}
	})
	defer e.onServed(nil)
	waitServed := func(path string) {
		t.Helper()
		for {
			select {
			case p := <-served:
				if p == path {
					return
				}
			case <-time.After(20 * time.Second):
				t.Fatal("the server did not finish the download")
			}
		}
	}
	// abandon sends a GET as w on a raw connection and drops it: at once,
	// or (whileSending) once the slot is claimed and the first byte is due,
	// with a reset so that the server's writes fail.
	abandon := func(l linkObj, path string, w *portalVisitor, whileSending bool) {
		t.Helper()
		name := portalSessionCookie(l.ID)
		conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nCookie: %s=%s\r\n\r\n", path, e.srv.Listener.Addr(), name, w.Cookie(name))
		if whileSending {
			select {
			case <-gate.reading:
			case <-time.After(20 * time.Second):
				t.Fatal("the server never started sending")
			}
			conn.(*net.TCPConn).SetLinger(0)
		}
		conn.Close()
		waitServed(path)
	}

	t.Run("HEAD", func(t *testing.T) {
		l, path := newLink()
		v := e.visitor()
		v.signIn(l, goodPassword)
		head := v.Do(v.NewRequest(http.MethodHead, path, nil))
		if head.Code != http.StatusOK || len(head.Body) != 0 || head.Header.Get("Content-Length") != strconv.Itoa(len(data)) {
			t.Fatalf("HEAD: %s", head)
		}
		downloads(l, "after a HEAD", 0)
	})
	// A client that sends its request and merely closes (FIN) cannot be
	// told from one that read the reply: the server's writes still land in
	// the socket buffer, so that case is not asserted. A reset before the
	// first byte (below) is what "sent nothing" means on the wire.
	t.Run("client gone before the first byte", func(t *testing.T) {
		l, path := newLink()
		w := e.visitor()
		w.signIn(l, goodPassword)
		gate.arm()
		abandon(l, path, w, true)
		downloads(l, "after a download abandoned before its first byte", 0)
		var outcome string
		for _, ev := range e.linkAudit(l.ID) {
			if ev.Action == "download" {
				outcome = fmt.Sprintf("%s %v", ev.Outcome, ev.Detail)
			}
		}
		if outcome != "refunded map[bytes:0 method:GET]" {
			t.Errorf("audit of the abandoned download: %q, want refunded with 0 bytes", outcome)
		}
		// The slot is still there for a real download.
		x := e.visitor()
		x.signIn(l, goodPassword)
		if p := x.Get(path); p.Code != http.StatusOK || !bytes.Equal(p.Body, data) {
			t.Fatalf("real download: %d, %d bytes", p.Code, len(p.Body))
		}
		waitServed(path)
		downloads(l, "after a real download", 1)
	})
}

func pngBytes(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := 0; x < w; x++ {
		for y := 0; y < h; y++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 200, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zipEntries(t *testing.T, body []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("not a ZIP: %v", err)
	}
	out := map[string]string{}
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[zf.Name] = string(b)
	}
	return out
}

func TestPortal_Downloads(t *testing.T) {
	t.Parallel()
	e := newPortalEnv(t, portalCheapPasswords)
	text := "plain text, safe to show\n"
	notes := e.upload("/dl", "notes.txt", []byte(text))
	htmlFile := e.upload("/dl", "page.html", []byte("<html><body><script>alert(1)</script></body></html>"))
	svg := e.upload("/dl", "pic.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`))
	trick := e.upload("/dl", "trick.txt", []byte("<!DOCTYPE html><html><script>alert(1)</script></html>"))
	pic := pngBytes(t, 200, 100)
	img := e.upload("/dl", "img.png", pic)
	docs := e.mkdir("/dl/docs")
	inner := e.upload("/dl/docs", "inner.txt", []byte("inside"))
	targets := []string{notes.ID, htmlFile.ID, svg.ID, trick.ID, img.ID, docs.ID}
	l := e.createLinks(map[string]any{"targets": targets, "authenticators": []any{pw(goodPassword)}, "title": "Bundle"})[0]
	base := e.base(l)
	v := e.visitor()
	v.signIn(l, goodPassword)

	t.Run("one file", func(t *testing.T) {
		p := v.Get(base + "/f/" + notes.ID)
		if p.Code != http.StatusOK || string(p.Body) != text {
			t.Fatalf("download: %s", p)
		}
		for k, want := range map[string]string{"Content-Disposition": `attachment; filename=notes.txt`, "X-Content-Type-Options": "nosniff",
			"Cache-Control": "no-store"} {
			if got := p.Header.Get(k); got != want {
				t.Errorf("%s: %q, want %q", k, got, want)
			}
		}
		r := v.Get(base+"/f/"+notes.ID, "Range", "bytes=6-9")
		if r.Code != http.StatusPartialContent || string(r.Body) != text[6:10] || r.Header.Get("Content-Range") != fmt.Sprintf("bytes 6-9/%d", len(text)) {
			t.Errorf("Range: %s", r)
		}
		etag := p.Header.Get("ETag")
		if etag == "" {
			t.Fatal("no ETag")
		}
		if r := v.Get(base+"/f/"+notes.ID, "Range", "bytes=0-4", "If-Range", etag); r.Code != http.StatusPartialContent || string(r.Body) != text[:5] {
			t.Errorf("If-Range with the current ETag: %s", r)
		}
		if r := v.Get(base+"/f/"+notes.ID, "Range", "bytes=0-4", "If-Range", `"stale"`); r.Code != http.StatusOK || string(r.Body) != text {
			t.Errorf("If-Range with a stale ETag: %s", r)
		}
	})
	t.Run("preview", func(t *testing.T) {
		p := v.Get(base + "/v/" + notes.ID)
		if p.Code != http.StatusOK || string(p.Body) != text || p.Header.Get("Content-Type") != "text/plain; charset=utf-8" ||
			!strings.HasPrefix(p.Header.Get("Content-Disposition"), "inline") || p.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("text preview: %s", p)
		}
		if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") {
			t.Errorf("text preview CSP %q lacks sandbox", csp)
		}
		for _, o := range []object{htmlFile, svg, trick} {
			p := v.Get(base + "/v/" + o.ID)
			if p.Code != http.StatusSeeOther || p.Header.Get("Location") != base+"/f/"+o.ID {
				t.Errorf("preview of %s should send to the download: %s", o.Name, p)
			}
			d := v.Get(base + "/f/" + o.ID)
			if d.Code != http.StatusOK || !strings.HasPrefix(d.Header.Get("Content-Disposition"), "attachment") ||
				d.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(d.Header.Get("Content-Security-Policy"), "sandbox") {
				t.Errorf("download of %s: %s", o.Name, d)
			}
		}
	})
	t.Run("zip of all", func(t *testing.T) {
		p := v.Get(base + "/zip")
		if p.Code != http.StatusOK || p.Header.Get("Content-Type") != "application/zip" ||
			p.Header.Get("Content-Disposition") != "attachment; filename=Bundle.zip" {
			t.Fatalf("zip: %s", p)
		}
		got := zipEntries(t, p.Body)
		want := map[string]string{"notes.txt": text, "page.html": "<html><body><script>alert(1)</script></body></html>",
			"pic.svg":   `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`,
			"trick.txt": "<!DOCTYPE html><html><script>alert(1)</script></html>", "img.png": string(pic), "docs/": "", "docs/inner.txt": "inside"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("zip entries (-want +got):\n%s", diff)
		}
	})
	t.Run("zip of ticked files", func(t *testing.T) {
		csrf := v.csrf(base)
		p := v.Post(base+"/zip", url.Values{"csrf": {csrf}, "id": {notes.ID, inner.ID}})
		if p.Code != http.StatusOK || p.Header.Get("Content-Type") != "application/zip" {
			t.Fatalf("zip: %s", p)
		}
		if diff := cmp.Diff(map[string]string{"notes.txt": text, "inner.txt": "inside"}, zipEntries(t, p.Body)); diff != "" {
			t.Errorf("zip entries (-want +got):\n%s", diff)
		}
		if got := p.Header.Get("Content-Disposition"); got != "attachment; filename=Bundle.zip" {
			t.Errorf("ticked files' zip: Content-Disposition %q, want it named after the link's title", got)
		}
		folder := v.Post(base+"/zip", url.Values{"csrf": {csrf}, "id": {docs.ID}})
		if got := folder.Header.Get("Content-Disposition"); folder.Code != http.StatusOK || got != "attachment; filename=docs.zip" {
			t.Errorf("a ticked folder's zip: %d, Content-Disposition %q, want docs.zip", folder.Code, got)
		}
		outside := e.upload("/elsewhere", "secret.txt", []byte("no"))
		if p := v.Post(base+"/zip", url.Values{"csrf": {csrf}, "id": {notes.ID, outside.ID}}); p.Code != http.StatusNotFound {
			t.Errorf("zip naming a file outside the link: %s", p)
		}
	})
	t.Run("thumbnail", func(t *testing.T) {
		p := v.Get(base + "/th/" + img.ID)
		if p.Code != http.StatusOK || p.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("thumbnail: %s", p)
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(p.Body))
		if err != nil || cfg.Width != 96 || cfg.Height != 48 {
			t.Errorf("thumbnail %+v, %v: want 96×48", cfg, err)
		}
	})
}

func TestPortal_UploadLink(t *testing.T) {
	t.Parallel()
	e := newPortalEnv(t, portalCheapPasswords)
	drop := e.mkdir("/drop")
	l := e.createLinks(map[string]any{"targets": []string{drop.ID}, "link_type": "upload", "authenticators": []any{pw(goodPassword)}})[0]
	base := e.base(l)
	v := e.visitor()
	v.signIn(l, goodPassword)
	p := v.Get(base)
	if p.Code != http.StatusSeeOther || p.Header.Get("Location") != base+"/d/"+drop.ID {
		t.Fatalf("an upload link opens its folder: %s", p)
	}
	folderPage := base + "/d/" + drop.ID
	csrf := v.csrf(folderPage)

	p = v.upload(l, csrf, drop.ID, "", portalFile{"a.txt", []byte("aaa")}, portalFile{"b.txt", []byte("bbbb")})
	wantFlash(t, v, p, folderPage, "Uploaded “a.txt” and “b.txt”.")
	p = v.upload(l, csrf, drop.ID, "application/json", portalFile{"c.txt", []byte("c")})
	var res struct {
		Count int `json:"count"`
	}
	if p.Code != http.StatusOK || !strings.HasPrefix(p.Header.Get("Content-Type"), "application/json") || json.Unmarshal(p.Body, &res) != nil || res.Count != 1 {
		t.Fatalf("script upload: %s", p)
	}

	p = v.upload(l, csrf, drop.ID, "application/json",
		portalFile{"../../etc/passwd", []byte("p")},
		portalFile{`a\b.txt`, []byte("b")},
		portalFile{"CON.txt", []byte("con")},
		portalFile{"bad\x01na\x7fme.txt", []byte("ctl")},
		portalFile{"tab\there\x1b.txt", []byte("tab")},
		portalFile{"  .hidden. ", []byte("h")},
		portalFile{"report.pdf", []byte("%PDF-1.4 one")},
		portalFile{"report.pdf", []byte("%PDF-1.4 two")})
	if p.Code != http.StatusOK {
		t.Fatalf("upload of awkward names: %s", p)
	}
	got := e.childNames(drop.ID)
	// b.txt was uploaded first, so a\b.txt becomes "b (1).txt".
	want := []string{"_CON.txt", "a.txt", "b (1).txt", "b.txt", "badname.txt", "c.txt", "hidden", "passwd", "report (1).pdf", "report.pdf", "tabhere.txt"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stored names (-want +got):\n%s", diff)
	}
	mine := v.Get(folderPage)
	for _, n := range want {
		if !strings.Contains(mine.Text(), n) {
			t.Errorf("the uploader's page lacks %q", n)
		}
	}

	// Another visit sees none of it, and the folder's other files never show.
	e.upload("/drop", "owner-only.txt", []byte("private"))
	w := e.visitor()
	w.signIn(l, goodPassword)
	theirs := w.Get(folderPage)
	if theirs.Code != http.StatusOK || !strings.Contains(theirs.Text(), "Nothing uploaded yet in this visit.") {
		t.Fatalf("second visit: %s", theirs)
	}
	for _, n := range append(want, "owner-only.txt") {
		if strings.Contains(theirs.Text(), ">"+n) || strings.Contains(theirs.Text(), n+"<") {
			t.Errorf("second visit sees %q", n)
		}
	}
	if strings.Contains(mine.Text(), "owner-only") || strings.Contains(v.Get(folderPage).Text(), "owner-only") {
		t.Error("the uploader sees a file they did not upload")
	}
	// An upload link does not download.
	if p := v.Get(base + "/zip"); p.Code != http.StatusForbidden {
		t.Errorf("zip on an upload link: %s", p)
	}
}

func TestPortal_UploadLimits(t *testing.T) {
	t.Parallel()
	setup := func(t *testing.T, opts ...envOption) (*portalEnv, linkObj, *portalVisitor, string) {
		e := newPortalEnv(t, append([]envOption{portalCheapPasswords}, opts...)...)
		drop := e.mkdir("/drop")
		l := e.createLinks(map[string]any{"targets": []string{drop.ID}, "link_type": "upload", "authenticators": []any{pw(goodPassword)}})[0]
		v := e.visitor()
		v.signIn(l, goodPassword)
		return e, l, v, drop.ID
	}
	message := func(t *testing.T, p *portalPage, code int) string {
		t.Helper()
		var m struct {
			Message string `json:"message"`
		}
		if p.Code != code || json.Unmarshal(p.Body, &m) != nil || m.Message == "" {
			t.Fatalf("got %s, want %d with a JSON message", p, code)
		}
		return m.Message
	}

	t.Run("per file", func(t *testing.T) {
		e, l, v, drop := setup(t, func(c *gateway.Config) { c.Objects.Policy.MaxFileSize = 1000 })
		csrf := v.csrf(e.base(l) + "/d/" + drop)
		if msg := message(t, v.upload(l, csrf, drop, "application/json", portalFile{"big.bin", make([]byte, 1001)}), 413); !strings.Contains(msg, "big.bin") {
			t.Errorf("message %q does not name the file", msg)
		}
		message(t, v.upload(l, csrf, drop, "application/json", portalFile{"ok.bin", make([]byte, 1000)}), 200)
		if diff := cmp.Diff([]string{"ok.bin"}, e.childNames(drop)); diff != "" {
			t.Errorf("stored (-want +got):\n%s", diff)
		}
	})
	t.Run("per link files", func(t *testing.T) {
		e, l, v, drop := setup(t, func(c *gateway.Config) { c.Portal.Service.Limits.MaxLinkFiles = 2 })
		csrf := v.csrf(e.base(l) + "/d/" + drop)
		message(t, v.upload(l, csrf, drop, "application/json", portalFile{"1.txt", []byte("1")}, portalFile{"2.txt", []byte("2")}), 200)
		message(t, v.upload(l, csrf, drop, "application/json", portalFile{"3.txt", []byte("3")}), 413)
		// The cap is the link's, not the visit's.
		w := e.visitor()
		w.signIn(l, goodPassword)
		message(t, w.upload(l, w.csrf(e.base(l)+"/d/"+drop), drop, "application/json", portalFile{"4.txt", []byte("4")}), 413)
		if diff := cmp.Diff([]string{"1.txt", "2.txt"}, e.childNames(drop)); diff != "" {
			t.Errorf("stored (-want +got):\n%s", diff)
		}
	})
	t.Run("per link bytes", func(t *testing.T) {
		e, l, v, drop := setup(t, func(c *gateway.Config) { c.Portal.Service.Limits.MaxLinkBytes = 100 })
		csrf := v.csrf(e.base(l) + "/d/" + drop)
		message(t, v.upload(l, csrf, drop, "application/json", portalFile{"60.bin", make([]byte, 60)}), 200)
		message(t, v.upload(l, csrf, drop, "application/json", portalFile{"41.bin", make([]byte, 41)}), 413)
		message(t, v.upload(l, csrf, drop, "application/json", portalFile{"40.bin", make([]byte, 40)}), 200)
		message(t, v.upload(l, csrf, drop, "application/json", portalFile{"1.bin", make([]byte, 1)}), 413)
		if diff := cmp.Diff([]string{"40.bin", "60.bin"}, e.childNames(drop)); diff != "" {
			t.Errorf("stored (-want +got):\n%s", diff)
		}
		// Without JSON the visitor gets a page with the same status.
		if p := v.upload(l, csrf, drop, "", portalFile{"1.bin", make([]byte, 1)}); p.Code != 413 || !strings.Contains(p.Text(), "Upload failed") {
			t.Errorf("form upload over the cap: %s", p)
		}
	})
	t.Run("free disk", func(t *testing.T) {
		e := newPortalEnvStore(t, &store.Config{MinFreeSpace: 1 << 30, FreeSpace: func() (int64, error) { return 1 << 20, nil }}, portalCheapPasswords)
		d := e.mkdir("/drop")
		drop := d.ID
		l := e.createLinks(map[string]any{"targets": []string{drop}, "link_type": "upload", "authenticators": []any{pw(goodPassword)}})[0]
		v := e.visitor()
		v.signIn(l, goodPassword)
		csrf := v.csrf(e.base(l) + "/d/" + drop)
		message(t, v.upload(l, csrf, drop, "application/json", portalFile{"x.txt", []byte("x")}), 507)
		if got := e.childNames(drop); len(got) != 0 {
			t.Errorf("stored %v", got)
		}
	})
}

func TestPortal_Editor(t *testing.T) {
	t.Parallel()
	e := newPortalEnv(t, portalCheapPasswords)
	ed := e.mkdir("/ed")
	a := e.upload("/ed", "a.txt", []byte("a"))
	sub := e.mkdir("/ed/sub")
	c := e.upload("/ed/sub", "c.txt", []byte("c"))
	outside := e.upload("/outside", "x.txt", []byte("x"))
	l := e.createLinks(map[string]any{"targets": []string{ed.ID}, "link_type": "editor", "authenticators": []any{pw(goodPassword)}})[0]
	base := e.base(l)
	v := e.visitor()
	v.signIn(l, goodPassword)
	if p := v.Get(base); p.Code != http.StatusSeeOther || p.Header.Get("Location") != base+"/d/"+ed.ID {
		t.Fatalf("an editor link on one folder opens it: %s", p)
	}
	edPage := base + "/d/" + ed.ID
	csrf := v.csrf(edPage)
	rename := func(id, name string) *portalPage {
		return v.Post(base+"/rename", url.Values{"csrf": {csrf}, "id": {id}, "name": {name}})
	}
	del := func(id string) *portalPage { return v.Post(base+"/delete", url.Values{"csrf": {csrf}, "id": {id}}) }

	t.Run("rename", func(t *testing.T) {
		form := v.Get(base + "/rename/" + a.ID)
		if form.Code != http.StatusOK || !form.Has(`input[value="a.txt"]`) {
			t.Fatalf("rename form: %s", form)
		}
		wantFlash(t, v, rename(a.ID, "renamed.txt"), edPage, "Renamed to “renamed.txt”.")
		if o, _ := e.object(a.ID); o.Name != "renamed.txt" {
			t.Fatalf("name after rename: %q", o.Name)
		}
		for _, bad := range []string{"../x", "a/b", `a\b`, "", "   ", "NUL", "nul.txt", ".", "..", "x\x00y"} {
			p := rename(a.ID, bad)
			if p.Code != http.StatusBadRequest {
				t.Errorf("rename to %q: %s", bad, p)
				continue
			}
			// The form comes back with the name as typed and the error
			// beside the field.
			in := p.First("input#name")
			if in == nil || in.Attr("value") != strings.ReplaceAll(bad, "\x00", "\uFFFD") || in.Attr("aria-invalid") != "true" || in.Attr("aria-describedby") != "name-error" ||
				p.First("#name-error") == nil || p.First("#name-error").Text() == "" {
				t.Errorf("rename to %q: the form does not keep the name and show the error beside it: %s", bad, p.Text())
			}
		}
		if o, _ := e.object(a.ID); o.Name != "renamed.txt" {
			t.Errorf("a refused rename changed the name to %q", o.Name)
		}
		if diff := cmp.Diff([]string{"renamed.txt", "sub"}, e.childNames(ed.ID)); diff != "" {
			t.Errorf("folder after refused renames (-want +got):\n%s", diff)
		}
	})
	t.Run("out of scope", func(t *testing.T) {
		for what, p := range map[string]*portalPage{
			"rename outside": rename(outside.ID, "y.txt"),
			"delete outside": del(outside.ID),
			"rename form":    v.Get(base + "/rename/" + outside.ID),
			"delete form":    v.Get(base + "/delete/" + outside.ID),
			"download":       v.Get(base + "/f/" + outside.ID),
			"bad id":         rename("pos_nope", "y.txt"),
		} {
			if p.Code != http.StatusNotFound {
				t.Errorf("%s: %s", what, p)
			}
		}
		if o, ok := e.object(outside.ID); !ok || o.Name != "x.txt" {
			t.Errorf("the outside file changed: %+v", o)
		}
	})
	t.Run("the shared folder itself", func(t *testing.T) {
		if p := rename(ed.ID, "other"); p.Code != http.StatusForbidden {
			t.Errorf("rename the target: %s", p)
		}
		if p := del(ed.ID); p.Code != http.StatusForbidden {
			t.Errorf("delete the target: %s", p)
		}
		if o, ok := e.object(ed.ID); !ok || o.Name != "ed" {
			t.Errorf("the target changed: %+v", o)
		}
	})
	t.Run("delete", func(t *testing.T) {
		confirm := v.Get(base + "/delete/" + sub.ID)
		if confirm.Code != http.StatusOK || !strings.Contains(confirm.Text(), "everything in it") || !confirm.Has(`form[action="`+base+`/delete"]`) {
			t.Fatalf("confirmation page: %s", confirm)
		}
		if _, ok := e.object(sub.ID); !ok {
			t.Fatal("the confirmation page deleted already")
		}
		wantFlash(t, v, del(sub.ID), edPage, "Deleted “sub”.")
		if _, ok := e.object(sub.ID); ok {
			t.Error("the folder is still there")
		}
		if _, ok := e.object(c.ID); ok {
			t.Error("the folder's file is still there")
		}
	})
	t.Run("mkdir", func(t *testing.T) {
		p := v.Post(base+"/mkdir", url.Values{"csrf": {csrf}, "folder": {ed.ID}, "name": {"new folder"}})
		wantFlash(t, v, p, edPage, "Created the folder “new folder”.")
		// A taken name comes back in the folder's page, as typed, with the
		// error beside the field.
		again := v.Post(base+"/mkdir", url.Values{"csrf": {csrf}, "folder": {ed.ID}, "name": {"new folder"}})
		in := again.First("input#newfolder")
		if again.Code != http.StatusConflict || in == nil || in.Attr("value") != "new folder" || in.Attr("aria-describedby") != "newfolder-error" ||
			again.First("#newfolder-error") == nil || !again.Has("table.files") {
			t.Errorf("mkdir of a taken name: %s", again)
		}
		if diff := cmp.Diff([]string{"new folder", "renamed.txt"}, e.childNames(ed.ID)); diff != "" {
			t.Errorf("folder (-want +got):\n%s", diff)
		}
		if p := v.Post(base+"/mkdir", url.Values{"csrf": {csrf}, "folder": {outside.ID}, "name": {"n"}}); p.Code != http.StatusNotFound {
			t.Errorf("mkdir outside: %s", p)
		}
		if p := v.Post(base+"/mkdir", url.Values{"csrf": {csrf}, "folder": {ed.ID}, "name": {"../up"}}); p.Code != http.StatusBadRequest {
			t.Errorf("mkdir ../up: %s", p)
		}
	})
}

func TestPortal_PageHeaders(t *testing.T) {
	t.Parallel()
	e := newPortalEnv(t, portalCheapPasswords)
	ed := e.mkdir("/ph")
	a := e.upload("/ph", "a.txt", []byte("a"))
	l := e.createLinks(map[string]any{"targets": []string{ed.ID}, "link_type": "editor", "authenticators": []any{pw(goodPassword)}})[0]
	base := e.base(l)
	v := e.visitor()
	signin := v.Get(base)
	again := v.Get(base)
	nonce := func(p *portalPage) string {
		s := p.First("script[nonce]")
		if s == nil {
			t.Fatalf("no <script nonce> on %s", p)
		}
		return s.Attr("nonce")
	}
	if nonce(signin) == nonce(again) {
		t.Error("the script nonce is the same on two responses")
	}
	bad := v.Post(base+"/password", url.Values{"auth": {"0"}, "password": {"x"}}) // a notice page
	v.signIn(l, goodPassword)
	pages := map[string]*portalPage{"sign-in": signin, "csrf notice": bad, "browse": v.Get(base + "/d/" + ed.ID),
		"confirm": v.Get(base + "/rename/" + a.ID), "dead": e.deadPage()}
	for name, p := range pages {
		if !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
			t.Errorf("%s: Content-Type %q", name, p.Header.Get("Content-Type"))
		}
		csp := p.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || p.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: CSP %q, Referrer-Policy %q", name, csp, p.Header.Get("Referrer-Policy"))
		}
		if name == "dead" {
			continue
		}
		if n := nonce(p); !strings.Contains(csp, "'nonce-"+n+"'") {
			t.Errorf("%s: nonce %q not in CSP %q", name, n, csp)
		}
	}
}

func TestPortal_Audit(t *testing.T) {
	t.Parallel()
	e := newPortalEnv(t, portalCheapPasswords)
	ed := e.mkdir("/au")
	a := e.upload("/au", "a.txt", []byte("twelve bytes"))
	b := e.upload("/au", "b.txt", []byte("b"))
	l := e.createLinks(map[string]any{"targets": []string{ed.ID}, "link_type": "editor",
		"authenticators": []any{pw(goodPassword), email("bob@example.com")}})[0]
	base := e.base(l)
	v := e.visitor()
	wantCode(t, v.password(l, 0, "wrong"), http.StatusUnauthorized, "wrong password")
	v.sendCode(l, 1)
	for i := 0; i < 6; i++ { // until the address is slowed down
		if p := v.password(l, 0, "wrong"); p.Code == http.StatusTooManyRequests {
			break
		}
	}
	e.clock.Add(sesame.MaxBackoff)
	v.IP = "10.4.0.1"
	v.signIn(l, goodPassword)
	edPage := base + "/d/" + ed.ID
	csrf := v.csrf(edPage)
	if p := v.Get(base + "/f/" + a.ID); p.Code != http.StatusOK {
		t.Fatalf("download: %s", p)
	}
	if p := v.upload(l, csrf, ed.ID, "application/json", portalFile{"up.txt", []byte("up")}); p.Code != http.StatusOK {
		t.Fatalf("upload: %s", p)
	}
	if p := v.Post(base+"/rename", url.Values{"csrf": {csrf}, "id": {a.ID}, "name": {"a2.txt"}}); p.Code != http.StatusSeeOther {
		t.Fatalf("rename: %s", p)
	}
	if p := v.Post(base+"/delete", url.Values{"csrf": {csrf}, "id": {b.ID}}); p.Code != http.StatusSeeOther {
		t.Fatalf("delete: %s", p)
	}

	events := e.linkAudit(l.ID)
	find := func(action, outcome string) *portalAuditEvent {
		for i := range events {
			if events[i].Action == action && strings.HasPrefix(events[i].Outcome, outcome) {
				return &events[i]
			}
		}
		t.Errorf("no %s %s event in %+v", action, outcome, events)
		return nil
	}
	visitorEvent := func(ev *portalAuditEvent, ip string) {
		if ev != nil && (ev.Actor != "visitor" || ev.ActorType != "session" || ev.LinkID != l.ID || ev.IP != ip) {
			t.Errorf("event %+v: want actor visitor, actor_type session, link %s, ip %s", ev, l.ID, ip)
		}
	}
	visitorEvent(find("signin", "failure:401"), "127.0.0.1")
	visitorEvent(find("code.send", "success"), "127.0.0.1")
	visitorEvent(find("signin.throttled", "failure:429"), "127.0.0.1")
	var sess string
	if ev := find("signin", "success"); ev != nil {
		sess = ev.Actor
		if !strings.HasPrefix(sess, "ses_") || ev.ActorType != "session" || ev.IP != "10.4.0.1" || ev.LinkID != l.ID || ev.Detail["auth_type"] != "password" {
			t.Errorf("sign-in event %+v", ev)
		}
	}
	for _, w := range []struct{ action, object string }{{"download", a.ID}, {"upload", ""}, {"rename", a.ID}, {"delete", b.ID}} {
		ev := find(w.action, "success")
		if ev == nil {
			continue
		}
		if ev.Actor != sess || ev.ActorType != "session" || ev.IP != "10.4.0.1" || ev.LinkID != l.ID || (w.object != "" && ev.ObjectID != w.object) {
			t.Errorf("%s event %+v: want actor %s (session), ip 10.4.0.1, link %s, object %s", w.action, ev, sess, l.ID, w.object)
		}
		switch w.action {
		case "download":
			if ev.Detail["bytes"] != "12" {
				t.Errorf("download event bytes %q, want 12", ev.Detail["bytes"])
			}
		case "upload":
			if ev.Detail["bytes"] != "2" || ev.Detail["name"] != "up.txt" || ev.ObjectID == "" {
				t.Errorf("upload event %+v", ev)
			}
		}
	}
}

// TestPortal_UploadCapsAreReservations sends many uploads at once to a
// link with small caps: the caps are one conditional UPDATE each, so no
// more files or bytes are stored than they allow.
func TestPortal_UploadCapsAreReservations(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		opt       envOption
		size      int
		wantFiles int
	}{
		{"files", func(c *gateway.Config) { c.Portal.Service.Limits.MaxLinkFiles = 1 }, 10, 1},
		{"bytes", func(c *gateway.Config) { c.Portal.Service.Limits.MaxLinkBytes = 250 }, 100, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newPortalEnv(t, portalCheapPasswords, tc.opt)
			drop := e.mkdir("/drop")
			l := e.createLinks(map[string]any{"targets": []string{drop.ID}, "link_type": "upload", "authenticators": []any{pw(goodPassword)}})[0]
			v := e.visitor()
			v.signIn(l, goodPassword)
			csrf := v.csrf(e.base(l) + "/d/" + drop.ID)
			const n = 20
			codes := make(chan int, n)
			var wg sync.WaitGroup
			for i := 0; i < n; i++ {
				ct, body := portalUploadForm(t, csrf, drop.ID, portalFile{fmt.Sprintf("f%02d.bin", i), make([]byte, tc.size)})
				req := v.NewRequest(http.MethodPost, e.base(l)+"/upload", bytes.NewReader(body))
				req.Header.Set("Content-Type", ct)
				req.Header.Set("Accept", "application/json")
				wg.Add(1)
				go func() {
					defer wg.Done()
					p, err := v.Try(req)
					if err != nil {
						codes <- -1
						return
					}
					codes <- p.Code
				}()
			}
			wg.Wait()
			close(codes)
			got := map[int]int{}
			for c := range codes {
				got[c]++
			}
			if got[http.StatusOK] != tc.wantFiles || got[http.StatusRequestEntityTooLarge] != n-tc.wantFiles {
				t.Errorf("answers %v, want %d×200 and %d×413", got, tc.wantFiles, n-tc.wantFiles)
			}
			if names := e.childNames(drop.ID); len(names) != tc.wantFiles {
				t.Errorf("stored %v, want %d files", names, tc.wantFiles)
			}
		})
	}
}

// TestPortal_DownloadCountOnEveryLink: download_count moves on a link
// without max_downloads too; a Range request for the same file in the same
// visit and a thumbnail do not count again.
func TestPortal_DownloadCountOnEveryLink(t *testing.T) {
	t.Parallel()
	e := newPortalEnv(t, portalCheapPasswords)
	f := e.upload("/c", "c.txt", []byte("counted"))
	l := e.createLinks(map[string]any{"targets": []string{f.ID}, "authenticators": []any{pw(goodPassword)}})[0]
	v := e.visitor()
	v.signIn(l, goodPassword)
	path := e.base(l) + "/f/" + f.ID
	if p := v.Get(path); p.Code != http.StatusOK || string(p.Body) != "counted" {
		t.Fatalf("download: %s", p)
	}
	if p := v.Get(path, "Range", "bytes=0-2"); p.Code != http.StatusPartialContent {
		t.Fatalf("range: %s", p)
	}
	if got := e.linkState(l.ID).DownloadCount; got != 1 {
		t.Errorf("download_count %d after one download and a Range request of it, want 1", got)
	}
	w := e.visitor()
	w.signIn(l, goodPassword)
	w.Get(e.base(l) + "/zip")
	if got := e.linkState(l.ID).DownloadCount; got != 2 {
		t.Errorf("download_count %d after a ZIP in another visit, want 2", got)
	}
}

// TestPortal_LockIsAudited: the failure that locks an authenticator is
// recorded with the lock, in its transaction, saying until when.
func TestPortal_LockIsAudited(t *testing.T) {
	e := newPortalEnv(t, portalCheapPasswords)
	f := e.upload("/la", "la.txt", []byte("la"))
	l := e.createLinks(map[string]any{"targets": []string{f.ID}, "authenticators": []any{pw(goodPassword)}})[0]
	v := e.visitor()
	for i := 0; i < sesame.LockAfterFailures; i++ {
		v.IP = fmt.Sprintf("10.9.%d.%d", i/200, i%200+1)
		wantCode(t, v.password(l, 0, "wrong"), http.StatusUnauthorized, fmt.Sprintf("failure %d", i+1))
	}
	want := sesame.FormatTime(e.clock.Now().Add(sesame.FirstLock))
	n := 0
	for _, ev := range e.linkAudit(l.ID) {
		if ev.Action == "signin.locked" {
			n++
			if ev.Outcome != "failure" || ev.Detail["locked_until"] != want || ev.Detail["auth_type"] != "password" {
				t.Errorf("lock event %+v, want failure until %s", ev, want)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d lock events, want 1", n)
	}
}

// wantFlash checks that p redirects to page with a flash, and that the
// page then says text; the same URL with another name says nothing.
func wantFlash(t *testing.T, v *portalVisitor, p *portalPage, page, text string) {
	t.Helper()
	loc := p.Header.Get("Location")
	if p.Code != http.StatusSeeOther || !strings.HasPrefix(loc, page+"?done=") {
		t.Fatalf("want a redirect to %s with a flash: %s", page, p)
	}
	got := v.Get(loc)
	if f := got.First(".flash"); f == nil || f.Text() != text {
		t.Errorf("flash after %s: want %q, page %s", loc, text, got.Text())
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("n", "Call +1 555 0100 now")
	u.RawQuery = q.Encode()
	if forged := v.Get(u.String()); forged.Has(".flash") {
		t.Errorf("a flash with a changed name is shown: %s", forged.Text())
	}
}
