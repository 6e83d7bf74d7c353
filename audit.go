package sesame

import (
	"context"
	"time"
)

// Actor types in the audit trail.
const (
	ActorToken   = "token"   // an API token over HTTP
	ActorMCP     = "mcp"     // an API token through an MCP tool
	ActorSession = "session" // a recipient on the portal
	ActorSystem  = "system"  // the server itself
	// ActorOperator is a person at the command line (sesame link revoke).
	ActorOperator = "operator"
)

// AuditEvent is one entry of the append-only audit trail. Detail never
// holds a secret (token, password, code).
type AuditEvent struct {
	ID        int64
	Time      time.Time
	Actor     string // token id, session id or "system"
	ActorType string
	Action    string // "object.put", "link.create", ...
	LinkID    string
	ObjectID  string
	IP        string
	Outcome   string // "success", or "failure:<status>"
	RequestID string
	Detail    map[string]string
}

// AuditFields lists the filterable audit fields.
var AuditFields = map[string]FieldType{
	"link_id":    FieldString,
	"object_id":  FieldString,
	"action":     FieldString,
	"actor":      FieldString,
	"actor_type": FieldString,
	"outcome":    FieldString,
	"request_id": FieldString,
	"time":       FieldTime,
}

// AuditFilter selects audit events, newest first unless Desc is false.
type AuditFilter struct {
	Conds []Cond
	Desc  bool
	Size  int
	After *Cursor
}

// AuditPage is one page of FindAudit.
type AuditPage struct {
	Events []*AuditEvent
	Count  int
	Next   *Cursor
}

// AuditLog keeps the record of what callers did: the audit trail, and the
// replies kept for 24 h by (token, Idempotency-Key) so that a retried
// request gets the first reply.
type AuditLog interface {
	// Audit appends events.
	Audit(ctx context.Context, events ...*AuditEvent) error
	// FindAudit returns one page of events.
	FindAudit(ctx context.Context, f AuditFilter) (*AuditPage, error)

	// BeginIdempotent claims the key for a new request and returns nil, or
	// returns what the earlier request with that key did.
	BeginIdempotent(ctx context.Context, tokenID, key, route string) (*IdempotentResponse, error)
	// FinishIdempotent stores the response of the request that claimed the key.
	FinishIdempotent(ctx context.Context, tokenID, key string, fingerprint []byte, status int, body []byte) error
	// AbandonIdempotent releases the key after a server fault, so that a
	// retry runs again.
	AbandonIdempotent(ctx context.Context, tokenID, key string) error
}

// Idempotency states.
const (
	IdempotencyPending = "pending"
	IdempotencyDone    = "done"
)

// IdempotentResponse is what an earlier request with the same key did.
type IdempotentResponse struct {
	Route       string
	State       string
	Fingerprint []byte
	Status      int
	Body        []byte
}
