//go:build unix

package store_test

import (
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/sesame-share/sesame"
)

// drawQueries draws r.runs random listings of each shape.
func (r *lbRun) drawQueries() {
	rng, gen, bucket := r.rng, r.gen, r.bucket
	window := lbWindowDays * 24 * time.Hour
	typeWindow := func() lbQuery {
		typ := string(lbTypes[rng.IntN(len(lbTypes))])
		fromT := r.start.Add(time.Duration(rng.Int64N(int64(lbEnd.Sub(r.start) - window)))).Truncate(time.Second)
		from, to := sesame.FormatTime(fromT), sesame.FormatTime(fromT.Add(window))
		return lbQuery{
			filter: sesame.LinkFilter{BucketID: bucket, Size: lbSize, Conds: []sesame.Cond{
				{Field: "link_type", Values: []string{typ}},
				{Field: "created_at", Op: sesame.OpGte, Values: []string{from}},
				{Field: "created_at", Op: sesame.OpLt, Values: []string{to}},
			}},
			where: []string{"link_type = ?", "created_at >= ?", "created_at < ?"},
			args:  []any{typ, from, to},
		}
	}
	r.shapes = []*lbShape{
		{key: "a", name: "target_id = random file"},
		{key: "b", name: "link_type = x, created_at in a 30-day range"},
		{key: "c", name: "tags all-of [one random tag]"},
		{key: "d", name: "no filter, created_at desc"},
		{key: "e", name: "second page of (b), by cursor"},
	}
	shapes := r.shapes
	for range r.runs {
		file := gen.files[rng.IntN(len(gen.files))]
		shapes[0].queries = append(shapes[0].queries, lbQuery{
			filter: sesame.LinkFilter{BucketID: bucket, Size: lbSize, Conds: []sesame.Cond{{Field: "target_id", Values: []string{file}}}},
			where:  []string{"id IN (SELECT link_id FROM link_targets WHERE object_id = ?)"},
			args:   []any{file},
		})
		shapes[1].queries = append(shapes[1].queries, typeWindow())
		tag := gen.tags[rng.IntN(len(gen.tags))]
		shapes[2].queries = append(shapes[2].queries, lbQuery{
			filter: sesame.LinkFilter{BucketID: bucket, Size: lbSize, Conds: []sesame.Cond{{Field: "tags", Op: sesame.OpAllTags, Values: []string{tag}}}},
			where:  []string{"id IN (SELECT link_id FROM link_tags WHERE tag = ?)"},
			args:   []any{tag},
		})
		shapes[3].queries = append(shapes[3].queries, lbQuery{filter: sesame.LinkFilter{BucketID: bucket, Size: lbSize, OrderBy: "created_at", Desc: true}, desc: true, counter: r.hasCounts})
		// (e): the cursor comes from the first page, fetched here untimed.
		q := typeWindow()
		first, err := r.st.FindLinks(r.ctx, q.filter)
		if err != nil {
			r.t.Fatal(err)
		}
		if first.Next == nil {
			continue // fewer than two pages in this window
		}
		q.filter.After = first.Next
		q.keyset = "(created_at > ? OR (created_at = ? AND id > ?))"
		q.keysetArgs = []any{first.Next.Value, first.Next.Value, first.Next.ID}
		shapes[4].queries = append(shapes[4].queries, q)
	}
}

// timeQueries times every query through FindLinks, then its statements
// alone on the second connection.
func (r *lbRun) timeQueries() {
	r.each(func(sh *lbShape, i int) { // warm-up, untimed
		if i < 10 {
			r.findOne(sh, i)
		}
	})
	r.loadBefore = lbLoadAvg()
	r.each(func(sh *lbShape, i int) {
		var srv0 lbSnapshot
		if r.server != nil {
			srv0 = r.server.snapshot()
		}
		c0 := lbCPU()
		d, page := r.findOne(sh, i)
		sh.cpu = append(sh.cpu, lbCPU()-c0)
		if r.server != nil {
			sh.srv = append(sh.srv, r.server.snapshot().since(srv0))
		}
		sh.total = append(sh.total, d)
		sh.counts = append(sh.counts, page.Count)
		sh.rows = append(sh.rows, len(page.Links))
	})
	r.each(func(sh *lbShape, i int) {
		q := &sh.queries[i]
		dc, _ := r.sqlOne(q.findCountSQL())
		dp, ids := r.sqlOne(q.pageSQL("links"))
		ids = ids[:min(len(ids), lbSize)]
		var dl time.Duration
		if len(ids) > 0 {
			stmts, args := r.loadSQL(ids)
			for j := range stmts {
				d, _ := r.sqlOne(stmts[j], args[j])
				dl += d
			}
		}
		sh.count = append(sh.count, dc)
		sh.page = append(sh.page, dp)
		sh.load = append(sh.load, dl)
		sh.rest = append(sh.rest, max(0, sh.total[i]-dc-dp-dl))
	})
	r.loadAfter = lbLoadAvg()
	for _, sh := range r.shapes {
		r.t.Logf("(%s) %s: p50 %s p95 %s p99 %s max %s ms", sh.key, sh.name, lbMs(lbPct(sh.total, 50)), lbMs(lbPct(sh.total, 95)), lbMs(lbPct(sh.total, 99)), lbMs(lbPct(sh.total, 100)))
	}
}

// each runs fn over query i of every shape, for i = 0, 1, ...: the
// shapes take turns, so that a burst of other work hits them alike.
func (r *lbRun) each(fn func(sh *lbShape, i int)) {
	for i := range r.runs {
		for _, sh := range r.shapes {
			if i < len(sh.queries) {
				fn(sh, i)
			}
		}
	}
}

// sqlOne runs one statement (? placeholders) on the second connection and
// returns its time and the id column of its rows, if it has one.
func (r *lbRun) sqlOne(sq string, sa []any) (time.Duration, []string) {
	t := r.t
	var ids []string
	s := time.Now()
	rows, err := r.raw.Queryx(r.raw.Rebind(sq), sa...)
	if err != nil {
		t.Fatalf("%s: %v", sq, err)
	}
	for rows.Next() {
		m := map[string]any{}
		if err := rows.MapScan(m); err != nil {
			t.Fatal(err)
		}
		switch v := m["id"].(type) {
		case string:
			ids = append(ids, v)
		case []byte:
			ids = append(ids, string(v))
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	return time.Since(s), ids
}

// findOne runs query i of sh through FindLinks. The first query of each
// shape is also checked against the SQL here (same count, same ids), so
// that a drift between the two shows.
func (r *lbRun) findOne(sh *lbShape, i int) (time.Duration, *sesame.LinkPage) {
	t := r.t
	q := &sh.queries[i]
	s := time.Now()
	page, err := r.st.FindLinks(r.ctx, q.filter)
	d := time.Since(s)
	if err != nil {
		t.Fatalf("(%s) FindLinks: %v", sh.key, err)
	}
	if i == 0 {
		var cnt int
		cq, ca := q.findCountSQL()
		if err := r.raw.Get(&cnt, r.raw.Rebind(cq), ca...); err != nil {
			t.Fatalf("(%s) count: %v", sh.key, err)
		}
		_, want := r.sqlOne(q.pageSQL("links"))
		want = want[:min(len(want), lbSize)]
		var got []string
		for _, l := range page.Links {
			got = append(got, l.ID)
		}
		if cnt != page.Count || !slices.Equal(want, got) {
			t.Errorf("(%s) the benchmark's SQL no longer matches FindLinks: count %d vs %d, ids equal %v", sh.key, cnt, page.Count, slices.Equal(want, got))
		}
	}
	return d, page
}

// timeSQL runs one statement per query of sh on the second connection.
func (r *lbRun) timeSQL(sh *lbShape, build func(q *lbQuery) (string, []any)) []time.Duration {
	var lat []time.Duration
	for i := range sh.queries {
		sq, sa := build(&sh.queries[i])
		d, _ := r.sqlOne(sq, sa)
		lat = append(lat, d)
	}
	return lat
}

// loadSQL is what loadLinks runs for a page of ids.
func (r *lbRun) loadSQL(ids []string) (stmts []string, args [][]any) {
	for _, q := range []string{
		"SELECT " + lbLinkCols + " FROM links WHERE id IN (?)",
		"SELECT link_id, object_id FROM link_targets WHERE link_id IN (?) ORDER BY link_id, position",
		"SELECT id, link_id, position, auth_type, context FROM link_authenticators WHERE link_id IN (?) ORDER BY link_id, position",
	} {
		sq, sa, err := sqlx.In(q, ids)
		if err != nil {
			r.t.Fatal(err)
		}
		stmts, args = append(stmts, sq), append(args, sa)
	}
	return stmts, args
}

func lbCount(q *lbQuery) (string, []any)     { return q.findCountSQL() }
func lbFullCount(q *lbQuery) (string, []any) { return q.countSQL("links") }
func lbPageStmt(q *lbQuery) (string, []any)  { return q.pageSQL("links") }
