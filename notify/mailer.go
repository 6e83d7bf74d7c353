// Package notify delivers messages: it renders link emails, keeps every
// message in the durable outbox until a transport confirms it, and
// implements the transports (SMTP through go-mail, SMS through twilio-go,
// and the log).
package notify

import (
	"bytes"
	"context"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"unicode"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/templates"
)

// MailerConfig configures a Mailer.
type MailerConfig struct {
	Links     sesame.LinkStore // reads links, records sends and queues mail atomically
	PublicURL string           // base of link URLs
	Product   string           // product name in mail ("sesame")
	Accent    string           // button colour, "#2563eb"
	// Wake, if set, is told that mail is waiting, so the worker need not
	// wait for its next tick.
	Wake func()
}

// Mailer renders link notification emails and queues them.
type Mailer struct {
	cfg  MailerConfig
	html *htmltemplate.Template
	text *texttemplate.Template
}

var _ sesame.LinkMailer = (*Mailer)(nil)

// NewMailer parses the templates once; a template error stops startup.
func NewMailer(cfg MailerConfig) (*Mailer, error) {
	if cfg.Links == nil || cfg.PublicURL == "" {
		return nil, fmt.Errorf("notify: mailer needs Links and PublicURL")
	}
	if cfg.Product == "" {
		cfg.Product = "sesame"
	}
	if cfg.Accent == "" {
		cfg.Accent = "#2563eb"
	}
	h, err := htmltemplate.ParseFS(templates.FS, "messages/link_email.html")
	if err != nil {
		return nil, fmt.Errorf("notify: parse link email: %w", err)
	}
	t, err := texttemplate.ParseFS(templates.FS, "messages/link_email.txt")
	if err != nil {
		return nil, fmt.Errorf("notify: parse link email text: %w", err)
	}
	return &Mailer{cfg: cfg, html: h, text: t}, nil
}

// linkMail is the view model of a link email.
type linkMail struct {
	Product, Accent string
	Subject, Title  string
	Message         string
	SenderName      string
	SenderEmail     string
	URL             string
	Expires         string
	Auth            string
}

// oneLine removes line breaks and other control characters, so that text
// that ends up in a header can never start a new one.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// authHint tells the recipient how they will be asked to sign in.
func authHint(l *sesame.Link, to string) string {
	var email, sms, password bool
	for _, a := range l.Authenticators {
		switch a.Type {
		case sesame.AuthEmailOTP:
			email = email || strings.EqualFold(a.Context, to)
		case sesame.AuthSMSOTP:
			sms = true
		case sesame.AuthPassword:
			password = true
		}
	}
	switch {
	case email:
		return "To open it, you will be sent a one-time code at this address."
	case sms:
		return "To open it, you will be sent a one-time code by text message."
	case password:
		return "To open it, you need the password from the sender; it is not in this email."
	}
	return ""
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
	}
	return errs.Err()
}

// Preview implements sesame.LinkMailer.
func (m *Mailer) Preview(ctx context.Context, req sesame.LinkSendRequest) ([]*sesame.Message, error) {
	if err := validate(req); err != nil {
		return nil, err
	}
	msgs := make([]*sesame.Message, len(req.Items))
	for i, it := range req.Items {
		l, err := m.cfg.Links.LinkByID(ctx, it.LinkID)
		if sesame.KindOf(err) == sesame.NotFound {
			return nil, sesame.FieldErr("DoesNotExist", fmt.Sprintf("/links/%d/id", i), "link %s does not exist", it.LinkID).WithKind(sesame.NotFound)
		}
		if err != nil {
			return nil, err
		}
		msg, err := m.render(l, it.Email, req.SenderEmail, req.SenderName)
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
	links, err := m.cfg.Links.RecordLinkSends(ctx, req, msgs)
	if err != nil {
		return nil, err
	}
	if m.cfg.Wake != nil {
		m.cfg.Wake()
	}
	return links, nil
}

func (m *Mailer) render(l *sesame.Link, to, senderEmail, senderName string) (*sesame.Message, error) {
	v := linkMail{
		Product: m.cfg.Product, Accent: m.cfg.Accent, Title: oneLine(l.Title), Message: l.Message,
		SenderName: oneLine(senderName), SenderEmail: senderEmail, URL: strings.TrimRight(m.cfg.PublicURL, "/") + "/s/" + l.Token,
		Expires: l.Expires.UTC().Format("Monday 2 January 2006, 15:04 UTC"), Auth: authHint(l, to),
	}
	switch {
	case v.Title != "":
		v.Subject = v.Title
	case v.SenderName != "":
		v.Subject = v.SenderName + " shared files with you"
	default:
		v.Subject = "Files shared with you"
	}
	var text, html bytes.Buffer
	if err := m.text.Execute(&text, v); err != nil {
		return nil, fmt.Errorf("notify: render link email text: %w", err)
	}
	if err := m.html.Execute(&html, v); err != nil {
		return nil, fmt.Errorf("notify: render link email: %w", err)
	}
	return &sesame.Message{Channel: sesame.ChannelEmail, To: to, ReplyTo: senderEmail, Subject: v.Subject,
		Text: text.String(), HTML: html.String(), Kind: "link", LinkID: l.ID}, nil
}
