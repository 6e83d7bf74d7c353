package store_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame"
)

// claim begins key for tokenID and fails the test unless the key was free.
func (ts *testStore) claim(t *testing.T, tokenID, key, route string) {
	t.Helper()
	prev, err := ts.BeginIdempotent(context.Background(), tokenID, key, route)
	if err != nil {
		t.Fatalf("begin %s/%s: %v", tokenID, key, err)
	}
	if prev != nil {
		t.Fatalf("begin %s/%s: got earlier %+v, want the key claimed", tokenID, key, prev)
	}
}

// replay begins key for tokenID and fails the test unless the key was taken.
func (ts *testStore) replay(t *testing.T, tokenID, key string) *sesame.IdempotentResponse {
	t.Helper()
	prev, err := ts.BeginIdempotent(context.Background(), tokenID, key, "POST /other")
	if err != nil {
		t.Fatalf("begin %s/%s: %v", tokenID, key, err)
	}
	if prev == nil {
		t.Fatalf("begin %s/%s: claimed the key again, want the earlier request", tokenID, key)
	}
	return prev
}

func TestStore_Idempotency(t *testing.T) {
	ctx := context.Background()
	const route = "POST /v1beta/share/link/create"

	t.Run("ClaimOnce", func(t *testing.T) {
		ts := newTestStore(t)
		ts.claim(t, "stk_a", "k1", route)
		want := &sesame.IdempotentResponse{Route: route, State: sesame.IdempotencyPending}
		for range 2 {
			if diff := gocmp.Diff(want, ts.replay(t, "stk_a", "k1")); diff != "" {
				t.Errorf("pending record (-want +got):\n%s", diff)
			}
		}
	})

	t.Run("Race", func(t *testing.T) {
		ts := newTestStore(t)
		const n = 30
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			prevs = make([]*sesame.IdempotentResponse, n)
			errs  = make([]error, n)
		)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				prevs[i], errs[i] = ts.BeginIdempotent(ctx, "stk_a", "race", route)
			}()
		}
		close(start)
		wg.Wait()
		claims := 0
		for i := range n {
			if errs[i] != nil {
				t.Errorf("caller %d: %v", i, errs[i])
				continue
			}
			if prevs[i] == nil {
				claims++
				continue
			}
			if prevs[i].State != sesame.IdempotencyPending || prevs[i].Route != route {
				t.Errorf("caller %d: got %+v, want the pending claim", i, prevs[i])
			}
		}
		if claims != 1 {
			t.Errorf("got %d callers claiming the key, want exactly 1", claims)
		}
	})

	t.Run("FinishThenReplay", func(t *testing.T) {
		ts := newTestStore(t)
		body := []byte(`{"result":{"share_link_objects":[{"link":"https://x/s/idem-secret-body-7f3a9c"}]}}`)
		fp := []byte{0xde, 0xad, 0xbe, 0xef, 0, 1}
		ts.claim(t, "stk_a", "idem-key-visible", route)
		if err := ts.FinishIdempotent(ctx, "stk_a", "idem-key-visible", fp, 201, body); err != nil {
			t.Fatal(err)
		}
		want := &sesame.IdempotentResponse{Route: route, State: sesame.IdempotencyDone, Fingerprint: fp, Status: 201, Body: body}
		if diff := gocmp.Diff(want, ts.replay(t, "stk_a", "idem-key-visible")); diff != "" {
			t.Errorf("replayed response (-want +got):\n%s", diff)
		}
		// A finished key is not released by a later abandon.
		if err := ts.AbandonIdempotent(ctx, "stk_a", "idem-key-visible"); err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(want, ts.replay(t, "stk_a", "idem-key-visible")); diff != "" {
			t.Errorf("after abandon (-want +got):\n%s", diff)
		}

		check := func(t *testing.T, when string) {
			t.Helper()
			all := ts.dbBytes(t)
			if bytes.Contains(all, []byte("idem-secret-body-7f3a9c")) {
				t.Errorf("%s: the database holds the response body in the clear", when)
			}
			// The search would find stored text: the key is there.
			if !bytes.Contains(all, []byte("idem-key-visible")) {
				t.Errorf("%s: the key is in no database file; the search is blind", when)
			}
		}
		check(t, "open")
		ts.reopen(t)
		check(t, "reopened")
		if diff := gocmp.Diff(want, ts.replay(t, "stk_a", "idem-key-visible")); diff != "" {
			t.Errorf("after reopen (-want +got):\n%s", diff)
		}
	})

	t.Run("EmptyBody", func(t *testing.T) {
		ts := newTestStore(t)
		ts.claim(t, "stk_a", "k", route)
		if err := ts.FinishIdempotent(ctx, "stk_a", "k", nil, 204, nil); err != nil {
			t.Fatal(err)
		}
		got := ts.replay(t, "stk_a", "k")
		if got.State != sesame.IdempotencyDone || got.Status != 204 || len(got.Body) != 0 {
			t.Errorf("got %+v, want done, 204, no body", got)
		}
	})

	t.Run("PerToken", func(t *testing.T) {
		ts := newTestStore(t)
		ts.claim(t, "stk_a", "shared", route)
		ts.claim(t, "stk_b", "shared", "POST /elsewhere")
		if err := ts.FinishIdempotent(ctx, "stk_a", "shared", []byte("fa"), 200, []byte("a")); err != nil {
			t.Fatal(err)
		}
		if got := ts.replay(t, "stk_b", "shared"); got.State != sesame.IdempotencyPending || got.Route != "POST /elsewhere" || got.Body != nil {
			t.Errorf("token b: got %+v, want its own pending claim", got)
		}
		if got := ts.replay(t, "stk_a", "shared"); got.State != sesame.IdempotencyDone || string(got.Body) != "a" {
			t.Errorf("token a: got %+v, want its own response", got)
		}
	})

	t.Run("ExpiresAfterADay", func(t *testing.T) {
		ts := newTestStore(t)
		ts.claim(t, "stk_a", "k", route)
		if err := ts.FinishIdempotent(ctx, "stk_a", "k", []byte("f"), 201, []byte("first")); err != nil {
			t.Fatal(err)
		}
		ts.clock.Advance(24*time.Hour - time.Microsecond)
		if got := ts.replay(t, "stk_a", "k"); string(got.Body) != "first" {
			t.Errorf("just under a day: got body %q, want %q", got.Body, "first")
		}
		ts.clock.Advance(2 * time.Microsecond)
		ts.claim(t, "stk_a", "k", "POST /second")
		want := &sesame.IdempotentResponse{Route: "POST /second", State: sesame.IdempotencyPending}
		if diff := gocmp.Diff(want, ts.replay(t, "stk_a", "k")); diff != "" {
			t.Errorf("after the second claim (-want +got):\n%s", diff)
		}
	})

	t.Run("Abandon", func(t *testing.T) {
		ts := newTestStore(t)
		ts.claim(t, "stk_a", "k", route)
		ts.claim(t, "stk_a", "other", route)
		if err := ts.AbandonIdempotent(ctx, "stk_a", "k"); err != nil {
			t.Fatal(err)
		}
		ts.claim(t, "stk_a", "k", route)
		ts.replay(t, "stk_a", "other") // only the one key is released
		// Abandoning an unknown key is no error.
		if err := ts.AbandonIdempotent(ctx, "stk_a", "never"); err != nil {
			t.Errorf("abandon unknown key: %v", err)
		}
	})

	t.Run("SealedResponse", func(t *testing.T) {
		ts := newTestStore(t)
		for _, k := range []string{"k1", "k2", "k3"} {
			ts.claim(t, "stk_a", k, route)
			if err := ts.FinishIdempotent(ctx, "stk_a", k, []byte("f"), 201, []byte("body of "+k)); err != nil {
				t.Fatal(err)
			}
		}
		db := ts.rawDB(t)
		var sealed []byte
		if err := db.QueryRow(`SELECT response FROM idempotency_keys WHERE token_id = 'stk_a' AND key = 'k1'`).Scan(&sealed); err != nil {
			t.Fatal(err)
		}
		// A response moved to another key does not open there.
		ts.rawExec(t, db, `UPDATE idempotency_keys SET response = ? WHERE token_id = 'stk_a' AND key = 'k2'`, sealed)
		if prev, err := ts.BeginIdempotent(ctx, "stk_a", "k2", route); err == nil {
			t.Errorf("got %+v for a response sealed under another key, want an error", prev)
		}
		// Nor does a changed one.
		sealed[len(sealed)-1] ^= 1
		ts.rawExec(t, db, `UPDATE idempotency_keys SET response = ? WHERE token_id = 'stk_a' AND key = 'k1'`, sealed)
		if prev, err := ts.BeginIdempotent(ctx, "stk_a", "k1", route); err == nil {
			t.Errorf("got %+v for a tampered response, want an error", prev)
		}
		if got := ts.replay(t, "stk_a", "k3"); string(got.Body) != "body of k3" {
			t.Errorf("got body %q, want %q", got.Body, "body of k3")
		}
	})
}
