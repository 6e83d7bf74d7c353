package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/sesame-share/sesame"
)

var _ sesame.SessionKeys = (*Store)(nil)

// parseLock reads the vault column of an object row. A lock that does
// not parse still marks the file as protected: it opens for no key.
func parseLock(b []byte) *sesame.FileLock {
	if b == nil {
		return nil
	}
	l, err := sesame.ParseFileLock(b)
	if err != nil {
		return &sesame.FileLock{}
	}
	return l
}

// encodeLock is the vault column for l: NULL for no lock.
func encodeLock(l *sesame.FileLock) (any, error) {
	if l == nil {
		return nil, nil
	}
	b, err := l.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("store: file lock: %w", err)
	}
	return b, nil
}

// sealKey seals a file key under the server's key, bound to what holds it.
func (st *Store) sealKey(key sesame.FileKey, holder string) ([]byte, error) {
	if key == nil {
		return nil, nil
	}
	return st.seal(key, []byte("file key\x00"+holder))
}

func (st *Store) unsealKey(sealed []byte, holder string) (sesame.FileKey, error) {
	if sealed == nil {
		return nil, nil
	}
	k, err := st.unseal(sealed, []byte("file key\x00"+holder))
	return sesame.FileKey(k), err
}

func sessionKeyHolder(sessionID, objectID string) string {
	return "session\x00" + sessionID + "\x00" + objectID
}

// SaveSessionKey implements sesame.SessionKeys.
func (st *Store) SaveSessionKey(ctx context.Context, s *sesame.Session, objectID string, key sesame.FileKey) error {
	sealed, err := st.sealKey(key, sessionKeyHolder(s.ID, objectID))
	if err != nil {
		return err
	}
	_, err = st.w.ExecContext(ctx, st.w.Rebind(`INSERT INTO session_file_keys (session_id, object_id, key_sealed, created_at) VALUES (?, ?, ?, ?)
ON CONFLICT (session_id, object_id) DO UPDATE SET key_sealed = excluded.key_sealed, created_at = excluded.created_at`),
		s.ID, objectID, sealed, sesame.FormatTime(st.nowUTC()))
	if err != nil {
		return fmt.Errorf("store: save session key: %w", translate(err))
	}
	return nil
}

// SessionKey implements sesame.SessionKeys: only a session that is
// neither ended nor expired has keys.
func (st *Store) SessionKey(ctx context.Context, sessionID, objectID string) (sesame.FileKey, error) {
	var sealed []byte
	err := st.db.GetContext(ctx, &sealed, st.db.Rebind(`SELECT k.key_sealed FROM session_file_keys k JOIN sessions s ON s.id = k.session_id
WHERE k.session_id = ? AND k.object_id = ? AND s.ended_at IS NULL AND s.expires_at > ?`), sessionID, objectID, sesame.FormatTime(st.nowUTC()))
	if err == sql.ErrNoRows {
		return nil, sesame.Errorf(sesame.NotFound, "No key is kept for this file.")
	}
	if err != nil {
		return nil, fmt.Errorf("store: session key: %w", translate(err))
	}
	return st.unsealKey(sealed, sessionKeyHolder(sessionID, objectID))
}

// SessionKeyIDs implements sesame.SessionKeys.
func (st *Store) SessionKeyIDs(ctx context.Context, sessionID string) ([]string, error) {
	var ids []string
	if err := st.db.SelectContext(ctx, &ids, st.db.Rebind(`SELECT object_id FROM session_file_keys WHERE session_id = ?`), sessionID); err != nil {
		return nil, fmt.Errorf("store: session keys: %w", translate(err))
	}
	return ids, nil
}

// swapBlob puts r's staged bytes in place of o's, inside an update's
// transaction: o must still hold the bytes r was made from. It returns
// the new blob key once the blob is committed.
func (st *Store) swapBlob(ctx context.Context, tx *sqlx.Tx, o *sesame.Object, r *sesame.Reseal) (string, error) {
	if o.IsFolder() || o.BlobKey != r.From {
		e := sesame.FieldErr("BadState", "/id", "the file changed while its password was being changed; try again")
		return "", e.WithKind(sesame.Conflict)
	}
	vault, err := encodeLock(r.Upload.Lock)
	if err != nil {
		return "", err
	}
	key := st.blobs.keyFor(r.Upload.Ref)
	if err := st.blobs.commit(ctx, r.Upload.Ref, key); err != nil {
		return "", err
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE objects SET blob_key = ?, vault = ? WHERE id = ?`), key, vault, o.ID); err != nil {
		return key, fmt.Errorf("store: swap blob: %w", err)
	}
	o.BlobKey, o.Lock = key, r.Upload.Lock
	return key, nil
}

// settleSwap cleans up after an update that carried a reseal: on success
// the old bytes go; on failure the new ones (committed or only staged).
func (st *Store) settleSwap(ctx context.Context, r *sesame.Reseal, newKey string, err error) {
	switch {
	case r == nil:
	case err == nil:
		st.removeBlob(ctx, r.From)
	case newKey != "":
		st.removeBlob(ctx, newKey)
	default:
		if derr := st.Discard(context.WithoutCancel(ctx), r.Upload); derr != nil {
			st.log.Warn("discard upload", "error", derr)
		}
	}
}

// valueAt is vals[i], or nil when i is -1 (a column the row lacks).
func valueAt(vals []any, i int) any {
	if i < 0 || i >= len(vals) {
		return nil
	}
	return vals[i]
}
