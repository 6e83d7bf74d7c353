package gateway

import (
	"net/http"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/templates"
)

type crumb struct{ Name, URL string }

type item struct {
	ID, Name, Size, Type, Modified string
	Folder, Editable               bool
	Open, Download, Preview, Thumb string
	RenameURL, DeleteURL           string
	// Protected marks a file with a password; Locked one whose password
	// the visit has not given yet, which Unlock asks for.
	Protected, Locked bool
	Unlock            string
}

type browsePage struct {
	pageBase
	Title, Message, Sender          string
	Expires                         when
	Summary, DownloadsLeft          string // "3 files, 56 KiB"; "2 of 5 downloads left"
	Crumbs                          []crumb
	Flash, FlashKind                string
	FolderID                        string
	CanUpload, CanEdit, CanDownload bool
	UploadOnly                      bool
	MaxFile                         string
	Items                           []item
	// File is the card of a link to one file; ZipURL and ZipLabel the
	// download of everything on screen.
	File             *item
	ZipURL, ZipLabel string
	NewFolder        string // the name typed into a refused New folder form
	NewFolderError   string
}

// browse shows the link's targets, or one folder within them: a link to
// one folder opens in it, a link to one file shows that file's card.
func (s *Server) browse(c *gin.Context, p *portal, folderID string) {
	s.browseAs(c, p, folderID, http.StatusOK, nil)
}

// browseAs is browse with the page's status, and adjust (when set) run on
// the page before it renders.
func (s *Server) browseAs(c *gin.Context, p *portal, folderID string, status int, adjust func(*browsePage)) {
	ctx := c.Request.Context()
	ps := s.cfg.Portal.Service
	targets, err := ps.Targets(ctx, p.Visit)
	if err != nil {
		s.portalFail(c, p, err, "")
		return
	}
	l := p.Link
	if folderID == "" && len(targets) == 1 && targets[0].IsFolder() {
		c.Redirect(http.StatusSeeOther, p.base+"/d/"+targets[0].ID)
		return
	}
	if folderID == "" && l.Type == sesame.LinkUpload {
		// An upload link opens straight into its (first) folder.
		for _, t := range targets {
			if t.IsFolder() {
				c.Redirect(http.StatusSeeOther, p.base+"/d/"+t.ID)
				return
			}
		}
	}
	pg := s.browseBase(c, p)
	shown := targets
	if folderID != "" {
		f, objs, ok := s.folder(c, p, pg, folderID)
		if !ok {
			return
		}
		shown = []*sesame.Object{f}
		pg.Items = s.items(c, p, pg, objs)
	} else {
		pg.CanUpload = false
		pg.Crumbs = nil
		pg.Items = s.items(c, p, pg, targets)
		if len(targets) == 1 && !targets[0].IsFolder() {
			pg.File, pg.Items = &pg.Items[0], nil
		}
	}
	if err := s.summarise(c, p, pg, targets, shown, folderID); err != nil {
		s.portalFail(c, p, err, "")
		return
	}
	if pg.CanUpload {
		pg.Strings = s.locale(c).Strings(uploadStrings, uploadPlurals)
	}
	if adjust != nil {
		adjust(pg)
	}
	s.render(c, status, "browse", pg)
}

// browseBase fills in what every listing of the link shows.
func (s *Server) browseBase(c *gin.Context, p *portal) *browsePage {
	l, loc := p.Link, s.locale(c)
	pg := &browsePage{pageBase: pageBase{Base: p.base, CSRF: s.csrfFor(c, p), SignedIn: true}, Title: l.Title, Message: l.Message,
		Sender: senderOf(l), Expires: whenOf(loc, l.Expires, s.now()),
		CanUpload: l.Type != sesame.LinkDownload, CanEdit: l.Type == sesame.LinkEditor, CanDownload: l.Type != sesame.LinkUpload,
		UploadOnly: l.Type == sesame.LinkUpload}
	pg.Flash, pg.FlashKind = s.flashOf(c, p)
	if max := s.cfg.Portal.Service.Limits.MaxFileSize; max > 0 {
		pg.MaxFile = loc.Size(max)
	}
	if l.MaxDownloads > 0 && pg.CanDownload {
		pg.DownloadsLeft = loc.T("{{.Left}} of {{.Max}} downloads left", "Left", loc.Number(max(0, l.MaxDownloads-l.Downloads)), "Max", loc.Number(l.MaxDownloads))
	}
	return pg
}

// folder loads the folder id names within the link, its crumbs and its
// contents.
func (s *Server) folder(c *gin.Context, p *portal, pg *browsePage, id string) (*sesame.Object, []*sesame.Object, bool) {
	ctx := c.Request.Context()
	ps := s.cfg.Portal.Service
	f, ok := s.resolve(c, p, id)
	if !ok {
		return nil, nil, false
	}
	if !f.IsFolder() {
		c.Redirect(http.StatusSeeOther, p.base+"/f/"+f.ID)
		return nil, nil, false
	}
	pg.FolderID = f.ID
	var chain []crumb
	for _, a := range ps.Ancestors(ctx, p.Visit, f) {
		chain = append(chain, crumb{Name: a.Name, URL: p.base + "/d/" + a.ID})
	}
	chain[len(chain)-1].URL = ""
	if !s.singleFolder(c, p) && p.Link.Type != sesame.LinkUpload {
		// Several targets: "All files" leads back to them.
		chain = append([]crumb{{Name: s.t(c, "All files"), URL: p.base}}, chain...)
	}
	if len(chain) > 1 {
		pg.Crumbs = chain
	}
	objs, err := ps.Children(ctx, p.Visit, f)
	if err != nil {
		s.portalFail(c, p, err, "")
		return nil, nil, false
	}
	return f, objs, true
}

// singleFolder reports whether the link's only target is a folder.
func (s *Server) singleFolder(c *gin.Context, p *portal) bool {
	t, err := s.cfg.Portal.Service.Targets(c.Request.Context(), p.Visit)
	return err == nil && len(t) == 1 && t[0].IsFolder()
}

// summarise counts what the link holds and what its download button on
// this page would fetch: the whole link at the top and in a one-folder
// link's folder, the folder on screen below that.
func (s *Server) summarise(c *gin.Context, p *portal, pg *browsePage, targets, shown []*sesame.Object, folderID string) error {
	if pg.UploadOnly {
		return nil
	}
	ps := s.cfg.Portal.Service
	all, err := ps.Tally(c.Request.Context(), p.Visit, targets)
	if err != nil {
		return err
	}
	loc := s.locale(c)
	pg.Summary = tallyText(loc, all)
	if !pg.CanDownload || pg.File != nil {
		return nil
	}
	here := all
	whole := folderID == "" || (len(targets) == 1 && targets[0].ID == folderID)
	if !whole {
		if here, err = ps.Tally(c.Request.Context(), p.Visit, shown); err != nil {
			return err
		}
	}
	if here.Files == 0 {
		return nil
	}
	what := tallyText(loc, here)
	switch {
	case whole && folderID == "":
		pg.ZipURL, pg.ZipLabel = p.base+"/zip", loc.T("Download all ({{.What}})", "What", what)
	case whole:
		pg.ZipURL, pg.ZipLabel = p.base+"/zip", loc.T("Download this folder ({{.What}})", "What", what)
	default:
		pg.ZipURL, pg.ZipLabel = p.base+"/zip?id="+folderID, loc.T("Download this folder ({{.What}})", "What", what)
	}
	return nil
}

// tallyText says "1 file, 12 B" or "3 files, 56.0 KiB".
func tallyText(l *templates.Locale, t sesame.Tally) string {
	return l.N("{{.Count}} file", "{{.Count}} files", t.Files) + ", " + l.Size(t.Bytes)
}

// items turns objects into the rows of a listing, folders first.
func (s *Server) items(c *gin.Context, p *portal, pg *browsePage, objs []*sesame.Object) []item {
	loc := s.locale(c)
	sort.SliceStable(objs, func(i, j int) bool {
		if objs[i].IsFolder() != objs[j].IsFolder() {
			return objs[i].IsFolder()
		}
		return strings.ToLower(objs[i].Name) < strings.ToLower(objs[j].Name)
	})
	unlocked := s.unlockedAmong(c, p, objs)
	var out []item
	for _, o := range objs {
		it := item{ID: o.ID, Name: o.Name, Type: typeLabel(loc, o), Modified: loc.Date(o.Updated), Folder: o.IsFolder()}
		if o.Lock != nil && !o.IsFolder() {
			it.Protected, it.Locked = true, !unlocked[o.ID]
			if it.Locked {
				it.Unlock = p.base + "/unlock/" + o.ID
			}
		}
		if o.IsFolder() {
			it.Open = p.base + "/d/" + o.ID
		} else {
			it.Size = loc.Size(o.Size)
			it.Download = p.base + "/f/" + o.ID
			if viewKind(o) != "" {
				it.Preview = p.base + "/view/" + o.ID
			}
			if thumbable[mediaOf(o)] && o.Size <= maxThumbSource && p.Thumbnails() && o.Lock == nil {
				it.Thumb = p.base + "/th/" + o.ID
			}
		}
		if pg.CanEdit && !p.IsTarget(o) {
			it.Editable = true
			it.RenameURL = p.base + "/rename/" + o.ID
			it.DeleteURL = p.base + "/delete/" + o.ID
		}
		out = append(out, it)
	}
	return out
}
