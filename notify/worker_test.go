package notify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/internal/testrig"
	"github.com/sesame-share/sesame/notify"
)

// With a jitter of 1.0, eight temporary failures space the tries by the
// documented schedule and the eighth gives up: about 23.6 hours in all.
func TestRetrySchedule(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newClock()
	dir := t.TempDir()
	st := openStore(t, dir, clk)
	fake := testrig.NewSMTPServer(t)
	fake.Refuse(testrig.SMTPTryLater)
	w := newWorker(t, st, clk, newSMTP(t, fake), nil, 0)
	if err := st.Enqueue(ctx, &sesame.Message{Channel: sesame.ChannelEmail, To: "carol@example.com", Subject: "Hi", Text: "hello", Kind: "link"}); err != nil {
		t.Fatal(err)
	}
	first := clk.Now()
	var gaps []time.Duration
	for try := 1; try <= notify.MaxAttempts; try++ {
		if n := runOnce(t, w); n != 1 {
			t.Fatalf("try %d: RunOnce tried %d, want 1", try, n)
		}
		n := only(t, st)
		if n.Attempts != try {
			t.Fatalf("try %d: got %d attempts, want %d", try, n.Attempts, try)
		}
		if try == notify.MaxAttempts {
			if n.Status != sesame.OutboxFailed || n.LastError == "" {
				t.Fatalf("try %d: got status %s error %q, want failed with an error", try, n.Status, n.LastError)
			}
			break
		}
		if n.Status != sesame.OutboxQueued || n.LastError == "" {
			t.Fatalf("try %d: got status %s error %q, want queued with an error", try, n.Status, n.LastError)
		}
		gaps = append(gaps, n.NextAttempt.Sub(clk.Now()))
		// Nothing happens a microsecond early.
		clk.Set(n.NextAttempt.Add(-time.Microsecond))
		if n := runOnce(t, w); n != 0 {
			t.Fatalf("try %d: RunOnce before next_attempt_at tried %d, want 0", try, n)
		}
		clk.Set(n.NextAttempt)
	}
	want := []time.Duration{time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 4 * time.Hour, 7 * time.Hour, 10 * time.Hour}
	if diff := cmp.Diff(want, gaps); diff != "" {
		t.Fatalf("gaps between tries (-want +got):\n%s", diff)
	}
	total := clk.Now().Sub(first)
	if total != 23*time.Hour+36*time.Minute {
		t.Fatalf("first to last try: got %v, want 23h36m (about 23.6 h)", total)
	}
	if got := len(fake.Rcpts()); got != notify.MaxAttempts {
		t.Fatalf("got %d RCPT attempts, want %d", got, notify.MaxAttempts)
	}
	// Failed is final.
	fake.Refuse(nil)
	clk.Add(48 * time.Hour)
	if n := runOnce(t, w); n != 0 {
		t.Fatalf("RunOnce after failing tried %d, want 0", n)
	}
	if !payloadIsNull(t, testrig.OpenDB(t, dir), only(t, st).ID) {
		t.Errorf("the sealed payload is still in the outbox after failing")
	}
}

// The default jitter keeps each gap within ±20% of the schedule.
func TestRetryJitterBounds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newClock()
	st := openStore(t, t.TempDir(), clk)
	fake := testrig.NewSMTPServer(t)
	fake.Refuse(testrig.SMTPTryLater)
	w, err := notify.NewWorker(notify.WorkerConfig{Outbox: st, Email: newSMTP(t, fake), SMS: notify.NewLog(testrig.DiscardLogger()),
		SendTimeout: 5 * time.Second, Logger: testrig.DiscardLogger(), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		if err := st.Enqueue(ctx, &sesame.Message{Channel: sesame.ChannelEmail, To: "carol@example.com", Subject: "Hi", Text: "hello"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := runOnce(t, w); n != 20 {
		t.Fatalf("RunOnce tried %d, want 20", n)
	}
	for _, n := range notifications(t, st) {
		gap := n.NextAttempt.Sub(clk.Now())
		if gap < 48*time.Second || gap >= 72*time.Second {
			t.Errorf("first gap %v is outside [48s, 72s)", gap)
		}
	}
}

// Past the daily SMS budget, SMS fail instead of being sent.
func TestSMSDailyBudget(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newClock()
	st := openStore(t, t.TempDir(), clk)
	tw := testrig.NewTwilioServer(t)
	w := newWorker(t, st, clk, nil, newTwilio(t, tw), 2)
	for _, to := range []string{"+14155550101", "+14155550102", "+14155550103"} {
		if err := st.Enqueue(ctx, &sesame.Message{Channel: sesame.ChannelSMS, To: to, Text: "483920 is your sesame code.", Kind: "code"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := runOnce(t, w); n != 3 {
		t.Fatalf("RunOnce tried %d, want 3", n)
	}
	if got := len(tw.Requests()); got != 2 {
		t.Fatalf("Twilio got %d requests, want 2", got)
	}
	var sent, failed int
	for _, n := range notifications(t, st) {
		switch n.Status {
		case sesame.OutboxSent:
			sent++
			if n.ProviderID != "SM123" {
				t.Errorf("sent SMS: provider id %q, want SM123", n.ProviderID)
			}
		case sesame.OutboxFailed:
			failed++
			if !strings.Contains(n.LastError, "budget") {
				t.Errorf("failed SMS: error %q does not mention the budget", n.LastError)
			}
		default:
			t.Errorf("SMS %s: status %s, want sent or failed", n.ID, n.Status)
		}
	}
	if sent != 2 || failed != 1 {
		t.Fatalf("got %d sent and %d failed, want 2 and 1", sent, failed)
	}
	// The budget is per 24 hours: a day later there is room again.
	clk.Add(24*time.Hour + time.Second)
	if err := st.Enqueue(ctx, &sesame.Message{Channel: sesame.ChannelSMS, To: "+14155550104", Text: "111222 is your sesame code.", Kind: "code"}); err != nil {
		t.Fatal(err)
	}
	if n := runOnce(t, w); n != 1 {
		t.Fatalf("RunOnce a day later tried %d, want 1", n)
	}
	if got := len(tw.Requests()); got != 3 {
		t.Fatalf("Twilio got %d requests, want 3", got)
	}
}

// A budget of 0 sends no SMS at all.
func TestSMSBudgetZero(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newClock()
	st := openStore(t, t.TempDir(), clk)
	tw := testrig.NewTwilioServer(t)
	w := newWorker(t, st, clk, nil, newTwilio(t, tw), 0)
	if err := st.Enqueue(ctx, &sesame.Message{Channel: sesame.ChannelSMS, To: "+14155550101", Text: "483920 is your sesame code."}); err != nil {
		t.Fatal(err)
	}
	runOnce(t, w)
	if got := len(tw.Requests()); got != 0 {
		t.Fatalf("Twilio got %d requests, want 0", got)
	}
	if n := only(t, st); n.Status != sesame.OutboxFailed || !strings.Contains(n.LastError, "budget") {
		t.Fatalf("got %s %q, want failed over the budget", n.Status, n.LastError)
	}
}
