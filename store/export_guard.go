package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/sesame-share/sesame"
)

// An export copies blobs while the instance keeps running, and its
// snapshot may name rows that are deleted meanwhile: their blobs must stay
// until the export has copied them, whichever process deletes them (a
// replica, the server while the CLI exports). So an export registers
// itself in the exports table before it opens its snapshot and renews its
// heartbeat while it runs; removeBlob, after the deletion of a blob's row
// has committed, records the key in deferred_blobs instead of removing the
// blob while any export is live; and the purge removes the deferred blobs
// once none is. An export whose heartbeat is older than exportStale is dead
// (its process was killed) and no longer counts.
//
// Ordering makes this safe: an export's registration commits before its
// snapshot starts, so a deletion that commits after the snapshot sees the
// registration when it checks; a deletion that committed before the
// snapshot removes a blob the snapshot does not name.
const (
	// exportHeartbeat is how often a running export renews its heartbeat.
	exportHeartbeat = 30 * time.Second
	// exportStale is how old a heartbeat may get before the export counts
	// as dead. It allows for missed beats and for clocks that differ a
	// little between the processes.
	exportStale = 5 * time.Minute
)

// errExportLapsed ends an export whose heartbeat went stale: deletes no
// longer waited for it, so its copy may lack blobs.
var errExportLapsed = &sesame.Error{Kind: sesame.Unavailable,
	Message: fmt.Sprintf("The export stalled for more than %s, so deletes stopped waiting for it; run it again.", exportStale)}

// exportRun is one registered export.
type exportRun struct {
	st     *Store
	id     string
	ctx    context.Context // ends with errExportLapsed when the heartbeat lapses
	cancel context.CancelCauseFunc
	stop   chan struct{}
	done   chan struct{}
}

// startExport registers an export and starts its heartbeat. The returned
// run's context ends when the heartbeat lapses; end unregisters it.
func (st *Store) startExport(ctx context.Context) (*exportRun, error) {
	now := sesame.FormatTime(st.nowUTC())
	run := &exportRun{st: st, id: sesame.NewID("exp_"), stop: make(chan struct{}), done: make(chan struct{})}
	_, err := st.w.ExecContext(ctx, st.w.Rebind(`INSERT INTO exports (id, started_at, heartbeat_at) VALUES (?, ?, ?)`), run.id, now, now)
	if err != nil {
		return nil, fmt.Errorf("store: register export: %w", translate(err))
	}
	run.ctx, run.cancel = context.WithCancelCause(ctx)
	go run.heartbeat()
	return run, nil
}

func (r *exportRun) heartbeat() {
	defer close(r.done)
	t := time.NewTicker(exportHeartbeat)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-r.ctx.Done():
			return
		case <-t.C:
			if err := r.beat(); errors.Is(err, errExportLapsed) {
				r.cancel(err)
				return
			} else if err != nil {
				// A beat missed for a passing failure is made up by the
				// next; a long outage lapses the export.
				r.st.log.Warn("export heartbeat", "error", err)
			}
		}
	}
}

// beat renews the heartbeat unless it has already lapsed.
func (r *exportRun) beat() error {
	now := r.st.nowUTC()
	res, err := r.st.w.ExecContext(context.WithoutCancel(r.ctx), r.st.w.Rebind(`UPDATE exports SET heartbeat_at = ? WHERE id = ? AND heartbeat_at > ?`),
		sesame.FormatTime(now), r.id, sesame.FormatTime(now.Add(-exportStale)))
	if err != nil {
		return fmt.Errorf("store: export heartbeat: %w", translate(err))
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return errors.Join(errExportLapsed, err)
	}
	return nil
}

// end stops the heartbeat and unregisters the export. It returns
// errExportLapsed when the heartbeat lapsed at some point, so that the
// export is not taken for a complete copy.
func (r *exportRun) end() error {
	close(r.stop)
	<-r.done
	err := context.Cause(r.ctx)
	if !errors.Is(err, errExportLapsed) {
		err = r.beat()
	}
	r.cancel(nil)
	if _, derr := r.st.w.ExecContext(context.WithoutCancel(r.ctx), r.st.w.Rebind(`DELETE FROM exports WHERE id = ?`), r.id); derr != nil {
		r.st.log.Warn("unregister export", "error", derr) // the purge forgets it once stale
	}
	if errors.Is(err, errExportLapsed) {
		return errExportLapsed
	}
	return err
}

// deferRemoval records key in deferred_blobs when an export is live, and
// reports whether it did. The check and the record are one statement.
func (st *Store) deferRemoval(ctx context.Context, key string) (bool, error) {
	now := st.nowUTC()
	res, err := st.w.ExecContext(ctx, st.w.Rebind(`INSERT INTO deferred_blobs (blob_key, deferred_at)
SELECT ?, ? WHERE EXISTS (SELECT 1 FROM exports WHERE heartbeat_at > ?)
ON CONFLICT (blob_key) DO UPDATE SET deferred_at = excluded.deferred_at`),
		key, sesame.FormatTime(now), sesame.FormatTime(now.Add(-exportStale)))
	if err != nil {
		return false, fmt.Errorf("store: defer blob removal: %w", translate(err))
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// exportLive reports whether an export is live as of now.
func (st *Store) exportLive(ctx context.Context, now time.Time) (bool, error) {
	var n int
	err := st.db.GetContext(ctx, &n, st.db.Rebind(`SELECT COUNT(*) FROM exports WHERE heartbeat_at > ?`), sesame.FormatTime(now.Add(-exportStale)))
	if err != nil {
		return false, fmt.Errorf("store: live exports: %w", translate(err))
	}
	return n > 0, nil
}

// purgeDeferred forgets dead exports and, while no export is live, removes
// the blobs whose removal waited for one, a batch at a time. The check
// before each batch stops the removals when an export starts: its
// snapshot cannot name these blobs (their rows were gone before they were
// deferred), but one check per batch keeps the rule simple to state.
func (st *Store) purgeDeferred(ctx context.Context, stats PurgeStats, now time.Time) error {
	res, err := st.w.ExecContext(ctx, st.w.Rebind(`DELETE FROM exports WHERE heartbeat_at <= ?`), sesame.FormatTime(now.Add(-exportStale)))
	if err != nil {
		return fmt.Errorf("store: purge exports: %w", translate(err))
	}
	if n, err := res.RowsAffected(); err == nil {
		stats["exports"] += n
	}
	for {
		live, err := st.exportLive(ctx, now)
		if err != nil || live {
			return err
		}
		var keys []string
		if err := st.db.SelectContext(ctx, &keys, st.db.Rebind(`SELECT blob_key FROM deferred_blobs ORDER BY blob_key LIMIT ?`), purgeBatch); err != nil {
			return fmt.Errorf("store: purge deferred blobs: %w", translate(err))
		}
		for _, k := range keys {
			if err := st.blobs.remove(ctx, k); err != nil {
				return fmt.Errorf("store: purge deferred blob %s: %w", k, err)
			}
		}
		if len(keys) > 0 {
			var n int64
			err := st.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
				var err error
				n, err = execIn(ctx, tx, `DELETE FROM deferred_blobs WHERE blob_key IN (?)`, keys)
				return err
			})
			if err != nil {
				return fmt.Errorf("store: purge deferred blobs: %w", err)
			}
			stats["deferred_blobs"] += n // counted once committed
		}
		if len(keys) < purgeBatch {
			return nil
		}
	}
}
