package authenticators_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"github.com/sesame-share/sesame/authenticators"
	"github.com/sesame-share/sesame/internal/testrig"
)

func TestNewOIDC_Refuses(t *testing.T) {
	ok := authenticators.OIDCConfig{Name: "Acme SSO", Issuer: "https://sso.example.com", ClientID: "sesame",
		RedirectURL: "https://share.example.com/oidc/callback"}
	if _, err := authenticators.NewOIDC(ok); err != nil {
		t.Fatalf("a good config: %v", err)
	}
	for name, change := range map[string]func(*authenticators.OIDCConfig){
		"NoName":          func(c *authenticators.OIDCConfig) { c.Name = " " },
		"IssuerNotURL":    func(c *authenticators.OIDCConfig) { c.Issuer = "sso.example.com" },
		"IssuerFTP":       func(c *authenticators.OIDCConfig) { c.Issuer = "ftp://sso.example.com" },
		"IssuerWithUser":  func(c *authenticators.OIDCConfig) { c.Issuer = "https://u:p@sso.example.com" },
		"NoClientID":      func(c *authenticators.OIDCConfig) { c.ClientID = "" },
		"NoRedirect":      func(c *authenticators.OIDCConfig) { c.RedirectURL = "" },
		"ScopesNoOpenID":  func(c *authenticators.OIDCConfig) { c.Scopes = []string{"email"} },
		"ScopesEmptyList": func(c *authenticators.OIDCConfig) { c.Scopes = []string{} },
	} {
		c := ok
		change(&c)
		if _, err := authenticators.NewOIDC(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// The authorization URL asks for a code with the S256 challenge of the
// verifier, the state and the nonce; the verifier itself never leaves.
func TestOIDC_AuthURL(t *testing.T) {
	idp := testrig.NewIdP(t, "https://share.example.com/oidc/callback", nil)
	o := idp.Provider("Acme SSO")
	if got, want := o.AuthOrigin(), idp.URL; got != want {
		t.Errorf("origin before discovery: %q, want the issuer's %q", got, want)
	}
	verifier := strings.Repeat("v", 43)
	raw, err := o.AuthURL(context.Background(), "the-state", "the-nonce", verifier)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(verifier))
	q := u.Query()
	for k, want := range map[string]string{"response_type": "code", "client_id": testrig.IdPClientID, "state": "the-state", "nonce": "the-nonce",
		"code_challenge_method": "S256", "code_challenge": base64.RawURLEncoding.EncodeToString(sum[:]),
		"redirect_uri": "https://share.example.com/oidc/callback", "scope": "openid email"} {
		if got := q.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if strings.Contains(raw, verifier) {
		t.Errorf("the authorization URL carries the verifier: %s", raw)
	}
	if got := u.Scheme + "://" + u.Host; got != o.AuthOrigin() {
		t.Errorf("AuthOrigin %q, but the URL goes to %q", o.AuthOrigin(), got)
	}
}
