package gateway

import (
	"encoding/json"
	"fmt"
	"slices"
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
	FileTTL           string            `json:"file_ttl"`
	FileTTLEffective  string            `json:"file_ttl_effective"`
	FileTTLFromID     string            `json:"file_ttl_from_id,omitempty"`
	ExpiresAt         string            `json:"expires_at,omitempty"`
	ShareLinkIDs      []string          `json:"share_link_ids,omitempty"`
}

func viewObject(o *sesame.Object) objectView {
	v := objectView{
		ID: o.ID, Type: string(o.Type), Name: o.Name, Folder: o.Folder(), ParentID: o.ParentID,
		CreatedAt: sesame.FormatTime(o.Created), UpdatedAt: sesame.FormatTime(o.Updated),
		Size: o.Size, BillableSize: o.Size, Metadata: o.Metadata, Tags: o.Tags, ShareLinkIDs: o.LinkIDs,
		FileTTL: o.FileTTL.Wire(), FileTTLEffective: o.TTL.TTL.Wire(), FileTTLFromID: o.TTL.From,
	}
	if !o.Expires.IsZero() {
		v.ExpiresAt = sesame.FormatTime(o.Expires)
	}
	if o.Type == sesame.TypeFile {
		v.MD5, v.SHA256, v.SHA512, v.CRC32C = o.MD5, o.SHA256, o.SHA512, o.CRC32C
		if o.MimeType != "" {
			v.MetadataProtected = map[string]string{"mimetype": o.MimeType}
		}
		if o.Lock != nil {
			if v.MetadataProtected == nil {
				v.MetadataProtected = map[string]string{}
			}
			v.MetadataProtected["vault-password-algorithm"] = o.Lock.Algorithm
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
// root_id scope a call to a subtree (sesame.Root).
type common struct {
	BucketID   *string `json:"bucket_id"`
	ConfigID   *string `json:"config_id"`
	TenantID   *string `json:"tenant_id"`
	RootFolder *string `json:"root_folder"`
	RootID     *string `json:"root_id"`
}

func (c common) check() error {
	var errs sesame.Problems
	c.checkInto(&errs)
	return errs.Err()
}

// checkInto adds every problem of the common fields to errs.
func (c common) checkInto(errs *sesame.Problems) {
	if c.BucketID != nil && *c.BucketID != "" && !sesame.ValidID(sesame.PrefixBucket, *c.BucketID) {
		errs.Add(sesame.FieldErr("DoesNotMatchPattern", "/bucket_id", "bucket_id must look like pro_ followed by 32 characters"))
	}
}

func (c common) bucket() string { return deref(c.BucketID) }

func (c common) root() sesame.Root {
	return sesame.Root{ID: deref(c.RootID), Folder: deref(c.RootFolder)}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// placement turns the addressing fields of folder/create and put into a
// Placement. It accepts v1beta path (the full path), v1 folder with name
// (the parent), v1 folder without name (the full path) and parent_id.
func placement(bucketID string, name, parentID, folder, fullPath *string) (sesame.Placement, error) {
	p := sesame.Placement{BucketID: bucketID, NameSource: "/name"}
	if parentID != nil && *parentID != "" {
		if err := sesame.CheckObjectID("/parent_id", *parentID); err != nil {
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
	if !s.bind(c, &req) {
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
	if !s.bind(c, &req) {
		return
	}
	p, err := placement(req.bucket(), req.Name, req.ParentID, req.Folder, req.Path)
	if err != nil {
		s.fail(c, err)
		return
	}
	p.Root = req.root()
	o, err := s.cfg.Objects.CreateFolder(c.Request.Context(), sesame.FolderCreate{Placement: p, Metadata: req.Metadata, Tags: req.Tags,
		FileTTL: sesame.FileTTL(deref(req.FileTTL))})
	if err != nil {
		s.fail(c, err)
		return
	}
	s.ok(c, "Folder created", gin.H{"object": viewObject(o)})
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
// It reports every problem it finds.
func paging(order, orderBy *string, size *int, last *string, orderFields []string, decode func(string) (*sesame.Cursor, error)) (desc bool, by string, n int, after *sesame.Cursor, err error) {
	var errs sesame.Problems
	switch deref(order) {
	case "", "asc":
	case "desc":
		desc = true
	default:
		errs.Addf("NotEnumMember", "/order", "order must be asc or desc, not %q", deref(order))
	}
	by = deref(orderBy)
	if by == "" {
		by = "created_at"
	}
	if !slices.Contains(orderFields, by) {
		errs.Addf("NotEnumMember", "/order_by", "order_by must be one of %s, not %q", strings.Join(orderFields, ", "), by)
	}
	n = 50
	if size != nil {
		if *size < 1 || *size > 1000 {
			errs.Addf("NotWithinRange", "/size", "size must be between 1 and 1000, not %d", *size)
		}
		n = *size
	}
	if last != nil && *last != "" {
		after, err = decode(*last)
		errs.Add(err)
	}
	if err := errs.Err(); err != nil {
		return false, "", 0, nil, err
	}
	return desc, by, n, after, nil
}

func (s *Server) handleList(c *gin.Context) {
	var req listRequest
	if !s.bind(c, &req) {
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
	page, err := s.cfg.Objects.Find(c.Request.Context(), sesame.ObjectFilter{BucketID: req.bucket(), Conds: conds, OrderBy: by, Desc: desc, Size: size, After: after,
		Root: req.root()})
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
	if !s.bind(c, &req) {
		return
	}
	upd := sesame.ObjectUpdate{BucketID: req.bucket(), Root: req.root(), FileTTL: sesame.FileTTL(deref(req.FileTTL)),
		Name: req.Name, ParentID: req.ParentID, ParentPath: req.Folder,
		Metadata: req.Metadata, SetMetadata: req.Metadata != nil, AddMetadata: req.AddMetadata, RemoveMetadata: req.RemoveMetadata,
		Tags: req.Tags, SetTags: req.Tags != nil, AddTags: req.AddTags, RemoveTags: req.RemoveTags,
		AddPassword: req.AddPassword, AddPasswordAlgorithm: deref(req.AddPasswordAlgorithm), RemovePassword: req.RemovePassword}
	if req.UpdatedAt != nil {
		t, err := sesame.ParseTime(*req.UpdatedAt)
		if err != nil {
			s.fail(c, sesame.FieldErr("BadFormatDateTime", "/updated_at", "updated_at must be an RFC 3339 time"))
			return
		}
		upd.UpdatedAt = &t
	}
	o, err := s.cfg.Objects.Update(c.Request.Context(), deref(req.ID), deref(req.Path), upd)
	if o != nil {
		s.auditObject(c, o.ID)
	}
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
	if !s.bind(c, &req) {
		return
	}
	ref := sesame.ObjectRef{BucketID: req.bucket(), ID: deref(req.ID), Path: deref(req.Path), Root: req.root()}
	o, n, err := s.cfg.Objects.DeleteIn(c.Request.Context(), ref, deref(req.Force))
	if o != nil {
		s.auditObject(c, o.ID)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.ok(c, fmt.Sprintf("Deleted %d objects", n), gin.H{"count": n})
}
