package authenticators

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/sesame-share/sesame"
)

// OIDCConfig describes one OpenID Connect provider.
type OIDCConfig struct {
	// Name is shown on the sign-in button ("Continue with Acme SSO").
	Name string
	// Issuer is the provider's issuer URL; discovery reads
	// Issuer/.well-known/openid-configuration, and every ID token must
	// name exactly this issuer.
	Issuer       string
	ClientID     string
	ClientSecret string
	// Scopes are asked for at the provider; nil means openid and email.
	// openid must be one of them.
	Scopes []string
	// RedirectURL is where the provider sends visitors back:
	// {public_url}/oidc/callback.
	RedirectURL string
	// HTTPClient makes every call to the provider; nil means a client of
	// its own.
	HTTPClient *http.Client
	// Timeout bounds each call to the provider (0: 10 s).
	Timeout time.Duration
	// RetryAfter is how long a failed discovery is remembered before the
	// next call tries again (0: 10 s), so that a provider that is down
	// is not asked again by every visitor.
	RetryAfter time.Duration
	Logger     *slog.Logger
	Now        func() time.Time
}

// OIDC runs the authorization code flow with PKCE at one OpenID Connect
// provider, through go-oidc and x/oauth2. Discovery is lazy: a provider
// that cannot be reached leaves the server running, and the next sign-in
// after RetryAfter tries it again.
type OIDC struct {
	cfg OIDCConfig

	mu sync.Mutex // guards the fields below, filled by discovery
	// oauth and verifier are set once discovery has worked.
	oauth    *oauth2.Config
	verifier *oidc.IDTokenVerifier
	origin   string // of the authorization endpoint
	// issPromised: the discovery document promises the iss parameter on
	// the redirect back (RFC 9207).
	issPromised bool
	failedAt    time.Time // of the last failed discovery
	lastErr     error
}

var _ sesame.OIDCProvider = (*OIDC)(nil)

// NewOIDC checks cfg and returns the provider, without calling it.
func NewOIDC(cfg OIDCConfig) (*OIDC, error) {
	var problems []error
	if strings.TrimSpace(cfg.Name) == "" {
		problems = append(problems, errors.New("oidc: a provider needs a name"))
	}
	if _, err := webOrigin(cfg.Issuer); err != nil {
		problems = append(problems, fmt.Errorf("oidc: provider %q: issuer: %w", cfg.Name, err))
	}
	if cfg.ClientID == "" {
		problems = append(problems, fmt.Errorf("oidc: provider %q needs a client_id", cfg.Name))
	}
	if _, err := webOrigin(cfg.RedirectURL); err != nil {
		problems = append(problems, fmt.Errorf("oidc: provider %q: redirect URL: %w", cfg.Name, err))
	}
	if cfg.Scopes == nil {
		cfg.Scopes = []string{oidc.ScopeOpenID, "email"}
	}
	if !slices.Contains(cfg.Scopes, oidc.ScopeOpenID) {
		problems = append(problems, fmt.Errorf("oidc: provider %q: scopes must include openid", cfg.Name))
	}
	if err := errors.Join(problems...); err != nil {
		return nil, err
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = 10 * time.Second
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: cfg.Timeout}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &OIDC{cfg: cfg}, nil
}

// webOrigin returns the scheme://host[:port] of an absolute http or https URL.
func webOrigin(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "", fmt.Errorf("%q is not an http or https URL", s)
	}
	return u.Scheme + "://" + u.Host, nil
}

// Name implements sesame.OIDCProvider.
func (o *OIDC) Name() string { return o.cfg.Name }

// AuthOrigin implements sesame.OIDCProvider.
func (o *OIDC) AuthOrigin() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.origin != "" {
		return o.origin
	}
	origin, _ := webOrigin(o.cfg.Issuer) // checked by NewOIDC
	return origin
}

// Discover reads the provider's discovery document unless it has been
// read already. Unavailable when the provider cannot be reached or
// answers nonsense; then calls within RetryAfter fail at once.
func (o *OIDC) Discover(ctx context.Context) error {
	_, _, err := o.discover(ctx)
	return err
}

func (o *OIDC) discover(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.oauth != nil {
		return o.oauth, o.verifier, nil
	}
	now := o.cfg.Now()
	if !o.failedAt.IsZero() && now.Sub(o.failedAt) < o.cfg.RetryAfter {
		return nil, nil, &sesame.Error{Kind: sesame.Unavailable, Err: fmt.Errorf("oidc: %s: discovery failed recently: %w", o.cfg.Name, o.lastErr)}
	}
	dctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, o.cfg.HTTPClient), o.cfg.Timeout)
	defer cancel()
	p, err := oidc.NewProvider(dctx, o.cfg.Issuer)
	var origin string
	if err == nil {
		origin, err = webOrigin(p.Endpoint().AuthURL)
	}
	if err != nil {
		o.failedAt, o.lastErr = now, err
		return nil, nil, &sesame.Error{Kind: sesame.Unavailable, Err: fmt.Errorf("oidc: %s: discovery: %w", o.cfg.Name, err)}
	}
	o.oauth = &oauth2.Config{ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: o.cfg.RedirectURL, Scopes: o.cfg.Scopes}
	o.verifier = p.Verifier(&oidc.Config{ClientID: o.cfg.ClientID, Now: o.cfg.Now})
	o.origin = origin
	var meta struct {
		IssPromised bool `json:"authorization_response_iss_parameter_supported"`
	}
	if err := p.Claims(&meta); err == nil {
		o.issPromised = meta.IssPromised
	}
	o.cfg.Logger.Info("oidc provider discovered", "provider", o.cfg.Name, "issuer", o.cfg.Issuer)
	return o.oauth, o.verifier, nil
}

// AuthURL implements sesame.OIDCProvider: the authorization code flow,
// with the nonce and the S256 challenge of verifier (RFC 7636).
func (o *OIDC) AuthURL(ctx context.Context, state, nonce, verifier string) (string, error) {
	// One visitor's request may start discovery for all: it does not end
	// when that visitor leaves.
	cfg, _, err := o.discover(context.WithoutCancel(ctx))
	if err != nil {
		return "", err
	}
	return cfg.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), nil
}

// CheckIssuer implements sesame.OIDCProvider (RFC 9207): a redirect back
// names this issuer, or names none when the provider does not promise it.
// A provider that promises it and then leaves it out may be another
// provider's redirect replayed here (a mix-up), so it is refused.
func (o *OIDC) CheckIssuer(ctx context.Context, iss string) error {
	if _, _, err := o.discover(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	o.mu.Lock()
	promised := o.issPromised
	o.mu.Unlock()
	switch {
	case iss != "" && iss != o.cfg.Issuer:
		return &sesame.Error{Kind: sesame.Unauthenticated, Err: fmt.Errorf("oidc: %s: the redirect names the issuer %q", o.cfg.Name, iss)}
	case iss == "" && promised:
		return &sesame.Error{Kind: sesame.Unauthenticated, Err: fmt.Errorf("oidc: %s: the redirect names no issuer, though discovery promised it", o.cfg.Name)}
	}
	return nil
}

// idClaims are the claims Exchange reads beyond go-oidc's own.
type idClaims struct {
	Email string `json:"email"`
	// EmailVerified is a JSON boolean; some providers (Amazon Cognito)
	// send the string "true" instead, which counts too.
	EmailVerified json.RawMessage `json:"email_verified"`
	AZP           string          `json:"azp"`
}

// Exchange implements sesame.OIDCProvider. go-oidc checks the ID token's
// signature against the provider's published keys (fetched again when a
// token names a key it has not seen), its algorithm (never "none"), its
// issuer, that its audience holds the client id, and its expiry; the
// nonce is the caller's to compare. A token with several audiences must
// name this client as its authorized party.
func (o *OIDC) Exchange(ctx context.Context, code, verifier string) (*sesame.IDClaims, error) {
	cfg, ver, err := o.discover(context.WithoutCancel(ctx))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, o.cfg.HTTPClient), o.cfg.Timeout)
	defer cancel()
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
			return nil, &sesame.Error{Kind: sesame.Unauthenticated, Err: fmt.Errorf("oidc: %s: code refused: %w", o.cfg.Name, err)}
		}
		return nil, &sesame.Error{Kind: sesame.Unavailable, Err: fmt.Errorf("oidc: %s: token endpoint: %w", o.cfg.Name, err)}
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, &sesame.Error{Kind: sesame.Unauthenticated, Err: fmt.Errorf("oidc: %s: no id_token in the token response", o.cfg.Name)}
	}
	idt, err := ver.Verify(ctx, raw)
	if err != nil {
		return nil, &sesame.Error{Kind: sesame.Unauthenticated, Err: fmt.Errorf("oidc: %s: id token: %w", o.cfg.Name, err)}
	}
	var c idClaims
	if err := idt.Claims(&c); err != nil {
		return nil, &sesame.Error{Kind: sesame.Unauthenticated, Err: fmt.Errorf("oidc: %s: id token claims: %w", o.cfg.Name, err)}
	}
	if len(idt.Audience) > 1 && c.AZP != o.cfg.ClientID {
		return nil, &sesame.Error{Kind: sesame.Unauthenticated, Err: fmt.Errorf("oidc: %s: id token for several audiences, azp %q", o.cfg.Name, c.AZP)}
	}
	verified := string(c.EmailVerified) == "true" || string(c.EmailVerified) == `"true"`
	return &sesame.IDClaims{Subject: idt.Subject, Email: c.Email, EmailVerified: verified, Nonce: idt.Nonce}, nil
}
