package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/sesame-share/sesame"
)

type wireObject struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Folder    string `json:"folder"`
	UpdatedAt string `json:"updated_at"`
}

// setUp makes the objects and links that the calls of one version name.
func (r *runner) setUp(ver string) *fixtures {
	t := r.t
	fx := &fixtures{rootPath: "/conformance" + strings.ReplaceAll(ver, "/", "-")}
	var b struct {
		Buckets []struct {
			ID      string `json:"id"`
			Default bool   `json:"default"`
		} `json:"buckets"`
	}
	rep := r.env.API.Post(t, "/v1/buckets", map[string]any{})
	rep.MustOK(t)
	rep.Into(t, &b)
	for _, bk := range b.Buckets {
		if bk.Default {
			fx.bucket = bk.ID
		}
	}
	fx.root = r.mkdir(fx.rootPath)
	fx.subPath = fx.rootPath + "/sub"
	fx.sub = r.mkdir(fx.subPath)
	fx.fileName = "a.txt"
	f := r.upload(fx.rootPath, fx.fileName, "conformance file a\n")
	fx.file, fx.filePath = f.ID, fx.rootPath+"/"+fx.fileName
	fx.upd = r.upload(fx.rootPath, "u.txt", "conformance file u\n").ID
	fx.link, fx.link2 = r.link(fx.file), r.link(fx.file)
	fx.objCursor = r.cursor("/v1/list", map[string]any{"size": 1, "filter": map[string]any{"parent_id": fx.root}})
	fx.lnkCurs = r.cursor("/v1/share/link/list", map[string]any{"size": 1, "filter": map[string]any{"target_id": fx.file}})
	return fx
}

func (r *runner) mkdir(path string) string {
	var res struct {
		Object wireObject `json:"object"`
	}
	rep := r.env.API.Post(r.t, "/v1/folder/create", map[string]any{"folder": path})
	rep.MustOK(r.t)
	rep.Into(r.t, &res)
	return res.Object.ID
}

func (r *runner) upload(folder, name, content string) wireObject {
	js, err := json.Marshal(map[string]any{"folder": folder, "name": name, "tags": []string{"conformance"}})
	if err != nil {
		r.t.Fatal(err)
	}
	ct, body := multipartRequest(r.t, js, []byte(content))
	req, err := http.NewRequest(http.MethodPost, r.env.URL+"/v1/put", bytes.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+r.env.Token)
	rep := r.env.API.Do(r.t, req)
	rep.MustOK(r.t)
	var res struct {
		Object wireObject `json:"object"`
	}
	rep.Into(r.t, &res)
	return res.Object
}

func (r *runner) link(target string) string {
	var res struct {
		Links []struct {
			ID string `json:"id"`
		} `json:"share_link_objects"`
	}
	rep := r.env.API.Post(r.t, "/v1/share/link/create", map[string]any{"links": []any{map[string]any{"targets": []string{target},
		"link_type": "download", "title": "Conformance", "authenticators": []any{map[string]any{"auth_type": "email_otp", "auth_context": email}}}}})
	rep.MustOK(r.t)
	rep.Into(r.t, &res)
	return res.Links[0].ID
}

func (r *runner) cursor(path string, body map[string]any) string {
	var res struct {
		Last string `json:"last"`
	}
	rep := r.env.API.Post(r.t, path, body)
	rep.MustOK(r.t)
	rep.Into(r.t, &res)
	if res.Last == "" {
		r.t.Fatalf("%s gave no cursor: %s", path, rep.Raw)
	}
	return res.Last
}

// finishAnnounced follows a 202 put: it polls the request (202 while the
// bytes are missing), sends them to the upload URL, and polls again for
// the object. Each poll is judged by the document's /request/{requestId}.
func (r *runner) finishAnnounced(t *testing.T, x *exchange) {
	t.Helper()
	var env struct {
		Result struct {
			Location string `json:"location"`
			PutURL   string `json:"put_url"`
			PostURL  string `json:"post_url"`
		} `json:"result"`
	}
	if err := json.Unmarshal(x.body, &env); err != nil || env.Result.Location == "" {
		t.Errorf("a 202 reply without a location: %s", x.body)
		return
	}
	data := x.payload
	if p := r.poll(t, env.Result.Location); p.code != http.StatusAccepted {
		t.Errorf("poll before the upload: got %d, want 202: %s", p.code, p.body)
	}
	var req *http.Request
	var err error
	switch {
	case env.Result.PutURL != "":
		req, err = http.NewRequest(http.MethodPut, env.Result.PutURL, bytes.NewReader(data))
	default:
		ct, body := multipartFile(t, data)
		req, err = http.NewRequest(http.MethodPost, env.Result.PostURL, bytes.NewReader(body))
		if req != nil {
			req.Header.Set("Content-Type", ct)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	up := r.env.API.Do(t, req)
	if up.Code != http.StatusOK {
		t.Errorf("upload to the announced URL: got %d: %s", up.Code, up.Raw)
		return
	}
	if p := r.poll(t, env.Result.Location); p.code != http.StatusOK {
		t.Errorf("poll after the upload: got %d, want 200: %s", p.code, p.body)
	}
}

// poll polls location and judges the reply.
func (r *runner) poll(t *testing.T, location string) *exchange {
	t.Helper()
	id := location[strings.LastIndex(location, "/")+1:]
	h := http.Header{}
	h.Set("Authorization", "Bearer "+r.env.Token)
	x := r.do(t, "/request/"+id, http.MethodGet, h, nil)
	x.path, x.params = "/request/{requestId}", map[string]string{"requestId": id}
	if x.code >= 500 {
		t.Errorf("poll: got %d: %s", x.code, x.body)
	}
	if err := r.doc.checkReply(x); err != nil {
		t.Errorf("poll: the reply does not match the document: %v\n%d %s", err, x.code, x.body)
	}
	return x
}

// pollUnknown polls a request that does not exist.
func (r *runner) pollUnknown(t *testing.T) {
	x := r.poll(t, "/request/"+sesame.NewID(sesame.PrefixRequest))
	if x.code != http.StatusNotFound {
		t.Errorf("poll of an unknown request: got %d, want 404: %s", x.code, x.body)
	}
}

func multipartFile(t *testing.T, data []byte) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"file\"\r\nContent-Type: application/octet-stream\r\n\r\n")
	buf.Write(data)
	buf.WriteString("\r\n--b--\r\n")
	return "multipart/form-data; boundary=b", buf.Bytes()
}

// malformed sends requests the document refuses and judges the error
// replies: without a token, with a token lacking the scope, a body that
// is not JSON, and one where every top-level field has the wrong type,
// whose reply must list each of them (at most 20).
func (r *runner) malformed(t *testing.T, op operation, fx *fixtures) {
	if !op.served || !op.json {
		return
	}
	weak := r.env.NewToken(sesame.ScopeAuditRead)
	for _, tc := range []struct {
		name  string
		token string
		body  string
		want  int
	}{{"NoToken", "", "{}", http.StatusUnauthorized}, {"NoScope", weak, "{}", http.StatusForbidden},
		{"NotJSON", r.env.Token, "{nope", http.StatusBadRequest}} {
		h := http.Header{}
		h.Set("Content-Type", "application/json")
		if tc.token != "" {
			h.Set("Authorization", "Bearer "+tc.token)
		}
		x := r.do(t, op.path, http.MethodPost, h, []byte(tc.body))
		if x.code != tc.want {
			t.Errorf("%s: got %d, want %d: %s", tc.name, x.code, tc.want, x.body)
		}
		if err := r.doc.checkReply(x); err != nil {
			t.Errorf("%s: the reply does not match the document: %v\n%s", tc.name, err, x.body)
		}
	}
	r.wrongTypes(t, op)
	r.badValues(t, op)
}

func (r *runner) wrongTypes(t *testing.T, op operation) {
	body := map[string]any{}
	var want []string
	for name, p := range op.schema.Properties {
		if v := wrongType(p.Value); v != nil {
			body[name] = v
			want = append(want, "/"+name)
		}
	}
	body["unknown_field"] = true
	want = append(want, "/unknown_field")
	sort.Strings(want) // the order of the body, as encoding/json writes it
	if len(want) > sesame.MaxFieldErrors {
		want = want[:sesame.MaxFieldErrors]
	}
	js, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Authorization", "Bearer "+r.env.Token)
	x := r.do(t, op.path, http.MethodPost, h, js)
	if x.code != http.StatusBadRequest {
		t.Errorf("wrong types: got %d, want 400: %s", x.code, x.body)
	}
	if err := r.doc.checkReply(x); err != nil {
		t.Errorf("wrong types: the reply does not match the document: %v\n%s", err, x.body)
	}
	var env struct {
		Result struct {
			Errors []struct {
				Source string `json:"source"`
			} `json:"errors"`
		} `json:"result"`
	}
	if err := json.NewDecoder(io.LimitReader(bytes.NewReader(x.body), 1<<20)).Decode(&env); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range env.Result.Errors {
		got = append(got, e.Source)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("wrong types: errors point at\n %v\nwant every field sent (at most %d)\n %v", got, sesame.MaxFieldErrors, want)
	}
}

// badValue returns a value of the right type that the document refuses
// for s, or nil when the run has none.
func badValue(s *openapi3.Schema) any {
	switch {
	case len(s.Enum) > 0 && s.Type.Is("string"):
		return "not-a-member"
	case s.Pattern != "":
		return "/"
	case s.MinLength > 1:
		return "x"
	case s.Format == "date-time":
		return "yesterday"
	}
	return nil
}

// badValues sends a value the document refuses for every top-level field
// that can have one, and wants each of them in the reply's errors.
func (r *runner) badValues(t *testing.T, op operation) {
	body := map[string]any{}
	var want []string
	for name, p := range op.schema.Properties {
		if v := badValue(p.Value); v != nil && !notYetImplemented(op.name, "/"+name) {
			body[name] = v
			want = append(want, "/"+name)
		}
	}
	if len(want) == 0 {
		return
	}
	sort.Strings(want)
	js, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Authorization", "Bearer "+r.env.Token)
	x := r.do(t, op.path, http.MethodPost, h, js)
	if x.code < 400 || x.code >= 500 {
		t.Errorf("bad values: got %d, want 4xx: %s", x.code, x.body)
	}
	if err := r.doc.checkReply(x); err != nil {
		t.Errorf("bad values: the reply does not match the document: %v\n%s", err, x.body)
	}
	got := map[string]bool{}
	for _, s := range errorSources(t, x.body) {
		got[s] = true
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("bad values %s: no error points at %s: %s", js, w, x.body)
		}
	}
}

func errorSources(t *testing.T, body []byte) []string {
	t.Helper()
	var env struct {
		Result struct {
			Errors []struct {
				Source string `json:"source"`
			} `json:"errors"`
		} `json:"result"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range env.Result.Errors {
		out = append(out, e.Source)
	}
	return out
}

// notYetImplemented reports whether the table lists the field as not yet
// implemented: its values cannot be judged.
func notYetImplemented(op, ptr string) bool {
	for _, d := range deviations {
		for _, k := range d.refuse {
			if d.group == notYet && matches(k, op+" "+ptr) {
				return true
			}
		}
	}
	return false
}
