package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/sesame-share/sesame"
)

// decodeJSON parses a request body into v strictly: the body must be a JSON
// object in UTF-8, every key must be a field v knows (at any depth), and
// every value must have the field's type. Problems come back as one Invalid
// error whose fields point at the offending keys.
func decodeJSON(body []byte, v any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		body = []byte("{}")
	}
	if !utf8.Valid(body) {
		return &sesame.Error{Kind: sesame.Invalid, Message: "The request body is not valid UTF-8.", Err: errInvalidPayload,
			Fields: []sesame.FieldError{{Code: "InvalidPayloadReceived", Detail: "the request body is not valid UTF-8", Source: "/"}}}
	}
	if !json.Valid(body) {
		return &sesame.Error{Kind: sesame.Invalid, Message: "The request body is not valid JSON.", Err: errInvalidPayload,
			Fields: []sesame.FieldError{{Code: "InvalidPayloadReceived", Detail: "the request body is not valid JSON", Source: "/"}}}
	}
	if body[0] != '{' {
		return sesame.FieldErr("InvalidObject", "/", "the request body must be a JSON object")
	}
	var fields []sesame.FieldError
	checkJSON(body, reflect.TypeOf(v), "", &fields)
	if len(fields) > 0 {
		sort.Slice(fields, func(i, j int) bool { return fields[i].Source < fields[j].Source })
		return &sesame.Error{Kind: sesame.Invalid, Message: fields[0].Detail, Fields: fields}
	}
	if err := json.Unmarshal(body, v); err != nil {
		// checkJSON has vetted every type; what is left is a number out
		// of range.
		src := "/"
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			src = "/" + strings.ReplaceAll(te.Field, ".", "/")
		}
		return sesame.FieldErr("NotWithinRange", src, "%s is out of range", strings.TrimPrefix(src, "/"))
	}
	return nil
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

var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

// checkJSON walks raw against the Go type t and reports, with exact JSON
// pointers, every key t has no field for and every value of the wrong
// type. Embedded structs contribute their fields, as encoding/json does.
func checkJSON(raw json.RawMessage, t reflect.Type, ptr string, out *[]sesame.FieldError) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" || t == rawMessageType {
		return
	}
	name := strings.TrimPrefix(strings.ReplaceAll(ptr, "~1", "/"), "/")
	if name == "" {
		name = "the request"
	}
	wrong := func() {
		*out = append(*out, sesame.FieldError{Code: typeCode(t), Detail: fmt.Sprintf("%s must be %s", name, typeWord(t)), Source: ptrOr(ptr)})
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		var m map[string]json.RawMessage
		if raw[0] != '{' || json.Unmarshal(raw, &m) != nil {
			wrong()
			return
		}
		var known map[string]reflect.Type
		if t.Kind() == reflect.Struct {
			known = map[string]reflect.Type{}
			structFields(t, known)
		}
		for k, v := range m {
			p := ptr + "/" + pointerEscaper.Replace(k)
			if t.Kind() == reflect.Map {
				checkJSON(v, t.Elem(), p, out)
				continue
			}
			ft, ok := known[k]
			if !ok {
				*out = append(*out, sesame.FieldError{Code: "UnexpectedProperty", Detail: fmt.Sprintf("%s is not a field of this request", strings.TrimPrefix(p, "/")), Source: p})
				continue
			}
			checkJSON(v, ft, p, out)
		}
	case reflect.Slice:
		var a []json.RawMessage
		if raw[0] != '[' || json.Unmarshal(raw, &a) != nil {
			wrong()
			return
		}
		for i, v := range a {
			checkJSON(v, t.Elem(), fmt.Sprintf("%s/%d", ptr, i), out)
		}
	case reflect.String:
		if raw[0] != '"' {
			wrong()
		}
	case reflect.Bool:
		if string(raw) != "true" && string(raw) != "false" {
			wrong()
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var n json.Number
		if raw[0] == '"' || json.Unmarshal(raw, &n) != nil || strings.ContainsAny(string(n), ".eE") {
			wrong()
			return
		}
		if _, err := n.Int64(); err != nil {
			*out = append(*out, sesame.FieldError{Code: "NotWithinRange", Detail: fmt.Sprintf("%s is out of range", name), Source: ptrOr(ptr)})
		}
	case reflect.Float32, reflect.Float64:
		var n json.Number
		if raw[0] == '"' || json.Unmarshal(raw, &n) != nil {
			wrong()
		}
	}
}

var rawMessageType = reflect.TypeOf(json.RawMessage(nil))

func ptrOr(p string) string {
	if p == "" {
		return "/"
	}
	return p
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
