package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/store"
)

// TestMCPStdio drives `sesame mcp` over its stdio transport with the
// go-sdk's own client: upload a local file, share it, send it, revoke it.
func TestMCPStdio(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	roots := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	st, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := st.CreateToken(ctx, "agent", []sesame.Scope{sesame.ScopeObjectsRead, sesame.ScopeObjectsWrite,
		sesame.ScopeLinksRead, sesame.ScopeLinksWrite, sesame.ScopeLinksSend}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	local := filepath.Join(roots, "report.txt")
	if err := os.WriteFile(local, []byte("quarterly numbers\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(outside, []byte("not for sharing"), 0o600); err != nil {
		t.Fatal(err)
	}

	// The server reads requests from inR and writes replies to outW.
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		env := []string{"SESAME_TOKEN=" + secret, "SESAME_MCP_UPLOAD_ROOTS=" + roots}
		done <- runMCP(ctx, []string{"--data", dir}, env, inR, outW, io.Discard)
		outW.Close()
	}()
	client := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.IOTransport{Reader: outR, Writer: inW}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}

	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range tools.Tools {
		names = append(names, tool.Name)
	}
	sort.Strings(names)
	want := []string{"folder_create", "object_list", "object_upload", "share_link_create", "share_link_get", "share_link_list", "share_link_revoke", "share_link_send"}
	if !slices.Equal(names, want) {
		t.Fatalf("tools %v, want %v", names, want)
	}
	call := func(name string, args map[string]any, out any) *mcp.CallToolResult {
		t.Helper()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if out != nil && !res.IsError {
			b, _ := json.Marshal(res.StructuredContent)
			if err := json.Unmarshal(b, out); err != nil {
				t.Fatal(err)
			}
		}
		return res
	}
	text := func(res *mcp.CallToolResult) string {
		var b strings.Builder
		for _, c := range res.Content {
			if tc, ok := c.(*mcp.TextContent); ok {
				b.WriteString(tc.Text)
			}
		}
		return b.String()
	}

	var obj struct {
		ID   string `json:"id"`
		Path string `json:"path"`
		Size int64  `json:"size"`
	}
	if res := call("object_upload", map[string]any{"local_path": local, "folder": "/outgoing"}, &obj); res.IsError || obj.Path != "/outgoing/report.txt" || obj.Size != 18 {
		t.Fatalf("upload: %s %+v", text(res), obj)
	}
	if res := call("object_upload", map[string]any{"local_path": outside, "folder": "/outgoing"}, nil); !res.IsError || !strings.Contains(text(res), "outside the directories") {
		t.Fatalf("upload outside the roots: %v %s", res.IsError, text(res))
	}
	if res := call("object_upload", map[string]any{"local_path": filepath.Join(roots, "..", filepath.Base(filepath.Dir(outside)), "secret.txt"), "folder": "/outgoing"}, nil); !res.IsError {
		t.Fatalf("a .. path escaped the roots: %s", text(res))
	}
	var link struct {
		ID  string `json:"id"`
		URL string `json:"url"`
	}
	if res := call("share_link_create", map[string]any{"targets": []string{obj.ID}, "authenticators": []any{map[string]any{"type": "email_otp", "value": "bob@example.com"}}}, &link); res.IsError || link.URL == "" {
		t.Fatalf("create: %s", text(res))
	}
	var sent struct{ Sent bool }
	if res := call("share_link_send", map[string]any{"link_id": link.ID, "recipients": []string{"bob@example.com"}, "sender_email": "agent@example.com", "confirm": true}, &sent); res.IsError || !sent.Sent {
		t.Fatalf("send: %s", text(res))
	}
	for i := 0; i < 2; i++ {
		if res := call("share_link_revoke", map[string]any{"id": link.ID}, nil); res.IsError {
			t.Fatalf("revoke %d: %s", i, text(res))
		}
	}
	cs.Close()
	inW.Close()
	if err := <-done; err != nil {
		t.Fatalf("mcp: %v", err)
	}

	// The audit trail marks every call as MCP.
	st, err = store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	page, err := st.FindAudit(ctx, sesame.AuditFilter{Conds: []sesame.Cond{{Field: "actor_type", Op: sesame.OpEq, Values: []string{"mcp"}}}, Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, ev := range page.Events {
		actions = append(actions, ev.Action+":"+ev.Outcome)
	}
	for _, want := range []string{"mcp.object_upload:success", "mcp.object_upload:failure:forbidden", "mcp.share_link_create:success", "mcp.share_link_send:success", "mcp.share_link_revoke:success"} {
		if !slices.Contains(actions, want) {
			t.Errorf("audit lacks %s: %v", want, actions)
		}
	}
}

func TestMCPStdioNeedsToken(t *testing.T) {
	t.Parallel()
	err := runMCP(context.Background(), []string{"--data", t.TempDir()}, nil, strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "SESAME_TOKEN") {
		t.Fatalf("got %v, want an error naming SESAME_TOKEN", err)
	}
}
