package gateway_test

import (
	"net/http"
	"sort"
	"strings"
	"testing"
)

// TestEveryInvalidFieldIsListed sends requests with several malformed
// fields: the reply lists each of them, not only the first.
func TestEveryInvalidFieldIsListed(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	for _, tt := range []struct {
		name, path string
		body       map[string]any
		want       []string
	}{
		{"Put", "/v1/put", map[string]any{"transfer_method": "put-url", "name": "a/b", "crc32c": "zz", "sha256": "zz", "format": "NOPE",
			"parent_id": "x", "bucket_id": "x"}, []string{"/bucket_id", "/crc32c", "/format", "/name", "/parent_id", "/sha256"}},
		{"Get", "/v1/get", map[string]any{"id": "x", "transfer_method": "carrier-pigeon", "bucket_id": "x"},
			[]string{"/bucket_id", "/id", "/transfer_method"}},
		{"GetArchive", "/v1/get_archive", map[string]any{"ids": []string{"x"}, "format": "rar", "transfer_method": "x"},
			[]string{"/format", "/ids/0", "/transfer_method"}},
		{"FolderCreate", "/v1/folder/create", map[string]any{"name": "a/b", "parent_id": "x", "folder": "/a//b", "tags": []string{""}},
			[]string{"/folder", "/name", "/parent_id", "/tags/0"}},
		{"Update", "/v1/update", map[string]any{"id": "x", "name": "a/b", "updated_at": "yesterday", "add_tags": []string{""}},
			[]string{"/add_tags/0", "/id", "/name", "/updated_at"}},
		{"Delete", "/v1/delete", map[string]any{"id": "x", "bucket_id": "x"}, []string{"/bucket_id", "/id"}},
		{"List", "/v1/list", map[string]any{"order": "up", "order_by": "colour", "size": 0}, []string{"/order", "/order_by", "/size"}},
		{"LinkList", "/v1/share/link/list", map[string]any{"order": "up", "order_by": "colour", "bucket_id": "x"},
			[]string{"/bucket_id", "/order", "/order_by"}},
		{"LinkCreate", "/v1/share/link/create", map[string]any{"bucket_id": "x"}, []string{"/bucket_id", "/links"}},
		{"LinkSend", "/v1/share/link/send", map[string]any{"sender_email": "alice", "bucket_id": "x"},
			[]string{"/bucket_id", "/links", "/sender_email"}},
		{"LinkDelete", "/v1/share/link/delete", map[string]any{"ids": []string{"x", "psl_y"}, "bucket_id": "x"},
			[]string{"/bucket_id", "/ids/0", "/ids/1"}},
		{"LinkGet", "/v1/share/link/get", map[string]any{"bucket_id": "x"}, []string{"/bucket_id", "/id"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.post(tt.path, tt.body)
			if r.Code != http.StatusBadRequest {
				t.Fatalf("got %d, want 400: %s", r.Code, r.Raw)
			}
			var got []string
			for _, it := range r.Errors(t) {
				got = append(got, it.Source)
			}
			sort.Strings(got)
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("errors point at %v, want %v: %s", got, tt.want, r.Raw)
			}
		})
	}
}
