package testrig

import (
	"fmt"
	"strings"

	"golang.org/x/net/html"
)

// A selector is a small subset of CSS, enough to find things on a page:
// comma-separated alternatives, each a chain of compounds joined by
// descendant (space) or child (>) combinators. A compound is a tag name or
// *, then any number of #id, .class and attribute tests [a], [a=v],
// [a^=v], [a$=v], [a*=v] and [a~=v], with v bare or in quotes.
type selector []chain

// chain is one alternative, its compounds from the outermost in.
type chain []compound

type compound struct {
	tag   string // "" matches any element
	child bool   // joined to the previous compound by >
	attrs []attrTest
}

type attrTest struct {
	key, op, val string // op "" tests presence
}

func parseSelector(s string) (selector, error) {
	var sel selector
	for _, alt := range splitOutside(s, ',') {
		var c chain
		child := false
		for _, f := range tokens(alt) {
			if f == ">" {
				if len(c) == 0 || child {
					return nil, fmt.Errorf("selector %q: misplaced >", s)
				}
				child = true
				continue
			}
			cp, err := parseCompound(f)
			if err != nil {
				return nil, fmt.Errorf("selector %q: %w", s, err)
			}
			cp.child, child = child, false
			c = append(c, cp)
		}
		if len(c) == 0 || child {
			return nil, fmt.Errorf("selector %q: empty alternative", s)
		}
		sel = append(sel, c)
	}
	return sel, nil
}

// splitOutside splits s at sep where sep is not inside [] or quotes.
func splitOutside(s string, sep byte) []string {
	var out []string
	depth, quote, start := 0, byte(0), 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '[':
			depth++
		case c == ']':
			depth--
		case c == sep && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// tokens splits one alternative into compounds and > combinators, at
// spaces and > outside [] and quotes.
func tokens(s string) []string {
	var out []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	depth, quote := 0, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '[':
			depth++
		case c == ']':
			depth--
		case depth == 0 && (c == ' ' || c == '\t' || c == '\n'):
			flush()
			continue
		case depth == 0 && c == '>':
			flush()
			out = append(out, ">")
			continue
		}
		cur.WriteByte(c)
	}
	flush()
	return out
}

func parseCompound(s string) (compound, error) {
	var c compound
	i := strings.IndexAny(s, "#.[")
	if i < 0 {
		i = len(s)
	}
	if c.tag = strings.ToLower(s[:i]); c.tag == "*" {
		c.tag = ""
	}
	for s = s[i:]; s != ""; {
		switch s[0] {
		case '#', '.':
			j := strings.IndexAny(s[1:], "#.[") + 1
			if j == 0 {
				j = len(s)
			}
			if s[0] == '#' {
				c.attrs = append(c.attrs, attrTest{key: "id", op: "=", val: s[1:j]})
			} else {
				c.attrs = append(c.attrs, attrTest{key: "class", op: "~=", val: s[1:j]})
			}
			s = s[j:]
		case '[':
			j := strings.IndexByte(s, ']')
			if j < 0 {
				return c, fmt.Errorf("unclosed [ in %q", s)
			}
			c.attrs = append(c.attrs, parseAttrTest(s[1:j]))
			s = s[j+1:]
		default:
			return c, fmt.Errorf("unexpected %q", s)
		}
	}
	return c, nil
}

func parseAttrTest(s string) attrTest {
	i := strings.IndexByte(s, '=')
	if i < 0 {
		return attrTest{key: strings.ToLower(s)}
	}
	key, op := s[:i], "="
	if i > 0 && strings.IndexByte("^$*~", s[i-1]) >= 0 {
		key, op = s[:i-1], s[i-1:i+1]
	}
	val := s[i+1:]
	if len(val) >= 2 && (val[0] == '"' || val[0] == '\'') && val[len(val)-1] == val[0] {
		val = val[1 : len(val)-1]
	}
	return attrTest{key: strings.ToLower(key), op: op, val: val}
}

// matches reports whether n matches one of the alternatives.
func (sel selector) matches(n *html.Node) bool {
	for _, c := range sel {
		if c.matches(n, len(c)-1) {
			return true
		}
	}
	return false
}

// matches reports whether n matches c[:i+1], c[i] being n itself.
func (c chain) matches(n *html.Node, i int) bool {
	if !c[i].matches(n) {
		return false
	}
	if i == 0 {
		return true
	}
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Type == html.ElementNode && c.matches(p, i-1) {
			return true
		}
		if c[i].child {
			return false
		}
	}
	return false
}

func (cp compound) matches(n *html.Node) bool {
	if n.Type != html.ElementNode || (cp.tag != "" && n.Data != cp.tag) {
		return false
	}
	for _, a := range cp.attrs {
		v, ok := attr(n, a.key)
		if !ok || !a.test(v) {
			return false
		}
	}
	return true
}

func (a attrTest) test(v string) bool {
	switch a.op {
	case "":
		return true
	case "=":
		return v == a.val
	case "^=":
		return a.val != "" && strings.HasPrefix(v, a.val)
	case "$=":
		return a.val != "" && strings.HasSuffix(v, a.val)
	case "*=":
		return a.val != "" && strings.Contains(v, a.val)
	default: // ~=
		for _, w := range strings.Fields(v) {
			if w == a.val {
				return true
			}
		}
		return false
	}
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}
