package store

import (
	"context"

	"github.com/jmoiron/sqlx"
)

// WriteTx lets the tests drive the writer with their own statements.
func (st *Store) WriteTx(ctx context.Context, fn func(ctx context.Context, tx *sqlx.Tx) error) error {
	return st.withTx(ctx, fn)
}

// RunBatch runs fns as one batch of the writer, as callers that queued
// together would be, and returns each one's answer.
func (st *Store) RunBatch(fns ...func(ctx context.Context, tx *sqlx.Tx) error) []error {
	jobs := make([]*writeJob, len(fns))
	for i, fn := range fns {
		jobs[i] = &writeJob{ctx: context.Background(), fn: fn, done: make(chan error, 1)}
	}
	st.runBatch(jobs)
	errs := make([]error, len(jobs))
	for i, j := range jobs {
		errs[i] = <-j.done
	}
	return errs
}
