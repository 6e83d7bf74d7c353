package gateway

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/sesame-share/sesame/templates"
)

// flashes maps the codes redirects carry to the sentences they show; %s
// is the item's name. The name travels in the URL under a MAC bound to the
// visitor's session, so a crafted URL cannot put words on anyone's page.
var flashes = map[string]string{
	"uploaded": "Uploaded {{.Names}}.",
	"renamed":  "Renamed to “{{.Name}}”.",
	"deleted":  "Deleted “{{.Name}}”.",
	"created":  "Created the folder “{{.Name}}”.",
	"none":     "Tick the files or folders you want first.",
}

// flashKinds marks the flashes that report a mistake.
var flashKinds = map[string]string{"none": "error"}

// flashURL is to with the flash code and the item name it names.
func (s *Server) flashURL(p *portal, to, code, name string) string {
	q := url.Values{"done": {code}}
	if name != "" {
		q.Set("n", name)
		q.Set("sig", s.flashMAC(p, code, name))
	}
	sep := "?"
	if strings.Contains(to, "?") {
		sep = "&"
	}
	return to + sep + q.Encode()
}

func (s *Server) flashMAC(p *portal, code, name string) string {
	h := hmac.New(sha256.New, s.cfg.Portal.CSRFKey)
	h.Write([]byte("flash\x00" + p.Secret + "\x00" + code + "\x00" + name))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:16])
}

// flashOf reads the flash a redirect carries: its sentence and kind. A
// name whose MAC does not match is left out, and so is its sentence.
func (s *Server) flashOf(c *gin.Context, p *portal) (string, string) {
	code := c.Query("done")
	text, ok := flashes[code]
	if !ok {
		return "", ""
	}
	loc := s.locale(c)
	if !strings.Contains(text, "{{") {
		return loc.T(text), flashKinds[code]
	}
	name := c.Query("n")
	if name == "" || !hmac.Equal([]byte(c.Query("sig")), []byte(s.flashMAC(p, code, name))) {
		return "", ""
	}
	// Several names (an upload) travel one per line.
	return loc.T(text, "Name", name, "Names", namesText(loc, strings.Split(name, "\n"))), flashKinds[code]
}

// namesText names up to three items: "“a.txt”", "“a.txt” and “b.txt”",
// "“a.txt”, “b.txt”, “c.txt” and 2 more".
func namesText(l *templates.Locale, names []string) string {
	quoted := make([]string, 0, 3)
	for _, n := range names[:min(3, len(names))] {
		quoted = append(quoted, l.T("“{{.Name}}”", "Name", n))
	}
	switch rest := len(names) - len(quoted); {
	case rest > 0:
		return l.N("{{.List}} and {{.Count}} more", "{{.List}} and {{.Count}} more", rest, "List", strings.Join(quoted, ", "))
	case len(quoted) > 1:
		return l.T("{{.List}} and {{.Last}}", "List", strings.Join(quoted[:len(quoted)-1], ", "), "Last", quoted[len(quoted)-1])
	}
	return strings.Join(quoted, "")
}
