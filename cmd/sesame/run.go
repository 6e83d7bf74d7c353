package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
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
  sesame mcp [--data DIR]          (MCP over stdio; the token comes from SESAME_TOKEN)
  sesame migrate [--data DIR]

Scopes: objects:read objects:write links:read links:write links:send audit:read admin
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
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// run is the whole program, minus the process: tests call it directly.
func run(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && (!strings.HasPrefix(args[0], "-") || args[0] == "-h" || args[0] == "--help") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return runServe(ctx, args, environ, stdout, stderr)
	case "token":
		return runToken(ctx, args, environ, stdout, stderr)
	case "mcp":
		return runMCP(ctx, args, environ, os.Stdin, stdout, stderr)
	case "migrate":
		var g globals
		fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
		fs.SetOutput(stderr)
		g.register(fs, false)
		if err := fs.Parse(args); err != nil {
			return err
		}
		cfg, err := g.load(environ, stderr)
		if err != nil {
			return err
		}
		st, err := store.Open(ctx, store.Config{DataDir: cfg.DataDir, Logger: newLogger(cfg, stderr)})
		if err != nil {
			return err
		}
		fmt.Fprintln(stderr, "sesame: database is up to date in", cfg.DataDir)
		return st.Close()
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

func runServe(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	var g globals
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	g.register(fs, true)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := g.load(environ, stderr)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	st, err := store.Open(ctx, store.Config{DataDir: cfg.DataDir, Logger: log})
	if err != nil {
		return err
	}
	defer st.Close()
	if err := firstToken(ctx, st, stdout); err != nil {
		return err
	}
	srv, worker, err := build(cfg, st, log)
	if err != nil {
		return err
	}
	stop := background(ctx, worker.Run, func(ctx context.Context) { optimizeHourly(ctx, st, log) },
		func(ctx context.Context) { purgeEvery(ctx, st, purgeInterval, time.Duration(cfg.Audit.Retention), log) })
	defer stop()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout,
		ReadTimeout:       cfg.HTTP.ReadTimeout,
		WriteTimeout:      cfg.HTTP.WriteTimeout,
		IdleTimeout:       cfg.HTTP.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("sesame listening", "addr", ln.Addr().String(), "public_url", cfg.PublicBase(), "data_dir", cfg.DataDir)
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
	worker  *notify.Worker
	mailer  *notify.Mailer
	hasher  *authenticators.Password
	links   *sesame.LinkService
	objects *sesame.ObjectService
}

func newServices(cfg Config, st *store.Store, log *slog.Logger) (*services, error) {
	email, sms, err := transports(cfg, log)
	if err != nil {
		return nil, err
	}
	worker, err := notify.NewWorker(notify.WorkerConfig{Outbox: st, Email: email, SMS: sms, Audit: st,
		SMSDailyBudget: cfg.Notify.SMSDailyBudget, Interval: cfg.Notify.Interval, Logger: log})
	if err != nil {
		return nil, err
	}
	mailer, err := notify.NewMailer(notify.MailerConfig{Links: st, PublicURL: cfg.PublicBase(),
		Product: cfg.Branding.ProductName, Accent: cfg.Branding.AccentColor, Wake: worker.Wake})
	if err != nil {
		return nil, err
	}
	hasher := authenticators.NewPassword()
	return &services{worker: worker, mailer: mailer, hasher: hasher,
		links: &sesame.LinkService{Store: st, Hasher: hasher, Policy: cfg.LinkPolicy()},
		objects: &sesame.ObjectService{Store: st, Blobs: st, Policy: sesame.ObjectPolicy{MaxFileSize: int64(cfg.Storage.MaxUploadSize),
			DestURLTTL: cfg.Transfer.DestURLTTL, UploadURLTTL: cfg.Transfer.UploadURLTTL}}}, nil
}

// build wires the store, the notification transports and worker, the
// authenticators and the gateway for serve.
func build(cfg Config, st *store.Store, log *slog.Logger) (*gateway.Server, *notify.Worker, error) {
	sv, err := newServices(cfg, st, log)
	if err != nil {
		return nil, nil, err
	}
	otpCfg := authenticators.OTPConfig{Store: st, Product: cfg.Branding.ProductName, Wake: sv.worker.Wake}
	emailOTP, err := authenticators.NewEmailOTP(otpCfg)
	if err != nil {
		return nil, nil, err
	}
	smsOTP, err := authenticators.NewSMSOTP(otpCfg)
	if err != nil {
		return nil, nil, err
	}
	srv, err := gateway.New(gateway.Config{
		Objects: sv.objects, Tokens: st, Ready: st.Ping,
		Links: sv.links, LinkReader: st, Audit: st, Mailer: sv.mailer, Outbox: st, Version: version,
		Portal: gateway.PortalConfig{Service: &sesame.PortalService{Access: st, Objects: st, Blobs: st, Audit: st, Logger: log,
			Limits: sesame.PortalLimits{MaxFileSize: int64(cfg.Storage.MaxUploadSize), MaxLinkBytes: int64(cfg.Portal.MaxLinkBytes),
				MaxLinkFiles: cfg.Portal.MaxLinkFiles, MinFreeBytes: int64(cfg.Portal.MinFreeSpace), FreeBytes: st.FreeBytes},
			Authenticators: map[sesame.AuthType]sesame.Authenticator{sesame.AuthPassword: authenticators.PasswordAuthenticator{Hasher: sv.hasher},
				sesame.AuthEmailOTP: emailOTP, sesame.AuthSMSOTP: smsOTP}},
			CSRFKey: st.CSRFKey(), Product: cfg.Branding.ProductName, Accent: cfg.Branding.AccentColor, LogoURL: cfg.Branding.LogoURL},
		PublicURL:      cfg.PublicBase(),
		TrustedProxies: cfg.HTTP.TrustedProxies, Logger: log,
	})
	if err != nil {
		return nil, nil, err
	}
	return srv, sv.worker, nil
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

func runToken(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("token: say create, list or revoke")
	}
	sub, args := args[0], args[1:]
	if sub != "create" && sub != "list" && sub != "revoke" {
		return fmt.Errorf("token: unknown subcommand %q (say create, list or revoke)", sub)
	}
	var g globals
	fs := flag.NewFlagSet("token "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	g.register(fs, false)
	name := fs.String("name", "", "a name for the token (create)")
	scopes := fs.String("scopes", "", "comma-separated scopes (create)")
	expires := fs.String("expires", "", "lifetime such as 90d or 12h; empty: never (create)")
	// Flags may follow the id (token revoke ID --data DIR), so parse
	// around positional arguments.
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		pos, args = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
	if sub != "revoke" && len(pos) > 0 {
		return fmt.Errorf("token %s: unexpected argument %q", sub, pos[0])
	}
	cfg, err := g.load(environ, stderr)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, store.Config{DataDir: cfg.DataDir, Logger: newLogger(cfg, stderr)})
	if err != nil {
		return err
	}
	defer st.Close()
	switch sub {
	case "create":
		var list []sesame.Scope
		for _, s := range strings.Split(*scopes, ",") {
			if s = strings.TrimSpace(s); s != "" {
				list = append(list, sesame.Scope(s))
			}
		}
		var exp time.Time
		if *expires != "" {
			d, err := parseLifetime(*expires)
			if err != nil {
				return err
			}
			exp = time.Now().Add(d)
		}
		t, secret, err := st.CreateToken(ctx, *name, list, exp)
		if err != nil {
			return cliErr(err)
		}
		fmt.Fprintln(stdout, secret)
		fmt.Fprintf(stderr, "Created token %s (%s) with scopes %s. The secret above is shown only once.\n", t.ID, t.Name, *scopes)
		return nil
	case "list":
		tokens, err := st.FindTokens(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tSCOPES\tCREATED\tEXPIRES\tLAST USED\tSTATUS")
		now := time.Now()
		for _, t := range tokens {
			scopes := make([]string, len(t.Scopes))
			for i, s := range t.Scopes {
				scopes[i] = string(s)
			}
			status := "active"
			switch {
			case !t.Revoked.IsZero():
				status = "revoked"
			case !t.Expires.IsZero() && !now.Before(t.Expires):
				status = "expired"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, strings.Join(scopes, ","), day(t.Created), day(t.Expires), day(t.LastUsed), status)
		}
		return tw.Flush()
	case "revoke":
		if len(pos) != 1 {
			return errors.New("token revoke: give exactly one token id")
		}
		if err := st.RevokeToken(ctx, pos[0]); err != nil {
			return cliErr(err)
		}
		fmt.Fprintln(stderr, "Revoked", pos[0])
		return nil
	}
	return fmt.Errorf("token: unknown subcommand %q (say create, list or revoke)", sub)
}

func day(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

// parseLifetime reads "90d", "2w" or any Go duration such as "12h".
func parseLifetime(s string) (time.Duration, error) {
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.Atoi(n)
			if err != nil || v <= 0 || int64(v) > math.MaxInt64/int64(unit) {
				return 0, fmt.Errorf("--expires: %q is not a lifetime such as 90d", s)
			}
			return time.Duration(v) * unit, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("--expires: %q is not a lifetime such as 90d or 12h", s)
	}
	return d, nil
}

// cliErr shows a user-facing message instead of the internal chain.
func cliErr(err error) error {
	if e := sesame.AsError(err); e != nil && e.Message != "" {
		return errors.New(e.Message)
	}
	return err
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// runMCP serves the MCP tools over stdio, acting as the token in
// SESAME_TOKEN, against the same database and configuration as serve.
func runMCP(ctx context.Context, args, environ []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var g globals
	fs := flag.NewFlagSet("mcp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	g.register(fs, false)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := g.load(environ, stderr)
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
	st, err := store.Open(ctx, store.Config{DataDir: cfg.DataDir, Logger: log})
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
	tools, err := mcp.New(mcp.Config{Objects: sv.objects, Links: sv.links, LinkReader: st,
		Mailer: sv.mailer, Audit: st, PublicURL: cfg.PublicBase(),
		UploadRoots: cfg.MCP.UploadRoots, Version: version, Logger: log})
	if err != nil {
		return err
	}
	stop := background(ctx, sv.worker.Run)
	defer stop()
	return tools.ServeStdio(ctx, tok, stdin, stdout)
}
