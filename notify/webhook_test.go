package notify_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/internal/testrig"
	"github.com/sesame-share/sesame/notify"
	"github.com/sesame-share/sesame/store"
)

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// hookRig is a store, a receiver that verifies with the Standard Webhooks
// library, a webhook pointing at it for every event, and an outbox worker
// that delivers webhooks, all on one clock.
type hookRig struct {
	dir     string
	clk     *testrig.Clock
	st      *store.Store
	recv    *testrig.WebhookReceiver
	hook    *sesame.Webhook
	allowed []netip.Prefix
	worker  *notify.Worker
	files   int // made by event
}

func admin() context.Context {
	return sesame.WithToken(context.Background(), &sesame.Token{ID: "stk_harness", Scopes: []sesame.Scope{sesame.ScopeAdmin}})
}

// newHookRig builds the rig; the webhook reaches the receiver because
// allowed includes it.
func newHookRig(t *testing.T, allowed []netip.Prefix) *hookRig {
	t.Helper()
	r := &hookRig{dir: t.TempDir(), clk: newClock(), allowed: allowed}
	r.st = openStore(t, r.dir, r.clk)
	r.recv = testrig.NewWebhookReceiver(t, r.clk)
	svc := &sesame.WebhookService{Store: r.st, Deliveries: r.st, Policy: sesame.WebhookPolicy{AllowedNetworks: loopback}, Now: r.clk.Now}
	w, err := svc.Create(admin(), sesame.WebhookCreate{URL: r.recv.URL, Events: sesame.EventTypes})
	if err != nil {
		t.Fatal(err)
	}
	r.hook = w
	r.recv.SetSecrets(w.Secret)
	r.worker = r.newWorker(t)
	return r
}

// newWorker is an outbox worker over the rig's store, as another process
// would run it.
func (r *hookRig) newWorker(t *testing.T) *notify.Worker {
	t.Helper()
	hooks, err := notify.NewWebhooks(notify.WebhooksConfig{Store: r.st, AllowedNetworks: r.allowed, Timeout: 5 * time.Second,
		Logger: testrig.DiscardLogger(), Now: r.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	w, err := notify.NewWorker(notify.WorkerConfig{Outbox: r.st, Email: notify.NewLog(testrig.DiscardLogger()), SMS: notify.NewLog(testrig.DiscardLogger()),
		Webhooks: hooks, SendTimeout: 5 * time.Second, Logger: testrig.DiscardLogger(), Now: r.clk.Now, Jitter: func() float64 { return 1.0 }})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// event makes link.created happen and returns the link.
func (r *hookRig) event(t *testing.T) *sesame.Link {
	t.Helper()
	r.files++
	return newLink(t, r.st, r.clk, newFile(t, r.st, fmt.Sprintf("q%d.pdf", r.files)), "", "")
}

// deliveries lists every attempt, oldest first.
func (r *hookRig) deliveries(t *testing.T) []*sesame.WebhookDelivery {
	t.Helper()
	p, err := r.st.FindDeliveries(context.Background(), sesame.DeliveryFilter{Size: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return p.Deliveries
}

// A delivery is signed so that the reference library verifies it, and
// carries the event as {type, timestamp, data}; its attempt is listed.
func TestWebhooks_Signed(t *testing.T) {
	t.Parallel()
	r := newHookRig(t, loopback)
	l := r.event(t)
	if n := runOnce(t, r.worker); n != 1 {
		t.Fatalf("RunOnce tried %d, want 1", n)
	}
	got := r.recv.Next(t, 5*time.Second)
	if got.Type != "link.created" || got.Data["link_id"] != l.ID || got.EventTime != sesame.FormatTime(l.Created) || !got.Timestamp.Equal(r.clk.Now().Truncate(time.Second)) {
		t.Fatalf("received %+v", got)
	}
	ds := r.deliveries(t)
	if len(ds) != 1 || ds[0].Outcome != sesame.DeliverySuccess || ds[0].StatusCode != http.StatusNoContent || ds[0].MessageID != got.ID ||
		ds[0].WebhookID != r.hook.ID || ds[0].Attempt != 1 || ds[0].MessageStatus != sesame.OutboxSent {
		t.Fatalf("deliveries: %+v", ds)
	}
	if rej := r.recv.Rejected(); len(rej) != 0 {
		t.Fatalf("the receiver rejected %v", rej)
	}
}

// While the receiver is down, each event is retried on the outbox's
// schedule with the same webhook-id; once it is back, every event
// arrives, each once.
func TestWebhooks_ReceiverDown(t *testing.T) {
	t.Parallel()
	r := newHookRig(t, loopback)
	r.recv.SetState(testrig.ReceiverError)
	r.event(t)
	r.event(t)
	start := r.clk.Now()
	runOnce(t, r.worker)
	for _, gap := range []time.Duration{time.Minute, 5 * time.Minute} {
		r.clk.Add(gap - time.Microsecond)
		if n := runOnce(t, r.worker); n != 0 {
			t.Fatalf("tried %d a microsecond early", n)
		}
		r.clk.Add(time.Microsecond)
		if n := runOnce(t, r.worker); n != 2 {
			t.Fatalf("tried %d after %v, want 2", n, r.clk.Now().Sub(start))
		}
		r.recv.SetState(testrig.ReceiverDrop) // the next try finds no server at all
	}
	r.recv.SetState(testrig.ReceiverUp)
	r.clk.Add(30 * time.Minute)
	if n := runOnce(t, r.worker); n != 2 {
		t.Fatalf("tried %d once the receiver was back, want 2", n)
	}
	times := r.recv.Times()
	if len(times) != 2 {
		t.Fatalf("accepted %v, want two events", times)
	}
	for id, n := range times {
		if n != 1 {
			t.Errorf("webhook-id %s accepted %d times", id, n)
		}
		tries := 0
		for _, req := range r.recv.Requests() {
			if req == id {
				tries++
			}
		}
		if tries != 4 {
			t.Errorf("webhook-id %s came %d times, want 4 (three failures, then success)", id, tries)
		}
	}
	var outcomes []string
	for _, d := range r.deliveries(t) {
		outcomes = append(outcomes, d.Outcome+":"+d.Error)
	}
	answered, dropped := "failure:unavailable: the receiver answered 503", "failure:unavailable: the connection was closed before an answer"
	want := []string{answered, answered, answered, answered, dropped, dropped, "success:", "success:"}
	if diff := cmp.Diff(want, outcomes); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}
}

// A webhook that never answers is tried as long as an email would be,
// about a day, and then given up on, with no further event.
func TestWebhooks_RetrySchedule(t *testing.T) {
	t.Parallel()
	r := newHookRig(t, loopback)
	r.recv.SetState(testrig.ReceiverError)
	r.event(t)
	first := r.clk.Now()
	for try := 1; try <= notify.MaxAttempts; try++ {
		if n := runOnce(t, r.worker); n != 1 {
			t.Fatalf("try %d: tried %d", try, n)
		}
		ds := r.deliveries(t)
		last := ds[len(ds)-1]
		if try < notify.MaxAttempts {
			r.clk.Set(last.NextAttempt)
		}
	}
	if got := r.clk.Now().Sub(first); got != 23*time.Hour+36*time.Minute {
		t.Fatalf("first to last try: %v, want 23h36m", got)
	}
	ds := r.deliveries(t)
	if len(ds) != notify.MaxAttempts || ds[len(ds)-1].MessageStatus != sesame.OutboxFailed {
		t.Fatalf("after %d tries: %d attempts, last %+v", notify.MaxAttempts, len(ds), ds[len(ds)-1])
	}
	r.clk.Add(48 * time.Hour)
	if n := runOnce(t, r.worker); n != 0 {
		t.Fatalf("a failed webhook message was tried again, or its failure queued an event (%d)", n)
	}
}

// Deliveries survive a restart: what was queued, and what a worker had
// claimed when its process died, is delivered by the next process, each
// once.
func TestWebhooks_Restart(t *testing.T) {
	t.Parallel()
	r := newHookRig(t, loopback)
	for range 3 {
		r.event(t)
	}
	// A worker claims one and dies before sending it.
	if claimed, err := r.st.ClaimDue(context.Background(), r.clk.Now(), 10*time.Second, 1); err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	if err := r.st.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(r.recv.Requests()); n != 0 {
		t.Fatalf("the receiver got %d requests before the restart", n)
	}
	r.st = openStore(t, r.dir, r.clk)
	r.worker = r.newWorker(t)
	if n := runOnce(t, r.worker); n != 2 {
		t.Fatalf("after the restart tried %d, want the 2 unclaimed", n)
	}
	r.clk.Add(10 * time.Second) // the dead worker's lease runs out
	if n := runOnce(t, r.worker); n != 1 {
		t.Fatalf("after the lease tried %d, want 1", n)
	}
	times := r.recv.Times()
	if len(times) != 3 {
		t.Fatalf("accepted %v, want 3 events", times)
	}
	for id, n := range times {
		if n != 1 {
			t.Errorf("webhook-id %s accepted %d times", id, n)
		}
	}
}

// With no allowed networks, a receiver on the loopback is refused where
// the connection is made, whatever name leads there; the refusal is
// final and nothing reaches the receiver.
func TestWebhooks_RefusesPrivateAddress(t *testing.T) {
	t.Parallel()
	for _, host := range []string{"127.0.0.1", "localhost", "[::ffff:127.0.0.1]"} {
		t.Run(host, func(t *testing.T) {
			t.Parallel()
			r := newHookRig(t, nil)
			u := "http://" + host + ":" + r.recv.Port() + "/hooks/sesame"
			if _, err := r.st.UpdateWebhook(context.Background(), r.hook.ID, sesame.WebhookUpdate{URL: &u}, "", r.clk.Now()); err != nil {
				t.Fatal(err)
			}
			r.event(t)
			runOnce(t, r.worker)
			if n := len(r.recv.Requests()); n != 0 {
				t.Fatalf("the receiver got %d requests", n)
			}
			ds := r.deliveries(t)
			if len(ds) != 1 || ds[0].Outcome != sesame.DeliveryFailure || !strings.HasPrefix(ds[0].Error, "rejected: refused to connect to ") ||
				ds[0].MessageStatus != sesame.OutboxFailed {
				t.Fatalf("deliveries: %+v", ds)
			}
		})
	}
}

// A redirect is not followed: it is a failed attempt, retried later.
func TestWebhooks_NoRedirect(t *testing.T) {
	t.Parallel()
	r := newHookRig(t, loopback)
	var followed int
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { followed++ }))
	t.Cleanup(elsewhere.Close)
	redirect := httptest.NewServer(http.RedirectHandler(elsewhere.URL, http.StatusTemporaryRedirect))
	t.Cleanup(redirect.Close)
	u := redirect.URL + "/hooks"
	if _, err := r.st.UpdateWebhook(context.Background(), r.hook.ID, sesame.WebhookUpdate{URL: &u}, "", r.clk.Now()); err != nil {
		t.Fatal(err)
	}
	r.event(t)
	runOnce(t, r.worker)
	ds := r.deliveries(t)
	if followed != 0 || len(ds) != 1 || ds[0].StatusCode != http.StatusTemporaryRedirect || ds[0].MessageStatus != sesame.OutboxQueued {
		t.Fatalf("followed %d times; deliveries %+v", followed, ds)
	}
}

// After a rotation, messages are signed with the new secret and, for a
// day, the old one too: a receiver holding either verifies them.
func TestWebhooks_Rotation(t *testing.T) {
	t.Parallel()
	r := newHookRig(t, loopback)
	old := r.hook.Secret
	svc := &sesame.WebhookService{Store: r.st, Deliveries: r.st, Policy: sesame.WebhookPolicy{AllowedNetworks: loopback}, Now: r.clk.Now}
	w, err := svc.Update(admin(), r.hook.ID, sesame.WebhookUpdate{RotateSecret: true})
	if err != nil {
		t.Fatal(err)
	}
	if w.Secret == "" || w.Secret == old {
		t.Fatalf("rotation gave secret %q", w.Secret)
	}
	for _, secrets := range [][]string{{old}, {w.Secret}} {
		r.recv.SetSecrets(secrets...)
		r.event(t)
		runOnce(t, r.worker)
		r.recv.Next(t, 5*time.Second)
	}
	r.clk.Add(sesame.SecretGrace)
	r.recv.SetSecrets(old)
	r.event(t)
	runOnce(t, r.worker)
	if rej := r.recv.Rejected(); len(rej) != 1 {
		t.Fatalf("a day later the old secret verified: rejected %v", rej)
	}
}

// A message for a webhook deleted since it was queued fails at once.
func TestWebhooks_Deleted(t *testing.T) {
	t.Parallel()
	r := newHookRig(t, loopback)
	r.event(t)
	if _, err := r.st.DeleteWebhook(context.Background(), r.hook.ID); err != nil {
		t.Fatal(err)
	}
	runOnce(t, r.worker)
	ds := r.deliveries(t)
	if len(r.recv.Requests()) != 0 || len(ds) != 1 || ds[0].Error != "rejected: the webhook was deleted" || ds[0].MessageStatus != sesame.OutboxFailed {
		t.Fatalf("deliveries %+v", ds)
	}
}
