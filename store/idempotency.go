package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/sesame-share/sesame"
)

// idempotencyTTL is how long a stored response is replayed.
const idempotencyTTL = 24 * time.Hour

func idemAAD(tokenID, key string) []byte { return []byte("idempotency\x00" + tokenID + "\x00" + key) }

// BeginIdempotent implements sesame.AuditLog. The claim is one
// INSERT ... ON CONFLICT DO NOTHING, so two requests racing with one key
// cannot both win.
func (st *Store) BeginIdempotent(ctx context.Context, tokenID, key, route string) (*sesame.IdempotentResponse, error) {
	var prev *sesame.IdempotentResponse
	err := st.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		now := st.nowUTC()
		if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM idempotency_keys WHERE token_id = ? AND key = ? AND created_at < ?`),
			tokenID, key, sesame.FormatTime(now.Add(-idempotencyTTL))); err != nil {
			return fmt.Errorf("store: expire idempotency key: %w", err)
		}
		res, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO idempotency_keys (token_id, key, route, state, created_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (token_id, key) DO NOTHING`), tokenID, key, route, sesame.IdempotencyPending, sesame.FormatTime(now))
		if err != nil {
			return fmt.Errorf("store: claim idempotency key: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
		var r struct {
			Route       string `db:"route"`
			State       string `db:"state"`
			Fingerprint []byte `db:"fingerprint"`
			Status      int    `db:"status_code"`
			Response    []byte `db:"response"`
		}
		if err := tx.GetContext(ctx, &r, tx.Rebind(`SELECT route, state, fingerprint, status_code, response FROM idempotency_keys WHERE token_id = ? AND key = ?`), tokenID, key); err != nil {
			return fmt.Errorf("store: read idempotency key: %w", err)
		}
		prev = &sesame.IdempotentResponse{Route: r.Route, State: r.State, Fingerprint: r.Fingerprint, Status: r.Status}
		if r.Response != nil {
			body, err := st.unseal(r.Response, idemAAD(tokenID, key))
			if err != nil {
				return err
			}
			prev.Body = body
		}
		return nil
	})
	return prev, err
}

// FinishIdempotent implements sesame.AuditLog. The response is
// stored sealed: it can hold link URLs.
func (st *Store) FinishIdempotent(ctx context.Context, tokenID, key string, fingerprint []byte, status int, body []byte) error {
	sealed, err := st.seal(body, idemAAD(tokenID, key))
	if err != nil {
		return err
	}
	_, err = st.w.ExecContext(ctx, st.w.Rebind(`UPDATE idempotency_keys SET state = ?, fingerprint = ?, status_code = ?, response = ? WHERE token_id = ? AND key = ?`),
		sesame.IdempotencyDone, fingerprint, status, sealed, tokenID, key)
	if err != nil {
		return fmt.Errorf("store: finish idempotency key: %w", translate(err))
	}
	return nil
}

// AbandonIdempotent implements sesame.AuditLog.
func (st *Store) AbandonIdempotent(ctx context.Context, tokenID, key string) error {
	_, err := st.w.ExecContext(ctx, st.w.Rebind(`DELETE FROM idempotency_keys WHERE token_id = ? AND key = ? AND state = ?`), tokenID, key, sesame.IdempotencyPending)
	if err != nil && err != sql.ErrNoRows {
		return fmt.Errorf("store: abandon idempotency key: %w", translate(err))
	}
	return nil
}
