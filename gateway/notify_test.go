package gateway_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type notificationList struct {
	Count         int `json:"count"`
	Notifications []struct {
		ID        string `json:"id"`
		Channel   string `json:"channel"`
		Recipient string `json:"recipient"`
		Status    string `json:"status"`
		Attempts  int    `json:"attempts"`
		LinkID    string `json:"link_id"`
		Kind      string `json:"kind"`
	} `json:"notifications"`
}

func TestLinkSend(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	f := e.upload("/n", "f.txt", []byte("f"))
	l := e.createLinks(map[string]any{"targets": []string{f.ID}, "authenticators": []any{email("bob@example.com")}, "title": "Quarterly report"})[0]

	r := e.post("/v1/share/link/send", map[string]any{"links": []any{map[string]any{"id": l.ID, "email": "bob@example.com"}},
		"sender_email": "alice@example.com", "sender_name": "Alice"})
	mustOK(t, r)
	var res struct {
		Links []struct {
			ID             string `json:"id"`
			RecipientEmail string `json:"recipient_email"`
			SenderEmail    string `json:"sender_email"`
			SenderName     string `json:"sender_name"`
			Link           string `json:"link"`
		} `json:"share_link_objects"`
	}
	r.Into(t, &res)
	if len(res.Links) != 1 || res.Links[0].ID != l.ID || res.Links[0].RecipientEmail != "bob@example.com" ||
		res.Links[0].SenderEmail != "alice@example.com" || res.Links[0].SenderName != "Alice" || res.Links[0].Link != l.Link {
		t.Fatalf("send result %+v", res.Links)
	}
	// The message waits in the outbox, rendered, with the link in it.
	claimed, err := e.st.ClaimDue(context.Background(), timeNowPlus(0), 0, 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("outbox: %d messages, %v", len(claimed), err)
	}
	m := claimed[0].Message
	if m.To != "bob@example.com" || m.ReplyTo != "alice@example.com" || m.Subject != "Alice shared “Quarterly report” with you" || m.FromName != "Alice via sesame" || m.LinkID != l.ID ||
		!strings.Contains(m.Text, l.Link) || !strings.Contains(m.HTML, `href="`+l.Link+`"`) || !strings.Contains(m.Text, "Alice") {
		t.Fatalf("queued message %+v", m)
	}
	// Delivery status, masked.
	r = e.post("/v1/notifications/list", map[string]any{"filter": map[string]any{"link_id": l.ID}})
	mustOK(t, r)
	var nl notificationList
	r.Into(t, &nl)
	if nl.Count != 1 || nl.Notifications[0].Recipient != "b•••@example.com" || nl.Notifications[0].Channel != "email" || nl.Notifications[0].Kind != "link" {
		t.Fatalf("notifications %+v", nl)
	}
	if strings.Contains(string(r.Raw), "bob@example.com") {
		t.Fatalf("the listing shows the full address: %s", r.Raw)
	}
	// Filters on the recipient now find the link.
	var list struct{ Count int }
	e.post("/v1/share/link/list", map[string]any{"filter": map[string]any{"recipient_email": "bob@example.com", "sender_email__contains": []string{"alice"}}}).Into(t, &list)
	if list.Count != 1 {
		t.Fatalf("recipient filter: %d", list.Count)
	}
}

func TestLinkSendValidation(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	f := e.upload("/n", "f.txt", []byte("f"))
	l := e.createLinks(map[string]any{"targets": []string{f.ID}, "authenticators": []any{email("bob@example.com")}})[0]
	missing := "psl_" + strings.Repeat("a", 32)
	for _, tt := range []struct {
		name   string
		body   map[string]any
		code   int
		status string
		err    string
		source string
	}{
		{"NoLinks", map[string]any{"sender_email": "a@example.com"}, 400, "ValidationError", "FieldRequired", "/links"},
		{"EmptyLinks", map[string]any{"links": []any{}, "sender_email": "a@example.com"}, 400, "ValidationError", "BelowMinItems", "/links"},
		{"NoSender", map[string]any{"links": []any{map[string]any{"id": l.ID, "email": "b@example.com"}}}, 400, "ValidationError", "FieldRequired", "/sender_email"},
		{"BadSender", map[string]any{"links": []any{map[string]any{"id": l.ID, "email": "b@example.com"}}, "sender_email": "alice"}, 400, "ValidationError", "BadFormatEmail", "/sender_email"},
		{"NoID", map[string]any{"links": []any{map[string]any{"email": "b@example.com"}}, "sender_email": "a@example.com"}, 400, "ValidationError", "FieldRequired", "/links/0/id"},
		{"NoEmail", map[string]any{"links": []any{map[string]any{"id": l.ID}}, "sender_email": "a@example.com"}, 400, "ValidationError", "FieldRequired", "/links/0/email"},
		{"BadEmail", map[string]any{"links": []any{map[string]any{"id": l.ID, "email": "b@example.com\r\nBcc: x@example.com"}}, "sender_email": "a@example.com"}, 400, "ValidationError", "BadFormatEmail", "/links/0/email"},
		{"UnknownLink", map[string]any{"links": []any{map[string]any{"id": l.ID, "email": "b@example.com"}, map[string]any{"id": missing, "email": "c@example.com"}}, "sender_email": "a@example.com"}, 404, "NotFound", "DoesNotExist", "/links/1/id"},
		{"LongName", map[string]any{"links": []any{map[string]any{"id": l.ID, "email": "b@example.com"}}, "sender_email": "a@example.com", "sender_name": strings.Repeat("n", 101)}, 400, "ValidationError", "AboveMaxLength", "/sender_name"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, e.post("/v1/share/link/send", tt.body), tt.code, tt.status, tt.err, tt.source)
		})
	}
	var nl notificationList
	e.post("/v1/notifications/list", "{}").Into(t, &nl)
	if nl.Count != 0 {
		t.Fatalf("a refused send queued %d messages", nl.Count)
	}
	// links:write alone may not send.
	r := e.postAs(e.newToken("links:write"), "/v1/share/link/send", map[string]any{"links": []any{map[string]any{"id": l.ID, "email": "b@example.com"}}, "sender_email": "a@example.com"})
	if r.Code != http.StatusForbidden || !strings.Contains(r.Summary, "links:send") {
		t.Fatalf("send without links:send: %d %q", r.Code, r.Summary)
	}
}

func TestLinkCreateWithSendParams(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	f := e.upload("/n", "f.txt", []byte("f"))
	links := e.createLinks(map[string]any{"targets": []string{f.ID}, "authenticators": []any{email("carol@example.com")}, "title": "Hello",
		"send_params": map[string]any{"recipient_email": "carol@example.com", "sender_email": "dan@example.com", "sender_name": "Dan"}})
	r := e.post("/v1/share/link/get", map[string]any{"id": links[0].ID})
	if !strings.Contains(string(r.Raw), `"recipient_email":"carol@example.com"`) || !strings.Contains(string(r.Raw), `"sender_name":"Dan"`) {
		t.Fatalf("get after create with send_params: %s", r.Raw)
	}
	var nl notificationList
	e.post("/v1/notifications/list", map[string]any{"filter": map[string]any{"link_id": links[0].ID}}).Into(t, &nl)
	if nl.Count != 1 || nl.Notifications[0].Status != "queued" {
		t.Fatalf("queued: %+v", nl)
	}
	wantError(t, e.post("/v1/share/link/create", map[string]any{"links": []any{map[string]any{"targets": []string{f.ID},
		"authenticators": []any{email("x@example.com")}, "send_params": map[string]any{"recipient_email": "nope", "sender_email": "d@example.com"}}}}),
		400, "ValidationError", "BadFormatEmail", "/links/0/send_params/recipient_email")
}

func TestLinkSendIdempotency(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	f := e.upload("/n", "f.txt", []byte("f"))
	l := e.createLinks(map[string]any{"targets": []string{f.ID}, "authenticators": []any{email("bob@example.com")}})[0]
	body := `{"links":[{"id":"` + l.ID + `","email":"bob@example.com"}],"sender_email":"alice@example.com"}`
	for i := 0; i < 3; i++ {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/v1/share/link/send", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e.token)
		req.Header.Set("Idempotency-Key", "send-once")
		mustOK(t, e.do(req))
	}
	var nl notificationList
	e.post("/v1/notifications/list", "{}").Into(t, &nl)
	if nl.Count != 1 {
		t.Fatalf("three sends with one key queued %d emails", nl.Count)
	}
}

// language (an extension) is optional on share/link/send items and in
// send_params: a BCP 47 tag is kept, canonical, with the queued email; a
// bad one is a ValidationError pointing at it, and nothing is created or
// queued.
func TestLinkSend_Language(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	f := e.upload("/n", "f.txt", []byte("f"))
	l := e.createLinks(map[string]any{"targets": []string{f.ID}, "authenticators": []any{email("bob@example.com")}, "title": "Q3"})[0]
	send := func(item map[string]any) *reply {
		return e.post("/v1/share/link/send", map[string]any{"links": []any{item}, "sender_email": "alice@example.com"})
	}
	mustOK(t, send(map[string]any{"id": l.ID, "email": "bob@example.com", "language": "pt-br"}))
	mustOK(t, send(map[string]any{"id": l.ID, "email": "carol@example.com"}))
	e.createLinks(map[string]any{"targets": []string{f.ID}, "authenticators": []any{email("dan@example.com")},
		"send_params": map[string]any{"recipient_email": "dan@example.com", "sender_email": "alice@example.com", "language": "de"}})
	claimed, err := e.st.ClaimDue(context.Background(), timeNowPlus(0), time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, n := range claimed {
		got[n.Message.To] = n.Message.Language
	}
	if diff := cmp.Diff(map[string]string{"bob@example.com": "pt-BR", "carol@example.com": "en", "dan@example.com": "de"}, got); diff != "" {
		t.Errorf("queued languages (-want +got):\n%s", diff)
	}

	for _, bad := range []any{"english!", "", "x", 42} {
		code := "BadFormat"
		if _, ok := bad.(int); ok {
			code = "InvalidString"
		}
		wantError(t, send(map[string]any{"id": l.ID, "email": "bob@example.com", "language": bad}), 400, "ValidationError", code, "/links/0/language")
		wantError(t, e.post("/v1/share/link/create", map[string]any{"links": []any{map[string]any{"targets": []string{f.ID},
			"authenticators": []any{email("x@example.com")}, "send_params": map[string]any{"recipient_email": "x@example.com",
				"sender_email": "alice@example.com", "language": bad}}}}), 400, "ValidationError", code, "/links/0/send_params/language")
	}
	var list struct{ Count int }
	e.post("/v1/share/link/list", "{}").Into(t, &list)
	if list.Count != 2 {
		t.Errorf("%d links, want 2: a refused create made one", list.Count)
	}
	var nl notificationList
	e.post("/v1/notifications/list", "{}").Into(t, &nl)
	if nl.Count != 3 {
		t.Errorf("%d notifications, want 3: a refused send queued one", nl.Count)
	}
}
