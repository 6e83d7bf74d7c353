package sesame_test

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sesame-share/sesame"
)

func TestInScope(t *testing.T) {
	folder := &sesame.Object{ID: "pos_f", BucketID: "b", Type: sesame.TypeFolder, Path: "/docs"}
	file := &sesame.Object{ID: "pos_x", BucketID: "b", Type: sesame.TypeFile, Path: "/x.txt"}
	targets := []*sesame.Object{folder, file}
	for _, tc := range []struct {
		name string
		o    *sesame.Object
		want bool
	}{
		{"a target file", &sesame.Object{ID: "pos_x", BucketID: "b", Path: "/x.txt"}, true},
		{"a target folder", &sesame.Object{ID: "pos_f", BucketID: "b", Path: "/docs"}, true},
		{"inside a folder target", &sesame.Object{ID: "pos_1", BucketID: "b", Path: "/docs/a/b.txt"}, true},
		{"a sibling whose name extends the folder's", &sesame.Object{ID: "pos_2", BucketID: "b", Path: "/docs2/a.txt"}, false},
		{"the folder target's parent", &sesame.Object{ID: "pos_3", BucketID: "b", Path: "/"}, false},
		{"beside a file target", &sesame.Object{ID: "pos_4", BucketID: "b", Path: "/y.txt"}, false},
		{"below a file target", &sesame.Object{ID: "pos_5", BucketID: "b", Path: "/x.txt/z"}, false},
		{"the same path in another bucket", &sesame.Object{ID: "pos_6", BucketID: "c", Path: "/docs/a.txt"}, false},
		{"the target's id in another bucket", &sesame.Object{ID: "pos_x", BucketID: "c", Path: "/x.txt"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sesame.InScope(targets, tc.o); got != tc.want {
				t.Errorf("InScope(%s) = %v, want %v", tc.o.Path, got, tc.want)
			}
		})
	}
	if sesame.InScope(nil, file) {
		t.Error("a link without targets reaches nothing")
	}
}

// deadLinks makes one link for each reason a link is dead, and returns
// their tokens, with an unknown token first.
func deadLinks(t testing.TB, e *linkEnv) map[string]string {
	ctx := context.Background()
	pw := []sesame.AuthenticatorInput{{Type: sesame.AuthPassword, Context: "correct horse battery staple"}}
	mk := func(expires time.Time, maxAccess int) *sesame.Link {
		it := e.item()
		it.Authenticators = pw
		it.Expires = expires
		it.MaxAccessCount = &maxAccess
		links, err := e.svc.Create(admin, []sesame.LinkCreate{it})
		if err != nil {
			t.Fatal(err)
		}
		return links[0]
	}
	expired := mk(e.now().Add(time.Hour), 5)
	deleted := mk(time.Time{}, 5)
	if _, err := e.st.DeleteLinks(ctx, []string{deleted.ID}); err != nil {
		t.Fatal(err)
	}
	exhausted := mk(time.Time{}, 1)
	if _, _, err := e.st.SignIn(ctx, exhausted, exhausted.Authenticators[0].ID, "", "", e.now()); err != nil {
		t.Fatal(err)
	}
	e.advance(2 * time.Hour)
	locked := mk(time.Time{}, 5)
	for i := 0; i < sesame.LockAfterFailures; i++ {
		if _, err := e.st.RecordAuthFailure(ctx, locked.Authenticators[0].ID, e.now()); err != nil {
			t.Fatal(err)
		}
	}
	return map[string]string{"unknown": strings.Repeat("Q", sesame.LinkTokenLen), "expired": expired.Token,
		"deleted": deleted.Token, "exhausted": exhausted.Token, "locked": locked.Token}
}

func newPortalService(e *linkEnv) *sesame.PortalService {
	return &sesame.PortalService{Access: e.st, Objects: e.st, Blobs: e.st, Audit: e.st, Now: e.clock}
}

func noSession(string) string { return "" }

func TestPortalService_DeadLinksAnswerAlike(t *testing.T) {
	e := newLinkEnv(t, sesame.DefaultLinkPolicy())
	ps := newPortalService(e)
	for reason, token := range deadLinks(t, e) {
		v, err := ps.Open(context.Background(), token, noSession, sesame.Visitor{IP: "192.0.2.1"})
		if v != nil || err != sesame.ErrDeadLink {
			t.Errorf("%s: Open = %v, %v; want nil, ErrDeadLink", reason, v, err)
		}
	}
	live := e.create(t, e.item())[0]
	if _, err := ps.Open(context.Background(), live.Token, noSession, sesame.Visitor{}); err != nil {
		t.Errorf("a live link: %v", err)
	}
}

func TestPortalService_ResolveHidesWhatIsOutside(t *testing.T) {
	e := newLinkEnv(t, sesame.DefaultLinkPolicy())
	ps := newPortalService(e)
	ctx := context.Background()
	l := e.create(t, e.item())[0]
	v, err := ps.Open(ctx, l.Token, noSession, sesame.Visitor{})
	if err != nil {
		t.Fatal(err)
	}
	if o, err := ps.Resolve(ctx, v, e.file.ID); err != nil || o.ID != e.file.ID {
		t.Fatalf("the target: %v, %v", o, err)
	}
	_, outside := ps.Resolve(ctx, v, e.file2.ID)
	_, missing := ps.Resolve(ctx, v, sesame.NewID(sesame.PrefixObject))
	_, malformed := ps.Resolve(ctx, v, "../../etc")
	for name, err := range map[string]error{"outside": outside, "missing": missing, "malformed": malformed} {
		if sesame.KindOf(err) != sesame.NotFound || err.Error() != outside.Error() {
			t.Errorf("%s: %v, want the same NotFound as an object outside the link", name, err)
		}
	}
}

// BenchmarkPortalService_OpenDead opens a dead link of each kind; the
// reasons should cost the same, within noise.
func BenchmarkPortalService_OpenDead(b *testing.B) {
	e := newLinkEnv(b, sesame.DefaultLinkPolicy())
	ps := newPortalService(e)
	ctx := context.Background()
	for _, reason := range []string{"unknown", "expired", "deleted", "exhausted", "locked"} {
		token := deadLinks(b, e)[reason]
		b.Run(reason, func(b *testing.B) {
			start := cpuTime()
			for b.Loop() {
				if _, err := ps.Open(ctx, token, noSession, sesame.Visitor{}); !errors.Is(err, sesame.ErrDeadLink) {
					b.Fatal(err)
				}
			}
			// CPU time moves less than wall time when other work shares
			// the machine.
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime is the CPU time the process has used, in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
