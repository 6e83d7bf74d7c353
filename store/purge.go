package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/sesame-share/sesame"
)

// How long spent rows are kept before Purge deletes them.
const (
	// purgeBatch bounds each DELETE, so that a purge never holds the one
	// write connection for long: other writers queue between batches.
	purgeBatch = 500
	// challengeKeep covers the send limits, which count the codes sent to
	// an authenticator in the last hour (sesame.MaxSendsPerHour).
	challengeKeep = time.Hour
	// pendingKeep keeps an upload request this long past its URL's
	// expiry, so that GET /request/{id} still reports a finished upload.
	pendingKeep = 24 * time.Hour
	// backoffKeep forgets an address's failures at a link a day after the
	// last one, once its wait is over.
	backoffKeep = 24 * time.Hour
	// notificationKeep is the least time a sent or failed message's record
	// stays: the SMS budget counts the sends of the last 24 hours.
	notificationKeep = 24 * time.Hour
)

// spentSession is true for a session that can never be used again: ended,
// past its expiry, or idle too long (SessionBySecret refuses all three).
const spentSession = `(s.ended_at IS NOT NULL OR s.expires_at <= ? OR s.last_seen_at < ?)`

// PurgeStats counts the rows one Purge deleted, by table.
type PurgeStats map[string]int64

// Total is the number of rows deleted.
func (p PurgeStats) Total() int64 {
	var n int64
	for _, v := range p {
		n += v
	}
	return n
}

// Purge deletes what is spent as of now, in batches of purgeBatch rows:
// ended, expired or idle sessions with their download claims and upload
// records; one-time codes sent more than an hour ago that are used or
// expired; expired download grants; upload requests a day past their
// expiry; idempotency keys older than 24 hours; backoff rows a day after
// their last failure; resumable uploads past their expiry (an unfinished
// one gives back its reservation, audited); dead exports, and the blobs
// whose removal waited for exports once none is live. With auditRetention > 0 it also deletes audit events
// older than that, and the records of sent or failed messages and of
// webhook deliveries older than that (but never younger than a day). Links are never deleted: a deleted
// link keeps its row, targets and audit trail (its secrets are dropped when
// it is deleted). What was deleted before an error is counted.
func (st *Store) Purge(ctx context.Context, now time.Time, auditRetention time.Duration) (PurgeStats, error) {
	stats := PurgeStats{}
	err := st.oneAtATime(ctx, "purge", func() error {
		if err := st.purge(ctx, stats, now.UTC(), auditRetention); err != nil {
			return err
		}
		n, err := st.sweepBucketIfDue(ctx, now)
		stats["orphan_blobs"] += int64(n)
		return err
	})
	for k, v := range stats {
		if v == 0 {
			delete(stats, k)
		}
	}
	return stats, err
}

func (st *Store) purge(ctx context.Context, stats PurgeStats, now time.Time, auditRetention time.Duration) error {
	for _, s := range purgeSteps(now, auditRetention) {
		err := st.purgeBatches(ctx, stats, s.table, func() (int64, error) {
			res, err := st.w.ExecContext(ctx, st.w.Rebind(s.query), append(s.args, purgeBatch)...)
			if err != nil {
				return 0, err
			}
			return res.RowsAffected()
		})
		if err != nil {
			return err
		}
	}
	idle := sesame.FormatTime(now.Add(-sesame.SessionIdle))
	err := st.purgeBatches(ctx, stats, "sessions", func() (int64, error) { return st.purgeSessions(ctx, stats, sesame.FormatTime(now), idle) })
	if err == nil && auditRetention > 0 {
		cutoff := sesame.FormatTime(now.Add(-auditRetention))
		err = st.purgeBatches(ctx, stats, "audit_events", func() (int64, error) { return st.purgeAudit(ctx, cutoff) })
	}
	if err == nil {
		err = st.expireResumables(ctx, stats, now)
	}
	if err == nil {
		err = st.purgeDeferred(ctx, stats, now)
	}
	return err
}

// oneAtATime runs fn unless another process of this instance is running
// the same task, so that background work such as the purge runs on one
// replica at a time. On PostgreSQL a session advisory lock named by task
// and schema decides (instances that share a server but not a schema do
// not block each other); on SQLite only the server holding the data
// directory's lock runs background work, so fn just runs.
func (st *Store) oneAtATime(ctx context.Context, task string, fn func() error) error {
	if st.dialect != postgresDialect {
		return fn()
	}
	conn, err := st.db.Connx(ctx)
	if err != nil {
		return fmt.Errorf("store: %s lock: %w", task, err)
	}
	defer conn.Close()
	var mine bool
	if err := conn.GetContext(ctx, &mine, `SELECT pg_try_advisory_lock(hashtext($1), hashtext(current_schema()))`, task); err != nil {
		return fmt.Errorf("store: %s lock: %w", task, err)
	}
	if !mine {
		return nil // another replica is at it
	}
	defer func() {
		// Unlocked on this connection, which then goes back to the pool.
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(hashtext($1), hashtext(current_schema()))`, task) // a dead connection drops its locks
	}()
	return fn()
}

// purgeStep deletes up to purgeBatch spent rows of one table: query ends
// in LIMIT ?, which gets purgeBatch after args.
type purgeStep struct {
	table, query string
	args         []any
}

// purgeSteps lists the single-statement purges as of now.
func purgeSteps(now time.Time, auditRetention time.Duration) []purgeStep {
	at := func(d time.Duration) string { return sesame.FormatTime(now.Add(-d)) }
	steps := []purgeStep{
		// Claims first: those of spent sessions are spent, even when the
		// session row itself is kept (see purgeSessions).
		{"download_claims", `DELETE FROM download_claims WHERE (session_id, claim_key) IN (SELECT c.session_id, c.claim_key FROM download_claims c
LEFT JOIN sessions s ON s.id = c.session_id WHERE s.id IS NULL OR ` + spentSession + ` LIMIT ?)`, []any{at(0), at(sesame.SessionIdle)}},
		// So are the file keys they kept, once their session is spent.
		{"session_file_keys", `DELETE FROM session_file_keys WHERE (session_id, object_id) IN (SELECT k.session_id, k.object_id FROM session_file_keys k
LEFT JOIN sessions s ON s.id = k.session_id WHERE s.id IS NULL OR ` + spentSession + ` LIMIT ?)`, []any{at(0), at(sesame.SessionIdle)}},
		{"challenges", `DELETE FROM challenges WHERE id IN (SELECT id FROM challenges WHERE sent_at < ? AND (consumed_at IS NOT NULL OR expires_at <= ?) LIMIT ?)`,
			[]any{at(challengeKeep), at(0)}},
		{"download_grants", `DELETE FROM download_grants WHERE secret_mac IN (SELECT secret_mac FROM download_grants WHERE expires_at <= ? LIMIT ?)`, []any{at(0)}},
		{"pending_uploads", `DELETE FROM pending_uploads WHERE id IN (SELECT id FROM pending_uploads WHERE expires_at < ? LIMIT ?)`, []any{at(pendingKeep)}},
		{"idempotency_keys", `DELETE FROM idempotency_keys WHERE (token_id, key) IN (SELECT token_id, key FROM idempotency_keys WHERE created_at < ? LIMIT ?)`,
			[]any{at(idempotencyTTL)}},
		{"backoff", `DELETE FROM backoff WHERE key IN (SELECT key FROM backoff WHERE blocked_until <= ? AND updated_at < ? LIMIT ?)`, []any{at(0), at(backoffKeep)}},
	}
	if auditRetention > 0 {
		steps = append(steps, purgeStep{"outbox", `DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE status IN (?, ?) AND created_at < ? LIMIT ?)`,
			[]any{sesame.OutboxSent, sesame.OutboxFailed, at(max(auditRetention, notificationKeep))}},
			purgeStep{"webhook_deliveries", `DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries WHERE time < ? LIMIT ?)`,
				[]any{at(max(auditRetention, notificationKeep))}})
	}
	return steps
}

// purgeBatches runs batch until it deletes fewer than purgeBatch rows,
// adding what it deleted to stats[table].
func (st *Store) purgeBatches(ctx context.Context, stats PurgeStats, table string, batch func() (int64, error)) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := batch()
		if err != nil {
			return fmt.Errorf("store: purge %s: %w", table, translate(err))
		}
		stats[table] += n
		if n < purgeBatch {
			return nil
		}
	}
}

// purgeSessions deletes one batch of spent sessions with what hangs off
// them. Upload caps are counters on the link, so forgetting a session
// never reopens them.
func (st *Store) purgeSessions(ctx context.Context, stats PurgeStats, now, idle string) (int64, error) {
	var ids []string
	err := st.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		err := tx.SelectContext(ctx, &ids, tx.Rebind(`SELECT s.id FROM sessions s WHERE `+spentSession+` LIMIT ?`), now, idle, purgeBatch)
		if err != nil || len(ids) == 0 {
			return err
		}
		for _, table := range []string{"download_claims", "session_uploads", "session_file_keys"} {
			n, err := execIn(ctx, tx, `DELETE FROM `+table+` WHERE session_id IN (?)`, ids)
			if err != nil {
				return err
			}
			stats[table] += n
		}
		_, err = execIn(ctx, tx, `DELETE FROM sessions WHERE id IN (?)`, ids)
		return err
	})
	return int64(len(ids)), err
}

// purgeAudit deletes one batch of audit events older than cutoff. The
// append-only trigger lets a DELETE through only for events older than a
// cutoff in audit_purge; the row lives only inside this transaction.
func (st *Store) purgeAudit(ctx context.Context, cutoff string) (int64, error) {
	var n int64
	err := st.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO audit_purge (cutoff) VALUES (?)`), cutoff); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE time < ? ORDER BY time, id LIMIT ?)`), cutoff, purgeBatch)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, tx.Rebind(`DELETE FROM audit_purge`))
		return err
	})
	return n, err
}

// execIn runs query with its one IN (?) expanded to args.
func execIn(ctx context.Context, tx *sqlx.Tx, query string, args ...any) (int64, error) {
	q, a, err := sqlx.In(query, args...)
	if err != nil {
		return 0, err
	}
	res, err := tx.ExecContext(ctx, tx.Rebind(q), a...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// retireLinks marks links deleted and, in the same transaction, drops what
// could still open them or betray a secret: the sealed token, the password
// hashes and the one-time codes; their sessions end. The link rows, their
// targets, the other authenticators (addresses, shown by the audit trail)
// and the audit events stay.
func retireLinks(ctx context.Context, tx *sqlx.Tx, now time.Time, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	ts := sesame.FormatTime(now)
	for _, s := range []struct {
		what, query string
		args        []any
	}{
		{"delete", `UPDATE links SET deleted_at = ?, updated_at = ?, token_sealed = ? WHERE id IN (?) AND deleted_at IS NULL`, []any{ts, ts, []byte{}, ids}},
		{"forget passwords", `UPDATE link_authenticators SET context = '' WHERE auth_type = 'password' AND link_id IN (?)`, []any{ids}},
		{"forget codes", `DELETE FROM challenges WHERE authenticator_id IN (SELECT id FROM link_authenticators WHERE link_id IN (?))`, []any{ids}},
		{"end sessions", `UPDATE sessions SET ended_at = ? WHERE ended_at IS NULL AND link_id IN (?)`, []any{ts, ids}},
	} {
		if _, err := execIn(ctx, tx, s.query, s.args...); err != nil {
			return fmt.Errorf("store: %s of deleted links: %w", s.what, err)
		}
	}
	return nil
}

// openLinkToken unseals a link's token. A deleted link has none: it was
// dropped when the link was deleted.
func (st *Store) openLinkToken(r *linkRow) ([]byte, error) {
	if len(r.TokenSealed) == 0 && r.Deleted.Valid {
		return nil, nil
	}
	return st.unseal(r.TokenSealed, []byte(r.ID))
}
