package store

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/sesame-share/sesame"
)

// FindLinks implements sesame.LinkStore. A listing in the default order
// (created_at) filtered by a tag or one target reads link_index; any other
// listing reads links through the index of its order.
func (st *Store) FindLinks(ctx context.Context, f sesame.LinkFilter) (*sesame.LinkPage, error) {
	bucketID := st.bucketOrDefault(f.BucketID)
	if err := st.checkBucket(ctx, st.db, bucketID); err != nil {
		return nil, err
	}
	orderBy := f.OrderBy
	col, ok := linkColumns[orderBy]
	if !ok {
		orderBy, col = "created_at", "created_at"
	}
	term, conds := "", f.Conds
	if col == "created_at" {
		term, conds = indexTerm(f.Conds)
	}
	q, err := st.linkWhere(bucketID, conds)
	if err != nil {
		return nil, err
	}
	var sel string
	var args []any
	page := &sesame.LinkPage{}
	if term != "" {
		sel, args, err = st.indexedLinks(ctx, page, bucketID, term, q, len(conds) == 0, f)
	} else {
		sel, args, err = st.scannedLinks(ctx, page, bucketID, q, len(conds) == 0, orderBy, col, f)
	}
	if err != nil {
		return nil, err
	}
	size := f.Size
	if size <= 0 {
		size = 50
	}
	var rows []struct {
		linkRow
		Value string `db:"v"`
	}
	if err := st.db.SelectContext(ctx, &rows, st.db.Rebind(sel+` LIMIT ?`), append(args, size+1)...); err != nil {
		return nil, fmt.Errorf("store: find links: %w", err)
	}
	found := make([]*linkRow, 0, len(rows))
	for i := range rows {
		if i == size {
			last := &rows[size-1]
			page.Next = &sesame.Cursor{OrderBy: orderBy, Desc: f.Desc, Value: last.Value, ID: last.ID}
			break
		}
		found = append(found, &rows[i].linkRow)
	}
	if page.Links, err = st.linksFromRows(ctx, st.db, found); err != nil {
		return nil, err
	}
	return page, nil
}

// scannedLinks counts the links q selects into page and returns the page
// query, in the order of col and after the cursor, with its arguments.
func (st *Store) scannedLinks(ctx context.Context, page *sesame.LinkPage, bucketID string, q *query, unfiltered bool, orderBy, col string, f sesame.LinkFilter) (string, []any, error) {
	var err error
	if page.Count, err = st.countLinks(ctx, bucketID, q, unfiltered); err != nil {
		return "", nil, err
	}
	order, _, err := q.page(orderBy, col, col == "access_count" || col == "max_access_count", f.Desc, f.After, f.Size)
	if err != nil {
		return "", nil, err
	}
	return `SELECT ` + linkCols + `, CAST(` + col + ` AS TEXT) AS v FROM links` + q.sql() + order, q.args, nil
}

// indexedLinks counts the links of term that q also selects into page and
// returns the page query, which reads link_index in created_at order after
// the cursor, with its arguments; the count joins links only when q has
// conditions of its own.
func (st *Store) indexedLinks(ctx context.Context, page *sesame.LinkPage, bucketID, term string, q *query, alone bool, f sesame.LinkFilter) (string, []any, error) {
	join := ` FROM link_index JOIN links ON links.id = link_index.link_id`
	from := ` FROM link_index`
	if !alone {
		from = join
	}
	idx := &query{d: q.d}
	idx.add("link_index.bucket = ?", bucketID)
	idx.add("link_index.term = ?", term)
	if !alone {
		idx.where, idx.args = append(idx.where, q.where...), append(idx.args, q.args...)
	}
	if err := st.db.GetContext(ctx, &page.Count, st.db.Rebind(`SELECT COUNT(*)`+from+idx.sql()), idx.args...); err != nil {
		return "", nil, fmt.Errorf("store: count links: %w", err)
	}
	dir, op := "ASC", ">"
	if f.Desc {
		dir, op = "DESC", "<"
	}
	if f.After != nil {
		if err := checkCursor(f.After, "created_at", f.Desc); err != nil {
			return "", nil, err
		}
		idx.add("(link_index.link_created, link_index.link_id) "+op+" (?, ?)", f.After.Value, f.After.ID)
	}
	return `SELECT ` + linkCols + `, link_index.link_created AS v` + join + idx.sql() +
		` ORDER BY link_index.link_created ` + dir + `, link_index.link_id ` + dir, idx.args, nil
}

// indexTerm picks the condition that link_index can serve, the first tag
// or an equality on target_id, and returns its term and the other
// conditions.
func indexTerm(conds []sesame.Cond) (string, []sesame.Cond) {
	for i, c := range conds {
		var term string
		var rest *sesame.Cond
		switch {
		case c.Field == "tags" && len(c.Values) > 0:
			term = "tag:" + c.Values[0]
			if len(c.Values) > 1 {
				rest = &sesame.Cond{Field: c.Field, Op: c.Op, Values: c.Values[1:]}
			}
		case c.Field == "target_id" && (c.Op == sesame.OpEq || c.Op == sesame.OpIn) && len(c.Values) == 1:
			term = "target:" + c.Values[0]
		default:
			continue
		}
		others := append(append([]sesame.Cond{}, conds[:i]...), conds[i+1:]...)
		if rest != nil {
			others = append(others, *rest)
		}
		return term, others
	}
	return "", conds
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
