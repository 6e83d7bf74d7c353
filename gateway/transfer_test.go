package gateway_test

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"net/http"
	"strings"
	"testing"
)

type acceptedResult struct {
	TTLMins      int               `json:"ttl_mins"`
	RetryCounter int               `json:"retry_counter"`
	Location     string            `json:"location"`
	PostURL      string            `json:"post_url"`
	PostFormData map[string]string `json:"post_form_data"`
	PutURL       string            `json:"put_url"`
}

func (e *testEnv) poll(location, token string) *reply {
	e.t.Helper()
	return e.get(location, map[string]string{"Authorization": "Bearer " + token})
}

func TestPostURLUpload(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	data := randomBytes(t, 150_000)
	r := e.post("/v1/put", map[string]any{"transfer_method": "post-url", "folder": "/inbox", "name": "a.bin", "sha256": hexSHA256(data), "size": len(data),
		"crc32c": fmt.Sprintf("%08x", crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli)))})
	if r.Code != http.StatusAccepted || r.Status != "Accepted" {
		t.Fatalf("got %d %s, want 202 Accepted: %s", r.Code, r.Status, r.Raw)
	}
	var acc acceptedResult
	r.Into(t, &acc)
	if acc.TTLMins <= 0 || acc.Location != e.srv.URL+"/request/"+r.RequestID || !strings.HasPrefix(acc.PostURL, e.srv.URL+"/upload/") || acc.PostFormData == nil {
		t.Fatalf("accepted result %+v", acc)
	}

	// Before the bytes arrive, polling says Accepted again.
	p := e.poll(acc.Location, e.token)
	if p.Code != http.StatusAccepted || p.Status != "Accepted" || p.RequestID != r.RequestID {
		t.Fatalf("poll before upload: %d %s %s", p.Code, p.Status, p.Raw)
	}
	// Another token cannot see the request.
	if p := e.poll(acc.Location, e.newToken("objects:write")); p.Code != http.StatusNotFound {
		t.Fatalf("poll with another token: %d", p.Code)
	}

	// The upload carries no Authorization, like the SDKs' form post.
	ct, body := multipartBody(t, part{"key", "", "", []byte("ignored")}, part{"file", "file", "application/octet-stream", data})
	req, _ := http.NewRequest(http.MethodPost, acc.PostURL, bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	if up := e.do(req); up.Code/100 != 2 {
		t.Fatalf("upload: %d %s", up.Code, up.Raw)
	}

	done := e.poll(acc.Location, e.token)
	o := e.objectOf(done)
	if o.Name != "a.bin" || o.Folder != "/inbox" || o.SHA256 != hexSHA256(data) || done.RequestID != r.RequestID {
		t.Fatalf("poll after upload: %+v (%s)", o, done.RequestID)
	}

	// The URL is single-use.
	req, _ = http.NewRequest(http.MethodPost, acc.PostURL, bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	if again := e.do(req); again.Code != http.StatusNotFound {
		t.Fatalf("second upload to the same URL: %d", again.Code)
	}
}

func TestPutURLUpload(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	data := randomBytes(t, 70_000)
	r := e.post("/v1/put", map[string]any{"transfer_method": "put-url", "path": "/drop/b.bin"})
	if r.Code != http.StatusAccepted {
		t.Fatalf("got %d: %s", r.Code, r.Raw)
	}
	var acc acceptedResult
	r.Into(t, &acc)
	if acc.PutURL == "" || acc.PostURL != "" {
		t.Fatalf("accepted result %+v", acc)
	}
	// A POST to a put-url is refused and uses the URL up.
	req, _ := http.NewRequest(http.MethodPut, acc.PutURL, bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/octet-stream")
	if up := e.do(req); up.Code != http.StatusOK {
		t.Fatalf("PUT upload: %d %s", up.Code, up.Raw)
	}
	o := e.objectOf(e.poll(acc.Location, e.token))
	if o.Name != "b.bin" || o.Folder != "/drop" || o.Size != int64(len(data)) {
		t.Fatalf("got %+v", o)
	}
}

func TestAnnouncedUploadFailureIsReported(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	r := e.post("/v1/put", map[string]any{"transfer_method": "put-url", "name": "c.bin", "size": 10})
	var acc acceptedResult
	r.Into(t, &acc)
	req, _ := http.NewRequest(http.MethodPut, acc.PutURL, strings.NewReader("only 9 b."))
	up := e.do(req)
	wantError(t, up, http.StatusBadRequest, "ValidationError", "BadState", "/size")
	p := e.poll(acc.Location, e.token)
	wantError(t, p, http.StatusBadRequest, "ValidationError", "BadState", "/size")
	if l := e.post("/v1/list", map[string]any{"filter": map[string]any{"name": "c.bin"}}); !strings.Contains(string(l.Raw), `"count":0`) {
		t.Fatalf("a failed upload is visible: %s", l.Raw)
	}
}

func TestPutURLWrongMethod(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	r := e.post("/v1/put", map[string]any{"transfer_method": "put-url", "name": "d.bin"})
	var acc acceptedResult
	r.Into(t, &acc)
	ct, body := multipartBody(t, part{"file", "file", "", []byte("x")})
	req, _ := http.NewRequest(http.MethodPost, acc.PutURL, bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	if up := e.do(req); up.Code != http.StatusBadRequest {
		t.Fatalf("POST to a put-url: %d %s", up.Code, up.Raw)
	}
}

// TestMultipartPutWithURLMethods sends put-url and post-url in a multipart
// body, as the SDKs' put() does: the bytes are there, so the file is stored
// at once. post-url still needs what the document requires with it.
func TestMultipartPutWithURLMethods(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	data := randomBytes(t, 5_000)
	crc := fmt.Sprintf("%08x", crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli)))
	for _, ver := range []string{"/v1", "/v1beta"} {
		t.Run(ver+"/PutURL", func(t *testing.T) {
			o := e.objectOf(e.put(ver+"/put", map[string]any{"transfer_method": "put-url", "folder": "/mp" + ver, "name": "put.bin"}, data))
			if o.Size != int64(len(data)) || o.SHA256 != hexSHA256(data) {
				t.Fatalf("got %+v", o)
			}
		})
		t.Run(ver+"/PostURL", func(t *testing.T) {
			o := e.objectOf(e.put(ver+"/put", map[string]any{"transfer_method": "post-url", "folder": "/mp" + ver, "name": "post.bin",
				"size": len(data), "sha256": hexSHA256(data), "crc32c": crc}, data))
			if o.Size != int64(len(data)) || o.CRC32C != crc {
				t.Fatalf("got %+v", o)
			}
		})
		t.Run(ver+"/PostURLWithoutHashes", func(t *testing.T) {
			r := e.put(ver+"/put", map[string]any{"transfer_method": "post-url", "folder": "/mp" + ver, "name": "bare.bin"}, data)
			wantError(t, r, http.StatusBadRequest, "ValidationError", "FieldRequired", "/sha256")
		})
	}
}
