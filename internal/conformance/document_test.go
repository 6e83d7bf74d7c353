package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// documentFile is Pangea's OpenAPI document, as testdata/SOURCE.md says.
const documentFile = "testdata/share.openapi.json"

// jsonDoc is the document as plain JSON values, for the deviations to
// patch before kin-openapi loads it.
type jsonDoc map[string]any

func obj(v any) map[string]any {
	m, ok := v.(map[string]any)
	if !ok {
		panic(fmt.Sprintf("not a JSON object: %v", v))
	}
	return m
}

func (d jsonDoc) schemas() map[string]any { return obj(obj(d["components"])["schemas"]) }

func (d jsonDoc) schema(name string) map[string]any {
	s, ok := d.schemas()[name]
	if !ok {
		panic("no schema " + name)
	}
	return obj(s)
}

func props(s map[string]any) map[string]any {
	if s["properties"] == nil {
		s["properties"] = map[string]any{}
	}
	return obj(s["properties"])
}

// addProperty adds a property the document lacks; adding one it has is a
// mistake in the table.
func (d jsonDoc) addProperty(schema, name string, s map[string]any) {
	p := props(d.schema(schema))
	if _, ok := p[name]; ok {
		panic(fmt.Sprintf("%s already has %s", schema, name))
	}
	p[name] = s
}

func (d jsonDoc) property(schema, name string) map[string]any {
	return obj(props(d.schema(schema))[name])
}

func (d jsonDoc) setProperty(schema, name string, s map[string]any) {
	p := props(d.schema(schema))
	if _, ok := p[name]; !ok {
		panic(fmt.Sprintf("%s has no %s", schema, name))
	}
	p[name] = s
}

func (d jsonDoc) setEnum(s map[string]any, values ...any) { s["enum"] = values }

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }
func arrayOf(s map[string]any) map[string]any {
	return map[string]any{"type": "array", "items": s}
}
func integer() map[string]any { return map[string]any{"type": "integer"} }
func str() map[string]any     { return map[string]any{"type": "string"} }

// operations calls f with every operation of the document, in path order.
func (d jsonDoc) operations(f func(path, method string, op map[string]any)) {
	paths := obj(d["paths"])
	keys := make([]string, 0, len(paths))
	for p := range paths {
		keys = append(keys, p)
	}
	sort.Strings(keys)
	for _, p := range keys {
		for _, m := range []string{"get", "post"} {
			if op, ok := obj(paths[p])[m]; ok {
				f(p, m, obj(op))
			}
		}
	}
}

func (d jsonDoc) op(path, method string) map[string]any {
	return obj(obj(obj(d["paths"])[path])[method])
}

// requestObjects returns the object schemas the request bodies of op
// take: a named one through its $ref, and the request part of a
// multipart put.
func (d jsonDoc) requestObjects(op map[string]any) []map[string]any {
	rb, ok := op["requestBody"]
	if !ok {
		return nil
	}
	var out []map[string]any
	for media, c := range obj(obj(rb)["content"]) {
		s := obj(obj(c)["schema"])
		if r, ok := s["$ref"].(string); ok {
			s = d.schema(strings.TrimPrefix(r, "#/components/schemas/"))
		}
		if media == "multipart/form-data" {
			s = obj(props(s)["request"])
		}
		out = append(out, s)
	}
	return out
}

func (d jsonDoc) addToEveryRequest(name string, s map[string]any) {
	d.operations(func(_, _ string, op map[string]any) {
		for _, o := range d.requestObjects(op) {
			if _, ok := props(o)[name]; !ok {
				props(o)[name] = s
			}
		}
	})
}

func deepCopy(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

// envelopeWith adds a copy of the document's envelope whose status is
// one of statuses, under name.
func (d jsonDoc) envelopeWith(name string, statuses []string) {
	env := obj(deepCopy(d.schema("pangea-response")))
	status := obj(props(env)["status"])
	status["enum"] = toAny(statuses)
	delete(env, "examples")
	d.schemas()[name] = env
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// replaceRef points every allOf member of the reply schemas that refers
// to from at to instead, in the responses whose code keep accepts.
func (d jsonDoc) replaceRef(from, to string, keep func(code string) bool) {
	d.operations(func(_, _ string, op map[string]any) {
		for code, r := range obj(op["responses"]) {
			if !keep(code) {
				continue
			}
			for _, c := range obj(obj(r)["content"]) {
				s := obj(obj(c)["schema"])
				all, _ := s["allOf"].([]any)
				for i, m := range all {
					if obj(m)["$ref"] == "#/components/schemas/"+from {
						all[i] = ref(to)
					}
				}
			}
		}
	})
}

func (d jsonDoc) errorEnvelope(statuses []string) {
	d.envelopeWith("sesame-error-envelope", statuses)
	d.schema("pangea-validation-errors")["$ref"] = "#/components/schemas/sesame-error-envelope"
	d.replaceRef("pangea-response", "sesame-error-envelope", func(code string) bool { return code >= "400" })
}

// errorReply is the document's 400 reply, which the other error codes
// share.
func (d jsonDoc) errorReply() any { return obj(d.op("/v1/buckets", "post")["responses"])["400"] }

func (d jsonDoc) errorResponses(codes []string) {
	tmpl := d.errorReply()
	d.operations(func(_, _ string, op map[string]any) {
		rs := obj(op["responses"])
		if _, ok := rs["400"]; !ok {
			rs["400"] = tmpl
		}
		for _, c := range codes {
			rs[c] = rs["400"]
		}
	})
}

func (d jsonDoc) acceptedReplies() {
	d.envelopeWith("sesame-accepted-envelope", []string{"Accepted"})
	d.replaceRef("pangea-response", "sesame-accepted-envelope", func(code string) bool { return code == "202" })
	accepted := obj(d.op("/request/{requestId}", "get")["responses"])["202"]
	for _, c := range obj(obj(accepted)["content"]) {
		for _, m := range obj(obj(c)["schema"])["allOf"].([]any) {
			if p, ok := obj(m)["properties"].(map[string]any); ok {
				rp := props(obj(p["result"]))
				rp["put_url"], rp["post_url"] = ref("Location"), ref("Location")
				rp["post_form_data"] = map[string]any{"type": "object", "additionalProperties": str()}
			}
		}
	}
	for _, p := range []string{"/v1/put", "/v1beta/put"} {
		obj(d.op(p, "post")["responses"])["202"] = accepted
	}
}

func (d jsonDoc) multipartEnvelopes() {
	for _, p := range []string{"/v1/get", "/v1beta/get", "/v1/get_archive", "/v1beta/get_archive"} {
		content := obj(obj(obj(d.op(p, "post")["responses"])["200"])["content"])
		js := obj(content["application/json"])["schema"]
		props(obj(obj(content["multipart/form-data"])["schema"]))["json"] = js
	}
}

func (d jsonDoc) sendParams() {
	s := d.schema("SendParams")
	p := props(s)
	for _, k := range []string{"recipient_email", "sender_email", "sender_name"} {
		p[k] = s[k]
		delete(s, k)
	}
	s["required"] = []any{"recipient_email", "sender_email"}
	s["additionalProperties"] = false
}

func (d jsonDoc) notServed(paths ...string) {
	for _, p := range paths {
		d.op(p, "post")["responses"] = map[string]any{"404": d.errorReply()}
	}
}

// document is the OpenAPI document with every deviation applied, loaded
// by kin-openapi, and the JSON it was loaded from.
type document struct {
	spec *openapi3.T
	raw  jsonDoc
}

func loadDocument(t testing.TB, devs []deviation) *document {
	t.Helper()
	b, err := os.ReadFile(documentFile)
	if err != nil {
		t.Fatal(err)
	}
	var raw jsonDoc
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	for _, dv := range devs {
		if dv.patch != nil {
			dv.patch(raw)
		}
	}
	patched, err := json.Marshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := openapi3.NewLoader().LoadFromData(patched)
	if err != nil {
		t.Fatalf("load the document: %v", err)
	}
	if !spec.IsOpenAPI31OrLater() {
		t.Fatalf("the document is OpenAPI %s; the run expects 3.1", spec.OpenAPI)
	}
	return &document{spec: spec, raw: raw}
}

func (doc *document) route(path, method string) *routers.Route {
	item := doc.spec.Paths.Value(path)
	if item == nil {
		panic("no path " + path)
	}
	m := strings.ToUpper(method)
	return &routers.Route{Spec: doc.spec, Path: path, PathItem: item, Method: m, Operation: item.GetOperation(m)}
}

// exchange is one request and its reply, as sent and received.
type exchange struct {
	path, method string // the document's path and method
	params       map[string]string
	reqHeader    http.Header
	reqBody      []byte
	payload      []byte // the file a put announced, to send to its upload URL
	code         int
	header       http.Header
	body         []byte
}

func (x *exchange) input(doc *document) *openapi3filter.RequestValidationInput {
	req, err := http.NewRequest(strings.ToUpper(x.method), "http://sesame.test"+x.path, bytes.NewReader(x.reqBody))
	if err != nil {
		panic(err)
	}
	req.Header = x.reqHeader.Clone()
	return &openapi3filter.RequestValidationInput{Request: req, PathParams: x.params, Route: doc.route(x.path, x.method),
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}}
}

// checkRequest says whether the request is one the document allows.
func (doc *document) checkRequest(x *exchange) error {
	return openapi3filter.ValidateRequest(context.Background(), x.input(doc))
}

// checkReply judges the reply by the document: its HTTP status must be
// one the operation lists, and its body must match that reply's schema.
func (doc *document) checkReply(x *exchange) error {
	mt, params, _ := mime.ParseMediaType(x.header.Get("Content-Type"))
	if mt == "multipart/form-data" {
		return doc.checkMultipartReply(x, params["boundary"])
	}
	in := &openapi3filter.ResponseValidationInput{RequestValidationInput: x.input(doc), Status: x.code, Header: x.header,
		Body: io.NopCloser(bytes.NewReader(x.body)), Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
	return openapi3filter.ValidateResponse(context.Background(), in)
}

// checkMultipartReply judges a multipart reply, which kin-openapi cannot
// decode (its file part is named after the file): the first part against
// the document's json part, the rest are the payload.
func (doc *document) checkMultipartReply(x *exchange, boundary string) error {
	op := doc.route(x.path, x.method).Operation
	r := op.Responses.Status(x.code)
	if r == nil || r.Value.Content.Get("multipart/form-data") == nil {
		return fmt.Errorf("the document has no multipart reply with status %d for %s", x.code, x.path)
	}
	js := r.Value.Content.Get("multipart/form-data").Schema.Value.Properties["json"]
	mr := multipart.NewReader(bytes.NewReader(x.body), boundary)
	first, err := mr.NextPart()
	if err != nil {
		return fmt.Errorf("multipart reply: %w", err)
	}
	if ct := first.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("the first part is %q, want application/json", ct)
	}
	var v any
	if err := json.NewDecoder(first).Decode(&v); err != nil {
		return fmt.Errorf("the first part is not JSON: %w", err)
	}
	if err := js.Value.VisitJSON(v, openapi3.EnableJSONSchema2020(), openapi3.MultiErrors()); err != nil {
		return fmt.Errorf("the first part: %w", err)
	}
	payload, err := mr.NextPart()
	if err != nil {
		return fmt.Errorf("no payload part: %w", err)
	}
	if _, err := io.Copy(io.Discard, payload); err != nil {
		return err
	}
	if _, err := mr.NextPart(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("more than two parts, or a broken end: %v", err)
	}
	return nil
}
