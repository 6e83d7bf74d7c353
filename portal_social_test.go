package sesame_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/internal/testrig"
	"github.com/sesame-share/sesame/store"
)

const socialEmail = "kate@example.com"

// socialEnv is the portal service with one OpenID Connect provider (the
// fake at the HTTP boundary) over a real store.
type socialEnv struct {
	*linkEnv
	idp *testrig.IdP
	ps  *sesame.PortalService
}

func newSocialEnv(t *testing.T) *socialEnv {
	t.Helper()
	policy := sesame.DefaultLinkPolicy()
	policy.SocialSignIn = true
	e := newLinkEnv(t, policy)
	idp := testrig.NewIdP(t, "https://share.example.com/oidc/callback", e.clock)
	ps := newPortalService(e)
	ps.Social = []sesame.OIDCProvider{idp.Provider("Acme SSO")}
	ps.SocialStates = e.st
	return &socialEnv{linkEnv: e, idp: idp, ps: ps}
}

// link makes a link opened by a social authenticator for socialEmail, and
// by more authenticators.
func (s *socialEnv) link(t *testing.T, maxAccess int, more ...sesame.AuthenticatorInput) *sesame.Link {
	t.Helper()
	it := s.item()
	it.Authenticators = append([]sesame.AuthenticatorInput{{Type: sesame.AuthSocial, Context: socialEmail}}, more...)
	it.MaxAccessCount = &maxAccess
	return s.create(t, it)[0]
}

var socialVisitor = sesame.Visitor{IP: "198.51.100.7", UserAgent: "test"}

// begin opens the link and starts a sign-in; it returns the visit, the
// state the browser keeps and where the provider sends it back.
func (s *socialEnv) begin(t *testing.T, ps *sesame.PortalService, l *sesame.Link) (*sesame.Visit, string, url.Values) {
	t.Helper()
	v, err := ps.Open(context.Background(), l.Token, noSession, socialVisitor)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	authURL, state, err := ps.BeginSocial(context.Background(), v, 0, 0)
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	return v, state, s.idp.Authorize(authURL)
}

func finish(ps *sesame.PortalService, bound string, back url.Values) (*sesame.Visit, error) {
	return ps.FinishSocial(context.Background(), sesame.SocialReturn{State: back.Get("state"), Bound: bound, Code: back.Get("code"),
		Error: back.Get("error"), Issuer: back.Get("iss")}, noSession, socialVisitor)
}

// signIn runs a whole sign-in at the provider as the account it is told.
func (s *socialEnv) signIn(t *testing.T, l *sesame.Link) (*sesame.Visit, error) {
	t.Helper()
	_, state, back := s.begin(t, s.ps, l)
	return finish(s.ps, state, back)
}

// failures returns the failure count of the link's first authenticator.
func (s *socialEnv) failures(t *testing.T, l *sesame.Link) (int, int) {
	t.Helper()
	got, err := s.st.LinkByID(context.Background(), l.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got.Authenticators[0].Failures, got.AccessCount
}

// signinEvents lists the link's sign-in events as "outcome reason".
func (s *socialEnv) signinEvents(t *testing.T, l *sesame.Link) []string {
	t.Helper()
	page, err := s.st.FindAudit(context.Background(), sesame.AuditFilter{Size: 100, Conds: []sesame.Cond{
		{Field: "link_id", Op: sesame.OpEq, Values: []string{l.ID}}, {Field: "action", Op: sesame.OpEq, Values: []string{"signin"}}}})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range page.Events {
		if ev.Detail["auth_type"] != "social" || ev.Detail["provider"] != "Acme SSO" {
			t.Errorf("sign-in event %+v: want auth_type social and provider Acme SSO", ev)
		}
		out = append(out, ev.Outcome+" "+ev.Detail["reason"])
	}
	return out
}

// The account the provider vouches for opens the link when its email
// address is the authenticator's, verified: one access, one session, and
// the event in the audit trail.
func TestPortalService_SocialSignIn(t *testing.T) {
	for _, tc := range []struct{ name, email string }{
		{"SameAddress", socialEmail},
		{"OtherCase", "Kate@EXAMPLE.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSocialEnv(t)
			l := s.link(t, 5)
			s.idp.SignInAs(tc.email, true)
			v, err := s.signIn(t, l)
			if err != nil {
				t.Fatalf("sign-in: %v", err)
			}
			if v.Session == nil || v.Session.AuthenticatorID != l.Authenticators[0].ID {
				t.Fatalf("session %+v, want one on the social authenticator", v.Session)
			}
			if fails, access := s.failures(t, l); fails != 0 || access != 1 {
				t.Errorf("failures %d and access count %d, want 0 and 1", fails, access)
			}
			if diff := cmp.Diff([]string{"success "}, s.signinEvents(t, l)); diff != "" {
				t.Errorf("audit (-want +got):\n%s", diff)
			}
			if _, err := s.ps.Open(context.Background(), l.Token, func(string) string { return v.Secret }, socialVisitor); err != nil {
				t.Errorf("the session does not open the link: %v", err)
			}
		})
	}
	t.Run("VerifiedAsString", func(t *testing.T) { // as Amazon Cognito sends it
		s := newSocialEnv(t)
		s.idp.SignInAs(socialEmail, "true")
		if _, err := s.signIn(t, s.link(t, 5)); err != nil {
			t.Errorf("sign-in: %v", err)
		}
	})
	t.Run("NoIssuerNotPromised", func(t *testing.T) { // RFC 9207 is optional for providers
		s := newSocialEnv(t)
		s.idp.SignInAs(socialEmail, true)
		s.idp.PromiseIssuer(false)
		s.idp.RedirectIssuer("")
		if _, err := s.signIn(t, s.link(t, 5)); err != nil {
			t.Errorf("sign-in: %v", err)
		}
	})
}

// Every other answer of the provider is refused with its reason, counted
// like a wrong password against the address and the authenticator (a
// cancel excepted) and audited.
func TestPortalService_SocialSignInRefused(t *testing.T) {
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	edit := func(k string, v any) func(*testrig.IdP) {
		return func(p *testrig.IdP) {
			p.SignInAs(socialEmail, true)
			p.Edit(func(c map[string]any) {
				if v == nil {
					delete(c, k)
				} else {
					c[k] = v
				}
			})
		}
	}
	as := func(email string, verified any) func(*testrig.IdP) {
		return func(p *testrig.IdP) { p.SignInAs(email, verified) }
	}
	for _, tc := range []struct {
		name   string
		setup  func(*testrig.IdP)
		want   error
		reason string // "": not counted
	}{
		{"OtherAddress", as("mallory@example.com", true), sesame.ErrSocialEmail, "email"},
		{"PlusTag", as("kate+share@example.com", true), sesame.ErrSocialEmail, "email"},
		{"Dots", as("k.ate@example.com", true), sesame.ErrSocialEmail, "email"},
		{"KelvinSign", as("\u212aate@example.com", true), sesame.ErrSocialEmail, "email"}, // strings.EqualFold would take it for k
		{"OtherDomain", as("kate@example.com.evil.test", true), sesame.ErrSocialEmail, "email"},
		{"NoAddress", as("", true), sesame.ErrSocialEmail, "email"},
		{"Unverified", as(socialEmail, false), sesame.ErrSocialUnverified, "unverified"},
		{"VerifiedMissing", as(socialEmail, nil), sesame.ErrSocialUnverified, "unverified"},
		{"UnverifiedAsString", as(socialEmail, "false"), sesame.ErrSocialUnverified, "unverified"},
		{"ForgedSignature", func(p *testrig.IdP) { p.SignInAs(socialEmail, true); p.ForgeWith(other) }, sesame.ErrSocialFailed, "token"},
		{"OtherAudience", edit("aud", "another-client"), sesame.ErrSocialFailed, "token"},
		{"SeveralAudiencesNoAZP", edit("aud", []string{testrig.IdPClientID, "another-client"}), sesame.ErrSocialFailed, "token"},
		{"OtherIssuer", edit("iss", "https://evil.example"), sesame.ErrSocialFailed, "token"},
		{"Expired", edit("exp", time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC).Unix()), sesame.ErrSocialFailed, "token"},
		{"OtherNonce", edit("nonce", "not-the-nonce"), sesame.ErrSocialFailed, "nonce"},
		{"NoNonce", edit("nonce", nil), sesame.ErrSocialFailed, "nonce"},
		{"RedirectFromAnotherIssuer", func(p *testrig.IdP) { p.SignInAs(socialEmail, true); p.RedirectIssuer("https://evil.example") },
			sesame.ErrSocialFailed, "issuer"}, // RFC 9207
		{"RedirectWithoutPromisedIssuer", func(p *testrig.IdP) { p.SignInAs(socialEmail, true); p.RedirectIssuer("") },
			sesame.ErrSocialFailed, "issuer"}, // RFC 9207: discovery promised iss
		{"Cancelled", func(p *testrig.IdP) { p.Deny() }, sesame.ErrSocialCancelled, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSocialEnv(t)
			l := s.link(t, 5)
			tc.setup(s.idp)
			v, err := s.signIn(t, l)
			if !errors.Is(err, tc.want) || sesame.KindOf(err) != sesame.Unauthenticated {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if v == nil || v.Session != nil || v.Link.ID != l.ID {
				t.Errorf("visit %+v: want the link, without a session", v)
			}
			wantFails, wantEvent := 1, "failure:401 "+tc.reason
			if tc.reason == "" {
				wantFails, wantEvent = 0, "failure:cancelled "
			}
			if fails, access := s.failures(t, l); fails != wantFails || access != 0 {
				t.Errorf("failures %d and access count %d, want %d and 0", fails, access, wantFails)
			}
			if diff := cmp.Diff([]string{wantEvent}, s.signinEvents(t, l)); diff != "" {
				t.Errorf("audit (-want +got):\n%s", diff)
			}
		})
	}
}

// A state is used once, only by the browser that began with it, within
// SocialStateTTL; the callback may land on another replica.
func TestPortalService_SocialState(t *testing.T) {
	ctx := context.Background()
	t.Run("Replayed", func(t *testing.T) {
		s := newSocialEnv(t)
		l := s.link(t, 5)
		s.idp.SignInAs(socialEmail, true)
		_, state, back := s.begin(t, s.ps, l)
		if _, err := finish(s.ps, state, back); err != nil {
			t.Fatal(err)
		}
		if v, err := finish(s.ps, state, back); v != nil || !errors.Is(err, sesame.ErrSocialState) {
			t.Errorf("replayed: %v, %v; want ErrSocialState", v, err)
		}
		if _, access := s.failures(t, l); access != 1 {
			t.Errorf("access count %d after a replay, want 1", access)
		}
	})
	t.Run("OtherBrowser", func(t *testing.T) {
		s := newSocialEnv(t)
		l := s.link(t, 5)
		s.idp.SignInAs(socialEmail, true)
		_, state, back := s.begin(t, s.ps, l)
		for _, bound := range []string{"", "another-browsers-state"} {
			if _, err := finish(s.ps, bound, back); !errors.Is(err, sesame.ErrSocialState) {
				t.Errorf("bound %q: %v, want ErrSocialState", bound, err)
			}
		}
		if _, err := finish(s.ps, state, back); err != nil {
			t.Errorf("the browser that began, after the others: %v", err)
		}
	})
	t.Run("Expired", func(t *testing.T) {
		s := newSocialEnv(t)
		l := s.link(t, 5)
		s.idp.SignInAs(socialEmail, true)
		_, state, back := s.begin(t, s.ps, l)
		s.advance(sesame.SocialStateTTL + time.Second)
		if _, err := finish(s.ps, state, back); !errors.Is(err, sesame.ErrSocialState) {
			t.Errorf("after %s: %v, want ErrSocialState", sesame.SocialStateTTL, err)
		}
	})
	t.Run("OtherReplica", func(t *testing.T) {
		s := newSocialEnv(t)
		l := s.link(t, 5)
		st2, err := store.Open(ctx, store.Config{DataDir: s.dir, Now: s.clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st2.Close() })
		ps2 := &sesame.PortalService{Access: st2, Objects: st2, Blobs: st2, Audit: st2, Now: s.clock, Social: s.ps.Social, SocialStates: st2}
		s.idp.SignInAs(socialEmail, true)
		_, state, back := s.begin(t, s.ps, l)
		if v, err := finish(ps2, state, back); err != nil || v.Session == nil {
			t.Fatalf("on the other replica: %v, %v", v, err)
		}
		if _, err := finish(s.ps, state, back); !errors.Is(err, sesame.ErrSocialState) {
			t.Errorf("then on the first: %v, want ErrSocialState", err)
		}
	})
}

// A social sign-in is an access like any other: sign-ins finished at once
// never pass max_access_count.
func TestPortalService_SocialSignInCountsAsAccess(t *testing.T) {
	s := newSocialEnv(t)
	const max, tries = 2, 5
	l := s.link(t, max)
	s.idp.SignInAs(socialEmail, true)
	type begun struct {
		state string
		back  url.Values
	}
	var all []begun
	for range tries {
		_, state, back := s.begin(t, s.ps, l)
		all = append(all, begun{state, back})
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	in, dead := 0, 0
	for _, b := range all {
		wg.Go(func() {
			_, err := finish(s.ps, b.state, b.back)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				in++
			case errors.Is(err, sesame.ErrDeadLink):
				dead++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if in != max || dead != tries-max {
		t.Errorf("%d signed in and %d found the link spent, want %d and %d", in, dead, max, tries-max)
	}
	if _, access := s.failures(t, l); access != max {
		t.Errorf("access count %d, want %d", access, max)
	}
}

// The per-address backoff and the authenticator's lock hold social
// sign-ins back before the visitor is sent to the provider.
func TestPortalService_SocialSignInThrottled(t *testing.T) {
	ctx := context.Background()
	t.Run("Backoff", func(t *testing.T) {
		s := newSocialEnv(t)
		l := s.link(t, 50)
		s.idp.SignInAs("mallory@example.com", true)
		for i := range sesame.FreeFailures {
			if _, err := s.signIn(t, l); !errors.Is(err, sesame.ErrSocialEmail) {
				t.Fatalf("try %d: %v", i+1, err)
			}
		}
		v, err := s.ps.Open(ctx, l.Token, noSession, socialVisitor)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.ps.BeginSocial(ctx, v, 0, 0); sesame.KindOf(err) != sesame.TooManyAttempts || sesame.RetryAfter(err) <= 0 {
			t.Errorf("after %d failures: %v, want TooManyAttempts with a wait", sesame.FreeFailures, err)
		}
	})
	t.Run("Locked", func(t *testing.T) {
		s := newSocialEnv(t)
		l := s.link(t, 50, sesame.AuthenticatorInput{Type: sesame.AuthPassword, Context: "correct horse battery staple"})
		for range sesame.LockAfterFailures {
			if _, err := s.st.RecordAuthFailure(ctx, l.Authenticators[0].ID, s.now()); err != nil {
				t.Fatal(err)
			}
		}
		v, err := s.ps.Open(ctx, l.Token, noSession, socialVisitor)
		if err != nil {
			t.Fatal(err)
		}
		if u, _, err := s.ps.BeginSocial(ctx, v, 0, 0); u != "" || sesame.KindOf(err) != sesame.Unauthenticated {
			t.Errorf("a locked authenticator: %q, %v; want no redirect and Unauthenticated", u, err)
		}
	})
	t.Run("NotSocial", func(t *testing.T) {
		s := newSocialEnv(t)
		l := s.link(t, 50, sesame.AuthenticatorInput{Type: sesame.AuthPassword, Context: "correct horse battery staple"})
		v, err := s.ps.Open(ctx, l.Token, noSession, socialVisitor)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range [][2]int{{1, 0}, {0, 1}, {0, -1}, {9, 0}} {
			if _, _, err := s.ps.BeginSocial(ctx, v, c[0], c[1]); sesame.KindOf(err) != sesame.Invalid {
				t.Errorf("authenticator %d, provider %d: %v, want Invalid", c[0], c[1], err)
			}
		}
	})
}

// A provider that is down refuses sign-ins with it, and the server asks it
// again once RetryAfter has passed.
func TestPortalService_SocialProviderDown(t *testing.T) {
	ctx := context.Background()
	s := newSocialEnv(t)
	l := s.link(t, 5)
	v, err := s.ps.Open(ctx, l.Token, noSession, socialVisitor)
	if err != nil {
		t.Fatal(err)
	}
	s.idp.SetDown(true)
	if _, _, err := s.ps.BeginSocial(ctx, v, 0, 0); !errors.Is(err, sesame.ErrSocialDown) {
		t.Fatalf("provider down: %v, want ErrSocialDown", err)
	}
	s.idp.SetDown(false)
	if _, _, err := s.ps.BeginSocial(ctx, v, 0, 0); !errors.Is(err, sesame.ErrSocialDown) {
		t.Errorf("at once after: %v, want ErrSocialDown (the failure is remembered)", err)
	}
	s.advance(11 * time.Second)
	s.idp.SignInAs(socialEmail, true)
	if _, err := s.signIn(t, l); err != nil {
		t.Errorf("once the provider is back: %v", err)
	}
}

func TestSameEmail(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"kate@example.com", "kate@example.com", true},
		{"KATE@Example.Com", "kate@example.com", true},
		{"kate@example.com", "kate@example.org", false},
		{"kate+x@example.com", "kate@example.com", false},
		{"k.ate@example.com", "kate@example.com", false},
		{"\u212aate@example.com", "kate@example.com", false},
		{"jürgen@example.com", "jürgen@example.com", true},
		{"JÜRGEN@example.com", "jürgen@example.com", false},
		{"", "", false},
	} {
		if got := sesame.SameEmail(tc.a, tc.b); got != tc.want {
			t.Errorf("SameEmail(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

// A social authenticator names the email address a provider must vouch
// for; a server without a provider refuses it (TestLinkService_CreateRefuses).
func TestLinkService_Social(t *testing.T) {
	s := newSocialEnv(t)
	social := func(email string) sesame.AuthenticatorInput {
		return sesame.AuthenticatorInput{Type: sesame.AuthSocial, Context: email}
	}
	it := s.item()
	it.Authenticators = []sesame.AuthenticatorInput{social(socialEmail), {Type: sesame.AuthEmailOTP, Context: socialEmail}}
	l := s.create(t, it)[0]
	if got := l.Authenticators[0]; got.Type != sesame.AuthSocial || got.Context != socialEmail {
		t.Errorf("stored authenticator %+v, want social for %s", got, socialEmail)
	}
	for _, tc := range []struct {
		name   string
		auths  []sesame.AuthenticatorInput
		source string
		code   string
	}{
		{"NotAnAddress", []sesame.AuthenticatorInput{social("google")}, "/links/0/authenticators/0/auth_context", "BadFormatEmail"},
		{"Empty", []sesame.AuthenticatorInput{social("")}, "/links/0/authenticators/0/auth_context", "BadFormatEmail"},
		{"Twice", []sesame.AuthenticatorInput{social(socialEmail), social("KATE@example.com")}, "/links/0/authenticators/1", "ItemNotUnique"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			it := s.item()
			it.Authenticators = tc.auths
			_, err := s.svc.Create(admin, []sesame.LinkCreate{it})
			e := sesame.AsError(err)
			if e == nil || len(e.Fields) != 1 || e.Fields[0].Source != tc.source || e.Fields[0].Code != tc.code {
				t.Errorf("got %v, want %s at %s", err, tc.code, tc.source)
			}
		})
	}
	upd, err := s.svc.Update(admin, l.ID, sesame.LinkUpdate{Authenticators: []sesame.AuthenticatorInput{social("other@example.com")}})
	if err != nil || len(upd.Authenticators) != 1 || upd.Authenticators[0].Context != "other@example.com" {
		t.Errorf("update to another social address: %+v, %v", upd, err)
	}
}
