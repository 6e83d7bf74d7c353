package gateway

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sesame-share/sesame"
)

// envelope is the six-key Pangea response.
type envelope struct {
	RequestID    string `json:"request_id"`
	RequestTime  string `json:"request_time"`
	ResponseTime string `json:"response_time"`
	Status       string `json:"status"`
	Summary      string `json:"summary"`
	Result       any    `json:"result"`
}

type errorItem struct {
	Code   string `json:"code"`
	Detail string `json:"detail"`
	Source string `json:"source"`
}

type errorResult struct {
	Errors []errorItem `json:"errors"`
}

// statusOf maps each Kind to its HTTP status, Pangea status string, default
// error code and summary. Status strings are the ones the SDKs map to their
// error classes (a 403 is Unauthorized, which they report as "not authorized
// to access the service"); codes are members of the OpenAPI document's enum,
// so a kind with no validation meaning of its own gets BadState.
var statusOf = map[sesame.Kind]struct {
	HTTP    int
	Status  string
	Code    string
	Summary string
}{
	sesame.Internal:        {http.StatusInternalServerError, "InternalError", "BadState", "Something went wrong on the server."},
	sesame.Invalid:         {http.StatusBadRequest, "ValidationError", "BadFormat", "The request is not valid."},
	sesame.NotFound:        {http.StatusNotFound, "NotFound", "DoesNotExist", "Not found."},
	sesame.Conflict:        {http.StatusConflict, "ValidationError", "BadState", "The request conflicts with the current state."},
	sesame.Unauthenticated: {http.StatusUnauthorized, "Unauthorized", "DoesNotExist", "Not authorized: send a valid API token as 'Authorization: Bearer sst_...'."},
	sesame.Forbidden:       {http.StatusForbidden, "Unauthorized", "BadState", "This token is not allowed to do that."},
	sesame.TooManyAttempts: {http.StatusTooManyRequests, "TooManyRequests", "BadState", "Too many requests; slow down."},
	sesame.Unavailable:     {http.StatusServiceUnavailable, "ServiceNotAvailable", "BadState", "The service is temporarily unavailable."},
	sesame.TooLarge:        {http.StatusRequestEntityTooLarge, "ValidationError", "IsTooBig", "The request is too large."},
	sesame.NoSpace:         {http.StatusInsufficientStorage, "ServiceNotAvailable", "IsTooBig", "The server has no space left for this upload."},
	sesame.Unprocessable:   {http.StatusUnprocessableEntity, "ValidationError", "BadState", "The request contradicts an earlier one."},
}

// errInvalidPayload marks a body that is not JSON at all.
var errInvalidPayload = errors.New("invalid payload")

func (s *Server) stamp(c *gin.Context, status, summary string, result any) envelope {
	rt, _ := c.Get(ctxRequestTime)
	start, _ := rt.(time.Time)
	return envelope{
		RequestID:    c.GetString(ctxRequestID),
		RequestTime:  sesame.FormatTime(start),
		ResponseTime: sesame.FormatTime(s.now()),
		Status:       status,
		Summary:      summary,
		Result:       result,
	}
}

// ok writes a Success envelope.
func (s *Server) ok(c *gin.Context, summary string, result any) {
	c.JSON(http.StatusOK, s.stamp(c, "Success", summary, result))
}

// errorEnvelope builds the envelope and HTTP status for err.
func (s *Server) errorEnvelope(c *gin.Context, err error) (int, envelope) {
	kind := sesame.KindOf(err)
	st, ok := statusOf[kind]
	if !ok {
		st = statusOf[sesame.Internal]
	}
	summary := st.Summary
	var items []errorItem
	if e := sesame.AsError(err); e != nil && kind != sesame.Internal {
		if e.Message != "" {
			summary = e.Message
		}
		for _, f := range e.Fields {
			items = append(items, errorItem{Code: f.Code, Detail: f.Detail, Source: f.Source})
		}
	}
	status := st.Status
	if errors.Is(err, errInvalidPayload) {
		status = "InvalidPayloadReceived"
	}
	if len(items) == 0 {
		items = []errorItem{{Code: st.Code, Detail: summary, Source: ""}}
	}
	return st.HTTP, s.stamp(c, status, summary, errorResult{Errors: items})
}

// fail answers with the error envelope for err, logging server faults once.
// A client that has gone away gets nothing.
func (s *Server) fail(c *gin.Context, err error) {
	if ctx := c.Request.Context(); ctx.Err() != nil && !bodyExpired(ctx) {
		c.Abort()
		return
	}
	code, env := s.errorEnvelope(c, err)
	if code >= 500 {
		s.log.ErrorContext(c.Request.Context(), "request failed", "request_id", env.RequestID, "route", c.FullPath(), "status", code, "error", err)
	}
	if code == http.StatusServiceUnavailable {
		c.Header("Retry-After", "1")
	}
	if c.Writer.Written() {
		// Headers are gone already (a stream broke midway); all we can do
		// is stop.
		c.Abort()
		return
	}
	c.AbortWithStatusJSON(code, env)
}
