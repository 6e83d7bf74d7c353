package gateway_test

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/gateway"
	"github.com/sesame-share/sesame/internal/testrig"
	"github.com/sesame-share/sesame/notify"
	"github.com/sesame-share/sesame/store"
)

// The tests' receivers listen on the loopback, which webhooks may reach
// only when the configuration allows it.
var hookNetworks = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

func allowLoopback(c *gateway.Config) { c.Webhooks.Policy.AllowedNetworks = hookNetworks }

// hookWorker is an outbox worker, as a server process runs it, over st:
// emails to the fake SMTP server, webhooks to wherever they point.
func hookWorker(t *testing.T, st *store.Store, clk *testrig.Clock, smtp *testrig.SMTPServer) *notify.Worker {
	t.Helper()
	mail, err := notify.NewSMTP(smtp.Config())
	if err != nil {
		t.Fatal(err)
	}
	hooks, err := notify.NewWebhooks(notify.WebhooksConfig{Store: st, AllowedNetworks: hookNetworks, Timeout: 5 * time.Second,
		Logger: testrig.DiscardLogger(), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	w, err := notify.NewWorker(notify.WorkerConfig{Outbox: st, Email: mail, SMS: notify.NewLog(testrig.DiscardLogger()), Webhooks: hooks,
		SendTimeout: 5 * time.Second, Logger: testrig.DiscardLogger(), Now: clk.Now, Jitter: func() float64 { return 1.0 }})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// runDue runs w until nothing is due.
func runDue(t *testing.T, w *notify.Worker) int {
	t.Helper()
	total := 0
	for {
		n, err := w.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return total
		}
		total += n
	}
}

type hookView struct {
	ID      string   `json:"id"`
	URL     string   `json:"url"`
	Events  []string `json:"events"`
	Enabled bool     `json:"enabled"`
	Secret  string   `json:"secret"`
}

func (e *portalEnv) createHook(body map[string]any) hookView {
	e.t.Helper()
	r := e.post("/v1/webhooks/create", body)
	mustOK(e.t, r)
	var res struct {
		Webhook hookView `json:"webhook"`
	}
	r.Into(e.t, &res)
	return res.Webhook
}

type deliveryRow struct {
	ID            string `json:"id"`
	MessageID     string `json:"message_id"`
	WebhookID     string `json:"webhook_id"`
	EventType     string `json:"event_type"`
	Attempt       int    `json:"attempt"`
	Outcome       string `json:"outcome"`
	StatusCode    int    `json:"status_code"`
	Error         string `json:"error"`
	MessageStatus string `json:"message_status"`
}

// deliveries pages through /v1/webhooks/deliveries, size at a time.
func (e *portalEnv) deliveries(size int, filter map[string]any) []deliveryRow {
	e.t.Helper()
	var all []deliveryRow
	last := ""
	for {
		body := map[string]any{"size": size, "order": "asc"}
		if filter != nil {
			body["filter"] = filter
		}
		if last != "" {
			body["last"] = last
		}
		r := e.post("/v1/webhooks/deliveries", body)
		mustOK(e.t, r)
		var res struct {
			Count      int           `json:"count"`
			Deliveries []deliveryRow `json:"deliveries"`
			Last       string        `json:"last"`
		}
		r.Into(e.t, &res)
		all = append(all, res.Deliveries...)
		if res.Last == "" {
			if len(all) != res.Count {
				e.t.Fatalf("paged through %d deliveries, count says %d", len(all), res.Count)
			}
			return all
		}
		last = res.Last
	}
}

// The acceptance test of webhooks: a receiver that verifies every request
// with the Standard Webhooks reference library is told of every event,
// each once, although it is down for a while and the process that queued
// the events dies with deliveries pending; the deliveries list shows every
// attempt.
func TestWebhooks_EveryEvent(t *testing.T) {
	t.Parallel()
	e := newPortalEnv(t, portalCheapPasswords, allowLoopback)
	recv := testrig.NewWebhookReceiver(t, e.clock)
	smtp := testrig.NewSMTPServer(t)
	hook := e.createHook(map[string]any{"url": recv.URL, "events": sesame.EventTypes, "description": "CRM"})
	if !strings.HasPrefix(hook.Secret, "whsec_") || !hook.Enabled || len(hook.Events) != len(sesame.EventTypes) {
		t.Fatalf("created %+v", hook)
	}
	recv.SetSecrets(hook.Secret)
	// Down at first: the first attempts fail.
	recv.SetState(testrig.ReceiverError)
	worker := hookWorker(t, e.st, e.clock, smtp)

	file := e.upload("/docs", "q3.pdf", []byte("quarterly numbers"))
	spare := e.upload("/docs", "old.pdf", []byte("old numbers"))
	inbox := e.mkdir("/inbox")
	links := e.createLinks(
		map[string]any{"targets": []string{file.ID}, "authenticators": []any{pw(goodPassword)}, "max_access_count": 1},
		map[string]any{"targets": []string{inbox.ID}, "link_type": "upload", "authenticators": []any{pw(goodPassword)}},
		map[string]any{"targets": []string{file.ID}, "authenticators": []any{pw(goodPassword)}},
	)
	dl, up, guarded := links[0], links[1], links[2]
	e.updateLink(map[string]any{"id": dl.ID, "title": "Q3 numbers"})

	// The recipient signs in, which spends the link, and downloads.
	v := e.visitor()
	v.IP = "192.0.2.10"
	v.signIn(dl, goodPassword)
	if p := v.Get(e.base(dl) + "/f/" + file.ID); p.Code != http.StatusOK || string(p.Body) != "quarterly numbers" {
		t.Fatalf("download: %s", p)
	}
	// Another uploads through the upload link.
	u := e.visitor()
	u.IP = "192.0.2.11"
	u.signIn(up, goodPassword)
	csrf := u.csrf(e.base(up) + "/d/" + inbox.ID)
	if p := u.upload(up, csrf, inbox.ID, "application/json", portalFile{"scan.png", []byte("scan bytes")}); p.Code != http.StatusOK {
		t.Fatalf("upload: %s", p)
	}
	// Strangers guess the third link's password until it locks.
	g := e.visitor()
	for i := range sesame.LockAfterFailures {
		g.IP = fmt.Sprintf("10.9.%d.%d", i/200, i%200+1)
		wantCode(t, g.password(guarded, 0, fmt.Sprintf("guess %d", i)), http.StatusUnauthorized, "a guess")
	}
	mustOK(t, e.post("/v1/delete", map[string]any{"id": spare.ID}))
	e.deleteLink(guarded.ID)
	// An email that can never be delivered.
	smtp.Refuse(testrig.SMTPNoSuchUser)
	mustOK(t, e.post("/v1/share/link/send", map[string]any{"links": []any{map[string]any{"id": up.ID, "email": "nobody@example.com"}},
		"sender_email": "alice@example.com"}))

	// The first round: the email fails for good (an event), every webhook
	// fails for now.
	runDue(t, worker)
	if n := len(recv.Accepted()); n != 0 {
		t.Fatalf("a receiver that is down accepted %d", n)
	}
	failed := len(recv.Requests())
	// This process dies holding one message; the rest wait.
	if claimed, err := e.st.ClaimDue(context.Background(), e.clock.Now().Add(time.Minute), 20*time.Second, 1); err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	// Another process over the same database takes over once the
	// receiver is back.
	other := testrig.OpenStore(t, e.rig.Dir, e.clock, nil)
	recv.SetState(testrig.ReceiverUp)
	e.clock.Add(time.Minute)
	next := hookWorker(t, other, e.clock, smtp)
	runDue(t, next)
	e.clock.Add(20 * time.Second) // the dead process's lease runs out
	runDue(t, next)

	got := recv.Accepted()
	var types []string
	seen := map[string]bool{}
	for _, h := range got {
		if !seen[h.Type] {
			types = append(types, h.Type)
		}
		seen[h.Type] = true
	}
	sort.Strings(types)
	want := make([]string, len(sesame.EventTypes))
	for i, et := range sesame.EventTypes {
		want[i] = string(et)
	}
	sort.Strings(want)
	if diff := cmp.Diff(want, types); diff != "" {
		t.Fatalf("event types received (-want +got):\n%s", diff)
	}
	for id, n := range recv.Times() {
		if n != 1 {
			t.Errorf("webhook-id %s accepted %d times", id, n)
		}
	}
	if rej := recv.Rejected(); len(rej) != 0 {
		t.Fatalf("rejected: %v", rej)
	}
	if len(got) != failed {
		// Every event was tried in the first round: the failed email's
		// too, which came of it.
		t.Errorf("accepted %d, but %d were tried while down", len(got), failed)
	}
	checkEventData(t, got, dl, up, guarded, file, spare)

	// The deliveries list: every attempt, in pages.
	rows := e.deliveries(7, nil)
	var successes int
	for _, d := range rows {
		if d.WebhookID != hook.ID {
			t.Errorf("delivery %+v names another webhook", d)
		}
		if d.Outcome == "success" {
			successes++
			if d.StatusCode != http.StatusNoContent || d.MessageStatus != "sent" {
				t.Errorf("successful delivery %+v", d)
			}
		} else if d.Error != "unavailable: the receiver answered 503" || d.Attempt != 1 {
			t.Errorf("failed delivery %+v", d)
		}
	}
	if successes != len(got) || len(rows) != len(got)+failed {
		t.Errorf("listed %d deliveries, %d successful; the receiver accepted %d after %d failures", len(rows), successes, len(got), failed)
	}
	if f := e.deliveries(50, map[string]any{"outcome": "failure"}); len(f) != failed {
		t.Errorf("filtered to failures: %d, want %d", len(f), failed)
	}
}

// checkEventData checks what the events say, and that none says a secret.
func checkEventData(t *testing.T, got []testrig.ReceivedWebhook, dl, up, guarded linkObj, file, spare object) {
	t.Helper()
	byType := map[string][]testrig.ReceivedWebhook{}
	var bodies []string
	for _, h := range got {
		byType[h.Type] = append(byType[h.Type], h)
		bodies = append(bodies, string(h.Body))
	}
	checks := []struct {
		typ, key string
		want     any
	}{
		{"link.accessed", "link_id", dl.ID},
		{"link.accessed", "access_count", float64(1)},
		{"link.exhausted", "reason", "access_count"},
		{"object.downloaded", "object_id", file.ID},
		{"object.downloaded", "bytes", float64(len("quarterly numbers"))},
		{"object.uploaded", "link_id", up.ID},
		{"object.uploaded", "size", float64(len("scan bytes"))},
		{"link.locked", "link_id", guarded.ID},
		{"link.revoked", "link_id", guarded.ID},
		{"object.deleted", "object_id", spare.ID},
		{"notification.failed", "channel", "email"},
		{"notification.failed", "reason", "rejected"},
	}
	// Events of one type arrive in no set order (retries, leases): some
	// event of each type must carry every value checked for that type.
	wants := map[string]map[string]any{}
	for _, c := range checks {
		if wants[c.typ] == nil {
			wants[c.typ] = map[string]any{}
		}
		wants[c.typ][c.key] = c.want
	}
	for typ, want := range wants {
		found := false
		for _, h := range byType[typ] {
			match := true
			for k, v := range want {
				match = match && h.Data[k] == v
			}
			found = found || match
		}
		if !found {
			var datas []map[string]any
			for _, h := range byType[typ] {
				datas = append(datas, h.Data)
			}
			t.Errorf("%s: no event carries %v; got %v", typ, want, datas)
		}
	}
	all := strings.Join(bodies, "\n")
	for _, l := range []linkObj{dl, up, guarded} {
		if tok := l.Link[strings.LastIndex(l.Link, "/")+1:]; strings.Contains(all, tok) {
			t.Errorf("a body holds the token of %s", l.ID)
		}
	}
	for _, secret := range []string{goodPassword, "guess 1", "nobody@example.com", "alice@example.com", "quarterly numbers", "scan bytes", "scan.png", "q3.pdf"} {
		if strings.Contains(all, secret) {
			t.Errorf("a body holds %q", secret)
		}
	}
}

// The API's rules: admin only, URLs in internal networks refused unless
// allowed, the secret shown once and rotated on request.
func TestWebhooks_API(t *testing.T) {
	t.Parallel()
	e := newPortalEnv(t) // webhooks.allowed_networks unset
	r := e.post("/v1/webhooks/create", map[string]any{"url": "http://127.0.0.1:8080/hooks", "events": []string{"link.created"}})
	wantError(t, r, http.StatusBadRequest, "ValidationError", "BadState", "/url")
	r = e.post("/v1/webhooks/create", map[string]any{"url": "https://hooks.example.com/in", "events": []string{"link.created", "link.imploded"}})
	wantError(t, r, http.StatusBadRequest, "ValidationError", "NotEnumMember", "/events/1")
	r = e.post("/v1/webhooks/create", map[string]any{"url": "https://hooks.example.com/in", "events": "link.created"})
	if r.Code != http.StatusBadRequest {
		t.Fatalf("events as a string: %d %s", r.Code, r.Raw)
	}
	linksToken := e.newToken(sesame.ScopeLinksWrite, sesame.ScopeAuditRead)
	r = e.postAs(linksToken, "/v1/webhooks/list", map[string]any{})
	if r.Code != http.StatusForbidden {
		t.Fatalf("list without admin: %d %s", r.Code, r.Raw)
	}

	hook := e.createHook(map[string]any{"url": "https://hooks.example.com/in", "events": []string{"link.created"}})
	r = e.post("/v1/webhooks/list", map[string]any{})
	mustOK(t, r)
	if strings.Contains(string(r.Raw), hook.Secret) || strings.Contains(string(r.Raw), `"secret"`) {
		t.Fatalf("the list shows a secret: %s", r.Raw)
	}
	r = e.post("/v1/webhooks/update", map[string]any{"id": hook.ID, "enabled": false, "events": []string{"link.revoked", "link.created"}})
	mustOK(t, r)
	if strings.Contains(string(r.Raw), `"secret"`) {
		t.Fatalf("an update without rotation shows a secret: %s", r.Raw)
	}
	r = e.post("/v1/webhooks/update", map[string]any{"id": hook.ID, "rotate_secret": true})
	mustOK(t, r)
	var res struct {
		Webhook hookView `json:"webhook"`
	}
	r.Into(t, &res)
	if !strings.HasPrefix(res.Webhook.Secret, "whsec_") || res.Webhook.Secret == hook.Secret || res.Webhook.Enabled ||
		!cmp.Equal(res.Webhook.Events, []string{"link.revoked", "link.created"}) {
		t.Fatalf("after rotation: %+v", res.Webhook)
	}
	r = e.post("/v1/webhooks/update", map[string]any{"id": hook.ID, "url": "http://[fe80::1]/"})
	wantError(t, r, http.StatusBadRequest, "ValidationError", "BadState", "/url")
	mustOK(t, e.post("/v1/webhooks/delete", map[string]any{"id": hook.ID}))
	r = e.post("/v1/webhooks/delete", map[string]any{"id": hook.ID})
	if r.Code != http.StatusNotFound {
		t.Fatalf("delete twice: %d %s", r.Code, r.Raw)
	}
	r = e.post("/v1/webhooks/delete", map[string]any{})
	wantError(t, r, http.StatusBadRequest, "ValidationError", "FieldRequired", "/id")
	r = e.post("/v1/webhooks/deliveries", map[string]any{"filter": map[string]any{"secret": "x"}})
	wantError(t, r, http.StatusBadRequest, "ValidationError", "UnexpectedProperty", "/filter/secret")

	// A name is checked where it is dialled: localhost leads to the
	// loopback, which is refused.
	recv := testrig.NewWebhookReceiver(t, e.clock)
	local := e.createHook(map[string]any{"url": "http://localhost:" + recv.Port() + "/in", "events": []string{"link.created"}})
	f := e.upload("/x", "x.txt", []byte("x"))
	e.createLinks(map[string]any{"targets": []string{f.ID}, "authenticators": []any{pw(goodPassword)}})
	w, err := notify.NewWorker(notify.WorkerConfig{Outbox: e.st, Email: notify.NewLog(testrig.DiscardLogger()), SMS: notify.NewLog(testrig.DiscardLogger()),
		Webhooks: mustWebhooks(t, e.st, e.clock), Logger: testrig.DiscardLogger(), Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	runDue(t, w)
	rows := e.deliveries(10, map[string]any{"webhook_id": local.ID})
	if len(recv.Requests()) != 0 || len(rows) != 1 || rows[0].Outcome != "failure" || rows[0].MessageStatus != "failed" ||
		!strings.HasPrefix(rows[0].Error, "rejected: refused to connect to ") {
		t.Fatalf("a webhook to localhost: %+v (the receiver got %d)", rows, len(recv.Requests()))
	}
	// The outbox lists webhook messages beside emails, by webhook id.
	r = e.post("/v1/notifications/list", map[string]any{"filter": map[string]any{"channel": "webhook"}})
	mustOK(t, r)
	var ns struct {
		Notifications []struct {
			ID        string `json:"id"`
			Recipient string `json:"recipient"`
			Kind      string `json:"kind"`
			Status    string `json:"status"`
			LastError string `json:"last_error"`
		} `json:"notifications"`
	}
	r.Into(t, &ns)
	if len(ns.Notifications) != 1 || ns.Notifications[0].ID != rows[0].MessageID || ns.Notifications[0].Recipient != local.ID ||
		ns.Notifications[0].Kind != "link.created" || ns.Notifications[0].Status != "failed" || ns.Notifications[0].LastError != "rejected" {
		t.Fatalf("notifications: %s", r.Raw)
	}
}

// mustWebhooks is a webhook sender with no allowed networks.
func mustWebhooks(t *testing.T, st *store.Store, clk *testrig.Clock) *notify.Webhooks {
	t.Helper()
	w, err := notify.NewWebhooks(notify.WebhooksConfig{Store: st, Timeout: 5 * time.Second, Logger: testrig.DiscardLogger(), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return w
}
