package sesame

import (
	"context"
	"fmt"
	"io"
	"time"
)

// Announce records an upload whose bytes arrive later at a single-use URL
// (post-url or put-url) and returns it with the URL's secret. requestID
// becomes the id the client polls.
func (s *ObjectService) Announce(ctx context.Context, in FileCreate, method, requestID string) (*PendingUpload, string, error) {
	if err := s.CheckFile(ctx, in); err != nil {
		return nil, "", err
	}
	if method == TransferPostURL {
		if err := CheckPostURL(in.Declared); err != nil {
			return nil, "", err
		}
	}
	placed, t, err := s.place(ctx, in.Placement)
	if err != nil {
		return nil, "", err
	}
	in.Placement = placed
	if !t.whole() {
		// Kept, resolved, so that the poll answers relative to it.
		in.Root = Root{ID: t.id}
	}
	// Fail now, not after the upload, when the parent cannot exist.
	if in.HasParentID && in.ParentID != "" {
		parent, err := s.Store.ObjectByID(ctx, in.BucketID, in.ParentID)
		if KindOf(err) == NotFound {
			return nil, "", FieldErr("DoesNotExist", "/parent_id", "folder %s does not exist", in.ParentID).WithKind(NotFound)
		}
		if err != nil {
			return nil, "", err
		}
		if !parent.IsFolder() {
			return nil, "", FieldErr("BadState", "/parent_id", "parent_id %s is a file, not a folder", in.ParentID)
		}
	}
	p := &PendingUpload{ID: requestID, TokenID: TokenFrom(ctx).ID, Method: method, Spec: in, Expires: s.now().Add(orHour(s.Policy.UploadURLTTL))}
	if in.Password != nil {
		// The key is made now, while the password is at hand: the bytes
		// come later, and are sealed as they arrive.
		lock, key, err := NewFileLock(ctx, s.Deriver, *in.Password, in.PasswordAlgorithm)
		if err != nil {
			return nil, "", err
		}
		p.Lock, p.Key = lock, key
	}
	secret, err := s.Store.CreatePendingUpload(ctx, p)
	if err != nil {
		return nil, "", err
	}
	return p, secret, nil
}

// CheckPostURL reports what transfer_method post-url requires and d lacks:
// the reference makes size, sha256 and crc32c required with it, whether
// the bytes arrive later without the client's credentials or beside the
// request in a multipart body.
func CheckPostURL(d Declared) error {
	var errs Problems
	for _, f := range []struct {
		name string
		set  bool
	}{{"size", d.Size != nil}, {"sha256", d.SHA256 != ""}, {"crc32c", d.CRC32C != ""}} {
		if !f.set {
			errs.Addf("FieldRequired", "/"+f.name, "%s is required with transfer_method post-url", f.name)
		}
	}
	return errs.Err()
}

var transferVerbs = map[string]string{TransferPostURL: "POST", TransferPutURL: "PUT"}

// ClaimUpload takes the announced upload behind secret, once. The secret
// is the credential: no token is needed. method is how the bytes came.
func (s *ObjectService) ClaimUpload(ctx context.Context, secret, method string) (*PendingUpload, error) {
	p, err := s.Store.ClaimPendingUpload(ctx, secret)
	if err != nil {
		return nil, err
	}
	if p.Method != method {
		err := Errorf(Invalid, "This upload URL takes a %s request.", transferVerbs[p.Method])
		return p, s.settleUpload(ctx, p, nil, err)
	}
	return p, nil
}

// CompleteUpload stores r for a claimed upload and records the outcome,
// which the announcing client polls for. readErr is an error met while
// finding the payload; nothing is stored then.
func (s *ObjectService) CompleteUpload(ctx context.Context, p *PendingUpload, r io.Reader, name string, readErr error) (*Object, error) {
	if readErr != nil {
		return nil, s.settleUpload(ctx, p, nil, readErr)
	}
	var up *Upload
	var err error
	if p.Lock != nil {
		up, err = s.stageSealed(ctx, r, name, s.Policy.MaxFileSize, p.Lock, p.Key)
	} else {
		up, err = s.Blobs.Stage(ctx, r, name, s.Policy.MaxFileSize)
	}
	var o *Object
	if err == nil {
		o, err = s.Store.CreateFile(ctx, p.Spec, up)
	}
	return o, s.settleUpload(ctx, p, o, err)
}

// settleUpload records how a claimed upload ended, even when the uploader
// has hung up, and returns err.
func (s *ObjectService) settleUpload(ctx context.Context, p *PendingUpload, o *Object, err error) error {
	objectID := ""
	var failure *Error
	if err != nil {
		failure = AsError(err)
		if failure == nil || failure.Kind == Internal {
			failure = &Error{Kind: Internal}
		}
	} else {
		objectID = o.ID
	}
	if ferr := s.Store.FinishPendingUpload(context.WithoutCancel(ctx), p.ID, objectID, failure); ferr != nil {
		return fmt.Errorf("sesame: finish pending upload %s: %w (after %v)", p.ID, ferr, err)
	}
	return err
}

// Poll returns an announced upload of the caller's, with its object once
// it is done.
func (s *ObjectService) Poll(ctx context.Context, id string) (*PendingUpload, *Object, error) {
	if err := canWrite(ctx); err != nil {
		return nil, nil, err
	}
	p, err := s.Store.PendingUploadByID(ctx, TokenFrom(ctx).ID, id)
	if err != nil || p.Status != PendingDone {
		return p, nil, err
	}
	o, err := s.Store.ObjectByID(ctx, p.Spec.BucketID, p.ObjectID)
	if err != nil || p.Spec.Root.IsZero() {
		return p, o, err
	}
	t, err := s.subtree(ctx, p.Spec.BucketID, p.Spec.Root)
	if err == nil && !t.below(o.Path) {
		err = noObject("/id", "object", o.ID)
	}
	if err != nil {
		return p, nil, err
	}
	t.rebase(o)
	return p, o, nil
}

// Archive formats.
var archiveFormats = map[string]bool{"zip": true, "tar": true}

// MaxArchiveIDs bounds the objects one archive request may name.
const MaxArchiveIDs = 1000

// Archive expands ids into the members of an archive in format.
func (s *ObjectService) Archive(ctx context.Context, bucketID string, ids []string, format string) ([]ArchiveEntry, error) {
	return s.ArchiveIn(ctx, bucketID, Root{}, ids, format)
}

// checkArchive validates an archive request before any lookup.
func checkArchive(ids []string, format string) error {
	if len(ids) == 0 {
		return FieldErr("FieldRequired", "/ids", "ids must name at least one file or folder")
	}
	if len(ids) > MaxArchiveIDs {
		return FieldErr("AboveMaxItems", "/ids", "ids may name at most %d objects", MaxArchiveIDs)
	}
	var errs Problems
	for i, id := range ids {
		if errs.Full() {
			break
		}
		errs.Add(CheckObjectID(fmt.Sprintf("/ids/%d", i), id))
	}
	if !archiveFormats[format] {
		errs.Addf("NotEnumMember", "/format", "format must be zip or tar, not %q", format)
	}
	return errs.Err()
}

// Grant records a dest-url capability to download g's objects and returns
// its secret.
func (s *ObjectService) Grant(ctx context.Context, g *Grant) (string, error) {
	if err := canRead(ctx); err != nil {
		return "", err
	}
	g.Expires = s.now().Add(orHour(s.Policy.DestURLTTL))
	return s.Store.CreateGrant(ctx, g)
}

// Granted is what a dest-url opens: one file, or the members of an archive.
type Granted struct {
	Grant   *Grant
	Object  *Object        // a single file
	Entries []ArchiveEntry // an archive
}

// OpenGrant resolves a dest-url secret, which is the credential.
func (s *ObjectService) OpenGrant(ctx context.Context, secret string) (*Granted, error) {
	g, err := s.Store.GrantBySecret(ctx, secret)
	if err != nil {
		return nil, err
	}
	out := &Granted{Grant: g}
	if g.Archive != "" {
		out.Entries, err = s.Store.ArchiveEntries(ctx, g.BucketID, g.ObjectIDs)
		if err == nil {
			// A file protected since the URL was made stays out of reach.
			err = refuseProtected(g.ObjectIDs, out.Entries)
		}
	} else {
		out.Object, err = s.Store.ObjectByID(ctx, g.BucketID, g.ObjectIDs[0])
	}
	return out, err
}

// Open opens a file's contents for a caller that already holds the object
// (through Resolve, Archive or OpenGrant). A password-protected file
// needs key, from Unlock or the grant, and reads as its plaintext.
func (s *ObjectService) Open(ctx context.Context, o *Object, key FileKey) (Blob, error) {
	return openFile(ctx, s.Blobs, o, key)
}

// orHour is d, or an hour when d is unset.
func orHour(d time.Duration) time.Duration {
	if d <= 0 {
		return time.Hour
	}
	return d
}
