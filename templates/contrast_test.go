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

// TestPortalCSSContrast checks the recipient pages' colours against WCAG
// 2.1 AA: muted text (the footer, hints, table headings) at 4.5:1 on the
// page and on cards, and the focus ring, a solid colour, at 3:1 against
// both (1.4.11).
func TestPortalCSSContrast(t *testing.T) {
	b, err := FS.ReadFile("static/portal.css")
	if err != nil {
		t.Fatal(err)
	}
	css := string(b)
	vars := map[string]string{}
	root := regexp.MustCompile(`:root \{([^}]*)\}`).FindStringSubmatch(css)
	if root == nil {
		t.Fatal("portal.css has no :root block")
	}
	for _, m := range regexp.MustCompile(`--([a-z]+): (#[0-9a-f]{6})`).FindAllStringSubmatch(root[1], -1) {
		vars[m[1]] = m[2]
	}
	color := func(v string) [3]float64 {
		if name, ok := strings.CutPrefix(v, "var(--"); ok {
			v = vars[strings.TrimSuffix(name, ")")]
		}
		return hexColor(t, v)
	}
	white, page := hexColor(t, "#ffffff"), color("var(--bg)")
	for _, bg := range []struct {
		name string
		c    [3]float64
	}{{"the page", page}, {"a card", white}} {
		if r := contrast(color("var(--muted)"), bg.c); r < 4.5 {
			t.Errorf("muted text on %s: %.2f:1, want at least 4.5:1", bg.name, r)
		}
	}
	focus := regexp.MustCompile(`a:focus[^{]*\{ outline: (\d+)px solid ([^;]+);`).FindStringSubmatch(css)
	if focus == nil {
		t.Fatal("portal.css has no focus rule with a solid outline")
	}
	if w, _ := strconv.Atoi(focus[1]); w < 2 {
		t.Errorf("focus outline %spx wide, want at least 2px", focus[1])
	}
	ring := color(focus[2])
	for _, bg := range [][3]float64{white, page} {
		if r := contrast(ring, bg); r < 3 {
			t.Errorf("focus ring %s: %.2f:1 against its background, want at least 3:1", focus[2], r)
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
