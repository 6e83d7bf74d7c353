package sesame

import (
	"context"
	"strings"
	"time"
)

// Scope is one permission an API token carries.
type Scope string

// The scopes. Admin implies every other.
const (
	ScopeObjectsRead  Scope = "objects:read"
	ScopeObjectsWrite Scope = "objects:write"
	ScopeLinksRead    Scope = "links:read"
	ScopeLinksWrite   Scope = "links:write"
	ScopeLinksSend    Scope = "links:send"
	ScopeAuditRead    Scope = "audit:read"
	ScopeMetricsRead  Scope = "metrics:read"
	ScopeAdmin        Scope = "admin"
)

// Scopes lists every scope, in documentation order.
var Scopes = []Scope{ScopeObjectsRead, ScopeObjectsWrite, ScopeLinksRead, ScopeLinksWrite, ScopeLinksSend, ScopeAuditRead, ScopeMetricsRead, ScopeAdmin}

// ValidScope reports whether s names a scope.
func ValidScope(s Scope) bool {
	for _, x := range Scopes {
		if s == x {
			return true
		}
	}
	return false
}

// CheckNewToken applies the rules for a new token's name and scopes: a
// name that is not blank and at least one known scope. It returns Invalid.
func CheckNewToken(name string, scopes []Scope) error {
	if strings.TrimSpace(name) == "" {
		return FieldErr("FieldRequired", "/name", "a token needs a name")
	}
	if len(scopes) == 0 {
		return FieldErr("BelowMinItems", "/scopes", "a token needs at least one scope")
	}
	for _, s := range scopes {
		if !ValidScope(s) {
			return FieldErr("NotEnumMember", "/scopes", "unknown scope %q", s)
		}
	}
	return nil
}

// TokenPrefix starts every API token secret.
const TokenPrefix = "sst_"

// Token is an API credential. Its secret is shown once and stored only as a MAC.
type Token struct {
	ID        string
	Name      string
	Scopes    []Scope
	Created   time.Time
	Expires   time.Time // zero: never
	LastUsed  time.Time // zero: never used
	Revoked   time.Time // zero: live
	CreatedBy string
}

// Has reports whether t grants scope s.
func (t *Token) Has(s Scope) bool {
	for _, x := range t.Scopes {
		if x == s || x == ScopeAdmin {
			return true
		}
	}
	return false
}

// TokenStore keeps API tokens.
type TokenStore interface {
	// CreateToken returns the token and its secret, which is not kept.
	CreateToken(ctx context.Context, name string, scopes []Scope, expires time.Time) (*Token, string, error)
	// Authenticate returns Unauthenticated for an unknown, revoked or expired secret.
	Authenticate(ctx context.Context, secret string) (*Token, error)
	// FindTokens lists every token, newest first.
	FindTokens(ctx context.Context) ([]*Token, error)
	// RevokeToken returns NotFound for an unknown id.
	RevokeToken(ctx context.Context, id string) error
}
