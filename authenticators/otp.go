package authenticators

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"golang.org/x/text/language"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/templates"
)

// OTPConfig configures a one-time-code authenticator.
type OTPConfig struct {
	Store   sesame.ChallengeStore
	Product string // named in the message
	Accent  string // the code email's accent colour ("#2563eb")
	LogoURL string // absolute http(s) URL of a logo for the code email; "" for none
	// PublicURL is the server's public base URL; its host ends each SMS in
	// the WebOTP format. "" leaves that line out.
	PublicURL string
	// Language is the BCP 47 tag of code messages when the page that asks
	// for a code gives none (sesame.WithLanguage) or one no translation
	// is close to (default "en").
	Language string
	Now      func() time.Time
}

// OTP sends 6-digit codes by email or SMS through the outbox and checks
// them. Each code is HOTP (counter 0) over a fresh random secret, so codes
// are independent; only their MAC is stored.
type OTP struct {
	cfg     OTPConfig
	channel sesame.Channel
	host    string                    // for the WebOTP line
	langs   map[string]*codeTemplates // by supported locale code
}

var _ sesame.Authenticator = (*OTP)(nil)

// NewEmailOTP returns the email_otp authenticator.
func NewEmailOTP(cfg OTPConfig) (*OTP, error) { return newOTP(cfg, sesame.ChannelEmail) }

// NewSMSOTP returns the sms_otp authenticator.
func NewSMSOTP(cfg OTPConfig) (*OTP, error) { return newOTP(cfg, sesame.ChannelSMS) }

func newOTP(cfg OTPConfig, ch sesame.Channel) (*OTP, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("authenticators: OTP needs a challenge store")
	}
	if cfg.Product == "" {
		cfg.Product = "sesame"
	}
	if cfg.Accent == "" {
		cfg.Accent = "#2563eb"
	}
	if cfg.Language == "" {
		cfg.Language = "en"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if u, err := url.Parse(cfg.LogoURL); cfg.LogoURL != "" && (err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http")) {
		return nil, fmt.Errorf("authenticators: logo URL %q must be an absolute http(s) URL", cfg.LogoURL)
	}
	host, err := webOTPHost(cfg.PublicURL)
	if err != nil {
		return nil, err
	}
	if err := templates.Check(); err != nil {
		return nil, err
	}
	langs := map[string]*codeTemplates{}
	for _, l := range templates.Locales() {
		t, err := parseCodeTemplates(l)
		if err != nil {
			return nil, err
		}
		t.brand = brand{Product: cfg.Product, Accent: cfg.Accent, LogoURL: cfg.LogoURL}
		langs[l.Code()] = t
	}
	return &OTP{cfg: cfg, channel: ch, host: host, langs: langs}, nil
}

// templatesFor picks the code templates of the supported language
// closest to lang (a BCP 47 tag), else of the configured language, else
// English.
func (o *OTP) templatesFor(lang string) *codeTemplates {
	if l, ok := templates.Match(lang); ok {
		return o.langs[l.Code()]
	}
	l, _ := templates.Match(o.cfg.Language) // English when none is close
	return o.langs[l.Code()]
}

// languageOf is the language a code message is asked for in: the page's
// (canonical), else the configured one.
func (o *OTP) languageOf(ctx context.Context) string {
	if tag := sesame.LanguageOf(ctx); len(tag) <= 35 { // as notify.ParseLanguage
		if t, err := language.Parse(tag); err == nil {
			return t.String()
		}
	}
	return o.cfg.Language
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
	lang := o.languageOf(ctx)
	msg, err := o.templatesFor(lang).render(o.channel, codeMessage{Code: code, Title: oneLine(l.Title),
		Minutes: int(sesame.CodeTTL / time.Minute), Host: o.host})
	if err != nil {
		return err
	}
	msg.To, msg.Kind, msg.LinkID, msg.Language = a.Context, "code", l.ID, lang
	return o.cfg.Store.CreateChallenge(ctx, a.ID, code, msg, o.cfg.Now())
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

// oneLine joins s into one line with single spaces. No-break spaces stay:
// French puts them inside « » and before a colon.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) && r != '\u00a0' && r != '\u202f'
	}), " ")
}

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
