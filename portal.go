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
	SessionMaxAge     = 12 * time.Hour
	SessionIdle       = 30 * time.Minute
	FreeFailures      = 3 // per IP and link before backoff starts
	MaxBackoff        = 15 * time.Minute
	// LockAfterFailures consecutive failures lock an authenticator for a
	// while (NIST SP 800-63B's ceiling of 100); the first lock lasts
	// FirstLock, each further one twice the last, up to MaxLock. A lock is
	// never permanent, and a success starts the count afresh.
	LockAfterFailures = 100
	FirstLock         = 15 * time.Minute
	MaxLock           = 24 * time.Hour
)

// LockWindow is how long the n-th lock (from 1) of an authenticator lasts.
func LockWindow(n int) time.Duration {
	d := FirstLock
	for i := 1; i < n && d < MaxLock; i++ {
		d *= 2
	}
	return min(d, MaxLock)
}

// ErrNoCode answers a code when the authenticator has no live code: such
// a try never counts against the authenticator.
var ErrNoCode = Errorf(Unauthenticated, "That code is not right, or it has expired. Ask for a new one.")

// ErrCodeFormat answers an answer that cannot be a code at all; like
// ErrNoCode it never counts against the authenticator, only against the
// address that sent it.
var ErrCodeFormat = Say(Unauthenticated, "Codes have {{.N}} digits.", "N", CodeDigits)

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

// AccessStore keeps what recipients' access to links needs: links by
// token, sessions, failure counts, per-address backoff, download claims
// and upload reservations. Only MACs of secrets are stored.
type AccessStore interface {
	// LinkByToken returns NotFound for an unknown or deleted link, after
	// the same queries as for a known one.
	LinkByToken(ctx context.Context, token string) (*Link, error)

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

	// RecordAuthFailure counts one failure of an authenticator. When the
	// count reaches LockAfterFailures it locks the authenticator and
	// returns the end of the lock; otherwise the zero time.
	RecordAuthFailure(ctx context.Context, authID string, now time.Time) (time.Time, error)
	// BackoffUntil returns when key may try again (zero: now).
	BackoffUntil(ctx context.Context, key string, now time.Time) (time.Time, error)
	// RecordBackoffFailure notes a failure and returns the new wait end.
	RecordBackoffFailure(ctx context.Context, key string, now time.Time) (time.Time, error)
	// ClearBackoff forgets the failures of key.
	ClearBackoff(ctx context.Context, key string) error

	// ClaimDownload takes a download slot for the session and key (an
	// object id, or "zip:…"), unless the session already holds one for the
	// key (a Range request for the same file). It reports whether a new
	// slot was taken; Forbidden when max_downloads is reached.
	ClaimDownload(ctx context.Context, l *Link, sessionID, key string) (bool, error)
	// RefundDownload gives back a slot taken for a download that sent nothing.
	RefundDownload(ctx context.Context, linkID, sessionID, key string) error

	// ReserveUploadFile takes one of the link's upload slots (maxFiles 0:
	// no cap) in one conditional UPDATE and returns the bytes reserved so
	// far; false when the cap is reached.
	ReserveUploadFile(ctx context.Context, linkID string, maxFiles int) (int64, bool, error)
	// ReserveUploadBytes adds n to the link's uploaded bytes unless that
	// would pass maxBytes (0: no cap); false then.
	ReserveUploadBytes(ctx context.Context, linkID string, n, maxBytes int64) (bool, error)
	// ReleaseUpload gives back what a failed upload reserved.
	ReleaseUpload(ctx context.Context, linkID string, files int, bytes int64) error
	// AddSessionUpload remembers that a session uploaded an object, so a
	// recipient of an upload link sees their own files and nothing else.
	AddSessionUpload(ctx context.Context, sessionID, objectID string) error
	// SessionUploadIDs lists what a session uploaded, oldest first.
	SessionUploadIDs(ctx context.Context, sessionID string) ([]string, error)

	// CodeState reports an authenticator's one-time codes: when the next
	// may be sent, and the wrong tries its live code has left.
	CodeState(ctx context.Context, authID string, now time.Time) (CodeState, error)
}

// CodeState is what a recipient may know about the codes of one
// authenticator: the send limits and tries are published numbers
// (DESIGN.md §6), so showing them reveals nothing about the address.
type CodeState struct {
	NextSend  time.Time // zero or past: a code may be sent now
	Live      bool      // a code was sent and is neither used nor expired
	TriesLeft int       // wrong tries the live code has left
}

// ChallengeStore keeps one-time codes. Codes are stored as MACs.
type ChallengeStore interface {
	// CreateChallenge stores a code for the authenticator and queues msg in
	// the same transaction, after checking the send limits (MinResendInterval,
	// MaxSendsPerHour); TooManyAttempts when they forbid a send.
	CreateChallenge(ctx context.Context, authID, code string, msg *Message, now time.Time) error
	// VerifyCode consumes the newest live code of the authenticator if
	// code matches; Unauthenticated if not (counting the try), ErrNoCode
	// when there is no live code, and TooManyAttempts once the code has
	// MaxCodeAttempts wrong tries.
	VerifyCode(ctx context.Context, authID, code string, now time.Time) error
}

// Authenticator proves that a visitor controls one of a link's credentials.
type Authenticator interface {
	Method() AuthType
	// Begin sends a code; a no-op for passwords. TooManyAttempts when
	// the send limits forbid it.
	Begin(ctx context.Context, l *Link, a *LinkAuthenticator) error
	// Verify returns Unauthenticated for a wrong answer (ErrNoCode when
	// no code is live) and TooManyAttempts once the challenge is spent.
	Verify(ctx context.Context, l *Link, a *LinkAuthenticator, answer string) error
}
