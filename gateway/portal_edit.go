package gateway

import (
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/sesame-share/sesame"
)

// wantsJSON reports whether the request comes from the page script.
func wantsJSON(c *gin.Context) bool {
	return strings.Contains(c.GetHeader("Accept"), "application/json")
}

// uploadFailed answers an upload error as JSON for the script, or a page.
func (s *Server) uploadFailed(c *gin.Context, p *portal, err error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		err = sesame.Errorf(sesame.TooLarge, "The upload is too large.")
	}
	s.portalFail(c, p, err, "Upload failed")
}

var (
	errUploadUnreadable = sesame.Errorf(sesame.Invalid, "The upload could not be read.")
	errUploadCut        = sesame.Errorf(sesame.Invalid, "The upload was cut off. Please try again.")
	errUploadForm       = sesame.Errorf(sesame.Invalid, "The form is incomplete; reload the page and try again.")
	errUploadEmpty      = sesame.Errorf(sesame.Invalid, "Choose at least one file to upload.")
)

// handlePortalUpload streams each file part through the core, which
// stages it while it is hashed and commits it atomically under a safe,
// free name.
func (s *Server) handlePortalUpload(c *gin.Context) {
	p := s.signedIn(c)
	if p == nil {
		return
	}
	ps := s.cfg.Portal.Service
	if err := p.CanUpload(); err != nil {
		s.uploadFailed(c, p, err)
		return
	}
	if limit := ps.Limits.MaxFileSize; limit > 0 {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, 1<<20+limit*int64(max(ps.Limits.MaxLinkFiles, 100)))
	}
	mr, err := c.Request.MultipartReader()
	if err != nil {
		s.uploadFailed(c, p, errUploadUnreadable)
		return
	}
	var folder *sesame.Object
	csrfOK := false
	var stored []string
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			s.uploadFailed(c, p, errUploadCut)
			return
		}
		switch part.FormName() {
		case "csrf":
			v, _ := io.ReadAll(io.LimitReader(part, 256)) // a short read fails the check below
			if csrfOK = s.checkCSRF(c, p, string(v)); !csrfOK {
				s.csrfFailed(c, p)
				return
			}
		case "folder":
			v, _ := io.ReadAll(io.LimitReader(part, 64)) // a short read fails the lookup below
			if folder, err = ps.UploadFolder(c.Request.Context(), p.Visit, string(v)); err != nil {
				s.uploadFailed(c, p, err)
				return
			}
		case "file":
			if !csrfOK || folder == nil {
				s.uploadFailed(c, p, errUploadForm)
				return
			}
			if part.FileName() == "" {
				continue // an empty file input
			}
			o, err := ps.Upload(c.Request.Context(), p.Visit, folder, part.FileName(), part)
			if err != nil {
				s.uploadFailed(c, p, err)
				return
			}
			stored = append(stored, o.Name)
		}
	}
	if len(stored) == 0 {
		s.uploadFailed(c, p, errUploadEmpty)
		return
	}
	if wantsJSON(c) {
		c.JSON(http.StatusOK, gin.H{"message": s.t(c, "Uploaded {{.Names}}.", "Names", namesText(s.locale(c), stored)), "count": len(stored), "names": stored})
		return
	}
	c.Redirect(http.StatusSeeOther, s.flashURL(p, p.base+"/d/"+folder.ID, "uploaded", strings.Join(stored, "\n")))
}

// editable loads an object an editor may change, or answers the page.
func (s *Server) editable(c *gin.Context, p *portal, id string) (*sesame.Object, bool) {
	o, err := s.cfg.Portal.Service.Editable(c.Request.Context(), p.Visit, id)
	if err != nil {
		s.portalFail(c, p, err, "")
		return nil, false
	}
	return o, true
}

type confirmPage struct {
	pageBase
	Heading, Action, ID, Name, Back string
	Rename, Folder                  bool
	// Typed and Error: a refused new name, kept in the field, and why.
	Typed, Error string
}

func (s *Server) parentURL(p *portal, o *sesame.Object) string {
	if o.ParentID != "" {
		return p.base + "/d/" + o.ParentID
	}
	return p.base
}

// handlePortalConfirm shows the rename form or the delete confirmation.
func (s *Server) handlePortalConfirm(c *gin.Context) {
	p := s.signedIn(c)
	if p == nil {
		return
	}
	o, ok := s.editable(c, p, c.Param("id"))
	if !ok {
		return
	}
	s.confirm(c, p, o, strings.HasPrefix(c.FullPath(), "/s/:token/rename"), http.StatusOK, "", nil)
}

// confirm renders the rename form (with a refused name and its error,
// when typed is set) or the delete confirmation for o.
func (s *Server) confirm(c *gin.Context, p *portal, o *sesame.Object, rename bool, status int, typed string, err error) {
	pg := &confirmPage{pageBase: pageBase{Base: p.base, CSRF: s.csrfFor(c, p), SignedIn: true}, ID: o.ID, Name: o.Name,
		Back: s.parentURL(p, o), Rename: rename, Folder: o.IsFolder(), Typed: o.Name}
	if rename {
		pg.Heading, pg.Action = s.t(c, "Rename “{{.Name}}”", "Name", o.Name), p.base+"/rename"
	} else {
		pg.Heading, pg.Action = s.t(c, "Delete “{{.Name}}”?", "Name", o.Name), p.base+"/delete"
	}
	if err != nil {
		pg.Typed, pg.Error = typed, s.say(c, sesame.AsError(err))
	}
	s.render(c, status, "confirm", pg)
}

// fieldError reports the errors a form shows beside its name field: the
// visitor's own mistakes. The rest get their page from the error table.
func fieldError(err error) bool {
	k := sesame.KindOf(err)
	return k == sesame.Invalid || k == sesame.Conflict
}

// formName reads the form's new name.
func formName(c *gin.Context) string { return strings.TrimSpace(c.PostForm("name")) }

// editForm opens the link for a signed-in visitor's editing form.
func (s *Server) editForm(c *gin.Context) *portal { return s.withCSRF(c, s.signedIn(c)) }

// handlePortalRename renames an item inside the targets. A refused name
// comes back in the form, beside the field, as typed.
func (s *Server) handlePortalRename(c *gin.Context) {
	p := s.editForm(c)
	if p == nil {
		return
	}
	ps := s.cfg.Portal.Service
	o, err := ps.Rename(c.Request.Context(), p.Visit, c.PostForm("id"), formName(c))
	if fieldError(err) {
		if cur, ok := s.editable(c, p, c.PostForm("id")); ok {
			s.confirm(c, p, cur, true, statusOf[sesame.KindOf(err)].HTTP, c.PostForm("name"), err)
		}
		return
	}
	if err != nil {
		s.portalFail(c, p, err, "")
		return
	}
	c.Redirect(http.StatusSeeOther, s.flashURL(p, s.parentURL(p, o), "renamed", o.Name))
}

// handlePortalDelete deletes an item (a folder with its contents) after
// the confirmation page.
func (s *Server) handlePortalDelete(c *gin.Context) {
	p := s.editForm(c)
	if p == nil {
		return
	}
	o, err := s.cfg.Portal.Service.Delete(c.Request.Context(), p.Visit, c.PostForm("id"))
	if err != nil {
		s.portalFail(c, p, err, "")
		return
	}
	c.Redirect(http.StatusSeeOther, s.flashURL(p, s.parentURL(p, o), "deleted", o.Name))
}

// handlePortalMkdir creates a folder inside the targets. A refused name
// comes back in the folder's page, beside the field, as typed.
func (s *Server) handlePortalMkdir(c *gin.Context) {
	p := s.editForm(c)
	if p == nil {
		return
	}
	parent := c.PostForm("folder")
	f, err := s.cfg.Portal.Service.Mkdir(c.Request.Context(), p.Visit, parent, formName(c))
	if fieldError(err) && s.isFolder(c, p, parent) {
		s.browseAs(c, p, parent, statusOf[sesame.KindOf(err)].HTTP, func(pg *browsePage) {
			pg.NewFolder, pg.NewFolderError = c.PostForm("name"), s.say(c, sesame.AsError(err))
		})
		return
	}
	if err != nil {
		s.portalFail(c, p, err, "")
		return
	}
	c.Redirect(http.StatusSeeOther, s.flashURL(p, p.base+"/d/"+parent, "created", f.Name))
}

// isFolder reports whether id names a folder within the link.
func (s *Server) isFolder(c *gin.Context, p *portal, id string) bool {
	o, err := s.cfg.Portal.Service.Resolve(c.Request.Context(), p.Visit, id)
	return err == nil && o.IsFolder()
}
