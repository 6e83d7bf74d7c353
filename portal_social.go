package sesame

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"time"
)

// SocialStateTTL is how long a visitor has to sign in at the provider:
// a sign-in in progress that is older is refused.
const SocialStateTTL = 10 * time.Minute

// OIDCProvider signs visitors in at one OpenID Connect provider. The
// protocol is its work: discovery, the authorization code flow with PKCE,
// and the ID token's signature (by the provider's published keys), issuer,
// audience and expiry. Who that lets in is the PortalService's rule.
type OIDCProvider interface {
	// Name is the provider's name as the sign-in button shows it.
	Name() string
	// AuthOrigin is the origin (scheme://host[:port]) of the provider's
	// authorization endpoint, or of its issuer until discovery has run;
	// the sign-in page lets its forms lead there.
	AuthOrigin() string
	// AuthURL returns the provider's authorization URL for one sign-in,
	// carrying state, nonce and the S256 challenge of verifier.
	// Unavailable while the provider cannot be reached.
	AuthURL(ctx context.Context, state, nonce, verifier string) (string, error)
	// CheckIssuer checks the iss parameter of the redirect back ("" when
	// there is none), per RFC 9207: when present it must be the issuer,
	// and it must be present when the provider's discovery document
	// promises it. Unauthenticated when it fails; Unavailable while the
	// provider cannot be reached.
	CheckIssuer(ctx context.Context, iss string) error
	// Exchange redeems code with verifier at the provider and returns the
	// claims of the ID token that comes back, once it is verified.
	// Unauthenticated when the provider refuses the code or the token
	// fails a check; Unavailable when the provider cannot be reached.
	Exchange(ctx context.Context, code, verifier string) (*IDClaims, error)
}

// IDClaims are what a verified ID token says about the visitor.
type IDClaims struct {
	Subject       string
	Email         string
	EmailVerified bool
	Nonce         string
}

// SocialState is one sign-in at a provider in progress.
type SocialState struct {
	// State is the secret the visitor's browser carries to the provider
	// and back; only its MAC is stored.
	State string
	// LinkToken is the token of the link being opened, and Verifier the
	// PKCE verifier; both are stored sealed.
	LinkToken, Verifier string
	AuthID              string // the social authenticator
	Provider            string // the provider's name
	Nonce               string
	Created, Expires    time.Time
}

// SocialStates keeps sign-ins at providers in progress in the database,
// so that the provider may send the visitor back to any replica.
type SocialStates interface {
	// CreateSocialState stores s.
	CreateSocialState(ctx context.Context, s *SocialState) error
	// TakeSocialState removes the sign-in whose state is state and returns
	// it, in one statement, so that each is used once whatever runs at the
	// same time. NotFound when it is unknown, used or expired at now.
	TakeSocialState(ctx context.Context, state string, now time.Time) (*SocialState, error)
}

// Why a sign-in at a provider did not let the visitor in. Every one of
// them is an Unauthenticated error whose message the sign-in page shows.
var (
	ErrSocialState      = Errorf(Unauthenticated, "This sign-in has expired or was already used. Start again from the link.")
	ErrSocialEmail      = Errorf(Unauthenticated, "The account you signed in with has another email address than the one this link was shared with.")
	ErrSocialUnverified = Errorf(Unauthenticated, "Your provider has not confirmed that you own this email address, so it cannot open the link.")
	ErrSocialFailed     = Errorf(Unauthenticated, "The sign-in could not be confirmed. Please try again.")
	ErrSocialCancelled  = Errorf(Unauthenticated, "The sign-in was cancelled. You can try again.")
	ErrSocialDown       = Errorf(Unavailable, "The sign-in service cannot be reached right now. Try again in a moment, or use another way to sign in.")
)

// SocialChoice is a provider as the sign-in page offers it.
type SocialChoice struct {
	Index        int
	Name, Origin string
}

// SocialChoices lists the providers a social authenticator signs in with.
func (ps *PortalService) SocialChoices() []SocialChoice {
	out := make([]SocialChoice, len(ps.Social))
	for i, p := range ps.Social {
		out[i] = SocialChoice{Index: i, Name: p.Name(), Origin: p.AuthOrigin()}
	}
	return out
}

// socialSecret is 256 random bits in base64url: a state, a nonce or a PKCE
// verifier (43 characters, as RFC 7636 asks).
func socialSecret() string {
	var b [32]byte
	rand.Read(b[:]) // never fails
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// BeginSocial starts a sign-in at provider p for the link's social
// authenticator at index i, after the same backoff and lock checks as
// every answer. It stores the state, nonce and PKCE verifier and returns
// the provider's authorization URL and the state, which the pages also
// keep in a cookie to bind the sign-in to this browser. A visitor already
// signed in gets an empty URL.
func (ps *PortalService) BeginSocial(ctx context.Context, v *Visit, i, p int) (authURL, state string, err error) {
	if v.Session != nil {
		return "", "", nil
	}
	if err := ps.checkBackoff(ctx, v); err != nil {
		return "", "", err
	}
	a, err := v.authenticator(i, AuthSocial)
	if err != nil {
		return "", "", err
	}
	if p < 0 || p >= len(ps.Social) || ps.SocialStates == nil {
		return "", "", Errorf(Invalid, "Choose a way to sign in.")
	}
	now := ps.now()
	if a.Locked(now) {
		return "", "", ps.failSignIn(ctx, v, a, Errorf(Unauthenticated, "That did not work. Check it and try again."), false)
	}
	prov := ps.Social[p]
	detail := map[string]string{"auth_type": string(AuthSocial), "provider": prov.Name()}
	st := &SocialState{State: socialSecret(), LinkToken: v.Link.Token, Verifier: socialSecret(), AuthID: a.ID,
		Provider: prov.Name(), Nonce: socialSecret(), Created: now, Expires: now.Add(SocialStateTTL)}
	authURL, err = prov.AuthURL(ctx, st.State, st.Nonce, st.Verifier)
	if err != nil {
		if KindOf(err) == Unavailable {
			ps.log().Warn("oidc provider unavailable", "provider", prov.Name(), "error", err)
			ps.audit(ctx, v, "signin.social", "failure:unavailable", "", detail)
			return "", "", ErrSocialDown
		}
		return "", "", err
	}
	if err := ps.SocialStates.CreateSocialState(ctx, st); err != nil {
		return "", "", err
	}
	ps.audit(ctx, v, "signin.social", "success", "", detail)
	return authURL, st.State, nil
}

// SocialReturn is what the provider sent the visitor back with.
type SocialReturn struct {
	// State is the state of the redirect; Bound is the one the browser
	// kept when the sign-in began, which must be the same.
	State, Bound string
	Code         string
	Error        string // the provider's error code (access_denied), if any
	// Issuer is the redirect's iss parameter (RFC 9207), if any: it must
	// name the provider the sign-in began with.
	Issuer string
}

// FinishSocial completes a sign-in at a provider. The state is used once
// and must be the one this browser began with; the ID token must be the
// provider's, for this client, unexpired, with the sign-in's nonce, and
// say that the authenticator's very email address is verified. Then the
// visitor signs in as with every other authenticator: one access of the
// link, a session, the backoff cleared. A refusal counts against the
// address and the authenticator and is audited as any wrong answer.
//
// It returns the visit whenever the link is known, with or without a
// session, so that the pages can show the link's sign-in page; an error
// that errors.Is one of the ErrSocial… values says why the visitor is not
// in. secretFor and who are as for Open.
func (ps *PortalService) FinishSocial(ctx context.Context, r SocialReturn, secretFor func(string) string, who Visitor) (*Visit, error) {
	if r.State == "" || subtle.ConstantTimeCompare([]byte(r.State), []byte(r.Bound)) != 1 || ps.SocialStates == nil {
		ps.audit(ctx, &Visit{Visitor: who}, "signin", "failure:state", "", map[string]string{"auth_type": string(AuthSocial)})
		return nil, ErrSocialState
	}
	st, err := ps.SocialStates.TakeSocialState(ctx, r.State, ps.now())
	if KindOf(err) == NotFound {
		ps.audit(ctx, &Visit{Visitor: who}, "signin", "failure:state", "", map[string]string{"auth_type": string(AuthSocial)})
		return nil, ErrSocialState
	}
	if err != nil {
		return nil, err
	}
	v, err := ps.Open(ctx, st.LinkToken, secretFor, who)
	if err != nil || v.Session != nil {
		return v, err
	}
	return v, ps.finishSocial(ctx, v, st, r)
}

// finishSocial is FinishSocial once the link is open.
func (ps *PortalService) finishSocial(ctx context.Context, v *Visit, st *SocialState, r SocialReturn) error {
	if err := ps.checkBackoff(ctx, v); err != nil {
		return err
	}
	detail := map[string]string{"auth_type": string(AuthSocial), "provider": st.Provider}
	a, prov := socialAuthenticator(v.Link, st.AuthID), ps.provider(st.Provider)
	if a == nil || prov == nil {
		// The link's authenticators or the server's providers changed
		// while the visitor was away.
		ps.audit(ctx, v, "signin", "failure:state", "", detail)
		return ErrSocialState
	}
	now := ps.now()
	if a.Locked(now) {
		return ps.failSignInWith(ctx, v, a, Errorf(Unauthenticated, "That did not work. Check it and try again."), false, detail)
	}
	if r.Error != "" || r.Code == "" {
		detail["error"] = errorCode(r.Error)
		ps.audit(ctx, v, "signin", "failure:cancelled", "", detail)
		return ErrSocialCancelled
	}
	// The redirect's issuer is checked before the code is redeemed.
	reason, err := "issuer", prov.CheckIssuer(ctx, r.Issuer)
	var claims *IDClaims
	if err == nil {
		reason = "token"
		claims, err = prov.Exchange(ctx, r.Code, st.Verifier)
	}
	switch KindOf(err) {
	case Unavailable:
		ps.log().Warn("oidc provider unavailable", "provider", st.Provider, "error", err)
		ps.audit(ctx, v, "signin.social", "failure:unavailable", "", detail)
		return ErrSocialDown
	case Unauthenticated:
		ps.log().Info("oidc sign-in refused", "provider", st.Provider, "link_id", v.Link.ID, "reason", reason, "error", err)
		return ps.refuseSocial(ctx, v, a, ErrSocialFailed, reason, detail)
	}
	if err != nil {
		return err
	}
	switch {
	case subtle.ConstantTimeCompare([]byte(claims.Nonce), []byte(st.Nonce)) != 1:
		return ps.refuseSocial(ctx, v, a, ErrSocialFailed, "nonce", detail)
	case !claims.EmailVerified:
		return ps.refuseSocial(ctx, v, a, ErrSocialUnverified, "unverified", detail)
	case !SameEmail(claims.Email, a.Context):
		return ps.refuseSocial(ctx, v, a, ErrSocialEmail, "email", detail)
	}
	return ps.admit(ctx, v, a, detail, now)
}

// refuseSocial counts a refused sign-in like a wrong answer and returns
// what the visitor is told, with reason as its cause.
func (ps *PortalService) refuseSocial(ctx context.Context, v *Visit, a *LinkAuthenticator, reason *Error, why string, detail map[string]string) error {
	detail["reason"] = why
	err := ps.failSignInWith(ctx, v, a, reason, true, detail)
	if e := AsError(err); e != nil && e.Err == nil {
		c := *e
		c.Err = reason
		return &c
	}
	return err
}

// socialAuthenticator returns the link's social authenticator with id.
func socialAuthenticator(l *Link, id string) *LinkAuthenticator {
	for i := range l.Authenticators {
		if a := &l.Authenticators[i]; a.ID == id && a.Type == AuthSocial {
			return a
		}
	}
	return nil
}

// provider returns the configured provider named name.
func (ps *PortalService) provider(name string) OIDCProvider {
	for _, p := range ps.Social {
		if p.Name() == name {
			return p
		}
	}
	return nil
}

// SameEmail reports whether address a, as a provider vouches for it, is
// address b, as a social authenticator names it. Both parts compare
// without regard to ASCII case: domains are case-blind in DNS, and local
// parts are in practice at every mail provider, while a provider may
// report the address in another case than the one a link was made with.
// Nothing else is folded: dots and +tags count, and non-ASCII letters
// must match exactly, so that no look-alike address matches.
func SameEmail(a, b string) bool {
	if len(a) != len(b) || a == "" {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

// errorCode keeps an OAuth error code ("access_denied") for the audit
// trail: at most 64 of the characters RFC 6749 allows in one.
func errorCode(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			b[i] = '?'
		}
	}
	return string(b[:min(len(b), 64)])
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
