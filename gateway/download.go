package gateway

import (
	"archive/tar"
	"archive/zip"
	"compress/flate"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/sesame-share/sesame"
)

type getRequest struct {
	common
	ID             *string `json:"id"`
	Path           *string `json:"path"`
	TransferMethod *string `json:"transfer_method"`
	Password       *string `json:"password"`
}

func (s *Server) handleGet(c *gin.Context) {
	var req getRequest
	if !s.bind(c, &req) {
		return
	}
	tm := deref(req.TransferMethod)
	if tm != "" && tm != sesame.TransferMultipart && tm != sesame.TransferDestURL {
		s.fail(c, sesame.FieldErr("NotEnumMember", "/transfer_method", "transfer_method must be multipart or dest-url, not %q", tm))
		return
	}
	o, err := s.cfg.Objects.Lookup(c.Request.Context(), sesame.ObjectRef{BucketID: req.bucket(), ID: deref(req.ID), Path: deref(req.Path), Root: req.root()})
	if err != nil {
		s.fail(c, err)
		return
	}
	if tm == "" {
		s.ok(c, "Object found", gin.H{"object": viewObject(o)})
		return
	}
	if o.IsFolder() {
		src := "/id"
		if req.ID == nil || *req.ID == "" {
			src = "/path"
		}
		s.fail(c, sesame.FieldErr("BadState", src, "%s is a folder; download folders with get_archive", o.Path))
		return
	}
	key, err := s.cfg.Objects.Unlock(c.Request.Context(), o, deref(req.Password))
	if err != nil {
		s.fail(c, err)
		return
	}
	if tm == sesame.TransferDestURL {
		u, err := s.grantURL(c, &sesame.Grant{BucketID: o.BucketID, ObjectIDs: []string{o.ID}, Key: key}, o.Name)
		if err != nil {
			s.fail(c, err)
			return
		}
		s.ok(c, "Download URL created", gin.H{"object": viewObject(o), "dest_url": u})
		return
	}
	blob, err := s.cfg.Objects.Open(c.Request.Context(), o, key)
	if err != nil {
		s.fail(c, err)
		return
	}
	defer blob.Close()
	env := s.stamp(c, "Success", "Object found", gin.H{"object": viewObject(o)})
	s.multipartReply(c, env, o.Name, contentType(o), func(w io.Writer) error {
		_, err := io.Copy(w, blob)
		return err
	})
}

// grantURL records a download capability and returns its absolute URL. The
// file name is the last path segment, for clients that name downloads by it.
func (s *Server) grantURL(c *gin.Context, g *sesame.Grant, name string) (string, error) {
	secret, err := s.cfg.Objects.Grant(c.Request.Context(), g)
	if err != nil {
		return "", err
	}
	return s.cfg.PublicURL + "/dl/" + secret + "/" + url.PathEscape(name), nil
}

// multipartReply writes the Pangea multipart download: the JSON envelope,
// then one part with the payload, streamed by write.
func (s *Server) multipartReply(c *gin.Context, env envelope, name, ctype string, write func(io.Writer) error) {
	mw := multipart.NewWriter(c.Writer)
	c.Header("Content-Type", "multipart/form-data; boundary="+mw.Boundary())
	c.Header("Cache-Control", "no-store")
	c.Status(http.StatusOK)
	jh := textproto.MIMEHeader{}
	jh.Set("Content-Type", "application/json")
	jh.Set("Content-Disposition", `form-data; name="json"`)
	jp, err := mw.CreatePart(jh)
	if err != nil {
		s.log.WarnContext(c.Request.Context(), "multipart reply", "error", err)
		return
	}
	if err := json.NewEncoder(jp).Encode(env); err != nil {
		s.log.WarnContext(c.Request.Context(), "multipart reply", "error", err)
		return
	}
	fh := textproto.MIMEHeader{}
	fh.Set("Content-Type", ctype)
	q := quoteName(name)
	fh.Set("Content-Disposition", `form-data; name="`+q+`"; filename="`+q+`"`)
	fp, err := mw.CreatePart(fh)
	if err != nil {
		s.log.WarnContext(c.Request.Context(), "multipart reply", "error", err)
		return
	}
	if err := write(fp); err != nil {
		// The status is sent; the client sees a truncated body with no
		// closing boundary, which every multipart parser rejects.
		s.log.WarnContext(c.Request.Context(), "multipart reply stream", "request_id", env.RequestID, "error", err)
		c.Abort()
		return
	}
	if err := mw.Close(); err != nil {
		s.log.WarnContext(c.Request.Context(), "multipart reply", "error", err)
	}
}

var nameQuoter = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r", "", "\n", "")

func quoteName(s string) string { return nameQuoter.Replace(s) }

func contentType(o *sesame.Object) string {
	if o.MimeType == "" {
		return "application/octet-stream"
	}
	return o.MimeType
}

type archiveRequest struct {
	common
	IDs            []string `json:"ids"`
	Format         *string  `json:"format"`
	TransferMethod *string  `json:"transfer_method"`
}

func (s *Server) handleGetArchive(c *gin.Context) {
	var req archiveRequest
	if !s.bind(c, &req) {
		return
	}
	format := deref(req.Format)
	switch format {
	case "":
		format = "zip"
	}
	tm := deref(req.TransferMethod)
	switch tm {
	case "":
		tm = sesame.TransferMultipart
	case sesame.TransferMultipart, sesame.TransferDestURL:
	default:
		s.fail(c, sesame.FieldErr("NotEnumMember", "/transfer_method", "transfer_method must be multipart or dest-url, not %q", tm))
		return
	}
	entries, err := s.cfg.Objects.ArchiveIn(c.Request.Context(), req.bucket(), req.root(), req.IDs, format)
	if err != nil {
		s.fail(c, err)
		return
	}
	objs := make([]*sesame.Object, len(entries))
	for i, e := range entries {
		objs[i] = e.Object
	}
	name := archiveName(entries, format)
	res := gin.H{"count": len(entries), "objects": viewObjects(objs)}
	if tm == sesame.TransferDestURL {
		u, err := s.grantURL(c, &sesame.Grant{BucketID: req.bucket(), ObjectIDs: req.IDs, Archive: format}, name)
		if err != nil {
			s.fail(c, err)
			return
		}
		res["dest_url"] = u
		s.ok(c, "Archive URL created", res)
		return
	}
	env := s.stamp(c, "Success", "Archive created", res)
	s.multipartReply(c, env, name, archiveType(format), func(w io.Writer) error {
		return s.writeArchive(c, w, format, entries, s.apiOpener(c))
	})
}

func archiveName(entries []sesame.ArchiveEntry, format string) string {
	if top, ok := singleFolder(entries); ok {
		return sesame.SanitizeName(top + "." + format)
	}
	return "archive." + format
}

// singleFolder returns the name of the folder an archive's entries all
// lie in, when they are one folder and its contents.
func singleFolder(entries []sesame.ArchiveEntry) (string, bool) {
	if len(entries) == 0 || !entries[0].Object.IsFolder() {
		return "", false
	}
	top := strings.TrimSuffix(entries[0].Name, "/")
	for _, e := range entries[1:] {
		if !strings.HasPrefix(e.Name, top+"/") {
			return "", false
		}
	}
	return top, true
}

func archiveType(format string) string {
	if format == "tar" {
		return "application/x-tar"
	}
	return "application/zip"
}

// compressible reports whether deflate is worth its CPU for a type; media
// and archives are stored as they are.
func compressible(mimeType string) bool {
	mt, _, _ := strings.Cut(mimeType, ";")
	switch {
	case strings.HasPrefix(mt, "text/"), strings.HasSuffix(mt, "+xml"), strings.HasSuffix(mt, "+json"):
		return true
	}
	switch mt {
	case "application/json", "application/xml", "application/javascript", "application/x-javascript", "image/svg+xml", "application/x-tar", "application/sql":
		return true
	}
	return false
}

// writeArchive streams entries as a zip or tar into w, one blob at a time,
// so memory stays flat whatever the archive's size. Member names go
// through sesame.ArchivePath, so that no stored name (one written before
// the name rule refused backslashes, say) can lead an extractor outside
// its folder. open opens each file, as the caller may.
func (s *Server) writeArchive(c *gin.Context, w io.Writer, format string, entries []sesame.ArchiveEntry, open func(*sesame.Object) (sesame.Blob, error)) error {
	buf := make([]byte, 256<<10) // one per archive, for all its files
	copyBlob := func(dst io.Writer, o *sesame.Object) error {
		b, err := open(o)
		if err != nil {
			return err
		}
		defer b.Close()
		// Not io.Copy: a file's WriteTo falls back to 32 KiB reads when
		// dst is no socket, and each read and write is a system call.
		n, err := io.CopyBuffer(dst, struct{ io.Reader }{b}, buf)
		if err == nil && n != o.Size {
			err = fmt.Errorf("gateway: blob %s has %d bytes, want %d", o.ID, n, o.Size)
		}
		return err
	}
	if format == "tar" {
		tw := tar.NewWriter(w)
		for _, e := range entries {
			h := &tar.Header{Name: sesame.ArchivePath(e.Name), ModTime: e.Object.Updated, Format: tar.FormatPAX}
			if e.Object.IsFolder() {
				h.Typeflag, h.Mode = tar.TypeDir, 0o755
			} else {
				h.Typeflag, h.Mode, h.Size = tar.TypeReg, 0o644, e.Object.Size
			}
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
			if !e.Object.IsFolder() {
				if err := copyBlob(tw, e.Object); err != nil {
					return err
				}
			}
		}
		return tw.Close()
	}
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestSpeed)
	})
	for _, e := range entries {
		h := &zip.FileHeader{Name: sesame.ArchivePath(e.Name), Modified: e.Object.Updated, Method: zip.Store}
		if e.Object.IsFolder() {
			h.SetMode(0o755 | 1<<31)
		} else {
			h.SetMode(0o644)
			if compressible(e.Object.MimeType) {
				h.Method = zip.Deflate
			}
		}
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		if !e.Object.IsFolder() {
			if err := copyBlob(fw, e.Object); err != nil {
				return err
			}
		}
	}
	return zw.Close()
}

// apiOpener opens archive members for the API: files without a password
// (the core keeps protected files out of API archives).
func (s *Server) apiOpener(c *gin.Context) func(*sesame.Object) (sesame.Blob, error) {
	return func(o *sesame.Object) (sesame.Blob, error) { return s.cfg.Objects.Open(c.Request.Context(), o, nil) }
}

// setDownloadHeaders marks a response as a download that no browser should
// render or cache.
func setDownloadHeaders(h http.Header, name, ctype string) {
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Referrer-Policy", "no-referrer")
}

// handleDownload serves a dest-url: one file (with Range, If-Range and
// HEAD), or an archive streamed as it is built.
func (s *Server) handleDownload(c *gin.Context) {
	ctx := c.Request.Context()
	gr, err := s.cfg.Objects.OpenGrant(ctx, c.Param("secret"))
	if err != nil {
		s.fail(c, err)
		return
	}
	if format := gr.Grant.Archive; format != "" {
		setDownloadHeaders(c.Writer.Header(), archiveName(gr.Entries, format), archiveType(format))
		c.Status(http.StatusOK)
		if c.Request.Method == http.MethodHead {
			return
		}
		if err := s.writeArchive(c, c.Writer, format, gr.Entries, s.apiOpener(c)); err != nil {
			s.log.WarnContext(c.Request.Context(), "archive stream", "request_id", c.GetString(ctxRequestID), "error", err)
			c.Abort()
		}
		return
	}
	o := gr.Object
	blob, err := s.cfg.Objects.Open(ctx, o, gr.Grant.Key)
	if err != nil {
		s.fail(c, err)
		return
	}
	defer blob.Close()
	setDownloadHeaders(c.Writer.Header(), o.Name, contentType(o))
	if o.SHA256 != "" {
		c.Header("ETag", `"`+o.SHA256+`"`)
	}
	serveBlob(c, o.Updated, blob)
}
