package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/sesame-share/sesame"
)

// A file that expires is deleted for webhooks as for the audit trail: an
// object.deleted event saying why, and link.revoked for a link it leaves
// with no target.
func TestStore_ExpiredFilesAreWebhookEvents(t *testing.T) {
	ctx := context.Background()
	ts := newTTLStore(t, "30m") // under the hour that takeEvents leases a message for
	ts.newWebhook(t, sesame.EventTypes...)
	f := ts.putFile(t, "/", "brief.txt", []byte("b"))
	l := ts.newLinks(t, ts.linkItem(f.ID))[0]
	ts.takeEvents(t) // the link's creation
	ts.clock.Advance(30 * time.Minute)
	if n, err := ts.ExpireFiles(ctx); err != nil || n != 1 {
		t.Fatalf("sweep: %d, %v", n, err)
	}
	evs := ts.wantEvents(t, "expiry", "link.revoked", "object.deleted")
	if evs[0].Data["link_id"] != l.ID || evs[1].Data["object_id"] != f.ID || evs[1].Data["reason"] != "expired" {
		t.Errorf("events: %+v", evs)
	}
}
