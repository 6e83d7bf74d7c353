package sesame

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"time"
)

// Resumable uploads (the tus protocol on the recipient pages) follow the
// same rules as the pages' plain uploads: the folder must lie inside the
// link, names get their safe form and a free name at commit, the per-file
// limit and the link's caps apply, and the file is hashed and committed
// atomically by the same code. They differ in when the caps are taken:
// the whole declared length is reserved when the upload begins, and given
// back only if it is cancelled or expires unfinished.
const (
	// ResumableTTL bounds how long an unfinished resumable upload waits
	// for the rest of its bytes: it expires ResumableTTL after it began,
	// or when the session that began it expires, whichever comes first.
	// The purge then deletes its parts and gives back its reservation.
	ResumableTTL = 24 * time.Hour
	// ResumableLease is how long one request holds an upload's lock
	// without renewing it: a replica that dies while writing loses the
	// lock after this long.
	ResumableLease = 15 * time.Second
	// resumableRenew is how often a holder renews its lease, and so how
	// soon it learns that another request wants the lock.
	resumableRenew = 2 * time.Second
	// resumableLockPoll is how often a request that waits for a lock
	// tries again.
	resumableLockPoll = 200 * time.Millisecond
)

// Resumable is a resumable upload in progress, or just completed.
type Resumable struct {
	ID        string // unguessable; only its session may use it
	LinkID    string
	SessionID string
	BucketID  string
	FolderID  string
	Name      string // the name asked for, in its safe form (SanitizeName)
	Length    int64  // declared when it began; reserved against the caps
	Offset    int64  // bytes received
	Created   time.Time
	Expires   time.Time
	ObjectID  string // the committed file, once complete
	SavedName string // its name: Name, or a free name beside what was there
}

// Done reports whether the upload has been committed as a file.
func (u *Resumable) Done() bool { return u.ObjectID != "" }

// ResumablePart is a stored piece of an upload's bytes.
type ResumablePart struct {
	Offset  int64
	Size    int64
	BlobKey string
}

// ResumableStore keeps resumable uploads in the database, so that every
// replica sees the same offsets. A row is a reservation of one file slot
// and Length bytes of its link's upload caps.
type ResumableStore interface {
	// CreateResumable stores a new upload.
	CreateResumable(ctx context.Context, u *Resumable) error
	// ResumableByID returns NotFound for an unknown id.
	ResumableByID(ctx context.Context, id string) (*Resumable, error)
	// AddResumablePart records a stored part at p.Offset and moves the
	// upload's offset past it, in one conditional UPDATE: Conflict when
	// the offset is no longer p.Offset.
	AddResumablePart(ctx context.Context, id string, p ResumablePart) error
	// ResumableParts lists an upload's parts in offset order.
	ResumableParts(ctx context.Context, id string) ([]ResumablePart, error)
	// FinishResumable marks the upload committed as objectID under name,
	// and removes its parts. The reservation stays: it is the file's.
	FinishResumable(ctx context.Context, id, objectID, name string) error
	// DeleteResumable removes an upload with its parts and, unless it
	// was committed, gives back its reservation, in one transaction that
	// records the change as ctx's AuditNote says. NotFound when it is gone.
	DeleteResumable(ctx context.Context, id string) (*Resumable, error)
}

// ResumableParts keeps the bytes of unfinished uploads as blobs that no
// object names yet.
type ResumableParts interface {
	// StagePart stores what r yields, at most max bytes, as a part blob
	// and returns it without an offset. NoSpace when the disk is full.
	StagePart(ctx context.Context, r io.Reader, max int64) (ResumablePart, error)
	// RemovePart removes a part blob that was never recorded.
	RemovePart(ctx context.Context, p ResumablePart) error
}

// ResumableLocks are leases on uploads, held by one request at a time
// on whichever replica it runs.
type ResumableLocks interface {
	// LockResumable gives the lock of the session's upload id to holder
	// until the given time, if nobody holds it or the holder's lease has
	// run out by now; otherwise it asks the holder to let go and returns
	// false. NotFound when the session has no such upload.
	LockResumable(ctx context.Context, id, sessionID, holder string, now, until time.Time) (bool, error)
	// RenewResumableLock extends holder's lease and reports whether it
	// still holds it and whether another request has asked for it.
	RenewResumableLock(ctx context.Context, id, holder string, until time.Time) (held, wanted bool, err error)
	// UnlockResumable gives the lock back if holder holds it.
	UnlockResumable(ctx context.Context, id, holder string) error
}

// Resumables is everything resumable uploads need from storage.
type Resumables interface {
	ResumableStore
	ResumableParts
	ResumableLocks
}

// errNoResumable is the one answer for an upload a visit may not use:
// unknown, expired, another session's or another link's.
var errNoResumable = Errorf(NotFound, "This upload does not exist or has expired; start it again.")

// newResumableID returns 256 random bits, URL-safe.
func newResumableID() string {
	var b [32]byte
	rand.Read(b[:]) // never fails
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// StartResumable begins a resumable upload of length bytes, to be stored
// under the safe form of name in the folder folderID. The per-file limit
// applies to length, and the link's caps are reserved for all of it now,
// each with one conditional UPDATE; refusals are audited as plain uploads'
// are.
func (ps *PortalService) StartResumable(ctx context.Context, v *Visit, folderID, name string, length int64) (*Resumable, error) {
	if v.Session == nil {
		return nil, Errorf(Forbidden, "Your visit has ended. Open the link again to continue.")
	}
	folder, err := ps.UploadFolder(ctx, v, folderID)
	if err != nil {
		return nil, err
	}
	name = SanitizeName(name)
	if length < 0 {
		return nil, Errorf(Invalid, "The upload needs its length.")
	}
	lim := ps.Limits
	if lim.MaxFileSize > 0 && length > lim.MaxFileSize {
		return nil, ps.uploadRefused(ctx, v, name, TooLarge.String(),
			Say(TooLarge, "{{.Name}} is larger than this link allows ({{.Max}}).", "Name", name, "Max", HumanSize(lim.MaxFileSize)))
	}
	if err := ps.reserveResumable(ctx, v, name, length); err != nil {
		return nil, err
	}
	now := ps.now()
	u := &Resumable{ID: newResumableID(), LinkID: v.Link.ID, SessionID: v.Session.ID, BucketID: folder.BucketID,
		FolderID: folder.ID, Name: name, Length: length, Created: now, Expires: now.Add(ResumableTTL)}
	if !v.Session.Expires.IsZero() && v.Session.Expires.Before(u.Expires) {
		u.Expires = v.Session.Expires
	}
	if err := ps.Resumables.CreateResumable(ctx, u); err != nil {
		ps.release(ctx, v.Link.ID, 1, length)
		return nil, err
	}
	return u, nil
}

// reserveResumable takes one file slot and length bytes of the link's
// caps, or neither.
func (ps *PortalService) reserveResumable(ctx context.Context, v *Visit, name string, length int64) error {
	lim := ps.Limits
	_, ok, err := ps.Access.ReserveUploadFile(ctx, v.Link.ID, lim.MaxLinkFiles)
	if err != nil {
		return err
	}
	if !ok {
		return ps.uploadRefused(ctx, v, name, "files", Say(TooLarge, "This link accepts at most {{.N}} files, and they have all been uploaded.", "N", lim.MaxLinkFiles))
	}
	ok, err = ps.Access.ReserveUploadBytes(ctx, v.Link.ID, length, lim.MaxLinkBytes)
	if err != nil || !ok {
		ps.release(ctx, v.Link.ID, 1, 0)
		if err == nil {
			err = Say(TooLarge, "This link has no room left for {{.Name}} ({{.Size}}).", "Name", name, "Size", HumanSize(length))
		}
		return ps.uploadRefused(ctx, v, name, "bytes", err)
	}
	return nil
}

// release gives back what an upload reserved.
func (ps *PortalService) release(ctx context.Context, linkID string, files int, bytes int64) {
	if err := ps.Access.ReleaseUpload(context.WithoutCancel(ctx), linkID, files, bytes); err != nil {
		ps.log().Error("release upload", "error", err)
	}
}

// Resumable returns the upload id if the visit's session began it on
// this link and it has not expired; errNoResumable otherwise, alike for
// every reason.
func (ps *PortalService) Resumable(ctx context.Context, v *Visit, id string) (*Resumable, error) {
	if v.Session == nil || id == "" {
		return nil, errNoResumable
	}
	u, err := ps.Resumables.ResumableByID(ctx, id)
	if KindOf(err) == NotFound {
		return nil, errNoResumable
	}
	if err != nil {
		return nil, err
	}
	if u.LinkID != v.Link.ID || u.SessionID != v.Session.ID || !ps.now().Before(u.Expires) {
		return nil, errNoResumable
	}
	return u, nil
}

// WriteResumable stores what body yields at offset, which must be the
// upload's offset, and returns how many bytes it stored. A body cut short
// keeps what arrived. The bytes that complete the upload are committed
// as a file (see commitResumable) before they are counted, so an upload
// whose commit fails is offered its last bytes again.
func (ps *PortalService) WriteResumable(ctx context.Context, v *Visit, u *Resumable, offset int64, body io.Reader) (int64, error) {
	if u.Done() || offset != u.Offset {
		return 0, Errorf(Conflict, "The upload is at byte %d, not %d.", u.Offset, offset)
	}
	p, err := ps.Resumables.StagePart(ctx, body, u.Length-offset)
	if err != nil {
		return 0, err
	}
	if p.Size == 0 {
		ps.removePart(ctx, p)
		return 0, nil
	}
	p.Offset = offset
	if offset+p.Size < u.Length {
		if err := ps.Resumables.AddResumablePart(ctx, u.ID, p); err != nil {
			ps.removePart(ctx, p)
			return 0, err
		}
		u.Offset += p.Size
		return p.Size, nil
	}
	parts, err := ps.Resumables.ResumableParts(ctx, u.ID)
	if err == nil {
		_, err = ps.commitResumable(ctx, v, u, append(parts, p))
	}
	if err != nil {
		ps.removePart(ctx, p)
		return 0, err
	}
	return p.Size, nil
}

// CompleteResumable commits an upload whose bytes have all arrived and
// that is not yet a file: one of no bytes, which needs no write. An empty
// upload whose commit fails is dropped with its reservation, so that the
// client begins again.
func (ps *PortalService) CompleteResumable(ctx context.Context, v *Visit, u *Resumable) error {
	if u.Done() || u.Offset != u.Length {
		return nil
	}
	parts, err := ps.Resumables.ResumableParts(ctx, u.ID)
	if err == nil {
		_, err = ps.commitResumable(ctx, v, u, parts)
	}
	if err != nil && u.Length == 0 {
		if _, derr := ps.Resumables.DeleteResumable(context.WithoutCancel(ctx), u.ID); derr != nil {
			ps.log().Error("drop resumable upload", "error", derr)
		}
	}
	return err
}

// commitResumable streams the parts through the plain uploads' staging,
// hashing and commit, into the folder the upload was begun for (which
// must still lie inside the link). The bytes are all on the server, so
// the commit goes on when the client leaves.
func (ps *PortalService) commitResumable(ctx context.Context, v *Visit, u *Resumable, parts []ResumablePart) (*Object, error) {
	ctx = context.WithoutCancel(ctx)
	folder, err := ps.UploadFolder(ctx, v, u.FolderID)
	if err != nil {
		return nil, err
	}
	r := &partsReader{ctx: ctx, blobs: ps.Blobs, parts: parts}
	defer r.Close()
	up, err := ps.stage(ctx, v, u.Name, r, u.Length)
	if err != nil {
		return nil, err
	}
	if up.Size != u.Length {
		ps.discard(ctx, up)
		return nil, fmt.Errorf("sesame: resumable upload %s holds %d bytes, not %d", u.ID, up.Size, u.Length)
	}
	o, err := ps.commitUpload(ctx, v, folder, u.Name, up)
	if err != nil {
		return nil, err
	}
	if err := ps.Resumables.FinishResumable(ctx, u.ID, o.ID, o.Name); err != nil {
		// The file is stored; only the record of it is missing.
		ps.log().Error("finish resumable upload", "error", err)
	}
	u.Offset, u.ObjectID, u.SavedName = u.Length, o.ID, o.Name
	return o, nil
}

// CancelResumable deletes the visit's upload with its parts and, unless
// it was committed, gives back its reservation, audited.
func (ps *PortalService) CancelResumable(ctx context.Context, v *Visit, u *Resumable) error {
	if !u.Done() {
		ctx = ps.change(ctx, v, "upload.cancel", map[string]string{"name": u.Name, "received": fmt.Sprint(u.Offset),
			"bytes": fmt.Sprint(u.Length)})
	}
	_, err := ps.Resumables.DeleteResumable(ctx, u.ID)
	if KindOf(err) == NotFound {
		return errNoResumable
	}
	return err
}

func (ps *PortalService) removePart(ctx context.Context, p ResumablePart) {
	if err := ps.Resumables.RemovePart(context.WithoutCancel(ctx), p); err != nil {
		ps.log().Error("remove upload part", "error", err)
	}
}

// partsReader reads parts one after another, opening each only when it
// is reached.
type partsReader struct {
	ctx   context.Context
	blobs BlobStore
	parts []ResumablePart
	cur   Blob
	read  int64 // of cur
}

func (r *partsReader) Read(p []byte) (int, error) {
	for {
		if r.cur == nil {
			if len(r.parts) == 0 {
				return 0, io.EOF
			}
			b, err := r.blobs.OpenBlob(r.ctx, r.parts[0].BlobKey)
			if err != nil {
				return 0, err
			}
			r.cur, r.read = b, 0
		}
		n, err := r.cur.Read(p)
		r.read += int64(n)
		if err == io.EOF {
			if r.read != r.parts[0].Size {
				return n, fmt.Errorf("sesame: upload part %s holds %d bytes, not %d", r.parts[0].BlobKey, r.read, r.parts[0].Size)
			}
			r.cur.Close()
			r.cur, r.parts = nil, r.parts[1:]
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

// Close closes the part being read.
func (r *partsReader) Close() error {
	if r.cur != nil {
		return r.cur.Close()
	}
	return nil
}
