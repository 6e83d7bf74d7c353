package gateway_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// multipartReply splits a Pangea multipart download into its envelope and
// its file parts.
func multipartReply(t *testing.T, r *reply) (*reply, []*multipartFile) {
	t.Helper()
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		t.Fatalf("got Content-Type %q, want multipart/form-data: %s", r.Header.Get("Content-Type"), r.Raw)
	}
	mr := multipart.NewReader(bytes.NewReader(r.Raw), params["boundary"])
	first, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	if ct := first.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("first part is %q, want application/json", ct)
	}
	env := &reply{Code: r.Code, Header: r.Header}
	env.Raw, _ = io.ReadAll(first)
	if err := json.Unmarshal(env.Raw, env); err != nil {
		t.Fatal(err)
	}
	var files []*multipartFile
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("multipart reply is broken: %v", err)
		}
		body, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, &multipartFile{FormName: p.FormName(), FileName: p.FileName(), ContentType: p.Header.Get("Content-Type"), Body: body})
	}
	return env, files
}

type multipartFile struct {
	FormName, FileName, ContentType string
	Body                            []byte
}

func (e *testEnv) get(url string, header map[string]string) *reply {
	e.t.Helper()
	return e.request(http.MethodGet, url, header)
}

func (e *testEnv) request(method, url string, header map[string]string) *reply {
	e.t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return e.do(req)
}

func TestGet(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	data := randomBytes(t, 3<<20+123) // larger than one streaming chunk
	f := e.upload("/docs", "report 2025 \"final\".bin", data)

	t.Run("MetadataOnly", func(t *testing.T) {
		r := e.post("/v1/get", map[string]any{"id": f.ID})
		mustOK(t, r)
		if strings.Contains(string(r.Raw), "dest_url") {
			t.Fatalf("metadata-only get has a dest_url: %s", r.Raw)
		}
		if got := e.objectOf(r); got.ID != f.ID || got.SHA256 != f.SHA256 {
			t.Fatalf("got %+v", got)
		}
	})
	t.Run("ByV1betaPath", func(t *testing.T) {
		got := e.objectOf(e.post("/v1beta/get", map[string]any{"path": "/docs/" + f.Name}))
		if got.ID != f.ID {
			t.Fatalf("got %s, want %s", got.ID, f.ID)
		}
	})
	t.Run("Multipart", func(t *testing.T) {
		env, files := multipartReply(t, e.post("/v1/get", map[string]any{"id": f.ID, "transfer_method": "multipart"}))
		if env.Status != "Success" || env.RequestID == "" {
			t.Fatalf("envelope %s", env.Raw)
		}
		if len(files) != 1 {
			t.Fatalf("got %d file parts, want 1", len(files))
		}
		if files[0].FormName != f.Name || files[0].FileName != f.Name {
			t.Errorf("part names %q/%q, want %q", files[0].FormName, files[0].FileName, f.Name)
		}
		if !bytes.Equal(files[0].Body, data) {
			t.Errorf("downloaded %d bytes that differ from the %d uploaded", len(files[0].Body), len(data))
		}
	})
	t.Run("MultipartEmptyFile", func(t *testing.T) {
		z := e.upload("/docs", "zero", nil)
		_, files := multipartReply(t, e.post("/v1/get", map[string]any{"id": z.ID, "transfer_method": "multipart"}))
		if len(files) != 1 || len(files[0].Body) != 0 {
			t.Fatalf("got %d parts", len(files))
		}
	})
	t.Run("DestURL", func(t *testing.T) {
		r := e.post("/v1/get", map[string]any{"id": f.ID, "transfer_method": "dest-url"})
		mustOK(t, r)
		var res struct {
			DestURL string `json:"dest_url"`
			Object  object `json:"object"`
		}
		r.Into(t, &res)
		if !strings.HasPrefix(res.DestURL, e.srv.URL+"/dl/") || res.Object.ID != f.ID {
			t.Fatalf("got %+v", res)
		}
		got := e.get(res.DestURL, nil)
		if got.Code != http.StatusOK || !bytes.Equal(got.Raw, data) {
			t.Fatalf("GET dest_url: %d, %d bytes", got.Code, len(got.Raw))
		}
		h := got.Header
		for k, want := range map[string]string{
			"X-Content-Type-Options": "nosniff",
			"Cache-Control":          "no-store",
			"Content-Type":           "application/octet-stream",
			"Accept-Ranges":          "bytes",
		} {
			if h.Get(k) != want {
				t.Errorf("%s = %q, want %q", k, h.Get(k), want)
			}
		}
		_, params, err := mime.ParseMediaType(h.Get("Content-Disposition"))
		if err != nil || !strings.HasPrefix(h.Get("Content-Disposition"), "attachment") || params["filename"] != f.Name {
			t.Errorf("Content-Disposition %q (filename %q)", h.Get("Content-Disposition"), params["filename"])
		}

		head := e.request(http.MethodHead, res.DestURL, nil)
		if head.Code != http.StatusOK || head.Header.Get("Content-Length") != "3145851" || len(head.Raw) != 0 {
			t.Errorf("HEAD: %d, length %q, body %d", head.Code, head.Header.Get("Content-Length"), len(head.Raw))
		}
		rng := e.get(res.DestURL, map[string]string{"Range": "bytes=100-199"})
		if rng.Code != http.StatusPartialContent || !bytes.Equal(rng.Raw, data[100:200]) {
			t.Errorf("Range: %d, %d bytes", rng.Code, len(rng.Raw))
		}
		etag := h.Get("ETag")
		ifr := e.get(res.DestURL, map[string]string{"Range": "bytes=0-9", "If-Range": etag})
		if ifr.Code != http.StatusPartialContent || len(ifr.Raw) != 10 {
			t.Errorf("If-Range with the current ETag: %d, %d bytes", ifr.Code, len(ifr.Raw))
		}
		stale := e.get(res.DestURL, map[string]string{"Range": "bytes=0-9", "If-Range": `"stale"`})
		if stale.Code != http.StatusOK || len(stale.Raw) != len(data) {
			t.Errorf("If-Range with a stale ETag: %d, %d bytes, want the whole file", stale.Code, len(stale.Raw))
		}
		bad := e.get(res.DestURL, map[string]string{"Range": "bytes=99999999-"})
		if bad.Code != http.StatusRequestedRangeNotSatisfiable {
			t.Errorf("unsatisfiable range: %d", bad.Code)
		}
	})
	t.Run("DestURLOfDeletedObject", func(t *testing.T) {
		g := e.upload("/docs", "gone.txt", []byte("bye"))
		r := e.post("/v1/get", map[string]any{"id": g.ID, "transfer_method": "dest-url"})
		var res struct {
			DestURL string `json:"dest_url"`
		}
		r.Into(t, &res)
		mustOK(t, e.post("/v1/delete", map[string]any{"id": g.ID}))
		got := e.get(res.DestURL, nil)
		if got.Code != http.StatusNotFound || got.Status != "NotFound" {
			t.Fatalf("got %d %s", got.Code, got.Status)
		}
	})
	t.Run("FolderNeedsArchive", func(t *testing.T) {
		r := e.post("/v1/get", map[string]any{"id": f.ParentID, "transfer_method": "multipart"})
		wantError(t, r, http.StatusBadRequest, "ValidationError", "BadState", "/id")
	})
}

func TestGetArchive(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	top := e.mkdir("/proj")
	e.mkdir("/proj/empty")
	files := map[string][]byte{
		"proj/readme.txt":     []byte(strings.Repeat("read me\n", 500)),
		"proj/src/main.go":    []byte("package main\n"),
		"proj/src/blob.bin":   randomBytes(t, 200_000),
		"proj/src/deep/x.csv": []byte("a,b\n1,2\n"),
	}
	for p, b := range files {
		i := strings.LastIndex(p, "/")
		e.upload("/"+p[:i], p[i+1:], b)
	}
	other := e.upload("/elsewhere", "readme.txt", []byte("another readme"))
	want := map[string][]byte{}
	for k, v := range files {
		want[k] = v
	}
	want["readme.txt"] = []byte("another readme") // top level: no clash with proj/readme.txt
	wantDirs := []string{"proj/", "proj/empty/", "proj/src/", "proj/src/deep/"}

	check := func(t *testing.T, format string, body []byte) {
		t.Helper()
		got := map[string][]byte{}
		var dirs []string
		switch format {
		case "zip":
			zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
			if err != nil {
				t.Fatalf("not a zip: %v", err)
			}
			for _, f := range zr.File {
				if strings.HasSuffix(f.Name, "/") {
					dirs = append(dirs, f.Name)
					continue
				}
				rc, err := f.Open()
				if err != nil {
					t.Fatal(err)
				}
				got[f.Name], _ = io.ReadAll(rc)
				rc.Close()
			}
		case "tar":
			tr := tar.NewReader(bytes.NewReader(body))
			for {
				h, err := tr.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("not a tar: %v", err)
				}
				if h.Typeflag == tar.TypeDir {
					dirs = append(dirs, h.Name)
					continue
				}
				got[h.Name], _ = io.ReadAll(tr)
			}
		}
		sort.Strings(dirs)
		if diff := cmp.Diff(wantDirs, dirs); diff != "" {
			t.Errorf("folders (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("files differ (-want +got):\n%s", diff)
		}
	}
	for _, format := range []string{"zip", "tar"} {
		t.Run("Multipart_"+format, func(t *testing.T) {
			env, parts := multipartReply(t, e.post("/v1/get_archive", map[string]any{"ids": []string{top.ID, other.ID}, "format": format, "transfer_method": "multipart"}))
			var res struct {
				Count   int      `json:"count"`
				Objects []object `json:"objects"`
			}
			env.Into(t, &res)
			if res.Count != 9 || len(res.Objects) != 9 {
				t.Errorf("count %d, %d objects; want 9 (4 folders, 5 files)", res.Count, len(res.Objects))
			}
			if len(parts) != 1 || parts[0].FileName != "archive."+format {
				t.Fatalf("parts: %d, name %q", len(parts), parts[0].FileName)
			}
			check(t, format, parts[0].Body)
		})
		t.Run("DestURL_"+format, func(t *testing.T) {
			r := e.post("/v1/get_archive", map[string]any{"ids": []string{top.ID, other.ID}, "format": format, "transfer_method": "dest-url"})
			mustOK(t, r)
			var res struct {
				DestURL string `json:"dest_url"`
				Count   int    `json:"count"`
			}
			r.Into(t, &res)
			got := e.get(res.DestURL, nil)
			if got.Code != http.StatusOK || !strings.Contains(got.Header.Get("Content-Disposition"), "archive."+format) {
				t.Fatalf("GET archive: %d %q", got.Code, got.Header.Get("Content-Disposition"))
			}
			check(t, format, got.Raw)
		})
	}
	t.Run("SingleFolderNamesArchive", func(t *testing.T) {
		_, parts := multipartReply(t, e.post("/v1/get_archive", map[string]any{"ids": []string{top.ID}}))
		if parts[0].FileName != "proj.zip" || parts[0].ContentType != "application/zip" {
			t.Fatalf("name %q type %q", parts[0].FileName, parts[0].ContentType)
		}
	})
}
