package gateway_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame"
)

// TestBrowser_Targets opens links to one file, to one folder and to
// several items at desktop and phone sizes: the card downloads with one
// click, the folder shows its files, a subfolder's "Download this folder"
// fetches that folder only, and select-all ticks every row.
func TestBrowser_Targets(t *testing.T) {
	c := startChrome(t)
	b := newBrowserStack(t)
	t.Logf("screenshots go to %s", c.shots)
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			browserTargets(t, c, b, vp)
		})
	}
}

func browserTargets(t *testing.T, c *chrome, b *browserStack, vp viewport) {
	size := vp.name
	report := []byte("quarter,revenue\nQ1,100\n")
	one := b.file("", size+"-report.csv", report)
	_, oneURL := b.link(sesame.LinkDownload, "", []string{one.ID}, password(browserPassword))
	tb := c.newTab(t)
	vp.emulate(tb)
	signInWithPassword(tb, oneURL)
	tb.do("card", chromedp.WaitVisible(chromedp.CSS(".filecard")))
	if got := tb.text(".fname"); got != one.Name {
		t.Errorf("card name: %q", got)
	}
	tb.screenshot("targets-" + size + "-one-file")
	tb.do("download", chromedp.Click(chromedp.CSS(".filecard a.primary")))
	if got := c.waitDownload(t, one.Name); !bytes.Equal(got, report) {
		t.Errorf("one click on Download: got %q", got)
	}

	pack := b.folder("", size+"-pack")
	b.file(pack.ID, "a.txt", []byte("aaaa"))
	sub := b.folder(pack.ID, size+"-sub")
	b.file(sub.ID, "c.txt", []byte("cc"))
	_, packURL := b.link(sesame.LinkDownload, "Pack", []string{pack.ID}, password(browserPassword))
	signInWithPassword(tb, packURL)
	tb.do("folder", chromedp.WaitVisible(chromedp.CSS("table.files")))
	names := get(tb, "names", chromedp.Evaluate[[]string](`[...document.querySelectorAll("table.files td.name a")].map(a => a.textContent.trim())`))
	if diff := cmp.Diff([]string{size + "-sub", "a.txt"}, names); diff != "" {
		t.Errorf("a one-folder link shows its files (-want +got):\n%s", diff)
	}
	if got := tb.text("a.button.primary"); got != "Download this folder (2 files, 6 B)" {
		t.Errorf("folder button: %q", got)
	}
	checkSelectAll(tb, 2)
	tb.screenshot("targets-" + size + "-folder")

	tb.clickAndLoad("open sub", `td.name a[href$="/d/`+sub.ID+`"]`)
	if got := tb.text("a.button.primary"); got != "Download this folder (1 file, 2 B)" {
		t.Errorf("subfolder button: %q", got)
	}
	tb.screenshot("targets-" + size + "-subfolder")
	tb.do("download this folder", chromedp.Click(chromedp.CSS("a.button.primary")))
	zb := c.waitDownload(t, size+"-sub.zip")
	if diff := cmp.Diff(map[string]string{size + "-sub/": "", size + "-sub/c.txt": "cc"}, unzip(t, zb)); diff != "" {
		t.Errorf("the subfolder's ZIP holds exactly that folder (-want +got):\n%s", diff)
	}
}

// checkSelectAll checks the file table's select-all box and the count on
// "Download selected".
func checkSelectAll(tb *tab, rows int) {
	tb.t.Helper()
	if !get(tb, "nothing ticked", chromedp.Evaluate[bool](`document.getElementById("zip-selected").disabled`)) {
		tb.t.Error("Download selected is enabled with nothing ticked")
	}
	tb.do("select all", chromedp.Click(chromedp.CSS("#pick-all")))
	ticked := get(tb, "ticked", chromedp.Evaluate[int](`document.querySelectorAll("td.pick input:checked").length`))
	if ticked != rows {
		tb.t.Errorf("select-all ticked %d of %d rows", ticked, rows)
	}
	if got, want := tb.text("#zip-selected"), fmt.Sprintf("Download selected (%d)", rows); got != want {
		tb.t.Errorf("Download selected: %q, want %q", got, want)
	}
	tb.do("select none", chromedp.Click(chromedp.CSS("#pick-all")))
	if n := get(tb, "ticked", chromedp.Evaluate[int](`document.querySelectorAll("td.pick input:checked").length`)); n != 0 {
		tb.t.Errorf("select-all again left %d rows ticked", n)
	}
}

// unzip reads a ZIP's entries and contents.
func unzip(t *testing.T, zb []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(zb), int64(len(zb)))
	if err != nil {
		t.Fatalf("the ZIP does not open: %v", err)
	}
	got := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		got[f.Name] = strings.TrimSpace(string(data))
	}
	return got
}
