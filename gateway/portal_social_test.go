package gateway_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/gateway"
	"github.com/sesame-share/sesame/internal/testrig"
)

// socialGateway is the server with one OpenID Connect provider (the fake
// at the HTTP boundary; the browser test uses a real one) and a link to a
// file opened by a social authenticator for kate@example.com.
type socialGateway struct {
	env  *testrig.Env
	idp  *testrig.IdP
	base string // the link's page, /s/{token}
}

func newSocialGateway(t *testing.T) *socialGateway {
	t.Helper()
	g := &socialGateway{}
	g.env = testrig.NewEnv(t, testrig.WithConfig(func(cfg *gateway.Config) {
		g.idp = testrig.NewIdP(t, cfg.PublicURL+"/oidc/callback", nil)
		cfg.Portal.Service.Social = []sesame.OIDCProvider{g.idp.Provider("Acme SSO")}
		cfg.Links.Policy.SocialSignIn = true
	}))
	ctx := context.Background()
	u, err := g.env.Store.Stage(ctx, strings.NewReader("for kate\n"), "kate.txt", 0)
	if err != nil {
		t.Fatal(err)
	}
	f, err := g.env.Store.CreateFile(ctx, sesame.FileCreate{Placement: sesame.Placement{Name: "kate.txt"}}, u)
	if err != nil {
		t.Fatal(err)
	}
	r := g.env.API.Post(t, "/v1/share/link/create", map[string]any{"links": []any{map[string]any{"targets": []string{f.ID},
		"link_type": "download", "authenticators": []any{map[string]any{"auth_type": "social", "auth_context": "kate@example.com"}}}}})
	r.MustOK(t)
	var res struct {
		ShareLinkObjects []struct {
			Link           string `json:"link"`
			Authenticators []struct {
				AuthType    string `json:"auth_type"`
				AuthContext string `json:"auth_context"`
			} `json:"authenticators"`
		} `json:"share_link_objects"`
	}
	r.Into(t, &res)
	l := res.ShareLinkObjects[0]
	if a := l.Authenticators[0]; a.AuthType != "social" || a.AuthContext != "kate@example.com" {
		t.Errorf("the API shows the authenticator as %+v, want social for kate@example.com", a)
	}
	g.base = strings.TrimPrefix(l.Link, g.env.URL)
	return g
}

// start opens the link's page and presses "Continue with Acme SSO"; it
// returns where the provider sends the visitor back.
func (g *socialGateway) start(t *testing.T, v *testrig.Visitor) string {
	t.Helper()
	page := v.Get(g.base)
	if page.Code != http.StatusOK {
		t.Fatalf("sign-in page: %s", page)
	}
	to := v.Submit(page, page.Form(`form[action$="/social"]`), nil)
	loc := to.Header.Get("Location")
	if to.Code != http.StatusSeeOther || !strings.HasPrefix(loc, g.idp.URL+"/auth?") {
		t.Fatalf("Continue with Acme SSO: %d to %q, want 303 to the provider", to.Code, loc)
	}
	back := g.idp.Authorize(loc)
	return "/oidc/callback?" + back.Encode()
}

func TestPortalSocial_SignInPage(t *testing.T) {
	g := newSocialGateway(t)
	page := g.env.Visitor().Get(g.base)
	if got, want := page.TextOf(`form[action$="/social"] button`), "Continue with Acme SSO"; got != want {
		t.Errorf("button %q, want %q", got, want)
	}
	if got, want := page.TextOf(`p.hint[id^="social-"]`), "Sign in with the account of k•••@example.com."; got != want {
		t.Errorf("hint %q, want %q", got, want)
	}
	// A form's redirect is held to form-action too: the provider's origin
	// is listed, and nothing else is loosened.
	csp := page.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "form-action 'self' "+g.idp.URL+";") || strings.Count(csp, "form-action") != 1 {
		t.Errorf("CSP %q: want form-action 'self' %s", csp, g.idp.URL)
	}
	de := g.env.Visitor()
	de.SetCookie("sesame_lang", "de")
	if got, want := de.Get(g.base).TextOf(`form[action$="/social"] button`), "Weiter mit Acme SSO"; got != want {
		t.Errorf("German button %q, want %q", got, want)
	}
}

func TestPortalSocial_SignIn(t *testing.T) {
	g := newSocialGateway(t)
	g.idp.SignInAs("kate@example.com", true)
	v := g.env.Visitor()
	callback := g.start(t, v)
	back := v.Get(callback)
	if back.Code != http.StatusSeeOther || back.Header.Get("Location") != g.base {
		t.Fatalf("callback: %d to %q, want 303 to %s", back.Code, back.Header.Get("Location"), g.base)
	}
	if got := v.Get(g.base); !got.Has(".filecard") || !strings.Contains(got.TextOf(".fname"), "kate.txt") {
		t.Errorf("after the sign-in the link shows %s", got)
	}
	// The same redirect again, with the same cookies: the state is spent.
	replay := v.Get(callback)
	if replay.Code != http.StatusUnauthorized || !strings.Contains(replay.Text(), "This sign-in has expired or was already used.") {
		t.Errorf("replayed callback: %s", replay)
	}
}

func TestPortalSocial_Refused(t *testing.T) {
	t.Run("OtherAddress", func(t *testing.T) {
		g := newSocialGateway(t)
		g.idp.SignInAs("mallory@example.com", true)
		v := g.env.Visitor()
		back := v.Get(g.start(t, v))
		if loc := back.Header.Get("Location"); back.Code != http.StatusSeeOther || loc != g.base+"?social=email" {
			t.Fatalf("callback: %d to %q", back.Code, loc)
		}
		page := v.Get(back.Header.Get("Location"))
		if got, want := page.TextOf(".flash.error"), sesame.ErrSocialEmail.Message; got != want {
			t.Errorf("flash %q, want %q", got, want)
		}
		if page.Has(".filecard") {
			t.Error("the refused visitor sees the files")
		}
	})
	t.Run("Unverified", func(t *testing.T) {
		g := newSocialGateway(t)
		g.idp.SignInAs("kate@example.com", false)
		v := g.env.Visitor()
		back := v.Get(g.start(t, v))
		if loc := back.Header.Get("Location"); loc != g.base+"?social=unverified" {
			t.Fatalf("callback: %d to %q", back.Code, loc)
		}
		if got, want := v.Get(g.base+"?social=unverified").TextOf(".flash.error"), sesame.ErrSocialUnverified.Message; got != want {
			t.Errorf("flash %q, want %q", got, want)
		}
	})
	t.Run("OtherBrowser", func(t *testing.T) {
		// A callback URL that reaches a browser that did not begin the
		// sign-in (login CSRF) signs nobody in, and leaves the state to
		// the browser that did.
		g := newSocialGateway(t)
		g.idp.SignInAs("kate@example.com", true)
		v := g.env.Visitor()
		callback := g.start(t, v)
		if p := g.env.Visitor().Get(callback); p.Code != http.StatusUnauthorized || p.Cookie("sesame_s_"+cookieLinkPart(g, t)) != nil {
			t.Errorf("in another browser: %s", p)
		}
		if p := v.Get(callback); p.Code != http.StatusSeeOther || p.Header.Get("Location") != g.base {
			t.Errorf("in the browser that began: %s", p)
		}
	})
	t.Run("Throttled", func(t *testing.T) {
		// Sign-ins begun from one address before its failures add up are
		// held back when they come back: the backoff applies at the
		// callback too, and the page says how long to wait.
		g := newSocialGateway(t)
		var wrong []*testrig.Visitor
		var callbacks []string
		g.idp.SignInAs("mallory@example.com", true)
		for range sesame.FreeFailures {
			v := g.env.Visitor()
			wrong, callbacks = append(wrong, v), append(callbacks, g.start(t, v))
		}
		g.idp.SignInAs("kate@example.com", true)
		kate := g.env.Visitor()
		last := g.start(t, kate)
		for i, v := range wrong {
			if p := v.Get(callbacks[i]); p.Header.Get("Location") != g.base+"?social=email" {
				t.Fatalf("wrong address %d: %s", i+1, p)
			}
		}
		p := kate.Get(last)
		if loc := p.Header.Get("Location"); p.Code != http.StatusSeeOther || !strings.HasPrefix(loc, g.base+"?social=wait&retry=") {
			t.Fatalf("after %d failures: %d to %q, want the sign-in page with a wait", sesame.FreeFailures, p.Code, loc)
		}
		if got := kate.Get(p.Header.Get("Location")).TextOf(".flash.error"); got != "Please wait 1 seconds before trying again." {
			t.Errorf("flash %q", got)
		}
	})
	t.Run("NoCSRF", func(t *testing.T) {
		g := newSocialGateway(t)
		v := g.env.Visitor()
		v.Get(g.base)
		if p := v.Post(g.base+"/social", url.Values{"auth": {"0"}, "provider": {"0"}}); p.Code != http.StatusForbidden {
			t.Errorf("a form without its token: %s", p)
		}
	})
	t.Run("ProviderDown", func(t *testing.T) {
		g := newSocialGateway(t)
		g.idp.SetDown(true)
		v := g.env.Visitor()
		page := v.Get(g.base)
		p := v.Submit(page, page.Form(`form[action$="/social"]`), nil)
		if p.Code != http.StatusServiceUnavailable || p.TextOf(".flash.error") != sesame.ErrSocialDown.Message {
			t.Errorf("provider down: %s", p)
		}
		if !p.Has(`form[action$="/social"]`) {
			t.Error("the sign-in page is not shown again")
		}
	})
}

// cookieLinkPart is the link's part of its session cookie's name.
func cookieLinkPart(g *socialGateway, t *testing.T) string {
	t.Helper()
	var res struct {
		ShareLinkObjects []struct {
			ID string `json:"id"`
		} `json:"share_link_objects"`
	}
	r := g.env.API.Post(t, "/v1/share/link/list", map[string]any{})
	r.MustOK(t)
	r.Into(t, &res)
	return strings.TrimPrefix(res.ShareLinkObjects[0].ID, sesame.PrefixLink)[:12]
}
