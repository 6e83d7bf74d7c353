package gateway

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/sesame-share/sesame"
)

// unlockPage asks for the password of a protected file, once per visit.
type unlockPage struct {
	pageBase
	ID, Name, Size string
	Next           string // "view": back to the viewer once unlocked
	Back, Error    string
}

// handlePortalUnlockForm is GET /s/{token}/unlock/{id}: the password form
// of a protected file, or the file's page once the visit has unlocked it.
func (s *Server) handlePortalUnlockForm(c *gin.Context) {
	p := s.signedIn(c)
	if p == nil {
		return
	}
	if err := p.CanDownload(); err != nil {
		s.downloadFailed(c, p, err)
		return
	}
	o, ok := s.resolve(c, p, c.Param("id"))
	if !ok {
		return
	}
	next := unlockNext(c.Query("next"))
	locked, err := s.cfg.Portal.Service.Locked(c.Request.Context(), p.Visit, o)
	if err != nil {
		s.portalFail(c, p, err, "")
		return
	}
	if !locked {
		c.Redirect(http.StatusSeeOther, afterUnlock(p, o, next))
		return
	}
	s.unlockForm(c, p, o, next, http.StatusOK, "")
}

// handlePortalUnlock is POST /s/{token}/unlock: it checks the password
// through the core, which keeps the file's key for the session.
func (s *Server) handlePortalUnlock(c *gin.Context) {
	p := s.withCSRF(c, s.signedIn(c))
	if p == nil {
		return
	}
	next := unlockNext(c.PostForm("next"))
	o, err := s.cfg.Portal.Service.UnlockFile(c.Request.Context(), p.Visit, c.PostForm("id"), c.PostForm("password"))
	switch {
	case err == nil:
		c.Redirect(http.StatusSeeOther, afterUnlock(p, o, next))
	case o != nil && sesame.KindOf(err) == sesame.Unauthenticated:
		s.unlockForm(c, p, o, next, http.StatusUnauthorized, s.say(c, sesame.AsError(err)))
	default:
		s.portalFail(c, p, err, "")
	}
}

// unlockForm renders the password form of o.
func (s *Server) unlockForm(c *gin.Context, p *portal, o *sesame.Object, next string, status int, errText string) {
	pg := &unlockPage{pageBase: pageBase{Base: p.base, CSRF: s.csrfFor(c, p), SignedIn: true},
		ID: o.ID, Name: o.Name, Size: s.locale(c).Size(o.Size), Next: next, Back: fileHome(p, o), Error: errText}
	s.render(c, status, "unlock", pg)
}

// lockedRedirect sends a visitor who opened a protected file too early to
// its password form and reports whether it did.
func (s *Server) lockedRedirect(c *gin.Context, p *portal, o *sesame.Object, err error, next string) bool {
	if !errors.Is(err, sesame.ErrFileLocked) {
		return false
	}
	to := p.base + "/unlock/" + o.ID
	if next != "" {
		to += "?next=" + next
	}
	c.Redirect(http.StatusSeeOther, to)
	return true
}

func unlockNext(s string) string {
	if s == "view" {
		return s
	}
	return ""
}

// afterUnlock is where a visitor goes once o is open: back to the viewer
// when they came from it, else to the page that lists o.
func afterUnlock(p *portal, o *sesame.Object, next string) string {
	if next == "view" && viewKind(o) != "" {
		return p.base + "/view/" + o.ID
	}
	return fileHome(p, o)
}

// fileHome is the page that lists o: its folder, or the link's top level.
func fileHome(p *portal, o *sesame.Object) string {
	if p.IsTarget(o) || o.ParentID == "" {
		return p.base
	}
	return p.base + "/d/" + o.ParentID
}

// unlockedAmong returns which protected files among objs the visit has
// unlocked; none when objs holds no protected file, or when the visit's
// keys cannot be read (the files then look locked, and ask again).
func (s *Server) unlockedAmong(c *gin.Context, p *portal, objs []*sesame.Object) map[string]bool {
	for _, o := range objs {
		if o.Lock == nil {
			continue
		}
		ids, err := s.cfg.Portal.Service.Unlocked(c.Request.Context(), p.Visit)
		if err != nil {
			s.log.Warn("unlocked files", "request_id", c.GetString(ctxRequestID), "error", err)
		}
		return ids
	}
	return nil
}
