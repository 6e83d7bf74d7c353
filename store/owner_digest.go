package store

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/sesame-share/sesame"
)

// digestBatch bounds the sessions one DigestUploads call digests.
const digestBatch = 100

// DigestUploads queues one owner email per upload session that has ended,
// gone, or been idle for sesame.DigestIdle at now, listing the files it
// uploaded, and returns how many it queued. Each session's rows are
// deleted in the transaction that queues its email, so two sweeps (on two
// replicas) never send one digest twice.
func (st *Store) DigestUploads(ctx context.Context, now time.Time) (int, error) {
	if st.owner == nil {
		return 0, nil
	}
	var sessions []string
	err := st.db.SelectContext(ctx, &sessions, st.db.Rebind(`SELECT DISTINCT u.session_id FROM owner_uploads u
LEFT JOIN sessions s ON s.id = u.session_id
WHERE s.id IS NULL OR s.ended_at IS NOT NULL OR s.last_seen_at <= ? OR s.expires_at <= ? ORDER BY u.session_id LIMIT ?`),
		sesame.FormatTime(now.Add(-sesame.DigestIdle)), sesame.FormatTime(now), digestBatch)
	if err != nil {
		return 0, fmt.Errorf("store: sessions to digest: %w", err)
	}
	sent := 0
	for _, id := range sessions {
		ok, err := st.digestSession(ctx, id)
		if err != nil {
			return sent, err
		}
		if ok {
			sent++
		}
	}
	return sent, nil
}

// digestSession claims the session's uploads by deleting them and queues
// their digest; false when another sweep claimed them first.
func (st *Store) digestSession(ctx context.Context, sessionID string) (bool, error) {
	sent := false
	err := st.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		var rows []struct {
			ObjectID string `db:"object_id"`
			LinkID   string `db:"link_id"`
			Name     string `db:"name"`
			Size     int64  `db:"size"`
			Created  string `db:"created_at"`
		}
		err := tx.SelectContext(ctx, &rows, tx.Rebind(`DELETE FROM owner_uploads WHERE session_id = ? RETURNING object_id, link_id, name, size, created_at`), sessionID)
		if err != nil {
			return fmt.Errorf("store: claim digest: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		l, err := st.ownerLink(ctx, tx, rows[0].LinkID, sesame.OwnerUpload)
		if err != nil || l == nil {
			return err // the link is gone or no longer asks: the rows go untold
		}
		// In upload order (RETURNING's order is not defined).
		sort.Slice(rows, func(i, j int) bool {
			return rows[i].Created+rows[i].ObjectID < rows[j].Created+rows[j].ObjectID
		})
		files := make([]sesame.OwnerFile, len(rows))
		for i, r := range rows {
			files[i] = sesame.OwnerFile{Name: r.Name, Size: r.Size}
		}
		sent = true
		return st.queueOwner(ctx, tx, l, sesame.OwnerUpload, files)
	})
	return sent, err
}
