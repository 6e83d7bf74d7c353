package sesame_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/authenticators"
	"github.com/sesame-share/sesame/store"
)

// linkEnv is a LinkService over a real store in a temp dir, with a clock
// that tests move by hand.
type linkEnv struct {
	svc    *sesame.LinkService
	st     *store.Store
	hasher *authenticators.Password
	dir    string
	file   *sesame.Object
	file2  *sesame.Object
	folder *sesame.Object

	mu  sync.Mutex // guards raw
	raw time.Time  // what the clock says: not UTC, with nanoseconds
}

// now is the time the service reads: the clock in UTC, to the microsecond.
func (e *linkEnv) now() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.raw.UTC().Truncate(time.Microsecond)
}

func (e *linkEnv) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.raw
}

func (e *linkEnv) advance(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.raw = e.raw.Add(d)
}

func newLinkEnv(t testing.TB, policy sesame.LinkPolicy) *linkEnv {
	t.Helper()
	ctx := context.Background()
	e := &linkEnv{dir: t.TempDir(), raw: time.Date(2025, 3, 1, 13, 0, 0, 123456789, time.FixedZone("CET", 3600))}
	st, err := store.Open(ctx, store.Config{DataDir: e.dir, Now: e.clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() }) // before TempDir removal (LIFO)
	e.st = st
	e.hasher = authenticators.NewPassword()
	e.svc = &sesame.LinkService{Store: st, Hasher: e.hasher, Policy: policy, Now: e.clock}
	root := sesame.Placement{HasParentID: true, ParentID: sesame.RootParentID}
	put := func(name string) *sesame.Object {
		u, err := st.Stage(ctx, strings.NewReader(name), name, 0)
		if err != nil {
			t.Fatal(err)
		}
		p := root
		p.Name = name
		o, err := st.CreateFile(ctx, sesame.FileCreate{Placement: p}, u)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	e.file, e.file2 = put("a.txt"), put("b.txt")
	p := root
	p.Name = "inbox"
	if e.folder, err = st.CreateFolder(ctx, sesame.FolderCreate{Placement: p}); err != nil {
		t.Fatal(err)
	}
	return e
}

// item is a valid link to the first file, opened by an email code.
func (e *linkEnv) item() sesame.LinkCreate {
	return sesame.LinkCreate{
		Targets:        []string{e.file.ID},
		Authenticators: []sesame.AuthenticatorInput{{Type: sesame.AuthEmailOTP, Context: "bob@example.com"}},
	}
}

// create runs the service and fails the test on an error.
func (e *linkEnv) create(t testing.TB, items ...sesame.LinkCreate) []*sesame.Link {
	t.Helper()
	links, err := e.svc.Create(admin, items)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if len(links) != len(items) {
		t.Fatalf("got %d links, want %d", len(links), len(items))
	}
	return links
}

func (e *linkEnv) count(t *testing.T) int {
	t.Helper()
	page, err := e.st.FindLinks(context.Background(), sesame.LinkFilter{Size: 1})
	if err != nil {
		t.Fatal(err)
	}
	return page.Count
}

// dbBytes returns the database file and its WAL files.
func (e *linkEnv) dbBytes(t *testing.T) []byte {
	t.Helper()
	db := filepath.Join(e.dir, "sesame.db")
	var all []byte
	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		b, err := os.ReadFile(p)
		if os.IsNotExist(err) && p != db {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// wantFieldErr fails unless err is a *sesame.Error of kind whose first
// field error has the code and source.
func wantFieldErr(t *testing.T, err error, kind sesame.Kind, source, code string) *sesame.Error {
	t.Helper()
	e := sesame.AsError(err)
	if e == nil {
		t.Fatalf("got %v, want a *sesame.Error of kind %v at %s (%s)", err, kind, source, code)
	}
	if e.Kind != kind {
		t.Errorf("got kind %v (%v), want %v", e.Kind, err, kind)
	}
	if len(e.Fields) == 0 {
		t.Fatalf("got %v with no field errors, want %s at %s", err, code, source)
	}
	if e.Fields[0].Source != source || e.Fields[0].Code != code {
		t.Errorf("got %s at %q (%v), want %s at %q", e.Fields[0].Code, e.Fields[0].Source, err, code, source)
	}
	return e
}

func ptr[T any](v T) *T { return &v }

func emails(n int) []sesame.AuthenticatorInput {
	out := make([]sesame.AuthenticatorInput, n)
	for i := range out {
		out[i] = sesame.AuthenticatorInput{Type: sesame.AuthEmailOTP, Context: fmt.Sprintf("user%d@example.com", i)}
	}
	return out
}

func objectIDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = sesame.NewID(sesame.PrefixObject)
	}
	return out
}

var testPolicy = sesame.LinkPolicy{DefaultExpiry: 2 * time.Hour, MaxExpiry: 48 * time.Hour, DefaultMaxAccess: 3, MaxAccessCount: 50}

func TestLinkService_CreateValidation(t *testing.T) {
	e := newLinkEnv(t, testPolicy)
	const ctxSrc = "/links/0/authenticators/0/auth_context"
	pw := func(s string) sesame.AuthenticatorInput {
		return sesame.AuthenticatorInput{Type: sesame.AuthPassword, Context: s}
	}
	mail := func(s string) sesame.AuthenticatorInput {
		return sesame.AuthenticatorInput{Type: sesame.AuthEmailOTP, Context: s}
	}
	sms := func(s string) sesame.AuthenticatorInput {
		return sesame.AuthenticatorInput{Type: sesame.AuthSMSOTP, Context: s}
	}
	auths := func(a ...sesame.AuthenticatorInput) func(*sesame.LinkCreate) {
		return func(it *sesame.LinkCreate) { it.Authenticators = a }
	}

	type tc struct {
		name   string
		mut    func(it *sesame.LinkCreate)
		kind   sesame.Kind
		source string
		code   string
	}
	tests := []tc{
		{"BadType", func(it *sesame.LinkCreate) { it.Type = "viewer" }, sesame.Invalid, "/links/0/link_type", "NotEnumMember"},

		{"NoTargets", func(it *sesame.LinkCreate) { it.Targets = nil }, sesame.Invalid, "/links/0/targets", "BelowMinItems"},
		{"TooManyTargets", func(it *sesame.LinkCreate) { it.Targets = objectIDs(sesame.MaxTargets + 1) }, sesame.Invalid, "/links/0/targets", "AboveMaxItems"},
		// 1000 pass validation; the store then finds the first missing.
		{"MaxTargetsReachStore", func(it *sesame.LinkCreate) { it.Targets = objectIDs(sesame.MaxTargets) }, sesame.NotFound, "/links/0/targets/0", "DoesNotExist"},
		{"BadTargetID", func(it *sesame.LinkCreate) { it.Targets = []string{e.file.ID, "a.txt"} }, sesame.NotFound, "/links/0/targets/1", "DoesNotExist"},
		{"MissingTarget", func(it *sesame.LinkCreate) { it.Targets = []string{e.file.ID, sesame.NewID(sesame.PrefixObject)} }, sesame.NotFound, "/links/0/targets/1", "DoesNotExist"},
		{"DuplicateTarget", func(it *sesame.LinkCreate) { it.Targets = []string{e.file.ID, e.file2.ID, e.file.ID} }, sesame.Invalid, "/links/0/targets/2", "ItemNotUnique"},
		{"UploadToFile", func(it *sesame.LinkCreate) { it.Type = sesame.LinkUpload }, sesame.Invalid, "/links/0/targets/0", "BadState"},

		{"NoAuthenticators", auths(), sesame.Invalid, "/links/0/authenticators", "BelowMinItems"},
		{"TooManyAuthenticators", auths(emails(sesame.MaxAuthenticators + 1)...), sesame.Invalid, "/links/0/authenticators", "AboveMaxItems"},
		{"SocialWithoutProvider", auths(sesame.AuthenticatorInput{Type: "social", Context: "bob@example.com"}), sesame.Invalid, "/links/0/authenticators/0/auth_type", "ProviderDisabled"},
		{"UnknownAuthType", auths(mail("bob@example.com"), sesame.AuthenticatorInput{Type: "fido2"}), sesame.Invalid, "/links/0/authenticators/1/auth_type", "NotEnumMember"},
		{"EmptyAuthType", auths(sesame.AuthenticatorInput{Context: "x"}), sesame.Invalid, "/links/0/authenticators/0/auth_type", "NotEnumMember"},

		{"PasswordAloneShort", auths(pw("fourteen chars")), sesame.Invalid, ctxSrc, "BelowMinLength"},
		{"PasswordAloneShortRunes", auths(pw(strings.Repeat("é", 14))), sesame.Invalid, ctxSrc, "BelowMinLength"}, // 28 bytes
		{"PasswordWithEmailShort", auths(mail("bob@example.com"), pw("seven!!")), sesame.Invalid, "/links/0/authenticators/1/auth_context", "BelowMinLength"},
		{"PasswordWithSMSShort", auths(pw("seven!!"), sms("+14155550123")), sesame.Invalid, ctxSrc, "BelowMinLength"},
		{"PasswordWithOTPShortRunes", auths(pw(strings.Repeat("ü", 7)), mail("bob@example.com")), sesame.Invalid, ctxSrc, "BelowMinLength"},
		{"PasswordTooLong", auths(pw(strings.Repeat("a", sesame.MaxPasswordLen+1))), sesame.Invalid, ctxSrc, "AboveMaxLength"},
		{"PasswordTooLongWithOTP", auths(mail("bob@example.com"), pw(strings.Repeat("ß", sesame.MaxPasswordLen+1))), sesame.Invalid, "/links/0/authenticators/1/auth_context", "AboveMaxLength"},

		{"DuplicateEmail", auths(mail("bob@example.com"), mail("carol@example.com"), mail("Bob@Example.com")), sesame.Invalid, "/links/0/authenticators/2", "ItemNotUnique"},
		{"DuplicatePhone", auths(sms("+14155550123"), sms("+1 (415) 555-0123")), sesame.Invalid, "/links/0/authenticators/1", "ItemNotUnique"},

		{"TitleTooLong", func(it *sesame.LinkCreate) { it.Title = strings.Repeat("t", sesame.MaxTitleLen+1) }, sesame.Invalid, "/links/0/title", "AboveMaxLength"},
		{"MessageTooLong", func(it *sesame.LinkCreate) { it.Message = strings.Repeat("m", sesame.MaxMessageLen+1) }, sesame.Invalid, "/links/0/message", "AboveMaxLength"},
		{"TooManyTags", func(it *sesame.LinkCreate) {
			for i := range sesame.MaxTags + 1 {
				it.Tags = append(it.Tags, fmt.Sprint(i))
			}
		}, sesame.Invalid, "/links/0/tags", "AboveMaxItems"},
		{"EmptyTag", func(it *sesame.LinkCreate) { it.Tags = []string{"a", ""} }, sesame.Invalid, "/links/0/tags/1", "BelowMinLength"},
		{"LongTag", func(it *sesame.LinkCreate) { it.Tags = []string{strings.Repeat("é", sesame.MaxTagLen+1)} }, sesame.Invalid, "/links/0/tags/0", "AboveMaxLength"},

		{"NotifyDisplayName", func(it *sesame.LinkCreate) { it.NotifyEmail = "Owner <owner@example.com>" }, sesame.Invalid, "/links/0/notify_email", "BadFormatEmail"},
		{"NotifyCRLF", func(it *sesame.LinkCreate) { it.NotifyEmail = "owner@example.com\r\nBcc: eve@example.com" }, sesame.Invalid, "/links/0/notify_email", "BadFormatEmail"},

		{"ExpiresPast", func(it *sesame.LinkCreate) { it.Expires = e.now().Add(-time.Microsecond) }, sesame.Invalid, "/links/0/expires_at", "NotWithinRange"},
		{"ExpiresNow", func(it *sesame.LinkCreate) { it.Expires = e.now() }, sesame.Invalid, "/links/0/expires_at", "NotWithinRange"},
		{"MaxAccessZero", func(it *sesame.LinkCreate) { it.MaxAccessCount = ptr(0) }, sesame.Invalid, "/links/0/max_access_count", "NotWithinRange"},
		{"MaxAccessNegative", func(it *sesame.LinkCreate) { it.MaxAccessCount = ptr(-5) }, sesame.Invalid, "/links/0/max_access_count", "NotWithinRange"},
		{"MaxDownloadsZero", func(it *sesame.LinkCreate) { it.MaxDownloads = ptr(0) }, sesame.Invalid, "/links/0/max_downloads", "NotWithinRange"},
	}
	for _, s := range []string{
		"", "bob", "bob@", "@example.com", "bob@localhost", "bob@example.", "bob@@example.com", "bob@exa mple.com",
		"Bob <bob@example.com>", "<bob@example.com>", `"Bob" <bob@example.com>`, "bob@example.com (Bob)", `"bob smith"@example.com`,
		"bob@example.com, eve@example.com", "bob@example.com;eve@example.com", "bob@example.com,",
		"bob@example.com\r\nBcc: eve@example.com", "bob@example.com\n", "bob@example.com\r", " bob@example.com", "bob@example.com ",
		strings.Repeat("b", 250) + "@example.com",
	} {
		tests = append(tests, tc{fmt.Sprintf("Email%q", s), auths(mail(s)), sesame.Invalid, ctxSrc, "BadFormatEmail"})
	}
	for _, s := range []string{
		"", "+", "4155550123", "14155550123", "+1234567", "+1 234 567", "+1234567890123456", "+0123456789", "+0 415 555 0123",
		"++14155550123", "+1 415 555 O123", "+1/415/555/0123", "+1 415 555 0123 ext 4", "+１４１５５５５０１２３",
	} {
		tests = append(tests, tc{fmt.Sprintf("Phone%q", s), auths(sms(s)), sesame.Invalid, ctxSrc, "DoesNotMatchPattern"})
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := e.item()
			tt.mut(&it)
			_, err := e.svc.Create(admin, []sesame.LinkCreate{it})
			wantFieldErr(t, err, tt.kind, tt.source, tt.code)
		})
	}

	t.Run("NoItems", func(t *testing.T) {
		_, err := e.svc.Create(admin, nil)
		wantFieldErr(t, err, sesame.Invalid, "/links", "BelowMinItems")
	})

	t.Run("TooManyItems", func(t *testing.T) {
		items := make([]sesame.LinkCreate, sesame.MaxLinksPerCreate+1)
		for i := range items {
			items[i] = e.item()
		}
		_, err := e.svc.Create(admin, items)
		wantFieldErr(t, err, sesame.Invalid, "/links", "AboveMaxItems")
	})

	t.Run("SecondItem", func(t *testing.T) {
		bad := e.item()
		bad.Authenticators = []sesame.AuthenticatorInput{mail("bob@example.com"), mail("not an address")}
		_, err := e.svc.Create(admin, []sesame.LinkCreate{e.item(), bad})
		wantFieldErr(t, err, sesame.Invalid, "/links/1/authenticators/1/auth_context", "BadFormatEmail")
	})

	t.Run("GivenSource", func(t *testing.T) {
		bad := e.item()
		bad.Source = "/share_links/4"
		bad.Targets = nil
		_, err := e.svc.Create(admin, []sesame.LinkCreate{bad})
		wantFieldErr(t, err, sesame.Invalid, "/share_links/4/targets", "BelowMinItems")
	})

	t.Run("MissingTargetInLaterItem", func(t *testing.T) {
		bad := e.item()
		bad.Targets = []string{e.file2.ID, sesame.NewID(sesame.PrefixObject)}
		_, err := e.svc.Create(admin, []sesame.LinkCreate{e.item(), e.item(), bad})
		wantFieldErr(t, err, sesame.NotFound, "/links/2/targets/1", "DoesNotExist")
	})

	t.Run("SMSCountryNotAllowed", func(t *testing.T) {
		e := newLinkEnv(t, testPolicy)
		e.svc.Policy.SMSCountries = []string{"+1", "+44"}
		it := e.item()
		it.Authenticators = []sesame.AuthenticatorInput{mail("bob@example.com"), sms("+33 1 23 45 67 89")}
		_, err := e.svc.Create(admin, []sesame.LinkCreate{it})
		fe := wantFieldErr(t, err, sesame.Invalid, "/links/0/authenticators/1/auth_context", "NotEnumMember")
		if d := fe.Fields[0].Detail; strings.Contains(d, "+33123456789") || !strings.Contains(d, sesame.MaskPhone("+33123456789")) {
			t.Errorf("got detail %q, want the masked number %s and not the whole one", d, sesame.MaskPhone("+33123456789"))
		}
		it = e.item()
		it.Authenticators = []sesame.AuthenticatorInput{sms("+44 20 7946 0958"), sms("+1 415 555 0123")}
		l := e.create(t, it)[0]
		if got := []string{l.Authenticators[0].Context, l.Authenticators[1].Context}; !cmp.Equal(got, []string{"+442079460958", "+14155550123"}) {
			t.Errorf("got phones %v, want the allowed numbers in E.164", got)
		}
	})

	if got := e.count(t); got != 0 {
		t.Errorf("got %d links after only failed creates, want 0", got)
	}
}

func TestLinkService_CreateDefaults(t *testing.T) {
	ctx := admin
	e := newLinkEnv(t, testPolicy)
	now := e.now()
	if now.Nanosecond()%1000 != 0 || now.Location() != time.UTC {
		t.Fatalf("test clock: %v is not UTC to the microsecond", now)
	}

	t.Run("Defaults", func(t *testing.T) {
		l := e.create(t, e.item())[0]
		want := &sesame.Link{
			ID: l.ID, BucketID: e.st.DefaultBucket(), Type: sesame.LinkDownload, Targets: []string{e.file.ID},
			Authenticators: []sesame.LinkAuthenticator{{ID: l.Authenticators[0].ID, Type: sesame.AuthEmailOTP, Context: "bob@example.com"}},
			Expires:        now.Add(testPolicy.DefaultExpiry), MaxAccessCount: testPolicy.DefaultMaxAccess,
			Created: now, Updated: now, AuthEpoch: 1, Token: l.Token,
		}
		if diff := cmp.Diff(want, l); diff != "" {
			t.Errorf("created link (-want +got):\n%s", diff)
		}
		got, err := e.st.LinkByID(ctx, l.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("stored link (-want +got):\n%s", diff)
		}
		if !strings.HasPrefix(l.Authenticators[0].ID, "lau_") {
			t.Errorf("got authenticator id %q, want a lau_ id", l.Authenticators[0].ID)
		}
	})

	t.Run("DefaultPolicy", func(t *testing.T) {
		e := newLinkEnv(t, sesame.DefaultLinkPolicy())
		l := e.create(t, e.item())[0]
		if want := e.now().Add(7 * 24 * time.Hour); !l.Expires.Equal(want) || l.MaxAccessCount != 10 {
			t.Errorf("got expiry %v and cap %d, want %v and 10", l.Expires, l.MaxAccessCount, want)
		}
	})

	t.Run("Clamped", func(t *testing.T) {
		for _, tt := range []struct {
			name        string
			expires     time.Time
			maxAccess   *int
			wantExpires time.Time
			wantAccess  int
		}{
			{"Within", now.Add(5 * time.Hour), ptr(7), now.Add(5 * time.Hour), 7},
			{"AtLimit", now.Add(testPolicy.MaxExpiry), ptr(testPolicy.MaxAccessCount), now.Add(testPolicy.MaxExpiry), testPolicy.MaxAccessCount},
			{"Beyond", now.Add(100 * time.Hour), ptr(500), now.Add(testPolicy.MaxExpiry), testPolicy.MaxAccessCount},
			{"JustAfterNow", now.Add(time.Microsecond), ptr(1), now.Add(time.Microsecond), 1},
			// Another zone and nanoseconds: stored as UTC to the microsecond.
			{"Zone", now.Add(3*time.Hour + 999).In(time.FixedZone("X", -7*3600)), nil, now.Add(3 * time.Hour), testPolicy.DefaultMaxAccess},
		} {
			t.Run(tt.name, func(t *testing.T) {
				it := e.item()
				it.Expires, it.MaxAccessCount = tt.expires, tt.maxAccess
				l := e.create(t, it)[0]
				if !l.Expires.Equal(tt.wantExpires) || l.MaxAccessCount != tt.wantAccess {
					t.Errorf("got expiry %v and cap %d, want %v and %d", l.Expires, l.MaxAccessCount, tt.wantExpires, tt.wantAccess)
				}
			})
		}
	})

	t.Run("MaxDownloads", func(t *testing.T) {
		it := e.item()
		it.MaxDownloads = ptr(5)
		if l := e.create(t, it)[0]; l.MaxDownloads != 5 {
			t.Errorf("got max downloads %d, want 5", l.MaxDownloads)
		}
	})

	t.Run("Phones", func(t *testing.T) {
		it := e.item()
		in := []string{"+1 (415) 555-0123", "+1-808-555-0173", " +44 20 7946 0958 ", "+33.1.23.45.67.89", "+12345678", "+123456789012345"}
		want := []string{"+14155550123", "+18085550173", "+442079460958", "+33123456789", "+12345678", "+123456789012345"}
		it.Authenticators = nil
		for _, p := range in {
			it.Authenticators = append(it.Authenticators, sesame.AuthenticatorInput{Type: sesame.AuthSMSOTP, Context: p})
		}
		l := e.create(t, it)[0]
		var got []string
		for _, a := range l.Authenticators {
			got = append(got, a.Context)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("stored phones (-want +got):\n%s", diff)
		}
	})

	t.Run("Emails", func(t *testing.T) {
		it := e.item()
		it.NotifyEmail = "owner+links@mail.example.co.uk"
		it.Authenticators = []sesame.AuthenticatorInput{
			{Type: sesame.AuthEmailOTP, Context: "bob@example.com"},
			{Type: sesame.AuthEmailOTP, Context: "o'neil.x+tag@sub.example.ie"},
		}
		l := e.create(t, it)[0]
		if l.NotifyEmail != it.NotifyEmail || l.Authenticators[1].Context != "o'neil.x+tag@sub.example.ie" {
			t.Errorf("got notify %q and %q, want them kept", l.NotifyEmail, l.Authenticators[1].Context)
		}
	})

	t.Run("Limits", func(t *testing.T) {
		it := e.item()
		it.Authenticators = emails(sesame.MaxAuthenticators)
		it.Title = strings.Repeat("é", sesame.MaxTitleLen)
		it.Message = strings.Repeat("m", sesame.MaxMessageLen)
		it.Tags = []string{strings.Repeat("t", sesame.MaxTagLen)}
		if l := e.create(t, it)[0]; len(l.Authenticators) != sesame.MaxAuthenticators {
			t.Errorf("got %d authenticators, want %d", len(l.Authenticators), sesame.MaxAuthenticators)
		}
		before := e.count(t)
		items := make([]sesame.LinkCreate, sesame.MaxLinksPerCreate)
		for i := range items {
			items[i] = e.item()
		}
		e.create(t, items...)
		if got := e.count(t); got != before+sesame.MaxLinksPerCreate {
			t.Errorf("got %d links, want %d", got, before+sesame.MaxLinksPerCreate)
		}
	})

	t.Run("Upload", func(t *testing.T) {
		it := e.item()
		it.Type = sesame.LinkUpload
		it.Targets = []string{e.folder.ID}
		if l := e.create(t, it)[0]; l.Type != sesame.LinkUpload {
			t.Errorf("got type %s, want upload", l.Type)
		}
	})
}

// TestLinkService_Passwords checks that passwords are hashed before they
// are stored, and that the boundary lengths are accepted.
func TestLinkService_Passwords(t *testing.T) {
	ctx := admin
	e := newLinkEnv(t, testPolicy)
	alone := strings.Repeat("é", sesame.MinPasswordAlone)          // 15 runes, 30 bytes
	withOTP := "8chars!?"                                          // 8 runes
	longest := strings.Repeat("pässwörd", sesame.MaxPasswordLen/8) // 256 runes
	items := []sesame.LinkCreate{e.item(), e.item(), e.item()}
	items[0].Authenticators = []sesame.AuthenticatorInput{{Type: sesame.AuthPassword, Context: alone}}
	items[1].Authenticators = []sesame.AuthenticatorInput{{Type: sesame.AuthEmailOTP, Context: "bob@example.com"}, {Type: sesame.AuthPassword, Context: withOTP}}
	items[2].Authenticators = []sesame.AuthenticatorInput{{Type: sesame.AuthPassword, Context: longest}}
	links := e.create(t, items...)

	for i, tc := range []struct {
		password string
		position int
	}{{alone, 0}, {withOTP, 1}, {longest, 0}} {
		stored, err := e.st.LinkByID(ctx, links[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range []*sesame.Link{links[i], stored} {
			a := l.Authenticators[tc.position]
			if a.Type != sesame.AuthPassword || !strings.HasPrefix(a.Context, "$argon2id$v=19$m=19456,t=2,p=1$") {
				t.Errorf("link %d: got authenticator %s %q, want a password as an argon2id PHC string", i, a.Type, a.Context)
			}
			if strings.Contains(a.Context, tc.password) {
				t.Errorf("link %d: the authenticator context holds the password", i)
			}
		}
		if err := e.hasher.Verify(ctx, stored.Authenticators[tc.position].Context, tc.password); err != nil {
			t.Errorf("link %d: the stored hash does not verify the password: %v", i, err)
		}
	}
	all := e.dbBytes(t)
	for _, p := range []string{alone, withOTP, longest} {
		if bytes.Contains(all, []byte(p)) {
			t.Errorf("the database holds the password %q", p)
		}
	}
	if !bytes.Contains(all, []byte(links[0].ID)) {
		t.Errorf("link id %s is in no database file; the search is blind", links[0].ID)
	}
}

func TestLinkService_Update(t *testing.T) {
	ctx := admin
	e := newLinkEnv(t, testPolicy)
	l := e.create(t, e.item())[0]
	e.advance(time.Minute)
	now := e.now()

	for _, tt := range []struct {
		name   string
		upd    sesame.LinkUpdate
		kind   sesame.Kind
		source string
		code   string
	}{
		{"SetNoTargets", sesame.LinkUpdate{SetTargets: true}, sesame.Invalid, "/targets", "BelowMinItems"},
		{"SetDuplicateTargets", sesame.LinkUpdate{SetTargets: true, Targets: []string{e.file.ID, e.file.ID}}, sesame.Invalid, "/targets/1", "ItemNotUnique"},
		{"SetTooManyTargets", sesame.LinkUpdate{SetTargets: true, Targets: objectIDs(sesame.MaxTargets + 1)}, sesame.Invalid, "/targets", "AboveMaxItems"},
		{"AddDuplicate", sesame.LinkUpdate{AddTargets: []string{e.file2.ID, e.file2.ID}}, sesame.Invalid, "/add_targets/1", "ItemNotUnique"},
		{"AddBadID", sesame.LinkUpdate{AddTargets: []string{"b.txt"}}, sesame.NotFound, "/add_targets/0", "DoesNotExist"},
		{"AddMissing", sesame.LinkUpdate{AddTargets: []string{sesame.NewID(sesame.PrefixObject)}}, sesame.NotFound, "/add_targets/0", "DoesNotExist"},
		{"RemoveAll", sesame.LinkUpdate{RemoveTargets: []string{e.file.ID}}, sesame.Invalid, "/remove_targets", "BelowMinItems"},
		{"ExpiresPast", sesame.LinkUpdate{Expires: ptr(now.Add(-time.Hour))}, sesame.Invalid, "/expires_at", "NotWithinRange"},
		{"MaxAccessZero", sesame.LinkUpdate{MaxAccessCount: ptr(0)}, sesame.Invalid, "/max_access_count", "NotWithinRange"},
		{"MaxDownloadsNegative", sesame.LinkUpdate{MaxDownloads: ptr(-1)}, sesame.Invalid, "/max_downloads", "NotWithinRange"},
		{"TitleTooLong", sesame.LinkUpdate{Title: ptr(strings.Repeat("t", sesame.MaxTitleLen+1))}, sesame.Invalid, "/title", "AboveMaxLength"},
		{"EmptyTag", sesame.LinkUpdate{SetTags: true, Tags: []string{""}}, sesame.Invalid, "/tags/0", "BelowMinLength"},
		{"NoAuthenticators", sesame.LinkUpdate{Authenticators: []sesame.AuthenticatorInput{}}, sesame.Invalid, "/authenticators", "BelowMinItems"},
		{"ShortPassword", sesame.LinkUpdate{Authenticators: []sesame.AuthenticatorInput{{Type: sesame.AuthPassword, Context: "short password"}}}, sesame.Invalid, "/authenticators/0/auth_context", "BelowMinLength"},
		{"BadPhone", sesame.LinkUpdate{Authenticators: []sesame.AuthenticatorInput{{Type: sesame.AuthSMSOTP, Context: "555-0123"}}}, sesame.Invalid, "/authenticators/0/auth_context", "DoesNotMatchPattern"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.Update(ctx, l.ID, tt.upd)
			wantFieldErr(t, err, tt.kind, tt.source, tt.code)
			got, err := e.st.LinkByID(ctx, l.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(l, got); diff != "" {
				t.Errorf("link changed by a failed update (-before +after):\n%s", diff)
			}
		})
	}

	t.Run("Unknown", func(t *testing.T) {
		_, err := e.svc.Update(ctx, sesame.NewID(sesame.PrefixLink), sesame.LinkUpdate{})
		if sesame.KindOf(err) != sesame.NotFound {
			t.Errorf("got %v, want %v", err, sesame.NotFound)
		}
	})

	t.Run("Clamped", func(t *testing.T) {
		got, err := e.svc.Update(ctx, l.ID, sesame.LinkUpdate{Expires: ptr(now.Add(1000 * time.Hour)), MaxAccessCount: ptr(1000), MaxDownloads: ptr(0)})
		if err != nil {
			t.Fatal(err)
		}
		if !got.Expires.Equal(now.Add(testPolicy.MaxExpiry)) || got.MaxAccessCount != testPolicy.MaxAccessCount || !got.Updated.Equal(now) {
			t.Errorf("got expiry %v, cap %d, updated %v; want %v, %d, %v", got.Expires, got.MaxAccessCount, got.Updated,
				now.Add(testPolicy.MaxExpiry), testPolicy.MaxAccessCount, now)
		}
	})

	t.Run("Reactivate", func(t *testing.T) {
		e.advance(testPolicy.MaxExpiry + time.Hour)
		cur, err := e.st.LinkByID(ctx, l.ID)
		if err != nil {
			t.Fatal(err)
		}
		if cur.Live(e.now()) {
			t.Fatalf("link live at %v with expiry %v", e.now(), cur.Expires)
		}
		got, err := e.svc.Update(ctx, l.ID, sesame.LinkUpdate{Expires: ptr(e.now().Add(time.Hour))})
		if err != nil {
			t.Fatal(err)
		}
		if !got.Live(e.now()) {
			t.Errorf("got expiry %v, want the link live again at %v", got.Expires, e.now())
		}
	})

	t.Run("NewAuthenticators", func(t *testing.T) {
		before, err := e.st.LinkByID(ctx, l.ID)
		if err != nil {
			t.Fatal(err)
		}
		const password = "a brand new passphrase"
		got, err := e.svc.Update(ctx, l.ID, sesame.LinkUpdate{Authenticators: []sesame.AuthenticatorInput{
			{Type: sesame.AuthSMSOTP, Context: "+1 (415) 555-0123"}, {Type: sesame.AuthPassword, Context: password},
		}})
		if err != nil {
			t.Fatal(err)
		}
		if got.AuthEpoch != before.AuthEpoch+1 {
			t.Errorf("got auth epoch %d, want %d", got.AuthEpoch, before.AuthEpoch+1)
		}
		if len(got.Authenticators) != 2 || got.Authenticators[0].Context != "+14155550123" {
			t.Fatalf("got authenticators %+v, want the normalised phone then the password", got.Authenticators)
		}
		if err := e.hasher.Verify(ctx, got.Authenticators[1].Context, password); err != nil {
			t.Errorf("stored password hash %q does not verify: %v", got.Authenticators[1].Context, err)
		}
	})
}

func TestMaskEmail(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"bob@example.com", "b•••@example.com"},
		{"a@b.co", "a•••@b.co"},
		{"élise@example.fr", "é•••@example.fr"},
		{"nobody", "•••"},
		{"@example.com", "•••"},
		{"", "•••"},
	} {
		if got := sesame.MaskEmail(tt.in); got != tt.want {
			t.Errorf("MaskEmail(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMaskPhone(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"+14155550123", "+14••••••123"},
		{"+442079460958", "+44•••••••958"},
		{"+12345678", "+12•••678"},
		{"+123456", "+12•456"},
		{"+12345", "•••"},
		{"", "•••"},
	} {
		if got := sesame.MaskPhone(tt.in); got != tt.want {
			t.Errorf("MaskPhone(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNormalizePhone(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string // "" when rejected
	}{
		{"+1 (415) 555-0123", "+14155550123"},
		{"+14155550123", "+14155550123"},
		{"  +44 20 7946 0958\t", "+442079460958"},
		{"+12345678", "+12345678"},
		{"+123456789012345", "+123456789012345"},
		{"+1234567", ""},
		{"+1234567890123456", ""},
		{"+0123456789", ""},
		{"14155550123", ""},
		{"+1 415 555 O123", ""},
		{"", ""},
	} {
		got, ok := sesame.NormalizePhone(tt.in)
		if ok != (tt.want != "") || got != tt.want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.want != "")
		}
	}
}

func TestValidEmail(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{"bob@example.com", true},
		{"o'neil.x+tag@sub.example.ie", true},
		{"Bob <bob@example.com>", false},
		{"bob@example.com, eve@example.com", false},
		{"bob@example.com\r\n", false},
		{"bob@localhost", false},
		{"bob(c)@example.com", false},
		{strings.Repeat("b", 243) + "@example.com", false}, // 255 bytes
	} {
		if got := sesame.ValidEmail(tt.in); got != tt.want {
			t.Errorf("ValidEmail(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// fieldList renders an error's field errors as "code source" lines.
func fieldList(t *testing.T, err error) []string {
	t.Helper()
	e := sesame.AsError(err)
	if e == nil {
		t.Fatalf("got %v, want a *sesame.Error", err)
	}
	out := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		out[i] = f.Code + " " + f.Source
	}
	return out
}

// One error lists every rule a request breaks, across items, up to
// sesame.MaxFieldErrors.
func TestLinkService_ReportsEveryProblem(t *testing.T) {
	ctx := admin
	e := newLinkEnv(t, testPolicy)

	t.Run("Create", func(t *testing.T) {
		a := e.item()
		a.Type, a.Title, a.NotifyEmail = "viewer", strings.Repeat("t", sesame.MaxTitleLen+1), "not an address"
		b := e.item()
		b.Authenticators = []sesame.AuthenticatorInput{{Type: sesame.AuthEmailOTP, Context: "bob"}, {Type: sesame.AuthPassword, Context: "short"}}
		b.MaxAccessCount = ptr(0)
		_, err := e.svc.Create(ctx, []sesame.LinkCreate{a, b})
		want := []string{
			"NotEnumMember /links/0/link_type", "AboveMaxLength /links/0/title", "BadFormatEmail /links/0/notify_email",
			"BadFormatEmail /links/1/authenticators/0/auth_context", "BelowMinLength /links/1/authenticators/1/auth_context",
			"NotWithinRange /links/1/max_access_count",
		}
		if diff := cmp.Diff(want, fieldList(t, err)); diff != "" {
			t.Errorf("field errors (-want +got):\n%s", diff)
		}
		if k := sesame.KindOf(err); k != sesame.Invalid {
			t.Errorf("got kind %v, want %v", k, sesame.Invalid)
		}
	})

	t.Run("Update", func(t *testing.T) {
		l := e.create(t, e.item())[0]
		_, err := e.svc.Update(ctx, l.ID, sesame.LinkUpdate{AddTargets: []string{"a.txt"}, MaxAccessCount: ptr(0),
			Title: ptr("two\nlines"), SetTags: true, Tags: []string{""}})
		want := []string{"DoesNotExist /add_targets/0", "NotWithinRange /max_access_count", "DoesNotMatchPattern /title", "BelowMinLength /tags/0"}
		if diff := cmp.Diff(want, fieldList(t, err)); diff != "" {
			t.Errorf("field errors (-want +got):\n%s", diff)
		}
		// A mix of a missing target and malformed fields is a 400, not a 404.
		if k := sesame.KindOf(err); k != sesame.Invalid {
			t.Errorf("got kind %v, want %v", k, sesame.Invalid)
		}
	})

	t.Run("AtMostTwenty", func(t *testing.T) {
		it := e.item()
		it.Targets = make([]string, 500)
		for i := range it.Targets {
			it.Targets[i] = fmt.Sprintf("bad-%d", i)
		}
		_, err := e.svc.Create(ctx, []sesame.LinkCreate{it})
		got := fieldList(t, err)
		if len(got) != sesame.MaxFieldErrors || got[0] != "DoesNotExist /links/0/targets/0" || got[19] != "DoesNotExist /links/0/targets/19" {
			t.Errorf("got %d field errors %q, want the first %d targets", len(got), got, sesame.MaxFieldErrors)
		}
	})
}

// Titles are one line of text and messages are text: control characters
// are refused where a link is made or changed, so none is ever stored.
func TestLinkService_ControlCharacters(t *testing.T) {
	ctx := admin
	e := newLinkEnv(t, testPolicy)
	l := e.create(t, e.item())[0]
	for _, tt := range []struct {
		name           string
		title, message string
		source         string // "" when accepted
	}{
		{"TitleCRLF", "Hi\r\nBcc: eve@example.com", "", "title"},
		{"TitleLF", "Hi\nthere", "", "title"},
		{"TitleNUL", "Hi\x00", "", "title"},
		{"TitleTab", "a\tb", "", "title"},
		{"TitleDEL", "a\x7f", "", "title"},
		{"TitleC1", "a\u0085b", "", "title"},
		{"TitleLineSeparator", "a\u2028b", "", "title"},
		{"MessageNUL", "", "Hello\x00", "message"},
		{"MessageEscape", "", "Hello \x1b[31mred", "message"},
		{"MessageParagraphSeparator", "", "a\u2029b", "message"},
		{"MessageLines", "", "Hello,\r\n\tthe figures.\nBye", ""},
		{"TitleUnicode", "Résumé – Q3 ✓", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			it := e.item()
			it.Title, it.Message = tt.title, tt.message
			_, err := e.svc.Create(ctx, []sesame.LinkCreate{it})
			upd := sesame.LinkUpdate{Title: &tt.title, Message: &tt.message}
			_, uerr := e.svc.Update(ctx, l.ID, upd)
			if tt.source == "" {
				if err != nil || uerr != nil {
					t.Fatalf("create: %v; update: %v; want both accepted", err, uerr)
				}
				return
			}
			wantFieldErr(t, err, sesame.Invalid, "/links/0/"+tt.source, "DoesNotMatchPattern")
			wantFieldErr(t, uerr, sesame.Invalid, "/"+tt.source, "DoesNotMatchPattern")
		})
	}
	// Nothing refused was stored.
	for _, b := range [][]byte{[]byte("Bcc: eve"), []byte("Hello\x00"), []byte("\x1b[31m")} {
		if bytes.Contains(e.dbBytes(t), b) {
			t.Errorf("the database holds %q", b)
		}
	}
}

func TestProblems(t *testing.T) {
	var p sesame.Problems
	if p.Err() != nil || p.Full() {
		t.Fatalf("zero Problems: Err %v, Full %v; want nil, false", p.Err(), p.Full())
	}
	p.Add(nil)
	p.Add(sesame.FieldErr("DoesNotExist", "/a", "a is missing").WithKind(sesame.NotFound))
	if k := sesame.KindOf(p.Err()); k != sesame.NotFound {
		t.Errorf("one NotFound problem: got kind %v, want %v", k, sesame.NotFound)
	}
	for i := 0; i < 30; i++ {
		p.Addf("BadFormat", fmt.Sprintf("/b/%d", i), "b/%d is wrong", i)
	}
	e := sesame.AsError(p.Err())
	if e.Kind != sesame.Invalid || len(e.Fields) != sesame.MaxFieldErrors || !p.Full() || e.Message != "a is missing" {
		t.Errorf("got kind %v, %d fields, full %v, message %q; want invalid, %d, true, the first detail",
			e.Kind, len(e.Fields), p.Full(), e.Message, sesame.MaxFieldErrors)
	}
	if e.Fields[19].Source != "/b/18" {
		t.Errorf("last kept problem is at %s, want /b/18", e.Fields[19].Source)
	}
	other := fmt.Errorf("store: boom")
	var q sesame.Problems
	q.Addf("BadFormat", "/x", "x")
	q.Add(other)
	if q.Err() != other {
		t.Errorf("got %v, want the error without fields as it is", q.Err())
	}
}
