package gateway_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/sesame-share/sesame"
)

// viewport is a screen the recipient pages are tried at.
type viewport struct {
	name          string
	width, height int64
	scale         float64
	mobile        bool
}

var viewports = []viewport{{"desktop", 1280, 800, 1, false}, {"phone", 390, 844, 3, true}}

func (vp viewport) emulate(tb *tab) {
	tb.t.Helper()
	opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(vp.scale)}
	if vp.mobile {
		opts = append(opts, chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	tb.do("viewport "+vp.name, chromedp.EmulateViewport(vp.width, vp.height, opts...))
}

// mediaRequests records the requests a tab makes for one URL: the Range
// header each carried and the status each got.
type mediaRequests struct {
	url string

	mu     sync.Mutex        // guards ranges, status
	ranges map[string]string // request id → Range header ("" when none)
	status map[string]int64  // request id → response status
}

func watchRequests(tb *tab, url string) *mediaRequests {
	tb.t.Helper()
	m := &mediaRequests{url: url, ranges: map[string]string{}, status: map[string]int64{}}
	header := func(h network.Headers) (string, bool) {
		for k, v := range h {
			if strings.EqualFold(k, "Range") {
				return fmt.Sprint(v), true
			}
		}
		return "", false
	}
	err := chromedp.Listen(tb.ctx, func(ev any) {
		m.mu.Lock()
		defer m.mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			if strings.HasSuffix(ev.Request.URL, url) {
				r, _ := header(ev.Request.Headers) // no Range: recorded as ""
				m.ranges[string(ev.RequestID)] = r
			}
		case *network.EventRequestWillBeSentExtraInfo:
			// The headers as sent, when the network stack added them.
			if _, ok := m.ranges[string(ev.RequestID)]; ok {
				if r, found := header(ev.Headers); found {
					m.ranges[string(ev.RequestID)] = r
				}
			}
		case *network.EventResponseReceived:
			if strings.HasSuffix(ev.Response.URL, url) {
				m.status[string(ev.RequestID)] = ev.Response.Status
			}
		}
	})
	if err != nil {
		tb.t.Fatal(err)
	}
	return m
}

func (m *mediaRequests) seen() (ranges []string, statuses []int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, r := range m.ranges {
		ranges = append(ranges, r)
		if s, ok := m.status[id]; ok {
			statuses = append(statuses, s)
		}
	}
	return ranges, statuses
}

// pdfState is what the test reads off the PDF viewer's canvas.
type pdfState struct {
	Page, Pages, Status string
	Width, Height       int     // the canvas's pixels
	CSSWidth, Viewport  float64 // its width on screen, and the window's
	Ink, Glyphs         int     // pixels that are not white; dark ones where the label is
	Band                [3]int  // the colour in the middle of the page's band
}

// readPDF waits until the viewer has drawn page want, then reads the canvas.
const readPDF = `(() => {
	const box = document.getElementById("pdf");
	if (!box || box.dataset.state !== "drawn" || box.dataset.page !== "%d") { return null; }
	const c = document.getElementById("pdf-canvas");
	const g = c.getContext("2d");
	const d = g.getImageData(0, 0, c.width, c.height).data;
	let ink = 0;
	for (let i = 0; i < d.length; i += 4) {
		if (d[i + 3] > 0 && (d[i] < 235 || d[i + 1] < 235 || d[i + 2] < 235)) { ink++; }
	}
	// The label: 48 pt Helvetica from x 72 pt, baseline 480 pt up a 612×792 pt page.
	const t = g.getImageData(Math.floor(c.width * 0.11), Math.floor(c.height * 0.34), Math.floor(c.width * 0.4), Math.floor(c.height * 0.06)).data;
	let glyphs = 0;
	for (let i = 0; i < t.length; i += 4) {
		if (t[i + 3] > 0 && t[i] < 90 && t[i + 1] < 90 && t[i + 2] < 90) { glyphs++; }
	}
	const b = g.getImageData(Math.floor(c.width / 2), Math.floor(c.height * 0.15), 1, 1).data;
	return {page: box.dataset.page, pages: box.dataset.pages, status: document.getElementById("pdf-status").textContent,
		width: c.width, height: c.height, cssWidth: c.getBoundingClientRect().width, viewport: window.innerWidth,
		ink: ink, glyphs: glyphs, band: [b[0], b[1], b[2]]};
})()`

// noSideScroll fails the test when the page is wider than the window (a
// phone would scroll sideways).
func noSideScroll(tb *tab, what string) {
	tb.t.Helper()
	type widths struct{ Scroll, Inner int }
	w := get(tb, "page width", chromedp.Evaluate[widths](`({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})`))
	if w.Scroll > w.Inner {
		tb.t.Errorf("%s: the page is %d px wide in a %d px window", what, w.Scroll, w.Inner)
	}
}

// TestBrowserViewer opens a PDF and a video in the viewer, at desktop and
// phone sizes: PDF.js draws the first page and Next draws the second; the
// video loads its metadata over Range requests; the arrow keys move
// between the folder's files and Escape closes.
func TestBrowserViewer(t *testing.T) {
	c := startChrome(t)
	b := newBrowserStack(t)
	t.Logf("screenshots go to %s", c.shots)
	folder := b.folder("", "Board pack")
	doc := b.file(folder.ID, "Minutes of the March meeting.pdf", twoPagePDF())
	notes := b.file(folder.ID, "notes.txt", []byte("Agenda\n\n1. Figures\n2. Hiring\n3. <b>Anything</b> else\n"))
	clip := b.file(folder.ID, "walkthrough.webm", testClip(t))
	scan := b.file("", "scan.pdf", jpxPDF(t))
	_, url := b.link(sesame.LinkDownload, "Board pack", []string{folder.ID, scan.ID}, password(browserPassword))
	folderURL := url + "/d/" + folder.ID

	// The session cookie serves every tab of the browser.
	signInWithPassword(c.newTab(t), url)

	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			tb := c.newTab(t)
			vp.emulate(tb)
			tb.do("open folder", chromedp.Navigate(folderURL), chromedp.WaitVisible(chromedp.CSS("table.files")))

			// The PDF: PDF.js draws page 1 fitted to the width.
			tb.clickAndLoad("view the PDF", `a[href$="/view/`+doc.ID+`"]`)
			if got := tb.text("h1"); got != doc.Name {
				t.Errorf("viewer heading: got %q, want %q", got, doc.Name)
			}
			p1 := get(tb, "PDF page 1", chromedp.Poll[pdfState](fmt.Sprintf(readPDF, 1)))
			t.Logf("page 1: %+v", p1)
			if p1.Pages != "2" || p1.Status != "Page 1 of 2" {
				t.Errorf("PDF viewer: pages %q, status %q; want 2 and Page 1 of 2", p1.Pages, p1.Status)
			}
			if p1.Ink < p1.Width*p1.Height/20 || p1.Band[2] < 180 || p1.Band[0] > 100 {
				t.Errorf("page 1 is not drawn: %d inked pixels of %d×%d, band colour %v (want blue)", p1.Ink, p1.Width, p1.Height, p1.Band)
			}
			if p1.Glyphs == 0 {
				t.Errorf("page 1 has no dark pixels where its label is: the font was not drawn")
			}
			if p1.CSSWidth > p1.Viewport || p1.CSSWidth < p1.Viewport/2 {
				t.Errorf("the page is %.0f px wide on screen in a %.0f px window: not fitted to the width", p1.CSSWidth, p1.Viewport)
			}
			noSideScroll(tb, "PDF viewer")
			tb.screenshot("viewer-" + vp.name + "-pdf-page1")

			tb.do("next page", chromedp.Click(chromedp.CSS("#pdf-next")))
			p2 := get(tb, "PDF page 2", chromedp.Poll[pdfState](fmt.Sprintf(readPDF, 2)))
			if p2.Status != "Page 2 of 2" || p2.Band[0] < 180 || p2.Band[2] > 100 {
				t.Errorf("after Next: status %q, band colour %v; want Page 2 of 2 and red", p2.Status, p2.Band)
			}
			if !get(tb, "next disabled", chromedp.Evaluate[bool](`document.getElementById("pdf-next").disabled`)) {
				t.Errorf("Next page is still enabled on the last page")
			}
			tb.screenshot("viewer-" + vp.name + "-pdf-page2")

			// → moves to the next file in the folder: the text.
			get(tb, "→ to the next file", chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.KeyEvent(kb.ArrowRight)))
			if got := tb.text("h1"); got != notes.Name {
				t.Fatalf("after →: heading %q, want %q", got, notes.Name)
			}
			if got := tb.text("pre.view-text"); !strings.Contains(got, "3. <b>Anything</b> else") {
				t.Errorf("text viewer shows %q", got)
			}
			noSideScroll(tb, "text viewer")
			tb.screenshot("viewer-" + vp.name + "-text")

			// The video: metadata over Range requests.
			src := "/v/" + clip.ID
			reqs := watchRequests(tb, src)
			get(tb, "→ to the video", chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.KeyEvent(kb.ArrowRight)))
			if got := tb.text("h1"); got != clip.Name {
				t.Fatalf("after →: heading %q, want %q", got, clip.Name)
			}
			type videoState struct {
				Ready         int
				Duration      float64
				Width, Height int
			}
			vs := get(tb, "video metadata", chromedp.Poll[videoState](`(() => {
				const v = document.querySelector(".view-stage video");
				return v && v.readyState >= 1 ? {ready: v.readyState, duration: v.duration, width: v.videoWidth, height: v.videoHeight} : null;
			})()`))
			t.Logf("video: %+v", vs)
			if vs.Width != 160 || vs.Height != 90 || vs.Duration < 1.9 || vs.Duration > 2.1 {
				t.Errorf("video metadata %+v: want 160×90, 2 s", vs)
			}
			// Seek: the player asks for more of the file as it needs it.
			seeked := get(tb, "seek", chromedp.Evaluate[float64](`new Promise((resolve) => {
				const v = document.querySelector(".view-stage video");
				v.addEventListener("seeked", () => resolve(v.currentTime), {once: true});
				v.currentTime = 1.5;
			})`, chromedp.EvalAwaitPromise))
			if seeked < 1.4 {
				t.Errorf("seeked to %.2f s, want 1.5", seeked)
			}
			ranges, statuses := reqs.seen()
			t.Logf("video requests: ranges %q, statuses %v", ranges, statuses)
			if len(ranges) == 0 {
				t.Errorf("the player made no request for %s", src)
			}
			for _, r := range ranges {
				if !strings.HasPrefix(r, "bytes=") {
					t.Errorf("a request for the video had Range %q, want bytes=…", r)
				}
			}
			for _, s := range statuses {
				if s != http.StatusPartialContent {
					t.Errorf("a request for the video was answered %d, want 206", s)
				}
			}
			if get(tb, "error shown", chromedp.Evaluate[bool](`!document.getElementById("view-error").hidden`)) {
				t.Errorf("the viewer says the video cannot be shown")
			}
			noSideScroll(tb, "video viewer")
			tb.screenshot("viewer-" + vp.name + "-video")

			// The last file has no Next; Escape closes, back to the folder.
			if get(tb, "next link", chromedp.Evaluate[bool](`!!document.getElementById("view-next")`)) {
				t.Errorf("the last file of the folder has a Next link")
			}
			get(tb, "Escape closes", chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.KeyEvent(kb.Escape)))
			if loc := get(tb, "location", chromedp.Location()); loc != folderURL {
				t.Errorf("Escape went to %s, want %s", loc, folderURL)
			}
		})
	}

	// A JPEG 2000 image is decoded by PDF.js's WebAssembly decoder in its
	// worker: that too works under the viewer's CSP.
	t.Run("JPEG2000", func(t *testing.T) {
		tb := c.newTab(t)
		viewports[0].emulate(tb)
		tb.do("open the scan", chromedp.Navigate(url+"/view/"+scan.ID))
		colours := get(tb, "scan drawn", chromedp.Poll[int](`(() => {
			const box = document.getElementById("pdf");
			if (!box || box.dataset.state !== "drawn") { return null; }
			const c = document.getElementById("pdf-canvas");
			const g = c.getContext("2d");
			const seen = new Set();
			for (let i = 1; i < 8; i++) {
				for (let j = 1; j < 8; j++) {
					const d = g.getImageData(Math.floor(c.width * i / 8), Math.floor(c.height * j / 8), 1, 1).data;
					seen.add((d[0] >> 5) + "," + (d[1] >> 5) + "," + (d[2] >> 5));
				}
			}
			return seen.size;
		})()`))
		if colours < 5 {
			t.Errorf("the JPEG 2000 page shows %d colours, want the test pattern's bars", colours)
		}
		tb.screenshot("viewer-desktop-pdf-jpeg2000")
	})
}
