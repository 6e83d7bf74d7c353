package notify

import (
	"fmt"
	htmltemplate "html/template"
	"net/url"
	texttemplate "text/template"

	"golang.org/x/text/language"

	"github.com/sesame-share/sesame/templates"
)

// brand is how the operator's product appears in every email: its name,
// the colour of buttons and an optional logo (an absolute URL, since a
// mail client has no base to resolve a path against).
type brand struct {
	Product, Accent, LogoURL string
}

// checkLogoURL accepts "" or an absolute http(s) URL.
func checkLogoURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("notify: logo URL %q must be an absolute http(s) URL", s)
	}
	return nil
}

// ParseLanguage checks a BCP 47 tag ("de", "pt-BR") and returns it in
// canonical form; ok is false for a tag that is ill-formed or names an
// unknown language.
func ParseLanguage(s string) (tag string, ok bool) {
	if s == "" || len(s) > 35 {
		return "", false
	}
	t, err := language.Parse(s)
	if err != nil {
		return "", false
	}
	return t.String(), true
}

// emailSet is every template of a link email in one language: the text
// part (which also defines the "subject" and "from" headers) and the HTML
// part inside the shared branded layout.
type emailSet struct {
	lang string // the language the templates speak
	text *texttemplate.Template
	html *htmltemplate.Template
}

// htmlFuncs are the HTML part's functions in one language: the shared
// ones, and sender, the sender in bold with their address after it.
func htmlFuncs(l *templates.Locale) map[string]any {
	f := templates.HTMLFuncs(l)
	f["sender"] = func(name, email string) htmltemplate.HTML {
		if name == "" {
			return htmltemplate.HTML("<strong>" + htmltemplate.HTMLEscapeString(email) + "</strong>")
		}
		who := "<strong>" + htmltemplate.HTMLEscapeString(name) + "</strong>"
		if email != "" {
			who += " (" + htmltemplate.HTMLEscapeString(email) + ")"
		}
		return htmltemplate.HTML(who)
	}
	return f
}

// parseEmailSet parses messages/<name>.txt and messages/<name>.html with
// the shared layout, their sentences, dates and sizes in l's language.
func parseEmailSet(l *templates.Locale, name string) (*emailSet, error) {
	t, err := texttemplate.New(name).Funcs(templates.TextFuncs(l)).ParseFS(templates.FS, "messages/email_layout.txt", "messages/"+name+".txt")
	if err != nil {
		return nil, fmt.Errorf("notify: parse %s text: %w", name, err)
	}
	h, err := htmltemplate.New(name).Funcs(htmlFuncs(l)).ParseFS(templates.FS, "messages/email_layout.html", "messages/"+name+".html")
	if err != nil {
		return nil, fmt.Errorf("notify: parse %s html: %w", name, err)
	}
	return &emailSet{lang: l.Code(), text: t, html: h}, nil
}

// emailSets holds a message's templates in every supported language.
type emailSets map[string]*emailSet

// newEmailSets parses the templates of a message once per language, so
// that no template's funcs change while it is in use.
func newEmailSets(name string) (emailSets, error) {
	if err := templates.Check(); err != nil {
		return nil, err
	}
	sets := emailSets{}
	for _, l := range templates.Locales() {
		set, err := parseEmailSet(l, name)
		if err != nil {
			return nil, err
		}
		sets[l.Code()] = set
	}
	return sets, nil
}

// pick returns the templates of the supported language closest to lang
// (a canonical BCP 47 tag), else those closest to fallback (the default
// language), else English.
func (s emailSets) pick(lang, fallback string) *emailSet {
	if l, ok := templates.Match(lang); ok {
		return s[l.Code()]
	}
	l, _ := templates.Match(fallback) // English when none is close
	return s[l.Code()]
}
