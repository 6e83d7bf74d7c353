package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// actionTimeout bounds every browser step, so that a hang fails the test
// instead of blocking CI.
const actionTimeout = 20 * time.Second

// chromiumPath finds Debian's chromium. Without it the browser tests skip,
// unless CI is set: there a missing browser is a broken runner.
func chromiumPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but chromium is not installed (scripts/test.sh installs it with apt-get): %v", err)
		}
		t.Skip("chromium not found; install Debian's chromium (scripts/test.sh does) to run the browser tests")
	}
	return p
}

// chrome is one headless Chromium shared by the subtests of a test.
type chrome struct {
	ctx       context.Context // the browser's chromedp context
	downloads string          // where downloads land
	shots     string          // where screenshots go
}

// startChrome starts Chromium headless with a fresh profile and a download
// directory. It stops the browser when t ends.
func startChrome(t *testing.T) *chrome {
	t.Helper()
	path := chromiumPath(t)
	c := &chrome{downloads: t.TempDir(), shots: artifactDir(t)}
	profile := t.TempDir() // removed after the browser exits (cleanups run LIFO)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		// Close the browser gracefully, then make sure the process is gone.
		cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
		defer ccancel()
		_ = chromedp.Cancel(cctx) // an error here means the browser is already gone
		cancel()
		cancelAlloc()
	})
	// The first Do starts the browser and binds it to ctx, so it cannot run
	// under a timeout context; bound it from outside instead.
	start(t, ctx, cancel, "start chromium")
	c.ctx = ctx

	cctx, ccancel := context.WithTimeout(ctx, actionTimeout)
	defer ccancel()
	if _, err := chromedp.CallBrowser(cctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: c.downloads, EventsEnabled: new(true)}); err != nil {
		t.Fatalf("set download behavior: %v", err)
	}
	return c
}

// start runs the first Do on ctx (which starts the browser or opens the
// tab) and gives up after 30 s.
func start(t *testing.T, ctx context.Context, cancel context.CancelFunc, what string) {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- chromedp.Do(ctx) }()
	timer := time.NewTimer(30 * time.Second)
	defer timer.Stop()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	case <-timer.C:
		cancel()
		t.Fatalf("%s: no answer within 30s", what)
	}
}

// artifactDir is where screenshots go: $SESAME_ARTIFACTS when set, else the
// test's artifact directory (kept with go test -artifacts, otherwise a
// temporary directory like t.TempDir).
func artifactDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("SESAME_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.ArtifactDir()
}

// tab is one browser tab. It records what the page reports: console
// errors, uncaught exceptions and browser log entries.
type tab struct {
	t   *testing.T
	c   *chrome
	ctx context.Context

	mu       sync.Mutex    // guards problems, failed, allowed
	problems []string      // console errors, exceptions, CSP violations: each fails the test
	failed   []failedLoad  // requests the browser logged as failed
	allowed  []allowedLoad // failures the test asked for (a wrong password answers 401)
}

// failedLoad is a request the browser logged as failed.
type failedLoad struct{ text, url string }

// allowedLoad is a failure a test expects: this status for this URL.
type allowedLoad struct {
	status int
	url    string
}

// allow marks a failed load as expected: the page answers status for url
// on purpose, and Chromium logs every 4xx as a console error.
func (tb *tab) allow(status int, url string) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.allowed = append(tb.allowed, allowedLoad{status, url})
}

// newTab opens a tab for one subtest. When the subtest ends, the tab's
// console must hold no errors and no CSP violations.
func (c *chrome) newTab(t *testing.T) *tab {
	t.Helper()
	tb := &tab{t: t, c: c}
	ctx, cancel := chromedp.NewContext(c.ctx, chromedp.WithListener(tb.listen))
	t.Cleanup(cancel)
	start(t, ctx, cancel, "open tab")
	tb.ctx = ctx
	t.Cleanup(tb.checkConsole)
	return tb
}

// listen runs in the tab's read loop: it only records.
func (tb *tab) listen(ev any) {
	var problem string
	var failed *failedLoad
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		var args []string
		for _, a := range ev.Args {
			if a.Description != "" {
				args = append(args, a.Description)
			} else {
				args = append(args, strings.Trim(string(a.Value), `"`))
			}
		}
		text := strings.Join(args, " ")
		switch {
		case ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert:
			problem = fmt.Sprintf("console.%s: %s", ev.Type, text)
		case mentionsCSP(text):
			problem = fmt.Sprintf("console.%s: %s", ev.Type, text)
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			text += " " + d.Exception.Description
		}
		problem = fmt.Sprintf("uncaught exception at %s:%d: %s", d.URL, d.LineNumber+1, text)
	case *cdplog.EventEntryAdded:
		e := ev.Entry
		line := fmt.Sprintf("log %s/%s: %s (%s)", e.Source, e.Level, e.Text, e.URL)
		switch {
		case mentionsCSP(e.Text) && (e.Level == cdplog.EntryLevelError || e.Level == cdplog.EntryLevelWarning):
			problem = line
		case e.Level != cdplog.EntryLevelError:
		case e.Source == cdplog.EntrySourceNetwork:
			failed = &failedLoad{text: line, url: e.URL} // checkConsole decides
		default:
			problem = line
		}
	}
	if problem == "" && failed == nil {
		return
	}
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if problem != "" {
		tb.problems = append(tb.problems, problem)
	}
	if failed != nil {
		tb.failed = append(tb.failed, *failed)
	}
}

func mentionsCSP(s string) bool {
	return strings.Contains(s, "Content Security Policy") || strings.Contains(s, "Content-Security-Policy") || strings.Contains(s, "Refused")
}

// checkConsole fails the test for every recorded problem, and for every
// failed request the test did not allow.
func (tb *tab) checkConsole() {
	tb.t.Helper()
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, p := range tb.problems {
		tb.t.Errorf("page reported: %s", p)
	}
	tb.problems = nil
	for _, f := range tb.failed {
		ok := false
		for _, a := range tb.allowed {
			ok = ok || (f.url == a.url && strings.Contains(f.text, fmt.Sprintf("status of %d ", a.status)))
		}
		if ok {
			tb.t.Logf("expected: %s", f.text)
		} else {
			tb.t.Errorf("page reported: %s", f.text)
		}
	}
	tb.failed = nil
}

// fail ends the test with the page's address and a screenshot.
func (tb *tab) fail(what string, err error) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	name := "FAILED-" + strings.NewReplacer("/", "-", " ", "-").Replace(tb.t.Name()) + ".png"
	if png, serr := chromedp.Run(ctx, chromedp.FullScreenshot(100)); serr == nil {
		_ = os.WriteFile(filepath.Join(tb.c.shots, name), png, 0o644) // best effort, the test fails anyway
	}
	tb.t.Fatalf("%s: %v\npage %s (screenshot %s):\n%s", what, err, loc, name, body)
}

// do runs steps within actionTimeout.
func (tb *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		tb.fail(what, err)
	}
}

// get runs one action that returns a value, within actionTimeout.
func get[T any](tb *tab, what string, a chromedp.Action[T]) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		tb.fail(what, err)
	}
	return v
}

// clickAndLoad clicks sel and waits for the page it leads to.
func (tb *tab) clickAndLoad(what, sel string) {
	tb.t.Helper()
	get(tb, what, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(sel))))
}

// text returns the visible text of the first element matching sel.
func (tb *tab) text(sel string) string {
	tb.t.Helper()
	return get(tb, "read "+sel, chromedp.Text(chromedp.CSS(sel)))
}

// screenshot saves a full-page PNG as name.png in the artifact directory.
func (tb *tab) screenshot(name string) {
	tb.t.Helper()
	png := get(tb, "screenshot "+name, chromedp.FullScreenshot(100))
	if !strings.HasPrefix(string(png), "\x89PNG") {
		tb.t.Fatalf("screenshot %s is not a PNG", name)
	}
	p := filepath.Join(tb.c.shots, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
	tb.t.Logf("screenshot %s", p)
}

// throttleUpload limits the tab's upload rate (bytes per second, -1: no
// limit), so that a local upload takes long enough to show its progress.
func (tb *tab) throttleUpload(bytesPerSecond float64) {
	tb.t.Helper()
	tb.do("throttle upload", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			MatchedNetworkConditions: []*network.Conditions{{UploadThroughput: bytesPerSecond, DownloadThroughput: -1}}})
		return err
	}))
}

// waitDownload polls the download directory until name is complete (no
// .crdownload beside it) and returns its bytes.
func (c *chrome) waitDownload(t *testing.T, name string) []byte {
	t.Helper()
	p := filepath.Join(c.downloads, name)
	deadline := time.NewTimer(actionTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if _, err := os.Stat(p + ".crdownload"); errors.Is(err, os.ErrNotExist) {
			if b, err := os.ReadFile(p); err == nil {
				return b
			}
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			entries, _ := os.ReadDir(c.downloads)
			var have []string
			for _, e := range entries {
				have = append(have, e.Name())
			}
			t.Fatalf("download %s did not complete within %s; the directory holds %q", name, actionTimeout, have)
		}
	}
}
