package store

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
)

// catalogSQL lists, per dialect, the tables of the database and the
// columns of one table that an export copies: every column but those the
// database fills in itself (PostgreSQL's GENERATED ALWAYS identities).
var catalogSQL = map[*dialect]struct{ tables, columns string }{
	sqliteDialect: {
		tables:  `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`,
		columns: `SELECT name FROM pragma_table_info(?) ORDER BY cid`,
	},
	postgresDialect: {
		tables: `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`,
		columns: `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?
AND is_generated = 'NEVER' AND (identity_generation IS NULL OR identity_generation <> 'ALWAYS') ORDER BY ordinal_position`,
	},
}

// listTables returns the names of the database's tables.
func listTables(ctx context.Context, tx *sqlx.Tx, d *dialect) ([]string, error) {
	var names []string
	if err := tx.SelectContext(ctx, &names, catalogSQL[d].tables); err != nil {
		return nil, fmt.Errorf("store: list tables: %w", err)
	}
	return names, nil
}

// tableColumns returns the columns of table that an export copies.
func tableColumns(ctx context.Context, tx *sqlx.Tx, d *dialect, table string) ([]string, error) {
	var cols []string
	if err := tx.SelectContext(ctx, &cols, tx.Rebind(catalogSQL[d].columns), table); err != nil {
		return nil, fmt.Errorf("store: columns of %s: %w", table, err)
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("store: table %s has no columns", table)
	}
	return cols, nil
}

// quoteIdent quotes a table or column name for both dialects.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

func quoteIdents(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quoteIdent(n)
	}
	return strings.Join(q, ", ")
}

// exportOrder is the ORDER BY of a table's rows in an export: insertion
// order where a query relies on it (session_uploads; on SQLite every
// table, by rowid), ids for the audit trail.
func exportOrder(d *dialect, table string) string {
	switch {
	case d == sqliteDialect:
		return " ORDER BY rowid"
	case table == "session_uploads":
		return " ORDER BY " + d.insertionOrder
	case table == "audit_events":
		return " ORDER BY id"
	}
	return ""
}

// tableHeader is the first line of a table's entry.
type tableHeader struct {
	Table   string   `json:"table"`
	Columns []string `json:"columns"`
}

// writeTable writes the header line and then every row of table, one JSON
// array a line, and returns the number of rows.
func writeTable(ctx context.Context, tx *sqlx.Tx, w *bufio.Writer, d *dialect, table string, cols []string) (int64, error) {
	head, err := json.Marshal(tableHeader{Table: table, Columns: cols})
	if err != nil {
		return 0, fmt.Errorf("store: export %s: %w", table, err)
	}
	if _, err := w.Write(append(head, '\n')); err != nil {
		return 0, fmt.Errorf("store: export spool: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+quoteIdents(cols)+` FROM `+quoteIdent(table)+exportOrder(d, table))
	if err != nil {
		return 0, fmt.Errorf("store: export %s: %w", table, err)
	}
	defer rows.Close()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var (
		n   int64
		buf []byte
	)
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, fmt.Errorf("store: export %s: %w", table, err)
		}
		if buf, err = appendRow(buf[:0], vals); err != nil {
			return n, fmt.Errorf("store: export %s: %w", table, err)
		}
		if _, err := w.Write(buf); err != nil {
			return n, fmt.Errorf("store: export spool: %w", err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("store: export %s: %w", table, err)
	}
	return n, nil
}

// taggedValue is the JSON form of a value that a JSON string or number
// would not keep exactly.
type taggedValue struct {
	Bytes     *string `json:"bytes,omitempty"`      // binary, base64
	TextBytes *string `json:"text_bytes,omitempty"` // text that is not UTF-8, base64
}

// appendRow appends one row as a JSON array and a newline.
func appendRow(buf []byte, vals []any) ([]byte, error) {
	buf = append(buf, '[')
	for i, v := range vals {
		if i > 0 {
			buf = append(buf, ',')
		}
		switch v := v.(type) {
		case nil:
			buf = append(buf, "null"...)
		case int64:
			buf = strconv.AppendInt(buf, v, 10)
		case string:
			if !utf8.ValidString(v) {
				buf = append(append(append(buf, `{"text_bytes":"`...), base64.StdEncoding.AppendEncode(nil, []byte(v))...), `"}`...)
				continue
			}
			s, err := json.Marshal(v)
			if err != nil {
				return nil, err
			}
			buf = append(buf, s...)
		case []byte:
			buf = append(append(base64.StdEncoding.AppendEncode(append(buf, `{"bytes":"`...), v), '"'), '}')
		default:
			return nil, fmt.Errorf("a value of type %T, which the export format does not carry", v)
		}
	}
	return append(buf, ']', '\n'), nil
}

// decodeRow turns one row's JSON values back into the values appendRow
// was given.
func decodeRow(raw []json.RawMessage) ([]any, error) {
	vals := make([]any, len(raw))
	for i, r := range raw {
		v, err := decodeValue(r)
		if err != nil {
			return nil, fmt.Errorf("value %d: %w", i+1, err)
		}
		vals[i] = v
	}
	return vals, nil
}

func decodeValue(r json.RawMessage) (any, error) {
	if len(r) == 0 {
		return nil, errors.New("empty value")
	}
	switch r[0] {
	case 'n':
		if string(r) != "null" {
			return nil, fmt.Errorf("not a value: %.20s", r)
		}
		return nil, nil
	case '"':
		var s string
		err := json.Unmarshal(r, &s)
		return s, err
	case '{':
		var t taggedValue
		dec := json.NewDecoder(bytes.NewReader(r))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&t); err != nil {
			return nil, err
		}
		switch {
		case t.Bytes != nil && t.TextBytes == nil:
			b, err := base64.StdEncoding.AppendDecode([]byte{}, []byte(*t.Bytes))
			return b, err
		case t.TextBytes != nil && t.Bytes == nil:
			b, err := base64.StdEncoding.DecodeString(*t.TextBytes)
			return string(b), err
		}
		return nil, fmt.Errorf("not a value: %.40s", r)
	}
	n, err := strconv.ParseInt(string(r), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("not an int64: %.30s", r)
	}
	return n, nil
}

// readCounter returns the highest id the identity column has handed out
// (which may exceed the highest id left in the table).
func (d *dialect) readCounter(ctx context.Context, tx *sqlx.Tx, table, column string) (int64, error) {
	var n int64
	if d == sqliteDialect {
		// AUTOINCREMENT keeps the highest id in sqlite_sequence.
		err := tx.GetContext(ctx, &n, `SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = ?`, table)
		if err != nil {
			return 0, fmt.Errorf("store: counter of %s: %w", table, err)
		}
		return n, nil
	}
	var seq sql.NullString
	if err := tx.GetContext(ctx, &seq, `SELECT pg_get_serial_sequence($1, $2)`, table, column); err != nil || !seq.Valid {
		return 0, fmt.Errorf("store: sequence of %s.%s: %w", table, column, err)
	}
	// pg_get_serial_sequence returns the name quoted and qualified.
	if err := tx.GetContext(ctx, &n, `SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM `+seq.String); err != nil {
		return 0, fmt.Errorf("store: counter of %s: %w", table, err)
	}
	return n, nil
}

// setCounter makes the identity column hand out ids above both n and the
// highest id in the table, after an import inserted explicit ids.
func (d *dialect) setCounter(ctx context.Context, tx *sqlx.Tx, table, column string, n int64) error {
	var top int64
	if err := tx.GetContext(ctx, &top, `SELECT COALESCE(MAX(`+quoteIdent(column)+`), 0) FROM `+quoteIdent(table)); err != nil {
		return fmt.Errorf("store: counter of %s: %w", table, err)
	}
	n = max(n, top)
	if n == 0 {
		return nil
	}
	if d == postgresDialect {
		if _, err := tx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence($1, $2), $3)`, table, column, n); err != nil {
			return fmt.Errorf("store: set counter of %s: %w", table, err)
		}
		return nil
	}
	res, err := tx.ExecContext(ctx, `UPDATE sqlite_sequence SET seq = ? WHERE name = ?`, n, table)
	if err != nil {
		return fmt.Errorf("store: set counter of %s: %w", table, err)
	}
	if k, err := res.RowsAffected(); err == nil && k == 0 {
		_, err = tx.ExecContext(ctx, `INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)`, table, n)
		if err != nil {
			return fmt.Errorf("store: set counter of %s: %w", table, err)
		}
	}
	return nil
}
