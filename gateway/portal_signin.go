package gateway

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sesame-share/sesame"
)

// method is one way to sign in, as the sign-in page shows it.
type method struct {
	Index         int
	Type, Masked  string
	Sent, Invalid bool // Invalid: the page's error is about this method's answer
	Primary       bool // the send button is the page's main action
	// Wait is how many seconds remain before another code may be sent,
	// WaitText the same as the page shows it; Tries, when set, how many
	// wrong tries the live code has left.
	Wait            int
	WaitText, Tries string
	// Providers are a social method's buttons.
	Providers []socialButton
}

type signinPage struct {
	pageBase
	Title, Message, Kind, Sender string
	Expires                      when
	Flash, FlashKind             string
	Methods                      []method
	origins                      []string // of the providers' sign-in pages
}

// signinNote is what the sign-in page says about the visitor's last step:
// a flash, the method whose code form is open and the one whose answer
// failed (-1: none).
type signinNote struct {
	Flash, FlashKind string
	Open, Failed     int
}

var noNote = signinNote{Open: -1, Failed: -1}

var kindWords = map[sesame.LinkType]string{sesame.LinkDownload: "Files to download", sesame.LinkUpload: "A folder to upload into", sesame.LinkEditor: "Files to view and edit"}

// signin renders the sign-in page.
func (s *Server) signin(c *gin.Context, p *portal, status int, n signinNote) {
	l := p.Link
	now := s.now()
	loc := s.locale(c)
	pg := &signinPage{pageBase: pageBase{Base: p.base, CSRF: s.csrfFor(c, p)}, Title: l.Title, Message: l.Message,
		Kind: loc.T(kindWords[l.Type]), Sender: senderOf(l), Expires: whenOf(loc, l.Expires, now), Flash: n.Flash, FlashKind: n.FlashKind}
	auths := s.cfg.Portal.Service.OpenAuthenticators(p.Visit)
	hasPassword := false
	for _, a := range auths {
		hasPassword = hasPassword || a.Type == sesame.AuthPassword
	}
	for _, a := range auths {
		m := method{Index: a.Position, Type: string(a.Type), Sent: a.Position == n.Open, Invalid: a.Position == n.Failed}
		switch a.Type {
		case sesame.AuthEmailOTP:
			m.Masked = sesame.MaskEmail(a.Context)
		case sesame.AuthSMSOTP:
			m.Masked = sesame.MaskPhone(a.Context)
		case sesame.AuthSocial:
			s.socialMethod(pg, &m, a.Context)
		}
		m.Primary = !hasPassword && !m.Sent
		if m.Sent {
			s.codeState(c, p, &m, now)
		}
		pg.Methods = append(pg.Methods, m)
	}
	s.render(c, status, "signin", pg)
}

// codeState fills in when m's next code may be sent and, after a wrong
// try, how many tries its live code has left.
func (s *Server) codeState(c *gin.Context, p *portal, m *method, now time.Time) {
	cs, err := s.cfg.Portal.Service.CodeStatus(c.Request.Context(), p.Visit, m.Index)
	if err != nil {
		s.log.WarnContext(c.Request.Context(), "code state", "error", err)
		return
	}
	if wait := cs.NextSend.Sub(now); wait > 0 {
		m.Wait = int((wait + time.Second - 1) / time.Second)
		m.WaitText = countdown(m.Wait)
	}
	switch loc := s.locale(c); {
	case !m.Invalid || !cs.Live:
	case cs.TriesLeft == 0:
		m.Tries = loc.T("No tries left for this code. Ask for a new one.")
	default:
		m.Tries = loc.N("{{.Count}} try left for this code.", "{{.Count}} tries left for this code.", cs.TriesLeft)
	}
}

// codeSentNote reads the note a code request redirects with: the method
// whose code form opens, and whether the send limits held the code back.
func (s *Server) codeSentNote(c *gin.Context, p *portal) signinNote {
	if n, ok := s.socialNote(c); ok {
		return n
	}
	n := noNote
	i, err := strconv.Atoi(c.Query("sent"))
	if err != nil || i < 0 || i >= len(p.Link.Authenticators) {
		return n
	}
	n.Open = i
	n.Flash = s.t(c, "A code is on its way. It works for 10 minutes.")
	if c.Query("held") != "" {
		n.Flash = s.t(c, "A code was sent a moment ago and still works. Use that one, or ask for a new one when the button below allows.")
	}
	return n
}

// senderOf names who shared a link, when the link says.
func senderOf(l *sesame.Link) string {
	switch {
	case l.SenderName != "" && l.SenderEmail != "":
		return l.SenderName + " (" + l.SenderEmail + ")"
	case l.SenderName != "":
		return l.SenderName
	}
	return l.SenderEmail
}

// handlePortalPassword checks a password.
func (s *Server) handlePortalPassword(c *gin.Context) {
	s.verifyAnswer(c, "password", sesame.AuthPassword)
}

// handlePortalCodeVerify checks a code.
func (s *Server) handlePortalCodeVerify(c *gin.Context) {
	s.verifyAnswer(c, "code", sesame.AuthEmailOTP, sesame.AuthSMSOTP)
}

// formIndex reads the form's authenticator index (-1 when unreadable).
func formIndex(c *gin.Context) int {
	i, err := strconv.Atoi(c.PostForm("auth"))
	if err != nil {
		return -1
	}
	return i
}

// verifyAnswer is the sign-in step common to passwords and codes: the
// form's CSRF token here, every rule in the core.
func (s *Server) verifyAnswer(c *gin.Context, field string, types ...sesame.AuthType) {
	p := s.openForm(c)
	if p == nil {
		return
	}
	i := formIndex(c)
	err := s.cfg.Portal.Service.SignIn(c.Request.Context(), p.Visit, i, c.PostForm(field), types...)
	switch {
	case err == nil:
		s.setCookie(c, s.cookieName("s", p.Link.ID), p.Secret, int(p.Session.Expires.Sub(s.now()).Seconds()))
		c.Redirect(http.StatusSeeOther, p.base)
	case sesame.RetryAfter(err) > 0 || !signInAnswer[sesame.KindOf(err)]:
		s.portalFail(c, p, err, "")
	default:
		n := signinNote{Flash: s.say(c, sesame.AsError(err)), FlashKind: "error", Open: -1, Failed: i}
		if i >= 0 && i < len(p.Link.Authenticators) && p.Link.Authenticators[i].Type != sesame.AuthPassword {
			n.Open = i // a code form stays open after a wrong code
		}
		s.signin(c, p, statusOf[sesame.KindOf(err)].HTTP, n)
	}
}

// signInAnswer lists the kinds of error that answer a sign-in on the
// sign-in page itself: the visitor's own mistakes. The rest (a dead link,
// a server fault) get their page from the error table.
var signInAnswer = map[sesame.Kind]bool{sesame.Unauthenticated: true, sesame.TooManyAttempts: true, sesame.Invalid: true}

// handlePortalCodeSend sends a code and opens its form. When the send
// limits hold the code back, the page says so and shows when the next
// may be asked for.
func (s *Server) handlePortalCodeSend(c *gin.Context) {
	p := s.openForm(c)
	if p == nil {
		return
	}
	// The code's message speaks the language of the page that asked.
	ctx := sesame.WithLanguage(c.Request.Context(), s.locale(c).Code())
	a, sent, err := s.cfg.Portal.Service.SendCode(ctx, p.Visit, formIndex(c))
	if err != nil {
		s.signin(c, p, statusOf[sesame.KindOf(err)].HTTP, signinNote{Flash: s.say(c, sesame.AsError(err)), FlashKind: "error", Open: -1, Failed: -1})
		return
	}
	to := p.base + "?sent=" + strconv.Itoa(a.Position)
	if !sent {
		to += "&held=1"
	}
	c.Redirect(http.StatusSeeOther, to)
}

// countdown shows a wait of n seconds: "45 s" up to a minute, "54:25"
// above (pages.js counts the same way).
func countdown(n int) string {
	if n <= 60 {
		return fmt.Sprintf("%d s", n)
	}
	return fmt.Sprintf("%d:%02d", n/60, n%60)
}
