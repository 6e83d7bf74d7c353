package gateway_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/internal/testrig"
)

// TestMCP_FileTTL: folder_create takes file_ttl as the API does, the
// object tools report the TTL fields, and an expired file leaves
// object_list at once.
func TestMCP_FileTTL(t *testing.T) {
	t.Parallel()
	clock := testrig.NewClock(time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC))
	e := fromRig(t, testrig.NewEnv(t, testrig.WithClock(clock)))
	cs := e.mcpSession(t, e.newToken(sesame.ScopeObjectsRead, sesame.ScopeObjectsWrite))

	type view struct {
		ID               string `json:"id"`
		Path             string `json:"path"`
		FileTTL          string `json:"file_ttl"`
		FileTTLEffective string `json:"file_ttl_effective"`
		FileTTLFromID    string `json:"file_ttl_from_id"`
		ExpiresAt        string `json:"expires_at"`
	}
	var folder view
	if res := call(t, cs, "folder_create", map[string]any{"path": "/drop", "file_ttl": "1h"}, &folder); res.IsError {
		t.Fatalf("folder_create: %s", testrig.ToolText(res))
	}
	if folder.FileTTL != "1h" || folder.FileTTLEffective != "1h" || folder.FileTTLFromID != folder.ID || folder.ExpiresAt != "" {
		t.Errorf("folder_create reply %+v", folder)
	}
	if res := call(t, cs, "folder_create", map[string]any{"path": "/bad", "file_ttl": "an hour"}, nil); !res.IsError || !strings.Contains(testrig.ToolText(res), "file_ttl") {
		t.Errorf("a bad file_ttl: %s, want an error naming file_ttl", testrig.ToolText(res))
	}
	f := e.upload("/drop", "f.txt", []byte("f"))
	var list struct {
		Count   int    `json:"count"`
		Objects []view `json:"objects"`
	}
	call(t, cs, "object_list", map[string]any{"folder": "/drop"}, &list)
	if list.Count != 1 || list.Objects[0].FileTTL != "inherited" || list.Objects[0].FileTTLEffective != "1h" ||
		list.Objects[0].FileTTLFromID != folder.ID || list.Objects[0].ExpiresAt != after(t, f.CreatedAt, time.Hour) {
		t.Errorf("object_list before expiry: %+v", list)
	}
	clock.Add(time.Hour)
	call(t, cs, "object_list", map[string]any{"folder": "/drop"}, &list)
	if list.Count != 0 || len(list.Objects) != 0 {
		t.Errorf("object_list after expiry: %+v, want nothing", list)
	}
}
