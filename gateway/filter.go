package gateway

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/sesame-share/sesame"
)

var filterOps = map[string]sesame.Op{
	"":         sesame.OpEq,
	"contains": sesame.OpContains,
	"in":       sesame.OpIn,
	"gt":       sesame.OpGt,
	"gte":      sesame.OpGte,
	"lt":       sesame.OpLt,
	"lte":      sesame.OpLte,
}

// parseFilter reads a Pangea filter object: "<f>", "<f>__contains",
// "<f>__in", "<f>__gt|gte|lt|lte" and "tags", over the given fields.
// aliases maps alternative field names to their canonical ones. Numbers may
// arrive as JSON numbers or as strings; times are compared as instants.
func parseFilter(raw map[string]json.RawMessage, fields map[string]sesame.FieldType, aliases map[string]string) ([]sesame.Cond, error) {
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var conds []sesame.Cond
	var problems sesame.Problems
	for _, key := range keys {
		if problems.Full() {
			break
		}
		src := "/filter/" + pointerEscaper.Replace(key)
		v := raw[key]
		if string(v) == "null" {
			continue
		}
		base, opName, _ := strings.Cut(key, "__")
		if a, ok := aliases[base]; ok {
			base = a
		}
		ft, known := fields[base]
		op, knownOp := filterOps[opName]
		if !known || !knownOp {
			problems.Addf("UnexpectedProperty", src, "%s is not a filter this list supports", key)
			continue
		}
		cond, fe := parseCond(base, op, ft, v, src)
		if fe != nil {
			problems.Add(&sesame.Error{Kind: sesame.Invalid, Fields: []sesame.FieldError{*fe}})
			continue
		}
		conds = append(conds, cond)
	}
	if err := problems.Err(); err != nil {
		return nil, err
	}
	return conds, nil
}

func parseCond(field string, op sesame.Op, ft sesame.FieldType, v json.RawMessage, src string) (sesame.Cond, *sesame.FieldError) {
	c := sesame.Cond{Field: field, Op: op}
	key := strings.TrimPrefix(src, "/filter/")
	var fe *sesame.FieldError
	switch ft {
	case sesame.FieldTags:
		fe = tagsCond(&c, v, key)
	case sesame.FieldPath:
		fe = pathCond(&c, v, key, src)
	case sesame.FieldString:
		fe = stringCond(&c, v, key)
	case sesame.FieldNumber, sesame.FieldTime:
		fe = rangeCond(&c, ft, v, key)
	default:
		fe = &sesame.FieldError{Code: "UnexpectedProperty", Detail: key + " is not a filter this list supports"}
	}
	if fe != nil {
		fe.Source = src
	}
	return c, fe
}

func badCond(code, format string, args ...any) *sesame.FieldError {
	return &sesame.FieldError{Code: code, Detail: fmt.Sprintf(format, args...)}
}

func tagsCond(c *sesame.Cond, v json.RawMessage, key string) *sesame.FieldError {
	if c.Op != sesame.OpEq {
		return badCond("UnexpectedProperty", "tags takes no operator")
	}
	vals, ok := stringList(v)
	if !ok {
		return badCond("InvalidArray", "%s must be an array of strings", key)
	}
	c.Op, c.Values = sesame.OpAllTags, vals
	return nil
}

func pathCond(c *sesame.Cond, v json.RawMessage, key, src string) *sesame.FieldError {
	var s string
	if c.Op != sesame.OpEq || json.Unmarshal(v, &s) != nil {
		return badCond("InvalidString", "%s must be a folder path string", key)
	}
	if _, err := sesame.SplitPath(src, s); err != nil {
		fe := sesame.AsError(err).Fields[0]
		return &fe
	}
	c.Op, c.Values = sesame.OpFolder, []string{s}
	return nil
}

func stringCond(c *sesame.Cond, v json.RawMessage, key string) *sesame.FieldError {
	switch c.Op {
	case sesame.OpEq:
		var s string
		if json.Unmarshal(v, &s) != nil {
			return badCond("InvalidString", "%s must be a string", key)
		}
		c.Values = []string{s}
	case sesame.OpContains, sesame.OpIn:
		vals, ok := stringList(v)
		if !ok {
			return badCond("InvalidArray", "%s must be an array of strings", key)
		}
		c.Values = vals
	default:
		return badCond("UnexpectedProperty", "%s: %s compares only with equality, __contains and __in", key, c.Field)
	}
	if c.Field == "type" {
		for i, s := range c.Values {
			if s == "dir" {
				c.Values[i] = string(sesame.TypeFolder)
			}
		}
	}
	return nil
}

// rangeCond reads a number or a time, which compare by equality and ranges.
func rangeCond(c *sesame.Cond, ft sesame.FieldType, v json.RawMessage, key string) *sesame.FieldError {
	if c.Op == sesame.OpContains || c.Op == sesame.OpIn {
		return badCond("UnexpectedProperty", "%s: %s compares only with equality and ranges", key, c.Field)
	}
	if ft == sesame.FieldNumber {
		n, ok := number(v)
		if !ok {
			return badCond("InvalidInteger", "%s must be an integer (a number or a string of digits)", key)
		}
		c.Values = []string{strconv.FormatInt(n, 10)}
		return nil
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return badCond("BadFormatDateTime", "%s must be an RFC 3339 time string", key)
	}
	t, err := sesame.ParseTime(s)
	if err != nil {
		return badCond("BadFormatDateTime", "%s must be an RFC 3339 time such as 2025-01-31T12:00:00Z", key)
	}
	c.Values = []string{sesame.FormatTime(t)}
	return nil
}

// stringList accepts an array of strings, or one string as a list of one.
func stringList(v json.RawMessage) ([]string, bool) {
	var list []string
	if json.Unmarshal(v, &list) == nil {
		return list, true
	}
	var one string
	if json.Unmarshal(v, &one) == nil {
		return []string{one}, true
	}
	return nil, false
}

// number accepts an integer as a JSON number or a string of digits.
func number(v json.RawMessage) (int64, bool) {
	var s string
	if json.Unmarshal(v, &s) == nil {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		return n, err == nil
	}
	var n json.Number
	if json.Unmarshal(v, &n) != nil {
		return 0, false
	}
	i, err := n.Int64()
	if err != nil {
		f, ferr := n.Float64()
		if ferr != nil || f != float64(int64(f)) {
			return 0, false
		}
		i = int64(f)
	}
	return i, true
}

// encodeCursor renders a page cursor as the opaque string last.
func encodeCursor(c *sesame.Cursor) string { return c.Encode() }

// decodeCursor parses the cursor a client sent as last.
func decodeCursor(s string) (*sesame.Cursor, error) { return sesame.DecodeCursor("/last", s) }
