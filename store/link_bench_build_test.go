//go:build unix

package store_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sesame-share/sesame"
)

// lbTargetWorkers is the number of goroutines that create the targets: a
// file is a blob written and synced, then a transaction of its own, so
// most of its time is spent waiting.
const lbTargetWorkers = 8

// build makes the targets and r.n links through the store.
func (r *lbRun) build() lbMeta {
	t0 := time.Now()
	r.makeTargets()
	targets := time.Since(t0)
	r.t.Logf("created %d files and %d folders in %v", lbFiles, lbFolders, targets.Round(time.Millisecond))
	m := r.buildLinks()
	m.TargetsSeconds = targets.Seconds()
	m.DBBytes = r.dbBytes()
	return m
}

// makeTargets creates the files and folders that links point to; gen's
// files and folders are in the order of their names, whatever order the
// goroutines created them in.
func (r *lbRun) makeTargets() {
	st := r.st
	files := make([]string, lbFiles)
	folders := make([]string, lbFolders)
	file := func(i int) error {
		name := fmt.Sprintf("f%05d.txt", i)
		u, err := st.Stage(r.ctx, strings.NewReader("file "+name+"\n"), name, 0)
		if err != nil {
			return err
		}
		o, err := st.CreateFile(r.ctx, sesame.FileCreate{Placement: sesame.Placement{
			HasParentPath: true, ParentPath: fmt.Sprintf("/targets/d%03d", i/100), Name: name}}, u)
		if err != nil {
			return err
		}
		files[i] = o.ID
		return nil
	}
	folder := func(i int) error {
		o, err := st.CreateFolder(r.ctx, sesame.FolderCreate{Placement: sesame.Placement{
			HasParentPath: true, ParentPath: "/inbox", Name: fmt.Sprintf("u%04d", i)}})
		if err != nil {
			return err
		}
		folders[i] = o.ID
		return nil
	}
	// The first of each kind alone: it makes the folders above it.
	for _, first := range []func(int) error{file, folder} {
		if err := first(0); err != nil {
			r.t.Fatal(err)
		}
	}
	if err := lbParallel(lbTargetWorkers, lbFiles-1, func(i int) error { return file(i + 1) }); err != nil {
		r.t.Fatal(err)
	}
	if err := lbParallel(lbTargetWorkers, lbFolders-1, func(i int) error { return folder(i + 1) }); err != nil {
		r.t.Fatal(err)
	}
	r.gen.files, r.gen.folders = files, folders
}

// lbParallel runs fn(0), ..., fn(n-1) on workers goroutines and returns
// the first error; after one, no new call starts.
func lbParallel(workers, n int, fn func(i int) error) error {
	var next atomic.Int64
	var failed atomic.Bool
	var once sync.Once
	var first error
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
					failed.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// lbBatchJob is one CreateLinks call of the build.
type lbBatchJob struct {
	now    time.Time
	items  []sesame.LinkCreate
	hashed [][]sesame.LinkAuthenticator
}

// lbProgress counts the links built and when each tenth was reached.
type lbProgress struct {
	mu     sync.Mutex
	n      int
	done   int
	t0     time.Time
	tenths []time.Duration
}

func (p *lbProgress) add(k int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += k
	for len(p.tenths) < 10 && p.done*10 >= (len(p.tenths)+1)*p.n {
		p.tenths = append(p.tenths, time.Since(p.t0))
	}
}

func (p *lbProgress) get() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done
}

// rates is links/s over each tenth of the build.
func (p *lbProgress) rates() []float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []float64
	var prev time.Duration
	for _, d := range p.tenths {
		out = append(out, float64(p.n)/10/(d-prev).Seconds())
		prev = d
	}
	return out
}

// buildLinks creates r.n links in CreateLinks calls of lbBatch, from
// r.workers goroutines. One goroutine draws the calls, in order, so that
// a seed gives the same links whatever the number of workers; created_at
// moves forward through the year, as it would in a live server, and the
// links of a call share one. Calls that run at once share a transaction
// (the store's group commit), each inside its own savepoint.
func (r *lbRun) buildLinks() lbMeta {
	t, n := r.t, r.n
	batches := (n + lbBatch - 1) / lbBatch
	step := time.Duration(lbDays) * 24 * time.Hour / time.Duration(batches)
	jobs := make(chan lbBatchJob, r.workers)
	stop := make(chan struct{})
	var stopOnce sync.Once
	var errMu sync.Mutex
	var firstErr error
	fail := func(err error) {
		errMu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		errMu.Unlock()
		stopOnce.Do(func() { close(stop) })
	}
	go func() {
		defer close(jobs)
		made := 0
		for b := range batches {
			now := r.start.Add(time.Duration(b)*step + time.Duration(r.rng.Int64N(int64(step)))).Truncate(time.Microsecond)
			k := min(lbBatch, n-made)
			j := lbBatchJob{now: now, items: make([]sesame.LinkCreate, k), hashed: make([][]sesame.LinkAuthenticator, k)}
			for i := range k {
				j.items[i], j.hashed[i] = r.gen.storeLink(made+i, now)
				j.items[i].Source = fmt.Sprintf("/links/%d", i)
			}
			made += k
			select {
			case jobs <- j:
			case <-stop:
				return
			}
		}
	}()

	prog := &lbProgress{n: n, t0: time.Now()}
	var inCall atomic.Int64
	var srv0 lbSnapshot
	if r.server != nil {
		srv0 = r.server.snapshot()
	}
	cpu0 := lbCPU()
	var wg sync.WaitGroup
	for range r.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				select {
				case <-stop:
					continue // drain
				default:
				}
				r.clk.Set(j.now)
				s := time.Now()
				_, err := r.st.CreateLinks(r.ctx, j.items, j.hashed, j.now)
				inCall.Add(int64(time.Since(s)))
				if err != nil {
					fail(fmt.Errorf("build: %w", err))
					continue
				}
				prog.add(len(j.items))
			}
		}()
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
wait:
	for {
		select {
		case <-finished:
			break wait
		case <-tick.C:
			made, el := prog.get(), time.Since(prog.t0)
			t.Logf("built %d/%d links in %v (%.0f links/s)", made, n, el.Round(time.Second), float64(made)/el.Seconds())
		}
	}
	elapsed := time.Since(prog.t0)
	if firstErr != nil {
		t.Fatal(firstErr)
	}
	m := lbMeta{Links: n, Seed: r.seed, Built: time.Now().UTC().Format(time.RFC3339), BuildSeconds: elapsed.Seconds(),
		Workers: r.workers, InCallSeconds: time.Duration(inCall.Load()).Seconds(), CPUSeconds: (lbCPU() - cpu0).Seconds(), Tenths: prog.rates()}
	if r.server != nil {
		m.ServerCPUSeconds = r.server.snapshot().since(srv0).Seconds()
	}
	t.Logf("built %d links in %v (%.0f links/s) with %d goroutines; CPU %.1fs here, %.1fs in the server's backends",
		n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), r.workers, m.CPUSeconds, m.ServerCPUSeconds)
	return m
}

// dbBytes is the size of the database: the SQLite file and its WAL, or
// PostgreSQL's tables with their indexes and TOAST in the run's schema.
func (r *lbRun) dbBytes() int64 {
	var n int64
	if r.pg {
		err := r.raw.Get(&n, `SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::BIGINT FROM pg_class c
JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = current_schema() AND c.relkind = 'r'`)
		if err != nil {
			r.t.Fatal(err)
		}
		return n
	}
	for _, f := range []string{"sesame.db", "sesame.db-wal"} {
		if fi, err := os.Stat(filepath.Join(r.dir, f)); err == nil {
			n += fi.Size()
		}
	}
	return n
}
