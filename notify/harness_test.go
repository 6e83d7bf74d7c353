package notify_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"io"
	"log"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/authenticators"
	"github.com/sesame-share/sesame/notify"
	"github.com/sesame-share/sesame/store"
)

// clock is the injected time, shared by the store, the link service, the
// gateway and the worker.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2030, 3, 4, 9, 30, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set moves the clock to t (never backwards in these tests).
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// openStore opens a real SQLite store in dir on the clock. The caller's
// cleanup closes it; closing twice is harmless.
func openStore(t *testing.T, dir string, clk *clock) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.Config{DataDir: dir, Now: clk.Now, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// rawDB opens the store's database file directly, for what the API hides
// (the sealed payload).
func rawDB(t *testing.T, dir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", store.DSN(filepath.Join(dir, "sesame.db")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// payloadIsNull reports whether the outbox row's sealed body is gone.
func payloadIsNull(t *testing.T, db *sql.DB, id string) bool {
	t.Helper()
	var null bool
	if err := db.QueryRow(`SELECT payload IS NULL FROM outbox WHERE id = ?`, id).Scan(&null); err != nil {
		t.Fatalf("outbox row %s: %v", id, err)
	}
	return null
}

// newFile stores a small file and returns its id.
func newFile(t *testing.T, st *store.Store, name string) string {
	t.Helper()
	ctx := context.Background()
	u, err := st.Stage(ctx, strings.NewReader("quarterly numbers"), name, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	o, err := st.CreateFile(ctx, sesame.FileCreate{Placement: sesame.Placement{Name: name}}, u)
	if err != nil {
		t.Fatal(err)
	}
	return o.ID
}

// newFolder stores a folder at the root and returns its id.
func newFolder(t *testing.T, st *store.Store, name string) string {
	t.Helper()
	o, err := st.CreateFolder(context.Background(), sesame.FolderCreate{Placement: sesame.Placement{Name: name}})
	if err != nil {
		t.Fatal(err)
	}
	return o.ID
}

func linkService(st *store.Store, clk *clock) *sesame.LinkService {
	return &sesame.LinkService{Store: st, Hasher: authenticators.NewPassword(), Policy: sesame.DefaultLinkPolicy(), Now: clk.Now}
}

// newLink creates one link to target through the link service.
func newLink(t *testing.T, st *store.Store, clk *clock, target, title, message string) *sesame.Link {
	t.Helper()
	admin := sesame.WithToken(context.Background(), &sesame.Token{ID: "stk_harness", Scopes: []sesame.Scope{sesame.ScopeAdmin}})
	links, err := linkService(st, clk).Create(admin, []sesame.LinkCreate{{
		Targets:        []string{target},
		Authenticators: []sesame.AuthenticatorInput{{Type: sesame.AuthEmailOTP, Context: "bob@example.com"}},
		Title:          title,
		Message:        message,
	}})
	if err != nil {
		t.Fatal(err)
	}
	return links[0]
}

func newMailer(t *testing.T, st *store.Store, publicURL string) *notify.Mailer {
	t.Helper()
	m, err := notify.NewMailer(notify.MailerConfig{Links: st, PublicURL: publicURL})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// newWorker builds a worker on the clock with a fixed jitter of 1.0.
func newWorker(t *testing.T, st *store.Store, clk *clock, email, sms sesame.Notifier, smsBudget int) *notify.Worker {
	t.Helper()
	if email == nil {
		email = notify.NewLog(discardLogger())
	}
	if sms == nil {
		sms = notify.NewLog(discardLogger())
	}
	w, err := notify.NewWorker(notify.WorkerConfig{Outbox: st, Email: email, SMS: sms, SMSDailyBudget: smsBudget,
		SendTimeout: 5 * time.Second, Logger: discardLogger(), Now: clk.Now, Jitter: func() float64 { return 1.0 }})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func runOnce(t *testing.T, w *notify.Worker) int {
	t.Helper()
	n, err := w.RunOnce(context.Background())
	if err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	return n
}

// notifications lists the whole outbox, oldest first.
func notifications(t *testing.T, st *store.Store) []*sesame.Notification {
	t.Helper()
	p, err := st.FindNotifications(context.Background(), sesame.NotificationFilter{Size: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return p.Notifications
}

// only returns the one notification in the outbox.
func only(t *testing.T, st *store.Store) *sesame.Notification {
	t.Helper()
	ns := notifications(t, st)
	if len(ns) != 1 {
		t.Fatalf("got %d notifications, want 1", len(ns))
	}
	return ns[0]
}

// auditActions returns the actions of a link's audit events, oldest first.
func auditActions(t *testing.T, st *store.Store, linkID string) []string {
	t.Helper()
	p, err := st.FindAudit(context.Background(), sesame.AuditFilter{Conds: []sesame.Cond{{Field: "link_id", Op: sesame.OpEq, Values: []string{linkID}}}, Size: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range p.Events {
		out = append(out, e.Action)
	}
	return out
}

// ---- SMTP ----

// received is one message the fake SMTP server accepted.
type received struct {
	From string
	To   []string
	Data []byte
}

// fakeSMTP is a real SMTP server (emersion/go-smtp) on 127.0.0.1:0 that
// records what it is sent. It can be told to refuse every recipient.
type fakeSMTP struct {
	Host string
	Port int

	mu     sync.Mutex
	refuse *smtp.SMTPError
	rcpts  []string // every RCPT TO, accepted or not
	msgs   []received
	// drop makes the server hang up right after it has accepted a
	// message (250 to DATA), before the client's RSET and QUIT.
	drop bool
}

var (
	temporary = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
	permanent = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}
)

func newFakeSMTP(t *testing.T) *fakeSMTP {
	t.Helper()
	f := &fakeSMTP{}
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
		s.Serve(ln)
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

// Refuse makes the server answer every RCPT with e (nil: accept).
func (f *fakeSMTP) Refuse(e *smtp.SMTPError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refuse = e
}

// DropAfterAccept makes the server close the connection right after each
// accepted message.
func (f *fakeSMTP) DropAfterAccept(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.drop = on
}

func (f *fakeSMTP) Rcpts() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.rcpts...)
}

func (f *fakeSMTP) Messages() []received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]received(nil), f.msgs...)
}

// NewSession implements smtp.Backend.
func (f *fakeSMTP) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &fakeSession{f: f, conn: c}, nil
}

type fakeSession struct {
	f        *fakeSMTP
	conn     *smtp.Conn
	from     string
	to       []string
	accepted bool // Data just succeeded
}

// Reset runs on RSET and, in go-smtp, right after the reply to DATA has
// been written: the place to hang up after an accepted message.
func (s *fakeSession) Reset() {
	s.f.mu.Lock()
	drop := s.f.drop && s.accepted
	s.f.mu.Unlock()
	s.from, s.to, s.accepted = "", nil, false
	if drop {
		s.conn.Conn().Close()
	}
}
func (s *fakeSession) Logout() error { return nil }

func (s *fakeSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *fakeSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	s.f.rcpts = append(s.f.rcpts, to)
	if s.f.refuse != nil {
		return s.f.refuse
	}
	s.to = append(s.to, to)
	return nil
}

func (s *fakeSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	s.f.msgs = append(s.f.msgs, received{From: s.from, To: append([]string(nil), s.to...), Data: b})
	s.accepted = true
	return nil
}

// newSMTP points notify.SMTP at the fake, without TLS.
func newSMTP(t *testing.T, f *fakeSMTP) *notify.SMTP {
	t.Helper()
	s, err := notify.NewSMTP(notify.SMTPConfig{Host: f.Host, Port: f.Port, TLS: "none", From: "share@example.com", FromName: "Example Share",
		Timeout: 5 * time.Second, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// parsedMail is a received message, decoded.
type parsedMail struct {
	Header mail.Header
	Parts  map[string]string // media type -> decoded body
	Order  []string          // media types in order
	Type   string            // top-level media type
}

// parseMail reads a message with net/mail and its alternative parts with
// mime/multipart, decoding each part per Content-Transfer-Encoding.
func parseMail(t *testing.T, data []byte) *parsedMail {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("read message: %v\n%s", err, data)
	}
	out := &parsedMail{Header: m.Header, Parts: map[string]string{}}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type %q: %v", m.Header.Get("Content-Type"), err)
	}
	out.Type = mt
	if !strings.HasPrefix(mt, "multipart/") {
		b := decodeBody(t, m.Header.Get("Content-Transfer-Encoding"), m.Body)
		out.Parts[mt], out.Order = b, []string{mt}
		return out
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
		pt, _, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if err != nil {
			t.Fatalf("part Content-Type %q: %v", p.Header.Get("Content-Type"), err)
		}
		out.Parts[pt] = decodeBody(t, p.Header.Get("Content-Transfer-Encoding"), p)
		out.Order = append(out.Order, pt)
	}
	return out
}

func decodeBody(t *testing.T, cte string, r io.Reader) string {
	t.Helper()
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, newlineStripper{r})
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decode %s body: %v", cte, err)
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}

// newlineStripper drops CR and LF, for base64 bodies folded at 76 columns.
type newlineStripper struct{ r io.Reader }

func (n newlineStripper) Read(p []byte) (int, error) {
	for {
		k, err := n.r.Read(p)
		j := 0
		for _, c := range p[:k] {
			if c != '\r' && c != '\n' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

func decodeHeader(t *testing.T, s string) string {
	t.Helper()
	d, err := new(mime.WordDecoder).DecodeHeader(s)
	if err != nil {
		t.Fatalf("decode header %q: %v", s, err)
	}
	return d
}

// ---- Twilio ----

// twilioRequest is what the fake Twilio API was sent.
type twilioRequest struct {
	Method, Path string
	Form         url.Values
	User, Pass   string
	BasicAuth    bool
}

// fakeTwilio answers POST /2010-04-01/Accounts/{sid}/Messages.json with a
// configurable status and body.
type fakeTwilio struct {
	URL string

	mu     sync.Mutex
	status int
	body   string
	reqs   []twilioRequest
}

func newFakeTwilio(t *testing.T) *fakeTwilio {
	t.Helper()
	f := &fakeTwilio{status: http.StatusCreated, body: `{"sid":"SM123","status":"queued"}`}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		user, pass, ok := r.BasicAuth()
		f.mu.Lock()
		f.reqs = append(f.reqs, twilioRequest{Method: r.Method, Path: r.URL.Path, Form: r.PostForm, User: user, Pass: pass, BasicAuth: ok})
		status, body := f.status, f.body
		f.mu.Unlock()
		if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/2010-04-01/Accounts/") || !strings.HasSuffix(r.URL.Path, "/Messages.json") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"code":20404,"message":"The requested resource was not found","status":404}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// Answer sets the reply to every later request.
func (f *fakeTwilio) Answer(status int, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status, f.body = status, body
}

func (f *fakeTwilio) Requests() []twilioRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]twilioRequest(nil), f.reqs...)
}

const (
	testAccountSID = "AC0123456789abcdef0123456789abcdef"
	testAPIKey     = "SK0123456789abcdef0123456789abcdef"
	testAPISecret  = "s3cretAPIsecret"
	testFrom       = "+15005550006"
)

func newTwilio(t *testing.T, f *fakeTwilio) *notify.Twilio {
	t.Helper()
	tw, err := notify.NewTwilio(notify.TwilioConfig{AccountSID: testAccountSID, APIKey: testAPIKey, APISecret: testAPISecret, From: testFrom, BaseURL: f.URL})
	if err != nil {
		t.Fatal(err)
	}
	return tw
}
