package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/sesame-share/sesame"
)

var (
	_ sesame.WebhookStore      = (*Store)(nil)
	_ sesame.WebhookDeliveries = (*Store)(nil)
	_ sesame.EventLog          = (*Store)(nil)
)

const webhookCols = `id, url, events, description, disabled, created_by, created_at, updated_at`

type webhookRow struct {
	ID          string `db:"id"`
	URL         string `db:"url"`
	Events      string `db:"events"`
	Description string `db:"description"`
	Disabled    bool   `db:"disabled"`
	CreatedBy   string `db:"created_by"`
	Created     string `db:"created_at"`
	Updated     string `db:"updated_at"`
}

func (r *webhookRow) webhook() *sesame.Webhook {
	w := &sesame.Webhook{ID: r.ID, URL: r.URL, Description: r.Description, Disabled: r.Disabled, CreatedBy: r.CreatedBy,
		Created: parseTime(r.Created), Updated: parseTime(r.Updated)}
	for _, e := range decodeStrings(r.Events) {
		w.Events = append(w.Events, sesame.EventType(e))
	}
	return w
}

// sealSecret seals a webhook's signing secret, bound to the webhook.
func (st *Store) sealSecret(id, secret string) ([]byte, error) {
	return st.seal([]byte(secret), []byte("webhook "+id))
}

func encodeEvents(events []sesame.EventType) string {
	list := make([]string, len(events))
	for i, e := range events {
		list[i] = string(e)
	}
	return encodeJSON(list, true).String
}

// flag is b as the 0 or 1 of an integer column (PostgreSQL's driver does
// not write a bool there).
func flag(b bool) int {
	if b {
		return 1
	}
	return 0
}

// noteWebhook records, in tx, a change of a webhook as the caller's
// AuditNote describes it.
func (st *Store) noteWebhook(ctx context.Context, tx *sqlx.Tx, id string) error {
	note := sesame.AuditNoteFrom(ctx)
	if note == nil {
		return nil
	}
	ev := note.Event(st.nowUTC(), "", "")
	ev.Detail = map[string]string{"webhook_id": id}
	for k, v := range note.Detail {
		ev.Detail[k] = v
	}
	return st.appendAudit(ctx, tx, ev)
}

// CreateWebhook implements sesame.WebhookStore.
func (st *Store) CreateWebhook(ctx context.Context, in sesame.WebhookCreate, secret string, now time.Time) (*sesame.Webhook, error) {
	id := sesame.NewID(sesame.PrefixWebhook)
	sealed, err := st.sealSecret(id, secret)
	if err != nil {
		return nil, err
	}
	ts := sesame.FormatTime(now)
	err = st.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO webhooks (id, url, events, description, disabled, secret_sealed, created_by, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`), id, in.URL, encodeEvents(in.Events), in.Description, flag(in.Disabled), sealed, in.CreatedBy, ts, ts)
		if err != nil {
			return fmt.Errorf("store: create webhook: %w", translate(err))
		}
		return st.noteWebhook(ctx, tx, id)
	})
	if err != nil {
		return nil, err
	}
	return st.WebhookByID(ctx, id)
}

// WebhookByID implements sesame.WebhookStore.
func (st *Store) WebhookByID(ctx context.Context, id string) (*sesame.Webhook, error) {
	return st.webhookByID(ctx, st.db, id)
}

func (st *Store) webhookByID(ctx context.Context, q sqlx.QueryerContext, id string) (*sesame.Webhook, error) {
	var r webhookRow
	err := sqlx.GetContext(ctx, q, &r, st.db.Rebind(`SELECT `+webhookCols+` FROM webhooks WHERE id = ? AND deleted_at IS NULL`), id)
	if err == sql.ErrNoRows {
		return nil, notFound("webhook", "/id", id)
	}
	if err != nil {
		return nil, fmt.Errorf("store: webhook: %w", err)
	}
	return r.webhook(), nil
}

// FindWebhooks implements sesame.WebhookStore.
func (st *Store) FindWebhooks(ctx context.Context) ([]*sesame.Webhook, error) {
	var rows []webhookRow
	if err := st.db.SelectContext(ctx, &rows, `SELECT `+webhookCols+` FROM webhooks WHERE deleted_at IS NULL ORDER BY created_at, id`); err != nil {
		return nil, fmt.Errorf("store: find webhooks: %w", err)
	}
	out := make([]*sesame.Webhook, len(rows))
	for i := range rows {
		out[i] = rows[i].webhook()
	}
	return out, nil
}

// UpdateWebhook implements sesame.WebhookStore.
func (st *Store) UpdateWebhook(ctx context.Context, id string, upd sesame.WebhookUpdate, secret string, now time.Time) (*sesame.Webhook, error) {
	var sealed []byte
	if secret != "" {
		var err error
		if sealed, err = st.sealSecret(id, secret); err != nil {
			return nil, err
		}
	}
	err := st.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		w, err := st.webhookByID(ctx, tx, id)
		if err != nil {
			return err
		}
		if upd.URL != nil {
			w.URL = *upd.URL
		}
		if upd.Events != nil {
			w.Events = upd.Events
		}
		if upd.Description != nil {
			w.Description = *upd.Description
		}
		if upd.Disabled != nil {
			w.Disabled = *upd.Disabled
		}
		_, err = tx.ExecContext(ctx, tx.Rebind(`UPDATE webhooks SET url = ?, events = ?, description = ?, disabled = ?, updated_at = ? WHERE id = ?`),
			w.URL, encodeEvents(w.Events), w.Description, flag(w.Disabled), sesame.FormatTime(now), id)
		if err != nil {
			return fmt.Errorf("store: update webhook: %w", err)
		}
		if sealed != nil {
			// The current secret signs beside the new one for a while.
			_, err = tx.ExecContext(ctx, tx.Rebind(`UPDATE webhooks SET previous_secret_sealed = secret_sealed, previous_until = ?, secret_sealed = ? WHERE id = ?`),
				sesame.FormatTime(now.Add(sesame.SecretGrace)), sealed, id)
			if err != nil {
				return fmt.Errorf("store: rotate webhook secret: %w", err)
			}
		}
		return st.noteWebhook(ctx, tx, id)
	})
	if err != nil {
		return nil, err
	}
	return st.WebhookByID(ctx, id)
}

// DeleteWebhook implements sesame.WebhookStore.
func (st *Store) DeleteWebhook(ctx context.Context, id string) (*sesame.Webhook, error) {
	var w *sesame.Webhook
	err := st.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		var r webhookRow
		ts := sesame.FormatTime(st.nowUTC())
		err := tx.GetContext(ctx, &r, tx.Rebind(`UPDATE webhooks SET deleted_at = ?, updated_at = ?, secret_sealed = NULL, previous_secret_sealed = NULL
WHERE id = ? AND deleted_at IS NULL RETURNING `+webhookCols), ts, ts, id)
		if err == sql.ErrNoRows {
			return notFound("webhook", "/id", id)
		}
		if err != nil {
			return fmt.Errorf("store: delete webhook: %w", err)
		}
		w = r.webhook()
		return st.noteWebhook(ctx, tx, id)
	})
	return w, err
}

// WebhookTarget implements sesame.WebhookDeliveries.
func (st *Store) WebhookTarget(ctx context.Context, id string, now time.Time) (*sesame.WebhookTarget, error) {
	var r struct {
		webhookRow
		Secret        []byte `db:"secret_sealed"`
		Previous      []byte `db:"previous_secret_sealed"`
		PreviousUntil string `db:"previous_until"`
	}
	err := st.db.GetContext(ctx, &r, st.db.Rebind(`SELECT `+webhookCols+`, secret_sealed, previous_secret_sealed, previous_until
FROM webhooks WHERE id = ? AND deleted_at IS NULL`), id)
	if err == sql.ErrNoRows {
		return nil, notFound("webhook", "/id", id)
	}
	if err != nil {
		return nil, fmt.Errorf("store: webhook target: %w", err)
	}
	t := &sesame.WebhookTarget{Webhook: r.webhook()}
	for _, s := range [][]byte{r.Secret, r.Previous} {
		if s == nil || (len(t.Secrets) > 0 && !now.Before(parseTime(r.PreviousUntil))) {
			continue
		}
		b, err := st.unseal(s, []byte("webhook "+id))
		if err != nil {
			return nil, err
		}
		t.Secrets = append(t.Secrets, string(b))
	}
	return t, nil
}
