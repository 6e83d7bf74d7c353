package sesame

import (
	"fmt"
	"slices"
	"time"
)

// OwnerEvent is something a link's owner may ask to be emailed about.
type OwnerEvent string

// The owner events.
const (
	OwnerUpload    OwnerEvent = "upload"    // a recipient uploaded files: one digest per session
	OwnerDownload  OwnerEvent = "download"  // the link's first download
	OwnerLocked    OwnerEvent = "locked"    // an authenticator locked
	OwnerExhausted OwnerEvent = "exhausted" // the access or download cap is spent
)

// OwnerEvents lists the owner events in their documented order.
var OwnerEvents = []OwnerEvent{OwnerUpload, OwnerDownload, OwnerLocked, OwnerExhausted}

// DigestIdle is how long an upload session stays quiet before its owner
// digest is sent (an ended session's is sent at once).
const DigestIdle = 10 * time.Minute

// LinkNotify is what a link's owner wants to be emailed about, and where.
// Email empty means the link's SenderEmail.
type LinkNotify struct {
	Events   []OwnerEvent
	Email    string
	Language string // BCP 47; empty: the server's default
}

// NewLinkNotify is the core's form of an adapter's notify field: the
// events by name (checked when the link is created or updated; none turns
// the emails off), the address and the language.
func NewLinkNotify(events []string, email, language string) *LinkNotify {
	n := &LinkNotify{Events: make([]OwnerEvent, len(events)), Email: email, Language: language}
	for i, e := range events {
		n.Events[i] = OwnerEvent(e)
	}
	return n
}

// EventNames lists the events n asks for by name; nil for nil n.
func (n *LinkNotify) EventNames() []string {
	if n == nil {
		return nil
	}
	out := make([]string, len(n.Events))
	for i, e := range n.Events {
		out[i] = string(e)
	}
	return out
}

// Wants reports whether n asks for e.
func (n *LinkNotify) Wants(e OwnerEvent) bool { return n != nil && slices.Contains(n.Events, e) }

// OwnerFile is one uploaded file in an owner digest.
type OwnerFile struct {
	Name string
	Size int64
}

// OwnerNote is one owner email to render: the event, the link as it is,
// the address, and for an upload digest the files.
type OwnerNote struct {
	Event OwnerEvent
	Link  *Link
	To    string
	Files []OwnerFile
	At    time.Time
}

// OwnerMailer renders owner emails; the store queues them in the
// transaction of the event.
type OwnerMailer interface {
	OwnerMessage(n *OwnerNote) (*Message, error)
}

// OwnerAddress is where owner emails of l go: the notify email, else the
// sender recorded by send; "" when neither is set.
func OwnerAddress(l *Link) string {
	if l.Notify == nil {
		return ""
	}
	if l.Notify.Email != "" {
		return l.Notify.Email
	}
	return l.SenderEmail
}

// checkNotify validates a notify request at source ("/links/0/notify" or
// "/notify"); senderEmail is the link's recorded sender, if any.
func checkNotify(errs *Problems, source string, n *LinkNotify, senderEmail string) {
	if n == nil {
		return
	}
	for i, e := range n.Events {
		if !slices.Contains(OwnerEvents, e) {
			errs.Addf("NotEnumMember", fmt.Sprintf("%s/events/%d", source, i), "events may hold upload, download, locked and exhausted")
		}
	}
	if n.Email != "" && !ValidEmail(n.Email) {
		errs.Addf("BadFormatEmail", source+"/email", "email must be one email address such as bob@example.com")
	}
	if len(n.Language) > 35 {
		errs.Addf("BadFormat", source+"/language", "language must be a BCP 47 language tag such as en, de or pt-BR")
	}
	errs.Add(CheckText(source+"/language", n.Language, false))
	if n.Email == "" && senderEmail == "" && len(n.Events) > 0 {
		errs.Addf("FieldRequired", source+"/email", "email is required until the link has been sent with a sender_email")
	}
}
