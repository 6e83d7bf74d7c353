//go:build unix

package store_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/store"
)

// lbSQLiteExtras is what only the SQLite run measures.
type lbSQLiteExtras struct {
	stats        []string // sqlite_stat1 rows of the listing's indexes
	reopened     map[*lbShape][]time.Duration
	plans        string
	exps         []lbExp
	expPlans     string
	indexTime    time.Duration
	noStats      map[*lbShape][]time.Duration
	noStatsPlans string
}

// lbExp is one experiment: the same queries with one statement changed.
type lbExp struct {
	shape, what string
	before, lat []time.Duration
}

// openSQLite opens the store on SQLite in a throw-away data directory, or
// in SESAME_BENCH_LINKS_DB, which keeps the build for the next run with
// the same size and seed.
func (r *lbRun) openSQLite() {
	t := r.t
	r.sqlite = &lbSQLiteExtras{}
	if keep := os.Getenv("SESAME_BENCH_LINKS_DB"); keep != "" {
		r.dir = keep
		if err := os.MkdirAll(r.dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(filepath.Join(r.dir, lbMetaFile)); err == nil {
			if err := json.Unmarshal(b, &r.meta); err != nil {
				t.Fatalf("%s: %v", lbMetaFile, err)
			}
			if r.meta.Links != r.n || r.meta.Seed != r.seed {
				t.Fatalf("%s holds a build of %d links with seed %d, not %d with seed %d; remove it or name another directory", r.dir, r.meta.Links, r.meta.Seed, r.n, r.seed)
			}
			r.reused = true
		} else if entries, _ := os.ReadDir(r.dir); len(entries) > 0 {
			t.Fatalf("%s is not empty and holds no finished build (%s); remove it or name another directory", r.dir, lbMetaFile)
		}
	} else {
		r.dir = r.dataDir()
	}
	r.cfg = store.Config{DataDir: r.dir, Now: r.clk.Now, Logger: lbDiscard()}
	r.openStore()
	t.Cleanup(func() { r.st.Close() })
	raw, err := sqlx.Open("sqlite3", store.DSN(filepath.Join(r.dir, "sesame.db")))
	if err != nil {
		t.Fatal(err)
	}
	raw.SetMaxOpenConns(1)
	r.raw = raw
	t.Cleanup(func() { raw.Close() })
}

// undoSQLite puts a kept build back as it was built: no experiment
// tables, none of the links the create runs added.
func (r *lbRun) undoSQLite() {
	end := sesame.FormatTime(lbEnd)
	for _, q := range []string{
		"DROP TABLE IF EXISTS bench_target_index",
		"DROP TABLE IF EXISTS bench_tag_index",
		"DELETE FROM link_targets WHERE link_id IN (SELECT id FROM links WHERE created_at >= ?)",
		"DELETE FROM link_tags WHERE link_id IN (SELECT id FROM links WHERE created_at >= ?)",
		"DELETE FROM link_authenticators WHERE link_id IN (SELECT id FROM links WHERE created_at >= ?)",
		"DELETE FROM links WHERE created_at >= ?",
		// Deleting rows outright fires none of link_counts' triggers.
		"UPDATE link_counts SET live = (SELECT COUNT(*) FROM links WHERE links.bucket_id = link_counts.bucket_id AND deleted_at IS NULL)",
	} {
		var args []any
		if strings.Contains(q, "?") {
			args = []any{end}
		}
		if _, err := r.raw.Exec(q, args...); err != nil {
			r.t.Fatalf("%s: %v", q, err)
		}
	}
}

// keptTargets reads the targets of a kept build, in the order of their
// names.
func (r *lbRun) keptTargets() {
	t, gen := r.t, r.gen
	if err := r.raw.Select(&gen.files, `SELECT id FROM objects WHERE type = 'file' AND path LIKE '/targets/%' ORDER BY path`); err != nil {
		t.Fatal(err)
	}
	if err := r.raw.Select(&gen.folders, `SELECT id FROM objects WHERE type = 'folder' AND path LIKE '/inbox/%' ORDER BY path`); err != nil {
		t.Fatal(err)
	}
	if len(gen.files) != lbFiles || len(gen.folders) != lbFolders {
		t.Fatalf("the kept build in %s has %d files and %d folders, not %d and %d", r.dir, len(gen.files), len(gen.folders), lbFiles, lbFolders)
	}
}

// sqliteStats reads the planner's statistics of the listing's indexes.
func (r *lbRun) sqliteStats() {
	t := r.t
	var stats []struct {
		Idx  string `db:"idx"`
		Stat string `db:"stat"`
	}
	if err := r.raw.Select(&stats, `SELECT idx, stat FROM sqlite_stat1 WHERE idx IN ('links_created', 'links_type_created', 'link_targets_object', 'link_tags_tag') ORDER BY idx`); err != nil {
		t.Fatal(err)
	}
	for _, s := range stats {
		r.sqlite.stats = append(r.sqlite.stats, fmt.Sprintf("%s `%s`", s.Idx, s.Stat))
	}
	if err := r.raw.Get(&r.hasCounts, `SELECT COUNT(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = 'link_counts'`); err != nil {
		t.Fatal(err)
	}
}

// lbPlan renders EXPLAIN QUERY PLAN output as an indented tree.
func lbPlan(t *testing.T, db *sqlx.DB, q string, args ...any) string {
	t.Helper()
	var rows []struct {
		ID      int    `db:"id"`
		Parent  int    `db:"parent"`
		NotUsed int    `db:"notused"`
		Detail  string `db:"detail"`
	}
	if err := db.Select(&rows, "EXPLAIN QUERY PLAN "+q, args...); err != nil {
		t.Fatalf("explain %s: %v", q, err)
	}
	depth := map[int]int{0: -1}
	var b strings.Builder
	for _, r := range rows {
		d := depth[r.Parent] + 1
		depth[r.ID] = d
		b.WriteString(strings.Repeat("  ", d) + r.Detail + "\n")
	}
	return b.String()
}

// explainOn is the plan of the first query of sh, as built by build.
func (r *lbRun) explainOn(db *sqlx.DB, sh *lbShape, label string, build func(q *lbQuery) (string, []any)) string {
	if len(sh.queries) == 0 {
		return ""
	}
	sq, sa := build(&sh.queries[0])
	return fmt.Sprintf("%s\n%s\n%s", label, sq, lbPlan(r.t, db, sq, sa...))
}

// sqliteExtras measures what only SQLite has: the store reopened (its
// connections load the statistics), the plans, a few alternatives, and
// the queries without statistics.
func (r *lbRun) sqliteExtras() {
	t, x := r.t, r.sqlite
	// The store's read connections load the planner's statistics when they
	// open (or when the schema changes); ANALYZE rewriting existing
	// sqlite_stat1 rows does not change the schema. Reopening the store
	// (a server restart) gives connections that read the current ones.
	if err := r.st.Close(); err != nil {
		t.Fatal(err)
	}
	r.openStore()
	x.reopened = map[*lbShape][]time.Duration{}
	r.each(func(sh *lbShape, i int) {
		d, _ := r.findOne(sh, i)
		x.reopened[sh] = append(x.reopened[sh], d)
	})

	var plans strings.Builder
	for _, sh := range r.shapes {
		fmt.Fprintf(&plans, "(%s) %s\n\n", sh.key, sh.name)
		plans.WriteString(r.explainOn(r.raw, sh, "-- count", lbCount) + "\n")
		plans.WriteString(r.explainOn(r.raw, sh, "-- page", lbPageStmt) + "\n")
	}
	// loadLinks, the same for every shape: three lookups by 100 ids.
	ids := make([]any, lbSize)
	marks := make([]string, lbSize)
	for i := range ids {
		ids[i], marks[i] = sesame.NewID(sesame.PrefixLink), "?"
	}
	in := strings.Join(marks, ", ")
	plans.WriteString("(loadLinks, every shape: three lookups by the page's ids)\n\n")
	for _, q := range []string{
		"SELECT <linkCols> FROM links WHERE id IN (<100 ids>)",
		"SELECT link_id, object_id FROM link_targets WHERE link_id IN (<100 ids>) ORDER BY link_id, position",
		"SELECT id, link_id, position, auth_type, context FROM link_authenticators WHERE link_id IN (<100 ids>) ORDER BY link_id, position",
	} {
		sqlText := strings.ReplaceAll(strings.ReplaceAll(q, "<linkCols>", "*"), "<100 ids>", in)
		plans.WriteString(q + "\n" + lbPlan(t, r.raw, sqlText, ids...))
	}
	x.plans = plans.String()

	r.sqliteExperiments()
	r.sqliteIndexTables()
	r.sqliteNoStats()
}

// sqliteExperiments times changes one could make, on this database with
// the same queries; the code under test is not changed.
func (r *lbRun) sqliteExperiments() {
	t, x := r.t, r.sqlite
	b, c, d := r.shapes[1], r.shapes[2], r.shapes[3]
	capped := func(limit int) func(q *lbQuery) (string, []any) {
		return func(q *lbQuery) (string, []any) { return q.cappedCountSQL(limit) }
	}
	for _, e := range []struct {
		sh    *lbShape
		what  string
		base  []time.Duration
		build func(q *lbQuery) (string, []any)
	}{
		{d, "COUNT(*) over every live link instead of the count FindLinks runs (link_counts, if the schema has it)", d.count, lbFullCount},
		{b, "COUNT(*) capped at 1,001 rows", b.count, capped(1001)},
		{b, "COUNT(*) capped at 10,001 rows", b.count, capped(10001)},
		{c, "COUNT(*) capped at 1,001 rows", c.count, capped(1001)},
	} {
		x.exps = append(x.exps, lbExp{e.sh.key, e.what, e.base, r.timeSQL(e.sh, e.build)})
	}

	// loadLinks' lookups by id and the wide COUNT(*) read pages from all
	// over the file, and every connection of the store has SQLite's default
	// page cache of 2 MiB. The same statements on the second connection
	// with a bigger cache, then also memory-mapped I/O (a warm-up pass first).
	timeLoad := func(sh *lbShape) []time.Duration {
		var lat []time.Duration
		for i := range sh.queries {
			_, ids := r.sqlOne(sh.queries[i].pageSQL("links"))
			ids = ids[:min(len(ids), lbSize)]
			var dl time.Duration
			if len(ids) > 0 {
				stmts, args := r.loadSQL(ids)
				for j := range stmts {
					dd, _ := r.sqlOne(stmts[j], args[j])
					dl += dd
				}
			}
			lat = append(lat, dl)
		}
		return lat
	}
	for _, p := range []struct{ what, pragma string }{
		{"PRAGMA cache_size = -65536 (64 MiB)", "PRAGMA cache_size = -65536"},
		{"cache_size 64 MiB and PRAGMA mmap_size = 1073741824 (1 GiB)", "PRAGMA mmap_size = 1073741824"},
	} {
		if _, err := r.raw.Exec(p.pragma); err != nil {
			t.Fatal(err)
		}
		timeLoad(b)
		x.exps = append(x.exps, lbExp{b.key, "loadLinks SQL with " + p.what, b.load, timeLoad(b)})
		r.timeSQL(b, lbCount)
		x.exps = append(x.exps, lbExp{b.key, "COUNT(*) with " + p.what, b.count, r.timeSQL(b, lbCount)})
	}
	if _, err := r.raw.Exec("PRAGMA mmap_size = 0; PRAGMA cache_size = -2000"); err != nil {
		t.Fatal(err)
	}

	// The page SELECT finds the rows, then loadLinks looks each one up
	// again by id. Returning the columns from the page SELECT saves one of
	// the three lookups (default cache again).
	merged := func(sh *lbShape) (before, lat []time.Duration) {
		for i := range sh.queries {
			sq, sa := sh.queries[i].pageSQL("links")
			sq = strings.Replace(sq, "SELECT id, ", "SELECT "+lbLinkCols+", ", 1)
			dp, ids := r.sqlOne(sq, sa)
			ids = ids[:min(len(ids), lbSize)]
			if len(ids) > 0 {
				stmts, args := r.loadSQL(ids)
				for j := 1; j < len(stmts); j++ {
					dd, _ := r.sqlOne(stmts[j], args[j])
					dp += dd
				}
			}
			lat = append(lat, dp)
			before = append(before, sh.page[i]+sh.load[i])
		}
		return before, lat
	}
	for _, sh := range []*lbShape{b, d} {
		before, lat := merged(sh)
		x.exps = append(x.exps, lbExp{sh.key, "page SELECT returns the link columns, then the 2 child lookups (instead of ids, then loadLinks' 3 lookups); before = page + loadLinks SQL", before, lat})
	}
}

// sqliteIndexTables measures index tables of live links for (a) and (c).
// Those filters go through link_targets and link_tags, which know neither
// the bucket, nor created_at, nor whether the link is deleted: so the
// page either walks links_created testing every id, or looks up every
// match and sorts, and COUNT(*) looks up every match. An index table of
// live links only, (bucket_id, key, created_at, link_id), serves count
// and page from one index range. Built here from the data as it stands.
func (r *lbRun) sqliteIndexTables() {
	t, x := r.t, r.sqlite
	s0 := time.Now()
	for _, q := range []string{
		`CREATE TABLE bench_target_index AS SELECT l.bucket_id AS bucket_id, t.object_id AS object_id, l.created_at AS created_at, t.link_id AS link_id
FROM link_targets t JOIN links l ON l.id = t.link_id WHERE l.deleted_at IS NULL`,
		`CREATE INDEX bench_target_index_key ON bench_target_index (bucket_id, object_id, created_at, link_id)`,
		`CREATE TABLE bench_tag_index AS SELECT l.bucket_id AS bucket_id, t.tag AS tag, l.created_at AS created_at, t.link_id AS link_id
FROM link_tags t JOIN links l ON l.id = t.link_id WHERE l.deleted_at IS NULL`,
		`CREATE INDEX bench_tag_index_key ON bench_tag_index (bucket_id, tag, created_at, link_id)`,
	} {
		if _, err := r.raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	x.indexTime = time.Since(s0)
	var expPlans strings.Builder
	for _, e := range []struct {
		sh         *lbShape
		table, key string
	}{{r.shapes[0], "bench_target_index", "object_id"}, {r.shapes[2], "bench_tag_index", "tag"}} {
		cnt := func(q *lbQuery) (string, []any) {
			return "SELECT COUNT(*) FROM " + e.table + " WHERE bucket_id = ? AND " + e.key + " = ?", []any{q.filter.BucketID, q.args[0]}
		}
		pg := func(q *lbQuery) (string, []any) {
			return "SELECT link_id AS id, CAST(created_at AS TEXT) AS v FROM " + e.table + " WHERE bucket_id = ? AND " + e.key + " = ? ORDER BY created_at ASC, link_id ASC LIMIT ?",
				[]any{q.filter.BucketID, q.args[0], lbSize + 1}
		}
		what := fmt.Sprintf("live-link index table %s (bucket_id, %s, created_at, link_id)", e.table, e.key)
		x.exps = append(x.exps, lbExp{e.sh.key, "COUNT(*) from the " + what, e.sh.count, r.timeSQL(e.sh, cnt)})
		x.exps = append(x.exps, lbExp{e.sh.key, "page SELECT from the " + what, e.sh.page, r.timeSQL(e.sh, pg)})
		expPlans.WriteString(r.explainOn(r.raw, e.sh, fmt.Sprintf("(%s) COUNT(*) from %s", e.sh.key, e.table), cnt) + "\n")
		expPlans.WriteString(r.explainOn(r.raw, e.sh, fmt.Sprintf("(%s) page SELECT from %s", e.sh.key, e.table), pg) + "\n")
	}
	x.expPlans = expPlans.String()
}

// sqliteNoStats times FindLinks without statistics: what it does before
// the first Store.Optimize, or in a server whose statistics were never
// gathered. It goes last: it changes every later plan (Optimize puts the
// statistics back).
func (r *lbRun) sqliteNoStats() {
	t, x := r.t, r.sqlite
	if _, err := r.raw.Exec("DROP TABLE IF EXISTS sqlite_stat1; DROP TABLE IF EXISTS sqlite_stat4"); err != nil {
		t.Fatal(err)
	}
	x.noStats = map[*lbShape][]time.Duration{}
	r.each(func(sh *lbShape, i int) {
		d, _ := r.findOne(sh, i)
		x.noStats[sh] = append(x.noStats[sh], d)
	})
	// A new connection: the one that dropped the table keeps what it loaded.
	fresh, err := sqlx.Open("sqlite3", store.DSN(filepath.Join(r.dir, "sesame.db")))
	if err != nil {
		t.Fatal(err)
	}
	fresh.SetMaxOpenConns(1)
	var plans strings.Builder
	for _, sh := range r.shapes {
		fmt.Fprintf(&plans, "(%s) %s\n\n", sh.key, sh.name)
		plans.WriteString(r.explainOn(fresh, sh, "-- count", lbCount) + "\n")
		plans.WriteString(r.explainOn(fresh, sh, "-- page", lbPageStmt) + "\n")
	}
	fresh.Close()
	x.noStatsPlans = plans.String()
	if err := r.st.Optimize(r.ctx); err != nil { // as it was
		t.Fatal(err)
	}
}
