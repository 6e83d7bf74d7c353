package gateway_test

import (
	"archive/zip"
	"bytes"
	"net/http"
	"slices"
	"testing"
	"time"
)

// TestPortal_ExpiredFileHidden: a recipient stops seeing a file the moment
// its TTL runs out: in the folder, in the folder's download and at its own
// address.
func TestPortal_ExpiredFileHidden(t *testing.T) {
	t.Parallel()
	e := newPortalEnv(t, portalCheapPasswords)
	top := e.mkdir("/pack")
	a := e.objectOf(e.put("/v1/put", map[string]any{"folder": "/pack", "name": "a.txt", "file_ttl": "1m"}, []byte("aaaa")))
	e.upload("/pack", "b.txt", []byte("bbbbbb"))
	l := e.createLinks(map[string]any{"targets": []string{top.ID}, "authenticators": []any{pw(goodPassword)}})[0]
	base := e.base(l)
	v := e.visitor()
	v.signIn(l, goodPassword)
	names := func() []string {
		t.Helper()
		p := v.Get(base + "/d/" + top.ID)
		if p.Code != http.StatusOK {
			t.Fatalf("folder page: %s", p)
		}
		var got []string
		for _, n := range p.Find("table.files td.name a") {
			got = append(got, n.Text())
		}
		return got
	}
	if got := names(); !slices.Equal(got, []string{"a.txt", "b.txt"}) {
		t.Fatalf("before expiry: %q", got)
	}
	if got := v.Get(base + "/f/" + a.ID); got.Code != http.StatusOK || string(got.Body) != "aaaa" {
		t.Fatalf("download before expiry: %s", got)
	}

	e.clock.Add(time.Minute)
	if got := names(); !slices.Equal(got, []string{"b.txt"}) {
		t.Errorf("after expiry: %q, want b.txt alone", got)
	}
	if got := v.Get(base + "/f/" + a.ID); got.Code != http.StatusNotFound {
		t.Errorf("download after expiry: got %d, want 404", got.Code)
	}
	z := v.Get(base + "/zip")
	if z.Code != http.StatusOK {
		t.Fatalf("zip: %s", z)
	}
	zr, err := zip.NewReader(bytes.NewReader(z.Body), int64(len(z.Body)))
	if err != nil {
		t.Fatal(err)
	}
	var members []string
	for _, f := range zr.File {
		members = append(members, f.Name)
	}
	if slices.Contains(members, "pack/a.txt") || !slices.Contains(members, "pack/b.txt") {
		t.Errorf("zip members after expiry: %q, want b.txt and not a.txt", members)
	}
}
