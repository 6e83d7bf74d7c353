package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/authenticators"
	"github.com/sesame-share/sesame/notify"
	"github.com/sesame-share/sesame/store"
)

func newInternalServer(t *testing.T, logs io.Writer) *Server {
	t.Helper()
	log := slog.New(slog.NewTextHandler(logs, nil))
	st, err := store.Open(context.Background(), store.Config{DataDir: t.TempDir(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s, err := New(Config{Objects: &sesame.ObjectService{Store: st, Blobs: st}, Tokens: st,
		Links: &sesame.LinkService{Store: st, Mailer: newMailer(t, st), Hasher: authenticators.NewPassword(), Policy: sesame.DefaultLinkPolicy()},
		Portal: PortalConfig{Service: &sesame.PortalService{Access: st, Objects: st, Blobs: st, Audit: st,
			Authenticators: map[sesame.AuthType]sesame.Authenticator{sesame.AuthPassword: authenticators.PasswordAuthenticator{Hasher: authenticators.NewPassword()},
				sesame.AuthEmailOTP: authenticators.PasswordAuthenticator{}, sesame.AuthSMSOTP: authenticators.PasswordAuthenticator{}}},
			CSRFKey: st.CSRFKey()},
		Audit: st, Outbox: st, PublicURL: "http://sesame.test", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRecovery_PanicIsA500EnvelopeWithoutDetail(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	s := newInternalServer(t, &logs)
	s.engine.POST("/v1/boom", func(*gin.Context) { panic("db password is hunter2") })
	w := httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/v1/boom", strings.NewReader("{}")))
	if w.Code != http.StatusInternalServerError {
		t.Fatalf("got %d, want 500", w.Code)
	}
	var env envelope
	if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil {
		t.Fatalf("not an envelope: %s", w.Body)
	}
	if env.Status != "InternalError" || strings.Contains(w.Body.String(), "hunter2") {
		t.Fatalf("got %s", w.Body)
	}
	if !strings.Contains(logs.String(), "hunter2") || !strings.Contains(logs.String(), env.RequestID) {
		t.Fatalf("the panic was not logged with its request id: %s", logs.String())
	}
}

func TestErrorEnvelope_StatusOfEveryKind(t *testing.T) {
	t.Parallel()
	s := newInternalServer(t, io.Discard)
	cases := []struct {
		kind    sesame.Kind
		code    int
		status  string
		errCode string
	}{
		{sesame.Internal, 500, "InternalError", "BadState"},
		{sesame.Invalid, 400, "ValidationError", "BadFormat"},
		{sesame.NotFound, 404, "NotFound", "DoesNotExist"},
		{sesame.Conflict, 409, "ValidationError", "BadState"},
		{sesame.Unauthenticated, 401, "Unauthorized", "DoesNotExist"},
		{sesame.Forbidden, 403, "Unauthorized", "BadState"},
		{sesame.TooManyAttempts, 429, "TooManyRequests", "BadState"},
		{sesame.Unavailable, 503, "ServiceNotAvailable", "BadState"},
		{sesame.TooLarge, 413, "ValidationError", "IsTooBig"},
		{sesame.NoSpace, 507, "ServiceNotAvailable", "IsTooBig"},
		{sesame.Unprocessable, 422, "ValidationError", "BadState"},
	}
	for _, tt := range cases {
		for name, err := range map[string]error{
			"Plain":   &sesame.Error{Kind: tt.kind, Message: "Safe words.", Err: errors.New("internal words")},
			"Wrapped": fmt.Errorf("layer: %w", &sesame.Error{Kind: tt.kind, Message: "Safe words.", Err: errors.New("internal words")}),
		} {
			t.Run(tt.kind.String()+"/"+name, func(t *testing.T) {
				c, _ := gin.CreateTestContext(httptest.NewRecorder())
				c.Request = httptest.NewRequest(http.MethodPost, "/", nil)
				code, env := s.errorEnvelope(c, err)
				if code != tt.code || env.Status != tt.status {
					t.Fatalf("got %d %s, want %d %s", code, env.Status, tt.code, tt.status)
				}
				b, _ := json.Marshal(env)
				if strings.Contains(string(b), "internal words") {
					t.Fatalf("internal text leaked: %s", b)
				}
				if tt.kind != sesame.Internal && env.Summary != "Safe words." {
					t.Fatalf("summary %q", env.Summary)
				}
				res := env.Result.(errorResult)
				if len(res.Errors) != 1 || res.Errors[0].Code != tt.errCode || res.Errors[0].Detail == "" {
					t.Fatalf("errors %+v, want one with code %s", res.Errors, tt.errCode)
				}
			})
		}
	}
	// A plain Go error is an Internal fault.
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest(http.MethodPost, "/", nil)
	if code, env := s.errorEnvelope(c, errors.New("sql: connection refused")); code != 500 || strings.Contains(env.Summary, "sql") {
		t.Fatalf("got %d %q", code, env.Summary)
	}
}

func newMailer(t *testing.T, st *store.Store) *notify.Mailer {
	t.Helper()
	m, err := notify.NewMailer(notify.MailerConfig{Links: st, Objects: st, PublicURL: "http://sesame.test"})
	if err != nil {
		t.Fatal(err)
	}
	return m
}
