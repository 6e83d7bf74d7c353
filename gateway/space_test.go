package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/sesame-share/sesame/gateway"
	"github.com/sesame-share/sesame/store"
)

// lowDisk is a data disk whose free space the test sets.
type lowDisk struct{ free atomic.Int64 }

func (d *lowDisk) FreeSpace() (int64, error) { return d.free.Load(), nil }

const testReserve = 64 << 20

// newLowDiskEnv is a server whose store keeps testReserve free on a disk
// with d's free space, wired as serve wires it.
func newLowDiskEnv(t *testing.T, d *lowDisk) *testEnv {
	t.Helper()
	d.free.Store(1 << 40)
	var e *testEnv
	e = newTestEnvStore(t, store.Config{MinFreeSpace: testReserve, FreeSpace: d.FreeSpace}, func(c *gateway.Config) {
		c.LowSpace = func() bool { return e.st.LowSpace() }
	})
	return e
}

// TestReserve_APIUploads fills the disk to the reserve: every API upload is
// refused with 507 ServiceNotAvailable and leaves nothing behind, while a
// delete, a link and a folder still work; once space is freed uploads work.
func TestReserve_APIUploads(t *testing.T) {
	d := &lowDisk{}
	e := newLowDiskEnv(t, d)
	data := randomBytes(t, 10_000)
	kept := e.upload("/in", "kept.bin", data)

	d.free.Store(testReserve + 5_000) // less than the file above the reserve
	tmp := filepath.Join(e.st.DataDir(), "tmp")
	noStaged := func(what string) {
		t.Helper()
		if left, _ := os.ReadDir(tmp); len(left) != 0 {
			t.Errorf("%s: %d files left in tmp/", what, len(left))
		}
	}
	wantFull := func(what string, r *reply) {
		t.Helper()
		if r.Code != http.StatusInsufficientStorage || r.Status != "ServiceNotAvailable" {
			t.Errorf("%s below the reserve: got %d %s, want 507 ServiceNotAvailable: %s", what, r.Code, r.Status, r.Raw)
		}
		noStaged(what)
	}
	wantFull("multipart put", e.put("/v1/put", map[string]any{"folder": "/in", "name": "more.bin"}, data))

	for _, method := range []string{"post-url", "put-url"} {
		r := e.post("/v1/put", map[string]any{"transfer_method": method, "folder": "/in", "name": method + ".bin", "size": len(data),
			"sha256": hexSHA256(data), "crc32c": fmt.Sprintf("%08x", crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli)))})
		if r.Code != http.StatusAccepted {
			t.Fatalf("%s: got %d: %s", method, r.Code, r.Raw)
		}
		var acc acceptedResult
		r.Into(t, &acc)
		var req *http.Request
		if method == "put-url" {
			req, _ = http.NewRequest(http.MethodPut, acc.PutURL, bytes.NewReader(data))
			req.Header.Set("Content-Type", "application/octet-stream")
		} else {
			ct, body := multipartBody(t, part{"file", "blob", "application/octet-stream", data})
			req, _ = http.NewRequest(http.MethodPost, acc.PostURL, bytes.NewReader(body))
			req.Header.Set("Content-Type", ct)
		}
		wantFull(method, e.do(req))
	}

	// What frees space, and what the server needs to record, still works.
	mustOK(t, e.post("/v1/folder/create", map[string]any{"folder": "/still/works"}))
	mustOK(t, e.post("/v1/share/link/create", map[string]any{"links": []any{map[string]any{"targets": []string{kept.ID},
		"authenticators": []any{map[string]any{"auth_type": "password", "auth_context": "correct horse battery"}}}}}))
	mustOK(t, e.post("/v1/delete", map[string]any{"id": kept.ID}))

	d.free.Store(testReserve + 1<<20)
	e.upload("/in", "after.bin", data)
}

// TestReserve_Readyz stays 200 below the reserve, so that a load balancer
// keeps the replica that can still delete, and says low_space.
func TestReserve_Readyz(t *testing.T) {
	d := &lowDisk{}
	e := newLowDiskEnv(t, d)
	ready := func() (int, map[string]any) {
		t.Helper()
		r := e.get(e.srv.URL+"/readyz", nil)
		var body map[string]any
		if err := json.Unmarshal(r.Raw, &body); err != nil {
			t.Fatalf("readyz: %v: %s", err, r.Raw)
		}
		return r.Code, body
	}
	if code, body := ready(); code != http.StatusOK || body["status"] != "ready" || body["low_space"] != false {
		t.Errorf("readyz with room: %d %v, want 200 ready, low_space false", code, body)
	}
	d.free.Store(testReserve - 1)
	if code, body := ready(); code != http.StatusOK || body["status"] != "ready" || body["low_space"] != true {
		t.Errorf("readyz below the reserve: %d %v, want 200 ready, low_space true", code, body)
	}
}
