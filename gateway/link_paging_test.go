package gateway_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestLinkListPaging creates 2,500 links and pages through them 100 at a
// time under several filters and orders, creating and deleting links
// between pages. Every link that exists for the whole walk and matches is
// seen exactly once, nothing is seen twice, and count is right.
func TestLinkListPaging(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("creates 2,500 links")
	}
	e := newTestEnv(t)
	files := make([]object, 5)
	for i := range files {
		files[i] = e.upload("/p", fmt.Sprintf("f%d", i), []byte{byte(i)})
	}
	folder := e.mkdir("/p/drop")
	type meta struct {
		typ    string
		target string
		tag    string
	}
	known := map[string]meta{}
	rng := rand.New(rand.NewPCG(1, 2))
	create := func(n int) []string {
		t.Helper()
		items := make([]map[string]any, n)
		metas := make([]meta, n)
		for i := range items {
			m := meta{typ: []string{"download", "editor", "upload"}[rng.IntN(3)], tag: fmt.Sprintf("tag%d", rng.IntN(4))}
			m.target = files[rng.IntN(len(files))].ID
			if m.typ == "upload" {
				m.target = folder.ID
			}
			metas[i] = m
			items[i] = map[string]any{"targets": []string{m.target}, "link_type": m.typ, "tags": []string{m.tag},
				"title": fmt.Sprintf("link %d", rng.IntN(1000)), "max_access_count": 1 + rng.IntN(20),
				"authenticators": []any{email("p@example.com")}}
		}
		links := e.createLinks(items...)
		ids := make([]string, len(links))
		for i, l := range links {
			known[l.ID] = metas[i]
			ids[i] = l.ID
		}
		return ids
	}
	for i := 0; i < 25; i++ {
		create(100)
	}
	deleted := map[string]bool{}

	cases := []struct {
		name    string
		filter  map[string]any
		match   func(meta) bool
		orderBy string
		order   string
	}{
		{"All", map[string]any{}, func(meta) bool { return true }, "created_at", "asc"},
		{"TypeDesc", map[string]any{"link_type": "editor"}, func(m meta) bool { return m.typ == "editor" }, "created_at", "desc"},
		{"TypeIn", map[string]any{"link_type__in": []string{"download", "upload"}}, func(m meta) bool { return m.typ != "editor" }, "id", "asc"},
		{"Target", map[string]any{"target_id": files[2].ID}, func(m meta) bool { return m.target == files[2].ID }, "expires_at", "desc"},
		{"TargetAlias", map[string]any{"target": folder.ID}, func(m meta) bool { return m.target == folder.ID }, "title", "asc"},
		{"Tags", map[string]any{"tags": []string{"tag1"}}, func(m meta) bool { return m.tag == "tag1" }, "max_access_count", "desc"},
		{"AccessCountAsString", map[string]any{"access_count__lt": "1", "tags": []string{"tag3"}}, func(m meta) bool { return m.tag == "tag3" }, "access_count", "asc"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// What exists (and matches) when the walk starts.
			var before []string
			for id, m := range known {
				if !deleted[id] && tc.match(m) {
					before = append(before, id)
				}
			}
			seen := map[string]int{}
			removedDuring := map[string]bool{}
			last := ""
			for page := 0; page < 100; page++ {
				body := map[string]any{"filter": tc.filter, "size": 100, "order_by": tc.orderBy, "order": tc.order}
				if last != "" {
					body["last"] = last
				}
				res := e.list2(body)
				if page == 0 && res.Count != len(before) {
					t.Fatalf("count %d, want %d", res.Count, len(before))
				}
				if len(res.Links) > 100 {
					t.Fatalf("page of %d", len(res.Links))
				}
				for _, l := range res.Links {
					seen[l.ID]++
					if removedDuring[l.ID] {
						t.Errorf("%s was seen after it was deleted", l.ID)
					}
					if !tc.match(known[l.ID]) {
						t.Errorf("%s does not match the filter", l.ID)
					}
				}
				// Churn between pages: add three links, delete two old ones.
				create(3)
				var victims []string
				for id := range known {
					if !deleted[id] && len(victims) < 2 && rng.IntN(50) == 0 {
						victims = append(victims, id)
					}
				}
				if len(victims) > 0 {
					mustOK(t, e.post("/v1/share/link/delete", map[string]any{"ids": victims}))
					for _, id := range victims {
						deleted[id] = true
						if seen[id] == 0 {
							removedDuring[id] = true
						}
					}
				}
				if last = res.Last; last == "" {
					break
				}
			}
			if last != "" {
				t.Fatal("the walk did not end within 100 pages")
			}
			for id, n := range seen {
				if n > 1 {
					t.Errorf("%s seen %d times", id, n)
				}
			}
			missed := 0
			for _, id := range before {
				if !deleted[id] && seen[id] != 1 {
					missed++
				}
			}
			if missed > 0 {
				t.Errorf("%d links that existed throughout were not seen", missed)
			}
			if len(before) < 100 && tc.name != "AccessCountAsString" {
				t.Errorf("only %d matches; the case does not exercise paging", len(before))
			}
		})
	}
	if !slices.ContainsFunc(cases, func(c struct {
		name    string
		filter  map[string]any
		match   func(meta) bool
		orderBy string
		order   string
	}) bool {
		return c.order == "desc"
	}) {
		t.Fatal("no descending case")
	}
}

type linkPage struct {
	Count int       `json:"count"`
	Last  string    `json:"last"`
	Links []linkObj `json:"share_link_objects"`
}

func (e *testEnv) list2(body map[string]any) linkPage {
	e.t.Helper()
	r := e.post("/v1/share/link/list", body)
	mustOK(e.t, r)
	var p linkPage
	r.Into(e.t, &p)
	return p
}
