package mcp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/authenticators"
	"github.com/sesame-share/sesame/gateway/mcp"
	"github.com/sesame-share/sesame/internal/testrig"
	"github.com/sesame-share/sesame/notify"
	"github.com/sesame-share/sesame/store"
)

// toolsEnv is the MCP tools over a real store in a temp dir, reached
// through the SDK's in-memory transport.
type toolsEnv struct {
	st    *store.Store
	tools *mcp.Server
}

func newToolsEnv(t *testing.T) *toolsEnv {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(ctx, store.Config{DataDir: t.TempDir(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	mailer, err := notify.NewMailer(notify.MailerConfig{Links: st, Objects: st, PublicURL: "http://sesame.test"})
	if err != nil {
		t.Fatal(err)
	}
	policy := sesame.DefaultLinkPolicy()
	policy.SocialSignIn = true // as with an OpenID Connect provider configured
	tools, err := mcp.New(mcp.Config{Objects: &sesame.ObjectService{Store: st, Blobs: st}, Audit: st,
		Links:     &sesame.LinkService{Store: st, Mailer: mailer, Hasher: authenticators.NewPassword(), Policy: policy},
		PublicURL: "http://sesame.test", UploadRoots: []string{t.TempDir()}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	return &toolsEnv{st: st, tools: tools}
}

// session connects a client to the tools of a token with the scopes;
// local offers the stdio-only tools too.
func (e *toolsEnv) session(t *testing.T, local bool, scopes ...sesame.Scope) *sdk.ClientSession {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	tok, _, err := e.st.CreateToken(ctx, "agent", scopes, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	st, ct := sdk.NewInMemoryTransports()
	ss, err := e.tools.Tools(tok, local).Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "test", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// typeLists returns the JSON pointer of every schema below sc whose type
// is not one string.
func typeLists(at string, sc any) []string {
	m, ok := sc.(map[string]any)
	if !ok {
		return nil
	}
	var out []string
	if ty, ok := m["type"]; ok {
		if _, one := ty.(string); !one {
			out = append(out, at+"/type")
		}
	}
	for _, key := range []string{"items", "additionalProperties", "not"} {
		out = append(out, typeLists(at+"/"+key, m[key])...)
	}
	for _, key := range []string{"properties", "$defs", "definitions", "patternProperties"} {
		sub, _ := m[key].(map[string]any)
		for name, s := range sub {
			out = append(out, typeLists(at+"/"+key+"/"+name, s)...)
		}
	}
	for _, key := range []string{"anyOf", "oneOf", "allOf", "prefixItems"} {
		list, _ := m[key].([]any)
		for i, s := range list {
			out = append(out, typeLists(fmt.Sprintf("%s/%s/%d", at, key, i), s)...)
		}
	}
	return out
}

// TestToolSchemas walks every tool's schemas: each property has one JSON
// type (some agent clients reject ["null","array"]), and authenticators
// are documented with the API's names.
func TestToolSchemas(t *testing.T) {
	e := newToolsEnv(t)
	cs := e.session(t, true, sesame.ScopeAdmin)
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Tools) != 8 {
		t.Errorf("got %d tools, want all 8 for an admin over stdio", len(res.Tools))
	}
	schemas := map[string]any{}
	for _, tool := range res.Tools {
		for kind, sc := range map[string]any{"input": tool.InputSchema, "output": tool.OutputSchema} {
			b, err := json.Marshal(sc)
			if err != nil {
				t.Fatal(err)
			}
			var v any
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatal(err)
			}
			schemas[tool.Name+" "+kind] = v
			for _, p := range typeLists("", v) {
				t.Errorf("%s %s schema: %s is a list of types, want one type: %s", tool.Name, kind, p, b)
			}
		}
	}
	props := func(sc any) map[string]any {
		p, _ := sc.(map[string]any)["properties"].(map[string]any)
		return p
	}
	create := props(schemas["share_link_create input"])
	if ty := create["targets"].(map[string]any)["type"]; ty != "array" {
		t.Errorf("targets has type %v, want array", ty)
	}
	auth := props(create["authenticators"].(map[string]any)["items"])
	for _, name := range []string{"auth_type", "auth_context", "type", "value"} {
		if _, ok := auth[name]; !ok {
			t.Errorf("authenticators lack %s: %v", name, auth)
		}
	}
}

// TestAuthenticatorNames creates links naming authenticators as the API
// does (auth_type, auth_context) and by the older names (type, value).
func TestAuthenticatorNames(t *testing.T) {
	e := newToolsEnv(t)
	ctx := context.Background()
	if _, err := e.st.CreateFolder(ctx, sesame.FolderCreate{Placement: sesame.Placement{HasParentID: true, Name: "shared"}}); err != nil {
		t.Fatal(err)
	}
	cs := e.session(t, false, sesame.ScopeLinksWrite, sesame.ScopeObjectsRead)
	for _, tt := range []struct {
		name string
		auth map[string]any
		want string // in the summary, or in the error when it starts with "!"
	}{
		{"APINames", map[string]any{"auth_type": "email_otp", "auth_context": "bob@example.com"}, "email code to bob@example.com"},
		{"OlderNames", map[string]any{"type": "email_otp", "value": "ann@example.com"}, "email code to ann@example.com"},
		{"BothAgreeing", map[string]any{"auth_type": "password", "type": "password", "auth_context": "a long enough passphrase"}, "password"},
		{"BothDiffering", map[string]any{"auth_type": "password", "type": "email_otp", "auth_context": "a long enough passphrase"}, "!type is an older name of auth_type"},
		{"NoType", map[string]any{"auth_context": "bob@example.com"}, "!auth_type is required"},
		{"NoContext", map[string]any{"auth_type": "email_otp"}, "!auth_context is required"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "share_link_create",
				Arguments: map[string]any{"targets": []string{"/shared"}, "authenticators": []any{tt.auth}}})
			if err != nil {
				t.Fatal(err)
			}
			text := testrig.ToolText(res)
			if want, refused := strings.CutPrefix(tt.want, "!"); refused {
				if !res.IsError || !strings.Contains(text, want) {
					t.Fatalf("got %v %q, want an error saying %q", res.IsError, text, want)
				}
				return
			}
			if res.IsError || !strings.Contains(text, tt.want) {
				t.Fatalf("got %v %q, want a link opened by %q", res.IsError, text, tt.want)
			}
		})
	}
}

// TestLinkCreateNotify creates links through the tool with the API's
// notify field: the owner events are stored on the link and shown, a bad
// event is refused by the core's rule, and a social authenticator is
// named in the view.
func TestLinkCreateNotify(t *testing.T) {
	e := newToolsEnv(t)
	ctx := context.Background()
	if _, err := e.st.CreateFolder(ctx, sesame.FolderCreate{Placement: sesame.Placement{HasParentID: true, Name: "inbox"}}); err != nil {
		t.Fatal(err)
	}
	cs := e.session(t, false, sesame.ScopeLinksWrite, sesame.ScopeObjectsRead, sesame.ScopeObjectsWrite)
	call := func(args map[string]any) (map[string]any, string) {
		t.Helper()
		args["targets"] = []string{"/inbox"}
		res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "share_link_create", Arguments: args})
		if err != nil {
			t.Fatal(err)
		}
		if res.IsError {
			return nil, testrig.ToolText(res)
		}
		out, _ := res.StructuredContent.(map[string]any)
		return out, ""
	}
	out, refused := call(map[string]any{"link_type": "upload",
		"authenticators": []any{map[string]any{"auth_type": "social", "auth_context": "bob@example.com"}},
		"notify":         map[string]any{"events": []string{"upload", "locked"}, "email": "owner@example.com", "language": "de"}})
	if refused != "" {
		t.Fatalf("create with notify refused: %s", refused)
	}
	if got := fmt.Sprint(out["notify"]); got != "[upload locked]" {
		t.Errorf("the view's notify is %s, want [upload locked]", got)
	}
	if got := fmt.Sprint(out["authenticators"]); got != "[sign-in with a provider as bob@example.com]" {
		t.Errorf("the view's authenticators are %s, want the social sign-in named", got)
	}
	l, err := e.st.LinkByID(ctx, out["id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if l.Notify == nil || l.Notify.Email != "owner@example.com" || l.Notify.Language != "de" || len(l.Notify.Events) != 2 ||
		!l.Notify.Wants(sesame.OwnerUpload) || !l.Notify.Wants(sesame.OwnerLocked) {
		t.Errorf("stored notify %+v, want upload and locked to owner@example.com in German", l.Notify)
	}
	auth := []any{map[string]any{"auth_type": "email_otp", "auth_context": "bob@example.com"}}
	for name, n := range map[string]map[string]any{
		"events may hold upload, download, locked and exhausted": {"events": []string{"uploaded"}, "email": "owner@example.com"},
		"email is required until the link has been sent":         {"events": []string{"download"}},
		"email must be one email address":                        {"events": []string{"download"}, "email": "not an address"},
	} {
		if _, refused := call(map[string]any{"authenticators": auth, "notify": n}); !strings.Contains(refused, name) {
			t.Errorf("notify %v: got %q, want a refusal saying %q", n, refused, name)
		}
	}
}
