package notify_test

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/internal/testrig"
	"github.com/sesame-share/sesame/notify"
)

// germanDate writes t as a German letter would, independently of the
// message files: "Montag, 4. März 2030, 09:30 UTC".
func germanDate(t time.Time) string {
	days := []string{"Sonntag", "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag"}
	months := []string{"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"}
	t = t.UTC()
	return fmt.Sprintf("%s, %d. %s %d, %s UTC", days[t.Weekday()], t.Day(), months[t.Month()-1], t.Year(), t.Format("15:04"))
}

// A link email asked for in German arrives German: subject, From name,
// every sentence of both parts, the file list with sizes in decimal
// commas, the count, the button, the expiry as a German date and the
// footer. The sender's name stays bold inside the translated sentence.
func TestLinkEmail_German(t *testing.T) {
	t.Parallel()
	r := newMailRig(t, notify.MailerConfig{})
	folder := newFolder(t, r.st, "Vorstand")
	r.file(folder, "bericht.pdf", 1536)
	r.file(folder, "zahlen.txt", 921_600)
	l := r.link(sesame.LinkDownload, "Q3 board pack", folder)
	m := r.send(l, "alice@example.com", "Alice", "de")

	if got, want := m.Subject(t), "Alice hat „Q3 board pack“ mit Ihnen geteilt"; got != want {
		t.Errorf("Subject: got %q, want %q", got, want)
	}
	if diff := cmp.Diff(&mail.Address{Name: "Alice über sesame", Address: "share@example.com"}, fromOf(t, m)); diff != "" {
		t.Errorf("From (-want +got):\n%s", diff)
	}
	until := "Verfügbar bis " + germanDate(l.Expires) + ". Zum Öffnen erhalten Sie einen Einmalcode an diese Adresse."
	txt := m.Text()
	for _, want := range []string{
		"Alice <alice@example.com> hat „Q3 board pack“ mit Ihnen geteilt.\n",
		"\n2 Dateien, insgesamt 901,5 KiB:\n- bericht.pdf (1,5 KiB)\n- zahlen.txt (900,0 KiB)\n",
		"\nHier öffnen:\n" + publicURL + "/s/" + l.Token + "\n",
		"\n" + until + "\n",
		"\nFalls Sie diese E-Mail nicht erwartet haben, können Sie sie ignorieren.\n",
		"\n-- \nGesendet von sesame.\n",
	} {
		if !strings.Contains(txt, want) {
			t.Errorf("text part lacks %q:\n%s", want, txt)
		}
	}

	html := m.HTML()
	if !strings.Contains(html, `<html lang="de">`) {
		t.Errorf("the HTML part is not marked German")
	}
	doc := testrig.ParseHTML(t, html)
	if diff := cmp.Diff([][2]string{{"bericht.pdf", "1,5 KiB"}, {"zahlen.txt", "900,0 KiB"}}, rows(doc)); diff != "" {
		t.Errorf("HTML file rows (-want +got):\n%s", diff)
	}
	body := doc.TextOf("body")
	for _, want := range []string{
		"Alice (alice@example.com) hat dies mit Ihnen geteilt.",
		"2 Dateien, insgesamt 901,5 KiB",
		until,
		"Falls die Schaltfläche nicht funktioniert, kopieren Sie diese Adresse in Ihren Browser:",
		"Falls Sie diese E-Mail nicht erwartet haben, können Sie sie ignorieren. Gesendet von sesame.",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("HTML lacks %q:\n%s", want, body)
		}
	}
	if b := doc.First("strong"); b == nil || b.Text() != "Alice" {
		t.Errorf("the sender is not in bold: %v", b)
	}
	if a := doc.Filter(func(e *testrig.Element) bool { return e.Tag() == "a" && strings.TrimSpace(e.Text()) == "Öffnen" }); len(a) != 1 {
		t.Errorf("got %d Öffnen buttons, want 1", len(a))
	}
	for _, en := range []string{"shared", "Available", "files", "Sent by", "Open"} {
		if strings.Contains(txt, en) || strings.Contains(body, en) {
			t.Errorf("English %q is left in the German email:\n%s\n%s", en, txt, body)
		}
	}
}

// rows returns the (name, size) rows of an email's file list.
func rows(doc *testrig.Doc) [][2]string {
	var out [][2]string
	for _, tr := range doc.Find("tr") {
		if tds := tr.Find("td"); len(tds) == 2 && strings.Contains(tds[0].Text(), ".") {
			out = append(out, [2]string{tds[0].Text(), tds[1].Text()})
		}
	}
	return out
}

// French and Spanish emails have their own subjects, From names and
// counts; a language without a translation ("ja") gets notify.language's,
// and is still kept with the message as asked.
func TestLinkEmail_Languages(t *testing.T) {
	t.Parallel()
	r := newMailRig(t, notify.MailerConfig{Language: "es"})
	q3 := r.link(sesame.LinkDownload, "Q3 board pack", r.file("", "q3.pdf", 10))
	two := r.link(sesame.LinkDownload, "", r.file("", "a.txt", 10), r.file("", "b.txt", 10))
	upload := r.link(sesame.LinkUpload, "Receipts", newFolder(t, r.st, "Inbox"))
	const nb = "\u00a0"
	for _, tt := range []struct {
		name, lang       string
		link             *sesame.Link
		subject, from    string
		text, htmlLang   string
		wantQueuedInLang string
	}{
		{"French", "fr", q3, "Alice a partagé «" + nb + "Q3 board pack" + nb + "» avec vous", "Alice via sesame",
			"Disponible jusqu’au ", "fr", "fr"},
		{"French, two files", "fr-CA", two, "Alice a partagé 2 fichiers avec vous", "Alice via sesame",
			"2 fichiers, 20 B au total" + nb + ":\n- a.txt (10 B)\n", "fr", "fr-CA"},
		{"French upload", "fr", upload, "Alice vous invite à déposer des fichiers dans «" + nb + "Receipts" + nb + "»", "Alice via sesame",
			"Ouvrez-le ici" + nb + ":\n", "fr", "fr"},
		{"Spanish", "es-MX", q3, "Alice ha compartido «Q3 board pack» con usted", "Alice vía sesame",
			"Disponible hasta el ", "es", "es-MX"},
		{"Spanish upload", "es", upload, "Alice le pide que suba archivos a «Receipts»", "Alice vía sesame",
			"Alice <alice@example.com> le pide que suba archivos a «Receipts».\n", "es", "es"},
		{"Japanese: the default", "ja", q3, "Alice ha compartido «Q3 board pack» con usted", "Alice vía sesame",
			"Si no esperaba este correo, puede ignorarlo.", "es", "ja"},
		{"English", "en-GB", two, "Alice shared 2 files with you", "Alice via sesame",
			"2 files, 20 B in total:\n", "en", "en-GB"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			msgs, err := r.mailer.Preview(context.Background(), sesame.LinkSendRequest{SenderEmail: "alice@example.com", SenderName: "Alice",
				Items: []sesame.LinkSend{{LinkID: tt.link.ID, Email: "bob@example.com", Language: tt.lang}}})
			if err != nil {
				t.Fatal(err)
			}
			if msgs[0].Language != tt.wantQueuedInLang {
				t.Errorf("kept language: got %q, want %q", msgs[0].Language, tt.wantQueuedInLang)
			}
			m := r.send(tt.link, "alice@example.com", "Alice", tt.lang)
			if got := m.Subject(t); got != tt.subject {
				t.Errorf("Subject: got %q, want %q", got, tt.subject)
			}
			if got := fromOf(t, m).Name; got != tt.from {
				t.Errorf("From name: got %q, want %q", got, tt.from)
			}
			if !strings.Contains(m.Text(), tt.text) {
				t.Errorf("text part lacks %q:\n%s", tt.text, m.Text())
			}
			if !strings.Contains(m.HTML(), `<html lang="`+tt.htmlLang+`">`) {
				t.Errorf("the HTML part is not marked %s", tt.htmlLang)
			}
		})
	}
}

// Values inside translated sentences are escaped in the HTML part, the
// sender's name included: only sesame's own <strong> is markup.
func TestLinkEmail_TranslatedSentencesEscapeValues(t *testing.T) {
	t.Parallel()
	r := newMailRig(t, notify.MailerConfig{})
	l := r.link(sesame.LinkUpload, "<i>Receipts", newFolder(t, r.st, "Inbox"))
	for _, lang := range []string{"en", "de", "fr", "es"} {
		m := r.send(l, "alice@example.com", `<i>Eve</i> & "Co"`, lang)
		doc := testrig.ParseHTML(t, m.HTML())
		if doc.Has("i") {
			t.Errorf("%s: a value became markup:\n%s", lang, m.HTML())
		}
		b := doc.Find("strong")
		if len(b) != 1 || b[0].Text() != `<i>Eve</i> & "Co"` {
			t.Errorf("%s: got %d <strong>, want one with the name as text:\n%s", lang, len(b), m.HTML())
		}
	}
}
