package gateway_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// The two sweeps: TestBadInput over the object endpoints and unknown
// routes, TestBadInputMore over the share-link API, the audit and
// notification lists, the Idempotency-Key header, upload polls, MCP and the
// recipient portal under /s/. Each runs its cases on one server and then
// checks that none of them changed anything.

func TestBadInput(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	f := newBadFixtures(t, env)
	var cases []badCase
	for _, ver := range []string{"/v1", "/v1beta"} {
		var vc []badCase
		for _, ep := range badEndpoints {
			vc = append(vc, badGenericCases(t, f, ver, ep)...)
		}
		vc = append(vc, badEndpointCases(t, f, ver)...)
		for _, c := range vc {
			c.name = strings.TrimPrefix(ver, "/") + "/" + c.name
			cases = append(cases, c)
		}
	}
	for _, c := range badRouteCases(f) {
		c.name = "route/" + c.name
		cases = append(cases, c)
	}
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.name] {
			t.Fatalf("duplicate case name %s", c.name)
		}
		seen[c.name] = true
	}
	t.Logf("%d cases", len(cases))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := env.badSend(t, tc.req)
			badCheck(t, r, tc.want)
		})
	}

	// The fixtures survived every bad request unchanged.
	for _, o := range []object{f.a, f.b, f.c, f.full, f.inner} {
		got := env.objectOf(env.post("/v1/get", bj{"id": o.ID}))
		if got.Folder != o.Folder || got.Name != o.Name || got.UpdatedAt != o.UpdatedAt {
			t.Errorf("fixture %s changed: got %s/%s at %s, want %s/%s at %s", o.ID, got.Folder, got.Name, got.UpdatedAt, o.Folder, o.Name, o.UpdatedAt)
		}
	}
	r := env.post("/v1/list", bj{"filter": bj{"folder": "/fx"}})
	mustOK(t, r)
	var page struct {
		Count int `json:"count"`
	}
	r.Into(t, &page)
	if page.Count != 3 {
		t.Errorf("got %d objects in /fx after the bad requests, want 3 (a.txt, b.txt, full): %s", page.Count, r.Raw)
	}
}

func TestBadInputMore(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	f := moreNewFixtures(t, env)
	portal := moreNewPortal(t, env)

	var cases []moreCase
	for _, ver := range []string{"/v1", "/v1beta"} {
		cases = append(cases, moreLinkCases(t, f, ver)...)
		cases = append(cases, moreListCases(f, ver)...)
		cases = append(cases, moreIdemCases(t, env, f, ver)...)
	}
	cases = append(cases, moreRequestCases(f)...)
	cases = append(cases, moreMCPCases(f)...)
	cases = append(cases, morePortalCases(t, f, portal)...)

	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.name] {
			t.Fatalf("duplicate case name %s", c.name)
		}
		seen[c.name] = true
	}

	// What must survive every case.
	countLinks := func() int {
		r := env.post("/v1/share/link/list", bj{})
		mustOK(t, r)
		var res struct {
			Count int `json:"count"`
		}
		r.Into(t, &res)
		return res.Count
	}
	children := func(folder string) []string {
		r := env.post("/v1/list", bj{"filter": bj{"folder": folder}, "order_by": "name"})
		mustOK(t, r)
		var res struct {
			Objects []object `json:"objects"`
		}
		r.Into(t, &res)
		var names []string
		for _, o := range res.Objects {
			names = append(names, o.Name+"@"+o.UpdatedAt)
		}
		return names
	}
	links := countLinks()
	live := env.post("/v1/share/link/get", bj{"id": f.live})
	mustOK(t, live)
	folders := map[string][]string{}
	for _, folder := range []string{"/fx", "/pt", "/pt/dl", "/pt/ed", "/pt/ed/sub", "/pt/up"} {
		folders[folder] = children(folder)
	}

	t.Logf("%d cases", len(cases))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var r *reply
			if tc.kind == moreAPI {
				r = env.badSend(t, tc.req)
			} else {
				r = env.moreSend(t, tc.req, tc.who)
			}
			moreCheck(t, tc, r, portal.dead)
		})
	}

	t.Run("after/LinksUnchanged", func(t *testing.T) {
		if got := countLinks(); got != links {
			t.Errorf("the bad requests changed the number of links from %d to %d", links, got)
		}
		r := env.post("/v1/share/link/get", bj{"id": f.live})
		mustOK(t, r)
		var before, after struct {
			Link struct {
				Title     string   `json:"title"`
				ExpiresAt string   `json:"expires_at"`
				MaxAccess int      `json:"max_access_count"`
				Targets   []string `json:"targets"`
			} `json:"share_link_object"`
		}
		live.Into(t, &before)
		r.Into(t, &after)
		if fmt.Sprint(before) != fmt.Sprint(after) {
			t.Errorf("the bad requests changed link %s: %+v, now %+v", f.live, before, after)
		}
	})
	t.Run("after/ObjectsUnchanged", func(t *testing.T) {
		for folder, want := range folders {
			if got := children(folder); !slices.Equal(got, want) {
				t.Errorf("the bad requests changed %s: %v, now %v", folder, want, got)
			}
		}
	})
	t.Run("after/SessionsAlive", func(t *testing.T) {
		for _, c := range []struct {
			base, folder string
			v            *moreVisitor
		}{{portal.dl, portal.dlFolder.ID, portal.dlV}, {portal.ed, portal.edFolder.ID, portal.edV}, {portal.up, portal.upFolder.ID, portal.upV}} {
			r := env.moreSend(t, badReq{method: http.MethodGet, path: c.base + "/d/" + c.folder, auth: badNoAuth}, c.v)
			if r.Code != http.StatusOK {
				t.Errorf("%s: the session did not survive the bad requests: got %d to %q", c.base, r.Code, r.Header.Get("Location"))
			}
		}
	})
}
