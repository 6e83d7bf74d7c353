package gateway_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type listResult struct {
	Count   int      `json:"count"`
	Last    string   `json:"last"`
	Objects []object `json:"objects"`
}

func (e *testEnv) list(body map[string]any) listResult {
	e.t.Helper()
	r := e.post("/v1/list", body)
	mustOK(e.t, r)
	var res listResult
	r.Into(e.t, &res)
	return res
}

func names(objs []object) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = o.Name
	}
	return out
}

func TestList(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.mkdir("/l/sub")
	for i := 1; i <= 6; i++ {
		e.upload("/l", fmt.Sprintf("file%d.txt", i), make([]byte, i*10))
	}
	e.objectOf(e.post("/v1/update", map[string]any{"path": "/l/file2.txt", "tags": []string{"red", "blue"}}))
	e.objectOf(e.post("/v1/update", map[string]any{"path": "/l/file3.txt", "tags": []string{"red"}}))

	t.Run("FolderChildrenOnly", func(t *testing.T) {
		res := e.list(map[string]any{"filter": map[string]any{"folder": "/l"}})
		if res.Count != 7 || len(res.Objects) != 7 || res.Last != "" {
			t.Fatalf("count %d, %d objects, last %q", res.Count, len(res.Objects), res.Last)
		}
		root := e.list(map[string]any{"filter": map[string]any{"folder": "/"}})
		if diff := cmp.Diff([]string{"l"}, names(root.Objects)); diff != "" {
			t.Errorf("root (-want +got):\n%s", diff)
		}
	})
	t.Run("PagingVisitsEachOnce", func(t *testing.T) {
		for _, order := range []string{"asc", "desc"} {
			for _, by := range []string{"name", "size", "created_at", "updated_at", "id", "type", "parent_id"} {
				var seen []string
				last := ""
				for page := 0; page < 10; page++ {
					body := map[string]any{"filter": map[string]any{"folder": "/l"}, "size": 3, "order": order, "order_by": by}
					if last != "" {
						body["last"] = last
					}
					res := e.list(body)
					if res.Count != 7 {
						t.Fatalf("%s %s: count %d on page %d", by, order, res.Count, page)
					}
					seen = append(seen, names(res.Objects)...)
					if last = res.Last; last == "" {
						break
					}
				}
				sorted := slices.Clone(seen)
				slices.Sort(sorted)
				if len(seen) != 7 || len(slices.Compact(sorted)) != 7 {
					t.Errorf("%s %s: visited %v", by, order, seen)
				}
			}
		}
	})
	t.Run("OrderBySizeDesc", func(t *testing.T) {
		res := e.list(map[string]any{"filter": map[string]any{"folder": "/l", "type": "file"}, "order": "desc", "order_by": "size"})
		want := []string{"file6.txt", "file5.txt", "file4.txt", "file3.txt", "file2.txt", "file1.txt"}
		if diff := cmp.Diff(want, names(res.Objects)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("Filters", func(t *testing.T) {
		for _, tt := range []struct {
			name   string
			filter map[string]any
			want   []string
		}{
			{"SizeAsString", map[string]any{"size__gt": "40"}, []string{"file5.txt", "file6.txt"}},
			{"SizeAsNumber", map[string]any{"size__lte": 20, "type": "file"}, []string{"file1.txt", "file2.txt"}},
			{"NameContains", map[string]any{"name__contains": []string{"file", "3"}}, []string{"file3.txt"}},
			{"NameIn", map[string]any{"name__in": []string{"file1.txt", "sub", "nope"}}, []string{"file1.txt", "sub"}},
			{"TypeFolder", map[string]any{"type": "folder", "folder": "/l"}, []string{"sub"}},
			{"TypeDirAlias", map[string]any{"type": "dir", "folder": "/l"}, []string{"sub"}},
			{"TagsAll", map[string]any{"tags": []string{"red", "blue"}}, []string{"file2.txt"}},
			{"TagsOne", map[string]any{"tags": []string{"red"}}, []string{"file2.txt", "file3.txt"}},
			{"Path", map[string]any{"path": "/l/file4.txt"}, []string{"file4.txt"}},
			{"CreatedAfterPast", map[string]any{"created_at__gt": "2000-01-01T00:00:00Z", "name": "file1.txt"}, []string{"file1.txt"}},
			{"CreatedAfterFuture", map[string]any{"created_at__gt": "2999-01-01T00:00:00+02:00"}, nil},
			{"MissingFolder", map[string]any{"folder": "/nowhere"}, nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				res := e.list(map[string]any{"filter": tt.filter, "order_by": "name"})
				got := names(res.Objects)
				if len(got) == 0 {
					got = nil
				}
				if diff := cmp.Diff(tt.want, got); diff != "" || res.Count != len(tt.want) {
					t.Errorf("count %d; names (-want +got):\n%s", res.Count, diff)
				}
			})
		}
	})
	t.Run("CursorFromAnotherOrder", func(t *testing.T) {
		res := e.list(map[string]any{"size": 1, "order_by": "name"})
		r := e.post("/v1/list", map[string]any{"size": 1, "order_by": "size", "last": res.Last})
		wantError(t, r, http.StatusBadRequest, "ValidationError", "BadState", "/last")
	})
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	f := e.upload("/u", "a.txt", []byte("a"))
	t.Run("AddTagsKeepsOrder", func(t *testing.T) {
		e.objectOf(e.post("/v1/update", map[string]any{"id": f.ID, "tags": []string{"tag1", "tag2"}}))
		o := e.objectOf(e.post("/v1/update", map[string]any{"id": f.ID, "add_tags": []string{"tag3", "tag1"}}))
		if diff := cmp.Diff([]string{"tag1", "tag2", "tag3"}, o.Tags); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		o = e.objectOf(e.post("/v1/update", map[string]any{"id": f.ID, "remove_tags": []string{"tag2", "absent"}}))
		if diff := cmp.Diff([]string{"tag1", "tag3"}, o.Tags); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("Metadata", func(t *testing.T) {
		e.objectOf(e.post("/v1/update", map[string]any{"id": f.ID, "metadata": map[string]string{"a": "1", "b": "2"}}))
		o := e.objectOf(e.post("/v1/update", map[string]any{"id": f.ID, "add_metadata": map[string]string{"b": "3", "c": "4"}, "remove_metadata": map[string]string{"a": "wrong"}}))
		if diff := cmp.Diff(map[string]string{"a": "1", "b": "3", "c": "4"}, o.Metadata); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		o = e.objectOf(e.post("/v1/update", map[string]any{"id": f.ID, "remove_metadata": map[string]string{"a": "1"}}))
		if _, ok := o.Metadata["a"]; ok {
			t.Errorf("a survived a matching remove: %v", o.Metadata)
		}
	})
	t.Run("RenameAndMove", func(t *testing.T) {
		dst := e.mkdir("/dst")
		o := e.objectOf(e.post("/v1/update", map[string]any{"id": f.ID, "name": "b.txt", "parent_id": dst.ID}))
		if o.Name != "b.txt" || o.Folder != "/dst" || o.ParentID != dst.ID {
			t.Fatalf("got %+v", o)
		}
		o = e.objectOf(e.post("/v1/update", map[string]any{"id": f.ID, "folder": "/new/place"}))
		if o.Folder != "/new/place" {
			t.Fatalf("got %+v", o)
		}
		o = e.objectOf(e.post("/v1beta/update", map[string]any{"path": "/new/place/b.txt", "parent_id": ""}))
		if o.Folder != "/" || o.ParentID != "" {
			t.Fatalf("move to root: %+v", o)
		}
	})
	t.Run("MoveFolderCarriesChildren", func(t *testing.T) {
		e.upload("/tree/x/y", "leaf.txt", []byte("leaf"))
		e.objectOf(e.post("/v1beta/update", map[string]any{"path": "/tree/x", "name": "renamed"}))
		got := e.objectOf(e.post("/v1beta/get", map[string]any{"path": "/tree/renamed/y/leaf.txt"}))
		if got.Folder != "/tree/renamed/y" {
			t.Fatalf("got %+v", got)
		}
	})
	t.Run("OptimisticLock", func(t *testing.T) {
		cur := e.objectOf(e.post("/v1/get", map[string]any{"id": f.ID}))
		next := e.objectOf(e.post("/v1/update", map[string]any{"id": f.ID, "updated_at": cur.UpdatedAt, "add_tags": []string{"locked"}}))
		if next.UpdatedAt == cur.UpdatedAt {
			t.Fatalf("updated_at did not move: %s", next.UpdatedAt)
		}
		r := e.post("/v1/update", map[string]any{"id": f.ID, "updated_at": cur.UpdatedAt, "add_tags": []string{"again"}})
		wantError(t, r, http.StatusConflict, "ValidationError", "BadState", "/updated_at")
	})
}

func TestDelete(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	f := e.upload("/d/inner", "f.txt", []byte("f"))
	empty := e.mkdir("/d/empty")
	d := e.objectOf(e.post("/v1beta/get", map[string]any{"path": "/d"}))

	r := e.post("/v1/delete", map[string]any{"id": empty.ID})
	mustOK(t, r)
	if string(r.Result) != `{"count":1}` {
		t.Fatalf("empty folder: %s", r.Result)
	}
	wantError(t, e.post("/v1/delete", map[string]any{"id": d.ID}), http.StatusConflict, "ValidationError", "BadState", "/force")
	if got := e.objectOf(e.post("/v1/get", map[string]any{"id": f.ID})); got.ID != f.ID {
		t.Fatal("a refused delete removed a child")
	}
	r = e.post("/v1/delete", map[string]any{"id": d.ID, "force": true})
	mustOK(t, r)
	if string(r.Result) != `{"count":3}` {
		t.Fatalf("forced delete: %s", r.Result)
	}
	wantError(t, e.post("/v1/get", map[string]any{"id": f.ID}), http.StatusNotFound, "NotFound", "DoesNotExist", "/id")
}

func TestAuth(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	reader := e.newToken("objects:read")
	mustOK(t, e.postAs(reader, "/v1/list", "{}"))
	r := e.postAs(reader, "/v1/folder/create", map[string]any{"name": "x"})
	if r.Code != http.StatusForbidden || r.Summary != "This token lacks the objects:write scope." {
		t.Fatalf("got %d %q", r.Code, r.Summary)
	}
	linksOnly := e.newToken("links:read")
	if r := e.postAs(linksOnly, "/v1/list", "{}"); r.Code != http.StatusForbidden {
		t.Fatalf("links:read listing objects: %d", r.Code)
	}
	for name, tok := range map[string]string{"Missing": "", "Garbage": "sst_nope", "WellFormedUnknown": "sst_" + "A123456789012345678901234567890123456789012"} {
		t.Run(name, func(t *testing.T) {
			r := e.postAs(tok, "/v1/buckets", "{}")
			if r.Code != http.StatusUnauthorized || r.Status != "Unauthorized" {
				t.Fatalf("got %d %s", r.Code, r.Status)
			}
		})
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	for _, p := range []string{"/healthz", "/readyz"} {
		if r := e.get(e.srv.URL+p, nil); r.Code != http.StatusOK {
			t.Errorf("%s: %d", p, r.Code)
		}
	}
	e.st.Close()
	if r := e.get(e.srv.URL+"/readyz", nil); r.Code != http.StatusServiceUnavailable {
		t.Errorf("readyz with the database closed: %d", r.Code)
	}
}
