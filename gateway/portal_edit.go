package gateway

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
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
func (s *Server) uploadFailed(c *gin.Context, p *portal, status int, msg string) {
	if wantsJSON(c) {
		c.AbortWithStatusJSON(status, gin.H{"message": msg})
		return
	}
	s.notice(c, p, status, "Upload failed", msg)
}

// handlePortalUpload streams each file part to staging while it is hashed
// and commits it atomically under a safe, free name.
func (s *Server) handlePortalUpload(c *gin.Context) {
	p := s.signedIn(c)
	if p == nil {
		return
	}
	if p.link.Type == sesame.LinkDownload {
		s.uploadFailed(c, p, http.StatusForbidden, "This link does not accept uploads.")
		return
	}
	if s.cfg.MaxUploadSize > 0 {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, 1<<20+s.cfg.MaxUploadSize*int64(max(s.cfg.Portal.MaxLinkFiles, 100)))
	}
	mr, err := c.Request.MultipartReader()
	if err != nil {
		s.uploadFailed(c, p, http.StatusBadRequest, "The upload could not be read.")
		return
	}
	var folder *sesame.Object
	csrfOK := false
	stored := 0
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			s.uploadFailed(c, p, http.StatusBadRequest, "The upload was cut off. Please try again.")
			return
		}
		switch part.FormName() {
		case "csrf":
			v, _ := io.ReadAll(io.LimitReader(part, 256))
			csrfOK = s.checkCSRF(c, p, string(v))
			if !csrfOK {
				s.csrfFailed(c, p)
				return
			}
		case "folder":
			v, _ := io.ReadAll(io.LimitReader(part, 64))
			o, ok := s.scoped(c, p, string(v))
			if !ok {
				return
			}
			if !o.IsFolder() {
				s.uploadFailed(c, p, http.StatusBadRequest, "Files can only be uploaded into a folder.")
				return
			}
			folder = o
		case "file":
			if !csrfOK || folder == nil {
				s.uploadFailed(c, p, http.StatusBadRequest, "The form is incomplete; reload the page and try again.")
				return
			}
			if part.FileName() == "" {
				continue // an empty file input
			}
			o, status, msg := s.storeUpload(c, p, folder, part)
			if o == nil {
				s.uploadFailed(c, p, status, msg)
				return
			}
			stored++
		}
	}
	if stored == 0 {
		s.uploadFailed(c, p, http.StatusBadRequest, "Choose at least one file to upload.")
		return
	}
	if wantsJSON(c) {
		c.JSON(http.StatusOK, gin.H{"message": fmt.Sprintf("%d file(s) uploaded", stored), "count": stored})
		return
	}
	c.Redirect(http.StatusSeeOther, p.base+"/d/"+folder.ID+"?done=uploaded")
}

// storeUpload checks the limits and stores one file part. On failure it
// returns a nil object, a status and a message for the visitor.
func (s *Server) storeUpload(c *gin.Context, p *portal, folder *sesame.Object, part *multipart.Part) (*sesame.Object, int, string) {
	ctx := c.Request.Context()
	name := sesame.SanitizeName(part.FileName())
	limit := s.cfg.MaxUploadSize
	pc := s.cfg.Portal
	if pc.MaxLinkBytes > 0 || pc.MaxLinkFiles > 0 {
		files, bytes, err := pc.UploadTotals.LinkUploadTotals(ctx, p.link.ID)
		if err != nil {
			s.log.Error("upload totals", "error", err)
			return nil, http.StatusServiceUnavailable, "Uploads are not possible just now."
		}
		if pc.MaxLinkFiles > 0 && files >= pc.MaxLinkFiles {
			return nil, http.StatusRequestEntityTooLarge, fmt.Sprintf("This link accepts at most %d files, and they have all been uploaded.", pc.MaxLinkFiles)
		}
		if pc.MaxLinkBytes > 0 {
			left := pc.MaxLinkBytes - bytes
			if left <= 0 {
				return nil, http.StatusRequestEntityTooLarge, "This link has no room left for more files."
			}
			if limit == 0 || left < limit {
				limit = left
			}
		}
	}
	if pc.FreeBytes != nil {
		if free, err := pc.FreeBytes(); err == nil && free < pc.MinFreeBytes {
			s.portalAudit(c, p, "upload", "failure:disk", "", map[string]string{"name": name})
			return nil, http.StatusInsufficientStorage, "The server is out of space. Please tell the person who sent you this link."
		}
	}
	up, err := s.cfg.Blobs.Stage(ctx, part, name, limit)
	if err != nil {
		s.portalAudit(c, p, "upload", "failure:"+sesame.KindOf(err).String(), "", map[string]string{"name": name})
		switch sesame.KindOf(err) {
		case sesame.TooLarge:
			return nil, http.StatusRequestEntityTooLarge, fmt.Sprintf("%s is larger than this link allows (%s).", name, humanSize(limit))
		case sesame.NoSpace:
			return nil, http.StatusInsufficientStorage, "The server is out of space. Please tell the person who sent you this link."
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, http.StatusRequestEntityTooLarge, "The upload is too large."
		}
		return nil, http.StatusBadRequest, "The upload was cut off. Please try again."
	}
	o, err := s.cfg.Writer.CreateFile(ctx, sesame.FileCreate{Placement: sesame.Placement{BucketID: folder.BucketID, ParentID: folder.ID, HasParentID: true, Name: name},
		AutoRename: true}, up)
	if err != nil {
		s.log.Error("store upload", "error", err)
		return nil, http.StatusServiceUnavailable, "The file could not be stored. Please try again."
	}
	if err := s.cfg.Portal.SessionUploads.AddSessionUpload(ctx, p.sess.ID, o.ID); err != nil {
		s.log.Error("session upload", "error", err)
	}
	s.portalAudit(c, p, "upload", "success", o.ID, map[string]string{"bytes": fmt.Sprint(o.Size), "name": o.Name})
	return o, 0, ""
}

// editable loads an object an editor may change: inside the targets, but
// not a target itself (that is what was shared).
func (s *Server) editable(c *gin.Context, p *portal, id string) (*sesame.Object, bool) {
	if p.link.Type != sesame.LinkEditor {
		s.notice(c, p, http.StatusForbidden, "Not allowed", "This link does not allow changes.")
		return nil, false
	}
	o, ok := s.scoped(c, p, id)
	if !ok {
		return nil, false
	}
	if p.isTarget(o) {
		s.notice(c, p, http.StatusForbidden, "Not allowed", "This is the item that was shared with you; it cannot be renamed or deleted here.")
		return nil, false
	}
	return o, true
}

type confirmPage struct {
	pageBase
	Heading, Action, ID, Name, Back string
	Rename, Folder                  bool
}

func (s *Server) parentURL(p *portal, o *sesame.Object) string {
	for _, t := range p.targets {
		if t.ID == o.ParentID {
			return p.base + "/d/" + t.ID
		}
	}
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
	rename := strings.HasPrefix(c.FullPath(), "/s/:token/rename")
	pg := &confirmPage{pageBase: pageBase{Base: p.base, CSRF: s.csrfFor(c, p), SignedIn: true}, ID: o.ID, Name: o.Name,
		Back: s.parentURL(p, o), Rename: rename, Folder: o.IsFolder()}
	if rename {
		pg.Heading, pg.Action = "Rename "+o.Name, p.base+"/rename"
	} else {
		pg.Heading, pg.Action = "Delete "+o.Name+"?", p.base+"/delete"
	}
	s.render(c, http.StatusOK, "confirm", pg)
}

// handlePortalRename renames an item inside the targets. The new name is
// one path segment, so a rename can never move anything.
func (s *Server) handlePortalRename(c *gin.Context) {
	p := s.signedIn(c)
	if p == nil {
		return
	}
	if !s.checkCSRF(c, p, c.PostForm("csrf")) {
		s.csrfFailed(c, p)
		return
	}
	o, ok := s.editable(c, p, c.PostForm("id"))
	if !ok {
		return
	}
	name := strings.TrimSpace(c.PostForm("name"))
	if err := sesame.CheckName("/name", name); err != nil || sesame.SanitizeName(name) != name {
		s.portalAudit(c, p, "rename", "failure:400", o.ID, nil)
		s.notice(c, p, http.StatusBadRequest, "Choose another name", "Names cannot contain / or \\, control or text-direction characters or reserved words, and cannot be . or ..")
		return
	}
	_, err := s.cfg.Writer.UpdateObject(c.Request.Context(), o.ID, sesame.ObjectUpdate{BucketID: o.BucketID, Name: &name})
	if sesame.KindOf(err) == sesame.Conflict {
		s.portalAudit(c, p, "rename", "failure:409", o.ID, nil)
		s.notice(c, p, http.StatusConflict, "Choose another name", "Something in this folder already has that name.")
		return
	}
	if err != nil {
		s.log.Error("rename", "error", err)
		s.notice(c, p, http.StatusServiceUnavailable, "Please try again", "The item could not be renamed just now.")
		return
	}
	s.portalAudit(c, p, "rename", "success", o.ID, map[string]string{"from": o.Name, "to": name})
	c.Redirect(http.StatusSeeOther, s.parentURL(p, o)+"?done=renamed")
}

// handlePortalDelete deletes an item (a folder with its contents) after
// the confirmation page.
func (s *Server) handlePortalDelete(c *gin.Context) {
	p := s.signedIn(c)
	if p == nil {
		return
	}
	if !s.checkCSRF(c, p, c.PostForm("csrf")) {
		s.csrfFailed(c, p)
		return
	}
	o, ok := s.editable(c, p, c.PostForm("id"))
	if !ok {
		return
	}
	n, err := s.cfg.Writer.DeleteObject(c.Request.Context(), o.BucketID, o.ID, true)
	if err != nil {
		s.log.Error("delete", "error", err)
		s.notice(c, p, http.StatusServiceUnavailable, "Please try again", "The item could not be deleted just now.")
		return
	}
	s.portalAudit(c, p, "delete", "success", o.ID, map[string]string{"name": o.Name, "count": fmt.Sprint(n)})
	c.Redirect(http.StatusSeeOther, s.parentURL(p, o)+"?done=deleted")
}

// handlePortalMkdir creates a folder inside the targets.
func (s *Server) handlePortalMkdir(c *gin.Context) {
	p := s.signedIn(c)
	if p == nil {
		return
	}
	if !s.checkCSRF(c, p, c.PostForm("csrf")) {
		s.csrfFailed(c, p)
		return
	}
	if p.link.Type != sesame.LinkEditor {
		s.notice(c, p, http.StatusForbidden, "Not allowed", "This link does not allow changes.")
		return
	}
	parent, ok := s.scoped(c, p, c.PostForm("folder"))
	if !ok {
		return
	}
	name := strings.TrimSpace(c.PostForm("name"))
	if err := sesame.CheckName("/name", name); err != nil || sesame.SanitizeName(name) != name || !parent.IsFolder() {
		s.notice(c, p, http.StatusBadRequest, "Choose another name", "Names cannot contain / or \\, control or text-direction characters or reserved words, and cannot be . or ..")
		return
	}
	o, err := s.cfg.Writer.CreateFolder(c.Request.Context(), sesame.FolderCreate{Placement: sesame.Placement{BucketID: parent.BucketID,
		ParentID: parent.ID, HasParentID: true, Name: name}})
	if sesame.KindOf(err) == sesame.Conflict {
		s.notice(c, p, http.StatusConflict, "Choose another name", "Something in this folder already has that name.")
		return
	}
	if err != nil {
		s.log.Error("mkdir", "error", err)
		s.notice(c, p, http.StatusServiceUnavailable, "Please try again", "The folder could not be created just now.")
		return
	}
	s.portalAudit(c, p, "mkdir", "success", o.ID, map[string]string{"name": name})
	c.Redirect(http.StatusSeeOther, p.base+"/d/"+parent.ID+"?done=created")
}
