package main

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/sesame-share/sesame/store"
)

// configKey is one leaf of Config: its YAML path ("http.read_timeout"), its
// environment variable and its value.
type configKey struct {
	path string
	env  string
	v    reflect.Value
}

// configKeys walks c by its yaml tags, independently of envKeys, so that the
// two can be checked against each other.
func configKeys(t *testing.T, c *Config) []configKey {
	t.Helper()
	var out []configKey
	var walk func(v reflect.Value, path []string)
	walk = func(v reflect.Value, path []string) {
		for i := 0; i < v.NumField(); i++ {
			tag, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ",")
			if tag == "" || tag == "-" {
				t.Fatalf("Config field %s has no yaml tag", v.Type().Field(i).Name)
			}
			p := append(append([]string(nil), path...), tag)
			if f := v.Field(i); f.Kind() == reflect.Struct {
				walk(f, p)
			} else {
				out = append(out, configKey{path: strings.Join(p, "."), env: "SESAME_" + strings.ToUpper(strings.Join(p, "_")), v: f})
			}
		}
	}
	walk(reflect.ValueOf(c).Elem(), nil)
	return out
}

const fullYAML = `# every key, none at its default
listen: 0.0.0.0:9000
data_dir: /var/lib/sesame
public_url: https://share.example.com/
memory_limit: 200MiB
database:
  url: postgres://sesame@db.example.com/sesame?sslmode=verify-full
  max_conns: 25
  statement_timeout: 30s
log:
  level: debug
  format: json
metrics:
  listen: 10.0.0.5:9464
http:
  trusted_proxies: [10.0.0.1, 10.0.0.0/8]
  read_header_timeout: 5s
  read_timeout: 1h30m
  request_timeout: 20s
  write_timeout: 45m
  idle_timeout: 90s
  shutdown_timeout: 7s
storage:
  backend: s3
  max_upload_size: 512MiB
  min_free_space: 2GiB
  s3:
    endpoint: s3.example.com:9000
    bucket: sesame-blobs
    region: eu-west-1
    access_key: AKIAEXAMPLE
    secret_key: s3-secret
    tls: false
    prefix: prod/
transfer:
  dest_url_ttl: 15m
  upload_url_ttl: 20m
links:
  default_expiry: 48h
  max_expiry: 240h
  default_max_access_count: 3
  max_access_count: 50
  sms_countries: ["+1", "+44"]
notify:
  email: smtp
  sms: twilio
  sms_daily_budget: 50
  interval: 3s
  language: de-CH
smtp:
  host: mail.example.com
  port: 465
  tls: opportunistic
  username: mailer
  password: hunter2
  from: share@example.com
  from_name: Example Share
twilio:
  account_sid: AC123
  api_key: SK123
  api_secret: sekrit
  auth_token: tok
  from: "+15005550006"
  messaging_service_sid: MG123
  base_url: https://twilio.test
portal:
  max_link_bytes: 2GiB
  max_link_files: 20
  min_free_space: 1GiB
mcp:
  upload_roots: ["/srv/outgoing"]
branding:
  product_name: Example Share
  accent_color: "#112233"
  logo_url: https://example.com/logo.png
audit:
  retention: 30d
oidc:
  providers:
    - name: Acme SSO
      issuer: https://sso.example.com
      client_id: sesame
      client_secret: oidc-secret
      scopes: [openid, email, profile]
objects:
  default_file_ttl: 90d
webhooks:
  allowed_networks: [10.20.0.0/16, "fd00::/8"]
  timeout: 5s
secret_key_file: /etc/sesame/secret.key
`

func fullConfig() Config {
	var c Config
	c.Listen = "0.0.0.0:9000"
	c.DataDir = "/var/lib/sesame"
	c.PublicURL = "https://share.example.com/"
	c.MemoryLimit = 200 << 20
	c.Database.URL = "postgres://sesame@db.example.com/sesame?sslmode=verify-full"
	c.Database.MaxConns = 25
	c.Database.StatementTimeout = 30 * time.Second
	c.Log.Level = "debug"
	c.Log.Format = "json"
	c.Metrics.Listen = "10.0.0.5:9464"
	c.HTTP.TrustedProxies = []string{"10.0.0.1", "10.0.0.0/8"}
	c.HTTP.ReadHeaderTimeout = 5 * time.Second
	c.HTTP.ReadTimeout = 90 * time.Minute
	c.HTTP.RequestTimeout = 20 * time.Second
	c.HTTP.WriteTimeout = 45 * time.Minute
	c.HTTP.IdleTimeout = 90 * time.Second
	c.HTTP.ShutdownTimeout = 7 * time.Second
	c.Storage.Backend = "s3"
	c.Storage.MaxUploadSize = 512 << 20
	c.Storage.MinFreeSpace = 2 << 30
	c.Storage.S3.Endpoint, c.Storage.S3.Bucket, c.Storage.S3.Region = "s3.example.com:9000", "sesame-blobs", "eu-west-1"
	c.Storage.S3.AccessKey, c.Storage.S3.SecretKey, c.Storage.S3.TLS, c.Storage.S3.Prefix = "AKIAEXAMPLE", "s3-secret", false, "prod/"
	c.Transfer.DestURLTTL = 15 * time.Minute
	c.Transfer.UploadURLTTL = 20 * time.Minute
	c.Links.DefaultExpiry = 48 * time.Hour
	c.Links.MaxExpiry = 240 * time.Hour
	c.Links.DefaultMaxAccessCount = 3
	c.Links.MaxAccessCount = 50
	c.Links.SMSCountries = []string{"+1", "+44"}
	c.Notify.Email, c.Notify.SMS, c.Notify.SMSDailyBudget, c.Notify.Interval = "smtp", "twilio", 50, 3*time.Second
	c.Notify.Language = "de-CH"
	c.SMTP.Host, c.SMTP.Port, c.SMTP.TLS, c.SMTP.Username, c.SMTP.Password = "mail.example.com", 465, "opportunistic", "mailer", "hunter2"
	c.SMTP.From, c.SMTP.FromName = "share@example.com", "Example Share"
	c.Twilio.AccountSID, c.Twilio.APIKey, c.Twilio.APISecret, c.Twilio.AuthToken = "AC123", "SK123", "sekrit", "tok"
	c.Twilio.From, c.Twilio.MessagingServiceSID, c.Twilio.BaseURL = "+15005550006", "MG123", "https://twilio.test"
	c.Branding.ProductName, c.Branding.AccentColor, c.Branding.LogoURL = "Example Share", "#112233", "https://example.com/logo.png"
	c.Portal.MaxLinkBytes, c.Portal.MaxLinkFiles, c.Portal.MinFreeSpace = 2<<30, 20, 1<<30
	c.MCP.UploadRoots = []string{"/srv/outgoing"}
	c.Audit.Retention = Retention(30 * 24 * time.Hour)
	c.OIDC.Providers = []OIDCProviderConfig{{Name: "Acme SSO", Issuer: "https://sso.example.com", ClientID: "sesame",
		ClientSecret: "oidc-secret", Scopes: []string{"openid", "email", "profile"}}}
	c.Objects.DefaultFileTTL = "90d"
	c.Webhooks.AllowedNetworks, c.Webhooks.Timeout = []string{"10.20.0.0/16", "fd00::/8"}, 5*time.Second
	c.SecretKeyFile = "/etc/sesame/secret.key"
	return c
}

func TestParseConfigFull(t *testing.T) {
	t.Parallel()
	want := fullConfig()
	// The file only proves that it sets every key if no value in it is the
	// default; a key added to Config without being added here fails too.
	def := DefaultConfig()
	defKeys := configKeys(t, &def)
	for i, k := range configKeys(t, &want) {
		if reflect.DeepEqual(k.v.Interface(), defKeys[i].v.Interface()) {
			t.Errorf("fullYAML leaves %s at its default %v; give it another value", k.path, k.v.Interface())
		}
	}

	got, err := ParseConfig(strings.NewReader(fullYAML), DefaultConfig())
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseConfig mismatch (-want +got):\n%s", diff)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("Validate of the full file: %v", err)
	}
}

func TestParseConfigKeepsDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		yaml   string
		mutate func(*Config)
	}{
		{"empty", "", func(*Config) {}},
		{"only comments", "# nothing\n\n", func(*Config) {}},
		{"one top-level key", "listen: 127.0.0.1:9999\n", func(c *Config) { c.Listen = "127.0.0.1:9999" }},
		{"one nested key", "http:\n  read_timeout: 1s\n", func(c *Config) { c.HTTP.ReadTimeout = time.Second }},
		{"byte size as an integer", "storage: {max_upload_size: 1048576}\n", func(c *Config) { c.Storage.MaxUploadSize = 1 << 20 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := DefaultConfig()
			tt.mutate(&want)
			got, err := ParseConfig(strings.NewReader(tt.yaml), DefaultConfig())
			if err != nil {
				t.Fatalf("ParseConfig: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ParseConfig mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseConfigRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		want []string // substrings of the error
	}{
		{"unknown top-level key", "listen: 127.0.0.1:8080\nsmtp_host: mail.example.com\n", []string{"smtp_host", "line 2"}},
		{"unknown nested key, flow style", "listen: 127.0.0.1:8080\nhttp: {read_timout: 1s}\n", []string{"read_timout", "line 2"}},
		{"unknown nested key, block style", "log:\n  level: info\n  colour: true\n", []string{"colour", "line 3"}},
		{"bad duration", "http:\n  idle_timeout: soon\n", []string{"soon", "line 2"}},
		{"bare number as a duration", "http:\n  idle_timeout: 30\n", []string{"30", "line 2"}},
		{"bad byte size", "storage:\n  max_upload_size: ten\n", []string{`"ten" is not a size`, "line 2"}},
		{"bad retention", "audit:\n  retention: forever\n", []string{`"forever" is not a retention`, "line 2"}},
		{"negative retention", "audit:\n  retention: -5d\n", []string{`"-5d" is not a retention`, "line 2"}},
		{"retention as a list", "audit:\n  retention: [1d]\n", []string{"single value", "line 2"}},
		{"negative byte size", "storage:\n  max_upload_size: -1\n", []string{`"-1" is not a size`, "line 2"}},
		{"not a mapping", "- listen\n", []string{"line 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig(strings.NewReader(tt.yaml), DefaultConfig())
			if err == nil {
				t.Fatalf("ParseConfig(%q): got nil error, want one containing %q", tt.yaml, tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("ParseConfig(%q): got error %q, want it to contain %q", tt.yaml, err, w)
				}
			}
		})
	}
}

func TestParseByteSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want ByteSize
	}{
		{"1048576", 1048576},
		{"0", 0},
		{"512MiB", 512 << 20},
		{"512 MiB", 512 << 20},
		{"512mib", 512 << 20},
		{"10GB", 10_000_000_000},
		{"1.5GiB", 3 << 29},
		{"2KiB", 2048},
		{"3kb", 3000},
		{"1TiB", 1 << 40},
		{"7B", 7},
	}
	for _, tt := range tests {
		got, err := ParseByteSize(tt.in)
		if err != nil {
			t.Errorf("ParseByteSize(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseByteSize(%q): got %d, want %d", tt.in, got, tt.want)
		}
	}
	for _, in := range []string{"ten", "-1", "-1MiB", "", "MiB", "10XB", "1.2.3", "10 GB extra", "99999999999TiB"} {
		if got, err := ParseByteSize(in); err == nil {
			t.Errorf("ParseByteSize(%q): got %d, want an error", in, got)
		}
	}
}

func TestParseRetention(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"400d", 400 * day}, {"52w", 52 * 7 * day}, {"9600h", 400 * day}, {"90m", 90 * time.Minute},
		{"0", 0}, {"", 0}, {" 0 ", 0},
	}
	for _, tt := range tests {
		got, err := ParseRetention(tt.in)
		if err != nil || time.Duration(got) != tt.want {
			t.Errorf("ParseRetention(%q): got %v, %v; want %v", tt.in, time.Duration(got), err, tt.want)
		}
	}
	for _, in := range []string{"forever", "-1d", "-1h", "0d", "1.5d", "d", "10y", "99999999999d"} {
		if got, err := ParseRetention(in); err == nil {
			t.Errorf("ParseRetention(%q): got %v, want an error", in, time.Duration(got))
		}
	}
	// In a file, 0 and an empty string keep forever.
	for _, in := range []string{"0", `""`} {
		c, err := ParseConfig(strings.NewReader("audit:\n  retention: "+in+"\n"), DefaultConfig())
		if err != nil || c.Audit.Retention != 0 {
			t.Errorf("retention: %s: got %v, %v; want 0", in, time.Duration(c.Audit.Retention), err)
		}
	}
}

func TestByteSizeYAML(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want ByteSize
	}{{"1048576", 1 << 20}, {`"512MiB"`, 512 << 20}, {"10GB", 10e9}, {"1.5GiB", 3 << 29}} {
		var got struct {
			Size ByteSize `yaml:"size"`
		}
		if err := yaml.Unmarshal([]byte("size: "+tt.in), &got); err != nil {
			t.Errorf("size: %s: %v", tt.in, err)
			continue
		}
		if got.Size != tt.want {
			t.Errorf("size: %s: got %d, want %d", tt.in, got.Size, tt.want)
		}
	}
	for _, in := range []string{"ten", "-1", "[1]"} {
		var got struct {
			Size ByteSize `yaml:"size"`
		}
		if err := yaml.Unmarshal([]byte("size: "+in), &got); err == nil {
			t.Errorf("size: %s: got %d, want an error", in, got.Size)
		}
	}
}

func TestEnvKeysMatchConfig(t *testing.T) {
	t.Parallel()
	var c Config
	var want []string
	for _, k := range configKeys(t, &c) {
		if k.env == "SESAME_OIDC_PROVIDERS" { // a list: a key for each field of each position
			for _, ec := range oidcEnvCases() {
				want = append(want, ec.env)
			}
			continue
		}
		want = append(want, k.env)
	}
	var got []string
	for k := range envKeys(&c) {
		got = append(got, k)
	}
	sort.Strings(want)
	sort.Strings(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("envKeys mismatch (-want +got):\n%s", diff)
	}
}

// envCases sets every key from the environment; TestApplyEnvEveryKey checks
// that no key is missing.
var envCases = append([]envCase{
	{"SESAME_LISTEN", "0.0.0.0:9000", func(c *Config) { c.Listen = "0.0.0.0:9000" }},
	{"SESAME_DATA_DIR", "/srv/sesame", func(c *Config) { c.DataDir = "/srv/sesame" }},
	{"SESAME_PUBLIC_URL", "https://share.example.com", func(c *Config) { c.PublicURL = "https://share.example.com" }},
	{"SESAME_MEMORY_LIMIT", "1GiB", func(c *Config) { c.MemoryLimit = 1 << 30 }},
	{"SESAME_DATABASE_URL", "postgres://db/sesame", func(c *Config) { c.Database.URL = "postgres://db/sesame" }},
	{"SESAME_DATABASE_MAX_CONNS", "4", func(c *Config) { c.Database.MaxConns = 4 }},
	{"SESAME_DATABASE_STATEMENT_TIMEOUT", "5s", func(c *Config) { c.Database.StatementTimeout = 5 * time.Second }},
	{"SESAME_LOG_LEVEL", "debug", func(c *Config) { c.Log.Level = "debug" }},
	{"SESAME_LOG_FORMAT", "json", func(c *Config) { c.Log.Format = "json" }},
	{"SESAME_METRICS_LISTEN", "127.0.0.1:9464", func(c *Config) { c.Metrics.Listen = "127.0.0.1:9464" }},
	{"SESAME_HTTP_TRUSTED_PROXIES", "10.0.0.1,10.0.0.0/8", func(c *Config) { c.HTTP.TrustedProxies = []string{"10.0.0.1", "10.0.0.0/8"} }},
	{"SESAME_HTTP_READ_HEADER_TIMEOUT", "3s", func(c *Config) { c.HTTP.ReadHeaderTimeout = 3 * time.Second }},
	{"SESAME_HTTP_READ_TIMEOUT", "5s", func(c *Config) { c.HTTP.ReadTimeout = 5 * time.Second }},
	{"SESAME_HTTP_REQUEST_TIMEOUT", "9s", func(c *Config) { c.HTTP.RequestTimeout = 9 * time.Second }},
	{"SESAME_HTTP_WRITE_TIMEOUT", "6m", func(c *Config) { c.HTTP.WriteTimeout = 6 * time.Minute }},
	{"SESAME_HTTP_IDLE_TIMEOUT", "7s", func(c *Config) { c.HTTP.IdleTimeout = 7 * time.Second }},
	{"SESAME_HTTP_SHUTDOWN_TIMEOUT", "8s", func(c *Config) { c.HTTP.ShutdownTimeout = 8 * time.Second }},
	{"SESAME_STORAGE_MAX_UPLOAD_SIZE", "1GiB", func(c *Config) { c.Storage.MaxUploadSize = 1 << 30 }},
	{"SESAME_STORAGE_MIN_FREE_SPACE", "3GiB", func(c *Config) { c.Storage.MinFreeSpace = 3 << 30 }},
	{"SESAME_STORAGE_BACKEND", "s3", func(c *Config) { c.Storage.Backend = "s3" }},
	{"SESAME_STORAGE_S3_ENDPOINT", "minio:9000", func(c *Config) { c.Storage.S3.Endpoint = "minio:9000" }},
	{"SESAME_STORAGE_S3_BUCKET", "b1", func(c *Config) { c.Storage.S3.Bucket = "b1" }},
	{"SESAME_STORAGE_S3_REGION", "us-east-1", func(c *Config) { c.Storage.S3.Region = "us-east-1" }},
	{"SESAME_STORAGE_S3_ACCESS_KEY", "ak", func(c *Config) { c.Storage.S3.AccessKey = "ak" }},
	{"SESAME_STORAGE_S3_SECRET_KEY", "sk", func(c *Config) { c.Storage.S3.SecretKey = "sk" }},
	{"SESAME_STORAGE_S3_TLS", "false", func(c *Config) { c.Storage.S3.TLS = false }},
	{"SESAME_STORAGE_S3_PREFIX", "p/", func(c *Config) { c.Storage.S3.Prefix = "p/" }},
	{"SESAME_TRANSFER_DEST_URL_TTL", "10m", func(c *Config) { c.Transfer.DestURLTTL = 10 * time.Minute }},
	{"SESAME_TRANSFER_UPLOAD_URL_TTL", "11m", func(c *Config) { c.Transfer.UploadURLTTL = 11 * time.Minute }},
	{"SESAME_LINKS_DEFAULT_EXPIRY", "24h", func(c *Config) { c.Links.DefaultExpiry = 24 * time.Hour }},
	{"SESAME_LINKS_MAX_EXPIRY", "48h", func(c *Config) { c.Links.MaxExpiry = 48 * time.Hour }},
	{"SESAME_LINKS_DEFAULT_MAX_ACCESS_COUNT", "4", func(c *Config) { c.Links.DefaultMaxAccessCount = 4 }},
	{"SESAME_LINKS_MAX_ACCESS_COUNT", "40", func(c *Config) { c.Links.MaxAccessCount = 40 }},
	{"SESAME_LINKS_SMS_COUNTRIES", "+1, +353", func(c *Config) { c.Links.SMSCountries = []string{"+1", "+353"} }},
	{"SESAME_NOTIFY_EMAIL", "smtp", func(c *Config) { c.Notify.Email = "smtp" }},
	{"SESAME_NOTIFY_SMS", "twilio", func(c *Config) { c.Notify.SMS = "twilio" }},
	{"SESAME_NOTIFY_SMS_DAILY_BUDGET", "7", func(c *Config) { c.Notify.SMSDailyBudget = 7 }},
	{"SESAME_NOTIFY_INTERVAL", "2s", func(c *Config) { c.Notify.Interval = 2 * time.Second }},
	{"SESAME_NOTIFY_LANGUAGE", "fr", func(c *Config) { c.Notify.Language = "fr" }},
	{"SESAME_SMTP_HOST", "smtp.example.org", func(c *Config) { c.SMTP.Host = "smtp.example.org" }},
	{"SESAME_SMTP_PORT", "2525", func(c *Config) { c.SMTP.Port = 2525 }},
	{"SESAME_SMTP_TLS", "none", func(c *Config) { c.SMTP.TLS = "none" }},
	{"SESAME_SMTP_USERNAME", "u", func(c *Config) { c.SMTP.Username = "u" }},
	{"SESAME_SMTP_PASSWORD", "p w", func(c *Config) { c.SMTP.Password = "p w" }},
	{"SESAME_SMTP_FROM", "f@example.org", func(c *Config) { c.SMTP.From = "f@example.org" }},
	{"SESAME_SMTP_FROM_NAME", "F", func(c *Config) { c.SMTP.FromName = "F" }},
	{"SESAME_TWILIO_ACCOUNT_SID", "AC9", func(c *Config) { c.Twilio.AccountSID = "AC9" }},
	{"SESAME_TWILIO_API_KEY", "SK9", func(c *Config) { c.Twilio.APIKey = "SK9" }},
	{"SESAME_TWILIO_API_SECRET", "s9", func(c *Config) { c.Twilio.APISecret = "s9" }},
	{"SESAME_TWILIO_AUTH_TOKEN", "t9", func(c *Config) { c.Twilio.AuthToken = "t9" }},
	{"SESAME_TWILIO_FROM", "+15005550001", func(c *Config) { c.Twilio.From = "+15005550001" }},
	{"SESAME_TWILIO_MESSAGING_SERVICE_SID", "MG9", func(c *Config) { c.Twilio.MessagingServiceSID = "MG9" }},
	{"SESAME_TWILIO_BASE_URL", "http://127.0.0.1:9", func(c *Config) { c.Twilio.BaseURL = "http://127.0.0.1:9" }},
	{"SESAME_PORTAL_MAX_LINK_BYTES", "5GB", func(c *Config) { c.Portal.MaxLinkBytes = 5e9 }},
	{"SESAME_PORTAL_MAX_LINK_FILES", "9", func(c *Config) { c.Portal.MaxLinkFiles = 9 }},
	{"SESAME_PORTAL_MIN_FREE_SPACE", "1MiB", func(c *Config) { c.Portal.MinFreeSpace = 1 << 20 }},
	{"SESAME_MCP_UPLOAD_ROOTS", "/a,/b", func(c *Config) { c.MCP.UploadRoots = []string{"/a", "/b"} }},
	{"SESAME_BRANDING_PRODUCT_NAME", "Acme", func(c *Config) { c.Branding.ProductName = "Acme" }},
	{"SESAME_BRANDING_ACCENT_COLOR", "#000000", func(c *Config) { c.Branding.AccentColor = "#000000" }},
	{"SESAME_BRANDING_LOGO_URL", "/logo.svg", func(c *Config) { c.Branding.LogoURL = "/logo.svg" }},
	{"SESAME_AUDIT_RETENTION", "2w", func(c *Config) { c.Audit.Retention = Retention(14 * 24 * time.Hour) }},
	{"SESAME_OBJECTS_DEFAULT_FILE_TTL", "30d", func(c *Config) { c.Objects.DefaultFileTTL = "30d" }},
	{"SESAME_WEBHOOKS_ALLOWED_NETWORKS", "10.0.0.0/8, 127.0.0.1", func(c *Config) { c.Webhooks.AllowedNetworks = []string{"10.0.0.0/8", "127.0.0.1"} }},
	{"SESAME_WEBHOOKS_TIMEOUT", "20s", func(c *Config) { c.Webhooks.Timeout = 20 * time.Second }},
	{"SESAME_SECRET_KEY_FILE", "/run/secrets/sesame.key", func(c *Config) { c.SecretKeyFile = "/run/secrets/sesame.key" }},
}, oidcEnvCases()...)

func TestApplyEnvEveryKey(t *testing.T) {
	t.Parallel()
	covered := map[string]bool{}
	for _, tt := range envCases {
		covered[tt.env] = true
		t.Run(tt.env, func(t *testing.T) {
			want := DefaultConfig()
			tt.mutate(&want)
			got := DefaultConfig()
			unknown, err := ApplyEnv(&got, []string{"HOME=/root", tt.env + "=" + tt.value})
			if err != nil {
				t.Fatalf("ApplyEnv: %v", err)
			}
			if len(unknown) != 0 {
				t.Errorf("ApplyEnv: got unknown %q, want none", unknown)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ApplyEnv mismatch (-want +got):\n%s", diff)
			}
		})
	}
	var c Config
	for k := range envKeys(&c) {
		if !covered[k] {
			t.Errorf("envCases has no case for %s", k)
		}
	}
}

func TestApplyEnvOverFile(t *testing.T) {
	t.Parallel()
	c, err := ParseConfig(strings.NewReader(fullYAML), DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	want := fullConfig()
	want.HTTP.ReadTimeout = 5 * time.Second
	want.HTTP.TrustedProxies = []string{"192.168.0.0/16"}
	want.Log.Level = "warn"
	_, err = ApplyEnv(&c, []string{"SESAME_HTTP_READ_TIMEOUT=5s", "SESAME_HTTP_TRUSTED_PROXIES= 192.168.0.0/16 ,", "SESAME_LOG_LEVEL=warn"})
	if err != nil {
		t.Fatalf("ApplyEnv: %v", err)
	}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("ApplyEnv mismatch (-want +got):\n%s", diff)
	}
}

func TestApplyEnvUnknown(t *testing.T) {
	t.Parallel()
	c := DefaultConfig()
	environ := []string{
		"SESAME_TOKEN=sst_secret",      // the client's token, not a key
		"SESAME_TEST_POSTGRES_DSN=x",   // test settings
		"SESAME_SMTP_HOSTNAME=mail",    // no such key
		"SESAME_HTTP_READ_TIMOUT=5s",   // a typo
		"SESAME_LISTEN=127.0.0.1:7000", // known
		"PATH=/usr/bin",                // not ours
		"sesame_listen=127.0.0.1:7001", // not ours: case matters
		"SESAME_LOG",                   // no '=': ignored
	}
	unknown, err := ApplyEnv(&c, environ)
	if err != nil {
		t.Fatalf("ApplyEnv: %v", err)
	}
	if diff := cmp.Diff([]string{"SESAME_HTTP_READ_TIMOUT", "SESAME_SMTP_HOSTNAME"}, unknown); diff != "" {
		t.Errorf("unknown mismatch (-want +got):\n%s", diff)
	}
	if c.Listen != "127.0.0.1:7000" {
		t.Errorf("Listen: got %q, want %q", c.Listen, "127.0.0.1:7000")
	}
}

func TestApplyEnvBadValues(t *testing.T) {
	t.Parallel()
	c := DefaultConfig()
	_, err := ApplyEnv(&c, []string{
		"SESAME_HTTP_READ_TIMEOUT=soon",
		"SESAME_STORAGE_MAX_UPLOAD_SIZE=ten",
		"SESAME_TRANSFER_DEST_URL_TTL=-",
		"SESAME_AUDIT_RETENTION=forever",
		"SESAME_LOG_LEVEL=debug",
	})
	if err == nil {
		t.Fatal("ApplyEnv: got nil error, want one")
	}
	for _, w := range []string{"SESAME_HTTP_READ_TIMEOUT", "soon", "SESAME_STORAGE_MAX_UPLOAD_SIZE", "ten", "SESAME_TRANSFER_DEST_URL_TTL", "SESAME_AUDIT_RETENTION"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("ApplyEnv: got error %q, want it to contain %q", err, w)
		}
	}
	if strings.Contains(err.Error(), "SESAME_LOG_LEVEL") {
		t.Errorf("ApplyEnv: error %q names the good variable SESAME_LOG_LEVEL", err)
	}
}

// writeFile writes a file in a fresh temp dir and returns its path.
func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadPrecedence(t *testing.T) {
	t.Parallel()
	file := writeFile(t, "sesame.yaml", `listen: 127.0.0.1:1111
data_dir: /file/data
public_url: http://file.example
log:
  level: warn
  format: json
`)
	env := []string{
		"SESAME_LISTEN=127.0.0.1:2222",
		"SESAME_DATA_DIR=/env/data",
		"SESAME_PUBLIC_URL=http://env.example",
		"SESAME_LOG_LEVEL=debug",
	}
	tests := []struct {
		name    string
		g       globals
		environ []string
		mutate  func(*Config)
	}{
		{"defaults", globals{}, nil, func(*Config) {}},
		{"file over defaults", globals{config: file}, nil, func(c *Config) {
			c.Listen, c.DataDir, c.PublicURL, c.Log.Level, c.Log.Format = "127.0.0.1:1111", "/file/data", "http://file.example", "warn", "json"
		}},
		{"environment over file", globals{config: file}, env, func(c *Config) {
			c.Listen, c.DataDir, c.PublicURL, c.Log.Level, c.Log.Format = "127.0.0.1:2222", "/env/data", "http://env.example", "debug", "json"
		}},
		{"flags over environment", globals{config: file, listen: "127.0.0.1:3333", data: "/flag/data", publicURL: "http://flag.example"}, env, func(c *Config) {
			c.Listen, c.DataDir, c.PublicURL, c.Log.Level, c.Log.Format = "127.0.0.1:3333", "/flag/data", "http://flag.example", "debug", "json"
		}},
		{"one flag", globals{config: file, data: "/flag/data"}, env, func(c *Config) {
			c.Listen, c.DataDir, c.PublicURL, c.Log.Level, c.Log.Format = "127.0.0.1:2222", "/flag/data", "http://env.example", "debug", "json"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := DefaultConfig()
			tt.mutate(&want)
			var stderr strings.Builder
			got, err := tt.g.load(tt.environ, &stderr)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("load mismatch (-want +got):\n%s", diff)
			}
			if stderr.Len() != 0 {
				t.Errorf("load wrote %q to stderr, want nothing", stderr.String())
			}
		})
	}
}

func TestLoadWarnsAndFails(t *testing.T) {
	t.Parallel()
	t.Run("unknown variable warns", func(t *testing.T) {
		var stderr strings.Builder
		g := globals{}
		if _, err := g.load([]string{"SESAME_LISTN=127.0.0.1:1", "SESAME_TOKEN=sst_x"}, &stderr); err != nil {
			t.Fatalf("load: %v", err)
		}
		if !strings.Contains(stderr.String(), "SESAME_LISTN is not a configuration key") {
			t.Errorf("stderr: got %q, want a warning about SESAME_LISTN", stderr.String())
		}
		if strings.Contains(stderr.String(), "SESAME_TOKEN") {
			t.Errorf("stderr: got %q, want no warning about SESAME_TOKEN", stderr.String())
		}
	})
	tests := []struct {
		name    string
		g       globals
		environ []string
		want    []string
	}{
		{"unknown key in the file", globals{config: writeFile(t, "bad.yaml", "smtp_host: x\n")}, nil, []string{"bad.yaml", "smtp_host", "line 1"}},
		{"missing file", globals{config: filepath.Join(t.TempDir(), "nope.yaml")}, nil, []string{"nope.yaml"}},
		{"bad environment value", globals{}, []string{"SESAME_HTTP_IDLE_TIMEOUT=forever"}, []string{"SESAME_HTTP_IDLE_TIMEOUT"}},
		{"invalid after the environment", globals{}, []string{"SESAME_LOG_LEVEL=loud"}, []string{"log.level", "loud"}},
		{"invalid after the flags", globals{listen: "nowhere"}, nil, []string{"listen", "nowhere"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.g.load(tt.environ, &strings.Builder{})
			if err == nil {
				t.Fatalf("load: got nil error, want one containing %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("load: got error %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

// TestExampleConfigDocumentsEveryKey checks that config.example.yaml at the
// repository root names every key (uncommented, so that ParseConfig checks it
// too) and is itself a valid configuration.
func TestExampleConfigDocumentsEveryKey(t *testing.T) {
	t.Parallel()
	const path = "../../config.example.yaml"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("config.example.yaml must exist at the repository root and document every configuration key: %v", err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		t.Fatalf("%s is not YAML: %v", path, err)
	}
	present := map[string]bool{}
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, prefix)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				p := prefix + n.Content[i].Value
				present[p] = true
				walk(n.Content[i+1], p+".")
			}
		}
	}
	walk(&root, "")

	var c Config
	paths := map[string]string{} // env name to YAML path
	for _, k := range configKeys(t, &c) {
		paths[k.env] = k.path
	}
	var names []string
	for env := range envKeys(&c) {
		names = append(names, env)
	}
	sort.Strings(names)
	for _, env := range names {
		p, ok := paths[env]
		if !ok && strings.HasPrefix(env, "SESAME_OIDC_PROVIDERS_") {
			p, ok = "oidc.providers", true // a list: its items' keys are in comments
		}
		if !ok {
			t.Errorf("envKeys has %s, which matches no yaml path in Config", env)
			continue
		}
		if !present[p] {
			t.Errorf("%s does not document the key %s (%s): add it, uncommented, with its default", path, p, env)
		}
	}

	cfg, err := ParseConfig(strings.NewReader(string(data)), DefaultConfig())
	if err != nil {
		t.Fatalf("%s does not parse: %v", path, err)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("%s is not a valid configuration: %v", path, err)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	if err := func() error { c := DefaultConfig(); return c.Validate() }(); err != nil {
		t.Fatalf("DefaultConfig().Validate(): %v", err)
	}
	tests := []struct {
		name   string
		mutate func(*Config)
		want   []string // substrings of the error; nil: valid
	}{
		{"full config", func(c *Config) { *c = fullConfig() }, nil},
		{"listen with empty host", func(c *Config) { c.Listen = ":8080" }, nil},
		{"listen IPv6", func(c *Config) { c.Listen = "[::1]:8080" }, nil},
		{"zero read and write timeouts mean none", func(c *Config) { c.HTTP.ReadTimeout, c.HTTP.WriteTimeout = 0, 0 }, nil},
		{"zero upload cap means none", func(c *Config) { c.Storage.MaxUploadSize = 0 }, nil},
		{"IPv6 proxy", func(c *Config) { c.HTTP.TrustedProxies = []string{"::1", "fd00::/8"} }, nil},

		{"listen without port", func(c *Config) { c.Listen = "127.0.0.1" }, []string{"listen", `"127.0.0.1"`, "host:port"}},
		{"listen empty", func(c *Config) { c.Listen = "" }, []string{"listen", "host:port"}},
		{"data_dir empty", func(c *Config) { c.DataDir = "" }, []string{"data_dir", "empty"}},
		{"database url postgresql", func(c *Config) { c.Database.URL, c.SecretKeyFile = "postgresql://db/sesame", "/etc/sesame/secret.key" }, nil},
		{"database url mysql", func(c *Config) { c.Database.URL = "mysql://u:secret@db/sesame" }, []string{"database.url", "postgres://"}},
		{"database max_conns negative", func(c *Config) { c.Database.MaxConns = -1 }, []string{"database.max_conns", "negative"}},
		{"database statement_timeout negative", func(c *Config) { c.Database.StatementTimeout = -time.Second }, []string{"database.statement_timeout", "negative"}},
		{"public_url ftp", func(c *Config) { c.PublicURL = "ftp://share.example.com" }, []string{"public_url", "ftp://share.example.com", "http:// or https://"}},
		{"public_url without scheme", func(c *Config) { c.PublicURL = "share.example.com" }, []string{"public_url", "http:// or https://"}},
		{"log level", func(c *Config) { c.Log.Level = "verbose" }, []string{"log.level", `"verbose"`}},
		{"log level empty", func(c *Config) { c.Log.Level = "" }, []string{"log.level"}},
		{"log format", func(c *Config) { c.Log.Format = "xml" }, []string{"log.format", `"xml"`, "text or json"}},
		{"trusted proxy hostname", func(c *Config) { c.HTTP.TrustedProxies = []string{"10.0.0.1", "proxy.local"} }, []string{"http.trusted_proxies", `"proxy.local"`}},
		{"trusted proxy bad CIDR", func(c *Config) { c.HTTP.TrustedProxies = []string{"10.0.0.0/33"} }, []string{"http.trusted_proxies", `"10.0.0.0/33"`}},
		{"read_header_timeout zero", func(c *Config) { c.HTTP.ReadHeaderTimeout = 0 }, []string{"http.read_header_timeout", "positive"}},
		{"idle_timeout negative", func(c *Config) { c.HTTP.IdleTimeout = -time.Second }, []string{"http.idle_timeout", "positive"}},
		{"shutdown_timeout zero", func(c *Config) { c.HTTP.ShutdownTimeout = 0 }, []string{"http.shutdown_timeout", "positive"}},
		{"dest_url_ttl zero", func(c *Config) { c.Transfer.DestURLTTL = 0 }, []string{"transfer.dest_url_ttl", "positive"}},
		{"upload_url_ttl negative", func(c *Config) { c.Transfer.UploadURLTTL = -time.Minute }, []string{"transfer.upload_url_ttl", "positive"}},
		{"read_timeout negative", func(c *Config) { c.HTTP.ReadTimeout = -1 }, []string{"http.read_timeout", "negative"}},
		{"write_timeout negative", func(c *Config) { c.HTTP.WriteTimeout = -1 }, []string{"http.write_timeout", "negative"}},
		{"max_upload_size negative", func(c *Config) { c.Storage.MaxUploadSize = -1 }, []string{"storage.max_upload_size", "negative"}},
		{"storage s3", func(c *Config) { setS3(c) }, nil},
		{"storage s3 without a prefix over TLS", func(c *Config) { setS3(c); c.Storage.S3.Prefix, c.Storage.S3.TLS = "", true }, nil},
		{"storage backend", func(c *Config) { c.Storage.Backend = "gcs" }, []string{"storage.backend", `"gcs"`, "disk or s3"}},
		{"storage backend empty", func(c *Config) { c.Storage.Backend = "" }, []string{"storage.backend"}},
		{"s3 without endpoint", func(c *Config) { setS3(c); c.Storage.S3.Endpoint = "" }, []string{"storage.s3.endpoint"}},
		{"s3 endpoint with a scheme", func(c *Config) { setS3(c); c.Storage.S3.Endpoint = "https://s3.example.com" }, []string{"storage.s3.endpoint", "without http://"}},
		{"s3 without bucket", func(c *Config) { setS3(c); c.Storage.S3.Bucket = "" }, []string{"storage.s3.bucket"}},
		{"s3 bucket upper case", func(c *Config) { setS3(c); c.Storage.S3.Bucket = "Sesame" }, []string{"storage.s3.bucket", `"Sesame"`}},
		{"s3 without secret key", func(c *Config) { setS3(c); c.Storage.S3.SecretKey = "" }, []string{"storage.s3.secret_key", "required"}},
		{"s3 prefix absolute", func(c *Config) { setS3(c); c.Storage.S3.Prefix = "/p" }, []string{"storage.s3.prefix"}},
		{"s3 keys ignored on disk", func(c *Config) { c.Storage.S3.Bucket = "Not A Bucket" }, nil},
		{"default expiry past max", func(c *Config) { c.Links.DefaultExpiry = 1000 * time.Hour }, []string{"links.default_expiry", "links.max_expiry"}},
		{"max expiry zero", func(c *Config) { c.Links.MaxExpiry = 0 }, []string{"links.max_expiry", "positive"}},
		{"default access past max", func(c *Config) { c.Links.DefaultMaxAccessCount = 5000 }, []string{"links.default_max_access_count", "must not exceed"}},
		{"access cap zero", func(c *Config) { c.Links.MaxAccessCount = 0 }, []string{"links.max_access_count", "at least 1"}},
		{"sms country", func(c *Config) { c.Links.SMSCountries = []string{"+1", "UK"} }, []string{"links.sms_countries", `"UK"`}},
		{"default file ttl never", func(c *Config) { c.Objects.DefaultFileTTL = "never" }, nil},
		{"default file ttl duration", func(c *Config) { c.Objects.DefaultFileTTL = "1d12h" }, nil},
		{"default file ttl words", func(c *Config) { c.Objects.DefaultFileTTL = "a month" }, []string{"objects.default_file_ttl", `"a month"`}},
		{"default file ttl inherited", func(c *Config) { c.Objects.DefaultFileTTL = "inherited" }, []string{"objects.default_file_ttl", `"inherited"`}},
		{"default file ttl zero", func(c *Config) { c.Objects.DefaultFileTTL = "0d" }, []string{"objects.default_file_ttl"}},
		{"notify email", func(c *Config) { c.Notify.Email = "pigeon" }, []string{"notify.email", `"pigeon"`}},
		{"smtp without host", func(c *Config) { c.Notify.Email = "smtp"; c.SMTP.From = "a@example.com" }, []string{"smtp.host", "required"}},
		{"smtp without from", func(c *Config) { c.Notify.Email = "smtp"; c.SMTP.Host = "mail" }, []string{"smtp.from", "required"}},
		{"smtp tls", func(c *Config) { c.SMTP.TLS = "maybe" }, []string{"smtp.tls", `"maybe"`}},
		{"smtp port", func(c *Config) { c.SMTP.Port = 70000 }, []string{"smtp.port"}},
		{"notify sms", func(c *Config) { c.Notify.SMS = "fax" }, []string{"notify.sms", `"fax"`}},
		{"twilio without credentials", func(c *Config) { c.Notify.SMS = "twilio"; c.Twilio.AccountSID = "AC1"; c.Twilio.From = "+15005550006" }, []string{"twilio", "auth_token"}},
		{"twilio without sid", func(c *Config) { c.Notify.SMS = "twilio"; c.Twilio.AuthToken = "t"; c.Twilio.From = "+15005550006" }, []string{"twilio.account_sid"}},
		{"postgres without a key file", func(c *Config) { c.Database.URL = "postgres://db.example/sesame" }, []string{"secret_key_file", "database.url"}},
		{"twilio without sender", func(c *Config) { c.Notify.SMS = "twilio"; c.Twilio.AccountSID = "AC1"; c.Twilio.AuthToken = "t" }, []string{"twilio", "messaging_service_sid"}},
		{"sms budget", func(c *Config) { c.Notify.SMSDailyBudget = -1 }, []string{"notify.sms_daily_budget"}},
		{"language", func(c *Config) { c.Notify.Language = "english!" }, []string{"notify.language", `"english!"`}},
		{"language empty", func(c *Config) { c.Notify.Language = "" }, []string{"notify.language"}},
		{"language region", func(c *Config) { c.Notify.Language = "pt-BR" }, nil},
		{"mcp root", func(c *Config) { c.MCP.UploadRoots = []string{"relative/dir"} }, []string{"mcp.upload_roots", `"relative/dir"`}},
		{"accent", func(c *Config) { c.Branding.AccentColor = "blue" }, []string{"branding.accent_color", `"blue"`}},
		{"logo", func(c *Config) { c.Branding.LogoURL = "http://x/logo.png" }, []string{"branding.logo_url"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.mutate(&c)
			err := c.Validate()
			if tt.want == nil {
				if err != nil {
					t.Errorf("Validate: got %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: got nil, want an error containing %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate: got %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

// setS3 sets a valid storage.backend s3.
func setS3(c *Config) {
	c.Storage.Backend = "s3"
	c.Storage.S3.Endpoint, c.Storage.S3.Bucket = "127.0.0.1:7070", "sesame"
	c.Storage.S3.AccessKey, c.Storage.S3.SecretKey = "ak", "sk"
}

func TestStoreConfigStorage(t *testing.T) {
	t.Parallel()
	c := DefaultConfig()
	if got := c.storeConfig(nil).S3; got != nil {
		t.Errorf("disk backend: got S3 %+v, want nil", got)
	}
	c = fullConfig()
	want := &store.S3Config{Endpoint: "s3.example.com:9000", Bucket: "sesame-blobs", Region: "eu-west-1",
		AccessKey: "AKIAEXAMPLE", SecretKey: "s3-secret", TLS: false, Prefix: "prod/"}
	if diff := cmp.Diff(want, c.storeConfig(nil).S3); diff != "" {
		t.Errorf("s3 backend (-want +got):\n%s", diff)
	}
	if got := c.storeConfig(nil).DefaultFileTTL; got != "90d" {
		t.Errorf("default file ttl: got %q, want objects.default_file_ttl", got)
	}
}

func TestValidateNeverRepeatsS3Secrets(t *testing.T) {
	t.Parallel()
	c := DefaultConfig()
	setS3(&c)
	c.Storage.S3.Endpoint, c.Storage.S3.AccessKey, c.Storage.S3.SecretKey = "", "AKIAEXAMPLE", ""
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate: got nil, want an error")
	}
	if strings.Contains(err.Error(), "AKIAEXAMPLE") {
		t.Errorf("Validate repeats the access key: %v", err)
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	t.Parallel()
	c := DefaultConfig()
	c.Listen = "nowhere"
	c.PublicURL = "gopher://x"
	c.Log.Level = "loud"
	c.Log.Format = "xml"
	c.HTTP.TrustedProxies = []string{"proxy.local"}
	c.HTTP.IdleTimeout = 0
	c.Transfer.DestURLTTL = -time.Second
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate: got nil, want an error")
	}
	want := []string{"listen:", "public_url:", "log.level:", "log.format:", "http.trusted_proxies:", "http.idle_timeout:", "transfer.dest_url_ttl:"}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("Validate: got %q, want it to contain %q", err, w)
		}
	}
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) {
		t.Fatalf("Validate: got %T, want an errors.Join error", err)
	}
	if got := len(joined.Unwrap()); got != len(want) {
		t.Errorf("Validate: got %d problems, want %d: %v", got, len(want), err)
	}
}

func TestPublicBase(t *testing.T) {
	t.Parallel()
	tests := []struct {
		listen, publicURL, want string
	}{
		{"127.0.0.1:8080", "", "http://127.0.0.1:8080"},
		{"0.0.0.0:9000", "", "http://localhost:9000"},
		{"[::]:9000", "", "http://localhost:9000"},
		{":9000", "", "http://localhost:9000"},
		{"[::1]:9000", "", "http://[::1]:9000"},
		{"share.internal:80", "", "http://share.internal:80"},
		{"0.0.0.0:9000", "https://share.example.com/", "https://share.example.com"},
		{"0.0.0.0:9000", "https://share.example.com", "https://share.example.com"},
		{"127.0.0.1:8080", "https://example.com/sesame//", "https://example.com/sesame"},
	}
	for _, tt := range tests {
		c := DefaultConfig()
		c.Listen, c.PublicURL = tt.listen, tt.publicURL
		if got := c.PublicBase(); got != tt.want {
			t.Errorf("PublicBase(listen %q, public_url %q): got %q, want %q", tt.listen, tt.publicURL, got, tt.want)
		}
	}
}

// Emails get branding.logo_url as an absolute URL: a path is resolved
// against public_url, since a mail client has no page to resolve it in.
func TestEmailLogoURL(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ public, logo, want string }{
		{"https://share.example.com/", "/static/logo.png", "https://share.example.com/static/logo.png"},
		{"https://share.example.com", "https://cdn.example.com/logo.png", "https://cdn.example.com/logo.png"},
		{"https://share.example.com", "", ""},
	} {
		c := DefaultConfig()
		c.PublicURL, c.Branding.LogoURL = tt.public, tt.logo
		if got := emailLogoURL(c); got != tt.want {
			t.Errorf("public %q, logo %q: got %q, want %q", tt.public, tt.logo, got, tt.want)
		}
	}
}
