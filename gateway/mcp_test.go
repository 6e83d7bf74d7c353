package gateway_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/internal/testrig"
)

// bearer adds a token to every request of the MCP client.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

func (e *testEnv) mcpSession(t *testing.T, token string) *mcp.ClientSession {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	client := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil)
	tr := &mcp.StreamableClientTransport{Endpoint: e.srv.URL + "/mcp", HTTPClient: &http.Client{Transport: bearer{token, http.DefaultTransport}}}
	cs, err := client.Connect(ctx, tr, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func toolNames(t *testing.T, cs *mcp.ClientSession) []string {
	t.Helper()
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
		if tool.Description == "" || tool.InputSchema == nil {
			t.Errorf("tool %s lacks a description or schema", tool.Name)
		}
	}
	sort.Strings(names)
	return names
}

// call invokes a tool and decodes its structured output.
func call(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any, out any) *mcp.CallToolResult {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if out != nil && !res.IsError {
		b, _ := json.Marshal(res.StructuredContent)
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s output: %v", name, err)
		}
	}
	return res
}

func TestMCP_HTTP(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.upload("/deliveries/acme", "contract.pdf", []byte("%PDF-1.4 contract"))
	agent := e.newToken(sesame.ScopeLinksRead, sesame.ScopeLinksWrite, sesame.ScopeLinksSend, sesame.ScopeObjectsRead, sesame.ScopeObjectsWrite)
	cs := e.mcpSession(t, agent)

	want := []string{"folder_create", "object_list", "share_link_create", "share_link_get", "share_link_list", "share_link_revoke", "share_link_send"}
	if got := toolNames(t, cs); !slices.Equal(got, want) {
		t.Fatalf("tools %v, want %v (object_upload is stdio only)", got, want)
	}

	var objs struct {
		Count   int `json:"count"`
		Objects []struct {
			ID, Path string
		} `json:"objects"`
	}
	call(t, cs, "object_list", map[string]any{"folder": "/deliveries/acme"}, &objs)
	if objs.Count != 1 || objs.Objects[0].Path != "/deliveries/acme/contract.pdf" {
		t.Fatalf("object_list %+v", objs)
	}

	var link struct {
		ID             string `json:"id"`
		URL            string `json:"url"`
		Summary        string `json:"summary"`
		MaxAccessCount int    `json:"max_access_count"`
	}
	res := call(t, cs, "share_link_create", map[string]any{"targets": []string{"/deliveries/acme/contract.pdf"},
		"authenticators": []any{map[string]any{"type": "email_otp", "value": "bob@example.com"}}, "title": "Your contract",
		"expires_in": "3d", "max_access_count": 3, "idempotency_key": "create-1"}, &link)
	if res.IsError || !sesame.ValidID(sesame.PrefixLink, link.ID) || !strings.HasPrefix(link.URL, e.srv.URL+"/s/") ||
		!strings.Contains(link.Summary, "in 3 days") || !strings.Contains(link.Summary, "at most 3 sign-ins") {
		t.Fatalf("create: %s %+v", testrig.ToolText(res), link)
	}
	// The same key replays the same link.
	var again struct{ ID string }
	call(t, cs, "share_link_create", map[string]any{"targets": []string{"/deliveries/acme/contract.pdf"},
		"authenticators": []any{map[string]any{"type": "email_otp", "value": "bob@example.com"}}, "title": "Your contract",
		"expires_in": "3d", "max_access_count": 3, "idempotency_key": "create-1"}, &again)
	if again.ID != link.ID {
		t.Fatalf("idempotent create made %s, then %s", link.ID, again.ID)
	}

	var list struct {
		Count int `json:"count"`
		Links []map[string]any
	}
	res = call(t, cs, "share_link_list", map[string]any{}, &list)
	if list.Count != 1 || strings.Contains(testrig.ToolText(res), "/s/") {
		t.Fatalf("list: %d links; secrets in %s", list.Count, testrig.ToolText(res))
	}

	// Without confirm: a preview and no email.
	var preview struct {
		Sent    bool `json:"sent"`
		Preview []struct{ To, Subject, Text string }
	}
	call(t, cs, "share_link_send", map[string]any{"link_id": link.ID, "recipients": []string{"bob@example.com"}, "sender_email": "agent@example.com"}, &preview)
	if preview.Sent || len(preview.Preview) != 1 || preview.Preview[0].Subject != "agent@example.com shared “Your contract” with you" || !strings.Contains(preview.Preview[0].Text, link.URL) {
		t.Fatalf("preview %+v", preview)
	}
	var nl notificationList
	e.post("/v1/notifications/list", "{}").Into(t, &nl)
	if nl.Count != 0 {
		t.Fatalf("a preview queued %d emails", nl.Count)
	}
	var sent struct{ Sent bool }
	call(t, cs, "share_link_send", map[string]any{"link_id": link.ID, "recipients": []string{"bob@example.com"}, "sender_email": "agent@example.com", "confirm": true, "idempotency_key": "send-1"}, &sent)
	call(t, cs, "share_link_send", map[string]any{"link_id": link.ID, "recipients": []string{"bob@example.com"}, "sender_email": "agent@example.com", "confirm": true, "idempotency_key": "send-1"}, &sent)
	e.post("/v1/notifications/list", "{}").Into(t, &nl)
	if !sent.Sent || nl.Count != 1 {
		t.Fatalf("confirmed send twice with one key: sent=%v, %d emails", sent.Sent, nl.Count)
	}

	// Revoking twice is not an error.
	for i := 0; i < 2; i++ {
		var rev struct {
			Revoked bool
			Summary string
		}
		res := call(t, cs, "share_link_revoke", map[string]any{"id": link.ID}, &rev)
		if res.IsError || !rev.Revoked {
			t.Fatalf("revoke %d: %s", i, testrig.ToolText(res))
		}
	}
	if r := e.post("/v1/share/link/get", map[string]any{"id": link.ID}); r.Code != http.StatusNotFound {
		t.Fatalf("a revoked link still resolves: %d", r.Code)
	}
	// Errors come back as tool errors with the API's message.
	res = call(t, cs, "share_link_create", map[string]any{"targets": []string{"/nowhere.pdf"}, "authenticators": []any{map[string]any{"type": "password", "value": "short"}}}, nil)
	if !res.IsError || !strings.Contains(testrig.ToolText(res), "nothing is stored at") {
		t.Fatalf("error: %v %s", res.IsError, testrig.ToolText(res))
	}
	res = call(t, cs, "share_link_create", map[string]any{"targets": []string{"/deliveries/acme/contract.pdf"}, "authenticators": []any{map[string]any{"type": "password", "value": "short"}}}, nil)
	if !res.IsError || !strings.Contains(testrig.ToolText(res), "at least 15 characters") {
		t.Fatalf("error: %v %s", res.IsError, testrig.ToolText(res))
	}

	// Tool calls are audited with the actor marked as MCP.
	a := e.audit(map[string]any{"filter": map[string]any{"actor_type": "mcp"}, "size": 100})
	var actions []string
	for _, ev := range a.Events {
		actions = append(actions, ev.Action+":"+ev.Outcome)
		if ev.Actor == "" || ev.ActorType != "mcp" {
			t.Errorf("event %+v", ev)
		}
	}
	for _, want := range []string{"mcp.share_link_create:success", "mcp.share_link_send:success", "mcp.share_link_revoke:success", "mcp.share_link_create:failure:not found"} {
		if !slices.Contains(actions, want) {
			t.Errorf("audit lacks %s: %v", want, actions)
		}
	}
}

func TestMCP_ScopesHideWriteTools(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	f := e.upload("/r", "f.txt", []byte("f"))
	reader := e.newToken(sesame.ScopeLinksRead)
	cs := e.mcpSession(t, reader)
	if got := toolNames(t, cs); !slices.Equal(got, []string{"share_link_get", "share_link_list"}) {
		t.Fatalf("links:read sees %v", got)
	}
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "share_link_create", Arguments: map[string]any{"targets": []string{f.ID},
		"authenticators": []any{map[string]any{"type": "email_otp", "value": "x@example.com"}}}})
	if err == nil && !res.IsError {
		t.Fatal("a links:read token created a link")
	}
	var list struct{ Count int }
	e.post("/v1/share/link/list", "{}").Into(t, &list)
	if list.Count != 0 {
		t.Fatalf("%d links exist", list.Count)
	}
	// No token, no MCP.
	resp, err := http.Post(e.srv.URL+"/mcp", "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("/mcp without a token: %d", resp.StatusCode)
	}
}
