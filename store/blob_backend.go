package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sesame-share/sesame"
)

// blobBackend is where payload bytes live: the local disk (diskBlobs) or
// an S3-compatible bucket (s3Blobs). Stage, Discard, OpenBlob, CreateFile,
// the deletes and the sweep reach the bytes only through it.
type blobBackend interface {
	// create starts a new staged upload.
	create(ctx context.Context) (blobWriter, error)
	// createAt starts a staged upload of size bytes (-1: unknown) that
	// commit is to make the blob key: an import keeps the keys its rows
	// name.
	createAt(ctx context.Context, key string, size int64) (blobWriter, error)
	// keyFor returns the key the staged upload ref will have once
	// committed.
	keyFor(ref string) string
	// commit makes the staged upload ref the blob key (from keyFor). It
	// runs inside CreateFile's transaction: it must be quick, and it
	// leaves nothing that remove(key) cannot take back.
	commit(ctx context.Context, ref, key string) error
	// discard removes a staged upload that was never committed.
	discard(ctx context.Context, ref string) error
	// remove removes a committed blob; a missing one is no error.
	remove(ctx context.Context, key string) error
	// open opens a committed blob; NotFound when it is missing.
	open(ctx context.Context, key string) (sesame.Blob, error)
	// sweep removes staged uploads a crash left behind and blobs that no
	// row refers to (referenced answers), returning how many blobs went.
	sweep(ctx context.Context, referenced func(key string) (bool, error)) (int, error)
	// ping reports whether new bytes can be written.
	ping(ctx context.Context) error
	// any names one committed blob ("" when there is none).
	any(ctx context.Context) (string, error)
}

// blobWriter receives the bytes of one staged upload.
type blobWriter interface {
	io.Writer
	// finish completes the upload and returns its ref.
	finish() (string, error)
	// abort drops the upload; nothing of it stays.
	abort()
}

// validBlobKey reports whether key can name a blob: the keys the store
// makes are long and hold no path separators or dots.
func validBlobKey(key string) bool {
	return len(key) >= 8 && !strings.ContainsAny(key, `/\.`)
}

func missingBlob(err error) error {
	return &sesame.Error{Kind: sesame.NotFound, Message: "The file's contents are missing.", Err: err}
}

// diskBlobs keeps staged uploads under tmp/ and blobs under blobs/ in the
// data directory.
type diskBlobs struct {
	blobDir, tmpDir string
	log             *slog.Logger
}

func newDiskBlobs(dataDir string, log *slog.Logger) (*diskBlobs, error) {
	d := &diskBlobs{blobDir: filepath.Join(dataDir, "blobs"), tmpDir: filepath.Join(dataDir, "tmp"), log: log}
	for _, p := range []string{d.blobDir, d.tmpDir} {
		if err := os.MkdirAll(p, 0o700); err != nil {
			return nil, fmt.Errorf("store: create %s: %w", p, err)
		}
	}
	return d, nil
}

type diskWriter struct{ f *os.File }

func (w *diskWriter) Write(p []byte) (int, error) { return w.f.Write(p) }

func (w *diskWriter) finish() (string, error) {
	if err := w.f.Sync(); err != nil {
		w.abort()
		return "", stageErr(fmt.Errorf("store: stage sync: %w", err))
	}
	if err := w.f.Close(); err != nil {
		os.Remove(w.f.Name())
		return "", stageErr(fmt.Errorf("store: stage close: %w", err))
	}
	return filepath.Base(w.f.Name()), nil
}

func (w *diskWriter) abort() {
	w.f.Close()
	os.Remove(w.f.Name())
}

func (d *diskBlobs) create(ctx context.Context) (blobWriter, error) {
	f, err := os.CreateTemp(d.tmpDir, "up-*")
	if err != nil {
		return nil, stageErr(fmt.Errorf("store: stage: %w", err))
	}
	w := &diskWriter{f: f}
	// The lock, held while the file is written, tells a server that starts
	// meanwhile to leave the file out of its sweep.
	if err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		w.abort()
		return nil, fmt.Errorf("store: stage lock: %w", err)
	}
	return w, nil
}

// createAt stages as create does: commit gives the file its key.
func (d *diskBlobs) createAt(ctx context.Context, key string, size int64) (blobWriter, error) {
	return d.create(ctx)
}

// path returns where a committed blob lives: two levels of fan-out keep
// directories small.
func (d *diskBlobs) path(key string) string {
	return filepath.Join(d.blobDir, key[:2], key[2:4], key)
}

// keyFor gives every blob a new random key.
func (d *diskBlobs) keyFor(ref string) string { return sesame.NewID("") }

// commit moves a staged upload to its final place.
func (d *diskBlobs) commit(ctx context.Context, ref, key string) error {
	dst := d.path(key)
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return stageErr(fmt.Errorf("store: blob dir: %w", err))
	}
	if err := os.Rename(filepath.Join(d.tmpDir, filepath.Base(ref)), dst); err != nil {
		return fmt.Errorf("store: commit blob: %w", err)
	}
	return nil
}

func (d *diskBlobs) discard(ctx context.Context, ref string) error {
	err := os.Remove(filepath.Join(d.tmpDir, filepath.Base(ref)))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("store: discard: %w", err)
	}
	return nil
}

func (d *diskBlobs) remove(ctx context.Context, key string) error {
	if err := os.Remove(d.path(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

type fileBlob struct {
	*os.File
	size int64
	mod  time.Time
}

func (b *fileBlob) Size() int64        { return b.size }
func (b *fileBlob) ModTime() time.Time { return b.mod }

// OSFile lets the gateway hand the file itself to net/http, which sends
// it with sendfile(2).
func (b *fileBlob) OSFile() *os.File { return b.File }

func (d *diskBlobs) open(ctx context.Context, key string) (sesame.Blob, error) {
	f, err := os.Open(d.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, missingBlob(err)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open blob: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("store: stat blob: %w", err)
	}
	return &fileBlob{File: f, size: fi.Size(), mod: fi.ModTime()}, nil
}

func (d *diskBlobs) ping(ctx context.Context) error {
	f, err := os.CreateTemp(d.tmpDir, "ping-*")
	if err != nil {
		return &sesame.Error{Kind: sesame.Unavailable, Message: "The data directory is not writable.", Err: err}
	}
	f.Close()
	return os.Remove(f.Name())
}

// any names one file under the blob directory.
func (d *diskBlobs) any(context.Context) (string, error) {
	found := ""
	err := filepath.WalkDir(d.blobDir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.Type().IsRegular() {
			found = p
			return fs.SkipAll
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("store: list blobs: %w", err)
	}
	return found, nil
}
