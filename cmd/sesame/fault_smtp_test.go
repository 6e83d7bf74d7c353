package main

import (
	"io"
	"log"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// faultSMTP is a real SMTP server (emersion/go-smtp) on 127.0.0.1 that
// records the messages it accepts and can be switched to refuse every
// recipient with 451 (a temporary failure, which the outbox retries).
type faultSMTP struct {
	host string
	port int

	mu      sync.Mutex
	refuse  bool
	refused []string // recipients answered 451
	msgs    []faultMail
}

// faultMail is one accepted message.
type faultMail struct {
	From string
	To   []string
	Data []byte
}

var smtpTryLater = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}

func newFaultSMTP(t *testing.T) *faultSMTP {
	t.Helper()
	f := &faultSMTP{}
	s := smtp.NewServer(f)
	s.Domain = "localhost"
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	s.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	f.host, f.port = addr.IP.String(), addr.Port
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Serve(ln)
	}()
	t.Cleanup(func() {
		s.Close()
		ln.Close() // Close misses a listener that Serve has not registered yet
		<-done
	})
	return f
}

// Refuse switches between refusing every recipient (451) and accepting.
func (f *faultSMTP) Refuse(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refuse = on
}

func (f *faultSMTP) Refused() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.refused...)
}

func (f *faultSMTP) Messages() []faultMail {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]faultMail(nil), f.msgs...)
}

// NewSession implements smtp.Backend.
func (f *faultSMTP) NewSession(*smtp.Conn) (smtp.Session, error) { return &faultSession{f: f}, nil }

type faultSession struct {
	f    *faultSMTP
	from string
	to   []string
}

func (s *faultSession) Reset()        { s.from, s.to = "", nil }
func (s *faultSession) Logout() error { return nil }

func (s *faultSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *faultSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	if s.f.refuse {
		s.f.refused = append(s.f.refused, to)
		return smtpTryLater
	}
	s.to = append(s.to, to)
	return nil
}

func (s *faultSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	s.f.msgs = append(s.f.msgs, faultMail{From: s.from, To: append([]string(nil), s.to...), Data: b})
	return nil
}
