package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/sesame-share/sesame"
)

const linkCols = `id, bucket_id, link_type, token_sealed, title, message, tags, notify_email, notify, recipient_email, sender_email, sender_name,
expires_at, max_access_count, access_count, max_downloads, downloads, last_accessed_at, auth_epoch, created_by, created_at, updated_at, deleted_at`

type linkRow struct {
	ID             string         `db:"id"`
	BucketID       string         `db:"bucket_id"`
	Type           string         `db:"link_type"`
	TokenSealed    []byte         `db:"token_sealed"`
	Title          string         `db:"title"`
	Message        string         `db:"message"`
	Tags           sql.NullString `db:"tags"`
	NotifyEmail    string         `db:"notify_email"`
	Notify         sql.NullString `db:"notify"`
	RecipientEmail string         `db:"recipient_email"`
	SenderEmail    string         `db:"sender_email"`
	SenderName     string         `db:"sender_name"`
	Expires        string         `db:"expires_at"`
	MaxAccessCount int            `db:"max_access_count"`
	AccessCount    int            `db:"access_count"`
	MaxDownloads   int            `db:"max_downloads"`
	Downloads      int            `db:"downloads"`
	LastAccessed   string         `db:"last_accessed_at"`
	AuthEpoch      int            `db:"auth_epoch"`
	CreatedBy      string         `db:"created_by"`
	Created        string         `db:"created_at"`
	Updated        string         `db:"updated_at"`
	Deleted        sql.NullString `db:"deleted_at"`
}

const authCols = `id, link_id, position, auth_type, context, failures, locked_until`

type authRow struct {
	ID          string         `db:"id"`
	LinkID      string         `db:"link_id"`
	Position    int            `db:"position"`
	Type        string         `db:"auth_type"`
	Context     string         `db:"context"`
	Failures    int            `db:"failures"`
	LockedUntil sql.NullString `db:"locked_until"`
}

func (r *authRow) authenticator() sesame.LinkAuthenticator {
	return sesame.LinkAuthenticator{ID: r.ID, Position: r.Position, Type: sesame.AuthType(r.Type), Context: r.Context,
		Failures: r.Failures, LockedUntil: parseNullTime(r.LockedUntil)}
}

func (st *Store) linkFromRow(r *linkRow) (*sesame.Link, error) {
	tok, err := st.openLinkToken(r)
	if err != nil {
		return nil, err
	}
	l := linkFields(r)
	l.Token = string(tok)
	return l, nil
}

// linkFields is a link as its row holds it, without unsealing its token.
func linkFields(r *linkRow) *sesame.Link {
	l := &sesame.Link{
		ID: r.ID, BucketID: r.BucketID, Type: sesame.LinkType(r.Type), Title: r.Title, Message: r.Message,
		NotifyEmail: r.NotifyEmail, RecipientEmail: r.RecipientEmail, SenderEmail: r.SenderEmail, SenderName: r.SenderName,
		Expires: parseTime(r.Expires), MaxAccessCount: r.MaxAccessCount, AccessCount: r.AccessCount,
		MaxDownloads: r.MaxDownloads, Downloads: r.Downloads, AuthEpoch: r.AuthEpoch, CreatedBy: r.CreatedBy,
		Created: parseTime(r.Created), Updated: parseTime(r.Updated), Deleted: parseNullTime(r.Deleted),
	}
	if r.LastAccessed != "" {
		l.LastAccessed = parseTime(r.LastAccessed)
	}
	if r.Tags.Valid {
		l.Tags = decodeStrings(r.Tags.String)
	}
	l.Notify = decodeNotify(r.Notify)
	return l
}

// loadLinks reads links by id with their targets and authenticators, in
// the order of ids.
func (st *Store) loadLinks(ctx context.Context, q sqlx.ExtContext, ids []string, includeDeleted bool) ([]*sesame.Link, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	query, args, err := sqlx.In(`SELECT `+linkCols+` FROM links WHERE id IN (?)`, ids)
	if err != nil {
		return nil, fmt.Errorf("store: links query: %w", err)
	}
	var rows []linkRow
	if err := sqlx.SelectContext(ctx, q, &rows, q.Rebind(query), args...); err != nil {
		return nil, fmt.Errorf("store: load links: %w", err)
	}
	byID := make(map[string]*linkRow, len(rows))
	for i := range rows {
		if !rows[i].Deleted.Valid || includeDeleted {
			byID[rows[i].ID] = &rows[i]
		}
	}
	ordered := make([]*linkRow, 0, len(ids))
	for _, id := range ids {
		if r := byID[id]; r != nil {
			ordered = append(ordered, r)
		}
	}
	return st.linksFromRows(ctx, q, ordered)
}

// linksFromRows turns link rows into links, in their order, with their
// targets and authenticators read in one query each.
func (st *Store) linksFromRows(ctx context.Context, q sqlx.ExtContext, rows []*linkRow) ([]*sesame.Link, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	out := make([]*sesame.Link, len(rows))
	ids := make([]string, len(rows))
	byID := make(map[string]*sesame.Link, len(rows))
	for i, r := range rows {
		l, err := st.linkFromRow(r)
		if err != nil {
			return nil, err
		}
		out[i], ids[i], byID[r.ID] = l, r.ID, l
	}
	// Expired files are no longer targets, from the instant they expire.
	live, largs := st.liveSQL("o.")
	query, args, err := sqlx.In(`SELECT t.link_id, t.object_id FROM link_targets t LEFT JOIN objects o ON o.id = t.object_id
WHERE t.link_id IN (?) AND (o.id IS NULL OR `+live+`) ORDER BY t.link_id, t.position`, append([]any{ids}, largs...)...)
	if err != nil {
		return nil, fmt.Errorf("store: link targets query: %w", err)
	}
	var targets []struct {
		LinkID   string `db:"link_id"`
		ObjectID string `db:"object_id"`
	}
	if err := sqlx.SelectContext(ctx, q, &targets, q.Rebind(query), args...); err != nil {
		return nil, fmt.Errorf("store: link targets: %w", err)
	}
	for _, t := range targets {
		if l := byID[t.LinkID]; l != nil {
			l.Targets = append(l.Targets, t.ObjectID)
		}
	}
	query, args, _ = sqlx.In(`SELECT `+authCols+` FROM link_authenticators WHERE link_id IN (?) ORDER BY link_id, position`, ids)
	var auths []authRow
	if err := sqlx.SelectContext(ctx, q, &auths, q.Rebind(query), args...); err != nil {
		return nil, fmt.Errorf("store: link authenticators: %w", err)
	}
	for i := range auths {
		if l := byID[auths[i].LinkID]; l != nil {
			l.Authenticators = append(l.Authenticators, auths[i].authenticator())
		}
	}
	return out, nil
}

// checkLinkTargets verifies that every target exists in the bucket, and
// that upload links point at folders only.
func (st *Store) checkLinkTargets(ctx context.Context, tx *sqlx.Tx, bucketID string, typ sesame.LinkType, targets []string, src string) error {
	live, largs := st.liveSQL("")
	for i, id := range targets {
		// By id alone, through the primary key: with the bucket in the
		// WHERE clause PostgreSQL's generic plan read the bucket's whole
		// range of objects_type (bucket_id, type, id), which covers the
		// query, for every target.
		var o struct {
			BucketID string `db:"bucket_id"`
			Kind     string `db:"type"`
		}
		err := tx.GetContext(ctx, &o, tx.Rebind(`SELECT bucket_id, type FROM objects WHERE id = ? AND `+live), append([]any{id}, largs...)...)
		if err == sql.ErrNoRows || (err == nil && o.BucketID != bucketID) {
			return notFound("target", fmt.Sprintf("%s/%d", src, i), id)
		}
		if err != nil {
			return fmt.Errorf("store: link target: %w", err)
		}
		if typ == sesame.LinkUpload && o.Kind != string(sesame.TypeFolder) {
			return sesame.FieldErr("BadState", fmt.Sprintf("%s/%d", src, i), "upload links take folders only; %s is a file", id)
		}
	}
	return nil
}

func insertTargets(ctx context.Context, tx *sqlx.Tx, linkID string, targets []string) error {
	for i, t := range targets {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO link_targets (link_id, object_id, position) VALUES (?, ?, ?)`), linkID, t, i); err != nil {
			return fmt.Errorf("store: insert link target: %w", err)
		}
	}
	return nil
}

func insertTags(ctx context.Context, tx *sqlx.Tx, linkID string, tags []string) error {
	for _, t := range dedupe(tags) {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO link_tags (link_id, tag) VALUES (?, ?)`), linkID, t); err != nil {
			return fmt.Errorf("store: insert link tag: %w", err)
		}
	}
	return nil
}

func insertAuthenticators(ctx context.Context, tx *sqlx.Tx, linkID string, auths []sesame.LinkAuthenticator) error {
	for i, a := range auths {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO link_authenticators (id, link_id, position, auth_type, context) VALUES (?, ?, ?, ?, ?)`),
			a.ID, linkID, i, a.Type, a.Context); err != nil {
			return fmt.Errorf("store: insert authenticator: %w", err)
		}
	}
	return nil
}

// CreateLinks implements sesame.LinkStore.
func (st *Store) CreateLinks(ctx context.Context, in []sesame.LinkCreate, hashed [][]sesame.LinkAuthenticator, now time.Time) ([]*sesame.Link, error) {
	ids := make([]string, len(in))
	err := st.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		for i, it := range in {
			bucketID := st.bucketOrDefault(it.BucketID)
			if err := st.checkBucket(ctx, tx, bucketID); err != nil {
				return err
			}
			if err := st.checkLinkTargets(ctx, tx, bucketID, it.Type, it.Targets, it.Source+"/targets"); err != nil {
				return err
			}
			id := sesame.NewTimeID(sesame.PrefixLink, now)
			token := newSecret("")
			sealed, err := st.seal([]byte(token), []byte(id))
			if err != nil {
				return err
			}
			maxDownloads := 0
			if it.MaxDownloads != nil {
				maxDownloads = *it.MaxDownloads
			}
			_, err = tx.ExecContext(ctx, tx.Rebind(`INSERT INTO links (id, bucket_id, link_type, token_mac, token_sealed, first_target, title, message, tags,
notify_email, notify, expires_at, max_access_count, max_downloads, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
				id, bucketID, it.Type, st.mac("link token", token), sealed, it.Targets[0], it.Title, it.Message,
				encodeJSON(dedupe(it.Tags), it.Tags != nil), it.NotifyEmail, encodeNotify(it.Notify), sesame.FormatTime(it.Expires), *it.MaxAccessCount,
				maxDownloads, it.CreatedBy, sesame.FormatTime(now), sesame.FormatTime(now))
			if err != nil {
				return fmt.Errorf("store: insert link: %w", err)
			}
			if err := insertTargets(ctx, tx, id, it.Targets); err != nil {
				return err
			}
			if err := insertTags(ctx, tx, id, it.Tags); err != nil {
				return err
			}
			if err := insertAuthenticators(ctx, tx, id, hashed[i]); err != nil {
				return err
			}
			if err := st.noteChange(ctx, tx, id, ""); err != nil {
				return err
			}
			if err := st.publishLink(ctx, tx, sesame.EventLinkCreated, id, nil); err != nil {
				return err
			}
			ids[i] = id
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return st.loadLinks(ctx, st.db, ids, false)
}

// LinkByID implements sesame.LinkStore.
func (st *Store) LinkByID(ctx context.Context, id string) (*sesame.Link, error) {
	links, err := st.loadLinks(ctx, st.db, []string{id}, false)
	if err != nil {
		return nil, err
	}
	if len(links) == 0 {
		return nil, notFound("link", "/id", id)
	}
	return links[0], nil
}

// UpdateLink implements sesame.LinkStore.
func (st *Store) UpdateLink(ctx context.Context, id string, upd sesame.LinkUpdate, hashed []sesame.LinkAuthenticator, now time.Time) (*sesame.Link, error) {
	err := st.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		links, err := st.loadLinks(ctx, tx, []string{id}, false)
		if err != nil {
			return err
		}
		if len(links) == 0 {
			return notFound("link", "/id", id)
		}
		l := links[0]
		targets, err := st.updatedTargets(ctx, tx, l, upd)
		if err != nil {
			return err
		}
		applyLinkUpdate(l, upd)
		if err := replaceLinkRows(ctx, tx, l, targets, upd, hashed); err != nil {
			return err
		}
		// Any change to a link ends the sessions opened under its old terms.
		_, err = tx.ExecContext(ctx, tx.Rebind(`UPDATE links SET first_target = ?, title = ?, message = ?, tags = ?, expires_at = ?, max_access_count = ?,
max_downloads = ?, notify = ?, auth_epoch = ?, updated_at = ? WHERE id = ?`),
			targets[0], l.Title, l.Message, encodeJSON(l.Tags, l.Tags != nil), sesame.FormatTime(l.Expires), l.MaxAccessCount,
			l.MaxDownloads, encodeNotify(l.Notify), l.AuthEpoch+1, sesame.FormatTime(now), id)
		if err != nil {
			return fmt.Errorf("store: update link: %w", err)
		}
		if err := st.noteChange(ctx, tx, id, ""); err != nil {
			return err
		}
		return st.publishLink(ctx, tx, sesame.EventLinkUpdated, id, nil)
	})
	if err != nil {
		return nil, err
	}
	return st.LinkByID(ctx, id)
}

// updatedTargets applies an update's target changes to l's targets.
func (st *Store) updatedTargets(ctx context.Context, tx *sqlx.Tx, l *sesame.Link, upd sesame.LinkUpdate) ([]string, error) {
	targets := l.Targets
	if upd.SetTargets {
		if err := st.checkLinkTargets(ctx, tx, l.BucketID, l.Type, upd.Targets, "/targets"); err != nil {
			return nil, err
		}
		targets = upd.Targets
	}
	if len(upd.AddTargets) > 0 {
		if err := st.checkLinkTargets(ctx, tx, l.BucketID, l.Type, upd.AddTargets, "/add_targets"); err != nil {
			return nil, err
		}
		for _, t := range upd.AddTargets {
			if !contains(targets, t) {
				targets = append(targets, t)
			}
		}
	}
	if len(upd.RemoveTargets) > 0 {
		kept := targets[:0:0]
		for _, t := range targets {
			if !contains(upd.RemoveTargets, t) {
				kept = append(kept, t)
			}
		}
		targets = kept
	}
	if len(targets) == 0 {
		return nil, sesame.FieldErr("BelowMinItems", "/remove_targets", "a link needs at least one target; delete the link instead")
	}
	return targets, nil
}

// applyLinkUpdate sets the plain fields an update names.
func applyLinkUpdate(l *sesame.Link, upd sesame.LinkUpdate) {
	if upd.Expires != nil {
		l.Expires = *upd.Expires
	}
	if upd.MaxAccessCount != nil {
		l.MaxAccessCount = *upd.MaxAccessCount
	}
	if upd.MaxDownloads != nil {
		l.MaxDownloads = *upd.MaxDownloads
	}
	if upd.Title != nil {
		l.Title = *upd.Title
	}
	if upd.Message != nil {
		l.Message = *upd.Message
	}
	if upd.SetTags {
		l.Tags = dedupe(upd.Tags)
	}
	if upd.Notify != nil {
		l.Notify = upd.Notify
	}
}

// replaceLinkRows rewrites a link's targets, tags and authenticators. An
// update that keeps the authenticators lifts the locks that repeated
// sign-in failures set.
func replaceLinkRows(ctx context.Context, tx *sqlx.Tx, l *sesame.Link, targets []string, upd sesame.LinkUpdate, hashed []sesame.LinkAuthenticator) error {
	if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM link_targets WHERE link_id = ?`), l.ID); err != nil {
		return fmt.Errorf("store: reset targets: %w", err)
	}
	if err := insertTargets(ctx, tx, l.ID, targets); err != nil {
		return err
	}
	if upd.SetTags {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM link_tags WHERE link_id = ?`), l.ID); err != nil {
			return fmt.Errorf("store: reset tags: %w", err)
		}
		if err := insertTags(ctx, tx, l.ID, l.Tags); err != nil {
			return err
		}
	}
	if hashed != nil {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM link_authenticators WHERE link_id = ?`), l.ID); err != nil {
			return fmt.Errorf("store: reset authenticators: %w", err)
		}
		return insertAuthenticators(ctx, tx, l.ID, hashed)
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE link_authenticators SET failures = 0, locked_at = NULL, locked_until = NULL, lock_count = 0 WHERE link_id = ?`), l.ID); err != nil {
		return fmt.Errorf("store: unlock authenticators: %w", err)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// DeleteLinks implements sesame.LinkStore.
func (st *Store) DeleteLinks(ctx context.Context, ids []string) ([]*sesame.Link, error) {
	var out []*sesame.Link
	err := st.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		links, err := st.loadLinks(ctx, tx, ids, false)
		if err != nil {
			return err
		}
		found := map[string]bool{}
		for _, l := range links {
			found[l.ID] = true
		}
		for i, id := range ids {
			if !found[id] {
				return notFound("link", fmt.Sprintf("/ids/%d", i), id)
			}
		}
		out = links
		for _, id := range ids {
			if err := st.noteChange(ctx, tx, id, ""); err != nil {
				return err
			}
			if err := st.publishLink(ctx, tx, sesame.EventLinkRevoked, id, map[string]any{"reason": "revoked"}); err != nil {
				return err
			}
		}
		return retireLinks(ctx, tx, st.nowUTC(), ids)
	})
	return out, err
}

// unlinkObjects removes objects from every link's targets and deletes the
// links left with none, inside the caller's transaction.
func (st *Store) unlinkObjects(ctx context.Context, tx *sqlx.Tx, where string, args ...any) error {
	var affected []string
	if err := tx.SelectContext(ctx, &affected, tx.Rebind(`SELECT DISTINCT link_id FROM link_targets WHERE object_id IN (SELECT id FROM objects WHERE `+where+`)`), args...); err != nil {
		return fmt.Errorf("store: find links of deleted objects: %w", err)
	}
	if len(affected) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM link_targets WHERE object_id IN (SELECT id FROM objects WHERE `+where+`)`), args...); err != nil {
		return fmt.Errorf("store: unlink deleted objects: %w", err)
	}
	now, emptied := st.nowUTC(), []string{}
	for _, id := range affected {
		var first sql.NullString
		if err := tx.GetContext(ctx, &first, tx.Rebind(`SELECT object_id FROM link_targets WHERE link_id = ? ORDER BY position LIMIT 1`), id); err != nil && err != sql.ErrNoRows {
			return fmt.Errorf("store: remaining targets: %w", err)
		}
		if !first.Valid {
			emptied = append(emptied, id)
			if err := st.publishLink(ctx, tx, sesame.EventLinkRevoked, id, map[string]any{"reason": "targets_deleted"}); err != nil {
				return err
			}
			continue
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE links SET first_target = ?, updated_at = ? WHERE id = ?`), first.String, sesame.FormatTime(now), id); err != nil {
			return fmt.Errorf("store: update first target: %w", err)
		}
	}
	return retireLinks(ctx, tx, now, emptied)
}

// attachLinks fills LinkIDs of objs with the live links that share them.
func attachLinks(ctx context.Context, q sqlx.ExtContext, objs ...*sesame.Object) error {
	if len(objs) == 0 {
		return nil
	}
	ids := make([]string, len(objs))
	byID := make(map[string]*sesame.Object, len(objs))
	for i, o := range objs {
		ids[i] = o.ID
		byID[o.ID] = o
	}
	query, args, err := sqlx.In(`SELECT t.object_id, t.link_id FROM link_targets t JOIN links l ON l.id = t.link_id
WHERE l.deleted_at IS NULL AND t.object_id IN (?) ORDER BY t.link_id`, ids)
	if err != nil {
		return fmt.Errorf("store: share links query: %w", err)
	}
	var rows []struct {
		ObjectID string `db:"object_id"`
		LinkID   string `db:"link_id"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, q.Rebind(query), args...); err != nil {
		return fmt.Errorf("store: share links: %w", err)
	}
	for _, r := range rows {
		o := byID[r.ObjectID]
		o.LinkIDs = append(o.LinkIDs, r.LinkID)
	}
	return nil
}

// linkColumns maps filter and order fields to columns.
var linkColumns = map[string]string{
	"id": "id", "bucket_id": "bucket_id", "storage_pool_id": "bucket_id", "link_type": "link_type", "title": "title",
	"message": "message", "recipient_email": "recipient_email", "sender_email": "sender_email", "notify_email": "notify_email",
	"access_count": "access_count", "max_access_count": "max_access_count", "created_at": "created_at",
	"expires_at": "expires_at", "last_accessed_at": "last_accessed_at", "target": "first_target", "link": "id",
}

func decodeStrings(s string) []string {
	out := []string{}
	_ = json.Unmarshal([]byte(s), &out) // written by encodeJSON
	return out
}

var _ sesame.LinkStore = (*Store)(nil)

// RevokeLink implements sesame.LinkStore.
func (st *Store) RevokeLink(ctx context.Context, id string) (*sesame.Link, bool, error) {
	links, err := st.loadLinks(ctx, st.db, []string{id}, true)
	if err != nil {
		return nil, false, err
	}
	if len(links) == 0 {
		return nil, false, notFound("link", "/id", id)
	}
	if !links[0].Deleted.IsZero() {
		return links[0], true, nil
	}
	deleted, err := st.DeleteLinks(ctx, []string{id})
	if sesame.KindOf(err) == sesame.NotFound {
		// Deleted between the two reads.
		return links[0], true, nil
	}
	if err != nil {
		return nil, false, err
	}
	return deleted[0], false, nil
}
