package conformance

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// field is one leaf property of a request body: a value that is not an
// object with properties of its own. Arrays of objects are entered at
// index 0.
type field struct {
	ptr    string // JSON pointer into the body
	schema *openapi3.Schema
	// from is the object whose presence makes the field required: "" for
	// the body, ptr itself for an optional field.
	from string
}

// fields lists the leaves of s in pointer order.
func fields(s *openapi3.Schema) []field {
	var out []field
	collect(s, "", "", &out)
	sort.Slice(out, func(i, j int) bool { return out[i].ptr < out[j].ptr })
	return out
}

func collect(s *openapi3.Schema, prefix, from string, out *[]field) {
	for name, p := range s.Properties {
		ptr := prefix + "/" + name
		childFrom := ptr
		if contains(s.Required, name) {
			childFrom = from
		}
		v := p.Value
		switch {
		case len(v.Properties) > 0:
			collect(v, ptr, childFrom, out)
		case v.Type.Is("array") && v.Items != nil && len(v.Items.Value.Properties) > 0:
			collect(v.Items.Value, ptr+"/0", childFrom, out)
		default:
			*out = append(*out, field{ptr: ptr, schema: v, from: childFrom})
		}
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// schemaValues returns the values a request may send for s, from the
// document alone: every member of an enum, else one example, else a
// value of its type and format.
func schemaValues(s *openapi3.Schema) []any {
	switch {
	case len(s.Enum) > 0:
		return s.Enum
	case s.Const != nil:
		return []any{s.Const}
	case len(s.Examples) > 0:
		return []any{s.Examples[0]}
	case s.Example != nil:
		return []any{s.Example}
	}
	switch {
	case s.Format == "date-time":
		return []any{"2030-01-01T00:00:00Z"}
	case s.Type.Is("boolean"):
		return []any{true}
	case s.Type.Is("integer"), s.Type.Is("number"):
		n := 1.0
		if s.Min != nil && *s.Min > n {
			n = *s.Min
		}
		return []any{n}
	case s.Type.Is("array"):
		if s.Items == nil {
			return []any{[]any{}}
		}
		return []any{[]any{schemaValues(s.Items.Value)[0]}}
	case s.Type.Is("object"):
		return []any{map[string]any{}}
	}
	return []any{"conformance"}
}

// wrongType returns a value of another JSON type than s takes, or nil
// when s takes any.
func wrongType(s *openapi3.Schema) any {
	switch {
	case s.Type.Is("string"):
		return 12345
	case s.Type.Is("integer"), s.Type.Is("number"), s.Type.Is("boolean"), s.Type.Is("array"), s.Type.Is("object"):
		return "conformance"
	}
	for _, sub := range append(s.AllOf, s.AnyOf...) {
		if v := wrongType(sub.Value); v != nil {
			return v
		}
	}
	return nil
}

// set stores v at ptr in body, making the objects and one-element arrays
// on the way.
func set(body map[string]any, ptr string, v any) {
	segs := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
	var cur any = body
	for i, seg := range segs {
		last := i == len(segs)-1
		next := func() any {
			if !last && isIndex(segs[i+1]) {
				return []any{}
			}
			return map[string]any{}
		}
		switch c := cur.(type) {
		case map[string]any:
			if last {
				c[seg] = v
				return
			}
			if _, ok := c[seg]; !ok {
				c[seg] = next()
			}
			if arr, ok := c[seg].([]any); ok && len(arr) == 0 {
				c[seg] = []any{map[string]any{}}
			}
			cur = c[seg]
		case []any:
			n, _ := strconv.Atoi(seg)
			if last {
				c[n] = v
				return
			}
			cur = c[n]
		default:
			panic(fmt.Sprintf("set %s: %T on the way", ptr, cur))
		}
	}
}

func isIndex(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}

// label is how the run names a value sent for a field: "op /ptr=value"
// for a short string, "op /ptr" otherwise.
func label(op, ptr string, v any) string {
	if s, ok := v.(string); ok && len(s) <= 40 {
		return op + " " + ptr + "=" + s
	}
	return op + " " + ptr
}

// matches reports whether a refusal key of the deviation table names the
// labelled value.
func matches(key, lbl string) bool {
	kop, kfield := splitLabel(key)
	lop, lfield := splitLabel(lbl)
	if kop != "*" && kop != lop {
		return false
	}
	if strings.Contains(kfield, "=") {
		return kfield == lfield
	}
	lptr, _, _ := strings.Cut(lfield, "=")
	return kfield == lptr
}

// splitLabel splits "op /ptr=value" after the operation, whose name may
// hold a space ("put (json)").
func splitLabel(s string) (op, field string) {
	i := strings.Index(s, " /")
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i+1:]
}
