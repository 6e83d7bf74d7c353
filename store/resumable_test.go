package store_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/sesame-share/sesame"
)

// resumableFixture is an upload link with one unfinished resumable upload
// of 100 bytes whose reservation is taken, as the portal core takes it.
type resumableFixture struct {
	l    *sesame.Link
	sess *sesame.Session
	u    *sesame.Resumable
}

func newResumableFixture(t *testing.T, ts *testStore) *resumableFixture {
	t.Helper()
	ctx := context.Background()
	folder := ts.mkdir(t, "", "inbox-"+sesame.NewID(""))
	it := ts.linkItem(folder.ID)
	it.Type = sesame.LinkUpload
	l := ts.newLinks(t, it)[0]
	sess, _ := ts.signIn(t, l)
	if _, ok, err := ts.ReserveUploadFile(ctx, l.ID, 0); err != nil || !ok {
		t.Fatal(err)
	}
	if ok, err := ts.ReserveUploadBytes(ctx, l.ID, 100, 0); err != nil || !ok {
		t.Fatal(err)
	}
	now := ts.clock.Now()
	u := &sesame.Resumable{ID: "upload-" + sesame.NewID(""), LinkID: l.ID, SessionID: sess.ID, BucketID: folder.BucketID, FolderID: folder.ID,
		Name: "big.bin", Length: 100, Created: now, Expires: now.Add(sesame.ResumableTTL)}
	if err := ts.CreateResumable(ctx, u); err != nil {
		t.Fatal(err)
	}
	return &resumableFixture{l: l, sess: sess, u: u}
}

// reserved reads the link's upload counters.
func (ts *testStore) reserved(t *testing.T, linkID string) (files int, bytes int64) {
	t.Helper()
	if err := ts.rawDB(t).QueryRow(`SELECT uploaded_files, uploaded_bytes FROM links WHERE id = ?`, linkID).Scan(&files, &bytes); err != nil {
		t.Fatal(err)
	}
	return files, bytes
}

// hasBlob reports whether the blob key is stored.
func (ts *testStore) hasBlob(t *testing.T, key string) bool {
	t.Helper()
	b, err := ts.OpenBlob(context.Background(), key)
	if sesame.KindOf(err) == sesame.NotFound {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	return true
}

func (ts *testStore) part(t *testing.T, data []byte, max int64) sesame.ResumablePart {
	t.Helper()
	p, err := ts.StagePart(context.Background(), bytes.NewReader(data), max)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestStore_ResumableParts(t *testing.T) {
	ts := newTestStore(t)
	ctx := context.Background()
	f := newResumableFixture(t, ts)
	p1 := ts.part(t, bytes.Repeat([]byte("a"), 40), 100)
	if p1.Size != 40 || p1.BlobKey == "" {
		t.Fatalf("staged part: %+v", p1)
	}
	if _, err := ts.StagePart(ctx, bytes.NewReader(make([]byte, 61)), 60); sesame.KindOf(err) != sesame.TooLarge {
		t.Errorf("a part past its max: %v", err)
	}
	if err := ts.AddResumablePart(ctx, f.u.ID, p1); err != nil {
		t.Fatal(err)
	}
	// The offset moves by one conditional UPDATE: a second part at the
	// same offset (a request that raced the first) is refused.
	p2 := ts.part(t, bytes.Repeat([]byte("b"), 30), 100)
	p2.Offset = 0
	if err := ts.AddResumablePart(ctx, f.u.ID, p2); sesame.KindOf(err) != sesame.Conflict {
		t.Errorf("a part at a stale offset: %v", err)
	}
	p2.Offset = 40
	if err := ts.AddResumablePart(ctx, f.u.ID, p2); err != nil {
		t.Fatal(err)
	}
	big := ts.part(t, make([]byte, 31), 100)
	big.Offset = 70
	if err := ts.AddResumablePart(ctx, f.u.ID, big); sesame.KindOf(err) != sesame.Conflict {
		t.Errorf("a part past the length: %v", err)
	}
	if err := ts.RemovePart(ctx, big); err != nil {
		t.Fatal(err)
	}
	u, err := ts.ResumableByID(ctx, f.u.ID)
	if err != nil || u.Offset != 70 || u.Length != 100 || u.SessionID != f.sess.ID {
		t.Fatalf("upload read back: %+v, %v", u, err)
	}
	parts, err := ts.ResumableParts(ctx, f.u.ID)
	if err != nil || len(parts) != 2 || parts[0].Offset != 0 || parts[1].Offset != 40 || parts[1].Size != 30 {
		t.Fatalf("parts: %+v, %v", parts, err)
	}
	// A sweep keeps the blobs of parts, which no object names.
	ts.reopen(t)
	for _, p := range parts {
		if !ts.hasBlob(t, p.BlobKey) {
			t.Errorf("part %s is gone after a sweep", p.BlobKey)
		}
	}
	// Finishing drops the parts and keeps the reservation: it is the file's.
	if err := ts.FinishResumable(ctx, f.u.ID, "pos_file", "big (1).bin"); err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		if ts.hasBlob(t, p.BlobKey) {
			t.Errorf("part %s is still there after the finish", p.BlobKey)
		}
	}
	u, err = ts.ResumableByID(ctx, f.u.ID)
	if err != nil || !u.Done() || u.Offset != 100 || u.SavedName != "big (1).bin" {
		t.Errorf("finished upload: %+v, %v", u, err)
	}
	if files, n := ts.reserved(t, f.l.ID); files != 1 || n != 100 {
		t.Errorf("after the finish the link holds %d files, %d bytes; want 1, 100", files, n)
	}
}

func TestStore_ResumableExpiryReleasesTheReservation(t *testing.T) {
	ts := newTestStore(t)
	ctx := context.Background()
	f := newResumableFixture(t, ts)
	p := ts.part(t, []byte("0123456789"), 100)
	if err := ts.AddResumablePart(ctx, f.u.ID, p); err != nil {
		t.Fatal(err)
	}
	done := newResumableFixture(t, ts)
	if err := ts.FinishResumable(ctx, done.u.ID, "pos_file", "big.bin"); err != nil {
		t.Fatal(err)
	}
	// Not yet expired: nothing goes.
	if stats, err := ts.Purge(ctx, ts.clock.Now().Add(sesame.ResumableTTL-time.Second), 0); err != nil || stats["resumable_uploads"] != 0 {
		t.Fatalf("purge before the expiry: %v, %v", stats, err)
	}
	at := ts.clock.Now().Add(sesame.ResumableTTL)
	stats, err := ts.Purge(ctx, at, 0)
	if err != nil || stats["resumable_uploads"] != 2 {
		t.Fatalf("purge at the expiry: %v, %v; want both uploads gone", stats, err)
	}
	if _, err := ts.ResumableByID(ctx, f.u.ID); sesame.KindOf(err) != sesame.NotFound {
		t.Errorf("the expired upload: %v", err)
	}
	if ts.hasBlob(t, p.BlobKey) {
		t.Error("the expired upload's part is still there")
	}
	if files, n := ts.reserved(t, f.l.ID); files != 0 || n != 0 {
		t.Errorf("after expiry the link holds %d files, %d bytes; want the reservation back", files, n)
	}
	if files, n := ts.reserved(t, done.l.ID); files != 1 || n != 100 {
		t.Errorf("a finished upload's expiry changed its file's reservation: %d files, %d bytes", files, n)
	}
	page, err := ts.FindAudit(ctx, sesame.AuditFilter{Conds: []sesame.Cond{{Field: "action", Op: sesame.OpEq, Values: []string{"upload.expire"}}}, Size: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 1 || page.Events[0].LinkID != f.l.ID || page.Events[0].ActorType != sesame.ActorSystem ||
		page.Events[0].Detail["received"] != "10" || page.Events[0].Detail["name"] != "big.bin" {
		t.Errorf("expiry events: %+v", page.Events)
	}
}

func TestStore_ResumableLease(t *testing.T) {
	ts := newTestStore(t)
	ctx := context.Background()
	f := newResumableFixture(t, ts)
	now := ts.clock.Now()
	lease := now.Add(sesame.ResumableLease)
	if ok, err := ts.LockResumable(ctx, f.u.ID, f.sess.ID, "a", now, lease); err != nil || !ok {
		t.Fatalf("first lock: %v, %v", ok, err)
	}
	if held, wanted, err := ts.RenewResumableLock(ctx, f.u.ID, "a", lease); err != nil || !held || wanted {
		t.Fatalf("renew before anyone asks: %v, %v, %v", held, wanted, err)
	}
	if ok, err := ts.LockResumable(ctx, f.u.ID, f.sess.ID, "b", now, lease); err != nil || ok {
		t.Fatalf("second lock while the first is held: %v, %v", ok, err)
	}
	if held, wanted, err := ts.RenewResumableLock(ctx, f.u.ID, "a", lease); err != nil || !held || !wanted {
		t.Errorf("renew after another asked: %v, %v, %v; want held and wanted", held, wanted, err)
	}
	if _, err := ts.LockResumable(ctx, f.u.ID, "ses_other", "c", now, lease); sesame.KindOf(err) != sesame.NotFound {
		t.Errorf("a lock for another session: %v", err)
	}
	if _, err := ts.LockResumable(ctx, "no such upload", f.sess.ID, "c", now, lease); sesame.KindOf(err) != sesame.NotFound {
		t.Errorf("a lock for no upload: %v", err)
	}
	// The lease runs out.
	if ok, err := ts.LockResumable(ctx, f.u.ID, f.sess.ID, "b", lease, lease.Add(sesame.ResumableLease)); err != nil || !ok {
		t.Fatalf("a lock after the lease ran out: %v, %v", ok, err)
	}
	if held, _, err := ts.RenewResumableLock(ctx, f.u.ID, "a", lease); err != nil || held {
		t.Errorf("the old holder renews: %v, %v; want the lock lost", held, err)
	}
	if err := ts.UnlockResumable(ctx, f.u.ID, "a"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := ts.LockResumable(ctx, f.u.ID, f.sess.ID, "c", lease, lease); ok {
		t.Error("the old holder's unlock freed the new holder's lock")
	}
	if err := ts.UnlockResumable(ctx, f.u.ID, "b"); err != nil {
		t.Fatal(err)
	}
	if ok, err := ts.LockResumable(ctx, f.u.ID, f.sess.ID, "c", lease, lease); err != nil || !ok {
		t.Errorf("after the unlock: %v, %v", ok, err)
	}
}

func TestStore_ResumableDeleteReleases(t *testing.T) {
	ts := newTestStore(t)
	ctx := context.Background()
	f := newResumableFixture(t, ts)
	p := ts.part(t, []byte("abc"), 100)
	if err := ts.AddResumablePart(ctx, f.u.ID, p); err != nil {
		t.Fatal(err)
	}
	nctx := sesame.WithAudit(ctx, &sesame.AuditNote{Actor: f.sess.ID, ActorType: sesame.ActorSession, Action: "upload.cancel"})
	u, err := ts.DeleteResumable(nctx, f.u.ID)
	if err != nil || u.Offset != 3 {
		t.Fatalf("delete: %+v, %v", u, err)
	}
	if files, n := ts.reserved(t, f.l.ID); files != 0 || n != 0 {
		t.Errorf("after a cancel the link holds %d files, %d bytes", files, n)
	}
	if ts.hasBlob(t, p.BlobKey) {
		t.Error("the cancelled upload's part is still there")
	}
	if _, err := ts.DeleteResumable(ctx, f.u.ID); sesame.KindOf(err) != sesame.NotFound {
		t.Errorf("a second delete: %v", err)
	}
	page, err := ts.FindAudit(ctx, sesame.AuditFilter{Conds: []sesame.Cond{{Field: "action", Op: sesame.OpEq, Values: []string{"upload.cancel"}}}, Size: 10})
	if err != nil || len(page.Events) != 1 || page.Events[0].LinkID != f.l.ID {
		t.Errorf("cancel events: %+v, %v", page, err)
	}
}
