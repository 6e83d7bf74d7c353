package gateway

import (
	htmltemplate "html/template"
	"net/url"
	"regexp"
	"strings"
)

// webAddress finds http and https addresses in a link's message.
var webAddress = regexp.MustCompile(`https?://[^\s<>"'` + "`" + `]+`)

// linkify escapes a sender's message for a page and makes its http and
// https addresses links. The address is the link's text too, so what a
// recipient reads is where it goes; punctuation that ends a sentence stays
// outside the link; anything that is not a well-formed web address with a
// host stays plain text.
func linkify(msg string) htmltemplate.HTML {
	var b strings.Builder
	last := 0
	for _, m := range webAddress.FindAllStringIndex(msg, -1) {
		start, end := m[0], m[1]
		for end > start && strings.ContainsRune(".,;:!?)]}", rune(msg[end-1])) {
			end--
		}
		u, err := url.Parse(msg[start:end])
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			continue
		}
		b.WriteString(htmltemplate.HTMLEscapeString(msg[last:start]))
		addr := htmltemplate.HTMLEscapeString(msg[start:end])
		b.WriteString(`<a href="` + addr + `" rel="noopener noreferrer nofollow" target="_blank">` + addr + `</a>`)
		last = end
	}
	b.WriteString(htmltemplate.HTMLEscapeString(msg[last:]))
	return htmltemplate.HTML(b.String()) // every piece of msg above went through HTMLEscapeString
}
