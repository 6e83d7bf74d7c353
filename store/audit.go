package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/jmoiron/sqlx"

	"github.com/sesame-share/sesame"
)

var (
	_ sesame.LinkStore = (*Store)(nil)
	_ sesame.AuditLog  = (*Store)(nil)
)

// Audit implements sesame.AuditLog.
func (st *Store) Audit(ctx context.Context, events ...*sesame.AuditEvent) error {
	if len(events) == 0 {
		return nil
	}
	return st.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error { return st.appendAudit(ctx, tx, events...) })
}

// appendAudit is the one writer of the audit trail: every event goes in
// through it, inside the caller's transaction.
func (st *Store) appendAudit(ctx context.Context, tx *sqlx.Tx, events ...*sesame.AuditEvent) error {
	for _, e := range events {
		if e.Time.IsZero() {
			e.Time = st.nowUTC()
		}
		detail := "{}"
		if len(e.Detail) > 0 {
			b, _ := json.Marshal(e.Detail) // a string map always marshals
			detail = string(b)
		}
		err := tx.GetContext(ctx, &e.ID, tx.Rebind(`INSERT INTO audit_events (time, actor, actor_type, action, link_id, object_id, ip, outcome, request_id, detail)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`), sesame.FormatTime(e.Time), e.Actor, e.ActorType, e.Action, e.LinkID, e.ObjectID, e.IP, e.Outcome, e.RequestID, detail)
		if err != nil {
			return fmt.Errorf("store: audit: %w", err)
		}
		if f := st.auditObserver.Load(); f != nil {
			(*f)(e)
		}
	}
	return nil
}

// noteChange records, in tx, that the change tx makes touched a link or an
// object, as the caller's AuditNote describes it (nothing without one).
func (st *Store) noteChange(ctx context.Context, tx *sqlx.Tx, linkID, objectID string) error {
	note := sesame.AuditNoteFrom(ctx)
	if note == nil {
		return nil
	}
	return st.appendAudit(ctx, tx, note.Event(st.nowUTC(), linkID, objectID))
}

var auditColumns = map[string]string{
	"link_id": "link_id", "object_id": "object_id", "action": "action", "actor": "actor",
	"actor_type": "actor_type", "outcome": "outcome", "request_id": "request_id", "time": "time",
}

// FindAudit implements sesame.AuditLog. Events come in id order (the order
// they were written), newest first when f.Desc.
func (st *Store) FindAudit(ctx context.Context, f sesame.AuditFilter) (*sesame.AuditPage, error) {
	q := st.newQuery()
	for _, c := range f.Conds {
		col, ok := auditColumns[c.Field]
		if !ok {
			return nil, fmt.Errorf("store: unknown audit filter field %q", c.Field)
		}
		if err := q.addCond(col, sesame.AuditFields[c.Field], c); err != nil {
			return nil, err
		}
	}
	page := &sesame.AuditPage{}
	if err := st.db.GetContext(ctx, &page.Count, st.db.Rebind(`SELECT COUNT(*) FROM audit_events`+q.sql()), q.args...); err != nil {
		return nil, fmt.Errorf("store: count audit: %w", err)
	}
	order, size, err := q.page("id", "id", false, f.Desc, f.After, f.Size)
	if err != nil {
		return nil, err
	}
	if f.After != nil {
		if _, err := strconv.ParseInt(f.After.ID, 10, 64); err != nil {
			return nil, sesame.FieldErr("BadFormat", "/last", "last is not a cursor returned by an earlier page")
		}
	}
	var rows []struct {
		ID        int64  `db:"id"`
		Time      string `db:"time"`
		Actor     string `db:"actor"`
		ActorType string `db:"actor_type"`
		Action    string `db:"action"`
		LinkID    string `db:"link_id"`
		ObjectID  string `db:"object_id"`
		IP        string `db:"ip"`
		Outcome   string `db:"outcome"`
		RequestID string `db:"request_id"`
		Detail    string `db:"detail"`
	}
	err = st.db.SelectContext(ctx, &rows, st.db.Rebind(`SELECT id, time, actor, actor_type, action, link_id, object_id, ip, outcome, request_id, detail FROM audit_events`+
		q.sql()+order+` LIMIT ?`), append(q.args, size+1)...)
	if err != nil {
		return nil, fmt.Errorf("store: find audit: %w", err)
	}
	for i, r := range rows {
		if i == size {
			page.Next = &sesame.Cursor{OrderBy: "id", Desc: f.Desc, ID: strconv.FormatInt(rows[size-1].ID, 10)}
			break
		}
		e := &sesame.AuditEvent{ID: r.ID, Time: parseTime(r.Time), Actor: r.Actor, ActorType: r.ActorType, Action: r.Action,
			LinkID: r.LinkID, ObjectID: r.ObjectID, IP: r.IP, Outcome: r.Outcome, RequestID: r.RequestID}
		if r.Detail != "" && r.Detail != "{}" {
			_ = json.Unmarshal([]byte(r.Detail), &e.Detail) // written by Audit
		}
		page.Events = append(page.Events, e)
	}
	return page, nil
}
