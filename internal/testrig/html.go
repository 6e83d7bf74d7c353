package testrig

import (
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// Doc is a parsed HTML document (golang.org/x/net/html), to be searched by
// selector or by predicate.
type Doc struct {
	t    testing.TB
	root *html.Node
}

// ParseHTML parses s; the parser repairs any markup, as browsers do.
func ParseHTML(t testing.TB, s string) *Doc {
	t.Helper()
	root, err := html.Parse(strings.NewReader(s))
	if err != nil {
		t.Fatalf("parse HTML: %v", err)
	}
	return &Doc{t: t, root: root}
}

// Element is one element of a Doc. A nil *Element is none: its methods
// answer "" or nothing.
type Element struct {
	t    testing.TB
	Node *html.Node
}

// Root is the document node, to search from.
func (d *Doc) Root() *Element { return &Element{t: d.t, Node: d.root} }

// Find returns the elements that match sel, in document order.
func (d *Doc) Find(sel string) []*Element { return d.Root().Find(sel) }

// First returns the first element that matches sel, or nil.
func (d *Doc) First(sel string) *Element { return d.Root().First(sel) }

// Has reports whether an element matches sel.
func (d *Doc) Has(sel string) bool { return d.First(sel) != nil }

// Filter returns the elements for which keep is true, in document order.
func (d *Doc) Filter(keep func(*Element) bool) []*Element { return d.Root().Filter(keep) }

// TextOf is the text of the first element that matches sel ("" if none).
func (d *Doc) TextOf(sel string) string { return d.First(sel).Text() }

// Form returns the first form that matches sel, or nil.
func (d *Doc) Form(sel string) *Form { return asForm(d.First(sel)) }

// Value is the value of the first <input> named name ("" if none).
func (d *Doc) Value(name string) string { return d.First(`input[name="` + name + `"]`).Attr("value") }

// Links returns the href of every <a>, in document order.
func (d *Doc) Links() []string {
	var out []string
	for _, a := range d.Find("a[href]") {
		out = append(out, a.Attr("href"))
	}
	return out
}

// Find returns the elements under e that match sel, in document order.
func (e *Element) Find(sel string) []*Element {
	if e == nil {
		return nil
	}
	e.t.Helper()
	s, err := parseSelector(sel)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.Filter(func(x *Element) bool { return s.matches(x.Node) })
}

// First returns the first element under e that matches sel, or nil.
func (e *Element) First(sel string) *Element {
	if e == nil {
		return nil
	}
	e.t.Helper()
	if m := e.Find(sel); len(m) > 0 {
		return m[0]
	}
	return nil
}

// Filter returns the elements under e for which keep is true.
func (e *Element) Filter(keep func(*Element) bool) []*Element {
	if e == nil {
		return nil
	}
	var out []*Element
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode {
				if x := (&Element{t: e.t, Node: c}); keep(x) {
					out = append(out, x)
				}
			}
			walk(c)
		}
	}
	walk(e.Node)
	return out
}

// Tag is the element's name, in lower case.
func (e *Element) Tag() string {
	if e == nil {
		return ""
	}
	return e.Node.Data
}

// Attr is the value of an attribute ("" when it is absent).
func (e *Element) Attr(key string) string {
	if e == nil {
		return ""
	}
	v, _ := attr(e.Node, key)
	return v
}

// HasAttr reports whether the element carries the attribute.
func (e *Element) HasAttr(key string) bool {
	if e == nil {
		return false
	}
	_, ok := attr(e.Node, key)
	return ok
}

// Text is the element's text content, as the DOM's textContent: every
// text node under it, unchanged, in order.
func (e *Element) Text() string {
	if e == nil {
		return ""
	}
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.TextNode {
				b.WriteString(c.Data)
			}
			walk(c)
		}
	}
	walk(e.Node)
	return b.String()
}

// Form is a <form> and what submitting it as it stands would send.
type Form struct {
	*Element
	Action string // as written; "" posts to the page itself
	Method string // upper case; GET when absent
}

func asForm(e *Element) *Form {
	if e == nil {
		return nil
	}
	m := strings.ToUpper(e.Attr("method"))
	if m == "" {
		m = "GET"
	}
	return &Form{Element: e, Action: e.Attr("action"), Method: m}
}

// Values are the form's fields as a browser would submit them untouched:
// inputs (checkboxes and radios only when checked; no buttons or files),
// textareas, and the selected (or first) option of each select.
func (f *Form) Values() url.Values {
	v := url.Values{}
	if f == nil {
		return v
	}
	for _, in := range f.Find("input[name], textarea[name], select[name]") {
		name := in.Attr("name")
		switch in.Tag() {
		case "textarea":
			v.Add(name, in.Text())
		case "select":
			opt := in.First("option[selected]")
			if opt == nil {
				opt = in.First("option")
			}
			if opt != nil {
				val, ok := attr(opt.Node, "value")
				if !ok {
					val = opt.Text()
				}
				v.Add(name, val)
			}
		default:
			switch strings.ToLower(in.Attr("type")) {
			case "submit", "button", "reset", "image", "file":
			case "checkbox", "radio":
				if val, ok := attr(in.Node, "value"); in.HasAttr("checked") {
					if !ok {
						val = "on"
					}
					v.Add(name, val)
				}
			default:
				v.Add(name, in.Attr("value"))
			}
		}
	}
	return v
}
