package store_test

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame"
)

// intRef returns a pointer to n.
func intRef(n int) *int { return &n }

// linkItem is a download link to targets as the link service hands it to
// the store: expiry and access cap already set.
func (ts *testStore) linkItem(targets ...string) sesame.LinkCreate {
	return sesame.LinkCreate{
		Type:           sesame.LinkDownload,
		Targets:        targets,
		Expires:        ts.clock.Now().Add(24 * time.Hour),
		MaxAccessCount: intRef(10),
	}
}

// tryLinks stores in with one email authenticator each, at the clock's time.
func (ts *testStore) tryLinks(in ...sesame.LinkCreate) ([]*sesame.Link, error) {
	hashed := make([][]sesame.LinkAuthenticator, len(in))
	for i := range in {
		if in[i].Source == "" {
			in[i].Source = fmt.Sprintf("/links/%d", i)
		}
		hashed[i] = []sesame.LinkAuthenticator{{ID: sesame.NewID("lau_"), Type: sesame.AuthEmailOTP, Context: fmt.Sprintf("r%d@example.com", i)}}
	}
	return ts.CreateLinks(context.Background(), in, hashed, ts.clock.Now())
}

// newLinks stores in and fails the test on an error.
func (ts *testStore) newLinks(t *testing.T, in ...sesame.LinkCreate) []*sesame.Link {
	t.Helper()
	links, err := ts.tryLinks(in...)
	if err != nil {
		t.Fatalf("create links: %v", err)
	}
	if len(links) != len(in) {
		t.Fatalf("got %d links, want %d", len(links), len(in))
	}
	return links
}

// link returns the link with the id, failing the test when there is none.
func (ts *testStore) link(t *testing.T, id string) *sesame.Link {
	t.Helper()
	l, err := ts.LinkByID(context.Background(), id)
	if err != nil {
		t.Fatalf("link by id %s: %v", id, err)
	}
	return l
}

// rawExec runs a statement on a second connection and fails the test on an error.
func (ts *testStore) rawExec(t *testing.T, db *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// linkIDs returns the ids of links, sorted.
func linkIDs(links []*sesame.Link) []string {
	out := make([]string, len(links))
	for i, l := range links {
		out[i] = l.ID
	}
	slices.Sort(out)
	return out
}

// liveLinkCount returns how many links FindLinks counts in the default bucket.
func (ts *testStore) liveLinkCount(t *testing.T) int {
	t.Helper()
	page, err := ts.FindLinks(context.Background(), sesame.LinkFilter{Size: 1})
	if err != nil {
		t.Fatalf("find links: %v", err)
	}
	return page.Count
}

// rowCount runs a COUNT query on a raw connection.
func rowCount(t *testing.T, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestStore_CreateLinks(t *testing.T) {
	ctx := context.Background()

	t.Run("AllOrNone", func(t *testing.T) {
		ts := newTestStore(t)
		f1 := ts.putFile(t, "/", "f1.txt", []byte("1"))
		f2 := ts.putFile(t, "/", "f2.txt", []byte("2"))
		missing := sesame.NewID(sesame.PrefixObject)
		_, err := ts.tryLinks(ts.linkItem(f1.ID), ts.linkItem(f2.ID, missing))
		wantErr(t, err, sesame.NotFound, "/links/1/targets/1", "DoesNotExist")
		if got := ts.liveLinkCount(t); got != 0 {
			t.Errorf("got %d links after a failed create, want 0", got)
		}
		db := ts.rawDB(t)
		for _, table := range []string{"links", "link_targets", "link_tags", "link_authenticators"} {
			if n := rowCount(t, db, `SELECT COUNT(*) FROM `+table); n != 0 {
				t.Errorf("got %d rows in %s after a failed create, want 0", n, table)
			}
		}
		if got := ts.byID(t, f1.ID).LinkIDs; got != nil {
			t.Errorf("got link ids %v on the first item's target, want none", got)
		}
	})

	t.Run("ErrorSource", func(t *testing.T) {
		ts := newTestStore(t)
		f := ts.putFile(t, "/", "f.txt", []byte("1"))
		items := []sesame.LinkCreate{ts.linkItem(f.ID), ts.linkItem(f.ID), ts.linkItem(f.ID, f.ID+"x", sesame.NewID(sesame.PrefixObject))}
		items[2].Source = "/links/2"
		_, err := ts.tryLinks(items...)
		wantErr(t, err, sesame.NotFound, "/links/2/targets/1", "DoesNotExist")
	})

	t.Run("UploadTakesFoldersOnly", func(t *testing.T) {
		ts := newTestStore(t)
		d := ts.mkdir(t, "/", "in")
		f := ts.putFile(t, "/", "f.txt", []byte("1"))
		up := ts.linkItem(d.ID, f.ID)
		up.Type = sesame.LinkUpload
		_, err := ts.tryLinks(ts.linkItem(f.ID), up)
		wantErr(t, err, sesame.Invalid, "/links/1/targets/1", "BadState")
		if got := ts.liveLinkCount(t); got != 0 {
			t.Errorf("got %d links after a failed create, want 0", got)
		}
		up = ts.linkItem(d.ID)
		up.Type = sesame.LinkUpload
		l := ts.newLinks(t, up)[0]
		if l.Type != sesame.LinkUpload || !slices.Equal(l.Targets, []string{d.ID}) {
			t.Errorf("got %s link to %v, want an upload link to [%s]", l.Type, l.Targets, d.ID)
		}
		// Download and editor links take files and folders.
		for _, typ := range []sesame.LinkType{sesame.LinkDownload, sesame.LinkEditor} {
			it := ts.linkItem(f.ID, d.ID)
			it.Type = typ
			ts.newLinks(t, it)
		}
	})

	t.Run("UnknownBucket", func(t *testing.T) {
		ts := newTestStore(t)
		f := ts.putFile(t, "/", "f.txt", []byte("1"))
		it := ts.linkItem(f.ID)
		it.BucketID = sesame.NewID(sesame.PrefixBucket)
		_, err := ts.tryLinks(it)
		wantErr(t, err, sesame.NotFound, "/bucket_id", "DoesNotExist")
	})

	t.Run("RoundTrip", func(t *testing.T) {
		ts := newTestStore(t)
		d := ts.mkdir(t, "/", "d")
		f1 := ts.putFile(t, "/d", "f1.txt", []byte("1"))
		f2 := ts.putFile(t, "/", "f2.txt", []byte("2"))
		f3 := ts.putFile(t, "/", "f3.txt", []byte("3"))
		now := ts.clock.Now()
		expires := now.Add(36 * time.Hour).Add(123 * time.Microsecond)
		in := sesame.LinkCreate{
			Type:           sesame.LinkEditor,
			Targets:        []string{f3.ID, f1.ID, d.ID, f2.ID}, // not sorted: order is kept
			Title:          "Quarterly figures",
			Message:        "Hello Bob,\nhere they are.",
			Tags:           []string{"b", "a", "b"},
			NotifyEmail:    "owner@example.com",
			Expires:        expires,
			MaxAccessCount: intRef(5),
			MaxDownloads:   intRef(3),
			CreatedBy:      "stk_creator",
			Source:         "/links/0",
		}
		auths := []sesame.LinkAuthenticator{
			{ID: sesame.NewID("lau_"), Type: sesame.AuthSMSOTP, Context: "+14155550123"},
			{ID: sesame.NewID("lau_"), Type: sesame.AuthPassword, Context: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$a2V5"},
			{ID: sesame.NewID("lau_"), Type: sesame.AuthEmailOTP, Context: "bob@example.com"},
		}
		got, err := ts.CreateLinks(ctx, []sesame.LinkCreate{in}, [][]sesame.LinkAuthenticator{auths}, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 {
			t.Fatalf("got %d links, want 1", len(got))
		}
		l := got[0]
		if !sesame.ValidID(sesame.PrefixLink, l.ID) {
			t.Errorf("got id %q, want a %s id", l.ID, sesame.PrefixLink)
		}
		if !urlSecretPattern.MatchString(l.Token) {
			t.Errorf("got token %q, want 43 base64url characters", l.Token)
		}
		want := &sesame.Link{
			ID: l.ID, BucketID: ts.DefaultBucket(), Type: sesame.LinkEditor,
			Targets: []string{f3.ID, f1.ID, d.ID, f2.ID},
			Authenticators: []sesame.LinkAuthenticator{
				{ID: auths[0].ID, Position: 0, Type: sesame.AuthSMSOTP, Context: "+14155550123"},
				{ID: auths[1].ID, Position: 1, Type: sesame.AuthPassword, Context: auths[1].Context},
				{ID: auths[2].ID, Position: 2, Type: sesame.AuthEmailOTP, Context: "bob@example.com"},
			},
			Title: "Quarterly figures", Message: "Hello Bob,\nhere they are.", Tags: []string{"b", "a"},
			NotifyEmail: "owner@example.com", Expires: expires, MaxAccessCount: 5, MaxDownloads: 3,
			CreatedBy: "stk_creator", Created: now, Updated: now, AuthEpoch: 1, Token: l.Token,
		}
		if diff := gocmp.Diff(want, l); diff != "" {
			t.Errorf("created link (-want +got):\n%s", diff)
		}
		if diff := gocmp.Diff(want, ts.link(t, l.ID)); diff != "" {
			t.Errorf("LinkByID (-want +got):\n%s", diff)
		}
		byToken, err := ts.LinkByToken(ctx, l.Token)
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(want, byToken); diff != "" {
			t.Errorf("LinkByToken (-want +got):\n%s", diff)
		}
		other := "A"
		if strings.HasSuffix(l.Token, "A") {
			other = "B" // a token that differs from the real one
		}
		_, err = ts.LinkByToken(ctx, l.Token[:42]+other)
		wantErr(t, err, sesame.NotFound, "", "")
		for _, o := range []*sesame.Object{d, f1, f2, f3} {
			if got := ts.byID(t, o.ID).LinkIDs; !slices.Equal(got, []string{l.ID}) {
				t.Errorf("got link ids %v on %s, want [%s]", got, o.Path, l.ID)
			}
		}
	})

	t.Run("TagsUnset", func(t *testing.T) {
		ts := newTestStore(t)
		f := ts.putFile(t, "/", "f.txt", []byte("1"))
		empty := ts.linkItem(f.ID)
		empty.Tags = []string{}
		links := ts.newLinks(t, ts.linkItem(f.ID), empty)
		if got := ts.link(t, links[0].ID).Tags; got != nil {
			t.Errorf("got tags %#v for a link made without tags, want nil", got)
		}
		if got := ts.link(t, links[1].ID).Tags; got == nil || len(got) != 0 {
			t.Errorf("got tags %#v for a link made with no tags, want an empty list", got)
		}
	})

	t.Run("DistinctTokens", func(t *testing.T) {
		ts := newTestStore(t)
		f := ts.putFile(t, "/", "f.txt", []byte("1"))
		items := make([]sesame.LinkCreate, 20)
		for i := range items {
			items[i] = ts.linkItem(f.ID)
		}
		seen := map[string]bool{}
		for _, l := range ts.newLinks(t, items...) {
			if seen[l.Token] {
				t.Errorf("token %s handed out twice", l.Token)
			}
			seen[l.Token] = true
		}
	})

	t.Run("LinkByIDUnknown", func(t *testing.T) {
		ts := newTestStore(t)
		_, err := ts.LinkByID(ctx, sesame.NewID(sesame.PrefixLink))
		wantErr(t, err, sesame.NotFound, "/id", "DoesNotExist")
	})
}

// TestStore_LinkTokenSealed checks that link secrets are stored sealed, and
// that a changed seal fails instead of yielding another token.
func TestStore_LinkTokenSealed(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	f := ts.putFile(t, "/", "f.txt", []byte("1"))
	links := ts.newLinks(t, ts.linkItem(f.ID), ts.linkItem(f.ID), ts.linkItem(f.ID), ts.linkItem(f.ID))

	check := func(t *testing.T, when string) {
		t.Helper()
		all := ts.dbBytes(t)
		for _, l := range links {
			if bytes.Contains(all, []byte(l.Token)) {
				t.Errorf("%s: the database holds the token of %s", when, l.ID)
			}
			// The search would find stored text: the link ids are there.
			if !bytes.Contains(all, []byte(l.ID)) {
				t.Errorf("%s: link id %s is in no database file; the search is blind", when, l.ID)
			}
		}
	}
	check(t, "open")
	ts.reopen(t)
	check(t, "reopened")
	for _, l := range links {
		if got := ts.link(t, l.ID).Token; got != l.Token {
			t.Errorf("got token %q after reopen, want %q", got, l.Token)
		}
	}

	db := ts.rawDB(t)
	sealed := func(id string) []byte {
		t.Helper()
		var b []byte
		if err := db.QueryRow(`SELECT token_sealed FROM links WHERE id = ?`, id).Scan(&b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	wantBroken := func(t *testing.T, id string) {
		t.Helper()
		l, err := ts.LinkByID(ctx, id)
		if err == nil {
			t.Errorf("LinkByID(%s) = token %q, want an error", id, l.Token)
		}
		page, err := ts.FindLinks(ctx, sesame.LinkFilter{Conds: []sesame.Cond{{Field: "id", Values: []string{id}}}})
		if err == nil {
			t.Errorf("FindLinks found %d links, want an error", len(page.Links))
		}
	}

	t.Run("FlippedByte", func(t *testing.T) {
		b := sealed(links[0].ID)
		b[len(b)-1] ^= 1
		ts.rawExec(t, db, `UPDATE links SET token_sealed = ? WHERE id = ?`, b, links[0].ID)
		wantBroken(t, links[0].ID)
		_, err := ts.LinkByToken(ctx, links[0].Token)
		if err == nil {
			t.Errorf("LinkByToken found a link whose seal is broken, want an error")
		}
	})

	t.Run("SwappedSeal", func(t *testing.T) {
		// Another link's seal is valid ciphertext, but bound to that link.
		ts.rawExec(t, db, `UPDATE links SET token_sealed = ? WHERE id = ?`, sealed(links[2].ID), links[1].ID)
		wantBroken(t, links[1].ID)
	})

	t.Run("Truncated", func(t *testing.T) {
		ts.rawExec(t, db, `UPDATE links SET token_sealed = ? WHERE id = ?`, []byte{1, 2, 3}, links[3].ID)
		wantBroken(t, links[3].ID)
	})

	t.Run("OthersIntact", func(t *testing.T) {
		if got := ts.link(t, links[2].ID).Token; got != links[2].Token {
			t.Errorf("got token %q, want %q", got, links[2].Token)
		}
	})
}

// linkFixture holds six links; the last one is deleted.
type linkFixture struct {
	ts       *testStore
	links    []*sesame.Link
	f1       *sesame.Object
	f2       *sesame.Object
	f3       *sesame.Object
	drop     *sesame.Object
	created  []time.Time
	expires  []time.Time
	accessed []time.Time // T1, T2, T3
}

func newLinkFixture(t *testing.T) *linkFixture {
	t.Helper()
	ts := newTestStore(t)
	fx := &linkFixture{ts: ts}
	fx.drop = ts.mkdir(t, "/", "drop")
	fx.f1 = ts.putFile(t, "/", "f1.txt", []byte("1"))
	fx.f2 = ts.putFile(t, "/", "f2.txt", []byte("2"))
	fx.f3 = ts.putFile(t, "/", "f3.txt", []byte("3"))
	base := ts.clock.Now()
	day := 24 * time.Hour
	items := []sesame.LinkCreate{
		{Type: sesame.LinkDownload, Targets: []string{fx.f1.ID}, Title: "Quarterly figures", Message: "hello bob",
			Tags: []string{"a", "b"}, NotifyEmail: "n0@example.com", Expires: base.Add(day), MaxAccessCount: intRef(5)},
		{Type: sesame.LinkDownload, Targets: []string{fx.f2.ID, fx.f1.ID}, Title: "Photos 100%", Message: "see attached",
			Tags: []string{"b"}, NotifyEmail: "n1@example.org", Expires: base.Add(2 * day), MaxAccessCount: intRef(10)},
		{Type: sesame.LinkUpload, Targets: []string{fx.drop.ID}, Title: "drop_box",
			Expires: base.Add(3 * day), MaxAccessCount: intRef(1)},
		{Type: sesame.LinkEditor, Targets: []string{fx.f3.ID}, Tags: []string{"a", "c"},
			Expires: base.Add(4 * day), MaxAccessCount: intRef(20)},
		{Type: sesame.LinkDownload, Targets: []string{fx.f2.ID}, Title: "Notes", Tags: []string{},
			Expires: base.Add(5 * day), MaxAccessCount: intRef(100)},
		// A copy of the first, deleted: it must match nothing.
		{Type: sesame.LinkDownload, Targets: []string{fx.f1.ID}, Title: "Quarterly figures", Message: "hello bob",
			Tags: []string{"a", "b"}, NotifyEmail: "n0@example.com", Expires: base.Add(day), MaxAccessCount: intRef(5)},
	}
	for _, it := range items {
		ts.clock.Advance(time.Second)
		fx.created = append(fx.created, ts.clock.Now())
		fx.expires = append(fx.expires, it.Expires)
		fx.links = append(fx.links, ts.newLinks(t, it)[0])
	}
	fx.accessed = []time.Time{base.Add(10 * time.Hour), base.Add(11 * time.Hour), base.Add(12 * time.Hour)}
	db := ts.rawDB(t)
	for i, r := range []struct {
		access            int
		lastAccessed      string
		recipient, sender string
	}{
		{0, "", "alice@example.com", "sam@example.com"},
		{3, sesame.FormatTime(fx.accessed[0]), "bob@example.net", "sam@example.com"},
		{1, sesame.FormatTime(fx.accessed[1]), "", "sue@example.org"},
		{7, sesame.FormatTime(fx.accessed[2]), "carol@example.com", ""},
		{10, "", "", ""},
		{3, sesame.FormatTime(fx.accessed[0]), "alice@example.com", "sam@example.com"},
	} {
		ts.rawExec(t, db, `UPDATE links SET access_count = ?, last_accessed_at = ?, recipient_email = ?, sender_email = ? WHERE id = ?`,
			r.access, r.lastAccessed, r.recipient, r.sender, fx.links[i].ID)
	}
	if _, err := ts.DeleteLinks(context.Background(), []string{fx.links[5].ID}); err != nil {
		t.Fatal(err)
	}
	return fx
}

func TestStore_FindLinks(t *testing.T) {
	ctx := context.Background()
	fx := newLinkFixture(t)
	ts, L := fx.ts, fx.links
	ft := func(tm time.Time) string { return sesame.FormatTime(tm) }
	url := func(i int) string { return "http://x/s/" + L[i].Token }
	c := func(field string, op sesame.Op, v ...string) sesame.Cond {
		return sesame.Cond{Field: field, Op: op, Values: v}
	}
	eq := func(field string, v string) sesame.Cond { return c(field, sesame.OpEq, v) }
	all := []int{0, 1, 2, 3, 4}

	tests := []struct {
		name  string
		conds []sesame.Cond
		want  []int // indices into L
	}{
		{"None", nil, all},

		{"IDEq", []sesame.Cond{eq("id", L[1].ID)}, []int{1}},
		{"IDEqDeleted", []sesame.Cond{eq("id", L[5].ID)}, nil},
		{"IDContains", []sesame.Cond{c("id", sesame.OpContains, L[2].ID[4:20])}, []int{2}},
		{"IDIn", []sesame.Cond{c("id", sesame.OpIn, L[0].ID, L[3].ID, L[5].ID, sesame.NewID(sesame.PrefixLink))}, []int{0, 3}},

		{"TargetEqFirst", []sesame.Cond{eq("target_id", fx.f2.ID)}, []int{1, 4}},
		{"TargetEqAny", []sesame.Cond{eq("target_id", fx.f1.ID)}, []int{0, 1}}, // second target of L1
		{"TargetIn", []sesame.Cond{c("target_id", sesame.OpIn, fx.f3.ID, fx.drop.ID)}, []int{2, 3}},
		{"TargetInAny", []sesame.Cond{c("target_id", sesame.OpIn, fx.f1.ID, sesame.NewID(sesame.PrefixObject))}, []int{0, 1}},
		{"TargetContains", []sesame.Cond{c("target_id", sesame.OpContains, fx.f1.ID[4:20])}, []int{0, 1}},
		{"TargetContainsPrefix", []sesame.Cond{c("target_id", sesame.OpContains, sesame.PrefixObject)}, all},

		{"TypeEq", []sesame.Cond{eq("link_type", "upload")}, []int{2}},
		{"TypeIn", []sesame.Cond{c("link_type", sesame.OpIn, "editor", "upload")}, []int{2, 3}},
		{"TypeContains", []sesame.Cond{c("link_type", sesame.OpContains, "load")}, []int{0, 1, 2, 4}},

		{"LinkEq", []sesame.Cond{eq("link", url(0))}, []int{0}},
		{"LinkEqOtherHost", []sesame.Cond{eq("link", "https://share.example.org/base/s/"+L[3].Token+"/")}, []int{3}},
		{"LinkEqDeleted", []sesame.Cond{eq("link", url(5))}, nil},
		{"LinkEqUnknown", []sesame.Cond{eq("link", "http://x/s/"+strings.Repeat("A", 43))}, nil},
		{"LinkIn", []sesame.Cond{c("link", sesame.OpIn, url(1), url(4), url(5), "http://x/s/nope")}, []int{1, 4}},

		{"TitleEq", []sesame.Cond{eq("title", "Quarterly figures")}, []int{0}},
		{"TitleEqEmpty", []sesame.Cond{eq("title", "")}, []int{3}},
		{"TitleContainsPercent", []sesame.Cond{c("title", sesame.OpContains, "100%")}, []int{1}},
		{"TitleContainsUnderscore", []sesame.Cond{c("title", sesame.OpContains, "_")}, []int{2}},
		{"TitleContainsAll", []sesame.Cond{c("title", sesame.OpContains, "o", "t")}, []int{1, 4}},
		{"TitleIn", []sesame.Cond{c("title", sesame.OpIn, "Notes", "", "nope")}, []int{3, 4}},

		{"MessageEq", []sesame.Cond{eq("message", "hello bob")}, []int{0}},
		{"MessageContains", []sesame.Cond{c("message", sesame.OpContains, "attach")}, []int{1}},
		{"MessageIn", []sesame.Cond{c("message", sesame.OpIn, "", "see attached")}, []int{1, 2, 3, 4}},

		{"RecipientEq", []sesame.Cond{eq("recipient_email", "alice@example.com")}, []int{0}},
		{"RecipientContains", []sesame.Cond{c("recipient_email", sesame.OpContains, "@example.com")}, []int{0, 3}},
		{"RecipientIn", []sesame.Cond{c("recipient_email", sesame.OpIn, "bob@example.net", "")}, []int{1, 2, 4}},

		{"SenderEq", []sesame.Cond{eq("sender_email", "sam@example.com")}, []int{0, 1}},
		{"SenderContains", []sesame.Cond{c("sender_email", sesame.OpContains, ".org")}, []int{2}},
		{"SenderIn", []sesame.Cond{c("sender_email", sesame.OpIn, "sue@example.org", "")}, []int{2, 3, 4}},

		{"NotifyEq", []sesame.Cond{eq("notify_email", "n0@example.com")}, []int{0}},
		{"NotifyContains", []sesame.Cond{c("notify_email", sesame.OpContains, "n1@")}, []int{1}},
		{"NotifyIn", []sesame.Cond{c("notify_email", sesame.OpIn, "", "n1@example.org")}, []int{1, 2, 3, 4}},

		{"BucketEq", []sesame.Cond{eq("bucket_id", ts.DefaultBucket())}, all},
		{"BucketContains", []sesame.Cond{c("bucket_id", sesame.OpContains, ts.DefaultBucket()[4:])}, all},
		{"BucketIn", []sesame.Cond{c("bucket_id", sesame.OpIn, sesame.NewID(sesame.PrefixBucket))}, nil},

		{"AccessEq", []sesame.Cond{eq("access_count", "3")}, []int{1}},
		{"AccessGt", []sesame.Cond{c("access_count", sesame.OpGt, "3")}, []int{3, 4}},
		// Numeric, not text, comparison: "10" < "7" as text.
		{"AccessIsNumeric", []sesame.Cond{c("access_count", sesame.OpGt, "7")}, []int{4}},
		{"AccessGte", []sesame.Cond{c("access_count", sesame.OpGte, "3")}, []int{1, 3, 4}},
		{"AccessLt", []sesame.Cond{c("access_count", sesame.OpLt, "1")}, []int{0}},
		{"AccessLte", []sesame.Cond{c("access_count", sesame.OpLte, "1")}, []int{0, 2}},
		{"AccessIn", []sesame.Cond{c("access_count", sesame.OpIn, "0", "10")}, []int{0, 4}},
		{"AccessRange", []sesame.Cond{c("access_count", sesame.OpGt, "0"), c("access_count", sesame.OpLt, "10")}, []int{1, 2, 3}},

		{"MaxAccessEq", []sesame.Cond{eq("max_access_count", "10")}, []int{1}},
		{"MaxAccessGt", []sesame.Cond{c("max_access_count", sesame.OpGt, "5")}, []int{1, 3, 4}},
		{"MaxAccessGte", []sesame.Cond{c("max_access_count", sesame.OpGte, "20")}, []int{3, 4}},
		{"MaxAccessLt", []sesame.Cond{c("max_access_count", sesame.OpLt, "10")}, []int{0, 2}},
		{"MaxAccessLte", []sesame.Cond{c("max_access_count", sesame.OpLte, "10")}, []int{0, 1, 2}},
		{"MaxAccessIn", []sesame.Cond{c("max_access_count", sesame.OpIn, "1", "100")}, []int{2, 4}},

		{"CreatedEq", []sesame.Cond{eq("created_at", ft(fx.created[2]))}, []int{2}},
		{"CreatedGt", []sesame.Cond{c("created_at", sesame.OpGt, ft(fx.created[2]))}, []int{3, 4}},
		{"CreatedGte", []sesame.Cond{c("created_at", sesame.OpGte, ft(fx.created[2]))}, []int{2, 3, 4}},
		{"CreatedLt", []sesame.Cond{c("created_at", sesame.OpLt, ft(fx.created[1]))}, []int{0}},
		{"CreatedLte", []sesame.Cond{c("created_at", sesame.OpLte, ft(fx.created[1]))}, []int{0, 1}},
		{"CreatedIn", []sesame.Cond{c("created_at", sesame.OpIn, ft(fx.created[0]), ft(fx.created[4]), ft(fx.created[5]))}, []int{0, 4}},
		{"CreatedBetween", []sesame.Cond{c("created_at", sesame.OpGt, ft(fx.created[1].Add(time.Microsecond))), c("created_at", sesame.OpLt, ft(fx.created[4]))}, []int{2, 3}},

		{"ExpiresEq", []sesame.Cond{eq("expires_at", ft(fx.expires[2]))}, []int{2}},
		{"ExpiresGt", []sesame.Cond{c("expires_at", sesame.OpGt, ft(fx.expires[2]))}, []int{3, 4}},
		{"ExpiresGte", []sesame.Cond{c("expires_at", sesame.OpGte, ft(fx.expires[2]))}, []int{2, 3, 4}},
		{"ExpiresLt", []sesame.Cond{c("expires_at", sesame.OpLt, ft(fx.expires[1]))}, []int{0}},
		{"ExpiresLte", []sesame.Cond{c("expires_at", sesame.OpLte, ft(fx.expires[1]))}, []int{0, 1}},
		{"ExpiresIn", []sesame.Cond{c("expires_at", sesame.OpIn, ft(fx.expires[3]), ft(fx.expires[4]))}, []int{3, 4}},

		{"AccessedEq", []sesame.Cond{eq("last_accessed_at", ft(fx.accessed[1]))}, []int{2}},
		{"AccessedGt", []sesame.Cond{c("last_accessed_at", sesame.OpGt, ft(fx.accessed[0]))}, []int{2, 3}},
		{"AccessedGte", []sesame.Cond{c("last_accessed_at", sesame.OpGte, ft(fx.accessed[0]))}, []int{1, 2, 3}},
		// A link never opened has the zero LastAccessed, which is before every time.
		{"AccessedLt", []sesame.Cond{c("last_accessed_at", sesame.OpLt, ft(fx.accessed[1]))}, []int{0, 1, 4}},
		{"AccessedLte", []sesame.Cond{c("last_accessed_at", sesame.OpLte, ft(fx.accessed[1]))}, []int{0, 1, 2, 4}},
		{"AccessedIn", []sesame.Cond{c("last_accessed_at", sesame.OpIn, ft(fx.accessed[0]), ft(fx.accessed[2]))}, []int{1, 3}},

		{"TagsOne", []sesame.Cond{c("tags", sesame.OpAllTags, "a")}, []int{0, 3}},
		{"TagsAll", []sesame.Cond{c("tags", sesame.OpAllTags, "a", "b")}, []int{0}},
		{"TagsCommon", []sesame.Cond{c("tags", sesame.OpAllTags, "b")}, []int{0, 1}},
		{"TagsUnknown", []sesame.Cond{c("tags", sesame.OpAllTags, "zz")}, nil},
		{"TagsOneUnknown", []sesame.Cond{c("tags", sesame.OpAllTags, "a", "zz")}, nil},

		{"TargetAndTag", []sesame.Cond{eq("target_id", fx.f1.ID), c("tags", sesame.OpAllTags, "b")}, []int{0, 1}},
		{"TypeAndAccess", []sesame.Cond{eq("link_type", "download"), c("access_count", sesame.OpGte, "3")}, []int{1, 4}},
	}

	// Every field and each operator of its type is exercised.
	opsOf := map[sesame.FieldType][]sesame.Op{
		sesame.FieldString: {sesame.OpEq, sesame.OpContains, sesame.OpIn},
		sesame.FieldNumber: {sesame.OpEq, sesame.OpGt, sesame.OpGte, sesame.OpLt, sesame.OpLte, sesame.OpIn},
		sesame.FieldTime:   {sesame.OpEq, sesame.OpGt, sesame.OpGte, sesame.OpLt, sesame.OpLte, sesame.OpIn},
		sesame.FieldTags:   {sesame.OpAllTags},
	}
	covered := map[string]bool{"link/contains": true} // an error, tested below
	for _, tt := range tests {
		for _, cd := range tt.conds {
			covered[cd.Field+"/"+string(cd.Op)] = true
		}
	}
	for field, ft := range sesame.LinkFields {
		for _, op := range opsOf[ft] {
			if !covered[field+"/"+string(op)] {
				t.Errorf("no case filters %s with operator %q", field, op)
			}
		}
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := ts.FindLinks(ctx, sesame.LinkFilter{Conds: tt.conds, Size: 100})
			if err != nil {
				t.Fatal(err)
			}
			want := []string{}
			for _, i := range tt.want {
				want = append(want, L[i].ID)
			}
			slices.Sort(want)
			if diff := gocmp.Diff(want, linkIDs(page.Links)); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
			if page.Count != len(tt.want) {
				t.Errorf("got count %d, want %d", page.Count, len(tt.want))
			}
			if page.Next != nil {
				t.Errorf("got next %+v, want nil", page.Next)
			}
			for _, l := range page.Links {
				i := slices.IndexFunc(L, func(x *sesame.Link) bool { return x.ID == l.ID })
				if i >= 0 && l.Token != L[i].Token {
					t.Errorf("link %s: got token %q, want %q", l.ID, l.Token, L[i].Token)
				}
			}
		})
	}

	t.Run("LinkContains", func(t *testing.T) {
		_, err := ts.FindLinks(ctx, sesame.LinkFilter{Conds: []sesame.Cond{c("link", sesame.OpContains, L[0].Token[:10])}})
		wantErr(t, err, sesame.Invalid, "/filter/link__contains", "UnexpectedProperty")
	})

	t.Run("FullLinks", func(t *testing.T) {
		page, err := ts.FindLinks(ctx, sesame.LinkFilter{Conds: []sesame.Cond{eq("id", L[1].ID)}})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Links) != 1 {
			t.Fatalf("got %d links, want 1", len(page.Links))
		}
		if diff := gocmp.Diff(ts.link(t, L[1].ID), page.Links[0]); diff != "" {
			t.Errorf("FindLinks and LinkByID differ (-byID +find):\n%s", diff)
		}
	})
}

// linkOrderText is the value FindLinks orders text fields by.
func linkOrderText(t *testing.T, l *sesame.Link, field string) string {
	switch field {
	case "id", "link":
		return l.ID
	case "bucket_id", "storage_pool_id":
		return l.BucketID
	case "target":
		return l.Targets[0]
	case "link_type":
		return string(l.Type)
	case "created_at":
		return sesame.FormatTime(l.Created)
	case "expires_at":
		return sesame.FormatTime(l.Expires)
	case "last_accessed_at":
		if l.LastAccessed.IsZero() {
			return ""
		}
		return sesame.FormatTime(l.LastAccessed)
	case "title":
		return l.Title
	case "message":
		return l.Message
	case "recipient_email":
		return l.RecipientEmail
	case "sender_email":
		return l.SenderEmail
	}
	t.Fatalf("no order value for field %q", field)
	return ""
}

// linkOrder compares two links by one order field, then by id.
func linkOrder(t *testing.T, field string) func(a, b *sesame.Link) int {
	return func(a, b *sesame.Link) int {
		var r int
		switch field {
		case "access_count":
			r = cmp.Compare(a.AccessCount, b.AccessCount)
		case "max_access_count":
			r = cmp.Compare(a.MaxAccessCount, b.MaxAccessCount)
		default:
			r = strings.Compare(linkOrderText(t, a, field), linkOrderText(t, b, field))
		}
		if r == 0 {
			r = strings.Compare(a.ID, b.ID)
		}
		return r
	}
}

func TestStore_FindLinksPaging(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	base := ts.clock.Now()
	var filesIDs, folderIDs []string
	for i := range 5 {
		filesIDs = append(filesIDs, ts.putFile(t, "/", fmt.Sprintf("f%d.txt", i), []byte{byte(i)}).ID)
	}
	for i := range 2 {
		folderIDs = append(folderIDs, ts.mkdir(t, "/", fmt.Sprintf("d%d", i)).ID)
	}
	const total, deleted = 43, 3
	var ids []string
	for i := range total {
		if i%3 == 0 {
			ts.clock.Advance(time.Second) // three links share each created_at
		}
		it := sesame.LinkCreate{
			Type:           []sesame.LinkType{sesame.LinkDownload, sesame.LinkEditor, sesame.LinkUpload}[i%3],
			Targets:        []string{filesIDs[i%5], filesIDs[(i+1)%5]},
			Title:          fmt.Sprintf("t%d", i%7),
			Message:        []string{"", "m", "zz"}[i%4%3],
			Expires:        base.Add(time.Duration(i%6+1) * time.Hour),
			MaxAccessCount: intRef(i%4*5 + 1), // 1, 6, 11, 16: text order differs
		}
		if it.Type == sesame.LinkUpload {
			it.Targets = []string{folderIDs[i%2]}
		}
		ids = append(ids, ts.newLinks(t, it)[0].ID)
	}
	db := ts.rawDB(t)
	for i, id := range ids {
		last := ""
		if i%4 != 0 {
			last = sesame.FormatTime(base.Add(time.Duration(i%5) * time.Minute))
		}
		sender := ""
		if i%2 == 1 {
			sender = "s@example.com"
		}
		ts.rawExec(t, db, `UPDATE links SET access_count = ?, last_accessed_at = ?, recipient_email = ?, sender_email = ? WHERE id = ?`,
			i*7%12, last, fmt.Sprintf("r%d@example.com", i%6), sender, id)
	}
	gone := []string{ids[5], ids[17], ids[30]}
	if _, err := ts.DeleteLinks(ctx, gone); err != nil {
		t.Fatal(err)
	}
	var live []*sesame.Link
	for _, id := range ids {
		if !slices.Contains(gone, id) {
			live = append(live, ts.link(t, id))
		}
	}
	if len(live) != total-deleted {
		t.Fatalf("got %d live links, want %d", len(live), total-deleted)
	}

	for _, field := range sesame.LinkOrderFields {
		for _, desc := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/desc=%v", field, desc), func(t *testing.T) {
				want := slices.Clone(live)
				slices.SortFunc(want, linkOrder(t, field))
				if desc {
					slices.Reverse(want)
				}
				f := sesame.LinkFilter{OrderBy: field, Desc: desc, Size: 7}
				var got []*sesame.Link
				for pages := 0; ; pages++ {
					if pages > len(live)/7+1 {
						t.Fatalf("more than %d pages", pages)
					}
					page, err := ts.FindLinks(ctx, f)
					if err != nil {
						t.Fatal(err)
					}
					if page.Count != len(live) {
						t.Errorf("page %d: got count %d, want %d", pages, page.Count, len(live))
					}
					got = append(got, page.Links...)
					if page.Next == nil {
						if len(page.Links) > 7 {
							t.Errorf("last page holds %d links, want at most 7", len(page.Links))
						}
						break
					}
					if len(page.Links) != 7 {
						t.Errorf("page %d holds %d links, want 7", pages, len(page.Links))
					}
					f.After = page.Next
				}
				wantIDs := make([]string, len(want))
				for i, l := range want {
					wantIDs[i] = l.ID
				}
				gotIDs := make([]string, len(got))
				for i, l := range got {
					gotIDs[i] = l.ID
				}
				if diff := gocmp.Diff(wantIDs, gotIDs); diff != "" {
					t.Errorf("ids in order (-want +got):\n%s", diff)
				}
			})
		}
	}

	t.Run("CursorOfOtherOrder", func(t *testing.T) {
		page, err := ts.FindLinks(ctx, sesame.LinkFilter{OrderBy: "title", Size: 7})
		if err != nil {
			t.Fatal(err)
		}
		_, err = ts.FindLinks(ctx, sesame.LinkFilter{OrderBy: "message", Size: 7, After: page.Next})
		wantErr(t, err, sesame.Invalid, "/last", "BadState")
		_, err = ts.FindLinks(ctx, sesame.LinkFilter{OrderBy: "title", Desc: true, Size: 7, After: page.Next})
		wantErr(t, err, sesame.Invalid, "/last", "BadState")
	})

	t.Run("FilteredPaging", func(t *testing.T) {
		f := sesame.LinkFilter{Conds: []sesame.Cond{{Field: "link_type", Values: []string{"editor"}}}, OrderBy: "access_count", Size: 4}
		var want []string
		for _, l := range live {
			if l.Type == sesame.LinkEditor {
				want = append(want, l.ID)
			}
		}
		slices.Sort(want)
		var got []*sesame.Link
		for {
			page, err := ts.FindLinks(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if page.Count != len(want) {
				t.Errorf("got count %d, want %d", page.Count, len(want))
			}
			got = append(got, page.Links...)
			if page.Next == nil {
				break
			}
			f.After = page.Next
		}
		if diff := gocmp.Diff(want, linkIDs(got)); diff != "" {
			t.Errorf("ids (-want +got):\n%s", diff)
		}
	})
}

func TestStore_UpdateLink(t *testing.T) {
	ctx := context.Background()

	setup := func(t *testing.T) (*testStore, []*sesame.Object, *sesame.Link) {
		ts := newTestStore(t)
		var objs []*sesame.Object
		for i := range 4 {
			objs = append(objs, ts.putFile(t, "/", fmt.Sprintf("f%d.txt", i), []byte{byte(i)}))
		}
		it := ts.linkItem(objs[0].ID)
		it.Tags = []string{"old"}
		it.Title = "title"
		it.Message = "message"
		it.MaxDownloads = intRef(4)
		l := ts.newLinks(t, it)[0]
		ts.clock.Advance(time.Minute)
		return ts, objs, l
	}
	update := func(t *testing.T, ts *testStore, id string, upd sesame.LinkUpdate, hashed []sesame.LinkAuthenticator) *sesame.Link {
		t.Helper()
		l, err := ts.UpdateLink(ctx, id, upd, hashed, ts.clock.Now())
		if err != nil {
			t.Fatalf("update link: %v", err)
		}
		if diff := gocmp.Diff(l, ts.link(t, id)); diff != "" {
			t.Errorf("returned and stored link differ (-returned +stored):\n%s", diff)
		}
		return l
	}
	// unchanged fails unless the link is as it was.
	unchanged := func(t *testing.T, ts *testStore, before *sesame.Link) {
		t.Helper()
		if diff := gocmp.Diff(before, ts.link(t, before.ID)); diff != "" {
			t.Errorf("link changed by a failed update (-before +after):\n%s", diff)
		}
	}
	targetIDs := func(objs []*sesame.Object, idx ...int) []string {
		var out []string
		for _, i := range idx {
			out = append(out, objs[i].ID)
		}
		return out
	}

	t.Run("Targets", func(t *testing.T) {
		ts, o, l := setup(t)
		created := l.Created
		got := update(t, ts, l.ID, sesame.LinkUpdate{AddTargets: targetIDs(o, 1, 0, 2)}, nil)
		if diff := gocmp.Diff(targetIDs(o, 0, 1, 2), got.Targets); diff != "" {
			t.Errorf("after add (-want +got):\n%s", diff)
		}
		if !got.Updated.Equal(ts.clock.Now()) || !got.Created.Equal(created) {
			t.Errorf("got created %v updated %v, want %v and %v", got.Created, got.Updated, created, ts.clock.Now())
		}
		got = update(t, ts, l.ID, sesame.LinkUpdate{RemoveTargets: targetIDs(o, 0, 3)}, nil)
		if diff := gocmp.Diff(targetIDs(o, 1, 2), got.Targets); diff != "" {
			t.Errorf("after remove (-want +got):\n%s", diff)
		}
		// The removed target no longer finds the link, nor lists it.
		page, err := ts.FindLinks(ctx, sesame.LinkFilter{Conds: []sesame.Cond{{Field: "target_id", Values: []string{o[0].ID}}}})
		if err != nil {
			t.Fatal(err)
		}
		if page.Count != 0 {
			t.Errorf("target filter on a removed target found %d links, want 0", page.Count)
		}
		if ids := ts.byID(t, o[0].ID).LinkIDs; ids != nil {
			t.Errorf("removed target lists links %v, want none", ids)
		}
		got = update(t, ts, l.ID, sesame.LinkUpdate{SetTargets: true, Targets: targetIDs(o, 3, 1)}, nil)
		if diff := gocmp.Diff(targetIDs(o, 3, 1), got.Targets); diff != "" {
			t.Errorf("after set (-want +got):\n%s", diff)
		}
		got = update(t, ts, l.ID, sesame.LinkUpdate{SetTargets: true, Targets: targetIDs(o, 0), AddTargets: targetIDs(o, 2), RemoveTargets: targetIDs(o, 0)}, nil)
		if diff := gocmp.Diff(targetIDs(o, 2), got.Targets); diff != "" {
			t.Errorf("after set, add and remove (-want +got):\n%s", diff)
		}
		// The order by target follows the first target.
		var first string
		if err := ts.rawDB(t).QueryRow(`SELECT first_target FROM links WHERE id = ?`, l.ID).Scan(&first); err != nil {
			t.Fatal(err)
		}
		if first != o[2].ID {
			t.Errorf("got first_target %s, want %s", first, o[2].ID)
		}
	})

	t.Run("NeverNoTargets", func(t *testing.T) {
		ts, o, l := setup(t)
		_, err := ts.UpdateLink(ctx, l.ID, sesame.LinkUpdate{RemoveTargets: targetIDs(o, 0)}, nil, ts.clock.Now())
		wantErr(t, err, sesame.Invalid, "/remove_targets", "BelowMinItems")
		unchanged(t, ts, l)
		_, err = ts.UpdateLink(ctx, l.ID, sesame.LinkUpdate{SetTargets: true, Targets: targetIDs(o, 1), RemoveTargets: targetIDs(o, 1)}, nil, ts.clock.Now())
		wantErr(t, err, sesame.Invalid, "", "BelowMinItems")
		unchanged(t, ts, l)
	})

	t.Run("MissingTargets", func(t *testing.T) {
		ts, o, l := setup(t)
		_, err := ts.UpdateLink(ctx, l.ID, sesame.LinkUpdate{SetTargets: true, Targets: []string{o[1].ID, sesame.NewID(sesame.PrefixObject)}}, nil, ts.clock.Now())
		wantErr(t, err, sesame.NotFound, "/targets/1", "DoesNotExist")
		unchanged(t, ts, l)
		_, err = ts.UpdateLink(ctx, l.ID, sesame.LinkUpdate{AddTargets: []string{sesame.NewID(sesame.PrefixObject)}, Title: new(string)}, nil, ts.clock.Now())
		wantErr(t, err, sesame.NotFound, "/add_targets/0", "DoesNotExist")
		unchanged(t, ts, l)
	})

	t.Run("UploadLinkFoldersOnly", func(t *testing.T) {
		ts, o, _ := setup(t)
		d := ts.mkdir(t, "/", "in")
		it := ts.linkItem(d.ID)
		it.Type = sesame.LinkUpload
		l := ts.newLinks(t, it)[0]
		_, err := ts.UpdateLink(ctx, l.ID, sesame.LinkUpdate{AddTargets: []string{o[0].ID}}, nil, ts.clock.Now())
		wantErr(t, err, sesame.Invalid, "/add_targets/0", "BadState")
		_, err = ts.UpdateLink(ctx, l.ID, sesame.LinkUpdate{SetTargets: true, Targets: []string{o[0].ID}}, nil, ts.clock.Now())
		wantErr(t, err, sesame.Invalid, "/targets/0", "BadState")
		unchanged(t, ts, l)
	})

	t.Run("Fields", func(t *testing.T) {
		ts, _, l := setup(t)
		exp := ts.clock.Now().Add(72 * time.Hour)
		title, message := "new title", "new message"
		got := update(t, ts, l.ID, sesame.LinkUpdate{Expires: &exp, MaxAccessCount: intRef(99), MaxDownloads: intRef(0),
			Title: &title, Message: &message}, nil)
		want := *l
		want.Expires, want.MaxAccessCount, want.MaxDownloads, want.Title, want.Message = exp, 99, 0, title, message
		want.Updated = ts.clock.Now()
		want.AuthEpoch = l.AuthEpoch + 1 // any change ends the sessions opened before it
		if diff := gocmp.Diff(&want, got); diff != "" {
			t.Errorf("updated link (-want +got):\n%s", diff)
		}
		// An empty update changes only updated_at and the epoch.
		ts.clock.Advance(time.Second)
		got = update(t, ts, l.ID, sesame.LinkUpdate{}, nil)
		want.Updated = ts.clock.Now()
		want.AuthEpoch++
		if diff := gocmp.Diff(&want, got); diff != "" {
			t.Errorf("after an empty update (-want +got):\n%s", diff)
		}
	})

	t.Run("Tags", func(t *testing.T) {
		ts, _, l := setup(t)
		find := func(tag string) int {
			t.Helper()
			page, err := ts.FindLinks(ctx, sesame.LinkFilter{Conds: []sesame.Cond{{Field: "tags", Op: sesame.OpAllTags, Values: []string{tag}}}})
			if err != nil {
				t.Fatal(err)
			}
			return page.Count
		}
		got := update(t, ts, l.ID, sesame.LinkUpdate{Tags: []string{"x", "y", "x"}}, nil)
		if diff := gocmp.Diff([]string{"old"}, got.Tags); diff != "" {
			t.Errorf("tags without SetTags (-want +got):\n%s", diff)
		}
		got = update(t, ts, l.ID, sesame.LinkUpdate{SetTags: true, Tags: []string{"x", "y", "x"}}, nil)
		if diff := gocmp.Diff([]string{"x", "y"}, got.Tags); diff != "" {
			t.Errorf("tags (-want +got):\n%s", diff)
		}
		if find("old") != 0 || find("x") != 1 || find("y") != 1 {
			t.Errorf("tag filter finds old %d, x %d, y %d; want 0, 1, 1", find("old"), find("x"), find("y"))
		}
		got = update(t, ts, l.ID, sesame.LinkUpdate{SetTags: true, Tags: []string{}}, nil)
		if len(got.Tags) != 0 {
			t.Errorf("got tags %v after clearing, want none", got.Tags)
		}
		if find("x") != 0 {
			t.Errorf("tag filter still finds a cleared tag")
		}
	})

	t.Run("Authenticators", func(t *testing.T) {
		ts, _, l := setup(t)
		if l.AuthEpoch != 1 {
			t.Fatalf("got auth epoch %d for a new link, want 1", l.AuthEpoch)
		}
		before := l.Authenticators
		hashed := []sesame.LinkAuthenticator{
			{ID: sesame.NewID("lau_"), Type: sesame.AuthPassword, Context: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$a2V5"},
			{ID: sesame.NewID("lau_"), Type: sesame.AuthSMSOTP, Context: "+14155550123"},
		}
		got := update(t, ts, l.ID, sesame.LinkUpdate{}, hashed)
		if got.AuthEpoch != 2 {
			t.Errorf("got auth epoch %d after new authenticators, want 2", got.AuthEpoch)
		}
		want := []sesame.LinkAuthenticator{
			{ID: hashed[0].ID, Position: 0, Type: sesame.AuthPassword, Context: hashed[0].Context},
			{ID: hashed[1].ID, Position: 1, Type: sesame.AuthSMSOTP, Context: "+14155550123"},
		}
		if diff := gocmp.Diff(want, got.Authenticators); diff != "" {
			t.Errorf("authenticators (-want +got):\n%s", diff)
		}
		if n := rowCount(t, ts.rawDB(t), `SELECT COUNT(*) FROM link_authenticators WHERE id = ?`, before[0].ID); n != 0 {
			t.Errorf("the replaced authenticator is still stored")
		}
		if got.Token != l.Token {
			t.Errorf("got token %q after update, want it unchanged %q", got.Token, l.Token)
		}
		// Other updates keep the authenticators; any change moves the epoch
		// on, once per update.
		title := "t"
		got = update(t, ts, l.ID, sesame.LinkUpdate{Title: &title}, nil)
		if diff := gocmp.Diff(want, got.Authenticators); diff != "" || got.AuthEpoch != 3 {
			t.Errorf("after a title update: got epoch %d, want 3; authenticators (-want +got):\n%s", got.AuthEpoch, diff)
		}
		got = update(t, ts, l.ID, sesame.LinkUpdate{Title: &title}, hashed[1:])
		if got.AuthEpoch != 4 || len(got.Authenticators) != 1 || got.Authenticators[0].ID != hashed[1].ID || got.Authenticators[0].Position != 0 {
			t.Errorf("got epoch %d and authenticators %+v, want 4 and only %s at position 0", got.AuthEpoch, got.Authenticators, hashed[1].ID)
		}
	})

	t.Run("Unknown", func(t *testing.T) {
		ts, _, l := setup(t)
		_, err := ts.UpdateLink(ctx, sesame.NewID(sesame.PrefixLink), sesame.LinkUpdate{}, nil, ts.clock.Now())
		wantErr(t, err, sesame.NotFound, "/id", "DoesNotExist")
		if _, err := ts.DeleteLinks(ctx, []string{l.ID}); err != nil {
			t.Fatal(err)
		}
		title := "revived?"
		_, err = ts.UpdateLink(ctx, l.ID, sesame.LinkUpdate{Title: &title}, nil, ts.clock.Now())
		wantErr(t, err, sesame.NotFound, "/id", "DoesNotExist")
		var stored string
		if err := ts.rawDB(t).QueryRow(`SELECT title FROM links WHERE id = ?`, l.ID).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if stored != l.Title {
			t.Errorf("a deleted link's title became %q, want %q", stored, l.Title)
		}
	})
}

func TestStore_DeleteLinks(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	f := ts.putFile(t, "/", "f.txt", []byte("1"))
	links := ts.newLinks(t, ts.linkItem(f.ID), ts.linkItem(f.ID), ts.linkItem(f.ID), ts.linkItem(f.ID))
	ts.clock.Advance(time.Hour)
	db := ts.rawDB(t)

	t.Run("UnknownDeletesNothing", func(t *testing.T) {
		_, err := ts.DeleteLinks(ctx, []string{links[0].ID, links[1].ID, sesame.NewID(sesame.PrefixLink)})
		wantErr(t, err, sesame.NotFound, "/ids/2", "DoesNotExist")
		if n := rowCount(t, db, `SELECT COUNT(*) FROM links WHERE deleted_at IS NOT NULL`); n != 0 {
			t.Errorf("got %d deleted links after a failed delete, want 0", n)
		}
		if got := ts.liveLinkCount(t); got != 4 {
			t.Errorf("got %d live links, want 4", got)
		}
	})

	t.Run("SoftDelete", func(t *testing.T) {
		got, err := ts.DeleteLinks(ctx, []string{links[2].ID, links[0].ID})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, l := range got {
			ids = append(ids, l.ID)
		}
		if !slices.Equal(ids, []string{links[2].ID, links[0].ID}) {
			t.Fatalf("got links %v, want [%s %s] in the order asked", ids, links[2].ID, links[0].ID)
		}
		if got[0].Token != links[2].Token || !slices.Equal(got[0].Targets, []string{f.ID}) {
			t.Errorf("returned link %+v, want the whole link", got[0])
		}
		for _, i := range []int{0, 2} {
			id := links[i].ID
			_, err := ts.LinkByID(ctx, id)
			wantErr(t, err, sesame.NotFound, "/id", "")
			_, err = ts.LinkByToken(ctx, links[i].Token)
			wantErr(t, err, sesame.NotFound, "", "")
			var deletedAt sql.NullString
			if err := db.QueryRow(`SELECT deleted_at FROM links WHERE id = ?`, id).Scan(&deletedAt); err != nil {
				t.Fatalf("the deleted link's row is gone: %v", err)
			}
			if want := sesame.FormatTime(ts.clock.Now()); deletedAt.String != want {
				t.Errorf("got deleted_at %q, want %q", deletedAt.String, want)
			}
			if n := rowCount(t, db, `SELECT COUNT(*) FROM link_targets WHERE link_id = ?`, id); n != 1 {
				t.Errorf("a soft-deleted link keeps %d targets, want 1", n)
			}
		}
		page, err := ts.FindLinks(ctx, sesame.LinkFilter{})
		if err != nil {
			t.Fatal(err)
		}
		want := linkIDs([]*sesame.Link{links[1], links[3]})
		if diff := gocmp.Diff(want, linkIDs(page.Links)); diff != "" || page.Count != 2 {
			t.Errorf("got count %d, live ids (-want +got):\n%s", page.Count, diff)
		}
		if diff := gocmp.Diff(want, ts.byID(t, f.ID).LinkIDs); diff != "" {
			t.Errorf("object link ids (-want +got):\n%s", diff)
		}
	})

	t.Run("AlreadyDeleted", func(t *testing.T) {
		_, err := ts.DeleteLinks(ctx, []string{links[1].ID, links[0].ID})
		wantErr(t, err, sesame.NotFound, "/ids/1", "DoesNotExist")
		ts.link(t, links[1].ID)
	})
}

// TestStore_LinksFollowObjects checks what deleting objects does to the
// links that share them.
func TestStore_LinksFollowObjects(t *testing.T) {
	ctx := context.Background()

	deletedAt := func(t *testing.T, ts *testStore, id string) sql.NullString {
		t.Helper()
		var s sql.NullString
		if err := ts.rawDB(t).QueryRow(`SELECT deleted_at FROM links WHERE id = ?`, id).Scan(&s); err != nil {
			t.Fatalf("link %s row: %v", id, err)
		}
		return s
	}
	wantGone := func(t *testing.T, ts *testStore, l *sesame.Link) {
		t.Helper()
		_, err := ts.LinkByID(ctx, l.ID)
		wantErr(t, err, sesame.NotFound, "", "")
		if !deletedAt(t, ts, l.ID).Valid {
			t.Errorf("link %s: got no deleted_at, want it soft-deleted", l.ID)
		}
	}
	wantTargets := func(t *testing.T, ts *testStore, l *sesame.Link, want ...string) {
		t.Helper()
		if diff := gocmp.Diff(want, ts.link(t, l.ID).Targets); diff != "" {
			t.Errorf("targets of %s (-want +got):\n%s", l.ID, diff)
		}
	}

	t.Run("File", func(t *testing.T) {
		ts := newTestStore(t)
		f1 := ts.putFile(t, "/", "f1.txt", []byte("1"))
		f2 := ts.putFile(t, "/", "f2.txt", []byte("2"))
		links := ts.newLinks(t, ts.linkItem(f1.ID, f2.ID), ts.linkItem(f1.ID), ts.linkItem(f2.ID))
		a, b, c := links[0], links[1], links[2]
		ts.clock.Advance(time.Minute)
		if _, err := ts.DeleteObject(ctx, "", f1.ID, false); err != nil {
			t.Fatal(err)
		}
		wantTargets(t, ts, a, f2.ID)
		wantGone(t, ts, b)
		wantTargets(t, ts, c, f2.ID)
		if got := ts.link(t, a.ID).Updated; !got.Equal(ts.clock.Now()) {
			t.Errorf("got updated %v for a link that lost a target, want %v", got, ts.clock.Now())
		}
		var first string
		if err := ts.rawDB(t).QueryRow(`SELECT first_target FROM links WHERE id = ?`, a.ID).Scan(&first); err != nil {
			t.Fatal(err)
		}
		if first != f2.ID {
			t.Errorf("got first_target %s, want %s", first, f2.ID)
		}
		if diff := gocmp.Diff(linkIDs([]*sesame.Link{a, c}), ts.byID(t, f2.ID).LinkIDs); diff != "" {
			t.Errorf("link ids of the remaining file (-want +got):\n%s", diff)
		}
		page, err := ts.FindLinks(ctx, sesame.LinkFilter{Conds: []sesame.Cond{{Field: "target_id", Values: []string{f1.ID}}}})
		if err != nil {
			t.Fatal(err)
		}
		if page.Count != 0 {
			t.Errorf("got %d links targeting a deleted file, want 0", page.Count)
		}
		if got := ts.liveLinkCount(t); got != 2 {
			t.Errorf("got %d live links, want 2", got)
		}
	})

	t.Run("FolderForce", func(t *testing.T) {
		ts := newTestStore(t)
		deep := ts.putFile(t, "/top/sub", "deep.txt", []byte("d"))
		sub := ts.byPath(t, "/top/sub")
		top := ts.byPath(t, "/top")
		keep := ts.putFile(t, "/top2", "keep.txt", []byte("k"))
		links := ts.newLinks(t, ts.linkItem(deep.ID, keep.ID), ts.linkItem(top.ID), ts.linkItem(sub.ID, deep.ID), ts.linkItem(keep.ID))
		if _, err := ts.DeleteObject(ctx, "", top.ID, false); err == nil {
			t.Fatal("deleted a non-empty folder without force")
		}
		wantTargets(t, ts, links[0], deep.ID, keep.ID)
		if _, err := ts.DeleteObject(ctx, "", top.ID, true); err != nil {
			t.Fatal(err)
		}
		wantTargets(t, ts, links[0], keep.ID)
		wantGone(t, ts, links[1])
		wantGone(t, ts, links[2])
		wantTargets(t, ts, links[3], keep.ID)
		if diff := gocmp.Diff(linkIDs([]*sesame.Link{links[0], links[3]}), ts.byID(t, keep.ID).LinkIDs); diff != "" {
			t.Errorf("link ids of the kept file (-want +got):\n%s", diff)
		}
	})

	t.Run("LinkIDsOfLiveLinksOnly", func(t *testing.T) {
		ts := newTestStore(t)
		f := ts.putFile(t, "/d", "f.txt", []byte("1"))
		other := ts.putFile(t, "/d", "g.txt", []byte("2"))
		links := ts.newLinks(t, ts.linkItem(f.ID), ts.linkItem(f.ID, other.ID), ts.linkItem(f.ID))
		if _, err := ts.DeleteLinks(ctx, []string{links[1].ID}); err != nil {
			t.Fatal(err)
		}
		want := linkIDs([]*sesame.Link{links[0], links[2]})
		if diff := gocmp.Diff(want, ts.byID(t, f.ID).LinkIDs); diff != "" {
			t.Errorf("ObjectByID link ids (-want +got):\n%s", diff)
		}
		if diff := gocmp.Diff(want, ts.byPath(t, "/d/f.txt").LinkIDs); diff != "" {
			t.Errorf("ObjectByPath link ids (-want +got):\n%s", diff)
		}
		if got := ts.byID(t, other.ID).LinkIDs; got != nil {
			t.Errorf("got link ids %v on an object shared only by a deleted link, want none", got)
		}
		page, err := ts.FindObjects(ctx, sesame.ObjectFilter{Size: 10})
		if err != nil {
			t.Fatal(err)
		}
		byName := map[string][]string{}
		for _, o := range page.Objects {
			byName[o.Name] = o.LinkIDs
		}
		if diff := gocmp.Diff(map[string][]string{"d": nil, "f.txt": want, "g.txt": nil}, byName); diff != "" {
			t.Errorf("FindObjects link ids (-want +got):\n%s", diff)
		}
	})
}
