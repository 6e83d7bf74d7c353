package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	netmail "net/mail"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/sesame-share/sesame"
)

// SMTPConfig configures the SMTP transport.
type SMTPConfig struct {
	Host     string
	Port     int
	TLS      string // "mandatory" (the default), "opportunistic" or "none"
	Username string
	Password string
	From     string // the envelope and header sender address
	FromName string // its display name
	Timeout  time.Duration
	Logger   *slog.Logger
}

// SMTP sends email through an SMTP server with go-mail.
type SMTP struct {
	cfg    SMTPConfig
	client *mail.Client
	log    *slog.Logger
}

var _ sesame.Notifier = (*SMTP)(nil)

// NewSMTP validates cfg and builds the client. TLS is mandatory unless
// the configuration says otherwise; "none" is logged as a warning.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if cfg.Host == "" {
		return nil, errors.New("notify: smtp.host is required")
	}
	if !sesame.ValidEmail(cfg.From) {
		return nil, fmt.Errorf("notify: smtp.from %q must be one email address", cfg.From)
	}
	if cfg.Port == 0 {
		cfg.Port = 587
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 20 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	opts := []mail.Option{mail.WithPort(cfg.Port), mail.WithTimeout(cfg.Timeout)}
	switch cfg.TLS {
	case "", "mandatory":
		opts = append(opts, mail.WithTLSPortPolicy(mail.TLSMandatory))
	case "opportunistic":
		opts = append(opts, mail.WithTLSPortPolicy(mail.TLSOpportunistic))
	case "none":
		log.Warn("smtp.tls is none: mail, links and codes cross the network in clear text")
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		return nil, fmt.Errorf("notify: smtp.tls %q must be mandatory, opportunistic or none", cfg.TLS)
	}
	if cfg.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(cfg.Username), mail.WithPassword(cfg.Password))
	}
	c, err := mail.NewClient(cfg.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("notify: smtp client: %w", err)
	}
	return &SMTP{cfg: cfg, client: c, log: log}, nil
}

// Notify implements sesame.Notifier. The returned id is the Message-ID.
func (s *SMTP) Notify(ctx context.Context, m *sesame.Message) (string, error) {
	msg := mail.NewMsg()
	// The address is always the configured one (a sender's own address
	// would fail SPF and DMARC); a message may name itself ("Alice via
	// sesame"). net/mail quotes and encodes the display name, whatever it
	// holds.
	name := m.FromName
	if name == "" {
		name = s.cfg.FromName
	}
	msg.FromMailAddress(&netmail.Address{Name: oneLine(name), Address: s.cfg.From})
	if err := msg.To(m.To); err != nil {
		return "", &sesame.Error{Kind: sesame.Invalid, Message: "The recipient address is not valid.", Err: err}
	}
	if m.ReplyTo != "" {
		if err := msg.ReplyTo(m.ReplyTo); err != nil {
			return "", &sesame.Error{Kind: sesame.Invalid, Message: "The reply-to address is not valid.", Err: err}
		}
	}
	msg.Subject(oneLine(m.Subject))
	msg.SetMessageID()
	msg.SetDate()
	msg.SetBodyString(mail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	}
	if err := s.client.DialAndSendWithContext(ctx, msg); err != nil {
		if msg.IsDelivered() {
			// The server accepted the message (250 after DATA); only the
			// goodbye failed. Sending again would deliver it twice.
			s.log.Warn("smtp: message accepted, then the connection failed", "message_id", msg.GetMessageID(), "error", err)
			return msg.GetMessageID(), nil
		}
		return "", classifySMTP(err)
	}
	return msg.GetMessageID(), nil
}

// classifySMTP maps a send failure: a 5xx reply is permanent (Invalid),
// everything else (4xx, network, TLS, timeouts) is worth a retry.
func classifySMTP(err error) error {
	var se *mail.SendError
	if errors.As(err, &se) && !se.IsTemp() && se.ErrorCode() >= 500 && se.ErrorCode() < 600 {
		return &sesame.Error{Kind: sesame.Invalid, Message: "The mail server refused the message.", Err: err}
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.As(err, &se) {
		return &sesame.Error{Kind: sesame.Unavailable, Message: "The mail server is not reachable.", Err: err}
	}
	return &sesame.Error{Kind: sesame.Unavailable, Message: "The mail could not be sent.", Err: err}
}
