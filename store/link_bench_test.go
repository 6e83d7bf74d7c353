//go:build unix

package store_test

// The share-link listing benchmark: share/link/list (FindLinks, size 100)
// over a large store, and creates per second. It builds its own store, so
// it runs only when asked:
//
//	SESAME_BENCH_LINKS=1000000 go test -run TestLinkListLatency -v ./store/ -timeout 120m
//
// scripts/bench-links.sh runs it and records the result in
// docs/benchmarks-links.md. Other settings, all optional:
//
//	SESAME_BENCH_LINKS_QUERIES  queries per shape (default 200)
//	SESAME_BENCH_LINKS_SEED     seed of the random choices (default 1)
//	SESAME_BENCH_LINKS_DIR      parent of the data directory (default a test temp dir)
//	SESAME_BENCH_LINKS_DB       a data directory to keep: built once, reused by later runs
//	                            with the same size and seed (the links the create runs
//	                            add are removed again at the end)
//	SESAME_BENCH_LINKS_REPORT   file to write the Markdown report to

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/store"
)

const (
	lbFiles       = 10000 // file objects, the targets of download and editor links
	lbFolders     = 1000  // folders, the targets of upload links (which take folders only)
	lbTags        = 1000  // distinct tags
	lbBatch       = 100   // links per CreateLinks call while building (sesame.MaxLinksPerCreate)
	lbSingles     = 2000  // single-link creates timed, per create path
	lbSize        = 100   // page size of every timed listing
	lbGoalMs      = 10.0  // the p99 goal
	lbDays        = 365   // created_at spans this many days before lbEnd
	lbWindowDays  = 30    // the created_at range of shape (b)
	lbDefaultRuns = 200
)

// lbLinkCols is store.linkCols, for timing loadLinks' first statement.
const lbLinkCols = `id, bucket_id, link_type, token_sealed, title, message, tags, notify_email, recipient_email, sender_email, sender_name,
expires_at, max_access_count, access_count, max_downloads, downloads, last_accessed_at, auth_epoch, created_by, created_at, updated_at, deleted_at`

// lbEnd is "now" at the end of the build: every link is created before it.
var lbEnd = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// lbClock is the store's injected clock; the build moves it through the year.
type lbClock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func (c *lbClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *lbClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// lbGen draws random links.
type lbGen struct {
	rng     *rand.Rand
	files   []string
	folders []string
	tags    []string
}

var lbTypes = []sesame.LinkType{sesame.LinkDownload, sesame.LinkUpload, sesame.LinkEditor}

func (g *lbGen) pick(pool []string, n int) []string {
	out := make([]string, 0, n)
	for len(out) < n {
		s := pool[g.rng.IntN(len(pool))]
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// link returns a random link as a client sends it (policy defaults left
// unset) and, for CreateLinks, its authenticators as the service would
// pass them: an email needs no hashing.
func (g *lbGen) link(i int) (sesame.LinkCreate, []sesame.LinkAuthenticator) {
	typ := lbTypes[g.rng.IntN(len(lbTypes))]
	pool := g.files
	if typ == sesame.LinkUpload {
		pool = g.folders
	}
	var tags []string
	if n := g.rng.IntN(3); n > 0 {
		tags = g.pick(g.tags, n)
	}
	email := fmt.Sprintf("user%d@example.com", g.rng.IntN(100000))
	in := sesame.LinkCreate{
		Type:           typ,
		Targets:        g.pick(pool, 1+g.rng.IntN(3)),
		Authenticators: []sesame.AuthenticatorInput{{Type: sesame.AuthEmailOTP, Context: email}},
		Title:          fmt.Sprintf("Shared files %d", i),
		Tags:           tags,
		CreatedBy:      "stk_bench",
	}
	auths := []sesame.LinkAuthenticator{{ID: sesame.NewID("lau_"), Position: 0, Type: sesame.AuthEmailOTP, Context: email}}
	return in, auths
}

// storeLink completes a link the way LinkService.Create would, for a direct
// CreateLinks call at now.
func (g *lbGen) storeLink(i int, now time.Time) (sesame.LinkCreate, []sesame.LinkAuthenticator) {
	in, auths := g.link(i)
	in.Expires = now.Add(time.Duration(1+g.rng.IntN(30)) * 24 * time.Hour)
	maxAccess := 10
	in.MaxAccessCount = &maxAccess
	in.Source = "/links/0"
	return in, auths
}

// lbQuery is one listing: the filter given to FindLinks and the pieces of
// the SQL that FindLinks builds from it (for EXPLAIN QUERY PLAN, the
// breakdown and the experiments).
type lbQuery struct {
	filter     sesame.LinkFilter
	where      []string // the conditions FindLinks adds after bucket_id and deleted_at
	args       []any
	keyset     string // the "after the cursor" condition of a later page
	keysetArgs []any
	desc       bool
	counter    bool // FindLinks takes this count from link_counts
}

// findCountSQL is the count statement FindLinks runs.
func (q *lbQuery) findCountSQL() (string, []any) {
	if q.counter {
		return "SELECT COALESCE((SELECT live FROM link_counts WHERE bucket_id = ?), 0)", []any{q.filter.BucketID}
	}
	return q.countSQL("links")
}

// countSQL is the COUNT(*) of the filter; from wraps the table
// ("links", "links INDEXED BY x").
func (q *lbQuery) countSQL(from string) (string, []any) {
	return "SELECT COUNT(*) FROM " + from + " WHERE " + strings.Join(q.conds(false), " AND "), q.allArgs(false)
}

// cappedCountSQL counts at most limit rows.
func (q *lbQuery) cappedCountSQL(limit int) (string, []any) {
	return "SELECT COUNT(*) FROM (SELECT 1 FROM links WHERE " + strings.Join(q.conds(false), " AND ") + " LIMIT ?)",
		append(q.allArgs(false), limit)
}

// pageSQL is FindLinks' page statement; from wraps the table.
func (q *lbQuery) pageSQL(from string) (string, []any) {
	dir := "ASC"
	if q.desc {
		dir = "DESC"
	}
	return "SELECT id, CAST(created_at AS TEXT) AS v FROM " + from + " WHERE " + strings.Join(q.conds(true), " AND ") +
		" ORDER BY created_at " + dir + ", id " + dir + " LIMIT ?", append(q.allArgs(true), lbSize+1)
}

func (q *lbQuery) conds(page bool) []string {
	c := append([]string{"bucket_id = ?", "deleted_at IS NULL"}, q.where...)
	if page && q.keyset != "" {
		c = append(c, q.keyset)
	}
	return c
}

func (q *lbQuery) allArgs(page bool) []any {
	a := append([]any{q.filter.BucketID}, q.args...)
	if page && q.keyset != "" {
		a = append(a, q.keysetArgs...)
	}
	return a
}

// lbShape is one kind of listing, with queries drawn at random.
type lbShape struct {
	key, name string
	queries   []lbQuery
	total     []time.Duration // FindLinks, as share/link/list calls it
	cpu       []time.Duration // the process's CPU time during each of those calls
	count     []time.Duration // its COUNT(*) statement alone
	page      []time.Duration // its page statement alone
	load      []time.Duration // loadLinks' three statements for the page's ids
	rest      []time.Duration // total - count - page - load: unsealing, scanning, Go
	counts    []int
	rows      []int
}

func lbEnvInt(t *testing.T, name string, def int) int {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(strings.ReplaceAll(s, "_", ""))
	if err != nil || n < 1 {
		t.Fatalf("%s must be a positive integer, not %q", name, s)
	}
	return n
}

func lbPct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

// lbCPU is the user and system CPU time of the whole process so far.
func lbCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// lbLoadAvg is the 1, 5 and 15 minute load average ("unknown" off Linux).
func lbLoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func lbMs(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d.Microseconds())/1000) }

func lbSum(d []time.Duration) time.Duration {
	var s time.Duration
	for _, x := range d {
		s += x
	}
	return s
}

func lbMean(v []int) float64 {
	if len(v) == 0 {
		return 0
	}
	s := 0
	for _, x := range v {
		s += x
	}
	return float64(s) / float64(len(v))
}

func lbThousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
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

// lbMetaFile records a finished build in a kept data directory.
const lbMetaFile = "bench-links.json"

// lbMeta describes a build.
type lbMeta struct {
	Links          int     `json:"links"`
	Seed           uint64  `json:"seed"`
	Built          string  `json:"built"`
	TargetsSeconds float64 `json:"targets_seconds"`
	BuildSeconds   float64 `json:"build_seconds"`
	DBBytes        int64   `json:"db_bytes"`
}

// lbBuild makes the targets and n links.
func lbBuild(t *testing.T, ctx context.Context, st *store.Store, clk *lbClock, gen *lbGen, n int, seed uint64, start time.Time) lbMeta {
	t.Helper()
	t0 := time.Now()
	for i := range lbFiles {
		name := fmt.Sprintf("f%05d.txt", i)
		u, err := st.Stage(ctx, strings.NewReader("file "+name+"\n"), name, 0)
		if err != nil {
			t.Fatal(err)
		}
		o, err := st.CreateFile(ctx, sesame.FileCreate{Placement: sesame.Placement{
			HasParentPath: true, ParentPath: fmt.Sprintf("/targets/d%03d", i/100), Name: name}}, u)
		if err != nil {
			t.Fatal(err)
		}
		gen.files = append(gen.files, o.ID)
	}
	for i := range lbFolders {
		o, err := st.CreateFolder(ctx, sesame.FolderCreate{Placement: sesame.Placement{
			HasParentPath: true, ParentPath: "/inbox", Name: fmt.Sprintf("u%04d", i)}})
		if err != nil {
			t.Fatal(err)
		}
		gen.folders = append(gen.folders, o.ID)
	}
	targetsTime := time.Since(t0)
	t.Logf("created %d files and %d folders in %v", lbFiles, lbFolders, targetsTime.Round(time.Millisecond))

	// Batches of 100, one transaction each (CreateLinks' own); created_at
	// moves forward through the year, as it would in a live server.
	batches := (n + lbBatch - 1) / lbBatch
	step := time.Duration(lbDays) * 24 * time.Hour / time.Duration(batches)
	t0 = time.Now()
	lastLog := t0
	made := 0
	for b := range batches {
		now := start.Add(time.Duration(b)*step + time.Duration(gen.rng.Int64N(int64(step)))).Truncate(time.Microsecond)
		clk.Set(now)
		k := min(lbBatch, n-made)
		items := make([]sesame.LinkCreate, k)
		hashed := make([][]sesame.LinkAuthenticator, k)
		for i := range k {
			items[i], hashed[i] = gen.storeLink(made+i, now)
			items[i].Source = fmt.Sprintf("/links/%d", i)
		}
		if _, err := st.CreateLinks(ctx, items, hashed, now); err != nil {
			t.Fatalf("build batch %d: %v", b, err)
		}
		made += k
		if time.Since(lastLog) > 30*time.Second {
			lastLog = time.Now()
			el := time.Since(t0)
			t.Logf("built %d/%d links in %v (%.0f links/s)", made, n, el.Round(time.Second), float64(made)/el.Seconds())
		}
	}
	buildTime := time.Since(t0)
	t.Logf("built %d links in %v (%.0f links/s)", n, buildTime.Round(time.Millisecond), float64(n)/buildTime.Seconds())

	var dbBytes int64
	for _, f := range []string{"sesame.db", "sesame.db-wal"} {
		if fi, err := os.Stat(filepath.Join(st.DataDir(), f)); err == nil {
			dbBytes += fi.Size()
		}
	}
	return lbMeta{Links: n, Seed: seed, Built: time.Now().UTC().Format(time.RFC3339), TargetsSeconds: targetsTime.Seconds(),
		BuildSeconds: buildTime.Seconds(), DBBytes: dbBytes}
}

func TestLinkListLatency(t *testing.T) {
	if os.Getenv("SESAME_BENCH_LINKS") == "" {
		t.Skip("set SESAME_BENCH_LINKS to the number of links (e.g. 1000000) to run the share-link benchmark")
	}
	n := lbEnvInt(t, "SESAME_BENCH_LINKS", 0)
	runs := lbEnvInt(t, "SESAME_BENCH_LINKS_QUERIES", lbDefaultRuns)
	seed := uint64(lbEnvInt(t, "SESAME_BENCH_LINKS_SEED", 1))
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 0x5e5a3e))

	// The data directory: a throw-away one, or SESAME_BENCH_LINKS_DB,
	// which keeps the build for the next run with the same size and seed.
	var dir string
	var meta lbMeta
	reused := false
	if keep := os.Getenv("SESAME_BENCH_LINKS_DB"); keep != "" {
		dir = keep
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(filepath.Join(dir, lbMetaFile)); err == nil {
			if err := json.Unmarshal(b, &meta); err != nil {
				t.Fatalf("%s: %v", lbMetaFile, err)
			}
			if meta.Links != n || meta.Seed != seed {
				t.Fatalf("%s holds a build of %d links with seed %d, not %d with seed %d; remove it or name another directory", dir, meta.Links, meta.Seed, n, seed)
			}
			reused = true
		} else if entries, _ := os.ReadDir(dir); len(entries) > 0 {
			t.Fatalf("%s is not empty and holds no finished build (%s); remove it or name another directory", dir, lbMetaFile)
		}
	} else {
		parent := os.Getenv("SESAME_BENCH_LINKS_DIR")
		if parent == "" {
			parent = t.TempDir()
		}
		d, err := os.MkdirTemp(parent, "sesame-bench-links-")
		if err != nil {
			t.Fatal(err)
		}
		dir = d
		t.Cleanup(func() { os.RemoveAll(dir) })
	}

	start := lbEnd.Add(-lbDays * 24 * time.Hour)
	clk := &lbClock{t: start.Add(-time.Hour)}
	st, err := store.Open(ctx, store.Config{DataDir: dir, Now: clk.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	bucket := st.DefaultBucket()

	// A second connection for the plans, the statement breakdown and the
	// experiments.
	raw, err := sqlx.Open("sqlite3", store.DSN(filepath.Join(dir, "sesame.db")))
	if err != nil {
		t.Fatal(err)
	}
	raw.SetMaxOpenConns(1)
	t.Cleanup(func() { raw.Close() })
	// undo puts a kept build back as it was built: no experiment tables,
	// none of the links the create runs added.
	undo := func() {
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
			if _, err := raw.Exec(q, args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}

	gen := &lbGen{rng: rng}
	for i := range lbTags {
		gen.tags = append(gen.tags, fmt.Sprintf("tag-%04d", i))
	}
	if reused {
		undo()
		if err := raw.Select(&gen.files, `SELECT id FROM objects WHERE type = 'file' AND path LIKE '/targets/%' ORDER BY path`); err != nil {
			t.Fatal(err)
		}
		if err := raw.Select(&gen.folders, `SELECT id FROM objects WHERE type = 'folder' AND path LIKE '/inbox/%' ORDER BY path`); err != nil {
			t.Fatal(err)
		}
		if len(gen.files) != lbFiles || len(gen.folders) != lbFolders {
			t.Fatalf("the kept build in %s has %d files and %d folders, not %d and %d", dir, len(gen.files), len(gen.folders), lbFiles, lbFolders)
		}
		t.Logf("reusing the build of %d links in %s (built %s)", n, dir, meta.Built)
	} else {
		meta = lbBuild(t, ctx, st, clk, gen, n, seed, start)
		if os.Getenv("SESAME_BENCH_LINKS_DB") != "" {
			b, _ := json.Marshal(meta)
			if err := os.WriteFile(filepath.Join(dir, lbMetaFile), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	if os.Getenv("SESAME_BENCH_LINKS_DB") != "" {
		t.Cleanup(undo) // before raw and st close (LIFO)
	}

	// The server refreshes the planner's statistics at start and hourly
	// (Store.Optimize); a store that grew to this size has had that done.
	s0 := time.Now()
	if err := st.Optimize(ctx); err != nil {
		t.Fatal(err)
	}
	optimizeTime := time.Since(s0)
	var stats []struct {
		Idx  string `db:"idx"`
		Stat string `db:"stat"`
	}
	if err := raw.Select(&stats, `SELECT idx, stat FROM sqlite_stat1 WHERE idx IN ('links_created', 'links_type_created', 'link_targets_object', 'link_tags_tag') ORDER BY idx`); err != nil {
		t.Fatal(err)
	}
	var hasCounts bool
	if err := raw.Get(&hasCounts, `SELECT COUNT(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = 'link_counts'`); err != nil {
		t.Fatal(err)
	}

	var tagRows, targetRows int
	if err := raw.Get(&tagRows, `SELECT COUNT(*) FROM link_tags`); err != nil {
		t.Fatal(err)
	}
	if err := raw.Get(&targetRows, `SELECT COUNT(*) FROM link_targets`); err != nil {
		t.Fatal(err)
	}

	// ------------------------------------------------------------ creates

	type createRow struct {
		name     string
		lat, cpu []time.Duration
	}
	var creates []createRow
	now := lbEnd
	clk.Set(now)
	var lat, cpu []time.Duration
	for i := range lbSingles {
		now = now.Add(time.Second)
		clk.Set(now)
		in, auths := gen.storeLink(n+i, now)
		c0, s := lbCPU(), time.Now()
		if _, err := st.CreateLinks(ctx, []sesame.LinkCreate{in}, [][]sesame.LinkAuthenticator{auths}, now); err != nil {
			t.Fatal(err)
		}
		lat, cpu = append(lat, time.Since(s)), append(cpu, lbCPU()-c0)
	}
	creates = append(creates, createRow{"store.CreateLinks, 1 link per call", lat, cpu})

	svc := &sesame.LinkService{Store: st, Policy: sesame.DefaultLinkPolicy(), Now: clk.Now} // no Hasher: no passwords
	admin := sesame.WithToken(ctx, &sesame.Token{ID: "stk_bench", Scopes: []sesame.Scope{sesame.ScopeAdmin}})
	lat, cpu = nil, nil
	for i := range lbSingles {
		now = now.Add(time.Second)
		clk.Set(now)
		in, _ := gen.link(n + lbSingles + i)
		c0, s := lbCPU(), time.Now()
		if _, err := svc.Create(admin, []sesame.LinkCreate{in}); err != nil {
			t.Fatal(err)
		}
		lat, cpu = append(lat, time.Since(s)), append(cpu, lbCPU()-c0)
	}
	creates = append(creates, createRow{"sesame.LinkService.Create (validation + store), 1 link per call", lat, cpu})
	for _, c := range creates {
		t.Logf("%s: %.0f links/s, p50 %s ms, p99 %s ms", c.name, float64(len(c.lat))/lbSum(c.lat).Seconds(), lbMs(lbPct(c.lat, 50)), lbMs(lbPct(c.lat, 99)))
	}

	// ------------------------------------------------------------ queries

	window := lbWindowDays * 24 * time.Hour
	typeWindow := func() lbQuery {
		typ := string(lbTypes[rng.IntN(len(lbTypes))])
		fromT := start.Add(time.Duration(rng.Int64N(int64(lbEnd.Sub(start) - window)))).Truncate(time.Second)
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
	shapes := []*lbShape{
		{key: "a", name: "target_id = random file"},
		{key: "b", name: "link_type = x, created_at in a 30-day range"},
		{key: "c", name: "tags all-of [one random tag]"},
		{key: "d", name: "no filter, created_at desc"},
		{key: "e", name: "second page of (b), by cursor"},
	}
	for range runs {
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
		shapes[3].queries = append(shapes[3].queries, lbQuery{filter: sesame.LinkFilter{BucketID: bucket, Size: lbSize, OrderBy: "created_at", Desc: true}, desc: true, counter: hasCounts})
		// (e): the cursor comes from the first page, fetched here untimed.
		q := typeWindow()
		first, err := st.FindLinks(ctx, q.filter)
		if err != nil {
			t.Fatal(err)
		}
		if first.Next == nil {
			continue // fewer than two pages in this window
		}
		q.filter.After = first.Next
		q.keyset = "(created_at > ? OR (created_at = ? AND id > ?))"
		q.keysetArgs = []any{first.Next.Value, first.Next.Value, first.Next.ID}
		shapes[4].queries = append(shapes[4].queries, q)
	}

	// each runs fn over query i of every shape, for i = 0, 1, ...: the
	// shapes take turns, so that a burst of other work hits them alike.
	each := func(fn func(sh *lbShape, i int)) {
		for i := range runs {
			for _, sh := range shapes {
				if i < len(sh.queries) {
					fn(sh, i)
				}
			}
		}
	}
	// sqlOne runs one statement on the second connection and returns its
	// time and the id column of its rows, if it has one.
	sqlOne := func(sq string, sa []any) (time.Duration, []string) {
		var ids []string
		s := time.Now()
		r, err := raw.Queryx(sq, sa...)
		if err != nil {
			t.Fatalf("%s: %v", sq, err)
		}
		for r.Next() {
			m := map[string]any{}
			if err := r.MapScan(m); err != nil {
				t.Fatal(err)
			}
			switch v := m["id"].(type) {
			case string:
				ids = append(ids, v)
			case []byte:
				ids = append(ids, string(v))
			}
		}
		if err := r.Err(); err != nil {
			t.Fatal(err)
		}
		r.Close()
		return time.Since(s), ids
	}
	// findOne runs query i of sh through FindLinks. The first query of each
	// shape is also checked against the SQL here, so a drift shows.
	findOne := func(sh *lbShape, i int) (time.Duration, *sesame.LinkPage) {
		q := &sh.queries[i]
		s := time.Now()
		page, err := st.FindLinks(ctx, q.filter)
		d := time.Since(s)
		if err != nil {
			t.Fatalf("(%s) FindLinks: %v", sh.key, err)
		}
		if i == 0 {
			var cnt int
			cq, ca := q.findCountSQL()
			if err := raw.Get(&cnt, cq, ca...); err != nil {
				t.Fatalf("(%s) count: %v", sh.key, err)
			}
			_, want := sqlOne(q.pageSQL("links"))
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
	timeSQL := func(sh *lbShape, build func(q *lbQuery) (string, []any)) []time.Duration {
		var lat []time.Duration
		for i := range sh.queries {
			sq, sa := build(&sh.queries[i])
			d, _ := sqlOne(sq, sa)
			lat = append(lat, d)
		}
		return lat
	}
	// loadSQL is what loadLinks runs for a page of ids.
	loadSQL := func(ids []string) (stmts []string, args [][]any) {
		for _, q := range []string{
			"SELECT " + lbLinkCols + " FROM links WHERE id IN (?)",
			"SELECT link_id, object_id FROM link_targets WHERE link_id IN (?) ORDER BY link_id, position",
			"SELECT id, link_id, position, auth_type, context FROM link_authenticators WHERE link_id IN (?) ORDER BY link_id, position",
		} {
			sq, sa, err := sqlx.In(q, ids)
			if err != nil {
				t.Fatal(err)
			}
			stmts, args = append(stmts, sq), append(args, sa)
		}
		return stmts, args
	}
	count := func(q *lbQuery) (string, []any) { return q.findCountSQL() }
	fullCount := func(q *lbQuery) (string, []any) { return q.countSQL("links") }
	pageStmt := func(q *lbQuery) (string, []any) { return q.pageSQL("links") }

	each(func(sh *lbShape, i int) { // warm-up, untimed
		if i < 10 {
			findOne(sh, i)
		}
	})
	loadBefore := lbLoadAvg()
	each(func(sh *lbShape, i int) {
		c0 := lbCPU()
		d, page := findOne(sh, i)
		sh.cpu = append(sh.cpu, lbCPU()-c0)
		sh.total = append(sh.total, d)
		sh.counts = append(sh.counts, page.Count)
		sh.rows = append(sh.rows, len(page.Links))
	})
	each(func(sh *lbShape, i int) {
		q := &sh.queries[i]
		dc, _ := sqlOne(q.findCountSQL())
		dp, ids := sqlOne(q.pageSQL("links"))
		ids = ids[:min(len(ids), lbSize)]
		var dl time.Duration
		if len(ids) > 0 {
			stmts, args := loadSQL(ids)
			for j := range stmts {
				d, _ := sqlOne(stmts[j], args[j])
				dl += d
			}
		}
		sh.count = append(sh.count, dc)
		sh.page = append(sh.page, dp)
		sh.load = append(sh.load, dl)
		sh.rest = append(sh.rest, max(0, sh.total[i]-dc-dp-dl))
	})
	loadAfter := lbLoadAvg()
	for _, sh := range shapes {
		t.Logf("(%s) %s: p50 %s p95 %s p99 %s max %s ms", sh.key, sh.name, lbMs(lbPct(sh.total, 50)), lbMs(lbPct(sh.total, 95)), lbMs(lbPct(sh.total, 99)), lbMs(lbPct(sh.total, 100)))
	}

	// The store's read connections load the planner's statistics when they
	// open (or when the schema changes); ANALYZE rewriting existing
	// sqlite_stat1 rows does not change the schema. Reopening the store
	// (a server restart) gives connections that read the current ones.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = store.Open(ctx, store.Config{DataDir: dir, Now: clk.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	reopened := map[*lbShape][]time.Duration{}
	each(func(sh *lbShape, i int) {
		d, _ := findOne(sh, i)
		reopened[sh] = append(reopened[sh], d)
	})

	// ------------------------------------------------------------ plans

	explainOn := func(db *sqlx.DB, sh *lbShape, label string, build func(q *lbQuery) (string, []any)) string {
		if len(sh.queries) == 0 {
			return ""
		}
		sq, sa := build(&sh.queries[0])
		return fmt.Sprintf("%s\n%s\n%s", label, sq, lbPlan(t, db, sq, sa...))
	}
	explain := func(sh *lbShape, label string, build func(q *lbQuery) (string, []any)) string {
		return explainOn(raw, sh, label, build)
	}
	var plans strings.Builder
	for _, sh := range shapes {
		fmt.Fprintf(&plans, "(%s) %s\n\n", sh.key, sh.name)
		plans.WriteString(explain(sh, "-- count", count) + "\n")
		plans.WriteString(explain(sh, "-- page", pageStmt) + "\n")
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
		plans.WriteString(q + "\n" + lbPlan(t, raw, sqlText, ids...))
	}

	// ------------------------------------------------------------ experiments

	// Changes one could make, measured on this database with the same
	// queries; the code under test is not changed. Dropping the statistics
	// goes last: it changes every later plan.
	type expRow struct {
		shape, what string
		before, lat []time.Duration
	}
	var exps []expRow
	var expPlans strings.Builder
	a, b, c, d := shapes[0], shapes[1], shapes[2], shapes[3]
	capped := func(limit int) func(q *lbQuery) (string, []any) {
		return func(q *lbQuery) (string, []any) { return q.cappedCountSQL(limit) }
	}
	for _, x := range []struct {
		sh    *lbShape
		what  string
		base  []time.Duration
		build func(q *lbQuery) (string, []any)
	}{
		{d, "COUNT(*) over every live link instead of the count FindLinks runs (link_counts, if the schema has it)", d.count, fullCount},
		{b, "COUNT(*) capped at 1,001 rows", b.count, capped(1001)},
		{b, "COUNT(*) capped at 10,001 rows", b.count, capped(10001)},
		{c, "COUNT(*) capped at 1,001 rows", c.count, capped(1001)},
	} {
		exps = append(exps, expRow{x.sh.key, x.what, x.base, timeSQL(x.sh, x.build)})
	}

	// loadLinks' lookups by id and the wide COUNT(*) read pages from all
	// over the file, and every connection of the store has SQLite's default
	// page cache of 2 MiB. The same statements on the second connection
	// with a bigger cache, then also memory-mapped I/O (a warm-up pass first).
	timeLoad := func(sh *lbShape) []time.Duration {
		var lat []time.Duration
		for i := range sh.queries {
			_, ids := sqlOne(sh.queries[i].pageSQL("links"))
			ids = ids[:min(len(ids), lbSize)]
			var dl time.Duration
			if len(ids) > 0 {
				stmts, args := loadSQL(ids)
				for j := range stmts {
					dd, _ := sqlOne(stmts[j], args[j])
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
		if _, err := raw.Exec(p.pragma); err != nil {
			t.Fatal(err)
		}
		timeLoad(b)
		exps = append(exps, expRow{b.key, "loadLinks SQL with " + p.what, b.load, timeLoad(b)})
		timeSQL(b, count)
		exps = append(exps, expRow{b.key, "COUNT(*) with " + p.what, b.count, timeSQL(b, count)})
	}
	if _, err := raw.Exec("PRAGMA mmap_size = 0; PRAGMA cache_size = -2000"); err != nil {
		t.Fatal(err)
	}

	// The page SELECT finds the rows, then loadLinks looks each one up
	// again by id. Returning the columns from the page SELECT saves one of
	// the three lookups (default cache again).
	merged := func(sh *lbShape) (before, lat []time.Duration) {
		for i := range sh.queries {
			sq, sa := sh.queries[i].pageSQL("links")
			sq = strings.Replace(sq, "SELECT id, ", "SELECT "+lbLinkCols+", ", 1)
			dp, ids := sqlOne(sq, sa)
			ids = ids[:min(len(ids), lbSize)]
			if len(ids) > 0 {
				stmts, args := loadSQL(ids)
				for j := 1; j < len(stmts); j++ {
					dd, _ := sqlOne(stmts[j], args[j])
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
		exps = append(exps, expRow{sh.key, "page SELECT returns the link columns, then the 2 child lookups (instead of ids, then loadLinks' 3 lookups); before = page + loadLinks SQL", before, lat})
	}

	// (a) and (c) go through link_targets and link_tags, which know neither
	// the bucket, nor created_at, nor whether the link is deleted: so the
	// page either walks links_created testing every id, or looks up every
	// match and sorts, and COUNT(*) looks up every match. An index table of
	// live links only, (bucket_id, key, created_at, link_id), serves count
	// and page from one index range. Built here from the data as it stands.
	s0 = time.Now()
	for _, q := range []string{
		`CREATE TABLE bench_target_index AS SELECT l.bucket_id AS bucket_id, t.object_id AS object_id, l.created_at AS created_at, t.link_id AS link_id
FROM link_targets t JOIN links l ON l.id = t.link_id WHERE l.deleted_at IS NULL`,
		`CREATE INDEX bench_target_index_key ON bench_target_index (bucket_id, object_id, created_at, link_id)`,
		`CREATE TABLE bench_tag_index AS SELECT l.bucket_id AS bucket_id, t.tag AS tag, l.created_at AS created_at, t.link_id AS link_id
FROM link_tags t JOIN links l ON l.id = t.link_id WHERE l.deleted_at IS NULL`,
		`CREATE INDEX bench_tag_index_key ON bench_tag_index (bucket_id, tag, created_at, link_id)`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	indexTime := time.Since(s0)
	for _, x := range []struct {
		sh         *lbShape
		table, key string
	}{{a, "bench_target_index", "object_id"}, {c, "bench_tag_index", "tag"}} {
		cnt := func(q *lbQuery) (string, []any) {
			return "SELECT COUNT(*) FROM " + x.table + " WHERE bucket_id = ? AND " + x.key + " = ?", []any{q.filter.BucketID, q.args[0]}
		}
		pg := func(q *lbQuery) (string, []any) {
			return "SELECT link_id AS id, CAST(created_at AS TEXT) AS v FROM " + x.table + " WHERE bucket_id = ? AND " + x.key + " = ? ORDER BY created_at ASC, link_id ASC LIMIT ?",
				[]any{q.filter.BucketID, q.args[0], lbSize + 1}
		}
		what := fmt.Sprintf("live-link index table %s (bucket_id, %s, created_at, link_id)", x.table, x.key)
		exps = append(exps, expRow{x.sh.key, "COUNT(*) from the " + what, x.sh.count, timeSQL(x.sh, cnt)})
		exps = append(exps, expRow{x.sh.key, "page SELECT from the " + what, x.sh.page, timeSQL(x.sh, pg)})
		expPlans.WriteString(explain(x.sh, fmt.Sprintf("(%s) COUNT(*) from %s", x.sh.key, x.table), cnt) + "\n")
		expPlans.WriteString(explain(x.sh, fmt.Sprintf("(%s) page SELECT from %s", x.sh.key, x.table), pg) + "\n")
	}

	// Without statistics: what FindLinks does before the first
	// Store.Optimize, or in a server whose statistics were never gathered.
	if _, err := raw.Exec("DROP TABLE IF EXISTS sqlite_stat1; DROP TABLE IF EXISTS sqlite_stat4"); err != nil {
		t.Fatal(err)
	}
	noStats := map[*lbShape][]time.Duration{}
	each(func(sh *lbShape, i int) {
		d, _ := findOne(sh, i)
		noStats[sh] = append(noStats[sh], d)
	})
	// A new connection: the one that dropped the table keeps what it loaded.
	fresh, err := sqlx.Open("sqlite3", store.DSN(filepath.Join(dir, "sesame.db")))
	if err != nil {
		t.Fatal(err)
	}
	fresh.SetMaxOpenConns(1)
	var noStatsPlans strings.Builder
	for _, sh := range shapes {
		fmt.Fprintf(&noStatsPlans, "(%s) %s\n\n", sh.key, sh.name)
		noStatsPlans.WriteString(explainOn(fresh, sh, "-- count", count) + "\n")
		noStatsPlans.WriteString(explainOn(fresh, sh, "-- page", pageStmt) + "\n")
	}
	fresh.Close()
	if err := st.Optimize(ctx); err != nil { // as it was
		t.Fatal(err)
	}

	// ------------------------------------------------------------ report

	var r strings.Builder
	fmt.Fprintf(&r, "- Data: %s links from the build (+%s from the create runs), %s link_targets rows, %s link_tags rows; %s files and %s folders as targets; %s distinct tags\n",
		lbThousands(n), lbThousands(2*lbSingles), lbThousands(targetRows), lbThousands(tagRows), lbThousands(lbFiles), lbThousands(lbFolders), lbThousands(lbTags))
	how := "this run"
	if reused {
		how = "kept from an earlier run (" + meta.Built + ") in SESAME_BENCH_LINKS_DB"
	}
	fmt.Fprintf(&r, "- Database after the build (sesame.db + WAL): %.0f MiB\n", float64(meta.DBBytes)/(1<<20))
	fmt.Fprintf(&r, "- Build (%s): %s links through CreateLinks in batches of %d (one transaction each) in %s: %.0f links/s; the %s targets took %s\n",
		how, lbThousands(n), lbBatch, (time.Duration(meta.BuildSeconds) * time.Second).Round(time.Second), float64(n)/meta.BuildSeconds,
		lbThousands(lbFiles+lbFolders), (time.Duration(meta.TargetsSeconds) * time.Second).Round(time.Second))
	fmt.Fprintf(&r, "- Store.Optimize after the build (what serve runs at start and hourly) took %s; unfiltered counts from link_counts: %v\n", optimizeTime.Round(time.Millisecond), hasCounts)
	r.WriteString("- sqlite_stat1 then:")
	for _, x := range stats {
		fmt.Fprintf(&r, " %s `%s`;", x.Idx, x.Stat)
	}
	r.WriteString("\n\n")

	r.WriteString("| create (email_otp, no password hashing) | calls | links/s | p50 ms | p95 ms | p99 ms | max ms | CPU p50 ms | CPU p99 ms |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, c := range creates {
		fmt.Fprintf(&r, "| %s | %d | **%.0f** | %s | %s | %s | %s | %s | %s |\n", c.name, len(c.lat), float64(len(c.lat))/lbSum(c.lat).Seconds(),
			lbMs(lbPct(c.lat, 50)), lbMs(lbPct(c.lat, 95)), lbMs(lbPct(c.lat, 99)), lbMs(lbPct(c.lat, 100)), lbMs(lbPct(c.cpu, 50)), lbMs(lbPct(c.cpu, 99)))
	}
	goal := func(d []time.Duration) string {
		if len(d) == 0 {
			return "–"
		}
		if float64(lbPct(d, 99).Microseconds())/1000 < lbGoalMs {
			return "yes"
		}
		return "**no**"
	}
	if reused {
		r.WriteString("\nThe store was opened on the kept build, whose statistics had been gathered: its read connections load them, as in a server restarted after the store grew.\n")
	} else {
		r.WriteString("\nThe store was opened before the build, as a server that has run since the store was empty: its read connections hold the statistics they loaded then, " +
			"and Store.Optimize after the build refreshes them on the write connection only (see the reopened table below).\n")
	}
	fmt.Fprintf(&r, "\nLoad average (1, 5, 15 min) around the timed FindLinks calls: %s before, %s after. "+
		"CPU is the process's user + system time during each call (getrusage): unlike the wall-clock columns it does not grow while other work holds the CPUs, "+
		"but it leaves out waiting for I/O.\n\n", loadBefore, loadAfter)
	r.WriteString("| share/link/list, size 100 (FindLinks) | queries | p50 ms | p95 ms | p99 ms | max ms | CPU p50 ms | CPU p99 ms | mean count | mean rows | p99 < 10 ms |\n" +
		"|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|:-:|\n")
	for _, sh := range shapes {
		fmt.Fprintf(&r, "| (%s) %s | %d | %s | %s | **%s** | %s | %s | %s | %.0f | %.0f | %s |\n", sh.key, sh.name, len(sh.total),
			lbMs(lbPct(sh.total, 50)), lbMs(lbPct(sh.total, 95)), lbMs(lbPct(sh.total, 99)), lbMs(lbPct(sh.total, 100)),
			lbMs(lbPct(sh.cpu, 50)), lbMs(lbPct(sh.cpu, 99)), lbMean(sh.counts), lbMean(sh.rows), goal(sh.total))
	}
	r.WriteString("\nThe same queries after closing and reopening the store (a server restart: read connections that load the statistics as they are now):\n\n")
	r.WriteString("| share/link/list, size 100 (FindLinks) | before p50 ms | before p99 ms | reopened p50 ms | reopened p95 ms | reopened p99 ms | reopened max ms | p99 < 10 ms |\n|---|---:|---:|---:|---:|---:|---:|:-:|\n")
	for _, sh := range shapes {
		lat := reopened[sh]
		fmt.Fprintf(&r, "| (%s) %s | %s | %s | %s | %s | %s | %s | %s |\n", sh.key, sh.name, lbMs(lbPct(sh.total, 50)), lbMs(lbPct(sh.total, 99)),
			lbMs(lbPct(lat, 50)), lbMs(lbPct(lat, 95)), lbMs(lbPct(lat, 99)), lbMs(lbPct(lat, 100)), goal(lat))
	}
	r.WriteString("\nWhere the time goes: FindLinks' count and page statements run alone on a second connection with the same parameters; " +
		"loadLinks is its three lookups by the page's ids; the rest (per query: total − count − page − loadLinks) is unsealing the 100 tokens, " +
		"scanning rows into structs and the like.\n\n")
	r.WriteString("| query | count p50 ms | count p99 ms | page SELECT p50 ms | page SELECT p99 ms | loadLinks SQL p50 ms | loadLinks SQL p99 ms | rest p50 ms | rest p99 ms |\n" +
		"|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, sh := range shapes {
		fmt.Fprintf(&r, "| (%s) | %s | %s | %s | %s | %s | %s | %s | %s |\n", sh.key, lbMs(lbPct(sh.count, 50)), lbMs(lbPct(sh.count, 99)),
			lbMs(lbPct(sh.page, 50)), lbMs(lbPct(sh.page, 99)), lbMs(lbPct(sh.load, 50)), lbMs(lbPct(sh.load, 99)), lbMs(lbPct(sh.rest, 50)), lbMs(lbPct(sh.rest, 99)))
	}
	r.WriteString("\nExperiments: the same queries with one statement changed, on this database only (no code changed).\n\n")
	r.WriteString("| query | change | before p50 ms | before p99 ms | after p50 ms | after p99 ms |\n|---|---|---:|---:|---:|---:|\n")
	for _, x := range exps {
		fmt.Fprintf(&r, "| (%s) | %s | %s | %s | %s | %s |\n", x.shape, x.what, lbMs(lbPct(x.before, 50)), lbMs(lbPct(x.before, 99)), lbMs(lbPct(x.lat, 50)), lbMs(lbPct(x.lat, 99)))
	}
	fmt.Fprintf(&r, "\nThe two index tables took %s to build from the data.\n", indexTime.Round(time.Millisecond))
	r.WriteString("\nWithout statistics (sqlite_stat1 dropped: a store before its first Store.Optimize), FindLinks again, same queries:\n\n")
	r.WriteString("| share/link/list, size 100 (FindLinks) | first table p50 ms | first table p99 ms | without p50 ms | without p95 ms | without p99 ms | without max ms | p99 < 10 ms |\n|---|---:|---:|---:|---:|---:|---:|:-:|\n")
	for _, sh := range shapes {
		lat := noStats[sh]
		fmt.Fprintf(&r, "| (%s) %s | %s | %s | %s | %s | %s | %s | %s |\n", sh.key, sh.name, lbMs(lbPct(sh.total, 50)), lbMs(lbPct(sh.total, 99)),
			lbMs(lbPct(lat, 50)), lbMs(lbPct(lat, 95)), lbMs(lbPct(lat, 99)), lbMs(lbPct(lat, 100)), goal(lat))
	}
	r.WriteString("\nQuery plans (EXPLAIN QUERY PLAN, parameters of the first query of each shape) on a connection opened after Store.Optimize, " +
		"so with its statistics (the store's own read connections may hold older ones; see the reopened table):\n\n```text\n")
	r.WriteString(plans.String())
	r.WriteString("```\n\nPlans of the experiments' statements:\n\n```text\n")
	r.WriteString(expPlans.String())
	r.WriteString("```\n\nPlans without statistics:\n\n```text\n")
	r.WriteString(noStatsPlans.String())
	r.WriteString("```\n")

	report := r.String()
	fmt.Printf("\nshare-link benchmark, %s links:\n\n%s\n", lbThousands(n), report)
	if p := os.Getenv("SESAME_BENCH_LINKS_REPORT"); p != "" {
		if err := os.WriteFile(p, []byte(report), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
