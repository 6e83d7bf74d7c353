package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sesame-share/sesame/gateway"
	"github.com/sesame-share/sesame/internal/testrig"
)

// tusClient drives the tus protocol with plain net/http as one visitor:
// its session cookie and its page's CSRF token go with every request.
type tusClient struct {
	t    *testing.T
	v    *portalVisitor
	csrf string
}

// tusMeta is an Upload-Metadata header: base64 values, as tus wants.
func tusMeta(kv ...string) string {
	var parts []string
	for i := 0; i+1 < len(kv); i += 2 {
		parts = append(parts, kv[i]+" "+base64.StdEncoding.EncodeToString([]byte(kv[i+1])))
	}
	return strings.Join(parts, ",")
}

func (c *tusClient) do(method, u string, body []byte, header ...string) *portalPage {
	c.t.Helper()
	req := c.v.NewRequest(method, u, bytes.NewReader(body))
	if body == nil {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	req.Header.Set("Tus-Resumable", "1.0.0")
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return c.v.Do(req)
}

// create begins an upload at the endpoint and returns the answer.
func (c *tusClient) create(endpoint string, length int, meta string) *portalPage {
	c.t.Helper()
	return c.do(http.MethodPost, endpoint, nil, "Upload-Length", strconv.Itoa(length), "Upload-Metadata", meta)
}

func (c *tusClient) patch(u string, offset int, body []byte) *portalPage {
	c.t.Helper()
	return c.do(http.MethodPatch, u, body, "Upload-Offset", strconv.Itoa(offset), "Content-Type", "application/offset+octet-stream")
}

func (c *tusClient) head(u string) *portalPage {
	c.t.Helper()
	return c.do(http.MethodHead, u, nil)
}

func tusOffset(t *testing.T, p *portalPage) int {
	t.Helper()
	n, err := strconv.Atoi(p.Header.Get("Upload-Offset"))
	if err != nil {
		t.Fatalf("no Upload-Offset: %s", p)
	}
	return n
}

func tusMessage(t *testing.T, p *portalPage, code int) string {
	t.Helper()
	var m struct {
		Message string `json:"message"`
	}
	if p.Code != code || json.Unmarshal(p.Body, &m) != nil || m.Message == "" {
		t.Fatalf("got %s, want %d with a JSON message", p, code)
	}
	return m.Message
}

// cutPatch sends a PATCH whose body stops after sent of its declared
// bytes: the connection is closed, as when a network drops.
func (c *tusClient) cutPatch(serverURL, path string, offset int, declared int, sent []byte, cookie *http.Cookie) {
	c.t.Helper()
	u, err := url.Parse(serverURL)
	if err != nil {
		c.t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		c.t.Fatal(err)
	}
	w := bufio.NewWriter(conn)
	fmt.Fprintf(w, "PATCH %s HTTP/1.1\r\nHost: %s\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: %d\r\nContent-Type: application/offset+octet-stream\r\n"+
		"Content-Length: %d\r\nX-CSRF-Token: %s\r\nCookie: %s=%s\r\n\r\n", path, u.Host, offset, declared, c.csrf, cookie.Name, cookie.Value)
	w.Write(sent)
	if err := w.Flush(); err != nil {
		c.t.Fatal(err)
	}
	conn.Close()
}

// TestPortal_Tus drives the tus protocol through two gateways over one
// database and one blob directory, as two replicas: an upload begun on one
// is cut off, resumed on the other, and stores exactly its bytes.
func TestPortal_Tus(t *testing.T) {
	t.Parallel()
	e := newPortalEnv(t, portalCheapPasswords)
	// The second replica: its own store (own connections, own writer)
	// on the same database and blobs.
	st2 := testrig.OpenStore(t, e.rig.Dir, e.clock, nil)
	trust := func(c *gateway.Config) { c.TrustedProxies = []string{"127.0.0.1"} }
	served := make(chan string, 16)
	report := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(w, r)
			served <- r.Method
		})
	}
	replica := testrig.NewEnv(t, testrig.WithStore(st2), testrig.WithClock(e.clock), testrig.WithMiddleware(report),
		testrig.WithConfig(portalCheapPasswords, trust))

	drop := e.mkdir("/drop")
	e.upload("/drop", "notes.txt", []byte("already here"))
	l := e.createLinks(map[string]any{"targets": []string{drop.ID}, "link_type": "upload", "authenticators": []any{pw(goodPassword)}})[0]
	base := e.base(l)
	v := e.visitor()
	v.signIn(l, goodPassword)
	c := &tusClient{t: t, v: v, csrf: v.csrf(base + "/d/" + drop.ID)}
	endpointA := e.srv.URL + base + "/tus"

	data := make([]byte, 3<<20+12345)
	rand.Read(data)
	p := c.create(endpointA, len(data), tusMeta("filename", "notes.txt", "folder", drop.ID))
	if p.Code != http.StatusCreated || p.Header.Get("Tus-Resumable") != "1.0.0" {
		t.Fatalf("create: %s", p)
	}
	loc := p.Header.Get("Location")
	if !strings.HasPrefix(loc, base+"/tus/") || len(loc) < len(base)+5+40 {
		t.Fatalf("Location %q: want %s/tus/ and an unguessable id", loc, base)
	}
	upA, upB := e.srv.URL+loc, replica.URL+loc

	// Replica A takes the first MiB.
	if p := c.patch(upA, 0, data[:1<<20]); p.Code != http.StatusNoContent || tusOffset(t, p) != 1<<20 {
		t.Fatalf("first PATCH: %s", p)
	}
	// Replica B gets the next piece, cut off after 600 KiB of 1 MiB.
	cookie := &http.Cookie{Name: portalSessionCookie(l.ID), Value: v.Cookie(portalSessionCookie(l.ID))}
	c.cutPatch(replica.URL, loc, 1<<20, 1<<20, data[1<<20:1<<20+600<<10], cookie)
	waitServed(t, served, http.MethodPatch)
	// The bytes that arrived were kept; the client resumes from there, on B.
	p = c.head(upB)
	if p.Code != http.StatusOK || p.Header.Get("Upload-Length") != strconv.Itoa(len(data)) {
		t.Fatalf("HEAD after the cut: %s", p)
	}
	waitServed(t, served, http.MethodHead)
	off := tusOffset(t, p)
	if off != 1<<20+600<<10 {
		t.Errorf("offset after the cut: got %d, want %d (what arrived before it)", off, 1<<20+600<<10)
	}
	// A stale offset is refused.
	if p := c.patch(upB, 1<<20, data[1<<20:2<<20]); p.Code != http.StatusConflict {
		t.Errorf("PATCH at a stale offset: %s", p)
	}
	waitServed(t, served, http.MethodPatch)
	p = c.patch(upB, off, data[off:])
	waitServed(t, served, http.MethodPatch)
	if p.Code != http.StatusNoContent || tusOffset(t, p) != len(data) {
		t.Fatalf("last PATCH: %s", p)
	}
	saved, err := url.PathUnescape(p.Header.Get("Sesame-Saved-As"))
	if err != nil || saved != "notes (1).txt" {
		t.Errorf("saved as %q (%v), want notes (1).txt beside the notes.txt already there", saved, err)
	}

	// The file is there, with exactly the bytes sent, listed for the visit.
	stored, err := e.st.ObjectByPath(context.Background(), e.st.DefaultBucket(), "/drop/notes (1).txt")
	if err != nil {
		t.Fatalf("no notes (1).txt in /drop (%v): %v", err, e.childNames(drop.ID))
	}
	if stored.Size != int64(len(data)) || stored.SHA256 != hexSHA256(data) {
		t.Errorf("stored %d bytes with sha256 %s, want %d bytes with %s", stored.Size, stored.SHA256, len(data), hexSHA256(data))
	}
	if got := readBlob(t, e, stored.BlobKey); hexSHA256(got) != hexSHA256(data) {
		t.Errorf("blob sha256 %s, want %s", hexSHA256(got), hexSHA256(data))
	}
	if page := v.Get(base + "/d/" + drop.ID); !strings.Contains(page.Text(), "notes (1).txt") {
		t.Errorf("the visit does not list its upload: %s", page)
	}
	// A client that missed the last answer learns the upload is complete.
	p = c.head(upA)
	if p.Code != http.StatusOK || tusOffset(t, p) != len(data) || p.Header.Get("Sesame-Saved-As") != url.PathEscape("notes (1).txt") {
		t.Errorf("HEAD after the end: %s", p)
	}
	var uploads int
	for _, ev := range e.linkAudit(l.ID) {
		if ev.Action == "upload" && ev.Outcome == "success" {
			uploads++
		}
	}
	if uploads != 1 {
		t.Errorf("%d successful upload events, want 1", uploads)
	}

	t.Run("OtherSessionsAndLinks", func(t *testing.T) {
		w := e.visitor()
		w.signIn(l, goodPassword)
		other := &tusClient{t: t, v: w, csrf: w.csrf(base + "/d/" + drop.ID)}
		p := c.create(endpointA, 10, tusMeta("filename", "mine.txt", "folder", drop.ID))
		mine := e.srv.URL + p.Header.Get("Location")
		for name, p := range map[string]*portalPage{
			"HEAD":   other.head(mine),
			"PATCH":  other.patch(mine, 0, []byte("0123456789")),
			"DELETE": other.do(http.MethodDelete, mine, nil),
		} {
			if p.Code != http.StatusNotFound {
				t.Errorf("%s of another session's upload: %s", name, p)
			}
		}
		l2 := e.createLinks(map[string]any{"targets": []string{drop.ID}, "link_type": "upload", "authenticators": []any{pw(goodPassword)}})[0]
		v.signIn(l2, goodPassword)
		c2 := &tusClient{t: t, v: v, csrf: v.csrf(e.base(l2) + "/d/" + drop.ID)}
		if p := c2.head(e.srv.URL + e.base(l2) + strings.TrimPrefix(p.Header.Get("Location"), base)); p.Code != http.StatusNotFound {
			t.Errorf("HEAD through another link: %s", p)
		}
		if p := c.head(mine); p.Code != http.StatusOK || tusOffset(t, p) != 0 {
			t.Errorf("the owner's HEAD: %s", p)
		}
	})

	t.Run("CSRF", func(t *testing.T) {
		bad := &tusClient{t: t, v: v, csrf: "forged"}
		if p := bad.create(endpointA, 1, tusMeta("filename", "x.txt", "folder", drop.ID)); p.Code != http.StatusForbidden {
			t.Errorf("create with a forged token: %s", p)
		}
		none := &tusClient{t: t, v: v}
		if p := none.create(endpointA, 1, tusMeta("filename", "x.txt", "folder", drop.ID)); p.Code != http.StatusForbidden {
			t.Errorf("create without a token: %s", p)
		}
		anon := &tusClient{t: t, v: e.visitor()}
		if p := anon.create(endpointA, 1, tusMeta("filename", "x.txt", "folder", drop.ID)); p.Code != http.StatusForbidden {
			t.Errorf("create without a session: %s", p)
		}
	})

	t.Run("NamesAndFolders", func(t *testing.T) {
		p := c.create(endpointA, 3, tusMeta("filename", "a<b>.txt", "folder", drop.ID))
		u := e.srv.URL + p.Header.Get("Location")
		if p := c.patch(u, 0, []byte("abc")); p.Code != http.StatusNoContent || p.Header.Get("Sesame-Saved-As") != url.PathEscape("a_b_.txt") {
			t.Errorf("a name that needs cleaning: %s", p)
		}
		outside := e.mkdir("/elsewhere")
		tusMessage(t, c.create(endpointA, 3, tusMeta("filename", "x.txt", "folder", outside.ID)), http.StatusNotFound)
		tusMessage(t, c.create(endpointA, 3, tusMeta("filename", "x.txt")), http.StatusNotFound)
		if p := c.do(http.MethodPost, endpointA, nil, "Upload-Defer-Length", "1", "Upload-Metadata", tusMeta("filename", "x", "folder", drop.ID)); p.Code != http.StatusNotImplemented {
			t.Errorf("a deferred length (the extension is not offered): %s", p)
		}
		// Editor links take resumable uploads too.
		ed := e.mkdir("/shared")
		el := e.createLinks(map[string]any{"targets": []string{ed.ID}, "link_type": "editor", "authenticators": []any{pw(goodPassword)}})[0]
		v.signIn(el, goodPassword)
		ce := &tusClient{t: t, v: v, csrf: v.csrf(e.base(el) + "/d/" + ed.ID)}
		p = ce.create(e.srv.URL+e.base(el)+"/tus", 4, tusMeta("filename", "draft.txt", "folder", ed.ID))
		if p := ce.patch(e.srv.URL+p.Header.Get("Location"), 0, []byte("abcd")); p.Code != http.StatusNoContent || p.Header.Get("Sesame-Saved-As") != "draft.txt" {
			t.Errorf("an upload through an editor link: %s", p)
		}
		if got := e.childNames(ed.ID); len(got) != 1 || got[0] != "draft.txt" {
			t.Errorf("the editor link's folder holds %v", got)
		}
		// An empty file is complete at once.
		p = c.create(endpointA, 0, tusMeta("filename", "empty.txt", "folder", drop.ID))
		if p.Code != http.StatusCreated || p.Header.Get("Sesame-Saved-As") != "empty.txt" {
			t.Errorf("an empty file: %s", p)
		}
	})
}

// waitServed waits until the replica has answered a request of method.
func waitServed(t *testing.T, served <-chan string, method string) {
	t.Helper()
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	for {
		select {
		case m := <-served:
			if m == method {
				return
			}
		case <-timer.C:
			t.Fatalf("the replica answered no %s within 10s", method)
		}
	}
}

func readBlob(t *testing.T, e *portalEnv, key string) []byte {
	t.Helper()
	b, err := e.st.OpenBlob(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(b); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestPortal_TusCaps: a resumable upload reserves its whole length at
// creation, so the caps refuse it there with 413, and a cancelled upload
// gives its reservation back.
func TestPortal_TusCaps(t *testing.T) {
	t.Parallel()
	setup := func(t *testing.T, opts ...envOption) (*portalEnv, *tusClient, string, string) {
		e := newPortalEnv(t, append([]envOption{portalCheapPasswords}, opts...)...)
		drop := e.mkdir("/drop")
		l := e.createLinks(map[string]any{"targets": []string{drop.ID}, "link_type": "upload", "authenticators": []any{pw(goodPassword)}})[0]
		v := e.visitor()
		v.signIn(l, goodPassword)
		return e, &tusClient{t: t, v: v, csrf: v.csrf(e.base(l) + "/d/" + drop.ID)}, e.srv.URL + e.base(l) + "/tus", drop.ID
	}
	t.Run("PerFile", func(t *testing.T) {
		_, c, endpoint, drop := setup(t, func(c *gateway.Config) { c.Objects.Policy.MaxFileSize = 1000 })
		if msg := tusMessage(t, c.create(endpoint, 1001, tusMeta("filename", "big.bin", "folder", drop)), http.StatusRequestEntityTooLarge); !strings.Contains(msg, "big.bin") {
			t.Errorf("message %q does not name the file", msg)
		}
		if p := c.create(endpoint, 1000, tusMeta("filename", "ok.bin", "folder", drop)); p.Code != http.StatusCreated {
			t.Errorf("a file at the limit: %s", p)
		}
	})
	t.Run("PerLinkFiles", func(t *testing.T) {
		e, c, endpoint, drop := setup(t, func(c *gateway.Config) { c.Portal.Service.Limits.MaxLinkFiles = 2 })
		first := c.create(endpoint, 5, tusMeta("filename", "1.txt", "folder", drop))
		if first.Code != http.StatusCreated || c.create(endpoint, 5, tusMeta("filename", "2.txt", "folder", drop)).Code != http.StatusCreated {
			t.Fatal("the first two uploads were refused")
		}
		// Two unfinished uploads hold both slots.
		tusMessage(t, c.create(endpoint, 5, tusMeta("filename", "3.txt", "folder", drop)), http.StatusRequestEntityTooLarge)
		// Cancelling one gives its slot back.
		up := e.srv.URL + first.Header.Get("Location")
		if p := c.do(http.MethodDelete, up, nil); p.Code != http.StatusNoContent {
			t.Fatalf("DELETE: %s", p)
		}
		if p := c.head(up); p.Code != http.StatusNotFound {
			t.Errorf("HEAD after DELETE: %s", p)
		}
		if p := c.create(endpoint, 5, tusMeta("filename", "3.txt", "folder", drop)); p.Code != http.StatusCreated {
			t.Errorf("after a cancel: %s", p)
		}
	})
	t.Run("PerLinkBytes", func(t *testing.T) {
		e, c, endpoint, drop := setup(t, func(c *gateway.Config) { c.Portal.Service.Limits.MaxLinkBytes = 100 })
		p := c.create(endpoint, 60, tusMeta("filename", "60.bin", "folder", drop))
		if p.Code != http.StatusCreated {
			t.Fatalf("create: %s", p)
		}
		// The 60 bytes are reserved before any arrives.
		tusMessage(t, c.create(endpoint, 41, tusMeta("filename", "41.bin", "folder", drop)), http.StatusRequestEntityTooLarge)
		if p := c.patch(e.srv.URL+p.Header.Get("Location"), 0, make([]byte, 60)); p.Code != http.StatusNoContent {
			t.Fatalf("PATCH: %s", p)
		}
		if p := c.create(endpoint, 40, tusMeta("filename", "40.bin", "folder", drop)); p.Code != http.StatusCreated {
			t.Errorf("what is left: %s", p)
		}
		tusMessage(t, c.create(endpoint, 1, tusMeta("filename", "1.bin", "folder", drop)), http.StatusRequestEntityTooLarge)
	})
}
