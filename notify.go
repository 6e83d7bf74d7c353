package sesame

import (
	"context"
	"errors"
	"strings"
	"time"
)

// Channel is how a message travels.
type Channel string

// The channels.
const (
	ChannelEmail Channel = "email"
	ChannelSMS   Channel = "sms"
)

// Message is one rendered notification: everything a transport needs.
type Message struct {
	Channel Channel
	To      string // an email address or an E.164 number
	ReplyTo string // email only
	// FromName is the display name of the From header ("Alice via
	// sesame"), email only; empty: the transport's configured name. The
	// address is always the transport's own.
	FromName string
	Subject  string // email only
	Text     string
	HTML     string // email only; empty for text-only mail
	Kind     string // "link" or "code", for the log and the audit trail
	LinkID   string
	// Language is the BCP 47 tag the message was asked for in ("de",
	// "pt-BR"), kept with it in the outbox.
	Language string
}

// Notifier delivers one message over one channel.
type Notifier interface {
	// Notify returns the provider's message id. It returns an Invalid error
	// when the recipient can never receive it (SMTP 5xx, Twilio 4xx), and
	// an Unavailable error for failures worth retrying.
	Notify(ctx context.Context, m *Message) (string, error)
}

// Outbox states.
const (
	OutboxQueued  = "queued"
	OutboxSending = "sending"
	OutboxSent    = "sent"
	OutboxFailed  = "failed"
)

// Notification is a message in the durable outbox.
type Notification struct {
	ID          string
	Message     Message
	Status      string
	Attempts    int
	NextAttempt time.Time
	LastError   string
	ProviderID  string
	Created     time.Time
	Sent        time.Time
}

// NotificationFields lists the filterable notification fields.
var NotificationFields = map[string]FieldType{
	"link_id":    FieldString,
	"status":     FieldString,
	"channel":    FieldString,
	"created_at": FieldTime,
}

// NotificationFilter selects notifications, newest first when Desc.
type NotificationFilter struct {
	Conds []Cond
	Desc  bool
	Size  int
	After *Cursor
}

// NotificationPage is one page of FindNotifications.
type NotificationPage struct {
	Notifications []*Notification
	Count         int
	Next          *Cursor
}

// Outbox keeps messages until a transport has confirmed them.
type Outbox interface {
	// Enqueue stores messages for delivery as soon as possible.
	Enqueue(ctx context.Context, msgs ...*Message) error
	// ClaimDue takes up to limit messages that are due at now, and leases
	// them until now+lease so that no other worker sends them meanwhile.
	ClaimDue(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*Notification, error)
	// MarkSent records a confirmed delivery; the body is then forgotten.
	MarkSent(ctx context.Context, id, providerID string, now time.Time) error
	// MarkRetry records a failed try and when to try again.
	MarkRetry(ctx context.Context, id, lastError string, next time.Time) error
	// MarkFailed gives up on a message; the body is then forgotten.
	MarkFailed(ctx context.Context, id, lastError string) error
	// CountSent counts messages of a channel sent since t.
	CountSent(ctx context.Context, ch Channel, since time.Time) (int, error)
	// FindNotifications returns one page of the outbox.
	FindNotifications(ctx context.Context, f NotificationFilter) (*NotificationPage, error)
}

// LinkSend asks for one link to be emailed to one address.
type LinkSend struct {
	LinkID string
	Email  string
	// Language is the BCP 47 tag of the email; empty: the server's default.
	Language string
}

// LinkSendRequest is share/link/send: emails to recipients, from a sender.
type LinkSendRequest struct {
	Items       []LinkSend
	SenderEmail string
	SenderName  string
}

// LinkMailer emails links to people.
type LinkMailer interface {
	// SendLinks renders and queues one email per item and returns the
	// links. NotFound names an unknown link; Invalid a bad address.
	SendLinks(ctx context.Context, req LinkSendRequest) ([]*Link, error)
	// Preview renders the emails without queueing them.
	Preview(ctx context.Context, req LinkSendRequest) ([]*Message, error)
}

// Delivery failure categories. notifications/list shows one of these
// instead of a provider's own text, which the server log keeps.
const (
	FailureRejected    = "rejected"    // the provider refused the recipient or message for good
	FailureUnavailable = "unavailable" // the provider failed or could not be reached; retried
	FailureBudget      = "budget"      // the daily SMS budget is spent
	FailureInternal    = "internal"    // anything else
)

// ErrSMSBudget marks an SMS not sent because the daily budget is spent.
var ErrSMSBudget = Errorf(TooManyAttempts, "The daily SMS budget is spent.")

// FailureCategory classifies a delivery error.
func FailureCategory(err error) string {
	switch {
	case errors.Is(err, ErrSMSBudget):
		return FailureBudget
	case KindOf(err) == Invalid:
		return FailureRejected
	case KindOf(err) == Unavailable:
		return FailureUnavailable
	}
	return FailureInternal
}

// DescribeFailure is what the outbox keeps about a failed try: the
// category, then the detail.
func DescribeFailure(err error) string { return FailureCategory(err) + ": " + err.Error() }

// FailureCategoryOf returns the category a kept description starts with.
func FailureCategoryOf(lastError string) string {
	if lastError == "" {
		return ""
	}
	for _, c := range []string{FailureRejected, FailureUnavailable, FailureBudget} {
		if strings.HasPrefix(lastError, c+": ") {
			return c
		}
	}
	return FailureInternal
}

// QueueStat is the state of one channel's queue in the outbox.
type QueueStat struct {
	Channel string
	Pending int       // queued or being sent
	Oldest  time.Time // when the oldest pending message was queued
}

// QueueStats reports the outbox's queues, for monitoring.
type QueueStats interface {
	QueueStats(ctx context.Context) ([]QueueStat, error)
}
