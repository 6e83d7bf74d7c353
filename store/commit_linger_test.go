package store

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
)

// lingerStore opens a store whose writer lingers an hour: long enough
// that a test waiting on it fails by its timeout rather than by luck.
func lingerStore(t *testing.T) *Store {
	t.Helper()
	st, err := Open(context.Background(), Config{DataDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	st.writes.linger = time.Hour // read by the writer only after it receives a job sent below
	return st
}

// txOf is a job that records the transaction it ran in.
func txOf(got **sqlx.Tx) *writeJob {
	return &writeJob{ctx: context.Background(), done: make(chan error, 1),
		fn: func(ctx context.Context, tx *sqlx.Tx) error { *got = tx; return nil }}
}

// After transactions that served several callers, the writer gathers
// callers that come after the first one it took, up to maxBatch, and all
// of them share one transaction. Each job is sent only once the writer
// has taken the one before (the channel is unbuffered), so without the
// wait the first would have been committed alone long before the last
// was sent.
func TestWriter_LingersWhenWritesAreShared(t *testing.T) {
	st := lingerStore(t)
	st.writes.shared = lingerWindow
	txs := make([]*sqlx.Tx, maxBatch)
	jobs := make([]*writeJob, maxBatch)
	for i := range jobs {
		jobs[i] = txOf(&txs[i])
		st.writes.jobs <- jobs[i] // returns once the writer has taken it
		if i == maxBatch-2 {
			select {
			case err := <-jobs[0].done:
				t.Fatalf("the first caller was answered (%v) before the writer waited for others", err)
			default:
			}
		}
	}
	for _, j := range jobs {
		if err := <-j.done; err != nil {
			t.Fatal(err)
		}
	}
	for i, tx := range txs {
		if tx == nil || tx != txs[0] {
			t.Fatalf("caller %d ran in transaction %p, caller 0 in %p; want one for all", i, tx, txs[0])
		}
	}
}

// A writer that has not seen shared transactions does not wait: with a
// one-hour linger, lone callers one after another are each answered at
// once (else this test runs into its timeout).
func TestWriter_LoneCallersDoNotLinger(t *testing.T) {
	st := lingerStore(t)
	seen := map[*sqlx.Tx]bool{}
	for range 5 {
		var tx *sqlx.Tx
		j := txOf(&tx)
		st.writes.jobs <- j
		if err := <-j.done; err != nil {
			t.Fatal(err)
		}
		if tx == nil || seen[tx] {
			t.Fatalf("caller ran in transaction %p, want a new one", tx)
		}
		seen[tx] = true
	}
	if st.writes.shared != 0 {
		t.Errorf("shared = %d after lone callers, want 0", st.writes.shared)
	}
}
