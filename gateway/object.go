package gateway

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/sesame-share/sesame"
)

// objectView is an object on the wire.
type objectView struct {
	ID                string            `json:"id"`
	Type              string            `json:"type"`
	Name              string            `json:"name"`
	Folder            string            `json:"folder"`
	ParentID          string            `json:"parent_id"`
	CreatedAt         string            `json:"created_at"`
	UpdatedAt         string            `json:"updated_at"`
	Size              int64             `json:"size"`
	BillableSize      int64             `json:"billable_size"`
	MD5               string            `json:"md5,omitempty"`
	SHA256            string            `json:"sha256,omitempty"`
	SHA512            string            `json:"sha512,omitempty"`
	CRC32C            string            `json:"crc32c,omitempty"`
	Metadata          map[string]string `json:"metadata,omitempty"`
	Tags              []string          `json:"tags,omitempty"`
	MetadataProtected map[string]string `json:"metadata_protected,omitempty"`
	ShareLinkIDs      []string          `json:"share_link_ids,omitempty"`
}

func viewObject(o *sesame.Object) objectView {
	v := objectView{
		ID: o.ID, Type: string(o.Type), Name: o.Name, Folder: o.Folder(), ParentID: o.ParentID,
		CreatedAt: sesame.FormatTime(o.Created), UpdatedAt: sesame.FormatTime(o.Updated),
		Size: o.Size, BillableSize: o.Size, Metadata: o.Metadata, Tags: o.Tags, ShareLinkIDs: o.LinkIDs,
	}
	if o.Type == sesame.TypeFile {
		v.MD5, v.SHA256, v.SHA512, v.CRC32C = o.MD5, o.SHA256, o.SHA512, o.CRC32C
		if o.MimeType != "" {
			v.MetadataProtected = map[string]string{"mimetype": o.MimeType}
		}
	}
	if o.Metadata != nil && len(o.Metadata) == 0 {
		v.Metadata = nil
	}
	return v
}

func viewObjects(objs []*sesame.Object) []objectView {
	out := make([]objectView, len(objs))
	for i, o := range objs {
		out[i] = viewObject(o)
	}
	return out
}

// common carries the fields every object request may send. root_folder and
// root_id would scope a call to a subtree; sesame does not offer that, and
// says so rather than widening the call silently.
type common struct {
	BucketID   *string `json:"bucket_id"`
	ConfigID   *string `json:"config_id"`
	TenantID   *string `json:"tenant_id"`
	RootFolder *string `json:"root_folder"`
	RootID     *string `json:"root_id"`
}

func (c common) check() error {
	if c.RootFolder != nil && strings.Trim(*c.RootFolder, "/") != "" {
		return sesame.FieldErr("UnexpectedProperty", "/root_folder", "root_folder scoping is not supported by this server")
	}
	if c.RootID != nil && *c.RootID != "" {
		return sesame.FieldErr("UnexpectedProperty", "/root_id", "root_id scoping is not supported by this server")
	}
	if c.BucketID != nil && *c.BucketID != "" && !sesame.ValidID(sesame.PrefixBucket, *c.BucketID) {
		return sesame.FieldErr("DoesNotMatchPattern", "/bucket_id", "bucket_id must look like pro_ followed by 32 characters")
	}
	return nil
}

func (c common) bucket() string { return deref(c.BucketID) }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func checkID(source, prefix, id string) error {
	if !sesame.ValidID(prefix, id) {
		e := sesame.FieldErr("DoesNotExist", source, "%s %q does not exist", strings.TrimPrefix(source, "/"), id)
		return e.WithKind(sesame.NotFound)
	}
	return nil
}

// checkMetaTags validates metadata and tags as the reference bounds them.
func checkMetaTags(prefix string, meta map[string]string, tags []string) error {
	if len(meta) > sesame.MaxMetadata {
		return sesame.FieldErr("AboveMaxProperties", prefix+"metadata", "metadata may have at most %d entries", sesame.MaxMetadata)
	}
	for k, v := range meta {
		if k == "" || len([]rune(k)) > sesame.MaxMetaKeyLen {
			return sesame.FieldErr("InvalidPropertyName", prefix+"metadata/"+k, "metadata keys must be 1 to %d characters", sesame.MaxMetaKeyLen)
		}
		if len([]rune(v)) > 1024 {
			return sesame.FieldErr("AboveMaxLength", prefix+"metadata/"+k, "metadata values must be at most 1024 characters")
		}
	}
	if len(tags) > sesame.MaxTags {
		return sesame.FieldErr("AboveMaxItems", prefix+"tags", "at most %d tags", sesame.MaxTags)
	}
	for i, t := range tags {
		if t == "" {
			return sesame.FieldErr("BelowMinLength", fmt.Sprintf("%stags/%d", prefix, i), "tags must not be empty")
		}
		if len([]rune(t)) > sesame.MaxTagLen {
			return sesame.FieldErr("AboveMaxLength", fmt.Sprintf("%stags/%d", prefix, i), "tags must be 1 to %d characters", sesame.MaxTagLen)
		}
	}
	return nil
}

// placement turns the addressing fields of folder/create and put into a
// Placement. It accepts v1beta path (the full path), v1 folder with name
// (the parent), v1 folder without name (the full path) and parent_id.
func placement(bucketID string, name, parentID, folder, fullPath *string) (sesame.Placement, error) {
	p := sesame.Placement{BucketID: bucketID, NameSource: "/name"}
	if parentID != nil && *parentID != "" {
		if err := checkID("/parent_id", sesame.PrefixObject, *parentID); err != nil {
			return p, err
		}
		p.HasParentID, p.ParentID = true, *parentID
	}
	splitFull := func(source, value string) error {
		segs, err := sesame.SplitPath(source, value)
		if err != nil {
			return err
		}
		if len(segs) == 0 {
			return sesame.FieldErr("FieldRequired", source, "%s must name the object, not the root", strings.TrimPrefix(source, "/"))
		}
		last := segs[len(segs)-1]
		if name != nil && *name != "" && *name != last {
			return sesame.FieldErr("MutuallyExclusive", "/name", "name %q differs from the last part of %s", *name, strings.TrimPrefix(source, "/"))
		}
		p.Name, p.NameSource = last, source
		p.HasParentPath, p.ParentPath, p.ParentSource = true, "/"+strings.Join(segs[:len(segs)-1], "/"), source
		return nil
	}
	switch {
	case fullPath != nil && *fullPath != "":
		if folder != nil && *folder != "" {
			return p, sesame.FieldErr("MutuallyExclusive", "/folder", "send either path or folder, not both")
		}
		return p, splitFull("/path", *fullPath)
	case (name == nil || *name == "") && folder != nil && strings.Trim(*folder, "/") != "" && !strings.HasSuffix(*folder, "/"):
		// A v1 folder with no name is the full path of the new object; a
		// trailing slash marks it as the parent instead.
		return p, splitFull("/folder", *folder)
	}
	if folder != nil {
		if _, err := sesame.SplitPath("/folder", *folder); err != nil {
			return p, err
		}
		p.HasParentPath, p.ParentPath, p.ParentSource = true, *folder, "/folder"
	}
	p.Name = deref(name)
	return p, nil
}

func (s *Server) handleBuckets(c *gin.Context) {
	var req struct {
		common
	}
	if err := s.readJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	buckets, err := s.cfg.Objects.Buckets(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	type bucketView struct {
		ID              string   `json:"id"`
		Default         bool     `json:"default"`
		Name            string   `json:"name"`
		TransferMethods []string `json:"transfer_methods"`
	}
	out := make([]bucketView, len(buckets))
	for i, b := range buckets {
		out[i] = bucketView{ID: b.ID, Default: b.Default, Name: b.Name, TransferMethods: b.TransferMethods}
	}
	s.ok(c, "Buckets listed", gin.H{"buckets": out})
}

type folderCreateRequest struct {
	common
	Name     *string           `json:"name"`
	ParentID *string           `json:"parent_id"`
	Folder   *string           `json:"folder"`
	Path     *string           `json:"path"`
	Metadata map[string]string `json:"metadata"`
	Tags     []string          `json:"tags"`
	FileTTL  *string           `json:"file_ttl"`
}

func (s *Server) handleFolderCreate(c *gin.Context) {
	var req folderCreateRequest
	if err := s.readJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	if err := req.check(); err != nil {
		s.fail(c, err)
		return
	}
	if req.FileTTL != nil && *req.FileTTL != "" && *req.FileTTL != "never" && *req.FileTTL != "inherited" {
		s.fail(c, sesame.FieldErr("UnexpectedProperty", "/file_ttl", "file_ttl is not supported by this server; files are kept until deleted"))
		return
	}
	if err := checkMetaTags("/", req.Metadata, req.Tags); err != nil {
		s.fail(c, err)
		return
	}
	p, err := placement(req.bucket(), req.Name, req.ParentID, req.Folder, req.Path)
	if err != nil {
		s.fail(c, err)
		return
	}
	o, err := s.cfg.Writer.CreateFolder(c.Request.Context(), sesame.FolderCreate{Placement: p, Metadata: req.Metadata, Tags: req.Tags})
	if err != nil {
		s.fail(c, err)
		return
	}
	s.auditObject(c, o.ID)
	s.ok(c, "Folder created", gin.H{"object": viewObject(o)})
}

// target resolves the object named by id and/or v1beta path (both must agree).
func (s *Server) target(c *gin.Context, bucketID string, id, p *string) (*sesame.Object, error) {
	ctx := c.Request.Context()
	var byID *sesame.Object
	if id != nil && *id != "" {
		if err := checkID("/id", sesame.PrefixObject, *id); err != nil {
			return nil, err
		}
		o, err := s.cfg.Objects.ObjectByID(ctx, bucketID, *id)
		if err != nil {
			return nil, err
		}
		byID = o
	}
	if p != nil && *p != "" {
		o, err := s.cfg.Objects.ObjectByPath(ctx, bucketID, *p)
		if err != nil {
			return nil, err
		}
		if byID != nil && byID.ID != o.ID {
			return nil, sesame.FieldErr("MutuallyExclusive", "/path", "path names a different object from id")
		}
		return o, nil
	}
	if byID == nil {
		return nil, sesame.FieldErr("MustProvideOne", "/id", "send id (or path) to name the object")
	}
	return byID, nil
}

type listRequest struct {
	common
	Filter                   map[string]json.RawMessage `json:"filter"`
	Order                    *string                    `json:"order"`
	OrderBy                  *string                    `json:"order_by"`
	Size                     *int                       `json:"size"`
	Last                     *string                    `json:"last"`
	IncludeExternalBucketKey *bool                      `json:"include_external_bucket_key"`
}

// paging validates order, order_by, size and last, shared by every list.
func paging(order, orderBy *string, size *int, last *string, orderFields []string, decode func(string) (*sesame.Cursor, error)) (desc bool, by string, n int, after *sesame.Cursor, err error) {
	switch deref(order) {
	case "", "asc":
	case "desc":
		desc = true
	default:
		return false, "", 0, nil, sesame.FieldErr("NotEnumMember", "/order", "order must be asc or desc, not %q", deref(order))
	}
	by = deref(orderBy)
	if by == "" {
		by = "created_at"
	}
	known := false
	for _, f := range orderFields {
		known = known || f == by
	}
	if !known {
		return false, "", 0, nil, sesame.FieldErr("NotEnumMember", "/order_by", "order_by must be one of %s, not %q", strings.Join(orderFields, ", "), by)
	}
	n = 50
	if size != nil {
		if *size < 1 || *size > 1000 {
			return false, "", 0, nil, sesame.FieldErr("NotWithinRange", "/size", "size must be between 1 and 1000, not %d", *size)
		}
		n = *size
	}
	if last != nil && *last != "" {
		if after, err = decode(*last); err != nil {
			return false, "", 0, nil, err
		}
	}
	return desc, by, n, after, nil
}

func (s *Server) handleList(c *gin.Context) {
	var req listRequest
	if err := s.readJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	if err := req.check(); err != nil {
		s.fail(c, err)
		return
	}
	conds, err := parseFilter(req.Filter, sesame.ObjectFields, nil)
	if err != nil {
		s.fail(c, err)
		return
	}
	desc, by, size, after, err := paging(req.Order, req.OrderBy, req.Size, req.Last, sesame.ObjectOrderFields, decodeCursor)
	if err != nil {
		s.fail(c, err)
		return
	}
	page, err := s.cfg.Objects.FindObjects(c.Request.Context(), sesame.ObjectFilter{BucketID: req.bucket(), Conds: conds, OrderBy: by, Desc: desc, Size: size, After: after})
	if err != nil {
		s.fail(c, err)
		return
	}
	res := gin.H{"count": page.Count, "objects": viewObjects(page.Objects)}
	if page.Next != nil {
		res["last"] = encodeCursor(page.Next)
	}
	s.ok(c, fmt.Sprintf("Listed %d of %d objects", len(page.Objects), page.Count), res)
}

type updateRequest struct {
	common
	ID                   *string           `json:"id"`
	Path                 *string           `json:"path"`
	Folder               *string           `json:"folder"`
	ParentID             *string           `json:"parent_id"`
	Name                 *string           `json:"name"`
	Metadata             map[string]string `json:"metadata"`
	AddMetadata          map[string]string `json:"add_metadata"`
	RemoveMetadata       map[string]string `json:"remove_metadata"`
	Tags                 []string          `json:"tags"`
	AddTags              []string          `json:"add_tags"`
	RemoveTags           []string          `json:"remove_tags"`
	AddPassword          *string           `json:"add_password"`
	AddPasswordAlgorithm *string           `json:"add_password_algorithm"`
	RemovePassword       *string           `json:"remove_password"`
	FileTTL              *string           `json:"file_ttl"`
	UpdatedAt            *string           `json:"updated_at"`
}

func (s *Server) handleUpdate(c *gin.Context) {
	var req updateRequest
	if err := s.readJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	if err := req.check(); err != nil {
		s.fail(c, err)
		return
	}
	for _, f := range []struct {
		src string
		set bool
	}{{"/add_password", req.AddPassword != nil}, {"/add_password_algorithm", req.AddPasswordAlgorithm != nil}, {"/remove_password", req.RemovePassword != nil}} {
		if f.set {
			s.fail(c, sesame.FieldErr("UnexpectedProperty", f.src, "password-protected files are not supported by this server"))
			return
		}
	}
	if req.FileTTL != nil {
		s.fail(c, sesame.FieldErr("UnexpectedProperty", "/file_ttl", "file_ttl is not supported by this server; files are kept until deleted"))
		return
	}
	for _, m := range []struct {
		src string
		v   map[string]string
	}{{"/", req.Metadata}, {"/add_", req.AddMetadata}} {
		if err := checkMetaTags(m.src, m.v, nil); err != nil {
			s.fail(c, err)
			return
		}
	}
	for _, t := range []struct {
		src string
		v   []string
	}{{"/", req.Tags}, {"/add_", req.AddTags}} {
		if err := checkMetaTags(t.src, nil, t.v); err != nil {
			s.fail(c, err)
			return
		}
	}
	upd := sesame.ObjectUpdate{BucketID: req.bucket(), Name: req.Name,
		Metadata: req.Metadata, SetMetadata: req.Metadata != nil, AddMetadata: req.AddMetadata, RemoveMetadata: req.RemoveMetadata,
		Tags: req.Tags, SetTags: req.Tags != nil, AddTags: req.AddTags, RemoveTags: req.RemoveTags}
	if req.ParentID != nil {
		if *req.ParentID != "" {
			if err := checkID("/parent_id", sesame.PrefixObject, *req.ParentID); err != nil {
				s.fail(c, err)
				return
			}
		}
		upd.ParentID = req.ParentID
	}
	if req.Folder != nil {
		if _, err := sesame.SplitPath("/folder", *req.Folder); err != nil {
			s.fail(c, err)
			return
		}
		upd.ParentPath = req.Folder
	}
	if req.UpdatedAt != nil {
		t, err := sesame.ParseTime(*req.UpdatedAt)
		if err != nil {
			s.fail(c, sesame.FieldErr("BadFormatDateTime", "/updated_at", "updated_at must be an RFC 3339 time"))
			return
		}
		upd.UpdatedAt = &t
	}
	o, err := s.target(c, req.bucket(), req.ID, req.Path)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.auditObject(c, o.ID)
	o, err = s.cfg.Writer.UpdateObject(c.Request.Context(), o.ID, upd)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.ok(c, "Object updated", gin.H{"object": viewObject(o)})
}

type deleteRequest struct {
	common
	ID    *string `json:"id"`
	Path  *string `json:"path"`
	Force *bool   `json:"force"`
}

func (s *Server) handleDelete(c *gin.Context) {
	var req deleteRequest
	if err := s.readJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	if err := req.check(); err != nil {
		s.fail(c, err)
		return
	}
	o, err := s.target(c, req.bucket(), req.ID, req.Path)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.auditObject(c, o.ID)
	n, err := s.cfg.Writer.DeleteObject(c.Request.Context(), req.bucket(), o.ID, deref(req.Force))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.ok(c, fmt.Sprintf("Deleted %d objects", n), gin.H{"count": n})
}
