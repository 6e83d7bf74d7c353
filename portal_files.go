package sesame

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
)

// InScope reports whether o is one of targets or lies inside a folder
// target. This is the scope rule of every link: nothing else is ever
// reachable through it.
func InScope(targets []*Object, o *Object) bool {
	for _, t := range targets {
		if o.BucketID != t.BucketID {
			continue
		}
		if o.ID == t.ID || (t.IsFolder() && strings.HasPrefix(o.Path, t.Path+"/")) {
			return true
		}
	}
	return false
}

// errOutOfScope answers every object a link does not reach, whether or
// not it exists.
var errOutOfScope = Errorf(NotFound, "That file or folder is not part of this link.")

// maxListed bounds one listing of a folder or of a link's targets.
const maxListed = 1000

// Targets returns the link's targets that still exist, by name.
func (ps *PortalService) Targets(ctx context.Context, v *Visit) ([]*Object, error) {
	if v.targets == nil {
		if _, err := ps.load(ctx, v, ""); err != nil {
			return nil, err
		}
	}
	return v.targets, nil
}

// load reads the object id (none when id is "") and, unless the visit
// holds them already, the link's targets, all in one query.
func (ps *PortalService) load(ctx context.Context, v *Visit, id string) (*Object, error) {
	ids := []string{id}
	if v.targets == nil {
		ids = append(ids[:0:0], v.Link.Targets...)
		if id != "" {
			ids = append(ids, id)
		}
	}
	objs, err := ps.Objects.ObjectsByID(ctx, v.Link.BucketID, ids)
	if err != nil {
		return nil, err
	}
	var o *Object
	if v.targets == nil {
		v.targets = []*Object{}
		for _, x := range objs {
			if v.IsTarget(x) {
				v.targets = append(v.targets, x)
			}
		}
		sort.Slice(v.targets, func(i, j int) bool {
			a, b := v.targets[i], v.targets[j]
			return a.Name < b.Name || a.Name == b.Name && a.ID < b.ID
		})
	}
	for _, x := range objs {
		if x.ID == id {
			o = x
		}
	}
	return o, nil
}

// IsTarget reports whether o is one of the link's targets (which a
// recipient may not rename or delete: that is what was shared).
func (v *Visit) IsTarget(o *Object) bool {
	if v.targetIDs == nil {
		v.targetIDs = make(map[string]bool, len(v.Link.Targets))
		for _, id := range v.Link.Targets {
			v.targetIDs[id] = true
		}
	}
	return v.targetIDs[o.ID]
}

// Resolve loads the object id names and checks that it lies within the
// link. Anything else is NotFound, whether it exists or not.
func (ps *PortalService) Resolve(ctx context.Context, v *Visit, id string) (*Object, error) {
	if !ValidID(PrefixObject, id) {
		return nil, errOutOfScope // no lookup for what cannot be an id
	}
	o, err := ps.load(ctx, v, id)
	if err != nil {
		return nil, err
	}
	if o == nil || !InScope(v.targets, o) {
		return nil, errOutOfScope
	}
	return o, nil
}

// Ancestors returns the folders from the target down to f, f included.
func (ps *PortalService) Ancestors(ctx context.Context, v *Visit, f *Object) []*Object {
	chain := []*Object{f}
	for cur := f; !v.IsTarget(cur) && cur.ParentID != ""; {
		found, err := ps.Objects.ObjectsByID(ctx, v.Link.BucketID, []string{cur.ParentID})
		if err != nil || len(found) == 0 || !InScope(v.targets, found[0]) {
			break
		}
		parent := found[0]
		chain = append([]*Object{parent}, chain...)
		cur = parent
	}
	return chain
}

// Children lists a folder inside the link. On an upload link a visitor
// sees only what their own session uploaded.
func (ps *PortalService) Children(ctx context.Context, v *Visit, f *Object) ([]*Object, error) {
	conds := []Cond{{Field: "parent_id", Op: OpEq, Values: []string{f.ID}}}
	if v.Link.Type == LinkUpload {
		ids, err := ps.Access.SessionUploadIDs(ctx, v.Session.ID)
		if err != nil || len(ids) == 0 {
			return nil, err
		}
		conds = append(conds, Cond{Field: "id", Op: OpIn, Values: ids})
	}
	page, err := ps.Objects.FindObjects(ctx, ObjectFilter{BucketID: v.Link.BucketID, Conds: conds, OrderBy: "name", Size: maxListed})
	if err != nil {
		return nil, err
	}
	return page.Objects, nil
}

// Tally counts the files among objs (resolved within v) and below its
// folders, and their bytes; an object inside another of objs counts once.
func (ps *PortalService) Tally(ctx context.Context, v *Visit, objs []*Object) (Tally, error) {
	var t Tally
	for _, o := range objs {
		if within(objs, o) {
			continue
		}
		if !o.IsFolder() {
			t.Files++
			t.Bytes += o.Size
			continue
		}
		ft, err := ps.Objects.TallyFolder(ctx, o)
		if err != nil {
			return Tally{}, err
		}
		t.Files += ft.Files
		t.Bytes += ft.Bytes
	}
	return t, nil
}

// within reports whether o lies below one of the folders among objs.
func within(objs []*Object, o *Object) bool {
	for _, f := range objs {
		if f.IsFolder() && f.ID != o.ID && strings.HasPrefix(o.Path, f.Path+"/") {
			return true
		}
	}
	return false
}

// errUploadOnly answers a download through an upload link.
var errUploadOnly = Errorf(Forbidden, "This link lets you upload files, not download them.")

// ErrDownloadLimit answers a download past the link's max_downloads.
var ErrDownloadLimit = Errorf(Forbidden, "This link has been downloaded as often as the sender allowed.")

// Claim is a download in progress: the slot it holds against the link's
// download count, if it took one.
type Claim struct {
	Key      string
	ObjectID string
	claimed  bool
}

// StartDownload claims a download of o (a file resolved within v): one
// conditional UPDATE against max_downloads; a Range request for a file the
// session already holds reuses its claim.
func (ps *PortalService) StartDownload(ctx context.Context, v *Visit, o *Object) (*Claim, error) {
	return ps.claim(ctx, v, o.ID, o.ID)
}

// StartArchive resolves ids (all of the link's targets when ids is
// empty), expands them into archive entries and claims one download.
func (ps *PortalService) StartArchive(ctx context.Context, v *Visit, ids []string) ([]ArchiveEntry, *Claim, error) {
	if err := v.CanDownload(); err != nil {
		return nil, nil, err
	}
	targets, err := ps.Targets(ctx, v)
	if err != nil {
		return nil, nil, err
	}
	if len(ids) == 0 {
		for _, t := range targets {
			ids = append(ids, t.ID)
		}
	}
	for _, id := range ids { // no lookups for what cannot be an id
		if !ValidID(PrefixObject, id) {
			return nil, nil, errOutOfScope
		}
	}
	if len(ids) > MaxArchiveIDs {
		return nil, nil, Say(Invalid, "Choose at most {{.N}} items for one archive.", "N", MaxArchiveIDs)
	}
	for _, id := range ids {
		if _, err := ps.Resolve(ctx, v, id); err != nil {
			return nil, nil, err
		}
	}
	entries, err := ps.Objects.ArchiveEntries(ctx, v.Link.BucketID, ids)
	if err != nil {
		return nil, nil, err
	}
	if err := ps.checkArchiveKeys(ctx, v, entries); err != nil {
		return nil, nil, err
	}
	sorted := append([]string(nil), ids...)
	sort.Strings(sorted)
	sum := sha256.Sum256([]byte(strings.Join(sorted, ",")))
	c, err := ps.claim(ctx, v, "zip:"+hex.EncodeToString(sum[:8]), "")
	return entries, c, err
}

// CanDownload returns Forbidden unless the visit's link lets recipients
// download.
func (v *Visit) CanDownload() error {
	if v.Link.Type == LinkUpload {
		return errUploadOnly
	}
	return nil
}

func (ps *PortalService) claim(ctx context.Context, v *Visit, key, objectID string) (*Claim, error) {
	if err := v.CanDownload(); err != nil {
		return nil, err
	}
	claimed, err := ps.Access.ClaimDownload(ctx, v.Link, v.Session.ID, key)
	if KindOf(err) == Forbidden {
		ps.audit(ctx, v, "download", "failure:limit", objectID, map[string]string{"key": key})
		return nil, ErrDownloadLimit
	}
	if err != nil {
		return nil, err
	}
	return &Claim{Key: key, ObjectID: objectID, claimed: claimed}, nil
}

// FinishDownload settles a claim: a download that sent nothing, or ended
// in an error, gives its slot back. Either way it is audited.
func (ps *PortalService) FinishDownload(ctx context.Context, v *Visit, c *Claim, sent int64, status int, method string) {
	outcome := "success"
	if status >= 400 {
		outcome = fmt.Sprintf("failure:%d", status)
	}
	if c.claimed && (sent == 0 || status >= 400) {
		if err := ps.Access.RefundDownload(context.WithoutCancel(ctx), v.Link.ID, v.Session.ID, c.Key); err != nil {
			ps.log().ErrorContext(ctx, "refund download", "error", err)
		}
		outcome = "refunded"
	}
	if ctx.Err() != nil && outcome == "success" {
		outcome = "interrupted"
	}
	detail := map[string]string{"bytes": fmt.Sprint(sent), "method": method}
	if outcome == "success" && c.claimed && ps.Events != nil {
		// The first download of the file in this session: an event.
		ps.publish(ctx, v, DownloadEvent(v.Link, v.Session.ID, c.ObjectID, sent, ps.now().UTC()), "download", outcome, c.ObjectID, detail)
		return
	}
	ps.audit(ctx, v, "download", outcome, c.ObjectID, detail)
}

// Thumbnails reports whether the visit may see small versions of images:
// not on an upload link, and not when downloads are capped, since a
// thumbnail is a download that claims nothing.
func (v *Visit) Thumbnails() bool { return v.Link.Type != LinkUpload && v.Link.MaxDownloads == 0 }

// Thumbnail opens the image id names for a thumbnail, when the visit may
// see thumbnails; NotFound otherwise.
func (ps *PortalService) Thumbnail(ctx context.Context, v *Visit, id string) (*Object, Blob, error) {
	if !v.Thumbnails() {
		return nil, nil, errOutOfScope
	}
	o, err := ps.Resolve(ctx, v, id)
	if err != nil {
		return nil, nil, err
	}
	if o.IsFolder() || o.Lock != nil {
		return nil, nil, errOutOfScope
	}
	b, err := ps.Blobs.OpenBlob(ctx, o.BlobKey)
	return o, b, err
}

// OpenBlob opens the contents of a file resolved within v; a protected
// file only with the key the visit keeps for it (ErrFileLocked when it
// keeps none).
func (ps *PortalService) OpenBlob(ctx context.Context, v *Visit, o *Object) (Blob, error) {
	key, err := ps.fileKey(ctx, v, o)
	if err != nil {
		return nil, err
	}
	return openFile(ctx, ps.Blobs, o, key)
}
