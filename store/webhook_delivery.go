package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/sesame-share/sesame"
)

// RecordDelivery implements sesame.WebhookDeliveries.
func (st *Store) RecordDelivery(ctx context.Context, d *sesame.WebhookDelivery) error {
	if d.Time.IsZero() {
		d.Time = st.nowUTC()
	}
	d.ID = sesame.NewTimeID("whd_", d.Time)
	_, err := st.w.ExecContext(ctx, st.w.Rebind(`INSERT INTO webhook_deliveries (id, message_id, webhook_id, event_type, attempt, time, outcome, status_code, error, duration_ms)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), d.ID, d.MessageID, d.WebhookID, string(d.EventType), d.Attempt, sesame.FormatTime(d.Time), d.Outcome,
		d.StatusCode, truncate(d.Error, 500), d.Duration.Milliseconds())
	if err != nil {
		return fmt.Errorf("store: record delivery: %w", translate(err))
	}
	return nil
}

var deliveryColumns = map[string]string{"webhook_id": "webhook_id", "message_id": "message_id", "event_type": "event_type",
	"outcome": "outcome", "time": "time"}

// FindDeliveries implements sesame.WebhookDeliveries: attempts in time
// order, newest first when f.Desc, each with its message's state now.
func (st *Store) FindDeliveries(ctx context.Context, f sesame.DeliveryFilter) (*sesame.DeliveryPage, error) {
	q := st.newQuery()
	for _, c := range f.Conds {
		col, ok := deliveryColumns[c.Field]
		if !ok {
			return nil, fmt.Errorf("store: unknown delivery filter %q", c.Field)
		}
		if err := q.addCond(col, sesame.DeliveryFields[c.Field], c); err != nil {
			return nil, err
		}
	}
	page := &sesame.DeliveryPage{}
	if err := st.db.GetContext(ctx, &page.Count, st.db.Rebind(`SELECT COUNT(*) FROM webhook_deliveries`+q.sql()), q.args...); err != nil {
		return nil, fmt.Errorf("store: count deliveries: %w", err)
	}
	order, size, err := q.page("time", "time", false, f.Desc, f.After, f.Size)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		ID         string `db:"id"`
		MessageID  string `db:"message_id"`
		WebhookID  string `db:"webhook_id"`
		EventType  string `db:"event_type"`
		Attempt    int    `db:"attempt"`
		Time       string `db:"time"`
		Outcome    string `db:"outcome"`
		StatusCode int    `db:"status_code"`
		Error      string `db:"error"`
		DurationMS int64  `db:"duration_ms"`
	}
	err = st.db.SelectContext(ctx, &rows, st.db.Rebind(`SELECT id, message_id, webhook_id, event_type, attempt, time, outcome, status_code, error, duration_ms
FROM webhook_deliveries`+q.sql()+order+` LIMIT ?`), append(q.args, size+1)...)
	if err != nil {
		return nil, fmt.Errorf("store: find deliveries: %w", err)
	}
	msgs := make([]string, 0, len(rows))
	for _, r := range rows {
		msgs = append(msgs, r.MessageID)
	}
	states, err := st.messageStates(ctx, msgs)
	if err != nil {
		return nil, err
	}
	for i, r := range rows {
		if i == size {
			last := rows[size-1]
			page.Next = &sesame.Cursor{OrderBy: "time", Desc: f.Desc, Value: last.Time, ID: last.ID}
			break
		}
		d := &sesame.WebhookDelivery{ID: r.ID, MessageID: r.MessageID, WebhookID: r.WebhookID, EventType: sesame.EventType(r.EventType),
			Attempt: r.Attempt, Time: parseTime(r.Time), Outcome: r.Outcome, StatusCode: r.StatusCode, Error: r.Error,
			Duration: time.Duration(r.DurationMS) * time.Millisecond}
		if m, ok := states[r.MessageID]; ok {
			d.MessageStatus = m.Status
			if m.Status == sesame.OutboxQueued {
				d.NextAttempt = parseTime(m.NextAttempt)
			}
		}
		page.Deliveries = append(page.Deliveries, d)
	}
	return page, nil
}

type messageState struct {
	ID          string `db:"id"`
	Status      string `db:"status"`
	NextAttempt string `db:"next_attempt_at"`
}

// messageStates reads the outbox state of the messages ids name.
func (st *Store) messageStates(ctx context.Context, ids []string) (map[string]messageState, error) {
	out := map[string]messageState{}
	if len(ids) == 0 {
		return out, nil
	}
	query, args, err := sqlx.In(`SELECT id, status, next_attempt_at FROM outbox WHERE id IN (?)`, ids)
	if err != nil {
		return nil, fmt.Errorf("store: message states query: %w", err)
	}
	var rows []messageState
	if err := st.db.SelectContext(ctx, &rows, st.db.Rebind(query), args...); err != nil {
		return nil, fmt.Errorf("store: message states: %w", err)
	}
	for _, r := range rows {
		out[r.ID] = r
	}
	return out, nil
}
