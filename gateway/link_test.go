package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/gateway"
)

type linkObj struct {
	ID             string `json:"id"`
	BucketID       string `json:"bucket_id"`
	Targets        []string
	LinkType       string `json:"link_type"`
	AccessCount    int    `json:"access_count"`
	MaxAccessCount int    `json:"max_access_count"`
	CreatedAt      string `json:"created_at"`
	ExpiresAt      string `json:"expires_at"`
	Authenticators []struct {
		AuthType    string `json:"auth_type"`
		AuthContext string `json:"auth_context"`
	} `json:"authenticators"`
	Link         string   `json:"link"`
	Title        string   `json:"title"`
	Message      string   `json:"message"`
	Tags         []string `json:"tags"`
	NotifyEmail  string   `json:"notify_email"`
	MaxDownloads int      `json:"max_downloads"`
}

const goodPassword = "correct horse battery staple"

func pw(p string) map[string]any { return map[string]any{"auth_type": "password", "auth_context": p} }
func email(e string) map[string]any {
	return map[string]any{"auth_type": "email_otp", "auth_context": e}
}

func (e *testEnv) createLinks(items ...map[string]any) []linkObj {
	e.t.Helper()
	r := e.post("/v1/share/link/create", map[string]any{"links": items})
	mustOK(e.t, r)
	var res struct {
		Links []linkObj `json:"share_link_objects"`
	}
	r.Into(e.t, &res)
	return res.Links
}

func TestLinkCreateAndGet(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	file := e.upload("/s", "a.txt", []byte("a"))
	folder := e.mkdir("/drop")
	exp := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Second)
	links := e.createLinks(
		map[string]any{"targets": []string{file.ID, folder.ID}, "link_type": "download", "authenticators": []any{pw(goodPassword)},
			"title": "Q3 report", "message": "See attached.", "tags": []string{"q3", "finance"}, "max_access_count": 5,
			"expires_at": exp.Format(time.RFC3339), "notify_email": "alice@example.com", "max_downloads": 3},
		map[string]any{"targets": []string{folder.ID}, "link_type": "upload",
			"authenticators": []any{pw("short but ok!"), email("bob@example.com"), map[string]any{"auth_type": "sms_otp", "auth_context": "+1-415-555-0123"}}},
		map[string]any{"targets": []string{file.ID}, "authenticators": []any{email("carol@example.com")}},
	)
	if len(links) != 3 {
		t.Fatalf("got %d links, want 3", len(links))
	}
	l := links[0]
	if !sesame.ValidID(sesame.PrefixLink, l.ID) || !sesame.ValidID(sesame.PrefixBucket, l.BucketID) || l.LinkType != "download" ||
		l.AccessCount != 0 || l.MaxAccessCount != 5 || l.Title != "Q3 report" || l.NotifyEmail != "alice@example.com" || l.MaxDownloads != 3 {
		t.Fatalf("link 0: %+v", l)
	}
	if got, _ := sesame.ParseTime(l.ExpiresAt); !got.Equal(exp) {
		t.Errorf("expires_at %s, want %s", l.ExpiresAt, exp)
	}
	if !strings.HasPrefix(l.Link, e.srv.URL+"/s/") || len(strings.TrimPrefix(l.Link, e.srv.URL+"/s/")) != 43 {
		t.Errorf("link %q", l.Link)
	}
	if l.Authenticators[0].AuthContext != "********" {
		t.Errorf("password echoed: %q", l.Authenticators[0].AuthContext)
	}
	if u := links[1]; u.LinkType != "upload" || u.Authenticators[2].AuthContext != "+14155550123" || u.Authenticators[1].AuthContext != "bob@example.com" {
		t.Errorf("link 1: %+v", u)
	}
	if d := links[2]; d.LinkType != "download" || d.MaxAccessCount != 10 {
		t.Errorf("defaults: type %q, max_access_count %d", d.LinkType, d.MaxAccessCount)
	}
	if got, _ := sesame.ParseTime(links[2].ExpiresAt); time.Until(got) < 167*time.Hour || time.Until(got) > 169*time.Hour {
		t.Errorf("default expiry %s is not 7 days away", links[2].ExpiresAt)
	}

	// get returns exactly what create returned.
	for _, want := range links {
		r := e.post("/v1/share/link/get", map[string]any{"id": want.ID})
		mustOK(t, r)
		var res struct {
			Link json.RawMessage `json:"share_link_object"`
		}
		r.Into(t, &res)
		created := e.rawLinks(t, want.ID)
		if diff := cmp.Diff(string(created), string(res.Link)); diff != "" {
			t.Errorf("get differs from create (-create +get):\n%s", diff)
		}
	}
	// Objects report the links that share them.
	r := e.post("/v1/get", map[string]any{"id": file.ID})
	if !strings.Contains(string(r.Raw), links[0].ID) || !strings.Contains(string(r.Raw), links[2].ID) || !strings.Contains(string(r.Raw), `"share_link_ids"`) {
		t.Errorf("share_link_ids missing: %s", r.Raw)
	}
}

// rawLinks returns the raw JSON of a link as list reports it, to compare
// serialisations byte for byte.
func (e *testEnv) rawLinks(t *testing.T, id string) json.RawMessage {
	t.Helper()
	r := e.post("/v1/share/link/list", map[string]any{"filter": map[string]any{"id": id}})
	mustOK(t, r)
	var res struct {
		Links []json.RawMessage `json:"share_link_objects"`
	}
	r.Into(t, &res)
	if len(res.Links) != 1 {
		t.Fatalf("list by id found %d links", len(res.Links))
	}
	return res.Links[0]
}

func TestLinkCreateValidation(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	file := e.upload("/v", "f.txt", []byte("f"))
	folder := e.mkdir("/vd")
	base := func(over map[string]any) map[string]any {
		item := map[string]any{"targets": []string{file.ID}, "authenticators": []any{pw(goodPassword)}}
		for k, v := range over {
			if v == nil {
				delete(item, k)
				continue
			}
			item[k] = v
		}
		return item
	}
	past := time.Now().Add(-time.Hour).Format(time.RFC3339)
	missing := sesame.NewID(sesame.PrefixObject)
	many := make([]string, 1001)
	for i := range many {
		many[i] = sesame.NewID(sesame.PrefixObject)
	}
	elevenAuths := make([]any, 11)
	for i := range elevenAuths {
		elevenAuths[i] = email(fmt.Sprintf("u%d@example.com", i))
	}
	for _, tt := range []struct {
		name   string
		body   any
		code   int
		status string
		err    string
		source string
	}{
		{"NoLinks", map[string]any{}, 400, "ValidationError", "FieldRequired", "/links"},
		{"EmptyLinks", map[string]any{"links": []any{}}, 400, "ValidationError", "BelowMinItems", "/links"},
		{"TooManyLinks", map[string]any{"links": make([]any, 101)}, 400, "ValidationError", "FieldRequired", "/links/0/targets"},
		{"NoTargets", map[string]any{"links": []any{base(map[string]any{"targets": nil})}}, 400, "ValidationError", "FieldRequired", "/links/0/targets"},
		{"EmptyTargets", map[string]any{"links": []any{base(map[string]any{"targets": []string{}})}}, 400, "ValidationError", "BelowMinItems", "/links/0/targets"},
		{"TooManyTargets", map[string]any{"links": []any{base(map[string]any{"targets": many})}}, 400, "ValidationError", "AboveMaxItems", "/links/0/targets"},
		{"MalformedTarget", map[string]any{"links": []any{base(map[string]any{"targets": []string{"pos_nope"}})}}, 404, "NotFound", "DoesNotExist", "/links/0/targets/0"},
		{"MissingTarget", map[string]any{"links": []any{base(nil), base(map[string]any{"targets": []string{file.ID, missing}})}}, 404, "NotFound", "DoesNotExist", "/links/1/targets/1"},
		{"DuplicateTarget", map[string]any{"links": []any{base(map[string]any{"targets": []string{file.ID, file.ID}})}}, 400, "ValidationError", "ItemNotUnique", "/links/0/targets/1"},
		{"UploadToFile", map[string]any{"links": []any{base(map[string]any{"link_type": "upload", "targets": []string{folder.ID, file.ID}})}}, 400, "ValidationError", "BadState", "/links/0/targets/1"},
		{"BadLinkType", map[string]any{"links": []any{base(map[string]any{"link_type": "stream"})}}, 400, "ValidationError", "NotEnumMember", "/links/0/link_type"},
		{"NoAuthenticators", map[string]any{"links": []any{base(map[string]any{"authenticators": nil})}}, 400, "ValidationError", "FieldRequired", "/links/0/authenticators"},
		{"EmptyAuthenticators", map[string]any{"links": []any{base(map[string]any{"authenticators": []any{}})}}, 400, "ValidationError", "BelowMinItems", "/links/0/authenticators"},
		{"TooManyAuthenticators", map[string]any{"links": []any{base(map[string]any{"authenticators": elevenAuths})}}, 400, "ValidationError", "AboveMaxItems", "/links/0/authenticators"},
		{"AuthTypeMissing", map[string]any{"links": []any{base(map[string]any{"authenticators": []any{map[string]any{"auth_context": "x"}}})}}, 400, "ValidationError", "FieldRequired", "/links/0/authenticators/0/auth_type"},
		{"AuthContextMissing", map[string]any{"links": []any{base(map[string]any{"authenticators": []any{map[string]any{"auth_type": "password"}}})}}, 400, "ValidationError", "FieldRequired", "/links/0/authenticators/0/auth_context"},
		{"AuthTypeUnknown", map[string]any{"links": []any{base(map[string]any{"authenticators": []any{map[string]any{"auth_type": "retina", "auth_context": "x"}}})}}, 400, "ValidationError", "NotEnumMember", "/links/0/authenticators/0/auth_type"},
		{"SocialWithoutProvider", map[string]any{"links": []any{base(map[string]any{"authenticators": []any{map[string]any{"auth_type": "social", "auth_context": "a@b.co"}}})}}, 400, "ValidationError", "ProviderDisabled", "/links/0/authenticators/0/auth_type"},
		{"PasswordAloneTooShort", map[string]any{"links": []any{base(map[string]any{"authenticators": []any{pw("fourteen chars")}})}}, 400, "ValidationError", "BelowMinLength", "/links/0/authenticators/0/auth_context"},
		{"PasswordWithOTPTooShort", map[string]any{"links": []any{base(map[string]any{"authenticators": []any{email("a@example.com"), pw("seven77")}})}}, 400, "ValidationError", "BelowMinLength", "/links/0/authenticators/1/auth_context"},
		{"PasswordTooLong", map[string]any{"links": []any{base(map[string]any{"authenticators": []any{pw(strings.Repeat("p", 257))}})}}, 400, "ValidationError", "AboveMaxLength", "/links/0/authenticators/0/auth_context"},
		{"EmailWithName", map[string]any{"links": []any{base(map[string]any{"authenticators": []any{email("Bob <bob@example.com>")}})}}, 400, "ValidationError", "BadFormatEmail", "/links/0/authenticators/0/auth_context"},
		{"EmailList", map[string]any{"links": []any{base(map[string]any{"authenticators": []any{email("a@example.com, b@example.com")}})}}, 400, "ValidationError", "BadFormatEmail", "/links/0/authenticators/0/auth_context"},
		{"EmailInjection", map[string]any{"links": []any{base(map[string]any{"authenticators": []any{email("a@example.com\r\nBcc: c@example.com")}})}}, 400, "ValidationError", "BadFormatEmail", "/links/0/authenticators/0/auth_context"},
		{"DuplicateEmail", map[string]any{"links": []any{base(map[string]any{"authenticators": []any{email("a@example.com"), email("A@example.com")}})}}, 400, "ValidationError", "ItemNotUnique", "/links/0/authenticators/1"},
		{"PhoneNotE164", map[string]any{"links": []any{base(map[string]any{"authenticators": []any{map[string]any{"auth_type": "sms_otp", "auth_context": "415-555-0123"}}})}}, 400, "ValidationError", "DoesNotMatchPattern", "/links/0/authenticators/0/auth_context"},
		{"PhoneTooShort", map[string]any{"links": []any{base(map[string]any{"authenticators": []any{map[string]any{"auth_type": "sms_otp", "auth_context": "+1234"}}})}}, 400, "ValidationError", "DoesNotMatchPattern", "/links/0/authenticators/0/auth_context"},
		{"NotifyEmail", map[string]any{"links": []any{base(map[string]any{"notify_email": "nope"})}}, 400, "ValidationError", "BadFormatEmail", "/links/0/notify_email"},
		{"ExpiresPast", map[string]any{"links": []any{base(map[string]any{"expires_at": past})}}, 400, "ValidationError", "NotWithinRange", "/links/0/expires_at"},
		{"ExpiresGarbage", map[string]any{"links": []any{base(map[string]any{"expires_at": "tomorrow"})}}, 400, "ValidationError", "BadFormatDateTime", "/links/0/expires_at"},
		{"MaxAccessZero", map[string]any{"links": []any{base(map[string]any{"max_access_count": 0})}}, 400, "ValidationError", "NotWithinRange", "/links/0/max_access_count"},
		{"MaxAccessString", map[string]any{"links": []any{base(map[string]any{"max_access_count": "5"})}}, 400, "ValidationError", "InvalidInteger", "/links/0/max_access_count"},
		{"MaxDownloadsZero", map[string]any{"links": []any{base(map[string]any{"max_downloads": 0})}}, 400, "ValidationError", "NotWithinRange", "/links/0/max_downloads"},
		{"TitleTooLong", map[string]any{"links": []any{base(map[string]any{"title": strings.Repeat("t", 257)})}}, 400, "ValidationError", "AboveMaxLength", "/links/0/title"},
		{"EmptyTag", map[string]any{"links": []any{base(map[string]any{"tags": []string{"ok", ""}})}}, 400, "ValidationError", "BelowMinLength", "/links/0/tags/1"},
		{"UnknownField", map[string]any{"links": []any{base(map[string]any{"colour": "red"})}}, 400, "ValidationError", "UnexpectedProperty", "/links/0/colour"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.post("/v1/share/link/create", tt.body)
			wantError(t, r, tt.code, tt.status, tt.err, tt.source)
		})
	}
	// Nothing above created a link.
	if r := e.post("/v1/share/link/list", "{}"); !strings.Contains(string(r.Raw), `"count":0`) {
		t.Fatalf("a rejected create left a link: %s", r.Raw)
	}
	t.Run("ClampsExpiryAndCap", func(t *testing.T) {
		far := time.Now().Add(365 * 24 * time.Hour).Format(time.RFC3339)
		l := e.createLinks(base(map[string]any{"expires_at": far, "max_access_count": 1_000_000}))[0]
		got, _ := sesame.ParseTime(l.ExpiresAt)
		if d := time.Until(got); d > 30*24*time.Hour+time.Minute || d < 30*24*time.Hour-time.Minute {
			t.Errorf("expiry %s not clamped to 30 days", l.ExpiresAt)
		}
		if l.MaxAccessCount != 1000 {
			t.Errorf("max_access_count %d, want 1000", l.MaxAccessCount)
		}
	})
}

func TestLinkSMSCountryAllowList(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, func(c *gateway.Config) {
		p := sesame.DefaultLinkPolicy()
		p.SMSCountries = []string{"+44"}
		c.Links.Policy = p
	})
	f := e.upload("/c", "f", []byte("f"))
	r := e.post("/v1/share/link/create", map[string]any{"links": []any{map[string]any{"targets": []string{f.ID},
		"authenticators": []any{map[string]any{"auth_type": "sms_otp", "auth_context": "+14155550123"}}}}})
	wantError(t, r, 400, "ValidationError", "NotEnumMember", "/links/0/authenticators/0/auth_context")
	if strings.Contains(string(r.Raw), "4155550123") {
		t.Errorf("the error repeats the whole number: %s", r.Raw)
	}
	ok := e.createLinks(map[string]any{"targets": []string{f.ID}, "authenticators": []any{map[string]any{"auth_type": "sms_otp", "auth_context": "+447700900123"}}})
	if ok[0].Authenticators[0].AuthContext != "+447700900123" {
		t.Fatalf("got %+v", ok[0])
	}
}

func TestLinkDeleteAndLifecycle(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	a := e.upload("/x", "a", []byte("a"))
	b := e.upload("/x", "b", []byte("b"))
	both := e.createLinks(map[string]any{"targets": []string{a.ID, b.ID}, "authenticators": []any{pw(goodPassword)}})[0]
	onlyA := e.createLinks(map[string]any{"targets": []string{a.ID}, "authenticators": []any{pw(goodPassword)}})[0]
	gone := e.createLinks(map[string]any{"targets": []string{b.ID}, "authenticators": []any{pw(goodPassword)}})[0]

	r := e.post("/v1/share/link/delete", map[string]any{"ids": []string{gone.ID}})
	mustOK(t, r)
	var res struct {
		Links []linkObj `json:"share_link_objects"`
	}
	r.Into(t, &res)
	if len(res.Links) != 1 || res.Links[0].ID != gone.ID || res.Links[0].Link != gone.Link {
		t.Fatalf("delete returned %+v", res.Links)
	}
	wantError(t, e.post("/v1/share/link/get", map[string]any{"id": gone.ID}), 404, "NotFound", "DoesNotExist", "/id")
	wantError(t, e.post("/v1/share/link/delete", map[string]any{"ids": []string{onlyA.ID, gone.ID}}), 404, "NotFound", "DoesNotExist", "/ids/1")
	mustOK(t, e.post("/v1/share/link/get", map[string]any{"id": onlyA.ID})) // the failed delete took nothing

	// Deleting a removes it from both links; onlyA is left with no target and goes.
	mustOK(t, e.post("/v1/delete", map[string]any{"id": a.ID}))
	r = e.post("/v1/share/link/get", map[string]any{"id": both.ID})
	mustOK(t, r)
	var got struct {
		Link linkObj `json:"share_link_object"`
	}
	r.Into(t, &got)
	if diff := cmp.Diff([]string{b.ID}, got.Link.Targets); diff != "" {
		t.Errorf("targets after deleting a (-want +got):\n%s", diff)
	}
	wantError(t, e.post("/v1/share/link/get", map[string]any{"id": onlyA.ID}), 404, "NotFound", "DoesNotExist", "/id")
	if l := e.post("/v1/share/link/list", "{}"); !strings.Contains(string(l.Raw), `"count":1`) {
		t.Fatalf("list after lifecycle: %s", l.Raw)
	}
	// The audit trail keeps the deleted link's history.
	ar := e.post("/v1/audit/list", map[string]any{"filter": map[string]any{"link_id": gone.ID}})
	mustOK(t, ar)
	var audit struct {
		Count  int `json:"count"`
		Events []struct {
			Action  string `json:"action"`
			Outcome string `json:"outcome"`
			Actor   string `json:"actor"`
			IP      string `json:"ip"`
		} `json:"events"`
	}
	ar.Into(t, &audit)
	var actions []string
	for _, ev := range audit.Events {
		actions = append(actions, ev.Action+":"+ev.Outcome)
		if !strings.HasPrefix(ev.Actor, "stk_") || ev.IP == "" {
			t.Errorf("event without actor or ip: %+v", ev)
		}
	}
	if diff := cmp.Diff([]string{"link.delete:failure:404", "link.delete:success", "link.create:success"}, actions); diff != "" {
		t.Errorf("audit for the deleted link (-want +got):\n%s", diff)
	}
}

func TestLinkUpdate(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	a := e.upload("/y", "a", []byte("a"))
	b := e.upload("/y", "b", []byte("b"))
	l := e.createLinks(map[string]any{"targets": []string{a.ID}, "authenticators": []any{pw(goodPassword)}, "title": "old", "max_downloads": 2})[0]
	update := func(body map[string]any) linkObj {
		t.Helper()
		body["id"] = l.ID
		r := e.post("/v1/share/link/update", body)
		mustOK(t, r)
		var res struct {
			Link linkObj `json:"share_link_object"`
		}
		r.Into(t, &res)
		return res.Link
	}
	got := update(map[string]any{"add_targets": []string{b.ID}, "title": "new", "tags": []string{"t"}, "max_access_count": 7})
	if diff := cmp.Diff([]string{a.ID, b.ID}, got.Targets); diff != "" || got.Title != "new" || got.MaxAccessCount != 7 || got.Link != l.Link {
		t.Fatalf("update: %+v %s", got, diff)
	}
	got = update(map[string]any{"remove_targets": []string{a.ID}, "max_downloads": nil})
	if diff := cmp.Diff([]string{b.ID}, got.Targets); diff != "" || got.MaxDownloads != 0 {
		t.Fatalf("remove: %+v", got)
	}
	wantError(t, e.post("/v1/share/link/update", map[string]any{"id": l.ID, "remove_targets": []string{b.ID}}), 400, "ValidationError", "BelowMinItems", "/remove_targets")
	wantError(t, e.post("/v1/share/link/update", map[string]any{"id": l.ID, "expires_at": "2001-01-01T00:00:00Z"}), 400, "ValidationError", "NotWithinRange", "/expires_at")
	wantError(t, e.post("/v1/share/link/update", map[string]any{"id": l.ID, "authenticators": []any{pw("short")}}), 400, "ValidationError", "BelowMinLength", "/authenticators/0/auth_context")
	got = update(map[string]any{"authenticators": []any{email("new@example.com")}})
	if len(got.Authenticators) != 1 || got.Authenticators[0].AuthContext != "new@example.com" {
		t.Fatalf("authenticators: %+v", got.Authenticators)
	}
	later := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	got = update(map[string]any{"expires_at": later.Format(time.RFC3339)})
	if ts, _ := sesame.ParseTime(got.ExpiresAt); !ts.Equal(later) {
		t.Fatalf("expires_at %s, want %s", got.ExpiresAt, later)
	}
}

func TestLinkSecretsNotAtRest(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	f := e.upload("/z", "f", []byte("f"))
	secretPassword := "unmistakable-pass-phrase-9731"
	links := e.createLinks(map[string]any{"targets": []string{f.ID}, "authenticators": []any{pw(secretPassword)}},
		map[string]any{"targets": []string{f.ID}, "authenticators": []any{email("x@example.com")}})
	needles := []string{secretPassword}
	for _, l := range links {
		needles = append(needles, l.Link[strings.LastIndex(l.Link, "/")+1:])
	}
	needles = append(needles, e.token)
	e.st.Close() // checkpoint the WAL into the main file
	files, _ := filepath.Glob(filepath.Join(e.st.DataDir(), "sesame.db*"))
	if len(files) == 0 {
		t.Fatal("no database file found")
	}
	for _, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range needles {
			if bytes.Contains(b, []byte(n)) {
				t.Errorf("%s holds the secret %q", filepath.Base(path), n)
			}
		}
	}
	// The password is kept as an argon2id PHC string.
	if !bytes.Contains(mustRead(t, filepath.Join(e.st.DataDir(), "sesame.db")), []byte("$argon2id$v=19$m=19456,t=2,p=1$")) {
		t.Error("no argon2id PHC string in the database")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLinkIdempotency(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	f := e.upload("/i", "f", []byte("f"))
	body, _ := json.Marshal(map[string]any{"links": []any{map[string]any{"targets": []string{f.ID}, "authenticators": []any{email("i@example.com")}}}})
	send := func(key string, b []byte) *reply {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/v1/share/link/create", bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+e.token)
		req.Header.Set("Idempotency-Key", key)
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Error(err)
			return nil
		}
		defer resp.Body.Close()
		var r reply
		r.Code, r.Header = resp.StatusCode, resp.Header
		json.NewDecoder(resp.Body).Decode(&r)
		return &r
	}
	t.Run("ParallelCreatesMakeOneLink", func(t *testing.T) {
		var wg sync.WaitGroup
		replies := make([]*reply, 50)
		for i := range replies {
			wg.Add(1)
			go func() {
				defer wg.Done()
				replies[i] = send("parallel-key", body)
			}()
		}
		wg.Wait()
		ids := map[string]bool{}
		for _, r := range replies {
			if r == nil {
				continue
			}
			switch r.Code {
			case http.StatusOK:
				var res struct {
					Links []linkObj `json:"share_link_objects"`
				}
				json.Unmarshal(r.Result, &res)
				ids[res.Links[0].ID] = true
			case http.StatusConflict: // still in flight
			default:
				t.Errorf("unexpected %d %s", r.Code, r.Status)
			}
		}
		if len(ids) != 1 {
			t.Fatalf("%d distinct links from one key, want 1", len(ids))
		}
		var list struct{ Count int }
		e.post("/v1/share/link/list", "{}").Into(t, &list)
		if list.Count != 1 {
			t.Fatalf("%d links exist, want 1", list.Count)
		}
	})
	t.Run("ReplayAndMismatch", func(t *testing.T) {
		first := send("k2", body)
		again := send("k2", body)
		if first.Code != 200 || again.Code != 200 || string(first.Result) != string(again.Result) || again.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("replay: %d %d %q", first.Code, again.Code, again.Header.Get("Idempotent-Replayed"))
		}
		other := send("k2", []byte(`{"links":[]}`))
		if other.Code != http.StatusUnprocessableEntity {
			t.Fatalf("another body with the same key: %d", other.Code)
		}
		// Keys are per token.
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/v1/share/link/create", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e.newToken("links:write", "objects:read"))
		req.Header.Set("Idempotency-Key", "k2")
		if r := e.do(req); r.Code != 200 || r.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("another token's key replayed: %d", r.Code)
		}
	})
	t.Run("Put", func(t *testing.T) {
		js, _ := json.Marshal(map[string]any{"folder": "/i", "name": "once.bin"})
		ct, mp := multipartBody(t, part{"request", "blob", "application/json", js}, part{"file", "blob", "", []byte("payload")})
		do := func() *reply {
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/v1/put", bytes.NewReader(mp))
			req.Header.Set("Content-Type", ct)
			req.Header.Set("Authorization", "Bearer "+e.token)
			req.Header.Set("Idempotency-Key", "put-1")
			return e.do(req)
		}
		a, b := do(), do()
		if a.Code != 200 || b.Code != 200 || string(a.Result) != string(b.Result) {
			t.Fatalf("put replay: %d %d\n%s\n%s", a.Code, b.Code, a.Raw, b.Raw)
		}
	})
}
