package store_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/sesame-share/sesame"
)

// testPHC is a password hash as the link service stores it.
const testPHC = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"

// secretLink is a download link to target with a password and an email
// code, signed into once, with a code sent.
type secretLink struct {
	link    *sesame.Link
	session string // the session's secret
}

func (ts *testStore) secretLink(t *testing.T, target string) secretLink {
	t.Helper()
	ctx := context.Background()
	auths := []sesame.LinkAuthenticator{
		{ID: sesame.NewID("lau_"), Type: sesame.AuthPassword, Context: testPHC},
		{ID: sesame.NewID("lau_"), Position: 1, Type: sesame.AuthEmailOTP, Context: "bob@example.com"},
	}
	in := ts.linkItem(target)
	in.Source = "/links/0"
	links, err := ts.CreateLinks(ctx, []sesame.LinkCreate{in}, [][]sesame.LinkAuthenticator{auths}, ts.clock.Now())
	if err != nil {
		t.Fatalf("create link: %v", err)
	}
	l := links[0]
	_, secret, err := ts.SignIn(ctx, l, auths[0].ID, "192.0.2.1", "test", ts.clock.Now())
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	msg := &sesame.Message{Channel: sesame.ChannelEmail, To: "bob@example.com", Text: "code", Kind: "code", LinkID: l.ID}
	if err := ts.CreateChallenge(ctx, auths[1].ID, "123456", msg, ts.clock.Now()); err != nil {
		t.Fatalf("create challenge: %v", err)
	}
	if err := ts.Audit(ctx, &sesame.AuditEvent{Actor: "stk_a", ActorType: sesame.ActorToken, Action: "share.link.create", LinkID: l.ID, Outcome: "success"}); err != nil {
		t.Fatal(err)
	}
	return secretLink{link: l, session: secret}
}

// wantForgotten checks, on the raw tables, that a deleted link keeps its
// row, addresses and audit trail but none of its secrets.
func (ts *testStore) wantForgotten(t *testing.T, db *sql.DB, sl secretLink) {
	t.Helper()
	ctx := context.Background()
	id := sl.link.ID
	if n := rowCount(t, db, `SELECT COUNT(*) FROM link_authenticators WHERE link_id = ? AND context = ?`, id, testPHC); n != 0 {
		t.Errorf("link %s: the password hash is still stored", id)
	}
	if n := rowCount(t, db, `SELECT COUNT(*) FROM link_authenticators WHERE link_id = ? AND context = 'bob@example.com'`, id); n != 1 {
		t.Errorf("link %s: got %d email authenticators, want the address kept", id, n)
	}
	if n := rowCount(t, db, `SELECT length(token_sealed) FROM links WHERE id = ? AND deleted_at IS NOT NULL`, id); n != 0 {
		t.Errorf("link %s: %d bytes of sealed token are still stored", id, n)
	}
	if n := rowCount(t, db, `SELECT COUNT(*) FROM challenges c JOIN link_authenticators a ON a.id = c.authenticator_id WHERE a.link_id = ?`, id); n != 0 {
		t.Errorf("link %s: %d codes are still stored", id, n)
	}
	if n := rowCount(t, db, `SELECT COUNT(*) FROM sessions WHERE link_id = ? AND ended_at IS NULL`, id); n != 0 {
		t.Errorf("link %s: %d sessions are still open", id, n)
	}
	if _, err := ts.SessionBySecret(ctx, id, sl.session, sl.link.AuthEpoch, ts.clock.Now()); sesame.KindOf(err) != sesame.NotFound {
		t.Errorf("link %s: session after delete: got %v, want NotFound", id, err)
	}
	page, err := ts.FindAudit(ctx, sesame.AuditFilter{Conds: []sesame.Cond{{Field: "link_id", Values: []string{id}}}})
	if err != nil {
		t.Fatal(err)
	}
	if page.Count != 1 {
		t.Errorf("link %s: got %d audit events, want the one written", id, page.Count)
	}
	_, err = ts.LinkByID(ctx, id)
	wantErr(t, err, sesame.NotFound, "/id", "")
	// Revoking again answers from the deleted row, which has no token now.
	l, already, err := ts.RevokeLink(ctx, id)
	if err != nil || !already || l.ID != id || l.Token != "" || l.Deleted.IsZero() {
		t.Errorf("revoke a deleted link: got %+v, %v, %v; want it, already revoked, with no token", l, already, err)
	}
}

// TestStore_DeletedLinkForgetsSecrets checks that deleting a link, by id or
// by deleting the last object it shares, drops its secrets at once.
func TestStore_DeletedLinkForgetsSecrets(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	db := ts.rawDB(t)
	f := ts.putFile(t, "/", "f.txt", []byte("1"))
	g := ts.putFile(t, "/", "g.txt", []byte("2"))
	byID, byObject, kept := ts.secretLink(t, f.ID), ts.secretLink(t, g.ID), ts.secretLink(t, f.ID)
	ts.clock.Advance(time.Minute)

	t.Run("DeleteLinks", func(t *testing.T) {
		if _, err := ts.DeleteLinks(ctx, []string{byID.link.ID}); err != nil {
			t.Fatal(err)
		}
		ts.wantForgotten(t, db, byID)
	})
	t.Run("LastTargetDeleted", func(t *testing.T) {
		if _, err := ts.DeleteObject(ctx, ts.DefaultBucket(), g.ID, false); err != nil {
			t.Fatal(err)
		}
		ts.wantForgotten(t, db, byObject)
	})
	t.Run("OthersUntouched", func(t *testing.T) {
		if n := rowCount(t, db, `SELECT COUNT(*) FROM link_authenticators WHERE link_id = ? AND context = ?`, kept.link.ID, testPHC); n != 1 {
			t.Errorf("a live link lost its password hash")
		}
		if got := ts.link(t, kept.link.ID); got.Token != kept.link.Token {
			t.Errorf("a live link's token: got %q, want %q", got.Token, kept.link.Token)
		}
		if _, err := ts.SessionBySecret(ctx, kept.link.ID, kept.session, kept.link.AuthEpoch, ts.clock.Now()); err != nil {
			t.Errorf("a live link's session: %v", err)
		}
		if n := rowCount(t, db, `SELECT COUNT(*) FROM challenges c JOIN link_authenticators a ON a.id = c.authenticator_id WHERE a.link_id = ?`, kept.link.ID); n != 1 {
			t.Errorf("a live link has %d codes, want 1", n)
		}
	})
}

// TestStore_MigrationForgetsDeletedLinks checks that migration 0007 drops
// the secrets of links deleted before it, and nothing else. The database is
// put back to its state before 0007, with a link deleted the old way.
func TestStore_MigrationForgetsDeletedLinks(t *testing.T) {
	ts := newTestStore(t)
	f := ts.putFile(t, "/", "f.txt", []byte("1"))
	legacy, kept := ts.secretLink(t, f.ID), ts.secretLink(t, f.ID)
	if err := ts.Store.Close(); err != nil {
		t.Fatal(err)
	}
	db := ts.rawDB(t)
	trigger := []string{ // 0002's trigger
		`DROP TRIGGER audit_events_no_delete`,
		`CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END`,
	}
	if onPostgres() {
		trigger = []string{
			`DROP TRIGGER audit_events_no_delete ON audit_events`,
			`DROP FUNCTION audit_events_no_delete()`,
			`CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()`,
		}
	}
	for _, q := range append([]string{
		`UPDATE links SET deleted_at = '2025-03-01T12:00:30.000000Z' WHERE id = '` + legacy.link.ID + `'`,
		`DELETE FROM schema_migrations WHERE version = 7`,
		`DROP TABLE audit_purge`,
	}, trigger...) {
		ts.rawExec(t, db, q)
	}
	ts.Store = openStore(t, ts.dir, ts.clock)
	ts.wantForgotten(t, db, legacy)
	if n := rowCount(t, db, `SELECT COUNT(*) FROM link_authenticators WHERE link_id = ? AND context = ?`, kept.link.ID, testPHC); n != 1 {
		t.Errorf("the migration dropped a live link's password hash")
	}
	if got := ts.link(t, kept.link.ID); got.Token != kept.link.Token {
		t.Errorf("a live link's token after the migration: got %q, want %q", got.Token, kept.link.Token)
	}
	if _, err := ts.SessionBySecret(context.Background(), kept.link.ID, kept.session, kept.link.AuthEpoch, ts.clock.Now()); err != nil {
		t.Errorf("a live link's session after the migration: %v", err)
	}
}
