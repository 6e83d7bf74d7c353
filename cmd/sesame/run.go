package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/authenticators"
	"github.com/sesame-share/sesame/gateway"
	"github.com/sesame-share/sesame/gateway/mcp"
	"github.com/sesame-share/sesame/notify"
	"github.com/sesame-share/sesame/store"
)

const usage = `sesame: a self-hosted secure-share gateway

Usage:
  sesame [serve] [--config FILE] [--listen ADDR] [--data DIR] [--public-url URL]
  sesame token create --name NAME --scopes SCOPE[,SCOPE...] [--expires 90d] [--data DIR]
  sesame token list [--data DIR]
  sesame token revoke ID [--data DIR]
  sesame links list [--filter JSON] [--order-by F] [--order asc|desc] [--size N] [--last C] [--json]
  sesame links revoke ID... [--json]  (the links stop working on every replica at once)
  sesame audit tail [--filter JSON] [--size N] [--follow] [--json]
  sesame outbox list [--filter JSON] [--size N] [--last C] [--json]   (pending and failed deliveries)
  sesame webhook create|list|update|delete ...   (endpoints told of events; see sesame webhook --help)
  sesame mcp [--data DIR]          (MCP over stdio; the token comes from SESAME_TOKEN)
  sesame migrate [--data DIR]
  sesame check [--data DIR]        (lists files whose contents are missing)
  sesame export [--data DIR] [--out FILE]   (the whole instance as one stream: the backup)
  sesame import [--data DIR] [--in FILE]    (an export into an empty instance, any backend)
  sesame keygen [--fingerprint FILE]   (a new master key for secret_key_file, on stdout)
  sesame version                   (or sesame --version)

"sesame COMMAND --help" shows the flags of one command. Ctrl-C stops the server
gracefully: requests in flight get http.shutdown_timeout to finish.
Scopes: objects:read objects:write links:read links:write links:send audit:read metrics:read admin
Move an instance (here to PostgreSQL; the target must be empty and use the source's key):
  sesame export --data DIR | SESAME_DATABASE_URL=postgres://... SESAME_SECRET_KEY_FILE=DIR/secret.key sesame import --data NEWDIR
Every configuration key can also be set as SESAME_<PATH> (http.read_timeout is SESAME_HTTP_READ_TIMEOUT).
`

// globals are the flags every command takes.
type globals struct {
	config    string
	data      string
	listen    string
	publicURL string
}

func (g *globals) register(fs *flag.FlagSet, serve bool) {
	fs.StringVar(&g.config, "config", "", "YAML configuration file")
	fs.StringVar(&g.data, "data", "", "data directory (database, blobs, secret key)")
	if serve {
		fs.StringVar(&g.listen, "listen", "", "address to listen on, host:port")
		fs.StringVar(&g.publicURL, "public-url", "", "base URL of every link the server hands out")
	}
}

// load builds the configuration: defaults, then the file, then the
// environment, then flags.
func (g *globals) load(environ []string, stderr io.Writer) (Config, error) {
	cfg := DefaultConfig()
	if g.config != "" {
		f, err := os.Open(g.config)
		if err != nil {
			return cfg, fmt.Errorf("config: %w", err)
		}
		cfg, err = ParseConfig(f, cfg)
		f.Close()
		if err != nil {
			return cfg, fmt.Errorf("%s: %w", g.config, err)
		}
	}
	unknown, err := ApplyEnv(&cfg, environ)
	if err != nil {
		return cfg, err
	}
	for _, k := range unknown {
		fmt.Fprintf(stderr, "sesame: warning: %s is not a configuration key; ignored\n", k)
	}
	if cfg.Portal.MinFreeSpace != 0 {
		fmt.Fprintln(stderr, "sesame: warning: portal.min_free_space is the old name of storage.min_free_space, which applies to every upload; use that")
	}
	if g.data != "" {
		cfg.DataDir = g.data
	}
	if g.listen != "" {
		cfg.Listen = g.listen
	}
	if g.publicURL != "" {
		cfg.PublicURL = g.publicURL
	}
	return cfg, cfg.Validate()
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Log.Level)) // validated already
	opts := &slog.HandlerOptions{Level: level}
	// Lines logged with a request's context carry its request_id.
	if cfg.Log.Format == "json" {
		return slog.New(sesame.WithRequestIDs(slog.NewJSONHandler(w, opts)))
	}
	return slog.New(sesame.WithRequestIDs(slog.NewTextHandler(w, opts)))
}

// run is the whole program, minus the process: tests call it directly.
func run(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	err := dispatch(ctx, args, environ, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil // the usage asked for is printed
	}
	return err
}

func dispatch(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && (!strings.HasPrefix(args[0], "-") || slices.Contains([]string{"-h", "-help", "--help", "-version", "--version"}, args[0])) {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return runServe(ctx, args, environ, stdout, stderr)
	case "token":
		return runToken(ctx, args, environ, stdout, stderr)
	case "link":
		return runLink(ctx, args, environ, stdout, stderr)
	case "links":
		return runLinks(ctx, args, environ, stdout, stderr)
	case "audit":
		return runAudit(ctx, args, environ, stdout, stderr)
	case "outbox":
		return runOutbox(ctx, args, environ, stdout, stderr)
	case "webhook":
		return runWebhook(ctx, args, environ, stdout, stderr)
	case "mcp":
		return runMCP(ctx, args, environ, os.Stdin, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, args, environ, stdout, stderr)
	case "keygen":
		return runKeygen(args, stdout, stderr)
	case "check":
		return runCheck(ctx, args, environ, stdout, stderr)
	case "export":
		return runExport(ctx, args, environ, stdout, stderr)
	case "import":
		return runImport(ctx, args, environ, os.Stdin, stdout, stderr)
	case "version", "-version", "--version":
		if err := parseFlags(newFlags("version", "sesame version"), args, stdout, stderr); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "sesame", versionString())
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// parseCommand parses a command's flags and loads the configuration it
// names: defaults, the file, the environment, then the flags.
func parseCommand(name, usage string, server bool, args, environ []string, stdout, stderr io.Writer) (Config, error) {
	var g globals
	fs := newFlags(name, usage)
	g.register(fs, server)
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return Config{}, err
	}
	return g.load(environ, stderr)
}

// runMigrate applies pending migrations. It may run beside a server.
func runMigrate(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	cfg, err := parseCommand("migrate", "sesame migrate [--config FILE] [--data DIR]", false, args, environ, stdout, stderr)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, cfg.storeConfig(newLogger(cfg, stderr)))
	if err != nil {
		return err
	}
	if cfg.Database.URL != "" {
		fmt.Fprintln(stderr, "sesame: the PostgreSQL database is up to date")
	} else {
		fmt.Fprintln(stderr, "sesame: database is up to date in", cfg.DataDir)
	}
	return st.Close()
}

func runServe(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	cfg, err := parseCommand("serve", "sesame [serve] [--config FILE] [--listen ADDR] [--data DIR] [--public-url URL]", true, args, environ, stdout, stderr)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	applyMemoryLimit(cfg, environ, log)
	// The server alone holds the data directory's lock, and so alone
	// sweeps what a crash left behind; a second server refuses to start.
	sc := cfg.storeConfig(log)
	sc.Exclusive, sc.MinFreeSpace = true, cfg.Reserve()
	st, err := store.Open(ctx, sc)
	if err != nil {
		return cliErr(err)
	}
	defer st.Close()
	if err := firstToken(ctx, st, stdout); err != nil {
		return err
	}
	social, err := oidcProviders(cfg, log)
	if err != nil {
		return err
	}
	metrics := watch(st)
	srv, worker, err := build(cfg, st, social, metrics, log)
	if err != nil {
		return err
	}
	if cfg.Metrics.Listen != "" {
		stopMetrics, err := serveMetrics(cfg.Metrics.Listen, metrics, log)
		if err != nil {
			return err
		}
		defer stopMetrics()
	}
	stop := background(ctx, worker.Run, func(ctx context.Context) { optimizeHourly(ctx, st, log) },
		func(ctx context.Context) { discoverOIDC(ctx, social, log) },
		every(purgeInterval, func(ctx context.Context) { purge(ctx, st, time.Now(), time.Duration(cfg.Audit.Retention), log) }),
		every(expireInterval, func(ctx context.Context) { expireFiles(ctx, st, log) }),
		every(digestInterval, func(ctx context.Context) { queueDigests(ctx, st, log) }),
		func(ctx context.Context) { reportMissingBlobs(ctx, st, log) })
	defer stop()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout,
		// No ReadTimeout: the gateway bounds each body, by
		// http.request_timeout or, for uploads, http.read_timeout.
		WriteTimeout: cfg.HTTP.WriteTimeout,
		IdleTimeout:  cfg.HTTP.IdleTimeout,
		ErrorLog:     slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("sesame listening", "addr", ln.Addr().String(), "public_url", cfg.PublicBase(), "data_dir", cfg.DataDir,
		"key_fingerprint", st.KeyFingerprint())
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", cfg.HTTP.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.HTTP.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// services are what serve and mcp share: the outbox worker, the mailer
// and the link rules.
type services struct {
	worker   *notify.Worker
	mailer   *notify.Mailer
	hasher   *authenticators.Password
	links    *sesame.LinkService
	objects  *sesame.ObjectService
	webhooks *sesame.WebhookService
}

func newServices(cfg Config, st *store.Store, log *slog.Logger) (*services, error) {
	email, sms, err := transports(cfg, log)
	if err != nil {
		return nil, err
	}
	hooks, err := notify.NewWebhooks(notify.WebhooksConfig{Store: st, AllowedNetworks: cfg.Webhooks.Networks(),
		Timeout: cfg.Webhooks.AttemptTimeout(), Logger: log})
	if err != nil {
		return nil, err
	}
	worker, err := notify.NewWorker(notify.WorkerConfig{Outbox: st, Email: email, SMS: sms, Webhooks: hooks,
		SMSDailyBudget: cfg.Notify.SMSDailyBudget, Interval: cfg.Notify.Interval, Logger: log})
	if err != nil {
		return nil, err
	}
	mailer, err := notify.NewMailer(notify.MailerConfig{Links: st, Objects: st, PublicURL: cfg.PublicBase(),
		Product: cfg.Branding.ProductName, Accent: cfg.Branding.AccentColor, LogoURL: emailLogoURL(cfg),
		Language: cfg.Notify.Language})
	if err != nil {
		return nil, err
	}
	st.OnQueued(worker.Wake)
	st.SetOwnerMailer(mailer)
	hasher := authenticators.NewPassword()
	return &services{worker: worker, mailer: mailer, hasher: hasher,
		webhooks: &sesame.WebhookService{Store: st, Deliveries: st, Policy: cfg.WebhookPolicy()},
		links:    &sesame.LinkService{Store: st, Mailer: mailer, Hasher: hasher, Policy: cfg.LinkPolicy()},
		objects: &sesame.ObjectService{Store: st, Blobs: st, Policy: sesame.ObjectPolicy{MaxFileSize: int64(cfg.Storage.MaxUploadSize),
			DestURLTTL: cfg.Transfer.DestURLTTL, UploadURLTTL: cfg.Transfer.UploadURLTTL}, Deriver: hasher}}, nil
}

// build wires the store, the notification transports and worker, the
// authenticators and the gateway for serve.
func build(cfg Config, st *store.Store, social []sesame.OIDCProvider, metrics *gateway.Metrics, log *slog.Logger) (*gateway.Server, *notify.Worker, error) {
	sv, err := newServices(cfg, st, log)
	if err != nil {
		return nil, nil, err
	}
	otpCfg := authenticators.OTPConfig{Store: st, Product: cfg.Branding.ProductName, Accent: cfg.Branding.AccentColor,
		LogoURL: emailLogoURL(cfg), PublicURL: cfg.PublicBase(), Language: cfg.Notify.Language}
	emailOTP, err := authenticators.NewEmailOTP(otpCfg)
	if err != nil {
		return nil, nil, err
	}
	smsOTP, err := authenticators.NewSMSOTP(otpCfg)
	if err != nil {
		return nil, nil, err
	}
	srv, err := gateway.New(gateway.Config{
		Objects: sv.objects, Tokens: st, Ready: st.Ping, LowSpace: st.LowSpace,
		Links: sv.links, Audit: st, Outbox: st, Webhooks: sv.webhooks, Version: versionString(),
		Portal: gateway.PortalConfig{Service: &sesame.PortalService{Access: st, Objects: st, Blobs: st, Resumables: st, Audit: st, Events: st, Logger: log,
			Social: social, SocialStates: st, Deriver: sv.hasher, FileKeys: st,
			Limits: sesame.PortalLimits{MaxFileSize: int64(cfg.Storage.MaxUploadSize), MaxLinkBytes: int64(cfg.Portal.MaxLinkBytes),
				MaxLinkFiles: cfg.Portal.MaxLinkFiles},
			Authenticators: map[sesame.AuthType]sesame.Authenticator{sesame.AuthPassword: authenticators.PasswordAuthenticator{Hasher: sv.hasher},
				sesame.AuthEmailOTP: emailOTP, sesame.AuthSMSOTP: smsOTP}},
			CSRFKey: st.CSRFKey(), Product: cfg.Branding.ProductName, Accent: cfg.Branding.AccentColor, LogoURL: cfg.Branding.LogoURL},
		PublicURL:      cfg.PublicBase(),
		RequestTimeout: cfg.HTTP.RequestTimeout, UploadTimeout: cfg.HTTP.ReadTimeout,
		TrustedProxies: cfg.HTTP.TrustedProxies, Metrics: metrics, Logger: log,
	})
	if err != nil {
		return nil, nil, err
	}
	return srv, sv.worker, nil
}

// emailLogoURL is branding.logo_url as emails need it: absolute, since a
// mail client has no page to resolve a path against.
func emailLogoURL(cfg Config) string {
	if strings.HasPrefix(cfg.Branding.LogoURL, "/") {
		return cfg.PublicBase() + cfg.Branding.LogoURL
	}
	return cfg.Branding.LogoURL
}

// transports builds the email and SMS transports the configuration names.
func transports(cfg Config, log *slog.Logger) (email, sms sesame.Notifier, err error) {
	email, sms = notify.NewLog(log), notify.NewLog(log)
	if cfg.Notify.Email == "smtp" {
		email, err = notify.NewSMTP(notify.SMTPConfig{Host: cfg.SMTP.Host, Port: cfg.SMTP.Port, TLS: cfg.SMTP.TLS,
			Username: cfg.SMTP.Username, Password: cfg.SMTP.Password, From: cfg.SMTP.From, FromName: cfg.SMTP.FromName, Logger: log})
		if err != nil {
			return nil, nil, err
		}
	} else {
		log.Info("notify.email is log: emails are written to this log, not sent")
	}
	if cfg.Notify.SMS == "twilio" {
		sms, err = notify.NewTwilio(notify.TwilioConfig{AccountSID: cfg.Twilio.AccountSID, APIKey: cfg.Twilio.APIKey, APISecret: cfg.Twilio.APISecret,
			AuthToken: cfg.Twilio.AuthToken, From: cfg.Twilio.From, MessagingServiceSID: cfg.Twilio.MessagingServiceSID, BaseURL: cfg.Twilio.BaseURL})
		if err != nil {
			return nil, nil, err
		}
	}
	return email, sms, nil
}

// background runs each task until the returned stop is called, and stop
// waits for them to end.
func background(ctx context.Context, tasks ...func(context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, task := range tasks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			task(ctx)
		}()
	}
	return func() {
		cancel()
		wg.Wait()
	}
}

// optimizeHourly keeps the query planner's statistics fresh as links
// accumulate.
func optimizeHourly(ctx context.Context, st *store.Store, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := st.Optimize(ctx); err != nil && ctx.Err() == nil {
				log.Warn("optimize", "error", err)
			}
		}
	}
}

// firstToken creates and prints an admin token when the server has none,
// so that a fresh install can be used at once. The secret is never shown again.
func firstToken(ctx context.Context, st *store.Store, stdout io.Writer) error {
	tokens, err := st.FindTokens(ctx)
	if err != nil || len(tokens) > 0 {
		return err
	}
	t, secret, err := st.CreateToken(ctx, "admin", []sesame.Scope{sesame.ScopeAdmin}, time.Time{})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nCreated the first API token (%s, scope admin). It is shown only this once:\n\n    %s\n\n", t.ID, secret)
	return nil
}

// cliErr shows a user-facing message instead of the internal chain.
func cliErr(err error) error {
	if e := sesame.AsError(err); e != nil && e.Message != "" {
		return errors.New(e.Message)
	}
	return err
}

// runMCP serves the MCP tools over stdio, acting as the token in
// SESAME_TOKEN, against the same database and configuration as serve.
func runMCP(ctx context.Context, args, environ []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cfg, err := parseCommand("mcp", "sesame mcp [--config FILE] [--data DIR]    (the API token comes from SESAME_TOKEN)", false, args, environ, stdout, stderr)
	if err != nil {
		return err
	}
	secret := ""
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "SESAME_TOKEN="); ok {
			secret = v
		}
	}
	if secret == "" {
		return errors.New("mcp: set SESAME_TOKEN to an API token (sesame token create --name agent --scopes links:read,links:write,links:send,objects:read)")
	}
	log := newLogger(cfg, stderr)
	// Beside a running server: no lock and no sweep, but the same reserve
	// for the files it uploads.
	sc := cfg.storeConfig(log)
	sc.MinFreeSpace = cfg.Reserve()
	st, err := store.Open(ctx, sc)
	if err != nil {
		return err
	}
	defer st.Close()
	tok, err := st.Authenticate(ctx, secret)
	if err != nil {
		return cliErr(err)
	}
	// MCP over stdio needs no HTTP server: only the core services, the
	// outbox worker (so that share_link_send delivers) and the tools.
	sv, err := newServices(cfg, st, log)
	if err != nil {
		return err
	}
	tools, err := mcp.New(mcp.Config{Objects: sv.objects, Links: sv.links, Audit: st, PublicURL: cfg.PublicBase(),
		UploadRoots: cfg.MCP.UploadRoots, Version: versionString(), Logger: log})
	if err != nil {
		return err
	}
	stop := background(ctx, sv.worker.Run)
	defer stop()
	return tools.ServeStdio(ctx, tok, stdin, stdout)
}
