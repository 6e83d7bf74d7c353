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
	unknownFields(body, reflect.TypeOf(v), "", &fields)
	if len(fields) > 0 {
		sort.Slice(fields, func(i, j int) bool { return fields[i].Source < fields[j].Source })
		return &sesame.Error{Kind: sesame.Invalid, Message: fields[0].Detail, Fields: fields}
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			src := "/" + strings.ReplaceAll(te.Field, ".", "/")
			detail := fmt.Sprintf("%s must be %s, not %s", strings.TrimPrefix(src, "/"), typeWord(te.Type), te.Value)
			return &sesame.Error{Kind: sesame.Invalid, Message: detail, Fields: []sesame.FieldError{{Code: typeCode(te.Type), Detail: detail, Source: src}}}
		}
		return &sesame.Error{Kind: sesame.Invalid, Message: "The request body could not be read.", Err: errors.Join(errInvalidPayload, err),
			Fields: []sesame.FieldError{{Code: "InvalidPayloadReceived", Detail: "the request body could not be read", Source: "/"}}}
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

// unknownFields reports keys in raw that the type t has no field for.
func unknownFields(raw json.RawMessage, t reflect.Type, ptr string, out *[]sesame.FieldError) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return // a type error, reported by the real decode
		}
		known := map[string]reflect.Type{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			known[name] = f.Type
		}
		for k, v := range m {
			ft, ok := known[k]
			if !ok {
				*out = append(*out, sesame.FieldError{Code: "UnexpectedProperty", Detail: fmt.Sprintf("%s is not a field of this request", strings.TrimPrefix(ptr+"/"+k, "/")), Source: ptr + "/" + k})
				continue
			}
			unknownFields(v, ft, ptr+"/"+k, out)
		}
	case reflect.Slice:
		var a []json.RawMessage
		if json.Unmarshal(raw, &a) != nil {
			return
		}
		for i, v := range a {
			unknownFields(v, t.Elem(), fmt.Sprintf("%s/%d", ptr, i), out)
		}
	}
}
