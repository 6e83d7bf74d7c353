package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/sesame-share/sesame"
)

// S3Config names an S3-compatible bucket for the blobs.
type S3Config struct {
	Endpoint  string // host[:port], without a scheme
	Bucket    string
	Region    string // "" lets the server choose
	AccessKey string
	SecretKey string
	// TLS talks HTTPS to the endpoint.
	TLS bool
	// Prefix goes before every key the store writes (a "/" is added when
	// it has none), so that several instances or tests share a bucket.
	Prefix string
}

const (
	// s3PartSize is the size of one part of a multipart upload: an upload
	// holds one part in memory at a time, and 10,000 parts allow objects up
	// to 156 GiB.
	s3PartSize = 16 << 20
	// s3SweepAge is how old an unreferenced object or an unfinished upload
	// must be before the sweep removes it: another replica may have just
	// finished writing a blob whose row it has not yet committed.
	s3SweepAge = 24 * time.Hour
)

// s3Blobs keeps blobs as objects named prefix+"blobs/"+key. An upload is
// written straight to its final key (the ref is the key), part by part;
// the object only appears in the bucket once the last part is in, and it
// is no file of sesame's until CreateFile commits the row that names it.
// So commit has nothing left to do, and a failed upload is aborted (its
// parts dropped) or, after a crash, removed by the sweep as an old object
// that no row names, or as an old unfinished upload.
type s3Blobs struct {
	c      *minio.Client
	bucket string
	prefix string // ends in "/" when not empty
	log    *slog.Logger
	now    func() time.Time
}

// openS3Blobs connects to the bucket, and makes it when it is missing.
func openS3Blobs(ctx context.Context, cfg S3Config, log *slog.Logger, now func() time.Time) (*s3Blobs, error) {
	c, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: cfg.TLS,
		Region: cfg.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("store: s3 client: %w", err)
	}
	prefix := cfg.Prefix
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	b := &s3Blobs{c: c, bucket: cfg.Bucket, prefix: prefix, log: log, now: now}
	if err := b.ensureBucket(ctx, cfg.Region); err != nil {
		return nil, err
	}
	return b, nil
}

func (b *s3Blobs) ensureBucket(ctx context.Context, region string) error {
	ok, err := b.c.BucketExists(ctx, b.bucket)
	if err != nil {
		return fmt.Errorf("store: s3 bucket %s: %w", b.bucket, err)
	}
	if ok {
		return nil
	}
	err = b.c.MakeBucket(ctx, b.bucket, minio.MakeBucketOptions{Region: region})
	if code := minio.ToErrorResponse(err).Code; code == "BucketAlreadyOwnedByYou" || code == "BucketAlreadyExists" {
		return nil // another replica made it meanwhile
	}
	if err != nil {
		return fmt.Errorf("store: make s3 bucket %s: %w", b.bucket, err)
	}
	return nil
}

func (b *s3Blobs) name(key string) string { return b.prefix + "blobs/" + key }

// s3Writer feeds one PutObject through a pipe: minio reads a part's worth,
// uploads it, and reads the next.
type s3Writer struct {
	pw     *io.PipeWriter
	key    string
	cancel context.CancelFunc
	done   chan error
}

// Write fails once PutObject has failed, with its error.
func (w *s3Writer) Write(p []byte) (int, error) {
	n, err := w.pw.Write(p)
	if err != nil {
		return n, s3PutErr(err)
	}
	return n, nil
}

func (w *s3Writer) finish() (string, error) {
	w.pw.Close()
	err := <-w.done
	w.cancel()
	if err != nil {
		return "", s3PutErr(err)
	}
	return w.key, nil
}

// s3PutErr reports a bucket that did not take an upload's bytes.
func s3PutErr(err error) error {
	return &sesame.Error{Kind: sesame.Unavailable, Message: "The file could not be stored; try again later.", Err: fmt.Errorf("store: s3 put: %w", err)}
}

// abort makes PutObject fail before it completes the upload; minio then
// drops the parts written so far. PutObject's context stays live until it
// returns: cancelled while the upload is being created, the upload could
// be made on the server without minio learning its id to drop it.
func (w *s3Writer) abort() {
	w.pw.CloseWithError(errors.New("store: upload aborted"))
	<-w.done
	w.cancel()
}

func (b *s3Blobs) create(ctx context.Context) (blobWriter, error) {
	return b.createAt(ctx, sesame.NewID(""), -1)
}

// createAt writes straight to key; a known size lets minio plan the parts
// and fail an upload that ends short.
func (b *s3Blobs) createAt(ctx context.Context, key string, size int64) (blobWriter, error) {
	if !validBlobKey(key) {
		return nil, fmt.Errorf("store: s3 put: bad blob key %q", key)
	}
	pr, pw := io.Pipe()
	pctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	w := &s3Writer{pw: pw, key: key, cancel: cancel, done: make(chan error, 1)}
	go func() {
		_, err := b.c.PutObject(pctx, b.bucket, b.name(key), pr, size, minio.PutObjectOptions{
			PartSize:    s3PartSize,
			ContentType: "application/octet-stream",
		})
		// A failed PutObject reads no further: unblock the writer.
		pr.CloseWithError(errors.Join(err, io.ErrClosedPipe))
		w.done <- err
	}()
	return w, nil
}

// keyFor returns the ref: the upload already sits under its final key.
func (b *s3Blobs) keyFor(ref string) string { return ref }

func (b *s3Blobs) commit(ctx context.Context, ref, key string) error {
	if ref != key || !validBlobKey(key) {
		return fmt.Errorf("store: commit blob: ref %q is not key %q", ref, key)
	}
	return nil
}

func (b *s3Blobs) discard(ctx context.Context, ref string) error {
	if !validBlobKey(ref) {
		return nil
	}
	if err := b.remove(ctx, ref); err != nil {
		return fmt.Errorf("store: discard: %w", err)
	}
	return nil
}

func (b *s3Blobs) remove(ctx context.Context, key string) error {
	err := b.c.RemoveObject(ctx, b.bucket, b.name(key), minio.RemoveObjectOptions{})
	if minio.ToErrorResponse(err).Code == "NoSuchKey" {
		return nil
	}
	return err
}

// s3Blob reads an object with ranged GETs: minio's Object issues a new
// request from the offset of each Seek.
type s3Blob struct {
	*minio.Object
	size int64
	mod  time.Time
}

func (o *s3Blob) Size() int64        { return o.size }
func (o *s3Blob) ModTime() time.Time { return o.mod }

func (b *s3Blobs) open(ctx context.Context, key string) (sesame.Blob, error) {
	obj, err := b.c.GetObject(ctx, b.bucket, b.name(key), minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("store: open blob: %w", err)
	}
	info, err := obj.Stat()
	if err != nil {
		obj.Close()
		if resp := minio.ToErrorResponse(err); resp.Code == "NoSuchKey" || resp.StatusCode == http.StatusNotFound {
			return nil, missingBlob(err)
		}
		return nil, fmt.Errorf("store: open blob: %w", err)
	}
	return &s3Blob{Object: obj, size: info.Size, mod: info.LastModified}, nil
}

func (b *s3Blobs) ping(ctx context.Context) error {
	ok, err := b.c.BucketExists(ctx, b.bucket)
	if err == nil && !ok {
		err = fmt.Errorf("store: bucket %s is gone", b.bucket)
	}
	if err != nil {
		return &sesame.Error{Kind: sesame.Unavailable, Message: "The storage bucket is not answering.", Err: err}
	}
	return nil
}

// sweep removes the objects under the prefix that no row names and the
// unfinished uploads, both when older than s3SweepAge.
func (b *s3Blobs) sweep(ctx context.Context, referenced func(key string) (bool, error)) (int, error) {
	cutoff := b.now().Add(-s3SweepAge)
	dir := b.prefix + "blobs/"
	orphans := 0
	for info := range b.c.ListObjects(ctx, b.bucket, minio.ListObjectsOptions{Prefix: dir, Recursive: true}) {
		if info.Err != nil {
			return orphans, fmt.Errorf("store: sweep blobs: %w", info.Err)
		}
		key := strings.TrimPrefix(info.Key, dir)
		if !info.LastModified.Before(cutoff) || !validBlobKey(key) {
			continue
		}
		ok, err := referenced(key)
		if err != nil {
			return orphans, fmt.Errorf("store: sweep blobs: %w", err)
		}
		if ok {
			continue
		}
		if err := b.remove(ctx, key); err != nil {
			return orphans, fmt.Errorf("store: sweep blobs: %w", err)
		}
		orphans++
	}
	for up := range b.c.ListIncompleteUploads(ctx, b.bucket, dir, true) {
		if up.Err != nil {
			// Not every S3 server lists uploads; their parts expire there.
			b.log.Warn("sweep unfinished uploads", "error", up.Err)
			break
		}
		if up.Initiated.Before(cutoff) {
			if err := b.c.RemoveIncompleteUpload(ctx, b.bucket, up.Key); err != nil {
				b.log.Warn("sweep unfinished upload", "key", up.Key, "error", err)
			}
		}
	}
	return orphans, nil
}

// any names one object under the prefix's blobs/.
func (b *s3Blobs) any(ctx context.Context) (string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing after the first object
	info, ok := <-b.c.ListObjects(ctx, b.bucket, minio.ListObjectsOptions{Prefix: b.prefix + "blobs/", Recursive: true, MaxKeys: 1})
	switch {
	case !ok:
		return "", nil
	case info.Err != nil:
		return "", fmt.Errorf("store: list blobs: %w", info.Err)
	}
	return "s3://" + b.bucket + "/" + info.Key, nil
}
