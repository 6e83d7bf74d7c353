package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/sesame-share/sesame/internal/testrig"
)

// TestConformance calls every path of Pangea's OpenAPI document on a real
// server, on /v1 and /v1beta, with requests built from the document's
// schemas: for each operation one call with what it needs, then one call
// per optional field (per member, for an enum), so that every field is
// sent at least once. Each reply is judged by the document as the
// deviation table changes it; a 4xx answer to a valid request fails
// unless the table names the field. Malformed requests check the error
// replies: every bad field listed, at most 20.
func TestConformance(t *testing.T) {
	doc := loadDocument(t, deviations)
	env := testrig.NewEnv(t)
	r := &runner{t: t, doc: doc, env: env, refused: map[string]int{}, matched: map[string]int{}, sent: map[string]bool{}}
	ops := r.operations()
	for _, ver := range []string{"/v1", "/v1beta"} {
		fx := r.setUp(ver)
		for _, op := range ops {
			if op.ver != ver {
				continue
			}
			t.Run(strings.TrimPrefix(op.path, "/")+mediaSuffix(op), func(t *testing.T) {
				r.exercise(t, op, fx)
				r.malformed(t, op, fx)
			})
		}
	}
	t.Run("request/{requestId}", func(t *testing.T) { r.pollUnknown(t) })
	r.checkCoverage(t, ops)
	r.checkRefusals(t)
}

func mediaSuffix(op operation) string {
	if op.json && op.name == "put (json)" {
		return "/json"
	}
	if op.name == "put" {
		return "/multipart"
	}
	return ""
}

// operation is one request form of the document: a path and method with
// one media type of its body.
type operation struct {
	path, ver string // "/v1/put", "/v1"
	name      string // the path without its version; "put (json)" for a JSON put
	json      bool   // a JSON body; otherwise multipart with a request part
	schema    *openapi3.Schema
	fields    []field
	served    bool
}

func (r *runner) operations() []operation {
	var ops []operation
	for _, path := range r.doc.spec.Paths.InMatchingOrder() {
		item := r.doc.spec.Paths.Value(path)
		ver, name, ok := strings.Cut(strings.TrimPrefix(path, "/"), "/")
		if item.Post == nil || !ok {
			continue
		}
		_, served := item.Post.Responses.Map()["200"]
		for media, c := range item.Post.RequestBody.Value.Content {
			op := operation{path: path, ver: "/" + ver, name: name, json: media == "application/json", schema: c.Schema.Value, served: served}
			if !op.json {
				op.schema = op.schema.Properties["request"].Value
			} else if name == "put" {
				op.name = "put (json)"
			}
			op.fields = fields(op.schema)
			ops = append(ops, op)
		}
	}
	sort.Slice(ops, func(i, j int) bool {
		if ops[i].path != ops[j].path {
			return ops[i].path < ops[j].path
		}
		return ops[i].json
	})
	return ops
}

// runner holds what the calls of one run share.
type runner struct {
	t       *testing.T
	doc     *document
	env     *testrig.Env
	seq     int
	refused map[string]int  // refusal key of the table → how often it was used
	matched map[string]int  // refusal key → how many calls sent what it names
	sent    map[string]bool // "path ptr" of every field sent
}

// call is one request being built.
type call struct {
	r       *runner
	op      operation
	fx      *fixtures
	body    map[string]any
	nameVal string
	pay     []byte
	fr      *fresh
}

type fresh struct{ id, path string }

func (c *call) name() string {
	if c.nameVal == "" {
		c.r.seq++
		c.nameVal = fmt.Sprintf("c%04d.txt", c.r.seq)
	}
	return c.nameVal
}

func (c *call) payload() []byte {
	if c.pay == nil {
		c.pay = []byte("conformance payload of " + c.name() + "\n")
	}
	return c.pay
}

// fresh uploads a file for this call alone (to delete it).
func (c *call) fresh() *fresh {
	if c.fr == nil {
		o := c.r.upload(c.fx.rootPath, fmt.Sprintf("del%04d.txt", c.r.next()), "x")
		c.fr = &fresh{id: o.ID, path: o.Folder + "/" + o.Name}
	}
	return c.fr
}

func (c *call) freshLink() string { return c.r.link(c.fx.file) }

type objectState struct{ path, updatedAt string }

// current reads an object as it is now.
func (c *call) current(id string) objectState {
	var res struct {
		Object struct {
			Name      string `json:"name"`
			Folder    string `json:"folder"`
			UpdatedAt string `json:"updated_at"`
		} `json:"object"`
	}
	rep := c.r.env.API.Post(c.r.t, "/v1/get", map[string]any{"id": id})
	rep.MustOK(c.r.t)
	rep.Into(c.r.t, &res)
	return objectState{path: strings.TrimSuffix(res.Object.Folder, "/") + "/" + res.Object.Name, updatedAt: res.Object.UpdatedAt}
}

func (r *runner) next() int {
	r.seq++
	return r.seq
}

// value is the value a call sends for f when the field is not the one
// under test: the hand-written one, else the first the schema gives.
func (c *call) value(f field) any {
	if fn, ok := lookup(overrides, c.op.name, f.ptr); ok {
		return fn(c)
	}
	return schemaValues(f.schema)[0]
}

// variants are the values the run sends for f, one call each.
func (r *runner) variants(op operation, f field) []valueFn {
	if _, one := lookup(single, op.name, f.ptr); len(f.schema.Enum) > 1 && !one {
		out := make([]valueFn, len(f.schema.Enum))
		for i, v := range f.schema.Enum {
			out[i] = constant(v)
		}
		return out
	}
	return []valueFn{func(c *call) any { return c.value(f) }}
}

// build makes the body of one call: what the operation always sends,
// then f set to v with its companions, then whatever the objects present
// require.
func (r *runner) build(op operation, fx *fixtures, f *field, v valueFn) (*call, string) {
	c := &call{r: r, op: op, fx: fx, body: map[string]any{}}
	byPtr := map[string]field{}
	for _, g := range op.fields {
		byPtr[g.ptr] = g
	}
	for _, p := range always[op.name] {
		if g, ok := byPtr[p]; ok {
			set(c.body, p, c.value(g))
		}
	}
	lbl := ""
	if f != nil {
		val := v(c)
		set(c.body, f.ptr, val)
		lbl = label(op.name, f.ptr, val)
		comp, ok := companions[lbl]
		if !ok {
			comp = companions[label(baseOp(op.name), f.ptr, val)]
		}
		for p, fn := range comp {
			set(c.body, p, fn(c))
		}
	}
	for _, g := range op.fields {
		if g.from != g.ptr && present(c.body, g.from) && !present(c.body, g.ptr) {
			set(c.body, g.ptr, c.value(g))
		}
	}
	return c, lbl
}

// exercise sends the operation's calls and judges each reply.
func (r *runner) exercise(t *testing.T, op operation, fx *fixtures) {
	if !op.served {
		c, _ := r.build(op, fx, nil, nil)
		x := r.send(t, c)
		if x.code != http.StatusNotFound {
			t.Errorf("%s: got %d, want 404 (the deviation table says sesame does not serve it): %s", op.path, x.code, x.body)
		}
		r.judge(t, x, "")
		return
	}
	c, _ := r.build(op, fx, nil, nil)
	r.judge(t, r.send(t, c), "")
	for _, f := range op.fields {
		for _, v := range r.variants(op, f) {
			c, lbl := r.build(op, fx, &f, v)
			r.judge(t, r.send(t, c), lbl)
		}
	}
}

// judge checks one exchange: a reply the document describes, and no
// refusal of a valid request the deviation table does not name.
func (r *runner) judge(t *testing.T, x *exchange, lbl string) {
	t.Helper()
	what := x.path
	if lbl != "" {
		what = lbl
	}
	for _, d := range deviations {
		for _, k := range d.refuse {
			if lbl != "" && matches(k, lbl) {
				r.matched[k]++
			}
		}
	}
	if err := r.doc.checkRequest(x); err != nil {
		t.Errorf("%s: the run built a request the document refuses: %v\n%s", what, err, x.reqBody)
		return
	}
	switch {
	case x.code >= 500:
		t.Errorf("%s: got %d: %s", what, x.code, x.body)
		return
	case x.code >= 400 && r.doc.route(x.path, "post").Operation.Responses.Status(200) != nil:
		key := r.refusal(lbl)
		if key == "" {
			t.Errorf("%s: a valid request got %d: %s\nrequest: %s", what, x.code, x.body, x.reqBody)
		} else {
			r.refused[key]++
		}
	}
	if err := r.doc.checkReply(x); err != nil {
		t.Errorf("%s: the reply does not match the document: %v\nreply %d: %.2000s\nrequest: %s", what, err, x.code, x.body, x.reqBody)
	}
	if x.code == http.StatusAccepted {
		r.finishAnnounced(t, x)
	}
}

// refusal returns the refusal key of the table that names lbl, or "".
func (r *runner) refusal(lbl string) string {
	if lbl == "" {
		return ""
	}
	for _, d := range deviations {
		for _, k := range d.refuse {
			if matches(k, lbl) {
				return k
			}
		}
	}
	return ""
}

// send posts the call and records the exchange, and which fields it sent.
func (r *runner) send(t *testing.T, c *call) *exchange {
	t.Helper()
	for _, g := range c.op.fields {
		if present(c.body, g.ptr) {
			r.sent[c.op.path+mediaSuffix(c.op)+" "+g.ptr] = true
		}
	}
	js, err := json.Marshal(c.body)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("Authorization", "Bearer "+r.env.Token)
	body := js
	if c.op.json {
		h.Set("Content-Type", "application/json")
	} else {
		var ct string
		ct, body = multipartRequest(t, js, c.payload())
		h.Set("Content-Type", ct)
	}
	x := r.do(t, c.op.path, http.MethodPost, h, body)
	x.payload = c.payload()
	return x
}

func (r *runner) do(t *testing.T, path, method string, h http.Header, body []byte) *exchange {
	t.Helper()
	req, err := http.NewRequest(method, r.env.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = h
	rep := r.env.API.Do(t, req)
	return &exchange{path: path, method: strings.ToLower(method), reqHeader: h, reqBody: body, code: rep.Code, header: rep.Header, body: rep.Raw}
}

// multipartRequest is a put body as the document describes it: the JSON
// request part, then the file in the upload part.
func multipartRequest(t testing.TB, request, file []byte) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range []struct {
		name, filename, ctype string
		body                  []byte
	}{{"request", "", "application/json", request}, {"upload", "upload.txt", "application/octet-stream", file}} {
		h := textproto.MIMEHeader{}
		cd := `form-data; name="` + p.name + `"`
		if p.filename != "" {
			cd += `; filename="` + p.filename + `"`
		}
		h.Set("Content-Disposition", cd)
		h.Set("Content-Type", p.ctype)
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(p.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return mw.FormDataContentType(), buf.Bytes()
}

// present reports whether ptr names a value in body ("" is the body).
func present(body map[string]any, ptr string) bool {
	if ptr == "" {
		return true
	}
	var cur any = body
	for _, seg := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[seg]
			if !ok {
				return false
			}
			cur = v
		case []any:
			var n int
			if _, err := fmt.Sscan(seg, &n); err != nil || n >= len(c) {
				return false
			}
			cur = c[n]
		default:
			return false
		}
	}
	return true
}

// checkCoverage fails unless every field of every served operation was
// sent at least once.
func (r *runner) checkCoverage(t *testing.T, ops []operation) {
	for _, op := range ops {
		if !op.served {
			continue
		}
		for _, f := range op.fields {
			if !r.sent[op.path+mediaSuffix(op)+" "+f.ptr] {
				t.Errorf("%s%s %s was never sent", op.path, mediaSuffix(op), f.ptr)
			}
		}
	}
}

// checkRefusals fails for a refusal key that matched nothing the run sent
// (a typo) and for a difference that sesame no longer makes.
func (r *runner) checkRefusals(t *testing.T) {
	for _, d := range deviations {
		for _, k := range d.refuse {
			if r.matched[k] == 0 {
				t.Errorf("deviation %q: %s names nothing the run sends", d.what, k)
			} else if r.refused[k] == 0 && d.group != notYet {
				t.Errorf("deviation %q: %s was never refused; delete it from the table if sesame accepts it now", d.what, k)
			}
		}
	}
}
