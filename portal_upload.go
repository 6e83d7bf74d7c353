package sesame

import (
	"context"
	"fmt"
	"io"
)

// CanUpload returns Forbidden unless the visit's link takes uploads.
func (v *Visit) CanUpload() error {
	if v.Link.Type == LinkDownload {
		return Errorf(Forbidden, "This link does not accept uploads.")
	}
	return nil
}

// UploadFolder resolves the folder a recipient uploads into.
func (ps *PortalService) UploadFolder(ctx context.Context, v *Visit, id string) (*Object, error) {
	if err := v.CanUpload(); err != nil {
		return nil, err
	}
	f, err := ps.Resolve(ctx, v, id)
	if err != nil {
		return nil, err
	}
	if !f.IsFolder() {
		return nil, Errorf(Invalid, "Files can only be uploaded into a folder.")
	}
	return f, nil
}

// Upload stores r as a new file in folder, under the safe form of name
// (SanitizeName) and a free name beside what is there. The link's caps are reservations: one slot
// is taken before the bytes arrive and the bytes are reserved once their
// size is known, each with one conditional UPDATE, and given back when the
// upload fails. Nothing is visible until the file is complete.
func (ps *PortalService) Upload(ctx context.Context, v *Visit, folder *Object, name string, r io.Reader) (*Object, error) {
	name = SanitizeName(name)
	lim := ps.Limits
	used, ok, err := ps.Access.ReserveUploadFile(ctx, v.Link.ID, lim.MaxLinkFiles)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ps.uploadRefused(ctx, v, name, "files", Say(TooLarge, "This link accepts at most {{.N}} files, and they have all been uploaded.", "N", lim.MaxLinkFiles))
	}
	files, reserved := 1, int64(0)
	release := func() {
		if err := ps.Access.ReleaseUpload(context.WithoutCancel(ctx), v.Link.ID, files, reserved); err != nil {
			ps.log().ErrorContext(ctx, "release upload", "error", err)
		}
	}
	max := lim.MaxFileSize
	if lim.MaxLinkBytes > 0 {
		left := lim.MaxLinkBytes - used
		if left <= 0 {
			release()
			return nil, ps.uploadRefused(ctx, v, name, "bytes", Errorf(TooLarge, "This link has no room left for more files."))
		}
		if max == 0 || left < max {
			max = left
		}
	}
	up, err := ps.stage(ctx, v, name, r, max)
	if err != nil {
		release()
		return nil, err
	}
	ok, err = ps.Access.ReserveUploadBytes(ctx, v.Link.ID, up.Size, lim.MaxLinkBytes)
	if err != nil || !ok {
		release()
		ps.discard(ctx, up)
		if err == nil {
			err = Say(TooLarge, "This link has no room left for {{.Name}}.", "Name", name)
		}
		return nil, ps.uploadRefused(ctx, v, name, "bytes", err)
	}
	reserved = up.Size
	o, err := ps.commitUpload(ctx, v, folder, name, up)
	if err != nil {
		release()
		return nil, err
	}
	return o, nil
}

// stage stages r, at most max bytes (0: no cap), hashing it; a refusal is
// audited.
func (ps *PortalService) stage(ctx context.Context, v *Visit, name string, r io.Reader, max int64) (*Upload, error) {
	up, err := ps.Blobs.Stage(ctx, r, name, max)
	if err != nil {
		if KindOf(err) == TooLarge {
			err = &Error{Kind: TooLarge, Message: fmt.Sprintf("%s is larger than this link allows (%s).", name, HumanSize(max)), Err: err,
				Text: "{{.Name}} is larger than this link allows ({{.Max}}).", Data: []any{"Name", name, "Max", HumanSize(max)}}
		}
		return nil, ps.uploadRefused(ctx, v, name, KindOf(err).String(), err)
	}
	return up, nil
}

// commitUpload commits a staged upload atomically as a new file in folder,
// under name or a free name beside what is there, and remembers it as the
// session's.
func (ps *PortalService) commitUpload(ctx context.Context, v *Visit, folder *Object, name string, up *Upload) (*Object, error) {
	cctx := ps.change(ctx, v, "upload", map[string]string{"bytes": fmt.Sprint(up.Size), "name": name})
	o, err := ps.Objects.CreateFile(cctx, FileCreate{Placement: Placement{BucketID: folder.BucketID, ParentID: folder.ID,
		HasParentID: true, Name: name}, AutoRename: true}, up)
	if err != nil {
		return nil, err
	}
	// The file is stored: the visit lists it even if its client has gone.
	if err := ps.Access.AddSessionUpload(context.WithoutCancel(ctx), v.Session.ID, o.ID); err != nil {
		ps.log().ErrorContext(ctx, "session upload", "error", err)
	}
	return o, nil
}

func (ps *PortalService) discard(ctx context.Context, up *Upload) {
	if err := ps.Blobs.Discard(context.WithoutCancel(ctx), up); err != nil {
		ps.log().ErrorContext(ctx, "discard upload", "error", err)
	}
}

// uploadRefused audits a refused upload and returns err.
func (ps *PortalService) uploadRefused(ctx context.Context, v *Visit, name, why string, err error) error {
	ps.audit(ctx, v, "upload", "failure:"+why, "", map[string]string{"name": name})
	return err
}

// Editable loads an object an editor may change: inside the targets, but
// not a target itself (that is what was shared).
func (ps *PortalService) Editable(ctx context.Context, v *Visit, id string) (*Object, error) {
	if v.Link.Type != LinkEditor {
		return nil, Errorf(Forbidden, "This link does not allow changes.")
	}
	o, err := ps.Resolve(ctx, v, id)
	if err != nil {
		return nil, err
	}
	if v.IsTarget(o) {
		return nil, Errorf(Forbidden, "This is the item that was shared with you; it cannot be renamed or deleted here.")
	}
	return o, nil
}

var errNameTaken = Errorf(Conflict, "Something in this folder already has that name.")

// errBadName answers a name a recipient may not give.
var errBadName = Errorf(Invalid, "Names cannot contain / or \\, control or text-direction characters or reserved words, and cannot be . or ..")

// checkRecipientName applies the name rule to a name a recipient typed: it
// must already be in its safe form, so nothing is changed behind their back.
func checkRecipientName(name string) error {
	if CheckName("/name", name) != nil || SanitizeName(name) != name {
		return errBadName
	}
	return nil
}

// Rename renames an object inside the targets. The new name is one path
// segment, so a rename never moves anything.
func (ps *PortalService) Rename(ctx context.Context, v *Visit, id, name string) (*Object, error) {
	o, err := ps.Editable(ctx, v, id)
	if err != nil {
		return nil, err
	}
	if err := checkRecipientName(name); err != nil {
		ps.audit(ctx, v, "rename", "failure:400", o.ID, nil)
		return o, err
	}
	cctx := ps.change(ctx, v, "rename", map[string]string{"from": o.Name, "to": name})
	renamed, err := ps.Objects.UpdateObject(cctx, o.ID, ObjectUpdate{BucketID: o.BucketID, Name: &name})
	if KindOf(err) == Conflict {
		ps.audit(ctx, v, "rename", "failure:409", o.ID, nil)
		return o, errNameTaken
	}
	if err != nil {
		return o, err
	}
	return renamed, nil
}

// Delete deletes an object inside the targets, a folder with everything
// in it.
func (ps *PortalService) Delete(ctx context.Context, v *Visit, id string) (*Object, error) {
	o, err := ps.Editable(ctx, v, id)
	if err != nil {
		return nil, err
	}
	// The event names the item; how many it held is in the objects' own
	// history.
	if _, err := ps.Objects.DeleteObject(ps.change(ctx, v, "delete", map[string]string{"name": o.Name}), o.BucketID, o.ID, true); err != nil {
		return o, err
	}
	return o, nil
}

// Mkdir creates a folder inside the targets.
func (ps *PortalService) Mkdir(ctx context.Context, v *Visit, parentID, name string) (*Object, error) {
	if v.Link.Type != LinkEditor {
		return nil, Errorf(Forbidden, "This link does not allow changes.")
	}
	parent, err := ps.Resolve(ctx, v, parentID)
	if err != nil {
		return nil, err
	}
	if !parent.IsFolder() {
		return nil, Errorf(Invalid, "Folders can only be made inside a folder.")
	}
	if err := checkRecipientName(name); err != nil {
		return nil, err
	}
	o, err := ps.Objects.CreateFolder(ps.change(ctx, v, "mkdir", map[string]string{"name": name}), FolderCreate{Placement: Placement{BucketID: parent.BucketID, ParentID: parent.ID,
		HasParentID: true, Name: name}})
	if KindOf(err) == Conflict {
		return nil, errNameTaken
	}
	if err != nil {
		return nil, err
	}
	return o, nil
}

// HumanSize renders a byte count for people: "512 B", "1.5 MiB".
func HumanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
