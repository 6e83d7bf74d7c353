package notify

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/sesame-share/sesame"
)

var _ sesame.OwnerMailer = (*Mailer)(nil)

// ownerMail is the view model of an owner notification
// (messages/owner_email.*).
type ownerMail struct {
	Brand   brand
	Lang    string
	Subject string
	Event   string // upload, download, locked or exhausted
	Name    string // the link's title, else its id
	Files   []mailFile
	More    int
	Count   int
	Total   int64
}

// OwnerMessage implements sesame.OwnerMailer: the email that tells a
// link's owner what happened, in the language the link's notify asks for.
func (m *Mailer) OwnerMessage(n *sesame.OwnerNote) (*sesame.Message, error) {
	lang := m.cfg.Language
	if n.Link.Notify != nil && n.Link.Notify.Language != "" {
		if tag, ok := ParseLanguage(n.Link.Notify.Language); ok {
			lang = tag
		}
	}
	set := m.owner.pick(lang, m.cfg.Language)
	v := ownerMail{Brand: m.brand, Lang: set.lang, Event: string(n.Event), Name: oneLine(n.Link.Title), Count: len(n.Files)}
	if v.Name == "" {
		v.Name = n.Link.ID
	}
	for _, f := range n.Files {
		v.Total += f.Size
		if len(v.Files) < maxListedFiles*10 {
			v.Files = append(v.Files, mailFile{Name: f.Name, Size: f.Size})
		}
	}
	v.More = v.Count - len(v.Files)
	var subject, text, html bytes.Buffer
	if err := set.text.ExecuteTemplate(&subject, "subject", v); err != nil {
		return nil, fmt.Errorf("notify: render owner email subject: %w", err)
	}
	v.Subject = oneLine(subject.String())
	if err := set.text.ExecuteTemplate(&text, "text", v); err != nil {
		return nil, fmt.Errorf("notify: render owner email: %w", err)
	}
	if err := set.html.ExecuteTemplate(&html, "email", v); err != nil {
		return nil, fmt.Errorf("notify: render owner email: %w", err)
	}
	return &sesame.Message{Channel: sesame.ChannelEmail, To: n.To, Subject: v.Subject, Text: strings.TrimLeft(text.String(), "\n"),
		HTML: html.String(), Kind: "owner_" + string(n.Event), LinkID: n.Link.ID, Language: lang}, nil
}
