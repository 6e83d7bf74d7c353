package gateway_test

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"net/http"
	"slices"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/gateway"
)

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func hexSHA256(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func TestEnvelope_Shape(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	for _, prefix := range []string{"/v1", "/v1beta"} {
		r := e.post(prefix+"/buckets", "{}")
		mustOK(t, r)
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(r.Raw, &keys); err != nil {
			t.Fatal(err)
		}
		got := make([]string, 0, len(keys))
		for k := range keys {
			got = append(got, k)
		}
		sort.Strings(got)
		want := []string{"request_id", "request_time", "response_time", "result", "status", "summary"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s envelope keys (-want +got):\n%s", prefix, diff)
		}
		if !sesame.ValidID(sesame.PrefixRequest, r.RequestID) || r.Header.Get("x-request-id") != r.RequestID {
			t.Errorf("request id %q, header %q", r.RequestID, r.Header.Get("x-request-id"))
		}
		var res struct {
			Buckets []struct {
				ID              string   `json:"id"`
				Default         bool     `json:"default"`
				Name            string   `json:"name"`
				TransferMethods []string `json:"transfer_methods"`
			} `json:"buckets"`
		}
		r.Into(t, &res)
		if len(res.Buckets) != 1 || !res.Buckets[0].Default || !sesame.ValidID(sesame.PrefixBucket, res.Buckets[0].ID) {
			t.Fatalf("buckets = %+v", res.Buckets)
		}
		for _, m := range res.Buckets[0].TransferMethods {
			if !slices.Contains([]string{"multipart", "post-url", "put-url", "source-url", "dest-url"}, m) {
				t.Errorf("unknown transfer method %q", m)
			}
		}
	}
}

func TestFolderCreate(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	t.Run("FullPathCreatesParents", func(t *testing.T) {
		o := e.mkdir("/a/b/c")
		if o.Type != "folder" || o.Name != "c" || o.Folder != "/a/b" || o.ParentID == "" {
			t.Fatalf("got %+v", o)
		}
		b := e.objectOf(e.post("/v1/get", map[string]any{"id": o.ParentID}))
		if b.Name != "b" || b.Folder != "/a" {
			t.Fatalf("parent = %+v", b)
		}
	})
	t.Run("NameAndParentID", func(t *testing.T) {
		p := e.mkdir("/p")
		o := e.objectOf(e.post("/v1/folder/create", map[string]any{"name": "child", "parent_id": p.ID, "tags": []string{"x"}, "metadata": map[string]string{"k": "v"}}))
		if o.Folder != "/p" || o.ParentID != p.ID || !slices.Equal(o.Tags, []string{"x"}) || o.Metadata["k"] != "v" {
			t.Fatalf("got %+v", o)
		}
	})
	t.Run("V1betaPath", func(t *testing.T) {
		o := e.objectOf(e.post("/v1beta/folder/create", map[string]any{"path": "/beta/dir/"}))
		if o.Name != "dir" || o.Folder != "/beta" {
			t.Fatalf("got %+v", o)
		}
	})
	t.Run("RootByName", func(t *testing.T) {
		o := e.objectOf(e.post("/v1/folder/create", map[string]any{"name": "top"}))
		if o.Folder != "/" || o.ParentID != "" {
			t.Fatalf("got %+v", o)
		}
	})
	t.Run("MetadataAndTagsOmittedUntilSet", func(t *testing.T) {
		r := e.post("/v1/folder/create", map[string]any{"name": "plain"})
		mustOK(t, r)
		if bytes.Contains(r.Raw, []byte(`"metadata"`)) || bytes.Contains(r.Raw, []byte(`"tags"`)) {
			t.Fatalf("metadata or tags present: %s", r.Raw)
		}
	})
	t.Run("DuplicateName", func(t *testing.T) {
		r := e.post("/v1/folder/create", map[string]any{"name": "top"})
		wantError(t, r, http.StatusConflict, "ValidationError", "BadState", "/name")
	})
	t.Run("FolderAndParentIDDisagree", func(t *testing.T) {
		p := e.mkdir("/q")
		r := e.post("/v1/folder/create", map[string]any{"name": "x", "parent_id": p.ID, "folder": "/a"})
		wantError(t, r, http.StatusBadRequest, "ValidationError", "MutuallyExclusive", "/folder")
	})
}

func TestPut(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	dir := e.mkdir("/up")
	data := randomBytes(t, 300_000)
	sum := hexSHA256(data)
	md := md5.Sum(data)
	crc := fmt.Sprintf("%08x", crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli)))

	t.Run("NodeStyle", func(t *testing.T) {
		o := e.objectOf(e.put("/v1/put", map[string]any{"parent_id": dir.ID, "name": "node.bin", "sha256": sum, "crc32c": crc, "size": len(data),
			"metadata": map[string]string{"owner": "alice"}}, data))
		if o.Type != "file" || o.Size != int64(len(data)) || o.SHA256 != sum || o.MD5 != hex.EncodeToString(md[:]) || o.CRC32C != crc || o.Folder != "/up" || o.Metadata["owner"] != "alice" || o.Tags != nil {
			t.Fatalf("got %+v", o)
		}
	})
	t.Run("PythonStyle", func(t *testing.T) {
		js, _ := json.Marshal(map[string]any{"folder": "/up", "name": "py.bin", "transfer_method": "multipart"})
		ct, body := multipartBody(t, part{"request", "", "", js}, part{"upload", "py.bin", "application/octet-stream", data})
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/v1/put", bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Authorization", "Bearer "+e.token)
		o := e.objectOf(e.do(req))
		if o.Name != "py.bin" || o.SHA256 != sum {
			t.Fatalf("got %+v", o)
		}
	})
	t.Run("FolderAsFullPathWithoutName", func(t *testing.T) {
		o := e.objectOf(e.put("/v1/put", map[string]any{"folder": "/up/deep/file_multipart_1"}, []byte("x")))
		if o.Name != "file_multipart_1" || o.Folder != "/up/deep" {
			t.Fatalf("got %+v", o)
		}
	})
	t.Run("V1betaPath", func(t *testing.T) {
		o := e.objectOf(e.put("/v1beta/put", map[string]any{"path": "/beta/f.txt"}, []byte("hello")))
		if o.Name != "f.txt" || o.Folder != "/beta" || o.MetadataProtected["mimetype"] == "" {
			t.Fatalf("got %+v", o)
		}
	})
	t.Run("NameFromFilename", func(t *testing.T) {
		js, _ := json.Marshal(map[string]any{"folder": "/up/"})
		ct, body := multipartBody(t, part{"request", "", "application/json", js}, part{"file", "report.pdf", "", []byte("%PDF-1.4 hi")})
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/v1/put", bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Authorization", "Bearer "+e.token)
		o := e.objectOf(e.do(req))
		if o.Name != "report.pdf" || o.MetadataProtected["mimetype"] != "application/pdf" {
			t.Fatalf("got %+v", o)
		}
	})
	t.Run("EmptyFile", func(t *testing.T) {
		o := e.objectOf(e.put("/v1/put", map[string]any{"folder": "/up", "name": "empty", "size": 0}, nil))
		if o.Size != 0 || o.SHA256 != hexSHA256(nil) {
			t.Fatalf("got %+v", o)
		}
	})
	t.Run("MismatchLeavesNothing", func(t *testing.T) {
		r := e.put("/v1/put", map[string]any{"folder": "/up", "name": "bad.bin", "sha256": hexSHA256([]byte("other"))}, data)
		wantError(t, r, http.StatusBadRequest, "ValidationError", "BadState", "/sha256")
		r = e.post("/v1/list", map[string]any{"filter": map[string]any{"folder": "/up", "name": "bad.bin"}})
		mustOK(t, r)
		var res struct{ Count int }
		r.Into(t, &res)
		if res.Count != 0 {
			t.Fatalf("a rejected upload is visible: %s", r.Raw)
		}
	})
	t.Run("NameTaken", func(t *testing.T) {
		r := e.put("/v1/put", map[string]any{"folder": "/up", "name": "node.bin"}, data)
		wantError(t, r, http.StatusConflict, "ValidationError", "BadState", "/name")
	})
	t.Run("TooLarge", func(t *testing.T) {
		small := newTestEnv(t, func(c *gateway.Config) { c.Objects.Policy.MaxFileSize = 1000 })
		r := small.put("/v1/put", map[string]any{"name": "big"}, make([]byte, 5000))
		if r.Code != http.StatusRequestEntityTooLarge || r.Status != "ValidationError" {
			t.Fatalf("got %d %s: %s", r.Code, r.Status, r.Raw)
		}
	})
}
