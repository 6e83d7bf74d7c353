package sesame

import (
	"context"
	"strings"
	"time"
	"unicode"
)

// LinkType says what a recipient may do with a link's targets.
type LinkType string

// The link types.
const (
	LinkDownload LinkType = "download" // read
	LinkUpload   LinkType = "upload"   // add files to folders
	LinkEditor   LinkType = "editor"   // read, add, rename, delete
)

// AuthType is one way a recipient proves who they are.
type AuthType string

// The authenticator types.
const (
	AuthPassword AuthType = "password"
	AuthEmailOTP AuthType = "email_otp"
	AuthSMSOTP   AuthType = "sms_otp"
	// AuthSocial: an OpenID Connect provider vouches for the email address
	// in the authenticator's Context (portal_social.go).
	AuthSocial AuthType = "social"
)

// Limits on links.
const (
	MaxLinksPerCreate   = 100
	MaxTargets          = 1000
	MaxAuthenticators   = 10
	MaxPasswordLen      = 256
	MinPasswordAlone    = 15 // a password that is the only way in
	MinPasswordWithOTP  = 8  // a password beside an email or SMS code
	MaxTitleLen         = 256
	MaxMessageLen       = 4096
	RedactedAuthContext = "********"
)

// LinkAuthenticator is one authenticator of a link. For a password,
// Context is the argon2id PHC string, never the password.
type LinkAuthenticator struct {
	ID       string
	Position int
	Type     AuthType
	Context  string
	// Failures counts wrong answers since the last success or lock;
	// LockedUntil is the end of a temporary lock (zero: none).
	Failures    int
	LockedUntil time.Time
}

// Locked reports whether the authenticator refuses every answer at t.
func (a *LinkAuthenticator) Locked(t time.Time) bool { return t.Before(a.LockedUntil) }

// Link is a share link: a capability URL to some objects, gated by
// authenticators, with an expiry and caps.
type Link struct {
	ID             string
	BucketID       string
	Type           LinkType
	Targets        []string
	Authenticators []LinkAuthenticator
	Title          string
	Message        string
	Tags           []string // nil until set
	NotifyEmail    string
	RecipientEmail string
	SenderEmail    string
	SenderName     string
	Expires        time.Time
	MaxAccessCount int
	AccessCount    int
	MaxDownloads   int // 0: no cap
	Downloads      int
	LastAccessed   time.Time // zero until the first sign-in
	CreatedBy      string
	Created        time.Time
	Updated        time.Time
	Deleted        time.Time // zero while live
	// AuthEpoch changes with every update of the link; sessions made under
	// an older epoch end.
	AuthEpoch int
	// Notify is what the owner is emailed about (nil: nothing).
	Notify *LinkNotify
	// Token is the secret of the link's URL, unsealed for the response.
	Token string
}

// Live reports whether the link opens at t: not deleted, not expired and
// not exhausted.
func (l *Link) Live(t time.Time) bool {
	return l.Deleted.IsZero() && t.Before(l.Expires) && l.AccessCount < l.MaxAccessCount
}

// AuthenticatorInput is an authenticator as a client sends it: for a
// password, Context is the password itself.
type AuthenticatorInput struct {
	Type    AuthType
	Context string
}

// LinkCreate is one link to make.
type LinkCreate struct {
	BucketID       string
	Type           LinkType
	Targets        []string
	Authenticators []AuthenticatorInput
	Title          string
	Message        string
	Tags           []string
	NotifyEmail    string
	Expires        time.Time // zero: the policy default
	MaxAccessCount *int      // nil: the policy default
	MaxDownloads   *int      // nil: no cap
	CreatedBy      string
	// SendTo, when set, emails the new link as share/link/send would
	// (Pangea's send_params); it needs links:send.
	SendTo *LinkSendTo
	Notify *LinkNotify // owner emails; nil: none
	// Source is the JSON pointer of this item in the request ("/links/0"),
	// so that errors point at the right field.
	Source string
}

// LinkSendTo is whom a new link is emailed to, and from whom.
type LinkSendTo struct {
	RecipientEmail string
	SenderEmail    string
	SenderName     string
	Language       string // BCP 47; empty: the server's default
}

// LinkUpdate changes a link. A nil pointer leaves a field alone.
type LinkUpdate struct {
	Targets        []string // replaces all targets when SetTargets
	SetTargets     bool
	AddTargets     []string
	RemoveTargets  []string
	Authenticators []AuthenticatorInput // replaces all when non-nil
	Expires        *time.Time
	MaxAccessCount *int
	MaxDownloads   *int
	Title          *string
	Message        *string
	Tags           []string
	SetTags        bool
	Notify         *LinkNotify // replaces the owner notifications when non-nil
}

// LinkFilter selects links for FindLinks.
type LinkFilter struct {
	BucketID string
	Conds    []Cond
	OrderBy  string
	Desc     bool
	Size     int
	After    *Cursor
}

// LinkPage is one page of FindLinks.
type LinkPage struct {
	Links []*Link
	Count int
	Next  *Cursor
}

// LinkFields lists the filterable link fields and their types.
var LinkFields = map[string]FieldType{
	"id":               FieldString,
	"target_id":        FieldString,
	"link_type":        FieldString,
	"link":             FieldString,
	"title":            FieldString,
	"message":          FieldString,
	"recipient_email":  FieldString,
	"sender_email":     FieldString,
	"notify_email":     FieldString,
	"bucket_id":        FieldString,
	"access_count":     FieldNumber,
	"max_access_count": FieldNumber,
	"created_at":       FieldTime,
	"expires_at":       FieldTime,
	"last_accessed_at": FieldTime,
	"tags":             FieldTags,
}

// LinkFieldAliases maps older or SDK-specific filter names to LinkFields.
var LinkFieldAliases = map[string]string{
	"target":          "target_id",
	"storage_pool_id": "bucket_id",
}

// LinkOrderFields lists the fields links can be ordered by.
var LinkOrderFields = []string{"id", "bucket_id", "target", "link_type", "access_count", "max_access_count", "created_at",
	"expires_at", "last_accessed_at", "link", "title", "message", "recipient_email", "sender_email", "storage_pool_id"}

// LinkStore keeps share links.
type LinkStore interface {
	// CreateLinks stores every link or none. Authenticator contexts must
	// already be final (passwords hashed). NotFound names a missing target.
	CreateLinks(ctx context.Context, in []LinkCreate, hashed [][]LinkAuthenticator, now time.Time) ([]*Link, error)
	// LinkByID returns NotFound for an unknown or deleted link.
	LinkByID(ctx context.Context, id string) (*Link, error)
	// FindLinks returns one page of live and expired (not deleted) links.
	FindLinks(ctx context.Context, f LinkFilter) (*LinkPage, error)
	// UpdateLink applies upd; hashed replaces the authenticators when non-nil.
	UpdateLink(ctx context.Context, id string, upd LinkUpdate, hashed []LinkAuthenticator, now time.Time) (*Link, error)
	// DeleteLinks revokes the links at once and returns them as they were.
	// A deleted link keeps its row and audit trail but loses its secrets
	// (token, password hashes, codes) and its sessions end. NotFound names
	// the first unknown id; nothing is deleted then.
	DeleteLinks(ctx context.Context, ids []string) ([]*Link, error)
	// RevokeLink deletes a link and returns it; already reports that it had
	// been deleted before. NotFound only for an id that never existed.
	RevokeLink(ctx context.Context, id string) (l *Link, already bool, err error)
	// RecordLinkSends notes recipient and sender on each link and queues
	// the messages, in one transaction.
	RecordLinkSends(ctx context.Context, req LinkSendRequest, msgs []*Message) ([]*Link, error)
}

// PasswordHasher turns passwords into PHC strings and checks them.
type PasswordHasher interface {
	// Hash returns a PHC string for the password.
	Hash(ctx context.Context, password string) (string, error)
	// Verify returns Unauthenticated when password does not match phc.
	Verify(ctx context.Context, phc, password string) error
}

// CheckText refuses control characters in text that people will read (a
// link's title or message, a sender's name): NUL and the other C0 and C1
// controls, DEL, and the Unicode line and paragraph separators. multiline
// allows tab, line feed and carriage return, for a message body. Text is
// refused rather than cleaned, once, where it comes in, so what is stored
// is what the client sent and every later use (pages, email headers, the
// API) can trust it.
func CheckText(source, s string, multiline bool) error {
	field := source[strings.LastIndexByte(source, '/')+1:]
	for _, r := range s {
		if multiline && (r == '\t' || r == '\n' || r == '\r') {
			continue
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			if multiline {
				return FieldErr("DoesNotMatchPattern", source, "%s must not contain control characters other than tabs and line breaks", field)
			}
			return FieldErr("DoesNotMatchPattern", source, "%s must be one line without control characters", field)
		}
	}
	return nil
}
