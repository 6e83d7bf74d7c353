//go:build unix

package store_test

// The share-link listing benchmark: share/link/list (FindLinks, size 100)
// over a large store, and creates per second, on SQLite or PostgreSQL. It
// builds its own store, so it runs only when asked:
//
//	SESAME_BENCH_LINKS=1000000 go test -run TestLinkListLatency -v ./store/ -timeout 120m
//
// scripts/bench-links.sh runs it on both databases and records the result
// in docs/benchmarks-links.md. Other settings, all optional:
//
//	SESAME_BENCH_LINKS_QUERIES  queries per shape (default 200)
//	SESAME_BENCH_LINKS_SEED     seed of the random choices (default 1)
//	SESAME_BENCH_LINKS_WORKERS  goroutines that call CreateLinks while building (default 16)
//	SESAME_BENCH_LINKS_PG_URL   a PostgreSQL database (postgres://...) to run on instead of
//	                            SQLite; the benchmark makes a schema of its own there and
//	                            drops it at the end
//	SESAME_BENCH_LINKS_DIR      parent of the data directory (default a test temp dir)
//	SESAME_BENCH_LINKS_DB       SQLite only: a data directory to keep, built once, reused by
//	                            later runs with the same size and seed (the links the create
//	                            runs add are removed again at the end)
//	SESAME_BENCH_LINKS_REPORT   file to write the Markdown report to
//	SESAME_BENCH_LINKS_SUMMARY  file to write each shape's p50 and p99 to (tab-separated)
//
// The files: this one holds the run's steps; link_bench_build_test.go the
// build, link_bench_query_test.go the timed listings,
// link_bench_sqlite_test.go and link_bench_pg_test.go what only one
// database has (plans, statistics, experiments), link_bench_report_test.go
// the report.

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
	// lbDefaultWorkers goroutines call CreateLinks at once while building.
	// The store's group commit runs the calls that wait together in one
	// transaction (each in a savepoint), so the build commits several
	// hundred links at a time while every call keeps its 100 links and its
	// own created_at. At 20,000 links on 2 CPUs: SQLite 1,500–1,600 links/s
	// with one goroutine, 2,100–2,450 with 8–32; PostgreSQL 440–640 with
	// one, 900–1,100 with 8–32.
	lbDefaultWorkers = 16
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
// the SQL that FindLinks builds from it (for the plans, the breakdown and
// the experiments). The SQL uses ? placeholders; runs on PostgreSQL
// rebind it.
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
	srv       []time.Duration // PostgreSQL: the server's CPU time during each of those calls
	count     []time.Duration // its COUNT(*) statement alone
	page      []time.Duration // its page statement alone
	load      []time.Duration // loadLinks' three statements for the page's ids
	rest      []time.Duration // total - count - page - load: unsealing, scanning, Go
	counts    []int
	rows      []int
}

// lbCreateRow is one create path timed.
type lbCreateRow struct {
	name          string
	lat, cpu, srv []time.Duration
}

// lbMetaFile records a finished build in a kept data directory.
const lbMetaFile = "bench-links.json"

// lbMeta describes a build. The fields after DBBytes are zero in builds
// kept by older versions of the benchmark.
type lbMeta struct {
	Links          int     `json:"links"`
	Seed           uint64  `json:"seed"`
	Built          string  `json:"built"`
	TargetsSeconds float64 `json:"targets_seconds"`
	BuildSeconds   float64 `json:"build_seconds"`
	DBBytes        int64   `json:"db_bytes"`
	// Workers is the number of goroutines that called CreateLinks.
	Workers int `json:"workers,omitempty"`
	// InCallSeconds is the time spent inside CreateLinks, summed over the
	// goroutines.
	InCallSeconds float64 `json:"in_call_seconds,omitempty"`
	// CPUSeconds is this process's CPU time during the link build (on
	// SQLite that includes the database's work).
	CPUSeconds float64 `json:"cpu_seconds,omitempty"`
	// ServerCPUSeconds is the PostgreSQL backends' CPU time during the link
	// build (0 on SQLite or when the server is not local).
	ServerCPUSeconds float64 `json:"server_cpu_seconds,omitempty"`
	// Tenths is the rate (links/s) over each tenth of the link build.
	Tenths []float64 `json:"tenths,omitempty"`
}

// lbRun is one run of the benchmark on one database.
type lbRun struct {
	t       *testing.T
	ctx     context.Context
	n       int    // links to build
	runs    int    // queries per shape
	seed    uint64 // of rng
	workers int    // goroutines that build
	rng     *rand.Rand
	gen     *lbGen
	clk     *lbClock
	start   time.Time // the first created_at of the build

	pg     bool         // PostgreSQL, not SQLite
	cfg    store.Config // how the store opens (again)
	dir    string       // the data directory
	st     *store.Store
	raw    *sqlx.DB  // a second connection: plans, the statement breakdown, experiments
	server *lbServer // PostgreSQL's backends, for their CPU time
	bucket string

	meta         lbMeta
	reused       bool          // SQLite: the build was kept from an earlier run
	optimizeTime time.Duration // Store.Optimize after the build
	vacuumTime   time.Duration // PostgreSQL: VACUUM (ANALYZE) after the build
	hasCounts    bool          // the schema has link_counts
	targetRows   int
	tagRows      int

	creates               []lbCreateRow
	shapes                []*lbShape
	loadBefore, loadAfter string

	sqlite   *lbSQLiteExtras // what only SQLite reports
	postgres *lbPGExtras     // what only PostgreSQL reports
}

func TestLinkListLatency(t *testing.T) {
	if os.Getenv("SESAME_BENCH_LINKS") == "" {
		t.Skip("set SESAME_BENCH_LINKS to the number of links (e.g. 1000000) to run the share-link benchmark")
	}
	r := &lbRun{
		t:       t,
		ctx:     context.Background(),
		n:       lbEnvInt(t, "SESAME_BENCH_LINKS", 0),
		runs:    lbEnvInt(t, "SESAME_BENCH_LINKS_QUERIES", lbDefaultRuns),
		seed:    uint64(lbEnvInt(t, "SESAME_BENCH_LINKS_SEED", 1)),
		workers: lbEnvInt(t, "SESAME_BENCH_LINKS_WORKERS", lbDefaultWorkers),
		start:   lbEnd.Add(-lbDays * 24 * time.Hour),
	}
	r.rng = rand.New(rand.NewPCG(r.seed, 0x5e5a3e))
	r.gen = &lbGen{rng: r.rng}
	for i := range lbTags {
		r.gen.tags = append(r.gen.tags, fmt.Sprintf("tag-%04d", i))
	}
	r.clk = &lbClock{t: r.start.Add(-time.Hour)}

	if u := os.Getenv("SESAME_BENCH_LINKS_PG_URL"); u != "" {
		r.openPostgres(u)
	} else {
		r.openSQLite()
	}
	r.prepare()
	r.timeCreates()
	r.drawQueries()
	r.timeQueries()
	if r.pg {
		r.postgresExtras()
	} else {
		r.sqliteExtras()
	}
	r.writeReport()
}

// openStore opens the store with r.cfg.
func (r *lbRun) openStore() {
	st, err := store.Open(r.ctx, r.cfg)
	if err != nil {
		r.t.Fatal(err)
	}
	r.st = st
	r.bucket = st.DefaultBucket()
}

// dataDir makes a throw-away data directory.
func (r *lbRun) dataDir() string {
	parent := os.Getenv("SESAME_BENCH_LINKS_DIR")
	if parent == "" {
		parent = r.t.TempDir()
	}
	d, err := os.MkdirTemp(parent, "sesame-bench-links-")
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// prepare builds the store (or takes the kept build), then brings it to
// the state of a server's store of that size: statistics gathered.
func (r *lbRun) prepare() {
	t := r.t
	kept := os.Getenv("SESAME_BENCH_LINKS_DB") != ""
	if r.reused {
		r.undoSQLite()
		r.keptTargets()
		t.Logf("reusing the build of %d links in %s (built %s)", r.n, r.dir, r.meta.Built)
	} else {
		r.meta = r.build()
		if kept {
			b, _ := json.Marshal(r.meta)
			if err := os.WriteFile(filepath.Join(r.dir, lbMetaFile), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	if kept {
		t.Cleanup(r.undoSQLite) // before raw and st close (LIFO)
	}

	// The server refreshes SQLite's planner statistics at start and hourly
	// (Store.Optimize; nothing on PostgreSQL); a store that grew to this
	// size has had that done.
	s0 := time.Now()
	if err := r.st.Optimize(r.ctx); err != nil {
		t.Fatal(err)
	}
	r.optimizeTime = time.Since(s0)
	if r.pg {
		r.vacuum()
	} else {
		r.sqliteStats()
	}
	if err := r.raw.Get(&r.tagRows, `SELECT COUNT(*) FROM link_tags`); err != nil {
		t.Fatal(err)
	}
	if err := r.raw.Get(&r.targetRows, `SELECT COUNT(*) FROM link_targets`); err != nil {
		t.Fatal(err)
	}
}

// timeCreates times single-link creates, through the store and through
// the service.
func (r *lbRun) timeCreates() {
	t, st := r.t, r.st
	now := lbEnd
	r.clk.Set(now)
	row := lbCreateRow{name: "store.CreateLinks, 1 link per call"}
	for i := range lbSingles {
		now = now.Add(time.Second)
		r.clk.Set(now)
		in, auths := r.gen.storeLink(r.n+i, now)
		r.timeOne(&row, func() {
			if _, err := st.CreateLinks(r.ctx, []sesame.LinkCreate{in}, [][]sesame.LinkAuthenticator{auths}, now); err != nil {
				t.Fatal(err)
			}
		})
	}
	r.creates = append(r.creates, row)

	svc := &sesame.LinkService{Store: st, Policy: sesame.DefaultLinkPolicy(), Now: r.clk.Now} // no Hasher: no passwords
	admin := sesame.WithToken(r.ctx, &sesame.Token{ID: "stk_bench", Scopes: []sesame.Scope{sesame.ScopeAdmin}})
	row = lbCreateRow{name: "sesame.LinkService.Create (validation + store), 1 link per call"}
	for i := range lbSingles {
		now = now.Add(time.Second)
		r.clk.Set(now)
		in, _ := r.gen.link(r.n + lbSingles + i)
		r.timeOne(&row, func() {
			if _, err := svc.Create(admin, []sesame.LinkCreate{in}); err != nil {
				t.Fatal(err)
			}
		})
	}
	r.creates = append(r.creates, row)
	for _, c := range r.creates {
		t.Logf("%s: %.0f links/s, p50 %s ms, p99 %s ms", c.name, float64(len(c.lat))/lbSum(c.lat).Seconds(), lbMs(lbPct(c.lat, 50)), lbMs(lbPct(c.lat, 99)))
	}
}

// timeOne runs fn and adds its wall-clock time, this process's CPU time
// and, on PostgreSQL, the server's to row.
func (r *lbRun) timeOne(row *lbCreateRow, fn func()) {
	var before lbSnapshot
	if r.server != nil {
		before = r.server.snapshot()
	}
	c0, s := lbCPU(), time.Now()
	fn()
	row.lat, row.cpu = append(row.lat, time.Since(s)), append(row.cpu, lbCPU()-c0)
	if r.server != nil {
		row.srv = append(row.srv, r.server.snapshot().since(before))
	}
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

// lbDiscard is the store's logger: background problems are not the
// benchmark's business.
func lbDiscard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
