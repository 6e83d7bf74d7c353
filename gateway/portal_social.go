package gateway

import (
	"errors"
	"net/http"
	"regexp"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/sesame-share/sesame"
)

// socialButton is one "Continue with {name}" button of a social method.
type socialButton struct {
	Index int
	Name  string
}

// socialNotes names each reason a sign-in at a provider failed, so that
// the callback can send the visitor to the link's sign-in page with the
// reason in its address (?social=email) and the page can say it.
var socialNotes = []struct {
	code string
	err  *sesame.Error
}{
	{"state", sesame.ErrSocialState}, {"email", sesame.ErrSocialEmail}, {"unverified", sesame.ErrSocialUnverified},
	{"failed", sesame.ErrSocialFailed}, {"cancelled", sesame.ErrSocialCancelled}, {"down", sesame.ErrSocialDown},
}

// originRE is what an origin in a CSP directive may look like.
var originRE = regexp.MustCompile(`^https?://[A-Za-z0-9.\-]+(:[0-9]+)?$|^https?://\[[0-9A-Fa-f:.]+\](:[0-9]+)?$`)

// socialMethod fills in a social method's buttons, one per provider, and
// lets the page's forms lead to the providers.
func (s *Server) socialMethod(pg *signinPage, m *method, email string) {
	m.Masked = sesame.MaskEmail(email)
	for _, ch := range s.cfg.Portal.Service.SocialChoices() {
		m.Providers = append(m.Providers, socialButton{Index: ch.Index, Name: ch.Name})
		if originRE.MatchString(ch.Origin) {
			pg.origins = append(pg.origins, ch.Origin)
		}
	}
}

// formOrigins lists where the page's forms may lead beside the portal:
// the providers a social button redirects to (CSP form-action applies to
// the redirect of a form too).
func (p *signinPage) formOrigins() []string { return p.origins }

// handlePortalSocial is POST /s/{token}/social, a "Continue with …"
// button: it sends the visitor to the provider, with the sign-in's state
// kept in a cookie too, so that the callback knows it reached the browser
// that began.
func (s *Server) handlePortalSocial(c *gin.Context) {
	p := s.openForm(c)
	if p == nil {
		return
	}
	prov, err := strconv.Atoi(c.PostForm("provider"))
	if err != nil {
		prov = -1
	}
	i := formIndex(c)
	to, state, err := s.cfg.Portal.Service.BeginSocial(c.Request.Context(), p.Visit, i, prov)
	kind := sesame.KindOf(err)
	switch {
	case err == nil && to == "":
		c.Redirect(http.StatusSeeOther, p.base)
	case err == nil:
		s.setCookie(c, s.cookieName("oidc", ""), state, int(sesame.SocialStateTTL.Seconds()))
		c.Redirect(http.StatusSeeOther, to)
	case sesame.RetryAfter(err) > 0 || !signInAnswer[kind] && kind != sesame.Unavailable:
		s.portalFail(c, p, err, "")
	default:
		s.signin(c, p, statusOf[kind].HTTP, signinNote{Flash: s.say(c, sesame.AsError(err)), FlashKind: "error", Open: -1, Failed: i})
	}
}

// handleOIDCCallback is GET /oidc/callback, where every provider sends
// visitors back for every link. Signed in, the visitor goes to the link;
// refused, to the link's sign-in page, which says why.
func (s *Server) handleOIDCCallback(c *gin.Context) {
	if s.switchLanguage(c) {
		return
	}
	bound, _ := c.Cookie(s.cookieName("oidc", "")) // no cookie: "", which matches no state
	q := c.Request.URL.Query()
	ret := sesame.SocialReturn{State: q.Get("state"), Bound: bound, Code: q.Get("code"), Error: q.Get("error"), Issuer: q.Get("iss")}
	cookie := func(linkID string) string {
		v, _ := c.Cookie(s.cookieName("s", linkID)) // no cookie: ""
		return v
	}
	v, err := s.cfg.Portal.Service.FinishSocial(c.Request.Context(), ret, cookie, visitor(c))
	if v == nil {
		s.portalFail(c, nil, err, "")
		return
	}
	p := &portal{Visit: v, base: "/s/" + v.Link.Token}
	if err == nil {
		s.setCookie(c, s.cookieName("s", p.Link.ID), p.Secret, int(p.Session.Expires.Sub(s.now()).Seconds()))
		c.Redirect(http.StatusSeeOther, p.base)
		return
	}
	if wait := sesame.RetryAfter(err); wait > 0 {
		c.Redirect(http.StatusSeeOther, p.base+"?social=wait&retry="+strconv.Itoa(int(wait.Seconds())))
		return
	}
	for _, n := range socialNotes {
		if errors.Is(err, n.err) {
			c.Redirect(http.StatusSeeOther, p.base+"?social="+n.code)
			return
		}
	}
	s.portalFail(c, p, err, "")
}

// socialNote reads the note the callback redirects with (?social=…).
func (s *Server) socialNote(c *gin.Context) (signinNote, bool) {
	code := c.Query("social")
	if code == "" {
		return noNote, false
	}
	n := signinNote{FlashKind: "error", Open: -1, Failed: -1}
	if code == "wait" {
		secs, _ := strconv.Atoi(c.Query("retry")) // unreadable: 0, shown as 1
		secs = min(max(secs, 1), int(sesame.MaxBackoff.Seconds()))
		n.Flash = s.t(c, "Please wait {{.Seconds}} seconds before trying again.", "Seconds", secs)
		return n, true
	}
	for _, sn := range socialNotes {
		if sn.code == code {
			n.Flash = s.say(c, sn.err)
			return n, true
		}
	}
	return noNote, false
}
