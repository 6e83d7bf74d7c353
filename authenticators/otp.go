package authenticators

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/templates"
)

// OTPConfig configures a one-time-code authenticator.
type OTPConfig struct {
	Store   sesame.ChallengeStore
	Product string // named in the message
	Now     func() time.Time
	// Wake, if set, is told that a message is waiting in the outbox.
	Wake func()
}

// OTP sends 6-digit codes by email or SMS through the outbox and checks
// them. Each code is HOTP (counter 0) over a fresh random secret, so codes
// are independent; only their MAC is stored.
type OTP struct {
	cfg     OTPConfig
	channel sesame.Channel
	tmpl    *texttemplate.Template
}

var _ sesame.Authenticator = (*OTP)(nil)

// NewEmailOTP returns the email_otp authenticator.
func NewEmailOTP(cfg OTPConfig) (*OTP, error) {
	return newOTP(cfg, sesame.ChannelEmail, "messages/code_email.txt")
}

// NewSMSOTP returns the sms_otp authenticator.
func NewSMSOTP(cfg OTPConfig) (*OTP, error) {
	return newOTP(cfg, sesame.ChannelSMS, "messages/code_sms.txt")
}

func newOTP(cfg OTPConfig, ch sesame.Channel, name string) (*OTP, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("authenticators: OTP needs a challenge store")
	}
	if cfg.Product == "" {
		cfg.Product = "sesame"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	t, err := texttemplate.ParseFS(templates.FS, name)
	if err != nil {
		return nil, fmt.Errorf("authenticators: parse %s: %w", name, err)
	}
	return &OTP{cfg: cfg, channel: ch, tmpl: t}, nil
}

// Method implements sesame.Authenticator.
func (o *OTP) Method() sesame.AuthType {
	if o.channel == sesame.ChannelSMS {
		return sesame.AuthSMSOTP
	}
	return sesame.AuthEmailOTP
}

// NewCode returns a 6-digit HOTP code over a fresh 160-bit secret.
func NewCode() (string, error) {
	secret := make([]byte, 20)
	rand.Read(secret) // never fails
	return hotp.GenerateCodeCustom(base32.StdEncoding.EncodeToString(secret), 0, hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}

// Begin implements sesame.Authenticator: it stores a new code and queues
// its message in one transaction, within the send limits.
func (o *OTP) Begin(ctx context.Context, l *sesame.Link, a *sesame.LinkAuthenticator) error {
	code, err := NewCode()
	if err != nil {
		return fmt.Errorf("authenticators: code: %w", err)
	}
	var body bytes.Buffer
	err = o.tmpl.Execute(&body, struct {
		Code, Product, Title string
		Minutes              int
	}{code, o.cfg.Product, oneLine(l.Title), int(sesame.CodeTTL / time.Minute)})
	if err != nil {
		return fmt.Errorf("authenticators: render code: %w", err)
	}
	msg := &sesame.Message{Channel: o.channel, To: a.Context, Text: body.String(), Kind: "code", LinkID: l.ID}
	if o.channel == sesame.ChannelEmail {
		msg.Subject = "Your " + o.cfg.Product + " code"
	}
	if err := o.cfg.Store.CreateChallenge(ctx, a.ID, code, msg, o.cfg.Now()); err != nil {
		return err
	}
	if o.cfg.Wake != nil {
		o.cfg.Wake()
	}
	return nil
}

// Verify implements sesame.Authenticator. Spaces and dashes in the answer
// are ignored ("123 456").
func (o *OTP) Verify(ctx context.Context, l *sesame.Link, a *sesame.LinkAuthenticator, answer string) error {
	code := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, answer)
	if len(code) != sesame.CodeDigits || strings.Trim(code, "0123456789") != "" {
		return sesame.ErrCodeFormat
	}
	return o.cfg.Store.VerifyCode(ctx, a.ID, code, o.cfg.Now())
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// PasswordAuthenticator checks a link's password against its argon2id hash.
type PasswordAuthenticator struct {
	Hasher *Password
}

var _ sesame.Authenticator = PasswordAuthenticator{}

// Method implements sesame.Authenticator.
func (PasswordAuthenticator) Method() sesame.AuthType { return sesame.AuthPassword }

// Begin implements sesame.Authenticator; passwords need no message.
func (PasswordAuthenticator) Begin(context.Context, *sesame.Link, *sesame.LinkAuthenticator) error {
	return nil
}

// Verify implements sesame.Authenticator.
func (p PasswordAuthenticator) Verify(ctx context.Context, l *sesame.Link, a *sesame.LinkAuthenticator, answer string) error {
	if answer == "" || len(answer) > 4*sesame.MaxPasswordLen {
		return &sesame.Error{Kind: sesame.Unauthenticated, Message: "That password is not right."}
	}
	return p.Hasher.Verify(ctx, a.Context, answer)
}
