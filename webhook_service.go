package sesame

import (
	"context"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on webhooks.
const (
	MaxWebhookURLLen         = 2048
	MaxWebhookDescriptionLen = 256
	MaxWebhooks              = 100
)

// WebhookPolicy holds the operator's rules for webhook targets.
type WebhookPolicy struct {
	// AllowedNetworks are networks a webhook may reach although they are
	// private, loopback or link-local (webhooks.allowed_networks).
	AllowedNetworks []netip.Prefix
}

// WebhookService applies the webhook rules (valid URLs and events, targets
// outside internal networks, secrets made here and shown once) for the API
// and the CLI. Every call needs the admin scope (the token in ctx).
type WebhookService struct {
	Store      WebhookStore
	Deliveries WebhookDeliveries
	Policy     WebhookPolicy
	Now        func() time.Time
}

func (s *WebhookService) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

func requireAdmin(ctx context.Context) error {
	return require(ctx, "", "Only an admin token manages webhooks", ScopeAdmin)
}

// Create validates in and stores a new webhook with a new secret, which
// the result carries this once.
func (s *WebhookService) Create(ctx context.Context, in WebhookCreate) (*Webhook, error) {
	if err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	var errs Problems
	in.URL = strings.TrimSpace(in.URL)
	errs.Add(s.checkURL("/url", in.URL))
	in.Events = checkEvents(&errs, "/events", in.Events, true)
	checkDescription(&errs, in.Description)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	existing, err := s.Store.FindWebhooks(ctx)
	if err != nil {
		return nil, err
	}
	if len(existing) >= MaxWebhooks {
		return nil, FieldErr("BadState", "/", "this server has %d webhooks, the most it keeps; delete one first", MaxWebhooks).WithKind(Conflict)
	}
	if t := TokenFrom(ctx); t != nil {
		in.CreatedBy = t.ID
	}
	secret := NewWebhookSecret()
	w, err := s.Store.CreateWebhook(ctx, in, secret, s.now())
	if err != nil {
		return nil, err
	}
	w.Secret = secret
	return w, nil
}

// Get returns one webhook.
func (s *WebhookService) Get(ctx context.Context, id string) (*Webhook, error) {
	if err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	if err := CheckID("/id", PrefixWebhook, id); err != nil {
		return nil, err
	}
	return s.Store.WebhookByID(ctx, id)
}

// List returns every webhook, oldest first.
func (s *WebhookService) List(ctx context.Context) ([]*Webhook, error) {
	if err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	return s.Store.FindWebhooks(ctx)
}

// Update validates and applies upd. With RotateSecret the result carries
// the new secret, this once.
func (s *WebhookService) Update(ctx context.Context, id string, upd WebhookUpdate) (*Webhook, error) {
	if err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	if err := CheckID("/id", PrefixWebhook, id); err != nil {
		return nil, err
	}
	var errs Problems
	if upd.URL != nil {
		u := strings.TrimSpace(*upd.URL)
		upd.URL = &u
		errs.Add(s.checkURL("/url", u))
	}
	if upd.Events != nil {
		upd.Events = checkEvents(&errs, "/events", upd.Events, true)
	}
	if upd.Description != nil {
		checkDescription(&errs, *upd.Description)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	secret := ""
	if upd.RotateSecret {
		secret = NewWebhookSecret()
	}
	w, err := s.Store.UpdateWebhook(ctx, id, upd, secret, s.now())
	if err != nil {
		return nil, err
	}
	w.Secret = secret
	return w, nil
}

// Delete deletes a webhook; messages still queued for it fail.
func (s *WebhookService) Delete(ctx context.Context, id string) (*Webhook, error) {
	if err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	if err := CheckID("/id", PrefixWebhook, id); err != nil {
		return nil, err
	}
	return s.Store.DeleteWebhook(ctx, id)
}

// FindDeliveries returns one page of delivery attempts.
func (s *WebhookService) FindDeliveries(ctx context.Context, f DeliveryFilter) (*DeliveryPage, error) {
	if err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	return s.Deliveries.FindDeliveries(ctx, f)
}

// checkURL refuses what is not an absolute http or https URL, URLs that
// carry credentials (they would be stored in the clear) and, when the host
// is an IP address, one the policy refuses. A host name is checked where
// it matters, when a delivery connects to what it resolves to.
func (s *WebhookService) checkURL(src, raw string) error {
	if raw == "" {
		return FieldErr("FieldRequired", src, "url is required: the https URL that receives the events")
	}
	if len(raw) > MaxWebhookURLLen {
		return FieldErr("AboveMaxLength", src, "url must be at most %d bytes", MaxWebhookURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Opaque != "" || strings.ContainsAny(raw, " \t\r\n") {
		return FieldErr("BadFormatURI", src, "url must be an absolute http or https URL such as https://example.com/hooks")
	}
	if u.User != nil {
		return FieldErr("BadFormatURI", src, "url must not carry a user name or password; check the signature instead")
	}
	if u.Fragment != "" {
		return FieldErr("BadFormatURI", src, "url must not have a #fragment")
	}
	if ip, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil && !WebhookAddressAllowed(ip, s.Policy.AllowedNetworks) {
		return FieldErr("BadState", src, "url points at %s, a private, loopback, link-local or reserved address; the server's webhooks.allowed_networks must include it", ip)
	}
	return nil
}

// checkEvents adds the problems of events to errs and returns them without
// repeats.
func checkEvents(errs *Problems, src string, events []EventType, required bool) []EventType {
	if required && len(events) == 0 {
		errs.Addf("BelowMinItems", src, "events must name at least one event: %s", eventList())
		return events
	}
	seen := map[EventType]bool{}
	var out []EventType
	for i, e := range events {
		if errs.Full() {
			break
		}
		if !ValidEventType(e) {
			errs.Addf("NotEnumMember", fmt.Sprintf("%s/%d", src, i), "%q is not an event; use one of %s", e, eventList())
			continue
		}
		if !seen[e] {
			out = append(out, e)
		}
		seen[e] = true
	}
	return out
}

func eventList() string {
	names := make([]string, len(EventTypes))
	for i, e := range EventTypes {
		names[i] = string(e)
	}
	return strings.Join(names, ", ")
}

func checkDescription(errs *Problems, d string) {
	if utf8.RuneCountInString(d) > MaxWebhookDescriptionLen {
		errs.Addf("AboveMaxLength", "/description", "description must be at most %d characters", MaxWebhookDescriptionLen)
		return
	}
	errs.Add(CheckText("/description", d, false))
}
