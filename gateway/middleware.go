package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sesame-share/sesame"
)

const (
	ctxRequestID   = "sesame.request_id"
	ctxRequestTime = "sesame.request_time"
	// ctxSentBytes holds the body bytes a handler sent around gin's writer
	// (sendfile), as an int64.
	ctxSentBytes = "sesame.sent_bytes"
)

// requestID stamps every request with a Pangea-style id, echoed in the
// x-request-id header.
func (s *Server) requestID(c *gin.Context) {
	id := sesame.NewID(sesame.PrefixRequest)
	c.Set(ctxRequestID, id)
	c.Set(ctxRequestTime, s.now())
	c.Header("x-request-id", id)
	c.Request = c.Request.WithContext(sesame.WithRequestID(c.Request.Context(), id))
	c.Next()
}

// accessLog logs one line per request. It logs the route pattern, never the
// raw path, because transfer URLs carry secrets.
func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "(no route)"
	}
	size := int64(max(c.Writer.Size(), 0))
	if n, ok := c.Get(ctxSentBytes); ok {
		size += n.(int64)
	}
	s.log.InfoContext(c.Request.Context(), "http", "method", c.Request.Method, "route", route, "status", c.Writer.Status(),
		"bytes", size, "duration_ms", time.Since(start).Milliseconds(), "request_id", c.GetString(ctxRequestID))
}

// recovery turns a panic into a logged 500 envelope that says nothing internal.
func (s *Server) recovery(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.ErrorContext(c.Request.Context(), "panic", "request_id", c.GetString(ctxRequestID), "route", c.FullPath(), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if !c.Writer.Written() {
				_, env := s.errorEnvelope(c, &sesame.Error{Kind: sesame.Internal})
				c.AbortWithStatusJSON(http.StatusInternalServerError, env)
				return
			}
			c.Abort()
		}
	}()
	c.Next()
}

// auth requires a live API token with the scope.
func (s *Server) auth(scope sesame.Scope) gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.GetHeader("Authorization")
		secret, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			secret, ok = strings.CutPrefix(h, "bearer ")
		}
		if !ok || secret == "" {
			msg := "Not authorized: send an API token as 'Authorization: Bearer sst_...'."
			s.fail(c, &sesame.Error{Kind: sesame.Unauthenticated, Message: msg,
				Fields: []sesame.FieldError{{Code: "FieldRequired", Detail: "the Authorization header must carry a bearer token", Source: ""}}})
			return
		}
		t, err := s.cfg.Tokens.Authenticate(c.Request.Context(), strings.TrimSpace(secret))
		if err != nil {
			s.fail(c, err)
			return
		}
		if scope != "" && !t.Has(scope) {
			s.fail(c, &sesame.Error{Kind: sesame.Forbidden, Message: fmt.Sprintf("This token lacks the %s scope.", scope),
				Fields: []sesame.FieldError{{Code: "BadState", Detail: fmt.Sprintf("the token needs the %s scope", scope), Source: ""}}})
			return
		}
		c.Request = c.Request.WithContext(sesame.WithToken(c.Request.Context(), t))
		c.Next()
	}
}

// bind reads the request's JSON into req and, when req can check itself,
// checks it (precheck gathers every problem of the fields' form, so that
// the reply lists them all); on any problem it answers the error and
// returns false.
func (s *Server) bind(c *gin.Context, req any) bool {
	err := s.readJSON(c, req)
	switch ch := req.(type) {
	case interface{ precheck(*sesame.Problems) }:
		if err == nil {
			var errs sesame.Problems
			ch.precheck(&errs)
			err = errs.Err()
		}
	case interface{ check() error }:
		if err == nil {
			err = ch.check()
		}
	}
	if err != nil {
		s.fail(c, err)
		return false
	}
	return true
}

// readJSON reads the capped body and decodes it into v.
func (s *Server) readJSON(c *gin.Context, v any) error {
	body, err := readCapped(c.Request, maxJSONBody)
	if err != nil {
		return err
	}
	return decodeJSON(body, v)
}

func readCapped(r *http.Request, limit int64) ([]byte, error) {
	// Sized up front when the length is declared, so that a large body
	// is read into one buffer rather than a chain of doubling ones.
	var buf bytes.Buffer
	if n := r.ContentLength; n > 0 && n <= limit {
		buf.Grow(int(n) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(nil, r.Body, limit))
	body := buf.Bytes()
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, &sesame.Error{Kind: sesame.TooLarge, Message: fmt.Sprintf("The request body is larger than %d bytes.", limit),
			Fields: []sesame.FieldError{{Code: "IsTooBig", Detail: fmt.Sprintf("JSON bodies are limited to %d bytes", limit), Source: "/"}}}
	case sesame.AsError(err) != nil:
		return nil, err
	case err != nil:
		return nil, &sesame.Error{Kind: sesame.Invalid, Message: "The request body could not be read.", Err: err}
	}
	return body, nil
}
