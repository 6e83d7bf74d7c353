package authenticators

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"strings"
	texttemplate "text/template"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/templates"
)

// brand is how the operator's product appears in code messages.
type brand struct {
	Product, Accent, LogoURL string
}

// codeMessage is the view model of a code email or SMS. Every sentence is
// in the templates (messages/code_*); this holds only values.
type codeMessage struct {
	Brand   brand
	Lang    string // the language the message speaks
	Subject string
	Code    string
	Title   string
	Minutes int
	// Host is the public URL's host, for the SMS's last line in the
	// WebOTP format ("@share.example.com #123456"), which lets phones
	// offer the code on that site only; "" leaves the line out.
	Host string
}

// codeTemplates is every template of a code message in one language.
type codeTemplates struct {
	lang  string
	sms   *texttemplate.Template
	text  *texttemplate.Template // defines "subject" and "text"
	html  *htmltemplate.Template // "email", the branded layout
	brand brand
}

// parseCodeTemplates parses the code messages with their sentences in
// l's language.
func parseCodeTemplates(l *templates.Locale) (*codeTemplates, error) {
	sms, err := texttemplate.New("code_sms.txt").Funcs(templates.TextFuncs(l)).ParseFS(templates.FS, "messages/code_sms.txt")
	if err != nil {
		return nil, fmt.Errorf("authenticators: parse code sms: %w", err)
	}
	text, err := texttemplate.New("code_email.txt").Funcs(templates.TextFuncs(l)).ParseFS(templates.FS, "messages/email_layout.txt", "messages/code_email.txt")
	if err != nil {
		return nil, fmt.Errorf("authenticators: parse code email text: %w", err)
	}
	html, err := htmltemplate.New("code_email.html").Funcs(templates.HTMLFuncs(l)).ParseFS(templates.FS, "messages/email_layout.html", "messages/code_email.html")
	if err != nil {
		return nil, fmt.Errorf("authenticators: parse code email: %w", err)
	}
	return &codeTemplates{lang: l.Code(), sms: sms, text: text, html: html}, nil
}

// webOTPHost returns the host of a public URL as the WebOTP line names
// it: without a port (the format binds the code to an https origin on
// its default port), IPv6 literals in brackets. "" when there is none.
func webOTPHost(publicURL string) (string, error) {
	if publicURL == "" {
		return "", nil
	}
	u, err := url.Parse(publicURL)
	if err != nil || u.Hostname() == "" {
		return "", fmt.Errorf("authenticators: public URL %q has no host", publicURL)
	}
	if h := u.Hostname(); strings.Contains(h, ":") {
		return "[" + h + "]", nil
	}
	return u.Hostname(), nil
}

// render builds the message of one code for a channel.
func (t *codeTemplates) render(ch sesame.Channel, v codeMessage) (*sesame.Message, error) {
	v.Brand, v.Lang = t.brand, t.lang
	msg := &sesame.Message{Channel: ch}
	var text bytes.Buffer
	if ch == sesame.ChannelSMS {
		if err := t.sms.Execute(&text, v); err != nil {
			return nil, fmt.Errorf("authenticators: render code sms: %w", err)
		}
		// The WebOTP line must be the last, with nothing after it.
		msg.Text = strings.TrimSpace(text.String())
		return msg, nil
	}
	var subject, html bytes.Buffer
	if err := t.text.ExecuteTemplate(&subject, "subject", v); err != nil {
		return nil, fmt.Errorf("authenticators: render code subject: %w", err)
	}
	v.Subject = oneLine(subject.String())
	if err := t.text.ExecuteTemplate(&text, "text", v); err != nil {
		return nil, fmt.Errorf("authenticators: render code email: %w", err)
	}
	if err := t.html.ExecuteTemplate(&html, "email", v); err != nil {
		return nil, fmt.Errorf("authenticators: render code email html: %w", err)
	}
	msg.Subject, msg.Text, msg.HTML = v.Subject, text.String(), html.String()
	return msg, nil
}
