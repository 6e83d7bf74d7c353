package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"syscall"
	"time"

	"github.com/sesame-share/sesame"
)

var _ sesame.WebhookSender = (*Webhooks)(nil)

// WebhooksConfig configures Webhooks.
type WebhooksConfig struct {
	// Store finds each message's webhook and records every attempt.
	Store sesame.WebhookDeliveries
	// AllowedNetworks may be reached although they are private, loopback
	// or link-local.
	AllowedNetworks []netip.Prefix
	// Timeout bounds one attempt, from dialling to the end of the reply
	// (default 15s).
	Timeout time.Duration
	Logger  *slog.Logger
	Now     func() time.Time
}

// Webhooks posts webhook messages, signed per the Standard Webhooks
// specification, to their endpoints. It connects only to addresses that
// sesame.WebhookAddressAllowed admits, checked on the address being
// dialled, after name resolution; it follows no redirect, uses no proxy,
// and reads at most maxReply bytes of a reply.
type Webhooks struct {
	cfg    WebhooksConfig
	log    *slog.Logger
	client *http.Client
}

// maxReply is how much of a receiver's reply is read: the status is all
// that counts, and draining a little lets the connection be reused.
const maxReply = 4 << 10

// errRefused is the dialer's answer for an address it must not reach.
var errRefused = errors.New("address refused")

// NewWebhooks validates cfg.
func NewWebhooks(cfg WebhooksConfig) (*Webhooks, error) {
	if cfg.Store == nil {
		return nil, errors.New("notify: webhooks need a Store")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	w := &Webhooks{cfg: cfg, log: cfg.Logger}
	if w.log == nil {
		w.log = slog.Default()
	}
	dialer := &net.Dialer{Timeout: min(cfg.Timeout, 10*time.Second), Control: w.control}
	tr := &http.Transport{
		Proxy:                  nil, // a proxy would dial for us, past the check
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    min(cfg.Timeout, 10*time.Second),
		ResponseHeaderTimeout:  cfg.Timeout,
		MaxIdleConns:           16,
		MaxIdleConnsPerHost:    2,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 16 << 10,
	}
	w.client = &http.Client{Transport: tr, Timeout: cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return w, nil
}

// control refuses, just before the connect call, an address the policy
// refuses: whatever name was resolved, this is the address used.
func (w *Webhooks) control(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !sesame.WebhookAddressAllowed(ip, w.cfg.AllowedNetworks) {
		return fmt.Errorf("%w: %s is private, loopback, link-local or reserved", errRefused, host)
	}
	return nil
}

// SendWebhook implements sesame.WebhookSender: one attempt, recorded as a
// delivery whatever its outcome.
func (w *Webhooks) SendWebhook(ctx context.Context, n *sesame.Notification) (string, error) {
	start := w.cfg.Now().UTC()
	d := &sesame.WebhookDelivery{MessageID: n.ID, WebhookID: n.Message.To, EventType: sesame.EventType(n.Message.Kind),
		Attempt: n.Attempts, Time: start}
	began := time.Now()
	status, err := w.post(ctx, n, start)
	d.Duration, d.StatusCode = time.Since(began), status
	d.Outcome = sesame.DeliverySuccess
	if err != nil {
		// The category and our own words: the list shows it to admins.
		d.Outcome, d.Error = sesame.DeliveryFailure, sesame.FailureCategory(err)
		if e := sesame.AsError(err); e != nil && e.Message != "" {
			d.Error += ": " + e.Message
		}
	}
	if rerr := w.cfg.Store.RecordDelivery(context.WithoutCancel(ctx), d); rerr != nil {
		w.log.Error("record webhook delivery", "message_id", n.ID, "webhook_id", n.Message.To, "error", rerr)
	}
	if err != nil {
		return "", err
	}
	return "HTTP " + strconv.Itoa(status), nil
}

// post makes one attempt and returns the receiver's status (0: none).
func (w *Webhooks) post(ctx context.Context, n *sesame.Notification, now time.Time) (int, error) {
	target, err := w.cfg.Store.WebhookTarget(ctx, n.Message.To, now)
	if sesame.KindOf(err) == sesame.NotFound {
		return 0, sesame.Errorf(sesame.Invalid, "the webhook was deleted")
	}
	if err != nil {
		return 0, &sesame.Error{Kind: sesame.Unavailable, Message: "the webhook could not be read", Err: err}
	}
	if target.Webhook.Disabled {
		return 0, sesame.Errorf(sesame.Invalid, "the webhook is disabled")
	}
	body := []byte(n.Message.Text)
	sig, err := sesame.SignWebhook(target.Secrets, n.ID, now, body)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.Webhook.URL, bytes.NewReader(body))
	if err != nil {
		return 0, sesame.Errorf(sesame.Invalid, "the webhook's URL cannot be used")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "sesame-webhooks")
	req.Header.Set("webhook-id", n.ID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := w.client.Do(req)
	if err != nil {
		if errors.Is(err, errRefused) {
			return 0, &sesame.Error{Kind: sesame.Invalid, Message: "refused to connect to " + refusedAddress(err) +
				", a private, loopback, link-local or reserved address outside webhooks.allowed_networks", Err: scrub(err)}
		}
		return 0, &sesame.Error{Kind: sesame.Unavailable, Message: netProblem(err), Err: scrub(err)}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxReply)) // a reply cut short still has its status
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, sesame.Errorf(sesame.Unavailable, "the receiver answered %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}

// refusedAddress is the address the dialer refused.
func refusedAddress(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Addr != nil {
		if host, _, serr := net.SplitHostPort(op.Addr.String()); serr == nil {
			return host
		}
	}
	return "an address"
}

// netProblem names what went wrong with a connection in a few fixed
// words: the deliveries list shows these, never a library's text.
func netProblem(err error) string {
	var dnsErr *net.DNSError
	var ne net.Error
	switch {
	case errors.As(err, &dnsErr):
		return "the host name did not resolve"
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return "timed out"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return "the connection was closed before an answer"
	case isTLS(err):
		return "the TLS handshake failed"
	}
	return "the connection failed"
}

func isTLS(err error) bool {
	var rh tls.RecordHeaderError
	var ae tls.AlertError
	var ci x509.CertificateInvalidError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ve *tls.CertificateVerificationError
	return errors.As(err, &rh) || errors.As(err, &ae) || errors.As(err, &ci) || errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ve)
}

// scrub drops the URL from a client error: its path or query may hold a
// token of the receiver's.
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
