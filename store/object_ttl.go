package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/sesame-share/sesame"
)

// File TTLs. Each row holds the TTL set on the object itself (file_ttl,
// '' when it inherits) and, kept current on every change that can alter
// it, the TTL in force (ttl_effective) with the id of the object that
// sets it (ttl_from); ttl_from '' means the service default, which only
// the configuration holds, so that changing it needs no rewrite. A file
// under a TTL set on an object also holds expires_at; a file under the
// default expires that long after its created_at. expiredSQL turns this
// into the one condition every read of objects applies.

// ttlDefault is the service's default file TTL.
type ttlDefault struct {
	ttl      sesame.FileTTL // never or a duration
	d        time.Duration  // 0: never
	configID string         // the pci_ id that names the configuration
}

func newTTLDefault(t sesame.FileTTL) (ttlDefault, error) {
	if _, err := sesame.ParseFileTTL("/objects/default_file_ttl", string(t)); err != nil {
		return ttlDefault{}, fmt.Errorf("store: default file ttl: %w", err)
	}
	if !t.Own() {
		t = sesame.TTLNever
	}
	d, _ := t.Duration()
	return ttlDefault{ttl: t, d: d}, nil
}

// report turns o's TTL as its row holds it into what callers see: the
// default's value, source and expiry where the row says "the default".
func (def ttlDefault) report(o *sesame.Object) {
	if o.TTL.From == "" {
		o.TTL = sesame.TTLSource{TTL: def.ttl, From: def.configID}
		o.Expires = sesame.FileExpiry(o.Type, o.Created, def.ttl)
	}
}

// raw is the inverse of report: src as a row holds it.
func (def ttlDefault) raw(src sesame.TTLSource) sesame.TTLSource {
	if src.From == "" || src.From == def.configID {
		return sesame.TTLSource{}
	}
	return src
}

// ownTTL is t as the file_ttl column holds it: empty for inherited.
func ownTTL(t sesame.FileTTL) sesame.FileTTL {
	if !t.Own() {
		return ""
	}
	return t
}

// inherit gives the new or moved o its own TTL own and the TTL in force
// under a parent whose source (as rows hold it) is parent.
func inherit(o *sesame.Object, own sesame.FileTTL, parent sesame.TTLSource) {
	o.FileTTL = ownTTL(own)
	o.TTL = sesame.InheritTTL(o.ID, o.FileTTL, parent)
	o.Expires = time.Time{}
	if o.TTL.From != "" {
		o.Expires = sesame.FileExpiry(o.Type, o.Created, o.TTL.TTL)
	}
}

// expiresColumn is o.Expires for the expires_at column, which is set only
// under a TTL set on an object.
func expiresColumn(o *sesame.Object) sql.NullString {
	if o.TTL.From == "" {
		return sql.NullString{}
	}
	return nullTime(o.Expires)
}

// parentTTL returns the TTL source, as rows hold it, that the children of
// the folder parentID inherit ("" is the root: the default).
func parentTTL(ctx context.Context, q sqlx.ExtContext, parentID string) (sesame.TTLSource, error) {
	if parentID == sesame.RootParentID {
		return sesame.TTLSource{}, nil
	}
	var r struct {
		From string `db:"ttl_from"`
		TTL  string `db:"ttl_effective"`
	}
	if err := sqlx.GetContext(ctx, q, &r, q.Rebind(`SELECT ttl_from, ttl_effective FROM objects WHERE id = ?`), parentID); err != nil {
		return sesame.TTLSource{}, fmt.Errorf("store: parent ttl: %w", translate(err))
	}
	return sesame.TTLSource{TTL: sesame.FileTTL(r.TTL), From: r.From}, nil
}

// expiredSQL is the one rule for what has expired as of now, as an SQL
// condition on the objects table under alias (with its dot, or ""): a
// file whose expires_at has come, or that inherits the default and was
// made at least that long ago. It never yields NULL, so NOT inverts it.
func (st *Store) expiredSQL(alias string, now time.Time) (string, []any) {
	var conds []string
	var args []any
	for _, w := range st.expiredWays(alias, now) {
		conds = append(conds, w.cond)
		args = append(args, w.args...)
	}
	return "(" + alias + "type = 'file' AND (" + strings.Join(conds, " OR ") + "))", args
}

// expiryWay is one way a file expires, as an SQL condition that an index
// serves (the sweep looks for each on its own: their OR would be a scan).
type expiryWay struct {
	cond string
	args []any
}

// expiredWays lists the ways a file (type = 'file', which the caller
// adds) has expired as of now.
func (st *Store) expiredWays(a string, now time.Time) []expiryWay {
	ways := []expiryWay{{"(" + a + "expires_at IS NOT NULL AND " + a + "expires_at <= ?)", []any{sesame.FormatTime(now)}}}
	if st.ttl.d > 0 {
		ways = append(ways, expiryWay{"(" + a + "ttl_from = '' AND " + a + "created_at <= ?)", []any{sesame.FormatTime(now.Add(-st.ttl.d))}})
	}
	return ways
}

// liveSQL is the condition that hides expired files from a read, as of
// the store's clock.
func (st *Store) liveSQL(alias string) (string, []any) {
	cond, args := st.expiredSQL(alias, st.nowUTC())
	return "NOT " + cond, args
}

// setTTL writes o's own TTL, the TTL in force and its expiry.
func setTTL(ctx context.Context, tx *sqlx.Tx, o *sesame.Object) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE objects SET file_ttl = ?, ttl_from = ?, ttl_effective = ?, expires_at = ? WHERE id = ?`),
		o.FileTTL, o.TTL.From, o.TTL.TTL, expiresColumn(o), o.ID)
	if err != nil {
		return fmt.Errorf("store: set ttl: %w", err)
	}
	return nil
}

// retune passes a change of the TTL in force for folder f (from old to
// now, as rows hold them) to everything below f that inherits it: the
// objects whose TTL came from where f's came from, since nothing between
// them and f sets one of its own.
func retune(ctx context.Context, tx *sqlx.Tx, f *sesame.Object, old, now sesame.TTLSource) error {
	if old == now || !f.IsFolder() {
		return nil
	}
	lo, hi := subtree(f.Path)
	var rows []struct {
		ID      string `db:"id"`
		Type    string `db:"type"`
		Created string `db:"created_at"`
	}
	err := tx.SelectContext(ctx, &rows, tx.Rebind(`SELECT id, type, created_at FROM objects WHERE bucket_id = ? AND path >= ? AND path < ? AND ttl_from = ?`),
		f.BucketID, lo, hi, old.From)
	if err != nil {
		return fmt.Errorf("store: subtree ttl: %w", err)
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE objects SET ttl_from = ?, ttl_effective = ?, expires_at = NULL WHERE bucket_id = ? AND path >= ? AND path < ? AND ttl_from = ?`),
		now.From, now.TTL, f.BucketID, lo, hi, old.From); err != nil {
		return fmt.Errorf("store: retune subtree: %w", err)
	}
	if _, ok := now.TTL.Duration(); !ok || now.From == "" {
		return nil
	}
	for _, r := range rows {
		o := &sesame.Object{ID: r.ID, Type: sesame.ObjectType(r.Type), Created: parseTime(r.Created), TTL: now}
		o.Expires = sesame.FileExpiry(o.Type, o.Created, now.TTL)
		if o.Expires.IsZero() {
			continue
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE objects SET expires_at = ? WHERE id = ?`), expiresColumn(o), o.ID); err != nil {
			return fmt.Errorf("store: retune expiry: %w", err)
		}
	}
	return nil
}

// reaper holds, for one write, the blobs of the expired files it deleted
// to free their names; they are removed once the write commits.
type reaper struct {
	keys []string
}

// reapName deletes the expired file, if any, that holds name in the
// folder parentID, so that a new or moved object may take the name of a
// file that is already invisible.
func (st *Store) reapName(ctx context.Context, tx *sqlx.Tx, r *reaper, bucketID, parentID, name string) error {
	cond, args := st.expiredSQL("", st.nowUTC())
	var rows []objectRow
	err := tx.SelectContext(ctx, &rows, tx.Rebind(`SELECT `+objectCols+` FROM objects WHERE bucket_id = ? AND parent_id = ? AND name = ? AND `+cond),
		append([]any{bucketID, parentID, name}, args...)...)
	if err != nil {
		return fmt.Errorf("store: expired name: %w", err)
	}
	keys, err := st.expireRows(ctx, tx, rows)
	r.keys = append(r.keys, keys...)
	return err
}

// reapSubtree deletes, as expired, the expired files whose paths lie in
// [lo, hi), and returns their blobs to remove once tx commits.
func (st *Store) reapSubtree(ctx context.Context, tx *sqlx.Tx, bucketID, lo, hi string) ([]string, error) {
	cond, args := st.expiredSQL("", st.nowUTC())
	var rows []objectRow
	err := tx.SelectContext(ctx, &rows, tx.Rebind(`SELECT `+objectCols+` FROM objects WHERE bucket_id = ? AND path >= ? AND path < ? AND `+cond),
		append([]any{bucketID, lo, hi}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("store: expired files below: %w", err)
	}
	return st.expireRows(ctx, tx, rows)
}

// removeBlobs removes what a committed write reaped.
func (st *Store) removeBlobs(ctx context.Context, keys []string) {
	for _, k := range keys {
		st.removeBlob(ctx, k)
	}
}

// expireRows deletes expired files in tx, takes them out of the links
// that share them (a link left with no target is deleted, as for any
// deleted file), and records an object.expire event for each that says
// which TTL ran out. It returns the blobs to remove once tx commits.
func (st *Store) expireRows(ctx context.Context, tx *sqlx.Tx, rows []objectRow) ([]string, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	ids := make([]string, len(rows))
	for i := range rows {
		ids[i] = rows[i].ID
	}
	q, args, err := sqlx.In(`SELECT t.object_id, t.link_id FROM link_targets t JOIN links l ON l.id = t.link_id
WHERE l.deleted_at IS NULL AND t.object_id IN (?) ORDER BY t.link_id`, ids)
	if err != nil {
		return nil, fmt.Errorf("store: links of expired files: %w", err)
	}
	var shared []struct {
		ObjectID string `db:"object_id"`
		LinkID   string `db:"link_id"`
	}
	if err := tx.SelectContext(ctx, &shared, tx.Rebind(q), args...); err != nil {
		return nil, fmt.Errorf("store: links of expired files: %w", err)
	}
	links := map[string][]string{}
	for _, s := range shared {
		links[s.ObjectID] = append(links[s.ObjectID], s.LinkID)
	}
	q, args, _ = sqlx.In(`id IN (?)`, ids)
	if err := st.unlinkObjects(ctx, tx, q, args...); err != nil {
		return nil, err
	}
	if _, err := execIn(ctx, tx, `DELETE FROM objects WHERE id IN (?)`, ids); err != nil {
		return nil, fmt.Errorf("store: delete expired files: %w", err)
	}
	now := st.nowUTC()
	var keys []string
	for i := range rows {
		o := rows[i].object(st.ttl)
		if o.BlobKey != "" {
			keys = append(keys, o.BlobKey)
		}
		ev := &sesame.AuditEvent{Time: now, Actor: "system", ActorType: sesame.ActorSystem, Action: sesame.ActionObjectExpire,
			ObjectID: o.ID, Outcome: "success", Detail: map[string]string{"reason": "file_ttl", "path": o.Path,
				"file_ttl": string(o.TTL.TTL), "file_ttl_from_id": o.TTL.From, "expires_at": sesame.FormatTime(o.Expires)}}
		if l := links[o.ID]; len(l) > 0 {
			ev.Detail["links"] = strings.Join(l, " ")
		}
		if err := st.publishObject(ctx, tx, sesame.EventObjectDeleted, o, map[string]any{"reason": "expired"}); err != nil {
			return nil, err
		}
		if err := st.appendAudit(ctx, tx, ev); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// ExpireFiles deletes the files whose TTL has run out, as of the store's
// clock, in batches: each leaves its links like any deleted file and is
// audited as object.expire. It returns how many went; those deleted
// before an error are counted. Expired files are hidden from every read
// already; this frees their rows, names and bytes. One replica at a time
// runs it.
func (st *Store) ExpireFiles(ctx context.Context) (int, error) {
	total := 0
	err := st.oneAtATime(ctx, "expire-files", func() error {
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			n, err := st.expireBatch(ctx)
			total += n
			if err != nil || n < purgeBatch {
				return err
			}
		}
	})
	return total, err
}

// expireBatch deletes up to purgeBatch expired files in one transaction.
func (st *Store) expireBatch(ctx context.Context) (int, error) {
	var keys []string
	n := 0
	err := st.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		keys, n = nil, 0
		var rows []objectRow
		for _, w := range st.expiredWays("", st.nowUTC()) {
			if len(rows) == purgeBatch {
				break
			}
			var some []objectRow
			err := tx.SelectContext(ctx, &some, tx.Rebind(`SELECT `+objectCols+` FROM objects WHERE type = 'file' AND `+w.cond+` LIMIT ?`),
				append(w.args, purgeBatch-len(rows))...)
			if err != nil {
				return fmt.Errorf("store: expired files: %w", err)
			}
			rows = appendNew(rows, some)
		}
		n = len(rows)
		var err error
		keys, err = st.expireRows(ctx, tx, rows)
		return err
	})
	if err != nil {
		return 0, err
	}
	st.removeBlobs(ctx, keys)
	return n, nil
}

// appendNew appends to rows those of more that it does not hold yet. The
// ways to expire are disjoint as sesame writes rows (expires_at is set
// only where ttl_from is not empty), but a row edited by hand must still be
// deleted and audited once.
func appendNew(rows, more []objectRow) []objectRow {
	seen := make(map[string]bool, len(rows))
	for i := range rows {
		seen[rows[i].ID] = true
	}
	for _, r := range more {
		if !seen[r.ID] {
			rows = append(rows, r)
		}
	}
	return rows
}
