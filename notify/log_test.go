package notify_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	texttemplate "text/template"
	"unicode/utf8"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/internal/testrig"
	"github.com/sesame-share/sesame/notify"
	"github.com/sesame-share/sesame/templates"
)

func TestLogTransport(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		msg   *sesame.Message
		wants []string
	}{
		{"sms code", &sesame.Message{Channel: sesame.ChannelSMS, To: "+14155550123", Text: "483920 is your sesame code. It expires in 10 min.", Kind: "code"},
			[]string{"483920", "+14155550123", "sms", "code"}},
		{"email link", &sesame.Message{Channel: sesame.ChannelEmail, To: "bob@example.com", Subject: "Quarterly report",
			Text: "Open it here:\nhttps://share.example.com/s/abc123", Kind: "link"},
			[]string{"bob@example.com", "Quarterly report", "https://share.example.com/s/abc123"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf testrig.Buffer
			l := notify.NewLog(slog.New(slog.NewTextHandler(&buf, nil)))
			id, err := l.Notify(context.Background(), tt.msg)
			if err != nil {
				t.Fatalf("Notify: %v", err)
			}
			if !strings.HasPrefix(id, "log_") {
				t.Errorf("got id %q, want log_…", id)
			}
			out := buf.String()
			for _, want := range tt.wants {
				if !strings.Contains(out, want) {
					t.Errorf("the log lacks %q:\n%s", want, out)
				}
			}
			if !strings.Contains(out, id) {
				t.Errorf("the log lacks the id %s:\n%s", id, out)
			}
		})
	}
}

// The log transport also works through the worker: the code reaches the
// log and the message is marked sent.
func TestLogTransportThroughWorker(t *testing.T) {
	t.Parallel()
	clk := newClock()
	st := openStore(t, t.TempDir(), clk)
	var buf testrig.Buffer
	logT := notify.NewLog(slog.New(slog.NewJSONHandler(&buf, nil)))
	w := newWorker(t, st, clk, logT, logT, 5)
	if err := st.Enqueue(context.Background(), &sesame.Message{Channel: sesame.ChannelSMS, To: "+14155550123", Text: "771204 is your sesame code.", Kind: "code"}); err != nil {
		t.Fatal(err)
	}
	if n := runOnce(t, w); n != 1 {
		t.Fatalf("RunOnce tried %d, want 1", n)
	}
	if !strings.Contains(buf.String(), "771204") {
		t.Fatalf("the log lacks the code:\n%s", buf.String())
	}
	if n := only(t, st); n.Status != sesame.OutboxSent || !strings.HasPrefix(n.ProviderID, "log_") {
		t.Fatalf("got %s %q, want sent with a log_ id", n.Status, n.ProviderID)
	}
}

// gsm7Basic is the GSM 03.38 default alphabet (without the escape to the
// extension table): text made only of these runs 7 bits a character, 160
// to one SMS.
const gsm7Basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

// gsm7 reports the first rune outside the basic GSM-7 set, if any.
func gsm7(s string) (rune, bool) {
	for _, r := range s {
		if !strings.ContainsRune(gsm7Basic, r) {
			return r, false
		}
	}
	return 0, true
}

func TestGSM7Alphabet(t *testing.T) {
	t.Parallel()
	if n := utf8.RuneCountInString(gsm7Basic); n != 127 {
		t.Fatalf("the basic set has %d characters, want 127 (128 less the escape)", n)
	}
	for _, tt := range []struct {
		s    string
		want bool
	}{
		{"123456 is your code", true},
		{"Ça coûte 5€", false}, // û and € are not in the basic set
		{"naïve", false},
		{"tab\there", false},
		{"[brackets]", false}, // extension table: two septets each
		{"Zürich Øresund", true},
	} {
		if _, ok := gsm7(tt.s); ok != tt.want {
			t.Errorf("gsm7(%q): got %v, want %v", tt.s, ok, tt.want)
		}
	}
}

// The code SMS fits one GSM-7 segment in every language.
func TestCodeSMSTemplateFitsOneSegment(t *testing.T) {
	t.Parallel()
	for _, l := range templates.Locales() {
		tpl, err := texttemplate.New("code_sms.txt").Funcs(templates.TextFuncs(l)).ParseFS(templates.FS, "messages/code_sms.txt")
		if err != nil {
			t.Fatal(err)
		}
		for _, code := range []string{"000000", "483920", "999999"} {
			var b bytes.Buffer
			if err := tpl.Execute(&b, struct {
				Code, Title, Host string
				Brand             struct{ Product string }
				Minutes           int
			}{code, "Quarterly report", "share.example.com", struct{ Product string }{"sesame"}, 10}); err != nil {
				t.Fatalf("%s: render: %v", l.Code(), err)
			}
			s := b.String()
			if !strings.Contains(s, code) || !strings.Contains(s, "sesame") || !strings.Contains(s, "10") {
				t.Errorf("%s: got %q, want the code, the product and the minutes", l.Code(), s)
			}
			if r, ok := gsm7(s); !ok {
				t.Errorf("%s: %q: %q is not in the GSM-7 basic set", l.Code(), s, r)
			}
			if n := utf8.RuneCountInString(s); n > 160 {
				t.Errorf("%s: %q: %d characters, want at most 160", l.Code(), s, n)
			}
		}
	}
}
