package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/sesame-share/sesame"
)

// Owner notifications are queued like webhooks: in the transaction of the
// event (a lock, a spent cap, a link's first download), so that the owner
// is told once, if and only if it happened. Uploads are gathered per
// session in owner_uploads and told in one digest by DigestUploads.

// notifyJSON is a link's notify column.
type notifyJSON struct {
	Events   []sesame.OwnerEvent `json:"events"`
	Email    string              `json:"email,omitempty"`
	Language string              `json:"language,omitempty"`
}

func encodeNotify(n *sesame.LinkNotify) sql.NullString {
	if n == nil || len(n.Events) == 0 {
		return sql.NullString{}
	}
	b, _ := json.Marshal(notifyJSON{Events: n.Events, Email: n.Email, Language: n.Language}) // strings always marshal
	return sql.NullString{String: string(b), Valid: true}
}

func decodeNotify(s sql.NullString) *sesame.LinkNotify {
	var j notifyJSON
	if !s.Valid || json.Unmarshal([]byte(s.String), &j) != nil || len(j.Events) == 0 {
		return nil
	}
	return &sesame.LinkNotify{Events: j.Events, Email: j.Email, Language: j.Language}
}

// SetOwnerMailer sets what renders owner emails; without one (the CLI, a
// store opened for maintenance) none are queued.
func (st *Store) SetOwnerMailer(m sesame.OwnerMailer) { st.owner = m }

// ownerLink returns link id as tx sees it when its owner wants e and has
// an address, else nil.
func (st *Store) ownerLink(ctx context.Context, tx *sqlx.Tx, id string, e sesame.OwnerEvent) (*sesame.Link, error) {
	if st.owner == nil || id == "" {
		return nil, nil
	}
	// The notify column alone first: most links ask for nothing.
	var raw sql.NullString
	err := tx.GetContext(ctx, &raw, tx.Rebind(`SELECT notify FROM links WHERE id = ? AND deleted_at IS NULL`), id)
	if err == sql.ErrNoRows || (err == nil && !decodeNotify(raw).Wants(e)) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: link notify: %w", err)
	}
	links, err := st.loadLinks(ctx, tx, []string{id}, false)
	if err != nil || len(links) == 0 {
		return nil, err
	}
	if l := links[0]; l.Notify.Wants(e) && sesame.OwnerAddress(l) != "" {
		return l, nil
	}
	return nil, nil
}

// queueOwner renders and queues one owner email in tx.
func (st *Store) queueOwner(ctx context.Context, tx *sqlx.Tx, l *sesame.Link, e sesame.OwnerEvent, files []sesame.OwnerFile) error {
	now := st.nowUTC()
	msg, err := st.owner.OwnerMessage(&sesame.OwnerNote{Event: e, Link: l, To: sesame.OwnerAddress(l), Files: files, At: now})
	if err != nil {
		return err
	}
	return st.enqueue(ctx, tx, now, msg)
}

// notifyOwner queues the owner email of event e on link id, if wanted.
func (st *Store) notifyOwner(ctx context.Context, tx *sqlx.Tx, id string, e sesame.OwnerEvent) error {
	l, err := st.ownerLink(ctx, tx, id, e)
	if err != nil || l == nil {
		return err
	}
	return st.queueOwner(ctx, tx, l, e, nil)
}

// notifyFirstDownload tells the owner of the link's first download: one
// conditional UPDATE marks it, so a refund and a second download, or two
// replicas at once, never tell it twice.
func (st *Store) notifyFirstDownload(ctx context.Context, tx *sqlx.Tx, id string) error {
	l, err := st.ownerLink(ctx, tx, id, sesame.OwnerDownload)
	if err != nil || l == nil {
		return err
	}
	res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE links SET owner_download_at = ? WHERE id = ? AND owner_download_at IS NULL`),
		sesame.FormatTime(st.nowUTC()), id)
	if err != nil {
		return fmt.Errorf("store: mark first download: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	return st.queueOwner(ctx, tx, l, sesame.OwnerDownload, nil)
}

// recordOwnerUpload notes a recipient's upload for its session's digest,
// when the link's owner wants one.
func (st *Store) recordOwnerUpload(ctx context.Context, tx *sqlx.Tx, o *sesame.Object) error {
	note := sesame.AuditNoteFrom(ctx)
	if note == nil || note.LinkID == "" || note.ActorType != sesame.ActorSession || o.IsFolder() {
		return nil
	}
	l, err := st.ownerLink(ctx, tx, note.LinkID, sesame.OwnerUpload)
	if err != nil || l == nil {
		return err
	}
	_, err = tx.ExecContext(ctx, tx.Rebind(`INSERT INTO owner_uploads (session_id, object_id, link_id, name, size, created_at)
VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`), note.Actor, o.ID, l.ID, o.Name, o.Size, sesame.FormatTime(st.nowUTC()))
	if err != nil {
		return fmt.Errorf("store: note upload for digest: %w", err)
	}
	return nil
}
