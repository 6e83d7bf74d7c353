package mcp

import (
	"context"
	"os"
	"path/filepath"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/sesame-share/sesame"
)

func (t *tools) addObjectReadTools(srv *sdk.Server) {
	addTool(t, srv, &sdk.Tool{Name: "object_list", Annotations: &sdk.ToolAnnotations{ReadOnlyHint: true},
		Description: "List the files and folders in a folder of the store (by path, e.g. \"/reports/2025\"; \"/\" is the top). " +
			"Returns ids and paths to use as link targets. Page with next_cursor."}, t.objectList)
}

func (t *tools) addObjectWriteTools(srv *sdk.Server, local bool) {
	addTool(t, srv, &sdk.Tool{Name: "folder_create",
		Description: "Create a folder by its full path, e.g. \"/deliveries/acme\". Missing parent folders are created. Returns the folder's id."}, t.folderCreate)
	if local {
		addTool(t, srv, &sdk.Tool{Name: "object_upload",
			Description: "Upload a local file into the store. local_path must lie inside the directories this server allows; " +
				"folder is the destination folder path. Returns the stored file's id, size and sha256."}, t.objectUpload)
	}
}

type objectView struct {
	ID               string `json:"id"`
	Type             string `json:"type"`
	Name             string `json:"name"`
	Path             string `json:"path"`
	Size             int64  `json:"size"`
	SHA256           string `json:"sha256,omitempty"`
	FileTTL          string `json:"file_ttl"`
	FileTTLEffective string `json:"file_ttl_effective"`
	FileTTLFromID    string `json:"file_ttl_from_id,omitempty"`
	ExpiresAt        string `json:"expires_at,omitempty"`
}

func viewObject(o *sesame.Object) objectView {
	v := objectView{ID: o.ID, Type: string(o.Type), Name: o.Name, Path: o.Path, Size: o.Size, SHA256: o.SHA256,
		FileTTL: o.FileTTL.Wire(), FileTTLEffective: o.TTL.TTL.Wire(), FileTTLFromID: o.TTL.From}
	if !o.Expires.IsZero() {
		v.ExpiresAt = sesame.FormatTime(o.Expires)
	}
	return v
}

type objectListIn struct {
	Folder       string `json:"folder,omitempty" jsonschema:"the folder's path, such as /reports; / or empty for the top level"`
	NameContains string `json:"name_contains,omitempty" jsonschema:"only objects whose name contains this text"`
	Size         int    `json:"size,omitempty" jsonschema:"how many to return, 1 to 200 (default 50)"`
	Cursor       string `json:"cursor,omitempty" jsonschema:"next_cursor from the previous page"`
}

type objectListOut struct {
	Count      int          `json:"count"`
	Objects    []objectView `json:"objects"`
	NextCursor string       `json:"next_cursor,omitempty"`
}

func (t *tools) objectList(ctx context.Context, in objectListIn) (objectListOut, error) {
	var out objectListOut
	size, err := pageSize(in.Size, 50, 200)
	if err != nil {
		return out, err
	}
	if _, err := sesame.SplitPath("/folder", in.Folder); err != nil {
		return out, err
	}
	f := sesame.ObjectFilter{OrderBy: "name", Size: size, Conds: []sesame.Cond{{Field: "folder", Op: sesame.OpFolder, Values: []string{in.Folder}}}}
	if in.NameContains != "" {
		f.Conds = append(f.Conds, sesame.Cond{Field: "name", Op: sesame.OpContains, Values: []string{in.NameContains}})
	}
	if f.After, err = cursor(in.Cursor); err != nil {
		return out, err
	}
	page, err := t.cfg.Objects.Find(ctx, f)
	if err != nil {
		return out, err
	}
	out.Count = page.Count
	out.Objects = make([]objectView, len(page.Objects))
	for i, o := range page.Objects {
		out.Objects[i] = viewObject(o)
	}
	if page.Next != nil {
		out.NextCursor = page.Next.Encode()
	}
	return out, nil
}

// pageSize applies a tool's default and bounds to a requested page size.
func pageSize(n, def, max int) (int, error) {
	if n == 0 {
		return def, nil
	}
	if n < 1 || n > max {
		return 0, sesame.FieldErr("NotWithinRange", "/size", "size must be between 1 and %d", max)
	}
	return n, nil
}

// cursor parses a next_cursor the caller sent back; nil for none.
func cursor(s string) (*sesame.Cursor, error) {
	if s == "" {
		return nil, nil
	}
	return sesame.DecodeCursor("/cursor", s)
}

type folderCreateIn struct {
	Path           string `json:"path" jsonschema:"the folder's full path, such as /deliveries/acme"`
	FileTTL        string `json:"file_ttl,omitempty" jsonschema:"for the files inside: how long they live: never, inherited (the default: follow the folder above) or a duration such as 7d, 12h or 30m"`
	IdempotencyKey string `json:"idempotency_key,omitempty" jsonschema:"any unique string; a retry with the same key returns the first result"`
}

func (t *tools) folderCreate(ctx context.Context, in folderCreateIn) (objectView, error) {
	ctx, note := t.change(ctx, "folder_create")
	out, err := idempotent(ctx, t, "folder_create", in.IdempotencyKey, in, func() (objectView, error) {
		segs, err := sesame.SplitPath("/path", in.Path)
		if err != nil {
			return objectView{}, err
		}
		if len(segs) == 0 {
			return objectView{}, sesame.FieldErr("FieldRequired", "/path", "path must name the new folder, not the root")
		}
		p := sesame.Placement{Name: segs[len(segs)-1], NameSource: "/path",
			HasParentPath: true, ParentPath: "/" + strings.Join(segs[:len(segs)-1], "/"), ParentSource: "/path"}
		o, err := t.cfg.Objects.CreateFolder(ctx, sesame.FolderCreate{Placement: p, FileTTL: sesame.FileTTL(in.FileTTL)})
		if err != nil {
			return objectView{}, err
		}
		return viewObject(o), nil
	})
	t.record(ctx, note, err, "", out.ID)
	return out, err
}

type objectUploadIn struct {
	LocalPath      string `json:"local_path" jsonschema:"absolute path of the local file to upload"`
	Folder         string `json:"folder" jsonschema:"destination folder path in the store, such as /deliveries/acme (created if missing)"`
	Name           string `json:"name,omitempty" jsonschema:"name to store it under; default: the local file's name"`
	FileTTL        string `json:"file_ttl,omitempty" jsonschema:"how long the file lives: never, inherited (the default: follow its folder) or a duration such as 7d, 12h or 30m"`
	IdempotencyKey string `json:"idempotency_key,omitempty" jsonschema:"any unique string; a retry with the same key returns the first result"`
}

// insideRoots resolves p (following links) and checks that it lies in
// one of the allowed directories.
func insideRoots(p string, roots []string) (string, error) {
	if !filepath.IsAbs(p) {
		return "", sesame.FieldErr("BadFormat", "/local_path", "local_path must be an absolute path")
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", sesame.FieldErr("DoesNotExist", "/local_path", "no readable file at %s", p).WithKind(sesame.NotFound)
	}
	for _, r := range roots {
		rr, err := filepath.EvalSymlinks(r)
		if err != nil {
			continue
		}
		if rel, err := filepath.Rel(rr, real); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel) {
			return real, nil
		}
	}
	return "", sesame.FieldErr("BadState", "/local_path", "%s is outside the directories this server may read (mcp.upload_roots)", p).WithKind(sesame.Forbidden)
}

func (t *tools) objectUpload(ctx context.Context, in objectUploadIn) (objectView, error) {
	ctx, note := t.change(ctx, "object_upload")
	out, err := idempotent(ctx, t, "object_upload", in.IdempotencyKey, in, func() (objectView, error) {
		real, err := insideRoots(in.LocalPath, t.cfg.UploadRoots)
		if err != nil {
			return objectView{}, err
		}
		f, err := os.Open(real)
		if err != nil {
			return objectView{}, sesame.FieldErr("DoesNotExist", "/local_path", "cannot read %s", in.LocalPath).WithKind(sesame.NotFound)
		}
		defer f.Close()
		if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
			return objectView{}, sesame.FieldErr("BadState", "/local_path", "%s is not a regular file", in.LocalPath)
		}
		name := in.Name
		if name == "" {
			name = filepath.Base(real)
		}
		if _, err := sesame.SplitPath("/folder", in.Folder); err != nil {
			return objectView{}, err
		}
		p := sesame.Placement{Name: name, NameSource: "/name", HasParentPath: true, ParentPath: in.Folder, ParentSource: "/folder"}
		o, err := t.cfg.Objects.Put(ctx, sesame.FileCreate{Placement: p, FileTTL: sesame.FileTTL(in.FileTTL)}, f, name)
		if err != nil {
			return objectView{}, err
		}
		return viewObject(o), nil
	})
	t.record(ctx, note, err, "", out.ID)
	return out, err
}
