package store

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/sesame-share/sesame"
)

var _ sesame.Resumables = (*Store)(nil)

// resumableRow is a row of resumable_uploads.
type resumableRow struct {
	ID        string `db:"id"`
	LinkID    string `db:"link_id"`
	SessionID string `db:"session_id"`
	BucketID  string `db:"bucket_id"`
	FolderID  string `db:"folder_id"`
	Name      string `db:"name"`
	Length    int64  `db:"length"`
	Received  int64  `db:"received"`
	Created   string `db:"created_at"`
	Expires   string `db:"expires_at"`
	ObjectID  string `db:"object_id"`
	SavedName string `db:"saved_name"`
}

const resumableColumns = `id, link_id, session_id, bucket_id, folder_id, name, length, received, created_at, expires_at, object_id, saved_name`

func (r *resumableRow) resumable() *sesame.Resumable {
	return &sesame.Resumable{ID: r.ID, LinkID: r.LinkID, SessionID: r.SessionID, BucketID: r.BucketID, FolderID: r.FolderID,
		Name: r.Name, Length: r.Length, Offset: r.Received, Created: parseTime(r.Created), Expires: parseTime(r.Expires),
		ObjectID: r.ObjectID, SavedName: r.SavedName}
}

// CreateResumable implements sesame.ResumableStore.
func (st *Store) CreateResumable(ctx context.Context, u *sesame.Resumable) error {
	_, err := st.w.ExecContext(ctx, st.w.Rebind(`INSERT INTO resumable_uploads (`+resumableColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		u.ID, u.LinkID, u.SessionID, u.BucketID, u.FolderID, u.Name, u.Length, u.Offset, sesame.FormatTime(u.Created),
		sesame.FormatTime(u.Expires), u.ObjectID, u.SavedName)
	if err != nil {
		return fmt.Errorf("store: create resumable upload: %w", translate(err))
	}
	return nil
}

// ResumableByID implements sesame.ResumableStore.
func (st *Store) ResumableByID(ctx context.Context, id string) (*sesame.Resumable, error) {
	var r resumableRow
	err := st.db.GetContext(ctx, &r, st.db.Rebind(`SELECT `+resumableColumns+` FROM resumable_uploads WHERE id = ?`), id)
	if err != nil {
		return nil, fmt.Errorf("store: resumable upload: %w", translate(err))
	}
	return r.resumable(), nil
}

// AddResumablePart implements sesame.ResumableStore.
func (st *Store) AddResumablePart(ctx context.Context, id string, p sesame.ResumablePart) error {
	return st.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE resumable_uploads SET received = received + ?
WHERE id = ? AND received = ? AND object_id = '' AND received + ? <= length`), p.Size, id, p.Offset, p.Size)
		if err != nil {
			return fmt.Errorf("store: resumable offset: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return sesame.Errorf(sesame.Conflict, "The upload has moved on; ask for its offset again.")
		}
		_, err = tx.ExecContext(ctx, tx.Rebind(`INSERT INTO resumable_parts (upload_id, position, size, blob_key) VALUES (?, ?, ?, ?)`),
			id, p.Offset, p.Size, p.BlobKey)
		if err != nil {
			return fmt.Errorf("store: resumable part: %w", err)
		}
		return nil
	})
}

// ResumableParts implements sesame.ResumableStore.
func (st *Store) ResumableParts(ctx context.Context, id string) ([]sesame.ResumablePart, error) {
	var rows []struct {
		Position int64  `db:"position"`
		Size     int64  `db:"size"`
		BlobKey  string `db:"blob_key"`
	}
	err := st.db.SelectContext(ctx, &rows, st.db.Rebind(`SELECT position, size, blob_key FROM resumable_parts WHERE upload_id = ? ORDER BY position`), id)
	if err != nil {
		return nil, fmt.Errorf("store: resumable parts: %w", translate(err))
	}
	parts := make([]sesame.ResumablePart, len(rows))
	for i, r := range rows {
		parts[i] = sesame.ResumablePart{Offset: r.Position, Size: r.Size, BlobKey: r.BlobKey}
	}
	return parts, nil
}

// FinishResumable implements sesame.ResumableStore.
func (st *Store) FinishResumable(ctx context.Context, id, objectID, name string) error {
	var keys []string
	err := st.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE resumable_uploads SET received = length, object_id = ?, saved_name = ? WHERE id = ?`),
			objectID, name, id)
		if err != nil {
			return fmt.Errorf("store: finish resumable upload: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return &sesame.Error{Kind: sesame.NotFound, Err: fmt.Errorf("store: finish resumable upload %s: gone", id)}
		}
		keys, err = dropParts(ctx, tx, id)
		return err
	})
	if err != nil {
		return err
	}
	st.removeParts(ctx, keys)
	return nil
}

// DeleteResumable implements sesame.ResumableStore.
func (st *Store) DeleteResumable(ctx context.Context, id string) (*sesame.Resumable, error) {
	var u *sesame.Resumable
	var keys []string
	err := st.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		var err error
		u, keys, err = st.deleteResumable(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	st.removeParts(ctx, keys)
	return u, nil
}

// deleteResumable deletes an upload and its parts' rows in tx, gives back
// the reservation of an unfinished one and records the change as ctx's
// note says. It returns the upload and the part blobs to remove once tx
// has committed.
func (st *Store) deleteResumable(ctx context.Context, tx *sqlx.Tx, id string) (*sesame.Resumable, []string, error) {
	var r resumableRow
	err := tx.GetContext(ctx, &r, tx.Rebind(`DELETE FROM resumable_uploads WHERE id = ? RETURNING `+resumableColumns), id)
	if err != nil {
		return nil, nil, fmt.Errorf("store: delete resumable upload: %w", translate(err))
	}
	keys, err := dropParts(ctx, tx, id)
	if err != nil {
		return nil, nil, err
	}
	if r.ObjectID == "" {
		if err := st.releaseUpload(ctx, tx, r.LinkID, 1, r.Length); err != nil {
			return nil, nil, err
		}
	}
	if err := st.noteChange(ctx, tx, r.LinkID, ""); err != nil {
		return nil, nil, err
	}
	return r.resumable(), keys, nil
}

// dropParts deletes an upload's part rows in tx and returns their blobs.
func dropParts(ctx context.Context, tx *sqlx.Tx, id string) ([]string, error) {
	var keys []string
	if err := tx.SelectContext(ctx, &keys, tx.Rebind(`SELECT blob_key FROM resumable_parts WHERE upload_id = ?`), id); err != nil {
		return nil, fmt.Errorf("store: resumable parts: %w", err)
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM resumable_parts WHERE upload_id = ?`), id); err != nil {
		return nil, fmt.Errorf("store: drop resumable parts: %w", err)
	}
	return keys, nil
}

// removeParts removes part blobs whose rows are gone. No object names
// them, so no export needs them; one left behind is an orphan that the
// blob sweep removes.
func (st *Store) removeParts(ctx context.Context, keys []string) {
	ctx = context.WithoutCancel(ctx)
	for _, k := range keys {
		if err := st.blobs.remove(ctx, k); err != nil {
			st.log.WarnContext(ctx, "remove upload part", "blob_key", k, "error", err)
		}
	}
}

// StagePart implements sesame.ResumableParts: the bytes go to the blob
// backend as a blob of their own, under the same free-space reserve as
// Stage, without hashing.
func (st *Store) StagePart(ctx context.Context, r io.Reader, max int64) (sesame.ResumablePart, error) {
	if err := st.room(0); err != nil {
		return sesame.ResumablePart{}, err
	}
	w, err := st.blobs.create(ctx)
	if err != nil {
		return sesame.ResumablePart{}, err
	}
	n, _, err := st.copyHashed(ctx, r, w, nil, max)
	if err != nil || n == 0 {
		w.abort()
		return sesame.ResumablePart{}, err
	}
	ref, err := w.finish()
	if err != nil {
		return sesame.ResumablePart{}, err
	}
	key := st.blobs.keyFor(ref)
	if err := st.blobs.commit(ctx, ref, key); err != nil {
		if derr := st.blobs.discard(context.WithoutCancel(ctx), ref); derr != nil {
			st.log.WarnContext(ctx, "discard upload part", "error", derr)
		}
		return sesame.ResumablePart{}, err
	}
	return sesame.ResumablePart{Size: n, BlobKey: key}, nil
}

// RemovePart implements sesame.ResumableParts.
func (st *Store) RemovePart(ctx context.Context, p sesame.ResumablePart) error {
	if p.BlobKey == "" || !validBlobKey(p.BlobKey) {
		return nil
	}
	return st.blobs.remove(ctx, p.BlobKey)
}

// LockResumable implements sesame.ResumableLocks with one conditional
// UPDATE.
func (st *Store) LockResumable(ctx context.Context, id, sessionID, holder string, now, until time.Time) (bool, error) {
	res, err := st.w.ExecContext(ctx, st.w.Rebind(`UPDATE resumable_uploads SET lock_holder = ?, lock_until = ?, lock_wanted = 0
WHERE id = ? AND session_id = ? AND (lock_holder = '' OR lock_until <= ?)`), holder, sesame.FormatTime(until), id, sessionID, sesame.FormatTime(now))
	if err != nil {
		return false, fmt.Errorf("store: lock resumable upload: %w", translate(err))
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, nil
	}
	res, err = st.w.ExecContext(ctx, st.w.Rebind(`UPDATE resumable_uploads SET lock_wanted = 1 WHERE id = ? AND session_id = ?`), id, sessionID)
	if err != nil {
		return false, fmt.Errorf("store: want resumable upload lock: %w", translate(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, &sesame.Error{Kind: sesame.NotFound, Err: fmt.Errorf("store: lock resumable upload: no such upload")}
	}
	return false, nil
}

// RenewResumableLock implements sesame.ResumableLocks.
func (st *Store) RenewResumableLock(ctx context.Context, id, holder string, until time.Time) (held, wanted bool, err error) {
	var w int
	err = st.w.GetContext(ctx, &w, st.w.Rebind(`UPDATE resumable_uploads SET lock_until = ? WHERE id = ? AND lock_holder = ? RETURNING lock_wanted`),
		sesame.FormatTime(until), id, holder)
	if err == sql.ErrNoRows {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("store: renew resumable upload lock: %w", translate(err))
	}
	return true, w != 0, nil
}

// UnlockResumable implements sesame.ResumableLocks.
func (st *Store) UnlockResumable(ctx context.Context, id, holder string) error {
	_, err := st.w.ExecContext(ctx, st.w.Rebind(`UPDATE resumable_uploads SET lock_holder = '', lock_until = '' WHERE id = ? AND lock_holder = ?`), id, holder)
	if err != nil {
		return fmt.Errorf("store: unlock resumable upload: %w", translate(err))
	}
	return nil
}

// expireResumables deletes, in batches, the uploads that expired by now:
// the parts of an unfinished one go and its reservation is given back,
// each recorded as an "upload.expire" of the system.
func (st *Store) expireResumables(ctx context.Context, stats PurgeStats, now time.Time) error {
	return st.purgeBatches(ctx, stats, "resumable_uploads", func() (int64, error) {
		var ids []string
		err := st.db.SelectContext(ctx, &ids, st.db.Rebind(`SELECT id FROM resumable_uploads WHERE expires_at <= ? LIMIT ?`),
			sesame.FormatTime(now), purgeBatch)
		if err != nil {
			return 0, err
		}
		var n int64
		for _, id := range ids {
			if err := st.expireResumable(ctx, id); err != nil {
				return n, err
			}
			n++
		}
		return n, nil
	})
}

// expireResumable deletes one expired upload, recording what it held.
func (st *Store) expireResumable(ctx context.Context, id string) error {
	var keys []string
	err := st.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		var r resumableRow
		err := tx.GetContext(ctx, &r, tx.Rebind(`SELECT `+resumableColumns+` FROM resumable_uploads WHERE id = ?`), id)
		if err == sql.ErrNoRows {
			return nil // gone meanwhile
		}
		if err != nil {
			return err
		}
		note := &sesame.AuditNote{Actor: "purge", ActorType: sesame.ActorSystem, Action: "upload.expire", LinkID: r.LinkID,
			Detail: map[string]string{"name": r.Name, "received": fmt.Sprint(r.Received), "bytes": fmt.Sprint(r.Length)}}
		if r.ObjectID != "" {
			note = nil // complete: nothing is lost, nothing to record
		}
		nctx := ctx
		if note != nil {
			nctx = sesame.WithAudit(ctx, note)
		}
		_, keys, err = st.deleteResumable(nctx, tx, id)
		return err
	})
	if err != nil {
		return err
	}
	st.removeParts(ctx, keys)
	return nil
}
