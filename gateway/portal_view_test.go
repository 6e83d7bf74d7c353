package gateway_test

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// testPDF writes a small valid PDF by hand: one page per pdfPage, each
// with a filled band in its colour (r, g, b in 0..1) across the top and
// its label in Helvetica below it, or else its JPEG 2000 image over the
// whole page, so a drawn page has pixels a test can read.
func testPDF(pages ...pdfPage) []byte {
	// Objects: 1 catalog, 2 page tree, then per page its page, contents
	// and image, then the font.
	next := 3
	type nums struct{ page, contents, image int }
	var n []nums
	for _, p := range pages {
		x := nums{page: next, contents: next + 1}
		next += 2
		if p.jpx != nil {
			x.image = next
			next++
		}
		n = append(n, x)
	}
	font := next
	var b bytes.Buffer
	offsets := make([]int, font+1)
	obj := func(num int, body string) {
		offsets[num] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", num, body)
	}
	b.WriteString("%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
	var kids []string
	for _, x := range n {
		kids = append(kids, fmt.Sprintf("%d 0 R", x.page))
	}
	obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	obj(2, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(pages)))
	for i, p := range pages {
		x := n[i]
		content := fmt.Sprintf("%.2f %.2f %.2f rg 36 600 540 150 re f\nBT /F1 48 Tf 0 0 0 rg 72 480 Td (%s) Tj ET\n", p.r, p.g, p.b, p.label)
		res := fmt.Sprintf("/Font << /F1 %d 0 R >>", font)
		if p.jpx != nil {
			content = "q 612 0 0 792 0 0 cm /Im1 Do Q\n"
			res = fmt.Sprintf("/XObject << /Im1 %d 0 R >>", x.image)
		}
		obj(x.page, fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << %s >> /Contents %d 0 R >>", res, x.contents))
		obj(x.contents, fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", len(content), content))
		if p.jpx != nil {
			obj(x.image, fmt.Sprintf("<< /Type /XObject /Subtype /Image /Width %d /Height %d /Filter /JPXDecode /Length %d >>\nstream\n%s\nendstream",
				p.jpxSize, p.jpxSize, len(p.jpx), p.jpx))
		}
	}
	obj(font, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets))
	for _, off := range offsets[1:] {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets), xref)
	return b.Bytes()
}

type pdfPage struct {
	label   string
	r, g, b float64
	jpx     []byte // a JPEG 2000 image of jpxSize × jpxSize pixels instead
	jpxSize int
}

// twoPagePDF is a blue first page and a red second one.
func twoPagePDF() []byte {
	return testPDF(pdfPage{label: "Page one", r: 0.15, g: 0.39, b: 0.92}, pdfPage{label: "Page two", r: 0.86, g: 0.15, b: 0.15})
}

// jpxPDF is one page covered by a JPEG 2000 image (testdata/viewer/pattern.jp2),
// which PDF.js decodes with WebAssembly in its worker.
func jpxPDF(t *testing.T) []byte {
	t.Helper()
	img, err := os.ReadFile(filepath.Join("testdata", "viewer", "pattern.jp2"))
	if err != nil {
		t.Fatal(err)
	}
	return testPDF(pdfPage{jpx: img, jpxSize: 32})
}

// wavBytes is a mono 8 kHz 16-bit WAV of n silent samples.
func wavBytes(n int) []byte {
	var b bytes.Buffer
	le := func(v uint32, size int) {
		for i := 0; i < size; i++ {
			b.WriteByte(byte(v >> (8 * i)))
		}
	}
	b.WriteString("RIFF")
	le(uint32(36+2*n), 4)
	b.WriteString("WAVEfmt ")
	le(16, 4)
	le(1, 2)     // PCM
	le(1, 2)     // mono
	le(8000, 4)  // samples a second
	le(16000, 4) // bytes a second
	le(2, 2)     // bytes a frame
	le(16, 2)    // bits a sample
	b.WriteString("data")
	le(uint32(2*n), 4)
	b.Write(make([]byte, 2*n))
	return b.Bytes()
}

// testClip is a 2-second 160×90 VP8 WebM (made with ffmpeg's test
// pattern; see testdata/viewer/README).
func testClip(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "viewer", "clip.webm"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The viewer page: the file's name, Download and Close, and Previous and
// Next among the viewable files of the folder, in the list's order.
func TestPortal_Viewer(t *testing.T) {
	t.Parallel()
	e := newPortalEnv(t, portalCheapPasswords)
	docs := e.mkdir("/vw/docs")
	text := "Hello <b>world</b> & \"friends\"\n<script>alert(1)</script>\n"
	alpha := e.upload("/vw/docs", "alpha.txt", []byte(text))
	beta := e.upload("/vw/docs", "Beta.png", pngBytes(t, 20, 10))
	doc := e.upload("/vw/docs", "contract.pdf", twoPagePDF())
	clip := e.upload("/vw/docs", "clip.webm", testClip(t))
	song := e.upload("/vw/docs", "chime.wav", wavBytes(800))
	blob := e.upload("/vw/docs", "data.bin", []byte{0, 1, 2, 3})
	svg := e.upload("/vw/docs", "pic.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`))
	htmlText := e.upload("/vw/docs", "page.html", []byte("just words"))
	sub := e.mkdir("/vw/docs/sub")
	top := e.upload("/vw", "top.txt", []byte("top"))
	outside := e.upload("/elsewhere", "secret.txt", []byte("no"))
	l := e.createLinks(map[string]any{"targets": []string{docs.ID, top.ID}, "authenticators": []any{pw(goodPassword)}})[0]
	base := e.base(l)
	v := e.visitor()
	v.signIn(l, goodPassword)

	type shown struct {
		Name, Download, Close, Prev, Next, Place string
	}
	read := func(p *portalPage) shown {
		t.Helper()
		if p.Code != http.StatusOK {
			t.Fatalf("viewer: %s", p)
		}
		s := shown{Name: p.TextOf("h1"), Download: p.First("#view-download").Attr("href"), Close: p.First("#view-close").Attr("href"),
			Prev: p.First("#view-prev").Attr("href"), Next: p.First("#view-next").Attr("href"), Place: p.TextOf(".view-pager .muted")}
		return s
	}
	view := func(id string) string { return base + "/view/" + id }

	t.Run("OrderAndEnds", func(t *testing.T) {
		// By name, ignoring case, as the list shows them; folders and
		// files the viewer cannot show are skipped.
		order := []string{alpha.ID, beta.ID, song.ID, clip.ID, doc.ID}
		names := map[string]string{alpha.ID: "alpha.txt", beta.ID: "Beta.png", song.ID: "chime.wav", clip.ID: "clip.webm", doc.ID: "contract.pdf"}
		for i, id := range order {
			want := shown{Name: names[id], Download: base + "/f/" + id, Close: base + "/d/" + docs.ID, Place: fmt.Sprintf("%d of %d", i+1, len(order))}
			if i > 0 {
				want.Prev = view(order[i-1])
			}
			if i+1 < len(order) {
				want.Next = view(order[i+1])
			}
			if diff := cmp.Diff(want, read(v.Get(view(id)))); diff != "" {
				t.Errorf("viewer of %s (-want +got):\n%s", names[id], diff)
			}
		}
	})
	t.Run("TopLevel", func(t *testing.T) {
		// A target file's siblings are the link's other targets, and Close
		// goes back to the top.
		want := shown{Name: "top.txt", Download: base + "/f/" + top.ID, Close: base, Place: "1 of 1"}
		if diff := cmp.Diff(want, read(v.Get(view(top.ID)))); diff != "" {
			t.Errorf("viewer of a target (-want +got):\n%s", diff)
		}
	})
	t.Run("Kinds", func(t *testing.T) {
		p := v.Get(view(beta.ID))
		if img := p.First(".view-stage img"); img == nil || img.Attr("src") != base+"/v/"+beta.ID || img.Attr("alt") != "Beta.png" {
			t.Errorf("image viewer: %s", p)
		}
		p = v.Get(view(clip.ID))
		if vid := p.First(".view-stage video[controls]"); vid == nil || vid.Attr("src") != base+"/v/"+clip.ID {
			t.Errorf("video viewer: %s", p)
		}
		p = v.Get(view(song.ID))
		if a := p.First(".view-stage audio[controls]"); a == nil || a.Attr("src") != base+"/v/"+song.ID {
			t.Errorf("audio viewer: %s", p)
		}
		p = v.Get(view(doc.ID))
		if box := p.First("#pdf"); box == nil || box.Attr("data-src") != base+"/v/"+doc.ID || !box.HasAttr("hidden") {
			t.Errorf("pdf viewer: want a hidden #pdf box for the script: %s", p)
		}
		// Without JavaScript the PDF box stays hidden and the page says so,
		// with a Download button.
		if ns := p.First("noscript"); ns == nil || !strings.Contains(ns.Text(), "Download it") {
			t.Errorf("pdf viewer without JavaScript: no message: %s", p)
		}
		if s := p.First(`script[type="module"][src="/static/viewer.js"]`); s == nil {
			t.Errorf("the viewer does not load its script: %s", p)
		}
	})
	t.Run("TextIsEscaped", func(t *testing.T) {
		p := v.Get(view(alpha.ID))
		if got := p.TextOf("pre.view-text"); got != text {
			t.Errorf("text shown: got %q, want %q", got, text)
		}
		if strings.Contains(p.Text(), "<script>alert(1)") || strings.Contains(p.Text(), "<b>world") {
			t.Errorf("the file's markup reached the page unescaped")
		}
		if p.Has(".view-stage b") {
			t.Errorf("the file's <b> became an element")
		}
	})
	t.Run("NotViewableGoesToDownload", func(t *testing.T) {
		for _, id := range []string{blob.ID, svg.ID, htmlText.ID} {
			if p := v.Get(view(id)); p.Code != http.StatusSeeOther || p.Header.Get("Location") != base+"/f/"+id {
				t.Errorf("viewer of %s: want 303 to the download, got %s", id, p)
			}
		}
		if p := v.Get(view(sub.ID)); p.Code != http.StatusSeeOther || p.Header.Get("Location") != base+"/d/"+sub.ID {
			t.Errorf("viewer of a folder: want 303 to the folder, got %s", p)
		}
	})
	t.Run("OutsideTheLink", func(t *testing.T) {
		for _, id := range []string{outside.ID, "pos_nope", docs.ParentID} {
			if p := v.Get(view(id)); p.Code != http.StatusNotFound || strings.Contains(p.Text(), "secret.txt") {
				t.Errorf("viewer of %s outside the link: %s", id, p)
			}
		}
	})
	t.Run("SignedOut", func(t *testing.T) {
		if p := e.visitor().Get(view(alpha.ID)); p.Code != http.StatusSeeOther || p.Header.Get("Location") != base {
			t.Errorf("viewer without a session: want 303 to sign-in, got %s", p)
		}
	})
	t.Run("ListLinksToViewer", func(t *testing.T) {
		p := v.Get(base + "/d/" + docs.ID)
		var got []string
		for _, a := range p.Find("td.actions a") {
			got = append(got, a.Attr("href"))
		}
		want := []string{view(alpha.ID), view(beta.ID), view(song.ID), view(clip.ID), view(doc.ID)}
		if diff := cmp.Diff(sortedCopy(want), sortedCopy(got)); diff != "" {
			t.Errorf("View links in the list (-want +got):\n%s", diff)
		}
	})
	t.Run("CSP", func(t *testing.T) {
		csp := v.Get(view(clip.ID)).Header.Get("Content-Security-Policy")
		for _, d := range []string{"media-src 'self'", "worker-src 'self'", "font-src 'self'", "default-src 'none'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, d) {
				t.Errorf("viewer CSP %q lacks %s", csp, d)
			}
		}
		for _, d := range []string{"unsafe-eval", "unsafe-inline", "blob:", "http"} {
			if strings.Contains(csp, d) {
				t.Errorf("viewer CSP %q allows %s", csp, d)
			}
		}
		if other := v.Get(base).Header.Get("Content-Security-Policy"); strings.Contains(other, "media-src") || strings.Contains(other, "worker-src") || strings.Contains(other, "font-src") {
			t.Errorf("the file list's CSP %q widened too", other)
		}
	})
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// Names are text on the viewer page, never markup.
func TestPortal_ViewerEscapesNames(t *testing.T) {
	t.Parallel()
	e := newPortalEnv(t, portalCheapPasswords)
	folder := e.mkdir("/esc")
	name := `a "<b>bold" & <img src=x onerror=alert(1)>.txt`
	f := e.upload("/esc", name, []byte("x"))
	next := e.upload("/esc", `b <i>next.txt`, []byte("y"))
	if f.Name != name {
		t.Fatalf("stored as %q, want %q: the test needs the markup in the name", f.Name, name)
	}
	l := e.createLinks(map[string]any{"targets": []string{folder.ID}, "authenticators": []any{pw(goodPassword)}})[0]
	v := e.visitor()
	v.signIn(l, goodPassword)
	p := v.Get(e.base(l) + "/view/" + f.ID)
	if p.Code != http.StatusOK {
		t.Fatalf("viewer: %s", p)
	}
	if got := p.TextOf("h1"); got != f.Name {
		t.Errorf("heading: got %q, want %q", got, f.Name)
	}
	if p.Has("h1 b") || p.Has("img[onerror]") || p.Has(".view-pager i") {
		t.Errorf("a name became markup: %s", p)
	}
	if got := p.First("#view-next").Attr("title"); got != next.Name {
		t.Errorf("next title: got %q, want %q", got, next.Name)
	}
	if got := p.First("title").Text(); !strings.HasPrefix(got, f.Name+" · ") {
		t.Errorf("title: got %q", got)
	}
}

// Long text shows its first 256 KiB with a note; a character cut in two at
// the end is dropped rather than shown broken.
func TestPortal_ViewerLongText(t *testing.T) {
	t.Parallel()
	e := newPortalEnv(t, portalCheapPasswords)
	const limit = 256 << 10
	long := strings.Repeat("a", limit-1) + "é and more after the cut\n"
	f := e.upload("/long", "long.txt", []byte(long))
	short := e.upload("/long", "short.txt", []byte("fits\n"))
	l := e.createLinks(map[string]any{"targets": []string{f.ID, short.ID}, "authenticators": []any{pw(goodPassword)}})[0]
	v := e.visitor()
	v.signIn(l, goodPassword)
	p := v.Get(e.base(l) + "/view/" + f.ID)
	if got := p.TextOf("pre.view-text"); got != strings.Repeat("a", limit-1) {
		t.Errorf("long text: got %d bytes ending %q, want %d a's", len(got), got[max(0, len(got)-8):], limit-1)
	}
	if note := p.TextOf(".view-stage .muted"); !strings.Contains(note, "first 256.0 KiB") || !strings.Contains(note, "Download") {
		t.Errorf("long text note: %q", note)
	}
	if p := v.Get(e.base(l) + "/view/" + short.ID); p.TextOf("pre.view-text") != "fits\n" || p.Has(".view-stage .muted") {
		t.Errorf("short text: %s", p)
	}
}

// Viewing is downloading: the text shown in the page claims a slot, and a
// video's many Range requests through the inline route hold one slot
// between them, so a capped link is not used up by one video.
func TestPortal_ViewerCountsOnce(t *testing.T) {
	t.Parallel()
	e := newPortalEnv(t, portalCheapPasswords)
	data := testClip(t)
	clip := e.upload("/cap", "clip.webm", data)
	notes := e.upload("/cap", "notes.txt", []byte("notes\n"))
	other := e.upload("/cap", "other.txt", []byte("other\n"))
	l := e.createLinks(map[string]any{"targets": []string{clip.ID, notes.ID, other.ID}, "authenticators": []any{pw(goodPassword)}, "max_downloads": 2})[0]
	base := e.base(l)
	v := e.visitor()
	v.signIn(l, goodPassword)

	if p := v.Get(base + "/view/" + clip.ID); p.Code != http.StatusOK {
		t.Fatalf("viewer: %s", p)
	}
	if st := e.linkState(l.ID); st.DownloadCount != 0 {
		t.Errorf("the video's page alone counted %d downloads, want 0 (the video itself counts)", st.DownloadCount)
	}
	src := base + "/v/" + clip.ID
	// What a browser's player does: open from 0, then seek.
	for _, rg := range []struct{ spec, want string }{
		{"bytes=0-", fmt.Sprintf("bytes 0-%d/%d", len(data)-1, len(data))},
		{"bytes=4000-4999", fmt.Sprintf("bytes 4000-4999/%d", len(data))},
		{"bytes=9000-", fmt.Sprintf("bytes 9000-%d/%d", len(data)-1, len(data))},
		{"bytes=0-1023", fmt.Sprintf("bytes 0-1023/%d", len(data))},
	} {
		p := v.Get(src, "Range", rg.spec)
		if p.Code != http.StatusPartialContent || p.Header.Get("Content-Range") != rg.want || p.Header.Get("Content-Type") != "video/webm" ||
			!strings.HasPrefix(p.Header.Get("Content-Disposition"), "inline") {
			t.Fatalf("Range %s: %s", rg.spec, p)
		}
		var from, to int
		fmt.Sscanf(rg.want, "bytes %d-%d/", &from, &to)
		if !bytes.Equal(p.Body, data[from:to+1]) {
			t.Errorf("Range %s: wrong bytes", rg.spec)
		}
	}
	if st := e.linkState(l.ID); st.DownloadCount != 1 {
		t.Errorf("after four Range requests for one video: download_count %d, want 1", st.DownloadCount)
	}
	// Download after viewing: the same file, the same slot.
	if p := v.Get(base + "/f/" + clip.ID); p.Code != http.StatusOK || !bytes.Equal(p.Body, data) {
		t.Fatalf("download after viewing: %s", p)
	}
	// Text in the page is a download too: the second slot.
	if p := v.Get(base + "/view/" + notes.ID); p.Code != http.StatusOK || p.TextOf("pre.view-text") != "notes\n" {
		t.Fatalf("text viewer: %s", p)
	}
	if st := e.linkState(l.ID); st.DownloadCount != 2 {
		t.Errorf("after viewing a text: download_count %d, want 2", st.DownloadCount)
	}
	// The cap holds: a third file is refused, in the viewer and inline.
	if p := v.Get(base + "/view/" + other.ID); p.Code != http.StatusForbidden || !strings.Contains(p.Text(), "Download limit reached") {
		t.Errorf("text viewer past the cap: %s", p)
	}
	if p := v.Get(base+"/v/"+other.ID, "Range", "bytes=0-"); p.Code != http.StatusForbidden {
		t.Errorf("inline past the cap: %s", p)
	}
	// What was paid for still plays.
	if p := v.Get(src, "Range", "bytes=100-199"); p.Code != http.StatusPartialContent || !bytes.Equal(p.Body, data[100:200]) {
		t.Errorf("seeking the paid-for video past the cap: %s", p)
	}
	if st := e.linkState(l.ID); st.DownloadCount != 2 {
		t.Errorf("download_count %d at the end, want 2", st.DownloadCount)
	}
}

// An upload link has nothing to view.
func TestPortal_ViewerOnUploadLink(t *testing.T) {
	t.Parallel()
	e := newPortalEnv(t, portalCheapPasswords)
	drop := e.mkdir("/vu")
	f := e.upload("/vu", "seen.txt", []byte("x"))
	l := e.createLinks(map[string]any{"targets": []string{drop.ID}, "link_type": "upload", "authenticators": []any{pw(goodPassword)}})[0]
	v := e.visitor()
	v.signIn(l, goodPassword)
	if p := v.Get(e.base(l) + "/view/" + f.ID); p.Code != http.StatusForbidden {
		t.Errorf("viewer on an upload link: %s", p)
	}
}
