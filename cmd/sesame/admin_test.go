package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/internal/testrig"
	"github.com/sesame-share/sesame/store"
)

// adminStore is a data directory with n download links tagged by their
// parity, a queued and a failed message, and some audit events.
func adminStore(t *testing.T, n int) (dir string, ids []string) {
	t.Helper()
	ctx := context.Background()
	dir = t.TempDir()
	st, o := storeWithFile(t, dir, "a.txt", "shared")
	defer st.Close()
	ten := 10
	for i := range n {
		tag := []string{"even", "odd"}[i%2]
		links, err := st.CreateLinks(ctx, []sesame.LinkCreate{{Type: sesame.LinkDownload, Targets: []string{o.ID}, Title: "Report " + tag,
			Tags: []string{tag}, Expires: time.Now().Add(time.Hour), MaxAccessCount: &ten}},
			[][]sesame.LinkAuthenticator{{{ID: sesame.NewID("lau_"), Type: sesame.AuthEmailOTP, Context: "r@example.com"}}}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, links[0].ID)
	}
	if err := st.Audit(ctx, &sesame.AuditEvent{Action: "signin", Outcome: "failure:401", ActorType: sesame.ActorSession, LinkID: ids[0]},
		&sesame.AuditEvent{Action: "code.send", Outcome: "success", ActorType: sesame.ActorSession, LinkID: ids[0]}); err != nil {
		t.Fatal(err)
	}
	return dir, ids
}

func TestLinksList(t *testing.T) {
	t.Parallel()
	dir, _ := adminStore(t, 5)
	out, stderr, err := runCLI(t, "links", "list", "--data", dir, "--filter", `{"tags": ["odd"]}`, "--size", "1")
	if err != nil {
		t.Fatalf("links list: %v (stderr %q)", err, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "ID") || !strings.Contains(lines[1], "Report odd") {
		t.Fatalf("a table of one odd link: %q", out)
	}
	if !strings.Contains(stderr, "1 of 2 links; next page: --last ") {
		t.Fatalf("the page count and cursor: %q", stderr)
	}
	cursor := strings.TrimSpace(strings.SplitN(stderr, "--last ", 2)[1])
	js, _, err := runCLI(t, "links", "list", "--data", dir, "--filter", `{"tags": ["odd"]}`, "--size", "1", "--last", cursor, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Count int `json:"count"`
		Links []struct {
			ID   string   `json:"id"`
			Tags []string `json:"tags"`
		} `json:"share_link_objects"`
		Last string `json:"last"`
	}
	if err := json.Unmarshal([]byte(js), &page); err != nil {
		t.Fatalf("--json: %v\n%s", err, js)
	}
	if page.Count != 2 || len(page.Links) != 1 || page.Links[0].Tags[0] != "odd" || strings.Contains(lines[1], page.Links[0].ID) || page.Last != "" {
		t.Errorf("second page: %+v (first page %q)", page, lines[1])
	}
	if _, _, err := runCLI(t, "links", "list", "--data", dir, "--filter", `{"colour": "red"}`); err == nil || !strings.Contains(err.Error(), "colour") {
		t.Errorf("an unknown filter field: %v", err)
	}
	if _, _, err := runCLI(t, "links", "list", "--data", dir, "--order-by", "nope"); err == nil {
		t.Error("an unknown order field was accepted")
	}
}

func TestLinksRevokeSeveral(t *testing.T) {
	t.Parallel()
	dir, ids := adminStore(t, 3)
	out, _, err := runCLI(t, "links", "revoke", ids[0], ids[1], "psl_nosuchlink", "--data", dir, "--json")
	if err == nil || !strings.Contains(err.Error(), "psl_nosuchlink") {
		t.Fatalf("an unknown id among several: %v", err)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	if got[ids[0]] != "revoked" || got[ids[1]] != "revoked" || got["psl_nosuchlink"] != "error" {
		t.Errorf("results: %v", got)
	}
	st, err := store.Open(context.Background(), store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i, id := range ids {
		_, err := st.LinkByID(context.Background(), id)
		if gone := sesame.KindOf(err) == sesame.NotFound; gone != (i < 2) {
			t.Errorf("link %d: gone %v", i, gone)
		}
	}
}

func TestAuditTailAndOutboxList(t *testing.T) {
	t.Parallel()
	dir, ids := adminStore(t, 2)
	out, _, err := runCLI(t, "audit", "tail", "--data", dir, "--filter", `{"action": "signin"}`)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "signin") ||
		!strings.Contains(lines[0], "failure:401") || !strings.Contains(lines[0], "link="+ids[0]) {
		t.Errorf("audit tail of sign-ins: %q", out)
	}
	js, _, err := runCLI(t, "audit", "tail", "--data", dir, "--size", "2", "--json")
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(js), "\n"); len(lines) != 2 || !json.Valid([]byte(lines[0])) {
		t.Errorf("audit tail --json: %q", js)
	}

	// Follow: an event written after the start is printed, then the
	// command stops with its context.
	ctx, cancel := context.WithCancel(context.Background())
	var buf testrig.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"audit", "tail", "--data", dir, "--size", "1", "--follow"}, nil, &buf, &strings.Builder{})
	}()
	st, err := store.Open(context.Background(), store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(buf.String(), "code.send") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := st.Audit(context.Background(), &sesame.AuditEvent{Action: "download", Outcome: "success", ActorType: sesame.ActorSession, LinkID: ids[1]}); err != nil {
		t.Fatal(err)
	}
	for !strings.Contains(buf.String(), "link="+ids[1]) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); !strings.Contains(got, "download") || strings.Count(got, "\n") != 2 {
		t.Errorf("audit tail --follow printed %q; want the newest event, then the new download", got)
	}

	if err := st.Enqueue(context.Background(), &sesame.Message{Channel: sesame.ChannelEmail, To: "bob@example.com", Subject: "s", Text: "t", Kind: "link", LinkID: ids[0]}); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := runCLI(t, "outbox", "list", "--data", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "b•••@example.com") || strings.Contains(out, "bob@example.com") || !strings.Contains(out, "queued") ||
		!strings.Contains(stderr, "1 of 1 deliveries") {
		t.Errorf("outbox list: %q %q", out, stderr)
	}
}
