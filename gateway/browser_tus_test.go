package gateway_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/internal/testrig"
)

// cutProxy forwards TCP connections to a server and, once, closes the
// connection that carries the limit-th byte from the browser: a network
// that drops in the middle of an upload.
type cutProxy struct {
	ln     net.Listener
	target string
	limit  int64
	sent   atomic.Int64 // bytes from the browser, over every connection
	cut    atomic.Bool

	mu    sync.Mutex // guards conns
	conns []net.Conn
}

func newCutProxy(t *testing.T, target string, limit int64) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, limit: limit}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, c := range p.conns {
			c.Close()
		}
	})
	return p
}

func (p *cutProxy) URL() string { return "http://" + p.ln.Addr().String() }

func (p *cutProxy) track(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conns = append(p.conns, c)
}

func (p *cutProxy) serve(client net.Conn) {
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	p.track(client)
	p.track(server)
	go func() {
		_, _ = io.Copy(client, server) // ends when either side closes
		client.Close()
	}()
	buf := make([]byte, 64<<10)
	for {
		n, err := client.Read(buf)
		if n > 0 {
			if p.sent.Add(int64(n)) >= p.limit && p.cut.CompareAndSwap(false, true) {
				// Drop both sides mid-request, the bytes of this read
				// undelivered.
				client.Close()
				server.Close()
				return
			}
			if _, werr := server.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	server.Close()
}

// tusTraffic counts what the server received of resumable uploads.
type tusTraffic struct {
	heads      atomic.Int64
	creates    atomic.Int64
	patchBytes atomic.Int64
}

func (tt *tusTraffic) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/tus") {
			switch r.Method {
			case http.MethodHead:
				tt.heads.Add(1)
			case http.MethodPost:
				tt.creates.Add(1)
			case http.MethodPatch:
				r.Body = &countingBody{ReadCloser: r.Body, n: &tt.patchBytes}
			}
		}
		h.ServeHTTP(w, r)
	})
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// forgiveCut drops the failed loads the cut connection caused from what
// the tab reports: network errors, without a status, and a 409 for a
// request the browser sent again at an offset the server had passed (the
// client then asks for the offset, with HEAD, and goes on from there).
func (tb *tab) forgiveCut(urlPrefix string) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	kept := tb.failed[:0]
	for _, f := range tb.failed {
		if strings.HasPrefix(f.url, urlPrefix) && (!strings.Contains(f.text, "status of") || strings.Contains(f.text, "status of 409 ")) {
			tb.t.Logf("expected (the cut): %s", f.text)
			continue
		}
		kept = append(kept, f)
	}
	tb.failed = kept
}

// queueRow is one row of the upload queue as the page shows it.
type queueRow struct {
	Class string `json:"class"`
	Name  string `json:"name"`
	Size  string `json:"size"`
	State string `json:"state"`
	Retry bool   `json:"retry"`
}

const readQueue = `[...document.querySelectorAll("#progress li")].map(li => ({class: li.className,
	name: li.querySelector(".name").textContent, size: li.querySelector(".size").textContent,
	state: li.querySelector(".state").textContent, retry: !li.querySelector(".retry").hidden}))`

// TestBrowser_ResumableUpload: Chromium uploads three files, one of 50
// MiB, through a proxy that cuts the connection halfway; the upload
// resumes where the server got to and stores the right bytes. The queue
// shows every file from the start, says what renamed files were saved as,
// keeps a failure on screen with Retry, and ends by saying the visitor
// may close the page.
func TestBrowser_ResumableUpload(t *testing.T) {
	c := startChrome(t)
	logs := &testrig.Buffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	traffic := &tusTraffic{}
	env := testrig.NewEnv(t, testrig.WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))), testrig.WithBrand("Sesame", "#2563eb"), testrig.WithMiddleware(traffic.wrap))
	const big = 50 << 20
	proxy := newCutProxy(t, strings.TrimPrefix(env.URL, "http://"), big/2)
	b := &browserStack{t: t, srv: env.Server, st: env.Store, links: env.Links, logs: logs}
	inbox := b.folder("", "Inbox")
	b.file(inbox.ID, "notes.txt", []byte("already here\n"))
	l, _ := b.link(sesame.LinkUpload, "Send me your files", []string{inbox.ID}, password(browserPassword))
	base := proxy.URL() + "/s/" + l.Token

	dir := t.TempDir()
	files := map[string][]byte{"big.bin": randomBytes(t, big), "notes.txt": []byte("my notes\n"), "report <draft>.txt": []byte("draft\n")}
	var paths []string
	for _, name := range []string{"big.bin", "notes.txt", "report <draft>.txt"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, files[name], 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}

	tb := c.newTab(t)
	signInWithPassword(tb, base)
	tb.do("upload form", chromedp.WaitVisible(chromedp.CSS("#upload-form")))
	tb.do("choose files", chromedp.SetUploadFiles(chromedp.CSS("#files"), paths))
	tb.do("upload", chromedp.Click(chromedp.CSS("#upload-button")))
	// Every file has its row from the start, queued ones too.
	first := get(tb, "queue", chromedp.Poll[[]queueRow](`(() => { const r = `+readQueue+`; return r.length ? r : null; })()`,
		chromedp.WithPollingInterval(10*time.Millisecond)))
	var names []string
	for _, r := range first {
		names = append(names, r.Name+" ("+r.Size+")")
	}
	if diff := cmp.Diff([]string{"big.bin (50.0 MiB)", "notes.txt (9 B)", "report <draft>.txt (6 B)"}, names); diff != "" {
		t.Errorf("queue rows at the start (-want +got):\n%s", diff)
	}
	tb.screenshot("10-resumable-queue")

	wait := func(what string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(tb.ctx, 2*time.Minute)
		defer cancel()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("upload-form").getAttribute("data-state") === "idle" || null`,
			chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
			tb.fail(what, err)
		}
	}
	wait("wait for the uploads")
	tb.forgiveCut(base + "/tus/")
	tb.screenshot("11-resumable-sent")
	rows := get(tb, "queue", chromedp.Evaluate[[]queueRow](readQueue))
	want := []queueRow{
		{Class: "done", Name: "big.bin", Size: "50.0 MiB", State: "Sent"},
		{Class: "done", Name: "notes.txt", Size: "9 B", State: "Sent, saved as “notes (1).txt”"},
		{Class: "done", Name: "report <draft>.txt", Size: "6 B", State: "Sent, saved as “report _draft_.txt”"},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("queue rows when done (-want +got):\n%s", diff)
	}
	if got := tb.text("#upload-summary"); got != "3 files sent — you can close this page." {
		t.Errorf("summary: got %q", got)
	}

	// The connection was cut halfway, and the upload resumed rather than
	// starting again.
	if !proxy.cut.Load() {
		t.Fatal("the proxy never cut the connection")
	}
	if n := traffic.heads.Load(); n < 1 {
		t.Errorf("the server saw %d HEAD requests; a resumed upload asks where it got to", n)
	}
	if n := traffic.patchBytes.Load(); n >= 2*big {
		t.Errorf("the server received %d PATCH bytes, want fewer than %d (the upload did not start again)", n, 2*big)
	}
	t.Logf("PATCH bytes received: %d for %d bytes of files; %d HEAD, %d creations", traffic.patchBytes.Load(), big+15,
		traffic.heads.Load(), traffic.creates.Load())
	kids := b.children(inbox.ID)
	for name, saved := range map[string]string{"big.bin": "big.bin", "notes.txt": "notes (1).txt", "report <draft>.txt": "report _draft_.txt"} {
		o := kids[saved]
		if o == nil {
			t.Errorf("the store has no %s in Inbox; it has %v", saved, keys(kids))
			continue
		}
		if want := hexSHA256(files[name]); o.SHA256 != want || hexSHA256(b.blob(o)) != want {
			t.Errorf("%s: stored sha256 %s, blob %s, want %s", saved, o.SHA256, hexSHA256(b.blob(o)), want)
		}
	}

	// A file over the per-file limit fails at once; its row stays, with
	// the server's reason and Retry.
	over := filepath.Join(dir, "too big.bin")
	if err := os.WriteFile(over, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(over, 65<<20); err != nil {
		t.Fatal(err)
	}
	tb.allow(http.StatusRequestEntityTooLarge, base+"/tus")
	tb.do("choose the big file", chromedp.SetUploadFiles(chromedp.CSS("#files"), []string{over}))
	tb.do("upload it", chromedp.Click(chromedp.CSS("#upload-button")))
	wait("wait for the failure")
	failed := get(tb, "queue", chromedp.Evaluate[[]queueRow](readQueue))
	if len(failed) != 4 {
		t.Fatalf("queue: %+v, want the three sent rows and the failed one", failed)
	}
	if r := failed[3]; r.Class != "failed" || !r.Retry || !strings.Contains(r.State, "too big.bin is larger than this link allows (64.0 MiB)") {
		t.Errorf("the failed row: %+v", r)
	}
	if got := tb.text("#upload-summary"); got != "3 files sent. 1 file could not be sent. Use Retry to try it again." {
		t.Errorf("summary with a failure: got %q", got)
	}
	tb.screenshot("12-resumable-failed")
	creates := traffic.creates.Load()
	tb.do("retry", chromedp.Click(chromedp.CSS("#progress li.failed .retry")))
	wait("wait for the retry")
	if n := traffic.creates.Load(); n != creates+1 {
		t.Errorf("Retry sent %d requests to begin the upload, want 1", n-creates)
	}
	if r := get(tb, "queue", chromedp.Evaluate[[]queueRow](readQueue))[3]; r.Class != "failed" || !r.Retry {
		t.Errorf("after Retry the row is %+v, want it failed again with Retry", r)
	}

	tb.do("phone size", chromedp.EmulateViewport(390, 844))
	tb.screenshot("13-resumable-failed-phone")

	// Nothing reloads by itself; the visitor asks to see the new files.
	tb.clickAndLoad("show the new files", "#show-new")
	tb.do("file list", chromedp.WaitVisible(chromedp.CSS("table.files")))
	listed := get(tb, "file names", chromedp.Evaluate[[]string](`[...document.querySelectorAll("table.files td.name")].map(td => td.textContent.trim())`))
	for _, n := range []string{"big.bin", "notes (1).txt", "report _draft_.txt"} {
		if !strings.Contains(strings.Join(listed, "\n"), n) {
			t.Errorf("the listing %q lacks %s", listed, n)
		}
	}
}
