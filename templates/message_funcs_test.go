package templates

import (
	htmltemplate "html/template"
	"testing"
	"time"
)

// In HTML, t escapes the sentence and its plain values and keeps the
// markup of strong values, wherever the translation puts them; a plain
// value cannot pose as one.
func TestHTMLFuncs_Markup(t *testing.T) {
	en, de := HTMLFuncs(English()), HTMLFuncs(LocaleFor("de"))
	tr := func(f map[string]any, text string, kv ...any) string {
		return string(f["t"].(func(string, ...any) htmltemplate.HTML)(text, kv...))
	}
	strong := en["strong"].(func(string) htmltemplate.HTML)
	for _, c := range []struct{ got, want string }{
		{tr(en, "{{.Sender}} shared “{{.Name}}” with you", "Sender", strong("Eve & <Co>"), "Name", "<i>Q3</i>"),
			"<strong>Eve &amp; &lt;Co&gt;</strong> shared “&lt;i&gt;Q3&lt;/i&gt;” with you"},
		{tr(de, "{{.Sender}} shared “{{.Name}}” with you", "Sender", strong("Eve"), "Name", "Q3"),
			"<strong>Eve</strong> hat „Q3“ mit Ihnen geteilt"},
		{tr(en, "{{.Sender}} shared “{{.Name}}” with you", "Sender", strong("Eve"), "Name", "\ue0000\ue000"),
			"<strong>Eve</strong> shared “0” with you"},
		{tr(en, "No {{.X}} here & there", "X", "<b>"), "No &lt;b&gt; here &amp; there"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestLongDate(t *testing.T) {
	at := time.Date(2026, 12, 13, 9, 41, 0, 0, time.FixedZone("CET", 3600))
	first := time.Date(2030, 3, 1, 17, 5, 0, 0, time.UTC)
	for _, c := range []struct{ got, want string }{
		{English().LongDate(at), "Sunday 13 December 2026, 08:41 UTC"},
		{LocaleFor("de").LongDate(at), "Sonntag, 13. Dezember 2026, 08:41 UTC"},
		{LocaleFor("fr").LongDate(at), "dimanche 13 décembre 2026 à 08:41 UTC"},
		{LocaleFor("fr").LongDate(first), "vendredi 1er mars 2030 à 17:05 UTC"},
		{LocaleFor("es").LongDate(at), "domingo, 13 de diciembre de 2026, 08:41 UTC"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		tag, want string
		ok        bool
	}{{"de-AT", "de", true}, {"fr-CA", "fr", true}, {"es-419", "es", true}, {"en-GB", "en", true}, {"ja", "en", false}, {"", "en", false}, {"!!", "en", false}} {
		l, ok := Match(c.tag)
		if l.Code() != c.want || ok != c.ok {
			t.Errorf("Match(%q) = %s, %v; want %s, %v", c.tag, l.Code(), ok, c.want, c.ok)
		}
	}
}
