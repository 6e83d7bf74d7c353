package gateway

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	_ "image/gif" // decoders for thumbnails
	_ "image/jpeg"
	"image/png"
	"mime"
	"net/http"
	"path"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"
	"golang.org/x/image/draw"

	"github.com/sesame-share/sesame"
)

// loadTargets reads the link's targets that still exist.
func (s *Server) loadTargets(c *gin.Context, p *portal) error {
	if p.targets != nil {
		return nil
	}
	page, err := s.cfg.Objects.FindObjects(c.Request.Context(), sesame.ObjectFilter{BucketID: p.link.BucketID,
		Conds: []sesame.Cond{{Field: "id", Op: sesame.OpIn, Values: p.link.Targets}}, OrderBy: "name", Size: 1000})
	if err != nil {
		return err
	}
	p.targets = page.Objects
	return nil
}

// inScope reports whether o is a target of the link or lies inside a
// folder target. Nothing else is ever reachable through a link.
func (p *portal) inScope(o *sesame.Object) bool {
	for _, t := range p.targets {
		if o.BucketID != t.BucketID {
			continue
		}
		if o.ID == t.ID || (t.IsFolder() && strings.HasPrefix(o.Path, t.Path+"/")) {
			return true
		}
	}
	return false
}

func (p *portal) isTarget(o *sesame.Object) bool {
	for _, t := range p.targets {
		if t.ID == o.ID {
			return true
		}
	}
	return false
}

// scoped loads the object named in the URL or form, and checks it is
// within the link.
func (s *Server) scoped(c *gin.Context, p *portal, id string) (*sesame.Object, bool) {
	if err := s.loadTargets(c, p); err != nil {
		s.log.Error("targets", "error", err)
		s.notice(c, p, http.StatusServiceUnavailable, "Please try again", "The files could not be listed just now.")
		return nil, false
	}
	if !sesame.ValidID(sesame.PrefixObject, id) {
		s.notice(c, p, http.StatusNotFound, "Not found", "That file or folder is not part of this link.")
		return nil, false
	}
	o, err := s.cfg.Objects.ObjectByID(c.Request.Context(), p.link.BucketID, id)
	if err != nil || !p.inScope(o) {
		s.notice(c, p, http.StatusNotFound, "Not found", "That file or folder is not part of this link.")
		return nil, false
	}
	return o, true
}

// signedIn sends visitors without a session to the sign-in page.
func (s *Server) signedIn(c *gin.Context) *portal {
	p := s.openLink(c)
	if p == nil {
		return nil
	}
	if p.sess == nil {
		if c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead {
			c.Redirect(http.StatusSeeOther, p.base)
			c.Abort()
			return nil
		}
		s.notice(c, p, http.StatusForbidden, "Please sign in again", "Your visit has ended. Open the link again to continue.")
		return nil
	}
	return p
}

type crumb struct{ Name, URL string }

type item struct {
	ID, Name, Size, Type, Modified string
	Folder, Editable               bool
	Open, Download, Preview, Thumb string
	RenameURL, DeleteURL           string
}

type browsePage struct {
	pageBase
	Title, Message                  string
	Crumbs                          []crumb
	Flash, FlashKind                string
	FolderID                        string
	CanUpload, CanEdit, CanDownload bool
	UploadOnly                      bool
	MaxFile                         string
	Items                           []item
}

func humanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func typeLabel(o *sesame.Object) string {
	if o.IsFolder() {
		return "Folder"
	}
	mt, _, _ := mime.ParseMediaType(o.MimeType)
	if mt == "" {
		return "File"
	}
	return mt
}

var previewable = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true, "text/plain": true, "application/pdf": true}
var thumbable = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true}

// activeName reports names a browser might treat as a document with
// scripts, whatever type was detected; they are never shown inline.
func activeName(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".svg", ".svgz", ".html", ".htm", ".xhtml", ".xht", ".xml", ".mht", ".mhtml", ".js", ".mjs":
		return true
	}
	return false
}

func mediaOf(o *sesame.Object) string {
	mt, _, _ := mime.ParseMediaType(o.MimeType)
	return mt
}

// flashes maps the codes redirects carry to the sentences they show, so a
// crafted URL cannot put words on the page.
var flashes = map[string]string{
	"uploaded": "Upload complete.",
	"renamed":  "Renamed.",
	"deleted":  "Deleted.",
	"created":  "Folder created.",
}

// browse shows the link's targets, or one folder within them.
func (s *Server) browse(c *gin.Context, p *portal, folderID string) {
	ctx := c.Request.Context()
	if err := s.loadTargets(c, p); err != nil {
		s.log.Error("targets", "error", err)
		s.notice(c, p, http.StatusServiceUnavailable, "Please try again", "The files could not be listed just now.")
		return
	}
	l := p.link
	pg := &browsePage{pageBase: pageBase{Base: p.base, CSRF: s.csrfFor(c, p), SignedIn: true}, Title: l.Title, Message: l.Message,
		CanUpload: l.Type != sesame.LinkDownload, CanEdit: l.Type == sesame.LinkEditor, CanDownload: l.Type != sesame.LinkUpload,
		UploadOnly: l.Type == sesame.LinkUpload, Flash: flashes[c.Query("done")]}
	if s.cfg.MaxUploadSize > 0 {
		pg.MaxFile = humanSize(s.cfg.MaxUploadSize)
	}
	pg.Crumbs = []crumb{{Name: "All files", URL: p.base}}
	var objs []*sesame.Object
	switch {
	case folderID != "":
		f, ok := s.scoped(c, p, folderID)
		if !ok {
			return
		}
		if !f.IsFolder() {
			c.Redirect(http.StatusSeeOther, p.base+"/f/"+f.ID)
			return
		}
		pg.FolderID = f.ID
		// Crumbs from the target down to this folder.
		var chain []crumb
		for cur := f; ; {
			chain = append([]crumb{{Name: cur.Name, URL: p.base + "/d/" + cur.ID}}, chain...)
			if p.isTarget(cur) || cur.ParentID == "" {
				break
			}
			parent, err := s.cfg.Objects.ObjectByID(ctx, l.BucketID, cur.ParentID)
			if err != nil || !p.inScope(parent) {
				break
			}
			cur = parent
		}
		chain[len(chain)-1].URL = ""
		if l.Type == sesame.LinkUpload {
			pg.Crumbs = nil // an upload link has no overview page above its folder
		}
		pg.Crumbs = append(pg.Crumbs, chain...)
		if l.Type == sesame.LinkUpload {
			objs = s.sessionUploads(c, p, f.ID)
		} else {
			page, err := s.cfg.Objects.FindObjects(ctx, sesame.ObjectFilter{BucketID: l.BucketID,
				Conds: []sesame.Cond{{Field: "parent_id", Op: sesame.OpEq, Values: []string{f.ID}}}, OrderBy: "name", Size: 1000})
			if err != nil {
				s.log.Error("list folder", "error", err)
				s.notice(c, p, http.StatusServiceUnavailable, "Please try again", "The folder could not be listed just now.")
				return
			}
			objs = page.Objects
		}
	case l.Type == sesame.LinkUpload:
		// An upload link opens straight into its (first) folder.
		for _, t := range p.targets {
			if t.IsFolder() {
				c.Redirect(http.StatusSeeOther, p.base+"/d/"+t.ID)
				return
			}
		}
		pg.CanUpload = false
	default:
		pg.Crumbs[0].URL = ""
		objs = p.targets
		if l.Type == sesame.LinkEditor && len(p.targets) == 1 && p.targets[0].IsFolder() {
			c.Redirect(http.StatusSeeOther, p.base+"/d/"+p.targets[0].ID)
			return
		}
		pg.CanUpload = false
	}
	sort.SliceStable(objs, func(i, j int) bool {
		if objs[i].IsFolder() != objs[j].IsFolder() {
			return objs[i].IsFolder()
		}
		return strings.ToLower(objs[i].Name) < strings.ToLower(objs[j].Name)
	})
	for _, o := range objs {
		it := item{ID: o.ID, Name: o.Name, Type: typeLabel(o), Modified: o.Updated.UTC().Format("2 Jan 2006 15:04"), Folder: o.IsFolder()}
		if o.IsFolder() {
			it.Open = p.base + "/d/" + o.ID
		} else {
			it.Size = humanSize(o.Size)
			it.Download = p.base + "/f/" + o.ID
			if previewable[mediaOf(o)] && !activeName(o.Name) {
				it.Preview = p.base + "/v/" + o.ID
			}
			if thumbable[mediaOf(o)] && o.Size <= maxThumbSource && l.MaxDownloads == 0 && pg.CanDownload {
				it.Thumb = p.base + "/th/" + o.ID
			}
		}
		if pg.CanEdit && !p.isTarget(o) {
			it.Editable = true
			it.RenameURL = p.base + "/rename/" + o.ID
			it.DeleteURL = p.base + "/delete/" + o.ID
		}
		pg.Items = append(pg.Items, it)
	}
	s.render(c, http.StatusOK, "browse", pg)
}

// sessionUploads lists what this visit uploaded into a folder.
func (s *Server) sessionUploads(c *gin.Context, p *portal, folderID string) []*sesame.Object {
	ids, err := s.cfg.Portal.SessionUploads.SessionUploadIDs(c.Request.Context(), p.sess.ID)
	if err != nil || len(ids) == 0 {
		return nil
	}
	page, err := s.cfg.Objects.FindObjects(c.Request.Context(), sesame.ObjectFilter{BucketID: p.link.BucketID,
		Conds: []sesame.Cond{{Field: "id", Op: sesame.OpIn, Values: ids}, {Field: "parent_id", Op: sesame.OpEq, Values: []string{folderID}}}, OrderBy: "name", Size: 1000})
	if err != nil {
		return nil
	}
	return page.Objects
}

func (s *Server) handlePortalFolder(c *gin.Context) {
	p := s.signedIn(c)
	if p == nil {
		return
	}
	s.browse(c, p, c.Param("id"))
}

// claim takes a download slot when the link caps downloads. It reports
// whether this request took a new slot, or false with the page written.
func (s *Server) claim(c *gin.Context, p *portal, key string) (claimed, ok bool) {
	if p.link.MaxDownloads == 0 {
		return false, true
	}
	claimed, err := s.cfg.Portal.Claims.ClaimDownload(c.Request.Context(), p.link, p.sess.ID, key)
	if sesame.KindOf(err) == sesame.Forbidden {
		s.portalAudit(c, p, "download", "failure:limit", "", map[string]string{"key": key})
		s.notice(c, p, http.StatusForbidden, "Download limit reached", "This link has been downloaded as often as the sender allowed.")
		return false, false
	}
	if err != nil {
		s.log.Error("claim download", "error", err)
		s.notice(c, p, http.StatusServiceUnavailable, "Please try again", "The download could not start just now.")
		return false, false
	}
	return claimed, true
}

// settle refunds a slot whose response carried no bytes, and audits.
func (s *Server) settle(c *gin.Context, p *portal, key, objectID string, claimed bool, sent int64) {
	outcome := "success"
	if c.Writer.Status() >= 400 {
		outcome = fmt.Sprintf("failure:%d", c.Writer.Status())
	}
	if claimed && (sent == 0 || c.Writer.Status() >= 400) {
		if err := s.cfg.Portal.Claims.RefundDownload(contextWithoutCancel(c), p.link.ID, p.sess.ID, key); err != nil {
			s.log.Error("refund download", "error", err)
		}
		outcome = "refunded"
	}
	if c.Request.Context().Err() != nil && outcome == "success" {
		outcome = "interrupted"
	}
	s.portalAudit(c, p, "download", outcome, objectID, map[string]string{"bytes": fmt.Sprint(sent), "method": c.Request.Method})
}

// handlePortalFile downloads one file: streamed, with Range and If-Range.
func (s *Server) handlePortalFile(c *gin.Context) {
	s.serveFile(c, false)
}

// handlePortalPreview shows images, plain text and PDF inline, sandboxed.
func (s *Server) handlePortalPreview(c *gin.Context) {
	s.serveFile(c, true)
}

func (s *Server) serveFile(c *gin.Context, inline bool) {
	p := s.signedIn(c)
	if p == nil {
		return
	}
	if p.link.Type == sesame.LinkUpload {
		s.notice(c, p, http.StatusForbidden, "Not available", "This link lets you upload files, not download them.")
		return
	}
	o, ok := s.scoped(c, p, c.Param("id"))
	if !ok {
		return
	}
	if o.IsFolder() {
		c.Redirect(http.StatusSeeOther, p.base+"/d/"+o.ID)
		return
	}
	mt := mediaOf(o)
	if inline && (!previewable[mt] || activeName(o.Name)) {
		c.Redirect(http.StatusSeeOther, p.base+"/f/"+o.ID)
		return
	}
	blob, err := s.cfg.Blobs.OpenBlob(c.Request.Context(), o.BlobKey)
	if err != nil {
		s.log.Error("open blob", "object_id", o.ID, "error", err)
		s.notice(c, p, http.StatusNotFound, "Not found", "This file's contents are missing.")
		return
	}
	defer blob.Close()
	claimed, ok := s.claim(c, p, o.ID)
	if !ok {
		return
	}
	if c.Request.Context().Err() != nil {
		s.settle(c, p, o.ID, o.ID, claimed, 0) // the client left before a byte
		return
	}
	h := c.Writer.Header()
	setDownloadHeaders(h, o.Name, contentType(o))
	if inline {
		if mt == "text/plain" {
			h.Set("Content-Type", "text/plain; charset=utf-8")
		}
		h.Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": o.Name}))
		h.Set("Content-Security-Policy", "sandbox")
	}
	if o.SHA256 != "" {
		h.Set("ETag", `"`+o.SHA256+`"`)
	}
	sent := serveBlob(c, o.Updated, blob)
	s.settle(c, p, o.ID, o.ID, claimed, sent)
}

// maxThumbSource bounds the images decoded for thumbnails.
const maxThumbSource = 20 << 20

// handlePortalThumb serves a small version of an image.
func (s *Server) handlePortalThumb(c *gin.Context) {
	p := s.signedIn(c)
	if p == nil {
		return
	}
	o, ok := s.scoped(c, p, c.Param("id"))
	if !ok {
		return
	}
	if p.link.Type == sesame.LinkUpload || p.link.MaxDownloads > 0 || !thumbable[mediaOf(o)] || o.Size > maxThumbSource {
		c.Status(http.StatusNotFound)
		return
	}
	blob, err := s.cfg.Blobs.OpenBlob(c.Request.Context(), o.BlobKey)
	if err != nil {
		c.Status(http.StatusNotFound)
		return
	}
	defer blob.Close()
	cfg, _, err := image.DecodeConfig(blob)
	if err != nil || cfg.Width*cfg.Height > 40_000_000 {
		c.Status(http.StatusNotFound)
		return
	}
	if _, err := blob.Seek(0, 0); err != nil {
		c.Status(http.StatusNotFound)
		return
	}
	src, _, err := image.Decode(blob)
	if err != nil {
		c.Status(http.StatusNotFound)
		return
	}
	const edge = 96
	b := src.Bounds()
	w, hgt := edge, edge
	if b.Dx() > b.Dy() {
		hgt = max(1, b.Dy()*edge/b.Dx())
	} else {
		w = max(1, b.Dx()*edge/b.Dy())
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, hgt))
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), src, b, draw.Src, nil)
	var buf bytes.Buffer
	if err := png.Encode(&buf, dst); err != nil {
		c.Status(http.StatusInternalServerError)
		return
	}
	c.Header("Cache-Control", "private, max-age=300")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Data(http.StatusOK, "image/png", buf.Bytes())
}

// handlePortalZip streams a ZIP of the whole link (GET) or of the ticked
// files (POST), built as it is sent. It counts as one download.
func (s *Server) handlePortalZip(c *gin.Context) {
	p := s.signedIn(c)
	if p == nil {
		return
	}
	if p.link.Type == sesame.LinkUpload {
		s.notice(c, p, http.StatusForbidden, "Not available", "This link lets you upload files, not download them.")
		return
	}
	if err := s.loadTargets(c, p); err != nil {
		s.log.Error("targets", "error", err)
		s.notice(c, p, http.StatusServiceUnavailable, "Please try again", "The files could not be listed just now.")
		return
	}
	var ids []string
	name := "files.zip"
	if c.Request.Method == http.MethodPost {
		if !s.checkCSRF(c, p, c.PostForm("csrf")) {
			s.csrfFailed(c, p)
			return
		}
		for _, id := range uniq(c.PostFormArray("id")) {
			if _, ok := s.scoped(c, p, id); !ok {
				return
			}
			ids = append(ids, id)
		}
		if len(ids) == 0 {
			s.notice(c, p, http.StatusBadRequest, "Nothing selected", "Tick the files you want, then choose Download selected.")
			return
		}
	} else {
		for _, t := range p.targets {
			ids = append(ids, t.ID)
		}
		if p.link.Title != "" {
			name = p.link.Title + ".zip"
		}
	}
	entries, err := s.cfg.Objects.ArchiveEntries(c.Request.Context(), p.link.BucketID, ids)
	if err != nil {
		s.log.Error("archive entries", "error", err)
		s.notice(c, p, http.StatusServiceUnavailable, "Please try again", "The archive could not be prepared just now.")
		return
	}
	sorted := append([]string(nil), ids...)
	sort.Strings(sorted)
	sum := sha256.Sum256([]byte(strings.Join(sorted, ",")))
	key := "zip:" + hex.EncodeToString(sum[:8])
	claimed, ok := s.claim(c, p, key)
	if !ok {
		return
	}
	setDownloadHeaders(c.Writer.Header(), name, "application/zip")
	c.Status(http.StatusOK)
	if c.Request.Method != http.MethodHead {
		if err := s.writeArchive(c, c.Writer, "zip", entries); err != nil && c.Request.Context().Err() == nil {
			s.log.Warn("zip stream", "error", err)
		}
	}
	s.settle(c, p, key, "", claimed, int64(max(c.Writer.Size(), 0)))
}
