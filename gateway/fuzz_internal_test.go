package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sesame-share/sesame"
)

// Fuzz targets for the request decoding helpers. Run one with
//
//	go test -run '^$' -fuzz '^FuzzDecodeJSON$' -fuzztime 60s ./gateway
//
// or all of them with scripts/fuzz.sh. Without -fuzz, go test runs the f.Add
// seeds and the corpus under testdata/fuzz/<FuzzName>/.

// requestTypes makes a fresh value of every request type a handler hands to
// decodeJSON.
var requestTypes = []struct {
	name string
	new  func() any
}{
	{"folderCreateRequest", func() any { return &folderCreateRequest{} }},
	{"putRequest", func() any { return &putRequest{} }},
	{"listRequest", func() any { return &listRequest{} }},
	{"updateRequest", func() any { return &updateRequest{} }},
	{"linkCreateRequest", func() any { return &linkCreateRequest{} }},
	{"linkListRequest", func() any { return &linkListRequest{} }},
}

// checkSesameError asserts that err is a well-formed validation error: a
// *sesame.Error of one of kinds, with a message, and fields (when
// needFields) that each have a code, a detail and a JSON pointer starting
// with prefix.
func checkSesameError(t *testing.T, what string, err error, prefix string, needFields bool, kinds ...sesame.Kind) {
	t.Helper()
	var e *sesame.Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: error %T %v is not a *sesame.Error", what, err, err)
	}
	okKind := false
	for _, k := range kinds {
		okKind = okKind || e.Kind == k
	}
	if !okKind {
		t.Fatalf("%s: error kind %v, want one of %v: %v", what, e.Kind, kinds, err)
	}
	if e.Message == "" {
		t.Fatalf("%s: error has no message: %v", what, err)
	}
	if needFields && len(e.Fields) == 0 {
		t.Fatalf("%s: error has no field errors: %v", what, err)
	}
	for _, f := range e.Fields {
		if f.Code == "" || f.Detail == "" {
			t.Fatalf("%s: field error without code or detail: %+v", what, f)
		}
		if !strings.HasPrefix(f.Source, prefix) {
			t.Fatalf("%s: field error source %q does not start with %q", what, f.Source, prefix)
		}
	}
}

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		``,
		`   `,
		`{}`,
		`null`,
		`[]`,
		`"x"`,
		`12`,
		`{`,
		"\xff",
		`{"name":"a.txt","folder":"/docs","metadata":{"k":"v"},"tags":["x","y"]}`,
		`{"path":"/a/b/c.txt","size":12,"md5":"00","transfer_method":"multipart"}`,
		`{"size":9223372036854775808}`,
		`{"size":-9223372036854775808}`,
		`{"size":1.5}`,
		`{"size":1e3}`,
		`{"size":"12"}`,
		`{"size":-0}`,
		`{"tags":"x"}`,
		`{"tags":[1,null,"a"]}`,
		`{"metadata":{"a":1,"b/c~d":"x"}}`,
		`{"metadata":null,"tags":null,"name":null}`,
		`{"unknown":1,"a/b":2,"~":3,"":4}`,
		`{"NAME":"x"}`,
		`{"n\u0061me":"x"}`,
		`{"name":"\ud800"}`,
		`{"name":"a","name":5}`,
		`{"filter":{"size__gt":3,"name__in":["a","b"],"created_at__lt":"2025-01-31T12:00:00Z"},"order":"desc","order_by":"name","size":10,"last":"abc"}`,
		`{"filter":[]}`,
		`{"filter":{"x":}}`,
		`{"include_external_bucket_key":"true"}`,
		`{"links":[{"targets":["pos_x"],"link_type":"download","authenticators":[{"auth_type":"password","auth_context":"pw"}],"max_access_count":3,"send_params":{"recipient_email":"a@b.c"}}]}`,
		`{"links":[{"max_access_count":1e400}]}`,
		`{"links":[{"send_params":[]}]}`,
		`{"links":{"0":{}}}`,
		`{"links":[{"authenticators":[{"auth_type":1}]}]}`,
		`{"id":"pos_x","add_tags":["a"],"remove_metadata":{"k":"v"},"updated_at":"2025-01-31T12:00:00Z"}`,
		`{"bucket_id":"pro_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","root_folder":"/"}`,
		` {"name":"x"} `,
		`{"name":"x"} {}`,
		`{"a":{"b":{"c":[[[[]]]]}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, rt := range requestTypes {
			v := rt.new()
			err := decodeJSON(bytes.Clone(body), v)
			// The same body always gets the same answer.
			err2 := decodeJSON(bytes.Clone(body), rt.new())
			if (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() {
				t.Fatalf("%s: decodeJSON is not deterministic: %v then %v", rt.name, err, err2)
			}
			if err != nil {
				checkSesameError(t, rt.name, err, "/", true, sesame.Invalid, sesame.TooLarge)
				continue
			}
			// A decoded request re-encodes to a body that decodes to the
			// same request.
			again, merr := json.Marshal(v)
			if merr != nil {
				t.Fatalf("%s: marshal decoded request: %v", rt.name, merr)
			}
			w := rt.new()
			if err := decodeJSON(again, w); err != nil {
				t.Fatalf("%s: re-encoded request %s does not decode: %v", rt.name, again, err)
			}
			if again2, _ := json.Marshal(w); !bytes.Equal(again, again2) {
				t.Fatalf("%s: round trip changed the request:\n%s\n%s", rt.name, again, again2)
			}
		}
	})
}

// validOps lists the operators each field type may carry after parsing.
var validOps = map[sesame.FieldType][]sesame.Op{
	sesame.FieldString: {sesame.OpEq, sesame.OpContains, sesame.OpIn},
	sesame.FieldNumber: {sesame.OpEq, sesame.OpGt, sesame.OpGte, sesame.OpLt, sesame.OpLte},
	sesame.FieldTime:   {sesame.OpEq, sesame.OpGt, sesame.OpGte, sesame.OpLt, sesame.OpLte},
	sesame.FieldTags:   {sesame.OpAllTags},
	sesame.FieldPath:   {sesame.OpFolder},
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		`{}`,
		`{"name":"a"}`,
		`{"name":null}`,
		`{"name__contains":["a","b"],"name__in":"x","type":"dir","type__in":["dir","file"]}`,
		`{"name__gt":"a"}`,
		`{"name__bogus":"a"}`,
		`{"size":3,"size__gt":"4","size__lte":" 5 ","size__lt":1e3,"size__gte":-1.0}`,
		`{"size":1.5}`,
		`{"size":"1.5"}`,
		`{"size":9223372036854775807}`,
		`{"size":9223372036854775808}`,
		`{"size":9.3e18}`,
		`{"size":-9.223372036854775808e18}`,
		`{"size__in":[1,2]}`,
		`{"created_at":"2025-01-31T12:00:00Z","updated_at__lt":"2025-01-31T12:00:00.123456789+05:30"}`,
		`{"created_at__gt":"2025-01-31"}`,
		`{"created_at__gt":12}`,
		`{"created_at__gt":"0000-01-01T00:30:00Z"}`,
		`{"created_at__lt":"9999-12-31T23:00:00Z"}`,
		`{"created_at__gt":"0000-01-01T00:00:00+00:00","expires_at__lte":"9999-12-31T23:59:59.999999999-00:00"}`,
		`{"tags":["a","b"]}`,
		`{"tags":"a"}`,
		`{"tags__in":["a"]}`,
		`{"tags":[1]}`,
		`{"folder":"/a/b"}`,
		`{"folder":"/"}`,
		`{"folder":"a//b"}`,
		`{"folder":"/a/../b"}`,
		`{"folder__in":"/a"}`,
		`{"folder":5}`,
		`{"id":"x","parent_id":"y","path":"/a"}`,
		`{"target":"pos_x","storage_pool_id":"pro_x","link_type":"download"}`,
		`{"target__in":["a","b"],"access_count__gte":2,"max_access_count":"3"}`,
		`{"expires_at__lt":"2030-01-01T00:00:00Z","last_accessed_at":"2025-01-31T12:00:00Z"}`,
		`{"recipient_email__contains":"@example.com","title":"t","message":"m"}`,
		`{"__":1,"a__b__c":2,"/":3,"~":4}`,
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, links bool) {
		var raw map[string]json.RawMessage
		if json.Unmarshal(body, &raw) != nil {
			return
		}
		fields, aliases := sesame.ObjectFields, map[string]string(nil)
		if links {
			fields, aliases = sesame.LinkFields, sesame.LinkFieldAliases
		}
		conds, err := parseFilter(raw, fields, aliases)
		conds2, err2 := parseFilter(raw, fields, aliases)
		if (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() || !reflect.DeepEqual(conds, conds2) {
			t.Fatalf("parseFilter is not deterministic: %v %v / %v %v", conds, err, conds2, err2)
		}
		if err != nil {
			checkSesameError(t, "parseFilter", err, "/filter/", true, sesame.Invalid)
			if e := sesame.AsError(err); e.Message != e.Fields[0].Detail {
				t.Fatalf("message %q is not the first field's detail %q", e.Message, e.Fields[0].Detail)
			}
			return
		}
		want := 0
		for _, v := range raw {
			if string(v) != "null" {
				want++
			}
		}
		if len(conds) != want {
			t.Fatalf("%d conditions for %d non-null filter keys: %+v", len(conds), want, conds)
		}
		for _, c := range conds {
			ft, ok := fields[c.Field]
			if !ok {
				t.Fatalf("condition on unknown field %q: %+v", c.Field, c)
			}
			opOK := false
			for _, op := range validOps[ft] {
				opOK = opOK || c.Op == op
			}
			if !opOK {
				t.Fatalf("operator %q on %s field %q", c.Op, fieldTypeName(ft), c.Field)
			}
			if c.Op != sesame.OpContains && c.Op != sesame.OpIn && c.Op != sesame.OpAllTags && len(c.Values) != 1 {
				t.Fatalf("operator %q with %d values: %+v", c.Op, len(c.Values), c)
			}
			for _, v := range c.Values {
				switch ft {
				case sesame.FieldNumber:
					n, err := strconv.ParseInt(v, 10, 64)
					if err != nil || strconv.FormatInt(n, 10) != v {
						t.Fatalf("number condition %+v: value %q is not a canonical int64", c, v)
					}
				case sesame.FieldTime:
					tm, err := time.Parse(sesame.TimeLayout, v)
					if err != nil {
						t.Fatalf("time condition %+v: value %q is not in TimeLayout: %v", c, v, err)
					}
					if sesame.FormatTime(tm) != v {
						t.Fatalf("time condition %+v: value %q does not read back (%q)", c, v, sesame.FormatTime(tm))
					}
				case sesame.FieldPath:
					if _, err := sesame.SplitPath("/filter/folder", v); err != nil {
						t.Fatalf("folder condition %+v holds a bad path: %v", c, err)
					}
				}
			}
		}
	})
}

func fieldTypeName(ft sesame.FieldType) string {
	return map[sesame.FieldType]string{sesame.FieldString: "string", sesame.FieldNumber: "number", sesame.FieldTime: "time",
		sesame.FieldTags: "tags", sesame.FieldPath: "path"}[ft]
}

func FuzzDecodeCursor(f *testing.F) {
	for _, c := range []sesame.Cursor{
		{OrderBy: "created_at", Value: "2025-01-31T12:00:00.000000Z", ID: "pos_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
		{OrderBy: "name", Desc: true, Value: "a \"quoted\" <name>", ID: "x"},
		{OrderBy: "size", Value: "", ID: "pls_x"},
	} {
		f.Add(encodeCursor(&c))
	}
	for _, s := range []string{"", "abc", "e30", "eyJpIjoiIn0", "eyJpIjoieCJ9", "eyJpIjoieCIsImQiOiJ5In0", "e30=", "e30\n", "!!!!", "bnVsbA", "W10"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := decodeCursor(s)
		if err != nil {
			if c != nil {
				t.Fatalf("decodeCursor(%q) returned a cursor and an error", s)
			}
			checkSesameError(t, "decodeCursor", err, "/last", true, sesame.Invalid)
			return
		}
		if c == nil || c.ID == "" {
			t.Fatalf("decodeCursor(%q) = %+v, nil", s, c)
		}
		// What decodes re-encodes to a cursor that decodes the same.
		back, err := decodeCursor(encodeCursor(c))
		if err != nil || *back != *c {
			t.Fatalf("cursor %+v from %q does not survive re-encoding: %+v, %v", *c, s, back, err)
		}
	})
}

func FuzzCursorRoundTrip(f *testing.F) {
	f.Add("created_at", false, "2025-01-31T12:00:00.000000Z", "pos_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
	f.Add("name", true, "r\u00e9sum\u00e9 \"v2\" <\u2028>.pdf", "pos_b")
	f.Add("", false, "", "x")
	f.Add("size", true, "-9223372036854775808", "\x00\x1f\\")
	f.Fuzz(func(t *testing.T, orderBy string, desc bool, value, id string) {
		// Cursor fields come from stored, valid UTF-8 strings (JSON
		// requests and SQLite text), and every row has an id.
		if id == "" || !utf8.ValidString(orderBy) || !utf8.ValidString(value) || !utf8.ValidString(id) {
			return
		}
		c := sesame.Cursor{OrderBy: orderBy, Desc: desc, Value: value, ID: id}
		s := encodeCursor(&c)
		if strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			t.Fatalf("cursor %q is not URL-safe base64", s)
		}
		got, err := decodeCursor(s)
		if err != nil {
			t.Fatalf("decodeCursor(encodeCursor(%+v)): %v", c, err)
		}
		if *got != c {
			t.Fatalf("cursor round trip: %+v became %+v", c, *got)
		}
	})
}
