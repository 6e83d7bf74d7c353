package main

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/sesame-share/sesame"
)

// WebhooksConfig is the webhooks section of the configuration.
type WebhooksConfig struct {
	// AllowedNetworks are CIDR ranges that webhooks may reach although
	// they are private, loopback or link-local (10.0.0.0/8, say, for a
	// receiver on the internal network). Empty: public addresses only.
	AllowedNetworks []string `yaml:"allowed_networks"`
	// Timeout bounds one delivery attempt, from connecting to the end of
	// the reply; 0 is the default, 15s.
	Timeout time.Duration `yaml:"timeout"`
}

// defaultWebhookTimeout is webhooks.timeout when it is 0.
const defaultWebhookTimeout = 15 * time.Second

// check reports every problem of the section.
func (w *WebhooksConfig) check() []error {
	var problems []error
	for _, n := range w.AllowedNetworks {
		if _, err := parseNetwork(n); err != nil {
			problems = append(problems, fmt.Errorf("webhooks.allowed_networks: %q is not a CIDR range such as 10.0.0.0/8 or fd00::/8", n))
		}
	}
	// The outbox worker gives one delivery 30 s.
	if w.Timeout < 0 || w.Timeout > 30*time.Second {
		problems = append(problems, fmt.Errorf("webhooks.timeout: %s must be between 0 (the default, 15s) and 30s", w.Timeout))
	}
	return problems
}

// parseNetwork reads a CIDR range; a bare address is a range of one.
func parseNetwork(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	return p.Masked(), err
}

// Networks returns the allowed networks, parsed (check has vetted them).
func (w *WebhooksConfig) Networks() []netip.Prefix {
	var out []netip.Prefix
	for _, n := range w.AllowedNetworks {
		if p, err := parseNetwork(n); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// AttemptTimeout returns webhooks.timeout, or its default.
func (w *WebhooksConfig) AttemptTimeout() time.Duration {
	if w.Timeout == 0 {
		return defaultWebhookTimeout
	}
	return w.Timeout
}

// WebhookPolicy returns the webhook rules of the configuration.
func (c *Config) WebhookPolicy() sesame.WebhookPolicy {
	return sesame.WebhookPolicy{AllowedNetworks: c.Webhooks.Networks()}
}
