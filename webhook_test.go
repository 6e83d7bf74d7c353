package sesame_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/internal/testrig"
)

func TestWebhookAddressAllowed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr    string
		allowed []string
		want    bool
	}{
		{"93.184.215.14", nil, true},
		{"2606:4700:4700::1111", nil, true},
		{"127.0.0.1", nil, false},
		{"127.8.9.10", nil, false},
		{"::1", nil, false},
		{"::ffff:127.0.0.1", nil, false}, // IPv4-mapped
		{"::ffff:10.1.2.3", nil, false},
		{"::127.0.0.1", nil, false}, // IPv4-compatible
		{"10.0.0.1", nil, false},
		{"172.16.5.4", nil, false},
		{"192.168.1.1", nil, false},
		{"169.254.169.254", nil, false}, // cloud metadata
		{"fe80::1", nil, false},
		{"fe80::1%eth0", nil, false},
		{"fc00::1", nil, false},
		{"fd12:3456::1", nil, false},
		{"0.0.0.0", nil, false},
		{"::", nil, false},
		{"224.0.0.1", nil, false},
		{"ff02::1", nil, false},
		{"255.255.255.255", nil, false},
		{"100.64.0.1", nil, false},
		{"198.18.0.1", nil, false},
		{"64:ff9b::7f00:1", nil, false},   // NAT64 of 127.0.0.1
		{"64:ff9b::5db8:d70e", nil, true}, // NAT64 of 93.184.215.14
		{"2002:7f00:1::1", nil, false},    // 6to4 of 127.0.0.1
		{"2002:a00:1::1", nil, false},     // 6to4 of 10.0.0.1
		{"127.0.0.1", []string{"127.0.0.0/8"}, true},
		{"::ffff:127.0.0.1", []string{"127.0.0.0/8"}, true},
		{"10.1.2.3", []string{"10.0.0.0/8"}, true},
		{"10.1.2.3", []string{"127.0.0.0/8"}, false},
		{"fd00::5", []string{"fd00::/8"}, true},
	}
	for _, tt := range tests {
		var allowed []netip.Prefix
		for _, p := range tt.allowed {
			allowed = append(allowed, netip.MustParsePrefix(p))
		}
		if got := sesame.WebhookAddressAllowed(netip.MustParseAddr(tt.addr), allowed); got != tt.want {
			t.Errorf("WebhookAddressAllowed(%s, %v): got %v, want %v", tt.addr, tt.allowed, got, tt.want)
		}
	}
}

func TestNewWebhookSecret(t *testing.T) {
	t.Parallel()
	a, b := sesame.NewWebhookSecret(), sesame.NewWebhookSecret()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a, "whsec_"))
	if !strings.HasPrefix(a, "whsec_") || err != nil || len(key) < 24 {
		t.Fatalf("secret %q: %d bytes, %v", a, len(key), err)
	}
	if a == b {
		t.Fatal("two secrets are the same")
	}
}

// The signature is what the Standard Webhooks reference library computes
// and accepts, and every secret of a rotation signs.
func TestSignWebhook(t *testing.T) {
	t.Parallel()
	// The specification's example.
	const secret, id, body = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", `{"test": 2432232314}`
	ts := time.Unix(1614265330, 0)
	sig, err := sesame.SignWebhook([]string{secret}, id, ts, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; sig != want {
		t.Errorf("got %s, want %s", sig, want)
	}
	ref, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := ref.Sign(id, ts, []byte(body)); sig != want {
		t.Errorf("got %s, the library signs %s", sig, want)
	}

	other := sesame.NewWebhookSecret()
	both, err := sesame.SignWebhook([]string{other, secret}, id, ts, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
	h.Set("webhook-signature", both)
	for _, s := range []string{other, secret} {
		wh, err := standardwebhooks.NewWebhook(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := wh.VerifyIgnoringTimestamp([]byte(body), h); err != nil {
			t.Errorf("a receiver with one of the secrets: %v", err)
		}
		if err := wh.VerifyIgnoringTimestamp([]byte(body+" "), h); err == nil {
			t.Errorf("a changed body verified")
		}
	}
	if _, err := sesame.SignWebhook(nil, id, ts, []byte(body)); err == nil {
		t.Error("signed without a secret")
	}
}

func TestEvent_Body(t *testing.T) {
	t.Parallel()
	ev := &sesame.Event{Type: sesame.EventLinkAccessed, Time: time.Date(2030, 1, 2, 3, 4, 5, 6000, time.UTC), Data: map[string]any{"link_id": "psl_x", "access_count": 2}}
	var got map[string]any
	if err := json.Unmarshal(ev.Body(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"type": "link.accessed", "timestamp": "2030-01-02T03:04:05.000006Z", "data": map[string]any{"link_id": "psl_x", "access_count": float64(2)}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("body (-want +got):\n%s", diff)
	}
}

func webhookService(t *testing.T, allowed ...string) *sesame.WebhookService {
	t.Helper()
	st := testrig.OpenStore(t, t.TempDir(), nil, nil)
	var p sesame.WebhookPolicy
	for _, a := range allowed {
		p.AllowedNetworks = append(p.AllowedNetworks, netip.MustParsePrefix(a))
	}
	return &sesame.WebhookService{Store: st, Deliveries: st, Policy: p}
}

func asAdmin() context.Context {
	return sesame.WithToken(context.Background(), &sesame.Token{ID: "stk_admin", Scopes: []sesame.Scope{sesame.ScopeAdmin}})
}

func TestWebhookService_Create(t *testing.T) {
	t.Parallel()
	svc := webhookService(t)
	all := sesame.EventTypes
	tests := []struct {
		name string
		in   sesame.WebhookCreate
		want []string // code source, of each problem
	}{
		{"OK", sesame.WebhookCreate{URL: "https://hooks.example.com/sesame?k=1", Events: all}, nil},
		{"NoURL", sesame.WebhookCreate{Events: all}, []string{"FieldRequired /url"}},
		{"NotHTTP", sesame.WebhookCreate{URL: "ftp://example.com/", Events: all}, []string{"BadFormatURI /url"}},
		{"Relative", sesame.WebhookCreate{URL: "/hooks", Events: all}, []string{"BadFormatURI /url"}},
		{"Credentials", sesame.WebhookCreate{URL: "https://u:p@example.com/", Events: all}, []string{"BadFormatURI /url"}},
		{"Loopback", sesame.WebhookCreate{URL: "http://127.0.0.1:9000/", Events: all}, []string{"BadState /url"}},
		{"Metadata", sesame.WebhookCreate{URL: "http://169.254.169.254/latest", Events: all}, []string{"BadState /url"}},
		{"MappedLoopback", sesame.WebhookCreate{URL: "http://[::ffff:127.0.0.1]/", Events: all}, []string{"BadState /url"}},
		{"NoEvents", sesame.WebhookCreate{URL: "https://example.com/"}, []string{"BelowMinItems /events"}},
		{"UnknownEvent", sesame.WebhookCreate{URL: "https://example.com/", Events: []sesame.EventType{"link.created", "link.exploded"}},
			[]string{"NotEnumMember /events/1"}},
		{"Everything", sesame.WebhookCreate{URL: "gopher://x", Events: []sesame.EventType{"x"}, Description: "a\x00b"},
			[]string{"BadFormatURI /url", "NotEnumMember /events/0", "DoesNotMatchPattern /description"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := svc.Create(asAdmin(), tt.in)
			var got []string
			if e := sesame.AsError(err); e != nil {
				for _, f := range e.Fields {
					got = append(got, f.Code+" "+f.Source)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("problems (-want +got):\n%s", diff)
			}
			if err == nil && (!strings.HasPrefix(w.Secret, "whsec_") || !strings.HasPrefix(w.ID, "whk_") || w.CreatedBy != "stk_admin") {
				t.Fatalf("created %+v", w)
			}
		})
	}
}

func TestWebhookService_Rules(t *testing.T) {
	t.Parallel()
	svc := webhookService(t, "127.0.0.0/8")
	linksOnly := sesame.WithToken(context.Background(), &sesame.Token{ID: "stk_links", Scopes: []sesame.Scope{sesame.ScopeLinksWrite, sesame.ScopeAuditRead}})
	if _, err := svc.Create(linksOnly, sesame.WebhookCreate{URL: "https://example.com/", Events: sesame.EventTypes}); sesame.KindOf(err) != sesame.Forbidden {
		t.Fatalf("a token without admin: got %v, want Forbidden", err)
	}
	if _, err := svc.List(linksOnly); sesame.KindOf(err) != sesame.Forbidden {
		t.Fatalf("list without admin: got %v, want Forbidden", err)
	}
	// The allowed networks admit an internal receiver.
	w, err := svc.Create(asAdmin(), sesame.WebhookCreate{URL: "http://127.0.0.1:9000/in", Events: []sesame.EventType{"link.created", "link.created"}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]sesame.EventType{"link.created"}, w.Events); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	// Only the reply that issues a secret carries it.
	same, err := svc.Update(asAdmin(), w.ID, sesame.WebhookUpdate{Events: []sesame.EventType{"link.revoked"}})
	if err != nil || same.Secret != "" {
		t.Fatalf("update without rotation: secret %q, %v", same.Secret, err)
	}
	listed, err := svc.List(asAdmin())
	if err != nil || len(listed) != 1 || listed[0].Secret != "" || listed[0].Events[0] != "link.revoked" {
		t.Fatalf("list: %+v, %v", listed, err)
	}
	rotated, err := svc.Update(asAdmin(), w.ID, sesame.WebhookUpdate{RotateSecret: true})
	if err != nil || !strings.HasPrefix(rotated.Secret, "whsec_") || rotated.Secret == w.Secret {
		t.Fatalf("rotation: secret %q, %v", rotated.Secret, err)
	}
	bad := "http://10.0.0.1/"
	if _, err := svc.Update(asAdmin(), w.ID, sesame.WebhookUpdate{URL: &bad}); sesame.KindOf(err) != sesame.Invalid {
		t.Fatalf("update to a private address: got %v, want Invalid", err)
	}
	if _, err := svc.Delete(asAdmin(), w.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Update(asAdmin(), w.ID, sesame.WebhookUpdate{RotateSecret: true}); sesame.KindOf(err) != sesame.NotFound {
		t.Fatalf("update a deleted webhook: got %v, want NotFound", err)
	}
	if _, err := svc.Delete(asAdmin(), "whk_nonsense"); sesame.KindOf(err) != sesame.NotFound {
		t.Fatalf("delete a malformed id: got %v, want NotFound", err)
	}
}
