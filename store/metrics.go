package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/sesame-share/sesame"
)

// QueueStats implements sesame.QueueStats: the outbox's pending messages
// per channel and the time the oldest of them was queued.
func (st *Store) QueueStats(ctx context.Context) ([]sesame.QueueStat, error) {
	var rows []struct {
		Channel string         `db:"channel"`
		N       int            `db:"n"`
		Oldest  sql.NullString `db:"oldest"`
	}
	err := st.db.SelectContext(ctx, &rows, `SELECT channel, COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox
WHERE status IN ('queued', 'sending') GROUP BY channel`)
	if err != nil {
		return nil, fmt.Errorf("store: queue stats: %w", err)
	}
	out := make([]sesame.QueueStat, 0, len(rows))
	for _, r := range rows {
		q := sesame.QueueStat{Channel: r.Channel, Pending: r.N}
		if r.Oldest.Valid {
			q.Oldest = parseTime(r.Oldest.String)
		}
		out = append(out, q)
	}
	return out, nil
}

// DBs returns the store's connection pools by name ("read", "write"), for
// their statistics.
func (st *Store) DBs() map[string]*sql.DB {
	out := map[string]*sql.DB{"read": st.db.DB}
	if st.w != nil && st.w.DB != st.db.DB {
		out["write"] = st.w.DB
	}
	return out
}

// ObserveAudit has f called with every audit event as it is written (in
// its transaction: an event of a transaction that then fails is seen
// too). It is for counting, so f must be quick and must not block.
func (st *Store) ObserveAudit(f func(*sesame.AuditEvent)) {
	st.auditObserver.Store(&f)
}

// ObserveBlobErrors has f called with the operation ("create", "finish",
// "open", "remove") of every blob store call that fails.
func (st *Store) ObserveBlobErrors(f func(op string)) {
	st.blobObserver.Store(&f)
}

func (st *Store) blobError(op string) {
	if f := st.blobObserver.Load(); f != nil {
		(*f)(op)
	}
}
