package testrig

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc/oidctest"

	"github.com/sesame-share/sesame/authenticators"
)

// The client the OpenID Connect fake knows.
const (
	IdPClientID     = "sesame"
	IdPClientSecret = "idp-client-secret"
	idpKeyID        = "idp-key-1"
)

// IdP is an OpenID Connect provider in this process, for the tests that
// need no browser: discovery and keys (go-oidc's oidctest), an
// authorization endpoint that signs in whoever the test names without a
// page, and a token endpoint that checks the client, the code (once), the
// redirect URI and the PKCE verifier, and signs an ID token with the
// code's nonce. The browser test uses a real provider instead.
type IdP struct {
	URL string // the issuer
	t   testing.TB
	key *rsa.PrivateKey
	now func() time.Time

	mu sync.Mutex // guards the fields below
	// account is who the next authorization signs in, as ID token claims;
	// deny answers it with access_denied instead.
	account map[string]any
	deny    bool
	// edit changes the claims of the next ID tokens; signer, when set,
	// signs them instead of the provider's key (a forgery).
	edit     func(map[string]any)
	signer   *rsa.PrivateKey
	codes    map[string]idpCode
	redirect string
	down     bool
	// iss is the iss parameter of the redirect back (RFC 9207), and
	// issPromised whether discovery promises it.
	iss         string
	issPromised bool
}

type idpCode struct {
	account             map[string]any
	nonce, challenge    string
	redirect, challMeth string
}

// NewIdP starts the fake on the clock now (nil: the wall clock) for a
// client whose redirect URI is redirect; the test's cleanup stops it.
func NewIdP(t testing.TB, redirect string, now func() time.Time) *IdP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &IdP{t: t, key: key, now: now, codes: map[string]idpCode{}, redirect: redirect}
	if p.now == nil {
		p.now = time.Now
	}
	disc := &oidctest.Server{PublicKeys: []oidctest.PublicKey{{PublicKey: key.Public(), KeyID: idpKeyID, Algorithm: "RS256"}}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /auth", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) { p.discovery(w, r, disc) })
	mux.Handle("/", disc)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		down := p.down
		p.mu.Unlock()
		if down {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	disc.SetIssuer(srv.URL)
	p.URL, p.iss, p.issPromised = srv.URL, srv.URL, true
	return p
}

// discovery serves disc's discovery document with the RFC 9207 promise
// (authorization_response_iss_parameter_supported) as set.
func (p *IdP) discovery(w http.ResponseWriter, r *http.Request, disc http.Handler) {
	rec := httptest.NewRecorder()
	disc.ServeHTTP(rec, r)
	var doc map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	p.mu.Lock()
	doc["authorization_response_iss_parameter_supported"] = p.issPromised
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(doc)
}

// PromiseIssuer sets whether discovery promises the iss parameter on the
// redirects back (RFC 9207; it does until then). The provider adapter
// reads it at its first sign-in.
func (p *IdP) PromiseIssuer(promised bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.issPromised = promised
}

// Provider returns sesame's adapter for the fake, named name.
func (p *IdP) Provider(name string) *authenticators.OIDC {
	p.t.Helper()
	o, err := authenticators.NewOIDC(authenticators.OIDCConfig{Name: name, Issuer: p.URL, ClientID: IdPClientID,
		ClientSecret: IdPClientSecret, RedirectURL: p.redirect, Logger: DiscardLogger(), Now: p.now})
	if err != nil {
		p.t.Fatal(err)
	}
	return o
}

// SignInAs makes the next authorizations sign in an account with this
// email address, verified or not.
func (p *IdP) SignInAs(email string, verified any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.account, p.deny = map[string]any{"sub": "user-" + email, "email": email, "email_verified": verified}, false
}

// Deny makes the next authorizations answer access_denied.
func (p *IdP) Deny() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.deny = true
}

// Edit changes the claims of the ID tokens issued from now on (nil: none).
func (p *IdP) Edit(f func(claims map[string]any)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.edit = f
}

// ForgeWith signs the ID tokens issued from now on with key instead of
// the provider's own (nil: the provider's again), under the same key id.
func (p *IdP) ForgeWith(key *rsa.PrivateKey) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.signer = key
}

// RedirectIssuer sets the iss parameter of the redirects back, which is
// the provider's issuer until then.
func (p *IdP) RedirectIssuer(iss string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.iss = iss
}

// SetDown makes every endpoint answer 503 (down) or work again.
func (p *IdP) SetDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
}

// Authorize plays the browser at the provider: it follows authURL and
// returns the query of the redirect back to sesame (code and state, or
// error).
func (p *IdP) Authorize(authURL string) url.Values {
	p.t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(authURL)
	if err != nil {
		p.t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil {
		p.t.Fatalf("authorize: %s, Location %q", resp.Status, resp.Header.Get("Location"))
	}
	return loc.Query()
}

func (p *IdP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	defer p.mu.Unlock()
	if q.Get("client_id") != IdPClientID || q.Get("redirect_uri") != p.redirect || q.Get("response_type") != "code" {
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	back := url.Values{"state": {q.Get("state")}, "iss": {p.iss}}
	if p.deny || p.account == nil {
		back.Set("error", "access_denied")
	} else {
		code := rand.Text()
		p.codes[code] = idpCode{account: maps.Clone(p.account), nonce: q.Get("nonce"), challenge: q.Get("code_challenge"),
			challMeth: q.Get("code_challenge_method"), redirect: q.Get("redirect_uri")}
		back.Set("code", code)
	}
	http.Redirect(w, r, p.redirect+"?"+back.Encode(), http.StatusFound)
}

func (p *IdP) token(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if !ok {
		user, pass = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	c, known := p.codes[r.PostFormValue("code")]
	delete(p.codes, r.PostFormValue("code"))
	sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
	switch {
	case user != IdPClientID || pass != IdPClientSecret:
		idpError(w, http.StatusUnauthorized, "invalid_client")
		return
	case !known || r.PostFormValue("grant_type") != "authorization_code" || r.PostFormValue("redirect_uri") != c.redirect,
		c.challMeth != "S256" || base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge:
		idpError(w, http.StatusBadRequest, "invalid_grant")
		return
	}
	now := p.now()
	claims := maps.Clone(c.account)
	maps.Copy(claims, map[string]any{"iss": p.URL, "aud": IdPClientID, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "nonce": c.nonce})
	if p.edit != nil {
		p.edit(claims)
	}
	key := p.key
	if p.signer != nil {
		key = p.signer
	}
	raw, err := json.Marshal(claims)
	if err != nil {
		idpError(w, http.StatusInternalServerError, "server_error")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":300,"id_token":%q}`, rand.Text(),
		oidctest.SignIDToken(key, idpKeyID, "RS256", string(raw)))
}

func idpError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":%q}`, code)
}
