package sesame

import (
	"cmp"
	"context"
	"sync"
	"time"
)

// AuditNote says who is making a change and why. A caller puts one in the
// context (WithAudit) before it asks a store for a change; the store then
// appends one event per link or object it changes, inside the transaction
// of the change, so that a change and its record commit together or not
// at all. A request that changes nothing (it failed) is recorded by its
// adapter with Record, which writes through the same store.
type AuditNote struct {
	Actor     string
	ActorType string
	Action    string
	IP        string
	RequestID string
	Detail    map[string]string
	// Outcome of the change: "success" when empty.
	Outcome string
	// LinkID is the link an object change went through (a recipient's
	// upload, say); events about objects carry it too.
	LinkID string

	mu      sync.Mutex    // guards pending and written
	pending []*AuditEvent // appended in a transaction not yet committed
	written []*AuditEvent // committed
}

type auditKey struct{}

// WithAudit returns a context whose store calls record their changes as n.
func WithAudit(ctx context.Context, n *AuditNote) context.Context {
	return context.WithValue(ctx, auditKey{}, n)
}

// AuditNoteFrom returns the note of ctx, or nil.
func AuditNoteFrom(ctx context.Context) *AuditNote {
	n, _ := ctx.Value(auditKey{}).(*AuditNote)
	return n
}

// Event builds the success event for a change of a link or an object at t,
// and holds it as pending until Commit or Abort.
func (n *AuditNote) Event(t time.Time, linkID, objectID string) *AuditEvent {
	ev := &AuditEvent{Time: t, Actor: n.Actor, ActorType: n.ActorType, Action: n.Action, LinkID: cmp.Or(linkID, n.LinkID), ObjectID: objectID,
		IP: n.IP, Outcome: cmp.Or(n.Outcome, "success"), RequestID: n.RequestID, Detail: n.Detail}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.pending = append(n.pending, ev)
	return ev
}

// Commit marks the pending events as written: their transaction committed.
func (n *AuditNote) Commit() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.written = append(n.written, n.pending...)
	n.pending = nil
}

// Abort forgets the pending events: their transaction rolled back.
func (n *AuditNote) Abort() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.pending = nil
}

// Written returns the events committed so far.
func (n *AuditNote) Written() []*AuditEvent {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]*AuditEvent(nil), n.written...)
}

// Record writes the events of a request that committed none: one per
// link or object it named (or one bare event), with outcome. A request
// whose changes already recorded themselves writes nothing more.
func (n *AuditNote) Record(ctx context.Context, log AuditLog, t time.Time, outcome string, linkIDs, objectIDs []string) error {
	if len(n.Written()) > 0 {
		return nil
	}
	var events []*AuditEvent
	mk := func(linkID, objectID string) {
		events = append(events, &AuditEvent{Time: t, Actor: n.Actor, ActorType: n.ActorType, Action: n.Action, LinkID: linkID,
			ObjectID: objectID, IP: n.IP, Outcome: outcome, RequestID: n.RequestID, Detail: n.Detail})
	}
	for _, id := range linkIDs {
		mk(id, "")
	}
	for _, id := range objectIDs {
		mk("", id)
	}
	if len(events) == 0 {
		mk("", "")
	}
	return log.Audit(context.WithoutCancel(ctx), events...)
}
