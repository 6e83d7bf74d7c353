package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"
	tusd "github.com/tus/tusd/v2/pkg/handler"
	xslog "golang.org/x/exp/slog"

	"github.com/sesame-share/sesame"
)

// Resumable uploads speak tus 1.0 (core, creation, creation-with-upload,
// termination) at /s/{token}/tus, through tusd's handler. The handler is
// an adapter: tusStore turns each of its calls into one call of the
// portal's core, which decides every rule and keeps the state in the
// database and the blob store, so that an upload may go on at any
// replica. A request needs the visit's session and, like a form, its CSRF
// token (in the X-CSRF-Token header).

// savedAsHeader carries, once an upload is complete, the name the file
// was saved as (percent-encoded): the name asked for, cleaned, or a free
// name beside what was there.
const savedAsHeader = "Sesame-Saved-As"

// tusCall is one tus request's view of its visit. tusd passes the
// request's context values to every store call.
type tusCall struct {
	s    *Server
	p    *portal
	done context.Context // the request's own context: done when the client left
	rc   *http.ResponseController
	// Set by the store calls, read when the answer is written.
	created string // the id of the upload this request began
	saved   string // the name the upload was saved as, once complete
}

type tusCallKey struct{}

func callOf(ctx context.Context) *tusCall {
	c, _ := ctx.Value(tusCallKey{}).(*tusCall)
	return c
}

// newTusHandler builds the tus protocol handler over the portal's core.
func (s *Server) newTusHandler() (http.Handler, error) {
	st := tusStore{}
	composer := tusd.NewStoreComposer()
	composer.UseCore(st)
	composer.UseTerminater(st)
	composer.UseLocker(st)
	h, err := tusd.NewUnroutedHandler(tusd.Config{
		StoreComposer:        composer,
		BasePath:             "/tus/", // the real one is per link: tusWriter rewrites Location
		DisableDownload:      true,
		DisableConcatenation: true,
		Cors:                 &tusd.CorsConfig{Disable: true},
		// tusd logs every request; the gateway logs its own.
		Logger: xslog.New(xslog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return nil, err
	}
	return h.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPost:
			h.PostFile(w, r)
		case http.MethodHead:
			h.HeadFile(w, r)
		case http.MethodPatch:
			h.PatchFile(w, r)
		case http.MethodDelete:
			h.DelFile(w, r)
		default:
			w.WriteHeader(http.StatusMethodNotAllowed)
		}
	})), nil
}

// handlePortalTus checks the visit, its session and its CSRF token, then
// hands the request to the tus handler with the upload id as its path.
func (s *Server) handlePortalTus(c *gin.Context) {
	c.Request.Header.Set("Accept", "application/json") // errors answer as JSON, not pages
	if s.cfg.Portal.Service.Resumables == nil {
		s.portalFail(c, nil, sesame.Errorf(sesame.NotFound, "Resumable uploads are turned off."), "")
		return
	}
	p := s.openLink(c)
	if p == nil {
		return
	}
	if p.Session == nil {
		s.portalFail(c, p, sesame.Errorf(sesame.Forbidden, "Your visit has ended. Open the link again to continue."), "")
		return
	}
	if c.Request.Method != http.MethodHead && !s.checkCSRF(c, p, c.GetHeader("X-CSRF-Token")) {
		s.csrfFailed(c, p)
		return
	}
	call := &tusCall{s: s, p: p, done: c.Request.Context(), rc: http.NewResponseController(c.Writer)}
	r := c.Request.WithContext(context.WithValue(c.Request.Context(), tusCallKey{}, call))
	u := *r.URL
	u.Path, u.RawPath = "/"+c.Param("id"), ""
	r.URL = &u
	s.tus.ServeHTTP(&tusWriter{ResponseWriter: c.Writer, call: call}, r)
}

// tusWriter puts the link's own upload URL in Location, and the saved
// name in savedAsHeader, as the answer goes out.
type tusWriter struct {
	http.ResponseWriter
	call *tusCall
}

func (w *tusWriter) WriteHeader(code int) {
	h := w.Header()
	if w.call.created != "" {
		h.Set("Location", w.call.p.base+"/tus/"+w.call.created)
	}
	if w.call.saved != "" {
		h.Set(savedAsHeader, url.PathEscape(w.call.saved))
	}
	h.Set("Cache-Control", "no-store")
	w.ResponseWriter.WriteHeader(code)
}

func (w *tusWriter) Write(b []byte) (int, error) { return w.ResponseWriter.Write(b) }

// Unwrap lets tusd's ResponseController reach the connection.
func (w *tusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// tusErr turns a core error into the answer tusd sends: the status of its
// Kind and the core's message as JSON, as the portal's other scripts get
// them. Server faults are logged once and answered generically.
func (c *tusCall) tusErr(err error) error {
	if err == nil {
		return nil
	}
	var te tusd.Error
	if errors.As(err, &te) {
		return te
	}
	kind := sesame.KindOf(err)
	st, ok := statusOf[kind]
	if !ok {
		kind, st = sesame.Internal, statusOf[sesame.Internal]
	}
	msg := "Something went wrong. Please try again in a moment."
	if e := sesame.AsError(err); e != nil && e.Message != "" && kind != sesame.Internal {
		msg = e.Message
	}
	if st.HTTP >= 500 && kind != sesame.NoSpace && c.done.Err() == nil {
		c.s.log.ErrorContext(c.done, "portal tus", "error", err)
	}
	body, _ := json.Marshal(map[string]string{"message": msg}) // a string map always marshals
	return tusd.Error{ErrorCode: "ERR_SESAME", Message: msg, HTTPResponse: tusd.HTTPResponse{StatusCode: st.HTTP,
		Body: string(body), Header: tusd.HTTPHeader{"Content-Type": "application/json; charset=utf-8"}}}
}

// tusStore is tusd's DataStore, Terminater and Locker over the portal's
// core. It holds nothing: each call finds its visit in the context.
type tusStore struct{}

// errTusNoCall answers a store call outside handlePortalTus (never), as
// tusd would answer it but without internal text.
var errTusNoCall = tusd.NewError("ERR_INTERNAL_SERVER_ERROR", "Something went wrong. Please try again in a moment.", http.StatusInternalServerError)

func (tusStore) NewUpload(ctx context.Context, info tusd.FileInfo) (tusd.Upload, error) {
	call := callOf(ctx)
	if call == nil {
		return nil, errTusNoCall
	}
	ps := call.s.cfg.Portal.Service
	u, err := ps.StartResumable(ctx, call.p.Visit, info.MetaData["folder"], info.MetaData["filename"], info.Size)
	if err != nil {
		return nil, call.tusErr(err)
	}
	call.created = u.ID
	return &tusUpload{call: call, u: u}, nil
}

func (tusStore) GetUpload(ctx context.Context, id string) (tusd.Upload, error) {
	call := callOf(ctx)
	if call == nil {
		return nil, errTusNoCall
	}
	u, err := call.s.cfg.Portal.Service.Resumable(ctx, call.p.Visit, id)
	if err != nil {
		return nil, call.tusErr(err)
	}
	if u.Done() {
		call.saved = u.SavedName
	}
	return &tusUpload{call: call, u: u}, nil
}

func (tusStore) AsTerminatableUpload(up tusd.Upload) tusd.TerminatableUpload { return up.(*tusUpload) }

func (tusStore) NewLock(id string) (tusd.Lock, error) { return &tusLock{id: id}, nil }

// tusUpload is one upload, as one request sees it.
type tusUpload struct {
	call *tusCall
	u    *sesame.Resumable
}

func (up *tusUpload) WriteChunk(ctx context.Context, offset int64, src io.Reader) (int64, error) {
	ps := up.call.s.cfg.Portal.Service
	n, err := ps.WriteResumable(ctx, up.call.p.Visit, up.u, offset, &lifter{r: src, rc: up.call.rc})
	if up.u.Done() {
		up.call.saved = up.u.SavedName
	}
	return n, up.call.tusErr(err)
}

func (up *tusUpload) GetInfo(ctx context.Context) (tusd.FileInfo, error) {
	return tusd.FileInfo{ID: up.u.ID, Size: up.u.Length, Offset: up.u.Offset,
		MetaData: tusd.MetaData{"filename": up.u.Name, "folder": up.u.FolderID}}, nil
}

func (up *tusUpload) GetReader(ctx context.Context) (io.ReadCloser, error) {
	return nil, tusd.ErrNotImplemented
}

func (up *tusUpload) FinishUpload(ctx context.Context) error {
	err := up.call.s.cfg.Portal.Service.CompleteResumable(ctx, up.call.p.Visit, up.u)
	if up.u.Done() {
		up.call.saved = up.u.SavedName
	}
	return up.call.tusErr(err)
}

func (up *tusUpload) Terminate(ctx context.Context) error {
	return up.call.tusErr(up.call.s.cfg.Portal.Service.CancelResumable(ctx, up.call.p.Visit, up.u))
}

// lifter lifts the write deadline that tusd keeps moving while the body
// is read, once the body has ended: committing the last part of a large
// upload restages all of it, which may take longer than that deadline.
type lifter struct {
	r  io.Reader
	rc *http.ResponseController
}

func (l *lifter) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if err == io.EOF {
		_ = l.rc.SetWriteDeadline(time.Time{}) // a writer without deadlines has nothing to lift
	}
	return n, err
}

// tusLock is the lease on one upload (sesame.ResumableLocks), taken for
// one request.
type tusLock struct {
	id     string
	unlock func()
}

func (l *tusLock) Lock(ctx context.Context, release func()) error {
	call := callOf(ctx)
	if call == nil {
		return errTusNoCall
	}
	unlock, err := call.s.cfg.Portal.Service.LockResumable(ctx, call.p.Visit, l.id, release)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return tusd.ErrLockTimeout
	}
	if err != nil {
		return call.tusErr(err)
	}
	l.unlock = unlock
	return nil
}

func (l *tusLock) Unlock() error {
	if l.unlock != nil {
		l.unlock()
	}
	return nil
}
