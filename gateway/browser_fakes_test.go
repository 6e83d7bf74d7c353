package gateway_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// The fakes of the browser tests stand at the process boundaries, as
// STYLE §12 asks: a real SMTP server and a server that answers like the
// Twilio API. Both record what they get and signal each arrival, so a test
// waits on a channel instead of sleeping.

// mailSink is a real SMTP server (emersion/go-smtp) on 127.0.0.1:0.
type mailSink struct {
	Host string
	Port int

	arrived chan struct{} // one value per message, buffered

	mu   sync.Mutex // guards msgs
	msgs [][]byte
}

func newMailSink(t *testing.T) *mailSink {
	t.Helper()
	m := &mailSink{arrived: make(chan struct{}, 64)}
	s := smtp.NewServer(m)
	s.Domain = "localhost"
	s.AllowInsecureAuth = true
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	s.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	m.Host, m.Port = addr.IP.String(), addr.Port
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Serve(ln) // returns when Close is called
	}()
	t.Cleanup(func() {
		s.Close()
		<-done
	})
	return m
}

// NewSession implements smtp.Backend.
func (m *mailSink) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailSession{m: m}, nil }

type mailSession struct{ m *mailSink }

func (s *mailSession) Reset()                               {}
func (s *mailSession) Logout() error                        { return nil }
func (s *mailSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *mailSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.m.mu.Lock()
	s.m.msgs = append(s.m.msgs, b)
	s.m.mu.Unlock()
	s.m.arrived <- struct{}{}
	return nil
}

// next waits for the next message, at most d.
func (m *mailSink) next(t *testing.T, d time.Duration) []byte {
	t.Helper()
	select {
	case <-m.arrived:
	case <-time.After(d):
		t.Fatalf("no email arrived at the SMTP server within %s", d)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.msgs[len(m.msgs)-1]
}

// smsSink answers POST /2010-04-01/Accounts/{sid}/Messages.json the way
// Twilio does, and records each form Body.
type smsSink struct {
	URL string

	arrived chan struct{}

	mu     sync.Mutex // guards bodies
	bodies []string
	to     []string
}

func newSMSSink(t *testing.T) *smsSink {
	t.Helper()
	f := &smsSink{arrived: make(chan struct{}, 64)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/2010-04-01/Accounts/") || !strings.HasSuffix(r.URL.Path, "/Messages.json") {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"code":20404,"message":"The requested resource was not found","status":404}`)
			return
		}
		if err := r.ParseForm(); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"code":21000,"message":"bad form","status":400}`)
			return
		}
		f.mu.Lock()
		f.bodies = append(f.bodies, r.PostForm.Get("Body"))
		f.to = append(f.to, r.PostForm.Get("To"))
		f.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"sid":"SM0123456789abcdef0123456789abcdef","status":"queued"}`)
		f.arrived <- struct{}{}
	}))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// next waits for the next SMS, at most d, and returns its body and number.
func (f *smsSink) next(t *testing.T, d time.Duration) (body, to string) {
	t.Helper()
	select {
	case <-f.arrived:
	case <-time.After(d):
		t.Fatalf("no SMS reached the Twilio fake within %s", d)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bodies[len(f.bodies)-1], f.to[len(f.to)-1]
}

// mailText returns the decoded text/plain body of a message, whether it is
// a single part or multipart/alternative, quoted-printable or base64.
func mailText(t *testing.T, raw []byte) (to, text string) {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("read message: %v\n%s", err, raw)
	}
	to = m.Header.Get("To")
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type %q: %v", m.Header.Get("Content-Type"), err)
	}
	if !strings.HasPrefix(mt, "multipart/") {
		return to, decodePart(t, m.Header.Get("Content-Transfer-Encoding"), m.Body)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("next part: %v", err)
		}
		if pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); pt == "text/plain" {
			return to, decodePart(t, p.Header.Get("Content-Transfer-Encoding"), p)
		}
	}
	t.Fatalf("the message has no text/plain part:\n%s", raw)
	return "", ""
}

func decodePart(t *testing.T, cte string, r io.Reader) string {
	t.Helper()
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		clean := strings.NewReplacer("\r", "", "\n", "").Replace(string(b))
		d, err := base64.StdEncoding.DecodeString(clean)
		if err != nil {
			t.Fatalf("base64 body: %v", err)
		}
		return string(d)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decode %s body: %v", cte, err)
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}

var sixDigits = regexp.MustCompile(`\b(\d{6})\b`)

// codeIn finds the one 6-digit code in a message text.
func codeIn(t *testing.T, text string) string {
	t.Helper()
	m := sixDigits.FindAllString(text, -1)
	if len(m) == 0 {
		t.Fatalf("no 6-digit code in %q", text)
	}
	for _, c := range m[1:] {
		if c != m[0] {
			t.Fatalf("several different codes in %q", text)
		}
	}
	return m[0]
}
