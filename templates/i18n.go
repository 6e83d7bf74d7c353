package templates

import (
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"gopkg.in/yaml.v3"
)

// A Locale is one language the recipient pages and the messages speak.
//
// Messages are looked up by their English text, as gettext does: the
// English text is the message id, and the message files under locales/
// (one or more per language, YAML, named <area>.<language>.yaml) map it
// to the translation. A sentence with no translation is shown in English.
// Texts are Go templates over their data ("Uploaded {{.Names}}.").
// Plurals follow the language's CLDR rules.
type Locale struct {
	Tag  language.Tag
	Name string // the language's own name: "Deutsch"
	loc  *i18n.Localizer
	num  *message.Printer
}

// Supported lists the languages with message files, English first.
var Supported = []language.Tag{language.English, language.German, language.French, language.Spanish}

var names = map[language.Tag]string{language.English: "English", language.German: "Deutsch", language.French: "Français", language.Spanish: "Español"}

var (
	loadOnce sync.Once
	locales  map[language.Tag]*Locale
	matcher  = language.NewMatcher(Supported)
	loadErr  error
)

// load reads every message file once.
func load() {
	b := i18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("yaml", yaml.Unmarshal)
	files, err := fs.Glob(FS, "locales/*.yaml")
	if err != nil {
		loadErr = err
		return
	}
	sort.Strings(files)
	for _, f := range files {
		data, err := fs.ReadFile(FS, f)
		if err != nil {
			loadErr = err
			return
		}
		// area.language.yaml: go-i18n reads the language from the name.
		if _, err := b.ParseMessageFileBytes(data, path.Base(f)); err != nil {
			loadErr = fmt.Errorf("templates: %s: %w", f, err)
			return
		}
	}
	locales = map[language.Tag]*Locale{}
	for _, t := range Supported {
		locales[t] = &Locale{Tag: t, Name: names[t], loc: i18n.NewLocalizer(b, t.String()), num: message.NewPrinter(t)}
	}
}

// Check reports a message file that does not parse.
func Check() error {
	loadOnce.Do(load)
	return loadErr
}

// Locales returns the supported locales, English first.
func Locales() []*Locale {
	loadOnce.Do(load)
	out := make([]*Locale, 0, len(Supported))
	for _, t := range Supported {
		out = append(out, locales[t])
	}
	return out
}

// English is the locale of last resort.
func English() *Locale { return LocaleFor("en") }

// LocaleFor returns the supported locale closest to a BCP 47 tag
// ("de-CH" gives German); English when none is close.
func LocaleFor(tag string) *Locale {
	loadOnce.Do(load)
	if locales == nil {
		return &Locale{Tag: language.English, Name: "English", num: message.NewPrinter(language.English)}
	}
	t, err := language.Parse(tag)
	if err != nil {
		return locales[language.English]
	}
	_, i, conf := matcher.Match(t)
	if conf == language.No {
		return locales[language.English]
	}
	return locales[Supported[i]]
}

// Negotiate picks the visitor's locale: the one they chose (a cookie's
// value), else the best match for their Accept-Language, else English.
func Negotiate(chosen, acceptLanguage string) *Locale {
	loadOnce.Do(load)
	if chosen != "" {
		if t, err := language.Parse(chosen); err == nil {
			if _, ok := locales[t]; ok {
				return locales[t]
			}
		}
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 || locales == nil {
		return LocaleFor("en")
	}
	_, i, conf := matcher.Match(tags...)
	if conf == language.No {
		return locales[language.English]
	}
	return locales[Supported[i]]
}

// FromRequest negotiates the locale of a request; cookie names the cookie
// that holds a chosen language.
func FromRequest(r *http.Request, cookie string) *Locale {
	chosen := ""
	if c, err := r.Cookie(cookie); err == nil {
		chosen = c.Value
	}
	return Negotiate(chosen, r.Header.Get("Accept-Language"))
}

// Code is the locale's BCP 47 tag ("de").
func (l *Locale) Code() string { return l.Tag.String() }

// T translates an English text and fills it with kv: pairs of a field
// name and its value ("Names", "a.txt").
func (l *Locale) T(text string, kv ...any) string {
	return l.localize(&i18n.Message{ID: text, Other: text}, nil, kv)
}

// N translates a text with a count in it: one is the English singular,
// other the plural and the message id. {{.Count}} is n, formatted for
// the language.
func (l *Locale) N(one, other string, n int, kv ...any) string {
	return l.localize(&i18n.Message{ID: other, One: one, Other: other}, n, append(kv, "Count", l.Number(n)))
}

func (l *Locale) localize(m *i18n.Message, count any, kv []any) string {
	data := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		if k, ok := kv[i].(string); ok {
			data[k] = kv[i+1]
		}
	}
	if l.loc == nil {
		return m.Other
	}
	out, err := l.loc.Localize(&i18n.LocalizeConfig{DefaultMessage: m, TemplateData: data, PluralCount: count})
	if err != nil && l.Tag != language.English {
		// A broken translation falls back to the English text.
		return English().localize(m, count, kv)
	}
	if err != nil {
		return m.Other
	}
	return out
}

// Number formats n with the language's digit grouping.
func (l *Locale) Number(n int) string { return l.num.Sprintf("%d", n) }

// Size formats a byte count in binary units: "12 B", "56.0 KiB" (in
// German "56,0 KiB").
func (l *Locale) Size(n int64) string {
	const unit = 1024
	if n < unit {
		return l.T("{{.N}} B", "N", l.num.Sprintf("%d", n))
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return l.num.Sprintf("%.1f", float64(n)/float64(div)) + " " + string("KMGTPE"[exp]) + "iB"
}

// Date formats a moment in UTC as the language writes dates: "13 Dec 2026,
// 09:41 UTC"; pages show it in the visitor's own time zone with a script.
func (l *Locale) Date(t time.Time) string {
	t = t.UTC()
	months := strings.Fields(l.T("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec"))
	month := t.Month().String()[:3]
	if len(months) == 12 {
		month = months[t.Month()-1]
	}
	return l.T("{{.Day}} {{.Month}} {{.Year}}, {{.Time}} UTC", "Day", t.Day(), "Month", month, "Year", t.Year(), "Time", t.Format("15:04"))
}

// Duration says how far off d is in the largest whole unit: "6 days",
// "5 hours", "12 minutes".
func (l *Locale) Duration(d time.Duration) string {
	switch {
	case d >= 24*time.Hour:
		return l.N("{{.Count}} day", "{{.Count}} days", int(d/(24*time.Hour)))
	case d >= time.Hour:
		return l.N("{{.Count}} hour", "{{.Count}} hours", int(d/time.Hour))
	default:
		return l.N("{{.Count}} minute", "{{.Count}} minutes", max(1, int(d/time.Minute)))
	}
}

var placeholder = regexp.MustCompile(`\{\{\.(\w+)\}\}`)

// Strings gives a page script its sentences in the locale's language,
// keyed by their English text: a string, or for a plural (a pair of
// English singular and plural) its "one" and "other" forms. Placeholders
// such as {{.Name}} stay for the script to fill.
func (l *Locale) Strings(texts []string, plurals [][2]string) map[string]any {
	out := make(map[string]any, len(texts)+len(plurals))
	keep := func(text string) []any {
		var kv []any
		for _, m := range placeholder.FindAllStringSubmatch(text, -1) {
			kv = append(kv, m[1], "{{."+m[1]+"}}")
		}
		return kv
	}
	for _, t := range texts {
		out[t] = l.T(t, keep(t)...)
	}
	for _, p := range plurals {
		m := &i18n.Message{ID: p[1], One: p[0], Other: p[1]}
		kv := keep(p[0] + p[1])
		out[p[1]] = map[string]string{"one": l.localize(m, 1, kv), "other": l.localize(m, 2, kv)}
	}
	return out
}
