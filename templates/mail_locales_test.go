package templates

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"text/template/parse"

	"gopkg.in/yaml.v3"
)

// mailID is a sentence of an email or SMS: its English text (the id; the
// plural for a count) and, for a count, the English singular.
type mailID struct {
	text, one string
	plural    bool
	where     string
}

// mailIDs finds every sentence the messages use: t and n in
// messages/*, and T and N called with literal texts in the Go code that
// renders them (notify, authenticators, and the helpers of this package
// they call).
func mailIDs(t *testing.T) map[string]mailID {
	t.Helper()
	ids := map[string]mailID{}
	add := func(id mailID) {
		if old, ok := ids[id.text]; ok && old.plural != id.plural {
			t.Errorf("%q is a plural at %s but not at %s", id.text, old.where, id.where)
		}
		ids[id.text] = id
	}
	files, err := fs.Glob(FS, "messages/*")
	if err != nil || len(files) == 0 {
		t.Fatalf("messages: %v (%v)", files, err)
	}
	for _, f := range files {
		b, err := fs.ReadFile(FS, f)
		if err != nil {
			t.Fatal(err)
		}
		tr := parse.New(f)
		tr.Mode = parse.SkipFuncCheck
		trees := map[string]*parse.Tree{} // the file's own and each {{define}}
		if _, err := tr.Parse(string(b), "", "", trees); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, tree := range append(slices.Collect(maps.Values(trees)), tr) {
			walk(tree.Root, func(c *parse.CommandNode) {
				if id, ok := templateCall(c, f); ok {
					add(id)
				}
			})
		}
	}
	var gofiles []string
	for _, dir := range []string{"../notify", "../authenticators"} {
		m, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		gofiles = append(gofiles, m...)
	}
	gofiles = append(gofiles, "message_funcs.go")
	fset := token.NewFileSet()
	for _, f := range gofiles {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			if id, ok := goCall(n, fset); ok {
				add(id)
			}
			return true
		})
	}
	return ids
}

// walk calls fn on every command under n, the nested ones included.
func walk(n parse.Node, fn func(*parse.CommandNode)) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n != nil {
			for _, c := range n.Nodes {
				walk(c, fn)
			}
		}
	case *parse.ActionNode:
		walk(n.Pipe, fn)
	case *parse.IfNode:
		walk(n.Pipe, fn)
		walk(n.List, fn)
		walk(n.ElseList, fn)
	case *parse.RangeNode:
		walk(n.Pipe, fn)
		walk(n.List, fn)
		walk(n.ElseList, fn)
	case *parse.WithNode:
		walk(n.Pipe, fn)
		walk(n.List, fn)
		walk(n.ElseList, fn)
	case *parse.TemplateNode:
		walk(n.Pipe, fn)
	case *parse.PipeNode:
		if n != nil {
			for _, c := range n.Cmds {
				walk(c, fn)
			}
		}
	case *parse.CommandNode:
		fn(n)
		for _, a := range n.Args {
			walk(a, fn)
		}
	}
}

// templateCall reads {{t "text" ...}} and {{n "one" "other" ...}}.
func templateCall(c *parse.CommandNode, file string) (mailID, bool) {
	if len(c.Args) < 2 {
		return mailID{}, false
	}
	fn, ok := c.Args[0].(*parse.IdentifierNode)
	if !ok || (fn.Ident != "t" && fn.Ident != "n") {
		return mailID{}, false
	}
	var lits []string
	for _, a := range c.Args[1:] {
		if s, ok := a.(*parse.StringNode); ok {
			lits = append(lits, s.Text)
		} else {
			break
		}
	}
	where := fmt.Sprintf("%s: %s", file, c)
	if fn.Ident == "t" && len(lits) >= 1 {
		return mailID{text: lits[0], where: where}, true
	}
	if fn.Ident == "n" && len(lits) >= 2 {
		return mailID{text: lits[1], one: lits[0], plural: true, where: where}, true
	}
	return mailID{}, false
}

// goCall reads x.T("text", ...) and x.N("one", "other", ...).
func goCall(n ast.Node, fset *token.FileSet) (mailID, bool) {
	call, ok := n.(*ast.CallExpr)
	if !ok {
		return mailID{}, false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || (sel.Sel.Name != "T" && sel.Sel.Name != "N") {
		return mailID{}, false
	}
	var lits []string
	for _, a := range call.Args {
		lit, ok := a.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			break
		}
		s, err := strconv.Unquote(lit.Value)
		if err != nil {
			break
		}
		lits = append(lits, s)
	}
	where := fset.Position(call.Pos()).String()
	if sel.Sel.Name == "T" && len(lits) >= 1 {
		return mailID{text: lits[0], where: where}, true
	}
	if sel.Sel.Name == "N" && len(lits) >= 2 {
		return mailID{text: lits[1], one: lits[0], plural: true, where: where}, true
	}
	return mailID{}, false
}

// pluralForms are the CLDR forms each language needs for a count.
var pluralForms = map[string][]string{"de": {"one", "other"}, "fr": {"one", "many", "other"}, "es": {"one", "many", "other"}}

var field = regexp.MustCompile(`\{\{[^}]*?\.([A-Za-z]+)`)

// fields lists the {{.X}} fields a text fills.
func fields(s string) []string {
	var out []string
	for _, m := range field.FindAllStringSubmatch(s, -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	sort.Strings(out)
	return out
}

func readLocaleFile(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := fs.ReadFile(FS, "locales/"+name)
	if err != nil {
		return nil
	}
	m := map[string]any{}
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

// Every sentence of an email or SMS has a translation in
// locales/mail.{de,fr,es}.yaml, with each form its language's plurals
// need and the same {{.X}} fields as the English; the files hold nothing
// the messages no longer say, and agree with the pages' files where both
// translate a text (the one read last would win).
func TestMailTranslations(t *testing.T) {
	ids := mailIDs(t)
	if len(ids) < 30 {
		t.Fatalf("found %d sentences in the messages, want the 30 and more they hold", len(ids))
	}
	for _, lang := range []string{"de", "fr", "es"} {
		file := "mail." + lang + ".yaml"
		tr := readLocaleFile(t, file)
		if tr == nil {
			t.Fatalf("%s is missing", file)
		}
		for _, id := range ids {
			v, ok := tr[id.text]
			switch {
			case !ok:
				t.Errorf("%s: no translation of %q (%s)", file, id.text, id.where)
			case id.plural:
				forms, ok := v.(map[string]any)
				if !ok {
					t.Errorf("%s: %q needs the forms %v", file, id.text, pluralForms[lang])
					continue
				}
				for _, f := range pluralForms[lang] {
					s, _ := forms[f].(string)
					want := fields(id.text)
					if f == "one" && !strings.Contains(s, "{{.Count}}") { // "eine Datei"
						want = slices.DeleteFunc(want, func(x string) bool { return x == "Count" })
					}
					if s == "" {
						t.Errorf("%s: %q lacks its %q form", file, id.text, f)
					} else if got := fields(s); !slices.Equal(got, want) {
						t.Errorf("%s: %q (%s) fills %v, want %v", file, id.text, f, got, want)
					}
				}
			default:
				s, ok := v.(string)
				if !ok || s == "" {
					t.Errorf("%s: %q must be one text", file, id.text)
				} else if got, want := fields(s), fields(id.text); !slices.Equal(got, want) {
					t.Errorf("%s: %q fills %v, want %v", file, id.text, got, want)
				}
			}
		}
		for k := range tr {
			if _, ok := ids[k]; !ok {
				t.Errorf("%s: %q is not in any message", file, k)
			}
		}
		pages := readLocaleFile(t, "pages."+lang+".yaml")
		for k, v := range tr {
			if pv, ok := pages[k]; ok && fmt.Sprint(pv) != fmt.Sprint(v) {
				t.Errorf("%q: %s says %v, pages.%s.yaml says %v", k, file, v, lang, pv)
			}
		}
	}
}
