//go:build cluster

package cluster_test

import (
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sesame-share/sesame/internal/testrig"
)

const goodPassword = "correct horse battery"

type link struct {
	ID   string `json:"id"`
	Link string `json:"link"`
}

type object struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// upload puts data at folder/name through base and returns the object.
func (c *cluster) upload(t *testing.T, base, folder, name string, data []byte) object {
	t.Helper()
	ct, body := multipartUpload(t, map[string]any{"folder": folder, "name": name}, data)
	req, err := http.NewRequest(http.MethodPost, base+"/v1/put", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+c.Token)
	r := c.api(base).Do(t, req)
	r.MustOK(t)
	var res struct {
		Object object `json:"object"`
	}
	r.Into(t, &res)
	return res.Object
}

// passwordLink makes a download link to the file with the password and
// the extra fields.
func (c *cluster) passwordLink(t *testing.T, fileID string, extra map[string]any) link {
	t.Helper()
	item := map[string]any{"targets": []string{fileID}, "authenticators": []any{map[string]any{"auth_type": "password", "auth_context": goodPassword}}}
	for k, v := range extra {
		item[k] = v
	}
	r := c.api(c.URL).Post(t, "/v1/share/link/create", map[string]any{"links": []any{item}})
	r.MustOK(t)
	var res struct {
		Links []link `json:"share_link_objects"`
	}
	r.Into(t, &res)
	return res.Links[0]
}

// path is the link's page path, without the proxy's origin.
func (c *cluster) path(l link) string { return strings.TrimPrefix(l.Link, c.URL) }

func sessionCookie(l link) string { return "sesame_s_" + strings.TrimPrefix(l.ID, "psl_")[:12] }

// csrf opens the link's page on base and returns its forms' CSRF token.
func csrf(t *testing.T, v *testrig.Visitor, page string) string {
	t.Helper()
	p := v.Get(page)
	if p.Code != http.StatusOK || p.Value("csrf") == "" {
		t.Fatalf("GET %s: %s", page, p)
	}
	return p.Value("csrf")
}

// password posts a password on base from visitor v.
func password(t *testing.T, v *testrig.Visitor, page, pw string) *testrig.Page {
	t.Helper()
	return v.Post(page+"/password", url.Values{"csrf": {csrf(t, v, page)}, "auth": {"0"}, "password": {pw}})
}

// testSignInsRespectCap sends 200 sign-ins at once, half to each replica,
// to a link with max_access_count 5.
func testSignInsRespectCap(t *testing.T, c *cluster) {
	f := c.upload(t, c.URL, "/cap", "cap.txt", []byte("capped"))
	l := c.passwordLink(t, f.ID, map[string]any{"max_access_count": 5})
	const n = 200
	visitors, tokens := make([]*testrig.Visitor, n), make([]string, n)
	for i := range visitors {
		visitors[i] = testrig.NewVisitor(t, c.Replicas[i%2], nil)
		tokens[i] = csrf(t, visitors[i], c.path(l))
	}
	sessions, byCode := make([]bool, n), make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range visitors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := visitors[i]
			req := v.FormRequest(c.path(l)+"/password", url.Values{"csrf": {tokens[i]}, "auth": {"0"}, "password": {goodPassword}})
			<-start
			p, err := v.Try(req)
			if err != nil {
				t.Error(err)
				return
			}
			byCode[i] = p.Code
			sessions[i] = p.Code == http.StatusSeeOther && p.Cookie(sessionCookie(l)) != nil
		}()
	}
	close(start)
	wg.Wait()
	won, perReplica, codes := 0, [2]int{}, map[int]int{}
	for i := range sessions {
		codes[byCode[i]]++
		if sessions[i] {
			won++
			perReplica[i%2]++
		}
	}
	t.Logf("200 sign-ins: statuses %v; sessions per replica %v", codes, perReplica)
	if won != 5 || codes[http.StatusSeeOther] != 5 || codes[http.StatusNotFound] != n-5 {
		t.Errorf("%d sessions, statuses %v; want 5 sessions and %d dead pages", won, codes, n-5)
	}
	var res struct {
		Link struct {
			AccessCount int `json:"access_count"`
		} `json:"share_link_object"`
	}
	r := c.api(c.URL).Post(t, "/v1/share/link/get", map[string]any{"id": l.ID})
	r.MustOK(t)
	r.Into(t, &res)
	if res.Link.AccessCount != 5 {
		t.Errorf("access_count %d, want 5", res.Link.AccessCount)
	}
}

// testSessionAndRevoke signs in on replica A, uses the session on B,
// revokes through A's API (and a second link with the CLI) and expects
// B's very next answer to be the dead page.
func testSessionAndRevoke(t *testing.T, c *cluster) {
	f := c.upload(t, c.URL, "/session", "session.txt", []byte("session"))
	for _, how := range []string{"api", "cli"} {
		l := c.passwordLink(t, f.ID, nil)
		a := testrig.NewVisitor(t, c.Replicas[0], nil)
		if p := password(t, a, c.path(l), goodPassword); p.Code != http.StatusSeeOther || p.Cookie(sessionCookie(l)) == nil {
			t.Fatalf("sign-in on A: %s", p)
		}
		// Cookies belong to a host, not to a port: the same browser on B.
		onB := c.Replicas[1] + c.path(l)
		if p := a.Get(onB); p.Code != http.StatusOK || !strings.Contains(p.Text(), "session.txt") {
			t.Fatalf("the session from A on B: %s", p)
		}
		switch how {
		case "api":
			c.api(c.Replicas[0]).Post(t, "/v1/share/link/delete", map[string]any{"ids": []string{l.ID}}).MustOK(t)
		case "cli":
			cmd := exec.Command(filepath.Join(c.Dir, "sesame"), "link", "revoke", l.ID, "--data", filepath.Join(c.Dir, "cli"))
			cmd.Env = c.env
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("sesame link revoke: %v\n%s", err, out)
			}
		}
		if p := a.Get(onB); p.Code != http.StatusNotFound || strings.Contains(p.Text(), "session.txt") {
			t.Errorf("revoked by %s on A: B's next answer is %s; want the dead page", how, p)
		}
	}
}

// testThrottlesAreShared makes three wrong tries on A and a fourth on B
// from one address.
func testThrottlesAreShared(t *testing.T, c *cluster) {
	f := c.upload(t, c.URL, "/throttle", "t.txt", []byte("t"))
	l := c.passwordLink(t, f.ID, nil)
	const ip = "198.51.100.23"
	for i := 1; i <= 3; i++ {
		a := testrig.NewVisitor(t, c.Replicas[0], nil)
		a.IP = ip
		if p := password(t, a, c.path(l), fmt.Sprintf("wrong %d", i)); p.Code != http.StatusUnauthorized {
			t.Fatalf("wrong try %d on A: %s", i, p)
		}
	}
	b := testrig.NewVisitor(t, c.Replicas[1], nil)
	b.IP = ip
	if p := password(t, b, c.path(l), "wrong 4"); p.Code != http.StatusTooManyRequests {
		t.Errorf("fourth wrong try, on B: %d, want 429", p.Code)
	}
	// Another address is not slowed down.
	other := testrig.NewVisitor(t, c.Replicas[1], nil)
	other.IP = "198.51.100.24"
	if p := password(t, other, c.path(l), goodPassword); p.Code != http.StatusSeeOther {
		t.Errorf("another address on B: %d, want 303", p.Code)
	}
}
