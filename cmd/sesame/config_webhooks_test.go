package main

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestWebhooksConfig(t *testing.T) {
	t.Parallel()
	c := DefaultConfig()
	if c.Webhooks.AttemptTimeout() != 15*time.Second || c.Webhooks.Networks() != nil {
		t.Fatalf("defaults: timeout %v, networks %v", c.Webhooks.AttemptTimeout(), c.Webhooks.Networks())
	}
	c.Webhooks.AllowedNetworks = []string{"10.20.0.0/16", "127.0.0.1", "fd00::/8", "192.168.1.7/24"}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16"), netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("fd00::/8"),
		netip.MustParsePrefix("192.168.1.0/24")}
	if diff := cmp.Diff(want, c.Webhooks.Networks(), cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("networks (-want +got):\n%s", diff)
	}
	c.Webhooks.AllowedNetworks = []string{"10.0.0.0/33", "intranet"}
	c.Webhooks.Timeout = time.Minute
	err := c.Validate()
	for _, w := range []string{`"10.0.0.0/33" is not a CIDR range`, `"intranet" is not a CIDR range`, "webhooks.timeout: 1m0s must be between"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Validate: got %v, want it to say %s", err, w)
		}
	}
}
