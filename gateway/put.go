package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/sesame-share/sesame"
)

type putRequest struct {
	common
	TransferMethod    *string           `json:"transfer_method"`
	Name              *string           `json:"name"`
	ParentID          *string           `json:"parent_id"`
	Folder            *string           `json:"folder"`
	Path              *string           `json:"path"`
	Size              *int64            `json:"size"`
	CRC32C            *string           `json:"crc32c"`
	SHA256            *string           `json:"sha256"`
	MD5               *string           `json:"md5"`
	SHA1              *string           `json:"sha1"`
	SHA512            *string           `json:"sha512"`
	Format            *string           `json:"format"`
	MimeType          *string           `json:"mimetype"`
	Metadata          map[string]string `json:"metadata"`
	Tags              []string          `json:"tags"`
	Password          *string           `json:"password"`
	PasswordAlgorithm *string           `json:"password_algorithm"`
	FileTTL           *string           `json:"file_ttl"`
	SourceURL         *string           `json:"source_url"`
}

var hashLens = map[string]int{"crc32c": 8, "md5": 32, "sha1": 40, "sha256": 64, "sha512": 128}

// declared reads what the request says about the payload.
func (r *putRequest) declared() (sesame.Declared, error) {
	d := sesame.Declared{Size: r.Size, MimeType: deref(r.MimeType), Format: deref(r.Format)}
	var errs sesame.Problems
	if r.Size != nil && *r.Size < 0 {
		errs.Addf("NotWithinRange", "/size", "size must not be negative")
	}
	for _, h := range []struct {
		field string
		v     *string
		dst   *string
	}{{"crc32c", r.CRC32C, &d.CRC32C}, {"sha256", r.SHA256, &d.SHA256}, {"md5", r.MD5, &d.MD5}, {"sha1", r.SHA1, &d.SHA1}, {"sha512", r.SHA512, &d.SHA512}} {
		v := strings.ToLower(deref(h.v))
		if v == "" {
			continue
		}
		if len(v) != hashLens[h.field] || strings.Trim(v, "0123456789abcdef") != "" {
			errs.Addf("DoesNotMatchPattern", "/"+h.field, "%s must be %d hex digits", h.field, hashLens[h.field])
			continue
		}
		*h.dst = v
	}
	return d, errs.Err()
}

// spec validates a put request and turns it into a FileCreate. fallbackName
// is the multipart file name, used when the request names no file.
func (r *putRequest) spec(fallbackName string) (sesame.FileCreate, error) {
	var errs sesame.Problems
	r.precheck(&errs)
	if err := errs.Err(); err != nil {
		return sesame.FileCreate{}, err
	}
	if r.Format != nil && !sesame.KnownFormat(*r.Format) {
		return sesame.FileCreate{}, sesame.FieldErr("NotEnumMember", "/format", "format %q is not a known file format (use upper case, such as PDF or PNG)", *r.Format)
	}
	d, err := r.declared()
	if err != nil {
		return sesame.FileCreate{}, err
	}
	name := r.Name
	if (name == nil || *name == "") && (r.Path == nil || *r.Path == "") && (r.Folder == nil || strings.Trim(*r.Folder, "/") == "" || strings.HasSuffix(*r.Folder, "/")) &&
		fallbackName != "" && fallbackName != "blob" {
		name = &fallbackName
	}
	p, err := placement(r.bucket(), name, r.ParentID, r.Folder, r.Path)
	if err != nil {
		return sesame.FileCreate{}, err
	}
	p.Root = r.root()
	return sesame.FileCreate{Placement: p, Metadata: r.Metadata, Tags: r.Tags, Declared: d, FileTTL: sesame.FileTTL(deref(r.FileTTL)),
		Password: r.Password, PasswordAlgorithm: deref(r.PasswordAlgorithm)}, nil
}

func (s *Server) handlePut(c *gin.Context) {
	mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if mt == "multipart/form-data" {
		s.putMultipart(c)
		return
	}
	var req putRequest
	if !s.bind(c, &req) {
		return
	}
	switch tm := deref(req.TransferMethod); tm {
	case sesame.TransferPostURL, sesame.TransferPutURL, "direct":
		if tm == "direct" {
			tm = sesame.TransferPostURL
		}
		s.putAnnounce(c, &req, tm)
	case "", sesame.TransferMultipart:
		s.fail(c, sesame.FieldErr("FieldRequired", "/file", "a multipart upload needs a multipart/form-data body with a 'request' part and a file part"))
	case sesame.TransferSourceURL:
		s.fail(c, sesame.FieldErr("NotEnumMember", "/transfer_method", "transfer_method source-url is not supported by this server; use multipart, post-url or put-url"))
	default:
		s.fail(c, sesame.FieldErr("NotEnumMember", "/transfer_method", "transfer_method must be multipart, post-url or put-url, not %q", tm))
	}
}

// putMultipart reads the 'request' JSON part and the first other part, the
// payload, which streams to staging while it is hashed.
func (s *Server) putMultipart(c *gin.Context) {
	ctx := c.Request.Context()
	objects := s.cfg.Objects
	if limit := objects.Policy.MaxFileSize; limit > 0 {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit+maxJSONBody)
	}
	mr, err := c.Request.MultipartReader()
	if err != nil {
		s.fail(c, &sesame.Error{Kind: sesame.Invalid, Message: "The multipart body could not be read.", Err: errors.Join(errInvalidPayload, err),
			Fields: []sesame.FieldError{{Code: "BadFormat", Detail: "the multipart body could not be read", Source: "/"}}})
		return
	}
	pp := &putParts{ctx: ctx, objects: objects, mr: mr}
	spec, err := pp.read()
	if err != nil {
		objects.Discard(ctx, pp.upload)
		s.fail(c, err)
		return
	}
	o, err := objects.Commit(ctx, spec, pp.upload)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.ok(c, "Object created", gin.H{"object": viewObject(o)})
}

// putParts reads a multipart put: the JSON request and the payload, in
// either order.
type putParts struct {
	ctx     context.Context
	objects *sesame.ObjectService
	mr      *multipart.Reader
	req     *putRequest
	upload  *sesame.Upload
	payName string
}

// read reads up to the closing boundary (a body cut off after the payload
// is still a broken upload) and returns the validated request.
func (pp *putParts) read() (sesame.FileCreate, error) {
	atEnd := false
	for pp.req == nil || pp.upload == nil {
		part, err := pp.mr.NextPart()
		if err == io.EOF {
			atEnd = true
			break
		}
		if err != nil {
			return sesame.FileCreate{}, multipartErr(err)
		}
		switch {
		case part.FormName() == "request" && pp.req == nil:
			err = pp.readRequest(part)
		case pp.upload == nil:
			err = pp.stage(part)
		}
		if err != nil {
			return sesame.FileCreate{}, err
		}
	}
	if pp.req == nil {
		return sesame.FileCreate{}, sesame.FieldErr("FieldRequired", "/request", "the multipart body needs a 'request' part holding the JSON request")
	}
	if pp.upload == nil {
		return sesame.FileCreate{}, sesame.FieldErr("FieldRequired", "/file", "the multipart body needs a file part after the 'request' part")
	}
	if err := drainIfOpen(pp.mr, atEnd); err != nil {
		return sesame.FileCreate{}, multipartErr(err)
	}
	return pp.req.spec(pp.payName)
}

func (pp *putParts) readRequest(part *multipart.Part) error {
	body, err := io.ReadAll(io.LimitReader(part, maxJSONBody+1))
	if err != nil {
		return multipartErr(err)
	}
	if len(body) > maxJSONBody {
		return sesame.FieldErr("IsTooBig", "/", "the request part is larger than %d bytes", maxJSONBody).WithKind(sesame.TooLarge)
	}
	pp.req = &putRequest{}
	if err := decodeJSON(body, pp.req); err != nil {
		return err
	}
	return checkMultipartMethod(pp.req)
}

// checkMultipartMethod accepts the transfer methods the document allows in
// a multipart put that sesame serves. The bytes are in the body already, so
// put-url (what the SDKs' put() sends for it) and post-url store them at
// once, with no upload URL; post-url still needs what the document requires
// with it.
func checkMultipartMethod(req *putRequest) error {
	switch tm := deref(req.TransferMethod); tm {
	case "", sesame.TransferMultipart, sesame.TransferPutURL:
		return nil
	case sesame.TransferPostURL:
		d, err := req.declared()
		if err != nil {
			return err
		}
		return sesame.CheckPostURL(d)
	case sesame.TransferSourceURL:
		return sesame.FieldErr("NotEnumMember", "/transfer_method", "transfer_method source-url is not supported by this server; send the file in the body")
	default:
		return sesame.FieldErr("NotEnumMember", "/transfer_method", "a multipart body goes with transfer_method multipart, put-url or post-url, not %q", tm)
	}
}

// stage streams the payload part into staging; a request already read is
// checked first, so a bad one is refused before the bytes are read.
func (pp *putParts) stage(part *multipart.Part) error {
	pp.payName = part.FileName()
	if pp.req == nil {
		up, err := pp.objects.Stage(pp.ctx, part, pp.payName)
		pp.upload = up
		return err
	}
	spec, err := pp.req.spec(pp.payName)
	if err != nil {
		return err
	}
	// The object's own name tells its type; SDKs name every part "blob".
	up, err := pp.objects.StageFile(pp.ctx, spec, part, spec.Name)
	pp.upload = up
	return err
}

func drainIfOpen(mr *multipart.Reader, atEnd bool) error {
	if atEnd {
		return nil
	}
	return drainParts(mr)
}

// drainParts reads the rest of a multipart body up to its closing boundary.
func drainParts(mr *multipart.Reader) error {
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := io.Copy(io.Discard, p); err != nil {
			return err
		}
	}
}

func multipartErr(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &sesame.Error{Kind: sesame.TooLarge, Message: fmt.Sprintf("The upload is larger than the limit of %d bytes.", mbe.Limit), Err: err}
	}
	return &sesame.Error{Kind: sesame.Invalid, Message: "The multipart body is malformed or was cut off.", Err: errors.Join(errInvalidPayload, err),
		Fields: []sesame.FieldError{{Code: "BadFormat", Detail: "the multipart body is malformed or was cut off", Source: "/"}}}
}

// acceptedResult is the body of a 202 reply for an announced upload.
type acceptedResult struct {
	TTLMins      int    `json:"ttl_mins"`
	RetryCounter int    `json:"retry_counter"`
	Location     string `json:"location"`
	PostURL      string `json:"post_url,omitempty"`
	PostFormData any    `json:"post_form_data,omitempty"` // an object, even when empty
	PutURL       string `json:"put_url,omitempty"`
}

// putAnnounce starts a post-url or put-url upload: it records the request
// and answers 202 with a single-use URL to send the bytes to.
func (s *Server) putAnnounce(c *gin.Context, req *putRequest, method string) {
	spec, err := req.spec("")
	if err != nil {
		s.fail(c, err)
		return
	}
	p, secret, err := s.cfg.Objects.Announce(c.Request.Context(), spec, method, c.GetString(ctxRequestID))
	if err != nil {
		s.fail(c, err)
		return
	}
	res := s.accepted(p)
	url := s.cfg.PublicURL + "/upload/" + secret
	if method == sesame.TransferPostURL {
		res.PostURL, res.PostFormData = url, map[string]string{}
	} else {
		res.PutURL = url
	}
	c.JSON(http.StatusAccepted, s.stamp(c, "Accepted", "Upload URL created; send the file to it, then poll location", res))
}

func (s *Server) accepted(p *sesame.PendingUpload) acceptedResult {
	mins := int(math.Ceil(p.Expires.Sub(s.now()).Minutes()))
	return acceptedResult{TTLMins: max(mins, 0), RetryCounter: 0, Location: s.cfg.PublicURL + "/request/" + p.ID}
}

// handleUploadPost receives the bytes of a post-url upload: form fields,
// then a file part.
func (s *Server) handleUploadPost(c *gin.Context) {
	p, ok := s.claimUpload(c, sesame.TransferPostURL)
	if !ok {
		return
	}
	mr, err := c.Request.MultipartReader()
	if err != nil {
		s.finishUpload(c, p, nil, "", multipartErr(err))
		return
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			s.finishUpload(c, p, nil, "", sesame.FieldErr("FieldRequired", "/file", "the form needs a 'file' part"))
			return
		}
		if err != nil {
			s.finishUpload(c, p, nil, "", multipartErr(err))
			return
		}
		if part.FileName() == "" && part.FormName() != "file" {
			continue // a post_form_data field
		}
		s.finishUpload(c, p, &wholeBody{part: part, mr: mr}, part.FileName(), nil)
		return
	}
}

// wholeBody reads a file part and then the rest of the multipart body up
// to its closing boundary, so that a body cut off after the payload fails
// the upload instead of storing it.
type wholeBody struct {
	part io.Reader
	mr   *multipart.Reader
}

func (w *wholeBody) Read(b []byte) (int, error) {
	n, err := w.part.Read(b)
	if err == io.EOF {
		if derr := drainParts(w.mr); derr != nil {
			return n, multipartErr(derr)
		}
	}
	return n, err
}

// handleUploadPut receives the raw bytes of a put-url upload.
func (s *Server) handleUploadPut(c *gin.Context) {
	p, ok := s.claimUpload(c, sesame.TransferPutURL)
	if !ok {
		return
	}
	s.finishUpload(c, p, c.Request.Body, "", nil)
}

func (s *Server) claimUpload(c *gin.Context, method string) (*sesame.PendingUpload, bool) {
	p, err := s.cfg.Objects.ClaimUpload(c.Request.Context(), c.Param("secret"), method)
	if n := sesame.AuditNoteFrom(c.Request.Context()); n != nil && p != nil {
		n.Actor = p.TokenID // the URL acts for the token that announced it
	}
	if err != nil {
		s.fail(c, err)
		return nil, false
	}
	if limit := s.cfg.Objects.Policy.MaxFileSize; limit > 0 {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit+maxJSONBody)
	}
	return p, true
}

// finishUpload stores the bytes of a claimed upload through the core,
// which records the outcome for polling, and answers the uploader.
func (s *Server) finishUpload(c *gin.Context, p *sesame.PendingUpload, r io.Reader, name string, readErr error) {
	if _, err := s.cfg.Objects.CompleteUpload(c.Request.Context(), p, r, name, readErr); err != nil {
		s.fail(c, err)
		return
	}
	s.ok(c, "Upload received", gin.H{})
}

// handleRequestPoll answers GET /request/{id}: 202 while an announced upload
// waits for its bytes, then the put result.
func (s *Server) handleRequestPoll(c *gin.Context) {
	p, o, err := s.cfg.Objects.Poll(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	// The poll answers under the original request id.
	c.Set(ctxRequestID, p.ID)
	c.Header("x-request-id", p.ID)
	switch p.Status {
	case sesame.PendingDone:
		s.ok(c, "Object created", gin.H{"object": viewObject(o)})
	case sesame.PendingFailed:
		s.fail(c, p.Failure)
	default:
		if !s.now().Before(p.Expires) {
			s.fail(c, sesame.FieldErr("BadState", "/", "the upload URL expired before the file arrived"))
			return
		}
		c.JSON(http.StatusAccepted, s.stamp(c, "Accepted", "Waiting for the file to be uploaded", s.accepted(p)))
	}
}
