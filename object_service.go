package sesame

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// ObjectStore is the object tree, with the records of uploads announced
// for later and of download capabilities: reading and changing them.
type ObjectStore interface {
	ObjectReader
	ObjectWriter
	PendingUploads
	Grants
}

// ObjectPolicy bounds uploads and the capability URLs the API hands out.
type ObjectPolicy struct {
	MaxFileSize  int64         // one file, in bytes (0: no cap)
	DestURLTTL   time.Duration // how long a dest-url works (0: an hour)
	UploadURLTTL time.Duration // how long a post-url or put-url works (0: an hour)
}

// ObjectService applies the object rules (who may read and write, what a
// request may say, how uploads are staged and committed) for every adapter:
// the API and the MCP tools. The caller is the token in ctx.
type ObjectService struct {
	Store  ObjectStore
	Blobs  BlobStore
	Policy ObjectPolicy
	// Deriver turns file passwords into keys; nil turns password
	// protection off.
	Deriver KeyDeriver
	Now     func() time.Time
}

func (s *ObjectService) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func canRead(ctx context.Context) error {
	return require(ctx, "", "This token cannot read objects", ScopeObjectsRead)
}

func canWrite(ctx context.Context) error {
	return require(ctx, "", "This token cannot change objects", ScopeObjectsWrite)
}

// Buckets lists the buckets.
func (s *ObjectService) Buckets(ctx context.Context) ([]*Bucket, error) {
	if err := canRead(ctx); err != nil {
		return nil, err
	}
	return s.Store.Buckets(ctx)
}

// Find returns one page of objects.
func (s *ObjectService) Find(ctx context.Context, f ObjectFilter) (*ObjectPage, error) {
	if err := canRead(ctx); err != nil {
		return nil, err
	}
	t, err := s.subtree(ctx, f.BucketID, f.Root)
	if err != nil {
		return nil, err
	}
	scopeFilter(&f, t)
	page, err := s.Store.FindObjects(ctx, f)
	if err != nil {
		return nil, err
	}
	t.rebase(page.Objects...)
	return page, nil
}

// Resolve finds the object that id and path name (either may be empty;
// when both are given they must name the same object).
func (s *ObjectService) Resolve(ctx context.Context, bucketID, id, path string) (*Object, error) {
	return s.Lookup(ctx, ObjectRef{BucketID: bucketID, ID: id, Path: path})
}

// CreateFolder makes a folder and any missing parents.
func (s *ObjectService) CreateFolder(ctx context.Context, in FolderCreate) (*Object, error) {
	if err := canWrite(ctx); err != nil {
		return nil, err
	}
	if err := CheckMetaTags("/", in.Metadata, in.Tags); err != nil {
		return nil, err
	}
	if _, err := ParseFileTTL("/file_ttl", string(in.FileTTL)); err != nil {
		return nil, err
	}
	p, t, err := s.place(ctx, in.Placement)
	if err != nil {
		return nil, err
	}
	in.Placement = p
	o, err := s.Store.CreateFolder(ctx, in)
	t.rebase(o)
	return o, err
}

// CheckFile validates a request to store a file before any byte is read.
func (s *ObjectService) CheckFile(ctx context.Context, in FileCreate) error {
	if err := canWrite(ctx); err != nil {
		return err
	}
	if err := CheckMetaTags("/", in.Metadata, in.Tags); err != nil {
		return err
	}
	if _, err := ParseFileTTL("/file_ttl", string(in.FileTTL)); err != nil {
		return err
	}
	if err := CheckName(in.NameSource, in.Name); err != nil {
		return err
	}
	if err := s.checkPassword(in); err != nil {
		return err
	}
	if !in.Root.IsZero() {
		// Fail before any byte is read when the scope is unusable.
		_, _, err := s.place(ctx, in.Placement)
		return err
	}
	return nil
}

// Put stores r as a new file: it streams to staging while it is hashed and
// becomes visible only once complete. sniffName helps tell the type.
func (s *ObjectService) Put(ctx context.Context, in FileCreate, r io.Reader, sniffName string) (*Object, error) {
	up, err := s.StageFile(ctx, in, r, sniffName)
	if err != nil {
		return nil, err
	}
	return s.Commit(ctx, in, up)
}

// Stage receives a payload whose request may come after it (a multipart
// body may send the file before the JSON); Commit or Discard it next.
func (s *ObjectService) Stage(ctx context.Context, r io.Reader, sniffName string) (*Upload, error) {
	if err := canWrite(ctx); err != nil {
		return nil, err
	}
	return s.Blobs.Stage(ctx, r, sniffName, s.Policy.MaxFileSize)
}

// Commit makes a staged payload the file in describes, or discards it
// when the request breaks a rule.
func (s *ObjectService) Commit(ctx context.Context, in FileCreate, up *Upload) (*Object, error) {
	if err := s.CheckFile(ctx, in); err != nil {
		s.Discard(ctx, up)
		return nil, err
	}
	if in.Password != nil && up.Lock == nil {
		s.Discard(ctx, up)
		return nil, errPasswordAfterFile
	}
	p, t, err := s.place(ctx, in.Placement)
	if err != nil {
		s.Discard(ctx, up)
		return nil, err
	}
	in.Placement = p
	o, err := s.Store.CreateFile(ctx, in, up)
	t.rebase(o)
	return o, err
}

// Discard drops a staged payload that will not be committed. Staging is
// swept at start, so a failure here leaves nothing visible.
func (s *ObjectService) Discard(ctx context.Context, up *Upload) {
	if up != nil {
		_ = s.Blobs.Discard(context.WithoutCancel(ctx), up) // a leftover is swept at the next start
	}
}

// Update renames, moves or retags the object id and path name. It
// returns the object as updated, or as it was when the update failed
// after the object was found.
func (s *ObjectService) Update(ctx context.Context, id, path string, upd ObjectUpdate) (*Object, error) {
	if err := canWrite(ctx); err != nil {
		return nil, err
	}
	if err := checkUpdate(upd); err != nil {
		return nil, err
	}
	t, err := s.subtree(ctx, upd.BucketID, upd.Root)
	if err != nil {
		return nil, err
	}
	o, err := s.resolveIn(ctx, upd.BucketID, t, id, path)
	if err != nil {
		return nil, err
	}
	t.rebase(o)
	if err := s.scopeUpdate(ctx, upd.BucketID, t, &upd); err != nil {
		return o, err
	}
	upd.Reseal = nil
	if upd.AddPassword != nil || upd.RemovePassword != nil {
		if err := s.reseal(ctx, o, &upd); err != nil {
			return o, err
		}
	}
	updated, err := s.Store.UpdateObject(ctx, o.ID, upd)
	if err != nil {
		return o, err
	}
	t.rebase(updated)
	return updated, nil
}

func checkUpdate(upd ObjectUpdate) error {
	var errs Problems
	checkMetaTags(&errs, "/", upd.Metadata, upd.Tags)
	checkMetaTags(&errs, "/add_", upd.AddMetadata, upd.AddTags)
	if upd.ParentID != nil && *upd.ParentID != "" {
		errs.Add(CheckObjectID("/parent_id", *upd.ParentID))
	}
	if upd.ParentPath != nil {
		_, err := SplitPath("/folder", *upd.ParentPath)
		errs.Add(err)
	}
	if upd.Name != nil {
		errs.Add(CheckName("/name", *upd.Name))
	}
	_, err := ParseFileTTL("/file_ttl", string(upd.FileTTL))
	errs.Add(err)
	checkPasswordChange(&errs, upd)
	return errs.Err()
}

// Delete removes the object id and path name (a folder with its contents
// only when force is set) and returns it with how many were removed.
func (s *ObjectService) Delete(ctx context.Context, bucketID, id, path string, force bool) (*Object, int, error) {
	return s.DeleteIn(ctx, ObjectRef{BucketID: bucketID, ID: id, Path: path}, force)
}

// CheckID answers NotFound, pointing at source, for an id that cannot
// have the given prefix: it names nothing.
func CheckID(source, prefix, id string) error {
	if !ValidID(prefix, id) {
		e := FieldErr("DoesNotExist", source, "%s %q does not exist", fieldName(source), id)
		return e.WithKind(NotFound)
	}
	return nil
}

// CheckObjectID is CheckID for object ids.
func CheckObjectID(source, id string) error { return CheckID(source, PrefixObject, id) }

// Limits on object metadata and tags, as the reference bounds them.
const maxMetaValueLen = 1024

// CheckMetaTags validates metadata and tags; prefix is the JSON pointer
// of the object that holds them ("/", or "/add_"). It reports every
// problem, up to MaxFieldErrors.
func CheckMetaTags(prefix string, meta map[string]string, tags []string) error {
	var errs Problems
	checkMetaTags(&errs, prefix, meta, tags)
	return errs.Err()
}

func checkMetaTags(errs *Problems, prefix string, meta map[string]string, tags []string) {
	if len(meta) > MaxMetadata {
		errs.Addf("AboveMaxProperties", prefix+"metadata", "metadata may have at most %d entries", MaxMetadata)
	}
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the same request reports its problems in the same order
	for _, k := range keys {
		src := prefix + "metadata/" + pointerEscaper.Replace(k)
		if k == "" || len([]rune(k)) > MaxMetaKeyLen {
			errs.Addf("InvalidPropertyName", src, "metadata keys must be 1 to %d characters", MaxMetaKeyLen)
		}
		if len([]rune(meta[k])) > maxMetaValueLen {
			errs.Addf("AboveMaxLength", src, "metadata values must be at most %d characters", maxMetaValueLen)
		}
	}
	if len(tags) > MaxTags {
		errs.Addf("AboveMaxItems", prefix+"tags", "at most %d tags", MaxTags)
	}
	for i, t := range tags {
		if t == "" {
			errs.Addf("BelowMinLength", fmt.Sprintf("%stags/%d", prefix, i), "tags must not be empty")
		} else if len([]rune(t)) > MaxTagLen {
			errs.Addf("AboveMaxLength", fmt.Sprintf("%stags/%d", prefix, i), "tags must be 1 to %d characters", MaxTagLen)
		}
	}
}

// pointerEscaper escapes a key for a JSON pointer (RFC 6901).
var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")
