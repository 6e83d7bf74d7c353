package gateway

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path"
	"sort"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/sesame-share/sesame"
)

// How the viewer shows a file.
const (
	viewImage = "image"
	viewText  = "text"
	viewPDF   = "pdf"
	viewAudio = "audio"
	viewVideo = "video"
)

// viewKinds maps the media types the viewer shows to how it shows them.
// Text is shown escaped in the page, never as a document of its own type;
// nothing here runs scripts (no SVG, no HTML, no XML).
var viewKinds = map[string]string{
	"image/png": viewImage, "image/jpeg": viewImage, "image/gif": viewImage, "image/webp": viewImage,
	"text/plain": viewText, "text/csv": viewText, "text/tab-separated-values": viewText, "text/markdown": viewText,
	"text/x-markdown": viewText, "application/json": viewText,
	"application/pdf": viewPDF,
	"audio/mpeg":      viewAudio, "audio/ogg": viewAudio, "audio/opus": viewAudio, "audio/wav": viewAudio, "audio/wave": viewAudio,
	"audio/x-wav": viewAudio, "audio/vnd.wave": viewAudio, "audio/webm": viewAudio, "audio/aac": viewAudio, "audio/x-aac": viewAudio,
	"audio/flac": viewAudio, "audio/x-flac": viewAudio, "audio/mp4": viewAudio, "audio/x-m4a": viewAudio,
	// The content sniffer calls every Ogg file application/ogg; the name
	// tells video (.ogv) from audio.
	"application/ogg": viewAudio,
	"video/mp4":       viewVideo, "video/webm": viewVideo, "video/ogg": viewVideo,
}

// viewKind says how the viewer shows o: one of the view constants, or ""
// when it does not (folders, other types, and names a browser might run
// as a document whatever their type).
func viewKind(o *sesame.Object) string {
	if o.IsFolder() || activeName(o.Name) {
		return ""
	}
	k := viewKinds[mediaOf(o)]
	if k == viewAudio && mediaOf(o) == "application/ogg" && strings.EqualFold(path.Ext(o.Name), ".ogv") {
		k = viewVideo
	}
	return k
}

// maxViewText bounds the text shown in the page; the rest is a download.
const maxViewText = 256 << 10

type viewLink struct{ Name, URL string }

type viewPage struct {
	pageBase
	Name, Size, Type, Kind string
	Src, Download, Close   string
	Text                   string
	TextCut                bool   // Text is the start of a longer file
	TextShown              string // how much of it, when cut
	Prev, Next             *viewLink
	Position, Count        int // 1-based place among the folder's viewable files
}

// moreCSP widens the page CSP for the viewer only:
//   - media-src 'self': <video> and <audio> play the file from this origin
//     (default-src 'none' refuses media otherwise);
//   - worker-src 'self': PDF.js parses the PDF in a module worker loaded
//     from /static/, and a worker cannot carry the page's script nonce;
//   - font-src 'self': for a PDF that names a standard font without
//     embedding it, PDF.js loads the stand-in it ships (under /static/) as
//     a web font.
//
// Nothing else is needed: PDF.js fetches the file through connect-src
// 'self', runs no eval, and draws into a canvas.
func (*viewPage) moreCSP() string { return "media-src 'self'; worker-src 'self'; font-src 'self'" }

// handlePortalView is the in-page viewer: the file's name, Download,
// Close, and the previous and next viewable files of its folder. Images,
// audio and video load from the inline route, so they work without
// JavaScript; text is shown in the page; a PDF is drawn by PDF.js. Types
// it cannot show go to the download.
func (s *Server) handlePortalView(c *gin.Context) {
	p, o := s.downloadable(c)
	if o == nil {
		return
	}
	kind := viewKind(o)
	if kind == "" {
		c.Redirect(http.StatusSeeOther, p.base+"/f/"+o.ID)
		return
	}
	locked, err := s.cfg.Portal.Service.Locked(c.Request.Context(), p.Visit, o)
	if err != nil {
		s.portalFail(c, p, err, "")
		return
	}
	if locked { // the password first, on this page
		s.unlockForm(c, p, o, "view", http.StatusOK, "")
		return
	}
	siblings, closeURL, err := s.viewSiblings(c.Request.Context(), p, o)
	if err != nil {
		s.portalFail(c, p, err, "")
		return
	}
	pg := &viewPage{pageBase: pageBase{Base: p.base, CSRF: s.csrfFor(c, p), SignedIn: true},
		Name: o.Name, Size: s.locale(c).Size(o.Size), Type: typeLabel(s.locale(c), o), Kind: kind,
		Src: p.base + "/v/" + o.ID, Download: p.base + "/f/" + o.ID, Close: closeURL}
	pg.Prev, pg.Next, pg.Position, pg.Count = viewNeighbours(p, o, siblings)
	if kind == viewText && !s.viewText(c, p, o, pg) {
		return
	}
	if pg.Kind == viewPDF {
		pg.Strings = s.locale(c).Strings(viewerStrings, nil)
	}
	s.render(c, http.StatusOK, "view", pg)
}

// viewSiblings returns the files beside o, as the visitor saw them, and
// the page that lists them: its folder, or the link's top level when o is
// one of the link's targets.
func (s *Server) viewSiblings(ctx context.Context, p *portal, o *sesame.Object) ([]*sesame.Object, string, error) {
	ps := s.cfg.Portal.Service
	if p.IsTarget(o) || o.ParentID == "" {
		targets, err := ps.Targets(ctx, p.Visit)
		return targets, p.base, err
	}
	// o is inside a folder target, so its folder is within the link too.
	parent, err := ps.Resolve(ctx, p.Visit, o.ParentID)
	if err != nil {
		return nil, "", err
	}
	kids, err := ps.Children(ctx, p.Visit, parent)
	return kids, p.base + "/d/" + parent.ID, err
}

// viewNeighbours finds o among the viewable files of siblings, in the
// order of the file list (by name, ignoring case), and returns the files
// before and after it and its place.
func viewNeighbours(p *portal, o *sesame.Object, siblings []*sesame.Object) (prev, next *viewLink, pos, count int) {
	var files []*sesame.Object
	for _, x := range siblings {
		if viewKind(x) != "" {
			files = append(files, x)
		}
	}
	sort.SliceStable(files, func(i, j int) bool { return strings.ToLower(files[i].Name) < strings.ToLower(files[j].Name) })
	link := func(x *sesame.Object) *viewLink { return &viewLink{Name: x.Name, URL: p.base + "/view/" + x.ID} }
	for i, x := range files {
		if x.ID != o.ID {
			continue
		}
		if i > 0 {
			prev = link(files[i-1])
		}
		if i+1 < len(files) {
			next = link(files[i+1])
		}
		return prev, next, i + 1, len(files)
	}
	return nil, nil, 0, 0
}

// viewText reads the start of a text file into the page. Showing it is a
// download like any other: it claims a slot through the core and settles
// it with the bytes read. It answers the request itself and returns false
// when it cannot.
func (s *Server) viewText(c *gin.Context, p *portal, o *sesame.Object, pg *viewPage) bool {
	ctx := c.Request.Context()
	ps := s.cfg.Portal.Service
	blob, err := ps.OpenBlob(ctx, p.Visit, o)
	if s.lockedRedirect(c, p, o, err, "view") {
		return false
	}
	if err != nil {
		s.log.ErrorContext(c.Request.Context(), "open blob", "object_id", o.ID, "error", err)
		s.notice(c, p, http.StatusNotFound, "Not found", s.t(c, "This file's contents are missing."))
		return false
	}
	defer blob.Close()
	claim, err := ps.StartDownload(ctx, p.Visit, o)
	if err != nil {
		s.downloadFailed(c, p, err)
		return false
	}
	data, err := io.ReadAll(io.LimitReader(blob, maxViewText))
	if err != nil {
		ps.FinishDownload(ctx, p.Visit, claim, 0, http.StatusInternalServerError, c.Request.Method)
		s.portalFail(c, p, err, "")
		return false
	}
	ps.FinishDownload(ctx, p.Visit, claim, int64(len(data)), http.StatusOK, c.Request.Method)
	pg.TextCut = o.Size > int64(len(data))
	if pg.TextCut {
		pg.TextShown = s.locale(c).Size(int64(len(data)))
	}
	pg.Text = decodeText(data, pg.TextCut)
	return true
}

// decodeText turns the start of a text file into a string: UTF-16 when it
// starts with that byte order mark (as Windows editors write it), UTF-8
// otherwise, with every invalid sequence shown as U+FFFD. cut says the
// bytes stop before the file ends, maybe inside a character, whose first
// bytes are then dropped.
func decodeText(data []byte, cut bool) string {
	le, be := bytes.HasPrefix(data, []byte{0xff, 0xfe}), bytes.HasPrefix(data, []byte{0xfe, 0xff})
	if le || be {
		data = data[2:]
		units := make([]uint16, len(data)/2)
		for i := range units {
			a, b := uint16(data[2*i]), uint16(data[2*i+1])
			if le {
				units[i] = a | b<<8
			} else {
				units[i] = a<<8 | b
			}
		}
		if n := len(units); cut && n > 0 && utf16.IsSurrogate(rune(units[n-1])) && units[n-1] < 0xdc00 {
			units = units[:n-1] // the first half of a pair
		}
		return string(utf16.Decode(units))
	}
	text := strings.TrimPrefix(string(data), "\uFEFF") // no byte order mark on screen
	if cut {
		for i := len(text) - 1; i >= 0 && i >= len(text)-utf8.UTFMax; i-- {
			if utf8.RuneStart(text[i]) {
				if !utf8.FullRuneInString(text[i:]) {
					text = text[:i]
				}
				break
			}
		}
	}
	return strings.ToValidUTF8(text, "\uFFFD")
}
