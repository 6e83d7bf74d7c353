package gateway

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sesame-share/sesame"
)

// Reading a request's body is bounded per request instead of by the
// http.Server's ReadTimeout, which would give a sign-in form the hours an
// upload needs. Every body gets Config.RequestTimeout; routes that take
// uploads extend it to Config.UploadTimeout (uploadBody). Once the body has
// been read to its end the deadline is lifted: net/http keeps reading the
// connection in the background to notice a client that leaves, and a
// deadline left in place would cancel a long download at that point.

// deadlineBody is a request body under a read deadline.
type deadlineBody struct {
	io.ReadCloser
	rc      *http.ResponseController
	expired atomic.Bool // the deadline cut the body off
}

type deadlineKey struct{}

// limitBody puts r's body, if it has one, under the request deadline, and
// returns the request to serve.
func (s *Server) limitBody(w http.ResponseWriter, r *http.Request) *http.Request {
	if r.Body == nil || r.Body == http.NoBody || s.cfg.RequestTimeout <= 0 {
		return r
	}
	b := &deadlineBody{ReadCloser: r.Body, rc: http.NewResponseController(w)}
	b.set(time.Now().Add(s.cfg.RequestTimeout))
	r = r.WithContext(context.WithValue(r.Context(), deadlineKey{}, b))
	r.Body = b
	return r
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	switch {
	case err == io.EOF:
		b.set(time.Time{})
	case errors.Is(err, os.ErrDeadlineExceeded):
		b.expired.Store(true)
		err = &sesame.Error{Kind: sesame.Invalid, Message: "The request body arrived too slowly and was cut off.", Err: err}
	}
	return n, err
}

// bodyExpired reports whether the request's body deadline cut it off. The
// client is still there then, although net/http has cancelled the
// request's context as it does on any read error.
func bodyExpired(ctx context.Context) bool {
	b, ok := ctx.Value(deadlineKey{}).(*deadlineBody)
	return ok && b.expired.Load()
}

// set moves the connection's read deadline; zero lifts it.
func (b *deadlineBody) set(t time.Time) {
	// A writer that cannot set deadlines (httptest.ResponseRecorder) has
	// no connection to protect.
	_ = b.rc.SetReadDeadline(t)
}

// uploadBody gives an upload's body Config.UploadTimeout instead of
// Config.RequestTimeout. A JSON body (a put that asks for an upload URL)
// is not an upload.
func (s *Server) uploadBody(c *gin.Context) {
	if b, ok := c.Request.Body.(*deadlineBody); ok && c.ContentType() != "application/json" {
		var t time.Time
		if s.cfg.UploadTimeout > 0 {
			t = time.Now().Add(s.cfg.UploadTimeout)
		}
		b.set(t)
	}
	c.Next()
}
