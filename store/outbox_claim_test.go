package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame"
)

// Workers on several replicas claim from one outbox at once: each message
// goes to exactly one of them (FOR UPDATE SKIP LOCKED on PostgreSQL, the
// one writer on SQLite), and none waits for another's claim.
func TestStore_OutboxConcurrentClaimsTakeEachMessageOnce(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	const n, workers = 300, 6
	msgs := make([]*sesame.Message, n)
	for i := range msgs {
		msgs[i] = &sesame.Message{Channel: sesame.ChannelEmail, To: fmt.Sprintf("r%03d@example.com", i), Text: "hi"}
	}
	if err := ts.Enqueue(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	var (
		mu     sync.Mutex
		claims = map[string]int{}
		byTo   = map[string]int{}
		wg     sync.WaitGroup
	)
	start := make(chan struct{})
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for {
				due, err := ts.ClaimDue(ctx, ts.clock.Now(), time.Hour, 7)
				if err != nil {
					t.Error(err)
					return
				}
				if len(due) == 0 {
					return
				}
				mu.Lock()
				for _, d := range due {
					claims[d.ID]++
					byTo[d.Message.To]++
				}
				mu.Unlock()
				for _, d := range due {
					if err := ts.MarkSent(ctx, d.ID, "p-"+d.ID, ts.clock.Now()); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	if len(claims) != n || len(byTo) != n {
		t.Fatalf("%d messages claimed (%d recipients), want %d", len(claims), len(byTo), n)
	}
	for id, k := range claims {
		if k != 1 {
			t.Errorf("message %s claimed %d times", id, k)
		}
	}
	sent, err := ts.CountSent(ctx, sesame.ChannelEmail, ts.clock.Now().Add(-time.Minute))
	if err != nil || sent != n {
		t.Errorf("%d sent (%v), want %d", sent, err, n)
	}
}

// A queued message comes back from the outbox as it went in, the From
// display name and the language included.
func TestStore_OutboxKeepsEveryMessageField(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	want := sesame.Message{Channel: sesame.ChannelEmail, To: "bob@example.com", ReplyTo: "alice@example.com",
		FromName: "Zoë, \"AJ\" via sesame", Subject: "Zoë shared “Q3” with you", Text: "text", HTML: "<p>html</p>",
		Kind: "link", LinkID: "psl_x", Language: "de-CH"}
	m := want
	if err := ts.Enqueue(ctx, &m); err != nil {
		t.Fatal(err)
	}
	due, err := ts.ClaimDue(ctx, ts.clock.Now(), time.Hour, 1)
	if err != nil || len(due) != 1 {
		t.Fatalf("claimed %d (%v), want 1", len(due), err)
	}
	if diff := cmp.Diff(want, due[0].Message); diff != "" {
		t.Errorf("message (-want +got):\n%s", diff)
	}
}
