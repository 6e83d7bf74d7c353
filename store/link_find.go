package store

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/sesame-share/sesame"
)

// FindLinks implements sesame.LinkStore.
func (st *Store) FindLinks(ctx context.Context, f sesame.LinkFilter) (*sesame.LinkPage, error) {
	bucketID := st.bucketOrDefault(f.BucketID)
	if err := st.checkBucket(ctx, st.db, bucketID); err != nil {
		return nil, err
	}
	q, err := st.linkWhere(bucketID, f.Conds)
	if err != nil {
		return nil, err
	}
	page := &sesame.LinkPage{}
	if page.Count, err = st.countLinks(ctx, bucketID, q, len(f.Conds) == 0); err != nil {
		return nil, err
	}
	orderBy := f.OrderBy
	col, ok := linkColumns[orderBy]
	if !ok {
		orderBy, col = "created_at", "created_at"
	}
	order, size, err := q.page(orderBy, col, col == "access_count" || col == "max_access_count", f.Desc, f.After, f.Size)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		ID    string `db:"id"`
		Value string `db:"v"`
	}
	sel := `SELECT id, CAST(` + col + ` AS TEXT) AS v FROM links`
	if err := st.db.SelectContext(ctx, &rows, st.db.Rebind(sel+q.sql()+order+` LIMIT ?`), append(q.args, size+1)...); err != nil {
		return nil, fmt.Errorf("store: find links: %w", err)
	}
	ids := make([]string, 0, len(rows))
	for i, r := range rows {
		if i == size {
			last := rows[size-1]
			page.Next = &sesame.Cursor{OrderBy: orderBy, Desc: f.Desc, Value: last.Value, ID: last.ID}
			break
		}
		ids = append(ids, r.ID)
	}
	if page.Links, err = st.loadLinks(ctx, st.db, ids, false); err != nil {
		return nil, err
	}
	return page, nil
}

// countLinks counts the links q selects; an unfiltered count comes from
// the counter the triggers keep.
func (st *Store) countLinks(ctx context.Context, bucketID string, q *query, unfiltered bool) (int, error) {
	var n int
	var err error
	if unfiltered {
		err = st.db.GetContext(ctx, &n, st.db.Rebind(`SELECT COALESCE((SELECT live FROM link_counts WHERE bucket_id = ?), 0)`), bucketID)
	} else {
		err = st.db.GetContext(ctx, &n, st.db.Rebind(`SELECT COUNT(*) FROM links`+q.sql()), q.args...)
	}
	if err != nil {
		return 0, fmt.Errorf("store: count links: %w", err)
	}
	return n, nil
}

// linkWhere turns a filter into the WHERE clause of a link listing.
func (st *Store) linkWhere(bucketID string, conds []sesame.Cond) (*query, error) {
	q := st.newQuery()
	q.add("bucket_id = ?", bucketID)
	q.add("deleted_at IS NULL")
	for _, c := range conds {
		var err error
		switch c.Field {
		case "tags":
			for _, t := range c.Values {
				q.add("id IN (SELECT link_id FROM link_tags WHERE tag = ?)", t)
			}
		case "target_id":
			err = targetCond(q, c)
		case "link":
			err = st.linkCond(q, c)
		default:
			col, ok := linkColumns[c.Field]
			if !ok {
				return nil, fmt.Errorf("store: unknown link filter field %q", c.Field)
			}
			err = q.addCond(col, sesame.LinkFields[c.Field], c)
		}
		if err != nil {
			return nil, err
		}
	}
	return q, nil
}

func targetCond(q *query, c sesame.Cond) error {
	if c.Op == sesame.OpContains {
		for _, v := range c.Values {
			q.add(`EXISTS (SELECT 1 FROM link_targets t WHERE t.link_id = links.id AND t.object_id `+q.d.like+` ? ESCAPE '\')`, "%"+likeEscaper.Replace(v)+"%")
		}
		return nil
	}
	sub := &query{d: q.d}
	if err := sub.addCond("object_id", sesame.FieldString, c); err != nil {
		return err
	}
	q.add("id IN (SELECT link_id FROM link_targets WHERE "+strings.Join(sub.where, " AND ")+")", sub.args...)
	return nil
}

// linkCond selects links by their whole URLs, through the token MACs.
func (st *Store) linkCond(q *query, c sesame.Cond) error {
	if c.Op == sesame.OpContains {
		return sesame.FieldErr("UnexpectedProperty", "/filter/link__contains", "link__contains is not supported because link secrets are stored sealed; use link or link__in with whole URLs")
	}
	macs := make([]any, len(c.Values))
	marks := make([]string, len(c.Values))
	for i, v := range c.Values {
		macs[i], marks[i] = st.mac("link token", linkToken(v)), "?"
	}
	q.add("token_mac IN ("+strings.Join(marks, ", ")+")", macs...)
	return nil
}

// linkToken extracts the secret from a link URL (".../s/<token>").
func linkToken(s string) string {
	if u, err := url.Parse(s); err == nil && u.Path != "" {
		s = u.Path
	}
	i := strings.LastIndex(s, "/s/")
	if i < 0 {
		return s
	}
	return strings.Trim(s[i+3:], "/")
}
