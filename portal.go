package sesame

import (
	"context"
	"time"
)

// Throttling numbers (DESIGN.md §6).
const (
	CodeDigits        = 6
	CodeTTL           = 10 * time.Minute
	MaxCodeAttempts   = 5                // wrong tries per code
	MinResendInterval = 60 * time.Second // between sends to one authenticator
	MaxSendsPerHour   = 5                // per authenticator
	LockAfterFailures = 20               // consecutive failures lock an authenticator
	SessionMaxAge     = 12 * time.Hour
	SessionIdle       = 30 * time.Minute
	FreeFailures      = 3 // per IP and link before backoff starts
	MaxBackoff        = 15 * time.Minute
)

// Session is a recipient's signed-in visit to one link.
type Session struct {
	ID              string // public id (ses_…), for the audit trail
	LinkID          string
	AuthenticatorID string
	AuthEpoch       int
	Created         time.Time
	Expires         time.Time
	LastSeen        time.Time
	IP              string
	UserAgent       string
}

// SessionStore keeps recipient sessions. Only a MAC of a session's secret
// is stored.
type SessionStore interface {
	// SignIn claims one access of the link (one conditional UPDATE, never
	// past max_access_count), sets last_accessed_at, resets the
	// authenticator's failures and creates a session, in one transaction.
	// It returns the session and its secret; NotFound when the link is
	// dead or exhausted.
	SignIn(ctx context.Context, l *Link, authID string, ip, userAgent string, now time.Time) (*Session, string, error)
	// SessionBySecret returns the live session for secret on linkID and
	// marks it seen; NotFound when unknown, ended, idle too long, for
	// another link, or from an older authenticator epoch.
	SessionBySecret(ctx context.Context, linkID, secret string, epoch int, now time.Time) (*Session, error)
	// EndSession ends a session.
	EndSession(ctx context.Context, secret string) error
}

// AuthFailures counts consecutive failures per authenticator.
type AuthFailures interface {
	// RecordAuthFailure adds one failure and returns the count; at
	// LockAfterFailures the authenticator is locked until the link changes.
	RecordAuthFailure(ctx context.Context, authID string, now time.Time) (int, error)
	// LockedAuthenticators lists the locked authenticator ids of a link.
	LockedAuthenticators(ctx context.Context, linkID string) (map[string]bool, error)
}

// Backoff slows down guessing from one address at one link.
type Backoff interface {
	// BackoffUntil returns when key may try again (zero: now).
	BackoffUntil(ctx context.Context, key string, now time.Time) (time.Time, error)
	// RecordBackoffFailure notes a failure and returns the new wait end.
	RecordBackoffFailure(ctx context.Context, key string, now time.Time) (time.Time, error)
	// ClearBackoff forgets the failures of key.
	ClearBackoff(ctx context.Context, key string) error
}

// ChallengeStore keeps one-time codes. Codes are stored as MACs.
type ChallengeStore interface {
	// CreateChallenge stores a code for the authenticator and queues msg in
	// the same transaction, after checking the send limits (MinResendInterval,
	// MaxSendsPerHour); TooManyAttempts when they forbid a send.
	CreateChallenge(ctx context.Context, authID, code string, msg *Message, now time.Time) error
	// VerifyCode consumes the newest live code of the authenticator if
	// code matches; Unauthenticated if not (counting the try), and
	// TooManyAttempts once the code has MaxCodeAttempts wrong tries.
	VerifyCode(ctx context.Context, authID, code string, now time.Time) error
}

// Authenticator proves that a visitor controls one of a link's credentials.
type Authenticator interface {
	Method() AuthType
	// Begin sends a code; a no-op for passwords. TooManyAttempts when
	// the send limits forbid it.
	Begin(ctx context.Context, l *Link, a *LinkAuthenticator) error
	// Verify returns Unauthenticated for a wrong answer and
	// TooManyAttempts once the challenge is spent.
	Verify(ctx context.Context, l *Link, a *LinkAuthenticator, answer string) error
}

// DownloadClaims counts real downloads against max_downloads.
type DownloadClaims interface {
	// ClaimDownload takes a download slot for the session and key (an
	// object id, or "zip:…"), unless the session already holds one for the
	// key (a Range request for the same file). It reports whether a new
	// slot was taken; Forbidden when the cap is reached.
	ClaimDownload(ctx context.Context, l *Link, sessionID, key string) (bool, error)
	// RefundDownload gives back a slot taken for a download that sent nothing.
	RefundDownload(ctx context.Context, linkID, sessionID, key string) error
}

// SessionUploads remembers what each upload-link session uploaded, so a
// recipient sees their own files and nothing else of the folder.
type SessionUploads interface {
	AddSessionUpload(ctx context.Context, sessionID, objectID string) error
	SessionUploadIDs(ctx context.Context, sessionID string) ([]string, error)
}

// LinkByToken finds the link whose URL carries token.
type LinkFinder interface {
	// LinkByToken returns NotFound for an unknown or deleted link.
	LinkByToken(ctx context.Context, token string) (*Link, error)
}

// UploadTotals reports how much a link's recipients have uploaded.
type UploadTotals interface {
	// LinkUploadTotals counts the files and bytes uploaded through a link.
	LinkUploadTotals(ctx context.Context, linkID string) (files int, bytes int64, err error)
}
