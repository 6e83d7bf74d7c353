package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/sesame-share/sesame"
)

var (
	_ sesame.Outbox    = (*Store)(nil)
	_ sesame.LinkStore = (*Store)(nil)
)

type outboxPayload struct {
	ReplyTo  string `json:"r,omitempty"`
	FromName string `json:"f,omitempty"`
	Subject  string `json:"s,omitempty"`
	Text     string `json:"t"`
	HTML     string `json:"h,omitempty"`
	Language string `json:"l,omitempty"`
}

const outboxCols = `id, channel, recipient, kind, link_id, payload, status, attempts, next_attempt_at, last_error, provider_id, created_at, sent_at`

type outboxRow struct {
	ID          string `db:"id"`
	Channel     string `db:"channel"`
	Recipient   string `db:"recipient"`
	Kind        string `db:"kind"`
	LinkID      string `db:"link_id"`
	Payload     []byte `db:"payload"`
	Status      string `db:"status"`
	Attempts    int    `db:"attempts"`
	NextAttempt string `db:"next_attempt_at"`
	LastError   string `db:"last_error"`
	ProviderID  string `db:"provider_id"`
	Created     string `db:"created_at"`
	Sent        string `db:"sent_at"`
}

func (st *Store) notification(r *outboxRow) (*sesame.Notification, error) {
	n := &sesame.Notification{ID: r.ID, Status: r.Status, Attempts: r.Attempts, NextAttempt: parseTime(r.NextAttempt),
		LastError: r.LastError, ProviderID: r.ProviderID, Created: parseTime(r.Created),
		Message: sesame.Message{Channel: sesame.Channel(r.Channel), To: r.Recipient, Kind: r.Kind, LinkID: r.LinkID}}
	if r.Sent != "" {
		n.Sent = parseTime(r.Sent)
	}
	if r.Payload != nil {
		b, err := st.unseal(r.Payload, []byte(r.ID))
		if err != nil {
			return nil, err
		}
		var p outboxPayload
		if err := json.Unmarshal(b, &p); err != nil {
			return nil, fmt.Errorf("store: outbox payload: %w", err)
		}
		n.Message.ReplyTo, n.Message.FromName, n.Message.Subject, n.Message.Text, n.Message.HTML = p.ReplyTo, p.FromName, p.Subject, p.Text, p.HTML
		n.Message.Language = p.Language
	}
	return n, nil
}

// OnQueued has f called after each commit that queued outbox messages
// (emails, SMS, webhook deliveries), so that the worker of this process
// sends them at once instead of at its next poll. f must not block.
func (st *Store) OnQueued(f func()) {
	st.onQueued.Store(&f)
}

// notifyQueued tells the OnQueued function, once the transaction that
// queued messages has committed.
func (st *Store) notifyQueued() {
	if st.queued.Swap(false) {
		if f := st.onQueued.Load(); f != nil {
			(*f)()
		}
	}
}

// enqueue inserts messages inside the caller's transaction.
func (st *Store) enqueue(ctx context.Context, tx *sqlx.Tx, now time.Time, msgs ...*sesame.Message) error {
	if len(msgs) > 0 {
		st.queued.Store(true)
	}
	for _, m := range msgs {
		id := sesame.NewID("ntf_")
		b, _ := json.Marshal(outboxPayload{ReplyTo: m.ReplyTo, FromName: m.FromName, Subject: m.Subject, Text: m.Text, HTML: m.HTML, Language: m.Language}) // strings always marshal
		sealed, err := st.seal(b, []byte(id))
		if err != nil {
			return err
		}
		ts := sesame.FormatTime(now)
		_, err = tx.ExecContext(ctx, tx.Rebind(`INSERT INTO outbox (id, channel, recipient, kind, link_id, payload, status, next_attempt_at, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`), id, m.Channel, m.To, m.Kind, m.LinkID, sealed, sesame.OutboxQueued, ts, ts)
		if err != nil {
			return fmt.Errorf("store: enqueue: %w", err)
		}
	}
	return nil
}

// Enqueue implements sesame.Outbox.
func (st *Store) Enqueue(ctx context.Context, msgs ...*sesame.Message) error {
	return st.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error { return st.enqueue(ctx, tx, st.nowUTC(), msgs...) })
}

// RecordLinkSends implements sesame.LinkStore: the links note their
// latest recipient and sender, and the mail is queued, in one transaction.
func (st *Store) RecordLinkSends(ctx context.Context, req sesame.LinkSendRequest, msgs []*sesame.Message) ([]*sesame.Link, error) {
	ids := make([]string, len(req.Items))
	err := st.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		now := st.nowUTC()
		for i, it := range req.Items {
			res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE links SET recipient_email = ?, sender_email = ?, sender_name = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL`),
				it.Email, req.SenderEmail, req.SenderName, sesame.FormatTime(now), it.LinkID)
			if err != nil {
				return fmt.Errorf("store: record send: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return notFound("link", fmt.Sprintf("/links/%d/id", i), it.LinkID)
			}
			if err := st.noteChange(ctx, tx, it.LinkID, ""); err != nil {
				return err
			}
			ids[i] = it.LinkID
		}
		return st.enqueue(ctx, tx, now, msgs...)
	})
	if err != nil {
		return nil, err
	}
	links, err := st.loadLinks(ctx, st.db, ids, false)
	if err != nil {
		return nil, err
	}
	// One link per item, as sent: the item's recipient on each.
	for i, l := range links {
		c := *l
		c.RecipientEmail = req.Items[i].Email
		links[i] = &c
	}
	return links, nil
}

// ClaimDue implements sesame.Outbox with one conditional UPDATE, so that
// two workers never claim one message.
func (st *Store) ClaimDue(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*sesame.Notification, error) {
	var rows []outboxRow
	err := st.w.SelectContext(ctx, &rows, st.w.Rebind(`UPDATE outbox SET status = ?, attempts = attempts + 1, next_attempt_at = ?
WHERE id IN (SELECT id FROM outbox WHERE status IN (?, ?) AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?`+st.dialect.skipLocked+`)
RETURNING `+outboxCols), sesame.OutboxSending, sesame.FormatTime(now.Add(lease)), sesame.OutboxQueued, sesame.OutboxSending, sesame.FormatTime(now), limit)
	if err != nil {
		return nil, fmt.Errorf("store: claim outbox: %w", translate(err))
	}
	out := make([]*sesame.Notification, 0, len(rows))
	for i := range rows {
		n, err := st.notification(&rows[i])
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// MarkSent implements sesame.Outbox.
func (st *Store) MarkSent(ctx context.Context, id, providerID string, now time.Time) error {
	return st.markOutbox(ctx, "mark sent", `UPDATE outbox SET status = ?, provider_id = ?, sent_at = ?, last_error = '', payload = NULL
WHERE id = ? RETURNING link_id`, sesame.OutboxSent, providerID, sesame.FormatTime(now), id)
}

// MarkRetry implements sesame.Outbox.
func (st *Store) MarkRetry(ctx context.Context, id, lastError string, next time.Time) error {
	return st.markOutbox(ctx, "mark retry", `UPDATE outbox SET status = ?, last_error = ?, next_attempt_at = ? WHERE id = ? AND status = ?
RETURNING link_id`, sesame.OutboxQueued, truncate(lastError, 500), sesame.FormatTime(next), id, sesame.OutboxSending)
}

// MarkFailed implements sesame.Outbox: the failure of an email or SMS is
// published as notification.failed in the same transaction.
func (st *Store) MarkFailed(ctx context.Context, id, lastError string) error {
	return st.markFailed(ctx, id, lastError)
}

// markOutbox records the outcome of a try and, with the caller's
// AuditNote, its audit event, in one transaction.
func (st *Store) markOutbox(ctx context.Context, what, query string, args ...any) error {
	return st.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		var linkID string
		err := tx.GetContext(ctx, &linkID, tx.Rebind(query), args...)
		if err == sql.ErrNoRows {
			return nil // another worker settled it
		}
		if err != nil {
			return fmt.Errorf("store: %s: %w", what, translate(err))
		}
		return st.noteChange(ctx, tx, linkID, "")
	})
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// CountSent implements sesame.Outbox.
func (st *Store) CountSent(ctx context.Context, ch sesame.Channel, since time.Time) (int, error) {
	var n int
	err := st.db.GetContext(ctx, &n, st.db.Rebind(`SELECT COUNT(*) FROM outbox WHERE status = ? AND channel = ? AND sent_at >= ?`), sesame.OutboxSent, ch, sesame.FormatTime(since))
	if err != nil {
		return 0, fmt.Errorf("store: count sent: %w", err)
	}
	return n, nil
}

var outboxColumns = map[string]string{"link_id": "link_id", "status": "status", "channel": "channel", "created_at": "created_at"}

// FindNotifications implements sesame.Outbox.
func (st *Store) FindNotifications(ctx context.Context, f sesame.NotificationFilter) (*sesame.NotificationPage, error) {
	q := st.newQuery()
	for _, c := range f.Conds {
		col, ok := outboxColumns[c.Field]
		if !ok {
			return nil, fmt.Errorf("store: unknown notification filter %q", c.Field)
		}
		if err := q.addCond(col, sesame.NotificationFields[c.Field], c); err != nil {
			return nil, err
		}
	}
	page := &sesame.NotificationPage{}
	if err := st.db.GetContext(ctx, &page.Count, st.db.Rebind(`SELECT COUNT(*) FROM outbox`+q.sql()), q.args...); err != nil {
		return nil, fmt.Errorf("store: count notifications: %w", err)
	}
	order, size, err := q.page("created_at", "created_at", false, f.Desc, f.After, f.Size)
	if err != nil {
		return nil, err
	}
	var rows []outboxRow
	if err := st.db.SelectContext(ctx, &rows, st.db.Rebind(`SELECT `+outboxCols+` FROM outbox`+q.sql()+order+` LIMIT ?`), append(q.args, size+1)...); err != nil {
		return nil, fmt.Errorf("store: find notifications: %w", err)
	}
	for i := range rows {
		if i == size {
			last := rows[size-1]
			page.Next = &sesame.Cursor{OrderBy: "created_at", Desc: f.Desc, Value: last.Created, ID: last.ID}
			break
		}
		rows[i].Payload = nil // listings never carry bodies
		n, err := st.notification(&rows[i])
		if err != nil {
			return nil, err
		}
		page.Notifications = append(page.Notifications, n)
	}
	return page, nil
}
