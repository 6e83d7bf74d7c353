package notify_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/authenticators"
	"github.com/sesame-share/sesame/internal/testrig"
	"github.com/sesame-share/sesame/notify"
	"github.com/sesame-share/sesame/store"
)

// newClock is the injected time, shared by the store, the link service,
// the gateway and the worker.
func newClock() *testrig.Clock { return testrig.NewClock(time.Date(2030, 3, 4, 9, 30, 0, 0, time.UTC)) }

// openStore opens a real SQLite store in dir on the clock. The caller's
// cleanup closes it; closing twice is harmless.
func openStore(t *testing.T, dir string, clk *testrig.Clock) *store.Store {
	t.Helper()
	return testrig.OpenStore(t, dir, clk, nil)
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

func linkService(st *store.Store, clk *testrig.Clock) *sesame.LinkService {
	return &sesame.LinkService{Store: st, Hasher: authenticators.NewPassword(), Policy: sesame.DefaultLinkPolicy(), Now: clk.Now}
}

// newLink creates one link to target through the link service.
func newLink(t *testing.T, st *store.Store, clk *testrig.Clock, target, title, message string) *sesame.Link {
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
	m, err := notify.NewMailer(notify.MailerConfig{Links: st, Objects: st, PublicURL: publicURL})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// newWorker builds a worker on the clock with a fixed jitter of 1.0.
func newWorker(t *testing.T, st *store.Store, clk *testrig.Clock, email, sms sesame.Notifier, smsBudget int) *notify.Worker {
	t.Helper()
	if email == nil {
		email = notify.NewLog(testrig.DiscardLogger())
	}
	if sms == nil {
		sms = notify.NewLog(testrig.DiscardLogger())
	}
	w, err := notify.NewWorker(notify.WorkerConfig{Outbox: st, Email: email, SMS: sms, SMSDailyBudget: smsBudget,
		SendTimeout: 5 * time.Second, Logger: testrig.DiscardLogger(), Now: clk.Now, Jitter: func() float64 { return 1.0 }})
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

// newSMTP points notify.SMTP at the fake, without TLS.
func newSMTP(t *testing.T, f *testrig.SMTPServer) *notify.SMTP {
	t.Helper()
	cfg := f.Config()
	cfg.FromName, cfg.Timeout = "Example Share", 5*time.Second
	s, err := notify.NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const (
	testAccountSID = testrig.TwilioAccountSID
	testAPIKey     = testrig.TwilioAPIKey
	testAPISecret  = testrig.TwilioAPISecret
	testFrom       = testrig.TwilioFrom
)

func newTwilio(t *testing.T, f *testrig.TwilioServer) *notify.Twilio {
	t.Helper()
	tw, err := notify.NewTwilio(f.Config())
	if err != nil {
		t.Fatal(err)
	}
	return tw
}
