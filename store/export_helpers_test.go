package store_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/authenticators"
	"github.com/sesame-share/sesame/store"
)

// instance is what fillInstance stored, with the secrets that use it.
type instance struct {
	token         *sesame.Token
	tokenSecret   string
	link          *sesame.Link // a live download link, with a password and an email code
	password      string
	session       *sesame.Session
	sessionSecret string
	files         []*sesame.Object
}

// fillInstance stores something of every kind: folders and files (one of
// big bytes when big > 0), tokens, links with authenticators (one deleted),
// sessions, codes, backoff, download claims, session uploads, an upload
// request, a download grant, idempotency keys, the outbox and audit
// events.
func fillInstance(t *testing.T, ts *testStore, big int) *instance {
	t.Helper()
	ctx := context.Background()
	in := &instance{password: "correct horse battery"}
	ts.mkdir(t, "/", "docs")
	ts.mkdir(t, "/docs", "deep")
	in.files = append(in.files, ts.putFile(t, "/docs", "a.txt", []byte("alpha")),
		ts.putFile(t, "/docs/deep", "b.bin", randomBytes(31, 100_000)), ts.putFile(t, "/", "empty", nil))
	u := ts.stage(t, "tagged.txt", []byte("tagged"))
	o, err := ts.CreateFile(ctx, sesame.FileCreate{Placement: placeAt("/docs", "tagged.txt"), Metadata: map[string]string{"k": "v <&>"}, Tags: []string{"x", "ü"}}, u)
	if err != nil {
		t.Fatal(err)
	}
	in.files = append(in.files, o)
	// TTL columns with values in them: one set on a folder and inherited
	// by the file inside, one on a file.
	if _, err := ts.UpdateObject(ctx, ts.byPath(t, "/docs/deep").ID, sesame.ObjectUpdate{FileTTL: "36500d"}); err != nil {
		t.Fatal(err)
	}
	in.files = append(in.files, ts.putTTL(t, "/docs", "kept.txt", "never"))
	if big > 0 {
		in.files = append(in.files, ts.putFile(t, "/", "big.bin", randomBytes(32, big)))
	}
	if in.token, in.tokenSecret, err = ts.CreateToken(ctx, "ci", []sesame.Scope{sesame.ScopeAdmin}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	old, _, err := ts.CreateToken(ctx, "old", []sesame.Scope{sesame.ScopeObjectsRead}, ts.clock.Now().Add(time.Hour))
	if err != nil || ts.RevokeToken(ctx, old.ID) != nil {
		t.Fatalf("revoked token: %v", err)
	}
	in.link = fillLinks(t, ts, in)
	fillPortal(t, ts, in)
	if _, err := ts.CreatePendingUpload(ctx, newPending(ts, in.token.ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.CreateGrant(ctx, &sesame.Grant{ObjectIDs: []string{in.files[0].ID}, Archive: "zip", Expires: ts.clock.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.BeginIdempotent(ctx, in.token.ID, "k1", "POST /v1/x"); err != nil {
		t.Fatal(err)
	}
	if err := ts.FinishIdempotent(ctx, in.token.ID, "k1", []byte{0, 1, 2}, 201, []byte(`{"ok":true}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.BeginIdempotent(ctx, in.token.ID, "k2", "POST /v1/x"); err != nil { // no fingerprint yet: NULL
		t.Fatal(err)
	}
	if err := ts.Enqueue(ctx, &sesame.Message{Channel: sesame.ChannelEmail, To: "bob@example.com", Subject: "hi", Text: "hello"}); err != nil {
		t.Fatal(err)
	}
	auditFixture(t, ts)
	return in
}

// fillLinks stores a live download link with a password and an email
// code, an upload link and a deleted link, and returns the first.
func fillLinks(t *testing.T, ts *testStore, in *instance) *sesame.Link {
	t.Helper()
	ctx := context.Background()
	hash, err := authenticators.NewPassword().Hash(ctx, in.password)
	if err != nil {
		t.Fatal(err)
	}
	drop := ts.mkdir(t, "/", "drop")
	items := []sesame.LinkCreate{ts.linkItem(in.files[0].ID, in.files[1].ID), ts.linkItem(in.files[3].ID), ts.linkItem(drop.ID)}
	items[0].Title, items[0].Tags, items[0].NotifyEmail = "Figures", []string{"q1", "x"}, "owner@example.com"
	items[2].Type = sesame.LinkUpload
	auths := [][]sesame.LinkAuthenticator{
		{{ID: sesame.NewID("lau_"), Type: sesame.AuthPassword, Context: hash}, {ID: sesame.NewID("lau_"), Type: sesame.AuthEmailOTP, Context: "bob@example.com"}},
		{{ID: sesame.NewID("lau_"), Type: sesame.AuthPassword, Context: hash}},
		{{ID: sesame.NewID("lau_"), Type: sesame.AuthEmailOTP, Context: "carol@example.com"}},
	}
	for i := range items {
		items[i].Source = fmt.Sprintf("/links/%d", i)
	}
	links, err := ts.CreateLinks(ctx, items, auths, ts.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.DeleteLinks(ctx, []string{links[1].ID}); err != nil {
		t.Fatal(err)
	}
	return links[0]
}

// fillPortal signs in on the links and leaves what recipients leave.
func fillPortal(t *testing.T, ts *testStore, in *instance) {
	t.Helper()
	ctx := context.Background()
	now := ts.clock.Now()
	var err error
	in.session, in.sessionSecret, err = ts.SignIn(ctx, in.link, in.link.Authenticators[0].ID, "192.0.2.1", "test agent", now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.ClaimDownload(ctx, in.link, in.session.ID, "file:"+in.files[0].ID); err != nil {
		t.Fatal(err)
	}
	msg := &sesame.Message{Channel: sesame.ChannelEmail, To: "bob@example.com", Text: "123456"}
	if err := ts.CreateChallenge(ctx, in.link.Authenticators[1].ID, "123456", msg, now); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.RecordBackoffFailure(ctx, "ip:192.0.2.9", now); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.RecordAuthFailure(ctx, in.link.Authenticators[0].ID, now); err != nil {
		t.Fatal(err)
	}
	for _, f := range in.files[:2] {
		if err := ts.AddSessionUpload(ctx, in.session.ID, f.ID); err != nil {
			t.Fatal(err)
		}
	}
}

// exportStream is an export read back by the tests' own reader of the
// format (the README's description of it).
type exportStream struct {
	manifest struct {
		Format         string `json:"format"`
		FormatVersion  int    `json:"format_version"`
		SchemaVersion  int    `json:"schema_version"`
		KeyFingerprint string `json:"key_fingerprint"`
		Tables         []struct {
			Table string `json:"table"`
			Rows  int    `json:"rows"`
		} `json:"tables"`
		Blobs int `json:"blobs"`
	}
	entries []string            // names, in order
	blobs   map[string]string   // blob key → sha256 of its bytes
	missing []string            // keys recorded as missing
	tables  map[string][]string // table → rows, as rowString renders them
}

// readStream reads an export stream.
func readStream(t *testing.T, r io.Reader) *exportStream {
	t.Helper()
	s := &exportStream{blobs: map[string]string{}, tables: map[string][]string{}}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read export: %v", err)
		}
		s.entries = append(s.entries, hdr.Name)
		name := hdr.Name
		switch {
		case name == "sesame-export.json":
			if err := json.NewDecoder(tr).Decode(&s.manifest); err != nil {
				t.Fatalf("manifest: %v", err)
			}
		case strings.HasPrefix(name, "blobs/"):
			h := sha256.New()
			if _, err := io.Copy(h, tr); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			s.blobs[strings.TrimPrefix(name, "blobs/")] = hex.EncodeToString(h.Sum(nil))
		case strings.HasPrefix(name, "missing/"):
			s.missing = append(s.missing, strings.TrimPrefix(name, "missing/"))
		case strings.HasPrefix(name, "tables/"):
			table, rows := readTableEntry(t, tr)
			s.tables[table] = rows
		default:
			t.Fatalf("unexpected entry %s", name)
		}
	}
	return s
}

// readTableEntry decodes a table entry: a header line, then one JSON array
// a row, each value null, a number, a string or {"bytes"|"text_bytes": base64}.
func readTableEntry(t *testing.T, r io.Reader) (string, []string) {
	t.Helper()
	dec := json.NewDecoder(r)
	dec.UseNumber()
	var head struct {
		Table   string   `json:"table"`
		Columns []string `json:"columns"`
	}
	if err := dec.Decode(&head); err != nil {
		t.Fatalf("table header: %v", err)
	}
	rows := []string{}
	for {
		var raw []any
		if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("table %s: %v", head.Table, err)
		}
		vals := make([]any, len(raw))
		for i, v := range raw {
			switch v := v.(type) {
			case json.Number:
				n, err := v.Int64()
				if err != nil {
					t.Fatalf("table %s: %v", head.Table, err)
				}
				vals[i] = n
			case map[string]any:
				text, isText := v["text_bytes"].(string)
				bin, isBytes := v["bytes"].(string)
				if isText == isBytes || len(v) != 1 {
					t.Fatalf("table %s: value %v is none of the format's", head.Table, v)
				}
				b, err := base64.StdEncoding.DecodeString(text + bin)
				if err != nil {
					t.Fatalf("table %s: %v", head.Table, err)
				}
				if isText {
					vals[i] = string(b)
				} else {
					vals[i] = append([]byte{}, b...)
				}
			default:
				vals[i] = v
			}
		}
		rows = append(rows, rowString(head.Columns, vals))
	}
	sort.Strings(rows)
	return head.Table, rows
}

// rowString renders a row with the type of each value, columns by name;
// session_uploads.seq, which PostgreSQL fills in itself, is left out.
func rowString(cols []string, vals []any) string {
	parts := make([]string, 0, len(cols))
	for i, c := range cols {
		if c == "seq" {
			continue
		}
		var v string
		switch x := vals[i].(type) {
		case nil:
			v = "null"
		case int64:
			v = fmt.Sprintf("int:%d", x)
		case string:
			v = fmt.Sprintf("text:%q", x)
		case []byte:
			v = "bytes:" + hex.EncodeToString(x)
		default:
			v = fmt.Sprintf("%T:%v", x, x)
		}
		parts = append(parts, c+"="+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// dumpTables returns the rows of tables as rowString renders them, sorted.
func dumpTables(t *testing.T, db *sql.DB, tables []string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, table := range tables {
		rows, err := db.Query(`SELECT * FROM ` + table)
		if err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		got := []string{}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			got = append(got, rowString(cols, vals))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		sort.Strings(got)
		out[table] = got
	}
	return out
}

// tables returns the names of the tables the stream's manifest lists.
func (s *exportStream) tableNames() []string {
	var names []string
	for _, tc := range s.manifest.Tables {
		names = append(names, tc.Table)
	}
	return names
}

// wantSameTables fails unless got holds exactly want's rows.
func wantSameTables(t *testing.T, what string, want, got map[string][]string) {
	t.Helper()
	if diff := gocmp.Diff(want, got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
}

// wantBlobsIntact fails unless every file the store lists has its bytes,
// read back through the store, with its sha256, and returns how many
// files there are.
func wantBlobsIntact(t *testing.T, st *store.Store, db *sql.DB) int {
	t.Helper()
	rows, err := db.Query(`SELECT id, blob_key, size, sha256 FROM objects WHERE type = 'file'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id, key, sum string
		var size int64
		if err := rows.Scan(&id, &key, &size, &sum); err != nil {
			t.Fatal(err)
		}
		b, err := st.OpenBlob(context.Background(), key)
		if err != nil {
			t.Errorf("file %s: open blob %s: %v", id, key, err)
			continue
		}
		h := sha256.New()
		got, err := io.Copy(h, b)
		b.Close()
		if err != nil || got != size || hex.EncodeToString(h.Sum(nil)) != sum {
			t.Errorf("file %s: read %d bytes (%v) with sha256 %x, want %d with %s", id, got, err, h.Sum(nil), size, sum)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

// importCfg is the configuration of an import into the data directory
// dir, on the suite's database and blob backend, with the key in keyFile.
func importCfg(t *testing.T, dir, keyFile string) store.Config {
	t.Helper()
	return store.Config{DataDir: dir, DatabaseURL: databaseURL(t, dir), S3: s3Config(t, dir), SecretKeyFile: keyFile,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Exclusive: !onS3()}
}

// exportBytes exports ts whole into memory.
func exportBytes(t *testing.T, st *store.Store) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := st.Export(context.Background(), &buf, "test"); err != nil {
		t.Fatalf("export: %v", err)
	}
	return buf.Bytes()
}

// wantEmptyTarget fails unless the target in dir holds no rows but its
// default bucket, and no blobs.
func wantEmptyTarget(t *testing.T, dir string, tables []string) {
	t.Helper()
	tt := &testStore{dir: dir}
	db := tt.rawDB(t)
	for _, table := range tables {
		want := 0
		if table == "buckets" {
			want = 1
		}
		if n := rowCount(t, db, `SELECT COUNT(*) FROM `+table); n != want {
			t.Errorf("target table %s holds %d rows, want %d", table, n, want)
		}
	}
	if onS3() {
		if objects, _ := tt.s3Keys(t); len(objects) > 0 {
			t.Errorf("target bucket holds %d blobs, want none", len(objects))
		}
		return
	}
	var blobs []string
	_ = filepath.WalkDir(filepath.Join(dir, "blobs"), func(p string, d fs.DirEntry, err error) error { // a walk error leaves blobs empty, which the test then trusts less
		if err == nil && !d.IsDir() {
			blobs = append(blobs, p)
		}
		return nil
	})
	if len(blobs) > 0 {
		t.Errorf("target blob directory holds %d blobs, want none: %v", len(blobs), blobs)
	}
}
