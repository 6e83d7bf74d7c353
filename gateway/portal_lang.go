package gateway

import (
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/templates"
)

const ctxLocale = "sesame.locale"

// langChoice is one entry of the language switcher.
type langChoice struct {
	Code, Name, URL string
	Current         bool
}

// locale is the visitor's language: the one they chose with the switcher
// (a cookie), else their browser's Accept-Language, else English.
func (s *Server) locale(c *gin.Context) *templates.Locale {
	if l, ok := c.Get(ctxLocale); ok {
		return l.(*templates.Locale)
	}
	l := templates.FromRequest(c.Request, s.cookieName("lang", ""))
	c.Set(ctxLocale, l)
	return l
}

// t translates an English text into the visitor's language.
func (s *Server) t(c *gin.Context, text string, kv ...any) string { return s.locale(c).T(text, kv...) }

// say is an error's message in the visitor's language.
func (s *Server) say(c *gin.Context, e *sesame.Error) string {
	if e.Text != "" {
		return s.t(c, e.Text, e.Data...)
	}
	return s.t(c, e.Message)
}

// langChoices links each language to the page in that language: this
// page for a GET, the link's first page after a form.
func (s *Server) langChoices(c *gin.Context, b *pageBase) []langChoice {
	var out []langChoice
	for _, l := range templates.Locales() {
		q := url.Values{}
		target := b.Base
		if c.Request.Method == http.MethodGet {
			q = c.Request.URL.Query()
			target = c.Request.URL.Path
		}
		if target == "" {
			return nil
		}
		q.Set("lang", l.Code())
		out = append(out, langChoice{Code: l.Code(), Name: l.Name, URL: target + "?" + q.Encode(), Current: l.Tag == b.L.Tag})
	}
	return out
}

// switchLanguage answers a GET carrying ?lang=: it keeps the choice in a
// cookie for a year and sends the visitor back to the page without it.
// It reports whether it answered.
func (s *Server) switchLanguage(c *gin.Context) bool {
	code, ok := c.GetQuery("lang")
	if !ok || c.Request.Method != http.MethodGet {
		return false
	}
	for _, l := range templates.Locales() {
		if l.Code() == code {
			s.setCookie(c, s.cookieName("lang", ""), code, int((365 * 24 * time.Hour).Seconds()))
		}
	}
	q := c.Request.URL.Query()
	q.Del("lang")
	to := c.Request.URL.Path
	if len(q) > 0 {
		to += "?" + q.Encode()
	}
	c.Redirect(http.StatusSeeOther, to)
	c.Abort()
	return true
}

// The sentences of the upload queue (portal.js) and the PDF viewer
// (viewer.js), which the server hands them in the page's language.
var (
	uploadStrings = []string{"Show the new files", "Sending {{.Name}}", "Waiting", "Retry", "Retry {{.Name}}", "Starting",
		"The server refused it ({{.Status}}).", "The connection failed.", "Sent", "Sent, saved as “{{.Name}}”", "Not sent: {{.Reason}}"}
	uploadPlurals = [][2]string{
		{"{{.Count}} file sent — you can close this page.", "{{.Count}} files sent — you can close this page."},
		{"{{.Count}} file sent.", "{{.Count}} files sent."},
		{"{{.Count}} file could not be sent. Use Retry to try it again.", "{{.Count}} files could not be sent. Use Retry to try them again."},
	}
	viewerStrings = []string{"Page {{.N}} of {{.Count}}"}
)
