package store

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/sesame-share/sesame"
)

// ArchiveEntries implements sesame.ObjectReader.
func (st *Store) ArchiveEntries(ctx context.Context, bucketID string, ids []string) ([]sesame.ArchiveEntry, error) {
	bucketID = st.bucketOrDefault(bucketID)
	var out []sesame.ArchiveEntry
	seen := map[string]bool{}
	top := map[string]int{}
	for i, id := range ids {
		o, err := st.objectByID(ctx, st.db, bucketID, id)
		if sesame.KindOf(err) == sesame.NotFound {
			return nil, notFound("object", fmt.Sprintf("/ids/%d", i), id)
		}
		if err != nil {
			return nil, err
		}
		if seen[o.ID] {
			continue
		}
		name := uniqueName(top, o.Name)
		if !o.IsFolder() {
			seen[o.ID] = true
			out = append(out, sesame.ArchiveEntry{Object: o, Name: name})
			continue
		}
		seen[o.ID] = true
		out = append(out, sesame.ArchiveEntry{Object: o, Name: name + "/"})
		lo, hi := subtree(o.Path)
		live, largs := st.liveSQL("")
		var rows []objectRow
		if err := st.db.SelectContext(ctx, &rows, st.db.Rebind(`SELECT `+objectCols+` FROM objects WHERE bucket_id = ? AND path >= ? AND path < ? AND `+live+` ORDER BY path`),
			append([]any{bucketID, lo, hi}, largs...)...); err != nil {
			return nil, fmt.Errorf("store: archive subtree: %w", err)
		}
		for i := range rows {
			d := rows[i].object(st.ttl)
			if seen[d.ID] {
				continue
			}
			seen[d.ID] = true
			rel := name + strings.TrimPrefix(d.Path, o.Path)
			if d.IsFolder() {
				rel += "/"
			}
			out = append(out, sesame.ArchiveEntry{Object: d, Name: rel})
		}
	}
	return out, nil
}

// TallyFolder implements sesame.ObjectReader.
func (st *Store) TallyFolder(ctx context.Context, f *sesame.Object) (sesame.Tally, error) {
	var t struct {
		Files int   `db:"n"`
		Bytes int64 `db:"bytes"`
	}
	lo, hi := subtree(f.Path)
	live, largs := st.liveSQL("")
	err := st.db.GetContext(ctx, &t, st.db.Rebind(`SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes FROM objects
WHERE bucket_id = ? AND path >= ? AND path < ? AND type = ? AND `+live), append([]any{f.BucketID, lo, hi, sesame.TypeFile}, largs...)...)
	if err != nil {
		return sesame.Tally{}, fmt.Errorf("store: tally folder: %w", err)
	}
	return sesame.Tally{Files: t.Files, Bytes: t.Bytes}, nil
}

// uniqueName gives two top-level members with one name distinct names:
// "a.txt", then "a (1).txt".
func uniqueName(used map[string]int, name string) string {
	n, ok := used[name]
	used[name] = n + 1
	if !ok {
		return name
	}
	ext := path.Ext(name)
	for {
		cand := fmt.Sprintf("%s (%d)%s", strings.TrimSuffix(name, ext), n, ext)
		if _, taken := used[cand]; !taken {
			used[cand] = 1
			return cand
		}
		n++
	}
}

// objectColumns maps filter and order fields to columns.
var objectColumns = map[string]string{
	"id": "id", "name": "name", "parent_id": "parent_id", "type": "type", "path": "path",
	"size": "size", "created_at": "created_at", "updated_at": "updated_at",
}

// FindObjects implements sesame.ObjectReader.
func (st *Store) FindObjects(ctx context.Context, f sesame.ObjectFilter) (*sesame.ObjectPage, error) {
	bucketID := st.bucketOrDefault(f.BucketID)
	if err := st.checkBucket(ctx, st.db, bucketID); err != nil {
		return nil, err
	}
	q := st.newQuery()
	q.add("bucket_id = ?", bucketID)
	live, largs := st.liveSQL("")
	q.add(live, largs...)
	if f.Within != "" && f.Within != sesame.RootFolderPath {
		lo, hi := subtree(f.Within)
		q.add("path >= ? AND path < ?", lo, hi)
	}
	for _, c := range f.Conds {
		switch ft := sesame.ObjectFields[c.Field]; ft {
		case sesame.FieldTags:
			for _, t := range c.Values {
				q.add(q.d.tagMatch, t)
			}
		case sesame.FieldPath:
			segs, err := sesame.SplitPath("/filter/folder", c.Values[0])
			if err != nil {
				return nil, err
			}
			if len(segs) == 0 {
				q.add("parent_id = ''")
				continue
			}
			q.add("parent_id = (SELECT id FROM objects AS f WHERE f.bucket_id = objects.bucket_id AND f.path = ? AND f.type = 'folder')", "/"+strings.Join(segs, "/"))
		default:
			col, ok := objectColumns[c.Field]
			if !ok {
				return nil, fmt.Errorf("store: unknown object filter field %q", c.Field)
			}
			if err := q.addCond(col, ft, c); err != nil {
				return nil, err
			}
		}
	}
	page := &sesame.ObjectPage{}
	if err := st.db.GetContext(ctx, &page.Count, st.db.Rebind(`SELECT COUNT(*) FROM objects`+q.sql()), q.args...); err != nil {
		return nil, fmt.Errorf("store: count objects: %w", err)
	}
	orderBy := f.OrderBy
	col, ok := objectColumns[orderBy]
	if !ok || orderBy == "path" {
		orderBy, col = "created_at", "created_at"
	}
	order, size, err := q.page(orderBy, col, col == "size", f.Desc, f.After, f.Size)
	if err != nil {
		return nil, err
	}
	var rows []objectRow
	if err := st.db.SelectContext(ctx, &rows, st.db.Rebind(`SELECT `+objectCols+` FROM objects`+q.sql()+order+` LIMIT ?`), append(q.args, size+1)...); err != nil {
		return nil, fmt.Errorf("store: find objects: %w", err)
	}
	for i := range rows {
		if i == size {
			last := page.Objects[size-1]
			page.Next = &sesame.Cursor{OrderBy: orderBy, Desc: f.Desc, Value: orderValue(last, orderBy), ID: last.ID}
			break
		}
		page.Objects = append(page.Objects, rows[i].object(st.ttl))
	}
	return page, attachLinks(ctx, st.db, page.Objects...)
}

func orderValue(o *sesame.Object, field string) string {
	switch field {
	case "id":
		return o.ID
	case "name":
		return o.Name
	case "parent_id":
		return o.ParentID
	case "type":
		return string(o.Type)
	case "size":
		return fmt.Sprint(o.Size)
	case "updated_at":
		return sesame.FormatTime(o.Updated)
	}
	return sesame.FormatTime(o.Created)
}
