package sesame

import (
	"context"
	"fmt"
	"strings"
)

// Root scopes a call to the subtree below one folder, as the API's
// root_id and root_folder do. Inside a scoped call an id that lies
// outside the subtree names nothing (NotFound, exactly as for an id that
// does not exist), every path the request holds is relative to the root
// folder ("/" or "" is the root folder itself), and the paths in the
// reply are relative to it too; ids stay ids. The root folder itself is
// not inside its subtree: it may be named as a parent (by "" or its id),
// but not fetched, changed or deleted through its own scope. When both
// fields are given they must name the same folder. The zero Root is the
// whole bucket.
type Root struct {
	ID     string // root_id; "" when not given
	Folder string // root_folder; "" when not given, "/" the bucket's root
}

// IsZero reports whether r scopes nothing.
func (r Root) IsZero() bool { return r.ID == "" && r.Folder == "" }

// subtree is a resolved Root: the folder's id and full path, or "" and
// "/" for the whole bucket.
type subtree struct {
	id, path string
}

var wholeBucket = subtree{id: RootParentID, path: RootFolderPath}

func (t subtree) whole() bool { return t.path == RootFolderPath }

// abs turns a path relative to t into a full path.
func (t subtree) abs(p string) string {
	if t.whole() {
		return p
	}
	if strings.Trim(p, "/") == "" {
		return t.path
	}
	return t.path + "/" + strings.TrimPrefix(p, "/")
}

// below reports whether the full path p lies strictly inside t.
func (t subtree) below(p string) bool { return t.whole() || strings.HasPrefix(p, t.path+"/") }

// holds reports whether the full path p is t's folder or inside it: where
// a scoped call may put things.
func (t subtree) holds(p string) bool { return p == t.path || t.below(p) }

// rebase makes the paths of objs relative to t.
func (t subtree) rebase(objs ...*Object) {
	if t.whole() {
		return
	}
	for _, o := range objs {
		if o != nil && t.below(o.Path) {
			o.Path = strings.TrimPrefix(o.Path, t.path)
		}
	}
}

// subtree resolves r. A root that does not exist, or is a file, is
// refused pointing at the field that named it; two fields naming
// different folders are refused pointing at root_folder.
func (s *ObjectService) subtree(ctx context.Context, bucketID string, r Root) (subtree, error) {
	byID, byPath := wholeBucket, wholeBucket
	if r.ID != "" {
		if err := CheckObjectID("/root_id", r.ID); err != nil {
			return byID, err
		}
		o, err := s.Store.ObjectByID(ctx, bucketID, r.ID)
		if err != nil {
			return byID, rootErr(err, "/root_id", r.ID)
		}
		if !o.IsFolder() {
			return byID, FieldErr("BadState", "/root_id", "root_id %s is a file, not a folder", r.ID)
		}
		byID = subtree{id: o.ID, path: o.Path}
	}
	if r.Folder != "" {
		segs, err := SplitPath("/root_folder", r.Folder)
		if err != nil {
			return byPath, err
		}
		if len(segs) > 0 {
			o, err := s.Store.ObjectByPath(ctx, bucketID, "/"+strings.Join(segs, "/"))
			if err != nil {
				return byPath, rootErr(err, "/root_folder", r.Folder)
			}
			if !o.IsFolder() {
				return byPath, FieldErr("BadState", "/root_folder", "root_folder %s is a file, not a folder", r.Folder)
			}
			byPath = subtree{id: o.ID, path: o.Path}
		}
		if r.ID != "" && byPath != byID {
			return byPath, FieldErr("MutuallyExclusive", "/root_folder", "root_folder names a different folder from root_id")
		}
		return byPath, nil
	}
	return byID, nil
}

func rootErr(err error, source, value string) error {
	if KindOf(err) == NotFound {
		return FieldErr("DoesNotExist", source, "%s %q does not exist", fieldName(source), value).WithKind(NotFound)
	}
	return err
}

// noObject is the answer for an id that does not exist or lies outside
// the call's subtree: the same words either way.
func noObject(source, what, id string) error {
	return FieldErr("DoesNotExist", source, "%s %s does not exist", what, id).WithKind(NotFound)
}

// ObjectRef names one object by id, by path or by both (which must then
// name the same object), within Root.
type ObjectRef struct {
	BucketID string
	ID       string
	Path     string // relative to Root
	Root     Root
}

// Lookup finds the object ref names. Its path is relative to ref.Root.
func (s *ObjectService) Lookup(ctx context.Context, ref ObjectRef) (*Object, error) {
	if err := canRead(ctx); err != nil {
		return nil, err
	}
	t, err := s.subtree(ctx, ref.BucketID, ref.Root)
	if err != nil {
		return nil, err
	}
	o, err := s.resolveIn(ctx, ref.BucketID, t, ref.ID, ref.Path)
	t.rebase(o)
	return o, err
}

// resolveIn finds the object id and path name inside t.
func (s *ObjectService) resolveIn(ctx context.Context, bucketID string, t subtree, id, path string) (*Object, error) {
	var byID *Object
	if id != "" {
		if err := CheckObjectID("/id", id); err != nil {
			return nil, err
		}
		o, err := s.Store.ObjectByID(ctx, bucketID, id)
		if err != nil {
			return nil, err
		}
		if !t.below(o.Path) {
			return nil, noObject("/id", "object", id)
		}
		byID = o
	}
	if path == "" {
		if byID == nil {
			return nil, FieldErr("MustProvideOne", "/id", "send id (or path) to name the object")
		}
		return byID, nil
	}
	if !t.whole() && strings.Trim(path, "/") == "" {
		return nil, FieldErr("BadState", "/path", "the root folder is not an object")
	}
	if _, err := SplitPath("/path", path); err != nil {
		return nil, err
	}
	o, err := s.Store.ObjectByPath(ctx, bucketID, t.abs(path))
	if KindOf(err) == NotFound && !t.whole() {
		return nil, noObject("/path", "path", path)
	}
	if err != nil {
		return nil, err
	}
	if byID != nil && byID.ID != o.ID {
		return nil, FieldErr("MutuallyExclusive", "/path", "path names a different object from id")
	}
	return o, nil
}

// place resolves p.Root and returns p with its parent as full paths and
// ids inside it, and the subtree to rebase the result by.
func (s *ObjectService) place(ctx context.Context, p Placement) (Placement, subtree, error) {
	t, err := s.subtree(ctx, p.BucketID, p.Root)
	p.Root = Root{}
	if err != nil || t.whole() {
		return p, t, err
	}
	if p.HasParentID && p.ParentID == RootParentID {
		p.ParentID = t.id // "" is the top of the scope
	}
	if p.HasParentID && p.ParentID != t.id {
		if err := s.checkParent(ctx, p.BucketID, t, "/parent_id", p.ParentID); err != nil {
			return p, t, err
		}
	}
	if p.HasParentPath {
		p.ParentPath = t.abs(p.ParentPath)
	}
	if !p.HasParentPath && !p.HasParentID {
		p.HasParentID, p.ParentID = true, t.id
	}
	return p, t, nil
}

// checkParent refuses, as if it did not exist, a parent folder id outside
// t (t's own folder is allowed).
func (s *ObjectService) checkParent(ctx context.Context, bucketID string, t subtree, source, id string) error {
	parent, err := s.Store.ObjectByID(ctx, bucketID, id)
	if KindOf(err) == NotFound || err == nil && !t.holds(parent.Path) {
		return noObject(source, "folder", id)
	}
	return err
}

// scopeUpdate makes the move of upd absolute within t.
func (s *ObjectService) scopeUpdate(ctx context.Context, bucketID string, t subtree, upd *ObjectUpdate) error {
	upd.Root = Root{}
	if t.whole() {
		return nil
	}
	if upd.ParentID != nil {
		id := *upd.ParentID
		if id == "" {
			id = t.id
		} else if err := s.checkParent(ctx, bucketID, t, "/parent_id", id); err != nil {
			return err
		}
		upd.ParentID = &id
	}
	if upd.ParentPath != nil {
		p := t.abs(*upd.ParentPath)
		upd.ParentPath = &p
	}
	return nil
}

// scopeFilter restricts f to t, with the paths and the root parent ("")
// of its conditions made absolute.
func scopeFilter(f *ObjectFilter, t subtree) {
	f.Root = Root{}
	if t.whole() {
		return
	}
	f.Within = t.path
	conds := make([]Cond, len(f.Conds))
	for i, c := range f.Conds {
		vals := append([]string(nil), c.Values...)
		for j, v := range vals {
			switch {
			case c.Field == "folder", c.Field == "path" && (c.Op == OpEq || c.Op == OpIn):
				vals[j] = t.abs(v)
			case c.Field == "parent_id" && v == "" && (c.Op == OpEq || c.Op == OpIn):
				vals[j] = t.id
			}
		}
		c.Values = vals
		conds[i] = c
	}
	f.Conds = conds
}

// DeleteIn removes the object ref names (a folder with its contents only
// when force is set) and returns it with how many were removed.
func (s *ObjectService) DeleteIn(ctx context.Context, ref ObjectRef, force bool) (*Object, int, error) {
	if err := canWrite(ctx); err != nil {
		return nil, 0, err
	}
	o, err := s.Lookup(ctx, ref)
	if err != nil {
		return nil, 0, err
	}
	n, err := s.Store.DeleteObject(ctx, ref.BucketID, o.ID, force)
	return o, n, err
}

// ArchiveIn is Archive within root: every id must lie inside it.
func (s *ObjectService) ArchiveIn(ctx context.Context, bucketID string, root Root, ids []string, format string) ([]ArchiveEntry, error) {
	if err := canRead(ctx); err != nil {
		return nil, err
	}
	t, err := s.subtree(ctx, bucketID, root)
	if err != nil {
		return nil, err
	}
	if err := checkArchive(ids, format); err != nil {
		return nil, err
	}
	if !t.whole() {
		found, err := s.Store.ObjectsByID(ctx, bucketID, ids)
		if err != nil {
			return nil, err
		}
		inside := make(map[string]bool, len(found))
		for _, o := range found {
			inside[o.ID] = t.below(o.Path)
		}
		for i, id := range ids {
			if !inside[id] {
				return nil, noObject(fmt.Sprintf("/ids/%d", i), "object", id)
			}
		}
	}
	entries, err := s.Store.ArchiveEntries(ctx, bucketID, ids)
	if err != nil {
		return nil, err
	}
	if err := refuseProtected(ids, entries); err != nil {
		return nil, err
	}
	for _, e := range entries {
		t.rebase(e.Object)
	}
	return entries, nil
}
