package gateway

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/sesame-share/sesame/templates"
)

var (
	templateT = regexp.MustCompile(`\.L\.T "((?:[^"\\]|\\.)*)"`)
	goT       = regexp.MustCompile(`\.(?:t|T)\((?:c, )?("(?:[^"\\]|\\.)*")`)
	goN       = regexp.MustCompile(`\.N\("(?:[^"\\]|\\.)*", ("(?:[^"\\]|\\.)*")`)
	coreMsg   = regexp.MustCompile(`(?:Errorf\((?:sesame\.)?\w+, |Say\((?:sesame\.)?\w+, |Text: |Message: )("(?:[^"\\%]|\\.)*[^ "%]")[,})]`)
	headings  = regexp.MustCompile(`(?:portalFail\(c, \w+, [^"]*, |notice\(c, \w+, [\w.]+, )("(?:[^"\\]|\\.)+")`)
)

// pageTexts gathers every sentence the recipient pages may show: the
// templates' {{.L.T "…"}}, the gateway's t/T/N calls and tables, and the
// core's messages to recipients.
func pageTexts(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	add := func(s string) {
		if strings.TrimSpace(s) != "" {
			out[s] = true
		}
	}
	err := fs.WalkDir(templates.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".html") || strings.HasPrefix(p, "messages/") {
			return err
		}
		b, err := fs.ReadFile(templates.FS, p)
		for _, m := range templateT.FindAllStringSubmatch(string(b), -1) {
			add(m[1])
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	goFiles := func(pattern string, res ...*regexp.Regexp) {
		files, _ := filepath.Glob(pattern)
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, re := range res {
				for _, m := range re.FindAllStringSubmatch(string(b), -1) {
					s, err := strconv.Unquote(m[1])
					if err != nil {
						t.Fatalf("%s: %s: %v", f, m[1], err)
					}
					add(s)
				}
			}
		}
	}
	goFiles("portal*.go", goT, goN, coreMsg, headings)
	goFiles("../portal*.go", coreMsg)
	goFiles("../store/portal.go", coreMsg)
	goFiles("../authenticators/password*.go", coreMsg)
	goFiles("../authenticators/otp.go", coreMsg)
	for _, m := range []map[string]string{flashes} {
		for _, s := range m {
			add(s)
		}
	}
	for _, s := range kindWords {
		add(s)
	}
	for _, s := range pageHeadings {
		add(s)
	}
	for _, s := range append(uploadStrings, viewerStrings...) {
		add(s)
	}
	for _, p := range uploadPlurals {
		add(p[1])
	}
	for _, s := range []string{"Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec", "{{.Day}} {{.Month}} {{.Year}}, {{.Time}} UTC",
		"{{.Count}} days", "{{.Count}} hours", "{{.Count}} minutes", "Something went wrong. Please try again in a moment.",
		"The form could not be read", "Download limit reached", "{{.N}} B"} {
		add(s)
	}
	return out
}

// Every sentence of the recipient pages has a German, French and Spanish
// translation, with the same placeholders.
func TestPageTextsAreTranslated(t *testing.T) {
	texts := pageTexts(t)
	if len(texts) < 100 {
		t.Fatalf("found only %d texts; the scan is broken", len(texts))
	}
	field := regexp.MustCompile(`\{\{\.\w+\}\}`)
	for _, lang := range []string{"de", "fr", "es"} {
		have := map[string]any{}
		files, _ := fs.Glob(templates.FS, "locales/*."+lang+".yaml")
		for _, f := range files {
			b, _ := fs.ReadFile(templates.FS, f)
			var m map[string]any
			if err := yaml.Unmarshal(b, &m); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			for k, v := range m {
				have[k] = v
			}
		}
		var missing []string
		for text := range texts {
			v, ok := have[text]
			if !ok {
				missing = append(missing, text)
				continue
			}
			forms := []string{}
			switch v := v.(type) {
			case string:
				forms = append(forms, v)
			case map[string]any:
				for _, f := range v {
					forms = append(forms, f.(string))
				}
			}
			want := field.FindAllString(text, -1)
			sort.Strings(want)
			for _, f := range forms {
				got := field.FindAllString(f, -1)
				sort.Strings(got)
				if strings.Join(got, "") != strings.Join(want, "") && !strings.Contains(text, "{{.Count}}") {
					t.Errorf("%s: %q → %q: placeholders %v, want %v", lang, text, f, got, want)
				}
			}
		}
		sort.Strings(missing)
		for _, m := range missing {
			t.Errorf("%s: no translation for %q", lang, m)
		}
	}
}
