package mcp

import (
	"reflect"
	"slices"

	"github.com/google/jsonschema-go/jsonschema"
)

// schemaFor returns the JSON schema of a tool's input or output type T,
// built once per Server. Go slices infer as ["null","array"], a type list
// that some agent clients reject; every property here has one type, and an
// array is always "array". It returns nil for a type with no schema,
// which leaves the SDK to infer (and refuse) it.
func schemaFor[T any](s *Server) *jsonschema.Schema {
	rt := reflect.TypeFor[T]()
	if v, ok := s.schemas.Load(rt); ok {
		return v.(*jsonschema.Schema)
	}
	sc, err := jsonschema.For[T](nil)
	if err != nil {
		return nil
	}
	oneType(sc)
	v, _ := s.schemas.LoadOrStore(rt, sc)
	return v.(*jsonschema.Schema)
}

// oneType drops "null" from every type list in sc, so that each schema
// names a single type.
func oneType(sc *jsonschema.Schema) {
	if sc == nil {
		return
	}
	if len(sc.Types) > 0 {
		types := slices.DeleteFunc(slices.Clone(sc.Types), func(t string) bool { return t == "null" })
		if len(types) == 1 {
			sc.Type, sc.Types = types[0], nil
		} else {
			sc.Types = types
		}
	}
	for _, p := range sc.Properties {
		oneType(p)
	}
	oneType(sc.Items)
	oneType(sc.AdditionalProperties)
	for _, d := range sc.Defs {
		oneType(d)
	}
}
