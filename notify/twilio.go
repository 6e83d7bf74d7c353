package notify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/sesame-share/sesame"
)

// TwilioConfig configures the SMS transport.
type TwilioConfig struct {
	AccountSID          string
	APIKey              string // with APISecret; or AuthToken alone
	APISecret           string
	AuthToken           string
	From                string // a number; MessagingServiceSID wins if both are set
	MessagingServiceSID string
	// BaseURL replaces https://api.twilio.com, for a staging or test
	// endpoint; requests are rewritten in the HTTP transport.
	BaseURL string
	// HTTPClient carries the requests (nil: a client with a 15 s timeout).
	HTTPClient *http.Client
}

// Twilio sends SMS with twilio-go.
type Twilio struct {
	cfg TwilioConfig
	api *openapi.ApiService
}

var _ sesame.Notifier = (*Twilio)(nil)

// NewTwilio validates cfg. Credentials must be given explicitly: twilio-go
// would otherwise read TWILIO_* from the environment without a word.
func NewTwilio(cfg TwilioConfig) (*Twilio, error) {
	var problems []error
	if cfg.AccountSID == "" {
		problems = append(problems, errors.New("twilio.account_sid is required"))
	}
	user, pass := cfg.APIKey, cfg.APISecret
	switch {
	case cfg.APIKey != "" && cfg.APISecret != "":
	case cfg.APIKey == "" && cfg.APISecret == "" && cfg.AuthToken != "":
		user, pass = cfg.AccountSID, cfg.AuthToken
	default:
		problems = append(problems, errors.New("twilio needs api_key with api_secret, or auth_token"))
	}
	if cfg.From == "" && cfg.MessagingServiceSID == "" {
		problems = append(problems, errors.New("twilio needs from or messaging_service_sid"))
	}
	if err := errors.Join(problems...); err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	if cfg.BaseURL != "" {
		u, err := url.Parse(cfg.BaseURL)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("notify: twilio.base_url %q is not an http(s) URL", cfg.BaseURL)
		}
		c := *hc
		base := c.Transport
		if base == nil {
			base = http.DefaultTransport
		}
		c.Transport = rebase{to: u, next: base}
		hc = &c
	}
	cl := &client.Client{Credentials: client.NewCredentials(user, pass), HTTPClient: hc}
	cl.SetAccountSid(cfg.AccountSID)
	// The Messages API alone: the root package would link in every Twilio
	// API (about 10 MB of code).
	return &Twilio{cfg: cfg, api: openapi.NewApiServiceWithClient(cl)}, nil
}

// rebase sends every request to another scheme and host, keeping the path.
type rebase struct {
	to   *url.URL
	next http.RoundTripper
}

func (r rebase) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	out.URL.Scheme, out.URL.Host, out.Host = r.to.Scheme, r.to.Host, r.to.Host
	if p := strings.TrimRight(r.to.Path, "/"); p != "" {
		out.URL.Path = p + out.URL.Path
	}
	return r.next.RoundTrip(out)
}

// Notify implements sesame.Notifier. The code is valid for 10 minutes, so
// Twilio is told not to deliver it later than that (ValidityPeriod=600).
func (t *Twilio) Notify(ctx context.Context, m *sesame.Message) (string, error) {
	params := &openapi.CreateMessageParams{}
	params.SetTo(m.To)
	if t.cfg.MessagingServiceSID != "" {
		params.SetMessagingServiceSid(t.cfg.MessagingServiceSID)
	} else {
		params.SetFrom(t.cfg.From)
	}
	params.SetBody(m.Text)
	params.SetValidityPeriod(600)
	type result struct {
		msg *openapi.ApiV2010Message
		err error
	}
	// twilio-go takes no context; the HTTP client's timeout bounds the call.
	done := make(chan result, 1)
	go func() {
		msg, err := t.api.CreateMessage(params)
		done <- result{msg, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		return "", &sesame.Error{Kind: sesame.Unavailable, Message: "Twilio did not answer in time.", Err: ctx.Err()}
	}
	if r.err != nil {
		var te *client.TwilioRestError
		if errors.As(r.err, &te) && te.Status >= 400 && te.Status < 500 && te.Status != http.StatusTooManyRequests {
			return "", &sesame.Error{Kind: sesame.Invalid, Message: fmt.Sprintf("Twilio refused the message (code %d).", te.Code), Err: r.err}
		}
		return "", &sesame.Error{Kind: sesame.Unavailable, Message: "Twilio is not reachable.", Err: r.err}
	}
	if r.msg == nil || r.msg.Sid == nil {
		return "", nil
	}
	return *r.msg.Sid, nil
}
