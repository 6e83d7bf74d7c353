package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// putProtected uploads data as name with a password through a multipart
// put, and returns the object.
func (e *testEnv) putProtected(name string, data []byte, fields map[string]any) object {
	e.t.Helper()
	req := map[string]any{"folder": "/vault", "name": name}
	for k, v := range fields {
		req[k] = v
	}
	return e.objectOf(e.put("/v1/put", req, data))
}

// getFile downloads id through get with the multipart transfer method,
// with password unless it is "".
func (e *testEnv) getFile(id, password string) (*reply, []byte) {
	e.t.Helper()
	body := map[string]any{"id": id, "transfer_method": "multipart"}
	if password != "" {
		body["password"] = password
	}
	r := e.post("/v1/get", body)
	if r.Code != http.StatusOK {
		return r, nil
	}
	env, files := multipartReply(e.t, r)
	if len(files) != 1 {
		e.t.Fatalf("got %d file parts, want 1", len(files))
	}
	return env, files[0].Body
}

func (e *testEnv) destURL(body map[string]any) (*reply, string) {
	e.t.Helper()
	r := e.post("/v1/get", body)
	var res struct {
		DestURL string `json:"dest_url"`
	}
	if r.Code == http.StatusOK {
		r.Into(e.t, &res)
	}
	return r, res.DestURL
}

// TestProtectedFiles_API walks a password-protected file through the API:
// put with password and password_algorithm, get (multipart and dest-url,
// with Range) with the right password only, get_archive refused,
// add_password and remove_password, and the announced uploads.
func TestProtectedFiles_API(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	data := randomBytes(t, 1<<20+4567) // several segments, the last one short
	f := e.putProtected("secret.bin", data, map[string]any{"password": "s3same-Open", "password_algorithm": "AES-CFB-128", "sha256": hexSHA256(data)})
	if f.MetadataProtected["vault-password-algorithm"] != "AES-CFB-128" || f.SHA256 != hexSHA256(data) || f.Size != int64(len(data)) {
		t.Fatalf("put: %+v", f)
	}

	t.Run("MetadataWithoutPassword", func(t *testing.T) {
		got := e.objectOf(e.post("/v1/get", map[string]any{"id": f.ID}))
		if got.MetadataProtected["vault-password-algorithm"] != "AES-CFB-128" {
			t.Errorf("metadata_protected %v", got.MetadataProtected)
		}
	})
	t.Run("GetNeedsThePassword", func(t *testing.T) {
		r, _ := e.getFile(f.ID, "")
		wantError(t, r, http.StatusBadRequest, "ValidationError", "FieldRequired", "/password")
		// Every wrong password gets the same answer, however close it is.
		var answers []string
		for _, wrong := range []string{"s3same-open", "s3same-Open ", "s3same-Ope", "x", strings.Repeat("s3same-Open", 200)} {
			r, _ := e.getFile(f.ID, wrong)
			wantError(t, r, http.StatusBadRequest, "ValidationError", "BadState", "/password")
			answers = append(answers, r.Summary+string(mustJSON(t, r.Errors(t))))
		}
		for _, a := range answers[1:] {
			if a != answers[0] {
				t.Errorf("wrong passwords answered differently: %q and %q", answers[0], a)
			}
		}
		env, got := e.getFile(f.ID, "s3same-Open")
		if env.Status != "Success" || !bytes.Equal(got, data) {
			t.Errorf("right password: %s, %d bytes", env.Status, len(got))
		}
	})
	t.Run("DestURL", func(t *testing.T) {
		r, _ := e.destURL(map[string]any{"id": f.ID, "transfer_method": "dest-url"})
		wantError(t, r, http.StatusBadRequest, "ValidationError", "FieldRequired", "/password")
		r, _ = e.destURL(map[string]any{"id": f.ID, "transfer_method": "dest-url", "password": "nope"})
		wantError(t, r, http.StatusBadRequest, "ValidationError", "BadState", "/password")
		r, u := e.destURL(map[string]any{"id": f.ID, "transfer_method": "dest-url", "password": "s3same-Open"})
		mustOK(t, r)
		if got := e.get(u, nil); got.Code != http.StatusOK || !bytes.Equal(got.Raw, data) {
			t.Fatalf("GET dest_url: %d, %d bytes", got.Code, len(got.Raw))
		}
		from, to := 65536-10, 3*65536+20 // across three segment boundaries
		rng := e.get(u, map[string]string{"Range": fmt.Sprintf("bytes=%d-%d", from, to)})
		if rng.Code != http.StatusPartialContent || !bytes.Equal(rng.Raw, data[from:to+1]) ||
			rng.Header.Get("Content-Range") != fmt.Sprintf("bytes %d-%d/%d", from, to, len(data)) {
			t.Errorf("Range: %d %q, %d bytes", rng.Code, rng.Header.Get("Content-Range"), len(rng.Raw))
		}
		tail := e.get(u, map[string]string{"Range": "bytes=-7"})
		if tail.Code != http.StatusPartialContent || !bytes.Equal(tail.Raw, data[len(data)-7:]) {
			t.Errorf("suffix Range: %d, %d bytes", tail.Code, len(tail.Raw))
		}
		if head := e.request(http.MethodHead, u, nil); head.Code != http.StatusOK || head.Header.Get("Content-Length") != fmt.Sprint(len(data)) {
			t.Errorf("HEAD: %d, length %q", head.Code, head.Header.Get("Content-Length"))
		}
	})
	t.Run("ArchiveRefused", func(t *testing.T) {
		open := e.upload("/vault", "open.txt", []byte("open"))
		for _, tm := range []string{"multipart", "dest-url"} {
			r := e.post("/v1/get_archive", map[string]any{"ids": []string{open.ID, f.ID}, "transfer_method": tm})
			wantError(t, r, http.StatusBadRequest, "ValidationError", "BadState", "/ids/1")
			r = e.post("/v1/get_archive", map[string]any{"ids": []string{f.ParentID}, "transfer_method": tm})
			wantError(t, r, http.StatusBadRequest, "ValidationError", "BadState", "/ids/0")
		}
	})
	t.Run("PasswordOnAPlainFileIgnored", func(t *testing.T) {
		plain := e.upload("/vault", "plain.txt", []byte("plain"))
		if _, got := e.getFile(plain.ID, "whatever"); string(got) != "plain" {
			t.Errorf("got %q", got)
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// add_password protects a file, remove_password (with the current
// password) unprotects it, both change it; an archive URL made before a
// file was protected no longer reaches it.
func TestProtectedFiles_AddRemovePassword(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	data := randomBytes(t, 200_000)
	f := e.upload("/box", "f.bin", data)
	r, archiveURL := e.destURL(map[string]any{"id": f.ID, "transfer_method": "dest-url"})
	mustOK(t, r)
	ar := e.post("/v1/get_archive", map[string]any{"ids": []string{f.ParentID}, "transfer_method": "dest-url"})
	mustOK(t, ar)
	var arc struct {
		DestURL string `json:"dest_url"`
	}
	ar.Into(t, &arc)

	update := func(body map[string]any) *reply {
		body["id"] = f.ID
		return e.post("/v1/update", body)
	}
	locked := e.objectOf(update(map[string]any{"add_password": "first", "add_password_algorithm": "AES-GCM-256", "add_tags": []string{"t"}}))
	if locked.MetadataProtected["vault-password-algorithm"] != "AES-GCM-256" || locked.SHA256 != f.SHA256 || len(locked.Tags) != 1 {
		t.Fatalf("after add_password: %+v", locked)
	}
	if r, _ := e.getFile(f.ID, ""); r.Code != http.StatusBadRequest {
		t.Errorf("get without the new password: %d", r.Code)
	}
	if got := e.get(archiveURL, nil); got.Code != http.StatusBadRequest {
		t.Errorf("a dest-url made before the password: %d, want 400", got.Code)
	}
	if got := e.get(arc.DestURL, nil); got.Code != http.StatusBadRequest {
		t.Errorf("an archive URL made before the password: %d, want 400", got.Code)
	}
	if _, got := e.getFile(f.ID, "first"); !bytes.Equal(got, data) {
		t.Errorf("get with the password: %d bytes", len(got))
	}

	wantError(t, update(map[string]any{"add_password": "second"}), http.StatusBadRequest, "ValidationError", "BadState", "/add_password")
	wantError(t, update(map[string]any{"remove_password": "wrong"}), http.StatusBadRequest, "ValidationError", "BadState", "/remove_password")
	wantError(t, update(map[string]any{"remove_password": "wrong", "add_password": "second"}), http.StatusBadRequest, "ValidationError", "BadState", "/remove_password")
	stale := update(map[string]any{"remove_password": "first", "updated_at": f.UpdatedAt})
	if stale.Code != http.StatusConflict {
		t.Errorf("a password change with a stale updated_at: %d", stale.Code)
	}

	changed := e.objectOf(update(map[string]any{"remove_password": "first", "add_password": "second"}))
	if changed.MetadataProtected["vault-password-algorithm"] != "AES-GCM-256" {
		t.Errorf("after the change: %v", changed.MetadataProtected)
	}
	if r, _ := e.getFile(f.ID, "first"); r.Code != http.StatusBadRequest {
		t.Errorf("old password after the change: %d", r.Code)
	}
	plain := e.objectOf(update(map[string]any{"remove_password": "second"}))
	if _, ok := plain.MetadataProtected["vault-password-algorithm"]; ok || plain.SHA256 != f.SHA256 {
		t.Fatalf("after remove_password: %+v", plain)
	}
	if _, got := e.getFile(f.ID, ""); !bytes.Equal(got, data) {
		t.Errorf("get after remove_password: %d bytes", len(got))
	}
}

// Uploads announced with a password (post-url, put-url) are sealed as
// they arrive; a multipart body that sends the file before the request
// cannot be, and is refused without storing anything.
func TestProtectedFiles_Uploads(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	data := randomBytes(t, 100_000)
	r := e.post("/v1/put", map[string]any{"transfer_method": "put-url", "path": "/drop/p.bin", "password": "pw", "password_algorithm": "AES-CFB-256"})
	if r.Code != http.StatusAccepted {
		t.Fatalf("announce: %d %s", r.Code, r.Raw)
	}
	var acc acceptedResult
	r.Into(t, &acc)
	req, _ := http.NewRequest(http.MethodPut, acc.PutURL, bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/octet-stream")
	if up := e.do(req); up.Code != http.StatusOK {
		t.Fatalf("PUT upload: %d %s", up.Code, up.Raw)
	}
	o := e.objectOf(e.poll(acc.Location, e.token))
	if o.MetadataProtected["vault-password-algorithm"] != "AES-CFB-256" || o.SHA256 != hexSHA256(data) {
		t.Fatalf("put-url object: %+v", o)
	}
	if _, got := e.getFile(o.ID, "pw"); !bytes.Equal(got, data) {
		t.Errorf("get: %d bytes", len(got))
	}
	if r, _ := e.getFile(o.ID, "pW"); r.Code != http.StatusBadRequest {
		t.Errorf("wrong password: %d", r.Code)
	}

	js, _ := json.Marshal(map[string]any{"folder": "/drop", "name": "late.bin", "password": "pw"})
	ct, body := multipartBody(t, part{"file", "blob", "application/octet-stream", data}, part{"request", "blob", "application/json", js})
	req, _ = http.NewRequest(http.MethodPost, e.srv.URL+"/v1/put", bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+e.token)
	wantError(t, e.do(req), http.StatusBadRequest, "ValidationError", "BadState", "/password")
	if r := e.post("/v1/get", map[string]any{"path": "/drop/late.bin"}); r.Code != http.StatusNotFound {
		t.Errorf("the refused file exists: %d", r.Code)
	}
}
