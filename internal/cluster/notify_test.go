//go:build cluster

package cluster_test

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/sesame-share/sesame/internal/testrig"
)

// testSendsDeliveredOnce makes 20 share/link/send calls, alternating
// between the replicas, while both replicas' outbox workers run, and
// expects exactly 20 emails at the SMTP server.
func testSendsDeliveredOnce(t *testing.T, c *cluster, smtp *testrig.SMTPServer) {
	before := len(smtp.Messages())
	f := c.upload(t, c.URL, "/send", "s.txt", []byte("send"))
	const n = 20
	want := make([]string, n)
	ids := map[string]bool{}
	for i := range want {
		l := c.passwordLink(t, f.ID, nil)
		ids[l.ID] = true
		want[i] = fmt.Sprintf("recipient-%02d@example.com", i)
		c.api(c.Replicas[i%2]).Post(t, "/v1/share/link/send", map[string]any{
			"links": []any{map[string]any{"id": l.ID, "email": want[i]}}, "sender_email": "alice@example.com"}).MustOK(t)
	}
	// Wait until every message is settled in the outbox: sent, or failed.
	deadline := time.Now().Add(time.Minute)
	for {
		sent, pending := c.outboxState(t, ids)
		if pending == 0 {
			if sent != n {
				t.Fatalf("%d of %d notifications sent; the rest failed", sent, n)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a minute %d notifications are still pending", pending)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var got []string
	for _, m := range smtp.Messages()[before:] {
		got = append(got, m.To...)
	}
	sort.Strings(got)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the SMTP server received %d messages for %v; want one each for %v", len(got), got, want)
	}
}

// outboxState counts the notifications of the links that were sent, and
// those not yet settled.
func (c *cluster) outboxState(t *testing.T, links map[string]bool) (sent, pending int) {
	t.Helper()
	r := c.api(c.URL).Post(t, "/v1/notifications/list", map[string]any{"size": 100, "order": "desc"})
	r.MustOK(t)
	var res struct {
		Notifications []struct {
			LinkID string `json:"link_id"`
			Status string `json:"status"`
		} `json:"notifications"`
	}
	r.Into(t, &res)
	for _, nt := range res.Notifications {
		if !links[nt.LinkID] {
			continue
		}
		switch nt.Status {
		case "sent":
			sent++
		case "failed":
		default:
			pending++
		}
	}
	if sent+pending == 0 {
		pending = len(links) // not listed yet
	}
	return sent, pending
}
