package sesame

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"
)

// PortalLimits bounds what recipients may upload.
type PortalLimits struct {
	MaxFileSize  int64 // one file, in bytes (0: no cap)
	MaxLinkBytes int64 // everything uploaded through one link (0: no cap)
	MaxLinkFiles int   // files uploaded through one link (0: no cap)
}

// PortalService decides every rule of the recipient pages: which links
// open, who may sign in and how often, what lies inside a link's scope,
// and what a recipient may download, upload, rename or delete. The pages
// parse a request, make one call here and render the result.
type PortalService struct {
	Access  AccessStore
	Objects ObjectStore
	Blobs   BlobStore
	// Resumables keeps resumable uploads; nil turns them off.
	Resumables Resumables
	// Social lists the OpenID Connect providers that social
	// authenticators sign in with (none: social links cannot open), and
	// SocialStates keeps their sign-ins in progress.
	Social       []OIDCProvider
	SocialStates SocialStates
	Audit        AuditLog
	// Events publishes downloads to webhooks, with their audit events;
	// nil publishes none.
	Events         EventLog
	Authenticators map[AuthType]Authenticator
	// Deriver and FileKeys let recipients open password-protected files:
	// the key of a file's password, kept for the session. Without them
	// such files stay shut.
	Deriver  KeyDeriver
	FileKeys SessionKeys
	Limits   PortalLimits
	Logger   *slog.Logger
	Now      func() time.Time
}

// Visitor is who asks: the client's address, browser and request id.
type Visitor struct {
	IP, UserAgent, RequestID string
}

// Visit is one request's view of a link: the link, and the session when
// the visitor is signed in.
type Visit struct {
	Link    *Link
	Session *Session // nil before sign-in
	Secret  string   // the session's secret
	Visitor Visitor
	targets []*Object // loaded on first use
	// targetIDs is the set of the link's target ids, made on first use.
	targetIDs map[string]bool
}

// ErrDeadLink is the one answer for every link that cannot be used:
// unknown, expired, deleted, exhausted or locked.
var ErrDeadLink = Errorf(NotFound, "This link does not exist.")

// LinkTokenLen is the length of a link token in a URL.
const LinkTokenLen = 43

func (ps *PortalService) now() time.Time {
	if ps.Now != nil {
		return ps.Now()
	}
	return time.Now()
}

func (ps *PortalService) log() *slog.Logger {
	if ps.Logger != nil {
		return ps.Logger
	}
	return slog.Default()
}

// Open resolves a link token and the visitor's session, whose secret
// secretFor returns for the link's id ("" when the visitor has none).
// Every dead link gives ErrDeadLink after the same store calls. A link
// whose accesses are spent or whose authenticators are all locked still
// opens for a visitor with a live session.
func (ps *PortalService) Open(ctx context.Context, token string, secretFor func(linkID string) string, who Visitor) (*Visit, error) {
	if len(token) != LinkTokenLen {
		return nil, ErrDeadLink
	}
	l, err := ps.Access.LinkByToken(ctx, token)
	if err != nil {
		if KindOf(err) == NotFound {
			return nil, ErrDeadLink
		}
		return nil, err
	}
	now := ps.now()
	if !l.Deleted.IsZero() || !now.Before(l.Expires) {
		return nil, ErrDeadLink
	}
	v := &Visit{Link: l, Visitor: who}
	if secret := secretFor(l.ID); secret != "" {
		sess, err := ps.Access.SessionBySecret(ctx, l.ID, secret, l.AuthEpoch, now)
		switch {
		case err == nil:
			v.Session, v.Secret = sess, secret
			return v, nil
		case KindOf(err) != NotFound:
			return nil, err
		}
	}
	if !admits(l, now) {
		return nil, ErrDeadLink
	}
	return v, nil
}

// admits reports whether a link still lets a new visitor sign in.
func admits(l *Link, now time.Time) bool {
	if l.AccessCount >= l.MaxAccessCount {
		return false
	}
	for i := range l.Authenticators {
		if !l.Authenticators[i].Locked(now) {
			return true
		}
	}
	return false
}

// OpenAuthenticators lists the authenticators a visitor may use now.
func (ps *PortalService) OpenAuthenticators(v *Visit) []LinkAuthenticator {
	now := ps.now()
	var out []LinkAuthenticator
	for _, a := range v.Link.Authenticators {
		if !a.Locked(now) {
			out = append(out, a)
		}
	}
	return out
}

// Throttled is the error of a visitor who must wait before trying again.
type Throttled struct {
	Wait time.Duration
}

func (t *Throttled) Error() string { return "throttled for " + t.Wait.String() }

// RetryAfter returns how long a throttled visitor must wait, or 0.
func RetryAfter(err error) time.Duration {
	var t *Throttled
	if errors.As(err, &t) {
		return t.Wait
	}
	return 0
}

func (v *Visit) backoffKey() string { return v.Link.ID + "|" + v.Visitor.IP }

// authenticator returns the link's authenticator at index i if it is one
// of the types asked for.
func (v *Visit) authenticator(i int, types ...AuthType) (*LinkAuthenticator, error) {
	if i >= 0 && i < len(v.Link.Authenticators) {
		a := &v.Link.Authenticators[i]
		for _, t := range types {
			if a.Type == t {
				return a, nil
			}
		}
	}
	return nil, Errorf(Invalid, "Choose a way to sign in.")
}

// SignIn checks answer against the link's authenticator at index i, which
// must be one of types. The per-address backoff comes first; a locked
// authenticator refuses every answer; a wrong answer counts against the
// address and the authenticator. On success the visit gets a session.
func (ps *PortalService) SignIn(ctx context.Context, v *Visit, i int, answer string, types ...AuthType) error {
	if v.Session != nil {
		return nil
	}
	if err := ps.checkBackoff(ctx, v); err != nil {
		return err
	}
	a, err := v.authenticator(i, types...)
	if err != nil {
		return err
	}
	now := ps.now()
	if a.Locked(now) {
		return ps.failSignIn(ctx, v, a, Errorf(Unauthenticated, "That did not work. Check it and try again."), false)
	}
	if err := ps.Authenticators[a.Type].Verify(ctx, v.Link, a, answer); err != nil {
		if k := KindOf(err); k != Unauthenticated && k != TooManyAttempts {
			return err
		}
		// A code try counts against the authenticator only while a code
		// is live and the answer could be one, so that nobody can lock it
		// without a code being sent.
		return ps.failSignIn(ctx, v, a, err, !errors.Is(err, ErrNoCode) && !errors.Is(err, ErrCodeFormat))
	}
	return ps.admit(ctx, v, a, map[string]string{"auth_type": string(a.Type)}, now)
}

// admit signs the visitor in with authenticator a, whose answer was
// right: it claims one access of the link, clears the address's backoff
// and gives the visit its session. detail goes into the audit event.
func (ps *PortalService) admit(ctx context.Context, v *Visit, a *LinkAuthenticator, detail map[string]string, now time.Time) error {
	sess, secret, err := ps.Access.SignIn(ps.change(ctx, v, "signin", detail), v.Link, a.ID, v.Visitor.IP, v.Visitor.UserAgent, now)
	if KindOf(err) == NotFound {
		ps.audit(ctx, v, "signin", "failure:exhausted", "", detail)
		return ErrDeadLink
	}
	if err != nil {
		return err
	}
	if err := ps.Access.ClearBackoff(ctx, v.backoffKey()); err != nil {
		ps.log().ErrorContext(ctx, "clear backoff", "error", err)
	}
	v.Session, v.Secret = sess, secret
	return nil
}

// checkBackoff answers a Throttled TooManyAttempts when the visitor's
// address must wait.
func (ps *PortalService) checkBackoff(ctx context.Context, v *Visit) error {
	now := ps.now()
	until, err := ps.Access.BackoffUntil(ctx, v.backoffKey(), now)
	if err != nil || until.IsZero() {
		return err
	}
	wait := until.Sub(now)
	secs := max(int(wait.Seconds()+0.999), 1)
	ps.audit(ctx, v, "signin.throttled", "failure:429", "", map[string]string{"retry_after": strconv.Itoa(secs)})
	return &Error{Kind: TooManyAttempts, Message: "Please wait " + strconv.Itoa(secs) + " seconds before trying again.", Text: "Please wait {{.Seconds}} seconds before trying again.", Data: []any{"Seconds", secs},
		Err: &Throttled{Wait: time.Duration(secs) * time.Second}}
}

// failSignIn counts a wrong answer against the address and, when counts
// is set, the authenticator, and returns what the visitor is told.
func (ps *PortalService) failSignIn(ctx context.Context, v *Visit, a *LinkAuthenticator, verr error, counts bool) error {
	return ps.failSignInWith(ctx, v, a, verr, counts, map[string]string{"auth_type": string(a.Type)})
}

// failSignInWith is failSignIn with the audit event's detail.
func (ps *PortalService) failSignInWith(ctx context.Context, v *Visit, a *LinkAuthenticator, verr error, counts bool, detail map[string]string) error {
	now := ps.now()
	if counts {
		// A failure that locks the authenticator records the lock with it.
		lctx := ps.change(ctx, v, "signin.locked", map[string]string{"auth_type": string(a.Type)})
		AuditNoteFrom(lctx).Outcome = "failure"
		if _, err := ps.Access.RecordAuthFailure(lctx, a.ID, now); err != nil {
			return err
		}
	}
	if _, err := ps.Access.RecordBackoffFailure(ctx, v.backoffKey(), now); err != nil {
		return err
	}
	ps.audit(ctx, v, "signin", "failure:401", "", detail)
	out := &Error{Kind: Unauthenticated, Message: "That did not work. Check it and try again."}
	if e := AsError(verr); e != nil && e.Message != "" && (e.Kind == Unauthenticated || e.Kind == TooManyAttempts) {
		out = &Error{Kind: e.Kind, Message: e.Message, Text: e.Text, Data: e.Data}
	}
	return out
}

// SendCode sends a code for the authenticator at index i. It reports
// whether a code went out; false means the send limits hold it back for
// now (CodeStatus says until when). A locked authenticator or a failed
// send looks like a sent code, so the answer reveals nothing else; only an
// unusable index is an error.
func (ps *PortalService) SendCode(ctx context.Context, v *Visit, i int) (*LinkAuthenticator, bool, error) {
	a, err := v.authenticator(i, AuthEmailOTP, AuthSMSOTP)
	if err != nil {
		return nil, false, err
	}
	outcome := "success"
	if a.Locked(ps.now()) {
		outcome = "failure:locked"
	} else if err := ps.Authenticators[a.Type].Begin(ctx, v.Link, a); err != nil {
		outcome = "failure:throttled"
		if KindOf(err) != TooManyAttempts {
			outcome = "failure:error"
			ps.log().ErrorContext(ctx, "send code", "error", err)
		}
	}
	ps.audit(ctx, v, "code.send", outcome, "", map[string]string{"auth_type": string(a.Type)})
	return a, outcome != "failure:throttled", nil
}

// CodeStatus reports the codes of the authenticator at index i: when the
// next may be sent and how many tries the live one has left.
func (ps *PortalService) CodeStatus(ctx context.Context, v *Visit, i int) (CodeState, error) {
	a, err := v.authenticator(i, AuthEmailOTP, AuthSMSOTP)
	if err != nil {
		return CodeState{}, err
	}
	return ps.Access.CodeState(ctx, a.ID, ps.now())
}

// Leave ends the visit's session.
func (ps *PortalService) Leave(ctx context.Context, v *Visit) error {
	if v.Session == nil {
		return nil
	}
	if err := ps.Access.EndSession(ps.change(ctx, v, "signout", nil), v.Secret); err != nil {
		return err
	}
	v.Session, v.Secret = nil, ""
	return nil
}

// Record writes an audit event for something the pages noticed about a
// visit (a forged form, say).
func (ps *PortalService) Record(ctx context.Context, v *Visit, action, outcome string) {
	ps.audit(ctx, v, action, outcome, "", nil)
}

// change returns ctx with the note of a recipient's change, which the
// store records in the change's transaction.
func (ps *PortalService) change(ctx context.Context, v *Visit, action string, detail map[string]string) context.Context {
	n := &AuditNote{ActorType: ActorSession, Actor: "visitor", Action: action, IP: v.Visitor.IP, RequestID: v.Visitor.RequestID,
		LinkID: v.Link.ID, Detail: detail}
	if v.Session != nil {
		n.Actor = v.Session.ID
	}
	return WithAudit(ctx, n)
}

// audit appends one event for a recipient action. The request may have
// ended (a download the client left), so the event is written regardless.
func (ps *PortalService) audit(ctx context.Context, v *Visit, action, outcome, objectID string, detail map[string]string) {
	if err := ps.Audit.Audit(context.WithoutCancel(ctx), ps.auditEvent(v, action, outcome, objectID, detail)); err != nil {
		ps.log().ErrorContext(ctx, "audit", "action", action, "error", err)
	}
}

// publish is audit for an action that webhooks are told of as ev.
func (ps *PortalService) publish(ctx context.Context, v *Visit, ev *Event, action, outcome, objectID string, detail map[string]string) {
	if err := ps.Events.Publish(context.WithoutCancel(ctx), ev, ps.auditEvent(v, action, outcome, objectID, detail)); err != nil {
		ps.log().ErrorContext(ctx, "audit", "action", action, "error", err)
	}
}

func (ps *PortalService) auditEvent(v *Visit, action, outcome, objectID string, detail map[string]string) *AuditEvent {
	ev := &AuditEvent{Time: ps.now(), ActorType: ActorSession, Actor: "visitor", Action: action, Outcome: outcome,
		ObjectID: objectID, Detail: detail}
	if v != nil {
		ev.IP, ev.RequestID = v.Visitor.IP, v.Visitor.RequestID
		if v.Link != nil {
			ev.LinkID = v.Link.ID
		}
		if v.Session != nil {
			ev.Actor = v.Session.ID
		}
	}
	return ev
}
