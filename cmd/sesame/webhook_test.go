package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/internal/testrig"
	"github.com/sesame-share/sesame/store"
)

// runCLIEnv is runCLI with the environment environ.
func runCLIEnv(t *testing.T, environ []string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errw strings.Builder
	err = run(t.Context(), args, environ, &out, &errw)
	return out.String(), errw.String(), err
}

// TestWebhookCLI: sesame webhook create, list, update and delete, with
// table output for people and --json for scripts, under the API's rules.
func TestWebhookCLI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	stdout, stderr, err := runCLI(t, "webhook", "create", "--url", "https://hooks.example.com/in", "--events", "all", "--description", "CRM", "--data", dir)
	secret := strings.TrimSpace(stdout)
	if err != nil || !strings.HasPrefix(secret, "whsec_") || !strings.Contains(stderr, "shown only once") || !strings.Contains(stderr, "https://hooks.example.com/in") {
		t.Fatalf("create: %v\nstdout %q\nstderr %q", err, stdout, stderr)
	}

	// Internal addresses only with webhooks.allowed_networks.
	_, _, err = runCLI(t, "webhook", "create", "--url", "http://127.0.0.1:9000/in", "--events", "link.created", "--data", dir)
	if err == nil || !strings.Contains(err.Error(), "--url") || !strings.Contains(err.Error(), "allowed_networks") {
		t.Fatalf("create for the loopback: %v", err)
	}
	stdout, _, err = runCLIEnv(t, []string{"SESAME_WEBHOOKS_ALLOWED_NETWORKS=10.0.0.0/8, 127.0.0.0/8"},
		"webhook", "create", "--url", "http://127.0.0.1:9000/in", "--events", "link.created,link.revoked", "--json", "--data", dir)
	if err != nil {
		t.Fatalf("create with allowed networks: %v", err)
	}
	var local cliWebhookJSON
	if err := json.Unmarshal([]byte(stdout), &local); err != nil || !strings.HasPrefix(local.Secret, "whsec_") || len(local.Events) != 2 || !local.Enabled {
		t.Fatalf("create --json: %v %q", err, stdout)
	}
	if _, _, err := runCLI(t, "webhook", "create", "--url", "https://x.example.com/", "--events", "link.created,link.melted", "--data", dir); err == nil ||
		!strings.Contains(err.Error(), "--events") || !strings.Contains(err.Error(), "link.melted") {
		t.Fatalf("an unknown event: %v", err)
	}

	stdout, _, err = runCLI(t, "webhook", "list", "--data", dir)
	if err != nil || !strings.Contains(stdout, "ID") || !strings.Contains(stdout, local.ID) || !strings.Contains(stdout, " all ") ||
		!strings.Contains(stdout, "link.created,link.revoked") || strings.Contains(stdout, "whsec_") {
		t.Fatalf("list: %v\n%s", err, stdout)
	}

	stdout, _, err = runCLI(t, "webhook", "update", local.ID, "--disable", "--events", "object.uploaded", "--json", "--data", dir)
	var upd cliWebhookJSON
	if err != nil || json.Unmarshal([]byte(stdout), &upd) != nil || upd.Enabled || upd.Secret != "" || len(upd.Events) != 1 || upd.Events[0] != "object.uploaded" || upd.URL != local.URL {
		t.Fatalf("update: %v %q", err, stdout)
	}
	stdout, _, err = runCLI(t, "webhook", "update", local.ID, "--rotate-secret", "--data", dir)
	if rotated := strings.TrimSpace(stdout); err != nil || !strings.HasPrefix(rotated, "whsec_") || rotated == local.Secret {
		t.Fatalf("rotate: %v %q", err, stdout)
	}
	if _, _, err := runCLI(t, "webhook", "update", local.ID, "--enable", "--disable", "--data", dir); err == nil {
		t.Fatal("update --enable --disable was accepted")
	}

	if _, stderr, err := runCLI(t, "webhook", "delete", local.ID, "--data", dir); err != nil || !strings.Contains(stderr, "Deleted "+local.ID) {
		t.Fatalf("delete: %v %q", err, stderr)
	}
	if _, _, err := runCLI(t, "webhook", "delete", local.ID, "--data", dir); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("delete twice: %v", err)
	}
	stdout, _, err = runCLI(t, "webhook", "list", "--json", "--data", dir)
	var list []cliWebhookJSON
	if err != nil || json.Unmarshal([]byte(stdout), &list) != nil || len(list) != 1 || list[0].Secret != "" || list[0].Description != "CRM" {
		t.Fatalf("list --json: %v %q", err, stdout)
	}
	if _, _, err := runCLI(t, "webhook", "frobnicate", "--data", dir); err == nil {
		t.Fatal("an unknown subcommand was accepted")
	}

	st, err := store.Open(context.Background(), store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	page, err := st.FindAudit(context.Background(), sesame.AuditFilter{Conds: []sesame.Cond{{Field: "actor_type", Values: []string{sesame.ActorOperator}}}, Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, ev := range page.Events {
		actions = append(actions, ev.Action+" "+ev.Detail["webhook_id"])
	}
	for _, want := range []string{"webhook.create " + local.ID, "webhook.update " + local.ID, "webhook.delete " + local.ID} {
		if !strings.Contains(strings.Join(actions, "\n"), want) {
			t.Errorf("no audit event %q in %v", want, actions)
		}
	}
}

// TestServeWebhooks: sesame serve, configured to reach a receiver on the
// loopback, delivers the events of its API and pages on its own, signed
// so that the reference library verifies them against the wall clock.
func TestServeWebhooks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := startServeEnv(t, dir, []string{"SESAME_WEBHOOKS_ALLOWED_NETWORKS=127.0.0.0/8"})
	admin := tokenRE.FindString(s.stdout.String())
	recv := testrig.NewWebhookReceiver(t, nil)
	hook := call(t, postJSON(t, s.base+"/v1/webhooks/create", fmt.Sprintf(`{"url":%q,"events":["link.created","link.accessed","object.downloaded"]}`, recv.URL)), admin)
	var res struct {
		Webhook struct {
			Secret string `json:"secret"`
		} `json:"webhook"`
	}
	if err := json.Unmarshal(hook.Result, &res); err != nil {
		t.Fatal(err)
	}
	recv.SetSecrets(res.Webhook.Secret)

	body, ctype, _ := uploadBody("/docs", "a.txt", 16)
	req, err := http.NewRequest(http.MethodPost, s.base+"/v1/put", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	up := decodeResult(t, call(t, req, admin)).Object.ID
	created := call(t, postJSON(t, s.base+"/v1/share/link/create", fmt.Sprintf(`{"links":[{"targets":[%q],"authenticators":[{"auth_type":"password","auth_context":"correct horse battery staple"}]}]}`, up)), admin)
	var links struct {
		Links []struct {
			ID   string `json:"id"`
			Link string `json:"link"`
		} `json:"share_link_objects"`
	}
	if err := json.Unmarshal(created.Result, &links); err != nil || len(links.Links) != 1 {
		t.Fatalf("links: %v %s", err, created.Result)
	}
	v := testrig.NewVisitor(t, s.base, nil)
	p := v.Get(links.Links[0].Link)
	p = v.Submit(p, p.Form(`form[action$="/password"]`), url.Values{"password": {"correct horse battery staple"}})
	if p.Code != http.StatusSeeOther {
		t.Fatalf("sign-in: %s", p)
	}
	if p := v.Get(links.Links[0].Link + "/f/" + up); p.Code != http.StatusOK || string(p.Body) != "sesame! sesame! " {
		t.Fatalf("download: %s", p)
	}
	var types []string
	for range 3 {
		types = append(types, recv.Next(t, 20*time.Second).Type)
	}
	if strings.Join(types, " ") != "link.created link.accessed object.downloaded" {
		t.Fatalf("received %v", types)
	}
	if rej := recv.Rejected(); len(rej) != 0 {
		t.Fatalf("rejected: %v", rej)
	}
}
