package sesame

import (
	"encoding/base64"
	"encoding/json"
)

// Op is a filter operator from the Pangea filter grammar.
type Op string

// The filter operators.
const (
	OpEq       Op = ""          // <f>
	OpContains Op = "contains"  // <f>__contains: every substring present
	OpIn       Op = "in"        // <f>__in: equal to one
	OpGt       Op = "gt"        // <f>__gt
	OpGte      Op = "gte"       // <f>__gte
	OpLt       Op = "lt"        // <f>__lt
	OpLte      Op = "lte"       // <f>__lte
	OpAllTags  Op = "all_tags"  // tags: every tag present
	OpFolder   Op = "in_folder" // folder: direct children of a path
)

// FieldType says how a filterable field compares.
type FieldType uint8

// The field types.
const (
	FieldString FieldType = iota // equality, __contains and __in
	FieldNumber                  // equality and ranges; values are decimal integers
	FieldTime                    // equality and ranges; values are in TimeLayout
	FieldTags                    // the tags key only
	FieldPath                    // the folder key only
)

// Cond is one parsed filter condition. Values are normalised: numbers as
// decimal integers, times in TimeLayout.
type Cond struct {
	Field  string
	Op     Op
	Values []string
}

// Cursor marks where a page ended, for keyset paging.
type Cursor struct {
	OrderBy string
	Desc    bool
	Value   string
	ID      string
}

// Encode renders c as the opaque string a client sends back for the next
// page.
func (c *Cursor) Encode() string {
	m := map[string]any{"o": c.OrderBy, "v": c.Value, "i": c.ID}
	if c.Desc {
		m["d"] = true
	}
	b, _ := json.Marshal(m) // strings and a bool always marshal
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor parses a string made by Encode. Anything else is Invalid,
// pointing at src (the field that carried it).
func DecodeCursor(src, s string) (*Cursor, error) {
	bad := FieldErr("BadFormat", src, "%s is not a cursor returned by an earlier page", fieldName(src))
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, bad
	}
	var c Cursor
	for k, v := range m {
		var ok bool
		switch k {
		case "o":
			c.OrderBy, ok = v.(string)
		case "v":
			c.Value, ok = v.(string)
		case "i":
			c.ID, ok = v.(string)
		case "d":
			c.Desc, ok = v.(bool)
		default:
			ok = true // a field of a later version
		}
		if !ok && v != nil {
			return nil, bad
		}
	}
	if c.ID == "" {
		return nil, bad
	}
	return &c, nil
}

// ObjectFields lists the filterable object fields and their types.
var ObjectFields = map[string]FieldType{
	"id":         FieldString,
	"name":       FieldString,
	"parent_id":  FieldString,
	"type":       FieldString,
	"path":       FieldString,
	"size":       FieldNumber,
	"created_at": FieldTime,
	"updated_at": FieldTime,
	"tags":       FieldTags,
	"folder":     FieldPath,
}

// ObjectOrderFields lists the fields objects can be ordered by.
var ObjectOrderFields = []string{"id", "name", "parent_id", "created_at", "updated_at", "size", "type"}
