package store_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/jmoiron/sqlx"
	_ "github.com/mattn/go-sqlite3" // the raw SQLite connections of rawDB

	"github.com/sesame-share/sesame/store"
)

// The store's tests run on SQLite, or on PostgreSQL when
// SESAME_TEST_POSTGRES_DSN names a database the tests may create schemas in
// (scripts/test.sh starts a throw-away server for that). Each data directory
// gets a schema of its own, so that every test starts from an empty
// database and reopening a directory finds its rows again.
var postgresDSN = os.Getenv("SESAME_TEST_POSTGRES_DSN")

// onPostgres reports whether the tests run against PostgreSQL.
func onPostgres() bool { return postgresDSN != "" }

var (
	adminOnce sync.Once
	adminDB   *sql.DB
	adminErr  error
	schemas   sync.Map // data directory → schema name, once created
)

// databaseURL returns the store.Config DatabaseURL for the data directory
// dir: "" (SQLite in dir) or a PostgreSQL URL whose search_path is a schema
// made for dir and dropped when the test ends.
func databaseURL(t testing.TB, dir string) string {
	t.Helper()
	if !onPostgres() {
		return ""
	}
	adminOnce.Do(func() { adminDB, adminErr = sql.Open("pgx", postgresDSN) })
	if adminErr != nil {
		t.Fatalf("open %s: %v", postgresDSN, adminErr)
	}
	sum := sha256.Sum256([]byte(dir))
	schema := "t_" + hex.EncodeToString(sum[:10])
	if _, loaded := schemas.LoadOrStore(dir, schema); !loaded {
		if _, err := adminDB.Exec(`CREATE SCHEMA ` + schema); err != nil {
			t.Fatalf("create schema for %s: %v", dir, err)
		}
		t.Cleanup(func() {
			if _, err := adminDB.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
				t.Errorf("drop schema %s: %v", schema, err)
			}
			schemas.Delete(dir)
		})
	}
	u, err := url.Parse(postgresDSN)
	if err != nil {
		t.Fatalf("SESAME_TEST_POSTGRES_DSN: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// rawDB opens a second connection to the store's database, for reading and
// changing rows behind the store's back. Its statements use ? placeholders
// on both dialects.
func (ts *testStore) rawDB(t *testing.T) *sql.DB {
	t.Helper()
	var db *sql.DB
	var err error
	if onPostgres() {
		db, err = sql.Open("pgx-rebind", databaseURL(t, ts.dir))
	} else {
		db, err = sql.Open("sqlite3", store.DSN(filepath.Join(ts.dir, "sesame.db")))
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() }) // before the store closes (LIFO)
	return db
}

// dbPart is one piece of what the database stores.
type dbPart struct {
	name string
	data []byte
}

// dbParts returns every byte the database holds: on SQLite the database
// file and its WAL files, on PostgreSQL the value of every column of every
// row of the test's schema.
func (ts *testStore) dbParts(t *testing.T) []dbPart {
	t.Helper()
	if onPostgres() {
		return []dbPart{{"the schema's rows", ts.rowBytes(t)}}
	}
	db := filepath.Join(ts.dir, "sesame.db")
	var parts []dbPart
	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		b, err := os.ReadFile(p)
		if os.IsNotExist(err) && p != db {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, dbPart{filepath.Base(p), b})
	}
	return parts
}

// dbBytes returns every byte the database holds, as one slice.
func (ts *testStore) dbBytes(t *testing.T) []byte {
	t.Helper()
	var all []byte
	for _, p := range ts.dbParts(t) {
		all = append(all, p.data...)
	}
	return all
}

// rowBytes returns the values of every column of every row in the tables
// of the test's PostgreSQL schema.
func (ts *testStore) rowBytes(t *testing.T) []byte {
	t.Helper()
	db := ts.rawDB(t)
	var tables []string
	rows, err := db.Query(`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	var all []byte
	for _, table := range tables {
		all = append(all, tableBytes(t, db, table)...)
	}
	return all
}

func tableBytes(t *testing.T, db *sql.DB, table string) []byte {
	t.Helper()
	rows, err := db.Query(`SELECT * FROM ` + table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var all []byte
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			all = append(all, v...)
			all = append(all, 0)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return all
}

func init() {
	sql.Register("pgx-rebind", rebindDriver{stdlib.GetDefaultDriver()})
}

// rebindDriver is the pgx driver for statements written with ?
// placeholders, as the tests' raw statements are.
type rebindDriver struct{ driver.Driver }

func (d rebindDriver) Open(name string) (driver.Conn, error) {
	c, err := d.Driver.Open(name)
	if err != nil {
		return nil, err
	}
	return rebindConn{c.(*stdlib.Conn)}, nil
}

type rebindConn struct{ *stdlib.Conn }

func rebind(query string) string { return sqlx.Rebind(sqlx.DOLLAR, query) }

func (c rebindConn) Prepare(query string) (driver.Stmt, error) {
	return c.Conn.Prepare(rebind(query))
}

func (c rebindConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.PrepareContext(ctx, rebind(query))
}

func (c rebindConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.Conn.ExecContext(ctx, rebind(query), args)
}

func (c rebindConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.Conn.QueryContext(ctx, rebind(query), args)
}
