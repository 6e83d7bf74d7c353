package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc/oidctest"
	"github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/authenticators"
	"github.com/sesame-share/sesame/gateway"
	"github.com/sesame-share/sesame/internal/testrig"
)

// oidcProviderDir holds the OpenID Connect provider the browser test runs:
// panva's oidc-provider, installed by `npm ci` there (scripts/test.sh).
const oidcProviderDir = "../scripts/oidc"

// oidcNode finds node and the installed provider. Without them the test
// skips, unless CI is set: there a missing dependency is a broken runner.
func oidcNode(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(oidcProviderDir, "node_modules", "oidc-provider", "package.json"))
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but node or the OpenID Connect provider is missing (scripts/test.sh runs npm ci in scripts/oidc): %v", err)
		}
		t.Skipf("node or the OpenID Connect provider is missing; run npm ci in scripts/oidc to run this test: %v", err)
	}
	return node
}

// startOIDCProvider runs scripts/oidc/provider.mjs as a process of its own
// with one client, whose redirect URI is redirect, and the given accounts
// (login name to claims). It returns the issuer URL; the test's cleanup
// stops the process.
func startOIDCProvider(t *testing.T, node, redirect, secret string, accounts map[string]map[string]any) string {
	t.Helper()
	acc, err := json.Marshal(accounts)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "provider.mjs")
	cmd.Dir = oidcProviderDir
	cmd.Env = append(os.Environ(), "OIDC_CLIENT_ID=sesame", "OIDC_CLIENT_SECRET="+secret, "OIDC_REDIRECT_URI="+redirect,
		"OIDC_ACCOUNTS="+string(acc))
	logs := &testrig.Buffer{}
	cmd.Stderr = logs
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the provider: %v", err)
	}
	exited := make(chan struct{})
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM) // it may have exited already
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill() // by its pid; it started with the test
			<-exited
		}
		if t.Failed() {
			t.Logf("provider log:\n%s", logs.String())
		}
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, out) // until the process ends
		_ = cmd.Wait()                  // its exit status says nothing the test needs
		close(exited)
	}()
	timer := time.NewTimer(30 * time.Second)
	defer timer.Stop()
	select {
	case issuer, ok := <-lines:
		if !ok || !strings.HasPrefix(issuer, "http://127.0.0.1:") {
			t.Fatalf("the provider printed %q, want its issuer URL; log:\n%s", issuer, logs.String())
		}
		return issuer
	case <-timer.C:
		t.Fatalf("the provider did not start within 30 s; log:\n%s", logs.String())
	}
	return ""
}

// tokenForger stands between sesame and the provider's token endpoint.
// Told an address, it swaps the ID token of the next token response for
// a forgery: the provider's claims with that address, verified, signed
// under the provider's key id by a key that is not the provider's.
type tokenForger struct {
	key *rsa.PrivateKey

	mu     sync.Mutex // guards email and forged
	email  string     // "": pass answers through
	forged int
}

func (f *tokenForger) forge(email string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.email = email
}

func (f *tokenForger) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.forged
}

func (f *tokenForger) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err != nil || f.email == "" || req.Method != http.MethodPost || req.URL.Path != "/token" || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var tok map[string]any
	if err := json.Unmarshal(body, &tok); err != nil {
		return nil, err
	}
	raw, _ := tok["id_token"].(string)
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, errors.New("forger: the token response has no ID token")
	}
	var header struct {
		KeyID string `json:"kid"`
	}
	claims := map[string]any{}
	for i, v := range []any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(b, v); err != nil {
			return nil, err
		}
	}
	claims["email"], claims["email_verified"] = f.email, true
	c, err := json.Marshal(claims)
	if err != nil {
		return nil, err
	}
	tok["id_token"] = oidctest.SignIDToken(f.key, header.KeyID, "RS256", string(c))
	if body, err = json.Marshal(tok); err != nil {
		return nil, err
	}
	f.email, f.forged = "", f.forged+1
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return resp, nil
}

// TestBrowserSocialSignIn signs in through a real OpenID Connect provider
// running as its own process (panva's oidc-provider), in Chromium: the
// right verified address gets in; a replayed state, another address, an
// unverified address and a forged ID token do not.
func TestBrowserSocialSignIn(t *testing.T) {
	node := oidcNode(t)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	forger := &tokenForger{key: key}
	secret := rand.Text()
	b := newBrowserStack(t, testrig.WithConfig(func(cfg *gateway.Config) {
		redirect := cfg.PublicURL + "/oidc/callback"
		issuer := startOIDCProvider(t, node, redirect, secret, map[string]map[string]any{
			"kate":            {"email": "kate@example.com", "email_verified": true},
			"kate-unverified": {"email": "kate@example.com", "email_verified": false},
			"mallory":         {"email": "mallory@example.com", "email_verified": true},
		})
		o, err := authenticators.NewOIDC(authenticators.OIDCConfig{Name: "Test SSO", Issuer: issuer, ClientID: "sesame", ClientSecret: secret,
			RedirectURL: redirect, HTTPClient: &http.Client{Transport: forger, Timeout: 10 * time.Second}})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Portal.Service.Social = []sesame.OIDCProvider{o}
		cfg.Links.Policy.SocialSignIn = true
	}))
	c := startChrome(t)
	f := b.file("", "for-kate.txt", []byte("for kate\n"))
	l, url := b.link(sesame.LinkDownload, "For Kate", []string{f.ID}, sesame.AuthenticatorInput{Type: sesame.AuthSocial, Context: "kate@example.com"})
	tb := c.newTab(t)

	// Every address the provider sends the browser back to.
	var mu sync.Mutex
	var callbacks []string
	if err := chromedp.Listen(tb.ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok && strings.Contains(e.Request.URL, "/oidc/callback?") {
			mu.Lock()
			defer mu.Unlock()
			callbacks = append(callbacks, e.Request.URL)
		}
	}); err != nil {
		t.Fatal(err)
	}
	// signInAs starts afresh (no session here or at the provider), presses
	// Continue with Test SSO and signs in at the provider as login; it
	// returns where the browser ends up.
	signInAs := func(t *testing.T, login, shot string) string {
		t.Helper()
		tb.do("forget every cookie", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, network.ClearBrowserCookies, cdp.Empty{})
			return err
		}))
		tb.do("open link", chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(`form[action$="/social"] button`)))
		if got := tb.text(`form[action$="/social"] button`); got != "Continue with Test SSO" {
			t.Errorf("button %q, want Continue with Test SSO", got)
		}
		tb.clickAndLoad("continue with Test SSO", `form[action$="/social"] button`)
		tb.do("the provider's login page", chromedp.WaitVisible(chromedp.CSS(`input[name=login]`)),
			chromedp.SendKeys(chromedp.CSS(`input[name=login]`), login), chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "any password"))
		tb.screenshot(shot + "-provider")
		tb.clickAndLoad("sign in at the provider", `button[type=submit]`)
		tb.screenshot(shot)
		return get(tb, "location", chromedp.Location())
	}
	access := func() int {
		t.Helper()
		got, err := b.st.LinkByID(context.Background(), l.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.AccessCount
	}

	t.Run("VerifiedEmail", func(t *testing.T) {
		if loc := signInAs(t, "kate", "social-01-signed-in"); loc != url {
			t.Errorf("after signing in as kate the browser is at %s, want %s", loc, url)
		}
		if got := tb.text(".fname"); got != "for-kate.txt" {
			t.Errorf("the link shows %q, want for-kate.txt", got)
		}
		if n := access(); n != 1 {
			t.Errorf("access count %d, want 1", n)
		}
	})
	t.Run("ReplayedState", func(t *testing.T) {
		mu.Lock()
		seen := append([]string(nil), callbacks...)
		mu.Unlock()
		if len(seen) != 1 {
			t.Fatalf("callbacks seen: %q, want the one of the sign-in", seen)
		}
		// The same redirect again, in the same browser, with the state's
		// cookie: the state was used.
		tb.allow(http.StatusUnauthorized, seen[0]) // the refusal is answered 401 on purpose
		tb.do("replay the callback", chromedp.Navigate(seen[0]), chromedp.WaitVisible(chromedp.CSS("h1")))
		if got := tb.text("main"); !strings.Contains(got, sesame.ErrSocialState.Message) {
			t.Errorf("replayed callback shows %q, want %q", got, sesame.ErrSocialState.Message)
		}
		tb.screenshot("social-02-replayed")
		if n := access(); n != 1 {
			t.Errorf("access count %d after the replay, want 1", n)
		}
	})
	refused := func(t *testing.T, login, shot, code string, want *sesame.Error) {
		t.Helper()
		if loc := signInAs(t, login, shot); loc != url+"?social="+code {
			t.Errorf("after signing in as %s the browser is at %s, want the sign-in page with ?social=%s", login, loc, code)
		}
		if got := tb.text(".flash.error"); got != want.Message {
			t.Errorf("flash %q, want %q", got, want.Message)
		}
		if has := get(tb, "files shown", chromedp.Evaluate[bool](`!!document.querySelector(".filecard, table.files")`)); has {
			t.Error("the refused visitor sees the files")
		}
	}
	t.Run("AnotherEmail", func(t *testing.T) {
		refused(t, "mallory", "social-03-another-email", "email", sesame.ErrSocialEmail)
	})
	t.Run("UnverifiedEmail", func(t *testing.T) {
		refused(t, "kate-unverified", "social-04-unverified", "unverified", sesame.ErrSocialUnverified)
	})
	t.Run("ForgedIDToken", func(t *testing.T) {
		// Mallory signs in as herself; the token response that comes back
		// names kate@example.com, verified, under a key the provider never
		// published.
		forger.forge("kate@example.com")
		refused(t, "mallory", "social-05-forged", "failed", sesame.ErrSocialFailed)
		if n := forger.count(); n != 1 {
			t.Fatalf("%d ID tokens forged, want 1: the test did not reach the token check", n)
		}
	})
	t.Run("Accessibility", func(t *testing.T) {
		// The social button beside a password field, and a refusal on that
		// page, as axe-core sees them (light and dark, desktop and phone).
		g := b.file("", "for-kate-too.txt", []byte("for kate too\n"))
		_, both := b.link(sesame.LinkDownload, "For Kate, or with the password", []string{g.ID},
			sesame.AuthenticatorInput{Type: sesame.AuthSocial, Context: "kate@example.com"}, password(browserPassword))
		c.checkA11y(t, "signin-social", both, func(tb *tab) {
			tb.do("social button and password field", chromedp.WaitVisible(chromedp.CSS(`form[action$="/social"] button`)),
				chromedp.WaitVisible(chromedp.CSS("input[type=password]")))
		})
		c.checkA11y(t, "signin-social-refused", both+"?social=email", func(tb *tab) {
			tb.do("the refusal", chromedp.WaitVisible(chromedp.CSS(".flash.error")))
		})
	})
	if n := access(); n != 1 {
		t.Errorf("access count %d at the end, want 1", n)
	}
	page, err := b.st.FindAudit(context.Background(), sesame.AuditFilter{Size: 50, Conds: []sesame.Cond{
		{Field: "link_id", Op: sesame.OpEq, Values: []string{l.ID}}, {Field: "action", Op: sesame.OpEq, Values: []string{"signin"}}}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range page.Events { // oldest first
		got = append(got, ev.Outcome+" "+ev.Detail["reason"])
	}
	if diff := cmp.Diff([]string{"success ", "failure:401 email", "failure:401 unverified", "failure:401 token"}, got); diff != "" {
		t.Errorf("sign-in audit (-want +got):\n%s", diff)
	}
}
