package gateway_test

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/sesame-share/sesame/gateway"
	"github.com/sesame-share/sesame/internal/testrig"
)

type auditEvents struct {
	Count  int `json:"count"`
	Last   string
	Events []struct {
		ID        string `json:"id"`
		Action    string `json:"action"`
		Actor     string `json:"actor"`
		ActorType string `json:"actor_type"`
		LinkID    string `json:"link_id"`
		ObjectID  string `json:"object_id"`
		IP        string `json:"ip"`
		Outcome   string `json:"outcome"`
	} `json:"events"`
}

func (e *testEnv) audit(body map[string]any) auditEvents {
	e.t.Helper()
	r := e.post("/v1/audit/list", body)
	mustOK(e.t, r)
	var a auditEvents
	r.Into(e.t, &a)
	return a
}

func TestAudit_EveryMutation(t *testing.T) {
	t.Parallel()
	logs := &testrig.Buffer{}
	e := newTestEnv(t, func(c *gateway.Config) {
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	f := e.upload("/a", "f.txt", []byte("f"))
	secret := "audit-me-not-password-77"
	l := e.createLinks(map[string]any{"targets": []string{f.ID}, "authenticators": []any{pw(secret)}})[0]
	mustOK(t, e.post("/v1/share/link/update", map[string]any{"id": l.ID, "title": "t"}))
	mustOK(t, e.post("/v1/update", map[string]any{"id": f.ID, "add_tags": []string{"x"}}))
	wantError(t, e.post("/v1/share/link/update", map[string]any{"id": l.ID, "max_access_count": 0}), 400, "ValidationError", "NotWithinRange", "/max_access_count")
	mustOK(t, e.post("/v1/share/link/delete", map[string]any{"ids": []string{l.ID}}))
	mustOK(t, e.post("/v1/delete", map[string]any{"id": f.ID}))

	all := e.audit(map[string]any{"size": 100})
	var got []string
	for _, ev := range all.Events {
		got = append(got, ev.Action+" "+ev.Outcome)
		if !strings.HasPrefix(ev.Actor, "stk_") || ev.ActorType != "token" || ev.IP != "127.0.0.1" {
			t.Errorf("event %+v lacks actor or ip", ev)
		}
	}
	want := []string{"object.delete success", "link.delete success", "link.update failure:400", "object.update success",
		"link.update success", "link.create success", "object.put success"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit trail, newest first:\ngot  %q\nwant %q", got, want)
	}
	// Filters and paging.
	if a := e.audit(map[string]any{"filter": map[string]any{"link_id": l.ID}}); a.Count != 4 {
		t.Errorf("events for the link: %d, want 4", a.Count)
	}
	if a := e.audit(map[string]any{"filter": map[string]any{"action__in": []string{"object.put", "object.delete"}}}); a.Count != 2 {
		t.Errorf("object.put and object.delete: %d, want 2", a.Count)
	}
	if a := e.audit(map[string]any{"filter": map[string]any{"time__gt": "2999-01-01T00:00:00Z"}}); a.Count != 0 {
		t.Errorf("future events: %d", a.Count)
	}
	var paged []string
	last := ""
	for i := 0; i < 10; i++ {
		body := map[string]any{"size": 3, "order": "asc"}
		if last != "" {
			body["last"] = last
		}
		a := e.audit(body)
		for _, ev := range a.Events {
			paged = append(paged, ev.ID)
		}
		if last = a.Last; last == "" {
			break
		}
	}
	if len(paged) != 7 || paged[0] != "1" || paged[6] != "7" {
		t.Errorf("paged ids %v", paged)
	}
	// A token without audit:read cannot read the trail.
	if r := e.postAs(e.newToken("links:read"), "/v1/audit/list", "{}"); r.Code != http.StatusForbidden {
		t.Errorf("audit without audit:read: %d", r.Code)
	}
	// No secret reached the log.
	token := l.Link[strings.LastIndex(l.Link, "/")+1:]
	for _, s := range []string{secret, token, e.token} {
		if strings.Contains(logs.String(), s) {
			t.Errorf("the server log holds a secret %q", s)
		}
	}
	if !strings.Contains(logs.String(), "route=/v1/share/link/create") {
		t.Fatalf("the access log is missing; the secret check above proves nothing:\n%s", logs.String())
	}
}

func TestAudit_ForwardedForOnlyFromTrustedProxies(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		proxies []string
		want    string
	}{
		{"Untrusted", nil, "127.0.0.1"},
		{"Trusted", []string{"127.0.0.1"}, "203.0.113.9"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, func(c *gateway.Config) { c.TrustedProxies = tt.proxies })
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/v1/folder/create", strings.NewReader(`{"name":"x"}`))
			req.Header.Set("Authorization", "Bearer "+e.token)
			req.Header.Set("X-Forwarded-For", "203.0.113.9")
			mustOK(t, e.do(req))
			a := e.audit(map[string]any{})
			if len(a.Events) != 1 || a.Events[0].IP != tt.want {
				t.Fatalf("ip %+v, want %s", a.Events, tt.want)
			}
		})
	}
}
