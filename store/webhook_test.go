package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame"
)

// newWebhook stores a webhook for events with a new secret.
func (ts *testStore) newWebhook(t *testing.T, events ...sesame.EventType) (*sesame.Webhook, string) {
	t.Helper()
	secret := sesame.NewWebhookSecret()
	w, err := ts.CreateWebhook(context.Background(), sesame.WebhookCreate{URL: "https://hooks.example.com/in", Events: events}, secret, ts.clock.Now())
	if err != nil {
		t.Fatalf("create webhook: %v", err)
	}
	return w, secret
}

// queuedEvent is a webhook message as the outbox holds it.
type queuedEvent struct {
	ID, WebhookID string
	Type          string
	LinkID        string
	Data          map[string]any
	Body          string
}

// takeEvents claims every due webhook message and returns them ordered by
// type: messages queued at one instant may be claimed in any order.
func (ts *testStore) takeEvents(t *testing.T) []queuedEvent {
	t.Helper()
	claimed, err := ts.ClaimDue(context.Background(), ts.clock.Now(), time.Hour, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []queuedEvent
	for _, n := range claimed {
		if n.Message.Channel != sesame.ChannelWebhook {
			continue
		}
		var body struct {
			Type      string         `json:"type"`
			Timestamp string         `json:"timestamp"`
			Data      map[string]any `json:"data"`
		}
		if err := json.Unmarshal([]byte(n.Message.Text), &body); err != nil {
			t.Fatalf("message %s: body is not JSON: %v", n.ID, err)
		}
		if body.Type != n.Message.Kind || body.Timestamp == "" {
			t.Errorf("message %s: body type %q and timestamp %q, kind %q", n.ID, body.Type, body.Timestamp, n.Message.Kind)
		}
		if !strings.HasPrefix(n.ID, sesame.PrefixWebhookMessage) {
			t.Errorf("message id %s lacks %s", n.ID, sesame.PrefixWebhookMessage)
		}
		out = append(out, queuedEvent{ID: n.ID, WebhookID: n.Message.To, Type: n.Message.Kind, LinkID: n.Message.LinkID, Data: body.Data, Body: n.Message.Text})
	}
	slices.SortStableFunc(out, func(a, b queuedEvent) int { return strings.Compare(a.Type, b.Type) })
	return out
}

func eventTypes(evs []queuedEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

// wantEvents takes the queued events and compares their types.
func (ts *testStore) wantEvents(t *testing.T, step string, want ...string) []queuedEvent {
	t.Helper()
	got := ts.takeEvents(t)
	if diff := cmp.Diff(want, eventTypes(got)); diff != "" {
		t.Fatalf("%s: events (-want +got):\n%s", step, diff)
	}
	return got
}

// Every change that is an event queues it for the webhook, in the
// change's transaction: a change that fails queues nothing, and a change
// that is no event (a file the API stores) queues nothing either.
func TestStore_WebhookEvents(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	w, _ := ts.newWebhook(t, sesame.EventTypes...)
	var bodies []string
	want := func(step string, types ...string) []queuedEvent {
		t.Helper()
		evs := ts.wantEvents(t, step, types...)
		for _, e := range evs {
			bodies = append(bodies, e.Body)
		}
		return evs
	}
	folder := ts.mkdir(t, "/", "inbox")
	f := ts.putFile(t, "/", "report.pdf", []byte("numbers"))
	want("a file through the API", []string(nil)...)

	// A change that rolls back queues nothing.
	if _, err := ts.tryLinks(ts.linkItem(sesame.NewID(sesame.PrefixObject))); err == nil {
		t.Fatal("a link to a missing target was created")
	}
	want("a failed create", []string(nil)...)

	item := ts.linkItem(f.ID)
	item.MaxAccessCount = intRef(1)
	l := ts.newLinks(t, item)[0]
	evs := want("create", "link.created")
	if evs[0].WebhookID != w.ID || evs[0].LinkID != l.ID || evs[0].Data["link_id"] != l.ID || evs[0].Data["max_access_count"] != float64(1) {
		t.Errorf("link.created: %+v", evs[0])
	}

	title := "Q3"
	if _, err := ts.UpdateLink(ctx, l.ID, sesame.LinkUpdate{Title: &title}, nil, ts.clock.Now()); err != nil {
		t.Fatal(err)
	}
	want("update", "link.updated")

	sess, _, err := ts.SignIn(ctx, l, l.Authenticators[0].ID, "192.0.2.1", "test", ts.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	evs = want("the only sign-in the link allows", "link.accessed", "link.exhausted")
	if evs[0].Data["session_id"] != sess.ID || evs[0].Data["access_count"] != float64(1) || evs[1].Data["reason"] != sesame.ExhaustedAccess {
		t.Errorf("sign-in events: %+v", evs)
	}

	// One hundred wrong answers lock the authenticator: one event.
	other := ts.newLinks(t, ts.linkItem(f.ID))[0]
	want("another link", "link.created")
	for i := 0; i < sesame.LockAfterFailures; i++ {
		if _, err := ts.RecordAuthFailure(ctx, other.Authenticators[0].ID, ts.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	evs = want("a lock", "link.locked")
	if evs[0].LinkID != other.ID || evs[0].Data["authenticator_id"] != other.Authenticators[0].ID || evs[0].Data["locked_until"] == nil {
		t.Errorf("link.locked: %+v", evs[0])
	}

	// The last download a link allows exhausts it.
	dl := ts.linkItem(f.ID)
	dl.MaxDownloads = intRef(1)
	capped := ts.newLinks(t, dl)[0]
	want("a capped link", "link.created")
	if _, err := ts.ClaimDownload(ctx, capped, "ses_a", "file:"+f.ID); err != nil {
		t.Fatal(err)
	}
	evs = want("the last download", "link.exhausted")
	if evs[0].Data["reason"] != sesame.ExhaustedDownloads {
		t.Errorf("link.exhausted: %+v", evs[0])
	}
	audit := &sesame.AuditEvent{Action: "download", Outcome: "success", LinkID: capped.ID, ObjectID: f.ID}
	if err := ts.Publish(ctx, sesame.DownloadEvent(capped, "ses_a", f.ID, 7, ts.clock.Now()), audit); err != nil {
		t.Fatal(err)
	}
	evs = want("a download", "object.downloaded")
	if evs[0].Data["object_id"] != f.ID || evs[0].Data["bytes"] != float64(7) || audit.ID == 0 {
		t.Errorf("object.downloaded: %+v (audit id %d)", evs[0], audit.ID)
	}

	// A file made through a link is an upload.
	up := sesame.WithAudit(ctx, &sesame.AuditNote{Actor: "ses_b", ActorType: sesame.ActorSession, Action: "upload", LinkID: capped.ID})
	o, err := ts.CreateFile(up, sesame.FileCreate{Placement: sesame.Placement{ParentID: folder.ID, HasParentID: true, Name: "scan.png"}}, ts.stage(t, "scan.png", []byte("png")))
	if err != nil {
		t.Fatal(err)
	}
	evs = want("an upload through a link", "object.uploaded")
	if evs[0].Data["object_id"] != o.ID || evs[0].Data["link_id"] != capped.ID || evs[0].Data["session_id"] != "ses_b" || evs[0].Data["size"] != float64(3) {
		t.Errorf("object.uploaded: %+v", evs[0])
	}

	if _, err := ts.DeleteObject(ctx, "", o.ID, false); err != nil {
		t.Fatal(err)
	}
	want("a delete", "object.deleted")

	if _, err := ts.DeleteLinks(ctx, []string{other.ID}); err != nil {
		t.Fatal(err)
	}
	evs = want("a revoke", "link.revoked")
	if evs[0].Data["reason"] != "revoked" {
		t.Errorf("link.revoked: %+v", evs[0])
	}
	// Deleting a link's only target retires the link.
	if _, err := ts.DeleteObject(ctx, "", f.ID, false); err != nil {
		t.Fatal(err)
	}
	evs = want("deleting the targets", "link.revoked", "link.revoked", "object.deleted")
	for _, e := range evs[:2] {
		if e.Data["reason"] != "targets_deleted" {
			t.Errorf("link.revoked by a delete: %+v", e)
		}
	}

	// An email given up on is an event; a webhook message is not.
	if err := ts.Enqueue(ctx, &sesame.Message{Channel: sesame.ChannelEmail, To: "bob@example.com", Subject: "Hi", Text: "hello", Kind: "link", LinkID: l.ID}); err != nil {
		t.Fatal(err)
	}
	mail, err := ts.ClaimDue(ctx, ts.clock.Now(), time.Hour, 1)
	if err != nil || len(mail) != 1 {
		t.Fatalf("claim the email: %v %v", mail, err)
	}
	if err := ts.MarkFailed(ctx, mail[0].ID, sesame.FailureRejected+": no such user"); err != nil {
		t.Fatal(err)
	}
	evs = want("a failed email", "notification.failed")
	if evs[0].Data["notification_id"] != mail[0].ID || evs[0].Data["channel"] != "email" || evs[0].Data["reason"] != sesame.FailureRejected {
		t.Errorf("notification.failed: %+v", evs[0])
	}
	if err := ts.MarkFailed(ctx, evs[0].ID, sesame.FailureUnavailable+": timed out"); err != nil {
		t.Fatal(err)
	}
	want("a failed webhook message", []string(nil)...)

	// No body holds a secret (a token, the recipient's address) or what
	// a file is called or holds.
	all := strings.Join(bodies, "\n")
	for _, secret := range []string{l.Token, other.Token, capped.Token, "r0@example.com", "numbers", "report.pdf", "scan.png"} {
		if strings.Contains(all, secret) {
			t.Errorf("a body holds %q", secret)
		}
	}
	if len(bodies) < 14 {
		t.Errorf("only %d bodies were read", len(bodies))
	}
}

// A webhook gets only the events it asked for, and only while enabled.
func TestStore_WebhookSubscriptions(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	f := ts.putFile(t, "/", "a.txt", []byte("1"))
	all, _ := ts.newWebhook(t, sesame.EventTypes...)
	signins, _ := ts.newWebhook(t, sesame.EventLinkAccessed)
	off, _ := ts.newWebhook(t, sesame.EventTypes...)
	disabled := true
	if _, err := ts.UpdateWebhook(ctx, off.ID, sesame.WebhookUpdate{Disabled: &disabled}, "", ts.clock.Now()); err != nil {
		t.Fatal(err)
	}
	gone, _ := ts.newWebhook(t, sesame.EventTypes...)
	if _, err := ts.DeleteWebhook(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	l := ts.newLinks(t, ts.linkItem(f.ID))[0]
	if _, _, err := ts.SignIn(ctx, l, l.Authenticators[0].ID, "192.0.2.1", "test", ts.clock.Now()); err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, e := range ts.takeEvents(t) {
		got[e.WebhookID] = append(got[e.WebhookID], e.Type)
	}
	want := map[string][]string{all.ID: {"link.accessed", "link.created"}, signins.ID: {"link.accessed"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("events by webhook (-want +got):\n%s", diff)
	}
}

// The secret is stored sealed; a rotation keeps the old one signing for
// SecretGrace beside the new one; a delete forgets both.
func TestStore_WebhookSecret(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	w, secret := ts.newWebhook(t, sesame.EventLinkCreated)
	target, err := ts.WebhookTarget(ctx, w.ID, ts.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{secret}, target.Secrets); diff != "" {
		t.Fatalf("secrets (-want +got):\n%s", diff)
	}
	rotated := sesame.NewWebhookSecret()
	if _, err := ts.UpdateWebhook(ctx, w.ID, sesame.WebhookUpdate{RotateSecret: true}, rotated, ts.clock.Now()); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{secret, rotated} {
		if bytes.Contains(ts.dbBytes(t), []byte(s)) || bytes.Contains(ts.dbBytes(t), []byte(strings.TrimPrefix(s, sesame.WebhookSecretPrefix))) {
			t.Errorf("the database holds a secret in the clear")
		}
	}
	ts.reopen(t)
	target, err = ts.WebhookTarget(ctx, w.ID, ts.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{rotated, secret}, target.Secrets); diff != "" {
		t.Fatalf("secrets after a rotation (-want +got):\n%s", diff)
	}
	target, err = ts.WebhookTarget(ctx, w.ID, ts.clock.Now().Add(sesame.SecretGrace))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{rotated}, target.Secrets); diff != "" {
		t.Fatalf("secrets after the grace (-want +got):\n%s", diff)
	}

	// A secret sealed for one webhook does not open as another's.
	other, _ := ts.newWebhook(t, sesame.EventLinkCreated)
	db := ts.rawDB(t)
	ts.rawExec(t, db, `UPDATE webhooks SET secret_sealed = (SELECT secret_sealed FROM webhooks WHERE id = ?) WHERE id = ?`, w.ID, other.ID)
	if _, err := ts.WebhookTarget(ctx, other.ID, ts.clock.Now()); err == nil {
		t.Errorf("a secret moved to another webhook unsealed")
	}

	if _, err := ts.DeleteWebhook(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.WebhookTarget(ctx, w.ID, ts.clock.Now()); sesame.KindOf(err) != sesame.NotFound {
		t.Fatalf("target of a deleted webhook: got %v, want NotFound", err)
	}
	if n := rowCount(t, db, `SELECT COUNT(*) FROM webhooks WHERE id = ? AND (secret_sealed IS NOT NULL OR previous_secret_sealed IS NOT NULL)`, w.ID); n != 0 {
		t.Errorf("a deleted webhook keeps its secrets")
	}
	if _, err := ts.DeleteWebhook(ctx, w.ID); sesame.KindOf(err) != sesame.NotFound {
		t.Errorf("deleting twice: got %v, want NotFound", err)
	}
}

// Deliveries list every attempt with its message's state, in pages.
func TestStore_FindDeliveries(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	w, _ := ts.newWebhook(t, sesame.EventLinkCreated)
	f := ts.putFile(t, "/", "a.txt", []byte("1"))
	ts.newLinks(t, ts.linkItem(f.ID))
	msg := ts.takeEvents(t)[0]
	for i := 1; i <= 3; i++ {
		d := &sesame.WebhookDelivery{MessageID: msg.ID, WebhookID: w.ID, EventType: sesame.EventLinkCreated, Attempt: i, Time: ts.clock.Now(),
			Outcome: sesame.DeliveryFailure, StatusCode: 503, Error: "unavailable: the receiver answered 503"}
		if i == 3 {
			d.Outcome, d.StatusCode, d.Error = sesame.DeliverySuccess, 204, ""
		}
		if err := ts.RecordDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
		ts.clock.Advance(time.Minute)
	}
	if err := ts.MarkSent(ctx, msg.ID, "HTTP 204", ts.clock.Now()); err != nil {
		t.Fatal(err)
	}
	page, err := ts.FindDeliveries(ctx, sesame.DeliveryFilter{Desc: true, Size: 2})
	if err != nil {
		t.Fatal(err)
	}
	if page.Count != 3 || len(page.Deliveries) != 2 || page.Next == nil {
		t.Fatalf("first page: count %d, %d deliveries, next %v", page.Count, len(page.Deliveries), page.Next)
	}
	if d := page.Deliveries[0]; d.Attempt != 3 || d.Outcome != sesame.DeliverySuccess || d.MessageStatus != sesame.OutboxSent || d.MessageID != msg.ID {
		t.Errorf("newest delivery: %+v", d)
	}
	next, err := ts.FindDeliveries(ctx, sesame.DeliveryFilter{Desc: true, Size: 2, After: page.Next})
	if err != nil {
		t.Fatal(err)
	}
	if len(next.Deliveries) != 1 || next.Deliveries[0].Attempt != 1 || next.Next != nil {
		t.Fatalf("second page: %+v", next)
	}
	failed, err := ts.FindDeliveries(ctx, sesame.DeliveryFilter{Conds: []sesame.Cond{{Field: "outcome", Values: []string{"failure"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if failed.Count != 2 {
		t.Errorf("failed deliveries: got %d, want 2", failed.Count)
	}

	// The records of attempts go with the audit trail's.
	stats, err := ts.Purge(ctx, ts.clock.Now().Add(30*24*time.Hour-90*time.Second), 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if stats["webhook_deliveries"] != 2 {
		t.Fatalf("purged %v, want the 2 attempts older than the retention", stats)
	}
	if left, err := ts.FindDeliveries(ctx, sesame.DeliveryFilter{}); err != nil || left.Count != 1 || left.Deliveries[0].Attempt != 3 {
		t.Fatalf("left %+v, %v", left, err)
	}
}

// OnQueued is told after each commit that queued outbox messages (a
// webhook delivery, an email), and not after one that queued none or
// rolled back: the worker of the process is woken, not left to its poll.
func TestStore_OnQueued(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	var woken atomic.Int32
	ts.OnQueued(func() { woken.Add(1) })
	want := func(step string, n int32) {
		t.Helper()
		if got := woken.Swap(0); got != n {
			t.Errorf("%s: woken %d times, want %d", step, got, n)
		}
	}
	f := ts.putFile(t, "/", "report.pdf", []byte("numbers"))
	ts.newLinks(t, ts.linkItem(f.ID))
	want("a link created with no webhook", 0)

	ts.newWebhook(t, sesame.EventLinkCreated)
	ts.newLinks(t, ts.linkItem(f.ID))
	want("a link created with a webhook that wants it", 1)
	if _, err := ts.tryLinks(ts.linkItem(sesame.NewID(sesame.PrefixObject))); err == nil {
		t.Fatal("a link to a missing target was created")
	}
	want("a create that rolled back", 0)
	ts.mkdir(t, "/", "inbox")
	want("a folder (no event)", 0)

	if err := ts.Enqueue(ctx, &sesame.Message{Channel: sesame.ChannelEmail, To: "bob@example.com", Kind: "link", Subject: "s", Text: "t"}); err != nil {
		t.Fatal(err)
	}
	want("an email queued", 1)
}
