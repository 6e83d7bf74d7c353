package sesame

import (
	"context"
	"encoding/json"
	"time"
)

// EventType names something that happened, as webhooks tell it.
type EventType string

// The events webhooks may ask for.
const (
	EventLinkCreated   EventType = "link.created"
	EventLinkUpdated   EventType = "link.updated"
	EventLinkRevoked   EventType = "link.revoked"
	EventLinkAccessed  EventType = "link.accessed"  // a recipient signed in
	EventLinkLocked    EventType = "link.locked"    // an authenticator locked after too many wrong answers
	EventLinkExhausted EventType = "link.exhausted" // the access or download cap is spent
	// EventObjectDownloaded is a recipient's first download of a file (or
	// archive) in a session; ranges of the same file count once.
	EventObjectDownloaded EventType = "object.downloaded"
	// EventObjectUploaded is a file a recipient uploaded through an upload
	// or editor link.
	EventObjectUploaded     EventType = "object.uploaded"
	EventObjectDeleted      EventType = "object.deleted"
	EventNotificationFailed EventType = "notification.failed" // an email or SMS given up on
)

// EventTypes lists every event type, in documentation order.
var EventTypes = []EventType{EventLinkCreated, EventLinkUpdated, EventLinkRevoked, EventLinkAccessed, EventLinkLocked,
	EventLinkExhausted, EventObjectDownloaded, EventObjectUploaded, EventObjectDeleted, EventNotificationFailed}

// ValidEventType reports whether t names an event.
func ValidEventType(t EventType) bool {
	for _, x := range EventTypes {
		if t == x {
			return true
		}
	}
	return false
}

// Event is something that happened that webhooks may be told about. Data
// holds ids, times, counts and a few fixed words (a link's type, why it
// ran out); never a token, password, code, address, name or file content.
type Event struct {
	Type   EventType
	Time   time.Time
	LinkID string // the link it concerns or went through, if any
	Data   map[string]any
}

// Body renders the event as a webhook's body, per the Standard Webhooks
// specification: {"type": …, "timestamp": …, "data": {…}}.
func (ev *Event) Body() []byte {
	data := ev.Data
	if data == nil {
		data = map[string]any{}
	}
	b, _ := json.Marshal(struct { // strings, numbers, bools and lists of strings always marshal
		Type      EventType      `json:"type"`
		Timestamp string         `json:"timestamp"`
		Data      map[string]any `json:"data"`
	}{ev.Type, FormatTime(ev.Time), data})
	return b
}

// ID prefixes of webhooks and of the messages they are sent.
const (
	PrefixWebhook        = "whk_"
	PrefixWebhookMessage = "msg_"
)

// ChannelWebhook is the outbox channel of webhook messages: the message's
// To is the webhook's id, Kind the event type, Text the body.
const ChannelWebhook Channel = "webhook"

// Webhook is an endpoint that is told about events: a URL, the events it
// wants, and a secret that signs what it is sent.
type Webhook struct {
	ID          string
	URL         string
	Events      []EventType
	Description string
	Disabled    bool
	CreatedBy   string // the token id that made it
	Created     time.Time
	Updated     time.Time
	// Secret is the signing secret in whsec_ form. It is set only in the
	// reply that issues it (create, or update with RotateSecret); it is
	// never shown again.
	Secret string
}

// WebhookCreate is a webhook to make.
type WebhookCreate struct {
	URL         string
	Events      []EventType
	Description string
	Disabled    bool
	CreatedBy   string // the token id of the caller
}

// WebhookUpdate changes a webhook. A nil field leaves it alone.
type WebhookUpdate struct {
	URL         *string
	Events      []EventType // replaces the events when non-nil
	Description *string
	Disabled    *bool
	// RotateSecret issues a new secret. The old one keeps signing beside
	// it for SecretGrace, so that receivers can switch without losing a
	// message in flight.
	RotateSecret bool
}

// SecretGrace is how long a rotated-out secret still signs messages,
// beside the new one.
const SecretGrace = 24 * time.Hour

// WebhookTarget is what one delivery needs: where to, and every secret
// that signs (the newest first).
type WebhookTarget struct {
	Webhook *Webhook
	Secrets []string
}

// Delivery outcomes.
const (
	DeliverySuccess = "success"
	DeliveryFailure = "failure"
)

// WebhookDelivery is one attempt to deliver one message to one webhook.
type WebhookDelivery struct {
	ID        string
	MessageID string // the webhook-id header: the same on every retry
	WebhookID string
	EventType EventType
	Attempt   int // 1 for the first try
	Time      time.Time
	Outcome   string // DeliverySuccess or DeliveryFailure
	// StatusCode is the receiver's HTTP status (0: no answer).
	StatusCode int
	// Error says why an attempt failed: a category (FailureRejected or
	// FailureUnavailable) and a short detail without secrets.
	Error    string
	Duration time.Duration
	// MessageStatus and NextAttempt are the message's state in the outbox
	// now (queued, sending, sent or failed), filled in by listings.
	MessageStatus string
	NextAttempt   time.Time
}

// DeliveryFields lists the filterable delivery fields.
var DeliveryFields = map[string]FieldType{
	"webhook_id": FieldString,
	"message_id": FieldString,
	"event_type": FieldString,
	"outcome":    FieldString,
	"time":       FieldTime,
}

// DeliveryFilter selects deliveries, newest first when Desc.
type DeliveryFilter struct {
	Conds []Cond
	Desc  bool
	Size  int
	After *Cursor
}

// DeliveryPage is one page of FindDeliveries.
type DeliveryPage struct {
	Deliveries []*WebhookDelivery
	Count      int
	Next       *Cursor
}

// WebhookStore keeps webhooks.
type WebhookStore interface {
	// CreateWebhook stores a new webhook with its secret, sealed, and
	// returns it with its id.
	CreateWebhook(ctx context.Context, in WebhookCreate, secret string, now time.Time) (*Webhook, error)
	// WebhookByID returns NotFound for an unknown or deleted webhook.
	WebhookByID(ctx context.Context, id string) (*Webhook, error)
	// FindWebhooks lists every webhook not deleted, oldest first.
	FindWebhooks(ctx context.Context) ([]*Webhook, error)
	// UpdateWebhook applies upd; a non-empty secret replaces the current
	// one, which keeps signing until now+SecretGrace. NotFound for an
	// unknown or deleted webhook.
	UpdateWebhook(ctx context.Context, id string, upd WebhookUpdate, secret string, now time.Time) (*Webhook, error)
	// DeleteWebhook deletes a webhook and forgets its secrets; messages
	// still queued for it then fail. NotFound for an unknown id.
	DeleteWebhook(ctx context.Context, id string) (*Webhook, error)
}

// WebhookDeliveries keeps what deliveries need and what they did.
type WebhookDeliveries interface {
	// WebhookTarget returns a live webhook with the secrets that sign at
	// now. NotFound for an unknown or deleted webhook.
	WebhookTarget(ctx context.Context, id string, now time.Time) (*WebhookTarget, error)
	// RecordDelivery appends one attempt.
	RecordDelivery(ctx context.Context, d *WebhookDelivery) error
	// FindDeliveries returns one page of attempts.
	FindDeliveries(ctx context.Context, f DeliveryFilter) (*DeliveryPage, error)
}

// WebhookSender posts one webhook message of the outbox.
type WebhookSender interface {
	// SendWebhook returns the receiver's status as the provider id. It
	// returns an Invalid error when the message can never be delivered
	// (the webhook is gone or disabled, its address is refused), and an
	// Unavailable error for failures worth retrying.
	SendWebhook(ctx context.Context, n *Notification) (string, error)
}

// EventLog publishes events that no stored change carries: a download,
// which changes nothing but is recorded.
type EventLog interface {
	// Publish appends the audit events and queues ev for every webhook
	// that wants it, in one transaction.
	Publish(ctx context.Context, ev *Event, audit ...*AuditEvent) error
}
