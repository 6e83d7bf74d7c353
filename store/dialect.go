package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/jmoiron/sqlx"
	"github.com/mattn/go-sqlite3"

	"github.com/sesame-share/sesame"
)

// dialect is the seam between SQLite and PostgreSQL: the few pieces of SQL
// and behaviour where the two disagree. Every other query is the same text,
// with its ? placeholders turned into the driver's by sqlx Rebind.
type dialect struct {
	// name is "sqlite" or "postgres", also the migrations' folder.
	name string
	// like is the operator for a case-insensitive pattern match (SQLite's
	// LIKE ignores ASCII case; PostgreSQL's does not).
	like string
	// greatest is the scalar function that returns the larger argument.
	greatest string
	// insertionOrder is the column that orders session_uploads as inserted.
	insertionOrder string
	// skipLocked ends a SELECT whose rows a worker claims: rows another
	// worker is claiming are skipped, not waited for.
	skipLocked string
	// tagMatch is the condition that objects.tags (a JSON array) holds the
	// one bound value.
	tagMatch string
	// jsonRows and jsonRow gather rows into a JSON array of arrays: the
	// aggregate, and the function that makes one row's array.
	jsonRows, jsonRow string
	// bytes is the type of binary columns.
	bytes string
}

var (
	sqliteDialect = &dialect{
		name:           "sqlite",
		like:           "LIKE",
		greatest:       "MAX",
		insertionOrder: "rowid",
		tagMatch:       "EXISTS (SELECT 1 FROM json_each(objects.tags) WHERE value = ?)",
		jsonRows:       "json_group_array",
		jsonRow:        "json_array",
		bytes:          "BLOB",
	}
	postgresDialect = &dialect{
		name:           "postgres",
		like:           "ILIKE",
		greatest:       "GREATEST",
		insertionOrder: "seq",
		skipLocked:     " FOR UPDATE SKIP LOCKED",
		tagMatch:       "EXISTS (SELECT 1 FROM jsonb_array_elements_text(objects.tags::jsonb) AS t (value) WHERE value = ?)",
		jsonRows:       "json_agg",
		jsonRow:        "json_build_array",
		bytes:          "BYTEA",
	}
)

// Advisory lock keys (PostgreSQL): one for migrations, one that every
// write transaction holds.
const (
	migrateLockKey int64 = 0x5345_5341_4d45_0001
	writeLockKey   int64 = 0x5345_5341_4d45_0002
)

// defaultMaxConns bounds a PostgreSQL pool when the configuration does not.
const defaultMaxConns = 10

// isPostgresURL reports whether url names a PostgreSQL database.
func isPostgresURL(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

// openPostgres opens a pool on the PostgreSQL database at url. TLS and the
// other connection settings come from the URL; a positive statementTimeout
// is set on every connection.
func openPostgres(url string, maxConns int, statementTimeout time.Duration) (*sqlx.DB, error) {
	cc, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, &sesame.Error{Kind: sesame.Invalid, Message: "The database URL is not valid.", Err: err}
	}
	if statementTimeout > 0 {
		cc.RuntimeParams["statement_timeout"] = strconv.FormatInt(statementTimeout.Milliseconds(), 10)
	}
	if maxConns <= 0 {
		maxConns = defaultMaxConns
	}
	db := sqlx.NewDb(stdlib.OpenDB(*cc), "pgx")
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxLifetime(time.Hour)
	return db, nil
}

// withAdvisoryLock runs fn while this process holds the PostgreSQL
// advisory lock key on one connection of db: replicas that start together
// run fn one after another.
func withAdvisoryLock(ctx context.Context, db *sqlx.DB, key int64, fn func() error) error {
	conn, err := db.Connx(ctx)
	if err != nil {
		return fmt.Errorf("store: lock connection: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
		return fmt.Errorf("store: advisory lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, key)
	return fn()
}

// beginWrite prepares a write transaction. On PostgreSQL it takes the
// transaction-scoped write lock, so that write transactions run one at a
// time across every replica, as SQLite's one writer does: the transactions
// read and then write (paths of a moved folder, caps, upserts) and rely on
// nothing changing between the two.
func (d *dialect) beginWrite(ctx context.Context, tx *sqlx.Tx) error {
	if d != postgresDialect {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, writeLockKey); err != nil {
		return fmt.Errorf("store: write lock: %w", err)
	}
	return nil
}

// translate classifies driver errors by code.
func translate(err error) error {
	if err == nil || sesame.AsError(err) != nil {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return &sesame.Error{Kind: sesame.NotFound, Err: err}
	}
	var se sqlite3.Error
	if errors.As(err, &se) {
		return translateSQLite(err, se)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return translatePostgres(err, pe)
	}
	return err
}

func translateSQLite(err error, se sqlite3.Error) error {
	switch {
	case se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey:
		return &sesame.Error{Kind: sesame.Conflict, Err: err}
	case se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked:
		return &sesame.Error{Kind: sesame.Unavailable, Message: "The server is busy; try again.", Err: err}
	case se.Code == sqlite3.ErrFull:
		return &sesame.Error{Kind: sesame.NoSpace, Message: "The server has no space left.", Err: err}
	}
	return err
}

// PostgreSQL error codes (SQLSTATE) that translate classifies.
const (
	pgUniqueViolation      = "23505"
	pgSerializationFailure = "40001"
	pgDeadlockDetected     = "40P01"
	pgLockNotAvailable     = "55P03"
	pgQueryCanceled        = "57014" // statement_timeout
	pgTooManyConnections   = "53300"
	pgDiskFull             = "53100"
)

func translatePostgres(err error, pe *pgconn.PgError) error {
	switch pe.Code {
	case pgUniqueViolation:
		return &sesame.Error{Kind: sesame.Conflict, Err: err}
	case pgSerializationFailure, pgDeadlockDetected, pgLockNotAvailable, pgQueryCanceled, pgTooManyConnections:
		return &sesame.Error{Kind: sesame.Unavailable, Message: "The server is busy; try again.", Err: err}
	case pgDiskFull:
		return &sesame.Error{Kind: sesame.NoSpace, Message: "The server has no space left.", Err: err}
	}
	return err
}
