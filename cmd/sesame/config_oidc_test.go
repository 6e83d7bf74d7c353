package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame/internal/testrig"
)

// envCase is one environment variable, its value, and what it changes.
type envCase struct {
	env    string
	value  string
	mutate func(*Config)
}

// oidcEnvCases has a case for every key of every provider position: a
// position past the providers there are adds providers up to it.
func oidcEnvCases() []envCase {
	var out []envCase
	for i := range maxOIDCProviders {
		at := func(c *Config) *OIDCProviderConfig {
			c.OIDC.Providers = make([]OIDCProviderConfig, i+1)
			return &c.OIDC.Providers[i]
		}
		p := fmt.Sprintf("SESAME_OIDC_PROVIDERS_%d_", i)
		out = append(out,
			envCase{p + "NAME", "Acme", func(c *Config) { at(c).Name = "Acme" }},
			envCase{p + "ISSUER", "https://sso.example.com", func(c *Config) { at(c).Issuer = "https://sso.example.com" }},
			envCase{p + "CLIENT_ID", "sesame", func(c *Config) { at(c).ClientID = "sesame" }},
			envCase{p + "CLIENT_SECRET", "s3cret", func(c *Config) { at(c).ClientSecret = "s3cret" }},
			envCase{p + "SCOPES", "openid,email", func(c *Config) { at(c).Scopes = []string{"openid", "email"} }})
	}
	return out
}

// The client secret comes from the environment over the file, as secrets
// should; the other keys of the provider stay the file's.
func TestApplyEnvOIDCSecretOverFile(t *testing.T) {
	t.Parallel()
	cfg, err := ParseConfig(strings.NewReader(`
oidc:
  providers:
    - name: Acme SSO
      issuer: https://sso.example.com
      client_id: sesame
    - name: Other
      issuer: https://other.example.com
      client_id: sesame-2
      client_secret: in-the-file
`), DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	unknown, err := ApplyEnv(&cfg, []string{"SESAME_OIDC_PROVIDERS_0_CLIENT_SECRET=from-env", "SESAME_OIDC_PROVIDERS_1_CLIENT_SECRET=env-2",
		"SESAME_OIDC_PROVIDERS=x"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"SESAME_OIDC_PROVIDERS"}, unknown); diff != "" {
		t.Errorf("unknown keys (-want +got):\n%s", diff)
	}
	want := []OIDCProviderConfig{
		{Name: "Acme SSO", Issuer: "https://sso.example.com", ClientID: "sesame", ClientSecret: "from-env"},
		{Name: "Other", Issuer: "https://other.example.com", ClientID: "sesame-2", ClientSecret: "env-2"},
	}
	if diff := cmp.Diff(want, cfg.OIDC.Providers); diff != "" {
		t.Errorf("providers (-want +got):\n%s", diff)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if !cfg.LinkPolicy().SocialSignIn {
		t.Error("with providers, the link policy does not allow social authenticators")
	}
	if def := DefaultConfig(); def.LinkPolicy().SocialSignIn {
		t.Error("without providers, the link policy allows social authenticators")
	}
}

func TestValidateOIDC(t *testing.T) {
	t.Parallel()
	good := OIDCProviderConfig{Name: "Acme SSO", Issuer: "https://sso.example.com", ClientID: "sesame"}
	for _, tc := range []struct {
		name      string
		providers []OIDCProviderConfig
		want      string // "" : valid
	}{
		{"Good", []OIDCProviderConfig{good}, ""},
		{"LoopbackHTTP", []OIDCProviderConfig{{Name: "Dev", Issuer: "http://127.0.0.1:5556/dex", ClientID: "c"}}, ""},
		{"LocalhostHTTP", []OIDCProviderConfig{{Name: "Dev", Issuer: "http://localhost:5556", ClientID: "c"}}, ""},
		{"NoName", []OIDCProviderConfig{{Issuer: good.Issuer, ClientID: "c"}}, "oidc.providers[0].name is required"},
		{"SameName", []OIDCProviderConfig{good, {Name: "acme sso", Issuer: "https://b.example.com", ClientID: "c"}}, "oidc.providers[1].name"},
		{"NameWithLineBreak", []OIDCProviderConfig{{Name: "Acme\nSSO", Issuer: good.Issuer, ClientID: "c"}}, "oidc.providers[0].name must be one line"},
		{"PlainHTTP", []OIDCProviderConfig{{Name: "A", Issuer: "http://sso.example.com", ClientID: "c"}}, "oidc.providers[0].issuer"},
		{"NotURL", []OIDCProviderConfig{{Name: "A", Issuer: "sso.example.com", ClientID: "c"}}, "oidc.providers[0].issuer"},
		{"IssuerQuery", []OIDCProviderConfig{{Name: "A", Issuer: "https://sso.example.com/?tenant=1", ClientID: "c"}}, "oidc.providers[0].issuer"},
		{"NoClientID", []OIDCProviderConfig{{Name: "A", Issuer: good.Issuer}}, "oidc.providers[0].client_id is required"},
		{"ScopesWithoutOpenID", []OIDCProviderConfig{{Name: "A", Issuer: good.Issuer, ClientID: "c", Scopes: []string{"email"}}}, "scopes must include openid"},
		{"TooMany", make([]OIDCProviderConfig, maxOIDCProviders+1), "at most 8 providers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			c.OIDC.Providers = tc.providers
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate: %v, want an error about %q", err, tc.want)
			}
		})
	}
}

// A provider that cannot be reached at start is logged and leaves the
// server running: the sign-in page still offers the provider, and its
// button answers that it cannot be reached.
func TestServeOIDCProviderDown(t *testing.T) {
	t.Parallel()
	down := fmt.Sprintf("http://127.0.0.1:%d", freePort(t)) // nothing listens there
	s := startServeEnv(t, t.TempDir(), []string{"SESAME_OIDC_PROVIDERS_0_NAME=Acme SSO", "SESAME_OIDC_PROVIDERS_0_ISSUER=" + down,
		"SESAME_OIDC_PROVIDERS_0_CLIENT_ID=sesame", "SESAME_OIDC_PROVIDERS_0_CLIENT_SECRET=s3cret"})
	admin := tokenRE.FindString(s.stdout.String())
	folder := decodeResult(t, call(t, postJSON(t, s.base+"/v1/folder/create", `{"folder":"/shared"}`), admin))
	env := call(t, postJSON(t, s.base+"/v1/share/link/create", `{"links":[{"targets":["`+folder.Object.ID+`"],"link_type":"download",
		"authenticators":[{"auth_type":"social","auth_context":"kate@example.com"}]}]}`), admin)
	var res struct {
		ShareLinkObjects []struct {
			Link string `json:"link"`
		} `json:"share_link_objects"`
	}
	if err := json.Unmarshal(env.Result, &res); err != nil || len(res.ShareLinkObjects) != 1 {
		t.Fatalf("create: %v %s", err, env.Result)
	}
	v := testrig.NewVisitor(t, s.base, nil)
	page := v.Get(res.ShareLinkObjects[0].Link)
	if got := page.TextOf(`form[action$="/social"] button`); page.Code != http.StatusOK || got != "Continue with Acme SSO" {
		t.Fatalf("sign-in page: %s", page)
	}
	p := v.Submit(page, page.Form(`form[action$="/social"]`), nil)
	if p.Code != http.StatusServiceUnavailable || !strings.Contains(p.TextOf(".flash.error"), "cannot be reached") {
		t.Errorf("Continue with a provider that is down: %s", p)
	}
	if !strings.Contains(s.stderr.String(), "oidc provider unavailable") {
		t.Errorf("the log does not say the provider is unavailable:\n%s", s.stderr.String())
	}
	if code, _ := getStatus(t, s.base+"/readyz"); code != http.StatusOK {
		t.Errorf("/readyz: %d, want 200 while a provider is down", code)
	}
}
