package gateway_test

import (
	"net/http"
	"testing"
)

// Titles and sender names are one line: the API refuses control
// characters in them (and NUL in messages), pointing at the field, and
// stores nothing.
func TestAPI_LinkControlCharacters(t *testing.T) {
	e := newTestEnv(t)
	f := e.upload("/text", "a.txt", []byte("a"))
	item := func(k string, v any) map[string]any {
		return map[string]any{"targets": []string{f.ID}, "authenticators": []any{pw(goodPassword)}, k: v}
	}
	for _, tt := range []struct {
		name   string
		item   map[string]any
		source string
	}{
		{"TitleCRLF", item("title", "Hi\r\nBcc: eve@example.com"), "/links/0/title"},
		{"TitleNUL", item("title", "Hi\x00"), "/links/0/title"},
		{"MessageNUL", item("message", "Hello\x00"), "/links/0/message"},
		{"SenderNameLF", item("send_params", map[string]any{"recipient_email": "bob@example.com", "sender_email": "alice@example.com",
			"sender_name": "Eve\nBcc: x@example.com"}), "/links/0/send_params/sender_name"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, e.post("/v1/share/link/create", map[string]any{"links": []any{tt.item}}),
				http.StatusBadRequest, "ValidationError", "DoesNotMatchPattern", tt.source)
		})
	}
	r := e.post("/v1/share/link/list", map[string]any{})
	mustOK(t, r)
	var res struct {
		Count int `json:"count"`
	}
	r.Into(t, &res)
	if res.Count != 0 {
		t.Fatalf("%d links stored, want none", res.Count)
	}

	l := e.createLinks(item("message", "Line one,\r\n\tline two."))[0]
	if l.Message != "Line one,\r\n\tline two." {
		t.Errorf("message %q, want its line breaks and tab kept", l.Message)
	}
	wantError(t, e.post("/v1/share/link/update", map[string]any{"id": l.ID, "title": "a\rb"}),
		http.StatusBadRequest, "ValidationError", "DoesNotMatchPattern", "/title")
	wantError(t, e.post("/v1/share/link/send", map[string]any{"links": []any{map[string]any{"id": l.ID, "email": "bob@example.com"}},
		"sender_email": "alice@example.com", "sender_name": "Eve\r\nX-Injected: 1"}),
		http.StatusBadRequest, "ValidationError", "DoesNotMatchPattern", "/sender_name")
}
