package testrig

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"testing"
)

// PutStream uploads body with a multipart put to path, the JSON request
// req first, as the SDKs send it. The body streams: files of any size go
// up without being held in memory.
func (a *API) PutStream(t testing.TB, path string, req any, body io.Reader) *Reply {
	t.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	js := JSONBody(t, req)
	go func() {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="request"; filename="blob"`)
		h.Set("Content-Type", "application/json")
		w, err := mw.CreatePart(h)
		if err == nil {
			_, err = w.Write(js)
		}
		if err == nil {
			h = textproto.MIMEHeader{}
			h.Set("Content-Disposition", `form-data; name="file"; filename="blob"`)
			h.Set("Content-Type", "application/octet-stream")
			w, err = mw.CreatePart(h)
		}
		if err == nil {
			_, err = io.Copy(w, body)
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	r, err := http.NewRequest(http.MethodPost, a.URL+path, pr)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", mw.FormDataContentType())
	r.Header.Set("Authorization", "Bearer "+a.Token)
	return a.Do(t, r)
}

// GetStream posts the get request req to path and, when the answer is a
// multipart download, hands its file part to read as it arrives; the
// Reply is the envelope (of the first part, or of a JSON answer). read's
// error fails the test.
func (a *API) GetStream(t testing.TB, path string, req any, read func(io.Reader) error) *Reply {
	t.Helper()
	r, err := http.NewRequest(http.MethodPost, a.URL+path, bytes.NewReader(JSONBody(t, req)))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer "+a.Token)
	resp, err := a.Client.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	mt, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		raw, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		out := &Reply{Code: resp.StatusCode, Header: resp.Header, Raw: raw}
		if mt == "application/json" {
			if err := json.Unmarshal(raw, out); err != nil {
				t.Fatalf("response is not JSON: %v\n%s", err, raw)
			}
		}
		return out
	}
	mr := multipart.NewReader(resp.Body, params["boundary"])
	env := &Reply{Code: resp.StatusCode, Header: resp.Header}
	p, err := mr.NextPart()
	if err == nil {
		env.Raw, err = io.ReadAll(p)
	}
	if err == nil {
		err = json.Unmarshal(env.Raw, env)
	}
	if err == nil {
		p, err = mr.NextPart()
	}
	if err != nil {
		t.Fatalf("multipart download: %v", err)
	}
	if err := read(p); err != nil {
		t.Fatalf("file part: %v", err)
	}
	if _, err := mr.NextPart(); err != io.EOF {
		t.Fatalf("multipart download after the file: %v, want its end", err)
	}
	return env
}
