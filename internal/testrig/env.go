package testrig

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/authenticators"
	"github.com/sesame-share/sesame/gateway"
	"github.com/sesame-share/sesame/notify"
	"github.com/sesame-share/sesame/store"
)

// Env is the gateway over a real store in a temp dir, with real
// authenticators and mailer, served by httptest and wired the way
// cmd/sesame wires serve. Tests reach it over HTTP (API, Visitor) and may
// look behind it through Store.
type Env struct {
	T       testing.TB
	Dir     string // the data directory ("" with WithStore)
	Store   *store.Store
	Server  *httptest.Server
	URL     string // the server's base URL, which is also its PublicURL
	Clock   *Clock // nil: the wall clock
	Logger  *slog.Logger
	Links   *sesame.LinkService
	Portal  *sesame.PortalService
	Mailer  *notify.Mailer
	Worker  *notify.Worker // nil unless WithNotifiers
	Gateway *gateway.Server
	Token   string // an admin token
	API     *API   // the JSON API with Token
}

// Option changes how NewEnv builds an Env.
type Option func(*options)

type options struct {
	clock           *Clock
	store           *store.Store
	logger          *slog.Logger
	wake            func()
	product, accent string
	logo            string
	email, sms      sesame.Notifier
	smsBudget       int
	config          []func(*gateway.Config)
	wrap            func(http.Handler) http.Handler
}

// WithClock puts every part of the env on c: the store, the services, the
// authenticators, the gateway and the worker.
func WithClock(c *Clock) Option { return func(o *options) { o.clock = c } }

// WithStore serves st instead of a new store. The caller closes it.
func WithStore(st *store.Store) Option { return func(o *options) { o.store = st } }

// WithLogger sends every log of the env to l (default: nowhere).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithWake is told after each commit that queued a message (default: the
// worker's Wake with WithNotifiers, else nothing): see store.OnQueued.
func WithWake(f func()) Option { return func(o *options) { o.wake = f } }

// WithBrand sets the product name and accent colour of the pages and
// messages.
func WithBrand(product, accent string) Option {
	return func(o *options) { o.product, o.accent = product, accent }
}

// WithLogo sets the logo URL of the pages and messages.
func WithLogo(url string) Option { return func(o *options) { o.logo = url } }

// WithNotifiers runs an outbox worker that delivers through email and sms,
// with the given daily SMS budget, until the test ends.
func WithNotifiers(email, sms sesame.Notifier, smsBudget int) Option {
	return func(o *options) { o.email, o.sms, o.smsBudget = email, sms, smsBudget }
}

// WithConfig changes the gateway configuration before the server is built.
// The portal's per-file cap follows the object policy's, as in cmd/sesame.
func WithConfig(f ...func(*gateway.Config)) Option {
	return func(o *options) { o.config = append(o.config, f...) }
}

// WithMiddleware wraps the gateway's handler.
func WithMiddleware(f func(http.Handler) http.Handler) Option {
	return func(o *options) { o.wrap = f }
}

// NewEnv builds and starts an Env; the test's cleanup stops it.
func NewEnv(t testing.TB, opts ...Option) *Env {
	t.Helper()
	var o options
	for _, f := range opts {
		f(&o)
	}
	e := &Env{T: t, Clock: o.clock, Logger: o.logger, Store: o.store}
	if e.Logger == nil {
		e.Logger = DiscardLogger()
	}
	if e.Store == nil {
		e.Dir = t.TempDir()
		e.Store = OpenStore(t, e.Dir, o.clock, e.Logger)
	}
	// The public URL is only known once the listener exists.
	var handler atomic.Pointer[http.Handler]
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*handler.Load()).ServeHTTP(w, r) }))
	t.Cleanup(e.Server.Close)
	e.URL = e.Server.URL
	if o.email != nil || o.sms != nil {
		e.startWorker(&o)
	}
	cfg := e.gatewayConfig(&o)
	for _, f := range o.config {
		f(&cfg)
	}
	cfg.Portal.Service.Limits.MaxFileSize = cfg.Objects.Policy.MaxFileSize
	srv, err := gateway.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = srv
	if o.wrap != nil {
		h = o.wrap(srv)
	}
	handler.Store(&h)
	e.Gateway, e.Links, e.Portal = srv, cfg.Links, cfg.Portal.Service
	e.Token = e.NewToken(sesame.ScopeAdmin)
	e.API = &API{URL: e.URL, Token: e.Token, Client: e.Server.Client()}
	return e
}

// gatewayConfig wires the store, the link and portal services, the real
// authenticators (whose messages go to the store's outbox) and the mailer.
func (e *Env) gatewayConfig(o *options) gateway.Config {
	t, st, now := e.T, e.Store, nowOf(o.clock)
	if o.wake != nil {
		st.OnQueued(o.wake)
	}
	mailer, err := notify.NewMailer(notify.MailerConfig{Links: st, Objects: st, PublicURL: e.URL, Product: o.product, Accent: o.accent,
		LogoURL: o.logo})
	if err != nil {
		t.Fatal(err)
	}
	e.Mailer = mailer
	st.SetOwnerMailer(mailer)
	otp := authenticators.OTPConfig{Store: st, Product: o.product, Accent: o.accent, LogoURL: o.logo, PublicURL: e.URL, Now: now}
	email, err := authenticators.NewEmailOTP(otp)
	if err != nil {
		t.Fatal(err)
	}
	sms, err := authenticators.NewSMSOTP(otp)
	if err != nil {
		t.Fatal(err)
	}
	hasher := authenticators.NewPassword()
	portal := &sesame.PortalService{Access: st, Objects: st, Blobs: st, Resumables: st, Audit: st, Events: st, SocialStates: st, Logger: e.Logger, Now: now,
		Deriver: hasher, FileKeys: st,
		Authenticators: map[sesame.AuthType]sesame.Authenticator{sesame.AuthPassword: authenticators.PasswordAuthenticator{Hasher: hasher},
			sesame.AuthEmailOTP: email, sesame.AuthSMSOTP: sms}}
	return gateway.Config{Tokens: st, Ready: st.Ping, Audit: st, Outbox: st,
		Webhooks:  &sesame.WebhookService{Store: st, Deliveries: st, Now: now},
		Objects:   &sesame.ObjectService{Store: st, Blobs: st, Policy: sesame.ObjectPolicy{MaxFileSize: 64 << 20}, Deriver: hasher, Now: now},
		Links:     &sesame.LinkService{Store: st, Mailer: mailer, Hasher: hasher, Policy: sesame.DefaultLinkPolicy(), Now: now},
		Portal:    gateway.PortalConfig{Service: portal, CSRFKey: st.CSRFKey(), Product: o.product, Accent: o.accent, LogoURL: o.logo},
		PublicURL: e.URL, Logger: e.Logger, Now: now}
}

// startWorker runs the outbox worker until the test ends (before the store
// closes), and makes it the one woken when a message is queued.
func (e *Env) startWorker(o *options) {
	t := e.T
	email, sms := o.email, o.sms
	if email == nil {
		email = notify.NewLog(e.Logger)
	}
	if sms == nil {
		sms = notify.NewLog(e.Logger)
	}
	w, err := notify.NewWorker(notify.WorkerConfig{Outbox: e.Store, Email: email, SMS: sms, SMSDailyBudget: o.smsBudget,
		SendTimeout: 10 * time.Second, Logger: e.Logger, Now: nowOf(o.clock)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx)
	}()
	t.Cleanup(func() {
		stop()
		<-done
	})
	e.Worker = w
	if o.wake == nil {
		o.wake = w.Wake
	}
}

// NewToken creates an API token with scopes and returns its secret.
func (e *Env) NewToken(scopes ...sesame.Scope) string {
	e.T.Helper()
	_, secret, err := e.Store.CreateToken(context.Background(), "test", scopes, time.Time{})
	if err != nil {
		e.T.Fatal(err)
	}
	return secret
}

// Visitor is a new browser for the env's pages.
func (e *Env) Visitor() *Visitor { return NewVisitor(e.T, e.URL, e.Server.Client().Transport) }
