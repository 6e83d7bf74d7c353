package gateway_test

import (
	"strings"
	"testing"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/internal/testrig"
)

// TestMCP_LinkGrant checks that an agent cannot hand out more than its
// token holds, and cannot probe which paths exist.
func TestMCP_LinkGrant(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.upload("/private", "payroll.csv", []byte("name,salary"))
	count := func() int {
		var list struct{ Count int }
		e.post("/v1/share/link/list", "{}").Into(t, &list)
		return list.Count
	}
	create := func(token, typ, target string) (bool, string) {
		cs := e.mcpSession(t, token)
		res := call(t, cs, "share_link_create", map[string]any{"targets": []string{target}, "link_type": typ,
			"authenticators": []any{map[string]any{"type": "password", "value": "mallory's own passphrase"}}}, nil)
		return res.IsError, testrig.ToolText(res)
	}

	linksOnly := e.newToken(sesame.ScopeLinksWrite)
	t.Run("LinksWriteOnly", func(t *testing.T) {
		for _, typ := range []string{"editor", "download"} {
			failed, existing := create(linksOnly, typ, "/private")
			failed2, missing := create(linksOnly, typ, "/no/such/folder")
			if !failed || !failed2 {
				t.Fatalf("%s: a links:write token created a link (%s / %s)", typ, existing, missing)
			}
			if existing != missing {
				t.Errorf("%s: an existing path answers %q, a missing one %q: the token learns what exists", typ, existing, missing)
			}
			if !strings.Contains(existing, "objects:read") {
				t.Errorf("%s: got %q, want the missing scope named", typ, existing)
			}
		}
		if n := count(); n != 0 {
			t.Fatalf("%d links exist, want 0", n)
		}
	})
	t.Run("ObjectsRead", func(t *testing.T) {
		reader := e.newToken(sesame.ScopeLinksWrite, sesame.ScopeObjectsRead)
		if failed, text := create(reader, "editor", "/private"); !failed || !strings.Contains(text, "objects:write") {
			t.Fatalf("an editor link from a read-only token: %v %s", failed, text)
		}
		if failed, text := create(reader, "download", "/private"); failed {
			t.Fatalf("a download link from a reader: %s", text)
		}
		if n := count(); n != 1 {
			t.Fatalf("%d links exist, want 1", n)
		}
	})
}
