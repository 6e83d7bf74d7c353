package gateway_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/internal/testrig"
)

// Three files uploaded in one portal session give their link's owner one
// digest email, through a real SMTP server, once the session has been
// idle for ten minutes: with the three names and sizes.
func TestOwnerNotify_UploadDigestThroughSMTP(t *testing.T) {
	t.Parallel()
	e := newPortalEnv(t, portalCheapPasswords)
	smtp := testrig.NewSMTPServer(t)
	worker := hookWorker(t, e.st, e.clock, smtp)
	inbox := e.mkdir("/inbox")
	up := e.createLinks(map[string]any{"targets": []string{inbox.ID}, "link_type": "upload", "title": "Scans",
		"authenticators": []any{pw(goodPassword)}, "notify": map[string]any{"events": []string{"upload"}, "email": "owner@example.com"}})[0]

	u := e.visitor()
	u.signIn(up, goodPassword)
	csrf := u.csrf(e.base(up) + "/d/" + inbox.ID)
	files := []portalFile{{"a.txt", []byte("alpha")}, {"b.pdf", []byte("bravo pdf")}, {"c.png", []byte("charlie image")}}
	for _, f := range files {
		if p := u.upload(up, csrf, inbox.ID, "application/json", f); p.Code != http.StatusOK {
			t.Fatalf("upload %s: %s", f.name, p)
		}
	}
	ctx := context.Background()
	if n, err := e.st.DigestUploads(ctx, e.clock.Now()); err != nil || n != 0 {
		t.Fatalf("digests while the session is active: %d, %v; want none", n, err)
	}
	e.clock.Add(sesame.DigestIdle)
	for i, want := range []int{1, 0} { // a second sweep finds nothing left
		if n, err := e.st.DigestUploads(ctx, e.clock.Now()); err != nil || n != want {
			t.Fatalf("sweep %d: %d digests, %v; want %d", i, n, err, want)
		}
	}
	runDue(t, worker)
	msgs := smtp.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d emails, want one digest", len(msgs))
	}
	if len(msgs[0].To) != 1 || msgs[0].To[0] != "owner@example.com" {
		t.Errorf("sent to %v, want owner@example.com", msgs[0].To)
	}
	m := testrig.ParseMail(t, msgs[0].Data)
	if got := m.Subject(t); got != "3 files uploaded to “Scans”" {
		t.Errorf("subject %q", got)
	}
	for _, line := range []string{"- a.txt (5 B)", "- b.pdf (9 B)", "- c.png (13 B)"} {
		if !strings.Contains(m.Text(), line) {
			t.Errorf("digest lacks %q:\n%s", line, m.Text())
		}
		if name := strings.Fields(line)[1]; !strings.Contains(m.HTML(), name) {
			t.Errorf("HTML part lacks %s", name)
		}
	}
}

// The API shows a link's notify, refuses one without an address where the
// link has no sender_email, and an update with no events turns it off.
func TestOwnerNotify_API(t *testing.T) {
	t.Parallel()
	e := newPortalEnv(t, portalCheapPasswords)
	inbox := e.mkdir("/inbox")
	item := func(notify map[string]any) map[string]any {
		return map[string]any{"targets": []string{inbox.ID}, "link_type": "upload", "authenticators": []any{pw(goodPassword)}, "notify": notify}
	}
	r := e.post("/v1/share/link/create", map[string]any{"links": []any{item(map[string]any{"events": []string{"upload"}})}})
	if errs := r.Errors(t); r.Code != http.StatusBadRequest || len(errs) != 1 || errs[0].Source != "/links/0/notify/email" || errs[0].Code != "FieldRequired" {
		t.Fatalf("notify without an email: %d %s", r.Code, r.Raw)
	}
	r = e.post("/v1/share/link/create", map[string]any{"links": []any{item(map[string]any{"events": []string{"upload", "locked"}, "email": "owner@example.com"})}})
	r.MustOK(t)
	type notify struct {
		Events []string `json:"events"`
		Email  string   `json:"email"`
	}
	var created struct {
		ShareLinkObjects []struct {
			ID     string  `json:"id"`
			Notify *notify `json:"notify"`
		} `json:"share_link_objects"`
	}
	r.Into(t, &created)
	if len(created.ShareLinkObjects) != 1 || created.ShareLinkObjects[0].Notify == nil ||
		strings.Join(created.ShareLinkObjects[0].Notify.Events, ",") != "upload,locked" || created.ShareLinkObjects[0].Notify.Email != "owner@example.com" {
		t.Fatalf("created %s", r.Raw)
	}
	id := created.ShareLinkObjects[0].ID
	r = e.post("/v1/share/link/update", map[string]any{"id": id, "notify": map[string]any{"events": []string{}}})
	r.MustOK(t)
	if strings.Contains(string(r.Result), `"notify"`) {
		t.Errorf("notify after turning it off: %s", r.Raw)
	}
}
