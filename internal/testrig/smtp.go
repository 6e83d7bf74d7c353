package testrig

import (
	"io"
	"log"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Refusals a test can make the SMTP server answer every recipient with.
var (
	// SMTPTryLater is a temporary failure, which the outbox retries.
	SMTPTryLater = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
	// SMTPNoSuchUser is a permanent failure.
	SMTPNoSuchUser = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}
)

// SMTPMessage is one message the SMTP server accepted.
type SMTPMessage struct {
	From string
	To   []string
	Data []byte
}

// SMTPServer is a real SMTP server (emersion/go-smtp) on 127.0.0.1:0 that
// records what it is sent. It can refuse every recipient, hang up after
// accepting a message, and tell a test when the next message arrives.
type SMTPServer struct {
	Host string
	Port int

	msgs arrivals[SMTPMessage] // accepted messages

	mu      sync.Mutex // guards the fields below
	refuse  *smtp.SMTPError
	drop    bool     // hang up right after each accepted message
	rcpts   []string // every RCPT TO, accepted or not
	refused []string // the recipients answered with refuse
}

// NewSMTPServer starts a server that the test's cleanup stops.
func NewSMTPServer(t testing.TB) *SMTPServer {
	t.Helper()
	f := &SMTPServer{}
	s := smtp.NewServer(f)
	s.Domain = "localhost"
	s.AllowInsecureAuth = true
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	s.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	f.Host, f.Port = addr.IP.String(), addr.Port
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Serve(ln) // returns once Close is called; its error says only that
	}()
	t.Cleanup(func() {
		s.Close()
		// Close misses a listener that Serve has not registered yet, so
		// close it here as well.
		ln.Close()
		<-done
	})
	return f
}

// Addr is host:port.
func (f *SMTPServer) Addr() string { return net.JoinHostPort(f.Host, strconv.Itoa(f.Port)) }

// Refuse makes the server answer every RCPT with e (nil: accept).
func (f *SMTPServer) Refuse(e *smtp.SMTPError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refuse = e
}

// DropAfterAccept makes the server close the connection right after each
// accepted message (250 to DATA), before the client's RSET and QUIT.
func (f *SMTPServer) DropAfterAccept(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.drop = on
}

// Rcpts returns every RCPT TO so far, accepted or refused.
func (f *SMTPServer) Rcpts() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.rcpts...)
}

// Refused returns the recipients that were refused.
func (f *SMTPServer) Refused() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.refused...)
}

// Messages returns the accepted messages, oldest first.
func (f *SMTPServer) Messages() []SMTPMessage { return f.msgs.all() }

// Next waits at most d for the message after the one it last returned (the
// first message on the first call), and fails the test if none comes.
func (f *SMTPServer) Next(t testing.TB, d time.Duration) SMTPMessage {
	t.Helper()
	return f.msgs.wait(t, d, "email at the SMTP server")
}

// NewSession implements smtp.Backend.
func (f *SMTPServer) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &smtpSession{f: f, conn: c}, nil
}

type smtpSession struct {
	f        *SMTPServer
	conn     *smtp.Conn
	from     string
	to       []string
	accepted bool // Data just succeeded
}

// Reset runs on RSET and, in go-smtp, right after the reply to DATA has
// been written: the place to hang up after an accepted message.
func (s *smtpSession) Reset() {
	s.f.mu.Lock()
	drop := s.f.drop && s.accepted
	s.f.mu.Unlock()
	s.from, s.to, s.accepted = "", nil, false
	if drop {
		s.conn.Conn().Close()
	}
}

func (s *smtpSession) Logout() error { return nil }

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	s.f.rcpts = append(s.f.rcpts, to)
	if s.f.refuse != nil {
		s.f.refused = append(s.f.refused, to)
		return s.f.refuse
	}
	s.to = append(s.to, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.f.msgs.add(SMTPMessage{From: s.from, To: append([]string(nil), s.to...), Data: b})
	s.accepted = true
	return nil
}
