package store_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/store"
)

// The store's side of the hot paths, one call per op, on a real SQLite
// file, or on PostgreSQL when SESAME_TEST_POSTGRES_DSN names a server (as
// for the store's tests): open a link by its token, check a session, claim
// a download, create a link, list a page. Run with
//
//	go test -run '^$' -bench . -benchmem ./store/

type hotPath struct {
	st      *store.Store
	file    *sesame.Object
	link    *sesame.Link
	token   string
	session *sesame.Session
	secret  string
}

func newHotPath(b *testing.B) *hotPath {
	b.Helper()
	ctx := context.Background()
	dir := b.TempDir()
	st, err := store.Open(ctx, store.Config{DataDir: dir, DatabaseURL: databaseURL(b, dir)}) // PostgreSQL with SESAME_TEST_POSTGRES_DSN
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	h := &hotPath{st: st}
	u, err := st.Stage(ctx, bytes.NewReader(make([]byte, 10<<10)), "small.bin", 0)
	if err != nil {
		b.Fatal(err)
	}
	if h.file, err = st.CreateFile(ctx, sesame.FileCreate{Placement: sesame.Placement{Name: "small.bin"}}, u); err != nil {
		b.Fatal(err)
	}
	h.link = h.createLink(b)
	h.token = h.link.Token
	if h.session, h.secret, err = st.SignIn(ctx, h.link, h.link.Authenticators[0].ID, "192.0.2.1", "bench", time.Now()); err != nil {
		b.Fatal(err)
	}
	return h
}

func (h *hotPath) createLink(b *testing.B) *sesame.Link {
	max := 1_000_000
	links, err := h.st.CreateLinks(context.Background(), []sesame.LinkCreate{{Type: sesame.LinkDownload, Targets: []string{h.file.ID},
		Expires: time.Now().Add(24 * time.Hour), MaxAccessCount: &max, Tags: []string{"bench"}}},
		[][]sesame.LinkAuthenticator{{{ID: sesame.NewID("lau_"), Type: sesame.AuthEmailOTP, Context: "r@example.com"}}}, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	return links[0]
}

func BenchmarkStoreLinkByToken(b *testing.B) {
	h := newHotPath(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.st.LinkByToken(ctx, h.token); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStoreSessionBySecret(b *testing.B) {
	h := newHotPath(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.st.SessionBySecret(ctx, h.link.ID, h.secret, h.session.AuthEpoch, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStoreClaimDownload claims a new file key each time: the
// conditional UPDATE runs every op.
func BenchmarkStoreClaimDownload(b *testing.B) {
	h := newHotPath(b)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if _, err := h.st.ClaimDownload(ctx, h.link, h.session.ID, fmt.Sprint("key", i)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStoreCreateLink(b *testing.B) {
	h := newHotPath(b)
	b.ReportAllocs()
	for b.Loop() {
		h.createLink(b)
	}
}

// BenchmarkStoreCreateLinkParallel is 8 creators at once, whose
// transactions share commits.
func BenchmarkStoreCreateLinkParallel(b *testing.B) {
	h := newHotPath(b)
	b.ReportAllocs()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			h.createLink(b)
		}
	})
}

// BenchmarkStoreFindLinks lists a page of 100 of 2,000 links by tag.
func BenchmarkStoreFindLinks(b *testing.B) {
	h := newHotPath(b)
	for range 1999 {
		h.createLink(b)
	}
	ctx := context.Background()
	f := sesame.LinkFilter{Conds: []sesame.Cond{{Field: "tags", Op: sesame.OpEq, Values: []string{"bench"}}}, Size: 100}
	b.ReportAllocs()
	for b.Loop() {
		page, err := h.st.FindLinks(ctx, f)
		if err != nil || len(page.Links) != 100 {
			b.Fatalf("%v, %d links", err, len(page.Links))
		}
	}
}
