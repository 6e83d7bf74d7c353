package sesame

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// WebhookSecretPrefix starts every webhook signing secret, as the Standard
// Webhooks libraries expect it.
const WebhookSecretPrefix = "whsec_"

// webhookSecretBytes is the size of a signing key: the specification asks
// for 24 to 64 random bytes.
const webhookSecretBytes = 32

// NewWebhookSecret returns a new signing secret: whsec_ and the base64 of
// 32 random bytes.
func NewWebhookSecret() string {
	var b [webhookSecretBytes]byte
	rand.Read(b[:]) // never fails
	return WebhookSecretPrefix + base64.StdEncoding.EncodeToString(b[:])
}

// SignWebhook returns the webhook-signature header of one attempt, per the
// Standard Webhooks specification: "v1,<base64 of HMAC-SHA256 over
// "{id}.{timestamp}.{body}" keyed with the secret's bytes>", once for each
// secret, separated by spaces, so that a receiver holding any of them can
// verify it.
func SignWebhook(secrets []string, msgID string, ts time.Time, body []byte) (string, error) {
	if len(secrets) == 0 {
		return "", errors.New("sesame: no webhook secret to sign with")
	}
	sigs := make([]string, len(secrets))
	for i, s := range secrets {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, WebhookSecretPrefix))
		if err != nil || len(key) == 0 {
			return "", errors.New("sesame: malformed webhook secret")
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(msgID + "." + strconv.FormatInt(ts.Unix(), 10) + "."))
		mac.Write(body)
		sigs[i] = "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	}
	return strings.Join(sigs, " "), nil
}

// refusedPrefixes are networks a webhook never reaches unless allowed,
// beyond what netip's predicates name: shared (carrier-grade NAT),
// protocol assignments, documentation, benchmarking and reserved IPv4
// space, and IPv6 that maps to IPv4 in ways netip does not unwrap
// (IPv4-compatible, Teredo) or that is deprecated (site-local).
var refusedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("::/96"),
	netip.MustParsePrefix("100::/64"),
	netip.MustParsePrefix("2001::/32"),
	netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("fec0::/10"),
}

// Prefixes of IPv6 addresses that carry an IPv4 address a gateway
// forwards to: NAT64 (in the last 32 bits) and 6to4 (in bits 16 to 48).
var (
	nat64Prefix = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour   = netip.MustParsePrefix("2002::/16")
)

// WebhookAddressAllowed reports whether a webhook may connect to ip: a
// public address, or one inside allowed. Private, loopback, link-local,
// unspecified, multicast and reserved addresses are refused, in IPv4 and
// IPv6, IPv4-mapped IPv6 included, and so are IPv6 addresses that lead to
// a refused IPv4 address through NAT64 or 6to4. The dialer asks this of
// the address it is about to connect to, after name resolution, so that
// a name that resolves to an internal address gains nothing.
func WebhookAddressAllowed(ip netip.Addr, allowed []netip.Prefix) bool {
	ip = ip.WithZone("")
	for _, a := range []netip.Addr{ip, ip.Unmap()} {
		for _, p := range allowed {
			if p.Contains(a) {
				return true
			}
		}
	}
	ip = ip.Unmap()
	switch {
	case nat64Prefix.Contains(ip):
		b := ip.As16()
		return WebhookAddressAllowed(netip.AddrFrom4([4]byte(b[12:16])), allowed)
	case sixToFour.Contains(ip):
		b := ip.As16()
		return WebhookAddressAllowed(netip.AddrFrom4([4]byte(b[2:6])), allowed)
	}
	return publicAddress(ip)
}

func publicAddress(ip netip.Addr) bool {
	if !ip.IsValid() || ip.IsUnspecified() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() ||
		ip.IsMulticast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() {
		return false
	}
	for _, p := range refusedPrefixes {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}
