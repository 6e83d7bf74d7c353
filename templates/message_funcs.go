package templates

import (
	htmltemplate "html/template"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"
)

// Match returns the supported locale closest to a BCP 47 tag, and false
// when none is close ("ja"), so that the caller can choose its own
// default rather than English.
func Match(tag string) (*Locale, bool) {
	loadOnce.Do(load)
	t, err := language.Parse(tag)
	if err != nil || locales == nil {
		return English(), false
	}
	_, i, conf := matcher.Match(t)
	if conf == language.No {
		return English(), false
	}
	return locales[Supported[i]], true
}

// LongDate writes a moment in UTC in full, as a letter would: "Sunday 13
// December 2026, 09:41 UTC" ("Sonntag, 13. Dezember 2026, 09:41 UTC").
// Emails use it: unlike a page, they cannot show the reader's own time.
func (l *Locale) LongDate(t time.Time) string {
	t = t.UTC()
	weekday, month := t.Weekday().String(), t.Month().String()
	if days := strings.Fields(l.T("Sunday Monday Tuesday Wednesday Thursday Friday Saturday")); len(days) == 7 {
		weekday = days[t.Weekday()]
	}
	if months := strings.Fields(l.T("January February March April May June July August September October November December")); len(months) == 12 {
		month = months[t.Month()-1]
	}
	return l.T("{{.Weekday}} {{.Day}} {{.Month}} {{.Year}}, {{.Time}} UTC",
		"Weekday", weekday, "Day", t.Day(), "Month", month, "Year", t.Year(), "Time", t.Format("15:04"))
}

// TextFuncs are the functions plain-text messages (email text parts,
// subjects, SMS) use, bound to one locale:
//
//	{{t "Sent by {{.Product}}." "Product" .Brand.Product}}
//	{{n "{{.Count}} file" "{{.Count}} files" .Count}}
//	{{size .Total}} {{date .Expires}} {{number .More}}
//
// A template is parsed once per locale with these; never swap the funcs
// of a template in use.
func TextFuncs(l *Locale) map[string]any {
	return map[string]any{
		"t":      l.T,
		"n":      l.N,
		"size":   l.Size,
		"date":   l.LongDate,
		"number": l.Number,
	}
}

// sentinel stands for a piece of markup while a sentence is translated
// and escaped; it is a private-use character no translation contains.
const sentinel = '\uE000'

// HTMLFuncs are TextFuncs for HTML messages. There t and n escape the
// translated sentence themselves and return it as HTML, so that a value
// made by strong (a name in bold) keeps its markup inside the sentence
// wherever the language puts it; every other value is escaped.
func HTMLFuncs(l *Locale) map[string]any {
	f := TextFuncs(l)
	f["t"] = func(text string, kv ...any) htmltemplate.HTML {
		kv, marks := markup(kv)
		return unmark(l.T(text, kv...), marks)
	}
	f["n"] = func(one, other string, n int, kv ...any) htmltemplate.HTML {
		kv, marks := markup(kv)
		return unmark(l.N(one, other, n, kv...), marks)
	}
	f["strong"] = func(s string) htmltemplate.HTML {
		return htmltemplate.HTML("<strong>" + htmltemplate.HTMLEscapeString(s) + "</strong>")
	}
	return f
}

// markup replaces each HTML value in kv by a numbered sentinel and
// returns the markup; plain strings lose any sentinel they hold.
func markup(kv []any) ([]any, []htmltemplate.HTML) {
	out := make([]any, len(kv))
	var marks []htmltemplate.HTML
	for i, v := range kv {
		switch v := v.(type) {
		case htmltemplate.HTML:
			out[i] = string(sentinel) + strconv.Itoa(len(marks)) + string(sentinel)
			marks = append(marks, v)
		case string:
			out[i] = strings.ReplaceAll(v, string(sentinel), "")
		default:
			out[i] = v
		}
	}
	return out, marks
}

// unmark escapes a translated sentence and puts the markup back.
func unmark(s string, marks []htmltemplate.HTML) htmltemplate.HTML {
	s = htmltemplate.HTMLEscapeString(s)
	for i, m := range marks {
		s = strings.ReplaceAll(s, string(sentinel)+strconv.Itoa(i)+string(sentinel), string(m))
	}
	return htmltemplate.HTML(s)
}
