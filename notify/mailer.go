// Package notify delivers messages: it renders link emails, keeps every
// message in the durable outbox until a transport confirms it, and
// implements the transports (SMTP through go-mail, SMS through twilio-go,
// and the log).
package notify

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"github.com/sesame-share/sesame"
)

// MailerConfig configures a Mailer.
type MailerConfig struct {
	Links     sesame.LinkStore    // reads links, records sends and queues mail atomically
	Objects   sesame.ObjectReader // reads what the links share, for the file list
	PublicURL string              // base of link URLs
	Product   string              // product name in mail ("sesame")
	Accent    string              // button colour, "#2563eb"
	LogoURL   string              // absolute http(s) URL of a logo; "" for none
	// Language is the BCP 47 tag of emails whose request names none
	// (default "en").
	Language string
}

// Mailer renders link notification emails and queues them. The bodies are
// rendered when the mail is queued, so the outbox holds what is sent.
type Mailer struct {
	cfg   MailerConfig
	brand brand
	links emailSets
	owner emailSets // owner notifications (owner_email.go)
}

var _ sesame.LinkMailer = (*Mailer)(nil)

// NewMailer parses the templates once; a template error stops startup.
func NewMailer(cfg MailerConfig) (*Mailer, error) {
	if cfg.Links == nil || cfg.Objects == nil || cfg.PublicURL == "" {
		return nil, fmt.Errorf("notify: mailer needs Links, Objects and PublicURL")
	}
	if cfg.Product == "" {
		cfg.Product = "sesame"
	}
	if cfg.Accent == "" {
		cfg.Accent = "#2563eb"
	}
	if err := checkLogoURL(cfg.LogoURL); err != nil {
		return nil, err
	}
	if cfg.Language == "" {
		cfg.Language = "en"
	}
	lang, ok := ParseLanguage(cfg.Language)
	if !ok {
		return nil, fmt.Errorf("notify: language %q is not a BCP 47 tag such as en or pt-BR", cfg.Language)
	}
	cfg.Language = lang
	sets, err := newEmailSets("link_email")
	if err != nil {
		return nil, err
	}
	owner, err := newEmailSets("owner_email")
	if err != nil {
		return nil, err
	}
	return &Mailer{cfg: cfg, brand: brand{Product: cfg.Product, Accent: cfg.Accent, LogoURL: cfg.LogoURL}, links: sets, owner: owner}, nil
}

// oneLine removes line breaks and other control characters, so that text
// that ends up in a header can never start a new one. No-break spaces
// stay: French puts them inside « » and before a colon.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) && r != '\u00a0' && r != '\u202f'
	}), " ")
}

// validate checks a send request; the error lists every field that is
// wrong, up to sesame.MaxFieldErrors.
func validate(req sesame.LinkSendRequest) error {
	if len(req.Items) == 0 {
		return sesame.FieldErr("BelowMinItems", "/links", "links must name at least one link and recipient")
	}
	if len(req.Items) > 100 {
		return sesame.FieldErr("AboveMaxItems", "/links", "links may hold at most 100 items")
	}
	var errs sesame.Problems
	if !sesame.ValidEmail(req.SenderEmail) {
		errs.Addf("BadFormatEmail", "/sender_email", "sender_email must be one email address such as alice@example.com")
	}
	if len([]rune(req.SenderName)) > 100 {
		errs.Addf("AboveMaxLength", "/sender_name", "sender_name must be at most 100 characters")
	} else {
		errs.Add(sesame.CheckText("/sender_name", req.SenderName, false))
	}
	for i, it := range req.Items {
		if errs.Full() {
			break
		}
		if !sesame.ValidID(sesame.PrefixLink, it.LinkID) {
			errs.Add(sesame.FieldErr("DoesNotExist", fmt.Sprintf("/links/%d/id", i), "link %q does not exist", it.LinkID).WithKind(sesame.NotFound))
		}
		if !sesame.ValidEmail(it.Email) {
			errs.Addf("BadFormatEmail", fmt.Sprintf("/links/%d/email", i), "email must be one address such as bob@example.com")
		}
		if _, ok := ParseLanguage(it.Language); it.Language != "" && !ok {
			errs.Addf("BadFormat", fmt.Sprintf("/links/%d/language", i), "language must be a BCP 47 language tag such as en, de or pt-BR")
		}
	}
	return errs.Err()
}

// Preview implements sesame.LinkMailer.
func (m *Mailer) Preview(ctx context.Context, req sesame.LinkSendRequest) ([]*sesame.Message, error) {
	if err := validate(req); err != nil {
		return nil, err
	}
	msgs := make([]*sesame.Message, len(req.Items))
	seen := map[string]*contents{} // one link sent to several people is read once
	for i, it := range req.Items {
		l, err := m.cfg.Links.LinkByID(ctx, it.LinkID)
		if sesame.KindOf(err) == sesame.NotFound {
			return nil, sesame.FieldErr("DoesNotExist", fmt.Sprintf("/links/%d/id", i), "link %s does not exist", it.LinkID).WithKind(sesame.NotFound)
		}
		if err != nil {
			return nil, err
		}
		c := seen[l.ID]
		if c == nil {
			if c, err = m.linkContents(ctx, l); err != nil {
				return nil, err
			}
			seen[l.ID] = c
		}
		if it.Language != "" {
			it.Language, _ = ParseLanguage(it.Language) // valid: checked above
		}
		msg, err := m.render(l, c, it, req.SenderEmail, req.SenderName)
		if err != nil {
			return nil, err
		}
		msgs[i] = msg
	}
	return msgs, nil
}

// SendLinks implements sesame.LinkMailer.
func (m *Mailer) SendLinks(ctx context.Context, req sesame.LinkSendRequest) ([]*sesame.Link, error) {
	msgs, err := m.Preview(ctx, req)
	if err != nil {
		return nil, err
	}
	return m.cfg.Links.RecordLinkSends(ctx, req, msgs)
}
