package store_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jmoiron/sqlx"
)

// Concurrent writers share transactions, and each still gets its own
// outcome: a writer that fails (by its own choice, or on a constraint)
// is undone alone, the others commit.
func TestStore_GroupCommitKeepsEachCallersOutcome(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	exec := func(q string) func(context.Context, *sqlx.Tx) error {
		return func(ctx context.Context, tx *sqlx.Tx) error {
			_, err := tx.ExecContext(ctx, tx.Rebind(q))
			return err
		}
	}
	if err := ts.WriteTx(ctx, exec(`CREATE TABLE gc_test (k TEXT PRIMARY KEY)`)); err != nil {
		t.Fatal(err)
	}
	errNo := errors.New("changed my mind")
	const n = 120
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = ts.WriteTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
				if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO gc_test (k) VALUES (?)`), fmt.Sprintf("k%03d", i)); err != nil {
					return err
				}
				switch i % 3 {
				case 1:
					return errNo // after a write: it must be undone
				case 2: // a second row with a key taken by the first: a constraint error
					_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO gc_test (k) VALUES (?)`), fmt.Sprintf("k%03d", i))
					return err
				}
				return nil
			})
		}()
	}
	wg.Wait()
	var want []string
	for i, err := range errs {
		switch i % 3 {
		case 0:
			if err != nil {
				t.Errorf("writer %d: %v", i, err)
			}
			want = append(want, fmt.Sprintf("k%03d", i))
		case 1:
			if !errors.Is(err, errNo) {
				t.Errorf("writer %d: %v, want its own error", i, err)
			}
		case 2:
			if err == nil {
				t.Errorf("writer %d: no error for a duplicate key", i)
			}
		}
	}
	var got []string
	rows, err := ts.rawDB(t).QueryContext(ctx, `SELECT k FROM gc_test`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		got = append(got, k)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rows %v\nwant %v", got, want)
	}
}

// A writer's statements run even when its caller's context ends half-way
// (a cancelled statement would undo the writers that share its
// transaction); a writer whose context ended before its turn never runs.
func TestStore_GroupCommitAndCancellation(t *testing.T) {
	ts := newTestStore(t)
	bg := context.Background()
	if err := ts.WriteTx(bg, func(ctx context.Context, tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE gc_cancel (k TEXT PRIMARY KEY)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(bg)
	err := ts.WriteTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		cancel()
		_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO gc_cancel (k) VALUES (?)`), "after cancel")
		return err
	})
	if err != nil {
		t.Fatalf("a writer cancelled half-way: %v", err)
	}
	ran := false
	err = ts.WriteTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error { ran = true; return nil })
	if !errors.Is(err, context.Canceled) || ran {
		t.Errorf("a writer cancelled before its turn: %v, ran %v", err, ran)
	}
	var n int
	if err := ts.rawDB(t).QueryRowContext(bg, `SELECT COUNT(*) FROM gc_cancel`).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d rows (%v), want the one written after the cancel", n, err)
	}
}

// One batch, four callers in one transaction: the one that fails and the
// one that panics are undone to their savepoints; the others commit.
func TestStore_GroupCommitBatchUndoesOnlyTheFailed(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	if err := ts.WriteTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE gc_batch (k TEXT PRIMARY KEY)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	insert := func(k string, then func() error) func(context.Context, *sqlx.Tx) error {
		return func(ctx context.Context, tx *sqlx.Tx) error {
			if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO gc_batch (k) VALUES (?)`), k); err != nil {
				return err
			}
			return then()
		}
	}
	errNo := errors.New("changed my mind")
	errs := ts.RunBatch(
		insert("a", func() error { return nil }),
		insert("b", func() error { return errNo }),
		insert("c", func() error { panic("a bug") }),
		insert("d", func() error { return nil }))
	if errs[0] != nil || !errors.Is(errs[1], errNo) || errs[2] == nil || !strings.Contains(errs[2].Error(), "a bug") || errs[3] != nil {
		t.Errorf("answers %v; want nil, %v, the panic, nil", errs, errNo)
	}
	var got []string
	rows, err := ts.rawDB(t).QueryContext(ctx, `SELECT k FROM gc_batch ORDER BY k`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		got = append(got, k)
	}
	if diff := cmp.Diff([]string{"a", "d"}, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}
