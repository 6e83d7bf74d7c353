package store_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/store"
)

func socialState(now time.Time, state string) *sesame.SocialState {
	return &sesame.SocialState{State: state, LinkToken: "link-token-of-43-characters-aaaaaaaaaaaaaaa", Verifier: "verifier-" + state,
		AuthID: "lau_1", Provider: "Acme SSO", Nonce: "a-nonce", Created: now, Expires: now.Add(sesame.SocialStateTTL)}
}

// A sign-in in progress comes back once, as it was stored, whichever of
// two stores on one database (two replicas) takes it; then never again.
func TestStore_SocialStateIsTakenOnceAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	other, err := store.Open(ctx, store.Config{DataDir: ts.dir, DatabaseURL: databaseURL(t, ts.dir), Now: ts.clock.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })

	now := ts.clock.Now()
	want := socialState(now, "state-one")
	if err := ts.CreateSocialState(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := other.TakeSocialState(ctx, "state-one", now.Add(time.Minute))
	if err != nil {
		t.Fatalf("the other replica takes the state: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("state (-stored +taken):\n%s", diff)
	}
	for name, st := range map[string]*store.Store{"the same replica": other, "the first replica": ts.Store} {
		if _, err := st.TakeSocialState(ctx, "state-one", now.Add(time.Minute)); sesame.KindOf(err) != sesame.NotFound {
			t.Errorf("taken again on %s: %v, want NotFound", name, err)
		}
	}
	if _, err := ts.TakeSocialState(ctx, "never-made", now); sesame.KindOf(err) != sesame.NotFound {
		t.Errorf("an unknown state: %v, want NotFound", err)
	}
}

// Callbacks racing with one state (a replayed redirect, a double click):
// exactly one of them gets it.
func TestStore_SocialStateConcurrentTakes(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	now := ts.clock.Now()
	if err := ts.CreateSocialState(ctx, socialState(now, "raced")); err != nil {
		t.Fatal(err)
	}
	const n = 16
	var wg sync.WaitGroup
	var mu sync.Mutex
	won, lost := 0, 0
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			_, err := ts.TakeSocialState(ctx, "raced", now)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case sesame.KindOf(err) == sesame.NotFound:
				lost++
			default:
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	if won != 1 || lost != n-1 {
		t.Errorf("%d takes won and %d lost, want 1 and %d", won, lost, n-1)
	}
}

// A sign-in left at the provider for longer than SocialStateTTL is
// refused, and a later sign-in clears its row away.
func TestStore_SocialStateExpires(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	now := ts.clock.Now()
	if err := ts.CreateSocialState(ctx, socialState(now, "slow")); err != nil {
		t.Fatal(err)
	}
	late := now.Add(sesame.SocialStateTTL)
	if _, err := ts.TakeSocialState(ctx, "slow", late); sesame.KindOf(err) != sesame.NotFound {
		t.Errorf("taken at its expiry: %v, want NotFound", err)
	}
	db := ts.rawDB(t)
	count := func() int {
		t.Helper()
		var n int
		if err := db.QueryRow(`SELECT COUNT(*) FROM oidc_states`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 1 {
		t.Fatalf("%d rows before the sweep, want the expired one", n)
	}
	ts.clock.Advance(sesame.SocialStateTTL)
	if err := ts.CreateSocialState(ctx, socialState(late, "next")); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Errorf("%d rows after the next sign-in began, want only that one", n)
	}
	if _, err := ts.TakeSocialState(ctx, "next", late.Add(time.Second)); err != nil {
		t.Errorf("the live state: %v", err)
	}
}

// The database holds neither the state, the link token nor the PKCE
// verifier in the clear.
func TestStore_SocialStateKeepsNoSecretInTheClear(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	s := socialState(ts.clock.Now(), "state-that-is-secret-8a9c1f")
	if err := ts.CreateSocialState(ctx, s); err != nil {
		t.Fatal(err)
	}
	for _, part := range ts.dbParts(t) {
		for _, secret := range []string{s.State, s.LinkToken, s.Verifier} {
			if bytes.Contains(part.data, []byte(secret)) {
				t.Errorf("%s holds %q in the clear", part.name, secret)
			}
		}
	}
}

// Migration 0014 lets link_authenticators hold social authenticators
// (SQLite rebuilds the table for that): the authenticators of a database
// made before it keep every column, failures and locks included. The
// rows before the migration are written as that release wrote them (the
// store's code of today writes columns that later migrations add).
func TestStore_MigrationKeepsAuthenticatorsAndAllowsSocial(t *testing.T) {
	ctx := context.Background()
	ts := &testStore{clock: newClock(), dir: t.TempDir()}
	cfg := store.Config{DataDir: ts.dir, DatabaseURL: databaseURL(t, ts.dir), Now: ts.clock.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	old, err := store.OpenAtVersion(ctx, cfg, 13)
	if err != nil {
		t.Fatal(err)
	}
	ts.Store = old
	f := ts.putFile(t, "", "a.txt", []byte("a"))
	const phc = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"
	linkID, authID, err := old.InsertLinkAtVersion13(ctx, f.ID, phc, ts.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	var lockedUntil time.Time
	for range sesame.LockAfterFailures {
		until, err := old.RecordAuthFailure(ctx, authID, ts.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if until.After(lockedUntil) {
			lockedUntil = until
		}
	}
	if _, err := old.RecordAuthFailure(ctx, authID, ts.clock.Now().Add(sesame.FirstLock)); err != nil {
		t.Fatal(err)
	}
	if lockedUntil.IsZero() {
		t.Fatal("the authenticator never locked before the migration; the test proves nothing")
	}
	social := []sesame.LinkAuthenticator{{ID: sesame.NewID("lau_"), Type: sesame.AuthSocial, Context: "kate@example.com"}}
	if err := old.InsertAuthenticatorRow(ctx, linkID, social[0]); err == nil {
		t.Fatal("a database before migration 0014 took a social authenticator; the test proves nothing")
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	ts.Store, err = store.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ts.Store.Close() })
	want := []sesame.LinkAuthenticator{{ID: authID, Type: sesame.AuthPassword, Context: phc, Failures: 1, LockedUntil: lockedUntil}}
	if diff := cmp.Diff(want, ts.link(t, linkID).Authenticators); diff != "" {
		t.Errorf("authenticators across the migration (-want +got):\n%s", diff)
	}
	it := ts.linkItem(f.ID)
	it.Source = "/links/0"
	got, err := ts.CreateLinks(ctx, []sesame.LinkCreate{it}, [][]sesame.LinkAuthenticator{social}, ts.clock.Now())
	if err != nil {
		t.Fatalf("a social authenticator after the migration: %v", err)
	}
	if a := ts.link(t, got[0].ID).Authenticators[0]; a.Type != sesame.AuthSocial || a.Context != "kate@example.com" {
		t.Errorf("stored %+v, want the social authenticator", a)
	}
}
