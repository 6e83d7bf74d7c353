package notify

import (
	"fmt"
	htmltemplate "html/template"
	"net/url"
	texttemplate "text/template"
	"time"

	"golang.org/x/text/language"

	"github.com/sesame-share/sesame"
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
	lang string // the language the templates are written in
	text *texttemplate.Template
	html *htmltemplate.Template
}

// englishFuncs format values inside English emails; a translation brings
// its own, for its dates and numbers.
var englishFuncs = map[string]any{
	"size": sesame.HumanSize,
	"date": func(t time.Time) string { return t.UTC().Format("Monday 2 January 2006, 15:04 UTC") },
}

// parseEmailSet parses messages/<name>.txt and messages/<name>.html with
// the shared layout.
func parseEmailSet(lang, name string, funcs map[string]any) (*emailSet, error) {
	t, err := texttemplate.New(name).Funcs(funcs).ParseFS(templates.FS, "messages/email_layout.txt", "messages/"+name+".txt")
	if err != nil {
		return nil, fmt.Errorf("notify: parse %s text: %w", name, err)
	}
	h, err := htmltemplate.New(name).Funcs(funcs).ParseFS(templates.FS, "messages/email_layout.html", "messages/"+name+".html")
	if err != nil {
		return nil, fmt.Errorf("notify: parse %s html: %w", name, err)
	}
	return &emailSet{lang: lang, text: t, html: h}, nil
}

// emailSets holds a message's templates in every language written so far
// and picks one for a requested language.
type emailSets struct {
	sets    []*emailSet
	matcher language.Matcher
}

// newEmailSets parses the templates of a message. Only English exists
// yet; a translation adds its language here, with its own templates and
// funcs, and pick finds it.
func newEmailSets(name string) (*emailSets, error) {
	en, err := parseEmailSet("en", name, englishFuncs)
	if err != nil {
		return nil, err
	}
	return &emailSets{sets: []*emailSet{en}, matcher: language.NewMatcher([]language.Tag{language.English})}, nil
}

// pick returns the templates closest to lang (a canonical BCP 47 tag),
// English when there is nothing closer.
func (s *emailSets) pick(lang string) *emailSet {
	t, err := language.Parse(lang)
	if err != nil {
		return s.sets[0]
	}
	_, i, _ := s.matcher.Match(t)
	return s.sets[i]
}
