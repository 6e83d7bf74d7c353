package gateway_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/internal/testrig"
)

// ttlObject is the wire object with its TTL fields.
type ttlObject struct {
	ID               string  `json:"id"`
	Name             string  `json:"name"`
	Folder           string  `json:"folder"`
	ParentID         string  `json:"parent_id"`
	CreatedAt        string  `json:"created_at"`
	FileTTL          *string `json:"file_ttl"`
	FileTTLEffective *string `json:"file_ttl_effective"`
	FileTTLFromID    *string `json:"file_ttl_from_id"`
	ExpiresAt        *string `json:"expires_at"`
}

func ttlObjectOf(t *testing.T, r *testrig.Reply) ttlObject {
	t.Helper()
	r.MustOK(t)
	var res struct {
		Object ttlObject `json:"object"`
	}
	r.Into(t, &res)
	return res.Object
}

// wantTTLFields fails unless o reports own, effective and from, and
// expires_at at expires ("" for none).
func wantTTLFields(t *testing.T, o ttlObject, own, effective, from, expires string) {
	t.Helper()
	str := func(p *string) string {
		if p == nil {
			return "<absent>"
		}
		return *p
	}
	wantExp := expires
	if wantExp == "" {
		wantExp = "<absent>"
	}
	if str(o.FileTTL) != own || str(o.FileTTLEffective) != effective || str(o.FileTTLFromID) != from || str(o.ExpiresAt) != wantExp {
		t.Errorf("%s: got file_ttl %s, file_ttl_effective %s, file_ttl_from_id %s, expires_at %s; want %s, %s, %s, %s", o.Name,
			str(o.FileTTL), str(o.FileTTLEffective), str(o.FileTTLFromID), str(o.ExpiresAt), own, effective, from, wantExp)
	}
}

// after is the time at s plus d, as the API writes times.
func after(t *testing.T, s string, d time.Duration) string {
	t.Helper()
	at, err := sesame.ParseTime(s)
	if err != nil {
		t.Fatal(err)
	}
	return sesame.FormatTime(at.Add(d))
}

// TestFileTTL_ExpiresWithLinkTargets is the acceptance walk: a file with
// file_ttl of 2 s disappears from every read at once, and from its links'
// targets; the sweep then deletes it, deletes the link it was the only
// target of, and the audit says why.
func TestFileTTL_ExpiresWithLinkTargets(t *testing.T) {
	t.Parallel()
	clock := testrig.NewClock(time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC))
	rig := testrig.NewEnv(t, testrig.WithClock(clock))
	api, e := rig.API, fromRig(t, rig)

	share := ttlObjectOf(t, api.Post(t, "/v1/folder/create", map[string]any{"folder": "/share", "file_ttl": "7d"}))
	wantTTLFields(t, share, "7d", "7d", share.ID, "")
	x := ttlObjectOf(t, e.put("/v1/put", map[string]any{"folder": "/share", "name": "x.txt", "file_ttl": "2s"}, []byte("short-lived")))
	wantTTLFields(t, x, "2s", "2s", x.ID, after(t, x.CreatedAt, 2*time.Second))
	y := ttlObjectOf(t, e.put("/v1/put", map[string]any{"folder": "/share", "name": "y.txt"}, []byte("y")))
	wantTTLFields(t, y, "inherited", "7d", share.ID, after(t, y.CreatedAt, 7*24*time.Hour))

	links := func(body map[string]any) []string {
		r := api.Post(t, "/v1/share/link/create", body)
		r.MustOK(t)
		var res struct {
			Links []struct {
				ID string `json:"id"`
			} `json:"share_link_objects"`
		}
		r.Into(t, &res)
		out := make([]string, len(res.Links))
		for i, l := range res.Links {
			out[i] = l.ID
		}
		return out
	}
	ids := links(map[string]any{"links": []any{
		map[string]any{"targets": []string{x.ID, y.ID}, "authenticators": []any{pw(goodPassword)}},
		map[string]any{"targets": []string{x.ID}, "authenticators": []any{pw(goodPassword)}},
	}})
	both, only := ids[0], ids[1]
	targets := func(id string) (int, []string) {
		r := api.Post(t, "/v1/share/link/get", map[string]any{"id": id})
		if r.Code != http.StatusOK {
			return r.Code, nil
		}
		var res struct {
			Link struct {
				Targets []string `json:"targets"`
			} `json:"share_link_object"`
		}
		r.Into(t, &res)
		return r.Code, res.Link.Targets
	}
	if _, got := targets(both); !slices.Equal(got, []string{x.ID, y.ID}) {
		t.Fatalf("targets before expiry: %v", got)
	}

	clock.Add(2*time.Second - time.Microsecond)
	api.Post(t, "/v1/get", map[string]any{"id": x.ID}).MustOK(t)
	clock.Add(time.Microsecond)

	// Hidden at once, on every read.
	wantError(t, api.Post(t, "/v1/get", map[string]any{"id": x.ID}), http.StatusNotFound, "NotFound", "DoesNotExist", "/id")
	wantError(t, api.Post(t, "/v1/get", map[string]any{"path": "/share/x.txt"}), http.StatusNotFound, "NotFound", "DoesNotExist", "/path")
	wantError(t, api.Post(t, "/v1/get_archive", map[string]any{"ids": []string{x.ID}}), http.StatusNotFound, "NotFound", "DoesNotExist", "/ids/0")
	r := api.Post(t, "/v1/list", map[string]any{"filter": map[string]any{"folder": "/share"}})
	r.MustOK(t)
	var page struct {
		Count   int         `json:"count"`
		Objects []ttlObject `json:"objects"`
	}
	r.Into(t, &page)
	if page.Count != 1 || len(page.Objects) != 1 || page.Objects[0].ID != y.ID {
		t.Errorf("list of /share after expiry: %+v, want y alone", page)
	}
	if _, got := targets(both); !slices.Equal(got, []string{y.ID}) {
		t.Errorf("targets of the link to both after expiry: %v, want y alone", got)
	}
	r = api.Post(t, "/v1/get_archive", map[string]any{"ids": []string{share.ID}, "transfer_method": "dest-url"})
	r.MustOK(t)
	var arch struct {
		Count int `json:"count"`
	}
	r.Into(t, &arch)
	if arch.Count != 2 {
		t.Errorf("archive of /share after expiry: %d members, want the folder and y", arch.Count)
	}

	// The sweep deletes it, with the link it was the only target of.
	n, err := rig.Store.ExpireFiles(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("sweep: %d, %v; want 1", n, err)
	}
	if code, _ := targets(only); code != http.StatusNotFound {
		t.Errorf("the link whose only target expired: got %d, want 404", code)
	}
	if _, got := targets(both); !slices.Equal(got, []string{y.ID}) {
		t.Errorf("targets of the link to both after the sweep: %v, want y alone", got)
	}

	r = api.Post(t, "/v1/audit/list", map[string]any{"filter": map[string]any{"action": sesame.ActionObjectExpire}})
	r.MustOK(t)
	var audit struct {
		Events []struct {
			Action    string            `json:"action"`
			ActorType string            `json:"actor_type"`
			ObjectID  string            `json:"object_id"`
			Detail    map[string]string `json:"detail"`
		} `json:"events"`
	}
	r.Into(t, &audit)
	if len(audit.Events) != 1 {
		t.Fatalf("got %d object.expire events, want 1: %s", len(audit.Events), r.Raw)
	}
	ev := audit.Events[0]
	wantLinks := []string{both, only}
	slices.Sort(wantLinks)
	want := map[string]string{"reason": "file_ttl", "file_ttl": "2s", "file_ttl_from_id": x.ID, "path": "/share/x.txt",
		"expires_at": after(t, x.CreatedAt, 2*time.Second), "links": wantLinks[0] + " " + wantLinks[1]}
	if ev.ObjectID != x.ID || ev.ActorType != sesame.ActorSystem || !mapsEqual(ev.Detail, want) {
		t.Errorf("expire event: got %+v, want object %s by the system with detail %v", ev, x.ID, want)
	}
}

func mapsEqual(a, b map[string]string) bool {
	ja, _ := json.Marshal(a) // maps marshal with sorted keys
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// TestFileTTL_Replies: every object reply carries the TTL fields, the
// default comes from the service configuration, and a folder's new TTL
// reaches what inherits it.
func TestFileTTL_Replies(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	f := e.upload("/top", "f.txt", []byte("f"))
	got := func(r *testrig.Reply) ttlObject { return ttlObjectOf(t, r) }
	top := got(e.post("/v1/get", map[string]any{"path": "/top"}))
	file := got(e.post("/v1/get", map[string]any{"id": f.ID}))
	if file.FileTTLFromID == nil || !sesame.ValidID(sesame.PrefixConfig, *file.FileTTLFromID) {
		t.Fatalf("file_ttl_from_id of a file under no TTL: %v, want the service configuration's pci_ id", file.FileTTLFromID)
	}
	cfg := *file.FileTTLFromID
	wantTTLFields(t, top, "inherited", "never", cfg, "")
	wantTTLFields(t, file, "inherited", "never", cfg, "")

	top = got(e.post("/v1/update", map[string]any{"id": top.ID, "file_ttl": "10d"}))
	wantTTLFields(t, top, "10d", "10d", top.ID, "")
	file = got(e.post("/v1/get", map[string]any{"id": f.ID}))
	wantTTLFields(t, file, "inherited", "10d", top.ID, after(t, file.CreatedAt, 10*24*time.Hour))
	r := e.post("/v1/list", map[string]any{"filter": map[string]any{"folder": "/top"}})
	mustOK(t, r)
	var page struct {
		Objects []ttlObject `json:"objects"`
	}
	r.Into(t, &page)
	if len(page.Objects) != 1 {
		t.Fatalf("list: %s", r.Raw)
	}
	wantTTLFields(t, page.Objects[0], "inherited", "10d", top.ID, after(t, file.CreatedAt, 10*24*time.Hour))

	file = got(e.post("/v1/update", map[string]any{"id": f.ID, "file_ttl": "never"}))
	wantTTLFields(t, file, "never", "never", f.ID, "")
	top = got(e.post("/v1/update", map[string]any{"id": top.ID, "file_ttl": "inherited"}))
	wantTTLFields(t, top, "inherited", "never", cfg, "")
}

// TestRootScope_EveryEndpoint: root_folder and root_id scope each object
// endpoint to a subtree, with paths relative to it.
func TestRootScope_EveryEndpoint(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	inside := e.upload("/tenants/acme/docs", "a.txt", []byte("a"))
	outside := e.upload("/tenants/other", "b.txt", []byte("b"))
	acme := ttlObjectOf(t, e.post("/v1/get", map[string]any{"path": "/tenants/acme"}))
	scopes := []map[string]any{{"root_folder": "/tenants/acme"}, {"root_id": acme.ID}, {"root_folder": "/tenants/acme/", "root_id": acme.ID}}
	with := func(scope, body map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range scope {
			out[k] = v
		}
		for k, v := range body {
			out[k] = v
		}
		return out
	}
	for i, scope := range scopes {
		o := ttlObjectOf(t, e.post("/v1/get", with(scope, map[string]any{"id": inside.ID})))
		if o.Folder != "/docs" || o.ParentID == "" {
			t.Errorf("%v: get by id: folder %q, want /docs", scope, o.Folder)
		}
		o = ttlObjectOf(t, e.post("/v1/get", with(scope, map[string]any{"path": "/docs/a.txt"})))
		if o.ID != inside.ID {
			t.Errorf("%v: get by relative path: %s, want %s", scope, o.ID, inside.ID)
		}
		wantError(t, e.post("/v1/get", with(scope, map[string]any{"id": outside.ID})), http.StatusNotFound, "NotFound", "DoesNotExist", "/id")
		wantError(t, e.post("/v1/get_archive", with(scope, map[string]any{"ids": []string{inside.ID, outside.ID}})), http.StatusNotFound, "NotFound", "DoesNotExist", "/ids/1")

		r := e.post("/v1/list", with(scope, map[string]any{"filter": map[string]any{"folder": "/docs"}}))
		mustOK(t, r)
		var page struct {
			Count   int         `json:"count"`
			Objects []ttlObject `json:"objects"`
		}
		r.Into(t, &page)
		if page.Count != 1 || page.Objects[0].ID != inside.ID || page.Objects[0].Folder != "/docs" {
			t.Errorf("%v: list /docs: %s", scope, r.Raw)
		}

		name := "n" + string(rune('0'+i))
		f := ttlObjectOf(t, e.post("/v1/folder/create", with(scope, map[string]any{"folder": "/made", "name": name})))
		if f.Folder != "/made" {
			t.Errorf("%v: folder/create: folder %q, want /made", scope, f.Folder)
		}
		p := ttlObjectOf(t, e.put("/v1/put", with(scope, map[string]any{"folder": "/made/" + name, "name": "p.txt"}), []byte("p")))
		if p.Folder != "/made/"+name {
			t.Errorf("%v: put: folder %q, want /made/%s", scope, p.Folder, name)
		}
		u := ttlObjectOf(t, e.post("/v1/update", with(scope, map[string]any{"id": p.ID, "folder": "/docs", "name": name + ".txt"})))
		if u.Folder != "/docs" {
			t.Errorf("%v: update: folder %q, want /docs", scope, u.Folder)
		}
		wantError(t, e.post("/v1/update", with(scope, map[string]any{"id": outside.ID, "name": "x"})), http.StatusNotFound, "NotFound", "DoesNotExist", "/id")
		mustOK(t, e.post("/v1/delete", with(scope, map[string]any{"path": "/docs/" + name + ".txt"})))
		wantError(t, e.post("/v1/delete", with(scope, map[string]any{"id": outside.ID})), http.StatusNotFound, "NotFound", "DoesNotExist", "/id")
	}
	// The whole path, seen without a scope.
	if o := ttlObjectOf(t, e.post("/v1/get", map[string]any{"path": "/tenants/acme/made/n0"})); o.Folder != "/tenants/acme/made" {
		t.Errorf("unscoped: folder %q", o.Folder)
	}
	wantError(t, e.post("/v1/list", map[string]any{"root_folder": "/tenants/other", "root_id": acme.ID}), http.StatusBadRequest, "ValidationError", "MutuallyExclusive", "/root_folder")
}
