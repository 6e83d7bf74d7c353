package sesame

import "context"

type ctxKey int

const (
	tokenKey ctxKey = iota
	requestIDKey
)

// WithToken returns a context carrying the authenticated API token. The
// core reads it as the caller: LinkService lets a caller grant no more
// than its token holds, and ResolveTargets looks objects up only for a
// token with objects:read.
func WithToken(ctx context.Context, t *Token) context.Context {
	return context.WithValue(ctx, tokenKey, t)
}

// TokenFrom returns the authenticated API token, or nil.
func TokenFrom(ctx context.Context) *Token {
	t, _ := ctx.Value(tokenKey).(*Token)
	return t
}

// WithRequestID returns a context carrying the request id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// RequestIDFrom returns the request id, or "".
func RequestIDFrom(ctx context.Context) string {
	s, _ := ctx.Value(requestIDKey).(string)
	return s
}

type languageKey struct{}

// WithLanguage carries the visitor's language (a BCP 47 tag) to what a
// request causes beyond its page, such as the code email it asks for.
func WithLanguage(ctx context.Context, tag string) context.Context {
	return context.WithValue(ctx, languageKey{}, tag)
}

// LanguageOf returns the language WithLanguage set ("" when none).
func LanguageOf(ctx context.Context) string {
	tag, _ := ctx.Value(languageKey{}).(string)
	return tag
}
