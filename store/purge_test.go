package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/store"
)

// Set moves the clock to t.
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// purgeRow is n rows a purge test made: where finds them in table, and
// kept says whether Purge must leave them.
type purgeRow struct {
	what, table, where string
	args               []any
	kept               bool
	n                  int
}

// purgeFixture records the rows a test makes, then checks that Purge left
// exactly the kept ones.
type purgeFixture struct {
	ts   *testStore
	rows []purgeRow
}

func (f *purgeFixture) add(kept bool, what, table, where string, args ...any) {
	f.addN(1, kept, what, table, where, args...)
}

func (f *purgeFixture) addN(n int, kept bool, what, table, where string, args ...any) {
	f.rows = append(f.rows, purgeRow{what: what, table: table, where: where, args: args, kept: kept, n: n})
}

// check asserts that each spent row is gone, each kept row is there, and
// that every table holds nothing else; it returns the spent rows by table.
func (f *purgeFixture) check(t *testing.T, db *sql.DB) store.PurgeStats {
	t.Helper()
	spent, kept := store.PurgeStats{}, map[string]int{}
	for _, r := range f.rows {
		n := rowCount(t, db, `SELECT COUNT(*) FROM `+r.table+` WHERE `+r.where, r.args...)
		switch {
		case r.kept && n != r.n:
			t.Errorf("%s (%s): got %d rows after purge, want the %d kept", r.what, r.table, n, r.n)
		case !r.kept && n != 0:
			t.Errorf("%s (%s): got %d rows after purge, want them purged", r.what, r.table, n)
		}
		if r.kept {
			kept[r.table] += r.n
		} else {
			spent[r.table] += int64(r.n)
		}
	}
	for table := range mergeKeys(spent, kept) {
		if n := rowCount(t, db, `SELECT COUNT(*) FROM `+table); n != kept[table] {
			t.Errorf("%s: got %d rows after purge, want the %d kept ones", table, n, kept[table])
		}
	}
	return spent
}

func mergeKeys(a store.PurgeStats, b map[string]int) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// signIn opens a session on l with its first authenticator at the clock's time.
func (ts *testStore) signIn(t *testing.T, l *sesame.Link) (*sesame.Session, string) {
	t.Helper()
	s, secret, err := ts.SignIn(context.Background(), l, l.Authenticators[0].ID, "192.0.2.1", "test", ts.clock.Now())
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	return s, secret
}

// TestStore_Purge makes a spent and a live row of every kind Purge deals
// with, at the right ages, and checks that one Purge removes exactly the
// spent ones and that the live ones still work.
func TestStore_Purge(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	db := ts.rawDB(t)
	f := &purgeFixture{ts: ts}
	purgeAt := ts.clock.Now().Add(50 * time.Hour)
	at := func(before time.Duration) { ts.clock.Set(purgeAt.Add(-before)) }
	const retention = 48 * time.Hour

	// Audit events and delivery records, around the retention cutoff.
	audit := func(action string) {
		if err := ts.Audit(ctx, &sesame.AuditEvent{Actor: "system", ActorType: sesame.ActorSystem, Action: action, Outcome: "success"}); err != nil {
			t.Fatal(err)
		}
	}
	deliver := func(to string, sent, failed bool) {
		if err := ts.Enqueue(ctx, &sesame.Message{Channel: sesame.ChannelEmail, To: to, Text: "hi"}); err != nil {
			t.Fatal(err)
		}
		due, err := ts.ClaimDue(ctx, ts.clock.Now(), time.Minute, 10)
		if err != nil || len(due) != 1 {
			t.Fatalf("claim %s: %d, %v", to, len(due), err)
		}
		switch {
		case sent:
			err = ts.MarkSent(ctx, due[0].ID, "p1", ts.clock.Now())
		case failed:
			err = ts.MarkFailed(ctx, due[0].ID, "refused")
		default:
			err = ts.MarkRetry(ctx, due[0].ID, "busy", ts.clock.Now().Add(100*time.Hour))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	at(retention + time.Minute)
	audit("old")
	f.add(false, "an audit event past the retention", "audit_events", "action = 'old'")
	deliver("sent-old@example.com", true, false)
	f.add(false, "a message sent before the retention", "outbox", "recipient = 'sent-old@example.com'")
	deliver("failed-old@example.com", false, true)
	f.add(false, "a message failed before the retention", "outbox", "recipient = 'failed-old@example.com'")
	deliver("queued-old@example.com", false, false)
	f.add(true, "an old message still being retried", "outbox", "recipient = 'queued-old@example.com'")
	at(retention - time.Minute)
	audit("recent")
	f.add(true, "an audit event within the retention", "audit_events", "action = 'recent'")
	deliver("sent-recent@example.com", true, false)
	f.add(true, "a message sent within the retention", "outbox", "recipient = 'sent-recent@example.com'")

	// Idempotency keys, upload requests and backoff, around a day.
	idem := func(key string) {
		if _, err := ts.BeginIdempotent(ctx, "stk_a", key, "share/link/create"); err != nil {
			t.Fatal(err)
		}
	}
	pending := func(expiresIn time.Duration) *sesame.PendingUpload {
		p := newPending(ts, "stk_a")
		p.Expires = ts.clock.Now().Add(expiresIn)
		if _, err := ts.CreatePendingUpload(ctx, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	backoff := func(key string) {
		if _, err := ts.RecordBackoffFailure(ctx, key, ts.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	at(25*time.Hour + time.Minute)
	idem("old")
	f.add(false, "an idempotency key older than a day", "idempotency_keys", "key = 'old'")
	p := pending(time.Hour)
	f.add(false, "an upload request expired over a day ago", "pending_uploads", "id = ?", p.ID)
	backoff("ip|old")
	f.add(false, "backoff a day after the last failure", "backoff", "key = 'ip|old'")
	at(23 * time.Hour)
	idem("recent")
	f.add(true, "an idempotency key younger than a day", "idempotency_keys", "key = 'recent'")
	p = pending(time.Hour)
	f.add(true, "an upload request expired less than a day ago (still polled)", "pending_uploads", "id = ?", p.ID)
	backoff("ip|recent")
	f.add(true, "backoff within a day of the last failure", "backoff", "key = 'ip|recent'")
	p = pending(24 * time.Hour)
	f.add(true, "an upload request not yet expired", "pending_uploads", "id = ?", p.ID)

	// Download grants.
	at(2 * time.Hour)
	expired, err := ts.CreateGrant(ctx, &sesame.Grant{ObjectIDs: []string{"pos_x"}, Expires: purgeAt})
	if err != nil {
		t.Fatal(err)
	}
	f.add(false, "a grant expired at purge time", "download_grants", "expires_at = ?", sesame.FormatTime(purgeAt))
	live, err := ts.CreateGrant(ctx, &sesame.Grant{ObjectIDs: []string{"pos_y"}, Expires: purgeAt.Add(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	f.add(true, "a grant not yet expired", "download_grants", "expires_at = ?", sesame.FormatTime(purgeAt.Add(time.Second)))

	// Sessions, claims and codes on a download link.
	folder := ts.mkdir(t, "/", "in")
	file := ts.putFile(t, "/in", "a.txt", []byte("a"))
	at(2 * time.Hour)
	dl := ts.secretLink(t, file.ID).link // signs in once and sends a code at purgeAt-2h
	f.add(false, "the fixture's session, idle", "sessions", "link_id = ? AND created_at = ?", dl.ID, sesame.FormatTime(ts.clock.Now()))
	f.add(false, "a code sent two hours ago", "challenges", "sent_at = ?", sesame.FormatTime(ts.clock.Now()))
	code := func(c string) {
		err := ts.CreateChallenge(ctx, dl.Authenticators[1].ID, c, &sesame.Message{Channel: sesame.ChannelEmail, To: "bob@example.com", Text: c}, ts.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
	}
	at(90 * time.Minute)
	code("111111")
	if err := ts.VerifyCode(ctx, dl.Authenticators[1].ID, "111111", ts.clock.Now()); err != nil {
		t.Fatal(err)
	}
	f.add(false, "a code used over an hour ago", "challenges", "sent_at = ?", sesame.FormatTime(ts.clock.Now()))
	at(50 * time.Minute)
	code("222222")
	f.add(true, "an expired code sent within the hour (send limits)", "challenges", "sent_at = ?", sesame.FormatTime(ts.clock.Now()))
	at(5 * time.Minute)
	code("333333")
	f.add(true, "a live code", "challenges", "sent_at = ?", sesame.FormatTime(ts.clock.Now()))
	f.addN(4, true, "the codes' messages, still queued", "outbox", "recipient = 'bob@example.com'")
	f.add(true, "the fixture's audit event", "audit_events", "link_id = ?", dl.ID)

	at(31 * time.Minute)
	idle, _ := ts.signIn(t, dl)
	f.add(false, "a session idle for 31 minutes", "sessions", "id = ?", idle.ID)
	if _, err := ts.ClaimDownload(ctx, dl, idle.ID, "file:a"); err != nil {
		t.Fatal(err)
	}
	f.add(false, "a claim of an idle session", "download_claims", "session_id = ?", idle.ID)
	at(29 * time.Minute)
	liveSess, liveSecret := ts.signIn(t, dl)
	f.add(true, "a live session", "sessions", "id = ?", liveSess.ID)
	if _, err := ts.ClaimDownload(ctx, dl, liveSess.ID, "file:a"); err != nil {
		t.Fatal(err)
	}
	f.add(true, "a claim of a live session", "download_claims", "session_id = ?", liveSess.ID)
	ended, endedSecret := ts.signIn(t, dl)
	if _, err := ts.ClaimDownload(ctx, dl, ended.ID, "file:a"); err != nil {
		t.Fatal(err)
	}
	if err := ts.EndSession(ctx, endedSecret); err != nil {
		t.Fatal(err)
	}
	f.add(false, "a signed-out session", "sessions", "id = ?", ended.ID)
	f.add(false, "a claim of a signed-out session", "download_claims", "session_id = ?", ended.ID)

	// A session that outlived its link's expiry without being idle.
	short := ts.linkItem(file.ID)
	short.Expires = purgeAt.Add(-10 * time.Minute)
	at(20 * time.Minute)
	sl := ts.newLinks(t, short)[0]
	expiredSess, _ := ts.signIn(t, sl)
	f.add(false, "a session past its link's expiry", "sessions", "id = ?", expiredSess.ID)

	// Upload sessions: a spent one goes with its upload records, and the
	// link's upload caps, which are counters on the link, stay taken.
	upload := func() *sesame.Link {
		it := ts.linkItem(folder.ID)
		it.Type = sesame.LinkUpload
		return ts.newLinks(t, it)[0]
	}
	up, gone := upload(), upload()
	for _, c := range []struct {
		l    *sesame.Link
		what string
	}{{up, "a signed-out session that uploaded to a live link"}, {gone, "a signed-out session that uploaded to a deleted link"}} {
		s, secret := ts.signIn(t, c.l)
		if _, ok, err := ts.ReserveUploadFile(ctx, c.l.ID, 1); err != nil || !ok {
			t.Fatalf("reserve an upload: %v, %v", ok, err)
		}
		if err := ts.AddSessionUpload(ctx, s.ID, file.ID); err != nil {
			t.Fatal(err)
		}
		if err := ts.EndSession(ctx, secret); err != nil {
			t.Fatal(err)
		}
		f.add(false, c.what, "sessions", "id = ?", s.ID)
		f.add(false, c.what+" (its upload)", "session_uploads", "session_id = ?", s.ID)
	}
	if _, err := ts.DeleteLinks(ctx, []string{gone.ID}); err != nil {
		t.Fatal(err)
	}

	ts.clock.Set(purgeAt)
	stats, err := ts.Purge(ctx, purgeAt, retention)
	if err != nil {
		t.Fatalf("purge: %v", err)
	}
	want := f.check(t, db)
	if diff := gocmp.Diff(want, stats); diff != "" {
		t.Errorf("purge stats (-want +got):\n%s", diff)
	}

	// What was kept still works.
	if _, err := ts.SessionBySecret(ctx, dl.ID, liveSecret, dl.AuthEpoch, purgeAt); err != nil {
		t.Errorf("the live session after purge: %v", err)
	}
	if _, err := ts.GrantBySecret(ctx, live); err != nil {
		t.Errorf("the live grant after purge: %v", err)
	}
	_, err = ts.GrantBySecret(ctx, expired)
	wantErr(t, err, sesame.NotFound, "", "")
	if _, ok, err := ts.ReserveUploadFile(ctx, up.ID, 1); err != nil || ok {
		t.Errorf("the upload link's file cap of 1 after purge: reserved %v, %v; want it still taken", ok, err)
	}
	if err := ts.VerifyCode(ctx, dl.Authenticators[1].ID, "333333", purgeAt); err != nil {
		t.Errorf("the live code after purge: %v", err)
	}

	// A second purge finds nothing.
	stats, err = ts.Purge(ctx, purgeAt, retention)
	if err != nil || len(stats) != 0 {
		t.Errorf("second purge: got %v, %v; want nothing removed", stats, err)
	}
}

// TestStore_PurgeBatches checks that Purge goes on past one batch.
func TestStore_PurgeBatches(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	const n = 1234 // more than two batches
	for i := range n {
		if _, err := ts.CreateGrant(ctx, &sesame.Grant{ObjectIDs: []string{fmt.Sprint(i)}, Expires: ts.clock.Now().Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	stats, err := ts.Purge(ctx, ts.clock.Now().Add(time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := gocmp.Diff(store.PurgeStats{"download_grants": n}, stats); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
	if got := rowCount(t, ts.rawDB(t), `SELECT COUNT(*) FROM download_grants`); got != 0 {
		t.Errorf("got %d grants left, want 0", got)
	}
}

// TestStore_PurgeAuditRetention checks that only the retention purge can
// delete audit events, only those older than the retention, and that no
// retention keeps them all.
func TestStore_PurgeAuditRetention(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	db := ts.rawDB(t)
	start := ts.clock.Now()
	var ids []int64
	for day := range 10 {
		e := &sesame.AuditEvent{Time: start.Add(time.Duration(day) * 24 * time.Hour), Actor: "system", ActorType: sesame.ActorSystem,
			Action: fmt.Sprintf("day%d", day), Outcome: "success"}
		if err := ts.Audit(ctx, e); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.ID)
	}
	now := start.Add(10 * 24 * time.Hour)

	t.Run("NoRetentionKeepsAll", func(t *testing.T) {
		stats, err := ts.Purge(ctx, now.Add(10000*24*time.Hour), 0)
		if err != nil || stats["audit_events"] != 0 {
			t.Fatalf("got %v, %v; want no audit events deleted", stats, err)
		}
		if n := rowCount(t, db, `SELECT COUNT(*) FROM audit_events`); n != 10 {
			t.Errorf("got %d events, want 10", n)
		}
	})

	t.Run("OlderThanRetention", func(t *testing.T) {
		// 4.5 days: the events of days 0 to 5 are older, days 6 to 9 are not.
		stats, err := ts.Purge(ctx, now, 108*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if stats["audit_events"] != 6 {
			t.Errorf("got %d audit events deleted, want 6", stats["audit_events"])
		}
		page, err := ts.FindAudit(ctx, sesame.AuditFilter{Size: 100})
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, e := range page.Events {
			got = append(got, e.ID)
		}
		if diff := gocmp.Diff(ids[6:], got); diff != "" || page.Count != 4 {
			t.Errorf("count %d, events left (-want +got):\n%s", page.Count, diff)
		}
		if n := rowCount(t, db, `SELECT COUNT(*) FROM audit_purge`); n != 0 {
			t.Errorf("audit_purge holds %d rows after the purge, want none", n)
		}
	})

	t.Run("StillAppendOnly", func(t *testing.T) {
		for _, q := range []string{`DELETE FROM audit_events WHERE id = ?`, `UPDATE audit_events SET outcome = 'x' WHERE id = ?`} {
			if _, err := db.Exec(q, ids[9]); err == nil {
				t.Errorf("%s: succeeded, want the trigger to refuse it", q)
			}
		}
		// A cutoff row allows deleting older events only.
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.Exec(`INSERT INTO audit_purge (cutoff) VALUES (?)`, sesame.FormatTime(start)); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(`DELETE FROM audit_events WHERE id = ?`, ids[9]); err == nil {
			t.Errorf("deleted an event younger than the cutoff, want the trigger to refuse it")
		}
	})

	t.Run("IdsNeverReused", func(t *testing.T) {
		ts.clock.Set(now)
		e := &sesame.AuditEvent{Actor: "system", ActorType: sesame.ActorSystem, Action: "after", Outcome: "success"}
		if err := ts.Audit(ctx, e); err != nil {
			t.Fatal(err)
		}
		if e.ID <= ids[9] {
			t.Errorf("got id %d after the purge, want more than %d", e.ID, ids[9])
		}
	})
}

// TestStore_PurgeKeepsRowsBounded runs many visits (sign in with a code,
// download, sign out, a wrong password from a stranger, an API retry key,
// a dest-url grant, an audit event per step, the code's delivery) with a
// purge every hour, and checks that the number of rows in every table
// stops growing: the counts after 100 and after 200 hours are equal.
func TestStore_PurgeKeepsRowsBounded(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	db := ts.rawDB(t)
	file := ts.putFile(t, "/", "f.txt", []byte("f"))
	it := ts.linkItem(file.ID)
	it.Expires = ts.clock.Now().Add(365 * 24 * time.Hour)
	it.MaxAccessCount = intRef(1 << 30)
	auths := []sesame.LinkAuthenticator{{ID: sesame.NewID("lau_"), Type: sesame.AuthEmailOTP, Context: "bob@example.com"}}
	it.Source = "/links/0"
	links, err := ts.CreateLinks(ctx, []sesame.LinkCreate{it}, [][]sesame.LinkAuthenticator{auths}, ts.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	l := links[0]
	tables := []string{"sessions", "challenges", "download_claims", "session_uploads", "backoff", "download_grants",
		"pending_uploads", "idempotency_keys", "outbox", "audit_events", "links", "link_authenticators"}
	counts := func() map[string]int {
		out := map[string]int{}
		for _, table := range tables {
			out[table] = rowCount(t, db, `SELECT COUNT(*) FROM `+table)
		}
		return out
	}
	audit := func(action string) {
		if err := ts.Audit(ctx, &sesame.AuditEvent{Actor: "system", ActorType: sesame.ActorSystem, Action: action, LinkID: l.ID, Outcome: "success"}); err != nil {
			t.Fatal(err)
		}
	}
	visit := func(hour int) {
		now := ts.clock.Now()
		msg := &sesame.Message{Channel: sesame.ChannelEmail, To: "bob@example.com", Text: "code", LinkID: l.ID}
		if err := ts.CreateChallenge(ctx, auths[0].ID, "123456", msg, now); err != nil {
			t.Fatal(err)
		}
		audit("code.send")
		due, err := ts.ClaimDue(ctx, now, time.Minute, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range due {
			if err := ts.MarkSent(ctx, n.ID, "p", now); err != nil {
				t.Fatal(err)
			}
		}
		if err := ts.VerifyCode(ctx, auths[0].ID, "123456", now); err != nil {
			t.Fatal(err)
		}
		s, secret := ts.signIn(t, l)
		audit("signin")
		if _, err := ts.ClaimDownload(ctx, l, s.ID, "file:"+file.ID); err != nil {
			t.Fatal(err)
		}
		audit("download")
		if err := ts.EndSession(ctx, secret); err != nil {
			t.Fatal(err)
		}
		if _, err := ts.RecordBackoffFailure(ctx, fmt.Sprintf("198.51.100.%d|%s", hour%250, l.ID), now); err != nil {
			t.Fatal(err)
		}
		if _, err := ts.BeginIdempotent(ctx, "stk_a", fmt.Sprint("key", hour), "share/link/send"); err != nil {
			t.Fatal(err)
		}
		if _, err := ts.CreateGrant(ctx, &sesame.Grant{ObjectIDs: []string{file.ID}, Expires: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		p := newPending(ts, "stk_a")
		if _, err := ts.CreatePendingUpload(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	var at100 map[string]int
	for hour := 1; hour <= 200; hour++ {
		ts.clock.Advance(time.Hour)
		visit(hour)
		if _, err := ts.Purge(ctx, ts.clock.Now(), 72*time.Hour); err != nil {
			t.Fatal(err)
		}
		if hour == 100 {
			at100 = counts()
		}
	}
	if diff := gocmp.Diff(at100, counts()); diff != "" {
		t.Errorf("row counts after 100 and 200 hours of visits differ (-100h +200h):\n%s", diff)
	}
}

// TestStore_PurgeOneReplicaAtATime: on PostgreSQL a purge leaves the work
// to the replica already doing it; once that one is done, it purges. On
// SQLite only the data directory's lock holder purges, so a purge runs.
func TestStore_PurgeOneReplicaAtATime(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	f := ts.putFile(t, "/", "p.txt", []byte("p"))
	l := ts.newLinks(t, ts.linkItem(f.ID))[0]
	_, secret := ts.signIn(t, l)
	if err := ts.EndSession(ctx, secret); err != nil {
		t.Fatal(err)
	}
	db := ts.rawDB(t)
	ended := func() int { return rowCount(t, db, `SELECT COUNT(*) FROM sessions WHERE link_id = ?`, l.ID) }
	if onPostgres() {
		// Another replica holds the purge's lock, on its own session.
		other, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		if _, err := other.ExecContext(ctx, `SELECT pg_advisory_lock(hashtext('purge'), hashtext(current_schema()))`); err != nil {
			t.Fatal(err)
		}
		if _, err := ts.Purge(ctx, ts.clock.Now(), 0); err != nil {
			t.Fatal(err)
		}
		if n := ended(); n != 1 {
			t.Fatalf("a purge ran beside another replica's: %d ended sessions left, want 1", n)
		}
		if _, err := other.ExecContext(ctx, `SELECT pg_advisory_unlock(hashtext('purge'), hashtext(current_schema()))`); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ts.Purge(ctx, ts.clock.Now(), 0); err != nil {
		t.Fatal(err)
	}
	if n := ended(); n != 0 {
		t.Errorf("after the other replica's purge: %d ended sessions left, want 0", n)
	}
}
