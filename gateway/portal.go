package gateway

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/templates"
)

// PortalConfig carries what the recipient pages need: the core service
// that decides every rule, the CSRF key and the branding.
type PortalConfig struct {
	Service *sesame.PortalService
	// CSRFKey keys the CSRF tokens of every form.
	CSRFKey []byte
	// Branding.
	Product, Accent, LogoURL string
}

type brand struct {
	Product, LogoURL string
}

// pageBase is what every recipient page shows.
type pageBase struct {
	Brand    brand
	Base     string // "/s/<token>"
	CSRF     string
	Nonce    string
	SignedIn bool
	// L is the visitor's language, Langs the switcher's choices, and
	// Strings the sentences of the page's scripts in that language.
	L       *templates.Locale
	Langs   []langChoice
	Strings map[string]any
}

// portal is one request's view of a link.
type portal struct {
	*sesame.Visit
	base string
}

func (s *Server) parsePages() error {
	s.pages = map[string]*htmltemplate.Template{}
	funcs := htmltemplate.FuncMap{"linkify": linkify}
	for _, name := range []string{"signin", "browse", "notice", "confirm", "dead", "left", "view", "unlock"} {
		t, err := htmltemplate.New("").Funcs(funcs).ParseFS(templates.FS, "layouts/base.html", "pages/"+name+".html")
		if err != nil {
			return fmt.Errorf("gateway: parse page %s: %w", name, err)
		}
		s.pages[name] = t
	}
	// Every dead link gets the same bytes in each language: the branding
	// is the only thing on the page, and it is the server's, not the link's.
	s.deadPages = map[string][]byte{}
	for _, l := range templates.Locales() {
		var dead bytes.Buffer
		pb := &pageBase{Brand: brand{Product: s.cfg.Portal.Product, LogoURL: s.cfg.Portal.LogoURL}, L: l}
		for _, o := range templates.Locales() {
			pb.Langs = append(pb.Langs, langChoice{Code: o.Code(), Name: o.Name, URL: "?lang=" + o.Code(), Current: o == l})
		}
		if err := s.pages["dead"].ExecuteTemplate(&dead, "base", pb); err != nil {
			return fmt.Errorf("gateway: dead page: %w", err)
		}
		s.deadPages[l.Code()] = dead.Bytes()
	}
	s.brandCSS = []byte(fmt.Sprintf(":root { --accent: %s; }\n", s.cfg.Portal.Accent))
	return nil
}

func (s *Server) https() bool { return strings.HasPrefix(s.cfg.PublicURL, "https://") }

// cookieName gives each link its own session cookie, so a visitor can hold
// sessions for several links; the __Host- prefix pins it to this host over
// https.
func (s *Server) cookieName(kind, linkID string) string {
	prefix := "sesame_"
	if s.https() {
		prefix = "__Host-sesame_"
	}
	if linkID == "" {
		return prefix + kind
	}
	return prefix + kind + "_" + strings.TrimPrefix(linkID, sesame.PrefixLink)[:12]
}

func (s *Server) setCookie(c *gin.Context, name, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: s.https(), SameSite: http.SameSiteLaxMode})
}

// securityHeaders sets the headers every recipient page carries.
func (s *Server) securityHeaders(h http.Header, nonce string) {
	img := "img-src 'self' data:"
	if u, err := url.Parse(s.cfg.Portal.LogoURL); err == nil && u.Host != "" {
		img += " " + u.Scheme + "://" + u.Host
	}
	script := ""
	if nonce != "" {
		script = "; script-src 'nonce-" + nonce + "'"
	}
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; "+img+"; form-action 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"+script)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	if s.https() {
		h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
	}
}

func newNonce() string {
	b := make([]byte, 18)
	rand.Read(b) // never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// render writes a page with a fresh script nonce.
func (s *Server) render(c *gin.Context, status int, page string, data interface{ base() *pageBase }) {
	b := data.base()
	b.Nonce = newNonce()
	b.Brand = brand{Product: s.cfg.Portal.Product, LogoURL: s.cfg.Portal.LogoURL}
	b.L = s.locale(c)
	b.Langs = s.langChoices(c, b)
	var buf bytes.Buffer
	if err := s.pages[page].ExecuteTemplate(&buf, "base", data); err != nil {
		s.log.ErrorContext(c.Request.Context(), "render page", "page", page, "error", err)
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	s.securityHeaders(c.Writer.Header(), b.Nonce)
	c.Header("Content-Language", b.L.Code())
	if x, ok := data.(interface{ formOrigins() []string }); ok && len(x.formOrigins()) > 0 { // forms that lead elsewhere
		h := c.Writer.Header()
		h.Set("Content-Security-Policy", strings.Replace(h.Get("Content-Security-Policy"), "form-action 'self'", "form-action 'self' "+strings.Join(x.formOrigins(), " "), 1))
	}
	if x, ok := data.(interface{ moreCSP() string }); ok { // a page that needs more than the rest
		h := c.Writer.Header()
		h.Set("Content-Security-Policy", h.Get("Content-Security-Policy")+"; "+x.moreCSP())
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

func (p *pageBase) base() *pageBase { return p }

// dead answers every unusable link alike: unknown, expired, deleted,
// exhausted or locked links get the same bytes and the same headers.
func (s *Server) dead(c *gin.Context) {
	s.securityHeaders(c.Writer.Header(), "")
	c.Header("Content-Language", s.locale(c).Code())
	c.Data(http.StatusNotFound, "text/html; charset=utf-8", s.deadPages[s.locale(c).Code()])
	c.Abort()
}

type leftPage struct {
	pageBase
	Back string
}

type noticePage struct {
	pageBase
	Heading, Text, Back string
}

// notice renders a notice page: heading is English and is translated here;
// text is in the visitor's language already.
func (s *Server) notice(c *gin.Context, p *portal, status int, heading, text string) {
	pg := &noticePage{Heading: s.t(c, heading), Text: text}
	if p != nil {
		pg.pageBase = pageBase{Base: p.base, SignedIn: p.Session != nil, CSRF: s.csrfFor(c, p)}
		pg.Back = p.base
	}
	s.render(c, status, "notice", pg)
	c.Abort()
}

// csrfToken binds a form to a pre-session (before sign-in) or a session.
func (s *Server) csrfToken(kind, id, linkID string) string {
	h := hmac.New(sha256.New, s.cfg.Portal.CSRFKey)
	h.Write([]byte(kind + "\x00" + id + "\x00" + linkID))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// csrfFor returns the token for the visitor's forms on p's link, creating
// the pre-session cookie when there is none.
func (s *Server) csrfFor(c *gin.Context, p *portal) string {
	if p.Session != nil {
		return s.csrfToken("session", p.Secret, p.Link.ID)
	}
	pre, err := c.Cookie(s.cookieName("pre", ""))
	if err != nil || len(pre) < 32 {
		pre = newNonce() + newNonce()
		s.setCookie(c, s.cookieName("pre", ""), pre, int((24 * time.Hour).Seconds()))
	}
	return s.csrfToken("pre", pre, p.Link.ID)
}

// checkCSRF compares a submitted token with the one the visitor should hold.
func (s *Server) checkCSRF(c *gin.Context, p *portal, got string) bool {
	var want string
	if p.Session != nil {
		want = s.csrfToken("session", p.Secret, p.Link.ID)
	} else {
		pre, err := c.Cookie(s.cookieName("pre", ""))
		if err != nil || pre == "" {
			return false
		}
		want = s.csrfToken("pre", pre, p.Link.ID)
	}
	return got != "" && hmac.Equal([]byte(got), []byte(want))
}

// errForgedForm answers a form without its page's CSRF token.
var errForgedForm = sesame.Errorf(sesame.Forbidden, "This form has expired or came from another page. Go back, reload the page and try again.")

func (s *Server) csrfFailed(c *gin.Context, p *portal) {
	s.cfg.Portal.Service.Record(c.Request.Context(), p.Visit, "portal.csrf", "failure:403")
	s.portalFail(c, p, errForgedForm, "Please try again")
}

// pageHeadings gives each Kind the heading of its page; statusOf gives
// its status. Together they are the portal's one error table.
var pageHeadings = map[sesame.Kind]string{
	sesame.Invalid:         "Please check and try again",
	sesame.NotFound:        "Not found",
	sesame.Conflict:        "Choose another name",
	sesame.Unauthenticated: "Please sign in again",
	sesame.Forbidden:       "Not allowed",
	sesame.TooManyAttempts: "Too many tries",
	sesame.TooLarge:        "Too large",
	sesame.NoSpace:         "Out of space",
	sesame.Unavailable:     "Please try again",
	sesame.Internal:        "Please try again",
}

// portalFail answers err on a recipient page: its status and heading from
// the error table, the core's message as the text. heading, when set,
// names the action that failed instead. Server faults are logged once and
// shown as a generic page.
func (s *Server) portalFail(c *gin.Context, p *portal, err error, heading string) {
	if c.Request.Context().Err() != nil {
		c.Abort()
		return
	}
	if errors.Is(err, sesame.ErrDeadLink) {
		s.dead(c)
		return
	}
	kind := sesame.KindOf(err)
	st, ok := statusOf[kind]
	if !ok {
		kind, st = sesame.Internal, statusOf[sesame.Internal]
	}
	msg := s.t(c, "Something went wrong. Please try again in a moment.")
	if e := sesame.AsError(err); e != nil && e.Message != "" && kind != sesame.Internal {
		msg = s.say(c, e)
	}
	if st.HTTP >= 500 && kind != sesame.NoSpace {
		s.log.ErrorContext(c.Request.Context(), "portal", "request_id", c.GetString(ctxRequestID), "route", c.FullPath(), "error", err)
	}
	if wait := sesame.RetryAfter(err); wait > 0 {
		c.Header("Retry-After", strconv.Itoa(int(wait.Seconds())))
	}
	if heading == "" {
		heading = pageHeadings[kind]
	}
	if wantsJSON(c) {
		c.AbortWithStatusJSON(st.HTTP, gin.H{"message": msg})
		return
	}
	s.notice(c, p, st.HTTP, heading, msg)
}

// visitor describes who sent the request, for the audit trail.
func visitor(c *gin.Context) sesame.Visitor {
	return sesame.Visitor{IP: c.ClientIP(), UserAgent: c.Request.UserAgent(), RequestID: c.GetString(ctxRequestID)}
}

// openLink resolves the token and the visitor's session through the core.
// Every dead link gets the dead page before any of the body is read.
func (s *Server) openLink(c *gin.Context) *portal {
	if s.switchLanguage(c) {
		return nil
	}
	token := c.Param("token")
	cookie := func(linkID string) string {
		v, _ := c.Cookie(s.cookieName("s", linkID)) // no cookie: ""
		return v
	}
	v, err := s.cfg.Portal.Service.Open(c.Request.Context(), token, cookie, visitor(c))
	if err != nil {
		s.portalFail(c, nil, err, "")
		return nil
	}
	p := &portal{Visit: v, base: "/s/" + token}
	if c.Request.Method == http.MethodPost {
		// ParseForm reads url-encoded bodies only; uploads stream later.
		if err := c.Request.ParseForm(); err != nil {
			s.portalFail(c, nil, sesame.Errorf(sesame.Invalid, "Go back, reload the page and try again."), "The form could not be read")
			return nil
		}
	}
	return p
}

// handlePortalShow is GET /s/{token}: the sign-in page, or the link's
// contents for a signed-in visitor.
func (s *Server) handlePortalShow(c *gin.Context) {
	p := s.openLink(c)
	if p == nil {
		return
	}
	if p.Session == nil {
		s.signin(c, p, http.StatusOK, s.codeSentNote(c, p))
		return
	}
	s.browse(c, p, "")
}

// openForm opens the link for a form the visitor sent, with its CSRF
// token checked.
func (s *Server) openForm(c *gin.Context) *portal { return s.withCSRF(c, s.openLink(c)) }

// withCSRF returns p when the form carries p's CSRF token; otherwise it
// answers the forged or stale form and returns nil.
func (s *Server) withCSRF(c *gin.Context, p *portal) *portal {
	if p == nil {
		return nil
	}
	if !s.checkCSRF(c, p, c.PostForm("csrf")) {
		s.csrfFailed(c, p)
		return nil
	}
	return p
}

// handlePortalLeave ends the session.
func (s *Server) handlePortalLeave(c *gin.Context) {
	p := s.openLink(c)
	if p == nil {
		return
	}
	if p.Session != nil {
		if !s.checkCSRF(c, p, c.PostForm("csrf")) {
			s.csrfFailed(c, p)
			return
		}
		if err := s.cfg.Portal.Service.Leave(c.Request.Context(), p.Visit); err != nil {
			s.log.ErrorContext(c.Request.Context(), "end session", "error", err)
		}
	}
	s.setCookie(c, s.cookieName("s", p.Link.ID), "", -1)
	s.render(c, http.StatusOK, "left", &leftPage{Back: p.base})
}

// staticTypes gives the content type of each kind of static file.
var staticTypes = map[string]string{
	".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
	".json": "application/json", ".wasm": "application/wasm", ".bcmap": "application/octet-stream",
	".pfb": "application/octet-stream", ".ttf": "font/ttf", ".txt": "text/plain; charset=utf-8",
}

// handleStatic serves the embedded stylesheets, scripts and vendored
// browser code under static/, and the branding.
func (s *Server) handleStatic(c *gin.Context) {
	name := strings.TrimPrefix(c.Param("file"), "/")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Cache-Control", "public, max-age=3600")
	if name == "brand.css" {
		c.Data(http.StatusOK, "text/css; charset=utf-8", s.brandCSS)
		return
	}
	ct, known := staticTypes[path.Ext(name)]
	if !known || !fs.ValidPath(name) {
		c.Status(http.StatusNotFound)
		return
	}
	b, err := fs.ReadFile(templates.FS, "static/"+name)
	if err != nil {
		c.Status(http.StatusNotFound)
		return
	}
	c.Data(http.StatusOK, ct, b)
}
