package gateway

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"hash"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/sesame-share/sesame"
)

// maxReplayBody caps a response kept for replay; a larger one is not kept.
const maxReplayBody = 4 << 20

// captureWriter keeps a copy of the response for an idempotency record.
type captureWriter struct {
	gin.ResponseWriter
	buf      bytes.Buffer
	overflow bool
}

func (w *captureWriter) Write(b []byte) (int, error) {
	if !w.overflow {
		if w.buf.Len()+len(b) > maxReplayBody {
			w.overflow = true
			w.buf.Reset()
		} else {
			w.buf.Write(b)
		}
	}
	return w.ResponseWriter.Write(b)
}

func (w *captureWriter) WriteString(s string) (int, error) { return w.Write([]byte(s)) }

type hashingBody struct {
	io.Reader
	io.Closer
}

// idempotent gives a route Stripe's Idempotency-Key semantics, per token
// (sesame.IdempotencyKey): the first request with a key runs and its
// response is kept for 24 h; a repeat with the same body gets that response
// again; a repeat with another body gets 422; a repeat while the first
// still runs gets 409. A response of 500 or more is not kept.
func (s *Server) idempotent(c *gin.Context) {
	key := c.GetHeader("Idempotency-Key")
	if key == "" {
		c.Next()
		return
	}
	ctx := c.Request.Context()
	route := c.FullPath()
	k := sesame.IdempotencyKey{Store: s.cfg.Audit, TokenID: sesame.TokenFrom(ctx).ID, Key: key, Route: route}
	h := sha256.New()
	h.Write([]byte(route + "\x00"))
	// The fingerprint covers the whole body, read or not by the handler.
	fingerprint := func() ([]byte, error) {
		if _, err := io.Copy(h, c.Request.Body); err != nil {
			return nil, readErr(err)
		}
		return sum(h), nil
	}
	prev, err := k.Claim(ctx, fingerprint)
	if err != nil {
		s.fail(c, err)
		return
	}
	if prev != nil {
		var first struct {
			RequestID string `json:"request_id"`
		}
		if json.Unmarshal(prev.Body, &first) == nil && first.RequestID != "" {
			c.Header("x-request-id", first.RequestID)
		}
		c.Header("Idempotent-Replayed", "true")
		c.Data(prev.Status, "application/json; charset=utf-8", prev.Body)
		c.Abort()
		return
	}
	body := c.Request.Body
	c.Request.Body = hashingBody{Reader: io.TeeReader(body, h), Closer: body}
	w := &captureWriter{ResponseWriter: c.Writer}
	c.Writer = w
	c.Next()
	status := w.Status()
	keep := status < 500 && !w.overflow && ctx.Err() == nil
	var fp []byte
	if keep {
		if fp, err = fingerprint(); err != nil {
			s.log.WarnContext(c.Request.Context(), "drain body for idempotency", "error", err)
			keep = false
		}
	}
	if err := k.Settle(ctx, keep, fp, status, w.buf.Bytes()); err != nil {
		s.log.ErrorContext(c.Request.Context(), "settle idempotency key", "error", err)
	}
}

func sum(h hash.Hash) []byte { return h.Sum(nil) }

func readErr(err error) error {
	if _, ok := err.(*http.MaxBytesError); ok {
		return &sesame.Error{Kind: sesame.TooLarge, Message: "The request body is too large.", Err: err}
	}
	return &sesame.Error{Kind: sesame.Invalid, Message: "The request body could not be read.", Err: err}
}

func uniq(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
