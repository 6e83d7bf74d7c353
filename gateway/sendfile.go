package gateway

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sesame-share/sesame"
)

// directWriter lets http.ServeContent reach net/http's own writer, which
// sends a file with sendfile(2) instead of copying it through user space,
// while gin still records the status and the headers go out first. It
// counts the body bytes it sends.
type directWriter struct {
	gin.ResponseWriter
	raw  http.ResponseWriter
	sent int64
}

func newDirectWriter(w gin.ResponseWriter) *directWriter {
	raw := http.ResponseWriter(w)
	if u, ok := w.(interface{ Unwrap() http.ResponseWriter }); ok {
		raw = u.Unwrap()
	}
	return &directWriter{ResponseWriter: w, raw: raw}
}

func (w *directWriter) Write(b []byte) (int, error) {
	w.ResponseWriter.WriteHeaderNow()
	n, err := w.raw.Write(b)
	w.sent += int64(n)
	return n, err
}

func (w *directWriter) WriteString(s string) (int, error) { return w.Write([]byte(s)) }

// ReadFrom implements io.ReaderFrom, so io.Copy hands the file to the
// connection.
func (w *directWriter) ReadFrom(r io.Reader) (int64, error) {
	w.ResponseWriter.WriteHeaderNow()
	// Send the headers first: net/http would otherwise buffer the first
	// bytes and count them as sent even when the client has gone.
	if err := http.NewResponseController(w.raw).Flush(); err != nil {
		return 0, err
	}
	n, err := io.Copy(w.raw, r)
	w.sent += n
	return n, err
}

// maxRanges bounds the ranges one request may ask for.
const maxRanges = 16

// serveBlob serves a stored file with Range, If-Range and HEAD support,
// through sendfile when the blob is an open file, and returns the body
// bytes sent.
func serveBlob(c *gin.Context, modTime time.Time, blob sesame.Blob) int64 {
	var content io.ReadSeeker = blob
	if f, ok := blob.(interface{ OSFile() *os.File }); ok {
		content = f.OSFile()
	}
	if r := c.GetHeader("Range"); r != "" {
		specs := strings.Split(strings.TrimPrefix(r, "bytes="), ",")
		switch {
		case slices.ContainsFunc(specs, func(s string) bool { return strings.TrimSpace(s) == "-0" }):
			// An empty suffix asks for nothing; net/http would answer an
			// empty 206 with an impossible Content-Range.
			c.Header("Content-Range", fmt.Sprintf("bytes */%d", blob.Size()))
			c.Status(http.StatusRequestedRangeNotSatisfiable)
			return 0
		case len(specs) > maxRanges:
			// Hundreds of tiny ranges cost far more than the file: send it whole.
			c.Request.Header.Del("Range")
		}
	}
	w := newDirectWriter(c.Writer)
	http.ServeContent(w, c.Request, "", modTime, content)
	// gin's writer never sees these bytes; the access log reads them here.
	c.Set(ctxSentBytes, w.sent)
	return w.sent
}
