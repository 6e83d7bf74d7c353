// Package store implements the sesame storage roles (sesame.ObjectReader,
// sesame.ObjectWriter, sesame.BlobStore, sesame.TokenStore,
// sesame.PendingUploads and sesame.Grants) on SQLite or PostgreSQL through
// sqlx, with payloads as files on the local disk or objects in an
// S3-compatible bucket.
package store

import (
	"context"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/mattn/go-sqlite3"

	"github.com/sesame-share/sesame"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// Config says where the store keeps its rows and files.
type Config struct {
	// DataDir holds the blobs, the master key unless SecretKeyFile is set
	// (secret.key, made on first use) and, without DatabaseURL, the
	// SQLite database.
	DataDir string
	// SecretKeyFile names the master key file that replicas share. Open
	// refuses to start when it is set but missing or malformed; it never
	// makes a key there. Empty means secret.key in DataDir.
	SecretKeyFile string
	// DatabaseURL names the database: empty means SQLite in DataDir, a
	// postgres:// (or postgresql://) URL a PostgreSQL database, whose TLS
	// and other connection settings come from the URL.
	DatabaseURL string
	// MaxConns bounds the connections the store opens for reads (SQLite)
	// or for everything (PostgreSQL); 0 means no bound on SQLite and 10
	// on PostgreSQL.
	MaxConns int
	// StatementTimeout cancels a PostgreSQL statement that runs longer
	// (0: no limit). SQLite ignores it.
	StatementTimeout time.Duration
	// Logger receives background problems; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Exclusive takes the data directory's lock, which one process (the
	// server) holds: Open returns a Conflict while another process holds
	// it. Only the holder sweeps what a crash left behind (staged uploads,
	// orphan blobs); other processes (the CLI, sesame mcp) share the
	// directory and never remove files.
	Exclusive bool
	// S3, when set, keeps the blobs in an S3-compatible bucket instead of
	// the blobs directory; nil means the local disk.
	S3 *S3Config
	// MinFreeSpace is the reserve, in bytes: Stage refuses bytes that
	// would leave less free on the data disk (0: no reserve). It applies
	// to blobs on the disk only.
	MinFreeSpace int64
	// FreeSpace reports the bytes free on the data disk; nil measures the
	// disk of the blob directory.
	FreeSpace func() (int64, error)
	// DefaultFileTTL is the file TTL of the service configuration, which
	// files inherit when no folder above them sets one: "" or "never"
	// keeps them, a duration ("30d") deletes them that long after they
	// were made. Changing it applies to every file that inherits it.
	DefaultFileTTL sesame.FileTTL
	// migrateTo stops the migrations at this version (0: apply all), for
	// an import of an export made at that version.
	migrateTo int
	// noSweep keeps an Exclusive Open from sweeping: an import's target
	// may hold blobs that are not its own (the source's), which it refuses
	// to touch.
	noSweep bool
}

// Store is the SQLite or PostgreSQL and local-disk or S3 implementation of
// the storage roles.
type Store struct {
	db *sqlx.DB // reads, on as many connections as they need
	// w carries every write. On SQLite it is one connection: writers queue
	// in the pool, in order and within their request's deadline, instead
	// of racing for SQLite's lock and sleeping in its busy handler. On
	// PostgreSQL it is db.
	w *sqlx.DB
	// owner renders owner notification emails; nil: none are queued.
	owner sesame.OwnerMailer
	// auditObserver, when set, sees every audit event written.
	auditObserver atomic.Pointer[func(*sesame.AuditEvent)]
	// blobObserver, when set, is told of every failed blob store call.
	blobObserver atomic.Pointer[func(op string)]
	dialect      *dialect
	dir          string
	keys         *Keys
	log          *slog.Logger
	now          func() time.Time
	bucket       string // the default bucket id
	blobs        blobBackend
	blobDir      string
	lock         *os.File // the data directory's lock, when Exclusive
	reserve      int64
	// freeSpace reports the bytes free on the data disk.
	freeSpace func() (int64, error)
	// decoy is read in place of a link for an unknown token (LinkByToken).
	decoy decoyLink
	// writes runs every write transaction (withTx), several callers to a
	// commit.
	writes *writer
	// macs holds keyed HMAC-SHA256 states for mac, reset after each use.
	macs sync.Pool
	// aead seals and unseals with keys.Seal, made on first use.
	aeadOnce sync.Once
	aead     cipher.AEAD
	aeadErr  error
	// lastSweep is when the blobs were last swept, in UnixNano of now.
	lastSweep atomic.Int64
	// migrateTo is Config.migrateTo.
	migrateTo int
	// ttl is the service's default file TTL.
	ttl ttlDefault
	// onQueued, when set, is called after a commit that queued outbox
	// messages; queued notes that the transaction in progress did.
	onQueued atomic.Pointer[func()]
	queued   atomic.Bool
}

var (
	_ sesame.ObjectReader   = (*Store)(nil)
	_ sesame.ObjectWriter   = (*Store)(nil)
	_ sesame.BlobStore      = (*Store)(nil)
	_ sesame.TokenStore     = (*Store)(nil)
	_ sesame.PendingUploads = (*Store)(nil)
	_ sesame.Grants         = (*Store)(nil)
)

// DSN returns the SQLite connection string for a database file, with the
// per-connection settings in it so that every pooled connection has them.
func DSN(path string) string { return dsn(path, "immediate") }

// dsn returns the connection string with the given _txlock: "immediate"
// for the store's connections, whose transactions all write, "deferred"
// for a read transaction that must block no writer.
func dsn(path, txlock string) string {
	// The path is part of a URI: '%', '?' and '#' must be escaped, or
	// SQLite opens another file (and drops the settings after them).
	path = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	// Each connection keeps its last 64 prepared statements: the queries
	// are a fixed set, and preparing them again was a fifth of a small
	// download's CPU.
	return "file:" + path + "?_foreign_keys=1&_busy_timeout=10000&_journal_mode=WAL&_synchronous=NORMAL&_stmt_cache_size=64&_txlock=" + txlock
}

// Open opens (creating if needed) the store in cfg.DataDir, applies pending
// migrations and loads the master key: cfg.SecretKeyFile, or secret.key in
// the data directory, generated on first start. With cfg.Exclusive it
// first takes the data directory's lock and then sweeps what an earlier
// crash left behind.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	st := &Store{dir: cfg.DataDir, log: cfg.Logger, now: cfg.Now, reserve: cfg.MinFreeSpace, freeSpace: cfg.FreeSpace, migrateTo: cfg.migrateTo}
	if st.log == nil {
		st.log = slog.Default()
	}
	if st.now == nil {
		st.now = time.Now
	}
	if st.freeSpace == nil {
		st.freeSpace = st.FreeBytes
	}
	var err error
	if st.ttl, err = newTTLDefault(cfg.DefaultFileTTL); err != nil {
		return nil, err
	}
	if cfg.SecretKeyFile != "" {
		// Before anything is created: a missing key creates nothing.
		keys, err := ReadKeys(cfg.SecretKeyFile)
		if err != nil {
			return nil, err
		}
		st.keys = keys
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create %s: %w", cfg.DataDir, err)
	}
	if err := st.openBlobs(ctx, cfg); err != nil {
		return nil, err
	}
	if cfg.Exclusive {
		lock, err := lockDataDir(cfg.DataDir)
		if err != nil {
			return nil, err
		}
		st.lock = lock
	}
	if st.keys == nil {
		if st.keys, err = LoadKeys(filepath.Join(cfg.DataDir, "secret.key")); err != nil {
			st.unlock()
			return nil, err
		}
	}
	if err := st.openDB(cfg); err != nil {
		st.unlock()
		return nil, err
	}
	st.startWriter()
	if err := st.migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	if err := st.ensureBucket(ctx); err != nil {
		st.Close()
		return nil, err
	}
	st.ttl.configID = sesame.ServiceConfigID(st.bucket)
	if st.lock != nil && !cfg.noSweep {
		if err := st.sweep(ctx); err != nil {
			st.Close()
			return nil, err
		}
	}
	if err := st.Optimize(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// openBlobs opens the blob backend that cfg names: the blobs directory,
// or the bucket (made when missing).
func (st *Store) openBlobs(ctx context.Context, cfg Config) error {
	st.blobDir = filepath.Join(cfg.DataDir, "blobs")
	if cfg.S3 != nil {
		b, err := openS3Blobs(ctx, *cfg.S3, st.log, st.now)
		if err != nil {
			return err
		}
		st.blobs, st.reserve = b, 0
		return nil
	}
	d, err := newDiskBlobs(cfg.DataDir, st.log)
	if err != nil {
		return err
	}
	st.blobs = d
	return nil
}

// openDB opens the database that cfg names.
func (st *Store) openDB(cfg Config) error {
	switch {
	case cfg.DatabaseURL == "":
		db, w, err := openSQLite(filepath.Join(cfg.DataDir, "sesame.db"))
		if err != nil {
			return err
		}
		if cfg.MaxConns > 0 {
			db.SetMaxOpenConns(cfg.MaxConns)
		}
		st.db, st.w, st.dialect = db, w, sqliteDialect
	case isPostgresURL(cfg.DatabaseURL):
		db, err := openPostgres(cfg.DatabaseURL, cfg.MaxConns, cfg.StatementTimeout)
		if err != nil {
			return err
		}
		st.db, st.w, st.dialect = db, db, postgresDialect
	default:
		return &sesame.Error{Kind: sesame.Invalid, Message: "The database URL must be empty (SQLite) or start with postgres://."}
	}
	return nil
}

// sqliteConnector opens connections to dsn with mattn/go-sqlite3 and the
// store's per-connection settings that a connection string cannot carry:
// temporary files (the statement journal of an INSERT that fires a
// trigger, sorts) stay in memory, where each link create used to open and
// delete one.
type sqliteConnector struct {
	dsn string
	drv *sqlite3.SQLiteDriver
}

func newSQLiteConnector(dsn string) *sqliteConnector {
	return &sqliteConnector{dsn: dsn, drv: &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		_, err := c.Exec(`PRAGMA temp_store = MEMORY`, nil)
		return err
	}}}
}

func (c *sqliteConnector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }

func (c *sqliteConnector) Driver() driver.Driver { return c.drv }

// openSQLiteDB is a pool of connections to dsn.
func openSQLiteDB(dsn string) *sqlx.DB {
	return sqlx.NewDb(sql.OpenDB(newSQLiteConnector(dsn)), "sqlite3")
}

// openSQLite opens the database file at path with a pool for reads and one
// connection for writes.
func openSQLite(path string) (db, w *sqlx.DB, err error) {
	// Create the file first so that it (and the WAL files SQLite derives
	// from it) is readable by the owner only.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("store: create database: %w", err)
	}
	f.Close()
	db, w = openSQLiteDB(DSN(path)), openSQLiteDB(DSN(path))
	// Reads run on the CPU (the database lives in the page cache), so more
	// connections than a few per CPU add no throughput, only memory: each
	// keeps its own page cache and prepared statements (about half a MiB
	// under load). Keep them open: each new SQLite connection re-reads the
	// schema and runs the DSN's pragmas.
	readers := max(4, 4*runtime.GOMAXPROCS(0))
	db.SetMaxOpenConns(readers)
	db.SetMaxIdleConns(readers)
	// A connection loads the planner's statistics when it opens; Optimize
	// refreshes them hourly, so read connections are renewed as often.
	db.SetConnMaxLifetime(time.Hour)
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	return db, w, nil
}

// Optimize refreshes the query planner's statistics where they are stale
// (PRAGMA optimize, bounded by analysis_limit so it stays fast on large
// databases). Without them SQLite may walk the created_at index for a
// target_id or tags filter instead of starting from the few matching rows.
// serve calls it at startup and every hour. PostgreSQL's autovacuum keeps
// its statistics itself, so there it does nothing.
func (st *Store) Optimize(ctx context.Context) error {
	if st.dialect != sqliteDialect {
		return nil
	}
	if _, err := st.w.ExecContext(ctx, st.w.Rebind(`PRAGMA analysis_limit = 1000; PRAGMA optimize = 0x10002`)); err != nil {
		return fmt.Errorf("store: optimize: %w", err)
	}
	return nil
}

// Close closes the database and releases the data directory's lock.
func (st *Store) Close() error {
	st.stopWriter()
	err := st.db.Close()
	if st.w != st.db {
		err = errors.Join(st.w.Close(), err)
	}
	st.unlock()
	return err
}

// unlock releases the data directory's lock, if this store holds it. The
// lock file stays: removing it would let two processes lock two files.
func (st *Store) unlock() {
	if st.lock != nil {
		st.lock.Close() // closing the file releases the lock
		st.lock = nil
	}
}

// Ping reports whether the database answers and the blob storage (the
// data directory or the bucket) takes new blobs.
func (st *Store) Ping(ctx context.Context) error {
	if err := st.db.PingContext(ctx); err != nil {
		return &sesame.Error{Kind: sesame.Unavailable, Message: "The database is not answering.", Err: err}
	}
	return st.blobs.ping(ctx)
}

// DefaultBucket returns the id of the default bucket.
func (st *Store) DefaultBucket() string { return st.bucket }

// migrate applies the pending migrations. On PostgreSQL it holds an
// advisory lock meanwhile, so that replicas starting together migrate once.
func (st *Store) migrate(ctx context.Context) error {
	if st.dialect == postgresDialect {
		return withAdvisoryLock(ctx, st.db, migrateLockKey, func() error { return st.applyMigrations(ctx) })
	}
	return st.applyMigrations(ctx)
}

// migration is one embedded migration file.
type migration struct {
	version int
	name    string // the path in the embedded file system
}

// migrationFiles lists the migrations of the dialect named, in order.
func migrationFiles(dialectName string) ([]migration, error) {
	names, err := fs.Glob(migrations, "migrations/"+dialectName+"/*.sql")
	if err != nil {
		return nil, fmt.Errorf("store: list migrations: %w", err)
	}
	sort.Strings(names)
	out := make([]migration, 0, len(names))
	for _, name := range names {
		base := filepath.Base(name)
		version, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("store: migration %s: bad number: %w", base, err)
		}
		out = append(out, migration{version: version, name: name})
	}
	return out, nil
}

func (st *Store) applyMigrations(ctx context.Context) error {
	if _, err := st.w.ExecContext(ctx, st.w.Rebind(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`)); err != nil {
		return fmt.Errorf("store: migrations table: %w", err)
	}
	files, err := migrationFiles(st.dialect.name)
	if err != nil {
		return err
	}
	for _, m := range files {
		if st.migrateTo > 0 && m.version > st.migrateTo {
			break
		}
		base := filepath.Base(m.name)
		body, err := migrations.ReadFile(m.name)
		if err != nil {
			return fmt.Errorf("store: read %s: %w", base, err)
		}
		err = st.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
			var n int
			if err := tx.GetContext(ctx, &n, tx.Rebind(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), m.version); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, tx.Rebind(string(body))); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`), m.version, sesame.FormatTime(st.now()))
			return err
		})
		if err != nil {
			return fmt.Errorf("store: apply %s: %w", base, err)
		}
	}
	return nil
}

func (st *Store) ensureBucket(ctx context.Context) error {
	return st.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &st.bucket, tx.Rebind(`SELECT id FROM buckets WHERE is_default = 1`))
		if err == nil {
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: default bucket: %w", err)
		}
		st.bucket = sesame.NewID(sesame.PrefixBucket)
		_, err = tx.ExecContext(ctx, tx.Rebind(`INSERT INTO buckets (id, name, is_default, created_at) VALUES (?, 'default', 1, ?)`), st.bucket, sesame.FormatTime(st.now()))
		return err
	})
}

// mac returns the keyed MAC of a secret for one purpose, for lookups that
// never store the secret itself.
func (st *Store) mac(purpose, secret string) []byte {
	h, _ := st.macs.Get().(hash.Hash)
	if h == nil {
		h = hmac.New(sha256.New, st.keys.MAC)
	}
	defer func() { h.Reset(); st.macs.Put(h) }()
	h.Write([]byte(purpose))
	h.Write([]byte{0})
	h.Write([]byte(secret))
	return h.Sum(nil)
}

func (st *Store) nowUTC() time.Time { return st.now().UTC().Truncate(time.Microsecond) }

func nullTime(t time.Time) sql.NullString {
	if t.IsZero() {
		return sql.NullString{}
	}
	return sql.NullString{String: sesame.FormatTime(t), Valid: true}
}

func parseNullTime(s sql.NullString) time.Time {
	if !s.Valid {
		return time.Time{}
	}
	t, _ := time.Parse(sesame.TimeLayout, s.String) // written by FormatTime
	return t
}

func parseTime(s string) time.Time {
	t, _ := time.Parse(sesame.TimeLayout, s) // written by FormatTime
	return t
}

// CSRFKey returns the key for the recipient pages' CSRF tokens.
func (st *Store) CSRFKey() []byte { return st.keys.CSRF }

// DataDir returns the directory the store keeps its files in.
func (st *Store) DataDir() string { return st.dir }
