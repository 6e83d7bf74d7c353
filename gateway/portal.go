package gateway

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/templates"
)

// PortalConfig carries what the recipient pages need.
type PortalConfig struct {
	Finder         sesame.LinkFinder
	Sessions       sesame.SessionStore
	Failures       sesame.AuthFailures
	Backoff        sesame.Backoff
	Claims         sesame.DownloadClaims
	SessionUploads sesame.SessionUploads
	UploadTotals   sesame.UploadTotals
	Authenticators map[sesame.AuthType]sesame.Authenticator
	// CSRFKey keys the CSRF tokens of every form.
	CSRFKey []byte
	// Branding.
	Product, Accent, LogoURL string
	// Upload limits: per link (0: none), and the free disk space to keep.
	MaxLinkBytes int64
	MaxLinkFiles int
	MinFreeBytes int64
	FreeBytes    func() (int64, error)
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
}

// portal is one request's view of a link.
type portal struct {
	token   string
	link    *sesame.Link
	sess    *sesame.Session
	secret  string // the session cookie's value
	base    string
	targets []*sesame.Object
}

func (s *Server) parsePages() error {
	s.pages = map[string]*htmltemplate.Template{}
	funcs := htmltemplate.FuncMap{}
	for _, name := range []string{"signin", "browse", "notice", "confirm"} {
		t, err := htmltemplate.New("").Funcs(funcs).ParseFS(templates.FS, "layouts/base.html", "pages/"+name+".html")
		if err != nil {
			return fmt.Errorf("gateway: parse page %s: %w", name, err)
		}
		s.pages[name] = t
	}
	dead, err := fs.ReadFile(templates.FS, "pages/dead.html")
	if err != nil {
		return fmt.Errorf("gateway: dead page: %w", err)
	}
	s.deadPage = dead
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
	var buf bytes.Buffer
	if err := s.pages[page].ExecuteTemplate(&buf, "base", data); err != nil {
		s.log.Error("render page", "page", page, "error", err)
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	s.securityHeaders(c.Writer.Header(), b.Nonce)
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

func (p *pageBase) base() *pageBase { return p }

// dead answers every unusable link alike: unknown, expired, deleted,
// exhausted or locked links get the same bytes and the same headers.
func (s *Server) dead(c *gin.Context) {
	s.securityHeaders(c.Writer.Header(), "")
	c.Data(http.StatusNotFound, "text/html; charset=utf-8", s.deadPage)
	c.Abort()
}

type noticePage struct {
	pageBase
	Heading, Text, Back string
}

func (s *Server) notice(c *gin.Context, p *portal, status int, heading, text string) {
	pg := &noticePage{Heading: heading, Text: text}
	if p != nil {
		pg.pageBase = pageBase{Base: p.base, SignedIn: p.sess != nil, CSRF: s.csrfFor(c, p)}
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
	if p.sess != nil {
		return s.csrfToken("session", p.secret, p.link.ID)
	}
	pre, err := c.Cookie(s.cookieName("pre", ""))
	if err != nil || len(pre) < 32 {
		pre = newNonce() + newNonce()
		s.setCookie(c, s.cookieName("pre", ""), pre, int((24 * time.Hour).Seconds()))
	}
	return s.csrfToken("pre", pre, p.link.ID)
}

// checkCSRF compares a submitted token with the one the visitor should hold.
func (s *Server) checkCSRF(c *gin.Context, p *portal, got string) bool {
	var want string
	if p.sess != nil {
		want = s.csrfToken("session", p.secret, p.link.ID)
	} else {
		pre, err := c.Cookie(s.cookieName("pre", ""))
		if err != nil || pre == "" {
			return false
		}
		want = s.csrfToken("pre", pre, p.link.ID)
	}
	return got != "" && hmac.Equal([]byte(got), []byte(want))
}

func (s *Server) csrfFailed(c *gin.Context, p *portal) {
	s.portalAudit(c, p, "portal.csrf", "failure:403", "", nil)
	s.notice(c, p, http.StatusForbidden, "Please try again", "This form has expired or came from another page. Go back, reload the page and try again.")
}

// openLink resolves the token and the visitor's session. It answers the
// dead page itself and returns nil when the link cannot be used.
func (s *Server) openLink(c *gin.Context) *portal {
	ctx := c.Request.Context()
	token := c.Param("token")
	p := &portal{token: token, base: "/s/" + token}
	if len(token) != 43 {
		s.dead(c)
		return nil
	}
	l, err := s.cfg.Portal.Finder.LinkByToken(ctx, token)
	if err != nil {
		if sesame.KindOf(err) != sesame.NotFound {
			s.log.Error("open link", "error", err)
		}
		s.dead(c)
		return nil
	}
	now := s.now()
	if !now.Before(l.Expires) {
		s.dead(c)
		return nil
	}
	p.link = l
	if c.Request.Method == http.MethodPost {
		// ParseForm reads url-encoded bodies only; uploads stream later.
		if err := c.Request.ParseForm(); err != nil {
			s.notice(c, nil, http.StatusBadRequest, "The form could not be read", "Go back, reload the page and try again.")
			return nil
		}
	}
	if secret, err := c.Cookie(s.cookieName("s", l.ID)); err == nil && secret != "" {
		sess, err := s.cfg.Portal.Sessions.SessionBySecret(ctx, l.ID, secret, l.AuthEpoch, now)
		if err == nil {
			p.sess, p.secret = sess, secret
			return p
		}
		if sesame.KindOf(err) != sesame.NotFound {
			s.log.Error("session", "error", err)
		}
	}
	// No session: the link must still admit a sign-in.
	if l.AccessCount >= l.MaxAccessCount {
		s.dead(c)
		return nil
	}
	locked, err := s.cfg.Portal.Failures.LockedAuthenticators(ctx, l.ID)
	if err != nil {
		s.log.Error("locked authenticators", "error", err)
		s.dead(c)
		return nil
	}
	open := 0
	for _, a := range l.Authenticators {
		if !locked[a.ID] {
			open++
		}
	}
	if open == 0 {
		s.dead(c)
		return nil
	}
	return p
}

// portalAudit writes one audit event for a recipient action.
func (s *Server) portalAudit(c *gin.Context, p *portal, action, outcome, objectID string, detail map[string]string) {
	ev := &sesame.AuditEvent{Time: s.now(), ActorType: sesame.ActorSession, Action: action, IP: c.ClientIP(), Outcome: outcome,
		ObjectID: objectID, RequestID: c.GetString(ctxRequestID), Detail: detail}
	if p != nil && p.link != nil {
		ev.LinkID = p.link.ID
	}
	if p != nil && p.sess != nil {
		ev.Actor = p.sess.ID
	} else {
		ev.Actor = "visitor"
	}
	if err := s.cfg.Audit.Audit(contextWithoutCancel(c), ev); err != nil {
		s.log.Error("audit", "action", action, "error", err)
	}
}

type method struct {
	Index        int
	Type, Masked string
	Sent         bool
}

type signinPage struct {
	pageBase
	Title, Message, Kind, Expires string
	Flash, FlashKind              string
	Methods                       []method
}

var kindWords = map[sesame.LinkType]string{sesame.LinkDownload: "Files to download", sesame.LinkUpload: "A folder to upload into", sesame.LinkEditor: "Files to view and edit"}

func (s *Server) signin(c *gin.Context, p *portal, status int, flash, flashKind string, sent int) {
	locked, err := s.cfg.Portal.Failures.LockedAuthenticators(c.Request.Context(), p.link.ID)
	if err != nil {
		s.log.Error("locked authenticators", "error", err)
	}
	pg := &signinPage{pageBase: pageBase{Base: p.base, CSRF: s.csrfFor(c, p)}, Title: p.link.Title, Message: p.link.Message,
		Kind: kindWords[p.link.Type], Expires: p.link.Expires.UTC().Format("2 Jan 2006 15:04 UTC"), Flash: flash, FlashKind: flashKind}
	for i, a := range p.link.Authenticators {
		if locked[a.ID] {
			continue
		}
		m := method{Index: i, Type: string(a.Type), Sent: i == sent}
		switch a.Type {
		case sesame.AuthEmailOTP:
			m.Masked = sesame.MaskEmail(a.Context)
		case sesame.AuthSMSOTP:
			m.Masked = sesame.MaskPhone(a.Context)
		}
		pg.Methods = append(pg.Methods, m)
	}
	s.render(c, status, "signin", pg)
}

// handlePortalShow is GET /s/{token}: the sign-in page, or the link's
// contents for a signed-in visitor.
func (s *Server) handlePortalShow(c *gin.Context) {
	p := s.openLink(c)
	if p == nil {
		return
	}
	if p.sess == nil {
		sent := -1
		flash := ""
		if v := c.Query("sent"); v != "" {
			if n, err := strconv.Atoi(v); err == nil && n >= 0 && n < len(p.link.Authenticators) {
				sent = n
				flash = "If that address can receive codes, a code is on its way. It works for 10 minutes."
			}
		}
		s.signin(c, p, http.StatusOK, flash, "", sent)
		return
	}
	s.browse(c, p, "")
}

// authenticatorAt reads the form's authenticator index.
func authenticatorAt(c *gin.Context, p *portal, want ...sesame.AuthType) *sesame.LinkAuthenticator {
	i, err := strconv.Atoi(c.PostForm("auth"))
	if err != nil || i < 0 || i >= len(p.link.Authenticators) {
		return nil
	}
	a := &p.link.Authenticators[i]
	for _, t := range want {
		if a.Type == t {
			return a
		}
	}
	return nil
}

func (s *Server) backoffKey(c *gin.Context, p *portal) string { return p.link.ID + "|" + c.ClientIP() }

// throttled answers 429 with Retry-After when this address must wait.
func (s *Server) throttled(c *gin.Context, p *portal) bool {
	until, err := s.cfg.Portal.Backoff.BackoffUntil(c.Request.Context(), s.backoffKey(c, p), s.now())
	if err != nil {
		s.log.Error("backoff", "error", err)
		return false
	}
	if until.IsZero() {
		return false
	}
	wait := int(until.Sub(s.now()).Seconds() + 0.999)
	c.Header("Retry-After", strconv.Itoa(max(wait, 1)))
	s.portalAudit(c, p, "signin.throttled", "failure:429", "", map[string]string{"retry_after": strconv.Itoa(wait)})
	s.notice(c, p, http.StatusTooManyRequests, "Too many tries", fmt.Sprintf("Please wait %d seconds before trying again.", max(wait, 1)))
	return true
}

// failSignIn counts a wrong answer against the authenticator and the
// address, and shows the sign-in page again.
func (s *Server) failSignIn(c *gin.Context, p *portal, a *sesame.LinkAuthenticator, err error, sent int) {
	ctx := c.Request.Context()
	now := s.now()
	detail := map[string]string{"auth_type": string(a.Type)}
	if n, ferr := s.cfg.Portal.Failures.RecordAuthFailure(ctx, a.ID, now); ferr != nil {
		s.log.Error("record failure", "error", ferr)
	} else if n >= sesame.LockAfterFailures {
		detail["failures"] = strconv.Itoa(n)
		s.portalAudit(c, p, "signin.locked", "failure", "", detail)
	}
	if _, berr := s.cfg.Portal.Backoff.RecordBackoffFailure(ctx, s.backoffKey(c, p), now); berr != nil {
		s.log.Error("record backoff", "error", berr)
	}
	s.portalAudit(c, p, "signin", "failure:401", "", detail)
	msg := "That did not work. Check it and try again."
	if e := sesame.AsError(err); e != nil && e.Message != "" && (e.Kind == sesame.Unauthenticated || e.Kind == sesame.TooManyAttempts) {
		msg = e.Message
	}
	status := http.StatusUnauthorized
	if sesame.KindOf(err) == sesame.TooManyAttempts {
		status = http.StatusTooManyRequests
	}
	s.signin(c, p, status, msg, "error", sent)
}

// succeed opens a session: one access is claimed, the cookie is set.
func (s *Server) succeed(c *gin.Context, p *portal, a *sesame.LinkAuthenticator) {
	ctx := c.Request.Context()
	sess, secret, err := s.cfg.Portal.Sessions.SignIn(ctx, p.link, a.ID, c.ClientIP(), c.Request.UserAgent(), s.now())
	if sesame.KindOf(err) == sesame.NotFound {
		s.portalAudit(c, p, "signin", "failure:exhausted", "", map[string]string{"auth_type": string(a.Type)})
		s.dead(c)
		return
	}
	if err != nil {
		s.log.Error("sign in", "error", err)
		s.notice(c, p, http.StatusServiceUnavailable, "Please try again", "Something went wrong while signing you in. Please try again in a moment.")
		return
	}
	if err := s.cfg.Portal.Backoff.ClearBackoff(ctx, s.backoffKey(c, p)); err != nil {
		s.log.Error("clear backoff", "error", err)
	}
	p.sess, p.secret = sess, secret
	s.portalAudit(c, p, "signin", "success", "", map[string]string{"auth_type": string(a.Type)})
	s.setCookie(c, s.cookieName("s", p.link.ID), secret, int(sess.Expires.Sub(s.now()).Seconds()))
	c.Redirect(http.StatusSeeOther, p.base)
}

// handlePortalPassword checks a password.
func (s *Server) handlePortalPassword(c *gin.Context) {
	s.verifyAnswer(c, "password", sesame.AuthPassword)
}

// verifyAnswer is the sign-in step common to passwords and codes: CSRF,
// the per-address backoff, the lock, then the authenticator's verdict on
// the form field.
func (s *Server) verifyAnswer(c *gin.Context, field string, types ...sesame.AuthType) {
	p := s.openLink(c)
	if p == nil {
		return
	}
	if !s.checkCSRF(c, p, c.PostForm("csrf")) {
		s.csrfFailed(c, p)
		return
	}
	if p.sess != nil {
		c.Redirect(http.StatusSeeOther, p.base)
		return
	}
	if s.throttled(c, p) {
		return
	}
	a := authenticatorAt(c, p, types...)
	if a == nil {
		s.signin(c, p, http.StatusBadRequest, "Choose a way to sign in.", "error", -1)
		return
	}
	sent := a.Position // a code form stays open after a wrong code
	if a.Type == sesame.AuthPassword {
		sent = -1
	}
	locked, err := s.cfg.Portal.Failures.LockedAuthenticators(c.Request.Context(), p.link.ID)
	if err == nil && locked[a.ID] {
		s.failSignIn(c, p, a, nil, sent)
		return
	}
	if err := s.cfg.Portal.Authenticators[a.Type].Verify(c.Request.Context(), p.link, a, c.PostForm(field)); err != nil {
		if k := sesame.KindOf(err); k != sesame.Unauthenticated && k != sesame.TooManyAttempts {
			s.log.Error("verify", "auth_type", a.Type, "error", err)
		}
		s.failSignIn(c, p, a, err, sent)
		return
	}
	s.succeed(c, p, a)
}

// handlePortalCodeSend sends a code. Whatever happens, the visitor is told
// the same thing, so the page reveals nothing about limits or addresses.
func (s *Server) handlePortalCodeSend(c *gin.Context) {
	p := s.openLink(c)
	if p == nil {
		return
	}
	if !s.checkCSRF(c, p, c.PostForm("csrf")) {
		s.csrfFailed(c, p)
		return
	}
	a := authenticatorAt(c, p, sesame.AuthEmailOTP, sesame.AuthSMSOTP)
	if a == nil {
		s.signin(c, p, http.StatusBadRequest, "Choose a way to sign in.", "error", -1)
		return
	}
	locked, err := s.cfg.Portal.Failures.LockedAuthenticators(c.Request.Context(), p.link.ID)
	outcome := "success"
	switch {
	case err == nil && locked[a.ID]:
		outcome = "failure:locked"
	default:
		if err := s.cfg.Portal.Authenticators[a.Type].Begin(c.Request.Context(), p.link, a); err != nil {
			outcome = "failure:throttled"
			if sesame.KindOf(err) != sesame.TooManyAttempts {
				outcome = "failure:error"
				s.log.Error("send code", "error", err)
			}
		}
	}
	s.portalAudit(c, p, "code.send", outcome, "", map[string]string{"auth_type": string(a.Type)})
	c.Redirect(http.StatusSeeOther, p.base+"?sent="+strconv.Itoa(a.Position))
}

// handlePortalCodeVerify checks a code.
func (s *Server) handlePortalCodeVerify(c *gin.Context) {
	s.verifyAnswer(c, "code", sesame.AuthEmailOTP, sesame.AuthSMSOTP)
}

// handlePortalLeave ends the session.
func (s *Server) handlePortalLeave(c *gin.Context) {
	p := s.openLink(c)
	if p == nil {
		return
	}
	if p.sess != nil {
		if !s.checkCSRF(c, p, c.PostForm("csrf")) {
			s.csrfFailed(c, p)
			return
		}
		if err := s.cfg.Portal.Sessions.EndSession(c.Request.Context(), p.secret); err != nil {
			s.log.Error("end session", "error", err)
		}
		s.portalAudit(c, p, "signout", "success", "", nil)
	}
	s.setCookie(c, s.cookieName("s", p.link.ID), "", -1)
	p.sess = nil
	s.notice(c, nil, http.StatusOK, "You have left", "Your visit has ended. Open the link again to come back.")
}

// handleStatic serves the embedded stylesheet and script, and the branding.
func (s *Server) handleStatic(c *gin.Context) {
	name := strings.TrimPrefix(c.Param("file"), "/")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Cache-Control", "public, max-age=3600")
	switch name {
	case "brand.css":
		c.Data(http.StatusOK, "text/css; charset=utf-8", s.brandCSS)
		return
	case "portal.css", "portal.js":
		b, err := fs.ReadFile(templates.FS, "static/"+name)
		if err == nil {
			ct := "text/css; charset=utf-8"
			if strings.HasSuffix(name, ".js") {
				ct = "text/javascript; charset=utf-8"
			}
			c.Data(http.StatusOK, ct, b)
			return
		}
	}
	c.Status(http.StatusNotFound)
}
