package store

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/sesame-share/sesame"
)

// Group commit. Every write transaction of the store goes through one
// writer goroutine. Callers that arrive while a transaction runs queue up,
// and the next transaction runs all of them, each inside its own
// savepoint, and commits once: concurrent writers share one commit (one
// WAL write on SQLite, one advisory lock and one commit on PostgreSQL),
// and each caller returns only after the commit that holds its writes. A
// caller whose function fails is rolled back to its savepoint alone.
//
// A caller's function runs with its context's values but without its
// cancellation: a statement cancelled half-way would abort the whole
// transaction on PostgreSQL and roll it back on SQLite, taking the other
// callers' writes with it. A caller that is gone before its turn is
// skipped.

// maxBatch bounds the callers one transaction serves.
const maxBatch = 64

// When writers run concurrently, the writer waits up to lingerFor after
// the first caller of a transaction for others to join it, so that more
// of them share one commit. Callers that come one after another (one
// client, or the next write of a request waiting on this one) cannot
// join, so the writer lingers only after a transaction of its last
// lingerWindow served more than one caller.
const (
	lingerFor    = 100 * time.Microsecond
	lingerWindow = 32
)

var errStoreClosed = &sesame.Error{Kind: sesame.Unavailable, Message: "The service is shutting down; try again.", Err: errors.New("store: closed")}

type writeJob struct {
	ctx  context.Context
	fn   func(ctx context.Context, tx *sqlx.Tx) error
	err  error
	done chan error
}

type writer struct {
	jobs chan *writeJob // unbuffered: a send is a caller the writer has taken
	quit chan struct{}
	done chan struct{}
	stop sync.Once

	linger time.Duration // lingerFor; tests set it longer
	shared int           // transactions to go before lingering stops; see lingerFor
	timer  *time.Timer   // stopped between fills
}

func (st *Store) startWriter() {
	st.writes = &writer{jobs: make(chan *writeJob), quit: make(chan struct{}), done: make(chan struct{}), linger: lingerFor,
		timer: time.NewTimer(time.Hour)}
	st.writes.timer.Stop()
	go st.runWriter()
}

// stopWriter waits for the transaction in progress, if any; later
// callers get errStoreClosed.
func (st *Store) stopWriter() {
	if st.writes == nil {
		return
	}
	st.writes.stop.Do(func() { close(st.writes.quit) })
	<-st.writes.done
}

// withTx runs fn in a write transaction, shared with the callers that
// queue beside it, and records the caller's AuditNote events as written
// once that transaction commits.
func (st *Store) withTx(ctx context.Context, fn func(ctx context.Context, tx *sqlx.Tx) error) error {
	note := sesame.AuditNoteFrom(ctx)
	j := &writeJob{ctx: ctx, fn: fn, done: make(chan error, 1)}
	var err error
	select {
	case st.writes.jobs <- j:
		err = <-j.done
	case <-st.writes.quit:
		err = errStoreClosed
	case <-ctx.Done():
		err = ctx.Err()
	}
	if note != nil {
		if err != nil {
			note.Abort()
		} else {
			note.Commit()
		}
	}
	return translate(err)
}

func (st *Store) runWriter() {
	w := st.writes
	defer close(w.done)
	for {
		var batch []*writeJob
		select {
		case j := <-w.jobs:
			batch = append(batch, j)
		case <-w.quit:
			return
		}
		batch = w.fill(batch)
		if len(batch) > 1 {
			w.shared = lingerWindow
		} else if w.shared > 0 {
			w.shared--
		}
		st.runBatch(batch)
	}
}

// fill adds the callers waiting to batch; while recent transactions were
// shared, it waits up to w.linger for more.
func (w *writer) fill(batch []*writeJob) []*writeJob {
	if w.shared == 0 {
		for len(batch) < maxBatch {
			select {
			case j := <-w.jobs:
				batch = append(batch, j)
			default:
				return batch
			}
		}
		return batch
	}
	w.timer.Reset(w.linger)
	defer w.timer.Stop()
	for len(batch) < maxBatch {
		select {
		case j := <-w.jobs:
			batch = append(batch, j)
		case <-w.timer.C:
			return batch
		case <-w.quit:
			return batch
		}
	}
	return batch
}

// runBatch runs the callers' functions in one transaction and answers
// each of them.
func (st *Store) runBatch(batch []*writeJob) {
	live := batch[:0]
	for _, j := range batch {
		if err := j.ctx.Err(); err != nil {
			j.done <- err
			continue
		}
		live = append(live, j)
	}
	if len(live) == 0 {
		return
	}
	err := st.commitBatch(live)
	for _, j := range live {
		if j.err == nil {
			j.err = err
		}
		j.done <- j.err
	}
}

// commitBatch runs live in one transaction; a lone caller needs no
// savepoint. It returns the error that undid every caller's writes.
func (st *Store) commitBatch(live []*writeJob) error {
	ctx, cancel := batchContext(live)
	defer cancel()
	tx, err := st.w.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback() // no-op after Commit
	// Messages of a transaction that rolled back are not there to send.
	st.queued.Store(false)
	if err := st.dialect.beginWrite(ctx, tx); err != nil {
		return err
	}
	if len(live) == 1 {
		j := live[0]
		if j.err = st.call(j, tx); j.err != nil {
			return nil // rolled back by the deferred Rollback
		}
	} else {
		for _, j := range live {
			if err := st.runSaved(ctx, tx, j); err != nil {
				return err
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	st.notifyQueued()
	return nil
}

// runSaved runs one caller inside a savepoint, and rolls back to it when
// the caller fails. Its error is one that leaves the transaction unusable.
func (st *Store) runSaved(ctx context.Context, tx *sqlx.Tx, j *writeJob) error {
	if _, err := tx.ExecContext(ctx, `SAVEPOINT caller`); err != nil {
		return fmt.Errorf("store: savepoint: %w", err)
	}
	if j.err = st.call(j, tx); j.err != nil {
		if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT caller`); err != nil {
			return fmt.Errorf("store: rollback to savepoint: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `RELEASE SAVEPOINT caller`); err != nil {
		return fmt.Errorf("store: release savepoint: %w", err)
	}
	return nil
}

// call runs one caller's function. A panic in it is that caller's error
// (and is logged with its stack): the writer goes on serving the others.
func (st *Store) call(j *writeJob, tx *sqlx.Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			st.log.Error("write transaction panicked", "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("store: write panicked: %v", r)
		}
	}()
	return j.fn(context.WithoutCancel(j.ctx), tx)
}

// batchContext bounds the transaction's own statements (begin, the write
// lock on PostgreSQL, savepoints, commit) by the latest deadline among
// its callers; a caller without one leaves it unbounded.
func batchContext(live []*writeJob) (context.Context, context.CancelFunc) {
	var latest time.Time
	for _, j := range live {
		d, ok := j.ctx.Deadline()
		if !ok {
			return context.Background(), func() {}
		}
		if d.After(latest) {
			latest = d
		}
	}
	return context.WithDeadline(context.Background(), latest)
}
