package store

import (
	"context"

	"github.com/jmoiron/sqlx"
)

// WriteTx lets the tests drive the writer with their own statements.
func (st *Store) WriteTx(ctx context.Context, fn func(ctx context.Context, tx *sqlx.Tx) error) error {
	return st.withTx(ctx, fn)
}
