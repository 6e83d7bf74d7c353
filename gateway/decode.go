package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sesame-share/sesame"
)

// maxItems caps the members of any one array or object in a JSON request.
// The longest lists the API takes (targets, archive ids) stop at 1000, and
// the cap keeps what a body decodes to within a small multiple of its size.
const maxItems = 1000

// decodeJSON parses a request body into v strictly: the body must be a JSON
// object in UTF-8, every key must be a field v knows (at any depth), every
// value must have the field's type, and no array or object may hold more
// than maxItems members. Problems come back as one Invalid error whose
// fields point at the offending keys, in the order they appear, at most
// sesame.MaxFieldErrors of them: the walk stops there.
func decodeJSON(body []byte, v any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		body = []byte("{}")
	}
	if !utf8.Valid(body) {
		return &sesame.Error{Kind: sesame.Invalid, Message: "The request body is not valid UTF-8.", Err: errInvalidPayload,
			Fields: []sesame.FieldError{{Code: "BadFormat", Detail: "the request body is not valid UTF-8", Source: "/"}}}
	}
	if !json.Valid(body) {
		return &sesame.Error{Kind: sesame.Invalid, Message: "The request body is not valid JSON.", Err: errInvalidPayload,
			Fields: []sesame.FieldError{{Code: "BadFormat", Detail: "the request body is not valid JSON", Source: "/"}}}
	}
	if body[0] != '{' {
		return sesame.FieldErr("InvalidObject", "/", "the request body must be a JSON object")
	}
	w := walker{body: body}
	w.value(0, reflect.TypeOf(v))
	if err := w.errs.Err(); err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		// The walk has vetted every type; what is left is a number out
		// of range for a narrow field.
		src := "/"
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			src = "/" + strings.ReplaceAll(te.Field, ".", "/")
		}
		return sesame.FieldErr("NotWithinRange", src, "%s is out of range", strings.TrimPrefix(src, "/"))
	}
	return nil
}

// walker checks a body that json.Valid has accepted against a Go type,
// without decoding it: it allocates only for the problems it reports, so
// a hostile body costs no more than its own bytes.
type walker struct {
	body   []byte
	errs   sesame.Problems
	path   []segment
	fields map[reflect.Type]map[string]reflect.Type
}

// segment is one step of the JSON pointer to the value being walked: an
// object key, still escaped as the body has it, or an array index.
type segment struct {
	key   []byte
	isKey bool
	index int
}

var rawMessageType = reflect.TypeOf(json.RawMessage(nil))

// value checks the value at i against t (nil: any JSON value) and returns
// the offset just past it. Once the problem list is full it returns the
// end of the body, which ends every loop above it.
func (w *walker) value(i int, t reflect.Type) int {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == rawMessageType || t != nil && t.Kind() == reflect.Interface {
		t = nil
	}
	i = w.space(i)
	c := w.body[i]
	switch {
	case c == 'n': // null fits every field
		return i + len("null")
	case c == '{' && (t == nil || t.Kind() == reflect.Struct || t.Kind() == reflect.Map):
		return w.object(i, t)
	case c == '[' && (t == nil || t.Kind() == reflect.Slice):
		return w.array(i, t)
	case t != nil && isInt(t.Kind()):
		return w.integer(i, t)
	case t != nil && !fits(c, t.Kind()):
		w.wrongType(t)
	}
	return w.skip(i)
}

// fits reports whether a JSON value that starts with c can have kind k.
func fits(c byte, k reflect.Kind) bool {
	switch k {
	case reflect.Struct, reflect.Map:
		return c == '{'
	case reflect.Slice:
		return c == '['
	case reflect.String:
		return c == '"'
	case reflect.Bool:
		return c == 't' || c == 'f'
	case reflect.Float32, reflect.Float64:
		return c == '-' || c >= '0' && c <= '9'
	}
	return true
}

func isInt(k reflect.Kind) bool {
	return k >= reflect.Int && k <= reflect.Int64
}

// integer checks a whole number that fits in an int64.
func (w *walker) integer(i int, t reflect.Type) int {
	end := w.skip(i)
	num := w.body[i:end]
	if c := num[0]; c != '-' && (c < '0' || c > '9') || bytes.ContainsAny(num, ".eE") {
		w.wrongType(t)
		return end
	}
	// Up to 18 digits always fit; only longer numbers need parsing.
	if len(bytes.TrimPrefix(num, []byte("-"))) > 18 {
		if _, err := strconv.ParseInt(string(num), 10, 64); err != nil {
			w.problem("NotWithinRange", "%s is out of range", w.name())
		}
	}
	return end
}

// next moves past the comma after a member or element; stop is set, with
// the end of the body, once the error list is full and decoding ends.
func (w *walker) next(i int) (int, bool) {
	if w.errs.Full() {
		return len(w.body), true
	}
	if i = w.space(i); w.body[i] == ',' {
		i = w.space(i + 1)
	}
	return i, false
}

// object walks the members of the object at i. For a struct every key
// must name a field; for a map every value has the element type; for nil
// anything goes.
func (w *walker) object(i int, t reflect.Type) int {
	var known map[string]reflect.Type
	if t != nil && t.Kind() == reflect.Struct {
		known = w.known(t)
	}
	i = w.space(i + 1)
	for n := 0; w.body[i] != '}'; n++ {
		keyEnd := w.skip(i)
		key := w.body[i+1 : keyEnd-1]
		i = w.space(w.space(keyEnd) + 1) // past the colon
		switch {
		case n == maxItems:
			w.problem("AboveMaxProperties", "%s may have at most %d members", w.name(), maxItems)
			fallthrough
		case n > maxItems:
			i = w.skip(i)
		default:
			w.path = append(w.path, segment{key: key, isKey: true})
			i = w.member(i, t, known, key)
			w.path = w.path[:len(w.path)-1]
		}
		var stop bool
		if i, stop = w.next(i); stop {
			return i
		}
	}
	return i + 1
}

// member checks one object member whose key is on the path already.
func (w *walker) member(i int, t reflect.Type, known map[string]reflect.Type, key []byte) int {
	switch {
	case t == nil:
		return w.value(i, nil)
	case t.Kind() == reflect.Map:
		return w.value(i, t.Elem())
	}
	ft, ok := known[string(key)] // no allocation for the lookup
	if !ok && bytes.IndexByte(key, '\\') >= 0 {
		ft, ok = known[unescape(key)]
	}
	if !ok {
		w.problem("UnexpectedProperty", "%s is not a field of this request", w.name())
		return w.skip(i)
	}
	return w.value(i, ft)
}

// array walks the elements of the array at i, each against t's element
// type (or anything, for nil).
func (w *walker) array(i int, t reflect.Type) int {
	var elem reflect.Type
	if t != nil {
		elem = t.Elem()
	}
	i = w.space(i + 1)
	for n := 0; w.body[i] != ']'; n++ {
		switch {
		case n == maxItems:
			w.problem("AboveMaxItems", "%s may hold at most %d items", w.name(), maxItems)
			fallthrough
		case n > maxItems:
			i = w.skip(i)
		default:
			w.path = append(w.path, segment{index: n})
			i = w.value(i, elem)
			w.path = w.path[:len(w.path)-1]
		}
		var stop bool
		if i, stop = w.next(i); stop {
			return i
		}
	}
	return i + 1
}

// skip returns the offset just past the value at i, which must not be
// preceded by space.
func (w *walker) skip(i int) int {
	b := w.body
	switch b[i] {
	case '"':
		for i++; b[i] != '"'; i++ {
			if b[i] == '\\' {
				i++
			}
		}
		return i + 1
	case '{', '[':
		depth := 0
		for ; ; i++ {
			switch b[i] {
			case '"':
				i = w.skip(i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
	}
	for ; i < len(b); i++ { // a number or a literal
		switch b[i] {
		case ',', ':', ']', '}', ' ', '\t', '\r', '\n':
			return i
		}
	}
	return i
}

func (w *walker) space(i int) int {
	for i < len(w.body) && (w.body[i] == ' ' || w.body[i] == '\t' || w.body[i] == '\r' || w.body[i] == '\n') {
		i++
	}
	return i
}

// known returns the JSON names of t's fields, flattening embedded structs
// as encoding/json does, once per type and walk.
func (w *walker) known(t reflect.Type) map[string]reflect.Type {
	if m, ok := w.fields[t]; ok {
		return m
	}
	if w.fields == nil {
		w.fields = map[reflect.Type]map[string]reflect.Type{}
	}
	m := map[string]reflect.Type{}
	structFields(t, m)
	w.fields[t] = m
	return m
}

// structFields collects the JSON names of t's fields, flattening embedded
// structs.
func structFields(t reflect.Type, into map[string]reflect.Type) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			structFields(f.Type, into)
			continue
		}
		if name == "" || name == "-" {
			continue
		}
		into[name] = f.Type
	}
}

func (w *walker) wrongType(t reflect.Type) {
	w.problem(typeCode(t), "%s must be %s", w.name(), typeWord(t))
}

// problem records a field error at the current path.
func (w *walker) problem(code, format string, args ...any) {
	w.errs.Add(&sesame.Error{Kind: sesame.Invalid, Fields: []sesame.FieldError{
		{Code: code, Detail: fmt.Sprintf(format, args...), Source: w.pointer()}}})
}

var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

// pointer renders the current path as a JSON pointer ("/" for the body).
func (w *walker) pointer() string {
	if len(w.path) == 0 {
		return "/"
	}
	var b strings.Builder
	for _, s := range w.path {
		b.WriteByte('/')
		if s.isKey {
			b.WriteString(pointerEscaper.Replace(unescape(s.key)))
		} else {
			b.WriteString(strconv.Itoa(s.index))
		}
	}
	return b.String()
}

// name is the current path as messages show it: "links/0/title".
func (w *walker) name() string {
	if len(w.path) == 0 {
		return "the request"
	}
	return strings.ReplaceAll(strings.TrimPrefix(w.pointer(), "/"), "~1", "/")
}

// unescape decodes the JSON escapes of a key as it stands in the body.
func unescape(key []byte) string {
	if bytes.IndexByte(key, '\\') < 0 {
		return string(key)
	}
	var s string
	quoted := append(append([]byte{'"'}, key...), '"')
	if json.Unmarshal(quoted, &s) != nil {
		return string(key) // unreachable: the body is valid JSON
	}
	return s
}

func typeCode(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "InvalidString"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "InvalidInteger"
	case reflect.Float32, reflect.Float64:
		return "InvalidNumber"
	case reflect.Bool:
		return "InvalidBool"
	case reflect.Slice, reflect.Array:
		return "InvalidArray"
	}
	return "InvalidObject"
}

func typeWord(t reflect.Type) string {
	switch typeCode(t) {
	case "InvalidString":
		return "a string"
	case "InvalidInteger":
		return "an integer"
	case "InvalidNumber":
		return "a number"
	case "InvalidBool":
		return "a boolean"
	case "InvalidArray":
		return "an array"
	}
	return "an object"
}
