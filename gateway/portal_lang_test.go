package gateway_test

import (
	"net/http"
	"strings"
	"testing"
)

// Accept-Language picks the page's language; the switcher's choice, kept
// in a cookie, wins over it; the dead page follows both.
func TestPortal_Languages(t *testing.T) {
	t.Parallel()
	e := newPortalEnv(t, portalCheapPasswords)
	f := e.upload("/lang", "bericht.txt", []byte("zwölf Bytes!"))
	g := e.upload("/lang", "zwei.txt", []byte("2"))
	l := e.createLinks(map[string]any{"targets": []string{f.ID, g.ID}, "authenticators": []any{pw(goodPassword)}})[0]
	base := e.base(l)
	v := e.visitor()

	de := v.Get(base, "Accept-Language", "de-DE,de;q=0.9,en;q=0.5")
	if html := de.First("html"); html == nil || html.Attr("lang") != "de" || de.Header.Get("Content-Language") != "de" {
		t.Fatalf("Accept-Language de: the page is not German: %s", de)
	}
	if got := de.First(`label[for="password-0"]`).Text(); got != "Passwort" {
		t.Errorf("German password label: %q", got)
	}
	if got := de.First("h1").Text(); got != "Mit Ihnen geteilte Dateien" {
		t.Errorf("German heading: %q", got)
	}
	if got := v.Get(base, "Accept-Language", "ja, es;q=0.5").First(`label[for="password-0"]`).Text(); got != "Contraseña" {
		t.Errorf("Accept-Language ja then es: %q, want Spanish", got)
	}
	if got := v.Get(base, "Accept-Language", "ja").First("html").Attr("lang"); got != "en" {
		t.Errorf("Accept-Language ja: lang %q, want en", got)
	}

	// The switcher: ?lang=fr keeps the choice and returns to the page.
	sw := de.First(`nav.langs a[hreflang="fr"]`)
	if sw == nil || sw.Text() != "Français" || de.First(`nav.langs [aria-current]`).Text() != "Deutsch" {
		t.Fatalf("the switcher: %s", de.First("footer").Text())
	}
	r := v.Get(sw.Attr("href"), "Accept-Language", "de")
	if r.Code != http.StatusSeeOther || r.Header.Get("Location") != base {
		t.Fatalf("switch to French: %s", r)
	}
	fr := v.Get(base, "Accept-Language", "de")
	if got := fr.First(`label[for="password-0"]`).Text(); got != "Mot de passe" {
		t.Errorf("after choosing French: %q", got)
	}

	// Signed in, in French: sizes, counts and dates the French way.
	v.signIn(l, goodPassword)
	p := v.Get(base, "Accept-Language", "de")
	facts := p.First(".facts").Text()
	for _, want := range []string{"2 fichiers, 14 B", "disponible jusqu’au", "encore 7 jours"} {
		if !strings.Contains(facts, want) {
			t.Errorf("French facts %q lack %q", facts, want)
		}
	}
	if zip := p.First("a.button.primary"); zip == nil || zip.Text() != "Tout télécharger (2 fichiers, 14 B)" {
		t.Errorf("French download button: %v", zip)
	}

	// The dead page speaks the visitor's language too.
	dead := e.visitor().Get("/s/"+strings.Repeat("A", 43), "Accept-Language", "es")
	if dead.Code != http.StatusNotFound || dead.First("h1").Text() != "Este enlace no está disponible" || dead.First("html").Attr("lang") != "es" {
		t.Errorf("Spanish dead page: %s", dead)
	}
}
