package store

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/sesame-share/sesame"
)

// ImportSummary says what Import wrote.
type ImportSummary struct {
	Tables []TableCount
	// Blobs and Bytes count the blobs stored. Missing counts the blobs the
	// source lacked (the stream records them as missing): their files have
	// no contents here either, and sesame check lists them.
	Blobs, Bytes, Missing int64
	// Source describes the export: the sesame version that made it, its
	// schema version, and the source's database and blob backend.
	SesameVersion, Database, BlobBackend string
	SchemaVersion                        int
}

// Rows is the number of rows in every table.
func (s *ImportSummary) Rows() int64 { return sumRows(s.Tables) }

// Import reads an export stream (see exportFormat) into the store that cfg
// names, which may use another database or blob backend than the source.
// Before it writes anything it refuses, as Invalid, a stream that is not
// an export, has another format version or a schema version this build
// lacks, and, as Conflict, a master key other than the source's (compared
// by fingerprint) and a target that holds rows. It applies the migrations
// up to the export's schema version, stores the blobs (checking each
// against its row's size and sha256), inserts every row in one
// transaction, and then applies the remaining migrations. A failure
// commits nothing and removes the blobs it stored, so the target stays
// empty and the import can run again.
func Import(ctx context.Context, cfg Config, r io.Reader) (*ImportSummary, error) {
	tr := tar.NewReader(r)
	m, err := readImportManifest(tr)
	if err != nil {
		return nil, err
	}
	if err := checkSchemaVersion(cfg, m); err != nil {
		return nil, err
	}
	if cfg.SecretKeyFile, err = importKeyFile(cfg, m); err != nil {
		return nil, err
	}
	cfg.migrateTo, cfg.noSweep = m.SchemaVersion, true
	st, err := Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	im := &importer{st: st, tr: tr, m: m, want: map[string]int64{}, done: map[string]int64{},
		blobs: map[string]*importedBlob{}, missing: map[string]bool{}}
	for _, t := range m.Tables {
		im.want[t.Table] = t.Rows
	}
	if err := im.checkTarget(ctx); err != nil {
		return nil, err
	}
	if err := im.run(ctx); err != nil {
		return nil, importFailed(err, im.removeBlobs(ctx))
	}
	st.migrateTo = 0
	if err := st.migrate(ctx); err != nil {
		return nil, fmt.Errorf("store: import: migrate past the export's schema: %w", err)
	}
	return im.summary(), nil
}

// notExport is the error for input that is no export this build reads.
func notExport(msg string, err error) error {
	return &sesame.Error{Kind: sesame.Invalid, Message: msg, Err: err}
}

// readImportManifest reads and checks the stream's first entry.
func readImportManifest(tr *tar.Reader) (*exportManifest, error) {
	hdr, err := tr.Next()
	if errors.Is(err, io.EOF) {
		return nil, notExport("The input is empty: it holds no sesame export.", err)
	}
	if err != nil {
		return nil, notExport("The input is not a sesame export (it is not a tar stream).", err)
	}
	if hdr.Name != manifestName {
		return nil, notExport(fmt.Sprintf("The input is not a sesame export: it starts with %q, not %s.", hdr.Name, manifestName), nil)
	}
	var m exportManifest
	if err := json.NewDecoder(io.LimitReader(tr, 1<<20)).Decode(&m); err != nil {
		return nil, notExport("The export's manifest is unreadable.", err)
	}
	if m.Format != exportFormat {
		return nil, notExport(fmt.Sprintf("The input is not a sesame export: its format is %q.", m.Format), nil)
	}
	if m.FormatVersion != exportFormatVersion {
		return nil, notExport(fmt.Sprintf("The export has format version %d, and this sesame reads version %d only: import it with a sesame that reads it (sesame %s made it).",
			m.FormatVersion, exportFormatVersion, m.SesameVersion), nil)
	}
	seen := map[string]bool{}
	for _, t := range m.Tables {
		if seen[t.Table] || !slices.Contains(exportTables, t.Table) || t.Rows < 0 {
			return nil, notExport(fmt.Sprintf("The export's manifest lists the table %q, which this sesame does not import (or twice).", t.Table), nil)
		}
		seen[t.Table] = true
	}
	return &m, nil
}

// exportsSchema is the schema version that brought exports
// (0008_exports.sql): no export has an earlier one.
const exportsSchema = 8

// checkSchemaVersion refuses an export whose schema version is not one of
// this build's migrations for the target's database.
func checkSchemaVersion(cfg Config, m *exportManifest) error {
	name := sqliteDialect.name
	if isPostgresURL(cfg.DatabaseURL) {
		name = postgresDialect.name
	}
	files, err := migrationFiles(name)
	if err != nil {
		return err
	}
	for _, f := range files {
		if f.version == m.SchemaVersion && f.version >= exportsSchema {
			return nil
		}
	}
	return notExport(fmt.Sprintf("The export has schema version %d, and this sesame imports schema versions %d to %d: import it with sesame %s, which made it, or a newer one.",
		m.SchemaVersion, exportsSchema, files[len(files)-1].version, m.SesameVersion), nil)
}

// importKeyFile returns the master key file the import is to use, after
// checking that it holds the key the export was made with.
func importKeyFile(cfg Config, m *exportManifest) (string, error) {
	path := cfg.SecretKeyFile
	if path == "" {
		path = filepath.Join(cfg.DataDir, "secret.key")
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return "", &sesame.Error{Kind: sesame.Invalid, Err: err, Message: fmt.Sprintf(
			"There is no master key at %s. The import needs the key the export was made with (fingerprint %s): set secret_key_file (SESAME_SECRET_KEY_FILE) to a copy of the source's key file.",
			path, m.KeyFingerprint)}
	}
	keys, err := ReadKeys(path)
	if err != nil {
		return "", &sesame.Error{Kind: sesame.Invalid, Message: strings.TrimPrefix(err.Error(), "store: "), Err: err}
	}
	if keys.Fingerprint != m.KeyFingerprint {
		return "", &sesame.Error{Kind: sesame.Conflict, Message: fmt.Sprintf(
			"The master key in %s has fingerprint %s, but the export was made with the key %s: set secret_key_file (SESAME_SECRET_KEY_FILE) to the source's key file (sesame keygen --fingerprint FILE prints a file's).",
			path, keys.Fingerprint, m.KeyFingerprint)}
	}
	return path, nil
}

// importFailed says that a failed import left the target as it was.
func importFailed(err error, left int) error {
	msg := "The import failed: " + err.Error()
	if e := sesame.AsError(err); e != nil && e.Message != "" {
		msg = e.Message
	}
	msg = strings.TrimSuffix(msg, ".") + ". Nothing was committed"
	if left == 0 {
		msg += " and the blobs stored were removed, so the target is still empty: run sesame import again."
	} else {
		msg += fmt.Sprintf(", but %d of the blobs stored could not be removed (the log names them): remove them, or import into another empty target.", left)
	}
	return &sesame.Error{Kind: sesame.KindOf(err), Message: msg, Err: err}
}

// cutOff is the error for a stream that ends early or is damaged.
func cutOff(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return &sesame.Error{Kind: sesame.Invalid, Message: "The export stream is cut off: it ends in the middle of an entry.", Err: err}
	}
	if sesame.AsError(err) != nil {
		return err
	}
	return &sesame.Error{Kind: sesame.Invalid, Message: "The export stream is damaged: " + err.Error() + ".", Err: err}
}

// importer carries one import.
type importer struct {
	st      *Store
	tr      *tar.Reader
	m       *exportManifest
	want    map[string]int64         // the manifest's row counts
	done    map[string]int64         // the rows inserted, per table
	blobs   map[string]*importedBlob // the blobs stored, by key
	missing map[string]bool          // the blobs the source lacked
	bytes   int64
	next    *tar.Header // the entry after the blobs
	// stop is the caller's context: the rows go in through the store's
	// writer, whose transactions ignore cancellation, so the import looks
	// at it between rows itself.
	stop context.Context
}

// importedBlob is what an import learnt of a blob while storing it.
type importedBlob struct {
	size   int64
	sha256 string
	named  bool // a file row names it
}

// checkTarget refuses a target at another schema version or with rows.
func (im *importer) checkTarget(ctx context.Context) error {
	var v int
	if err := im.st.db.GetContext(ctx, &v, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`); err != nil {
		return fmt.Errorf("store: import: schema version: %w", err)
	}
	if v != im.m.SchemaVersion {
		return &sesame.Error{Kind: sesame.Conflict, Message: fmt.Sprintf(
			"The target database is at schema version %d, past the export's %d: import into a new, empty database.", v, im.m.SchemaVersion)}
	}
	if err := checkEmpty(ctx, im.st.db, im.st.dialect); err != nil {
		return err
	}
	// Blobs the target's rows do not name may be another instance's: the
	// source's own, when the import names the source's data directory or
	// bucket. Nothing is stored beside them, and nothing of them removed.
	some, err := im.st.blobs.any(ctx)
	if err != nil {
		return err
	}
	if some != "" {
		return &sesame.Error{Kind: sesame.Conflict, Message: fmt.Sprintf(
			"The target's blob storage is not empty (it holds %s): import into an empty data directory or bucket prefix, not the source's.", some)}
	}
	return nil
}

// queryer is a database or a transaction.
type queryer interface {
	sqlx.QueryerContext
	Rebind(string) string
}

// checkEmpty returns a Conflict unless the database holds no rows but
// what a freshly migrated store holds (its default bucket) and the
// per-database bookkeeping.
func checkEmpty(ctx context.Context, q queryer, d *dialect) error {
	var tables []string
	if err := sqlx.SelectContext(ctx, q, &tables, catalogSQL[d].tables); err != nil {
		return fmt.Errorf("store: list tables: %w", err)
	}
	var full []string
	for _, t := range tables {
		if notExported[t] {
			continue
		}
		cond := ""
		if t == "buckets" {
			cond = ` WHERE NOT (is_default = 1 AND name = 'default')`
		}
		var n int
		if err := sqlx.GetContext(ctx, q, &n, `SELECT COUNT(*) FROM (SELECT 1 FROM `+quoteIdent(t)+cond+` LIMIT 1) x`); err != nil {
			return fmt.Errorf("store: import: look into %s: %w", t, err)
		}
		if n > 0 {
			full = append(full, t)
		}
	}
	if len(full) > 0 {
		return &sesame.Error{Kind: sesame.Conflict, Message: fmt.Sprintf(
			"The target is not empty (%s hold rows): import into a new, empty database, with an empty data directory or bucket prefix.", strings.Join(full, ", "))}
	}
	return nil
}

// run stores the blobs and then inserts the rows in one transaction.
func (im *importer) run(ctx context.Context) error {
	if err := im.readBlobs(ctx); err != nil {
		return err
	}
	im.stop = ctx
	return im.st.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		// Again inside the transaction: nothing may have come meanwhile.
		if err := checkEmpty(ctx, tx, im.st.dialect); err != nil {
			return err
		}
		// The default bucket Open made gives way to the export's.
		if _, err := tx.ExecContext(ctx, `DELETE FROM buckets`); err != nil {
			return fmt.Errorf("store: import: %w", err)
		}
		for im.next != nil {
			if err := im.readTable(ctx, tx, im.next); err != nil {
				return err
			}
			hdr, err := im.tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return cutOff(err)
			}
			im.next = hdr
		}
		for _, t := range im.m.Tables {
			if _, ok := im.done[t.Table]; !ok {
				return &sesame.Error{Kind: sesame.Invalid, Message: fmt.Sprintf("The export stream is cut off: it ends before the table %s.", t.Table)}
			}
		}
		for _, c := range exportCounters {
			if err := im.st.dialect.setCounter(ctx, tx, c.table, c.column, im.m.Counters[c.table+"."+c.column]); err != nil {
				return err
			}
		}
		return nil
	})
}

// readBlobs stores every blob of the stream, up to its first table.
func (im *importer) readBlobs(ctx context.Context) error {
	buf := make([]byte, chunkSize)
	for {
		hdr, err := im.tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return cutOff(err)
		}
		if strings.HasPrefix(hdr.Name, tablePrefix) {
			im.next = hdr
			break
		}
		if key, ok := strings.CutPrefix(hdr.Name, missingPrefix); ok && validBlobKey(key) && !im.missing[key] {
			im.missing[key] = true
			continue
		}
		key, ok := strings.CutPrefix(hdr.Name, blobPrefix)
		if !ok || !validBlobKey(key) || hdr.Typeflag != tar.TypeReg || im.blobs[key] != nil {
			return notExport(fmt.Sprintf("The export stream holds an unexpected entry %q.", hdr.Name), nil)
		}
		if err := im.storeBlob(ctx, key, hdr.Size, buf); err != nil {
			return err
		}
	}
	if n := int64(len(im.blobs) + len(im.missing)); n != im.m.Blobs {
		if im.next == nil {
			return &sesame.Error{Kind: sesame.Invalid, Message: "The export stream is cut off: it ends among the blobs."}
		}
		return notExport(fmt.Sprintf("The export stream holds %d blobs, and its manifest says %d.", n, im.m.Blobs), nil)
	}
	return nil
}

// storeBlob streams one blob from the stream into the blob backend under
// its key, hashing it on the way.
func (im *importer) storeBlob(ctx context.Context, key string, size int64, buf []byte) error {
	w, err := im.st.blobs.createAt(ctx, key, size)
	if err != nil {
		return err
	}
	h := sha256.New()
	n, err := io.CopyBuffer(io.MultiWriter(w, h), im.tr, buf)
	if err == nil && n != size {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		w.abort()
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return cutOff(err)
		}
		return fmt.Errorf("store: import blob %s: %w", key, err)
	}
	ref, err := w.finish()
	if err != nil {
		return fmt.Errorf("store: import blob %s: %w", key, err)
	}
	if err := im.st.blobs.commit(ctx, ref, key); err != nil {
		_ = im.st.blobs.discard(ctx, ref) // a leftover is swept as an orphan
		return fmt.Errorf("store: import blob %s: %w", key, err)
	}
	im.blobs[key] = &importedBlob{size: n, sha256: hex.EncodeToString(h.Sum(nil))}
	im.bytes += n
	return nil
}

// removeBlobs removes the blobs a failed import stored.
func (im *importer) removeBlobs(ctx context.Context) (left int) {
	ctx = context.WithoutCancel(ctx)
	for key := range im.blobs {
		if err := im.st.blobs.remove(ctx, key); err != nil {
			im.st.log.Warn("import: remove blob", "blob_key", key, "error", err)
			left++
		}
	}
	return left
}

func (im *importer) summary() *ImportSummary {
	s := &ImportSummary{Blobs: int64(len(im.blobs)), Bytes: im.bytes, Missing: int64(len(im.missing)),
		SesameVersion: im.m.SesameVersion, Database: im.m.Database, BlobBackend: im.m.BlobBackend, SchemaVersion: im.m.SchemaVersion}
	for _, t := range im.m.Tables {
		s.Tables = append(s.Tables, TableCount{Table: t.Table, Rows: im.done[t.Table]})
	}
	return s
}

// readTable inserts the rows of one table entry.
func (im *importer) readTable(ctx context.Context, tx *sqlx.Tx, hdr *tar.Header) error {
	name, ok := strings.CutPrefix(hdr.Name, tablePrefix)
	name, ok2 := strings.CutSuffix(name, ".jsonl")
	if _, known := im.want[name]; !ok || !ok2 || !known {
		return notExport(fmt.Sprintf("The export stream holds an entry %q that is no table of its manifest.", hdr.Name), nil)
	}
	if _, seen := im.done[name]; seen {
		return notExport(fmt.Sprintf("The export stream holds the table %s twice.", name), nil)
	}
	dec := json.NewDecoder(im.tr)
	var head tableHeader
	if err := dec.Decode(&head); err != nil {
		return cutOff(err)
	}
	if head.Table != name {
		return notExport(fmt.Sprintf("The entry %s holds the table %q.", hdr.Name, head.Table), nil)
	}
	if err := checkColumns(ctx, tx, im.st.dialect, name, head.Columns); err != nil {
		return err
	}
	check, err := im.rowCheck(name, head.Columns)
	if err != nil {
		return err
	}
	if name == "link_counts" {
		// Triggers counted the links as they came in; the export's rows
		// are the counts.
		if _, err := tx.ExecContext(ctx, `DELETE FROM link_counts`); err != nil {
			return fmt.Errorf("store: import link_counts: %w", err)
		}
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(head.Columns)), ", ")
	stmt, err := tx.PreparexContext(ctx, tx.Rebind(`INSERT INTO `+quoteIdent(name)+` (`+quoteIdents(head.Columns)+`) VALUES (`+marks+`)`))
	if err != nil {
		return fmt.Errorf("store: import %s: %w", name, err)
	}
	defer stmt.Close()
	n, err := insertRows(ctx, im.stop, dec, stmt, name, len(head.Columns), check)
	if err != nil {
		return err
	}
	if n != im.want[name] {
		return notExport(fmt.Sprintf("The table %s holds %d rows, and the export's manifest says %d.", name, n, im.want[name]), nil)
	}
	im.done[name] = n
	if name == "objects" {
		for key, b := range im.blobs {
			if !b.named {
				return notExport(fmt.Sprintf("The export holds the blob %s, which no file names.", key), nil)
			}
		}
	}
	return nil
}

// insertRows inserts the rows that dec reads, each checked by check
// first, and returns how many there were.
func insertRows(ctx, stop context.Context, dec *json.Decoder, stmt *sqlx.Stmt, table string, cols int, check func([]any) error) (int64, error) {
	var n int64
	for {
		if err := stop.Err(); err != nil {
			return n, err
		}
		var raw []json.RawMessage
		if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
			return n, nil
		} else if err != nil {
			return n, cutOff(err)
		}
		vals, err := decodeRow(raw)
		if err == nil && len(vals) != cols {
			err = fmt.Errorf("%d values for %d columns", len(vals), cols)
		}
		if err != nil {
			return n, notExport(fmt.Sprintf("Row %d of the table %s is malformed: %v.", n+1, table, err), err)
		}
		if err := check(vals); err != nil {
			return n, err
		}
		if _, err := stmt.ExecContext(ctx, vals...); err != nil {
			return n, fmt.Errorf("store: import %s, row %d: %w", table, n+1, err)
		}
		n++
	}
}

// checkColumns refuses columns that the target's table lacks.
func checkColumns(ctx context.Context, tx *sqlx.Tx, d *dialect, table string, cols []string) error {
	have, err := tableColumns(ctx, tx, d, table)
	if err != nil {
		return err
	}
	for _, c := range cols {
		if !slices.Contains(have, c) {
			return notExport(fmt.Sprintf("The export's table %s has a column %q, which the target's lacks.", table, c), nil)
		}
	}
	return nil
}

// rowCheck returns the check of each row of table: a file's row must name
// a blob of the stream whose size and sha256 it records (or one the source
// lacked).
func (im *importer) rowCheck(table string, cols []string) (func([]any) error, error) {
	if table != "objects" {
		return func([]any) error { return nil }, nil
	}
	id, key, size, sum := slices.Index(cols, "id"), slices.Index(cols, "blob_key"), slices.Index(cols, "size"), slices.Index(cols, "sha256")
	if id < 0 || key < 0 || size < 0 || sum < 0 {
		return nil, notExport("The export's objects table lacks its id, blob_key, size or sha256 column.", nil)
	}
	vault := slices.Index(cols, "vault") // exports from before protected files lack it
	return func(vals []any) error {
		k, _ := vals[key].(string)
		if k == "" || im.missing[k] {
			return nil
		}
		b := im.blobs[k]
		if b == nil {
			return notExport(fmt.Sprintf("The file %v names the blob %s, which the export does not hold.", vals[id], k), nil)
		}
		n, _ := vals[size].(int64)
		digest, _ := vals[sum].(string)
		if lock, _ := valueAt(vals, vault).([]byte); lock != nil {
			// The row's size and hashes are of the plaintext; the blob
			// is its sealed form, which authenticates itself.
			n, digest = parseLock(lock).SealedSize(n), ""
		}
		if n != b.size || digest != "" && digest != b.sha256 {
			return notExport(fmt.Sprintf("The bytes of the file %v do not match its row: it records %d bytes with sha256 %s, the export holds %d bytes with sha256 %s.",
				vals[id], n, digest, b.size, b.sha256), nil)
		}
		b.named = true
		return nil
	}, nil
}
