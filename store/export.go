package store

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/sesame-share/sesame"
)

// The export stream, format version 1, is a tar archive (archive/tar; `tar
// t` lists it) with, in this order:
//
//	sesame-export.json   the manifest (exportManifest): format name and
//	                     version, the sesame and schema versions, the
//	                     source's database and blob backend, the master
//	                     key's fingerprint, the creation time, the row count
//	                     of every table, the blob count and bytes, and the
//	                     audit_events id counter
//	blobs/<key>          the bytes of one blob, as many as its file row says
//	missing/<key>        empty: a blob a file row names but the source lacked
//	tables/<name>.jsonl  one table, in the manifest's order (parents before
//	                     children): a line {"table":…,"columns":[…]}, then
//	                     one JSON array per row
//
// A value in a row is null, a number (an int64), a string (UTF-8 text),
// {"bytes":"<base64>"} (binary) or {"text_bytes":"<base64>"} (text that
// is not UTF-8), so that every value comes back with its type. Blobs come
// first so that an import can store them before it commits the rows that
// name them. Everything is read from one snapshot, and blobs are streamed,
// never held whole in memory; a table is spooled to a temporary file (tar
// needs its size first). Columns the database generates itself
// (session_uploads.seq on PostgreSQL) are left out; rows come in insertion
// order where it matters, so an import recreates them.
const (
	exportFormat        = "sesame-export"
	exportFormatVersion = 1
	manifestName        = "sesame-export.json"
	blobPrefix          = "blobs/"
	missingPrefix       = "missing/"
	tablePrefix         = "tables/"
)

// exportTables are the tables an export copies, parents before children.
var exportTables = []string{
	"buckets", "objects", "api_tokens", "links", "link_targets", "link_tags", "link_authenticators", "link_counts",
	"sessions", "challenges", "session_uploads", "download_claims", "backoff", "pending_uploads", "download_grants",
	"idempotency_keys", "outbox", "webhooks", "webhook_deliveries", "audit_events", "audit_purge", "session_file_keys", "owner_uploads",
}

// notExported are the tables that belong to one database, not to the
// instance: the migrations applied, the exports of this database and the
// blobs waiting for them, and link_index, which triggers rebuild from the
// imported links, targets and tags. Resumable uploads in progress are
// transient too: their parts are not files, and their sessions end within
// hours; so are sign-ins at OpenID Connect providers, which end within
// minutes.
var notExported = map[string]bool{"schema_migrations": true, "exports": true, "deferred_blobs": true, "link_index": true,
	"resumable_uploads": true, "resumable_parts": true, "oidc_states": true}

// exportCounters are the identity columns whose counter an export carries,
// so that an import never hands out an id the source already used.
var exportCounters = []struct{ table, column string }{{"audit_events", "id"}}

// exportManifest is the first entry of an export stream.
type exportManifest struct {
	Format         string           `json:"format"`
	FormatVersion  int              `json:"format_version"`
	SesameVersion  string           `json:"sesame_version"`
	SchemaVersion  int              `json:"schema_version"`
	Database       string           `json:"database"`
	BlobBackend    string           `json:"blob_backend"`
	KeyFingerprint string           `json:"key_fingerprint"`
	Created        string           `json:"created_at"`
	Tables         []TableCount     `json:"tables"`
	Blobs          int64            `json:"blobs"`
	BlobBytes      int64            `json:"blob_bytes"`
	Counters       map[string]int64 `json:"counters"`
}

// TableCount is the number of rows of one table.
type TableCount struct {
	Table string `json:"table"`
	Rows  int64  `json:"rows"`
}

// ExportSummary says what Export wrote.
type ExportSummary struct {
	Tables []TableCount
	// Blobs and Bytes count the blobs copied; Missing lists the keys of
	// blobs that file rows name but the blob store lacked (sesame check
	// lists their files), which the stream records as missing.
	Blobs, Bytes   int64
	Missing        []string
	KeyFingerprint string
}

// Rows is the number of rows in every table.
func (s *ExportSummary) Rows() int64 { return sumRows(s.Tables) }

func sumRows(tables []TableCount) int64 {
	var n int64
	for _, t := range tables {
		n += t.Rows
	}
	return n
}

// Export writes the whole instance, every row and every blob, to w as one
// stream (see exportFormat) read from one consistent snapshot, while the
// instance keeps serving. The export registers itself first, so that
// blobs deleted while it runs stay until it has copied them (see
// exportStale). sesameVersion goes into the manifest.
func (st *Store) Export(ctx context.Context, w io.Writer, sesameVersion string) (*ExportSummary, error) {
	run, err := st.startExport(ctx)
	if err != nil {
		return nil, err
	}
	sum, err := st.export(run.ctx, w, sesameVersion)
	// A lapsed heartbeat ends run.ctx, and end reports it.
	if err := errors.Join(run.end(), err); err != nil {
		return nil, err
	}
	return sum, nil
}

func (st *Store) export(ctx context.Context, w io.Writer, sesameVersion string) (*ExportSummary, error) {
	snap, err := st.openSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer snap.close()
	m, err := st.readManifest(ctx, snap.tx, sesameVersion)
	if err != nil {
		return nil, err
	}
	created := parseTime(m.Created)
	tw := tar.NewWriter(w)
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("store: export manifest: %w", err)
	}
	if err := writeEntry(tw, manifestName, int64(len(body)+1), created, strings.NewReader(string(body)+"\n")); err != nil {
		return nil, err
	}
	sum := &ExportSummary{Tables: m.Tables, KeyFingerprint: m.KeyFingerprint}
	if err := st.exportBlobs(ctx, snap.tx, tw, created, sum); err != nil {
		return nil, err
	}
	if sum.Blobs+int64(len(sum.Missing)) != m.Blobs {
		return nil, fmt.Errorf("store: export: copied %d blobs and found %d missing, the snapshot counted %d", sum.Blobs, len(sum.Missing), m.Blobs)
	}
	for _, t := range m.Tables {
		if err := st.exportTable(ctx, snap.tx, tw, t, created); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("store: export: %w", err)
	}
	return sum, nil
}

// snapshot is the read transaction an export reads everything from.
type snapshot struct {
	tx *sqlx.Tx
	db *sqlx.DB // SQLite: the export's own connection, closed with it
}

// openSnapshot starts the export's read transaction. On PostgreSQL it is
// REPEATABLE READ READ ONLY, without the statement timeout (reading a big
// table may take long). On SQLite it is a deferred transaction on a
// connection of its own, whose snapshot of the WAL starts with its first
// read: it blocks no writer.
func (st *Store) openSnapshot(ctx context.Context) (*snapshot, error) {
	if st.dialect == postgresDialect {
		tx, err := st.db.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
		if err != nil {
			return nil, fmt.Errorf("store: export snapshot: %w", translate(err))
		}
		if _, err := tx.ExecContext(ctx, `SET LOCAL statement_timeout = 0; SET LOCAL idle_in_transaction_session_timeout = 0`); err != nil {
			_ = tx.Rollback() // the error that matters is the one returned
			return nil, fmt.Errorf("store: export snapshot: %w", translate(err))
		}
		return &snapshot{tx: tx}, nil
	}
	db := openSQLiteDB(dsn(filepath.Join(st.dir, "sesame.db"), "deferred"))
	db.SetMaxOpenConns(1)
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: export snapshot: %w", translate(err))
	}
	return &snapshot{tx: tx, db: db}, nil
}

func (s *snapshot) close() {
	_ = s.tx.Rollback() // read only: nothing to keep
	if s.db != nil {
		s.db.Close()
	}
}

// readManifest reads what the manifest says from the snapshot. Its first
// query starts the snapshot on SQLite.
func (st *Store) readManifest(ctx context.Context, tx *sqlx.Tx, sesameVersion string) (*exportManifest, error) {
	m := &exportManifest{Format: exportFormat, FormatVersion: exportFormatVersion, SesameVersion: sesameVersion,
		Database: st.dialect.name, BlobBackend: backendName(st.blobs), KeyFingerprint: st.keys.Fingerprint,
		Created: sesame.FormatTime(st.nowUTC()), Counters: map[string]int64{}}
	if err := tx.GetContext(ctx, &m.SchemaVersion, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`); err != nil {
		return nil, fmt.Errorf("store: export schema version: %w", err)
	}
	if err := checkTables(ctx, tx, st.dialect); err != nil {
		return nil, err
	}
	for _, t := range exportTables {
		c := TableCount{Table: t}
		if err := tx.GetContext(ctx, &c.Rows, `SELECT COUNT(*) FROM `+quoteIdent(t)); err != nil {
			return nil, fmt.Errorf("store: export count %s: %w", t, err)
		}
		m.Tables = append(m.Tables, c)
	}
	err := tx.QueryRowxContext(ctx, `SELECT COUNT(*), CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM
(SELECT blob_key, MAX(size) AS size FROM objects WHERE blob_key <> '' GROUP BY blob_key) b`).Scan(&m.Blobs, &m.BlobBytes)
	if err != nil {
		return nil, fmt.Errorf("store: export count blobs: %w", err)
	}
	for _, c := range exportCounters {
		n, err := st.dialect.readCounter(ctx, tx, c.table, c.column)
		if err != nil {
			return nil, err
		}
		m.Counters[c.table+"."+c.column] = n
	}
	return m, nil
}

// checkTables fails unless every table of the database is one the export
// copies or knowingly leaves out, so that a table a migration adds cannot
// be forgotten.
func checkTables(ctx context.Context, tx *sqlx.Tx, d *dialect) error {
	names, err := listTables(ctx, tx, d)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, n := range names {
		have[n] = true
	}
	for _, t := range exportTables {
		if !have[t] {
			return fmt.Errorf("store: export: the database has no table %s", t)
		}
		delete(have, t)
	}
	for n := range have {
		if !notExported[n] {
			return fmt.Errorf("store: export: table %s is not in exportTables", n)
		}
	}
	return nil
}

// backendName names the blob backend in the manifest.
func backendName(b blobBackend) string {
	if _, ok := b.(*s3Blobs); ok {
		return "s3"
	}
	return "disk"
}

// exportBlobs streams every blob a file row of the snapshot names, in key
// order, checking each against its row's size and sha256 (a protected
// file's blob only against the size of its sealed form: the row's hashes
// are of the plaintext).
func (st *Store) exportBlobs(ctx context.Context, tx *sqlx.Tx, tw *tar.Writer, mod time.Time, sum *ExportSummary) error {
	rows, err := tx.QueryxContext(ctx, `SELECT b.blob_key, b.size, b.sha256,
(SELECT o.vault FROM objects o WHERE o.blob_key = b.blob_key AND o.blob_key <> '' AND o.vault IS NOT NULL LIMIT 1)
FROM (SELECT blob_key, MAX(size) AS size, MAX(sha256) AS sha256 FROM objects WHERE blob_key <> '' GROUP BY blob_key) b ORDER BY b.blob_key`)
	if err != nil {
		return fmt.Errorf("store: export blobs: %w", err)
	}
	defer rows.Close()
	buf := make([]byte, chunkSize)
	for rows.Next() {
		var key, digest string
		var size int64
		var vault []byte
		if err := rows.Scan(&key, &size, &digest, &vault); err != nil {
			return fmt.Errorf("store: export blobs: %w", err)
		}
		if vault != nil {
			size, digest = parseLock(vault).SealedSize(size), ""
		}
		missing, err := st.exportBlob(ctx, tw, key, size, digest, mod, buf)
		if err != nil {
			return err
		}
		if missing {
			sum.Missing = append(sum.Missing, key)
			continue
		}
		sum.Blobs++
		sum.Bytes += size
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: export blobs: %w", err)
	}
	return nil
}

// exportBlob writes one blob's entry, or a missing/ entry when the blob
// store lacks it.
func (st *Store) exportBlob(ctx context.Context, tw *tar.Writer, key string, size int64, digest string, mod time.Time, buf []byte) (bool, error) {
	if !validBlobKey(key) {
		return false, fmt.Errorf("store: export: a file row names the blob key %q, which is not one", key)
	}
	b, err := st.blobs.open(ctx, key)
	if sesame.KindOf(err) == sesame.NotFound {
		st.log.Warn("export: blob missing", "blob_key", key)
		return true, writeEntry(tw, missingPrefix+key, 0, mod, strings.NewReader(""))
	}
	if err != nil {
		return false, fmt.Errorf("store: export blob %s: %w", key, err)
	}
	defer b.Close()
	if b.Size() != size {
		return false, fmt.Errorf("store: export: blob %s has %d bytes, its file row says %d", key, b.Size(), size)
	}
	if err := tw.WriteHeader(&tar.Header{Name: blobPrefix + key, Size: size, Mode: 0o600, ModTime: mod, Typeflag: tar.TypeReg}); err != nil {
		return false, fmt.Errorf("store: export: %w", err)
	}
	h := sha256.New()
	n, err := io.CopyBuffer(tw, io.TeeReader(io.LimitReader(b, size), h), buf)
	if err != nil {
		return false, fmt.Errorf("store: export blob %s: %w", key, err)
	}
	if n != size {
		return false, fmt.Errorf("store: export: blob %s ended after %d of its %d bytes", key, n, size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); digest != "" && got != digest {
		return false, fmt.Errorf("store: export: blob %s has sha256 %s, its file row says %s", key, got, digest)
	}
	return false, nil
}

// exportTable writes one table's entry: spooled to a temporary file first,
// since tar needs the size before the bytes.
func (st *Store) exportTable(ctx context.Context, tx *sqlx.Tx, tw *tar.Writer, t TableCount, mod time.Time) error {
	cols, err := tableColumns(ctx, tx, st.dialect, t.Table)
	if err != nil {
		return err
	}
	// In the data directory (mode 0700), not a shared /tmp: the rows hold
	// password hashes, addresses and lookup MACs.
	f, err := os.CreateTemp(st.dir, ".export-spool-*.jsonl")
	if err != nil {
		return fmt.Errorf("store: export spool: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	n, err := writeTable(ctx, tx, bw, st.dialect, t.Table, cols)
	if err != nil {
		return err
	}
	if n != t.Rows {
		return fmt.Errorf("store: export: table %s gave %d rows, the snapshot counted %d", t.Table, n, t.Rows)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("store: export spool: %w", err)
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return fmt.Errorf("store: export spool: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("store: export spool: %w", err)
	}
	return writeEntry(tw, tablePrefix+t.Table+".jsonl", size, mod, f)
}

// writeEntry writes one regular file entry of size bytes from r.
func writeEntry(tw *tar.Writer, name string, size int64, mod time.Time, r io.Reader) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Size: size, Mode: 0o600, ModTime: mod, Typeflag: tar.TypeReg}); err != nil {
		return fmt.Errorf("store: export %s: %w", name, err)
	}
	if _, err := io.Copy(tw, r); err != nil {
		return fmt.Errorf("store: export %s: %w", name, err)
	}
	return nil
}
