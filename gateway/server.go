// Package gateway serves sesame over HTTP with gin: the Pangea-compatible
// JSON API, the transfer URLs it hands out, and health checks. It depends
// only on the roles in package sesame, never on their implementations.
package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/gateway/mcp"
)

// Config carries what a Server needs. Every role is required.
type Config struct {
	// Objects applies the object rules for the API and the MCP tools.
	Objects *sesame.ObjectService
	Tokens  sesame.TokenStore
	// Links applies the link rules: who may read, create, change, delete
	// and send links.
	Links *sesame.LinkService
	// Audit receives an event for every mutation.
	Audit sesame.AuditLog
	// Outbox shows delivery status.
	Outbox sesame.Outbox
	// Webhooks manages webhooks (/v1/webhooks/...); nil serves none.
	Webhooks *sesame.WebhookService
	// Portal serves the recipient pages under /s/.
	Portal PortalConfig
	// Version is reported to MCP clients.
	Version string
	// Ready reports whether the server can take traffic (for /readyz).
	Ready func(ctx context.Context) error

	// PublicURL is the base of every URL the server hands out, such as
	// "https://share.example.com".
	PublicURL string
	// TrustedProxies may set X-Forwarded-For; empty trusts none.
	TrustedProxies []string
	// RequestTimeout bounds reading the body of every request that is not
	// an upload (0: no bound).
	RequestTimeout time.Duration
	// UploadTimeout bounds reading the body of an upload: API put, the
	// upload URLs and portal uploads (0: no bound).
	UploadTimeout time.Duration
	// LowSpace reports whether free disk space is below the reserve, so
	// that uploads are refused (shown by /readyz); nil: never.
	LowSpace func() bool

	// Metrics counts requests and what they did; nil: a registry of the
	// server's own, served at /metrics either way.
	Metrics *Metrics

	Logger *slog.Logger
	Now    func() time.Time
}

// Server is the HTTP face of sesame.
type Server struct {
	cfg       Config
	log       *slog.Logger
	now       func() time.Time
	engine    *gin.Engine
	handler   http.Handler
	pages     map[string]*htmltemplate.Template
	deadPages map[string][]byte // by language
	brandCSS  []byte
	mcp       http.Handler  // MCP over streamable HTTP, at /mcp
	tus       http.Handler  // resumable uploads, at /s/{token}/tus
	thumbs    chan struct{} // one slot for each thumbnail being decoded
}

// Routes lists the server's routes (method and pattern).
func (s *Server) Routes() gin.RoutesInfo { return s.engine.Routes() }

// maxJSONBody caps every JSON request body.
const maxJSONBody = 1 << 20

// check reports every role or setting cfg lacks.
func (cfg *Config) check() error {
	var problems []error
	if cfg.Objects == nil || cfg.Objects.Store == nil || cfg.Objects.Blobs == nil || cfg.Tokens == nil ||
		cfg.Links == nil || cfg.Links.Store == nil || cfg.Links.Mailer == nil || cfg.Audit == nil || cfg.Outbox == nil {
		problems = append(problems, errors.New("gateway: every storage role is required"))
	}
	if cfg.PublicURL == "" || !(strings.HasPrefix(cfg.PublicURL, "http://") || strings.HasPrefix(cfg.PublicURL, "https://")) {
		problems = append(problems, errors.New("gateway: PublicURL must be an http or https URL"))
	}
	if ps := cfg.Portal.Service; ps == nil || ps.Access == nil || ps.Objects == nil || ps.Blobs == nil || ps.Audit == nil || len(cfg.Portal.CSRFKey) < 32 {
		problems = append(problems, errors.New("gateway: the portal needs its service with its stores and a CSRF key of 32 bytes"))
	} else {
		if len(ps.Social) > 0 && ps.SocialStates == nil {
			problems = append(problems, errors.New("gateway: social sign-in needs a store for its sign-ins in progress"))
		}
		for _, t := range []sesame.AuthType{sesame.AuthPassword, sesame.AuthEmailOTP, sesame.AuthSMSOTP} {
			if ps.Authenticators[t] == nil {
				problems = append(problems, fmt.Errorf("gateway: no authenticator for %s", t))
			}
		}
	}
	return errors.Join(problems...)
}

// New validates cfg and builds the router.
func New(cfg Config) (*Server, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if cfg.Portal.Product == "" {
		cfg.Portal.Product = "sesame"
	}
	if cfg.Portal.Accent == "" {
		cfg.Portal.Accent = "#2563eb"
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if cfg.Ready == nil {
		cfg.Ready = func(context.Context) error { return nil }
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics()
	}
	s := &Server{cfg: cfg, log: cfg.Logger, now: cfg.Now, thumbs: make(chan struct{}, maxThumbDecodes)}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.ContextWithFallback = true
	if err := e.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		return nil, err
	}
	e.RemoveExtraSlash = true
	s.engine = e
	if err := s.parsePages(); err != nil {
		return nil, err
	}
	tools, err := mcp.New(mcp.Config{Objects: cfg.Objects, Links: cfg.Links, Audit: cfg.Audit, PublicURL: cfg.PublicURL,
		Version: cfg.Version, Logger: s.log, Now: s.now})
	if err != nil {
		return nil, err
	}
	s.mcp = tools.Handler()
	if s.tus, err = s.newTusHandler(); err != nil {
		return nil, err
	}
	s.routes()
	// Browsers may not drive state-changing requests across origins; API
	// clients (which send no Sec-Fetch-Site or Origin) are unaffected.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(s.denyCrossOrigin))
	s.handler = cop.Handler(e)
	return s, nil
}

// denyCrossOrigin answers a cross-origin browser request that would change
// state, in the same envelope as every other error.
func (s *Server) denyCrossOrigin(w http.ResponseWriter, r *http.Request) {
	id := sesame.NewID(sesame.PrefixRequest)
	now := sesame.FormatTime(s.now())
	msg := "Cross-origin requests from browsers are refused."
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("x-request-id", id)
	w.WriteHeader(http.StatusForbidden)
	_ = json.NewEncoder(w).Encode(envelope{RequestID: id, RequestTime: now, ResponseTime: now, Status: statusOf[sesame.Forbidden].Status, Summary: msg,
		Result: errorResult{Errors: []errorItem{{Code: statusOf[sesame.Forbidden].Code, Detail: msg, Source: ""}}}}) // the client may have gone
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, s.limitBody(w, r))
}
