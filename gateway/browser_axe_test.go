package gateway_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/internal/testrig"
)

// axeTags selects the axe-core rules the accessibility check runs: every
// rule for WCAG 2.0, 2.1 and 2.2 at levels A and AA (axe has no wcag22a tag;
// its 2.2 rule, target-size, is wcag22aa and off by default, so it runs
// only because the tag is named), plus axe's best practices (landmarks, one
// main, heading order, page-has-heading-one), which catch what makes a page
// hard to use with a screen reader where no success criterion fails. Level
// AAA (wcag2aaa) and the experimental rules are left out.
var axeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"}

// a11yView is one way the accessibility check looks at a page: a colour
// scheme and a viewport.
type a11yView struct {
	scheme        string // prefers-color-scheme: light or dark
	size          string // desktop or phone
	width, height int64
	mobile        bool // honour the viewport meta tag, as a phone does
}

// a11yViews are the four views every page is checked in.
var a11yViews = []a11yView{
	{"light", "desktop", 1280, 800, false},
	{"dark", "desktop", 1280, 800, false},
	{"light", "phone", 390, 844, true},
	{"dark", "phone", 390, 844, true},
}

// axeViolation is one failed axe rule with the elements it failed on.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  []string `json:"target"`
		Summary string   `json:"summary"`
	} `json:"nodes"`
}

// axeResult is what the check reads back from axe.run.
type axeResult struct {
	Violations []axeViolation `json:"violations"`
	Incomplete []string       `json:"incomplete"` // rules axe could not decide; logged, not failed
	Applied    int            `json:"applied"`    // rules that found something to check
}

// ids lists the rules that failed.
func (r axeResult) ids() []string {
	var out []string
	for _, v := range r.Violations {
		out = append(out, v.ID)
	}
	return out
}

// checkA11y opens url (when not empty) in a tab of its own, with its own
// cookies, runs setup (when not nil) to bring the tab to the page under
// test, and checks that page as tab.checkA11y does. To add a page, give it
// a name, the address to open and what a person does there first:
//
//	c.checkA11y(t, "viewer", url, func(tb *tab) {
//		signInWithPassword(tb, url)
//		tb.clickAndLoad("open the viewer", ".files .actions a")
//	})
func (c *chrome) checkA11y(t *testing.T, name, url string, setup func(tb *tab)) {
	t.Helper()
	tb := c.a11yTab(t)
	if url != "" {
		tb.do("open "+url, chromedp.Navigate(url))
	}
	if setup != nil {
		setup(tb)
	}
	tb.checkA11y(name)
}

// a11yTab opens a tab in a fresh browser context: it holds no cookies, so
// each walk starts signed out, whatever other walks did.
func (c *chrome) a11yTab(t *testing.T) *tab {
	t.Helper()
	tb := &tab{t: t, c: c}
	ctx, cancel := chromedp.NewContext(c.ctx, chromedp.WithNewBrowserContext(), chromedp.WithListener(tb.listen))
	t.Cleanup(cancel)
	start(t, ctx, cancel, "open tab")
	tb.ctx = ctx
	t.Cleanup(tb.checkConsole)
	return tb
}

// checkA11y checks the page the tab is on with axe-core in each of
// a11yViews: light and dark colour scheme, at 1280×800 and 390×844. Every
// violation of any impact fails the test with its rule, impact, the
// elements' selectors and axe's summary. It also checks what axe does not
// (smallTargets, focusProblems): buttons and action links of at least
// 24×24 CSS pixels, a focus ring of 3:1 on everything a keyboard reaches,
// and no dead tab stops. It saves a screenshot of each view as
// a11y-<name>-<scheme>-<size>.png.
//
// The views are switched on the loaded page by DevTools emulation, so a
// page reached by a form post (a wrong code, a failed rename) is checked
// as it was rendered, and the tab can go on to the next page.
func (tb *tab) checkA11y(name string) {
	t := tb.t
	t.Helper()
	for _, v := range a11yViews {
		res := tb.axeIn(v)
		where := fmt.Sprintf("%s (%s, %s %d×%d)", name, v.scheme, v.size, v.width, v.height)
		t.Logf("axe applied %d rules on %s", res.Applied, where)
		for _, vi := range res.Violations {
			var b strings.Builder
			fmt.Fprintf(&b, "axe %s [%s] on %s: %s", vi.ID, vi.Impact, where, vi.Help)
			for _, n := range vi.Nodes {
				fmt.Fprintf(&b, "\n  %s\n    %s", strings.Join(n.Target, " "), strings.ReplaceAll(n.Summary, "\n", "\n    "))
			}
			t.Error(b.String())
		}
		if len(res.Incomplete) > 0 {
			t.Logf("axe could not decide on %s: %s", where, strings.Join(res.Incomplete, ", "))
		}
		for _, s := range tb.smallTargets() {
			t.Errorf("target smaller than 24×24 px on %s: %s", where, s)
		}
		for _, s := range tb.focusProblems() {
			t.Errorf("focus on %s: %s", where, s)
		}
		tb.screenshot(fmt.Sprintf("a11y-%s-%s-%s", name, v.scheme, v.size))
	}
}

// axeIn runs axe-core on the tab's page in view v.
func (tb *tab) axeIn(v a11yView) axeResult {
	tb.t.Helper()
	tb.view(v)
	tb.injectAxe()
	return tb.runAxe()
}

// view sets the tab's viewport and colour scheme.
func (tb *tab) view(v a11yView) {
	tb.t.Helper()
	tb.do("emulate "+v.scheme+" "+v.size, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width: v.width, Height: v.height, DeviceScaleFactor: 1, Mobile: v.mobile}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: v.scheme}}})
		return err
	}))
	if got := get(tb, "read colour scheme", chromedp.Evaluate[bool](`matchMedia("(prefers-color-scheme: `+v.scheme+`)").matches`)); !got {
		tb.t.Fatalf("the page does not see prefers-color-scheme: %s", v.scheme)
	}
}

// axeSource is the vendored axe-core (scripts/vendor.sh), read once.
var axeSource = sync.OnceValues(func() ([]byte, error) {
	return os.ReadFile(filepath.Join("testdata", "axe", "axe.min.js"))
})

// injectAxe loads axe-core into the page through the DevTools protocol:
// Runtime.evaluate is not subject to the page's Content-Security-Policy,
// which allows no script but the page's own. The tab's console check
// still sees any CSP violation axe's work would cause.
func (tb *tab) injectAxe() {
	tb.t.Helper()
	src, err := axeSource()
	if err != nil {
		tb.t.Fatalf("read axe-core: %v", err)
	}
	if get(tb, "axe loaded", chromedp.Evaluate[bool](`typeof axe === "object"`)) {
		return
	}
	tb.do("inject axe-core", chromedp.Evaluate[chromedp.Void](string(src)))
	if v := get(tb, "axe version", chromedp.Evaluate[string](`typeof axe === "object" ? axe.version : ""`)); v == "" {
		tb.t.Fatal("axe-core did not load into the page")
	}
}

// runAxe runs axe-core over the whole document with axeTags.
func (tb *tab) runAxe() axeResult {
	tb.t.Helper()
	tags := `["` + strings.Join(axeTags, `", "`) + `"]`
	return get(tb, "run axe-core", chromedp.Evaluate[axeResult](`axe.run(document, {
		runOnly: {type: "tag", values: `+tags+`},
		resultTypes: ["violations"],
	}).then(r => ({
		violations: r.violations.map(v => ({id: v.id, impact: v.impact || "", help: v.help,
			nodes: v.nodes.map(n => ({target: n.target.map(String), summary: n.failureSummary || ""}))})),
		incomplete: r.incomplete.map(v => v.id),
		applied: r.violations.length + r.passes.length + r.incomplete.length,
	}))`, chromedp.EvalAwaitPromise))
}

// smallTargets lists the visible buttons, button-like links and table
// action links (Preview, Rename, Delete) whose box is under 24×24 CSS
// pixels. axe's target-size rule lets a small target pass when nothing is
// near it; these are meant to be easy to hit on their own.
func (tb *tab) smallTargets() []string {
	tb.t.Helper()
	return get(tb, "measure targets", chromedp.Evaluate[[]string](`[...document.querySelectorAll(
		"button, a.button, .files .actions a, header a")].flatMap(el => {
		const r = el.getBoundingClientRect();
		if (r.width === 0 && r.height === 0) { return []; }
		if (r.width >= 24 && r.height >= 24) { return []; }
		return [el.tagName.toLowerCase() + " " + JSON.stringify(el.textContent.trim()) + ": " + r.width.toFixed(1) + "×" + r.height.toFixed(1)];
	})`))
}

// focusProblems focuses each visible element a keyboard can reach and
// reports the ones whose focus ring is missing, thinner than 2 px, or under
// 3:1 against the background around it (WCAG 1.4.11 and 2.4.7; axe cannot
// see focus styles), and dead tab stops: elements made focusable with
// tabindex that are neither controls nor carry a role.
func (tb *tab) focusProblems() []string {
	tb.t.Helper()
	return get(tb, "check focus rings", chromedp.Evaluate[[]string](`(() => {
		const parse = s => {
			let m = s.match(/^rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)$/);
			if (m) { return [m[1] / 255, m[2] / 255, m[3] / 255, m[4] === undefined ? 1 : +m[4]]; }
			m = s.match(/^color\(srgb ([\d.e-]+) ([\d.e-]+) ([\d.e-]+)(?: \/ ([\d.]+))?\)$/);
			if (m) { return [+m[1], +m[2], +m[3], m[4] === undefined ? 1 : +m[4]]; }
			return null;
		};
		const lum = c => {
			const l = c.slice(0, 3).map(v => v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4));
			return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2];
		};
		const ratio = (a, b) => (Math.max(lum(a), lum(b)) + 0.05) / (Math.min(lum(a), lum(b)) + 0.05);
		const behind = el => {
			for (let e = el.parentElement; e; e = e.parentElement) {
				const c = parse(getComputedStyle(e).backgroundColor);
				if (c && c[3] > 0) { return c; }
			}
			return [1, 1, 1, 1];
		};
		const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + " " + JSON.stringify(el.textContent.trim().slice(0, 40) || el.getAttribute("aria-label") || el.name || "");
		const out = [];
		const native = "a[href], button, input, select, textarea, summary";
		for (const el of document.querySelectorAll(native + ", [tabindex]")) {
			if (el.tabIndex < 0 || el.disabled || el.type === "hidden" || el.getClientRects().length === 0) { continue; }
			if (!el.matches(native) && !el.hasAttribute("role")) { out.push(name(el) + " is a tab stop with no role"); }
			el.focus();
			if (document.activeElement !== el) { out.push(name(el) + " does not take focus"); continue; }
			const st = getComputedStyle(el);
			const ring = parse(st.outlineColor);
			if (st.outlineStyle === "none" || parseFloat(st.outlineWidth) < 2) {
				out.push(name(el) + " has no focus ring (outline " + st.outlineStyle + " " + st.outlineWidth + ")");
			} else if (!ring) {
				out.push(name(el) + ": focus ring colour " + st.outlineColor + " not understood");
			} else if (ratio(ring, behind(el)) < 3) {
				out.push(name(el) + ": focus ring " + st.outlineColor + " is " + ratio(ring, behind(el)).toFixed(2) + ":1 against its background, want 3:1");
			}
			el.blur();
		}
		window.scrollTo(0, 0);
		return out;
	})()`))
}

// TestBrowserAccessibility checks every recipient page with axe-core in
// Chromium, in light and dark mode at desktop and phone sizes.
func TestBrowserAccessibility(t *testing.T) {
	c := startChrome(t)
	b := newBrowserStack(t)
	t.Logf("screenshots go to %s", c.shots)

	t.Run("SignIn", func(t *testing.T) {
		f := b.file("", "a11y-signin.txt", []byte("x\n"))
		_, url := b.link(sesame.LinkDownload, "Sign-in check", []string{f.ID}, password(browserPassword))
		c.checkA11y(t, "signin", url, func(tb *tab) {
			tb.do("password field", chromedp.WaitVisible(chromedp.CSS("#password-0")))
		})
		c.checkA11y(t, "signin-wrong-password", url, func(tb *tab) {
			tb.allow(http.StatusUnauthorized, url+"/password") // a wrong password is answered 401 on purpose
			tb.do("type wrong password", chromedp.WaitVisible(chromedp.CSS("#password-0")),
				chromedp.SendKeys(chromedp.CSS("#password-0"), "not the password at all"))
			tb.clickAndLoad("submit wrong password", `form[action$="/password"] button[type=submit]`)
			tb.do("error", chromedp.WaitVisible(chromedp.CSS(".flash.error")))
		})
	})

	t.Run("Code", func(t *testing.T) {
		f := b.file("", "a11y-code.txt", []byte("x\n"))
		_, url := b.link(sesame.LinkDownload, "Code check", []string{f.ID}, sesame.AuthenticatorInput{Type: sesame.AuthEmailOTP, Context: "dora@example.com"})
		tb := c.a11yTab(t)
		tb.do("open link", chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(`form[action$="/code/send"] button`)))
		tb.checkA11y("code-send")

		tb.clickAndLoad("send code", `form[action$="/code/send"] button`)
		tb.do("code field", chromedp.WaitVisible(chromedp.CSS("#code-0")))
		code := testrig.CodeIn(t, testrig.ParseMail(t, b.mail.Next(t, actionTimeout).Data).Text())
		tb.checkA11y("code")

		// A wrong code: the right one with its last digit changed.
		wrong := code[:len(code)-1] + string(rune('0'+(code[len(code)-1]-'0'+1)%10))
		tb.allow(http.StatusUnauthorized, url+"/code/verify") // a wrong code is answered 401 on purpose
		// Six digits send the form by themselves.
		get(tb, "type wrong code", chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.SendKeys(chromedp.CSS("#code-0"), wrong)))
		tb.do("error", chromedp.WaitVisible(chromedp.CSS(".flash.error")))
		tb.checkA11y("code-wrong")
	})

	t.Run("FileList", func(t *testing.T) {
		f1 := b.file("", "a11y-report.csv", []byte("a,b\n1,2\n"))
		f2 := b.file("", "a11y-notes.txt", []byte("notes\n"))
		dir := b.folder("", "a11y-photos")
		b.file(dir.ID, "inside.txt", []byte("inside\n"))
		_, url := b.link(sesame.LinkDownload, "File list check", []string{f1.ID, f2.ID, dir.ID}, password(browserPassword))
		c.checkA11y(t, "files", "", func(tb *tab) {
			signInWithPassword(tb, url)
			tb.do("file list", chromedp.WaitVisible(chromedp.CSS("table.files")))
		})
		// A notice page: a folder that is not in the link.
		c.checkA11y(t, "notice", "", func(tb *tab) {
			signInWithPassword(tb, url)
			missing := url + "/d/" + sesame.NewID(sesame.PrefixObject)
			tb.allow(http.StatusNotFound, missing) // answered 404 on purpose
			tb.do("open a folder that is not there", chromedp.Navigate(missing), chromedp.WaitVisible(chromedp.CSS("h1")))
		})
	})

	t.Run("Viewer", func(t *testing.T) {
		dir := b.folder("", "a11y-viewer")
		doc := b.file(dir.ID, "a11y-minutes.pdf", twoPagePDF())
		clip := b.file(dir.ID, "a11y-clip.webm", testClip(t))
		text := b.file(dir.ID, "a11y-readme.txt", []byte("Read me.\n"))
		_, url := b.link(sesame.LinkDownload, "Viewer check", []string{dir.ID}, password(browserPassword))
		for _, v := range []struct {
			name, id, ready string
		}{
			{"viewer-pdf", doc.ID, `#pdf[data-state="drawn"]`},
			{"viewer-video", clip.ID, "video"},
			{"viewer-text", text.ID, "pre.view-text"},
		} {
			c.checkA11y(t, v.name, "", func(tb *tab) {
				signInWithPassword(tb, url)
				tb.do("open the viewer", chromedp.Navigate(url+"/view/"+v.id), chromedp.WaitVisible(chromedp.CSS(v.ready)))
			})
		}
	})

	t.Run("Upload", func(t *testing.T) {
		inbox := b.folder("", "a11y-inbox")
		_, url := b.link(sesame.LinkUpload, "Upload check", []string{inbox.ID}, password(browserPassword))
		tb := c.a11yTab(t)
		signInWithPassword(tb, url)
		tb.do("upload form", chromedp.WaitVisible(chromedp.CSS("#upload-form")))
		tb.checkA11y("upload")

		// "Choose files or drop them here" is a button to assistive
		// technology (the script gives it the role): a click on it opens the
		// file chooser, through the label around it.
		tb.do("count clicks", chromedp.Evaluate[chromedp.Void](`window.__chooser = 0;
			document.getElementById("files").addEventListener("click", e => { e.preventDefault(); window.__chooser++; });`))
		tb.do("click the drop label", chromedp.Click(chromedp.CSS("#drop")))
		if n := get(tb, "chooser opened", chromedp.Evaluate[int](`window.__chooser`)); n != 1 {
			t.Errorf("a click on #drop opened the file chooser %d times, want 1", n)
		}
	})

	t.Run("Editor", func(t *testing.T) {
		team := b.folder("", "a11y-team")
		draft := b.file(team.ID, "draft.txt", []byte("draft\n"))
		b.file(team.ID, "keep.txt", []byte("keep\n"))
		b.folder(team.ID, "archive")
		_, url := b.link(sesame.LinkEditor, "Editor check", []string{team.ID}, password(browserPassword))
		c.checkA11y(t, "editor", "", func(tb *tab) {
			signInWithPassword(tb, url)
			tb.do("folder", chromedp.WaitVisible(chromedp.CSS("table.files")))
		})
		c.checkA11y(t, "editor-rename", "", func(tb *tab) {
			signInWithPassword(tb, url)
			tb.clickAndLoad("open rename page", `a[href$="/rename/`+draft.ID+`"]`)
		})
		c.checkA11y(t, "editor-delete", "", func(tb *tab) {
			signInWithPassword(tb, url)
			tb.clickAndLoad("open delete page", `a[href$="/delete/`+draft.ID+`"]`)
		})
		c.checkA11y(t, "editor-bad-name", "", func(tb *tab) {
			signInWithPassword(tb, url)
			tb.clickAndLoad("open rename page", `a[href$="/rename/`+draft.ID+`"]`)
			tb.allow(http.StatusConflict, url+"/rename") // a taken name is answered 409 on purpose
			tb.do("type a taken name", chromedp.Clear(chromedp.CSS("#name")), chromedp.SendKeys(chromedp.CSS("#name"), "keep.txt"))
			tb.clickAndLoad("rename", `form[action$="/rename"] button[type=submit]`)
		})
	})

	t.Run("Dead", func(t *testing.T) {
		url := b.srv.URL + "/s/no-such-link-token-at-all"
		c.checkA11y(t, "dead", "", func(tb *tab) {
			tb.allow(http.StatusNotFound, url) // the dead page is answered 404 on purpose
			tb.do("open an unknown link", chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("h1")))
		})
	})

	t.Run("Left", func(t *testing.T) {
		f := b.file("", "a11y-left.txt", []byte("x\n"))
		_, url := b.link(sesame.LinkDownload, "Leave check", []string{f.ID}, password(browserPassword))
		c.checkA11y(t, "left", "", func(tb *tab) {
			signInWithPassword(tb, url)
			tb.clickAndLoad("leave", `form[action$="/leave"] button`)
			tb.do("left", chromedp.WaitVisible(chromedp.CSS("h1")))
		})
	})

	// The check must be able to fail, or its silence above proves nothing:
	// an image without a text alternative fails everywhere, and grey text
	// that reads well on a white card fails on the dark one.
	t.Run("CheckSeesViolations", func(t *testing.T) {
		f := b.file("", "a11y-self.txt", []byte("x\n"))
		_, url := b.link(sesame.LinkDownload, "Self check", []string{f.ID}, password(browserPassword))
		tb := c.a11yTab(t)
		tb.do("open link", chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("#password-0")))
		tb.do("add faults", chromedp.Evaluate[chromedp.Void](`{
			const card = document.querySelector(".card");
			const img = document.createElement("img");
			img.src = "data:,";
			card.appendChild(img);
			const p = document.createElement("p");
			p.textContent = "Grey text";
			p.style.color = "#5f5f5f";
			card.appendChild(p);
			const dead = document.createElement("span");
			dead.id = "dead-stop";
			dead.tabIndex = 0;
			dead.textContent = "Not a control";
			card.appendChild(dead);
			const faint = document.createElement("a");
			faint.id = "faint-ring";
			faint.href = "#";
			faint.textContent = "Faint ring";
			faint.style.outlineColor = "#2a2a2a";
			card.appendChild(faint);
		}`))
		for _, v := range a11yViews {
			want := []string{"image-alt"}
			if v.scheme == "dark" {
				want = []string{"color-contrast", "image-alt"}
			}
			got := tb.axeIn(v).ids()
			sort.Strings(got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("axe on a page with faults (%s, %s): rules (-want +got):\n%s", v.scheme, v.size, diff)
			}
			var focus []string
			for _, p := range tb.focusProblems() {
				focus = append(focus, strings.Fields(p)[0])
			}
			wantFocus := []string{"span#dead-stop"}
			if v.scheme == "dark" {
				wantFocus = append(wantFocus, "a#faint-ring")
			}
			if diff := cmp.Diff(wantFocus, focus); diff != "" {
				t.Errorf("focus problems on a page with faults (%s, %s) (-want +got):\n%s", v.scheme, v.size, diff)
			}
		}
	})
}
