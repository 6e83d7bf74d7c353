package store_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/notify"
)

// withOwnerMail gives ts the real mailer for owner emails.
func withOwnerMail(t *testing.T, ts *testStore) {
	t.Helper()
	m, err := notify.NewMailer(notify.MailerConfig{Links: ts.Store, Objects: ts.Store, PublicURL: "https://share.example"})
	if err != nil {
		t.Fatal(err)
	}
	ts.SetOwnerMailer(m)
}

// ownerMails claims the queued owner emails, by kind.
func (ts *testStore) ownerMails(t *testing.T) map[string][]*sesame.Notification {
	t.Helper()
	claimed, err := ts.ClaimDue(context.Background(), ts.clock.Now(), time.Hour, 1000)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]*sesame.Notification{}
	for _, n := range claimed {
		if strings.HasPrefix(n.Message.Kind, "owner_") {
			out[n.Message.Kind] = append(out[n.Message.Kind], n)
		}
	}
	return out
}

// ownerLink stores a link of type typ to target whose owner wants events.
func (ts *testStore) ownerLink(t *testing.T, typ sesame.LinkType, target string, events ...sesame.OwnerEvent) *sesame.Link {
	t.Helper()
	it := ts.linkItem(target)
	it.Type, it.Title = typ, "Inbox"
	if events != nil {
		it.Notify = &sesame.LinkNotify{Events: events, Email: "owner@example.com"}
	}
	return ts.newLinks(t, it)[0]
}

// uploadAs stores a file in folder as a recipient's upload in session s.
func (ts *testStore) uploadAs(t *testing.T, s *sesame.Session, folder *sesame.Object, name, body string) {
	t.Helper()
	ctx := sesame.WithAudit(context.Background(), &sesame.AuditNote{Actor: s.ID, ActorType: sesame.ActorSession, Action: "upload", LinkID: s.LinkID})
	p := sesame.Placement{ParentID: folder.ID, HasParentID: true, Name: name}
	if _, err := ts.CreateFile(ctx, sesame.FileCreate{Placement: p}, ts.stage(t, name, []byte(body))); err != nil {
		t.Fatal(err)
	}
}

func (ts *testStore) digest(t *testing.T) int {
	t.Helper()
	n, err := ts.DigestUploads(context.Background(), ts.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A session's uploads are told in one digest once the session has been
// idle for ten minutes, or at once when it has ended; two sweeps at once
// send it once; a link that asks for no digest gets none.
func TestStore_OwnerUploadDigest(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	withOwnerMail(t, ts)
	inbox := ts.mkdir(t, "/", "inbox")
	l := ts.ownerLink(t, sesame.LinkUpload, inbox.ID, sesame.OwnerUpload)
	quiet := ts.ownerLink(t, sesame.LinkUpload, inbox.ID)

	s, _, err := ts.SignIn(ctx, l, l.Authenticators[0].ID, "192.0.2.1", "test", ts.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	ts.uploadAs(t, s, inbox, "a.txt", "alpha")
	ts.uploadAs(t, s, inbox, "b.txt", "bravo!")
	q, _, err := ts.SignIn(ctx, quiet, quiet.Authenticators[0].ID, "192.0.2.2", "test", ts.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	ts.uploadAs(t, q, inbox, "q.txt", "quiet")

	ts.clock.Advance(sesame.DigestIdle - time.Second)
	if n := ts.digest(t); n != 0 {
		t.Fatalf("%d digests before ten idle minutes", n)
	}
	ts.clock.Advance(time.Second)
	var wg sync.WaitGroup
	counts := make([]int, 2)
	for i := range counts {
		wg.Go(func() {
			n, err := ts.DigestUploads(ctx, ts.clock.Now())
			if err != nil {
				t.Error(err)
			}
			counts[i] = n
		})
	}
	wg.Wait()
	if counts[0]+counts[1] != 1 {
		t.Fatalf("two sweeps queued %v digests, want one between them", counts)
	}
	mails := ts.ownerMails(t)["owner_upload"]
	if len(mails) != 1 {
		t.Fatalf("%d digests queued, want 1", len(mails))
	}
	m := mails[0].Message
	if m.To != "owner@example.com" || m.LinkID != l.ID || !strings.Contains(m.Text, "- a.txt (5 B)") || !strings.Contains(m.Text, "- b.txt (6 B)") ||
		strings.Contains(m.Text, "q.txt") {
		t.Errorf("digest to %s for %s:\n%s", m.To, m.LinkID, m.Text)
	}
	if n := ts.digest(t); n != 0 {
		t.Errorf("a later sweep queued %d more digests", n)
	}

	// An ended session's digest goes on the next sweep.
	s2, secret, err := ts.SignIn(ctx, l, l.Authenticators[0].ID, "192.0.2.3", "test", ts.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	ts.uploadAs(t, s2, inbox, "c.txt", "charlie")
	if n := ts.digest(t); n != 0 {
		t.Fatalf("%d digests of an active session", n)
	}
	if err := ts.EndSession(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if n := ts.digest(t); n != 1 {
		t.Fatalf("%d digests of an ended session, want 1", n)
	}
	if mails := ts.ownerMails(t)["owner_upload"]; len(mails) != 1 || !strings.Contains(mails[0].Message.Text, "c.txt") {
		t.Errorf("ended session's digest: %+v", mails)
	}
}

// The first download, a lock and a spent cap are each told once, to the
// owner of a link that asks; a link that does not ask tells nothing.
func TestStore_OwnerEventsOnce(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	withOwnerMail(t, ts)
	f := ts.putFile(t, "/", "report.pdf", []byte("numbers"))
	it := ts.linkItem(f.ID)
	it.MaxDownloads = intRef(2)
	it.Notify = &sesame.LinkNotify{Events: sesame.OwnerEvents, Email: "owner@example.com"}
	l := ts.newLinks(t, it)[0]
	qi := ts.linkItem(f.ID)
	qi.MaxDownloads = intRef(2)
	quiet := ts.newLinks(t, qi)[0]

	for _, link := range []*sesame.Link{l, quiet} {
		for i, sess := range []string{link.ID + "a", link.ID + "b", link.ID + "c"} {
			claimed, err := ts.ClaimDownload(ctx, link, sess, "file:"+f.ID)
			if i < 2 && (err != nil || !claimed) {
				t.Fatalf("download %d: %v, %v", i, claimed, err)
			}
			if i == 2 && err == nil {
				t.Fatal("a download past the cap")
			}
			if i < 2 {
				if err := ts.Publish(ctx, sesame.DownloadEvent(link, sess, f.ID, 7, ts.clock.Now())); err != nil {
					t.Fatal(err)
				}
			}
		}
		if link == quiet {
			continue
		}
		for range sesame.LockAfterFailures * 2 {
			if _, err := ts.RecordAuthFailure(ctx, link.Authenticators[0].ID, ts.clock.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	mails := ts.ownerMails(t)
	for _, kind := range []string{"owner_download", "owner_exhausted", "owner_locked"} {
		if got := mails[kind]; len(got) != 1 || got[0].Message.LinkID != l.ID || got[0].Message.To != "owner@example.com" {
			t.Errorf("%s: %d emails, want one to the owner of %s", kind, len(got), l.ID)
		}
	}
	if len(mails) != 3 {
		t.Errorf("owner emails of kinds %v, want download, exhausted and locked", mails)
	}
}
