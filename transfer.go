package sesame

import (
	"context"
	"time"
)

// Transfer methods, as on the wire.
const (
	TransferMultipart = "multipart"
	TransferPostURL   = "post-url"
	TransferPutURL    = "put-url"
	TransferSourceURL = "source-url"
	TransferDestURL   = "dest-url"
)

// Status of a pending upload.
const (
	PendingWaiting = "pending"
	PendingBusy    = "uploading"
	PendingDone    = "done"
	PendingFailed  = "failed"
)

// PendingUpload is an upload announced by put with post-url or put-url. The
// client sends the bytes to a single-use URL and polls the request id.
type PendingUpload struct {
	ID       string // prq_..., the request id the client polls
	TokenID  string
	Method   string
	Spec     FileCreate
	Expires  time.Time
	Status   string
	ObjectID string // once done
	Failure  *Error // once failed
	Created  time.Time
	// Lock and Key seal the bytes of a protected file as they arrive; the
	// store keeps Key sealed under the server's key.
	Lock *FileLock
	Key  FileKey
}

// PendingUploads keeps announced uploads.
type PendingUploads interface {
	// CreatePendingUpload stores p and returns the secret of its upload URL.
	CreatePendingUpload(ctx context.Context, p *PendingUpload) (string, error)
	// ClaimPendingUpload takes the upload for the secret, once: NotFound for
	// an unknown, used or expired secret.
	ClaimPendingUpload(ctx context.Context, secret string) (*PendingUpload, error)
	// FinishPendingUpload records the outcome of a claimed upload.
	FinishPendingUpload(ctx context.Context, id, objectID string, failure *Error) error
	// PendingUploadByID returns NotFound unless tokenID made the request.
	PendingUploadByID(ctx context.Context, tokenID, id string) (*PendingUpload, error)
}

// Grant is a capability to download: one file or an archive of objects.
type Grant struct {
	BucketID  string
	ObjectIDs []string
	Archive   string // "" for a single file, else "zip" or "tar"
	Expires   time.Time
	// Key opens the file when it is password-protected; the store keeps
	// it sealed under the server's key, and it dies with the grant.
	Key FileKey
}

// Grants keeps download capabilities behind dest-url links.
type Grants interface {
	// CreateGrant stores g and returns its secret.
	CreateGrant(ctx context.Context, g *Grant) (string, error)
	// GrantBySecret returns NotFound for an unknown or expired secret.
	GrantBySecret(ctx context.Context, secret string) (*Grant, error)
}
