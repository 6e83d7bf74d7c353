package gateway

import (
	"bytes"
	"errors"
	"image"
	_ "image/gif" // decoders for thumbnails
	_ "image/jpeg"
	"image/png"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"
	"golang.org/x/image/draw"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/templates"
)

// signedIn sends visitors without a session to the sign-in page.
func (s *Server) signedIn(c *gin.Context) *portal {
	p := s.openLink(c)
	if p == nil {
		return nil
	}
	if p.Session == nil {
		if c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead {
			c.Redirect(http.StatusSeeOther, p.base)
			c.Abort()
			return nil
		}
		s.portalFail(c, p, sesame.Errorf(sesame.Forbidden, "Your visit has ended. Open the link again to continue."), "Please sign in again")
		return nil
	}
	return p
}

// resolve loads the object id names within the link, or answers the page.
func (s *Server) resolve(c *gin.Context, p *portal, id string) (*sesame.Object, bool) {
	o, err := s.cfg.Portal.Service.Resolve(c.Request.Context(), p.Visit, id)
	if err != nil {
		s.portalFail(c, p, err, "")
		return nil, false
	}
	return o, true
}

func typeLabel(l *templates.Locale, o *sesame.Object) string {
	if o.IsFolder() {
		return l.T("Folder")
	}
	mt, _, _ := mime.ParseMediaType(o.MimeType)
	if mt == "" {
		return l.T("File")
	}
	return mt
}

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

func (s *Server) handlePortalFolder(c *gin.Context) {
	p := s.signedIn(c)
	if p == nil {
		return
	}
	s.browse(c, p, c.Param("id"))
}

// downloadFailed answers a download that could not start.
func (s *Server) downloadFailed(c *gin.Context, p *portal, err error) {
	heading := ""
	if errors.Is(err, sesame.ErrDownloadLimit) {
		heading = "Download limit reached"
	}
	s.portalFail(c, p, err, heading)
}

// handlePortalFile downloads one file: streamed, with Range and If-Range.
func (s *Server) handlePortalFile(c *gin.Context) {
	s.serveFile(c, false)
}

// handlePortalPreview serves what the viewer shows (images, text, PDF,
// audio and video) inline, sandboxed, with Range for media seeking.
func (s *Server) handlePortalPreview(c *gin.Context) {
	s.serveFile(c, true)
}

// downloadable resolves the file the request's :id names for a visitor
// who may download it; a folder goes to its listing. o is nil when the
// page has been answered.
func (s *Server) downloadable(c *gin.Context) (*portal, *sesame.Object) {
	p := s.signedIn(c)
	if p == nil {
		return nil, nil
	}
	if err := p.CanDownload(); err != nil {
		s.downloadFailed(c, p, err)
		return nil, nil
	}
	o, ok := s.resolve(c, p, c.Param("id"))
	if !ok {
		return nil, nil
	}
	if o.IsFolder() {
		c.Redirect(http.StatusSeeOther, p.base+"/d/"+o.ID)
		return nil, nil
	}
	return p, o
}

func (s *Server) serveFile(c *gin.Context, inline bool) {
	p, o := s.downloadable(c)
	if o == nil {
		return
	}
	ctx := c.Request.Context()
	ps := s.cfg.Portal.Service
	kind := viewKind(o)
	if inline && kind == "" {
		c.Redirect(http.StatusSeeOther, p.base+"/f/"+o.ID)
		return
	}
	blob, err := ps.OpenBlob(ctx, p.Visit, o)
	next := "" // where the password form leads back to
	if inline {
		next = "view"
	}
	if s.lockedRedirect(c, p, o, err, next) {
		return
	}
	if err != nil {
		s.log.ErrorContext(c.Request.Context(), "open blob", "object_id", o.ID, "error", err)
		s.notice(c, p, http.StatusNotFound, "Not found", s.t(c, "This file's contents are missing."))
		return
	}
	defer blob.Close()
	claim, err := ps.StartDownload(ctx, p.Visit, o)
	if err != nil {
		s.downloadFailed(c, p, err)
		return
	}
	if ctx.Err() != nil {
		ps.FinishDownload(ctx, p.Visit, claim, 0, c.Writer.Status(), c.Request.Method) // the client left before a byte
		return
	}
	h := c.Writer.Header()
	setDownloadHeaders(h, o.Name, contentType(o))
	if inline {
		if kind == viewText {
			h.Set("Content-Type", "text/plain; charset=utf-8")
		}
		h.Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": o.Name}))
		h.Set("Content-Security-Policy", "sandbox")
	}
	if o.SHA256 != "" {
		h.Set("ETag", `"`+o.SHA256+`"`)
	}
	sent := serveBlob(c, o.Updated, blob)
	ps.FinishDownload(ctx, p.Visit, claim, sent, c.Writer.Status(), c.Request.Method)
}

// maxThumbPixels bounds the images decoded for thumbnails (about 64 MB of
// RGBA each); maxThumbDecodes, how many decode at once.
const (
	maxThumbPixels  = 16_000_000
	maxThumbDecodes = 2
)

// maxThumbSource bounds the images decoded for thumbnails.
const maxThumbSource = 20 << 20

// handlePortalThumb serves a small version of an image.
func (s *Server) handlePortalThumb(c *gin.Context) {
	p := s.signedIn(c)
	if p == nil {
		return
	}
	o, blob, err := s.cfg.Portal.Service.Thumbnail(c.Request.Context(), p.Visit, c.Param("id"))
	if err != nil {
		c.Status(http.StatusNotFound)
		return
	}
	defer blob.Close()
	if !thumbable[mediaOf(o)] || o.Size > maxThumbSource {
		c.Status(http.StatusNotFound)
		return
	}
	// Decoding takes memory in proportion to the pixels: a few at a time,
	// of a bounded size.
	s.thumbs <- struct{}{}
	defer func() { <-s.thumbs }()
	cfg, _, err := image.DecodeConfig(blob)
	if err != nil || cfg.Width*cfg.Height > maxThumbPixels {
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

// handlePortalZip streams a ZIP of the whole link (GET), of one folder
// (GET ?id=) or of the ticked items (POST), built as it is sent. It counts
// as one download.
func (s *Server) handlePortalZip(c *gin.Context) {
	p := s.signedIn(c)
	if p == nil {
		return
	}
	var ids []string
	if id := c.Query("id"); id != "" && c.Request.Method != http.MethodPost {
		ids = []string{id}
	}
	if c.Request.Method == http.MethodPost {
		if !s.checkCSRF(c, p, c.PostForm("csrf")) {
			s.csrfFailed(c, p)
			return
		}
		ids = uniq(c.PostFormArray("id"))
		if len(ids) == 0 && p.Link.Type != sesame.LinkUpload {
			back := p.base
			if f := c.PostForm("folder"); sesame.ValidID(sesame.PrefixObject, f) {
				back += "/d/" + f
			}
			c.Redirect(http.StatusSeeOther, s.flashURL(p, back, "none", ""))
			return
		}
	}
	ps := s.cfg.Portal.Service
	entries, claim, err := ps.StartArchive(c.Request.Context(), p.Visit, ids)
	if err != nil {
		s.downloadFailed(c, p, err)
		return
	}
	setDownloadHeaders(c.Writer.Header(), portalArchiveName(p.Link.Title, ids != nil, entries), "application/zip")
	c.Status(http.StatusOK)
	if c.Request.Method != http.MethodHead {
		open := func(o *sesame.Object) (sesame.Blob, error) { return ps.OpenBlob(c.Request.Context(), p.Visit, o) }
		if err := s.writeArchive(c, c.Writer, "zip", entries, open); err != nil && c.Request.Context().Err() == nil {
			s.log.WarnContext(c.Request.Context(), "zip stream", "error", err)
		}
	}
	ps.FinishDownload(c.Request.Context(), p.Visit, claim, int64(max(c.Writer.Size(), 0)), c.Writer.Status(), c.Request.Method)
}

// portalArchiveName names a portal ZIP: a folder alone (ticked, or the
// link's only target when the link has no title) by its own name; the
// rest by the link's title; "files.zip" when the link has no title.
func portalArchiveName(title string, ticked bool, entries []sesame.ArchiveEntry) string {
	if top, ok := singleFolder(entries); ok && (ticked || title == "") {
		return sesame.SanitizeName(top + ".zip")
	}
	if title != "" {
		return title + ".zip"
	}
	return "files.zip"
}
