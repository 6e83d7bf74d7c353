package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/authenticators"
)

// OIDCConfig is the oidc section: the OpenID Connect providers that
// social authenticators sign recipients in with.
type OIDCConfig struct {
	Providers []OIDCProviderConfig `yaml:"providers"`
}

// OIDCProviderConfig is one provider. The environment reaches its keys by
// position: SESAME_OIDC_PROVIDERS_0_CLIENT_SECRET.
type OIDCProviderConfig struct {
	Name         string   `yaml:"name"`
	Issuer       string   `yaml:"issuer"`
	ClientID     string   `yaml:"client_id"`
	ClientSecret string   `yaml:"client_secret"`
	Scopes       []string `yaml:"scopes"`
}

// maxOIDCProviders bounds oidc.providers, and so the environment keys
// SESAME_OIDC_PROVIDERS_<n>_….
const maxOIDCProviders = 8

// oidcEnvKeys adds SESAME_OIDC_PROVIDERS_<n>_<KEY> for every provider
// position in place of the list as a whole. Setting a key of a position
// past the file's providers adds providers up to it.
func oidcEnvKeys(c *Config, out map[string]func(string) error) {
	delete(out, "SESAME_OIDC_PROVIDERS")
	t := reflect.TypeFor[OIDCProviderConfig]()
	for i := range maxOIDCProviders {
		for f := range t.NumField() {
			tag, _, _ := strings.Cut(t.Field(f).Tag.Get("yaml"), ",")
			out[fmt.Sprintf("SESAME_OIDC_PROVIDERS_%d_%s", i, strings.ToUpper(tag))] = func(s string) error {
				for len(c.OIDC.Providers) <= i {
					c.OIDC.Providers = append(c.OIDC.Providers, OIDCProviderConfig{})
				}
				return setValue(reflect.ValueOf(&c.OIDC.Providers[i]).Elem().Field(f), s)
			}
		}
	}
}

// checkOIDC checks every provider: a unique name fit for a button, an
// issuer URL (https, or http on a loopback address for a provider on this
// machine), a client id, and scopes that include openid.
func (c *Config) checkOIDC() []error {
	var problems []error
	if len(c.OIDC.Providers) > maxOIDCProviders {
		problems = append(problems, fmt.Errorf("oidc.providers: at most %d providers", maxOIDCProviders))
	}
	seen := map[string]bool{}
	for i, p := range c.OIDC.Providers {
		at := fmt.Sprintf("oidc.providers[%d]", i)
		name := strings.TrimSpace(p.Name)
		switch {
		case name == "":
			problems = append(problems, fmt.Errorf("%s.name is required: it is shown on the sign-in button", at))
		case len(name) > 64 || strings.ContainsFunc(name, unicode.IsControl):
			problems = append(problems, fmt.Errorf("%s.name must be one line of at most 64 bytes", at))
		case seen[strings.ToLower(name)]:
			problems = append(problems, fmt.Errorf("%s.name %q is used by another provider", at, name))
		}
		seen[strings.ToLower(name)] = true
		if err := checkIssuer(p.Issuer); err != nil {
			problems = append(problems, fmt.Errorf("%s.issuer: %w", at, err))
		}
		if p.ClientID == "" {
			problems = append(problems, fmt.Errorf("%s.client_id is required", at))
		}
		if len(p.Scopes) > 0 && !slices.Contains(p.Scopes, "openid") {
			problems = append(problems, fmt.Errorf("%s.scopes must include openid", at))
		}
	}
	return problems
}

// checkIssuer accepts an absolute https URL, or http to a loopback host.
func checkIssuer(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q is not an absolute URL without query or fragment", s)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
			return nil
		}
	}
	return fmt.Errorf("%q must use https (http only for a provider on this machine)", s)
}

// oidcProviders builds the configured providers. None is called yet:
// discovery happens in the background at start (discoverOIDC) and, for a
// provider that was down, again at the next sign-in with it.
func oidcProviders(cfg Config, log *slog.Logger) ([]sesame.OIDCProvider, error) {
	var out []sesame.OIDCProvider
	var problems []error
	for _, p := range cfg.OIDC.Providers {
		var scopes []string
		if len(p.Scopes) > 0 {
			scopes = p.Scopes
		}
		o, err := authenticators.NewOIDC(authenticators.OIDCConfig{Name: strings.TrimSpace(p.Name), Issuer: p.Issuer, ClientID: p.ClientID,
			ClientSecret: p.ClientSecret, Scopes: scopes, RedirectURL: cfg.PublicBase() + "/oidc/callback", Logger: log})
		if err != nil {
			problems = append(problems, err)
			continue
		}
		out = append(out, o)
	}
	return out, errors.Join(problems...)
}

// discoverOIDC reads every provider's discovery document once, at start,
// so that the first visitor does not wait for it. A provider that cannot
// be reached is logged and stays unavailable until a later sign-in with
// it finds it back: one provider being down never stops the server.
func discoverOIDC(ctx context.Context, providers []sesame.OIDCProvider, log *slog.Logger) {
	var wg sync.WaitGroup
	for _, p := range providers {
		d, ok := p.(interface{ Discover(context.Context) error })
		if !ok {
			continue
		}
		wg.Go(func() {
			if err := d.Discover(ctx); err != nil && ctx.Err() == nil {
				log.Warn("oidc provider unavailable; sign-ins with it will try again", "provider", p.Name(), "error", err)
			}
		})
	}
	wg.Wait()
}
