package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/authenticators"
	"github.com/sesame-share/sesame/gateway"
	"github.com/sesame-share/sesame/internal/testrig"
	"github.com/sesame-share/sesame/store"
)

// adminCtx carries a token that may do anything.
func adminCtx() context.Context {
	return sesame.WithToken(context.Background(), &sesame.Token{ID: "stk_test", Scopes: []sesame.Scope{sesame.ScopeAdmin}})
}

// objects is the object service over ts, with the real key deriver.
func (ts *testStore) objects() *sesame.ObjectService {
	return &sesame.ObjectService{Store: ts.Store, Blobs: ts.Store, Deriver: authenticators.NewPassword(), Now: ts.clock.Now}
}

// storedBlob opens the bytes stored under key as they lie on the disk or
// in the bucket, behind the store's back.
func (ts *testStore) storedBlob(t *testing.T, key string) io.ReadCloser {
	t.Helper()
	if !onS3() {
		f, err := os.Open(ts.blobFile(key))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	o, err := testS3(t).GetObject(context.Background(), s3Bucket(), s3Config(t, ts.dir).Prefix+"blobs/"+key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// longestPlainRun returns the longest run of known content of size bytes
// stored under key (0 when there is none of 15 bytes or more), and the
// stored size.
func (ts *testStore) longestPlainRun(t *testing.T, key string, size int64) (int64, int64) {
	t.Helper()
	r := ts.storedBlob(t, key)
	defer r.Close()
	cr := &countingReader{r: r}
	n, err := testrig.LongestKnownRun(cr, size)
	if err != nil {
		t.Fatalf("scan blob %s: %v", key, err)
	}
	return n, cr.n
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func knownSHA256(t *testing.T, size int64) string {
	t.Helper()
	h := sha256.New()
	if _, err := io.Copy(h, testrig.NewKnown(size)); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// readAs opens o through the object service with password and compares
// what it reads with the known content.
func readAs(t *testing.T, objs *sesame.ObjectService, o *sesame.Object, password string) error {
	t.Helper()
	ctx := adminCtx()
	key, err := objs.Unlock(ctx, o, password)
	if err != nil {
		return err
	}
	b, err := objs.Open(ctx, o, key)
	if err != nil {
		return err
	}
	defer b.Close()
	return testrig.SameAsKnown(b, 0, o.Size)
}

func strp(s string) *string { return &s }

// TestStore_ProtectedFile: a file put with a password is stored sealed on
// the suite's backend (no run of its plaintext longer than 16 bytes) and
// reads back whole with the password only; removing the password stores
// it in plain, adding one seals it again, and changing it needs the
// current one. Each change drops the blob it replaces.
func TestStore_ProtectedFile(t *testing.T) {
	ts := newTestStore(t)
	objs := ts.objects()
	ctx := adminCtx()
	const size = 300_000
	o, err := objs.Put(ctx, sesame.FileCreate{Placement: placeAt("", "secret.bin"), Password: strp("pw-one")}, testrig.NewKnown(size), "secret.bin")
	if err != nil {
		t.Fatal(err)
	}
	if o.Lock == nil || o.Lock.Algorithm != sesame.DefaultPasswordAlgorithm || o.Size != size || o.SHA256 != knownSHA256(t, size) {
		t.Fatalf("protected file: lock %+v, %d bytes, sha256 %s; want a lock and the plaintext's size and hash", o.Lock, o.Size, o.SHA256)
	}
	wantSealed := func(o *sesame.Object) {
		t.Helper()
		run, stored := ts.longestPlainRun(t, o.BlobKey, size)
		if run > 16 || stored != o.Lock.SealedSize(size) {
			t.Errorf("blob %s: %d stored bytes (want %d), longest plaintext run %d (want at most 16)", o.BlobKey, stored, o.Lock.SealedSize(size), run)
		}
	}
	wantSealed(o)
	again, err := ts.ObjectByID(ctx, "", o.ID)
	if err != nil || again.Lock == nil {
		t.Fatalf("read back: %v, %v", again, err)
	}
	if err := readAs(t, objs, again, "pw-one"); err != nil {
		t.Errorf("right password: %v", err)
	}
	for _, wrong := range []string{"pw-One", "pw-one!", ""} {
		if err := readAs(t, objs, again, wrong); !errors.Is(err, sesame.ErrWrongFilePassword) && !errors.Is(err, sesame.ErrFilePasswordRequired) {
			t.Errorf("password %q: %v, want a refusal", wrong, err)
		}
	}
	if _, err := objs.Open(ctx, again, nil); !errors.Is(err, sesame.ErrFilePasswordRequired) {
		t.Errorf("open without a key: %v", err)
	}

	update := func(upd sesame.ObjectUpdate) (*sesame.Object, error) { return objs.Update(ctx, o.ID, "", upd) }
	// Refused changes change nothing and leave nothing staged.
	for _, tt := range []struct {
		name string
		upd  sesame.ObjectUpdate
	}{
		{"AddOverPassword", sesame.ObjectUpdate{AddPassword: strp("pw-two")}},
		{"WrongRemove", sesame.ObjectUpdate{RemovePassword: strp("pw-bad")}},
		{"WrongChange", sesame.ObjectUpdate{RemovePassword: strp("pw-bad"), AddPassword: strp("pw-two")}},
		{"AlgorithmAlone", sesame.ObjectUpdate{AddPasswordAlgorithm: "AES-CFB-128"}},
		{"UnknownAlgorithm", sesame.ObjectUpdate{RemovePassword: strp("pw-one"), AddPassword: strp("x"), AddPasswordAlgorithm: "ROT13"}},
	} {
		if _, err := update(tt.upd); sesame.KindOf(err) != sesame.Invalid {
			t.Errorf("%s: %v, want Invalid", tt.name, err)
		}
	}
	ts.wantStaged(t)
	if now, _ := ts.ObjectByID(ctx, "", o.ID); now.BlobKey != o.BlobKey || now.Lock == nil {
		t.Fatalf("a refused change changed the file")
	}

	plain, err := update(sesame.ObjectUpdate{RemovePassword: strp("pw-one")})
	if err != nil || plain.Lock != nil || plain.SHA256 != o.SHA256 {
		t.Fatalf("remove password: %v, %v", plain, err)
	}
	if run, _ := ts.longestPlainRun(t, plain.BlobKey, size); run != size {
		t.Errorf("unprotected blob holds a plaintext run of %d bytes, want the whole file", run)
	}
	ts.wantNoBlob(t, o.BlobKey)
	if err := readAs(t, objs, plain, ""); err != nil {
		t.Errorf("read without a password: %v", err)
	}

	sealed, err := update(sesame.ObjectUpdate{AddPassword: strp("pw-two"), AddPasswordAlgorithm: "AES-CFB-256"})
	if err != nil || sealed.Lock == nil || sealed.Lock.Algorithm != "AES-CFB-256" {
		t.Fatalf("add password: %v, %v", sealed, err)
	}
	wantSealed(sealed)
	ts.wantNoBlob(t, plain.BlobKey)

	changed, err := update(sesame.ObjectUpdate{RemovePassword: strp("pw-two"), AddPassword: strp("pw-three")})
	if err != nil || changed.Lock == nil || changed.Lock.Algorithm != sesame.DefaultPasswordAlgorithm {
		t.Fatalf("change password: %v, %v", changed, err)
	}
	wantSealed(changed)
	if err := readAs(t, objs, changed, "pw-two"); !errors.Is(err, sesame.ErrWrongFilePassword) {
		t.Errorf("old password after a change: %v", err)
	}
	if err := readAs(t, objs, changed, "pw-three"); err != nil {
		t.Errorf("new password: %v", err)
	}
	ts.wantBlobs(t, changed.BlobKey)
	ts.wantStaged(t)
}

// get_archive takes no password, so it refuses an archive that would
// hold a protected file, and names the id that brings it in.
func TestStore_ProtectedFileNotArchived(t *testing.T) {
	ts := newTestStore(t)
	objs := ts.objects()
	ctx := adminCtx()
	dir := ts.mkdir(t, "", "dir")
	open := ts.putFile(t, "/dir", "open.txt", []byte("open"))
	o, err := objs.Put(ctx, sesame.FileCreate{Placement: placeAt("/dir/deep", "secret.txt"), Password: strp("pw")}, bytes.NewReader([]byte("secret")), "secret.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		ids    []string
		source string
	}{{[]string{open.ID, o.ID}, "/ids/1"}, {[]string{dir.ID}, "/ids/0"}} {
		_, err := objs.Archive(ctx, "", tt.ids, "zip")
		e := sesame.AsError(err)
		if e == nil || e.Kind != sesame.Invalid || len(e.Fields) != 1 || e.Fields[0].Source != tt.source {
			t.Errorf("archive of %v: %v, want Invalid at %s", tt.ids, err, tt.source)
		}
	}
	if _, err := objs.Archive(ctx, "", []string{open.ID}, "zip"); err != nil {
		t.Errorf("archive without the protected file: %v", err)
	}
}

// The keys that unlock files are stored sealed, and die with what holds
// them: a recipient's session (at sign-out, expiry or its link's
// change), a download grant, an announced upload.
func TestStore_FileKeys(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	db := ts.rawDB(t)
	f := ts.putFile(t, "", "f.txt", []byte("x"))
	l := ts.newLinks(t, ts.linkItem(f.ID))[0]
	key := sesame.FileKey(bytes.Repeat([]byte{0xA5}, 32))
	wantHidden := func(table, col string) {
		t.Helper()
		var n int
		if err := db.QueryRow(`SELECT COUNT(*) FROM ` + table + ` WHERE ` + col + ` IS NOT NULL`).Scan(&n); err != nil || n == 0 {
			t.Fatalf("%s.%s: %d rows, %v", table, col, n, err)
		}
		rows, err := db.Query(`SELECT ` + col + ` FROM ` + table)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var b []byte
			if err := rows.Scan(&b); err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(b, key[:8]) {
				t.Errorf("%s.%s holds the key in the clear", table, col)
			}
		}
	}

	s1, secret1 := ts.signIn(t, l)
	s2, _ := ts.signIn(t, l)
	if err := ts.SaveSessionKey(ctx, s1, f.ID, key); err != nil {
		t.Fatal(err)
	}
	if err := ts.SaveSessionKey(ctx, s2, f.ID, key); err != nil {
		t.Fatal(err)
	}
	wantHidden("session_file_keys", "key_sealed")
	if got, err := ts.SessionKey(ctx, s1.ID, f.ID); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("session key: %v", err)
	}
	if ids, err := ts.SessionKeyIDs(ctx, s1.ID); err != nil || len(ids) != 1 || ids[0] != f.ID {
		t.Errorf("session key ids: %v, %v", ids, err)
	}
	if _, err := ts.SessionKey(ctx, s1.ID, "pos_other"); sesame.KindOf(err) != sesame.NotFound {
		t.Errorf("key of another file: %v, want NotFound", err)
	}
	if err := ts.EndSession(ctx, secret1); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.SessionKey(ctx, s1.ID, f.ID); sesame.KindOf(err) != sesame.NotFound {
		t.Errorf("key after sign-out: %v, want NotFound", err)
	}
	if n := rowCount(t, db, `SELECT COUNT(*) FROM session_file_keys WHERE session_id = '`+s1.ID+`'`); n != 0 {
		t.Errorf("%d keys left after sign-out, want none", n)
	}
	ts.clock.Advance(sesame.SessionMaxAge + time.Minute)
	if _, err := ts.SessionKey(ctx, s2.ID, f.ID); sesame.KindOf(err) != sesame.NotFound {
		t.Errorf("key of an expired session: %v, want NotFound", err)
	}
	if _, err := ts.Purge(ctx, ts.clock.Now(), 0); err != nil {
		t.Fatal(err)
	}
	if n := rowCount(t, db, `SELECT COUNT(*) FROM session_file_keys`); n != 0 {
		t.Errorf("%d keys left after the purge, want none", n)
	}

	secret, err := ts.CreateGrant(ctx, &sesame.Grant{ObjectIDs: []string{f.ID}, Expires: ts.clock.Now().Add(time.Hour), Key: key})
	if err != nil {
		t.Fatal(err)
	}
	wantHidden("download_grants", "file_key")
	if g, err := ts.GrantBySecret(ctx, secret); err != nil || !bytes.Equal(g.Key, key) {
		t.Errorf("grant key: %v", err)
	}

	lock, _, err := sesame.NewFileLock(ctx, authenticators.NewPassword(), "pw", "AES-CFB-128")
	if err != nil {
		t.Fatal(err)
	}
	p := newPending(ts, "stk_test")
	p.Lock, p.Key, p.Spec.Password = lock, key, strp("pw-not-kept")
	upSecret, err := ts.CreatePendingUpload(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	var spec string
	if err := db.QueryRow(`SELECT spec FROM pending_uploads WHERE id = ?`, p.ID).Scan(&spec); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains([]byte(spec), key[:8]) || bytes.Contains([]byte(spec), []byte("pw-not-kept")) {
		t.Errorf("pending upload spec holds the key or the password: %s", spec)
	}
	wantHidden("pending_uploads", "file_key")
	claimed, err := ts.ClaimPendingUpload(ctx, upSecret)
	if err != nil || !bytes.Equal(claimed.Key, key) || claimed.Lock == nil || claimed.Lock.Check != lock.Check {
		t.Errorf("claimed upload: %+v, %v; want its lock and key", claimed, err)
	}
	if err := ts.FinishPendingUpload(ctx, p.ID, f.ID, nil); err != nil {
		t.Fatal(err)
	}
	if n := rowCount(t, db, `SELECT COUNT(*) FROM pending_uploads WHERE file_key IS NOT NULL`); n != 0 {
		t.Errorf("%d finished uploads keep their key, want none", n)
	}
	if done, err := ts.PendingUploadByID(ctx, "stk_test", p.ID); err != nil || done.Key != nil || done.Status != sesame.PendingDone {
		t.Errorf("finished upload: %+v, %v", done, err)
	}
}

// An export carries protected files as they are stored (sealed, checked
// against their sealed size) and the keys held for them; the import reads
// them back with their passwords.
func TestStore_ProtectedFileExportImport(t *testing.T) {
	ts := newTestStore(t)
	objs := ts.objects()
	ctx := adminCtx()
	const size = 200_000
	o, err := objs.Put(ctx, sesame.FileCreate{Placement: placeAt("", "secret.bin"), Password: strp("pw")}, testrig.NewKnown(size), "secret.bin")
	if err != nil {
		t.Fatal(err)
	}
	l := ts.newLinks(t, ts.linkItem(o.ID))[0]
	s, _ := ts.signIn(t, l)
	key, err := objs.Unlock(ctx, o, "pw")
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.SaveSessionKey(ctx, s, o.ID, key); err != nil {
		t.Fatal(err)
	}
	data := exportBytes(t, ts.Store)
	dir := t.TempDir()
	keyFile := filepath.Join(ts.dir, "secret.key")
	if _, err := store.Import(context.Background(), importCfg(t, dir, keyFile), bytes.NewReader(data)); err != nil {
		t.Fatalf("import: %v", err)
	}
	target := openTarget(t, dir, keyFile, ts.clock)
	got, err := target.ObjectByID(ctx, "", o.ID)
	if err != nil || got.Lock == nil {
		t.Fatalf("imported file: %v, %v", got, err)
	}
	if err := readAs(t, target.objects(), got, "pw"); err != nil {
		t.Errorf("imported file with its password: %v", err)
	}
	if k, err := target.SessionKey(ctx, s.ID, o.ID); err != nil || !bytes.Equal(k, key) {
		t.Errorf("imported session key: %v", err)
	}
}

// TestStore_ProtectedFileOverHTTP is the acceptance test of protected
// files, through the API on the suite's backend (the disk, or an S3
// bucket when SESAME_TEST_S3_ENDPOINT names one; scripts/test.sh runs it
// on both): a 100 MiB file put with a password refuses a wrong one, gives
// its exact bytes for the right one and the exact slice for a Range
// request in its middle, and its stored blob holds no run of its
// plaintext longer than 16 bytes.
func TestStore_ProtectedFileOverHTTP(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 100 MiB several times")
	}
	const size = 100 << 20
	ts := newTestStore(t)
	env := testrig.NewEnv(t, testrig.WithStore(ts.Store), testrig.WithConfig(func(c *gateway.Config) {
		c.Objects.Policy.MaxFileSize = 0
	}))
	api := env.API
	put := api.PutStream(t, "/v1/put", map[string]any{"name": "big.bin", "password": "Tr0ub4dor&3", "password_algorithm": "AES-CFB-256"}, testrig.NewKnown(size))
	put.MustOK(t)
	var res struct {
		Object struct {
			ID                string            `json:"id"`
			Size              int64             `json:"size"`
			SHA256            string            `json:"sha256"`
			MetadataProtected map[string]string `json:"metadata_protected"`
		} `json:"object"`
	}
	put.Into(t, &res)
	obj := res.Object
	if obj.Size != size || obj.SHA256 != knownSHA256(t, size) || obj.MetadataProtected["vault-password-algorithm"] != "AES-CFB-256" {
		t.Fatalf("put: %+v", obj)
	}

	wrong := api.GetStream(t, "/v1/get", map[string]any{"id": obj.ID, "transfer_method": "multipart", "password": "tr0ub4dor&3"}, nil)
	if wrong.Code != 400 || len(wrong.Errors(t)) != 1 || wrong.Errors(t)[0].Source != "/password" {
		t.Errorf("wrong password: %d %s", wrong.Code, wrong.Raw)
	}
	right := api.GetStream(t, "/v1/get", map[string]any{"id": obj.ID, "transfer_method": "multipart", "password": "Tr0ub4dor&3"},
		func(r io.Reader) error { return testrig.SameAsKnown(r, 0, size) })
	right.MustOK(t)

	dest := api.Post(t, "/v1/get", map[string]any{"id": obj.ID, "transfer_method": "dest-url", "password": "Tr0ub4dor&3"})
	dest.MustOK(t)
	var d struct {
		DestURL string `json:"dest_url"`
	}
	dest.Into(t, &d)
	const from, n = 50<<20 - 12345, 3<<20 + 777 // across many segments, starting and ending inside one
	req, _ := http.NewRequest(http.MethodGet, d.DestURL, nil)
	req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", from, from+n-1))
	resp, err := api.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || resp.Header.Get("Content-Range") != fmt.Sprintf("bytes %d-%d/%d", from, from+n-1, size) {
		t.Fatalf("range: %d, Content-Range %q", resp.StatusCode, resp.Header.Get("Content-Range"))
	}
	if err := testrig.SameAsKnown(resp.Body, from, n); err != nil {
		t.Errorf("range: %v", err)
	}

	o, err := ts.ObjectByID(context.Background(), "", obj.ID)
	if err != nil {
		t.Fatal(err)
	}
	run, stored := ts.longestPlainRun(t, o.BlobKey, size)
	if run > 16 || stored != o.Lock.SealedSize(size) {
		t.Errorf("stored blob: %d bytes (want %d), longest plaintext run %d bytes (want at most 16)", stored, o.Lock.SealedSize(size), run)
	}
}
