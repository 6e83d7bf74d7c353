package store

import (
	"context"
	"database/sql"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"github.com/sesame-share/sesame"
)

// UpdateObject implements sesame.ObjectWriter.
func (st *Store) UpdateObject(ctx context.Context, id string, upd sesame.ObjectUpdate) (*sesame.Object, error) {
	bucketID := st.bucketOrDefault(upd.BucketID)
	var out *sesame.Object
	var rp reaper
	newKey := "" // the blob a reseal committed
	err := st.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		rp = reaper{}
		o, err := st.objectToChange(ctx, tx, bucketID, id)
		if err != nil {
			return err
		}
		if upd.UpdatedAt != nil && !upd.UpdatedAt.Equal(o.Updated) {
			e := sesame.FieldErr("BadState", "/updated_at", "the object was changed at %s; reload it and try again", sesame.FormatTime(o.Updated))
			return e.WithKind(sesame.Conflict)
		}
		if upd.Reseal != nil {
			if newKey, err = st.swapBlob(ctx, tx, o, upd.Reseal); err != nil {
				return err
			}
		}
		oldPath, oldParent, oldTTL := o.Path, o.ParentID, st.ttl.raw(o.TTL)
		dir, err := st.newParent(ctx, tx, &rp, bucketID, o, upd)
		if err != nil {
			return err
		}
		if err := st.relocate(ctx, tx, &rp, o, dir, upd); err != nil {
			return err
		}
		applyMetadata(o, upd)
		applyTags(o, upd)
		prev := o.Updated
		o.Updated = st.nowUTC()
		if !o.Updated.After(prev) {
			// updated_at is the optimistic lock, so every update must move it.
			o.Updated = prev.Add(time.Microsecond)
		}
		_, err = tx.ExecContext(ctx, tx.Rebind(`UPDATE objects SET parent_id = ?, name = ?, path = ?, metadata = ?, tags = ?, updated_at = ? WHERE id = ?`),
			o.ParentID, o.Name, o.Path, encodeJSON(o.Metadata, o.Metadata != nil), encodeJSON(o.Tags, o.Tags != nil), sesame.FormatTime(o.Updated), o.ID)
		if sesame.KindOf(translate(err)) == sesame.Conflict {
			return nameTaken("/name", o.Name, dir.path)
		}
		if err != nil {
			return fmt.Errorf("store: update object: %w", err)
		}
		if o.IsFolder() && o.Path != oldPath {
			if err := moveSubtree(ctx, tx, bucketID, oldPath, o.Path); err != nil {
				return err
			}
		}
		if moved := dir.id != oldParent; moved || upd.FileTTL != "" {
			// Only a move or a new TTL can change the TTL in force.
			if !moved {
				if dir.ttl, err = parentTTL(ctx, tx, o.ParentID); err != nil {
					return err
				}
			}
			if err := st.updateTTL(ctx, tx, o, oldTTL, dir.ttl, upd.FileTTL); err != nil {
				return err
			}
		}
		if err := st.noteChange(ctx, tx, "", o.ID); err != nil {
			return err
		}
		out = o
		return attachLinks(ctx, tx, o)
	})
	st.settleSwap(ctx, upd.Reseal, newKey, err)
	if err == nil {
		st.removeBlobs(ctx, rp.keys)
	} else {
		out = nil
	}
	return out, err
}

// updateTTL gives o, changed or moved under a folder whose children
// inherit parent, its own TTL (own, or what it had when own is ""), and
// passes a change of the TTL in force to what inherits it below.
func (st *Store) updateTTL(ctx context.Context, tx *sqlx.Tx, o *sesame.Object, old, parent sesame.TTLSource, own sesame.FileTTL) error {
	if own == "" {
		own = o.FileTTL
	}
	inherit(o, own, parent)
	if err := setTTL(ctx, tx, o); err != nil {
		return err
	}
	if err := retune(ctx, tx, o, old, o.TTL); err != nil {
		return err
	}
	st.ttl.report(o)
	return nil
}

// relocate gives o the folder dir and the name upd sets. A folder that
// moves or takes a new TTL first loses the files below it that have
// expired: what has expired stays expired, whatever TTL it would get now.
// An expired file holding the new name goes too.
func (st *Store) relocate(ctx context.Context, tx *sqlx.Tx, rp *reaper, o *sesame.Object, dir parentDir, upd sesame.ObjectUpdate) error {
	if o.IsFolder() && (dir.id != o.ParentID || upd.FileTTL != "") {
		lo, hi := subtree(o.Path)
		keys, err := st.reapSubtree(ctx, tx, o.BucketID, lo, hi)
		rp.keys = append(rp.keys, keys...)
		if err != nil {
			return err
		}
	}
	name := o.Name
	if upd.Name != nil {
		if err := sesame.CheckName("/name", *upd.Name); err != nil {
			return err
		}
		name = *upd.Name
	}
	if dir.id != o.ParentID || name != o.Name {
		if err := st.reapName(ctx, tx, rp, o.BucketID, dir.id, name); err != nil {
			return err
		}
	}
	o.ParentID, o.Name, o.Path = dir.id, name, path.Join(dir.path, name)
	if len([]rune(o.Path)) > sesame.MaxPathLen {
		return sesame.FieldErr("AboveMaxLength", "/name", "the full path must be at most %d characters", sesame.MaxPathLen)
	}
	return nil
}

func applyMetadata(o *sesame.Object, upd sesame.ObjectUpdate) {
	if upd.SetMetadata {
		o.Metadata = copyMap(upd.Metadata)
	}
	if len(upd.AddMetadata) > 0 {
		if o.Metadata == nil {
			o.Metadata = map[string]string{}
		}
		for k, v := range upd.AddMetadata {
			o.Metadata[k] = v
		}
	}
	for k, v := range upd.RemoveMetadata {
		if cur, ok := o.Metadata[k]; ok && cur == v {
			delete(o.Metadata, k)
		}
	}
}

// copyMap copies m, so that later edits never reach the caller's map.
func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func applyTags(o *sesame.Object, upd sesame.ObjectUpdate) {
	if upd.SetTags {
		o.Tags = dedupe(upd.Tags)
	}
	for _, t := range upd.AddTags {
		if o.Tags == nil {
			o.Tags = []string{}
		}
		if !slices.Contains(o.Tags, t) {
			o.Tags = append(o.Tags, t)
		}
	}
	if len(upd.RemoveTags) > 0 && o.Tags != nil {
		o.Tags = slices.DeleteFunc(o.Tags, func(t string) bool { return slices.Contains(upd.RemoveTags, t) })
	}
}

func dedupe(tags []string) []string {
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// subtree returns the bounds of the paths strictly below p, for an index
// range scan: every descendant's path starts with p+"/", and '0' is the
// byte after '/'.
func subtree(p string) (string, string) {
	return p + "/", p + "0"
}

// DeleteObject implements sesame.ObjectWriter.
func (st *Store) DeleteObject(ctx context.Context, bucketID, id string, force bool) (int, error) {
	bucketID = st.bucketOrDefault(bucketID)
	var keys []string
	count := 0
	err := st.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		o, err := st.objectToChange(ctx, tx, bucketID, id)
		if err != nil {
			return err
		}
		keys = keys[:0]
		if o.BlobKey != "" {
			keys = append(keys, o.BlobKey)
		}
		count = 1
		if o.IsFolder() {
			lo, hi := subtree(o.Path)
			// Expired files below go as expired, not as part of this delete.
			reaped, err := st.reapSubtree(ctx, tx, bucketID, lo, hi)
			if err != nil {
				return err
			}
			keys = append(keys, reaped...)
			var below []string
			if err := tx.SelectContext(ctx, &below, tx.Rebind(`SELECT blob_key FROM objects WHERE bucket_id = ? AND path >= ? AND path < ?`), bucketID, lo, hi); err != nil {
				return fmt.Errorf("store: list subtree: %w", err)
			}
			if len(below) > 0 && !force {
				e := sesame.FieldErr("BadState", "/force", "the folder %s holds %d objects; set force to delete them too", o.Path, len(below))
				return e.WithKind(sesame.Conflict)
			}
			for _, k := range below {
				if k != "" {
					keys = append(keys, k)
				}
			}
			count += len(below)
			if err := st.unlinkObjects(ctx, tx, `bucket_id = ? AND path >= ? AND path < ?`, bucketID, lo, hi); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM objects WHERE bucket_id = ? AND path >= ? AND path < ?`), bucketID, lo, hi); err != nil {
				return fmt.Errorf("store: delete subtree: %w", err)
			}
		}
		if err := st.unlinkObjects(ctx, tx, `id = ?`, o.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM objects WHERE id = ?`), o.ID); err != nil {
			return fmt.Errorf("store: delete object: %w", err)
		}
		if err := st.noteChange(ctx, tx, "", o.ID); err != nil {
			return err
		}
		return st.publishObject(ctx, tx, sesame.EventObjectDeleted, o, map[string]any{"count": count})
	})
	if err != nil {
		return 0, err
	}
	// Blobs go after the rows: an open download keeps reading its file,
	// and a crash in between leaves orphans that the next start sweeps.
	for _, k := range keys {
		st.removeBlob(ctx, k)
	}
	return count, nil
}

// newParent returns the parent and folder an update moves o to (its own
// when the update does not move it).
func (st *Store) newParent(ctx context.Context, tx *sqlx.Tx, rp *reaper, bucketID string, o *sesame.Object, upd sesame.ObjectUpdate) (parentDir, error) {
	if upd.ParentID == nil && upd.ParentPath == nil {
		return parentDir{id: o.ParentID, path: path.Dir(o.Path)}, nil // ttl unread: unmoved
	}
	p := sesame.Placement{}
	if upd.ParentID != nil {
		p.HasParentID, p.ParentID = true, *upd.ParentID
	}
	if upd.ParentPath != nil {
		p.HasParentPath, p.ParentPath, p.ParentSource = true, *upd.ParentPath, "/folder"
	}
	dir, err := st.resolveParent(ctx, tx, rp, bucketID, p)
	if err != nil {
		return dir, err
	}
	if o.IsFolder() && (dir.path == o.Path || strings.HasPrefix(dir.path, o.Path+"/")) {
		src := "/parent_id"
		if upd.ParentID == nil {
			src = "/folder"
		}
		return dir, sesame.FieldErr("BadState", src, "a folder cannot be moved into itself")
	}
	return dir, nil
}

// moveSubtree gives the descendants of a moved or renamed folder their new
// paths; they keep their place in the tree. SQLite's length and substr
// count characters, not bytes.
func moveSubtree(ctx context.Context, tx *sqlx.Tx, bucketID, oldPath, newPath string) error {
	lo, hi := subtree(oldPath)
	oldLen, newLen := utf8.RuneCountInString(oldPath), utf8.RuneCountInString(newPath)
	var longest sql.NullInt64
	if err := tx.GetContext(ctx, &longest, tx.Rebind(`SELECT MAX(length(path)) FROM objects WHERE bucket_id = ? AND path >= ? AND path < ?`), bucketID, lo, hi); err != nil {
		return fmt.Errorf("store: subtree paths: %w", err)
	}
	if longest.Valid && int(longest.Int64)-oldLen+newLen > sesame.MaxPathLen {
		return sesame.FieldErr("AboveMaxLength", "/name", "the move would give an object inside the folder a path longer than %d characters", sesame.MaxPathLen)
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE objects SET path = ? || substr(path, ?) WHERE bucket_id = ? AND path >= ? AND path < ?`),
		newPath, oldLen+1, bucketID, lo, hi); err != nil {
		return fmt.Errorf("store: move subtree: %w", err)
	}
	return nil
}

// objectToChange loads the object a change names; NotFound points at /id.
func (st *Store) objectToChange(ctx context.Context, tx *sqlx.Tx, bucketID, id string) (*sesame.Object, error) {
	o, err := st.objectByID(ctx, tx, bucketID, id)
	if sesame.KindOf(err) == sesame.NotFound {
		return nil, notFound("object", "/id", id)
	}
	return o, err
}
