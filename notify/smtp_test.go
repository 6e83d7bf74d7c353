package notify_test

import (
	"context"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/internal/testrig"
	"github.com/sesame-share/sesame/notify"
)

const publicURL = "https://share.example.com"

// anchor is one <a> of the HTML part.
type anchor struct{ href, text string }

// sendOne creates a link to target, mails it to bob through the Mailer and
// delivers it with one worker run. It returns the link and the message as
// the fake SMTP server received it.
func sendOne(t *testing.T, title, message, senderName string, folder bool) (*sesame.Link, *testrig.Mail, testrig.SMTPMessage, *testrig.SMTPServer, *sesame.Notification, string) {
	t.Helper()
	ctx := context.Background()
	clk := newClock()
	dir := t.TempDir()
	st := openStore(t, dir, clk)
	var target string
	if folder {
		target = newFolder(t, st, "Reports")
	} else {
		target = newFile(t, st, "q3.pdf")
	}
	refused := sesame.CheckText("/title", title, false) != nil
	l := newLink(t, st, clk, target, map[bool]string{false: title}[refused], message)
	if refused {
		// Through the store alone, so that a title the core now refuses
		// stands for a row written before it did.
		var err error
		if l, err = st.UpdateLink(ctx, l.ID, sesame.LinkUpdate{Title: &title}, nil, clk.Now()); err != nil {
			t.Fatal(err)
		}
	}
	fake := testrig.NewSMTPServer(t)
	w := newWorker(t, st, clk, newSMTP(t, fake), nil, 0)

	sent, err := newMailer(t, st, publicURL).SendLinks(ctx, sesame.LinkSendRequest{
		Items: []sesame.LinkSend{{LinkID: l.ID, Email: "bob@example.com"}}, SenderEmail: "alice@example.com", SenderName: senderName})
	if err != nil {
		t.Fatalf("SendLinks: %v", err)
	}
	if len(sent) != 1 || sent[0].ID != l.ID {
		t.Fatalf("SendLinks returned %d links, want 1 (%s)", len(sent), l.ID)
	}
	if got := len(fake.Messages()); got != 0 {
		t.Fatalf("got %d messages before the worker ran, want 0", got)
	}
	if n := runOnce(t, w); n != 1 {
		t.Fatalf("RunOnce tried %d, want 1", n)
	}
	msgs := fake.Messages()
	if len(msgs) != 1 {
		t.Fatalf("the fake received %d messages, want 1", len(msgs))
	}
	n := only(t, st)
	return l, testrig.ParseMail(t, msgs[0].Data), msgs[0], fake, n, dir
}

func TestSMTPLinkEmail(t *testing.T) {
	t.Parallel()
	const message = "Here are the Q3 figures.\nSee <script>alert(1)</script> & the notes."
	for _, tt := range []struct {
		name, title, sender string
		folder              bool
	}{
		{"file", "Quarterly report", "Alice Example", false},
		{"folder", "Quarterly report", "Alice Example", true},
		{"unicode", "Rapport trimestriel — été 2030 ✓", "Zoë Ångström", false},
		{"long title", strings.Repeat("Quarterly report for the board, ", 7) + "final", "Alice Example", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			title, sender := tt.title, tt.sender
			l, pm, rcv, fake, n, dir := sendOne(t, title, message, sender, tt.folder)
			linkURL := publicURL + "/s/" + l.Token
			expires := l.Expires.UTC().Format("Monday 2 January 2006, 15:04 UTC")

			// Envelope.
			if rcv.From != "share@example.com" {
				t.Errorf("MAIL FROM: got %q, want share@example.com", rcv.From)
			}
			if diff := cmp.Diff([]string{"bob@example.com"}, fake.Rcpts()); diff != "" {
				t.Errorf("RCPT TO (-want +got):\n%s", diff)
			}
			// Headers.
			from, err := pm.Header.AddressList("From")
			if err != nil {
				t.Fatalf("From: %v", err)
			}
			// The sender's name, via the product, at the configured address.
			if diff := cmp.Diff([]*mail.Address{{Name: sender + " via sesame", Address: "share@example.com"}}, from); diff != "" {
				t.Errorf("From (-want +got):\n%s", diff)
			}
			to, err := pm.Header.AddressList("To")
			if err != nil || len(to) != 1 || to[0].Address != "bob@example.com" {
				t.Errorf("To: got %v (%v), want bob@example.com", to, err)
			}
			replyTo, err := pm.Header.AddressList("Reply-To")
			if err != nil || len(replyTo) != 1 || replyTo[0].Address != "alice@example.com" {
				t.Errorf("Reply-To: got %v (%v), want alice@example.com", replyTo, err)
			}
			if got, want := testrig.DecodeHeader(t, pm.Header.Get("Subject")), sender+" shared “"+title+"” with you"; got != want {
				t.Errorf("Subject: got %q, want %q", got, want)
			}
			msgID := pm.Header.Get("Message-ID")
			if !strings.HasPrefix(msgID, "<") || !strings.HasSuffix(msgID, ">") || !strings.Contains(msgID, "@") {
				t.Errorf("Message-ID: got %q, want <id@host>", msgID)
			}
			if d, err := pm.Header.Date(); err != nil || d.IsZero() {
				t.Errorf("Date: got %q (%v), want a date", pm.Header.Get("Date"), err)
			}
			// Body: text and HTML alternatives.
			if pm.Type != "multipart/alternative" {
				t.Fatalf("Content-Type: got %s, want multipart/alternative", pm.Type)
			}
			if diff := cmp.Diff([]string{"text/plain", "text/html"}, pm.Order); diff != "" {
				t.Fatalf("parts (-want +got):\n%s", diff)
			}
			txt := pm.Parts["text/plain"]
			for _, want := range []string{title, message, sender, expires, linkURL} {
				if !strings.Contains(txt, want) {
					t.Errorf("text part lacks %q:\n%s", want, txt)
				}
			}
			doc := testrig.ParseHTML(t, pm.Parts["text/html"])
			text := doc.TextOf("body")
			for _, want := range []string{title, message, sender, expires, linkURL} {
				if !strings.Contains(text, want) {
					t.Errorf("HTML text lacks %q:\n%s", want, text)
				}
			}
			var open []anchor
			for _, a := range doc.Find("a") {
				if strings.TrimSpace(a.Text()) == "Open" {
					open = append(open, anchor{href: a.Attr("href"), text: "Open"})
				}
			}
			if len(open) != 1 || open[0].href != linkURL {
				t.Errorf("Open button: got %+v, want one <a href=%q>Open</a>", open, linkURL)
			}
			if len(doc.Find("table")) == 0 {
				t.Errorf("the HTML has no tables")
			}
			if styled := len(doc.Filter(func(e *testrig.Element) bool { return e.Attr("style") != "" })); styled < 5 {
				t.Errorf("got %d elements with inline styles, want the layout styled inline", styled)
			}
			if len(doc.Find("script")) != 0 || strings.Contains(strings.ToLower(pm.Parts["text/html"]), "<script") {
				t.Errorf("the HTML has a script:\n%s", pm.Parts["text/html"])
			}
			if strings.Contains(strings.ToLower(pm.Parts["text/html"]), "<style") {
				t.Errorf("the HTML has a <style> block; want inline styles only")
			}

			// The outbox row: sent, with the Message-ID, and no body left.
			if n.Status != sesame.OutboxSent || n.Attempts != 1 || n.ProviderID != msgID || n.LastError != "" {
				t.Errorf("outbox row: got status %s attempts %d provider %q error %q, want sent 1 %q \"\"", n.Status, n.Attempts, n.ProviderID, n.LastError, msgID)
			}
			if n.Sent.IsZero() || n.Message.LinkID != l.ID || n.Message.Kind != "link" {
				t.Errorf("outbox row: got sent %v link %q kind %q", n.Sent, n.Message.LinkID, n.Message.Kind)
			}
			if !payloadIsNull(t, testrig.OpenDB(t, dir), n.ID) {
				t.Errorf("the sealed payload is still in the outbox after sending")
			}
		})
	}
}

// Titles stored before the core refused line breaks in them still reach
// the subject on one line. Sender names never get that far: SendLinks
// refuses them (TestSendLinks_RefusesControlCharacters).
func TestSMTPHeaderInjection(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, title, sender string
		subject             string
	}{
		// The title is the subject.
		{"title", "Hi\r\nBcc: evil@example.com", "Eve", "Eve shared “Hi Bcc: evil@example.com” with you"},
		{"lone LF", "Hi\nBcc: evil@example.com", "Eve", "Eve shared “Hi Bcc: evil@example.com” with you"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, pm, rcv, fake, n, _ := sendOne(t, tt.title, "", tt.sender, false)
			if diff := cmp.Diff([]string{"bob@example.com"}, fake.Rcpts()); diff != "" {
				t.Errorf("RCPT TO (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"bob@example.com"}, rcv.To); diff != "" {
				t.Errorf("accepted recipients (-want +got):\n%s", diff)
			}
			for _, h := range []string{"Bcc", "Cc", "X-Injected"} {
				if v, ok := pm.Header[h]; ok {
					t.Errorf("header %s: %q is present, want none", h, v)
				}
			}
			if got := testrig.DecodeHeader(t, pm.Header.Get("Subject")); got != tt.subject {
				t.Errorf("Subject: got %q, want %q", got, tt.subject)
			}
			from, err := pm.Header.AddressList("From")
			if err != nil || len(from) != 1 || from[0].Address != "share@example.com" {
				t.Errorf("From: got %v (%v)", from, err)
			}
			if n.Status != sesame.OutboxSent {
				t.Errorf("outbox status: got %s, want sent", n.Status)
			}
		})
	}
}

func TestSMTPPermanentError(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newClock()
	dir := t.TempDir()
	st := openStore(t, dir, clk)
	l := newLink(t, st, clk, newFile(t, st, "a.txt"), "Report", "")
	fake := testrig.NewSMTPServer(t)
	fake.Refuse(testrig.SMTPNoSuchUser)
	w := newWorker(t, st, clk, newSMTP(t, fake), nil, 0)
	if _, err := newMailer(t, st, publicURL).SendLinks(ctx, sesame.LinkSendRequest{
		Items: []sesame.LinkSend{{LinkID: l.ID, Email: "nobody@example.com"}}, SenderEmail: "alice@example.com"}); err != nil {
		t.Fatal(err)
	}
	if n := runOnce(t, w); n != 1 {
		t.Fatalf("RunOnce tried %d, want 1", n)
	}
	n := only(t, st)
	if n.Status != sesame.OutboxFailed || n.Attempts != 1 || !strings.Contains(n.LastError, "550") {
		t.Fatalf("outbox row: got status %s attempts %d error %q, want failed 1 with 550", n.Status, n.Attempts, n.LastError)
	}
	if !payloadIsNull(t, testrig.OpenDB(t, dir), n.ID) {
		t.Errorf("the sealed payload is still in the outbox after failing")
	}
	// Not retried, however long we wait.
	fake.Refuse(nil)
	clk.Add(48 * time.Hour)
	if n := runOnce(t, w); n != 0 {
		t.Fatalf("RunOnce two days later tried %d, want 0", n)
	}
	if got := len(fake.Rcpts()); got != 1 {
		t.Fatalf("got %d RCPT attempts, want 1", got)
	}
	if got := len(fake.Messages()); got != 0 {
		t.Fatalf("got %d messages, want 0", got)
	}
	if diff := cmp.Diff([]string{"notify.failed"}, auditActions(t, st, l.ID)); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
}

// A 4xx, a 5xx and a dead server map, through notify.SMTP directly, to
// the error kinds the worker relies on.
func TestSMTPErrorKinds(t *testing.T) {
	t.Parallel()
	fake := testrig.NewSMTPServer(t)
	s := newSMTP(t, fake)
	msg := &sesame.Message{Channel: sesame.ChannelEmail, To: "bob@example.com", Subject: "Hi", Text: "hello"}
	for _, tt := range []struct {
		name   string
		refuse *smtp.SMTPError
		want   sesame.Kind
	}{
		{"451", testrig.SMTPTryLater, sesame.Unavailable},
		{"550", testrig.SMTPNoSuchUser, sesame.Invalid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fake.Refuse(tt.refuse)
			_, err := s.Notify(context.Background(), msg)
			if got := sesame.KindOf(err); got != tt.want {
				t.Fatalf("got kind %v (%v), want %v", got, err, tt.want)
			}
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		dead, err := notify.NewSMTP(notify.SMTPConfig{Host: "127.0.0.1", Port: port, TLS: "none", From: "share@example.com",
			Timeout: 2 * time.Second, Logger: testrig.DiscardLogger()})
		if err != nil {
			t.Fatal(err)
		}
		_, err = dead.Notify(context.Background(), msg)
		if got := sesame.KindOf(err); got != sesame.Unavailable {
			t.Fatalf("got kind %v (%v), want unavailable", got, err)
		}
	})
}

// A server that accepts a message (250 to DATA) and then hangs up before
// RSET/QUIT has the message: it must be recorded as sent, not retried, or
// the recipient gets it twice.
func TestSMTPAcceptedThenDisconnectedIsNotResent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newClock()
	st := openStore(t, t.TempDir(), clk)
	fake := testrig.NewSMTPServer(t)
	fake.DropAfterAccept(true)
	w := newWorker(t, st, clk, newSMTP(t, fake), nil, 0)
	if err := st.Enqueue(ctx, &sesame.Message{Channel: sesame.ChannelEmail, To: "carol@example.com", Subject: "Hi", Text: "hello", Kind: "link"}); err != nil {
		t.Fatal(err)
	}
	if n := runOnce(t, w); n != 1 {
		t.Fatalf("RunOnce tried %d, want 1", n)
	}
	if got := len(fake.Messages()); got != 1 {
		t.Fatalf("the fake accepted %d messages, want 1", got)
	}
	n := only(t, st)
	if n.Status != sesame.OutboxSent {
		t.Errorf("after the server accepted the message: got status %s (error %q), want sent", n.Status, n.LastError)
	}
	fake.DropAfterAccept(false)
	clk.Add(24 * time.Hour)
	runOnce(t, w)
	if got := len(fake.Messages()); got != 1 {
		t.Fatalf("the recipient got %d copies, want 1", got)
	}
}

// The From display name is the configured one, whatever characters it
// holds; a name that cannot be used is refused at startup, not on every
// message.
func TestSMTPFromNameQuoting(t *testing.T) {
	t.Parallel()
	for _, name := range []string{
		`Acme "Secure" Share`,
		`Acme "Share`,
		`Acme Share\`,
		`Zoë's Share`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fake := testrig.NewSMTPServer(t)
			s, err := notify.NewSMTP(notify.SMTPConfig{Host: fake.Host, Port: fake.Port, TLS: "none", From: "share@example.com", FromName: name,
				Timeout: 5 * time.Second, Logger: testrig.DiscardLogger()})
			if err != nil {
				return // refused at startup: acceptable
			}
			_, err = s.Notify(context.Background(), &sesame.Message{Channel: sesame.ChannelEmail, To: "bob@example.com", Subject: "Hi", Text: "hello"})
			if err != nil {
				t.Fatalf("NewSMTP accepted FromName %q but every Notify fails: %v", name, err)
			}
			msgs := fake.Messages()
			if len(msgs) != 1 {
				t.Fatalf("got %d messages, want 1", len(msgs))
			}
			from, err := testrig.ParseMail(t, msgs[0].Data).Header.AddressList("From")
			if err != nil || len(from) != 1 {
				t.Fatalf("From: %v (%v)", from, err)
			}
			if diff := cmp.Diff(&mail.Address{Name: name, Address: "share@example.com"}, from[0]); diff != "" {
				t.Errorf("From (-want +got):\n%s", diff)
			}
		})
	}
}

// A sender name with a line break is refused before anything is queued.
func TestSendLinks_RefusesControlCharacters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newClock()
	st := openStore(t, t.TempDir(), clk)
	l := newLink(t, st, clk, newFile(t, st, "a.txt"), "Report", "")
	for _, name := range []string{"Eve\r\nBcc: evil@example.com", "Eve\nX-Injected: 1", "Eve\x00"} {
		_, err := newMailer(t, st, publicURL).SendLinks(ctx, sesame.LinkSendRequest{
			Items: []sesame.LinkSend{{LinkID: l.ID, Email: "bob@example.com"}}, SenderEmail: "alice@example.com", SenderName: name})
		e := sesame.AsError(err)
		if e == nil || e.Kind != sesame.Invalid || len(e.Fields) != 1 || e.Fields[0].Source != "/sender_name" {
			t.Errorf("sender name %q: got %v, want one Invalid error at /sender_name", name, err)
		}
	}
	if n := len(notifications(t, st)); n != 0 {
		t.Errorf("%d messages queued, want none", n)
	}
}
