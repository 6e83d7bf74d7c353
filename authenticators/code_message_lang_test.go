package authenticators_test

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/authenticators"
	"github.com/sesame-share/sesame/internal/testrig"
)

// A code email speaks the language of the page that asked for it
// (sesame.WithLanguage), else the configured one, else English; the
// language is kept with the queued message.
func TestEmailOTP_Language(t *testing.T) {
	t.Parallel()
	const nb = "\u00a0"
	for _, tt := range []struct {
		name, page, configured string
		kept, html, subject    string
		text                   []string
	}{
		{"French page", "fr", "", "fr", "fr", "Votre code pour «" + nb + "Q3 board pack" + nb + "»", []string{
			"Votre code pour ouvrir «" + nb + "Q3 board pack" + nb + "»" + nb + ":\n",
			"Saisissez-le sur la page où vous l’avez demandé. Il n’est valable qu’une fois et expire dans 10 minutes.",
			"Si vous n’avez pas demandé ce code, ignorez cet e-mail" + nb + ": personne ne peut ouvrir le lien sans lui.",
			"\n-- \nEnvoyé par sesame.\n"}},
		{"German page, Spanish server", "de-CH", "es", "de-CH", "de", "Ihr Code für „Q3 board pack“", []string{
			"Er gilt nur einmal und läuft in 10 Minuten ab.", "Gesendet von sesame."}},
		{"Japanese page: the server's language", "ja", "es", "ja", "es", "Su código para «Q3 board pack»", []string{
			"Solo sirve una vez y caduca en 10 minutos.", "Enviado por sesame."}},
		{"no page language", "", "es", "es", "es", "Su código para «Q3 board pack»", []string{"Introdúzcalo en la página donde lo solicitó."}},
		{"nothing: English", "", "", "en", "en", "Your code for “Q3 board pack”", []string{"It works once and expires in 10 minutes."}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newCodeRig(t)
			ctx := context.Background()
			if tt.page != "" {
				ctx = sesame.WithLanguage(ctx, tt.page)
			}
			r.beginIn(t, ctx, sesame.ChannelEmail, authenticators.OTPConfig{Language: tt.configured}, func(m *sesame.Message) {
				if m.Language != tt.kept {
					t.Errorf("kept language: got %q, want %q", m.Language, tt.kept)
				}
			})
			msgs := r.smtp.Messages()
			if len(msgs) != 1 {
				t.Fatalf("got %d emails, want 1", len(msgs))
			}
			m := testrig.ParseMail(t, msgs[0].Data)
			if got := m.Subject(t); got != tt.subject {
				t.Errorf("Subject: got %q, want %q", got, tt.subject)
			}
			code := testrig.CodeIn(t, m.Text())
			if !strings.Contains(m.Text(), "\n"+code+"\n") {
				t.Errorf("the code is not alone on a line:\n%s", m.Text())
			}
			for _, want := range tt.text {
				if !strings.Contains(m.Text(), want) {
					t.Errorf("text part lacks %q:\n%s", want, m.Text())
				}
			}
			if !strings.Contains(m.HTML(), `<html lang="`+tt.html+`">`) {
				t.Errorf("the HTML part is not marked %s", tt.html)
			}
		})
	}
}

// The code SMS speaks the page's language, stays one segment and keeps
// the WebOTP line, exactly, last.
func TestSMSOTP_Language(t *testing.T) {
	t.Parallel()
	r := newCodeRig(t)
	for _, tt := range []struct{ page, start string }{
		{"de", " ist Ihr sesame-Code. Er ist 10 Min. gültig. Geben Sie ihn nicht weiter.\n\n"},
		{"fr", " est votre code sesame. Il expire dans 10 min. Ne le partagez pas.\n\n"},
		{"es", " es su clave de sesame. Caduca en 10 min. No la comparta.\n\n"},
		{"en", " is your sesame code. It expires in 10 min. Do not share it.\n\n"},
	} {
		r.beginIn(t, sesame.WithLanguage(context.Background(), tt.page), sesame.ChannelSMS,
			authenticators.OTPConfig{PublicURL: "https://share.example.com"}, nil)
		reqs := r.twilio.Requests()
		body := reqs[len(reqs)-1].Form.Get("Body")
		code := testrig.CodeIn(t, body)
		if want := code + tt.start + "@share.example.com #" + code; body != want {
			t.Errorf("%s: got %q, want %q", tt.page, body, want)
		}
		if n := utf8.RuneCountInString(body); n > 160 {
			t.Errorf("%s: %d characters, want one SMS (160)", tt.page, n)
		}
	}
}
