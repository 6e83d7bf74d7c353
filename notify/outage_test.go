package notify_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/internal/testrig"
	"github.com/sesame-share/sesame/store"
)

// api is a real gateway over a store, behind httptest, wired as
// cmd/sesame/run.go wires serve.
type api struct{ *testrig.Env }

func newAPI(t *testing.T, st *store.Store, clk *testrig.Clock, wake func()) *api {
	t.Helper()
	return &api{testrig.NewEnv(t, testrig.WithStore(st), testrig.WithClock(clk), testrig.WithWake(wake))}
}

// post sends body as JSON with the admin token and decodes the envelope's
// result into out. It fails the test unless the answer is 200 Success, and
// returns the raw response.
func (a *api) post(path string, body, out any) []byte {
	a.T.Helper()
	r := a.API.Post(a.T, path, body)
	r.MustOK(a.T)
	if out != nil {
		r.Into(a.T, out)
	}
	return r.Raw
}

type notificationView struct {
	ID          string `json:"id"`
	Channel     string `json:"channel"`
	Recipient   string `json:"recipient"`
	Status      string `json:"status"`
	Attempts    int    `json:"attempts"`
	LastError   string `json:"last_error"`
	ProviderID  string `json:"provider_id"`
	LinkID      string `json:"link_id"`
	NextAttempt string `json:"next_attempt_at"`
	SentAt      string `json:"sent_at"`
}

func (a *api) notifications(linkID string) []notificationView {
	a.T.Helper()
	var res struct {
		Count         int                `json:"count"`
		Notifications []notificationView `json:"notifications"`
	}
	a.post("/v1/notifications/list", map[string]any{"filter": map[string]any{"link_id": linkID}}, &res)
	if res.Count != len(res.Notifications) {
		a.T.Fatalf("notifications: count %d but %d listed", res.Count, len(res.Notifications))
	}
	return res.Notifications
}

// An SMTP outage delays mail but loses none, across a restart, and never
// sends it twice.
func TestOutageRetryAcrossRestart(t *testing.T) {
	t.Parallel()
	clk := newClock()
	dir := t.TempDir()
	fake := testrig.NewSMTPServer(t)
	fake.Refuse(testrig.SMTPTryLater)

	// First run: the API queues, the worker meets the outage.
	st := openStore(t, dir, clk)
	l := newLink(t, st, clk, newFile(t, st, "q3.pdf"), "Quarterly report", "Figures attached.")
	w := newWorker(t, st, clk, newSMTP(t, fake), nil, 0)
	a := newAPI(t, st, clk, w.Wake)

	start := time.Now()
	a.post("/v1/share/link/send", map[string]any{"links": []any{map[string]any{"id": l.ID, "email": "bob@example.com"}},
		"sender_email": "alice@example.com", "sender_name": "Alice"}, nil)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("link/send took %v; it should only queue", d)
	}
	if got := len(fake.Rcpts()); got != 0 {
		t.Fatalf("got %d RCPT before the worker ran, want 0 (link/send must only queue)", got)
	}
	if n := runOnce(t, w); n != 1 {
		t.Fatalf("RunOnce tried %d, want 1", n)
	}
	ns := a.notifications(l.ID)
	if len(ns) != 1 {
		t.Fatalf("got %d notifications, want 1", len(ns))
	}
	n := ns[0]
	if n.Status != sesame.OutboxQueued || n.Attempts != 1 || n.LastError == "" || n.Recipient != "b•••@example.com" || n.Channel != "email" {
		t.Fatalf("after the outage: got %+v, want queued, 1 attempt, an error, recipient b•••@example.com", n)
	}
	// The listing names a category; the SMTP server's words stay in the log.
	if n.LastError != sesame.FailureUnavailable {
		t.Errorf("last_error %q, want the category %q", n.LastError, sesame.FailureUnavailable)
	}
	next, err := sesame.ParseTime(n.NextAttempt)
	if err != nil {
		t.Fatalf("next_attempt_at %q: %v", n.NextAttempt, err)
	}
	if !next.After(clk.Now()) {
		t.Fatalf("next_attempt_at %v is not after now %v", next, clk.Now())
	}
	if got := len(fake.Messages()); got != 0 {
		t.Fatalf("the fake accepted %d messages during the outage, want 0", got)
	}
	// Nothing is due before next_attempt_at.
	if n := runOnce(t, w); n != 0 {
		t.Fatalf("RunOnce before next_attempt_at tried %d, want 0", n)
	}

	// Restart: the server and the store go away, then come back.
	a.Server.Close()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = openStore(t, dir, clk)
	w = newWorker(t, st, clk, newSMTP(t, fake), nil, 0)
	fake.Refuse(nil)
	clk.Set(next.Add(time.Second))
	if n := runOnce(t, w); n != 1 {
		t.Fatalf("RunOnce after the restart tried %d, want 1", n)
	}
	msgs := fake.Messages()
	if len(msgs) != 1 {
		t.Fatalf("the fake received %d messages, want 1", len(msgs))
	}
	if diff := cmp.Diff([]string{"bob@example.com"}, msgs[0].To); diff != "" {
		t.Errorf("recipients (-want +got):\n%s", diff)
	}
	pm := testrig.ParseMail(t, msgs[0].Data)
	if !strings.Contains(pm.Parts["text/plain"], l.Token) {
		t.Errorf("the delivered text lacks the link:\n%s", pm.Parts["text/plain"])
	}
	// Again, and a day later: still exactly one.
	if n := runOnce(t, w); n != 0 {
		t.Fatalf("a second RunOnce tried %d, want 0", n)
	}
	clk.Add(24 * time.Hour)
	if n := runOnce(t, w); n != 0 {
		t.Fatalf("RunOnce a day later tried %d, want 0", n)
	}
	if got := len(fake.Messages()); got != 1 {
		t.Fatalf("the fake received %d messages, want exactly 1", got)
	}

	// The outbox and the API agree: sent on the second try.
	got := only(t, st)
	if got.Status != sesame.OutboxSent || got.Attempts != 2 || got.ProviderID != pm.Header.Get("Message-ID") || got.LastError != "" {
		t.Errorf("outbox row: got %s, %d attempts, provider %q, error %q; want sent, 2, %q, \"\"", got.Status, got.Attempts, got.ProviderID, got.LastError, pm.Header.Get("Message-ID"))
	}
	if !payloadIsNull(t, testrig.OpenDB(t, dir), got.ID) {
		t.Errorf("the sealed payload is still in the outbox after sending")
	}
	a = newAPI(t, st, clk, w.Wake)
	if ns := a.notifications(l.ID); len(ns) != 1 || ns[0].Status != sesame.OutboxSent || ns[0].Attempts != 2 || ns[0].SentAt == "" || ns[0].NextAttempt != "" {
		t.Errorf("listing after delivery: got %+v, want one sent after 2 attempts", ns)
	}

	// The audit trail shows the retry, then the delivery.
	acts := auditActions(t, st, l.ID)
	ri, si := slices.Index(acts, "notify.retry"), slices.Index(acts, "notify.sent")
	if ri < 0 || si < 0 || ri > si {
		t.Fatalf("audit actions %v: want notify.retry then notify.sent", acts)
	}
	var notifyActs []string
	for _, a := range acts {
		if strings.HasPrefix(a, "notify.") {
			notifyActs = append(notifyActs, a)
		}
	}
	if diff := cmp.Diff([]string{"notify.retry", "notify.sent"}, notifyActs); diff != "" {
		t.Errorf("notify audit events (-want +got):\n%s", diff)
	}
}

// A worker that dies between claiming and recording leaves the message
// leased; after a restart it is delivered once the lease runs out.
func TestCrashMidSendIsDeliveredAfterLease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newClock()
	dir := t.TempDir()
	fake := testrig.NewSMTPServer(t)
	st := openStore(t, dir, clk)
	if err := st.Enqueue(ctx, &sesame.Message{Channel: sesame.ChannelEmail, To: "carol@example.com", Subject: "Hi", Text: "hello", Kind: "link"}); err != nil {
		t.Fatal(err)
	}
	// The "crashed" worker claimed it with a one-minute lease and vanished.
	claimed, err := st.ClaimDue(ctx, clk.Now(), time.Minute, 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %d, %v", len(claimed), err)
	}
	st.Close()

	st = openStore(t, dir, clk)
	w := newWorker(t, st, clk, newSMTP(t, fake), nil, 0)
	if n := runOnce(t, w); n != 0 {
		t.Fatalf("RunOnce inside the lease tried %d, want 0", n)
	}
	clk.Add(time.Minute)
	if n := runOnce(t, w); n != 1 {
		t.Fatalf("RunOnce after the lease tried %d, want 1", n)
	}
	if got := len(fake.Messages()); got != 1 {
		t.Fatalf("got %d messages, want 1", got)
	}
	if n := only(t, st); n.Status != sesame.OutboxSent || n.Attempts != 2 {
		t.Fatalf("outbox row: got %s after %d attempts, want sent after 2", n.Status, n.Attempts)
	}
}

// A failed try records why, but the record must not undo the masking of
// the recipient: /v1/notifications/list shows b•••@example.com, so its
// last_error, and the audit trail, must not spell the address out.
func TestDeliveryErrorsDoNotRevealRecipient(t *testing.T) {
	t.Parallel()
	t.Run("smtp", func(t *testing.T) {
		t.Parallel()
		clk := newClock()
		st := openStore(t, t.TempDir(), clk)
		fake := testrig.NewSMTPServer(t)
		fake.Refuse(testrig.SMTPTryLater)
		l := newLink(t, st, clk, newFile(t, st, "q3.pdf"), "Quarterly report", "")
		w := newWorker(t, st, clk, newSMTP(t, fake), nil, 0)
		a := newAPI(t, st, clk, w.Wake)
		a.post("/v1/share/link/send", map[string]any{"links": []any{map[string]any{"id": l.ID, "email": "bob@example.com"}},
			"sender_email": "alice@example.com"}, nil)
		runOnce(t, w)
		raw := a.post("/v1/notifications/list", map[string]any{"filter": map[string]any{"link_id": l.ID}}, nil)
		if strings.Contains(string(raw), "bob@example.com") {
			t.Errorf("the notification listing reveals the recipient: %s", raw)
		}
		checkAuditMasked(t, st, l.ID, "bob@example.com")
	})
	t.Run("twilio", func(t *testing.T) {
		t.Parallel()
		clk := newClock()
		st := openStore(t, t.TempDir(), clk)
		tw := testrig.NewTwilioServer(t)
		// Twilio's own wording names the number.
		tw.Answer(http.StatusBadRequest, `{"code":21211,"message":"The 'To' number +14155550123 is not a valid phone number.","status":400}`)
		w := newWorker(t, st, clk, nil, newTwilio(t, tw), 10)
		m := smsMessage()
		m.LinkID = "psl_" + strings.Repeat("a", 32)
		if err := st.Enqueue(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		runOnce(t, w)
		a := newAPI(t, st, clk, w.Wake)
		raw := a.post("/v1/notifications/list", map[string]any{}, nil)
		if strings.Contains(string(raw), "+14155550123") {
			t.Errorf("the notification listing reveals the number: %s", raw)
		}
		checkAuditMasked(t, st, m.LinkID, "+14155550123")
	})
}

func checkAuditMasked(t *testing.T, st *store.Store, linkID, secret string) {
	t.Helper()
	p, err := st.FindAudit(context.Background(), sesame.AuditFilter{Conds: []sesame.Cond{{Field: "link_id", Op: sesame.OpEq, Values: []string{linkID}}}, Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	seen := false
	for _, e := range p.Events {
		if !strings.HasPrefix(e.Action, "notify.") {
			continue
		}
		seen = true
		for k, v := range e.Detail {
			if strings.Contains(v, secret) {
				t.Errorf("audit %s detail %s reveals the recipient: %q", e.Action, k, v)
			}
		}
	}
	if !seen {
		t.Errorf("no notify.* audit event for %s", linkID)
	}
}
