package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/jmoiron/sqlx"

	"github.com/sesame-share/sesame"
)

// Events reach webhooks through the outbox, like emails: each change that
// is an event queues one message per webhook that wants it, inside the
// change's own transaction, so that an event is told if and only if it
// happened, once, even across a crash. The changes publish themselves
// here, not through the audit trail: whether a change is an event, and
// which, is known where it is made (a link's creation, a sign-in, a lock),
// whichever adapter (API, MCP, pages, CLI) asked for it, while the audit
// trail's actions name the requests of each adapter, and one request may
// record one change twice (link.create with send_params). Deliveries are
// one outbox row per webhook: the row's id is the webhook-id header, the
// same on every retry.

// publish queues the event that build makes, in tx, for every live webhook
// that wants events of type t. build runs only when one does: with no
// webhooks, an event costs one read of the (small) webhooks table. A nil
// event from build is no event after all.
func (st *Store) publish(ctx context.Context, tx *sqlx.Tx, t sesame.EventType, build func() (*sesame.Event, error)) error {
	var rows []struct {
		ID     string `db:"id"`
		Events string `db:"events"`
	}
	if err := tx.SelectContext(ctx, &rows, `SELECT id, events FROM webhooks WHERE deleted_at IS NULL AND disabled = 0 ORDER BY id`); err != nil {
		return fmt.Errorf("store: webhooks of %s: %w", t, err)
	}
	var targets []string
	for _, r := range rows {
		if slices.Contains(decodeStrings(r.Events), string(t)) {
			targets = append(targets, r.ID)
		}
	}
	if len(targets) == 0 {
		return nil
	}
	ev, err := build()
	if err != nil || ev == nil {
		return err
	}
	body := ev.Body()
	now := sesame.FormatTime(st.nowUTC())
	st.queued.Store(true)
	for _, webhookID := range targets {
		id := sesame.NewID(sesame.PrefixWebhookMessage)
		b, _ := json.Marshal(outboxPayload{Text: string(body)}) // strings always marshal
		sealed, err := st.seal(b, []byte(id))
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, tx.Rebind(`INSERT INTO outbox (id, channel, recipient, kind, link_id, payload, status, next_attempt_at, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`), id, sesame.ChannelWebhook, webhookID, string(ev.Type), ev.LinkID, sealed, sesame.OutboxQueued, now, now)
		if err != nil {
			return fmt.Errorf("store: queue webhook: %w", err)
		}
	}
	return nil
}

// publishEvent queues ev, made already.
func (st *Store) publishEvent(ctx context.Context, tx *sqlx.Tx, ev *sesame.Event) error {
	return st.publish(ctx, tx, ev.Type, func() (*sesame.Event, error) { return ev, nil })
}

// publishLink queues an event about link id as tx sees it, with extra
// data beside the link's own. A link deleted already is no event's.
func (st *Store) publishLink(ctx context.Context, tx *sqlx.Tx, t sesame.EventType, id string, extra map[string]any) error {
	return st.publish(ctx, tx, t, func() (*sesame.Event, error) {
		links, err := st.loadLinks(ctx, tx, []string{id}, false)
		if err != nil || len(links) == 0 {
			return nil, err
		}
		ev := sesame.LinkEvent(t, links[0], st.nowUTC())
		maps.Copy(ev.Data, extra)
		return ev, nil
	})
}

// publishObject queues an event about object o, changed through the link
// the caller's AuditNote names (none for the API).
func (st *Store) publishObject(ctx context.Context, tx *sqlx.Tx, t sesame.EventType, o *sesame.Object, extra map[string]any) error {
	return st.publish(ctx, tx, t, func() (*sesame.Event, error) {
		var linkID string
		note := sesame.AuditNoteFrom(ctx)
		if note != nil {
			linkID = note.LinkID
		}
		ev := sesame.ObjectEvent(t, o, linkID, st.nowUTC())
		if note != nil && note.ActorType == sesame.ActorSession && linkID != "" {
			ev.Data["session_id"] = note.Actor
		}
		maps.Copy(ev.Data, extra)
		return ev, nil
	})
}

// publishUpload queues object.uploaded for a file made through a link:
// one whose AuditNote names the link (a recipient's upload); files the
// API makes are no such event.
func (st *Store) publishUpload(ctx context.Context, tx *sqlx.Tx, o *sesame.Object) error {
	if note := sesame.AuditNoteFrom(ctx); note == nil || note.LinkID == "" {
		return nil
	}
	return st.publishObject(ctx, tx, sesame.EventObjectUploaded, o, nil)
}

// Publish implements sesame.EventLog.
func (st *Store) Publish(ctx context.Context, ev *sesame.Event, audit ...*sesame.AuditEvent) error {
	return st.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		if err := st.appendAudit(ctx, tx, audit...); err != nil {
			return err
		}
		if ev.Type == sesame.EventObjectDownloaded {
			if err := st.notifyFirstDownload(ctx, tx, ev.LinkID); err != nil {
				return err
			}
		}
		return st.publishEvent(ctx, tx, ev)
	})
}

// markFailed gives up on a message and, for an email or SMS, publishes
// notification.failed, in one transaction with its audit event. A webhook
// message that fails publishes nothing: that would feed on itself.
func (st *Store) markFailed(ctx context.Context, id, lastError string) error {
	return st.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		var r outboxRow
		err := tx.GetContext(ctx, &r, tx.Rebind(`UPDATE outbox SET status = ?, last_error = ?, payload = NULL WHERE id = ? RETURNING `+outboxCols),
			sesame.OutboxFailed, truncate(lastError, 500), id)
		if err == sql.ErrNoRows {
			return nil // another worker settled it
		}
		if err != nil {
			return fmt.Errorf("store: mark failed: %w", translate(err))
		}
		if err := st.noteChange(ctx, tx, r.LinkID, ""); err != nil {
			return err
		}
		if sesame.Channel(r.Channel) == sesame.ChannelWebhook {
			return nil
		}
		n, err := st.notification(&r)
		if err != nil {
			return err
		}
		return st.publishEvent(ctx, tx, sesame.NotificationFailedEvent(n, sesame.FailureCategoryOf(lastError), st.nowUTC()))
	})
}

// publishSignIn queues link.accessed for a new session and, when the
// sign-in took the last access the link allows, link.exhausted.
func (st *Store) publishSignIn(ctx context.Context, tx *sqlx.Tx, sess *sesame.Session, exhausted bool) error {
	err := st.publishLink(ctx, tx, sesame.EventLinkAccessed, sess.LinkID, map[string]any{"session_id": sess.ID, "authenticator_id": sess.AuthenticatorID})
	if err != nil || !exhausted {
		return err
	}
	if err := st.notifyOwner(ctx, tx, sess.LinkID, sesame.OwnerExhausted); err != nil {
		return err
	}
	return st.publishLink(ctx, tx, sesame.EventLinkExhausted, sess.LinkID, map[string]any{"reason": sesame.ExhaustedAccess})
}
