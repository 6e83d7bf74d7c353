package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/notify"
	"github.com/sesame-share/sesame/store"
)

// Config is the whole server configuration. Every key is documented in
// config.example.yaml; every key can also come from the environment as
// SESAME_ plus its path in upper case (http.read_timeout is
// SESAME_HTTP_READ_TIMEOUT).
type Config struct {
	Listen    string `yaml:"listen"`
	DataDir   string `yaml:"data_dir"`
	PublicURL string `yaml:"public_url"`
	// MemoryLimit is the server's soft memory limit (GOMEMLIMIT wins
	// when set); 0 means automatic (memoryLimitFor).
	MemoryLimit ByteSize `yaml:"memory_limit"`
	Database    struct {
		URL              string        `yaml:"url"`
		MaxConns         int           `yaml:"max_conns"`
		StatementTimeout time.Duration `yaml:"statement_timeout"`
	} `yaml:"database"`
	Log struct {
		Level  string `yaml:"level"`
		Format string `yaml:"format"`
	} `yaml:"log"`
	Metrics struct {
		Listen string `yaml:"listen"`
	} `yaml:"metrics"`
	HTTP struct {
		TrustedProxies    []string      `yaml:"trusted_proxies"`
		ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
		ReadTimeout       time.Duration `yaml:"read_timeout"`
		RequestTimeout    time.Duration `yaml:"request_timeout"`
		WriteTimeout      time.Duration `yaml:"write_timeout"`
		IdleTimeout       time.Duration `yaml:"idle_timeout"`
		ShutdownTimeout   time.Duration `yaml:"shutdown_timeout"`
	} `yaml:"http"`
	Storage struct {
		Backend       string   `yaml:"backend"`
		MaxUploadSize ByteSize `yaml:"max_upload_size"`
		MinFreeSpace  ByteSize `yaml:"min_free_space"`
		S3            struct {
			Endpoint  string `yaml:"endpoint"`
			Bucket    string `yaml:"bucket"`
			Region    string `yaml:"region"`
			AccessKey string `yaml:"access_key"`
			SecretKey string `yaml:"secret_key"`
			TLS       bool   `yaml:"tls"`
			Prefix    string `yaml:"prefix"`
		} `yaml:"s3"`
	} `yaml:"storage"`
	Transfer struct {
		DestURLTTL   time.Duration `yaml:"dest_url_ttl"`
		UploadURLTTL time.Duration `yaml:"upload_url_ttl"`
	} `yaml:"transfer"`
	Links struct {
		DefaultExpiry         time.Duration `yaml:"default_expiry"`
		MaxExpiry             time.Duration `yaml:"max_expiry"`
		DefaultMaxAccessCount int           `yaml:"default_max_access_count"`
		MaxAccessCount        int           `yaml:"max_access_count"`
		SMSCountries          []string      `yaml:"sms_countries"`
	} `yaml:"links"`
	Notify struct {
		Email          string        `yaml:"email"`
		SMS            string        `yaml:"sms"`
		SMSDailyBudget int           `yaml:"sms_daily_budget"`
		Interval       time.Duration `yaml:"interval"`
		Language       string        `yaml:"language"` // BCP 47, of emails that name none
	} `yaml:"notify"`
	SMTP struct {
		Host     string `yaml:"host"`
		Port     int    `yaml:"port"`
		TLS      string `yaml:"tls"`
		Username string `yaml:"username"`
		Password string `yaml:"password"`
		From     string `yaml:"from"`
		FromName string `yaml:"from_name"`
	} `yaml:"smtp"`
	Twilio struct {
		AccountSID          string `yaml:"account_sid"`
		APIKey              string `yaml:"api_key"`
		APISecret           string `yaml:"api_secret"`
		AuthToken           string `yaml:"auth_token"`
		From                string `yaml:"from"`
		MessagingServiceSID string `yaml:"messaging_service_sid"`
		BaseURL             string `yaml:"base_url"`
	} `yaml:"twilio"`
	Portal struct {
		MaxLinkBytes ByteSize `yaml:"max_link_bytes"`
		MaxLinkFiles int      `yaml:"max_link_files"`
		// MinFreeSpace is the old name of storage.min_free_space; 0 is unset.
		MinFreeSpace ByteSize `yaml:"min_free_space"`
	} `yaml:"portal"`
	MCP struct {
		UploadRoots []string `yaml:"upload_roots"`
	} `yaml:"mcp"`
	Branding struct {
		ProductName string `yaml:"product_name"`
		AccentColor string `yaml:"accent_color"`
		LogoURL     string `yaml:"logo_url"`
	} `yaml:"branding"`
	Audit struct {
		Retention Retention `yaml:"retention"`
	} `yaml:"audit"`
	OIDC     OIDCConfig     `yaml:"oidc"`
	Objects  ObjectsConfig  `yaml:"objects"`
	Webhooks WebhooksConfig `yaml:"webhooks"` // config_webhooks.go

	// SecretKeyFile names the master key file, which replicas share;
	// empty is secret.key in DataDir, made on first start.
	SecretKeyFile string `yaml:"secret_key_file"`
}

// DefaultConfig returns the configuration used when nothing is set.
func DefaultConfig() Config {
	var c Config
	c.Listen = "127.0.0.1:8080"
	c.DataDir = "./sesame-data"
	c.Log.Level = "info"
	c.Log.Format = "text"
	c.HTTP.ReadHeaderTimeout = 10 * time.Second
	c.HTTP.ReadTimeout = 2 * time.Hour
	c.HTTP.RequestTimeout = 30 * time.Second
	c.HTTP.WriteTimeout = 2 * time.Hour
	c.HTTP.IdleTimeout = 2 * time.Minute
	c.HTTP.ShutdownTimeout = 30 * time.Second
	c.Storage.Backend = "disk"
	c.Storage.S3.TLS = true
	c.Storage.MaxUploadSize = 10 << 30
	c.Storage.MinFreeSpace = defaultMinFreeSpace
	c.Transfer.DestURLTTL = time.Hour
	c.Transfer.UploadURLTTL = time.Hour
	p := sesame.DefaultLinkPolicy()
	c.Links.DefaultExpiry = p.DefaultExpiry
	c.Links.MaxExpiry = p.MaxExpiry
	c.Links.DefaultMaxAccessCount = p.DefaultMaxAccess
	c.Links.MaxAccessCount = p.MaxAccessCount
	c.Notify.Email = "log"
	c.Notify.SMS = "log"
	c.Notify.SMSDailyBudget = 200
	c.Notify.Interval = time.Second
	c.Notify.Language = "en"
	c.SMTP.Port = 587
	c.SMTP.TLS = "mandatory"
	c.SMTP.FromName = "sesame"
	c.Portal.MaxLinkFiles = 1000
	c.Branding.ProductName = "sesame"
	c.Branding.AccentColor = "#2563eb"
	c.Audit.Retention = Retention(400 * 24 * time.Hour)
	return c
}

const defaultMinFreeSpace = 256 << 20

// Reserve returns the free space uploads must leave on the data disk:
// storage.min_free_space, or the old portal.min_free_space when only that
// one is set.
func (c *Config) Reserve() int64 {
	if c.Portal.MinFreeSpace != 0 && c.Storage.MinFreeSpace == defaultMinFreeSpace {
		return int64(c.Portal.MinFreeSpace)
	}
	return int64(c.Storage.MinFreeSpace)
}

// ParseConfig reads YAML over the defaults. Unknown keys are errors.
func ParseConfig(r io.Reader, base Config) (Config, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return base, fmt.Errorf("config: read: %w", err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return base, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&base); err != nil && !errors.Is(err, io.EOF) {
		return base, fmt.Errorf("config: %w", err)
	}
	return base, nil
}

// envKeys lists every configuration key as its environment variable name,
// with a setter for it.
func envKeys(c *Config) map[string]func(string) error {
	out := map[string]func(string) error{}
	var walk func(v reflect.Value, prefix string)
	walk = func(v reflect.Value, prefix string) {
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
			name := prefix + "_" + strings.ToUpper(tag)
			fv := v.Field(i)
			if fv.Kind() == reflect.Struct {
				walk(fv, name)
				continue
			}
			out[name] = func(s string) error { return setValue(fv, s) }
		}
	}
	walk(reflect.ValueOf(c).Elem(), "SESAME")
	oidcEnvKeys(c, out)
	return out
}

// ApplyEnv overrides c from SESAME_* variables. It returns the names of
// SESAME_ variables that match no key, so the caller can warn about typos.
func ApplyEnv(c *Config, environ []string) (unknown []string, err error) {
	keys := envKeys(c)
	var problems []error
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, "SESAME_") || notConfig[k] || strings.HasPrefix(k, "SESAME_TEST_") {
			continue
		}
		set, known := keys[k]
		if !known {
			unknown = append(unknown, k)
			continue
		}
		if err := set(v); err != nil {
			problems = append(problems, fmt.Errorf("config: %s: %w", k, err))
		}
	}
	sort.Strings(unknown)
	return unknown, errors.Join(problems...)
}

// Validate checks the configuration as a whole and reports every problem.
func (c *Config) Validate() error {
	return errors.Join(slices.Concat(c.checkServer(), c.checkLinks(), c.checkNotify(), c.checkPortal(), c.checkOIDC(), c.checkObjects(),
		c.Webhooks.check())...)
}

// checkServer checks the listener, data directory, logging, HTTP, transfer and storage keys.
func (c *Config) checkServer() []error {
	var problems []error
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		problems = append(problems, fmt.Errorf("listen: %q is not host:port", c.Listen))
	}
	if c.DataDir == "" {
		problems = append(problems, errors.New("data_dir: must not be empty"))
	}
	problems = append(problems, c.checkDatabase()...)
	if c.PublicURL != "" && !strings.HasPrefix(c.PublicURL, "http://") && !strings.HasPrefix(c.PublicURL, "https://") {
		problems = append(problems, fmt.Errorf("public_url: %q must start with http:// or https://", c.PublicURL))
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		problems = append(problems, fmt.Errorf("log.level: %q must be debug, info, warn or error", c.Log.Level))
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		problems = append(problems, fmt.Errorf("log.format: %q must be text or json", c.Log.Format))
	}
	for _, p := range c.HTTP.TrustedProxies {
		if net.ParseIP(p) == nil {
			if _, _, err := net.ParseCIDR(p); err != nil {
				problems = append(problems, fmt.Errorf("http.trusted_proxies: %q is not an IP address or CIDR range", p))
			}
		}
	}
	for _, f := range []struct {
		name string
		d    time.Duration
	}{
		{"http.read_header_timeout", c.HTTP.ReadHeaderTimeout}, {"http.idle_timeout", c.HTTP.IdleTimeout},
		{"http.shutdown_timeout", c.HTTP.ShutdownTimeout}, {"transfer.dest_url_ttl", c.Transfer.DestURLTTL},
		{"transfer.upload_url_ttl", c.Transfer.UploadURLTTL},
	} {
		if f.d <= 0 {
			problems = append(problems, fmt.Errorf("%s: must be positive", f.name))
		}
	}
	if c.HTTP.ReadTimeout < 0 || c.HTTP.RequestTimeout < 0 || c.HTTP.WriteTimeout < 0 {
		problems = append(problems, errors.New("http.read_timeout, http.request_timeout and http.write_timeout must not be negative"))
	}
	if c.Storage.MaxUploadSize < 0 {
		problems = append(problems, errors.New("storage.max_upload_size: must not be negative"))
	}
	if c.Storage.MinFreeSpace < 0 {
		problems = append(problems, errors.New("storage.min_free_space: must not be negative"))
	}
	return append(problems, c.checkS3()...)
}

var s3Bucket = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// checkS3 checks storage.backend and, for s3, the bucket's keys. It never
// repeats the keys' values: they are secrets.
func (c *Config) checkS3() []error {
	s := c.Storage.S3
	switch c.Storage.Backend {
	case "disk":
		return nil
	case "s3":
	default:
		return []error{fmt.Errorf("storage.backend: %q must be disk or s3", c.Storage.Backend)}
	}
	var problems []error
	if s.Endpoint == "" || strings.Contains(s.Endpoint, "/") {
		problems = append(problems, fmt.Errorf("storage.s3.endpoint: %q must be host or host:port, without http:// (storage.s3.tls chooses HTTPS)", s.Endpoint))
	}
	if !s3Bucket.MatchString(s.Bucket) {
		problems = append(problems, fmt.Errorf("storage.s3.bucket: %q is not a bucket name (3 to 63 lower-case letters, digits, dots and hyphens)", s.Bucket))
	}
	if s.AccessKey == "" || s.SecretKey == "" {
		problems = append(problems, errors.New("storage.s3.access_key and storage.s3.secret_key: both are required with storage.backend s3"))
	}
	if strings.HasPrefix(s.Prefix, "/") {
		problems = append(problems, fmt.Errorf("storage.s3.prefix: %q must not start with /", s.Prefix))
	}
	return problems
}

// checkDatabase checks the database section.
func (c *Config) checkDatabase() []error {
	var problems []error
	if u := c.Database.URL; u != "" && !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") {
		// The URL may carry a password: never repeat it.
		problems = append(problems, errors.New("database.url: must be empty (SQLite in data_dir) or start with postgres://"))
	}
	if c.Database.URL != "" && c.SecretKeyFile == "" {
		// Replicas on one database must share one key; a key made in each
		// data directory would part them.
		problems = append(problems, errors.New("secret_key_file: must name a shared key file when database.url is set (write one with: sesame keygen > FILE)"))
	}
	if c.Database.MaxConns < 0 {
		problems = append(problems, errors.New("database.max_conns: must not be negative"))
	}
	if c.Database.StatementTimeout < 0 {
		problems = append(problems, errors.New("database.statement_timeout: must not be negative"))
	}
	return problems
}

// storeConfig returns the store settings of c, for every command that
// opens the store.
func (c *Config) storeConfig(log *slog.Logger) store.Config {
	sc := store.Config{DataDir: c.DataDir, SecretKeyFile: c.SecretKeyFile, DatabaseURL: c.Database.URL, MaxConns: c.Database.MaxConns,
		StatementTimeout: c.Database.StatementTimeout, Logger: log, DefaultFileTTL: sesame.FileTTL(c.Objects.DefaultFileTTL)}
	if s := c.Storage.S3; c.Storage.Backend == "s3" {
		sc.S3 = &store.S3Config{Endpoint: s.Endpoint, Bucket: s.Bucket, Region: s.Region, AccessKey: s.AccessKey, SecretKey: s.SecretKey, TLS: s.TLS, Prefix: s.Prefix}
	}
	return sc
}

// checkLinks checks the links section.
func (c *Config) checkLinks() []error {
	var problems []error
	if c.Links.DefaultExpiry <= 0 || c.Links.MaxExpiry <= 0 {
		problems = append(problems, errors.New("links.default_expiry and links.max_expiry must be positive"))
	} else if c.Links.DefaultExpiry > c.Links.MaxExpiry {
		problems = append(problems, fmt.Errorf("links.default_expiry (%s) must not exceed links.max_expiry (%s)", c.Links.DefaultExpiry, c.Links.MaxExpiry))
	}
	if c.Links.DefaultMaxAccessCount < 1 || c.Links.MaxAccessCount < 1 {
		problems = append(problems, errors.New("links.default_max_access_count and links.max_access_count must be at least 1"))
	} else if c.Links.DefaultMaxAccessCount > c.Links.MaxAccessCount {
		problems = append(problems, fmt.Errorf("links.default_max_access_count (%d) must not exceed links.max_access_count (%d)", c.Links.DefaultMaxAccessCount, c.Links.MaxAccessCount))
	}
	for _, p := range c.Links.SMSCountries {
		if !callingCode.MatchString(p) {
			problems = append(problems, fmt.Errorf("links.sms_countries: %q is not a calling code such as +1 or +44", p))
		}
	}
	return problems
}

// checkNotify checks the notification transports.
func (c *Config) checkNotify() []error {
	var problems []error
	switch c.Notify.Email {
	case "log":
	case "smtp":
		if c.SMTP.Host == "" {
			problems = append(problems, errors.New("smtp.host: required when notify.email is smtp"))
		}
		if c.SMTP.From == "" {
			problems = append(problems, errors.New("smtp.from: required when notify.email is smtp"))
		}
	default:
		problems = append(problems, fmt.Errorf("notify.email: %q must be log or smtp", c.Notify.Email))
	}
	switch c.SMTP.TLS {
	case "mandatory", "opportunistic", "none":
	default:
		problems = append(problems, fmt.Errorf("smtp.tls: %q must be mandatory, opportunistic or none", c.SMTP.TLS))
	}
	if c.SMTP.Port < 1 || c.SMTP.Port > 65535 {
		problems = append(problems, fmt.Errorf("smtp.port: %d is not a port", c.SMTP.Port))
	}
	switch c.Notify.SMS {
	case "log":
	case "twilio":
		if c.Twilio.AccountSID == "" {
			problems = append(problems, errors.New("twilio.account_sid: required when notify.sms is twilio"))
		}
		if !(c.Twilio.APIKey != "" && c.Twilio.APISecret != "") && c.Twilio.AuthToken == "" {
			problems = append(problems, errors.New("twilio: set api_key and api_secret, or auth_token, when notify.sms is twilio"))
		}
		if c.Twilio.From == "" && c.Twilio.MessagingServiceSID == "" {
			problems = append(problems, errors.New("twilio: set from or messaging_service_sid"))
		}
	default:
		problems = append(problems, fmt.Errorf("notify.sms: %q must be log or twilio", c.Notify.SMS))
	}
	if c.Notify.SMSDailyBudget < 0 {
		problems = append(problems, errors.New("notify.sms_daily_budget: must not be negative"))
	}
	if c.Notify.Interval <= 0 {
		problems = append(problems, errors.New("notify.interval: must be positive"))
	}
	if _, ok := notify.ParseLanguage(c.Notify.Language); !ok {
		problems = append(problems, fmt.Errorf("notify.language: %q must be a BCP 47 language tag such as en or pt-BR", c.Notify.Language))
	}
	return problems
}

// checkPortal checks branding, the portal and MCP.
func (c *Config) checkPortal() []error {
	var problems []error
	if !hexColour.MatchString(c.Branding.AccentColor) {
		problems = append(problems, fmt.Errorf("branding.accent_color: %q must be a colour such as #2563eb", c.Branding.AccentColor))
	}
	if c.Branding.LogoURL != "" && !strings.HasPrefix(c.Branding.LogoURL, "https://") && !strings.HasPrefix(c.Branding.LogoURL, "/") {
		problems = append(problems, fmt.Errorf("branding.logo_url: %q must be an https URL or a path on this server", c.Branding.LogoURL))
	}
	if strings.TrimSpace(c.Branding.ProductName) == "" {
		problems = append(problems, errors.New("branding.product_name: must not be empty"))
	}
	if c.Portal.MaxLinkBytes < 0 || c.Portal.MaxLinkFiles < 0 || c.Portal.MinFreeSpace < 0 {
		problems = append(problems, errors.New("portal.max_link_bytes, portal.max_link_files and portal.min_free_space must not be negative"))
	}
	for _, r := range c.MCP.UploadRoots {
		if !filepath.IsAbs(r) {
			problems = append(problems, fmt.Errorf("mcp.upload_roots: %q must be an absolute directory", r))
		}
	}
	return problems
}

var hexColour = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

var callingCode = regexp.MustCompile(`^\+[1-9][0-9]{0,3}$`)

// LinkPolicy returns the link rules of the configuration.
func (c *Config) LinkPolicy() sesame.LinkPolicy {
	return sesame.LinkPolicy{DefaultExpiry: c.Links.DefaultExpiry, MaxExpiry: c.Links.MaxExpiry,
		DefaultMaxAccess: c.Links.DefaultMaxAccessCount, MaxAccessCount: c.Links.MaxAccessCount, SMSCountries: c.Links.SMSCountries,
		SocialSignIn: len(c.OIDC.Providers) > 0}
}

// PublicBase returns public_url, or one derived from the listen address.
func (c *Config) PublicBase() string {
	if c.PublicURL != "" {
		return strings.TrimRight(c.PublicURL, "/")
	}
	host, port, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return "http://" + c.Listen
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
