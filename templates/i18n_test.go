package templates

import (
	"testing"
	"time"
)

func TestNegotiate(t *testing.T) {
	for _, c := range []struct{ chosen, accept, want string }{
		{"", "de-DE,de;q=0.9,en;q=0.8", "de"},
		{"", "fr-CA", "fr"},
		{"", "es-419,es;q=0.9", "es"},
		{"", "ja,zh;q=0.5", "en"},
		{"", "", "en"},
		{"", "not a header", "en"},
		{"es", "de", "es"},
		{"xx-nope", "fr", "fr"},
		{"ja", "de", "de"},
	} {
		if got := Negotiate(c.chosen, c.accept).Code(); got != c.want {
			t.Errorf("Negotiate(%q, %q) = %s, want %s", c.chosen, c.accept, got, c.want)
		}
	}
}

func TestLocaleFormats(t *testing.T) {
	if err := Check(); err != nil {
		t.Fatal(err)
	}
	de, en := LocaleFor("de"), English()
	at := time.Date(2026, 12, 13, 9, 41, 0, 0, time.UTC)
	for _, c := range []struct{ got, want string }{
		{en.Date(at), "13 Dec 2026, 09:41 UTC"},
		{de.Date(at), "13. Dez. 2026, 09:41 UTC"},
		{en.Size(57344), "56.0 KiB"},
		{de.Size(57344), "56,0 KiB"},
		{en.Size(12), "12 B"},
		{en.Number(1234567), "1,234,567"},
		{de.Number(1234567), "1.234.567"},
		{en.Duration(6*24*time.Hour + time.Hour), "6 days"},
		{de.Duration(6*24*time.Hour + time.Hour), "6 Tage"},
		{de.Duration(time.Hour), "1 Stunde"},
		{en.Duration(30 * time.Second), "1 minute"},
		{en.T("No translation for {{.X}}", "X", "this"), "No translation for this"},
		{de.T("No translation for {{.X}}", "X", "this"), "No translation for this"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
