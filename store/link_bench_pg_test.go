//go:build unix

package store_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/sesame-share/sesame/store"
)

// lbPGExtras is what only the PostgreSQL run reports.
type lbPGExtras struct {
	schema   string   // the run's schema, dropped at the end
	app      string   // application_name of the store's connections
	version  string   // server_version
	settings []string // "name = value" of the settings that matter here
	plans    string   // EXPLAIN (ANALYZE, BUFFERS) of the first query of each shape
}

// openPostgres opens the store on the PostgreSQL database at base, in a
// schema of its own (dropped at the end), with blobs and the key in a
// throw-away data directory.
func (r *lbRun) openPostgres(base string) {
	t := r.t
	if os.Getenv("SESAME_BENCH_LINKS_DB") != "" {
		t.Fatal("SESAME_BENCH_LINKS_DB keeps SQLite builds only; unset it to run on PostgreSQL")
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("SESAME_BENCH_LINKS_PG_URL must be a postgres:// URL (%v)", err)
	}
	r.pg = true
	b := make([]byte, 6)
	rand.Read(b)
	x := &lbPGExtras{schema: "bench_links_" + hex.EncodeToString(b)}
	x.app = "sesame-" + x.schema
	r.postgres = x

	admin, err := sqlx.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(`CREATE SCHEMA ` + x.schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() { // last: after the store and raw close
		if _, err := admin.Exec(`DROP SCHEMA ` + x.schema + ` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", x.schema, err)
		}
		admin.Close()
	})
	withParams := func(app string) string {
		v := *u
		q := v.Query()
		q.Set("search_path", x.schema)
		q.Set("application_name", app)
		v.RawQuery = q.Encode()
		return v.String()
	}

	r.dir = r.dataDir() // blobs and secret.key
	r.cfg = store.Config{DataDir: r.dir, DatabaseURL: withParams(x.app), Now: r.clk.Now, Logger: lbDiscard()}
	r.openStore()
	t.Cleanup(func() { r.st.Close() })
	raw, err := sqlx.Open("pgx", withParams(x.app+"-raw"))
	if err != nil {
		t.Fatal(err)
	}
	raw.SetMaxOpenConns(1)
	r.raw = raw
	t.Cleanup(func() { raw.Close() })

	if err := raw.Get(&x.version, `SHOW server_version`); err != nil {
		t.Fatal(err)
	}
	var settings []struct {
		Name  string `db:"name"`
		Value string `db:"value"`
	}
	if err := raw.Select(&settings, `SELECT name, current_setting(name) AS value FROM pg_settings WHERE name IN
('fsync', 'synchronous_commit', 'full_page_writes', 'shared_buffers', 'work_mem', 'effective_cache_size', 'random_page_cost', 'jit', 'max_connections')
ORDER BY name`); err != nil {
		t.Fatal(err)
	}
	for _, s := range settings {
		x.settings = append(x.settings, s.Name+" = "+s.Value)
	}

	r.server = &lbServer{t: t, raw: raw, app: x.app}
	var pid int
	if err := raw.Get(&pid, `SELECT pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	if _, ok := lbSchedTime(pid); !ok {
		t.Logf("the server's CPU time is not measured: its processes are not on this machine")
		r.server = nil
	}
}

// vacuum does what autovacuum does for a table that grew by a lot: the
// planner's statistics, and the visibility map that lets an index-only
// scan skip the table.
func (r *lbRun) vacuum() {
	t := r.t
	var tables []string
	if err := r.raw.Select(&tables, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename`); err != nil {
		t.Fatal(err)
	}
	s0 := time.Now()
	if _, err := r.raw.Exec(`VACUUM (ANALYZE) ` + strings.Join(tables, ", ")); err != nil {
		t.Fatalf("vacuum: %v", err)
	}
	r.vacuumTime = time.Since(s0)
	if err := r.raw.Get(&r.hasCounts, `SELECT to_regclass('link_counts') IS NOT NULL`); err != nil {
		t.Fatal(err)
	}
}

// postgresExtras records the plans of the first query of each shape, run
// with EXPLAIN (ANALYZE, BUFFERS).
func (r *lbRun) postgresExtras() {
	var b strings.Builder
	for _, sh := range r.shapes {
		if len(sh.queries) == 0 {
			continue
		}
		q := &sh.queries[0]
		fmt.Fprintf(&b, "(%s) %s\n\n", sh.key, sh.name)
		for _, s := range []struct {
			label string
			build func(q *lbQuery) (string, []any)
		}{{"-- count", lbCount}, {"-- page", lbPageStmt}} {
			sq, sa := s.build(q)
			b.WriteString(s.label + "\n" + sq + "\n" + r.pgExplain(sq, sa) + "\n")
		}
	}
	// loadLinks, the same for every shape: three lookups by the page's ids
	// (here those of the first query of (b)).
	if b0 := r.shapes[1]; len(b0.queries) > 0 {
		_, ids := r.sqlOne(b0.queries[0].pageSQL("links"))
		ids = ids[:min(len(ids), lbSize)]
		if len(ids) > 0 {
			b.WriteString("(loadLinks, every shape: three lookups by the page's ids; those of the first query of (b))\n\n")
			stmts, args := r.loadSQL(ids)
			for i, sq := range stmts {
				short := lbIDList.ReplaceAllString(strings.Replace(sq, lbLinkCols, "<linkCols>", 1), "IN (<"+strconv.Itoa(len(ids))+" ids>)")
				b.WriteString(short + "\n" + r.pgExplain(sq, args[i]) + "\n")
			}
		}
	}
	r.postgres.plans = b.String()
}

// pgExplain runs EXPLAIN (ANALYZE, BUFFERS) of a statement with ?
// placeholders.
func (r *lbRun) pgExplain(sq string, args []any) string {
	var lines []string
	if err := r.raw.Select(&lines, `EXPLAIN (ANALYZE, BUFFERS) `+r.raw.Rebind(sq), args...); err != nil {
		r.t.Fatalf("explain %s: %v", sq, err)
	}
	plan := strings.Join(lines, "\n") + "\n"
	// The page's 100 ids, spelt out in every node that uses them.
	return lbLongArray.ReplaceAllStringFunc(plan, func(s string) string {
		return fmt.Sprintf("'{<%d values>}'", strings.Count(s, ",")+1)
	})
}

var (
	// lbLongArray is an array constant in a plan too long to be worth reading.
	lbLongArray = regexp.MustCompile(`'\{[^'}]{200,}\}'`)
	// lbIDList is the list of placeholders of loadLinks' statements.
	lbIDList = regexp.MustCompile(`IN \(\?(, \?)*\)`)
)

// lbServer reads the CPU time of the PostgreSQL backends that serve the
// store's connections (those with its application_name), when the server
// runs on this machine: /proc/PID/schedstat counts nanoseconds on a CPU.
type lbServer struct {
	t   *testing.T
	raw *sqlx.DB
	app string
}

// lbSnapshot is each backend's CPU time so far.
type lbSnapshot map[int]time.Duration

func (s *lbServer) snapshot() lbSnapshot {
	var pids []int
	if err := s.raw.Select(&pids, `SELECT pid FROM pg_stat_activity WHERE application_name = $1`, s.app); err != nil {
		s.t.Fatal(err)
	}
	m := lbSnapshot{}
	for _, p := range pids {
		if d, ok := lbSchedTime(p); ok {
			m[p] = d
		}
	}
	return m
}

// since is the CPU time the backends used after before was taken; a
// backend that started since counts whole.
func (after lbSnapshot) since(before lbSnapshot) time.Duration {
	var d time.Duration
	for p, v := range after {
		d += v - before[p]
	}
	return d
}

// lbSchedTime is the time process pid has spent on a CPU.
func lbSchedTime(pid int) (time.Duration, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/schedstat", pid))
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, false
	}
	ns, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return 0, false
	}
	return time.Duration(ns), true
}
