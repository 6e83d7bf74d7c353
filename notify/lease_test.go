package notify_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/internal/testrig"
)

// slowNotifier delivers through a real SMTP conversation and then lets
// the injected clock run, as a slow provider would; after the send it
// calls after, if set.
type slowNotifier struct {
	next  sesame.Notifier
	clk   *testrig.Clock
	took  time.Duration
	sends int
	after func(sends int)
}

func (s *slowNotifier) Notify(ctx context.Context, m *sesame.Message) (string, error) {
	id, err := s.next.Notify(ctx, m)
	s.clk.Add(s.took)
	s.sends++
	if s.after != nil {
		s.after(s.sends)
	}
	return id, err
}

// A worker on another replica looks at the outbox while this one works
// through several messages, each nearly as slow as the send timeout: no
// message is sent twice, because a worker claims each message just before
// it sends it, with a lease longer than the send may take.
func TestWorker_NeverSendsALeasedMessageTwice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newClock()
	st := openStore(t, t.TempDir(), clk)
	fake := testrig.NewSMTPServer(t)
	const n = 4
	for i := range n {
		if err := st.Enqueue(ctx, &sesame.Message{Channel: sesame.ChannelEmail, To: fmt.Sprintf("r%d@example.com", i), Subject: "Hi", Text: "hello", Kind: "link"}); err != nil {
			t.Fatal(err)
		}
	}
	other := newWorker(t, st, clk, newSMTP(t, fake), nil, 0)
	// newWorker's send timeout is 5 s: each send here takes 4.5 s.
	slow := &slowNotifier{next: newSMTP(t, fake), clk: clk, took: 4500 * time.Millisecond}
	slow.after = func(sends int) {
		if sends == n-1 {
			runOnce(t, other)
		}
	}
	w := newWorker(t, st, clk, slow, nil, 0)
	for runOnce(t, w) > 0 {
	}
	got := map[string]int{}
	for _, m := range fake.Messages() {
		for _, to := range m.To {
			got[to]++
		}
	}
	for i := range n {
		if to := fmt.Sprintf("r%d@example.com", i); got[to] != 1 {
			t.Errorf("%s got %d emails, want 1 (all: %v)", to, got[to], got)
		}
	}
	for _, nt := range notifications(t, st) {
		if nt.Status != sesame.OutboxSent {
			t.Errorf("notification %s is %s, want sent", nt.ID, nt.Status)
		}
	}
}
