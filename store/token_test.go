package store_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame"
)

var secretPattern = regexp.MustCompile(`^sst_[A-Za-z0-9_-]{43}$`)

func TestStore_CreateToken(t *testing.T) {
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		ts := newTestStore(t)
		expires := ts.clock.Now().Add(24 * time.Hour)
		scopes := []sesame.Scope{sesame.ScopeObjectsRead, sesame.ScopeLinksWrite}
		tok, secret, err := ts.CreateToken(ctx, "ci", scopes, expires)
		if err != nil {
			t.Fatal(err)
		}
		if !secretPattern.MatchString(secret) {
			t.Errorf("got secret %q, want sst_ and 43 base64url characters", secret)
		}
		if b, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(secret, sesame.TokenPrefix)); err != nil || len(b) != 32 {
			t.Errorf("secret body decodes to %d bytes (%v), want 32", len(b), err)
		}
		if !sesame.ValidID(sesame.PrefixToken, tok.ID) {
			t.Errorf("got id %q, want a %s id", tok.ID, sesame.PrefixToken)
		}
		want := &sesame.Token{ID: tok.ID, Name: "ci", Scopes: scopes, Created: ts.clock.Now(), Expires: expires}
		if diff := cmp.Diff(want, tok); diff != "" {
			t.Errorf("token (-want +got):\n%s", diff)
		}
		list, err := ts.FindTokens(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]*sesame.Token{want}, list); diff != "" {
			t.Errorf("FindTokens (-want +got):\n%s", diff)
		}
		// Each secret is new.
		_, secret2, err := ts.CreateToken(ctx, "ci", scopes, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if secret2 == secret {
			t.Error("two tokens got the same secret")
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		ts := newTestStore(t)
		now := ts.clock.Now()
		for _, tt := range []struct {
			name    string
			tname   string
			scopes  []sesame.Scope
			expires time.Time
			source  string
		}{
			{"UnknownScope", "x", []sesame.Scope{sesame.ScopeObjectsRead, "objects:delete"}, time.Time{}, "/scopes"},
			{"NoScopes", "x", nil, time.Time{}, "/scopes"},
			{"NoName", "  ", []sesame.Scope{sesame.ScopeAdmin}, time.Time{}, "/name"},
			{"ExpiresNow", "x", []sesame.Scope{sesame.ScopeAdmin}, now, "/expires"},
			{"ExpiresInPast", "x", []sesame.Scope{sesame.ScopeAdmin}, now.Add(-time.Hour), "/expires"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				tok, secret, err := ts.CreateToken(ctx, tt.tname, tt.scopes, tt.expires)
				wantErr(t, err, sesame.Invalid, tt.source, "")
				if tok != nil || secret != "" {
					t.Errorf("got %+v and %q with the error, want nothing", tok, secret)
				}
			})
		}
		list, err := ts.FindTokens(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 0 {
			t.Errorf("got %d tokens, want 0", len(list))
		}
	})

	t.Run("FindNewestFirst", func(t *testing.T) {
		ts := newTestStore(t)
		var ids []string
		for _, name := range []string{"one", "two", "three"} {
			tok, _, err := ts.CreateToken(ctx, name, []sesame.Scope{sesame.ScopeAdmin}, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			ids = append([]string{tok.ID}, ids...)
			ts.clock.Advance(time.Second)
		}
		list, err := ts.FindTokens(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, tok := range list {
			got = append(got, tok.ID)
		}
		if diff := cmp.Diff(ids, got); diff != "" {
			t.Errorf("token ids (-want +got):\n%s", diff)
		}
	})
}

func TestStore_Authenticate(t *testing.T) {
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		ts := newTestStore(t)
		created, secret, err := ts.CreateToken(ctx, "ci", []sesame.Scope{sesame.ScopeObjectsWrite}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		ts.clock.Advance(time.Hour)
		tok, err := ts.Authenticate(ctx, secret)
		if err != nil {
			t.Fatal(err)
		}
		first := ts.clock.Now()
		want := &sesame.Token{ID: created.ID, Name: "ci", Scopes: []sesame.Scope{sesame.ScopeObjectsWrite}, Created: created.Created, LastUsed: first}
		if diff := cmp.Diff(want, tok); diff != "" {
			t.Errorf("token (-want +got):\n%s", diff)
		}
		if !tok.Has(sesame.ScopeObjectsWrite) || tok.Has(sesame.ScopeAdmin) {
			t.Errorf("got scopes %v, want objects:write only", tok.Scopes)
		}
		if got := lastUsed(t, ts, created.ID); !got.Equal(first) {
			t.Errorf("stored last used %v, want %v", got, first)
		}
		// A later use moves it on.
		ts.clock.Advance(2 * time.Hour)
		tok, err = ts.Authenticate(ctx, secret)
		if err != nil {
			t.Fatal(err)
		}
		later := ts.clock.Now()
		if !tok.LastUsed.Equal(later) {
			t.Errorf("got last used %v, want %v", tok.LastUsed, later)
		}
		if got := lastUsed(t, ts, created.ID); !got.Equal(later) {
			t.Errorf("stored last used %v, want %v", got, later)
		}
	})

	t.Run("BadSecret", func(t *testing.T) {
		ts := newTestStore(t)
		_, secret, err := ts.CreateToken(ctx, "ci", []sesame.Scope{sesame.ScopeAdmin}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		flipped := []byte(secret)
		if flipped[10] == 'A' {
			flipped[10] = 'B'
		} else {
			flipped[10] = 'A'
		}
		other := "sst_" + strings.Repeat("A", 43)
		for _, tt := range []struct{ name, secret string }{
			{"Empty", ""},
			{"PrefixOnly", "sst_"},
			{"Short", secret[:len(secret)-1]},
			{"Long", secret + "A"},
			{"WrongPrefix", "xyz_" + secret[4:]},
			{"NoPrefix", secret[4:]},
			{"Bearer", "Bearer " + secret},
			{"OneCharChanged", string(flipped)},
			{"UnknownWellFormed", other},
			{"Whitespace", " " + secret[1:]},
		} {
			t.Run(tt.name, func(t *testing.T) {
				tok, err := ts.Authenticate(ctx, tt.secret)
				wantErr(t, err, sesame.Unauthenticated, "", "")
				if tok != nil {
					t.Errorf("got token %+v with the error, want nil", tok)
				}
			})
		}
		// None of that counted as a use.
		if got := lastUsedByName(t, ts, "ci"); !got.IsZero() {
			t.Errorf("got last used %v after failed attempts, want zero", got)
		}
	})

	t.Run("Revoked", func(t *testing.T) {
		ts := newTestStore(t)
		tok, secret, err := ts.CreateToken(ctx, "ci", []sesame.Scope{sesame.ScopeAdmin}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		_, keep, err := ts.CreateToken(ctx, "keep", []sesame.Scope{sesame.ScopeAdmin}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		ts.clock.Advance(time.Minute)
		revokedAt := ts.clock.Now()
		if err := ts.RevokeToken(ctx, tok.ID); err != nil {
			t.Fatal(err)
		}
		_, err = ts.Authenticate(ctx, secret)
		wantErr(t, err, sesame.Unauthenticated, "", "")
		if _, err := ts.Authenticate(ctx, keep); err != nil {
			t.Errorf("the other token stopped working: %v", err)
		}
		// Revoking again keeps the first time.
		ts.clock.Advance(time.Hour)
		if err := ts.RevokeToken(ctx, tok.ID); err != nil {
			t.Fatalf("second revoke: %v", err)
		}
		if got := tokenByID(t, ts, tok.ID).Revoked; !got.Equal(revokedAt) {
			t.Errorf("got revoked at %v, want %v", got, revokedAt)
		}
		_, err = ts.Authenticate(ctx, secret)
		wantErr(t, err, sesame.Unauthenticated, "", "")
	})

	t.Run("Expired", func(t *testing.T) {
		ts := newTestStore(t)
		expires := ts.clock.Now().Add(time.Hour)
		_, secret, err := ts.CreateToken(ctx, "ci", []sesame.Scope{sesame.ScopeAdmin}, expires)
		if err != nil {
			t.Fatal(err)
		}
		ts.clock.Advance(time.Hour - time.Microsecond)
		if _, err := ts.Authenticate(ctx, secret); err != nil {
			t.Fatalf("just before expiry: %v", err)
		}
		ts.clock.Advance(time.Microsecond)
		_, err = ts.Authenticate(ctx, secret)
		wantErr(t, err, sesame.Unauthenticated, "", "")
		ts.clock.Advance(24 * time.Hour)
		_, err = ts.Authenticate(ctx, secret)
		wantErr(t, err, sesame.Unauthenticated, "", "")
	})

	t.Run("RevokeUnknown", func(t *testing.T) {
		ts := newTestStore(t)
		err := ts.RevokeToken(ctx, sesame.NewID(sesame.PrefixToken))
		wantErr(t, err, sesame.NotFound, "", "")
	})
}

func lastUsed(t *testing.T, ts *testStore, id string) time.Time {
	t.Helper()
	return tokenByID(t, ts, id).LastUsed
}

func tokenByID(t *testing.T, ts *testStore, id string) *sesame.Token {
	t.Helper()
	list, err := ts.FindTokens(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range list {
		if tok.ID == id {
			return tok
		}
	}
	t.Fatalf("no token %s", id)
	return nil
}

func lastUsedByName(t *testing.T, ts *testStore, name string) time.Time {
	t.Helper()
	list, err := ts.FindTokens(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range list {
		if tok.Name == name {
			return tok.LastUsed
		}
	}
	t.Fatalf("no token named %s", name)
	return time.Time{}
}

// TestStore_SecretsNotStored checks that no secret the store hands out
// (API tokens, upload URLs, download URLs) reaches the database files.
func TestStore_SecretsNotStored(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	var secrets, ids []string
	for i := range 5 {
		tok, secret, err := ts.CreateToken(ctx, "t", []sesame.Scope{sesame.ScopeAdmin}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ts.Authenticate(ctx, secret); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if err := ts.RevokeToken(ctx, tok.ID); err != nil {
				t.Fatal(err)
			}
		}
		secrets = append(secrets, secret)
		ids = append(ids, tok.ID)
	}
	up, err := ts.CreatePendingUpload(ctx, &sesame.PendingUpload{ID: sesame.NewID(sesame.PrefixRequest), TokenID: "stk_x",
		Method: sesame.TransferPutURL, Spec: sesame.FileCreate{Placement: placeAt("", "f")}, Expires: ts.clock.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.ClaimPendingUpload(ctx, up); err != nil {
		t.Fatal(err)
	}
	grant, err := ts.CreateGrant(ctx, &sesame.Grant{ObjectIDs: []string{"pos_x"}, Expires: ts.clock.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, up, grant)

	check := func(t *testing.T, when string) {
		t.Helper()
		var all []byte
		for _, p := range ts.dbParts(t) {
			all = append(all, p.data...)
			for _, s := range secrets {
				body := strings.TrimPrefix(s, sesame.TokenPrefix)
				if bytes.Contains(p.data, []byte(body)) {
					t.Errorf("%s: %s holds the secret %s…", when, p.name, s[:8])
				}
			}
		}
		// The search would find stored text: the token ids are there.
		for _, id := range ids {
			if !bytes.Contains(all, []byte(id)) {
				t.Errorf("%s: token id %s is in no database file; the search is blind", when, id)
			}
		}
	}
	check(t, "open")
	if err := ts.Close(); err != nil {
		t.Fatal(err)
	}
	check(t, "closed")
}
