package notify

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sesame-share/sesame"
)

// maxListedFiles is how many files a link email names; it counts the rest.
const maxListedFiles = 10

// linkMail is the view model of a link email. Every sentence is in the
// templates (messages/link_email.*); this holds only values.
type linkMail struct {
	Brand       brand
	Lang        string // the language the email speaks
	Subject     string
	Title       string
	Message     string
	SenderName  string
	SenderEmail string
	// Upload is set for an upload link: its recipient adds files and sees
	// none, so the email lists none.
	Upload bool
	// Target is the name of the link's one target, "" when it has several.
	Target string
	Files  []mailFile // the first maxListedFiles files
	More   int        // files not listed
	Count  int        // every file
	Total  int64      // their bytes
	URL    string
	// Expires is when the link stops working.
	Expires time.Time
	// Auth says how the recipient will sign in: "email" (a code to this
	// address), "social" (an account for this address at a sign-in
	// provider), "sms", "password" or "".
	Auth string
}

// mailFile is one listed file: its path inside the link and its size.
type mailFile struct {
	Name string
	Size int64
}

// contents is what a link shares, as its emails describe it.
type contents struct {
	target string
	files  []mailFile
	count  int
	total  int64
}

// linkContents expands the link's targets (folders recursively) into its
// files. Targets deleted since the link was made are left out.
func (m *Mailer) linkContents(ctx context.Context, l *sesame.Link) (*contents, error) {
	objs, err := m.cfg.Objects.ObjectsByID(ctx, l.BucketID, l.Targets)
	if err != nil {
		return nil, fmt.Errorf("notify: link targets: %w", err)
	}
	byID := make(map[string]*sesame.Object, len(objs))
	for _, o := range objs {
		byID[o.ID] = o
	}
	c := &contents{}
	var ids []string
	for _, id := range l.Targets { // in the link's order
		if o := byID[id]; o != nil {
			ids = append(ids, id)
			c.target = o.Name
		}
	}
	if len(ids) != 1 {
		c.target = ""
	}
	if len(ids) == 0 || l.Type == sesame.LinkUpload {
		return c, nil
	}
	entries, err := m.cfg.Objects.ArchiveEntries(ctx, l.BucketID, ids)
	if err != nil {
		return nil, fmt.Errorf("notify: link files: %w", err)
	}
	// Inside a link to one folder, names start below it (the heading
	// names the folder); otherwise each starts with its target's name.
	var inside string
	if len(ids) == 1 && byID[ids[0]].IsFolder() {
		inside = byID[ids[0]].Name + "/"
	}
	for _, e := range entries {
		if e.Object.IsFolder() {
			continue
		}
		c.count++
		c.total += e.Object.Size
		if len(c.files) < maxListedFiles {
			c.files = append(c.files, mailFile{Name: strings.TrimPrefix(e.Name, inside), Size: e.Object.Size})
		}
	}
	return c, nil
}

// authKind tells the recipient how they will be asked to sign in.
func authKind(l *sesame.Link, to string) string {
	var email, social, sms, password bool
	for _, a := range l.Authenticators {
		switch a.Type {
		case sesame.AuthEmailOTP:
			email = email || sesame.SameEmail(a.Context, to)
		case sesame.AuthSocial:
			social = social || sesame.SameEmail(a.Context, to)
		case sesame.AuthSMSOTP:
			sms = true
		case sesame.AuthPassword:
			password = true
		}
	}
	switch {
	case email:
		return "email"
	case social:
		return "social"
	case sms:
		return "sms"
	case password:
		return "password"
	}
	return ""
}

// render builds one link email in the language asked for (lang is
// canonical; "" is the default).
func (m *Mailer) render(l *sesame.Link, c *contents, it sesame.LinkSend, senderEmail, senderName string) (*sesame.Message, error) {
	lang := it.Language
	if lang == "" {
		lang = m.cfg.Language
	}
	set := m.links.pick(lang, m.cfg.Language)
	v := linkMail{
		Brand: m.brand, Lang: set.lang, Title: oneLine(l.Title), Message: l.Message,
		SenderName: oneLine(senderName), SenderEmail: senderEmail, Upload: l.Type == sesame.LinkUpload,
		Target: c.target, Files: c.files, More: c.count - len(c.files), Count: c.count, Total: c.total,
		URL: strings.TrimRight(m.cfg.PublicURL, "/") + "/s/" + l.Token, Expires: l.Expires, Auth: authKind(l, it.Email),
	}
	var subject, from, text, html bytes.Buffer
	for _, p := range []struct {
		name string
		out  *bytes.Buffer
	}{{"subject", &subject}, {"from", &from}, {"text", &text}} {
		if err := set.text.ExecuteTemplate(p.out, p.name, v); err != nil {
			return nil, fmt.Errorf("notify: render link email %s: %w", p.name, err)
		}
	}
	v.Subject = oneLine(subject.String())
	if err := set.html.ExecuteTemplate(&html, "email", v); err != nil {
		return nil, fmt.Errorf("notify: render link email: %w", err)
	}
	return &sesame.Message{Channel: sesame.ChannelEmail, To: it.Email, ReplyTo: senderEmail, FromName: oneLine(from.String()),
		Subject: v.Subject, Text: text.String(), HTML: html.String(), Kind: "link", LinkID: l.ID, Language: lang}, nil
}
