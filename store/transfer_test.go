package store_test

import (
	"context"
	"errors"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame"
)

var urlSecretPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// newPending returns an upload request by tokenID that expires in an hour.
func newPending(ts *testStore, tokenID string) *sesame.PendingUpload {
	size := int64(1234)
	return &sesame.PendingUpload{
		ID:      sesame.NewID(sesame.PrefixRequest),
		TokenID: tokenID,
		Method:  sesame.TransferPutURL,
		Spec: sesame.FileCreate{
			Placement: sesame.Placement{HasParentPath: true, ParentPath: "/in/box", ParentSource: "/folder", Name: "f.bin", NameSource: "/name"},
			Metadata:  map[string]string{"k": "v"},
			Tags:      []string{"t1", "t2"},
			Declared:  sesame.Declared{Size: &size, SHA256: "ab12", MimeType: "application/pdf", Format: "PDF"},
		},
		Expires: ts.clock.Now().Add(time.Hour),
	}
}

func TestStore_PendingUploads(t *testing.T) {
	ctx := context.Background()

	t.Run("CreateClaimOnce", func(t *testing.T) {
		ts := newTestStore(t)
		p := newPending(ts, "stk_a")
		want := *p
		secret, err := ts.CreatePendingUpload(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if !urlSecretPattern.MatchString(secret) {
			t.Errorf("got secret %q, want 43 base64url characters", secret)
		}
		want.Created, want.Status = ts.clock.Now(), sesame.PendingWaiting
		if diff := cmp.Diff(&want, p); diff != "" {
			t.Errorf("request after create (-want +got):\n%s", diff)
		}
		got, err := ts.PendingUploadByID(ctx, "stk_a", p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(&want, got); diff != "" {
			t.Errorf("stored request (-want +got):\n%s", diff)
		}

		ts.clock.Advance(time.Minute)
		claimed, err := ts.ClaimPendingUpload(ctx, secret)
		if err != nil {
			t.Fatal(err)
		}
		want.Status = sesame.PendingBusy
		if diff := cmp.Diff(&want, claimed); diff != "" {
			t.Errorf("claimed request (-want +got):\n%s", diff)
		}
		_, err = ts.ClaimPendingUpload(ctx, secret)
		wantErr(t, err, sesame.NotFound, "", "")
		if got, err := ts.PendingUploadByID(ctx, "stk_a", p.ID); err != nil || got.Status != sesame.PendingBusy {
			t.Errorf("got %+v, %v; want status %s", got, err, sesame.PendingBusy)
		}
	})

	t.Run("UnknownSecret", func(t *testing.T) {
		ts := newTestStore(t)
		if _, err := ts.CreatePendingUpload(ctx, newPending(ts, "stk_a")); err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{"", "nope", sesame.NewID("")} {
			_, err := ts.ClaimPendingUpload(ctx, s)
			wantErr(t, err, sesame.NotFound, "", "")
		}
	})

	t.Run("ConcurrentClaim", func(t *testing.T) {
		ts := newTestStore(t)
		p := newPending(ts, "stk_a")
		secret, err := ts.CreatePendingUpload(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		const n = 20
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			errs  = make([]error, n)
			wins  = make([]*sesame.PendingUpload, n)
		)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				wins[i], errs[i] = ts.ClaimPendingUpload(ctx, secret)
			}()
		}
		close(start)
		wg.Wait()
		won := 0
		for i, err := range errs {
			switch {
			case err == nil:
				won++
				if wins[i].ID != p.ID || wins[i].Status != sesame.PendingBusy {
					t.Errorf("winner got %+v, want %s busy", wins[i], p.ID)
				}
			case sesame.KindOf(err) != sesame.NotFound:
				t.Errorf("claim %d: got %v, want NotFound", i, err)
			}
		}
		if won != 1 {
			t.Errorf("%d claims won, want exactly 1", won)
		}
	})

	t.Run("Expired", func(t *testing.T) {
		ts := newTestStore(t)
		early := newPending(ts, "stk_a")
		late := newPending(ts, "stk_a")
		s1, err := ts.CreatePendingUpload(ctx, early)
		if err != nil {
			t.Fatal(err)
		}
		s2, err := ts.CreatePendingUpload(ctx, late)
		if err != nil {
			t.Fatal(err)
		}
		ts.clock.Advance(time.Hour - time.Microsecond)
		if _, err := ts.ClaimPendingUpload(ctx, s1); err != nil {
			t.Fatalf("claim just before expiry: %v", err)
		}
		ts.clock.Advance(time.Microsecond)
		_, err = ts.ClaimPendingUpload(ctx, s2)
		wantErr(t, err, sesame.NotFound, "", "")
		// Polling still finds the expired request.
		got, err := ts.PendingUploadByID(ctx, "stk_a", late.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != sesame.PendingWaiting {
			t.Errorf("got status %s, want %s", got.Status, sesame.PendingWaiting)
		}
	})

	t.Run("FinishDone", func(t *testing.T) {
		ts := newTestStore(t)
		p := newPending(ts, "stk_a")
		secret, err := ts.CreatePendingUpload(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ts.ClaimPendingUpload(ctx, secret); err != nil {
			t.Fatal(err)
		}
		obj := sesame.NewID(sesame.PrefixObject)
		if err := ts.FinishPendingUpload(ctx, p.ID, obj, nil); err != nil {
			t.Fatal(err)
		}
		got, err := ts.PendingUploadByID(ctx, "stk_a", p.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := *p
		want.Status, want.ObjectID = sesame.PendingDone, obj
		if diff := cmp.Diff(&want, got); diff != "" {
			t.Errorf("finished request (-want +got):\n%s", diff)
		}
		// The URL stays used.
		_, err = ts.ClaimPendingUpload(ctx, secret)
		wantErr(t, err, sesame.NotFound, "", "")
	})

	t.Run("FinishFailed", func(t *testing.T) {
		ts := newTestStore(t)
		p := newPending(ts, "stk_a")
		secret, err := ts.CreatePendingUpload(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ts.ClaimPendingUpload(ctx, secret); err != nil {
			t.Fatal(err)
		}
		failure := &sesame.Error{
			Kind:    sesame.Invalid,
			Message: "sha256 does not match the received bytes",
			Fields: []sesame.FieldError{
				{Code: "BadState", Detail: "sha256 does not match", Source: "/sha256"},
				{Code: "BadState", Detail: "size is 1234 but 3 bytes were received", Source: "/size"},
			},
			Err: errors.New("internal cause, never shown"),
		}
		if err := ts.FinishPendingUpload(ctx, p.ID, "", failure); err != nil {
			t.Fatal(err)
		}
		got, err := ts.PendingUploadByID(ctx, "stk_a", p.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := *p
		want.Status = sesame.PendingFailed
		want.Failure = &sesame.Error{Kind: failure.Kind, Message: failure.Message, Fields: failure.Fields} // Err is not kept
		if diff := cmp.Diff(&want, got); diff != "" {
			t.Errorf("failed request (-want +got):\n%s", diff)
		}
		if sesame.KindOf(got.Failure) != sesame.Invalid {
			t.Errorf("got failure kind %v, want invalid", sesame.KindOf(got.Failure))
		}
	})

	t.Run("OtherToken", func(t *testing.T) {
		ts := newTestStore(t)
		p := newPending(ts, "stk_a")
		if _, err := ts.CreatePendingUpload(ctx, p); err != nil {
			t.Fatal(err)
		}
		_, err := ts.PendingUploadByID(ctx, "stk_b", p.ID)
		wantErr(t, err, sesame.NotFound, "", "")
		_, err = ts.PendingUploadByID(ctx, "", p.ID)
		wantErr(t, err, sesame.NotFound, "", "")
		_, err = ts.PendingUploadByID(ctx, "stk_a", sesame.NewID(sesame.PrefixRequest))
		wantErr(t, err, sesame.NotFound, "", "")
	})
}

func TestStore_Grants(t *testing.T) {
	ctx := context.Background()

	t.Run("RoundTrip", func(t *testing.T) {
		ts := newTestStore(t)
		exp := ts.clock.Now().Add(time.Hour)
		ids := []string{sesame.NewID(sesame.PrefixObject), sesame.NewID(sesame.PrefixObject)}
		secret, err := ts.CreateGrant(ctx, &sesame.Grant{ObjectIDs: ids, Archive: "zip", Expires: exp})
		if err != nil {
			t.Fatal(err)
		}
		if !urlSecretPattern.MatchString(secret) {
			t.Errorf("got secret %q, want 43 base64url characters", secret)
		}
		single, err := ts.CreateGrant(ctx, &sesame.Grant{BucketID: ts.DefaultBucket(), ObjectIDs: ids[:1], Expires: exp})
		if err != nil {
			t.Fatal(err)
		}
		ts.clock.Advance(time.Hour - time.Microsecond)
		for _, tt := range []struct {
			secret string
			want   *sesame.Grant
		}{
			{secret, &sesame.Grant{BucketID: ts.DefaultBucket(), ObjectIDs: ids, Archive: "zip", Expires: exp}},
			{single, &sesame.Grant{BucketID: ts.DefaultBucket(), ObjectIDs: ids[:1], Expires: exp}},
		} {
			got, err := ts.GrantBySecret(ctx, tt.secret)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("grant (-want +got):\n%s", diff)
			}
		}
		// A grant can be used more than once until it expires.
		if _, err := ts.GrantBySecret(ctx, secret); err != nil {
			t.Errorf("second use: %v", err)
		}
	})

	t.Run("Expired", func(t *testing.T) {
		ts := newTestStore(t)
		secret, err := ts.CreateGrant(ctx, &sesame.Grant{ObjectIDs: []string{"pos_x"}, Expires: ts.clock.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		ts.clock.Advance(time.Hour)
		_, err = ts.GrantBySecret(ctx, secret)
		wantErr(t, err, sesame.NotFound, "", "")
		ts.clock.Advance(48 * time.Hour)
		_, err = ts.GrantBySecret(ctx, secret)
		wantErr(t, err, sesame.NotFound, "", "")
	})

	t.Run("Unknown", func(t *testing.T) {
		ts := newTestStore(t)
		if _, err := ts.CreateGrant(ctx, &sesame.Grant{ObjectIDs: []string{"pos_x"}, Expires: ts.clock.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{"", "nope", sesame.NewID("")} {
			_, err := ts.GrantBySecret(ctx, s)
			wantErr(t, err, sesame.NotFound, "", "")
		}
	})

	t.Run("SecretsAreSeparate", func(t *testing.T) {
		// An upload URL's secret is no download grant, and the other way round.
		ts := newTestStore(t)
		up, err := ts.CreatePendingUpload(ctx, newPending(ts, "stk_a"))
		if err != nil {
			t.Fatal(err)
		}
		dl, err := ts.CreateGrant(ctx, &sesame.Grant{ObjectIDs: []string{"pos_x"}, Expires: ts.clock.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		_, err = ts.GrantBySecret(ctx, up)
		wantErr(t, err, sesame.NotFound, "", "")
		_, err = ts.ClaimPendingUpload(ctx, dl)
		wantErr(t, err, sesame.NotFound, "", "")
	})
}
