package gateway_test

import (
	"net/http"
	"testing"

	"github.com/sesame-share/sesame"
)

// TestLinkGrant checks over HTTP that a link grants no more than the token
// that creates or changes it holds.
func TestLinkGrant(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	folder := e.mkdir("/private")
	e.upload("/private", "payroll.csv", []byte("name,salary"))
	linksOnly := e.newToken(sesame.ScopeLinksWrite)
	reader := e.newToken(sesame.ScopeLinksWrite, sesame.ScopeObjectsRead)
	readWriter := e.newToken(sesame.ScopeLinksWrite, sesame.ScopeObjectsRead, sesame.ScopeObjectsWrite)
	item := func(typ string) map[string]any {
		return map[string]any{"links": []any{map[string]any{"targets": []string{folder.ID}, "link_type": typ,
			"authenticators": []any{map[string]any{"auth_type": "password", "auth_context": "mallory's own passphrase"}}}}}
	}
	count := func() int {
		var list struct{ Count int }
		e.post("/v1/share/link/list", "{}").Into(t, &list)
		return list.Count
	}

	if r := e.postAs(linksOnly, "/v1/get", map[string]any{"id": folder.ID}); r.Code != http.StatusForbidden {
		t.Fatalf("links:write reads objects: %d", r.Code)
	}
	t.Run("Create", func(t *testing.T) {
		for _, tt := range []struct {
			name, token, typ string
			ok               bool
		}{
			{"LinksWriteOnly/download", linksOnly, "download", false},
			{"LinksWriteOnly/upload", linksOnly, "upload", false},
			{"LinksWriteOnly/editor", linksOnly, "editor", false},
			{"ObjectsRead/download", reader, "download", true},
			{"ObjectsRead/upload", reader, "upload", false},
			{"ObjectsRead/editor", reader, "editor", false},
			{"ObjectsReadWrite/upload", readWriter, "upload", true},
			{"ObjectsReadWrite/editor", readWriter, "editor", true},
		} {
			t.Run(tt.name, func(t *testing.T) {
				before := count()
				r := e.postAs(tt.token, "/v1/share/link/create", item(tt.typ))
				if tt.ok {
					mustOK(t, r)
					return
				}
				wantError(t, r, http.StatusForbidden, "Unauthorized", "BadState", "/links/0/link_type")
				if n := count(); n != before {
					t.Errorf("got %d links, want %d", n, before)
				}
			})
		}
	})
	t.Run("Update", func(t *testing.T) {
		ed := e.createLinks(map[string]any{"targets": []string{folder.ID}, "link_type": "editor", "authenticators": []any{email("bob@example.com")}})[0]
		for _, tok := range []string{linksOnly, reader} {
			r := e.postAs(tok, "/v1/share/link/update", map[string]any{"id": ed.ID,
				"authenticators": []any{map[string]any{"auth_type": "password", "auth_context": "mallory's own passphrase"}}})
			wantError(t, r, http.StatusForbidden, "Unauthorized", "BadState", "")
		}
		var got struct {
			Link linkObj `json:"share_link_object"`
		}
		e.post("/v1/share/link/get", map[string]any{"id": ed.ID}).Into(t, &got)
		if len(got.Link.Authenticators) != 1 || got.Link.Authenticators[0].AuthType != "email_otp" {
			t.Fatalf("a refused update changed the authenticators: %+v", got.Link.Authenticators)
		}
		mustOK(t, e.postAs(readWriter, "/v1/share/link/update", map[string]any{"id": ed.ID, "title": "ok"}))
	})
}
