package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/store"
)

// TestLinkRevoke: sesame link revoke kills a link in the shared store,
// records who did it, says so when the link was already revoked, and
// refuses an unknown id.
func TestLinkRevoke(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	st, o := storeWithFile(t, dir, "a.txt", "shared")
	ten := 10
	links, err := st.CreateLinks(ctx, []sesame.LinkCreate{{Type: sesame.LinkDownload, Targets: []string{o.ID}, Expires: time.Now().Add(time.Hour), MaxAccessCount: &ten}},
		[][]sesame.LinkAuthenticator{{{ID: sesame.NewID("lau_"), Type: sesame.AuthEmailOTP, Context: "r@example.com"}}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	id := links[0].ID
	st.Close()

	if _, stderr, err := runCLI(t, "link", "revoke", id, "--data", dir); err != nil || !strings.Contains(stderr, "Revoked "+id) {
		t.Fatalf("revoke: %v, stderr %q", err, stderr)
	}
	if _, stderr, err := runCLI(t, "link", "revoke", id, "--data", dir); err != nil || !strings.Contains(stderr, "Already revoked") {
		t.Fatalf("revoke again: %v, stderr %q", err, stderr)
	}
	if _, _, err := runCLI(t, "link", "revoke", "psl_nosuchlink", "--data", dir); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("unknown link: %v", err)
	}

	st, err = store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if l, err := st.LinkByID(ctx, id); sesame.KindOf(err) != sesame.NotFound {
		t.Fatalf("after revoke: %+v, %v; want not found", l, err)
	}
	page, err := st.FindAudit(ctx, sesame.AuditFilter{Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, ev := range page.Events {
		found = found || (ev.Action == "link.delete" && ev.LinkID == id && ev.ActorType == sesame.ActorOperator)
	}
	if !found {
		t.Errorf("no link.delete event by the operator in %d events", len(page.Events))
	}
}
