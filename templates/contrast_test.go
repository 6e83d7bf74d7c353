package templates

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// hexColor reads #rrggbb.
func hexColor(t *testing.T, s string) [3]float64 {
	t.Helper()
	if len(s) != 7 || s[0] != '#' {
		t.Fatalf("%q is not a #rrggbb color", s)
	}
	var c [3]float64
	for i := range 3 {
		v, err := strconv.ParseUint(s[1+2*i:3+2*i], 16, 8)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		c[i] = float64(v) / 255
	}
	return c
}

// luminance is WCAG 2's relative luminance.
func luminance(c [3]float64) float64 {
	var l [3]float64
	for i, v := range c {
		if v <= 0.04045 {
			l[i] = v / 12.92
		} else {
			l[i] = math.Pow((v+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*l[0] + 0.7152*l[1] + 0.0722*l[2]
}

func contrast(a, b [3]float64) float64 {
	la, lb := luminance(a), luminance(b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

// palette is one colour scheme's custom properties, by name without the
// leading "--".
type palette map[string]string

var (
	rootBlock   = regexp.MustCompile(`:root \{([^}]*)\}`)
	customProp  = regexp.MustCompile(`--([a-z-]+): ([^;]+);`)
	darkMedia   = regexp.MustCompile(`@media \(prefers-color-scheme: dark\) \{\s*:root \{([^}]*)\}`)
	colorMix    = regexp.MustCompile(`^color-mix\(in srgb, (.+) (\d+)%, (.+)\)$`)
	cssComment  = regexp.MustCompile(`(?s)/\*.*?\*/`)
	hexLiteral  = regexp.MustCompile(`#[0-9a-fA-F]{3,8}\b`)
	varUse      = regexp.MustCompile(`var\(--([a-z-]+)\)`)
	mediaBlocks = regexp.MustCompile(`(?s)@media [^{]*\{.*?\}\s*\}`)
)

// palettes reads portal.css's light palette (the :root blocks outside any
// @media) and its dark one (the :root inside @media (prefers-color-scheme:
// dark), over the light one).
func palettes(t *testing.T, css string) (light, dark palette) {
	t.Helper()
	light, dark = palette{}, palette{}
	top := mediaBlocks.ReplaceAllString(css, "")
	roots := rootBlock.FindAllStringSubmatch(top, -1)
	if roots == nil {
		t.Fatal("portal.css has no :root block")
	}
	for _, r := range roots {
		for _, m := range customProp.FindAllStringSubmatch(r[1], -1) {
			light[m[1]], dark[m[1]] = strings.TrimSpace(m[2]), strings.TrimSpace(m[2])
		}
	}
	d := darkMedia.FindStringSubmatch(css)
	if d == nil {
		t.Fatal("portal.css has no @media (prefers-color-scheme: dark) block starting with :root")
	}
	for _, m := range customProp.FindAllStringSubmatch(d[1], -1) {
		dark[m[1]] = strings.TrimSpace(m[2])
	}
	return light, dark
}

// color resolves a CSS colour value as the browser would: #rrggbb, var(--x)
// and color-mix(in srgb, a p%, b). accent stands for --accent, which
// /static/brand.css sets from the configuration.
func (p palette) color(t *testing.T, v, accent string) [3]float64 {
	t.Helper()
	v = strings.TrimSpace(v)
	if name, ok := strings.CutPrefix(v, "var(--"); ok {
		name = strings.TrimSuffix(name, ")")
		if name == "accent" {
			return hexColor(t, accent)
		}
		def, ok := p[name]
		if !ok {
			t.Fatalf("--%s is not defined", name)
		}
		return p.color(t, def, accent)
	}
	if m := colorMix.FindStringSubmatch(v); m != nil {
		a, b := p.color(t, m[1], accent), p.color(t, m[3], accent)
		w, _ := strconv.Atoi(m[2])
		f := float64(w) / 100
		var c [3]float64
		for i := range c {
			c[i] = f*a[i] + (1-f)*b[i]
		}
		return c
	}
	if v == "#fff" {
		v = "#ffffff"
	}
	return hexColor(t, v)
}

// TestPortalCSSContrast checks the recipient pages' colours against WCAG
// 2.2 AA in the light and the dark scheme: text at 4.5:1 on every
// background it is drawn on (1.4.3), and the focus ring and the borders of
// inputs at 3:1 against the page and cards (1.4.11). In dark mode text and
// the ring use --accent-text, derived from the brand colour; it is checked
// for the default accent and for black, the darkest a brand can choose,
// which bounds every other. Light mode uses the accent as configured, so
// there it is checked for the default.
func TestPortalCSSContrast(t *testing.T) {
	b, err := FS.ReadFile("static/portal.css")
	if err != nil {
		t.Fatal(err)
	}
	css := string(b)
	light, dark := palettes(t, css)

	focus := regexp.MustCompile(`a:focus[^{]*\{ outline: (\d+)px solid ([^;]+);`).FindStringSubmatch(css)
	if focus == nil {
		t.Fatal("portal.css has no focus rule with a solid outline")
	}
	if w, _ := strconv.Atoi(focus[1]); w < 2 {
		t.Errorf("focus outline %spx wide, want at least 2px", focus[1])
	}

	// Each pair is a foreground drawn on a background somewhere on the
	// pages, and the ratio it needs.
	pairs := []struct {
		what   string
		fg, bg string
		min    float64
	}{
		{"text on the page", "var(--ink)", "var(--bg)", 4.5},
		{"text on a card", "var(--ink)", "var(--surface)", 4.5},
		{"text in a notice", "var(--ink)", "var(--info-bg)", 4.5},
		{"muted text on the page (footer)", "var(--muted)", "var(--bg)", 4.5},
		{"muted text on a card (hints, table headings)", "var(--muted)", "var(--surface)", 4.5},
		{"links on a card", "var(--accent-text)", "var(--surface)", 4.5},
		{"links on the page", "var(--accent-text)", "var(--bg)", 4.5},
		{"an error on its background", "var(--danger)", "var(--danger-bg)", 4.5},
		{"an error on a card (failed upload)", "var(--danger)", "var(--surface)", 4.5},
		{"a finished upload on a card", "var(--ok)", "var(--surface)", 4.5},
		{"a primary button's label", "var(--on-fill)", "var(--accent)", 4.5},
		{"a Delete button's label", "var(--on-fill)", "var(--danger-fill)", 4.5},
		{"the focus ring on a card", focus[2], "var(--surface)", 3},
		{"the focus ring on the page", focus[2], "var(--bg)", 3},
		{"an input's border on a card", "var(--control)", "var(--surface)", 3},
		{"an input's border on the page", "var(--control)", "var(--bg)", 3},
	}
	schemes := []struct {
		name    string
		p       palette
		accents []string
	}{
		{"light", light, []string{light["accent"]}},
		{"dark", dark, []string{light["accent"], "#000000"}},
	}
	for _, s := range schemes {
		for _, accent := range s.accents {
			for _, pr := range pairs {
				if pr.bg == "var(--accent)" && accent != light["accent"] {
					continue // white on a brand fill is the brand's choice
				}
				if r := contrast(s.p.color(t, pr.fg, accent), s.p.color(t, pr.bg, accent)); r < pr.min {
					t.Errorf("%s, accent %s: %s (%s on %s) is %.2f:1, want at least %.1f:1", s.name, accent, pr.what, pr.fg, pr.bg, r, pr.min)
				}
			}
		}
	}

	// Every colour in a rule comes from the palettes, so the pairs above
	// see it in both schemes.
	rules := rootBlock.ReplaceAllString(cssComment.ReplaceAllString(css, ""), "")
	for _, h := range hexLiteral.FindAllString(rules, -1) {
		t.Errorf("portal.css uses the colour %s outside :root; give it a custom property with a dark value", h)
	}
	for _, m := range varUse.FindAllStringSubmatch(css, -1) {
		if _, ok := light[m[1]]; !ok {
			t.Errorf("portal.css uses var(--%s), which no :root block defines", m[1])
		}
	}

	phone := regexp.MustCompile(`@media \(max-width: 600px\) \{[^\n]*input\[type=checkbox\] \{ width: (\d+)px; height: (\d+)px; \}`).FindStringSubmatch(css)
	if phone == nil {
		t.Fatal("portal.css sets no checkbox size for phones")
	}
	if w, _ := strconv.Atoi(phone[1]); w < 24 {
		t.Errorf("checkboxes on phones are %spx wide, want at least 24px (WCAG 2.5.8)", phone[1])
	}
}
